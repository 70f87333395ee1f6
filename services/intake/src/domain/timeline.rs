//! The project registry's timeline (状态时间线): every `egov` event about a project becomes one
//! entry, and the project's status is that of its latest event, so a unit asks "where is my
//! project" in one call. Also applies evaluation's eligibility suspensions (R-I10).

use egov_platform::{
    audit::{self, AuditEntry},
    clock::SharedClock,
    inbox::{EventHandler, HandleError},
};
use egov_proto::events::{EventEnvelope, event_envelope::Payload};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{Penalty, PenaltyKind},
    storage::{self, TimelineRow},
};

/// A lifecycle status (Chinese term / English) and a one-line summary of an event; an empty
/// status marks an informational event that leaves the project's status as it is.
pub fn status_of(e: &EventEnvelope) -> (String, String) {
    let (status, summary): (&str, String) = match (&e.payload, e.r#type.as_str()) {
        (Some(Payload::ApplicationCreated(p)), _) => ("申报草稿 DRAFT", format!("application {:?} drafted by {}", p.name, p.lead_unit_id)),
        (Some(Payload::ApplicationSubmitted(p)), _) => (
            "合规性审查 COMPLIANCE_REVIEW",
            if p.supplementary {
                "submitted as a supplementary project (增补项目)".into()
            } else {
                format!("submitted into round {}", p.round_id)
            },
        ),
        (Some(Payload::ComplianceFailed(p)), _) => (
            "待复审 AWAITING_RE_REVIEW",
            format!(
                "compliance review failed on {}; re-review may be requested until {}",
                p.failed_items.join(", "),
                p.re_review_deadline.as_ref().map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default()
            ),
        ),
        (Some(Payload::ReReviewRequested(_)), _) => ("复审 RE_REVIEW", "re-review requested".into()),
        (Some(Payload::CompliancePassed(p)), _) => {
            ("初审 PRELIMINARY_REVIEW", format!("compliance passed; goes to preliminary review (budget {} fen)", p.total_budget_fen))
        }
        (Some(Payload::ApplicationEnded(p)), _) => ("申报结束 ENDED", format!("{} ({})", p.reason, p.rule_ids.join(", "))),
        (Some(Payload::SupplementaryDecided(p)), _) => (
            "申报草稿 DRAFT",
            if p.accepted {
                format!("supplementary request accepted: {}", p.comment)
            } else {
                format!("supplementary request refused: {}", p.comment)
            },
        ),
        (Some(Payload::ReviewCaseOpened(p)), _) => {
            if p.fast_track {
                ("立项审批 APPROVAL", "fast track (R-R5): approval follows compliance".into())
            } else {
                ("初审 PRELIMINARY_REVIEW", "review case opened: preliminary review by DRC, FINANCE, CAC, XINCHUANG".into())
            }
        }
        (Some(Payload::PreliminaryDecided(p)), _) if p.passed => {
            ("专家评审 EXPERT_REVIEW", format!("preliminary review passed (score {:.2})", f64::from(p.aggregate_score_centi) / 100.0))
        }
        (Some(Payload::PreliminaryDecided(p)), _) => ("初审未通过 PRELIMINARY_FAILED", format!("preliminary review failed: {}", p.comment)),
        (Some(Payload::CaseReturned(p)), _) => ("退回修改 RETURNED", format!("returned to the unit for revision: {}", p.comment)),
        (Some(Payload::ProjectApproved(p)), _) => (
            "已立项 APPROVED",
            format!("approval document {} issued: budget {} fen, funding {}", p.document_number, p.budget_fen, p.funding_source),
        ),
        (Some(Payload::ApprovalCancelled(p)), _) => ("取消立项 APPROVAL_CANCELLED", format!("{} ({})", p.reason, p.rule_ids.join(", "))),
        (Some(Payload::ProjectStatusChanged(p)), _) => return (p.status.clone(), p.summary.clone()),
        // Informational: shown on the timeline, the project's status stays.
        (Some(Payload::TaskOverdue(p)), _) => ("", format!("task {} of {} is overdue: escalated to DRB", p.kind, p.assignee_role)),
        (Some(Payload::BudgetAdjusted(p)), _) => {
            ("", format!("budget changed from {} to {} fen ({}, R-R7)", p.old_budget_fen, p.new_budget_fen, p.route))
        }
        (Some(Payload::ProcurementDeadlineMissed(p)), _) => (
            "",
            format!(
                "procurement not completed by its deadline {} (R-P1): the approval is cancelled",
                p.deadline.as_ref().map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default()
            ),
        ),
        (Some(Payload::ProcurementCompleted(_)), _) => ("采购完成 PROCURED", "procurement completed (R-P3, R-P4)".into()),
        (Some(Payload::ConstructionOverrunRecorded(p)), _) => ("", format!("{} — recorded against unit {}", p.reason, p.unit_id)),
        (Some(Payload::ConstructionCompleted(p)), _) => (
            "建设完成 CONSTRUCTION_COMPLETED",
            format!(
                "construction completed on {} ({} day(s) past the contract period); acceptance follows",
                p.completed_on.as_ref().map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default(),
                p.overrun_days
            ),
        ),
        (Some(Payload::ProjectTerminated(p)), _) => (
            if p.kind == "REVOKED" { "撤销 REVOKED" } else { "终止 TERMINATED" },
            format!("{} ({}), {} fen paid (R-P10): the project ends", p.reason, p.ground, p.paid_fen),
        ),
        (_, t) => return (t.to_string(), format!("{} from {}", t, e.producer)),
    };
    (status.to_string(), summary)
}

/// Consumer of every `egov` event (binding `#`).
pub struct TimelineProjector {
    pub clock: SharedClock,
}

impl TimelineProjector {
    async fn apply(&self, c: &mut PgConnection, e: &EventEnvelope) -> Result<(), HandleError> {
        if let Some(Payload::UnitEligibilitySuspended(s)) = &e.payload {
            return self.suspend(c, e, s).await;
        }
        if let Some(Payload::ConstructionOverrunRecorded(o)) = &e.payload {
            self.overrun(c, e, o).await?;
        }
        let Ok(project_id) = Uuid::parse_str(&e.project_id) else {
            // Not about a project (rounds, units): nothing for the timeline.
            return Ok(());
        };
        let Ok(event_id) = Uuid::parse_str(&e.event_id) else {
            return Err(HandleError::Permanent(format!("event id {:?} is not a UUID", e.event_id)));
        };
        let occurred_at = e
            .occurred_at
            .as_ref()
            .and_then(egov_platform::convert::from_timestamp)
            .ok_or_else(|| HandleError::Permanent("event without occurred_at".into()))?;
        let (status, summary) = status_of(e);
        let row = TimelineRow { event_id, event_type: e.r#type.clone(), producer: e.producer.clone(), occurred_at, status, summary };
        storage::record_timeline(c, project_id, &row).await.map_err(transient)?;
        Ok(())
    }

    async fn suspend(
        &self,
        c: &mut PgConnection,
        e: &EventEnvelope,
        s: &egov_proto::events::UnitEligibilitySuspended,
    ) -> Result<(), HandleError> {
        if storage::find_unit(c, &s.unit_id).await.map_err(transient)?.is_none() {
            return Err(HandleError::Permanent(format!("eligibility suspension for unknown unit {}", s.unit_id)));
        }
        let now = self.clock.now();
        let p = Penalty {
            penalty_id: Uuid::now_v7(),
            unit_id: s.unit_id.clone(),
            kind: PenaltyKind::EarlyStop,
            reason: s.reason.clone(),
            project_id: s.app_id.clone(),
            went_live_on: s.went_live_on.as_ref().and_then(|d| egov_platform::convert::date("went_live_on", Some(d)).ok()),
            stopped_on: s.stopped_on.as_ref().and_then(|d| egov_platform::convert::date("stopped_on", Some(d)).ok()),
            ineligible_year: Some(s.year),
            rule_ids: vec!["R-I10".into(), "R-E6".into()],
            policy_version: e.policy_version.clone(),
            recorded_at: now,
        };
        storage::insert_penalty(c, &p).await.map_err(transient)?;
        let entry = AuditEntry::system("intake", "ApplyEligibilitySuspension", format!("units/{}", s.unit_id))
            .reason(&s.reason)
            .rules(&["R-I10", "R-E6"])
            .policy(&e.policy_version)
            .request(&e.event_id);
        audit::append(c, now, &entry).await.map_err(transient)?;
        Ok(())
    }
}

impl TimelineProjector {
    /// R-P8: procurement recorded an overrun against the unit; it joins the unit's record shown
    /// to reviewers of its next applications (R-I10), without suspending it.
    async fn overrun(
        &self,
        c: &mut PgConnection,
        e: &EventEnvelope,
        o: &egov_proto::events::ConstructionOverrunRecorded,
    ) -> Result<(), HandleError> {
        if storage::find_unit(c, &o.unit_id).await.map_err(transient)?.is_none() {
            return Err(HandleError::Permanent(format!("overrun recorded for unknown unit {}", o.unit_id)));
        }
        let now = self.clock.now();
        let p = Penalty {
            penalty_id: Uuid::now_v7(),
            unit_id: o.unit_id.clone(),
            kind: PenaltyKind::ConstructionOverrun,
            reason: o.reason.clone(),
            project_id: o.project_id.clone(),
            went_live_on: None,
            stopped_on: None,
            ineligible_year: None,
            rule_ids: vec!["R-P8".into(), "R-I10".into()],
            policy_version: e.policy_version.clone(),
            recorded_at: now,
        };
        storage::insert_penalty(c, &p).await.map_err(transient)?;
        let entry = AuditEntry::system("intake", "RecordConstructionOverrun", format!("units/{}", o.unit_id))
            .project(&o.project_id)
            .reason(&o.reason)
            .rules(&["R-P8", "R-I10"])
            .policy(&e.policy_version)
            .request(&e.event_id);
        audit::append(c, now, &entry).await.map_err(transient)?;
        Ok(())
    }
}

fn transient(e: egov_platform::AppError) -> HandleError {
    HandleError::Transient(e.to_string())
}

impl EventHandler for TimelineProjector {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>> {
        Box::pin(self.apply(tx, event))
    }
}

/// Routing keys the intake consumer binds: everything on the exchange.
pub const BINDINGS: &[&str] = &["#"];
