//! The delivery guarantees, against the real PostgreSQL and RabbitMQ: the outbox relay survives
//! broker and database outages and loses nothing; a republished event has no second effect at an
//! idempotent consumer; poison and always-failing messages end in the dead-letter queue; dead
//! outbox events can be redriven; competing timer runners fire each timer once, on the injected
//! clock; the clock broadcast moves adjustable clocks. Each test has its own database and vhost;
//! faults are injected with a TCP proxy the test cuts, never by stopping the shared servers.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use egov_platform::{
    broker::spawn_clock_listener,
    clock::{AdjustableClock, Clock, SharedClock, SystemClock},
    inbox::{self, EventHandler, HandleError},
    relay,
    testing::{TcpProxy, eventually},
    timer_runner::{self, TimerHandler},
    timers,
};
use egov_proto::events::EventEnvelope;
use futures::future::BoxFuture;
use lapin::{
    BasicProperties,
    options::{BasicPublishOptions, ConfirmSelectOptions},
};
use sqlx::{PgConnection, postgres::PgPoolOptions};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::support::*;

/// Fails transiently on `test.flaky` (after writing an effect that must roll back), counting
/// its calls; applies everything else.
#[derive(Default)]
struct Flaky {
    calls: AtomicU32,
}

impl EventHandler for Flaky {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>> {
        Box::pin(async move {
            Effects.handle(tx, event).await?;
            if event.r#type == "test.flaky" {
                self.calls.fetch_add(1, Ordering::SeqCst);
                return Err(HandleError::Transient("always fails".into()));
            }
            Ok(())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_committed_while_broker_unreachable_is_delivered_after_restore() {
    let env = env("outage").await;
    let direct = env.broker("consumer").await;
    env.consumer(&direct, "effects", &["test.#"], Arc::new(Effects)).await;

    let proxy = TcpProxy::start(env.vhost.server_addr()).await;
    let relay_broker = env.broker_via(&proxy, "relay").await;
    env.relay(&relay_broker);

    let before = env.enqueue("test.before").await;
    eventually(WAIT, "an event goes through the proxy", || async { env.effects(&before).await == 1 }).await;

    proxy.cut();
    eventually(WAIT, "the relay notices the broker is gone", || async { !relay_broker.is_connected() }).await;
    let during = env.enqueue("test.during").await;
    assert_eq!(env.status(&during).await, "pending");
    assert_eq!(env.effects(&during).await, 0);

    proxy.restore();
    eventually(WAIT, "the event committed during the outage is delivered", || async { env.effects(&during).await == 1 }).await;
    eventually(WAIT, "and marked sent", || async { env.status(&during).await == "sent" }).await;
    assert!(relay_broker.is_connected());
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_resubscribes_after_broker_loss() {
    let env = env("resubscribe").await;
    let proxy = TcpProxy::start(env.vhost.server_addr()).await;
    let consumer_broker = env.broker_via(&proxy, "consumer").await;
    env.consumer(&consumer_broker, "effects", &["test.#"], Arc::new(Effects)).await;
    let direct = env.broker("relay").await;
    env.relay(&direct);

    let first = env.enqueue("test.first").await;
    eventually(WAIT, "the first event is consumed", || async { env.effects(&first).await == 1 }).await;

    // Hung up on rather than refused: the path where a reconnection dies mid-handshake.
    proxy.cut_hanging_up();
    eventually(WAIT, "the consumer notices the broker is gone", || async { !consumer_broker.is_connected() }).await;
    eventually(WAIT, "its reconnection attempts are hung up on", || async { proxy.hung_up() >= 2 }).await;
    let second = env.enqueue("test.second").await;
    // The durable queue holds it while the consumer is away.
    eventually(WAIT, "the relay publishes it", || async { env.status(&second).await == "sent" }).await;
    assert_eq!(env.effects(&second).await, 0);

    proxy.restore();
    eventually(WAIT, "the consumer re-subscribes and applies it", || async { env.effects(&second).await == 1 }).await;
    assert_eq!(env.effects(&first).await, 1);
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_survives_database_outage() {
    let env = env("dboutage").await;
    let broker = env.broker("svc").await;
    env.consumer(&broker, "effects", &["test.#"], Arc::new(Effects)).await;

    let db_proxy = TcpProxy::start(env.db.server_addr()).await;
    let relay_pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(1))
        .connect(&env.db.url_via(db_proxy.addr()))
        .await
        .unwrap();
    env.track(relay::spawn_relay(relay_pool.clone(), broker.clone(), env.settings.outbox.clone(), env.shutdown.clone()));

    let before = env.enqueue("test.before").await;
    eventually(WAIT, "the relay works through the proxy", || async { env.effects(&before).await == 1 }).await;

    db_proxy.cut_hanging_up();
    let during = env.enqueue("test.during").await;
    eventually(WAIT, "the relay's reconnection attempts are hung up on", || async { db_proxy.hung_up() >= 2 }).await;
    assert_eq!(env.status(&during).await, "pending");
    assert_eq!(env.effects(&during).await, 0);
    db_proxy.restore();
    eventually(WAIT, "the relay resumes after the database returns", || async { env.effects(&during).await == 1 }).await;
    eventually(WAIT, "and marks the event sent", || async { env.status(&during).await == "sent" }).await;
    env.close().await;
    relay_pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_holds_deliveries_through_a_database_outage() {
    held_through_a_database_outage("dbhold", Arc::new(Effects), 1).await;
}

/// `events` published while the consumer's database is cut: none applied, none dead-lettered,
/// each applied once when it comes back.
async fn held_through_a_database_outage(name: &str, handler: Arc<dyn EventHandler>, events: usize) {
    let mut env = env(name).await;
    // One redelivery would already dead-letter: an outage must not spend deliveries.
    env.settings.broker.delivery_limit = 1;
    let broker = env.broker("svc").await;
    let db_proxy = TcpProxy::start(env.db.server_addr()).await;
    let consumer_pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(1))
        .connect(&env.db.url_via(db_proxy.addr()))
        .await
        .unwrap();
    env.consumer_on(&consumer_pool, &broker, "effects", &["test.#"], handler).await;
    env.relay(&broker);

    db_proxy.cut_hanging_up();
    let mut during = Vec::new();
    for _ in 0..events {
        during.push(env.enqueue("test.during").await);
    }
    for e in &during {
        eventually(WAIT, "the event is published", || async { env.status(e).await == "sent" }).await;
    }
    eventually(WAIT, "the consumer keeps retrying its database", || async { db_proxy.hung_up() >= 3 }).await;
    for e in &during {
        assert_eq!(env.effects(e).await, 0);
    }

    db_proxy.restore();
    for e in &during {
        eventually(WAIT, "the held delivery is applied once the database is back", || async { env.effects(e).await == 1 }).await;
        assert_eq!(env.inbox_rows(e).await, 1);
    }
    assert_eq!(env.dlq_depth(&broker, "effects").await, 0, "the outage cost the messages no delivery attempt");
    env.close().await;
    consumer_pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn republished_event_has_no_second_effect() {
    let env = env("dedup").await;
    let broker = env.broker("svc").await;
    env.consumer(&broker, "effects", &["test.#"], Arc::new(Effects)).await;
    env.relay(&broker);

    let event = env.enqueue("test.once").await;
    eventually(WAIT, "the event is applied", || async { env.effects(&event).await == 1 }).await;
    eventually(WAIT, "the event is marked sent", || async { env.status(&event).await == "sent" }).await;

    // The relay "died between publish and mark": the row is pending again and gets republished.
    sqlx::query("UPDATE egov_outbox SET status = 'pending', sent_at = NULL WHERE event_id = $1::uuid")
        .bind(&event.event_id)
        .execute(&env.pool)
        .await
        .unwrap();
    eventually(WAIT, "the relay publishes it again", || async { env.status(&event).await == "sent" }).await;
    // One queue, one consumer, FIFO: once a later event is applied, the duplicate was handled.
    let later = env.enqueue("test.later").await;
    eventually(WAIT, "a later event is applied", || async { env.effects(&later).await == 1 }).await;

    assert_eq!(env.effects(&event).await, 1, "the redelivered event had a second effect");
    assert_eq!(env.inbox_rows(&event).await, 1);
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_and_always_failing_messages_are_dead_lettered() {
    let mut env = env("poison").await;
    env.settings.broker.delivery_limit = 3;
    let broker = env.broker("svc").await;
    let flaky = Arc::new(Flaky::default());
    env.consumer(&broker, "poison", &["test.#"], flaky.clone()).await;
    env.relay(&broker);

    // Bytes that are no protobuf at all (wire type 7 does not exist).
    let ch = broker.channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default()).await.unwrap();
    let confirm = ch
        .basic_publish(
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
    assert!(confirm.is_ack() && confirm.take_message().is_none(), "the garbage must reach the queue");
    eventually(WAIT, "the undecodable message is in the DLQ", || async { env.dlq_depth(&broker, "poison").await == 1 }).await;

    let flaky_event = env.enqueue("test.flaky").await;
    eventually(WAIT, "the always-failing event is in the DLQ", || async { env.dlq_depth(&broker, "poison").await == 2 }).await;
    // x-delivery-limit counts returns: the first delivery plus `delivery_limit` redeliveries.
    assert_eq!(flaky.calls.load(Ordering::SeqCst), env.settings.broker.delivery_limit + 1);
    assert_eq!(env.effects(&flaky_event).await, 0, "a failed handler's effect must roll back");
    assert_eq!(env.inbox_rows(&flaky_event).await, 0, "a failed event must not be recorded as consumed");

    let fine = env.enqueue("test.fine").await;
    eventually(WAIT, "the consumer goes on with other events", || async { env.effects(&fine).await == 1 }).await;
    env.close().await;
}

/// The relay is woken in its process after a unit of work commits an event; a row committed by
/// another process waits for the poll (here ten minutes, so only a wake-up can deliver it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_wakes_after_its_own_process_commits_and_finds_other_rows_on_its_next_pass() {
    let mut env = env("wake").await;
    env.settings.outbox.poll_interval_ms = 600_000;
    let broker = env.broker("svc").await;
    env.consumer(&broker, "effects", &["test.#"], Arc::new(Effects)).await;
    env.relay(&broker);

    let first = env.enqueue("test.first").await;
    eventually(WAIT, "the woken relay delivers at once", || async { env.effects(&first).await == 1 }).await;

    let elsewhere = env.enqueue_unannounced("test.elsewhere").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(env.status(&elsewhere).await, "pending", "nothing woke the relay for a row another process wrote");

    let next = env.enqueue("test.next").await;
    eventually(WAIT, "the next wake-up's pass takes both rows", || async {
        env.effects(&next).await == 1 && env.effects(&elsewhere).await == 1
    })
    .await;
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unroutable_event_goes_dead_and_redrive_sends_it() {
    let mut env = env("dead").await;
    env.settings.outbox.max_attempts = 3;
    let broker = env.broker("svc").await;
    env.relay(&broker);

    let orphan = env.enqueue("orphan.created").await;
    eventually(WAIT, "the unroutable event is dead", || async { env.status(&orphan).await == "dead" }).await;
    let dead = relay::list_dead(&env.pool, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].event_id.to_string(), orphan.event_id);
    assert_eq!(dead[0].attempts, 3);
    assert!(dead[0].last_error.as_deref().unwrap_or("").contains("unroutable"), "{:?}", dead[0].last_error);

    // An operator adds the missing binding, then redrives.
    env.consumer(&broker, "orphans", &["orphan.#"], Arc::new(Effects)).await;
    assert_eq!(relay::redrive(&env.pool, &[Uuid::now_v7()]).await.unwrap(), 0, "only the named dead events move");
    assert_eq!(relay::redrive(&env.pool, &[]).await.unwrap(), 1);
    eventually(WAIT, "the redriven event is delivered", || async { env.effects(&orphan).await == 1 }).await;
    eventually(WAIT, "and marked sent", || async { env.status(&orphan).await == "sent" }).await;
    assert!(relay::list_dead(&env.pool, 10).await.unwrap().is_empty());
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn competing_timer_runners_fire_each_timer_once() {
    let (db, pool_a) = timer_env().await;
    let pool_b = PgPoolOptions::new().max_connections(4).connect(&db.url()).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    schedule(&pool_a, "single", "the-one", now - time::Duration::seconds(1)).await;

    let shutdown = CancellationToken::new();
    let settings = egov_platform::config::TimerSettings { poll_interval_ms: 20, batch_size: 7, retention_hours: 720, concurrency: 3 };
    let clock: SharedClock = Arc::new(SystemClock);
    let runners: Vec<_> = [(&pool_a, "a"), (&pool_b, "b")]
        .into_iter()
        .map(|(pool, runner)| {
            let handler: Arc<dyn TimerHandler> = Arc::new(TimerEffects { runner, work_ms: 1 });
            timer_runner::spawn_timer_runner(pool.clone(), clock.clone(), handler, settings.clone(), shutdown.clone())
        })
        .collect();
    let pending = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM egov_timers WHERE status = 'pending'").fetch_one(&pool_a).await.unwrap()
    };
    eventually(WAIT, "the single timer fires", || async { pending().await == 0 }).await;

    // Many timers at once, both runners (three workers each) racing for them.
    let mut tx = pool_a.begin().await.unwrap();
    for i in 0..300 {
        timers::schedule(&mut tx, "many", &format!("k{i}"), now - time::Duration::milliseconds(i), serde_json::json!({ "i": i }))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    eventually(WAIT, "all timers fire", || async { pending().await == 0 }).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), futures::future::join_all(runners)).await.expect("runners stop promptly on shutdown");

    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT timer_id) FROM test_timer_effects").fetch_one(&pool_a).await.unwrap();
    assert_eq!((rows, distinct), (301, 301), "every timer fired exactly once");
    let fired: i64 =
        sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE status = 'fired' AND attempts = 1 AND fired_at IS NOT NULL")
            .fetch_one(&pool_a)
            .await
            .unwrap();
    assert_eq!(fired, 301);
    let runners: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT runner FROM test_timer_effects ORDER BY runner").fetch_all(&pool_a).await.unwrap();
    assert_eq!(runners, vec!["a", "b"], "both runners took part");
    pool_b.close().await;
    pool_a.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_follow_the_injected_clock_and_fail_alone() {
    let (_db, pool) = timer_env().await;
    let now = time::OffsetDateTime::now_utc();
    let later = schedule(&pool, "deadline", "later", now + time::Duration::hours(1)).await;
    let boom = schedule(&pool, "boom", "boom", now - time::Duration::seconds(2)).await;
    let due = schedule(&pool, "deadline", "due", now - time::Duration::seconds(1)).await;
    let clock = AdjustableClock::new(0);

    assert_eq!(
        timer_runner::fire_due(&pool, &clock, &TimerEffects { runner: "a", work_ms: 0 }, 10).await.unwrap(),
        1,
        "only the due timer fires; boom fails alone"
    );
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM test_timer_effects ORDER BY key").fetch_all(&pool).await.unwrap();
    assert_eq!(keys, vec!["due"], "the failing timer's writes rolled back");
    let (status, attempts, error): (String, i32, Option<String>) =
        sqlx::query_as("SELECT status, attempts, last_error FROM egov_timers WHERE timer_id = $1")
            .bind(boom)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.unwrap_or_default().contains("boom"));

    // Moving the clock (not the database's now()) makes the later timer due.
    clock.set_offset(2 * 3600).unwrap();
    assert_eq!(timer_runner::fire_due(&pool, &clock, &TimerEffects { runner: "a", work_ms: 0 }, 10).await.unwrap(), 1);
    let fired_at: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT fired_at FROM egov_timers WHERE timer_id = $1").bind(later).fetch_one(&pool).await.unwrap();
    assert!(fired_at.expect("fired") > now + time::Duration::minutes(90), "fired_at is on the service's clock");
    let statuses: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT timer_id, status FROM egov_timers ORDER BY timer_id").fetch_all(&pool).await.unwrap();
    for (id, status) in statuses {
        let expected = if id == boom { "pending" } else { "fired" };
        assert_eq!(
            status,
            expected,
            "timer {id} ({})",
            if id == due {
                "due"
            } else if id == later {
                "later"
            } else {
                "boom"
            }
        );
    }
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_broadcast_moves_adjustable_clocks() {
    let env = env("clock").await;
    let broker = env.broker("ops").await;
    let adjustable = Arc::new(AdjustableClock::new(0));
    let fixed: SharedClock = Arc::new(SystemClock);
    let listener = spawn_clock_listener(broker.clone(), adjustable.clone(), env.shutdown.clone());
    let fixed_listener = spawn_clock_listener(broker.clone(), fixed.clone(), env.shutdown.clone());

    // The listener subscribes asynchronously: broadcast until it has heard one.
    eventually(WAIT, "the adjustable clock moves by an hour", || async {
        broker.broadcast_clock_offset(3600).await.unwrap();
        adjustable.offset_seconds() == 3600
    })
    .await;
    broker.broadcast_clock_offset(7200).await.unwrap();
    eventually(WAIT, "and again by two", || async { adjustable.offset_seconds() == 7200 }).await;
    assert!(adjustable.now() > time::OffsetDateTime::now_utc() + time::Duration::minutes(119));
    assert_eq!(fixed.offset_seconds(), 0);
    assert!(!listener.is_finished() && !fixed_listener.is_finished(), "a clock that cannot move is not a reason to stop listening");

    env.track(listener);
    env.track(fixed_listener);
    env.close().await;
    assert!(!broker.is_connected());
}

/// Batches everything; records each event with its transaction; refuses `test.poison` for good
/// and `test.flaky-once` the first time.
#[derive(Default)]
struct Batching {
    flaky: AtomicU32,
}

impl EventHandler for Batching {
    fn batchable(&self, _event: &EventEnvelope) -> bool {
        true
    }

    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>> {
        Box::pin(async move {
            sqlx::query("INSERT INTO test_batched (event_id, event_type, txid) VALUES ($1::uuid, $2, txid_current())")
                .bind(&event.event_id)
                .bind(&event.r#type)
                .execute(&mut *tx)
                .await
                .map_err(|e| HandleError::Transient(e.to_string()))?;
            match event.r#type.as_str() {
                "test.poison" => Err(HandleError::Permanent("never".into())),
                "test.flaky-once" if self.flaky.fetch_add(1, Ordering::SeqCst) == 0 => Err(HandleError::Transient("once".into())),
                _ => Ok(()),
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_in_hand_are_applied_in_one_transaction_in_order_and_a_failing_one_alone() {
    let env = env("batch").await;
    sqlx::query(
        "CREATE TABLE test_batched (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, event_type text NOT NULL, txid bigint NOT NULL)",
    )
    .execute(&env.pool)
    .await
    .unwrap();
    let broker = env.broker("svc").await;
    // The queue exists and fills before the consumer starts, so deliveries arrive together.
    let sub = inbox::Subscription { consumer: "batch".into(), bindings: vec!["test.#".into()] };
    let ch = broker.channel().await.unwrap();
    inbox::declare_topology(&ch, &env.settings.broker, &sub).await.unwrap();
    let mut events = Vec::new();
    for n in 0..40 {
        let kind = match n {
            10 => "test.poison",
            20 => "test.flaky-once",
            _ => "test.fine",
        };
        events.push(env.enqueue(kind).await);
    }
    env.relay(&broker);
    let queue = inbox::queue_name(&env.settings.broker, "batch");
    eventually(WAIT, "all 40 wait in the queue", || async {
        ch.queue_declare(
            queue.as_str().into(),
            lapin::options::QueueDeclareOptions::durable().passive(),
            lapin::types::FieldTable::default(),
        )
        .await
        .is_ok_and(|q| q.message_count() == 40)
    })
    .await;
    let handler = Arc::new(Batching::default());
    env.consumer(&broker, "batch", &["test.#"], handler.clone()).await;

    eventually(WAIT, "the poison is dead-lettered", || async { env.dlq_depth(&broker, "batch").await == 1 }).await;
    for e in &events {
        let want = i64::from(e.r#type != "test.poison");
        eventually(WAIT, "every other event is applied", || async { env.inbox_rows(e).await == want }).await;
    }
    let rows: Vec<(Uuid, String, i64)> =
        sqlx::query_as("SELECT event_id, event_type, txid FROM test_batched ORDER BY seq").fetch_all(&env.pool).await.unwrap();
    // Once each: the poison's and the first flaky attempt's rows rolled back to their savepoints.
    assert_eq!(rows.len(), 39, "{rows:?}");
    assert!(!rows.iter().any(|(_, t, _)| t == "test.poison"));
    assert_eq!(handler.flaky.load(Ordering::SeqCst), 2, "the flaky event was tried in the batch, then alone");
    // In delivery order (the flaky one, settled alone after its batch, aside).
    let applied: Vec<String> = rows.iter().filter(|(_, t, _)| t == "test.fine").map(|(id, _, _)| id.to_string()).collect();
    let sent: Vec<String> = events.iter().filter(|e| e.r#type == "test.fine").map(|e| e.event_id.clone()).collect();
    assert_eq!(applied, sent);
    // Fewer transactions than events: they were batched.
    let txids: std::collections::BTreeSet<i64> = rows.iter().map(|(_, _, t)| *t).collect();
    assert!(txids.len() < rows.len() / 2, "{} transactions for {} events", txids.len(), rows.len());
    let _ = ch.close(200, "OK".into()).await;
    env.close().await;
}

/// [`Effects`], batched.
struct BatchedEffects;

impl EventHandler for BatchedEffects {
    fn batchable(&self, _event: &EventEnvelope) -> bool {
        true
    }

    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>> {
        Effects.handle(tx, event)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_deliveries_are_held_through_a_database_outage() {
    held_through_a_database_outage("dbholdbatch", Arc::new(BatchedEffects), 10).await;
}
