//! The acceptance lifecycle over the API: opened from procurement's event, initial acceptance,
//! trial, application, DRB's review, acceptance and its outcomes, against real PostgreSQL and
//! RabbitMQ.

use egov_platform::{auth::Role, testing::eventually};
use egov_proto::acceptance as pb;
use time::Duration;

use crate::helpers::*;

async fn outbox_count(app: &App, routing_key: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE routing_key = $1").bind(routing_key).fetch_one(&app.svc.pool).await.unwrap()
}

/// A case through initial acceptance, every material, the trial and its report, as of the day
/// the trial completes: (id, case).
pub async fn trial_over(app: &App, channel: &str) -> (uuid::Uuid, pb::AcceptanceCase) {
    let (id, _) = app.opened(channel).await;
    let start = app.today();
    for kind in [pb::MaterialKind::InitialPanelOpinions, pb::MaterialKind::InitialMinutes, pb::MaterialKind::InitialTestReport] {
        app.file(id, kind, start, b"initial acceptance material").await.unwrap();
    }
    let k = app
        .unit()
        .record_initial_acceptance(pb::RecordInitialAcceptanceRequest {
            project_id: id.to_string(),
            etag: app.case(id).await.etag,
            held_on: day(start),
            panel: panel(&[true, true, true]),
            conclusion: "同意通过初验，进入试运行".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(k.state, pb::CaseState::TrialOperation as i32);
    for kind in [
        pb::MaterialKind::FunctionPerformanceTestReport,
        pb::MaterialKind::ClassifiedProtectionAssessment,
        pb::MaterialKind::XinchuangAssessment,
        pb::MaterialKind::ConstructionSummary,
    ] {
        app.file(id, kind, start, b"report").await.unwrap();
    }
    app.at(start + Duration::days(29));
    app.deposit(id, start, start + Duration::days(29), Role::Province).await.unwrap();
    app.at(start + Duration::days(30));
    (id, app.case(id).await)
}

#[tokio::test]
async fn from_construction_completed_to_accepted_once() {
    let app = App::spawn().await;
    let (id, e) = app.completed_event("GOVERNMENT_PROCUREMENT");
    // Delivered three times, once under another event id: one case.
    app.publish(&e).await;
    app.publish(&e).await;
    let mut again = e.clone();
    again.event_id = uuid::Uuid::now_v7().to_string();
    app.publish(&again).await;
    let k = app.wait_case(id).await;
    assert_eq!(k.state, pb::CaseState::InitialAcceptance as i32);
    assert_eq!(k.channel, pb::Channel::GovernmentProcurement as i32);
    let pool = app.svc.pool.clone();
    eventually(WAIT, "every delivery consumed", || {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_inbox").fetch_one(&pool).await.unwrap();
            n == 2
        }
    })
    .await;
    assert_eq!(outbox_count(&app, "acceptance.case.opened").await, 1);

    // Another project, all the way.
    let (id, k) = trial_over(&app, "GOVERNMENT_PROCUREMENT").await;
    let trial = k.trial.clone().unwrap();
    assert_eq!(trial.report_source, pb::ReportSource::ProvincialSystem as i32);
    let applied = app
        .unit()
        .apply_for_acceptance(pb::ApplyForAcceptanceRequest {
            project_id: id.to_string(),
            etag: k.etag.clone(),
            built_modules: vec!["救助审核".into(), "救助发放".into()],
            goals_met: true,
            function_performance_met: true,
            statement: "已完成立项、方案和合同的全部建设内容".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(applied.state, pb::CaseState::ApplicationReview as i32);
    assert!(applied.applications[0].checks.iter().all(|c| c.satisfied));
    let approved = app
        .drb()
        .review_application(pb::ReviewApplicationRequest {
            project_id: id.to_string(),
            etag: applied.etag,
            approve: true,
            reasons: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(approved.state, pb::CaseState::Acceptance as i32);
    let accepted = app
        .drb()
        .record_acceptance(pb::RecordAcceptanceRequest {
            project_id: id.to_string(),
            etag: approved.etag,
            held_on: day(app.today()),
            experts: panel(&[true, true, false]),
            conclusion: "验收通过".into(),
            costs_fen: 3_000_000,
            drb_joined: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(accepted.state, pb::CaseState::Accepted as i32);
    assert_eq!(accepted.accepted_on, day(app.today()));
    assert_eq!(outbox_count(&app, "acceptance.project.accepted").await, 1);
    // The audit trail names the rules.
    let rules: Vec<Vec<String>> =
        sqlx::query_scalar("SELECT rule_ids FROM egov_audit WHERE project_id = $1 AND action = 'RecordAcceptance'")
            .bind(id.to_string())
            .fetch_all(&app.svc.pool)
            .await
            .unwrap();
    assert_eq!(rules, vec![vec!["R-A4".to_string(), "R-A5".into()]]);
}

#[tokio::test]
async fn failed_acceptance_lapses_when_not_rectified_in_time() {
    let app = App::spawn().await;
    let (id, k) = trial_over(&app, "SMALL_PUBLIC_RESOURCE_TRADING").await;
    let applied = app
        .unit()
        .apply_for_acceptance(pb::ApplyForAcceptanceRequest {
            project_id: id.to_string(),
            etag: k.etag,
            built_modules: vec!["救助审核".into(), "救助发放".into()],
            goals_met: true,
            function_performance_met: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let approved = app
        .drb()
        .review_application(pb::ReviewApplicationRequest {
            project_id: id.to_string(),
            etag: applied.etag,
            approve: true,
            reasons: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    // R-A4: a small-trading project's acceptance is the unit's to organise.
    let failed = app
        .unit()
        .record_acceptance(pb::RecordAcceptanceRequest {
            project_id: id.to_string(),
            etag: approved.etag,
            held_on: day(app.today()),
            experts: panel(&[false, false, true]),
            conclusion: "数据接口未达设计要求，限期整改".into(),
            costs_fen: 1_000_000,
            drb_joined: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(failed.state, pb::CaseState::Rectification as i32);
    let by = failed.rectify_by.unwrap();
    let by = time::Date::from_calendar_date(by.year, time::Month::try_from(by.month as u8).unwrap(), by.day as u8).unwrap();
    // The day after the deadline the timer lapses the case and alerts DRB.
    app.at(by + Duration::days(1));
    let drb = app.drb();
    eventually(WAIT, "the case lapsed", || {
        let mut drb = drb.clone();
        async move {
            drb.get_case(pb::GetCaseRequest { project_id: id.to_string() }).await.unwrap().into_inner().state
                == pb::CaseState::RectificationLapsed as i32
        }
    })
    .await;
    assert_eq!(outbox_count(&app, "acceptance.rectification.overdue").await, 1);
    assert_eq!(outbox_count(&app, "acceptance.project.accepted").await, 0, "a failed project is never put into use");
    let k = app.case(id).await;
    let late = app
        .unit()
        .apply_for_acceptance(pb::ApplyForAcceptanceRequest { project_id: id.to_string(), etag: k.etag, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(rules(&late), vec!["R-A5"]);
}

#[tokio::test]
async fn a_terminated_project_closes_its_case() {
    let app = App::spawn().await;
    let (id, _) = app.opened("GOVERNMENT_PROCUREMENT").await;
    let e = egov_platform::outbox::envelope(
        "procurement",
        "procurement.project.terminated",
        &id.to_string(),
        "2026.1-draft",
        app.svc.clock.now(),
        egov_proto::events::event_envelope::Payload::ProjectTerminated(egov_proto::events::ProjectTerminated {
            project_id: id.to_string(),
            kind: "TERMINATED".into(),
            ground: "POLICY_CHANGE".into(),
            reason: "职能划转".into(),
            paid_fen: 0,
        }),
    );
    app.publish(&e).await;
    let drb = app.drb();
    eventually(WAIT, "the case closed", || {
        let mut drb = drb.clone();
        async move {
            drb.get_case(pb::GetCaseRequest { project_id: id.to_string() }).await.unwrap().into_inner().state
                == pb::CaseState::Closed as i32
        }
    })
    .await;
    let r = app.file(id, pb::MaterialKind::InitialMinutes, app.today(), b"x").await.unwrap_err();
    assert_eq!(rules(&r), vec!["R-P10"]);
}
