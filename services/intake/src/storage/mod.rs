//! Intake's repositories over PostgreSQL. Every write runs in the caller's transaction, so a
//! state change, its audit record and its outbox rows commit together. Updates are guarded by
//! the aggregate's version: a stale etag is refused with ABORTED.

mod facts;
pub(crate) use facts::StoredFacts;

use egov_platform::{
    error::AppError,
    transition::{self, Load, Stored},
};
use sqlx::{PgConnection, Row, postgres::PgRow};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{application::DRAFT_STATUS, *};

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored {what} is unreadable: {e}"))
}

// ------------------------------------------------------------------ units

fn unit_row(r: &PgRow) -> Result<Unit, sqlx::Error> {
    Ok(Unit {
        unit_id: r.try_get("unit_id")?,
        name: r.try_get("name")?,
        district_budget_unit: r.try_get("district_budget_unit")?,
        state_owned_enterprise: r.try_get("state_owned_enterprise")?,
        runs_platform: r.try_get("runs_platform")?,
        has_street_app: r.try_get("has_street_app")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert_unit(c: &mut PgConnection, u: &Unit) -> Result<(), AppError> {
    let r = sqlx::query(
        "INSERT INTO units (unit_id, name, district_budget_unit, state_owned_enterprise, runs_platform, has_street_app, version, created_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
    )
    .bind(&u.unit_id)
    .bind(&u.name)
    .bind(u.district_budget_unit)
    .bind(u.state_owned_enterprise)
    .bind(u.runs_platform)
    .bind(u.has_street_app)
    .bind(u.version)
    .bind(u.created_at)
    .execute(c)
    .await;
    match r {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(AppError::AlreadyExists(format!("unit {} is already registered", u.unit_id)))
        }
        r => r.map(|_| ()).map_err(Into::into),
    }
}

pub async fn get_unit(c: &mut PgConnection, id: &str) -> Result<Unit, AppError> {
    find_unit(c, id).await?.ok_or_else(|| AppError::NotFound(format!("unit {id}")))
}

pub async fn find_unit(c: &mut PgConnection, id: &str) -> Result<Option<Unit>, AppError> {
    let r = sqlx::query("SELECT * FROM units WHERE unit_id = $1").bind(id).fetch_optional(c).await?;
    r.as_ref().map(unit_row).transpose().map_err(Into::into)
}

pub async fn list_units(c: &mut PgConnection, after: &str, limit: i64) -> Result<Vec<Unit>, AppError> {
    let rows = sqlx::query("SELECT * FROM units WHERE unit_id > $1 ORDER BY unit_id LIMIT $2").bind(after).bind(limit).fetch_all(c).await?;
    rows.iter().map(unit_row).collect::<Result<_, _>>().map_err(Into::into)
}

/// Which of `ids` are not registered units.
pub async fn unknown_units(c: &mut PgConnection, ids: &[String]) -> Result<Vec<String>, AppError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let known: Vec<String> = sqlx::query_scalar("SELECT unit_id FROM units WHERE unit_id = ANY($1)").bind(ids).fetch_all(c).await?;
    Ok(ids.iter().filter(|i| !known.contains(i)).cloned().collect())
}

// ------------------------------------------------------------------ penalties

fn penalty_row(r: &PgRow) -> Result<Penalty, AppError> {
    let kind: String = r.try_get("kind")?;
    Ok(Penalty {
        penalty_id: r.try_get("penalty_id")?,
        unit_id: r.try_get("unit_id")?,
        kind: PenaltyKind::parse(&kind).ok_or_else(|| corrupt("penalty kind", &kind))?,
        reason: r.try_get("reason")?,
        project_id: r.try_get("project_id")?,
        went_live_on: r.try_get("went_live_on")?,
        stopped_on: r.try_get("stopped_on")?,
        ineligible_year: r.try_get("ineligible_year")?,
        rule_ids: r.try_get("rule_ids")?,
        policy_version: r.try_get("policy_version")?,
        recorded_at: r.try_get("recorded_at")?,
    })
}

pub async fn insert_penalty(c: &mut PgConnection, p: &Penalty) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO penalties (penalty_id, unit_id, kind, reason, project_id, went_live_on, stopped_on, ineligible_year, rule_ids, policy_version, recorded_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
    )
    .bind(p.penalty_id)
    .bind(&p.unit_id)
    .bind(p.kind.as_str())
    .bind(&p.reason)
    .bind(&p.project_id)
    .bind(p.went_live_on)
    .bind(p.stopped_on)
    .bind(p.ineligible_year)
    .bind(&p.rule_ids)
    .bind(&p.policy_version)
    .bind(p.recorded_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn get_penalty(c: &mut PgConnection, id: Uuid) -> Result<Penalty, AppError> {
    let r = sqlx::query("SELECT * FROM penalties WHERE penalty_id = $1").bind(id).fetch_optional(c).await?;
    r.as_ref().map(penalty_row).transpose()?.ok_or_else(|| AppError::NotFound(format!("penalty {id}")))
}

pub async fn penalties_of(c: &mut PgConnection, unit_id: &str) -> Result<Vec<Penalty>, AppError> {
    let rows =
        sqlx::query("SELECT * FROM penalties WHERE unit_id = $1 ORDER BY recorded_at, penalty_id").bind(unit_id).fetch_all(c).await?;
    rows.iter().map(penalty_row).collect()
}

// ------------------------------------------------------------------ rounds

fn round_row(r: &PgRow) -> Result<Round, AppError> {
    let state: String = r.try_get("state")?;
    Ok(Round {
        round_id: r.try_get("round_id")?,
        target_year: r.try_get("target_year")?,
        deadline: r.try_get("deadline")?,
        state: RoundState::parse(&state).ok_or_else(|| corrupt("round state", &state))?,
        policy_version: r.try_get("policy_version")?,
        version: r.try_get("version")?,
        opened_at: r.try_get("opened_at")?,
        closed_at: r.try_get("closed_at")?,
    })
}

pub async fn insert_round(c: &mut PgConnection, r: &Round) -> Result<(), AppError> {
    let res = sqlx::query(
        "INSERT INTO rounds (round_id, target_year, deadline, state, policy_version, version, opened_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
    )
    .bind(r.round_id)
    .bind(r.target_year)
    .bind(r.deadline)
    .bind(r.state.as_str())
    .bind(&r.policy_version)
    .bind(r.version)
    .bind(r.opened_at)
    .execute(c)
    .await;
    match res {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(AppError::AlreadyExists(format!("a round for {} is already open (one round a year, R-I3)", r.target_year)))
        }
        r => r.map(|_| ()).map_err(Into::into),
    }
}

pub async fn get_round(c: &mut PgConnection, id: Uuid) -> Result<Round, AppError> {
    transition::load(c, &id, false).await
}

pub async fn open_rounds(c: &mut PgConnection) -> Result<Vec<Round>, AppError> {
    let rows = sqlx::query("SELECT * FROM rounds WHERE state = 'OPEN'").fetch_all(c).await?;
    rows.iter().map(round_row).collect()
}

pub async fn list_rounds(c: &mut PgConnection, after: Option<Uuid>, limit: i64) -> Result<Vec<Round>, AppError> {
    let rows = sqlx::query("SELECT * FROM rounds WHERE ($1::uuid IS NULL OR round_id > $1) ORDER BY round_id LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(c)
        .await?;
    rows.iter().map(round_row).collect()
}

async fn update_round(c: &mut PgConnection, r: &Round, expected_version: i64) -> Result<bool, AppError> {
    let n = sqlx::query("UPDATE rounds SET state = $2, closed_at = $3, version = $4 WHERE round_id = $1 AND version = $5")
        .bind(r.round_id)
        .bind(r.state.as_str())
        .bind(r.closed_at)
        .bind(r.version)
        .bind(expected_version)
        .execute(c)
        .await?
        .rows_affected();
    Ok(n == 1)
}

// ------------------------------------------------------------------ applications

fn application_row(r: &PgRow) -> Result<Application, AppError> {
    let body: serde_json::Value = r.try_get("body")?;
    serde_json::from_value(body).map_err(|e| corrupt("application", e))
}

async fn insert_application(c: &mut PgConnection, a: &Application) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO applications (application_id, lead_unit_id, round_id, state, name, policy_version, version, created_at, body)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
    )
    .bind(a.application_id)
    .bind(&a.lead_unit_id)
    .bind(a.round_id)
    .bind(a.state.as_str())
    .bind(&a.draft.name)
    .bind(&a.policy_version)
    .bind(a.version)
    .bind(a.created_at)
    .bind(serde_json::to_value(a).map_err(|e| AppError::Internal(e.into()))?)
    .execute(c)
    .await?;
    Ok(())
}

/// Loads an application; `lock` takes a row lock for the rest of the transaction.
pub async fn get_application(c: &mut PgConnection, id: Uuid, lock: bool) -> Result<Application, AppError> {
    transition::load(c, &id, lock).await
}

/// Stores `a` if the stored version is still `expected`; false otherwise.
async fn update_application(c: &mut PgConnection, a: &Application, expected: i64) -> Result<bool, AppError> {
    let n = sqlx::query(
        "UPDATE applications SET round_id = $2, state = $3, name = $4, version = $5, body = $6 WHERE application_id = $1 AND version = $7",
    )
    .bind(a.application_id)
    .bind(a.round_id)
    .bind(a.state.as_str())
    .bind(&a.draft.name)
    .bind(a.version)
    .bind(serde_json::to_value(a).map_err(|e| AppError::Internal(e.into()))?)
    .bind(expected)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

#[derive(Debug, Default)]
pub struct ApplicationFilter {
    /// Lead or participating unit.
    pub unit_id: Option<String>,
    pub round_id: Option<Uuid>,
    pub state: Option<ApplicationState>,
}

pub async fn list_applications(
    c: &mut PgConnection,
    f: &ApplicationFilter,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Application>, AppError> {
    let rows = sqlx::query(
        "SELECT body FROM applications
         WHERE ($1::text IS NULL OR lead_unit_id = $1 OR body -> 'draft' -> 'participating_unit_ids' ? $1)
           AND ($2::uuid IS NULL OR round_id = $2)
           AND ($3::text IS NULL OR state = $3)
           AND ($4::uuid IS NULL OR application_id > $4)
         ORDER BY application_id LIMIT $5",
    )
    .bind(f.unit_id.as_deref())
    .bind(f.round_id)
    .bind(f.state.map(|s| s.as_str()))
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(application_row).collect()
}

// ------------------------------------------------------------------ documents

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    pub document_id: Uuid,
    pub application_id: Uuid,
    pub kind: DocumentKind,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub sm3: String,
    pub street: String,
    pub object_path: String,
    pub uploaded_by: String,
    pub uploaded_at: OffsetDateTime,
}

impl StoredDocument {
    pub fn meta(&self) -> DocumentMeta {
        DocumentMeta { document_id: self.document_id, kind: self.kind, street: self.street.clone() }
    }
}

fn document_row(r: &PgRow) -> Result<StoredDocument, AppError> {
    let kind: String = r.try_get("kind")?;
    Ok(StoredDocument {
        document_id: r.try_get("document_id")?,
        application_id: r.try_get("application_id")?,
        kind: DocumentKind::parse(&kind).ok_or_else(|| corrupt("document kind", &kind))?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size_bytes: r.try_get("size_bytes")?,
        sha256: r.try_get("sha256")?,
        sm3: r.try_get("sm3")?,
        street: r.try_get("street")?,
        object_path: r.try_get("object_path")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

pub async fn insert_document(c: &mut PgConnection, d: &StoredDocument) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO documents (document_id, application_id, kind, file_name, content_type, size_bytes, sha256, sm3, street, object_path, uploaded_by, uploaded_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
    )
    .bind(d.document_id)
    .bind(d.application_id)
    .bind(d.kind.as_str())
    .bind(&d.file_name)
    .bind(&d.content_type)
    .bind(d.size_bytes)
    .bind(&d.sha256)
    .bind(&d.sm3)
    .bind(&d.street)
    .bind(&d.object_path)
    .bind(&d.uploaded_by)
    .bind(d.uploaded_at)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn documents_of(c: &mut PgConnection, application_id: Uuid) -> Result<Vec<StoredDocument>, AppError> {
    let rows = sqlx::query("SELECT * FROM documents WHERE application_id = $1 ORDER BY uploaded_at, document_id")
        .bind(application_id)
        .fetch_all(c)
        .await?;
    rows.iter().map(document_row).collect()
}

pub async fn get_document(c: &mut PgConnection, id: Uuid) -> Result<StoredDocument, AppError> {
    let r = sqlx::query("SELECT * FROM documents WHERE document_id = $1").bind(id).fetch_optional(c).await?;
    r.as_ref().map(document_row).transpose()?.ok_or_else(|| AppError::NotFound(format!("document {id}")))
}

// ------------------------------------------------------------------ registry

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRow {
    pub project_id: Uuid,
    pub name: String,
    pub lead_unit_id: String,
    pub participating: Vec<String>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRow {
    pub event_id: Uuid,
    pub event_type: String,
    pub producer: String,
    pub occurred_at: OffsetDateTime,
    pub status: String,
    pub summary: String,
}

/// Creates or renames the registry entry of a project (status kept when it exists).
pub async fn upsert_project(
    c: &mut PgConnection,
    id: Uuid,
    name: &str,
    lead: &str,
    participating: &[String],
    status: &str,
    at: OffsetDateTime,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO projects (project_id, name, lead_unit_id, participating, status, status_at) VALUES ($1,$2,$3,$4,$5,$6)
         ON CONFLICT (project_id) DO UPDATE SET name = EXCLUDED.name, participating = EXCLUDED.participating",
    )
    .bind(id)
    .bind(name)
    .bind(lead)
    .bind(participating)
    .bind(status)
    .bind(at)
    .execute(c)
    .await?;
    Ok(())
}

/// Records one timeline entry (once per event) and moves the project's status if the entry is
/// its latest. Returns false when the event was already recorded.
pub async fn record_timeline(c: &mut PgConnection, project_id: Uuid, t: &TimelineRow) -> Result<bool, AppError> {
    let n = sqlx::query(
        "INSERT INTO timeline (event_id, project_id, event_type, producer, occurred_at, status, summary) VALUES ($1,$2,$3,$4,$5,$6,$7)
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(t.event_id)
    .bind(project_id)
    .bind(&t.event_type)
    .bind(&t.producer)
    .bind(t.occurred_at)
    .bind(&t.status)
    .bind(&t.summary)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    if t.status.is_empty() {
        return Ok(true);
    }
    // Events of other services may arrive out of order: the latest occurrence wins.
    sqlx::query(
        "INSERT INTO projects (project_id, name, lead_unit_id, status, status_at) VALUES ($1, '', '', $2, $3)
         ON CONFLICT (project_id) DO UPDATE SET status = EXCLUDED.status, status_at = EXCLUDED.status_at
         WHERE projects.status_at <= EXCLUDED.status_at",
    )
    .bind(project_id)
    .bind(&t.status)
    .bind(t.occurred_at)
    .execute(c)
    .await?;
    Ok(true)
}

fn project_row(r: &PgRow) -> Result<ProjectRow, sqlx::Error> {
    Ok(ProjectRow {
        project_id: r.try_get("project_id")?,
        name: r.try_get("name")?,
        lead_unit_id: r.try_get("lead_unit_id")?,
        participating: r.try_get("participating")?,
        status: r.try_get("status")?,
    })
}

pub async fn get_project(c: &mut PgConnection, id: Uuid) -> Result<(ProjectRow, Vec<TimelineRow>), AppError> {
    let p = sqlx::query("SELECT * FROM projects WHERE project_id = $1").bind(id).fetch_optional(&mut *c).await?;
    let p = p.as_ref().map(project_row).transpose()?.ok_or_else(|| AppError::NotFound(format!("project {id}")))?;
    let rows = sqlx::query("SELECT * FROM timeline WHERE project_id = $1 ORDER BY occurred_at, event_id").bind(id).fetch_all(c).await?;
    let t = rows
        .iter()
        .map(|r| {
            Ok(TimelineRow {
                event_id: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                producer: r.try_get("producer")?,
                occurred_at: r.try_get("occurred_at")?,
                status: r.try_get("status")?,
                summary: r.try_get("summary")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((p, t))
}

pub async fn list_projects(
    c: &mut PgConnection,
    unit: Option<&str>,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ProjectRow>, AppError> {
    let rows = sqlx::query(
        "SELECT * FROM projects WHERE ($1::text IS NULL OR lead_unit_id = $1 OR $1 = ANY(participating))
           AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR project_id > $3)
         ORDER BY project_id LIMIT $4",
    )
    .bind(unit)
    .bind(status)
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(project_row).collect::<Result<_, _>>().map_err(Into::into)
}

// ------------------------------------------------------------------ the pipeline's view

impl Stored for Application {
    /// The registry entry of the project (same id) follows the application's name and units in
    /// the same transaction; its status follows the timeline.
    async fn insert(&self, c: &mut PgConnection) -> Result<bool, AppError> {
        insert_application(c, self).await?;
        upsert_project(
            c,
            self.application_id,
            &self.draft.name,
            &self.lead_unit_id,
            &self.draft.participating_unit_ids,
            DRAFT_STATUS,
            self.created_at,
        )
        .await?;
        Ok(true)
    }
    async fn update(&self, c: &mut PgConnection, expected: i64) -> Result<bool, AppError> {
        if !update_application(c, self, expected).await? {
            return Ok(false);
        }
        upsert_project(
            c,
            self.application_id,
            &self.draft.name,
            &self.lead_unit_id,
            &self.draft.participating_unit_ids,
            DRAFT_STATUS,
            self.created_at,
        )
        .await?;
        Ok(true)
    }
}

impl Load for Application {
    type Id = Uuid;
    async fn load(c: &mut PgConnection, id: &Uuid, lock: bool) -> Result<Option<Application>, AppError> {
        let sql = if lock {
            "SELECT body FROM applications WHERE application_id = $1 FOR UPDATE"
        } else {
            "SELECT body FROM applications WHERE application_id = $1"
        };
        let r = sqlx::query(sql).bind(id).fetch_optional(c).await?;
        r.as_ref().map(application_row).transpose()
    }
}

impl Stored for Round {
    async fn insert(&self, c: &mut PgConnection) -> Result<bool, AppError> {
        insert_round(c, self).await.map(|()| true)
    }
    async fn update(&self, c: &mut PgConnection, expected: i64) -> Result<bool, AppError> {
        update_round(c, self, expected).await
    }
}

impl Load for Round {
    type Id = Uuid;
    async fn load(c: &mut PgConnection, id: &Uuid, lock: bool) -> Result<Option<Round>, AppError> {
        let sql = if lock { "SELECT * FROM rounds WHERE round_id = $1 FOR UPDATE" } else { "SELECT * FROM rounds WHERE round_id = $1" };
        let r = sqlx::query(sql).bind(id).fetch_optional(c).await?;
        r.as_ref().map(round_row).transpose()
    }
}

impl Stored for Unit {
    async fn insert(&self, c: &mut PgConnection) -> Result<bool, AppError> {
        insert_unit(c, self).await.map(|()| true)
    }
    /// Units are not changed after registration.
    async fn update(&self, _c: &mut PgConnection, _expected: i64) -> Result<bool, AppError> {
        Err(AppError::Internal(anyhow::anyhow!("units are not updated")))
    }
}

impl Stored for Penalty {
    async fn insert(&self, c: &mut PgConnection) -> Result<bool, AppError> {
        insert_penalty(c, self).await.map(|()| true)
    }
    /// Record entries are written once.
    async fn update(&self, _c: &mut PgConnection, _expected: i64) -> Result<bool, AppError> {
        Err(AppError::Internal(anyhow::anyhow!("record entries are not updated")))
    }
}
