//! skiplist (in progress)
