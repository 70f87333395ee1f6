//! egov-procurement: the procurement service (采购、合同、建设). See `OVERVIEW.md`.
//!
//! # Layout
//! - `domain`: the case, its state machine and the rules R-P1 to R-P10, deciding each change as
//!   data (the new case, audit, events, timers), pure; event types and timer kinds.
//! - `app`: one use case per action (load, decide, commit through the platform); handlers, the
//!   consumer and the timers all call these.
//! - [`grpc`]: handlers (parse, call, convert), proto conversions, the role table.
//! - `storage`: PostgreSQL repositories and the pipeline's view of a case.
//! - `messaging`: the consumer of review's events.
//! - [`jobs`]: the R-P1, R-P7 and R-P8 timers.
//! - [`startup`]: wiring on the platform runtime.

pub(crate) mod app;
pub(crate) mod domain;
pub mod grpc;
pub mod jobs;
pub(crate) mod messaging;
pub mod startup;
pub(crate) mod storage;
