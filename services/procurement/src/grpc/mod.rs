//! Procurement's gRPC handlers: authorise, parse, apply the rules, persist case + audit +
//! outbox in one transaction.

pub mod roles;

use std::sync::Arc;

use egov_platform::{
    AppError,
    audit::{self, AuditEntry},
    auth::{Principal, Role},
    clock::SharedClock,
    convert::{self as c, Fields},
    outbox, paging, timers,
};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    procurement::{self as pb, procurement_server::Procurement},
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::{
    domain::{
        CaseState, ProcurementCase, ProcurementRecord, Supervision, deadline,
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

fn case_pb(k: &ProcurementCase) -> pb::ProcurementCase {
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
        }),
        policy_version: k.policy_version.clone(),
        etag: k.version.to_string(),
        opened_at: Some(c::timestamp(k.opened_at)),
    }
}

#[tonic::async_trait]
impl Procurement for ProcurementApi {
    async fn get_case(&self, req: Request<pb::GetCaseRequest>) -> R<pb::ProcurementCase> {
        let p = Principal::from_request(&req)?;
        let id = c::uuid("project_id", &req.get_ref().project_id).map_err(|v| AppError::InvalidArgument(vec![v]))?;
        let mut conn = self.s.pool.acquire().await.map_err(AppError::from)?;
        let k = storage::get_case(&mut conn, id, false).await?;
        p.ensure_unit(&k.lead_unit_id, k.participating_unit_ids.iter())?;
        Ok(Response::new(case_pb(&k)))
    }

    async fn list_cases(&self, req: Request<pb::ListCasesRequest>) -> R<pb::ListCasesResponse> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let limit = paging::page_size(r.page_size).map_err(|v| AppError::InvalidArgument(vec![v]))?;
        let after = if r.page_token.is_empty() {
            None
        } else {
            Some(c::uuid("page_token", &r.page_token).map_err(|v| AppError::InvalidArgument(vec![v]))?)
        };
        let state = c::enum_from_proto(
            "state",
            r.state,
            |i| pb::CaseState::try_from(i).ok().map(|e| e.as_str_name()),
            "CASE_STATE_",
            CaseState::parse,
        )
        .map_err(|v| AppError::InvalidArgument(vec![v]))?;
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
        Ok(Response::new(pb::ListCasesResponse { cases: rows.iter().map(case_pb).collect(), next_page_token: next }))
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
        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        let mut case = storage::get_case(&mut tx, id, true).await?;
        p.ensure_unit(&case.lead_unit_id, [])?;
        if case.version != etag {
            return Err(AppError::Aborted(format!("the case has etag {}, the request sent {etag}", case.version)).into());
        }
        if case.state != CaseState::Procuring {
            return Err(AppError::InvalidState(format!("procurement is recorded while procuring; this case is {}", case.state)).into());
        }
        if completed_on > self.s.clock.today() || completed_on < case.approved_on {
            return Err(AppError::field("record.completed_on", "between the approval date and today").into());
        }
        if rec.amount_fen > case.budget_fen {
            return Err(AppError::rule(
                "R-P3",
                "record.amount_fen",
                format!("the contract amount exceeds the approved budget of {} fen", case.budget_fen),
            )
            .into());
        }
        sv::check_supervision(channel, supervision.clone(), case.budget_fen)?;
        let in_time = deadline::in_time(case.procurement_deadline, completed_on);
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
        });
        case.state = CaseState::Procured;
        case.version += 1;
        storage::update_case(&mut tx, &case).await?;
        timers::cancel(&mut tx, jobs::PROCUREMENT_DEADLINE, &id.to_string()).await?;
        let entry = AuditEntry::by(&p, "RecordProcurement", format!("cases/{id}"))
            .project(id.to_string())
            .rules(&["R-P1", "R-P3", "R-P4"])
            .policy(&case.policy_version)
            .request(&r.request_id)
            .details(serde_json::json!({ "channel": channel.as_str(), "amount_fen": rec.amount_fen, "in_time": in_time }));
        audit::append(&mut tx, now, &entry).await?;
        let payload = Payload::ProcurementCompleted(ev::ProcurementCompleted { project_id: id.to_string() });
        outbox::enqueue(&mut tx, &messaging::envelope(types::COMPLETED, &case, now, payload)).await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(case_pb(&case)))
    }
}
