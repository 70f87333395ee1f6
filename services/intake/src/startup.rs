//! Builds and runs the intake service on the platform runtime.

use std::{sync::Arc, time::Duration};

use egov_platform::{
    config::Settings,
    documents::DocumentStore,
    peers::PeerAuth,
    server::ServiceApp,
    server::{Platform, StartError},
};
use egov_proto::intake::intake_server::IntakeServer;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{
    app::Intake,
    evaluation::{GrpcEvaluation, SharedEvaluation},
    grpc::{IntakeApi, roles},
    jobs::IntakeTimers,
    messaging::{self, TimelineProjector},
};

/// Intake's migrations (versions from 100; the platform's come first).
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The gRPC service name, as health and reflection report it.
pub const SERVICE_NAME: &str = "egov.intake.v1.Intake";

pub struct Application {
    platform: Platform,
    app: Arc<Intake>,
}

impl Application {
    /// Binds, connects, migrates and starts background work; serves once `run` is called.
    pub async fn build(settings: Settings) -> Result<Application, anyhow::Error> {
        Self::build_with(settings, None).await
    }

    /// As `build`, with an evaluation port supplied (tests wire a real in-test gRPC server
    /// through the configured endpoint instead; this is for other adapters).
    pub async fn build_with(settings: Settings, evaluation: Option<SharedEvaluation>) -> Result<Application, anyhow::Error> {
        let documents = DocumentStore::from_settings(&settings.documents)?;
        let evaluation = match evaluation {
            Some(e) => Some(e),
            None if settings.peers.evaluation.trim().is_empty() => {
                tracing::warn!(
                    "no evaluation service configured (peers.evaluation is empty): R-I9 screening will be flagged as not performed"
                );
                None
            }
            None => {
                let auth = PeerAuth::from_settings(&settings).map_err(|e| anyhow::anyhow!(e))?;
                let timeout = Duration::from_secs(settings.peers.timeout_secs);
                Some(Arc::new(GrpcEvaluation::new(&settings.peers.evaluation, &auth, timeout)?) as SharedEvaluation)
            }
        };
        let mut platform = Platform::build(settings, &MIGRATIONS).await.map_err(|e: StartError| anyhow::anyhow!(e))?;
        let app = Arc::new(Intake::new(platform.pool.clone(), platform.clock.clone(), platform.policy.clone(), documents, evaluation));
        platform
            .spawn_consumer("intake", messaging::BINDINGS, Arc::new(TimelineProjector { app: app.clone() }))
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        platform.spawn_timers(Arc::new(IntakeTimers { app: app.clone() }));
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

    pub fn pool(&self) -> sqlx::PgPool {
        self.platform.pool.clone()
    }

    pub fn clock(&self) -> egov_platform::clock::SharedClock {
        self.platform.clock.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let routes = Routes::new(IntakeServer::new(IntakeApi::new(self.app)).max_decoding_message_size(8 * 1024 * 1024));
        self.platform.serve(routes, &[SERVICE_NAME], roles::table()).await
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
