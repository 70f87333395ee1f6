//! Proto ⇄ domain for intake. Requests become domain values or field-level errors that name
//! the field as the client sent it (`draft.budget[2].amount_fen`).

use egov_platform::{
    AppError,
    convert::{self as c, Fields, enum_from_proto, enum_to_proto},
    documents,
    error::FieldViolation,
    idempotency, request,
    values::UnitId,
};
use egov_proto::{common, evaluation as pe, intake as pb};

use crate::{
    app::{DocumentHeader, Download, Eligibility},
    domain::{
        registry::{NewPenalty, NewUnit},
        *,
    },
    storage::{ProjectRow, StoredDocument, TimelineRow},
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

proto_enum!(Category, pb::ProjectCategory, "PROJECT_CATEGORY_");
proto_enum!(BuildType, pb::BuildType, "BUILD_TYPE_");
proto_enum!(ContentKind, pb::ContentKind, "CONTENT_KIND_");
proto_enum!(FundingSource, pb::FundingSource, "FUNDING_SOURCE_");
proto_enum!(FastTrackGround, pb::FastTrackGround, "FAST_TRACK_GROUND_");
proto_enum!(Terminal, pb::Terminal, "TERMINAL_");
proto_enum!(CostCategory, pb::CostCategory, "COST_CATEGORY_");
proto_enum!(DocumentKind, pb::DocumentKind, "DOCUMENT_KIND_");
proto_enum!(ApplicationState, pb::ApplicationState, "APPLICATION_STATE_");
proto_enum!(PenaltyKind, pb::PenaltyKind, "PENALTY_KIND_");
proto_enum!(RoundState, pb::RoundState, "ROUND_STATE_");

/// A required enum (UNSPECIFIED refused).
pub fn required<E: ProtoEnum>(f: &mut Fields, field: &str, raw: i32) -> Option<E> {
    match E::from_proto(field, raw) {
        Ok(Some(v)) => Some(v),
        Ok(None) => {
            f.push(field, "required (UNSPECIFIED is not a value)");
            None
        }
        Err(e) => {
            f.add(e);
            None
        }
    }
}

/// An optional enum (UNSPECIFIED = not set yet, in drafts).
pub fn optional<E: ProtoEnum>(f: &mut Fields, field: &str, raw: i32) -> Option<E> {
    f.take(E::from_proto(field, raw)).flatten()
}

fn list<E: ProtoEnum + PartialEq>(f: &mut Fields, field: &str, raw: &[i32]) -> Vec<E> {
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        if let Some(v) = required::<E>(f, &format!("{field}[{i}]"), *r) {
            if out.contains(&v) {
                f.push(format!("{field}[{i}]"), "listed twice");
            } else {
                out.push(v);
            }
        }
    }
    out
}

fn text(f: &mut Fields, field: &str, s: &str, max: usize) -> String {
    if s.chars().count() > max {
        f.push(field, format!("at most {max} characters"));
    }
    if s.chars().any(|ch| ch.is_control() && ch != '\n' && ch != '\t') {
        f.push(field, "contains control characters");
    }
    s.trim().to_string()
}

/// A draft as sent; incomplete drafts are fine, malformed ones are not.
pub fn draft(lead_unit_id: &str, p: Option<pb::ApplicationDraft>) -> Result<Draft, Vec<FieldViolation>> {
    let Some(p) = p else { return Err(vec![FieldViolation::new("draft", "required")]) };
    let mut f = Fields::new();
    let n = p.necessity.unwrap_or_default();
    let necessity = Necessity {
        core_business: text(&mut f, "draft.necessity.core_business", &n.core_business, 4000),
        one_platform_path: text(&mut f, "draft.necessity.one_platform_path", &n.one_platform_path, 4000),
        relations_with_other_units: text(&mut f, "draft.necessity.relations_with_other_units", &n.relations_with_other_units, 4000),
        existing_systems_and_plans: text(&mut f, "draft.necessity.existing_systems_and_plans", &n.existing_systems_and_plans, 4000),
        terminals: list(&mut f, "draft.necessity.terminals", &n.terminals),
        uses_public_data_platform: n.uses_public_data_platform,
        function_module_of_existing_platform: n.function_module_of_existing_platform,
        retired_systems: n
            .retired_systems
            .iter()
            .enumerate()
            .map(|(i, s)| text(&mut f, &format!("draft.necessity.retired_systems[{i}]"), s, 200))
            .collect(),
        central_functions_extended: n
            .central_functions_extended
            .iter()
            .enumerate()
            .map(|(i, s)| text(&mut f, &format!("draft.necessity.central_functions_extended[{i}]"), s, 200))
            .collect(),
    };
    let modules = p
        .modules
        .iter()
        .enumerate()
        .map(|(i, m)| FunctionModule {
            name: text(&mut f, &format!("draft.modules[{i}].name"), &m.name, 200),
            description: text(&mut f, &format!("draft.modules[{i}].description"), &m.description, 4000),
        })
        .collect();
    let mut budget = Vec::new();
    for (i, l) in p.budget.iter().enumerate() {
        let field = format!("draft.budget[{i}]");
        let category = required::<CostCategory>(&mut f, &format!("{field}.category"), l.category);
        let amount = Fen::new(l.amount_fen);
        if amount.is_none() {
            f.push(format!("{field}.amount_fen"), "money is never negative (金额不能为负)");
        }
        let module = text(&mut f, &format!("{field}.module"), &l.module, 200);
        let rationale = text(&mut f, &format!("{field}.rationale"), &l.rationale, 4000);
        if let (Some(category), Some(amount)) = (category, amount) {
            budget.push(BudgetLine { module, category, amount, rationale });
        }
    }
    let planned = p.planned_construction_months;
    if planned < 0 {
        f.push("draft.planned_construction_months", "must not be negative");
    }
    let d = Draft {
        participating_unit_ids: p.participating_unit_ids.iter().map(|u| u.trim().to_string()).collect(),
        name: text(&mut f, "draft.name", &p.name, 400),
        category: optional(&mut f, "draft.category", p.category),
        build_type: optional(&mut f, "draft.build_type", p.build_type),
        xinchuang_retrofit: p.xinchuang_retrofit,
        classified: p.classified,
        content_kinds: list(&mut f, "draft.content_kinds", &p.content_kinds),
        upgrade_of_app_id: text(&mut f, "draft.upgrade_of_app_id", &p.upgrade_of_app_id, 200),
        funding_source: optional(&mut f, "draft.funding_source", p.funding_source),
        fast_track_grounds: list(&mut f, "draft.fast_track_grounds", &p.fast_track_grounds),
        reaches_streets: p.reaches_streets,
        adds_login_entry: p.adds_login_entry,
        planned_construction_months: planned.max(0) as u32,
        necessity,
        modules,
        budget,
    };
    let mut v = f.0;
    if v.is_empty() {
        v.extend(crate::domain::rules::validate_draft(lead_unit_id, &d));
    }
    if v.is_empty() { Ok(d) } else { Err(v) }
}

fn draft_to_proto(d: &Draft) -> pb::ApplicationDraft {
    pb::ApplicationDraft {
        participating_unit_ids: d.participating_unit_ids.clone(),
        name: d.name.clone(),
        category: d.category.map_or(0, ProtoEnum::to_proto),
        build_type: d.build_type.map_or(0, ProtoEnum::to_proto),
        xinchuang_retrofit: d.xinchuang_retrofit,
        classified: d.classified,
        content_kinds: d.content_kinds.iter().map(|k| k.to_proto()).collect(),
        upgrade_of_app_id: d.upgrade_of_app_id.clone(),
        funding_source: d.funding_source.map_or(0, ProtoEnum::to_proto),
        fast_track_grounds: d.fast_track_grounds.iter().map(|k| k.to_proto()).collect(),
        reaches_streets: d.reaches_streets,
        adds_login_entry: d.adds_login_entry,
        planned_construction_months: d.planned_construction_months as i32,
        necessity: Some(pb::NecessityStatement {
            core_business: d.necessity.core_business.clone(),
            one_platform_path: d.necessity.one_platform_path.clone(),
            relations_with_other_units: d.necessity.relations_with_other_units.clone(),
            existing_systems_and_plans: d.necessity.existing_systems_and_plans.clone(),
            terminals: d.necessity.terminals.iter().map(|t| t.to_proto()).collect(),
            uses_public_data_platform: d.necessity.uses_public_data_platform,
            function_module_of_existing_platform: d.necessity.function_module_of_existing_platform,
            retired_systems: d.necessity.retired_systems.clone(),
            central_functions_extended: d.necessity.central_functions_extended.clone(),
        }),
        modules: d.modules.iter().map(|m| pb::FunctionModule { name: m.name.clone(), description: m.description.clone() }).collect(),
        budget: d
            .budget
            .iter()
            .map(|l| pb::BudgetLine {
                module: l.module.clone(),
                category: l.category.to_proto(),
                amount_fen: l.amount.get(),
                rationale: l.rationale.clone(),
            })
            .collect(),
    }
}

pub fn document(d: &StoredDocument) -> pb::Document {
    pb::Document {
        document_id: d.document_id.to_string(),
        application_id: d.application_id.to_string(),
        kind: d.kind.to_proto(),
        file_name: d.file_name.clone(),
        content_type: d.content_type.clone(),
        size_bytes: d.size_bytes,
        sha256: d.sha256.clone(),
        sm3: d.sm3.clone(),
        street: d.street.clone(),
        uploaded_by: d.uploaded_by.clone(),
        uploaded_at: Some(c::timestamp(d.uploaded_at)),
    }
}

pub fn application(a: &Application, docs: &[StoredDocument]) -> pb::Application {
    let d = draft_to_proto(&a.draft);
    pb::Application {
        application_id: a.application_id.to_string(),
        project_id: a.application_id.to_string(),
        lead_unit_id: a.lead_unit_id.clone(),
        participating_unit_ids: d.participating_unit_ids,
        name: d.name,
        category: d.category,
        build_type: d.build_type,
        xinchuang_retrofit: d.xinchuang_retrofit,
        classified: d.classified,
        content_kinds: d.content_kinds,
        upgrade_of_app_id: d.upgrade_of_app_id,
        funding_source: d.funding_source,
        fast_track_grounds: d.fast_track_grounds,
        reaches_streets: d.reaches_streets,
        adds_login_entry: d.adds_login_entry,
        planned_construction_months: d.planned_construction_months,
        necessity: d.necessity,
        modules: d.modules,
        budget: d.budget,
        total_budget_fen: a.draft.totals().unwrap_or_default().total.get(),
        security_budget_fen: a.draft.totals().unwrap_or_default().security.get(),
        security_share_bp: a.draft.totals().unwrap_or_default().security_share_bp(),
        state: a.state.to_proto(),
        round_id: a.round_id.map(|r| r.to_string()).unwrap_or_default(),
        supplementary: a.supplementary != SupplementaryStatus::NotRequested,
        urgency_justification: a.urgency_justification.clone(),
        leader_consent_recorded: a.leader_consent.is_some(),
        flags: a
            .flags
            .iter()
            .map(|f| pb::ReviewFlag { rule_id: f.rule_id.clone(), code: f.code.clone(), message: f.message.clone() })
            .collect(),
        screening: a
            .screening
            .iter()
            .map(|s| pb::ScreenedModule {
                module: s.module.clone(),
                matches: s
                    .matches
                    .iter()
                    .map(|m| pe::CatalogueMatch {
                        entry_id: m.entry_id.clone(),
                        name: m.name.clone(),
                        owner_unit: m.owner_unit.clone(),
                        score: m.score,
                    })
                    .collect(),
                verdict: s.verdict.as_str().to_string(),
            })
            .collect(),
        decisions: a
            .decisions
            .iter()
            .map(|x| pb::ComplianceDecision {
                round: i32::from(x.round),
                passed: x.passed,
                results: x
                    .results
                    .iter()
                    .map(|r| pb::ChecklistResult { code: r.code.clone(), passed: r.passed, note: r.note.clone() })
                    .collect(),
                comment: x.comment.clone(),
                decided_by: x.decided_by.clone(),
                decided_at: Some(c::timestamp(x.decided_at)),
                policy_version: x.policy_version.clone(),
            })
            .collect(),
        re_review_deadline: a.re_review_deadline.map(c::civil),
        end_reason: a.end_reason.clone(),
        policy_version: a.policy_version.clone(),
        etag: a.version.to_string(),
        created_at: Some(c::timestamp(a.created_at)),
        submitted_at: a.submitted_at.map(c::timestamp),
        documents: docs.iter().map(document).collect(),
    }
}

pub fn unit(u: &Unit) -> pb::Unit {
    pb::Unit {
        unit_id: u.unit_id.clone(),
        name: u.name.clone(),
        district_budget_unit: u.district_budget_unit,
        state_owned_enterprise: u.state_owned_enterprise,
        runs_platform: u.runs_platform,
        has_street_app: u.has_street_app,
        etag: u.version.to_string(),
        created_at: Some(c::timestamp(u.created_at)),
    }
}

pub fn round(r: &Round) -> pb::ApplicationRound {
    pb::ApplicationRound {
        round_id: r.round_id.to_string(),
        target_year: r.target_year,
        deadline: Some(c::civil(r.deadline)),
        state: r.state.to_proto(),
        policy_version: r.policy_version.clone(),
        etag: r.version.to_string(),
        opened_at: Some(c::timestamp(r.opened_at)),
        closed_at: r.closed_at.map(c::timestamp),
    }
}

pub fn penalty(p: &Penalty) -> pb::UnitPenalty {
    pb::UnitPenalty {
        penalty_id: p.penalty_id.to_string(),
        unit_id: p.unit_id.clone(),
        kind: p.kind.to_proto(),
        reason: p.reason.clone(),
        project_id: p.project_id.clone(),
        went_live_on: p.went_live_on.map(c::civil),
        stopped_on: p.stopped_on.map(c::civil),
        ineligible_year: p.ineligible_year.unwrap_or(0),
        rule_ids: p.rule_ids.clone(),
        policy_version: p.policy_version.clone(),
        recorded_at: Some(c::timestamp(p.recorded_at)),
    }
}

pub fn optional_date(field: &str, d: Option<&common::CivilDate>) -> Result<Option<time::Date>, FieldViolation> {
    d.map(|d| c::date(field, Some(d))).transpose()
}

// ------------------------------------------------------------------ requests

/// `request_id` of a create: required, printable, bounded.
pub fn request_id(f: &mut Fields, field: &str, raw: &str) -> String {
    f.take(idempotency::request_id(field, raw)).unwrap_or_default()
}

pub fn new_unit(r: pb::CreateUnitRequest) -> Result<(String, NewUnit), AppError> {
    let mut f = Fields::new();
    let request_id = request_id(&mut f, "request_id", &r.request_id);
    let unit_id = f.take(UnitId::parse("unit_id", &r.unit_id));
    f.required("name", &r.name);
    let name = text(&mut f, "name", &r.name, 200);
    f.finish()?;
    let unit_id = unit_id.ok_or_else(|| AppError::field("unit_id", "required"))?;
    let u = NewUnit {
        unit_id,
        name,
        district_budget_unit: r.district_budget_unit,
        state_owned_enterprise: r.state_owned_enterprise,
        runs_platform: r.runs_platform,
        has_street_app: r.has_street_app,
    };
    Ok((request_id, u))
}

pub fn new_penalty(r: pb::RecordUnitPenaltyRequest) -> Result<(String, NewPenalty), AppError> {
    let mut f = Fields::new();
    let request_id = request_id(&mut f, "request_id", &r.request_id);
    let kind = required::<PenaltyKind>(&mut f, "kind", r.kind);
    f.required("unit_id", &r.unit_id);
    f.required("reason", &r.reason);
    let reason = text(&mut f, "reason", &r.reason, 4000);
    let went_live_on = f.take(optional_date("went_live_on", r.went_live_on.as_ref())).flatten();
    let stopped_on = f.take(optional_date("stopped_on", r.stopped_on.as_ref())).flatten();
    f.finish()?;
    let kind = kind.ok_or_else(|| AppError::field("kind", "required"))?;
    let p = NewPenalty {
        unit_id: r.unit_id.trim().to_string(),
        kind,
        reason,
        project_id: r.project_id.trim().to_string(),
        went_live_on,
        stopped_on,
        found_in_year: r.found_in_year,
    };
    Ok((request_id, p))
}

pub fn document_header(h: pb::DocumentUploadHeader) -> Result<DocumentHeader, AppError> {
    let mut f = Fields::new();
    let request_id = request_id(&mut f, "header.request_id", &h.request_id);
    let application_id = f.take(request::id("header.application_id", &h.application_id));
    let kind = required::<DocumentKind>(&mut f, "header.kind", h.kind);
    let file_name = f.take(documents::file_name("header.file_name", &h.file_name)).unwrap_or_default();
    let content_type = text(&mut f, "header.content_type", &h.content_type, 200);
    let street = text(&mut f, "header.street", &h.street, 50);
    f.finish()?;
    Ok(DocumentHeader {
        request_id,
        application_id: application_id.unwrap_or_default(),
        kind: kind.unwrap_or(DocumentKind::Other),
        file_name,
        content_type,
        street,
    })
}

pub fn checklist_results(results: &[pb::ChecklistResult]) -> Vec<ChecklistResult> {
    results.iter().map(|x| ChecklistResult { code: x.code.trim().to_string(), passed: x.passed, note: x.note.trim().to_string() }).collect()
}

pub fn eligibility(unit_id: String, year: i32, e: &Eligibility) -> pb::UnitEligibility {
    pb::UnitEligibility { unit_id, year, eligible: e.eligible, penalties: e.shown.iter().map(penalty).collect() }
}

pub fn checklist(policy: &egov_platform::policy::Policy) -> pb::ComplianceChecklist {
    pb::ComplianceChecklist {
        policy_version: policy.version.clone(),
        items: policy.compliance_checklist.iter().map(|i| pb::ChecklistItem { code: i.code.clone(), title: i.title.clone() }).collect(),
    }
}

pub fn project(p: &ProjectRow, t: &[TimelineRow]) -> pb::ProjectStatus {
    pb::ProjectStatus {
        project_id: p.project_id.to_string(),
        name: p.name.clone(),
        lead_unit_id: p.lead_unit_id.clone(),
        status: p.status.clone(),
        timeline: t
            .iter()
            .map(|e| pb::TimelineEntry {
                event_id: e.event_id.to_string(),
                event_type: e.event_type.clone(),
                producer: e.producer.clone(),
                occurred_at: Some(c::timestamp(e.occurred_at)),
                status: e.status.clone(),
                summary: e.summary.clone(),
            })
            .collect(),
    }
}

/// The download stream: the document's metadata, then its content in chunks.
pub fn download(d: &Download) -> Vec<Result<pb::DownloadDocumentResponse, tonic::Status>> {
    use pb::download_document_response::Part;
    std::iter::once(Part::Document(document(&d.document)))
        .chain(documents::download_chunks(&d.content).into_iter().map(|b| Part::Chunk(b.to_vec())))
        .map(|part| Ok(pb::DownloadDocumentResponse { part: Some(part) }))
        .collect()
}

/// The parts of an upload message, for the platform's upload sequence.
pub fn upload_part(m: pb::UploadDocumentRequest) -> Option<documents::UploadPart<pb::DocumentUploadHeader>> {
    match m.part? {
        pb::upload_document_request::Part::Header(h) => Some(documents::UploadPart::Header(h)),
        pb::upload_document_request::Part::Chunk(b) => Some(documents::UploadPart::Chunk(b)),
    }
}
