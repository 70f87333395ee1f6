//! Review's consumer: intake's compliance-passed events open cases; procurement's events cancel
//! an approval (R-P1), close changes (R-R7) or end the case (R-P10). Each event goes to its use
//! case, in the consumer's transaction (which also holds the inbox row).

use std::sync::Arc;

use egov_platform::{
    inbox::{EventHandler, HandleError},
    request,
};
use egov_proto::events::{self as ev, EventEnvelope, event_envelope::Payload};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use tracing::instrument;

use crate::{
    app::{Cancellation, Review},
    domain::{Dossier, UnitRecordEntry, events::types},
};

/// Routing keys the review consumer binds.
pub(crate) const BINDINGS: &[&str] =
    &[types::COMPLIANCE_PASSED, types::PROCUREMENT_DEADLINE_MISSED, types::PROCUREMENT_COMPLETED, types::PROJECT_TERMINATED];

/// The consumer of intake's and procurement's events.
pub(crate) struct ReviewConsumer {
    pub app: Arc<Review>,
}

/// A project id an event carries; a malformed one never becomes valid (dead-lettered).
fn project(field: &str, raw: &str) -> Result<uuid::Uuid, HandleError> {
    request::id(field, raw).map_err(|v| HandleError::Permanent(format!("{}: {}", v.field, v.description)))
}

/// What intake's compliance-passed event says of the project.
fn dossier(p: &ev::CompliancePassed) -> (Dossier, Vec<UnitRecordEntry>) {
    let dossier = Dossier {
        project_name: p.project_name.clone(),
        lead_unit_id: p.lead_unit_id.clone(),
        participating_unit_ids: p.participating_unit_ids.clone(),
        category: p.category.clone(),
        build_type: p.build_type.clone(),
        total_budget_fen: p.total_budget_fen,
        security_budget_fen: p.security_budget_fen,
        funding_source: p.funding_source.clone(),
        fast_track_grounds: p.fast_track_grounds.clone(),
        reaches_streets: p.reaches_streets,
        streets_reached: p.streets_reached.clone(),
        planned_construction_months: p.planned_construction_months,
        function_modules: p.function_modules.clone(),
        review_flags: p.review_flags.clone(),
        target_year: p.target_year,
    };
    let record = p
        .unit_record
        .iter()
        .map(|r| UnitRecordEntry { kind: r.kind.clone(), reason: r.reason.clone(), ineligible_year: r.ineligible_year })
        .collect();
    (dossier, record)
}

impl ReviewConsumer {
    #[instrument(skip_all, fields(event_type = %e.r#type, project_id = %e.project_id), err)]
    async fn apply(&self, tx: &mut PgConnection, e: &EventEnvelope) -> Result<(), HandleError> {
        let app = &self.app;
        match &e.payload {
            Some(Payload::CompliancePassed(p)) => {
                let id = project("application_id", &p.application_id)?;
                let (d, record) = dossier(p);
                Ok(app.open_case(tx, &e.event_id, id, &e.policy_version, d, record).await?)
            }
            Some(Payload::ProcurementDeadlineMissed(p)) => {
                let id = project("project_id", &p.project_id)?;
                Ok(app.cancel_approval(tx, &e.event_id, id, Cancellation::ProcurementDeadlineMissed).await?)
            }
            Some(Payload::ProcurementCompleted(p)) => {
                let id = project("project_id", &p.project_id)?;
                Ok(app.procurement_completed(tx, &e.event_id, id).await?)
            }
            Some(Payload::ProjectTerminated(p)) => {
                let id = project("project_id", &p.project_id)?;
                Ok(app.terminate(tx, &e.event_id, id, &p.kind, &p.reason).await?)
            }
            _ => Ok(()),
        }
    }
}

impl EventHandler for ReviewConsumer {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>> {
        Box::pin(self.apply(tx, event))
    }
}
