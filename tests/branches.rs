//! One project from its application to its first published evaluation, then every terminal
//! branch of the lifecycle. Each asserts what every service shows (intake's registry, review,
//! procurement, acceptance, evaluation), not only the one that decided, and ends with the five
//! services' views reconciled without a disagreement. Each test has its own suite, so they run
//! in parallel.

use egov_platform::{
    auth::Role,
    convert::{civil, date},
    error::status_rule_ids,
    period::{self, Period},
};
use egov_proto::{acceptance as apb, evaluation as epb, intake as ipb, procurement as ppb, review as rpb};

use super::*;

const IN_USE: [&str; 5] = ["运行 IN_OPERATION", "APPROVED", "CONSTRUCTION_COMPLETED", "ACCEPTED", "LISTED"];

#[tokio::test]
async fn from_application_to_its_first_published_evaluation() {
    let s = Suite::start().await;
    // Compliance, preliminary review, expert review, re-check, joint meeting, approval.
    let id = s.reviewed_project("U-CIVIL").await;
    s.assert_shows(&id, ["立项审批 APPROVAL", "APPROVAL", "", "", ""]).await;
    s.issue_approval(&id, 9_800_000).await;
    s.assert_shows(&id, ["采购 PROCUREMENT", "APPROVED", "PROCURING", "", ""]).await;
    // Procurement, contract, payments, construction; the initial acceptance, the trial, the
    // application and the acceptance.
    let name = s.completed_construction(&id).await;
    s.assert_shows(&id, ["初验 INITIAL_ACCEPTANCE", "APPROVED", "CONSTRUCTION_COMPLETED", "INITIAL_ACCEPTANCE", ""]).await;
    let held = s.initial_acceptance(&id, &name).await;
    s.trial_operation(&id, &name, held).await;
    let approved = s.apply_for_acceptance(&id).await;
    assert!(approved.applications[0].checks.iter().all(|c| !c.detail.contains("fast track")), "the expert opinion was read");
    s.record_acceptance(&id, true).await;
    // Evaluation catalogues it and schedules its first evaluation (R-E1, R-E2).
    let entry = s.catalogued(&id).await;
    s.assert_shows(&id, IN_USE).await;
    let go_live = date("go_live_on", entry.go_live_on.as_ref()).unwrap();
    let due = date("next_due_on", entry.schedule.as_ref().and_then(|s| s.next_due_on.as_ref())).unwrap();
    assert_eq!(due, period::last_day(go_live, Period::Months(12)), "a data resource: first evaluated after 12 months");
    s.move_to(due).await;
    s.entry_until(&id, "the evaluation falls due", |e| e.schedule.as_ref().is_some_and(|s| s.due)).await;
    s.assert_shows(&id, ["绩效评价 EVALUATION_DUE", "APPROVED", "CONSTRUCTION_COMPLETED", "ACCEPTED", "LISTED"]).await;
    let published = s.evaluate(&id, 85).await;
    assert_eq!(published.evaluations.last().unwrap().status, epb::EvaluationStatus::Published as i32);
    s.assert_shows(&id, IN_USE).await;
    let list = s
        .evaluation_client(Role::Finance, None)
        .list_published_evaluations(epb::ListPublishedEvaluationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.evaluations.len(), 1);
    let st = s.status("U-CIVIL", &id).await;
    for t in ["intake.application.submitted", "review.expert.concluded", "review.project.approved", "procurement.contract.filed"] {
        assert!(st.timeline.iter().any(|e| e.event_type == t), "{t} on the timeline: {:?}", st.timeline);
    }
    for t in ["acceptance.project.accepted", "evaluation.application.catalogued", "evaluation.evaluation.published"] {
        assert!(st.timeline.iter().any(|e| e.event_type == t), "{t} on the timeline: {:?}", st.timeline);
    }
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn ended_at_compliance_when_no_re_review_is_requested_in_time() {
    let s = Suite::start().await;
    let a = s.drafted_application("U-CIVIL", Track::Normal).await;
    let a = s.submit("U-CIVIL", &a).await.unwrap();
    let failed = s.decide_compliance(&a, false).await;
    assert_eq!(failed.state, ipb::ApplicationState::ComplianceFailed as i32);
    let deadline = date("re_review_deadline", failed.re_review_deadline.as_ref()).unwrap();
    assert_eq!(deadline, period::last_day(s.intake.clock.today(), Period::Days(10)));
    // On the deadline day the application waits; the day after, it has ended (R-I11).
    s.move_to(deadline).await;
    s.assert_shows(&a.project_id, ["待复审 AWAITING_RE_REVIEW", "", "", "", ""]).await;
    s.move_to(deadline.next_day().unwrap()).await;
    s.assert_shows(&a.project_id, ["申报结束 ENDED", "", "", "", ""]).await;
    let ended = s.intake(Role::Drb, None).get_application(ipb::GetApplicationRequest { application_id: a.application_id }).await.unwrap();
    assert_eq!(ended.into_inner().state, ipb::ApplicationState::Ended as i32);
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn ended_at_compliance_after_a_failed_re_review() {
    let s = Suite::start().await;
    let a = s.drafted_application("U-CIVIL", Track::Normal).await;
    let a = s.submit("U-CIVIL", &a).await.unwrap();
    let failed = s.decide_compliance(&a, false).await;
    let again = s
        .intake(Role::Unit, Some("U-CIVIL"))
        .request_re_review(ipb::RequestReReviewRequest {
            application_id: a.application_id.clone(),
            etag: failed.etag,
            comment: "已补充材料".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.state, ipb::ApplicationState::ReReviewRequested as i32);
    let ended = s.decide_compliance(&again, false).await;
    assert_eq!(ended.state, ipb::ApplicationState::Ended as i32);
    s.assert_shows(&a.project_id, ["申报结束 ENDED", "", "", "", ""]).await;
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn ended_at_expert_review_in_every_service() {
    let s = Suite::start().await;
    let id = s.passed_application("U-CIVIL", Track::Normal).await.project_id;
    s.opened_case(&id).await;
    s.decide_preliminary(&id, true).await;
    assert_eq!(s.expert_review("U-CIVIL", &id, false).await.stage, rpb::CaseStage::Ended as i32);
    s.assert_shows(&id, ["申报结束 ENDED", "ENDED", "", "", ""]).await;
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn ended_at_re_check_in_every_service() {
    let s = Suite::start().await;
    let id = s.passed_application("U-CIVIL", Track::Normal).await.project_id;
    s.opened_case(&id).await;
    s.decide_preliminary(&id, true).await;
    s.expert_review("U-CIVIL", &id, true).await;
    assert_eq!(s.recheck(&id, false).await.stage, rpb::CaseStage::Ended as i32);
    s.assert_shows(&id, ["申报结束 ENDED", "ENDED", "", "", ""]).await;
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn ended_at_the_joint_meeting_in_every_service() {
    let s = Suite::start().await;
    let id = s.passed_application("U-CIVIL", Track::Normal).await.project_id;
    s.opened_case(&id).await;
    s.decide_preliminary(&id, true).await;
    s.expert_review("U-CIVIL", &id, true).await;
    s.recheck(&id, true).await;
    assert_eq!(s.joint_meeting(&id, false).await.stage, rpb::CaseStage::Ended as i32);
    s.assert_shows(&id, ["申报结束 ENDED", "ENDED", "", "", ""]).await;
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn r_r6_an_outside_funded_approval_is_cancelled_everywhere_when_its_validity_lapses() {
    let s = Suite::start().await;
    let id = s.passed_application("U-CIVIL", Track::OutsideFunding).await.project_id;
    s.opened_case(&id).await;
    let approved = s.issue_approval(&id, 10_000_000).await;
    let valid_until = date("valid_until", approved.approval.as_ref().and_then(|a| a.valid_until.as_ref())).unwrap();
    assert_eq!(valid_until, period::last_day(s.review.clock.today(), Period::Years(2)));
    s.assert_shows(&id, ["采购 PROCUREMENT", "APPROVED", "PROCURING", "", ""]).await;
    // Through the anniversary it holds; the day after, it is cancelled (取消立项指标).
    s.move_to(valid_until).await;
    s.assert_shows(&id, ["采购 PROCUREMENT", "APPROVED", "PROCURING", "", ""]).await;
    s.move_to(valid_until.next_day().unwrap()).await;
    s.assert_shows(&id, ["取消立项 APPROVAL_CANCELLED", "CANCELLED", "CANCELLED", "", ""]).await;
    let st = s.status("U-CIVIL", &id).await;
    assert!(st.timeline.iter().any(|t| t.event_type == "review.approval.cancelled" && t.summary.contains("R-R6")), "{:?}", st.timeline);
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn r_p10_terminated_after_the_contract_in_every_service() {
    let s = Suite::start().await;
    let id = s.approved_fiscal_project().await;
    eventually(WAIT, "procurement case opened", || async { s.procurement_case(&id).await.is_some() }).await;
    s.under_construction(&id).await;
    let k = s.terminate(&id, "合同已签订，已支付 0 元").await;
    assert_eq!(k.termination.unwrap().kind, "TERMINATED");
    s.assert_shows(&id, ["终止 TERMINATED", "TERMINATED", "TERMINATED", "", ""]).await;
    // Construction completed is refused now: nothing reaches acceptance.
    let k = s.procurement_case(&id).await.unwrap();
    let e = s
        .procurement_client(Role::Unit, Some("U-CIVIL"))
        .declare_construction_complete(ppb::DeclareConstructionCompleteRequest {
            project_id: id.clone(),
            etag: k.etag,
            completed_on: Some(civil(s.procurement.clock.today())),
            summary: "完成".into(),
            overrun_explanation: String::new(),
            request_id: "done".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status_rule_ids(&e), vec!["R-P10"]);
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn acceptance_failed_rectified_and_passed_in_every_service() {
    let s = Suite::start().await;
    let id = s.through_acceptance(false).await;
    s.assert_shows(&id, ["验收未通过 RECTIFICATION", "APPROVED", "CONSTRUCTION_COMPLETED", "RECTIFICATION", ""]).await;
    // Not in use: nothing catalogued, procurement's final stage not met (R-A5).
    let k = s.procurement_case(&id).await.unwrap();
    assert!(k.contract.unwrap().payment_stages.iter().any(|p| p.stage_id == "final" && !p.condition_met));
    let name = s.acceptance_case(&id).await.unwrap().project_name;
    file_material(&s, &id, apb::MaterialKind::RectificationReport, &name).await;
    s.apply_for_acceptance(&id).await;
    assert_eq!(s.record_acceptance(&id, true).await.state, apb::CaseState::Accepted as i32);
    s.catalogued(&id).await;
    s.assert_shows(&id, IN_USE).await;
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn acceptance_failed_and_not_rectified_in_time_in_every_service() {
    let s = Suite::start().await;
    let id = s.through_acceptance(false).await;
    let k = s.acceptance_case(&id).await.unwrap();
    let rectify_by = date("rectify_by", k.rectify_by.as_ref()).unwrap();
    assert_eq!(rectify_by, period::last_day(s.acceptance.clock.today(), Period::Months(2)));
    s.move_to(rectify_by.next_day().unwrap()).await;
    s.assert_shows(&id, ["整改逾期 RECTIFICATION_LAPSED", "APPROVED", "CONSTRUCTION_COMPLETED", "RECTIFICATION_LAPSED", ""]).await;
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn r_e3_eliminated_after_an_unrectified_low_grade_with_the_leaders_approval() {
    let s = Suite::start().await;
    let (id, _) = s.accepted_project().await;
    let low = s.evaluate(&id, 50).await;
    let rectify_by = date("rectify_by", low.rectification.as_ref().and_then(|r| r.rectify_by.as_ref())).unwrap();
    s.assert_shows(&id, ["整改 RECTIFICATION", "APPROVED", "CONSTRUCTION_COMPLETED", "ACCEPTED", "LISTED"]).await;
    s.move_to(rectify_by.next_day().unwrap()).await;
    let overdue = s
        .entry_until(&id, "the rectification is overdue", |e| {
            e.rectification.as_ref().is_some_and(|r| r.status == epb::RectificationStatus::Overdue as i32)
        })
        .await;
    let drb = s.evaluation_client(Role::Drb, None);
    let proposed = drb
        .clone()
        .propose_elimination(epb::ProposeEliminationRequest {
            app_id: id.clone(), etag: overdue.etag, reason: "低绩且未按期整改".into()
        })
        .await
        .unwrap()
        .into_inner();
    let approved = s
        .evaluation_client(Role::Leader, None)
        .decide_elimination(epb::DecideEliminationRequest {
            app_id: id.clone(),
            etag: proposed.etag,
            approve: true,
            comment: "同意强制淘汰".into(),
        })
        .await
        .unwrap()
        .into_inner();
    drb.clone().eliminate_application(epb::EliminateApplicationRequest { app_id: id.clone(), etag: approved.etag }).await.unwrap();
    s.assert_shows(&id, ["强制淘汰 ELIMINATED", "APPROVED", "CONSTRUCTION_COMPLETED", "ACCEPTED", "ELIMINATED"]).await;
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn r_e5_delisted_after_an_unrectified_data_sharing_violation() {
    let s = Suite::start().await;
    let (id, entry) = s.accepted_project().await;
    let v = s
        .evaluation_client(Role::Drb, None)
        .record_sharing_violation(epb::RecordSharingViolationRequest {
            entry_id: id.clone(),
            etag: entry.etag,
            description: "未按共享目录提供救助数据接口".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let rectify_by = date("rectify_by", v.sharing_violation.as_ref().and_then(|v| v.rectify_by.as_ref())).unwrap();
    assert_eq!(rectify_by, period::last_day(s.evaluation.clock.today(), Period::Months(3)));
    s.move_to(rectify_by.next_day().unwrap()).await;
    s.assert_shows(&id, ["下架 DELISTED", "APPROVED", "CONSTRUCTION_COMPLETED", "ACCEPTED", "DELISTED"]).await;
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn r_e6_an_early_stop_suspends_the_unit_next_year_and_its_next_application_is_refused() {
    let s = Suite::start().await;
    let (id, entry) = s.accepted_project().await;
    let stopped = s
        .evaluation_client(Role::Unit, Some("U-CIVIL"))
        .stop_application(epb::StopApplicationRequest { app_id: id.clone(), etag: entry.etag, reason: "业务并入省级系统".into() })
        .await
        .unwrap()
        .into_inner();
    let year = s.evaluation.clock.today().year() + 1;
    assert_eq!(stopped.early_stop.unwrap().ineligible_year, year);
    s.assert_shows(&id, ["停用 STOPPED", "APPROVED", "CONSTRUCTION_COMPLETED", "ACCEPTED", "STOPPED"]).await;
    // Intake suspends the unit for the next year (R-I10) ...
    let eligibility = || async {
        s.intake(Role::Drb, None)
            .get_unit_eligibility(ipb::GetUnitEligibilityRequest { unit_id: "U-CIVIL".into(), year })
            .await
            .unwrap()
            .into_inner()
    };
    eventually(WAIT, "intake suspends the unit next year", || async { !eligibility().await.eligible }).await;
    // ... and refuses its application then, in that year's round.
    let next = s.drafted_application("U-CIVIL", Track::Normal).await;
    s.move_to(time::Date::from_calendar_date(year, time::Month::March, 2).unwrap()).await;
    let e = s.submit("U-CIVIL", &next).await.unwrap_err();
    assert!(status_rule_ids(&e).contains(&"R-I10".to_string()), "{e:?}");
    s.reconcile_agrees().await;
}

impl Suite {
    /// R-P10: the lead unit revokes (before a contract) or terminates (after) the project.
    pub(crate) async fn terminate(&self, id: &str, payments: &str) -> ppb::ProcurementCase {
        let case = self.procurement_case(id).await.unwrap();
        self.procurement_client(Role::Unit, Some("U-CIVIL"))
            .terminate_project(ppb::TerminateProjectRequest {
                project_id: id.into(),
                etag: case.etag,
                ground: ppb::TerminationGround::FunctionTransferOrPolicyChange as i32,
                reason: "职能划转至市级部门统一建设".into(),
                progress: "尚未开展采购".into(),
                payments: payments.into(),
                party_committee_resolution: "党组会议纪要〔2026〕15号".into(),
                leader_approval: "区分管领导审批件".into(),
                request_id: "terminate".into(),
            })
            .await
            .unwrap()
            .into_inner()
    }
}
