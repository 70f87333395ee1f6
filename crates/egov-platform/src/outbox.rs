//! Transactional outbox, write side: an event is a row committed in the same transaction as the
//! state change it announces. The relay (`relay.rs`) publishes committed rows.

use egov_proto::events::{EventEnvelope, event_envelope::Payload};
use prost::Message;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{error::AppError, telemetry};

/// Channel the relay LISTENs on; `enqueue` NOTIFYs it, delivered at commit.
pub const OUTBOX_CHANNEL: &str = "egov_outbox";

/// Builds an envelope with a fresh UUIDv7 id.
pub fn envelope(
    producer: &str,
    event_type: &str,
    project_id: &str,
    policy_version: &str,
    occurred_at: OffsetDateTime,
    payload: Payload,
) -> EventEnvelope {
    EventEnvelope {
        event_id: Uuid::now_v7().to_string(),
        r#type: event_type.to_string(),
        occurred_at: Some(crate::convert::timestamp(occurred_at)),
        project_id: project_id.to_string(),
        producer: producer.to_string(),
        policy_version: policy_version.to_string(),
        payload: Some(payload),
    }
}

/// Stores `event` in the outbox within the caller's transaction.
pub async fn enqueue(conn: &mut PgConnection, event: &EventEnvelope) -> Result<(), AppError> {
    let id = Uuid::parse_str(&event.event_id).map_err(|e| AppError::Internal(anyhow::anyhow!("event id {}: {e}", event.event_id)))?;
    let mut headers = telemetry::current_trace_headers();
    headers.insert("egov-type".into(), event.r#type.clone());
    headers.insert("egov-producer".into(), event.producer.clone());
    sqlx::query("INSERT INTO egov_outbox (event_id, routing_key, payload, headers) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(&event.r#type)
        .bind(event.encode_to_vec())
        .bind(sqlx::types::Json(&headers))
        .execute(&mut *conn)
        .await?;
    sqlx::query("SELECT pg_notify($1, '')").bind(OUTBOX_CHANNEL).execute(&mut *conn).await?;
    Ok(())
}
