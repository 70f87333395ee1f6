//! Telemetry seen arriving: intake and review run as their real binaries (one process each, as
//! in production, so each exports under its own `service.name`) with `telemetry.otlp_endpoint`
//! pointing at an OTLP/gRPC receiver served here with the official OpenTelemetry protos
//! (`opentelemetry-proto`). One application goes from submission to review's consumer; the test
//! asserts that one trace id covers intake's gRPC call, intake's relay publishing the event and
//! review's consumer handling it, and that the RPC latency histogram, the outbox age and the
//! consumer lag arrive as metrics, each under its service's name.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

use std::{
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use egov_platform::{
    auth::Role,
    clock::shanghai,
    testing::{TestDatabase, TestVhost, bearer, eventually, token},
};
use egov_proto::intake::{self as ipb, intake_client::IntakeClient};
use opentelemetry_proto::tonic::{
    collector::{
        metrics::v1::{
            ExportMetricsServiceRequest, ExportMetricsServiceResponse,
            metrics_service_server::{MetricsService, MetricsServiceServer},
        },
        trace::v1::{
            ExportTraceServiceRequest, ExportTraceServiceResponse,
            trace_service_server::{TraceService, TraceServiceServer},
        },
    },
    common::v1::{AnyValue, KeyValue, any_value},
    resource::v1::Resource,
};

const WAIT: Duration = Duration::from_secs(60);

/// A span as received: service.name, span name, trace id (hex), attributes.
type SpanSeen = (String, String, String, Vec<(String, String)>);

/// What the receiver got: spans, and (service.name, metric name).
#[derive(Default, Clone)]
struct Received {
    spans: Arc<Mutex<Vec<SpanSeen>>>,
    metrics: Arc<Mutex<Vec<(String, String)>>>,
}

fn text(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn attrs(kv: &[KeyValue]) -> Vec<(String, String)> {
    kv.iter().map(|k| (k.key.clone(), text(&k.value))).collect()
}

fn service_name(r: &Option<Resource>) -> String {
    r.as_ref()
        .map(|r| attrs(&r.attributes))
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "service.name")
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tonic::async_trait]
impl TraceService for Received {
    async fn export(
        &self,
        req: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().unwrap();
        for rs in req.into_inner().resource_spans {
            let svc = service_name(&rs.resource);
            for ss in rs.scope_spans {
                for s in ss.spans {
                    spans.push((svc.clone(), s.name.clone(), hex(&s.trace_id), attrs(&s.attributes)));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Received {
    async fn export(
        &self,
        req: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let mut metrics = self.metrics.lock().unwrap();
        for rm in req.into_inner().resource_metrics {
            let svc = service_name(&rm.resource);
            for sm in rm.scope_metrics {
                for m in sm.metrics {
                    metrics.push((svc.clone(), m.name.clone()));
                }
            }
        }
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// The OTLP/gRPC receiver, on a free loopback port.
async fn receiver() -> (Received, SocketAddr) {
    let got = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(got.clone()))
        .add_service(MetricsServiceServer::new(got.clone()))
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener));
    tokio::spawn(server);
    (got, addr)
}

/// target/debug (or the profile's dir), where cargo puts the workspace's binaries.
fn bin_dir() -> PathBuf {
    std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf()
}

/// Builds the two service binaries (a no-op when they are up to date).
fn build_binaries() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--quiet", "-p", "egov-intake", "-p", "egov-review", "--bins"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the service binaries do not build");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A service binary, configured as an operator would (environment variables), killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(service: &str, port: u16, db: &TestDatabase, vhost: &TestVhost, otlp: SocketAddr, extra: &[(&str, &str)]) -> Process {
    let docs = db.scratch_dir().join(format!("documents-{service}-{port}"));
    std::fs::create_dir_all(&docs).unwrap();
    let mut cmd = Command::new(bin_dir().join(format!("egov-{service}")));
    cmd.env("EGOV_SERVICE__PROFILE", "test")
        .env("EGOV_SERVICE__LISTEN", format!("127.0.0.1:{port}"))
        .env("EGOV_DATABASE__URL", db.url())
        .env("EGOV_BROKER__URL", vhost.amqp_url())
        .env("EGOV_CLOCK__ADJUSTABLE", "true")
        .env("EGOV_DOCUMENTS__DIR", docs.display().to_string())
        .env("EGOV_OUTBOX__POLL_INTERVAL_MS", "50")
        .env("EGOV_TELEMETRY__OTLP_ENDPOINT", format!("http://{otlp}"))
        .env("EGOV_TELEMETRY__METRICS_SAMPLE_MS", "100")
        // Export often: spans every 200 ms, metrics every second.
        .env("OTEL_BSP_SCHEDULE_DELAY", "200")
        .env("OTEL_METRIC_EXPORT_INTERVAL", "1000")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    Process(cmd.spawn().expect("the service binary starts"))
}

async fn channel(port: u16) -> tonic::transport::Channel {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}")).unwrap();
    let mut last = None;
    for _ in 0..300 {
        match endpoint.connect().await {
            Ok(c) => {
                let mut health = tonic_health::pb::health_client::HealthClient::new(c.clone());
                if health.check(tonic_health::pb::HealthCheckRequest::default()).await.is_ok_and(|r| r.into_inner().status == 1) {
                    return c;
                }
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the service on port {port} did not become SERVING: {last:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_from_grpc_call_through_relay_to_review_consumer_and_metrics_arrive() {
    tokio::task::spawn_blocking(build_binaries).await.unwrap();
    let (got, otlp) = receiver().await;
    let vhost = TestVhost::create().await.unwrap();
    let (idb, rdb) = (TestDatabase::create().await.unwrap(), TestDatabase::create().await.unwrap());
    let (iport, rport) = (free_port(), free_port());
    let _intake = spawn("intake", iport, &idb, &vhost, otlp, &[("EGOV_PEERS__EVALUATION", "")]);
    let _review = spawn("review", rport, &rdb, &vhost, otlp, &[]);
    let ich = channel(iport).await;
    channel(rport).await;

    let drb = IntakeClient::with_interceptor(ich.clone(), bearer(&token(Role::Drb, None)));
    let unit = IntakeClient::with_interceptor(ich.clone(), bearer(&token(Role::Unit, Some("U-CIVIL"))));
    drb.clone()
        .create_unit(ipb::CreateUnitRequest {
            request_id: "otlp-unit".into(),
            unit_id: "U-CIVIL".into(),
            name: "区民政局".into(),
            district_budget_unit: true,
            ..Default::default()
        })
        .await
        .unwrap();
    // Next spring, through Operations (the broadcast moves review's clock too).
    let mut ops =
        egov_proto::common::operations_client::OperationsClient::with_interceptor(ich.clone(), bearer(&token(Role::Operator, None)));
    let now = ops.get_clock(egov_proto::common::GetClockRequest::default()).await.unwrap().into_inner();
    let now = time::OffsetDateTime::from_unix_timestamp(now.now.unwrap().seconds).unwrap();
    let today = now.to_offset(time::macros::offset!(+8)).date();
    let spring = time::Date::from_calendar_date(today.year() + 1, time::Month::March, 2).unwrap();
    let seconds = (shanghai(spring, time::macros::time!(10:00)) - now).whole_seconds();
    ops.advance_clock(egov_proto::common::AdvanceClockRequest { seconds }).await.unwrap();
    let round = drb
        .clone()
        .open_round(ipb::OpenRoundRequest { request_id: "otlp-round".into(), target_year: spring.year() + 1 })
        .await
        .unwrap()
        .into_inner();

    let draft = ipb::ApplicationDraft {
        name: "社会救助一件事".into(),
        category: ipb::ProjectCategory::DataResource as i32,
        build_type: ipb::BuildType::New as i32,
        funding_source: ipb::FundingSource::SuperiorTransfer as i32,
        fast_track_grounds: vec![ipb::FastTrackGround::NonDistrictFunding as i32],
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
    };
    let a = unit
        .clone()
        .create_application(ipb::CreateApplicationRequest {
            request_id: "otlp-app".into(),
            lead_unit_id: "U-CIVIL".into(),
            draft: Some(draft),
        })
        .await
        .unwrap()
        .into_inner();
    for (kind, text) in [(ipb::DocumentKind::ApplicationForm, "申报表"), (ipb::DocumentKind::FeasibilityReport, "可行性研究报告")]
    {
        let msgs = vec![
            ipb::UploadDocumentRequest {
                part: Some(ipb::upload_document_request::Part::Header(ipb::DocumentUploadHeader {
                    application_id: a.application_id.clone(),
                    kind: kind as i32,
                    file_name: "doc.pdf".into(),
                    request_id: format!("otlp-doc-{}", kind as i32),
                    ..Default::default()
                })),
            },
            ipb::UploadDocumentRequest { part: Some(ipb::upload_document_request::Part::Chunk(text.as_bytes().to_vec())) },
        ];
        unit.clone().upload_document(futures::stream::iter(msgs)).await.unwrap();
    }
    let a =
        unit.clone().get_application(ipb::GetApplicationRequest { application_id: a.application_id.clone() }).await.unwrap().into_inner();
    let a = unit
        .clone()
        .submit_application(ipb::SubmitApplicationRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            round_id: round.round_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let items = drb
        .clone()
        .get_compliance_checklist(ipb::GetComplianceChecklistRequest { application_id: a.application_id.clone() })
        .await
        .unwrap()
        .into_inner()
        .items;
    let results = items.into_iter().map(|i| ipb::ChecklistResult { code: i.code, passed: true, note: String::new() }).collect();
    let passed = drb
        .clone()
        .decide_compliance(ipb::DecideComplianceRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            results,
            comment: "合规".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(passed.state, ipb::ApplicationState::CompliancePassed as i32);

    // The DecideCompliance call's trace: the publish of intake.application.compliance_passed
    // and review's handling of it are in it.
    let trace_of_call = || {
        got.spans
            .lock()
            .unwrap()
            .iter()
            .find(|(svc, name, _, a)| {
                svc == "egov-intake" && name == "grpc" && a.iter().any(|(k, v)| k == "method" && v.ends_with("/DecideCompliance"))
            })
            .map(|(_, _, t, _)| t.clone())
    };
    eventually(WAIT, "intake's DecideCompliance span arrives", || async { trace_of_call().is_some() }).await;
    let trace = trace_of_call().unwrap();
    let has = |svc: &str, span: &str, key: &str| {
        got.spans
            .lock()
            .unwrap()
            .iter()
            .any(|(s, n, t, a)| s == svc && n == span && *t == trace && a.iter().any(|(k, v)| k == "routing_key" && v == key))
    };
    eventually(WAIT, "intake's relay publish is in the call's trace", || async {
        has("egov-intake", "egov.publish", "intake.application.compliance_passed")
    })
    .await;
    eventually(WAIT, "review's consumer handling is in the call's trace", || async {
        has("egov-review", "egov.consume", "intake.application.compliance_passed")
    })
    .await;

    // Metrics, each under its own service name.
    let metric = |svc: &str, name: &str| got.metrics.lock().unwrap().iter().any(|(s, n)| s == svc && n == name);
    eventually(WAIT, "intake's RPC latency histogram arrives", || async { metric("egov-intake", "rpc.server.duration") }).await;
    eventually(WAIT, "intake's outbox age arrives", || async { metric("egov-intake", "egov.outbox.oldest_pending_age") }).await;
    eventually(WAIT, "review's consumer lag arrives", || async { metric("egov-review", "egov.consumer.lag") }).await;
}
