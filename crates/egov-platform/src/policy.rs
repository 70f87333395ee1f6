//! Versioned policy parameters (R-X4): every `[param]` of rules.md, loaded from the policy file
//! (or the copy compiled in), validated at start. A case pins the version in force when it
//! began; decisions record the version they applied.

use std::{collections::BTreeMap, path::Path, sync::Arc};

use serde::Deserialize;
use time::{Date, Month};

use crate::config::ConfigError;

/// The repository's policy file, compiled in as the default.
pub const DEFAULT_POLICY_TOML: &str = include_str!("../../../policy/egov-policy.toml");

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ChecklistItem {
    pub code: String,
    pub title: String,
}

/// One version of the policy.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Policy {
    pub version: String,
    #[serde(with = "iso_date")]
    pub effective_from: Date,
    #[serde(default)]
    pub source: String,
    /// "MM-DD" of year Y.
    pub round_deadline: String,
    pub min_street_reports: u32,
    pub early_stop_years: u32,
    pub recheck_request_days: u32,
    pub security_budget_ratio_bp: u32,
    pub duplicate_score: f64,
    pub partial_duplicate_score: f64,
    pub external_funding_validity_years: u32,
    pub change_filing_max_reduction_bp: u32,
    pub procurement_deadline_months: u32,
    pub min_maintenance_years: u32,
    pub filing_working_days: u32,
    pub progress_report_day: u32,
    pub min_initial_panel: u32,
    pub min_trial_days: u32,
    pub rectification_months: u32,
    pub sharing_rectification_months: u32,
    pub streets: Vec<String>,
    pub compliance_checklist: Vec<ChecklistItem>,
    /// R-R1: the preliminary scoring sheet (初审评分表), weights summing to 100.
    #[serde(default)]
    pub preliminary_scoring_sheet: Vec<ScoringCriterion>,
    /// R-R1: weighted score (0..100) from which an opinion is expected to pass (advisory).
    #[serde(default = "default_pass_score")]
    pub preliminary_pass_score: u32,
    /// Review tasks are due this many days after they open.
    #[serde(default = "default_task_days")]
    pub review_task_days: u32,
    /// A reminder goes out this many hours before a review task is due.
    #[serde(default = "default_reminder_hours")]
    pub review_reminder_hours: u32,
    /// R-E2 … R-E7: the evaluation service's parameters (indicator system, grades, schedules).
    pub evaluation: EvaluationPolicy,
}

/// R-E2 … R-E7: how running applications are evaluated and tracked. The indicator system is
/// versioned with the policy version that holds it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct EvaluationPolicy {
    /// R-E2: business applications are evaluated first: their first evaluation is due this many
    /// months after going live; other applications' after `first_evaluation_months_other`.
    pub first_evaluation_months_business: u32,
    pub first_evaluation_months_other: u32,
    /// R-E2: after a published evaluation the next is due this many months later.
    pub evaluation_interval_months: u32,
    /// R-E3: a grade below `passing_grade` must be rectified within this many months.
    pub rectification_months: u32,
    /// R-E3, R-I6: grades from this one up pass.
    pub passing_grade: String,
    /// R-E2, R-E4: grade bands, best first, with their funding recommendation.
    pub grades: Vec<GradeBand>,
    /// R-E2: weighted indicators (weights sum to 100), each scored by DRB or FINANCE.
    pub indicators: Vec<EvaluationIndicator>,
    /// R-E7: 等保 assessments are yearly from this classified-protection level up.
    pub classified_protection_min_level: u32,
    /// R-E7: assessments (等保, 密评) are due every this many months.
    pub assessment_interval_months: u32,
    /// R-E7: a reminder goes out this many days before an assessment is due.
    pub assessment_reminder_days: u32,
    /// R-I9: matches a screening returns per module by default and at most.
    pub screening_default_matches: u32,
    pub screening_max_matches: u32,
}

/// A grade of the evaluation and the weighted score (0 to 100) from which it is given.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct GradeBand {
    /// EXCELLENT, GOOD, PASS or FAIL.
    pub grade: String,
    pub min_score: u32,
    /// R-E4: the operation and maintenance funding recommendation for this grade.
    pub funding_recommendation: String,
    /// R-E4: the share of the requested O&M funding recommended, in basis points.
    pub funding_bp: u32,
}

/// A weighted indicator of the evaluation's indicator system.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct EvaluationIndicator {
    pub code: String,
    pub title: String,
    /// Percent; the weights sum to 100.
    pub weight: u32,
    /// DRB or FINANCE: who scores it.
    pub assessed_by: String,
}

impl EvaluationPolicy {
    fn validate(&self, key: impl Fn(&str) -> String) -> Result<(), ConfigError> {
        const GRADES: [&str; 4] = ["EXCELLENT", "GOOD", "PASS", "FAIL"];
        if self.indicators.is_empty() || self.indicators.iter().map(|i| i.weight).sum::<u32>() != 100 {
            return Err(ConfigError::new(key("evaluation.indicators"), "at least one indicator; weights must sum to 100"));
        }
        if let Some(i) = self.indicators.iter().find(|i| !matches!(i.assessed_by.as_str(), "DRB" | "FINANCE")) {
            return Err(ConfigError::new(key("evaluation.indicators"), format!("{}: assessed_by must be DRB or FINANCE", i.code)));
        }
        let mut codes: Vec<&str> = self.indicators.iter().map(|i| i.code.as_str()).collect();
        codes.sort_unstable();
        if codes.windows(2).any(|w| w[0] == w[1]) {
            return Err(ConfigError::new(key("evaluation.indicators"), "indicator codes must be distinct"));
        }
        let names: Vec<&str> = self.grades.iter().map(|g| g.grade.as_str()).collect();
        if names != GRADES {
            return Err(ConfigError::new(key("evaluation.grades"), "grades EXCELLENT, GOOD, PASS, FAIL in that order"));
        }
        if self.grades.windows(2).any(|w| w[0].min_score <= w[1].min_score)
            || self.grades.iter().any(|g| g.min_score > 100 || g.funding_bp > 10_000)
        {
            return Err(ConfigError::new(
                key("evaluation.grades"),
                "min_score falls strictly from grade to grade within 0..=100; funding_bp ≤ 10000",
            ));
        }
        if self.grades.last().map(|g| g.min_score) != Some(0) {
            return Err(ConfigError::new(key("evaluation.grades"), "the last grade (FAIL) starts at 0"));
        }
        if !GRADES[..3].contains(&self.passing_grade.as_str()) {
            return Err(ConfigError::new(key("evaluation.passing_grade"), "EXCELLENT, GOOD or PASS"));
        }
        let months = [
            self.first_evaluation_months_business,
            self.first_evaluation_months_other,
            self.evaluation_interval_months,
            self.rectification_months,
            self.assessment_interval_months,
        ];
        if months.contains(&0) {
            return Err(ConfigError::new(key("evaluation"), "every period in months must be at least 1"));
        }
        if self.first_evaluation_months_business > self.first_evaluation_months_other {
            return Err(ConfigError::new(
                key("evaluation.first_evaluation_months_business"),
                "business applications are evaluated first: at most first_evaluation_months_other",
            ));
        }
        if self.screening_default_matches == 0 || self.screening_default_matches > self.screening_max_matches {
            return Err(ConfigError::new(key("evaluation.screening_default_matches"), "1 ≤ default ≤ screening_max_matches"));
        }
        if self.classified_protection_min_level == 0 || self.classified_protection_min_level > 5 {
            return Err(ConfigError::new(key("evaluation.classified_protection_min_level"), "a level 1..=5"));
        }
        Ok(())
    }
}

fn default_pass_score() -> u32 {
    60
}
fn default_task_days() -> u32 {
    7
}
fn default_reminder_hours() -> u32 {
    24
}

/// A weighted criterion of the preliminary scoring sheet.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ScoringCriterion {
    pub code: String,
    pub title: String,
    /// Percent; a sheet's weights sum to 100.
    pub weight: u32,
}

impl Policy {
    /// The round deadline's month and day (R-I3).
    pub fn round_deadline_month_day(&self) -> (Month, u8) {
        parse_month_day(&self.round_deadline).unwrap_or((Month::September, 30))
    }

    /// The last day of submission of the round of `year` (for projects of `year + 1`).
    pub fn round_deadline_in(&self, year: i32) -> Option<Date> {
        let (m, d) = self.round_deadline_month_day();
        Date::from_calendar_date(year, m, d).ok()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let key = |k: &str| format!("policy[{}].{k}", self.version);
        if self.version.trim().is_empty() {
            return Err(ConfigError::new("policy.version", "must not be empty"));
        }
        if parse_month_day(&self.round_deadline).is_none() {
            return Err(ConfigError::new(key("round_deadline"), "must be MM-DD"));
        }
        if self.min_street_reports == 0 || self.streets.len() < self.min_street_reports as usize {
            return Err(ConfigError::new(key("min_street_reports"), "must be at least 1 and at most the number of streets"));
        }
        if self.security_budget_ratio_bp > 10_000 || self.change_filing_max_reduction_bp > 10_000 {
            return Err(ConfigError::new(key("security_budget_ratio_bp"), "basis points must be at most 10000"));
        }
        if !(0.0..=1.0).contains(&self.partial_duplicate_score)
            || !(0.0..=1.0).contains(&self.duplicate_score)
            || self.partial_duplicate_score > self.duplicate_score
        {
            return Err(ConfigError::new(key("duplicate_score"), "scores lie in [0,1] and partial ≤ duplicate"));
        }
        if self.progress_report_day == 0 || self.progress_report_day > 28 {
            return Err(ConfigError::new(key("progress_report_day"), "must be a day 1..=28"));
        }
        if self.compliance_checklist.is_empty() {
            return Err(ConfigError::new(key("compliance_checklist"), "must list at least one item"));
        }
        if !self.preliminary_scoring_sheet.is_empty() && self.preliminary_scoring_sheet.iter().map(|c| c.weight).sum::<u32>() != 100 {
            return Err(ConfigError::new(key("preliminary_scoring_sheet"), "weights must sum to 100"));
        }
        if self.preliminary_pass_score > 100 || self.review_task_days == 0 {
            return Err(ConfigError::new(key("review_task_days"), "review_task_days ≥ 1 and preliminary_pass_score ≤ 100"));
        }
        self.evaluation.validate(key)?;
        Ok(())
    }
}

fn parse_month_day(s: &str) -> Option<(Month, u8)> {
    let (m, d) = s.split_once('-')?;
    let m = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let d = d.parse::<u8>().ok()?;
    // 2024 is a leap year: accepts 02-29 as a valid month-day.
    Date::from_calendar_date(2024, m, d).ok()?;
    Some((m, d))
}

#[derive(Debug, Deserialize)]
struct PolicyFile {
    version: Vec<Policy>,
}

/// Every loaded policy version, by version name.
#[derive(Debug, Clone)]
pub struct PolicyBook {
    versions: BTreeMap<String, Arc<Policy>>,
    /// Ordered by effective date.
    by_date: Vec<Arc<Policy>>,
}

impl PolicyBook {
    pub fn from_toml(text: &str) -> Result<PolicyBook, ConfigError> {
        let file: PolicyFile = toml_de(text)?;
        if file.version.is_empty() {
            return Err(ConfigError::new("policy.version", "the policy file holds no version"));
        }
        let mut versions = BTreeMap::new();
        let mut by_date = Vec::new();
        for p in file.version {
            p.validate()?;
            let p = Arc::new(p);
            if versions.insert(p.version.clone(), p.clone()).is_some() {
                return Err(ConfigError::new("policy.version", format!("version {} appears twice", p.version)));
            }
            by_date.push(p);
        }
        by_date.sort_by_key(|p| p.effective_from);
        Ok(PolicyBook { versions, by_date })
    }

    /// The configured file, or the compiled-in policy when `file` is empty.
    pub fn load(file: &str) -> Result<PolicyBook, ConfigError> {
        if file.is_empty() {
            return PolicyBook::from_toml(DEFAULT_POLICY_TOML);
        }
        let text = std::fs::read_to_string(Path::new(file)).map_err(|e| ConfigError::new("policy.file", format!("{file}: {e}")))?;
        PolicyBook::from_toml(&text)
    }

    /// The version in force on `date`: the latest whose effective date is on or before it
    /// (the earliest version when none is yet in force).
    pub fn in_force(&self, date: Date) -> Arc<Policy> {
        self.by_date.iter().rev().find(|p| p.effective_from <= date).unwrap_or(&self.by_date[0]).clone()
    }

    /// Every loaded version, by effective date (e.g. the evaluation's indicator systems).
    pub fn all(&self) -> impl Iterator<Item = &Arc<Policy>> {
        self.by_date.iter()
    }

    /// A pinned version; `None` if it was removed from the file (refuse, do not guess).
    pub fn version(&self, version: &str) -> Option<Arc<Policy>> {
        self.versions.get(version).cloned()
    }

    /// The version an aggregate is pinned to, for a decision under it. A version that is no
    /// longer loaded is the operators' fault, not the caller's (the policy file lost a version
    /// that cases still apply): the same `UNAVAILABLE` everywhere, nothing changed, and retrying
    /// works once the version is restored.
    pub fn pinned(&self, version: &str) -> Result<Arc<Policy>, crate::AppError> {
        self.version(version).ok_or_else(|| {
            crate::AppError::Unavailable(format!(
                "policy version {version:?}, which this case applies (R-X4), is not loaded in this service; nothing was changed: \
                 the operators restore it in the policy file"
            ))
        })
    }
}

fn toml_de<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ConfigError> {
    let cfg = config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Toml))
        .build()
        .map_err(|e| ConfigError::new("policy.file", e.to_string()))?;
    cfg.try_deserialize().map_err(|e| ConfigError::new("policy.file", e.to_string()))
}

mod iso_date {
    use serde::{Deserialize, Deserializer};
    use time::{Date, macros::format_description};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s, format_description!("[year]-[month]-[day]")).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn default_policy_loads() {
        let book = PolicyBook::load("").unwrap();
        let p = book.in_force(date!(2026 - 11 - 24));
        assert_eq!(p.min_street_reports, 5);
        assert_eq!(p.streets.len(), 14);
        assert_eq!(p.round_deadline_in(2026), Some(date!(2026 - 09 - 30)));
        assert_eq!(p.security_budget_ratio_bp, 500);
        assert!(book.version(&p.version).is_some());
    }

    #[test]
    fn versions_pin_by_date() {
        let (_, body) = DEFAULT_POLICY_TOML.split_once("\n[[version]]\n").unwrap();
        let next = body
            .replace("2026.1-draft", "2027.1")
            .replace("2025-01-01", "2027-01-01")
            .replace("min_street_reports = 5", "min_street_reports = 6");
        let two = format!("{DEFAULT_POLICY_TOML}\n[[version]]\n{next}");
        let book = PolicyBook::from_toml(&two).unwrap();
        assert_eq!(book.in_force(date!(2026 - 12 - 31)).version, "2026.1-draft");
        assert_eq!(book.in_force(date!(2027 - 01 - 01)).min_street_reports, 6);
        assert_eq!(book.version("2026.1-draft").unwrap().min_street_reports, 5);
    }

    #[test]
    fn evaluation_policy_loads_and_is_checked() {
        let p = PolicyBook::load("").unwrap().in_force(date!(2026 - 11 - 24));
        assert_eq!(p.evaluation.indicators.iter().map(|i| i.weight).sum::<u32>(), 100);
        assert_eq!(p.evaluation.passing_grade, "PASS");
        let bad = DEFAULT_POLICY_TOML.replace("first_evaluation_months_business = 6", "first_evaluation_months_business = 18");
        assert!(PolicyBook::from_toml(&bad).unwrap_err().key.contains("first_evaluation_months_business"));
        let bad = DEFAULT_POLICY_TOML.replace("assessed_by = \"FINANCE\"", "assessed_by = \"LEADER\"");
        assert!(PolicyBook::from_toml(&bad).unwrap_err().key.contains("evaluation.indicators"));
    }

    #[test]
    fn bad_policy_names_key() {
        let bad = DEFAULT_POLICY_TOML.replace("round_deadline = \"09-30\"", "round_deadline = \"09-31\"");
        assert!(PolicyBook::from_toml(&bad).unwrap_err().key.contains("round_deadline"));
    }
}
