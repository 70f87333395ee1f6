//! Review's rules over a case: opening it (R-R5 fast track), the preliminary review (R-R1),
//! returning and resubmitting, withdrawal, and the approval document (R-R4).

use std::collections::BTreeSet;

use egov_platform::{
    auth::Role,
    error::{AppError, FieldViolation},
    policy::{Policy, ScoringCriterion},
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::model::*;

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
    }
}

fn in_stage(case: &ReviewCase, stage: Stage, what: &str) -> Result<(), AppError> {
    if case.stage != stage {
        return Err(AppError::InvalidState(format!("{what} happens in stage {stage}; this case is in {}", case.stage)));
    }
    Ok(())
}

/// The weighted score (hundredths) of a complete scoring sheet; field errors name `scores[i]`.
pub fn weighted_score(sheet: &[ScoringCriterion], scores: &[(String, u32)]) -> Result<u32, AppError> {
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
    if fields.is_empty() { Ok(total) } else { Err(AppError::InvalidArgument(fields)) }
}

/// A participant's opinion on the preliminary review.
pub fn check_opinion(case: &ReviewCase, role: Role, opinion: &str) -> Result<(), AppError> {
    in_stage(case, Stage::PreliminaryReview, "a preliminary opinion")?;
    if !case.required_participants.iter().any(|r| r == role.as_str()) {
        return Err(AppError::PermissionDenied(format!("{role} does not take part in this preliminary review (R-R1)")));
    }
    if case.opinions.iter().any(|o| o.role == role.as_str()) {
        return Err(AppError::InvalidState(format!("{role} has already given its opinion")));
    }
    if opinion.trim().chars().count() < 2 {
        return Err(AppError::field("opinion", "each participant states its opinion (意见)"));
    }
    Ok(())
}

/// DRB decides only when every required participant has scored (R-R1); the aggregate is the
/// mean of their weighted scores.
pub fn decide_preliminary(case: &ReviewCase) -> Result<u32, AppError> {
    in_stage(case, Stage::PreliminaryReview, "the preliminary decision")?;
    let missing: Vec<&str> =
        case.required_participants.iter().filter(|r| !case.opinions.iter().any(|o| &o.role == *r)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(AppError::rule(
            "R-R1",
            "opinions",
            format!("DRB decides when every participant has scored (初审单位均已评分); waiting for {}", missing.join(", ")),
        ));
    }
    let n = case.opinions.len() as u32;
    Ok(case.opinions.iter().map(|o| o.weighted_centi).sum::<u32>() / n.max(1))
}

/// 退回: back to the unit for revision from a reviewing stage.
pub fn return_for_revision(case: &ReviewCase) -> Result<(), AppError> {
    match case.stage {
        Stage::PreliminaryReview | Stage::ExpertReview | Stage::ReCheck => Ok(()),
        s => Err(AppError::InvalidState(format!("a case is returned for revision while it is being reviewed; this one is {s}"))),
    }
}

/// The unit resubmits a returned case: it goes back to the stage it left, reviewed afresh.
pub fn resubmit(case: &ReviewCase) -> Result<Stage, AppError> {
    in_stage(case, Stage::Returned, "resubmission")?;
    case.returned_from.ok_or_else(|| AppError::Internal(anyhow::anyhow!("returned case without its stage")))
}

/// The unit withdraws its application.
pub fn withdraw(case: &ReviewCase) -> Result<(), AppError> {
    if case.stage.is_terminal() || case.stage == Stage::Approved {
        return Err(AppError::InvalidState(format!("a case in stage {} cannot be withdrawn", case.stage)));
    }
    Ok(())
}

/// What the approval document fixes (R-R4), issued by DRB, DRC and FINANCE.
pub struct ApprovalInput {
    pub document_number: String,
    pub issued_on: Date,
    pub budget_fen: i64,
    pub scope: String,
    pub planned_construction_months: i32,
}

pub const ISSUERS: [&str; 3] = ["DRB", "DRC", "FINANCE"];

pub fn issue_approval(case: &ReviewCase, input: &ApprovalInput, today: Date, policy: &Policy) -> Result<Approval, AppError> {
    if case.stage != Stage::Approval {
        return Err(AppError::rule(
            "R-R4",
            "stage",
            format!(
                "the approval document is issued after the joint meeting, or directly on the fast track (R-R5); this case is in {}",
                case.stage
            ),
        ));
    }
    let mut f = Vec::new();
    if input.document_number.trim().is_empty() || input.document_number.chars().count() > 64 {
        f.push(FieldViolation::new("document_number", "the document number (文号), e.g. 上数〔2027〕12号"));
    }
    if input.issued_on > today {
        f.push(FieldViolation::new("issued_on", "an approval is not dated in the future"));
    }
    if input.budget_fen <= 0 || input.budget_fen > case.dossier.total_budget_fen {
        f.push(FieldViolation::new(
            "budget_fen",
            format!("the approved budget is 1 to {} fen (the budget applied for)", case.dossier.total_budget_fen),
        ));
    }
    if input.scope.trim().is_empty() {
        f.push(FieldViolation::new("scope", "the approved scope (建设内容) is fixed by the document"));
    }
    if input.planned_construction_months <= 0 || input.planned_construction_months > 120 {
        f.push(FieldViolation::new("planned_construction_months", "1 to 120 months"));
    }
    if !f.is_empty() {
        return Err(AppError::InvalidArgument(f));
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
        policy_version: policy.version.clone(),
    })
}

/// R-P1 (procurement's deadline missed) or R-R6: the approval is cancelled (取消立项指标).
pub fn cancel_approval(case: &ReviewCase) -> Result<(), AppError> {
    match (&case.approval, case.stage) {
        (Some(a), Stage::Approved) if !a.cancelled => Ok(()),
        _ => Err(AppError::InvalidState(format!("no approval in force to cancel; the case is {}", case.stage))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_platform::policy::PolicyBook;
    use time::macros::{date, datetime};

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
        assert!(matches!(check_opinion(&c, Role::Grassroots, "同意"), Err(AppError::PermissionDenied(_))));
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
        assert!(matches!(check_opinion(&c, Role::Cac, "再次"), Err(AppError::InvalidState(_))));
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
        assert!(matches!(weighted_score(sheet, &missing), Err(AppError::InvalidArgument(_))));
        let mut over = all.clone();
        over[1].1 = 101;
        let Err(AppError::InvalidArgument(f)) = weighted_score(sheet, &over) else { panic!() };
        assert_eq!(f[0].field, "scores[1].score");
        let mut twice = all;
        twice.push(twice[0].clone());
        assert!(matches!(weighted_score(sheet, &twice), Err(AppError::InvalidArgument(_))));
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
                budget_fen: 10_000_000,
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
            budget_fen: budget,
            scope: "全部".into(),
            planned_construction_months: 12,
        };
        assert_eq!(issue_approval(&c, &input(1), date!(2026 - 03 - 05), &policy()).unwrap_err().rule_ids(), vec!["R-R4"]);
        let mut c = c;
        c.stage = Stage::Approval;
        assert!(matches!(issue_approval(&c, &input(10_000_001), date!(2026 - 03 - 05), &policy()), Err(AppError::InvalidArgument(_))));
        let a = issue_approval(&c, &input(10_000_000), date!(2026 - 03 - 05), &policy()).unwrap();
        assert_eq!(a.valid_until, None, "district fiscal money: no validity limit");
        assert!(matches!(issue_approval(&c, &input(0), date!(2026 - 03 - 05), &policy()), Err(AppError::InvalidArgument(_))));
        assert!(
            matches!(issue_approval(&c, &input(5), date!(2026 - 03 - 04), &policy()), Err(AppError::InvalidArgument(_))),
            "dated in the future"
        );
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
        assert!(cancel_approval(&c).is_err());
    }
}
