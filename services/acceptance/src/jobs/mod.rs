//! Acceptance's timer: the rectification deadline of R-A5. When it lapses without a
//! re-application, the case lapses and DRB is alerted, through the one use case.

use std::sync::Arc;

use egov_platform::{
    AppError, request,
    timer_runner::{DueTimer, TimerHandler},
};
use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::{app::Acceptance, domain::case::RECTIFICATION_DEADLINE};

pub struct AcceptanceTimers {
    pub app: Arc<Acceptance>,
}

impl TimerHandler for AcceptanceTimers {
    fn fire<'a>(&'a self, tx: &'a mut PgConnection, timer: &'a DueTimer) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move {
            match timer.kind.as_str() {
                RECTIFICATION_DEADLINE => {
                    let id = request::id("key", &timer.key)?;
                    self.app.rectification_lapsed(tx, &timer.timer_id.to_string(), id).await
                }
                other => Err(AppError::Internal(anyhow::anyhow!("acceptance has no timer of kind {other}"))),
            }
        })
    }
}
