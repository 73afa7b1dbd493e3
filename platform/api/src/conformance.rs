//! Conformance suites for implementations of the platform traits (feature `testing`).
