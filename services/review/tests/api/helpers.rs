//! Review on port 0 with its own database and virtual host; cases are opened by publishing
//! intake's compliance-passed event, as intake's relay would.

use egov_platform::{
    auth::{Bearer, Role},
    testing::{RunningService, TestDatabase, TestVhost, bearer, eventually, publish, test_settings, token},
};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    review::{self as pb, review_client::ReviewClient},
};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

pub type Client = ReviewClient<InterceptedService<Channel, Bearer>>;

pub const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

pub struct ReviewApp {
    pub svc: RunningService,
    pub vhost: TestVhost,
    _db: TestDatabase,
}

impl ReviewApp {
    pub async fn spawn() -> ReviewApp {
        let db = TestDatabase::create().await.unwrap();
        let vhost = TestVhost::create().await.unwrap();
        let svc = RunningService::start::<egov_review::startup::Application>(test_settings("review", &db, &vhost)).await.unwrap();
        ReviewApp { svc, vhost, _db: db }
    }

    pub fn client(&self, role: Role, unit: Option<&str>) -> Client {
        ReviewClient::with_interceptor(self.svc.channel.clone(), bearer(&token(role, unit)))
    }

    pub fn drb(&self) -> Client {
        self.client(Role::Drb, None)
    }

    /// A client for a named person of a role (two people of one role are two subjects).
    pub fn person(&self, role: Role, subject: &str) -> Client {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims =
            egov_platform::auth::Claims { sub: subject.into(), role, unit: None, iss: "egov-local".into(), exp: now + 3600, iat: now };
        let t = egov_platform::auth::mint_hs256(egov_platform::config::LOCAL_DEV_SECRET.as_bytes(), &claims).unwrap();
        ReviewClient::with_interceptor(self.svc.channel.clone(), bearer(&t))
    }

    pub async fn publish(&self, e: &ev::EventEnvelope) {
        publish(&self.vhost.amqp_url(), &self.svc.settings.broker.exchange, e).await.unwrap();
    }

    /// Publishes a compliance-passed event and waits for the case to open.
    ///
    /// The consumer declares and binds its queue in the background after start-up, and the
    /// exchange drops what is published before that; so the same event (same event id: consumed
    /// once) is published again every second until the case opens.
    /// Publishes a compliance-passed event and waits for the case to open. (The service's queue
    /// exists once it is built, so one publish is enough.)
    pub async fn open_case(&self, p: ev::CompliancePassed) -> pb::ReviewCase {
        let id = p.application_id.clone();
        self.publish(&compliance_passed(p)).await;
        let drb = self.drb();
        eventually(WAIT, "the case opens", || {
            let mut drb = drb.clone();
            let id = id.clone();
            async move { drb.get_case(pb::GetCaseRequest { case_id: id }).await.is_ok() }
        })
        .await;
        self.drb().get_case(pb::GetCaseRequest { case_id: id }).await.unwrap().into_inner()
    }

    pub async fn tasks(&self, case_id: &str) -> Vec<pb::Task> {
        self.client(Role::Audit, None)
            .list_tasks(pb::ListTasksRequest { case_id: case_id.into(), ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .tasks
    }

    pub async fn case(&self, id: &str) -> pb::ReviewCase {
        self.drb().get_case(pb::GetCaseRequest { case_id: id.into() }).await.unwrap().into_inner()
    }
}

pub fn dossier(reaches_streets: bool) -> ev::CompliancePassed {
    ev::CompliancePassed {
        application_id: uuid::Uuid::now_v7().to_string(),
        project_name: "社会救助一件事".into(),
        lead_unit_id: "U-CIVIL".into(),
        category: "DATA_RESOURCE".into(),
        build_type: "NEW".into(),
        total_budget_fen: 10_000_000,
        security_budget_fen: 500_000,
        security_share_bp: 500,
        funding_source: "DISTRICT_FISCAL".into(),
        reaches_streets,
        planned_construction_months: 12,
        function_modules: vec!["救助审核".into()],
        target_year: 2027,
        unit_record: vec![ev::UnitRecordEntry {
            kind: "CONSTRUCTION_OVERRUN".into(),
            reason: "2024年项目建设超期".into(),
            ineligible_year: 0,
            project_id: String::new(),
        }],
        ..Default::default()
    }
}

pub fn compliance_passed(p: ev::CompliancePassed) -> ev::EventEnvelope {
    let id = p.application_id.clone();
    egov_platform::outbox::envelope(
        "intake",
        "intake.application.compliance_passed",
        &id,
        "2026.1-draft",
        time::OffsetDateTime::now_utc(),
        Payload::CompliancePassed(p),
    )
}

pub fn scores(score: i32) -> Vec<pb::CriterionScore> {
    ["NECESSITY", "CONSOLIDATION", "TECHNICAL", "SECURITY", "BUDGET"]
        .iter()
        .map(|c| pb::CriterionScore { code: (*c).into(), score })
        .collect()
}

/// The participant `role` gives its opinion on its task.
pub async fn opine(app: &ReviewApp, case_id: &str, role: Role, passed: bool) -> Result<pb::ReviewCase, tonic::Status> {
    let task = app.tasks(case_id).await.into_iter().find(|t| t.assignee_role == role.as_str()).expect("a task for the role");
    app.client(role, None)
        .submit_preliminary_opinion(pb::SubmitPreliminaryOpinionRequest {
            case_id: case_id.into(),
            task_id: task.task_id,
            etag: task.etag,
            scores: scores(80),
            passed,
            opinion: "同意".into(),
            request_id: uuid::Uuid::now_v7().to_string(),
        })
        .await
        .map(tonic::Response::into_inner)
}

pub fn rule_ids(s: &tonic::Status) -> Vec<String> {
    egov_platform::error::status_rule_ids(s)
}
