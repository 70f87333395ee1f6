//! Review's repositories, and the pipeline's view of each aggregate ([`Stored`], [`Load`]).
//! Writes run in the caller's transaction; updates are version-guarded.
//!
//! The case owns its workflow tasks: they are loaded with it, and its `Stored::update` writes
//! the tasks a change touched in the same transaction (a new task inserted, a changed one updated
//! under the version it was loaded with, so a task claimed meanwhile makes the commit ABORTED).
//! A task-only change (a claim, an escalation) commits the task alone.

mod facts;
pub(crate) use facts::StoredFacts;

pub(crate) mod experts;

use egov_platform::{
    auth::Role,
    error::AppError,
    transition::{Load, Stored},
};
use sqlx::{PgConnection, Row, postgres::PgRow};
use uuid::Uuid;

use crate::domain::{
    ReviewCase, Stage,
    workflow::{Task, TaskState},
};

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored {what} is unreadable: {e}"))
}

fn case_row(r: &PgRow) -> Result<ReviewCase, AppError> {
    let body: serde_json::Value = r.try_get("body")?;
    serde_json::from_value(body).map_err(|e| corrupt("case", e))
}

/// Inserts a new case; false when it already exists (a redelivered event).
async fn insert_case(c: &mut PgConnection, k: &ReviewCase) -> Result<bool, AppError> {
    let n = sqlx::query(
        "INSERT INTO review_cases (case_id, lead_unit_id, participating, stage, policy_version, version, opened_at, body)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (case_id) DO NOTHING",
    )
    .bind(k.case_id)
    .bind(&k.dossier.lead_unit_id)
    .bind(&k.dossier.participating_unit_ids)
    .bind(k.stage.as_str())
    .bind(&k.policy_version)
    .bind(k.version)
    .bind(k.opened_at)
    .bind(serde_json::to_value(k).map_err(|e| AppError::Internal(e.into()))?)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// A case without its tasks (for reading).
pub(crate) async fn get_case(c: &mut PgConnection, id: Uuid) -> Result<ReviewCase, AppError> {
    let r = sqlx::query("SELECT body FROM review_cases WHERE case_id = $1").bind(id).fetch_optional(c).await?;
    r.as_ref().map(case_row).transpose()?.ok_or_else(|| AppError::NotFound(format!("review case {id}")))
}

/// Stores `k` if the stored version is `expected`.
async fn update_case(c: &mut PgConnection, k: &ReviewCase, expected: i64) -> Result<bool, AppError> {
    let n = sqlx::query("UPDATE review_cases SET stage = $2, version = $3, body = $4 WHERE case_id = $1 AND version = $5")
        .bind(k.case_id)
        .bind(k.stage.as_str())
        .bind(k.version)
        .bind(serde_json::to_value(k).map_err(|e| AppError::Internal(e.into()))?)
        .bind(expected)
        .execute(c)
        .await?
        .rows_affected();
    Ok(n == 1)
}

impl Stored for ReviewCase {
    async fn insert(&self, c: &mut PgConnection) -> Result<bool, AppError> {
        if !insert_case(c, self).await? {
            return Ok(false);
        }
        for t in &self.tasks {
            insert_task(c, t).await?;
        }
        Ok(true)
    }

    async fn update(&self, c: &mut PgConnection, expected: i64) -> Result<bool, AppError> {
        if !update_case(c, self, expected).await? {
            return Ok(false);
        }
        for t in &self.tasks {
            match self.tasks_as_loaded.iter().find(|o| o.task_id == t.task_id) {
                None => insert_task(c, t).await?,
                Some(old) if old == t => {}
                Some(old) => {
                    let mut next = t.clone();
                    next.version = old.version + 1;
                    if !update_task(c, &next, old.version).await? {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }
}

impl Load for ReviewCase {
    type Id = Uuid;
    async fn load(c: &mut PgConnection, id: &Uuid, lock: bool) -> Result<Option<ReviewCase>, AppError> {
        let sql = if lock {
            "SELECT body FROM review_cases WHERE case_id = $1 FOR UPDATE"
        } else {
            "SELECT body FROM review_cases WHERE case_id = $1"
        };
        let r = sqlx::query(sql).bind(id).fetch_optional(&mut *c).await?;
        let Some(mut k) = r.as_ref().map(case_row).transpose()? else { return Ok(None) };
        k.tasks = tasks_of(c, *id).await?;
        k.tasks_as_loaded = k.tasks.clone();
        Ok(Some(k))
    }
}

pub(crate) async fn list_cases(
    c: &mut PgConnection,
    stage: Option<Stage>,
    unit: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ReviewCase>, AppError> {
    let rows = sqlx::query(
        "SELECT body FROM review_cases
         WHERE ($1::text IS NULL OR stage = $1) AND ($2::text IS NULL OR lead_unit_id = $2 OR $2 = ANY(participating))
           AND ($3::uuid IS NULL OR case_id > $3)
         ORDER BY case_id LIMIT $4",
    )
    .bind(stage.map(|s| s.as_str()))
    .bind(unit)
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(case_row).collect()
}

fn task_row(r: &PgRow) -> Result<Task, AppError> {
    let role: String = r.try_get("role")?;
    let state: String = r.try_get("state")?;
    Ok(Task {
        task_id: r.try_get("task_id")?,
        case_id: r.try_get("case_id")?,
        kind: r.try_get("kind")?,
        group_id: r.try_get("group_id")?,
        role: Role::parse(&role).ok_or_else(|| corrupt("task role", &role))?,
        assignee: r.try_get("assignee")?,
        state: TaskState::parse(&state).ok_or_else(|| corrupt("task state", &state))?,
        due_at: r.try_get("due_at")?,
        overdue: r.try_get("overdue")?,
        completed_by: r.try_get("completed_by")?,
        comment: r.try_get("comment")?,
        version: r.try_get("version")?,
        policy_version: r.try_get("policy_version")?,
    })
}

async fn insert_task(c: &mut PgConnection, t: &Task) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO review_tasks (task_id, case_id, kind, group_id, role, assignee, state, due_at, overdue, completed_by, comment, version)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
    )
    .bind(t.task_id)
    .bind(t.case_id)
    .bind(&t.kind)
    .bind(&t.group_id)
    .bind(t.role.as_str())
    .bind(&t.assignee)
    .bind(t.state.as_str())
    .bind(t.due_at)
    .bind(t.overdue)
    .bind(&t.completed_by)
    .bind(&t.comment)
    .bind(t.version)
    .execute(c)
    .await?;
    Ok(())
}

/// A query of tasks, each with its case's policy version.
macro_rules! tasks {
    ($rest:literal) => {
        concat!("SELECT t.*, c.policy_version FROM review_tasks t JOIN review_cases c ON c.case_id = t.case_id ", $rest)
    };
}

/// Stores `t` if the stored version is `expected`.
async fn update_task(c: &mut PgConnection, t: &Task, expected: i64) -> Result<bool, AppError> {
    let n = sqlx::query(
        "UPDATE review_tasks SET assignee = $2, state = $3, overdue = $4, completed_by = $5, comment = $6, version = $7,
                completed_at = CASE WHEN $3 = 'DONE' THEN now() ELSE completed_at END
         WHERE task_id = $1 AND version = $8",
    )
    .bind(t.task_id)
    .bind(&t.assignee)
    .bind(t.state.as_str())
    .bind(t.overdue)
    .bind(&t.completed_by)
    .bind(&t.comment)
    .bind(t.version)
    .bind(expected)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

async fn tasks_of(c: &mut PgConnection, case_id: Uuid) -> Result<Vec<Task>, AppError> {
    let rows = sqlx::query(tasks!("WHERE t.case_id = $1 ORDER BY t.task_id")).bind(case_id).fetch_all(c).await?;
    rows.iter().map(task_row).collect()
}

impl Stored for Task {
    async fn insert(&self, c: &mut PgConnection) -> Result<bool, AppError> {
        insert_task(c, self).await.map(|()| true)
    }
    async fn update(&self, c: &mut PgConnection, expected: i64) -> Result<bool, AppError> {
        update_task(c, self, expected).await
    }
}

impl Load for Task {
    type Id = Uuid;
    async fn load(c: &mut PgConnection, id: &Uuid, lock: bool) -> Result<Option<Task>, AppError> {
        let sql = if lock { tasks!("WHERE t.task_id = $1 FOR UPDATE OF t") } else { tasks!("WHERE t.task_id = $1") };
        let r = sqlx::query(sql).bind(id).fetch_optional(c).await?;
        r.as_ref().map(task_row).transpose()
    }
}

pub(crate) async fn list_tasks(
    c: &mut PgConnection,
    case_id: Option<Uuid>,
    role: Option<&str>,
    state: Option<TaskState>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Task>, AppError> {
    let rows = sqlx::query(tasks!(
        "WHERE ($1::uuid IS NULL OR t.case_id = $1) AND ($2::text IS NULL OR t.role = $2)
               AND ($3::text IS NULL OR t.state = $3) AND ($4::uuid IS NULL OR t.task_id > $4)
             ORDER BY t.task_id LIMIT $5"
    ))
    .bind(case_id)
    .bind(role)
    .bind(state.map(|s| s.as_str()))
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(task_row).collect()
}
