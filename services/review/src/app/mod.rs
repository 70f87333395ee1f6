//! Review's use cases: one per action, each load → decide (the pure `domain`) → commit through
//! the platform's pipeline ([`egov_platform::transition`]). The gRPC handlers, the event consumer
//! and the timers call these, and nothing else writes.

mod cases;
mod experts;
mod queries;
mod tasks;

use std::sync::Arc;

use egov_platform::{
    AppError,
    auth::Principal,
    clock::SharedClock,
    documents::DocumentStore,
    policy::{Policy, PolicyBook},
    transition::{self, Actor, Change, Context, Expected, Origin},
};
use sqlx::{PgConnection, PgPool};

use crate::domain::{ReviewCase, events::PRODUCER};

pub(crate) use cases::{Cancellation, Target};
pub(crate) use experts::{MaterialHeader, NewMeeting, Score};
pub(crate) use tasks::TaskRef;

/// What every use case works with; cheap to share.
pub struct Review {
    pub(crate) pool: PgPool,
    pub(crate) clock: SharedClock,
    pub(crate) policy: Arc<PolicyBook>,
    pub(crate) documents: DocumentStore,
}

impl Review {
    pub fn new(pool: PgPool, clock: SharedClock, policy: Arc<PolicyBook>, documents: DocumentStore) -> Review {
        Review { pool, clock, policy, documents }
    }

    /// A person's change, now, under the client's request id.
    fn origin(&self, p: &Principal, request_id: &str) -> Origin {
        Origin::new(PRODUCER, Actor::person(p), self.clock.now()).request(request_id)
    }

    /// The service's own change (a consumer, a timer), under the event or timer id.
    fn system(&self, request_id: &str) -> Origin {
        Origin::system(PRODUCER, self.clock.now(), request_id)
    }

    /// The policy version in force today (for what is pinned to none: the pool, meetings).
    fn policy_now(&self) -> Arc<Policy> {
        self.policy.in_force(self.clock.today())
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, AppError> {
        Ok(self.pool.begin().await?)
    }

    /// A case change of the service itself, in the caller's transaction (a consumer or a
    /// timer): load the case locked, decide under its pinned policy, commit when there is
    /// something to change (`None`: nothing to do, e.g. a redelivery).
    async fn system_change<D>(&self, tx: &mut PgConnection, origin: &Origin, id: uuid::Uuid, decide: D) -> Result<(), AppError>
    where
        D: FnOnce(&ReviewCase, Context<'_>) -> Option<Change<ReviewCase>>,
    {
        let case: ReviewCase = transition::load(tx, &id, true).await?;
        let policy = self.policy.pinned(&case.policy_version)?;
        if let Some(change) = decide(&case, Context::new(origin.at, &policy)) {
            transition::commit(tx, origin, Expected::Version(case.version), change).await?;
        }
        Ok(())
    }
}
