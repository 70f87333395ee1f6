//! Intake's domain, pure and synchronous, tested without a database: the aggregates
//! ([`model`]), the Measures' rules over them ([`rules`]), the transitions that decide each
//! change as data ([`application`], [`registry`]), the events they publish ([`events`]) and the timeline's
//! reading of every service's events ([`timeline`]).

pub mod application;
pub mod events;
pub mod model;
pub mod registry;
pub mod rules;
pub mod timeline;

#[cfg(test)]
mod tests;

pub use model::*;
