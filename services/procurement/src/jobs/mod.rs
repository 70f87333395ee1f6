//! Procurement's timers: the R-P1 deadline.

use egov_platform::{
    AppError,
    audit::{self, AuditEntry},
    clock::SharedClock,
    convert, outbox,
    timer_runner::{DueTimer, TimerHandler},
};
use egov_proto::events::{self as ev, event_envelope::Payload};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::CaseState,
    messaging::{self, types},
    storage,
};

pub const PROCUREMENT_DEADLINE: &str = "procurement.deadline";

pub struct ProcurementTimers {
    pub clock: SharedClock,
}

impl ProcurementTimers {
    /// R-P1: the deadline passed with procurement incomplete; review cancels the approval.
    async fn deadline(&self, c: &mut PgConnection, t: &DueTimer) -> Result<(), AppError> {
        let id = Uuid::parse_str(&t.key).map_err(|e| AppError::Internal(anyhow::anyhow!("timer key {}: {e}", t.key)))?;
        let mut case = storage::get_case(c, id, true).await?;
        if case.state != CaseState::Procuring {
            return Ok(());
        }
        let now = self.clock.now();
        case.state = CaseState::DeadlineMissed;
        case.version += 1;
        storage::update_case(c, &case).await?;
        let deadline = case.procurement_deadline.map(|d| d.to_string()).unwrap_or_default();
        let entry = AuditEntry::system("procurement", "DeadlineMissed", format!("cases/{id}"))
            .project(id.to_string())
            .reason(format!("procurement not completed by {deadline} (采购未在规定期限内完成)"))
            .rules(&["R-P1"])
            .policy(&case.policy_version)
            .request(t.timer_id.to_string());
        audit::append(c, now, &entry).await?;
        let payload = Payload::ProcurementDeadlineMissed(ev::ProcurementDeadlineMissed {
            project_id: id.to_string(),
            approved_on: Some(convert::civil(case.approved_on)),
            deadline: case.procurement_deadline.map(convert::civil),
        });
        outbox::enqueue(c, &messaging::envelope(types::DEADLINE_MISSED, &case, now, payload)).await?;
        Ok(())
    }
}

impl TimerHandler for ProcurementTimers {
    fn fire<'a>(&'a self, tx: &'a mut PgConnection, timer: &'a DueTimer) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move {
            match timer.kind.as_str() {
                PROCUREMENT_DEADLINE => self.deadline(tx, timer).await,
                other => Err(AppError::Internal(anyhow::anyhow!("procurement has no timer of kind {other}"))),
            }
        })
    }
}
