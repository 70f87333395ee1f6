//! Use cases of the case: opened and closed by other services' events, the initial acceptance,
//! the application and its review, the acceptance, and the rectification deadline.

use egov_platform::{
    AppError,
    auth::{Principal, Role},
    transition::{self, Change, Context, Expected, Origin},
};
use sqlx::PgConnection;
use tracing::instrument;
use uuid::Uuid;

use super::{Acceptance, SERVICE};
use crate::{
    domain::{
        case::{self, AcceptanceHeld, Application, InitialAcceptanceRecord},
        *,
    },
    storage,
};

impl Acceptance {
    /// Construction completed: the case opens, once, whatever the number of deliveries.
    #[instrument(skip_all, fields(project_id = %project_id), err)]
    pub(crate) async fn open_case(
        &self,
        tx: &mut PgConnection,
        event_id: &str,
        project_id: Uuid,
        handover: Handover,
    ) -> Result<(), AppError> {
        if storage::find_case(tx, project_id, true).await?.is_some() {
            return Ok(()); // a redelivery under another event id
        }
        let origin = Origin::system(SERVICE, self.clock.now(), event_id);
        let policy = self.policy.in_force(self.clock.today());
        let change = case::open(project_id, handover, Context::new(origin.at, &policy));
        transition::commit(tx, &origin, Expected::New, change).await?;
        Ok(())
    }

    /// The project ended (R-P10) or lost its approval: its open case closes. A project with no
    /// case has nothing to close.
    #[instrument(skip_all, fields(project_id = %project_id), err)]
    pub(crate) async fn close_case(
        &self,
        tx: &mut PgConnection,
        event_id: &str,
        project_id: Uuid,
        reason: &str,
        rule: &str,
    ) -> Result<(), AppError> {
        let Some(k) = storage::find_case(tx, project_id, true).await? else { return Ok(()) };
        let origin = Origin::system(SERVICE, self.clock.now(), event_id);
        let policy = self.policy.pinned(&k.policy_version)?;
        if let Some(change) = case::close(&k, reason, rule, Context::new(origin.at, &policy)) {
            transition::commit(tx, &origin, Expected::Version(k.version), change).await?;
        }
        Ok(())
    }

    /// R-A1: the lead unit records its initial acceptance.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn record_initial_acceptance(
        &self,
        p: &Principal,
        id: Uuid,
        etag: i64,
        held_on: time::Date,
        panel: Vec<PanelMember>,
        conclusion: String,
    ) -> Result<AcceptanceCase, AppError> {
        let r = InitialAcceptanceRecord { held_on, panel, conclusion, recorded_by: p.subject.clone() };
        self.transition(p, id, etag, |k, ctx| case::record_initial_acceptance(k, r, ctx)).await
    }

    /// R-A3: the lead unit applies. Review and procurement are asked first, outside any
    /// transaction: if one cannot answer, nothing changes.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn apply(&self, p: &Principal, id: Uuid, etag: i64, a: Application) -> Result<AcceptanceCase, AppError> {
        {
            let mut c = self.pool.acquire().await?;
            let k = storage::get_case(&mut c, id, false).await?;
            p.ensure_unit(&k.handover.lead_unit_id, [])?;
            transition::check_etag(&k, etag)?;
        }
        let basis = self.basis.basis(id).await?;
        self.transition(p, id, etag, |k, ctx| case::apply(k, a, &basis, ctx)).await
    }

    /// R-A3: DRB approves the application or returns it.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn review_application(
        &self,
        p: &Principal,
        id: Uuid,
        etag: i64,
        approve: bool,
        reasons: &str,
    ) -> Result<AcceptanceCase, AppError> {
        let by = p.subject.clone();
        self.transition(p, id, etag, |k, ctx| case::review_application(k, approve, reasons, &by, ctx)).await
    }

    /// R-A4, R-A5: the organiser records the acceptance: DRB, or the lead unit (its own case).
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn record_acceptance(
        &self,
        p: &Principal,
        id: Uuid,
        etag: i64,
        mut held: AcceptanceHeld,
    ) -> Result<AcceptanceCase, AppError> {
        held.recorded_as = if p.is(Role::Drb) { Organiser::Drb } else { Organiser::Unit };
        held.recorded_by = p.subject.clone();
        self.transition(p, id, etag, |k, ctx| case::record_acceptance(k, held, ctx)).await
    }

    /// The R-A5 timer: the rectification deadline lapsed without a re-application. Runs in the
    /// timer's transaction; nothing happens when the unit re-applied in time.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn rectification_lapsed(&self, tx: &mut PgConnection, timer_id: &str, id: Uuid) -> Result<(), AppError> {
        let origin = Origin::system(SERVICE, self.clock.now(), timer_id);
        let k = storage::get_case(tx, id, true).await?;
        let policy = self.policy.pinned(&k.policy_version)?;
        if let Some(change) = case::rectification_lapsed(&k, Context::new(origin.at, &policy)) {
            transition::commit(tx, &origin, Expected::Version(k.version), change).await?;
        }
        Ok(())
    }

    /// The common transition of a case: load locked, unit isolation (the lead unit), etag,
    /// decide, commit, in one transaction.
    async fn transition<D>(&self, p: &Principal, id: Uuid, etag: i64, decide: D) -> Result<AcceptanceCase, AppError>
    where
        D: FnOnce(&AcceptanceCase, Context<'_>) -> Result<Change<AcceptanceCase>, egov_platform::Refusal> + Send,
    {
        let origin = self.origin(p, "");
        let mut tx = self.begin().await?;
        let k = transition::transition(
            &mut tx,
            &origin,
            &self.policy,
            &id,
            Some(etag),
            |k: &AcceptanceCase| p.ensure_unit(&k.handover.lead_unit_id, []),
            decide,
        )
        .await?;
        tx.commit().await?;
        Ok(k)
    }
}
