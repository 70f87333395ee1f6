//! Procurement's domain: pure values and rules, tested without a database.

pub mod contract;
pub mod deadline;
pub mod filing;
pub mod model;
pub mod ocds;
pub mod payments;
pub mod progress;
pub mod supervision;
pub mod supplier;
pub mod termination;

pub use model::*;
