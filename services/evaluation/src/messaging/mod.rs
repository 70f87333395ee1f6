//! Evaluation's consumer: `acceptance.project.accepted` → the catalogue and the schedule (R-A5 →
//! R-E1, R-E2). The inbox makes redeliveries harmless; the entry's id being the project's makes a
//! second event for the same project harmless too.

use std::sync::Arc;

use egov_platform::inbox::{EventHandler, HandleError};
use egov_proto::events::EventEnvelope;
use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::{
    app::{Evaluation, Unusable},
    domain::events::PROJECT_ACCEPTED,
};

/// Routing keys the evaluation consumer binds.
pub const BINDINGS: &[&str] = &[PROJECT_ACCEPTED];

pub struct AcceptedProjects {
    pub app: Arc<Evaluation>,
}

impl EventHandler for AcceptedProjects {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a EventEnvelope) -> BoxFuture<'a, Result<(), HandleError>> {
        Box::pin(async move {
            self.app.apply_event(tx, event).await.map_err(|e| match e {
                Unusable::Event(why) => HandleError::Permanent(why),
                Unusable::App(e) => HandleError::from(e),
            })
        })
    }
}
