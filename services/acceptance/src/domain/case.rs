//! The acceptance case's state machine: every transition a pure function of the case, the
//! command and the context (now, policy, and for filings the working-day calendar), returning
//! the [`Change`] or a [`Refusal`] naming its rules.
//!
//! ```text
//! (construction completed) ─▶ INITIAL_ACCEPTANCE ──initial passed──▶ TRIAL_OPERATION
//!        ▲ initial failed ──────────┘                                   │ apply (R-A3, after the trial)
//!                                                                        ▼
//!   RECTIFICATION ◀──returned (re-application)── APPLICATION_REVIEW ◀────┘
//!     │   ▲  └──re-apply by the deadline──────────────▲    │ approved (R-A3)
//!     │   └──────────── failed (R-A5) ───── ACCEPTANCE ◀───┘
//!     │ deadline lapsed                         │ passed (R-A5)
//!     ▼                                         ▼
//!  RECTIFICATION_LAPSED                      ACCEPTED
//! (any open state) ──project terminated / approval cancelled──▶ CLOSED
//! ```
//!
//! Readings of the Measures, recorded so they can be challenged:
//! - R-A2 "试运行不少于30天": the trial starts on the day initial acceptance passes (its first day)
//!   and has lasted the policy's days at the end of day `min_trial_days`; the acceptance may be
//!   applied for from the next day, `started_on + min_trial_days` (passed 2026-03-01, 30 days:
//!   the trial runs 03-01 … 03-30, the application is taken from 03-31).
//! - R-A3's "等保测评报告" is required of systems at classified-protection level 2 or above (the
//!   levels whose systems are assessed under the national scheme); the 信创 assessment report of
//!   every project.
//! - R-A5's rectification period runs, like every period of the Measures, from the day of the
//!   failed acceptance (not counted) to the corresponding day `rectification_months` later; a
//!   re-application on that day is in time, the day after it is refused and a timer marks the
//!   case lapsed and alerts DRB.

use egov_calendar::Calendar;
use egov_platform::{
    clock::start_of_day,
    error::{FieldViolation, Refusal, RuleViolation},
    period::{self, Period},
    transition::{Change, Context},
    values::Fen,
};
use egov_proto::events::{self as ev, event_envelope::Payload};
use time::{Date, Duration};
use uuid::Uuid;

use super::{
    events::{self, types},
    model::*,
    panel,
};

/// Timer: the rectification deadline of R-A5 has lapsed (key: the project id).
pub const RECTIFICATION_DEADLINE: &str = "acceptance.rectification_deadline";

fn out_of_order(rule: &str, what: impl Into<String>) -> Refusal {
    Refusal::Rules(vec![RuleViolation::new(rule, "state", what)])
}

/// Refuses anything on a case that has ended.
fn ensure_open(case: &AcceptanceCase) -> Result<(), Refusal> {
    match case.state {
        CaseState::Closed => {
            Err(out_of_order("R-P10", format!("the project has ended ({}): its acceptance is closed", case.closed_reason)))
        }
        CaseState::RectificationLapsed => Err(out_of_order(
            "R-A5",
            format!(
                "the rectification deadline {} passed without a re-application: the project is not accepted and is not put into use",
                case.rectify_by.map(|d| d.to_string()).unwrap_or_default()
            ),
        )),
        _ => Ok(()),
    }
}

/// A case opens when construction completes (the construction-completed event).
pub fn open(project_id: Uuid, handover: Handover, ctx: Context<'_>) -> Change<AcceptanceCase> {
    let case = AcceptanceCase {
        project_id,
        handover,
        state: CaseState::InitialAcceptance,
        initial_acceptances: vec![],
        trial: None,
        applications: vec![],
        acceptances: vec![],
        materials: vec![],
        category: String::new(),
        function_modules: vec![],
        parties: Parties::default(),
        rectify_by: None,
        accepted_on: None,
        closed_reason: String::new(),
        policy_version: ctx.policy.version.clone(),
        version: 1,
        opened_at: ctx.now,
    };
    let payload = events::opened(&case);
    let channel = case.handover.channel;
    Change::new(case, "OpenCase").rules(&["R-A1", "R-A4"]).detail("channel", channel.as_str()).event(types::CASE_OPENED, payload)
}

/// The project ended (R-P10) or its approval was cancelled while its acceptance was open: the
/// case closes. `None` when there is nothing to close (already accepted, closed or lapsed).
pub fn close(case: &AcceptanceCase, reason: &str, rule: &str, _ctx: Context<'_>) -> Option<Change<AcceptanceCase>> {
    if matches!(case.state, CaseState::Accepted | CaseState::Closed | CaseState::RectificationLapsed) {
        return None;
    }
    let mut next = case.clone();
    next.state = CaseState::Closed;
    next.closed_reason = reason.to_string();
    let payload = events::closed(&next);
    Some(
        Change::new(next, "CloseCase")
            .rules(&[rule])
            .reason(reason)
            .cancel_timer(RECTIFICATION_DEADLINE, case.project_id.to_string())
            .event(types::CASE_CLOSED, payload),
    )
}

/// The unit's record of its initial acceptance (R-A1).
#[derive(Debug, Clone)]
pub struct InitialAcceptanceRecord {
    pub held_on: Date,
    pub panel: Vec<PanelMember>,
    pub conclusion: String,
    pub recorded_by: String,
}

/// R-A1: the unit records its initial acceptance. A passing panel majority starts the trial
/// operation (R-A2) on the day it was held; a failing one leaves the case in initial acceptance
/// for another.
pub fn record_initial_acceptance(
    case: &AcceptanceCase,
    r: InitialAcceptanceRecord,
    ctx: Context<'_>,
) -> Result<Change<AcceptanceCase>, Refusal> {
    ensure_open(case)?;
    if case.state != CaseState::InitialAcceptance {
        let passed = case.initial_acceptances.iter().rev().find(|i| i.passed).map(|i| i.held_on.to_string()).unwrap_or_default();
        return Err(out_of_order("R-A1", format!("initial acceptance already passed (on {passed}); the case is in {}", case.state)));
    }
    if r.held_on > ctx.today {
        return Err(Refusal::field("held_on", format!("{} is in the future: record an initial acceptance once it was held", r.held_on)));
    }
    if r.held_on < case.handover.completed_on {
        return Err(Refusal::rule(
            "R-A1",
            "held_on",
            format!("initial acceptance is held once construction is complete ({}), not on {}", case.handover.completed_on, r.held_on),
        ));
    }
    if r.conclusion.trim().is_empty() {
        return Err(Refusal::field("conclusion", "the panel's conclusion (初验结论) is required"));
    }
    panel::check(&r.panel, &case.handover, ctx.policy.min_initial_panel)?;
    let passed = panel::majority_passes(&r.panel);
    let mut next = case.clone();
    next.initial_acceptances.push(InitialAcceptance {
        held_on: r.held_on,
        panel: r.panel,
        passed,
        conclusion: r.conclusion.trim().to_string(),
        recorded_by: r.recorded_by,
        recorded_at: ctx.now,
    });
    if passed {
        next.state = CaseState::TrialOperation;
        next.trial = Some(TrialOperation {
            started_on: r.held_on,
            completes_on: trial_completes_on(r.held_on, ctx.policy.min_trial_days),
            report_document_id: None,
            report_source: None,
        });
    }
    let payload = events::initial_concluded(&next);
    let mut change =
        Change::new(next, "RecordInitialAcceptance").rules(&["R-A1", "R-A2"]).reason(r.conclusion.trim()).detail("passed", passed);
    if let Some(p) = payload {
        change = change.event(types::INITIAL_CONCLUDED, p);
    }
    Ok(change)
}

/// R-A2: the first day the acceptance may be applied for, `min_trial_days` after the trial's
/// first day.
pub fn trial_completes_on(started_on: Date, min_trial_days: u32) -> Date {
    started_on.checked_add(Duration::days(i64::from(min_trial_days))).unwrap_or(Date::MAX)
}

/// A stored upload to be filed with the case.
#[derive(Debug, Clone)]
pub struct Upload {
    pub document_id: Uuid,
    pub kind: MaterialKind,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub sm3: String,
    pub object_path: String,
    pub produced_on: Date,
    /// The project name the material carries (R-P5: it equals the approval document's).
    pub project_name: String,
    pub uploaded_by: String,
}

/// What a trial-operation report says about itself.
#[derive(Debug, Clone)]
pub struct TrialReport {
    pub period_from: Date,
    pub period_to: Date,
    pub external_reference: String,
    pub source: ReportSource,
}

/// Checks a material before its content is stored: the case takes it (open), its date and
/// project name (R-P5), and the kind goes through this path (a trial-operation report is
/// deposited through its own).
pub fn accept_material(
    case: &AcceptanceCase,
    kind: MaterialKind,
    produced_on: Date,
    project_name: &str,
    report: Option<&TrialReport>,
    ctx: Context<'_>,
) -> Result<(), Refusal> {
    ensure_open(case)?;
    let mut fields = Vec::new();
    if produced_on > ctx.today {
        fields.push(FieldViolation::new("header.produced_on", format!("{produced_on} is in the future")));
    }
    match (kind, report) {
        (MaterialKind::TrialOperationReport, None) => fields.push(FieldViolation::new(
            "header.kind",
            "a trial-operation report is deposited by the provincial system (or by DRB, marked manual) through DepositTrialReport",
        )),
        (MaterialKind::TrialOperationReport, Some(r)) => {
            if r.period_to < r.period_from {
                fields.push(FieldViolation::new("header.period_to", "the period ends before it starts"));
            }
            if r.period_to > produced_on {
                fields.push(FieldViolation::new("header.period_to", "the report covers days before its own date"));
            }
        }
        _ => {}
    }
    if !fields.is_empty() {
        return Err(Refusal::Fields(fields));
    }
    if project_name.trim() != case.handover.project_name.trim() {
        return Err(Refusal::rule(
            "R-P5",
            "header.project_name",
            format!(
                "the project name in a filed material equals the approval document's ({:?}); this one says {:?}",
                case.handover.project_name,
                egov_platform::request::bounded(project_name.trim())
            ),
        ));
    }
    if let Some(r) = report {
        check_trial_report(case, r, ctx)?;
    }
    Ok(())
}

/// R-A2: a report belongs to a running trial and covers at least the policy's days of it.
fn check_trial_report(case: &AcceptanceCase, r: &TrialReport, ctx: Context<'_>) -> Result<(), Refusal> {
    let Some(trial) = &case.trial else {
        return Err(out_of_order("R-A2", "the trial operation starts when initial acceptance passes; there is no trial to report on yet"));
    };
    if !matches!(case.state, CaseState::TrialOperation | CaseState::Rectification) {
        return Err(out_of_order("R-A2", format!("the trial-operation report comes in during the trial; the case is in {}", case.state)));
    }
    if r.period_from < trial.started_on {
        return Err(Refusal::rule(
            "R-A2",
            "header.period_from",
            format!("the trial started on {}; the report starts on {}", trial.started_on, r.period_from),
        ));
    }
    let days = (r.period_to - r.period_from).whole_days() + 1;
    if days < i64::from(ctx.policy.min_trial_days) {
        return Err(Refusal::rule(
            "R-A2",
            "header.period_to",
            format!(
                "the report covers {days} day(s) of trial operation; the trial runs at least {} days (试运行不少于{}天)",
                ctx.policy.min_trial_days, ctx.policy.min_trial_days
            ),
        ));
    }
    Ok(())
}

/// Files a stored material with the case (R-X1) and assesses its filing on the official
/// calendar (R-P5: late is accepted and marked). A trial-operation report also completes the
/// trial's record (R-A2).
pub fn file_material(
    case: &AcceptanceCase,
    u: Upload,
    report: Option<TrialReport>,
    calendar: &Calendar,
    ctx: Context<'_>,
) -> Result<Change<AcceptanceCase>, Refusal> {
    accept_material(case, u.kind, u.produced_on, &u.project_name, report.as_ref(), ctx)?;
    let filing = calendar
        .assess_filing(u.produced_on, ctx.policy.filing_working_days, ctx.today)
        .map_err(|e| Refusal::field("header.produced_on", format!("the working-day calendar cannot count from this date: {e}")))?;
    let mut next = case.clone();
    let late = filing.late;
    let deadline = filing.deadline;
    next.materials.push(Material {
        document_id: u.document_id,
        kind: u.kind,
        file_name: u.file_name,
        content_type: u.content_type,
        size_bytes: u.size_bytes,
        sha256: u.sha256.clone(),
        sm3: u.sm3.clone(),
        object_path: u.object_path,
        produced_on: u.produced_on,
        filed_on: ctx.today,
        filing,
        source: report.as_ref().map(|r| r.source),
        external_reference: report.as_ref().map(|r| r.external_reference.clone()).unwrap_or_default(),
        uploaded_by: u.uploaded_by,
        uploaded_at: ctx.now,
    });
    let change = match report {
        Some(r) => {
            if let Some(t) = next.trial.as_mut() {
                t.report_document_id = Some(u.document_id);
                t.report_source = Some(r.source);
            }
            let payload = Payload::TrialReportDeposited(ev::TrialReportDeposited {
                project_id: case.project_id.to_string(),
                document_id: u.document_id.to_string(),
                source: r.source.as_str().to_string(),
            });
            Change::new(next, "DepositTrialReport")
                .rules(&["R-A2", "R-P5", "R-X1"])
                .detail("source", r.source.as_str())
                .detail("external_reference", r.external_reference)
                .event(types::TRIAL_REPORT_DEPOSITED, payload)
        }
        None => Change::new(next, "FileMaterial").rules(&["R-P5", "R-X1"]),
    };
    Ok(change
        .detail("document_id", u.document_id.to_string())
        .detail("kind", u.kind.as_str())
        .detail("sha256", u.sha256)
        .detail("sm3", u.sm3)
        .detail("filing_deadline", deadline.to_string())
        .detail("late", late))
}

/// The unit's acceptance application (验收申请).
#[derive(Debug, Clone, Default)]
pub struct Application {
    pub built_modules: Vec<String>,
    pub goals_met: bool,
    pub function_performance_met: bool,
    pub statement: String,
    pub partial: bool,
    pub parties: Parties,
}

/// R-A3: the unit applies for acceptance once the trial is over; every item is checked and every
/// missing one listed at once. A failed project re-applies (R-A5) by its rectification deadline.
pub fn apply(case: &AcceptanceCase, a: Application, basis: &ProjectBasis, ctx: Context<'_>) -> Result<Change<AcceptanceCase>, Refusal> {
    ensure_open(case)?;
    match case.state {
        CaseState::InitialAcceptance | CaseState::TrialOperation | CaseState::Rectification => {}
        CaseState::ApplicationReview => return Err(out_of_order("R-A3", "the application is with DRB for review; wait for its decision")),
        CaseState::Acceptance => return Err(out_of_order("R-A3", "DRB approved the application; the acceptance is under way")),
        CaseState::Accepted => return Err(out_of_order("R-A5", "the project is accepted and in use")),
        CaseState::Closed | CaseState::RectificationLapsed => {}
    }
    if case.state == CaseState::Rectification
        && let Some(by) = case.rectify_by
        && ctx.today > by
    {
        return Err(Refusal::rule(
            "R-A5",
            "state",
            format!("a failed project re-applies by its rectification deadline {by} (整改期限); this re-application comes after it"),
        ));
    }
    let (checks, violations) = check_application(case, &a, basis, ctx);
    if !violations.is_empty() {
        return Err(Refusal::Rules(violations));
    }
    let mut next = case.clone();
    let attempt = u32::try_from(case.applications.len()).unwrap_or(u32::MAX).saturating_add(1);
    next.applications.push(AcceptanceApplication {
        attempt,
        applied_on: ctx.today,
        built_modules: a.built_modules,
        statement: a.statement.trim().to_string(),
        checks,
        reviewed: false,
        approved: false,
        review_reasons: String::new(),
        reviewed_by: String::new(),
    });
    next.state = CaseState::ApplicationReview;
    next.category = basis.category.clone();
    next.function_modules = basis.function_modules.clone();
    next.parties = parties(case, a.parties);
    let payload = Payload::AcceptanceApplied(ev::AcceptanceApplied { project_id: case.project_id.to_string(), attempt: attempt as i32 });
    let mut change = Change::new(next, "ApplyForAcceptance").rules(&["R-A3"]).detail("attempt", attempt).event(types::APPLIED, payload);
    if case.state == CaseState::Rectification {
        // Re-applied in time: the deadline is met (R-A5).
        change = change.rules(&["R-A3", "R-A5"]).cancel_timer(RECTIFICATION_DEADLINE, case.project_id.to_string());
    }
    Ok(change)
}

/// The running system's parties: as the unit states them, or the lead unit runs it and the lead
/// and participating units use it.
fn parties(case: &AcceptanceCase, stated: Parties) -> Parties {
    let h = &case.handover;
    let operator =
        if stated.operator_unit_id.trim().is_empty() { h.lead_unit_id.clone() } else { stated.operator_unit_id.trim().to_string() };
    let users = if stated.user_unit_ids.is_empty() {
        std::iter::once(h.lead_unit_id.clone()).chain(h.participating_unit_ids.iter().cloned()).collect()
    } else {
        stated.user_unit_ids.iter().map(|u| u.trim().to_string()).collect()
    };
    Parties { operator_unit_id: operator, user_unit_ids: users }
}

/// The R-A3 items, each checked: what was found, and the violations of what is missing.
fn check_application(
    case: &AcceptanceCase,
    a: &Application,
    basis: &ProjectBasis,
    ctx: Context<'_>,
) -> (Vec<ApplicationCheck>, Vec<RuleViolation>) {
    let mut list = Checklist::default();
    let mut item = |rule: &str, subject: &str, name: &str, ok: bool, detail: String| list.item(rule, subject, name, ok, detail);
    // 整体立项，整体验收.
    item(
        "R-A3",
        "partial",
        "整体验收 / whole project",
        !a.partial,
        if a.partial {
            "acceptance is of the whole project, never of a part (整体立项，整体验收)".into()
        } else {
            "the whole project".into()
        },
    );
    // The approval and the contract, from review and procurement.
    item(
        "R-A3",
        "approval",
        "立项文件 / approval",
        !basis.approval_cancelled && basis.approved_name.trim() == case.handover.project_name.trim(),
        if basis.approval_cancelled {
            "the project's approval is cancelled".into()
        } else if basis.approved_name.trim() != case.handover.project_name.trim() {
            format!("the approval names {:?}, the case {:?}", basis.approved_name, case.handover.project_name)
        } else {
            format!("{} approved: {}", case.handover.document_number, basis.approved_scope)
        },
    );
    let contract_done = basis.procurement_state == "CONSTRUCTION_COMPLETED";
    item(
        "R-A3",
        "contract",
        "合同 / contract",
        contract_done,
        if contract_done {
            "construction under the contract is complete".into()
        } else {
            format!("procurement shows the contract as {}", basis.procurement_state)
        },
    );
    let missing: Vec<&str> =
        basis.function_modules.iter().filter(|m| !a.built_modules.iter().any(|b| b.trim() == m.trim())).map(String::as_str).collect();
    item(
        "R-A3",
        "built_modules",
        "建设内容 / everything approved is built",
        missing.is_empty(),
        if missing.is_empty() {
            format!("all {} approved function module(s) built", basis.function_modules.len())
        } else {
            format!("not declared built: {}", missing.join("、"))
        },
    );
    item(
        "R-A3",
        "goals_met",
        "建设目标 / goals met",
        a.goals_met,
        if a.goals_met { "the unit states the goals are met".into() } else { "the unit does not state that the goals are met".into() },
    );
    let opinion = match &basis.expert_opinion {
        Some(o) => format!("expert opinion ({}): {}", if o.passed { "passed" } else { "failed" }, o.opinion),
        None => "approved on the fast track (R-R5): no expert review opinion".into(),
    };
    item("R-A3", "expert_opinion", "专家评审意见 / expert opinion (basis)", true, opinion);
    // Initial acceptance and its materials.
    let initial_passed = case.initial_acceptances.iter().any(|i| i.passed);
    item(
        "R-A3",
        "initial_acceptance",
        "初验 / initial acceptance passed",
        initial_passed,
        if initial_passed { "passed".into() } else { "initial acceptance has not passed (R-A1)".into() },
    );
    for kind in [MaterialKind::InitialPanelOpinions, MaterialKind::InitialMinutes, MaterialKind::InitialTestReport] {
        material_item(case, kind, &mut item);
    }
    // Function and performance.
    item(
        "R-A3",
        "function_performance_met",
        "功能性能 / function and performance meet the design",
        a.function_performance_met,
        if a.function_performance_met {
            "stated".into()
        } else {
            "the unit does not state that function and performance meet the design".into()
        },
    );
    material_item(case, MaterialKind::FunctionPerformanceTestReport, &mut item);
    if case.handover.classified_protection_level >= 2 {
        material_item(case, MaterialKind::ClassifiedProtectionAssessment, &mut item);
    }
    material_item(case, MaterialKind::XinchuangAssessment, &mut item);
    // The trial (R-A2) and its report.
    match &case.trial {
        Some(t) => {
            let over = ctx.today >= t.completes_on;
            let days = (ctx.today - t.started_on).whole_days();
            item(
                "R-A2",
                "trial",
                "试运行 / trial operation",
                over,
                if over {
                    format!("ran from {} ({days} days)", t.started_on)
                } else {
                    format!(
                        "the trial started on {} and runs at least {} days: the acceptance may be applied for from {} (today is its day {})",
                        t.started_on,
                        ctx.policy.min_trial_days,
                        t.completes_on,
                        days + 1
                    )
                },
            );
            let reported = t.report_document_id.is_some();
            item(
                "R-A3",
                "trial_report",
                "试运行报告 / trial-operation report",
                reported,
                match t.report_source {
                    Some(ReportSource::ProvincialSystem) => "from the provincial integrated digital resource system".into(),
                    Some(ReportSource::Manual) => "uploaded by DRB by hand (marked manual)".into(),
                    None => "the trial-operation report from the provincial system is not in yet".into(),
                },
            );
        }
        None => item("R-A2", "trial", "试运行 / trial operation", false, "no trial yet: it starts when initial acceptance passes".into()),
    }
    // The dossier.
    material_item(case, MaterialKind::ConstructionSummary, &mut item);
    if case.state == CaseState::Rectification
        && let Some(failed) = case.acceptances.last()
    {
        let rectified = case.materials_of(MaterialKind::RectificationReport).any(|m| m.produced_on >= failed.held_on);
        item(
            "R-A5",
            "rectification_report",
            "整改报告 / rectification report",
            rectified,
            if rectified {
                "filed".into()
            } else {
                format!("a re-application carries the report of what was rectified since the failed acceptance of {}", failed.held_on)
            },
        );
    }
    (list.checks, list.violations)
}

/// The items checked so far, and the violations among them.
#[derive(Default)]
struct Checklist {
    checks: Vec<ApplicationCheck>,
    violations: Vec<RuleViolation>,
}

impl Checklist {
    fn item(&mut self, rule: &str, subject: &str, name: &str, ok: bool, detail: String) {
        if !ok {
            self.violations.push(RuleViolation::new(rule, subject, format!("{name}: {detail}")));
        }
        self.checks.push(ApplicationCheck { item: name.to_string(), satisfied: ok, detail });
    }
}

fn material_item(case: &AcceptanceCase, kind: MaterialKind, item: &mut impl FnMut(&str, &str, &str, bool, String)) {
    let filed = case.materials_of(kind).last();
    let name = format!("{} / {}", kind.chinese(), kind.as_str());
    item(
        "R-A3",
        "materials",
        &name,
        filed.is_some(),
        match filed {
            Some(m) => format!("filed {}{}", m.filed_on, if m.filing.late { " (late, R-P5)" } else { "" }),
            None => format!("the {} is not filed", kind.chinese()),
        },
    );
}

/// R-A3: DRB reviews the application before acceptance starts: approve, or return it with
/// reasons. An approved application goes to its organiser (R-A4).
pub fn review_application(
    case: &AcceptanceCase,
    approve: bool,
    reasons: &str,
    reviewed_by: &str,
    _ctx: Context<'_>,
) -> Result<Change<AcceptanceCase>, Refusal> {
    ensure_open(case)?;
    if case.state != CaseState::ApplicationReview {
        return Err(out_of_order("R-A3", format!("DRB reviews an application the unit has made; the case is in {}", case.state)));
    }
    if !approve && reasons.trim().is_empty() {
        return Err(Refusal::field("reasons", "a returned application says why (退回理由)"));
    }
    let mut next = case.clone();
    if let Some(app) = next.applications.last_mut() {
        app.reviewed = true;
        app.approved = approve;
        app.review_reasons = reasons.trim().to_string();
        app.reviewed_by = reviewed_by.to_string();
    }
    let organiser = organiser(case.handover.channel);
    let mut change;
    if approve {
        next.state = CaseState::Acceptance;
        change = Change::new(next, "ApproveApplication").rules(&["R-A3", "R-A4"]).detail("organiser", organiser.as_str());
    } else {
        let back = if case.acceptances.last().is_some_and(|a| !a.passed) { CaseState::Rectification } else { CaseState::TrialOperation };
        next.state = back;
        change = Change::new(next.clone(), "ReturnApplication").rules(&["R-A3"]);
        if back == CaseState::Rectification
            && let Some(by) = next.rectify_by
        {
            // The re-application was returned: the deadline stands again.
            change = change.set_timer(RECTIFICATION_DEADLINE, case.project_id.to_string(), deadline_timer(by), serde_json::json!({}));
        }
    }
    let payload = Payload::AcceptanceApplicationReviewed(ev::AcceptanceApplicationReviewed {
        project_id: case.project_id.to_string(),
        approved: approve,
        reasons: reasons.trim().to_string(),
        organiser: organiser.as_str().to_string(),
    });
    change = change.reason(reasons.trim()).event(types::APPLICATION_REVIEWED, payload);
    Ok(change)
}

/// R-A4: who organises the acceptance of a project bought through `channel`.
pub fn organiser(channel: Channel) -> Organiser {
    match channel {
        Channel::GovernmentProcurement => Organiser::Drb,
        Channel::SmallPublicResourceTrading => Organiser::Unit,
    }
}

/// The organiser's record of the acceptance (R-A4).
#[derive(Debug, Clone)]
pub struct AcceptanceHeld {
    pub held_on: Date,
    pub experts: Vec<PanelMember>,
    pub conclusion: String,
    pub costs: Fen,
    pub drb_joined: bool,
    /// Who records it: DRB or the unit.
    pub recorded_as: Organiser,
    pub recorded_by: String,
}

/// R-A4 and R-A5: the organiser records the acceptance; the experts' majority decides. Pass →
/// the system goes into use; fail → the unit rectifies and re-applies by the deadline.
pub fn record_acceptance(case: &AcceptanceCase, r: AcceptanceHeld, ctx: Context<'_>) -> Result<Change<AcceptanceCase>, Refusal> {
    ensure_open(case)?;
    if case.state != CaseState::Acceptance {
        return Err(out_of_order(
            "R-A3",
            format!("DRB reviews and approves the acceptance application before the acceptance starts; the case is in {}", case.state),
        ));
    }
    let expected = organiser(case.handover.channel);
    if r.recorded_as != expected {
        let why = match case.handover.channel {
            Channel::GovernmentProcurement => "a government-procurement project's acceptance is led by DRB (区数据资源局牵头组织专家验收)",
            Channel::SmallPublicResourceTrading => {
                "a small public-resource trading project's acceptance is organised by the unit; DRB may join it (drb_joined)"
            }
        };
        return Err(Refusal::rule("R-A4", "organiser", why));
    }
    let mut fields = panel::member_fields("experts", &r.experts);
    if r.experts.is_empty() {
        fields.push(FieldViolation::new("experts", "the acceptance records its experts' opinions"));
    }
    if r.held_on > ctx.today {
        fields.push(FieldViolation::new("held_on", format!("{} is in the future", r.held_on)));
    }
    if r.conclusion.trim().is_empty() {
        fields.push(FieldViolation::new("conclusion", "the acceptance's conclusion (验收结论) is required"));
    }
    if !fields.is_empty() {
        return Err(Refusal::Fields(fields));
    }
    if let Some(app) = case.application()
        && r.held_on < app.applied_on
    {
        return Err(Refusal::rule(
            "R-A3",
            "held_on",
            format!("the acceptance follows the application of {}, not {}", app.applied_on, r.held_on),
        ));
    }
    let passed = panel::majority_passes(&r.experts);
    let mut next = case.clone();
    next.acceptances.push(AcceptanceRecord {
        held_on: r.held_on,
        organiser: r.recorded_as,
        drb_joined: r.drb_joined || r.recorded_as == Organiser::Drb,
        experts: r.experts,
        passed,
        conclusion: r.conclusion.trim().to_string(),
        costs: r.costs,
        recorded_by: r.recorded_by,
    });
    let id = case.project_id.to_string();
    let change = if passed {
        next.state = CaseState::Accepted;
        next.accepted_on = Some(r.held_on);
        next.rectify_by = None;
        let payload = events::accepted(&next);
        Change::new(next, "RecordAcceptance").rules(&["R-A4", "R-A5"]).event(types::ACCEPTED, payload)
    } else {
        let by = period::last_day(r.held_on, Period::Months(ctx.policy.rectification_months));
        next.state = CaseState::Rectification;
        next.rectify_by = Some(by);
        let payload = events::failed(&next, r.conclusion.trim());
        Change::new(next, "RecordAcceptance")
            .rules(&["R-A4", "R-A5"])
            .set_timer(RECTIFICATION_DEADLINE, id, deadline_timer(by), serde_json::json!({}))
            .event(types::FAILED, payload)
    };
    Ok(change.reason(r.conclusion.trim()).detail("passed", passed).detail("costs_fen", r.costs.get()))
}

/// When the rectification timer fires: 00:00 Asia/Shanghai after the last day.
fn deadline_timer(last_day: Date) -> time::OffsetDateTime {
    start_of_day(last_day.next_day().unwrap_or(last_day))
}

/// R-A5: the rectification deadline passed without a re-application: the case lapses (never put
/// into use) and DRB is alerted. `None` when there is nothing to do (re-applied in time, or the
/// clock is early).
pub fn rectification_lapsed(case: &AcceptanceCase, ctx: Context<'_>) -> Option<Change<AcceptanceCase>> {
    let by = case.rectify_by?;
    if case.state != CaseState::Rectification || ctx.today <= by {
        return None;
    }
    let mut next = case.clone();
    next.state = CaseState::RectificationLapsed;
    let payload = events::rectification_overdue(&next);
    Some(
        Change::new(next, "RectificationLapsed")
            .rules(&["R-A5"])
            .reason(format!("not rectified and re-applied by {by} (整改逾期): not accepted, not put into use"))
            .event(types::RECTIFICATION_OVERDUE, payload),
    )
}
