//! Retention against the real PostgreSQL: old sent events and old finished timers go, in
//! batches; recent ones, pending and dead events, pending timers and the inbox stay. And every
//! service prunes on its own.

use egov_platform::{
    housekeeping::{self, Pruned, Retention},
    metrics::Metrics,
    testing::{RunningService, TestDatabase, TestVhost, eventually, platform_pool, test_settings},
    timers,
};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::support::*;

/// An outbox row `status`, created `created_h` hours ago and (when sent) sent `sent_h` ago.
async fn outbox_row(pool: &PgPool, status: &str, created_h: i32, sent_h: Option<i32>) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO egov_outbox (event_id, routing_key, payload, status, created_at, sent_at)
         VALUES ($1, 'test.old', '\\x00', $2, now() - make_interval(hours => $3), now() - make_interval(hours => $4))",
    )
    .bind(id)
    .bind(status)
    .bind(created_h)
    .bind(sent_h)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// A timer row `status`, created `created_h` hours ago, fired or cancelled `fired_h` /
/// `cancelled_h` hours ago.
async fn timer_row(pool: &PgPool, status: &str, created_h: i32, fired_h: Option<i32>, cancelled_h: Option<i32>) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO egov_timers (timer_id, kind, key, due_at, status, created_at, fired_at, cancelled_at)
         VALUES ($1, 'test', $1::text, now() - make_interval(hours => $3), $2, now() - make_interval(hours => $3),
                 now() - make_interval(hours => $4), now() - make_interval(hours => $5))",
    )
    .bind(id)
    .bind(status)
    .bind(created_h)
    .bind(fired_h)
    .bind(cancelled_h)
    .execute(pool)
    .await
    .unwrap();
    id
}

async fn ids(pool: &PgPool, sql: &'static str) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = sqlx::query_scalar(sql).fetch_all(pool).await.unwrap();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<Uuid>) -> Vec<Uuid> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_only_old_sent_events_and_old_finished_timers() {
    let (_db, pool) = timer_env().await;
    // Outbox: five sent 200 h ago (more than one batch), one sent an hour ago (created long
    // ago: the age runs from sending), one pending and one dead from long ago.
    let mut old_sent = Vec::new();
    for _ in 0..5 {
        old_sent.push(outbox_row(&pool, "sent", 201, Some(200)).await);
    }
    let recent_sent = outbox_row(&pool, "sent", 500, Some(1)).await;
    let old_pending = outbox_row(&pool, "pending", 500, None).await;
    let old_dead = outbox_row(&pool, "dead", 500, None).await;
    // Timers: fired and cancelled 800 h ago; cancelled without a cancellation time (before
    // migration 0003) and created 800 h ago; fired an hour ago; cancelled an hour ago though
    // created 800 h ago; pending and long overdue.
    let old_fired = timer_row(&pool, "fired", 801, Some(800), None).await;
    let old_cancelled = timer_row(&pool, "cancelled", 801, None, Some(800)).await;
    let legacy_cancelled = timer_row(&pool, "cancelled", 800, None, None).await;
    let recent_fired = timer_row(&pool, "fired", 2, Some(1), None).await;
    let recently_cancelled = timer_row(&pool, "cancelled", 800, None, Some(1)).await;
    let old_pending_timer = timer_row(&pool, "pending", 800, None, None).await;
    // The inbox is the idempotency record: never pruned.
    let consumed = Uuid::now_v7();
    sqlx::query("INSERT INTO egov_inbox (consumer, event_id, routing_key, processed_at) VALUES ('c', $1, 'test.old', now() - interval '5000 hours')")
        .bind(consumed)
        .execute(&pool)
        .await
        .unwrap();

    let recorded = Recorded::new();
    let retention = Retention { outbox_hours: 168, timer_hours: 720, batch_size: 2 };
    let pruned = housekeeping::prune(&pool, retention, &recorded.metrics(), &CancellationToken::new()).await.unwrap();
    assert_eq!(pruned, Pruned { outbox: 5, timers: 3 });

    assert_eq!(ids(&pool, "SELECT event_id FROM egov_outbox").await, sorted(vec![recent_sent, old_pending, old_dead]));
    assert_eq!(
        ids(&pool, "SELECT timer_id FROM egov_timers").await,
        sorted(vec![recent_fired, recently_cancelled, old_pending_timer]),
        "gone: {old_fired}, {old_cancelled}, {legacy_cancelled}"
    );
    assert_eq!(ids(&pool, "SELECT event_id FROM egov_inbox").await, vec![consumed]);
    let points = recorded.snapshot().await;
    assert_eq!(total(&points, "egov.housekeeping.deleted", &[("table", "egov_outbox")]), 5.0, "{points:#?}");
    assert_eq!(total(&points, "egov.housekeeping.deleted", &[("table", "egov_timers")]), 3.0);

    // A second pass finds nothing more.
    let again = housekeeping::prune(&pool, retention, &Metrics::disabled(), &CancellationToken::new()).await.unwrap();
    assert_eq!(again, Pruned::default());
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_timer_starts_its_retention() {
    let (_db, pool) = timer_env().await;
    let id = schedule(&pool, "test", "k", time::OffsetDateTime::now_utc()).await;
    let mut tx = pool.begin().await.unwrap();
    assert!(timers::cancel(&mut tx, "test", "k").await.unwrap());
    tx.commit().await.unwrap();
    let cancelled_at: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT cancelled_at FROM egov_timers WHERE timer_id = $1").bind(id).fetch_one(&pool).await.unwrap();
    assert!(cancelled_at.is_some());
    let retention = Retention { outbox_hours: 1, timer_hours: 1, batch_size: 10 };
    let pruned = housekeeping::prune(&pool, retention, &Metrics::disabled(), &CancellationToken::new()).await.unwrap();
    assert_eq!(pruned.timers, 0, "cancelled just now: kept for its retention");
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_prunes_on_its_own() {
    let (db, vhost) = tokio::try_join!(TestDatabase::create(), TestVhost::create()).unwrap();
    let pool = platform_pool(&db).await.unwrap();
    let old = outbox_row(&pool, "sent", 201, Some(200)).await;
    let recent = outbox_row(&pool, "sent", 2, Some(1)).await;
    let recorded = Recorded::new();
    let mut settings = test_settings("housekeeping", &db, &vhost);
    settings.telemetry.meter_provider = Some(recorded.provider.clone());
    let svc = RunningService::start::<PlatformOnly>(settings).await.unwrap();
    eventually(WAIT, "the service deletes the old sent event", || async {
        ids(&pool, "SELECT event_id FROM egov_outbox").await == vec![recent]
    })
    .await;
    recorded.eventually("the deletion is counted", |p| total(p, "egov.housekeeping.deleted", &[("table", "egov_outbox")]) == 1.0).await;
    assert_ne!(old, recent);
    svc.stop().await.unwrap();
    pool.close().await;
}
