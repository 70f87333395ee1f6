//! Reconciliation (对账): what each service holds about every project, served the same way by
//! every service (`egov.common.v1.Reconciliation`, OPERATOR and AUDIT), and the comparison of
//! those views ([`compare`]) that says where the services disagree.
//!
//! A service supplies its own facts (state, money, what its timeline shows) through a
//! [`FactsProvider`] handed to [`crate::server::Platform::provide_facts`]; the platform adds the
//! steps the service published, read from its outbox, so every service reports them one way.
//! The outbox keeps sent events for `outbox.retention_hours`: older steps are no longer reported,
//! and so are not compared.

pub mod compare;

use std::{collections::HashMap, sync::Arc};

use egov_proto::{
    common::{self as pb, reconciliation_server::Reconciliation},
    events::EventEnvelope,
};
use futures::future::BoxFuture;
use prost::Message;
use sqlx::{PgPool, Row};
use time::{Date, OffsetDateTime};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{convert, error::AppError, paging};

/// What one service holds about one project (the platform adds the published steps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub project_id: Uuid,
    /// The service's own state of the project (an application's, a case's, an entry's).
    pub state: String,
    pub lead_unit_id: String,
    /// intake: the registry's status.
    pub status: String,
    /// review: the approval's budget after changes; procurement: the case's budget.
    pub approved_budget_fen: Option<i64>,
    pub procured_fen: Option<i64>,
    pub supervision_fee_fen: Option<i64>,
    pub contract_fen: Option<i64>,
    pub paid_fen: Option<i64>,
    /// R-P6 stages: id, ratio in basis points, amount.
    pub stages: Vec<(String, u32, i64)>,
    pub next_evaluation_due: Option<Date>,
    /// intake: the events its timeline shows (id, type, when it occurred).
    pub observed: Vec<(Uuid, String, OffsetDateTime)>,
}

impl Facts {
    pub fn new(project_id: Uuid, state: impl Into<String>, lead_unit_id: impl Into<String>) -> Facts {
        Facts { project_id, state: state.into(), lead_unit_id: lead_unit_id.into(), ..Facts::default() }
    }
}

/// A service's facts about the projects it knows.
pub trait FactsProvider: Send + Sync + 'static {
    /// The projects whose ids sort after `after`, at most `limit` of them, by project id.
    fn facts<'a>(&'a self, after: Option<Uuid>, limit: i64) -> BoxFuture<'a, Result<Vec<Facts>, AppError>>;
}

/// `egov.common.v1.Reconciliation` of one service.
pub struct ReconciliationApi {
    pub pool: PgPool,
    pub service: String,
    /// None for a service that has no project facts of its own: it answers with none.
    pub provider: Option<Arc<dyn FactsProvider>>,
}

#[tonic::async_trait]
impl Reconciliation for ReconciliationApi {
    async fn list_project_facts(
        &self,
        req: Request<pb::ListProjectFactsRequest>,
    ) -> Result<Response<pb::ListProjectFactsResponse>, Status> {
        let r = req.into_inner();
        let limit = paging::page_size(r.page_size).map_err(AppError::from)?;
        let after = if r.page_token.is_empty() {
            None
        } else {
            Some(Uuid::parse_str(&r.page_token).map_err(|_| AppError::field("page_token", "not a token this service gave"))?)
        };
        let rows = match &self.provider {
            Some(p) => p.facts(after, limit + 1).await?,
            None => Vec::new(),
        };
        let (rows, next) = paging::page(rows, limit, |f| f.project_id.to_string());
        let mut steps = if rows.is_empty() { HashMap::new() } else { published_steps(&self.pool).await? };
        let facts = rows
            .into_iter()
            .map(|f| {
                let published = steps.remove(&f.project_id.to_string()).unwrap_or_default();
                to_proto(f, published)
            })
            .collect();
        Ok(Response::new(pb::ListProjectFactsResponse { service: self.service.clone(), facts, next_page_token: next }))
    }
}

fn to_proto(f: Facts, published: Vec<pb::RecordedStep>) -> pb::ProjectFacts {
    pb::ProjectFacts {
        project_id: f.project_id.to_string(),
        state: f.state,
        lead_unit_id: f.lead_unit_id,
        status: f.status,
        approved_budget_fen: f.approved_budget_fen,
        procured_fen: f.procured_fen,
        supervision_fee_fen: f.supervision_fee_fen,
        contract_fen: f.contract_fen,
        paid_fen: f.paid_fen,
        stages: f
            .stages
            .into_iter()
            .map(|(stage_id, ratio_bp, amount_fen)| pb::PaymentStageFact { stage_id, ratio_bp, amount_fen })
            .collect(),
        next_evaluation_due: f.next_evaluation_due.map(convert::civil),
        published,
        observed: f
            .observed
            .into_iter()
            .map(|(id, event_type, at)| pb::RecordedStep {
                event_id: id.to_string(),
                event_type,
                occurred_at: Some(convert::timestamp(at)),
                sent: false,
                sent_at: None,
            })
            .collect(),
    }
}

/// The events in this service's outbox, by the project they are about, each project's in the
/// order they occurred. Events about no project (rounds, units) are left out.
async fn published_steps(pool: &PgPool) -> Result<HashMap<String, Vec<pb::RecordedStep>>, AppError> {
    let rows = sqlx::query("SELECT payload, status, sent_at FROM egov_outbox").fetch_all(pool).await?;
    let mut by_project: HashMap<String, Vec<pb::RecordedStep>> = HashMap::new();
    for r in rows {
        let payload: Vec<u8> = r.try_get("payload")?;
        let status: String = r.try_get("status")?;
        let sent_at: Option<OffsetDateTime> = r.try_get("sent_at")?;
        let e = EventEnvelope::decode(payload.as_slice())
            .map_err(|err| AppError::Internal(anyhow::anyhow!("an outbox row is not an event envelope: {err}")))?;
        if e.project_id.is_empty() {
            continue;
        }
        by_project.entry(e.project_id).or_default().push(pb::RecordedStep {
            event_id: e.event_id,
            event_type: e.r#type,
            occurred_at: e.occurred_at,
            sent: status == "sent",
            sent_at: sent_at.map(convert::timestamp),
        });
    }
    for steps in by_project.values_mut() {
        steps.sort_by_key(|s| s.occurred_at.as_ref().and_then(convert::from_timestamp));
    }
    Ok(by_project)
}
