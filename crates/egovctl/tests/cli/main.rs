//! egovctl's integration tests, one binary: the sample walk against a fake intake, and the review
//! and procurement commands against fake services.

mod common;
mod procurement;
mod review;
mod walk;
