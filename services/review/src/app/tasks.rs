//! Use cases of the workflow tasks: claiming one, completing one with a participant's opinion
//! (preliminary review R-R1, re-check R-R3), and the reminder and escalation timers.

use egov_platform::{
    AppError,
    auth::Principal,
    error::Refusal,
    transition::{self, Change, Context, Expected},
};
use sqlx::PgConnection;
use tracing::instrument;
use uuid::Uuid;

use super::Review;
use crate::domain::{
    ReviewCase,
    case::{self, Participant},
    workflow::{self, Task, TaskState},
};

/// A task a request acts on: its case, the task, the etag the client read of the task, and the
/// client's request id.
#[derive(Debug, Clone)]
pub(crate) struct TaskRef {
    pub case_id: Uuid,
    pub task_id: Uuid,
    pub etag: i64,
    pub request_id: String,
}

/// Whether `p` may act on `task` as read at `etag`: the etag first (of two concurrent
/// completions, the second is ABORTED rather than told the task is done), then the role, then,
/// to complete it, that nobody else has claimed it.
fn may_act(task: &Task, etag: i64, p: &Principal, completing: bool) -> Result<(), AppError> {
    transition::check_etag(task, etag)?;
    if p.role != task.role {
        return Err(AppError::PermissionDenied(format!("task {} is for role {}, not {}", task.task_id, task.role, p.role)));
    }
    if completing && task.state == TaskState::Claimed && task.assignee.as_deref() != Some(p.subject.as_str()) {
        return Err(AppError::PermissionDenied(format!(
            "task {} is claimed by {}",
            task.task_id,
            task.assignee.clone().unwrap_or_default()
        )));
    }
    Ok(())
}

impl Review {
    /// A person of the task's role takes it; only they may then complete it. The case does not
    /// change (its etag stays).
    #[instrument(skip_all, fields(task_id = %id), err)]
    pub(crate) async fn claim_task(&self, p: &Principal, id: Uuid, etag: i64, request_id: &str) -> Result<Task, AppError> {
        let origin = self.origin(p, request_id);
        let mut tx = self.begin().await?;
        let task: Task = transition::load(&mut tx, &id, true).await?;
        may_act(&task, etag, p, false)?;
        let change = workflow::claim(&task, &p.subject)?;
        let task = transition::commit(&mut tx, &origin, Expected::Version(task.version), change).await?;
        tx.commit().await?;
        Ok(task)
    }

    /// Completes the task `r` with the opinion `decide` records on the case, in one transaction:
    /// the case (locked) and the task it owns are stored together, the task's timers cancelled.
    async fn complete_task<D>(&self, p: &Principal, r: &TaskRef, decide: D) -> Result<ReviewCase, AppError>
    where
        D: FnOnce(&ReviewCase, Participant<'_>, Context<'_>) -> Result<Change<ReviewCase>, Refusal>,
    {
        let origin = self.origin(p, &r.request_id);
        let mut tx = self.begin().await?;
        let case: ReviewCase = transition::load(&mut tx, &r.case_id, true).await?;
        let task = match case.tasks.iter().find(|t| t.task_id == r.task_id) {
            Some(t) => t.clone(),
            // Another case's task: refused by the domain as not one of this case's.
            None => transition::load::<Task>(&mut tx, &r.task_id, false).await?,
        };
        may_act(&task, r.etag, p, true)?;
        let policy = self.policy.pinned(&case.policy_version)?;
        let by = Participant { role: p.role, subject: &p.subject };
        let change = decide(&case, by, Context::new(origin.at, &policy))?;
        let case = transition::commit(&mut tx, &origin, Expected::Version(case.version), change).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// R-R1: a participant scores on the pinned scoring sheet and gives its opinion.
    #[instrument(skip_all, fields(project_id = %r.case_id), err)]
    pub(crate) async fn submit_opinion(
        &self,
        p: &Principal,
        r: TaskRef,
        scores: Vec<(String, u32)>,
        passed: bool,
        opinion: &str,
    ) -> Result<ReviewCase, AppError> {
        let task_id = r.task_id;
        self.complete_task(p, &r, |k, by, ctx| case::submit_opinion(k, task_id, by, scores, passed, opinion, ctx)).await
    }

    /// R-R3: DRB, DRC or FINANCE gives its re-check opinion.
    #[instrument(skip_all, fields(project_id = %r.case_id), err)]
    pub(crate) async fn submit_recheck_opinion(
        &self,
        p: &Principal,
        r: TaskRef,
        passed: bool,
        opinion: &str,
    ) -> Result<ReviewCase, AppError> {
        let task_id = r.task_id;
        self.complete_task(p, &r, |k, by, ctx| case::submit_recheck_opinion(k, task_id, by, passed, opinion, ctx)).await
    }

    /// The reminder timer: recorded in the audit trail while the task is live.
    #[instrument(skip_all, fields(task_id = %id), err)]
    pub(crate) async fn remind_task(&self, tx: &mut PgConnection, timer_id: &str, id: Uuid) -> Result<(), AppError> {
        let origin = self.system(timer_id);
        let task: Task = transition::load(tx, &id, true).await?;
        if let Some(effects) = workflow::remind(&task) {
            let resource = transition::Aggregate::resource(&task);
            transition::record(tx, &origin, &resource, &task.case_id.to_string(), &task.policy_version, effects).await?;
        }
        Ok(())
    }

    /// The escalation timer: a live task that is due is marked overdue and escalated.
    #[instrument(skip_all, fields(task_id = %id), err)]
    pub(crate) async fn escalate_task(&self, tx: &mut PgConnection, timer_id: &str, id: Uuid) -> Result<(), AppError> {
        let origin = self.system(timer_id);
        let task: Task = transition::load(tx, &id, true).await?;
        if let Some(change) = workflow::escalate(&task) {
            transition::commit(tx, &origin, Expected::Version(task.version), change).await?;
        }
        Ok(())
    }
}
