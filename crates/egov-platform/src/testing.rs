//! Test support shared by the platform's and the services' test suites (cargo feature `testing`).
//!
//! Tests run against the real PostgreSQL and RabbitMQ, never mocks, so each test isolates itself
//! with a database ([`TestDatabase`]) and a virtual host ([`TestVhost`]) of its own, created
//! fresh and removed on drop; tests then run in parallel without seeing each other's rows, queues
//! or exchanges. Faults are injected with a [`TcpProxy`] between the code and a server, which a
//! test cuts and restores: the shared servers themselves are never stopped. [`eventually`]
//! replaces fixed sleeps, so tests are as fast as the system and fail with a message saying what
//! never happened.
// Test support (the `testing` feature, for tests only): a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    future::Future,
    net::{SocketAddr, ToSocketAddrs},
    process::Command,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, PgPool};
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
    time::Instant,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::{Profile, Secret, Settings};

/// Reads an environment variable; empty counts as unset.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The admin URL: `EGOV_TEST_DATABASE_URL` when set, else built from the settings the scripts read
/// (`deploy/local/settings.sh`): `EGOV_PG_HOST` (127.0.0.1), `EGOV_PG_PORT` (5432), `EGOV_PG_USER`
/// (egov), `EGOV_PG_PASSWORD` (egov). `get` looks a variable up.
fn admin_url(get: impl Fn(&str) -> Option<String>) -> String {
    let setting = |name: &str, default: &str| get(name).unwrap_or_else(|| default.to_string());
    get("EGOV_TEST_DATABASE_URL").unwrap_or_else(|| {
        format!(
            "postgres://{}:{}@{}:{}/postgres",
            setting("EGOV_PG_USER", "egov"),
            setting("EGOV_PG_PASSWORD", "egov"),
            setting("EGOV_PG_HOST", "127.0.0.1"),
            setting("EGOV_PG_PORT", "5432")
        )
    })
}

/// The broker URL without a vhost: `EGOV_TEST_AMQP_BASE` when set, else built from the scripts'
/// settings `EGOV_AMQP_USER` (guest), `EGOV_AMQP_PASSWORD` (guest), `EGOV_AMQP_HOST` (127.0.0.1),
/// `EGOV_AMQP_PORT` (5672).
fn amqp_base(get: impl Fn(&str) -> Option<String>) -> String {
    let setting = |name: &str, default: &str| get(name).unwrap_or_else(|| default.to_string());
    get("EGOV_TEST_AMQP_BASE").map(|b| b.trim_end_matches('/').to_string()).unwrap_or_else(|| {
        format!(
            "amqp://{}:{}@{}:{}",
            setting("EGOV_AMQP_USER", "guest"),
            setting("EGOV_AMQP_PASSWORD", "guest"),
            setting("EGOV_AMQP_HOST", "127.0.0.1"),
            setting("EGOV_AMQP_PORT", "5672")
        )
    })
}

/// The rabbitmqctl command line: `EGOV_TEST_RABBITMQCTL`, else `rabbitmqctl`, with `-n
/// EGOV_RABBITMQ_NODE` when that is set (a second stack's node).
fn rabbitmqctl_command(get: impl Fn(&str) -> Option<String>) -> String {
    get("EGOV_TEST_RABBITMQCTL").unwrap_or_else(|| match get("EGOV_RABBITMQ_NODE") {
        Some(node) => format!("rabbitmqctl -n {node}"),
        None => "rabbitmqctl".to_string(),
    })
}

/// A database of its own for one test; dropped (with its connections) when this is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    admin_url: String,
    url: String,
}

impl TestDatabase {
    /// Creates `egov_test_<uuid>` through `EGOV_TEST_DATABASE_URL` (an admin URL), else the URL of
    /// database `postgres` that the scripts' settings name (`EGOV_PG_HOST`, `EGOV_PG_PORT`,
    /// `EGOV_PG_USER`, `EGOV_PG_PASSWORD`; default `postgres://egov:egov@127.0.0.1:5432/postgres`).
    pub async fn create() -> anyhow::Result<TestDatabase> {
        let admin_url = admin_url(env);
        let name = format!("egov_test_{}", Uuid::now_v7().simple());
        let mut conn = PgConnection::connect(&admin_url).await.with_context(|| {
            format!("connecting to {admin_url} (EGOV_PG_HOST/EGOV_PG_PORT/EGOV_PG_USER/EGOV_PG_PASSWORD or EGOV_TEST_DATABASE_URL)")
        })?;
        conn.execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).await.with_context(|| format!("creating database {name}"))?;
        let _ = conn.close().await;
        let url = with_database(&admin_url, &name);
        Ok(TestDatabase { name, admin_url, url })
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A scratch directory that lives as long as the database (documents of services under test).
    pub fn scratch_dir(&self) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("{}-scratch", self.name))
    }

    /// The server's socket address (to put a [`TcpProxy`] in front of it).
    pub fn server_addr(&self) -> SocketAddr {
        let (_, host) = split_authority(&self.url);
        let host = if host.contains(':') { host.to_string() } else { format!("{host}:5432") };
        host.to_socket_addrs().ok().and_then(|mut a| a.next()).unwrap_or_else(|| panic!("cannot resolve the database address {host}"))
    }

    /// The database's URL (the owner's) through another address (a [`TcpProxy`]).
    pub fn url_via(&self, addr: SocketAddr) -> String {
        via(&self.url, addr)
    }

    /// The database's URL as the services' runtime role (`EGOV_PG_RUNTIME_USER`, default
    /// `egov_runtime`, password `EGOV_PG_RUNTIME_PASSWORD`; `deploy/local/setup.sh` creates it):
    /// rows only, granted by the owner when a service migrates ([`crate::db`]).
    pub fn runtime_url(&self) -> String {
        let (user, password) = runtime_credentials(env);
        let scheme_end = self.url.find("://").map(|i| i + 3).unwrap_or(0);
        let (userinfo, _) = split_authority(&self.url);
        format!("{}{user}:{password}@{}", &self.url[..scheme_end], &self.url[scheme_end + userinfo.len()..])
    }

    /// [`TestDatabase::runtime_url`] through another address (a [`TcpProxy`]).
    pub fn runtime_url_via(&self, addr: SocketAddr) -> String {
        via(&self.runtime_url(), addr)
    }
}

/// The runtime role's name and password.
fn runtime_credentials(get: impl Fn(&str) -> Option<String>) -> (String, String) {
    (
        get("EGOV_PG_RUNTIME_USER").unwrap_or_else(|| "egov_runtime".into()),
        get("EGOV_PG_RUNTIME_PASSWORD").unwrap_or_else(|| "egov_runtime".into()),
    )
}

/// `url` with its host and port replaced by `addr`.
fn via(url: &str, addr: SocketAddr) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let (userinfo, host) = split_authority(url);
    let rest = &url[scheme_end..];
    let path = &rest[rest.find(host).map(|i| i + host.len()).unwrap_or(rest.len())..];
    format!("{}{userinfo}{addr}{path}", &url[..scheme_end])
}

/// `(userinfo@, host:port)` of a URL's authority.
fn split_authority(url: &str) -> (&str, &str) {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &url[scheme_end..];
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    match authority.rfind('@') {
        Some(i) => (&authority[..=i], &authority[i + 1..]),
        None => ("", authority),
    }
}

/// `url` with its database path replaced by `db` (query string kept).
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.scratch_dir());
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs in sync code, often inside a runtime that cannot be blocked on: a thread of
        // its own with a small runtime does the async work.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin).await?;
                conn.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))).await?;
                let _ = conn.close().await;
                anyhow::Ok(())
            })
        })
        .join();
        if let Ok(Err(e)) = done {
            eprintln!("dropping test database {}: {e:#}", self.name);
        }
    }
}

/// A RabbitMQ virtual host of its own for one test; deleted when this is dropped.
#[derive(Debug)]
pub struct TestVhost {
    name: String,
    base: String,
}

impl TestVhost {
    /// Creates a vhost with `rabbitmqctl` (on node `EGOV_RABBITMQ_NODE` when set;
    /// `EGOV_TEST_RABBITMQCTL` overrides the command) and grants the broker user (`EGOV_AMQP_USER`,
    /// default guest) everything on it. The broker is `EGOV_TEST_AMQP_BASE`, else the scripts'
    /// settings (`EGOV_AMQP_HOST`, `EGOV_AMQP_PORT`, `EGOV_AMQP_USER`, `EGOV_AMQP_PASSWORD`).
    pub async fn create() -> anyhow::Result<TestVhost> {
        let name = format!("egov_test_{}", Uuid::now_v7().simple());
        let base = amqp_base(env);
        let vhost = TestVhost { name: name.clone(), base };
        let n = name.clone();
        let user = env("EGOV_AMQP_USER").unwrap_or_else(|| "guest".to_string());
        tokio::task::spawn_blocking(move || {
            rabbitmqctl(&["add_vhost", &n])?;
            rabbitmqctl(&["set_permissions", "-p", &n, &user, ".*", ".*", ".*"])
        })
        .await??;
        Ok(vhost)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `amqp://guest:guest@127.0.0.1:5672/<vhost>` (base from the settings, see [`TestVhost::create`]).
    pub fn amqp_url(&self) -> String {
        format!("{}/{}", self.base, percent_encode(&self.name))
    }

    /// The broker's socket address (to put a [`TcpProxy`] in front of it).
    pub fn server_addr(&self) -> SocketAddr {
        let (_, hostport) = split_authority(&self.base);
        let hostport = if hostport.contains(':') { hostport.to_string() } else { format!("{hostport}:5672") };
        hostport.to_socket_addrs().ok().and_then(|mut a| a.next()).unwrap_or_else(|| panic!("cannot resolve the broker address {hostport}"))
    }

    /// The vhost's URL through another address (a [`TcpProxy`]).
    pub fn amqp_url_via(&self, addr: SocketAddr) -> String {
        let scheme_end = self.base.find("://").map(|i| i + 3).unwrap_or(0);
        let (userinfo, _) = split_authority(&self.base);
        format!("{}{userinfo}{addr}/{}", &self.base[..scheme_end], percent_encode(&self.name))
    }
}

impl Drop for TestVhost {
    fn drop(&mut self) {
        if let Err(e) = rabbitmqctl(&["delete_vhost", &self.name]) {
            eprintln!("deleting test vhost {}: {e:#}", self.name);
        }
    }
}

fn rabbitmqctl(args: &[&str]) -> anyhow::Result<()> {
    let cmd = rabbitmqctl_command(env);
    let mut parts = cmd.split_whitespace();
    let program = parts.next().context("EGOV_TEST_RABBITMQCTL is empty")?;
    let out = Command::new(program)
        .args(parts)
        .args(args)
        .output()
        .with_context(|| format!("running {cmd} (set EGOV_TEST_RABBITMQCTL to the right command)"))?;
    if !out.status.success() {
        anyhow::bail!("{cmd} {}: {}{}", args.join(" "), String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect()
}

/// A TCP proxy in front of a server, for fault tests. [`cut`](TcpProxy::cut) closes every live
/// connection and refuses new ones (the port is closed, as when the server is down) until
/// [`restore`](TcpProxy::restore); [`cut_hanging_up`](TcpProxy::cut_hanging_up) instead accepts
/// new connections and hangs up at once, as a load balancer or mesh sidecar does when no backend
/// is healthy, and counts them in [`hung_up`](TcpProxy::hung_up) so a test can wait for a
/// client's reconnection attempts instead of sleeping.
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    state: Arc<Mutex<ProxyState>>,
    mode: tokio::sync::watch::Sender<ProxyMode>,
    task: JoinHandle<()>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProxyMode {
    Open,
    Refuse,
    HangUp,
}

#[derive(Debug)]
struct ProxyState {
    mode: ProxyMode,
    hung_up: u64,
    /// Cancelled on cut: every connection accepted before it closes.
    generation: CancellationToken,
}

fn bind_reusable(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

impl TcpProxy {
    pub async fn start(target: SocketAddr) -> TcpProxy {
        let first = bind_reusable(SocketAddr::from(([127, 0, 0, 1], 0))).expect("binding the test proxy");
        let addr = first.local_addr().expect("proxy address");
        let state = Arc::new(Mutex::new(ProxyState { mode: ProxyMode::Open, hung_up: 0, generation: CancellationToken::new() }));
        let (mode, mut mode_rx) = tokio::sync::watch::channel(ProxyMode::Open);
        let st = state.clone();
        let task = tokio::spawn(async move {
            let mut listener = Some(first);
            loop {
                if *mode_rx.borrow_and_update() == ProxyMode::Refuse {
                    // Closing the port is what makes new connections refused.
                    listener = None;
                    if mode_rx.changed().await.is_err() {
                        return;
                    }
                    continue;
                }
                let l = match listener.take() {
                    Some(l) => l,
                    None => match bind_reusable(addr) {
                        Ok(l) => l,
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                    },
                };
                let accepted = tokio::select! {
                    changed = mode_rx.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        listener = Some(l);
                        continue;
                    }
                    r = l.accept() => r,
                };
                listener = Some(l);
                let Ok((mut inbound, _)) = accepted else { continue };
                // Mode and generation are read under one lock so a cut cannot slip in between.
                let token = {
                    let mut s = st.lock().unwrap_or_else(|p| p.into_inner());
                    if s.mode == ProxyMode::Open {
                        Some(s.generation.clone())
                    } else {
                        s.hung_up += 1;
                        None
                    }
                };
                let Some(token) = token else {
                    drop(inbound);
                    continue;
                };
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = token.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    }
                });
            }
        });
        TcpProxy { addr, state, mode, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every live connection and refuses new ones until [`restore`](TcpProxy::restore).
    pub fn cut(&self) {
        self.set_mode(ProxyMode::Refuse);
    }

    /// Closes every live connection; new ones are accepted and closed at once until restored.
    pub fn cut_hanging_up(&self) {
        self.set_mode(ProxyMode::HangUp);
    }

    /// Connections accepted and hung up on while [`cut_hanging_up`](TcpProxy::cut_hanging_up).
    pub fn hung_up(&self) -> u64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).hung_up
    }

    /// Forwards new connections again (the port is reopened within milliseconds).
    pub fn restore(&self) {
        self.set_mode(ProxyMode::Open);
    }

    fn set_mode(&self, mode: ProxyMode) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if mode != ProxyMode::Open {
            std::mem::replace(&mut s.generation, CancellationToken::new()).cancel();
        }
        s.mode = mode;
        self.mode.send_replace(mode);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.state.lock().unwrap_or_else(|p| p.into_inner()).generation.cancel();
    }
}

/// Polls `f` every 50 ms until it returns true; panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if f().await {
            return;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Settings for a service under test: test profile, a free port, the test's database and vhost,
/// a fresh documents directory (removed with the database), and short poll and backoff intervals.
pub fn test_settings(service: &str, db: &TestDatabase, vhost: &TestVhost) -> Settings {
    let mut s = Settings::defaults(service);
    s.service.profile = Profile::Test;
    s.service.listen = "127.0.0.1:0".into();
    s.service.shutdown_grace_secs = 5;
    // Least privilege as in production: the owner migrates and grants, the service runs as the
    // runtime role.
    s.database.url = Secret::new(db.runtime_url());
    s.database.owner_url = Secret::new(db.url());
    s.database.max_connections = 8;
    s.broker.url = Secret::new(vhost.amqp_url());
    s.outbox.poll_interval_ms = 50;
    s.outbox.backoff_base_ms = 50;
    s.outbox.backoff_max_ms = 1000;
    s.timers.poll_interval_ms = 50;
    // Sampled only when a test injects a meter provider (`telemetry.meter_provider`).
    s.telemetry.metrics_sample_ms = 100;
    s.clock.adjustable = true;
    // Anchors sealed often enough that the tests' services exercise them.
    s.audit.anchor_interval_secs = 2;
    let dir = db.scratch_dir().join(format!("documents-{service}-{}", Uuid::now_v7().simple()));
    let _ = std::fs::create_dir_all(&dir);
    s.documents.dir = dir.display().to_string();
    s
}

/// A pool on the test database with the platform's migrations applied.
pub async fn platform_pool(db: &TestDatabase) -> anyhow::Result<PgPool> {
    let settings = crate::config::DatabaseSettings {
        url: Secret::new(db.url()),
        owner_url: Secret::default(),
        max_connections: 8,
        acquire_timeout_secs: 5,
        create_if_missing: false,
        start_wait_secs: 0,
    };
    let migrator = crate::db::combined_migrator(&sqlx::migrate::Migrator::with_migrations(vec![]));
    Ok(crate::db::connect_and_migrate(&settings, Profile::Test, &migrator).await?)
}

/// A service started in-process on port 0, as `main` would start it; stopped on drop.
/// The caller owns the database and virtual host, so several services can share a vhost.
pub struct RunningService {
    pub channel: tonic::transport::Channel,
    pub addr: SocketAddr,
    pub pool: PgPool,
    pub clock: crate::clock::SharedClock,
    pub settings: Settings,
    stop: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl RunningService {
    pub async fn start<A: crate::server::ServiceApp>(settings: Settings) -> anyhow::Result<RunningService> {
        crate::telemetry::init_for_tests();
        let app = A::build(settings.clone()).await?;
        RunningService::start_built(app, settings).await
    }

    /// Runs a service the test built itself (e.g. with a port to another service supplied).
    pub async fn start_built<A: crate::server::ServiceApp>(app: A, settings: Settings) -> anyhow::Result<RunningService> {
        crate::telemetry::init_for_tests();
        let p = app.platform();
        let (addr, pool, clock, stop) = (p.local_addr(), p.pool.clone(), p.clock.clone(), p.shutdown.clone());
        let handle = tokio::spawn(app.run_until_stopped());
        let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))?.connect().await?;
        Ok(RunningService { channel, addr, pool, clock, settings, stop, handle: Some(handle) })
    }

    /// Moves the service clock forward so that it reads about `instant` (never backwards).
    pub fn move_clock_to(&self, instant: time::OffsetDateTime) {
        let offset = (instant - time::OffsetDateTime::now_utc()).whole_seconds();
        assert!(offset >= self.clock.offset_seconds(), "time only moves forward");
        self.clock.set_offset(offset).expect("an adjustable test clock");
    }

    /// Stops the service and waits for it: SIGTERM's path.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.stop.cancel();
        match self.handle.take() {
            Some(h) => h.await?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Publishes `event` to `exchange` as a producing service's relay would (persistent, routing key =
/// type, message id = event id), waiting for the broker's confirm.
pub async fn publish(amqp_url: &str, exchange: &str, event: &egov_proto::events::EventEnvelope) -> anyhow::Result<()> {
    use lapin::{BasicProperties, Connection, ConnectionProperties, options::BasicPublishOptions};
    use prost::Message;
    let conn = Connection::connect(amqp_url, ConnectionProperties::default()).await?;
    let ch = conn.create_channel().await?;
    ch.confirm_select(Default::default()).await?;
    ch.basic_publish(
        exchange.into(),
        event.r#type.as_str().into(),
        BasicPublishOptions { mandatory: false, immediate: false },
        &event.encode_to_vec(),
        BasicProperties::default().with_message_id(event.event_id.as_str().into()).with_delivery_mode(2),
    )
    .await?
    .await?;
    conn.close(200, "done".into()).await.ok();
    Ok(())
}

/// A local-profile token for tests.
pub fn token(role: crate::auth::Role, unit: Option<&str>) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = crate::auth::Claims {
        sub: format!("{}-tester", role.as_str().to_lowercase()),
        role,
        unit: unit.map(Into::into),
        iss: "egov-local".into(),
        exp: now + 3600,
        iat: now,
    };
    crate::auth::mint_hs256(crate::config::LOCAL_DEV_SECRET.as_bytes(), &claims).expect("signing a test token")
}

/// A client interceptor carrying `token`.
pub fn bearer(token: &str) -> crate::auth::Bearer {
    crate::auth::Bearer::new(token).expect("a printable token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_rewrites_the_path_only() {
        assert_eq!(with_database("postgres://u:p@h:5432/postgres", "x"), "postgres://u:p@h:5432/x");
        assert_eq!(with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"), "postgres://u:p@h:5432/x?sslmode=disable");
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
        let db = TestDatabase { name: "x".into(), admin_url: String::new(), url: "postgres://u:p@127.0.0.1:5432/x?a=b".into() };
        assert_eq!(db.server_addr(), "127.0.0.1:5432".parse().unwrap());
        assert_eq!(db.url_via("127.0.0.1:9".parse().unwrap()), "postgres://u:p@127.0.0.1:9/x?a=b");
        std::mem::forget(db);
    }

    #[test]
    fn connection_settings_come_from_the_scripts_variables() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        // Nothing set: today's defaults.
        assert_eq!(admin_url(vars(&[])), "postgres://egov:egov@127.0.0.1:5432/postgres");
        assert_eq!(amqp_base(vars(&[])), "amqp://guest:guest@127.0.0.1:5672");
        assert_eq!(rabbitmqctl_command(vars(&[])), "rabbitmqctl");
        // A second stack's settings.
        let second: &[(&str, &str)] = &[
            ("EGOV_PG_HOST", "10.0.0.7"),
            ("EGOV_PG_PORT", "5433"),
            ("EGOV_PG_USER", "egov2"),
            ("EGOV_PG_PASSWORD", "pw2"),
            ("EGOV_AMQP_HOST", "10.0.0.8"),
            ("EGOV_AMQP_PORT", "5673"),
            ("EGOV_AMQP_USER", "u2"),
            ("EGOV_AMQP_PASSWORD", "p2"),
            ("EGOV_RABBITMQ_NODE", "egov2@localhost"),
        ];
        assert_eq!(admin_url(vars(second)), "postgres://egov2:pw2@10.0.0.7:5433/postgres");
        assert_eq!(amqp_base(vars(second)), "amqp://u2:p2@10.0.0.8:5673");
        assert_eq!(rabbitmqctl_command(vars(second)), "rabbitmqctl -n egov2@localhost");
        // The explicit test overrides still win.
        let explicit: &[(&str, &str)] = &[
            ("EGOV_PG_PORT", "5433"),
            ("EGOV_TEST_DATABASE_URL", "postgres://a:b@h:1/postgres"),
            ("EGOV_TEST_AMQP_BASE", "amqp://a:b@h:2/"),
            ("EGOV_TEST_RABBITMQCTL", "sudo rabbitmqctl"),
            ("EGOV_RABBITMQ_NODE", "egov2@localhost"),
        ];
        assert_eq!(admin_url(vars(explicit)), "postgres://a:b@h:1/postgres");
        assert_eq!(amqp_base(vars(explicit)), "amqp://a:b@h:2");
        assert_eq!(rabbitmqctl_command(vars(explicit)), "sudo rabbitmqctl");
    }

    #[test]
    fn vhost_urls() {
        let v = TestVhost { name: "a/b".into(), base: "amqp://g:g@127.0.0.1:5672".into() };
        assert_eq!(v.amqp_url(), "amqp://g:g@127.0.0.1:5672/a%2Fb");
        assert_eq!(v.amqp_url_via("127.0.0.1:9".parse().unwrap()), "amqp://g:g@127.0.0.1:9/a%2Fb");
        assert_eq!(v.server_addr(), "127.0.0.1:5672".parse().unwrap());
        std::mem::forget(v);
    }
}
