//! A small workflow core (reusable by later services): tasks assigned to a role or a person,
//! claimed, completed under a group's completion rule (all / any / a ratio), suspended while a
//! case is returned for revision, with due dates that drive reminder and escalation timers.
//!
//! Pure: a task's transitions return the task as it becomes (or a [`Change`] for the task-only
//! actions: claim and escalation) and the timers to set or cancel as data. A step out of order is
//! refused under the rule the task serves (R-R1 for preliminary opinions, R-R3 for re-check
//! opinions), saying what the task's state means and what to do instead.

use egov_platform::{
    auth::Role,
    convert,
    error::Refusal,
    named_enum,
    transition::{Aggregate, Change, Effects, TimerOp},
};
use egov_proto::events::{self as ev, event_envelope::Payload};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::events::types;

/// Timer: remind the assignee before the task is due (key: the task id).
pub const TASK_REMINDER: &str = "review.task.reminder";
/// Timer: the task is due and not done: it is marked overdue and escalated (key: the task id).
pub const TASK_ESCALATION: &str = "review.task.escalation";

/// A participant's preliminary opinion (R-R1), in the group [`PRELIMINARY_GROUP`].
pub const PRELIMINARY_TASK: &str = "preliminary.opinion";
pub const PRELIMINARY_GROUP: &str = "preliminary";
/// A participant's re-check opinion (R-R3), in the group [`RECHECK_GROUP`].
pub const RECHECK_TASK: &str = "recheck.opinion";
pub const RECHECK_GROUP: &str = "recheck";

named_enum!(
    pub enum TaskState {
        Open = "OPEN",
        Claimed = "CLAIMED",
        Done = "DONE",
        Cancelled = "CANCELLED",
        Suspended = "SUSPENDED",
    }
);

/// When a group of tasks is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Completion {
    /// Every task done (会签).
    All,
    /// Any one task done (或签).
    Any,
    /// At least `num/den` of the tasks done.
    Ratio { num: u32, den: u32 },
}

impl Completion {
    /// Whether `done` of `total` live (not cancelled) tasks complete the group.
    pub fn satisfied(self, done: usize, total: usize) -> bool {
        if total == 0 {
            return false;
        }
        match self {
            Completion::All => done == total,
            Completion::Any => done >= 1,
            Completion::Ratio { num, den } => den > 0 && (done as u64) * u64::from(den) >= (total as u64) * u64::from(num),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub task_id: Uuid,
    pub case_id: Uuid,
    pub kind: String,
    pub group_id: String,
    pub role: Role,
    pub assignee: Option<String>,
    pub state: TaskState,
    pub due_at: OffsetDateTime,
    pub overdue: bool,
    pub completed_by: String,
    pub comment: String,
    pub version: i64,
    /// The case's policy version (not stored with the task: read from its case).
    pub policy_version: String,
}

impl Task {
    pub fn new(
        case_id: Uuid,
        kind: &str,
        group_id: &str,
        role: Role,
        policy_version: &str,
        opened_at: OffsetDateTime,
        due_in_days: u32,
    ) -> Task {
        Task {
            task_id: Uuid::now_v7(),
            case_id,
            kind: kind.into(),
            group_id: group_id.into(),
            role,
            assignee: None,
            state: TaskState::Open,
            due_at: opened_at + Duration::days(i64::from(due_in_days)),
            overdue: false,
            completed_by: String::new(),
            comment: String::new(),
            version: 1,
            policy_version: policy_version.into(),
        }
    }

    /// When to remind the assignee.
    pub fn reminder_at(&self, hours_before: u32) -> OffsetDateTime {
        self.due_at - Duration::hours(i64::from(hours_before))
    }

    /// The rule the task serves: what a refusal about it names.
    pub fn rule(&self) -> &'static str {
        if self.kind == RECHECK_TASK { "R-R3" } else { "R-R1" }
    }

    /// Whether someone can still act on it.
    pub fn is_live(&self) -> bool {
        matches!(self.state, TaskState::Open | TaskState::Claimed)
    }
}

impl Aggregate for Task {
    const NAME: &'static str = "the task";
    fn resource(&self) -> String {
        format!("tasks/{}", self.task_id)
    }
    fn project_id(&self) -> String {
        self.case_id.to_string()
    }
    fn policy_version(&self) -> &str {
        &self.policy_version
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn set_version(&mut self, version: i64) {
        self.version = version;
    }
    fn summary(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("state".into(), self.state.as_str().into());
        m
    }
}

/// Why nobody acts on `task` in its state (Done, Cancelled, Suspended, or claimed by another).
fn not_actionable(task: &Task) -> Refusal {
    let what = match task.state {
        TaskState::Done => "this task is done already: each participant gives its opinion once".to_string(),
        TaskState::Cancelled => {
            "this task was cancelled (the case was resubmitted, withdrawn or ended): act on the case's open task instead".to_string()
        }
        TaskState::Suspended => {
            "this task is suspended while the case is returned to the unit for revision (退回修改); the review resumes, with new \
             tasks, when the unit resubmits"
                .to_string()
        }
        TaskState::Claimed => {
            format!("this task is claimed by {}: they complete it", task.assignee.clone().unwrap_or_default())
        }
        TaskState::Open => "this task is open".to_string(),
    };
    Refusal::rule(task.rule(), "task", what)
}

/// A person of the task's role takes it (claiming one's own claimed task again is allowed).
/// Whether the person may act on the task at all (role, etag) is the use case's check.
pub fn claim(task: &Task, subject: &str) -> Result<Change<Task>, Refusal> {
    match task.state {
        TaskState::Open => {}
        TaskState::Claimed if task.assignee.as_deref() == Some(subject) => {}
        _ => return Err(not_actionable(task)),
    }
    let mut next = task.clone();
    next.state = TaskState::Claimed;
    next.assignee = Some(subject.to_string());
    Ok(Change::new(next, "ClaimTask"))
}

/// The task done by `subject` with `comment`, its timers cancelled; refused unless it is open
/// or claimed by `subject`.
pub fn complete(task: &Task, subject: &str, comment: &str) -> Result<(Task, Vec<TimerOp>), Refusal> {
    match task.state {
        TaskState::Open => {}
        TaskState::Claimed if task.assignee.as_deref() == Some(subject) => {}
        _ => return Err(not_actionable(task)),
    }
    let mut next = task.clone();
    next.state = TaskState::Done;
    next.completed_by = subject.to_string();
    next.comment = comment.to_string();
    Ok((next, cancel_timers(task.task_id)))
}

/// A reminder `reminder_hours` before the task is due, and an escalation when it is due.
pub fn timers(t: &Task, reminder_hours: u32) -> Vec<TimerOp> {
    let payload = serde_json::json!({ "case_id": t.case_id.to_string() });
    vec![
        TimerOp::Set { kind: TASK_REMINDER, key: t.task_id.to_string(), due_at: t.reminder_at(reminder_hours), payload: payload.clone() },
        TimerOp::Set { kind: TASK_ESCALATION, key: t.task_id.to_string(), due_at: t.due_at, payload },
    ]
}

/// Stops a task's reminder and escalation.
pub fn cancel_timers(task_id: Uuid) -> Vec<TimerOp> {
    vec![
        TimerOp::Cancel { kind: TASK_REMINDER, key: task_id.to_string() },
        TimerOp::Cancel { kind: TASK_ESCALATION, key: task_id.to_string() },
    ]
}

/// The reminder timer: recorded (audit only) while someone can still act on the task.
pub fn remind(task: &Task) -> Option<Effects> {
    task.is_live().then(|| Effects::new("RemindTask").reason(format!("{} for {} due {}", task.kind, task.role, task.due_at)))
}

/// The escalation timer: a live task that is due is marked overdue, and `review.task.overdue`
/// tells intake's timeline (informational: the project's status does not change).
pub fn escalate(task: &Task) -> Option<Change<Task>> {
    if !task.is_live() {
        return None; // done, cancelled or suspended meanwhile
    }
    let mut next = task.clone();
    next.overdue = true;
    let payload = Payload::TaskOverdue(ev::TaskOverdue {
        task_id: task.task_id.to_string(),
        case_id: task.case_id.to_string(),
        kind: task.kind.clone(),
        assignee_role: task.role.as_str().into(),
        due_at: Some(convert::timestamp(task.due_at)),
    });
    let reason = format!("{} for {} due {}", task.kind, task.role, task.due_at);
    Some(Change::new(next, "EscalateTask").reason(reason).event(types::TASK_OVERDUE, payload))
}

/// Done and live counts of a group.
pub fn progress<'a>(tasks: impl IntoIterator<Item = &'a Task>) -> (usize, usize) {
    let live: Vec<&Task> = tasks.into_iter().filter(|t| t.state != TaskState::Cancelled).collect();
    (live.iter().filter(|t| t.state == TaskState::Done).count(), live.len())
}

/// Moves every task in one of the `from` states to `to` (suspension on return, cancellation on
/// resubmission and withdrawal); cancelled tasks lose their timers.
pub fn move_tasks(tasks: &mut [Task], from: &[TaskState], to: TaskState) -> Vec<TimerOp> {
    let mut ops = Vec::new();
    for t in tasks.iter_mut().filter(|t| from.contains(&t.state)) {
        t.state = to;
        if to == TaskState::Cancelled {
            ops.extend(cancel_timers(t.task_id));
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn task(role: Role) -> Task {
        Task::new(Uuid::now_v7(), PRELIMINARY_TASK, "g", role, "2026.1-draft", datetime!(2026-03-02 02:00 UTC), 7)
    }

    #[test]
    fn completion_rules() {
        assert!(Completion::All.satisfied(4, 4));
        assert!(!Completion::All.satisfied(3, 4));
        assert!(Completion::Any.satisfied(1, 4));
        assert!(!Completion::Any.satisfied(0, 4));
        let two_thirds = Completion::Ratio { num: 2, den: 3 };
        assert!(!two_thirds.satisfied(1, 3));
        assert!(two_thirds.satisfied(2, 3));
        assert!(!two_thirds.satisfied(3, 5), "3/5 < 2/3");
        assert!(two_thirds.satisfied(4, 6));
        assert!(!Completion::All.satisfied(0, 0), "an empty group is never complete");
    }

    #[test]
    fn claim_and_complete() {
        let t = task(Role::Finance);
        let claimed = claim(&t, "f1").unwrap().state;
        assert_eq!((claimed.state, claimed.assignee.as_deref()), (TaskState::Claimed, Some("f1")));
        claim(&claimed, "f1").unwrap();
        let e = claim(&claimed, "f2").unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-R1"]);
        assert!(e.to_string().contains("claimed by f1"), "{e}");
        assert_eq!(complete(&claimed, "f2", "x").unwrap_err().rule_ids(), vec!["R-R1"]);
        let (done, ops) = complete(&claimed, "f1", "同意").unwrap();
        assert_eq!((done.state, done.completed_by.as_str()), (TaskState::Done, "f1"));
        assert_eq!(ops, cancel_timers(t.task_id));
        let e = complete(&done, "f1", "again").unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-R1"]);
        assert!(e.to_string().contains("done already"), "{e}");
        let mut suspended = t.clone();
        suspended.state = TaskState::Suspended;
        assert!(complete(&suspended, "f1", "x").unwrap_err().to_string().contains("resubmits"));
        let mut recheck = t;
        recheck.kind = RECHECK_TASK.into();
        recheck.state = TaskState::Cancelled;
        assert_eq!(claim(&recheck, "f1").unwrap_err().rule_ids(), vec!["R-R3"]);
    }

    #[test]
    fn due_reminder_and_escalation() {
        let t = task(Role::Cac);
        assert_eq!(t.due_at, datetime!(2026-03-09 02:00 UTC));
        assert_eq!(t.reminder_at(24), datetime!(2026-03-08 02:00 UTC));
        let mut ts = vec![task(Role::Cac), task(Role::Drc)];
        ts[0].state = TaskState::Done;
        assert_eq!(progress(&ts), (1, 2));
        ts[1].state = TaskState::Cancelled;
        assert_eq!(progress(&ts), (1, 1));
        assert!(remind(&t).is_some());
        let up = escalate(&t).unwrap();
        assert!(up.state.overdue);
        assert_eq!(up.event_types(), vec![types::TASK_OVERDUE]);
        assert!(escalate(&ts[0]).is_none(), "a done task is not escalated");
        assert!(remind(&ts[1]).is_none());
    }
}
