//! The outbox relay: publishes committed outbox rows to the topic exchange and marks them sent.
//!
//! Rows are claimed with `FOR UPDATE SKIP LOCKED` inside a transaction that stays open until the
//! broker has confirmed the batch, so any number of replicas relay side by side without
//! publishing the same row concurrently, and a crashed relay's rows unlock for the next one.
//! A row is marked `sent` only after its publisher confirm is an ack *and* the message was not
//! returned as unroutable (RabbitMQ acks a returned mandatory message): marking first could lose
//! an event the broker never stored. The price is that a relay dying between the confirm and the
//! commit publishes that batch again; consumers are idempotent (`inbox`) for exactly this reason.
//! Failed rows back off exponentially and, after `max_attempts`, become `dead` for an operator
//! to inspect ([`list_dead`]) and [`redrive`]. The relay checks the broker before it claims
//! anything, so an outage stalls it (with backoff) without spending the rows' attempts; only a
//! batch caught in flight by the failure counts one. It wakes when a unit of work of its own
//! process committed an event (`outbox::WakeMark`), at most once per `outbox.gather_ms` (under a
//! stream of commits, a pass per commit would cost a third of the service's database time), on a
//! `NOTIFY` from a writer outside the services (`outbox::announce`), and on its poll interval for
//! retries that came due and rows nobody announced.

use std::time::Duration;

use lapin::{
    BasicProperties, Channel, ExchangeKind, PublisherConfirm,
    options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions},
    types::{AMQPValue, FieldTable, LongString},
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sqlx::{PgPool, postgres::PgListener};
use time::OffsetDateTime;
use tokio::{task::JoinHandle, time::Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    AppError,
    broker::{Broker, BrokerError, short},
    config::OutboxSettings,
    metrics::{Metrics, seconds_since},
    outbox,
};

/// How long a batch may wait for its publisher confirms before the relay gives up on the
/// channel (the row locks are held meanwhile).
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest the relay waits between attempts during a broker or database outage.
const OUTAGE_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// An event an operator has to look at.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeadEventRow {
    pub event_id: Uuid,
    pub routing_key: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    event_id: Uuid,
    routing_key: String,
    payload: Vec<u8>,
    headers: serde_json::Value,
    attempts: i32,
    created_at: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// Runs the relay until `shutdown`, recording no metrics.
pub fn spawn_relay(pool: PgPool, broker: Broker, settings: OutboxSettings, shutdown: CancellationToken) -> JoinHandle<()> {
    spawn_relay_with_metrics(pool, broker, settings, Metrics::disabled(), shutdown)
}

/// Runs the relay until `shutdown`, counting published and failed events in `metrics`.
pub fn spawn_relay_with_metrics(
    pool: PgPool,
    broker: Broker,
    settings: OutboxSettings,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut wake = outbox::wake_ups();
        let listener = tokio::spawn(listen(pool.clone(), shutdown.clone()));
        let mut relay = Relay { pool, broker, settings, channel: None, rng: StdRng::from_os_rng(), metrics };
        let poll = Duration::from_millis(relay.settings.poll_interval_ms.max(1));
        let gather = Duration::from_millis(relay.settings.gather_ms);
        let mut passed;
        let mut outage = Duration::ZERO;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            // Seen before the pass: a wake-up during it makes the relay look again.
            wake.borrow_and_update();
            passed = Instant::now();
            let pause = match relay.pass().await {
                Ok(claimed) if claimed >= relay.settings.batch_size as usize => {
                    outage = Duration::ZERO;
                    continue;
                }
                Ok(_) => {
                    outage = Duration::ZERO;
                    poll
                }
                Err(e) => {
                    outage = (outage * 2).max(Duration::from_millis(relay.settings.backoff_base_ms.max(10))).min(OUTAGE_BACKOFF_MAX);
                    tracing::warn!(error = %e, retry_in = ?outage, "outbox relay stalled");
                    relay.channel = None;
                    outage
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = wake.changed(), if outage.is_zero() => {
                    // Under a stream of commits, gather them: at most one pass per `gather`.
                    // An event after a quiet spell goes at once.
                    let since = passed.elapsed();
                    if since < gather {
                        tokio::select! {
                            _ = shutdown.cancelled() => break,
                            _ = tokio::time::sleep(gather - since) => {}
                        }
                    }
                }
                _ = tokio::time::sleep(pause) => {}
            }
        }
        if let Some(ch) = relay.channel.take() {
            let _ = ch.close(200, "OK".into()).await;
        }
        listener.abort();
    })
}

/// Turns `NOTIFY`s on the outbox channel into wake-ups; the poll interval covers any it misses.
async fn listen(pool: PgPool, shutdown: CancellationToken) {
    let mut delay = Duration::from_millis(100);
    loop {
        let res = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = listen_until_error(&pool, &mut delay) => r,
        };
        let Err(e) = res;
        tracing::debug!(error = %e, "outbox listener lost its connection; polling meanwhile");
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(OUTAGE_BACKOFF_MAX);
    }
}

async fn listen_until_error(pool: &PgPool, retry_delay: &mut Duration) -> Result<std::convert::Infallible, sqlx::Error> {
    let mut l = PgListener::connect_with(pool).await?;
    l.listen(outbox::OUTBOX_CHANNEL).await?;
    *retry_delay = Duration::from_millis(100);
    // A reconnect may have dropped notifications: look once more.
    outbox::wake_now();
    loop {
        l.recv().await?;
        outbox::wake_now();
    }
}

struct Relay {
    pool: PgPool,
    broker: Broker,
    settings: OutboxSettings,
    channel: Option<Channel>,
    rng: StdRng,
    metrics: Metrics,
}

enum Outcome {
    Sent,
    Failed(String),
}

impl Relay {
    async fn confirm_channel(&mut self) -> Result<Channel, BrokerError> {
        if let Some(ch) = &self.channel
            && ch.status().connected()
        {
            return Ok(ch.clone());
        }
        let ch = self.broker.channel().await?;
        // Redeclared with every channel: an exchange deleted under a live connection would
        // otherwise fail every publish until the next reconnection.
        let durable = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
        ch.exchange_declare(short(&self.broker.settings().exchange)?, ExchangeKind::Topic, durable, FieldTable::default()).await?;
        ch.confirm_select(ConfirmSelectOptions::default()).await?;
        self.channel = Some(ch.clone());
        Ok(ch)
    }

    /// One batch: claim, publish, await confirms, record. Returns the number of rows claimed.
    async fn pass(&mut self) -> Result<usize, RelayError> {
        // Before claiming, so an unreachable broker holds no row locks.
        let ch = self.confirm_channel().await?;
        let mut tx = self.pool.begin().await?;
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT event_id, routing_key, payload, headers, attempts, created_at FROM egov_outbox
             WHERE status = 'pending' AND next_attempt_at <= now()
             ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(i64::from(self.settings.batch_size))
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        let outcomes = self.publish_batch(&ch, &rows).await;

        let (mut sent, mut sent_created) = (Vec::new(), Vec::new());
        let (mut failed, mut errors, mut delays, mut dead) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (row, outcome) in rows.iter().zip(outcomes) {
            match outcome {
                Outcome::Sent => {
                    sent.push(row.event_id);
                    sent_created.push(row.created_at);
                }
                Outcome::Failed(reason) => {
                    let attempts = row.attempts.saturating_add(1);
                    let is_dead = attempts >= self.settings.max_attempts as i32;
                    if is_dead {
                        tracing::error!(event_id = %row.event_id, routing_key = %row.routing_key, attempts, error = %reason, "outbox event is dead; an operator must redrive it");
                    } else {
                        tracing::warn!(event_id = %row.event_id, routing_key = %row.routing_key, attempts, error = %reason, "outbox publish failed; will retry");
                    }
                    failed.push(row.event_id);
                    errors.push(reason);
                    delays.push(self.backoff_ms(row.attempts));
                    dead.push(is_dead);
                }
            }
        }
        if !sent.is_empty() {
            sqlx::query("UPDATE egov_outbox SET status = 'sent', sent_at = now() WHERE event_id = ANY($1)")
                .bind(&sent)
                .execute(&mut *tx)
                .await?;
        }
        if !failed.is_empty() {
            sqlx::query(
                "UPDATE egov_outbox o SET attempts = o.attempts + 1, last_error = f.error,
                        next_attempt_at = now() + f.delay_ms * interval '1 millisecond',
                        status = CASE WHEN f.dead THEN 'dead' ELSE 'pending' END
                 FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::bool[]) AS f(event_id, error, delay_ms, dead)
                 WHERE o.event_id = f.event_id",
            )
            .bind(&failed)
            .bind(&errors)
            .bind(&delays)
            .bind(&dead)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let now = OffsetDateTime::now_utc();
        // `created_at` is the database's commit-time now(), so this is real time, like `now`.
        self.metrics.outbox_published(sent_created.iter().map(|c| seconds_since(now, *c)));
        self.metrics.outbox_failed(failed.len());
        if let Some(oldest) = rows.iter().map(|r| r.created_at).min() {
            let lag = now - oldest;
            tracing::debug!(sent = sent.len(), failed = failed.len(), lag_ms = lag.whole_milliseconds() as i64, "outbox batch relayed");
        }
        Ok(rows.len())
    }

    /// Publishes every row, then awaits the confirms (pipelined: one round trip per batch).
    async fn publish_batch(&mut self, ch: &Channel, rows: &[OutboxRow]) -> Vec<Outcome> {
        let deadline = Instant::now() + CONFIRM_TIMEOUT;
        let mut channel_failed = false;
        let mut confirms: Vec<Result<PublisherConfirm, String>> = Vec::with_capacity(rows.len());
        for row in rows {
            if short(&row.routing_key).is_err() {
                confirms.push(Err("routing key longer than 255 bytes".into()));
                continue;
            }
            let c = match self.publish(ch, row, deadline).await {
                Ok(c) => Ok(c),
                Err(e) => {
                    channel_failed = true;
                    Err(e)
                }
            };
            confirms.push(c);
        }
        let mut outcomes = Vec::with_capacity(rows.len());
        for c in confirms {
            let outcome = match c {
                Err(e) => Outcome::Failed(e),
                Ok(confirm) => match tokio::time::timeout_at(deadline, confirm).await {
                    Err(_) => {
                        channel_failed = true;
                        Outcome::Failed("no publisher confirm within 30 s".into())
                    }
                    Ok(Err(e)) => {
                        channel_failed = true;
                        Outcome::Failed(format!("publisher confirm failed: {e}"))
                    }
                    Ok(Ok(confirmation)) if confirmation.is_ack() => match confirmation.take_message() {
                        None => Outcome::Sent,
                        Some(returned) => Outcome::Failed(format!("unroutable: {} {}", returned.reply_code, returned.reply_text)),
                    },
                    Ok(Ok(_)) => Outcome::Failed("nacked by the broker".into()),
                },
            };
            outcomes.push(outcome);
        }
        if channel_failed {
            self.channel = None;
        }
        outcomes
    }

    async fn publish(&self, ch: &Channel, row: &OutboxRow, deadline: Instant) -> Result<PublisherConfirm, String> {
        let routing_key = short(&row.routing_key).map_err(|e| e.to_string())?;
        let exchange = short(&self.broker.settings().exchange).map_err(|e| e.to_string())?;
        let mut headers = FieldTable::default();
        let mut trace_headers = std::collections::HashMap::new();
        if let serde_json::Value::Object(map) = &row.headers {
            for (k, v) in map {
                let Ok(key) = short(k) else { continue };
                let value = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                trace_headers.insert(k.clone(), value.clone());
                headers.insert(key, AMQPValue::LongString(LongString::from(value)));
            }
        }
        // The publish joins the trace of the change that enqueued the event (its traceparent was
        // captured with the row), so one trace runs from the gRPC call to the consumers.
        let span = tracing::info_span!(
            "egov.publish",
            otel.kind = "producer",
            routing_key = %row.routing_key,
            event_id = %row.event_id,
        );
        crate::telemetry::set_parent_from_headers(&span, &trace_headers);
        let props = BasicProperties::default()
            .with_message_id(row.event_id.to_string().into())
            .with_type(routing_key.clone())
            .with_content_type("application/x-protobuf".into())
            .with_delivery_mode(2)
            .with_timestamp(row.created_at.unix_timestamp().max(0) as u64)
            .with_app_id(short(self.broker.service()).map_err(|e| e.to_string())?)
            .with_headers(headers);
        let publish =
            ch.basic_publish(exchange, routing_key, BasicPublishOptions { mandatory: true, immediate: false }, &row.payload, props);
        match tracing::Instrument::instrument(tokio::time::timeout_at(deadline, publish), span).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(format!("publish failed: {e}")),
            Err(_) => Err("publish timed out (broker blocked?)".into()),
        }
    }

    /// `backoff_base_ms * 2^attempts`, capped, plus up to 10 % jitter so that a burst of failures
    /// does not retry in lockstep.
    fn backoff_ms(&mut self, attempts: i32) -> f64 {
        let base = self.settings.backoff_base_ms as f64;
        let capped = (base * 2f64.powi(attempts.clamp(0, 62))).min(self.settings.backoff_max_ms as f64);
        capped + self.rng.random_range(0.0..=capped * 0.1)
    }
}

/// Dead events, oldest first.
pub async fn list_dead(pool: &PgPool, limit: i64) -> Result<Vec<DeadEventRow>, AppError> {
    let rows = sqlx::query_as(
        "SELECT event_id, routing_key, attempts, last_error, created_at FROM egov_outbox
         WHERE status = 'dead' ORDER BY created_at LIMIT $1",
    )
    .bind(limit.max(0))
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// Puts dead events (`ids`, or all when empty) back in the queue with a fresh attempt budget.
pub async fn redrive(pool: &PgPool, ids: &[Uuid]) -> Result<u64, AppError> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query(
        "UPDATE egov_outbox SET status = 'pending', attempts = 0, next_attempt_at = now()
         WHERE status = 'dead' AND (cardinality($1::uuid[]) = 0 OR event_id = ANY($1))",
    )
    .bind(ids)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    if n > 0 {
        outbox::wake_now();
    }
    Ok(n)
}
