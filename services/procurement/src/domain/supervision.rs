//! R-P4 the procurement channel (采购方式) and the unit's implementing body, and R-P3 the
//! engineering supervision (工程监理) a government-procurement project must have.
//!
//! Government procurement (政府采购, supervised by FINANCE) needs independent supervision,
//! procured separately from the main contract, whose fee lies inside the project's total
//! investment: the procurement amount and the supervision fee together may not exceed the
//! approved budget. Small public-resource trading (小额公共资源交易) needs none, but a supervision
//! contract it does have must still fit the investment. The channel also decides who organises
//! acceptance (R-A4).

use egov_platform::{
    error::{FieldViolation, Refusal, RuleViolation},
    named_enum,
    values::Fen,
};
use serde::{Deserialize, Serialize};

use super::supplier::validate_uscc;

named_enum!(
    /// How the project was procured (R-P4).
    pub enum Channel {
        /// 政府采购, supervised by FINANCE; DRB organises acceptance.
        GovernmentProcurement = "GOVERNMENT_PROCUREMENT",
        /// 小额公共资源交易; the unit organises acceptance.
        SmallPublicResourceTrading = "SMALL_PUBLIC_RESOURCE_TRADING",
    }
);

impl Channel {
    pub fn label(self) -> &'static str {
        match self {
            Channel::GovernmentProcurement => "政府采购",
            Channel::SmallPublicResourceTrading => "小额公共资源交易",
        }
    }

    /// Whether R-P3 requires separately procured engineering supervision.
    pub fn requires_supervision(self) -> bool {
        matches!(self, Channel::GovernmentProcurement)
    }
}

/// Who organises the project's acceptance (R-A4): `"DRB"` leads the expert acceptance of a
/// government-procurement project; the `"UNIT"` organises a small-trading project's (DRB may join).
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "acceptance (R-A4) reads the channel from the completion event; the rule is kept with the channel")
)]
pub fn acceptance_organiser(channel: Channel) -> &'static str {
    match channel {
        Channel::GovernmentProcurement => "DRB",
        Channel::SmallPublicResourceTrading => "UNIT",
    }
}

/// The engineering supervision contract (监理合同) of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionContract {
    /// The supervisor's unified social credit code (GB 32100).
    pub supplier_credit_code: String,
    pub fee_fen: Fen,
    /// Procured in its own procurement, apart from the main contract (单独采购).
    pub separately_procured: bool,
}

/// Checks a project's supervision against R-P3, with the procurement's `amount` inside the
/// approved `budget` (the project's total investment).
///
/// Field errors first: a zero budget, a malformed supervisor credit code. Then, every problem
/// listed under R-P3: a government-procurement project without supervision, or with supervision
/// not procured separately; for any channel, a zero supervision fee, or a fee that, with the
/// procurement amount, exceeds the budget (exactly the budget is accepted).
pub fn check_supervision(channel: Channel, supervision: Option<SupervisionContract>, amount: Fen, budget: Fen) -> Result<(), Refusal> {
    let mut fields = Vec::new();
    if budget == Fen::ZERO {
        fields.push(FieldViolation::new("total_investment_fen", "the project's total investment must be positive"));
    }
    if let Some(s) = &supervision
        && let Err(mut v) = validate_uscc(&s.supplier_credit_code)
    {
        v.field = "supervision.supplier_credit_code".into();
        fields.push(v);
    }
    if !fields.is_empty() {
        return Err(Refusal::Fields(fields));
    }

    let mut rules = Vec::new();
    match supervision {
        None if channel.requires_supervision() => rules.push(RuleViolation::new(
            "R-P3",
            "supervision",
            "监理 / supervision: a government-procurement (政府采购) project has independent engineering supervision, \
             procured separately; none is recorded",
        )),
        None => {}
        Some(s) => {
            if channel.requires_supervision() && !s.separately_procured {
                rules.push(RuleViolation::new(
                    "R-P3",
                    "supervision.separately_procured",
                    "监理 / supervision: a government-procurement project's supervision is procured separately (单独采购) \
                     from the main contract",
                ));
            }
            let total = i128::from(amount.get()) + i128::from(s.fee_fen.get());
            let over = total - i128::from(budget.get());
            if s.fee_fen == Fen::ZERO {
                rules.push(RuleViolation::new(
                    "R-P3",
                    "supervision.fee_fen",
                    "监理 / supervision: the supervision fee must be more than 0 fen; it is 0 fen",
                ));
            } else if over > 0 {
                rules.push(RuleViolation::new(
                    "R-P3",
                    "supervision.fee_fen",
                    format!(
                        "监理 / supervision: the supervision fee lies inside the project's total investment (监理费用纳入项目总投资); \
                         the procurement amount of {} fen and the supervision fee of {} fen together, {total} fen, exceed the \
                         approved budget of {} fen by {over} fen",
                        amount.get(),
                        s.fee_fen.get(),
                        budget.get()
                    ),
                ));
            }
        }
    }
    if rules.is_empty() { Ok(()) } else { Err(Refusal::Rules(rules)) }
}

/// Checks that the unit names its implementing body (实施主体) and the person responsible for
/// the project (项目负责人) (R-P4); both missing are both listed.
pub fn check_implementing_body(body: &str, responsible_person: &str) -> Result<(), Refusal> {
    let mut v = Vec::new();
    if body.trim().is_empty() {
        v.push(FieldViolation::new("implementing_body", "the unit names the project's implementing body (实施主体)"));
    }
    if responsible_person.trim().is_empty() {
        v.push(FieldViolation::new("responsible_person", "the unit names the person responsible for the project (项目负责人)"));
    }
    if v.is_empty() { Ok(()) } else { Err(Refusal::Fields(v)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPERVISOR: &str = "91350100M000100Y43";

    fn fen(n: i64) -> Fen {
        Fen::new(n).unwrap()
    }

    fn contract(fee_fen: i64, separately_procured: bool) -> SupervisionContract {
        SupervisionContract { supplier_credit_code: SUPERVISOR.into(), fee_fen: fen(fee_fen), separately_procured }
    }

    /// The fee alone against the budget: a procurement amount of 0.
    fn check_supervision(channel: Channel, s: Option<SupervisionContract>, budget: i64) -> Result<(), Refusal> {
        super::check_supervision(channel, s, Fen::ZERO, fen(budget))
    }

    fn fields(e: &Refusal) -> Vec<String> {
        match e {
            Refusal::Fields(v) => v.iter().map(|f| f.field.clone()).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    fn subjects(e: &Refusal) -> Vec<String> {
        match e {
            Refusal::Rules(v) => v.iter().map(|r| r.subject.clone()).collect(),
            other => panic!("expected a rule refusal, got {other:?}"),
        }
    }

    #[test]
    fn channel_names_and_organiser() {
        assert_eq!(Channel::parse("GOVERNMENT_PROCUREMENT"), Some(Channel::GovernmentProcurement));
        assert_eq!(Channel::parse("SMALL_PUBLIC_RESOURCE_TRADING"), Some(Channel::SmallPublicResourceTrading));
        assert_eq!(Channel::parse("政府采购"), None);
        assert_eq!(acceptance_organiser(Channel::GovernmentProcurement), "DRB");
        assert_eq!(acceptance_organiser(Channel::SmallPublicResourceTrading), "UNIT");
        assert_eq!(Channel::SmallPublicResourceTrading.label(), "小额公共资源交易");
    }

    #[test]
    fn government_procurement_with_separate_supervision_accepted() {
        assert!(check_supervision(Channel::GovernmentProcurement, Some(contract(50_000, true)), 1_000_000).is_ok());
    }

    #[test]
    fn government_procurement_without_supervision_refused() {
        let e = check_supervision(Channel::GovernmentProcurement, None, 1_000_000).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-P3"]);
        assert_eq!(subjects(&e), vec!["supervision"]);
    }

    #[test]
    fn government_procurement_lists_every_problem() {
        let e = check_supervision(Channel::GovernmentProcurement, Some(contract(1_000_001, false)), 1_000_000).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-P3", "R-P3"]);
        assert_eq!(subjects(&e), vec!["supervision.separately_procured", "supervision.fee_fen"]);
        let e = check_supervision(Channel::GovernmentProcurement, Some(contract(0, false)), 1_000_000).unwrap_err();
        assert_eq!(subjects(&e), vec!["supervision.separately_procured", "supervision.fee_fen"]);
    }

    #[test]
    fn fee_boundary_total_accepted_one_fen_over_refused() {
        for channel in Channel::ALL {
            assert!(check_supervision(*channel, Some(contract(1_000_000, true)), 1_000_000).is_ok(), "{channel}");
            let e = check_supervision(*channel, Some(contract(1_000_001, true)), 1_000_000).unwrap_err();
            assert_eq!(e.rule_ids(), vec!["R-P3"], "{channel}");
            assert!(e.to_string().contains("by 1 fen"), "{e}");
            assert!(check_supervision(*channel, Some(contract(1, true)), 1_000_000).is_ok(), "{channel}");
            // (A negative fee is no Fen: refused as a field error when the request is parsed.)
            assert_eq!(
                subjects(&check_supervision(*channel, Some(contract(0, true)), 1_000_000).unwrap_err()),
                vec!["supervision.fee_fen"]
            );
        }
    }

    #[test]
    fn small_trading_needs_no_supervision() {
        assert!(check_supervision(Channel::SmallPublicResourceTrading, None, 1_000_000).is_ok());
        // One it has need not have been procured separately, but its fee is still bounded.
        assert!(check_supervision(Channel::SmallPublicResourceTrading, Some(contract(20_000, false)), 1_000_000).is_ok());
        let e = check_supervision(Channel::SmallPublicResourceTrading, Some(contract(2_000_000, false)), 1_000_000).unwrap_err();
        assert_eq!(subjects(&e), vec!["supervision.fee_fen"]);
    }

    #[test]
    fn malformed_inputs_are_field_errors() {
        let mut bad = contract(50_000, true);
        bad.supplier_credit_code = "91350100M000100Y4Z".into();
        assert_eq!(
            fields(&check_supervision(Channel::GovernmentProcurement, Some(bad.clone()), 1_000_000).unwrap_err()),
            vec!["supervision.supplier_credit_code"]
        );
        assert_eq!(
            fields(&check_supervision(Channel::GovernmentProcurement, Some(bad.clone()), 0).unwrap_err()),
            vec!["total_investment_fen", "supervision.supplier_credit_code"]
        );
        // (A negative budget is no Fen: an event carrying one is refused when it is read.)
        assert_eq!(fields(&check_supervision(Channel::SmallPublicResourceTrading, None, 0).unwrap_err()), vec!["total_investment_fen"]);
    }

    /// R-P3 (fixed): the supervision fee sits inside the total investment, so the procurement
    /// amount and the fee together may not exceed the approved budget; the fee alone was compared
    /// with the budget before.
    #[test]
    fn r_p3_amount_and_fee_together_within_the_budget_boundary() {
        let budget = fen(10_000_000);
        let amount = fen(9_000_000);
        for channel in Channel::ALL {
            // Sum = budget − 1 fen and = budget: accepted.
            super::check_supervision(*channel, Some(contract(999_999, true)), amount, budget).unwrap();
            super::check_supervision(*channel, Some(contract(1_000_000, true)), amount, budget).unwrap();
            // Sum = budget + 1 fen: refused under R-P3, naming the fee, saying by how much.
            let e = super::check_supervision(*channel, Some(contract(1_000_001, true)), amount, budget).unwrap_err();
            assert_eq!(e.rule_ids(), vec!["R-P3"], "{channel}");
            assert_eq!(subjects(&e), vec!["supervision.fee_fen"]);
            let text = e.to_string();
            assert!(text.contains("together, 10000001 fen") && text.contains("by 1 fen"), "{text}");
        }
        // A fee well below the budget alone, too much with the amount: refused (allowed before).
        let e = super::check_supervision(Channel::GovernmentProcurement, Some(contract(2_000_000, true)), amount, budget).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-P3"]);
        // No supervision, no sum.
        super::check_supervision(Channel::SmallPublicResourceTrading, None, budget, budget).unwrap();
    }

    #[test]
    fn implementing_body_and_responsible_person_required() {
        assert!(check_implementing_body("区数据资源局信息中心", "张三").is_ok());
        assert_eq!(fields(&check_implementing_body("", "张三").unwrap_err()), vec!["implementing_body"]);
        assert_eq!(fields(&check_implementing_body("信息中心", "  ").unwrap_err()), vec!["responsible_person"]);
        assert_eq!(fields(&check_implementing_body(" ", "").unwrap_err()), vec!["implementing_body", "responsible_person"]);
    }
}
