//! Errors: bad year files (naming file, line and problem), dates outside the supported range,
//! unreadable directories.

use std::{fmt, path::PathBuf};

use time::{Date, Weekday};

use crate::{MAX_YEAR, MIN_YEAR};

/// Everything that can go wrong. Nothing in this crate panics; every failure is one of these.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// A date given to a query lies outside `1900-01-01..=2200-12-31`.
    #[error("{0} is outside the supported range {MIN_YEAR}-01-01..={MAX_YEAR}-12-31")]
    DateOutOfRange(Date),
    /// The answer would lie after `2200-12-31`.
    #[error("the answer would fall after {MAX_YEAR}-12-31, outside the supported range")]
    ResultOutOfRange,
    /// Date arithmetic overflowed (cannot happen inside the supported range; reported, not panicked).
    #[error("date arithmetic overflowed")]
    Overflow,
    /// A year file is wrong.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A year file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A problem in a year file: which file, which line (if the problem has one), and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DataError {
    /// The file's name (or the label given to [`crate::Calendar::with_year_file`]).
    pub file: String,
    /// 1-based line number, `None` for problems of the file as a whole.
    pub line: Option<usize>,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.problem),
            None => write!(f, "{}: {}", self.file, self.problem),
        }
    }
}

/// What is wrong with a year file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A line that is not `year`, `holiday`, `workday`, a comment or blank.
    BadLine(String),
    /// `year` is not a 4-digit number.
    BadYear(String),
    /// The declared year is outside 1900..=2200.
    YearOutOfRange(i32),
    /// A second `year` line.
    DuplicateYear,
    /// An entry before any `year` line, or a file without one.
    MissingYear,
    /// The file has a `year` line but no entries (which would silently mark the year as loaded).
    NoEntries,
    /// Not a valid `YYYY-MM-DD` date.
    BadDate(String),
    /// `holiday A..B` with B before A.
    ReversedRange { from: Date, to: Date },
    /// A holiday range longer than [`crate::MAX_HOLIDAY_RUN`] days (almost certainly a typo).
    RangeTooLong { from: Date, to: Date, days: i64 },
    /// A `workday` line with a range.
    WorkdayRange,
    /// An entry without a name.
    MissingName,
    /// A date that does not belong to the declared year (nor to 12-25..=12-31 of the year before).
    YearMismatch { declared: i32, date: Date },
    /// The file name says one year, its `year` line another.
    FileNameYearMismatch { declared: i32, in_name: i32 },
    /// A date listed both as a holiday and as a workday.
    HolidayAlsoWorkday { date: Date, other_line: usize },
    /// A date listed twice with the same kind (overlapping holiday ranges, repeated workday).
    DuplicateDate { date: Date, other_line: usize },
    /// A `workday` (调休上班) that is not a Saturday or Sunday.
    WorkdayNotWeekend { date: Date, weekday: Weekday },
    /// A date also set, differently, by another loaded year file.
    ConflictsWithFile { date: Date, other_file: String },
    /// Two files in one directory for the same year.
    DuplicateYearFile { year: i32, other_file: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BadLine(line) => {
                write!(f, "expected `year YYYY`, `holiday FROM[..TO] NAME` or `workday DATE NAME`, found `{line}`")
            }
            Problem::BadYear(text) => write!(f, "`{text}` is not a year (expected `year YYYY`)"),
            Problem::YearOutOfRange(year) => write!(f, "year {year} is outside the supported range {MIN_YEAR}..={MAX_YEAR}"),
            Problem::DuplicateYear => write!(f, "a second `year` line (one file holds one year)"),
            Problem::MissingYear => write!(f, "no `year YYYY` line before the first entry"),
            Problem::NoEntries => write!(f, "no `holiday` or `workday` entries (an empty file would mark the year as officially loaded)"),
            Problem::BadDate(text) => write!(f, "`{text}` is not a valid date (expected YYYY-MM-DD)"),
            Problem::ReversedRange { from, to } => write!(f, "holiday range {from}..{to} ends before it starts"),
            Problem::RangeTooLong { from, to, days } => {
                write!(f, "holiday range {from}..{to} is {days} days long, more than {} (a typo?)", crate::MAX_HOLIDAY_RUN)
            }
            Problem::WorkdayRange => write!(f, "`workday` takes a single date, not a range"),
            Problem::MissingName => write!(f, "missing the holiday's name after the date"),
            Problem::YearMismatch { declared, date } => write!(
                f,
                "date {date} does not belong to year {declared} (a year's file holds its own dates \
                 and at most 12-25..=12-31 of the year before)"
            ),
            Problem::FileNameYearMismatch { declared, in_name } => {
                write!(f, "the file name says year {in_name} but its `year` line says {declared}")
            }
            Problem::HolidayAlsoWorkday { date, other_line } => {
                write!(f, "{date} is listed both as a holiday and as a workday (see line {other_line})")
            }
            Problem::DuplicateDate { date, other_line } => write!(f, "{date} is listed twice (see line {other_line})"),
            Problem::WorkdayNotWeekend { date, weekday } => {
                write!(f, "workday {date} is a {weekday}; a day worked in exchange (调休) must be a Saturday or Sunday")
            }
            Problem::ConflictsWithFile { date, other_file } => write!(f, "{date} is set differently by {other_file}"),
            Problem::DuplicateYearFile { year, other_file } => write!(f, "year {year} is also given by {other_file}"),
        }
    }
}
