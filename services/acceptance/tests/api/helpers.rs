//! The running acceptance service with its own database and virtual host, and the answers of
//! review and procurement (R-A3) supplied through the service's port to them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use egov_acceptance::{ProjectBasis, basis::BasisPort, startup::Application};
use egov_platform::{
    AppError,
    auth::{Bearer, Role},
    clock::shanghai,
    convert::civil,
    testing::{RunningService, TestDatabase, TestVhost, bearer, eventually, publish, test_settings, token},
};
use egov_proto::{
    acceptance::{self as pb, acceptance_client::AcceptanceClient},
    common::CivilDate,
    events::{self as ev, event_envelope::Payload},
};
use futures::future::BoxFuture;
use time::{Date, macros::time};
use tonic::{service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;

pub const WAIT: Duration = Duration::from_secs(20);
pub const NAME: &str = "社会救助一件事";

/// Review's and procurement's answers, as the test sets them; `down` makes them unreachable.
#[derive(Default)]
pub struct Peers {
    pub answers: Mutex<HashMap<Uuid, ProjectBasis>>,
    pub down: Mutex<bool>,
}

impl BasisPort for Peers {
    fn basis(&self, project_id: Uuid) -> BoxFuture<'_, Result<ProjectBasis, AppError>> {
        Box::pin(async move {
            if *self.down.lock().unwrap() {
                return Err(AppError::Unavailable("the review service could not answer (test: down); nothing was changed".into()));
            }
            self.answers.lock().unwrap().get(&project_id).cloned().ok_or_else(|| AppError::NotFound(format!("review case {project_id}")))
        })
    }
}

pub fn basis() -> ProjectBasis {
    ProjectBasis {
        approved_name: NAME.into(),
        approved_scope: "救助审核、救助发放".into(),
        approval_cancelled: false,
        category: "BUSINESS_APPLICATION".into(),
        function_modules: vec!["救助审核".into(), "救助发放".into()],
        expert_opinion: None,
        procurement_state: "CONSTRUCTION_COMPLETED".into(),
    }
}

pub type Client = AcceptanceClient<InterceptedService<Channel, Bearer>>;

pub struct App {
    pub svc: RunningService,
    pub vhost: TestVhost,
    pub peers: Arc<Peers>,
    _db: TestDatabase,
}

impl App {
    pub async fn spawn() -> App {
        let db = TestDatabase::create().await.unwrap();
        let vhost = TestVhost::create().await.unwrap();
        let settings = test_settings("acceptance", &db, &vhost);
        let peers = Arc::new(Peers::default());
        let app = Application::build_with(settings.clone(), peers.clone()).await.unwrap();
        let svc = RunningService::start_built(app, settings).await.unwrap();
        App { svc, vhost, peers, _db: db }
    }

    pub fn client(&self, role: Role, unit: Option<&str>) -> Client {
        AcceptanceClient::with_interceptor(self.svc.channel.clone(), bearer(&token(role, unit)))
    }

    pub fn unit(&self) -> Client {
        self.client(Role::Unit, Some("U-CIVIL"))
    }

    pub fn drb(&self) -> Client {
        self.client(Role::Drb, None)
    }

    pub async fn publish(&self, e: &ev::EventEnvelope) {
        publish(&self.vhost.amqp_url(), &self.svc.settings.broker.exchange, e).await.unwrap();
    }

    /// Moves the service clock to 10:00 Asia/Shanghai of `d`.
    pub fn at(&self, d: Date) {
        self.svc.move_clock_to(shanghai(d, time!(10:00)));
    }

    pub fn today(&self) -> Date {
        self.svc.clock.today()
    }

    /// Procurement's construction-completed event of a new project (completed today).
    pub fn completed_event(&self, channel: &str) -> (Uuid, ev::EventEnvelope) {
        let id = Uuid::now_v7();
        let e = egov_platform::outbox::envelope(
            "procurement",
            "procurement.construction.completed",
            &id.to_string(),
            "2026.1-draft",
            self.svc.clock.now(),
            Payload::ConstructionCompleted(ev::ConstructionCompleted {
                project_id: id.to_string(),
                project_name: NAME.into(),
                lead_unit_id: "U-CIVIL".into(),
                participating_unit_ids: vec!["U-STREET".into()],
                document_number: "上数资〔2026〕12号".into(),
                budget_fen: 100_000_000,
                funding_source: "DISTRICT_FISCAL".into(),
                scope: "救助审核、救助发放".into(),
                channel: channel.into(),
                method: "PUBLIC_TENDERING".into(),
                supplier_name: "杭州某某科技有限公司".into(),
                supplier_credit_code: "91330100MA2XXXXX1A".into(),
                supervision_credit_code: "91330100MA2YYYYY2B".into(),
                supervision_fee_fen: 1_000_000,
                contract_amount_fen: 90_000_000,
                completed_on: Some(civil(self.today())),
                classified_protection_level: 3,
                important_system: true,
                ..Default::default()
            }),
        );
        self.peers.answers.lock().unwrap().insert(id, basis());
        (id, e)
    }

    /// A case opened from a published construction-completed event.
    pub async fn opened(&self, channel: &str) -> (Uuid, pb::AcceptanceCase) {
        let (id, e) = self.completed_event(channel);
        self.publish(&e).await;
        (id, self.wait_case(id).await)
    }

    pub async fn wait_case(&self, id: Uuid) -> pb::AcceptanceCase {
        let c = self.drb();
        eventually(WAIT, "the case is open", || {
            let mut c = c.clone();
            async move { c.get_case(pb::GetCaseRequest { project_id: id.to_string() }).await.is_ok() }
        })
        .await;
        self.case(id).await
    }

    pub async fn case(&self, id: Uuid) -> pb::AcceptanceCase {
        self.drb().get_case(pb::GetCaseRequest { project_id: id.to_string() }).await.unwrap().into_inner()
    }

    /// Uploads a material of `kind` produced on `produced_on` (as the unit).
    pub async fn file(&self, id: Uuid, kind: pb::MaterialKind, produced_on: Date, content: &[u8]) -> Result<pb::Material, tonic::Status> {
        let header = pb::MaterialHeader {
            request_id: Uuid::now_v7().to_string(),
            project_id: id.to_string(),
            kind: kind as i32,
            file_name: "材料.pdf".into(),
            content_type: "application/pdf".into(),
            produced_on: Some(civil(produced_on)),
            project_name: NAME.into(),
        };
        upload(self.unit(), header, content).await
    }

    /// The provincial system deposits the trial report covering `from` … `to`.
    pub async fn deposit(&self, id: Uuid, from: Date, to: Date, role: Role) -> Result<pb::Material, tonic::Status> {
        let header = pb::TrialReportHeader {
            request_id: Uuid::now_v7().to_string(),
            project_id: id.to_string(),
            file_name: "试运行报告.pdf".into(),
            content_type: "application/pdf".into(),
            produced_on: Some(civil(to)),
            period_from: Some(civil(from)),
            period_to: Some(civil(to)),
            external_reference: "ZJ-SZZY-2026-0001".into(),
            project_name: NAME.into(),
        };
        let parts = vec![
            pb::DepositTrialReportRequest { part: Some(pb::deposit_trial_report_request::Part::Header(header)) },
            pb::DepositTrialReportRequest { part: Some(pb::deposit_trial_report_request::Part::Chunk(b"trial report".to_vec())) },
        ];
        let unit = (role == Role::Unit).then_some("U-CIVIL");
        self.client(role, unit).deposit_trial_report(futures::stream::iter(parts)).await.map(|r| r.into_inner())
    }
}

pub async fn upload(mut c: Client, header: pb::MaterialHeader, content: &[u8]) -> Result<pb::Material, tonic::Status> {
    let mut parts = vec![pb::UploadMaterialRequest { part: Some(pb::upload_material_request::Part::Header(header)) }];
    parts.push(pb::UploadMaterialRequest { part: Some(pb::upload_material_request::Part::Chunk(content.to_vec())) });
    c.upload_material(futures::stream::iter(parts)).await.map(|r| r.into_inner())
}

pub fn member(name: &str, specialty: pb::Specialty, passes: bool) -> pb::PanelMember {
    pb::PanelMember {
        name: name.into(),
        specialties: vec![specialty as i32],
        affiliation: "浙江大学".into(),
        affiliation_credit_code: "12330000470003281Q".into(),
        opinion: "功能完整，同意".into(),
        passes,
    }
}

pub fn panel(votes: &[bool]) -> Vec<pb::PanelMember> {
    let s = [pb::Specialty::InformationTechnology, pb::Specialty::Cybersecurity, pb::Specialty::BusinessDomain];
    votes.iter().enumerate().map(|(i, v)| member(&format!("专家{i}"), s[i % 3], *v)).collect()
}

pub fn day(d: Date) -> Option<CivilDate> {
    Some(civil(d))
}

/// Rule ids of a refusal.
pub fn rules(s: &tonic::Status) -> Vec<String> {
    egov_platform::error::status_rule_ids(s)
}

pub fn fields(s: &tonic::Status) -> Vec<String> {
    egov_platform::error::status_fields(s)
}
