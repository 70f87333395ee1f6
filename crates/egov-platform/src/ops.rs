//! The platform's own gRPC services, served by every egov service the same way:
//! `egov.common.v1.AuditTrail` (R-X3: AUDIT and DRB read and verify the trail) and
//! `egov.common.v1.Operations` (dead outbox events, and the clock of local and test runs).
//! `egov.common.v1.Reconciliation` (each service's facts about its projects) is `reconcile`'s.

use std::sync::Arc;

use egov_proto::common::{self as pb, audit_trail_server::AuditTrail, operations_server::Operations};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::{
    audit,
    auth::{Role, RoleTable},
    broker::Broker,
    clock::SharedClock,
    convert,
    error::AppError,
    paging,
    policy::PolicyBook,
    relay,
};

/// Adds the platform services' methods to a service's role table.
pub fn allow_platform_services(t: RoleTable) -> RoleTable {
    use Role::*;
    const EVERYONE: &[Role] = &Role::ALL;
    t.allow("egov.common.v1.AuditTrail", "ListAuditRecords", &[Audit, Drb])
        .allow("egov.common.v1.AuditTrail", "VerifyAuditTrail", &[Audit, Drb])
        .allow("egov.common.v1.Operations", "ListDeadEvents", &[Operator])
        .allow("egov.common.v1.Operations", "RedriveDeadEvents", &[Operator])
        .allow("egov.common.v1.Operations", "GetClock", EVERYONE)
        .allow("egov.common.v1.Operations", "AdvanceClock", &[Operator])
        .allow("egov.common.v1.Reconciliation", "ListProjectFacts", &[Operator, Audit])
        .allow("egov.common.v1.AuditTrail", "ListDeniedCalls", &[Audit])
}

pub struct AuditTrailApi {
    pub pool: PgPool,
    /// The anchor keys verification trusts.
    pub trust: std::sync::Arc<crate::anchors::Trust>,
}

#[tonic::async_trait]
impl AuditTrail for AuditTrailApi {
    async fn list_denied_calls(&self, req: Request<pb::ListDeniedCallsRequest>) -> Result<Response<pb::ListDeniedCallsResponse>, Status> {
        let r = req.into_inner();
        let limit = paging::page_size(r.page_size).map_err(AppError::from)?;
        let after = if r.page_token.is_empty() {
            0
        } else {
            r.page_token.parse::<i64>().map_err(|_| AppError::field("page_token", "not a token this service gave"))?
        };
        let rows = crate::auth::denials::list(&self.pool, after, limit + 1).await.map_err(AppError::from)?;
        let (rows, next) = paging::page(rows, limit, |r| r.seq.to_string());
        let calls = rows
            .into_iter()
            .map(|r| pb::DeniedCall {
                seq: r.seq,
                at: Some(convert::timestamp(r.at)),
                subject: r.subject,
                role: r.role,
                method: r.method,
                code: r.code,
                reason: r.reason,
                peer: r.peer,
                suppressed_before: r.suppressed_before,
            })
            .collect();
        Ok(Response::new(pb::ListDeniedCallsResponse { calls, next_page_token: next }))
    }

    async fn list_audit_records(
        &self,
        req: Request<pb::ListAuditRecordsRequest>,
    ) -> Result<Response<pb::ListAuditRecordsResponse>, Status> {
        let r = req.into_inner();
        let limit = paging::page_size(r.page_size).map_err(AppError::from)?;
        let after = if r.page_token.is_empty() {
            0
        } else {
            r.page_token.parse::<i64>().map_err(|_| AppError::field("page_token", "not a token this service gave"))?
        };
        let rows = audit::list(&self.pool, r.project_id.trim(), after, limit + 1).await?;
        let (rows, next) = paging::page(rows, limit, |r| r.seq.to_string());
        let records = rows
            .into_iter()
            .map(|r| pb::AuditRecord {
                seq: r.seq,
                at: Some(convert::timestamp(r.at)),
                actor: r.entry.actor,
                role: r.entry.role,
                unit_id: r.entry.unit_id,
                action: r.entry.action,
                resource: r.entry.resource,
                project_id: r.entry.project_id,
                reason: r.entry.reason,
                rule_ids: r.entry.rule_ids,
                policy_version: r.entry.policy_version,
                request_id: r.entry.request_id,
                trace_id: r.trace_id,
                details_json: r.details_text,
                prev_hash: r.prev_hash,
                hash: r.hash,
            })
            .collect();
        Ok(Response::new(pb::ListAuditRecordsResponse { records, next_page_token: next }))
    }

    async fn verify_audit_trail(
        &self,
        req: Request<pb::VerifyAuditTrailRequest>,
    ) -> Result<Response<pb::VerifyAuditTrailResponse>, Status> {
        let project = req.into_inner().project_id.trim().to_string();
        let scope = (!project.is_empty()).then_some(project.as_str());
        let v = audit::verify(&self.pool, &self.trust, scope).await?;
        if scope.is_some() && v.chains_checked == 0 {
            return Err(AppError::NotFound(format!("project {project}: no audit records in this service")).into());
        }
        let (broken_anchor_seq, broken_anchor_detail) = v.broken_anchor.clone().unwrap_or_default();
        Ok(Response::new(pb::VerifyAuditTrailResponse {
            intact: v.intact,
            records_checked: v.records_checked,
            first_broken_seq: v.first_broken_seq(),
            records_sealed: v.records_sealed,
            unsealed_records: v.unsealed_records,
            chains_checked: v.chains_checked,
            anchors_checked: v.anchors_checked,
            broken_chains: v
                .broken_chains
                .into_iter()
                .map(|b| pb::BrokenAuditChain { chain: b.chain, chain_seq: b.chain_seq, seq: b.seq, detail: b.detail })
                .collect(),
            broken_anchor_seq,
            broken_anchor_detail,
            detail: v.detail,
        }))
    }
}

pub struct OperationsApi {
    pub pool: PgPool,
    pub clock: SharedClock,
    pub broker: Broker,
    pub policy: Arc<PolicyBook>,
}

impl OperationsApi {
    fn reading(&self) -> pb::ClockReading {
        pb::ClockReading {
            now: Some(convert::timestamp(self.clock.now())),
            offset_seconds: self.clock.offset_seconds(),
            adjustable: self.clock.adjustable(),
            policy_version: self.policy.in_force(self.clock.today()).version.clone(),
        }
    }
}

#[tonic::async_trait]
impl Operations for OperationsApi {
    async fn list_dead_events(&self, req: Request<pb::ListDeadEventsRequest>) -> Result<Response<pb::ListDeadEventsResponse>, Status> {
        let limit = paging::page_size(req.get_ref().page_size).map_err(AppError::from)?;
        let rows = relay::list_dead(&self.pool, limit).await?;
        Ok(Response::new(pb::ListDeadEventsResponse {
            events: rows
                .into_iter()
                .map(|r| pb::DeadEvent {
                    event_id: r.event_id.to_string(),
                    routing_key: r.routing_key,
                    attempts: r.attempts,
                    last_error: r.last_error.unwrap_or_default(),
                    created_at: Some(convert::timestamp(r.created_at)),
                })
                .collect(),
        }))
    }

    async fn redrive_dead_events(
        &self,
        req: Request<pb::RedriveDeadEventsRequest>,
    ) -> Result<Response<pb::RedriveDeadEventsResponse>, Status> {
        let mut ids = Vec::new();
        for (i, raw) in req.get_ref().event_ids.iter().enumerate() {
            ids.push(convert::uuid(&format!("event_ids[{i}]"), raw).map_err(AppError::from)?);
        }
        let n = relay::redrive(&self.pool, &ids).await?;
        Ok(Response::new(pb::RedriveDeadEventsResponse { redriven: n as i64 }))
    }

    async fn get_clock(&self, _req: Request<pb::GetClockRequest>) -> Result<Response<pb::ClockReading>, Status> {
        Ok(Response::new(self.reading()))
    }

    async fn advance_clock(&self, req: Request<pb::AdvanceClockRequest>) -> Result<Response<pb::ClockReading>, Status> {
        let secs = req.get_ref().seconds;
        if !(1..=10 * 366 * 86_400).contains(&secs) {
            return Err(AppError::field("seconds", "move time forward by 1 second to 10 years; time never goes back").into());
        }
        if !self.clock.adjustable() {
            return Err(
                AppError::PermissionDenied("time cannot be moved in the production profile: its clock is the system's".into()).into()
            );
        }
        let target = self.clock.offset_seconds() + secs;
        self.clock.set_offset(target)?;
        // Every running service moves with this one.
        self.broker
            .broadcast_clock_offset(target)
            .await
            .map_err(|e| AppError::Unavailable(format!("this service's clock moved, but the broadcast to the others failed: {e}")))?;
        Ok(Response::new(self.reading()))
    }
}
