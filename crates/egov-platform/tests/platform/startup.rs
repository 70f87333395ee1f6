//! Starting while PostgreSQL cannot be reached (issue 13, item 5): the service binds its port
//! and answers gRPC health NOT_SERVING while it waits with backoff, then migrates and serves
//! once the database answers; an error that waiting cannot cure ends the start at once. The
//! database is cut by a TCP proxy of the test's own, never by stopping the shared server.

use std::time::Duration;

use egov_platform::{
    config::Secret,
    server::ServiceApp,
    testing::{RunningService, TcpProxy, TestDatabase, TestVhost, eventually, test_settings},
};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::support::PlatformOnly;

/// What gRPC health answers for the whole server at `addr`, if anything answers.
async fn health(addr: &str) -> Option<ServingStatus> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .ok()?
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .ok()?;
    let r = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await.ok()?;
    ServingStatus::try_from(r.into_inner().status).ok()
}

fn free_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

async fn migrated(db: &TestDatabase) -> bool {
    let pool = sqlx::PgPool::connect(&db.url()).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'egov_outbox'").fetch_one(&pool).await.unwrap();
    pool.close().await;
    n == 1
}

#[tokio::test]
async fn waits_not_serving_while_the_database_is_unreachable_then_migrates_and_serves() {
    let db = TestDatabase::create().await.unwrap();
    let vhost = TestVhost::create().await.unwrap();
    let proxy = TcpProxy::start(db.server_addr()).await;
    proxy.cut();
    let mut settings = test_settings("platform", &db, &vhost);
    settings.database.url = Secret::new(db.runtime_url_via(proxy.addr()));
    settings.database.owner_url = Secret::new(db.url_via(proxy.addr()));
    settings.service.listen = free_port();
    let addr = settings.service.listen.clone();

    let building = tokio::spawn(PlatformOnly::build(settings.clone()));
    eventually(Duration::from_secs(20), "health answers NOT_SERVING while the database is cut", || async {
        health(&addr).await == Some(ServingStatus::NotServing)
    })
    .await;
    // Still waiting a few retries later, nothing migrated, and the answer unchanged.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!building.is_finished(), "the start waits for the database instead of failing");
    assert_eq!(health(&addr).await, Some(ServingStatus::NotServing));
    assert!(!migrated(&db).await);

    proxy.restore();
    let app = tokio::time::timeout(Duration::from_secs(30), building).await.expect("starts once the database answers").unwrap().unwrap();
    assert!(migrated(&db).await, "migrated once the database answered");
    let svc = RunningService::start_built(app, settings).await.unwrap();
    eventually(Duration::from_secs(10), "health answers SERVING", || async { health(&addr).await == Some(ServingStatus::Serving) }).await;
    svc.stop().await.unwrap();
}

#[tokio::test]
async fn an_error_that_waiting_cannot_cure_ends_the_start_at_once() {
    let db = TestDatabase::create().await.unwrap();
    let vhost = TestVhost::create().await.unwrap();
    let mut settings = test_settings("platform", &db, &vhost);
    // A role the server does not know: refused by the server, not unreachable.
    let url = db.url();
    let (scheme, rest) = url.split_once("://").unwrap();
    let host_and_db = rest.split_once('@').unwrap().1;
    settings.database.url = Secret::new(format!("{scheme}://no_such_role_egov:x@{host_and_db}"));
    settings.database.owner_url = Secret::new(String::new());
    settings.database.start_wait_secs = 60;
    let started = std::time::Instant::now();
    let built = PlatformOnly::build(settings).await;
    let e = built.err().expect("an unknown role cannot start");
    assert!(started.elapsed() < Duration::from_secs(10), "failed at once, not after the wait: {:?}", started.elapsed());
    assert!(format!("{e:#}").contains("no_such_role_egov"), "{e:#}");
}
