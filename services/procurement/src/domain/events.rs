//! The events procurement publishes and consumes: their types (routing keys) and the payloads
//! its transitions decide. Pure values; the platform's commit puts them in the outbox.

use egov_platform::convert;
use egov_proto::events::{self as ev, event_envelope::Payload};

use super::model::ProcurementCase;

/// Routing keys of the events procurement publishes and of those it consumes.
pub mod types {
    pub const CASE_OPENED: &str = "procurement.case.opened";
    /// Review stops R-R7 changes on this.
    pub const COMPLETED: &str = "procurement.procurement.completed";
    /// Review cancels the approval on this (R-P1).
    pub const DEADLINE_MISSED: &str = "procurement.project.deadline_missed";
    /// The contract is filed (R-P2, R-P5): construction starts.
    pub const CONTRACT_FILED: &str = "procurement.contract.filed";
    /// A fund payment filing (R-P6).
    pub const PAYMENT_FILED: &str = "procurement.payment.filed";
    /// Stages conditioned on an acceptance milestone became payable (R-P6): informational.
    pub const PAYMENT_CONDITION_MET: &str = "procurement.payment.condition_met";
    /// A month's progress report was not in by its due day (R-P7): informational.
    pub const REPORT_MISSING: &str = "procurement.progress.report_missing";
    /// A progress report filed after its due day (R-P7): informational.
    pub const REPORT_LATE: &str = "procurement.progress.reported_late";
    /// Intake records the overrun against the unit (R-P8, R-I10).
    pub const OVERRUN_RECORDED: &str = "procurement.construction.overrun_recorded";
    /// The unit's explanation of the overrun (R-P8): informational.
    pub const OVERRUN_EXPLAINED: &str = "procurement.construction.overrun_explained";
    /// Acceptance opens on this.
    pub const CONSTRUCTION_COMPLETED: &str = "procurement.construction.completed";
    /// R-P10: the project ends.
    pub const TERMINATED: &str = "procurement.project.terminated";
    /// A project drawn for random inspection (R-P7): informational.
    pub const INSPECTION_DRAWN: &str = "procurement.inspection.drawn";

    // Consumed from review.
    pub const APPROVED: &str = "review.project.approved";
    pub const APPROVAL_CANCELLED: &str = "review.approval.cancelled";
    pub const CHANGE_FILED: &str = "review.change.filed";
    pub const BUDGET_ADJUSTED: &str = "review.budget.adjusted";

    // Consumed from acceptance: payment stages conditioned on its milestones (R-P6).
    pub const INITIAL_ACCEPTANCE_CONCLUDED: &str = "acceptance.initial.concluded";
    pub const PROJECT_ACCEPTED: &str = "acceptance.project.accepted";
}

/// A timeline entry: the project's status (empty for informational entries) and what happened.
pub fn status_changed(status: &str, summary: String) -> Payload {
    Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: status.to_string(), summary })
}

/// An informational timeline entry: the project's status does not change.
pub fn informational(summary: String) -> Payload {
    status_changed("", summary)
}

/// What acceptance needs when construction is complete: the approved scope, the channel (R-A4's
/// organiser), supervision, the contract and its filing, and the R-P9 flags.
pub fn construction_completed(case: &ProcurementCase) -> Payload {
    let rec = case.procurement.as_ref();
    let k = case.contract.as_ref();
    let sup = rec.and_then(|r| r.supervision.as_ref());
    Payload::ConstructionCompleted(ev::ConstructionCompleted {
        project_id: case.project_id.to_string(),
        project_name: case.project_name.clone(),
        lead_unit_id: case.lead_unit_id.clone(),
        participating_unit_ids: case.participating_unit_ids.clone(),
        document_number: case.document_number.clone(),
        budget_fen: case.budget_fen.get(),
        funding_source: case.funding_source.clone(),
        scope: case.scope.clone(),
        channel: rec.map(|r| r.channel.clone()).unwrap_or_default(),
        method: rec.map(|r| r.method.clone()).unwrap_or_default(),
        supplier_name: rec.map(|r| r.supplier_name.clone()).unwrap_or_default(),
        supplier_credit_code: rec.map(|r| r.supplier_credit_code.clone()).unwrap_or_default(),
        supervision_credit_code: sup.map(|s| s.supplier_credit_code.clone()).unwrap_or_default(),
        supervision_fee_fen: sup.map_or(0, |s| s.fee_fen.get()),
        contract_amount_fen: k.map_or(0, |k| k.terms.amount_fen.get()),
        construction_start: k.map(|k| convert::civil(k.terms.construction_start)),
        construction_end: k.map(|k| convert::civil(k.terms.construction_end)),
        completed_on: case.completion.as_ref().map(|d| convert::civil(d.completed_on)),
        overrun_days: case.completion.as_ref().map_or(0, |d| d.overrun_days),
        contract_signed_on: k.map(|k| convert::civil(k.signed_on)),
        contract_filed_on: k.map(|k| convert::civil(k.filed_on)),
        contract_filed_late: k.is_some_and(|k| k.late),
        classified_protection_level: k.map_or(0, |k| i32::from(k.security.classified_protection_level)),
        important_system: k.is_some_and(|k| k.security.important_system),
        paid_fen: k.map_or(0, |k| k.paid_fen().get()),
        maintenance_scope: k.map(|k| k.terms.maintenance_scope.clone()).unwrap_or_default(),
        maintenance_end: k.and_then(|k| k.terms.maintenance_end).map(convert::civil),
        procurement_documents_filed_late: rec.and_then(|r| r.documents_filing.as_ref()).is_some_and(|(_, t)| t.late),
    })
}

/// R-P1: review cancels the approval on this.
pub fn deadline_missed(case: &ProcurementCase) -> Payload {
    Payload::ProcurementDeadlineMissed(ev::ProcurementDeadlineMissed {
        project_id: case.project_id.to_string(),
        approved_on: Some(convert::civil(case.approved_on)),
        deadline: case.procurement_deadline.map(convert::civil),
    })
}

/// R-R7: review stops the project's changes once procurement has completed.
pub fn procurement_completed(case: &ProcurementCase) -> Payload {
    Payload::ProcurementCompleted(ev::ProcurementCompleted { project_id: case.project_id.to_string() })
}
