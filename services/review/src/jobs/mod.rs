//! Review's timers: task reminders and escalations (workflow core), and the validity of
//! outside-funded approvals (R-R6), each through its use case. The R-R6 cancellation is the same
//! use case procurement's deadline-missed event (R-P1) calls, with its own rule.

use std::sync::Arc;

use egov_platform::{
    AppError, request,
    timer_runner::{DueTimer, TimerHandler},
};
use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::{
    app::{Cancellation, Review},
    domain::{
        validity::APPROVAL_VALIDITY,
        workflow::{TASK_ESCALATION, TASK_REMINDER},
    },
};

pub(crate) struct ReviewTimers {
    pub app: Arc<Review>,
}

impl TimerHandler for ReviewTimers {
    fn fire<'a>(&'a self, tx: &'a mut PgConnection, timer: &'a DueTimer) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move {
            let id = request::id("key", &timer.key)?;
            let timer_id = timer.timer_id.to_string();
            match timer.kind.as_str() {
                TASK_REMINDER => self.app.remind_task(tx, &timer_id, id).await,
                TASK_ESCALATION => self.app.escalate_task(tx, &timer_id, id).await,
                APPROVAL_VALIDITY => self.app.cancel_approval(tx, &timer_id, id, Cancellation::ValidityLapsed).await,
                other => Err(AppError::Internal(anyhow::anyhow!("review has no timer of kind {other}"))),
            }
        })
    }
}
