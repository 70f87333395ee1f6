//! Builds and runs the review service on the platform runtime.

use std::sync::Arc;

use egov_platform::documents::DocumentStore;
use egov_platform::{
    config::Settings,
    server::{Platform, ServiceApp},
};
use egov_proto::review::{expert_review_server::ExpertReviewServer, review_server::ReviewServer};
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{
    grpc::{
        ReviewApi, ReviewState,
        expert::{ExpertApi, ExpertState},
        roles,
    },
    jobs::ReviewTimers,
    messaging::{self, ReviewConsumer},
};

/// Review's migrations (versions from 100; the platform's come first).
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SERVICE_NAME: &str = "egov.review.v1.Review";
pub const EXPERT_SERVICE_NAME: &str = "egov.review.v1.ExpertReview";

pub struct Application {
    platform: Platform,
    state: Arc<ReviewState>,
    experts: Arc<ExpertState>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, anyhow::Error> {
        let documents = DocumentStore::local(&settings.documents.dir, settings.documents.max_bytes)?;
        let mut platform = Platform::build(settings, &MIGRATIONS).await.map_err(|e| anyhow::anyhow!(e))?;
        let state = Arc::new(ReviewState { pool: platform.pool.clone(), clock: platform.clock.clone(), policy: platform.policy.clone() });
        platform
            .spawn_consumer(
                "review",
                messaging::BINDINGS,
                Arc::new(ReviewConsumer { clock: platform.clock.clone(), policy: platform.policy.clone() }),
            )
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        platform.spawn_timers(Arc::new(ReviewTimers { clock: platform.clock.clone() }));
        let experts = Arc::new(ExpertState {
            pool: platform.pool.clone(),
            clock: platform.clock.clone(),
            policy: platform.policy.clone(),
            documents,
        });
        Ok(Application { platform, state, experts })
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
        let routes = Routes::new(ReviewServer::new(ReviewApi::new(self.state)))
            .add_service(ExpertReviewServer::new(ExpertApi::new(self.experts)).max_decoding_message_size(8 * 1024 * 1024));
        self.platform.serve(routes, &[SERVICE_NAME, EXPERT_SERVICE_NAME], roles::table()).await
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
