//! egov-review: the review service (评审、立项): cases opened from compliance, the preliminary
//! review (R-R1) on a small workflow core, the fast track (R-R5), the approval document (R-R4),
//! its cancellation (R-R6, R-P1); expert panels (R-R2) and changes (R-R7) as domain rules so far.
//! See `OVERVIEW.md`.
//!
//! # Layout
//! - [`domain`]: the case, the workflow core and the rules, pure.
//! - [`storage`]: PostgreSQL repositories.
//! - [`grpc`]: handlers, conversions, the role table.
//! - [`messaging`]: events emitted; the consumer of intake's and procurement's events.
//! - [`jobs`]: task reminder/escalation and approval-validity timers.
//! - [`startup`]: wiring on the platform runtime.

pub mod domain;
pub mod grpc;
pub mod jobs;
pub mod messaging;
pub mod startup;
pub mod storage;
