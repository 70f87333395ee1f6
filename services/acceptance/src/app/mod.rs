//! Acceptance's use cases: one per action, each load → decide (the pure `domain`) → commit
//! through the platform's pipeline. The gRPC handlers, the event consumer and the timer call these
//! and nothing else writes.

mod cases;
mod materials;
mod queries;

use std::sync::Arc;

use egov_calendar::Calendar;
use egov_platform::{
    AppError,
    auth::Principal,
    clock::SharedClock,
    documents::DocumentStore,
    policy::PolicyBook,
    transition::{Actor, Origin},
};
use sqlx::PgPool;

use crate::basis::SharedBasis;

pub(crate) use materials::{MaterialHeader, ReportHeader};

/// The service name events and system audit records carry.
pub(crate) const SERVICE: &str = "acceptance";

/// What every use case works with; cheap to share.
pub struct Acceptance {
    pub(crate) pool: PgPool,
    pub(crate) clock: SharedClock,
    pub(crate) policy: Arc<PolicyBook>,
    pub(crate) documents: DocumentStore,
    /// The official working-day calendar (R-P5 filings).
    pub(crate) calendar: Arc<Calendar>,
    /// Review's and procurement's answers for R-A3.
    pub(crate) basis: SharedBasis,
}

impl Acceptance {
    pub fn new(
        pool: PgPool,
        clock: SharedClock,
        policy: Arc<PolicyBook>,
        documents: DocumentStore,
        calendar: Arc<Calendar>,
        basis: SharedBasis,
    ) -> Acceptance {
        Acceptance { pool, clock, policy, documents, calendar, basis }
    }

    fn origin(&self, p: &Principal, request_id: &str) -> Origin {
        Origin::new(SERVICE, Actor::person(p), self.clock.now()).request(request_id)
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, AppError> {
        Ok(self.pool.begin().await?)
    }
}
