//! R-E3, R-E5, R-E6, R-E7 through the API, on the service clock: rectification and elimination
//! with the leader's approval, sharing violations and delisting, early stop, yearly assessments.

use egov_platform::{
    auth::Role,
    period::{self, Period},
};
use egov_proto::{evaluation as pb, events::event_envelope::Payload};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn r_e3_unrectified_low_grade_is_eliminated_only_with_the_leaders_approval() {
    let app = TestApp::spawn().await;
    let e = accepted(&app, today(&app), "BUSINESS_APPLICATION", 2, false).await;
    let failed = evaluate(&app, &e.entry_id, 50).await;
    let rect = failed.rectification.clone().unwrap();
    assert_eq!(rect.status, pb::RectificationStatus::Pending as i32);
    let deadline = period::last_day(today(&app), Period::Months(3));
    assert_eq!(rect.rectify_by, Some(civil(deadline)));
    let propose =
        |etag: String| pb::ProposeEliminationRequest { app_id: e.entry_id.clone(), etag, reason: "低绩且未按期整改".into() };
    // On the deadline day the unit may still rectify: no proposal.
    app.move_to(deadline);
    let on_deadline = app.drb().propose_elimination(propose(failed.etag.clone())).await.unwrap_err();
    assert_eq!(rule_ids(&on_deadline), vec!["R-E3"]);
    // The day after: the timer flags it overdue.
    app.move_to(deadline.next_day().unwrap());
    let overdue = app
        .until(&e.entry_id, "the rectification is overdue", |e| {
            e.rectification.as_ref().is_some_and(|r| r.status == pb::RectificationStatus::Overdue as i32)
        })
        .await;
    let proposed = app.drb().propose_elimination(propose(overdue.etag.clone())).await.unwrap().into_inner();
    let eliminate = |etag: String| pb::EliminateApplicationRequest { app_id: e.entry_id.clone(), etag };
    assert_eq!(
        rule_ids(&app.drb().eliminate_application(eliminate(proposed.etag.clone())).await.unwrap_err()),
        vec!["R-E3"],
        "not without the leader"
    );
    let decide = pb::DecideEliminationRequest {
        app_id: e.entry_id.clone(),
        etag: proposed.etag.clone(),
        approve: true,
        comment: "同意强制淘汰".into(),
    };
    assert_eq!(app.drb().decide_elimination(decide.clone()).await.unwrap_err().code(), Code::PermissionDenied);
    let approved = app.as_role(Role::Leader, None).decide_elimination(decide).await.unwrap().into_inner();
    let gone = app.drb().eliminate_application(eliminate(approved.etag)).await.unwrap().into_inner();
    assert_eq!(gone.state, pb::EntryState::Eliminated as i32);
    assert_eq!(app.events("evaluation.application.eliminated").await.len(), 1);
    assert_eq!(app.events("evaluation.rectification.overdue").await.len(), 1);
}

#[tokio::test]
async fn r_e3_a_passing_re_evaluation_on_the_deadline_day_clears_the_rectification() {
    let app = TestApp::spawn().await;
    let e = accepted(&app, today(&app), "DATA_RESOURCE", 2, false).await;
    evaluate(&app, &e.entry_id, 40).await;
    let deadline = period::last_day(today(&app), Period::Months(3));
    app.move_to(deadline);
    let cleared = evaluate(&app, &e.entry_id, 75).await;
    assert_eq!(cleared.rectification.unwrap().status, pb::RectificationStatus::Rectified as i32);
    assert_eq!(app.events("evaluation.rectification.cleared").await.len(), 1);
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind = 'evaluation.rectification_deadline' AND status = 'pending'")
            .fetch_one(&app.svc.pool)
            .await
            .unwrap();
    assert_eq!(pending, 0);
}

#[tokio::test]
async fn r_e5_sharing_rectified_on_the_deadline_day_or_delisted_after_it() {
    let app = TestApp::spawn().await;
    let a = accepted(&app, today(&app), "DATA_RESOURCE", 2, false).await;
    let b = accepted(&app, today(&app), "DATA_RESOURCE", 2, false).await;
    let record = |e: &pb::CatalogueEntry| pb::RecordSharingViolationRequest {
        entry_id: e.entry_id.clone(),
        etag: e.etag.clone(),
        description: "未按共享目录提供低保数据接口".into(),
    };
    let a = app.drb().record_sharing_violation(record(&a)).await.unwrap().into_inner();
    let b = app.drb().record_sharing_violation(record(&b)).await.unwrap().into_inner();
    assert_eq!(app.unit("U-CIVIL").record_sharing_violation(record(&a)).await.unwrap_err().code(), Code::PermissionDenied);
    let deadline = period::last_day(today(&app), Period::Months(3));
    assert_eq!(a.sharing_violation.as_ref().unwrap().rectify_by, Some(civil(deadline)));
    app.move_to(deadline);
    let fixed = app
        .drb()
        .record_sharing_rectified(pb::RecordSharingRectifiedRequest {
            entry_id: a.entry_id.clone(),
            etag: a.etag.clone(),
            note: "已接入".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fixed.sharing_violation.unwrap().status, "RECTIFIED");
    app.move_to(deadline.next_day().unwrap());
    let delisted = app.until(&b.entry_id, "the unrectified resource is delisted", |e| e.state == pb::EntryState::Delisted as i32).await;
    let late = app
        .drb()
        .record_sharing_rectified(pb::RecordSharingRectifiedRequest {
            entry_id: b.entry_id.clone(),
            etag: delisted.etag,
            note: "迟了".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(rule_ids(&late), vec!["R-E5"]);
    assert_eq!(app.entry(&a.entry_id).await.state, pb::EntryState::Listed as i32);
}

#[tokio::test]
async fn r_e6_a_stop_two_years_less_a_day_after_going_live_suspends_the_unit_a_day_after_two_years_does_not() {
    let app = TestApp::spawn().await;
    let day = today(&app);
    // Went live two years less a day ago (the anniversary is tomorrow) / two years and a day ago.
    let early = accepted(&app, years_from(day, -2).next_day().unwrap(), "BUSINESS_APPLICATION", 2, false).await;
    let late = accepted(&app, years_from(day, -2).previous_day().unwrap(), "BUSINESS_APPLICATION", 2, false).await;
    // Both first evaluations fell due long ago: their timers fire at once.
    let due = |e: &pb::CatalogueEntry| e.schedule.as_ref().is_some_and(|s| s.due);
    let early = app.until(&early.entry_id, "the overdue evaluation is marked due", due).await;
    let late = app.until(&late.entry_id, "the overdue evaluation is marked due", due).await;
    let stop = |e: &pb::CatalogueEntry| pb::StopApplicationRequest {
        app_id: e.entry_id.clone(),
        etag: e.etag.clone(),
        reason: "业务并入省级系统".into(),
    };
    assert_eq!(app.unit("U-OTHER").stop_application(stop(&early)).await.unwrap_err().code(), Code::PermissionDenied);
    let bad = pb::StopApplicationRequest { reason: String::new(), ..stop(&early) };
    assert_eq!(fields(&app.unit("U-CIVIL").stop_application(bad).await.unwrap_err()), vec!["reason"]);
    let stopped = app.unit("U-CIVIL").stop_application(stop(&early)).await.unwrap().into_inner();
    assert_eq!(stopped.early_stop.as_ref().unwrap().ineligible_year, day.year() + 1);
    let after = app.unit("U-CIVIL").stop_application(stop(&late)).await.unwrap().into_inner();
    assert!(!after.early_stop.as_ref().unwrap().within_early_stop_years);
    let suspended = app.events("evaluation.unit.eligibility_suspended").await;
    assert_eq!(suspended.len(), 1);
    let Some(Payload::UnitEligibilitySuspended(s)) = &suspended[0].payload else { panic!("{suspended:?}") };
    assert_eq!((s.unit_id.as_str(), s.year, s.app_id.as_str()), ("U-CIVIL", day.year() + 1, early.entry_id.as_str()));
    assert_eq!(app.events("evaluation.application.stopped").await.len(), 2);
    let again = app.unit("U-CIVIL").stop_application(stop(&stopped)).await.unwrap_err();
    assert_eq!(rule_ids(&again), vec!["R-E6"]);
}

#[tokio::test]
async fn r_e7_assessments_are_reminded_flagged_and_recorded() {
    let app = TestApp::spawn().await;
    let go_live = today(&app);
    let e = accepted(&app, go_live, "BUSINESS_APPLICATION", 3, true).await;
    assert_eq!(e.assessments.len(), 2);
    let due = period::last_day(go_live, Period::Months(12));
    app.move_to(due.previous_day().unwrap());
    app.until(&e.entry_id, "both assessments are reminded", |e| e.assessments.iter().all(|t| t.reminded)).await;
    app.move_to(due.next_day().unwrap());
    let overdue = app
        .until(&e.entry_id, "both assessments are overdue", |e| {
            // The first evaluation (due six months after going live) has fallen due too.
            e.assessments.iter().all(|t| t.overdue) && e.schedule.as_ref().is_some_and(|s| s.due)
        })
        .await;
    let listed =
        app.drb().list_assessments(pb::ListAssessmentsRequest { overdue_only: true, ..Default::default() }).await.unwrap().into_inner();
    assert_eq!(listed.assessments.len(), 2);
    let record = pb::RecordAssessmentRequest {
        app_id: e.entry_id.clone(),
        etag: overdue.etag.clone(),
        kind: pb::AssessmentKind::ClassifiedProtection as i32,
        done_on: Some(civil(due.next_day().unwrap())),
        conclusion: "基本符合".into(),
        report_reference: "等保测评报告 DJCP-001".into(),
    };
    let done = app.unit("U-CIVIL").record_assessment(record.clone()).await.unwrap().into_inner();
    let t = done.assessments.iter().find(|t| t.kind == pb::AssessmentKind::ClassifiedProtection as i32).unwrap();
    assert!(!t.overdue);
    assert_eq!(t.due_on, Some(civil(period::last_day(due.next_day().unwrap(), Period::Months(12)))));
    let bad = pb::RecordAssessmentRequest { kind: 0, done_on: None, etag: done.etag.clone(), ..record };
    let bad = app.unit("U-CIVIL").record_assessment(bad).await.unwrap_err();
    assert_eq!(fields(&bad), vec!["kind", "done_on"], "{bad:?}");
    assert_eq!(app.events("evaluation.assessment.overdue").await.len(), 2);
    // A level-2, not important system has nothing to record.
    let plain = accepted(&app, go_live, "DATA_RESOURCE", 2, false).await;
    // Its first evaluation fell due six months after going live, before today: that timer fires
    // at once and changes the entry, so the unit records against the entry as it then stands.
    let plain = app.until(&plain.entry_id, "the first evaluation is due", |e| e.schedule.as_ref().is_some_and(|s| s.due)).await;
    let r = pb::RecordAssessmentRequest {
        app_id: plain.entry_id.clone(),
        etag: plain.etag.clone(),
        kind: pb::AssessmentKind::Cryptography as i32,
        done_on: Some(civil(today(&app))),
        conclusion: "通过".into(),
        report_reference: String::new(),
    };
    assert_eq!(rule_ids(&app.unit("U-CIVIL").record_assessment(r).await.unwrap_err()), vec!["R-E7"]);
}
