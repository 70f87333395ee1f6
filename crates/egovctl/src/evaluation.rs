//! `egovctl evaluation …`: the evaluation service (运行、绩效、审计, `egov.evaluation.v1.Evaluations`
//! and `egov.evaluation.v1.EvaluationQueries`, port 50055), called at `--evaluation-endpoint` /
//! `EGOVCTL_EVALUATION_ENDPOINT`.
//!
//! One subcommand per RPC, in the order an application goes: the catalogue (entries registered
//! from a JSON file, read and listed; DRB's import of the existing catalogue from a CSV or JSON
//! file, streamed in 64 KiB chunks), duplicate screening of proposed function modules (R-I9),
//! the indicator systems and the schedule (R-E2), an evaluation opened, scored from a JSON file
//! or `CODE=points` arguments, published, and the published results; rectification and
//! elimination (R-E3: DRB proposes, the LEADER decides, DRB eliminates); sharing violations and
//! their rectification (R-E5); stopping an application (R-E6); the yearly 等保/密评 assessments
//! (R-E7); third-party audit reports uploaded and downloaded (R-E8); and the two queries other
//! services ask (`queries search`, R-I9; `queries latest`, R-I6). `rectification` reads an
//! application's R-E3 standing from its entry. The input files are `files.rs`; the answers are
//! printed by `evaluation/render.rs` in the shapes of `crate::render` and the acceptance commands.
//!
//! Dates are `YYYY-MM-DD`. The service handles no money: funding is a recommendation and its
//! share (R-E4). Adding an RPC: a variant with its arguments in [`EvaluationCmd`], its arm in
//! [`run`], and an [`Output`](crate::render::Output) in `render` when it answers with a message
//! not printed yet.

pub mod files;
mod render;

use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, Subcommand};
use egov_proto::{
    common::CivilDate,
    evaluation::{
        AssessmentKind, AuditHeader, CatalogueEntry, DecideEliminationRequest, DownloadAuditReportRequest, DownloadAuditReportResponse,
        EliminateApplicationRequest, EntryKind, EntryState, GetEntryRequest, GetIndicatorSystemRequest, GetLatestEvaluationRequest,
        ImportCatalogueRequest, ImportCatalogueResponse, ImportFormat, ImportHeader, IndicatorScore, ListAssessmentsRequest,
        ListEntriesRequest, ListIndicatorSystemsRequest, ListPublishedEvaluationsRequest, ListSchedulesRequest, ModuleToScreen, NewEntry,
        OpenEvaluationRequest, ProposeEliminationRequest, PublishEvaluationRequest, RecordAssessmentRequest, RecordScoresRequest,
        RecordSharingRectifiedRequest, RecordSharingViolationRequest, RegisterEntryRequest, ScreenModulesRequest, SearchCatalogueRequest,
        StopApplicationRequest, ThirdPartyAudit, UploadAuditReportRequest, download_audit_report_response,
        evaluation_queries_client::EvaluationQueriesClient, evaluations_client::EvaluationsClient, import_catalogue_request,
        upload_audit_report_request,
    },
};

use crate::{
    acceptance::FileArgs,
    cli::{Paging, RequestId, parse_date},
    client::{Authed, CliError},
    commands::{self, Ctx, Piece, Result, Sink, request_id},
    enums,
    render::{Page, eprint},
};

// ------------------------------------------------------------------ command line

#[derive(Debug, Subcommand)]
pub enum EvaluationCmd {
    /// The catalogue (编目, R-E1): applications, data, cloud resources and components.
    #[command(subcommand)]
    Entries(EntriesCmd),
    /// DRB imports the existing application catalogue (the district's running applications and
    /// the province's shared ones) from a CSV or JSON file, streamed in 64 KiB chunks (R-E1, R-I9;
    /// see services/evaluation/data/catalogue-sample.csv and crates/egovctl/samples/catalogue-import.json).
    /// Rows at fault are listed; the others are imported.
    Import(ImportArgs),
    /// Screens proposed function modules against the catalogue (查重, R-I9): the closest catalogued
    /// functions with their scores and shared terms, and a verdict per module.
    Screen(ScreenArgs),
    /// The indicator systems (评价指标体系, R-E2): one per policy version.
    #[command(subcommand)]
    IndicatorSystems(SystemsCmd),
    /// The evaluation schedule (R-E2): when each running application's next evaluation is due.
    #[command(subcommand)]
    Schedules(SchedulesCmd),
    /// DRB or FINANCE opens an evaluation of a running application (R-E2), on schedule or not.
    Open {
        /// The application's catalogue entry.
        app_id: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// DRB or FINANCE records the scores of its own indicators (R-E2), from a JSON file (see
    /// crates/egovctl/samples/evaluation-scores-drb.json and evaluation-scores-finance.json) or as
    /// --score CODE=points[:comment].
    RecordScores(ScoresArgs),
    /// DRB publishes an evaluation once every indicator is scored (R-E2): the weighted score, the
    /// grade and the funding recommendation (R-E4); a grade below the passing grade sets a
    /// rectification deadline (R-E3).
    Publish {
        /// The application's catalogue entry.
        app_id: String,
        /// The entry's etag.
        #[arg(long)]
        etag: String,
        /// The evaluation (as opened).
        #[arg(long)]
        evaluation: String,
        /// The evaluation's comment (评价意见).
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Published evaluations (公布结果, R-E2), readable by every government role.
    #[command(subcommand)]
    Published(PublishedCmd),
    /// An application's rectification (整改, R-E3): its deadline, what cleared it, and where its
    /// elimination stands (read from its entry).
    Rectification {
        /// The application's catalogue entry.
        app_id: String,
    },
    /// DRB proposes to eliminate an application whose rectification is overdue (强制淘汰, R-E3).
    ProposeElimination {
        /// The application's catalogue entry.
        app_id: String,
        /// The entry's etag.
        #[arg(long)]
        etag: String,
        /// Why (淘汰理由).
        #[arg(long)]
        reason: String,
    },
    /// The district leader in charge (LEADER) approves or rejects the proposed elimination (R-E3).
    #[command(group(ArgGroup::new("decision").required(true).args(["approve", "reject"])))]
    DecideElimination {
        /// The application's catalogue entry.
        app_id: String,
        /// The entry's etag.
        #[arg(long)]
        etag: String,
        /// Approve the elimination: DRB may then eliminate the application.
        #[arg(long)]
        approve: bool,
        /// Reject it: the application stays.
        #[arg(long)]
        reject: bool,
        /// The leader's comment (领导意见).
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// DRB eliminates an application the leader approved eliminating (R-E3): delisted, its timers end.
    Eliminate {
        /// The application's catalogue entry.
        app_id: String,
        /// The entry's etag.
        #[arg(long)]
        etag: String,
    },
    /// DRB records a data-sharing violation on a catalogue resource (R-E5): rectified within the
    /// policy's months, or delisted (下架) the day after.
    SharingViolation {
        /// The catalogue entry.
        entry_id: String,
        /// The entry's etag.
        #[arg(long)]
        etag: String,
        /// What was not shared as catalogued.
        #[arg(long)]
        description: String,
    },
    /// DRB confirms a sharing violation rectified (R-E5).
    SharingRectified {
        /// The catalogue entry.
        entry_id: String,
        /// The entry's etag.
        #[arg(long)]
        etag: String,
        /// How it was rectified (整改情况).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// The builder or operator unit (or DRB) stops an application (停用, R-E6): within the policy's
    /// years of going live, the unit may not apply the next year.
    Stop {
        /// The application's catalogue entry.
        app_id: String,
        /// The entry's etag.
        #[arg(long)]
        etag: String,
        /// Why it stops (停用原因).
        #[arg(long)]
        reason: String,
    },
    /// The yearly 等保 and 密评 assessments (R-E7).
    #[command(subcommand)]
    Assessments(AssessmentsCmd),
    /// Third-party audit reports (第三方审计, R-E8).
    #[command(subcommand)]
    AuditReports(AuditReportsCmd),
    /// What other services ask (egov.evaluation.v1.EvaluationQueries): catalogue search (R-I9)
    /// and an application's latest evaluation (R-I6).
    #[command(subcommand)]
    Queries(QueriesCmd),
}

#[derive(Debug, Subcommand)]
pub enum EntriesCmd {
    /// A unit (its own) or DRB registers a catalogue entry from a JSON file (see
    /// crates/egovctl/samples/catalogue-entry.json): data, cloud-resource and component entries
    /// produced by its projects (R-E1).
    Register {
        /// JSON file of the entry (kind, name, description, builder/operator/user units,
        /// project, application, functions); `-` reads standard input.
        #[arg(long)]
        entry: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// An entry with its operation record: schedule, evaluations, rectification, elimination,
    /// sharing violation, assessments, audits, early stop.
    Get {
        /// The catalogue entry.
        entry_id: String,
    },
    /// Entries; UNIT sees those it builds, runs or uses.
    List {
        /// APPLICATION, DATA, CLOUD or COMPONENT.
        #[arg(long, value_parser = enums::arg::<EntryKind>)]
        kind: Option<EntryKind>,
        /// Only entries this unit builds, runs or uses.
        #[arg(long, default_value = "")]
        unit: String,
        /// LISTED, STOPPED, ELIMINATED or DELISTED.
        #[arg(long, value_parser = enums::arg::<EntryState>)]
        state: Option<EntryState>,
        #[command(flatten)]
        paging: Paging,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The catalogue file: UTF-8 CSV with the header row
    /// external_id,name,source,builder_unit,operator_unit,user_units,functions, or a JSON array of
    /// objects with the same fields.
    #[arg(long)]
    pub file: PathBuf,
    /// CSV or JSON (default: from the file's extension).
    #[arg(long, value_parser = enums::arg::<ImportFormat>)]
    pub format: Option<ImportFormat>,
    /// Name recorded for the file (default: the file's name).
    #[arg(long)]
    pub file_name: Option<String>,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["modules", "module"])))]
pub struct ScreenArgs {
    /// JSON file of the modules (see crates/egovctl/samples/screening-modules.json); `-` reads
    /// standard input.
    #[arg(long)]
    pub modules: Option<String>,
    /// A module as "名称：描述" (or "name: description", or a name alone); repeat for each.
    #[arg(long, value_name = "NAME：DESCRIPTION", value_parser = parse_module)]
    pub module: Vec<ModuleToScreen>,
    /// Matches per module (default 5, at most 20).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=20))]
    pub limit: Option<i32>,
}

#[derive(Debug, Subcommand)]
pub enum SystemsCmd {
    /// An indicator system: its indicators with their weights and scorers, the grade bands with
    /// their funding recommendations, the schedule's months.
    Get {
        /// The policy version that holds it (default: the one in force today).
        #[arg(long, default_value = "")]
        policy_version: String,
    },
    /// Every indicator system.
    List,
}

#[derive(Debug, Subcommand)]
pub enum SchedulesCmd {
    /// Scheduled evaluations, the soonest first.
    List {
        /// Only those due on or before this day, YYYY-MM-DD.
        #[arg(long, value_parser = parse_date)]
        due_by: Option<CivilDate>,
        #[command(flatten)]
        paging: Paging,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("answers").required(true).args(["scores", "score"])))]
pub struct ScoresArgs {
    /// The application's catalogue entry.
    pub app_id: String,
    /// The entry's etag.
    #[arg(long)]
    pub etag: String,
    /// The evaluation (as opened).
    #[arg(long)]
    pub evaluation: String,
    /// JSON file of the scores (indicator, score 0–100, comment); `-` reads standard input.
    #[arg(long)]
    pub scores: Option<String>,
    /// A score as CODE=points or CODE=points:comment (points 0 to 100); repeat for each indicator.
    #[arg(long, value_name = "CODE=POINTS[:COMMENT]", value_parser = parse_score)]
    pub score: Vec<IndicatorScore>,
}

#[derive(Debug, Subcommand)]
pub enum PublishedCmd {
    /// Published evaluations, the latest first.
    List {
        /// Only this application's.
        #[arg(long, default_value = "")]
        app: String,
        #[command(flatten)]
        paging: Paging,
    },
}

#[derive(Debug, Subcommand)]
pub enum AssessmentsCmd {
    /// The builder or operator unit (or DRB) records an assessment done (R-E7); the next is due a
    /// year on.
    Record {
        /// The application's catalogue entry.
        app_id: String,
        /// The entry's etag.
        #[arg(long)]
        etag: String,
        /// CLASSIFIED_PROTECTION (等保) or CRYPTOGRAPHY (密评).
        #[arg(long, value_parser = parse_assessment_kind)]
        kind: AssessmentKind,
        /// The day the assessment was done, YYYY-MM-DD.
        #[arg(long, value_parser = parse_date)]
        done_on: CivilDate,
        /// The assessment's conclusion (测评结论).
        #[arg(long, default_value = "")]
        conclusion: String,
        /// The report's reference (the assessing body's document number).
        #[arg(long, default_value = "")]
        report_reference: String,
    },
    /// Assessments tracked, with their due days, reminders and overdue flags.
    List {
        /// Only the overdue ones.
        #[arg(long)]
        overdue_only: bool,
        #[command(flatten)]
        paging: Paging,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditReportsCmd {
    /// The builder or operator unit uploads its commissioned third-party audit report, streamed in
    /// 64 KiB chunks (R-E8, R-X1).
    Upload(AuditUploadArgs),
    /// Download an audit report to a file (or `--out -`: standard output); it is kept only when
    /// every byte the service announced arrived (the service verifies its hashes as it reads it).
    Download {
        /// The application's catalogue entry.
        app_id: String,
        /// The report's document id (as the entry lists it).
        document_id: String,
        /// Where to write it; `-` writes the content to standard output and the summary to
        /// standard error.
        #[arg(long)]
        out: PathBuf,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct AuditUploadArgs {
    /// The application's catalogue entry.
    pub app_id: String,
    #[command(flatten)]
    pub file: FileArgs,
    /// The audit firm (审计机构).
    #[arg(long)]
    pub auditor: String,
    /// The audit's conclusion (审计结论).
    #[arg(long, default_value = "")]
    pub conclusion: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Subcommand)]
pub enum QueriesCmd {
    /// Catalogued applications whose functions resemble a text (R-I9), best first.
    Search {
        /// Free text describing a proposed function module.
        text: String,
        /// At most this many matches (default 5).
        #[arg(long, value_parser = clap::value_parser!(i32).range(1..=100))]
        limit: Option<i32>,
    },
    /// The latest published evaluation of a running application (R-I6).
    Latest {
        /// The application's catalogue entry.
        app_id: String,
    },
}

// ------------------------------------------------------------------ value parsers

/// `名称：描述`, `name: description` or a name alone.
pub fn parse_module(s: &str) -> std::result::Result<ModuleToScreen, String> {
    let (name, description) = match s.split_once(['：', ':']) {
        Some((n, d)) => (n.trim(), d.trim()),
        None => (s.trim(), ""),
    };
    if name.is_empty() {
        return Err(format!("{s:?}: a module needs a name before the colon, e.g. 低保在线申请：市民在线申请低保"));
    }
    Ok(ModuleToScreen { name: name.to_string(), description: description.to_string() })
}

/// `USAGE=86` or `USAGE=86:comment` (the comment may contain colons).
pub fn parse_score(s: &str) -> std::result::Result<IndicatorScore, String> {
    let (code, rest) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected CODE=points[:comment], e.g. USAGE=86"))?;
    let code = code.trim();
    if code.is_empty() || code.chars().any(char::is_whitespace) {
        return Err(format!("{s:?}: the indicator code before '=' must be one word, e.g. USAGE=86"));
    }
    let (points, comment) = match rest.split_once(':') {
        Some((p, c)) => (p, c.trim()),
        None => (rest, ""),
    };
    let score = points.trim().parse::<i64>().map_err(|_| format!("{s:?}: {:?} is not a whole number of points", points.trim()))?;
    let score = files::points(score).map_err(|e| format!("{s:?}: {e}"))?;
    Ok(IndicatorScore { indicator: code.to_string(), score, comment: comment.to_string(), ..Default::default() })
}

/// An assessment kind by name, or 等保/等保测评 and 密评/商用密码应用安全性评估.
pub fn parse_assessment_kind(s: &str) -> std::result::Result<AssessmentKind, String> {
    match s.trim() {
        "等保" | "等保测评" | "等级保护测评" => Ok(AssessmentKind::ClassifiedProtection),
        "密评" | "商用密码应用安全性评估" => Ok(AssessmentKind::Cryptography),
        other => enums::parse::<AssessmentKind>(other).map_err(|e| format!("{e} (or 等保, 密评)")),
    }
}

// ------------------------------------------------------------------ input

fn usage(what: &str, e: crate::input::InputError) -> CliError {
    CliError::usage(format!("the {what} file is not valid:\n{e}"))
}

/// The scores to send: the file's, or the --score arguments', each indicator once.
fn scores(a: &ScoresArgs) -> Result<Vec<IndicatorScore>> {
    if let Some(path) = &a.scores {
        return files::load_scores(path).map_err(|e| usage("scores", e));
    }
    let mut seen = std::collections::BTreeSet::new();
    for s in &a.score {
        if !seen.insert(s.indicator.as_str()) {
            return Err(CliError::usage(format!("--score {} is given twice", s.indicator)));
        }
    }
    Ok(a.score.clone())
}

fn modules(a: &ScreenArgs) -> Result<Vec<ModuleToScreen>> {
    match &a.modules {
        Some(path) => files::load_modules(path).map_err(|e| usage("modules", e)),
        None => Ok(a.module.clone()),
    }
}

/// The format named, or the one the file's extension says.
fn import_format(a: &ImportArgs) -> Result<ImportFormat> {
    if let Some(f) = a.format {
        return Ok(f);
    }
    match a.file.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("csv") => Ok(ImportFormat::Csv),
        Some("json") => Ok(ImportFormat::Json),
        _ => {
            Err(CliError::usage(format!("--format: cannot tell CSV from JSON by the name {}; pass --format csv or json", a.file.display())))
        }
    }
}

/// What each command reads before connecting: a file that cannot be read is a usage error, and
/// nothing is called.
#[derive(Default)]
struct Prepared {
    entry: Option<NewEntry>,
    modules: Vec<ModuleToScreen>,
    scores: Vec<IndicatorScore>,
    upload: Option<(tokio::fs::File, String, String)>,
    format: Option<ImportFormat>,
}

async fn prepare(cmd: &EvaluationCmd) -> Result<Prepared> {
    let mut p = Prepared::default();
    match cmd {
        EvaluationCmd::Entries(EntriesCmd::Register { entry, .. }) => {
            p.entry = Some(files::load_entry(entry).map_err(|e| usage("entry", e))?)
        }
        EvaluationCmd::Screen(a) => p.modules = modules(a)?,
        EvaluationCmd::RecordScores(a) => p.scores = scores(a)?,
        EvaluationCmd::Import(a) => {
            p.format = Some(import_format(a)?);
            let (f, name) = commands::open_upload(&a.file, a.file_name.clone()).await?;
            p.upload = Some((f, name, String::new()));
        }
        EvaluationCmd::AuditReports(AuditReportsCmd::Upload(a)) => {
            let (f, name) = commands::open_upload(&a.file.file, a.file.file_name.clone()).await?;
            let content_type = a.file.content_type.clone().unwrap_or_else(|| commands::guess_content_type(&a.file.file).to_string());
            p.upload = Some((f, name, content_type));
        }
        EvaluationCmd::AuditReports(AuditReportsCmd::Download { out, force, .. })
            if out != Path::new("-") && !force && tokio::fs::try_exists(out).await.unwrap_or(false) =>
        {
            return Err(CliError::usage(format!("{} exists: pass --force to replace it", out.display())));
        }
        _ => {}
    }
    Ok(p)
}

// ------------------------------------------------------------------ streams

/// Streams the catalogue file: its header, then the file (see [`commands::stream_file`]).
async fn import(
    cl: &mut EvaluationsClient<Authed>,
    header: ImportHeader,
    file: tokio::fs::File,
    path: &Path,
) -> Result<ImportCatalogueResponse> {
    use import_catalogue_request::Part;
    let (stream, err_rx) = commands::stream_file(ImportCatalogueRequest { part: Some(Part::Header(header)) }, file, |b| {
        ImportCatalogueRequest { part: Some(Part::Chunk(b)) }
    });
    tokio::select! {
        r = cl.import_catalogue(stream) => Ok(r?.into_inner()),
        Ok(e) = err_rx => Err(CliError::other(format!("reading {} failed, import aborted: {e}", path.display()))),
    }
}

/// Streams an audit report: its header, then the file.
async fn upload_audit(
    cl: &mut EvaluationsClient<Authed>,
    header: AuditHeader,
    file: tokio::fs::File,
    path: &Path,
) -> Result<CatalogueEntry> {
    use upload_audit_report_request::Part;
    let (stream, err_rx) = commands::stream_file(UploadAuditReportRequest { part: Some(Part::Header(header)) }, file, |b| {
        UploadAuditReportRequest { part: Some(Part::Chunk(b)) }
    });
    tokio::select! {
        r = cl.upload_audit_report(stream) => Ok(r?.into_inner()),
        Ok(e) = err_rx => Err(CliError::other(format!("reading {} failed, upload aborted: {e}", path.display()))),
    }
}

/// Downloads an audit report: its metadata first, then its content, kept only when the stream
/// ended cleanly with exactly the announced size.
async fn download(cl: &mut EvaluationsClient<Authed>, request: DownloadAuditReportRequest, out: &Path) -> Result<(ThirdPartyAudit, u64)> {
    use download_audit_report_response::Part;
    let mut stream = cl.download_audit_report(request).await?.into_inner();
    let audit = match stream.message().await? {
        Some(DownloadAuditReportResponse { part: Some(Part::Header(a)) }) => a,
        Some(_) => return Err(CliError::other("the service sent content before the report's metadata")),
        None => return Err(CliError::other("the service sent nothing")),
    };
    let parts = tokio_stream::StreamExt::map(stream, |m| {
        m.map(|m| match m.part {
            Some(Part::Chunk(b)) => Piece::Chunk(b),
            Some(Part::Header(_)) => Piece::HeaderAgain,
            None => Piece::Empty,
        })
    });
    let written = Sink::open(out, audit.size_bytes).await?.receive(parts, audit.size_bytes, &audit.file_name, "report").await?;
    Ok((audit, written))
}

// ------------------------------------------------------------------ running

/// Runs an `evaluation` command against the service at `ctx.evaluation_endpoint`.
pub async fn run(ctx: &Ctx, cmd: EvaluationCmd) -> Result<u8> {
    let mut p = prepare(&cmd).await?;
    let channel = ctx.channel_to(&ctx.evaluation_endpoint).await?;
    let mut queries = EvaluationQueriesClient::new(channel.clone());
    let mut cl = EvaluationsClient::new(channel);
    let entry = match cmd {
        EvaluationCmd::Entries(EntriesCmd::Register { entry: _, request_id: r }) => {
            cl.register_entry(RegisterEntryRequest { request_id: request_id(&r), entry: p.entry.take() }).await?
        }
        EvaluationCmd::Entries(EntriesCmd::Get { entry_id }) => cl.get_entry(GetEntryRequest { entry_id }).await?,
        EvaluationCmd::Entries(EntriesCmd::List { kind, unit, state, paging }) => {
            let r = cl
                .list_entries(ListEntriesRequest {
                    kind: kind.map_or(0, Into::into),
                    unit_id: unit,
                    state: state.map_or(0, Into::into),
                    page_size: paging.page_size,
                    page_token: paging.page_token,
                })
                .await?
                .into_inner();
            ctx.show(&Page(&r.entries, &r.next_page_token));
            return Ok(0);
        }
        EvaluationCmd::Import(a) => {
            let (file, file_name, _) = p.upload.take().ok_or_else(|| CliError::other("the file to import was not opened"))?;
            let format = p.format.map_or(0, Into::into);
            let header = ImportHeader { request_id: request_id(&a.request_id), file_name, format };
            ctx.show(&import(&mut cl, header, file, &a.file).await?);
            return Ok(0);
        }
        EvaluationCmd::Screen(a) => {
            let r =
                cl.screen_modules(ScreenModulesRequest { modules: std::mem::take(&mut p.modules), limit: a.limit.unwrap_or(0) }).await?;
            ctx.show(&r.into_inner());
            return Ok(0);
        }
        EvaluationCmd::IndicatorSystems(SystemsCmd::Get { policy_version }) => {
            ctx.show(&cl.get_indicator_system(GetIndicatorSystemRequest { version: policy_version }).await?.into_inner());
            return Ok(0);
        }
        EvaluationCmd::IndicatorSystems(SystemsCmd::List) => {
            let r = cl.list_indicator_systems(ListIndicatorSystemsRequest {}).await?.into_inner();
            ctx.show(&render::Systems(&r.systems));
            return Ok(0);
        }
        EvaluationCmd::Schedules(SchedulesCmd::List { due_by, paging }) => {
            let r = cl
                .list_schedules(ListSchedulesRequest { due_by, page_size: paging.page_size, page_token: paging.page_token })
                .await?
                .into_inner();
            ctx.show(&Page(&r.schedules, &r.next_page_token));
            return Ok(0);
        }
        EvaluationCmd::Open { app_id, request_id: r } => {
            cl.open_evaluation(OpenEvaluationRequest { request_id: request_id(&r), app_id }).await?
        }
        EvaluationCmd::RecordScores(a) => {
            let scores = std::mem::take(&mut p.scores);
            cl.record_scores(RecordScoresRequest { app_id: a.app_id, etag: a.etag, evaluation_id: a.evaluation, scores }).await?
        }
        EvaluationCmd::Publish { app_id, etag, evaluation, comment } => {
            cl.publish_evaluation(PublishEvaluationRequest { app_id, etag, evaluation_id: evaluation, comment }).await?
        }
        EvaluationCmd::Published(PublishedCmd::List { app, paging }) => {
            let r = cl
                .list_published_evaluations(ListPublishedEvaluationsRequest {
                    app_id: app,
                    page_size: paging.page_size,
                    page_token: paging.page_token,
                })
                .await?
                .into_inner();
            ctx.show(&Page(&r.evaluations, &r.next_page_token));
            return Ok(0);
        }
        EvaluationCmd::Rectification { app_id } => {
            let e = cl.get_entry(GetEntryRequest { entry_id: app_id }).await?.into_inner();
            ctx.show(&render::Rectification(&e));
            return Ok(0);
        }
        EvaluationCmd::ProposeElimination { app_id, etag, reason } => {
            cl.propose_elimination(ProposeEliminationRequest { app_id, etag, reason }).await?
        }
        EvaluationCmd::DecideElimination { app_id, etag, approve, reject: _, comment } => {
            cl.decide_elimination(DecideEliminationRequest { app_id, etag, approve, comment }).await?
        }
        EvaluationCmd::Eliminate { app_id, etag } => cl.eliminate_application(EliminateApplicationRequest { app_id, etag }).await?,
        EvaluationCmd::SharingViolation { entry_id, etag, description } => {
            cl.record_sharing_violation(RecordSharingViolationRequest { entry_id, etag, description }).await?
        }
        EvaluationCmd::SharingRectified { entry_id, etag, note } => {
            cl.record_sharing_rectified(RecordSharingRectifiedRequest { entry_id, etag, note }).await?
        }
        EvaluationCmd::Stop { app_id, etag, reason } => cl.stop_application(StopApplicationRequest { app_id, etag, reason }).await?,
        EvaluationCmd::Assessments(AssessmentsCmd::Record { app_id, etag, kind, done_on, conclusion, report_reference }) => {
            cl.record_assessment(RecordAssessmentRequest {
                app_id,
                etag,
                kind: kind.into(),
                done_on: Some(done_on),
                conclusion,
                report_reference,
            })
            .await?
        }
        EvaluationCmd::Assessments(AssessmentsCmd::List { overdue_only, paging }) => {
            let r = cl
                .list_assessments(ListAssessmentsRequest { overdue_only, page_size: paging.page_size, page_token: paging.page_token })
                .await?
                .into_inner();
            ctx.show(&Page(&r.assessments, &r.next_page_token));
            return Ok(0);
        }
        EvaluationCmd::AuditReports(AuditReportsCmd::Upload(a)) => {
            let (file, file_name, content_type) = p.upload.take().ok_or_else(|| CliError::other("the file to upload was not opened"))?;
            let header = AuditHeader {
                request_id: request_id(&a.request_id),
                app_id: a.app_id,
                auditor: a.auditor,
                file_name,
                content_type,
                conclusion: a.conclusion,
            };
            ctx.show(&upload_audit(&mut cl, header, file, &a.file.file).await?);
            return Ok(0);
        }
        EvaluationCmd::AuditReports(AuditReportsCmd::Download { app_id, document_id, out, force: _ }) => {
            let (audit, bytes) = download(&mut cl, DownloadAuditReportRequest { app_id, document_id }, &out).await?;
            let to_stdout = out == Path::new("-");
            let done =
                render::Downloaded { audit: &audit, written_to: if to_stdout { "-".into() } else { out.display().to_string() }, bytes };
            if to_stdout {
                // The content went to standard output: the summary goes to standard error.
                eprint(&done, ctx.json);
            } else {
                ctx.show(&done);
            }
            return Ok(0);
        }
        EvaluationCmd::Queries(QueriesCmd::Search { text, limit }) => {
            ctx.show(&queries.search_catalogue(SearchCatalogueRequest { text, limit: limit.unwrap_or(0) }).await?.into_inner());
            return Ok(0);
        }
        EvaluationCmd::Queries(QueriesCmd::Latest { app_id }) => {
            let r = queries.get_latest_evaluation(GetLatestEvaluationRequest { app_id: app_id.clone() }).await?.into_inner();
            ctx.show(&render::Latest(&app_id, &r));
            return Ok(0);
        }
    };
    ctx.show(&entry.into_inner());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        Cli::try_parse_from(["egovctl", "evaluation"].into_iter().chain(args.iter().copied()))
    }

    fn evaluation(args: &[&str]) -> EvaluationCmd {
        match parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}")).command {
            Command::Evaluation(c) => c,
            other => panic!("not an evaluation command: {other:?}"),
        }
    }

    /// The usage error of `args`, as clap words it.
    fn refused(args: &[&str]) -> String {
        match parse(args) {
            Ok(c) => panic!("{args:?} should be refused, parsed as {:?}", c.command),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn scores_parse() {
        assert_eq!(parse_score("USAGE=86").unwrap(), IndicatorScore { indicator: "USAGE".into(), score: 86, ..Default::default() });
        let s = parse_score(" COST = 100 : 成本下降: 6%").unwrap();
        assert_eq!((s.indicator.as_str(), s.score, s.comment.as_str()), ("COST", 100, "成本下降: 6%"));
        assert_eq!(parse_score("SHARING=0").unwrap().score, 0);
        for bad in ["USAGE", "=86", "USAGE=", "USAGE=101", "USAGE=-1", "USAGE=85.5", "TWO WORDS=80", "USAGE=good"] {
            assert!(parse_score(bad).is_err(), "{bad} should be refused");
        }
        assert!(parse_score("USAGE=101").unwrap_err().contains("from 0 to 100"));
    }

    #[test]
    fn modules_and_assessment_kinds_parse() {
        let m = parse_module("低保在线申请：市民在线申请低保：自动核对").unwrap();
        assert_eq!((m.name.as_str(), m.description.as_str()), ("低保在线申请", "市民在线申请低保：自动核对"));
        assert_eq!(parse_module("online: apply").unwrap().description, "apply");
        assert_eq!(parse_module("古树巡查").unwrap().description, "");
        assert!(parse_module("：描述").is_err());
        assert_eq!(parse_assessment_kind("等保"), Ok(AssessmentKind::ClassifiedProtection));
        assert_eq!(parse_assessment_kind("密评"), Ok(AssessmentKind::Cryptography));
        assert_eq!(parse_assessment_kind("classified-protection"), Ok(AssessmentKind::ClassifiedProtection));
        assert!(parse_assessment_kind("ISO27001").unwrap_err().contains("CLASSIFIED_PROTECTION, CRYPTOGRAPHY"));
    }

    #[test]
    fn entries_import_and_screen_parse() {
        let EvaluationCmd::Entries(EntriesCmd::List { kind, unit, state, paging }) =
            evaluation(&["entries", "list", "--kind", "data", "--unit", "U-CIVIL", "--state", "listed", "--page-size", "10"])
        else {
            panic!()
        };
        assert_eq!((kind, unit.as_str(), state, paging.page_size), (Some(EntryKind::Data), "U-CIVIL", Some(EntryState::Listed), 10));
        assert!(refused(&["entries", "list", "--kind", "APP"]).contains("--kind"));
        assert!(refused(&["entries", "register"]).contains("--entry"));

        let EvaluationCmd::Import(a) = evaluation(&["import", "--file", "目录.txt", "--format", "json"]) else { panic!() };
        assert_eq!((a.format, import_format(&a).unwrap()), (Some(ImportFormat::Json), ImportFormat::Json));
        let EvaluationCmd::Import(a) = evaluation(&["import", "--file", "catalogue.CSV"]) else { panic!() };
        assert_eq!(import_format(&a).unwrap(), ImportFormat::Csv);
        let EvaluationCmd::Import(a) = evaluation(&["import", "--file", "catalogue.xlsx"]) else { panic!() };
        assert!(matches!(import_format(&a), Err(CliError::Usage(m)) if m.starts_with("--format")));
        assert!(refused(&["import", "--file", "x.csv", "--format", "xml"]).contains("--format"));

        assert!(refused(&["screen"]).contains("--modules"), "a module file or modules");
        assert!(refused(&["screen", "--modules", "m.json", "--module", "低保"]).contains("cannot be used with"));
        let EvaluationCmd::Screen(a) =
            evaluation(&["screen", "--module", "低保在线申请：市民申请", "--module", "古树巡查", "--limit", "3"])
        else {
            panic!()
        };
        assert_eq!((a.module.len(), a.limit), (2, Some(3)));
        assert!(refused(&["screen", "--module", "x", "--limit", "21"]).contains("--limit"));
    }

    #[test]
    fn evaluations_parse() {
        let base = ["record-scores", "A1", "--etag", "3", "--evaluation", "E1"];
        assert!(refused(&base).contains("--scores"));
        let EvaluationCmd::RecordScores(a) = evaluation(&[&base[..], &["--score", "USAGE=86", "--score", "COST=80:ok"]].concat()) else {
            panic!()
        };
        assert_eq!(a.score.len(), 2);
        let twice = ScoresArgs { score: vec![parse_score("USAGE=1").unwrap(), parse_score("USAGE=2").unwrap()], ..a };
        assert!(matches!(scores(&twice), Err(CliError::Usage(m)) if m.contains("--score USAGE is given twice")));
        assert!(refused(&[&base[..], &["--score", "USAGE=120"]].concat()).contains("--score"));
        assert!(refused(&["publish", "A1", "--etag", "4"]).contains("--evaluation"));
        let EvaluationCmd::Schedules(SchedulesCmd::List { due_by, .. }) = evaluation(&["schedules", "list", "--due-by", "2028-07-31"])
        else {
            panic!()
        };
        assert_eq!(due_by, Some(CivilDate { year: 2028, month: 7, day: 31 }));
        assert!(refused(&["schedules", "list", "--due-by", "2028-02-30"]).contains("--due-by"));
        assert!(refused(&["decide-elimination", "A1", "--etag", "5"]).contains("--approve"));
        assert!(refused(&["decide-elimination", "A1", "--etag", "5", "--approve", "--reject"]).contains("cannot be used with"));
        let EvaluationCmd::DecideElimination { approve, comment, .. } =
            evaluation(&["decide-elimination", "A1", "--etag", "5", "--reject", "--comment", "暂缓淘汰"])
        else {
            panic!()
        };
        assert_eq!((approve, comment.as_str()), (false, "暂缓淘汰"));
        assert!(refused(&["stop", "A1", "--etag", "1"]).contains("--reason"));
        let EvaluationCmd::Assessments(AssessmentsCmd::Record { kind, done_on, .. }) =
            evaluation(&["assessments", "record", "A1", "--etag", "2", "--kind", "密评", "--done-on", "2028-06-30"])
        else {
            panic!()
        };
        assert_eq!((kind, done_on), (AssessmentKind::Cryptography, CivilDate { year: 2028, month: 6, day: 30 }));
        assert!(refused(&["assessments", "record", "A1", "--etag", "2", "--kind", "ISO", "--done-on", "2028-06-30"]).contains("--kind"));
        assert!(refused(&["audit-reports", "upload", "A1", "--file", "r.pdf"]).contains("--auditor"));
        assert!(refused(&["audit-reports", "download", "A1", "D1"]).contains("--out"));
    }

    #[test]
    fn evaluation_endpoint_flag_and_default() {
        let cli = parse(&["entries", "get", "A1"]).unwrap();
        // The default unless EGOVCTL_EVALUATION_ENDPOINT is set in the environment of the test run.
        if std::env::var_os("EGOVCTL_EVALUATION_ENDPOINT").is_none() {
            assert_eq!(cli.evaluation_endpoint, "http://127.0.0.1:50055");
        }
        let cli = Cli::try_parse_from(["egovctl", "evaluation", "--evaluation-endpoint", "http://10.0.0.5:50055", "entries", "get", "A1"])
            .unwrap();
        assert_eq!(cli.evaluation_endpoint, "http://10.0.0.5:50055");
    }
}
