//! The contract terms as a JSON file (`procurement file-contract --terms terms.json`), mapped by
//! hand to `egov.procurement.v1.ContractTerms`, the way `draft.rs` maps application drafts:
//! dates are `YYYY-MM-DD` strings, money is integer fen (`amount_fen`), the signed statements
//! are names (`SIGNED`, `NOT_SIGNED`, `NOT_STATED`, or the full `SIGNED_STATEMENT_SIGNED`), and
//! unknown keys are refused so a typo never silently drops a clause. A clause left out of the
//! file is sent as "the contract does not state it": the service then lists it among the R-P2
//! items missing, with every other one. The reverse mapping turns a filed contract back into a
//! terms file (`procurement cases get --as-terms`). `samples/contract-terms.json` is an example.

use egov_proto::{
    common::CivilDate,
    procurement::{ContractTerms, SignedStatement},
};
use serde::{Deserialize, Serialize};

use crate::{
    enums,
    input::{self, InputError, Mapper},
    render::date_text,
};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermsJson {
    /// Free text for people reading the file; ignored.
    #[serde(rename = "_comment", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<serde_json::Value>,
    /// 项目名称: equal to the approval document's (R-P5).
    #[serde(default)]
    pub project_name: String,
    /// First day of construction (建设周期), `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub construction_start: Option<String>,
    /// Last day of construction, included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub construction_end: Option<String>,
    /// Integer fen (分): 1 yuan = 100 fen. Never a floating-point number.
    #[serde(default)]
    pub amount_fen: i64,
    #[serde(default)]
    pub ip_owned_by_unit_or_joint: bool,
    #[serde(default)]
    pub data_owned_by_unit: bool,
    /// 安全保密补充协议: SIGNED, NOT_SIGNED or NOT_STATED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_agreement: Option<String>,
    /// 安全责任书: SIGNED, NOT_SIGNED or NOT_STATED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_responsibility_letter: Option<String>,
    #[serde(default)]
    pub maintenance_scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_end: Option<String>,
    #[serde(default)]
    pub maintenance_duty: String,
    #[serde(default)]
    pub security_duties_and_penalties: bool,
    #[serde(default)]
    pub overrun_penalty_clause: bool,
}

impl TermsJson {
    /// Parses a terms file's text; serde's message carries line and column.
    pub fn parse(text: &str) -> Result<TermsJson, InputError> {
        input::parse("terms", text)
    }

    /// Maps to the proto terms; every malformed date and unknown name is reported with its field.
    pub fn to_proto(&self) -> Result<ContractTerms, InputError> {
        let mut m = Mapper::new("terms");
        let terms = ContractTerms {
            project_name: self.project_name.clone(),
            construction_start: m.date("construction_start", &self.construction_start),
            construction_end: m.date("construction_end", &self.construction_end),
            amount_fen: self.amount_fen,
            ip_owned_by_unit_or_joint: self.ip_owned_by_unit_or_joint,
            data_owned_by_unit: self.data_owned_by_unit,
            security_agreement: m.optional("security_agreement", &self.security_agreement, SignedStatement::NotStated),
            security_responsibility_letter: m.optional(
                "security_responsibility_letter",
                &self.security_responsibility_letter,
                SignedStatement::NotStated,
            ),
            maintenance_scope: self.maintenance_scope.clone(),
            maintenance_start: m.date("maintenance_start", &self.maintenance_start),
            maintenance_end: m.date("maintenance_end", &self.maintenance_end),
            maintenance_duty: self.maintenance_duty.clone(),
            security_duties_and_penalties: self.security_duties_and_penalties,
            overrun_penalty_clause: self.overrun_penalty_clause,
        };
        m.finish(terms)
    }

    /// A filed contract's terms, as a terms file (short names, absent dates left out).
    pub fn from_proto(t: &ContractTerms) -> TermsJson {
        let date = |d: &Option<CivilDate>| d.as_ref().map(|_| date_text(d));
        let signed = |v: i32| (v != 0).then(|| enums::short::<SignedStatement>(v));
        TermsJson {
            comment: None,
            project_name: t.project_name.clone(),
            construction_start: date(&t.construction_start),
            construction_end: date(&t.construction_end),
            amount_fen: t.amount_fen,
            ip_owned_by_unit_or_joint: t.ip_owned_by_unit_or_joint,
            data_owned_by_unit: t.data_owned_by_unit,
            security_agreement: signed(t.security_agreement),
            security_responsibility_letter: signed(t.security_responsibility_letter),
            maintenance_scope: t.maintenance_scope.clone(),
            maintenance_start: date(&t.maintenance_start),
            maintenance_end: date(&t.maintenance_end),
            maintenance_duty: t.maintenance_duty.clone(),
            security_duties_and_penalties: t.security_duties_and_penalties,
            overrun_penalty_clause: t.overrun_penalty_clause,
        }
    }
}

/// Reads a terms file (`-` for standard input) and maps it.
pub fn load(path: &str) -> Result<ContractTerms, InputError> {
    input::load(path, "terms file", TermsJson::parse)?.to_proto()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../samples/contract-terms.json");

    fn d(year: i32, month: i32, day: i32) -> Option<CivilDate> {
        Some(CivilDate { year, month, day })
    }

    #[test]
    fn sample_terms_map_with_every_r_p2_clause() {
        let t = TermsJson::parse(SAMPLE).unwrap().to_proto().unwrap();
        assert_eq!(t.project_name, "上城区社会救助综合服务应用（浙政钉端）");
        assert_eq!((t.construction_start, t.construction_end), (d(2027, 1, 1), d(2027, 10, 31)));
        assert_eq!(t.amount_fen, 97_200_000);
        assert!(t.ip_owned_by_unit_or_joint && t.data_owned_by_unit);
        assert_eq!(t.security_agreement, SignedStatement::Signed as i32);
        assert_eq!(t.security_responsibility_letter, SignedStatement::Signed as i32);
        assert!(!t.maintenance_scope.trim().is_empty() && !t.maintenance_duty.trim().is_empty());
        assert_eq!((t.maintenance_start, t.maintenance_end), (d(2027, 11, 1), d(2029, 10, 31)));
        assert!(t.security_duties_and_penalties && t.overrun_penalty_clause);
    }

    #[test]
    fn clauses_left_out_are_sent_as_not_stated() {
        let t = TermsJson::parse(r#"{"project_name":"x","amount_fen":100}"#).unwrap().to_proto().unwrap();
        assert_eq!(t.security_agreement, SignedStatement::NotStated as i32);
        assert_eq!(t.security_responsibility_letter, SignedStatement::NotStated as i32);
        assert_eq!((t.construction_start, t.maintenance_end), (None, None));
        assert!(!t.ip_owned_by_unit_or_joint && !t.overrun_penalty_clause);
    }

    #[test]
    fn bad_dates_and_names_are_listed_with_their_fields() {
        let mut j = TermsJson::parse(SAMPLE).unwrap();
        j.construction_end = Some("2027-02-30".into());
        j.maintenance_start = Some("01/11/2027".into());
        j.security_agreement = Some("MAYBE".into());
        let e = j.to_proto().unwrap_err();
        let fields: Vec<&str> = e.problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vec!["terms.construction_end", "terms.security_agreement", "terms.maintenance_start"]);
        let text = e.to_string();
        assert!(
            text.contains("terms.security_agreement: unknown value \"MAYBE\"; expected one of NOT_STATED, SIGNED, NOT_SIGNED"),
            "{text}"
        );
        assert!(text.contains("is not a date like 2026-09-30"), "{text}");
    }

    #[test]
    fn malformed_files_are_refused_with_position() {
        let typo = SAMPLE.replacen("\"overrun_penalty_clause\"", "\"overrun_penalty\"", 1);
        let e = TermsJson::parse(&typo).unwrap_err().to_string();
        assert!(e.contains("unknown field `overrun_penalty`") && e.contains("line"), "{e}");
        let e = TermsJson::parse(r#"{"amount_fen": 9720000.5}"#).unwrap_err().to_string();
        assert!(e.contains("invalid type: floating point"), "{e}");
        assert!(TermsJson::parse("[").is_err());
        let e = load("/nonexistent/terms.json").unwrap_err().to_string();
        assert!(e.starts_with("/nonexistent/terms.json: cannot read the terms file"), "{e}");
    }

    #[test]
    fn filed_terms_round_trip_to_the_same_file() {
        let proto = TermsJson::parse(SAMPLE).unwrap().to_proto().unwrap();
        let back = TermsJson::from_proto(&proto);
        assert_eq!(back.to_proto().unwrap(), proto);
        assert_eq!(back.security_agreement.as_deref(), Some("SIGNED"));
        assert_eq!(back.construction_start.as_deref(), Some("2027-01-01"));
        let text = serde_json::to_string(&TermsJson::from_proto(&ContractTerms::default())).unwrap();
        assert!(!text.contains("construction_start") && !text.contains("security_agreement"), "{text}");
    }
}
