//! Intake's timer: the re-review window of R-I11. When it lapses with no re-review requested, the
//! application ends (本次申报结束), through the same use case whatever fires it.

use std::sync::Arc;

use egov_platform::{
    AppError, request,
    timer_runner::{DueTimer, TimerHandler},
};
use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::{app::Intake, domain::application::RE_REVIEW_DEADLINE};

pub struct IntakeTimers {
    pub app: Arc<Intake>,
}

impl TimerHandler for IntakeTimers {
    fn fire<'a>(&'a self, tx: &'a mut PgConnection, timer: &'a DueTimer) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move {
            match timer.kind.as_str() {
                RE_REVIEW_DEADLINE => {
                    let id = request::id("key", &timer.key)?;
                    self.app.end_after_re_review_window(tx, &timer.timer_id.to_string(), id).await
                }
                other => Err(AppError::Internal(anyhow::anyhow!("intake has no timer of kind {other}"))),
            }
        })
    }
}
