//! R-P6 staged payments (分期付款): the contract's payment stages, each stage's amount, and the
//! fund payment filing (电子政务项目资金支付报备单) the unit files with DRB before paying a stage.
//!
//! Ratios are basis points of the contract amount (10000 bp = 100 %) and money is integer fen.
//! A stage's amount is rounded down; the last stage takes what the rounding left, so the stages
//! add up to the contract amount to the fen. The running total of payments may reach the
//! contract amount exactly and never pass it.

use std::collections::BTreeSet;

use egov_platform::{
    error::{FieldViolation, Refusal, RuleViolation},
    values::Fen,
};
use serde::{Deserialize, Serialize};

/// The whole contract, in basis points.
pub const FULL_BP: u32 = 10_000;

/// One payment stage of the contract (付款阶段).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentStage {
    pub stage_id: String,
    /// What must have happened before this stage is paid, e.g. 合同签订, 初验通过, 终验通过.
    pub condition: String,
    /// This stage's share of the contract amount, in basis points.
    pub ratio_bp: u32,
}

/// Checks a contract's payment stages.
///
/// Field errors first, every one listed: a blank or repeated `stage_id`, a blank condition, a
/// zero ratio. Then R-P6: the contract must set at least one stage, and the ratios must sum to
/// exactly 10000 bp (100 %); the refusal says the sum.
pub fn check_stages(stages: &[PaymentStage]) -> Result<(), Refusal> {
    let mut v = Vec::new();
    let mut ids = BTreeSet::new();
    for (i, s) in stages.iter().enumerate() {
        if s.stage_id.trim().is_empty() {
            v.push(FieldViolation::new(format!("stages[{i}].stage_id"), "required"));
        } else if !ids.insert(s.stage_id.as_str()) {
            v.push(FieldViolation::new(format!("stages[{i}].stage_id"), format!("「{}」 is used by an earlier stage", s.stage_id)));
        }
        if s.condition.trim().is_empty() {
            v.push(FieldViolation::new(format!("stages[{i}].condition"), "the payment condition (付款条件) is required, e.g. 初验通过"));
        }
        if s.ratio_bp == 0 {
            v.push(FieldViolation::new(format!("stages[{i}].ratio_bp"), "a stage's ratio must be more than 0 bp"));
        }
    }
    if !v.is_empty() {
        return Err(Refusal::Fields(v));
    }
    if stages.is_empty() {
        return Err(Refusal::rule(
            "R-P6",
            "stages",
            "分期付款 / staged payments: the contract must set payment stages with their conditions and ratios; none were given",
        ));
    }
    let sum: u64 = stages.iter().map(|s| u64::from(s.ratio_bp)).sum();
    if sum != u64::from(FULL_BP) {
        return Err(Refusal::rule(
            "R-P6",
            "stages",
            format!(
                "分期付款 / staged payments: the stage ratios must sum to 100 % (10000 bp); they sum to {sum} bp ({}.{:02} %)",
                sum / 100,
                sum % 100
            ),
        ));
    }
    Ok(())
}

/// An exact intermediate result as fen, clamped into `0..=i64::MAX` (only ratios above 100 %,
/// which [`check_stages`] refuses, leave that range).
fn clamped(exact: i128) -> Fen {
    let v = i64::try_from(exact.clamp(0, i128::from(i64::MAX))).unwrap_or_default();
    Fen::new(v).unwrap_or_default()
}

/// `ratio_bp` of `contract`, rounded down, computed exactly.
pub fn stage_amount(contract: Fen, ratio_bp: u32) -> Fen {
    clamped((i128::from(contract.get()) * i128::from(ratio_bp)).div_euclid(i128::from(FULL_BP)))
}

/// The amount of each stage, in the stages' order: each rounded down, the last taking the
/// remainder, so that the amounts sum to `contract` exactly. Meant for stages that passed
/// [`check_stages`]; empty for no stages.
pub fn stage_amounts(contract: Fen, stages: &[PaymentStage]) -> Vec<Fen> {
    let Some((_, init)) = stages.split_last() else {
        return Vec::new();
    };
    let mut amounts: Vec<Fen> = init.iter().map(|s| stage_amount(contract, s.ratio_bp)).collect();
    let allotted: i128 = amounts.iter().map(|a| i128::from(a.get())).sum();
    amounts.push(clamped(i128::from(contract.get()) - allotted));
    amounts
}

/// Checks a fund payment filing (资金支付报备) of `this_payment` against `stage`.
///
/// Field errors: a zero contract amount or payment. Refused under R-P6, every problem listed:
/// the stage's condition is not met (a stage is paid, and filed, only once its condition is
/// met), or the payments so far plus this one exceed the contract amount. Reaching the contract
/// amount exactly is allowed; one fen more is not.
pub fn check_payment_filing(
    contract: Fen,
    stage: &PaymentStage,
    condition_met: bool,
    already_paid: Fen,
    this_payment: Fen,
) -> Result<(), Refusal> {
    let mut fields = Vec::new();
    if contract == Fen::ZERO {
        fields.push(FieldViolation::new("contract_fen", "the contract amount must be positive"));
    }
    if this_payment == Fen::ZERO {
        fields.push(FieldViolation::new("amount_fen", "the payment must be more than 0 fen"));
    }
    if !fields.is_empty() {
        return Err(Refusal::Fields(fields));
    }

    let mut rules = Vec::new();
    if !condition_met {
        rules.push(RuleViolation::new(
            "R-P6",
            "stage",
            format!(
                "资金支付报备 / payment filing: stage 「{}」 is paid once its condition ({}) is met, and it is not met yet",
                stage.stage_id, stage.condition
            ),
        ));
    }
    let (paid, this, whole) = (already_paid.get(), this_payment.get(), contract.get());
    let total = i128::from(paid) + i128::from(this);
    if total > i128::from(whole) {
        rules.push(RuleViolation::new(
            "R-P6",
            "amount_fen",
            format!(
                "资金支付报备 / payment filing: payments never exceed the contract amount; {paid} fen paid + {this} fen = {total} fen, \
                 {} fen over the contract amount of {whole} fen",
                total - i128::from(whole)
            ),
        ));
    }
    if rules.is_empty() { Ok(()) } else { Err(Refusal::Rules(rules)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(id: &str, condition: &str, ratio_bp: u32) -> PaymentStage {
        PaymentStage { stage_id: id.into(), condition: condition.into(), ratio_bp }
    }

    fn three(a: u32, b: u32, c: u32) -> Vec<PaymentStage> {
        vec![stage("S1", "合同签订", a), stage("S2", "初验通过", b), stage("S3", "终验通过", c)]
    }

    fn fen(n: i64) -> Fen {
        Fen::new(n).unwrap()
    }

    // The tests speak in whole fen; these convert to the domain's money.
    fn check_payment_filing(contract: i64, stage: &PaymentStage, met: bool, paid: i64, this: i64) -> Result<(), Refusal> {
        super::check_payment_filing(fen(contract), stage, met, fen(paid), fen(this))
    }

    fn stage_amount(contract: i64, ratio_bp: u32) -> i64 {
        super::stage_amount(fen(contract), ratio_bp).get()
    }

    fn stage_amounts(contract: i64, stages: &[PaymentStage]) -> Vec<i64> {
        super::stage_amounts(fen(contract), stages).into_iter().map(Fen::get).collect()
    }

    fn fields(e: &Refusal) -> Vec<String> {
        match e {
            Refusal::Fields(v) => v.iter().map(|f| f.field.clone()).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn ratios_sum_boundary_9999_10000_10001() {
        assert!(check_stages(&three(3000, 4000, 3000)).is_ok());
        assert!(check_stages(&[stage("ALL", "终验通过", 10_000)]).is_ok());
        for (c, sum) in [(2999, "9999 bp (99.99 %)"), (3001, "10001 bp (100.01 %)")] {
            let e = check_stages(&three(3000, 4000, c)).unwrap_err();
            assert_eq!(e.rule_ids(), vec!["R-P6"]);
            assert!(e.to_string().contains(sum), "{e}");
        }
    }

    #[test]
    fn no_stages_refused() {
        assert_eq!(check_stages(&[]).unwrap_err().rule_ids(), vec!["R-P6"]);
    }

    #[test]
    fn ratio_sum_does_not_overflow() {
        let e = check_stages(&three(u32::MAX, u32::MAX, 2)).unwrap_err();
        assert!(e.to_string().contains(&format!("{} bp", 2 * u64::from(u32::MAX) + 2)), "{e}");
    }

    #[test]
    fn malformed_stages_are_all_listed() {
        let stages = vec![stage("S1", "合同签订", 5000), stage("S1", "初验通过", 0), stage(" ", " ", 5000), stage("S4", "终验通过", 0)];
        assert_eq!(
            fields(&check_stages(&stages).unwrap_err()),
            vec!["stages[1].stage_id", "stages[1].ratio_bp", "stages[2].stage_id", "stages[2].condition", "stages[3].ratio_bp"]
        );
    }

    #[test]
    fn stage_amount_rounds_down_exactly() {
        assert_eq!(stage_amount(1_000_000, 3000), 300_000);
        assert_eq!(stage_amount(1_000_001, 3333), 333_300); // 333_300.3333
        assert_eq!(stage_amount(1, 9999), 0);
        assert_eq!(stage_amount(i64::MAX, 10_000), i64::MAX);
        assert_eq!(stage_amount(i64::MAX, 5000), i64::MAX / 2);
    }

    #[test]
    fn last_stage_takes_the_remainder() {
        let amounts = stage_amounts(1_000_001, &three(3333, 3333, 3334));
        assert_eq!(amounts, vec![333_300, 333_300, 333_401]);
        assert_eq!(amounts.iter().sum::<i64>(), 1_000_001);
        assert!(stage_amounts(5, &[]).is_empty());
        assert_eq!(stage_amounts(7, &[stage("ALL", "终验通过", 10_000)]), vec![7]);
    }

    #[test]
    fn amounts_always_sum_to_the_contract() {
        let splits = [
            vec![3333, 3333, 3334],
            vec![1, 9999],
            vec![9999, 1],
            vec![1, 1, 1, 9997],
            vec![2500, 2500, 2500, 2500],
            vec![700, 2900, 3100, 3300],
        ];
        for contract in [1, 2, 3, 7, 99, 10_001, 1_000_001, 123_456_789, 999_999_999_999, i64::MAX / 10_000, i64::MAX] {
            for split in &splits {
                let stages: Vec<PaymentStage> = split.iter().enumerate().map(|(i, r)| stage(&format!("S{i}"), "条件", *r)).collect();
                assert!(check_stages(&stages).is_ok());
                let amounts = stage_amounts(contract, &stages);
                assert_eq!(amounts.iter().map(|a| i128::from(*a)).sum::<i128>(), i128::from(contract), "{contract} {split:?}");
                // Every stage but the last is the exact share rounded down; the last is within
                // (stages − 1) fen above its own share.
                for (a, s) in amounts.iter().zip(&stages).take(stages.len() - 1) {
                    assert_eq!(*a, stage_amount(contract, s.ratio_bp));
                }
                let last_share = stage_amount(contract, stages[stages.len() - 1].ratio_bp);
                let last = amounts[amounts.len() - 1];
                assert!((last_share..=last_share + stages.len() as i64).contains(&last), "{contract} {split:?}");
            }
        }
    }

    #[test]
    fn payments_reaching_the_contract_exactly_vs_one_fen_over() {
        let s = stage("S3", "终验通过", 3000);
        assert!(check_payment_filing(1_000_000, &s, true, 700_000, 300_000).is_ok());
        let e = check_payment_filing(1_000_000, &s, true, 700_000, 300_001).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-P6"]);
        assert!(e.to_string().contains("1 fen over the contract amount of 1000000 fen"), "{e}");
        // The whole contract in one payment, and one fen more.
        assert!(check_payment_filing(1_000_000, &s, true, 0, 1_000_000).is_ok());
        assert_eq!(check_payment_filing(1_000_000, &s, true, 1_000_000, 1).unwrap_err().rule_ids(), vec!["R-P6"]);
    }

    #[test]
    fn condition_not_met_refused() {
        let s = stage("S2", "初验通过", 4000);
        let e = check_payment_filing(1_000_000, &s, false, 0, 400_000).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-P6"]);
        assert!(e.to_string().contains("初验通过"), "{e}");
        // Both problems at once are both listed.
        assert_eq!(check_payment_filing(1_000_000, &s, false, 900_000, 400_000).unwrap_err().rule_ids(), vec!["R-P6", "R-P6"]);
    }

    #[test]
    fn amounts_are_field_errors() {
        let s = stage("S1", "合同签订", 3000);
        assert_eq!(fields(&check_payment_filing(1_000_000, &s, true, 0, 0).unwrap_err()), vec!["amount_fen"]);
        // Negative amounts are no Fen: refused, naming their field, when the request is parsed.
        assert_eq!(Fen::field("amount_fen", -1).unwrap_err().field, "amount_fen");
        assert_eq!(fields(&check_payment_filing(0, &s, false, 0, 5).unwrap_err()), vec!["contract_fen"]);
    }

    #[test]
    fn no_overflow_near_the_top() {
        let s = stage("S1", "合同签订", 10_000);
        assert!(check_payment_filing(i64::MAX, &s, true, i64::MAX - 1, 1).is_ok());
        assert_eq!(check_payment_filing(i64::MAX, &s, true, i64::MAX, i64::MAX).unwrap_err().rule_ids(), vec!["R-P6"]);
    }
}
