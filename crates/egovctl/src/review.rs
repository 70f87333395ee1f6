//! `egovctl review …`: the review service (评审立项, `egov.review.v1.Review`, port 50052), called
//! at `--review-endpoint` / `EGOVCTL_REVIEW_ENDPOINT`.
//!
//! One subcommand per RPC, grouped the way the service is: cases, tasks, the preliminary review
//! (R-R1), the expert review (R-R2, the server's second service `egov.review.v1.ExpertReview`:
//! the expert pool, materials, meetings and panels, scores, the conclusion and the expert
//! opinion), the re-check (R-R3), the joint meeting (R-R4), returns and withdrawals, the
//! approval document (R-R4, R-R5), funds secured (R-R6) and changes (R-R7). Each command's
//! arguments sit next to its call; `review/render.rs` prints the answers.
//!
//! Adding an RPC: a variant with its arguments in [`ReviewCmd`] (or a group of it, as
//! [`CasesCmd`]), its arm in [`run`], and an [`Output`](crate::render::Output) in `render` when
//! it answers with a message not printed yet (for a list, [`Listed`](crate::render::Listed) on
//! its items, shown as a [`Page`]). Both services of the server are called over one
//! connection to `ctx.review_endpoint` ([`clients`]).

mod render;

use std::{collections::BTreeSet, path::PathBuf};

use clap::{ArgGroup, Args, Subcommand};
use egov_platform::auth::Role;
use egov_proto::{
    common::CivilDate,
    review::{
        self as pb, CaseStage, ChangeReviewStage, ClaimTaskRequest, ConcludeExpertReviewRequest, ConcludeRecheckRequest,
        CreateExpertRequest, CreateMeetingRequest, CriterionScore, DecideChangeRequest, DecidePreliminaryRequest, DimensionScore,
        DrawPanelRequest, GetApprovalRequest, GetCaseRequest, GetExpertOpinionRequest, GetMeetingRequest, GetScoringSheetRequest,
        IssueApprovalRequest, ListCasesRequest, ListExpertsRequest, ListTasksRequest, MaterialHeader, MaterialKind,
        RecordFundsSecuredRequest, RecordJointMeetingRequest, RequestChangeRequest, ResubmitCaseRequest, ReturnForRevisionRequest,
        ScheduleCaseRequest, SetExpertAvailabilityRequest, SpecialtyNeed, SubmitExpertScoreRequest, SubmitPreliminaryOpinionRequest,
        SubmitRecheckOpinionRequest, TaskState, UploadMaterialRequest, WithdrawCaseRequest, expert_review_client::ExpertReviewClient,
        review_client::ReviewClient, upload_material_request,
    },
};

use crate::{
    cli::{Paging, RequestId, parse_date},
    client::{Authed, CliError},
    commands::{self, Ctx, Result, request_id},
    enums,
    render::Page,
};

// ------------------------------------------------------------------ command line

#[derive(Debug, Subcommand)]
pub enum ReviewCmd {
    /// Review cases (评审案件): one per project that passed compliance; its id is the project's.
    #[command(subcommand)]
    Cases(CasesCmd),
    /// Workflow tasks (待办): each participant's preliminary opinion, and the like.
    #[command(subcommand)]
    Tasks(TasksCmd),
    /// The preliminary scoring sheet (初审评分表, R-R1): the case's policy version, or the one in force.
    Sheet {
        /// The case whose pinned policy version to read; omit for the version in force.
        #[arg(long, default_value = "")]
        case: String,
    },
    /// A participant's preliminary opinion (初审意见, R-R1): DRC, FINANCE, CAC, XINCHUANG, GRASSROOTS.
    Opinion(OpinionArgs),
    /// DRB's preliminary decision (初审结论, R-R1), once every participant has scored.
    Decide(DecideArgs),
    /// The expert pool (专家库, R-R2): DRB and FINANCE add experts and set their availability.
    #[command(subcommand)]
    Experts(ExpertsCmd),
    /// The unit's materials for the expert review (R-R2): all three before the meeting; after a
    /// passing conclusion the revised report and the revision list again, which opens the
    /// re-check (R-R3).
    #[command(subcommand)]
    Materials(MaterialsCmd),
    /// Expert review meetings (专家评审会, R-R2): create one, schedule cases, draw its panel.
    #[command(subcommand)]
    Meetings(MeetingsCmd),
    /// A panel expert scores a case of the meeting (专家评分, R-R2); EXPERT only, and the token's
    /// subject is the expert id (`egovctl token --role EXPERT --sub e2`).
    Score(ScoreArgs),
    /// DRB concludes a case's expert review (专家组意见, R-R2) once every panel expert has scored.
    Conclude(ConcludeArgs),
    /// A project's expert opinion (专家评审意见, R-R2): the panel's conclusion, the recommended
    /// budget and the mean scores.
    OpinionOf {
        /// The project (its id is the case id).
        project_id: String,
    },
    /// A re-check participant's opinion (复核意见, R-R3): DRB, DRC or FINANCE, on its task.
    RecheckOpinion(RecheckOpinionArgs),
    /// DRB concludes the re-check (复核结论, R-R3), a pass with its funding arrangement; a pass
    /// goes to the joint meeting.
    RecheckConclude(RecheckConcludeArgs),
    /// DRB records the joint meeting's outcome (联席会议, R-R4); a pass goes to the approval
    /// document.
    JointMeeting(JointMeetingArgs),
    /// DRB returns a case under review to the unit for revision (退回修改).
    Return {
        /// The case (its id is the project id).
        case_id: String,
        /// The case's etag.
        #[arg(long)]
        etag: String,
        /// What the unit must revise (退回意见).
        #[arg(long)]
        comment: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// UNIT resubmits a returned case; it goes back to the stage it left, reviewed afresh.
    Resubmit {
        /// The case (its id is the project id).
        case_id: String,
        /// The case's etag.
        #[arg(long)]
        etag: String,
        #[arg(long, default_value = "")]
        comment: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// UNIT withdraws its application (撤回申报); the case ends.
    Withdraw {
        /// The case (its id is the project id).
        case_id: String,
        /// The case's etag.
        #[arg(long)]
        etag: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// DRB issues the approval document (立项文件, R-R4): after the joint meeting, or directly on
    /// the fast track (R-R5).
    Approve(ApproveArgs),
    /// A project's approval document (立项文件).
    Approval {
        /// The project (its id is the case id).
        project_id: String,
    },
    /// FINANCE or DRB records that an outside-funded approval's funds were secured within its
    /// validity (资金落实, R-R6).
    FundsSecured {
        /// The case (its id is the project id).
        case_id: String,
        /// The case's etag.
        #[arg(long)]
        etag: String,
        /// A document that shows the funds were secured (资金落实证明); repeat for each.
        #[arg(long = "evidence", value_name = "DOCUMENT_ID", required = true)]
        evidence: Vec<String>,
        #[arg(long, default_value = "")]
        comment: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// Changes of an approved project's budget (变更, R-R7): the unit requests, DRB decides.
    #[command(subcommand)]
    Change(ChangeCmd),
}

#[derive(Debug, Subcommand)]
pub enum CasesCmd {
    /// Cases, oldest first; UNIT sees its own only.
    List {
        /// PRELIMINARY_REVIEW, EXPERT_REVIEW, RE_CHECK, JOINT_MEETING, APPROVAL, APPROVED,
        /// RETURNED, ENDED or CANCELLED.
        #[arg(long, value_parser = enums::arg::<CaseStage>)]
        stage: Option<CaseStage>,
        /// Only cases of this lead unit.
        #[arg(long, default_value = "")]
        unit: String,
        #[command(flatten)]
        paging: Paging,
    },
    Get {
        /// The case (its id is the project id).
        case_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TasksCmd {
    /// Tasks; by default those of the caller's role (DRB and AUDIT: of every role).
    List {
        /// Only this case's tasks.
        #[arg(long, default_value = "")]
        case: String,
        /// Tasks of this role (DRB and AUDIT may name any role; others only their own).
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
        /// OPEN, CLAIMED, DONE, CANCELLED or SUSPENDED.
        #[arg(long, value_parser = enums::arg::<TaskState>)]
        state: Option<TaskState>,
        #[command(flatten)]
        paging: Paging,
    },
    /// Take a task of your role (认领); only you may then complete it.
    Claim {
        /// The task, as listed.
        task_id: String,
        /// The task's etag, as listed.
        #[arg(long)]
        etag: String,
        #[command(flatten)]
        request_id: RequestId,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExpertsCmd {
    /// Add an expert to the pool (DRB, FINANCE); ALREADY_EXISTS when the id is taken.
    Create {
        /// The expert's id (2 to 64 letters, digits, '-' or '_'), also the subject of their
        /// EXPERT token.
        expert_id: String,
        /// The expert's name.
        #[arg(long)]
        name: String,
        /// A specialty, e.g. IT or SECURITY; repeat for each (at least one).
        #[arg(long = "specialty", value_name = "SPECIALTY", required = true)]
        specialties: Vec<String>,
        /// A unit id (e.g. U-CIVIL) or an outside organisation; an expert of a unit whose
        /// project is on a meeting is never drawn for it (回避).
        #[arg(long)]
        affiliation: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// The pool, by expert id (DRB, FINANCE, AUDIT).
    List {
        /// Only experts of this specialty.
        #[arg(long, default_value = "")]
        specialty: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// Make an expert available for draws, or not (DRB, FINANCE).
    Availability(AvailabilityArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("availability").required(true).args(["available", "unavailable"])))]
pub struct AvailabilityArgs {
    /// The expert.
    pub expert_id: String,
    /// The expert's etag (as listed).
    #[arg(long)]
    pub etag: String,
    /// The expert may be drawn.
    #[arg(long)]
    pub available: bool,
    /// The expert is not drawn until made available again.
    #[arg(long)]
    pub unavailable: bool,
}

#[derive(Debug, Subcommand)]
pub enum MaterialsCmd {
    /// UNIT uploads a material of its case, streamed in 64 KiB chunks.
    Upload(UploadArgs),
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The case (its id is the project id).
    pub case_id: String,
    /// REVISED_FEASIBILITY_REPORT (修改后的可行性研究报告), REVISION_LIST (修改详细清单) or
    /// PRESENTATION (汇报PPT).
    #[arg(long, value_parser = enums::arg::<MaterialKind>)]
    pub kind: MaterialKind,
    /// The file to upload.
    pub file: PathBuf,
    /// Name recorded for the material (default: the file's name).
    #[arg(long)]
    pub file_name: Option<String>,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Subcommand)]
pub enum MeetingsCmd {
    /// DRB or FINANCE creates a meeting and says how many experts of each specialty it needs.
    Create {
        /// The day the meeting is held, YYYY-MM-DD.
        #[arg(long, value_parser = parse_date)]
        date: CivilDate,
        /// Experts needed of one specialty, 1..15, e.g. IT=3; repeat for each specialty.
        #[arg(long = "need", value_name = "SPECIALTY=N", value_parser = parse_need, required = true)]
        needs: Vec<SpecialtyNeed>,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// A meeting: its cases, the panel in draw order with the seed, the scores so far.
    Get {
        /// The meeting.
        meeting_id: String,
    },
    /// Put a case on the meeting, before the panel is drawn (its three materials uploaded).
    Schedule {
        /// The meeting.
        meeting_id: String,
        /// The meeting's etag.
        #[arg(long)]
        etag: String,
        /// The case (its id is the project id).
        #[arg(long = "case")]
        case_id: String,
    },
    /// Draw the panel at random by specialty, excluding experts of the cases' units (回避); the
    /// seed is recorded, and the same pool and seed draw the same panel.
    Draw {
        /// The meeting.
        meeting_id: String,
        /// The meeting's etag.
        #[arg(long)]
        etag: String,
        /// Draw with this seed (to reproduce a draw); by default a random one is chosen.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        seed: Option<u64>,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("scoring").required(true).args(["dims", "all"])))]
pub struct ScoreArgs {
    /// The meeting the case is on.
    pub meeting_id: String,
    /// The case (its id is the project id).
    #[arg(long = "case")]
    pub case_id: String,
    /// One dimension's score, 0..100; repeat for every dimension: RESOURCE_CONSOLIDATION,
    /// TECHNICAL_SOLUTION, DATA_SHARING, SECURITY_ASSURANCE, COST_ESTIMATE.
    #[arg(long = "dim", value_name = "DIMENSION=N", value_parser = parse_dimension_score)]
    pub dims: Vec<DimensionScore>,
    /// Give every dimension this score (0..100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub all: Option<u8>,
    /// The expert's opinion (评审意见).
    #[arg(long)]
    pub opinion: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("verdict").required(true).args(["pass", "fail"])))]
pub struct ConcludeArgs {
    /// The case (its id is the project id).
    pub case_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// The panel passes the project: the unit then uploads the revised report and revision list.
    #[arg(long)]
    pub pass: bool,
    /// The panel does not pass it: the application ends.
    #[arg(long)]
    pub fail: bool,
    /// The recommended budget (预算建议) in fen: 1 to the budget applied for.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    pub budget_fen: i64,
    /// The panel's opinion (专家组意见).
    #[arg(long)]
    pub opinion: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("verdict").required(true).args(["pass", "fail"])))]
pub struct RecheckOpinionArgs {
    /// The case (its id is the project id).
    pub case_id: String,
    /// The participant's "recheck.opinion" task (`review tasks list --case CASE`).
    #[arg(long)]
    pub task: String,
    /// The task's etag (as listed, or as returned by `review tasks claim`).
    #[arg(long)]
    pub etag: String,
    /// The participant agrees with the project going on (同意).
    #[arg(long)]
    pub pass: bool,
    /// The participant does not (不同意).
    #[arg(long)]
    pub fail: bool,
    /// The opinion against the expert opinion (复核意见).
    #[arg(long)]
    pub opinion: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("verdict").required(true).args(["pass", "fail"])))]
pub struct RecheckConcludeArgs {
    /// The case (its id is the project id).
    pub case_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// The re-check passes, with the funding arrangement below: the case goes to the joint
    /// meeting.
    #[arg(long)]
    pub pass: bool,
    /// The re-check fails: the application ends.
    #[arg(long)]
    pub fail: bool,
    /// The conclusion's reasons (复核结论).
    #[arg(long)]
    pub comment: String,
    /// With --pass: the funding arrangement's priority, 1 = first.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..), required_if_eq("pass", "true"), conflicts_with = "fail")]
    pub priority: Option<i32>,
    /// With --pass: the fiscal year the funds are arranged in (this year to five years on).
    #[arg(long, value_parser = clap::value_parser!(i32).range(2000..=2200), required_if_eq("pass", "true"), conflicts_with = "fail")]
    pub fiscal_year: Option<i32>,
    /// With --pass: the amount arranged in fen, at most the expert panel's recommended budget.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..), required_if_eq("pass", "true"), conflicts_with = "fail")]
    pub amount_fen: Option<i64>,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("verdict").required(true).args(["pass", "fail"])))]
pub struct JointMeetingArgs {
    /// The case (its id is the project id).
    pub case_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// The meeting passed the project: DRB then issues the approval document.
    #[arg(long)]
    pub pass: bool,
    /// The meeting did not: the application ends (say why with --comment).
    #[arg(long)]
    pub fail: bool,
    /// The meeting's reference, e.g. 2026年第3次规划土地数字管理联席会议.
    #[arg(long)]
    pub meeting_ref: String,
    /// The day it was held, YYYY-MM-DD: not before the re-check, not in the future.
    #[arg(long, value_parser = parse_date)]
    pub date: CivilDate,
    /// The meeting's comment; required with --fail.
    #[arg(long, default_value = "", required_if_eq("fail", "true"))]
    pub comment: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Subcommand)]
pub enum ChangeCmd {
    /// UNIT requests a budget change of its approved project, before procurement completes: a
    /// small reduction is filed under internal control (内控备案) and takes effect at once, a
    /// larger one goes through departmental and expert review.
    Request {
        /// The case (its id is the project id).
        case_id: String,
        /// The case's etag.
        #[arg(long)]
        etag: String,
        /// The new investment in fen; never above the approved budget (that is a new application).
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
        new_budget_fen: i64,
        /// The unit's argument for the change (变更论证).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// DRB records a review of a change request: departmental (部门初审), then expert (专家论证).
    Decide(DecideChangeArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("verdict").required(true).args(["pass", "fail"])))]
pub struct DecideChangeArgs {
    /// The case (its id is the project id).
    pub case_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// The change request (`review cases get CASE` lists them).
    #[arg(long = "change")]
    pub change_id: String,
    /// DEPARTMENTAL (部门初审) or EXPERT (专家论证).
    #[arg(long, value_parser = enums::arg::<ChangeReviewStage>)]
    pub stage: ChangeReviewStage,
    /// The review passes the change.
    #[arg(long)]
    pub pass: bool,
    /// The review rejects it.
    #[arg(long)]
    pub fail: bool,
    /// The review's opinion (部门初审意见 / 专家论证意见).
    #[arg(long)]
    pub comment: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("scoring").required(true).args(["scores", "all"])))]
#[command(group(ArgGroup::new("verdict").required(true).args(["pass", "fail"])))]
pub struct OpinionArgs {
    /// The case (its id is the project id).
    pub case_id: String,
    /// The participant's task (`review tasks list --case CASE`).
    #[arg(long)]
    pub task: String,
    /// The task's etag (as listed, or as returned by `review tasks claim`).
    #[arg(long)]
    pub etag: String,
    /// One criterion's score, 0..100 (repeat for every criterion of `review sheet`).
    #[arg(long = "score", value_name = "CODE=N", value_parser = parse_score)]
    pub scores: Vec<CriterionScore>,
    /// Give every criterion of the case's scoring sheet this score (0..100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub all: Option<u8>,
    /// The participant passes the project (同意).
    #[arg(long)]
    pub pass: bool,
    /// The participant does not pass it (不同意).
    #[arg(long)]
    pub fail: bool,
    /// The participant's opinion (意见), in words.
    #[arg(long)]
    pub opinion: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("verdict").required(true).args(["pass", "fail"])))]
pub struct DecideArgs {
    /// The case (its id is the project id).
    pub case_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// Preliminary review passed: the case goes to expert review.
    #[arg(long)]
    pub pass: bool,
    /// Preliminary review failed: the application ends.
    #[arg(long)]
    pub fail: bool,
    /// The reasons (综合初审单位意见).
    #[arg(long)]
    pub comment: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The case (its id is the project id).
    pub case_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// The document number (文号), e.g. 上数〔2027〕12号.
    #[arg(long)]
    pub number: String,
    /// Issue date, YYYY-MM-DD (not after the service's today).
    #[arg(long, value_parser = parse_date)]
    pub date: CivilDate,
    /// The approved budget in fen (1 yuan = 100 fen); at most the budget applied for.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    pub budget_fen: i64,
    /// The approved scope (建设内容).
    #[arg(long)]
    pub scope: String,
    /// Planned construction period in months (1..120).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=120))]
    pub months: i32,
    #[command(flatten)]
    pub request_id: RequestId,
}

// ------------------------------------------------------------------ value parsers

/// `CODE=N`: one criterion of the scoring sheet and its score, 0..100.
pub fn parse_score(s: &str) -> std::result::Result<CriterionScore, String> {
    let (code, n) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected CODE=N, e.g. NECESSITY=85"))?;
    let code = code.trim();
    if code.is_empty() || code.chars().any(char::is_whitespace) {
        return Err(format!("{s:?}: the criterion code before '=' must be one word, e.g. NECESSITY=85"));
    }
    let score: u8 = n.trim().parse().map_err(|_| format!("{s:?}: the score {:?} must be a whole number 0..100", n.trim()))?;
    if score > 100 {
        return Err(format!("{s:?}: the score {score} must be 0..100"));
    }
    Ok(CriterionScore { code: code.to_ascii_uppercase(), score: i32::from(score) })
}

/// What the experts assess (评审维度, R-R2), each scored 0..100 by every panel expert.
pub const DIMENSIONS: [&str; 5] = ["RESOURCE_CONSOLIDATION", "TECHNICAL_SOLUTION", "DATA_SHARING", "SECURITY_ASSURANCE", "COST_ESTIMATE"];

/// `DIMENSION=N`: one dimension of the expert review and its score, 0..100; the dimension case
/// insensitive, `-` accepted for `_`.
pub fn parse_dimension_score(s: &str) -> std::result::Result<DimensionScore, String> {
    let (dim, n) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected DIMENSION=N, e.g. TECHNICAL_SOLUTION=85"))?;
    let dim = dim.trim().to_ascii_uppercase().replace('-', "_");
    if !DIMENSIONS.contains(&dim.as_str()) {
        return Err(format!("{s:?}: {dim:?} is not a dimension; expected one of {}", DIMENSIONS.join(", ")));
    }
    let score: u8 = n.trim().parse().map_err(|_| format!("{s:?}: the score {:?} must be a whole number 0..100", n.trim()))?;
    if score > 100 {
        return Err(format!("{s:?}: the score {score} must be 0..100"));
    }
    Ok(DimensionScore { dimension: dim, score: i32::from(score) })
}

/// `SPECIALTY=N`: how many experts of a specialty a meeting needs, 1..15.
pub fn parse_need(s: &str) -> std::result::Result<SpecialtyNeed, String> {
    let (specialty, n) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected SPECIALTY=N, e.g. IT=3"))?;
    let specialty = specialty.trim();
    if specialty.is_empty() {
        return Err(format!("{s:?}: the specialty before '=' is required, e.g. IT=3"));
    }
    let count: i32 = n.trim().parse().map_err(|_| format!("{s:?}: the number of experts {:?} must be a whole number 1..15", n.trim()))?;
    if !(1..=15).contains(&count) {
        return Err(format!("{s:?}: a meeting needs 1..15 experts of a specialty, not {count}"));
    }
    Ok(SpecialtyNeed { specialty: specialty.to_string(), count })
}

/// A role by name, case insensitive.
pub fn parse_role(s: &str) -> std::result::Result<Role, String> {
    Role::parse(s.trim()).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("{s:?} is not a role; expected one of {}", names.join(", "))
    })
}

/// The scores to send: every criterion of the sheet at `all`, or the given ones, each once.
fn scores(given: Vec<CriterionScore>, all: Option<u8>, sheet: Option<&pb::ScoringSheet>) -> Result<Vec<CriterionScore>> {
    if let Some(n) = all {
        let sheet = sheet.ok_or_else(|| CliError::other("no scoring sheet to apply --all to"))?;
        if sheet.criteria.is_empty() {
            return Err(CliError::other("the case's scoring sheet has no criteria"));
        }
        return Ok(sheet.criteria.iter().map(|c| CriterionScore { code: c.code.clone(), score: i32::from(n) }).collect());
    }
    let mut seen = BTreeSet::new();
    for s in &given {
        if !seen.insert(s.code.as_str()) {
            return Err(CliError::usage(format!("criterion {} is scored twice", s.code)));
        }
    }
    Ok(given)
}

/// The dimension scores to send: every dimension at `all`, or the given ones, each dimension
/// exactly once.
fn dimension_scores(given: Vec<DimensionScore>, all: Option<u8>) -> Result<Vec<DimensionScore>> {
    if let Some(n) = all {
        return Ok(DIMENSIONS.iter().map(|d| DimensionScore { dimension: (*d).to_string(), score: i32::from(n) }).collect());
    }
    let mut seen = BTreeSet::new();
    for s in &given {
        if !seen.insert(s.dimension.as_str()) {
            return Err(CliError::usage(format!("dimension {} is scored twice", s.dimension)));
        }
    }
    let missing: Vec<&str> = DIMENSIONS.iter().copied().filter(|d| !seen.contains(d)).collect();
    if !missing.is_empty() {
        return Err(CliError::usage(format!("every dimension is scored (or use --all N); missing: {}", missing.join(", "))));
    }
    Ok(given)
}

/// A meeting's needs, each specialty once.
fn needs(given: &[SpecialtyNeed]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for n in given {
        if !seen.insert(n.specialty.as_str()) {
            return Err(CliError::usage(format!("specialty {} is needed twice: give its total once", n.specialty)));
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ running

/// Both services of the review server (`Review`, `ExpertReview`) over one connection.
async fn clients(ctx: &Ctx) -> Result<(ReviewClient<Authed>, ExpertReviewClient<Authed>)> {
    let ch = ctx.channel_to(&ctx.review_endpoint).await?;
    Ok((ReviewClient::new(ch.clone()), ExpertReviewClient::new(ch)))
}

/// Streams a material: its header, then the file in 64 KiB chunks (as intake's documents).
async fn upload_material(
    ex: &mut ExpertReviewClient<Authed>,
    header: MaterialHeader,
    file: tokio::fs::File,
    path: &std::path::Path,
) -> Result<pb::CaseMaterial> {
    use upload_material_request::Part;
    let (stream, err_rx) = commands::stream_file(UploadMaterialRequest { part: Some(Part::Header(header)) }, file, |b| {
        UploadMaterialRequest { part: Some(Part::Chunk(b)) }
    });
    tokio::select! {
        r = ex.upload_material(stream) => Ok(r?.into_inner()),
        Ok(e) = err_rx => Err(CliError::other(format!("reading {} failed, upload aborted: {e}", path.display()))),
    }
}

/// Runs a `review` command against the service at `ctx.review_endpoint`.
pub async fn run(ctx: &Ctx, cmd: ReviewCmd) -> Result<u8> {
    // Arguments the server would refuse anyway are checked before connecting.
    if let ReviewCmd::Opinion(a) = &cmd
        && a.all.is_none()
    {
        scores(a.scores.clone(), None, None)?;
    }
    if let ReviewCmd::Score(a) = &cmd {
        dimension_scores(a.dims.clone(), a.all)?;
    }
    if let ReviewCmd::Meetings(MeetingsCmd::Create { needs: n, .. }) = &cmd {
        needs(n)?;
    }
    // A file to upload is opened first: one that cannot be read is a usage error.
    let mut upload = match &cmd {
        ReviewCmd::Materials(MaterialsCmd::Upload(a)) => Some(commands::open_upload(&a.file, a.file_name.clone()).await?),
        _ => None,
    };
    let (mut cl, mut ex) = clients(ctx).await?;
    match cmd {
        ReviewCmd::Cases(CasesCmd::List { stage, unit, paging }) => {
            let r = cl
                .list_cases(ListCasesRequest {
                    page_size: paging.page_size,
                    page_token: paging.page_token,
                    stage: stage.map_or(0, Into::into),
                    unit_id: unit,
                })
                .await?
                .into_inner();
            ctx.show(&Page(&r.cases, &r.next_page_token));
        }
        ReviewCmd::Cases(CasesCmd::Get { case_id }) => ctx.show(&cl.get_case(GetCaseRequest { case_id }).await?.into_inner()),
        ReviewCmd::Tasks(TasksCmd::List { case, role, state, paging }) => {
            let r = cl
                .list_tasks(ListTasksRequest {
                    page_size: paging.page_size,
                    page_token: paging.page_token,
                    case_id: case,
                    role: role.map(|r| r.as_str().to_string()).unwrap_or_default(),
                    state: state.map_or(0, Into::into),
                })
                .await?
                .into_inner();
            ctx.show(&Page(&r.tasks, &r.next_page_token));
        }
        ReviewCmd::Tasks(TasksCmd::Claim { task_id, etag, request_id: r }) => {
            ctx.show(&cl.claim_task(ClaimTaskRequest { task_id, etag, request_id: request_id(&r) }).await?.into_inner());
        }
        ReviewCmd::Sheet { case } => ctx.show(&cl.get_scoring_sheet(GetScoringSheetRequest { case_id: case }).await?.into_inner()),
        ReviewCmd::Opinion(a) => {
            let sheet = match a.all {
                Some(_) => Some(cl.get_scoring_sheet(GetScoringSheetRequest { case_id: a.case_id.clone() }).await?.into_inner()),
                None => None,
            };
            let scores = scores(a.scores, a.all, sheet.as_ref())?;
            let k = cl
                .submit_preliminary_opinion(SubmitPreliminaryOpinionRequest {
                    case_id: a.case_id,
                    task_id: a.task,
                    etag: a.etag,
                    scores,
                    passed: a.pass,
                    opinion: a.opinion,
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ReviewCmd::Decide(a) => {
            let k = cl
                .decide_preliminary(DecidePreliminaryRequest {
                    case_id: a.case_id,
                    etag: a.etag,
                    passed: a.pass,
                    comment: a.comment,
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ReviewCmd::Return { case_id, etag, comment, request_id: r } => {
            let k =
                cl.return_for_revision(ReturnForRevisionRequest { case_id, etag, comment, request_id: request_id(&r) }).await?.into_inner();
            ctx.show(&k);
        }
        ReviewCmd::Resubmit { case_id, etag, comment, request_id: r } => {
            let k = cl.resubmit_case(ResubmitCaseRequest { case_id, etag, comment, request_id: request_id(&r) }).await?.into_inner();
            ctx.show(&k);
        }
        ReviewCmd::Withdraw { case_id, etag, reason, request_id: r } => {
            let k = cl.withdraw_case(WithdrawCaseRequest { case_id, etag, reason, request_id: request_id(&r) }).await?.into_inner();
            ctx.show(&k);
        }
        ReviewCmd::Approve(a) => {
            let k = cl
                .issue_approval(IssueApprovalRequest {
                    case_id: a.case_id,
                    etag: a.etag,
                    document_number: a.number,
                    issued_on: Some(a.date),
                    budget_fen: a.budget_fen,
                    scope: a.scope,
                    planned_construction_months: a.months,
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ReviewCmd::Approval { project_id } => ctx.show(&cl.get_approval(GetApprovalRequest { project_id }).await?.into_inner()),
        ReviewCmd::Experts(ExpertsCmd::Create { expert_id, name, specialties, affiliation, request_id: r }) => {
            let e = ex
                .create_expert(CreateExpertRequest { request_id: request_id(&r), expert_id, name, specialties, affiliation })
                .await?
                .into_inner();
            ctx.show(&e);
        }
        ReviewCmd::Experts(ExpertsCmd::List { specialty, paging }) => {
            let r = ex
                .list_experts(ListExpertsRequest { page_size: paging.page_size, page_token: paging.page_token, specialty })
                .await?
                .into_inner();
            ctx.show(&Page(&r.experts, &r.next_page_token));
        }
        ReviewCmd::Experts(ExpertsCmd::Availability(a)) => {
            let e = ex
                .set_expert_availability(SetExpertAvailabilityRequest { expert_id: a.expert_id, etag: a.etag, available: a.available })
                .await?
                .into_inner();
            ctx.show(&e);
        }
        ReviewCmd::Materials(MaterialsCmd::Upload(a)) => {
            let (file, file_name) = upload.take().ok_or_else(|| CliError::other("the file to upload was not opened"))?;
            let header = MaterialHeader { case_id: a.case_id, kind: a.kind.into(), file_name, request_id: request_id(&a.request_id) };
            ctx.show(&upload_material(&mut ex, header, file, &a.file).await?);
        }
        ReviewCmd::Meetings(MeetingsCmd::Create { date, needs, request_id: r }) => {
            let m = ex
                .create_meeting(CreateMeetingRequest { request_id: request_id(&r), held_on: Some(date), specialties: needs })
                .await?
                .into_inner();
            ctx.show(&m);
        }
        ReviewCmd::Meetings(MeetingsCmd::Get { meeting_id }) => {
            ctx.show(&ex.get_meeting(GetMeetingRequest { meeting_id }).await?.into_inner())
        }
        ReviewCmd::Meetings(MeetingsCmd::Schedule { meeting_id, etag, case_id }) => {
            ctx.show(&ex.schedule_case(ScheduleCaseRequest { meeting_id, etag, case_id }).await?.into_inner());
        }
        ReviewCmd::Meetings(MeetingsCmd::Draw { meeting_id, etag, seed }) => {
            ctx.show(&ex.draw_panel(DrawPanelRequest { meeting_id, etag, seed: seed.unwrap_or(0) }).await?.into_inner());
        }
        ReviewCmd::Score(a) => {
            let m = ex
                .submit_expert_score(SubmitExpertScoreRequest {
                    meeting_id: a.meeting_id,
                    case_id: a.case_id,
                    scores: dimension_scores(a.dims, a.all)?,
                    opinion: a.opinion,
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&m);
        }
        ReviewCmd::Conclude(a) => {
            let k = ex
                .conclude_expert_review(ConcludeExpertReviewRequest {
                    case_id: a.case_id,
                    etag: a.etag,
                    passed: a.pass,
                    recommended_budget_fen: a.budget_fen,
                    opinion: a.opinion,
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ReviewCmd::OpinionOf { project_id } => {
            ctx.show(&ex.get_expert_opinion(GetExpertOpinionRequest { project_id }).await?.into_inner());
        }
        ReviewCmd::RecheckOpinion(a) => {
            let k = cl
                .submit_recheck_opinion(SubmitRecheckOpinionRequest {
                    case_id: a.case_id,
                    task_id: a.task,
                    etag: a.etag,
                    passed: a.pass,
                    opinion: a.opinion,
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ReviewCmd::RecheckConclude(a) => {
            let k = cl
                .conclude_recheck(ConcludeRecheckRequest {
                    case_id: a.case_id,
                    etag: a.etag,
                    passed: a.pass,
                    comment: a.comment,
                    priority_rank: a.priority.unwrap_or(0),
                    fiscal_year: a.fiscal_year.unwrap_or(0),
                    amount_fen: a.amount_fen.unwrap_or(0),
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ReviewCmd::JointMeeting(a) => {
            let k = cl
                .record_joint_meeting(RecordJointMeetingRequest {
                    case_id: a.case_id,
                    etag: a.etag,
                    passed: a.pass,
                    meeting_ref: a.meeting_ref,
                    held_on: Some(a.date),
                    comment: a.comment,
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ReviewCmd::FundsSecured { case_id, etag, evidence, comment, request_id: r } => {
            let k = cl
                .record_funds_secured(RecordFundsSecuredRequest {
                    case_id,
                    etag,
                    evidence_document_ids: evidence,
                    comment,
                    request_id: request_id(&r),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ReviewCmd::Change(ChangeCmd::Request { case_id, etag, new_budget_fen, reason, request_id: r }) => {
            let k = cl
                .request_change(RequestChangeRequest { case_id, etag, new_budget_fen, reason, request_id: request_id(&r) })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ReviewCmd::Change(ChangeCmd::Decide(a)) => {
            let k = cl
                .decide_change(DecideChangeRequest {
                    case_id: a.case_id,
                    etag: a.etag,
                    change_id: a.change_id,
                    stage: a.stage.into(),
                    passed: a.pass,
                    comment: a.comment,
                    request_id: request_id(&a.request_id),
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
        Cli::try_parse_from(["egovctl", "review"].into_iter().chain(args.iter().copied()))
    }

    fn review(args: &[&str]) -> ReviewCmd {
        match parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}")).command {
            Command::Review(c) => c,
            other => panic!("not a review command: {other:?}"),
        }
    }

    #[test]
    fn scores_parse() {
        assert_eq!(parse_score("NECESSITY=85"), Ok(CriterionScore { code: "NECESSITY".into(), score: 85 }));
        assert_eq!(parse_score(" budget = 0 "), Ok(CriterionScore { code: "BUDGET".into(), score: 0 }));
        assert_eq!(parse_score("SECURITY=100").unwrap().score, 100);
        for bad in ["NECESSITY", "=80", "NECESSITY=", "NECESSITY=101", "NECESSITY=-1", "NECESSITY=8.5", "TWO WORDS=80", "X=eighty"] {
            assert!(parse_score(bad).is_err(), "{bad} should be refused");
        }
        assert!(parse_score("NECESSITY=101").unwrap_err().contains("0..100"));
    }

    #[test]
    fn roles_parse() {
        assert_eq!(parse_role("finance"), Ok(Role::Finance));
        assert!(parse_role("KING").unwrap_err().contains("DRC"));
    }

    #[test]
    fn opinion_needs_scores_or_all_and_a_verdict() {
        let base = ["opinion", "C1", "--task", "T1", "--etag", "1", "--opinion", "同意"];
        let with = |extra: &[&str]| parse(&base.iter().copied().chain(extra.iter().copied()).collect::<Vec<_>>());
        assert!(with(&["--pass"]).is_err(), "no scores");
        assert!(with(&["--all", "80"]).is_err(), "no verdict");
        assert!(with(&["--all", "80", "--pass", "--fail"]).is_err(), "two verdicts");
        assert!(with(&["--all", "101", "--pass"]).is_err());
        assert!(with(&["--all", "80", "--score", "BUDGET=70", "--pass"]).is_err(), "--all or --score, not both");
        assert!(with(&["--score", "BUDGET=seventy", "--pass"]).is_err());
        let ReviewCmd::Opinion(a) = review(&[&base[..], &["--score", "NECESSITY=85", "--score", "budget=70", "--fail"]].concat()) else {
            panic!()
        };
        assert_eq!(
            a.scores,
            vec![CriterionScore { code: "NECESSITY".into(), score: 85 }, CriterionScore { code: "BUDGET".into(), score: 70 }]
        );
        assert!(a.fail && !a.pass && a.all.is_none());
        let ReviewCmd::Opinion(a) = review(&[&base[..], &["--all", "80", "--pass"]].concat()) else { panic!() };
        assert_eq!(a.all, Some(80));
    }

    #[test]
    fn scores_are_each_given_once_or_all_from_the_sheet() {
        let s = |c: &str, n| CriterionScore { code: c.into(), score: n };
        assert!(matches!(scores(vec![s("A", 1), s("A", 2)], None, None), Err(CliError::Usage(_))));
        assert_eq!(scores(vec![s("A", 1)], None, None).unwrap(), vec![s("A", 1)]);
        let sheet = pb::ScoringSheet {
            policy_version: "v".into(),
            criteria: ["A", "B"].iter().map(|c| pb::Criterion { code: c.to_string(), title: String::new(), weight: 50 }).collect(),
            pass_score: 60,
        };
        assert_eq!(scores(vec![], Some(80), Some(&sheet)).unwrap(), vec![s("A", 80), s("B", 80)]);
    }

    #[test]
    fn other_review_commands_parse() {
        let ReviewCmd::Cases(CasesCmd::List { stage, unit, .. }) =
            review(&["cases", "list", "--stage", "expert_review", "--unit", "U-CIVIL"])
        else {
            panic!()
        };
        assert_eq!((stage, unit.as_str()), (Some(CaseStage::ExpertReview), "U-CIVIL"));
        assert!(parse(&["cases", "list", "--stage", "SOMEWHERE"]).is_err());
        let ReviewCmd::Tasks(TasksCmd::List { role, state, case, .. }) =
            review(&["tasks", "list", "--case", "C1", "--role", "cac", "--state", "open"])
        else {
            panic!()
        };
        assert_eq!((role, state, case.as_str()), (Some(Role::Cac), Some(TaskState::Open), "C1"));
        assert!(parse(&["tasks", "list", "--role", "KING"]).is_err());
        assert!(parse(&["tasks", "claim", "T1"]).is_err(), "claim needs the etag");
        assert!(parse(&["decide", "C1", "--etag", "3", "--comment", "x"]).is_err(), "decide needs --pass or --fail");
        assert!(parse(&["decide", "C1", "--etag", "3", "--pass"]).is_err(), "decide needs --comment");
        let ReviewCmd::Decide(d) = review(&["decide", "C1", "--etag", "3", "--fail", "--comment", "不通过", "--request-id", "r-1"])
        else {
            panic!()
        };
        assert!(!d.pass && d.request_id.request_id.as_deref() == Some("r-1"));
        assert!(parse(&["return", "C1", "--etag", "3"]).is_err(), "return needs --comment");
        assert!(parse(&["resubmit", "C1", "--etag", "3"]).is_ok());
        assert!(parse(&["withdraw", "C1", "--etag", "3"]).is_err(), "withdraw needs --reason");
        assert!(parse(&["sheet"]).is_ok());
        assert!(parse(&["approval", "P1"]).is_ok());
    }

    #[test]
    fn approve_parses_date_budget_and_months() {
        let base = ["approve", "C1", "--etag", "2", "--number", "上数〔2027〕12号", "--scope", "全部建设内容"];
        let with = |extra: &[&str]| parse(&base.iter().copied().chain(extra.iter().copied()).collect::<Vec<_>>());
        let ReviewCmd::Approve(a) = review(&[&base[..], &["--date", "2026-11-24", "--budget-fen", "120000000", "--months", "10"]].concat())
        else {
            panic!()
        };
        assert_eq!(a.date, CivilDate { year: 2026, month: 11, day: 24 });
        assert_eq!((a.budget_fen, a.months, a.number.as_str()), (120_000_000, 10, "上数〔2027〕12号"));
        assert!(with(&["--date", "2026-02-30", "--budget-fen", "1", "--months", "10"]).is_err());
        assert!(with(&["--date", "2026-11-24", "--budget-fen", "0", "--months", "10"]).is_err());
        assert!(with(&["--date", "2026-11-24", "--budget-fen", "1", "--months", "121"]).is_err());
        assert!(with(&["--date", "2026-11-24", "--budget-fen", "1"]).is_err(), "months are required");
    }

    /// `base` followed by `extra`, parsed.
    fn parse_with(base: &[&str], extra: &[&str]) -> std::result::Result<Cli, clap::Error> {
        parse(&[base, extra].concat())
    }

    #[test]
    fn dimension_scores_and_needs_parse() {
        let d = |dim: &str, n| DimensionScore { dimension: dim.into(), score: n };
        assert_eq!(parse_dimension_score("TECHNICAL_SOLUTION=85"), Ok(d("TECHNICAL_SOLUTION", 85)));
        assert_eq!(parse_dimension_score(" data-sharing = 0 "), Ok(d("DATA_SHARING", 0)));
        assert_eq!(parse_dimension_score("cost_estimate=100").unwrap().score, 100);
        for bad in ["TECHNICAL_SOLUTION", "=80", "NECESSITY=80", "COST_ESTIMATE=101", "COST_ESTIMATE=-1", "COST_ESTIMATE=8.5"] {
            assert!(parse_dimension_score(bad).is_err(), "{bad} should be refused");
        }
        assert!(parse_dimension_score("NECESSITY=80").unwrap_err().contains("RESOURCE_CONSOLIDATION, TECHNICAL_SOLUTION"));

        assert_eq!(parse_need("IT=3"), Ok(SpecialtyNeed { specialty: "IT".into(), count: 3 }));
        assert_eq!(parse_need(" 信息安全 = 15").unwrap().specialty, "信息安全");
        for bad in ["IT", "=3", "IT=0", "IT=16", "IT=three", "IT=-1"] {
            assert!(parse_need(bad).is_err(), "{bad} should be refused");
        }
        assert!(parse_need("IT=16").unwrap_err().contains("1..15"));
    }

    #[test]
    fn every_dimension_is_scored_once_or_all_at_once() {
        let d = |dim: &str, n| DimensionScore { dimension: dim.into(), score: n };
        let all = dimension_scores(vec![], Some(80)).unwrap();
        assert_eq!(all.iter().map(|s| s.dimension.as_str()).collect::<Vec<_>>(), DIMENSIONS);
        assert!(all.iter().all(|s| s.score == 80));
        let five: Vec<DimensionScore> = DIMENSIONS.iter().map(|x| d(x, 70)).collect();
        assert_eq!(dimension_scores(five.clone(), None).unwrap(), five);
        let e = dimension_scores(five[..3].to_vec(), None).unwrap_err();
        assert!(matches!(&e, CliError::Usage(m) if m.contains("missing: SECURITY_ASSURANCE, COST_ESTIMATE")), "{e:?}");
        let mut twice = five.clone();
        twice.push(d("DATA_SHARING", 1));
        assert!(matches!(dimension_scores(twice, None), Err(CliError::Usage(m)) if m.contains("DATA_SHARING is scored twice")));
        let n = |s: &str, c| SpecialtyNeed { specialty: s.into(), count: c };
        assert!(needs(&[n("IT", 2), n("SECURITY", 1)]).is_ok());
        assert!(matches!(needs(&[n("IT", 2), n("IT", 1)]), Err(CliError::Usage(_))));
    }

    #[test]
    fn experts_commands_parse() {
        let ReviewCmd::Experts(ExpertsCmd::Create { expert_id, name, specialties, affiliation, .. }) = review(&[
            "experts",
            "create",
            "e2",
            "--name",
            "王工",
            "--specialty",
            "IT",
            "--specialty",
            "SECURITY",
            "--affiliation",
            "浙江大学",
        ]) else {
            panic!()
        };
        assert_eq!((expert_id.as_str(), name.as_str(), affiliation.as_str()), ("e2", "王工", "浙江大学"));
        assert_eq!(specialties, vec!["IT", "SECURITY"]);
        assert!(parse(&["experts", "create", "e2", "--name", "王工", "--affiliation", "浙大"]).is_err(), "a specialty is required");
        assert!(parse(&["experts", "create", "e2", "--name", "王工", "--specialty", "IT"]).is_err(), "the affiliation is required");
        let ReviewCmd::Experts(ExpertsCmd::List { specialty, .. }) = review(&["experts", "list", "--specialty", "IT"]) else { panic!() };
        assert_eq!(specialty, "IT");
        let ReviewCmd::Experts(ExpertsCmd::Availability(a)) = review(&["experts", "availability", "e2", "--etag", "3", "--unavailable"])
        else {
            panic!()
        };
        assert!(!a.available && a.unavailable && a.etag == "3");
        assert!(parse(&["experts", "availability", "e2", "--etag", "3"]).is_err(), "--available or --unavailable");
        assert!(parse(&["experts", "availability", "e2", "--etag", "3", "--available", "--unavailable"]).is_err());
        assert!(parse(&["experts", "availability", "e2", "--available"]).is_err(), "the etag is required");
    }

    #[test]
    fn materials_and_meetings_parse() {
        let ReviewCmd::Materials(MaterialsCmd::Upload(a)) = review(&["materials", "upload", "C1", "--kind", "revision-list", "清单.docx"])
        else {
            panic!()
        };
        assert_eq!((a.case_id.as_str(), a.kind, a.file.to_str(), a.file_name), ("C1", MaterialKind::RevisionList, Some("清单.docx"), None));
        assert!(parse(&["materials", "upload", "C1", "--kind", "APPLICATION_FORM", "x.pdf"]).is_err(), "not a material kind");
        assert!(parse(&["materials", "upload", "C1", "--kind", "PRESENTATION"]).is_err(), "the file is required");

        let ReviewCmd::Meetings(MeetingsCmd::Create { date, needs, .. }) =
            review(&["meetings", "create", "--date", "2026-11-24", "--need", "IT=3", "--need", "SECURITY=1"])
        else {
            panic!()
        };
        assert_eq!(date, CivilDate { year: 2026, month: 11, day: 24 });
        assert_eq!(
            needs,
            vec![SpecialtyNeed { specialty: "IT".into(), count: 3 }, SpecialtyNeed { specialty: "SECURITY".into(), count: 1 }]
        );
        assert!(parse(&["meetings", "create", "--date", "2026-11-24"]).is_err(), "a need is required");
        assert!(parse(&["meetings", "create", "--need", "IT=3"]).is_err(), "the date is required");
        assert!(parse(&["meetings", "create", "--date", "2026-11-31", "--need", "IT=3"]).is_err());
        assert!(parse(&["meetings", "get", "M1"]).is_ok());
        let ReviewCmd::Meetings(MeetingsCmd::Schedule { meeting_id, etag, case_id }) =
            review(&["meetings", "schedule", "M1", "--etag", "1", "--case", "C1"])
        else {
            panic!()
        };
        assert_eq!((meeting_id.as_str(), etag.as_str(), case_id.as_str()), ("M1", "1", "C1"));
        assert!(parse(&["meetings", "schedule", "M1", "--etag", "1"]).is_err(), "the case is required");
        let ReviewCmd::Meetings(MeetingsCmd::Draw { seed, .. }) = review(&["meetings", "draw", "M1", "--etag", "2"]) else { panic!() };
        assert_eq!(seed, None, "a random seed by default");
        let ReviewCmd::Meetings(MeetingsCmd::Draw { seed, .. }) =
            review(&["meetings", "draw", "M1", "--etag", "2", "--seed", "18446744073709551615"])
        else {
            panic!()
        };
        assert_eq!(seed, Some(u64::MAX));
        assert!(parse(&["meetings", "draw", "M1", "--etag", "2", "--seed", "0"]).is_err(), "0 is no seed: omit --seed");
        assert!(parse(&["meetings", "draw", "M1", "--etag", "2", "--seed", "-1"]).is_err());
    }

    #[test]
    fn score_conclude_and_opinion_of_parse() {
        let base = ["score", "M1", "--case", "C1", "--opinion", "方案可行"];
        let ReviewCmd::Score(a) = review(&[&base[..], &["--all", "80"]].concat()) else { panic!() };
        assert_eq!((a.meeting_id.as_str(), a.case_id.as_str(), a.all, a.dims.len()), ("M1", "C1", Some(80), 0));
        let ReviewCmd::Score(a) = review(&[&base[..], &["--dim", "technical-solution=85", "--dim", "COST_ESTIMATE=60"]].concat()) else {
            panic!()
        };
        assert_eq!(a.dims[0], DimensionScore { dimension: "TECHNICAL_SOLUTION".into(), score: 85 });
        assert!(parse(&base).is_err(), "--dim or --all");
        assert!(parse_with(&base, &["--all", "80", "--dim", "DATA_SHARING=1"]).is_err(), "not both");
        assert!(parse_with(&base, &["--all", "101"]).is_err());
        assert!(parse_with(&base, &["--dim", "NECESSITY=80"]).is_err());
        assert!(parse(&["score", "M1", "--all", "80", "--opinion", "x"]).is_err(), "the case is required");
        assert!(parse(&["score", "M1", "--case", "C1", "--all", "80"]).is_err(), "the opinion is required");

        let base = ["conclude", "C1", "--etag", "5", "--opinion", "建议压缩投资"];
        let ReviewCmd::Conclude(a) = review(&[&base[..], &["--pass", "--budget-fen", "108000000"]].concat()) else { panic!() };
        assert!(a.pass && !a.fail && a.budget_fen == 108_000_000);
        assert!(parse_with(&base, &["--budget-fen", "1"]).is_err(), "--pass or --fail");
        assert!(parse_with(&base, &["--pass"]).is_err(), "the budget is required");
        assert!(parse_with(&base, &["--pass", "--budget-fen", "0"]).is_err());
        assert!(parse_with(&base, &["--pass", "--fail", "--budget-fen", "1"]).is_err());
        let ReviewCmd::OpinionOf { project_id } = review(&["opinion-of", "P1"]) else { panic!() };
        assert_eq!(project_id, "P1");
        assert!(parse(&["opinion-of"]).is_err());
    }

    #[test]
    fn recheck_and_joint_meeting_parse() {
        let base = ["recheck-opinion", "C1", "--task", "T1", "--etag", "1", "--opinion", "与专家意见一致"];
        let ReviewCmd::RecheckOpinion(a) = review(&[&base[..], &["--pass"]].concat()) else { panic!() };
        assert!(a.pass && a.task == "T1");
        assert!(parse(&base).is_err(), "--pass or --fail");
        assert!(parse(&["recheck-opinion", "C1", "--etag", "1", "--opinion", "x", "--pass"]).is_err(), "the task is required");

        let base = ["recheck-conclude", "C1", "--etag", "7", "--comment", "复核通过"];
        let ReviewCmd::RecheckConclude(a) =
            review(&[&base[..], &["--pass", "--priority", "1", "--fiscal-year", "2027", "--amount-fen", "108000000"]].concat())
        else {
            panic!()
        };
        assert_eq!((a.priority, a.fiscal_year, a.amount_fen), (Some(1), Some(2027), Some(108_000_000)));
        assert!(parse_with(&base, &["--pass", "--fiscal-year", "2027", "--amount-fen", "1"]).is_err(), "a pass needs the priority");
        assert!(parse_with(&base, &["--pass", "--priority", "1", "--amount-fen", "1"]).is_err(), "a pass needs the fiscal year");
        assert!(parse_with(&base, &["--pass", "--priority", "1", "--fiscal-year", "2027"]).is_err(), "a pass needs the amount");
        assert!(parse_with(&base, &["--pass", "--priority", "0", "--fiscal-year", "2027", "--amount-fen", "1"]).is_err());
        let ReviewCmd::RecheckConclude(a) = review(&[&base[..], &["--fail"]].concat()) else { panic!() };
        assert!(a.fail && a.priority.is_none() && a.amount_fen.is_none());
        assert!(parse_with(&base, &["--fail", "--amount-fen", "1"]).is_err(), "a fail arranges no funds");
        assert!(parse(&["recheck-conclude", "C1", "--etag", "7", "--fail"]).is_err(), "the comment is required");

        let base = ["joint-meeting", "C1", "--etag", "8", "--meeting-ref", "2026年第3次规划土地数字管理联席会议", "--date", "2026-11-24"];
        let ReviewCmd::JointMeeting(a) = review(&[&base[..], &["--pass"]].concat()) else { panic!() };
        assert!(a.pass && a.comment.is_empty() && a.date == CivilDate { year: 2026, month: 11, day: 24 });
        assert!(parse_with(&base, &["--fail"]).is_err(), "a fail says why");
        let ReviewCmd::JointMeeting(a) = review(&[&base[..], &["--fail", "--comment", "与已建系统重复"]].concat()) else { panic!() };
        assert!(a.fail && a.comment == "与已建系统重复");
        assert!(parse(&["joint-meeting", "C1", "--etag", "8", "--date", "2026-11-24", "--pass"]).is_err(), "the reference is required");
    }

    #[test]
    fn funds_and_changes_parse() {
        let ReviewCmd::FundsSecured { evidence, comment, .. } =
            review(&["funds-secured", "C1", "--etag", "9", "--evidence", "D1", "--evidence", "D2"])
        else {
            panic!()
        };
        assert_eq!((evidence, comment.as_str()), (vec!["D1".to_string(), "D2".to_string()], ""));
        assert!(parse(&["funds-secured", "C1", "--etag", "9"]).is_err(), "evidence is required");

        let ReviewCmd::Change(ChangeCmd::Request { new_budget_fen, reason, .. }) =
            review(&["change", "request", "C1", "--etag", "9", "--new-budget-fen", "90000000", "--reason", "需求调整"])
        else {
            panic!()
        };
        assert_eq!((new_budget_fen, reason.as_str()), (90_000_000, "需求调整"));
        assert!(parse(&["change", "request", "C1", "--etag", "9", "--new-budget-fen", "0", "--reason", "x"]).is_err());
        assert!(parse(&["change", "request", "C1", "--etag", "9", "--new-budget-fen", "1"]).is_err(), "the reason is required");

        let base = ["change", "decide", "C1", "--etag", "10", "--change", "X1", "--comment", "同意"];
        let ReviewCmd::Change(ChangeCmd::Decide(a)) = review(&[&base[..], &["--stage", "departmental", "--pass"]].concat()) else {
            panic!()
        };
        assert_eq!((a.stage, a.pass, a.change_id.as_str()), (ChangeReviewStage::Departmental, true, "X1"));
        let ReviewCmd::Change(ChangeCmd::Decide(a)) = review(&[&base[..], &["--stage", "CHANGE_REVIEW_STAGE_EXPERT", "--fail"]].concat())
        else {
            panic!()
        };
        assert_eq!((a.stage, a.fail), (ChangeReviewStage::Expert, true));
        assert!(parse_with(&base, &["--stage", "FINAL", "--pass"]).is_err());
        assert!(parse_with(&base, &["--pass"]).is_err(), "the stage is required");
        assert!(parse_with(&base, &["--stage", "EXPERT"]).is_err(), "--pass or --fail");
    }

    #[test]
    fn review_endpoint_flag_and_default() {
        let cli = parse(&["sheet"]).unwrap();
        // The default unless EGOVCTL_REVIEW_ENDPOINT is set in the environment of the test run.
        if std::env::var_os("EGOVCTL_REVIEW_ENDPOINT").is_none() {
            assert_eq!(cli.review_endpoint, "http://127.0.0.1:50052");
        }
        let cli = Cli::try_parse_from(["egovctl", "review", "--review-endpoint", "http://10.0.0.5:50052", "sheet"]).unwrap();
        assert_eq!(cli.review_endpoint, "http://10.0.0.5:50052");
    }
}
