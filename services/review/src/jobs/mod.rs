//! Review's timers: task reminders and escalations (workflow core), and the validity of
//! outside-funded approvals (R-R6).

use egov_platform::{
    AppError,
    audit::{self, AuditEntry},
    clock::SharedClock,
    convert, outbox,
    timer_runner::{DueTimer, TimerHandler},
    timers,
};
use egov_proto::events::{self as ev, event_envelope::Payload};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{
        Stage,
        workflow::{Task, TaskState},
    },
    messaging::{self, types},
    storage,
};

pub const TASK_REMINDER: &str = "review.task.reminder";
pub const TASK_ESCALATION: &str = "review.task.escalation";
pub const APPROVAL_VALIDITY: &str = "review.approval.validity";

/// A reminder `reminder_hours` before the task is due, and an escalation when it is due.
pub async fn schedule_task_timers(c: &mut PgConnection, t: &Task, reminder_hours: u32) -> Result<(), AppError> {
    let key = t.task_id.to_string();
    let payload = serde_json::json!({ "case_id": t.case_id.to_string() });
    timers::schedule(c, TASK_REMINDER, &key, t.reminder_at(reminder_hours), payload.clone()).await?;
    timers::schedule(c, TASK_ESCALATION, &key, t.due_at, payload).await?;
    Ok(())
}

pub async fn cancel_task_timers(c: &mut PgConnection, task_id: Uuid) -> Result<(), AppError> {
    timers::cancel(c, TASK_REMINDER, &task_id.to_string()).await?;
    timers::cancel(c, TASK_ESCALATION, &task_id.to_string()).await?;
    Ok(())
}

pub struct ReviewTimers {
    pub clock: SharedClock,
}

impl ReviewTimers {
    async fn task(&self, c: &mut PgConnection, t: &DueTimer, escalate: bool) -> Result<(), AppError> {
        let id = Uuid::parse_str(&t.key).map_err(|e| AppError::Internal(anyhow::anyhow!("timer key {}: {e}", t.key)))?;
        let mut task = storage::get_task(c, id, true).await?;
        if !matches!(task.state, TaskState::Open | TaskState::Claimed) {
            return Ok(()); // done, cancelled or suspended meanwhile
        }
        let now = self.clock.now();
        let case = storage::get_case(c, task.case_id, false).await?;
        let action = if escalate { "EscalateTask" } else { "RemindTask" };
        let entry = AuditEntry::system("review", action, format!("tasks/{id}"))
            .project(task.case_id.to_string())
            .reason(format!("{} for {} due {}", task.kind, task.role, task.due_at))
            .policy(&case.policy_version)
            .request(t.timer_id.to_string());
        audit::append(c, now, &entry).await?;
        if escalate {
            task.overdue = true;
            task.version += 1;
            storage::update_task(c, &task).await?;
            let payload = Payload::TaskOverdue(ev::TaskOverdue {
                task_id: id.to_string(),
                case_id: task.case_id.to_string(),
                kind: task.kind.clone(),
                assignee_role: task.role.as_str().into(),
                due_at: Some(convert::timestamp(task.due_at)),
            });
            outbox::enqueue(c, &messaging::envelope(types::TASK_OVERDUE, &case, now, payload)).await?;
        }
        Ok(())
    }

    /// R-R6: an outside-funded approval whose funds were not secured in time is cancelled.
    async fn validity(&self, c: &mut PgConnection, t: &DueTimer) -> Result<(), AppError> {
        let id = Uuid::parse_str(&t.key).map_err(|e| AppError::Internal(anyhow::anyhow!("timer key {}: {e}", t.key)))?;
        let mut case = storage::get_case(c, id, true).await?;
        let now = self.clock.now();
        let Some(a) = case.approval.as_mut() else { return Ok(()) };
        if a.cancelled || a.funds_secured || case.stage != Stage::Approved {
            return Ok(());
        }
        let until = a.valid_until.map(|d| d.to_string()).unwrap_or_default();
        let reason = format!("立项文件有效期内未落实资金，取消立项指标 / funds not secured by {until}");
        a.cancelled = true;
        a.cancel_reason = reason.clone();
        case.stage = Stage::Cancelled;
        case.end_reason = reason.clone();
        case.version += 1;
        storage::update_case(c, &case).await?;
        let entry = AuditEntry::system("review", "CancelApproval", format!("cases/{id}"))
            .project(id.to_string())
            .reason(&reason)
            .rules(&["R-R6"])
            .policy(&case.policy_version)
            .request(t.timer_id.to_string());
        audit::append(c, now, &entry).await?;
        let payload =
            Payload::ApprovalCancelled(ev::ApprovalCancelled { project_id: id.to_string(), reason, rule_ids: vec!["R-R6".into()] });
        outbox::enqueue(c, &messaging::envelope(types::APPROVAL_CANCELLED, &case, now, payload)).await?;
        Ok(())
    }
}

impl TimerHandler for ReviewTimers {
    fn fire<'a>(&'a self, tx: &'a mut PgConnection, timer: &'a DueTimer) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move {
            match timer.kind.as_str() {
                TASK_REMINDER => self.task(tx, timer, false).await,
                TASK_ESCALATION => self.task(tx, timer, true).await,
                APPROVAL_VALIDITY => self.validity(tx, timer).await,
                other => Err(AppError::Internal(anyhow::anyhow!("review has no timer of kind {other}"))),
            }
        })
    }
}
