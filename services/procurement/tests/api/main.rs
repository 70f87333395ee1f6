//! Procurement's integration tests against real PostgreSQL and RabbitMQ.

mod cases;
mod contracts;
mod helpers;
