//! The procurement case (采购案卷): one per approved project.

use egov_platform::named_enum;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::domain::contract::ContractTerms;

named_enum!(
    pub enum CaseState {
        Procuring = "PROCURING",
        Procured = "PROCURED",
        DeadlineMissed = "DEADLINE_MISSED",
        Cancelled = "CANCELLED",
        /// The contract is filed (R-P2, R-P5): construction under way.
        Construction = "CONSTRUCTION",
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
    /// The filed contract (R-P2, R-P5), its payment plan and payments (R-P6).
    #[serde(default)]
    pub contract: Option<ContractRecord>,
}

/// A contract filed under R-P2, assessed under R-P5 (a late filing is accepted and marked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractRecord {
    pub terms: ContractTerms,
    /// The contract document's date: R-P5's working days count from it.
    pub signed_on: Date,
    pub filed_on: Date,
    /// The last on-time filing day.
    pub deadline: Date,
    pub late: bool,
    pub working_days_taken: u32,
    /// Years counted on weekends only: the assessment is provisional.
    #[serde(default)]
    pub provisional_years: Vec<i32>,
    /// R-P6 payment stages, in the contract's order.
    #[serde(default)]
    pub stages: Vec<StageRecord>,
    /// R-P6 fund payment filings, in filing order.
    #[serde(default)]
    pub payments: Vec<PaymentRecord>,
}

impl ContractRecord {
    /// The sum of the payments filed so far.
    pub fn paid_fen(&self) -> i64 {
        self.payments.iter().map(|p| p.amount_fen).sum()
    }

    /// The payments filed so far for `stage_id`.
    pub fn paid_for(&self, stage_id: &str) -> i64 {
        self.payments.iter().filter(|p| p.stage_id == stage_id).map(|p| p.amount_fen).sum()
    }
}

/// One payment stage with its amount (ratio of the contract amount, the last taking the rest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRecord {
    pub stage_id: String,
    pub condition: String,
    pub ratio_bp: u32,
    pub amount_fen: i64,
    #[serde(default)]
    pub condition_met: Option<ConditionMet>,
}

/// Who recorded a stage's payment condition as met, when, and on what evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionMet {
    pub evidence: String,
    pub on: Date,
    pub by: String,
}

/// A fund payment filing (资金支付报备).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRecord {
    pub stage_id: String,
    pub amount_fen: i64,
    pub filed_on: Date,
    #[serde(default)]
    pub request_id: String,
}
