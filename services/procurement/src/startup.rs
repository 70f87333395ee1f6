//! Builds and runs the procurement service on the platform runtime.

use std::sync::Arc;

use egov_platform::{
    config::Settings,
    server::{Platform, ServiceApp},
};
use egov_proto::procurement::procurement_server::ProcurementServer;
use tonic::service::Routes;

use crate::{
    app::{Procurement, SERVICE},
    grpc::{ProcurementApi, roles},
    jobs::ProcurementTimers,
    messaging::{self, ProcurementConsumer},
};

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SERVICE_NAME: &str = "egov.procurement.v1.Procurement";

pub struct Application {
    platform: Platform,
    app: Arc<Procurement>,
}

impl ServiceApp for Application {
    async fn build(settings: Settings) -> anyhow::Result<Application> {
        let mut platform = Platform::build(settings, &MIGRATIONS).await.map_err(|e| anyhow::anyhow!(e))?;
        let dir = platform.settings.policy.calendar_dir.trim();
        let calendar = egov_calendar::Calendar::configured(dir).map_err(|e| anyhow::anyhow!("policy.calendar_dir {dir}: {e}"))?;
        let app = Arc::new(Procurement::new(platform.pool.clone(), platform.clock.clone(), platform.policy.clone(), calendar));
        platform
            .spawn_consumer(SERVICE, messaging::BINDINGS, Arc::new(ProcurementConsumer { app: app.clone() }))
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        platform.spawn_timers(Arc::new(ProcurementTimers { app: app.clone() }));
        platform.provide_facts(Arc::new(crate::storage::StoredFacts(platform.pool.clone())));
        Ok(Application { platform, app })
    }

    fn platform(&self) -> &Platform {
        &self.platform
    }

    async fn run_until_stopped(self) -> anyhow::Result<()> {
        let routes = Routes::new(ProcurementServer::new(ProcurementApi::new(self.app)));
        self.platform.serve(routes, &[SERVICE_NAME], roles::table()).await
    }
}
