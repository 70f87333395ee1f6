//! The command line: global flags and one subcommand per RPC. Parsing only; `commands` runs them.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};
use egov_proto::{
    common::CivilDate,
    intake::{ApplicationState, ChecklistResult, DocumentKind, PenaltyKind},
};

use crate::{acceptance::AcceptanceCmd, enums, evaluation::EvaluationCmd, procurement::ProcurementCmd, review::ReviewCmd};

#[derive(Debug, Parser)]
#[command(
    name = "egovctl",
    version,
    about = "Client of the Shangcheng District e-government project management suite (上城区电子政务项目管理系统)",
    long_about = "Client of the Shangcheng District e-government project management suite (上城区电子政务项目管理系统).\n\n\
        Every command calls one gRPC method of the service at --endpoint (the `review` commands: at \
        --review-endpoint; the `procurement` commands: at --procurement-endpoint; the `acceptance` commands: at \
        --acceptance-endpoint; the `evaluation` commands: at --evaluation-endpoint). Refusals print the gRPC code, \
        the rules refused (R-I4, ...) and the fields at fault. Exit codes: 0 success, 1 refused or failed, 2 usage.",
    propagate_version = true
)]
pub struct Cli {
    /// gRPC endpoint of the service to call (intake 50051, review 50052, procurement 50053,
    /// acceptance 50054, evaluation 50055). `review` commands use --review-endpoint, `procurement`
    /// commands --procurement-endpoint, `acceptance` commands --acceptance-endpoint, `evaluation`
    /// commands --evaluation-endpoint.
    #[arg(long, global = true, env = "EGOVCTL_ENDPOINT", default_value = "http://127.0.0.1:50051")]
    pub endpoint: String,
    /// gRPC endpoint of the review service (评审立项), called by the `review` commands.
    #[arg(long, global = true, env = "EGOVCTL_REVIEW_ENDPOINT", default_value = "http://127.0.0.1:50052")]
    pub review_endpoint: String,
    /// gRPC endpoint of the procurement service (采购建设), called by the `procurement` commands.
    #[arg(long, global = true, env = "EGOVCTL_PROCUREMENT_ENDPOINT", default_value = "http://127.0.0.1:50053")]
    pub procurement_endpoint: String,
    /// gRPC endpoint of the acceptance service (验收), called by the `acceptance` commands.
    #[arg(long, global = true, env = "EGOVCTL_ACCEPTANCE_ENDPOINT", default_value = "http://127.0.0.1:50054")]
    pub acceptance_endpoint: String,
    /// gRPC endpoint of the evaluation service (运行、绩效、审计), called by the `evaluation` commands.
    #[arg(long, global = true, env = "EGOVCTL_EVALUATION_ENDPOINT", default_value = "http://127.0.0.1:50055")]
    pub evaluation_endpoint: String,
    /// Bearer token (JWT); mint a local one with `egovctl token`.
    #[arg(long, global = true, env = "EGOV_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print responses (and errors, on standard error) as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds each call may take.
    #[arg(long, global = true, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare every service's view of every project (intake at --endpoint, the others at their
    /// endpoints; OPERATOR or AUDIT) and report where they disagree: cases after a cancelled
    /// approval or without their predecessor, schedules without a passed acceptance, ends not
    /// followed, registry statuses, timeline steps missing, money out of bounds. Exit 1 when
    /// they disagree.
    Reconcile(crate::reconcile::ReconcileArgs),
    /// Mint a local-profile HS256 token and print it.
    Token(TokenArgs),
    /// Ask a service's gRPC health (grpc.health.v1); exit 0 when SERVING.
    Health(HealthArgs),
    /// Units (项目建设单位).
    #[command(subcommand)]
    Units(UnitsCmd),
    /// Unit penalties (R-I10, R-P8).
    #[command(subcommand)]
    Penalty(PenaltyCmd),
    /// A unit's eligibility to apply (R-I10).
    #[command(subcommand)]
    Eligibility(EligibilityCmd),
    /// Application rounds (集中申报, R-I3).
    #[command(subcommand)]
    Rounds(RoundsCmd),
    /// Applications (申报).
    #[command(subcommand, visible_alias = "apps")]
    Applications(ApplicationsCmd),
    /// Dossier documents (R-I4, R-X1).
    #[command(subcommand, visible_alias = "docs")]
    Documents(DocumentsCmd),
    /// The district leader's consent (分管区领导同意, R-I6).
    #[command(subcommand)]
    Consent(ConsentCmd),
    /// Supplementary applications outside a round (增补项目, R-I3).
    #[command(subcommand)]
    Supplementary(SupplementaryCmd),
    /// Submit an application into a round, or as an accepted supplementary project.
    Submit(SubmitArgs),
    /// Compliance review (合规性审查, R-I11).
    #[command(subcommand)]
    Compliance(ComplianceCmd),
    /// The one re-review after a failed compliance review (复审, R-I11).
    #[command(subcommand, name = "re-review")]
    ReReview(ReReviewCmd),
    /// The project registry and its status timeline.
    #[command(subcommand)]
    Projects(ProjectsCmd),
    /// The service's append-only, SM3-chained audit trail (R-X3).
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Operations: dead events of the outbox, the clock of local and test runs.
    #[command(subcommand)]
    Ops(OpsCmd),
    /// The review service (评审立项, R-R1 … R-R7) at --review-endpoint: cases, tasks, the
    /// preliminary review, the expert review (experts, materials, meetings, scores), the
    /// re-check, the joint meeting, returns and withdrawals, the approval document, funds
    /// secured and changes.
    #[command(subcommand)]
    Review(ReviewCmd),
    /// The procurement service (采购建设, R-P1 … R-P10) at --procurement-endpoint: cases, the
    /// procurement record, the contract filing, payment plans and payments, monthly progress,
    /// random inspections, overruns, completion of construction, termination and the OCDS export.
    #[command(subcommand)]
    Procurement(ProcurementCmd),
    /// The acceptance service (验收, R-A1 … R-A5, R-P5) at --acceptance-endpoint: cases, materials
    /// (upload, list, download), the initial acceptance and its panel, the trial-operation
    /// report, the application with its R-A3 checks, DRB's review and the acceptance itself.
    #[command(subcommand)]
    Acceptance(AcceptanceCmd),
    /// The evaluation service (运行、绩效、审计, R-E1 … R-E8, R-I9) at --evaluation-endpoint: the
    /// catalogue (entries, the import of the existing catalogue), duplicate screening, indicator
    /// systems, schedules, evaluations and their published results, rectification and
    /// elimination, sharing violations, early stops, 等保/密评 assessments, third-party audit
    /// reports and the two queries other services ask.
    #[command(subcommand)]
    Evaluation(EvaluationCmd),
}

// ------------------------------------------------------------------ token and health

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// UNIT, DRB, FINANCE, DRC, CAC, XINCHUANG, GRASSROOTS, EXPERT, LEADER, AUDIT, OPERATOR,
    /// SERVICE (a service of the suite calling a peer) or PROVINCE (the provincial integrated
    /// digital resource system, depositing trial-operation reports).
    #[arg(long)]
    pub role: String,
    /// The unit the subject acts for (required for UNIT).
    #[arg(long)]
    pub unit: Option<String>,
    /// Subject (who acts); defaults to `<role>-local`.
    #[arg(long)]
    pub sub: Option<String>,
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=8784))]
    pub ttl_hours: u32,
    /// HS256 secret the services verify with (default: the local profile's).
    #[arg(long, env = "EGOV_AUTH__HS256_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    #[arg(long, env = "EGOV_AUTH__ISSUER", default_value = "egov-local")]
    pub issuer: String,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Service name to check; empty: the server as a whole.
    #[arg(long, default_value = "")]
    pub service: String,
    /// Keep asking until SERVING or this many seconds have passed.
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub wait: u64,
}

// ------------------------------------------------------------------ units, penalties, eligibility

#[derive(Debug, Args)]
pub struct Paging {
    #[arg(long, default_value_t = 50)]
    pub page_size: i32,
    #[arg(long, default_value = "")]
    pub page_token: String,
}

#[derive(Debug, Args)]
pub struct RequestId {
    /// Idempotency key; a UUIDv7 is generated when absent. Repeat a call with the same id to
    /// retry it safely.
    #[arg(long)]
    pub request_id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UnitsCmd {
    /// Register a unit (DRB).
    Create {
        /// Short code, e.g. U-CIVIL.
        #[arg(long)]
        unit_id: String,
        #[arg(long)]
        name: String,
        /// 区本级预算单位: only these may apply (R-I1).
        #[arg(long)]
        district_budget_unit: bool,
        /// 区属国企: never an applicant (R-I1).
        #[arg(long)]
        state_owned_enterprise: bool,
        /// Already runs a platform (一单位一平台, R-I7).
        #[arg(long)]
        runs_platform: bool,
        /// Already has an app or page reaching streets (R-I8).
        #[arg(long)]
        has_street_app: bool,
        #[command(flatten)]
        request_id: RequestId,
    },
    Get {
        unit_id: String,
    },
    List {
        #[command(flatten)]
        paging: Paging,
    },
}

#[derive(Debug, Subcommand)]
pub enum PenaltyCmd {
    /// Record a penalty against a unit (DRB).
    Record {
        #[arg(long)]
        unit: String,
        /// EARLY_STOP, BUILT_OUTSIDE_MEASURES or CONSTRUCTION_OVERRUN.
        #[arg(long, value_parser = enums::arg::<PenaltyKind>)]
        kind: PenaltyKind,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value = "")]
        project: String,
        /// EARLY_STOP: when the application went live (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        went_live_on: Option<CivilDate>,
        /// EARLY_STOP: when it stopped (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        stopped_on: Option<CivilDate>,
        /// BUILT_OUTSIDE_MEASURES: the year the violation was found.
        #[arg(long, default_value_t = 0)]
        found_in_year: i32,
        #[command(flatten)]
        request_id: RequestId,
    },
}

#[derive(Debug, Subcommand)]
pub enum EligibilityCmd {
    Get {
        #[arg(long)]
        unit: String,
        /// Year in which the unit wants to apply (a round held in Y is for projects of Y+1).
        #[arg(long)]
        year: i32,
    },
}

// ------------------------------------------------------------------ rounds

#[derive(Debug, Subcommand)]
pub enum RoundsCmd {
    /// Open the round of this year for projects of next year (DRB, R-I3).
    Open {
        #[arg(long)]
        target_year: i32,
        #[command(flatten)]
        request_id: RequestId,
    },
    Close {
        round_id: String,
        #[arg(long)]
        etag: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    Get {
        round_id: String,
    },
    List {
        #[command(flatten)]
        paging: Paging,
    },
}

// ------------------------------------------------------------------ applications

#[derive(Debug, Subcommand)]
pub enum ApplicationsCmd {
    /// Create a draft application from a JSON draft file (see deploy/local/sample-draft.json).
    Create {
        /// The lead unit (牵头单位, R-I5).
        #[arg(long)]
        unit: String,
        /// JSON draft file; `-` reads standard input.
        #[arg(long)]
        draft: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// Replace a draft's editable part.
    Update {
        application_id: String,
        #[arg(long)]
        etag: String,
        #[arg(long)]
        draft: String,
    },
    Get {
        application_id: String,
        /// Print only the editable part, as a draft file for `update --draft`.
        #[arg(long)]
        as_draft: bool,
    },
    List {
        #[arg(long, default_value = "")]
        unit: String,
        #[arg(long, default_value = "")]
        round: String,
        /// DRAFT, AWAITING_SUPPLEMENTARY_DECISION, SUBMITTED, COMPLIANCE_FAILED,
        /// RE_REVIEW_REQUESTED, COMPLIANCE_PASSED or ENDED.
        #[arg(long, value_parser = enums::arg::<ApplicationState>)]
        state: Option<ApplicationState>,
        #[command(flatten)]
        paging: Paging,
    },
}

#[derive(Debug, Subcommand)]
pub enum DocumentsCmd {
    /// Upload a file into an application's dossier, streamed in 64 KiB chunks.
    Upload {
        #[arg(long)]
        application: String,
        /// APPLICATION_FORM, FEASIBILITY_REPORT, STREET_RESEARCH_REPORT, MEETING_MINUTES,
        /// URGENCY_JUSTIFICATION, REVISION or OTHER.
        #[arg(long, value_parser = enums::arg::<DocumentKind>)]
        kind: DocumentKind,
        #[arg(long)]
        file: PathBuf,
        /// Name recorded for the document (default: the file's name).
        #[arg(long)]
        file_name: Option<String>,
        /// MIME type (default: guessed from the extension).
        #[arg(long)]
        content_type: Option<String>,
        /// STREET_RESEARCH_REPORT: the street researched (e.g. 湖滨).
        #[arg(long, default_value = "")]
        street: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// Download a document to a file (the service verifies its hashes as it reads it).
    Download {
        document_id: String,
        #[arg(long)]
        out: PathBuf,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
    },
    List {
        #[arg(long)]
        application: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConsentCmd {
    /// Record the district leader's consent (LEADER).
    Record {
        application_id: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SupplementaryCmd {
    /// Ask to apply outside a round, with an urgency justification (UNIT).
    Request {
        application_id: String,
        #[arg(long)]
        etag: String,
        /// Why the project cannot wait for next year's round (一事一议).
        #[arg(long)]
        justification: String,
    },
    /// Accept or refuse a supplementary request (DRB).
    #[command(group(ArgGroup::new("decision").required(true).args(["accept", "refuse"])))]
    Decide {
        application_id: String,
        #[arg(long)]
        etag: String,
        #[arg(long)]
        accept: bool,
        #[arg(long)]
        refuse: bool,
        #[arg(long, default_value = "")]
        comment: String,
    },
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    pub application_id: String,
    #[arg(long)]
    pub etag: String,
    /// The round to submit into; omit for an accepted supplementary application.
    #[arg(long, default_value = "")]
    pub round: String,
}

#[derive(Debug, Subcommand)]
pub enum ComplianceCmd {
    /// The checklist (审核要点) of the application's policy version.
    Checklist { application_id: String },
    /// Decide compliance (DRB): one CODE=pass|fail[:note] per checklist item, or --all-pass.
    #[command(group(ArgGroup::new("answers").required(true).args(["results", "all_pass"])))]
    Decide {
        application_id: String,
        #[arg(long)]
        etag: String,
        /// Results as CODE=pass or CODE=fail:what must change.
        #[arg(value_name = "CODE=pass|fail[:note]", value_parser = parse_result)]
        results: Vec<ChecklistResult>,
        /// Pass every item of the application's checklist.
        #[arg(long)]
        all_pass: bool,
        #[arg(long, default_value = "")]
        comment: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReReviewCmd {
    /// Ask for the one re-review after revising (UNIT).
    Request {
        application_id: String,
        #[arg(long)]
        etag: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectsCmd {
    /// Where a project stands, with its cross-service timeline.
    Status { project_id: String },
    /// The project's cross-service timeline by lifecycle stage (申报 … 绩效评价), in Chinese and
    /// English.
    Timeline { project_id: String },
    List {
        #[arg(long, default_value = "")]
        unit: String,
        #[arg(long, default_value = "")]
        status: String,
        #[command(flatten)]
        paging: Paging,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    List {
        /// Only this project's records.
        #[arg(long, default_value = "")]
        project: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// Check every anchor's signature and every chain's SM3 links (or one project's chain);
    /// exits 1 when any is broken. Records after the last anchor are reported as not yet sealed.
    Verify {
        /// Only this project's chain.
        #[arg(long, default_value = "")]
        project: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OpsCmd {
    /// Events the outbox gave up on.
    #[command(subcommand, name = "dead-events")]
    DeadEvents(DeadEventsCmd),
    /// The service clock (movable forward in local and test runs only).
    #[command(subcommand)]
    Clock(ClockCmd),
}

#[derive(Debug, Subcommand)]
pub enum DeadEventsCmd {
    List {
        #[arg(long, default_value_t = 100)]
        page_size: i32,
    },
    /// Publish dead events again: the given ids, or every one.
    Redrive { event_ids: Vec<String> },
}

#[derive(Debug, Subcommand)]
pub enum ClockCmd {
    Get,
    /// Move time forward for every running service.
    #[command(group(ArgGroup::new("amount").required(true).args(["days", "seconds"])))]
    Advance {
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..=36_500))]
        days: Option<i64>,
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
        seconds: Option<i64>,
    },
}

// ------------------------------------------------------------------ value parsers

/// `CODE=pass`, `CODE=fail`, `CODE=fail:what must change` (the note may contain colons).
pub fn parse_result(s: &str) -> Result<ChecklistResult, String> {
    let (code, rest) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected CODE=pass|fail[:note]"))?;
    let code = code.trim();
    if code.is_empty() || code.chars().any(char::is_whitespace) {
        return Err(format!("{s:?}: the item code before '=' must be one word, e.g. BUDGET=pass"));
    }
    let (verdict, note) = match rest.split_once(':') {
        Some((v, n)) => (v, n.trim()),
        None => (rest, ""),
    };
    let passed = match verdict.trim().to_ascii_lowercase().as_str() {
        "pass" => true,
        "fail" => false,
        other => return Err(format!("{s:?}: verdict {other:?} must be pass or fail")),
    };
    Ok(ChecklistResult { code: code.to_string(), passed, note: note.to_string() })
}

/// A civil date, `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<CivilDate, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s.trim(), &fmt).map_err(|e| format!("{s:?} is not a date like 2026-09-30: {e}"))?;
    Ok(CivilDate { year: d.year(), month: i32::from(u8::from(d.month())), day: i32::from(d.day()) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn checklist_results_parse() {
        assert_eq!(parse_result("BUDGET=pass"), Ok(ChecklistResult { code: "BUDGET".into(), passed: true, note: String::new() }));
        assert_eq!(
            parse_result("NECESSITY=FAIL: name the retired systems: 2 of them"),
            Ok(ChecklistResult { code: "NECESSITY".into(), passed: false, note: "name the retired systems: 2 of them".into() })
        );
        assert_eq!(parse_result("SCOPE=pass:ok").unwrap().note, "ok");
        assert_eq!(parse_result(" DOSSIER =fail").unwrap().code, "DOSSIER");
        for bad in ["BUDGET", "=pass", "BUDGET=ok", "BUDGET=", "TWO WORDS=pass", "BUDGET=passed:x"] {
            assert!(parse_result(bad).is_err(), "{bad} should be refused");
        }
        assert!(parse_result("BUDGET=maybe").unwrap_err().contains("must be pass or fail"));
    }

    #[test]
    fn dates_parse() {
        assert_eq!(parse_date("2026-09-30"), Ok(CivilDate { year: 2026, month: 9, day: 30 }));
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("30/09/2026").is_err());
    }

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn decide_needs_results_or_all_pass() {
        let p = |args: &[&str]| Cli::try_parse_from(std::iter::once("egovctl").chain(args.iter().copied()));
        assert!(p(&["compliance", "decide", "A1", "--etag", "e"]).is_err());
        assert!(p(&["compliance", "decide", "A1", "--etag", "e", "--all-pass"]).is_ok());
        assert!(p(&["compliance", "decide", "A1", "--etag", "e", "BUDGET=pass", "SCOPE=fail:x"]).is_ok());
        assert!(p(&["compliance", "decide", "A1", "--etag", "e", "BUDGET=pass", "--all-pass"]).is_err());
        assert!(p(&["compliance", "decide", "A1", "--etag", "e", "BUDGET=nope"]).is_err());
        assert!(p(&["ops", "clock", "advance", "--days", "3", "--seconds", "5"]).is_err());
        assert!(p(&["ops", "clock", "advance", "--days", "0"]).is_err());
        assert!(p(&["documents", "upload", "--application", "A", "--kind", "PHOTO", "--file", "x"]).is_err());
        assert!(p(&["documents", "upload", "--application", "A", "--kind", "feasibility_report", "--file", "x"]).is_ok());
    }
}
