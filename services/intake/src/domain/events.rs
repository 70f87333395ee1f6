//! The events intake publishes: their types (routing keys) and the payloads its transitions
//! decide. Pure values; the platform's commit puts them in the outbox.

use egov_proto::events::{self as ev, event_envelope::Payload};

use super::model::{Application, Penalty};

/// Routing keys of the events intake publishes (it consumes every event: the timeline).
pub mod types {
    pub const ROUND_OPENED: &str = "intake.round.opened";
    pub const ROUND_CLOSED: &str = "intake.round.closed";
    pub const APPLICATION_CREATED: &str = "intake.application.created";
    pub const SUPPLEMENTARY_REQUESTED: &str = "intake.application.supplementary_requested";
    pub const SUPPLEMENTARY_DECIDED: &str = "intake.application.supplementary_decided";
    pub const LEADER_CONSENT_RECORDED: &str = "intake.application.leader_consent_recorded";
    pub const SUBMITTED: &str = "intake.application.submitted";
    pub const COMPLIANCE_FAILED: &str = "intake.application.compliance_failed";
    pub const RE_REVIEW_REQUESTED: &str = "intake.application.re_review_requested";
    /// Review opens the preliminary review from this event alone.
    pub const COMPLIANCE_PASSED: &str = "intake.application.compliance_passed";
    pub const ENDED: &str = "intake.application.ended";
    pub const PENALTY_RECORDED: &str = "intake.unit.penalty_recorded";
}

/// The dossier summary review needs, carried by the compliance-passed event.
pub fn compliance_passed(
    a: &Application,
    streets: Vec<String>,
    document_ids: Vec<String>,
    target_year: i32,
    record: &[Penalty],
) -> Payload {
    let d = &a.draft;
    let mut by_category: std::collections::BTreeMap<&str, i64> = Default::default();
    for l in &d.budget {
        *by_category.entry(l.category.as_str()).or_default() += l.amount.get();
    }
    Payload::CompliancePassed(ev::CompliancePassed {
        application_id: a.application_id.to_string(),
        project_name: d.name.clone(),
        lead_unit_id: a.lead_unit_id.clone(),
        participating_unit_ids: d.participating_unit_ids.clone(),
        category: d.category.map(|c| c.as_str().to_string()).unwrap_or_default(),
        build_type: d.build_type.map(|c| c.as_str().to_string()).unwrap_or_default(),
        xinchuang_retrofit: d.xinchuang_retrofit,
        total_budget_fen: a.totals.total.get(),
        security_budget_fen: a.totals.security.get(),
        security_share_bp: a.totals.security_share_bp(),
        funding_source: d.funding_source.map(|c| c.as_str().to_string()).unwrap_or_default(),
        fast_track_grounds: d.fast_track_grounds.iter().map(|g| g.as_str().to_string()).collect(),
        reaches_streets: d.reaches_streets,
        streets_reached: streets,
        planned_construction_months: d.planned_construction_months as i32,
        function_modules: d.modules.iter().map(|m| m.name.clone()).collect(),
        budget_by_category: by_category.into_iter().map(|(c, f)| ev::BudgetShare { category: c.to_string(), amount_fen: f }).collect(),
        review_flags: a.flags.iter().map(|f| format!("{} {}: {}", f.rule_id, f.code, f.message)).collect(),
        document_ids,
        round_id: a.round_id.map(|r| r.to_string()).unwrap_or_default(),
        target_year,
        unit_record: record
            .iter()
            .map(|p| ev::UnitRecordEntry {
                kind: p.kind.as_str().to_string(),
                reason: p.reason.clone(),
                ineligible_year: p.ineligible_year.unwrap_or(0),
                project_id: p.project_id.clone(),
            })
            .collect(),
    })
}

pub fn ended(a: &Application, reason: &str, rule_ids: &[&str]) -> Payload {
    Payload::ApplicationEnded(ev::ApplicationEnded {
        application_id: a.application_id.to_string(),
        reason: reason.to_string(),
        rule_ids: rule_ids.iter().map(|s| s.to_string()).collect(),
    })
}

pub fn status_changed(status: &str, summary: impl Into<String>) -> Payload {
    Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: status.to_string(), summary: summary.into() })
}
