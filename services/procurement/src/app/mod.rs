//! Procurement's use cases: one per action, each load → decide (the pure `domain`) → commit
//! through the platform's pipeline ([`egov_platform::transition`]). The gRPC handlers, the event
//! consumer and the timers call these, and nothing else writes.

mod cases;
mod inspections;
mod queries;
mod review;
mod timers;

use std::sync::Arc;

use egov_calendar::Calendar;
use egov_platform::{
    AppError,
    auth::Principal,
    clock::SharedClock,
    error::Refusal,
    policy::PolicyBook,
    transition::{self, Actor, Change, Context, Expected, Load, Origin},
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::ProcurementCase;

pub(crate) use inspections::DrawCommand;

/// The service name events and system audit records carry.
pub(crate) const SERVICE: &str = "procurement";

/// What every use case works with; cheap to share.
pub struct Procurement {
    pub(crate) pool: PgPool,
    pub(crate) clock: SharedClock,
    pub(crate) policy: Arc<PolicyBook>,
    /// The official working-day calendar (R-P5), loaded once at start: part of the context of
    /// the decisions that count working days.
    pub(crate) calendar: Calendar,
}

/// A transition request: the case, the etag it was read at, the client's request id and the
/// command, as the handler parsed them.
#[derive(Debug, Clone)]
pub(crate) struct Target<C> {
    pub id: Uuid,
    pub etag: i64,
    pub request_id: String,
    pub command: C,
}

/// Who acted, as recorded on the case: role and unit (or subject).
fn actor(p: &Principal) -> String {
    format!("{} {}", p.role, p.unit.clone().unwrap_or_else(|| p.subject.clone()))
}

impl Procurement {
    pub fn new(pool: PgPool, clock: SharedClock, policy: Arc<PolicyBook>, calendar: Calendar) -> Procurement {
        Procurement { pool, clock, policy, calendar }
    }

    /// A person's change, now, under the client's request id.
    fn origin(&self, p: &Principal, request_id: &str) -> Origin {
        Origin::new(SERVICE, Actor::person(p), self.clock.now()).request(request_id)
    }

    /// The service's own change (a consumer or a timer), under the event's or timer's id.
    fn system(&self, request_id: &str) -> Origin {
        Origin::system(SERVICE, self.clock.now(), request_id)
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, AppError> {
        Ok(self.pool.begin().await?)
    }

    /// The common transition of a case by its lead unit (or DRB where the role table lets it):
    /// load locked, unit isolation, `already` (what would make the step a duplicate: ALREADY_EXISTS),
    /// etag, decide under the pinned policy, commit, in one transaction.
    async fn transition<C, D>(
        &self,
        p: &Principal,
        t: Target<C>,
        already: impl FnOnce(&ProcurementCase) -> Option<String> + Send,
        decide: D,
    ) -> Result<ProcurementCase, AppError>
    where
        C: Send,
        D: FnOnce(&ProcurementCase, C, Context<'_>) -> Result<Change<ProcurementCase>, Refusal> + Send,
    {
        let Target { id, etag, request_id, command } = t;
        let origin = self.origin(p, &request_id);
        let mut tx = self.begin().await?;
        let authorise = |k: &ProcurementCase| {
            p.ensure_unit(&k.lead_unit_id, [])?;
            already(k).map_or(Ok(()), |why| Err(AppError::AlreadyExists(why)))
        };
        let decide = |k: &ProcurementCase, ctx: Context<'_>| decide(k, command, ctx);
        let case = transition::transition(&mut tx, &origin, &self.policy, &id, Some(etag), authorise, decide).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// The service's own change of case `id` (a consumer's or a timer's, in its transaction):
    /// load locked, decide under the pinned policy, commit when the domain sees a change. A case
    /// that does not exist (an event about a project procurement never opened) changes nothing.
    async fn follow(
        &self,
        tx: &mut PgConnection,
        request_id: &str,
        id: Uuid,
        decide: impl FnOnce(&ProcurementCase, Context<'_>) -> Option<Change<ProcurementCase>>,
    ) -> Result<(), AppError> {
        let Some(case) = ProcurementCase::load(tx, &id, true).await? else { return Ok(()) };
        let policy = self.policy.pinned(&case.policy_version)?;
        let origin = self.system(request_id);
        if let Some(change) = decide(&case, Context::new(origin.at, &policy)) {
            transition::commit(tx, &origin, Expected::Version(case.version), change).await?;
        }
        Ok(())
    }
}
