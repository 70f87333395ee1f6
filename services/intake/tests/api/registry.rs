//! The registry and its timeline follow events from any service; the audit chain finds
//! tampering; health and reflection are served.

use egov_platform::{
    auth::Role,
    testing::{bearer, eventually},
};
use egov_proto::{events as ev, intake as pb};
use sqlx::Connection as _;

use crate::helpers::*;

async fn publish(app: &TestApp, e: &ev::EventEnvelope) {
    egov_platform::testing::publish(&app.vhost.amqp_url(), &app.settings.broker.exchange, e).await.unwrap();
}

fn event(kind: &str, project: &str, payload: ev::event_envelope::Payload, at: time::OffsetDateTime) -> ev::EventEnvelope {
    egov_platform::outbox::envelope("review", kind, project, "2026.1-draft", at, payload)
}

#[tokio::test]
async fn other_services_events_move_the_project_status_once() {
    let app = TestApp::spawn().await;
    let a = submitted(&app, "U-CIVIL").await;
    let approved = event(
        "review.project.approved",
        &a.project_id,
        ev::event_envelope::Payload::ProjectStatusChanged(ev::ProjectStatusChanged {
            status: "立项 APPROVED".into(),
            summary: "区立项文件 上数〔2027〕1号".into(),
        }),
        app.clock.now() + time::Duration::days(30),
    );
    publish(&app, &approved).await;
    // Redelivery of the same event adds nothing.
    publish(&app, &approved).await;
    let unit = app.unit("U-CIVIL");
    eventually(WAIT, "status approved", || {
        let mut unit = unit.clone();
        let id = a.project_id.clone();
        async move {
            unit.get_project_status(pb::GetProjectStatusRequest { project_id: id }).await.unwrap().into_inner().status == "立项 APPROVED"
        }
    })
    .await;
    // An older event arriving late does not move the status back.
    let older = event(
        "review.preliminary.started",
        &a.project_id,
        ev::event_envelope::Payload::ProjectStatusChanged(ev::ProjectStatusChanged {
            status: "初审 PRELIMINARY_REVIEW".into(),
            summary: "初审开始".into(),
        }),
        app.clock.now() + time::Duration::days(1),
    );
    publish(&app, &older).await;
    eventually(WAIT, "late event recorded", || {
        let pool = app.pool.clone();
        let id = older.event_id.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM timeline WHERE event_id = $1::uuid").bind(id).fetch_one(&pool).await.unwrap()
                == 1
        }
    })
    .await;
    let s = app
        .unit("U-CIVIL")
        .get_project_status(pb::GetProjectStatusRequest { project_id: a.project_id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.status, "立项 APPROVED");
    assert_eq!(s.timeline.iter().filter(|t| t.event_id == approved.event_id).count(), 1);
    let listed = app
        .unit("U-CIVIL")
        .list_projects(pb::ListProjectsRequest { status: "立项 APPROVED".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.projects.len(), 1);
}

#[tokio::test]
async fn evaluation_suspension_event_makes_the_unit_ineligible() {
    let app = TestApp::spawn().await;
    create_unit(&app, "U-CIVIL").await;
    let year = app.clock.today().year() + 1;
    let e = egov_platform::outbox::envelope(
        "evaluation",
        "evaluation.unit.eligibility_suspended",
        "",
        "2026.1-draft",
        app.clock.now(),
        ev::event_envelope::Payload::UnitEligibilitySuspended(ev::UnitEligibilitySuspended {
            unit_id: "U-CIVIL".into(),
            year,
            reason: "应用上线不满两年停用".into(),
            ..Default::default()
        }),
    );
    publish(&app, &e).await;
    let drb = app.drb();
    eventually(WAIT, "unit suspended", || {
        let mut drb = drb.clone();
        async move {
            !drb.get_unit_eligibility(pb::GetUnitEligibilityRequest { unit_id: "U-CIVIL".into(), year })
                .await
                .unwrap()
                .into_inner()
                .eligible
        }
    })
    .await;
}

#[tokio::test]
async fn audit_chain_finds_a_tampered_row() {
    let app = TestApp::spawn().await;
    let a = submitted(&app, "U-CIVIL").await;
    let mut audit = app.audit_trail(Role::Audit);
    assert!(audit.verify_audit_trail(egov_proto::common::VerifyAuditTrailRequest::default()).await.unwrap().into_inner().intact);
    // One project's chain, as an auditor asks; a project without records is not found.
    let one = egov_proto::common::VerifyAuditTrailRequest { project_id: a.project_id.clone() };
    let v = audit.verify_audit_trail(one.clone()).await.unwrap().into_inner();
    assert!(v.intact && v.chains_checked == 1 && v.records_checked >= 2, "{v:?}");
    let none = egov_proto::common::VerifyAuditTrailRequest { project_id: uuid::Uuid::now_v7().to_string() };
    assert_eq!(audit.verify_audit_trail(none).await.unwrap_err().code(), tonic::Code::NotFound);
    // The service's own (runtime) role cannot touch the trail: no UPDATE, DELETE or TRUNCATE on
    // it, and not being its owner, no way to disable its triggers or drop it (42501).
    for sql in [
        "UPDATE egov_audit SET reason = 'x' WHERE seq = 2",
        "DELETE FROM egov_audit WHERE seq = 2",
        "TRUNCATE egov_audit",
        "ALTER TABLE egov_audit DISABLE TRIGGER egov_audit_no_update",
        "DROP TABLE egov_audit",
        "DELETE FROM egov_denied_calls",
        "UPDATE egov_audit_anchors SET key_id = 'x'",
        "DELETE FROM egov_audit_anchors",
        "ALTER TABLE egov_audit_anchors DISABLE TRIGGER egov_audit_anchors_no_update",
    ] {
        let e = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&app.pool).await.unwrap_err();
        let code = e.as_database_error().and_then(|d| d.code()).map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {e}");
    }
    // It still appends and reads (every call above was audited by the same role).
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_audit").fetch_one(&app.pool).await.unwrap();
    assert!(rows >= 2);
    // Even the owner meets the append-only triggers; an attacker with the owner's rights
    // disables them, and the chain's verification finds the rewritten row.
    let mut c = sqlx::PgConnection::connect(app.settings.database.owner_url.expose()).await.unwrap();
    assert!(sqlx::query("UPDATE egov_audit SET reason = 'x' WHERE seq = 2").execute(&mut c).await.is_err(), "append-only trigger");
    sqlx::query("ALTER TABLE egov_audit DISABLE TRIGGER egov_audit_no_update").execute(&mut c).await.unwrap();
    sqlx::query("UPDATE egov_audit SET actor = 'someone-else' WHERE seq = 2").execute(&mut c).await.unwrap();
    let v = audit.verify_audit_trail(egov_proto::common::VerifyAuditTrailRequest::default()).await.unwrap().into_inner();
    assert!(!v.intact);
    assert_eq!(v.first_broken_seq, 2);
    let chain = &v.broken_chains[0].chain;
    let v = audit.verify_audit_trail(egov_proto::common::VerifyAuditTrailRequest { project_id: chain.clone() }).await;
    if !chain.is_empty() {
        assert!(!v.unwrap().into_inner().intact, "the project's own verification finds it too");
    }
}

#[tokio::test]
async fn health_serving_and_reflection_lists_services() {
    let app = TestApp::spawn().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(app.channel.clone());
    for service in ["", "egov.intake.v1.Intake"] {
        let r = health.check(tonic_health::pb::HealthCheckRequest { service: service.into() }).await.unwrap().into_inner();
        assert_eq!(r.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
    }
    let mut refl = tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(app.channel.clone());
    let req = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(tonic_reflection::pb::v1::server_reflection_request::MessageRequest::ListServices(String::new())),
    };
    let mut stream = refl.server_reflection_info(futures::stream::iter(vec![req])).await.unwrap().into_inner();
    let resp = stream.message().await.unwrap().unwrap();
    let Some(tonic_reflection::pb::v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) = resp.message_response
    else {
        panic!("no service list")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for n in ["egov.intake.v1.Intake", "grpc.health.v1.Health", "egov.common.v1.AuditTrail", "egov.common.v1.Operations"] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    // Only what this port serves: no other service of the suite is listed.
    for n in ["egov.review.v1.Review", "egov.procurement.v1.Procurement", "egov.acceptance.v1.Acceptance", "egov.evaluation.v1.Evaluations"]
    {
        assert!(!names.iter().any(|x| x == n), "{n} listed by intake: {names:?}");
    }
    // A service this port does not serve answers UNIMPLEMENTED, with or without a token.
    for role in [Some(Role::Drb), None] {
        let channel = app.channel.clone();
        let e = match role {
            Some(r) => {
                egov_proto::review::review_client::ReviewClient::with_interceptor(channel, bearer(&token(r, None)))
                    .get_case(egov_proto::review::GetCaseRequest { case_id: rid() })
                    .await
            }
            None => {
                egov_proto::review::review_client::ReviewClient::new(channel)
                    .get_case(egov_proto::review::GetCaseRequest { case_id: rid() })
                    .await
            }
        }
        .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unimplemented, "{e:?}");
    }
    // Shutdown flips health to NOT_SERVING before the server stops.
    app.stop().await;
}

#[tokio::test]
async fn trace_context_flows_from_grpc_metadata_to_audit_and_amqp_headers() {
    let app = TestApp::spawn().await;
    create_unit(&app, "U-CIVIL").await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut req = tonic::Request::new(pb::RecordUnitPenaltyRequest {
        request_id: rid(),
        unit_id: "U-CIVIL".into(),
        kind: pb::PenaltyKind::ConstructionOverrun as i32,
        reason: "建设超期".into(),
        ..Default::default()
    });
    req.metadata_mut().insert("traceparent", format!("00-{trace}-00f067aa0ba902b7-01").parse().unwrap());
    app.drb().record_unit_penalty(req).await.unwrap();
    let audited: String =
        sqlx::query_scalar("SELECT trace_id FROM egov_audit WHERE action = 'RecordUnitPenalty'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(audited, trace);
    let header: String =
        sqlx::query_scalar("SELECT headers->>'traceparent' FROM egov_outbox WHERE routing_key = 'intake.unit.penalty_recorded'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(header.contains(trace), "{header}");
}

#[tokio::test]
async fn advancing_the_clock_dead_letters_nothing() {
    let app = TestApp::spawn().await;
    let a = submitted(&app, "U-CIVIL").await;
    let r = app
        .operations(Role::Operator)
        .advance_clock(egov_proto::common::AdvanceClockRequest { seconds: 86_400 })
        .await
        .unwrap()
        .into_inner();
    assert!(r.adjustable);
    // A later event through the same queue shows the consumer has seen everything before it.
    let marker = event(
        "review.marker",
        &a.project_id,
        ev::event_envelope::Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: "MARKER".into(), summary: String::new() }),
        app.clock.now(),
    );
    publish(&app, &marker).await;
    eventually(WAIT, "marker consumed", || {
        let pool = app.pool.clone();
        let id = marker.event_id.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM timeline WHERE event_id = $1::uuid").bind(id).fetch_one(&pool).await.unwrap()
                == 1
        }
    })
    .await;
    let broker = egov_platform::broker::Broker::connect(&app.settings.broker, "test").await.unwrap();
    assert_eq!(egov_platform::inbox::dlq_depth(&broker, "intake").await.unwrap(), 0, "nothing dead-lettered");
    broker.close().await;
}

#[tokio::test]
async fn r_p8_an_overrun_from_procurement_joins_the_units_record_once_without_suspending_it() {
    let app = TestApp::spawn().await;
    let a = submitted(&app, "U-CIVIL").await;
    let year = app.clock.today().year() + 1;
    let e = egov_platform::outbox::envelope(
        "procurement",
        "procurement.construction.overrun_recorded",
        &a.project_id,
        "2026.1-draft",
        app.clock.now(),
        ev::event_envelope::Payload::ConstructionOverrunRecorded(ev::ConstructionOverrunRecorded {
            project_id: a.project_id.clone(),
            unit_id: "U-CIVIL".into(),
            contract_end: Some(egov_platform::convert::civil(app.clock.today())),
            overrun_days: 1,
            reason: "超期 / construction ran past the contract period (R-P8)".into(),
        }),
    );
    publish(&app, &e).await;
    publish(&app, &e).await; // a redelivery records nothing more
    let drb = app.drb();
    let record = || {
        let mut drb = drb.clone();
        async move { drb.get_unit_eligibility(pb::GetUnitEligibilityRequest { unit_id: "U-CIVIL".into(), year }).await.unwrap().into_inner() }
    };
    eventually(WAIT, "overrun on the unit's record", || async { !record().await.penalties.is_empty() }).await;
    let r = record().await;
    assert!(r.eligible, "an overrun is shown to reviewers, it does not suspend the unit (R-I10)");
    assert_eq!(r.penalties.len(), 1);
    assert_eq!(r.penalties[0].kind, pb::PenaltyKind::ConstructionOverrun as i32);
    assert_eq!(r.penalties[0].project_id, a.project_id);
    // The timeline shows it as information: the project's status stays.
    let mut drb = app.drb();
    let p = drb.get_project_status(pb::GetProjectStatusRequest { project_id: a.project_id.clone() }).await.unwrap().into_inner();
    let overruns: Vec<_> = p.timeline.iter().filter(|t| t.event_type == "procurement.construction.overrun_recorded").collect();
    assert_eq!(overruns.len(), 1, "{:?}", p.timeline);
    assert!(overruns[0].summary.contains("R-P8") && overruns[0].status.is_empty(), "{:?}", overruns[0]);
    assert_eq!(p.status, "合规性审查 COMPLIANCE_REVIEW");
}
