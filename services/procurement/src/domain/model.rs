//! The procurement case (采购案卷): one per approved project.

use egov_platform::named_enum;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

named_enum!(
    pub enum CaseState {
        Procuring = "PROCURING",
        Procured = "PROCURED",
        DeadlineMissed = "DEADLINE_MISSED",
        Cancelled = "CANCELLED",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supervision {
    pub supplier_credit_code: String,
    pub fee_fen: i64,
    pub separately_procured: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcurementRecord {
    pub channel: String,
    pub method: String,
    pub supplier_name: String,
    pub supplier_credit_code: String,
    pub amount_fen: i64,
    pub implementing_body: String,
    pub responsible_person: String,
    pub supervision: Option<Supervision>,
    pub completed_on: Date,
    /// Whether it completed within the R-P1 deadline.
    pub in_time: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcurementCase {
    pub project_id: Uuid,
    pub project_name: String,
    pub lead_unit_id: String,
    pub participating_unit_ids: Vec<String>,
    pub budget_fen: i64,
    pub funding_source: String,
    pub planned_construction_months: i32,
    pub scope: String,
    pub approved_on: Date,
    pub document_number: String,
    pub procurement_deadline: Option<Date>,
    pub state: CaseState,
    pub procurement: Option<ProcurementRecord>,
    pub policy_version: String,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
}
