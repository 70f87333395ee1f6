//! Idempotent creates: a client-supplied `request_id` maps to the resource the first call made.

use sqlx::PgConnection;

use crate::error::{AppError, FieldViolation};

/// Validates a request id: required, at most 128 printable characters.
pub fn request_id(field: &str, raw: &str) -> Result<String, FieldViolation> {
    let r = raw.trim();
    if r.is_empty() {
        return Err(FieldViolation::new(field, "required: a client-chosen id that makes retries safe"));
    }
    if r.len() > 128 || r.chars().any(char::is_control) {
        return Err(FieldViolation::new(field, "at most 128 printable characters"));
    }
    Ok(r.to_string())
}

/// The resource a previous call with this request id created, if any.
pub async fn lookup(conn: &mut PgConnection, scope: &str, request_id: &str) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar("SELECT resource_id FROM egov_idempotency WHERE scope = $1 AND request_id = $2")
        .bind(scope)
        .bind(request_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Records the resource created for this request id, in the creating transaction. A concurrent
/// duplicate loses on the primary key and its transaction rolls back with `ALREADY_EXISTS`.
pub async fn record(conn: &mut PgConnection, scope: &str, request_id: &str, resource_id: &str) -> Result<(), AppError> {
    let r = sqlx::query("INSERT INTO egov_idempotency (scope, request_id, resource_id) VALUES ($1, $2, $3)")
        .bind(scope)
        .bind(request_id)
        .bind(resource_id)
        .execute(&mut *conn)
        .await;
    match r {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(AppError::AlreadyExists(format!("request {request_id} is being processed; retry to read its result")))
        }
        Err(e) => Err(e.into()),
    }
}
