//! Procurement's events: cases open from review's approvals and follow its cancellations and
//! budget changes; procurement tells review when it completes (R-R7) or misses R-P1's deadline.

use egov_platform::{
    audit::{self, AuditEntry},
    clock::SharedClock,
    convert,
    inbox::{EventHandler, HandleError},
    outbox,
    policy::PolicyBook,
    timers,
};
use egov_proto::events::{self as ev, EventEnvelope, event_envelope::Payload};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    domain::{CaseState, ProcurementCase, deadline},
    jobs, storage,
};

pub const PRODUCER: &str = "procurement";

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
    pub const APPROVED: &str = "review.project.approved";
    pub const APPROVAL_CANCELLED: &str = "review.approval.cancelled";
    pub const CHANGE_FILED: &str = "review.change.filed";
    pub const BUDGET_ADJUSTED: &str = "review.budget.adjusted";
}

pub const BINDINGS: &[&str] = &[types::APPROVED, types::APPROVAL_CANCELLED, types::CHANGE_FILED, types::BUDGET_ADJUSTED];

pub fn envelope(event_type: &str, case: &ProcurementCase, at: OffsetDateTime, payload: Payload) -> EventEnvelope {
    outbox::envelope(PRODUCER, event_type, &case.project_id.to_string(), &case.policy_version, at, payload)
}

pub struct ProcurementConsumer {
    pub clock: SharedClock,
    pub policy: Arc<PolicyBook>,
}

fn transient(e: egov_platform::AppError) -> HandleError {
    HandleError::Transient(e.to_string())
}

fn project_id(raw: &str) -> Result<Uuid, HandleError> {
    Uuid::parse_str(raw).map_err(|_| HandleError::Permanent(format!("project id {raw:?} is not a UUID")))
}

impl ProcurementConsumer {
    async fn apply(&self, c: &mut PgConnection, e: &EventEnvelope) -> Result<(), HandleError> {
        match &e.payload {
            Some(Payload::ProjectApproved(p)) => self.open(c, e, p).await,
            Some(Payload::ApprovalCancelled(p)) => self.cancelled(c, e, p).await,
            Some(Payload::BudgetAdjusted(p)) => {
                let id = project_id(&p.project_id)?;
                let Some(mut case) = storage::find_case(c, id, true).await.map_err(transient)? else { return Ok(()) };
                if case.budget_fen != p.new_budget_fen {
                    case.budget_fen = p.new_budget_fen;
                    case.version += 1;
                    storage::update_case(c, &case).await.map_err(transient)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn open(&self, c: &mut PgConnection, e: &EventEnvelope, p: &ev::ProjectApproved) -> Result<(), HandleError> {
        let id = project_id(&p.project_id)?;
        let policy = self
            .policy
            .version(&e.policy_version)
            .ok_or_else(|| HandleError::Permanent(format!("policy version {:?} is not loaded here", e.policy_version)))?;
        let approved_on = convert::date("issued_on", p.issued_on.as_ref()).map_err(|v| HandleError::Permanent(v.description))?;
        let now = self.clock.now();
        let deadline = deadline::procurement_deadline(approved_on, &p.funding_source, &policy);
        let case = ProcurementCase {
            project_id: id,
            project_name: p.project_name.clone(),
            lead_unit_id: p.lead_unit_id.clone(),
            participating_unit_ids: p.participating_unit_ids.clone(),
            budget_fen: p.budget_fen,
            funding_source: p.funding_source.clone(),
            planned_construction_months: p.planned_construction_months,
            scope: p.scope.clone(),
            approved_on,
            document_number: p.document_number.clone(),
            procurement_deadline: deadline,
            state: CaseState::Procuring,
            procurement: None,
            policy_version: policy.version.clone(),
            version: 1,
            opened_at: now,
            contract: None,
            progress_reports: Vec::new(),
            missing_reports: Vec::new(),
            first_report_month: None,
            overrun: None,
            completion: None,
            termination: None,
        };
        if !storage::insert_case(c, &case).await.map_err(transient)? {
            return Ok(());
        }
        if let Some(d) = deadline {
            timers::schedule(c, jobs::PROCUREMENT_DEADLINE, &id.to_string(), deadline::timer_due(d), serde_json::json!({}))
                .await
                .map_err(transient)?;
        }
        let entry = AuditEntry::system("procurement", "OpenCase", format!("cases/{id}"))
            .project(id.to_string())
            .rules(&["R-P1"])
            .policy(&case.policy_version)
            .request(&e.event_id);
        audit::append(c, now, &entry).await.map_err(transient)?;
        let summary = match deadline {
            Some(d) => format!("procurement opened; to complete by {d} (R-P1)"),
            None => "procurement opened (outside funding: no R-P1 deadline)".to_string(),
        };
        let payload = Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: "采购 PROCUREMENT".into(), summary });
        outbox::enqueue(c, &envelope(types::CASE_OPENED, &case, now, payload)).await.map_err(transient)?;
        Ok(())
    }

    async fn cancelled(&self, c: &mut PgConnection, e: &EventEnvelope, p: &ev::ApprovalCancelled) -> Result<(), HandleError> {
        let id = project_id(&p.project_id)?;
        let Some(mut case) = storage::find_case(c, id, true).await.map_err(transient)? else { return Ok(()) };
        if matches!(case.state, CaseState::Cancelled | CaseState::Terminated) {
            return Ok(());
        }
        case.state = CaseState::Cancelled;
        case.version += 1;
        storage::update_case(c, &case).await.map_err(transient)?;
        timers::cancel(c, jobs::PROCUREMENT_DEADLINE, &id.to_string()).await.map_err(transient)?;
        jobs::cancel_construction_timers(c, id).await.map_err(transient)?;
        let entry = AuditEntry::system("procurement", "CloseCase", format!("cases/{id}"))
            .project(id.to_string())
            .reason(&p.reason)
            .policy(&case.policy_version)
            .request(&e.event_id);
        audit::append(c, self.clock.now(), &entry).await.map_err(transient)?;
        Ok(())
    }
}

impl EventHandler for ProcurementConsumer {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>> {
        Box::pin(self.apply(tx, event))
    }
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
        budget_fen: case.budget_fen,
        funding_source: case.funding_source.clone(),
        scope: case.scope.clone(),
        channel: rec.map(|r| r.channel.clone()).unwrap_or_default(),
        method: rec.map(|r| r.method.clone()).unwrap_or_default(),
        supplier_name: rec.map(|r| r.supplier_name.clone()).unwrap_or_default(),
        supplier_credit_code: rec.map(|r| r.supplier_credit_code.clone()).unwrap_or_default(),
        supervision_credit_code: sup.map(|s| s.supplier_credit_code.clone()).unwrap_or_default(),
        supervision_fee_fen: sup.map_or(0, |s| s.fee_fen),
        contract_amount_fen: k.map_or(0, |k| k.terms.amount_fen),
        construction_start: k.map(|k| convert::civil(k.terms.construction_start)),
        construction_end: k.map(|k| convert::civil(k.terms.construction_end)),
        completed_on: case.completion.as_ref().map(|d| convert::civil(d.completed_on)),
        overrun_days: case.completion.as_ref().map_or(0, |d| d.overrun_days),
        contract_signed_on: k.map(|k| convert::civil(k.signed_on)),
        contract_filed_on: k.map(|k| convert::civil(k.filed_on)),
        contract_filed_late: k.is_some_and(|k| k.late),
        classified_protection_level: k.map_or(0, |k| i32::from(k.security.classified_protection_level)),
        important_system: k.is_some_and(|k| k.security.important_system),
        paid_fen: k.map_or(0, |k| k.paid_fen()),
        maintenance_scope: k.map(|k| k.terms.maintenance_scope.clone()).unwrap_or_default(),
        maintenance_end: k.and_then(|k| k.terms.maintenance_end).map(convert::civil),
        procurement_documents_filed_late: rec.and_then(|r| r.documents_filing.as_ref()).is_some_and(|(_, t)| t.late),
    })
}
