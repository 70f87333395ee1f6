//! Two replicas of intake and of review, as Kubernetes runs them: each pair shares its database,
//! its document store and its queue. Calls alternate between the replicas; review's replicas
//! compete for the compliance events and for the task timers. Nothing is done twice: one review
//! case per application, one inbox row per event, each task's timers fired once with one overdue
//! event each.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

use std::{collections::HashSet, time::Duration};

use egov_platform::{
    auth::Role,
    clock::shanghai,
    testing::{RunningService, TestDatabase, TestVhost, bearer, eventually, test_settings, token},
};
use egov_proto::{
    events::{EventEnvelope, event_envelope::Payload},
    intake::{self as ipb, intake_client::IntakeClient},
    review::{self as rpb, review_client::ReviewClient},
};
use prost::Message;

const WAIT: Duration = Duration::from_secs(60);
const APPLICATIONS: usize = 4;

type Intake = IntakeClient<tonic::service::interceptor::InterceptedService<tonic::transport::Channel, egov_platform::auth::Bearer>>;

fn intake(svc: &RunningService, role: Role, unit: Option<&str>) -> Intake {
    IntakeClient::with_interceptor(svc.channel.clone(), bearer(&token(role, unit)))
}

fn draft() -> ipb::ApplicationDraft {
    ipb::ApplicationDraft {
        name: "社会救助一件事".into(),
        category: ipb::ProjectCategory::DataResource as i32,
        build_type: ipb::BuildType::New as i32,
        funding_source: ipb::FundingSource::DistrictFiscal as i32,
        planned_construction_months: 12,
        content_kinds: vec![ipb::ContentKind::SoftwareDevelopment as i32],
        necessity: Some(ipb::NecessityStatement {
            core_business: "社会救助".into(),
            one_platform_path: "民政一平台".into(),
            relations_with_other_units: "与街道协同".into(),
            existing_systems_and_plans: "无".into(),
            terminals: vec![ipb::Terminal::Zhezhengding as i32],
            uses_public_data_platform: true,
            ..Default::default()
        }),
        modules: vec![ipb::FunctionModule { name: "救助审核".into(), description: "救助对象审核".into() }],
        budget: vec![ipb::BudgetLine {
            module: "救助审核".into(),
            category: ipb::CostCategory::SoftwareDevelopment as i32,
            amount_fen: 10_000_000,
            rationale: "按人天测算".into(),
        }],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_compete_without_doing_anything_twice() {
    let vhost = TestVhost::create().await.unwrap();
    let (idb, rdb) = (TestDatabase::create().await.unwrap(), TestDatabase::create().await.unwrap());
    let mut is = test_settings("intake", &idb, &vhost);
    is.peers.evaluation = String::new();
    let rs = test_settings("review", &rdb, &vhost);
    let intakes = [
        RunningService::start::<egov_intake::startup::Application>(is.clone()).await.unwrap(),
        RunningService::start::<egov_intake::startup::Application>(is).await.unwrap(),
    ];
    let reviews = [
        RunningService::start::<egov_review::startup::Application>(rs.clone()).await.unwrap(),
        RunningService::start::<egov_review::startup::Application>(rs).await.unwrap(),
    ];

    intake(&intakes[0], Role::Drb, None)
        .create_unit(ipb::CreateUnitRequest {
            request_id: "rep-unit".into(),
            unit_id: "U-CIVIL".into(),
            name: "区民政局".into(),
            district_budget_unit: true,
            ..Default::default()
        })
        .await
        .unwrap();
    // Next spring on every replica's clock (the broadcast reaches all four).
    let today = intakes[0].clock.today();
    let spring = time::Date::from_calendar_date(today.year() + 1, time::Month::March, 2).unwrap();
    let seconds = (shanghai(spring, time::macros::time!(10:00)) - intakes[0].clock.now()).whole_seconds();
    let mut ops = egov_proto::common::operations_client::OperationsClient::with_interceptor(
        intakes[1].channel.clone(),
        bearer(&token(Role::Operator, None)),
    );
    ops.advance_clock(egov_proto::common::AdvanceClockRequest { seconds }).await.unwrap();
    let offset = intakes[1].clock.offset_seconds();
    for svc in intakes.iter().chain(reviews.iter()) {
        eventually(WAIT, "every replica's clock follows the broadcast", || async { svc.clock.offset_seconds() == offset }).await;
    }
    let round = intake(&intakes[1], Role::Drb, None)
        .open_round(ipb::OpenRoundRequest { request_id: "rep-round".into(), target_year: spring.year() + 1 })
        .await
        .unwrap()
        .into_inner();

    // Each step of each application on the other replica than the step before.
    let mut ids = Vec::new();
    for n in 0..APPLICATIONS {
        let (a, b) = (&intakes[n % 2], &intakes[(n + 1) % 2]);
        let app = intake(a, Role::Unit, Some("U-CIVIL"))
            .create_application(ipb::CreateApplicationRequest {
                request_id: format!("rep-app-{n}"),
                lead_unit_id: "U-CIVIL".into(),
                draft: Some(draft()),
            })
            .await
            .unwrap()
            .into_inner();
        for (kind, text) in [(ipb::DocumentKind::ApplicationForm, "申报表"), (ipb::DocumentKind::FeasibilityReport, "可行性研究报告")]
        {
            let msgs = vec![
                ipb::UploadDocumentRequest {
                    part: Some(ipb::upload_document_request::Part::Header(ipb::DocumentUploadHeader {
                        application_id: app.application_id.clone(),
                        kind: kind as i32,
                        file_name: "doc.pdf".into(),
                        request_id: format!("rep-doc-{n}-{}", kind as i32),
                        ..Default::default()
                    })),
                },
                ipb::UploadDocumentRequest { part: Some(ipb::upload_document_request::Part::Chunk(text.as_bytes().to_vec())) },
            ];
            intake(b, Role::Unit, Some("U-CIVIL")).upload_document(futures::stream::iter(msgs)).await.unwrap();
        }
        let app = intake(a, Role::Unit, Some("U-CIVIL"))
            .get_application(ipb::GetApplicationRequest { application_id: app.application_id.clone() })
            .await
            .unwrap()
            .into_inner();
        let app = intake(b, Role::Unit, Some("U-CIVIL"))
            .submit_application(ipb::SubmitApplicationRequest {
                application_id: app.application_id.clone(),
                etag: app.etag.clone(),
                round_id: round.round_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let items = intake(a, Role::Drb, None)
            .get_compliance_checklist(ipb::GetComplianceChecklistRequest { application_id: app.application_id.clone() })
            .await
            .unwrap()
            .into_inner()
            .items;
        let results = items.into_iter().map(|i| ipb::ChecklistResult { code: i.code, passed: true, note: String::new() }).collect();
        let decided = intake(a, Role::Drb, None)
            .decide_compliance(ipb::DecideComplianceRequest {
                application_id: app.application_id.clone(),
                etag: app.etag.clone(),
                results,
                comment: "合规".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(decided.state, ipb::ApplicationState::CompliancePassed as i32);
        ids.push(decided.project_id);
    }

    // One review case per application, seen alike from both replicas.
    let cases = |i: usize| {
        let c = ReviewClient::with_interceptor(reviews[i].channel.clone(), bearer(&token(Role::Drb, None)));
        async move { c.clone().list_cases(rpb::ListCasesRequest::default()).await.unwrap().into_inner().cases }
    };
    eventually(WAIT, "review opens a case per application", || async { cases(0).await.len() >= APPLICATIONS }).await;
    let (c0, c1) = (cases(0).await, cases(1).await);
    assert_eq!(c0.len(), APPLICATIONS, "one case per application, not more");
    assert_eq!(c0, c1, "both replicas read the same cases");
    let opened: HashSet<String> = c0.iter().map(|c| c.case_id.clone()).collect();
    assert_eq!(opened, ids.iter().cloned().collect::<HashSet<_>>());
    let pool = &reviews[0].pool;
    let handled: Vec<(String, i64)> = sqlx::query_as(
        "SELECT event_id::text, count(*) FROM egov_inbox WHERE routing_key = 'intake.application.compliance_passed' GROUP BY event_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(handled.len(), APPLICATIONS, "each compliance event handled: {handled:?}");
    let opened_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE routing_key = 'review.case.opened'").fetch_one(pool).await.unwrap();
    assert_eq!(opened_events, APPLICATIONS as i64, "one review.case.opened per case");

    // The preliminary tasks' timers: eight days on, every reminder and escalation is due; the two
    // replicas' timer runners compete for them and each fires once.
    let tasks: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind = 'review.task.escalation' AND status = 'pending'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(tasks > 0, "the open cases have preliminary tasks with timers");
    let mut ops = egov_proto::common::operations_client::OperationsClient::with_interceptor(
        reviews[0].channel.clone(),
        bearer(&token(Role::Operator, None)),
    );
    ops.advance_clock(egov_proto::common::AdvanceClockRequest { seconds: 8 * 86_400 }).await.unwrap();
    eventually(WAIT, "every task timer has fired", || async {
        let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind LIKE 'review.task.%' AND status = 'pending'")
            .fetch_one(pool)
            .await
            .unwrap();
        pending == 0
    })
    .await;
    let fired: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind = 'review.task.escalation' AND status = 'fired'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(fired, tasks, "each escalation timer fired once");
    let overdue: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM egov_outbox WHERE routing_key = 'review.task.overdue'").fetch_all(pool).await.unwrap();
    let overdue_tasks: Vec<String> = overdue
        .iter()
        .map(|p| match EventEnvelope::decode(p.as_slice()).unwrap().payload {
            Some(Payload::TaskOverdue(t)) => t.task_id,
            other => panic!("not a TaskOverdue: {other:?}"),
        })
        .collect();
    let distinct: HashSet<&String> = overdue_tasks.iter().collect();
    assert_eq!(overdue_tasks.len() as i64, tasks, "one overdue event per task: {overdue_tasks:?}");
    assert_eq!(distinct.len(), overdue_tasks.len(), "no task made overdue twice");
}
