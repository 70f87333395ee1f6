//! The running procurement service with its own database and virtual host, shared by the API
//! tests.

use egov_platform::{
    auth::{Bearer, Role},
    testing::{RunningService, TestDatabase, TestVhost, bearer, eventually, publish, test_settings, token},
};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    procurement::{self as pb, procurement_client::ProcurementClient},
};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

pub const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

pub struct App {
    pub svc: RunningService,
    pub vhost: TestVhost,
    _db: TestDatabase,
}

impl App {
    pub async fn spawn() -> App {
        App::spawn_with(|_| {}).await
    }

    /// The service with its test settings changed by `change`.
    pub async fn spawn_with(change: impl FnOnce(&mut egov_platform::config::Settings)) -> App {
        let db = TestDatabase::create().await.unwrap();
        let vhost = TestVhost::create().await.unwrap();
        let mut settings = test_settings("procurement", &db, &vhost);
        change(&mut settings);
        let svc = RunningService::start::<egov_procurement::startup::Application>(settings).await.unwrap();
        App { svc, vhost, _db: db }
    }

    pub fn client(&self, role: Role, unit: Option<&str>) -> ProcurementClient<InterceptedService<Channel, Bearer>> {
        ProcurementClient::with_interceptor(self.svc.channel.clone(), bearer(&token(role, unit)))
    }

    pub async fn publish(&self, e: &ev::EventEnvelope) {
        publish(&self.vhost.amqp_url(), &self.svc.settings.broker.exchange, e).await.unwrap();
    }

    pub async fn approved(&self, funding: &str, issued_on: time::Date) -> (String, ev::EventEnvelope) {
        let id = uuid::Uuid::now_v7().to_string();
        let e = egov_platform::outbox::envelope(
            "review",
            "review.project.approved",
            &id,
            "2026.1-draft",
            self.svc.clock.now(),
            Payload::ProjectApproved(ev::ProjectApproved {
                project_id: id.clone(),
                document_number: "上数〔2026〕9号".into(),
                issued_on: Some(egov_platform::convert::civil(issued_on)),
                issuers: vec!["DRB".into(), "DRC".into(), "FINANCE".into()],
                project_name: "社会救助一件事".into(),
                budget_fen: 10_000_000,
                funding_source: funding.into(),
                scope: "救助审核".into(),
                planned_construction_months: 12,
                lead_unit_id: "U-CIVIL".into(),
                ..Default::default()
            }),
        );
        self.publish(&e).await;
        let c = self.client(Role::Drb, None);
        eventually(WAIT, "case opened", || {
            let mut c = c.clone();
            let id = id.clone();
            async move { c.get_case(pb::GetCaseRequest { project_id: id }).await.is_ok() }
        })
        .await;
        (id, e)
    }

    /// A case approved today whose procurement (small public-resource trading, 9,000,000 of the
    /// 10,000,000 fen budget) is recorded today: its id and the procured case.
    pub async fn procured_today(&self, funding: &str) -> (String, pb::ProcurementCase) {
        let today = self.svc.clock.today();
        let (id, _) = self.approved(funding, today).await;
        let req = pb::RecordProcurementRequest {
            project_id: id.clone(),
            etag: self.case(&id).await.etag,
            record: Some(crate::cases::record("SMALL_PUBLIC_RESOURCE_TRADING", 9_000_000, today)),
            request_id: "rec".into(),
        };
        let k = self.client(Role::Unit, Some("U-CIVIL")).record_procurement(req).await.unwrap().into_inner();
        (id, k)
    }

    /// The case once every timer of it that is due on the service's clock has fired (after the
    /// clock moves, monthly report checks catch up one by one, each changing the etag).
    pub async fn settled(&self, id: &str) -> pb::ProcurementCase {
        let pool = self.svc.pool.clone();
        let clock = self.svc.clock.clone();
        eventually(WAIT, "the case's due timers have fired", || {
            let (pool, clock) = (pool.clone(), clock.clone());
            async move {
                let due: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM egov_timers WHERE (key = $1 OR starts_with(key, $1 || '/')) AND status = 'pending' AND due_at <= $2",
                )
                .bind(id)
                .bind(clock.now())
                .fetch_one(&pool)
                .await
                .unwrap();
                due == 0
            }
        })
        .await;
        self.case(id).await
    }

    pub async fn case(&self, id: &str) -> pb::ProcurementCase {
        self.client(Role::Drb, None).get_case(pb::GetCaseRequest { project_id: id.into() }).await.unwrap().into_inner()
    }
}
