//! Acceptance's consumer: construction completed opens a case; a terminated project or a
//! cancelled approval closes an open one. Each goes to its use case, in the consumer's
//! transaction (with the inbox row that keeps it idempotent).

use std::sync::Arc;

use egov_platform::{
    convert,
    inbox::{EventHandler, HandleError},
    request,
    values::Fen,
};
use egov_proto::events::{self as ev, EventEnvelope, event_envelope::Payload};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    app::Acceptance,
    domain::{Channel, Handover},
};

pub struct AcceptanceConsumer {
    pub app: Arc<Acceptance>,
}

fn permanent(what: String) -> HandleError {
    HandleError::Permanent(what)
}

fn project(raw: &str) -> Result<Uuid, HandleError> {
    Uuid::parse_str(raw).map_err(|_| permanent(format!("project id {:?} is not a UUID", request::bounded(raw))))
}

/// What construction handed over, from procurement's completion event.
fn handover(p: &ev::ConstructionCompleted) -> Result<Handover, HandleError> {
    let channel =
        Channel::parse(&p.channel).ok_or_else(|| permanent(format!("unknown procurement channel {:?}", request::bounded(&p.channel))))?;
    let money = |field: &str, v: i64| Fen::new(v).ok_or_else(|| permanent(format!("{field} {v} is negative")));
    let completed_on =
        convert::date("completed_on", p.completed_on.as_ref()).map_err(|e| permanent(format!("{}: {}", e.field, e.description)))?;
    Ok(Handover {
        project_name: p.project_name.clone(),
        lead_unit_id: p.lead_unit_id.clone(),
        participating_unit_ids: p.participating_unit_ids.clone(),
        document_number: p.document_number.clone(),
        budget: money("budget_fen", p.budget_fen)?,
        funding_source: p.funding_source.clone(),
        scope: p.scope.clone(),
        channel,
        supplier_name: p.supplier_name.clone(),
        supplier_credit_code: p.supplier_credit_code.clone(),
        supervision_credit_code: p.supervision_credit_code.clone(),
        contract_amount: money("contract_amount_fen", p.contract_amount_fen)?,
        classified_protection_level: p.classified_protection_level,
        important_system: p.important_system,
        overrun_days: p.overrun_days,
        completed_on,
    })
}

impl AcceptanceConsumer {
    async fn apply(&self, tx: &mut PgConnection, e: &EventEnvelope) -> Result<(), HandleError> {
        match &e.payload {
            Some(Payload::ConstructionCompleted(p)) => {
                let id = project(&p.project_id)?;
                self.app.open_case(tx, &e.event_id, id, handover(p)?).await?;
            }
            Some(Payload::ProjectTerminated(p)) => {
                let id = project(&p.project_id)?;
                let reason = format!(
                    "项目{} / the project was {} under R-P10: {}",
                    if p.kind == "REVOKED" { "撤销" } else { "终止" },
                    p.kind.to_lowercase(),
                    p.reason
                );
                self.app.close_case(tx, &e.event_id, id, &reason, "R-P10").await?;
            }
            Some(Payload::ApprovalCancelled(p)) => {
                let id = project(&p.project_id)?;
                let rule = p.rule_ids.first().map(String::as_str).unwrap_or("R-P1");
                let reason = format!("取消立项指标 / the approval was cancelled: {}", p.reason);
                self.app.close_case(tx, &e.event_id, id, &reason, rule).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

impl EventHandler for AcceptanceConsumer {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>> {
        Box::pin(self.apply(tx, event))
    }
}
