//! Acceptance's integration tests against real PostgreSQL and RabbitMQ.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

mod flow;
mod helpers;
mod refusals;
