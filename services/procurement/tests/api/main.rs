//! Procurement's integration tests against real PostgreSQL and RabbitMQ.

mod cases;
mod construction;
mod contracts;
mod helpers;
