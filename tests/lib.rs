//! End-to-end suites of the egov services; see `lifecycle.rs`.
