//! Proto ⇄ domain for review.

use egov_platform::convert as c;
use egov_proto::review as pb;

use crate::domain::{
    Approval, ChangeRecord, Decision, Opinion, RecheckConclusion, ReviewCase, Stage,
    change::ChangeEvent,
    workflow::{Task, TaskState},
};

pub fn stage_to_proto(s: Stage) -> i32 {
    c::enum_to_proto("CASE_STAGE_", s.as_str(), |n| pb::CaseStage::from_str_name(n).map(|e| e as i32))
}

pub fn stage_from_proto(field: &str, raw: i32) -> Result<Option<Stage>, egov_platform::error::FieldViolation> {
    c::enum_from_proto(field, raw, |i| pb::CaseStage::try_from(i).ok().map(|e| e.as_str_name()), "CASE_STAGE_", Stage::parse)
}

pub fn task_state_from_proto(field: &str, raw: i32) -> Result<Option<TaskState>, egov_platform::error::FieldViolation> {
    c::enum_from_proto(field, raw, |i| pb::TaskState::try_from(i).ok().map(|e| e.as_str_name()), "TASK_STATE_", TaskState::parse)
}

fn decision(d: &Decision) -> pb::Decision {
    pb::Decision {
        passed: d.passed,
        comment: d.comment.clone(),
        decided_by: d.decided_by.clone(),
        decided_at: Some(c::timestamp(d.decided_at)),
        policy_version: d.policy_version.clone(),
        aggregate_score_centi: d.aggregate_centi as i32,
    }
}

pub fn approval(case: &ReviewCase, a: &Approval) -> pb::ApprovalDocument {
    pb::ApprovalDocument {
        project_id: case.case_id.to_string(),
        document_number: a.document_number.clone(),
        issued_on: Some(c::civil(a.issued_on)),
        issuers: a.issuers.clone(),
        project_name: a.project_name.clone(),
        budget_fen: a.budget_fen,
        funding_source: a.funding_source.clone(),
        scope: a.scope.clone(),
        planned_construction_months: a.planned_construction_months,
        fast_track: a.fast_track,
        valid_until: a.valid_until.map(c::civil),
        funds_secured: a.funds_secured,
        cancelled: a.cancelled,
        cancel_reason: a.cancel_reason.clone(),
        policy_version: a.policy_version.clone(),
    }
}

pub fn case(k: &ReviewCase) -> pb::ReviewCase {
    let d = &k.dossier;
    pb::ReviewCase {
        case_id: k.case_id.to_string(),
        project_id: k.case_id.to_string(),
        dossier: Some(pb::Dossier {
            project_name: d.project_name.clone(),
            lead_unit_id: d.lead_unit_id.clone(),
            participating_unit_ids: d.participating_unit_ids.clone(),
            category: d.category.clone(),
            build_type: d.build_type.clone(),
            total_budget_fen: d.total_budget_fen,
            security_budget_fen: d.security_budget_fen,
            funding_source: d.funding_source.clone(),
            fast_track_grounds: d.fast_track_grounds.clone(),
            reaches_streets: d.reaches_streets,
            streets_reached: d.streets_reached.clone(),
            planned_construction_months: d.planned_construction_months,
            function_modules: d.function_modules.clone(),
            review_flags: d.review_flags.clone(),
            target_year: d.target_year,
        }),
        stage: stage_to_proto(k.stage),
        returned_from: k.returned_from.map_or(0, stage_to_proto),
        fast_track: k.fast_track,
        unit_record: k
            .unit_record
            .iter()
            .map(|r| pb::UnitRecordEntry { kind: r.kind.clone(), reason: r.reason.clone(), ineligible_year: r.ineligible_year })
            .collect(),
        required_participants: k.required_participants.clone(),
        opinions: k.opinions.iter().map(opinion).collect(),
        preliminary_decision: k.preliminary.as_ref().map(decision),
        approval: k.approval.as_ref().map(|a| approval(k, a)),
        end_reason: k.end_reason.clone(),
        policy_version: k.policy_version.clone(),
        etag: k.version.to_string(),
        opened_at: Some(c::timestamp(k.opened_at)),
        recheck_opinions: k.recheck_opinions.iter().map(opinion).collect(),
        recheck: k.recheck.as_ref().map(recheck),
        joint_meeting: k.joint_meeting.as_ref().map(|j| pb::JointMeetingOutcome {
            passed: j.passed,
            meeting_ref: j.meeting_ref.clone(),
            held_on: Some(c::civil(j.held_on)),
            comment: j.comment.clone(),
            recorded_by: j.recorded_by.clone(),
        }),
        changes: k.changes.iter().map(change).collect(),
        procurement_completed: k.procurement_completed,
    }
}

fn opinion(o: &Opinion) -> pb::PreliminaryOpinion {
    pb::PreliminaryOpinion {
        role: o.role.clone(),
        subject: o.subject.clone(),
        scores: o.scores.iter().map(|(code, score)| pb::CriterionScore { code: code.clone(), score: *score as i32 }).collect(),
        weighted_score_centi: o.weighted_centi as i32,
        passed: o.passed,
        opinion: o.opinion.clone(),
        at: Some(c::timestamp(o.at)),
    }
}

fn recheck(r: &RecheckConclusion) -> pb::RecheckConclusion {
    pb::RecheckConclusion {
        passed: r.passed,
        comment: r.comment.clone(),
        priority_rank: r.priority_rank as i32,
        fiscal_year: r.fiscal_year,
        amount_fen: r.amount_fen,
        decided_by: r.decided_by.clone(),
        decided_at: Some(c::timestamp(r.decided_at)),
    }
}

fn change(x: &ChangeRecord) -> pb::BudgetChange {
    pb::BudgetChange {
        change_id: x.change_id.to_string(),
        old_budget_fen: x.old_budget_fen,
        new_budget_fen: x.new_budget_fen,
        route: c::enum_to_proto("CHANGE_ROUTE_", &x.route, |n| pb::ChangeRoute::from_str_name(n).map(|e| e as i32)),
        state: c::enum_to_proto("CHANGE_STATE_", &x.state, |n| pb::ChangeState::from_str_name(n).map(|e| e as i32)),
        reason: x.reason.clone(),
        requested_by: x.requested_by.clone(),
        requested_at: Some(c::timestamp(x.requested_at)),
    }
}

/// DEPARTMENTAL / EXPERT of `DecideChange` as the change's event.
pub fn change_event(field: &str, raw: i32, passed: bool) -> Result<ChangeEvent, egov_platform::error::FieldViolation> {
    match pb::ChangeReviewStage::try_from(raw) {
        Ok(pb::ChangeReviewStage::Departmental) => Ok(ChangeEvent::DepartmentalReview { passed }),
        Ok(pb::ChangeReviewStage::Expert) => Ok(ChangeEvent::ExpertReview { passed }),
        _ => Err(egov_platform::error::FieldViolation::new(
            field,
            "CHANGE_REVIEW_STAGE_DEPARTMENTAL (部门初审) or CHANGE_REVIEW_STAGE_EXPERT (专家论证)",
        )),
    }
}

pub fn task(t: &Task) -> pb::Task {
    pb::Task {
        task_id: t.task_id.to_string(),
        case_id: t.case_id.to_string(),
        kind: t.kind.clone(),
        group_id: t.group_id.clone(),
        assignee_role: t.role.as_str().into(),
        assignee: t.assignee.clone().unwrap_or_default(),
        state: c::enum_to_proto("TASK_STATE_", t.state.as_str(), |n| pb::TaskState::from_str_name(n).map(|e| e as i32)),
        due_at: Some(c::timestamp(t.due_at)),
        overdue: t.overdue,
        completed_by: t.completed_by.clone(),
        comment: t.comment.clone(),
        etag: t.version.to_string(),
    }
}
