//! The official 2025 and 2026 schedules, checked against a table typed independently of
//! `data/*.txt` (from the notices' text, each day written out), and the filing boundaries of the issue.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

use egov_calendar::{Answer, Calendar, DayKind};
use time::{Date, Month, Weekday, macros::date};

fn official() -> Calendar {
    Calendar::official().expect("the embedded schedules are valid")
}

fn settled<T>(value: T) -> Answer<T> {
    Answer { value, provisional_years: vec![] }
}

/// Every day off of the notices, written out day by day: (name, days, the notice's 共N天).
fn official_holidays() -> Vec<(&'static str, Vec<Date>, usize)> {
    vec![
        // 国办发明电〔2024〕12号
        ("元旦", vec![date!(2025 - 01 - 01)], 1),
        (
            "春节",
            vec![
                date!(2025 - 01 - 28),
                date!(2025 - 01 - 29),
                date!(2025 - 01 - 30),
                date!(2025 - 01 - 31),
                date!(2025 - 02 - 01),
                date!(2025 - 02 - 02),
                date!(2025 - 02 - 03),
                date!(2025 - 02 - 04),
            ],
            8,
        ),
        ("清明节", vec![date!(2025 - 04 - 04), date!(2025 - 04 - 05), date!(2025 - 04 - 06)], 3),
        (
            "劳动节",
            vec![date!(2025 - 05 - 01), date!(2025 - 05 - 02), date!(2025 - 05 - 03), date!(2025 - 05 - 04), date!(2025 - 05 - 05)],
            5,
        ),
        ("端午节", vec![date!(2025 - 05 - 31), date!(2025 - 06 - 01), date!(2025 - 06 - 02)], 3),
        (
            "国庆节、中秋节",
            vec![
                date!(2025 - 10 - 01),
                date!(2025 - 10 - 02),
                date!(2025 - 10 - 03),
                date!(2025 - 10 - 04),
                date!(2025 - 10 - 05),
                date!(2025 - 10 - 06),
                date!(2025 - 10 - 07),
                date!(2025 - 10 - 08),
            ],
            8,
        ),
        // 国办发明电〔2025〕7号
        ("元旦", vec![date!(2026 - 01 - 01), date!(2026 - 01 - 02), date!(2026 - 01 - 03)], 3),
        (
            "春节",
            vec![
                date!(2026 - 02 - 15),
                date!(2026 - 02 - 16),
                date!(2026 - 02 - 17),
                date!(2026 - 02 - 18),
                date!(2026 - 02 - 19),
                date!(2026 - 02 - 20),
                date!(2026 - 02 - 21),
                date!(2026 - 02 - 22),
                date!(2026 - 02 - 23),
            ],
            9,
        ),
        ("清明节", vec![date!(2026 - 04 - 04), date!(2026 - 04 - 05), date!(2026 - 04 - 06)], 3),
        (
            "劳动节",
            vec![date!(2026 - 05 - 01), date!(2026 - 05 - 02), date!(2026 - 05 - 03), date!(2026 - 05 - 04), date!(2026 - 05 - 05)],
            5,
        ),
        ("端午节", vec![date!(2026 - 06 - 19), date!(2026 - 06 - 20), date!(2026 - 06 - 21)], 3),
        ("中秋节", vec![date!(2026 - 09 - 25), date!(2026 - 09 - 26), date!(2026 - 09 - 27)], 3),
        (
            "国庆节",
            vec![
                date!(2026 - 10 - 01),
                date!(2026 - 10 - 02),
                date!(2026 - 10 - 03),
                date!(2026 - 10 - 04),
                date!(2026 - 10 - 05),
                date!(2026 - 10 - 06),
                date!(2026 - 10 - 07),
            ],
            7,
        ),
    ]
}

/// Every day worked in exchange (调休上班), with the weekday the notice prints next to it.
fn official_adjusted_workdays() -> Vec<(&'static str, Date, Weekday)> {
    vec![
        ("春节", date!(2025 - 01 - 26), Weekday::Sunday),
        ("春节", date!(2025 - 02 - 08), Weekday::Saturday),
        ("劳动节", date!(2025 - 04 - 27), Weekday::Sunday),
        ("国庆节、中秋节", date!(2025 - 09 - 28), Weekday::Sunday),
        ("国庆节、中秋节", date!(2025 - 10 - 11), Weekday::Saturday),
        ("元旦", date!(2026 - 01 - 04), Weekday::Sunday),
        ("春节", date!(2026 - 02 - 14), Weekday::Saturday),
        ("春节", date!(2026 - 02 - 28), Weekday::Saturday),
        ("劳动节", date!(2026 - 05 - 09), Weekday::Saturday),
        ("国庆节", date!(2026 - 09 - 20), Weekday::Sunday),
        ("国庆节", date!(2026 - 10 - 10), Weekday::Saturday),
    ]
}

#[test]
fn official_loads_2025_and_2026_from_the_embedded_files() {
    let calendar = official();
    assert_eq!(calendar.loaded_years(), vec![2025, 2026]);
    assert_eq!(calendar.source_of(2025), Some("cn-2025.txt"));
    assert_eq!(calendar.source_of(2026), Some("cn-2026.txt"));
}

#[test]
fn holiday_runs_have_the_length_the_notices_state() {
    for (name, days, stated) in official_holidays() {
        assert_eq!(days.len(), stated, "{name} {:?}", days.first());
        for pair in days.windows(2) {
            assert_eq!(pair[0].next_day(), Some(pair[1]), "{name}: the table must be consecutive days");
        }
    }
}

#[test]
fn every_official_holiday_is_never_a_working_day() {
    let calendar = official();
    for (name, days, _) in official_holidays() {
        for day in days {
            assert_eq!(calendar.day_kind(day).unwrap(), settled(DayKind::Holiday(name.to_owned())), "{day}");
            assert_eq!(calendar.is_working_day(day).unwrap(), settled(false), "{day}");
        }
    }
}

#[test]
fn every_adjusted_workday_is_a_working_day_on_the_weekday_the_notice_prints() {
    let calendar = official();
    for (name, day, weekday) in official_adjusted_workdays() {
        assert_eq!(day.weekday(), weekday, "{day}");
        assert_eq!(calendar.day_kind(day).unwrap(), settled(DayKind::AdjustedWorkday(name.to_owned())), "{day}");
        assert_eq!(calendar.is_working_day(day).unwrap(), settled(true), "{day}");
    }
}

#[test]
fn the_calendar_lists_nothing_beyond_the_notices() {
    // Every day of 2025 and 2026 not in the tables above is an ordinary workday or weekend.
    let calendar = official();
    let holidays: Vec<Date> = official_holidays().into_iter().flat_map(|(_, days, _)| days).collect();
    let workdays: Vec<Date> = official_adjusted_workdays().into_iter().map(|(_, day, _)| day).collect();
    let (mut holiday_count, mut workday_count) = (0, 0);
    let mut day = date!(2025 - 01 - 01);
    while day <= date!(2026 - 12 - 31) {
        let kind = calendar.day_kind(day).unwrap().value;
        match kind {
            DayKind::Holiday(_) => {
                holiday_count += 1;
                assert!(holidays.contains(&day), "{day} is a holiday only in the data file");
            }
            DayKind::AdjustedWorkday(_) => {
                workday_count += 1;
                assert!(workdays.contains(&day), "{day} is worked only in the data file");
            }
            DayKind::Weekend => assert!(matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)),
            DayKind::Workday => assert!(!matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)),
        }
        day = day.next_day().unwrap();
    }
    assert_eq!(holiday_count, holidays.len());
    assert_eq!(workday_count, workdays.len());
}

#[test]
fn working_days_per_year() {
    let calendar = official();
    // 2025: 261 weekdays − 18 holidays on weekdays + 5 调休 days = 248.
    assert_eq!(calendar.working_days_between(date!(2024 - 12 - 31), date!(2025 - 12 - 31)).unwrap(), settled(248));
    // 2026: 261 weekdays − 19 holidays on weekdays + 6 调休 days = 248. Its last days (12-25..=12-31)
    // could still be set by the 2027 notice, which is not loaded: the answer says so.
    assert_eq!(
        calendar.working_days_between(date!(2025 - 12 - 31), date!(2026 - 12 - 31)).unwrap(),
        Answer { value: 248, provisional_years: vec![2027] }
    );
    assert_eq!(calendar.working_days_between(date!(2025 - 12 - 31), date!(2026 - 12 - 24)).unwrap().provisional_years, vec![0; 0]);
}

/// Document dated Friday 2025-09-26; Sep 28 (Sun) and Oct 11 (Sat) are worked, Oct 1–8 is off.
#[test]
fn filing_within_5_working_days_across_national_day_2025() {
    let calendar = official();
    let doc = date!(2025 - 09 - 26);
    assert_eq!(doc.weekday(), Weekday::Friday);
    let expected = [
        date!(2025 - 09 - 28), // Sunday, worked in exchange
        date!(2025 - 09 - 29),
        date!(2025 - 09 - 30),
        date!(2025 - 10 - 09), // first day back after 10-01..=10-08
        date!(2025 - 10 - 10), // 5th: the deadline
        date!(2025 - 10 - 11), // 6th: a Saturday, worked in exchange
    ];
    for (n, day) in (1u32..).zip(expected) {
        assert_eq!(calendar.add_working_days(doc, n).unwrap(), settled(day), "working day {n}");
        assert_eq!(calendar.working_days_between(doc, day).unwrap(), settled(n));
    }
    let deadline = calendar.add_working_days(doc, 5).unwrap().value;
    assert_eq!(deadline, date!(2025 - 10 - 10));
    assert_eq!(calendar.filed_in_time(doc, 5, date!(2025 - 10 - 10)).unwrap(), settled(true), "on the 5th working day");
    assert_eq!(calendar.filed_in_time(doc, 5, date!(2025 - 10 - 11)).unwrap(), settled(false), "on the 6th working day");
    assert_eq!(calendar.filed_in_time(doc, 5, date!(2025 - 10 - 08)).unwrap(), settled(true), "during the holiday");
    // Counting weekends only would have put the deadline inside the holiday.
    assert_eq!(Calendar::weekends_only().add_working_days(doc, 5).unwrap().value, date!(2025 - 10 - 03));
}

/// Documents dated just before the 2026 Spring Festival (Feb 15–23 off; Feb 14 and Feb 28, Saturdays, worked).
#[test]
fn filing_within_5_working_days_across_spring_festival_2026() {
    let calendar = official();

    let doc = date!(2026 - 02 - 13); // Friday, the last ordinary working day before the holiday
    assert_eq!(doc.weekday(), Weekday::Friday);
    let expected = [
        date!(2026 - 02 - 14), // Saturday, worked in exchange
        date!(2026 - 02 - 24), // first day back after 02-15..=02-23
        date!(2026 - 02 - 25),
        date!(2026 - 02 - 26),
        date!(2026 - 02 - 27), // 5th: the deadline
        date!(2026 - 02 - 28), // 6th: a Saturday, worked in exchange
    ];
    for (n, day) in (1u32..).zip(expected) {
        assert_eq!(calendar.add_working_days(doc, n).unwrap(), settled(day), "working day {n}");
        assert_eq!(calendar.working_days_between(doc, day).unwrap(), settled(n));
    }
    assert_eq!(calendar.filed_in_time(doc, 5, date!(2026 - 02 - 27)).unwrap(), settled(true));
    assert_eq!(calendar.filed_in_time(doc, 5, date!(2026 - 02 - 28)).unwrap(), settled(false));

    let doc = date!(2026 - 02 - 11); // Wednesday
    assert_eq!(calendar.add_working_days(doc, 5).unwrap(), settled(date!(2026 - 02 - 25)));
    assert_eq!(calendar.add_working_days(doc, 6).unwrap(), settled(date!(2026 - 02 - 26)));
    assert_eq!(calendar.working_days_between(doc, date!(2026 - 02 - 23)).unwrap(), settled(3));
}

#[test]
fn a_year_without_data_is_provisional_weekends_only() {
    let calendar = official();
    // 2027-01-01 is a Friday; without the 2027 notice it counts as a working day, provisionally.
    assert_eq!(calendar.is_working_day(date!(2027 - 01 - 01)).unwrap(), Answer { value: true, provisional_years: vec![2027] });
    assert_eq!(calendar.day_kind(date!(2027 - 01 - 02)).unwrap(), Answer { value: DayKind::Weekend, provisional_years: vec![2027] });
    // Across the year end: 2026-12-31 (Thu) + 2 working days = 2027-01-04 (Mon), provisional in 2027.
    assert_eq!(
        calendar.add_working_days(date!(2026 - 12 - 31), 2).unwrap(),
        Answer { value: date!(2027 - 01 - 04), provisional_years: vec![2027] }
    );
    // 2024 is not loaded either.
    assert_eq!(calendar.is_working_day(date!(2024 - 10 - 01)).unwrap().provisional_years, vec![2024]);
    // Late December 2026 may still be set by the 2027 notice; mid-December may not.
    assert_eq!(calendar.is_working_day(date!(2026 - 12 - 28)).unwrap().provisional_years, vec![2027]);
    assert!(!calendar.is_working_day(date!(2026 - 12 - 24)).unwrap().is_provisional());
    // Late December 2025 is settled: the 2026 notice is loaded.
    assert!(!calendar.is_working_day(date!(2025 - 12 - 31)).unwrap().is_provisional());
    // Several provisional years are all named, ascending.
    assert_eq!(
        calendar.working_days_between(date!(2023 - 12 - 01), date!(2028 - 01 - 10)).unwrap().provisional_years,
        vec![2023, 2024, 2027, 2028]
    );
}

#[test]
fn zero_working_days_and_empty_intervals() {
    let calendar = official();
    let holiday = date!(2025 - 10 - 03);
    assert_eq!(calendar.add_working_days(holiday, 0).unwrap(), settled(holiday));
    assert_eq!(calendar.working_days_between(holiday, holiday).unwrap(), settled(0));
    assert_eq!(calendar.working_days_between(date!(2025 - 10 - 10), date!(2025 - 09 - 01)).unwrap(), settled(0));
    // (Oct 1, Oct 8] holds no working day.
    assert_eq!(calendar.working_days_between(date!(2025 - 10 - 01), date!(2025 - 10 - 08)).unwrap(), settled(0));
    assert_eq!(date!(2025 - 10 - 08).month(), Month::October);
}
