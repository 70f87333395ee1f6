//! The transitions tested on the Change they return, without a database: every R-E rule allowed,
//! refused (rule id asserted) and at its boundary.

use egov_platform::{
    Refusal,
    clock::{shanghai, start_of_day},
    policy::{Policy, PolicyBook},
    transition::{Change, Context, TimerOp},
};
use time::{Date, macros::date, macros::time};
use uuid::Uuid;

use super::{entry::*, *};

fn policy() -> Policy {
    (*PolicyBook::load("").unwrap().in_force(date!(2026 - 01 - 01))).clone()
}

fn ctx(p: &Policy, day: Date) -> Context<'_> {
    Context::new(shanghai(day, time!(10:00)), p)
}

fn accepted(category: &str, level: u32, important: bool) -> Accepted {
    Accepted {
        project_id: Uuid::now_v7(),
        name: "上城区社会救助一件事".into(),
        category: category.into(),
        functions: vec![Function { name: "低保网上申办".into(), description: "群众在浙里办申请低保".into() }],
        go_live_on: date!(2026 - 03 - 15),
        classified_protection_level: level,
        important_system: important,
        builder_unit_id: "U-CIVIL".into(),
        operator_unit_id: String::new(),
        user_unit_ids: vec!["U-CIVIL".into()],
    }
}

fn app(p: &Policy) -> Entry {
    catalogue_accepted(accepted("BUSINESS_APPLICATION", 3, true), ctx(p, date!(2026 - 03 - 16))).state
}

fn rules(r: Refusal) -> Vec<String> {
    r.rule_ids().into_iter().map(String::from).collect()
}

fn score_all(e: &Entry, id: Uuid, points: u32, p: &Policy, day: Date) -> Entry {
    let mut e = e.clone();
    for role in ["DRB", "FINANCE"] {
        let scores = p
            .evaluation
            .indicators
            .iter()
            .filter(|i| i.assessed_by == role)
            .map(|i| NewScore { indicator: i.code.clone(), score: points, comment: String::new() })
            .collect();
        e = record_scores(&e, id, scores, "tester", role, p, ctx(p, day)).unwrap().state;
    }
    e
}

/// An application evaluated on `day` with `points` in every indicator.
fn evaluated(e: &Entry, points: u32, p: &Policy, day: Date) -> Change<Entry> {
    let id = Uuid::now_v7();
    let opened = open_evaluation(e, id, p, ctx(p, day)).unwrap().state;
    let scored = score_all(&opened, id, points, p, day);
    publish(&scored, id, "", p, ctx(p, day)).unwrap()
}

#[test]
fn r_e1_accepted_project_is_catalogued_with_its_parties_schedule_and_tracks() {
    let p = policy();
    let c = catalogue_accepted(accepted("BUSINESS_APPLICATION", 3, true), ctx(&p, date!(2026 - 03 - 16)));
    assert_eq!(c.state.operator_unit_id, "U-CIVIL", "the builder runs it unless another operator is named");
    assert_eq!(c.state.project_id, c.state.entry_id.to_string());
    // Business applications first: 6 months after 2026-03-15.
    assert_eq!(c.state.schedule.as_ref().unwrap().next_due_on, date!(2026 - 09 - 15));
    assert_eq!(c.event_types(), vec!["evaluation.application.catalogued"]);
    assert_eq!(c.state.assessments.len(), 2);
    assert!(
        c.effects
            .timers
            .iter()
            .any(|t| matches!(t, TimerOp::Set { kind: EVALUATION_DUE, due_at, .. } if *due_at == start_of_day(date!(2026 - 09 - 15))))
    );
    let other = catalogue_accepted(accepted("DATA_RESOURCE", 2, false), ctx(&p, date!(2026 - 03 - 16)));
    assert_eq!(other.state.schedule.as_ref().unwrap().next_due_on, date!(2027 - 03 - 15));
    assert!(other.state.assessments.is_empty(), "level 2 and not important: nothing yearly to track");
}

#[test]
fn r_e1_units_register_resources_not_applications() {
    let p = policy();
    let n = NewEntry {
        kind: Some(EntryKind::Data), name: "低保家庭数据".into(), builder_unit_id: "U-CIVIL".into(), ..Default::default()
    };
    let c = register(Uuid::now_v7(), n.clone(), None, ctx(&p, date!(2026 - 04 - 01))).unwrap();
    assert_eq!(c.event_types(), vec!["evaluation.entry.registered"]);
    let bad = register(Uuid::now_v7(), NewEntry { kind: Some(EntryKind::Application), ..n.clone() }, None, ctx(&p, date!(2026 - 04 - 01)));
    assert_eq!(bad.unwrap_err().fields(), vec!["entry.kind"]);
    let mut gone = app(&p);
    gone.state = EntryState::Eliminated;
    let r = register(Uuid::now_v7(), n, Some(&gone), ctx(&p, date!(2026 - 04 - 01))).unwrap_err();
    assert_eq!(rules(r), vec!["R-E1"]);
}

#[test]
fn r_e2_scores_by_role_and_publication_needs_every_indicator() {
    let p = policy();
    let e = app(&p);
    let id = Uuid::now_v7();
    let day = date!(2026 - 09 - 20);
    let opened = open_evaluation(&e, id, &p, ctx(&p, day)).unwrap().state;
    assert_eq!(
        rules(open_evaluation(&opened, Uuid::now_v7(), &p, ctx(&p, day)).unwrap_err()),
        vec!["R-E2"],
        "one open evaluation at a time"
    );
    let wrong = record_scores(
        &opened,
        id,
        vec![NewScore { indicator: "COST".into(), score: 80, comment: String::new() }],
        "x",
        "DRB",
        &p,
        ctx(&p, day),
    );
    assert_eq!(rules(wrong.unwrap_err()), vec!["R-E2"], "COST is FINANCE's");
    let bad = record_scores(
        &opened,
        id,
        vec![NewScore { indicator: "NOPE".into(), score: 101, comment: String::new() }],
        "x",
        "DRB",
        &p,
        ctx(&p, day),
    );
    assert_eq!(bad.unwrap_err().fields(), vec!["scores[0].indicator", "scores[0].score"]);
    let part = record_scores(
        &opened,
        id,
        vec![NewScore { indicator: "USAGE".into(), score: 80, comment: String::new() }],
        "x",
        "DRB",
        &p,
        ctx(&p, day),
    )
    .unwrap()
    .state;
    let early = publish(&part, id, "", &p, ctx(&p, day)).unwrap_err();
    assert_eq!(rules(early), vec!["R-E2"]);
    let done = publish(&score_all(&opened, id, 85, &p, day), id, "", &p, ctx(&p, day)).unwrap();
    let r = done.state.evaluation(id).unwrap();
    assert_eq!((r.score_centi, r.grade, r.passed), (8500, Some(Grade::Good), true));
    assert_eq!(r.funding_bp, 10000, "R-E4: the grade's funding recommendation");
    assert_eq!(done.state.schedule.as_ref().unwrap().next_due_on, date!(2027 - 09 - 20));
    assert_eq!(done.event_types(), vec!["evaluation.evaluation.published"]);
    assert_eq!(rules(publish(&done.state, id, "", &p, ctx(&p, day)).unwrap_err()), vec!["R-E2"], "published once");
}

#[test]
fn grades_at_their_thresholds() {
    let p = policy();
    let score = |points: u32| {
        let scores: Vec<Score> = p
            .evaluation
            .indicators
            .iter()
            .map(|i| Score {
                indicator: i.code.clone(),
                score: points,
                comment: String::new(),
                scored_by: String::new(),
                scored_by_role: String::new(),
            })
            .collect();
        grade_of(&scores, &p.evaluation).map(|(c, g, _)| (c, g))
    };
    assert_eq!(score(90), Some((9000, Grade::Excellent)));
    assert_eq!(score(89), Some((8900, Grade::Good)));
    assert_eq!(score(60), Some((6000, Grade::Pass)));
    assert_eq!(score(59), Some((5900, Grade::Fail)));
    assert!(passes(Grade::Pass, &p.evaluation) && !passes(Grade::Fail, &p.evaluation));
}

#[test]
fn r_e3_rectification_on_the_deadline_day_clears_the_day_after_does_not() {
    let p = policy();
    let day = date!(2026 - 09 - 20);
    let failed = evaluated(&app(&p), 50, &p, day);
    let r = failed.state.rectification.clone().unwrap();
    assert_eq!((r.status, r.rectify_by), (RectificationStatus::Pending, date!(2026 - 12 - 20)));
    assert!(
        failed.effects.timers.iter().any(
            |t| matches!(t, TimerOp::Set { kind: RECTIFICATION_DEADLINE, due_at, .. } if *due_at == start_of_day(date!(2026 - 12 - 21)))
        )
    );
    // On the deadline day: a passing re-evaluation clears it; elimination may not be proposed.
    let on_time = evaluated(&failed.state, 70, &p, date!(2026 - 12 - 20));
    assert_eq!(on_time.state.rectification.as_ref().unwrap().status, RectificationStatus::Rectified);
    assert!(on_time.event_types().contains(&"evaluation.rectification.cleared"));
    let too_soon = propose_elimination(&failed.state, "低绩未整改", "drb", ctx(&p, date!(2026 - 12 - 20))).unwrap_err();
    assert_eq!(rules(too_soon), vec!["R-E3"]);
    assert!(rectification_lapsed(&failed.state, ctx(&p, date!(2026 - 12 - 20))).is_none());
    // The day after: overdue; a passing evaluation then is late and leaves it overdue.
    let overdue = rectification_lapsed(&failed.state, ctx(&p, date!(2026 - 12 - 21))).unwrap();
    assert_eq!(overdue.event_types(), vec!["evaluation.rectification.overdue"]);
    let late = evaluated(&overdue.state, 70, &p, date!(2026 - 12 - 21));
    assert_eq!(late.state.rectification.as_ref().unwrap().status, RectificationStatus::Overdue);
    assert!(propose_elimination(&late.state, "低绩未按期整改", "drb", ctx(&p, date!(2026 - 12 - 21))).is_ok());
    assert_eq!(rules(propose_elimination(&app(&p), "x", "drb", ctx(&p, day)).unwrap_err()), vec!["R-E3"], "no low grade, no elimination");
}

#[test]
fn r_e3_elimination_needs_the_leaders_approval() {
    let p = policy();
    let failed = evaluated(&app(&p), 40, &p, date!(2026 - 09 - 20)).state;
    let later = date!(2027 - 01 - 05);
    let proposed = propose_elimination(&failed, "低绩未按期整改", "drb", ctx(&p, later)).unwrap().state;
    assert_eq!(rules(eliminate(&proposed, ctx(&p, later)).unwrap_err()), vec!["R-E3"], "not without the leader's approval");
    assert_eq!(rules(eliminate(&failed, ctx(&p, later)).unwrap_err()), vec!["R-E3"]);
    let rejected = decide_elimination(&proposed, false, "再给一次机会", "leader", ctx(&p, later)).unwrap().state;
    assert_eq!(rules(eliminate(&rejected, ctx(&p, later)).unwrap_err()), vec!["R-E3"]);
    let approved = decide_elimination(&proposed, true, "同意", "leader", ctx(&p, later)).unwrap().state;
    assert_eq!(rules(decide_elimination(&approved, true, "", "leader", ctx(&p, later)).unwrap_err()), vec!["R-E3"]);
    let gone = eliminate(&approved, ctx(&p, later)).unwrap();
    assert_eq!(gone.state.state, EntryState::Eliminated);
    assert_eq!(gone.event_types(), vec!["evaluation.application.eliminated"]);
    assert!(gone.effects.timers.iter().any(|t| matches!(t, TimerOp::Cancel { kind: EVALUATION_DUE, .. })));
    assert_eq!(rules(open_evaluation(&gone.state, Uuid::now_v7(), &p, ctx(&p, later)).unwrap_err()), vec!["R-E2"]);
}

#[test]
fn r_e5_sharing_rectified_on_the_deadline_day_or_delisted_the_day_after() {
    let p = policy();
    let e = app(&p);
    assert_eq!(record_sharing_violation(&e, " ", ctx(&p, date!(2026 - 04 - 30))).unwrap_err().fields(), vec!["description"]);
    let v = record_sharing_violation(&e, "未按目录共享低保数据", ctx(&p, date!(2026 - 04 - 30))).unwrap();
    assert_eq!(v.state.sharing.as_ref().unwrap().rectify_by, date!(2026 - 07 - 30));
    assert_eq!(rules(record_sharing_violation(&v.state, "again", ctx(&p, date!(2026 - 05 - 01))).unwrap_err()), vec!["R-E5"]);
    let fixed = record_sharing_rectified(&v.state, "已接入共享", ctx(&p, date!(2026 - 07 - 30))).unwrap();
    assert_eq!(fixed.state.sharing.as_ref().unwrap().status, SharingStatus::Rectified);
    assert_eq!(rules(record_sharing_rectified(&v.state, "迟了", ctx(&p, date!(2026 - 07 - 31))).unwrap_err()), vec!["R-E5"]);
    assert!(sharing_lapsed(&v.state, ctx(&p, date!(2026 - 07 - 30))).is_none());
    let delisted = sharing_lapsed(&v.state, ctx(&p, date!(2026 - 07 - 31))).unwrap();
    assert_eq!(delisted.state.state, EntryState::Delisted);
    assert_eq!(delisted.event_types(), vec!["evaluation.entry.delisted"]);
    assert!(sharing_lapsed(&fixed.state, ctx(&p, date!(2026 - 08 - 01))).is_none());
}

#[test]
fn r_e6_stop_two_years_less_a_day_suspends_two_years_and_a_day_does_not() {
    let p = policy();
    let e = app(&p); // went live 2026-03-15
    let early = stop(&e, "业务调整", "U-CIVIL", ctx(&p, date!(2028 - 03 - 14))).unwrap();
    assert_eq!(early.event_types(), vec!["evaluation.application.stopped", "evaluation.unit.eligibility_suspended"]);
    assert_eq!(early.state.early_stop.as_ref().unwrap().ineligible_year, Some(2029));
    let late = stop(&e, "业务调整", "U-CIVIL", ctx(&p, date!(2028 - 03 - 16))).unwrap();
    assert_eq!(late.event_types(), vec!["evaluation.application.stopped"]);
    assert_eq!(late.state.state, EntryState::Stopped);
    assert_eq!(rules(stop(&late.state, "again", "U-CIVIL", ctx(&p, date!(2028 - 04 - 01))).unwrap_err()), vec!["R-E6"]);
    assert_eq!(stop(&e, "", "U-CIVIL", ctx(&p, date!(2028 - 03 - 16))).unwrap_err().fields(), vec!["reason"]);
}

#[test]
fn r_e7_yearly_assessments_reminded_flagged_and_recorded() {
    let p = policy();
    let e = app(&p);
    let t = &e.assessments[0];
    assert_eq!(t.due_on, date!(2027 - 03 - 15));
    let reminded = assessment_reminder(&e, AssessmentKind::ClassifiedProtection, ctx(&p, date!(2027 - 02 - 13))).unwrap();
    assert_eq!(reminded.event_types(), vec!["evaluation.assessment.reminder"]);
    assert!(
        assessment_lapsed(&e, AssessmentKind::ClassifiedProtection, ctx(&p, date!(2027 - 03 - 15))).is_none(),
        "due day itself is in time"
    );
    let overdue = assessment_lapsed(&e, AssessmentKind::ClassifiedProtection, ctx(&p, date!(2027 - 03 - 16))).unwrap();
    assert!(overdue.state.assessments[0].overdue);
    let done = DoneAssessment {
        kind: AssessmentKind::ClassifiedProtection,
        done_on: date!(2027 - 03 - 20),
        conclusion: "符合".into(),
        report_reference: "等保测评报告 2027-001".into(),
    };
    let recorded = record_assessment(&overdue.state, done.clone(), ctx(&p, date!(2027 - 03 - 21))).unwrap();
    let t = &recorded.state.assessments[0];
    assert_eq!((t.overdue, t.due_on), (false, date!(2028 - 03 - 20)));
    let other = catalogue_accepted(accepted("DATA_RESOURCE", 2, false), ctx(&p, date!(2026 - 03 - 16))).state;
    assert_eq!(rules(record_assessment(&other, done.clone(), ctx(&p, date!(2027 - 03 - 21))).unwrap_err()), vec!["R-E7"]);
    let future = DoneAssessment { done_on: date!(2027 - 04 - 01), ..done };
    assert_eq!(record_assessment(&e, future, ctx(&p, date!(2027 - 03 - 21))).unwrap_err().fields(), vec!["done_on"]);
}

#[test]
fn evaluation_due_marks_the_schedule_once() {
    let p = policy();
    let e = app(&p);
    assert!(mark_due(&e, ctx(&p, date!(2026 - 09 - 14))).is_none());
    let due = mark_due(&e, ctx(&p, date!(2026 - 09 - 15))).unwrap();
    assert_eq!(due.event_types(), vec!["evaluation.evaluation.due"]);
    assert!(mark_due(&due.state, ctx(&p, date!(2026 - 09 - 16))).is_none());
}

#[test]
fn imports_update_only_what_changed() {
    let p = policy();
    let row = ImportedApp {
        external_key: "SC-001".into(),
        name: "社会救助".into(),
        source: Source::District,
        builder_unit_id: "区民政局".into(),
        operator_unit_id: String::new(),
        user_unit_ids: vec![],
        functions: vec![Function { name: "低保".into(), description: String::new() }],
    };
    let e = import_new(Uuid::now_v7(), row.clone(), ctx(&p, date!(2026 - 01 - 05))).state;
    assert!(import_update(&e, row.clone()).is_none());
    let changed = import_update(&e, ImportedApp { name: "社会救助一件事".into(), ..row }).unwrap();
    assert_eq!(changed.state.name, "社会救助一件事");
}
