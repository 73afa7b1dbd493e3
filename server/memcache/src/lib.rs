//! # ppdb-memcache: the memcached protocol, sans I/O
