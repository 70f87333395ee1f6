//! The service as a process: health follows its dependencies, bad configuration exits 64 naming
//! the key, SIGTERM drains and exits cleanly.

use std::{process::Command, time::Duration};

use egov_platform::{
    config::Secret,
    testing::{TcpProxy, TestDatabase, TestVhost, eventually},
};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::helpers::*;

async fn status(app: &TestApp) -> i32 {
    let mut h = HealthClient::new(app.channel.clone());
    h.check(HealthCheckRequest { service: "egov.intake.v1.Intake".into() }).await.map(|r| r.into_inner().status).unwrap_or(-1)
}

async fn broker_status(app: &TestApp) -> i32 {
    let mut h = HealthClient::new(app.channel.clone());
    h.check(HealthCheckRequest { service: egov_platform::server::BROKER_HEALTH.into() }).await.map(|r| r.into_inner().status).unwrap_or(-1)
}

async fn pending_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE status = 'pending'").fetch_one(&app.pool).await.unwrap()
}

/// A call that emits an event: a unit's application is created (intake.application.created).
async fn register_unit(app: &TestApp, unit: &str) {
    create_unit(app, unit).await;
    create_application(app, unit, draft()).await;
}

#[tokio::test]
async fn health_is_not_serving_without_the_database_and_the_service_rides_out_the_broker() {
    let db = TestDatabase::create().await.unwrap();
    let vhost = TestVhost::create().await.unwrap();
    let pg = TcpProxy::start(db.server_addr()).await;
    let mq = TcpProxy::start(vhost.server_addr()).await;
    let app = TestApp::spawn_on(db, vhost, |s, db, vhost| {
        s.database.url = Secret::new(db.runtime_url_via(pg.addr()));
        s.database.acquire_timeout_secs = 1;
        s.broker.url = Secret::new(vhost.amqp_url_via(mq.addr()));
    })
    .await;
    assert_eq!(status(&app).await, ServingStatus::Serving as i32);
    assert_eq!(broker_status(&app).await, ServingStatus::Serving as i32);

    pg.cut();
    eventually(WAIT, "NOT_SERVING without the database", || async { status(&app).await == ServingStatus::NotServing as i32 }).await;
    // A call that needs the database says UNAVAILABLE, not INTERNAL.
    let e = app.drb().list_units(egov_proto::intake::ListUnitsRequest::default()).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unavailable, "{e:?}");
    pg.restore();
    eventually(WAIT, "SERVING again", || async { status(&app).await == ServingStatus::Serving as i32 }).await;

    // Without the broker the service goes on serving; the broker's own entry says it is lost and
    // the event waits in the outbox.
    mq.cut();
    eventually(WAIT, "egov.broker NOT_SERVING", || async { broker_status(&app).await == ServingStatus::NotServing as i32 }).await;
    assert_eq!(status(&app).await, ServingStatus::Serving as i32, "the service itself keeps serving");
    register_unit(&app, "U-OUTAGE").await;
    assert!(pending_events(&app).await >= 1);
    mq.restore();
    eventually(Duration::from_secs(40), "egov.broker SERVING after the broker returns", || async {
        broker_status(&app).await == ServingStatus::Serving as i32
    })
    .await;
    eventually(Duration::from_secs(40), "the waiting event published", || async { pending_events(&app).await == 0 }).await;
}

#[tokio::test]
async fn a_service_starts_and_serves_while_the_broker_is_unreachable_and_catches_up_when_it_comes() {
    let db = TestDatabase::create().await.unwrap();
    let vhost = TestVhost::create().await.unwrap();
    let mq = TcpProxy::start(vhost.server_addr()).await;
    mq.cut();
    let app = TestApp::spawn_on(db, vhost, |s, _, vhost| {
        s.broker.url = Secret::new(vhost.amqp_url_via(mq.addr()));
    })
    .await;
    assert_eq!(status(&app).await, ServingStatus::Serving as i32, "started without the broker, and serving");
    eventually(WAIT, "egov.broker NOT_SERVING", || async { broker_status(&app).await == ServingStatus::NotServing as i32 }).await;
    register_unit(&app, "U-EARLY").await;
    assert!(pending_events(&app).await >= 1, "the event waits in the outbox");
    mq.restore();
    eventually(Duration::from_secs(40), "egov.broker SERVING once the broker comes", || async {
        broker_status(&app).await == ServingStatus::Serving as i32
    })
    .await;
    eventually(Duration::from_secs(40), "the waiting event published", || async { pending_events(&app).await == 0 }).await;
}

#[test]
fn bad_configuration_exits_64_naming_the_key() {
    let bin = env!("CARGO_BIN_EXE_egov-intake");
    for (key, value, named) in [
        ("EGOV_BROKER__PREFETCH", "many", "broker.prefetch"),
        ("EGOV_SERVICE__LISTEN", "not-an-address", "service.listen"),
        ("EGOV_SERVICE__PROFILE", "production", "clock.adjustable"),
        ("EGOV_DATABASE__URL", "mysql://x", "database.url"),
    ] {
        let out = Command::new(bin).env(key, value).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{key}={value}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(named), "{key}={value} should name {named}: {err}");
    }
}

#[tokio::test]
async fn sigterm_drains_and_exits_cleanly() {
    let db = TestDatabase::create().await.unwrap();
    let vhost = TestVhost::create().await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let docs = std::env::temp_dir().join(format!("egov-sigterm-{port}"));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_egov-intake"))
        .env("EGOV_SERVICE__LISTEN", format!("127.0.0.1:{port}"))
        .env("EGOV_DATABASE__URL", db.url())
        .env("EGOV_BROKER__URL", vhost.amqp_url())
        .env("EGOV_DOCUMENTS__DIR", &docs)
        .env("EGOV_PEERS__EVALUATION", "")
        .env("EGOV_TELEMETRY__LOG_FILTER", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    eventually(Duration::from_secs(30), "the binary serves", || {
        let url = url.clone();
        async move {
            let Ok(ch) = tonic::transport::Channel::from_shared(url).unwrap().connect().await else { return false };
            HealthClient::new(ch)
                .check(HealthCheckRequest { service: String::new() })
                .await
                .is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32)
        }
    })
    .await;
    let pid = child.id().unwrap();
    assert!(Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success());
    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.expect("exits within the grace period").unwrap();
    assert!(exit.success(), "{exit:?}");
    std::fs::remove_dir_all(docs).ok();
}
