//! R-P1 procurement deadline (采购时限): a project funded (wholly or partly) by district fiscal
//! money that has not completed procurement within the policy's months of its approval document
//! loses its approval. The months are counted the Civil Code's way ([`egov_platform::period`]):
//! approved on D, the last day is the corresponding day of D + 6 months, the month's last day
//! where there is none (approved on 08-31 → the last day of February); the deadline has lapsed
//! from 00:00 Asia/Shanghai of the day after.

use egov_platform::{
    period::{self, Period},
    policy::Policy,
};
use time::{Date, OffsetDateTime};

/// Funding sources that carry district fiscal money (MIXED: partly district money).
pub const FISCAL_SOURCES: [&str; 2] = ["DISTRICT_FISCAL", "MIXED"];

fn months(policy: &Policy) -> Period {
    Period::Months(policy.procurement_deadline_months)
}

/// The last day on which procurement may complete, for fiscally funded projects.
pub fn procurement_deadline(approved_on: Date, funding_source: &str, policy: &Policy) -> Option<Date> {
    FISCAL_SOURCES.contains(&funding_source).then(|| period::last_day(approved_on, months(policy)))
}

/// When the deadline timer fires: the instant R-P1's period from `approved_on` has lapsed, 00:00
/// Asia/Shanghai the day after the deadline.
pub fn timer_due(approved_on: Date, policy: &Policy) -> OffsetDateTime {
    period::lapses_at(approved_on, months(policy))
}

/// Whether a procurement completed on `completed_on` was in time.
pub fn in_time(deadline: Option<Date>, completed_on: Date) -> bool {
    deadline.is_none_or(|d| completed_on <= d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_platform::{clock::shanghai, policy::PolicyBook};
    use time::macros::{date, time};

    fn policy() -> std::sync::Arc<Policy> {
        PolicyBook::load("").unwrap().in_force(date!(2026 - 06 - 01))
    }

    #[test]
    fn r_p1_six_months_with_month_end_clamping() {
        let p = policy();
        assert_eq!(procurement_deadline(date!(2026 - 03 - 15), "DISTRICT_FISCAL", &p), Some(date!(2026 - 09 - 15)));
        assert_eq!(procurement_deadline(date!(2025 - 08 - 31), "DISTRICT_FISCAL", &p), Some(date!(2026 - 02 - 28)));
        assert_eq!(procurement_deadline(date!(2027 - 08 - 31), "MIXED", &p), Some(date!(2028 - 02 - 29)), "leap year");
        assert_eq!(procurement_deadline(date!(2026 - 03 - 15), "SUPERIOR_TRANSFER", &p), None, "outside funding: R-R6 instead");
        assert_eq!(procurement_deadline(date!(2026 - 03 - 15), "SOCIAL_CAPITAL", &p), None);
    }

    #[test]
    fn r_p1_on_the_day_vs_the_day_after() {
        let d = date!(2026 - 09 - 15);
        assert!(in_time(Some(d), d));
        assert!(!in_time(Some(d), date!(2026 - 09 - 16)));
        assert!(in_time(None, date!(2030 - 01 - 01)));
        assert_eq!(timer_due(date!(2026 - 03 - 15), &policy()), shanghai(date!(2026 - 09 - 16), time!(0:00)));
        // A month-end approval: the last day of February, lapsed on 03-01.
        assert_eq!(timer_due(date!(2025 - 08 - 31), &policy()), shanghai(date!(2026 - 03 - 01), time!(0:00)));
    }
}
