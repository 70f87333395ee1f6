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
    app::Review,
    grpc::{ReviewApi, expert::ExpertApi, roles},
    jobs::ReviewTimers,
    messaging::{self, ReviewConsumer},
};

/// Review's migrations (versions from 100; the platform's come first).
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SERVICE_NAME: &str = "egov.review.v1.Review";
pub const EXPERT_SERVICE_NAME: &str = "egov.review.v1.ExpertReview";

pub struct Application {
    platform: Platform,
    /// The use cases, shared by both gRPC services, the consumer and the timers.
    app: Arc<Review>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, anyhow::Error> {
        let documents = DocumentStore::from_settings(&settings.documents)?;
        let mut platform = Platform::build(settings, &MIGRATIONS).await.map_err(|e| anyhow::anyhow!(e))?;
        let app = Arc::new(Review::new(platform.pool.clone(), platform.clock.clone(), platform.policy.clone(), documents));
        platform
            .spawn_consumer("review", messaging::BINDINGS, Arc::new(ReviewConsumer { app: app.clone() }))
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        platform.spawn_timers(Arc::new(ReviewTimers { app: app.clone() }));
        platform.provide_facts(Arc::new(crate::storage::StoredFacts(platform.pool.clone())));
        Ok(Application { platform, app })
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
        let routes = Routes::new(ReviewServer::new(ReviewApi::new(self.app.clone())))
            .add_service(ExpertReviewServer::new(ExpertApi::new(self.app)).max_decoding_message_size(8 * 1024 * 1024));
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
