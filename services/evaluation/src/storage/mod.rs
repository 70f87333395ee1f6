//! Evaluation's repositories over PostgreSQL. Every write runs in the caller's transaction, so a
//! change, its audit record and its outbox rows commit together; updates are guarded by the
//! entry's version (a stale etag is ABORTED).

mod facts;
pub(crate) use facts::StoredFacts;

use egov_platform::{
    AppError,
    transition::{Load, Stored},
};
use sqlx::{PgConnection, Row, postgres::PgRow};
use time::Date;
use uuid::Uuid;

use crate::domain::*;

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored {what} is unreadable: {e}"))
}

fn entry_row(r: &PgRow) -> Result<Entry, AppError> {
    let body: serde_json::Value = r.try_get("body")?;
    serde_json::from_value(body).map_err(|e| corrupt("catalogue entry", e))
}

fn body(e: &Entry) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(e).map_err(|e| AppError::Internal(e.into()))
}

fn external_key(e: &Entry) -> Option<&str> {
    (!e.external_key.is_empty()).then_some(e.external_key.as_str())
}

impl Stored for Entry {
    async fn insert(&self, c: &mut PgConnection) -> Result<bool, AppError> {
        let n = sqlx::query(
            "INSERT INTO entries (entry_id, kind, state, name, source, external_key, project_id, builder_unit_id, operator_unit_id,
                                  user_unit_ids, next_due_on, policy_version, version, body)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT DO NOTHING",
        )
        .bind(self.entry_id)
        .bind(self.kind.as_str())
        .bind(self.state.as_str())
        .bind(&self.name)
        .bind(self.source.as_str())
        .bind(external_key(self))
        .bind(&self.project_id)
        .bind(&self.builder_unit_id)
        .bind(&self.operator_unit_id)
        .bind(&self.user_unit_ids)
        .bind(self.schedule.as_ref().map(|s| s.next_due_on))
        .bind(&self.policy_version)
        .bind(self.version)
        .bind(body(self)?)
        .execute(c)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn update(&self, c: &mut PgConnection, expected_version: i64) -> Result<bool, AppError> {
        let n = sqlx::query(
            "UPDATE entries SET state = $2, name = $3, source = $4, builder_unit_id = $5, operator_unit_id = $6, user_unit_ids = $7,
                                next_due_on = $8, version = $9, body = $10, revision = nextval('entries_revision')
             WHERE entry_id = $1 AND version = $11",
        )
        .bind(self.entry_id)
        .bind(self.state.as_str())
        .bind(&self.name)
        .bind(self.source.as_str())
        .bind(&self.builder_unit_id)
        .bind(&self.operator_unit_id)
        .bind(&self.user_unit_ids)
        .bind(self.schedule.as_ref().map(|s| s.next_due_on))
        .bind(self.version)
        .bind(body(self)?)
        .bind(expected_version)
        .execute(c)
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}

impl Load for Entry {
    type Id = Uuid;
    async fn load(c: &mut PgConnection, id: &Uuid, lock: bool) -> Result<Option<Entry>, AppError> {
        let sql =
            if lock { "SELECT body FROM entries WHERE entry_id = $1 FOR UPDATE" } else { "SELECT body FROM entries WHERE entry_id = $1" };
        let r = sqlx::query(sql).bind(id).fetch_optional(c).await?;
        r.as_ref().map(entry_row).transpose()
    }
}

/// The imported entry with this key, if any (locked).
pub async fn find_imported(c: &mut PgConnection, source: Source, key: &str) -> Result<Option<Entry>, AppError> {
    let r = sqlx::query("SELECT body FROM entries WHERE source = $1 AND external_key = $2 FOR UPDATE")
        .bind(source.as_str())
        .bind(key)
        .fetch_optional(c)
        .await?;
    r.as_ref().map(entry_row).transpose()
}

#[derive(Debug, Default)]
pub struct EntryFilter {
    pub kind: Option<EntryKind>,
    pub unit_id: Option<String>,
    pub state: Option<EntryState>,
}

pub async fn list_entries(c: &mut PgConnection, f: &EntryFilter, after: Option<Uuid>, limit: i64) -> Result<Vec<Entry>, AppError> {
    let rows = sqlx::query(
        "SELECT body FROM entries
         WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR state = $2)
           AND ($3::text IS NULL OR $3 = ANY (ARRAY[builder_unit_id, operator_unit_id] || user_unit_ids))
           AND ($4::uuid IS NULL OR entry_id > $4)
         ORDER BY entry_id LIMIT $5",
    )
    .bind(f.kind.map(|k| k.as_str()))
    .bind(f.state.map(|s| s.as_str()))
    .bind(f.unit_id.as_deref())
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(entry_row).collect()
}

/// Running applications with a schedule, due by `due_by` when given, by due day.
pub async fn list_scheduled(c: &mut PgConnection, due_by: Option<Date>, after: Option<Uuid>, limit: i64) -> Result<Vec<Entry>, AppError> {
    let rows = sqlx::query(
        "SELECT body FROM entries
         WHERE next_due_on IS NOT NULL AND state = 'LISTED' AND ($1::date IS NULL OR next_due_on <= $1)
           AND ($2::uuid IS NULL OR entry_id > $2)
         ORDER BY entry_id LIMIT $3",
    )
    .bind(due_by)
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(entry_row).collect()
}

/// Running applications with assessment tracks (R-E7).
pub async fn list_tracked(c: &mut PgConnection, after: Option<Uuid>, limit: i64) -> Result<Vec<Entry>, AppError> {
    let rows = sqlx::query(
        "SELECT body FROM entries
         WHERE state = 'LISTED' AND jsonb_array_length(body->'assessments') > 0 AND ($1::uuid IS NULL OR entry_id > $1)
         ORDER BY entry_id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(entry_row).collect()
}

/// The catalogue's highest revision (screening's index is current while it has not moved).
pub async fn catalogue_revision(c: &mut PgConnection) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar("SELECT COALESCE(max(revision), 0)::bigint FROM entries").fetch_one(c).await?)
}

/// What screening indexes: listed applications and their functions.
pub async fn screenable(c: &mut PgConnection) -> Result<Vec<Entry>, AppError> {
    let rows =
        sqlx::query("SELECT body FROM entries WHERE kind = 'APPLICATION' AND state = 'LISTED' ORDER BY entry_id").fetch_all(c).await?;
    rows.iter().map(entry_row).collect()
}

// ------------------------------------------------------------------ published evaluations

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub evaluation_id: Uuid,
    pub app_id: Uuid,
    pub name: String,
    pub operator_unit_id: String,
    pub published_on: Date,
    pub score_centi: i64,
    pub grade: String,
    pub passed: bool,
    pub funding_recommendation: String,
    pub funding_bp: i32,
    pub indicator_system: String,
}

pub async fn insert_published(c: &mut PgConnection, p: &Published) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO published_evaluations (evaluation_id, app_id, name, operator_unit_id, published_on, score_centi, grade, passed,
                                            funding_recommendation, funding_bp, indicator_system)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
    )
    .bind(p.evaluation_id)
    .bind(p.app_id)
    .bind(&p.name)
    .bind(&p.operator_unit_id)
    .bind(p.published_on)
    .bind(p.score_centi)
    .bind(&p.grade)
    .bind(p.passed)
    .bind(&p.funding_recommendation)
    .bind(p.funding_bp)
    .bind(&p.indicator_system)
    .execute(c)
    .await?;
    Ok(())
}

fn published_row(r: &PgRow) -> Result<Published, sqlx::Error> {
    Ok(Published {
        evaluation_id: r.try_get("evaluation_id")?,
        app_id: r.try_get("app_id")?,
        name: r.try_get("name")?,
        operator_unit_id: r.try_get("operator_unit_id")?,
        published_on: r.try_get("published_on")?,
        score_centi: r.try_get("score_centi")?,
        grade: r.try_get("grade")?,
        passed: r.try_get("passed")?,
        funding_recommendation: r.try_get("funding_recommendation")?,
        funding_bp: r.try_get("funding_bp")?,
        indicator_system: r.try_get("indicator_system")?,
    })
}

pub async fn list_published(
    c: &mut PgConnection,
    app_id: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Published>, AppError> {
    let rows = sqlx::query(
        "SELECT * FROM published_evaluations WHERE ($1::uuid IS NULL OR app_id = $1) AND ($2::uuid IS NULL OR evaluation_id > $2)
         ORDER BY evaluation_id LIMIT $3",
    )
    .bind(app_id)
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(published_row).collect::<Result<_, _>>()?)
}

// ------------------------------------------------------------------ imports

#[derive(Debug, Clone)]
pub struct ImportRecord {
    pub import_id: Uuid,
    pub file_name: String,
    pub format: String,
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub sm3: String,
    pub uploaded_by: String,
    pub uploaded_at: time::OffsetDateTime,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub errors: serde_json::Value,
}

pub async fn insert_import(c: &mut PgConnection, r: &ImportRecord) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO catalogue_imports (import_id, file_name, format, path, size_bytes, sha256, sm3, uploaded_by, uploaded_at, created, updated,
                                        unchanged, errors)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
    )
    .bind(r.import_id)
    .bind(&r.file_name)
    .bind(&r.format)
    .bind(&r.path)
    .bind(i64::try_from(r.size).unwrap_or(i64::MAX))
    .bind(&r.sha256)
    .bind(&r.sm3)
    .bind(&r.uploaded_by)
    .bind(r.uploaded_at)
    .bind(r.created)
    .bind(r.updated)
    .bind(r.unchanged)
    .bind(&r.errors)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn get_import(c: &mut PgConnection, id: Uuid) -> Result<ImportRecord, AppError> {
    let r = sqlx::query("SELECT * FROM catalogue_imports WHERE import_id = $1").bind(id).fetch_optional(c).await?;
    let r = r.ok_or_else(|| AppError::NotFound(format!("import {id}")))?;
    Ok(ImportRecord {
        import_id: r.try_get("import_id")?,
        file_name: r.try_get("file_name")?,
        format: r.try_get("format")?,
        path: r.try_get("path")?,
        size: u64::try_from(r.try_get::<i64, _>("size_bytes")?).unwrap_or(0),
        sha256: r.try_get("sha256")?,
        sm3: r.try_get("sm3")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: r.try_get("uploaded_at")?,
        created: r.try_get("created")?,
        updated: r.try_get("updated")?,
        unchanged: r.try_get("unchanged")?,
        errors: r.try_get("errors")?,
    })
}
