//! Procurement's integration tests against real PostgreSQL and RabbitMQ.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

mod cases;
mod construction;
mod contracts;
mod helpers;
