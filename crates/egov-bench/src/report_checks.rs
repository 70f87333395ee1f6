//! (d) The 21st of the month: every project under construction has its R-P7 missing-report
//! check due at the same instant, 00:00 Asia/Shanghai the day after the progress-report day.
//!
//! `egov-procurement` runs in-process (`RunningService`, as its API tests run it) on a database
//! and virtual host of its own, with the production pool size, timer and outbox settings. N cases
//! reach CONSTRUCTION through the real paths: N `review.project.approved` events on the broker
//! (the service's consumer opens the cases), then GetCase, RecordProcurement and FileContract
//! over gRPC from a few concurrent clients, every contract filed today with construction from
//! the 1st of next month, so that all N share their first report month. No report is filed.
//!
//! Then the service clock moves to 00:10 on the 21st of that month and the bench polls
//! `egov_timers` until all N checks of the month have fired (each flags the missing report,
//! appends to the audit chain, enqueues `procurement.progress.report_missing` and schedules next
//! month's check, in the timer's transaction). Three rounds on the same cases, one month each:
//! one replica; two replicas sharing the database and vhost (the second started before the
//! clock moves, both clocks moved); one replica again, as a control for the month-on-month
//! growth of the tables and of each case's body.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use egov_platform::{
    audit,
    auth::{Bearer, Role},
    clock::{SHANGHAI, civil_date, shanghai},
    config::Settings,
    convert::civil,
    outbox,
    testing::{RunningService, TestDatabase, TestVhost, test_settings},
};
use egov_procurement::{jobs::PROGRESS_REPORT, startup::Application};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    procurement::{self as pb, procurement_client::ProcurementClient},
};
use hdrhistogram::Histogram;
use lapin::{
    BasicProperties, Connection, ConnectionProperties,
    options::{BasicPublishOptions, ConfirmSelectOptions, QueueBindOptions, QueueDeclareOptions},
    types::FieldTable,
};
use prost::Message;
use serde::Serialize;
use sqlx::{PgPool, postgres::PgPoolOptions};
use time::{Date, Duration as Span, Month, OffsetDateTime, format_description::well_known::Rfc3339, macros::time};
use tokio::task::JoinSet;
use tonic::{service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;

use crate::{
    child::{local_trust, token},
    contention::{Burners, LockSampler, LockWaits},
    stats::{self, RunStats},
};

type Client = ProcurementClient<InterceptedService<Channel, Bearer>>;

const SERVICE: &str = "procurement";
const UNIT: &str = "U-CIVIL";
/// The approval's project name, which the contract must repeat (R-P5).
const NAME: &str = "社会救助一件事";
/// A policy version the service loads (the procurement API tests' approvals carry it).
const POLICY_VERSION: &str = "2026.1-draft";
/// The queue that stands in for the consumers of procurement's events.
const SINK: &str = "egov-bench.procurement";
const REPORT_MISSING: &str = "procurement.progress.report_missing";
/// The proposed target: the whole district's projects (about 2,000) checked within a minute.
pub const TARGET_SECONDS: f64 = 60.0;
/// Confirmed publishes in flight when the approvals go onto the broker.
const PUBLISH_PIPELINE: usize = 500;
/// How often the bench looks at the timers while a round runs.
const POLL: Duration = Duration::from_millis(25);

#[derive(Debug, Clone, Serialize)]
pub struct ChecksReport {
    pub cases: usize,
    pub clients: usize,
    /// The service's settings that matter here (production defaults, not the tests' faster ones).
    pub pool_connections: u32,
    pub timer_poll_ms: u64,
    pub timer_batch: u32,
    /// Timer workers per replica (`timers.concurrency`).
    pub timer_concurrency: u32,
    /// Today on the service clock, and the first report month every case shares.
    pub filed_on: String,
    pub first_report_month: String,
    /// Publishing the N approvals (confirmed) and waiting until the consumer opened every case.
    pub setup_events_seconds: f64,
    /// GetCase + RecordProcurement + FileContract for every case.
    pub setup_rpc_seconds: f64,
    pub setup_seconds: f64,
    pub setup_ms_per_case: f64,
    /// Per case: the three RPCs of one client, back to back.
    pub setup_case_latency: RunStats,
    pub one_replica: Round,
    pub two_replicas: Round,
    /// One replica again, a month later than the two-replica round.
    pub control: Round,
    /// Two-replica checks/s over one-replica checks/s.
    pub scaling: f64,
    pub target_seconds: f64,
    pub report_missing_events: i64,
    /// Timers whose handler failed at least once (retried later).
    pub timer_retries: i64,
    pub audit_records: i64,
    pub audit_chain_intact: bool,
    /// Threads kept spinning during each round (the CPU busy with something else).
    pub cpu_burners: usize,
}

/// One burst: every case's check for one month, due at the same instant.
#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub replicas: usize,
    pub month: String,
    pub due_at: String,
    /// The service clock when it was moved (the instant all N became due on it).
    pub clock_moved_to: String,
    /// `clock_moved_to - due_at`: what `fired_at - due_at` includes besides the lag below.
    pub clock_jump_seconds: f64,
    pub checks: u64,
    /// Wall time from moving the clock until the bench saw all N fired.
    pub seconds: f64,
    pub checks_per_second: f64,
    /// `fired_at - clock_moved_to` per timer, on the service clock (`fired_at` is the runner's
    /// clock reading when it claimed the timer): what the lag from due to fired would be if the
    /// clock had reached 00:00 by itself. `count`/`per_second` are the checks and checks/s.
    pub lag: RunStats,
    /// `fired_at - due_at` as stored, p50 and p99 (the lag plus the clock jump).
    pub stored_due_to_fired_p50_seconds: f64,
    pub stored_due_to_fired_p99_seconds: f64,
    /// Wall time from moving the clock until the relays had published every flag's event.
    pub events_published_seconds: f64,
    pub target_met: bool,
    /// Lock waits in `pg_stat_activity` during the round.
    pub lock_waits: LockWaits,
}

pub async fn run(n: usize, clients: usize, burners: usize, timer_workers: Option<u32>) -> anyhow::Result<ChecksReport> {
    ensure!(n > 0, "--construction-cases must be at least 1");
    ensure!(clients > 0, "--construction-clients must be at least 1");
    let db = TestDatabase::create().await.context("creating the test database (is PostgreSQL up on 127.0.0.1:5432?)")?;
    let vhost = TestVhost::create().await.context("creating the test virtual host (is RabbitMQ up, and rabbitmqctl on PATH?)")?;
    // The tests' settings (own database and vhost, port 0, adjustable clock), with the deployed
    // pool, timer and outbox settings: the tests poll every 50 ms on 8 connections.
    let mut settings = test_settings(SERVICE, &db, &vhost);
    let deployed = Settings::defaults(SERVICE);
    settings.database.max_connections = deployed.database.max_connections;
    settings.timers = deployed.timers.clone();
    if let Some(workers) = timer_workers {
        settings.timers.concurrency = workers;
    }
    settings.outbox = deployed.outbox.clone();
    let svc = RunningService::start::<Application>(settings.clone()).await.context("starting egov-procurement in-process")?;
    // The bench's own connections, so that watching takes none from the service's pool.
    let pool = PgPoolOptions::new().max_connections(2).connect(&db.url()).await.context("connecting to the test database")?;
    let outcome = drive(&svc, &settings, &vhost, &pool, n, clients, burners).await;
    pool.close().await;
    let stopped = svc.stop().await;
    drop(vhost);
    drop(db);
    let report = outcome?;
    stopped.context("stopping egov-procurement")?;
    Ok(report)
}

async fn drive(
    svc: &RunningService,
    settings: &Settings,
    vhost: &TestVhost,
    pool: &PgPool,
    n: usize,
    clients: usize,
    burners: usize,
) -> anyhow::Result<ChecksReport> {
    let today = svc.clock.today();
    let start = next_month_start(today);

    // The relay publishes `mandatory`: without the consumers of the suite, a queue of the
    // bench's own keeps the service's events routable (as in (a)).
    bind_sink(&vhost.amqp_url(), &settings.broker.exchange).await?;

    // Setup: approvals through the broker, then procurement and contract over gRPC.
    eprintln!("(d) publishing {n} review.project.approved events ...");
    let setup = Instant::now();
    let ids: Vec<String> = (0..n).map(|_| Uuid::now_v7().to_string()).collect();
    let events: Vec<ev::EventEnvelope> = ids.iter().map(|id| approved(id, today, svc.clock.now())).collect();
    publish_all(&vhost.amqp_url(), &settings.broker.exchange, &events).await?;
    eprintln!("(d) waiting for the consumer to open {n} cases ...");
    wait_for_count(pool, "SELECT count(*) FROM procurement_cases", n as i64, Duration::from_secs(120 + n as u64 / 10), "cases opened")
        .await?;
    let setup_events_seconds = setup.elapsed().as_secs_f64();
    eprintln!("(d) RecordProcurement + FileContract for {n} cases with {clients} clients ...");
    let t = Instant::now();
    let mut workers = Vec::with_capacity(clients);
    let (unit_token, drb_token) = (token("bench-unit", Role::Unit, Some(UNIT))?, token("bench-drb", Role::Drb, None)?);
    for _ in 0..clients {
        let channel = Channel::from_shared(format!("http://{}", svc.addr))?.connect().await.context("connecting to egov-procurement")?;
        workers.push((client(channel.clone(), &unit_token)?, client(channel, &drb_token)?));
    }
    let setup_case_latency = into_construction(workers, Arc::new(ids), today, start).await?;
    let setup_rpc_seconds = t.elapsed().as_secs_f64();
    let setup_seconds = setup.elapsed().as_secs_f64();
    settle(pool).await?;

    let first = month_key(start);
    let one_replica = round(pool, &[svc], start, n, 1, burners).await.context("the one-replica round")?;

    eprintln!("(d) starting a second replica on the same database and vhost ...");
    let second = RunningService::start::<Application>(settings.clone()).await.context("starting the second replica")?;
    settle(pool).await?;
    let month = next_month_start(start);
    let two = round(pool, &[svc, &second], month, n, 2, burners).await.context("the two-replica round");
    let stopped = second.stop().await;
    let two_replicas = two?;
    stopped.context("stopping the second replica")?;
    settle(pool).await?;
    let control = round(pool, &[svc], next_month_start(month), n, 3, burners).await.context("the control round")?;

    let report_missing_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE routing_key = $1").bind(REPORT_MISSING).fetch_one(pool).await?;
    ensure!(report_missing_events == 3 * n as i64, "{report_missing_events} report_missing events after 3 rounds of {n}");
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE status <> 'sent'").fetch_one(pool).await?;
    ensure!(dead == 0, "{dead} outbox rows are not sent at the end");
    let timer_retries: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind = $1 AND attempts > 1")
        .bind(PROGRESS_REPORT)
        .fetch_one(pool)
        .await?;
    let v = audit::verify(pool, &local_trust()?, None).await.map_err(|e| anyhow::anyhow!("verifying the audit chain: {e}"))?;
    ensure!(v.intact, "the audit chain is broken after the run: {}", v.detail);
    let scaling = if one_replica.checks_per_second > 0.0 { two_replicas.checks_per_second / one_replica.checks_per_second } else { 0.0 };
    Ok(ChecksReport {
        cases: n,
        clients,
        pool_connections: settings.database.max_connections,
        timer_poll_ms: settings.timers.poll_interval_ms,
        timer_batch: settings.timers.batch_size,
        timer_concurrency: settings.timers.concurrency,
        filed_on: today.to_string(),
        first_report_month: first,
        setup_events_seconds,
        setup_rpc_seconds,
        setup_seconds,
        setup_ms_per_case: setup_seconds * 1000.0 / n as f64,
        setup_case_latency,
        one_replica,
        two_replicas,
        control,
        scaling,
        target_seconds: TARGET_SECONDS,
        report_missing_events,
        timer_retries,
        audit_records: v.records_checked,
        audit_chain_intact: v.intact,
        cpu_burners: burners,
    })
}

fn client(channel: Channel, token: &str) -> anyhow::Result<Client> {
    Ok(ProcurementClient::with_interceptor(channel, Bearer::new(token)?))
}

/// The first day of the month after `d`'s.
fn next_month_start(d: Date) -> Date {
    let (y, m) = if d.month() == Month::December { (d.year() + 1, Month::January) } else { (d.year(), d.month().next()) };
    Date::from_calendar_date(y, m, 1).unwrap_or(d)
}

/// `YYYY-MM`, as the report timers' keys end.
fn month_key(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month() as u8)
}

/// What review publishes when a project is approved (the procurement tests' approval), not
/// fiscally funded, so no R-P1 deadline timer joins the burst.
fn approved(id: &str, issued_on: Date, now: OffsetDateTime) -> ev::EventEnvelope {
    outbox::envelope(
        "review",
        "review.project.approved",
        id,
        POLICY_VERSION,
        now,
        Payload::ProjectApproved(ev::ProjectApproved {
            project_id: id.into(),
            document_number: "上数〔2026〕9号".into(),
            issued_on: Some(civil(issued_on)),
            issuers: vec!["DRB".into(), "DRC".into(), "FINANCE".into()],
            project_name: NAME.into(),
            budget_fen: 10_000_000,
            funding_source: "SUPERIOR_TRANSFER".into(),
            scope: "救助审核".into(),
            planned_construction_months: 12,
            lead_unit_id: UNIT.into(),
            ..Default::default()
        }),
    )
}

/// Publishes every event as review's relay would (persistent, routing key = type, message id =
/// event id) on one channel, with confirms, pipelined.
async fn publish_all(amqp_url: &str, exchange: &str, events: &[ev::EventEnvelope]) -> anyhow::Result<()> {
    let conn = Connection::connect(amqp_url, ConnectionProperties::default()).await.context("connecting to RabbitMQ")?;
    let ch = conn.create_channel().await?;
    ch.confirm_select(ConfirmSelectOptions::default()).await?;
    for chunk in events.chunks(PUBLISH_PIPELINE) {
        let mut confirms = Vec::with_capacity(chunk.len());
        for e in chunk {
            let props = BasicProperties::default().with_message_id(e.event_id.as_str().into()).with_delivery_mode(2);
            let c = ch
                .basic_publish(exchange.into(), e.r#type.as_str().into(), BasicPublishOptions::default(), &e.encode_to_vec(), props)
                .await?;
            confirms.push(c);
        }
        for c in confirms {
            ensure!(c.await?.is_ack(), "the broker nacked an approval");
        }
    }
    let _ = conn.close(200, "done".into()).await;
    Ok(())
}

/// A durable queue bound to every procurement event, standing in for the services that consume
/// them.
async fn bind_sink(amqp_url: &str, exchange: &str) -> anyhow::Result<()> {
    let conn = Connection::connect(amqp_url, ConnectionProperties::default()).await.context("connecting to RabbitMQ")?;
    let ch = conn.create_channel().await?;
    ch.queue_declare(SINK.into(), QueueDeclareOptions { durable: true, ..Default::default() }, FieldTable::default()).await?;
    ch.queue_bind(SINK.into(), exchange.into(), "procurement.#".into(), QueueBindOptions::default(), FieldTable::default())
        .await
        .with_context(|| format!("binding {SINK} to {exchange}"))?;
    let _ = conn.close(200, "done".into()).await;
    Ok(())
}

/// Polls `sql` (a count) until it reaches `want`.
async fn wait_for_count(pool: &PgPool, sql: &'static str, want: i64, timeout: Duration, what: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let got: i64 = sqlx::query_scalar(sql).fetch_one(pool).await?;
        if got >= want {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{what}: {got} of {want} after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Procured (small public-resource trading, 9,000,000 of the 10,000,000 fen) and the contract
/// filed today, construction from `start` for five months, as the API tests' `in_construction`;
/// every case must come out under construction with `start`'s month as its first report month.
async fn into_construction(workers: Vec<(Client, Client)>, ids: Arc<Vec<String>>, today: Date, start: Date) -> anyhow::Result<RunStats> {
    let next = Arc::new(AtomicUsize::new(0));
    let begun = Instant::now();
    let mut set = JoinSet::new();
    for (unit, drb) in workers {
        let (ids, next) = (ids.clone(), next.clone());
        set.spawn(async move {
            let (mut unit, mut drb) = (unit, drb);
            let mut h = stats::histogram();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(id) = ids.get(i) else { return anyhow::Ok(h) };
                let t = Instant::now();
                to_construction(&mut unit, &mut drb, id, today, start).await.with_context(|| format!("case {id}"))?;
                stats::record(&mut h, t.elapsed());
            }
        });
    }
    let mut all = stats::histogram();
    while let Some(r) = set.join_next().await {
        let h: Histogram<u64> = r??;
        all.add(&h).map_err(|e| anyhow::anyhow!("merging histograms: {e}"))?;
    }
    Ok(RunStats::new(ids.len() as u64, begun.elapsed(), &all))
}

async fn to_construction(unit: &mut Client, drb: &mut Client, id: &str, today: Date, start: Date) -> anyhow::Result<()> {
    let k = drb.get_case(pb::GetCaseRequest { project_id: id.into() }).await.context("GetCase")?.into_inner();
    let record = pb::ProcurementRecord {
        channel: "SMALL_PUBLIC_RESOURCE_TRADING".into(),
        method: "公开招标".into(),
        supplier_name: "杭州某信息技术有限公司".into(),
        supplier_credit_code: "91350100M000100Y43".into(),
        amount_fen: 9_000_000,
        implementing_body: "区民政局信息中心".into(),
        responsible_person: "张三".into(),
        supervision: None,
        completed_on: Some(civil(today)),
        documents_filing: None,
    };
    let k = unit
        .record_procurement(pb::RecordProcurementRequest {
            project_id: id.into(),
            etag: k.etag,
            record: Some(record),
            request_id: Uuid::now_v7().to_string(),
        })
        .await
        .context("RecordProcurement")?
        .into_inner();
    let end = nth_month_start(start, 5) - Span::days(1);
    let terms = pb::ContractTerms {
        project_name: NAME.into(),
        construction_start: Some(civil(start)),
        construction_end: Some(civil(end)),
        amount_fen: 9_000_000,
        ip_owned_by_unit_or_joint: true,
        data_owned_by_unit: true,
        security_agreement: pb::SignedStatement::Signed as i32,
        security_responsibility_letter: pb::SignedStatement::NotSigned as i32,
        maintenance_scope: "系统软件及数据的运行维护".into(),
        maintenance_start: Some(civil(end + Span::days(1))),
        maintenance_end: Some(civil(nth_month_start(start, 5 + 24) - Span::days(1))),
        maintenance_duty: "7×24小时响应，4小时内到场".into(),
        security_duties_and_penalties: true,
        overrun_penalty_clause: true,
    };
    let k = unit
        .file_contract(pb::FileContractRequest {
            project_id: id.into(),
            etag: k.etag,
            terms: Some(terms),
            contract_signed_on: Some(civil(today)),
            filed_on: Some(civil(today)),
            request_id: Uuid::now_v7().to_string(),
            security: Some(pb::SecurityFlags { classified_protection_level: 3, important_system: true, ..Default::default() }),
        })
        .await
        .context("FileContract")?
        .into_inner();
    ensure!(k.state == pb::CaseState::Construction as i32, "FileContract left state {}", k.state);
    let want = pb::YearMonth { year: start.year(), month: start.month() as i32 };
    ensure!(k.first_report_month == Some(want), "first report month {:?}, expected {}", k.first_report_month, month_key(start));
    Ok(())
}

fn nth_month_start(d: Date, n: u32) -> Date {
    (0..n).fold(d, |d, _| next_month_start(d))
}

/// Waits until the relays have published everything and the consumers have stopped taking
/// events, so that a round is not measured against the setup's leftovers.
async fn settle(pool: &PgPool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last: Option<i64> = None;
    loop {
        let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE status = 'pending'").fetch_one(pool).await?;
        let consumed: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_inbox").fetch_one(pool).await?;
        if pending == 0 && last == Some(consumed) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            eprintln!("note: the service was still busy after 120 s ({pending} outbox rows pending); measuring anyway");
            return Ok(());
        }
        last = Some(consumed);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Moves every replica's clock to 00:10 on the 21st of `month` and times the N checks of that
/// month, due at 00:00, until all have fired. `nth` counts the rounds so far (1-based), for
/// the cumulative number of flag events.
async fn round(pool: &PgPool, replicas: &[&RunningService], month: Date, n: usize, nth: i64, burners: usize) -> anyhow::Result<Round> {
    let db: String = sqlx::query_scalar("SELECT current_database()").fetch_one(pool).await?;
    let sampler = LockSampler::start(pool.clone(), vec![db], Duration::from_millis(20));
    let busy = Burners::start(burners);
    let r = burst(pool, replicas, month, n, nth).await;
    drop(busy);
    let lock_waits = sampler.finish().await?;
    r.map(|r| Round { lock_waits, ..r })
}

async fn burst(pool: &PgPool, replicas: &[&RunningService], month: Date, n: usize, nth: i64) -> anyhow::Result<Round> {
    let key = month_key(month);
    let suffix = format!("%/{key}");
    // All N checks of the month are pending and due at one instant: 00:00 the day after the
    // policy's progress-report day (the 20th), i.e. the 21st.
    let dues: Vec<(OffsetDateTime, i64)> =
        sqlx::query_as("SELECT due_at, count(*) FROM egov_timers WHERE kind = $1 AND status = 'pending' AND key LIKE $2 GROUP BY due_at")
            .bind(PROGRESS_REPORT)
            .bind(&suffix)
            .fetch_all(pool)
            .await?;
    let [(due_at, pending)] = dues[..] else { bail!("the pending checks for {key} are due at {} instants: {dues:?}", dues.len()) };
    ensure!(pending == n as i64, "{pending} pending checks for {key} due at {due_at}, expected {n}");
    let due_day = civil_date(due_at);
    ensure!(due_at == shanghai(due_day, time!(00:00)), "the checks for {key} are due at {due_at}, not at 00:00 Asia/Shanghai");
    let target = due_at + Span::minutes(10);
    let ahead: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE status = 'pending' AND due_at <= $1")
        .bind(target)
        .fetch_one(pool)
        .await?;
    ensure!(ahead == n as i64, "{ahead} timers of any kind are due by 00:10 on {due_day}, expected only the {n} checks");

    let r = replicas.len();
    eprintln!("(d) {r} replica(s): moving the clock to 00:10 on {due_day}, {n} checks due at 00:00 ...");
    let mut moved_to = None;
    let begun = Instant::now();
    for svc in replicas {
        ensure!(svc.clock.offset_seconds() <= (target - OffsetDateTime::now_utc()).whole_seconds(), "the clock is past {target} already");
        svc.move_clock_to(target);
        moved_to.get_or_insert_with(|| svc.clock.now());
    }
    // move_clock_to sets whole seconds from the wall clock: two calls a few µs apart can land a
    // second apart. Align on the later one, so that the replicas agree on what is due.
    let offset = replicas.iter().map(|s| s.clock.offset_seconds()).max().unwrap_or(0);
    for svc in replicas {
        if svc.clock.offset_seconds() < offset {
            svc.clock.set_offset(offset).map_err(|e| anyhow::anyhow!("aligning the replicas' clocks: {e}"))?;
        }
    }
    let moved_to = moved_to.context("no replica")?;

    let timeout = Duration::from_secs(300 + n as u64 / 10);
    let fired_sql = "SELECT count(*) FROM egov_timers WHERE kind = $1 AND status = 'fired' AND key LIKE $2";
    let seconds = loop {
        let fired: i64 = sqlx::query_scalar(fired_sql).bind(PROGRESS_REPORT).bind(&suffix).fetch_one(pool).await?;
        if fired >= n as i64 {
            break begun.elapsed();
        }
        if begun.elapsed() > timeout {
            let last: Option<String> =
                sqlx::query_scalar("SELECT last_error FROM egov_timers WHERE kind = $1 AND last_error IS NOT NULL LIMIT 1")
                    .bind(PROGRESS_REPORT)
                    .fetch_optional(pool)
                    .await?
                    .flatten();
            bail!("{fired} of {n} checks for {key} fired after {timeout:?}; last handler error: {}", last.unwrap_or_else(|| "none".into()));
        }
        tokio::time::sleep(POLL).await;
    };
    eprintln!("(d) {r} replica(s): {n} checks fired in {:.2} s; waiting for the relay ...", seconds.as_secs_f64());
    // Each check's flag event went into the outbox in its transaction; the relays publish them.
    let published = loop {
        let (total, sent): (i64, i64) =
            sqlx::query_as("SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM egov_outbox WHERE routing_key = $1")
                .bind(REPORT_MISSING)
                .fetch_one(pool)
                .await?;
        if sent >= nth * n as i64 {
            ensure!(total == nth * n as i64, "{total} report_missing events after round {nth} of {n} checks");
            break begun.elapsed();
        }
        if begun.elapsed() > timeout {
            bail!("{sent} of {total} report_missing events sent after {timeout:?}");
        }
        tokio::time::sleep(POLL).await;
    };

    let fired_at: Vec<OffsetDateTime> =
        sqlx::query_scalar("SELECT fired_at FROM egov_timers WHERE kind = $1 AND status = 'fired' AND key LIKE $2")
            .bind(PROGRESS_REPORT)
            .bind(&suffix)
            .fetch_all(pool)
            .await?;
    ensure!(fired_at.len() == n, "{} fired checks for {key}, expected {n}", fired_at.len());
    let mut lag = stats::histogram();
    for f in &fired_at {
        stats::record(&mut lag, micros(*f - moved_to));
    }
    let lag = RunStats::new(n as u64, seconds, &lag);
    // Exact, not from the histogram: at 600 s its three significant digits are 0.5 s wide.
    let mut stored: Vec<f64> = fired_at.iter().map(|f| (*f - due_at).as_seconds_f64()).collect();
    stored.sort_by(f64::total_cmp);
    let secs = |q: f64| quantile(&stored, q);
    Ok(Round {
        replicas: r,
        month: key,
        due_at: due_at.to_offset(SHANGHAI).format(&Rfc3339)?,
        clock_moved_to: moved_to.to_offset(SHANGHAI).format(&Rfc3339)?,
        clock_jump_seconds: (moved_to - due_at).as_seconds_f64(),
        checks: n as u64,
        seconds: seconds.as_secs_f64(),
        checks_per_second: lag.per_second,
        stored_due_to_fired_p50_seconds: secs(0.5),
        stored_due_to_fired_p99_seconds: secs(0.99),
        lag,
        events_published_seconds: published.as_secs_f64(),
        target_met: seconds.as_secs_f64() <= TARGET_SECONDS,
        lock_waits: LockWaits::default(),
    })
}

/// The `q` quantile of sorted values (nearest rank), 0 when there are none.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A non-negative span of the service clock as a `std` duration (a timer claimed in the
/// microseconds between moving the clock and reading it counts as zero).
fn micros(d: Span) -> Duration {
    Duration::from_micros(u64::try_from(d.whole_microseconds()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_roll_over_the_year() {
        assert_eq!(next_month_start(date!(2026 - 12 - 20)), date!(2027 - 01 - 01));
        assert_eq!(nth_month_start(date!(2026 - 11 - 01), 5), date!(2027 - 04 - 01));
        assert_eq!(month_key(date!(2027 - 04 - 01)), "2027-04");
        assert_eq!(micros(Span::milliseconds(-3)), Duration::ZERO);
        assert_eq!(micros(Span::milliseconds(3)), Duration::from_millis(3));
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!((quantile(&v, 0.5), quantile(&v, 0.99), quantile(&v, 1.0)), (50.0, 99.0, 100.0));
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
