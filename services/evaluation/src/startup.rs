//! Builds and runs the evaluation service on the platform runtime.

use std::sync::Arc;

use egov_platform::{
    config::Settings,
    documents::DocumentStore,
    server::{Platform, ServiceApp, StartError},
};
use egov_proto::evaluation::{evaluation_queries_server::EvaluationQueriesServer, evaluations_server::EvaluationsServer};
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{
    app::Evaluation,
    grpc::{EvaluationApi, roles},
    jobs::EvaluationTimers,
    messaging::{self, AcceptedProjects},
};

/// Evaluation's migrations (versions from 100; the platform's come first).
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The gRPC service names, as health and reflection report them.
pub const SERVICE_NAMES: [&str; 2] = ["egov.evaluation.v1.Evaluations", "egov.evaluation.v1.EvaluationQueries"];

pub struct Application {
    platform: Platform,
    app: Arc<Evaluation>,
}

impl Application {
    /// Binds, connects, migrates and starts background work; serves once `run` is called.
    pub async fn build(settings: Settings) -> Result<Application, anyhow::Error> {
        let documents = DocumentStore::from_settings(&settings.documents)?;
        let mut platform = Platform::build(settings, &MIGRATIONS).await.map_err(|e: StartError| anyhow::anyhow!(e))?;
        let app = Arc::new(Evaluation::new(platform.pool.clone(), platform.clock.clone(), platform.policy.clone(), documents));
        platform
            .spawn_consumer("evaluation", messaging::BINDINGS, Arc::new(AcceptedProjects { app: app.clone() }))
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        platform.spawn_timers(Arc::new(EvaluationTimers { app: app.clone() }));
        platform.provide_facts(Arc::new(crate::storage::StoredFacts(platform.pool.clone())));
        Ok(Application { platform, app })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.platform.local_addr()
    }

    /// Fires to stop the service (tests; `main` wires SIGTERM to it).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.platform.shutdown.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let api = EvaluationApi::new(self.app);
        let routes = Routes::new(EvaluationsServer::new(api.clone()).max_decoding_message_size(8 * 1024 * 1024))
            .add_service(EvaluationQueriesServer::new(api));
        self.platform.serve(routes, &SERVICE_NAMES, roles::table()).await
    }
}

impl ServiceApp for Application {
    async fn build(settings: Settings) -> anyhow::Result<Application> {
        Application::build(settings).await
    }

    fn platform(&self) -> &Platform {
        &self.platform
    }

    async fn run_until_stopped(self) -> anyhow::Result<()> {
        Application::run_until_stopped(self).await
    }
}
