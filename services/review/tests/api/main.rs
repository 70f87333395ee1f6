//! Review's integration tests against real PostgreSQL and RabbitMQ.

mod helpers;

mod approval;
mod preliminary;
