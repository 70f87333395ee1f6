//! Review's integration tests against real PostgreSQL and RabbitMQ.

mod helpers;

mod approval;
mod expert;
mod preliminary;
mod recheck;
