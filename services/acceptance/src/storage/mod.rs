//! Acceptance's repositories over PostgreSQL. Every write runs in the caller's transaction (the
//! pipeline's commit), so a case change, its audit record, its outbox rows and its timers commit
//! together; updates are guarded by the case's version.

mod facts;
pub(crate) use facts::StoredFacts;

use egov_platform::{
    error::AppError,
    transition::{self, Load, Stored},
};
use sqlx::{PgConnection, Row, postgres::PgRow};
use uuid::Uuid;

use crate::domain::{AcceptanceCase, CaseState};

fn body(k: &AcceptanceCase) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(k).map_err(|e| AppError::Internal(e.into()))
}

fn case_row(r: &PgRow) -> Result<AcceptanceCase, AppError> {
    let v: serde_json::Value = r.try_get("body")?;
    serde_json::from_value(v).map_err(|e| AppError::Internal(anyhow::anyhow!("stored acceptance case is unreadable: {e}")))
}

/// Indexes the case's materials by document id (new ones only).
async fn index_materials(c: &mut PgConnection, k: &AcceptanceCase) -> Result<(), AppError> {
    let ids: Vec<Uuid> = k.materials.iter().map(|m| m.document_id).collect();
    sqlx::query("INSERT INTO acceptance_materials (document_id, project_id) SELECT unnest($1::uuid[]), $2 ON CONFLICT DO NOTHING")
        .bind(&ids)
        .bind(k.project_id)
        .execute(c)
        .await?;
    Ok(())
}

impl Stored for AcceptanceCase {
    async fn insert(&self, c: &mut PgConnection) -> Result<bool, AppError> {
        let n = sqlx::query(
            "INSERT INTO acceptance_cases (project_id, lead_unit_id, participating_unit_ids, state, version, opened_at, body)
             VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (project_id) DO NOTHING",
        )
        .bind(self.project_id)
        .bind(&self.handover.lead_unit_id)
        .bind(&self.handover.participating_unit_ids)
        .bind(self.state.as_str())
        .bind(self.version)
        .bind(self.opened_at)
        .bind(body(self)?)
        .execute(&mut *c)
        .await?
        .rows_affected();
        if n == 1 {
            index_materials(c, self).await?;
        }
        Ok(n == 1)
    }

    async fn update(&self, c: &mut PgConnection, expected: i64) -> Result<bool, AppError> {
        let n = sqlx::query("UPDATE acceptance_cases SET state = $2, version = $3, body = $4 WHERE project_id = $1 AND version = $5")
            .bind(self.project_id)
            .bind(self.state.as_str())
            .bind(self.version)
            .bind(body(self)?)
            .bind(expected)
            .execute(&mut *c)
            .await?
            .rows_affected();
        if n == 1 {
            index_materials(c, self).await?;
        }
        Ok(n == 1)
    }
}

impl Load for AcceptanceCase {
    type Id = Uuid;
    async fn load(c: &mut PgConnection, id: &Uuid, lock: bool) -> Result<Option<AcceptanceCase>, AppError> {
        let sql = if lock {
            "SELECT body FROM acceptance_cases WHERE project_id = $1 FOR UPDATE"
        } else {
            "SELECT body FROM acceptance_cases WHERE project_id = $1"
        };
        let r = sqlx::query(sql).bind(id).fetch_optional(c).await?;
        r.as_ref().map(case_row).transpose()
    }
}

pub(crate) async fn get_case(c: &mut PgConnection, id: Uuid, lock: bool) -> Result<AcceptanceCase, AppError> {
    transition::load(c, &id, lock).await
}

pub(crate) async fn find_case(c: &mut PgConnection, id: Uuid, lock: bool) -> Result<Option<AcceptanceCase>, AppError> {
    AcceptanceCase::load(c, &id, lock).await
}

/// The case that holds material `document_id`.
pub(crate) async fn case_of_material(c: &mut PgConnection, document_id: Uuid) -> Result<AcceptanceCase, AppError> {
    let id: Option<Uuid> = sqlx::query_scalar("SELECT project_id FROM acceptance_materials WHERE document_id = $1")
        .bind(document_id)
        .fetch_optional(&mut *c)
        .await?;
    let id = id.ok_or_else(|| AppError::NotFound(format!("material {document_id}")))?;
    get_case(c, id, false).await
}

/// Cases of a unit (lead or participating) and/or in a state, by project id.
pub(crate) async fn list_cases(
    c: &mut PgConnection,
    unit: Option<&str>,
    state: Option<CaseState>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<AcceptanceCase>, AppError> {
    let rows = sqlx::query(
        "SELECT body FROM acceptance_cases WHERE ($1::text IS NULL OR lead_unit_id = $1 OR $1 = ANY(participating_unit_ids))
           AND ($2::text IS NULL OR state = $2) AND ($3::uuid IS NULL OR project_id > $3) ORDER BY project_id LIMIT $4",
    )
    .bind(unit)
    .bind(state.map(|s| s.as_str()))
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(case_row).collect()
}
