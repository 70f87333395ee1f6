//! A panel as a JSON file: the initial-acceptance panel (`acceptance initial-acceptance --panel`,
//! R-A1) and the acceptance's experts (`acceptance record-acceptance --experts`, R-A4), mapped by
//! hand to `egov.acceptance.v1.PanelMember`s the way `procurement/terms.rs` maps contract terms.
//!
//! `{"members": [{"name", "specialties", "affiliation", "affiliation_credit_code", "opinion",
//! "passes"}, ...]}`: specialties by name (`INFORMATION_TECHNOLOGY`, `CYBERSECURITY`,
//! `BUSINESS_DOMAIN`, the full `SPECIALTY_…` names, or the Chinese terms 信息技术, 网络安全,
//! 业务领域); `passes` is required, so a member left without a verdict is never sent as failing
//! the system; unknown keys are refused so a typo never drops what a member said. The panel's
//! rules (its size, an odd number, the specialties covered, nobody of the supplier or the
//! supervisor) are the service's: it names each member at fault. Samples:
//! `samples/initial-acceptance-panel.json`, `samples/acceptance-experts.json`.

use egov_proto::acceptance::{PanelMember, Specialty};
use serde::{Deserialize, Serialize};

use crate::input::{self, InputError, Mapper};

/// The specialties' Chinese terms, as the Measures name them.
pub const SPECIALTIES: [(Specialty, &str); 3] =
    [(Specialty::InformationTechnology, "信息技术"), (Specialty::Cybersecurity, "网络安全"), (Specialty::BusinessDomain, "业务领域")];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelJson {
    /// Free text for people reading the file; ignored.
    #[serde(rename = "_comment", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<serde_json::Value>,
    pub members: Vec<MemberJson>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberJson {
    #[serde(default)]
    pub name: String,
    /// By name or Chinese term; at least one each for the panel to cover IT, cybersecurity and
    /// the business domain (R-A1).
    #[serde(default)]
    pub specialties: Vec<String>,
    /// The member's employer (工作单位).
    #[serde(default)]
    pub affiliation: String,
    /// The employer's unified social credit code, when it has one.
    #[serde(default)]
    pub affiliation_credit_code: String,
    /// The member's own opinion (专家意见).
    #[serde(default)]
    pub opinion: String,
    /// Whether the member passes the system.
    pub passes: bool,
}

impl PanelJson {
    /// Parses a panel file's text under `root` (`panel`, `experts`); serde's message carries line
    /// and column.
    pub fn parse(root: &str, text: &str) -> Result<PanelJson, InputError> {
        input::parse(root, text)
    }

    /// Maps to the proto members; every unknown specialty is reported with its field
    /// (`panel.members[1].specialties[0]`).
    pub fn to_proto(&self, root: &'static str) -> Result<Vec<PanelMember>, InputError> {
        let mut m = Mapper::new(root);
        let members = self
            .members
            .iter()
            .enumerate()
            .map(|(i, x)| PanelMember {
                name: x.name.clone(),
                specialties: x
                    .specialties
                    .iter()
                    .enumerate()
                    .map(|(j, s)| match SPECIALTIES.iter().find(|(_, zh)| *zh == s.trim()) {
                        Some((sp, _)) => *sp as i32,
                        None => m.value::<Specialty>(&format!("members[{i}].specialties[{j}]"), s),
                    })
                    .collect(),
                affiliation: x.affiliation.clone(),
                affiliation_credit_code: x.affiliation_credit_code.clone(),
                opinion: x.opinion.clone(),
                passes: x.passes,
            })
            .collect();
        m.finish(members)
    }
}

/// Reads a panel file (`-` for standard input) and maps it; `root` names it in the problems.
pub fn load(path: &str, root: &'static str) -> Result<Vec<PanelMember>, InputError> {
    input::load(path, "panel file", |t| PanelJson::parse(root, t))?.to_proto(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PANEL: &str = include_str!("../../samples/initial-acceptance-panel.json");
    const EXPERTS: &str = include_str!("../../samples/acceptance-experts.json");

    fn specialties(m: &PanelMember) -> Vec<Specialty> {
        m.specialties.iter().map(|&s| Specialty::try_from(s).unwrap()).collect()
    }

    #[test]
    fn the_sample_panel_covers_the_three_specialties_with_opinions() {
        let panel = PanelJson::parse("panel", PANEL).unwrap().to_proto("panel").unwrap();
        assert_eq!(panel.len(), 5, "an odd panel of at least the policy's count");
        for sp in [Specialty::InformationTechnology, Specialty::Cybersecurity, Specialty::BusinessDomain] {
            assert!(panel.iter().any(|m| specialties(m).contains(&sp)), "{sp:?} is covered");
        }
        assert!(panel.iter().all(|m| !m.name.is_empty() && !m.opinion.is_empty() && !m.affiliation.is_empty()));
        assert!(panel.iter().filter(|m| m.passes).count() * 2 > panel.len(), "the sample passes");
        assert_eq!(panel[0].name, "陈立新");
        let experts = PanelJson::parse("experts", EXPERTS).unwrap().to_proto("experts").unwrap();
        assert_eq!(experts.len() % 2, 1);
        assert!(experts.iter().all(|m| m.passes && !m.specialties.is_empty()));
    }

    #[test]
    fn specialties_go_by_name_or_chinese_term() {
        let p = PanelJson::parse(
            "panel",
            r#"{"members":[{"name":"甲","specialties":["信息技术","cybersecurity","SPECIALTY_BUSINESS_DOMAIN"],"passes":false}]}"#,
        )
        .unwrap()
        .to_proto("panel")
        .unwrap();
        assert_eq!(specialties(&p[0]), vec![Specialty::InformationTechnology, Specialty::Cybersecurity, Specialty::BusinessDomain]);
        assert!(!p[0].passes);
    }

    #[test]
    fn unknown_specialties_are_listed_with_their_fields() {
        let e = PanelJson::parse(
            "experts",
            r#"{"members":[{"name":"甲","specialties":["LAW"],"passes":true},{"name":"乙","specialties":["网络安全","财务"],"passes":true}]}"#,
        )
        .unwrap()
        .to_proto("experts")
        .unwrap_err();
        let fields: Vec<&str> = e.problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vec!["experts.members[0].specialties[0]", "experts.members[1].specialties[1]"]);
        assert!(e.to_string().contains("expected one of INFORMATION_TECHNOLOGY, CYBERSECURITY, BUSINESS_DOMAIN"), "{e}");
    }

    #[test]
    fn malformed_files_are_refused_with_position() {
        let e = PanelJson::parse("panel", r#"{"members":[{"name":"甲","specialties":[]}]}"#).unwrap_err().to_string();
        assert!(e.contains("missing field `passes`"), "a verdict is never assumed: {e}");
        let e = PanelJson::parse("panel", r#"{"members":[{"name":"甲","passes":true,"employer":"x"}]}"#).unwrap_err().to_string();
        assert!(e.contains("unknown field `employer`") && e.contains("line"), "{e}");
        assert!(PanelJson::parse("panel", "{}").unwrap_err().to_string().contains("missing field `members`"));
        let e = load("/nonexistent/panel.json", "panel").unwrap_err().to_string();
        assert!(e.starts_with("/nonexistent/panel.json: cannot read the panel file"), "{e}");
    }
}
