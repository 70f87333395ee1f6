//! The procurement case's state machine (采购案卷): every transition a pure function of the case,
//! the command and the [`Context`] (now, today, the pinned policy; the working-day calendar beside
//! it where R-P5 counts), returning the [`Change`] (the new case, what happened, the events, the
//! timers to set or cancel) or a [`Refusal`] naming its rules.
//!
//! ```text
//! review.project.approved ─▶ PROCURING ─record─▶ PROCURED ─file contract─▶ CONSTRUCTION ─complete─▶ CONSTRUCTION_COMPLETED
//!                               │ └─R-P1 timer─▶ DEADLINE_MISSED                │
//!                               └──────────── terminate (R-P10) ◀──────────────┘─▶ TERMINATED
//! review.approval.cancelled ─▶ CANCELLED (from any state but CANCELLED and TERMINATED)
//! ```
//!
//! A step taken out of order is refused under the rule of the step (R-P2 filing a contract, R-P4
//! recording procurement, R-P6 payments, R-P7 reports, R-P8 overruns and completion, R-P10
//! termination), saying what has to happen first; a step on a case that has ended is refused
//! under the rule that ended it (R-P1, review's R-R6 or R-P1, R-P10).

use egov_calendar::Calendar;
use egov_platform::{
    clock::start_of_day,
    error::{FieldViolation, Refusal, RuleViolation},
    transition::{Change, Context, TimerOp},
    values::Fen,
};
use egov_proto::events::{self as ev, event_envelope::Payload};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    contract::{self, ApprovedPlan, ContractTerms},
    deadline,
    events::{self, types},
    filing,
    model::*,
    payments::{self, PaymentStage},
    progress,
    supervision::{self, Channel, SupervisionContract},
    termination::{self, TerminationFiling},
    timers::{self, OVERRUN, PROCUREMENT_DEADLINE, PROGRESS_REPORT},
};

/// Refuses a step out of order under `rule`, saying what has to happen first.
fn out_of_order(rule: &str, what: String) -> Refusal {
    Refusal::Rules(vec![RuleViolation::new(rule, "state", what)])
}

/// The refusal of `step` on a case that has ended, under the rule that ended it; `None` while
/// the case goes on.
fn ended(case: &ProcurementCase, step: &str) -> Option<Refusal> {
    let after = "the project takes no further steps";
    match case.state {
        CaseState::DeadlineMissed => {
            let by = case.procurement_deadline.map(|d| format!(" by {d}")).unwrap_or_default();
            Some(out_of_order(
                "R-P1",
                format!(
                    "{step}: procurement was not completed{by} (R-P1's deadline), so the approval is cancelled (取消立项指标); {after}"
                ),
            ))
        }
        CaseState::Cancelled => {
            let c = case.cancellation.as_ref();
            let rule = c.and_then(|c| c.rule_ids.first()).map_or("R-R6", String::as_str);
            let why = c.map(|c| c.reason.trim()).filter(|r| !r.is_empty()).map(|r| format!(" ({r})")).unwrap_or_default();
            Some(out_of_order(rule, format!("{step}: review cancelled the approval (取消立项指标){why}; {after}")))
        }
        CaseState::Terminated => {
            let t = case.termination.as_ref();
            let what = t.map_or("revoked or terminated".to_string(), |t| format!("{} on {}", t.kind.to_lowercase(), t.filed_on));
            Some(out_of_order("R-P10", format!("{step}: the project was {what} (撤销/终止, R-P10); {after}")))
        }
        _ => None,
    }
}

/// Construction must be under way for `step`, refused under `rule` otherwise.
fn under_construction(case: &ProcurementCase, rule: &str, step: &str) -> Result<(), Refusal> {
    if let Some(r) = ended(case, step) {
        return Err(r);
    }
    match case.state {
        CaseState::Construction => Ok(()),
        CaseState::ConstructionCompleted => {
            let on = case.completion.as_ref().map(|c| format!(" on {}", c.completed_on)).unwrap_or_default();
            Err(out_of_order(rule, format!("{step} during construction; construction was declared complete{on}")))
        }
        _ => Err(out_of_order(
            rule,
            format!("{step} during construction, which starts when the contract is filed (R-P2); no contract is filed yet"),
        )),
    }
}

/// The filed contract of a case under construction or completed (the last stages are paid after
/// initial and final acceptance), for R-P6's stages and payments.
fn filed_contract<'a>(case: &'a mut ProcurementCase, step: &str) -> Result<&'a mut ContractRecord, Refusal> {
    if let Some(r) = ended(case, step) {
        return Err(r);
    }
    match (case.state, case.contract.as_mut()) {
        (CaseState::Construction | CaseState::ConstructionCompleted, Some(k)) => Ok(k),
        _ => Err(out_of_order(
            "R-P6",
            format!("{step} against the filed contract (R-P6); no contract is filed yet: the contract is filed first (R-P2)"),
        )),
    }
}

/// Renames the fields of a field refusal and the subjects of a rule refusal as the request names
/// them.
fn renamed(r: Refusal, name: impl Fn(&str) -> String) -> Refusal {
    match r {
        Refusal::Fields(v) => Refusal::Fields(v.into_iter().map(|f| FieldViolation { field: name(&f.field), ..f }).collect()),
        Refusal::Rules(v) => Refusal::Rules(v.into_iter().map(|r| RuleViolation { subject: name(&r.subject), ..r }).collect()),
    }
}

/// R-P8's check runs at 00:00 Asia/Shanghai the day after the contract's last construction day.
fn overrun_check_due(construction_end: Date) -> OffsetDateTime {
    start_of_day(construction_end.next_day().unwrap_or(construction_end))
}

/// The check of `month`'s progress report (R-P7), at 00:00 the day after its due day.
fn report_check(id: Uuid, month: YearMonth, ctx: Context<'_>) -> TimerOp {
    TimerOp::Set {
        kind: PROGRESS_REPORT,
        key: timers::report_key(id, month),
        due_at: progress::missing_report_timer_due(month.as_tuple(), ctx.policy),
        payload: timers::report_payload(month),
    }
}

/// Construction has ended (completed, terminated, cancelled): no more report or overrun checks.
fn stop_construction_checks(change: Change<ProcurementCase>, id: &str) -> Change<ProcurementCase> {
    change.cancel_timers_under(PROGRESS_REPORT, id).cancel_timer(OVERRUN, id)
}

// ---------------------------------------------------------------- opening (review's approval)

/// What review's approval (`review.project.approved`) opens a case with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub project_id: Uuid,
    pub project_name: String,
    pub lead_unit_id: String,
    pub participating_unit_ids: Vec<String>,
    pub budget: Fen,
    pub funding_source: String,
    pub planned_construction_months: i32,
    pub scope: String,
    pub approved_on: Date,
    pub document_number: String,
}

/// A case opens from review's approval, under the approval's policy version; a fiscally funded
/// project's R-P1 deadline starts (a timer at the instant it lapses).
pub fn open(a: Approval, ctx: Context<'_>) -> Change<ProcurementCase> {
    let deadline = deadline::procurement_deadline(a.approved_on, &a.funding_source, ctx.policy);
    let id = a.project_id.to_string();
    let case = ProcurementCase {
        project_id: a.project_id,
        project_name: a.project_name,
        lead_unit_id: a.lead_unit_id,
        participating_unit_ids: a.participating_unit_ids,
        budget_fen: a.budget,
        funding_source: a.funding_source,
        planned_construction_months: a.planned_construction_months,
        scope: a.scope,
        approved_on: a.approved_on,
        document_number: a.document_number,
        procurement_deadline: deadline,
        state: CaseState::Procuring,
        procurement: None,
        policy_version: ctx.policy.version.clone(),
        version: 0,
        opened_at: ctx.now,
        contract: None,
        progress_reports: Vec::new(),
        missing_reports: Vec::new(),
        first_report_month: None,
        overrun: None,
        completion: None,
        termination: None,
        cancellation: None,
    };
    let summary = match deadline {
        Some(d) => format!("procurement opened; to complete by {d} (R-P1)"),
        None => "procurement opened (outside funding: no R-P1 deadline)".to_string(),
    };
    let change =
        Change::new(case, "OpenCase").rules(&["R-P1"]).event(types::CASE_OPENED, events::status_changed("采购 PROCUREMENT", summary));
    match deadline {
        Some(_) => change.set_timer(PROCUREMENT_DEADLINE, id, deadline::timer_due(a.approved_on, ctx.policy), serde_json::json!({})),
        None => change,
    }
}

/// R-P1: the deadline lapsed with procurement incomplete; review cancels the approval on the
/// event. `None` when procurement completed (or the case ended) first.
pub fn miss_deadline(case: &ProcurementCase, _ctx: Context<'_>) -> Option<Change<ProcurementCase>> {
    if case.state != CaseState::Procuring {
        return None;
    }
    let mut next = case.clone();
    next.state = CaseState::DeadlineMissed;
    let deadline = case.procurement_deadline.map(|d| d.to_string()).unwrap_or_default();
    Some(
        Change::new(next, "DeadlineMissed")
            .rules(&["R-P1"])
            .reason(format!("procurement not completed by {deadline} (采购未在规定期限内完成)"))
            .event(types::DEADLINE_MISSED, events::deadline_missed(case)),
    )
}

/// Review cancelled the approval (取消立项指标): the case closes and its timers stop. `None`
/// when it is closed or terminated already.
pub fn cancel_approval(case: &ProcurementCase, reason: &str, rule_ids: &[String], _ctx: Context<'_>) -> Option<Change<ProcurementCase>> {
    if matches!(case.state, CaseState::Cancelled | CaseState::Terminated) {
        return None;
    }
    let mut next = case.clone();
    next.state = CaseState::Cancelled;
    next.cancellation = Some(Cancellation { reason: reason.to_string(), rule_ids: rule_ids.to_vec() });
    let id = case.project_id.to_string();
    let rules: Vec<&str> = rule_ids.iter().map(String::as_str).collect();
    let change = Change::new(next, "CloseCase").rules(&rules).reason(reason).cancel_timer(PROCUREMENT_DEADLINE, id.as_str());
    Some(stop_construction_checks(change, &id))
}

/// A budget change review approved (R-R7): the case follows it. `None` when it is the same.
pub fn adjust_budget(
    case: &ProcurementCase,
    budget: Fen,
    change_id: &str,
    route: &str,
    _ctx: Context<'_>,
) -> Option<Change<ProcurementCase>> {
    if case.budget_fen == budget {
        return None;
    }
    let mut next = case.clone();
    next.budget_fen = budget;
    Some(
        Change::new(next, "AdjustBudget")
            .rules(&["R-R7"])
            .detail("old_budget_fen", case.budget_fen.get())
            .detail("new_budget_fen", budget.get())
            .detail("change_id", change_id)
            .detail("route", route),
    )
}

// ---------------------------------------------------------------- procurement (R-P1, R-P3, R-P4, R-P5)

/// What the unit records of its procurement (R-P4), its fields parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procurement {
    pub channel: Channel,
    pub method: String,
    pub supplier_name: String,
    /// Checked (GB 32100) and normalised.
    pub supplier_credit_code: String,
    pub amount: Fen,
    pub implementing_body: String,
    pub responsible_person: String,
    pub supervision: Option<SupervisionContract>,
    pub completed_on: Date,
}

/// The unit records its completed procurement: within the budget with its supervision fee
/// (R-P3), the channel and its supervision (R-P3, R-P4), in time or not (R-P1), and the
/// procurement documents' filing assessed on the official calendar (R-P5, late accepted and
/// marked). R-P1's deadline stops.
pub fn record_procurement(
    case: &ProcurementCase,
    cmd: Procurement,
    ctx: Context<'_>,
    calendar: &Calendar,
) -> Result<Change<ProcurementCase>, Refusal> {
    const STEP: &str = "procurement is recorded while procuring";
    if let Some(r) = ended(case, STEP) {
        return Err(r);
    }
    if case.state != CaseState::Procuring {
        let on = case.procurement.as_ref().map(|p| format!(" (completed on {})", p.completed_on)).unwrap_or_default();
        return Err(out_of_order("R-P4", format!("{STEP}: procurement is recorded once, and it was recorded already{on}")));
    }
    let today = ctx.today;
    if cmd.completed_on > today || cmd.completed_on < case.approved_on {
        return Err(Refusal::field("record.completed_on", "between the approval date and today"));
    }
    if cmd.amount > case.budget_fen {
        return Err(Refusal::rule(
            "R-P3",
            "record.amount_fen",
            format!("the contract amount exceeds the approved budget of {} fen", case.budget_fen.get()),
        ));
    }
    supervision::check_supervision(cmd.channel, cmd.supervision.clone(), cmd.amount, case.budget_fen)?;
    let in_time = deadline::in_time(case.procurement_deadline, cmd.completed_on);
    // R-P5: the procurement documents, produced on completion, are filed now.
    let documents =
        filing::assess(calendar, cmd.completed_on, today, ctx.policy).map_err(|r| renamed(r, |_| "record.completed_on".into()))?;
    let mut next = case.clone();
    next.procurement = Some(ProcurementRecord {
        channel: cmd.channel.as_str().into(),
        method: cmd.method,
        supplier_name: cmd.supplier_name,
        supplier_credit_code: cmd.supplier_credit_code,
        amount_fen: cmd.amount,
        implementing_body: cmd.implementing_body,
        responsible_person: cmd.responsible_person,
        supervision: cmd.supervision.map(|s| Supervision {
            supplier_credit_code: s.supplier_credit_code,
            fee_fen: s.fee_fen,
            separately_procured: s.separately_procured,
        }),
        completed_on: cmd.completed_on,
        in_time,
        documents_filing: Some((today, documents.clone())),
    });
    next.state = CaseState::Procured;
    Ok(Change::new(next, "RecordProcurement")
        .rules(&["R-P1", "R-P3", "R-P4", "R-P5"])
        .detail("channel", cmd.channel.as_str())
        .detail("amount_fen", cmd.amount.get())
        .detail("in_time", in_time)
        .detail("documents_deadline", documents.deadline.to_string())
        .detail("documents_late", documents.late)
        .detail("provisional_years", documents.provisional_years)
        .cancel_timer(PROCUREMENT_DEADLINE, case.project_id.to_string())
        .event(types::COMPLETED, events::procurement_completed(case)))
}

// ---------------------------------------------------------------- the contract (R-P2, R-P5, R-P9)

/// A contract filing: its terms, the R-P9 flags, when it was signed and filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractFiling {
    pub terms: ContractTerms,
    pub security: SecurityFlags,
    pub signed_on: Date,
    pub filed_on: Date,
}

/// The unit files the contract (R-P2's clauses, R-P5's name and working days, R-P9's flags):
/// construction starts, the first month's report check (R-P7) and the overrun check at the
/// contract end (R-P8) are set.
pub fn file_contract(
    case: &ProcurementCase,
    cmd: ContractFiling,
    ctx: Context<'_>,
    calendar: &Calendar,
) -> Result<Change<ProcurementCase>, Refusal> {
    const STEP: &str = "a contract is filed once procurement is recorded";
    if let Some(r) = ended(case, STEP) {
        return Err(r);
    }
    match (case.state, case.contract.as_ref()) {
        (CaseState::Procured, _) => {}
        (CaseState::Procuring, _) => {
            return Err(out_of_order("R-P2", format!("{STEP}: record the procurement first (its channel, supplier and amount, R-P4)")));
        }
        (_, k) => {
            let on = k.map(|k| format!(" on {}", k.filed_on)).unwrap_or_default();
            return Err(out_of_order("R-P2", format!("the contract was filed{on}; a filed contract is not filed again")));
        }
    }
    let ContractFiling { terms, security, signed_on, filed_on } = cmd;
    let today = ctx.today;
    let mut f = Vec::new();
    if filed_on > today {
        f.push(FieldViolation::new("filed_on", format!("{filed_on} is after today ({today})")));
    }
    if signed_on < case.approved_on {
        f.push(FieldViolation::new("contract_signed_on", format!("{signed_on} is before the approval ({})", case.approved_on)));
    }
    if terms.amount_fen > case.budget_fen {
        f.push(FieldViolation::new(
            "terms.amount_fen",
            format!("{} fen exceeds the approved budget of {} fen", terms.amount_fen.get(), case.budget_fen.get()),
        ));
    }
    if !f.is_empty() {
        return Err(Refusal::Fields(f));
    }
    let plan = ApprovedPlan { project_name: case.project_name.clone(), planned_construction_months: case.planned_construction_months };
    // The rule's fields and subjects, named as the request names them (`terms.…`).
    let under_terms = |name: &str| if name.starts_with("plan.") { name.to_string() } else { format!("terms.{name}") };
    contract::check_contract(&terms, &plan, ctx.policy).map_err(|r| renamed(r, under_terms))?;
    let timeliness = filing::assess(calendar, signed_on, filed_on, ctx.policy)?;
    // Reports are due from the first due day after today (the filing in the system) and the
    // construction start (R-P7).
    let first = progress::first_report_month(today, terms.construction_start, ctx.policy);
    let (amount, end) = (terms.amount_fen.get(), terms.construction_end);
    let timing = if timeliness.late {
        format!("filed late on {filed_on}, after the R-P5 deadline of {}; accepted and recorded as late", timeliness.deadline)
    } else {
        format!("filed on time on {filed_on} (R-P5 deadline {})", timeliness.deadline)
    };
    let summary = format!("contract of {amount} fen signed on {signed_on} {timing}; construction starts");
    let mut next = case.clone();
    next.contract = Some(ContractRecord {
        terms,
        signed_on,
        filed_on,
        deadline: timeliness.deadline,
        late: timeliness.late,
        working_days_taken: timeliness.working_days_taken,
        provisional_years: timeliness.provisional_years.clone(),
        stages: Vec::new(),
        payments: Vec::new(),
        security,
    });
    next.state = CaseState::Construction;
    next.first_report_month = Some(first);
    let id = case.project_id;
    let mut change = Change::new(next, "FileContract")
        .rules(&["R-P2", "R-P5", "R-P9"])
        .detail("amount_fen", amount)
        .detail("signed_on", signed_on.to_string())
        .detail("filed_on", filed_on.to_string())
        .detail("deadline", timeliness.deadline.to_string())
        .detail("late", timeliness.late)
        .detail("working_days_taken", timeliness.working_days_taken)
        .detail("provisional_years", timeliness.provisional_years)
        .detail("classified_protection_level", security.classified_protection_level)
        .detail("important_system", security.important_system);
    change.effects.timers.push(report_check(id, first, ctx));
    Ok(change
        .set_timer(OVERRUN, id.to_string(), overrun_check_due(end), serde_json::json!({}))
        .event(types::CONTRACT_FILED, events::status_changed("建设 CONSTRUCTION", summary)))
}

// ---------------------------------------------------------------- payments (R-P6)

/// The contract's payment plan (R-P6): ratios summing to 100 %, each stage's amount exact in fen;
/// fixed once a payment is filed.
pub fn set_payment_plan(case: &ProcurementCase, stages: Vec<PaymentStage>, _ctx: Context<'_>) -> Result<Change<ProcurementCase>, Refusal> {
    payments::check_stages(&stages)?;
    let mut next = case.clone();
    let contract = filed_contract(&mut next, "the payment plan is set")?;
    if !contract.payments.is_empty() {
        return Err(out_of_order(
            "R-P6",
            format!("the payment plan is fixed once a payment is filed, and {} payment(s) are filed", contract.payments.len()),
        ));
    }
    let amounts = payments::stage_amounts(contract.terms.amount_fen, &stages);
    contract.stages = stages
        .iter()
        .zip(&amounts)
        .map(|(s, a)| StageRecord {
            stage_id: s.stage_id.clone(),
            condition: s.condition.clone(),
            ratio_bp: s.ratio_bp,
            amount_fen: *a,
            condition_met: None,
        })
        .collect();
    let plan: Vec<_> = stages
        .iter()
        .zip(&amounts)
        .map(
            |(s, a)| serde_json::json!({ "stage_id": s.stage_id, "condition": s.condition, "ratio_bp": s.ratio_bp, "amount_fen": a.get() }),
        )
        .collect();
    Ok(Change::new(next, "SetPaymentPlan").rules(&["R-P6"]).detail("stages", plan))
}

fn unknown_stage(stage_id: &str) -> Refusal {
    Refusal::field("stage_id", format!("「{stage_id}」 is not a stage of the payment plan"))
}

/// A stage's payment condition is met (初验通过 …), recorded once with its evidence by the lead
/// unit or DRB (`by`).
pub fn mark_stage_condition_met(
    case: &ProcurementCase,
    stage_id: &str,
    evidence: &str,
    by: &str,
    ctx: Context<'_>,
) -> Result<Change<ProcurementCase>, Refusal> {
    let mut next = case.clone();
    let contract = filed_contract(&mut next, "a stage's payment condition is recorded")?;
    let Some(stage) = contract.stages.iter_mut().find(|s| s.stage_id == stage_id) else {
        return Err(unknown_stage(stage_id));
    };
    if let Some(m) = &stage.condition_met {
        return Err(out_of_order(
            "R-P6",
            format!("stage 「{stage_id}」's condition was recorded as met on {} by {}; it is recorded once", m.on, m.by),
        ));
    }
    let condition = stage.condition.clone();
    stage.condition_met = Some(ConditionMet { evidence: evidence.to_string(), on: ctx.today, by: by.to_string() });
    Ok(Change::new(next, "MarkStageConditionMet")
        .rules(&["R-P6"])
        .detail("stage_id", stage_id)
        .detail("condition", condition)
        .detail("evidence", evidence))
}

/// A milestone of acceptance that payment stages are conditioned on (初验通过, 终验通过).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Milestone {
    /// 初验通过 (R-A1).
    InitialAcceptance,
    /// 终验通过 / 验收通过 (R-A5).
    FinalAcceptance,
}

impl Milestone {
    pub fn chinese(self) -> &'static str {
        match self {
            Milestone::InitialAcceptance => "初验通过",
            Milestone::FinalAcceptance => "验收通过",
        }
    }
}

/// The acceptance milestone a stage's condition names, read from its words: 初验 → initial
/// acceptance; 终验, 竣工验收 or 验收 (without 初) → final acceptance; anything else (合同签订, 上线
/// 运行 …) is recorded by hand.
pub fn milestone_of(condition: &str) -> Option<Milestone> {
    if condition.contains("初验") || condition.contains("初步验收") {
        Some(Milestone::InitialAcceptance)
    } else if condition.contains("终验") || condition.contains("验收") {
        Some(Milestone::FinalAcceptance)
    } else {
        None
    }
}

/// R-P6 with acceptance: the project reached `milestone` on `on` (acceptance's event, `evidence`),
/// so every stage conditioned on it is met. `None` when no stage waits for it (none conditioned on
/// it, met already, or no contract).
pub fn acceptance_milestone(
    case: &ProcurementCase,
    milestone: Milestone,
    on: time::Date,
    evidence: &str,
    _ctx: Context<'_>,
) -> Option<Change<ProcurementCase>> {
    let mut next = case.clone();
    let contract = next.contract.as_mut()?;
    let mut met = Vec::new();
    for stage in contract.stages.iter_mut().filter(|s| s.condition_met.is_none() && milestone_of(&s.condition) == Some(milestone)) {
        stage.condition_met = Some(ConditionMet { evidence: evidence.to_string(), on, by: "egov-acceptance".into() });
        met.push(stage.stage_id.clone());
    }
    if met.is_empty() {
        return None;
    }
    let summary = format!("{} on {on}: payment stage(s) 「{}」 may now be paid (R-P6)", milestone.chinese(), met.join("」「"));
    Some(
        Change::new(next, "MarkStageConditionMet")
            .rules(&["R-P6", if milestone == Milestone::InitialAcceptance { "R-A1" } else { "R-A5" }])
            .reason(evidence)
            .detail("stage_ids", met)
            .detail("milestone", milestone.chinese())
            .event(types::PAYMENT_CONDITION_MET, events::informational(summary)),
    )
}

/// A fund payment filing (资金支付报备) for a stage whose condition is met, the payments never
/// above the contract amount (R-P6); informational on the timeline.
pub fn file_payment(
    case: &ProcurementCase,
    stage_id: &str,
    amount: Fen,
    request_id: &str,
    ctx: Context<'_>,
) -> Result<Change<ProcurementCase>, Refusal> {
    let mut next = case.clone();
    let contract = filed_contract(&mut next, "a payment is filed")?;
    let Some(stage) = contract.stages.iter().find(|s| s.stage_id == stage_id) else {
        return Err(unknown_stage(stage_id));
    };
    let terms = PaymentStage { stage_id: stage.stage_id.clone(), condition: stage.condition.clone(), ratio_bp: stage.ratio_bp };
    let whole = contract.terms.amount_fen;
    payments::check_payment_filing(whole, &terms, stage.condition_met.is_some(), contract.paid_fen(), amount)?;
    contract.payments.push(PaymentRecord {
        stage_id: stage_id.into(),
        amount_fen: amount,
        filed_on: ctx.today,
        request_id: request_id.into(),
    });
    let paid = contract.paid_fen();
    let summary = format!(
        "资金支付报备 / payment filed for stage 「{stage_id}」: {} fen; {} of {} fen filed in all (R-P6)",
        amount.get(),
        paid.get(),
        whole.get()
    );
    Ok(Change::new(next, "FilePayment")
        .rules(&["R-P6"])
        .detail("stage_id", stage_id)
        .detail("amount_fen", amount.get())
        .detail("paid_fen", paid.get())
        .detail("contract_fen", whole.get())
        // Informational on the timeline: payments follow the project's stages, not the reverse.
        .event(types::PAYMENT_FILED, events::informational(summary)))
}

// ---------------------------------------------------------------- progress (R-P7)

/// A monthly progress report, its fields parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub month: YearMonth,
    pub percent_complete: u8,
    pub summary: String,
    pub issues: String,
}

/// Why `month`'s report cannot be filed because it is filed already (ALREADY_EXISTS), if so.
pub fn report_exists(case: &ProcurementCase, month: YearMonth) -> Option<String> {
    let reported: Vec<YearMonth> = case.progress_reports.iter().map(|r| r.month).collect();
    progress::reported_already(month, &reported)
}

/// R-P7: the unit reports a month's progress, from the first month due to this month, once
/// each; after the due day it is accepted and marked late.
pub fn report_progress(case: &ProcurementCase, r: Report, by: &str, ctx: Context<'_>) -> Result<Change<ProcurementCase>, Refusal> {
    under_construction(case, "R-P7", "progress is reported")?;
    let today = ctx.today;
    let first = case.first_report_month.unwrap_or_else(|| YearMonth::of(today));
    progress::check_report_month(r.month, first, today)?;
    if let Some(why) = report_exists(case, r.month) {
        return Err(Refusal::rule("R-P7", "month", why));
    }
    let month = r.month;
    let due_on = progress::report_due(month.as_tuple(), ctx.policy);
    let late = !progress::report_on_time(month.as_tuple(), today, ctx.policy);
    let mut next = case.clone();
    next.progress_reports.push(ProgressReport {
        month,
        reported_on: today,
        due_on,
        late,
        percent_complete: r.percent_complete,
        summary: r.summary,
        issues: r.issues,
        reported_by: by.to_string(),
    });
    next.progress_reports.sort_by_key(|r| r.month);
    let change = Change::new(next, "ReportProgress")
        .rules(&["R-P7"])
        .detail("month", month.to_string())
        .detail("due_on", due_on.to_string())
        .detail("late", late)
        .detail("percent_complete", r.percent_complete);
    if !late {
        return Ok(change);
    }
    let summary = format!("月度进展迟报 / the progress report for {month} came in on {today}, after its due day {due_on} (R-P7)");
    Ok(change.event(types::REPORT_LATE, events::informational(summary)))
}

/// What R-P7's check of a month's report decides.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportCheck {
    /// Construction is over: the checks stop.
    Stop,
    /// The month is reported (or flagged already): check the next month.
    Next(TimerOp),
    /// The report is missing: flag it, and check the next month.
    Flag(Box<Change<ProcurementCase>>),
}

/// R-P7: `month`'s due day has ended; a missing report is flagged, then the next month is checked.
pub fn check_report(case: &ProcurementCase, month: YearMonth, ctx: Context<'_>) -> ReportCheck {
    if case.state != CaseState::Construction {
        return ReportCheck::Stop;
    }
    let next_check = report_check(case.project_id, month.next(), ctx);
    let reported = case.progress_reports.iter().any(|r| r.month == month);
    if reported || case.missing_reports.contains(&month) {
        return ReportCheck::Next(next_check);
    }
    let due = progress::report_due(month.as_tuple(), ctx.policy);
    let mut next = case.clone();
    next.missing_reports.push(month);
    let summary = format!("月度进展未报 / the progress report for {month}, due on {due}, is missing (R-P7)");
    let mut change = Change::new(next, "FlagMissingReport")
        .rules(&["R-P7"])
        .reason(format!("月度进展未报 / the progress report for {month} was due on {due} and is missing"))
        .detail("month", month.to_string())
        .event(types::REPORT_MISSING, events::informational(summary));
    change.effects.timers.push(next_check);
    ReportCheck::Flag(Box::new(change))
}

// ---------------------------------------------------------------- overruns and completion (R-P8)

/// R-P8: records the overrun against the unit on `day` (once) in `case` and returns the event
/// that tells intake; `None` when it is recorded already or there is no overrun on `day`.
fn overrun_on(case: &mut ProcurementCase, day: Date) -> Option<Payload> {
    let end = case.contract.as_ref()?.terms.construction_end;
    if case.overrun.is_some() || day <= end {
        return None;
    }
    let days = progress::overrun_days(end, day);
    case.overrun = Some(OverrunRecord { contract_end: end, recorded_on: day, explanation: None, explained_on: None });
    Some(Payload::ConstructionOverrunRecorded(ev::ConstructionOverrunRecorded {
        project_id: case.project_id.to_string(),
        unit_id: case.lead_unit_id.clone(),
        contract_end: Some(egov_platform::convert::civil(end)),
        overrun_days: days,
        reason: format!(
            "超期 / construction of 「{}」 ran past the contract period ending {end} ({days} day(s) on {day}) (R-P8)",
            case.project_name
        ),
    }))
}

/// R-P8's timer: the contract period has ended with construction still under way; the overrun
/// is recorded against the unit. `None` when construction ended, or it is recorded already.
pub fn record_overrun(case: &ProcurementCase, ctx: Context<'_>) -> Option<Change<ProcurementCase>> {
    if case.state != CaseState::Construction {
        return None;
    }
    let mut next = case.clone();
    let payload = overrun_on(&mut next, ctx.today)?;
    Some(
        Change::new(next, "RecordOverrun")
            .rules(&["R-P8"])
            .reason("超期 / construction runs past the contract period; recorded against the unit, which owes DRB an explanation")
            .event(types::OVERRUN_RECORDED, payload),
    )
}

/// Why the overrun's explanation cannot be filed because it is on file already
/// (ALREADY_EXISTS), if so.
pub fn explanation_exists(case: &ProcurementCase) -> Option<String> {
    let o = case.overrun.as_ref()?;
    o.explanation.as_ref()?;
    Some(format!("the overrun was explained on {} (R-P8)", o.explained_on.map(|d| d.to_string()).unwrap_or_default()))
}

/// R-P8: the unit files its explanation of the overrun with DRB (recording the overrun first if
/// the timer has not run yet on the day after the contract end).
pub fn explain_overrun(case: &ProcurementCase, explanation: &str, ctx: Context<'_>) -> Result<Change<ProcurementCase>, Refusal> {
    under_construction(case, "R-P8", "an overrun is explained")?;
    if let Some(why) = explanation_exists(case) {
        return Err(Refusal::rule("R-P8", "explanation", why));
    }
    let today = ctx.today;
    let mut next = case.clone();
    let recorded = overrun_on(&mut next, today);
    let Some(overrun) = next.overrun.as_mut() else {
        let end = case.contract.as_ref().map(|k| k.terms.construction_end.to_string()).unwrap_or_default();
        return Err(out_of_order(
            "R-P8",
            format!("construction is within its contract period (ending {end}): there is no overrun to explain"),
        ));
    };
    overrun.explanation = Some(explanation.to_string());
    overrun.explained_on = Some(today);
    let days = progress::overrun_days(overrun.contract_end, today);
    let summary = format!("超期情况说明 / the unit explained the overrun ({days} day(s) past {}): {explanation}", overrun.contract_end);
    let mut change = Change::new(next, "ExplainOverrun").rules(&["R-P8"]).detail("explanation", explanation);
    if let Some(p) = recorded {
        change = change.event(types::OVERRUN_RECORDED, p);
    }
    Ok(change.event(types::OVERRUN_EXPLAINED, events::informational(summary)))
}

/// The unit's declaration that construction is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionDeclaration {
    pub completed_on: Date,
    pub summary: String,
    /// Given with the declaration when none is on file (R-P8).
    pub overrun_explanation: String,
}

/// The unit declares construction complete (建设完成) on a day between the signing and today;
/// past the contract period, R-P8's explanation must be on file or given. The report and overrun
/// checks stop; acceptance opens on the event.
pub fn declare_construction_complete(
    case: &ProcurementCase,
    d: CompletionDeclaration,
    ctx: Context<'_>,
) -> Result<Change<ProcurementCase>, Refusal> {
    under_construction(case, "R-P8", "construction is declared complete")?;
    let Some(contract) = case.contract.as_ref() else {
        return Err(out_of_order("R-P2", "construction is declared complete once a contract is filed".into()));
    };
    let today = ctx.today;
    let (signed_on, end) = (contract.signed_on, contract.terms.construction_end);
    if d.completed_on > today || d.completed_on < signed_on {
        return Err(Refusal::field("completed_on", format!("between the contract signing ({signed_on}) and today ({today})")));
    }
    let on_file = case.overrun.as_ref().and_then(|o| o.explanation.clone()).unwrap_or_default();
    let explanation = if on_file.is_empty() { d.overrun_explanation.clone() } else { on_file };
    let days =
        progress::check_overrun_explanation(end, d.completed_on, &explanation).map_err(|r| renamed(r, |_| "overrun_explanation".into()))?;
    let mut next = case.clone();
    let recorded = overrun_on(&mut next, d.completed_on);
    if let Some(o) = next.overrun.as_mut().filter(|o| o.explanation.is_none() && !d.overrun_explanation.is_empty()) {
        o.explanation = Some(d.overrun_explanation.clone());
        o.explained_on = Some(today);
    }
    next.completion = Some(Completion { completed_on: d.completed_on, declared_on: today, summary: d.summary, overrun_days: days });
    next.state = CaseState::ConstructionCompleted;
    let completed = events::construction_completed(&next);
    let id = case.project_id.to_string();
    let mut change = Change::new(next, "DeclareConstructionComplete")
        .rules(&["R-P8"])
        .detail("completed_on", d.completed_on.to_string())
        .detail("overrun_days", days);
    if let Some(p) = recorded {
        change = change.event(types::OVERRUN_RECORDED, p);
    }
    Ok(stop_construction_checks(change, &id).event(types::CONSTRUCTION_COMPLETED, completed))
}

// ---------------------------------------------------------------- revocation and termination (R-P10)

/// R-P10: the unit files the revocation (撤销, no contract yet) or termination (终止) with every
/// item the rule asks for; the project ends and every timer stops.
pub fn terminate(
    case: &ProcurementCase,
    filing: TerminationFiling,
    by: &str,
    ctx: Context<'_>,
) -> Result<Change<ProcurementCase>, Refusal> {
    termination::check(&filing)?;
    const STEP: &str = "a project is revoked or terminated while procuring or under construction";
    if let Some(r) = ended(case, STEP) {
        return Err(r);
    }
    if case.state == CaseState::ConstructionCompleted {
        let on = case.completion.as_ref().map(|c| format!(" on {}", c.completed_on)).unwrap_or_default();
        return Err(out_of_order("R-P10", format!("{STEP}; construction was declared complete{on} and acceptance follows")));
    }
    let ground = filing.ground.unwrap_or(TerminationGround::Other);
    let kind = termination::kind(case.contract.is_some());
    let paid = case.contract.as_ref().map_or(Fen::ZERO, ContractRecord::paid_fen);
    let mut next = case.clone();
    next.termination = Some(Termination {
        kind: kind.into(),
        ground,
        reason: filing.reason.clone(),
        progress: filing.progress,
        payments: filing.payments,
        paid_fen: paid,
        party_committee_resolution: filing.party_committee_resolution.clone(),
        leader_approval: filing.leader_approval.clone(),
        filed_on: ctx.today,
        filed_by: by.to_string(),
    });
    next.state = CaseState::Terminated;
    let id = case.project_id.to_string();
    let payload = Payload::ProjectTerminated(ev::ProjectTerminated {
        project_id: id.clone(),
        kind: kind.into(),
        ground: ground.as_str().into(),
        reason: filing.reason.clone(),
        paid_fen: paid.get(),
    });
    let change = Change::new(next, "TerminateProject")
        .rules(&["R-P10"])
        .detail("kind", kind)
        .detail("ground", ground.as_str())
        .detail("reason", filing.reason)
        .detail("paid_fen", paid.get())
        .detail("party_committee_resolution", filing.party_committee_resolution)
        .detail("leader_approval", filing.leader_approval)
        .cancel_timer(PROCUREMENT_DEADLINE, id.as_str());
    Ok(stop_construction_checks(change, &id).event(types::TERMINATED, payload))
}
