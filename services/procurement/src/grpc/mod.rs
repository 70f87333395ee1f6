//! Procurement's gRPC handlers: authorise, parse, apply the rules, persist case + audit +
//! outbox in one transaction.

mod construction;
mod inspections;
pub mod roles;

use std::sync::Arc;

use egov_calendar::Calendar;
use egov_platform::{
    AppError,
    audit::{self, AuditEntry},
    auth::{Principal, Role},
    clock::SharedClock,
    convert::{self as c, Fields},
    outbox, paging,
    policy::{Policy, PolicyBook},
    timers,
};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    procurement::{self as pb, procurement_server::Procurement},
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::{
    domain::{
        CaseState, ConditionMet, ContractRecord, PaymentRecord, ProcurementCase, ProcurementRecord, SecurityFlags, StageRecord,
        Supervision, TerminationGround, YearMonth,
        contract::{self as ct, ApprovedPlan, ContractTerms},
        deadline, filing,
        payments::{self as pay, PaymentStage},
        progress,
        supervision::{self as sv, Channel, SupervisionContract},
        supplier,
    },
    jobs,
    messaging::{self, types},
    storage,
};

pub struct ProcurementState {
    pub pool: PgPool,
    pub clock: SharedClock,
    pub policy: Arc<PolicyBook>,
    /// The official working-day calendar (R-P5), loaded once at start.
    pub calendar: Calendar,
}

#[derive(Clone)]
pub struct ProcurementApi {
    s: Arc<ProcurementState>,
}

impl ProcurementApi {
    pub fn new(s: Arc<ProcurementState>) -> ProcurementApi {
        ProcurementApi { s }
    }
}

type R<T> = Result<Response<T>, Status>;

fn state_pb(s: CaseState) -> i32 {
    c::enum_to_proto("CASE_STATE_", s.as_str(), |n| pb::CaseState::from_str_name(n).map(|e| e as i32))
}

/// The case as served; `today` counts an overrun still under way.
fn case_pb(k: &ProcurementCase, today: time::Date) -> pb::ProcurementCase {
    pb::ProcurementCase {
        project_id: k.project_id.to_string(),
        project_name: k.project_name.clone(),
        lead_unit_id: k.lead_unit_id.clone(),
        budget_fen: k.budget_fen,
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
            amount_fen: p.amount_fen,
            implementing_body: p.implementing_body.clone(),
            responsible_person: p.responsible_person.clone(),
            supervision: p.supervision.as_ref().map(|s| pb::Supervision {
                supplier_credit_code: s.supplier_credit_code.clone(),
                fee_fen: s.fee_fen,
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
            paid_fen: t.paid_fen,
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
            amount_fen: t.amount_fen,
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
                amount_fen: s.amount_fen,
                condition_met: s.condition_met.is_some(),
                condition_evidence: s.condition_met.as_ref().map(|m| m.evidence.clone()).unwrap_or_default(),
                condition_met_on: s.condition_met.as_ref().map(|m| c::civil(m.on)),
                condition_met_by: s.condition_met.as_ref().map(|m| m.by.clone()).unwrap_or_default(),
                paid_fen: k.paid_for(&s.stage_id),
            })
            .collect(),
        payments: k
            .payments
            .iter()
            .map(|p| pb::PaymentFiling { stage_id: p.stage_id.clone(), amount_fen: p.amount_fen, filed_on: Some(c::civil(p.filed_on)) })
            .collect(),
        paid_fen: k.paid_fen(),
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

/// The version check every update makes before changing the case.
fn check_etag(case: &ProcurementCase, etag: i64) -> Result<(), AppError> {
    if case.version == etag {
        Ok(())
    } else {
        Err(AppError::Aborted(format!("the case has etag {}, the request sent {etag}", case.version)))
    }
}

/// The filed contract of a case under construction or completed (the last stages are paid after
/// initial and final acceptance), for R-P6's stages and payments.
fn filed_contract(case: &mut ProcurementCase) -> Result<&mut ContractRecord, AppError> {
    match (case.state, case.contract.as_mut()) {
        (CaseState::Construction | CaseState::ConstructionCompleted, Some(k)) => Ok(k),
        (state, _) => Err(AppError::InvalidState(format!(
            "payments are filed against a contract under construction or completed (R-P6); this case is {state}"
        ))),
    }
}

/// Names `check_contract`'s fields and subjects as the request does (`terms.…`).
fn under_terms(e: AppError) -> AppError {
    let name = |f: &mut String| {
        if !f.starts_with("plan.") {
            *f = format!("terms.{f}");
        }
    };
    match e {
        AppError::InvalidArgument(mut v) => {
            v.iter_mut().for_each(|f| name(&mut f.field));
            AppError::InvalidArgument(v)
        }
        AppError::Rule(mut v) => {
            v.iter_mut().for_each(|r| name(&mut r.subject));
            AppError::Rule(v)
        }
        other => other,
    }
}

/// Who acted, as recorded on the case: role and unit (or subject).
fn actor(p: &Principal) -> String {
    format!("{} {}", p.role, p.unit.clone().unwrap_or_else(|| p.subject.clone()))
}

/// What an update did: audited, published, and whether R-P1's clock stops.
struct Change {
    action: &'static str,
    resource: String,
    rules: &'static [&'static str],
    details: serde_json::Value,
    events: Vec<(&'static str, Payload)>,
    stop_deadline: bool,
    timers: Vec<TimerOp>,
}

/// A timer an update sets or stops, in its transaction.
enum TimerOp {
    /// R-P7: check that this month's report came in.
    ReportCheck(YearMonth),
    /// R-P8: check for an overrun when this last construction day has ended.
    OverrunCheck(time::Date),
    /// Construction ended: no more report or overrun checks.
    StopConstruction,
}

impl Change {
    fn new(action: &'static str, resource: String, rules: &'static [&'static str], details: serde_json::Value) -> Change {
        Change { action, resource, rules, details, events: vec![], stop_deadline: false, timers: vec![] }
    }
}

impl ProcurementApi {
    /// Load (locked) → UNIT must be the lead unit → etag → `f` (the rules, given the pinned policy
    /// and today) → store the case, its audit record and events in one transaction.
    async fn transition<F>(&self, p: &Principal, id: uuid::Uuid, etag: i64, request_id: &str, f: F) -> Result<ProcurementCase, AppError>
    where
        F: FnOnce(&mut ProcurementCase, &Policy, time::Date) -> Result<Change, AppError>,
    {
        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await?;
        let mut case = storage::get_case(&mut tx, id, true).await?;
        p.ensure_unit(&case.lead_unit_id, [])?;
        check_etag(&case, etag)?;
        let policy = self.policy_of(&case)?;
        let change = f(&mut case, &policy, egov_platform::clock::civil_date(now))?;
        case.version += 1;
        storage::update_case(&mut tx, &case).await?;
        if change.stop_deadline {
            timers::cancel(&mut tx, jobs::PROCUREMENT_DEADLINE, &id.to_string()).await?;
        }
        for op in &change.timers {
            match op {
                TimerOp::ReportCheck(m) => jobs::schedule_report_check(&mut tx, id, *m, &policy).await?,
                TimerOp::OverrunCheck(end) => jobs::schedule_overrun_check(&mut tx, id, *end).await?,
                TimerOp::StopConstruction => jobs::cancel_construction_timers(&mut tx, id).await?,
            }
        }
        let entry = AuditEntry::by(p, change.action, change.resource)
            .project(id.to_string())
            .rules(change.rules)
            .policy(&case.policy_version)
            .request(request_id)
            .details(change.details);
        audit::append(&mut tx, now, &entry).await?;
        for (t, payload) in change.events {
            outbox::enqueue(&mut tx, &messaging::envelope(t, &case, now, payload)).await?;
        }
        tx.commit().await?;
        Ok(case)
    }

    /// The case as served today.
    fn served(&self, k: &ProcurementCase) -> pb::ProcurementCase {
        case_pb(k, self.s.clock.today())
    }

    /// The policy version the case is pinned to.
    fn policy_of(&self, case: &ProcurementCase) -> Result<Arc<Policy>, AppError> {
        self.s.policy.version(&case.policy_version).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("policy version {:?} of case {} is not loaded", case.policy_version, case.project_id))
        })
    }
}

#[tonic::async_trait]
impl Procurement for ProcurementApi {
    async fn get_case(&self, req: Request<pb::GetCaseRequest>) -> R<pb::ProcurementCase> {
        let p = Principal::from_request(&req)?;
        let id = c::uuid("project_id", &req.get_ref().project_id).map_err(AppError::from)?;
        let mut conn = self.s.pool.acquire().await.map_err(AppError::from)?;
        let k = storage::get_case(&mut conn, id, false).await?;
        p.ensure_unit(&k.lead_unit_id, k.participating_unit_ids.iter())?;
        Ok(Response::new(self.served(&k)))
    }

    async fn list_cases(&self, req: Request<pb::ListCasesRequest>) -> R<pb::ListCasesResponse> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let limit = paging::page_size(r.page_size).map_err(AppError::from)?;
        let after = if r.page_token.is_empty() { None } else { Some(c::uuid("page_token", &r.page_token).map_err(AppError::from)?) };
        let state = c::enum_from_proto(
            "state",
            r.state,
            |i| pb::CaseState::try_from(i).ok().map(|e| e.as_str_name()),
            "CASE_STATE_",
            CaseState::parse,
        )
        .map_err(AppError::from)?;
        let mut unit = (!r.unit_id.is_empty()).then(|| r.unit_id.clone());
        if p.is(Role::Unit) {
            let mine = p.unit.clone().unwrap_or_default();
            if unit.as_ref().is_some_and(|u| *u != mine) {
                return Err(AppError::PermissionDenied(format!("unit {mine} may not list cases of unit {}", r.unit_id)).into());
            }
            unit = Some(mine);
        }
        let mut conn = self.s.pool.acquire().await.map_err(AppError::from)?;
        let rows = storage::list_cases(&mut conn, unit.as_deref(), state, after, limit + 1).await?;
        let (rows, next) = paging::page(rows, limit, |k| k.project_id.to_string());
        Ok(Response::new(pb::ListCasesResponse { cases: rows.iter().map(|k| self.served(k)).collect(), next_page_token: next }))
    }

    async fn record_procurement(&self, req: Request<pb::RecordProcurementRequest>) -> R<pb::ProcurementCase> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(c::uuid("project_id", &r.project_id)).unwrap_or_default();
        let etag = f.take(c::etag("etag", &r.etag)).unwrap_or_default();
        let Some(rec) = r.record else { return Err(AppError::field("record", "required").into()) };
        let channel = Channel::parse(rec.channel.trim());
        if channel.is_none() {
            f.push("record.channel", "GOVERNMENT_PROCUREMENT (政府采购) or SMALL_PUBLIC_RESOURCE_TRADING (小额公共资源交易), R-P4");
        }
        f.required("record.method", &rec.method);
        f.required("record.supplier_name", &rec.supplier_name);
        let credit = f.take(supplier::validate_uscc(&rec.supplier_credit_code).map(|_| rec.supplier_credit_code.trim().to_uppercase()));
        if rec.amount_fen <= 0 {
            f.push("record.amount_fen", "the contract amount in fen, more than 0");
        }
        let completed_on = f.take(c::date("record.completed_on", rec.completed_on.as_ref()));
        f.finish()?;
        sv::check_implementing_body(&rec.implementing_body, &rec.responsible_person)?;
        let (channel, credit, completed_on) = (
            channel.unwrap_or(Channel::SmallPublicResourceTrading),
            credit.unwrap_or_default(),
            completed_on.unwrap_or_else(|| self.s.clock.today()),
        );
        let supervision = rec.supervision.as_ref().map(|s| SupervisionContract {
            supplier_credit_code: s.supplier_credit_code.clone(),
            fee_fen: s.fee_fen,
            separately_procured: s.separately_procured,
        });
        let calendar = &self.s.calendar;
        let case = self
            .transition(&p, id, etag, &r.request_id, |case, policy, today| {
                if case.state != CaseState::Procuring {
                    return Err(AppError::InvalidState(format!("procurement is recorded while procuring; this case is {}", case.state)));
                }
                if completed_on > today || completed_on < case.approved_on {
                    return Err(AppError::field("record.completed_on", "between the approval date and today"));
                }
                if rec.amount_fen > case.budget_fen {
                    return Err(AppError::rule(
                        "R-P3",
                        "record.amount_fen",
                        format!("the contract amount exceeds the approved budget of {} fen", case.budget_fen),
                    ));
                }
                sv::check_supervision(channel, supervision.clone(), case.budget_fen)?;
                let in_time = deadline::in_time(case.procurement_deadline, completed_on);
                // R-P5: the procurement documents, produced on completion, are filed now.
                let documents = filing::assess(calendar, completed_on, today, policy).map_err(|e| match e {
                    AppError::InvalidArgument(mut v) => {
                        v.iter_mut().for_each(|f| f.field = "record.completed_on".into());
                        AppError::InvalidArgument(v)
                    }
                    other => other,
                })?;
                let documents_late = documents.late;
                case.procurement = Some(ProcurementRecord {
                    channel: channel.as_str().into(),
                    method: rec.method.trim().into(),
                    supplier_name: rec.supplier_name.trim().into(),
                    supplier_credit_code: credit,
                    amount_fen: rec.amount_fen,
                    implementing_body: rec.implementing_body.trim().into(),
                    responsible_person: rec.responsible_person.trim().into(),
                    supervision: supervision.map(|s| Supervision {
                        supplier_credit_code: s.supplier_credit_code,
                        fee_fen: s.fee_fen,
                        separately_procured: s.separately_procured,
                    }),
                    completed_on,
                    in_time,
                    documents_filing: Some((today, documents.clone())),
                });
                case.state = CaseState::Procured;
                let mut ch = Change::new(
                    "RecordProcurement",
                    format!("cases/{id}"),
                    &["R-P1", "R-P3", "R-P4", "R-P5"],
                    serde_json::json!({
                        "channel": channel.as_str(),
                        "amount_fen": rec.amount_fen,
                        "in_time": in_time,
                        "documents_deadline": documents.deadline.to_string(),
                        "documents_late": documents_late,
                        "provisional_years": documents.provisional_years,
                    }),
                );
                ch.stop_deadline = true;
                ch.events.push((types::COMPLETED, Payload::ProcurementCompleted(ev::ProcurementCompleted { project_id: id.to_string() })));
                Ok(ch)
            })
            .await?;
        Ok(Response::new(self.served(&case)))
    }

    async fn file_contract(&self, req: Request<pb::FileContractRequest>) -> R<pb::ProcurementCase> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(c::uuid("project_id", &r.project_id)).unwrap_or_default();
        let etag = f.take(c::etag("etag", &r.etag)).unwrap_or_default();
        let Some(t) = r.terms else { return Err(AppError::field("terms", "required").into()) };
        let construction_start = f.take(c::date("terms.construction_start", t.construction_start.as_ref()));
        let construction_end = f.take(c::date("terms.construction_end", t.construction_end.as_ref()));
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
        let (Some(construction_start), Some(construction_end), Some(signed_on), Some(filed_on)) =
            (construction_start, construction_end, signed_on, filed_on)
        else {
            return Err(AppError::field("terms", "required").into());
        };
        let terms = ContractTerms {
            project_name: t.project_name.trim().into(),
            construction_start,
            construction_end,
            amount_fen: t.amount_fen,
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
        let calendar = &self.s.calendar;
        let case = self
            .transition(&p, id, etag, &r.request_id, |case, policy, today| {
                if case.state != CaseState::Procured {
                    return Err(AppError::InvalidState(format!(
                        "a contract is filed once procurement is recorded; this case is {}",
                        case.state
                    )));
                }
                let mut f = Fields::new();
                if filed_on > today {
                    f.push("filed_on", format!("{filed_on} is after today ({today})"));
                }
                if signed_on < case.approved_on {
                    f.push("contract_signed_on", format!("{signed_on} is before the approval ({})", case.approved_on));
                }
                if terms.amount_fen > case.budget_fen {
                    f.push("terms.amount_fen", format!("{} fen exceeds the approved budget of {} fen", terms.amount_fen, case.budget_fen));
                }
                f.finish()?;
                let plan =
                    ApprovedPlan { project_name: case.project_name.clone(), planned_construction_months: case.planned_construction_months };
                ct::check_contract(&terms, &plan, policy).map_err(under_terms)?;
                let timeliness = filing::assess(calendar, signed_on, filed_on, policy)?;
                let amount_fen = terms.amount_fen;
                let details = serde_json::json!({
                    "amount_fen": amount_fen,
                    "signed_on": signed_on.to_string(),
                    "filed_on": filed_on.to_string(),
                    "deadline": timeliness.deadline.to_string(),
                    "late": timeliness.late,
                    "working_days_taken": timeliness.working_days_taken,
                    "provisional_years": timeliness.provisional_years,
                    "classified_protection_level": security.classified_protection_level,
                    "important_system": security.important_system,
                });
                case.contract = Some(ContractRecord {
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
                case.state = CaseState::Construction;
                // Reports are due from the first due day after today (the filing in the system)
                // and the construction start (R-P7).
                let first = progress::first_report_month(today, construction_start, policy);
                case.first_report_month = Some(first);
                let timing = if timeliness.late {
                    format!("filed late on {filed_on}, after the R-P5 deadline of {}; accepted and recorded as late", timeliness.deadline)
                } else {
                    format!("filed on time on {filed_on} (R-P5 deadline {})", timeliness.deadline)
                };
                let summary = format!("contract of {amount_fen} fen signed on {signed_on} {timing}; construction starts");
                let mut ch = Change::new("FileContract", format!("cases/{id}"), &["R-P2", "R-P5", "R-P9"], details);
                ch.timers = vec![TimerOp::ReportCheck(first), TimerOp::OverrunCheck(construction_end)];
                ch.events.push((
                    types::CONTRACT_FILED,
                    Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: "建设 CONSTRUCTION".into(), summary }),
                ));
                Ok(ch)
            })
            .await?;
        Ok(Response::new(self.served(&case)))
    }

    async fn set_payment_plan(&self, req: Request<pb::SetPaymentPlanRequest>) -> R<pb::ProcurementCase> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(c::uuid("project_id", &r.project_id)).unwrap_or_default();
        let etag = f.take(c::etag("etag", &r.etag)).unwrap_or_default();
        f.finish()?;
        let stages: Vec<PaymentStage> = r
            .stages
            .iter()
            .map(|s| PaymentStage { stage_id: s.stage_id.trim().into(), condition: s.condition.trim().into(), ratio_bp: s.ratio_bp })
            .collect();
        pay::check_stages(&stages)?;
        let case = self
            .transition(&p, id, etag, &r.request_id, |case, _, _| {
                let contract = filed_contract(case)?;
                if !contract.payments.is_empty() {
                    return Err(AppError::InvalidState("the payment plan is fixed once a payment is filed (R-P6)".into()));
                }
                let amounts = pay::stage_amounts(contract.terms.amount_fen, &stages);
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
                    .map(|(s, a)| serde_json::json!({ "stage_id": s.stage_id, "condition": s.condition, "ratio_bp": s.ratio_bp, "amount_fen": a }))
                    .collect();
                Ok(Change::new("SetPaymentPlan", format!("cases/{id}"), &["R-P6"], serde_json::json!({ "stages": plan })))
            })
            .await?;
        Ok(Response::new(self.served(&case)))
    }

    async fn mark_stage_condition_met(&self, req: Request<pb::MarkStageConditionMetRequest>) -> R<pb::ProcurementCase> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(c::uuid("project_id", &r.project_id)).unwrap_or_default();
        let etag = f.take(c::etag("etag", &r.etag)).unwrap_or_default();
        f.required("stage_id", &r.stage_id);
        f.required("evidence", &r.evidence);
        f.finish()?;
        let stage_id = r.stage_id.trim();
        let case = self
            .transition(&p, id, etag, &r.request_id, |case, _, today| {
                let contract = filed_contract(case)?;
                let Some(stage) = contract.stages.iter_mut().find(|s| s.stage_id == stage_id) else {
                    return Err(AppError::field("stage_id", format!("{stage_id:?} is not a stage of the payment plan")));
                };
                if let Some(m) = &stage.condition_met {
                    return Err(AppError::InvalidState(format!(
                        "stage {stage_id:?}'s condition was recorded as met on {} by {}",
                        m.on, m.by
                    )));
                }
                let condition = stage.condition.clone();
                stage.condition_met = Some(ConditionMet { evidence: r.evidence.trim().into(), on: today, by: actor(&p) });
                Ok(Change::new(
                    "MarkStageConditionMet",
                    format!("cases/{id}/stages/{stage_id}"),
                    &["R-P6"],
                    serde_json::json!({ "stage_id": stage_id, "condition": condition, "evidence": r.evidence.trim() }),
                ))
            })
            .await?;
        Ok(Response::new(self.served(&case)))
    }

    async fn file_payment(&self, req: Request<pb::FilePaymentRequest>) -> R<pb::ProcurementCase> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(c::uuid("project_id", &r.project_id)).unwrap_or_default();
        let etag = f.take(c::etag("etag", &r.etag)).unwrap_or_default();
        f.required("stage_id", &r.stage_id);
        if r.amount_fen <= 0 {
            f.push("amount_fen", "the payment in fen, more than 0");
        }
        f.finish()?;
        let stage_id = r.stage_id.trim();
        let case = self
            .transition(&p, id, etag, &r.request_id, |case, _, today| {
                let contract = filed_contract(case)?;
                let Some(stage) = contract.stages.iter().find(|s| s.stage_id == stage_id) else {
                    return Err(AppError::field("stage_id", format!("{stage_id:?} is not a stage of the payment plan")));
                };
                let terms = PaymentStage { stage_id: stage.stage_id.clone(), condition: stage.condition.clone(), ratio_bp: stage.ratio_bp };
                let contract_fen = contract.terms.amount_fen;
                let already_paid = contract.paid_fen();
                pay::check_payment_filing(contract_fen, &terms, stage.condition_met.is_some(), already_paid, r.amount_fen)?;
                contract.payments.push(PaymentRecord {
                    stage_id: stage_id.into(),
                    amount_fen: r.amount_fen,
                    filed_on: today,
                    request_id: r.request_id.clone(),
                });
                let paid = contract.paid_fen();
                let summary = format!(
                    "资金支付报备 / payment filed for stage {stage_id:?}: {} fen; {paid} of {contract_fen} fen filed in all (R-P6)",
                    r.amount_fen
                );
                let mut ch = Change::new(
                    "FilePayment",
                    format!("cases/{id}/stages/{stage_id}"),
                    &["R-P6"],
                    serde_json::json!({ "stage_id": stage_id, "amount_fen": r.amount_fen, "paid_fen": paid, "contract_fen": contract_fen }),
                );
                // Informational on the timeline: payments follow the project's stages, not the reverse.
                ch.events.push((
                    types::PAYMENT_FILED,
                    Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: String::new(), summary }),
                ));
                Ok(ch)
            })
            .await?;
        Ok(Response::new(self.served(&case)))
    }

    async fn report_progress(&self, req: Request<pb::ReportProgressRequest>) -> R<pb::ProcurementCase> {
        self.report_progress_impl(req).await
    }

    async fn draw_inspections(&self, req: Request<pb::DrawInspectionsRequest>) -> R<pb::InspectionDraw> {
        self.draw_inspections_impl(req).await
    }

    async fn get_inspection_draw(&self, req: Request<pb::GetInspectionDrawRequest>) -> R<pb::InspectionDraw> {
        self.get_inspection_draw_impl(req).await
    }

    async fn list_inspection_draws(&self, req: Request<pb::ListInspectionDrawsRequest>) -> R<pb::ListInspectionDrawsResponse> {
        self.list_inspection_draws_impl(req).await
    }

    async fn explain_overrun(&self, req: Request<pb::ExplainOverrunRequest>) -> R<pb::ProcurementCase> {
        self.explain_overrun_impl(req).await
    }

    async fn declare_construction_complete(&self, req: Request<pb::DeclareConstructionCompleteRequest>) -> R<pb::ProcurementCase> {
        self.declare_construction_complete_impl(req).await
    }

    async fn terminate_project(&self, req: Request<pb::TerminateProjectRequest>) -> R<pb::ProcurementCase> {
        self.terminate_project_impl(req).await
    }

    async fn export_ocds(&self, req: Request<pb::ExportOcdsRequest>) -> R<pb::OcdsReleasePackage> {
        self.export_ocds_impl(req).await
    }
}
