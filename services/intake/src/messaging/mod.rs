//! Intake's consumer: every `egov` event (binding `#`) goes to the registry's use case, which
//! records the project's timeline and, for evaluation's suspensions and procurement's overruns,
//! the unit's record.

use std::sync::Arc;

use egov_platform::inbox::{EventHandler, HandleError};
use egov_proto::events::{EventEnvelope, event_envelope::Payload};
use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::app::{Intake, Unusable};

/// Routing keys the intake consumer binds: everything on the exchange.
pub const BINDINGS: &[&str] = &["#"];

/// The consumer of every `egov` event.
pub struct TimelineProjector {
    pub app: Arc<Intake>,
}

impl EventHandler for TimelineProjector {
    /// A timeline entry and the project's status (upserts, no audit record) may share a
    /// transaction with its neighbours; a unit's record entry (suspension, overrun) is a
    /// transition committed with its audit record, so it is applied alone.
    fn batchable(&self, event: &EventEnvelope) -> bool {
        !matches!(event.payload, Some(Payload::UnitEligibilitySuspended(_) | Payload::ConstructionOverrunRecorded(_)))
    }

    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>> {
        Box::pin(async move {
            self.app.apply_event(tx, event).await.map_err(|e| match e {
                Unusable::Event(why) => HandleError::Permanent(why),
                Unusable::App(e) => HandleError::from(e),
            })
        })
    }
}
