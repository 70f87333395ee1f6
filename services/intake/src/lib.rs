//! egov-intake: the intake service (申报): units, application rounds, applications and their
//! dossiers, compliance review, unit eligibility, and the project registry with its
//! cross-service timeline. See `OVERVIEW.md`.
//!
//! # Layout
//! - `domain`: the aggregates, the rules R-I1 to R-I12 and the transitions that decide each
//!   change as data, pure.
//! - `app`: one use case per action (load, decide, commit through the platform); handlers, the
//!   consumer and the timer all call these.
//! - [`grpc`]: handlers (parse, call, convert), proto conversions, the role table.
//! - `storage`: PostgreSQL repositories and the pipeline's view of each aggregate.
//! - `messaging`: the consumer of every event (timeline, unit record).
//! - `jobs`: the re-review window timer.
//! - [`evaluation`]: the port to the evaluation service (R-I6, R-I9).
//! - [`startup`]: wiring on the platform runtime.

pub(crate) mod app;
pub(crate) mod domain;
pub mod evaluation;
pub mod grpc;
pub(crate) mod jobs;
pub(crate) mod messaging;
pub mod startup;
pub(crate) mod storage;
