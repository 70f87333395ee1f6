//! R-R3 re-check, R-R4 joint meeting and approval, R-R6 funds secured, R-R7 changes, through
//! the API.
//!
//! Short-cut: the expert review (R-R2) belongs to the `ExpertReview` service and is tested in
//! `expert.rs`. Here a case passes its preliminary review through the API and then has the
//! expert review's outcome written through the service's test hook
//! (`egov_review::testing::conclude_expert_review_and_revise`), as `ExpertReview` leaves it once
//! the revised materials are in: an expert conclusion (pass, recommended budget 80 000.00 yuan),
//! stage `RE_CHECK`, and the re-check tasks opened by the same transition an upload runs.

use egov_platform::{auth::Role, testing::eventually};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    review as pb,
};
use tonic::Code;

use crate::helpers::*;

const RECOMMENDED_FEN: i64 = 8_000_000;

fn rid() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn count(app: &ReviewApp, routing_key: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE routing_key = $1").bind(routing_key).fetch_one(&app.svc.pool).await.unwrap()
}

fn fields(s: &tonic::Status) -> Vec<String> {
    egov_platform::error::status_fields(s)
}

/// A case in re-check (see the module documentation for the short-cut).
async fn at_recheck(app: &ReviewApp) -> pb::ReviewCase {
    let case = app.open_case(dossier(false)).await;
    for r in [Role::Drc, Role::Finance, Role::Cac, Role::Xinchuang] {
        opine(app, &case.case_id, r, true).await.unwrap();
    }
    let now = app.case(&case.case_id).await;
    let decided = app
        .drb()
        .decide_preliminary(pb::DecidePreliminaryRequest {
            case_id: case.case_id.clone(),
            etag: now.etag,
            passed: true,
            comment: "同意进入专家评审".into(),
            request_id: rid(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(decided.stage, pb::CaseStage::ExpertReview as i32);

    let id = uuid::Uuid::parse_str(&case.case_id).unwrap();
    let experts = vec!["EXP-1".into(), "EXP-2".into(), "EXP-3".into()];
    egov_review::testing::conclude_expert_review_and_revise(&app.svc.pool, &app.svc.clock, id, RECOMMENDED_FEN, experts).await.unwrap();

    let k = app.case(&case.case_id).await;
    assert_eq!(k.stage, pb::CaseStage::ReCheck as i32);
    k
}

async fn recheck_task(app: &ReviewApp, case_id: &str, role: Role) -> pb::Task {
    let open = [pb::TaskState::Open as i32, pb::TaskState::Claimed as i32];
    app.tasks(case_id)
        .await
        .into_iter()
        .find(|t| t.kind == "recheck.opinion" && t.assignee_role == role.as_str() && open.contains(&t.state))
        .expect("an open re-check task")
}

fn opinion_req(case_id: &str, task: &pb::Task, passed: bool, opinion: &str) -> pb::SubmitRecheckOpinionRequest {
    pb::SubmitRecheckOpinionRequest {
        case_id: case_id.into(),
        task_id: task.task_id.clone(),
        etag: task.etag.clone(),
        passed,
        opinion: opinion.into(),
        request_id: rid(),
    }
}

async fn recheck_opine(app: &ReviewApp, case_id: &str, role: Role, passed: bool) -> Result<pb::ReviewCase, tonic::Status> {
    let task = recheck_task(app, case_id, role).await;
    app.client(role, None)
        .submit_recheck_opinion(opinion_req(case_id, &task, passed, "与专家意见一致"))
        .await
        .map(tonic::Response::into_inner)
}

fn fiscal_year(app: &ReviewApp) -> i32 {
    app.svc.clock.today().year() + 1
}

fn conclude_req(case: &pb::ReviewCase, passed: bool, priority_rank: i32, fiscal_year: i32, amount_fen: i64) -> pb::ConcludeRecheckRequest {
    pb::ConcludeRecheckRequest {
        case_id: case.case_id.clone(),
        etag: case.etag.clone(),
        passed,
        comment: if passed { "复核通过，按优先级安排资金".into() } else { "未按专家意见修改".into() },
        priority_rank,
        fiscal_year,
        amount_fen,
        request_id: rid(),
    }
}

/// A case whose re-check passed with `amount_fen` arranged.
async fn at_joint_meeting(app: &ReviewApp, amount_fen: i64) -> pb::ReviewCase {
    let case = at_recheck(app).await;
    for r in [Role::Drb, Role::Drc, Role::Finance] {
        recheck_opine(app, &case.case_id, r, true).await.unwrap();
    }
    let now = app.case(&case.case_id).await;
    let k = app.drb().conclude_recheck(conclude_req(&now, true, 1, fiscal_year(app), amount_fen)).await.unwrap().into_inner();
    assert_eq!(k.stage, pb::CaseStage::JointMeeting as i32);
    k
}

fn meeting_req(case: &pb::ReviewCase, app: &ReviewApp, passed: bool) -> pb::RecordJointMeetingRequest {
    pb::RecordJointMeetingRequest {
        case_id: case.case_id.clone(),
        etag: case.etag.clone(),
        passed,
        meeting_ref: "2026年第3次规划土地数字管理联席会议".into(),
        held_on: Some(egov_platform::convert::civil(app.svc.clock.today())),
        comment: if passed { String::new() } else { "与已建系统重复".into() },
        request_id: rid(),
    }
}

async fn approve(app: &ReviewApp, case: &pb::ReviewCase, budget_fen: i64) -> Result<pb::ReviewCase, tonic::Status> {
    app.drb()
        .issue_approval(pb::IssueApprovalRequest {
            case_id: case.case_id.clone(),
            etag: case.etag.clone(),
            document_number: "上数〔2026〕21号".into(),
            issued_on: Some(egov_platform::convert::civil(app.svc.clock.today())),
            budget_fen,
            scope: "救助审核模块".into(),
            planned_construction_months: 12,
            request_id: rid(),
        })
        .await
        .map(tonic::Response::into_inner)
}

// ---------------------------------------------------------------- R-R3

#[tokio::test]
async fn r_r3_recheck_waits_for_every_opinion_and_a_concurrent_completion_is_aborted() {
    let app = ReviewApp::spawn().await;
    let case = at_recheck(&app).await;
    let tasks: Vec<_> = app.tasks(&case.case_id).await.into_iter().filter(|t| t.group_id == "recheck").collect();
    let mut roles: Vec<_> = tasks.iter().map(|t| t.assignee_role.clone()).collect();
    roles.sort();
    assert_eq!(roles, vec!["DRB", "DRC", "FINANCE"]);

    recheck_opine(&app, &case.case_id, Role::Drb, true).await.unwrap();
    recheck_opine(&app, &case.case_id, Role::Drc, true).await.unwrap();
    // FINANCE's opinion is missing: DRB may not conclude yet.
    let now = app.case(&case.case_id).await;
    let e = app.drb().conclude_recheck(conclude_req(&now, true, 1, fiscal_year(&app), RECOMMENDED_FEN)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(rule_ids(&e), vec!["R-R3"]);
    assert!(e.message().contains("FINANCE"), "{}", e.message());
    // A role outside the re-check cannot give an opinion.
    let finance_task = recheck_task(&app, &case.case_id, Role::Finance).await;
    let e = app.client(Role::Cac, None).submit_recheck_opinion(opinion_req(&case.case_id, &finance_task, true, "同意")).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    // Two FINANCE people complete the one task at once: one wins, the other is ABORTED.
    let req = |who: &'static str| {
        let mut c = app.person(Role::Finance, who);
        let r = opinion_req(&case.case_id, &finance_task, true, &format!("{who} 同意"));
        async move { c.submit_recheck_opinion(r).await }
    };
    let (a, b) = tokio::join!(req("finance-1"), req("finance-2"));
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1);
    for r in [a, b] {
        if let Err(e) = r {
            assert_eq!(e.code(), Code::Aborted, "{e:?}");
        }
    }
    let k = app.case(&case.case_id).await;
    assert_eq!(k.recheck_opinions.len(), 3);
    assert!(k.recheck_opinions.iter().all(|o| o.scores.is_empty()));
    assert!(app.tasks(&case.case_id).await.iter().filter(|t| t.group_id == "recheck").all(|t| t.state == pb::TaskState::Done as i32));
    // The joint meeting is not yet due.
    let e = app.drb().record_joint_meeting(meeting_req(&k, &app, true)).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-R4"]);
}

#[tokio::test]
async fn r_r3_a_pass_arranges_funds_within_the_recommendation_and_goes_to_the_joint_meeting() {
    let app = ReviewApp::spawn().await;
    let case = at_recheck(&app).await;
    for r in [Role::Drb, Role::Drc, Role::Finance] {
        recheck_opine(&app, &case.case_id, r, true).await.unwrap();
    }
    let now = app.case(&case.case_id).await;
    let year = fiscal_year(&app);
    // Above the expert panel's recommended budget: refused by field, nothing changes.
    let e = app.drb().conclude_recheck(conclude_req(&now, true, 1, year, RECOMMENDED_FEN + 1)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(fields(&e), vec!["amount_fen"]);
    let e = app.drb().conclude_recheck(conclude_req(&now, true, 0, year - 5, RECOMMENDED_FEN)).await.unwrap_err();
    assert_eq!(fields(&e), vec!["priority_rank", "fiscal_year"]);
    let e = app.client(Role::Finance, None).conclude_recheck(conclude_req(&now, true, 1, year, RECOMMENDED_FEN)).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "DRB concludes");
    assert_eq!(app.case(&case.case_id).await.etag, now.etag);

    let k = app.drb().conclude_recheck(conclude_req(&now, true, 2, year, 7_000_000)).await.unwrap().into_inner();
    assert_eq!(k.stage, pb::CaseStage::JointMeeting as i32);
    let r = k.recheck.clone().unwrap();
    assert!(r.passed);
    assert_eq!((r.priority_rank, r.fiscal_year, r.amount_fen), (2, year, 7_000_000));
    assert_eq!(count(&app, "review.recheck.concluded").await, 1);
    assert_eq!(count(&app, "review.application.ended").await, 0);
}

#[tokio::test]
async fn r_r3_a_failed_recheck_ends_the_application() {
    let app = ReviewApp::spawn().await;
    let case = at_recheck(&app).await;
    for r in [Role::Drb, Role::Drc, Role::Finance] {
        recheck_opine(&app, &case.case_id, r, false).await.unwrap();
    }
    let now = app.case(&case.case_id).await;
    let k = app.drb().conclude_recheck(conclude_req(&now, false, 0, 0, 0)).await.unwrap().into_inner();
    assert_eq!(k.stage, pb::CaseStage::Ended as i32);
    assert!(k.end_reason.contains("未按专家意见修改"), "{}", k.end_reason);
    assert!(!k.recheck.unwrap().passed);
    assert_eq!(count(&app, "review.recheck.concluded").await, 1);
    assert_eq!(count(&app, "review.application.ended").await, 1);
}

#[tokio::test]
async fn r_r3_a_returned_recheck_is_reviewed_afresh_on_resubmission() {
    let app = ReviewApp::spawn().await;
    let case = at_recheck(&app).await;
    recheck_opine(&app, &case.case_id, Role::Drc, true).await.unwrap();
    let now = app.case(&case.case_id).await;
    let returned = app
        .drb()
        .return_for_revision(pb::ReturnForRevisionRequest {
            case_id: case.case_id.clone(),
            etag: now.etag,
            comment: "按专家意见补充数据共享方案".into(),
            request_id: rid(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(returned.stage, pb::CaseStage::Returned as i32);
    let back = app
        .client(Role::Unit, Some("U-CIVIL"))
        .resubmit_case(pb::ResubmitCaseRequest {
            case_id: case.case_id.clone(),
            etag: returned.etag,
            comment: "已补充".into(),
            request_id: rid(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(back.stage, pb::CaseStage::ReCheck as i32);
    assert!(back.recheck_opinions.is_empty(), "the revised dossier is re-checked afresh");
    let open: Vec<_> =
        app.tasks(&case.case_id).await.into_iter().filter(|t| t.group_id == "recheck" && t.state == pb::TaskState::Open as i32).collect();
    assert_eq!(open.len(), 3);
    for r in [Role::Drb, Role::Drc, Role::Finance] {
        recheck_opine(&app, &case.case_id, r, true).await.unwrap();
    }
    let now = app.case(&case.case_id).await;
    let k = app.drb().conclude_recheck(conclude_req(&now, true, 1, fiscal_year(&app), RECOMMENDED_FEN)).await.unwrap().into_inner();
    assert_eq!(k.stage, pb::CaseStage::JointMeeting as i32);
}

// ---------------------------------------------------------------- R-R4

#[tokio::test]
async fn r_r4_joint_meeting_pass_then_approval_within_the_recheck_amount() {
    let app = ReviewApp::spawn().await;
    let case = at_joint_meeting(&app, 7_000_000).await;
    let e = approve(&app, &case, 7_000_000).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-R4"], "the approval follows the joint meeting");
    let mut future = meeting_req(&case, &app, true);
    future.held_on = Some(egov_platform::convert::civil(app.svc.clock.today().next_day().unwrap()));
    assert_eq!(fields(&app.drb().record_joint_meeting(future).await.unwrap_err()), vec!["held_on"]);

    let k = app.drb().record_joint_meeting(meeting_req(&case, &app, true)).await.unwrap().into_inner();
    assert_eq!(k.stage, pb::CaseStage::Approval as i32);
    let j = k.joint_meeting.clone().unwrap();
    assert!(j.passed);
    assert_eq!(j.meeting_ref, "2026年第3次规划土地数字管理联席会议");
    assert_eq!(count(&app, "review.joint_meeting.recorded").await, 1);

    // Above the re-check's funding arrangement (though within the budget applied for).
    let e = approve(&app, &k, 7_000_001).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(fields(&e), vec!["budget_fen"]);
    let approved = approve(&app, &k, 7_000_000).await.unwrap();
    assert_eq!(approved.stage, pb::CaseStage::Approved as i32);
    assert_eq!(approved.approval.unwrap().budget_fen, 7_000_000);
    assert_eq!(count(&app, "review.project.approved").await, 1);
}

#[tokio::test]
async fn r_r4_a_failed_joint_meeting_ends_the_application() {
    let app = ReviewApp::spawn().await;
    let case = at_joint_meeting(&app, RECOMMENDED_FEN).await;
    let k = app.drb().record_joint_meeting(meeting_req(&case, &app, false)).await.unwrap().into_inner();
    assert_eq!(k.stage, pb::CaseStage::Ended as i32);
    assert!(k.end_reason.contains("与已建系统重复"), "{}", k.end_reason);
    assert_eq!(count(&app, "review.joint_meeting.recorded").await, 1);
    assert_eq!(count(&app, "review.application.ended").await, 1);
}

// ---------------------------------------------------------------- R-R6

fn fast_track(funding_source: &str, ground: &str) -> ev::CompliancePassed {
    let mut p = dossier(false);
    p.fast_track_grounds = vec![ground.into()];
    p.funding_source = funding_source.into();
    p
}

fn funds_req(case: &pb::ReviewCase) -> pb::RecordFundsSecuredRequest {
    pb::RecordFundsSecuredRequest {
        case_id: case.case_id.clone(),
        etag: case.etag.clone(),
        evidence_document_ids: vec!["DOC-FUNDS-1".into()],
        comment: "省级专项转移支付已下达".into(),
        request_id: rid(),
    }
}

async fn timer_status(app: &ReviewApp, case_id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM egov_timers WHERE kind = 'review.approval.validity' AND key = $1")
        .bind(case_id)
        .fetch_one(&app.svc.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn r_r6_funds_secured_on_the_last_valid_day_but_not_the_day_after() {
    let app = ReviewApp::spawn().await;
    let secured = app.open_case(fast_track("SUPERIOR_TRANSFER", "NON_DISTRICT_FUNDING")).await;
    let late = app.open_case(fast_track("SOCIAL_CAPITAL", "NON_DISTRICT_FUNDING")).await;
    let secured = approve(&app, &secured, 9_000_000).await.unwrap();
    let late = approve(&app, &late, 9_000_000).await.unwrap();
    let until = egov_platform::convert::date("valid_until", secured.approval.as_ref().unwrap().valid_until.as_ref()).unwrap();

    // Only FINANCE and DRB record it.
    let e = app.client(Role::Unit, Some("U-CIVIL")).record_funds_secured(funds_req(&secured)).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let mut no_evidence = funds_req(&secured);
    no_evidence.evidence_document_ids.clear();
    assert_eq!(
        fields(&app.client(Role::Finance, None).record_funds_secured(no_evidence).await.unwrap_err()),
        vec!["evidence_document_ids"]
    );

    // Late on the last valid day: accepted; the cancellation timer goes.
    app.svc.move_clock_to(egov_platform::clock::shanghai(until, time::macros::time!(23:00)));
    let k = app.client(Role::Finance, None).record_funds_secured(funds_req(&secured)).await.unwrap().into_inner();
    assert!(k.approval.as_ref().unwrap().funds_secured);
    assert_eq!(k.stage, pb::CaseStage::Approved as i32);
    assert_eq!(timer_status(&app, &secured.case_id).await, "cancelled");
    assert_eq!(count(&app, "review.approval.funds_secured").await, 1);
    let e = app.drb().record_funds_secured(funds_req(&k)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "recorded once");

    // The day after: the unsecured approval is cancelled at 00:00, and a late record is refused
    // under R-R6.
    app.svc.move_clock_to(egov_platform::clock::shanghai(until.next_day().unwrap(), time::macros::time!(00:30)));
    eventually(WAIT, "the unsecured approval is cancelled", || async {
        app.case(&late.case_id).await.stage == pb::CaseStage::Cancelled as i32
    })
    .await;
    let now = app.case(&late.case_id).await;
    let e = app.client(Role::Finance, None).record_funds_secured(funds_req(&now)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(rule_ids(&e), vec!["R-R6"]);
    assert!(e.message().contains(&until.to_string()), "{}", e.message());
    // The secured one stays in force.
    let k = app.case(&secured.case_id).await;
    assert_eq!(k.stage, pb::CaseStage::Approved as i32);
    assert!(!k.approval.unwrap().cancelled);
}

// ---------------------------------------------------------------- R-R7

/// An approved project (fast track, district money), budget 100 000.00 yuan.
async fn approved(app: &ReviewApp) -> pb::ReviewCase {
    let case = app.open_case(fast_track("DISTRICT_FISCAL", "PRINCIPAL_LEADER_AGREED")).await;
    approve(app, &case, 10_000_000).await.unwrap()
}

fn change_req(case: &pb::ReviewCase, new_budget_fen: i64) -> pb::RequestChangeRequest {
    pb::RequestChangeRequest {
        case_id: case.case_id.clone(),
        etag: case.etag.clone(),
        new_budget_fen,
        reason: "部分功能由市级平台提供，核减建设内容".into(),
        request_id: rid(),
    }
}

fn decide_req(case: &pb::ReviewCase, change_id: &str, stage: pb::ChangeReviewStage, passed: bool) -> pb::DecideChangeRequest {
    pb::DecideChangeRequest {
        case_id: case.case_id.clone(),
        etag: case.etag.clone(),
        change_id: change_id.into(),
        stage: stage as i32,
        passed,
        comment: "同意".into(),
        request_id: rid(),
    }
}

#[tokio::test]
async fn r_r7_a_reduction_of_exactly_15_percent_is_filed_and_adjusts_the_budget() {
    let app = ReviewApp::spawn().await;
    let case = approved(&app).await;
    let lead = app.client(Role::Unit, Some("U-CIVIL"));
    let k = lead.clone().request_change(change_req(&case, 8_500_000)).await.unwrap().into_inner();
    let c = &k.changes[0];
    assert_eq!(c.route, pb::ChangeRoute::InternalControlFiling as i32);
    assert_eq!(c.state, pb::ChangeState::Filed as i32);
    assert_eq!((c.old_budget_fen, c.new_budget_fen), (10_000_000, 8_500_000));
    assert_eq!(k.approval.unwrap().budget_fen, 8_500_000);
    let doc = lead.clone().get_approval(pb::GetApprovalRequest { project_id: case.case_id.clone() }).await.unwrap().into_inner();
    assert_eq!(doc.budget_fen, 8_500_000);
    assert_eq!(count(&app, "review.change.filed").await, 1);
    assert_eq!(count(&app, "review.budget.adjusted").await, 0);
    assert_eq!(count(&app, "review.change.requested").await, 0, "a filing needs no departmental review");
}

#[tokio::test]
async fn r_r7_a_larger_reduction_goes_through_departmental_and_expert_review() {
    let app = ReviewApp::spawn().await;
    let case = approved(&app).await;
    let lead = app.client(Role::Unit, Some("U-CIVIL"));
    // 15.01 %.
    let k = lead.clone().request_change(change_req(&case, 8_499_000)).await.unwrap().into_inner();
    let c = k.changes[0].clone();
    assert_eq!(c.route, pb::ChangeRoute::ChangeRequest as i32);
    assert_eq!(c.state, pb::ChangeState::AwaitingDepartmentalReview as i32);
    assert_eq!(k.approval.as_ref().unwrap().budget_fen, 10_000_000, "not adjusted before the reviews");
    assert_eq!(count(&app, "review.change.filed").await, 0);
    // One change at a time.
    let e = lead.clone().request_change(change_req(&k, 9_000_000)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    // The expert review comes after the departmental review; only DRB decides.
    let e = app.drb().decide_change(decide_req(&k, &c.change_id, pb::ChangeReviewStage::Expert, true)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    let e = lead.clone().decide_change(decide_req(&k, &c.change_id, pb::ChangeReviewStage::Departmental, true)).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = app.drb().decide_change(decide_req(&k, &c.change_id, pb::ChangeReviewStage::Unspecified, true)).await.unwrap_err();
    assert_eq!(fields(&e), vec!["stage"]);

    let k = app.drb().decide_change(decide_req(&k, &c.change_id, pb::ChangeReviewStage::Departmental, true)).await.unwrap().into_inner();
    assert_eq!(k.changes[0].state, pb::ChangeState::AwaitingExpertReview as i32);
    assert_eq!(k.approval.as_ref().unwrap().budget_fen, 10_000_000);
    let k = app.drb().decide_change(decide_req(&k, &c.change_id, pb::ChangeReviewStage::Expert, true)).await.unwrap().into_inner();
    assert_eq!(k.changes[0].state, pb::ChangeState::Approved as i32);
    assert_eq!(k.approval.as_ref().unwrap().budget_fen, 8_499_000);
    assert_eq!(count(&app, "review.change.requested").await, 1, "DRB is told a change request awaits it");
    assert_eq!(count(&app, "review.budget.adjusted").await, 1);
    // Done: it takes no further review.
    let e = app.drb().decide_change(decide_req(&k, &c.change_id, pb::ChangeReviewStage::Expert, true)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(count(&app, "review.budget.adjusted").await, 1);
}

#[tokio::test]
async fn r_r7_an_increase_needs_a_new_application_and_only_the_lead_unit_asks() {
    let app = ReviewApp::spawn().await;
    let case = approved(&app).await;
    let e = app.client(Role::Unit, Some("U-CIVIL")).request_change(change_req(&case, 10_000_001)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(rule_ids(&e), vec!["R-R7"]);
    assert!(e.message().contains("重新申报"), "{}", e.message());
    let e = app.client(Role::Unit, Some("U-OTHER")).request_change(change_req(&case, 9_000_000)).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = app.drb().request_change(change_req(&case, 9_000_000)).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "the unit argues its change");
    let k = app.case(&case.case_id).await;
    assert_eq!(k.etag, case.etag);
    assert!(k.changes.is_empty());
}

#[tokio::test]
async fn r_r7_no_change_once_procurement_has_completed() {
    let app = ReviewApp::spawn().await;
    let case = approved(&app).await;
    let completed = egov_platform::outbox::envelope(
        "procurement",
        "procurement.procurement.completed",
        &case.case_id,
        "2026.1-draft",
        app.svc.clock.now(),
        Payload::ProcurementCompleted(ev::ProcurementCompleted { project_id: case.case_id.clone() }),
    );
    app.publish(&completed).await;
    app.publish(&completed).await;
    eventually(WAIT, "procurement completed", || async { app.case(&case.case_id).await.procurement_completed }).await;
    let k = app.case(&case.case_id).await;
    let e = app.client(Role::Unit, Some("U-CIVIL")).request_change(change_req(&k, 9_000_000)).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-R7"]);
}
