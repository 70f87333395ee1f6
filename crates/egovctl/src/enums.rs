//! Protobuf enums by name: the short names users type (`BUSINESS_APPLICATION`) and the full names
//! the JSON output shows (`PROJECT_CATEGORY_BUSINESS_APPLICATION`).

use egov_proto::{
    acceptance, evaluation,
    intake::{
        ApplicationState, BuildType, ContentKind, CostCategory, DocumentKind, FastTrackGround, FundingSource, PenaltyKind, ProjectCategory,
        RoundState, Terminal,
    },
    procurement::{CaseState, SignedStatement, TerminationGround},
    review::{CaseStage, ChangeReviewStage, ChangeRoute, ChangeState, MaterialKind, MeetingState, TaskState},
};

/// A prost-generated enum together with its name prefix. prost gives each enum inherent
/// `as_str_name`/`from_str_name` methods but no trait, so this trait names them once.
pub trait ProtoEnum: Copy + Into<i32> + TryFrom<i32> {
    /// The prefix every value's full name starts with, e.g. `PROJECT_CATEGORY_`.
    const PREFIX: &'static str;
    fn full_name(self) -> &'static str;
    fn from_full_name(name: &str) -> Option<Self>;
}

macro_rules! proto_enum {
    ($($ty:ty => $prefix:literal),* $(,)?) => {$(
        impl ProtoEnum for $ty {
            const PREFIX: &'static str = $prefix;
            fn full_name(self) -> &'static str {
                self.as_str_name()
            }
            fn from_full_name(name: &str) -> Option<Self> {
                <$ty>::from_str_name(name)
            }
        }
    )*};
}

proto_enum! {
    ProjectCategory => "PROJECT_CATEGORY_",
    BuildType => "BUILD_TYPE_",
    ContentKind => "CONTENT_KIND_",
    FundingSource => "FUNDING_SOURCE_",
    FastTrackGround => "FAST_TRACK_GROUND_",
    Terminal => "TERMINAL_",
    CostCategory => "COST_CATEGORY_",
    DocumentKind => "DOCUMENT_KIND_",
    ApplicationState => "APPLICATION_STATE_",
    PenaltyKind => "PENALTY_KIND_",
    RoundState => "ROUND_STATE_",
    CaseStage => "CASE_STAGE_",
    TaskState => "TASK_STATE_",
    MaterialKind => "MATERIAL_KIND_",
    MeetingState => "MEETING_STATE_",
    ChangeRoute => "CHANGE_ROUTE_",
    ChangeState => "CHANGE_STATE_",
    ChangeReviewStage => "CHANGE_REVIEW_STAGE_",
    CaseState => "CASE_STATE_",
    SignedStatement => "SIGNED_STATEMENT_",
    TerminationGround => "TERMINATION_GROUND_",
}

// The acceptance service's enums (`acceptance::CaseState` and `MaterialKind` share their names
// with procurement's and review's, so they go by path).
proto_enum! {
    acceptance::CaseState => "CASE_STATE_",
    acceptance::Channel => "CHANNEL_",
    acceptance::Specialty => "SPECIALTY_",
    acceptance::MaterialKind => "MATERIAL_KIND_",
    acceptance::ReportSource => "REPORT_SOURCE_",
}

// The evaluation service's enums, by path as acceptance's.
proto_enum! {
    evaluation::EntryKind => "ENTRY_KIND_",
    evaluation::EntryState => "ENTRY_STATE_",
    evaluation::EvaluationGrade => "EVALUATION_GRADE_",
    evaluation::EvaluationStatus => "EVALUATION_STATUS_",
    evaluation::RectificationStatus => "RECTIFICATION_STATUS_",
    evaluation::EliminationStatus => "ELIMINATION_STATUS_",
    evaluation::AssessmentKind => "ASSESSMENT_KIND_",
    evaluation::ScreeningVerdict => "SCREENING_VERDICT_",
    evaluation::ImportFormat => "IMPORT_FORMAT_",
}

/// The short names of every value but UNSPECIFIED, in declaration order.
pub fn short_names<E: ProtoEnum>() -> Vec<&'static str> {
    (1..=255).filter_map(|i| E::try_from(i).ok()).map(|e| e.full_name().strip_prefix(E::PREFIX).unwrap_or(e.full_name())).collect()
}

/// Parses a value given by its short name (`NEW`) or full name (`BUILD_TYPE_NEW`), case
/// insensitive, `-` accepted for `_`. UNSPECIFIED is refused: a name that says nothing is a
/// mistake. The error lists the accepted names.
pub fn parse<E: ProtoEnum>(value: &str) -> Result<E, String> {
    let norm = value.trim().to_ascii_uppercase().replace('-', "_");
    let found = E::from_full_name(&norm).or_else(|| E::from_full_name(&format!("{}{norm}", E::PREFIX)));
    match found {
        Some(e) if e.into() != 0 => Ok(e),
        _ => Err(format!("unknown value {value:?}; expected one of {}", short_names::<E>().join(", "))),
    }
}

/// Full name of a wire value, or `UNKNOWN(n)` for a value this build does not know.
pub fn full<E: ProtoEnum>(value: i32) -> String {
    match E::try_from(value) {
        Ok(e) => e.full_name().to_string(),
        Err(_) => format!("UNKNOWN({value})"),
    }
}

/// Short name of a wire value (`-` for UNSPECIFIED), for tables.
pub fn short<E: ProtoEnum>(value: i32) -> String {
    match E::try_from(value) {
        Ok(_) if value == 0 => "-".to_string(),
        Ok(e) => e.full_name().strip_prefix(E::PREFIX).unwrap_or(e.full_name()).to_string(),
        Err(_) => format!("UNKNOWN({value})"),
    }
}

/// clap value parser for an enum argument, e.g. `--kind FEASIBILITY_REPORT`.
pub fn arg<E: ProtoEnum + Send + Sync + 'static>(value: &str) -> Result<E, String> {
    parse::<E>(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_full_names_parse() {
        assert_eq!(parse::<BuildType>("NEW"), Ok(BuildType::New));
        assert_eq!(parse::<BuildType>("build_type_upgrade"), Ok(BuildType::Upgrade));
        assert_eq!(parse::<DocumentKind>("feasibility-report"), Ok(DocumentKind::FeasibilityReport));
        assert!(parse::<BuildType>("UNSPECIFIED").is_err());
        let e = parse::<Terminal>("WECHAT").unwrap_err();
        assert!(e.contains("ZHELIBAN, ZHEZHENGDING"), "{e}");
    }

    #[test]
    fn names_of_wire_values() {
        assert_eq!(short::<ApplicationState>(3), "SUBMITTED");
        assert_eq!(short::<ApplicationState>(0), "-");
        assert_eq!(full::<ApplicationState>(3), "APPLICATION_STATE_SUBMITTED");
        assert_eq!(full::<ApplicationState>(99), "UNKNOWN(99)");
        assert_eq!(short_names::<ContentKind>().len(), 8);
    }

    #[test]
    fn review_enums() {
        assert_eq!(parse::<CaseStage>("expert-review"), Ok(CaseStage::ExpertReview));
        assert_eq!(parse::<TaskState>("TASK_STATE_OPEN"), Ok(TaskState::Open));
        assert_eq!(short::<CaseStage>(CaseStage::Approved as i32), "APPROVED");
        assert!(parse::<CaseStage>("DONE").unwrap_err().contains("PRELIMINARY_REVIEW, EXPERT_REVIEW"));
        assert_eq!(parse::<MaterialKind>("revision-list"), Ok(MaterialKind::RevisionList));
        assert_eq!(short_names::<MaterialKind>(), vec!["REVISED_FEASIBILITY_REPORT", "REVISION_LIST", "PRESENTATION"]);
        assert_eq!(parse::<ChangeReviewStage>("expert"), Ok(ChangeReviewStage::Expert));
        assert_eq!(short::<ChangeState>(ChangeState::AwaitingDepartmentalReview as i32), "AWAITING_DEPARTMENTAL_REVIEW");
        assert_eq!(full::<MeetingState>(MeetingState::PanelDrawn as i32), "MEETING_STATE_PANEL_DRAWN");
    }

    #[test]
    fn procurement_enums() {
        assert_eq!(parse::<CaseState>("construction"), Ok(CaseState::Construction));
        assert_eq!(parse::<CaseState>("CASE_STATE_CONSTRUCTION_COMPLETED"), Ok(CaseState::ConstructionCompleted));
        assert_eq!(short::<CaseState>(CaseState::DeadlineMissed as i32), "DEADLINE_MISSED");
        assert_eq!(parse::<SignedStatement>("not-signed"), Ok(SignedStatement::NotSigned));
        assert_eq!(short_names::<SignedStatement>(), vec!["NOT_STATED", "SIGNED", "NOT_SIGNED"]);
        assert_eq!(parse::<TerminationGround>("force_majeure"), Ok(TerminationGround::ForceMajeure));
        assert!(parse::<TerminationGround>("BORED").unwrap_err().contains("FUNCTION_TRANSFER_OR_POLICY_CHANGE"));
        assert_eq!(full::<TerminationGround>(6), "TERMINATION_GROUND_OTHER");
    }

    #[test]
    fn evaluation_enums() {
        use evaluation::{AssessmentKind, EntryKind, EntryState, EvaluationGrade, ImportFormat, ScreeningVerdict};
        assert_eq!(parse::<EntryKind>("data"), Ok(EntryKind::Data));
        assert_eq!(parse::<EntryState>("ENTRY_STATE_DELISTED"), Ok(EntryState::Delisted));
        assert_eq!(short::<EvaluationGrade>(EvaluationGrade::Excellent as i32), "EXCELLENT");
        assert_eq!(parse::<AssessmentKind>("classified-protection"), Ok(AssessmentKind::ClassifiedProtection));
        assert_eq!(short_names::<ScreeningVerdict>(), vec!["DUPLICATE", "PARTIAL_DUPLICATE", "DISTINCT"]);
        assert_eq!(parse::<ImportFormat>("csv"), Ok(ImportFormat::Csv));
        assert!(parse::<EntryKind>("APP").unwrap_err().contains("APPLICATION, DATA, CLOUD, COMPONENT"));
    }
}
