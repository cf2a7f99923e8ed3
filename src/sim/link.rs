//! A point-to-point link (in progress).
