//! Intake's domain: the aggregates ([`model`]) and the Measures' rules over them ([`rules`]),
//! pure and synchronous, tested without a database.

pub mod model;
pub mod rules;

#[cfg(test)]
mod tests;

pub use model::*;
