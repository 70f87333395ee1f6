//! R-E2 … R-E4 through the API: the schedule falls due, DRB and FINANCE score their indicators,
//! DRB publishes, every government role reads the results, intake's R-I6 query answers.

use egov_platform::{auth::Role, period};
use egov_proto::evaluation as pb;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn scheduled_scored_published_and_read() {
    let app = TestApp::spawn().await;
    let go_live = today(&app);
    let e = accepted(&app, go_live, "BUSINESS_APPLICATION", 2, false).await;
    let due = period::last_day(go_live, period::Period::Months(6));
    assert_eq!(e.schedule.as_ref().unwrap().next_due_on, Some(civil(due)));
    app.move_to(due);
    let e = app.until(&e.entry_id, "the evaluation falls due", |e| e.schedule.as_ref().is_some_and(|s| s.due)).await;
    assert_eq!(app.events("evaluation.evaluation.due").await.len(), 1);

    let opened = app
        .as_role(Role::Finance, None)
        .open_evaluation(pb::OpenEvaluationRequest { request_id: rid(), app_id: e.entry_id.clone() })
        .await
        .unwrap()
        .into_inner();
    let evaluation_id = opened.evaluations[0].evaluation_id.clone();
    // FINANCE scores only its own indicators (R-E2); a bad score names its field.
    let wrong = pb::RecordScoresRequest {
        app_id: e.entry_id.clone(),
        etag: opened.etag.clone(),
        evaluation_id: evaluation_id.clone(),
        scores: vec![pb::IndicatorScore { indicator: "USAGE".into(), score: 90, ..Default::default() }],
    };
    assert_eq!(rule_ids(&app.as_role(Role::Finance, None).record_scores(wrong.clone()).await.unwrap_err()), vec!["R-E2"]);
    let bad = pb::RecordScoresRequest {
        scores: vec![pb::IndicatorScore { indicator: "COST".into(), score: 101, ..Default::default() }],
        ..wrong.clone()
    };
    assert_eq!(fields(&app.as_role(Role::Finance, None).record_scores(bad).await.unwrap_err()), vec!["scores[0].score"]);
    // A malformed etag is named as the etag, beside the other refusals, not as the app's id.
    let malformed = pb::RecordScoresRequest {
        etag: "v1".into(),
        scores: vec![pb::IndicatorScore { indicator: "COST".into(), score: 101, ..Default::default() }],
        ..wrong.clone()
    };
    assert_eq!(fields(&app.drb().record_scores(malformed).await.unwrap_err()), vec!["etag", "scores[0].score"]);
    let stale = pb::RecordScoresRequest { etag: "99".into(), ..wrong.clone() };
    assert_eq!(app.drb().record_scores(stale).await.unwrap_err().code(), Code::Aborted);
    let cost =
        pb::RecordScoresRequest { scores: vec![pb::IndicatorScore { indicator: "COST".into(), score: 80, ..Default::default() }], ..wrong };
    let scored = app.as_role(Role::Finance, None).record_scores(cost).await.unwrap().into_inner();
    // Not every indicator scored: not published (R-E2), nothing changed.
    let early = pb::PublishEvaluationRequest {
        app_id: e.entry_id.clone(),
        etag: scored.etag.clone(),
        evaluation_id: evaluation_id.clone(),
        comment: String::new(),
    };
    assert_eq!(rule_ids(&app.drb().publish_evaluation(early.clone()).await.unwrap_err()), vec!["R-E2"]);
    assert_eq!(app.entry(&e.entry_id).await.etag, scored.etag);
    assert_eq!(app.as_role(Role::Finance, None).publish_evaluation(early).await.unwrap_err().code(), Code::PermissionDenied);
    let drb_scores = ["USAGE", "EFFECT", "SHARING", "SECURITY"]
        .iter()
        .map(|c| pb::IndicatorScore { indicator: c.to_string(), score: 90, ..Default::default() })
        .collect();
    let scored = app
        .drb()
        .record_scores(pb::RecordScoresRequest {
            app_id: e.entry_id.clone(),
            etag: scored.etag,
            evaluation_id: evaluation_id.clone(),
            scores: drb_scores,
        })
        .await
        .unwrap()
        .into_inner();
    let published = app
        .drb()
        .publish_evaluation(pb::PublishEvaluationRequest {
            app_id: e.entry_id.clone(),
            etag: scored.etag,
            evaluation_id: evaluation_id.clone(),
            comment: "运行良好".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let r = &published.evaluations[0];
    // 90 × 80 % + 80 × 20 % = 88.00: GOOD.
    assert_eq!((r.score_centi, r.grade, r.passed), (8800, pb::EvaluationGrade::Good as i32, true));
    assert!(published.rectification.is_none());
    let s = published.schedule.as_ref().unwrap();
    assert_eq!((s.due, s.next_due_on), (false, Some(civil(period::last_day(due, period::Period::Months(12))))));

    // Published: every government role reads the list; intake's R-I6 query answers a pass.
    let list = app
        .as_role(Role::Grassroots, None)
        .list_published_evaluations(pb::ListPublishedEvaluationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.evaluations.len(), 1);
    assert_eq!(list.evaluations[0].funding_bp, 10000);
    let latest = app
        .queries(Role::Service)
        .get_latest_evaluation(pb::GetLatestEvaluationRequest { app_id: e.entry_id.clone() })
        .await
        .unwrap()
        .into_inner();
    let l = latest.evaluation.unwrap();
    assert_eq!((l.grade, l.passed, l.evaluated_on), (pb::EvaluationGrade::Good as i32, true, Some(civil(due))));
    let none = app
        .queries(Role::Service)
        .get_latest_evaluation(pb::GetLatestEvaluationRequest { app_id: "SC-404".into() })
        .await
        .unwrap()
        .into_inner();
    assert!(none.evaluation.is_none());
    assert_eq!(app.events("evaluation.evaluation.published").await.len(), 1);

    let systems =
        app.as_role(Role::Audit, None).list_indicator_systems(pb::ListIndicatorSystemsRequest {}).await.unwrap().into_inner().systems;
    assert_eq!(systems[0].indicators.iter().map(|i| i.weight).sum::<i32>(), 100);
    let e = app.drb().get_indicator_system(pb::GetIndicatorSystemRequest { version: "1999".into() }).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
}
