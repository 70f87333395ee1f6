//! Procurement's consumer of review's and acceptance's events: a case opens from the approval,
//! closes when the approval is cancelled, follows budget changes, and marks the payment stages
//! conditioned on acceptance's milestones, each through its use case in the consumer's
//! transaction. (Procurement tells review when it completes, R-R7, or misses R-P1's
//! deadline: see `domain::events`.)

use std::sync::Arc;

use egov_platform::{
    convert,
    inbox::{EventHandler, HandleError},
    values::Fen,
};
use egov_proto::events::{self as ev, EventEnvelope, event_envelope::Payload};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    app::Procurement,
    domain::{
        case::{Approval, Milestone},
        events::types,
    },
};

/// Routing keys the procurement consumer binds.
pub(crate) const BINDINGS: &[&str] = &[
    types::APPROVED,
    types::APPROVAL_CANCELLED,
    types::CHANGE_FILED,
    types::BUDGET_ADJUSTED,
    types::INITIAL_ACCEPTANCE_CONCLUDED,
    types::PROJECT_ACCEPTED,
];

/// The consumer of review's events.
pub(crate) struct ProcurementConsumer {
    pub app: Arc<Procurement>,
}

/// A malformed event never becomes well formed: it goes to the dead-letter queue at once.
fn malformed(what: impl std::fmt::Display) -> HandleError {
    HandleError::Permanent(what.to_string())
}

fn project_id(raw: &str) -> Result<Uuid, HandleError> {
    Uuid::parse_str(raw).map_err(|_| malformed(format!("project id 「{raw}」 is not a UUID")))
}

fn fen(field: &str, raw: i64) -> Result<Fen, HandleError> {
    Fen::field(field, raw).map_err(|v| malformed(format!("{}: {}", v.field, v.description)))
}

/// The approval as the domain opens a case with it.
fn approval(p: &ev::ProjectApproved) -> Result<Approval, HandleError> {
    Ok(Approval {
        project_id: project_id(&p.project_id)?,
        project_name: p.project_name.clone(),
        lead_unit_id: p.lead_unit_id.clone(),
        participating_unit_ids: p.participating_unit_ids.clone(),
        budget: fen("budget_fen", p.budget_fen)?,
        funding_source: p.funding_source.clone(),
        planned_construction_months: p.planned_construction_months,
        scope: p.scope.clone(),
        approved_on: convert::date("issued_on", p.issued_on.as_ref()).map_err(|v| malformed(v.description))?,
        document_number: p.document_number.clone(),
    })
}

impl ProcurementConsumer {
    async fn apply(&self, tx: &mut PgConnection, e: &EventEnvelope) -> Result<(), HandleError> {
        let app = &self.app;
        match &e.payload {
            Some(Payload::ProjectApproved(p)) => app.open_case(tx, &e.event_id, &e.policy_version, approval(p)?).await?,
            Some(Payload::ApprovalCancelled(p)) => {
                app.cancel_approval(tx, &e.event_id, project_id(&p.project_id)?, &p.reason, &p.rule_ids).await?
            }
            Some(Payload::InitialAcceptanceConcluded(p)) if p.passed => {
                let on = convert::date("held_on", p.held_on.as_ref()).map_err(|v| malformed(v.description))?;
                app.acceptance_milestone(tx, &e.event_id, project_id(&p.project_id)?, Milestone::InitialAcceptance, on).await?
            }
            Some(Payload::ProjectAccepted(p)) => {
                let on = convert::date("go_live_on", p.go_live_on.as_ref()).map_err(|v| malformed(v.description))?;
                app.acceptance_milestone(tx, &e.event_id, project_id(&p.project_id)?, Milestone::FinalAcceptance, on).await?
            }
            Some(Payload::BudgetAdjusted(p)) => {
                let budget = fen("new_budget_fen", p.new_budget_fen)?;
                app.adjust_budget(tx, &e.event_id, project_id(&p.project_id)?, budget, &p.change_id, &p.route).await?
            }
            _ => {}
        }
        Ok(())
    }
}

impl EventHandler for ProcurementConsumer {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>> {
        Box::pin(self.apply(tx, event))
    }
}
