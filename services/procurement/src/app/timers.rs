//! Use cases fired by procurement's timers, in the timer's transaction: R-P1's deadline, R-P7's
//! monthly report check, R-P8's overrun of the contract period. Each does nothing when the case
//! moved on first.

use egov_platform::{
    AppError,
    transition::{self, Context, Expected},
};
use sqlx::PgConnection;
use tracing::instrument;
use uuid::Uuid;

use super::Procurement;
use crate::domain::{
    ProcurementCase, YearMonth,
    case::{self, ReportCheck},
};

impl Procurement {
    /// R-P1: the deadline lapsed with procurement incomplete; review cancels the approval.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn miss_deadline(&self, tx: &mut PgConnection, timer_id: &str, id: Uuid) -> Result<(), AppError> {
        self.follow(tx, timer_id, id, case::miss_deadline).await
    }

    /// R-P8: the contract period ended with construction under way; the overrun is recorded.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn record_overrun(&self, tx: &mut PgConnection, timer_id: &str, id: Uuid) -> Result<(), AppError> {
        self.follow(tx, timer_id, id, case::record_overrun).await
    }

    /// R-P7: `month`'s due day has ended; a missing report is flagged and the next month is
    /// checked.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn check_report(&self, tx: &mut PgConnection, timer_id: &str, id: Uuid, month: YearMonth) -> Result<(), AppError> {
        let case: ProcurementCase = transition::load(tx, &id, true).await?;
        let policy = self.policy.pinned(&case.policy_version)?;
        let origin = self.system(timer_id);
        match case::check_report(&case, month, Context::new(origin.at, &policy)) {
            ReportCheck::Stop => Ok(()),
            ReportCheck::Next(op) => transition::set_timers(tx, vec![op]).await,
            ReportCheck::Flag(change) => transition::commit(tx, &origin, Expected::Version(case.version), *change).await.map(|_| ()),
        }
    }
}
