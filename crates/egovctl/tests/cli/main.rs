//! egovctl's integration tests, one binary: the sample walk against a fake intake, and the review,
//! procurement, acceptance and evaluation commands against fake services.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

mod acceptance;
mod common;
mod evaluation;
mod procurement;
mod review;
mod walk;
