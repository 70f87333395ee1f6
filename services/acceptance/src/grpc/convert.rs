//! Proto ⇄ domain for acceptance. Requests become domain values or field errors naming the field
//! as the client sent it (`panel[2].specialties[0]`).

use egov_platform::{
    AppError,
    convert::{self as c, Fields, enum_from_proto, enum_to_proto},
    documents, idempotency, request,
    values::Fen,
};
use egov_proto::acceptance as pb;

use crate::{
    app::{MaterialHeader, ReportHeader},
    domain::{
        case::{AcceptanceHeld, Application},
        *,
    },
};

macro_rules! proto_enum {
    ($dom:ty, $pb:ty, $prefix:literal) => {
        impl ProtoEnum for $dom {
            fn from_proto(field: &str, raw: i32) -> Result<Option<$dom>, egov_platform::error::FieldViolation> {
                enum_from_proto(field, raw, |i| <$pb>::try_from(i).ok().map(|e| e.as_str_name()), $prefix, <$dom>::parse)
            }
            fn to_proto(self) -> i32 {
                enum_to_proto($prefix, self.as_str(), |n| <$pb>::from_str_name(n).map(|e| e as i32))
            }
        }
    };
}

pub trait ProtoEnum: Sized {
    fn from_proto(field: &str, raw: i32) -> Result<Option<Self>, egov_platform::error::FieldViolation>;
    fn to_proto(self) -> i32;
}

proto_enum!(CaseState, pb::CaseState, "CASE_STATE_");
proto_enum!(Channel, pb::Channel, "CHANNEL_");
proto_enum!(Specialty, pb::Specialty, "SPECIALTY_");
proto_enum!(MaterialKind, pb::MaterialKind, "MATERIAL_KIND_");
proto_enum!(ReportSource, pb::ReportSource, "REPORT_SOURCE_");

fn required<E: ProtoEnum>(f: &mut Fields, field: &str, raw: i32) -> Option<E> {
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

/// Free text: trimmed, at most `max` characters, no control characters but line breaks.
fn text(f: &mut Fields, field: &str, s: &str, max: usize) -> String {
    if s.chars().count() > max {
        f.push(field, format!("at most {max} characters"));
    }
    if s.chars().any(|ch| ch.is_control() && ch != '\n' && ch != '\t') {
        f.push(field, "contains control characters");
    }
    s.trim().to_string()
}

fn date(f: &mut Fields, field: &str, d: Option<&egov_proto::common::CivilDate>) -> time::Date {
    f.take(c::date(field, d)).unwrap_or(time::Date::MIN)
}

/// The id and etag every transition request names.
pub fn target(f: &mut Fields, id: &str, etag: &str) -> (uuid::Uuid, i64) {
    let id = f.take(request::id("project_id", id)).unwrap_or_default();
    let etag = f.take(request::etag("etag", etag)).unwrap_or_default();
    (id, etag)
}

pub fn members(f: &mut Fields, field: &str, raw: &[pb::PanelMember]) -> Vec<PanelMember> {
    raw.iter()
        .enumerate()
        .map(|(i, m)| {
            let at = |x: &str| format!("{field}[{i}].{x}");
            let mut specialties = Vec::new();
            for (j, s) in m.specialties.iter().enumerate() {
                if let Some(s) = required::<Specialty>(f, &format!("{field}[{i}].specialties[{j}]"), *s)
                    && !specialties.contains(&s)
                {
                    specialties.push(s);
                }
            }
            PanelMember {
                name: text(f, &at("name"), &m.name, 100),
                specialties,
                affiliation: text(f, &at("affiliation"), &m.affiliation, 200),
                affiliation_credit_code: text(f, &at("affiliation_credit_code"), &m.affiliation_credit_code, 18),
                opinion: text(f, &at("opinion"), &m.opinion, 4000),
                passes: m.passes,
            }
        })
        .collect()
}

pub fn initial(r: pb::RecordInitialAcceptanceRequest) -> Result<(uuid::Uuid, i64, time::Date, Vec<PanelMember>, String), AppError> {
    let mut f = Fields::new();
    let (id, etag) = target(&mut f, &r.project_id, &r.etag);
    let held_on = date(&mut f, "held_on", r.held_on.as_ref());
    let panel = members(&mut f, "panel", &r.panel);
    let conclusion = text(&mut f, "conclusion", &r.conclusion, 4000);
    f.finish()?;
    Ok((id, etag, held_on, panel, conclusion))
}

pub fn application(r: pb::ApplyForAcceptanceRequest) -> Result<(uuid::Uuid, i64, Application), AppError> {
    let mut f = Fields::new();
    let (id, etag) = target(&mut f, &r.project_id, &r.etag);
    let built_modules = r.built_modules.iter().enumerate().map(|(i, m)| text(&mut f, &format!("built_modules[{i}]"), m, 200)).collect();
    let statement = text(&mut f, "statement", &r.statement, 8000);
    let operator_unit_id = text(&mut f, "operator_unit_id", &r.operator_unit_id, 32);
    let user_unit_ids = r.user_unit_ids.iter().enumerate().map(|(i, u)| text(&mut f, &format!("user_unit_ids[{i}]"), u, 32)).collect();
    f.finish()?;
    let a = Application {
        built_modules,
        goals_met: r.goals_met,
        function_performance_met: r.function_performance_met,
        statement,
        partial: r.partial,
        parties: Parties { operator_unit_id, user_unit_ids },
    };
    Ok((id, etag, a))
}

pub fn acceptance(r: pb::RecordAcceptanceRequest) -> Result<(uuid::Uuid, i64, AcceptanceHeld), AppError> {
    let mut f = Fields::new();
    let (id, etag) = target(&mut f, &r.project_id, &r.etag);
    let held_on = date(&mut f, "held_on", r.held_on.as_ref());
    let experts = members(&mut f, "experts", &r.experts);
    let conclusion = text(&mut f, "conclusion", &r.conclusion, 4000);
    let costs = f.take(Fen::field("costs_fen", r.costs_fen)).unwrap_or_default();
    f.finish()?;
    let held = AcceptanceHeld {
        held_on,
        experts,
        conclusion,
        costs,
        drb_joined: r.drb_joined,
        recorded_as: Organiser::Unit,
        recorded_by: String::new(),
    };
    Ok((id, etag, held))
}

pub fn material_header(h: pb::MaterialHeader) -> Result<MaterialHeader, AppError> {
    let mut f = Fields::new();
    let request_id = f.take(idempotency::request_id("header.request_id", &h.request_id)).unwrap_or_default();
    let project_id = f.take(request::id("header.project_id", &h.project_id)).unwrap_or_default();
    let kind = required::<MaterialKind>(&mut f, "header.kind", h.kind);
    let file_name = f.take(documents::file_name("header.file_name", &h.file_name)).unwrap_or_default();
    let content_type = text(&mut f, "header.content_type", &h.content_type, 200);
    let produced_on = date(&mut f, "header.produced_on", h.produced_on.as_ref());
    let project_name = text(&mut f, "header.project_name", &h.project_name, 400);
    f.required("header.project_name", &h.project_name);
    f.finish()?;
    Ok(MaterialHeader {
        request_id,
        project_id,
        kind: kind.unwrap_or(MaterialKind::Other),
        file_name,
        content_type,
        produced_on,
        project_name,
    })
}

pub fn report_header(h: pb::TrialReportHeader) -> Result<ReportHeader, AppError> {
    let mut f = Fields::new();
    let request_id = f.take(idempotency::request_id("header.request_id", &h.request_id)).unwrap_or_default();
    let project_id = f.take(request::id("header.project_id", &h.project_id)).unwrap_or_default();
    let file_name = f.take(documents::file_name("header.file_name", &h.file_name)).unwrap_or_default();
    let content_type = text(&mut f, "header.content_type", &h.content_type, 200);
    let produced_on = date(&mut f, "header.produced_on", h.produced_on.as_ref());
    let period_from = date(&mut f, "header.period_from", h.period_from.as_ref());
    let period_to = date(&mut f, "header.period_to", h.period_to.as_ref());
    let external_reference = text(&mut f, "header.external_reference", &h.external_reference, 200);
    let project_name = text(&mut f, "header.project_name", &h.project_name, 400);
    f.required("header.project_name", &h.project_name);
    f.finish()?;
    let material = MaterialHeader {
        request_id,
        project_id,
        kind: MaterialKind::TrialOperationReport,
        file_name,
        content_type,
        produced_on,
        project_name,
    };
    Ok(ReportHeader { material, period_from, period_to, external_reference })
}

pub fn upload_part(m: pb::UploadMaterialRequest) -> Option<documents::UploadPart<pb::MaterialHeader>> {
    match m.part? {
        pb::upload_material_request::Part::Header(h) => Some(documents::UploadPart::Header(h)),
        pb::upload_material_request::Part::Chunk(b) => Some(documents::UploadPart::Chunk(b)),
    }
}

pub fn report_part(m: pb::DepositTrialReportRequest) -> Option<documents::UploadPart<pb::TrialReportHeader>> {
    match m.part? {
        pb::deposit_trial_report_request::Part::Header(h) => Some(documents::UploadPart::Header(h)),
        pb::deposit_trial_report_request::Part::Chunk(b) => Some(documents::UploadPart::Chunk(b)),
    }
}

// ------------------------------------------------------------------ answers

pub fn material(project_id: uuid::Uuid, m: &Material) -> pb::Material {
    pb::Material {
        document_id: m.document_id.to_string(),
        project_id: project_id.to_string(),
        kind: m.kind.to_proto(),
        file_name: m.file_name.clone(),
        content_type: m.content_type.clone(),
        size_bytes: m.size_bytes,
        sha256: m.sha256.clone(),
        sm3: m.sm3.clone(),
        filing: Some(pb::Filing {
            produced_on: Some(c::civil(m.produced_on)),
            filed_on: Some(c::civil(m.filed_on)),
            deadline: Some(c::civil(m.filing.deadline)),
            late: m.filing.late,
            provisional_years: m.filing.provisional_years.clone(),
        }),
        source: m.source.map(ProtoEnum::to_proto).unwrap_or(0),
        uploaded_by: m.uploaded_by.clone(),
        uploaded_at: Some(c::timestamp(m.uploaded_at)),
    }
}

fn member(m: &PanelMember) -> pb::PanelMember {
    pb::PanelMember {
        name: m.name.clone(),
        specialties: m.specialties.iter().map(|s| s.to_proto()).collect(),
        affiliation: m.affiliation.clone(),
        affiliation_credit_code: m.affiliation_credit_code.clone(),
        opinion: m.opinion.clone(),
        passes: m.passes,
    }
}

pub fn case(k: &AcceptanceCase) -> pb::AcceptanceCase {
    let h = &k.handover;
    pb::AcceptanceCase {
        project_id: k.project_id.to_string(),
        project_name: h.project_name.clone(),
        lead_unit_id: h.lead_unit_id.clone(),
        participating_unit_ids: h.participating_unit_ids.clone(),
        document_number: h.document_number.clone(),
        budget_fen: h.budget.get(),
        scope: h.scope.clone(),
        channel: h.channel.to_proto(),
        supplier_name: h.supplier_name.clone(),
        supplier_credit_code: h.supplier_credit_code.clone(),
        supervision_credit_code: h.supervision_credit_code.clone(),
        contract_amount_fen: h.contract_amount.get(),
        classified_protection_level: h.classified_protection_level,
        important_system: h.important_system,
        overrun_days: h.overrun_days,
        construction_completed_on: Some(c::civil(h.completed_on)),
        state: k.state.to_proto(),
        initial_acceptances: k
            .initial_acceptances
            .iter()
            .map(|i| pb::InitialAcceptance {
                held_on: Some(c::civil(i.held_on)),
                panel: i.panel.iter().map(member).collect(),
                passed: i.passed,
                conclusion: i.conclusion.clone(),
                recorded_by: i.recorded_by.clone(),
                recorded_at: Some(c::timestamp(i.recorded_at)),
            })
            .collect(),
        trial: k.trial.as_ref().map(|t| pb::TrialOperation {
            started_on: Some(c::civil(t.started_on)),
            completes_on: Some(c::civil(t.completes_on)),
            report_document_id: t.report_document_id.map(|d| d.to_string()).unwrap_or_default(),
            report_source: t.report_source.map(ProtoEnum::to_proto).unwrap_or(0),
        }),
        applications: k
            .applications
            .iter()
            .map(|a| pb::AcceptanceApplication {
                attempt: a.attempt as i32,
                applied_on: Some(c::civil(a.applied_on)),
                built_modules: a.built_modules.clone(),
                statement: a.statement.clone(),
                checks: a
                    .checks
                    .iter()
                    .map(|x| pb::ApplicationCheck { item: x.item.clone(), satisfied: x.satisfied, detail: x.detail.clone() })
                    .collect(),
                reviewed: a.reviewed,
                approved: a.approved,
                review_reasons: a.review_reasons.clone(),
                reviewed_by: a.reviewed_by.clone(),
            })
            .collect(),
        acceptances: k
            .acceptances
            .iter()
            .map(|a| pb::AcceptanceRecord {
                held_on: Some(c::civil(a.held_on)),
                organiser: a.organiser.as_str().to_string(),
                drb_joined: a.drb_joined,
                experts: a.experts.iter().map(member).collect(),
                passed: a.passed,
                conclusion: a.conclusion.clone(),
                costs_fen: a.costs.get(),
                recorded_by: a.recorded_by.clone(),
            })
            .collect(),
        rectify_by: k.rectify_by.map(c::civil),
        accepted_on: k.accepted_on.map(c::civil),
        closed_reason: k.closed_reason.clone(),
        policy_version: k.policy_version.clone(),
        etag: k.version.to_string(),
        opened_at: Some(c::timestamp(k.opened_at)),
        materials: k.materials.iter().map(|m| material(k.project_id, m)).collect(),
        category: k.category.clone(),
        function_modules: k.function_modules.clone(),
        operator_unit_id: k.parties.operator_unit_id.clone(),
        user_unit_ids: k.parties.user_unit_ids.clone(),
    }
}

/// The download stream: the material's metadata, then its content in chunks.
pub fn download(project_id: uuid::Uuid, m: &Material, content: &bytes::Bytes) -> Vec<Result<pb::DownloadMaterialResponse, tonic::Status>> {
    use pb::download_material_response::Part;
    std::iter::once(Part::Material(material(project_id, m)))
        .chain(documents::download_chunks(content).into_iter().map(|b| Part::Chunk(b.to_vec())))
        .map(|part| Ok(pb::DownloadMaterialResponse { part: Some(part) }))
        .collect()
}

pub fn state_filter(raw: i32) -> Result<Option<CaseState>, AppError> {
    Ok(CaseState::from_proto("state", raw)?)
}
