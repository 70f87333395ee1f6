//! Contract filing (R-P2, R-P5 name and working-day timeliness) and staged payments (R-P6).

use egov_platform::{
    auth::Role,
    convert::civil,
    error::{status_fields, status_rule_ids},
};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    procurement as pb,
};
use prost::Message;
use time::{Date, macros::date};
use tonic::Code;

use crate::{cases::record, helpers::App};

const NAME: &str = "社会救助一件事";

/// A case approved on 2025-09-01 (outside funding: no R-P1 timer) whose procurement of
/// 9,000,000 fen (budget 10,000,000) completed on 2025-09-20; returns its id and etag.
pub async fn procured(app: &App) -> (String, String) {
    let (id, _) = app.approved("SUPERIOR_TRANSFER", date!(2025 - 09 - 01)).await;
    let k = app.case(&id).await;
    let done = app
        .client(Role::Unit, Some("U-CIVIL"))
        .record_procurement(pb::RecordProcurementRequest {
            project_id: id.clone(),
            etag: k.etag,
            record: Some(record("SMALL_PUBLIC_RESOURCE_TRADING", 9_000_000, date!(2025 - 09 - 20))),
            request_id: "rec".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.state, pb::CaseState::Procured as i32);
    (id, done.etag)
}

/// A contract stating everything R-P2 asks, matching the 12-month plan.
pub fn complete() -> pb::ContractTerms {
    pb::ContractTerms {
        project_name: NAME.into(),
        construction_start: Some(civil(date!(2025 - 10 - 01))),
        construction_end: Some(civil(date!(2026 - 09 - 30))),
        amount_fen: 9_000_000,
        ip_owned_by_unit_or_joint: true,
        data_owned_by_unit: true,
        security_agreement: pb::SignedStatement::Signed as i32,
        security_responsibility_letter: pb::SignedStatement::NotSigned as i32,
        maintenance_scope: "系统软件及数据的运行维护".into(),
        maintenance_start: Some(civil(date!(2026 - 10 - 01))),
        maintenance_end: Some(civil(date!(2028 - 09 - 30))),
        maintenance_duty: "7×24小时响应，4小时内到场".into(),
        security_duties_and_penalties: true,
        overrun_penalty_clause: true,
    }
}

pub fn filing(id: &str, etag: &str, terms: pb::ContractTerms, filed_on: Date) -> pb::FileContractRequest {
    pb::FileContractRequest {
        project_id: id.into(),
        etag: etag.into(),
        terms: Some(terms),
        contract_signed_on: Some(civil(date!(2025 - 09 - 26))),
        filed_on: Some(civil(filed_on)),
        request_id: "contract".into(),
        security: Some(pb::SecurityFlags { classified_protection_level: 3, important_system: true, ..Default::default() }),
    }
}

/// These contracts' construction periods (2025-10 to 2026-09) ended before the day the tests
/// run, so R-P8's timer records the overrun right after filing; waits for it, so that the next
/// update sends the case's settled etag.
async fn overrun_recorded(app: &App, id: &str) -> pb::ProcurementCase {
    egov_platform::testing::eventually(crate::helpers::WAIT, "the overrun of a past contract period is recorded", || async {
        app.case(id).await.overrun.is_some()
    })
    .await;
    app.case(id).await
}

pub async fn outbox_count(app: &App, routing_key: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE routing_key = $1").bind(routing_key).fetch_one(&app.svc.pool).await.unwrap()
}

#[tokio::test]
async fn r_p2_every_missing_clause_is_listed_and_r_p5_the_name_must_match() {
    let app = App::spawn().await;
    let (id, etag) = procured(&app).await;
    let unit = app.client(Role::Unit, Some("U-CIVIL"));

    let mut t = complete();
    t.ip_owned_by_unit_or_joint = false;
    t.overrun_penalty_clause = false;
    let e = unit.clone().file_contract(filing(&id, &etag, t, date!(2025 - 10 - 09))).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(status_rule_ids(&e), vec!["R-P2", "R-P2"], "{e:?}");
    assert!(e.message().contains("知识产权归属") && e.message().contains("超期惩罚条款"), "{}", e.message());

    let mut t = complete();
    t.project_name = "社会救助一件事项目".into();
    let e = unit.clone().file_contract(filing(&id, &etag, t, date!(2025 - 10 - 09))).await.unwrap_err();
    assert_eq!(status_rule_ids(&e), vec!["R-P5"], "{e:?}");

    // Not stating whether the security agreement is signed is a missing item too.
    let mut t = complete();
    t.security_agreement = pb::SignedStatement::NotStated as i32;
    let e = unit.clone().file_contract(filing(&id, &etag, t, date!(2025 - 10 - 09))).await.unwrap_err();
    assert_eq!(status_rule_ids(&e), vec!["R-P2"], "{e:?}");

    // Above the approved budget: a field error.
    let mut t = complete();
    t.amount_fen = 10_000_001;
    let e = unit.clone().file_contract(filing(&id, &etag, t, date!(2025 - 10 - 09))).await.unwrap_err();
    assert_eq!(status_fields(&e), vec!["terms.amount_fen"]);

    // The rule's field errors are named as the request names them.
    let mut t = complete();
    t.construction_end = Some(civil(date!(2025 - 09 - 30)));
    let e = unit.clone().file_contract(filing(&id, &etag, t, date!(2025 - 10 - 09))).await.unwrap_err();
    assert_eq!(status_fields(&e), vec!["terms.construction_end"]);

    // Another unit may not file it.
    let e = app.client(Role::Unit, Some("U-OTHER")).file_contract(filing(&id, &etag, complete(), date!(2025 - 10 - 09))).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    let k = app.case(&id).await;
    assert_eq!(k.etag, etag, "nothing changed");
    assert_eq!(k.state, pb::CaseState::Procured as i32);
    assert!(k.contract.is_none());
    assert_eq!(outbox_count(&app, "procurement.contract.filed").await, 0);
}

#[tokio::test]
async fn r_p5_the_fifth_working_day_is_on_time_and_the_sixth_late_but_accepted() {
    // Signed Friday 2025-09-26: Sunday 09-28 is a 调休 working day, 10-01..10-08 the National
    // Day holiday, so the 5th working day is 10-10 and Saturday 10-11 (调休) the 6th.
    let app = App::spawn().await;
    let unit = app.client(Role::Unit, Some("U-CIVIL"));

    let (id, etag) = procured(&app).await;
    let k = unit.clone().file_contract(filing(&id, &etag, complete(), date!(2025 - 10 - 10))).await.unwrap().into_inner();
    assert_eq!(k.state, pb::CaseState::Construction as i32);
    let c = k.contract.unwrap();
    assert!(!c.late);
    assert_eq!(c.filing_deadline, Some(civil(date!(2025 - 10 - 10))));
    assert_eq!(c.working_days_taken, 5);
    assert!(c.provisional_years.is_empty());

    let (id2, etag2) = procured(&app).await;
    let k = unit.clone().file_contract(filing(&id2, &etag2, complete(), date!(2025 - 10 - 11))).await.unwrap().into_inner();
    assert_eq!(k.state, pb::CaseState::Construction as i32, "a late filing is accepted");
    let c = k.contract.unwrap();
    assert!(c.late, "and recorded as late");
    assert_eq!(c.filing_deadline, Some(civil(date!(2025 - 10 - 10))));
    assert_eq!(c.working_days_taken, 6);
    assert!(app.case(&id2).await.contract.unwrap().late, "stored");

    // A contract is filed once.
    let k = overrun_recorded(&app, &id2).await;
    let e = unit.clone().file_contract(filing(&id2, &k.etag, complete(), date!(2025 - 10 - 11))).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);

    assert_eq!(outbox_count(&app, "procurement.contract.filed").await, 2);
    let payloads: Vec<Vec<u8>> = sqlx::query_scalar("SELECT payload FROM egov_outbox WHERE routing_key = 'procurement.contract.filed'")
        .fetch_all(&app.svc.pool)
        .await
        .unwrap();
    let summaries: Vec<String> = payloads
        .iter()
        .map(|b| match ev::EventEnvelope::decode(b.as_slice()).unwrap().payload {
            Some(Payload::ProjectStatusChanged(p)) => {
                assert_eq!(p.status, "建设 CONSTRUCTION");
                p.summary
            }
            other => panic!("expected ProjectStatusChanged, got {other:?}"),
        })
        .collect();
    assert_eq!(summaries.iter().filter(|s| s.contains("late")).count(), 1, "{summaries:?}");
    assert_eq!(summaries.iter().filter(|s| s.contains("on time")).count(), 1, "{summaries:?}");
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM egov_audit WHERE action = 'FileContract' AND rule_ids @> ARRAY['R-P2', 'R-P5']")
            .fetch_one(&app.svc.pool)
            .await
            .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn r_p6_stages_sum_to_100_percent_and_payments_never_exceed_the_contract() {
    let app = App::spawn().await;
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let (id, etag) = procured(&app).await;

    // Before the contract is filed there is no payment plan.
    let stages = |final_bp: u32| {
        vec![
            pb::PaymentStageTerms { stage_id: "first".into(), condition: "合同签订".into(), ratio_bp: 3000 },
            pb::PaymentStageTerms { stage_id: "final".into(), condition: "终验通过".into(), ratio_bp: final_bp },
        ]
    };
    let plan = |etag: &str, final_bp: u32| pb::SetPaymentPlanRequest {
        project_id: id.clone(),
        etag: etag.into(),
        stages: stages(final_bp),
        request_id: "plan".into(),
    };
    let e = unit.clone().set_payment_plan(plan(&etag, 7000)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);

    unit.clone().file_contract(filing(&id, &etag, complete(), date!(2025 - 10 - 09))).await.unwrap();
    let k = overrun_recorded(&app, &id).await;
    let e = unit.clone().set_payment_plan(plan(&k.etag, 6999)).await.unwrap_err();
    assert_eq!(status_rule_ids(&e), vec!["R-P6"], "9999 bp: {e:?}");
    let k = unit.clone().set_payment_plan(plan(&k.etag, 7000)).await.unwrap().into_inner();
    let amounts: Vec<i64> = k.contract.as_ref().unwrap().payment_stages.iter().map(|s| s.amount_fen).collect();
    assert_eq!(amounts, vec![2_700_000, 6_300_000]);

    let pay = |etag: &str, stage: &str, amount: i64| pb::FilePaymentRequest {
        project_id: id.clone(),
        etag: etag.into(),
        stage_id: stage.into(),
        amount_fen: amount,
        request_id: format!("pay-{stage}-{amount}"),
    };
    let mark = |etag: &str, stage: &str| pb::MarkStageConditionMetRequest {
        project_id: id.clone(),
        etag: etag.into(),
        stage_id: stage.into(),
        evidence: "合同编号 HT-2025-001".into(),
        request_id: format!("mark-{stage}"),
    };

    // A stage whose condition is not met is not paid.
    let e = unit.clone().file_payment(pay(&k.etag, "first", 2_700_000)).await.unwrap_err();
    assert_eq!(status_rule_ids(&e), vec!["R-P6"], "{e:?}");

    // Another unit may not mark it; DRB and the lead unit may.
    let e = app.client(Role::Unit, Some("U-OTHER")).mark_stage_condition_met(mark(&k.etag, "first")).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let k = app.client(Role::Drb, None).mark_stage_condition_met(mark(&k.etag, "first")).await.unwrap().into_inner();
    let k = unit.clone().file_payment(pay(&k.etag, "first", 2_700_000)).await.unwrap().into_inner();
    let k = unit.clone().mark_stage_condition_met(mark(&k.etag, "final")).await.unwrap().into_inner();
    assert!(k.contract.as_ref().unwrap().payment_stages.iter().all(|s| s.condition_met));

    // One fen over the contract amount is refused; reaching it exactly is accepted.
    let e = unit.clone().file_payment(pay(&k.etag, "final", 6_300_001)).await.unwrap_err();
    assert_eq!(status_rule_ids(&e), vec!["R-P6"], "{e:?}");
    let k = unit.clone().file_payment(pay(&k.etag, "final", 6_300_000)).await.unwrap().into_inner();
    let c = k.contract.as_ref().unwrap();
    assert_eq!(c.paid_fen, 9_000_000);
    assert_eq!(c.payments.len(), 2);
    let e = unit.clone().file_payment(pay(&k.etag, "final", 1)).await.unwrap_err();
    assert_eq!(status_rule_ids(&e), vec!["R-P6"], "{e:?}");

    // The plan is fixed once paid.
    let e = unit.clone().set_payment_plan(plan(&k.etag, 7000)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);

    assert_eq!(outbox_count(&app, "procurement.payment.filed").await, 2);
}

/// Files a contract signed on `signed` and filed on `filed` (both after today's approval), with
/// the clock moved to `filed`; returns the filing's provisional years.
async fn provisional_years_of_a_filing(app: &App, signed: Date, filed: Date) -> Vec<i32> {
    let unit = app.client(Role::Unit, Some("U-CIVIL"));
    let (id, k) = app.procured_today("SUPERIOR_TRANSFER").await;
    app.svc.move_clock_to(egov_platform::clock::shanghai(filed, time::macros::time!(10:00)));
    let start = filed + time::Duration::days(1);
    let end = ninety_days_after(start);
    let mut req = filing(
        &id,
        &k.etag,
        pb::ContractTerms {
            construction_start: Some(civil(start)),
            construction_end: Some(civil(end)),
            maintenance_start: Some(civil(end + time::Duration::days(1))),
            maintenance_end: Some(civil(end.replace_year(end.year() + 2).unwrap())),
            ..complete()
        },
        filed,
    );
    req.contract_signed_on = Some(civil(signed));
    let k = unit.clone().file_contract(req).await.unwrap().into_inner();
    k.contract.unwrap().provisional_years
}

/// 90 days of construction: well within the 12-month plan.
fn ninety_days_after(start: Date) -> Date {
    start + time::Duration::days(90)
}

#[tokio::test]
async fn a_year_published_after_release_is_loaded_from_the_configured_calendar_directory() {
    // Next year is not compiled in; a filing in it is assessed provisionally (weekends only)...
    let next = date!(2026 - 01 - 01).replace_year(time::OffsetDateTime::now_utc().year() + 1).unwrap();
    let (signed, filed) = (next + time::Duration::days(4), next + time::Duration::days(8));
    let plain = App::spawn().await;
    assert_eq!(provisional_years_of_a_filing(&plain, signed, filed).await, vec![next.year()]);

    // ...until its notice is deployed into policy.calendar_dir: then it is settled.
    let dir = std::env::temp_dir().join(format!("egov-calendar-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let y = next.year();
    std::fs::write(dir.join(format!("cn-{y}.txt")), format!("year {y}\nholiday {y}-01-01 元旦\n")).unwrap();
    let configured = App::spawn_with(|s| s.policy.calendar_dir = dir.display().to_string()).await;
    assert!(provisional_years_of_a_filing(&configured, signed, filed).await.is_empty());

    // A broken file stops the service at start, naming the setting.
    std::fs::write(dir.join(format!("cn-{y}.txt")), "year nineteen\n").unwrap();
    let db = egov_platform::testing::TestDatabase::create().await.unwrap();
    let vhost = egov_platform::testing::TestVhost::create().await.unwrap();
    let mut settings = egov_platform::testing::test_settings("procurement", &db, &vhost);
    settings.policy.calendar_dir = dir.display().to_string();
    let e = egov_platform::testing::RunningService::start::<egov_procurement::startup::Application>(settings).await.err().unwrap();
    assert!(e.to_string().contains("policy.calendar_dir"), "{e:#}");
    std::fs::remove_dir_all(&dir).unwrap();
}
