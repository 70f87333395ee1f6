//! R-P7 monthly progress reports and DRB's random inspections (抽查), and R-P8 overruns of the
//! contract period.
//!
//! During construction the unit reports each month's progress by the policy's
//! `progress_report_day` of that month, the day itself included (每月20日前 counts the 20th). A
//! month without a report is flagged when that day has ended: the timer is due at 00:00
//! Asia/Shanghai of the following day. DRB draws projects for inspection reproducibly from a
//! recorded seed. A project still under construction, or completed, after its contract end date
//! has overrun, and the unit owes DRB an explanation (R-P8).

use std::collections::BTreeSet;

use egov_platform::{clock::start_of_day, error::Refusal, named_enum, policy::Policy};

use crate::domain::YearMonth;
use rand::{Rng, SeedableRng, rngs::StdRng};
use time::{Date, Month, OffsetDateTime};

/// The day of `month` by which its progress report is due (the policy's `progress_report_day`,
/// 1..=28 by validation, so it exists in every month).
///
/// A year outside the calendar's range saturates to its first or last date.
pub fn report_due(month: (i32, Month), policy: &Policy) -> Date {
    let (year, month) = month;
    // The policy is validated to 1..=28; clamping keeps a hand-built policy from failing here.
    let day = policy.progress_report_day.clamp(1, 28) as u8;
    Date::from_calendar_date(year, month, day).unwrap_or(if year < 0 { Date::MIN } else { Date::MAX })
}

/// Whether a report for `month` filed on `reported_on` is on time: on or before the due day.
pub fn report_on_time(month: (i32, Month), reported_on: Date, policy: &Policy) -> bool {
    reported_on <= report_due(month, policy)
}

/// When the missing-report check for `month` runs: 00:00 Asia/Shanghai the day after the due
/// day, when a report filed that day would already be late.
pub fn missing_report_timer_due(month: (i32, Month), policy: &Policy) -> OffsetDateTime {
    let due = report_due(month, policy);
    start_of_day(due.next_day().unwrap_or(due))
}

named_enum!(
    /// Where a month's progress report stands.
    pub enum ReportStatus {
        /// No report yet and the due day has not ended.
        NotYetDue = "NOT_YET_DUE",
        OnTime = "ON_TIME",
        /// Filed after the due day: accepted and recorded as late.
        Late = "LATE",
        /// No report and the due day has ended: flagged (R-P7).
        Missing = "MISSING",
    }
);

/// The status of `month`'s report on `today` (Shanghai civil date), given when it was filed.
#[cfg_attr(not(test), expect(dead_code, reason = "a month's status for a report view, not served yet"))]
pub fn report_status(month: (i32, Month), reported_on: Option<Date>, today: Date, policy: &Policy) -> ReportStatus {
    let due = report_due(month, policy);
    match reported_on {
        Some(d) if d <= due => ReportStatus::OnTime,
        Some(_) => ReportStatus::Late,
        None if today > due => ReportStatus::Missing,
        None => ReportStatus::NotYetDue,
    }
}

/// The first month whose report is due: the month of `from` (the later of the filing and the
/// construction start) when its due day is still ahead, else the next month. A unit filing its
/// contract on the due day itself or later is not late for that month.
pub fn first_report_month(filed_on: Date, construction_start: Date, policy: &Policy) -> YearMonth {
    let from = filed_on.max(construction_start);
    let month = YearMonth::of(from);
    if from < report_due(month.as_tuple(), policy) { month } else { month.next() }
}

/// Checks that a report for `month` may be filed on `today`: not before the first month a
/// report is due, not for a month still to come. (Not twice: see [`reported_already`].)
pub fn check_report_month(month: YearMonth, first: YearMonth, today: Date) -> Result<(), Refusal> {
    if month < first {
        return Err(Refusal::rule(
            "R-P7",
            "month",
            format!("reports are due from {first} (the first due day after the contract filing and the construction start)"),
        ));
    }
    if month > YearMonth::of(today) {
        return Err(Refusal::field("month", format!("{month} is still to come (today is {today})")));
    }
    Ok(())
}

/// Why a report for `month` exists already, if it does: each month is reported once (R-P7); the
/// caller answers ALREADY_EXISTS.
pub fn reported_already(month: YearMonth, reported: &[YearMonth]) -> Option<String> {
    reported.contains(&month).then(|| format!("the progress report for {month} is filed already (R-P7)"))
}

/// Draws `count` projects for random inspection (抽查), reproducibly.
///
/// The pool is sorted and deduplicated first, so the draw depends on which projects are in it,
/// not on their order, and no project is drawn twice. Then a partial Fisher–Yates shuffle with
/// `StdRng::seed_from_u64(seed)` picks them; the result is in draw order. Asking for more than
/// the pool holds draws the whole pool (in draw order).
///
/// As in the expert panel draw, `rand` documents that `StdRng`'s algorithm may change between
/// its releases, so a recorded seed replays the draw with this build's `rand`; record the drawn
/// list with the seed.
pub fn draw_inspections(project_ids: &[String], count: usize, seed: u64) -> Vec<String> {
    let mut pool: Vec<&String> = project_ids.iter().collect::<BTreeSet<_>>().into_iter().collect();
    let n = count.min(pool.len());
    let mut rng = StdRng::seed_from_u64(seed);
    for i in 0..n {
        let j = rng.random_range(i..pool.len());
        pool.swap(i, j);
    }
    pool.into_iter().take(n).cloned().collect()
}

/// Days past the contract end date on `completed_or_today` (the completion date, or today while
/// construction continues): 0 on or before the end date.
pub fn overrun_days(contract_end: Date, completed_or_today: Date) -> u32 {
    let days = (completed_or_today - contract_end).whole_days();
    u32::try_from(days.max(0)).unwrap_or(u32::MAX)
}

/// Whether construction has run past the contract period, so that the unit must file an
/// explanation with DRB (R-P8).
pub fn needs_overrun_explanation(contract_end: Date, completed_or_today: Date) -> bool {
    overrun_days(contract_end, completed_or_today) > 0
}

/// Checks a completion (or the state of construction) against R-P8: past the contract period
/// the unit's explanation is required. Returns the days of overrun, to record against the unit.
pub fn check_overrun_explanation(contract_end: Date, completed_or_today: Date, explanation: &str) -> Result<u32, Refusal> {
    let days = overrun_days(contract_end, completed_or_today);
    if needs_overrun_explanation(contract_end, completed_or_today) && explanation.trim().is_empty() {
        return Err(Refusal::rule(
            "R-P8",
            "explanation",
            format!(
                "超期 / overrun: construction has run {days} day(s) past the contract period (ending {contract_end}); \
                 the unit files an explanation (情况说明) with DRB"
            ),
        ));
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use egov_platform::policy::PolicyBook;
    use time::{
        Duration,
        macros::{date, datetime},
    };

    use super::*;

    fn policy() -> Arc<Policy> {
        PolicyBook::load("").unwrap().in_force(date!(2026 - 06 - 01))
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("P-{i:03}")).collect()
    }

    #[test]
    fn due_on_the_policy_day() {
        let p = policy();
        assert_eq!(p.progress_report_day, 20);
        assert_eq!(report_due((2026, Month::June), &p), date!(2026 - 06 - 20));
        assert_eq!(report_due((2026, Month::February), &p), date!(2026 - 02 - 20));
        let mut other = (*p).clone();
        other.progress_report_day = 28;
        assert_eq!(report_due((2028, Month::February), &other), date!(2028 - 02 - 28));
    }

    #[test]
    fn twentieth_on_time_twenty_first_late() {
        let p = policy();
        let june = (2026, Month::June);
        assert!(report_on_time(june, date!(2026 - 06 - 01), &p));
        assert!(report_on_time(june, date!(2026 - 06 - 20), &p));
        assert!(!report_on_time(june, date!(2026 - 06 - 21), &p));
        assert!(!report_on_time(june, date!(2026 - 07 - 05), &p));
    }

    #[test]
    fn timer_at_the_21st_midnight_shanghai() {
        let p = policy();
        let at = missing_report_timer_due((2026, Month::June), &p);
        assert_eq!(at, datetime!(2026-06-21 00:00 +8));
        assert_eq!(at, datetime!(2026-06-20 16:00 UTC));
        // The last instant of the 20th in Shanghai is before the timer; a report then is on time.
        let last = at - Duration::nanoseconds(1);
        assert!(report_on_time((2026, Month::June), egov_platform::clock::civil_date(last), &p));
        assert!(!report_on_time((2026, Month::June), egov_platform::clock::civil_date(at), &p));
        // December's report stays in December: the check runs on the 21st, not in January.
        assert_eq!(missing_report_timer_due((2026, Month::December), &p), datetime!(2026-12-21 00:00 +8));
    }

    #[test]
    fn report_status_paths() {
        let p = policy();
        let june = (2026, Month::June);
        assert_eq!(report_status(june, None, date!(2026 - 06 - 20), &p), ReportStatus::NotYetDue);
        assert_eq!(report_status(june, None, date!(2026 - 06 - 21), &p), ReportStatus::Missing);
        assert_eq!(report_status(june, Some(date!(2026 - 06 - 20)), date!(2026 - 06 - 25), &p), ReportStatus::OnTime);
        assert_eq!(report_status(june, Some(date!(2026 - 06 - 21)), date!(2026 - 06 - 25), &p), ReportStatus::Late);
    }

    #[test]
    fn first_report_month_is_the_first_due_day_after_filing_and_start() {
        let p = policy();
        let ym = |y, m| YearMonth::new(y, m).unwrap();
        // Filed on the 19th: this month's report is due tomorrow.
        assert_eq!(first_report_month(date!(2026 - 06 - 19), date!(2026 - 06 - 01), &p), ym(2026, 6));
        // Filed on the due day itself or later: next month.
        assert_eq!(first_report_month(date!(2026 - 06 - 20), date!(2026 - 06 - 01), &p), ym(2026, 7));
        assert_eq!(first_report_month(date!(2026 - 12 - 25), date!(2026 - 12 - 01), &p), ym(2027, 1));
        // Construction starting later moves it on.
        assert_eq!(first_report_month(date!(2026 - 06 - 01), date!(2026 - 09 - 25), &p), ym(2026, 10));
    }

    #[test]
    fn report_months_from_the_first_to_this_month_once_each() {
        let (first, today) = (YearMonth::new(2026, 6).unwrap(), date!(2026 - 08 - 03));
        let before = check_report_month(YearMonth::new(2026, 5).unwrap(), first, today).unwrap_err();
        assert_eq!(before.rule_ids(), vec!["R-P7"]);
        check_report_month(first, first, today).unwrap();
        check_report_month(YearMonth::new(2026, 8).unwrap(), first, today).unwrap();
        let ahead = check_report_month(YearMonth::new(2026, 9).unwrap(), first, today).unwrap_err();
        assert!(matches!(ahead, Refusal::Fields(_)), "{ahead}");
        assert!(reported_already(first, &[]).is_none());
        let twice = reported_already(first, &[first]).unwrap();
        assert!(twice.contains("filed already"), "{twice}");
    }

    #[test]
    fn same_seed_same_draw_whatever_the_order() {
        let pool = ids(30);
        let a = draw_inspections(&pool, 5, 2026);
        assert_eq!(a.len(), 5);
        assert_eq!(a, draw_inspections(&pool, 5, 2026));
        let mut reversed = pool.clone();
        reversed.reverse();
        assert_eq!(a, draw_inspections(&reversed, 5, 2026));
    }

    #[test]
    fn different_seeds_draw_different_projects_from_30() {
        let pool = ids(30);
        let set = |seed| draw_inspections(&pool, 5, seed).into_iter().collect::<BTreeSet<_>>();
        assert_ne!(set(1), set(2));
        // Across many seeds every project gets drawn at some point.
        let drawn: BTreeSet<String> = (0..100).flat_map(|seed| draw_inspections(&pool, 5, seed)).collect();
        assert_eq!(drawn.len(), 30);
    }

    #[test]
    fn never_a_duplicate_and_count_bounds() {
        let mut pool = ids(10);
        pool.extend(ids(10)); // every project twice
        for seed in 0..50 {
            let all = draw_inspections(&pool, 100, seed);
            assert_eq!(all.len(), 10);
            assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 10);
            let some = draw_inspections(&pool, 7, seed);
            assert_eq!(some.iter().collect::<BTreeSet<_>>().len(), 7);
            // A larger draw with the same seed starts with the smaller one.
            assert_eq!(&all[..7], &some[..]);
        }
        assert!(draw_inspections(&pool, 0, 1).is_empty());
        assert!(draw_inspections(&[], 3, 1).is_empty());
        assert_eq!(draw_inspections(&ids(1), 3, 1), ids(1));
    }

    #[test]
    fn overrun_by_zero_vs_one_day() {
        let end = date!(2026 - 12 - 31);
        assert_eq!(overrun_days(end, date!(2026 - 11 - 30)), 0);
        assert_eq!(overrun_days(end, end), 0);
        assert!(!needs_overrun_explanation(end, end));
        assert_eq!(overrun_days(end, date!(2027 - 01 - 01)), 1);
        assert!(needs_overrun_explanation(end, date!(2027 - 01 - 01)));
        assert_eq!(overrun_days(end, date!(2027 - 12 - 31)), 365);
        assert_eq!(overrun_days(Date::MIN, Date::MAX), u32::try_from((Date::MAX - Date::MIN).whole_days()).unwrap());
    }

    #[test]
    fn overrun_requires_an_explanation() {
        let end = date!(2026 - 12 - 31);
        assert_eq!(check_overrun_explanation(end, end, "").unwrap(), 0);
        let e = check_overrun_explanation(end, date!(2027 - 01 - 01), "  ").unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-P8"]);
        assert!(e.to_string().contains("1 day(s)"), "{e}");
        assert_eq!(check_overrun_explanation(end, date!(2027 - 01 - 10), "设备到货延迟").unwrap(), 10);
    }
}
