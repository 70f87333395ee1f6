//! A small workflow core (reusable by later services): tasks assigned to a role or a person,
//! claimed, completed under a group's completion rule (all / any / a ratio), suspended while a
//! case is returned for revision, with due dates that drive reminder and escalation timers.

use egov_platform::{
    auth::{Principal, Role},
    error::AppError,
    named_enum,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

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
}

impl Task {
    pub fn new(case_id: Uuid, kind: &str, group_id: &str, role: Role, opened_at: OffsetDateTime, due_in_days: u32) -> Task {
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
        }
    }

    /// When to remind the assignee.
    pub fn reminder_at(&self, hours_before: u32) -> OffsetDateTime {
        self.due_at - Duration::hours(i64::from(hours_before))
    }
}

fn stale(task: &Task, etag: i64) -> Result<(), AppError> {
    if task.version != etag {
        return Err(AppError::Aborted(format!("task {} was changed by someone else (stale etag); read it again", task.task_id)));
    }
    Ok(())
}

/// A person of the task's role takes it; only they may then complete it.
pub fn claim(task: &Task, etag: i64, p: &Principal) -> Result<(), AppError> {
    stale(task, etag)?;
    if p.role != task.role {
        return Err(AppError::PermissionDenied(format!("task {} is for role {}, not {}", task.task_id, task.role, p.role)));
    }
    match task.state {
        TaskState::Open => Ok(()),
        TaskState::Claimed if task.assignee.as_deref() == Some(p.subject.as_str()) => Ok(()),
        s => Err(AppError::InvalidState(format!("task {} is {s}", task.task_id))),
    }
}

/// Whether `p` may complete `task` now (etag first: of two concurrent completions, the second
/// is ABORTED rather than told the task is done).
pub fn ensure_can_complete(task: &Task, etag: i64, p: &Principal) -> Result<(), AppError> {
    stale(task, etag)?;
    if p.role != task.role {
        return Err(AppError::PermissionDenied(format!("task {} is for role {}, not {}", task.task_id, task.role, p.role)));
    }
    match task.state {
        TaskState::Open => Ok(()),
        TaskState::Claimed if task.assignee.as_deref() == Some(p.subject.as_str()) => Ok(()),
        TaskState::Claimed => {
            Err(AppError::PermissionDenied(format!("task {} is claimed by {}", task.task_id, task.assignee.clone().unwrap_or_default())))
        }
        s => Err(AppError::InvalidState(format!("task {} is {s}", task.task_id))),
    }
}

/// Done and live counts of a group.
pub fn progress(tasks: &[Task]) -> (usize, usize) {
    let live: Vec<&Task> = tasks.iter().filter(|t| t.state != TaskState::Cancelled).collect();
    (live.iter().filter(|t| t.state == TaskState::Done).count(), live.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn p(role: Role, who: &str) -> Principal {
        Principal { subject: who.into(), role, unit: None }
    }

    fn task(role: Role) -> Task {
        Task::new(Uuid::now_v7(), "preliminary.opinion", "g", role, datetime!(2026-03-02 02:00 UTC), 7)
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
        let mut t = task(Role::Finance);
        assert!(matches!(claim(&t, 1, &p(Role::Drc, "d")), Err(AppError::PermissionDenied(_))));
        claim(&t, 1, &p(Role::Finance, "f1")).unwrap();
        t.state = TaskState::Claimed;
        t.assignee = Some("f1".into());
        t.version = 2;
        assert!(matches!(claim(&t, 1, &p(Role::Finance, "f1")), Err(AppError::Aborted(_))));
        assert!(matches!(ensure_can_complete(&t, 2, &p(Role::Finance, "f2")), Err(AppError::PermissionDenied(_))));
        ensure_can_complete(&t, 2, &p(Role::Finance, "f1")).unwrap();
        t.state = TaskState::Done;
        t.version = 3;
        assert!(matches!(ensure_can_complete(&t, 2, &p(Role::Finance, "f1")), Err(AppError::Aborted(_))));
        assert!(matches!(ensure_can_complete(&t, 3, &p(Role::Finance, "f1")), Err(AppError::InvalidState(_))));
        t.state = TaskState::Suspended;
        assert!(matches!(ensure_can_complete(&t, 3, &p(Role::Finance, "f1")), Err(AppError::InvalidState(_))));
    }

    #[test]
    fn due_and_reminder() {
        let t = task(Role::Cac);
        assert_eq!(t.due_at, datetime!(2026-03-09 02:00 UTC));
        assert_eq!(t.reminder_at(24), datetime!(2026-03-08 02:00 UTC));
        let mut ts = vec![task(Role::Cac), task(Role::Drc)];
        ts[0].state = TaskState::Done;
        assert_eq!(progress(&ts), (1, 2));
        ts[1].state = TaskState::Cancelled;
        assert_eq!(progress(&ts), (1, 1));
    }
}
