//! Builds and runs the procurement service on the platform runtime.

use std::sync::Arc;

use egov_platform::{
    config::Settings,
    server::{Platform, ServiceApp},
};
use egov_proto::procurement::procurement_server::ProcurementServer;
use tonic::service::Routes;

use crate::{
    grpc::{ProcurementApi, ProcurementState, roles},
    jobs::ProcurementTimers,
    messaging::{self, ProcurementConsumer},
};

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SERVICE_NAME: &str = "egov.procurement.v1.Procurement";

pub struct Application {
    platform: Platform,
    state: Arc<ProcurementState>,
}

impl ServiceApp for Application {
    async fn build(settings: Settings) -> anyhow::Result<Application> {
        let mut platform = Platform::build(settings, &MIGRATIONS).await.map_err(|e| anyhow::anyhow!(e))?;
        let mut calendar = egov_calendar::Calendar::official().map_err(|e| anyhow::anyhow!("the official working-day calendar: {e}"))?;
        let dir = platform.settings.policy.calendar_dir.trim();
        if !dir.is_empty() {
            calendar = calendar.load_dir(dir).map_err(|e| anyhow::anyhow!("policy.calendar_dir {dir:?}: {e}"))?;
        }
        let state = Arc::new(ProcurementState {
            pool: platform.pool.clone(),
            clock: platform.clock.clone(),
            policy: platform.policy.clone(),
            calendar,
        });
        platform
            .spawn_consumer(
                "procurement",
                messaging::BINDINGS,
                Arc::new(ProcurementConsumer { clock: platform.clock.clone(), policy: platform.policy.clone() }),
            )
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        platform.spawn_timers(Arc::new(ProcurementTimers { clock: platform.clock.clone(), policy: platform.policy.clone() }));
        Ok(Application { platform, state })
    }

    fn platform(&self) -> &Platform {
        &self.platform
    }

    async fn run_until_stopped(self) -> anyhow::Result<()> {
        let routes = Routes::new(ProcurementServer::new(ProcurementApi::new(self.state)));
        self.platform.serve(routes, &[SERVICE_NAME], roles::table()).await
    }
}
