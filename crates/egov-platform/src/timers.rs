//! Durable timers, write side: a timer is a row with a due time on the service's clock,
//! scheduled and cancelled inside the transaction of the change that sets it. The runner
//! (`timer_runner.rs`) fires due rows once, whatever the number of replicas.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::AppError;

/// Schedules (or moves) the pending timer `kind`/`key` to `due_at`.
pub async fn schedule(
    conn: &mut PgConnection,
    kind: &str,
    key: &str,
    due_at: OffsetDateTime,
    payload: serde_json::Value,
) -> Result<Uuid, AppError> {
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO egov_timers (timer_id, kind, key, due_at, payload) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (kind, key) WHERE status = 'pending' DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload
         RETURNING timer_id",
    )
    .bind(Uuid::now_v7())
    .bind(kind)
    .bind(key)
    .bind(due_at)
    .bind(payload)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Cancels the pending timer `kind`/`key`; false when there was none.
pub async fn cancel(conn: &mut PgConnection, kind: &str, key: &str) -> Result<bool, AppError> {
    let n = sqlx::query(
        "UPDATE egov_timers SET status = 'cancelled', cancelled_at = now() WHERE kind = $1 AND key = $2 AND status = 'pending'",
    )
    .bind(kind)
    .bind(key)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// Cancels every pending timer of `kind` whose key is `key_prefix` followed by `/` and anything
/// (e.g. the monthly timers `<project>/2026-06`, `<project>/2026-07` of one project). Returns how
/// many were cancelled.
pub async fn cancel_under(conn: &mut PgConnection, kind: &str, key_prefix: &str) -> Result<u64, AppError> {
    let n = sqlx::query(
        "UPDATE egov_timers SET status = 'cancelled', cancelled_at = now() WHERE kind = $1 AND starts_with(key, $2) AND status = 'pending'",
    )
    .bind(kind)
    .bind(format!("{key_prefix}/"))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n)
}
