//! The evaluation commands' JSON input files, mapped by hand to their protos the way
//! `acceptance/panel.rs` maps a panel: unknown keys are refused so a typo never drops a value,
//! names go by short name, full name or Chinese term, and every problem names its field.
//!
//! - the catalogue entry (`evaluation entries register --entry`, R-E1) → `NewEntry`: `kind`
//!   (`APPLICATION` 应用, `DATA` 数据, `CLOUD` 云资源, `COMPONENT` 组件), `name`, `description`,
//!   `builder_unit_id` (谁建设), `operator_unit_id` (谁运行), `user_unit_ids` (谁使用),
//!   `project_id`, `app_id`, `functions` (`{name, description}` each). Sample:
//!   `samples/catalogue-entry.json`.
//! - the modules to screen (`evaluation screen --modules`, R-I9) → `ModuleToScreen`s:
//!   `{"modules": [{name, description}, ...]}`. Sample: `samples/screening-modules.json`.
//! - the indicator scores (`evaluation record-scores --scores`, R-E2) → `IndicatorScore`s:
//!   `{"scores": [{indicator, score, comment}, ...]}`; `score` is a whole number of points 0 to
//!   100, required, so an indicator is never sent unscored. Samples:
//!   `samples/evaluation-scores-drb.json` (DRB's indicators) and
//!   `samples/evaluation-scores-finance.json` (FINANCE's).
//!
//! Which indicators exist, who scores which, and the catalogue's rules are the service's: it
//! names each one at fault.

use egov_proto::evaluation::{EntryKind, FunctionModule, IndicatorScore, ModuleToScreen, NewEntry};
use serde::{Deserialize, Serialize};

use crate::input::{self, InputError, Mapper};

/// The entry kinds' Chinese terms (编目 may be left off).
pub const KINDS: [(EntryKind, &str); 4] =
    [(EntryKind::Application, "应用"), (EntryKind::Data, "数据"), (EntryKind::Cloud, "云资源"), (EntryKind::Component, "组件")];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionJson {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryJson {
    /// Free text for people reading the file; ignored.
    #[serde(rename = "_comment", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<serde_json::Value>,
    /// By name or Chinese term (数据, 数据编目); required.
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub builder_unit_id: String,
    #[serde(default)]
    pub operator_unit_id: String,
    #[serde(default)]
    pub user_unit_ids: Vec<String>,
    #[serde(default)]
    pub project_id: String,
    #[serde(default)]
    pub app_id: String,
    #[serde(default)]
    pub functions: Vec<FunctionJson>,
}

impl EntryJson {
    pub fn to_proto(&self) -> Result<NewEntry, InputError> {
        let mut m = Mapper::new("entry");
        let t = self.kind.trim();
        let kind = match KINDS.iter().find(|(_, zh)| t == *zh || t.strip_suffix("编目") == Some(zh)) {
            Some((k, _)) => *k as i32,
            None => m.value::<EntryKind>("kind", t),
        };
        let entry = NewEntry {
            kind,
            name: self.name.clone(),
            description: self.description.clone(),
            builder_unit_id: self.builder_unit_id.clone(),
            operator_unit_id: self.operator_unit_id.clone(),
            user_unit_ids: self.user_unit_ids.clone(),
            project_id: self.project_id.clone(),
            app_id: self.app_id.clone(),
            functions: self.functions.iter().map(|f| FunctionModule { name: f.name.clone(), description: f.description.clone() }).collect(),
        };
        m.finish(entry)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModulesJson {
    #[serde(rename = "_comment", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<serde_json::Value>,
    pub modules: Vec<FunctionJson>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreJson {
    /// The indicator's code (USAGE, COST …) as the indicator system names it.
    #[serde(default)]
    pub indicator: String,
    /// Whole points, 0 to 100.
    pub score: i64,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoresJson {
    #[serde(rename = "_comment", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<serde_json::Value>,
    pub scores: Vec<ScoreJson>,
}

/// Points out of 0..=100, or what is wrong with them.
pub fn points(score: i64) -> Result<i32, String> {
    i32::try_from(score)
        .ok()
        .filter(|s| (0..=100).contains(s))
        .ok_or_else(|| format!("{score} is not a whole number of points from 0 to 100"))
}

impl ScoresJson {
    /// The scores; each out of range, or indicator named twice, is reported with its field
    /// (`scores.scores[1].score`).
    pub fn to_proto(&self) -> Result<Vec<IndicatorScore>, InputError> {
        let mut problems = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let scores = self
            .scores
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let score = points(s.score).unwrap_or_else(|e| {
                    problems.push((format!("scores.scores[{i}].score"), e));
                    0
                });
                if !seen.insert(s.indicator.trim().to_string()) {
                    problems.push((format!("scores.scores[{i}].indicator"), format!("{:?} is scored twice", s.indicator)));
                }
                IndicatorScore { indicator: s.indicator.trim().to_string(), score, comment: s.comment.clone(), ..Default::default() }
            })
            .collect();
        if problems.is_empty() { Ok(scores) } else { Err(InputError { problems }) }
    }
}

/// Reads a catalogue entry file (`-` for standard input) and maps it.
pub fn load_entry(path: &str) -> Result<NewEntry, InputError> {
    input::load(path, "entry file", |t| input::parse::<EntryJson>("entry", t))?.to_proto()
}

/// Reads a modules file.
pub fn load_modules(path: &str) -> Result<Vec<ModuleToScreen>, InputError> {
    let m = input::load(path, "modules file", |t| input::parse::<ModulesJson>("modules", t))?;
    Ok(m.modules.into_iter().map(|f| ModuleToScreen { name: f.name, description: f.description }).collect())
}

/// Reads a scores file and maps it.
pub fn load_scores(path: &str) -> Result<Vec<IndicatorScore>, InputError> {
    input::load(path, "scores file", |t| input::parse::<ScoresJson>("scores", t))?.to_proto()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = include_str!("../../samples/catalogue-entry.json");
    const MODULES: &str = include_str!("../../samples/screening-modules.json");
    const DRB: &str = include_str!("../../samples/evaluation-scores-drb.json");
    const FINANCE: &str = include_str!("../../samples/evaluation-scores-finance.json");
    const IMPORT: &str = include_str!("../../samples/catalogue-import.json");

    fn scores(text: &str) -> Vec<IndicatorScore> {
        input::parse::<ScoresJson>("scores", text).unwrap().to_proto().unwrap()
    }

    #[test]
    fn the_samples_map() {
        let e = input::parse::<EntryJson>("entry", ENTRY).unwrap().to_proto().unwrap();
        assert_eq!(e.kind, EntryKind::Data as i32);
        assert!(!e.name.is_empty() && !e.builder_unit_id.is_empty() && !e.user_unit_ids.is_empty());
        let m = input::parse::<ModulesJson>("modules", MODULES).unwrap();
        assert!(m.modules.len() >= 3 && m.modules.iter().all(|f| !f.name.is_empty() && !f.description.is_empty()));
        let codes = |v: &[IndicatorScore]| v.iter().map(|s| s.indicator.clone()).collect::<Vec<_>>();
        assert_eq!(codes(&scores(DRB)), vec!["USAGE", "EFFECT", "SHARING", "SECURITY"], "DRB's indicators of the policy");
        assert_eq!(codes(&scores(FINANCE)), vec!["COST"], "FINANCE's indicator of the policy");
        assert!(scores(DRB).iter().chain(&scores(FINANCE)).all(|s| !s.comment.is_empty()));
        // The import sample is what the service reads: an array of rows with the CSV's fields.
        let rows: Vec<serde_json::Value> = serde_json::from_str(IMPORT).unwrap();
        assert!(rows.len() >= 3);
        for r in &rows {
            for k in ["external_id", "name", "source", "builder_unit", "functions"] {
                assert!(r.get(k).is_some(), "{k} in {r}");
            }
        }
    }

    #[test]
    fn kinds_go_by_name_or_chinese_term() {
        for (raw, want) in [("数据", EntryKind::Data), ("云资源编目", EntryKind::Cloud), ("component", EntryKind::Component)] {
            let e = EntryJson { kind: raw.into(), ..Default::default() }.to_proto().unwrap();
            assert_eq!(e.kind, want as i32, "{raw}");
        }
        let e = EntryJson { kind: "表格".into(), ..Default::default() }.to_proto().unwrap_err();
        assert_eq!(e.problems[0].0, "entry.kind");
        assert!(e.to_string().contains("APPLICATION, DATA, CLOUD, COMPONENT"), "{e}");
    }

    #[test]
    fn scores_out_of_range_or_twice_name_their_field() {
        let e = input::parse::<ScoresJson>(
            "scores",
            r#"{"scores":[{"indicator":"USAGE","score":101},{"indicator":"USAGE","score":80},{"indicator":"COST","score":-1}]}"#,
        )
        .unwrap()
        .to_proto()
        .unwrap_err();
        let fields: Vec<&str> = e.problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vec!["scores.scores[0].score", "scores.scores[1].indicator", "scores.scores[2].score"]);
        let e = input::parse::<ScoresJson>("scores", r#"{"scores":[{"indicator":"USAGE"}]}"#).unwrap_err().to_string();
        assert!(e.contains("missing field `score`"), "a score is never assumed: {e}");
        let e = input::parse::<ScoresJson>("scores", r#"{"scores":[{"indicator":"USAGE","score":80,"note":"x"}]}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `note`"), "{e}");
        let e = load_scores("/nonexistent/scores.json").unwrap_err().to_string();
        assert!(e.starts_with("/nonexistent/scores.json: cannot read the scores file"), "{e}");
    }
}
