//! The acceptance case (验收) as a value: what construction handed over, the initial acceptance
//! (初验), the trial operation (试运行), the applications (验收申请), the acceptances (验收) and the
//! materials filed along the way.

use egov_calendar::FilingAssessment;
use egov_platform::{named_enum, transition::Aggregate, values::Fen};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

named_enum!(
    /// Where a case stands.
    pub enum CaseState {
        /// 初验: the unit organises the initial acceptance (R-A1).
        InitialAcceptance = "INITIAL_ACCEPTANCE",
        /// 试运行 (R-A2).
        TrialOperation = "TRIAL_OPERATION",
        /// 验收申请: DRB reviews the unit's application (R-A3).
        ApplicationReview = "APPLICATION_REVIEW",
        /// 验收: the organiser holds the acceptance (R-A4).
        Acceptance = "ACCEPTANCE",
        /// 验收通过: in use (R-A5).
        Accepted = "ACCEPTED",
        /// 整改: failed; the unit rectifies and re-applies by the deadline (R-A5).
        Rectification = "RECTIFICATION",
        /// 整改逾期: not rectified in time; never put into use (R-A5).
        RectificationLapsed = "RECTIFICATION_LAPSED",
        /// The project ended (R-P10) or lost its approval.
        Closed = "CLOSED",
    }
);

named_enum!(
    /// The procurement channel (R-P4), which decides the acceptance's organiser (R-A4).
    pub enum Channel {
        /// 政府采购: DRB leads the expert acceptance.
        GovernmentProcurement = "GOVERNMENT_PROCUREMENT",
        /// 小额公共资源交易: the unit organises it; DRB may join.
        SmallPublicResourceTrading = "SMALL_PUBLIC_RESOURCE_TRADING",
    }
);

named_enum!(
    /// A panel member's field (R-A1: the panel covers all three).
    pub enum Specialty {
        InformationTechnology = "INFORMATION_TECHNOLOGY",
        Cybersecurity = "CYBERSECURITY",
        BusinessDomain = "BUSINESS_DOMAIN",
    }
);

impl Specialty {
    pub fn chinese(self) -> &'static str {
        match self {
            Specialty::InformationTechnology => "信息技术",
            Specialty::Cybersecurity => "网络安全",
            Specialty::BusinessDomain => "业务领域",
        }
    }
}

named_enum!(
    /// What a material is.
    pub enum MaterialKind {
        InitialPanelOpinions = "INITIAL_PANEL_OPINIONS",
        InitialMinutes = "INITIAL_MINUTES",
        InitialTestReport = "INITIAL_TEST_REPORT",
        FunctionPerformanceTestReport = "FUNCTION_PERFORMANCE_TEST_REPORT",
        ClassifiedProtectionAssessment = "CLASSIFIED_PROTECTION_ASSESSMENT",
        XinchuangAssessment = "XINCHUANG_ASSESSMENT",
        TrialOperationReport = "TRIAL_OPERATION_REPORT",
        ConstructionSummary = "CONSTRUCTION_SUMMARY",
        AcceptanceExpertOpinions = "ACCEPTANCE_EXPERT_OPINIONS",
        AcceptanceMinutes = "ACCEPTANCE_MINUTES",
        RectificationReport = "RECTIFICATION_REPORT",
        Other = "OTHER",
    }
);

impl MaterialKind {
    pub fn chinese(self) -> &'static str {
        match self {
            MaterialKind::InitialPanelOpinions => "初验专家意见",
            MaterialKind::InitialMinutes => "初验会议纪要",
            MaterialKind::InitialTestReport => "初验测试报告",
            MaterialKind::FunctionPerformanceTestReport => "功能性能测试报告",
            MaterialKind::ClassifiedProtectionAssessment => "等保测评报告",
            MaterialKind::XinchuangAssessment => "信创测评报告",
            MaterialKind::TrialOperationReport => "试运行报告",
            MaterialKind::ConstructionSummary => "建设总结报告",
            MaterialKind::AcceptanceExpertOpinions => "验收专家意见",
            MaterialKind::AcceptanceMinutes => "验收会议纪要",
            MaterialKind::RectificationReport => "整改报告",
            MaterialKind::Other => "其他材料",
        }
    }
}

named_enum!(
    /// Where a trial-operation report came from (R-A2).
    pub enum ReportSource {
        /// Deposited by the provincial integrated digital resource system.
        ProvincialSystem = "PROVINCIAL_SYSTEM",
        /// Uploaded by DRB by hand.
        Manual = "MANUAL",
    }
);

named_enum!(
    /// Who organises the acceptance (R-A4).
    pub enum Organiser {
        Drb = "DRB",
        Unit = "UNIT",
    }
);

/// A filed material (R-X1: hashes and size; R-P5: its filing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub document_id: Uuid,
    pub kind: MaterialKind,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub sm3: String,
    pub object_path: String,
    pub produced_on: Date,
    pub filed_on: Date,
    pub filing: FilingAssessment,
    /// Trial-operation reports only.
    pub source: Option<ReportSource>,
    /// The provincial system's reference, for deposited reports.
    pub external_reference: String,
    pub uploaded_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
}

/// A member of a panel or an expert of the acceptance, with the opinion given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelMember {
    pub name: String,
    pub specialties: Vec<Specialty>,
    pub affiliation: String,
    pub affiliation_credit_code: String,
    pub opinion: String,
    pub passes: bool,
}

/// One initial acceptance (初验) as the unit recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitialAcceptance {
    pub held_on: Date,
    pub panel: Vec<PanelMember>,
    pub passed: bool,
    pub conclusion: String,
    pub recorded_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

/// The trial operation (试运行, R-A2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialOperation {
    /// The day initial acceptance passed.
    pub started_on: Date,
    /// The first day the acceptance may be applied for.
    pub completes_on: Date,
    pub report_document_id: Option<Uuid>,
    pub report_source: Option<ReportSource>,
}

/// One item of the R-A3 check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationCheck {
    pub item: String,
    pub satisfied: bool,
    pub detail: String,
}

/// An acceptance application (验收申请) and DRB's review of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptanceApplication {
    pub attempt: u32,
    pub applied_on: Date,
    pub built_modules: Vec<String>,
    pub statement: String,
    pub checks: Vec<ApplicationCheck>,
    pub reviewed: bool,
    pub approved: bool,
    pub review_reasons: String,
    pub reviewed_by: String,
}

/// One acceptance (验收) and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptanceRecord {
    pub held_on: Date,
    pub organiser: Organiser,
    pub drb_joined: bool,
    pub experts: Vec<PanelMember>,
    pub passed: bool,
    pub conclusion: String,
    /// Borne by the unit.
    pub costs: Fen,
    pub recorded_by: String,
}

/// What construction handed over: the approval, the procurement and the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    pub project_name: String,
    pub lead_unit_id: String,
    pub participating_unit_ids: Vec<String>,
    pub document_number: String,
    pub budget: Fen,
    pub funding_source: String,
    pub scope: String,
    pub channel: Channel,
    pub supplier_name: String,
    pub supplier_credit_code: String,
    pub supervision_credit_code: String,
    pub contract_amount: Fen,
    pub classified_protection_level: i32,
    pub important_system: bool,
    pub overrun_days: u32,
    pub completed_on: Date,
}

/// What the unit states the running system's parties are (R-E1: 谁运行谁负责、谁使用谁负责).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Parties {
    pub operator_unit_id: String,
    pub user_unit_ids: Vec<String>,
}

/// A project's acceptance case (same id as the project).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptanceCase {
    pub project_id: Uuid,
    pub handover: Handover,
    pub state: CaseState,
    pub initial_acceptances: Vec<InitialAcceptance>,
    pub trial: Option<TrialOperation>,
    pub applications: Vec<AcceptanceApplication>,
    pub acceptances: Vec<AcceptanceRecord>,
    pub materials: Vec<Material>,
    /// From review at the application (R-A3).
    pub category: String,
    pub function_modules: Vec<String>,
    pub parties: Parties,
    /// R-A5: the last day a failed project may re-apply.
    pub rectify_by: Option<Date>,
    pub accepted_on: Option<Date>,
    pub closed_reason: String,
    pub policy_version: String,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
}

impl AcceptanceCase {
    /// The materials of `kind`, oldest first.
    pub fn materials_of(&self, kind: MaterialKind) -> impl Iterator<Item = &Material> {
        self.materials.iter().filter(move |m| m.kind == kind)
    }

    /// The latest initial acceptance, if any.
    pub fn initial(&self) -> Option<&InitialAcceptance> {
        self.initial_acceptances.last()
    }

    /// The latest application, if any.
    pub fn application(&self) -> Option<&AcceptanceApplication> {
        self.applications.last()
    }
}

impl Aggregate for AcceptanceCase {
    const NAME: &'static str = "the acceptance case";
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

/// What review and procurement say about the project when the unit applies (R-A3), asked over
/// gRPC before the decision.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProjectBasis {
    /// The approval document (立项文件).
    pub approved_name: String,
    pub approved_scope: String,
    pub approval_cancelled: bool,
    pub category: String,
    pub function_modules: Vec<String>,
    /// The expert opinion (R-R2), the basis of acceptance; `None` for a fast-track project
    /// approved without expert review (R-R5).
    pub expert_opinion: Option<ExpertOpinion>,
    /// Procurement's case state name (e.g. CONSTRUCTION_COMPLETED).
    pub procurement_state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpertOpinion {
    pub passed: bool,
    pub opinion: String,
}
