//! (b) `SubmitApplication` through a real `egov-intake` process against a raw sqlx transaction
//! doing the same statements, at each client count of the sweep, with the lock waits sampled
//! meanwhile; then `GetApplication` against a bare tonic server running the same SQL
//! (`read_bench.rs`); and (c) the child's peak memory afterwards.
//!
//! Both sides run on one database and one service process: the RPC side's applications and the
//! baseline's are prepared the same way, through the API (unit, clock moved into next spring by
//! an OPERATOR, round opened, CreateApplication and the two required uploads each), and both are
//! measured with the same number of concurrent workers once the service's background work (its
//! relay and timeline consumer) has caught up with the preparation.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, ensure};
use egov_platform::{
    audit::{self, AuditEntry},
    auth::{Principal, Role},
    clock::shanghai,
    config::Settings,
    convert::from_timestamp,
    outbox,
    testing::{TestDatabase, TestVhost},
};
use egov_proto::{
    common::{AdvanceClockRequest, GetClockRequest},
    events::{self as ev, event_envelope::Payload},
    intake as pb,
};
use hdrhistogram::Histogram;
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Row, postgres::PgPoolOptions, postgres::PgRow};
use time::{Date, Month, OffsetDateTime, format_description::well_known::Rfc3339};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::{
    child::{Client, ServiceProcess, intake_client, local_trust, operations_client, token},
    contention::{LockSampler, LockWaits},
    memory,
    read_bench::{self, ReadPoint},
    stats::{self, RunStats},
};

const UNIT: &str = "U-BENCH";
const PARTNER: &str = "U-BENCH-PARTNER";
const UNIT_SUBJECT: &str = "bench-unit";
const SUBMITTED: &str = "intake.application.submitted";
/// The rules `SubmitApplication` records in its audit entry.
const SUBMIT_RULES: [&str; 11] = ["R-I1", "R-I2", "R-I3", "R-I4", "R-I5", "R-I6", "R-I7", "R-I8", "R-I9", "R-I10", "R-I12"];

/// One client count of the sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    pub clients: usize,
    pub rpc: RunStats,
    pub raw: RunStats,
    pub ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubmitReport {
    pub submits: usize,
    pub clients: usize,
    /// Every client count measured; `rpc`, `raw` and `ratio` below are those of `clients`.
    pub sweep: Vec<SweepPoint>,
    /// Lock waits in `pg_stat_activity` while the sweep ran.
    pub lock_waits: LockWaits,
    pub reads: Vec<ReadPoint>,
    pub intake_pid: u32,
    pub intake_log: String,
    pub prepare_rpc_seconds: f64,
    pub prepare_raw_seconds: f64,
    pub rpc: RunStats,
    pub raw: RunStats,
    pub ratio: f64,
    pub raw_pool_connections: u32,
    pub audit_records: i64,
    pub audit_chain_intact: bool,
    pub intake_vm_hwm_kib: u64,
}

#[derive(Debug, Clone)]
struct Prepared {
    id: String,
    etag: String,
}

/// Client counts of the sweep, and calls per read measurement.
pub struct Plan {
    pub sweep: Vec<usize>,
    pub read_calls: usize,
    pub read_levels: Vec<usize>,
}

pub async fn run(bin: &Path, m: usize, clients: usize, plan: &Plan, log: PathBuf) -> anyhow::Result<SubmitReport> {
    ensure!(m > 0, "--submits must be at least 1");
    ensure!(clients > 0, "--clients must be at least 1");
    let db = TestDatabase::create().await.context("creating the test database (is PostgreSQL up on 127.0.0.1:5432?)")?;
    let vhost = TestVhost::create().await.context("creating the test virtual host (is RabbitMQ up, and rabbitmqctl on PATH?)")?;
    // No evaluation service: R-I9 screening is flagged.
    let no_evaluation = [("EGOV_PEERS__EVALUATION", String::new())];
    let mut intake = ServiceProcess::start(bin, &db.url(), &vhost.amqp_url(), &no_evaluation, log).await?;
    eprintln!("(b) egov-intake pid {} on {} (log {})", intake.pid(), intake.addr, intake.log.display());
    let outcome = drive(&mut intake, &db, m, clients, plan).await;
    // (c): the child's peak, read while it still runs.
    let hwm = memory::vm_hwm_kib(&intake.pid().to_string());
    let running = intake.ensure_running();
    let (pid, log) = (intake.pid(), intake.log.display().to_string());
    intake.stop().await?;
    drop(vhost);
    drop(db);
    let mut report = outcome?;
    running?;
    report.intake_pid = pid;
    report.intake_log = log;
    report.intake_vm_hwm_kib = hwm?;
    Ok(report)
}

async fn drive(intake: &mut ServiceProcess, db: &TestDatabase, m: usize, clients: usize, plan: &Plan) -> anyhow::Result<SubmitReport> {
    intake.wait_serving(Duration::from_secs(60)).await?;
    let mut drb = intake_client(intake.connect().await?, &token("bench-drb", Role::Drb, None)?)?;
    let mut ops = operations_client(intake.connect().await?, &token("bench-operator", Role::Operator, None)?)?;

    // The unit (and a participating unit, so the submit's participating-unit check queries).
    for (id, name) in [(UNIT, "基准测试单位"), (PARTNER, "基准测试协作单位")] {
        drb.create_unit(pb::CreateUnitRequest {
            request_id: rid(),
            unit_id: id.into(),
            name: name.into(),
            district_budget_unit: true,
            ..Default::default()
        })
        .await
        .with_context(|| format!("CreateUnit {id}"))?;
    }
    // Into next spring (OPERATOR), then the round for the year after (DRB).
    let reading = ops.get_clock(GetClockRequest {}).await.context("GetClock")?.into_inner();
    let now = reading.now.as_ref().and_then(from_timestamp).context("GetClock returned no time")?;
    let next_spring = shanghai(Date::from_calendar_date(now.year() + 1, Month::March, 2)?, time::macros::time!(10:00));
    ops.advance_clock(AdvanceClockRequest { seconds: (next_spring - now).whole_seconds() }).await.context("AdvanceClock")?;
    let round =
        drb.open_round(pb::OpenRoundRequest { request_id: rid(), target_year: now.year() + 2 }).await.context("OpenRound")?.into_inner();

    let unit_token = token(UNIT_SUBJECT, Role::Unit, Some(UNIT))?;
    // Preparation always with 16 clients; each measurement with its own count.
    let preparers = connect_n(intake, &unit_token, 16).await?;
    let raw_connections = Settings::defaults("intake").database.max_connections;
    let pool = PgPoolOptions::new().max_connections(raw_connections).connect(&db.url()).await?;
    let mut sweep_counts = plan.sweep.clone();
    if !sweep_counts.contains(&clients) {
        sweep_counts.push(clients);
    }
    let sampler = LockSampler::start(pool.clone(), vec![db.name().to_string()], Duration::from_millis(20));
    let (mut sweep, mut prepare_rpc_seconds, mut prepare_raw_seconds, mut first_id) = (Vec::new(), 0.0, 0.0, None);
    for (n, &c) in sweep_counts.iter().enumerate() {
        let unit_clients = connect_n(intake, &unit_token, c).await?;
        eprintln!("(b) preparing {m} applications through the API ...");
        let t = Instant::now();
        let rpc_apps = prepare(&preparers, m, 2 * n * m).await?;
        prepare_rpc_seconds += t.elapsed().as_secs_f64();
        settle(&pool).await?;
        intake.ensure_running()?;
        eprintln!("(b) SubmitApplication x {m} with {c} clients ...");
        let rpc = submit_rpc(&unit_clients, Arc::new(rpc_apps.clone()), &round.round_id).await?;
        intake.ensure_running()?;
        // The baseline: prepared the same way, submitted by raw transactions.
        eprintln!("(b) preparing {m} more applications through the API ...");
        let t = Instant::now();
        let raw_apps = prepare(&preparers, m, (2 * n + 1) * m).await?;
        prepare_raw_seconds += t.elapsed().as_secs_f64();
        let offset = ops.get_clock(GetClockRequest {}).await?.into_inner().offset_seconds;
        let ctx = Arc::new(RawContext::new(&pool, &rpc_apps[0].id, &round.round_id, offset).await?);
        settle(&pool).await?;
        intake.ensure_running()?;
        eprintln!("(b) raw submit transaction x {m} with {c} tasks ...");
        let raw = submit_raw(&pool, ctx, Arc::new(raw_apps), c).await?;
        let ratio = if raw.per_second > 0.0 { rpc.per_second / raw.per_second } else { 0.0 };
        eprintln!("(b) {c} clients: {:.0}/s vs {:.0}/s raw ({ratio:.2})", rpc.per_second, raw.per_second);
        sweep.push(SweepPoint { clients: c, rpc, raw, ratio });
        first_id.get_or_insert(rpc_apps[0].id.clone());
    }
    let lock_waits = sampler.finish().await?;
    let m_all = m * sweep_counts.len();
    let headline = sweep.iter().find(|p| p.clients == clients).cloned().context("the headline point")?;
    let (rpc, raw, ratio) = (headline.rpc, headline.raw, headline.ratio);

    eprintln!("(b) GetApplication, {} calls at {:?} in flight ...", plan.read_calls, plan.read_levels);
    let reads =
        read_bench::run(intake.addr, &unit_token, &db.url(), first_id.as_deref().unwrap_or_default(), plan.read_calls, &plan.read_levels)
            .await?;

    let submitted: i64 = sqlx::query_scalar("SELECT count(*) FROM applications WHERE state = 'SUBMITTED'").fetch_one(&pool).await?;
    ensure!(submitted == 2 * m_all as i64, "{submitted} applications are SUBMITTED, expected {}", 2 * m_all);
    let v = audit::verify(&pool, &local_trust()?, None).await.map_err(|e| anyhow::anyhow!("verifying the audit chain: {e}"))?;
    ensure!(v.intact, "the audit chain is broken after the run: {}", v.detail);
    settle(&pool).await?;
    pool.close().await;
    Ok(SubmitReport {
        submits: m,
        clients,
        sweep,
        lock_waits,
        reads,
        intake_pid: 0,
        intake_log: String::new(),
        prepare_rpc_seconds,
        prepare_raw_seconds,
        rpc,
        raw,
        ratio,
        raw_pool_connections: raw_connections,
        audit_records: v.records_checked,
        audit_chain_intact: v.intact,
        intake_vm_hwm_kib: 0,
    })
}

/// `n` clients of the unit, each on a connection of its own.
async fn connect_n(intake: &ServiceProcess, unit_token: &str, n: usize) -> anyhow::Result<Vec<Client>> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(intake_client(intake.connect().await?, unit_token)?);
    }
    Ok(v)
}

fn rid() -> String {
    Uuid::now_v7().to_string()
}

/// The intake tests' complete draft, with one participating unit.
fn draft(i: usize) -> pb::ApplicationDraft {
    use pb::*;
    ApplicationDraft {
        name: format!("社会救助一件事 {i}"),
        category: ProjectCategory::DataResource as i32,
        build_type: BuildType::New as i32,
        funding_source: FundingSource::DistrictFiscal as i32,
        planned_construction_months: 12,
        content_kinds: vec![ContentKind::SoftwareDevelopment as i32],
        participating_unit_ids: vec![PARTNER.into()],
        necessity: Some(NecessityStatement {
            core_business: "社会救助".into(),
            one_platform_path: "民政一平台".into(),
            relations_with_other_units: "与街道协同".into(),
            existing_systems_and_plans: "无".into(),
            terminals: vec![Terminal::Zhezhengding as i32],
            uses_public_data_platform: true,
            ..Default::default()
        }),
        modules: vec![FunctionModule { name: "救助审核".into(), description: "救助对象审核".into() }],
        budget: vec![
            BudgetLine {
                module: "救助审核".into(),
                category: CostCategory::SoftwareDevelopment as i32,
                amount_fen: 9_500_000,
                rationale: "按人天测算".into(),
            },
            BudgetLine {
                module: "救助审核".into(),
                category: CostCategory::Security as i32,
                amount_fen: 500_000,
                rationale: "等保测评".into(),
            },
        ],
        ..Default::default()
    }
}

async fn upload(c: &mut Client, application_id: &str, kind: pb::DocumentKind, content: &[u8]) -> anyhow::Result<()> {
    let mut msgs = vec![pb::UploadDocumentRequest {
        part: Some(pb::upload_document_request::Part::Header(pb::DocumentUploadHeader {
            application_id: application_id.into(),
            kind: kind as i32,
            file_name: format!("{}.pdf", kind.as_str_name().to_lowercase()),
            content_type: "application/pdf".into(),
            street: String::new(),
            request_id: rid(),
        })),
    }];
    for chunk in content.chunks(1000) {
        msgs.push(pb::UploadDocumentRequest { part: Some(pb::upload_document_request::Part::Chunk(chunk.to_vec())) });
    }
    c.upload_document(futures::stream::iter(msgs)).await.with_context(|| format!("UploadDocument {}", kind.as_str_name()))?;
    Ok(())
}

/// CreateApplication, the application form and the feasibility report, then the etag.
async fn prepare_one(c: &mut Client, i: usize) -> anyhow::Result<Prepared> {
    let a = c
        .create_application(pb::CreateApplicationRequest { request_id: rid(), lead_unit_id: UNIT.into(), draft: Some(draft(i)) })
        .await
        .context("CreateApplication")?
        .into_inner();
    upload(c, &a.application_id, pb::DocumentKind::ApplicationForm, "电子政务项目申报表".as_bytes()).await?;
    upload(c, &a.application_id, pb::DocumentKind::FeasibilityReport, "项目可行性研究报告".as_bytes()).await?;
    let a = c.get_application(pb::GetApplicationRequest { application_id: a.application_id }).await.context("GetApplication")?.into_inner();
    ensure!(a.state == pb::ApplicationState::Draft as i32, "a prepared application is not a draft");
    Ok(Prepared { id: a.application_id, etag: a.etag })
}

/// Prepares `m` applications with every client working at once.
async fn prepare(clients: &[Client], m: usize, first: usize) -> anyhow::Result<Vec<Prepared>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for c in clients {
        let (mut c, next) = (c.clone(), next.clone());
        set.spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= m {
                    return anyhow::Ok(out);
                }
                out.push(prepare_one(&mut c, first + i).await?);
            }
        });
    }
    let mut all = Vec::with_capacity(m);
    while let Some(r) = set.join_next().await {
        all.extend(r??);
    }
    Ok(all)
}

/// Waits until the service's relay has published everything and its timeline consumer has stopped
/// taking events, so that neither side is measured against the other's leftovers.
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

async fn submit_rpc(clients: &[Client], apps: Arc<Vec<Prepared>>, round_id: &str) -> anyhow::Result<RunStats> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    let start = Instant::now();
    for c in clients {
        let (mut c, next, apps, round_id) = (c.clone(), next.clone(), apps.clone(), round_id.to_string());
        set.spawn(async move {
            let mut h = stats::histogram();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(a) = apps.get(i) else { return anyhow::Ok(h) };
                let req = pb::SubmitApplicationRequest { application_id: a.id.clone(), etag: a.etag.clone(), round_id: round_id.clone() };
                let t = Instant::now();
                let r = c.submit_application(req).await;
                stats::record(&mut h, t.elapsed());
                let app = r.with_context(|| format!("SubmitApplication {}", a.id))?.into_inner();
                ensure!(app.state == pb::ApplicationState::Submitted as i32, "SubmitApplication {} left state {}", a.id, app.state);
            }
        });
    }
    let h = join_histograms(set).await?;
    Ok(RunStats::new(apps.len() as u64, start.elapsed(), &h))
}

async fn join_histograms(mut set: JoinSet<anyhow::Result<Histogram<u64>>>) -> anyhow::Result<Histogram<u64>> {
    let mut all = stats::histogram();
    let mut first_error = None;
    while let Some(r) = set.join_next().await {
        match r? {
            Ok(h) => all.add(&h).map_err(|e| anyhow::anyhow!("merging histograms: {e}"))?,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(all),
    }
}

// ------------------------------------------------------------------ the raw baseline

/// What the raw transaction needs besides the application: the round, the service clock's
/// offset, and the screening result the RPC stored for an identical dossier (flags, screening,
/// totals), so that the baseline writes a body of the same size and shape.
struct RawContext {
    round_id: Uuid,
    clock_offset: time::Duration,
    state: String,
    flags: serde_json::Value,
    screening: serde_json::Value,
    totals: serde_json::Value,
    principal: Principal,
}

impl RawContext {
    async fn new(pool: &PgPool, submitted_id: &str, round_id: &str, offset_seconds: i64) -> anyhow::Result<RawContext> {
        let row = sqlx::query("SELECT state, body FROM applications WHERE application_id = $1")
            .bind(Uuid::parse_str(submitted_id)?)
            .fetch_one(pool)
            .await?;
        let state: String = row.try_get("state")?;
        ensure!(state == "SUBMITTED", "the template application is {state}");
        let body: serde_json::Value = row.try_get("body")?;
        Ok(RawContext {
            round_id: Uuid::parse_str(round_id)?,
            clock_offset: time::Duration::seconds(offset_seconds),
            state,
            flags: body["flags"].clone(),
            screening: body["screening"].clone(),
            totals: body["totals"].clone(),
            principal: Principal { subject: UNIT_SUBJECT.into(), role: Role::Unit, unit: Some(UNIT.into()) },
        })
    }

    /// The service clock's now.
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.clock_offset
    }
}

async fn submit_raw(pool: &PgPool, ctx: Arc<RawContext>, apps: Arc<Vec<Prepared>>, workers: usize) -> anyhow::Result<RunStats> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    let start = Instant::now();
    for _ in 0..workers {
        let (pool, ctx, next, apps) = (pool.clone(), ctx.clone(), next.clone(), apps.clone());
        set.spawn(async move {
            let mut h = stats::histogram();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(a) = apps.get(i) else { return anyhow::Ok(h) };
                let t = Instant::now();
                let r = raw_submit(&pool, &ctx, a).await;
                stats::record(&mut h, t.elapsed());
                r.with_context(|| format!("raw submit of {}", a.id))?;
            }
        });
    }
    let h = join_histograms(set).await?;
    Ok(RunStats::new(apps.len() as u64, start.elapsed(), &h))
}

/// The statements `SubmitApplication` runs for a draft submitted into a round with no evaluation
/// service configured: the reads before the transaction (application, documents), then in one
/// transaction the locked application, the lead unit, the participating units, the documents,
/// the round, the penalties, the version-guarded update with the JSON body, the audit append and
/// the outbox event.
async fn raw_submit(pool: &PgPool, ctx: &RawContext, a: &Prepared) -> anyhow::Result<()> {
    let id = Uuid::parse_str(&a.id)?;
    let etag: i64 = a.etag.parse().context("etag")?;
    {
        let mut c = pool.acquire().await?;
        let body = application(&mut c, id, false).await?;
        ensure!(body["lead_unit_id"] == UNIT, "not the unit's application");
        ensure!(body["version"] == etag, "stale etag");
        ensure!(body["state"] == "DRAFT", "not a draft");
        documents(&mut c, id).await?;
    }

    let now = ctx.now();
    let mut tx = pool.begin().await?;
    let mut body = application(&mut tx, id, true).await?;
    ensure!(body["version"] == etag, "stale etag");
    let lead = body["lead_unit_id"].as_str().context("lead_unit_id")?.to_string();
    let policy_version = body["policy_version"].as_str().context("policy_version")?.to_string();
    let name = body["draft"]["name"].as_str().unwrap_or_default().to_string();
    let unit =
        sqlx::query("SELECT * FROM units WHERE unit_id = $1").bind(&lead).fetch_optional(&mut *tx).await?.context("unit not found")?;
    decode_unit(&unit)?;
    let participants: Vec<String> = body["draft"]["participating_unit_ids"]
        .as_array()
        .map(|v| v.iter().filter_map(|u| u.as_str().map(String::from)).collect())
        .unwrap_or_default();
    if !participants.is_empty() {
        let known: Vec<String> =
            sqlx::query_scalar("SELECT unit_id FROM units WHERE unit_id = ANY($1)").bind(&participants).fetch_all(&mut *tx).await?;
        ensure!(participants.iter().all(|p| known.contains(p)), "unknown participating unit");
    }
    let docs = documents(&mut tx, id).await?;
    ensure!(docs >= 2, "the dossier is incomplete");
    let round = sqlx::query("SELECT * FROM rounds WHERE round_id = $1")
        .bind(ctx.round_id)
        .fetch_optional(&mut *tx)
        .await?
        .context("round not found")?;
    decode_round(&round)?;
    let penalties =
        sqlx::query("SELECT * FROM penalties WHERE unit_id = $1 ORDER BY recorded_at, penalty_id").bind(&lead).fetch_all(&mut *tx).await?;
    for p in &penalties {
        decode_penalty(p)?;
    }

    let version = etag + 1;
    body["version"] = version.into();
    body["state"] = ctx.state.clone().into();
    body["round_id"] = ctx.round_id.to_string().into();
    body["flags"] = ctx.flags.clone();
    body["screening"] = ctx.screening.clone();
    body["totals"] = ctx.totals.clone();
    body["submitted_at"] = now.format(&Rfc3339)?.into();
    let n = sqlx::query(
        "UPDATE applications SET round_id = $2, state = $3, name = $4, version = $5, body = $6 WHERE application_id = $1 AND version = $7",
    )
    .bind(id)
    .bind(ctx.round_id)
    .bind(&ctx.state)
    .bind(&name)
    .bind(version)
    .bind(&body)
    .bind(etag)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    ensure!(n == 1, "the application was changed by someone else");

    let entry = AuditEntry::by(&ctx.principal, "SubmitApplication", format!("applications/{id}"))
        .project(id.to_string())
        .reason("")
        .rules(&SUBMIT_RULES)
        .policy(&policy_version)
        .request("")
        .details(serde_json::json!({ "state": ctx.state, "version": version }));
    audit::append(&mut tx, now, &entry).await.map_err(|e| anyhow::anyhow!("audit append: {e}"))?;
    let payload = Payload::ApplicationSubmitted(ev::ApplicationSubmitted {
        application_id: id.to_string(),
        lead_unit_id: lead,
        round_id: ctx.round_id.to_string(),
        supplementary: false,
    });
    outbox::enqueue(&mut tx, &outbox::envelope("intake", SUBMITTED, &id.to_string(), &policy_version, now, payload))
        .await
        .map_err(|e| anyhow::anyhow!("outbox enqueue: {e}"))?;
    tx.commit().await?;
    Ok(())
}

async fn application(c: &mut PgConnection, id: Uuid, lock: bool) -> anyhow::Result<serde_json::Value> {
    let sql = if lock {
        "SELECT body FROM applications WHERE application_id = $1 FOR UPDATE"
    } else {
        "SELECT body FROM applications WHERE application_id = $1"
    };
    let body: Option<serde_json::Value> = sqlx::query_scalar(sql).bind(id).fetch_optional(c).await?;
    body.with_context(|| format!("application {id} not found"))
}

/// Reads the documents of an application as the repository does; returns how many.
async fn documents(c: &mut PgConnection, id: Uuid) -> anyhow::Result<usize> {
    let rows =
        sqlx::query("SELECT * FROM documents WHERE application_id = $1 ORDER BY uploaded_at, document_id").bind(id).fetch_all(c).await?;
    for r in &rows {
        let _: (Uuid, Uuid, String, String, String, i64) = (
            r.try_get("document_id")?,
            r.try_get("application_id")?,
            r.try_get("kind")?,
            r.try_get("file_name")?,
            r.try_get("content_type")?,
            r.try_get("size_bytes")?,
        );
        let _: (String, String, String, String, String, OffsetDateTime) = (
            r.try_get("sha256")?,
            r.try_get("sm3")?,
            r.try_get("street")?,
            r.try_get("object_path")?,
            r.try_get("uploaded_by")?,
            r.try_get("uploaded_at")?,
        );
    }
    Ok(rows.len())
}

fn decode_unit(r: &PgRow) -> anyhow::Result<()> {
    let _: (String, String, bool, bool, bool, bool, i64, OffsetDateTime) = (
        r.try_get("unit_id")?,
        r.try_get("name")?,
        r.try_get("district_budget_unit")?,
        r.try_get("state_owned_enterprise")?,
        r.try_get("runs_platform")?,
        r.try_get("has_street_app")?,
        r.try_get("version")?,
        r.try_get("created_at")?,
    );
    Ok(())
}

fn decode_round(r: &PgRow) -> anyhow::Result<()> {
    let _: (Uuid, i32, Date, String, String, i64, OffsetDateTime, Option<OffsetDateTime>) = (
        r.try_get("round_id")?,
        r.try_get("target_year")?,
        r.try_get("deadline")?,
        r.try_get("state")?,
        r.try_get("policy_version")?,
        r.try_get("version")?,
        r.try_get("opened_at")?,
        r.try_get("closed_at")?,
    );
    Ok(())
}

fn decode_penalty(r: &PgRow) -> anyhow::Result<()> {
    let _: (Uuid, String, String, String, String) =
        (r.try_get("penalty_id")?, r.try_get("unit_id")?, r.try_get("kind")?, r.try_get("reason")?, r.try_get("project_id")?);
    let _: (Option<Date>, Option<Date>, Option<i32>) =
        (r.try_get("went_live_on")?, r.try_get("stopped_on")?, r.try_get("ineligible_year")?);
    let _: (Vec<String>, String, OffsetDateTime) = (r.try_get("rule_ids")?, r.try_get("policy_version")?, r.try_get("recorded_at")?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draft_names_a_participating_unit_other_than_the_lead() {
        let d = draft(7);
        assert_eq!(d.participating_unit_ids, vec![PARTNER.to_string()]);
        assert_ne!(PARTNER, UNIT);
        assert!(d.name.ends_with(" 7"));
        assert_eq!(SUBMIT_RULES.len(), 11);
    }
}
