//! Review's repositories. Writes run in the caller's transaction; updates are version-guarded.

pub mod experts;

use egov_platform::{auth::Role, error::AppError};
use sqlx::{PgConnection, Row, postgres::PgRow};
use uuid::Uuid;

use crate::domain::{
    ReviewCase, Stage,
    workflow::{Task, TaskState},
};

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored {what} is unreadable: {e}"))
}

fn stale(what: &str) -> AppError {
    AppError::Aborted(format!("{what} was changed by someone else (stale etag); read it again and retry"))
}

fn case_row(r: &PgRow) -> Result<ReviewCase, AppError> {
    let body: serde_json::Value = r.try_get("body")?;
    serde_json::from_value(body).map_err(|e| corrupt("case", e))
}

/// Inserts a new case; false when it already exists (a redelivered event).
pub async fn insert_case(c: &mut PgConnection, k: &ReviewCase) -> Result<bool, AppError> {
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

pub async fn get_case(c: &mut PgConnection, id: Uuid, lock: bool) -> Result<ReviewCase, AppError> {
    let sql = if lock {
        "SELECT body FROM review_cases WHERE case_id = $1 FOR UPDATE"
    } else {
        "SELECT body FROM review_cases WHERE case_id = $1"
    };
    let r = sqlx::query(sql).bind(id).fetch_optional(c).await?;
    r.as_ref().map(case_row).transpose()?.ok_or_else(|| AppError::NotFound(format!("review case {id}")))
}

/// Stores `k` (version already incremented) if the stored version is `k.version - 1`.
pub async fn update_case(c: &mut PgConnection, k: &ReviewCase) -> Result<(), AppError> {
    let n = sqlx::query("UPDATE review_cases SET stage = $2, version = $3, body = $4 WHERE case_id = $1 AND version = $5")
        .bind(k.case_id)
        .bind(k.stage.as_str())
        .bind(k.version)
        .bind(serde_json::to_value(k).map_err(|e| AppError::Internal(e.into()))?)
        .bind(k.version - 1)
        .execute(c)
        .await?
        .rows_affected();
    if n == 0 { Err(stale("the case")) } else { Ok(()) }
}

pub async fn list_cases(
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
    })
}

pub async fn insert_task(c: &mut PgConnection, t: &Task) -> Result<(), AppError> {
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

pub async fn get_task(c: &mut PgConnection, id: Uuid, lock: bool) -> Result<Task, AppError> {
    let sql =
        if lock { "SELECT * FROM review_tasks WHERE task_id = $1 FOR UPDATE" } else { "SELECT * FROM review_tasks WHERE task_id = $1" };
    let r = sqlx::query(sql).bind(id).fetch_optional(c).await?;
    r.as_ref().map(task_row).transpose()?.ok_or_else(|| AppError::NotFound(format!("task {id}")))
}

/// Stores `t` (version already incremented) if the stored version is `t.version - 1`.
pub async fn update_task(c: &mut PgConnection, t: &Task) -> Result<(), AppError> {
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
    .bind(t.version - 1)
    .execute(c)
    .await?
    .rows_affected();
    if n == 0 { Err(stale("the task")) } else { Ok(()) }
}

pub async fn tasks_of(c: &mut PgConnection, case_id: Uuid, group_id: Option<&str>) -> Result<Vec<Task>, AppError> {
    let rows = sqlx::query("SELECT * FROM review_tasks WHERE case_id = $1 AND ($2::text IS NULL OR group_id = $2) ORDER BY task_id")
        .bind(case_id)
        .bind(group_id)
        .fetch_all(c)
        .await?;
    rows.iter().map(task_row).collect()
}

pub async fn list_tasks(
    c: &mut PgConnection,
    case_id: Option<Uuid>,
    role: Option<&str>,
    state: Option<TaskState>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Task>, AppError> {
    let rows = sqlx::query(
        "SELECT * FROM review_tasks WHERE ($1::uuid IS NULL OR case_id = $1) AND ($2::text IS NULL OR role = $2)
           AND ($3::text IS NULL OR state = $3) AND ($4::uuid IS NULL OR task_id > $4)
         ORDER BY task_id LIMIT $5",
    )
    .bind(case_id)
    .bind(role)
    .bind(state.map(|s| s.as_str()))
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(task_row).collect()
}

/// Moves every task of a case in `from` states to `to` (suspend on return, resume on
/// resubmission, cancel on withdrawal), bumping versions.
pub async fn set_tasks_state(c: &mut PgConnection, case_id: Uuid, from: &[TaskState], to: TaskState) -> Result<Vec<Uuid>, AppError> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    Ok(sqlx::query_scalar(
        "UPDATE review_tasks SET state = $3, version = version + 1 WHERE case_id = $1 AND state = ANY($2) RETURNING task_id",
    )
    .bind(case_id)
    .bind(&from)
    .bind(to.as_str())
    .fetch_all(c)
    .await?)
}
