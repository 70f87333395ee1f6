//! `egovctl procurement …`: the procurement service (采购建设, `egov.procurement.v1.Procurement`,
//! port 50053), called at `--procurement-endpoint` / `EGOVCTL_PROCUREMENT_ENDPOINT`.
//!
//! One subcommand per RPC, in the order a project goes: cases (opened from approvals, R-P1),
//! the procurement record (R-P3, R-P4), the contract filing (R-P2, R-P5, R-P9; its terms from a
//! JSON file, `terms.rs`), the payment plan, stage conditions and payment filings (R-P6), monthly
//! progress (R-P7), DRB's random inspections (R-P7), the overrun explanation (R-P8), completion
//! of construction, revocation or termination (R-P10) and the OCDS export. Each command's
//! arguments sit next to its call; `procurement/render.rs` prints the answers, in the shapes of
//! `crate::render` and the review commands.
//!
//! Money is integer fen on the command line as on the wire (`--amount-fen`), as in the review
//! commands; dates are `YYYY-MM-DD`, months `YYYY-MM`. Adding an RPC: a variant with its
//! arguments in [`ProcurementCmd`], its arm in [`run`], and an [`Output`](crate::render::Output)
//! in `render` when it answers with a message not printed yet (for a list,
//! [`Listed`](crate::render::Listed) on its items, shown as a [`Page`]).

mod render;
pub mod terms;

use std::collections::BTreeSet;

use clap::{Args, Subcommand};
use egov_proto::{
    common::CivilDate,
    procurement::{
        CaseState, DeclareConstructionCompleteRequest, DrawInspectionsRequest, ExplainOverrunRequest, ExportOcdsRequest,
        FileContractRequest, FilePaymentRequest, GetCaseRequest, GetInspectionDrawRequest, ListCasesRequest, ListInspectionDrawsRequest,
        MarkStageConditionMetRequest, PaymentStageTerms, ProcurementRecord, RecordProcurementRequest, ReportProgressRequest, SecurityFlags,
        SetPaymentPlanRequest, Supervision, TerminateProjectRequest, TerminationGround, YearMonth, procurement_client::ProcurementClient,
    },
};

use crate::{
    cli::{Paging, RequestId, parse_date},
    client::CliError,
    commands::{Ctx, Result, request_id},
    enums,
    render::Page,
};

// ------------------------------------------------------------------ command line

#[derive(Debug, Subcommand)]
pub enum ProcurementCmd {
    /// Procurement cases (采购建设案件): one per approved project, opened by review's approval;
    /// its id is the project's.
    #[command(subcommand)]
    Cases(CasesCmd),
    /// The lead unit records the completed procurement (采购完成, R-P3, R-P4): the R-P1 deadline
    /// stops, and the budget can no longer change (R-R7).
    Record(RecordArgs),
    /// The lead unit files the signed contract (合同备案, R-P2, R-P5, R-P9); construction starts.
    /// Filed after the deadline it is accepted and marked late.
    FileContract(FileContractArgs),
    /// The lead unit sets the contract's payment stages (分期付款, R-P6), ratios summing to 100 %,
    /// while nothing is paid yet.
    PaymentPlan(PaymentPlanArgs),
    /// The lead unit or DRB records that a stage's payment condition is met, with its evidence.
    ConditionMet {
        /// The project (its id is the case id).
        project_id: String,
        /// The case's etag.
        #[arg(long)]
        etag: String,
        /// The payment stage (as set by `payment-plan`).
        #[arg(long)]
        stage: String,
        /// What shows the condition is met, e.g. the initial-acceptance report number.
        #[arg(long)]
        evidence: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// The lead unit files a fund payment (资金支付报备, R-P6): a stage whose condition is met,
    /// the total never above the contract amount.
    FilePayment {
        /// The project (its id is the case id).
        project_id: String,
        /// The case's etag.
        #[arg(long)]
        etag: String,
        /// The payment stage paid.
        #[arg(long)]
        stage: String,
        /// The payment in fen (1 yuan = 100 fen).
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
        amount_fen: i64,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// The lead unit files a month's progress report (月度进展, R-P7), due by the policy's day of
    /// that month (the 20th); after it, accepted and marked late.
    ReportProgress(ReportProgressArgs),
    /// DRB's random inspections (抽查, R-P7) of the projects under construction.
    #[command(subcommand)]
    Inspections(InspectionsCmd),
    /// The lead unit files its explanation (情况说明) of running past the contract period (R-P8).
    ExplainOverrun {
        /// The project (its id is the case id).
        project_id: String,
        /// The case's etag.
        #[arg(long)]
        etag: String,
        /// The explanation to DRB.
        #[arg(long)]
        explanation: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// The lead unit declares construction complete (建设完成); acceptance opens.
    Complete(CompleteArgs),
    /// Revokes (撤销, before a contract) or terminates (终止, after) the project under R-P10; it ends.
    Terminate(TerminateArgs),
    /// The project's procurement, contract, milestones and payments as an Open Contracting Data
    /// Standard 1.1 release package: the JSON, as the service produces it.
    Ocds {
        /// The project.
        project_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CasesCmd {
    /// Cases, oldest first; UNIT sees its own only.
    List {
        /// PROCURING, PROCURED, DEADLINE_MISSED, CANCELLED, CONSTRUCTION,
        /// CONSTRUCTION_COMPLETED or TERMINATED.
        #[arg(long, value_parser = enums::arg::<CaseState>)]
        state: Option<CaseState>,
        /// Only cases of this lead unit.
        #[arg(long, default_value = "")]
        unit: String,
        #[command(flatten)]
        paging: Paging,
    },
    Get {
        /// The project (its id is the case id).
        project_id: String,
        /// Print only the filed contract's terms, as a terms file for `file-contract --terms`.
        #[arg(long)]
        as_terms: bool,
    },
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The project (its id is the case id).
    pub project_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// GOVERNMENT_PROCUREMENT (政府采购) or SMALL_PUBLIC_RESOURCE_TRADING (小额公共资源交易), R-P4.
    #[arg(long, value_parser = parse_channel)]
    pub channel: String,
    /// The procurement method, e.g. 公开招标, 竞争性磋商.
    #[arg(long)]
    pub method: String,
    /// The supplier's name.
    #[arg(long)]
    pub supplier: String,
    /// The supplier's unified social credit code (统一社会信用代码, 18 characters, GB 32100).
    #[arg(long)]
    pub supplier_credit_code: String,
    /// The contract amount in fen, within the approved budget.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    pub amount_fen: i64,
    /// The unit's implementing body (实施主体).
    #[arg(long)]
    pub implementing_body: String,
    /// The person responsible (项目负责人).
    #[arg(long)]
    pub responsible_person: String,
    /// The day procurement completed, YYYY-MM-DD: from the approval to today.
    #[arg(long, value_parser = parse_date)]
    pub completed_on: CivilDate,
    /// The engineering supervisor's credit code (监理, R-P3: required for GOVERNMENT_PROCUREMENT).
    #[arg(long, requires = "supervision_fee_fen")]
    pub supervision_credit_code: Option<String>,
    /// The supervision fee in fen, within the total investment.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..), requires = "supervision_credit_code")]
    pub supervision_fee_fen: Option<i64>,
    /// The supervision was procured separately from the main contract (单独采购, R-P3).
    #[arg(long, requires = "supervision_credit_code")]
    pub supervision_separately_procured: bool,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
pub struct FileContractArgs {
    /// The project (its id is the case id).
    pub project_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// JSON file of the contract's terms (see crates/egovctl/samples/contract-terms.json); `-`
    /// reads standard input. A clause left out is sent as not stated (a missing R-P2 item).
    #[arg(long)]
    pub terms: String,
    /// The day the contract was signed (合同签订日期), YYYY-MM-DD: R-P5's working days count from it.
    #[arg(long, value_parser = parse_date)]
    pub signed_on: CivilDate,
    /// The filing date, YYYY-MM-DD: not before signing, not after today.
    #[arg(long, value_parser = parse_date)]
    pub filed_on: CivilDate,
    /// 等保 level as graded (定级, R-P9), 1..5; 3 and above is assessed every year.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=5))]
    pub protection_level: i32,
    /// An important information system (重要信息系统, R-P9): commercial cryptography assessment (密评).
    #[arg(long)]
    pub important_system: bool,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
pub struct PaymentPlanArgs {
    /// The project (its id is the case id).
    pub project_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// One stage as ID=RATIO:CONDITION, the ratio in percent (30, 30%, 12.5%) or basis points
    /// (3000bp), e.g. `signing=30%:合同签订`; repeat for each stage, in payment order.
    #[arg(long = "stage", value_name = "ID=RATIO:CONDITION", value_parser = parse_stage, required = true)]
    pub stages: Vec<PaymentStageTerms>,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
pub struct ReportProgressArgs {
    /// The project (its id is the case id).
    pub project_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// The month reported on, YYYY-MM: from the case's first report month to the current month.
    #[arg(long, value_parser = parse_month)]
    pub month: YearMonth,
    /// How far construction is, 0..100 (percent).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub percent: u32,
    /// What was done this month.
    #[arg(long)]
    pub summary: String,
    /// Problems met, if any.
    #[arg(long, default_value = "")]
    pub issues: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Subcommand)]
pub enum InspectionsCmd {
    /// DRB draws projects under construction at random for inspection; the seed is recorded, and
    /// the same pool and seed draw the same projects. A retry with the same --request-id returns
    /// the same draw.
    Draw {
        /// How many projects to draw; a smaller pool is drawn whole.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        count: u32,
        /// Draw with this seed (to reproduce a draw); by default one is generated.
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        request_id: RequestId,
    },
    /// A draw: its seed, pool and the projects drawn.
    Get {
        /// The draw.
        draw_id: String,
    },
    /// The draws, newest first as the service orders them.
    List {
        #[command(flatten)]
        paging: Paging,
    },
}

#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The project (its id is the case id).
    pub project_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// The day construction was completed, YYYY-MM-DD: not after today, not before signing.
    #[arg(long, value_parser = parse_date)]
    pub completed_on: CivilDate,
    /// What was built.
    #[arg(long, default_value = "")]
    pub summary: String,
    /// The overrun explanation (R-P8), required when completing after the contract end with
    /// none on file (see `explain-overrun`).
    #[arg(long, default_value = "")]
    pub overrun_explanation: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

#[derive(Debug, Args)]
pub struct TerminateArgs {
    /// The project (its id is the case id).
    pub project_id: String,
    /// The case's etag.
    #[arg(long)]
    pub etag: String,
    /// FORCE_MAJEURE (不可抗力), MAJOR_CONTENT_CHANGE (建设内容重大变更), FAILED_IMPLEMENTATION
    /// (实施失败), SERIOUS_DELAY_OR_LOSS (严重延误或重大损失), FUNCTION_TRANSFER_OR_POLICY_CHANGE
    /// (职能划转或政策调整) or OTHER (the reason says which).
    #[arg(long, value_parser = enums::arg::<TerminationGround>)]
    pub ground: TerminationGround,
    /// Why the project ends.
    #[arg(long)]
    pub reason: String,
    /// 项目进展情况: how far the project got.
    #[arg(long, default_value = "")]
    pub progress: String,
    /// 资金支付情况: the payments made, as the unit states them.
    #[arg(long, default_value = "")]
    pub payments: String,
    /// 党委（党组）会议决议: the resolution's document number or reference.
    #[arg(long, default_value = "")]
    pub party_committee_resolution: String,
    /// 区领导审批: the reference of the district leader's approval.
    #[arg(long, default_value = "")]
    pub leader_approval: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

// ------------------------------------------------------------------ value parsers

/// The procurement channels (R-P4), as the service names them.
pub const CHANNELS: [(&str, &str); 2] = [("GOVERNMENT_PROCUREMENT", "政府采购"), ("SMALL_PUBLIC_RESOURCE_TRADING", "小额公共资源交易")];

/// A channel by name (case insensitive, `-` for `_`) or by its Chinese term.
pub fn parse_channel(s: &str) -> std::result::Result<String, String> {
    let norm = s.trim().to_ascii_uppercase().replace('-', "_");
    CHANNELS.iter().find(|(name, zh)| *name == norm || *zh == s.trim()).map(|(name, _)| (*name).to_string()).ok_or_else(|| {
        let names: Vec<String> = CHANNELS.iter().map(|(n, zh)| format!("{n} ({zh})")).collect();
        format!("{s:?} is not a procurement channel; expected {}", names.join(" or "))
    })
}

/// A ratio in basis points: `30`, `30%`, `12.5 %`, `33.33%` (percent, at most two decimals) or
/// `3000bp`; more than 0, at most 100 %.
pub fn parse_ratio(s: &str) -> std::result::Result<u32, String> {
    let t = s.trim();
    let bp: u32 = if let Some(n) = t.strip_suffix("bp") {
        n.trim().parse().map_err(|_| format!("{s:?}: basis points are a whole number, e.g. 3000bp"))?
    } else {
        let n = t.strip_suffix('%').unwrap_or(t).trim();
        let (whole, frac) = match n.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (n, None),
        };
        let digits = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit());
        if !digits(whole) || whole.len() > 3 || frac.is_some_and(|f| !digits(f) || f.len() > 2) {
            return Err(format!("{s:?}: a ratio is a percentage with at most two decimals (30%, 12.5%) or basis points (3000bp)"));
        }
        let whole: u32 = whole.parse().map_err(|_| format!("{s:?}: not a percentage"))?;
        let frac: u32 = match frac {
            None => 0,
            Some(f) => format!("{f:0<2}").parse().map_err(|_| format!("{s:?}: not a percentage"))?,
        };
        whole * 100 + frac
    };
    if bp == 0 || bp > 10_000 {
        return Err(format!("{s:?}: a stage's ratio is more than 0 and at most 100 % (10000bp)"));
    }
    Ok(bp)
}

/// `ID=RATIO:CONDITION`: one payment stage (the condition may contain colons).
pub fn parse_stage(s: &str) -> std::result::Result<PaymentStageTerms, String> {
    let (id, rest) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected ID=RATIO:CONDITION, e.g. signing=30%:合同签订"))?;
    let id = id.trim();
    if id.is_empty() || id.chars().any(char::is_whitespace) {
        return Err(format!("{s:?}: the stage id before '=' must be one word, e.g. signing=30%:合同签订"));
    }
    let (ratio, condition) =
        rest.split_once(':').ok_or_else(|| format!("{s:?}: expected ID=RATIO:CONDITION; the payment condition (付款条件) is missing"))?;
    let condition = condition.trim();
    if condition.is_empty() {
        return Err(format!("{s:?}: the payment condition (付款条件) after ':' is required, e.g. 初验通过"));
    }
    Ok(PaymentStageTerms { stage_id: id.to_string(), condition: condition.to_string(), ratio_bp: parse_ratio(ratio)? })
}

/// A calendar month, `YYYY-MM`.
pub fn parse_month(s: &str) -> std::result::Result<YearMonth, String> {
    let bad = || format!("{s:?} is not a month like 2026-06");
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let (year, month): (i32, i32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(1..=12).contains(&month) || year < 1 {
        return Err(bad());
    }
    Ok(YearMonth { year, month })
}

/// A payment plan's stages, each id once (the ratios' sum is R-P6's, checked by the service).
fn stage_ids(stages: &[PaymentStageTerms]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for s in stages {
        if !seen.insert(s.stage_id.as_str()) {
            return Err(CliError::usage(format!("stage {} is given twice", s.stage_id)));
        }
    }
    Ok(())
}

fn load_terms(path: &str) -> Result<egov_proto::procurement::ContractTerms> {
    terms::load(path).map_err(|e| CliError::usage(format!("the contract terms are not valid:\n{e}")))
}

// ------------------------------------------------------------------ running

/// Runs a `procurement` command against the service at `ctx.procurement_endpoint`.
pub async fn run(ctx: &Ctx, cmd: ProcurementCmd) -> Result<u8> {
    // Input the service would refuse anyway, and files, are checked before connecting.
    if let ProcurementCmd::PaymentPlan(a) = &cmd {
        stage_ids(&a.stages)?;
    }
    let terms = match &cmd {
        ProcurementCmd::FileContract(a) => Some(load_terms(&a.terms)?),
        _ => None,
    };
    let mut cl = ProcurementClient::new(ctx.channel_to(&ctx.procurement_endpoint).await?);
    match cmd {
        ProcurementCmd::Cases(CasesCmd::List { state, unit, paging }) => {
            let r = cl
                .list_cases(ListCasesRequest {
                    page_size: paging.page_size,
                    page_token: paging.page_token,
                    unit_id: unit,
                    state: state.map_or(0, Into::into),
                })
                .await?
                .into_inner();
            ctx.show(&Page(&r.cases, &r.next_page_token));
        }
        ProcurementCmd::Cases(CasesCmd::Get { project_id, as_terms }) => {
            let k = cl.get_case(GetCaseRequest { project_id }).await?.into_inner();
            if as_terms {
                let t = k.contract.and_then(|c| c.terms).ok_or_else(|| CliError::other("no contract is filed for this case"))?;
                println!("{}", serde_json::to_string_pretty(&terms::TermsJson::from_proto(&t)).map_err(CliError::other)?);
            } else {
                ctx.show(&k);
            }
        }
        ProcurementCmd::Record(a) => {
            let supervision = a.supervision_credit_code.map(|code| Supervision {
                supplier_credit_code: code,
                fee_fen: a.supervision_fee_fen.unwrap_or(0),
                separately_procured: a.supervision_separately_procured,
            });
            let k = cl
                .record_procurement(RecordProcurementRequest {
                    project_id: a.project_id,
                    etag: a.etag,
                    record: Some(ProcurementRecord {
                        channel: a.channel,
                        method: a.method,
                        supplier_name: a.supplier,
                        supplier_credit_code: a.supplier_credit_code,
                        amount_fen: a.amount_fen,
                        implementing_body: a.implementing_body,
                        responsible_person: a.responsible_person,
                        supervision,
                        completed_on: Some(a.completed_on),
                        documents_filing: None,
                    }),
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ProcurementCmd::FileContract(a) => {
            let k = cl
                .file_contract(FileContractRequest {
                    project_id: a.project_id,
                    etag: a.etag,
                    terms,
                    contract_signed_on: Some(a.signed_on),
                    filed_on: Some(a.filed_on),
                    request_id: request_id(&a.request_id),
                    security: Some(SecurityFlags {
                        classified_protection_level: a.protection_level,
                        important_system: a.important_system,
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ProcurementCmd::PaymentPlan(a) => {
            let k = cl
                .set_payment_plan(SetPaymentPlanRequest {
                    project_id: a.project_id,
                    etag: a.etag,
                    stages: a.stages,
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ProcurementCmd::ConditionMet { project_id, etag, stage, evidence, request_id: r } => {
            let k = cl
                .mark_stage_condition_met(MarkStageConditionMetRequest {
                    project_id,
                    etag,
                    stage_id: stage,
                    evidence,
                    request_id: request_id(&r),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ProcurementCmd::FilePayment { project_id, etag, stage, amount_fen, request_id: r } => {
            let k = cl
                .file_payment(FilePaymentRequest { project_id, etag, stage_id: stage, amount_fen, request_id: request_id(&r) })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ProcurementCmd::ReportProgress(a) => {
            let k = cl
                .report_progress(ReportProgressRequest {
                    project_id: a.project_id,
                    etag: a.etag,
                    month: Some(a.month),
                    percent_complete: a.percent,
                    summary: a.summary,
                    issues: a.issues,
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ProcurementCmd::Inspections(InspectionsCmd::Draw { count, seed, note, request_id: r }) => {
            let d = cl.draw_inspections(DrawInspectionsRequest { count, seed, note, request_id: request_id(&r) }).await?.into_inner();
            ctx.show(&d);
        }
        ProcurementCmd::Inspections(InspectionsCmd::Get { draw_id }) => {
            ctx.show(&cl.get_inspection_draw(GetInspectionDrawRequest { draw_id }).await?.into_inner());
        }
        ProcurementCmd::Inspections(InspectionsCmd::List { paging }) => {
            let r = cl
                .list_inspection_draws(ListInspectionDrawsRequest { page_size: paging.page_size, page_token: paging.page_token })
                .await?
                .into_inner();
            ctx.show(&Page(&r.draws, &r.next_page_token));
        }
        ProcurementCmd::ExplainOverrun { project_id, etag, explanation, request_id: r } => {
            let k =
                cl.explain_overrun(ExplainOverrunRequest { project_id, etag, explanation, request_id: request_id(&r) }).await?.into_inner();
            ctx.show(&k);
        }
        ProcurementCmd::Complete(a) => {
            let k = cl
                .declare_construction_complete(DeclareConstructionCompleteRequest {
                    project_id: a.project_id,
                    etag: a.etag,
                    completed_on: Some(a.completed_on),
                    summary: a.summary,
                    overrun_explanation: a.overrun_explanation,
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ProcurementCmd::Terminate(a) => {
            let k = cl
                .terminate_project(TerminateProjectRequest {
                    project_id: a.project_id,
                    etag: a.etag,
                    ground: a.ground.into(),
                    reason: a.reason,
                    progress: a.progress,
                    payments: a.payments,
                    party_committee_resolution: a.party_committee_resolution,
                    leader_approval: a.leader_approval,
                    request_id: request_id(&a.request_id),
                })
                .await?
                .into_inner();
            ctx.show(&k);
        }
        ProcurementCmd::Ocds { project_id } => ctx.show(&cl.export_ocds(ExportOcdsRequest { project_id }).await?.into_inner()),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        Cli::try_parse_from(["egovctl", "procurement"].into_iter().chain(args.iter().copied()))
    }

    fn procurement(args: &[&str]) -> ProcurementCmd {
        match parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}")).command {
            Command::Procurement(c) => c,
            other => panic!("not a procurement command: {other:?}"),
        }
    }

    /// `base` followed by `extra`, parsed.
    fn parse_with(base: &[&str], extra: &[&str]) -> std::result::Result<Cli, clap::Error> {
        parse(&[base, extra].concat())
    }

    #[test]
    fn ratios_parse_as_percent_or_basis_points() {
        assert_eq!(parse_ratio("30"), Ok(3000));
        assert_eq!(parse_ratio("30%"), Ok(3000));
        assert_eq!(parse_ratio(" 12.5 % "), Ok(1250));
        assert_eq!(parse_ratio("33.33%"), Ok(3333));
        assert_eq!(parse_ratio("0.01%"), Ok(1));
        assert_eq!(parse_ratio("100%"), Ok(10_000));
        assert_eq!(parse_ratio("3000bp"), Ok(3000));
        for bad in ["0", "0%", "0bp", "100.01%", "10001bp", "33.333%", "-5%", "30%%", "thirty", "", ".5", "5.", "1e2", "12.5bp"] {
            assert!(parse_ratio(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_ratio("0%").unwrap_err().contains("more than 0 and at most 100 %"));
    }

    #[test]
    fn stages_parse() {
        let s = |id: &str, bp, c: &str| PaymentStageTerms { stage_id: id.into(), condition: c.into(), ratio_bp: bp };
        assert_eq!(parse_stage("signing=30%:合同签订"), Ok(s("signing", 3000, "合同签订")));
        assert_eq!(parse_stage(" 2 = 40 : 初验通过 "), Ok(s("2", 4000, "初验通过")));
        assert_eq!(parse_stage("final=3000bp:终验通过: 以验收报告为准"), Ok(s("final", 3000, "终验通过: 以验收报告为准")));
        for bad in ["signing", "=30%:合同签订", "signing=30%", "signing=30%:", "two words=30%:x", "signing=0%:合同签订", "s=abc:x"]
        {
            assert!(parse_stage(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_stage("signing=30%").unwrap_err().contains("付款条件"));
        assert!(matches!(stage_ids(&[s("a", 1, "x"), s("a", 2, "y")]), Err(CliError::Usage(m)) if m.contains("stage a is given twice")));
        assert!(stage_ids(&[s("a", 1, "x"), s("b", 2, "y")]).is_ok());
    }

    #[test]
    fn months_and_channels_parse() {
        assert_eq!(parse_month("2026-06"), Ok(YearMonth { year: 2026, month: 6 }));
        assert_eq!(parse_month(" 2027-12 "), Ok(YearMonth { year: 2027, month: 12 }));
        for bad in ["2026-13", "2026-00", "2026-6", "26-06", "2026/06", "2026-06-01", "June"] {
            assert!(parse_month(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(parse_channel("government-procurement").as_deref(), Ok("GOVERNMENT_PROCUREMENT"));
        assert_eq!(parse_channel("小额公共资源交易").as_deref(), Ok("SMALL_PUBLIC_RESOURCE_TRADING"));
        assert!(parse_channel("TENDER").unwrap_err().contains("GOVERNMENT_PROCUREMENT (政府采购) or SMALL_PUBLIC_RESOURCE_TRADING"));
    }

    const RECORD: [&str; 20] = [
        "record",
        "P1",
        "--etag",
        "1",
        "--channel",
        "GOVERNMENT_PROCUREMENT",
        "--method",
        "公开招标",
        "--supplier",
        "杭州某某科技有限公司",
        "--supplier-credit-code",
        "91350100M000100Y43",
        "--amount-fen",
        "97200000",
        "--implementing-body",
        "区民政局信息中心",
        "--responsible-person",
        "张三",
        "--completed-on",
        "2026-11-24",
    ];

    #[test]
    fn record_parses_with_and_without_supervision() {
        let ProcurementCmd::Record(a) = procurement(&RECORD) else { panic!() };
        assert_eq!(
            (a.channel.as_str(), a.amount_fen, a.completed_on),
            ("GOVERNMENT_PROCUREMENT", 97_200_000, CivilDate { year: 2026, month: 11, day: 24 })
        );
        assert_eq!((a.supervision_credit_code, a.supervision_fee_fen, a.supervision_separately_procured), (None, None, false));
        let sup =
            ["--supervision-credit-code", "91440101MA5CJQ4N59", "--supervision-fee-fen", "2160000", "--supervision-separately-procured"];
        let ProcurementCmd::Record(a) = procurement(&[&RECORD[..], &sup].concat()) else { panic!() };
        assert_eq!((a.supervision_credit_code.as_deref(), a.supervision_fee_fen), (Some("91440101MA5CJQ4N59"), Some(2_160_000)));
        assert!(a.supervision_separately_procured);
        assert!(parse_with(&RECORD, &["--supervision-fee-fen", "1"]).is_err(), "a fee needs the supervisor");
        assert!(parse_with(&RECORD, &["--supervision-credit-code", "91440101MA5CJQ4N59"]).is_err(), "a supervisor needs the fee");
        assert!(parse_with(&RECORD, &["--supervision-separately-procured"]).is_err());
        assert!(parse(&RECORD[..18]).is_err(), "the completion date is required");
        let mut bad = RECORD;
        bad[5] = "TENDER";
        assert!(parse(&bad).is_err());
        bad = RECORD;
        bad[13] = "0";
        assert!(parse(&bad).is_err(), "an amount is more than 0 fen");
    }

    #[test]
    fn file_contract_parses_dates_and_security_flags() {
        let base = ["file-contract", "P1", "--etag", "2", "--terms", "t.json", "--signed-on", "2026-11-20", "--filed-on", "2026-11-24"];
        let ProcurementCmd::FileContract(a) = procurement(&[&base[..], &["--protection-level", "3", "--important-system"]].concat()) else {
            panic!()
        };
        assert_eq!((a.protection_level, a.important_system, a.terms.as_str()), (3, true, "t.json"));
        assert_eq!(a.signed_on, CivilDate { year: 2026, month: 11, day: 20 });
        assert!(parse(&base).is_err(), "the 等保 level is required (R-P9)");
        assert!(parse_with(&base, &["--protection-level", "6"]).is_err());
        assert!(parse_with(&base, &["--protection-level", "0"]).is_err());
        let ProcurementCmd::FileContract(a) = procurement(&[&base[..], &["--protection-level", "2"]].concat()) else { panic!() };
        assert!(!a.important_system);
        assert!(
            parse(&[
                "file-contract",
                "P1",
                "--etag",
                "2",
                "--signed-on",
                "2026-11-20",
                "--filed-on",
                "2026-11-24",
                "--protection-level",
                "3"
            ])
            .is_err(),
            "terms are required"
        );
        assert!(parse_with(&base[..8], &["--filed-on", "2026-11-31", "--protection-level", "3"]).is_err());
    }

    #[test]
    fn payment_commands_parse() {
        let ProcurementCmd::PaymentPlan(a) = procurement(&[
            "payment-plan",
            "P1",
            "--etag",
            "3",
            "--stage",
            "1=30%:合同签订",
            "--stage",
            "2=40%:初验通过",
            "--stage",
            "3=30%:终验通过",
        ]) else {
            panic!()
        };
        assert_eq!(a.stages.iter().map(|s| s.ratio_bp).collect::<Vec<_>>(), vec![3000, 4000, 3000]);
        assert_eq!(a.stages[1].condition, "初验通过");
        assert!(parse(&["payment-plan", "P1", "--etag", "3"]).is_err(), "a stage is required");
        assert!(parse(&["payment-plan", "P1", "--etag", "3", "--stage", "1=30%"]).is_err());

        let ProcurementCmd::ConditionMet { stage, evidence, .. } =
            procurement(&["condition-met", "P1", "--etag", "4", "--stage", "1", "--evidence", "合同编号 SC-2026-001"])
        else {
            panic!()
        };
        assert_eq!((stage.as_str(), evidence.as_str()), ("1", "合同编号 SC-2026-001"));
        assert!(parse(&["condition-met", "P1", "--etag", "4", "--stage", "1"]).is_err(), "evidence is required");

        let ProcurementCmd::FilePayment { amount_fen, .. } =
            procurement(&["file-payment", "P1", "--etag", "5", "--stage", "1", "--amount-fen", "29160000"])
        else {
            panic!()
        };
        assert_eq!(amount_fen, 29_160_000);
        assert!(parse(&["file-payment", "P1", "--etag", "5", "--stage", "1", "--amount-fen", "0"]).is_err());
        assert!(parse(&["file-payment", "P1", "--etag", "5", "--amount-fen", "1"]).is_err(), "the stage is required");
    }

    #[test]
    fn progress_inspections_and_endings_parse() {
        let base = ["report-progress", "P1", "--etag", "6", "--month", "2026-11", "--summary", "完成需求调研"];
        let ProcurementCmd::ReportProgress(a) = procurement(&[&base[..], &["--percent", "15"]].concat()) else { panic!() };
        assert_eq!((a.month, a.percent, a.issues.as_str()), (YearMonth { year: 2026, month: 11 }, 15, ""));
        assert!(parse(&base).is_err(), "the percentage is required");
        assert!(parse_with(&base, &["--percent", "101"]).is_err());
        assert!(parse(&["report-progress", "P1", "--etag", "6", "--month", "2026-13", "--summary", "x", "--percent", "1"]).is_err());

        let ProcurementCmd::Inspections(InspectionsCmd::Draw { count, seed, .. }) = procurement(&["inspections", "draw", "--count", "2"])
        else {
            panic!()
        };
        assert_eq!((count, seed), (2, None));
        let ProcurementCmd::Inspections(InspectionsCmd::Draw { seed, .. }) =
            procurement(&["inspections", "draw", "--count", "2", "--seed", "0"])
        else {
            panic!()
        };
        assert_eq!(seed, Some(0), "0 is a seed like any other");
        assert!(parse(&["inspections", "draw", "--count", "0"]).is_err());
        assert!(parse(&["inspections", "draw"]).is_err());
        assert!(parse(&["inspections", "get", "D1"]).is_ok());
        assert!(parse(&["inspections", "list", "--page-size", "10"]).is_ok());

        assert!(parse(&["explain-overrun", "P1", "--etag", "7"]).is_err(), "the explanation is required");
        let ProcurementCmd::Complete(a) = procurement(&["complete", "P1", "--etag", "7", "--completed-on", "2027-10-30"]) else { panic!() };
        assert_eq!((a.completed_on, a.overrun_explanation.as_str()), (CivilDate { year: 2027, month: 10, day: 30 }, ""));
        assert!(parse(&["complete", "P1", "--etag", "7"]).is_err(), "the completion date is required");

        let ProcurementCmd::Terminate(a) =
            procurement(&["terminate", "P1", "--etag", "8", "--ground", "function-transfer-or-policy-change", "--reason", "职能划转"])
        else {
            panic!()
        };
        assert_eq!(a.ground, TerminationGround::FunctionTransferOrPolicyChange);
        assert!(parse(&["terminate", "P1", "--etag", "8", "--ground", "BORED", "--reason", "x"]).is_err());
        assert!(parse(&["terminate", "P1", "--etag", "8", "--reason", "x"]).is_err(), "the ground is required");
        let ProcurementCmd::Ocds { project_id } = procurement(&["ocds", "P1"]) else { panic!() };
        assert_eq!(project_id, "P1");
    }

    #[test]
    fn cases_parse() {
        let ProcurementCmd::Cases(CasesCmd::List { state, unit, .. }) =
            procurement(&["cases", "list", "--state", "construction", "--unit", "U-CIVIL"])
        else {
            panic!()
        };
        assert_eq!((state, unit.as_str()), (Some(CaseState::Construction), "U-CIVIL"));
        assert!(parse(&["cases", "list", "--state", "BUILDING"]).is_err());
        let ProcurementCmd::Cases(CasesCmd::Get { as_terms, .. }) = procurement(&["cases", "get", "P1", "--as-terms"]) else { panic!() };
        assert!(as_terms);
    }

    #[test]
    fn procurement_endpoint_flag_and_default() {
        let cli = parse(&["ocds", "P1"]).unwrap();
        // The default unless EGOVCTL_PROCUREMENT_ENDPOINT is set in the environment of the test run.
        if std::env::var_os("EGOVCTL_PROCUREMENT_ENDPOINT").is_none() {
            assert_eq!(cli.procurement_endpoint, "http://127.0.0.1:50053");
        }
        let cli = Cli::try_parse_from(["egovctl", "procurement", "--procurement-endpoint", "http://10.0.0.5:50053", "ocds", "P1"]).unwrap();
        assert_eq!(cli.procurement_endpoint, "http://10.0.0.5:50053");
    }
}
