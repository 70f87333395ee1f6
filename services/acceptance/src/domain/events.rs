//! The events acceptance publishes and consumes: their types (routing keys) and the payloads its
//! transitions decide. Pure values; the platform's commit puts them in the outbox.

use egov_platform::convert::civil;
use egov_proto::events::{self as ev, event_envelope::Payload};

use super::model::AcceptanceCase;

/// Routing keys.
pub mod types {
    pub const CASE_OPENED: &str = "acceptance.case.opened";
    /// Procurement marks payment stages conditioned on initial acceptance as met.
    pub const INITIAL_CONCLUDED: &str = "acceptance.initial.concluded";
    pub const TRIAL_REPORT_DEPOSITED: &str = "acceptance.trial.report_deposited";
    pub const APPLIED: &str = "acceptance.application.submitted";
    pub const APPLICATION_REVIEWED: &str = "acceptance.application.reviewed";
    /// Evaluation catalogues and schedules the application; procurement marks final stages met.
    pub const ACCEPTED: &str = "acceptance.project.accepted";
    pub const FAILED: &str = "acceptance.project.failed";
    /// DRB is alerted: a failed project was not rectified in time (R-A5).
    pub const RECTIFICATION_OVERDUE: &str = "acceptance.rectification.overdue";
    pub const CASE_CLOSED: &str = "acceptance.case.closed";
    /// Consumed: a case opens (R-A1 follows construction).
    pub const CONSTRUCTION_COMPLETED: &str = "procurement.construction.completed";
    /// Consumed: the project ended (R-P10).
    pub const PROJECT_TERMINATED: &str = "procurement.project.terminated";
    /// Consumed: the approval was cancelled (R-P1, R-R6).
    pub const APPROVAL_CANCELLED: &str = "review.approval.cancelled";
}

/// What the acceptance consumer binds.
pub const BINDINGS: &[&str] = &[types::CONSTRUCTION_COMPLETED, types::PROJECT_TERMINATED, types::APPROVAL_CANCELLED];

pub fn opened(case: &AcceptanceCase) -> Payload {
    Payload::AcceptanceCaseOpened(ev::AcceptanceCaseOpened {
        project_id: case.project_id.to_string(),
        channel: case.handover.channel.as_str().to_string(),
    })
}

pub fn initial_concluded(case: &AcceptanceCase) -> Option<Payload> {
    let initial = case.initial()?;
    Some(Payload::InitialAcceptanceConcluded(ev::InitialAcceptanceConcluded {
        project_id: case.project_id.to_string(),
        passed: initial.passed,
        held_on: Some(civil(initial.held_on)),
        trial_completes_on: case.trial.as_ref().filter(|_| initial.passed).map(|t| civil(t.completes_on)),
        conclusion: initial.conclusion.clone(),
    }))
}

/// The system goes into use: what evaluation needs to catalogue and schedule it.
pub fn accepted(case: &AcceptanceCase) -> Payload {
    let h = &case.handover;
    Payload::ProjectAccepted(ev::ProjectAccepted {
        project_id: case.project_id.to_string(),
        project_name: h.project_name.clone(),
        category: case.category.clone(),
        function_modules: case.function_modules.clone(),
        go_live_on: case.accepted_on.map(civil),
        classified_protection_level: h.classified_protection_level,
        important_system: h.important_system,
        builder_unit_id: h.lead_unit_id.clone(),
        supplier_name: h.supplier_name.clone(),
        supplier_credit_code: h.supplier_credit_code.clone(),
        operator_unit_id: case.parties.operator_unit_id.clone(),
        user_unit_ids: case.parties.user_unit_ids.clone(),
        lead_unit_id: h.lead_unit_id.clone(),
        participating_unit_ids: h.participating_unit_ids.clone(),
        document_number: h.document_number.clone(),
        budget_fen: h.budget.get(),
        contract_amount_fen: h.contract_amount.get(),
        channel: h.channel.as_str().to_string(),
        scope: h.scope.clone(),
    })
}

pub fn failed(case: &AcceptanceCase, conclusion: &str) -> Payload {
    Payload::AcceptanceFailed(ev::AcceptanceFailed {
        project_id: case.project_id.to_string(),
        rectify_by: case.rectify_by.map(civil),
        conclusion: conclusion.to_string(),
    })
}

pub fn rectification_overdue(case: &AcceptanceCase) -> Payload {
    Payload::RectificationOverdue(ev::RectificationOverdue {
        project_id: case.project_id.to_string(),
        rectify_by: case.rectify_by.map(civil),
        lead_unit_id: case.handover.lead_unit_id.clone(),
    })
}

pub fn closed(case: &AcceptanceCase) -> Payload {
    Payload::AcceptanceCaseClosed(ev::AcceptanceCaseClosed { project_id: case.project_id.to_string(), reason: case.closed_reason.clone() })
}
