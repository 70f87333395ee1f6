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

#[tokio::test]
async fn health_is_not_serving_while_the_database_or_broker_is_lost() {
    let db = TestDatabase::create().await.unwrap();
    let vhost = TestVhost::create().await.unwrap();
    let pg = TcpProxy::start(db.server_addr()).await;
    let mq = TcpProxy::start(vhost.server_addr()).await;
    let app = TestApp::spawn_on(db, vhost, |s, db, vhost| {
        s.database.url = Secret::new(db.url_via(pg.addr()));
        s.database.acquire_timeout_secs = 1;
        s.broker.url = Secret::new(vhost.amqp_url_via(mq.addr()));
    })
    .await;
    assert_eq!(status(&app).await, ServingStatus::Serving as i32);

    pg.cut();
    eventually(WAIT, "NOT_SERVING without the database", || async { status(&app).await == ServingStatus::NotServing as i32 }).await;
    // A call that needs the database says UNAVAILABLE, not INTERNAL.
    let e = app.drb().list_units(egov_proto::intake::ListUnitsRequest::default()).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unavailable, "{e:?}");
    pg.restore();
    eventually(WAIT, "SERVING again", || async { status(&app).await == ServingStatus::Serving as i32 }).await;

    mq.cut();
    eventually(WAIT, "NOT_SERVING without the broker", || async { status(&app).await == ServingStatus::NotServing as i32 }).await;
    mq.restore();
    eventually(Duration::from_secs(40), "SERVING after the broker returns", || async {
        status(&app).await == ServingStatus::Serving as i32
    })
    .await;
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
