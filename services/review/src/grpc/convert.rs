//! Proto ⇄ domain for review: requests parsed into domain values (fields named as sent), and
//! answers built from the domain.

use egov_platform::{
    AppError,
    auth::Role,
    convert::{self as c, Fields},
    documents::{self, UploadPart},
    error::FieldViolation,
    idempotency,
    policy::Policy,
    request,
    values::Fen,
};
use egov_proto::review as pb;
use uuid::Uuid;

use crate::{
    app::{MaterialHeader, NewMeeting, Score},
    domain::{
        Approval, CaseDocument, ChangeRecord, Decision, ExpertConclusion, Opinion, RecheckConclusion, ReviewCase, Stage,
        case::ExpertVerdict,
        change::ChangeEvent,
        meeting::{Meeting, PoolExpert},
        panel::{Dimension, Expert, ExpertScore, MaterialKind},
        rules::{ApprovalInput, JointMeetingInput, RecheckInput},
        workflow::{Task, TaskState},
    },
};

// ---------------------------------------------------------------- requests

/// A role filter: empty for none.
pub fn role(field: &str, raw: &str) -> Result<Option<Role>, FieldViolation> {
    if raw.is_empty() {
        return Ok(None);
    }
    Role::parse(raw).map(Some).ok_or_else(|| FieldViolation::new(field, format!("{} is not a role", request::bounded(raw))))
}

/// A participant's scores on the scoring sheet (checked against the sheet by the domain).
pub fn criterion_scores(f: &mut Fields, scores: &[pb::CriterionScore]) -> Vec<(String, u32)> {
    let mut out = Vec::with_capacity(scores.len());
    for (i, s) in scores.iter().enumerate() {
        if s.score < 0 {
            f.push(format!("scores[{i}].score"), "scored 0..100");
        }
        out.push((s.code.trim().to_string(), s.score.max(0) as u32));
    }
    out
}

/// What the approval document fixes (R-R4).
pub fn approval_input(f: &mut Fields, r: &pb::IssueApprovalRequest) -> Option<ApprovalInput> {
    let issued_on = f.take(c::date("issued_on", r.issued_on.as_ref()));
    let budget = f.take(Fen::field("budget_fen", r.budget_fen));
    Some(ApprovalInput {
        document_number: r.document_number.clone(),
        issued_on: issued_on?,
        budget_fen: budget?,
        scope: r.scope.clone(),
        planned_construction_months: r.planned_construction_months,
    })
}

/// DRB's re-check conclusion (R-R3).
pub fn recheck_input(f: &mut Fields, r: &pb::ConcludeRecheckRequest) -> Option<RecheckInput> {
    let amount = f.take(Fen::field("amount_fen", r.amount_fen));
    Some(RecheckInput {
        passed: r.passed,
        comment: r.comment.clone(),
        priority_rank: r.priority_rank,
        fiscal_year: r.fiscal_year,
        amount_fen: amount?.get(),
    })
}

/// The joint meeting's outcome (R-R4).
pub fn joint_meeting_input(f: &mut Fields, r: &pb::RecordJointMeetingRequest) -> Option<JointMeetingInput> {
    let held_on = f.take(c::date("held_on", r.held_on.as_ref()));
    Some(JointMeetingInput { passed: r.passed, meeting_ref: r.meeting_ref.clone(), held_on: held_on?, comment: r.comment.clone() })
}

/// The scoring sheet of a policy version.
pub fn scoring_sheet(policy: &Policy) -> pb::ScoringSheet {
    pb::ScoringSheet {
        policy_version: policy.version.clone(),
        criteria: policy
            .preliminary_scoring_sheet
            .iter()
            .map(|c| pb::Criterion { code: c.code.clone(), title: c.title.clone(), weight: c.weight as i32 })
            .collect(),
        pass_score: policy.preliminary_pass_score as i32,
    }
}

/// A new expert of the pool, with the request id.
pub fn new_expert(r: pb::CreateExpertRequest) -> Result<(String, Expert), AppError> {
    let mut f = Fields::new();
    let request_id = f.take(idempotency::request_id("request_id", &r.request_id)).unwrap_or_default();
    let id = r.expert_id.trim().to_string();
    if id.len() < 2 || id.len() > 64 || !id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
        f.push("expert_id", "2 to 64 letters, digits, '-' or '_'");
    }
    f.required("name", &r.name);
    f.required("affiliation", &r.affiliation);
    if r.specialties.iter().all(|s| s.trim().is_empty()) {
        f.push("specialties", "at least one specialty");
    }
    f.finish()?;
    let e = Expert {
        expert_id: id,
        name: r.name.trim().into(),
        specialties: r.specialties.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        affiliation: r.affiliation.trim().into(),
        available: true,
    };
    Ok((request_id, e))
}

/// A new meeting: its date (today when none), and the panel's specialties.
pub fn new_meeting(r: pb::CreateMeetingRequest) -> Result<NewMeeting, AppError> {
    let mut f = Fields::new();
    let request_id = f.take(idempotency::request_id("request_id", &r.request_id)).unwrap_or_default();
    let held_on = f.take(c::date("held_on", r.held_on.as_ref()));
    if r.specialties.is_empty() {
        f.push("specialties", "the panel's specialties and how many experts of each");
    }
    for (i, s) in r.specialties.iter().enumerate() {
        if s.specialty.trim().is_empty() {
            f.push(format!("specialties[{i}].specialty"), "required");
        }
        if !(1..=15).contains(&s.count) {
            f.push(format!("specialties[{i}].count"), "1 to 15 experts");
        }
    }
    f.finish()?;
    let specialties = r.specialties.iter().map(|s| (s.specialty.trim().to_string(), s.count as u32)).collect();
    Ok(NewMeeting { request_id, held_on, specialties })
}

/// An expert's score sheet; the expert is the token's subject.
pub fn score(r: pb::SubmitExpertScoreRequest, expert_id: &str) -> Result<Score, AppError> {
    let mut f = Fields::new();
    let meeting_id = f.take(request::id("meeting_id", &r.meeting_id));
    let case_id = f.take(request::id("case_id", &r.case_id));
    let mut scores = Vec::new();
    for (i, s) in r.scores.iter().enumerate() {
        match Dimension::parse(s.dimension.trim()) {
            Some(d) if s.score >= 0 => scores.push((d, s.score as u32)),
            Some(_) => f.push(format!("scores[{i}]"), "scored 0..=100"),
            None => {
                f.push(format!("scores[{i}].dimension"), format!("{} is not a dimension of expert review", request::bounded(&s.dimension)))
            }
        }
    }
    f.finish()?;
    let sheet = ExpertScore { expert_id: expert_id.to_string(), scores, opinion: r.opinion.trim().into() };
    Ok(Score { meeting_id: meeting_id.unwrap_or_default(), case_id: case_id.unwrap_or_default(), request_id: r.request_id, sheet })
}

/// The panel's conclusion as DRB or FINANCE records it.
pub fn verdict(f: &mut Fields, r: &pb::ConcludeExpertReviewRequest) -> Option<ExpertVerdict> {
    if r.opinion.trim().is_empty() {
        f.push("opinion", "the panel's opinion (专家组意见)");
    }
    // Zero passes here and is refused with the domain's range (1 to the budget applied for).
    let recommended = f.take(Fen::field("recommended_budget_fen", r.recommended_budget_fen));
    Some(ExpertVerdict { passed: r.passed, recommended_budget: recommended?, opinion: r.opinion.clone() })
}

/// An upload message taken apart (`oneof part { header; chunk; }`).
pub fn upload_part(m: pb::UploadMaterialRequest) -> Option<UploadPart<pb::MaterialHeader>> {
    match m.part? {
        pb::upload_material_request::Part::Header(h) => Some(UploadPart::Header(h)),
        pb::upload_material_request::Part::Chunk(b) => Some(UploadPart::Chunk(b)),
    }
}

fn material_kind(raw: i32) -> Result<MaterialKind, FieldViolation> {
    c::enum_from_proto(
        "header.kind",
        raw,
        |i| pb::MaterialKind::try_from(i).ok().map(|e| e.as_str_name()),
        "MATERIAL_KIND_",
        MaterialKind::parse,
    )?
    .ok_or_else(|| FieldViolation::new("header.kind", "required (UNSPECIFIED is not a value)"))
}

/// An upload's header, parsed.
pub fn material_header(h: pb::MaterialHeader) -> Result<MaterialHeader, AppError> {
    let mut f = Fields::new();
    let request_id = f.take(idempotency::request_id("header.request_id", &h.request_id)).unwrap_or_default();
    let case_id = f.take(request::id("header.case_id", &h.case_id));
    let kind = f.take(material_kind(h.kind));
    let file_name = f.take(documents::file_name("header.file_name", &h.file_name)).unwrap_or_default();
    f.finish()?;
    Ok(MaterialHeader { request_id, case_id: case_id.unwrap_or_default(), kind: kind.unwrap_or(MaterialKind::Presentation), file_name })
}

// ---------------------------------------------------------------- answers

pub fn expert(e: &PoolExpert) -> pb::Expert {
    expert_of(&e.expert, e.version)
}

fn expert_of(e: &Expert, version: i64) -> pb::Expert {
    pb::Expert {
        expert_id: e.expert_id.clone(),
        name: e.name.clone(),
        specialties: e.specialties.clone(),
        affiliation: e.affiliation.clone(),
        available: e.available,
        etag: version.to_string(),
    }
}

pub fn meeting(m: &Meeting) -> pb::Meeting {
    pb::Meeting {
        meeting_id: m.meeting_id.to_string(),
        held_on: Some(c::civil(m.held_on)),
        specialties: m.specialties.iter().map(|(s, n)| pb::SpecialtyNeed { specialty: s.clone(), count: *n as i32 }).collect(),
        case_ids: m.case_ids.iter().map(Uuid::to_string).collect(),
        state: if m.panel.is_empty() { pb::MeetingState::Planned as i32 } else { pb::MeetingState::PanelDrawn as i32 },
        seed: m.seed.unwrap_or(0),
        panel: m.panel.iter().map(|e| expert_of(e, 0)).collect(),
        scores: m
            .scores
            .iter()
            .map(|(case, s)| pb::ExpertScoreSheet {
                expert_id: s.expert_id.clone(),
                case_id: case.to_string(),
                scores: s.scores.iter().map(|(d, v)| pb::DimensionScore { dimension: d.as_str().into(), score: *v as i32 }).collect(),
                opinion: s.opinion.clone(),
            })
            .collect(),
        etag: m.version.to_string(),
    }
}

pub fn material(case_id: Uuid, d: &CaseDocument) -> pb::CaseMaterial {
    pb::CaseMaterial {
        document_id: d.document_id.to_string(),
        case_id: case_id.to_string(),
        kind: MaterialKind::parse(&d.kind)
            .map(|k| c::enum_to_proto("MATERIAL_KIND_", k.as_str(), |n| pb::MaterialKind::from_str_name(n).map(|e| e as i32)))
            .unwrap_or(0),
        file_name: d.file_name.clone(),
        size_bytes: d.size_bytes,
        sha256: d.sha256.clone(),
        sm3: d.sm3.clone(),
        uploaded_by: d.uploaded_by.clone(),
        uploaded_at: Some(c::timestamp(d.uploaded_at)),
    }
}

pub fn expert_opinion(k: &ReviewCase, x: &ExpertConclusion) -> pb::ExpertOpinion {
    pb::ExpertOpinion {
        project_id: k.case_id.to_string(),
        meeting_id: k.expert.meeting_id.map(|m| m.to_string()).unwrap_or_default(),
        passed: x.passed,
        recommended_budget_fen: x.recommended_budget_fen,
        opinion: x.opinion.clone(),
        mean_scores_centi: x.mean_scores.iter().map(|(d, v)| pb::DimensionScore { dimension: d.clone(), score: *v as i32 }).collect(),
        experts: x.experts.clone(),
        concluded_at: Some(c::timestamp(x.concluded_at)),
    }
}

// ---------------------------------------------------------------- cases

pub fn stage_to_proto(s: Stage) -> i32 {
    c::enum_to_proto("CASE_STAGE_", s.as_str(), |n| pb::CaseStage::from_str_name(n).map(|e| e as i32))
}

pub fn stage_from_proto(field: &str, raw: i32) -> Result<Option<Stage>, FieldViolation> {
    c::enum_from_proto(field, raw, |i| pb::CaseStage::try_from(i).ok().map(|e| e.as_str_name()), "CASE_STAGE_", Stage::parse)
}

pub fn task_state_from_proto(field: &str, raw: i32) -> Result<Option<TaskState>, FieldViolation> {
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
        budget_fen: a.budget_fen.get(),
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
        old_budget_fen: x.old_budget_fen.get(),
        new_budget_fen: x.new_budget_fen.get(),
        route: c::enum_to_proto("CHANGE_ROUTE_", &x.route, |n| pb::ChangeRoute::from_str_name(n).map(|e| e as i32)),
        state: c::enum_to_proto("CHANGE_STATE_", &x.state, |n| pb::ChangeState::from_str_name(n).map(|e| e as i32)),
        reason: x.reason.clone(),
        requested_by: x.requested_by.clone(),
        requested_at: Some(c::timestamp(x.requested_at)),
    }
}

/// DEPARTMENTAL / EXPERT of `DecideChange` as the change's event.
pub fn change_event(field: &str, raw: i32, passed: bool) -> Result<ChangeEvent, FieldViolation> {
    match pb::ChangeReviewStage::try_from(raw) {
        Ok(pb::ChangeReviewStage::Departmental) => Ok(ChangeEvent::DepartmentalReview { passed }),
        Ok(pb::ChangeReviewStage::Expert) => Ok(ChangeEvent::ExpertReview { passed }),
        _ => Err(FieldViolation::new(field, "CHANGE_REVIEW_STAGE_DEPARTMENTAL (部门初审) or CHANGE_REVIEW_STAGE_EXPERT (专家论证)")),
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
