//! The review case (评审案卷) as a value: one per project that passed compliance.

use egov_platform::named_enum;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

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
    }
);

impl Stage {
    pub fn is_terminal(self) -> bool {
        matches!(self, Stage::Ended | Stage::Cancelled)
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
    pub budget_fen: i64,
    pub funding_source: String,
    pub scope: String,
    pub planned_construction_months: i32,
    pub fast_track: bool,
    pub valid_until: Option<Date>,
    pub funds_secured: bool,
    pub cancelled: bool,
    pub cancel_reason: String,
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
    pub approval: Option<Approval>,
    pub end_reason: String,
    /// The application's policy version, pinned for the whole case.
    pub policy_version: String,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
}

impl ReviewCase {
    /// Lead and participating units: who, as UNIT, may read the case.
    pub fn units(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.dossier.lead_unit_id).chain(self.dossier.participating_unit_ids.iter())
    }
}
