//! The platform's integration tests, against the real PostgreSQL and RabbitMQ (one binary).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

mod audit;
mod housekeeping;
mod jwks;
mod messaging;
mod metrics;
mod startup;
mod support;
