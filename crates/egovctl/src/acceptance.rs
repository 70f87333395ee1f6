//! `egovctl acceptance …`: the acceptance service (验收, `egov.acceptance.v1.Acceptance`, port
//! 50054), called at `--acceptance-endpoint` / `EGOVCTL_ACCEPTANCE_ENDPOINT`.
//!
//! One subcommand per RPC, in the order a project goes: cases (opened when procurement declares
//! construction complete), the acceptance materials (R-X1, each filing assessed under R-P5:
//! uploaded, listed, downloaded and checked whole), the unit's initial acceptance with its panel
//! from a JSON file (R-A1, `panel.rs`), the trial-operation report deposited by the provincial
//! system or by DRB by hand (R-A2), the unit's application (R-A3), DRB's review of it, and the
//! acceptance recorded by its organiser with its outcome (R-A4, R-A5). Each command's arguments
//! sit next to its call; `acceptance/render.rs` prints the answers in the shapes of
//! `crate::render` and the procurement commands.
//!
//! Money is integer fen on the command line as on the wire (`--costs-fen`); dates are
//! `YYYY-MM-DD`. Files are streamed in 64 KiB chunks as intake's and review's uploads are.
//! Adding an RPC: a variant with its arguments in [`AcceptanceCmd`], its arm in [`run`], and an
//! [`Output`](crate::render::Output) in `render` when it answers with a message not printed yet.

pub mod panel;
mod render;

use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, Subcommand};
use egov_proto::{
    acceptance::{
        ApplyForAcceptanceRequest, CaseState, DepositTrialReportRequest, DownloadMaterialRequest, DownloadMaterialResponse, GetCaseRequest,
        ListCasesRequest, ListMaterialsRequest, Material, MaterialHeader, MaterialKind, PanelMember, RecordAcceptanceRequest,
        RecordInitialAcceptanceRequest, ReviewApplicationRequest, TrialReportHeader, UploadMaterialRequest,
        acceptance_client::AcceptanceClient, deposit_trial_report_request, download_material_response, upload_material_request,
    },
    common::CivilDate,
};

use crate::{
    cli::{Paging, RequestId, parse_date},
    client::{Authed, CliError},
    commands::{self, Ctx, Piece, Result, Sink, request_id},
    enums,
    render::Page,
};

// ------------------------------------------------------------------ command line

#[derive(Debug, Subcommand)]
pub enum AcceptanceCmd {
    /// Acceptance cases (验收案件): one per project whose construction procurement declared
    /// complete; its id is the project's.
    #[command(subcommand)]
    Cases(CasesCmd),
    /// The acceptance materials (R-X1), each filing assessed on the official working-day
    /// calendar from the day it was produced (R-P5: late is accepted and marked).
    #[command(subcommand)]
    Materials(MaterialsCmd),
    /// The lead unit records its initial acceptance (初验, R-A1) with its panel from a JSON file
    /// (see crates/egovctl/samples/initial-acceptance-panel.json); a pass starts the trial
    /// operation (试运行, R-A2).
    InitialAcceptance(InitialArgs),
    /// The trial-operation report (试运行报告, R-A2).
    #[command(subcommand)]
    TrialReport(TrialReportCmd),
    /// The lead unit applies for acceptance (验收申请, R-A3) once the trial is over; every missing
    /// item is listed at once. A failed project re-applies by its rectification deadline (R-A5).
    Apply(ApplyArgs),
    /// DRB approves the application (it goes to its organiser, R-A4) or returns it with reasons.
    #[command(group(ArgGroup::new("decision").required(true).args(["approve", "return_"])))]
    ReviewApplication {
        /// The project (its id is the case id).
        project_id: String,
        /// The case's etag.
        #[arg(long)]
        etag: String,
        /// Approve: the acceptance is held by its organiser (R-A4).
        #[arg(long)]
        approve: bool,
        /// Return the application to the unit (退回), with --reasons.
        #[arg(long = "return", requires = "reasons")]
        return_: bool,
        /// Why it is returned (退回理由); recorded with an approval too.
        #[arg(long)]
        reasons: Option<String>,
    },
    /// The organiser records the acceptance (验收, R-A4) with its experts from a JSON file (see
    /// crates/egovctl/samples/acceptance-experts.json): DRB for government procurement, the unit
    /// for small public-resource trading. The experts' majority decides (R-A5): a pass puts the
    /// system into use, a failure opens rectification with its deadline.
    RecordAcceptance(RecordArgs),
}

#[derive(Debug, Subcommand)]
pub enum CasesCmd {
    /// Cases, oldest first; UNIT sees its own only.
    List {
        /// INITIAL_ACCEPTANCE, TRIAL_OPERATION, APPLICATION_REVIEW, ACCEPTANCE, ACCEPTED,
        /// RECTIFICATION, RECTIFICATION_LAPSED or CLOSED.
        #[arg(long, value_parser = enums::arg::<CaseState>)]
        state: Option<CaseState>,
        /// Only cases of this unit.
        #[arg(long, default_value = "")]
        unit: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// A case: its handover from construction, initial acceptances, trial, applications with
    /// their R-A3 checks, acceptances and materials.
    Get {
        /// The project (its id is the case id).
        project_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MaterialsCmd {
    /// The lead unit or DRB uploads a material, streamed in 64 KiB chunks.
    Upload(UploadArgs),
    /// A case's materials with their R-P5 filing.
    List {
        /// The project (its id is the case id).
        project_id: String,
    },
    /// Download a material to a file (or `--out -`: standard output); it is kept only when every
    /// byte the service announced arrived.
    Download {
        /// The material's document id (as listed).
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
pub struct UploadArgs {
    /// The project (its id is the case id).
    pub project_id: String,
    /// INITIAL_PANEL_OPINIONS, INITIAL_MINUTES, INITIAL_TEST_REPORT,
    /// FUNCTION_PERFORMANCE_TEST_REPORT, CLASSIFIED_PROTECTION_ASSESSMENT, XINCHUANG_ASSESSMENT,
    /// TRIAL_OPERATION_REPORT, CONSTRUCTION_SUMMARY, ACCEPTANCE_EXPERT_OPINIONS,
    /// ACCEPTANCE_MINUTES, RECTIFICATION_REPORT or OTHER.
    #[arg(long, value_parser = enums::arg::<MaterialKind>)]
    pub kind: MaterialKind,
    #[command(flatten)]
    pub file: FileArgs,
    /// The day the material was produced (e.g. the meeting it records), YYYY-MM-DD: R-P5's
    /// working days count from it.
    #[arg(long, value_parser = parse_date)]
    pub produced_on: CivilDate,
    /// The project name the material carries (R-P5): it must equal the approval document's.
    #[arg(long)]
    pub project_name: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

/// The file to upload and how it is recorded.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// The file to upload.
    #[arg(long)]
    pub file: PathBuf,
    /// Name recorded for it (default: the file's name).
    #[arg(long)]
    pub file_name: Option<String>,
    /// MIME type (default: guessed from the extension).
    #[arg(long)]
    pub content_type: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitialArgs {
    /// The project (its id is the case id).
    pub project_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// The day the initial acceptance was held, YYYY-MM-DD; a pass starts the trial that day.
    #[arg(long, value_parser = parse_date)]
    pub held_on: CivilDate,
    /// JSON file of the panel (members with name, specialties, affiliation, credit code, opinion,
    /// passes); `-` reads standard input.
    #[arg(long)]
    pub panel: String,
    /// The panel's conclusion (初验结论).
    #[arg(long, default_value = "")]
    pub conclusion: String,
}

#[derive(Debug, Subcommand)]
pub enum TrialReportCmd {
    /// PROVINCE (the provincial integrated digital resource system, 一体化数字资源系统) deposits the
    /// trial-operation report, or DRB uploads it by hand (marked MANUAL); streamed in 64 KiB
    /// chunks. The token's role says which.
    Deposit(DepositArgs),
}

#[derive(Debug, Args)]
pub struct DepositArgs {
    /// The project (its id is the case id).
    pub project_id: String,
    #[command(flatten)]
    pub file: FileArgs,
    /// The report's date, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    pub produced_on: CivilDate,
    /// The first day of the trial the report covers, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    pub period_from: CivilDate,
    /// The last day of the trial the report covers, YYYY-MM-DD: at least the policy's days in all.
    #[arg(long, value_parser = parse_date)]
    pub period_to: CivilDate,
    /// The provincial system's own reference of the report.
    #[arg(long, default_value = "")]
    pub external_reference: String,
    /// The project name the report carries (R-P5): it must equal the approval document's.
    #[arg(long)]
    pub project_name: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The project (its id is the case id).
    pub project_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// A function module of the approved project declared built; repeat for each (R-A3: every
    /// approved module, as review approved it).
    #[arg(long = "built-module", value_name = "MODULE")]
    pub built_modules: Vec<String>,
    /// The unit states that the project's goals are met (建设目标).
    #[arg(long)]
    pub goals_met: bool,
    /// The unit states that function and performance meet the design (功能性能).
    #[arg(long)]
    pub function_performance_met: bool,
    /// The unit's statement (申请说明).
    #[arg(long, default_value = "")]
    pub statement: String,
    /// Apply for a part of the project only: refused (整体立项，整体验收); for testing refusals.
    #[arg(long)]
    pub partial: bool,
    /// The unit that will run the system (R-E1, 谁运行谁负责; default: the lead unit).
    #[arg(long = "operator-unit", value_name = "UNIT", default_value = "")]
    pub operator_unit: String,
    /// A unit that will use the system; repeat for each (谁使用谁负责; default: the lead and
    /// participating units).
    #[arg(long = "user-unit", value_name = "UNIT")]
    pub user_units: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The project (its id is the case id).
    pub project_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// The day the acceptance was held, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    pub held_on: CivilDate,
    /// JSON file of the experts (as the initial-acceptance panel file); `-` reads standard input.
    #[arg(long)]
    pub experts: String,
    /// The acceptance's conclusion (验收结论).
    #[arg(long, default_value = "")]
    pub conclusion: String,
    /// The acceptance's costs in fen (1 yuan = 100 fen), borne by the unit; 0 for none.
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..))]
    pub costs_fen: i64,
    /// Small public-resource trading: DRB joined the unit's acceptance.
    #[arg(long)]
    pub drb_joined: bool,
}

// ------------------------------------------------------------------ input

fn load_panel(path: &str, root: &'static str) -> Result<Vec<PanelMember>> {
    panel::load(path, root).map_err(|e| CliError::usage(format!("the {root} file is not valid:\n{e}")))
}

/// A list's values each once: a module or unit named twice is a slip.
fn once(flag: &str, values: &[String]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for v in values {
        if !seen.insert(v.trim()) {
            return Err(CliError::usage(format!("{flag} {v:?} is given twice")));
        }
    }
    Ok(())
}

/// The file opened for upload, its recorded name and content type.
struct Opened {
    file: tokio::fs::File,
    file_name: String,
    content_type: String,
}

async fn open(a: &FileArgs) -> Result<Opened> {
    let (file, file_name) = commands::open_upload(&a.file, a.file_name.clone()).await?;
    let content_type = a.content_type.clone().unwrap_or_else(|| commands::guess_content_type(&a.file).to_string());
    Ok(Opened { file, file_name, content_type })
}

// ------------------------------------------------------------------ streams

/// Streams a material: its header, then the file (see [`commands::stream_file`]).
async fn upload_material(
    cl: &mut AcceptanceClient<Authed>,
    header: MaterialHeader,
    file: tokio::fs::File,
    path: &Path,
) -> Result<Material> {
    use upload_material_request::Part;
    let (stream, err_rx) = commands::stream_file(UploadMaterialRequest { part: Some(Part::Header(header)) }, file, |b| {
        UploadMaterialRequest { part: Some(Part::Chunk(b)) }
    });
    tokio::select! {
        r = cl.upload_material(stream) => Ok(r?.into_inner()),
        Ok(e) = err_rx => Err(CliError::other(format!("reading {} failed, upload aborted: {e}", path.display()))),
    }
}

/// Streams a trial-operation report: its header, then the file.
async fn deposit_report(
    cl: &mut AcceptanceClient<Authed>,
    header: TrialReportHeader,
    file: tokio::fs::File,
    path: &Path,
) -> Result<Material> {
    use deposit_trial_report_request::Part;
    let (stream, err_rx) = commands::stream_file(DepositTrialReportRequest { part: Some(Part::Header(header)) }, file, |b| {
        DepositTrialReportRequest { part: Some(Part::Chunk(b)) }
    });
    tokio::select! {
        r = cl.deposit_trial_report(stream) => Ok(r?.into_inner()),
        Ok(e) = err_rx => Err(CliError::other(format!("reading {} failed, upload aborted: {e}", path.display()))),
    }
}

/// Downloads a material: its metadata first, then its content, kept only when the stream ended
/// cleanly with exactly the announced size (the service verified its hashes as it read it).
async fn download(cl: &mut AcceptanceClient<Authed>, document_id: String, out: &Path) -> Result<(Material, u64)> {
    use download_material_response::Part;
    let mut stream = cl.download_material(DownloadMaterialRequest { document_id }).await?.into_inner();
    let material = match stream.message().await? {
        Some(DownloadMaterialResponse { part: Some(Part::Material(m)) }) => m,
        Some(_) => return Err(CliError::other("the service sent content before the material's metadata")),
        None => return Err(CliError::other("the service sent nothing")),
    };
    let parts = tokio_stream::StreamExt::map(stream, |m| {
        m.map(|m| match m.part {
            Some(Part::Chunk(b)) => Piece::Chunk(b),
            Some(Part::Material(_)) => Piece::HeaderAgain,
            None => Piece::Empty,
        })
    });
    let written = Sink::open(out, material.size_bytes).await?.receive(parts, material.size_bytes, &material.file_name, "material").await?;
    Ok((material, written))
}

// ------------------------------------------------------------------ running

/// Runs an `acceptance` command against the service at `ctx.acceptance_endpoint`.
pub async fn run(ctx: &Ctx, cmd: AcceptanceCmd) -> Result<u8> {
    // Input files are read, and arguments the service would refuse anyway checked, before
    // connecting: a file that cannot be read is a usage error.
    let mut members = match &cmd {
        AcceptanceCmd::InitialAcceptance(a) => Some(load_panel(&a.panel, "panel")?),
        AcceptanceCmd::RecordAcceptance(a) => Some(load_panel(&a.experts, "experts")?),
        _ => None,
    };
    if let AcceptanceCmd::Apply(a) = &cmd {
        once("--built-module", &a.built_modules)?;
        once("--user-unit", &a.user_units)?;
    }
    if let AcceptanceCmd::Materials(MaterialsCmd::Download { out, force, .. }) = &cmd
        && out != Path::new("-")
        && !force
        && tokio::fs::try_exists(out).await.unwrap_or(false)
    {
        return Err(CliError::usage(format!("{} exists: pass --force to replace it", out.display())));
    }
    let mut opened = match &cmd {
        AcceptanceCmd::Materials(MaterialsCmd::Upload(a)) => Some(open(&a.file).await?),
        AcceptanceCmd::TrialReport(TrialReportCmd::Deposit(a)) => Some(open(&a.file).await?),
        _ => None,
    };
    let mut cl = AcceptanceClient::new(ctx.channel_to(&ctx.acceptance_endpoint).await?);
    match cmd {
        AcceptanceCmd::Cases(CasesCmd::List { state, unit, paging }) => {
            let r = cl
                .list_cases(ListCasesRequest {
                    page_size: paging.page_size,
                    page_token: paging.page_token,
                    state: state.map_or(0, Into::into),
                    unit_id: unit,
                })
                .await?
                .into_inner();
            ctx.show(&Page(&r.cases, &r.next_page_token));
        }
        AcceptanceCmd::Cases(CasesCmd::Get { project_id }) => ctx.show(&cl.get_case(GetCaseRequest { project_id }).await?.into_inner()),
        AcceptanceCmd::Materials(MaterialsCmd::Upload(a)) => {
            let f = opened.take().ok_or_else(|| CliError::other("the file to upload was not opened"))?;
            let header = MaterialHeader {
                request_id: request_id(&a.request_id),
                project_id: a.project_id,
                kind: a.kind.into(),
                file_name: f.file_name,
                content_type: f.content_type,
                produced_on: Some(a.produced_on),
                project_name: a.project_name,
            };
            ctx.show(&upload_material(&mut cl, header, f.file, &a.file.file).await?);
        }
        AcceptanceCmd::Materials(MaterialsCmd::List { project_id }) => {
            let r = cl.list_materials(ListMaterialsRequest { project_id }).await?.into_inner();
            ctx.show(&render::Materials(&r.materials));
        }
        AcceptanceCmd::Materials(MaterialsCmd::Download { document_id, out, force: _ }) => {
            let (m, written) = download(&mut cl, document_id, &out).await?;
            let to_stdout = out == Path::new("-");
            let done = render::Downloaded {
                material: &m,
                written_to: if to_stdout { "-".into() } else { out.display().to_string() },
                bytes: written,
            };
            if to_stdout {
                // The content went to standard output: the summary goes to standard error.
                render::eprint(&done, ctx.json);
            } else {
                ctx.show(&done);
            }
        }
        AcceptanceCmd::InitialAcceptance(a) => {
            let k = cl
                .record_initial_acceptance(RecordInitialAcceptanceRequest {
                    project_id: a.project_id,
                    etag: a.etag,
                    held_on: Some(a.held_on),
                    panel: members.take().ok_or_else(|| CliError::other("the panel file was not read"))?,
                    conclusion: a.conclusion,
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        AcceptanceCmd::TrialReport(TrialReportCmd::Deposit(a)) => {
            let f = opened.take().ok_or_else(|| CliError::other("the file to upload was not opened"))?;
            let header = TrialReportHeader {
                request_id: request_id(&a.request_id),
                project_id: a.project_id,
                file_name: f.file_name,
                content_type: f.content_type,
                produced_on: Some(a.produced_on),
                period_from: Some(a.period_from),
                period_to: Some(a.period_to),
                external_reference: a.external_reference,
                project_name: a.project_name,
            };
            ctx.show(&deposit_report(&mut cl, header, f.file, &a.file.file).await?);
        }
        AcceptanceCmd::Apply(a) => {
            let k = cl
                .apply_for_acceptance(ApplyForAcceptanceRequest {
                    project_id: a.project_id,
                    etag: a.etag,
                    built_modules: a.built_modules,
                    goals_met: a.goals_met,
                    function_performance_met: a.function_performance_met,
                    statement: a.statement,
                    partial: a.partial,
                    operator_unit_id: a.operator_unit,
                    user_unit_ids: a.user_units,
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        AcceptanceCmd::ReviewApplication { project_id, etag, approve, return_: _, reasons } => {
            let k = cl
                .review_application(ReviewApplicationRequest { project_id, etag, approve, reasons: reasons.unwrap_or_default() })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        AcceptanceCmd::RecordAcceptance(a) => {
            let k = cl
                .record_acceptance(RecordAcceptanceRequest {
                    project_id: a.project_id,
                    etag: a.etag,
                    held_on: Some(a.held_on),
                    experts: members.take().ok_or_else(|| CliError::other("the experts file was not read"))?,
                    conclusion: a.conclusion,
                    costs_fen: a.costs_fen,
                    drb_joined: a.drb_joined,
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        Cli::try_parse_from(["egovctl", "acceptance"].into_iter().chain(args.iter().copied()))
    }

    fn acceptance(args: &[&str]) -> AcceptanceCmd {
        match parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}")).command {
            Command::Acceptance(c) => c,
            other => panic!("not an acceptance command: {other:?}"),
        }
    }

    /// The usage error of `args`, as clap words it.
    fn refused(args: &[&str]) -> String {
        match parse(args) {
            Ok(c) => panic!("{args:?} should be refused, parsed as {:?}", c.command),
            Err(e) => e.to_string(),
        }
    }

    fn d(year: i32, month: i32, day: i32) -> CivilDate {
        CivilDate { year, month, day }
    }

    #[test]
    fn cases_parse() {
        let AcceptanceCmd::Cases(CasesCmd::List { state, unit, paging }) =
            acceptance(&["cases", "list", "--state", "trial-operation", "--unit", "U-CIVIL", "--page-size", "10"])
        else {
            panic!()
        };
        assert_eq!((state, unit.as_str(), paging.page_size), (Some(CaseState::TrialOperation), "U-CIVIL", 10));
        assert!(refused(&["cases", "list", "--state", "DONE"]).contains("INITIAL_ACCEPTANCE, TRIAL_OPERATION"));
        let AcceptanceCmd::Cases(CasesCmd::Get { project_id }) = acceptance(&["cases", "get", "P1"]) else { panic!() };
        assert_eq!(project_id, "P1");
    }

    #[test]
    fn materials_parse() {
        let base = ["materials", "upload", "P1", "--kind", "initial-minutes", "--file", "纪要.pdf", "--produced-on", "2027-11-10"];
        let AcceptanceCmd::Materials(MaterialsCmd::Upload(a)) = acceptance(&[&base[..], &["--project-name", "社会救助"]].concat())
        else {
            panic!()
        };
        assert_eq!((a.kind, a.produced_on, a.project_name.as_str()), (MaterialKind::InitialMinutes, d(2027, 11, 10), "社会救助"));
        assert_eq!((a.file.file, a.file.file_name, a.file.content_type), (PathBuf::from("纪要.pdf"), None, None));
        assert!(refused(&base).contains("--project-name"), "the project name is required (R-P5)");
        assert!(
            refused(&["materials", "upload", "P1", "--kind", "PHOTO", "--file", "x", "--produced-on", "2027-11-10"]).contains("--kind")
        );
        assert!(refused(&[&base[..8], &["--produced-on", "2027-11-31", "--project-name", "x"]].concat()).contains("--produced-on"));
        let AcceptanceCmd::Materials(MaterialsCmd::Download { out, force, .. }) =
            acceptance(&["materials", "download", "D1", "--out", "-"])
        else {
            panic!()
        };
        assert_eq!((out, force), (PathBuf::from("-"), false));
        assert!(refused(&["materials", "download", "D1"]).contains("--out"));
        assert!(parse(&["materials", "list", "P1"]).is_ok());
    }

    #[test]
    fn initial_acceptance_and_trial_report_parse() {
        let AcceptanceCmd::InitialAcceptance(a) =
            acceptance(&["initial-acceptance", "P1", "--etag", "1", "--held-on", "2027-11-10", "--panel", "panel.json"])
        else {
            panic!()
        };
        assert_eq!((a.held_on, a.panel.as_str(), a.conclusion.as_str()), (d(2027, 11, 10), "panel.json", ""));
        assert!(refused(&["initial-acceptance", "P1", "--etag", "1", "--held-on", "2027-11-10"]).contains("--panel"));
        assert!(refused(&["initial-acceptance", "P1", "--etag", "1", "--panel", "p.json"]).contains("--held-on"));

        let base = ["trial-report", "deposit", "P1", "--file", "r.pdf", "--produced-on", "2027-12-10", "--project-name", "社会救助"];
        let AcceptanceCmd::TrialReport(TrialReportCmd::Deposit(a)) = acceptance(
            &[&base[..], &["--period-from", "2027-11-10", "--period-to", "2027-12-09", "--external-reference", "ZJ-1"]].concat(),
        ) else {
            panic!()
        };
        assert_eq!((a.period_from, a.period_to, a.external_reference.as_str()), (d(2027, 11, 10), d(2027, 12, 9), "ZJ-1"));
        assert!(refused(&[&base[..], &["--period-from", "2027-11-10"]].concat()).contains("--period-to"));
    }

    #[test]
    fn apply_and_review_parse() {
        let AcceptanceCmd::Apply(a) = acceptance(&[
            "apply",
            "P1",
            "--etag",
            "3",
            "--built-module",
            "救助申请",
            "--built-module",
            "审核审批",
            "--goals-met",
            "--function-performance-met",
            "--user-unit",
            "U-CIVIL",
        ]) else {
            panic!()
        };
        assert_eq!(a.built_modules, vec!["救助申请", "审核审批"]);
        assert!(a.goals_met && a.function_performance_met && !a.partial);
        assert_eq!((a.operator_unit.as_str(), a.user_units), ("", vec!["U-CIVIL".to_string()]));
        let AcceptanceCmd::Apply(a) = acceptance(&["apply", "P1", "--etag", "3", "--partial"]) else { panic!() };
        assert!(a.partial && a.built_modules.is_empty() && !a.goals_met, "an incomplete application goes, for the service to refuse");
        assert!(matches!(once("--built-module", &["a".into(), " a".into()]), Err(CliError::Usage(m)) if m.contains("given twice")));

        let review = |extra: &[&str]| parse(&[&["review-application", "P1", "--etag", "4"][..], extra].concat());
        assert!(refused(&["review-application", "P1", "--etag", "4"]).contains("--approve"));
        assert!(review(&["--return"]).unwrap_err().to_string().contains("--reasons"), "a return says why");
        assert!(review(&["--approve", "--return", "--reasons", "x"]).is_err());
        let AcceptanceCmd::ReviewApplication { approve, reasons, .. } =
            acceptance(&["review-application", "P1", "--etag", "4", "--return", "--reasons", "信创测评报告缺失"])
        else {
            panic!()
        };
        assert_eq!((approve, reasons.as_deref()), (false, Some("信创测评报告缺失")));
        let AcceptanceCmd::ReviewApplication { approve, reasons, .. } =
            acceptance(&["review-application", "P1", "--etag", "4", "--approve"])
        else {
            panic!()
        };
        assert_eq!((approve, reasons), (true, None));
    }

    #[test]
    fn record_acceptance_parses_costs_in_fen() {
        let base = ["record-acceptance", "P1", "--etag", "5", "--held-on", "2028-01-20", "--experts", "e.json"];
        let AcceptanceCmd::RecordAcceptance(a) = acceptance(&[&base[..], &["--costs-fen", "1500000", "--drb-joined"]].concat()) else {
            panic!()
        };
        assert_eq!((a.costs_fen, a.drb_joined, a.held_on), (1_500_000, true, d(2028, 1, 20)));
        let AcceptanceCmd::RecordAcceptance(a) = acceptance(&[&base[..], &["--costs-fen", "0"]].concat()) else { panic!() };
        assert!(!a.drb_joined && a.costs_fen == 0);
        assert!(refused(&base).contains("--costs-fen"), "the costs are stated, 0 for none");
        assert!(refused(&[&base[..], &["--costs-fen=-1"]].concat()).contains("--costs-fen"));
        assert!(refused(&[&base[..], &["--costs-fen", "15000.00"]].concat()).contains("--costs-fen"), "fen, never yuan with decimals");
    }

    #[test]
    fn acceptance_endpoint_flag_and_default() {
        let cli = parse(&["cases", "get", "P1"]).unwrap();
        // The default unless EGOVCTL_ACCEPTANCE_ENDPOINT is set in the environment of the test run.
        if std::env::var_os("EGOVCTL_ACCEPTANCE_ENDPOINT").is_none() {
            assert_eq!(cli.acceptance_endpoint, "http://127.0.0.1:50054");
        }
        let cli =
            Cli::try_parse_from(["egovctl", "acceptance", "--acceptance-endpoint", "http://10.0.0.5:50054", "cases", "get", "P1"]).unwrap();
        assert_eq!(cli.acceptance_endpoint, "http://10.0.0.5:50054");
    }
}
