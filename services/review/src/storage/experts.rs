//! The expert pool and expert review meetings, and the pipeline's view of both.

use egov_platform::{
    error::AppError,
    transition::{Load, Stored},
};
use sqlx::{PgConnection, Row, postgres::PgRow};
use uuid::Uuid;

use crate::domain::{
    meeting::{Meeting, PoolExpert},
    panel::Expert,
};

fn expert_row(r: &PgRow) -> Result<PoolExpert, sqlx::Error> {
    Ok(PoolExpert {
        expert: Expert {
            expert_id: r.try_get("expert_id")?,
            name: r.try_get("name")?,
            specialties: r.try_get("specialties")?,
            affiliation: r.try_get("affiliation")?,
            available: r.try_get("available")?,
        },
        version: r.try_get("version")?,
    })
}

impl Stored for PoolExpert {
    /// `false` when an expert with the same id is in the pool already.
    async fn insert(&self, c: &mut PgConnection) -> Result<bool, AppError> {
        let e = &self.expert;
        let n = sqlx::query(
            "INSERT INTO experts (expert_id, name, specialties, affiliation, available, version) VALUES ($1,$2,$3,$4,$5,$6)
             ON CONFLICT (expert_id) DO NOTHING",
        )
        .bind(&e.expert_id)
        .bind(&e.name)
        .bind(&e.specialties)
        .bind(&e.affiliation)
        .bind(e.available)
        .bind(self.version)
        .execute(c)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn update(&self, c: &mut PgConnection, expected: i64) -> Result<bool, AppError> {
        let e = &self.expert;
        let n = sqlx::query(
            "UPDATE experts SET name = $2, specialties = $3, affiliation = $4, available = $5, version = $6
             WHERE expert_id = $1 AND version = $7",
        )
        .bind(&e.expert_id)
        .bind(&e.name)
        .bind(&e.specialties)
        .bind(&e.affiliation)
        .bind(e.available)
        .bind(self.version)
        .bind(expected)
        .execute(c)
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}

impl Load for PoolExpert {
    type Id = String;
    async fn load(c: &mut PgConnection, id: &String, lock: bool) -> Result<Option<PoolExpert>, AppError> {
        let sql = if lock { "SELECT * FROM experts WHERE expert_id = $1 FOR UPDATE" } else { "SELECT * FROM experts WHERE expert_id = $1" };
        let r = sqlx::query(sql).bind(id).fetch_optional(c).await?;
        Ok(r.as_ref().map(expert_row).transpose()?)
    }
}

pub(crate) async fn list_experts(
    c: &mut PgConnection,
    specialty: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<PoolExpert>, AppError> {
    let rows = sqlx::query(
        "SELECT * FROM experts WHERE ($1::text IS NULL OR $1 = ANY(specialties)) AND expert_id > $2 ORDER BY expert_id LIMIT $3",
    )
    .bind(specialty)
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(expert_row).collect::<Result<_, _>>().map_err(Into::into)
}

/// The whole pool, for a draw.
pub(crate) async fn pool(c: &mut PgConnection) -> Result<Vec<Expert>, AppError> {
    let rows = sqlx::query("SELECT * FROM experts ORDER BY expert_id").fetch_all(c).await?;
    rows.iter().map(|r| expert_row(r).map(|e| e.expert)).collect::<Result<_, _>>().map_err(Into::into)
}

fn body(m: &Meeting) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(m).map_err(|e| AppError::Internal(e.into()))
}

impl Stored for Meeting {
    async fn insert(&self, c: &mut PgConnection) -> Result<bool, AppError> {
        let n = sqlx::query(
            "INSERT INTO expert_meetings (meeting_id, held_on, version, created_at, body) VALUES ($1,$2,$3,$4,$5)
             ON CONFLICT (meeting_id) DO NOTHING",
        )
        .bind(self.meeting_id)
        .bind(self.held_on)
        .bind(self.version)
        .bind(self.created_at)
        .bind(body(self)?)
        .execute(c)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn update(&self, c: &mut PgConnection, expected: i64) -> Result<bool, AppError> {
        let n = sqlx::query("UPDATE expert_meetings SET version = $2, body = $3 WHERE meeting_id = $1 AND version = $4")
            .bind(self.meeting_id)
            .bind(self.version)
            .bind(body(self)?)
            .bind(expected)
            .execute(c)
            .await?
            .rows_affected();
        Ok(n == 1)
    }
}

impl Load for Meeting {
    type Id = Uuid;
    async fn load(c: &mut PgConnection, id: &Uuid, lock: bool) -> Result<Option<Meeting>, AppError> {
        let sql = if lock {
            "SELECT body FROM expert_meetings WHERE meeting_id = $1 FOR UPDATE"
        } else {
            "SELECT body FROM expert_meetings WHERE meeting_id = $1"
        };
        let r = sqlx::query(sql).bind(id).fetch_optional(c).await?;
        let body: Option<serde_json::Value> = r.map(|r| r.try_get("body")).transpose()?;
        body.map(|b| serde_json::from_value(b).map_err(|e| AppError::Internal(anyhow::anyhow!("stored meeting is unreadable: {e}"))))
            .transpose()
    }
}
