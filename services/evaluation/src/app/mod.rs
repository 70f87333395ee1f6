//! Evaluation's use cases: one per action, each load → decide (the pure `domain`) → commit
//! through the platform's pipeline ([`egov_platform::transition`]). The gRPC handlers, the event
//! consumer and the timers call these and nothing else writes.

mod catalogue;
mod operation;
mod screening;

use std::sync::{Arc, Mutex};

use egov_platform::{
    AppError, Refusal,
    auth::{Principal, Role},
    clock::SharedClock,
    documents::DocumentStore,
    policy::{Policy, PolicyBook},
    transition::{self, Actor, Change, Context, Expected, Origin},
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::Entry;

pub(crate) use catalogue::{Imported, Unusable};
pub(crate) use operation::AuditHeader;
pub(crate) use screening::{Match, Screened};

/// The service name events and system audit records carry.
pub(crate) const SERVICE: &str = "evaluation";

/// What every use case works with; cheap to share.
pub struct Evaluation {
    pub(crate) pool: PgPool,
    pub(crate) clock: SharedClock,
    pub(crate) policy: Arc<PolicyBook>,
    pub(crate) documents: DocumentStore,
    /// The screening index of the catalogue at a revision; rebuilt when the catalogue moved.
    pub(crate) index: Mutex<Option<Arc<screening::Catalogue>>>,
}

impl Evaluation {
    pub fn new(pool: PgPool, clock: SharedClock, policy: Arc<PolicyBook>, documents: DocumentStore) -> Evaluation {
        Evaluation { pool, clock, policy, documents, index: Mutex::new(None) }
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

    /// The common person's transition on entry `id`: load locked, authorise, etag, decide under
    /// the entry's pinned policy, commit.
    async fn act<D>(
        &self,
        p: &Principal,
        id: Uuid,
        etag: Option<i64>,
        authorise: impl FnOnce(&Entry) -> Result<(), AppError> + Send,
        decide: D,
    ) -> Result<Entry, AppError>
    where
        D: FnOnce(&Entry, Context<'_>) -> Result<Change<Entry>, Refusal> + Send,
    {
        let origin = self.origin(p, "");
        let mut tx = self.begin().await?;
        let e = transition::transition(&mut tx, &origin, &self.policy, &id, etag, authorise, decide).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// A change the service makes itself (a timer, a consumer) in the caller's transaction;
    /// `decide` answering `None` changes nothing (the timer found nothing left to do).
    pub(crate) async fn system_change(
        &self,
        tx: &mut PgConnection,
        request_id: &str,
        id: Uuid,
        decide: impl FnOnce(&Entry, Context<'_>) -> Option<Change<Entry>>,
    ) -> Result<(), AppError> {
        let Some(e) = <Entry as transition::Load>::load(tx, &id, true).await? else {
            return Ok(());
        };
        let pinned = self.policy.pinned(&e.policy_version)?;
        let origin = Origin::system(SERVICE, self.clock.now(), request_id);
        if let Some(change) = decide(&e, Context::new(origin.at, &pinned)) {
            transition::commit(tx, &origin, Expected::Version(e.version), change).await?;
        }
        Ok(())
    }
}

/// R-X2: a UNIT acts only on entries it builds or runs.
pub(crate) fn acting_unit(p: &Principal, e: &Entry) -> Result<(), AppError> {
    let [builder, operator] = e.acting_units();
    p.ensure_unit(builder, [&operator.to_string()])
}

/// R-X2: a UNIT reads only entries it builds, runs or uses.
pub(crate) fn reading_unit(p: &Principal, e: &Entry) -> Result<(), AppError> {
    let mut also = vec![e.operator_unit_id.clone()];
    also.extend(e.user_unit_ids.iter().cloned());
    p.ensure_unit(&e.builder_unit_id, also.iter())
}

/// The unit a UNIT caller reads for (lists are filtered to it); `None` for other roles.
pub(crate) fn own_unit(p: &Principal) -> Option<String> {
    (p.role == Role::Unit).then(|| p.unit.clone().unwrap_or_default())
}
