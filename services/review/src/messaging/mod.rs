//! Review's events: what it emits, and the consumer that opens cases from intake's
//! compliance-passed events and cancels approvals on procurement's deadline-missed events (R-P1).

use egov_platform::{
    audit::{self, AuditEntry},
    auth::Role,
    clock::SharedClock,
    convert,
    inbox::{EventHandler, HandleError},
    outbox,
    policy::Policy,
    timers,
};
use egov_proto::events::{self as ev, EventEnvelope, event_envelope::Payload};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    domain::{Approval, Dossier, ReviewCase, Stage, UnitRecordEntry, rules, workflow::Task},
    jobs, storage,
};

pub const PRODUCER: &str = "review";

pub mod types {
    pub const CASE_OPENED: &str = "review.case.opened";
    pub const PRELIMINARY_DECIDED: &str = "review.preliminary.decided";
    pub const CASE_RETURNED: &str = "review.case.returned";
    pub const CASE_RESUBMITTED: &str = "review.case.resubmitted";
    pub const ENDED: &str = "review.application.ended";
    /// Procurement opens its case from this (R-P1's clock starts).
    pub const APPROVED: &str = "review.project.approved";
    pub const APPROVAL_CANCELLED: &str = "review.approval.cancelled";
    pub const TASK_OVERDUE: &str = "review.task.overdue";
    pub const EXPERT_CONCLUDED: &str = "review.expert.concluded";
    pub const RECHECK_STARTED: &str = "review.recheck.started";
    /// Consumed.
    pub const COMPLIANCE_PASSED: &str = "intake.application.compliance_passed";
    pub const PROCUREMENT_DEADLINE_MISSED: &str = "procurement.project.deadline_missed";
    // Produced: re-check (R-R3), joint meeting (R-R4), funds secured (R-R6), changes (R-R7).
    pub const RECHECK_CONCLUDED: &str = "review.recheck.concluded";
    pub const JOINT_MEETING_RECORDED: &str = "review.joint_meeting.recorded";
    pub const FUNDS_SECURED: &str = "review.approval.funds_secured";
    pub const CHANGE_FILED: &str = "review.change.filed";
    /// A larger reduction (R-R7) awaits DRB's departmental review.
    pub const CHANGE_REQUESTED: &str = "review.change.requested";
    pub const BUDGET_ADJUSTED: &str = "review.budget.adjusted";
    /// Consumed (R-R7: no change after procurement completes).
    pub const PROCUREMENT_COMPLETED: &str = "procurement.procurement.completed";
    /// Consumed (R-P10: the project ended; no more changes or validity checks).
    pub const PROJECT_TERMINATED: &str = "procurement.project.terminated";
}

pub const BINDINGS: &[&str] =
    &[types::COMPLIANCE_PASSED, types::PROCUREMENT_DEADLINE_MISSED, types::PROCUREMENT_COMPLETED, types::PROJECT_TERMINATED];

pub fn envelope(event_type: &str, case: &ReviewCase, at: OffsetDateTime, payload: Payload) -> EventEnvelope {
    outbox::envelope(PRODUCER, event_type, &case.case_id.to_string(), &case.policy_version, at, payload)
}

pub fn approved(case: &ReviewCase, a: &Approval) -> Payload {
    Payload::ProjectApproved(ev::ProjectApproved {
        project_id: case.case_id.to_string(),
        document_number: a.document_number.clone(),
        issued_on: Some(convert::civil(a.issued_on)),
        issuers: a.issuers.clone(),
        project_name: a.project_name.clone(),
        budget_fen: a.budget_fen,
        funding_source: a.funding_source.clone(),
        scope: a.scope.clone(),
        planned_construction_months: a.planned_construction_months,
        fast_track: a.fast_track,
        lead_unit_id: case.dossier.lead_unit_id.clone(),
        participating_unit_ids: case.dossier.participating_unit_ids.clone(),
        valid_until: a.valid_until.map(convert::civil),
    })
}

pub fn ended(case: &ReviewCase, reason: &str, rule_ids: &[&str]) -> Payload {
    Payload::ApplicationEnded(ev::ApplicationEnded {
        application_id: case.case_id.to_string(),
        reason: reason.to_string(),
        rule_ids: rule_ids.iter().map(|s| s.to_string()).collect(),
    })
}

/// Opens one task per role in `group` (completion: all must act), each with its reminder and
/// escalation timers. Preliminary review: the required participants (R-R1); re-check: DRB,
/// DRC and FINANCE (R-R3).
pub async fn open_tasks(
    c: &mut PgConnection,
    case: &ReviewCase,
    kind: &str,
    group: &str,
    roles: &[Role],
    now: OffsetDateTime,
    policy: &Policy,
) -> Result<(), egov_platform::AppError> {
    for role in roles {
        let t = Task::new(case.case_id, kind, group, *role, now, policy.review_task_days);
        storage::insert_task(c, &t).await?;
        jobs::schedule_task_timers(c, &t, policy.review_reminder_hours).await?;
    }
    Ok(())
}

/// The preliminary review's tasks: one per required participant (R-R1).
pub async fn open_preliminary_tasks(
    c: &mut PgConnection,
    case: &ReviewCase,
    now: OffsetDateTime,
    policy: &Policy,
) -> Result<(), egov_platform::AppError> {
    let roles: Vec<Role> = case.required_participants.iter().filter_map(|r| Role::parse(r)).collect();
    open_tasks(c, case, "preliminary.opinion", "preliminary", &roles, now, policy).await
}

/// The re-check's tasks: DRB, DRC and FINANCE (R-R3).
pub async fn open_recheck_tasks(
    c: &mut PgConnection,
    case: &ReviewCase,
    now: OffsetDateTime,
    policy: &Policy,
) -> Result<(), egov_platform::AppError> {
    open_tasks(c, case, "recheck.opinion", "recheck", &[Role::Drb, Role::Drc, Role::Finance], now, policy).await
}

/// The consumer of intake's and procurement's events.
pub struct ReviewConsumer {
    pub clock: SharedClock,
    pub policy: std::sync::Arc<egov_platform::policy::PolicyBook>,
}

fn transient(e: egov_platform::AppError) -> HandleError {
    HandleError::Transient(e.to_string())
}

impl ReviewConsumer {
    async fn apply(&self, c: &mut PgConnection, e: &EventEnvelope) -> Result<(), HandleError> {
        match &e.payload {
            Some(Payload::CompliancePassed(p)) => self.open(c, e, p).await,
            Some(Payload::ProcurementDeadlineMissed(p)) => self.deadline_missed(c, e, p).await,
            Some(Payload::ProcurementCompleted(p)) => self.procurement_completed(c, e, p).await,
            Some(Payload::ProjectTerminated(p)) => self.terminated(c, e, p).await,
            _ => Ok(()),
        }
    }

    async fn open(&self, c: &mut PgConnection, e: &EventEnvelope, p: &ev::CompliancePassed) -> Result<(), HandleError> {
        let id = Uuid::parse_str(&p.application_id)
            .map_err(|_| HandleError::Permanent(format!("application id {:?} is not a UUID", p.application_id)))?;
        // The case keeps the application's policy version; it must be one this service knows.
        let policy = self.policy.version(&e.policy_version).ok_or_else(|| {
            HandleError::Permanent(format!("policy version {:?} of the application is not loaded here", e.policy_version))
        })?;
        let now = self.clock.now();
        let dossier = Dossier {
            project_name: p.project_name.clone(),
            lead_unit_id: p.lead_unit_id.clone(),
            participating_unit_ids: p.participating_unit_ids.clone(),
            category: p.category.clone(),
            build_type: p.build_type.clone(),
            total_budget_fen: p.total_budget_fen,
            security_budget_fen: p.security_budget_fen,
            funding_source: p.funding_source.clone(),
            fast_track_grounds: p.fast_track_grounds.clone(),
            reaches_streets: p.reaches_streets,
            streets_reached: p.streets_reached.clone(),
            planned_construction_months: p.planned_construction_months,
            function_modules: p.function_modules.clone(),
            review_flags: p.review_flags.clone(),
            target_year: p.target_year,
        };
        let record = p
            .unit_record
            .iter()
            .map(|r| UnitRecordEntry { kind: r.kind.clone(), reason: r.reason.clone(), ineligible_year: r.ineligible_year })
            .collect();
        let case = rules::open_case(id, dossier, record, policy.version.clone(), now);
        if !storage::insert_case(c, &case).await.map_err(transient)? {
            return Ok(()); // already open: a redelivery under another event id
        }
        if case.stage == Stage::PreliminaryReview {
            open_preliminary_tasks(c, &case, now, &policy).await.map_err(transient)?;
        }
        let rules: &[&str] = if case.fast_track { &["R-R5"] } else { &["R-R1"] };
        let entry = AuditEntry::system("review", "OpenCase", format!("cases/{id}"))
            .project(id.to_string())
            .rules(rules)
            .policy(&case.policy_version)
            .request(&e.event_id);
        audit::append(c, now, &entry).await.map_err(transient)?;
        let payload = Payload::ReviewCaseOpened(ev::ReviewCaseOpened {
            case_id: id.to_string(),
            fast_track: case.fast_track,
            stage: case.stage.as_str().into(),
        });
        outbox::enqueue(c, &envelope(types::CASE_OPENED, &case, now, payload)).await.map_err(transient)?;
        Ok(())
    }

    async fn deadline_missed(&self, c: &mut PgConnection, e: &EventEnvelope, p: &ev::ProcurementDeadlineMissed) -> Result<(), HandleError> {
        let id =
            Uuid::parse_str(&p.project_id).map_err(|_| HandleError::Permanent(format!("project id {:?} is not a UUID", p.project_id)))?;
        let now = self.clock.now();
        let mut case = match storage::get_case(c, id, true).await {
            Ok(k) => k,
            Err(egov_platform::AppError::NotFound(m)) => return Err(HandleError::Permanent(m)),
            Err(e) => return Err(transient(e)),
        };
        if rules::cancel_approval(&case).is_err() {
            return Ok(()); // already cancelled, or never approved: nothing to do
        }
        let reason = "采购未在立项后规定期限内完成，取消立项指标 / procurement not completed in time after approval".to_string();
        if let Some(a) = case.approval.as_mut() {
            a.cancelled = true;
            a.cancel_reason = reason.clone();
        }
        case.stage = Stage::Cancelled;
        case.end_reason = reason.clone();
        case.version += 1;
        storage::update_case(c, &case).await.map_err(transient)?;
        timers::cancel(c, jobs::APPROVAL_VALIDITY, &id.to_string()).await.map_err(transient)?;
        let entry = AuditEntry::system("review", "CancelApproval", format!("cases/{id}"))
            .project(id.to_string())
            .reason(&reason)
            .rules(&["R-P1"])
            .policy(&case.policy_version)
            .request(&e.event_id);
        audit::append(c, now, &entry).await.map_err(transient)?;
        let payload =
            Payload::ApprovalCancelled(ev::ApprovalCancelled { project_id: id.to_string(), reason, rule_ids: vec!["R-P1".into()] });
        outbox::enqueue(c, &envelope(types::APPROVAL_CANCELLED, &case, now, payload)).await.map_err(transient)?;
        Ok(())
    }
}

impl ReviewConsumer {
    /// R-R7: once procurement completes, the main content no longer changes.
    async fn procurement_completed(
        &self,
        c: &mut PgConnection,
        e: &EventEnvelope,
        p: &ev::ProcurementCompleted,
    ) -> Result<(), HandleError> {
        let id =
            Uuid::parse_str(&p.project_id).map_err(|_| HandleError::Permanent(format!("project id {:?} is not a UUID", p.project_id)))?;
        let now = self.clock.now();
        let mut case = match storage::get_case(c, id, true).await {
            Ok(k) => k,
            Err(egov_platform::AppError::NotFound(m)) => return Err(HandleError::Permanent(m)),
            Err(e) => return Err(transient(e)),
        };
        if case.procurement_completed {
            return Ok(()); // a redelivery
        }
        case.procurement_completed = true;
        case.version += 1;
        storage::update_case(c, &case).await.map_err(transient)?;
        let entry = AuditEntry::system("review", "ProcurementCompleted", format!("cases/{id}"))
            .project(id.to_string())
            .reason("采购已完成，不再受理变更 / procurement completed: no further changes")
            .rules(&["R-R7"])
            .policy(&case.policy_version)
            .request(&e.event_id);
        audit::append(c, now, &entry).await.map_err(transient)?;
        Ok(())
    }
}

impl ReviewConsumer {
    /// R-P10: the project was revoked or terminated; its approval stays on record, but nothing
    /// more happens to it here (no changes, no R-R6 validity check).
    async fn terminated(&self, c: &mut PgConnection, e: &EventEnvelope, p: &ev::ProjectTerminated) -> Result<(), HandleError> {
        let id =
            Uuid::parse_str(&p.project_id).map_err(|_| HandleError::Permanent(format!("project id {:?} is not a UUID", p.project_id)))?;
        let mut case = match storage::get_case(c, id, true).await {
            Ok(k) => k,
            Err(egov_platform::AppError::NotFound(m)) => return Err(HandleError::Permanent(m)),
            Err(e) => return Err(transient(e)),
        };
        if case.stage == Stage::Terminated {
            return Ok(()); // a redelivery
        }
        let reason = format!(
            "项目{} / the project was {} under R-P10: {}",
            if p.kind == "REVOKED" { "撤销" } else { "终止" },
            p.kind.to_lowercase(),
            p.reason
        );
        case.stage = Stage::Terminated;
        case.end_reason = reason.clone();
        case.version += 1;
        storage::update_case(c, &case).await.map_err(transient)?;
        timers::cancel(c, jobs::APPROVAL_VALIDITY, &id.to_string()).await.map_err(transient)?;
        let entry = AuditEntry::system("review", "ProjectTerminated", format!("cases/{id}"))
            .project(id.to_string())
            .reason(&reason)
            .rules(&["R-P10"])
            .policy(&case.policy_version)
            .request(&e.event_id);
        audit::append(c, self.clock.now(), &entry).await.map_err(transient)?;
        Ok(())
    }
}

impl EventHandler for ReviewConsumer {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>> {
        Box::pin(self.apply(tx, event))
    }
}
