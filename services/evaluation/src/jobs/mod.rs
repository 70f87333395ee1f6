//! Evaluation's timers: an evaluation falling due (R-E2), a rectification deadline (R-E3), a
//! sharing deadline (R-E5), an assessment's reminder and due day (R-E7). Each fires through the
//! same use case whatever fires it, and finds nothing to do when the entry moved on.

use std::sync::Arc;

use egov_platform::{
    AppError,
    timer_runner::{DueTimer, TimerHandler},
};
use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::app::Evaluation;

pub struct EvaluationTimers {
    pub app: Arc<Evaluation>,
}

impl TimerHandler for EvaluationTimers {
    fn fire<'a>(&'a self, tx: &'a mut PgConnection, timer: &'a DueTimer) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move { self.app.fire(tx, &timer.timer_id.to_string(), &timer.kind, &timer.key).await })
    }
}
