//! RabbitMQ: the one connection a service holds, the suite's exchanges, and the clock broadcast.
//!
//! A supervisor task owns reconnection: when the connection fails it opens a new one with
//! backoff, forever, so a service outlives any broker outage without a restart. lapin's own
//! automatic recovery is deliberately left off: with lapin 4.12.3 a recovery whose reconnection
//! is refused, or hung up on mid-handshake (a load balancer with no healthy backend), stalled
//! for tens of seconds or for good in our fault tests, and we do not need its topology replay
//! anyway. Users never keep a channel across failures: they ask [`Broker::channel`] for a fresh
//! one on whatever connection is current and redeclare what they need (declarations are
//! idempotent). The exchanges are declared on every connection so a wiped broker heals itself.
//!
//! A service starts without the broker too ([`Broker::start`]): it serves, its events wait in
//! the outbox, its consumers keep trying, and the supervisor makes the first connection whenever
//! the broker comes; until then [`Broker::is_connected`] says no (health reports it as
//! `egov.broker`).
//!
//! The clock broadcast lives here because it is plain broker traffic: local and test runs move
//! every service's [`AdjustableClock`](crate::clock::AdjustableClock) together by publishing the
//! new offset, and each service applies it from its own exclusive queue.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock, Weak},
    time::Duration,
};

use futures::StreamExt;
use lapin::{
    BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind,
    options::{
        BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable, ShortString},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{clock::SharedClock, config::BrokerSettings};

/// Routing key of the clock broadcast.
pub const CLOCK_ROUTING_KEY: &str = "egov.clock.offset";

/// The clock broadcast's own fanout exchange, beside the events exchange: clock offsets are not
/// events, and a consumer bound to `#` on the events exchange must never see them.
pub fn clock_exchange(settings: &BrokerSettings) -> String {
    format!("{}.clock", settings.exchange)
}

/// How often the supervisor looks at the connection (lapin reports failure through its status).
const SUPERVISE_EVERY: Duration = Duration::from_millis(100);
/// Backoff of the supervisor's own reconnection attempts.
const RECONNECT_MIN: Duration = Duration::from_millis(200);
const RECONNECT_MAX: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("broker url: {0}")]
    Url(String),
    #[error("broker not connected (reconnecting)")]
    NotConnected,
    #[error("broker closed")]
    Closed,
    #[error("invalid AMQP name {0:?}: longer than 255 bytes")]
    Name(String),
    #[error("the broker refused the message (nack)")]
    Nacked,
    #[error("amqp: {0}")]
    Amqp(#[from] lapin::Error),
}

impl From<BrokerError> for crate::AppError {
    fn from(e: BrokerError) -> crate::AppError {
        crate::AppError::Unavailable(e.to_string())
    }
}

/// An AMQP short string, refusing (rather than panicking on) names over 255 bytes.
pub fn short(s: &str) -> Result<ShortString, BrokerError> {
    ShortString::try_new(s).map_err(|_| BrokerError::Name(s.to_string()))
}

/// AMQP headers with string values (trace context, type, producer) as a map.
pub fn headers_map(table: Option<&FieldTable>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in table.into_iter().flatten() {
        let s = match v {
            AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
            AMQPValue::ShortString(s) => s.as_str().to_string(),
            _ => continue,
        };
        out.insert(k.as_str().to_string(), s);
    }
    out
}

/// The service's broker connection; cheap to clone.
#[derive(Clone)]
pub struct Broker {
    inner: Arc<Inner>,
}

struct Inner {
    settings: BrokerSettings,
    service: String,
    /// None until the first connection is made.
    conn: RwLock<Option<Arc<Connection>>>,
    closed: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Stops the supervisor even when nobody called close().
        self.closed.cancel();
    }
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker").field("service", &self.inner.service).field("connected", &self.is_connected()).finish()
    }
}

impl Broker {
    /// Connects, declares the exchanges and starts the reconnect supervisor. Fails when the first
    /// connection cannot be made (after a few quick retries, within seconds).
    pub async fn connect(settings: &BrokerSettings, service: &str) -> Result<Broker, BrokerError> {
        let conn = open(settings, service).await?;
        Ok(Broker::supervised(settings, service, Some(conn)))
    }

    /// Like [`Broker::connect`], but a broker that cannot be reached now is not an error: the
    /// supervisor keeps trying with backoff and the service runs meanwhile. Only a malformed URL
    /// fails.
    pub async fn start(settings: &BrokerSettings, service: &str) -> Result<Broker, BrokerError> {
        let _: lapin::uri::AMQPUri = settings.url.expose().parse().map_err(|e: String| BrokerError::Url(e))?;
        match open(settings, service).await {
            Ok(conn) => Ok(Broker::supervised(settings, service, Some(conn))),
            Err(e) => {
                tracing::warn!(error = %e, "the broker cannot be reached at start; serving without it, events wait in the outbox");
                Ok(Broker::supervised(settings, service, None))
            }
        }
    }

    fn supervised(settings: &BrokerSettings, service: &str, conn: Option<Connection>) -> Broker {
        let inner = Arc::new(Inner {
            settings: settings.clone(),
            service: service.to_string(),
            conn: RwLock::new(conn.map(Arc::new)),
            closed: CancellationToken::new(),
        });
        tokio::spawn(supervise(Arc::downgrade(&inner), inner.closed.clone()));
        Broker { inner }
    }

    /// Whether the broker is reachable right now (gRPC health, readiness).
    pub fn is_connected(&self) -> bool {
        !self.inner.closed.is_cancelled() && self.current().is_some_and(|c| c.status().connected())
    }

    /// A fresh channel on the current connection; fails fast while reconnecting.
    pub async fn channel(&self) -> Result<Channel, BrokerError> {
        if self.inner.closed.is_cancelled() {
            return Err(BrokerError::Closed);
        }
        match self.current() {
            Some(conn) if conn.status().connected() => Ok(conn.create_channel().await?),
            _ => Err(BrokerError::NotConnected),
        }
    }

    pub fn settings(&self) -> &BrokerSettings {
        &self.inner.settings
    }

    pub fn service(&self) -> &str {
        &self.inner.service
    }

    /// Closes the connection and stops reconnecting.
    pub async fn close(&self) {
        self.inner.closed.cancel();
        if let Some(conn) = self.current()
            && conn.status().connected()
            && let Err(e) = conn.close(200, "service shutting down".into()).await
        {
            tracing::debug!(error = %e, "closing the broker connection");
        }
    }

    /// Moves every listening service's clock: publishes `offset_seconds` on the clock exchange.
    pub async fn broadcast_clock_offset(&self, offset_seconds: i64) -> Result<(), BrokerError> {
        let ch = self.channel().await?;
        ch.confirm_select(ConfirmSelectOptions::default()).await?;
        let confirm = ch
            .basic_publish(
                short(&clock_exchange(&self.inner.settings))?,
                CLOCK_ROUTING_KEY.into(),
                BasicPublishOptions::default(),
                offset_seconds.to_string().as_bytes(),
                BasicProperties::default().with_content_type("text/plain".into()).with_app_id(short(&self.inner.service)?),
            )
            .await?
            .await?;
        let _ = ch.close(200, "OK".into()).await;
        if confirm.is_nack() {
            return Err(BrokerError::Nacked);
        }
        Ok(())
    }

    fn current(&self) -> Option<Arc<Connection>> {
        self.inner.conn.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

async fn open(settings: &BrokerSettings, service: &str) -> Result<Connection, BrokerError> {
    let uri: lapin::uri::AMQPUri = settings.url.expose().parse().map_err(|e: String| BrokerError::Url(e))?;
    // A few quick retries of the TCP connection smooth over a blip; beyond that the caller (at
    // start) or the supervisor (later) decides. No enable_auto_recover(): see the module doc.
    let props = ConnectionProperties::default().with_connection_name(format!("egov-{service}").into()).configure_backoff(|b| {
        b.with_min_delay(Duration::from_millis(100)).with_max_delay(Duration::from_secs(1)).with_jitter().with_max_times(3)
    });
    let conn = Connection::connect_uri(uri, props).await?;
    declare_exchanges(&conn, settings).await?;
    Ok(conn)
}

async fn declare_exchanges(conn: &Connection, settings: &BrokerSettings) -> Result<(), BrokerError> {
    let ch = conn.create_channel().await?;
    let durable = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
    for name in [&settings.exchange, &settings.dead_letter_exchange] {
        ch.exchange_declare(short(name)?, ExchangeKind::Topic, durable, FieldTable::default()).await?;
    }
    ch.exchange_declare(short(&clock_exchange(settings))?, ExchangeKind::Fanout, durable, FieldTable::default()).await?;
    let _ = ch.close(200, "OK".into()).await;
    Ok(())
}

/// Replaces the connection whenever it has failed or the broker closed it.
async fn supervise(weak: Weak<Inner>, closed: CancellationToken) {
    let mut delay = RECONNECT_MIN;
    loop {
        tokio::select! {
            _ = closed.cancelled() => return,
            _ = tokio::time::sleep(SUPERVISE_EVERY) => {}
        }
        let Some(inner) = weak.upgrade() else { return };
        let lost = match inner.conn.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(c) => c.status().errored() || c.status().closed(),
            None => true,
        };
        if !lost {
            delay = RECONNECT_MIN;
            continue;
        }
        let (settings, service) = (inner.settings.clone(), inner.service.clone());
        drop(inner);
        tracing::warn!("broker connection lost; reconnecting");
        let attempt = tokio::select! {
            _ = closed.cancelled() => return,
            r = open(&settings, &service) => r,
        };
        match attempt {
            Ok(conn) => {
                let Some(inner) = weak.upgrade() else { return };
                *inner.conn.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(conn));
                tracing::info!("broker reconnected");
                delay = RECONNECT_MIN;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?delay, "broker reconnection failed");
                tokio::select! {
                    _ = closed.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(RECONNECT_MAX);
            }
        }
    }
}

/// Applies clock broadcasts to `clock` until `shutdown`; re-subscribes after broker loss.
pub fn spawn_clock_listener(broker: Broker, clock: SharedClock, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut delay = RECONNECT_MIN;
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            match listen_clock(&broker, &clock, &shutdown, &mut delay).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::debug!(error = %e, retry_in = ?delay, "clock listener: broker unavailable");
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

/// One subscription; returns Ok on shutdown and Err when the channel or connection fails.
async fn listen_clock(
    broker: &Broker,
    clock: &SharedClock,
    shutdown: &CancellationToken,
    retry_delay: &mut Duration,
) -> Result<(), BrokerError> {
    let ch = broker.channel().await?;
    // Server-named, exclusive, auto-delete: each replica sees every broadcast, and the queue
    // disappears with the connection.
    let q = ch.queue_declare("".into(), QueueDeclareOptions::exclusive().auto_delete(), FieldTable::default()).await?;
    ch.queue_bind(
        q.name().clone(),
        short(&clock_exchange(broker.settings()))?,
        CLOCK_ROUTING_KEY.into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await?;
    let mut consumer = ch
        .basic_consume(
            q.name().clone(),
            short(&format!("{}-clock-{}", broker.service(), uuid::Uuid::now_v7().simple()))?,
            // A lost broadcast is harmless to repeat; acks would buy nothing.
            BasicConsumeOptions { no_ack: true, exclusive: true, ..BasicConsumeOptions::default() },
            FieldTable::default(),
        )
        .await?;
    *retry_delay = RECONNECT_MIN;
    loop {
        let next = tokio::select! {
            _ = shutdown.cancelled() => {
                let _ = ch.close(200, "OK".into()).await;
                return Ok(());
            }
            d = consumer.next() => d,
        };
        let delivery = match next {
            Some(Ok(d)) => d,
            Some(Err(e)) => return Err(e.into()),
            None => return Err(BrokerError::NotConnected),
        };
        let text = String::from_utf8_lossy(&delivery.data);
        match text.trim().parse::<i64>() {
            Ok(offset) => match clock.set_offset(offset) {
                Ok(now) => tracing::info!(offset_seconds = now, "clock moved by broadcast"),
                Err(e) => tracing::warn!(error = %e, offset, "clock broadcast ignored: this clock cannot be moved"),
            },
            Err(_) => tracing::warn!(body = %text, "clock broadcast ignored: body is not an integer"),
        }
    }
}
