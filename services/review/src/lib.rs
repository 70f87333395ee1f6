//! egov-review: the review service (评审、立项): cases opened from compliance, the preliminary
//! review (R-R1) on a small workflow core, the expert review (R-R2), the re-check (R-R3), the
//! joint meeting and approval document (R-R4), the fast track (R-R5), the approval's validity
//! (R-R6) and its cancellation (R-R6, R-P1), changes (R-R7) and termination (R-P10). See
//! `OVERVIEW.md`.
//!
//! # Layout
//! - `domain`: the case and its state machine, the workflow core, the rules and the events,
//!   deciding each change as data, pure.
//! - `app`: one use case per action (load, decide, commit through the platform); handlers, the
//!   consumer and the timers all call these.
//! - [`grpc`]: handlers (parse, call, convert), proto conversions, the role table.
//! - `storage`: PostgreSQL repositories and the pipeline's view of each aggregate.
//! - `messaging`: the consumer of intake's and procurement's events.
//! - `jobs`: task reminder and escalation, and approval-validity timers.
//! - [`startup`]: wiring on the platform runtime.
//! - [`testing`]: a hook for the integration tests only.

pub(crate) mod app;
pub(crate) mod domain;
pub mod grpc;
pub(crate) mod jobs;
pub(crate) mod messaging;
pub mod startup;
pub(crate) mod storage;
#[doc(hidden)]
pub mod testing;
