//! (f) The whole lifecycle across the five services, each its own release binary as a child
//! process with its own database, sharing one virtual host: N projects walked in parallel from
//! their application to accepted and scheduled for their first evaluation, against the machine's
//! commit ceiling measured in the same run; the event hop latency at fixed rates; the resident
//! memory of every service idle and under the load. See `README.md` for the method.

use std::{
    collections::HashMap,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use egov_platform::{
    auth::{Bearer, Role},
    convert::civil,
    outbox,
    testing::{TestDatabase, TestVhost},
};
use egov_proto::{
    acceptance::{self as apb, acceptance_client::AcceptanceClient},
    common::{AdvanceClockRequest, GetClockRequest, operations_client::OperationsClient},
    evaluation::{self as epb, evaluations_client::EvaluationsClient},
    events::{self as ev, EventEnvelope},
    intake::{self as ipb, intake_client::IntakeClient},
    procurement::{self as ppb, procurement_client::ProcurementClient},
    review::{self as rpb, expert_review_client::ExpertReviewClient, review_client::ReviewClient},
};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use sqlx::{Connection, PgPool};
use time::{Date, OffsetDateTime};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

use crate::{
    child::{ServiceProcess, check_binary, token},
    memory,
    stats::{self, RunStats},
};

/// The services in the order they start (intake screens against evaluation; acceptance asks
/// review and procurement).
const SERVICES: [&str; 5] = ["evaluation", "intake", "review", "procurement", "acceptance"];
/// How long a step waits for another service to react to an event.
const WAIT: Duration = Duration::from_secs(60);
/// The event the hop measurement injects into review's outbox: only intake's timeline binds it.
const HOP_EVENT: &str = "review.case.opened";
/// Seconds of injection at each hop rate.
const HOP_SECONDS: u64 = 10;

/// The targets of the lifecycle issue.
pub const CEILING_TARGET: f64 = 0.3;
pub const HOP_P99_TARGET_MS: f64 = 50.0;
pub const RSS_TARGET_BYTES: f64 = 60_000_000.0;

#[derive(Debug, Clone, Serialize)]
pub struct LifecycleReport {
    pub lifecycles: usize,
    pub concurrency: usize,
    /// Wall time of the three phases (the clock moves between them excluded).
    pub seconds: f64,
    pub lifecycles_per_second: f64,
    pub phases: Vec<Phase>,
    pub clock_moves_seconds: f64,
    pub rpcs_per_lifecycle: f64,
    /// Transactions that wrote (transaction ids assigned, cluster-wide) during the phases, per
    /// lifecycle: the commits one lifecycle costs the database, relays and consumers included.
    pub write_commits_per_lifecycle: f64,
    /// `xact_commit` of the five databases (read-only transactions included), per lifecycle.
    pub all_commits_per_lifecycle: f64,
    pub ceiling: Ceiling,
    /// `ceiling.per_second / write_commits_per_lifecycle`.
    pub ceiling_lifecycles_per_second: f64,
    pub fraction_of_ceiling: f64,
    pub hops: Vec<Hop>,
    pub services: Vec<ServiceMemory>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub name: String,
    pub seconds: f64,
    /// Per project, the phase's steps end to end.
    pub per_project: RunStats,
}

/// A `pgbench -N`-like run: `UPDATE` an account, `SELECT` it, `INSERT` a history row, commit.
#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    pub clients: usize,
    pub accounts: i64,
    pub transactions: u64,
    pub seconds: f64,
    pub per_second: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    pub target_per_second: u64,
    pub achieved_per_second: f64,
    pub events: u64,
    /// Review's outbox `created_at` → intake's inbox `processed_at`, both `now()` of their
    /// transactions on the same PostgreSQL server.
    pub latency: RunStats,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceMemory {
    pub service: String,
    pub pid: u32,
    pub idle_rss_kib: u64,
    pub max_rss_under_load_kib: u64,
    pub peak_hwm_kib: u64,
}

/// Runs (f): `n` lifecycles, `concurrency` at a time, with the binaries in `release_dir`.
pub async fn run(release_dir: &Path, n: usize, concurrency: usize, log_dir: &Path) -> anyhow::Result<LifecycleReport> {
    ensure!(n > 0, "--lifecycles must be at least 1");
    ensure!(concurrency > 0, "--lifecycle-clients must be at least 1");
    for s in SERVICES {
        check_binary(&release_dir.join(format!("egov-{s}")))?;
    }
    let vhost = TestVhost::create().await.context("creating the virtual host (is RabbitMQ up?)")?;
    let mut dbs = HashMap::new();
    for s in SERVICES {
        dbs.insert(s, TestDatabase::create().await.context("creating a database (is PostgreSQL up?)")?);
    }
    let mut procs: Vec<(&str, ServiceProcess)> = Vec::new();
    let started = start_all(release_dir, &dbs, &vhost, log_dir, &mut procs).await;
    let outcome = match started {
        Ok(()) => measure(&procs, &dbs, n, concurrency).await,
        Err(e) => Err(e),
    };
    for (_, p) in procs {
        p.stop().await?;
    }
    drop(dbs);
    drop(vhost);
    outcome
}

async fn start_all(
    release_dir: &Path,
    dbs: &HashMap<&str, TestDatabase>,
    vhost: &TestVhost,
    log_dir: &Path,
    procs: &mut Vec<(&'static str, ServiceProcess)>,
) -> anyhow::Result<()> {
    for s in SERVICES {
        let addr_of = |name: &str| procs.iter().find(|(n, _)| *n == name).map(|(_, p)| format!("http://{}", p.addr)).unwrap_or_default();
        let peers: Vec<(&str, String)> = match s {
            "intake" => vec![("EGOV_PEERS__EVALUATION", addr_of("evaluation"))],
            "acceptance" => vec![("EGOV_PEERS__REVIEW", addr_of("review")), ("EGOV_PEERS__PROCUREMENT", addr_of("procurement"))],
            _ => vec![],
        };
        let db = &dbs[s];
        let mut env = peers;
        // Migrations as the owner, the service as the runtime role, as in production.
        env.push(("EGOV_DATABASE__OWNER_URL", db.url()));
        let bin = release_dir.join(format!("egov-{s}"));
        let mut p = ServiceProcess::start(&bin, &db.runtime_url(), &vhost.amqp_url(), &env, log_dir.join(format!("{s}.log"))).await?;
        p.wait_serving(Duration::from_secs(60)).await?;
        eprintln!("(f) egov-{s} pid {} on {}", p.pid(), p.addr);
        procs.push((s, p));
    }
    Ok(())
}

/// What the walkers call: one channel per service.
#[derive(Clone)]
struct Suite {
    ch: HashMap<&'static str, Channel>,
    calls: Arc<AtomicU64>,
}

type Authed = InterceptedService<Channel, Bearer>;

impl Suite {
    fn auth(&self, svc: &str, subject: &str, role: Role, unit: Option<&str>) -> anyhow::Result<Authed> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let ch = self.ch.get(svc).with_context(|| format!("no channel to {svc}"))?.clone();
        Ok(InterceptedService::new(ch, Bearer::new(&token(subject, role, unit)?)?))
    }
    fn intake(&self, role: Role, unit: Option<&str>) -> anyhow::Result<IntakeClient<Authed>> {
        Ok(IntakeClient::new(self.auth("intake", "bench", role, unit)?))
    }
    fn review(&self, role: Role) -> anyhow::Result<ReviewClient<Authed>> {
        Ok(ReviewClient::new(self.auth("review", "bench", role, None)?))
    }
    fn experts(&self, subject: &str, role: Role, unit: Option<&str>) -> anyhow::Result<ExpertReviewClient<Authed>> {
        Ok(ExpertReviewClient::new(self.auth("review", subject, role, unit)?))
    }
    fn procurement(&self, role: Role, unit: Option<&str>) -> anyhow::Result<ProcurementClient<Authed>> {
        Ok(ProcurementClient::new(self.auth("procurement", "bench", role, unit)?))
    }
    fn acceptance(&self, role: Role, unit: Option<&str>) -> anyhow::Result<AcceptanceClient<Authed>> {
        Ok(AcceptanceClient::new(self.auth("acceptance", "bench", role, unit)?))
    }
    fn evaluation(&self) -> anyhow::Result<EvaluationsClient<Authed>> {
        Ok(EvaluationsClient::new(self.auth("evaluation", "bench", Role::Drb, None)?))
    }
    fn operations(&self, svc: &str) -> anyhow::Result<OperationsClient<Authed>> {
        Ok(OperationsClient::new(self.auth(svc, "bench", Role::Operator, None)?))
    }

    /// The service's clock, as a date in Asia/Shanghai.
    async fn today(&self, svc: &str) -> anyhow::Result<Date> {
        Ok(self.now(svc).await?.to_offset(time::macros::offset!(+8)).date())
    }

    async fn now(&self, svc: &str) -> anyhow::Result<OffsetDateTime> {
        let r = self.operations(svc)?.get_clock(GetClockRequest::default()).await?.into_inner();
        let t = r.now.context("GetClock without now")?;
        Ok(OffsetDateTime::from_unix_timestamp(t.seconds)?)
    }

    /// Every service's clock moved to 10:00 Asia/Shanghai of `d` (through the broadcast of
    /// `Operations.AdvanceClock`), waited on until all five follow.
    async fn move_to(&self, d: Date) -> anyhow::Result<()> {
        let at = egov_platform::clock::shanghai(d, time::macros::time!(10:00));
        let seconds = (at - self.now("procurement").await?).whole_seconds();
        if seconds < 1 {
            return Ok(());
        }
        self.operations("procurement")?.advance_clock(AdvanceClockRequest { seconds }).await?;
        let deadline = Instant::now() + WAIT;
        loop {
            let mut behind = Vec::new();
            for s in SERVICES {
                if self.now(s).await? < at {
                    behind.push(s);
                }
            }
            if behind.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the clocks of {behind:?} did not follow the broadcast within {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Polls `f` every 20 ms until it gives a value, at most [`WAIT`].
async fn until<T, F, Fut>(what: &str, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("{what}: not within {WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn measure(
    procs: &[(&'static str, ServiceProcess)],
    dbs: &HashMap<&str, TestDatabase>,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<LifecycleReport> {
    let mut ch = HashMap::new();
    for (name, p) in procs {
        ch.insert(*name, p.connect().await?);
    }
    let suite = Suite { ch, calls: Arc::new(AtomicU64::new(0)) };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle: Vec<u64> = procs.iter().map(|(_, p)| memory::vm_rss_kib(&p.pid().to_string())).collect::<anyhow::Result<_>>()?;

    let ceiling = commit_ceiling(concurrency.max(16)).await.context("the commit ceiling")?;
    eprintln!("(f) commit ceiling: {:.0} tx/s ({} clients)", ceiling.per_second, ceiling.clients);

    // Not timed: the round, the units, the expert pool.
    let d0 = prepare(&suite, n).await.context("preparing the round, units and experts")?;

    // Resident memory sampled every 250 ms while the lifecycles run.
    let sampling = Arc::new(AtomicBool::new(true));
    let pids: Vec<u32> = procs.iter().map(|(_, p)| p.pid()).collect();
    let sampler = tokio::spawn({
        let sampling = sampling.clone();
        async move {
            let mut max = vec![0u64; pids.len()];
            while sampling.load(Ordering::Relaxed) {
                for (m, pid) in max.iter_mut().zip(&pids) {
                    *m = (*m).max(memory::vm_rss_kib(&pid.to_string()).unwrap_or(0));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            max
        }
    });

    let admin = PgPool::connect(&dbs["intake"].url()).await?;
    let xid0: i64 = sqlx::query_scalar("SELECT txid_current()").fetch_one(&admin).await?;
    let commits0 = xact_commits(&admin, dbs).await?;
    let calls0 = suite.calls.load(Ordering::Relaxed);

    let mut phases = Vec::new();
    let mut moves = Duration::ZERO;
    let units: Vec<usize> = (0..n).collect();
    let (p1, ids) = phase("application to construction", &units, concurrency, |i| approved_and_contracted(suite.clone(), i)).await?;
    phases.push(p1);
    let t = Instant::now();
    suite.move_to(d0 + time::Duration::days(11)).await?;
    moves += t.elapsed();
    let held = suite.today("acceptance").await?;
    let (p2, _) =
        phase("construction completed to initial acceptance", &ids, concurrency, |id| completed_and_initial(suite.clone(), id)).await?;
    phases.push(p2);
    let t = Instant::now();
    suite.move_to(held + time::Duration::days(30)).await?;
    moves += t.elapsed();
    let (p3, _) =
        phase("trial operation to accepted and scheduled", &ids, concurrency, |id| accepted_and_scheduled(suite.clone(), id, held)).await?;
    phases.push(p3);

    let calls = suite.calls.load(Ordering::Relaxed) - calls0;
    let xid1: i64 = sqlx::query_scalar("SELECT txid_current()").fetch_one(&admin).await?;
    // Statistics reach pg_stat_database when a backend flushes them (at most once a second).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let commits1 = xact_commits(&admin, dbs).await?;
    sampling.store(false, Ordering::Relaxed);
    let max_rss = sampler.await?;

    let seconds: f64 = phases.iter().map(|p| p.seconds).sum();
    let nf = n as f64;
    let write_commits_per_lifecycle = (xid1 - xid0 - 1) as f64 / nf;
    let ceiling_lifecycles_per_second = ceiling.per_second / write_commits_per_lifecycle;
    let lifecycles_per_second = nf / seconds;

    let mut hops = Vec::new();
    for rate in [100, 500] {
        hops.push(hop(&dbs["review"], &dbs["intake"], rate).await.with_context(|| format!("hop latency at {rate} events/s"))?);
        eprintln!(
            "(f) hop at {rate}/s: p50 {:.1} ms, p99 {:.1} ms",
            hops.last().map_or(0.0, |h| h.latency.p50_ms),
            hops.last().map_or(0.0, |h| h.latency.p99_ms)
        );
    }

    let mut services = Vec::new();
    for (((name, p), idle), max) in procs.iter().zip(idle).zip(max_rss) {
        services.push(ServiceMemory {
            service: name.to_string(),
            pid: p.pid(),
            idle_rss_kib: idle,
            max_rss_under_load_kib: max,
            peak_hwm_kib: memory::vm_hwm_kib(&p.pid().to_string())?,
        });
    }
    Ok(LifecycleReport {
        lifecycles: n,
        concurrency,
        seconds,
        lifecycles_per_second,
        phases,
        clock_moves_seconds: moves.as_secs_f64(),
        rpcs_per_lifecycle: calls as f64 / nf,
        write_commits_per_lifecycle,
        all_commits_per_lifecycle: (commits1 - commits0) as f64 / nf,
        ceiling_lifecycles_per_second,
        fraction_of_ceiling: lifecycles_per_second / ceiling_lifecycles_per_second,
        ceiling,
        hops,
        services,
    })
}

/// `xact_commit` summed over the five databases.
async fn xact_commits(admin: &PgPool, dbs: &HashMap<&str, TestDatabase>) -> anyhow::Result<i64> {
    let names: Vec<String> = dbs.values().map(|d| d.name().to_string()).collect();
    Ok(sqlx::query_scalar("SELECT COALESCE(sum(xact_commit), 0)::bigint FROM pg_stat_database WHERE datname = ANY($1)")
        .bind(&names)
        .fetch_one(admin)
        .await?)
}

/// Runs `step` for every item, `concurrency` at a time; the phase's wall time and each item's.
async fn phase<I, T, F, Fut>(name: &str, items: &[I], concurrency: usize, step: F) -> anyhow::Result<(Phase, Vec<T>)>
where
    I: Clone,
    F: Fn(I) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let started = Instant::now();
    let timed = |item: I| {
        let f = step(item);
        async move {
            let t = Instant::now();
            let v = f.await?;
            Ok::<_, anyhow::Error>((v, t.elapsed()))
        }
    };
    let results: Vec<(T, Duration)> = futures::stream::iter(items.iter().cloned().map(timed))
        .buffered(concurrency)
        .try_collect()
        .await
        .with_context(|| name.to_string())?;
    let elapsed = started.elapsed();
    let mut h = stats::histogram();
    for (_, d) in &results {
        stats::record(&mut h, *d);
    }
    let per_project = RunStats::new(results.len() as u64, elapsed, &h);
    eprintln!("(f) {name}: {} projects in {:.1} s (p50 {:.0} ms per project)", results.len(), elapsed.as_secs_f64(), per_project.p50_ms);
    Ok((Phase { name: name.into(), seconds: elapsed.as_secs_f64(), per_project }, results.into_iter().map(|(v, _)| v).collect()))
}

fn unit_of(i: usize) -> String {
    format!("U-LC{i:05}")
}

/// The one function module of the unit's project (distinct, so that R-I9 flags no duplicate).
fn module_of(unit: &str) -> String {
    format!("救助审核{unit}")
}

/// The clock in next spring, the round for the year after open, `n` units, three experts.
async fn prepare(s: &Suite, n: usize) -> anyhow::Result<Date> {
    let today = s.today("intake").await?;
    let spring = Date::from_calendar_date(today.year() + 1, time::Month::March, 2)?;
    s.move_to(spring).await?;
    s.intake(Role::Drb, None)?
        .open_round(ipb::OpenRoundRequest { request_id: format!("round-{}", spring.year() + 1), target_year: spring.year() + 1 })
        .await
        .context("OpenRound")?;
    let units: Vec<usize> = (0..n).collect();
    futures::stream::iter(units)
        .map(|i| async move {
            s.intake(Role::Drb, None)?
                .create_unit(ipb::CreateUnitRequest {
                    request_id: format!("unit-{i}"),
                    unit_id: unit_of(i),
                    name: format!("基准测试单位{i}"),
                    district_budget_unit: true,
                    ..Default::default()
                })
                .await
                .context("CreateUnit")?;
            Ok::<_, anyhow::Error>(())
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await?;
    for e in ["e1", "e2", "e3"] {
        s.experts("drb", Role::Drb, None)?
            .create_expert(rpb::CreateExpertRequest {
                request_id: e.into(),
                expert_id: e.into(),
                name: format!("专家{e}"),
                specialties: vec!["IT".into()],
                affiliation: format!("{e} 研究院"),
            })
            .await
            .context("CreateExpert")?;
    }
    Ok(spring)
}

/// One streamed upload: a header message, then one chunk.
fn two<T>(header: T, chunk: T) -> futures::stream::Iter<std::vec::IntoIter<T>> {
    futures::stream::iter(vec![header, chunk])
}

/// Phase 1 of project `i`: the application through compliance, preliminary review, expert
/// review, re-check, joint meeting and approval; procurement recorded, the contract filed,
/// the first payment stage paid. Returns `(project id, unit)`.
async fn approved_and_contracted(s: Suite, i: usize) -> anyhow::Result<(String, String)> {
    let unit = unit_of(i);
    let u = s.intake(Role::Unit, Some(&unit))?;
    let draft = ipb::ApplicationDraft {
        name: format!("社会救助一件事{i}"),
        category: ipb::ProjectCategory::DataResource as i32,
        build_type: ipb::BuildType::New as i32,
        funding_source: ipb::FundingSource::DistrictFiscal as i32,
        planned_construction_months: 12,
        content_kinds: vec![ipb::ContentKind::SoftwareDevelopment as i32],
        necessity: Some(ipb::NecessityStatement {
            core_business: "社会救助".into(),
            one_platform_path: "民政一平台".into(),
            relations_with_other_units: "与街道协同".into(),
            existing_systems_and_plans: "无".into(),
            terminals: vec![ipb::Terminal::Zhezhengding as i32],
            uses_public_data_platform: true,
            ..Default::default()
        }),
        modules: vec![ipb::FunctionModule { name: module_of(&unit), description: format!("第{i}类救助对象审核") }],
        budget: vec![ipb::BudgetLine {
            module: module_of(&unit),
            category: ipb::CostCategory::SoftwareDevelopment as i32,
            amount_fen: 10_000_000,
            rationale: "按人天测算".into(),
        }],
        ..Default::default()
    };
    let a = u
        .clone()
        .create_application(ipb::CreateApplicationRequest {
            request_id: format!("app-{i}"),
            lead_unit_id: unit.clone(),
            draft: Some(draft),
        })
        .await
        .context("CreateApplication")?
        .into_inner();
    for (kind, text) in [(ipb::DocumentKind::ApplicationForm, "申报表"), (ipb::DocumentKind::FeasibilityReport, "可行性研究报告")]
    {
        let header = ipb::DocumentUploadHeader {
            application_id: a.application_id.clone(),
            kind: kind as i32,
            file_name: "doc.pdf".into(),
            request_id: format!("doc-{i}-{}", kind as i32),
            ..Default::default()
        };
        s.intake(Role::Unit, Some(&unit))?
            .upload_document(two(
                ipb::UploadDocumentRequest { part: Some(ipb::upload_document_request::Part::Header(header)) },
                ipb::UploadDocumentRequest { part: Some(ipb::upload_document_request::Part::Chunk(text.as_bytes().to_vec())) },
            ))
            .await
            .context("UploadDocument")?;
    }
    let rounds = u.clone().list_rounds(ipb::ListRoundsRequest::default()).await.context("ListRounds")?.into_inner().rounds;
    let round = rounds.iter().find(|r| r.state == ipb::RoundState::Open as i32).context("no open round")?;
    let a = u.clone().get_application(ipb::GetApplicationRequest { application_id: a.application_id }).await?.into_inner();
    let a = u
        .clone()
        .submit_application(ipb::SubmitApplicationRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            round_id: round.round_id.clone(),
        })
        .await
        .context("SubmitApplication")?
        .into_inner();
    let drb = s.intake(Role::Drb, None)?;
    let items = drb
        .clone()
        .get_compliance_checklist(ipb::GetComplianceChecklistRequest { application_id: a.application_id.clone() })
        .await?
        .into_inner()
        .items;
    drb.clone()
        .decide_compliance(ipb::DecideComplianceRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            results: items.into_iter().map(|i| ipb::ChecklistResult { code: i.code, passed: true, note: String::new() }).collect(),
            comment: "合规".into(),
        })
        .await
        .context("DecideCompliance")?;
    let id = a.project_id;
    let case = |s: Suite, id: String| async move {
        s.review(Role::Drb).ok()?.get_case(rpb::GetCaseRequest { case_id: id }).await.ok().map(tonic::Response::into_inner)
    };
    until("review opens the case", || case(s.clone(), id.clone())).await?;
    preliminary(&s, &id).await?;
    expert_review(&s, &unit, &id).await?;
    recheck(&s, &id).await?;
    let today = s.today("review").await?;
    let k = case(s.clone(), id.clone()).await.context("the case")?;
    let k = s
        .review(Role::Drb)?
        .record_joint_meeting(rpb::RecordJointMeetingRequest {
            case_id: id.clone(),
            etag: k.etag,
            passed: true,
            meeting_ref: "规划土地数字管理联席会议".into(),
            held_on: Some(civil(today)),
            comment: String::new(),
            request_id: format!("joint-{id}"),
        })
        .await
        .context("RecordJointMeeting")?
        .into_inner();
    s.review(Role::Drb)?
        .issue_approval(rpb::IssueApprovalRequest {
            case_id: id.clone(),
            etag: k.etag,
            document_number: format!("上数〔{}〕{i}号", today.year()),
            issued_on: Some(civil(today)),
            budget_fen: 9_800_000,
            scope: "救助审核模块".into(),
            planned_construction_months: 12,
            request_id: format!("approve-{id}"),
        })
        .await
        .context("IssueApproval")?;
    contracted(&s, &unit, &id).await?;
    Ok((id, unit))
}

async fn preliminary(s: &Suite, id: &str) -> anyhow::Result<()> {
    let tasks =
        s.review(Role::Audit)?.list_tasks(rpb::ListTasksRequest { case_id: id.into(), ..Default::default() }).await?.into_inner().tasks;
    let sheet = s.review(Role::Drb)?.get_scoring_sheet(rpb::GetScoringSheetRequest { case_id: id.into() }).await?.into_inner();
    for t in tasks.into_iter().filter(|t| t.kind.starts_with("preliminary")) {
        let role = Role::parse(&t.assignee_role).with_context(|| format!("role {}", t.assignee_role))?;
        s.review(role)?
            .submit_preliminary_opinion(rpb::SubmitPreliminaryOpinionRequest {
                case_id: id.into(),
                task_id: t.task_id.clone(),
                etag: t.etag.clone(),
                scores: sheet.criteria.iter().map(|c| rpb::CriterionScore { code: c.code.clone(), score: 85 }).collect(),
                passed: true,
                opinion: "同意".into(),
                request_id: t.task_id.clone(),
            })
            .await
            .context("SubmitPreliminaryOpinion")?;
    }
    let k = s.review(Role::Drb)?.get_case(rpb::GetCaseRequest { case_id: id.into() }).await?.into_inner();
    s.review(Role::Drb)?
        .decide_preliminary(rpb::DecidePreliminaryRequest {
            case_id: id.into(),
            etag: k.etag,
            passed: true,
            comment: "通过初审".into(),
            request_id: format!("preliminary-{id}"),
        })
        .await
        .context("DecidePreliminary")?;
    Ok(())
}

async fn review_material(s: &Suite, unit: &str, id: &str, kind: rpb::MaterialKind) -> anyhow::Result<()> {
    let header = rpb::MaterialHeader {
        case_id: id.into(),
        kind: kind as i32,
        file_name: format!("{}.pdf", kind.as_str_name().to_lowercase()),
        request_id: uuid::Uuid::now_v7().to_string(),
    };
    s.experts("unit-user", Role::Unit, Some(unit))?
        .upload_material(two(
            rpb::UploadMaterialRequest { part: Some(rpb::upload_material_request::Part::Header(header)) },
            rpb::UploadMaterialRequest { part: Some(rpb::upload_material_request::Part::Chunk(format!("{kind:?}").into_bytes())) },
        ))
        .await
        .context("UploadMaterial")?;
    Ok(())
}

/// R-R2: the materials, a meeting of the three experts, their scores, DRB's conclusion, the
/// revised report and revision list.
async fn expert_review(s: &Suite, unit: &str, id: &str) -> anyhow::Result<()> {
    for k in [rpb::MaterialKind::RevisedFeasibilityReport, rpb::MaterialKind::RevisionList, rpb::MaterialKind::Presentation] {
        review_material(s, unit, id, k).await?;
    }
    let drb = s.experts("drb", Role::Drb, None)?;
    let m = drb
        .clone()
        .create_meeting(rpb::CreateMeetingRequest {
            request_id: format!("meeting-{id}"),
            held_on: Some(civil(s.today("review").await?)),
            specialties: vec![rpb::SpecialtyNeed { specialty: "IT".into(), count: 3 }],
        })
        .await
        .context("CreateMeeting")?
        .into_inner();
    let m = drb
        .clone()
        .schedule_case(rpb::ScheduleCaseRequest { meeting_id: m.meeting_id.clone(), etag: m.etag.clone(), case_id: id.into() })
        .await
        .context("ScheduleCase")?
        .into_inner();
    let m = drb
        .clone()
        .draw_panel(rpb::DrawPanelRequest { meeting_id: m.meeting_id.clone(), etag: m.etag, seed: 7 })
        .await
        .context("DrawPanel")?
        .into_inner();
    for e in &m.panel {
        let dims = ["RESOURCE_CONSOLIDATION", "TECHNICAL_SOLUTION", "DATA_SHARING", "SECURITY_ASSURANCE", "COST_ESTIMATE"];
        s.experts(&e.expert_id, Role::Expert, None)?
            .submit_expert_score(rpb::SubmitExpertScoreRequest {
                meeting_id: m.meeting_id.clone(),
                case_id: id.into(),
                scores: dims.iter().map(|d| rpb::DimensionScore { dimension: (*d).into(), score: 80 }).collect(),
                opinion: "方案可行".into(),
                request_id: e.expert_id.clone(),
            })
            .await
            .context("SubmitExpertScore")?;
    }
    let k = s.review(Role::Drb)?.get_case(rpb::GetCaseRequest { case_id: id.into() }).await?.into_inner();
    drb.clone()
        .conclude_expert_review(rpb::ConcludeExpertReviewRequest {
            case_id: id.into(),
            etag: k.etag,
            passed: true,
            recommended_budget_fen: 9_800_000,
            opinion: "建议压缩投资".into(),
            request_id: format!("conclude-{id}"),
        })
        .await
        .context("ConcludeExpertReview")?;
    review_material(s, unit, id, rpb::MaterialKind::RevisedFeasibilityReport).await?;
    review_material(s, unit, id, rpb::MaterialKind::RevisionList).await
}

/// R-R3: DRB's, DRC's and FINANCE's opinions, DRB's conclusion with the funding arrangement.
async fn recheck(s: &Suite, id: &str) -> anyhow::Result<()> {
    let tasks =
        s.review(Role::Audit)?.list_tasks(rpb::ListTasksRequest { case_id: id.into(), ..Default::default() }).await?.into_inner().tasks;
    for t in tasks.into_iter().filter(|t| t.kind == "recheck.opinion") {
        let role = Role::parse(&t.assignee_role).with_context(|| format!("role {}", t.assignee_role))?;
        s.review(role)?
            .submit_recheck_opinion(rpb::SubmitRecheckOpinionRequest {
                case_id: id.into(),
                task_id: t.task_id.clone(),
                etag: t.etag.clone(),
                passed: true,
                opinion: "同意".into(),
                request_id: t.task_id.clone(),
            })
            .await
            .context("SubmitRecheckOpinion")?;
    }
    let k = s.review(Role::Drb)?.get_case(rpb::GetCaseRequest { case_id: id.into() }).await?.into_inner();
    s.review(Role::Drb)?
        .conclude_recheck(rpb::ConcludeRecheckRequest {
            case_id: id.into(),
            etag: k.etag,
            passed: true,
            comment: "复核通过，按优先级安排资金".into(),
            priority_rank: 1,
            fiscal_year: s.today("review").await?.year() + 1,
            amount_fen: 9_800_000,
            request_id: format!("recheck-{id}"),
        })
        .await
        .context("ConcludeRecheck")?;
    Ok(())
}

async fn procurement_case(s: &Suite, id: &str) -> Option<ppb::ProcurementCase> {
    s.procurement(Role::Drb, None).ok()?.get_case(ppb::GetCaseRequest { project_id: id.into() }).await.ok().map(tonic::Response::into_inner)
}

/// Procurement recorded today, the contract filed (construction from tomorrow for 60 days), a
/// payment plan, its first stage met and paid.
async fn contracted(s: &Suite, unit: &str, id: &str) -> anyhow::Result<()> {
    let case = until("procurement opens the case", || procurement_case(s, id)).await?;
    let today = s.today("procurement").await?;
    let u = s.procurement(Role::Unit, Some(unit))?;
    let k = u
        .clone()
        .record_procurement(ppb::RecordProcurementRequest {
            project_id: id.into(),
            etag: case.etag,
            record: Some(ppb::ProcurementRecord {
                channel: "SMALL_PUBLIC_RESOURCE_TRADING".into(),
                method: "竞争性磋商".into(),
                supplier_name: "杭州某信息技术有限公司".into(),
                supplier_credit_code: "91350100M000100Y43".into(),
                amount_fen: 9_600_000,
                implementing_body: "区民政局信息中心".into(),
                responsible_person: "张三".into(),
                supervision: None,
                completed_on: Some(civil(today)),
                documents_filing: None,
            }),
            request_id: format!("p-{id}"),
        })
        .await
        .context("RecordProcurement")?
        .into_inner();
    let (start, end) = (today + time::Duration::days(1), today + time::Duration::days(60));
    let terms = ppb::ContractTerms {
        project_name: k.project_name.clone(),
        construction_start: Some(civil(start)),
        construction_end: Some(civil(end)),
        amount_fen: 9_600_000,
        ip_owned_by_unit_or_joint: true,
        data_owned_by_unit: true,
        security_agreement: ppb::SignedStatement::Signed as i32,
        security_responsibility_letter: ppb::SignedStatement::Signed as i32,
        maintenance_scope: "系统运行维护".into(),
        maintenance_start: Some(civil(end + time::Duration::days(1))),
        maintenance_end: Some(civil(end.replace_year(end.year() + 2)?)),
        maintenance_duty: "7×24小时响应".into(),
        security_duties_and_penalties: true,
        overrun_penalty_clause: true,
    };
    let k = u
        .clone()
        .file_contract(ppb::FileContractRequest {
            project_id: id.into(),
            etag: k.etag,
            terms: Some(terms),
            contract_signed_on: Some(civil(today)),
            filed_on: Some(civil(today)),
            request_id: format!("contract-{id}"),
            security: Some(ppb::SecurityFlags { classified_protection_level: 3, important_system: false, ..Default::default() }),
        })
        .await
        .context("FileContract")?
        .into_inner();
    let stage =
        |id: &str, condition: &str, ratio_bp: u32| ppb::PaymentStageTerms { stage_id: id.into(), condition: condition.into(), ratio_bp };
    let k = u
        .clone()
        .set_payment_plan(ppb::SetPaymentPlanRequest {
            project_id: id.into(),
            etag: k.etag,
            stages: vec![stage("sign", "合同签订", 3000), stage("initial", "初验通过", 4000), stage("final", "终验通过", 3000)],
            ..Default::default()
        })
        .await
        .context("SetPaymentPlan")?
        .into_inner();
    let k = u
        .clone()
        .mark_stage_condition_met(ppb::MarkStageConditionMetRequest {
            project_id: id.into(),
            etag: k.etag,
            stage_id: "sign".into(),
            evidence: "合同已签订".into(),
            request_id: format!("sign-met-{id}"),
        })
        .await
        .context("MarkStageConditionMet")?
        .into_inner();
    u.clone()
        .file_payment(ppb::FilePaymentRequest {
            project_id: id.into(),
            etag: k.etag,
            stage_id: "sign".into(),
            amount_fen: 2_880_000,
            request_id: format!("pay-sign-{id}"),
        })
        .await
        .context("FilePayment")?;
    Ok(())
}

async fn acceptance_case(s: &Suite, id: &str) -> Option<apb::AcceptanceCase> {
    s.acceptance(Role::Drb, None).ok()?.get_case(apb::GetCaseRequest { project_id: id.into() }).await.ok().map(tonic::Response::into_inner)
}

async fn material(s: &Suite, unit: &str, id: &str, kind: apb::MaterialKind, name: &str, today: Date) -> anyhow::Result<()> {
    let header = apb::MaterialHeader {
        request_id: uuid::Uuid::now_v7().to_string(),
        project_id: id.into(),
        kind: kind as i32,
        file_name: format!("{}.pdf", kind.as_str_name()),
        content_type: "application/pdf".into(),
        produced_on: Some(civil(today)),
        project_name: name.into(),
    };
    s.acceptance(Role::Unit, Some(unit))?
        .upload_material(two(
            apb::UploadMaterialRequest { part: Some(apb::upload_material_request::Part::Header(header)) },
            apb::UploadMaterialRequest { part: Some(apb::upload_material_request::Part::Chunk(b"material".to_vec())) },
        ))
        .await
        .context("UploadMaterial (acceptance)")?;
    Ok(())
}

fn panel(names: [&str; 3]) -> Vec<apb::PanelMember> {
    let specialties = [apb::Specialty::InformationTechnology, apb::Specialty::Cybersecurity, apb::Specialty::BusinessDomain];
    names
        .iter()
        .zip(specialties)
        .map(|(n, sp)| apb::PanelMember {
            name: (*n).into(),
            specialties: vec![sp as i32],
            affiliation: "浙江工业大学".into(),
            affiliation_credit_code: "12330000470003266X".into(),
            opinion: "功能完整，同意通过".into(),
            passes: true,
        })
        .collect()
}

/// Phase 2: construction declared complete ten days in; acceptance opens its case; the initial
/// acceptance (R-A1) with its materials and those of the application.
async fn completed_and_initial(s: Suite, (id, unit): (String, String)) -> anyhow::Result<(String, String)> {
    let today = s.today("procurement").await?;
    let k = procurement_case(&s, &id).await.context("the procurement case")?;
    let done = s
        .procurement(Role::Unit, Some(&unit))?
        .declare_construction_complete(ppb::DeclareConstructionCompleteRequest {
            project_id: id.clone(),
            etag: k.etag,
            completed_on: Some(civil(today)),
            summary: "建设内容全部完成".into(),
            overrun_explanation: String::new(),
            request_id: format!("done-{id}"),
        })
        .await
        .context("DeclareConstructionComplete")?
        .into_inner();
    let name = done.project_name;
    until("acceptance opens the case", || acceptance_case(&s, &id)).await?;
    for kind in [apb::MaterialKind::InitialPanelOpinions, apb::MaterialKind::InitialMinutes, apb::MaterialKind::InitialTestReport] {
        material(&s, &unit, &id, kind, &name, today).await?;
    }
    let k = acceptance_case(&s, &id).await.context("the acceptance case")?;
    s.acceptance(Role::Unit, Some(&unit))?
        .record_initial_acceptance(apb::RecordInitialAcceptanceRequest {
            project_id: id.clone(),
            etag: k.etag,
            held_on: Some(civil(today)),
            panel: panel(["王工", "李工", "赵处"]),
            conclusion: "同意通过初验，进入试运行".into(),
        })
        .await
        .context("RecordInitialAcceptance")?;
    for kind in [
        apb::MaterialKind::FunctionPerformanceTestReport,
        apb::MaterialKind::ClassifiedProtectionAssessment,
        apb::MaterialKind::XinchuangAssessment,
        apb::MaterialKind::ConstructionSummary,
    ] {
        material(&s, &unit, &id, kind, &name, today).await?;
    }
    Ok((id, name))
}

/// Phase 3: the trial report deposited by the provincial system (R-A2), the application for
/// acceptance approved (R-A3), the acceptance passed (R-A4/R-A5), and evaluation's catalogue
/// entry with its first evaluation scheduled (R-E1, R-E2).
async fn accepted_and_scheduled(s: Suite, (id, unit): (String, String), held: Date) -> anyhow::Result<()> {
    let name = acceptance_case(&s, &id).await.context("the acceptance case")?.project_name;
    let report = apb::TrialReportHeader {
        request_id: format!("trial-{id}"),
        project_id: id.clone(),
        file_name: "试运行报告.pdf".into(),
        content_type: "application/pdf".into(),
        produced_on: Some(civil(held + time::Duration::days(29))),
        period_from: Some(civil(held)),
        period_to: Some(civil(held + time::Duration::days(29))),
        external_reference: "ZJ-SZZY-0001".into(),
        project_name: name,
    };
    s.acceptance(Role::Province, None)?
        .deposit_trial_report(two(
            apb::DepositTrialReportRequest { part: Some(apb::deposit_trial_report_request::Part::Header(report)) },
            apb::DepositTrialReportRequest { part: Some(apb::deposit_trial_report_request::Part::Chunk(b"report".to_vec())) },
        ))
        .await
        .context("DepositTrialReport")?;
    let k = acceptance_case(&s, &id).await.context("the acceptance case")?;
    let applied = s
        .acceptance(Role::Unit, Some(&unit))?
        .apply_for_acceptance(apb::ApplyForAcceptanceRequest {
            project_id: id.clone(),
            etag: k.etag,
            built_modules: vec![module_of(&unit)],
            goals_met: true,
            function_performance_met: true,
            statement: "全部建设内容已完成".into(),
            ..Default::default()
        })
        .await
        .context("ApplyForAcceptance")?
        .into_inner();
    let approved = s
        .acceptance(Role::Drb, None)?
        .review_application(apb::ReviewApplicationRequest {
            project_id: id.clone(),
            etag: applied.etag,
            approve: true,
            reasons: String::new(),
        })
        .await
        .context("ReviewApplication")?
        .into_inner();
    let today = s.today("acceptance").await?;
    s.acceptance(Role::Unit, Some(&unit))?
        .record_acceptance(apb::RecordAcceptanceRequest {
            project_id: id.clone(),
            etag: approved.etag,
            held_on: Some(civil(today)),
            experts: panel(["钱工", "孙工", "周处"]),
            conclusion: "验收通过".into(),
            costs_fen: 500_000,
            drb_joined: true,
        })
        .await
        .context("RecordAcceptance")?;
    until("evaluation catalogues the project and schedules it", || async {
        let e = s.evaluation().ok()?.get_entry(epb::GetEntryRequest { entry_id: id.clone() }).await.ok()?.into_inner();
        e.schedule.is_some().then_some(())
    })
    .await
}

/// The machine's commit ceiling: `clients` connections each committing `pgbench -N`'s
/// transaction (scale 1: 100,000 accounts) for 10 s, in a database of its own.
async fn commit_ceiling(clients: usize) -> anyhow::Result<Ceiling> {
    const ACCOUNTS: i64 = 100_000;
    let db = TestDatabase::create().await?;
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(u32::try_from(clients)?).connect(&db.url()).await?;
    sqlx::raw_sql(
        "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));
         CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
         INSERT INTO pgbench_accounts SELECT a, 1, 0, '' FROM generate_series(1, 100000) a;",
    )
    .execute(&pool)
    .await?;
    sqlx::query("VACUUM ANALYZE pgbench_accounts").execute(&pool).await?;
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(10);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (pool, done) = (pool.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut x: i64 = 0x9E37_79B9 + c as i64;
            let mut conn = pool.acquire().await?;
            while Instant::now() < deadline {
                // A small linear congruential generator: uniform enough for row choice.
                x = (x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407)) & i64::MAX;
                let aid = (x % ACCOUNTS) as i32 + 1;
                let delta = (x % 10_001) as i32 - 5000;
                let mut tx = conn.begin().await?;
                sqlx::query("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2")
                    .bind(delta)
                    .bind(aid)
                    .execute(&mut *tx)
                    .await?;
                let _: i32 =
                    sqlx::query_scalar("SELECT abalance FROM pgbench_accounts WHERE aid = $1").bind(aid).fetch_one(&mut *tx).await?;
                sqlx::query("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, $1, $2, CURRENT_TIMESTAMP)")
                    .bind(aid)
                    .bind(delta)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let elapsed = started.elapsed();
    pool.close().await;
    drop(db);
    let transactions = done.load(Ordering::Relaxed);
    Ok(Ceiling {
        clients,
        accounts: ACCOUNTS,
        transactions,
        seconds: elapsed.as_secs_f64(),
        per_second: stats::rate(transactions, elapsed),
    })
}

/// `rate` events a second for [`HOP_SECONDS`], each committed into review's outbox in a
/// transaction of its own (as a use case's commit does) and announced (the bench is a writer
/// outside the service: `outbox::announce`), then each event's hop: its
/// `created_at` there to its `processed_at` in intake's inbox.
async fn hop(review: &TestDatabase, intake: &TestDatabase, rate: u64) -> anyhow::Result<Hop> {
    const INJECTORS: u64 = 4;
    let events = rate * HOP_SECONDS;
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(INJECTORS as u32).connect(&review.url()).await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..INJECTORS {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(INJECTORS as f64 / rate as f64));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut ids = Vec::new();
            for _ in 0..events / INJECTORS {
                tick.tick().await;
                let id = uuid::Uuid::now_v7();
                let project = uuid::Uuid::now_v7();
                let e = EventEnvelope {
                    event_id: id.to_string(),
                    r#type: HOP_EVENT.into(),
                    occurred_at: Some(egov_platform::convert::timestamp(OffsetDateTime::now_utc())),
                    project_id: project.to_string(),
                    producer: "review".into(),
                    policy_version: "bench".into(),
                    payload: Some(ev::event_envelope::Payload::ReviewCaseOpened(ev::ReviewCaseOpened {
                        case_id: project.to_string(),
                        fast_track: false,
                        stage: "PRELIMINARY_REVIEW".into(),
                    })),
                };
                let mut tx = pool.begin().await?;
                outbox::enqueue(&mut tx, &e).await?;
                tx.commit().await?;
                // Written outside the service, so announced as such a writer must.
                outbox::announce(&mut *pool.acquire().await?).await?;
                ids.push(id);
            }
            Ok::<_, anyhow::Error>(ids)
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.extend(t.await??);
    }
    let injected = started.elapsed();
    let intake_pool = PgPool::connect(&intake.url()).await?;
    let deadline = Instant::now() + WAIT;
    loop {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM egov_inbox WHERE event_id = ANY($1)").bind(&ids).fetch_one(&intake_pool).await?;
        if n as usize == ids.len() {
            break;
        }
        if Instant::now() > deadline {
            bail!("intake consumed {n} of {} injected events within {WAIT:?}", ids.len());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created: HashMap<uuid::Uuid, OffsetDateTime> =
        sqlx::query_as("SELECT event_id, created_at FROM egov_outbox WHERE event_id = ANY($1)")
            .bind(&ids)
            .fetch_all(&pool)
            .await?
            .into_iter()
            .collect();
    let processed: Vec<(uuid::Uuid, OffsetDateTime)> =
        sqlx::query_as("SELECT event_id, processed_at FROM egov_inbox WHERE event_id = ANY($1)").bind(&ids).fetch_all(&intake_pool).await?;
    let mut h = stats::histogram();
    for (id, at) in processed {
        let from = created.get(&id).context("an event consumed but not in the outbox")?;
        stats::record(&mut h, Duration::try_from(at - *from).unwrap_or(Duration::ZERO));
    }
    Ok(Hop {
        target_per_second: rate,
        achieved_per_second: stats::rate(ids.len() as u64, injected),
        events: ids.len() as u64,
        latency: RunStats::new(ids.len() as u64, injected, &h),
    })
}

/// Bytes, for the memory target (60 MB).
pub fn bytes(kib: u64) -> f64 {
    kib as f64 * 1024.0
}
