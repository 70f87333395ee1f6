//! Transactional outbox, write side: an event is a row committed in the same transaction as the
//! state change it announces. The relay (`relay.rs`) publishes committed rows.
//!
//! **Waking the relay.** The relay of the process that committed an event is woken in the
//! process, after the commit: each unit of work that may enqueue (a gRPC call, a timer, a
//! consumed event) takes a [`WakeMark`] before it starts and calls
//! [`WakeMark::wake_relays`] after its commit, which wakes this process's relays if any event
//! was enqueued in between. A `NOTIFY` in the writer's transaction would do the same across
//! processes, but PostgreSQL holds one database-wide lock from such a commit's queue insert
//! through its WAL flush, so every event-producing commit of every replica would run one at a
//! time (measured in `docs/performance.md`). Every replica runs a relay, so a replica's own
//! relay publishes what it wrote. A writer outside the services (a tool, the bench) wakes the
//! relays with [`announce`] after its commit; rows nobody announced (a replica that died before
//! relaying) are found by every relay's poll (`outbox.poll_interval_ms`).

use std::sync::{
    LazyLock,
    atomic::{AtomicU64, Ordering},
};

use egov_proto::events::{EventEnvelope, event_envelope::Payload};
use prost::Message;
use sqlx::PgConnection;
use time::OffsetDateTime;
use tokio::sync::watch;
use uuid::Uuid;

use crate::{error::AppError, telemetry};

/// Channel the relays LISTEN on for rows written outside their process ([`announce`]).
pub const OUTBOX_CHANNEL: &str = "egov_outbox";

/// Events this process has enqueued (or made pending again) so far.
static ENQUEUED: AtomicU64 = AtomicU64::new(0);
/// Bumped to wake this process's relays; each relay holds a receiver.
static WAKE: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Where a unit of work began, as far as the outbox is concerned: see the module documentation.
#[derive(Debug, Clone, Copy)]
#[must_use = "call wake_relays after the commit"]
pub struct WakeMark(u64);

/// Marks the start of a unit of work that may enqueue events.
pub fn mark() -> WakeMark {
    WakeMark(ENQUEUED.load(Ordering::Acquire))
}

impl WakeMark {
    /// Called after the unit's commit (or its rollback): wakes this process's relays if any
    /// event was enqueued since the mark, by this unit or a concurrent one (a spurious wake
    /// costs the relay one empty pass; a missed one would cost a poll interval).
    pub fn wake_relays(self) {
        if ENQUEUED.load(Ordering::Acquire) != self.0 {
            wake_now();
        }
    }
}

/// Counts an enqueued row, for the [`WakeMark`]s of the units of work in flight.
fn note_pending() {
    ENQUEUED.fetch_add(1, Ordering::AcqRel);
}

/// Wakes the relays of every process after a writer outside the services committed outbox rows:
/// a `NOTIFY` of its own, after the writer's transaction, never inside it (see the module
/// documentation).
pub async fn announce(conn: &mut PgConnection) -> Result<(), AppError> {
    sqlx::query("SELECT pg_notify($1, '')").bind(OUTBOX_CHANNEL).execute(&mut *conn).await?;
    Ok(())
}

/// Wakes this process's relays now (a `NOTIFY` arrived).
pub(crate) fn wake_now() {
    WAKE.send_modify(|n| *n = n.wrapping_add(1));
}

/// A relay's subscription to the wake-ups.
pub(crate) fn wake_ups() -> watch::Receiver<u64> {
    WAKE.subscribe()
}

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

/// Stores `event` in the outbox within the caller's transaction (the caller's unit of work wakes
/// the relay after its commit: see [`WakeMark`]).
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
    note_pending();
    Ok(())
}

/// Tower layer giving every gRPC call a [`WakeMark`]: this process's relays wake as soon as a
/// call that enqueued events has committed them and answered.
#[derive(Debug, Clone, Copy, Default)]
pub struct RelayWakeLayer;

impl<S> tower::Layer<S> for RelayWakeLayer {
    type Service = RelayWake<S>;
    fn layer(&self, inner: S) -> RelayWake<S> {
        RelayWake(inner)
    }
}

/// See [`RelayWakeLayer`].
#[derive(Debug, Clone)]
pub struct RelayWake<S>(S);

impl<S, R> tower::Service<R> for RelayWake<S>
where
    S: tower::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let mark = mark();
        let answer = self.0.call(req);
        Box::pin(async move {
            let answer = answer.await;
            mark.wake_relays();
            answer
        })
    }
}

#[cfg(test)]
mod tests {
    use std::{
        convert::Infallible,
        future::{Ready, ready},
        task::{Context, Poll},
    };

    use tower::{Layer, Service};

    use super::*;

    /// A call that enqueues (or not) when it runs.
    #[derive(Clone)]
    struct Call {
        enqueues: bool,
    }

    impl Service<()> for Call {
        type Response = ();
        type Error = Infallible;
        type Future = Ready<Result<(), Infallible>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: ()) -> Self::Future {
            if self.enqueues {
                note_pending();
            }
            ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_call_wakes_the_relays_after_it_answered_and_only_if_it_enqueued() {
        let mut wake = wake_ups();
        wake.borrow_and_update();
        RelayWakeLayer.layer(Call { enqueues: false }).call(()).await.unwrap();
        assert!(!wake.has_changed().unwrap(), "a call that enqueued nothing wakes no relay");

        let answer = RelayWakeLayer.layer(Call { enqueues: true }).call(());
        assert!(!wake.has_changed().unwrap(), "not before the call has answered (and so committed)");
        answer.await.unwrap();
        assert!(wake.has_changed().unwrap(), "woken once the call has answered");
    }
}
