//! Use cases driven by other services' events, in the consumer's transaction (which holds the
//! inbox row): a case opens from review's approval, closes when the approval is cancelled, follows
//! budget changes, and marks the payment stages conditioned on acceptance's milestones.

use egov_platform::{
    AppError,
    transition::{self, Context, Expected},
    values::Fen,
};
use sqlx::PgConnection;
use tracing::instrument;
use uuid::Uuid;

use super::Procurement;
use crate::{
    domain::case::{self, Approval},
    storage,
};

impl Procurement {
    /// `review.project.approved`: the case opens under the approval's policy version (R-P1's
    /// deadline starts). A second approval of the same project changes nothing.
    #[instrument(skip_all, fields(project_id = %a.project_id), err)]
    pub(crate) async fn open_case(&self, tx: &mut PgConnection, event_id: &str, policy_version: &str, a: Approval) -> Result<(), AppError> {
        if storage::find_case(tx, a.project_id, false).await?.is_some() {
            return Ok(());
        }
        let policy = self.policy.pinned(policy_version)?;
        let origin = self.system(event_id);
        transition::commit(tx, &origin, Expected::New, case::open(a, Context::new(origin.at, &policy))).await?;
        Ok(())
    }

    /// `review.approval.cancelled` (R-R6, or R-P1 after a missed deadline): the case closes.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn cancel_approval(
        &self,
        tx: &mut PgConnection,
        event_id: &str,
        id: Uuid,
        reason: &str,
        rule_ids: &[String],
    ) -> Result<(), AppError> {
        self.follow(tx, event_id, id, |k, ctx| case::cancel_approval(k, reason, rule_ids, ctx)).await
    }

    /// `review.budget.adjusted` (R-R7): the case follows the approved budget.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn adjust_budget(
        &self,
        tx: &mut PgConnection,
        event_id: &str,
        id: Uuid,
        budget: Fen,
        change_id: &str,
        route: &str,
    ) -> Result<(), AppError> {
        self.follow(tx, event_id, id, |k, ctx| case::adjust_budget(k, budget, change_id, route, ctx)).await
    }

    /// Acceptance reached a milestone (initial acceptance passed, or the project accepted): the
    /// payment stages conditioned on it are met (R-P6).
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn acceptance_milestone(
        &self,
        tx: &mut PgConnection,
        event_id: &str,
        id: Uuid,
        milestone: case::Milestone,
        on: time::Date,
    ) -> Result<(), AppError> {
        let evidence = format!("acceptance event {event_id}");
        self.follow(tx, event_id, id, |k, ctx| case::acceptance_milestone(k, milestone, on, &evidence, ctx)).await
    }
}
