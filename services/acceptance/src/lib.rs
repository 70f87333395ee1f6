//! egov-acceptance: the acceptance service (验收): initial acceptance (R-A1), trial operation
//! (R-A2), the acceptance application (R-A3), the acceptance by its organiser (R-A4) and its
//! outcome (R-A5), with the filing of acceptance materials (R-P5). See `OVERVIEW.md`.
//!
//! # Layout
//! - `domain`: the case as a value, R-A1's panels, the state machine deciding each change as
//!   data, the events; pure.
//! - `app`: one use case per action (load, decide, commit through the platform); handlers, the
//!   consumer and the timer all call these.
//! - [`grpc`]: handlers (parse, call, convert), proto conversions, the role table.
//! - `storage`: PostgreSQL repositories and the pipeline's view of the case.
//! - `messaging`: the consumer of procurement's and review's events.
//! - `jobs`: the rectification deadline timer.
//! - [`basis`]: the port to review and procurement (R-A3) and its gRPC adapter.
//! - [`startup`]: wiring on the platform runtime.

pub(crate) mod app;
pub mod basis;
pub(crate) mod domain;
pub mod grpc;
pub(crate) mod jobs;
pub(crate) mod messaging;
pub mod startup;
pub(crate) mod storage;

/// The values the [`basis`] port answers with, for other adapters and tests.
pub use domain::{ExpertOpinion, ProjectBasis};
