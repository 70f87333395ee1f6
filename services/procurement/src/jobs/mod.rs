//! Procurement's timers: the R-P1 deadline, R-P7's monthly missing-report check and R-P8's
//! overrun of the contract period.

use std::sync::Arc;

use egov_platform::{
    AppError,
    audit::{self, AuditEntry},
    clock::{SharedClock, civil_date, start_of_day},
    convert, outbox,
    policy::{Policy, PolicyBook},
    timer_runner::{DueTimer, TimerHandler},
    timers,
};
use egov_proto::events::{self as ev, event_envelope::Payload};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use time::Date;
use uuid::Uuid;

use crate::{
    domain::{CaseState, OverrunRecord, ProcurementCase, YearMonth, progress},
    messaging::{self, types},
    storage,
};

pub const PROCUREMENT_DEADLINE: &str = "procurement.deadline";
/// One per project and month, key `<project>/<YYYY-MM>`, due when the month's due day has ended.
pub const PROGRESS_REPORT: &str = "procurement.progress_report";
/// One per project, due when the contract's last construction day has ended.
pub const OVERRUN: &str = "procurement.overrun";

/// Schedules the check that `month`'s progress report came in (R-P7).
pub async fn schedule_report_check(c: &mut PgConnection, id: Uuid, month: YearMonth, policy: &Policy) -> Result<(), AppError> {
    let due = progress::missing_report_timer_due(month.as_tuple(), policy);
    let payload = serde_json::json!({ "year": month.year, "month": month.month });
    timers::schedule(c, PROGRESS_REPORT, &format!("{id}/{month}"), due, payload).await?;
    Ok(())
}

/// Schedules the R-P8 check for 00:00 Asia/Shanghai the day after the contract period ends.
pub async fn schedule_overrun_check(c: &mut PgConnection, id: Uuid, contract_end: Date) -> Result<(), AppError> {
    let due = start_of_day(contract_end.next_day().unwrap_or(contract_end));
    timers::schedule(c, OVERRUN, &id.to_string(), due, serde_json::json!({})).await?;
    Ok(())
}

/// Construction has ended (completed or terminated): no more report or overrun checks.
pub async fn cancel_construction_timers(c: &mut PgConnection, id: Uuid) -> Result<(), AppError> {
    timers::cancel_under(c, PROGRESS_REPORT, &id.to_string()).await?;
    timers::cancel(c, OVERRUN, &id.to_string()).await?;
    Ok(())
}

/// R-P8: records the overrun against the unit (once) and returns the event that tells intake.
/// `None` when it is recorded already or there is no overrun on `today`.
pub fn record_overrun(case: &mut ProcurementCase, today: Date) -> Option<Payload> {
    let end = case.contract.as_ref()?.terms.construction_end;
    if case.overrun.is_some() || today <= end {
        return None;
    }
    let days = progress::overrun_days(end, today);
    case.overrun = Some(OverrunRecord { contract_end: end, recorded_on: today, explanation: None, explained_on: None });
    Some(Payload::ConstructionOverrunRecorded(ev::ConstructionOverrunRecorded {
        project_id: case.project_id.to_string(),
        unit_id: case.lead_unit_id.clone(),
        contract_end: Some(convert::civil(end)),
        overrun_days: days,
        reason: format!(
            "超期 / construction of {:?} ran past the contract period ending {end} ({days} day(s) on {today}) (R-P8)",
            case.project_name
        ),
    }))
}

pub struct ProcurementTimers {
    pub clock: SharedClock,
    pub policy: Arc<PolicyBook>,
}

fn key_id(key: &str) -> Result<Uuid, AppError> {
    let id = key.split('/').next().unwrap_or(key);
    Uuid::parse_str(id).map_err(|e| AppError::Internal(anyhow::anyhow!("timer key {key}: {e}")))
}

impl ProcurementTimers {
    /// R-P1: the deadline passed with procurement incomplete; review cancels the approval.
    async fn deadline(&self, c: &mut PgConnection, t: &DueTimer) -> Result<(), AppError> {
        let id = key_id(&t.key)?;
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

    /// R-P7: the month's due day has ended; flag a missing report, then check the next month.
    async fn report_check(&self, c: &mut PgConnection, t: &DueTimer) -> Result<(), AppError> {
        let id = key_id(&t.key)?;
        let year = t.payload.get("year").and_then(serde_json::Value::as_i64).and_then(|y| i32::try_from(y).ok());
        let month = t.payload.get("month").and_then(serde_json::Value::as_u64).and_then(|m| u8::try_from(m).ok());
        let Some(month) = year.zip(month).and_then(|(y, m)| YearMonth::new(y, m)) else {
            return Err(AppError::Internal(anyhow::anyhow!("report timer {} without a valid month: {}", t.key, t.payload)));
        };
        let mut case = storage::get_case(c, id, true).await?;
        if case.state != CaseState::Construction {
            return Ok(());
        }
        let policy = self
            .policy
            .version(&case.policy_version)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("policy version {:?} of case {id} is not loaded", case.policy_version)))?;
        let reported = case.progress_reports.iter().any(|r| r.month == month);
        if !reported && !case.missing_reports.contains(&month) {
            let now = self.clock.now();
            let due = progress::report_due(month.as_tuple(), &policy);
            case.missing_reports.push(month);
            case.version += 1;
            storage::update_case(c, &case).await?;
            let entry = AuditEntry::system("procurement", "FlagMissingReport", format!("cases/{id}/reports/{month}"))
                .project(id.to_string())
                .reason(format!("月度进展未报 / the progress report for {month} was due on {due} and is missing"))
                .rules(&["R-P7"])
                .policy(&case.policy_version)
                .request(t.timer_id.to_string());
            audit::append(c, now, &entry).await?;
            let summary = format!("月度进展未报 / the progress report for {month}, due on {due}, is missing (R-P7)");
            let payload = Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: String::new(), summary });
            outbox::enqueue(c, &messaging::envelope(types::REPORT_MISSING, &case, now, payload)).await?;
        }
        schedule_report_check(c, id, month.next(), &policy).await
    }

    /// R-P8: the contract period has ended with construction still under way.
    async fn overrun(&self, c: &mut PgConnection, t: &DueTimer) -> Result<(), AppError> {
        let id = key_id(&t.key)?;
        let mut case = storage::get_case(c, id, true).await?;
        if case.state != CaseState::Construction {
            return Ok(());
        }
        let now = self.clock.now();
        let Some(payload) = record_overrun(&mut case, civil_date(now)) else { return Ok(()) };
        case.version += 1;
        storage::update_case(c, &case).await?;
        let entry = AuditEntry::system("procurement", "RecordOverrun", format!("cases/{id}"))
            .project(id.to_string())
            .reason("超期 / construction runs past the contract period; recorded against the unit, which owes DRB an explanation")
            .rules(&["R-P8"])
            .policy(&case.policy_version)
            .request(t.timer_id.to_string());
        audit::append(c, now, &entry).await?;
        outbox::enqueue(c, &messaging::envelope(types::OVERRUN_RECORDED, &case, now, payload)).await?;
        Ok(())
    }
}

impl TimerHandler for ProcurementTimers {
    fn fire<'a>(&'a self, tx: &'a mut PgConnection, timer: &'a DueTimer) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move {
            match timer.kind.as_str() {
                PROCUREMENT_DEADLINE => self.deadline(tx, timer).await,
                PROGRESS_REPORT => self.report_check(tx, timer).await,
                OVERRUN => self.overrun(tx, timer).await,
                other => Err(AppError::Internal(anyhow::anyhow!("procurement has no timer of kind {other}"))),
            }
        })
    }
}
