//! Use cases of the project registry: every `egov` event about a project becomes a timeline
//! entry, and what other services found against a unit joins its record.

use egov_platform::{AppError, convert, request};
use egov_proto::events::{self as ev, EventEnvelope, event_envelope::Payload};
use sqlx::PgConnection;
use tracing::instrument;
use uuid::Uuid;

use super::Intake;
use crate::{
    domain::{PenaltyKind, registry::NewPenalty, timeline},
    storage::{self, TimelineRow},
};

/// Why an event cannot be applied, ever: it goes to the dead-letter queue.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unusable {
    #[error("{0}")]
    Event(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl Intake {
    /// Applies one event in the consumer's transaction: a unit's record entry (evaluation's
    /// suspension, procurement's overrun), and the project's timeline entry.
    #[instrument(skip_all, fields(event_type = %e.r#type, project_id = %e.project_id), err)]
    pub(crate) async fn apply_event(&self, tx: &mut PgConnection, e: &EventEnvelope) -> Result<(), Unusable> {
        match &e.payload {
            Some(Payload::UnitEligibilitySuspended(s)) => self.suspension(tx, e, s).await?,
            Some(Payload::ConstructionOverrunRecorded(o)) => self.overrun(tx, e, o).await?,
            _ => {}
        }
        let Ok(project_id) = Uuid::parse_str(&e.project_id) else {
            // Not about a project (rounds, units): nothing for the timeline.
            return Ok(());
        };
        let event_id = Uuid::parse_str(&e.event_id)
            .map_err(|_| Unusable::Event(format!("event id {:?} is not a UUID", request::bounded(&e.event_id))))?;
        let occurred_at =
            e.occurred_at.as_ref().and_then(convert::from_timestamp).ok_or_else(|| Unusable::Event("event without occurred_at".into()))?;
        let (status, summary) = timeline::status_of(e);
        let row = TimelineRow { event_id, event_type: e.r#type.clone(), producer: e.producer.clone(), occurred_at, status, summary };
        storage::record_timeline(tx, project_id, &row).await?;
        Ok(())
    }

    /// R-E6 → R-I10: evaluation suspended the unit's applications of a year.
    async fn suspension(&self, tx: &mut PgConnection, e: &EventEnvelope, s: &ev::UnitEligibilitySuspended) -> Result<(), Unusable> {
        let pen = NewPenalty {
            unit_id: s.unit_id.clone(),
            kind: PenaltyKind::EarlyStop,
            reason: s.reason.clone(),
            project_id: s.app_id.clone(),
            went_live_on: s.went_live_on.as_ref().and_then(|d| convert::date("went_live_on", Some(d)).ok()),
            stopped_on: s.stopped_on.as_ref().and_then(|d| convert::date("stopped_on", Some(d)).ok()),
            found_in_year: 0,
        };
        match self.record_penalty_from_event(tx, &e.event_id, &e.policy_version, pen, Some(s.year)).await? {
            Some(_) => Ok(()),
            None => Err(Unusable::Event(format!("eligibility suspension for unknown unit {}", request::bounded(&s.unit_id)))),
        }
    }

    /// R-P8: procurement recorded an overrun against the unit; it joins the unit's record shown
    /// to reviewers of its next applications (R-I10), without suspending it.
    async fn overrun(&self, tx: &mut PgConnection, e: &EventEnvelope, o: &ev::ConstructionOverrunRecorded) -> Result<(), Unusable> {
        let pen = NewPenalty {
            unit_id: o.unit_id.clone(),
            kind: PenaltyKind::ConstructionOverrun,
            reason: o.reason.clone(),
            project_id: o.project_id.clone(),
            went_live_on: None,
            stopped_on: None,
            found_in_year: 0,
        };
        match self.record_penalty_from_event(tx, &e.event_id, &e.policy_version, pen, None).await? {
            Some(_) => Ok(()),
            None => Err(Unusable::Event(format!("overrun recorded for unknown unit {}", request::bounded(&o.unit_id)))),
        }
    }
}
