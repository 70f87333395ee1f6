//! An application's way through intake, end to end.

use egov_platform::{auth::Role, testing::eventually};
use egov_proto::intake as pb;
use tonic::Code;

use crate::helpers::*;

/// `hour`:30 Asia/Shanghai, `days_after` the civil date `d`.
fn at_shanghai(d: &egov_proto::common::CivilDate, days_after: i64, hour: u8) -> time::OffsetDateTime {
    let date = egov_platform::convert::date("d", Some(d)).unwrap() + time::Duration::days(days_after);
    egov_platform::clock::shanghai(date, time::Time::from_hms(hour, 30, 0).unwrap())
}

#[tokio::test]
async fn submit_pass_compliance_and_the_timeline_shows_it() {
    let app = TestApp::spawn().await;
    {
        let mut e = app.eval.0.lock().unwrap();
        e.catalogue.insert("救助审核".into(), vec![("杭州救助审核".into(), 0.65), ("其他".into(), 0.1)]);
    }
    let a = submitted(&app, "U-CIVIL").await;
    assert_eq!(a.state, pb::ApplicationState::Submitted as i32);
    assert_eq!(a.security_share_bp, 500);
    assert_eq!(a.screening.len(), 1);
    assert_eq!(a.screening[0].verdict, "PARTIAL_DUPLICATE");
    assert!(a.flags.iter().any(|f| f.rule_id == "R-I9" && f.code == "PARTIAL_DUPLICATE"), "{:?}", a.flags);

    let passed = decide(&app, &a, &[]).await.unwrap();
    assert_eq!(passed.state, pb::ApplicationState::CompliancePassed as i32);
    assert_eq!(passed.decisions.len(), 1);
    assert!(!passed.decisions[0].policy_version.is_empty());

    // The timeline is built from the events on the bus, intake's own included.
    let unit = app.unit("U-CIVIL");
    eventually(WAIT, "timeline shows compliance passed", || {
        let mut unit = unit.clone();
        let id = a.project_id.clone();
        async move {
            let s = unit.get_project_status(pb::GetProjectStatusRequest { project_id: id }).await.unwrap().into_inner();
            s.status == "初审 PRELIMINARY_REVIEW" && s.timeline.len() >= 3
        }
    })
    .await;
    let s = app
        .unit("U-CIVIL")
        .get_project_status(pb::GetProjectStatusRequest { project_id: a.project_id.clone() })
        .await
        .unwrap()
        .into_inner();
    let types: Vec<&str> = s.timeline.iter().map(|t| t.event_type.as_str()).collect();
    assert!(types.contains(&"intake.application.created"));
    assert!(types.contains(&"intake.application.submitted"));
    assert!(types.contains(&"intake.application.compliance_passed"));

    // The audit trail recorded each change, and its chain is intact.
    let mut audit = app.audit_trail(Role::Audit);
    let v = audit.verify_audit_trail(egov_proto::common::VerifyAuditTrailRequest::default()).await.unwrap().into_inner();
    assert!(v.intact, "{}", v.detail);
    let recs = audit
        .list_audit_records(egov_proto::common::ListAuditRecordsRequest {
            project_id: a.project_id.clone(),
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .records;
    let actions: Vec<&str> = recs.iter().map(|r| r.action.as_str()).collect();
    assert!(actions.contains(&"SubmitApplication") && actions.contains(&"DecideCompliance"), "{actions:?}");
    let decision = recs.iter().find(|r| r.action == "DecideCompliance").unwrap();
    assert_eq!(decision.rule_ids, vec!["R-I11"]);
    assert_eq!(decision.role, "DRB");
    assert!(!decision.policy_version.is_empty());
}

#[tokio::test]
async fn failed_compliance_without_re_review_ends_when_the_deadline_timer_fires() {
    let app = TestApp::spawn().await;
    let a = submitted(&app, "U-CIVIL").await;
    let failed = decide(&app, &a, &["BUDGET"]).await.unwrap();
    assert_eq!(failed.state, pb::ApplicationState::ComplianceFailed as i32);
    let deadline = failed.re_review_deadline.unwrap();

    // Late on the last allowed day the timer has not fired.
    app.move_clock_to(at_shanghai(&deadline, 0, 23));
    let due: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE status = 'pending'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(due, 1);
    let still = get(&app, "U-CIVIL", &a.application_id).await;
    assert_eq!(still.state, pb::ApplicationState::ComplianceFailed as i32);

    // The day after the deadline the timer ends the application.
    app.move_clock_to(at_shanghai(&deadline, 1, 0));
    let unit = app.unit("U-CIVIL");
    eventually(WAIT, "application ended by the timer", || {
        let mut unit = unit.clone();
        let id = a.application_id.clone();
        async move {
            unit.get_application(pb::GetApplicationRequest { application_id: id }).await.unwrap().into_inner().state
                == pb::ApplicationState::Ended as i32
        }
    })
    .await;
    let ended = get(&app, "U-CIVIL", &a.application_id).await;
    assert!(ended.end_reason.contains(&format!("{}-{:02}-{:02}", deadline.year, deadline.month, deadline.day)), "{}", ended.end_reason);
    let late = app
        .unit("U-CIVIL")
        .request_re_review(pb::RequestReReviewRequest {
            application_id: a.application_id.clone(),
            etag: ended.etag.clone(),
            comment: "晚了".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);

    eventually(WAIT, "timeline shows the end", || {
        let mut unit = unit.clone();
        let id = a.project_id.clone();
        async move {
            unit.get_project_status(pb::GetProjectStatusRequest { project_id: id }).await.unwrap().into_inner().status == "申报结束 ENDED"
        }
    })
    .await;
}

#[tokio::test]
async fn one_re_review_on_time_then_pass_or_end() {
    let app = TestApp::spawn().await;
    let a = submitted(&app, "U-CIVIL").await;
    let failed = decide(&app, &a, &["NECESSITY"]).await.unwrap();
    // Revise the dossier, then request the re-review on the last allowed day.
    let mut d = draft();
    d.necessity.as_mut().unwrap().core_business = "社会救助，明确核心业务".into();
    let revised = app
        .unit("U-CIVIL")
        .update_application(pb::UpdateApplicationRequest {
            application_id: a.application_id.clone(),
            etag: failed.etag.clone(),
            draft: Some(d),
        })
        .await
        .unwrap()
        .into_inner();
    app.move_clock_to(at_shanghai(failed.re_review_deadline.as_ref().unwrap(), 0, 23));
    let requested = app
        .unit("U-CIVIL")
        .request_re_review(pb::RequestReReviewRequest {
            application_id: a.application_id.clone(),
            etag: revised.etag.clone(),
            comment: "已修改".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(requested.state, pb::ApplicationState::ReReviewRequested as i32);
    // The deadline timer was cancelled: a day later nothing ends it.
    app.move_clock_to(at_shanghai(failed.re_review_deadline.as_ref().unwrap(), 2, 0));
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE status = 'pending'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(pending, 0);
    // The one re-review fails: the application ends, and no further re-review exists.
    let ended = decide(&app, &requested, &["NECESSITY"]).await.unwrap();
    assert_eq!(ended.state, pb::ApplicationState::Ended as i32);
    assert_eq!(ended.decisions.len(), 2);
    let again = app
        .unit("U-CIVIL")
        .request_re_review(pb::RequestReReviewRequest {
            application_id: a.application_id.clone(),
            etag: ended.etag.clone(),
            comment: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn supplementary_project_outside_a_round() {
    let app = TestApp::spawn().await;
    create_unit(&app, "U-CIVIL").await;
    let a = create_application(&app, "U-CIVIL", draft()).await;
    upload_dossier(&app, "U-CIVIL", &a.application_id).await;
    let a = get(&app, "U-CIVIL", &a.application_id).await;
    // No round: refused with R-I3.
    let e = submit(&app, "U-CIVIL", &a, "").await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-I3"]);
    let req = app
        .unit("U-CIVIL")
        .request_supplementary(pb::RequestSupplementaryRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            urgency_justification: "省里部署的紧急任务，须年内上线运行".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(req.state, pb::ApplicationState::AwaitingSupplementaryDecision as i32);
    let accepted = app
        .drb()
        .decide_supplementary(pb::DecideSupplementaryRequest {
            application_id: a.application_id.clone(),
            etag: req.etag.clone(),
            accepted: true,
            comment: "同意增补".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let s = submit(&app, "U-CIVIL", &accepted, "").await.unwrap();
    assert_eq!(s.state, pb::ApplicationState::Submitted as i32);
    assert!(s.supplementary);
}

#[tokio::test]
async fn evaluation_unreachable_leaves_the_application_as_it_was() {
    let app = TestApp::spawn_with(|s| s.peers.evaluation = "http://127.0.0.1:9".into()).await;
    create_unit(&app, "U-CIVIL").await;
    let round = open_round(&app).await;
    let a = create_application(&app, "U-CIVIL", draft()).await;
    upload_dossier(&app, "U-CIVIL", &a.application_id).await;
    let a = get(&app, "U-CIVIL", &a.application_id).await;
    let e = submit(&app, "U-CIVIL", &a, &round.round_id).await.unwrap_err();
    assert_eq!(e.code(), Code::Unavailable);
    assert!(e.message().contains("evaluation"), "{}", e.message());
    let after = get(&app, "U-CIVIL", &a.application_id).await;
    assert_eq!(after.state, pb::ApplicationState::Draft as i32);
    assert_eq!(after.etag, a.etag);
}

#[tokio::test]
async fn idempotent_creates_and_stale_etags() {
    let app = TestApp::spawn().await;
    create_unit(&app, "U-CIVIL").await;
    let req = pb::CreateApplicationRequest { request_id: "req-1".into(), lead_unit_id: "U-CIVIL".into(), draft: Some(draft()) };
    let a1 = app.unit("U-CIVIL").create_application(req.clone()).await.unwrap().into_inner();
    let a2 = app.unit("U-CIVIL").create_application(req).await.unwrap().into_inner();
    assert_eq!(a1.application_id, a2.application_id);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM applications").fetch_one(&app.pool).await.unwrap();
    assert_eq!(n, 1);

    let upd = |etag: String| pb::UpdateApplicationRequest { application_id: a1.application_id.clone(), etag, draft: Some(draft()) };
    let b = app.unit("U-CIVIL").update_application(upd(a1.etag.clone())).await.unwrap().into_inner();
    assert_ne!(b.etag, a1.etag);
    let stale = app.unit("U-CIVIL").update_application(upd(a1.etag.clone())).await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);

    // Two DRB reviewers deciding the same application at once: one wins, one is ABORTED.
    let a = submitted(&app, "U-OTHER").await;
    let (r1, r2) = tokio::join!(decide(&app, &a, &[]), decide(&app, &a, &["BUDGET"]));
    let outcomes = [r1.is_ok(), r2.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{outcomes:?}");
    for r in [r1, r2] {
        if let Err(loser) = r {
            assert_eq!(loser.code(), Code::Aborted);
        }
    }
}

#[tokio::test]
async fn documents_are_stored_with_hashes_and_verified_on_download() {
    let app = TestApp::spawn().await;
    create_unit(&app, "U-CIVIL").await;
    let a = create_application(&app, "U-CIVIL", draft()).await;
    let content: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    let doc = upload(&app, "U-CIVIL", &a.application_id, pb::DocumentKind::FeasibilityReport, "", &content).await.unwrap();
    assert_eq!(doc.size_bytes, 150_000);
    assert_eq!(doc.sha256.len(), 64);
    assert_eq!(doc.sm3.len(), 64);
    let mut stream = app
        .unit("U-CIVIL")
        .download_document(pb::DownloadDocumentRequest { document_id: doc.document_id.clone() })
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    let mut meta = None;
    while let Some(m) = stream.message().await.unwrap() {
        match m.part.unwrap() {
            pb::download_document_response::Part::Document(d) => meta = Some(d),
            pb::download_document_response::Part::Chunk(c) => got.extend(c),
        }
    }
    assert_eq!(got, content);
    assert_eq!(meta.unwrap().sm3, doc.sm3);

    // Tampered content is refused with DATA_LOSS, never served.
    let path: String = sqlx::query_scalar("SELECT object_path FROM documents WHERE document_id = $1::uuid")
        .bind(&doc.document_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    std::fs::write(std::path::Path::new(&app.settings.documents.dir).join(path), b"forged").unwrap();
    let e = app.unit("U-CIVIL").download_document(pb::DownloadDocumentRequest { document_id: doc.document_id.clone() }).await.unwrap_err();
    assert_eq!(e.code(), Code::DataLoss);
}
