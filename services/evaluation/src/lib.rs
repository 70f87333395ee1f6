//! egov-evaluation: the evaluation service (运行、绩效、审计): the catalogues (application, data,
//! cloud, component; R-E1) and duplicate screening against them (R-I9), evaluation schedules,
//! indicator systems, scores and published results (R-E2, R-E4), rectification and elimination
//! (R-E3), data-sharing violations (R-E5), early stops (R-E6), yearly 等保 and 密评 (R-E7) and
//! third-party audits (R-E8). See `OVERVIEW.md`.
//!
//! # Layout
//! - `domain`: the catalogue entry and its operation record, the transitions that decide each
//!   change as data, the import file's parser and duplicate screening; pure.
//! - `app`: one use case per action (load, decide, commit through the platform); handlers, the
//!   consumer and the timers all call these.
//! - [`grpc`]: handlers (parse, call, convert), proto conversions, the role table.
//! - `storage`: PostgreSQL repositories and the pipeline's view of the entry.
//! - `messaging`: the consumer of `acceptance.project.accepted`.
//! - `jobs`: the timers (evaluation due, rectification and sharing deadlines, assessments).
//! - [`startup`]: wiring on the platform runtime.
//! - [`screening`]: the screening index, public for the benchmark.

pub(crate) mod app;
pub(crate) mod domain;
pub mod grpc;
pub(crate) mod jobs;
pub(crate) mod messaging;
pub mod startup;
pub(crate) mod storage;

pub use domain::screening;
