//! Extending the calendar by configuration, and the errors of bad year files and bad dates.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

use std::path::PathBuf;

use egov_calendar::{Answer, Calendar, CalendarError, DataError, DayKind, Problem};
use time::{Weekday, macros::date};

fn official() -> Calendar {
    Calendar::official().expect("the embedded schedules are valid")
}

fn data_error(result: Result<Calendar, CalendarError>) -> DataError {
    match result {
        Err(CalendarError::Data(error)) => error,
        other => panic!("expected a data error, got {other:?}"),
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("egov-calendar-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const Y2027: &str =
    "# a test schedule, not the real 2027 notice\nyear 2027\nholiday 2027-01-01..2027-01-03 元旦\nworkday 2027-01-09 元旦\n";

#[test]
fn a_new_year_file_makes_that_year_settled() {
    let calendar = official().with_year_file("cn-2027.txt", Y2027).unwrap();
    assert_eq!(calendar.loaded_years(), vec![2025, 2026, 2027]);
    assert_eq!(calendar.is_working_day(date!(2027 - 01 - 01)).unwrap(), Answer { value: false, provisional_years: vec![] });
    assert_eq!(
        calendar.day_kind(date!(2027 - 01 - 09)).unwrap(),
        Answer { value: DayKind::AdjustedWorkday("元旦".into()), provisional_years: vec![] }
    );
    // Late December 2026 is no longer provisional once 2027 is loaded.
    assert!(!calendar.is_working_day(date!(2026 - 12 - 28)).unwrap().is_provisional());
    assert_eq!(
        calendar.add_working_days(date!(2026 - 12 - 31), 2).unwrap(),
        Answer { value: date!(2027 - 01 - 05), provisional_years: vec![] }
    );
}

#[test]
fn a_year_file_replaces_that_year() {
    let corrected = "year 2026\nholiday 2026-01-01 元旦\n";
    let calendar = official().with_year_file("fix-2026.txt", corrected).unwrap();
    assert_eq!(calendar.source_of(2026), Some("fix-2026.txt"));
    assert_eq!(calendar.day_kind(date!(2026 - 02 - 16)).unwrap().value, DayKind::Workday);
    assert_eq!(calendar.day_kind(date!(2026 - 01 - 04)).unwrap().value, DayKind::Weekend);
}

#[test]
fn load_dir_adds_and_replaces_years() {
    let dir = TempDir::new("load");
    dir.write("cn-2027.txt", Y2027);
    dir.write("README.md", "not a year file");
    let calendar = official().load_dir(&dir.0).unwrap();
    assert_eq!(calendar.loaded_years(), vec![2025, 2026, 2027]);
    assert_eq!(calendar.source_of(2027), Some("cn-2027.txt"));
    assert!(!calendar.is_working_day(date!(2027 - 01 - 02)).unwrap().value);
}

#[test]
fn load_dir_rejects_a_file_named_for_another_year() {
    let dir = TempDir::new("name");
    dir.write("cn-2028.txt", Y2027);
    let error = data_error(official().load_dir(&dir.0));
    assert_eq!(error.file, "cn-2028.txt");
    assert_eq!(error.problem, Problem::FileNameYearMismatch { declared: 2027, in_name: 2028 });
}

#[test]
fn load_dir_rejects_two_files_for_one_year() {
    let dir = TempDir::new("dup");
    dir.write("a.txt", Y2027);
    dir.write("b.txt", Y2027);
    let error = data_error(official().load_dir(&dir.0));
    assert_eq!(error.file, "b.txt");
    assert_eq!(error.problem, Problem::DuplicateYearFile { year: 2027, other_file: "a.txt".into() });
}

#[test]
fn load_dir_of_a_missing_directory_is_an_io_error() {
    let result = official().load_dir("/nonexistent/egov-calendar");
    assert!(matches!(result, Err(CalendarError::Io { .. })), "{result:?}");
}

#[test]
fn errors_name_file_line_and_problem() {
    let cases: Vec<(&str, usize, Problem)> = vec![
        (
            "year 2025\nholiday 2025-10-01..2025-10-08 国庆节\nworkday 2025-10-04 国庆节\n",
            3,
            Problem::HolidayAlsoWorkday { date: date!(2025 - 10 - 04), other_line: 2 },
        ),
        ("year 2025\nholiday 2025-02-30 春节\n", 2, Problem::BadDate("2025-02-30".into())),
        ("year 2025\nholiday 2025-2-3 春节\n", 2, Problem::BadDate("2025-2-3".into())),
        ("year 2025\nworkday 2025-09-29 国庆节\n", 2, Problem::WorkdayNotWeekend { date: date!(2025 - 09 - 29), weekday: Weekday::Monday }),
        ("year 2025\nholiday 2026-01-01 元旦\n", 2, Problem::YearMismatch { declared: 2025, date: date!(2026 - 01 - 01) }),
        ("year 2025\nholiday 2024-12-01 元旦\n", 2, Problem::YearMismatch { declared: 2025, date: date!(2024 - 12 - 01) }),
        ("holiday 2025-01-01 元旦\n", 1, Problem::MissingYear),
        ("year 2025\nyear 2025\n", 2, Problem::DuplicateYear),
        ("year 25\n", 1, Problem::BadYear("25".into())),
        ("year 1899\n", 1, Problem::YearOutOfRange(1899)),
        ("year 2025\nvacation 2025-01-01 元旦\n", 2, Problem::BadLine("vacation 2025-01-01 元旦".into())),
        ("year 2025\nholiday 2025-01-01\n", 2, Problem::MissingName),
        (
            "year 2025\nholiday 2025-10-08..2025-10-01 国庆节\n",
            2,
            Problem::ReversedRange { from: date!(2025 - 10 - 08), to: date!(2025 - 10 - 01) },
        ),
        (
            "year 2025\nholiday 2025-10-01..2025-11-08 国庆节\n",
            2,
            Problem::RangeTooLong { from: date!(2025 - 10 - 01), to: date!(2025 - 11 - 08), days: 39 },
        ),
        ("year 2025\nworkday 2025-09-27..2025-09-28 国庆节\n", 2, Problem::WorkdayRange),
        (
            "year 2025\nholiday 2025-10-01..2025-10-03 国庆节\nholiday 2025-10-03 中秋节\n",
            3,
            Problem::DuplicateDate { date: date!(2025 - 10 - 03), other_line: 2 },
        ),
    ];
    for (text, line, problem) in cases {
        let error = data_error(Calendar::weekends_only().with_year_file("bad.txt", text));
        assert_eq!(error, DataError { file: "bad.txt".into(), line: Some(line), problem }, "{text}");
        assert!(error.to_string().starts_with(&format!("bad.txt:{line}: ")), "{error}");
    }
    // File-level problems have no line.
    let error = data_error(Calendar::weekends_only().with_year_file("empty.txt", "# nothing\n"));
    assert_eq!((error.line, error.problem), (None, Problem::MissingYear));
    let error = data_error(Calendar::weekends_only().with_year_file("empty.txt", "year 2027\n"));
    assert_eq!((error.line, error.problem), (None, Problem::NoEntries));
}

#[test]
fn a_notice_may_set_the_last_days_of_the_december_before() {
    // As the 2019 notice did: 元旦 2018-12-30..2019-01-01, 2018-12-29 (Saturday) worked.
    let y2019 = "year 2019\nholiday 2018-12-30..2019-01-01 元旦\nworkday 2018-12-29 元旦\n";
    let calendar = Calendar::weekends_only().with_year_file("cn-2019.txt", y2019).unwrap();
    assert_eq!(
        calendar.day_kind(date!(2018 - 12 - 29)).unwrap(),
        Answer { value: DayKind::AdjustedWorkday("元旦".into()), provisional_years: vec![2018] }
    );
    let y2018 = "year 2018\nholiday 2018-10-01..2018-10-07 国庆节\n";
    let calendar = calendar.with_year_file("cn-2018.txt", y2018).unwrap();
    assert_eq!(calendar.is_working_day(date!(2018 - 12 - 31)).unwrap(), Answer { value: false, provisional_years: vec![] });
    // The previous year's file may not contradict it.
    let y2018_conflicting = "year 2018\nworkday 2018-12-30 元旦\n";
    let error = data_error(calendar.with_year_file("other-2018.txt", y2018_conflicting));
    assert_eq!(error.problem, Problem::ConflictsWithFile { date: date!(2018 - 12 - 30), other_file: "cn-2019.txt".into() });
}

#[test]
fn dates_outside_1900_to_2200_are_errors_not_panics() {
    let calendar = official();
    let too_early = date!(1899 - 12 - 31);
    let too_late = date!(2201 - 01 - 01);
    assert!(matches!(calendar.is_working_day(too_early), Err(CalendarError::DateOutOfRange(d)) if d == too_early));
    assert!(matches!(calendar.day_kind(too_late), Err(CalendarError::DateOutOfRange(_))));
    assert!(matches!(calendar.working_days_between(too_early, date!(2025 - 01 - 01)), Err(CalendarError::DateOutOfRange(_))));
    assert!(matches!(calendar.add_working_days(too_late, 1), Err(CalendarError::DateOutOfRange(_))));
    assert!(matches!(calendar.add_working_days(date!(2200 - 12 - 31), 1), Err(CalendarError::ResultOutOfRange)));
    assert!(matches!(calendar.add_working_days(date!(2025 - 01 - 01), u32::MAX), Err(CalendarError::ResultOutOfRange)));
    assert!(matches!(calendar.filed_in_time(date!(2025 - 01 - 01), 5, too_late), Err(CalendarError::DateOutOfRange(_))));
    // The whole supported range works.
    let all = calendar.working_days_between(date!(1900 - 01 - 01), date!(2200 - 12 - 31)).unwrap();
    assert_eq!(all.provisional_years.len(), 301 - 2);
    assert_eq!(calendar.add_working_days(date!(1900 - 01 - 01), all.value).unwrap().value, date!(2200 - 12 - 31));
}
