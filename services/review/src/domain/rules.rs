//! Review's rules over a case: opening it (R-R5 fast track), the preliminary review (R-R1),
//! returning and resubmitting, withdrawal, the re-check and its funding arrangement (R-R3), the
//! joint meeting and the approval document (R-R4), recording secured funds (R-R6, over
//! [`super::validity`]) and changes of an approved project (R-R7, over [`super::change`]).

use std::collections::BTreeSet;

use egov_platform::{
    auth::Role,
    error::{FieldViolation, Refusal},
    policy::{Policy, ScoringCriterion},
    values::Fen,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    change::{ChangeEvent, ChangeRoute, ChangeState, classify},
    model::*,
};

/// Where a case stands, in words, for refusals.
pub fn stage_words(stage: Stage) -> &'static str {
    match stage {
        Stage::PreliminaryReview => "in preliminary review (初审)",
        Stage::ExpertReview => "in expert review (专家评审)",
        Stage::ReCheck => "in re-check (复核审查)",
        Stage::JointMeeting => "awaiting the joint meeting (联席会议)",
        Stage::Approval => "awaiting its approval document (立项审批)",
        Stage::Approved => "approved (已立项)",
        Stage::Returned => "returned to the unit for revision (退回修改)",
        Stage::Ended => "ended (申报结束)",
        Stage::Cancelled => "cancelled (取消立项)",
        Stage::Terminated => "revoked or terminated (撤销/终止)",
    }
}

/// The rule that governs where the case stands: what a step taken out of order names (R-X5).
pub fn stage_rule(case: &ReviewCase) -> &'static str {
    let of = |stage: Stage| match stage {
        Stage::PreliminaryReview => "R-R1",
        Stage::ExpertReview => "R-R2",
        Stage::ReCheck => "R-R3",
        Stage::Approval if case.fast_track => "R-R5",
        Stage::JointMeeting | Stage::Approval | Stage::Approved => "R-R4",
        Stage::Terminated => "R-P10",
        Stage::Cancelled => {
            if case.approval.as_ref().is_some_and(|a| a.cancelled_under == "R-R6") {
                "R-R6"
            } else {
                "R-P1"
            }
        }
        // Ended where its review stopped; returned to the stage it left (below).
        Stage::Ended | Stage::Returned => {
            if case.joint_meeting.is_some() {
                "R-R4"
            } else if case.recheck.is_some() {
                "R-R3"
            } else if case.expert.conclusion.is_some() {
                "R-R2"
            } else {
                "R-R1"
            }
        }
    };
    match (case.stage, case.returned_from) {
        (Stage::Returned, Some(from)) => of(from),
        (stage, _) => of(stage),
    }
}

/// Refuses a step out of order under `rule`, saying what has to happen first.
pub fn out_of_order(rule: &str, what: impl Into<String>) -> Refusal {
    Refusal::rule(rule, "stage", what)
}

/// Refused under `rule` unless the case is in `stage`: `what` happens there.
fn in_stage(case: &ReviewCase, stage: Stage, rule: &str, what: &str) -> Result<(), Refusal> {
    if case.stage != stage {
        return Err(out_of_order(
            rule,
            format!("{what} is given while the case is {}; this case is {}", stage_words(stage), stage_words(case.stage)),
        ));
    }
    Ok(())
}

/// Grounds that put a case on the fast track (R-R5): principal-leader agreement (minutes were
/// checked by intake) or funding wholly outside district fiscal money.
pub const FAST_TRACK_GROUNDS: [&str; 2] = ["PRINCIPAL_LEADER_AGREED", "NON_DISTRICT_FUNDING"];

/// R-R1: DRC, FINANCE, CAC and XINCHUANG always; GRASSROOTS when the app reaches streets.
pub fn required_participants(reaches_streets: bool) -> Vec<Role> {
    let mut r = vec![Role::Drc, Role::Finance, Role::Cac, Role::Xinchuang];
    if reaches_streets {
        r.push(Role::Grassroots);
    }
    r
}

/// Opens the case for a project that passed compliance.
pub fn open_case(
    case_id: Uuid,
    dossier: Dossier,
    unit_record: Vec<UnitRecordEntry>,
    policy_version: String,
    now: OffsetDateTime,
) -> ReviewCase {
    let fast_track = dossier.fast_track_grounds.iter().any(|g| FAST_TRACK_GROUNDS.contains(&g.as_str()));
    let required = if fast_track { vec![] } else { required_participants(dossier.reaches_streets) };
    ReviewCase {
        case_id,
        stage: if fast_track { Stage::Approval } else { Stage::PreliminaryReview },
        returned_from: None,
        fast_track,
        unit_record,
        required_participants: required.iter().map(|r| r.as_str().to_string()).collect(),
        opinions: vec![],
        preliminary: None,
        expert: ExpertStage::default(),
        recheck_opinions: vec![],
        recheck: None,
        joint_meeting: None,
        changes: vec![],
        procurement_completed: false,
        approval: None,
        end_reason: String::new(),
        policy_version,
        version: 1,
        opened_at: now,
        dossier,
        tasks: vec![],
        tasks_as_loaded: vec![],
    }
}

/// The weighted score (hundredths) of a complete scoring sheet; field errors name `scores[i]`.
pub fn weighted_score(sheet: &[ScoringCriterion], scores: &[(String, u32)]) -> Result<u32, Refusal> {
    let mut fields = Vec::new();
    let mut seen = BTreeSet::new();
    let mut total = 0u32;
    for (i, (code, score)) in scores.iter().enumerate() {
        match sheet.iter().find(|c| &c.code == code) {
            None => {
                fields.push(FieldViolation::new(format!("scores[{i}].code"), format!("{code:?} is not a criterion of the scoring sheet")))
            }
            Some(_) if !seen.insert(code.as_str()) => {
                fields.push(FieldViolation::new(format!("scores[{i}].code"), format!("{code:?} is scored twice")))
            }
            Some(c) if *score > 100 => {
                fields.push(FieldViolation::new(format!("scores[{i}].score"), format!("{} is scored 0..100", c.code)))
            }
            Some(c) => total += score * c.weight,
        }
    }
    for c in sheet {
        if !seen.contains(c.code.as_str()) {
            fields.push(FieldViolation::new("scores", format!("criterion {} ({}) is not scored", c.code, c.title)));
        }
    }
    if fields.is_empty() { Ok(total) } else { Err(Refusal::Fields(fields)) }
}

/// A participant's opinion on the preliminary review. (Who may act on a task is checked before:
/// only a required participant has one.)
pub fn check_opinion(case: &ReviewCase, role: Role, opinion: &str) -> Result<(), Refusal> {
    in_stage(case, Stage::PreliminaryReview, "R-R1", "a preliminary opinion")?;
    if !case.required_participants.iter().any(|r| r == role.as_str()) {
        return Err(Refusal::rule("R-R1", "role", format!("{role} does not take part in this preliminary review")));
    }
    if case.opinions.iter().any(|o| o.role == role.as_str()) {
        return Err(Refusal::rule("R-R1", "opinions", format!("{role} has already given its opinion: each participant gives one")));
    }
    if opinion.trim().chars().count() < 2 {
        return Err(Refusal::field("opinion", "each participant states its opinion (意见)"));
    }
    Ok(())
}

/// DRB decides only when every required participant has scored (R-R1); the aggregate is the
/// mean of their weighted scores.
pub fn decide_preliminary(case: &ReviewCase) -> Result<u32, Refusal> {
    in_stage(case, Stage::PreliminaryReview, "R-R1", "the preliminary decision")?;
    let missing: Vec<&str> =
        case.required_participants.iter().filter(|r| !case.opinions.iter().any(|o| &o.role == *r)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(Refusal::rule(
            "R-R1",
            "opinions",
            format!("DRB decides when every participant has scored (初审单位均已评分); waiting for {}", missing.join(", ")),
        ));
    }
    let n = case.opinions.len() as u32;
    Ok(case.opinions.iter().map(|o| o.weighted_centi).sum::<u32>() / n.max(1))
}

/// 退回: back to the unit for revision from a reviewing stage.
pub fn return_for_revision(case: &ReviewCase) -> Result<(), Refusal> {
    match case.stage {
        Stage::PreliminaryReview | Stage::ExpertReview | Stage::ReCheck => Ok(()),
        s => Err(out_of_order(
            stage_rule(case),
            format!(
                "a case is returned for revision while it is being reviewed (preliminary review, expert review or re-check); \
                 this case is {}",
                stage_words(s)
            ),
        )),
    }
}

/// The unit resubmits a returned case: it goes back to the stage it left, reviewed afresh.
pub fn resubmit(case: &ReviewCase) -> Result<Stage, Refusal> {
    if case.stage != Stage::Returned {
        return Err(out_of_order(
            stage_rule(case),
            format!("a case is resubmitted after DRB returned it for revision (退回修改); this case is {}", stage_words(case.stage)),
        ));
    }
    Ok(case.returned_from.unwrap_or(Stage::PreliminaryReview))
}

/// The unit withdraws its application.
pub fn withdraw(case: &ReviewCase) -> Result<(), Refusal> {
    if case.stage.is_terminal() || case.stage == Stage::Approved {
        return Err(out_of_order(
            stage_rule(case),
            format!("an application is withdrawn before its approval document is issued; this case is {}", stage_words(case.stage)),
        ));
    }
    Ok(())
}

/// What the approval document fixes (R-R4), issued by DRB, DRC and FINANCE.
pub struct ApprovalInput {
    pub document_number: String,
    pub issued_on: Date,
    pub budget_fen: Fen,
    pub scope: String,
    pub planned_construction_months: i32,
}

pub const ISSUERS: [&str; 3] = ["DRB", "DRC", "FINANCE"];

pub fn issue_approval(case: &ReviewCase, input: &ApprovalInput, today: Date, policy: &Policy) -> Result<Approval, Refusal> {
    if case.stage != Stage::Approval {
        return Err(out_of_order(
            "R-R4",
            format!(
                "the approval document is issued after the joint meeting, or directly on the fast track (R-R5); this case is {}",
                stage_words(case.stage)
            ),
        ));
    }
    let budget = input.budget_fen.get();
    let mut f = Vec::new();
    if input.document_number.trim().is_empty() || input.document_number.chars().count() > 64 {
        f.push(FieldViolation::new("document_number", "the document number (文号), e.g. 上数〔2027〕12号"));
    }
    if input.issued_on > today {
        f.push(FieldViolation::new("issued_on", "an approval is not dated in the future"));
    }
    match case.recheck.as_ref().filter(|r| r.passed) {
        // R-R3: after a re-check, the approval stays within the funding arrangement.
        Some(r) => {
            let limit = r.amount_fen.min(case.dossier.total_budget_fen);
            if budget <= 0 || budget > limit {
                f.push(FieldViolation::new(
                    "budget_fen",
                    format!("the approved budget is 1 to {limit} fen (the re-check's funding arrangement, R-R3)"),
                ));
            }
        }
        None => {
            if budget <= 0 || budget > case.dossier.total_budget_fen {
                f.push(FieldViolation::new(
                    "budget_fen",
                    format!("the approved budget is 1 to {} fen (the budget applied for)", case.dossier.total_budget_fen),
                ));
            }
        }
    }
    if input.scope.trim().is_empty() {
        f.push(FieldViolation::new("scope", "the approved scope (建设内容) is fixed by the document"));
    }
    if input.planned_construction_months <= 0 || input.planned_construction_months > 120 {
        f.push(FieldViolation::new("planned_construction_months", "1 to 120 months"));
    }
    if !f.is_empty() {
        return Err(Refusal::Fields(f));
    }
    Ok(Approval {
        document_number: input.document_number.trim().to_string(),
        issued_on: input.issued_on,
        issuers: ISSUERS.iter().map(|s| s.to_string()).collect(),
        project_name: case.dossier.project_name.clone(),
        budget_fen: input.budget_fen,
        funding_source: case.dossier.funding_source.clone(),
        scope: input.scope.trim().to_string(),
        planned_construction_months: input.planned_construction_months,
        fast_track: case.fast_track,
        valid_until: super::validity::valid_until(input.issued_on, &case.dossier.funding_source, policy),
        funds_secured: false,
        cancelled: false,
        cancel_reason: String::new(),
        cancelled_under: String::new(),
        policy_version: policy.version.clone(),
    })
}

// ---------------------------------------------------------------- re-check (R-R3)

/// R-R3: the re-check participants, each with a "recheck.opinion" task.
pub const RECHECK_PARTICIPANTS: [Role; 3] = [Role::Drb, Role::Drc, Role::Finance];

/// A participant's re-check opinion (复核意见).
pub fn check_recheck_opinion(case: &ReviewCase, role: Role, opinion: &str) -> Result<(), Refusal> {
    in_stage(case, Stage::ReCheck, "R-R3", "a re-check opinion")?;
    if !RECHECK_PARTICIPANTS.contains(&role) {
        return Err(Refusal::rule("R-R3", "role", format!("{role} does not take part in the re-check (DRB, DRC, FINANCE)")));
    }
    if case.recheck_opinions.iter().any(|o| o.role == role.as_str()) {
        return Err(Refusal::rule("R-R3", "opinions", format!("{role} has already given its re-check opinion: each gives one")));
    }
    if opinion.trim().chars().count() < 2 {
        return Err(Refusal::field("opinion", "each participant states its re-check opinion against the expert opinion (复核意见)"));
    }
    Ok(())
}

/// DRB's re-check conclusion as asked.
pub struct RecheckInput {
    pub passed: bool,
    pub comment: String,
    pub priority_rank: i32,
    pub fiscal_year: i32,
    pub amount_fen: i64,
}

/// The most a re-check may arrange: the expert panel's recommended budget (R-R2), or the
/// budget applied for when the case carries no recommendation.
pub fn recheck_limit_fen(case: &ReviewCase) -> i64 {
    match &case.expert.conclusion {
        Some(c) if c.recommended_budget_fen > 0 => c.recommended_budget_fen,
        _ => case.dossier.total_budget_fen,
    }
}

/// How many fiscal years ahead a funding arrangement may be made.
pub const FISCAL_YEARS_AHEAD: i32 = 5;

/// DRB concludes the re-check (R-R3) once DRB, DRC and FINANCE have all given their opinions
/// and the "recheck" task group is complete (`done` of `total` live tasks). A pass carries the
/// funding arrangement: a priority rank (1 = first), a fiscal year from this year to
/// [`FISCAL_YEARS_AHEAD`] years on, and an amount within [`recheck_limit_fen`].
pub fn conclude_recheck(
    case: &ReviewCase,
    input: &RecheckInput,
    (done, total): (usize, usize),
    decided_by: &str,
    now: OffsetDateTime,
) -> Result<RecheckConclusion, Refusal> {
    in_stage(case, Stage::ReCheck, "R-R3", "the re-check conclusion")?;
    let missing: Vec<&str> =
        RECHECK_PARTICIPANTS.iter().map(|r| r.as_str()).filter(|r| !case.recheck_opinions.iter().any(|o| o.role == *r)).collect();
    if !missing.is_empty() {
        return Err(Refusal::rule(
            "R-R3",
            "opinions",
            format!(
                "复核审查 / re-check: DRB concludes when DRB, DRC and FINANCE have all given their opinions (复核单位均已出具意见); \
                 waiting for {}",
                missing.join(", ")
            ),
        ));
    }
    if !super::workflow::Completion::All.satisfied(done, total) {
        return Err(Refusal::rule("R-R3", "tasks", format!("复核审查 / re-check: {done} of {total} re-check tasks are done")));
    }
    let mut f = Vec::new();
    if input.comment.trim().is_empty() {
        f.push(FieldViolation::new("comment", "the conclusion states its reasons against the expert opinion (复核结论)"));
    }
    if input.passed {
        if input.priority_rank < 1 {
            f.push(FieldViolation::new("priority_rank", "the funding arrangement's priority: 1 (first) or more"));
        }
        let year = egov_platform::clock::civil_date(now).year();
        if input.fiscal_year < year || input.fiscal_year > year + FISCAL_YEARS_AHEAD {
            f.push(FieldViolation::new(
                "fiscal_year",
                format!("the fiscal year the funds are arranged in: {year} to {}", year + FISCAL_YEARS_AHEAD),
            ));
        }
        let limit = recheck_limit_fen(case);
        if input.amount_fen <= 0 || input.amount_fen > limit {
            f.push(FieldViolation::new(
                "amount_fen",
                format!("the amount arranged is 1 to {limit} fen (at most the expert panel's recommended budget, R-R2/R-R3)"),
            ));
        }
    }
    if !f.is_empty() {
        return Err(Refusal::Fields(f));
    }
    let arrangement = if input.passed { (input.priority_rank as u32, input.fiscal_year, input.amount_fen) } else { (0, 0, 0) };
    Ok(RecheckConclusion {
        passed: input.passed,
        comment: input.comment.trim().to_string(),
        priority_rank: arrangement.0,
        fiscal_year: arrangement.1,
        amount_fen: arrangement.2,
        decided_by: decided_by.to_string(),
        decided_at: now,
    })
}

// ---------------------------------------------------------------- joint meeting (R-R4)

/// The joint meeting's outcome as recorded by DRB.
pub struct JointMeetingInput {
    pub passed: bool,
    pub meeting_ref: String,
    pub held_on: Date,
    pub comment: String,
}

/// R-R4: a re-checked project goes to the district joint meeting on planning, land and
/// digital management. The meeting is dated neither in the future nor before the re-check.
pub fn record_joint_meeting(
    case: &ReviewCase,
    input: &JointMeetingInput,
    today: Date,
    recorded_by: &str,
) -> Result<JointMeetingOutcome, Refusal> {
    let rechecked = case.recheck.as_ref().filter(|r| r.passed);
    let Some(recheck) = rechecked.filter(|_| case.stage == Stage::JointMeeting) else {
        return Err(out_of_order(
            "R-R4",
            format!(
                "联席会议 / joint meeting: only a re-checked project (复核通过) goes to the joint meeting; this case is {}",
                stage_words(case.stage)
            ),
        ));
    };
    let mut f = Vec::new();
    if input.meeting_ref.trim().is_empty() || input.meeting_ref.chars().count() > 128 {
        f.push(FieldViolation::new(
            "meeting_ref",
            "the meeting's reference, e.g. 2026年第3次规划土地数字管理联席会议 (at most 128 characters)",
        ));
    }
    let rechecked_on = egov_platform::clock::civil_date(recheck.decided_at);
    if input.held_on > today {
        f.push(FieldViolation::new("held_on", "a meeting is recorded once held: not dated in the future"));
    } else if input.held_on < rechecked_on {
        f.push(FieldViolation::new("held_on", format!("the joint meeting follows the re-check of {rechecked_on}")));
    }
    if !input.passed && input.comment.trim().is_empty() {
        f.push(FieldViolation::new("comment", "a meeting that does not pass the project states why"));
    }
    if !f.is_empty() {
        return Err(Refusal::Fields(f));
    }
    Ok(JointMeetingOutcome {
        passed: input.passed,
        meeting_ref: input.meeting_ref.trim().to_string(),
        held_on: input.held_on,
        comment: input.comment.trim().to_string(),
        recorded_by: recorded_by.to_string(),
    })
}

// ---------------------------------------------------------------- funds secured (R-R6)

/// R-R6: recording that an outside-funded approval's funds were secured. The validity comes
/// first (so a late record is refused under R-R6 whether or not the cancellation timer has
/// already fired), then the approval must still be in force and not yet recorded.
pub fn check_funds_secured(case: &ReviewCase, today: Date, evidence_document_ids: &[String]) -> Result<(), Refusal> {
    let Some(a) = &case.approval else {
        return Err(out_of_order(
            "R-R6",
            format!(
                "立项文件有效期 / approval validity: funds are recorded against an approval document; this case has none yet, it is {}",
                stage_words(case.stage)
            ),
        ));
    };
    super::validity::record_funds_secured(a.valid_until, today, evidence_document_ids)?;
    if a.cancelled || case.stage != Stage::Approved {
        return Err(out_of_order(
            stage_rule(case),
            format!("funds are recorded while the approval is in force; this case is {}", stage_words(case.stage)),
        ));
    }
    if a.funds_secured {
        return Err(Refusal::rule("R-R6", "funding", "the funds of this approval are already recorded as secured: once is enough"));
    }
    Ok(())
}

// ---------------------------------------------------------------- changes (R-R7)

/// R-R7: the route of a budget change the lead unit asks for, on an approval in force, one
/// change at a time, with its argument (变更论证).
pub fn request_change(case: &ReviewCase, new_budget: Fen, reason: &str, policy: &Policy) -> Result<ChangeRoute, Refusal> {
    let Some(a) = case.approval.as_ref().filter(|a| !a.cancelled && case.stage == Stage::Approved) else {
        return Err(out_of_order(
            "R-R7",
            format!("变更 / change: a change is made to an approved project (立项后); this case is {}", stage_words(case.stage)),
        ));
    };
    if let Some(open) = case.changes.iter().find(|c| ChangeState::parse(&c.state).is_some_and(|s| !s.is_terminal())) {
        return Err(out_of_order(
            "R-R7",
            format!("变更 / change: change {} is still {}; one change at a time, so it is decided first", open.change_id, open.state),
        ));
    }
    let route = classify(a.budget_fen, new_budget, case.procurement_completed, policy)?;
    if reason.trim().chars().count() < 2 {
        return Err(Refusal::field("reason", "the unit argues the change (变更论证)"));
    }
    Ok(route)
}

/// DRB's review of a change request: which change, and the state it moves to. On
/// `ChangeState::Approved` the caller adjusts the approved budget.
pub fn decide_change(case: &ReviewCase, change_id: Uuid, event: ChangeEvent) -> Result<(usize, ChangeState), Refusal> {
    if case.procurement_completed {
        return Err(Refusal::rule(
            "R-R7",
            "procurement",
            "变更 / change: the main content can only be changed before procurement completes (采购前); procurement has completed",
        ));
    }
    if case.stage != Stage::Approved || case.approval.as_ref().is_none_or(|a| a.cancelled) {
        return Err(out_of_order(
            "R-R7",
            format!("变更 / change: changes are decided while the approval is in force; this case is {}", stage_words(case.stage)),
        ));
    }
    let Some(i) = case.changes.iter().position(|c| c.change_id == change_id) else {
        return Err(Refusal::field("change_id", format!("no change {change_id} on this case")));
    };
    let c = &case.changes[i];
    let Some(state) = ChangeState::parse(&c.state) else {
        return Err(out_of_order("R-R7", format!("change {change_id} is in a state this service does not know ({})", c.state)));
    };
    let next = super::change::next(state, event)?;
    if next == ChangeState::Approved && case.approval.as_ref().is_some_and(|a| a.budget_fen != c.old_budget_fen) {
        return Err(out_of_order(
            "R-R7",
            format!(
                "变更 / change: the approved budget is no longer the {} fen this change was requested against (another change \
                 adjusted it first); request the change again",
                c.old_budget_fen.get()
            ),
        ));
    }
    Ok((i, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_platform::policy::PolicyBook;
    use time::macros::{date, datetime};

    fn fen(v: i64) -> Fen {
        Fen::new(v).unwrap()
    }

    /// The rule ids of a refusal (out-of-order steps name the rule whose order they break).
    fn rules_of<T: std::fmt::Debug>(r: Result<T, Refusal>) -> Vec<String> {
        r.unwrap_err().rule_ids().into_iter().map(String::from).collect()
    }

    fn policy() -> std::sync::Arc<Policy> {
        PolicyBook::load("").unwrap().in_force(date!(2026 - 06 - 01))
    }

    fn dossier() -> Dossier {
        Dossier {
            project_name: "社会救助一件事".into(),
            lead_unit_id: "U-CIVIL".into(),
            total_budget_fen: 10_000_000,
            funding_source: "DISTRICT_FISCAL".into(),
            ..Default::default()
        }
    }

    fn case(d: Dossier) -> ReviewCase {
        open_case(Uuid::now_v7(), d, vec![], policy().version.clone(), datetime!(2026-03-02 02:00 UTC))
    }

    fn opinion(role: Role, centi: u32) -> Opinion {
        Opinion {
            role: role.as_str().into(),
            subject: "x".into(),
            scores: vec![],
            weighted_centi: centi,
            passed: true,
            opinion: "同意".into(),
            at: datetime!(2026-03-03 02:00 UTC),
        }
    }

    #[test]
    fn r_r1_participants_grassroots_only_when_reaching_streets() {
        let c = case(dossier());
        assert_eq!(c.stage, Stage::PreliminaryReview);
        assert_eq!(c.required_participants, vec!["DRC", "FINANCE", "CAC", "XINCHUANG"]);
        let mut d = dossier();
        d.reaches_streets = true;
        assert_eq!(case(d).required_participants, vec!["DRC", "FINANCE", "CAC", "XINCHUANG", "GRASSROOTS"]);
        // Only a required participant has a task; were another to reach the rule, R-R1 refuses it.
        assert_eq!(rules_of(check_opinion(&c, Role::Grassroots, "同意")), vec!["R-R1"]);
    }

    #[test]
    fn r_r1_decision_waits_for_every_participant() {
        let mut c = case(dossier());
        for r in [Role::Drc, Role::Finance, Role::Cac] {
            check_opinion(&c, r, "同意").unwrap();
            c.opinions.push(opinion(r, 8000));
        }
        // One participant missing: refused with R-R1, naming it.
        let e = decide_preliminary(&c).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-R1"]);
        assert!(e.to_string().contains("XINCHUANG"));
        c.opinions.push(opinion(Role::Xinchuang, 6001));
        assert_eq!(decide_preliminary(&c).unwrap(), (3 * 8000 + 6001) / 4);
        assert_eq!(rules_of(check_opinion(&c, Role::Cac, "再次")), vec!["R-R1"]);
    }

    #[test]
    fn r_r1_scoring_sheet() {
        let p = policy();
        let sheet = &p.preliminary_scoring_sheet;
        let all: Vec<(String, u32)> = sheet.iter().map(|c| (c.code.clone(), 80)).collect();
        assert_eq!(weighted_score(sheet, &all).unwrap(), 8000);
        let mut mixed = all.clone();
        mixed[0].1 = 100; // NECESSITY weight 25
        assert_eq!(weighted_score(sheet, &mixed).unwrap(), 8000 + 20 * 25);
        let mut missing = all.clone();
        missing.pop();
        assert!(matches!(weighted_score(sheet, &missing), Err(Refusal::Fields(_))));
        let mut over = all.clone();
        over[1].1 = 101;
        let Err(Refusal::Fields(f)) = weighted_score(sheet, &over) else { panic!() };
        assert_eq!(f[0].field, "scores[1].score");
        let mut twice = all;
        twice.push(twice[0].clone());
        assert!(matches!(weighted_score(sheet, &twice), Err(Refusal::Fields(_))));
    }

    #[test]
    fn r_r5_fast_track_goes_straight_to_approval() {
        let mut d = dossier();
        d.fast_track_grounds = vec!["NON_DISTRICT_FUNDING".into()];
        d.funding_source = "SUPERIOR_TRANSFER".into();
        let c = case(d);
        assert!(c.fast_track);
        assert_eq!(c.stage, Stage::Approval);
        assert!(c.required_participants.is_empty());
        let a = issue_approval(
            &c,
            &ApprovalInput {
                document_number: "上数〔2027〕1号".into(),
                issued_on: date!(2026 - 03 - 05),
                budget_fen: fen(10_000_000),
                scope: "全部功能".into(),
                planned_construction_months: 12,
            },
            date!(2026 - 03 - 05),
            &policy(),
        )
        .unwrap();
        assert!(a.fast_track);
        assert_eq!(a.issuers, vec!["DRB", "DRC", "FINANCE"]);
        assert!(a.valid_until.is_some(), "outside funding: validity limited (R-R6)");
    }

    #[test]
    fn r_r4_approval_only_in_the_approval_stage_and_within_budget() {
        let c = case(dossier());
        let input = |budget| ApprovalInput {
            document_number: "上数〔2027〕2号".into(),
            issued_on: date!(2026 - 03 - 05),
            budget_fen: fen(budget),
            scope: "全部".into(),
            planned_construction_months: 12,
        };
        assert_eq!(issue_approval(&c, &input(1), date!(2026 - 03 - 05), &policy()).unwrap_err().rule_ids(), vec!["R-R4"]);
        let mut c = c;
        c.stage = Stage::Approval;
        assert!(matches!(issue_approval(&c, &input(10_000_001), date!(2026 - 03 - 05), &policy()), Err(Refusal::Fields(_))));
        let a = issue_approval(&c, &input(10_000_000), date!(2026 - 03 - 05), &policy()).unwrap();
        assert_eq!(a.valid_until, None, "district fiscal money: no validity limit");
        assert!(matches!(issue_approval(&c, &input(0), date!(2026 - 03 - 05), &policy()), Err(Refusal::Fields(_))));
        assert!(matches!(issue_approval(&c, &input(5), date!(2026 - 03 - 04), &policy()), Err(Refusal::Fields(_))), "dated in the future");
    }

    #[test]
    fn returns_resubmissions_withdrawals_and_cancellation() {
        let mut c = case(dossier());
        return_for_revision(&c).unwrap();
        c.returned_from = Some(c.stage);
        c.stage = Stage::Returned;
        assert_eq!(resubmit(&c).unwrap(), Stage::PreliminaryReview);
        assert!(return_for_revision(&c).is_err());
        withdraw(&c).unwrap();
        c.stage = Stage::Ended;
        assert!(withdraw(&c).is_err());
        let book = PolicyBook::load("").unwrap();
        let pinned = book.version(&c.policy_version).unwrap();
        let ctx = egov_platform::transition::Context::new(NOW, &pinned);
        assert!(super::super::case::cancel_approval(&c, super::super::case::Cancellation::ProcurementDeadlineMissed, ctx).is_none());
    }

    // ------------------------------------------------------------ R-R3, R-R4, R-R6, R-R7

    const NOW: OffsetDateTime = datetime!(2026-11-20 02:00 UTC);

    fn rechecking() -> ReviewCase {
        let mut c = case(dossier());
        c.stage = Stage::ReCheck;
        c.expert.conclusion = Some(ExpertConclusion {
            passed: true,
            recommended_budget_fen: 8_000_000,
            opinion: "同意".into(),
            mean_scores: vec![],
            experts: vec!["E1".into()],
            concluded_by: "drb".into(),
            concluded_at: datetime!(2026-11-10 02:00 UTC),
        });
        c.expert.revised_after_conclusion = true;
        c
    }

    fn recheck_input(passed: bool, amount_fen: i64) -> RecheckInput {
        RecheckInput { passed, comment: "符合专家意见".into(), priority_rank: 1, fiscal_year: 2027, amount_fen }
    }

    fn with_all_opinions(mut c: ReviewCase) -> ReviewCase {
        for r in RECHECK_PARTICIPANTS {
            c.recheck_opinions.push(opinion(r, 0));
        }
        c
    }

    fn field_names(e: Refusal) -> Vec<String> {
        match e {
            Refusal::Fields(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn r_r3_opinions_by_drb_drc_and_finance_once_each() {
        let mut c = rechecking();
        for r in RECHECK_PARTICIPANTS {
            check_recheck_opinion(&c, r, "同意").unwrap();
        }
        assert_eq!(rules_of(check_recheck_opinion(&c, Role::Cac, "同意")), vec!["R-R3"]);
        assert_eq!(field_names(check_recheck_opinion(&c, Role::Drc, " ").unwrap_err()), vec!["opinion"]);
        c.recheck_opinions.push(opinion(Role::Drc, 0));
        assert_eq!(rules_of(check_recheck_opinion(&c, Role::Drc, "再次")), vec!["R-R3"]);
        c.stage = Stage::ExpertReview;
        assert_eq!(rules_of(check_recheck_opinion(&c, Role::Drb, "同意")), vec!["R-R3"]);
    }

    #[test]
    fn r_r3_conclusion_waits_for_every_opinion_and_task() {
        let mut c = rechecking();
        c.recheck_opinions.push(opinion(Role::Drb, 0));
        c.recheck_opinions.push(opinion(Role::Drc, 0));
        let e = conclude_recheck(&c, &recheck_input(true, 1), (2, 3), "drb", NOW).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-R3"]);
        assert!(e.to_string().contains("FINANCE"), "{e}");
        c.recheck_opinions.push(opinion(Role::Finance, 0));
        let e = conclude_recheck(&c, &recheck_input(true, 1), (2, 3), "drb", NOW).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-R3"], "the task group must be complete too");
        assert_eq!(conclude_recheck(&c, &recheck_input(true, 1), (0, 0), "drb", NOW).unwrap_err().rule_ids(), vec!["R-R3"]);
        let done = conclude_recheck(&c, &recheck_input(true, 8_000_000), (3, 3), "drb", NOW).unwrap();
        assert!(done.passed);
        assert_eq!((done.priority_rank, done.fiscal_year, done.amount_fen), (1, 2027, 8_000_000));
        c.stage = Stage::JointMeeting;
        assert_eq!(rules_of(conclude_recheck(&c, &recheck_input(true, 1), (3, 3), "drb", NOW)), vec!["R-R3"]);
    }

    #[test]
    fn r_r3_funding_arrangement_within_the_expert_recommendation() {
        let c = with_all_opinions(rechecking());
        assert_eq!(recheck_limit_fen(&c), 8_000_000);
        let e = conclude_recheck(&c, &recheck_input(true, 8_000_001), (3, 3), "drb", NOW).unwrap_err();
        assert_eq!(field_names(e), vec!["amount_fen"]);
        assert_eq!(field_names(conclude_recheck(&c, &recheck_input(true, 0), (3, 3), "drb", NOW).unwrap_err()), vec!["amount_fen"]);
        let mut bad = recheck_input(true, 1);
        bad.priority_rank = 0;
        bad.fiscal_year = 2025;
        bad.comment = " ".into();
        assert_eq!(
            field_names(conclude_recheck(&c, &bad, (3, 3), "drb", NOW).unwrap_err()),
            vec!["comment", "priority_rank", "fiscal_year"]
        );
        // This year up to five years on (the civil year in Shanghai).
        for (year, ok) in [(2026, true), (2031, true), (2032, false), (2025, false)] {
            let mut i = recheck_input(true, 1);
            i.fiscal_year = year;
            assert_eq!(conclude_recheck(&c, &i, (3, 3), "drb", NOW).is_ok(), ok, "{year}");
        }
        let new_year_eve = datetime!(2026-12-31 16:30 UTC); // 2027-01-01 00:30 in Shanghai
        let mut i = recheck_input(true, 1);
        i.fiscal_year = 2026;
        assert_eq!(field_names(conclude_recheck(&c, &i, (3, 3), "drb", new_year_eve).unwrap_err()), vec!["fiscal_year"]);
        // Without a recommendation: the budget applied for.
        let mut bare = c.clone();
        bare.expert.conclusion = None;
        assert_eq!(recheck_limit_fen(&bare), 10_000_000);
        assert!(conclude_recheck(&bare, &recheck_input(true, 10_000_000), (3, 3), "drb", NOW).is_ok());
    }

    #[test]
    fn r_r3_a_fail_carries_no_arrangement() {
        let c = with_all_opinions(rechecking());
        let mut i = recheck_input(false, 99_999_999);
        i.priority_rank = -3;
        let f = conclude_recheck(&c, &i, (3, 3), "drb", NOW).unwrap();
        assert!(!f.passed);
        assert_eq!((f.priority_rank, f.fiscal_year, f.amount_fen), (0, 0, 0));
        i.comment = String::new();
        assert_eq!(field_names(conclude_recheck(&c, &i, (3, 3), "drb", NOW).unwrap_err()), vec!["comment"]);
    }

    fn at_joint_meeting() -> ReviewCase {
        let mut c = with_all_opinions(rechecking());
        c.recheck = Some(conclude_recheck(&c, &recheck_input(true, 6_000_000), (3, 3), "drb", NOW).unwrap());
        c.stage = Stage::JointMeeting;
        c
    }

    fn meeting(passed: bool, held_on: Date) -> JointMeetingInput {
        JointMeetingInput {
            passed, meeting_ref: "2026年第3次规划土地数字管理联席会议".into(), held_on, comment: String::new()
        }
    }

    #[test]
    fn r_r4_joint_meeting_only_after_a_passed_recheck() {
        let today = date!(2026 - 11 - 25);
        let c = at_joint_meeting();
        let o = record_joint_meeting(&c, &meeting(true, date!(2026 - 11 - 20)), today, "drb").unwrap();
        assert!(o.passed);
        for stage in [Stage::ReCheck, Stage::Approval, Stage::PreliminaryReview] {
            let mut other = c.clone();
            other.stage = stage;
            assert_eq!(record_joint_meeting(&other, &meeting(true, today), today, "drb").unwrap_err().rule_ids(), vec!["R-R4"]);
        }
        let mut failed = c.clone();
        failed.recheck.as_mut().unwrap().passed = false;
        assert_eq!(record_joint_meeting(&failed, &meeting(true, today), today, "drb").unwrap_err().rule_ids(), vec!["R-R4"]);
        // Dated neither in the future nor before the re-check (2026-11-20 in Shanghai).
        assert_eq!(
            field_names(record_joint_meeting(&c, &meeting(true, date!(2026 - 11 - 26)), today, "drb").unwrap_err()),
            vec!["held_on"]
        );
        assert_eq!(
            field_names(record_joint_meeting(&c, &meeting(true, date!(2026 - 11 - 19)), today, "drb").unwrap_err()),
            vec!["held_on"]
        );
        let mut bad = meeting(false, today);
        bad.meeting_ref = " ".into();
        assert_eq!(field_names(record_joint_meeting(&c, &bad, today, "drb").unwrap_err()), vec!["meeting_ref", "comment"]);
    }

    #[test]
    fn r_r4_approval_after_a_recheck_stays_within_its_arrangement() {
        let mut c = at_joint_meeting();
        c.stage = Stage::Approval;
        let input = |budget| ApprovalInput {
            document_number: "上数〔2026〕30号".into(),
            issued_on: date!(2026 - 11 - 25),
            budget_fen: fen(budget),
            scope: "全部".into(),
            planned_construction_months: 12,
        };
        let today = date!(2026 - 11 - 25);
        assert_eq!(issue_approval(&c, &input(6_000_000), today, &policy()).unwrap().budget_fen.get(), 6_000_000);
        let e = issue_approval(&c, &input(6_000_001), today, &policy()).unwrap_err();
        assert!(e.to_string().contains("6000000"), "{e}");
        assert_eq!(field_names(e), vec!["budget_fen"]);
    }

    fn approved(funding_source: &str) -> ReviewCase {
        let mut d = dossier();
        d.funding_source = funding_source.into();
        let mut c = case(d);
        c.stage = Stage::Approval;
        let input = ApprovalInput {
            document_number: "上数〔2026〕31号".into(),
            issued_on: date!(2026 - 03 - 15),
            budget_fen: fen(1_000_000),
            scope: "全部".into(),
            planned_construction_months: 12,
        };
        c.approval = Some(issue_approval(&c, &input, date!(2026 - 03 - 15), &policy()).unwrap());
        c.stage = Stage::Approved;
        c
    }

    #[test]
    fn r_r6_funds_secured_within_validity_on_an_approval_in_force() {
        let ids = vec!["DOC-1".to_string()];
        let mut c = approved("SUPERIOR_TRANSFER");
        check_funds_secured(&c, date!(2028 - 03 - 14), &ids).unwrap();
        // Rule fix (R-R6 counted the Civil Code's way): issued 2026-03-15, the approval is valid
        // through the anniversary 2028-03-15 (it used to lapse on it); refused from 2028-03-16.
        check_funds_secured(&c, date!(2028 - 03 - 15), &ids).unwrap();
        assert_eq!(check_funds_secured(&c, date!(2028 - 03 - 16), &ids).unwrap_err().rule_ids(), vec!["R-R6"]);
        assert_eq!(field_names(check_funds_secured(&c, date!(2027 - 03 - 15), &[]).unwrap_err()), vec!["evidence_document_ids"]);
        c.approval.as_mut().unwrap().funds_secured = true;
        assert_eq!(rules_of(check_funds_secured(&c, date!(2027 - 03 - 15), &ids)), vec!["R-R6"], "recorded once");
        // Cancelled by the timer: still refused under R-R6 once expired.
        let mut cancelled = approved("SOCIAL_CAPITAL");
        cancelled.stage = Stage::Cancelled;
        cancelled.approval.as_mut().unwrap().cancelled = true;
        cancelled.approval.as_mut().unwrap().cancelled_under = "R-R6".into();
        assert_eq!(check_funds_secured(&cancelled, date!(2028 - 03 - 16), &ids).unwrap_err().rule_ids(), vec!["R-R6"]);
        assert_eq!(rules_of(check_funds_secured(&cancelled, date!(2027 - 03 - 15), &ids)), vec!["R-R6"], "cancelled under R-R6");
        assert_eq!(check_funds_secured(&approved("DISTRICT_FISCAL"), date!(2027 - 03 - 15), &ids).unwrap_err().rule_ids(), vec!["R-R6"]);
        assert_eq!(rules_of(check_funds_secured(&case(dossier()), date!(2027 - 03 - 15), &ids)), vec!["R-R6"], "no approval yet");
    }

    fn change(c: &ReviewCase, new: i64, route: ChangeRoute) -> ChangeRecord {
        ChangeRecord {
            change_id: Uuid::now_v7(),
            old_budget_fen: c.approval.as_ref().unwrap().budget_fen,
            new_budget_fen: fen(new),
            route: route.as_str().into(),
            state: route.initial_state().as_str().into(),
            reason: "需求调整".into(),
            requested_by: "unit".into(),
            requested_at: NOW,
        }
    }

    #[test]
    fn r_r7_change_requests_route_by_reduction_and_refuse_increases() {
        let p = policy();
        let mut c = approved("DISTRICT_FISCAL");
        assert_eq!(request_change(&c, fen(850_000), "需求调整", &p).unwrap(), ChangeRoute::InternalControlFiling);
        assert_eq!(request_change(&c, fen(849_900), "需求调整", &p).unwrap(), ChangeRoute::ChangeRequest);
        assert_eq!(request_change(&c, fen(1_000_001), "需求调整", &p).unwrap_err().rule_ids(), vec!["R-R7"]);
        assert_eq!(field_names(request_change(&c, fen(900_000), "", &p).unwrap_err()), vec!["reason"]);
        // One change at a time.
        let pending = change(&c, 700_000, ChangeRoute::ChangeRequest);
        c.changes.push(pending);
        assert_eq!(rules_of(request_change(&c, fen(900_000), "再调整", &p)), vec!["R-R7"], "one change at a time");
        c.changes[0].state = ChangeState::Rejected.as_str().into();
        request_change(&c, fen(900_000), "再调整", &p).unwrap();
        c.procurement_completed = true;
        assert_eq!(request_change(&c, fen(900_000), "再调整", &p).unwrap_err().rule_ids(), vec!["R-R7"]);
        // Only after approval, while it is in force.
        let mut before = case(dossier());
        before.stage = Stage::Approval;
        assert_eq!(request_change(&before, fen(900_000), "调整", &p).unwrap_err().rule_ids(), vec!["R-R7"]);
        let mut cancelled = approved("DISTRICT_FISCAL");
        cancelled.stage = Stage::Cancelled;
        assert_eq!(request_change(&cancelled, fen(900_000), "调整", &p).unwrap_err().rule_ids(), vec!["R-R7"]);
    }

    #[test]
    fn r_r7_change_request_departmental_then_expert_review() {
        use ChangeEvent::*;
        let mut c = approved("DISTRICT_FISCAL");
        let x = change(&c, 700_000, ChangeRoute::ChangeRequest);
        let id = x.change_id;
        c.changes.push(x);
        assert_eq!(field_names(decide_change(&c, Uuid::now_v7(), DepartmentalReview { passed: true }).unwrap_err()), vec!["change_id"]);
        assert_eq!(rules_of(decide_change(&c, id, ExpertReview { passed: true })), vec!["R-R7"]);
        assert_eq!(decide_change(&c, id, DepartmentalReview { passed: true }).unwrap(), (0, ChangeState::AwaitingExpertReview));
        c.changes[0].state = ChangeState::AwaitingExpertReview.as_str().into();
        assert_eq!(decide_change(&c, id, ExpertReview { passed: true }).unwrap(), (0, ChangeState::Approved));
        assert_eq!(decide_change(&c, id, ExpertReview { passed: false }).unwrap(), (0, ChangeState::Rejected));
        let mut moved = c.clone();
        moved.approval.as_mut().unwrap().budget_fen = fen(950_000);
        assert_eq!(rules_of(decide_change(&moved, id, ExpertReview { passed: true })), vec!["R-R7"]);
        c.procurement_completed = true;
        assert_eq!(decide_change(&c, id, ExpertReview { passed: true }).unwrap_err().rule_ids(), vec!["R-R7"]);
        c.procurement_completed = false;
        c.stage = Stage::Cancelled;
        assert_eq!(rules_of(decide_change(&c, id, ExpertReview { passed: true })), vec!["R-R7"]);
    }
}
