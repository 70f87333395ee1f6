//! Evaluation's domain, pure and synchronous, tested without a database: the catalogue entry and
//! its operation record ([`model`]), the transitions that decide each change as data
//! ([`entry`]), the events they publish ([`events`]), DRB's import file ([`import`]) and
//! duplicate screening ([`screening`]).

pub mod entry;
pub mod events;
pub mod import;
pub mod model;
pub mod screening;

#[cfg(test)]
mod tests;

pub use model::*;
