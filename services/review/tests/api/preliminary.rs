//! R-R1 on the workflow core, through the API.

use egov_platform::auth::Role;
use egov_proto::review as pb;
use tonic::Code;

use crate::helpers::*;

const PARTICIPANTS: [Role; 4] = [Role::Drc, Role::Finance, Role::Cac, Role::Xinchuang];

#[tokio::test]
async fn a_case_opens_once_from_compliance_with_a_task_per_participant() {
    let app = ReviewApp::spawn().await;
    let p = dossier(false);
    let case = app.open_case(p.clone()).await;
    assert_eq!(case.stage, pb::CaseStage::PreliminaryReview as i32);
    assert_eq!(case.required_participants, vec!["DRC", "FINANCE", "CAC", "XINCHUANG"]);
    assert_eq!(case.policy_version, "2026.1-draft", "pinned to the application's policy version");
    assert_eq!(case.unit_record.len(), 1, "the unit's record is shown to participants");
    // The same event again, and the same fact under a new event id: nothing changes.
    let again = compliance_passed(p.clone());
    app.publish(&again).await;
    app.publish(&again).await;
    app.publish(&compliance_passed(p)).await;
    let marker = app.open_case(dossier(false)).await; // FIFO marker: everything before it was consumed
    assert_eq!(marker.stage, pb::CaseStage::PreliminaryReview as i32);
    let tasks = app.tasks(&case.case_id).await;
    assert_eq!(tasks.len(), 4);
    assert_eq!(app.case(&case.case_id).await.etag, case.etag);
}

#[tokio::test]
async fn grassroots_joins_only_when_the_app_reaches_streets() {
    let app = ReviewApp::spawn().await;
    let with = app.open_case(dossier(true)).await;
    assert_eq!(with.required_participants, vec!["DRC", "FINANCE", "CAC", "XINCHUANG", "GRASSROOTS"]);
    assert_eq!(app.tasks(&with.case_id).await.len(), 5);
    let without = app.open_case(dossier(false)).await;
    let tasks = app.tasks(&without.case_id).await;
    assert_eq!(tasks.len(), 4);
    assert!(tasks.iter().all(|t| t.assignee_role != "GRASSROOTS"));
    // GRASSROOTS cannot take another role's task either.
    let drc = tasks.iter().find(|t| t.assignee_role == "DRC").unwrap();
    let e = app
        .client(Role::Grassroots, None)
        .submit_preliminary_opinion(pb::SubmitPreliminaryOpinionRequest {
            case_id: without.case_id.clone(),
            task_id: drc.task_id.clone(),
            etag: drc.etag.clone(),
            scores: scores(80),
            passed: true,
            opinion: "同意".into(),
            request_id: "g".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn drb_decides_only_when_every_participant_has_scored() {
    let app = ReviewApp::spawn().await;
    let case = app.open_case(dossier(false)).await;
    for r in &PARTICIPANTS[..3] {
        opine(&app, &case.case_id, *r, true).await.unwrap();
    }
    let now = app.case(&case.case_id).await;
    let decide = |etag: String, passed: bool| pb::DecidePreliminaryRequest {
        case_id: case.case_id.clone(),
        etag,
        passed,
        comment: "综合意见".into(),
        request_id: "r1".into(),
    };
    let e = app.drb().decide_preliminary(decide(now.etag.clone(), true)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(rule_ids(&e), vec!["R-R1"]);
    assert!(e.message().contains("XINCHUANG"), "{}", e.message());
    let last = opine(&app, &case.case_id, Role::Xinchuang, false).await.unwrap();
    assert_eq!(last.opinions.len(), 4);
    assert_eq!(last.opinions[0].weighted_score_centi, 8000);
    // Only DRB decides.
    let e = app.client(Role::Cac, None).decide_preliminary(decide(last.etag.clone(), true)).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let decided = app.drb().decide_preliminary(decide(last.etag.clone(), true)).await.unwrap().into_inner();
    assert_eq!(decided.stage, pb::CaseStage::ExpertReview as i32);
    let d = decided.preliminary_decision.unwrap();
    assert_eq!(d.aggregate_score_centi, 8000);
    assert_eq!(d.policy_version, "2026.1-draft");
}

#[tokio::test]
async fn a_failed_preliminary_review_ends_the_application() {
    let app = ReviewApp::spawn().await;
    let case = app.open_case(dossier(false)).await;
    for r in PARTICIPANTS {
        opine(&app, &case.case_id, r, false).await.unwrap();
    }
    let now = app.case(&case.case_id).await;
    let ended = app
        .drb()
        .decide_preliminary(pb::DecidePreliminaryRequest {
            case_id: case.case_id.clone(),
            etag: now.etag,
            passed: false,
            comment: "重复建设".into(),
            request_id: "r".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ended.stage, pb::CaseStage::Ended as i32);
    assert!(ended.end_reason.contains("重复建设"));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE routing_key = 'review.application.ended'")
        .fetch_one(&app.svc.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn two_people_completing_one_task_at_once_one_wins_the_other_is_aborted() {
    let app = ReviewApp::spawn().await;
    let case = app.open_case(dossier(false)).await;
    let task = app.tasks(&case.case_id).await.into_iter().find(|t| t.assignee_role == "FINANCE").unwrap();
    let req = |who: &str| {
        let mut c = app.person(Role::Finance, who);
        let r = pb::SubmitPreliminaryOpinionRequest {
            case_id: case.case_id.clone(),
            task_id: task.task_id.clone(),
            etag: task.etag.clone(),
            scores: scores(70),
            passed: true,
            opinion: format!("{who} 同意"),
            request_id: who.into(),
        };
        async move { c.submit_preliminary_opinion(r).await }
    };
    let (a, b) = tokio::join!(req("finance-1"), req("finance-2"));
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1);
    for r in [a, b] {
        if let Err(e) = r {
            assert_eq!(e.code(), Code::Aborted, "{e:?}");
        }
    }
    assert_eq!(app.case(&case.case_id).await.opinions.len(), 1);
}

#[tokio::test]
async fn claimed_tasks_return_resubmit_withdraw() {
    let app = ReviewApp::spawn().await;
    let case = app.open_case(dossier(false)).await;
    let task = app.tasks(&case.case_id).await.into_iter().find(|t| t.assignee_role == "CAC").unwrap();
    let claimed = app
        .person(Role::Cac, "cac-1")
        .claim_task(pb::ClaimTaskRequest { task_id: task.task_id.clone(), etag: task.etag.clone(), request_id: "c".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(claimed.assignee, "cac-1");
    let e = app
        .person(Role::Cac, "cac-2")
        .submit_preliminary_opinion(pb::SubmitPreliminaryOpinionRequest {
            case_id: case.case_id.clone(),
            task_id: claimed.task_id.clone(),
            etag: claimed.etag.clone(),
            scores: scores(60),
            passed: true,
            opinion: "同意".into(),
            request_id: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    // 退回: tasks suspended; the unit resubmits: fresh tasks, old opinions cleared.
    opine(&app, &case.case_id, Role::Drc, true).await.unwrap();
    let now = app.case(&case.case_id).await;
    let returned = app
        .drb()
        .return_for_revision(pb::ReturnForRevisionRequest {
            case_id: case.case_id.clone(),
            etag: now.etag,
            comment: "补充安全方案".into(),
            request_id: "r".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(returned.stage, pb::CaseStage::Returned as i32);
    assert!(
        app.tasks(&case.case_id).await.iter().all(|t| t.state != pb::TaskState::Open as i32 && t.state != pb::TaskState::Claimed as i32)
    );
    let other_unit = app.client(Role::Unit, Some("U-OTHER"));
    let e = other_unit
        .clone()
        .resubmit_case(pb::ResubmitCaseRequest { case_id: case.case_id.clone(), etag: returned.etag.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = other_unit.clone().get_case(pb::GetCaseRequest { case_id: case.case_id.clone() }).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let back = unit
        .clone()
        .resubmit_case(pb::ResubmitCaseRequest {
            case_id: case.case_id.clone(),
            etag: returned.etag.clone(),
            comment: "已补充".into(),
            request_id: "s".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(back.stage, pb::CaseStage::PreliminaryReview as i32);
    assert!(back.opinions.is_empty());
    let open = app.tasks(&case.case_id).await.into_iter().filter(|t| t.state == pb::TaskState::Open as i32).count();
    assert_eq!(open, 4);
    let gone = unit
        .clone()
        .withdraw_case(pb::WithdrawCaseRequest {
            case_id: case.case_id.clone(),
            etag: back.etag.clone(),
            reason: "调整计划".into(),
            request_id: "w".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(gone.stage, pb::CaseStage::Ended as i32);
    assert_eq!(app.tasks(&case.case_id).await.iter().filter(|t| t.state == pb::TaskState::Open as i32).count(), 0);
}

#[tokio::test]
async fn an_overdue_task_is_escalated() {
    let app = ReviewApp::spawn().await;
    let case = app.open_case(dossier(false)).await;
    let task = app.tasks(&case.case_id).await.remove(0);
    let due = egov_platform::convert::from_timestamp(task.due_at.as_ref().unwrap()).unwrap();
    app.svc.move_clock_to(due + time::Duration::minutes(1));
    let pool = app.svc.pool.clone();
    egov_platform::testing::eventually(WAIT, "escalated", || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM egov_outbox WHERE routing_key = 'review.task.overdue'")
                .fetch_one(&pool)
                .await
                .unwrap()
                == 4
        }
    })
    .await;
    assert!(app.tasks(&case.case_id).await.iter().all(|t| t.overdue));
}

#[tokio::test]
async fn bad_input_is_refused_by_field_and_changes_nothing() {
    let app = ReviewApp::spawn().await;
    let case = app.open_case(dossier(false)).await;
    let task = app.tasks(&case.case_id).await.into_iter().find(|t| t.assignee_role == "DRC").unwrap();
    let mut bad = scores(80);
    bad[2].score = 101;
    bad.pop();
    let e = app
        .client(Role::Drc, None)
        .submit_preliminary_opinion(pb::SubmitPreliminaryOpinionRequest {
            case_id: case.case_id.clone(),
            task_id: task.task_id.clone(),
            etag: task.etag.clone(),
            scores: bad,
            passed: true,
            opinion: "同意".into(),
            request_id: "b".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let fields = egov_platform::error::status_fields(&e);
    assert!(fields.contains(&"scores[2].score".to_string()) && fields.contains(&"scores".to_string()), "{fields:?}");
    let e = app.drb().get_case(pb::GetCaseRequest { case_id: "nope".into() }).await.unwrap_err();
    assert_eq!(egov_platform::error::status_fields(&e), vec!["case_id"]);
    let e = app
        .drb()
        .decide_preliminary(pb::DecidePreliminaryRequest {
            case_id: case.case_id.clone(),
            etag: case.etag.clone(),
            passed: true,
            comment: String::new(),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(egov_platform::error::status_fields(&e), vec!["comment"]);
    let after = app.case(&case.case_id).await;
    assert_eq!(after.etag, case.etag);
    assert!(after.opinions.is_empty());
}
