//! One test's world (its own database, vhost and tasks) and the handlers the tests share.

use std::{collections::BTreeMap, sync::Arc, sync::Mutex, time::Duration};

use egov_platform::{
    AppError,
    auth::RoleTable,
    broker::Broker,
    config::{Secret, Settings},
    inbox::{self, EventHandler, HandleError, Recorder, Subscription},
    metrics::Metrics,
    ops::allow_platform_services,
    outbox, relay,
    server::{Platform, ServiceApp},
    telemetry,
    testing::{TcpProxy, TestDatabase, TestVhost, eventually, platform_pool, test_settings},
    timer_runner::{DueTimer, TimerHandler},
    timers,
};
use egov_proto::events::{EventEnvelope, ProjectStatusChanged, event_envelope::Payload};
use futures::future::BoxFuture;
use lapin::{options::QueueDeclareOptions, types::FieldTable};
use opentelemetry::{KeyValue, metrics::MeterProvider};
use opentelemetry_sdk::metrics::{
    InMemoryMetricExporter, PeriodicReader, SdkMeterProvider,
    data::{AggregatedMetrics, MetricData},
};
use sqlx::migrate::Migrator;
use sqlx::{PgConnection, PgPool};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use uuid::Uuid;

pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// One test's world: its database (migrated), vhost, settings, and a shutdown for its tasks.
pub(crate) struct Env {
    pub(crate) shutdown: CancellationToken,
    pub(crate) tasks: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) brokers: Mutex<Vec<Broker>>,
    pub(crate) settings: Settings,
    pub(crate) pool: PgPool,
    pub(crate) db: TestDatabase,
    pub(crate) vhost: TestVhost,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub(crate) async fn env(service: &str) -> Env {
    telemetry::init_for_tests();
    let (db, vhost) = tokio::try_join!(TestDatabase::create(), TestVhost::create()).expect("test database and vhost");
    let settings = test_settings(service, &db, &vhost);
    let pool = platform_pool(&db).await.expect("migrated pool");
    sqlx::query("CREATE TABLE test_effects (event_id uuid NOT NULL, event_type text NOT NULL)").execute(&pool).await.unwrap();
    Env { shutdown: CancellationToken::new(), tasks: Mutex::default(), brokers: Mutex::default(), settings, pool, db, vhost }
}

impl Env {
    /// Shuts the test's tasks down (they must stop promptly) and closes its connections, so no
    /// background work outlives the test's runtime.
    pub(crate) async fn close(self) {
        self.shutdown.cancel();
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap());
        tokio::time::timeout(Duration::from_secs(5), futures::future::join_all(tasks)).await.expect("tasks stop promptly on shutdown");
        let brokers = std::mem::take(&mut *self.brokers.lock().unwrap());
        for b in brokers {
            b.close().await;
        }
        self.pool.close().await;
    }

    pub(crate) fn track(&self, task: JoinHandle<()>) {
        self.tasks.lock().unwrap().push(task);
    }

    pub(crate) fn keep(&self, broker: &Broker) {
        self.brokers.lock().unwrap().push(broker.clone());
    }

    pub(crate) async fn broker(&self, name: &str) -> Broker {
        let b = Broker::connect(&self.settings.broker, name).await.expect("broker");
        self.keep(&b);
        b
    }

    /// A broker connection through `proxy`.
    pub(crate) async fn broker_via(&self, proxy: &TcpProxy, name: &str) -> Broker {
        let mut via_proxy = self.settings.broker.clone();
        via_proxy.url = Secret::new(self.vhost.amqp_url_via(proxy.addr()));
        let b = Broker::connect(&via_proxy, name).await.expect("broker through the proxy");
        self.keep(&b);
        b
    }

    /// A consumer running `handler`, subscribed when this returns.
    pub(crate) async fn consumer(&self, broker: &Broker, consumer: &str, bindings: &[&str], handler: Arc<dyn EventHandler>) {
        self.consumer_on(&self.pool, broker, consumer, bindings, handler).await;
    }

    /// The same on another pool (one through a proxy).
    pub(crate) async fn consumer_on(
        &self,
        pool: &PgPool,
        broker: &Broker,
        consumer: &str,
        bindings: &[&str],
        handler: Arc<dyn EventHandler>,
    ) {
        let sub = Subscription { consumer: consumer.into(), bindings: bindings.iter().map(|b| b.to_string()).collect() };
        self.track(inbox::spawn_consumer(pool.clone(), broker.clone(), sub, handler, self.shutdown.clone()));
        self.subscribed(broker, consumer).await;
    }

    /// A consumer recording its outcomes with `recorder`, subscribed when this returns.
    pub(crate) async fn consumer_recorded(
        &self,
        broker: &Broker,
        consumer: &str,
        bindings: &[&str],
        handler: Arc<dyn EventHandler>,
        recorder: Recorder,
    ) {
        let sub = Subscription { consumer: consumer.into(), bindings: bindings.iter().map(|b| b.to_string()).collect() };
        self.track(inbox::spawn_consumer_with_metrics(self.pool.clone(), broker.clone(), sub, handler, recorder, self.shutdown.clone()));
        self.subscribed(broker, consumer).await;
    }

    async fn subscribed(&self, broker: &Broker, consumer: &str) {
        let queue = inbox::queue_name(&self.settings.broker, consumer);
        eventually(WAIT, "the consumer subscribes", || async {
            let Ok(ch) = broker.channel().await else { return false };
            let q = ch.queue_declare(queue.as_str().into(), QueueDeclareOptions::durable().passive(), FieldTable::default()).await;
            let _ = ch.close(200, "OK".into()).await;
            q.map(|q| q.consumer_count() > 0).unwrap_or(false)
        })
        .await;
    }

    pub(crate) fn relay(&self, broker: &Broker) {
        self.track(relay::spawn_relay(self.pool.clone(), broker.clone(), self.settings.outbox.clone(), self.shutdown.clone()));
    }

    /// Enqueues an event as a unit of work of this process does: committed, then the relay woken.
    pub(crate) async fn enqueue(&self, event_type: &str) -> EventEnvelope {
        let wake = outbox::mark();
        let e = self.enqueue_unannounced(event_type).await;
        wake.wake_relays();
        e
    }

    /// Enqueues an event as another process would: committed, and no relay of this one woken.
    pub(crate) async fn enqueue_unannounced(&self, event_type: &str) -> EventEnvelope {
        let payload = Payload::ProjectStatusChanged(ProjectStatusChanged { status: "TEST".into(), summary: event_type.into() });
        let e = outbox::envelope("test", event_type, &Uuid::now_v7().to_string(), "test-policy", time::OffsetDateTime::now_utc(), payload);
        let mut tx = self.pool.begin().await.unwrap();
        outbox::enqueue(&mut tx, &e).await.unwrap();
        tx.commit().await.unwrap();
        e
    }

    pub(crate) async fn effects(&self, e: &EventEnvelope) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM test_effects WHERE event_id = $1::uuid")
            .bind(&e.event_id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub(crate) async fn inbox_rows(&self, e: &EventEnvelope) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM egov_inbox WHERE event_id = $1::uuid")
            .bind(&e.event_id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub(crate) async fn status(&self, e: &EventEnvelope) -> String {
        sqlx::query_scalar("SELECT status FROM egov_outbox WHERE event_id = $1::uuid")
            .bind(&e.event_id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub(crate) async fn dlq_depth(&self, broker: &Broker, consumer: &str) -> u32 {
        inbox::dlq_depth(broker, consumer).await.unwrap_or(0)
    }
}

/// Records each event it applies in `test_effects` (no unique key: a second effect would show).
pub(crate) struct Effects;

impl EventHandler for Effects {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>> {
        Box::pin(async move {
            sqlx::query("INSERT INTO test_effects (event_id, event_type) VALUES ($1::uuid, $2)")
                .bind(&event.event_id)
                .bind(&event.r#type)
                .execute(&mut *tx)
                .await
                .map_err(|e| HandleError::Transient(e.to_string()))?;
            Ok(())
        })
    }
}

/// Records each firing in `test_timer_effects` with the runner's name, after `work_ms` of
/// "work" (so that competing runners overlap); kind `boom` writes and then fails.
pub(crate) struct TimerEffects {
    pub(crate) runner: &'static str,
    pub(crate) work_ms: u32,
}

impl TimerHandler for TimerEffects {
    fn fire<'a>(&'a self, tx: &'a mut PgConnection, timer: &'a DueTimer) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move {
            if self.work_ms > 0 {
                sqlx::query("SELECT pg_sleep($1)").bind(f64::from(self.work_ms) / 1000.0).execute(&mut *tx).await?;
            }
            sqlx::query("INSERT INTO test_timer_effects (timer_id, key, runner) VALUES ($1, $2, $3)")
                .bind(timer.timer_id)
                .bind(&timer.key)
                .bind(self.runner)
                .execute(&mut *tx)
                .await?;
            if timer.kind == "boom" {
                return Err(AppError::Internal(anyhow::anyhow!("boom")));
            }
            Ok(())
        })
    }
}

pub(crate) async fn timer_env() -> (TestDatabase, PgPool) {
    telemetry::init_for_tests();
    let db = TestDatabase::create().await.unwrap();
    let pool = platform_pool(&db).await.unwrap();
    sqlx::query("CREATE TABLE test_timer_effects (timer_id uuid NOT NULL, key text NOT NULL, runner text NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    (db, pool)
}

pub(crate) async fn schedule(pool: &PgPool, kind: &str, key: &str, due_at: time::OffsetDateTime) -> Uuid {
    let mut tx = pool.begin().await.unwrap();
    let id = timers::schedule(&mut tx, kind, key, due_at, serde_json::json!({})).await.unwrap();
    tx.commit().await.unwrap();
    id
}

/// An in-memory meter provider for one test, and what it recorded.
pub(crate) struct Recorded {
    pub(crate) provider: SdkMeterProvider,
    exporter: InMemoryMetricExporter,
}

/// One exported data point: a sum's or gauge's value, or a histogram's count and sum.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub(crate) name: String,
    pub(crate) attrs: BTreeMap<String, String>,
    pub(crate) value: f64,
    pub(crate) count: u64,
}

impl Recorded {
    pub(crate) fn new() -> Recorded {
        let exporter = InMemoryMetricExporter::default();
        // Exports only when a test flushes.
        let reader = PeriodicReader::builder(exporter.clone()).with_interval(Duration::from_secs(3600)).build();
        Recorded { provider: SdkMeterProvider::builder().with_reader(reader).build(), exporter }
    }

    /// Instruments on this provider, as `Platform::build` makes them.
    pub(crate) fn metrics(&self) -> Metrics {
        Metrics::new(&self.provider.meter("egov-platform-test"))
    }

    /// Flushes (on a blocking thread: the SDK waits for its reader) and returns the points of
    /// that export: cumulative, so every series with its total so far.
    pub(crate) async fn snapshot(&self) -> Vec<Point> {
        let provider = self.provider.clone();
        tokio::task::spawn_blocking(move || provider.force_flush()).await.unwrap().unwrap();
        let exports = self.exporter.get_finished_metrics().unwrap();
        self.exporter.reset();
        let mut points = Vec::new();
        let Some(last) = exports.last() else { return points };
        for scope in last.scope_metrics() {
            for metric in scope.metrics() {
                let name = metric.name().to_string();
                match metric.data() {
                    AggregatedMetrics::F64(d) => collect(&mut points, &name, d, |v| v),
                    AggregatedMetrics::U64(d) => collect(&mut points, &name, d, |v| v as f64),
                    AggregatedMetrics::I64(d) => collect(&mut points, &name, d, |v| v as f64),
                }
            }
        }
        points
    }

    /// Polls snapshots until `check` holds for one; panics with `what` after the usual wait.
    pub(crate) async fn eventually(&self, what: &str, check: impl Fn(&[Point]) -> bool) -> Vec<Point> {
        let mut last = Vec::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
            last = self.snapshot().await;
            if check(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for: {what}; last export: {last:#?}");
    }
}

fn collect<T: Copy>(points: &mut Vec<Point>, name: &str, data: &MetricData<T>, f: impl Fn(T) -> f64) {
    let attrs = |kvs: &mut dyn Iterator<Item = &KeyValue>| kvs.map(|kv| (kv.key.as_str().to_string(), kv.value.to_string())).collect();
    match data {
        MetricData::Sum(s) => {
            for p in s.data_points() {
                points.push(Point { name: name.into(), attrs: attrs(&mut p.attributes()), value: f(p.value()), count: 0 });
            }
        }
        MetricData::Gauge(g) => {
            for p in g.data_points() {
                points.push(Point { name: name.into(), attrs: attrs(&mut p.attributes()), value: f(p.value()), count: 0 });
            }
        }
        MetricData::Histogram(h) => {
            for p in h.data_points() {
                points.push(Point { name: name.into(), attrs: attrs(&mut p.attributes()), value: f(p.sum()), count: p.count() });
            }
        }
        MetricData::ExponentialHistogram(_) => {}
    }
}

/// The points named `name` whose attributes include `attrs`.
pub(crate) fn matching<'a>(points: &'a [Point], name: &'a str, attrs: &'a [(&str, &str)]) -> impl Iterator<Item = &'a Point> + 'a {
    points.iter().filter(move |p| p.name == name && attrs.iter().all(|(k, v)| p.attrs.get(*k).map(String::as_str) == Some(*v)))
}

/// Total of the matching sums (0 when none).
pub(crate) fn total(points: &[Point], name: &str, attrs: &[(&str, &str)]) -> f64 {
    matching(points, name, attrs).map(|p| p.value).sum()
}

/// Observations of the matching histograms (0 when none).
pub(crate) fn observations(points: &[Point], name: &str, attrs: &[(&str, &str)]) -> u64 {
    matching(points, name, attrs).map(|p| p.count).sum()
}

/// The value of an unattributed gauge, if it was observed.
pub(crate) fn gauge(points: &[Point], name: &str) -> Option<f64> {
    matching(points, name, &[]).map(|p| p.value).next()
}

/// The smallest service there is: the platform alone (health, reflection, AuditTrail and
/// Operations behind the metrics and auth layers, relay, housekeeping, sampler).
pub(crate) struct PlatformOnly {
    platform: Platform,
}

impl ServiceApp for PlatformOnly {
    async fn build(settings: Settings) -> anyhow::Result<PlatformOnly> {
        let no_service_migrations = Migrator::with_migrations(vec![]);
        Ok(PlatformOnly { platform: Platform::build(settings, &no_service_migrations).await? })
    }

    fn platform(&self) -> &Platform {
        &self.platform
    }

    async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.platform.serve(Routes::default(), &[], allow_platform_services(RoleTable::new())).await
    }
}
