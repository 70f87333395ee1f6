//! Procurement's timers: R-P1's deadline, R-P7's monthly missing-report check and R-P8's overrun
//! of the contract period, each fired into its use case (the same that any other path calls).
//! The kinds live in the domain, which sets and cancels them.

use std::sync::Arc;

use egov_platform::{
    AppError, request,
    timer_runner::{DueTimer, TimerHandler},
};
use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::{
    app::Procurement,
    domain::timers::{self, OVERRUN, PROCUREMENT_DEADLINE},
};

/// The R-P7 check's kind, named here for the load bench (`egov-bench`).
pub use crate::domain::timers::PROGRESS_REPORT;

pub(crate) struct ProcurementTimers {
    pub app: Arc<Procurement>,
}

impl TimerHandler for ProcurementTimers {
    fn fire<'a>(&'a self, tx: &'a mut PgConnection, timer: &'a DueTimer) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move {
            let id = request::id("key", timers::key_project(&timer.key))?;
            let timer_id = timer.timer_id.to_string();
            match timer.kind.as_str() {
                PROCUREMENT_DEADLINE => self.app.miss_deadline(tx, &timer_id, id).await,
                PROGRESS_REPORT => {
                    let Some(month) = timers::report_month(&timer.payload) else {
                        return Err(AppError::Internal(anyhow::anyhow!(
                            "report timer {} without a valid month: {}",
                            timer.key,
                            timer.payload
                        )));
                    };
                    self.app.check_report(tx, &timer_id, id, month).await
                }
                OVERRUN => self.app.record_overrun(tx, &timer_id, id).await,
                other => Err(AppError::Internal(anyhow::anyhow!("procurement has no timer of kind {other}"))),
            }
        })
    }
}
