//! DRB's random inspection draws (抽查, R-P7): reproducible from the recorded pool and seed.

use egov_platform::{
    AppError,
    audit::{self, AuditEntry},
    auth::Principal,
    convert as c, idempotency, outbox, paging,
};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    procurement as pb,
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use tonic::{Request, Response};
use uuid::Uuid;

use super::{ProcurementApi, R, actor};
use crate::{
    domain::{CaseState, InspectionDraw, progress},
    messaging::{self, types},
    storage,
};

/// The most projects one draw may ask for.
const MAX_DRAW: u32 = 1000;

fn draw_pb(d: &InspectionDraw) -> pb::InspectionDraw {
    pb::InspectionDraw {
        draw_id: d.draw_id.to_string(),
        seed: d.seed,
        count: d.count,
        pool: d.pool.clone(),
        drawn: d.drawn.clone(),
        drawn_at: Some(c::timestamp(d.drawn_at)),
        drawn_by: d.drawn_by.clone(),
        note: d.note.clone(),
    }
}

impl ProcurementApi {
    pub(super) async fn draw_inspections_impl(&self, req: Request<pb::DrawInspectionsRequest>) -> R<pb::InspectionDraw> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = c::Fields::new();
        let request_id = f.take(idempotency::request_id("request_id", &r.request_id)).unwrap_or_default();
        if r.count == 0 || r.count > MAX_DRAW {
            f.push("count", format!("how many projects to draw, 1 to {MAX_DRAW}"));
        }
        f.finish()?;
        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        if let Some(existing) = idempotency::lookup(&mut tx, "DrawInspections", &request_id).await? {
            let id = Uuid::parse_str(&existing).map_err(|e| AppError::Internal(anyhow::anyhow!("stored draw id {existing}: {e}")))?;
            return Ok(Response::new(draw_pb(&storage::get_draw(&mut tx, id).await?)));
        }
        let pool = storage::case_ids_in(&mut tx, CaseState::Construction).await?;
        let seed = match r.seed {
            Some(s) => s,
            None => StdRng::try_from_os_rng().map_err(|e| AppError::Internal(anyhow::anyhow!("no seed from the OS: {e}")))?.random(),
        };
        let drawn = progress::draw_inspections(&pool, r.count as usize, seed);
        let policy = self.s.policy.in_force(egov_platform::clock::civil_date(now));
        let draw = InspectionDraw {
            draw_id: Uuid::now_v7(),
            seed,
            count: r.count,
            pool,
            drawn,
            drawn_at: now,
            drawn_by: actor(&p),
            note: r.note.trim().into(),
            policy_version: policy.version.clone(),
        };
        storage::insert_draw(&mut tx, &draw).await?;
        idempotency::record(&mut tx, "DrawInspections", &request_id, &draw.draw_id.to_string()).await?;
        let entry = AuditEntry::by(&p, "DrawInspections", format!("inspection-draws/{}", draw.draw_id))
            .rules(&["R-P7"])
            .policy(&draw.policy_version)
            .request(&request_id)
            .details(serde_json::json!({ "seed": draw.seed, "count": draw.count, "pool_size": draw.pool.len(), "drawn": draw.drawn }));
        audit::append(&mut tx, now, &entry).await?;
        for project in &draw.drawn {
            let summary = format!("抽查 / drawn for DRB's random inspection (draw {}, R-P7)", draw.draw_id);
            let payload = Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: String::new(), summary });
            let e = outbox::envelope(messaging::PRODUCER, types::INSPECTION_DRAWN, project, &draw.policy_version, now, payload);
            outbox::enqueue(&mut tx, &e).await?;
        }
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(draw_pb(&draw)))
    }

    pub(super) async fn get_inspection_draw_impl(&self, req: Request<pb::GetInspectionDrawRequest>) -> R<pb::InspectionDraw> {
        let id = c::uuid("draw_id", &req.get_ref().draw_id).map_err(AppError::from)?;
        let mut conn = self.s.pool.acquire().await.map_err(AppError::from)?;
        Ok(Response::new(draw_pb(&storage::get_draw(&mut conn, id).await?)))
    }

    pub(super) async fn list_inspection_draws_impl(
        &self,
        req: Request<pb::ListInspectionDrawsRequest>,
    ) -> R<pb::ListInspectionDrawsResponse> {
        let r = req.into_inner();
        let limit = paging::page_size(r.page_size).map_err(AppError::from)?;
        let before = if r.page_token.is_empty() { None } else { Some(c::uuid("page_token", &r.page_token).map_err(AppError::from)?) };
        let mut conn = self.s.pool.acquire().await.map_err(AppError::from)?;
        let rows = storage::list_draws(&mut conn, before, limit + 1).await?;
        let (rows, next) = paging::page(rows, limit, |d| d.draw_id.to_string());
        Ok(Response::new(pb::ListInspectionDrawsResponse { draws: rows.iter().map(draw_pb).collect(), next_page_token: next }))
    }
}
