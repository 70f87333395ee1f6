//! Acceptance's domain, pure and synchronous, tested without a database: the case as a value
//! ([`model`]), R-A1's panels ([`panel`]), the state machine whose transitions decide each change
//! as data ([`case`]) and the events they publish ([`events`]).

pub mod case;
pub mod events;
pub mod model;
pub mod panel;

#[cfg(test)]
mod tests;

pub use model::*;
