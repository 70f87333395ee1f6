//! Review's domain: the case ([`model`]), the workflow core ([`workflow`]) and the rules
//! ([`rules`]: R-R1, R-R4, R-R5; [`panel`]: R-R2; [`validity`]: R-R6; [`change`]: R-R7), pure.

pub mod change;
pub mod meeting;
pub mod model;
pub mod panel;
pub mod rules;
pub mod validity;
pub mod workflow;

pub use model::*;
