//! (a) The outbox relay against a raw publisher on the same broker.
//!
//! A fresh database (platform migrations only) and virtual host; a durable queue bound to `#` on
//! the suite's exchange, so every publish is routable and stored. The baseline publishes the same
//! messages (payload, properties, headers) with publisher confirms, `mandatory` and persistence,
//! pipelined like the relay: a batch of `batch_size`, then its confirms. Then the same events go
//! into `egov_outbox`, the relay starts, and the clock runs until no row is pending.

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use egov_platform::{
    broker::{Broker, short},
    config::{OutboxSettings, Profile, Secret, Settings},
    db, outbox, relay,
    testing::{TestDatabase, TestVhost},
};
use egov_proto::events::{self as ev, event_envelope::Payload};
use lapin::{
    BasicProperties, Channel,
    options::{BasicPublishOptions, ConfirmSelectOptions, QueueBindOptions, QueueDeclareOptions, QueuePurgeOptions},
    types::{AMQPValue, FieldTable, LongString},
};
use prost::Message;
use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::stats::rate;

const QUEUE: &str = "egov-bench.events";
const SERVICE: &str = "intake";
/// Rows per INSERT (and per transaction) when filling the outbox.
const INSERT_CHUNK: usize = 5_000;

#[derive(Debug, Clone, Serialize)]
pub struct RelayReport {
    pub events: u64,
    pub batch_size: u32,
    pub payload_bytes: usize,
    pub raw_seconds: f64,
    pub raw_per_second: f64,
    pub raw_messages_queued: u32,
    pub fill_seconds: f64,
    pub relay_seconds: f64,
    pub relay_per_second: f64,
    pub relay_messages_queued: u32,
    pub ratio: f64,
}

/// One outbox row, as `outbox::enqueue` would store it.
struct Event {
    id: Uuid,
    routing_key: String,
    payload: Vec<u8>,
    headers: serde_json::Value,
    created_at: OffsetDateTime,
}

fn events(n: u64) -> Vec<Event> {
    let now = OffsetDateTime::now_utc();
    (0..n)
        .map(|_| {
            let app = Uuid::now_v7().to_string();
            let payload = Payload::ApplicationSubmitted(ev::ApplicationSubmitted {
                application_id: app.clone(),
                lead_unit_id: "U-BENCH".into(),
                round_id: Uuid::now_v7().to_string(),
                supplementary: false,
            });
            let e = outbox::envelope(SERVICE, "intake.application.submitted", &app, "2026.1", now, payload);
            // enqueue's headers: the trace context (none here), type and producer.
            let mut headers = egov_platform::telemetry::current_trace_headers();
            headers.insert("egov-type".into(), e.r#type.clone());
            headers.insert("egov-producer".into(), e.producer.clone());
            Event {
                id: Uuid::parse_str(&e.event_id).unwrap_or_else(|_| Uuid::now_v7()),
                routing_key: e.r#type.clone(),
                payload: e.encode_to_vec(),
                headers: serde_json::to_value(headers).unwrap_or_default(),
                created_at: now,
            }
        })
        .collect()
}

pub async fn run(n: u64, batch_size: u32) -> anyhow::Result<RelayReport> {
    ensure!(n > 0, "--events must be at least 1");
    let db = TestDatabase::create().await.context("creating the test database (is PostgreSQL up on 127.0.0.1:5432?)")?;
    let vhost = TestVhost::create().await.context("creating the test virtual host (is RabbitMQ up, and rabbitmqctl on PATH?)")?;
    let mut settings = Settings::defaults(SERVICE);
    settings.service.profile = Profile::Test;
    settings.database.url = Secret::new(db.url());
    settings.database.create_if_missing = false;
    settings.broker.url = Secret::new(vhost.amqp_url());
    settings.outbox.batch_size = batch_size;
    let pool = db::connect_and_migrate(
        &settings.database,
        Profile::Test,
        &db::combined_migrator(&sqlx::migrate::Migrator::with_migrations(vec![])),
    )
    .await?;
    let broker = Broker::connect(&settings.broker, SERVICE).await.context("connecting to RabbitMQ")?;
    let setup = broker.channel().await?;
    setup.queue_declare(QUEUE.into(), QueueDeclareOptions { durable: true, ..Default::default() }, FieldTable::default()).await?;
    setup
        .queue_bind(QUEUE.into(), short(&settings.broker.exchange)?, "#".into(), QueueBindOptions::default(), FieldTable::default())
        .await?;

    let evs = events(n);
    let payload_bytes = evs.first().map(|e| e.payload.len()).unwrap_or(0);

    // Baseline: raw publishes.
    eprintln!("(a) raw publish of {n} messages, pipelined by {batch_size} ...");
    let raw_elapsed = raw_publish(&broker, &settings.broker.exchange, &evs, batch_size as usize).await?;
    let raw_queued = queue_depth(&setup).await?;
    ensure!(u64::from(raw_queued) == n, "the queue holds {raw_queued} messages after {n} confirmed raw publishes");
    setup.queue_purge(QUEUE.into(), QueuePurgeOptions::default()).await?;

    // The relay.
    eprintln!("(a) filling the outbox with {n} events ...");
    let fill = Instant::now();
    fill_outbox(&pool, &evs).await?;
    let fill_seconds = fill.elapsed().as_secs_f64();
    eprintln!("(a) relaying ...");
    let relay_elapsed = relay_all(&pool, &broker, settings.outbox.clone(), n).await?;
    let relay_queued = queue_depth(&setup).await?;
    ensure!(u64::from(relay_queued) == n, "the queue holds {relay_queued} messages after the relay marked {n} rows sent");

    let _ = setup.close(200, "OK".into()).await;
    broker.close().await;
    pool.close().await;
    drop(vhost);
    drop(db);

    let raw_per_second = rate(n, raw_elapsed);
    let relay_per_second = rate(n, relay_elapsed);
    Ok(RelayReport {
        events: n,
        batch_size,
        payload_bytes,
        raw_seconds: raw_elapsed.as_secs_f64(),
        raw_per_second,
        raw_messages_queued: raw_queued,
        fill_seconds,
        relay_seconds: relay_elapsed.as_secs_f64(),
        relay_per_second,
        relay_messages_queued: relay_queued,
        ratio: if raw_per_second > 0.0 { relay_per_second / raw_per_second } else { 0.0 },
    })
}

async fn queue_depth(ch: &Channel) -> anyhow::Result<u32> {
    let q = ch
        .queue_declare(QUEUE.into(), QueueDeclareOptions { passive: true, durable: true, ..Default::default() }, FieldTable::default())
        .await?;
    Ok(q.message_count())
}

/// The relay's message properties for `e` (`relay::Relay::publish`).
fn properties(e: &Event) -> anyhow::Result<BasicProperties> {
    let mut headers = FieldTable::default();
    if let serde_json::Value::Object(map) = &e.headers {
        for (k, v) in map {
            let value = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            headers.insert(short(k)?, AMQPValue::LongString(LongString::from(value)));
        }
    }
    Ok(BasicProperties::default()
        .with_message_id(e.id.to_string().into())
        .with_type(short(&e.routing_key)?)
        .with_content_type("application/x-protobuf".into())
        .with_delivery_mode(2)
        .with_timestamp(e.created_at.unix_timestamp().max(0) as u64)
        .with_app_id(short(SERVICE)?)
        .with_headers(headers))
}

/// Publishes every event: a batch, then its confirms; each must be an ack and not returned.
async fn raw_publish(broker: &Broker, exchange: &str, evs: &[Event], batch: usize) -> anyhow::Result<Duration> {
    let ch = broker.channel().await?;
    ch.confirm_select(ConfirmSelectOptions::default()).await?;
    let exchange = short(exchange)?;
    let start = Instant::now();
    for chunk in evs.chunks(batch.max(1)) {
        let mut confirms = Vec::with_capacity(chunk.len());
        for e in chunk {
            let c = ch
                .basic_publish(
                    exchange.clone(),
                    short(&e.routing_key)?,
                    BasicPublishOptions { mandatory: true, immediate: false },
                    &e.payload,
                    properties(e)?,
                )
                .await?;
            confirms.push(c);
        }
        for c in confirms {
            let confirmation = c.await?;
            ensure!(confirmation.is_ack(), "the broker nacked a raw publish");
            if let Some(returned) = confirmation.take_message() {
                bail!("a raw publish was returned as unroutable: {} {}", returned.reply_code, returned.reply_text);
            }
        }
    }
    let elapsed = start.elapsed();
    let _ = ch.close(200, "OK".into()).await;
    Ok(elapsed)
}

/// Bulk INSERT of the rows `outbox::enqueue` would write, a few big transactions (the relay
/// starts afterwards).
async fn fill_outbox(pool: &PgPool, evs: &[Event]) -> anyhow::Result<()> {
    for chunk in evs.chunks(INSERT_CHUNK) {
        let ids: Vec<Uuid> = chunk.iter().map(|e| e.id).collect();
        let keys: Vec<&str> = chunk.iter().map(|e| e.routing_key.as_str()).collect();
        let payloads: Vec<&[u8]> = chunk.iter().map(|e| e.payload.as_slice()).collect();
        let headers: Vec<serde_json::Value> = chunk.iter().map(|e| e.headers.clone()).collect();
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO egov_outbox (event_id, routing_key, payload, headers) SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::jsonb[])")
            .bind(&ids)
            .bind(&keys)
            .bind(&payloads)
            .bind(&headers)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE status = 'pending'").fetch_one(pool).await?;
    ensure!(pending == evs.len() as i64, "{pending} pending rows after inserting {}", evs.len());
    Ok(())
}

/// Starts the relay and times it until no row is pending; every row must then be `sent`.
async fn relay_all(pool: &PgPool, broker: &Broker, outbox: OutboxSettings, n: u64) -> anyhow::Result<Duration> {
    let timeout = Duration::from_secs(120 + n / 100);
    let shutdown = CancellationToken::new();
    let start = Instant::now();
    let handle = relay::spawn_relay(pool.clone(), broker.clone(), outbox, shutdown.clone());
    let outcome = loop {
        let pending: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM egov_outbox WHERE status = 'pending')").fetch_one(pool).await?;
        if !pending {
            break Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            let last: Option<String> = sqlx::query_scalar("SELECT last_error FROM egov_outbox WHERE last_error IS NOT NULL LIMIT 1")
                .fetch_optional(pool)
                .await?
                .flatten();
            break Err(anyhow::anyhow!(
                "the relay left rows pending after {timeout:?}; last error: {}",
                last.unwrap_or_else(|| "none recorded".into())
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    shutdown.cancel();
    let _ = handle.await;
    let elapsed = outcome?;
    let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE status = 'sent'").fetch_one(pool).await?;
    if sent != n as i64 {
        let last: Option<String> =
            sqlx::query_scalar("SELECT last_error FROM egov_outbox WHERE status <> 'sent' LIMIT 1").fetch_optional(pool).await?.flatten();
        bail!("the relay marked {sent} of {n} rows sent; last error: {}", last.unwrap_or_default());
    }
    Ok(elapsed)
}
