//! Intake's use cases: one per action, each load → decide (the pure `domain`) → commit through
//! the platform's pipeline ([`egov_platform::transition`]). The gRPC handlers, the event consumer
//! and the timer call these and nothing else writes.

mod applications;
mod documents;
mod queries;
mod registry;
mod timeline;

use std::sync::Arc;

use egov_platform::{
    AppError,
    auth::Principal,
    clock::SharedClock,
    documents::DocumentStore,
    policy::{Policy, PolicyBook},
    transition::{Actor, Origin},
};
use sqlx::PgPool;

use crate::evaluation::SharedEvaluation;

pub(crate) use applications::Submission;
pub(crate) use documents::{DocumentHeader, Download};
pub(crate) use queries::Eligibility;
pub(crate) use timeline::Unusable;

/// The service name events and system audit records carry.
pub(crate) const SERVICE: &str = "intake";

/// What every use case works with; cheap to share.
pub struct Intake {
    pub(crate) pool: PgPool,
    pub(crate) clock: SharedClock,
    pub(crate) policy: Arc<PolicyBook>,
    pub(crate) documents: DocumentStore,
    /// `None` when no evaluation service is configured: R-I9 screening is then recorded as not
    /// performed (a flag for the reviewer), and upgrades, which need R-I6's answer, are refused
    /// as UNAVAILABLE.
    pub(crate) evaluation: Option<SharedEvaluation>,
}

impl Intake {
    pub fn new(
        pool: PgPool,
        clock: SharedClock,
        policy: Arc<PolicyBook>,
        documents: DocumentStore,
        evaluation: Option<SharedEvaluation>,
    ) -> Intake {
        Intake { pool, clock, policy, documents, evaluation }
    }

    /// A person's change, now, under the client's request id.
    fn origin(&self, p: &Principal, request_id: &str) -> Origin {
        Origin::new(SERVICE, Actor::person(p), self.clock.now()).request(request_id)
    }

    /// The policy version in force today (for what is pinned to none yet).
    fn policy_now(&self) -> Arc<Policy> {
        self.policy.in_force(self.clock.today())
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, AppError> {
        Ok(self.pool.begin().await?)
    }
}
