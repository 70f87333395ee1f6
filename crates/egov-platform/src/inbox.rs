//! Idempotent consumers: a service's durable quorum queue, its dead-letter queue, and the loop
//! that applies each event to the service's database once, however often it is delivered.
//!
//! Delivery is at least once (the relay republishes after a crash, the broker redelivers after a
//! lost ack), so the consumer records `(consumer, event_id)` in `egov_inbox` in the same
//! transaction as the handler's effect: a redelivered event finds its row and is acked with no
//! second effect, and a rolled-back effect leaves no row. The ack is sent only after the commit,
//! never before, so a crash in between means a redelivery, not a loss. Retries are bounded by the
//! quorum queue's `x-delivery-limit`, after which RabbitMQ dead-letters the message (at least
//! once) to the consumer's DLQ, where operators see it; undecodable and permanently failing
//! messages go there at once. A database outage is not the message's fault: the delivery is held
//! and retried in place instead of being requeued, so an outage does not burn delivery attempts.
//!
//! Under load, consecutive deliveries already in hand (up to the prefetch) whose handler says they
//! may be batched ([`EventHandler::batchable`]) are applied in order in one transaction, each in a
//! savepoint of its own, and acked after its one commit: one WAL flush for the lot instead of one
//! each, the same effects and order. An event whose handler fails there is rolled back to its
//! savepoint and, once the others are committed, settled alone as above. Only handlers that lock
//! nothing another transaction locks in a different order may batch: a handler that locks an
//! aggregate's row and then appends to the service's audit chain must not, since a batch would
//! hold the chain's lock while it waits for the next event's row, which a use case may hold while
//! it waits for the chain.

use std::{sync::Arc, time::Duration};

use egov_proto::events::EventEnvelope;
use futures::{FutureExt, StreamExt, future::BoxFuture};
use lapin::{
    Channel, ExchangeKind,
    message::Delivery,
    options::{
        BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions, ExchangeDeclareOptions,
        QueueBindOptions, QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable, LongString},
};
use prost::Message;
use sqlx::{PgConnection, PgPool};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::{
    broker::{Broker, BrokerError, headers_map, short},
    clock::{SharedClock, SystemClock},
    config::BrokerSettings,
    convert,
    metrics::{ConsumeOutcome, Metrics, seconds_since},
    outbox, telemetry,
};

/// Applies one event inside the consumer's transaction (which also holds the inbox row).
pub trait EventHandler: Send + Sync + 'static {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>>;

    /// Whether `event` may share one transaction with the events delivered around it (see the
    /// module doc: only when handling it takes no audit-chain or other lock after a row lock).
    /// By default no event does.
    fn batchable(&self, _event: &EventEnvelope) -> bool {
        false
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// Worth retrying (a lock timeout, a peer briefly away): the message is requeued, up to the
    /// queue's delivery limit.
    #[error("transient: {0}")]
    Transient(String),
    /// Will never succeed (a malformed payload, an unknown reference): dead-lettered at once.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// A use case's error, seen from a consumer: what retrying cannot change (a refusal, a bad
/// reference, a missing resource) is permanent and goes to the dead-letter queue at once; the
/// rest (a database or peer away, a concurrent update, a fault of ours) is retried up to the
/// queue's delivery limit.
impl From<crate::AppError> for HandleError {
    fn from(e: crate::AppError) -> HandleError {
        use crate::AppError as E;
        match e {
            E::InvalidArgument(_) | E::Rule(_) | E::NotFound(_) | E::PermissionDenied(_) | E::Unauthenticated(_) | E::DataLoss(_) => {
                HandleError::Permanent(e.to_string())
            }
            other => HandleError::Transient(other.to_string()),
        }
    }
}

/// What a consumer listens to: its name (queue and inbox key) and topic patterns.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub consumer: String,
    pub bindings: Vec<String>,
}

/// `{queue_prefix}.{consumer}`.
pub fn queue_name(settings: &BrokerSettings, consumer: &str) -> String {
    format!("{}.{consumer}", settings.queue_prefix)
}

/// `{queue_prefix}.{consumer}.dlq`.
pub fn dlq_name(settings: &BrokerSettings, consumer: &str) -> String {
    format!("{}.dlq", queue_name(settings, consumer))
}

/// Messages waiting in the consumer's dead-letter queue.
pub async fn dlq_depth(broker: &Broker, consumer: &str) -> Result<u32, BrokerError> {
    let ch = broker.channel().await?;
    let q = ch
        .queue_declare(short(&dlq_name(broker.settings(), consumer))?, QueueDeclareOptions::durable().passive(), FieldTable::default())
        .await?;
    let _ = ch.close(200, "OK".into()).await;
    Ok(q.message_count())
}

/// Declares the consumer's queues and bindings (idempotent; also done by [`spawn_consumer`]).
pub async fn declare_topology(ch: &Channel, settings: &BrokerSettings, sub: &Subscription) -> Result<(), BrokerError> {
    let queue = queue_name(settings, &sub.consumer);
    let dlq = dlq_name(settings, &sub.consumer);
    let quorum = |extra: &[(&str, AMQPValue)]| {
        let mut args = FieldTable::default();
        args.insert("x-queue-type".into(), AMQPValue::LongString(LongString::from("quorum")));
        for (k, v) in extra {
            args.insert((*k).into(), v.clone());
        }
        args
    };
    // The broker declares the exchanges on connecting; again here so that a consumer heals a
    // broker whose exchanges were deleted under a live connection.
    let durable = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
    for exchange in [&settings.exchange, &settings.dead_letter_exchange] {
        ch.exchange_declare(short(exchange)?, ExchangeKind::Topic, durable, FieldTable::default()).await?;
    }
    ch.queue_declare(short(&dlq)?, QueueDeclareOptions::durable(), quorum(&[])).await?;
    ch.queue_bind(short(&dlq)?, short(&settings.dead_letter_exchange)?, short(&dlq)?, QueueBindOptions::default(), FieldTable::default())
        .await?;
    // RabbitMQ 3.10 quorum queues have no delivery limit by default: without one a poison
    // message would be redelivered forever. At-least-once dead-lettering needs reject-publish.
    let args = quorum(&[
        ("x-delivery-limit", AMQPValue::LongLongInt(i64::from(settings.delivery_limit))),
        ("x-dead-letter-exchange", AMQPValue::LongString(LongString::from(settings.dead_letter_exchange.as_str()))),
        ("x-dead-letter-routing-key", AMQPValue::LongString(LongString::from(dlq.as_str()))),
        ("x-dead-letter-strategy", AMQPValue::LongString(LongString::from("at-least-once"))),
        ("x-overflow", AMQPValue::LongString(LongString::from("reject-publish"))),
    ]);
    ch.queue_declare(short(&queue)?, QueueDeclareOptions::durable(), args).await?;
    for binding in &sub.bindings {
        ch.queue_bind(short(&queue)?, short(&settings.exchange)?, short(binding)?, QueueBindOptions::default(), FieldTable::default())
            .await?;
    }
    Ok(())
}

/// Consumes `sub` until `shutdown`, re-subscribing after broker loss. On shutdown it stops taking
/// deliveries, finishes the one in hand, and closes its channel so the broker requeues the rest.
/// Records no metrics.
pub fn spawn_consumer(
    pool: PgPool,
    broker: Broker,
    sub: Subscription,
    handler: Arc<dyn EventHandler>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    spawn_consumer_with_metrics(
        pool,
        broker,
        sub,
        handler,
        Recorder { metrics: Metrics::disabled(), clock: Arc::new(SystemClock) },
        shutdown,
    )
}

/// Where a consumer records each settled delivery (`egov.consumer.events`) and, for applied
/// events, the lag from `occurred_at` (`egov.consumer.lag`), measured on the service clock: the
/// clock producers stamp `occurred_at` with, moved together in local and test runs.
#[derive(Clone)]
pub struct Recorder {
    pub metrics: Metrics,
    pub clock: SharedClock,
}

impl Recorder {
    fn settled(&self, consumer: &str, outcome: ConsumeOutcome, event: Option<&EventEnvelope>) {
        let lag = match (outcome, event.and_then(|e| e.occurred_at.as_ref()).and_then(convert::from_timestamp)) {
            (ConsumeOutcome::Ok, Some(occurred)) => Some(seconds_since(self.clock.now(), occurred)),
            _ => None,
        };
        self.metrics.consumed(consumer, outcome, lag);
    }
}

/// [`spawn_consumer`], recording its outcomes and lags with `recorder`.
pub fn spawn_consumer_with_metrics(
    pool: PgPool,
    broker: Broker,
    sub: Subscription,
    handler: Arc<dyn EventHandler>,
    recorder: Recorder,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut delay = Duration::from_millis(100);
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            match consume(&pool, &broker, &sub, handler.as_ref(), &recorder, &shutdown, &mut delay).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(consumer = %sub.consumer, error = %e, retry_in = ?delay, "consumer lost the broker; re-subscribing")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    })
}

/// One subscription: Ok on shutdown, Err when the channel or connection fails.
async fn consume(
    pool: &PgPool,
    broker: &Broker,
    sub: &Subscription,
    handler: &dyn EventHandler,
    recorder: &Recorder,
    shutdown: &CancellationToken,
    retry_delay: &mut Duration,
) -> Result<(), BrokerError> {
    let settings = broker.settings();
    let ch = broker.channel().await?;
    declare_topology(&ch, settings, sub).await?;
    ch.basic_qos(settings.prefetch, BasicQosOptions::default()).await?;
    let tag = short(&format!("{}-{}-{}", broker.service(), sub.consumer, Uuid::now_v7().simple()))?;
    let mut deliveries = ch
        .basic_consume(short(&queue_name(settings, &sub.consumer))?, tag.clone(), BasicConsumeOptions::default(), FieldTable::default())
        .await?;
    tracing::info!(consumer = %sub.consumer, bindings = ?sub.bindings, "consuming");
    *retry_delay = Duration::from_millis(100);
    let most = usize::from(settings.prefetch.max(1));
    loop {
        let next = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            d = deliveries.next() => d,
        };
        let mut batch = match next {
            Some(Ok(delivery)) => vec![delivery],
            Some(Err(e)) => return Err(e.into()),
            None => return Err(BrokerError::NotConnected),
        };
        // What else has already arrived, without waiting for more.
        let mut lost = None;
        while batch.len() < most {
            match deliveries.next().now_or_never() {
                Some(Some(Ok(d))) => batch.push(d),
                Some(Some(Err(e))) => {
                    lost = Some(BrokerError::from(e));
                    break;
                }
                Some(None) => {
                    lost = Some(BrokerError::NotConnected);
                    break;
                }
                None => break,
            }
        }
        handle_batch(pool, &sub.consumer, handler, recorder, batch, shutdown).await;
        if let Some(e) = lost {
            return Err(e);
        }
    }
    let _ = ch.basic_cancel(tag, BasicCancelOptions::default()).await;
    // Closing the channel returns any prefetched, unacked deliveries to the queue.
    let _ = ch.close(200, "OK".into()).await;
    Ok(())
}

enum Applied {
    Done,
    Duplicate,
    Transient(String),
    Permanent(String),
}

/// The consumer's span for one delivery, its parent the producer's trace context.
fn delivery_span(consumer: &str, delivery: &Delivery) -> tracing::Span {
    let headers = headers_map(delivery.properties.headers().as_ref());
    let span = tracing::info_span!(
        "egov.consume",
        otel.kind = "consumer",
        consumer = %consumer,
        routing_key = %delivery.routing_key,
        event_id = tracing::field::Empty,
    );
    telemetry::set_parent_from_headers(&span, &headers);
    span
}

/// Settles the deliveries in hand in order: runs of batchable ones in one transaction each, every
/// event in a savepoint, acked after the commit, a failed one settled alone afterwards
/// ([`handle_delivery`]); the others alone. Anything unexpected in a run's transaction (the
/// database going away, a failed commit) hands each of its deliveries, in order, to
/// [`handle_delivery`]: nothing was committed, so nothing is applied twice.
async fn handle_batch(
    pool: &PgPool,
    consumer: &str,
    handler: &dyn EventHandler,
    recorder: &Recorder,
    batch: Vec<Delivery>,
    shutdown: &CancellationToken,
) {
    let mut run = Vec::new();
    for d in batch {
        // Decoded once here; what does not decode, or may not be batched, is settled alone.
        let decoded = EventEnvelope::decode(d.data.as_slice())
            .ok()
            .and_then(|e| Uuid::parse_str(&e.event_id).ok().map(|id| (e, id)))
            .filter(|(e, _)| handler.batchable(e));
        if let Some((event, id)) = decoded {
            run.push((d, event, id));
            continue;
        }
        apply_run(pool, consumer, handler, recorder, std::mem::take(&mut run), shutdown).await;
        handle_delivery(pool, consumer, handler, recorder, d, shutdown).await;
    }
    apply_run(pool, consumer, handler, recorder, run, shutdown).await;
}

/// A delivery in a run, with its decoded event and event id.
type Decoded = (Delivery, EventEnvelope, Uuid);

/// A run of batchable deliveries: one transaction when there are several.
async fn apply_run(
    pool: &PgPool,
    consumer: &str,
    handler: &dyn EventHandler,
    recorder: &Recorder,
    batch: Vec<Decoded>,
    shutdown: &CancellationToken,
) {
    if batch.len() < 2 {
        for (d, _, _) in batch {
            handle_delivery(pool, consumer, handler, recorder, d, shutdown).await;
        }
        return;
    }
    let outcomes = apply_batch(pool, consumer, handler, &batch).await;
    match outcomes {
        Ok(outcomes) => {
            let mut alone = Vec::new();
            for ((d, event, _), outcome) in batch.into_iter().zip(outcomes) {
                match outcome {
                    Some(settled) => {
                        recorder.settled(consumer, settled, Some(&event));
                        ack(&d).await;
                    }
                    None => alone.push(d),
                }
            }
            for d in alone {
                handle_delivery(pool, consumer, handler, recorder, d, shutdown).await;
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, deliveries = batch.len(), "batch not applied; settling each alone");
            for (d, _, _) in batch {
                handle_delivery(pool, consumer, handler, recorder, d, shutdown).await;
            }
        }
    }
}

/// The batch's transaction: for each delivery, `Some` (its outcome) when it was applied or found
/// a duplicate, `None` when its handler failed (rolled back to its savepoint): settled alone.
async fn apply_batch(
    pool: &PgPool,
    consumer: &str,
    handler: &dyn EventHandler,
    batch: &[Decoded],
) -> Result<Vec<Option<ConsumeOutcome>>, sqlx::Error> {
    let wake = outbox::mark();
    let mut tx = pool.begin().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for (d, event, event_id) in batch {
        let event_id = *event_id;
        let span = delivery_span(consumer, d);
        span.record("event_id", tracing::field::display(event_id));
        let applied = async {
            sqlx::query("SAVEPOINT egov_event").execute(&mut *tx).await?;
            let inserted =
                sqlx::query("INSERT INTO egov_inbox (consumer, event_id, routing_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(consumer)
                    .bind(event_id)
                    .bind(d.routing_key.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if inserted == 0 {
                sqlx::query("RELEASE SAVEPOINT egov_event").execute(&mut *tx).await?;
                return Ok::<_, sqlx::Error>(Some(ConsumeOutcome::Duplicate));
            }
            match handler.handle(&mut tx, event).await {
                Ok(()) => {
                    sqlx::query("RELEASE SAVEPOINT egov_event").execute(&mut *tx).await?;
                    Ok(Some(ConsumeOutcome::Ok))
                }
                Err(_) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT egov_event").execute(&mut *tx).await?;
                    Ok(None)
                }
            }
        }
        .instrument(span)
        .await?;
        outcomes.push(applied);
    }
    tx.commit().await?;
    wake.wake_relays();
    Ok(outcomes)
}

async fn handle_delivery(
    pool: &PgPool,
    consumer: &str,
    handler: &dyn EventHandler,
    recorder: &Recorder,
    delivery: Delivery,
    shutdown: &CancellationToken,
) {
    let span = delivery_span(consumer, &delivery);
    process(pool, consumer, handler, recorder, &delivery, shutdown).instrument(span).await
}

async fn process(
    pool: &PgPool,
    consumer: &str,
    handler: &dyn EventHandler,
    recorder: &Recorder,
    delivery: &Delivery,
    shutdown: &CancellationToken,
) {
    let event = match EventEnvelope::decode(delivery.data.as_slice()) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, bytes = delivery.data.len(), "undecodable message; dead-lettering");
            recorder.settled(consumer, ConsumeOutcome::DeadLettered, None);
            return reject(delivery).await;
        }
    };
    let Ok(event_id) = Uuid::parse_str(&event.event_id) else {
        tracing::warn!(event_id = %event.event_id, "event id is not a UUID; dead-lettering");
        recorder.settled(consumer, ConsumeOutcome::DeadLettered, Some(&event));
        return reject(delivery).await;
    };
    tracing::Span::current().record("event_id", tracing::field::display(event_id));
    let mut wait = Duration::from_millis(100);
    loop {
        let problem = match apply(pool, consumer, delivery.routing_key.as_str(), event_id, &event, handler).await {
            Ok(Applied::Done) => {
                recorder.settled(consumer, ConsumeOutcome::Ok, Some(&event));
                return ack(delivery).await;
            }
            Ok(Applied::Duplicate) => {
                tracing::debug!("duplicate delivery; already applied");
                recorder.settled(consumer, ConsumeOutcome::Duplicate, Some(&event));
                return ack(delivery).await;
            }
            Ok(Applied::Permanent(m)) => {
                tracing::warn!(error = %m, "handler refused the event for good; dead-lettering");
                recorder.settled(consumer, ConsumeOutcome::DeadLettered, Some(&event));
                return reject(delivery).await;
            }
            Ok(Applied::Transient(m)) => {
                // A handler's transient failure is often the database going away under it; if
                // so, hold the message rather than spend its delivery budget on the outage.
                if sqlx::query("SELECT 1").execute(pool).await.is_err() {
                    m
                } else {
                    recorder.settled(consumer, ConsumeOutcome::Transient, Some(&event));
                    return retry_later(delivery, &m, shutdown).await;
                }
            }
            Err(e) if is_outage(&e) => e.to_string(),
            // The database answered with an error (a deferred constraint at commit, say): the
            // message's fault, bounded by the delivery limit.
            Err(e) => {
                recorder.settled(consumer, ConsumeOutcome::Transient, Some(&event));
                return retry_later(delivery, &e.to_string(), shutdown).await;
            }
        };
        tracing::warn!(error = %problem, retry_in = ?wait, "database unavailable; holding the delivery");
        tokio::select! {
            _ = shutdown.cancelled() => return requeue(delivery).await,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(Duration::from_secs(5));
    }
}

/// Requeues after a pause that grows with the message's deliveries, so a short-lived problem
/// (a lock, a peer restarting) has time to clear before the delivery limit is spent.
async fn retry_later(delivery: &Delivery, error: &str, shutdown: &CancellationToken) {
    let count = delivery_count(delivery.properties.headers().as_ref());
    let pause = Duration::from_millis(50u64 << count.min(5));
    tracing::warn!(error = %error, deliveries = count + 1, "transient failure; requeueing");
    tokio::select! {
        _ = shutdown.cancelled() => {}
        _ = tokio::time::sleep(pause) => {}
    }
    requeue(delivery).await
}

/// Whether `e` means the database is unreachable (rather than refusing this transaction).
fn is_outage(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        // connection_exception, operator_intervention (shutdown), too_many_connections.
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300"),
        _ => false,
    }
}

/// The inbox row and the handler's effect, in one transaction.
async fn apply(
    pool: &PgPool,
    consumer: &str,
    routing_key: &str,
    event_id: Uuid,
    event: &EventEnvelope,
    handler: &dyn EventHandler,
) -> Result<Applied, sqlx::Error> {
    let wake = outbox::mark();
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query("INSERT INTO egov_inbox (consumer, event_id, routing_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(consumer)
        .bind(event_id)
        .bind(routing_key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if inserted == 0 {
        tx.commit().await?;
        return Ok(Applied::Duplicate);
    }
    match handler.handle(&mut tx, event).await {
        Ok(()) => {
            tx.commit().await?;
            wake.wake_relays();
            Ok(Applied::Done)
        }
        Err(HandleError::Transient(m)) => {
            tx.rollback().await?;
            Ok(Applied::Transient(m))
        }
        Err(HandleError::Permanent(m)) => {
            tx.rollback().await?;
            Ok(Applied::Permanent(m))
        }
    }
}

/// Earlier deliveries of this message, from the quorum queue's `x-delivery-count` header.
fn delivery_count(headers: Option<&FieldTable>) -> u32 {
    let Some(v) = headers.and_then(|h| h.inner().get("x-delivery-count")) else { return 0 };
    let n: i64 = match v {
        AMQPValue::LongLongInt(n) => *n,
        AMQPValue::LongInt(n) => i64::from(*n),
        AMQPValue::LongUInt(n) => i64::from(*n),
        AMQPValue::ShortInt(n) => i64::from(*n),
        AMQPValue::ShortUInt(n) => i64::from(*n),
        AMQPValue::ShortShortInt(n) => i64::from(*n),
        AMQPValue::ShortShortUInt(n) => i64::from(*n),
        _ => 0,
    };
    u32::try_from(n).unwrap_or(0)
}

async fn ack(delivery: &Delivery) {
    if let Err(e) = delivery.acker.ack(lapin::options::BasicAckOptions::default()).await {
        // The broker will redeliver it; the inbox makes that harmless.
        tracing::debug!(error = %e, "ack failed");
    }
}

async fn requeue(delivery: &Delivery) {
    if let Err(e) = delivery.acker.nack(BasicNackOptions { multiple: false, requeue: true }).await {
        tracing::debug!(error = %e, "nack failed");
    }
}

async fn reject(delivery: &Delivery) {
    if let Err(e) = delivery.acker.reject(BasicRejectOptions { requeue: false }).await {
        tracing::debug!(error = %e, "reject failed");
    }
}
