//! arena (in progress)
