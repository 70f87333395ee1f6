//! Cases from review's approvals, R-P1's deadline, and procurement records (R-P3, R-P4).

use egov_platform::{auth::Role, clock::shanghai, testing::eventually};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    procurement as pb,
};
use tonic::Code;

use crate::helpers::{App, WAIT};

pub fn record(channel: &str, amount: i64, today: time::Date) -> pb::ProcurementRecord {
    pb::ProcurementRecord {
        channel: channel.into(),
        method: "公开招标".into(),
        supplier_name: "杭州某信息技术有限公司".into(),
        supplier_credit_code: "91350100M000100Y43".into(),
        amount_fen: amount,
        implementing_body: "区民政局信息中心".into(),
        responsible_person: "张三".into(),
        supervision: None,
        completed_on: Some(egov_platform::convert::civil(today)),
        documents_filing: None,
    }
}

#[tokio::test]
async fn r_p1_a_case_opens_once_with_its_month_end_deadline() {
    let app = App::spawn().await;
    let (id, e) = app.approved("DISTRICT_FISCAL", time::macros::date!(2025 - 08 - 31)).await;
    app.publish(&e).await;
    let (_, _) = app.approved("SUPERIOR_TRANSFER", time::macros::date!(2025 - 08 - 31)).await; // FIFO marker
    let k = app.case(&id).await;
    // Approved 2025-08-31: the deadline (2026-02-28) has passed already, so the timer fires at once.
    eventually(WAIT, "deadline missed at once", || async { app.case(&id).await.state == pb::CaseState::DeadlineMissed as i32 }).await;
    assert_eq!(
        k.procurement_deadline,
        Some(egov_proto::common::CivilDate { year: 2026, month: 2, day: 28 }),
        "08-31 + 6 months: last day of February"
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM procurement_cases").fetch_one(&app.svc.pool).await.unwrap();
    assert_eq!(n, 2);
    let timers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind = 'procurement.deadline'").fetch_one(&app.svc.pool).await.unwrap();
    assert_eq!(timers, 1, "only the fiscally funded project has an R-P1 deadline");
}

#[tokio::test]
async fn r_p1_the_deadline_passes_on_the_day_after() {
    let app = App::spawn().await;
    let today = app.svc.clock.today();
    let (id, _) = app.approved("DISTRICT_FISCAL", today).await;
    let deadline = egov_platform::convert::date("d", app.case(&id).await.procurement_deadline.as_ref()).unwrap();
    app.svc.move_clock_to(shanghai(deadline, time::macros::time!(23:30)));
    let pool = app.svc.pool.clone();
    let missed = || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM egov_outbox WHERE routing_key = 'procurement.project.deadline_missed'")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(app.case(&id).await.state, pb::CaseState::Procuring as i32);
    assert_eq!(missed().await, 0);
    app.svc.move_clock_to(shanghai(deadline + time::Duration::days(1), time::macros::time!(00:10)));
    eventually(WAIT, "deadline missed", || async { missed().await == 1 }).await;
    assert_eq!(app.case(&id).await.state, pb::CaseState::DeadlineMissed as i32);
}

#[tokio::test]
async fn recording_procurement_checks_supplier_budget_and_supervision() {
    let app = App::spawn().await;
    let today = app.svc.clock.today();
    let (id, _) = app.approved("DISTRICT_FISCAL", today).await;
    let k = app.case(&id).await;
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let req = |r: pb::ProcurementRecord, etag: &str| pb::RecordProcurementRequest {
        project_id: id.clone(),
        etag: etag.into(),
        record: Some(r),
        request_id: "r".into(),
    };
    // A wrong check character in the credit code: a field error.
    let mut bad = record("SMALL_PUBLIC_RESOURCE_TRADING", 9_000_000, today);
    bad.supplier_credit_code = "91350100M000100Y44".into();
    let e = unit.clone().record_procurement(req(bad, &k.etag)).await.unwrap_err();
    assert_eq!(egov_platform::error::status_fields(&e), vec!["record.supplier_credit_code"]);
    // Every refusal of the record at once, each named by its path in the request.
    let mut bad = record("SMALL_PUBLIC_RESOURCE_TRADING", 9_000_000, today);
    bad.supplier_credit_code = "91350100M000100Y44".into();
    bad.implementing_body = " ".into();
    bad.responsible_person = String::new();
    let e = unit.clone().record_procurement(req(bad, &k.etag)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(
        egov_platform::error::status_fields(&e),
        vec!["record.supplier_credit_code", "record.implementing_body", "record.responsible_person"]
    );
    // Above the approved budget.
    let e = unit.clone().record_procurement(req(record("SMALL_PUBLIC_RESOURCE_TRADING", 10_000_001, today), &k.etag)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    // Government procurement needs separately procured supervision (R-P3).
    let e = unit.clone().record_procurement(req(record("GOVERNMENT_PROCUREMENT", 9_000_000, today), &k.etag)).await.unwrap_err();
    assert_eq!(egov_platform::error::status_rule_ids(&e)[0], "R-P3");
    // Another unit may not record it.
    let e = app
        .client(Role::Unit, Some("U-OTHER"))
        .record_procurement(req(record("SMALL_PUBLIC_RESOURCE_TRADING", 9_000_000, today), &k.etag))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert_eq!(app.case(&id).await.etag, k.etag, "nothing changed");
    let mut ok = record("GOVERNMENT_PROCUREMENT", 9_000_000, today);
    ok.supervision =
        Some(pb::Supervision { supplier_credit_code: "91350100M000100Y43".into(), fee_fen: 300_000, separately_procured: true });
    let done = unit.clone().record_procurement(req(ok, &k.etag)).await.unwrap().into_inner();
    assert_eq!(done.state, pb::CaseState::Procured as i32);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE routing_key = 'procurement.procurement.completed'")
        .fetch_one(&app.svc.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_cancelled_approval_closes_the_case() {
    let app = App::spawn().await;
    let (id, _) = app.approved("DISTRICT_FISCAL", app.svc.clock.today()).await;
    let cancel = egov_platform::outbox::envelope(
        "review",
        "review.approval.cancelled",
        &id,
        "2026.1-draft",
        app.svc.clock.now(),
        Payload::ApprovalCancelled(ev::ApprovalCancelled { project_id: id.clone(), reason: "R-R6".into(), rule_ids: vec!["R-R6".into()] }),
    );
    app.publish(&cancel).await;
    eventually(WAIT, "closed", || async { app.case(&id).await.state == pb::CaseState::Cancelled as i32 }).await;
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE status = 'pending'").fetch_one(&app.svc.pool).await.unwrap();
    assert_eq!(pending, 0);
}

#[test]
fn every_procurement_method_is_in_the_role_table() {
    let table = egov_procurement::grpc::roles::table();
    let paths = egov_proto::method_paths(&["egov.procurement.v1", "egov.common.v1"]);
    assert!(paths.iter().any(|p| p.ends_with("/ExportOcds")), "{paths:?}");
    let missing: Vec<_> = paths.iter().filter(|p| table.roles(p).is_none()).collect();
    assert!(missing.is_empty(), "methods without roles: {missing:?}");
}

/// The day from which `today` is the `n`-th working day on the official calendar.
fn working_days_before(today: time::Date, n: u32) -> time::Date {
    let calendar = egov_calendar::Calendar::official().unwrap();
    let mut d = today;
    while calendar.working_days_between(d, today).unwrap().value < n {
        d = d.previous_day().unwrap();
    }
    d
}

#[tokio::test]
async fn r_p5_procurement_documents_filed_on_the_fifth_working_day_are_on_time_on_the_sixth_late() {
    let app = App::spawn().await;
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let calendar = egov_calendar::Calendar::official().unwrap();
    // Filed on a working day: the 5th working day is the last on time. (Filed on a rest day, the
    // 5th working day has already passed: the next test.)
    let mut today = app.svc.clock.today();
    while !calendar.is_working_day(today).unwrap().value {
        today = today.next_day().unwrap();
    }
    // Never backwards: on a working day already past 10:00 the clock stays where it is.
    app.svc.move_clock_to(egov_platform::clock::shanghai(today, time::macros::time!(10:00)).max(app.svc.clock.now()));
    for (n, late) in [(5, false), (6, true)] {
        let completed = working_days_before(today, n);
        let (id, _) = app.approved("SUPERIOR_TRANSFER", completed - time::Duration::days(30)).await;
        let k = app.case(&id).await;
        let req = pb::RecordProcurementRequest {
            project_id: id.clone(),
            etag: k.etag,
            record: Some(record("SMALL_PUBLIC_RESOURCE_TRADING", 9_000_000, completed)),
            request_id: "rec".into(),
        };
        let k = unit.clone().record_procurement(req).await.unwrap().into_inner();
        assert_eq!(k.state, pb::CaseState::Procured as i32, "a late filing is accepted");
        let f = k.procurement.unwrap().documents_filing.unwrap();
        assert_eq!((f.working_days_taken, f.late), (n, late), "completed {completed}, filed {today}: {f:?}");
        assert_eq!(f.filed_on, Some(egov_platform::convert::civil(today)));
    }
}

/// Filed on a rest day after the 5th working day: late, though only five working days have
/// passed (the deadline was the working day before; a rest day after it does not extend it).
#[tokio::test]
async fn r_p5_procurement_documents_filed_on_a_rest_day_after_the_fifth_working_day_are_late() {
    let app = App::spawn().await;
    let mut unit = app.client(Role::Unit, Some("U-CIVIL"));
    let calendar = egov_calendar::Calendar::official().unwrap();
    let mut rest = app.svc.clock.today();
    while calendar.is_working_day(rest).unwrap().value {
        rest = rest.next_day().unwrap();
    }
    // On a rest day already past 10:00 (Asia/Shanghai) the clock stays where it is: it only moves forward.
    app.svc.move_clock_to(egov_platform::clock::shanghai(rest, time::macros::time!(10:00)).max(app.svc.clock.now()));
    let mut deadline = rest.previous_day().unwrap();
    while !calendar.is_working_day(deadline).unwrap().value {
        deadline = deadline.previous_day().unwrap();
    }
    let completed = working_days_before(deadline, 5);
    let (id, _) = app.approved("SUPERIOR_TRANSFER", completed - time::Duration::days(30)).await;
    let k = app.case(&id).await;
    let req = pb::RecordProcurementRequest {
        project_id: id.clone(),
        etag: k.etag,
        record: Some(record("SMALL_PUBLIC_RESOURCE_TRADING", 9_000_000, completed)),
        request_id: "rec".into(),
    };
    let k = unit.record_procurement(req).await.unwrap().into_inner();
    let f = k.procurement.unwrap().documents_filing.unwrap();
    assert_eq!(f.deadline, Some(egov_platform::convert::civil(deadline)), "{f:?}");
    assert_eq!((f.working_days_taken, f.late), (5, true), "completed {completed}, filed on rest day {rest}: {f:?}");
}

/// R-P3 (fixed): the procurement amount and the supervision fee together may not exceed the
/// approved budget of 10,000,000 fen: 9,000,000 + 1,000,001 is refused under R-P3 (it was
/// accepted when only the fee was compared with the budget); 9,000,000 + 1,000,000 is accepted.
#[tokio::test]
async fn r_p3_the_procurement_amount_and_the_supervision_fee_together_stay_within_the_budget() {
    let app = App::spawn().await;
    let today = app.svc.clock.today();
    let (id, _) = app.approved("DISTRICT_FISCAL", today).await;
    let k = app.case(&id).await;
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let with_fee = |fee: i64| {
        let mut r = record("GOVERNMENT_PROCUREMENT", 9_000_000, today);
        r.supervision =
            Some(pb::Supervision { supplier_credit_code: "91350100M000100Y43".into(), fee_fen: fee, separately_procured: true });
        pb::RecordProcurementRequest { project_id: id.clone(), etag: k.etag.clone(), record: Some(r), request_id: "r".into() }
    };
    let e = unit.clone().record_procurement(with_fee(1_000_001)).await.unwrap_err();
    assert_eq!(egov_platform::error::status_rule_ids(&e), vec!["R-P3"], "{e:?}");
    assert!(e.message().contains("by 1 fen"), "{}", e.message());
    assert_eq!(app.case(&id).await.etag, k.etag, "nothing changed");
    let done = unit.clone().record_procurement(with_fee(1_000_000)).await.unwrap().into_inner();
    assert_eq!(done.state, pb::CaseState::Procured as i32, "the sum equal to the budget is accepted");
}

/// A step out of order names the rule whose order it breaks, never STATE: a contract before
/// procurement is refused under R-P2, a second procurement record under R-P4.
#[tokio::test]
async fn steps_out_of_order_name_their_rule() {
    let app = App::spawn().await;
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let today = app.svc.clock.today();
    let (id, _) = app.approved("SUPERIOR_TRANSFER", today).await;
    let k = app.case(&id).await;
    let mut early = crate::contracts::filing(&id, &k.etag, crate::contracts::complete(), today);
    early.contract_signed_on = Some(egov_platform::convert::civil(today));
    let e = unit.clone().file_contract(early).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(egov_platform::error::status_rule_ids(&e), vec!["R-P2"], "{e:?}");
    assert!(e.message().contains("record the procurement first"), "{}", e.message());

    let (id, k) = app.procured_today("SUPERIOR_TRANSFER").await;
    let again = pb::RecordProcurementRequest {
        project_id: id,
        etag: k.etag,
        record: Some(record("SMALL_PUBLIC_RESOURCE_TRADING", 9_000_000, today)),
        request_id: "again".into(),
    };
    let e = unit.clone().record_procurement(again).await.unwrap_err();
    assert_eq!(egov_platform::error::status_rule_ids(&e), vec!["R-P4"], "{e:?}");
    assert!(!e.message().contains("STATE"), "{}", e.message());
}
