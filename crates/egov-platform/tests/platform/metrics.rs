//! Metrics, read back through an in-memory exporter injected per test (so parallel tests never
//! see each other's numbers): RPC durations and counts by method and status, the outbox gauges
//! through a broker outage, consumer lag and outcomes, timer firings and the overdue gauge.
//! Exact timings are never asserted, only that they were recorded.

use std::{sync::Arc, time::Duration};

use egov_platform::{
    auth::Role,
    clock::{AdjustableClock, Clock},
    inbox::Recorder,
    metrics::{self, Metrics},
    relay,
    testing::{RunningService, TcpProxy, TestDatabase, TestVhost, bearer, eventually, test_settings, token},
    timer_runner,
};
use egov_proto::common::{GetClockRequest, ListDeadEventsRequest, operations_client::OperationsClient};
use lapin::{
    BasicProperties,
    options::{BasicPublishOptions, ConfirmSelectOptions},
};
use tokio_util::sync::CancellationToken;

use crate::support::*;

const OPERATIONS: &str = "egov.common.v1.Operations";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_calls_are_measured_by_method_and_status() {
    let (db, vhost) = tokio::try_join!(TestDatabase::create(), TestVhost::create()).unwrap();
    let recorded = Recorded::new();
    let mut settings = test_settings("metrics", &db, &vhost);
    settings.telemetry.meter_provider = Some(recorded.provider.clone());
    let svc = RunningService::start::<PlatformOnly>(settings).await.unwrap();

    let mut as_drb = OperationsClient::with_interceptor(svc.channel.clone(), bearer(&token(Role::Drb, None)));
    as_drb.get_clock(GetClockRequest {}).await.unwrap();
    let refused = as_drb.list_dead_events(ListDeadEventsRequest::default()).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

    let points = recorded.snapshot().await;
    let ok = [("rpc.system", "grpc"), ("rpc.service", OPERATIONS), ("rpc.method", "GetClock"), ("rpc.grpc.status_code", "0")];
    assert_eq!(observations(&points, "rpc.server.duration", &ok), 1, "{points:#?}");
    assert_eq!(total(&points, "rpc.server.requests", &ok), 1.0);
    let denied = [("rpc.service", OPERATIONS), ("rpc.method", "ListDeadEvents"), ("rpc.grpc.status_code", "7")];
    assert_eq!(observations(&points, "rpc.server.duration", &denied), 1, "{points:#?}");
    assert_eq!(total(&points, "rpc.server.requests", &denied), 1.0);
    assert_eq!(total(&points, "rpc.server.requests", &[]), 2.0, "no other call was made: {points:#?}");
    let duration = matching(&points, "rpc.server.duration", &ok).next().unwrap();
    assert!(duration.value >= 0.0);

    // The platform samples its gauges for an instance whose metrics go somewhere.
    recorded
        .eventually("the platform's sampler reports an empty outbox and no overdue timer", |p| {
            gauge(p, "egov.outbox.pending") == Some(0.0) && gauge(p, "egov.timers.overdue") == Some(0.0)
        })
        .await;
    svc.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_gauges_follow_a_broker_outage() {
    let env = env("moutage").await;
    let recorded = Recorded::new();
    let metrics = recorded.metrics();
    let direct = env.broker("consumer").await;
    env.consumer(&direct, "effects", &["test.#"], Arc::new(Effects)).await;
    let proxy = TcpProxy::start(env.vhost.server_addr()).await;
    let relay_broker = env.broker_via(&proxy, "relay").await;
    env.track(relay::spawn_relay_with_metrics(
        env.pool.clone(),
        relay_broker.clone(),
        env.settings.outbox.clone(),
        metrics.clone(),
        env.shutdown.clone(),
    ));
    env.track(metrics::spawn_sampler(
        env.pool.clone(),
        Arc::new(AdjustableClock::new(0)),
        metrics.clone(),
        Duration::from_millis(50),
        env.shutdown.clone(),
    ));

    let before = env.enqueue("test.before").await;
    eventually(WAIT, "an event goes through the proxy", || async { env.effects(&before).await == 1 }).await;
    eventually(WAIT, "and is marked sent", || async { env.status(&before).await == "sent" }).await;
    recorded.eventually("nothing pending", |p| gauge(p, "egov.outbox.pending") == Some(0.0)).await;

    proxy.cut();
    eventually(WAIT, "the relay notices the broker is gone", || async { !relay_broker.is_connected() }).await;
    let during = env.enqueue("test.during").await;
    let points = recorded.eventually("the stuck event shows as pending", |p| gauge(p, "egov.outbox.pending") == Some(1.0)).await;
    assert!(gauge(&points, "egov.outbox.oldest_pending_age").is_some_and(|age| age >= 0.0), "{points:#?}");
    assert_eq!(gauge(&points, "egov.outbox.dead"), Some(0.0));

    proxy.restore();
    eventually(WAIT, "the event is delivered after the outage", || async { env.effects(&during).await == 1 }).await;
    let points = recorded
        .eventually("nothing pending once delivered", |p| {
            gauge(p, "egov.outbox.pending") == Some(0.0) && total(p, "egov.outbox.published", &[]) >= 2.0
        })
        .await;
    assert_eq!(gauge(&points, "egov.outbox.oldest_pending_age"), Some(0.0));
    assert!(observations(&points, "egov.outbox.delivery_lag", &[]) >= 2, "{points:#?}");
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_outbox_events_show_in_the_dead_gauge() {
    let mut env = env("mdead").await;
    env.settings.outbox.max_attempts = 1;
    let recorded = Recorded::new();
    let metrics = recorded.metrics();
    let broker = env.broker("svc").await;
    env.track(relay::spawn_relay_with_metrics(
        env.pool.clone(),
        broker.clone(),
        env.settings.outbox.clone(),
        metrics.clone(),
        env.shutdown.clone(),
    ));
    // Nothing is bound to it: unroutable, so dead after its one attempt.
    let orphan = env.enqueue("orphan.created").await;
    eventually(WAIT, "the unroutable event is dead", || async { env.status(&orphan).await == "dead" }).await;
    metrics::sample(&env.pool, &AdjustableClock::new(0), &metrics).await.unwrap();
    let points = recorded.snapshot().await;
    assert_eq!(gauge(&points, "egov.outbox.dead"), Some(1.0), "{points:#?}");
    assert_eq!(gauge(&points, "egov.outbox.pending"), Some(0.0));
    assert_eq!(total(&points, "egov.outbox.publish_failures", &[]), 1.0);
    assert_eq!(total(&points, "egov.outbox.published", &[]), 0.0);
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_records_lag_and_outcomes() {
    let env = env("mconsume").await;
    let recorded = Recorded::new();
    let broker = env.broker("svc").await;
    let recorder = Recorder { metrics: recorded.metrics(), clock: Arc::new(AdjustableClock::new(0)) };
    env.consumer_recorded(&broker, "effects", &["test.#"], Arc::new(Effects), recorder).await;
    env.relay(&broker);
    let effects = [("consumer", "effects")];
    let outcome = |o: &'static str| [("consumer", "effects"), ("outcome", o)];

    let event = env.enqueue("test.once").await;
    eventually(WAIT, "the event is applied", || async { env.effects(&event).await == 1 }).await;
    let points = recorded.eventually("an ok outcome", |p| total(p, "egov.consumer.events", &outcome("ok")) == 1.0).await;
    assert_eq!(observations(&points, "egov.consumer.lag", &effects), 1, "{points:#?}");
    assert!(matching(&points, "egov.consumer.lag", &effects).all(|p| p.value >= 0.0));

    // Republished, as by a relay that died between the confirm and its commit.
    eventually(WAIT, "the event is marked sent", || async { env.status(&event).await == "sent" }).await;
    sqlx::query("UPDATE egov_outbox SET status = 'pending', sent_at = NULL WHERE event_id = $1::uuid")
        .bind(&event.event_id)
        .execute(&env.pool)
        .await
        .unwrap();
    let points = recorded.eventually("a duplicate outcome", |p| total(p, "egov.consumer.events", &outcome("duplicate")) == 1.0).await;
    assert_eq!(total(&points, "egov.consumer.events", &outcome("ok")), 1.0);
    assert_eq!(observations(&points, "egov.consumer.lag", &effects), 1, "a duplicate has no lag: nothing was applied");
    assert_eq!(env.effects(&event).await, 1);

    // Bytes that are no protobuf at all go to the dead-letter queue.
    let ch = broker.channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default()).await.unwrap();
    ch.basic_publish(
        env.settings.broker.exchange.as_str().into(),
        "test.garbage".into(),
        BasicPublishOptions { mandatory: true, immediate: false },
        b"\x0f\xff\xff garbage",
        BasicProperties::default(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    recorded.eventually("a dead-lettered outcome", |p| total(p, "egov.consumer.events", &outcome("dead_lettered")) == 1.0).await;
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fired_timers_are_counted_and_overdue_ones_sampled() {
    let (_db, pool) = timer_env().await;
    let recorded = Recorded::new();
    let metrics: Metrics = recorded.metrics();
    let clock = AdjustableClock::new(0);
    let now = time::OffsetDateTime::now_utc();
    schedule(&pool, "boom", "b", now - time::Duration::seconds(2)).await;
    schedule(&pool, "deadline", "due", now - time::Duration::seconds(1)).await;
    schedule(&pool, "deadline", "later", now + time::Duration::hours(1)).await;

    metrics::sample(&pool, &clock, &metrics).await.unwrap();
    assert_eq!(gauge(&recorded.snapshot().await, "egov.timers.overdue"), Some(2.0));

    let handler = TimerEffects { runner: "a", work_ms: 0 };
    assert_eq!(timer_runner::fire_due_with_metrics(&pool, &clock, &handler, 10, &metrics).await.unwrap(), 1);
    metrics::sample(&pool, &clock, &metrics).await.unwrap();
    let points = recorded.snapshot().await;
    assert_eq!(total(&points, "egov.timers.fired", &[("kind", "deadline"), ("outcome", "fired")]), 1.0, "{points:#?}");
    assert_eq!(total(&points, "egov.timers.fired", &[("kind", "boom"), ("outcome", "retried")]), 1.0);
    assert_eq!(total(&points, "egov.timers.fired", &[("kind", "boom"), ("outcome", "fired")]), 0.0);
    assert_eq!(gauge(&points, "egov.timers.overdue"), Some(1.0), "the failing timer is still overdue");

    // The runner loop counts too; overdue follows the service clock, not the database's.
    clock.set_offset(2 * 3600).unwrap();
    metrics::sample(&pool, &clock, &metrics).await.unwrap();
    assert_eq!(gauge(&recorded.snapshot().await, "egov.timers.overdue"), Some(2.0));
    let shutdown = CancellationToken::new();
    let settings = egov_platform::config::TimerSettings { poll_interval_ms: 20, batch_size: 10, retention_hours: 720, concurrency: 1 };
    let runner = timer_runner::spawn_timer_runner_with_metrics(
        pool.clone(),
        Arc::new(clock),
        Arc::new(TimerEffects { runner: "b", work_ms: 0 }),
        settings,
        metrics.clone(),
        shutdown.clone(),
    );
    recorded
        .eventually("the later timer fires in the runner", |p| {
            total(p, "egov.timers.fired", &[("kind", "deadline"), ("outcome", "fired")]) == 2.0
        })
        .await;
    shutdown.cancel();
    runner.await.unwrap();
    pool.close().await;
}
