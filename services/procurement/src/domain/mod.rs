//! Procurement's domain: the case and its state machine, the rules R-P1 to R-P10, the events
//! and timers the transitions decide. Pure values and functions, tested without a database.

pub(crate) mod case;
pub(crate) mod contract;
pub(crate) mod deadline;
pub(crate) mod events;
pub(crate) mod filing;
pub(crate) mod inspections;
pub(crate) mod model;
pub(crate) mod ocds;
pub(crate) mod payments;
pub(crate) mod progress;
pub(crate) mod supervision;
pub(crate) mod supplier;
pub(crate) mod termination;
pub(crate) mod timers;

#[cfg(test)]
mod tests;

pub(crate) use model::*;
