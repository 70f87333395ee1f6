//! R-A1 panels (初验专家组): at least the policy's count, an odd number, covering information
//! technology, cybersecurity and the business domain, nobody affiliated with the supplier or the
//! supervisor, every member's opinion recorded. The panel's majority is its result.
//!
//! The Measures (第九章): "项目建设单位组织不少于3人（单数）的专家组开展初验，专家组须包括信息技术、网络安全、
//! 业务领域专家". Reading: an expert employed by the supplier (承建单位) or the supervision company (监
//! 理单位) is not independent; a member is affiliated when the credit code of the employer equals
//! theirs, or, when no code is given, when the employer's name equals the supplier's.

use std::collections::BTreeSet;

use egov_platform::error::{FieldViolation, Refusal, RuleViolation};

use super::model::{Handover, PanelMember, Specialty};

/// Field problems of a list of members (`field` is how the request names the list): a name and
/// an opinion each, names not repeated.
pub fn member_fields(field: &str, members: &[PanelMember]) -> Vec<FieldViolation> {
    let mut v = Vec::new();
    let mut names = BTreeSet::new();
    for (i, m) in members.iter().enumerate() {
        if m.name.trim().is_empty() {
            v.push(FieldViolation::new(format!("{field}[{i}].name"), "required"));
        } else if !names.insert(m.name.trim()) {
            v.push(FieldViolation::new(format!("{field}[{i}].name"), "listed twice"));
        }
        if m.opinion.trim().is_empty() {
            v.push(FieldViolation::new(format!("{field}[{i}].opinion"), "each member's own opinion is recorded (专家意见)"));
        }
        if m.affiliation.trim().is_empty() {
            v.push(FieldViolation::new(format!("{field}[{i}].affiliation"), "the member's employer (工作单位) is required"));
        }
    }
    v
}

/// Whether `m` works for the supplier or the supervisor named in the handover.
pub fn affiliated(m: &PanelMember, h: &Handover) -> Option<&'static str> {
    let code = normalise(&m.affiliation_credit_code);
    let same_code = |other: &str| !code.is_empty() && code == normalise(other);
    if same_code(&h.supplier_credit_code) || (code.is_empty() && m.affiliation.trim() == h.supplier_name.trim()) {
        return Some("the supplier (承建单位)");
    }
    if same_code(&h.supervision_credit_code) {
        return Some("the supervisor (监理单位)");
    }
    None
}

fn normalise(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// Checks an initial-acceptance panel against R-A1; field problems first, then every rule
/// problem at once.
pub fn check(panel: &[PanelMember], h: &Handover, min_panel: u32) -> Result<(), Refusal> {
    let fields = member_fields("panel", panel);
    if !fields.is_empty() {
        return Err(Refusal::Fields(fields));
    }
    let mut v = Vec::new();
    let n = panel.len();
    if (n as u64) < u64::from(min_panel) {
        v.push(RuleViolation::new(
            "R-A1",
            "panel",
            format!("the initial-acceptance panel has {n} member(s); it needs at least {min_panel} (不少于{min_panel}人)"),
        ));
    }
    if n.is_multiple_of(2) {
        v.push(RuleViolation::new("R-A1", "panel", format!("the panel has {n} members; it must be an odd number (单数)")));
    }
    let covered: BTreeSet<Specialty> = panel.iter().flat_map(|m| m.specialties.iter().copied()).collect();
    let missing: Vec<&str> = Specialty::ALL.iter().filter(|s| !covered.contains(s)).map(|s| s.chinese()).collect();
    if !missing.is_empty() {
        v.push(RuleViolation::new(
            "R-A1",
            "panel",
            format!(
                "the panel covers information technology, cybersecurity and the business domain; it has no {} expert",
                missing.join("、")
            ),
        ));
    }
    for (i, m) in panel.iter().enumerate() {
        if let Some(whom) = affiliated(m, h) {
            v.push(RuleViolation::new(
                "R-A1",
                format!("panel[{i}]"),
                format!("{} works for {whom} ({}): the panel is independent of the builders", m.name.trim(), m.affiliation.trim()),
            ));
        }
    }
    if v.is_empty() { Ok(()) } else { Err(Refusal::Rules(v)) }
}

/// The panel's result: a majority of its members passes the system (an even panel that splits
/// does not pass).
pub fn majority_passes(members: &[PanelMember]) -> bool {
    let yes = members.iter().filter(|m| m.passes).count();
    yes * 2 > members.len()
}
