//! Housekeeping: retention of the platform's bookkeeping rows, run by every service.
//!
//! Once an outbox event is `sent` its row has done its job; once a timer has fired or been
//! cancelled, so has its row. Left alone they would grow without bound, so this loop deletes
//! `sent` outbox rows older than `outbox.retention_hours` and fired or cancelled timers older
//! than `timers.retention_hours`, in small batches (`housekeeping.batch_size`, oldest first,
//! `SKIP LOCKED`) so that no delete holds many locks or writes a burst of WAL, and so that any
//! number of replicas prune side by side. Pending and dead outbox rows and pending timers are
//! never deleted: they are work still to do or for an operator to look at.
//!
//! Inbox rows (`egov_inbox`) are deliberately kept: they are the consumers' idempotency record,
//! and an event can be redelivered at any later time (a producer's relay republishing after a
//! crash, an operator redriving a dead event or a dead-letter queue), so deleting a row would let
//! a late redelivery apply its effect a second time.
//!
//! Ages are measured in real time (the database's `now()`), not on the service clock: a clock
//! moved forward in local and test runs must never make rows look old early.

use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{config::Settings, metrics::Metrics};

/// The pause between two batches of a pass, to leave the database to the service's own work.
const BATCH_PAUSE: Duration = Duration::from_millis(50);

/// What to keep, and how much one delete takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Hours a `sent` outbox row is kept.
    pub outbox_hours: u64,
    /// Hours a fired or cancelled timer is kept.
    pub timer_hours: u64,
    /// Rows per delete.
    pub batch_size: u32,
}

impl Retention {
    pub fn from_settings(settings: &Settings) -> Retention {
        Retention {
            outbox_hours: settings.outbox.retention_hours,
            timer_hours: settings.timers.retention_hours,
            batch_size: settings.housekeeping.batch_size.max(1),
        }
    }
}

/// Rows deleted by one pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub outbox: u64,
    pub timers: u64,
}

/// Prunes now, then every `interval`, until `shutdown`.
pub fn spawn_housekeeping(
    pool: PgPool,
    retention: Retention,
    interval: Duration,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let interval = interval.max(Duration::from_secs(1));
        loop {
            match prune(&pool, retention, &metrics, &shutdown).await {
                Ok(p) if p != Pruned::default() => tracing::info!(outbox = p.outbox, timers = p.timers, "housekeeping deleted old rows"),
                Ok(_) => {}
                // The next pass tries again; nothing is lost by waiting.
                Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    })
}

/// One pass: deletes batches until none is left or `stop` fires (between batches).
pub async fn prune(pool: &PgPool, retention: Retention, metrics: &Metrics, stop: &CancellationToken) -> Result<Pruned, sqlx::Error> {
    let batch = i64::from(retention.batch_size.max(1));
    // The inner SELECTs match the partial indexes of migration 0003.
    let outbox = drain(
        pool,
        "DELETE FROM egov_outbox WHERE event_id IN (
             SELECT event_id FROM egov_outbox
             WHERE status = 'sent' AND sent_at < now() - $1::float8 * interval '1 hour'
             ORDER BY sent_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        retention.outbox_hours,
        batch,
        stop,
    )
    .await?;
    metrics.deleted("egov_outbox", outbox);
    let timers = drain(
        pool,
        "DELETE FROM egov_timers WHERE timer_id IN (
             SELECT timer_id FROM egov_timers
             WHERE status <> 'pending' AND coalesce(fired_at, cancelled_at, created_at) < now() - $1::float8 * interval '1 hour'
             ORDER BY coalesce(fired_at, cancelled_at, created_at) LIMIT $2 FOR UPDATE SKIP LOCKED)",
        retention.timer_hours,
        batch,
        stop,
    )
    .await?;
    metrics.deleted("egov_timers", timers);
    Ok(Pruned { outbox, timers })
}

/// Runs the batched `delete` until a batch comes back short.
async fn drain(pool: &PgPool, delete: &'static str, hours: u64, batch: i64, stop: &CancellationToken) -> Result<u64, sqlx::Error> {
    let mut total = 0u64;
    loop {
        let n = sqlx::query(delete).bind(hours as f64).bind(batch).execute(pool).await?.rows_affected();
        total += n;
        if (n as i64) < batch || stop.is_cancelled() {
            return Ok(total);
        }
        tokio::select! {
            _ = stop.cancelled() => return Ok(total),
            _ = tokio::time::sleep(BATCH_PAUSE) => {}
        }
    }
}
