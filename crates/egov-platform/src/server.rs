//! Service runtime: one way to build, serve and stop an egov service.
//!
//! `Platform::build` binds the port and connects to PostgreSQL (migrating; while it cannot be
//! reached, waiting with backoff and answering health NOT_SERVING on the port) and RabbitMQ
//! before any slow work, so a test can build on port 0 and read the real address. `serve` runs the
//! gRPC server (the service's routes plus health, reflection, AuditTrail and Operations, behind
//! the RPC metrics and auth layers) and every background task (outbox relay, consumers, timers,
//! housekeeping, metrics sampler, health watcher, clock listener) until the shutdown token
//! fires; then health goes NOT_SERVING, background tasks stop, in-flight calls finish within the
//! grace period, and connections close.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use sqlx::{PgPool, migrate::Migrator};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    anchors,
    auth::{AuthLayer, RoleTable, TokenVerifier},
    broker::{self, Broker},
    clock::{AdjustableClock, SharedClock, SystemClock},
    config::{ConfigError, Settings},
    db, housekeeping,
    inbox::{self, EventHandler, Recorder, Subscription},
    metrics::{self, Metrics, RpcMetricsLayer},
    ops::{AuditTrailApi, OperationsApi},
    outbox,
    policy::PolicyBook,
    reconcile::{FactsProvider, ReconciliationApi},
    relay, telemetry,
    timer_runner::{self, TimerHandler},
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("binding {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("database: {0}")]
    Database(#[from] db::DbError),
    #[error("broker: {0}")]
    Broker(#[from] broker::BrokerError),
}

/// What every egov service's `startup::Application` is: built from settings on a [`Platform`],
/// then run until its shutdown token fires. Lets tests and tools start any service the same way.
pub trait ServiceApp: Sized + Send + 'static {
    fn build(settings: Settings) -> impl std::future::Future<Output = anyhow::Result<Self>> + Send;
    fn platform(&self) -> &Platform;
    fn run_until_stopped(self) -> impl std::future::Future<Output = anyhow::Result<()>> + Send;
}

/// A built service, ready to serve.
pub struct Platform {
    pub settings: Settings,
    pub pool: PgPool,
    pub broker: Broker,
    pub clock: SharedClock,
    pub policy: Arc<PolicyBook>,
    /// This instance's instruments (on `settings.telemetry.meter_provider` when injected).
    pub metrics: Metrics,
    /// Fired on SIGTERM (or by tests); every loop selects on it.
    pub shutdown: CancellationToken,
    listener: TcpListener,
    /// Background loops, awaited on shutdown so none is cut mid-transaction.
    tasks: Vec<JoinHandle<()>>,
    /// Stops the background loops before the server drains; separate from `shutdown` so the
    /// order is: not serving → loops stop → server drains.
    background: CancellationToken,
    /// The service's facts about its projects, for `egov.common.v1.Reconciliation`.
    facts: Option<Arc<dyn FactsProvider>>,
    /// The anchor keys audit verification trusts.
    trust: Arc<anchors::Trust>,
}

impl Platform {
    pub async fn build(settings: Settings, migrator: &Migrator) -> Result<Platform, StartError> {
        let policy = Arc::new(PolicyBook::load(&settings.policy.file)?);
        let listener = TcpListener::bind(&settings.service.listen)
            .await
            .map_err(|source| StartError::Bind { addr: settings.service.listen.clone(), source })?;
        let pool = wait_for_database(&listener, &settings, &db::combined_migrator(migrator)).await?;
        // The broker may come later: events wait in the outbox, consumers keep trying.
        let broker = Broker::start(&settings.broker, &settings.service.name).await?;
        let clock: SharedClock = if settings.clock.adjustable { Arc::new(AdjustableClock::new(0)) } else { Arc::new(SystemClock) };
        let (signer, trust) = anchors::from_settings(&settings.audit)?;
        let (signer, trust) = (Arc::new(signer), Arc::new(trust));
        let background = CancellationToken::new();
        let metrics = Metrics::from_settings(&settings.telemetry);
        let mut p = Platform {
            settings,
            pool,
            broker,
            clock,
            policy,
            metrics,
            shutdown: CancellationToken::new(),
            listener,
            tasks: vec![],
            background,
            facts: None,
            trust,
        };
        p.tasks.push(anchors::spawn_anchoring(
            p.pool.clone(),
            p.clock.clone(),
            signer,
            Duration::from_secs(p.settings.audit.anchor_interval_secs),
            p.background.clone(),
        ));
        p.tasks.push(relay::spawn_relay_with_metrics(
            p.pool.clone(),
            p.broker.clone(),
            p.settings.outbox.clone(),
            p.metrics.clone(),
            p.background.clone(),
        ));
        p.tasks.push(housekeeping::spawn_housekeeping(
            p.pool.clone(),
            housekeeping::Retention::from_settings(&p.settings),
            Duration::from_secs(p.settings.housekeeping.interval_secs),
            p.metrics.clone(),
            p.background.clone(),
        ));
        if p.metrics.enabled() {
            p.tasks.push(metrics::spawn_sampler(
                p.pool.clone(),
                p.clock.clone(),
                p.metrics.clone(),
                Duration::from_millis(p.settings.telemetry.metrics_sample_ms),
                p.background.clone(),
            ));
        }
        if p.clock.adjustable() {
            p.tasks.push(broker::spawn_clock_listener(p.broker.clone(), p.clock.clone(), p.background.clone()));
        }
        Ok(p)
    }

    /// The bound address (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| self.settings.listen_addr())
    }

    /// Runs `handler` for the events matching `bindings`, in this service's inbox. The queue and
    /// its bindings are declared before this returns, so events published once the service is
    /// built are never dropped as unroutable, whenever the consumer loop gets going.
    pub async fn spawn_consumer(&mut self, consumer: &str, bindings: &[&str], handler: Arc<dyn EventHandler>) -> Result<(), StartError> {
        let sub = Subscription { consumer: consumer.to_string(), bindings: bindings.iter().map(|b| b.to_string()).collect() };
        // With the broker there, the queue exists before this returns; without it, the consumer
        // declares it when it connects (until then a publisher's event is unroutable and its
        // outbox keeps it and retries: nothing is dropped).
        if let Ok(ch) = self.broker.channel().await {
            inbox::declare_topology(&ch, self.broker.settings(), &sub).await?;
            let _ = ch.close(200, "OK".into()).await;
        }
        let recorder = Recorder { metrics: self.metrics.clone(), clock: self.clock.clone() };
        self.tasks.push(inbox::spawn_consumer_with_metrics(
            self.pool.clone(),
            self.broker.clone(),
            sub,
            handler,
            recorder,
            self.background.clone(),
        ));
        Ok(())
    }

    /// Fires this service's durable timers.
    pub fn spawn_timers(&mut self, handler: Arc<dyn TimerHandler>) {
        self.tasks.push(timer_runner::spawn_timer_runner_with_metrics(
            self.pool.clone(),
            self.clock.clone(),
            handler,
            self.settings.timers.clone(),
            self.metrics.clone(),
            self.background.clone(),
        ));
    }

    /// Supplies the service's facts about its projects to `egov.common.v1.Reconciliation`
    /// (without one, the service answers that it holds none).
    pub fn provide_facts(&mut self, provider: Arc<dyn FactsProvider>) {
        self.facts = Some(provider);
    }

    /// Serves `routes` (the service's own gRPC services, named `service_names` for health) until
    /// `shutdown` fires, then stops in order.
    pub async fn serve(self, routes: Routes, service_names: &[&str], roles: RoleTable) -> anyhow::Result<()> {
        let Platform { settings, pool, broker, clock, policy, metrics, shutdown, listener, mut tasks, background, facts, trust } = self;
        // HS256 and/or the JWKS, loaded (fetched) before serving: a JWKS that cannot be loaded stops
        // the start, and the loops already running with it. Its refresh loop is a background loop.
        let verifier = match TokenVerifier::from_settings(&settings.auth, settings.service.profile).await {
            Ok(verifier) => verifier,
            Err(e) => {
                background.cancel();
                return Err(e.into());
            }
        };
        if let Some(jwks) = verifier.jwks() {
            tasks.push(jwks.spawn_refresh(background.clone()));
        }
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let names: Vec<String> = service_names.iter().map(|s| s.to_string()).collect();
        set_status(&reporter, &names, ServingStatus::Serving).await;
        tasks.push(spawn_health_watch(reporter.clone(), names.clone(), pool.clone(), broker.clone(), background.clone()));

        // Reflection lists only what this port serves: its own services, the platform's, health.
        // google.rpc's types (ErrorInfo, BadRequest, PreconditionFailure) are registered so that
        // clients resolving error details through reflection can decode ours.
        let served: Vec<String> = roles.services().map(String::from).chain(["grpc.health.v1.Health".to_string()]).collect();
        let reflection_for = || {
            served.iter().fold(
                tonic_reflection::server::Builder::configure()
                    .register_encoded_file_descriptor_set(egov_proto::FILE_DESCRIPTOR_SET)
                    .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                    .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET),
                |b, name| b.with_service_name(name.clone()),
            )
        };
        let reflection = reflection_for().build_v1()?;
        let reflection_alpha = reflection_for().build_v1alpha()?;
        let routes = routes
            .add_service(health_service)
            .add_service(reflection)
            .add_service(reflection_alpha)
            .add_service(egov_proto::common::audit_trail_server::AuditTrailServer::new(AuditTrailApi {
                pool: pool.clone(),
                trust: trust.clone(),
            }))
            .add_service(egov_proto::common::operations_server::OperationsServer::new(OperationsApi {
                pool: pool.clone(),
                clock: clock.clone(),
                broker: broker.clone(),
                policy,
            }))
            .add_service(egov_proto::common::reconciliation_server::ReconciliationServer::new(ReconciliationApi {
                pool: pool.clone(),
                service: settings.service.name.clone(),
                provider: facts,
            }));

        let grace = Duration::from_secs(settings.service.shutdown_grace_secs);
        let drain = CancellationToken::new();
        let on_stop = {
            let (shutdown, background, drain, reporter, names) =
                (shutdown.clone(), background.clone(), drain.clone(), reporter.clone(), names.clone());
            tokio::spawn(async move {
                shutdown.cancelled().await;
                tracing::info!("shutting down: health NOT_SERVING, stopping background work");
                set_status(&reporter, &names, ServingStatus::NotServing).await;
                background.cancel();
                for t in tasks {
                    if tokio::time::timeout(grace, t).await.is_err() {
                        tracing::warn!("a background task did not stop within the grace period");
                    }
                }
                drain.cancel();
            })
        };

        let server = tonic::transport::Server::builder()
            .trace_fn(telemetry::grpc_trace_span)
            // Outermost first: the metrics layer also sees the calls the auth layer refuses.
            .layer(RpcMetricsLayer::new(metrics, roles.clone()))
            // Wakes this process's outbox relay after a call that enqueued events.
            .layer(outbox::RelayWakeLayer)
            .layer(
                AuthLayer::new(verifier, roles)
                    .recording_denials(crate::auth::denials::DenialLog::new(pool.clone(), settings.auth.denials_per_minute)),
            )
            // After authentication: only an authorised caller's body is read and checked.
            .layer(crate::edge::EdgeLayer::new(settings.edge))
            .add_routes(routes)
            .serve_with_incoming_shutdown(no_delay(listener), drain.cancelled_owned());
        let served = server.await;
        let _ = on_stop.await;
        broker.close().await;
        pool.close().await;
        served?;
        Ok(())
    }
}

/// Connects to PostgreSQL and migrates. While the server cannot be reached it retries with
/// backoff (0.5 s, doubling to 10 s) for at most `database.start_wait_secs`, and meanwhile
/// answers gRPC health on the service's port with NOT_SERVING: probes and clients see a service
/// that is starting, not a closed port. An error that waiting cannot cure (a bad URL, an unknown
/// role, a failed migration) ends the start at once.
async fn wait_for_database(listener: &TcpListener, settings: &Settings, migrator: &Migrator) -> Result<PgPool, db::DbError> {
    let connect = || db::connect_and_migrate(&settings.database, settings.service.profile, migrator);
    let first = match connect().await {
        Err(e) if e.is_unreachable() && settings.database.start_wait_secs > 0 => e,
        done => return done,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(settings.database.start_wait_secs);
    tracing::warn!("database unreachable ({first}); answering NOT_SERVING and retrying for up to {} s", settings.database.start_wait_secs);
    let stop = CancellationToken::new();
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_service_status("", ServingStatus::NotServing).await;
    let incoming = futures::stream::unfold(listener, |l| async move {
        loop {
            match l.accept().await {
                Ok((stream, _)) => return Some((Ok::<_, std::io::Error>(stream), l)),
                // Out of descriptors and the like: the next accept may work.
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    let serving =
        tonic::transport::Server::builder().add_service(health).serve_with_incoming_shutdown(incoming, stop.clone().cancelled_owned());
    let retrying = async {
        let mut delay = Duration::from_millis(500);
        let mut attempt = 1u32;
        loop {
            if tokio::time::Instant::now() + delay > deadline {
                return Err(first);
            }
            tokio::time::sleep(delay).await;
            attempt += 1;
            match connect().await {
                Err(e) if e.is_unreachable() => tracing::warn!(attempt, "database still unreachable: {e}"),
                done => return done,
            }
            delay = (delay * 2).min(Duration::from_secs(10));
        }
    };
    let (mut serving, mut retrying) = (std::pin::pin!(serving), std::pin::pin!(retrying));
    let mut served = false;
    let outcome = loop {
        tokio::select! {
            r = &mut retrying => break r,
            s = &mut serving, if !served => {
                served = true;
                if let Err(e) = s {
                    tracing::warn!("the NOT_SERVING answer during the wait stopped: {e}");
                }
            }
        }
    };
    stop.cancel();
    if !served {
        // Open connections get GOAWAY; the real server takes over the same listener.
        let _ = tokio::time::timeout(Duration::from_secs(5), serving).await;
    }
    if outcome.is_ok() {
        tracing::info!("database reachable: migrated, starting");
    }
    outcome
}

/// The accepted connections, each with `TCP_NODELAY` set: without it a response's frames, written
/// in several small writes, wait for the client's delayed ACK (about 40 ms a call).
pub fn no_delay(listener: tokio::net::TcpListener) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use futures::StreamExt;
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
}

async fn set_status(reporter: &HealthReporter, names: &[String], status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for n in names {
        reporter.set_service_status(n, status).await;
    }
}

/// The health entry that tells whether the broker is reachable.
pub const BROKER_HEALTH: &str = "egov.broker";

/// Health follows the dependencies. The service (`""` and its own names) is NOT_SERVING while
/// the database is lost: no call can be answered. The broker's state is its own entry,
/// [`BROKER_HEALTH`]: without the broker the service still answers every call, its events wait
/// in the outbox and its consumers keep trying, so readiness does not take it out of service.
fn spawn_health_watch(
    reporter: HealthReporter,
    names: Vec<String>,
    pool: PgPool,
    broker: Broker,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let serving = |ok: bool| if ok { ServingStatus::Serving } else { ServingStatus::NotServing };
        let mut last_db = ServingStatus::Serving;
        let mut last_broker = serving(broker.is_connected());
        reporter.set_service_status(BROKER_HEALTH, last_broker).await;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            let db = serving(
                tokio::time::timeout(Duration::from_secs(2), sqlx::query("SELECT 1").execute(&pool)).await.is_ok_and(|r| r.is_ok()),
            );
            if db != last_db {
                tracing::warn!("database: health changed to {db:?}");
                set_status(&reporter, &names, db).await;
                last_db = db;
            }
            let b = serving(broker.is_connected());
            if b != last_broker {
                tracing::warn!("broker: {BROKER_HEALTH} changed to {b:?} (the service keeps serving; events wait in the outbox)");
                reporter.set_service_status(BROKER_HEALTH, b).await;
                last_broker = b;
            }
        }
    })
}

/// What every service binary does: load the configuration (exit 64 on a bad key), start
/// telemetry, build, serve until SIGTERM, drain, flush telemetry.
pub async fn run_main<A: ServiceApp>(service: &str, config_file: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let settings = Settings::load_or_exit(service, config_file);
    let _telemetry = telemetry::init(service, &settings.telemetry)?;
    let app = A::build(settings).await?;
    tracing::info!(addr = %app.platform().local_addr(), "egov-{service} serving");
    shutdown_on_signals(app.platform().shutdown.clone());
    app.run_until_stopped().await
}

/// Cancels `token` on SIGTERM or Ctrl-C; a second signal exits at once.
pub fn shutdown_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("signal received: draining (a second signal exits at once)");
        token.cancel();
        wait_for_signal().await;
        tracing::warn!("second signal: exiting now");
        std::process::exit(130);
    });
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut incoming = Box::pin(super::no_delay(listener));
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let accepted = incoming.next().await.unwrap().unwrap();
        assert!(accepted.nodelay().unwrap(), "TCP_NODELAY is set on the accepted socket");
    }
}
