//! Builds and runs the acceptance service on the platform runtime.

use std::{sync::Arc, time::Duration};

use egov_platform::{
    config::Settings,
    documents::DocumentStore,
    peers::PeerAuth,
    server::{Platform, ServiceApp},
};
use egov_proto::acceptance::acceptance_server::AcceptanceServer;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{
    app::Acceptance,
    basis::{GrpcBasis, SharedBasis},
    domain::events::BINDINGS,
    grpc::{AcceptanceApi, roles},
    jobs::AcceptanceTimers,
    messaging::AcceptanceConsumer,
};

/// Acceptance's migrations (versions from 100; the platform's come first).
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The gRPC service name, as health and reflection report it.
pub const SERVICE_NAME: &str = roles::SERVICE;

pub struct Application {
    platform: Platform,
    app: Arc<Acceptance>,
}

impl Application {
    /// Binds, connects, migrates and starts background work; serves once `run` is called. Review
    /// and procurement are asked over gRPC at the configured peers.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let auth = PeerAuth::from_settings(&settings).map_err(|e| anyhow::anyhow!(e))?;
        let timeout = Duration::from_secs(settings.peers.timeout_secs);
        let basis = Arc::new(GrpcBasis::new(&settings.peers.review, &settings.peers.procurement, &auth, timeout)?) as SharedBasis;
        Self::build_with(settings, basis).await
    }

    /// As `build`, with the port to review and procurement supplied (another adapter).
    pub async fn build_with(settings: Settings, basis: SharedBasis) -> anyhow::Result<Application> {
        let documents = DocumentStore::from_settings(&settings.documents)?;
        let calendar = egov_calendar::Calendar::configured(&settings.policy.calendar_dir)
            .map_err(|e| anyhow::anyhow!("policy.calendar_dir {:?}: {e}", settings.policy.calendar_dir))?;
        let mut platform = Platform::build(settings, &MIGRATIONS).await.map_err(|e| anyhow::anyhow!(e))?;
        let app = Arc::new(Acceptance::new(
            platform.pool.clone(),
            platform.clock.clone(),
            platform.policy.clone(),
            documents,
            Arc::new(calendar),
            basis,
        ));
        platform
            .spawn_consumer("acceptance", BINDINGS, Arc::new(AcceptanceConsumer { app: app.clone() }))
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        platform.spawn_timers(Arc::new(AcceptanceTimers { app: app.clone() }));
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
        let routes = Routes::new(AcceptanceServer::new(AcceptanceApi::new(self.app)).max_decoding_message_size(8 * 1024 * 1024));
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
