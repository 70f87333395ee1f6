//! Evaluation's integration tests: the service as built by `main`, against real PostgreSQL and
//! RabbitMQ, one database and virtual host per test. All compile into one binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

mod helpers;

mod catalogue;
mod consequences;
mod evaluations;
mod screening;
