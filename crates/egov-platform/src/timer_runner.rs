//! The timer runner: fires due durable timers (`timers.rs` writes them) exactly once.
//!
//! Each timer fires in its own transaction: the row is claimed with `FOR UPDATE SKIP LOCKED`, so
//! any number of replicas run side by side, each taking different timers and never waiting on
//! one another; the handler writes its state change and outbox rows in that same transaction, and
//! the row is marked `fired` before the commit, so a crash at any point either fires the timer
//! completely or leaves it pending for the next pass. "Due" is judged against the injected clock,
//! not SQL `now()`, because local and test runs move the service's clock forward to reach
//! deadlines. A failing handler rolls back its own timer only (the failure is recorded outside
//! that transaction) and the pass goes on with the others; the timer is retried on later passes.

use std::{sync::Arc, time::Duration};

use futures::future::BoxFuture;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::{
    AppError,
    clock::{Clock, SharedClock},
    config::TimerSettings,
    metrics::{Metrics, TimerOutcome},
    outbox,
};

/// A timer whose time has come.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DueTimer {
    pub timer_id: Uuid,
    pub kind: String,
    pub key: String,
    pub due_at: OffsetDateTime,
    pub payload: serde_json::Value,
}

/// Fires one timer inside the runner's transaction.
pub trait TimerHandler: Send + Sync + 'static {
    fn fire<'a>(&'a self, tx: &'a mut PgConnection, timer: &'a DueTimer) -> BoxFuture<'a, Result<(), AppError>>;
}

/// Runs `timers.concurrency` workers, each running passes of [`fire_due`] every
/// `poll_interval_ms` until `shutdown` (at once again when a pass filled its batch). Workers
/// claim different timers (`SKIP LOCKED`), as replicas do. A pass in progress finishes its
/// current timer before stopping. Records no metrics.
pub fn spawn_timer_runner(
    pool: PgPool,
    clock: SharedClock,
    handler: Arc<dyn TimerHandler>,
    settings: TimerSettings,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    spawn_timer_runner_with_metrics(pool, clock, handler, settings, Metrics::disabled(), shutdown)
}

/// [`spawn_timer_runner`], counting each handler run in `egov.timers.fired`.
pub fn spawn_timer_runner_with_metrics(
    pool: PgPool,
    clock: SharedClock,
    handler: Arc<dyn TimerHandler>,
    settings: TimerSettings,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let workers: Vec<JoinHandle<()>> = (0..settings.concurrency.max(1))
        .map(|_| {
            let worker = Worker {
                pool: pool.clone(),
                clock: clock.clone(),
                handler: handler.clone(),
                settings: settings.clone(),
                metrics: metrics.clone(),
            };
            tokio::spawn(worker.run(shutdown.clone()))
        })
        .collect();
    tokio::spawn(async move {
        for w in workers {
            let _ = w.await;
        }
    })
}

struct Worker {
    pool: PgPool,
    clock: SharedClock,
    handler: Arc<dyn TimerHandler>,
    settings: TimerSettings,
    metrics: Metrics,
}

impl Worker {
    async fn run(self, shutdown: CancellationToken) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms.max(1));
        let batch = i64::from(self.settings.batch_size.max(1));
        let mut outage = Duration::ZERO;
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            let pass = fire_due_until(&self.pool, self.clock.as_ref(), self.handler.as_ref(), batch, &self.metrics, &shutdown).await;
            let pause = match pass {
                Ok(n) if n as i64 >= batch => {
                    outage = Duration::ZERO;
                    continue;
                }
                Ok(_) => {
                    outage = Duration::ZERO;
                    poll
                }
                Err(e) => {
                    outage = (outage * 2).max(poll).min(Duration::from_secs(5));
                    tracing::warn!(error = %e, retry_in = ?outage, "timer runner stalled");
                    outage
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}

/// One pass: fires up to `batch` due timers; returns how many fired.
pub async fn fire_due(pool: &PgPool, clock: &dyn Clock, handler: &dyn TimerHandler, batch: i64) -> Result<usize, AppError> {
    fire_due_with_metrics(pool, clock, handler, batch, &Metrics::disabled()).await
}

/// [`fire_due`], counting each handler run in `metrics`.
pub async fn fire_due_with_metrics(
    pool: &PgPool,
    clock: &dyn Clock,
    handler: &dyn TimerHandler,
    batch: i64,
    metrics: &Metrics,
) -> Result<usize, AppError> {
    fire_due_until(pool, clock, handler, batch, metrics, &CancellationToken::new()).await
}

async fn fire_due_until(
    pool: &PgPool,
    clock: &dyn Clock,
    handler: &dyn TimerHandler,
    batch: i64,
    metrics: &Metrics,
    stop: &CancellationToken,
) -> Result<usize, AppError> {
    let mut fired = 0usize;
    // Timers that failed in this pass are not picked again until the next one.
    let mut failed: Vec<Uuid> = Vec::new();
    while (fired as i64) < batch && !stop.is_cancelled() {
        let now = clock.now();
        let mut tx = pool.begin().await?;
        let timer: Option<DueTimer> = sqlx::query_as(
            "SELECT timer_id, kind, key, due_at, payload FROM egov_timers
             WHERE status = 'pending' AND due_at <= $1 AND timer_id <> ALL($2)
               AND (retry_at IS NULL OR retry_at <= now())
             ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .bind(&failed)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(timer) = timer else {
            tx.rollback().await?;
            break;
        };
        let span = tracing::info_span!("egov.timer", kind = %timer.kind, key = %timer.key, timer_id = %timer.timer_id);
        let wake = outbox::mark();
        match handler.fire(&mut tx, &timer).instrument(span.clone()).await {
            Ok(()) => {
                sqlx::query("UPDATE egov_timers SET status = 'fired', fired_at = $2, attempts = attempts + 1, last_error = NULL WHERE timer_id = $1")
                    .bind(timer.timer_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                wake.wake_relays();
                span.in_scope(|| tracing::info!(due_at = %timer.due_at, "timer fired"));
                metrics.timer(&timer.kind, TimerOutcome::Fired);
                fired += 1;
            }
            Err(e) => {
                tx.rollback().await?;
                span.in_scope(|| tracing::warn!(error = %e, "timer handler failed; will retry"));
                metrics.timer(&timer.kind, TimerOutcome::Retried);
                // Backoff in real time (1 s, 2 s, 4 s … capped at 5 min): a broken handler does
                // not spin, and a passing fault clears soon.
                sqlx::query(
                    "UPDATE egov_timers SET attempts = attempts + 1, last_error = $2,
                            retry_at = now() + least(power(2, least(attempts, 9)), 300) * interval '1 second'
                     WHERE timer_id = $1 AND status = 'pending'",
                )
                .bind(timer.timer_id)
                .bind(e.to_string())
                .execute(pool)
                .await?;
                failed.push(timer.timer_id);
            }
        }
    }
    Ok(fired)
}
