//! The expert pool and expert review meetings.

use egov_platform::error::AppError;
use sqlx::{PgConnection, Row, postgres::PgRow};
use uuid::Uuid;

use crate::domain::{meeting::Meeting, panel::Expert};

fn expert_row(r: &PgRow) -> Result<(Expert, i64), sqlx::Error> {
    Ok((
        Expert {
            expert_id: r.try_get("expert_id")?,
            name: r.try_get("name")?,
            specialties: r.try_get("specialties")?,
            affiliation: r.try_get("affiliation")?,
            available: r.try_get("available")?,
        },
        r.try_get("version")?,
    ))
}

pub async fn insert_expert(c: &mut PgConnection, e: &Expert) -> Result<(), AppError> {
    let r = sqlx::query("INSERT INTO experts (expert_id, name, specialties, affiliation, available, version) VALUES ($1,$2,$3,$4,$5,1)")
        .bind(&e.expert_id)
        .bind(&e.name)
        .bind(&e.specialties)
        .bind(&e.affiliation)
        .bind(e.available)
        .execute(c)
        .await;
    match r {
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            Err(AppError::AlreadyExists(format!("expert {} is already in the pool", e.expert_id)))
        }
        r => r.map(|_| ()).map_err(Into::into),
    }
}

pub async fn get_expert(c: &mut PgConnection, id: &str) -> Result<(Expert, i64), AppError> {
    let r = sqlx::query("SELECT * FROM experts WHERE expert_id = $1").bind(id).fetch_optional(c).await?;
    r.as_ref().map(expert_row).transpose()?.ok_or_else(|| AppError::NotFound(format!("expert {id}")))
}

pub async fn set_availability(c: &mut PgConnection, id: &str, available: bool, expected: i64) -> Result<(), AppError> {
    let n = sqlx::query("UPDATE experts SET available = $2, version = version + 1 WHERE expert_id = $1 AND version = $3")
        .bind(id)
        .bind(available)
        .bind(expected)
        .execute(c)
        .await?
        .rows_affected();
    if n == 0 { Err(AppError::Aborted("the expert was changed by someone else (stale etag)".into())) } else { Ok(()) }
}

pub async fn list_experts(c: &mut PgConnection, specialty: Option<&str>, after: &str, limit: i64) -> Result<Vec<(Expert, i64)>, AppError> {
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
pub async fn pool(c: &mut PgConnection) -> Result<Vec<Expert>, AppError> {
    let rows = sqlx::query("SELECT * FROM experts ORDER BY expert_id").fetch_all(c).await?;
    rows.iter().map(|r| expert_row(r).map(|(e, _)| e)).collect::<Result<_, _>>().map_err(Into::into)
}

pub async fn insert_meeting(c: &mut PgConnection, m: &Meeting) -> Result<(), AppError> {
    sqlx::query("INSERT INTO expert_meetings (meeting_id, held_on, version, created_at, body) VALUES ($1,$2,$3,$4,$5)")
        .bind(m.meeting_id)
        .bind(m.held_on)
        .bind(m.version)
        .bind(m.created_at)
        .bind(serde_json::to_value(m).map_err(|e| AppError::Internal(e.into()))?)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn get_meeting(c: &mut PgConnection, id: Uuid, lock: bool) -> Result<Meeting, AppError> {
    let sql = if lock {
        "SELECT body FROM expert_meetings WHERE meeting_id = $1 FOR UPDATE"
    } else {
        "SELECT body FROM expert_meetings WHERE meeting_id = $1"
    };
    let r = sqlx::query(sql).bind(id).fetch_optional(c).await?;
    let body: Option<serde_json::Value> = r.map(|r| r.try_get("body")).transpose()?;
    let body = body.ok_or_else(|| AppError::NotFound(format!("meeting {id}")))?;
    serde_json::from_value(body).map_err(|e| AppError::Internal(anyhow::anyhow!("stored meeting is unreadable: {e}")))
}

/// Stores `m` (version already incremented) if the stored version is `m.version - 1`.
pub async fn update_meeting(c: &mut PgConnection, m: &Meeting) -> Result<(), AppError> {
    let n = sqlx::query("UPDATE expert_meetings SET version = $2, body = $3 WHERE meeting_id = $1 AND version = $4")
        .bind(m.meeting_id)
        .bind(m.version)
        .bind(serde_json::to_value(m).map_err(|e| AppError::Internal(e.into()))?)
        .bind(m.version - 1)
        .execute(c)
        .await?
        .rows_affected();
    if n == 0 { Err(AppError::Aborted("the meeting was changed by someone else (stale etag)".into())) } else { Ok(()) }
}
