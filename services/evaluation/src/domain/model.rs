//! Evaluation's aggregate as values: a catalogue entry (编目) and, for a running application, its
//! operation record: evaluation schedule and results, rectification, elimination, yearly
//! assessments, third-party audits, sharing violations and an early stop.

use egov_platform::{named_enum, transition::Aggregate};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

named_enum!(
    /// R-I9 verdict of a screened module.
    pub enum ScreeningVerdict {
        Duplicate = "DUPLICATE",
        PartialDuplicate = "PARTIAL_DUPLICATE",
        Distinct = "DISTINCT",
    }
);

named_enum!(
    /// R-E1: what a catalogue entry is (应用、数据、云资源、组件编目).
    pub enum EntryKind {
        Application = "APPLICATION",
        Data = "DATA",
        Cloud = "CLOUD",
        Component = "COMPONENT",
    }
);

named_enum!(
    pub enum EntryState {
        Listed = "LISTED",
        Stopped = "STOPPED",
        Eliminated = "ELIMINATED",
        Delisted = "DELISTED",
    }
);

named_enum!(
    /// Where an entry came from: a project of the Measures, or the district's or province's
    /// catalogue imported by DRB.
    pub enum Source {
        Project = "PROJECT",
        District = "DISTRICT",
        Province = "PROVINCE",
    }
);

named_enum!(
    /// R-E2 grades, best first.
    pub enum Grade {
        Excellent = "EXCELLENT",
        Good = "GOOD",
        Pass = "PASS",
        Fail = "FAIL",
    }
);

named_enum!(
    pub enum EvaluationStatus {
        Open = "OPEN",
        Published = "PUBLISHED",
    }
);

named_enum!(
    pub enum RectificationStatus {
        Pending = "PENDING",
        Rectified = "RECTIFIED",
        Overdue = "OVERDUE",
    }
);

named_enum!(
    pub enum EliminationStatus {
        Proposed = "PROPOSED",
        Approved = "APPROVED",
        Rejected = "REJECTED",
        Executed = "EXECUTED",
    }
);

named_enum!(
    pub enum SharingStatus {
        Pending = "PENDING",
        Rectified = "RECTIFIED",
        Delisted = "DELISTED",
    }
);

named_enum!(
    /// R-E7: 等保测评 (level 3 and above) and 密评 (important systems).
    pub enum AssessmentKind {
        ClassifiedProtection = "CLASSIFIED_PROTECTION",
        Cryptography = "CRYPTOGRAPHY",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Function {
    pub name: String,
    pub description: String,
}

impl Function {
    /// The text screening reads: name and description.
    pub fn text(&self) -> String {
        if self.description.is_empty() { self.name.clone() } else { format!("{}：{}", self.name, self.description) }
    }
}

/// R-E2: when the next evaluation is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub next_due_on: Date,
    /// The due day has come and no evaluation has been published since.
    pub due: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub indicator: String,
    pub score: u32,
    pub comment: String,
    pub scored_by: String,
    pub scored_by_role: String,
}

/// One evaluation of a running application (R-E2), under the indicator system of the policy
/// version in force when it opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationRecord {
    pub evaluation_id: Uuid,
    pub status: EvaluationStatus,
    pub indicator_system: String,
    pub scores: Vec<Score>,
    /// Weighted score × 100, once published.
    pub score_centi: i64,
    pub grade: Option<Grade>,
    pub passed: bool,
    pub published_on: Option<Date>,
    pub funding_recommendation: String,
    pub funding_bp: u32,
    pub comment: String,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
}

/// R-E3: a low grade's rectification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rectification {
    pub status: RectificationStatus,
    pub evaluation_id: Uuid,
    pub rectify_by: Date,
    pub cleared_by: Option<Uuid>,
}

/// R-E3: 强制淘汰, proposed by DRB and approved by the district leader in charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Elimination {
    pub status: EliminationStatus,
    pub reason: String,
    pub proposed_by: String,
    pub proposed_on: Date,
    pub decided_by: String,
    pub decision_comment: String,
    pub decided_on: Option<Date>,
}

/// R-E5: a resource not shared as the data-sharing rules require.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingViolation {
    pub description: String,
    pub recorded_on: Date,
    pub rectify_by: Date,
    pub status: SharingStatus,
    pub note: String,
}

/// R-E7: a yearly assessment's track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentTrack {
    pub kind: AssessmentKind,
    pub due_on: Date,
    pub reminded: bool,
    pub overdue: bool,
    pub last_done_on: Option<Date>,
    pub last_conclusion: String,
    pub last_report_reference: String,
}

/// R-E8: a commissioned third-party audit and its stored report (R-X1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    pub document_id: Uuid,
    pub auditor: String,
    pub conclusion: String,
    pub file_name: String,
    pub content_type: String,
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub sm3: String,
    pub uploaded_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
}

/// R-E6: the application was stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlyStop {
    pub stopped_on: Date,
    pub reason: String,
    pub unit_id: String,
    pub within_early_stop_years: bool,
    pub ineligible_year: Option<i32>,
}

/// A catalogue entry (编目) and, for a running application, its operation record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub entry_id: Uuid,
    pub kind: EntryKind,
    pub state: EntryState,
    pub name: String,
    pub description: String,
    /// 谁建设谁负责, 谁运行谁负责, 谁使用谁负责 (R-E1).
    pub builder_unit_id: String,
    pub operator_unit_id: String,
    pub user_unit_ids: Vec<String>,
    pub project_id: String,
    /// For a data, cloud or component entry: its application entry, if any.
    pub app_id: String,
    pub functions: Vec<Function>,
    pub source: Source,
    /// An imported entry's id in the file it came from (re-imports update it).
    pub external_key: String,
    pub category: String,
    pub go_live_on: Option<Date>,
    pub classified_protection_level: u32,
    pub important_system: bool,
    pub schedule: Option<Schedule>,
    pub evaluations: Vec<EvaluationRecord>,
    pub rectification: Option<Rectification>,
    pub elimination: Option<Elimination>,
    pub sharing: Option<SharingViolation>,
    pub assessments: Vec<AssessmentTrack>,
    pub audits: Vec<Audit>,
    pub early_stop: Option<EarlyStop>,
    /// Policy version in force when it was catalogued; R-E5 and R-E6 apply this one.
    pub policy_version: String,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub catalogued_at: OffsetDateTime,
}

impl Entry {
    /// The unit answerable for the entry's operation (谁运行谁负责), else its builder.
    pub fn responsible_unit(&self) -> &str {
        if self.operator_unit_id.is_empty() { &self.builder_unit_id } else { &self.operator_unit_id }
    }

    /// Units that act on the entry: its builder and operator.
    pub fn acting_units(&self) -> [&str; 2] {
        [&self.builder_unit_id, &self.operator_unit_id]
    }

    /// The latest published evaluation.
    pub fn latest_published(&self) -> Option<&EvaluationRecord> {
        self.evaluations.iter().filter(|e| e.status == EvaluationStatus::Published).max_by_key(|e| (e.published_on, e.opened_at))
    }

    pub fn evaluation(&self, id: Uuid) -> Option<&EvaluationRecord> {
        self.evaluations.iter().find(|e| e.evaluation_id == id)
    }
}

impl Aggregate for Entry {
    const NAME: &'static str = "the catalogue entry";
    fn resource(&self) -> String {
        format!("entries/{}", self.entry_id)
    }
    fn project_id(&self) -> String {
        self.project_id.clone()
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
        m.insert("kind".into(), self.kind.as_str().into());
        m
    }
}
