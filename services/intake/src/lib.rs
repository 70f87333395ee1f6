//! egov-intake: the intake service (申报): units, application rounds, applications and their
//! dossiers, compliance review, unit eligibility, and the project registry with its
//! cross-service timeline. See `OVERVIEW.md`.
//!
//! # Layout
//! - [`domain`]: the aggregates and the rules R-I1 to R-I12, pure.
//! - [`storage`]: PostgreSQL repositories.
//! - [`grpc`]: handlers, proto conversions, the role table.
//! - [`messaging`]: events emitted, and the timeline consumer.
//! - [`jobs`]: the re-review deadline timer.
//! - [`evaluation`]: the port to the evaluation service (R-I6, R-I9).
//! - [`startup`]: wiring on the platform runtime.

pub mod domain;
pub mod evaluation;
pub mod grpc;
pub mod jobs;
pub mod messaging;
pub mod startup;
pub mod storage;
