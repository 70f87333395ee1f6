//! The official Chinese working-day calendar: statutory holidays and the weekend days worked in
//! exchange (调休), as published each year by the State Council General Office
//! (国务院办公厅关于 YYYY 年部分节假日安排的通知).
//!
//! The schedules are data in the repository (`data/cn-YYYY.txt`, embedded at build time) and can
//! be extended or corrected by configuration ([`Calendar::load_dir`], [`Calendar::with_year_file`])
//! when a new year's notice is published. A year whose schedule is not loaded is computed
//! *provisionally*, weekends only, and every answer says which years were provisional
//! ([`Answer::provisional_years`]); recompute once the year is loaded.
//!
//! # Definitions
//!
//! * A **working day** is a Monday–Friday that is not a holiday, or a Saturday/Sunday listed as
//!   worked in exchange (调休上班).
//! * [`Calendar::add_working_days`]`(date, n)` is the n-th working day *after* `date`; `date`
//!   itself is never counted, and `n = 0` gives `date` back. "Filed within 5 working days of the
//!   document's date" means: deadline = `add_working_days(doc_date, 5)`, and filing on the
//!   deadline day is on time ([`Calendar::filed_in_time`]).
//! * [`Calendar::working_days_between`]`(from, to)` counts the working days in `(from, to]`
//!   (`from` excluded, `to` included), 0 when `to <= from`. So
//!   `working_days_between(d, add_working_days(d, n)) == n`.
//!
//! Dates are supported in `1900-01-01..=2200-12-31`; outside, queries return
//! [`CalendarError`], never panic.
//!
//! # Example
//!
//! ```
//! use egov_calendar::Calendar;
//! use time::macros::date;
//!
//! let calendar = Calendar::official()?;
//! // A document dated Friday 2025-09-26, to be filed within 5 working days: National Day is
//! // 10-01..=10-08, Sunday 09-28 and Saturday 10-11 are worked in exchange.
//! let deadline = calendar.add_working_days(date!(2025 - 09 - 26), 5)?;
//! assert_eq!(deadline.value, date!(2025 - 10 - 10));
//! assert!(!deadline.is_provisional());
//! // 2027's schedule is not loaded: weekends only, and the answer says so.
//! assert_eq!(calendar.is_working_day(date!(2027 - 01 - 01))?.provisional_years, vec![2027]);
//! # Ok::<(), egov_calendar::CalendarError>(())
//! ```
//!
//! # Provisional answers
//!
//! A date of year Y is provisional when Y's schedule is not loaded. A date in 12-25..=12-31 of Y
//! is also provisional when Y+1 is not loaded, because a notice may set the last days of the
//! December before (the 2019 notice made 2018-12-30/31 holidays and 2018-12-29 a working day).

mod error;
mod parse;

use std::{collections::BTreeMap, path::Path};

use serde::Serialize;
use time::{Date, Month, Weekday};

pub use error::{CalendarError, DataError, Problem};
use parse::{EntryKind, YearFile};

/// First supported year.
pub const MIN_YEAR: i32 = 1900;
/// Last supported year.
pub const MAX_YEAR: i32 = 2200;
/// Longest accepted holiday range, in days (the longest so far is 9: 2026's Spring Festival).
pub const MAX_HOLIDAY_RUN: i64 = 14;
/// A year's file may also set December `PREVIOUS_YEAR_REACH_FROM_DAY..=31` of the year before.
pub const PREVIOUS_YEAR_REACH_FROM_DAY: u8 = 25;

/// The embedded official schedules: (file name, text).
const OFFICIAL_FILES: [(&str, &str); 2] =
    [("cn-2025.txt", include_str!("../data/cn-2025.txt")), ("cn-2026.txt", include_str!("../data/cn-2026.txt"))];

/// An answer, and which years it had to compute provisionally (weekends only) because their
/// official schedule is not loaded. Empty `provisional_years` means every year involved is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer<T> {
    /// The answer.
    pub value: T,
    /// Years involved whose schedule is not loaded, ascending, without duplicates.
    pub provisional_years: Vec<i32>,
}

impl<T> Answer<T> {
    /// Whether any year involved was computed provisionally.
    pub fn is_provisional(&self) -> bool {
        !self.provisional_years.is_empty()
    }

    /// The same provenance, another value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Answer<U> {
        Answer { value: f(self.value), provisional_years: self.provisional_years }
    }
}

/// What kind of day a date is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DayKind {
    /// An ordinary Monday–Friday.
    Workday,
    /// An ordinary Saturday or Sunday.
    Weekend,
    /// A day off of the named statutory holiday (including weekend days inside the holiday).
    Holiday(String),
    /// A Saturday or Sunday worked in exchange (调休上班) for the named holiday.
    AdjustedWorkday(String),
}

impl DayKind {
    /// Whether this kind of day is a working day.
    pub fn is_working_day(&self) -> bool {
        matches!(self, DayKind::Workday | DayKind::AdjustedWorkday(_))
    }
}

/// The working-day calendar. Cheap to clone; immutable once built.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    years: BTreeMap<i32, YearFile>,
}

impl Calendar {
    /// A calendar with no schedules loaded: every answer is provisional (weekends only).
    pub fn weekends_only() -> Calendar {
        Calendar::default()
    }

    /// The official schedules embedded in this crate (2025 and 2026).
    ///
    /// Fails only if the embedded data is invalid, which this crate's tests rule out.
    pub fn official() -> Result<Calendar, CalendarError> {
        let mut calendar = Calendar::default();
        for (name, text) in OFFICIAL_FILES {
            calendar = calendar.with_year_file(name, text)?;
        }
        Ok(calendar)
    }

    /// Adds one year file (see `OVERVIEW.md` for the format); it replaces any schedule already
    /// loaded for its year. `source` names the file in errors and in [`Calendar::source_of`].
    pub fn with_year_file(mut self, source: &str, text: &str) -> Result<Calendar, CalendarError> {
        let file = parse::parse_year_file(source, text)?;
        self.years.remove(&file.year);
        self.insert(file)?;
        Ok(self)
    }

    /// Adds every `*.txt` year file of a directory (read in file-name order), each replacing the
    /// schedule already loaded for its year. A file name ending in a 4-digit year (`cn-2027.txt`)
    /// must match the file's `year` line; two files for one year are an error.
    pub fn load_dir(mut self, dir: impl AsRef<Path>) -> Result<Calendar, CalendarError> {
        let dir = dir.as_ref();
        let io_error = |path: &Path, source| CalendarError::Io { path: path.to_path_buf(), source };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
            let path = entry.map_err(|e| io_error(dir, e))?.path();
            if path.is_file() && path.extension().is_some_and(|ext| ext == "txt") {
                paths.push(path);
            }
        }
        paths.sort();

        let mut files: Vec<YearFile> = Vec::new();
        for path in &paths {
            let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
            let file = parse::parse_year_file(&name, &text)?;
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(in_name) = parse::year_in_file_name(&stem)
                && in_name != file.year
            {
                return Err(data_error(&name, Problem::FileNameYearMismatch { declared: file.year, in_name }));
            }
            if let Some(other) = files.iter().find(|f| f.year == file.year) {
                return Err(data_error(&name, Problem::DuplicateYearFile { year: file.year, other_file: other.source.clone() }));
            }
            files.push(file);
        }
        for file in &files {
            self.years.remove(&file.year);
        }
        for file in files {
            self.insert(file)?;
        }
        Ok(self)
    }

    /// The years whose official schedule is loaded, ascending.
    pub fn loaded_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// The file a loaded year came from.
    pub fn source_of(&self, year: i32) -> Option<&str> {
        self.years.get(&year).map(|f| f.source.as_str())
    }

    /// What kind of day `date` is.
    pub fn day_kind(&self, date: Date) -> Result<Answer<DayKind>, CalendarError> {
        check_range(date)?;
        let mut provisional = Provisional::default();
        let kind = self.classify(date, &mut provisional);
        Ok(provisional.answer(kind))
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: Date) -> Result<Answer<bool>, CalendarError> {
        Ok(self.day_kind(date)?.map(|kind| kind.is_working_day()))
    }

    /// The n-th working day after `date` (`date` itself not counted; `n = 0` gives `date`).
    ///
    /// "Within 5 working days of the document's date": deadline = `add_working_days(doc_date, 5)`,
    /// and filing on the deadline day is on time.
    pub fn add_working_days(&self, date: Date, n: u32) -> Result<Answer<Date>, CalendarError> {
        check_range(date)?;
        let mut provisional = Provisional::default();
        let mut current = date;
        let mut counted = 0u32;
        while counted < n {
            current = current.next_day().ok_or(CalendarError::Overflow)?;
            if current.year() > MAX_YEAR {
                return Err(CalendarError::ResultOutOfRange);
            }
            if self.classify(current, &mut provisional).is_working_day() {
                counted = counted.checked_add(1).ok_or(CalendarError::Overflow)?;
            }
        }
        Ok(provisional.answer(current))
    }

    /// The number of working days in `(from, to]`: `from` excluded, `to` included; 0 when `to <= from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<Answer<u32>, CalendarError> {
        check_range(from)?;
        check_range(to)?;
        let mut provisional = Provisional::default();
        let mut count = 0u32;
        let mut current = from;
        while current < to {
            current = current.next_day().ok_or(CalendarError::Overflow)?;
            if self.classify(current, &mut provisional).is_working_day() {
                count = count.checked_add(1).ok_or(CalendarError::Overflow)?;
            }
        }
        Ok(provisional.answer(count))
    }

    /// Whether something due "within `n` working days of `start`" and done on `done_on` is on
    /// time: `done_on <= add_working_days(start, n)`. Done on the deadline day is on time; done
    /// on a non-working day after the deadline is late.
    pub fn filed_in_time(&self, start: Date, n: u32, done_on: Date) -> Result<Answer<bool>, CalendarError> {
        check_range(done_on)?;
        Ok(self.add_working_days(start, n)?.map(|deadline| done_on <= deadline))
    }

    /// The official years compiled in, with the year files of `dir` (the `policy.calendar_dir`
    /// setting) loaded over them when it is not empty: how every service builds its calendar.
    pub fn configured(dir: &str) -> Result<Calendar, CalendarError> {
        let calendar = Calendar::official()?;
        if dir.trim().is_empty() { Ok(calendar) } else { calendar.load_dir(dir.trim()) }
    }

    /// R-P5's filing assessment (备案时限) of a document produced on `produced_on` and filed on
    /// `filed_on`: the deadline is the `n`-th working day after the production day (that day not
    /// counted), filing on or before it is on time, after it late (accepted, and marked). Every
    /// service that files documents assesses them here, the one way.
    pub fn assess_filing(&self, produced_on: Date, n: u32, filed_on: Date) -> Result<FilingAssessment, CalendarError> {
        let deadline = self.add_working_days(produced_on, n)?;
        let taken = self.working_days_between(produced_on, filed_on)?;
        let mut provisional_years = deadline.provisional_years;
        provisional_years.extend(taken.provisional_years);
        provisional_years.sort_unstable();
        provisional_years.dedup();
        Ok(FilingAssessment {
            deadline: deadline.value,
            late: filed_on > deadline.value,
            working_days_taken: taken.value,
            provisional_years,
        })
    }

    fn insert(&mut self, file: YearFile) -> Result<(), CalendarError> {
        // A date can be set by its own year's file and by the next year's file (late December).
        for (date, entry) in &file.entries {
            for year in [date.year(), date.year() + 1] {
                if year == file.year {
                    continue;
                }
                if let Some(other) = self.years.get(&year)
                    && let Some(existing) = other.entries.get(date)
                    && (existing.kind != entry.kind || existing.name != entry.name)
                {
                    return Err(CalendarError::Data(DataError {
                        file: file.source.clone(),
                        line: Some(entry.line),
                        problem: Problem::ConflictsWithFile { date: *date, other_file: other.source.clone() },
                    }));
                }
            }
        }
        self.years.insert(file.year, file);
        Ok(())
    }

    fn classify(&self, date: Date, provisional: &mut Provisional) -> DayKind {
        let year = date.year();
        let late_december = date.month() == Month::December && date.day() >= PREVIOUS_YEAR_REACH_FROM_DAY;
        if !self.years.contains_key(&year) {
            provisional.add(year);
        }
        if late_december && year < MAX_YEAR && !self.years.contains_key(&(year + 1)) {
            provisional.add(year + 1);
        }
        let own = self.years.get(&year).and_then(|f| f.entries.get(&date));
        let next = || if late_december { self.years.get(&(year + 1)).and_then(|f| f.entries.get(&date)) } else { None };
        match own.or_else(next) {
            Some(entry) => match entry.kind {
                EntryKind::Holiday => DayKind::Holiday(entry.name.clone()),
                EntryKind::Workday => DayKind::AdjustedWorkday(entry.name.clone()),
            },
            None if matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) => DayKind::Weekend,
            None => DayKind::Workday,
        }
    }
}

/// How a filing stands against its R-P5 deadline ([`Calendar::assess_filing`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FilingAssessment {
    /// The last on-time day.
    pub deadline: Date,
    /// Filed after `deadline`: accepted and recorded as late.
    pub late: bool,
    /// Working days in `(produced_on, filed_on]`.
    pub working_days_taken: u32,
    /// Years counted on weekends only (no official schedule loaded): the assessment is
    /// provisional and is redone once they are loaded.
    pub provisional_years: Vec<i32>,
}

/// Collects the provisional years met while answering.
#[derive(Default)]
struct Provisional(Vec<i32>);

impl Provisional {
    fn add(&mut self, year: i32) {
        if !self.0.contains(&year) {
            self.0.push(year);
        }
    }

    fn answer<T>(mut self, value: T) -> Answer<T> {
        self.0.sort_unstable();
        Answer { value, provisional_years: self.0 }
    }
}

fn check_range(date: Date) -> Result<(), CalendarError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&date.year()) { Ok(()) } else { Err(CalendarError::DateOutOfRange(date)) }
}

fn data_error(file: &str, problem: Problem) -> CalendarError {
    CalendarError::Data(DataError { file: file.to_owned(), line: None, problem })
}
