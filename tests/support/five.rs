//! The five services started as the lifecycle suite starts them: each with its own database, one
//! virtual host, peers wired over gRPC. Included by the suites that need all five
//! (`#[path = "support/five.rs"] mod five;`).

use egov_platform::{
    auth::RoleTable,
    testing::{RunningService, TestDatabase, TestVhost, test_settings},
};

pub struct Five {
    pub intake: RunningService,
    pub review: RunningService,
    pub procurement: RunningService,
    pub acceptance: RunningService,
    pub evaluation: RunningService,
    _vhost: TestVhost,
    _dbs: Vec<TestDatabase>,
}

impl Five {
    pub async fn start() -> Five {
        let vhost = TestVhost::create().await.expect("test vhost");
        let mut dbs = Vec::new();
        for _ in 0..5 {
            dbs.push(TestDatabase::create().await.expect("test database"));
        }
        // Five services a suite, suites in parallel: small pools keep PostgreSQL's connections.
        let settings = |name: &str, db: &TestDatabase| {
            let mut s = test_settings(name, db, &vhost);
            s.database.max_connections = 4;
            s.timers.concurrency = 2;
            s
        };
        let evaluation = RunningService::start::<egov_evaluation::startup::Application>(settings("evaluation", &dbs[4]))
            .await
            .expect("evaluation starts");
        let mut is = settings("intake", &dbs[0]);
        is.peers.evaluation = format!("http://{}", evaluation.addr);
        let intake = RunningService::start::<egov_intake::startup::Application>(is).await.expect("intake starts");
        let review = RunningService::start::<egov_review::startup::Application>(settings("review", &dbs[1])).await.expect("review starts");
        let procurement = RunningService::start::<egov_procurement::startup::Application>(settings("procurement", &dbs[2]))
            .await
            .expect("procurement starts");
        let mut acs = settings("acceptance", &dbs[3]);
        acs.peers.review = format!("http://{}", review.addr);
        acs.peers.procurement = format!("http://{}", procurement.addr);
        let acceptance = RunningService::start::<egov_acceptance::startup::Application>(acs).await.expect("acceptance starts");
        Five { intake, review, procurement, acceptance, evaluation, _vhost: vhost, _dbs: dbs }
    }

    /// `(name, service, its role table)` in lifecycle order.
    pub fn all(&self) -> [(&'static str, &RunningService, RoleTable); 5] {
        [
            ("intake", &self.intake, egov_intake::grpc::roles::table()),
            ("review", &self.review, egov_review::grpc::roles::table()),
            ("procurement", &self.procurement, egov_procurement::grpc::roles::table()),
            ("acceptance", &self.acceptance, egov_acceptance::grpc::roles::table()),
            ("evaluation", &self.evaluation, egov_evaluation::grpc::roles::table()),
        ]
    }
}
