//! Rule tests of the intake domain: for each R-I rule the allowed path, the refused path with
//! its rule id, and the boundary values.

use std::sync::Arc;

use egov_platform::{
    clock::shanghai,
    error::{Refusal, RuleViolation},
    period::{self, Period},
    policy::{Policy, PolicyBook},
};
use time::{
    Date, OffsetDateTime,
    macros::{date, datetime, time},
};
use uuid::Uuid;

use super::{model::*, rules::*};

fn policy() -> Arc<Policy> {
    PolicyBook::load("").unwrap().in_force(date!(2026 - 06 - 01))
}

fn unit() -> Unit {
    Unit {
        unit_id: "U-CIVIL".into(),
        name: "民政局".into(),
        district_budget_unit: true,
        state_owned_enterprise: false,
        runs_platform: false,
        has_street_app: false,
        version: 1,
        created_at: datetime!(2026-01-01 0:00 UTC),
    }
}

fn line(module: &str, category: CostCategory, fen: i64) -> BudgetLine {
    BudgetLine { module: module.into(), category, amount: Fen::new(fen).unwrap(), rationale: "按人天测算".into() }
}

fn draft() -> Draft {
    Draft {
        name: "社会救助一件事".into(),
        category: Some(Category::DataResource),
        build_type: Some(BuildType::New),
        funding_source: Some(FundingSource::DistrictFiscal),
        planned_construction_months: 12,
        content_kinds: vec![ContentKind::SoftwareDevelopment],
        necessity: Necessity {
            core_business: "社会救助".into(),
            one_platform_path: "民政一平台".into(),
            relations_with_other_units: "与街道协同".into(),
            existing_systems_and_plans: "无".into(),
            terminals: vec![Terminal::Zhezhengding],
            uses_public_data_platform: true,
            ..Default::default()
        },
        modules: vec![FunctionModule { name: "救助审核".into(), description: "救助对象审核".into() }],
        budget: vec![line("救助审核", CostCategory::SoftwareDevelopment, 9_500_000), line("救助审核", CostCategory::Security, 500_000)],
        ..Default::default()
    }
}

fn app(d: Draft) -> Application {
    Application::new(Uuid::now_v7(), "U-CIVIL".into(), d, policy().version.clone(), datetime!(2026-06-01 0:00 UTC))
}

fn round() -> Round {
    Round {
        round_id: Uuid::now_v7(),
        target_year: 2027,
        deadline: date!(2026 - 09 - 30),
        state: RoundState::Open,
        policy_version: policy().version.clone(),
        version: 1,
        opened_at: datetime!(2026-06-01 0:00 UTC),
        closed_at: None,
    }
}

fn docs(kinds: &[DocumentKind]) -> Vec<DocumentMeta> {
    kinds.iter().map(|k| DocumentMeta { document_id: Uuid::now_v7(), kind: *k, street: String::new() }).collect()
}

fn street_docs(streets: &[&str]) -> Vec<DocumentMeta> {
    streets
        .iter()
        .map(|s| DocumentMeta { document_id: Uuid::now_v7(), kind: DocumentKind::StreetResearchReport, street: s.to_string() })
        .collect()
}

const DOSSIER: &[DocumentKind] = &[DocumentKind::ApplicationForm, DocumentKind::FeasibilityReport];

struct Case {
    app: Application,
    unit: Unit,
    docs: Vec<DocumentMeta>,
    round: Option<Round>,
    penalties: Vec<Penalty>,
    eval: Option<LatestEvaluation>,
    now: OffsetDateTime,
    screening: Vec<ScreenedModule>,
    policy: Arc<Policy>,
}

impl Case {
    fn new(d: Draft) -> Case {
        Case {
            app: app(d),
            unit: unit(),
            docs: docs(DOSSIER),
            round: Some(round()),
            penalties: vec![],
            eval: None,
            now: shanghai(date!(2026 - 09 - 01), time!(10:00)),
            screening: vec![],
            policy: policy(),
        }
    }
    fn facts(&self) -> SubmissionFacts<'_> {
        SubmissionFacts {
            now: self.now,
            policy: &self.policy,
            lead_unit: &self.unit,
            unknown_participants: vec![],
            documents: &self.docs,
            round: self.round.as_ref(),
            penalties: &self.penalties,
            latest_evaluation: self.eval.clone(),
            screening: self.screening.clone(),
        }
    }
    fn check(&self) -> Result<Submission, Vec<RuleViolation>> {
        check_submission(&self.app, &self.facts())
    }
}

fn refused_by(r: Result<Submission, Vec<RuleViolation>>, rule: &str) -> Vec<RuleViolation> {
    let v = r.expect_err("expected a refusal");
    assert!(v.iter().any(|x| x.rule_id == rule), "expected {rule} among {v:?}");
    v
}

fn codes(s: &Submission) -> Vec<&str> {
    s.flags.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn a_complete_application_is_accepted() {
    let s = Case::new(draft()).check().unwrap();
    assert_eq!(s.application_year, 2026);
    assert_eq!(s.totals.total.get(), 10_000_000);
    assert!(s.flags.is_empty(), "{:?}", s.flags);
}

// R-I1 -----------------------------------------------------------------

#[test]
fn r_i1_scope_exclusions() {
    for k in [ContentKind::CentrallyProcuredEquipment, ContentKind::PackagedSoftware, ContentKind::BuildingIntelligence] {
        let mut d = draft();
        d.content_kinds.push(k);
        refused_by(Case::new(d).check(), "R-I1");
    }
    let mut d = draft();
    d.classified = true;
    refused_by(Case::new(d).check(), "R-I1");
    let mut c = Case::new(draft());
    c.unit.state_owned_enterprise = true;
    refused_by(c.check(), "R-I1");
    let mut c = Case::new(draft());
    c.unit.district_budget_unit = false;
    refused_by(c.check(), "R-I1");
    // Inside scope: specialised hardware and security services are fine.
    let mut d = draft();
    d.content_kinds = vec![ContentKind::SpecialisedHardware, ContentKind::SecurityServices];
    Case::new(d).check().unwrap();
}

// R-I2 -----------------------------------------------------------------

#[test]
fn r_i2_category_and_build_type_required() {
    let mut d = draft();
    d.category = None;
    d.build_type = None;
    let v = refused_by(Case::new(d).check(), "R-I2");
    assert_eq!(v.iter().filter(|x| x.rule_id == "R-I2").count(), 2);
    for c in Category::ALL {
        let mut d = draft();
        d.category = Some(*c);
        if *c == Category::BusinessApplication {
            continue; // needs consent, tested under R-I6
        }
        Case::new(d).check().unwrap();
    }
}

// R-I3 -----------------------------------------------------------------

#[test]
fn r_i3_deadline_boundary_in_shanghai() {
    let mut c = Case::new(draft());
    c.now = shanghai(date!(2026 - 09 - 30), time!(23:59:59));
    c.check().unwrap();
    c.now = shanghai(date!(2026 - 10 - 01), time!(00:00:00));
    refused_by(c.check(), "R-I3");
    // The same instants in UTC: 15:59:59 is still 09-30 in Shanghai, 16:00:00 is not.
    c.now = datetime!(2026-09-30 15:59:59 UTC);
    c.check().unwrap();
    c.now = datetime!(2026-09-30 16:00:00 UTC);
    refused_by(c.check(), "R-I3");
}

#[test]
fn r_i3_closed_round_and_supplementary() {
    let mut c = Case::new(draft());
    c.round.as_mut().unwrap().state = RoundState::Closed;
    refused_by(c.check(), "R-I3");
    let mut c = Case::new(draft());
    c.round = None;
    c.now = shanghai(date!(2026 - 11 - 24), time!(9:00));
    refused_by(c.check(), "R-I3");
    c.app.supplementary = SupplementaryStatus::Refused;
    refused_by(c.check(), "R-I3");
    c.app.supplementary = SupplementaryStatus::Accepted;
    let s = c.check().unwrap();
    assert_eq!(s.round_id, None);
    assert_eq!(s.application_year, 2026);
}

#[test]
fn r_i3_opening_rounds() {
    let p = policy();
    let now = shanghai(date!(2026 - 03 - 01), time!(9:00));
    assert_eq!(open_round(2027, now, &p).unwrap(), date!(2026 - 09 - 30));
    assert!(open_round(2026, now, &p).unwrap_err().rule_ids() == vec!["R-I3"]);
    // On the deadline day a round may still open; the day after, not.
    open_round(2027, shanghai(date!(2026 - 09 - 30), time!(23:00)), &p).unwrap();
    assert_eq!(open_round(2027, shanghai(date!(2026 - 10 - 01), time!(0:00)), &p).unwrap_err().rule_ids(), vec!["R-I3"]);
}

#[test]
fn r_i3_supplementary_request_needs_justification() {
    let a = app(draft());
    assert!(matches!(request_supplementary(&a, "急"), Err(Refusal::Fields(_))));
    request_supplementary(&a, "省里部署的紧急任务，须年内上线").unwrap();
    assert!(decide_supplementary(&a).is_err());
    let mut b = a.clone();
    b.state = ApplicationState::AwaitingSupplementaryDecision;
    decide_supplementary(&b).unwrap();
}

// R-I4 -----------------------------------------------------------------

#[test]
fn r_i4_dossier_documents() {
    let mut c = Case::new(draft());
    c.docs = docs(&[DocumentKind::ApplicationForm]);
    let v = refused_by(c.check(), "R-I4");
    assert!(v.iter().any(|x| x.description.contains("可行性研究报告")));
    c.docs = docs(&[DocumentKind::FeasibilityReport]);
    refused_by(c.check(), "R-I4");
    c.docs = vec![];
    let v = refused_by(c.check(), "R-I4");
    assert_eq!(v.iter().filter(|x| x.rule_id == "R-I4").count(), 2, "both missing documents are listed");
}

// R-I5 -----------------------------------------------------------------

#[test]
fn r_i5_participating_units() {
    let mut d = draft();
    d.participating_unit_ids = vec!["U-CIVIL".into()];
    assert!(!validate_draft("U-CIVIL", &d).is_empty());
    d.participating_unit_ids = vec!["U-HEALTH".into(), "U-HEALTH".into()];
    assert_eq!(validate_draft("U-CIVIL", &d)[0].field, "draft.participating_unit_ids[1]");
    d.participating_unit_ids = vec!["U-HEALTH".into()];
    assert!(validate_draft("U-CIVIL", &d).is_empty());
    let c = Case::new(d);
    let p = policy();
    let r = check_submission(
        &c.app,
        &SubmissionFacts {
            now: c.now,
            policy: &p,
            lead_unit: &c.unit,
            unknown_participants: vec!["U-HEALTH".into()],
            documents: &c.docs,
            round: c.round.as_ref(),
            penalties: &[],
            latest_evaluation: None,
            screening: vec![],
        },
    );
    refused_by(r, "R-I5");
}

// R-I6 -----------------------------------------------------------------

fn business(build: BuildType) -> Draft {
    let mut d = draft();
    d.category = Some(Category::BusinessApplication);
    d.build_type = Some(build);
    if build == BuildType::Upgrade {
        d.upgrade_of_app_id = "APP-42".into();
    }
    d
}

fn consent() -> Option<LeaderConsent> {
    Some(LeaderConsent { by: "leader".into(), comment: "同意".into(), at: datetime!(2026-08-01 0:00 UTC) })
}

#[test]
fn r_i6_leader_consent() {
    let c = Case::new(business(BuildType::New));
    refused_by(c.check(), "R-I6");
    let mut c = Case::new(business(BuildType::New));
    c.app.leader_consent = consent();
    c.check().unwrap();
    // A 信创 retrofit follows the business-application flow.
    let mut d = draft();
    d.xinchuang_retrofit = true;
    refused_by(Case::new(d).check(), "R-I6");
}

#[test]
fn r_i6_upgrade_needs_passed_evaluation() {
    let mut c = Case::new(business(BuildType::Upgrade));
    c.app.leader_consent = consent();
    refused_by(c.check(), "R-I6");
    c.eval = Some(LatestEvaluation { app_id: "APP-42".into(), passed: false, grade: "FAIL".into(), evaluated_on: None });
    let v = refused_by(c.check(), "R-I6");
    assert!(v[0].description.contains("not passed"));
    c.eval = Some(LatestEvaluation { app_id: "APP-42".into(), passed: true, grade: "GOOD".into(), evaluated_on: None });
    c.check().unwrap();
    // An upgrade of a non-business project needs no evaluation.
    let mut d = draft();
    d.build_type = Some(BuildType::Upgrade);
    d.upgrade_of_app_id = "INFRA-1".into();
    Case::new(d).check().unwrap();
}

// R-I7 -----------------------------------------------------------------

#[test]
fn r_i7_necessity_declarations_and_flags() {
    let mut d = draft();
    d.necessity.core_business.clear();
    refused_by(Case::new(d).check(), "R-I7");
    let mut c = Case::new(draft());
    c.unit.runs_platform = true;
    assert!(codes(&c.check().unwrap()).contains(&"NEW_PLATFORM"));
    let mut d = draft();
    d.necessity.function_module_of_existing_platform = true;
    let mut c = Case::new(d);
    c.unit.runs_platform = true;
    assert!(!codes(&c.check().unwrap()).contains(&"NEW_PLATFORM"));
    let mut d = draft();
    d.necessity.retired_systems = vec!["旧救助系统".into()];
    d.necessity.terminals.clear();
    d.necessity.uses_public_data_platform = false;
    let mut c = Case::new(d);
    c.unit.runs_platform = true;
    let s = c.check().unwrap();
    assert_eq!(codes(&s), vec!["NO_TERMINAL", "NO_PUBLIC_DATA_PLATFORM"]);
}

// R-I8 -----------------------------------------------------------------

#[test]
fn r_i8_street_reports_boundary() {
    let mut d = draft();
    d.reaches_streets = true;
    let mut c = Case::new(d);
    c.docs.extend(street_docs(&["湖滨", "清波", "小营", "望江"]));
    let v = refused_by(c.check(), "R-I8");
    assert!(v.iter().any(|x| x.description.contains("has 4")));
    // Five reports from four streets are still four streets.
    c.docs.extend(street_docs(&["湖滨"]));
    refused_by(c.check(), "R-I8");
    c.docs.extend(street_docs(&["南星"]));
    let s = c.check().unwrap();
    assert_eq!(s.streets.len(), 5);
    // Not reaching streets: no reports needed.
    Case::new(draft()).check().unwrap();
}

#[test]
fn r_i8_new_entry_flagged_for_units_already_reaching_streets() {
    let mut d = draft();
    d.reaches_streets = true;
    d.adds_login_entry = true;
    let mut c = Case::new(d);
    c.docs.extend(street_docs(&["湖滨", "清波", "小营", "望江", "南星"]));
    assert!(!codes(&c.check().unwrap()).contains(&"NEW_STREET_ENTRY"));
    c.unit.has_street_app = true;
    assert!(codes(&c.check().unwrap()).contains(&"NEW_STREET_ENTRY"));
}

// R-I9 -----------------------------------------------------------------

fn m(name: &str, score: f64) -> CatalogueMatch {
    CatalogueMatch { entry_id: format!("E-{name}"), name: name.into(), owner_unit: "市民政局".into(), score }
}

#[test]
fn r_i9_screening_verdicts_and_flags() {
    let p = policy();
    let modules = vec![
        FunctionModule { name: "a".into(), description: String::new() },
        FunctionModule { name: "b".into(), description: String::new() },
        FunctionModule { name: "c".into(), description: String::new() },
        FunctionModule { name: "d".into(), description: String::new() },
    ];
    let s = screen(&modules, vec![vec![m("x", 0.2), m("y", 0.85)], vec![m("z", 0.6)], vec![m("w", 0.5999)], vec![]], &p);
    let verdicts: Vec<_> = s.iter().map(|x| x.verdict).collect();
    assert_eq!(
        verdicts,
        vec![ScreeningVerdict::Duplicate, ScreeningVerdict::PartialDuplicate, ScreeningVerdict::Distinct, ScreeningVerdict::Distinct]
    );
    assert_eq!(s[0].matches[0].name, "y", "best match first");
    let mut c = Case::new(draft());
    c.screening = s;
    let sub = c.check().unwrap();
    assert_eq!(codes(&sub), vec!["DUPLICATE", "PARTIAL_DUPLICATE"]);
}

// R-I10 ----------------------------------------------------------------

#[test]
fn r_i10_early_stop_boundary_and_suspension() {
    let p = policy();
    let live = date!(2024 - 03 - 15);
    // Two years from going live end with the anniversary itself (the Civil Code's counting):
    // stopping on it is still within them; the day after is not.
    assert_eq!(ineligible_year(PenaltyKind::EarlyStop, Some(live), Some(date!(2026 - 03 - 14)), 0, &p).unwrap(), Some(2027));
    assert_eq!(ineligible_year(PenaltyKind::EarlyStop, Some(live), Some(date!(2026 - 03 - 15)), 0, &p).unwrap(), Some(2027));
    assert_eq!(ineligible_year(PenaltyKind::EarlyStop, Some(live), Some(date!(2026 - 03 - 16)), 0, &p).unwrap(), None);
    assert!(ineligible_year(PenaltyKind::EarlyStop, Some(live), Some(date!(2024 - 03 - 14)), 0, &p).is_err());
    assert_eq!(ineligible_year(PenaltyKind::BuiltOutsideMeasures, None, None, 2026, &p).unwrap(), Some(2027));
    assert_eq!(ineligible_year(PenaltyKind::ConstructionOverrun, None, None, 0, &p).unwrap(), None);
    assert_eq!(period::last_day(date!(2024 - 02 - 29), Period::Years(2)), date!(2026 - 02 - 28));

    let pen = |year: i32| Penalty {
        penalty_id: Uuid::now_v7(),
        unit_id: "U-CIVIL".into(),
        kind: PenaltyKind::EarlyStop,
        reason: "应用上线不满两年停用".into(),
        project_id: String::new(),
        went_live_on: None,
        stopped_on: None,
        ineligible_year: Some(year),
        rule_ids: vec!["R-I10".into()],
        policy_version: p.version.clone(),
        recorded_at: datetime!(2026-01-01 0:00 UTC),
    };
    let mut c = Case::new(draft());
    c.penalties = vec![pen(2026)];
    refused_by(c.check(), "R-I10");
    c.penalties = vec![pen(2025), pen(2027)];
    c.check().unwrap();
}

// R-I11 ----------------------------------------------------------------

fn results(fail: &[&str]) -> Vec<ChecklistResult> {
    policy()
        .compliance_checklist
        .iter()
        .map(|i| ChecklistResult { code: i.code.clone(), passed: !fail.contains(&i.code.as_str()), note: "需补充".into() })
        .collect()
}

#[test]
fn r_i11_compliance_pass_fail_and_one_re_review() {
    let p = policy();
    let now = shanghai(date!(2026 - 10 - 10), time!(15:00));
    let mut a = app(draft());
    a.state = ApplicationState::Submitted;
    assert_eq!(decide_compliance(&a, &p.compliance_checklist, &results(&[]), now, &p).unwrap(), (1, ComplianceOutcome::Passed));
    let (round, out) = decide_compliance(&a, &p.compliance_checklist, &results(&["BUDGET"]), now, &p).unwrap();
    assert_eq!(round, 1);
    let ComplianceOutcome::Failed { deadline, timer_due, failed_items } = out else { panic!("expected a failure") };
    assert_eq!(failed_items, vec!["BUDGET"]);
    assert_eq!(deadline, date!(2026 - 10 - 20));
    assert_eq!(timer_due, shanghai(date!(2026 - 10 - 21), time!(0:00)));

    a.state = ApplicationState::ComplianceFailed;
    a.re_review_deadline = Some(deadline);
    // The last allowed day, to its last second, vs the day after.
    request_re_review(&a, shanghai(date!(2026 - 10 - 20), time!(23:59:59))).unwrap();
    assert_eq!(request_re_review(&a, shanghai(date!(2026 - 10 - 21), time!(0:00))).unwrap_err().rule_ids(), vec!["R-I11"]);
    assert!(!re_review_deadline_passed(&a, shanghai(date!(2026 - 10 - 20), time!(23:59:59))));
    assert!(re_review_deadline_passed(&a, shanghai(date!(2026 - 10 - 21), time!(0:00))));

    a.state = ApplicationState::ReReviewRequested;
    assert_eq!(
        decide_compliance(&a, &p.compliance_checklist, &results(&["NECESSITY"]), now, &p).unwrap(),
        (2, ComplianceOutcome::Ended { failed_items: vec!["NECESSITY".into()] })
    );
    assert_eq!(decide_compliance(&a, &p.compliance_checklist, &results(&[]), now, &p).unwrap(), (2, ComplianceOutcome::Passed));
    // No second re-review: a failed re-review ends, and an ended application takes no request.
    a.state = ApplicationState::Ended;
    assert_eq!(request_re_review(&a, now).unwrap_err().rule_ids(), vec!["R-I11"]);
    assert_eq!(decide_compliance(&a, &p.compliance_checklist, &results(&[]), now, &p).unwrap_err().rule_ids(), vec!["R-I11"]);
}

#[test]
fn r_i11_checklist_must_be_answered_whole() {
    let p = policy();
    let mut a = app(draft());
    a.state = ApplicationState::Submitted;
    let now = shanghai(date!(2026 - 10 - 10), time!(15:00));
    let mut r = results(&[]);
    r.pop();
    assert!(matches!(decide_compliance(&a, &p.compliance_checklist, &r, now, &p), Err(Refusal::Fields(_))));
    let mut r = results(&[]);
    r.push(ChecklistResult { code: "NOPE".into(), passed: true, note: String::new() });
    assert!(matches!(decide_compliance(&a, &p.compliance_checklist, &r, now, &p), Err(Refusal::Fields(_))));
    let mut r = results(&["SCOPE"]);
    r[0].note.clear();
    assert!(matches!(decide_compliance(&a, &p.compliance_checklist, &r, now, &p), Err(Refusal::Fields(_))));
}

// R-I12 ----------------------------------------------------------------

fn with_security(security: i64, rest: i64) -> Draft {
    let mut d = draft();
    d.budget = vec![line("救助审核", CostCategory::SoftwareDevelopment, rest), line("救助审核", CostCategory::Security, security)];
    d
}

#[test]
fn r_i12_security_share_boundary() {
    // 4.99 % (499 of 10000 fen) is flagged, 5.00 % is not.
    let s = Case::new(with_security(499, 9_501)).check().unwrap();
    assert_eq!(codes(&s), vec!["SECURITY_SHARE_LOW"]);
    assert_eq!(s.totals.security_share_bp(), 499);
    let s = Case::new(with_security(500, 9_500)).check().unwrap();
    assert!(s.flags.is_empty());
    assert_eq!(s.totals.security_share_bp(), 500);
    // 4.9999 % rounds down for display but compares exactly: flagged.
    let s = Case::new(with_security(49_999, 950_001)).check().unwrap();
    assert_eq!(codes(&s), vec!["SECURITY_SHARE_LOW"]);
    // An upgrade is not held to the new-project share.
    let mut d = with_security(0, 10_000);
    d.build_type = Some(BuildType::Upgrade);
    d.upgrade_of_app_id = "INFRA-2".into();
    assert!(Case::new(d).check().unwrap().flags.is_empty());
}

#[test]
fn r_i12_budget_breakdown_required() {
    let mut d = draft();
    d.budget.clear();
    refused_by(Case::new(d).check(), "R-I12");
    let mut d = draft();
    d.budget[0].rationale.clear();
    refused_by(Case::new(d).check(), "R-I12");
    let mut d = draft();
    d.budget.push(line("不存在的模块", CostCategory::Other, 1));
    assert_eq!(validate_draft("U-CIVIL", &d)[0].field, "draft.budget[2].module");
    let mut d = draft();
    d.budget = vec![line("", CostCategory::Other, i64::MAX), line("", CostCategory::Other, 1)];
    assert_eq!(validate_draft("U-CIVIL", &d)[0].field, "draft.budget");
}

// R-R5 grounds in the dossier ---------------------------------------------

#[test]
fn fast_track_grounds_need_evidence() {
    let mut d = draft();
    d.fast_track_grounds = vec![FastTrackGround::PrincipalLeaderAgreed, FastTrackGround::NonDistrictFunding];
    let v = refused_by(Case::new(d.clone()).check(), "R-R5");
    assert_eq!(v.len(), 2);
    d.funding_source = Some(FundingSource::SocialCapital);
    let mut c = Case::new(d);
    c.docs.extend(docs(&[DocumentKind::MeetingMinutes]));
    c.check().unwrap();
}

#[test]
fn every_refusal_is_listed_at_once() {
    let mut c = Case::new(Draft::default());
    c.docs.clear();
    c.round = None;
    let v = c.check().unwrap_err();
    let rules: std::collections::BTreeSet<_> = v.iter().map(|x| x.rule_id.as_str()).collect();
    for r in ["R-I2", "R-I3", "R-I4", "R-I7", "R-I12"] {
        assert!(rules.contains(r), "{r} missing from {rules:?}");
    }
}

#[test]
fn only_drafts_are_submitted() {
    let mut c = Case::new(draft());
    c.app.state = ApplicationState::Submitted;
    let facts = c.facts();
    let r = super::application::submit(&c.app, &facts, None).unwrap_err();
    assert_eq!(r.rule_ids(), vec!["R-I11"], "{r}");
    c.app.state = ApplicationState::AwaitingSupplementaryDecision;
    let facts = c.facts();
    assert_eq!(super::application::submit(&c.app, &facts, None).unwrap_err().rule_ids(), vec!["R-I3"]);
    let _: Date = date!(2026 - 01 - 01);
}

// The state machine, tested on the changes it returns ---------------------

mod transitions {
    use egov_platform::transition::{Context, TimerOp};

    use super::*;
    use crate::domain::{application as t, events::types};

    fn ctx(p: &Policy, at: OffsetDateTime) -> Context<'_> {
        Context::new(at, p)
    }

    #[test]
    fn a_failed_review_opens_the_re_review_window_and_its_timer() {
        let p = policy();
        let mut a = app(draft());
        a.state = ApplicationState::Submitted;
        let now = shanghai(date!(2026 - 10 - 10), time!(15:00));
        let c =
            t::decide_compliance(&a, &results(&["BUDGET"]), "预算需细化", "drb-1", t::ComplianceFacts::default(), ctx(&p, now)).unwrap();
        assert_eq!(c.state.state, ApplicationState::ComplianceFailed);
        assert_eq!(c.state.re_review_deadline, Some(date!(2026 - 10 - 20)));
        assert_eq!(c.event_types(), vec![types::COMPLIANCE_FAILED]);
        assert_eq!(c.effects.rule_ids, vec!["R-I11"]);
        let [TimerOp::Set { kind, key, due_at, .. }] = c.effects.timers.as_slice() else { panic!("one timer: {:?}", c.effects.timers) };
        assert_eq!(
            (*kind, key.as_str(), *due_at),
            (t::RE_REVIEW_DEADLINE, a.application_id.to_string().as_str(), shanghai(date!(2026 - 10 - 21), time!(0:00)))
        );
        assert_eq!(c.state.decisions.len(), 1);
        assert!(!c.state.decisions[0].passed);
        // The input is untouched: the change is a new value.
        assert_eq!(a.state, ApplicationState::Submitted);
    }

    #[test]
    fn a_pass_publishes_the_dossier_for_review() {
        let p = policy();
        let mut a = app(draft());
        a.state = ApplicationState::Submitted;
        let c = t::decide_compliance(&a, &results(&[]), "", "drb-1", t::ComplianceFacts::default(), ctx(&p, a.created_at)).unwrap();
        assert_eq!(c.state.state, ApplicationState::CompliancePassed);
        assert_eq!(c.event_types(), vec![types::COMPLIANCE_PASSED]);
        assert!(c.effects.timers.is_empty());
    }

    #[test]
    fn the_re_review_request_stops_the_timer_and_the_window_ends_an_unused_one() {
        let p = policy();
        let mut a = app(draft());
        a.state = ApplicationState::ComplianceFailed;
        a.re_review_deadline = Some(date!(2026 - 10 - 20));
        let last = shanghai(date!(2026 - 10 - 20), time!(23:59:59));
        let c = t::request_re_review(&a, "已修改", ctx(&p, last)).unwrap();
        assert_eq!(c.state.state, ApplicationState::ReReviewRequested);
        assert_eq!(c.effects.timers, vec![TimerOp::Cancel { kind: t::RE_REVIEW_DEADLINE, key: a.application_id.to_string() }]);
        assert!(t::end_after_re_review_window(&a, ctx(&p, last)).is_none(), "the window is open through its last day");
        let ended = t::end_after_re_review_window(&a, ctx(&p, shanghai(date!(2026 - 10 - 21), time!(0:00)))).unwrap();
        assert_eq!(ended.state.state, ApplicationState::Ended);
        assert_eq!(ended.event_types(), vec![types::ENDED]);
        assert!(ended.state.end_reason.contains("2026-10-20"));
        assert!(t::end_after_re_review_window(&c.state, ctx(&p, shanghai(date!(2026 - 12 - 01), time!(0:00)))).is_none());
    }

    #[test]
    fn steps_out_of_order_name_the_rule_they_break() {
        let p = policy();
        let now = shanghai(date!(2026 - 10 - 10), time!(15:00));
        let mut a = app(draft());
        a.state = ApplicationState::Submitted;
        assert_eq!(t::update_draft(&a, draft(), ctx(&p, now)).unwrap_err().rule_ids(), vec!["R-I11"]);
        assert_eq!(t::request_re_review(&a, "", ctx(&p, now)).unwrap_err().rule_ids(), vec!["R-I11"]);
        assert_eq!(t::request_supplementary(&a, "紧急任务须年内上线，等不到下一批次", ctx(&p, now)).unwrap_err().rule_ids(), vec!["R-I3"]);
        assert_eq!(t::decide_supplementary(&a, true, "同意", ctx(&p, now)).unwrap_err().rule_ids(), vec!["R-I3"]);
        assert_eq!(t::accept_document(&a, DocumentKind::Other, "", ctx(&p, now)).unwrap_err().rule_ids(), vec!["R-I4"]);
        let mut business = draft();
        business.category = Some(Category::BusinessApplication);
        let mut b = app(business);
        b.state = ApplicationState::Submitted;
        assert_eq!(t::record_leader_consent(&b, "leader", "同意", ctx(&p, now)).unwrap_err().rule_ids(), vec!["R-I6"]);
        let d = app(draft());
        assert_eq!(
            t::record_leader_consent(&d, "leader", "同意", ctx(&p, now)).unwrap_err().rule_ids(),
            vec!["R-I6"],
            "not a business app"
        );
        for r in [
            t::update_draft(&a, draft(), ctx(&p, now)).unwrap_err(),
            t::accept_document(&a, DocumentKind::Other, "", ctx(&p, now)).unwrap_err(),
        ] {
            let Refusal::Rules(v) = &r else { panic!("{r}") };
            assert!(v.iter().all(|v| v.rule_id != "STATE" && !v.description.contains("::")), "{r}");
        }
    }

    #[test]
    fn documents_name_streets_only_for_street_reports() {
        let p = policy();
        let a = app(draft());
        let now = a.created_at;
        t::accept_document(&a, DocumentKind::StreetResearchReport, "湖滨", ctx(&p, now)).unwrap();
        assert_eq!(
            t::accept_document(&a, DocumentKind::StreetResearchReport, "火星", ctx(&p, now)).unwrap_err().fields(),
            vec!["header.street"]
        );
        assert_eq!(t::accept_document(&a, DocumentKind::Other, "湖滨", ctx(&p, now)).unwrap_err().fields(), vec!["header.street"]);
    }

    #[test]
    fn consent_and_supplementary_record_what_they_decide() {
        let p = policy();
        let mut business = draft();
        business.category = Some(Category::BusinessApplication);
        let a = app(business);
        let now = shanghai(date!(2026 - 11 - 10), time!(9:00));
        let c = t::record_leader_consent(&a, "leader-1", " 同意 ", ctx(&p, now)).unwrap();
        assert_eq!(c.state.leader_consent.as_ref().map(|l| (l.by.as_str(), l.comment.as_str())), Some(("leader-1", "同意")));
        assert_eq!(c.event_types(), vec![types::LEADER_CONSENT_RECORDED]);
        let s = t::request_supplementary(&a, "省里部署的紧急任务，须年内上线", ctx(&p, now)).unwrap();
        assert_eq!(s.state.state, ApplicationState::AwaitingSupplementaryDecision);
        let d = t::decide_supplementary(&s.state, false, "可纳入下一批次", ctx(&p, now)).unwrap();
        assert_eq!((d.state.state, d.state.supplementary), (ApplicationState::Draft, SupplementaryStatus::Refused));
        assert_eq!(t::decide_supplementary(&s.state, true, "  ", ctx(&p, now)).unwrap_err().fields(), vec!["comment"]);
    }
}
