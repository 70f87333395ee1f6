//! The procurement case (采购案卷): one per approved project, and what the pipeline needs to know
//! about it ([`Aggregate`]). Money is [`Fen`].

use egov_platform::{named_enum, transition::Aggregate, values::Fen};
use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};
use uuid::Uuid;

use crate::domain::{contract::ContractTerms, filing::FilingTimeliness};

named_enum!(
    pub enum CaseState {
        Procuring = "PROCURING",
        Procured = "PROCURED",
        DeadlineMissed = "DEADLINE_MISSED",
        Cancelled = "CANCELLED",
        /// The contract is filed (R-P2, R-P5): construction under way.
        Construction = "CONSTRUCTION",
        /// The unit declared construction complete (建设完成): acceptance opens.
        ConstructionCompleted = "CONSTRUCTION_COMPLETED",
        /// Revoked or terminated under R-P10: the project ends.
        Terminated = "TERMINATED",
    }
);

named_enum!(
    /// R-P10 grounds for revocation or termination (撤销/终止 的情形).
    pub enum TerminationGround {
        ForceMajeure = "FORCE_MAJEURE",
        MajorContentChange = "MAJOR_CONTENT_CHANGE",
        FailedImplementation = "FAILED_IMPLEMENTATION",
        SeriousDelayOrLoss = "SERIOUS_DELAY_OR_LOSS",
        FunctionTransferOrPolicyChange = "FUNCTION_TRANSFER_OR_POLICY_CHANGE",
        Other = "OTHER",
    }
);

/// A calendar month (e.g. 2026-06), the period of one R-P7 progress report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct YearMonth {
    pub year: i32,
    /// 1..=12.
    pub month: u8,
}

impl YearMonth {
    pub fn of(d: Date) -> YearMonth {
        YearMonth { year: d.year(), month: d.month() as u8 }
    }

    /// `None` unless `month` is 1..=12.
    pub fn new(year: i32, month: u8) -> Option<YearMonth> {
        Month::try_from(month).ok().map(|_| YearMonth { year, month })
    }

    pub fn as_tuple(self) -> (i32, Month) {
        (self.year, Month::try_from(self.month).unwrap_or(Month::January))
    }

    pub fn next(self) -> YearMonth {
        if self.month >= 12 { YearMonth { year: self.year + 1, month: 1 } } else { YearMonth { year: self.year, month: self.month + 1 } }
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// R-P9 flags recorded with the contract (等保 level, 重要信息系统), tracked in operation (R-E7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityFlags {
    /// 1..=5 as graded; 0 only in records filed before R-P9 was recorded.
    pub classified_protection_level: u8,
    pub important_system: bool,
}

impl SecurityFlags {
    /// Level 3 and above is assessed every year (等保测评).
    pub fn yearly_assessment_required(&self) -> bool {
        self.classified_protection_level >= 3
    }

    /// Important information systems undergo commercial cryptography assessment (密评).
    pub fn cryptography_assessment_required(&self) -> bool {
        self.important_system
    }
}

/// One monthly progress report (月度进展, R-P7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressReport {
    pub month: YearMonth,
    pub reported_on: Date,
    pub due_on: Date,
    pub late: bool,
    pub percent_complete: u8,
    pub summary: String,
    pub issues: String,
    pub reported_by: String,
}

/// R-P8: construction past the contract period, recorded against the unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrunRecord {
    pub contract_end: Date,
    pub recorded_on: Date,
    pub explanation: Option<String>,
    pub explained_on: Option<Date>,
}

/// The unit's declaration that construction is complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub completed_on: Date,
    pub declared_on: Date,
    pub summary: String,
    pub overrun_days: u32,
}

/// An R-P10 filing; the project ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Termination {
    /// REVOKED (撤销: no contract filed) or TERMINATED (终止).
    pub kind: String,
    pub ground: TerminationGround,
    pub reason: String,
    pub progress: String,
    pub payments: String,
    pub paid_fen: Fen,
    pub party_committee_resolution: String,
    pub leader_approval: String,
    pub filed_on: Date,
    pub filed_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supervision {
    pub supplier_credit_code: String,
    pub fee_fen: Fen,
    pub separately_procured: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcurementRecord {
    pub channel: String,
    pub method: String,
    pub supplier_name: String,
    pub supplier_credit_code: String,
    pub amount_fen: Fen,
    pub implementing_body: String,
    pub responsible_person: String,
    pub supervision: Option<Supervision>,
    pub completed_on: Date,
    /// Whether it completed within the R-P1 deadline.
    pub in_time: bool,
    /// R-P5: the procurement documents, produced on `completed_on`, filed with this record.
    #[serde(default)]
    pub documents_filing: Option<(Date, FilingTimeliness)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcurementCase {
    pub project_id: Uuid,
    pub project_name: String,
    pub lead_unit_id: String,
    pub participating_unit_ids: Vec<String>,
    pub budget_fen: Fen,
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
    /// R-P7 monthly reports, in month order.
    #[serde(default)]
    pub progress_reports: Vec<ProgressReport>,
    /// R-P7: months flagged as missing when their due day ended (history; a late report follows).
    #[serde(default)]
    pub missing_reports: Vec<YearMonth>,
    /// The first month a report is due, set when the contract is filed.
    #[serde(default)]
    pub first_report_month: Option<YearMonth>,
    /// R-P8.
    #[serde(default)]
    pub overrun: Option<OverrunRecord>,
    #[serde(default)]
    pub completion: Option<Completion>,
    /// R-P10.
    #[serde(default)]
    pub termination: Option<Termination>,
    /// Review cancelled the approval (取消立项指标): why, under which rules.
    #[serde(default)]
    pub cancellation: Option<Cancellation>,
}

/// Review's cancellation of the approval (R-R6, or R-P1 after a missed deadline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancellation {
    pub reason: String,
    pub rule_ids: Vec<String>,
}

impl Aggregate for ProcurementCase {
    const NAME: &'static str = "the case";
    fn resource(&self) -> String {
        format!("cases/{}", self.project_id)
    }
    fn project_id(&self) -> String {
        self.project_id.to_string()
    }
    fn policy_version(&self) -> &str {
        &self.policy_version
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn set_version(&mut self, version: i64) {
        self.version = version;
    }
    fn summary(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("state".into(), self.state.as_str().into());
        m
    }
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
    /// R-P9.
    #[serde(default)]
    pub security: SecurityFlags,
}

impl ContractRecord {
    /// The sum of the payments filed so far. Payments never exceed the contract amount (R-P6,
    /// checked as each is filed), so the sum fits.
    pub fn paid_fen(&self) -> Fen {
        Fen::sum(self.payments.iter().map(|p| p.amount_fen)).unwrap_or(self.terms.amount_fen)
    }

    /// The payments filed so far for `stage_id`.
    pub fn paid_for(&self, stage_id: &str) -> Fen {
        Fen::sum(self.payments.iter().filter(|p| p.stage_id == stage_id).map(|p| p.amount_fen)).unwrap_or(self.terms.amount_fen)
    }
}

/// One payment stage with its amount (ratio of the contract amount, the last taking the rest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRecord {
    pub stage_id: String,
    pub condition: String,
    pub ratio_bp: u32,
    pub amount_fen: Fen,
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
    pub amount_fen: Fen,
    pub filed_on: Date,
    #[serde(default)]
    pub request_id: String,
}

/// DRB's random inspection draw (抽查, R-P7): the pool and seed make it reproducible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionDraw {
    pub draw_id: Uuid,
    pub seed: u64,
    pub count: u32,
    /// The projects under construction at the time, sorted.
    pub pool: Vec<String>,
    /// Drawn, in draw order.
    pub drawn: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub drawn_at: OffsetDateTime,
    pub drawn_by: String,
    pub note: String,
    pub policy_version: String,
}
