//! Procurement's repositories; updates are version-guarded.

use egov_platform::error::AppError;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::domain::{CaseState, ProcurementCase};

fn body(k: &ProcurementCase) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(k).map_err(|e| AppError::Internal(e.into()))
}

/// Inserts a case; false when it exists already (a redelivered approval).
pub async fn insert_case(c: &mut PgConnection, k: &ProcurementCase) -> Result<bool, AppError> {
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

pub async fn get_case(c: &mut PgConnection, id: Uuid, lock: bool) -> Result<ProcurementCase, AppError> {
    find_case(c, id, lock).await?.ok_or_else(|| AppError::NotFound(format!("procurement case {id}")))
}

/// Stores `k` (version already incremented) if the stored version is `k.version - 1`.
pub async fn update_case(c: &mut PgConnection, k: &ProcurementCase) -> Result<(), AppError> {
    let n = sqlx::query("UPDATE procurement_cases SET state = $2, version = $3, body = $4 WHERE project_id = $1 AND version = $5")
        .bind(k.project_id)
        .bind(k.state.as_str())
        .bind(k.version)
        .bind(body(k)?)
        .bind(k.version - 1)
        .execute(c)
        .await?
        .rows_affected();
    if n == 0 { Err(AppError::Aborted("the case was changed by someone else (stale etag); read it again".into())) } else { Ok(()) }
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
