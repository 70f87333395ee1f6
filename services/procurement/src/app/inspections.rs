//! DRB's random inspection draws (抽查, R-P7): drawn among the projects under construction from a
//! given or generated seed, stored with the pool, recorded on the draw's and each drawn
//! project's trail. A retry with the same request id answers with the same draw.

use egov_platform::{AppError, auth::Principal, idempotency, request::Page, transition};
use rand::{Rng, SeedableRng, rngs::StdRng};
use tracing::instrument;
use uuid::Uuid;

use super::{Procurement, actor};
use crate::{
    domain::{
        CaseState, InspectionDraw,
        inspections::{self, DrawRequest},
    },
    storage,
};

/// What DRB asks for: how many, with which seed (one is generated when none is given), why.
#[derive(Debug, Clone)]
pub(crate) struct DrawCommand {
    pub count: u32,
    pub seed: Option<u64>,
    pub note: String,
}

impl Procurement {
    #[instrument(skip_all, err)]
    pub(crate) async fn draw_inspections(&self, p: &Principal, request_id: &str, cmd: DrawCommand) -> Result<InspectionDraw, AppError> {
        let origin = self.origin(p, request_id);
        let mut tx = self.begin().await?;
        if let Some(existing) = idempotency::lookup(&mut tx, "DrawInspections", request_id).await? {
            let id = Uuid::parse_str(&existing).map_err(|e| AppError::Internal(anyhow::anyhow!("stored draw id {existing}: {e}")))?;
            return storage::get_draw(&mut tx, id).await;
        }
        let pool = storage::case_ids_in(&mut tx, CaseState::Construction).await?;
        let seed = match cmd.seed {
            Some(s) => s,
            None => StdRng::try_from_os_rng().map_err(|e| AppError::Internal(anyhow::anyhow!("no seed from the OS: {e}")))?.random(),
        };
        let policy = self.policy.in_force(egov_platform::clock::civil_date(origin.at));
        let request = DrawRequest { count: cmd.count, seed, note: cmd.note };
        let ctx = transition::Context::new(origin.at, &policy);
        let drawn = inspections::draw(Uuid::now_v7(), pool, request, &actor(p), ctx);
        let draw = drawn.draw;
        storage::insert_draw(&mut tx, &draw).await?;
        idempotency::record(&mut tx, "DrawInspections", request_id, &draw.draw_id.to_string()).await?;
        let resource = format!("inspection-draws/{}", draw.draw_id);
        transition::record(&mut tx, &origin, &resource, "", &draw.policy_version, drawn.effects).await?;
        for (project, effects) in drawn.notices {
            transition::record(&mut tx, &origin, &resource, &project, &draw.policy_version, effects).await?;
        }
        tx.commit().await?;
        Ok(draw)
    }

    pub(crate) async fn get_inspection_draw(&self, id: Uuid) -> Result<InspectionDraw, AppError> {
        storage::get_draw(&mut *self.pool.acquire().await?, id).await
    }

    /// Draws newest first; the page token is the last draw id of the previous page.
    pub(crate) async fn list_inspection_draws(&self, page: Page<Uuid>) -> Result<(Vec<InspectionDraw>, String), AppError> {
        let rows = storage::list_draws(&mut *self.pool.acquire().await?, page.after, page.size + 1).await?;
        Ok(egov_platform::paging::page(rows, page.size, |d| d.draw_id.to_string()))
    }
}
