//! Procurement's repositories over PostgreSQL, and the pipeline's view of a case ([`Stored`],
//! [`Load`]). Every write runs in the caller's transaction; a case is stored as JSONB beside the
//! columns it is queried by, its updates guarded by its version (a stale etag is ABORTED).

mod facts;
pub(crate) use facts::StoredFacts;

use egov_platform::{
    error::AppError,
    transition::{Load, Stored},
};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::domain::{CaseState, InspectionDraw, ProcurementCase};

fn body(k: &ProcurementCase) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(k).map_err(|e| AppError::Internal(e.into()))
}

/// Inserts a case; false when it exists already (a redelivered approval).
async fn insert_case(c: &mut PgConnection, k: &ProcurementCase) -> Result<bool, AppError> {
    let n = sqlx::query(
        "INSERT INTO procurement_cases (project_id, lead_unit_id, state, version, opened_at, body) VALUES ($1,$2,$3,$4,$5,$6)
         ON CONFLICT (project_id) DO NOTHING",
    )
    .bind(k.project_id)
    .bind(&k.lead_unit_id)
    .bind(k.state.as_str())
    .bind(k.version)
    .bind(k.opened_at)
    .bind(body(k)?)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn find_case(c: &mut PgConnection, id: Uuid, lock: bool) -> Result<Option<ProcurementCase>, AppError> {
    let sql = if lock {
        "SELECT body FROM procurement_cases WHERE project_id = $1 FOR UPDATE"
    } else {
        "SELECT body FROM procurement_cases WHERE project_id = $1"
    };
    let r = sqlx::query(sql).bind(id).fetch_optional(c).await?;
    r.map(|r| {
        let v: serde_json::Value = r.try_get("body")?;
        serde_json::from_value(v).map_err(|e| AppError::Internal(anyhow::anyhow!("stored case is unreadable: {e}")))
    })
    .transpose()
}

/// Stores `k` if the stored version is still `expected`; false otherwise.
async fn update_case(c: &mut PgConnection, k: &ProcurementCase, expected: i64) -> Result<bool, AppError> {
    let n = sqlx::query("UPDATE procurement_cases SET state = $2, version = $3, body = $4 WHERE project_id = $1 AND version = $5")
        .bind(k.project_id)
        .bind(k.state.as_str())
        .bind(k.version)
        .bind(body(k)?)
        .bind(expected)
        .execute(c)
        .await?
        .rows_affected();
    Ok(n == 1)
}

impl Stored for ProcurementCase {
    async fn insert(&self, c: &mut PgConnection) -> Result<bool, AppError> {
        insert_case(c, self).await
    }
    async fn update(&self, c: &mut PgConnection, expected: i64) -> Result<bool, AppError> {
        update_case(c, self, expected).await
    }
}

impl Load for ProcurementCase {
    type Id = Uuid;
    async fn load(c: &mut PgConnection, id: &Uuid, lock: bool) -> Result<Option<ProcurementCase>, AppError> {
        find_case(c, *id, lock).await
    }
}

pub async fn list_cases(
    c: &mut PgConnection,
    unit: Option<&str>,
    state: Option<CaseState>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ProcurementCase>, AppError> {
    let rows = sqlx::query(
        "SELECT body FROM procurement_cases WHERE ($1::text IS NULL OR lead_unit_id = $1 OR body -> 'participating_unit_ids' ? $1)
           AND ($2::text IS NULL OR state = $2) AND ($3::uuid IS NULL OR project_id > $3) ORDER BY project_id LIMIT $4",
    )
    .bind(unit)
    .bind(state.map(|s| s.as_str()))
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            let v: serde_json::Value = r.try_get("body")?;
            serde_json::from_value(v).map_err(|e| AppError::Internal(anyhow::anyhow!("stored case is unreadable: {e}")))
        })
        .collect()
}

/// The ids of the cases in `state`, sorted (the pool of an inspection draw).
pub async fn case_ids_in(c: &mut PgConnection, state: CaseState) -> Result<Vec<String>, AppError> {
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT project_id FROM procurement_cases WHERE state = $1 ORDER BY project_id")
        .bind(state.as_str())
        .fetch_all(c)
        .await?;
    Ok(ids.into_iter().map(|i| i.to_string()).collect())
}

fn draw_body(d: &InspectionDraw) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(d).map_err(|e| AppError::Internal(e.into()))
}

fn read_draw(r: &sqlx::postgres::PgRow) -> Result<InspectionDraw, AppError> {
    let v: serde_json::Value = r.try_get("body")?;
    serde_json::from_value(v).map_err(|e| AppError::Internal(anyhow::anyhow!("stored inspection draw is unreadable: {e}")))
}

pub async fn insert_draw(c: &mut PgConnection, d: &InspectionDraw) -> Result<(), AppError> {
    sqlx::query("INSERT INTO inspection_draws (draw_id, drawn_at, body) VALUES ($1, $2, $3)")
        .bind(d.draw_id)
        .bind(d.drawn_at)
        .bind(draw_body(d)?)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn get_draw(c: &mut PgConnection, id: Uuid) -> Result<InspectionDraw, AppError> {
    let r = sqlx::query("SELECT body FROM inspection_draws WHERE draw_id = $1").bind(id).fetch_optional(c).await?;
    r.as_ref().map(read_draw).transpose()?.ok_or_else(|| AppError::NotFound(format!("inspection draw {id}")))
}

/// Draws newest first (draw ids are UUIDv7, so by id descending).
pub async fn list_draws(c: &mut PgConnection, before: Option<Uuid>, limit: i64) -> Result<Vec<InspectionDraw>, AppError> {
    let rows = sqlx::query("SELECT body FROM inspection_draws WHERE ($1::uuid IS NULL OR draw_id < $1) ORDER BY draw_id DESC LIMIT $2")
        .bind(before)
        .bind(limit)
        .fetch_all(c)
        .await?;
    rows.iter().map(read_draw).collect()
}
