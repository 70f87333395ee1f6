//! Rule tests of the acceptance domain, on the changes the transitions return: for each R-A rule
//! the allowed path, the refused path with its rule id, and the boundary.

use std::sync::Arc;

use egov_calendar::Calendar;
use egov_platform::{
    clock::shanghai,
    error::Refusal,
    policy::{Policy, PolicyBook},
    transition::{Change, Context, TimerOp},
    values::Fen,
};
use time::{
    Date, OffsetDateTime,
    macros::{date, time},
};
use uuid::Uuid;

use super::{
    case::{self, AcceptanceHeld, Application, InitialAcceptanceRecord, TrialReport, Upload},
    events::types,
    model::*,
    panel,
};

fn policy() -> Arc<Policy> {
    PolicyBook::load("").unwrap().in_force(date!(2026 - 06 - 01))
}

fn at(d: Date) -> OffsetDateTime {
    shanghai(d, time!(10:00))
}

fn ctx(p: &Policy, d: Date) -> Context<'_> {
    Context::new(at(d), p)
}

const NAME: &str = "社会救助一件事";

fn handover(channel: Channel) -> Handover {
    Handover {
        project_name: NAME.into(),
        lead_unit_id: "U-CIVIL".into(),
        participating_unit_ids: vec!["U-STREET".into()],
        document_number: "上数资〔2026〕12号".into(),
        budget: Fen::new(100_000_000).unwrap(),
        funding_source: "DISTRICT_FISCAL".into(),
        scope: "救助审核、救助发放".into(),
        channel,
        supplier_name: "杭州某某科技有限公司".into(),
        supplier_credit_code: "91330100MA2XXXXX1A".into(),
        supervision_credit_code: "91330100MA2YYYYY2B".into(),
        contract_amount: Fen::new(90_000_000).unwrap(),
        classified_protection_level: 3,
        important_system: true,
        overrun_days: 0,
        completed_on: date!(2026 - 03 - 02),
    }
}

fn opened(channel: Channel) -> AcceptanceCase {
    let p = policy();
    case::open(Uuid::now_v7(), handover(channel), ctx(&p, date!(2026 - 03 - 02))).state
}

fn member(name: &str, specialties: &[Specialty], passes: bool) -> PanelMember {
    PanelMember {
        name: name.into(),
        specialties: specialties.to_vec(),
        affiliation: "浙江大学".into(),
        affiliation_credit_code: "12330000470003281Q".into(),
        opinion: "系统功能完整".into(),
        passes,
    }
}

fn panel_of(n: usize) -> Vec<PanelMember> {
    use Specialty::*;
    let all = [InformationTechnology, Cybersecurity, BusinessDomain];
    (0..n).map(|i| member(&format!("专家{i}"), &[all[i % 3]], true)).collect()
}

fn initial(held_on: Date, panel: Vec<PanelMember>) -> InitialAcceptanceRecord {
    InitialAcceptanceRecord { held_on, panel, conclusion: "同意通过初验".into(), recorded_by: "unit-1".into() }
}

fn rules(r: Refusal) -> Vec<String> {
    r.rule_ids().into_iter().map(str::to_string).collect()
}

// R-A1 ----------------------------------------------------------------

#[test]
fn r_a1_panels_of_2_3_4_and_5() {
    let p = policy();
    let k = opened(Channel::GovernmentProcurement);
    let c = ctx(&p, date!(2026 - 03 - 10));
    let two = case::record_initial_acceptance(&k, initial(date!(2026 - 03 - 10), panel_of(2)), c).unwrap_err();
    assert_eq!(rules(two.clone()), vec!["R-A1", "R-A1", "R-A1"], "too few, even, no business expert: {two}");
    let three = case::record_initial_acceptance(&k, initial(date!(2026 - 03 - 10), panel_of(3)), c).unwrap();
    assert_eq!(three.state.state, CaseState::TrialOperation);
    let four = case::record_initial_acceptance(&k, initial(date!(2026 - 03 - 10), panel_of(4)), c).unwrap_err();
    assert_eq!(rules(four.clone()), vec!["R-A1"], "{four}");
    assert!(four.to_string().contains("odd"), "{four}");
    case::record_initial_acceptance(&k, initial(date!(2026 - 03 - 10), panel_of(5)), c).unwrap();
}

#[test]
fn r_a1_three_members_without_a_cybersecurity_expert() {
    use Specialty::*;
    let p = policy();
    let k = opened(Channel::GovernmentProcurement);
    let panel = vec![
        member("甲", &[InformationTechnology], true),
        member("乙", &[BusinessDomain], true),
        member("丙", &[InformationTechnology, BusinessDomain], true),
    ];
    let r = case::record_initial_acceptance(&k, initial(date!(2026 - 03 - 10), panel), ctx(&p, date!(2026 - 03 - 10))).unwrap_err();
    assert_eq!(rules(r.clone()), vec!["R-A1"]);
    assert!(r.to_string().contains("网络安全"), "{r}");
}

#[test]
fn r_a1_no_member_affiliated_with_the_supplier_or_the_supervisor() {
    let p = policy();
    let k = opened(Channel::GovernmentProcurement);
    let h = &k.handover;
    let mut panel = panel_of(3);
    panel[0].affiliation_credit_code = h.supplier_credit_code.to_lowercase();
    let r = case::record_initial_acceptance(&k, initial(date!(2026 - 03 - 10), panel.clone()), ctx(&p, date!(2026 - 03 - 10))).unwrap_err();
    assert_eq!(r.rule_ids(), vec!["R-A1"]);
    assert!(r.to_string().contains("supplier"), "{r}");
    panel[0] = member("丁", &[Specialty::InformationTechnology], true);
    panel[0].affiliation_credit_code = h.supervision_credit_code.clone();
    let r = case::record_initial_acceptance(&k, initial(date!(2026 - 03 - 10), panel.clone()), ctx(&p, date!(2026 - 03 - 10))).unwrap_err();
    assert!(r.to_string().contains("supervisor"), "{r}");
    // No code given: the employer's name is compared with the supplier's.
    panel[0].affiliation_credit_code.clear();
    panel[0].affiliation = h.supplier_name.clone();
    assert!(panel::affiliated(&panel[0], h).is_some());
}

#[test]
fn r_a1_opinions_are_recorded_and_the_majority_decides() {
    let p = policy();
    let k = opened(Channel::GovernmentProcurement);
    let mut panel = panel_of(3);
    panel[1].opinion = " ".into();
    let r = case::record_initial_acceptance(&k, initial(date!(2026 - 03 - 10), panel), ctx(&p, date!(2026 - 03 - 10))).unwrap_err();
    assert_eq!(r.fields(), vec!["panel[1].opinion"]);
    let mut panel = panel_of(3);
    panel[0].passes = false;
    panel[1].passes = false;
    let c = case::record_initial_acceptance(&k, initial(date!(2026 - 03 - 10), panel), ctx(&p, date!(2026 - 03 - 10))).unwrap();
    assert_eq!(c.state.state, CaseState::InitialAcceptance, "a failing majority: another initial acceptance follows");
    assert!(c.state.trial.is_none());
    assert_eq!(c.event_types(), vec![types::INITIAL_CONCLUDED]);
    // Held before construction completed, or in the future: refused.
    let r = case::record_initial_acceptance(&k, initial(date!(2026 - 03 - 01), panel_of(3)), ctx(&p, date!(2026 - 03 - 10))).unwrap_err();
    assert_eq!(r.rule_ids(), vec!["R-A1"]);
    let r = case::record_initial_acceptance(&k, initial(date!(2026 - 03 - 11), panel_of(3)), ctx(&p, date!(2026 - 03 - 10))).unwrap_err();
    assert_eq!(r.fields(), vec!["held_on"]);
}

// R-A2 and R-P5 -----------------------------------------------------------

fn trial_case(started: Date) -> AcceptanceCase {
    let p = policy();
    let k = opened(Channel::GovernmentProcurement);
    case::record_initial_acceptance(&k, initial(started, panel_of(3)), ctx(&p, started)).unwrap().state
}

fn upload(kind: MaterialKind, produced_on: Date) -> Upload {
    Upload {
        document_id: Uuid::now_v7(),
        kind,
        file_name: "材料.pdf".into(),
        content_type: "application/pdf".into(),
        size_bytes: 10,
        sha256: "s".into(),
        sm3: "m".into(),
        object_path: "cases/x/y".into(),
        produced_on,
        project_name: NAME.into(),
        uploaded_by: "unit-1".into(),
    }
}

#[test]
fn r_a2_the_trial_starts_the_day_initial_acceptance_passes() {
    let k = trial_case(date!(2026 - 03 - 10));
    let t = k.trial.as_ref().unwrap();
    assert_eq!(t.started_on, date!(2026 - 03 - 10));
    assert_eq!(t.completes_on, date!(2026 - 04 - 09), "30 days: 03-10 … 04-08, the application from 04-09");
}

#[test]
fn r_p5_initial_acceptance_materials_on_the_fifth_and_sixth_working_day_across_national_day() {
    // Held on Tuesday 2026-09-29: working days after it are 09-30, (10-01..07 holidays) 10-08,
    // 10-09, 10-10 (a Saturday worked in exchange), 10-12. The fifth is 10-12; the sixth, 10-13.
    let p = policy();
    let cal = Calendar::official().unwrap();
    let k = trial_case(date!(2026 - 09 - 29));
    let fifth =
        case::file_material(&k, upload(MaterialKind::InitialMinutes, date!(2026 - 09 - 29)), None, &cal, ctx(&p, date!(2026 - 10 - 12)))
            .unwrap();
    let m = fifth.state.materials.last().unwrap();
    assert_eq!((m.filing.deadline, m.filing.late), (date!(2026 - 10 - 12), false));
    let sixth =
        case::file_material(&k, upload(MaterialKind::InitialMinutes, date!(2026 - 09 - 29)), None, &cal, ctx(&p, date!(2026 - 10 - 13)))
            .unwrap();
    let m = sixth.state.materials.last().unwrap();
    assert!(m.filing.late, "late is accepted and marked");
    assert_eq!(sixth.effects.rule_ids, vec!["R-P5", "R-X1"]);
    // R-P5: the name in the material equals the approval document's.
    let mut other = upload(MaterialKind::InitialMinutes, date!(2026 - 09 - 29));
    other.project_name = "别的项目".into();
    let r = case::file_material(&k, other, None, &cal, ctx(&p, date!(2026 - 10 - 12))).unwrap_err();
    assert_eq!(r.rule_ids(), vec!["R-P5"]);
}

fn report(from: Date, to: Date, source: ReportSource) -> TrialReport {
    TrialReport { period_from: from, period_to: to, external_reference: "ZJ-2026-001".into(), source }
}

#[test]
fn r_a2_the_trial_report_covers_the_trial() {
    let p = policy();
    let cal = Calendar::official().unwrap();
    let k = trial_case(date!(2026 - 03 - 10));
    let on = date!(2026 - 04 - 09);
    let short = case::file_material(
        &k,
        upload(MaterialKind::TrialOperationReport, on),
        Some(report(date!(2026 - 03 - 10), date!(2026 - 04 - 07), ReportSource::ProvincialSystem)),
        &cal,
        ctx(&p, on),
    )
    .unwrap_err();
    assert_eq!(short.rule_ids(), vec!["R-A2"], "29 days covered");
    let c = case::file_material(
        &k,
        upload(MaterialKind::TrialOperationReport, on),
        Some(report(date!(2026 - 03 - 10), date!(2026 - 04 - 08), ReportSource::ProvincialSystem)),
        &cal,
        ctx(&p, on),
    )
    .unwrap();
    assert_eq!(c.state.trial.as_ref().unwrap().report_source, Some(ReportSource::ProvincialSystem));
    assert_eq!(c.event_types(), vec![types::TRIAL_REPORT_DEPOSITED]);
    // Not through the ordinary upload path.
    let r = case::file_material(&k, upload(MaterialKind::TrialOperationReport, on), None, &cal, ctx(&p, on)).unwrap_err();
    assert_eq!(r.fields(), vec!["header.kind"]);
    // Before initial acceptance passed there is no trial to report on.
    let fresh = opened(Channel::GovernmentProcurement);
    let r = case::file_material(
        &fresh,
        upload(MaterialKind::TrialOperationReport, on),
        Some(report(date!(2026 - 03 - 10), date!(2026 - 04 - 08), ReportSource::Manual)),
        &cal,
        ctx(&p, on),
    )
    .unwrap_err();
    assert_eq!(r.rule_ids(), vec!["R-A2"]);
}

// R-A3 ----------------------------------------------------------------

fn basis() -> ProjectBasis {
    ProjectBasis {
        approved_name: NAME.into(),
        approved_scope: "救助审核、救助发放".into(),
        approval_cancelled: false,
        category: "BUSINESS_APPLICATION".into(),
        function_modules: vec!["救助审核".into(), "救助发放".into()],
        expert_opinion: Some(ExpertOpinion { passed: true, opinion: "同意".into() }),
        procurement_state: "CONSTRUCTION_COMPLETED".into(),
    }
}

fn application() -> Application {
    Application {
        built_modules: vec!["救助审核".into(), "救助发放".into()],
        goals_met: true,
        function_performance_met: true,
        statement: "已按立项、方案和合同完成全部建设内容".into(),
        partial: false,
        parties: Parties::default(),
    }
}

/// A case whose trial started on `started` with every material filed and the report in.
fn ready(started: Date) -> AcceptanceCase {
    let p = policy();
    let cal = Calendar::official().unwrap();
    let mut k = trial_case(started);
    let on = started + time::Duration::days(30);
    for kind in [
        MaterialKind::InitialPanelOpinions,
        MaterialKind::InitialMinutes,
        MaterialKind::InitialTestReport,
        MaterialKind::FunctionPerformanceTestReport,
        MaterialKind::ClassifiedProtectionAssessment,
        MaterialKind::XinchuangAssessment,
        MaterialKind::ConstructionSummary,
    ] {
        k = case::file_material(&k, upload(kind, started), None, &cal, ctx(&p, started)).unwrap().state;
    }
    let r = report(started, on - time::Duration::days(1), ReportSource::ProvincialSystem);
    case::file_material(
        &k,
        upload(MaterialKind::TrialOperationReport, on - time::Duration::days(1)),
        Some(r),
        &cal,
        ctx(&p, on - time::Duration::days(1)),
    )
    .unwrap()
    .state
}

#[test]
fn r_a3_applied_for_on_trial_day_29_and_day_30() {
    let p = policy();
    let k = ready(date!(2026 - 03 - 10));
    let day_29 = case::apply(&k, application(), &basis(), ctx(&p, date!(2026 - 04 - 08))).unwrap_err();
    assert_eq!(day_29.rule_ids(), vec!["R-A2"], "{day_29}");
    let day_30 = case::apply(&k, application(), &basis(), ctx(&p, date!(2026 - 04 - 09))).unwrap();
    assert_eq!(day_30.state.state, CaseState::ApplicationReview);
    assert_eq!(day_30.event_types(), vec![types::APPLIED]);
    let a = day_30.state.application().unwrap();
    assert!(a.checks.iter().all(|c| c.satisfied), "{:?}", a.checks);
    assert_eq!(day_30.state.parties.operator_unit_id, "U-CIVIL");
    assert_eq!(day_30.state.parties.user_unit_ids, vec!["U-CIVIL", "U-STREET"]);
    assert_eq!(day_30.state.category, "BUSINESS_APPLICATION");
}

#[test]
fn r_a3_every_missing_item_is_listed_at_once() {
    let p = policy();
    let k = trial_case(date!(2026 - 03 - 10));
    let mut a = application();
    a.built_modules = vec!["救助审核".into()];
    a.goals_met = false;
    a.function_performance_met = false;
    a.partial = true;
    let mut b = basis();
    b.procurement_state = "CONSTRUCTION".into();
    let r = case::apply(&k, a, &b, ctx(&p, date!(2026 - 04 - 09))).unwrap_err();
    let Refusal::Rules(v) = &r else { panic!("{r}") };
    let subjects: Vec<&str> = v.iter().map(|x| x.subject.as_str()).collect();
    for s in ["partial", "contract", "built_modules", "goals_met", "function_performance_met", "materials", "trial_report"] {
        assert!(subjects.contains(&s), "{s} missing from {subjects:?}");
    }
    assert!(r.to_string().contains("救助发放"), "the module not built is named: {r}");
    assert!(v.iter().all(|x| x.rule_id == "R-A3"), "{r}");
    // Level 3 needs the 等保 report; a level-1 system does not.
    let missing = |k: &AcceptanceCase| {
        let r = case::apply(k, application(), &basis(), ctx(&p, date!(2026 - 04 - 09))).unwrap_err();
        r.to_string()
    };
    assert!(missing(&k).contains("等保测评报告"));
    let mut low = k.clone();
    low.handover.classified_protection_level = 1;
    assert!(!missing(&low).contains("等保测评报告"));
}

#[test]
fn r_a3_drb_reviews_before_acceptance_starts() {
    let p = policy();
    let k = ready(date!(2026 - 03 - 10));
    let d = date!(2026 - 04 - 09);
    let applied = case::apply(&k, application(), &basis(), ctx(&p, d)).unwrap().state;
    // Not again while DRB reviews; not recorded before DRB approves.
    assert_eq!(case::apply(&applied, application(), &basis(), ctx(&p, d)).unwrap_err().rule_ids(), vec!["R-A3"]);
    assert_eq!(
        case::record_acceptance(&applied, held(d, Organiser::Drb, &[true, true, true]), ctx(&p, d)).unwrap_err().rule_ids(),
        vec!["R-A3"]
    );
    assert_eq!(case::review_application(&applied, false, " ", "drb-1", ctx(&p, d)).unwrap_err().fields(), vec!["reasons"]);
    let returned = case::review_application(&applied, false, "试运行报告不完整", "drb-1", ctx(&p, d)).unwrap();
    assert_eq!(returned.state.state, CaseState::TrialOperation);
    let approved = case::review_application(&applied, true, "", "drb-1", ctx(&p, d)).unwrap();
    assert_eq!(approved.state.state, CaseState::Acceptance);
    assert_eq!(approved.event_types(), vec![types::APPLICATION_REVIEWED]);
}

// R-A4 and R-A5 -----------------------------------------------------------

fn held(d: Date, recorded_as: Organiser, votes: &[bool]) -> AcceptanceHeld {
    use Specialty::*;
    let all = [InformationTechnology, Cybersecurity, BusinessDomain];
    AcceptanceHeld {
        held_on: d,
        experts: votes.iter().enumerate().map(|(i, v)| member(&format!("验收专家{i}"), &[all[i % 3]], *v)).collect(),
        conclusion: "验收结论".into(),
        costs: Fen::new(2_000_000).unwrap(),
        drb_joined: false,
        recorded_as,
        recorded_by: "x".into(),
    }
}

fn in_acceptance(channel: Channel) -> AcceptanceCase {
    let p = policy();
    let mut k = ready(date!(2026 - 03 - 10));
    k.handover.channel = channel;
    let d = date!(2026 - 04 - 09);
    let applied = case::apply(&k, application(), &basis(), ctx(&p, d)).unwrap().state;
    case::review_application(&applied, true, "", "drb-1", ctx(&p, d)).unwrap().state
}

#[test]
fn r_a4_the_channel_decides_the_organiser() {
    let p = policy();
    let d = date!(2026 - 04 - 15);
    let gov = in_acceptance(Channel::GovernmentProcurement);
    assert_eq!(case::record_acceptance(&gov, held(d, Organiser::Unit, &[true; 3]), ctx(&p, d)).unwrap_err().rule_ids(), vec!["R-A4"]);
    let c = case::record_acceptance(&gov, held(d, Organiser::Drb, &[true; 3]), ctx(&p, d)).unwrap();
    assert!(c.state.acceptances[0].drb_joined, "DRB leads");
    let small = in_acceptance(Channel::SmallPublicResourceTrading);
    assert_eq!(case::record_acceptance(&small, held(d, Organiser::Drb, &[true; 3]), ctx(&p, d)).unwrap_err().rule_ids(), vec!["R-A4"]);
    let mut by_unit = held(d, Organiser::Unit, &[true; 3]);
    by_unit.drb_joined = true;
    let c = case::record_acceptance(&small, by_unit, ctx(&p, d)).unwrap();
    assert_eq!((c.state.acceptances[0].organiser, c.state.acceptances[0].drb_joined), (Organiser::Unit, true));
    assert_eq!(c.state.acceptances[0].costs, Fen::new(2_000_000).unwrap(), "costs recorded as the unit's");
}

#[test]
fn r_a5_a_pass_puts_the_system_into_use() {
    let p = policy();
    let d = date!(2026 - 04 - 15);
    let c =
        case::record_acceptance(&in_acceptance(Channel::GovernmentProcurement), held(d, Organiser::Drb, &[true, true, false]), ctx(&p, d))
            .unwrap();
    assert_eq!(c.state.state, CaseState::Accepted);
    assert_eq!(c.state.accepted_on, Some(d));
    assert_eq!(c.event_types(), vec![types::ACCEPTED]);
    let egov_proto::events::event_envelope::Payload::ProjectAccepted(e) = &c.effects.events[0].payload else { panic!() };
    assert_eq!(e.function_modules, vec!["救助审核", "救助发放"]);
    assert_eq!(e.go_live_on.as_ref().map(|g| (g.year, g.month, g.day)), Some((2026, 4, 15)));
    assert_eq!((e.operator_unit_id.as_str(), e.category.as_str()), ("U-CIVIL", "BUSINESS_APPLICATION"));
}

fn failed(d: Date) -> Change<AcceptanceCase> {
    let p = policy();
    case::record_acceptance(&in_acceptance(Channel::GovernmentProcurement), held(d, Organiser::Drb, &[false, false, true]), ctx(&p, d))
        .unwrap()
}

#[test]
fn r_a5_a_failure_sets_the_rectification_deadline_and_its_timer() {
    let c = failed(date!(2026 - 04 - 15));
    assert_eq!(c.state.state, CaseState::Rectification);
    assert_eq!(c.state.rectify_by, Some(date!(2026 - 06 - 15)), "two months, counted as every period");
    assert_eq!(c.event_types(), vec![types::FAILED]);
    let [TimerOp::Set { kind, due_at, .. }] = c.effects.timers.as_slice() else { panic!("{:?}", c.effects.timers) };
    assert_eq!((*kind, *due_at), (case::RECTIFICATION_DEADLINE, shanghai(date!(2026 - 06 - 16), time!(0:00))));
    assert!(c.state.accepted_on.is_none(), "a failed project is never marked in use");
}

#[test]
fn r_a5_re_application_on_the_last_day_and_the_day_after() {
    let p = policy();
    let cal = Calendar::official().unwrap();
    let k = failed(date!(2026 - 04 - 15)).state;
    // Without the rectification report, refused under R-A5.
    let r = case::apply(&k, application(), &basis(), ctx(&p, date!(2026 - 06 - 15))).unwrap_err();
    assert_eq!(r.rule_ids(), vec!["R-A5"], "{r}");
    let k = case::file_material(
        &k,
        upload(MaterialKind::RectificationReport, date!(2026 - 06 - 10)),
        None,
        &cal,
        ctx(&p, date!(2026 - 06 - 10)),
    )
    .unwrap()
    .state;
    let last = case::apply(&k, application(), &basis(), ctx(&p, date!(2026 - 06 - 15))).unwrap();
    assert_eq!(last.state.state, CaseState::ApplicationReview);
    assert!(last.effects.timers.contains(&TimerOp::Cancel { kind: case::RECTIFICATION_DEADLINE, key: k.project_id.to_string() }));
    let after = case::apply(&k, application(), &basis(), ctx(&p, date!(2026 - 06 - 16))).unwrap_err();
    assert_eq!(after.rule_ids(), vec!["R-A5"]);
    // The timer: nothing on the last day, lapsed (DRB alerted) the day after.
    assert!(case::rectification_lapsed(&k, ctx(&p, date!(2026 - 06 - 15))).is_none());
    let lapsed = case::rectification_lapsed(&k, ctx(&p, date!(2026 - 06 - 16))).unwrap();
    assert_eq!(lapsed.state.state, CaseState::RectificationLapsed);
    assert_eq!(lapsed.event_types(), vec![types::RECTIFICATION_OVERDUE]);
    assert!(case::rectification_lapsed(&last.state, ctx(&p, date!(2026 - 07 - 01))).is_none(), "re-applied in time");
    // A lapsed case takes nothing more.
    assert_eq!(case::apply(&lapsed.state, application(), &basis(), ctx(&p, date!(2026 - 06 - 16))).unwrap_err().rule_ids(), vec!["R-A5"]);
}

#[test]
fn a_terminated_project_closes_its_open_case_once() {
    let p = policy();
    let k = opened(Channel::GovernmentProcurement);
    let c = case::close(&k, "项目终止", "R-P10", ctx(&p, date!(2026 - 03 - 05))).unwrap();
    assert_eq!(c.state.state, CaseState::Closed);
    assert_eq!(c.event_types(), vec![types::CASE_CLOSED]);
    assert!(case::close(&c.state, "again", "R-P10", ctx(&p, date!(2026 - 03 - 05))).is_none());
    let r =
        case::record_initial_acceptance(&c.state, initial(date!(2026 - 03 - 05), panel_of(3)), ctx(&p, date!(2026 - 03 - 05))).unwrap_err();
    assert_eq!(r.rule_ids(), vec!["R-P10"]);
    let accepted = case::record_acceptance(
        &in_acceptance(Channel::GovernmentProcurement),
        held(date!(2026 - 04 - 15), Organiser::Drb, &[true; 3]),
        ctx(&p, date!(2026 - 04 - 15)),
    )
    .unwrap()
    .state;
    assert!(case::close(&accepted, "项目终止", "R-P10", ctx(&p, date!(2026 - 05 - 01))).is_none(), "an accepted project's case stays");
}

#[test]
fn out_of_order_steps_name_their_rule_and_no_debug_values() {
    let p = policy();
    let k = trial_case(date!(2026 - 03 - 10));
    let again =
        case::record_initial_acceptance(&k, initial(date!(2026 - 03 - 11), panel_of(3)), ctx(&p, date!(2026 - 03 - 11))).unwrap_err();
    assert_eq!(again.rule_ids(), vec!["R-A1"]);
    let r = case::review_application(&k, true, "", "drb", ctx(&p, date!(2026 - 03 - 11))).unwrap_err();
    assert_eq!(r.rule_ids(), vec!["R-A3"]);
    for r in [again, r] {
        let Refusal::Rules(v) = &r else { panic!() };
        assert!(v.iter().all(|x| x.rule_id != "STATE" && !x.description.contains("CaseState")), "{r}");
    }
}
