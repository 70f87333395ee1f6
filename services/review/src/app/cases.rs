//! Use cases of the review case: opening it (consumer), the preliminary decision (R-R1),
//! return, resubmission and withdrawal, the re-check conclusion (R-R3), the joint meeting and
//! the approval (R-R4, R-R5), funds secured (R-R6), changes (R-R7), and what procurement's events
//! and the validity timer do to an approval (R-R6, R-P1, R-R7, R-P10).

use egov_platform::{
    AppError,
    auth::Principal,
    error::Refusal,
    transition::{self, Change, Context, Expected},
    values::Fen,
};
use sqlx::PgConnection;
use tracing::instrument;
use uuid::Uuid;

use super::Review;
use crate::domain::{
    Dossier, ReviewCase, UnitRecordEntry, case,
    change::ChangeEvent,
    rules::{ApprovalInput, JointMeetingInput, RecheckInput},
};

pub(crate) use crate::domain::case::Cancellation;

/// The case a request acts on: its id, the etag the client read, and the client's request id.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub id: Uuid,
    pub etag: i64,
    pub request_id: String,
}

impl Review {
    /// The common transition of a case: load it locked with its tasks, unit isolation (UNIT: the
    /// lead unit only), etag, decide under the pinned policy, commit, in one transaction.
    async fn transition<D>(&self, p: &Principal, t: &Target, decide: D) -> Result<ReviewCase, AppError>
    where
        D: FnOnce(&ReviewCase, Context<'_>) -> Result<Change<ReviewCase>, Refusal> + Send,
    {
        self.transition_of(p, t, |_| Ok(()), decide).await
    }

    /// [`Self::transition`] with a look at the loaded case first (`found`: what the request names
    /// inside it exists).
    async fn transition_of<D>(
        &self,
        p: &Principal,
        t: &Target,
        found: impl FnOnce(&ReviewCase) -> Result<(), AppError> + Send,
        decide: D,
    ) -> Result<ReviewCase, AppError>
    where
        D: FnOnce(&ReviewCase, Context<'_>) -> Result<Change<ReviewCase>, Refusal> + Send,
    {
        let origin = self.origin(p, &t.request_id);
        let mut tx = self.begin().await?;
        let authorise = |k: &ReviewCase| {
            p.ensure_unit(&k.dossier.lead_unit_id, [])?;
            found(k)
        };
        let case = transition::transition(&mut tx, &origin, &self.policy, &t.id, Some(t.etag), authorise, decide).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// Intake's compliance-passed event opens the case (idempotently: the case id is the project
    /// id), pinned to the application's policy version. Runs in the consumer's transaction.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn open_case(
        &self,
        tx: &mut PgConnection,
        event_id: &str,
        id: Uuid,
        policy_version: &str,
        dossier: Dossier,
        record: Vec<UnitRecordEntry>,
    ) -> Result<(), AppError> {
        let origin = self.system(event_id);
        let policy = self.policy.pinned(policy_version)?;
        let change = case::open(id, dossier, record, Context::new(origin.at, &policy));
        match transition::commit(tx, &origin, Expected::New, change).await {
            Err(AppError::AlreadyExists(_)) => Ok(()), // already open: a redelivery under another event id
            r => r.map(|_| ()),
        }
    }

    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn decide_preliminary(&self, p: &Principal, t: Target, passed: bool, comment: &str) -> Result<ReviewCase, AppError> {
        let by = p.subject.clone();
        self.transition(p, &t, |k, ctx| case::decide_preliminary(k, passed, comment, &by, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn return_for_revision(&self, p: &Principal, t: Target, comment: &str) -> Result<ReviewCase, AppError> {
        self.transition(p, &t, |k, ctx| case::return_for_revision(k, comment, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn resubmit_case(&self, p: &Principal, t: Target, comment: &str) -> Result<ReviewCase, AppError> {
        self.transition(p, &t, |k, ctx| case::resubmit(k, comment, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn withdraw_case(&self, p: &Principal, t: Target, reason: &str) -> Result<ReviewCase, AppError> {
        self.transition(p, &t, |k, ctx| case::withdraw(k, reason, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn issue_approval(&self, p: &Principal, t: Target, input: ApprovalInput) -> Result<ReviewCase, AppError> {
        self.transition(p, &t, |k, ctx| case::issue_approval(k, &input, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn conclude_recheck(&self, p: &Principal, t: Target, input: RecheckInput) -> Result<ReviewCase, AppError> {
        let by = p.subject.clone();
        self.transition(p, &t, |k, ctx| case::conclude_recheck(k, &input, &by, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn record_joint_meeting(&self, p: &Principal, t: Target, input: JointMeetingInput) -> Result<ReviewCase, AppError> {
        let by = p.subject.clone();
        self.transition(p, &t, |k, ctx| case::record_joint_meeting(k, &input, &by, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn record_funds_secured(
        &self,
        p: &Principal,
        t: Target,
        evidence: &[String],
        comment: &str,
    ) -> Result<ReviewCase, AppError> {
        self.transition(p, &t, |k, ctx| case::record_funds_secured(k, evidence, comment, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn request_change(&self, p: &Principal, t: Target, new_budget: Fen, reason: &str) -> Result<ReviewCase, AppError> {
        let by = p.subject.clone();
        let change_id = Uuid::now_v7();
        self.transition(p, &t, |k, ctx| case::request_change(k, change_id, new_budget, reason, &by, ctx)).await
    }

    /// An unknown change id is NOT_FOUND (checked before the rules).
    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn decide_change(
        &self,
        p: &Principal,
        t: Target,
        change_id: Uuid,
        event: ChangeEvent,
        comment: &str,
    ) -> Result<ReviewCase, AppError> {
        let found = |k: &ReviewCase| match k.changes.iter().any(|c| c.change_id == change_id) {
            true => Ok(()),
            false => Err(AppError::NotFound(format!("change {change_id} of case {}", k.case_id))),
        };
        self.transition_of(p, &t, found, |k, ctx| case::decide_change(k, change_id, event, comment, ctx)).await
    }

    /// R-R6 (the validity timer) or R-P1 (procurement's deadline-missed event): the one
    /// cancellation of an approval in force, in the caller's transaction; nothing happens when
    /// there is none to cancel.
    #[instrument(skip_all, fields(project_id = %id, rule = why.rule()), err)]
    pub(crate) async fn cancel_approval(
        &self,
        tx: &mut PgConnection,
        request_id: &str,
        id: Uuid,
        why: Cancellation,
    ) -> Result<(), AppError> {
        let origin = self.system(request_id);
        self.system_change(tx, &origin, id, |k, ctx| case::cancel_approval(k, why, ctx)).await
    }

    /// R-R7: procurement completed; no more changes.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn procurement_completed(&self, tx: &mut PgConnection, event_id: &str, id: Uuid) -> Result<(), AppError> {
        let origin = self.system(event_id);
        self.system_change(tx, &origin, id, case::procurement_completed).await
    }

    /// R-P10: the project was revoked or terminated.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn terminate(
        &self,
        tx: &mut PgConnection,
        event_id: &str,
        id: Uuid,
        kind: &str,
        reason: &str,
    ) -> Result<(), AppError> {
        let origin = self.system(event_id);
        self.system_change(tx, &origin, id, |k, ctx| case::terminate(k, kind, reason, ctx)).await
    }
}
