//! Test support: each test gets its own evaluation service on port 0, its own database and
//! RabbitMQ virtual host; acceptance's event is published as acceptance's relay would.

use std::time::Duration;

use egov_evaluation::startup::Application;
use egov_platform::{
    auth::{Bearer, Role},
    clock::shanghai,
    testing::{RunningService, TestDatabase, TestVhost, bearer, eventually, publish, test_settings, token},
};
use egov_proto::{
    common::CivilDate,
    evaluation::{self as pb, evaluation_queries_client::EvaluationQueriesClient, evaluations_client::EvaluationsClient},
    events::{self as ev, EventEnvelope, event_envelope::Payload},
};
use time::{Date, OffsetDateTime, macros::time};
use tonic::{Status, service::interceptor::InterceptedService, transport::Channel};

pub type Client = EvaluationsClient<InterceptedService<Channel, Bearer>>;
pub type Queries = EvaluationQueriesClient<InterceptedService<Channel, Bearer>>;

pub const WAIT: Duration = Duration::from_secs(20);

pub struct TestApp {
    pub svc: RunningService,
    pub vhost: TestVhost,
    _db: TestDatabase,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let db = TestDatabase::create().await.expect("test database");
        let vhost = TestVhost::create().await.expect("test vhost");
        let settings = test_settings("evaluation", &db, &vhost);
        let svc = RunningService::start::<Application>(settings).await.expect("evaluation starts");
        TestApp { svc, vhost, _db: db }
    }

    pub fn as_role(&self, role: Role, unit: Option<&str>) -> Client {
        EvaluationsClient::with_interceptor(self.svc.channel.clone(), bearer(&token(role, unit)))
    }

    pub fn drb(&self) -> Client {
        self.as_role(Role::Drb, None)
    }

    pub fn unit(&self, unit: &str) -> Client {
        self.as_role(Role::Unit, Some(unit))
    }

    pub fn queries(&self, role: Role) -> Queries {
        EvaluationQueriesClient::with_interceptor(self.svc.channel.clone(), bearer(&token(role, None)))
    }

    /// Moves the service clock to 10:00 Shanghai of `day` (never backwards).
    pub fn move_to(&self, day: Date) {
        self.svc.move_clock_to(shanghai(day, time!(10:00)));
    }

    pub async fn entry(&self, id: &str) -> pb::CatalogueEntry {
        self.drb().get_entry(pb::GetEntryRequest { entry_id: id.into() }).await.unwrap().into_inner()
    }

    /// Waits until `f` holds of entry `id` (timers and consumers run in the background).
    pub async fn until(&self, id: &str, what: &str, f: impl Fn(&pb::CatalogueEntry) -> bool) -> pb::CatalogueEntry {
        let c = self.drb();
        eventually(WAIT, what, || {
            let mut c = c.clone();
            let id = id.to_string();
            let f = &f;
            async move { c.get_entry(pb::GetEntryRequest { entry_id: id }).await.map(|e| f(e.get_ref())).unwrap_or(false) }
        })
        .await;
        self.entry(id).await
    }

    /// The outbox events of `event_type`, oldest first.
    pub async fn events(&self, event_type: &str) -> Vec<EventEnvelope> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT payload FROM egov_outbox WHERE routing_key = $1 ORDER BY created_at")
            .bind(event_type)
            .fetch_all(&self.svc.pool)
            .await
            .unwrap();
        rows.iter().map(|b| <EventEnvelope as prost::Message>::decode(b.as_slice()).unwrap()).collect()
    }
}

pub fn civil(d: Date) -> CivilDate {
    egov_platform::convert::civil(d)
}

pub fn rid() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn rule_ids(s: &Status) -> Vec<String> {
    egov_platform::error::status_rule_ids(s)
}

pub fn fields(s: &Status) -> Vec<String> {
    egov_platform::error::status_fields(s)
}

/// Acceptance's event for a project that went live on `go_live`.
pub fn accepted_event(project_id: &str, go_live: Date, category: &str, level: i32, important: bool) -> EventEnvelope {
    EventEnvelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        r#type: "acceptance.project.accepted".into(),
        occurred_at: Some(egov_platform::convert::timestamp(OffsetDateTime::now_utc())),
        project_id: project_id.into(),
        producer: "acceptance".into(),
        policy_version: "2026.1-draft".into(),
        payload: Some(Payload::ProjectAccepted(ev::ProjectAccepted {
            project_id: project_id.into(),
            project_name: "上城区社会救助一件事".into(),
            category: category.into(),
            function_modules: vec!["低保网上申办：群众在浙里办申请低保，自动比对家庭经济状况".into(), "临时救助审批".into()],
            go_live_on: Some(civil(go_live)),
            classified_protection_level: level,
            important_system: important,
            builder_unit_id: "U-CIVIL".into(),
            operator_unit_id: "U-CIVIL".into(),
            user_unit_ids: vec!["U-CIVIL".into(), "U-STREET".into()],
            lead_unit_id: "U-CIVIL".into(),
            ..Default::default()
        })),
    }
}

/// Publishes acceptance's event for a new project and waits until it is catalogued.
pub async fn accepted(app: &TestApp, go_live: Date, category: &str, level: i32, important: bool) -> pb::CatalogueEntry {
    let id = uuid::Uuid::now_v7().to_string();
    publish(&app.vhost.amqp_url(), &app.svc.settings.broker.exchange, &accepted_event(&id, go_live, category, level, important))
        .await
        .unwrap();
    app.until(&id, "the accepted project is catalogued", |_| true).await
}

/// Opens an evaluation, scores every indicator with `points` (DRB's and FINANCE's) and publishes.
pub async fn evaluate(app: &TestApp, app_id: &str, points: i32) -> pb::CatalogueEntry {
    let e = app.drb().open_evaluation(pb::OpenEvaluationRequest { request_id: rid(), app_id: app_id.into() }).await.unwrap().into_inner();
    let evaluation_id = e.evaluations.last().unwrap().evaluation_id.clone();
    let system = app.drb().get_indicator_system(pb::GetIndicatorSystemRequest::default()).await.unwrap().into_inner();
    let mut etag = e.etag;
    for role in [Role::Drb, Role::Finance] {
        let scores = system
            .indicators
            .iter()
            .filter(|i| i.assessed_by == role.as_str())
            .map(|i| pb::IndicatorScore { indicator: i.code.clone(), score: points, ..Default::default() })
            .collect();
        let r = pb::RecordScoresRequest { app_id: app_id.into(), etag: etag.clone(), evaluation_id: evaluation_id.clone(), scores };
        etag = app.as_role(role, None).record_scores(r).await.unwrap().into_inner().etag;
    }
    let r = pb::PublishEvaluationRequest { app_id: app_id.into(), etag, evaluation_id, comment: "评价意见".into() };
    app.drb().publish_evaluation(r).await.unwrap().into_inner()
}

/// DRB imports the shipped sample catalogue.
pub async fn import_sample(app: &TestApp) -> pb::ImportCatalogueResponse {
    let content = include_bytes!("../../data/catalogue-sample.csv");
    import(app, content, pb::ImportFormat::Csv).await.unwrap()
}

pub async fn import(app: &TestApp, content: &[u8], format: pb::ImportFormat) -> Result<pb::ImportCatalogueResponse, Status> {
    let mut msgs = vec![pb::ImportCatalogueRequest {
        part: Some(pb::import_catalogue_request::Part::Header(pb::ImportHeader {
            request_id: rid(),
            file_name: "catalogue.csv".into(),
            format: format as i32,
        })),
    }];
    for chunk in content.chunks(4096) {
        msgs.push(pb::ImportCatalogueRequest { part: Some(pb::import_catalogue_request::Part::Chunk(chunk.to_vec())) });
    }
    app.drb().import_catalogue(futures::stream::iter(msgs)).await.map(tonic::Response::into_inner)
}

/// The service's civil date today.
pub fn today(app: &TestApp) -> Date {
    egov_platform::clock::civil_date(app.svc.clock.now())
}

/// `d` moved by whole years (02-29 becomes 02-28).
pub fn years_from(d: Date, years: i32) -> Date {
    let y = d.year() + years;
    Date::from_calendar_date(y, d.month(), d.day().min(d.month().length(y))).unwrap()
}
