//! R-R4 approval, R-R5 fast track, R-R6 validity, R-P1 cancellation.

use egov_platform::{auth::Role, testing::eventually};
use egov_proto::{events as ev, review as pb};
use tonic::Code;

use crate::helpers::*;

fn fast_track() -> ev::CompliancePassed {
    let mut p = dossier(false);
    p.fast_track_grounds = vec!["NON_DISTRICT_FUNDING".into()];
    p.funding_source = "SUPERIOR_TRANSFER".into();
    p
}

async fn approve(app: &ReviewApp, case: &pb::ReviewCase, budget: i64) -> Result<pb::ReviewCase, tonic::Status> {
    let today = egov_platform::convert::civil(app.svc.clock.today());
    app.drb()
        .issue_approval(pb::IssueApprovalRequest {
            case_id: case.case_id.clone(),
            etag: case.etag.clone(),
            document_number: "上数〔2026〕18号".into(),
            issued_on: Some(today),
            budget_fen: budget,
            scope: "救助审核模块".into(),
            planned_construction_months: 12,
            request_id: "a".into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn fast_track_goes_from_compliance_to_the_approval_document() {
    let app = ReviewApp::spawn().await;
    let case = app.open_case(fast_track()).await;
    assert!(case.fast_track);
    assert_eq!(case.stage, pb::CaseStage::Approval as i32);
    assert!(app.tasks(&case.case_id).await.is_empty(), "no preliminary review on the fast track");
    let e = approve(&app, &case, 10_000_001).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "never above the budget applied for");
    let approved = approve(&app, &case, 9_000_000).await.unwrap();
    assert_eq!(approved.stage, pb::CaseStage::Approved as i32);
    let doc = app
        .client(Role::Unit, Some("U-CIVIL"))
        .get_approval(pb::GetApprovalRequest { project_id: case.case_id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(doc.issuers, vec!["DRB", "DRC", "FINANCE"]);
    assert_eq!(doc.budget_fen, 9_000_000);
    assert!(doc.valid_until.is_some(), "outside funding: valid for the policy's years (R-R6)");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE routing_key = 'review.project.approved'")
        .fetch_one(&app.svc.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn normal_track_cannot_be_approved_before_its_reviews() {
    let app = ReviewApp::spawn().await;
    let case = app.open_case(dossier(false)).await;
    let e = approve(&app, &case, 1).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-R4"]);
    let e = app.drb().get_approval(pb::GetApprovalRequest { project_id: case.case_id.clone() }).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
}

#[tokio::test]
async fn r_r6_unsecured_outside_funding_is_cancelled_the_day_after_validity() {
    let app = ReviewApp::spawn().await;
    let case = app.open_case(fast_track()).await;
    let approved = approve(&app, &case, 9_000_000).await.unwrap();
    let until = egov_platform::convert::date("valid_until", approved.approval.as_ref().unwrap().valid_until.as_ref()).unwrap();
    // Rule fix (R-R6 counted the Civil Code's way): valid through the second anniversary of the
    // issue day itself (it used to end the day before), cancelled from the day after.
    let issued = egov_platform::convert::date("issued_on", approved.approval.as_ref().unwrap().issued_on.as_ref()).unwrap();
    assert_eq!(until, egov_platform::period::last_day(issued, egov_platform::period::Period::Years(2)));
    assert_eq!((until.month(), until.year()), (issued.month(), issued.year() + 2));
    // Late on the last valid day: still in force.
    app.svc.move_clock_to(egov_platform::clock::shanghai(until, time::macros::time!(23:00)));
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind = 'review.approval.validity' AND status = 'pending'")
            .fetch_one(&app.svc.pool)
            .await
            .unwrap();
    assert_eq!(pending, 1);
    assert_eq!(app.case(&case.case_id).await.stage, pb::CaseStage::Approved as i32);
    // The day after: cancelled.
    app.svc.move_clock_to(egov_platform::clock::shanghai(until + time::Duration::days(1), time::macros::time!(00:30)));
    eventually(WAIT, "approval cancelled", || async { app.case(&case.case_id).await.stage == pb::CaseStage::Cancelled as i32 }).await;
    let c = app.case(&case.case_id).await;
    assert!(c.approval.unwrap().cancelled);
}

#[tokio::test]
async fn r_p1_procurement_deadline_missed_cancels_the_approval_once() {
    let app = ReviewApp::spawn().await;
    let mut p = fast_track();
    p.fast_track_grounds = vec!["PRINCIPAL_LEADER_AGREED".into()];
    p.funding_source = "DISTRICT_FISCAL".into();
    let case = app.open_case(p).await;
    approve(&app, &case, 10_000_000).await.unwrap();
    let missed = egov_platform::outbox::envelope(
        "procurement",
        "procurement.project.deadline_missed",
        &case.case_id,
        "2026.1-draft",
        app.svc.clock.now(),
        ev::event_envelope::Payload::ProcurementDeadlineMissed(ev::ProcurementDeadlineMissed {
            project_id: case.case_id.clone(),
            ..Default::default()
        }),
    );
    app.publish(&missed).await;
    app.publish(&missed).await;
    eventually(WAIT, "cancelled", || async { app.case(&case.case_id).await.stage == pb::CaseStage::Cancelled as i32 }).await;
    let marker = app.open_case(dossier(false)).await;
    assert_eq!(marker.stage, pb::CaseStage::PreliminaryReview as i32);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE routing_key = 'review.approval.cancelled'")
        .fetch_one(&app.svc.pool)
        .await
        .unwrap();
    assert_eq!(n, 1, "redelivery cancels nothing twice");
}

#[tokio::test]
async fn r_p10_a_terminated_project_ends_its_case_once_and_takes_no_changes() {
    let app = ReviewApp::spawn().await;
    let case = app.open_case(fast_track()).await;
    let case = approve(&app, &case, 10_000_000).await.unwrap();
    let terminated = egov_platform::outbox::envelope(
        "procurement",
        "procurement.project.terminated",
        &case.case_id,
        "2026.1-draft",
        app.svc.clock.now(),
        ev::event_envelope::Payload::ProjectTerminated(ev::ProjectTerminated {
            project_id: case.case_id.clone(),
            kind: "REVOKED".into(),
            ground: "FUNCTION_TRANSFER_OR_POLICY_CHANGE".into(),
            reason: "职能划转".into(),
            paid_fen: 0,
        }),
    );
    app.publish(&terminated).await;
    app.publish(&terminated).await;
    eventually(WAIT, "terminated", || async { app.case(&case.case_id).await.stage == pb::CaseStage::Terminated as i32 }).await;
    let k = app.case(&case.case_id).await;
    assert_eq!(k.etag.parse::<i64>().unwrap(), case.etag.parse::<i64>().unwrap() + 1, "a redelivery changes nothing more");
    let validity: i64 =
        sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind = 'review.approval.validity' AND status = 'pending'")
            .fetch_one(&app.svc.pool)
            .await
            .unwrap();
    assert_eq!(validity, 0, "no R-R6 validity check for an ended project");
    let e = app
        .client(Role::Unit, Some("U-CIVIL"))
        .request_change(pb::RequestChangeRequest {
            case_id: k.case_id.clone(),
            etag: k.etag.clone(),
            new_budget_fen: 9_000_000,
            reason: "压缩预算".into(),
            request_id: "c".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
}

#[test]
fn every_review_method_is_in_the_role_table() {
    let table = egov_review::grpc::roles::table();
    let paths = egov_proto::method_paths(&["egov.review.v1", "egov.common.v1"]);
    assert!(paths.iter().any(|p| p.contains("ExpertReview/")), "{paths:?}");
    let missing: Vec<_> = paths.iter().filter(|p| table.roles(p).is_none()).collect();
    assert!(missing.is_empty(), "methods without roles: {missing:?}");
}
