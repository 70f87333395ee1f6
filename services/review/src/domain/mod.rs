//! Review's domain, pure: the case ([`model`]) and its state machine ([`case`]), the workflow
//! core ([`workflow`]), the rules ([`rules`]: R-R1, R-R3, R-R4, R-R5; [`panel`] and [`meeting`]:
//! R-R2; [`validity`]: R-R6; [`change`]: R-R7) and the events it publishes ([`events`]).

pub mod case;
pub mod change;
pub mod events;
pub mod meeting;
pub mod model;
pub mod panel;
pub mod rules;
pub mod validity;
pub mod workflow;

#[cfg(test)]
mod tests;

pub use model::*;
