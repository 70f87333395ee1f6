//! The intake aggregates as values: units, rounds, applications (申报) and their dossiers.

use egov_platform::{named_enum, transition::Aggregate};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

named_enum!(
    /// 项目类别 (R-I2).
    pub enum Category {
        Infrastructure = "INFRASTRUCTURE",
        SecurityFacility = "SECURITY_FACILITY",
        DataResource = "DATA_RESOURCE",
        ApplicationSupport = "APPLICATION_SUPPORT",
        BusinessApplication = "BUSINESS_APPLICATION",
    }
);

named_enum!(
    /// 建设类型: 新建 or 升级 (R-I2).
    pub enum BuildType {
        New = "NEW",
        Upgrade = "UPGRADE",
    }
);

named_enum!(
    /// What a project buys or builds; three kinds are outside the Measures (R-I1).
    pub enum ContentKind {
        SoftwareDevelopment = "SOFTWARE_DEVELOPMENT",
        DataServices = "DATA_SERVICES",
        CloudAndNetwork = "CLOUD_AND_NETWORK",
        SecurityServices = "SECURITY_SERVICES",
        SpecialisedHardware = "SPECIALISED_HARDWARE",
        CentrallyProcuredEquipment = "CENTRALLY_PROCURED_EQUIPMENT",
        PackagedSoftware = "PACKAGED_SOFTWARE",
        BuildingIntelligence = "BUILDING_INTELLIGENCE",
    }
);

impl ContentKind {
    /// Why a kind is outside the Measures (R-I1), or `None` when it is inside.
    pub fn exclusion(self) -> Option<&'static str> {
        match self {
            ContentKind::CentrallyProcuredEquipment => {
                Some("集中采购的通用设备 / centrally procured general equipment (PCs, monitors, printers, all-in-ones)")
            }
            ContentKind::PackagedSoftware => Some("成套软件 / packaged software (operating systems, office suites)"),
            ContentKind::BuildingIntelligence => {
                Some("楼宇智能化项目 / building-intelligence systems (meeting, video, big-screen, surveillance)")
            }
            _ => None,
        }
    }
}

named_enum!(
    /// 资金来源.
    pub enum FundingSource {
        DistrictFiscal = "DISTRICT_FISCAL",
        SuperiorTransfer = "SUPERIOR_TRANSFER",
        SocialCapital = "SOCIAL_CAPITAL",
        Mixed = "MIXED",
    }
);

named_enum!(
    /// Grounds for the fast track (R-R5), declared in the dossier.
    pub enum FastTrackGround {
        PrincipalLeaderAgreed = "PRINCIPAL_LEADER_AGREED",
        NonDistrictFunding = "NON_DISTRICT_FUNDING",
    }
);

named_enum!(
    /// 终端: 浙里办 (public) and 浙政钉 (staff).
    pub enum Terminal {
        Zheliban = "ZHELIBAN",
        Zhezhengding = "ZHEZHENGDING",
    }
);

named_enum!(
    /// Cost categories of the budget estimate; SECURITY counts towards R-I12.
    pub enum CostCategory {
        SoftwareDevelopment = "SOFTWARE_DEVELOPMENT",
        Hardware = "HARDWARE",
        CloudResources = "CLOUD_RESOURCES",
        Data = "DATA",
        Security = "SECURITY",
        Other = "OTHER",
    }
);

named_enum!(
    /// Kinds of dossier documents (R-X1).
    pub enum DocumentKind {
        ApplicationForm = "APPLICATION_FORM",
        FeasibilityReport = "FEASIBILITY_REPORT",
        StreetResearchReport = "STREET_RESEARCH_REPORT",
        MeetingMinutes = "MEETING_MINUTES",
        UrgencyJustification = "URGENCY_JUSTIFICATION",
        Revision = "REVISION",
        Other = "OTHER",
    }
);

named_enum!(
    /// Where an application stands in intake.
    pub enum ApplicationState {
        Draft = "DRAFT",
        AwaitingSupplementaryDecision = "AWAITING_SUPPLEMENTARY_DECISION",
        Submitted = "SUBMITTED",
        ComplianceFailed = "COMPLIANCE_FAILED",
        ReReviewRequested = "RE_REVIEW_REQUESTED",
        CompliancePassed = "COMPLIANCE_PASSED",
        Ended = "ENDED",
    }
);

named_enum!(
    /// Entries of a unit's record (R-I10, R-P8).
    pub enum PenaltyKind {
        EarlyStop = "EARLY_STOP",
        BuiltOutsideMeasures = "BUILT_OUTSIDE_MEASURES",
        ConstructionOverrun = "CONSTRUCTION_OVERRUN",
    }
);

named_enum!(
    pub enum RoundState {
        Open = "OPEN",
        Closed = "CLOSED",
    }
);

pub use egov_platform::values::Fen;

/// 项目建设单位.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub unit_id: String,
    pub name: String,
    pub district_budget_unit: bool,
    pub state_owned_enterprise: bool,
    pub runs_platform: bool,
    pub has_street_app: bool,
    pub version: i64,
    pub created_at: OffsetDateTime,
}

/// 集中申报批次: opened in year Y for projects of year Y+1 (R-I3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    pub round_id: Uuid,
    pub target_year: i32,
    pub deadline: Date,
    pub state: RoundState,
    pub policy_version: String,
    pub version: i64,
    pub opened_at: OffsetDateTime,
    pub closed_at: Option<OffsetDateTime>,
}

impl Round {
    /// The year the round is held in (applications are made that year).
    pub fn application_year(&self) -> i32 {
        self.target_year - 1
    }
}

/// An entry of a unit's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Penalty {
    pub penalty_id: Uuid,
    pub unit_id: String,
    pub kind: PenaltyKind,
    pub reason: String,
    pub project_id: String,
    pub went_live_on: Option<Date>,
    pub stopped_on: Option<Date>,
    /// The year in which the unit may not apply; `None`: suspends nothing.
    pub ineligible_year: Option<i32>,
    pub rule_ids: Vec<String>,
    pub policy_version: String,
    pub recorded_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Necessity {
    pub core_business: String,
    pub one_platform_path: String,
    pub relations_with_other_units: String,
    pub existing_systems_and_plans: String,
    pub terminals: Vec<Terminal>,
    pub uses_public_data_platform: bool,
    pub function_module_of_existing_platform: bool,
    pub retired_systems: Vec<String>,
    pub central_functions_extended: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionModule {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLine {
    /// The function module the line belongs to; empty for project-wide costs.
    pub module: String,
    pub category: CostCategory,
    pub amount: Fen,
    pub rationale: String,
}

/// The editable dossier of an application. Drafts may be incomplete; submission checks them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Draft {
    pub participating_unit_ids: Vec<String>,
    pub name: String,
    pub category: Option<Category>,
    pub build_type: Option<BuildType>,
    pub xinchuang_retrofit: bool,
    pub classified: bool,
    pub content_kinds: Vec<ContentKind>,
    pub upgrade_of_app_id: String,
    pub funding_source: Option<FundingSource>,
    pub fast_track_grounds: Vec<FastTrackGround>,
    pub reaches_streets: bool,
    pub adds_login_entry: bool,
    pub planned_construction_months: u32,
    pub necessity: Necessity,
    pub modules: Vec<FunctionModule>,
    pub budget: Vec<BudgetLine>,
}

impl Draft {
    /// A business application, or a 信创 retrofit that follows its flow (R-I2, Ch.10).
    pub fn follows_business_application_flow(&self) -> bool {
        self.category == Some(Category::BusinessApplication) || self.xinchuang_retrofit
    }

    /// Total and security budget (R-I12); `None` on overflow.
    pub fn totals(&self) -> Option<BudgetTotals> {
        let mut total = Fen::default();
        let mut security = Fen::default();
        for l in &self.budget {
            total = total.checked_add(l.amount)?;
            if l.category == CostCategory::Security {
                security = security.checked_add(l.amount)?;
            }
        }
        Some(BudgetTotals { total, security })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BudgetTotals {
    pub total: Fen,
    pub security: Fen,
}

impl BudgetTotals {
    /// Security share in basis points, rounded down (for display; rules compare exactly).
    pub fn security_share_bp(&self) -> i32 {
        self.security.basis_points_of(self.total).and_then(|bp| i32::try_from(bp).ok()).unwrap_or(0)
    }

    /// Whether the security share is at least `ratio_bp` basis points, compared exactly.
    pub fn security_share_at_least(&self, ratio_bp: u32) -> bool {
        self.security.at_least_bp_of(ratio_bp, self.total)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewFlag {
    pub rule_id: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogueMatch {
    pub entry_id: String,
    pub name: String,
    pub owner_unit: String,
    pub score: f64,
}

named_enum!(
    /// R-I9 verdict of a screened module.
    pub enum ScreeningVerdict {
        Duplicate = "DUPLICATE",
        PartialDuplicate = "PARTIAL_DUPLICATE",
        Distinct = "DISTINCT",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenedModule {
    pub module: String,
    pub matches: Vec<CatalogueMatch>,
    pub verdict: ScreeningVerdict,
}

/// The latest performance evaluation of a running application (from `evaluation`, R-I6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestEvaluation {
    pub app_id: String,
    pub passed: bool,
    pub grade: String,
    pub evaluated_on: Option<Date>,
}

named_enum!(
    pub enum SupplementaryStatus {
        NotRequested = "NOT_REQUESTED",
        Requested = "REQUESTED",
        Accepted = "ACCEPTED",
        Refused = "REFUSED",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderConsent {
    pub by: String,
    pub comment: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistResult {
    pub code: String,
    pub passed: bool,
    pub note: String,
}

/// One compliance review (合规性审查) or the one re-review (复审).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceDecision {
    /// 1: the first review; 2: the re-review.
    pub round: u8,
    pub passed: bool,
    pub results: Vec<ChecklistResult>,
    pub comment: String,
    pub decided_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    pub policy_version: String,
}

/// An application (项目申报) and, under the same id, the project it proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub application_id: Uuid,
    pub lead_unit_id: String,
    pub draft: Draft,
    pub state: ApplicationState,
    pub round_id: Option<Uuid>,
    pub supplementary: SupplementaryStatus,
    pub urgency_justification: String,
    pub leader_consent: Option<LeaderConsent>,
    pub flags: Vec<ReviewFlag>,
    pub screening: Vec<ScreenedModule>,
    pub decisions: Vec<ComplianceDecision>,
    pub totals: BudgetTotals,
    pub re_review_deadline: Option<Date>,
    pub end_reason: String,
    /// Policy version in force when the application began; every rule applies this one.
    pub policy_version: String,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
}

impl Application {
    pub fn new(application_id: Uuid, lead_unit_id: String, draft: Draft, policy_version: String, now: OffsetDateTime) -> Application {
        Application {
            application_id,
            lead_unit_id,
            draft,
            state: ApplicationState::Draft,
            round_id: None,
            supplementary: SupplementaryStatus::NotRequested,
            urgency_justification: String::new(),
            leader_consent: None,
            flags: vec![],
            screening: vec![],
            decisions: vec![],
            totals: BudgetTotals::default(),
            re_review_deadline: None,
            end_reason: String::new(),
            policy_version,
            version: 1,
            created_at: now,
            submitted_at: None,
        }
    }
}

/// A stored document's metadata, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentMeta {
    pub document_id: Uuid,
    pub kind: DocumentKind,
    pub street: String,
}

impl Aggregate for Application {
    const NAME: &'static str = "the application";
    fn resource(&self) -> String {
        format!("applications/{}", self.application_id)
    }
    fn project_id(&self) -> String {
        self.application_id.to_string()
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

impl Aggregate for Round {
    const NAME: &'static str = "the round";
    fn resource(&self) -> String {
        format!("rounds/{}", self.round_id)
    }
    fn project_id(&self) -> String {
        String::new()
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

impl Aggregate for Unit {
    const NAME: &'static str = "the unit";
    fn resource(&self) -> String {
        format!("units/{}", self.unit_id)
    }
    fn project_id(&self) -> String {
        String::new()
    }
    /// A unit is pinned to no policy version; its changes record the one in force.
    fn policy_version(&self) -> &str {
        ""
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn set_version(&mut self, version: i64) {
        self.version = version;
    }
}

/// An entry of a unit's record is written once and never changes.
impl Aggregate for Penalty {
    const NAME: &'static str = "the record entry";
    fn resource(&self) -> String {
        format!("units/{}", self.unit_id)
    }
    fn project_id(&self) -> String {
        self.project_id.clone()
    }
    fn policy_version(&self) -> &str {
        &self.policy_version
    }
    fn version(&self) -> i64 {
        1
    }
    fn set_version(&mut self, _version: i64) {}
}
