//! R-R7 changes (变更) between approval and the end of procurement: which route a budget change
//! takes, and the small state machine of the change-request route.
//!
//! The Measures (第七章): after approval and before procurement the main content should not
//! change. A change whose new investment stays within the approved budget and whose reduction
//! (资金核减数额) is at most `Policy::change_filing_max_reduction_bp` of the budget goes through the
//! unit's internal control and is filed with DRB (内控流程并向区数据资源局备案); a larger reduction is a
//! change request (变更申请 → 部门初审 → 专家论证 → 变更调整). A new investment above the approved budget
//! requires a new application (重新申报和立项).
//!
//! Money is [`Fen`] and the share is in basis points; the comparison is exact in integers
//! ([`Fen::at_least_bp_of`]: the new budget keeps at least 100 % − 15 % of the approved one), so
//! a share that is not a whole number of fen is never rounded in the unit's favour or against it.

use egov_platform::{error::Refusal, named_enum, policy::Policy, values::Fen};
use serde::{Deserialize, Serialize};

named_enum!(
    /// How a change within the approved budget proceeds.
    pub enum ChangeRoute {
        /// Reduction ≤ the policy share: 内控流程并向区数据资源局备案.
        InternalControlFiling = "INTERNAL_CONTROL_FILING",
        /// Reduction > the policy share: 变更申请 → 部门初审 → 专家论证 → 调整.
        ChangeRequest = "CHANGE_REQUEST",
    }
);

impl ChangeRoute {
    /// The state a change on this route starts in: a filing is complete when recorded; a request
    /// waits for DRB's departmental review.
    pub fn initial_state(self) -> ChangeState {
        match self {
            ChangeRoute::InternalControlFiling => ChangeState::Filed,
            ChangeRoute::ChangeRequest => ChangeState::AwaitingDepartmentalReview,
        }
    }
}

/// Chooses the route of a change of budget from `approved` to `new`.
///
/// Refused under R-R7 once procurement has completed, and for any increase (even 1 fen), which
/// needs a new application. An unchanged or zero new budget is a field error. Otherwise a
/// reduction of at most `share_bp` of the approved budget (`reduction × 10000 ≤ share_bp ×
/// approved`, i.e. the new budget is at least `10000 − share_bp` basis points of it) is filed
/// internally, and a strictly larger one is a change request.
pub fn classify(approved: Fen, new: Fen, procurement_completed: bool, policy: &Policy) -> Result<ChangeRoute, Refusal> {
    if procurement_completed {
        return Err(Refusal::rule(
            "R-R7",
            "procurement",
            "变更 / change: the main content can only be changed after approval and before procurement completes (立项后、采购前); \
             procurement has completed",
        ));
    }
    if approved == Fen::ZERO {
        return Err(Refusal::field("approved_budget_fen", "the approved budget must be positive"));
    }
    if new == Fen::ZERO {
        return Err(Refusal::field("new_budget_fen", "the new budget must be positive; to drop the project, withdraw it instead"));
    }
    if let Some(excess) = new.checked_sub(approved).filter(|d| *d > Fen::ZERO) {
        return Err(Refusal::rule(
            "R-R7",
            "new_budget_fen",
            format!(
                "变更 / change: the new investment ({} fen) exceeds the approved budget ({} fen) by {} fen; \
                 新增投资超出立项预算的须重新申报 / an investment above the approved budget requires a new application",
                new.get(),
                approved.get(),
                excess.get()
            ),
        ));
    }
    if new == approved {
        return Err(Refusal::field("new_budget_fen", "equals the approved budget: there is no budget change to make"));
    }
    let kept_bp = 10_000u32.saturating_sub(policy.change_filing_max_reduction_bp);
    if new.at_least_bp_of(kept_bp, approved) { Ok(ChangeRoute::InternalControlFiling) } else { Ok(ChangeRoute::ChangeRequest) }
}

named_enum!(
    /// Where a change stands.
    pub enum ChangeState {
        /// Filed with DRB after the unit's internal control: the end of the filing route.
        Filed = "FILED",
        AwaitingDepartmentalReview = "AWAITING_DEPARTMENTAL_REVIEW",
        AwaitingExpertReview = "AWAITING_EXPERT_REVIEW",
        /// The experts agreed: the unit adjusts the project as their opinion says.
        Approved = "APPROVED",
        Rejected = "REJECTED",
    }
);

impl ChangeState {
    /// No event moves a change out of this state.
    pub fn is_terminal(self) -> bool {
        matches!(self, ChangeState::Filed | ChangeState::Approved | ChangeState::Rejected)
    }
}

/// What happens to a change request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChangeEvent {
    /// DRB's departmental preliminary review (部门初审).
    DepartmentalReview { passed: bool },
    /// The change's expert review (项目变更专家论证会).
    ExpertReview { passed: bool },
}

impl ChangeEvent {
    /// The review in words, for messages and the audit trail.
    pub fn label(self) -> &'static str {
        match self {
            ChangeEvent::DepartmentalReview { passed: true } => "departmental review passed (部门初审通过)",
            ChangeEvent::DepartmentalReview { passed: false } => "departmental review failed (部门初审未通过)",
            ChangeEvent::ExpertReview { passed: true } => "expert review passed (专家论证通过)",
            ChangeEvent::ExpertReview { passed: false } => "expert review failed (专家论证未通过)",
        }
    }
}

/// What a change in `state` waits for, in words.
fn awaits(state: ChangeState) -> &'static str {
    match state {
        ChangeState::AwaitingDepartmentalReview => "it awaits DRB's departmental review (部门初审) first",
        ChangeState::AwaitingExpertReview => "its departmental review is done; it awaits the expert review (专家论证)",
        ChangeState::Filed => "it was filed after the unit's internal control (内控备案) and takes no review",
        ChangeState::Approved | ChangeState::Rejected => "its review is over; a further change is a new change request",
    }
}

/// The state after `event`; an event that does not apply to `state` is refused under R-R7 (the
/// change procedure: departmental review, then expert review).
pub fn next(state: ChangeState, event: ChangeEvent) -> Result<ChangeState, Refusal> {
    use ChangeEvent::*;
    use ChangeState::*;
    match (state, event) {
        (AwaitingDepartmentalReview, DepartmentalReview { passed: true }) => Ok(AwaitingExpertReview),
        (AwaitingDepartmentalReview, DepartmentalReview { passed: false }) => Ok(Rejected),
        (AwaitingExpertReview, ExpertReview { passed: true }) => Ok(Approved),
        (AwaitingExpertReview, ExpertReview { passed: false }) => Ok(Rejected),
        (state, event) => Err(Refusal::rule(
            "R-R7",
            "stage",
            format!("变更 / change procedure: a change that is {state} cannot take the {}: {}", event.label(), awaits(state)),
        )),
    }
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

    fn field(e: &Refusal) -> &str {
        e.fields()[0]
    }

    fn fen(v: i64) -> Fen {
        Fen::new(v).unwrap()
    }

    fn classify(approved: i64, new: i64, done: bool, p: &Policy) -> Result<ChangeRoute, Refusal> {
        super::classify(fen(approved), fen(new), done, p)
    }

    #[test]
    fn fifteen_percent_boundary() {
        let p = policy();
        assert_eq!(p.change_filing_max_reduction_bp, 1500);
        // 14.99 % and 15.00 % exactly file internally; 15.01 % needs a change request.
        assert_eq!(classify(1_000_000, 850_100, false, &p).unwrap(), ChangeRoute::InternalControlFiling);
        assert_eq!(classify(1_000_000, 850_000, false, &p).unwrap(), ChangeRoute::InternalControlFiling);
        assert_eq!(classify(1_000_000, 849_900, false, &p).unwrap(), ChangeRoute::ChangeRequest);
        assert_eq!(classify(1_000_000, 849_999, false, &p).unwrap(), ChangeRoute::ChangeRequest);
        assert_eq!(classify(1_000_000, 999_999, false, &p).unwrap(), ChangeRoute::InternalControlFiling);
        assert_eq!(classify(1_000_000, 1, false, &p).unwrap(), ChangeRoute::ChangeRequest);
    }

    #[test]
    fn share_that_is_not_a_whole_fen() {
        let p = policy();
        // 15 % of 333_333 fen is 49_999.95 fen.
        assert_eq!(classify(333_333, 333_333 - 49_999, false, &p).unwrap(), ChangeRoute::InternalControlFiling);
        assert_eq!(classify(333_333, 333_333 - 50_000, false, &p).unwrap(), ChangeRoute::ChangeRequest);
    }

    #[test]
    fn exhaustive_against_a_rational_reference() {
        let p = policy();
        for approved in 1..=400_i64 {
            for new in 1..approved {
                let reduction = approved - new;
                // reduction / approved ≤ 15 / 100, cross-multiplied.
                let expected =
                    if reduction * 100 <= 15 * approved { ChangeRoute::InternalControlFiling } else { ChangeRoute::ChangeRequest };
                assert_eq!(classify(approved, new, false, &p).unwrap(), expected, "{approved} → {new}");
            }
        }
        // No overflow at the top of the range.
        assert_eq!(classify(i64::MAX, i64::MAX - 1, false, &p).unwrap(), ChangeRoute::InternalControlFiling);
        assert_eq!(classify(i64::MAX, 1, false, &p).unwrap(), ChangeRoute::ChangeRequest);
    }

    #[test]
    fn increase_refused_even_by_one_fen() {
        let e = classify(1_000_000, 1_000_001, false, &policy()).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-R7"]);
        assert!(e.to_string().contains("重新申报"), "{e}");
    }

    #[test]
    fn no_change_and_non_positive_budgets_are_field_errors() {
        let p = policy();
        assert_eq!(field(&classify(1_000_000, 1_000_000, false, &p).unwrap_err()), "new_budget_fen");
        assert_eq!(field(&classify(1_000_000, 0, false, &p).unwrap_err()), "new_budget_fen");
        // A negative amount never becomes a Fen: the request's field is refused when parsed.
        assert_eq!(Fen::field("new_budget_fen", -5).unwrap_err().field, "new_budget_fen");
        assert_eq!(field(&classify(0, 5, false, &p).unwrap_err()), "approved_budget_fen");
    }

    #[test]
    fn refused_after_procurement() {
        let p = policy();
        for new in [850_000, 500_000, 1_000_001] {
            assert_eq!(classify(1_000_000, new, true, &p).unwrap_err().rule_ids(), vec!["R-R7"]);
        }
    }

    #[test]
    fn routes_start_where_they_should() {
        assert_eq!(ChangeRoute::InternalControlFiling.initial_state(), ChangeState::Filed);
        assert!(ChangeState::Filed.is_terminal());
        assert_eq!(ChangeRoute::ChangeRequest.initial_state(), ChangeState::AwaitingDepartmentalReview);
    }

    #[test]
    fn change_request_valid_transitions() {
        use ChangeEvent::*;
        use ChangeState::*;
        let s = next(AwaitingDepartmentalReview, DepartmentalReview { passed: true }).unwrap();
        assert_eq!(s, AwaitingExpertReview);
        assert_eq!(next(s, ExpertReview { passed: true }).unwrap(), Approved);
        assert_eq!(next(s, ExpertReview { passed: false }).unwrap(), Rejected);
        assert_eq!(next(AwaitingDepartmentalReview, DepartmentalReview { passed: false }).unwrap(), Rejected);
    }

    #[test]
    fn every_other_transition_is_refused_under_r_r7() {
        use ChangeEvent::*;
        use ChangeState::*;
        let events = [
            DepartmentalReview { passed: true },
            DepartmentalReview { passed: false },
            ExpertReview { passed: true },
            ExpertReview { passed: false },
        ];
        let mut valid = 0;
        for state in ChangeState::ALL {
            for event in events {
                let allowed = matches!(
                    (state, event),
                    (AwaitingDepartmentalReview, DepartmentalReview { .. }) | (AwaitingExpertReview, ExpertReview { .. })
                );
                match next(*state, event) {
                    Ok(_) => {
                        assert!(allowed, "{state} + {event:?}");
                        valid += 1;
                    }
                    Err(e) => {
                        assert!(!allowed, "{state} + {event:?}");
                        assert_eq!(e.rule_ids(), vec!["R-R7"]);
                        assert!(!e.to_string().contains("passed:"), "no debug values in words: {e}");
                    }
                }
            }
        }
        assert_eq!(valid, 4);
        for terminal in [Filed, Approved, Rejected] {
            assert!(terminal.is_terminal());
        }
    }
}
