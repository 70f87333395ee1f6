//! R-P2 contract filing (合同备案): what a contract must state before DRB accepts its filing, the
//! construction period measured against the approved plan, R-P5's project-name rule for the
//! contract.
//!
//! The Measures (第八章): "合同中项目建设周期与可研计划保持一致并明确超期相关惩罚条款", and the contract
//! "应当明确项目知识产权归属、数据安全、网络安全、保密要求、维保年限等相关条款": IP of systems, components
//! and documents owned by the unit or jointly; data and derived data owned by the unit; whether a
//! security and confidentiality agreement and a security responsibility letter are signed;
//! maintenance scope, period and duty, "维保期一般不少于2年"; network and data security duties and
//! penalties. A filing missing any of these is refused with **every** missing item listed, one
//! [`RuleViolation`] each, its subject the [`ContractTerms`] field concerned.
//!
//! Decisions, so that every caller reads the text the same way:
//! - **Periods count their first day**, and are counted the Civil Code's way through
//!   [`egov_platform::period`]: a span of N months (or years) whose first day is `start` runs
//!   through [`period::span_end`]`(start, N)`, the day before the period from `start` ends (its
//!   corresponding day, the month's last day where there is none).
//! - **Construction period (a maximum).** The contract matches the plan when
//!   `construction_end <= span_end(construction_start, planned_construction_months)`: 6 months
//!   from 2026-01-01 run through 2026-06-30, 1 month from 2026-01-31 through 2026-02-27 (02-28 −
//!   1 day). A shorter period is not refused (finishing early is no mismatch); one day longer is.
//! - **Maintenance period (a minimum).** At least `Policy::min_maintenance_years` years:
//!   [`period::covers`]`(maintenance_start, maintenance_end, years)`. "2 years" from 2026-01-01
//!   run through 2027-12-31, so an end of 2027-12-31 is accepted and 2027-12-30 ("2 years less a
//!   day") refused. From a 02-29 the period ends on the last day of February: 2 years from
//!   2024-02-29 run through 2026-02-27 (2026-02-28 − 1 day; before the periods were counted one
//!   way, the anniversary of a 02-29 was taken as 03-01 and they ran through 2026-02-28).
//! - **Project name (R-P5).** The contract's name equals the approval document's after trimming
//!   surrounding whitespace, character for character otherwise (full-width and half-width
//!   characters differ). A mismatch is an R-P5 violation, listed with the R-P2 ones.
//! - **Malformed input** (blank names, a zero amount, non-positive planned months, an end before
//!   its start) is a field error, all fields at once, and takes precedence over rule refusals.

use egov_platform::{
    error::{FieldViolation, Refusal, RuleViolation},
    period::{self, Period},
    policy::Policy,
    values::Fen,
};
use serde::{Deserialize, Serialize};
use time::Date;

/// What a contract filed under R-P2 states. Money is integer fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractTerms {
    /// 项目名称: must equal the approval document's (R-P5).
    pub project_name: String,
    /// First day of construction (建设周期), counted.
    pub construction_start: Date,
    /// Last day of construction, included.
    pub construction_end: Date,
    /// Contract amount.
    pub amount_fen: Fen,
    /// 系统、组件及文档的知识产权归建设单位所有或共同所有.
    pub ip_owned_by_unit_or_joint: bool,
    /// 数据及衍生数据归建设单位所有.
    pub data_owned_by_unit: bool,
    /// 安全保密补充协议: whether signed, as the contract states it; `None` = the contract does not say.
    pub security_agreement_signed: Option<bool>,
    /// 安全责任书: whether signed, as the contract states it; `None` = the contract does not say.
    pub security_responsibility_letter_signed: Option<bool>,
    /// 维保范围.
    pub maintenance_scope: String,
    /// First day of maintenance (维保期限), counted.
    pub maintenance_start: Option<Date>,
    /// Last day of maintenance, included.
    pub maintenance_end: Option<Date>,
    /// 维保责任.
    pub maintenance_duty: String,
    /// 网络和数据安全责任及违约处罚条款.
    pub security_duties_and_penalties: bool,
    /// 超期违约（惩罚）条款.
    pub overrun_penalty_clause: bool,
}

/// What the approval document (立项文件) and its feasibility plan fix for the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedPlan {
    /// The project name in the approval document.
    pub project_name: String,
    /// The construction period of the feasibility plan (可研计划), in calendar months.
    pub planned_construction_months: i32,
}

/// Checks a contract filing under R-P2 (and R-P5's name rule).
///
/// Field errors first (all at once): blank `project_name` or `plan.project_name`, a zero
/// `amount_fen` or `plan.planned_construction_months`, `construction_end` before
/// `construction_start`, `maintenance_end` before `maintenance_start`. Otherwise every missing or
/// failing item is listed in one [`Refusal::Rules`], in field order: R-P2 for the clauses, the
/// maintenance period and the construction period, R-P5 for the project name. See the module
/// documentation for how periods are measured.
pub fn check_contract(terms: &ContractTerms, plan: &ApprovedPlan, policy: &Policy) -> Result<(), Refusal> {
    check_fields(terms, plan)?;

    let mut violations = Vec::new();
    let mut p2 = |subject: &str, description: String| violations.push(RuleViolation::new("R-P2", subject, description));

    let planned = Period::Months(u32::try_from(plan.planned_construction_months).unwrap_or(0));
    let latest = period::span_end(terms.construction_start, planned);
    if terms.construction_end > latest {
        p2(
            "construction_end",
            format!(
                "建设周期 / construction period: {}..={} is longer than the approved plan's {} months, which end on {latest}; \
                 合同中项目建设周期应与可研计划保持一致 / the contract's construction period must match the feasibility plan",
                terms.construction_start, terms.construction_end, plan.planned_construction_months
            ),
        );
    }
    if !terms.ip_owned_by_unit_or_joint {
        p2(
            "ip_owned_by_unit_or_joint",
            "知识产权归属 / IP ownership: the contract must state that the IP of the systems, components and documents the \
             project produces belongs to the unit or is jointly owned (归项目建设单位所有或共同所有)"
                .into(),
        );
    }
    if !terms.data_owned_by_unit {
        p2(
            "data_owned_by_unit",
            "数据归属 / data ownership: the contract must state that the data and derived data produced belong to the unit \
             (数据及衍生数据等归项目建设单位所有)"
                .into(),
        );
    }
    if terms.security_agreement_signed.is_none() {
        p2(
            "security_agreement_signed",
            "安全保密补充协议 / security and confidentiality agreement: the contract must state whether one is signed \
             (明确是否签订)"
                .into(),
        );
    }
    if terms.security_responsibility_letter_signed.is_none() {
        p2(
            "security_responsibility_letter_signed",
            "安全责任书 / security responsibility letter: the contract must state whether one is signed (明确是否签订)".into(),
        );
    }
    if terms.maintenance_scope.trim().is_empty() {
        p2("maintenance_scope", "维保范围 / maintenance scope: the contract must state the scope of maintenance".into());
    }
    if terms.maintenance_start.is_none() {
        p2("maintenance_start", "维保期限 / maintenance period: the contract must state when maintenance starts".into());
    }
    if terms.maintenance_end.is_none() {
        p2("maintenance_end", "维保期限 / maintenance period: the contract must state when maintenance ends".into());
    }
    if let (Some(start), Some(end)) = (terms.maintenance_start, terms.maintenance_end) {
        let years = Period::Years(policy.min_maintenance_years);
        let earliest = period::span_end(start, years);
        if !period::covers(start, end, years) {
            let years = policy.min_maintenance_years;
            p2(
                "maintenance_end",
                format!(
                    "维保期限 / maintenance period: {start}..={end} is shorter than {years} years; 维保期一般不少于{years}年 / \
                     maintenance must run at least through {earliest}"
                ),
            );
        }
    }
    if terms.maintenance_duty.trim().is_empty() {
        p2("maintenance_duty", "维保责任 / maintenance duty: the contract must state the maintainer's duties".into());
    }
    if !terms.security_duties_and_penalties {
        p2(
            "security_duties_and_penalties",
            "网络数据安全责任 / network and data security: the contract must state the security duties and the penalties \
             for breaching them (网络数据安全责任和对应惩罚条款)"
                .into(),
        );
    }
    if !terms.overrun_penalty_clause {
        p2(
            "overrun_penalty_clause",
            "超期惩罚条款 / overrun penalties: the contract must carry penalty clauses for overrunning the construction \
             period (明确超期相关惩罚条款)"
                .into(),
        );
    }
    if terms.project_name.trim() != plan.project_name.trim() {
        violations.push(RuleViolation::new(
            "R-P5",
            "project_name",
            format!(
                "项目名称 / project name: 「{}」 differs from the approval document's 「{}」; 项目名称应与立项文件保持一致 / \
                 the name must equal the approval document's",
                terms.project_name.trim(),
                plan.project_name.trim()
            ),
        ));
    }

    if violations.is_empty() { Ok(()) } else { Err(Refusal::Rules(violations)) }
}

fn check_fields(terms: &ContractTerms, plan: &ApprovedPlan) -> Result<(), Refusal> {
    let mut fields = Vec::new();
    if terms.project_name.trim().is_empty() {
        fields.push(FieldViolation::new("project_name", "must not be empty"));
    }
    if terms.construction_end < terms.construction_start {
        fields.push(FieldViolation::new(
            "construction_end",
            format!("{} is before the construction start {}", terms.construction_end, terms.construction_start),
        ));
    }
    if terms.amount_fen == Fen::ZERO {
        fields.push(FieldViolation::new("amount_fen", "the contract amount must be positive"));
    }
    if let (Some(start), Some(end)) = (terms.maintenance_start, terms.maintenance_end)
        && end < start
    {
        fields.push(FieldViolation::new("maintenance_end", format!("{end} is before the maintenance start {start}")));
    }
    if plan.project_name.trim().is_empty() {
        fields.push(FieldViolation::new("plan.project_name", "the approval document's project name must not be empty"));
    }
    if plan.planned_construction_months <= 0 {
        fields.push(FieldViolation::new("plan.planned_construction_months", "the planned construction period must be positive"));
    }
    if fields.is_empty() { Ok(()) } else { Err(Refusal::Fields(fields)) }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use egov_platform::policy::PolicyBook;
    use time::macros::date;

    use super::*;

    fn policy() -> Arc<Policy> {
        PolicyBook::load("").unwrap().in_force(date!(2026 - 06 - 01))
    }

    const NAME: &str = "上城区城市大脑数字驾驶舱项目";

    fn fen(n: i64) -> Fen {
        Fen::new(n).unwrap()
    }

    fn plan() -> ApprovedPlan {
        ApprovedPlan { project_name: NAME.into(), planned_construction_months: 6 }
    }

    fn complete() -> ContractTerms {
        ContractTerms {
            project_name: NAME.into(),
            construction_start: date!(2026 - 01 - 01),
            construction_end: date!(2026 - 06 - 30),
            amount_fen: fen(120_000_000),
            ip_owned_by_unit_or_joint: true,
            data_owned_by_unit: true,
            security_agreement_signed: Some(true),
            security_responsibility_letter_signed: Some(false),
            maintenance_scope: "系统软件及数据的运行维护".into(),
            maintenance_start: Some(date!(2026 - 07 - 01)),
            maintenance_end: Some(date!(2028 - 06 - 30)),
            maintenance_duty: "7×24小时响应，4小时内到场".into(),
            security_duties_and_penalties: true,
            overrun_penalty_clause: true,
        }
    }

    fn violations(e: &Refusal) -> Vec<(String, String)> {
        match e {
            Refusal::Rules(v) => v.iter().map(|r| (r.rule_id.clone(), r.subject.clone())).collect(),
            other => panic!("expected a rule refusal, got {other:?}"),
        }
    }

    fn fields(e: &Refusal) -> Vec<String> {
        match e {
            Refusal::Fields(v) => v.iter().map(|f| f.field.clone()).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    fn refused_for(terms: &ContractTerms, rule: &str, subject: &str) {
        let e = check_contract(terms, &plan(), &policy()).unwrap_err();
        assert_eq!(violations(&e), vec![(rule.to_string(), subject.to_string())], "{e}");
    }

    #[test]
    fn complete_contract_passes() {
        let p = policy();
        assert_eq!(p.min_maintenance_years, 2);
        check_contract(&complete(), &plan(), &p).unwrap();
        // "Not signed" is a statement too: only silence is missing.
        let mut t = complete();
        t.security_agreement_signed = Some(false);
        t.security_responsibility_letter_signed = Some(true);
        check_contract(&t, &plan(), &p).unwrap();
    }

    #[test]
    fn each_missing_clause_alone_is_refused_naming_it() {
        type Edit = fn(&mut ContractTerms);
        let cases: [(&str, Edit); 11] = [
            ("ip_owned_by_unit_or_joint", |t| t.ip_owned_by_unit_or_joint = false),
            ("data_owned_by_unit", |t| t.data_owned_by_unit = false),
            ("security_agreement_signed", |t| t.security_agreement_signed = None),
            ("security_responsibility_letter_signed", |t| t.security_responsibility_letter_signed = None),
            ("maintenance_scope", |t| t.maintenance_scope = String::new()),
            ("maintenance_scope", |t| t.maintenance_scope = " \t　".into()),
            ("maintenance_start", |t| t.maintenance_start = None),
            ("maintenance_end", |t| t.maintenance_end = None),
            ("maintenance_duty", |t| t.maintenance_duty = "  ".into()),
            ("security_duties_and_penalties", |t| t.security_duties_and_penalties = false),
            ("overrun_penalty_clause", |t| t.overrun_penalty_clause = false),
        ];
        for (subject, edit) in cases {
            let mut t = complete();
            edit(&mut t);
            refused_for(&t, "R-P2", subject);
        }
    }

    #[test]
    fn every_missing_item_is_listed_at_once() {
        let t = ContractTerms {
            project_name: format!("{NAME}（一期）"),
            construction_start: date!(2026 - 01 - 01),
            construction_end: date!(2026 - 07 - 01),
            amount_fen: fen(1),
            ip_owned_by_unit_or_joint: false,
            data_owned_by_unit: false,
            security_agreement_signed: None,
            security_responsibility_letter_signed: None,
            maintenance_scope: String::new(),
            maintenance_start: None,
            maintenance_end: None,
            maintenance_duty: String::new(),
            security_duties_and_penalties: false,
            overrun_penalty_clause: false,
        };
        let e = check_contract(&t, &plan(), &policy()).unwrap_err();
        let expected = [
            ("R-P2", "construction_end"),
            ("R-P2", "ip_owned_by_unit_or_joint"),
            ("R-P2", "data_owned_by_unit"),
            ("R-P2", "security_agreement_signed"),
            ("R-P2", "security_responsibility_letter_signed"),
            ("R-P2", "maintenance_scope"),
            ("R-P2", "maintenance_start"),
            ("R-P2", "maintenance_end"),
            ("R-P2", "maintenance_duty"),
            ("R-P2", "security_duties_and_penalties"),
            ("R-P2", "overrun_penalty_clause"),
            ("R-P5", "project_name"),
        ]
        .map(|(r, s)| (r.to_string(), s.to_string()));
        assert_eq!(violations(&e), expected, "{e}");
        // Bilingual descriptions.
        let text = e.to_string();
        for needle in ["知识产权", "IP ownership", "维保范围", "maintenance scope", "超期", "overrun", "项目名称"] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
    }

    #[test]
    fn maintenance_exactly_two_years_vs_two_years_less_a_day() {
        let mut t = complete();
        t.maintenance_start = Some(date!(2026 - 01 - 01));
        t.maintenance_end = Some(date!(2027 - 12 - 31));
        check_contract(&t, &plan(), &policy()).unwrap();
        t.maintenance_end = Some(date!(2028 - 06 - 30));
        check_contract(&t, &plan(), &policy()).unwrap();

        t.maintenance_end = Some(date!(2027 - 12 - 30));
        let e = check_contract(&t, &plan(), &policy()).unwrap_err();
        assert_eq!(violations(&e), vec![("R-P2".to_string(), "maintenance_end".to_string())]);
        assert!(e.to_string().contains("2027-12-31"), "{e}");
        assert!(e.to_string().contains("维保期一般不少于2年"), "{e}");
    }

    #[test]
    fn maintenance_minimum_follows_the_policy() {
        let mut p = (*policy()).clone();
        p.min_maintenance_years = 3;
        let mut t = complete();
        t.maintenance_start = Some(date!(2026 - 01 - 01));
        t.maintenance_end = Some(date!(2027 - 12 - 31));
        assert_eq!(check_contract(&t, &plan(), &p).unwrap_err().rule_ids(), vec!["R-P2"]);
        t.maintenance_end = Some(date!(2028 - 12 - 31));
        check_contract(&t, &plan(), &p).unwrap();
    }

    #[test]
    fn earliest_maintenance_end_table() {
        for (start, years, earliest) in [
            (date!(2026 - 01 - 01), 2, date!(2027 - 12 - 31)),
            (date!(2026 - 07 - 01), 2, date!(2028 - 06 - 30)),
            (date!(2026 - 03 - 15), 2, date!(2028 - 03 - 14)),
            // Counted the Civil Code's way, 2 years from a 02-29 end on the last day of February,
            // 2026-02-28, so the span that counts 2024-02-29 runs through 2026-02-27. (This
            // boundary moved by one day: the anniversary of a leap day was taken as 03-01.)
            (date!(2024 - 02 - 29), 2, date!(2026 - 02 - 27)),
            (date!(2024 - 02 - 29), 4, date!(2028 - 02 - 28)),
            (date!(2022 - 03 - 01), 2, date!(2024 - 02 - 29)),
            (date!(2026 - 05 - 10), 0, date!(2026 - 05 - 09)),
        ] {
            assert_eq!(period::span_end(start, Period::Years(years)), earliest, "{start} + {years} years");
        }
        assert_eq!(period::span_end(date!(2026 - 01 - 01), Period::Years(u32::MAX)), Date::MAX);
    }

    #[test]
    fn construction_equal_to_the_plan_vs_one_day_longer() {
        let mut t = complete();
        t.construction_start = date!(2026 - 01 - 01);
        t.construction_end = date!(2026 - 06 - 30);
        check_contract(&t, &plan(), &policy()).unwrap();
        // Shorter than the plan is not refused.
        t.construction_end = date!(2026 - 03 - 31);
        check_contract(&t, &plan(), &policy()).unwrap();

        t.construction_end = date!(2026 - 07 - 01);
        let e = check_contract(&t, &plan(), &policy()).unwrap_err();
        assert_eq!(violations(&e), vec![("R-P2".to_string(), "construction_end".to_string())]);
        assert!(e.to_string().contains("2026-06-30"), "{e}");
        assert!(e.to_string().contains("可研计划"), "{e}");
    }

    #[test]
    fn construction_boundary_with_end_of_month_clamping() {
        let one_month = ApprovedPlan { planned_construction_months: 1, ..plan() };
        let mut t = complete();
        t.construction_start = date!(2026 - 01 - 31);
        // 01-31 + 1 month = 02-28; the period runs through 02-27.
        t.construction_end = date!(2026 - 02 - 27);
        check_contract(&t, &one_month, &policy()).unwrap();
        t.construction_end = date!(2026 - 02 - 28);
        assert_eq!(check_contract(&t, &one_month, &policy()).unwrap_err().rule_ids(), vec!["R-P2"]);

        let six = plan();
        t.construction_start = date!(2025 - 08 - 31);
        t.construction_end = date!(2026 - 02 - 27);
        check_contract(&t, &six, &policy()).unwrap();
        t.construction_end = date!(2026 - 02 - 28);
        assert_eq!(check_contract(&t, &six, &policy()).unwrap_err().rule_ids(), vec!["R-P2"]);
    }

    #[test]
    fn latest_construction_end_table() {
        for (start, months, latest) in [
            (date!(2026 - 01 - 01), 6, date!(2026 - 06 - 30)),
            (date!(2026 - 01 - 01), 12, date!(2026 - 12 - 31)),
            (date!(2026 - 01 - 15), 1, date!(2026 - 02 - 14)),
            (date!(2026 - 01 - 31), 1, date!(2026 - 02 - 27)),
            (date!(2024 - 01 - 31), 1, date!(2024 - 02 - 28)),
            (date!(2026 - 03 - 31), 1, date!(2026 - 04 - 29)),
            (date!(2026 - 12 - 01), 3, date!(2027 - 02 - 28)),
        ] {
            assert_eq!(period::span_end(start, Period::Months(months)), latest, "{start} + {months} months");
        }
    }

    #[test]
    fn project_name_differing_by_one_character_is_refused_under_r_p5() {
        let mut t = complete();
        t.project_name = "上城区城市大脑数字驾驶仓项目".into();
        refused_for(&t, "R-P5", "project_name");
        let e = check_contract(&t, &plan(), &policy()).unwrap_err();
        assert!(e.to_string().contains("驾驶仓") && e.to_string().contains("驾驶舱"), "{e}");

        // Full-width and half-width are different characters.
        let mut t = complete();
        let ascii = ApprovedPlan { project_name: "上城区IRS对接项目".into(), ..plan() };
        t.project_name = "上城区ＩＲＳ对接项目".into();
        assert_eq!(violations(&check_contract(&t, &ascii, &policy()).unwrap_err()), vec![("R-P5".into(), "project_name".into())]);

        // Surrounding whitespace is trimmed on both sides.
        let mut t = complete();
        t.project_name = format!("  {NAME}\n");
        let padded = ApprovedPlan { project_name: format!("{NAME} "), ..plan() };
        check_contract(&t, &padded, &policy()).unwrap();
    }

    #[test]
    fn malformed_input_is_field_errors_all_at_once() {
        let mut t = complete();
        t.project_name = " ".into();
        t.construction_end = date!(2025 - 12 - 31);
        t.amount_fen = Fen::ZERO;
        t.maintenance_end = Some(date!(2026 - 06 - 30));
        // Missing clauses are not reported while the input is malformed.
        t.overrun_penalty_clause = false;
        let bad_plan = ApprovedPlan { project_name: String::new(), planned_construction_months: 0 };
        assert_eq!(
            fields(&check_contract(&t, &bad_plan, &policy()).unwrap_err()),
            vec![
                "project_name",
                "construction_end",
                "amount_fen",
                "maintenance_end",
                "plan.project_name",
                "plan.planned_construction_months"
            ]
        );

        let mut t = complete();
        // A negative amount is no Fen: it is refused, naming its field, when the request is parsed.
        assert_eq!(Fen::field("amount_fen", -1).unwrap_err().field, "amount_fen");
        t.amount_fen = Fen::ZERO;
        assert_eq!(fields(&check_contract(&t, &plan(), &policy()).unwrap_err()), vec!["amount_fen"]);
        let negative = ApprovedPlan { planned_construction_months: -3, ..plan() };
        assert_eq!(fields(&check_contract(&complete(), &negative, &policy()).unwrap_err()), vec!["plan.planned_construction_months"]);
    }

    #[test]
    fn one_day_periods_are_well_formed() {
        let mut t = complete();
        t.construction_end = t.construction_start;
        check_contract(&t, &plan(), &policy()).unwrap();
        // A one-day maintenance period is well formed but too short.
        t.maintenance_end = t.maintenance_start;
        assert_eq!(violations(&check_contract(&t, &plan(), &policy()).unwrap_err()), vec![("R-P2".into(), "maintenance_end".into())]);
    }

    /// The month arithmetic R-P1 and the contract periods use, now the platform's: the day
    /// clamped to the target month's last day. (Counting backwards went with the service's own
    /// `add_months`: no period of the Measures counts back.)
    #[test]
    fn month_arithmetic_table() {
        for (date, months, expected) in [
            (date!(2025 - 08 - 31), 6, date!(2026 - 02 - 28)),
            (date!(2023 - 08 - 31), 6, date!(2024 - 02 - 29)),
            (date!(2026 - 01 - 31), 1, date!(2026 - 02 - 28)),
            (date!(2024 - 01 - 31), 1, date!(2024 - 02 - 29)),
            (date!(2026 - 03 - 31), 1, date!(2026 - 04 - 30)),
            (date!(2026 - 05 - 31), 1, date!(2026 - 06 - 30)),
            (date!(2026 - 01 - 15), 1, date!(2026 - 02 - 15)),
            (date!(2026 - 01 - 01), 0, date!(2026 - 01 - 01)),
            (date!(2026 - 01 - 31), 0, date!(2026 - 01 - 31)),
            (date!(2026 - 11 - 30), 2, date!(2027 - 01 - 30)),
            (date!(2026 - 12 - 31), 12, date!(2027 - 12 - 31)),
            (date!(2024 - 02 - 29), 12, date!(2025 - 02 - 28)),
            (date!(2024 - 02 - 29), 48, date!(2028 - 02 - 29)),
            (date!(2026 - 01 - 01), 120, date!(2036 - 01 - 01)),
        ] {
            assert_eq!(period::last_day(date, Period::Months(months)), expected, "{date} + {months}");
        }
    }

    #[test]
    fn month_arithmetic_saturates() {
        assert_eq!(period::last_day(date!(2026 - 01 - 01), Period::Months(u32::MAX)), Date::MAX);
        assert_eq!(period::last_day(Date::MAX, Period::Months(1)), Date::MAX);
    }
}
