//! The egov service platform: the one way every service of the suite does each cross-cutting
//! thing.
//!
//! # Layout
//! - [`config`]: layered settings, validated at start (exit 64 naming the key).
//! - [`telemetry`]: JSON logs, OTLP traces and metrics, trace context over gRPC and AMQP.
//! - [`metrics`]: the instruments (RPCs, outbox, consumers, timers), the gauge sampler and the
//!   RPC metrics layer.
//! - [`db`]: pool, database creation (local/test), platform + service migrations.
//! - [`outbox`] / `relay`: transactional outbox and its publisher-confirm relay.
//! - `broker` / `inbox`: RabbitMQ topology and idempotent consumers with dead-lettering.
//! - [`timers`] / `timer_runner`: durable timers fired once through the outbox.
//! - [`housekeeping`]: retention of sent outbox rows and finished timers.
//! - [`auth`]: bearer JWT, per-method role table, unit isolation; [`peers`]: channels to the
//!   other services with this service's own credentials.
//! - [`audit`]: append-only SM3-chained audit trail and its verification.
//! - [`error`]: the one mapping of errors to gRPC statuses with rich details.
//! - [`policy`]: versioned policy parameters.
//! - [`clock`]: injectable time; adjustable in local and test profiles only.
//! - [`transition`]: the one [`transition::Change`] and [`transition::commit`] of every state
//!   change (version, aggregate, audit, outbox, timers in the caller's transaction).
//! - [`period`]: every period of the Measures, counted the Civil Code's way.
//! - [`values`]: money ([`values::Fen`]) and ids with checked constructors.
//! - [`request`]: ids, etags and pages of requests; [`idempotency`], [`paging`], [`convert`]:
//!   API conventions.
//! - [`documents`]: the document store and the one upload sequence.
//! - [`reconcile`]: each service's facts about its projects (`egov.common.v1.Reconciliation`)
//!   and the comparison of the five views.

pub mod anchors;
pub mod audit;
pub mod auth;
pub mod broker;
pub mod clock;
pub mod config;
pub mod convert;
pub mod db;
pub mod documents;
pub mod edge;
pub mod error;
pub mod housekeeping;
pub mod idempotency;
pub mod inbox;
pub mod metrics;
pub mod ops;
pub mod outbox;
pub mod paging;
pub mod peers;
pub mod period;
pub mod policy;
pub mod reconcile;
pub mod relay;
pub mod request;
pub mod sealing;
pub mod server;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod timer_runner;
pub mod timers;
pub mod transition;
pub mod values;

pub use error::{AppError, Refusal};
