//! Construction: monthly progress (R-P7), inspection draws (R-P7), overruns (R-P8), security
//! flags (R-P9), revocation and termination (R-P10), completion and the OCDS export.
//!
//! The service's clock only moves forward from the real date, so every date here is computed
//! from the day the test runs.

use egov_platform::{
    auth::Role,
    clock::shanghai,
    convert::civil,
    error::{status_fields, status_rule_ids},
    testing::eventually,
};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    procurement as pb,
};
use prost::Message;
use time::{Date, Duration, Month, macros::time};
use tonic::Code;

use crate::{
    contracts::{complete, outbox_count},
    helpers::{App, WAIT},
};

/// The first day of the month after `d`'s.
fn next_month_start(d: Date) -> Date {
    let (y, m) = if d.month() == Month::December { (d.year() + 1, Month::January) } else { (d.year(), d.month().next()) };
    Date::from_calendar_date(y, m, 1).unwrap()
}

fn nth_month_start(d: Date, n: u32) -> Date {
    (0..n).fold(d, |d, _| next_month_start(d))
}

fn ym(d: Date) -> pb::YearMonth {
    pb::YearMonth { year: d.year(), month: d.month() as i32 }
}

/// A case under construction: approved, procured and its contract filed today, construction
/// from the first of next month (S) to the last day of S + 4 months. Returns id, etag and S.
async fn in_construction(app: &App, funding: &str) -> (String, String, Date) {
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let today = app.svc.clock.today();
    let (id, k) = app.procured_today(funding).await;
    let start = next_month_start(today);
    let end = nth_month_start(start, 5) - Duration::days(1);
    let terms = pb::ContractTerms {
        construction_start: Some(civil(start)),
        construction_end: Some(civil(end)),
        maintenance_start: Some(civil(end + Duration::days(1))),
        maintenance_end: Some(civil(nth_month_start(start, 5 + 24) - Duration::days(1))),
        ..complete()
    };
    let k = unit
        .clone()
        .file_contract(pb::FileContractRequest {
            project_id: id.clone(),
            etag: k.etag,
            terms: Some(terms),
            contract_signed_on: Some(civil(today)),
            filed_on: Some(civil(today)),
            request_id: "contract".into(),
            security: Some(pb::SecurityFlags { classified_protection_level: 3, important_system: true, ..Default::default() }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(k.state, pb::CaseState::Construction as i32);
    assert_eq!(k.first_report_month, Some(ym(start)));
    (id, k.etag, start)
}

fn report(id: &str, etag: &str, month: pb::YearMonth) -> pb::ReportProgressRequest {
    pb::ReportProgressRequest {
        project_id: id.into(),
        etag: etag.into(),
        month: Some(month),
        percent_complete: 20,
        summary: "完成需求调研和概要设计".into(),
        issues: String::new(),
        request_id: "report".into(),
    }
}

/// Sets a plan of 30 % on signing (stage "sign") and 70 % on final acceptance (stage "final").
async fn with_payment_plan(app: &App, id: &str, etag: String) -> pb::ProcurementCase {
    let stages = vec![
        pb::PaymentStageTerms { stage_id: "sign".into(), condition: "合同签订".into(), ratio_bp: 3000 },
        pb::PaymentStageTerms { stage_id: "final".into(), condition: "终验通过".into(), ratio_bp: 7000 },
    ];
    let req = pb::SetPaymentPlanRequest { project_id: id.into(), etag, stages, request_id: "plan".into() };
    app.client(Role::Unit, Some("U-CIVIL")).set_payment_plan(req).await.unwrap().into_inner()
}

/// DRB records `stage`'s condition met, then the unit files a payment of `amount` for it.
async fn stage_paid(app: &App, id: &str, etag: String, stage: &str, amount: i64) -> pb::ProcurementCase {
    let mark = pb::MarkStageConditionMetRequest {
        project_id: id.into(),
        etag,
        stage_id: stage.into(),
        evidence: format!("{stage} 证明材料"),
        request_id: format!("mark-{stage}"),
    };
    let k = app.client(Role::Drb, None).mark_stage_condition_met(mark).await.unwrap().into_inner();
    let pay = pb::FilePaymentRequest {
        project_id: id.into(),
        etag: k.etag,
        stage_id: stage.into(),
        amount_fen: amount,
        request_id: format!("pay-{stage}"),
    };
    app.client(Role::Unit, Some("U-CIVIL")).file_payment(pay).await.unwrap().into_inner()
}

#[tokio::test]
async fn r_p7_a_report_on_the_20th_is_on_time_on_the_21st_late_and_a_missing_month_is_flagged() {
    let app = App::spawn().await;
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let (id, etag, start) = in_construction(&app, "SUPERIOR_TRANSFER").await;
    let second = next_month_start(start);

    // Not before the first month, not for a month to come, only the lead unit.
    let before = ym(start - Duration::days(1));
    let e = unit.clone().report_progress(report(&id, &etag, before)).await.unwrap_err();
    assert_eq!(status_rule_ids(&e), vec!["R-P7"], "{e:?}");
    let e = unit.clone().report_progress(report(&id, &etag, ym(start))).await.unwrap_err();
    assert_eq!(status_fields(&e), vec!["month"], "the first month is still to come: {e:?}");
    let e = app.client(Role::Unit, Some("U-OTHER")).report_progress(report(&id, &etag, ym(start))).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let mut bad = report(&id, &etag, pb::YearMonth { year: start.year(), month: 13 });
    bad.percent_complete = 101;
    let e = unit.clone().report_progress(bad).await.unwrap_err();
    assert_eq!(status_fields(&e), vec!["month", "percent_complete"], "{e:?}");
    assert_eq!(app.case(&id).await.etag, etag, "refusals change nothing");

    // The 20th at 23:30 Shanghai: on time.
    let twentieth = start.replace_day(20).unwrap();
    app.svc.move_clock_to(shanghai(twentieth, time!(23:30)));
    let k = unit.clone().report_progress(report(&id, &etag, ym(start))).await.unwrap().into_inner();
    assert_eq!(k.progress_reports.len(), 1);
    assert!(!k.progress_reports[0].late);
    assert_eq!(k.progress_reports[0].due_on, Some(civil(twentieth)));
    let e = unit.clone().report_progress(report(&id, &k.etag, ym(start))).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists, "{e:?}");

    // The second month passes its due day without a report: flagged once, at 00:00 on the 21st.
    let second_21st = second.replace_day(21).unwrap();
    app.svc.move_clock_to(shanghai(second_21st, time!(00:10)));
    eventually(WAIT, "the missing report is flagged", || async { app.case(&id).await.missing_reports == vec![ym(second)] }).await;
    let k = app.settled(&id).await;
    assert_eq!(outbox_count(&app, "procurement.progress.report_missing").await, 1);
    assert_eq!(k.missing_reports, vec![ym(second)], "the first month was reported on time: not flagged");

    // Reported on the 21st: accepted and recorded as late.
    let k = unit.clone().report_progress(report(&id, &k.etag, ym(second))).await.unwrap().into_inner();
    assert_eq!(k.progress_reports.len(), 2);
    assert!(k.progress_reports[1].late);
    assert_eq!(k.progress_reports[1].reported_on, Some(civil(second_21st)));
    assert_eq!(outbox_count(&app, "procurement.progress.reported_late").await, 1);

    // The chain goes on: the third month's check is pending.
    let key = format!("{id}/{}", nth_month_start(start, 2).to_string().get(..7).unwrap());
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM egov_timers WHERE kind = 'procurement.progress_report' AND key = $1 AND status = 'pending'",
    )
    .bind(&key)
    .fetch_one(&app.svc.pool)
    .await
    .unwrap();
    assert_eq!(pending, 1, "{key}");
}

fn completion(id: &str, etag: &str, on: Date, explanation: &str) -> pb::DeclareConstructionCompleteRequest {
    pb::DeclareConstructionCompleteRequest {
        project_id: id.into(),
        etag: etag.into(),
        completed_on: Some(civil(on)),
        summary: "全部建设内容已完成，具备初验条件".into(),
        overrun_explanation: explanation.into(),
        request_id: "complete".into(),
    }
}

#[tokio::test]
async fn r_p8_completion_on_the_last_day_is_on_time_the_day_after_is_an_overrun_recorded_once() {
    let app = App::spawn().await;
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let (on_time, _, start) = in_construction(&app, "SUPERIOR_TRANSFER").await;
    let (late, _, _) = in_construction(&app, "SUPERIOR_TRANSFER").await;
    let end = nth_month_start(start, 5) - Duration::days(1);

    // Nothing to explain within the contract period.
    let e = unit
        .clone()
        .explain_overrun(pb::ExplainOverrunRequest {
            project_id: late.clone(),
            etag: app.case(&late).await.etag,
            explanation: "设备到货延迟".into(),
            request_id: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");

    // The last day of the contract period: completed on time.
    app.svc.move_clock_to(shanghai(end, time!(23:30)));
    assert!(app.settled(&on_time).await.missing_reports.len() >= 4, "no reports were filed: the months are flagged");
    let on_time_etag = app.settled(&on_time).await.etag;
    let e = unit.clone().declare_construction_complete(completion(&on_time, &on_time_etag, end + Duration::days(1), "")).await.unwrap_err();
    assert_eq!(status_fields(&e), vec!["completed_on"], "not after today: {e:?}");
    let k = unit.clone().declare_construction_complete(completion(&on_time, &on_time_etag, end, "")).await.unwrap().into_inner();
    assert_eq!(k.state, pb::CaseState::ConstructionCompleted as i32);
    assert_eq!(k.completion.as_ref().unwrap().overrun_days, 0);
    assert!(k.overrun.is_none());

    // The day after: the overrun is recorded against the unit by the timer, once.
    app.svc.move_clock_to(shanghai(end + Duration::days(1), time!(00:10)));
    eventually(WAIT, "overrun recorded", || async { app.case(&late).await.overrun.is_some() }).await;
    let k = app.settled(&late).await;
    assert_eq!(k.overrun.as_ref().unwrap().contract_end, Some(civil(end)));
    assert_eq!(k.overrun.as_ref().unwrap().days, 1);

    // Completion past the period needs the unit's explanation (R-P8).
    let e = unit.clone().declare_construction_complete(completion(&late, &k.etag, end + Duration::days(1), " ")).await.unwrap_err();
    assert_eq!(status_rule_ids(&e), vec!["R-P8"], "{e:?}");
    assert_eq!(app.case(&late).await.etag, k.etag);
    let k = unit
        .clone()
        .explain_overrun(pb::ExplainOverrunRequest {
            project_id: late.clone(),
            etag: k.etag,
            explanation: "核心设备到货延迟一天".into(),
            request_id: "explain".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(k.overrun.as_ref().unwrap().explanation, "核心设备到货延迟一天");
    let k = unit.clone().declare_construction_complete(completion(&late, &k.etag, end + Duration::days(1), "")).await.unwrap().into_inner();
    assert_eq!(k.completion.as_ref().unwrap().overrun_days, 1);

    // One overrun event (for intake's record of the unit), one completion event per project.
    assert_eq!(outbox_count(&app, "procurement.construction.overrun_recorded").await, 1);
    assert_eq!(outbox_count(&app, "procurement.construction.completed").await, 2);
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM egov_timers WHERE kind IN ('procurement.progress_report', 'procurement.overrun') AND status = 'pending'",
    )
    .fetch_one(&app.svc.pool)
    .await
    .unwrap();
    assert_eq!(pending, 0, "completed construction has no report or overrun checks left");

    // The completion event carries what acceptance needs.
    let payloads: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM egov_outbox WHERE routing_key = 'procurement.construction.completed'")
            .fetch_all(&app.svc.pool)
            .await
            .unwrap();
    let envelopes: Vec<ev::EventEnvelope> = payloads.iter().map(|p| ev::EventEnvelope::decode(p.as_slice()).unwrap()).collect();
    let Some(Payload::ConstructionCompleted(c)) = envelopes.into_iter().find(|e| e.project_id == late).and_then(|e| e.payload) else {
        panic!("no completion event for {late}")
    };
    assert_eq!(c.channel, "SMALL_PUBLIC_RESOURCE_TRADING");
    assert_eq!(c.contract_amount_fen, 9_000_000);
    assert_eq!(c.overrun_days, 1);
    assert_eq!((c.classified_protection_level, c.important_system), (3, true));
    assert_eq!(c.construction_end, Some(civil(end)));

    // Once complete, it is not completed again.
    let e = unit.clone().declare_construction_complete(completion(&late, &k.etag, end, "")).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn r_p9_the_security_level_is_required_at_contract_time() {
    let app = App::spawn().await;
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let today = app.svc.clock.today();
    let (id, k) = app.procured_today("SUPERIOR_TRANSFER").await;
    let start = next_month_start(today);
    let end = nth_month_start(start, 5) - Duration::days(1);
    let filing = |security: Option<pb::SecurityFlags>| pb::FileContractRequest {
        project_id: id.clone(),
        etag: k.etag.clone(),
        terms: Some(pb::ContractTerms {
            construction_start: Some(civil(start)),
            construction_end: Some(civil(end)),
            maintenance_start: Some(civil(end + Duration::days(1))),
            maintenance_end: Some(civil(nth_month_start(start, 29) - Duration::days(1))),
            ..complete()
        }),
        contract_signed_on: Some(civil(today)),
        filed_on: Some(civil(today)),
        request_id: "contract".into(),
        security,
    };
    let level = |l: i32, important: bool| {
        Some(pb::SecurityFlags { classified_protection_level: l, important_system: important, ..Default::default() })
    };
    let e = unit.clone().file_contract(filing(None)).await.unwrap_err();
    assert_eq!(status_fields(&e), vec!["security"], "{e:?}");
    for bad in [0, 6, -1] {
        let e = unit.clone().file_contract(filing(level(bad, false))).await.unwrap_err();
        assert_eq!(status_fields(&e), vec!["security.classified_protection_level"], "level {bad}: {e:?}");
    }
    assert_eq!(app.case(&id).await.state, pb::CaseState::Procured as i32);
    let k = unit.clone().file_contract(filing(level(2, true))).await.unwrap().into_inner();
    let s = k.contract.unwrap().security.unwrap();
    assert_eq!(s.classified_protection_level, 2);
    assert!(!s.yearly_assessment_required, "level 2 is below 3");
    assert!(s.cryptography_assessment_required, "an important system");
}

fn termination(id: &str, etag: &str) -> pb::TerminateProjectRequest {
    pb::TerminateProjectRequest {
        project_id: id.into(),
        etag: etag.into(),
        ground: pb::TerminationGround::FunctionTransferOrPolicyChange as i32,
        reason: "职能划转至市级部门统一建设".into(),
        progress: "已完成需求调研".into(),
        payments: "已支付首付款".into(),
        party_committee_resolution: "党组会议纪要〔2026〕12号".into(),
        leader_approval: "区分管领导审批件 2026-11".into(),
        request_id: "terminate".into(),
    }
}

#[tokio::test]
async fn r_p10_revocation_before_a_contract_and_termination_after_end_the_project_once() {
    let app = App::spawn().await;
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let today = app.svc.clock.today();

    // A fiscally funded project still procuring: every missing item listed, nothing changes.
    let (procuring, _) = app.approved("DISTRICT_FISCAL", today).await;
    let k = app.case(&procuring).await;
    let empty =
        pb::TerminateProjectRequest { project_id: procuring.clone(), etag: k.etag.clone(), request_id: "t".into(), ..Default::default() };
    let e = unit.clone().terminate_project(empty).await.unwrap_err();
    assert_eq!(status_rule_ids(&e), vec!["R-P10"; 6], "{e:?}");
    let mut no_leader = termination(&procuring, &k.etag);
    no_leader.leader_approval = String::new();
    let e = unit.clone().terminate_project(no_leader).await.unwrap_err();
    assert_eq!(status_rule_ids(&e), vec!["R-P10"], "{e:?}");
    assert_eq!(app.case(&procuring).await.etag, k.etag);
    let e = app.client(Role::Drb, None).terminate_project(termination(&procuring, &k.etag)).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "the unit files it");

    let k = unit.clone().terminate_project(termination(&procuring, &k.etag)).await.unwrap().into_inner();
    assert_eq!(k.state, pb::CaseState::Terminated as i32);
    let t = k.termination.as_ref().unwrap();
    assert_eq!((t.kind.as_str(), t.paid_fen), ("REVOKED", 0));
    let deadline: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind = 'procurement.deadline' AND status = 'pending'")
        .fetch_one(&app.svc.pool)
        .await
        .unwrap();
    assert_eq!(deadline, 0, "a revoked project has no R-P1 deadline left");
    let e = unit.clone().terminate_project(termination(&procuring, &k.etag)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "it ended already");

    // Under construction with a payment filed: terminated, with the payments on record.
    let (building, etag, _) = in_construction(&app, "SUPERIOR_TRANSFER").await;
    let k = with_payment_plan(&app, &building, etag).await;
    let k = stage_paid(&app, &building, k.etag, "sign", 2_700_000).await;
    let k = unit.clone().terminate_project(termination(&building, &k.etag)).await.unwrap().into_inner();
    let t = k.termination.as_ref().unwrap();
    assert_eq!((t.kind.as_str(), t.paid_fen), ("TERMINATED", 2_700_000));
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE key LIKE $1 AND status = 'pending'")
        .bind(format!("{building}%"))
        .fetch_one(&app.svc.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0, "no report or overrun checks after termination");
    assert_eq!(outbox_count(&app, "procurement.project.terminated").await, 2);
    let e = unit
        .clone()
        .report_progress(report(&building, &k.etag, pb::YearMonth { year: today.year(), month: today.month() as i32 }))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn r_p7_inspection_draws_are_reproducible_recorded_and_only_among_projects_under_construction() {
    let app = App::spawn().await;
    let drb = app.client(Role::Drb, None);
    let mut building = Vec::new();
    for _ in 0..3 {
        building.push(in_construction(&app, "SUPERIOR_TRANSFER").await.0);
    }
    let (procuring, _) = app.approved("SUPERIOR_TRANSFER", app.svc.clock.today()).await;
    building.sort();
    let draw = |count: u32, seed: Option<u64>, request_id: &str| pb::DrawInspectionsRequest {
        count,
        seed,
        note: "2026年第四季度抽查".into(),
        request_id: request_id.into(),
    };

    let e = app.client(Role::Unit, Some("U-CIVIL")).draw_inspections(draw(2, Some(42), "d0")).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = drb.clone().draw_inspections(draw(0, Some(42), "d0")).await.unwrap_err();
    assert_eq!(status_fields(&e), vec!["count"]);

    let a = drb.clone().draw_inspections(draw(2, Some(42), "d1")).await.unwrap().into_inner();
    assert_eq!(a.pool, building, "the pool is the projects under construction, sorted");
    assert!(!a.pool.contains(&procuring));
    assert_eq!(a.drawn.len(), 2);
    assert!(a.drawn.iter().all(|d| building.contains(d)));
    // A retry returns the same draw; a new draw with the same seed draws the same projects.
    let retry = drb.clone().draw_inspections(draw(2, Some(42), "d1")).await.unwrap().into_inner();
    assert_eq!(retry, a);
    let again = drb.clone().draw_inspections(draw(2, Some(42), "d2")).await.unwrap().into_inner();
    assert_ne!(again.draw_id, a.draw_id);
    assert_eq!(again.drawn, a.drawn);
    // Without a seed one is generated and recorded; asking for more than the pool draws it whole.
    let all = drb.clone().draw_inspections(draw(10, None, "d3")).await.unwrap().into_inner();
    let mut whole = all.drawn.clone();
    whole.sort();
    assert_eq!(whole, building);

    let got = app
        .client(Role::Audit, None)
        .get_inspection_draw(pb::GetInspectionDrawRequest { draw_id: a.draw_id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, a);
    let list = drb
        .clone()
        .list_inspection_draws(pb::ListInspectionDrawsRequest { page_size: 2, page_token: String::new() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.draws.iter().map(|d| d.draw_id.clone()).collect::<Vec<_>>(), vec![all.draw_id.clone(), again.draw_id.clone()]);
    let rest = drb
        .clone()
        .list_inspection_draws(pb::ListInspectionDrawsRequest { page_size: 2, page_token: list.next_page_token })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.draws.iter().map(|d| d.draw_id.clone()).collect::<Vec<_>>(), vec![a.draw_id.clone()]);
    assert_eq!(outbox_count(&app, "procurement.inspection.drawn").await, 2 + 2 + 3);
}

#[tokio::test]
async fn ocds_export_is_a_release_package_for_the_project_readable_by_its_unit_only() {
    let app = App::spawn().await;
    let (id, _, _) = in_construction(&app, "SUPERIOR_TRANSFER").await;
    let json = app
        .client(Role::Unit, Some("U-CIVIL"))
        .export_ocds(pb::ExportOcdsRequest { project_id: id.clone() })
        .await
        .unwrap()
        .into_inner()
        .json;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["version"], "1.1");
    let release = &v["releases"][0];
    assert!(release["ocid"].as_str().unwrap().ends_with(&id), "{release}");
    assert_eq!(release["contracts"][0]["value"]["currency"], "CNY");
    assert_eq!(release["contracts"][0]["value"]["amount"], serde_json::json!(90000));
    let e = app.client(Role::Unit, Some("U-OTHER")).export_ocds(pb::ExportOcdsRequest { project_id: id }).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = app.client(Role::Drb, None).export_ocds(pb::ExportOcdsRequest { project_id: "x".into() }).await.unwrap_err();
    assert_eq!(status_fields(&e), vec!["project_id"]);
}

#[tokio::test]
async fn r_p6_the_last_stages_are_paid_after_completion_and_nothing_after_termination() {
    let app = App::spawn().await;
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let today = app.svc.clock.today();
    let (id, etag, _) = in_construction(&app, "SUPERIOR_TRANSFER").await;
    let k = with_payment_plan(&app, &id, etag).await;
    let k = unit.clone().declare_construction_complete(completion(&id, &k.etag, today, "")).await.unwrap().into_inner();
    assert_eq!(k.state, pb::CaseState::ConstructionCompleted as i32);
    let k = stage_paid(&app, &id, k.etag, "final", 6_300_000).await;
    assert_eq!(k.state, pb::CaseState::ConstructionCompleted as i32, "a payment does not move the case");
    assert_eq!(k.contract.unwrap().paid_fen, 6_300_000);

    let (ended, etag, _) = in_construction(&app, "SUPERIOR_TRANSFER").await;
    let k = unit.clone().terminate_project(termination(&ended, &etag)).await.unwrap().into_inner();
    let e = unit
        .clone()
        .file_payment(pb::FilePaymentRequest {
            project_id: ended,
            etag: k.etag,
            stage_id: "final".into(),
            amount_fen: 1,
            request_id: "p".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
}
