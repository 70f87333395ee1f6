//! Builds and runs the review service on the platform runtime.

use std::sync::Arc;

use egov_platform::{
    config::Settings,
    server::{Platform, ServiceApp},
};
use egov_proto::review::review_server::ReviewServer;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{
    grpc::{ReviewApi, ReviewState, roles},
    jobs::ReviewTimers,
    messaging::{self, ReviewConsumer},
};

/// Review's migrations (versions from 100; the platform's come first).
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SERVICE_NAME: &str = "egov.review.v1.Review";

pub struct Application {
    platform: Platform,
    state: Arc<ReviewState>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, anyhow::Error> {
        let mut platform = Platform::build(settings, &MIGRATIONS).await.map_err(|e| anyhow::anyhow!(e))?;
        let state = Arc::new(ReviewState { pool: platform.pool.clone(), clock: platform.clock.clone(), policy: platform.policy.clone() });
        platform.spawn_consumer(
            "review",
            messaging::BINDINGS,
            Arc::new(ReviewConsumer { clock: platform.clock.clone(), policy: platform.policy.clone() }),
        );
        platform.spawn_timers(Arc::new(ReviewTimers { clock: platform.clock.clone() }));
        Ok(Application { platform, state })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.platform.local_addr()
    }

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
        let routes = Routes::new(ReviewServer::new(ReviewApi::new(self.state)));
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
