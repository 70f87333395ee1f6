//! Periods of the Measures (期间), counted one way: the Civil Code's (《中华人民共和国民法典》第二百条至
//! 第二百零四条).
//!
//! - Art. 201: a period counted in years, months or days starts the day after the event (开始的
//!   当日不计入，自下一日开始计算).
//! - Art. 202: a period in years or months ends on the corresponding day of the last month (到期月
//!   的对应日); where that month has no such day, on its last day (没有对应日的，月末日为期间的最后
//!   一日).
//! - Art. 203, second paragraph: the last day ends at 24:00 (截止时间为二十四时), so the period has
//!   lapsed from 00:00 (Asia/Shanghai) of the next day.
//!
//! So 6 months from 2026-03-15 end on 2026-09-15 and lapse on 2026-09-16; 6 months from
//! 2025-08-31 end on 2026-02-28; 2 years from 2024-02-29 end on 2026-02-28; 10 days from
//! 2026-03-01 end on 2026-03-11.
//!
//! Not applied: art. 203's first paragraph (a last day that is a statutory holiday moves to the
//! day after the holiday). The Measures' periods are administrative time limits that DRB
//! publishes as dates; if the final Measures or DRB adopt the extension, [`last_day`] is the one
//! place that takes the working-day calendar. Periods in working days (R-P5) are the calendar's
//! (`egov-calendar`), not this module's.

use time::{Date, Month, OffsetDateTime};

use crate::clock::start_of_day;

/// A period as the Measures state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Days(u32),
    Months(u32),
    Years(u32),
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Days(n) => write!(f, "{n} days"),
            Period::Months(n) => write!(f, "{n} months"),
            Period::Years(n) => write!(f, "{n} years"),
        }
    }
}

/// The last day of `period` running from `event` (the day of the event, which is not counted).
/// Saturates at [`Date::MAX`]; never panics.
pub fn last_day(event: Date, period: Period) -> Date {
    match period {
        Period::Days(n) => event.checked_add(time::Duration::days(i64::from(n))).unwrap_or(Date::MAX),
        Period::Months(n) => add_months(event, i64::from(n)),
        Period::Years(n) => add_months(event, i64::from(n) * 12),
    }
}

/// Whether `day` is still within `period` from `event` (the last day included).
pub fn within(event: Date, period: Period, day: Date) -> bool {
    day <= last_day(event, period)
}

/// Whether `period` from `event` has lapsed on `day` (from the day after its last day).
pub fn lapsed(event: Date, period: Period, day: Date) -> bool {
    !within(event, period, day)
}

/// The instant the period has lapsed: 00:00 Asia/Shanghai of the day after its last day (when a
/// timer for it fires).
pub fn lapses_at(event: Date, period: Period) -> OffsetDateTime {
    let last = last_day(event, period);
    start_of_day(last.next_day().unwrap_or(last))
}

/// The last day of a span that starts on `first`, the first day counted, and lasts `period` (how
/// a contract writes its construction or maintenance period: "自2026年3月15日起6个月" runs through
/// 2026-09-14): the day before the period from `first` ends.
pub fn span_end(first: Date, period: Period) -> Date {
    let end = last_day(first, period);
    if end == Date::MAX { end } else { end.previous_day().unwrap_or(end) }
}

/// Whether the span from `first` through `last` (both counted) lasts at least `period`.
pub fn covers(first: Date, last: Date, period: Period) -> bool {
    last >= span_end(first, period)
}

/// `date` plus `months` calendar months, the day clamped to the target month's last day.
fn add_months(date: Date, months: i64) -> Date {
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + months;
    let Ok(year) = i32::try_from(index.div_euclid(12)) else {
        return Date::MAX;
    };
    let Some(month) = u8::try_from(index.rem_euclid(12) + 1).ok().and_then(|m| Month::try_from(m).ok()) else {
        return Date::MAX;
    };
    if year > Date::MAX.year() {
        return Date::MAX;
    }
    Date::from_calendar_date(year, month, date.day().min(month.length(year))).unwrap_or(Date::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::shanghai;
    use time::macros::{date, time};

    #[test]
    fn months_end_on_the_corresponding_day_or_the_month_end() {
        assert_eq!(last_day(date!(2026 - 03 - 15), Period::Months(6)), date!(2026 - 09 - 15));
        assert_eq!(last_day(date!(2025 - 08 - 31), Period::Months(6)), date!(2026 - 02 - 28));
        assert_eq!(last_day(date!(2027 - 08 - 31), Period::Months(6)), date!(2028 - 02 - 29), "leap year");
        assert_eq!(last_day(date!(2026 - 01 - 31), Period::Months(1)), date!(2026 - 02 - 28));
        assert_eq!(last_day(date!(2026 - 03 - 31), Period::Months(1)), date!(2026 - 04 - 30));
        assert_eq!(last_day(date!(2026 - 12 - 15), Period::Months(2)), date!(2027 - 02 - 15));
    }

    #[test]
    fn years_end_on_the_anniversary() {
        assert_eq!(last_day(date!(2026 - 03 - 15), Period::Years(2)), date!(2028 - 03 - 15));
        assert_eq!(last_day(date!(2024 - 02 - 29), Period::Years(2)), date!(2026 - 02 - 28), "no 02-29: the month's last day");
        assert_eq!(last_day(date!(2024 - 02 - 29), Period::Years(4)), date!(2028 - 02 - 29));
    }

    #[test]
    fn days_start_the_day_after() {
        assert_eq!(last_day(date!(2026 - 03 - 01), Period::Days(10)), date!(2026 - 03 - 11));
        assert_eq!(last_day(date!(2026 - 12 - 25), Period::Days(10)), date!(2027 - 01 - 04));
        assert_eq!(last_day(date!(2026 - 03 - 01), Period::Days(0)), date!(2026 - 03 - 01));
    }

    #[test]
    fn the_last_day_is_within_and_the_next_has_lapsed() {
        let e = date!(2026 - 03 - 15);
        assert!(within(e, Period::Months(6), date!(2026 - 09 - 14)));
        assert!(within(e, Period::Months(6), date!(2026 - 09 - 15)));
        assert!(lapsed(e, Period::Months(6), date!(2026 - 09 - 16)));
        assert_eq!(lapses_at(e, Period::Months(6)), shanghai(date!(2026 - 09 - 16), time!(0:00)));
    }

    #[test]
    fn spans_that_count_their_first_day() {
        // A construction period of 6 months starting 2026-03-15 runs through 2026-09-14.
        assert_eq!(span_end(date!(2026 - 03 - 15), Period::Months(6)), date!(2026 - 09 - 14));
        assert!(covers(date!(2026 - 03 - 15), date!(2028 - 03 - 14), Period::Years(2)));
        assert!(!covers(date!(2026 - 03 - 15), date!(2028 - 03 - 13), Period::Years(2)));
        assert_eq!(span_end(date!(2026 - 03 - 01), Period::Months(1)), date!(2026 - 03 - 31));
        assert_eq!(span_end(date!(2026 - 01 - 01), Period::Years(1)), date!(2026 - 12 - 31));
    }

    #[test]
    fn saturates_instead_of_panicking() {
        assert_eq!(last_day(Date::MAX, Period::Days(1)), Date::MAX);
        assert_eq!(last_day(date!(9999 - 06 - 01), Period::Years(u32::MAX)), Date::MAX);
        assert_eq!(last_day(Date::MAX, Period::Months(1)), Date::MAX);
    }
}
