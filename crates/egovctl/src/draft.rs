//! The application draft as a JSON file (`--draft draft.json`), mapped by hand to
//! `egov.intake.v1.ApplicationDraft`. Enum values are names (`"BUSINESS_APPLICATION"` or the full
//! `"PROJECT_CATEGORY_BUSINESS_APPLICATION"`), money is integer fen (`amount_fen`), unknown keys
//! are refused so a typo never silently drops a field. The reverse mapping turns an application
//! back into an editable draft file (`applications get --as-draft`).

use egov_proto::intake::{
    Application, ApplicationDraft, BudgetLine, BuildType, ContentKind, CostCategory, FastTrackGround, FunctionModule, FundingSource,
    NecessityStatement, ProjectCategory, Terminal,
};
use serde::{Deserialize, Serialize};

use crate::{
    enums,
    input::{self, InputError, Mapper},
};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftJson {
    /// Free text for people reading the file; ignored.
    #[serde(rename = "_comment", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<serde_json::Value>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participating_unit_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_type: Option<String>,
    #[serde(default)]
    pub xinchuang_retrofit: bool,
    #[serde(default)]
    pub classified: bool,
    #[serde(default)]
    pub content_kinds: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub upgrade_of_app_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funding_source: Option<String>,
    #[serde(default)]
    pub fast_track_grounds: Vec<String>,
    #[serde(default)]
    pub reaches_streets: bool,
    #[serde(default)]
    pub adds_login_entry: bool,
    #[serde(default)]
    pub planned_construction_months: i32,
    #[serde(default)]
    pub necessity: NecessityJson,
    #[serde(default)]
    pub modules: Vec<ModuleJson>,
    #[serde(default)]
    pub budget: Vec<BudgetLineJson>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NecessityJson {
    #[serde(default)]
    pub core_business: String,
    #[serde(default)]
    pub one_platform_path: String,
    #[serde(default)]
    pub relations_with_other_units: String,
    #[serde(default)]
    pub existing_systems_and_plans: String,
    #[serde(default)]
    pub terminals: Vec<String>,
    #[serde(default)]
    pub uses_public_data_platform: bool,
    #[serde(default)]
    pub function_module_of_existing_platform: bool,
    #[serde(default)]
    pub retired_systems: Vec<String>,
    #[serde(default)]
    pub central_functions_extended: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleJson {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetLineJson {
    /// A module's name; empty for project-wide costs.
    #[serde(default)]
    pub module: String,
    pub category: String,
    /// Integer fen (分): 1 yuan = 100 fen. Never a floating-point number.
    pub amount_fen: i64,
    #[serde(default)]
    pub rationale: String,
}

impl DraftJson {
    /// Parses a draft file's text; serde's message carries line and column.
    pub fn parse(text: &str) -> Result<DraftJson, InputError> {
        input::parse("draft", text)
    }

    /// Maps to the proto draft; every unknown enum name is reported with its field.
    pub fn to_proto(&self) -> Result<ApplicationDraft, InputError> {
        let mut m = Mapper::new("draft");
        let n = &self.necessity;
        let draft = ApplicationDraft {
            participating_unit_ids: self.participating_unit_ids.clone(),
            name: self.name.clone(),
            category: m.optional("category", &self.category, ProjectCategory::Unspecified),
            build_type: m.optional("build_type", &self.build_type, BuildType::Unspecified),
            xinchuang_retrofit: self.xinchuang_retrofit,
            classified: self.classified,
            content_kinds: m.many::<ContentKind>("content_kinds", &self.content_kinds),
            upgrade_of_app_id: self.upgrade_of_app_id.clone(),
            funding_source: m.optional("funding_source", &self.funding_source, FundingSource::Unspecified),
            fast_track_grounds: m.many::<FastTrackGround>("fast_track_grounds", &self.fast_track_grounds),
            reaches_streets: self.reaches_streets,
            adds_login_entry: self.adds_login_entry,
            planned_construction_months: self.planned_construction_months,
            necessity: Some(NecessityStatement {
                core_business: n.core_business.clone(),
                one_platform_path: n.one_platform_path.clone(),
                relations_with_other_units: n.relations_with_other_units.clone(),
                existing_systems_and_plans: n.existing_systems_and_plans.clone(),
                terminals: m.many::<Terminal>("necessity.terminals", &n.terminals),
                uses_public_data_platform: n.uses_public_data_platform,
                function_module_of_existing_platform: n.function_module_of_existing_platform,
                retired_systems: n.retired_systems.clone(),
                central_functions_extended: n.central_functions_extended.clone(),
            }),
            modules: self.modules.iter().map(|x| FunctionModule { name: x.name.clone(), description: x.description.clone() }).collect(),
            budget: self
                .budget
                .iter()
                .enumerate()
                .map(|(i, l)| BudgetLine {
                    module: l.module.clone(),
                    category: m.value::<CostCategory>(&format!("budget[{i}].category"), &l.category),
                    amount_fen: l.amount_fen,
                    rationale: l.rationale.clone(),
                })
                .collect(),
        };
        m.finish(draft)
    }

    /// The editable part of an application, as a draft file (short enum names).
    pub fn from_application(a: &Application) -> DraftJson {
        let named = |v: i32, f: fn(i32) -> String| (v != 0).then(|| f(v));
        let n = a.necessity.clone().unwrap_or_default();
        DraftJson {
            comment: None,
            name: a.name.clone(),
            participating_unit_ids: a.participating_unit_ids.clone(),
            category: named(a.category, enums::short::<ProjectCategory>),
            build_type: named(a.build_type, enums::short::<BuildType>),
            xinchuang_retrofit: a.xinchuang_retrofit,
            classified: a.classified,
            content_kinds: a.content_kinds.iter().map(|&k| enums::short::<ContentKind>(k)).collect(),
            upgrade_of_app_id: a.upgrade_of_app_id.clone(),
            funding_source: named(a.funding_source, enums::short::<FundingSource>),
            fast_track_grounds: a.fast_track_grounds.iter().map(|&g| enums::short::<FastTrackGround>(g)).collect(),
            reaches_streets: a.reaches_streets,
            adds_login_entry: a.adds_login_entry,
            planned_construction_months: a.planned_construction_months,
            necessity: NecessityJson {
                core_business: n.core_business,
                one_platform_path: n.one_platform_path,
                relations_with_other_units: n.relations_with_other_units,
                existing_systems_and_plans: n.existing_systems_and_plans,
                terminals: n.terminals.iter().map(|&t| enums::short::<Terminal>(t)).collect(),
                uses_public_data_platform: n.uses_public_data_platform,
                function_module_of_existing_platform: n.function_module_of_existing_platform,
                retired_systems: n.retired_systems,
                central_functions_extended: n.central_functions_extended,
            },
            modules: a.modules.iter().map(|x| ModuleJson { name: x.name.clone(), description: x.description.clone() }).collect(),
            budget: a
                .budget
                .iter()
                .map(|l| BudgetLineJson {
                    module: l.module.clone(),
                    category: enums::short::<CostCategory>(l.category),
                    amount_fen: l.amount_fen,
                    rationale: l.rationale.clone(),
                })
                .collect(),
        }
    }
}

/// Reads a draft file (`-` for standard input) and maps it.
pub fn load(path: &str) -> Result<ApplicationDraft, InputError> {
    input::load(path, "draft file", DraftJson::parse)?.to_proto()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../deploy/local/sample-draft.json");
    const SAMPLE_FAST_TRACK: &str = include_str!("../../../deploy/local/sample-draft-fast-track.json");

    #[test]
    fn sample_draft_maps() {
        let d = DraftJson::parse(SAMPLE).unwrap().to_proto().unwrap();
        assert_eq!(d.category, ProjectCategory::BusinessApplication as i32);
        assert_eq!(d.build_type, BuildType::New as i32);
        assert_eq!(d.funding_source, FundingSource::DistrictFiscal as i32);
        assert!(!d.reaches_streets);
        let n = d.necessity.as_ref().unwrap();
        assert_eq!(n.terminals, vec![Terminal::Zhezhengding as i32]);
        for text in [&n.core_business, &n.one_platform_path, &n.relations_with_other_units, &n.existing_systems_and_plans] {
            assert!(!text.trim().is_empty());
        }
        assert_eq!(d.modules.len(), 2);
        // About 1,200,000.00 yuan, at least 5 % of it network and data security (R-I12).
        let total: i64 = d.budget.iter().map(|l| l.amount_fen).sum();
        assert_eq!(total, 120_000_000);
        let security: i64 = d.budget.iter().filter(|l| l.category == CostCategory::Security as i32).map(|l| l.amount_fen).sum();
        assert!(security * 100 >= total * 5, "security {security} of {total}");
        // Every line's module is one of the draft's modules or empty (project-wide).
        for l in &d.budget {
            assert!(l.module.is_empty() || d.modules.iter().any(|m| m.name == l.module), "{}", l.module);
            assert!(!l.rationale.trim().is_empty());
        }
    }

    #[test]
    fn fast_track_sample_draft_maps() {
        let d = DraftJson::parse(SAMPLE_FAST_TRACK).unwrap().to_proto().unwrap();
        // R-R5: wholly outside district fiscal money is a fast-track ground (intake checks it).
        assert_eq!(d.funding_source, FundingSource::SuperiorTransfer as i32);
        assert_eq!(d.fast_track_grounds, vec![FastTrackGround::NonDistrictFunding as i32]);
        let total: i64 = d.budget.iter().map(|l| l.amount_fen).sum();
        assert_eq!(total, 50_000_000);
        let security: i64 = d.budget.iter().filter(|l| l.category == CostCategory::Security as i32).map(|l| l.amount_fen).sum();
        assert!(security * 100 >= total * 5, "security {security} of {total}");
        for l in &d.budget {
            assert!(l.module.is_empty() || d.modules.iter().any(|m| m.name == l.module), "{}", l.module);
        }
    }

    #[test]
    fn unknown_enum_names_the_field() {
        let mut j = DraftJson::parse(SAMPLE).unwrap();
        j.category = Some("GAME".into());
        j.budget[1].category = "SNACKS".into();
        j.necessity.terminals = vec!["ZHEZHENGDING".into(), "WECHAT".into()];
        let e = j.to_proto().unwrap_err();
        let fields: Vec<&str> = e.problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vec!["draft.category", "draft.necessity.terminals[1]", "draft.budget[1].category"]);
        let text = e.to_string();
        assert!(text.contains("draft.category: unknown value \"GAME\"; expected one of INFRASTRUCTURE"), "{text}");
        assert!(text.contains("BUSINESS_APPLICATION"), "{text}");
    }

    #[test]
    fn full_names_and_lower_case_are_accepted() {
        let mut j = DraftJson::parse(SAMPLE).unwrap();
        j.category = Some("PROJECT_CATEGORY_BUSINESS_APPLICATION".into());
        j.build_type = Some("new".into());
        assert_eq!(j.to_proto().unwrap().category, ProjectCategory::BusinessApplication as i32);
    }

    #[test]
    fn malformed_files_are_refused_with_position() {
        let typo = SAMPLE.replacen("\"name\"", "\"nmae\"", 1);
        let e = DraftJson::parse(&typo).unwrap_err().to_string();
        assert!(e.contains("unknown field `nmae`") && e.contains("line"), "{e}");
        let float = r#"{"name":"x","budget":[{"category":"SECURITY","amount_fen":1.5}]}"#;
        let e = DraftJson::parse(float).unwrap_err().to_string();
        assert!(e.contains("invalid type: floating point"), "{e}");
        assert!(DraftJson::parse("[").is_err());
    }

    #[test]
    fn application_round_trips_to_the_same_draft() {
        let proto = DraftJson::parse(SAMPLE).unwrap().to_proto().unwrap();
        let app = Application {
            name: proto.name.clone(),
            participating_unit_ids: proto.participating_unit_ids.clone(),
            category: proto.category,
            build_type: proto.build_type,
            xinchuang_retrofit: proto.xinchuang_retrofit,
            classified: proto.classified,
            content_kinds: proto.content_kinds.clone(),
            upgrade_of_app_id: proto.upgrade_of_app_id.clone(),
            funding_source: proto.funding_source,
            fast_track_grounds: proto.fast_track_grounds.clone(),
            reaches_streets: proto.reaches_streets,
            adds_login_entry: proto.adds_login_entry,
            planned_construction_months: proto.planned_construction_months,
            necessity: proto.necessity.clone(),
            modules: proto.modules.clone(),
            budget: proto.budget.clone(),
            ..Default::default()
        };
        assert_eq!(DraftJson::from_application(&app).to_proto().unwrap(), proto);
    }
}
