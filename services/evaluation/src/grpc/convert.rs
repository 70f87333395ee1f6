//! Proto ⇄ domain for evaluation. Requests become domain values or field-level errors that name
//! the field as the client sent it (`entry.functions[2].name`).

use egov_platform::{
    AppError,
    convert::{self as c, Fields, enum_from_proto, enum_to_proto},
    documents,
    error::FieldViolation,
    idempotency,
};
use egov_proto::evaluation as pb;

use crate::{
    app::{Imported, Match, Screened},
    domain::{entry::NewEntry, import::Format, *},
    storage::Published,
};

macro_rules! proto_enum {
    ($dom:ty, $pb:ty, $prefix:literal) => {
        impl ProtoEnum for $dom {
            fn from_proto(field: &str, raw: i32) -> Result<Option<$dom>, FieldViolation> {
                enum_from_proto(field, raw, |i| <$pb>::try_from(i).ok().map(|e| e.as_str_name()), $prefix, <$dom>::parse)
            }
            fn to_proto(self) -> i32 {
                enum_to_proto($prefix, self.as_str(), |n| <$pb>::from_str_name(n).map(|e| e as i32))
            }
        }
    };
}

pub trait ProtoEnum: Sized {
    fn from_proto(field: &str, raw: i32) -> Result<Option<Self>, FieldViolation>;
    fn to_proto(self) -> i32;
}

proto_enum!(EntryKind, pb::EntryKind, "ENTRY_KIND_");
proto_enum!(EntryState, pb::EntryState, "ENTRY_STATE_");
proto_enum!(Grade, pb::EvaluationGrade, "EVALUATION_GRADE_");
proto_enum!(EvaluationStatus, pb::EvaluationStatus, "EVALUATION_STATUS_");
proto_enum!(RectificationStatus, pb::RectificationStatus, "RECTIFICATION_STATUS_");
proto_enum!(EliminationStatus, pb::EliminationStatus, "ELIMINATION_STATUS_");
proto_enum!(AssessmentKind, pb::AssessmentKind, "ASSESSMENT_KIND_");
proto_enum!(ScreeningVerdict, pb::ScreeningVerdict, "SCREENING_VERDICT_");

/// Free text of at most `max` characters.
pub fn text(f: &mut Fields, field: &str, raw: &str, max: usize) -> String {
    let v = raw.trim();
    if v.chars().count() > max {
        f.push(field, format!("at most {max} characters"));
    }
    v.to_string()
}

/// Required free text of at most `max` characters.
pub fn required_text(f: &mut Fields, field: &str, raw: &str, max: usize) -> String {
    f.required(field, raw);
    text(f, field, raw, max)
}

fn unit(f: &mut Fields, field: &str, raw: &str) -> String {
    let v = raw.trim();
    if !v.is_empty() {
        f.take(egov_platform::values::UnitId::parse(field, v));
    }
    v.to_string()
}

pub fn new_entry(raw: Option<pb::NewEntry>) -> Result<NewEntry, Vec<FieldViolation>> {
    let Some(r) = raw else { return Err(vec![FieldViolation::new("entry", "required")]) };
    let mut f = Fields::new();
    let kind = f.take(EntryKind::from_proto("entry.kind", r.kind)).flatten();
    let name = required_text(&mut f, "entry.name", &r.name, 200);
    let description = text(&mut f, "entry.description", &r.description, 2000);
    f.required("entry.builder_unit_id", &r.builder_unit_id);
    let builder = unit(&mut f, "entry.builder_unit_id", &r.builder_unit_id);
    let operator = unit(&mut f, "entry.operator_unit_id", &r.operator_unit_id);
    let users = r.user_unit_ids.iter().enumerate().map(|(i, u)| unit(&mut f, &format!("entry.user_unit_ids[{i}]"), u)).collect();
    if !r.project_id.trim().is_empty() {
        f.take(egov_platform::request::id("entry.project_id", &r.project_id));
    }
    if r.functions.len() > 100 {
        f.push("entry.functions", "at most 100 functions");
    }
    let functions = r
        .functions
        .iter()
        .enumerate()
        .map(|(i, m)| Function {
            name: required_text(&mut f, &format!("entry.functions[{i}].name"), &m.name, 200),
            description: text(&mut f, &format!("entry.functions[{i}].description"), &m.description, 2000),
        })
        .collect();
    if !f.0.is_empty() {
        return Err(f.0);
    }
    Ok(NewEntry {
        kind,
        name,
        description,
        builder_unit_id: builder,
        operator_unit_id: operator,
        user_unit_ids: users,
        project_id: r.project_id.trim().to_string(),
        app_id: r.app_id.trim().to_string(),
        functions,
    })
}

/// What an import's header says, parsed.
pub struct ImportHeader {
    pub request_id: String,
    pub file_name: String,
    pub format: Format,
}

/// An import's header, or every field at fault (`header.format`: CSV or JSON).
pub fn import_header(h: pb::ImportHeader) -> Result<ImportHeader, AppError> {
    let mut f = Fields::new();
    let request_id = f.take(idempotency::request_id("header.request_id", &h.request_id)).unwrap_or_default();
    let file_name = f.take(documents::file_name("header.file_name", &h.file_name)).unwrap_or_default();
    let format = match pb::ImportFormat::try_from(h.format) {
        Ok(pb::ImportFormat::Csv) => Some(Format::Csv),
        Ok(pb::ImportFormat::Json) => Some(Format::Json),
        _ => f.take(Err(FieldViolation::new("header.format", "CSV or JSON"))),
    };
    f.finish()?;
    let format = format.ok_or_else(|| AppError::field("header.format", "CSV or JSON"))?;
    Ok(ImportHeader { request_id, file_name, format })
}

/// What an import did: the stored file, its counts and its rows at fault.
pub fn imported(i: &Imported) -> pb::ImportCatalogueResponse {
    pb::ImportCatalogueResponse {
        import_id: i.record.import_id.to_string(),
        document_id: i.document_id.to_string(),
        sha256: i.record.sha256.clone(),
        sm3: i.record.sm3.clone(),
        created: i.record.created,
        updated: i.record.updated,
        unchanged: i.record.unchanged,
        errors: i
            .errors
            .iter()
            .map(|e| pb::ImportRowError {
                row: i32::try_from(e.row).unwrap_or(i32::MAX),
                field: e.field.clone(),
                description: e.description.clone(),
            })
            .collect(),
    }
}

fn ts(t: time::OffsetDateTime) -> Option<prost_types::Timestamp> {
    Some(c::timestamp(t))
}

fn evaluation(r: &EvaluationRecord) -> pb::EvaluationRecord {
    pb::EvaluationRecord {
        evaluation_id: r.evaluation_id.to_string(),
        status: r.status.to_proto(),
        indicator_system: r.indicator_system.clone(),
        scores: r
            .scores
            .iter()
            .map(|s| pb::IndicatorScore {
                indicator: s.indicator.clone(),
                score: s.score as i32,
                comment: s.comment.clone(),
                scored_by: s.scored_by.clone(),
                scored_by_role: s.scored_by_role.clone(),
            })
            .collect(),
        score_centi: r.score_centi,
        grade: r.grade.map(Grade::to_proto).unwrap_or(0),
        passed: r.passed,
        published_on: r.published_on.map(c::civil),
        funding_recommendation: r.funding_recommendation.clone(),
        funding_bp: r.funding_bp as i32,
        comment: r.comment.clone(),
        opened_at: ts(r.opened_at),
    }
}

pub fn track(t: &AssessmentTrack) -> pb::AssessmentTrack {
    pb::AssessmentTrack {
        kind: t.kind.to_proto(),
        due_on: Some(c::civil(t.due_on)),
        reminded: t.reminded,
        overdue: t.overdue,
        last_done_on: t.last_done_on.map(c::civil),
        last_conclusion: t.last_conclusion.clone(),
        last_report_reference: t.last_report_reference.clone(),
    }
}

pub fn audit(a: &Audit) -> pb::ThirdPartyAudit {
    pb::ThirdPartyAudit {
        document_id: a.document_id.to_string(),
        auditor: a.auditor.clone(),
        file_name: a.file_name.clone(),
        content_type: a.content_type.clone(),
        size_bytes: i64::try_from(a.size).unwrap_or(i64::MAX),
        sha256: a.sha256.clone(),
        sm3: a.sm3.clone(),
        uploaded_by: a.uploaded_by.clone(),
        uploaded_at: ts(a.uploaded_at),
        conclusion: a.conclusion.clone(),
    }
}

pub fn entry(e: &Entry) -> pb::CatalogueEntry {
    pb::CatalogueEntry {
        entry_id: e.entry_id.to_string(),
        kind: e.kind.to_proto(),
        state: e.state.to_proto(),
        name: e.name.clone(),
        description: e.description.clone(),
        builder_unit_id: e.builder_unit_id.clone(),
        operator_unit_id: e.operator_unit_id.clone(),
        user_unit_ids: e.user_unit_ids.clone(),
        project_id: e.project_id.clone(),
        app_id: e.app_id.clone(),
        functions: e.functions.iter().map(|f| pb::FunctionModule { name: f.name.clone(), description: f.description.clone() }).collect(),
        source: e.source.as_str().into(),
        category: e.category.clone(),
        go_live_on: e.go_live_on.map(c::civil),
        classified_protection_level: e.classified_protection_level as i32,
        important_system: e.important_system,
        schedule: e.schedule.as_ref().map(|s| pb::EvaluationSchedule { next_due_on: Some(c::civil(s.next_due_on)), due: s.due }),
        evaluations: e.evaluations.iter().map(evaluation).collect(),
        rectification: e.rectification.as_ref().map(|r| pb::Rectification {
            status: r.status.to_proto(),
            evaluation_id: r.evaluation_id.to_string(),
            rectify_by: Some(c::civil(r.rectify_by)),
            cleared_by_evaluation_id: r.cleared_by.map(|u| u.to_string()).unwrap_or_default(),
        }),
        elimination: e.elimination.as_ref().map(|el| pb::Elimination {
            status: el.status.to_proto(),
            reason: el.reason.clone(),
            proposed_by: el.proposed_by.clone(),
            decided_by: el.decided_by.clone(),
            decision_comment: el.decision_comment.clone(),
            proposed_on: Some(c::civil(el.proposed_on)),
            decided_on: el.decided_on.map(c::civil),
        }),
        sharing_violation: e.sharing.as_ref().map(|s| pb::SharingViolation {
            description: s.description.clone(),
            recorded_on: Some(c::civil(s.recorded_on)),
            rectify_by: Some(c::civil(s.rectify_by)),
            status: s.status.as_str().into(),
            rectification_note: s.note.clone(),
        }),
        assessments: e.assessments.iter().map(track).collect(),
        audits: e.audits.iter().map(audit).collect(),
        early_stop: e.early_stop.as_ref().map(|s| pb::EarlyStop {
            stopped_on: Some(c::civil(s.stopped_on)),
            reason: s.reason.clone(),
            within_early_stop_years: s.within_early_stop_years,
            ineligible_year: s.ineligible_year.unwrap_or(0),
        }),
        policy_version: e.policy_version.clone(),
        etag: e.version.to_string(),
        catalogued_at: ts(e.catalogued_at),
    }
}

pub fn screening_match(m: &Match) -> pb::ScreeningMatch {
    pb::ScreeningMatch {
        entry_id: m.entry_id.to_string(),
        name: m.name.clone(),
        owner_unit: m.owner_unit.clone(),
        score: m.score,
        function_name: m.function.clone(),
        shared_terms: m.shared_terms.clone(),
        source: m.source.clone(),
    }
}

pub fn screened(s: &Screened) -> pb::ScreenedModule {
    pb::ScreenedModule { module: s.module.clone(), matches: s.matches.iter().map(screening_match).collect(), verdict: s.verdict.to_proto() }
}

pub fn published(p: &Published) -> pb::PublishedEvaluation {
    pb::PublishedEvaluation {
        evaluation_id: p.evaluation_id.to_string(),
        app_id: p.app_id.to_string(),
        name: p.name.clone(),
        operator_unit_id: p.operator_unit_id.clone(),
        published_on: Some(c::civil(p.published_on)),
        score_centi: p.score_centi,
        grade: Grade::parse(&p.grade).map(Grade::to_proto).unwrap_or(0),
        passed: p.passed,
        funding_recommendation: p.funding_recommendation.clone(),
        funding_bp: p.funding_bp,
        indicator_system: p.indicator_system.clone(),
    }
}

pub fn indicator_system(p: &egov_platform::policy::Policy) -> pb::IndicatorSystem {
    let e = &p.evaluation;
    pb::IndicatorSystem {
        version: p.version.clone(),
        effective_from: Some(c::civil(p.effective_from)),
        indicators: e
            .indicators
            .iter()
            .map(|i| pb::Indicator {
                code: i.code.clone(),
                title: i.title.clone(),
                weight: i.weight as i32,
                assessed_by: i.assessed_by.clone(),
            })
            .collect(),
        grades: e
            .grades
            .iter()
            .map(|g| pb::GradeThreshold {
                grade: Grade::parse(&g.grade).map(Grade::to_proto).unwrap_or(0),
                min_score: g.min_score as i32,
                funding_recommendation: g.funding_recommendation.clone(),
                funding_bp: g.funding_bp as i32,
            })
            .collect(),
        passing_grade: Grade::parse(&e.passing_grade).map(Grade::to_proto).unwrap_or(0),
        first_evaluation_months_business: e.first_evaluation_months_business as i32,
        first_evaluation_months_other: e.first_evaluation_months_other as i32,
        evaluation_interval_months: e.evaluation_interval_months as i32,
        rectification_months: e.rectification_months as i32,
    }
}

/// Free text of at most `max` characters, alone.
pub fn free_text(field: &str, raw: &str, max: usize) -> Result<String, FieldViolation> {
    let v = raw.trim();
    if v.chars().count() > max {
        return Err(FieldViolation::new(field, format!("at most {max} characters")));
    }
    Ok(v.to_string())
}
