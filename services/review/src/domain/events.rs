//! The events review publishes and consumes: their types (routing keys) and the payloads its
//! transitions decide. Pure values; the platform's commit puts them in the outbox. Both
//! `messaging` (bindings) and the domain use these constants, so neither imports the other.

use egov_platform::convert;
use egov_proto::events::{self as ev, event_envelope::Payload};

use super::model::{Approval, ChangeRecord, ReviewCase, Stage};

/// The service name events and system audit records carry.
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
    // Produced: re-check (R-R3), joint meeting (R-R4), funds secured (R-R6), changes (R-R7).
    pub const RECHECK_CONCLUDED: &str = "review.recheck.concluded";
    pub const JOINT_MEETING_RECORDED: &str = "review.joint_meeting.recorded";
    pub const FUNDS_SECURED: &str = "review.approval.funds_secured";
    pub const CHANGE_FILED: &str = "review.change.filed";
    /// A larger reduction (R-R7) awaits DRB's departmental review.
    pub const CHANGE_REQUESTED: &str = "review.change.requested";
    pub const BUDGET_ADJUSTED: &str = "review.budget.adjusted";
    /// Consumed.
    pub const COMPLIANCE_PASSED: &str = "intake.application.compliance_passed";
    pub const PROCUREMENT_DEADLINE_MISSED: &str = "procurement.project.deadline_missed";
    /// Consumed (R-R7: no change after procurement completes).
    pub const PROCUREMENT_COMPLETED: &str = "procurement.procurement.completed";
    /// Consumed (R-P10: the project ended; no more changes or validity checks).
    pub const PROJECT_TERMINATED: &str = "procurement.project.terminated";
}

/// R-R4: what procurement opens its case from.
pub fn approved(case: &ReviewCase, a: &Approval) -> Payload {
    Payload::ProjectApproved(ev::ProjectApproved {
        project_id: case.case_id.to_string(),
        document_number: a.document_number.clone(),
        issued_on: Some(convert::civil(a.issued_on)),
        issuers: a.issuers.clone(),
        project_name: a.project_name.clone(),
        budget_fen: a.budget_fen.get(),
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

pub fn status_changed(status: &str, summary: impl Into<String>) -> Payload {
    Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: status.to_string(), summary: summary.into() })
}

/// R-R7: the approved budget changed (a filing, or an approved change request).
pub fn budget_adjusted(case: &ReviewCase, c: &ChangeRecord) -> Payload {
    Payload::BudgetAdjusted(ev::BudgetAdjusted {
        project_id: case.case_id.to_string(),
        old_budget_fen: c.old_budget_fen.get(),
        new_budget_fen: c.new_budget_fen.get(),
        change_id: c.change_id.to_string(),
        route: c.route.clone(),
    })
}

/// The registry status shown when a case enters `stage`.
pub fn stage_status(stage: Stage) -> &'static str {
    match stage {
        Stage::PreliminaryReview => "初审 PRELIMINARY_REVIEW",
        Stage::ExpertReview => "专家评审 EXPERT_REVIEW",
        Stage::ReCheck => "复核审查 RE_CHECK",
        Stage::JointMeeting => "联席会议 JOINT_MEETING",
        Stage::Approval => "立项审批 APPROVAL",
        Stage::Approved => "已立项 APPROVED",
        Stage::Returned => "退回修改 RETURNED",
        Stage::Ended => "申报结束 ENDED",
        Stage::Cancelled => "取消立项 APPROVAL_CANCELLED",
        Stage::Terminated => "撤销/终止 TERMINATED",
    }
}
