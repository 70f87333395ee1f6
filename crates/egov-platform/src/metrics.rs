//! Metrics: the one set of OpenTelemetry instruments every egov service records, for RPCs, the
//! outbox, consumers, timers and housekeeping.
//!
//! A [`Metrics`] belongs to one service instance (`Platform::build` makes it from
//! `settings.telemetry`): it records through the meter provider injected in
//! `telemetry.meter_provider` (tests, to read one instance's numbers), or else through the
//! global provider, which `telemetry::init` points at the OTLP endpoint when one is configured
//! and which is OpenTelemetry's no-op otherwise, so a local run records nothing and costs
//! nothing.
//!
//! | instrument | kind, unit | attributes |
//! |---|---|---|
//! | `rpc.server.duration` | histogram, s | `rpc.system`, `rpc.service`, `rpc.method`, `rpc.grpc.status_code` |
//! | `rpc.server.requests` | counter, {request} | the same |
//! | `egov.outbox.pending` | gauge, {event} | |
//! | `egov.outbox.oldest_pending_age` | gauge, s | |
//! | `egov.outbox.dead` | gauge, {event} | |
//! | `egov.outbox.published` | counter, {event} | |
//! | `egov.outbox.publish_failures` | counter, {event} | |
//! | `egov.outbox.delivery_lag` | histogram, s (commit to broker confirm) | |
//! | `egov.consumer.lag` | histogram, s (`occurred_at` to applied) | `consumer` |
//! | `egov.consumer.events` | counter, {event} | `consumer`, `outcome` |
//! | `egov.timers.fired` | counter, {timer} | `kind`, `outcome` |
//! | `egov.timers.overdue` | gauge, {timer} | |
//! | `egov.housekeeping.deleted` | counter, {row} | `table` |
//!
//! The gauges are read from the database by a sampler task ([`spawn_sampler`], every
//! `telemetry.metrics_sample_ms`, only while metrics are exported) into atomics; the observable
//! gauges' callbacks only read those atomics, because the SDK calls them on its export thread,
//! where a database query would block. A failed sample withdraws the gauges until the next good
//! one rather than repeating stale numbers.
//!
//! The RPC status is read from the response: the `grpc-status` header of a trailers-only
//! response (every refusal: the auth layer's, and any handler error), or, when the response
//! carries no `grpc-status` header, OK, since the handler produced a message and its status
//! travels in the trailers. For a streaming response this records the status and the duration as
//! of the response headers; an error raised later in the stream is not seen. A call the client
//! abandons before the response is recorded as CANCELLED. Methods the role table does not know
//! (and UNIMPLEMENTED paths) are recorded as `_OTHER`, so random paths cannot grow the series.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use opentelemetry::{
    InstrumentationScope, KeyValue,
    metrics::{Counter, Histogram, Meter, MeterProvider, NoopMeterProvider},
};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;

use crate::{
    auth::RoleTable,
    clock::{Clock, SharedClock},
    config::TelemetrySettings,
};

/// Bucket boundaries (seconds) of `rpc.server.duration`: the semantic conventions' advice.
const RPC_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
/// Bucket boundaries (seconds) of the event lags: from "at once" to an outage of hours.
const LAG_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0];

/// How a consumer settled a delivery (`outcome` of `egov.consumer.events`). A delivery held
/// through a database outage counts once, when it settles. Messages RabbitMQ dead-letters itself
/// (the delivery limit spent on transient failures) show as `transient` here and in the DLQ depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeOutcome {
    /// Applied and acknowledged.
    Ok,
    /// Already in the inbox: acknowledged with no second effect.
    Duplicate,
    /// The handler failed transiently: requeued (counted against the delivery limit).
    Transient,
    /// Refused for good by the handler, or undecodable: rejected to the dead-letter queue.
    DeadLettered,
}

impl ConsumeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumeOutcome::Ok => "ok",
            ConsumeOutcome::Duplicate => "duplicate",
            ConsumeOutcome::Transient => "transient",
            ConsumeOutcome::DeadLettered => "dead_lettered",
        }
    }
}

/// How one run of a timer's handler ended (`outcome` of `egov.timers.fired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerOutcome {
    /// The handler's effects committed; the timer is done.
    Fired,
    /// The handler failed; the timer stays pending and is retried with backoff.
    Retried,
}

impl TimerOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerOutcome::Fired => "fired",
            TimerOutcome::Retried => "retried",
        }
    }
}

/// One service instance's instruments; cheap to clone (shared).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Instruments>,
}

struct Instruments {
    /// Whether anything reads these numbers (an injected or OTLP provider): the sampler's
    /// database queries are skipped otherwise.
    enabled: bool,
    rpc_duration: Histogram<f64>,
    rpc_requests: Counter<u64>,
    outbox_published: Counter<u64>,
    outbox_failures: Counter<u64>,
    outbox_delivery_lag: Histogram<f64>,
    consumer_lag: Histogram<f64>,
    consumer_events: Counter<u64>,
    timers_fired: Counter<u64>,
    housekeeping_deleted: Counter<u64>,
    /// Written by the sampler, read by the observable gauges' callbacks.
    gauges: Arc<Gauges>,
}

#[derive(Default)]
struct Gauges {
    outbox_sampled: AtomicBool,
    outbox_pending: AtomicU64,
    outbox_dead: AtomicU64,
    /// f64 seconds, as bits.
    outbox_oldest_age: AtomicU64,
    timers_sampled: AtomicBool,
    timers_overdue: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("enabled", &self.inner.enabled).finish_non_exhaustive()
    }
}

impl Metrics {
    /// The instruments of a service configured by `settings`: on the injected provider, else
    /// on the global one (OTLP when `otlp_endpoint` is set and `telemetry::init` ran; no-op
    /// otherwise).
    pub fn from_settings(settings: &TelemetrySettings) -> Metrics {
        let scope = InstrumentationScope::builder("egov-platform").with_version(env!("CARGO_PKG_VERSION")).build();
        match &settings.meter_provider {
            Some(provider) => Metrics::build(&provider.meter_with_scope(scope), true),
            None => Metrics::build(&opentelemetry::global::meter_provider().meter_with_scope(scope), !settings.otlp_endpoint.is_empty()),
        }
    }

    /// Instruments on `meter`, enabled.
    pub fn new(meter: &Meter) -> Metrics {
        Metrics::build(meter, true)
    }

    /// Instruments that record nothing (loops started outside a `Platform`).
    pub fn disabled() -> Metrics {
        Metrics::build(&NoopMeterProvider::new().meter("egov-platform"), false)
    }

    /// Whether the numbers go anywhere (and so are worth sampling from the database).
    pub fn enabled(&self) -> bool {
        self.inner.enabled
    }

    fn build(meter: &Meter, enabled: bool) -> Metrics {
        let gauges = Arc::new(Gauges::default());
        let g = gauges.clone();
        meter
            .u64_observable_gauge("egov.outbox.pending")
            .with_description("Outbox events committed and not yet confirmed by the broker")
            .with_unit("{event}")
            .with_callback(move |o| {
                if g.outbox_sampled.load(Ordering::Relaxed) {
                    o.observe(g.outbox_pending.load(Ordering::Relaxed), &[]);
                }
            })
            .build();
        let g = gauges.clone();
        meter
            .f64_observable_gauge("egov.outbox.oldest_pending_age")
            .with_description("Age of the oldest pending outbox event (0 when none is pending)")
            .with_unit("s")
            .with_callback(move |o| {
                if g.outbox_sampled.load(Ordering::Relaxed) {
                    o.observe(f64::from_bits(g.outbox_oldest_age.load(Ordering::Relaxed)), &[]);
                }
            })
            .build();
        let g = gauges.clone();
        meter
            .u64_observable_gauge("egov.outbox.dead")
            .with_description("Outbox events given up after max_attempts, waiting for an operator to redrive them")
            .with_unit("{event}")
            .with_callback(move |o| {
                if g.outbox_sampled.load(Ordering::Relaxed) {
                    o.observe(g.outbox_dead.load(Ordering::Relaxed), &[]);
                }
            })
            .build();
        let g = gauges.clone();
        meter
            .u64_observable_gauge("egov.timers.overdue")
            .with_description("Pending timers whose due time (on the service clock) has passed")
            .with_unit("{timer}")
            .with_callback(move |o| {
                if g.timers_sampled.load(Ordering::Relaxed) {
                    o.observe(g.timers_overdue.load(Ordering::Relaxed), &[]);
                }
            })
            .build();
        let instruments = Instruments {
            enabled,
            rpc_duration: meter
                .f64_histogram("rpc.server.duration")
                .with_description("Duration of gRPC calls served, to the response headers")
                .with_unit("s")
                .with_boundaries(RPC_BUCKETS.to_vec())
                .build(),
            rpc_requests: meter.u64_counter("rpc.server.requests").with_description("gRPC calls served").with_unit("{request}").build(),
            outbox_published: meter
                .u64_counter("egov.outbox.published")
                .with_description("Outbox events confirmed by the broker and marked sent")
                .with_unit("{event}")
                .build(),
            outbox_failures: meter
                .u64_counter("egov.outbox.publish_failures")
                .with_description("Outbox publish attempts that failed (retried with backoff, or dead)")
                .with_unit("{event}")
                .build(),
            outbox_delivery_lag: meter
                .f64_histogram("egov.outbox.delivery_lag")
                .with_description("Time from an outbox event's commit to the broker's confirm")
                .with_unit("s")
                .with_boundaries(LAG_BUCKETS.to_vec())
                .build(),
            consumer_lag: meter
                .f64_histogram("egov.consumer.lag")
                .with_description("Time from an event's occurred_at to its effect committing at a consumer")
                .with_unit("s")
                .with_boundaries(LAG_BUCKETS.to_vec())
                .build(),
            consumer_events: meter
                .u64_counter("egov.consumer.events")
                .with_description("Deliveries settled by consumers, by outcome")
                .with_unit("{event}")
                .build(),
            timers_fired: meter
                .u64_counter("egov.timers.fired")
                .with_description("Timer handler runs, by kind and outcome (fired, or retried after a failure)")
                .with_unit("{timer}")
                .build(),
            housekeeping_deleted: meter
                .u64_counter("egov.housekeeping.deleted")
                .with_description("Rows deleted by retention")
                .with_unit("{row}")
                .build(),
            gauges,
        };
        Metrics { inner: Arc::new(instruments) }
    }

    pub(crate) fn rpc(&self, method: Option<(String, String)>, status: i64, elapsed: Duration) {
        let (svc, m) = method.unwrap_or_else(|| (OTHER.to_string(), OTHER.to_string()));
        let attrs = [
            KeyValue::new("rpc.system", "grpc"),
            KeyValue::new("rpc.service", svc),
            KeyValue::new("rpc.method", m),
            KeyValue::new("rpc.grpc.status_code", status),
        ];
        self.inner.rpc_duration.record(elapsed.as_secs_f64(), &attrs);
        self.inner.rpc_requests.add(1, &attrs);
    }

    pub(crate) fn outbox_published(&self, delivery_lags: impl Iterator<Item = f64>) {
        let mut n = 0u64;
        for lag in delivery_lags {
            self.inner.outbox_delivery_lag.record(lag.max(0.0), &[]);
            n += 1;
        }
        if n > 0 {
            self.inner.outbox_published.add(n, &[]);
        }
    }

    pub(crate) fn outbox_failed(&self, n: usize) {
        if n > 0 {
            self.inner.outbox_failures.add(n as u64, &[]);
        }
    }

    /// One delivery settled by `consumer`; `lag` (seconds) when the effect was applied.
    pub(crate) fn consumed(&self, consumer: &str, outcome: ConsumeOutcome, lag: Option<f64>) {
        let who = KeyValue::new("consumer", consumer.to_string());
        if let Some(lag) = lag {
            self.inner.consumer_lag.record(lag.max(0.0), std::slice::from_ref(&who));
        }
        self.inner.consumer_events.add(1, &[who, KeyValue::new("outcome", outcome.as_str())]);
    }

    pub(crate) fn timer(&self, kind: &str, outcome: TimerOutcome) {
        self.inner.timers_fired.add(1, &[KeyValue::new("kind", kind.to_string()), KeyValue::new("outcome", outcome.as_str())]);
    }

    pub(crate) fn deleted(&self, table: &'static str, n: u64) {
        if n > 0 {
            self.inner.housekeeping_deleted.add(n, &[KeyValue::new("table", table)]);
        }
    }

    fn set_outbox(&self, sample: Option<(u64, u64, f64)>) {
        let g = &self.inner.gauges;
        if let Some((pending, dead, oldest)) = sample {
            g.outbox_pending.store(pending, Ordering::Relaxed);
            g.outbox_dead.store(dead, Ordering::Relaxed);
            g.outbox_oldest_age.store(oldest.max(0.0).to_bits(), Ordering::Relaxed);
        }
        g.outbox_sampled.store(sample.is_some(), Ordering::Relaxed);
    }

    fn set_timers(&self, overdue: Option<u64>) {
        let g = &self.inner.gauges;
        if let Some(n) = overdue {
            g.timers_overdue.store(n, Ordering::Relaxed);
        }
        g.timers_sampled.store(overdue.is_some(), Ordering::Relaxed);
    }
}

/// `rpc.service` and `rpc.method` of calls outside the role table.
const OTHER: &str = "_OTHER";

/// Samples the gauges every `every` until `shutdown`.
pub fn spawn_sampler(pool: PgPool, clock: SharedClock, metrics: Metrics, every: Duration, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = every.max(Duration::from_millis(10));
        loop {
            // Bounded, so that a hung database withdraws the gauges instead of freezing them.
            let limit = every.max(Duration::from_secs(5));
            tokio::select! {
                _ = shutdown.cancelled() => return,
                r = tokio::time::timeout(limit, sample(&pool, clock.as_ref(), &metrics)) => {
                    if !matches!(r, Ok(Ok(()))) {
                        tracing::debug!("metrics sample failed; gauges withdrawn until the next one");
                        metrics.set_outbox(None);
                        metrics.set_timers(None);
                    }
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    })
}

/// Reads the gauges once. Each count runs on a partial index (pending, dead, pending timers),
/// however many sent rows the outbox holds.
pub async fn sample(pool: &PgPool, clock: &dyn Clock, metrics: &Metrics) -> Result<(), sqlx::Error> {
    let (pending, oldest, dead): (i64, Option<f64>, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM egov_outbox WHERE status = 'pending'),
                (SELECT extract(epoch FROM now() - min(created_at))::float8 FROM egov_outbox WHERE status = 'pending'),
                (SELECT count(*) FROM egov_outbox WHERE status = 'dead')",
    )
    .fetch_one(pool)
    .await?;
    metrics.set_outbox(Some((u64::try_from(pending).unwrap_or(0), u64::try_from(dead).unwrap_or(0), oldest.unwrap_or(0.0))));
    // Due on the service clock, as the timer runner judges it.
    let overdue: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE status = 'pending' AND due_at <= $1")
        .bind(clock.now())
        .fetch_one(pool)
        .await?;
    metrics.set_timers(Some(u64::try_from(overdue).unwrap_or(0)));
    Ok(())
}

/// Seconds from `then` to `now`, never negative (clocks of different services may disagree).
pub(crate) fn seconds_since(now: OffsetDateTime, then: OffsetDateTime) -> f64 {
    (now - then).as_seconds_f64().max(0.0)
}

/// Tower layer recording `rpc.server.duration` and `rpc.server.requests` for every call; put
/// it outside the auth layer so that refused calls count too.
#[derive(Clone)]
pub struct RpcMetricsLayer {
    metrics: Metrics,
    /// Which paths are real methods (the rest are recorded as `_OTHER`).
    known: Arc<RoleTable>,
}

impl RpcMetricsLayer {
    pub fn new(metrics: Metrics, known: RoleTable) -> RpcMetricsLayer {
        RpcMetricsLayer { metrics, known: Arc::new(known) }
    }
}

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetricsService<S>;
    fn layer(&self, inner: S) -> RpcMetricsService<S> {
        RpcMetricsService { metrics: self.metrics.clone(), known: self.known.clone(), inner }
    }
}

#[derive(Clone)]
pub struct RpcMetricsService<S> {
    metrics: Metrics,
    known: Arc<RoleTable>,
    inner: S,
}

impl<S> tower::Service<http::Request<Body>> for RpcMetricsService<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let path = req.uri().path();
        let method = if self.known.roles(path).is_some() || self.known.is_public(path) {
            path.strip_prefix('/').and_then(|p| p.split_once('/')).map(|(s, m)| (s.to_string(), m.to_string()))
        } else {
            None
        };
        let mut call = RpcCall { metrics: self.metrics.clone(), method, started: Instant::now(), done: false };
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await;
            call.finish(match &res {
                Ok(response) => grpc_status(response),
                Err(_) => UNKNOWN,
            });
            res
        })
    }
}

const CANCELLED: i64 = 1;
const UNKNOWN: i64 = 2;
const UNIMPLEMENTED: i64 = 12;

/// One call in flight; recorded once, as CANCELLED if dropped before the response.
struct RpcCall {
    metrics: Metrics,
    method: Option<(String, String)>,
    started: Instant,
    done: bool,
}

impl RpcCall {
    fn finish(&mut self, status: i64) {
        if self.done {
            return;
        }
        self.done = true;
        let method = if status == UNIMPLEMENTED { None } else { self.method.take() };
        self.metrics.rpc(method, status, self.started.elapsed());
    }
}

impl Drop for RpcCall {
    fn drop(&mut self) {
        self.finish(CANCELLED);
    }
}

/// The gRPC status of a response, from its headers (see the module docs).
fn grpc_status<B>(response: &http::Response<B>) -> i64 {
    if let Some(code) = response.headers().get("grpc-status").and_then(|v| v.to_str().ok()).and_then(|s| s.trim().parse::<i64>().ok()) {
        return code;
    }
    // The gRPC HTTP-to-status mapping, for responses that are not gRPC at all.
    match response.status().as_u16() {
        200 => 0,
        400 => 13,
        401 => 16,
        403 => 7,
        404 => UNIMPLEMENTED,
        429 | 502..=504 => 14,
        _ => UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_from_headers() {
        let ok = http::Response::builder().status(200).body(()).unwrap();
        assert_eq!(grpc_status(&ok), 0);
        let denied = http::Response::builder().status(200).header("grpc-status", "7").body(()).unwrap();
        assert_eq!(grpc_status(&denied), 7);
        let not_grpc = http::Response::builder().status(503).body(()).unwrap();
        assert_eq!(grpc_status(&not_grpc), 14);
    }

    /// Answers with a fixed `grpc-status`, or never (`None`).
    #[derive(Clone)]
    struct Fixed(Option<&'static str>);

    impl tower::Service<http::Request<Body>> for Fixed {
        type Response = http::Response<Body>;
        type Error = std::convert::Infallible;
        type Future = futures::future::BoxFuture<'static, Result<http::Response<Body>, std::convert::Infallible>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: http::Request<Body>) -> Self::Future {
            match self.0 {
                Some(code) => {
                    Box::pin(async move { Ok(http::Response::builder().header("grpc-status", code).body(Body::empty()).unwrap()) })
                }
                None => Box::pin(futures::future::pending()),
            }
        }
    }

    /// `(rpc.service, rpc.method, rpc.grpc.status_code)` → requests, after a flush.
    fn requests(
        provider: &opentelemetry_sdk::metrics::SdkMeterProvider,
        exporter: &opentelemetry_sdk::metrics::InMemoryMetricExporter,
    ) -> Vec<(String, String, String, u64)> {
        use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
        provider.force_flush().unwrap();
        let exports = exporter.get_finished_metrics().unwrap();
        let mut out = Vec::new();
        for scope in exports.last().unwrap().scope_metrics() {
            for m in scope.metrics().filter(|m| m.name() == "rpc.server.requests") {
                let AggregatedMetrics::U64(MetricData::Sum(sum)) = m.data() else { panic!("a u64 sum") };
                for p in sum.data_points() {
                    let attr = |k: &str| p.attributes().find(|kv| kv.key.as_str() == k).map(|kv| kv.value.to_string()).unwrap_or_default();
                    out.push((attr("rpc.service"), attr("rpc.method"), attr("rpc.grpc.status_code"), p.value()));
                }
            }
        }
        out.sort();
        out
    }

    #[tokio::test]
    async fn rpc_layer_names_known_methods_only_and_counts_abandoned_calls() {
        use tower::{Layer, Service};
        let exporter = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
        let reader = opentelemetry_sdk::metrics::PeriodicReader::builder(exporter.clone()).build();
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder().with_reader(reader).build();
        let metrics = Metrics::new(&provider.meter("test"));
        let roles = RoleTable::new().allow("egov.x.v1.X", "Known", &[crate::auth::Role::Drb]);
        let layer = RpcMetricsLayer::new(metrics, roles);
        let req = |path: &str| http::Request::builder().uri(path).body(Body::empty()).unwrap();

        layer.layer(Fixed(Some("0"))).call(req("/egov.x.v1.X/Known")).await.unwrap();
        layer.layer(Fixed(Some("7"))).call(req("/egov.x.v1.X/Unknown")).await.unwrap();
        layer.layer(Fixed(Some("12"))).call(req("/grpc.health.v1.Health/Nope")).await.unwrap();
        let mut abandoned = layer.layer(Fixed(None)).call(req("/egov.x.v1.X/Known"));
        assert!(futures::poll!(&mut abandoned).is_pending());
        // The client went away: the server drops the call's future.
        drop(abandoned);

        let other = || OTHER.to_string();
        assert_eq!(
            requests(&provider, &exporter),
            vec![
                (other(), other(), "12".into(), 1),
                (other(), other(), "7".into(), 1),
                ("egov.x.v1.X".into(), "Known".into(), "0".into(), 1),
                ("egov.x.v1.X".into(), "Known".into(), "1".into(), 1),
            ]
        );
    }

    #[test]
    fn lags_are_never_negative() {
        let now = OffsetDateTime::now_utc();
        assert_eq!(seconds_since(now, now + time::Duration::seconds(5)), 0.0);
        assert!((seconds_since(now, now - time::Duration::milliseconds(1500)) - 1.5).abs() < 1e-9);
    }
}
