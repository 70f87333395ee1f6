//! The platform's integration tests, against the real PostgreSQL and RabbitMQ (one binary).

mod housekeeping;
mod jwks;
mod messaging;
mod metrics;
mod support;
