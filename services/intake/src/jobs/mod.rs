//! Intake's deadline timers: the re-review deadline of R-I11. When it passes with no re-review
//! requested, the application ends (本次申报结束).

use egov_platform::{
    AppError,
    audit::{self, AuditEntry},
    clock::SharedClock,
    outbox,
    timer_runner::{DueTimer, TimerHandler},
};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{ApplicationState, rules},
    messaging::{self, types},
    storage,
};

pub const RE_REVIEW_DEADLINE: &str = "intake.re_review_deadline";

pub struct IntakeTimers {
    pub clock: SharedClock,
}

impl IntakeTimers {
    async fn re_review_deadline(&self, c: &mut PgConnection, t: &DueTimer) -> Result<(), AppError> {
        let id = Uuid::parse_str(&t.key).map_err(|e| AppError::Internal(anyhow::anyhow!("timer key {}: {e}", t.key)))?;
        let mut app = storage::get_application(c, id, true).await?;
        let now = self.clock.now();
        if !rules::re_review_deadline_passed(&app, now) {
            // A re-review was requested in time (and the timer not yet cancelled), or the clock
            // is early: nothing to do.
            return Ok(());
        }
        let reason = format!(
            "no re-review requested by {} (未在期限内申请复审，本次申报结束)",
            app.re_review_deadline.map(|d| d.to_string()).unwrap_or_default()
        );
        app.version += 1;
        app.state = ApplicationState::Ended;
        app.end_reason = reason.clone();
        storage::update_application(c, &app).await?;
        let entry = AuditEntry::system("intake", "EndApplication", format!("applications/{id}"))
            .project(id.to_string())
            .reason(&reason)
            .rules(&["R-I11"])
            .policy(&app.policy_version)
            .request(t.timer_id.to_string());
        audit::append(c, now, &entry).await?;
        let e = messaging::envelope(types::ENDED, &id.to_string(), &app.policy_version, now, messaging::ended(&app, &reason, &["R-I11"]));
        outbox::enqueue(c, &e).await?;
        Ok(())
    }
}

impl TimerHandler for IntakeTimers {
    fn fire<'a>(&'a self, tx: &'a mut PgConnection, timer: &'a DueTimer) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move {
            match timer.kind.as_str() {
                RE_REVIEW_DEADLINE => self.re_review_deadline(tx, timer).await,
                other => Err(AppError::Internal(anyhow::anyhow!("intake has no timer of kind {other}"))),
            }
        })
    }
}
