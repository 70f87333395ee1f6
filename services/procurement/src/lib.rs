//! egov-procurement: the procurement service (采购、合同、建设). See `OVERVIEW.md`.
//!
//! # Layout
//! - [`domain`]: the case and the rules R-P1 to R-P10, pure.
//! - [`storage`], [`grpc`], [`messaging`], [`jobs`], [`startup`]: as in every egov service.

pub mod domain;
pub mod grpc;
pub mod jobs;
pub mod messaging;
pub mod startup;
pub mod storage;
