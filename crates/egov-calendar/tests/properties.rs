//! Properties of the working-day arithmetic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

use egov_calendar::{Calendar, DayKind};
use proptest::prelude::*;
use time::{Date, Duration, macros::date};

fn official() -> Calendar {
    Calendar::official().expect("the embedded schedules are valid")
}

/// Any date of 2025..=2026.
fn loaded_date() -> impl Strategy<Value = Date> {
    (0i64..730).prop_map(|offset| date!(2025 - 01 - 01) + Duration::days(offset))
}

/// Any date of the supported range.
fn any_supported_date() -> impl Strategy<Value = Date> {
    let span = (date!(2200 - 12 - 31) - date!(1900 - 01 - 01)).whole_days();
    (0..=span).prop_map(|offset| date!(1900 - 01 - 01) + Duration::days(offset))
}

proptest! {
    #[test]
    fn adding_n_working_days_then_counting_back_gives_n(d in loaded_date(), n in 0u32..200) {
        let calendar = official();
        let end = calendar.add_working_days(d, n).unwrap().value;
        prop_assert_eq!(calendar.working_days_between(d, end).unwrap().value, n);
    }

    #[test]
    fn adding_working_days_lands_on_a_working_day(d in loaded_date(), n in 1u32..200) {
        let calendar = official();
        let end = calendar.add_working_days(d, n).unwrap().value;
        prop_assert!(end > d);
        prop_assert!(calendar.is_working_day(end).unwrap().value);
        // ... and the working day before it is the (n-1)-th.
        let previous = calendar.add_working_days(d, n - 1).unwrap().value;
        prop_assert!(previous < end);
    }

    #[test]
    fn a_holiday_is_never_a_working_day(d in loaded_date()) {
        let calendar = official();
        let kind = calendar.day_kind(d).unwrap();
        prop_assert!(!kind.is_provisional() || d.month() == time::Month::December);
        let working = calendar.is_working_day(d).unwrap().value;
        match kind.value {
            DayKind::Holiday(_) => prop_assert!(!working),
            DayKind::AdjustedWorkday(_) => prop_assert!(working),
            DayKind::Weekend => prop_assert!(!working),
            DayKind::Workday => prop_assert!(working),
        }
    }

    #[test]
    fn counting_is_additive(a in loaded_date(), b in loaded_date(), c in loaded_date()) {
        let calendar = official();
        let mut days = [a, b, c];
        days.sort();
        let [a, b, c] = days;
        let ab = calendar.working_days_between(a, b).unwrap().value;
        let bc = calendar.working_days_between(b, c).unwrap().value;
        prop_assert_eq!(ab + bc, calendar.working_days_between(a, c).unwrap().value);
    }

    #[test]
    fn any_supported_date_answers_without_panicking(d in any_supported_date(), n in 0u32..400) {
        let calendar = official();
        let kind = calendar.day_kind(d).unwrap();
        let loaded = matches!(d.year(), 2025 | 2026);
        prop_assert_eq!(kind.provisional_years.contains(&d.year()), !loaded);
        match calendar.add_working_days(d, n) {
            Ok(end) => prop_assert_eq!(calendar.working_days_between(d, end.value).unwrap().value, n),
            Err(error) => {
                // Only when fewer than n working days remain before the end of the supported range.
                prop_assert!(matches!(error, egov_calendar::CalendarError::ResultOutOfRange), "{error}");
                prop_assert!(calendar.working_days_between(d, date!(2200 - 12 - 31)).unwrap().value < n);
            }
        }
    }
}
