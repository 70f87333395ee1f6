//! The review case (评审案卷) as a value: one per project that passed compliance.

use egov_platform::{named_enum, transition::Aggregate, values::Fen};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::workflow::Task;

named_enum!(
    /// Where a case stands.
    pub enum Stage {
        PreliminaryReview = "PRELIMINARY_REVIEW",
        ExpertReview = "EXPERT_REVIEW",
        ReCheck = "RE_CHECK",
        JointMeeting = "JOINT_MEETING",
        Approval = "APPROVAL",
        Approved = "APPROVED",
        Returned = "RETURNED",
        Ended = "ENDED",
        Cancelled = "CANCELLED",
        /// The project was revoked or terminated under R-P10 (项目撤销/终止).
        Terminated = "TERMINATED",
    }
);

impl Stage {
    pub fn is_terminal(self) -> bool {
        matches!(self, Stage::Ended | Stage::Cancelled | Stage::Terminated)
    }
}

/// What intake's compliance-passed event says of the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Dossier {
    pub project_name: String,
    pub lead_unit_id: String,
    pub participating_unit_ids: Vec<String>,
    pub category: String,
    pub build_type: String,
    pub total_budget_fen: i64,
    pub security_budget_fen: i64,
    pub funding_source: String,
    pub fast_track_grounds: Vec<String>,
    pub reaches_streets: bool,
    pub streets_reached: Vec<String>,
    pub planned_construction_months: i32,
    pub function_modules: Vec<String>,
    pub review_flags: Vec<String>,
    pub target_year: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRecordEntry {
    pub kind: String,
    pub reason: String,
    pub ineligible_year: i32,
}

/// One participant's preliminary opinion (R-R1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opinion {
    pub role: String,
    pub subject: String,
    pub scores: Vec<(String, u32)>,
    /// Weighted score in hundredths (0..=10000).
    pub weighted_centi: u32,
    pub passed: bool,
    pub opinion: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub passed: bool,
    pub comment: String,
    pub decided_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    pub policy_version: String,
    pub aggregate_centi: u32,
}

/// 立项文件 (R-R4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub document_number: String,
    pub issued_on: Date,
    pub issuers: Vec<String>,
    pub project_name: String,
    pub budget_fen: Fen,
    pub funding_source: String,
    pub scope: String,
    pub planned_construction_months: i32,
    pub fast_track: bool,
    pub valid_until: Option<Date>,
    pub funds_secured: bool,
    pub cancelled: bool,
    pub cancel_reason: String,
    /// The rule the approval was cancelled under (R-R6 or R-P1); empty while in force.
    #[serde(default)]
    pub cancelled_under: String,
    pub policy_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCase {
    /// The project's id (intake's application id).
    pub case_id: Uuid,
    pub dossier: Dossier,
    pub stage: Stage,
    pub returned_from: Option<Stage>,
    pub fast_track: bool,
    pub unit_record: Vec<UnitRecordEntry>,
    /// Roles whose opinion the preliminary decision needs (R-R1).
    pub required_participants: Vec<String>,
    pub opinions: Vec<Opinion>,
    pub preliminary: Option<Decision>,
    /// R-R2: the expert review (materials, meeting, panel's conclusion).
    #[serde(default)]
    pub expert: ExpertStage,
    /// R-R3: the re-check participants' opinions and DRB's conclusion.
    #[serde(default)]
    pub recheck_opinions: Vec<Opinion>,
    #[serde(default)]
    pub recheck: Option<RecheckConclusion>,
    /// R-R4: the joint meeting's outcome for this project.
    #[serde(default)]
    pub joint_meeting: Option<JointMeetingOutcome>,
    /// R-R7: changes before procurement completes.
    #[serde(default)]
    pub changes: Vec<ChangeRecord>,
    /// Set from procurement's events; changes (R-R7) stop once procurement completes.
    #[serde(default)]
    pub procurement_completed: bool,
    pub approval: Option<Approval>,
    pub end_reason: String,
    /// The application's policy version, pinned for the whole case.
    pub policy_version: String,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
    /// The workflow tasks the case owns (rows of their own, not part of the JSON body): loaded
    /// with the case, and written with it by its `Stored::update` (new ones inserted, changed
    /// ones updated under their own version).
    #[serde(skip)]
    pub tasks: Vec<Task>,
    /// The tasks as loaded, so that storage writes only what a change touched.
    #[serde(skip)]
    pub(crate) tasks_as_loaded: Vec<Task>,
}

impl Aggregate for ReviewCase {
    const NAME: &'static str = "the case";
    fn resource(&self) -> String {
        format!("cases/{}", self.case_id)
    }
    fn project_id(&self) -> String {
        self.case_id.to_string()
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
        m.insert("stage".into(), self.stage.as_str().into());
        m
    }
}

impl ReviewCase {
    /// The tasks of a group (`preliminary`, `recheck`).
    pub fn tasks_of<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks.iter().filter(move |t| t.group_id == group)
    }

    /// Lead and participating units: who, as UNIT, may read the case.
    pub fn units(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.dossier.lead_unit_id).chain(self.dossier.participating_unit_ids.iter())
    }
}

/// A document uploaded to the case (R-X1), e.g. the R-R2 materials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDocument {
    pub document_id: Uuid,
    /// `MaterialKind` names of `panel` (REVISED_FEASIBILITY_REPORT, REVISION_LIST, PRESENTATION),
    /// or FUNDS_EVIDENCE (R-R6), CHANGE_ARGUMENT (R-R7), OTHER.
    pub kind: String,
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub sm3: String,
    pub uploaded_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
}

/// The expert review of one case (R-R2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ExpertStage {
    pub documents: Vec<CaseDocument>,
    pub meeting_id: Option<Uuid>,
    pub conclusion: Option<ExpertConclusion>,
    /// After a pass, the revised report and revision list are uploaded again before re-check.
    pub revised_after_conclusion: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpertConclusion {
    pub passed: bool,
    pub recommended_budget_fen: i64,
    pub opinion: String,
    /// Mean score per dimension, in hundredths.
    pub mean_scores: Vec<(String, u32)>,
    pub experts: Vec<String>,
    pub concluded_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub concluded_at: OffsetDateTime,
}

/// DRB's re-check conclusion with the funding arrangement (R-R3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecheckConclusion {
    pub passed: bool,
    pub comment: String,
    /// 1 = first priority.
    pub priority_rank: u32,
    pub fiscal_year: i32,
    pub amount_fen: i64,
    pub decided_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointMeetingOutcome {
    pub passed: bool,
    /// The meeting's reference (e.g. 第3次规划土地数字管理联席会议).
    pub meeting_ref: String,
    pub held_on: Date,
    pub comment: String,
    pub recorded_by: String,
}

/// A change of an approved project (R-R7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRecord {
    pub change_id: Uuid,
    pub old_budget_fen: Fen,
    pub new_budget_fen: Fen,
    /// INTERNAL_CONTROL_FILING or CHANGE_REQUEST.
    pub route: String,
    /// `ChangeState` name.
    pub state: String,
    pub reason: String,
    pub requested_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
}
