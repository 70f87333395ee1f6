//! Conversions between procurement's protobuf messages and its domain: requests parsed into
//! the domain's commands (every field error at once, named as the request names it), cases and
//! draws converted back.

use egov_platform::{
    AppError,
    convert::{self as c, Fields},
    error::{FieldViolation, Refusal},
    idempotency, request,
    values::Fen,
};
use egov_proto::procurement as pb;
use uuid::Uuid;

use crate::{
    app::{DrawCommand, Target},
    domain::{
        CaseState, ContractRecord, InspectionDraw, ProcurementCase, SecurityFlags, TerminationGround, YearMonth,
        case::{CompletionDeclaration, ContractFiling, Procurement, Report},
        contract::ContractTerms,
        payments::PaymentStage,
        progress,
        supervision::{self as sv, Channel, SupervisionContract},
        supplier,
        termination::TerminationFiling,
    },
};

fn state_pb(s: CaseState) -> i32 {
    c::enum_to_proto("CASE_STATE_", s.as_str(), |n| pb::CaseState::from_str_name(n).map(|e| e as i32))
}

/// The case as served; `today` counts an overrun still under way.
pub(super) fn case_pb(k: &ProcurementCase, today: time::Date) -> pb::ProcurementCase {
    pb::ProcurementCase {
        project_id: k.project_id.to_string(),
        project_name: k.project_name.clone(),
        lead_unit_id: k.lead_unit_id.clone(),
        budget_fen: k.budget_fen.get(),
        funding_source: k.funding_source.clone(),
        planned_construction_months: k.planned_construction_months,
        approved_on: Some(c::civil(k.approved_on)),
        document_number: k.document_number.clone(),
        procurement_deadline: k.procurement_deadline.map(c::civil),
        state: state_pb(k.state),
        procurement: k.procurement.as_ref().map(|p| pb::ProcurementRecord {
            channel: p.channel.clone(),
            method: p.method.clone(),
            supplier_name: p.supplier_name.clone(),
            supplier_credit_code: p.supplier_credit_code.clone(),
            amount_fen: p.amount_fen.get(),
            implementing_body: p.implementing_body.clone(),
            responsible_person: p.responsible_person.clone(),
            supervision: p.supervision.as_ref().map(|s| pb::Supervision {
                supplier_credit_code: s.supplier_credit_code.clone(),
                fee_fen: s.fee_fen.get(),
                separately_procured: s.separately_procured,
            }),
            completed_on: Some(c::civil(p.completed_on)),
            documents_filing: p.documents_filing.as_ref().map(|(filed_on, t)| pb::FilingAssessment {
                produced_on: Some(c::civil(p.completed_on)),
                filed_on: Some(c::civil(*filed_on)),
                deadline: Some(c::civil(t.deadline)),
                late: t.late,
                working_days_taken: t.working_days_taken,
                provisional_years: t.provisional_years.clone(),
            }),
        }),
        policy_version: k.policy_version.clone(),
        etag: k.version.to_string(),
        opened_at: Some(c::timestamp(k.opened_at)),
        contract: k.contract.as_ref().map(contract_pb),
        progress_reports: k
            .progress_reports
            .iter()
            .map(|r| pb::ProgressReport {
                month: Some(month_pb(r.month)),
                reported_on: Some(c::civil(r.reported_on)),
                due_on: Some(c::civil(r.due_on)),
                late: r.late,
                percent_complete: u32::from(r.percent_complete),
                summary: r.summary.clone(),
                issues: r.issues.clone(),
                reported_by: r.reported_by.clone(),
            })
            .collect(),
        missing_reports: k.missing_reports.iter().copied().map(month_pb).collect(),
        first_report_month: k.first_report_month.map(month_pb),
        overrun: k.overrun.as_ref().map(|o| pb::Overrun {
            contract_end: Some(c::civil(o.contract_end)),
            recorded_on: Some(c::civil(o.recorded_on)),
            explanation: o.explanation.clone().unwrap_or_default(),
            explained_on: o.explained_on.map(c::civil),
            days: progress::overrun_days(o.contract_end, k.completion.as_ref().map_or(today, |d| d.completed_on)),
        }),
        completion: k.completion.as_ref().map(|d| pb::Completion {
            completed_on: Some(c::civil(d.completed_on)),
            declared_on: Some(c::civil(d.declared_on)),
            summary: d.summary.clone(),
            overrun_days: d.overrun_days,
        }),
        termination: k.termination.as_ref().map(|t| pb::Termination {
            kind: t.kind.clone(),
            ground: ground_pb(t.ground),
            reason: t.reason.clone(),
            progress: t.progress.clone(),
            payments: t.payments.clone(),
            paid_fen: t.paid_fen.get(),
            party_committee_resolution: t.party_committee_resolution.clone(),
            leader_approval: t.leader_approval.clone(),
            filed_on: Some(c::civil(t.filed_on)),
            filed_by: t.filed_by.clone(),
        }),
    }
}

fn month_pb(m: YearMonth) -> pb::YearMonth {
    pb::YearMonth { year: m.year, month: i32::from(m.month) }
}

fn ground_pb(g: TerminationGround) -> i32 {
    c::enum_to_proto("TERMINATION_GROUND_", g.as_str(), |n| pb::TerminationGround::from_str_name(n).map(|e| e as i32))
}

fn security_pb(s: &SecurityFlags) -> pb::SecurityFlags {
    pb::SecurityFlags {
        classified_protection_level: i32::from(s.classified_protection_level),
        important_system: s.important_system,
        yearly_assessment_required: s.yearly_assessment_required(),
        cryptography_assessment_required: s.cryptography_assessment_required(),
    }
}

fn signed_pb(v: Option<bool>) -> i32 {
    match v {
        Some(true) => pb::SignedStatement::Signed as i32,
        Some(false) => pb::SignedStatement::NotSigned as i32,
        None => pb::SignedStatement::NotStated as i32,
    }
}

fn contract_pb(k: &ContractRecord) -> pb::ContractRecord {
    let t = &k.terms;
    pb::ContractRecord {
        terms: Some(pb::ContractTerms {
            project_name: t.project_name.clone(),
            construction_start: Some(c::civil(t.construction_start)),
            construction_end: Some(c::civil(t.construction_end)),
            amount_fen: t.amount_fen.get(),
            ip_owned_by_unit_or_joint: t.ip_owned_by_unit_or_joint,
            data_owned_by_unit: t.data_owned_by_unit,
            security_agreement: signed_pb(t.security_agreement_signed),
            security_responsibility_letter: signed_pb(t.security_responsibility_letter_signed),
            maintenance_scope: t.maintenance_scope.clone(),
            maintenance_start: t.maintenance_start.map(c::civil),
            maintenance_end: t.maintenance_end.map(c::civil),
            maintenance_duty: t.maintenance_duty.clone(),
            security_duties_and_penalties: t.security_duties_and_penalties,
            overrun_penalty_clause: t.overrun_penalty_clause,
        }),
        signed_on: Some(c::civil(k.signed_on)),
        filed_on: Some(c::civil(k.filed_on)),
        filing_deadline: Some(c::civil(k.deadline)),
        late: k.late,
        working_days_taken: k.working_days_taken,
        provisional_years: k.provisional_years.clone(),
        payment_stages: k
            .stages
            .iter()
            .map(|s| pb::PaymentStage {
                stage_id: s.stage_id.clone(),
                condition: s.condition.clone(),
                ratio_bp: s.ratio_bp,
                amount_fen: s.amount_fen.get(),
                condition_met: s.condition_met.is_some(),
                condition_evidence: s.condition_met.as_ref().map(|m| m.evidence.clone()).unwrap_or_default(),
                condition_met_on: s.condition_met.as_ref().map(|m| c::civil(m.on)),
                condition_met_by: s.condition_met.as_ref().map(|m| m.by.clone()).unwrap_or_default(),
                paid_fen: k.paid_for(&s.stage_id).get(),
            })
            .collect(),
        payments: k
            .payments
            .iter()
            .map(|p| pb::PaymentFiling {
                stage_id: p.stage_id.clone(),
                amount_fen: p.amount_fen.get(),
                filed_on: Some(c::civil(p.filed_on)),
            })
            .collect(),
        paid_fen: k.paid_fen().get(),
        security: Some(security_pb(&k.security)),
    }
}

/// A contract's statement about a signed document: `None` when it does not say (R-P2).
fn signed_statement(f: &mut Fields, field: &str, raw: i32) -> Option<bool> {
    match pb::SignedStatement::try_from(raw) {
        Ok(pb::SignedStatement::Signed) => Some(true),
        Ok(pb::SignedStatement::NotSigned) => Some(false),
        Ok(pb::SignedStatement::NotStated | pb::SignedStatement::Unspecified) => None,
        Err(_) => {
            f.push(field, format!("{raw} is not a SignedStatement"));
            None
        }
    }
}

fn optional_date(f: &mut Fields, field: &str, d: Option<&egov_proto::common::CivilDate>) -> Option<time::Date> {
    d.and_then(|d| f.take(c::date(field, Some(d))))
}

/// R-P9 flags: the 等保 level is required, 1..5.
fn security_flags(f: &mut Fields, s: Option<&pb::SecurityFlags>) -> SecurityFlags {
    let Some(s) = s else {
        f.push("security", "required (R-P9): the 等保 level (1..5) and whether it is an important information system");
        return SecurityFlags::default();
    };
    match u8::try_from(s.classified_protection_level) {
        Ok(level @ 1..=5) => SecurityFlags { classified_protection_level: level, important_system: s.important_system },
        _ => {
            f.push("security.classified_protection_level", "the 等保 level as graded (定级), 1 to 5 (R-P9)");
            SecurityFlags::default()
        }
    }
}

pub(super) fn draw_pb(d: &InspectionDraw) -> pb::InspectionDraw {
    pb::InspectionDraw {
        draw_id: d.draw_id.to_string(),
        seed: d.seed,
        count: d.count,
        pool: d.pool.clone(),
        drawn: d.drawn.clone(),
        drawn_at: Some(c::timestamp(d.drawn_at)),
        drawn_by: d.drawn_by.clone(),
        note: d.note.clone(),
    }
}

pub(super) fn case_state(raw: i32) -> Result<Option<CaseState>, FieldViolation> {
    c::enum_from_proto("state", raw, |i| pb::CaseState::try_from(i).ok().map(|e| e.as_str_name()), "CASE_STATE_", CaseState::parse)
}

/// Parses the id and etag into `f` (their errors join the others).
fn target(f: &mut Fields, project_id: &str, etag: &str) -> (Uuid, i64) {
    let id = f.take(request::id("project_id", project_id)).unwrap_or_default();
    let etag = f.take(request::etag("etag", etag)).unwrap_or_default();
    (id, etag)
}

/// A value that a successful `Fields::finish` guarantees.
fn parsed<T>(v: Option<T>, field: &str) -> Result<T, AppError> {
    v.ok_or_else(|| AppError::field(field, "required"))
}

/// R-P3, R-P4: what the unit records of its procurement.
pub(super) fn record_procurement(r: pb::RecordProcurementRequest) -> Result<Target<Procurement>, AppError> {
    let mut f = Fields::new();
    let (id, etag) = target(&mut f, &r.project_id, &r.etag);
    let Some(rec) = r.record else { return Err(AppError::field("record", "required")) };
    let channel = Channel::parse(rec.channel.trim());
    if channel.is_none() {
        f.push("record.channel", "GOVERNMENT_PROCUREMENT (政府采购) or SMALL_PUBLIC_RESOURCE_TRADING (小额公共资源交易), R-P4");
    }
    f.required("record.method", &rec.method);
    f.required("record.supplier_name", &rec.supplier_name);
    let credit = f.take(supplier::validate_uscc(&rec.supplier_credit_code).map(supplier::Uscc::into_string).map_err(|mut v| {
        v.field = "record.supplier_credit_code".into();
        v
    }));
    if rec.amount_fen <= 0 {
        f.push("record.amount_fen", "the contract amount in fen, more than 0");
    }
    let completed_on = f.take(c::date("record.completed_on", rec.completed_on.as_ref()));
    let supervision = rec.supervision.as_ref().and_then(|s| {
        let fee_fen = f.take(Fen::field("record.supervision.fee_fen", s.fee_fen))?;
        Some(SupervisionContract {
            supplier_credit_code: s.supplier_credit_code.clone(),
            fee_fen,
            separately_procured: s.separately_procured,
        })
    });
    match sv::check_implementing_body(&rec.implementing_body, &rec.responsible_person) {
        Ok(()) => {}
        // The domain names the aggregate's fields; the request holds them under `record`.
        Err(Refusal::Fields(missing)) => missing.into_iter().for_each(|v| f.push(format!("record.{}", v.field), v.description)),
        Err(other) => return Err(other.into()),
    }
    f.finish()?;
    let command = Procurement {
        channel: parsed(channel, "record.channel")?,
        method: rec.method.trim().into(),
        supplier_name: rec.supplier_name.trim().into(),
        supplier_credit_code: parsed(credit, "record.supplier_credit_code")?,
        amount: Fen::positive("record.amount_fen", rec.amount_fen)?,
        implementing_body: rec.implementing_body.trim().into(),
        responsible_person: rec.responsible_person.trim().into(),
        supervision,
        completed_on: parsed(completed_on, "record.completed_on")?,
    };
    Ok(Target { id, etag, request_id: r.request_id, command })
}

/// R-P2, R-P9: a contract filing.
pub(super) fn file_contract(r: pb::FileContractRequest) -> Result<Target<ContractFiling>, AppError> {
    let mut f = Fields::new();
    let (id, etag) = target(&mut f, &r.project_id, &r.etag);
    let Some(t) = r.terms else { return Err(AppError::field("terms", "required")) };
    let construction_start = f.take(c::date("terms.construction_start", t.construction_start.as_ref()));
    let construction_end = f.take(c::date("terms.construction_end", t.construction_end.as_ref()));
    let amount_fen = f.take(Fen::field("terms.amount_fen", t.amount_fen));
    let security_agreement_signed = signed_statement(&mut f, "terms.security_agreement", t.security_agreement);
    let security_responsibility_letter_signed =
        signed_statement(&mut f, "terms.security_responsibility_letter", t.security_responsibility_letter);
    let maintenance_start = optional_date(&mut f, "terms.maintenance_start", t.maintenance_start.as_ref());
    let maintenance_end = optional_date(&mut f, "terms.maintenance_end", t.maintenance_end.as_ref());
    let security = security_flags(&mut f, r.security.as_ref());
    let signed_on = f.take(c::date("contract_signed_on", r.contract_signed_on.as_ref()));
    let filed_on = f.take(c::date("filed_on", r.filed_on.as_ref()));
    if let (Some(s), Some(fd)) = (signed_on, filed_on)
        && fd < s
    {
        f.push("filed_on", format!("{fd} is before the contract was signed ({s})"));
    }
    f.finish()?;
    let terms = ContractTerms {
        project_name: t.project_name.trim().into(),
        construction_start: parsed(construction_start, "terms.construction_start")?,
        construction_end: parsed(construction_end, "terms.construction_end")?,
        amount_fen: parsed(amount_fen, "terms.amount_fen")?,
        ip_owned_by_unit_or_joint: t.ip_owned_by_unit_or_joint,
        data_owned_by_unit: t.data_owned_by_unit,
        security_agreement_signed,
        security_responsibility_letter_signed,
        maintenance_scope: t.maintenance_scope.trim().into(),
        maintenance_start,
        maintenance_end,
        maintenance_duty: t.maintenance_duty.trim().into(),
        security_duties_and_penalties: t.security_duties_and_penalties,
        overrun_penalty_clause: t.overrun_penalty_clause,
    };
    let command =
        ContractFiling { terms, security, signed_on: parsed(signed_on, "contract_signed_on")?, filed_on: parsed(filed_on, "filed_on")? };
    Ok(Target { id, etag, request_id: r.request_id, command })
}

/// R-P6: the contract's payment stages (checked by the rule: the domain's).
pub(super) fn payment_plan(r: pb::SetPaymentPlanRequest) -> Result<Target<Vec<PaymentStage>>, AppError> {
    let mut f = Fields::new();
    let (id, etag) = target(&mut f, &r.project_id, &r.etag);
    f.finish()?;
    let command = r
        .stages
        .iter()
        .map(|s| PaymentStage { stage_id: s.stage_id.trim().into(), condition: s.condition.trim().into(), ratio_bp: s.ratio_bp })
        .collect();
    Ok(Target { id, etag, request_id: r.request_id, command })
}

/// R-P6: a stage's condition met, with its evidence: (stage id, evidence).
pub(super) fn stage_condition(r: pb::MarkStageConditionMetRequest) -> Result<Target<(String, String)>, AppError> {
    let mut f = Fields::new();
    let (id, etag) = target(&mut f, &r.project_id, &r.etag);
    f.required("stage_id", &r.stage_id);
    f.required("evidence", &r.evidence);
    f.finish()?;
    let command = (r.stage_id.trim().to_string(), r.evidence.trim().to_string());
    Ok(Target { id, etag, request_id: r.request_id, command })
}

/// R-P6: a fund payment filing: (stage id, amount).
pub(super) fn payment(r: pb::FilePaymentRequest) -> Result<Target<(String, Fen)>, AppError> {
    let mut f = Fields::new();
    let (id, etag) = target(&mut f, &r.project_id, &r.etag);
    f.required("stage_id", &r.stage_id);
    let amount =
        f.take(Fen::positive("amount_fen", r.amount_fen).map_err(|v| FieldViolation::new(v.field, "the payment in fen, more than 0")));
    f.finish()?;
    let command = (r.stage_id.trim().to_string(), parsed(amount, "amount_fen")?);
    Ok(Target { id, etag, request_id: r.request_id, command })
}

/// A month from the request: required, 1..12.
fn year_month(f: &mut Fields, field: &str, m: Option<&pb::YearMonth>) -> Option<YearMonth> {
    let Some(m) = m else {
        f.push(field, "required: the year and month reported on");
        return None;
    };
    let ym = u8::try_from(m.month).ok().and_then(|month| YearMonth::new(m.year, month)).filter(|_| (2000..=2100).contains(&m.year));
    if ym.is_none() {
        f.push(field, format!("{}-{} is not a month (year 2000..2100, month 1..12)", m.year, m.month));
    }
    ym
}

/// R-P7: a monthly progress report.
pub(super) fn report(r: pb::ReportProgressRequest) -> Result<Target<Report>, AppError> {
    let mut f = Fields::new();
    let (id, etag) = target(&mut f, &r.project_id, &r.etag);
    let month = year_month(&mut f, "month", r.month.as_ref());
    let percent = u8::try_from(r.percent_complete).ok().filter(|p| *p <= 100);
    if percent.is_none() {
        f.push("percent_complete", "0 to 100");
    }
    f.required("summary", &r.summary);
    f.finish()?;
    let command = Report {
        month: parsed(month, "month")?,
        percent_complete: parsed(percent, "percent_complete")?,
        summary: r.summary.trim().into(),
        issues: r.issues.trim().into(),
    };
    Ok(Target { id, etag, request_id: r.request_id, command })
}

/// R-P8: the unit's explanation of an overrun.
pub(super) fn explanation(r: pb::ExplainOverrunRequest) -> Result<Target<String>, AppError> {
    let mut f = Fields::new();
    let (id, etag) = target(&mut f, &r.project_id, &r.etag);
    f.required("explanation", &r.explanation);
    f.finish()?;
    Ok(Target { id, etag, request_id: r.request_id, command: r.explanation.trim().to_string() })
}

/// R-P8: the declaration that construction is complete.
pub(super) fn completion(r: pb::DeclareConstructionCompleteRequest) -> Result<Target<CompletionDeclaration>, AppError> {
    let mut f = Fields::new();
    let (id, etag) = target(&mut f, &r.project_id, &r.etag);
    let completed_on = f.take(c::date("completed_on", r.completed_on.as_ref()));
    f.required("summary", &r.summary);
    f.finish()?;
    let command = CompletionDeclaration {
        completed_on: parsed(completed_on, "completed_on")?,
        summary: r.summary.trim().into(),
        overrun_explanation: r.overrun_explanation.trim().into(),
    };
    Ok(Target { id, etag, request_id: r.request_id, command })
}

/// R-P10: the revocation or termination filing (its completeness is the rule's: the domain's).
pub(super) fn termination(r: pb::TerminateProjectRequest) -> Result<Target<TerminationFiling>, AppError> {
    let mut f = Fields::new();
    let (id, etag) = target(&mut f, &r.project_id, &r.etag);
    let ground = match pb::TerminationGround::try_from(r.ground) {
        Ok(pb::TerminationGround::Unspecified) => None,
        Ok(g) => TerminationGround::parse(g.as_str_name().trim_start_matches("TERMINATION_GROUND_")),
        Err(_) => {
            f.push("ground", format!("{} is not a TerminationGround", r.ground));
            None
        }
    };
    f.finish()?;
    let command = TerminationFiling {
        ground,
        reason: r.reason.trim().into(),
        progress: r.progress.trim().into(),
        payments: r.payments.trim().into(),
        party_committee_resolution: r.party_committee_resolution.trim().into(),
        leader_approval: r.leader_approval.trim().into(),
    };
    Ok(Target { id, etag, request_id: r.request_id, command })
}

/// The most projects one draw may ask for.
const MAX_DRAW: u32 = 1000;

/// R-P7: DRB's draw: the request id and what is asked.
pub(super) fn draw(r: pb::DrawInspectionsRequest) -> Result<(String, DrawCommand), AppError> {
    let mut f = Fields::new();
    let request_id = f.take(idempotency::request_id("request_id", &r.request_id)).unwrap_or_default();
    if r.count == 0 || r.count > MAX_DRAW {
        f.push("count", format!("how many projects to draw, 1 to {MAX_DRAW}"));
    }
    f.finish()?;
    Ok((request_id, DrawCommand { count: r.count, seed: r.seed, note: r.note.trim().into() }))
}
