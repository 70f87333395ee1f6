//! The events evaluation publishes: their types (routing keys). Payloads are built by the
//! transitions in [`super::entry`]; the platform's commit puts them in the outbox.

/// Routing keys of the events evaluation publishes.
pub mod types {
    pub const APPLICATION_CATALOGUED: &str = "evaluation.application.catalogued";
    pub const ENTRY_REGISTERED: &str = "evaluation.entry.registered";
    pub const EVALUATION_DUE: &str = "evaluation.evaluation.due";
    pub const EVALUATION_PUBLISHED: &str = "evaluation.evaluation.published";
    pub const RECTIFICATION_CLEARED: &str = "evaluation.rectification.cleared";
    pub const RECTIFICATION_OVERDUE: &str = "evaluation.rectification.overdue";
    pub const ELIMINATION_PROPOSED: &str = "evaluation.elimination.proposed";
    pub const ELIMINATION_DECIDED: &str = "evaluation.elimination.decided";
    pub const APPLICATION_ELIMINATED: &str = "evaluation.application.eliminated";
    pub const SHARING_VIOLATION_RECORDED: &str = "evaluation.sharing.violation_recorded";
    pub const SHARING_VIOLATION_RECTIFIED: &str = "evaluation.sharing.violation_rectified";
    pub const ENTRY_DELISTED: &str = "evaluation.entry.delisted";
    pub const APPLICATION_STOPPED: &str = "evaluation.application.stopped";
    /// Intake records the suspension on the unit's record (R-E6 → R-I10).
    pub const UNIT_ELIGIBILITY_SUSPENDED: &str = "evaluation.unit.eligibility_suspended";
    pub const ASSESSMENT_REMINDER: &str = "evaluation.assessment.reminder";
    pub const ASSESSMENT_OVERDUE: &str = "evaluation.assessment.overdue";
    pub const ASSESSMENT_RECORDED: &str = "evaluation.assessment.recorded";
    pub const AUDIT_RECORDED: &str = "evaluation.audit.recorded";
}

/// The routing keys evaluation consumes.
pub const PROJECT_ACCEPTED: &str = "acceptance.project.accepted";
