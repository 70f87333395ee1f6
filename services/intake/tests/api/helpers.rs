//! Test support: each test gets its own intake on port 0, its own database and RabbitMQ
//! virtual host, and a real in-test gRPC evaluation server.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use egov_intake::startup::Application;
use egov_platform::{
    auth::{Bearer, Role},
    clock::SharedClock,
    config::Settings,
    testing::{RunningService, TestDatabase, TestVhost, bearer, test_settings},
};

pub use egov_platform::testing::token;
use egov_proto::{
    common::{audit_trail_client::AuditTrailClient, operations_client::OperationsClient},
    evaluation::{
        self as pe,
        evaluation_queries_server::{EvaluationQueries, EvaluationQueriesServer},
    },
    intake::{self as pb, intake_client::IntakeClient},
};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, service::interceptor::InterceptedService, transport::Channel};

pub type Client = IntakeClient<InterceptedService<Channel, Bearer>>;

// ------------------------------------------------------------------ evaluation stub

/// What the in-test evaluation server answers.
#[derive(Default)]
pub struct EvalAnswers {
    /// Module text containing the key → catalogue matches.
    pub catalogue: HashMap<String, Vec<(String, f64)>>,
    /// App id → (passed, grade).
    pub evaluations: HashMap<String, (bool, i32)>,
    pub calls: usize,
}

#[derive(Clone, Default)]
pub struct EvalServer(pub Arc<Mutex<EvalAnswers>>);

#[tonic::async_trait]
impl EvaluationQueries for EvalServer {
    async fn search_catalogue(&self, req: Request<pe::SearchCatalogueRequest>) -> Result<Response<pe::SearchCatalogueResponse>, Status> {
        let mut a = self.0.lock().unwrap();
        a.calls += 1;
        let text = req.into_inner().text;
        let matches = a
            .catalogue
            .iter()
            .filter(|(k, _)| text.contains(k.as_str()))
            .flat_map(|(_, v)| v.iter())
            .map(|(name, score)| pe::CatalogueMatch {
                entry_id: format!("CAT-{name}"),
                name: name.clone(),
                owner_unit: "市数据局".into(),
                score: *score,
            })
            .collect();
        Ok(Response::new(pe::SearchCatalogueResponse { matches }))
    }

    async fn get_latest_evaluation(
        &self,
        req: Request<pe::GetLatestEvaluationRequest>,
    ) -> Result<Response<pe::GetLatestEvaluationResponse>, Status> {
        let mut a = self.0.lock().unwrap();
        a.calls += 1;
        let id = req.into_inner().app_id;
        let evaluation = a.evaluations.get(&id).map(|(passed, grade)| pe::Evaluation {
            app_id: id.clone(),
            grade: *grade,
            passed: *passed,
            evaluated_on: Some(egov_proto::common::CivilDate { year: 2026, month: 6, day: 30 }),
        });
        Ok(Response::new(pe::GetLatestEvaluationResponse { evaluation }))
    }
}

async fn start_eval(server: EvalServer, stop: CancellationToken) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(EvaluationQueriesServer::new(server))
            .serve_with_incoming_shutdown(tokio_stream::wrappers::TcpListenerStream::new(listener), stop.cancelled_owned())
            .await
            .unwrap();
    });
    addr
}

// ------------------------------------------------------------------ the app

pub struct TestApp {
    pub svc: RunningService,
    pub channel: Channel,
    pub pool: PgPool,
    pub clock: SharedClock,
    pub settings: Settings,
    pub eval: EvalServer,
    _eval_stop: StopOnDrop,
    /// Dropped with the app: the database goes too.
    _db: TestDatabase,
    pub vhost: TestVhost,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
        TestApp::spawn_full(|s, _, _| tweak(s)).await
    }

    /// `tweak` also sees the test's database and virtual host (to route them through a proxy).
    pub async fn spawn_full(tweak: impl FnOnce(&mut Settings, &TestDatabase, &TestVhost)) -> TestApp {
        let db = TestDatabase::create().await.expect("test database");
        let vhost = TestVhost::create().await.expect("test vhost");
        TestApp::spawn_on(db, vhost, tweak).await
    }

    /// On a database and virtual host the test made itself.
    pub async fn spawn_on(db: TestDatabase, vhost: TestVhost, tweak: impl FnOnce(&mut Settings, &TestDatabase, &TestVhost)) -> TestApp {
        let eval = EvalServer::default();
        let eval_stop = CancellationToken::new();
        let eval_addr = start_eval(eval.clone(), eval_stop.clone()).await;
        let mut settings = test_settings("intake", &db, &vhost);
        settings.peers.evaluation = format!("http://{eval_addr}");
        settings.peers.timeout_secs = 2;
        tweak(&mut settings, &db, &vhost);
        let svc = RunningService::start::<Application>(settings).await.expect("intake starts");
        TestApp {
            channel: svc.channel.clone(),
            pool: svc.pool.clone(),
            clock: svc.clock.clone(),
            settings: svc.settings.clone(),
            svc,
            eval,
            _eval_stop: StopOnDrop(eval_stop),
            _db: db,
            vhost,
        }
    }

    pub fn client(&self, token: &str) -> Client {
        IntakeClient::with_interceptor(self.channel.clone(), bearer(token))
    }

    pub fn as_role(&self, role: Role, unit: Option<&str>) -> Client {
        self.client(&token(role, unit))
    }

    pub fn drb(&self) -> Client {
        self.as_role(Role::Drb, None)
    }

    pub fn unit(&self, unit: &str) -> Client {
        self.as_role(Role::Unit, Some(unit))
    }

    pub fn audit_trail(&self, role: Role) -> AuditTrailClient<InterceptedService<Channel, Bearer>> {
        let unit = (role == Role::Unit).then_some("U-TEST");
        AuditTrailClient::with_interceptor(self.channel.clone(), bearer(&token(role, unit)))
    }

    pub fn operations(&self, role: Role) -> OperationsClient<InterceptedService<Channel, Bearer>> {
        OperationsClient::with_interceptor(self.channel.clone(), bearer(&token(role, None)))
    }

    /// Moves the service clock forward so that it reads about `instant`.
    pub fn move_clock_to(&self, instant: OffsetDateTime) {
        self.svc.move_clock_to(instant);
    }

    pub async fn stop(self) {
        self.svc.stop().await.unwrap();
    }
}

/// Stops the in-test evaluation server with the app.
struct StopOnDrop(CancellationToken);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

// ------------------------------------------------------------------ fixtures

pub fn rid() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub async fn create_unit(app: &TestApp, id: &str) -> pb::Unit {
    app.drb()
        .create_unit(pb::CreateUnitRequest {
            request_id: rid(),
            unit_id: id.into(),
            name: format!("{id} 单位"),
            district_budget_unit: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

pub fn draft() -> pb::ApplicationDraft {
    use pb::*;
    ApplicationDraft {
        name: "社会救助一件事".into(),
        category: ProjectCategory::DataResource as i32,
        build_type: BuildType::New as i32,
        funding_source: FundingSource::DistrictFiscal as i32,
        planned_construction_months: 12,
        content_kinds: vec![ContentKind::SoftwareDevelopment as i32],
        necessity: Some(NecessityStatement {
            core_business: "社会救助".into(),
            one_platform_path: "民政一平台".into(),
            relations_with_other_units: "与街道协同".into(),
            existing_systems_and_plans: "无".into(),
            terminals: vec![Terminal::Zhezhengding as i32],
            uses_public_data_platform: true,
            ..Default::default()
        }),
        modules: vec![FunctionModule { name: "救助审核".into(), description: "救助对象审核".into() }],
        budget: vec![
            BudgetLine {
                module: "救助审核".into(),
                category: CostCategory::SoftwareDevelopment as i32,
                amount_fen: 9_500_000,
                rationale: "按人天测算".into(),
            },
            BudgetLine {
                module: "救助审核".into(),
                category: CostCategory::Security as i32,
                amount_fen: 500_000,
                rationale: "等保测评".into(),
            },
        ],
        ..Default::default()
    }
}

pub async fn create_application(app: &TestApp, unit: &str, d: pb::ApplicationDraft) -> pb::Application {
    app.unit(unit)
        .create_application(pb::CreateApplicationRequest { request_id: rid(), lead_unit_id: unit.into(), draft: Some(d) })
        .await
        .unwrap()
        .into_inner()
}

pub async fn upload(
    app: &TestApp,
    unit: &str,
    application_id: &str,
    kind: pb::DocumentKind,
    street: &str,
    content: &[u8],
) -> Result<pb::Document, Status> {
    let mut msgs = vec![pb::UploadDocumentRequest {
        part: Some(pb::upload_document_request::Part::Header(pb::DocumentUploadHeader {
            application_id: application_id.into(),
            kind: kind as i32,
            file_name: format!("{}.pdf", kind.as_str_name().to_lowercase()),
            content_type: "application/pdf".into(),
            street: street.into(),
            request_id: rid(),
        })),
    }];
    for chunk in content.chunks(1000) {
        msgs.push(pb::UploadDocumentRequest { part: Some(pb::upload_document_request::Part::Chunk(chunk.to_vec())) });
    }
    app.unit(unit).upload_document(futures::stream::iter(msgs)).await.map(Response::into_inner)
}

pub async fn upload_dossier(app: &TestApp, unit: &str, application_id: &str) {
    upload(app, unit, application_id, pb::DocumentKind::ApplicationForm, "", "电子政务项目申报表".as_bytes()).await.unwrap();
    upload(app, unit, application_id, pb::DocumentKind::FeasibilityReport, "", "项目可行性研究报告".as_bytes()).await.unwrap();
}

/// Moves the clock into next spring and opens the round for the year after.
pub async fn open_round(app: &TestApp) -> pb::ApplicationRound {
    let now = app.clock.now();
    let next_spring = egov_platform::clock::shanghai(
        time::Date::from_calendar_date(now.year() + 1, time::Month::March, 2).unwrap(),
        time::macros::time!(10:00),
    );
    app.move_clock_to(next_spring);
    app.drb().open_round(pb::OpenRoundRequest { request_id: rid(), target_year: now.year() + 2 }).await.unwrap().into_inner()
}

pub async fn get(app: &TestApp, unit: &str, id: &str) -> pb::Application {
    app.unit(unit).get_application(pb::GetApplicationRequest { application_id: id.into() }).await.unwrap().into_inner()
}

pub async fn submit(app: &TestApp, unit: &str, a: &pb::Application, round_id: &str) -> Result<pb::Application, Status> {
    app.unit(unit)
        .submit_application(pb::SubmitApplicationRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            round_id: round_id.into(),
        })
        .await
        .map(Response::into_inner)
}

/// A unit with a complete application, submitted into an open round.
pub async fn submitted(app: &TestApp, unit: &str) -> pb::Application {
    create_unit(app, unit).await;
    let round = open_round(app).await;
    let a = create_application(app, unit, draft()).await;
    upload_dossier(app, unit, &a.application_id).await;
    let a = get(app, unit, &a.application_id).await;
    submit(app, unit, &a, &round.round_id).await.unwrap()
}

pub async fn checklist_results(app: &TestApp, fail: &[&str]) -> Vec<pb::ChecklistResult> {
    let c =
        app.drb().get_compliance_checklist(pb::GetComplianceChecklistRequest { application_id: String::new() }).await.unwrap().into_inner();
    c.items
        .into_iter()
        .map(|i| pb::ChecklistResult {
            passed: !fail.contains(&i.code.as_str()),
            note: if fail.contains(&i.code.as_str()) { "需修改".into() } else { String::new() },
            code: i.code,
        })
        .collect()
}

pub async fn decide(app: &TestApp, a: &pb::Application, fail: &[&str]) -> Result<pb::Application, Status> {
    let results = checklist_results(app, fail).await;
    app.drb()
        .decide_compliance(pb::DecideComplianceRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            results,
            comment: "审查意见".into(),
        })
        .await
        .map(Response::into_inner)
}

pub fn rule_ids(s: &Status) -> Vec<String> {
    egov_platform::error::status_rule_ids(s)
}

pub fn fields(s: &Status) -> Vec<String> {
    egov_platform::error::status_fields(s)
}

pub const WAIT: Duration = Duration::from_secs(20);
