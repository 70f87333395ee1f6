//! Procurement's timer kinds and keys. The domain decides when they are set and cancelled (as
//! [`TimerOp`](egov_platform::transition::TimerOp)s of a change); `jobs` fires them into the use
//! cases.

use serde_json::{Value, json};
use uuid::Uuid;

use super::model::YearMonth;

/// R-P1: the procurement deadline has lapsed (key: the project id).
pub const PROCUREMENT_DEADLINE: &str = "procurement.deadline";
/// R-P7: one per project and month, key `<project>/<YYYY-MM>`, due when the month's due day has
/// ended.
pub const PROGRESS_REPORT: &str = "procurement.progress_report";
/// R-P8: one per project, due when the contract's last construction day has ended.
pub const OVERRUN: &str = "procurement.overrun";

/// The key of `month`'s report check of project `id`.
pub fn report_key(id: Uuid, month: YearMonth) -> String {
    format!("{id}/{month}")
}

/// The payload of a report check: the month it checks.
pub fn report_payload(month: YearMonth) -> Value {
    json!({ "year": month.year, "month": month.month })
}

/// The month a report check's payload names, if it names a valid one.
pub fn report_month(payload: &Value) -> Option<YearMonth> {
    let year = payload.get("year").and_then(Value::as_i64).and_then(|y| i32::try_from(y).ok());
    let month = payload.get("month").and_then(Value::as_u64).and_then(|m| u8::try_from(m).ok());
    year.zip(month).and_then(|(y, m)| YearMonth::new(y, m))
}

/// The project id a timer key starts with.
pub fn key_project(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_keys_and_payloads_round_trip() {
        let id = Uuid::nil();
        let m = YearMonth::new(2026, 7).unwrap();
        assert_eq!(report_key(id, m), format!("{id}/2026-07"));
        assert_eq!(key_project(&report_key(id, m)), id.to_string());
        assert_eq!(report_month(&report_payload(m)), Some(m));
        assert_eq!(report_month(&json!({ "year": 2026, "month": 13 })), None);
        assert_eq!(report_month(&json!({})), None);
    }
}
