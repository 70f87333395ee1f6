//! The year file format: one entry per line, `#` starts a comment.
//!
//! ```text
//! year 2025
//! holiday 2025-10-01..2025-10-08 国庆节、中秋节
//! workday 2025-09-28 国庆节、中秋节
//! ```

use std::collections::BTreeMap;

use time::{Date, Month, Weekday};

use crate::{
    MAX_HOLIDAY_RUN, MAX_YEAR, MIN_YEAR, PREVIOUS_YEAR_REACH_FROM_DAY,
    error::{DataError, Problem},
};

/// Whether a listed date is a day off or a weekend day worked in exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    Holiday,
    Workday,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) kind: EntryKind,
    pub(crate) name: String,
    pub(crate) line: usize,
}

/// One parsed and validated year file.
#[derive(Debug, Clone)]
pub(crate) struct YearFile {
    pub(crate) year: i32,
    pub(crate) source: String,
    pub(crate) entries: BTreeMap<Date, Entry>,
}

/// Parses and validates one year file; `source` names it in errors.
pub(crate) fn parse_year_file(source: &str, text: &str) -> Result<YearFile, DataError> {
    let err = |line: Option<usize>, problem: Problem| DataError { file: source.to_owned(), line, problem };
    let mut year: Option<i32> = None;
    let mut entries: BTreeMap<Date, Entry> = BTreeMap::new();

    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let content = raw.split('#').next().unwrap_or_default().trim();
        if content.is_empty() {
            continue;
        }
        let (directive, rest) = split_word(content);
        match directive {
            "year" => {
                if year.is_some() {
                    return Err(err(Some(line_no), Problem::DuplicateYear));
                }
                let declared = parse_year(rest).ok_or_else(|| err(Some(line_no), Problem::BadYear(rest.to_owned())))?;
                if !(MIN_YEAR..=MAX_YEAR).contains(&declared) {
                    return Err(err(Some(line_no), Problem::YearOutOfRange(declared)));
                }
                year = Some(declared);
            }
            "holiday" | "workday" => {
                let declared = year.ok_or_else(|| err(Some(line_no), Problem::MissingYear))?;
                let kind = if directive == "holiday" { EntryKind::Holiday } else { EntryKind::Workday };
                let (dates, name) = split_word(rest);
                if dates.is_empty() {
                    return Err(err(Some(line_no), Problem::BadLine(content.to_owned())));
                }
                if name.is_empty() {
                    return Err(err(Some(line_no), Problem::MissingName));
                }
                let (from, to) = parse_dates(dates).map_err(|problem| err(Some(line_no), problem))?;
                if kind == EntryKind::Workday && from != to {
                    return Err(err(Some(line_no), Problem::WorkdayRange));
                }
                let days = (to - from).whole_days() + 1;
                if days > MAX_HOLIDAY_RUN {
                    return Err(err(Some(line_no), Problem::RangeTooLong { from, to, days }));
                }
                let mut date = from;
                loop {
                    add_entry(&mut entries, declared, date, Entry { kind, name: name.to_owned(), line: line_no })
                        .map_err(|problem| err(Some(line_no), problem))?;
                    if date >= to {
                        break;
                    }
                    date = date.next_day().ok_or_else(|| err(Some(line_no), Problem::BadDate(dates.to_owned())))?;
                }
            }
            _ => return Err(err(Some(line_no), Problem::BadLine(content.to_owned()))),
        }
    }

    let year = year.ok_or_else(|| err(None, Problem::MissingYear))?;
    if entries.is_empty() {
        return Err(err(None, Problem::NoEntries));
    }
    Ok(YearFile { year, source: source.to_owned(), entries })
}

/// The year in a file name such as `cn-2027.txt` or `2027.txt` (exactly four trailing digits of the stem).
pub(crate) fn year_in_file_name(stem: &str) -> Option<i32> {
    let digits = stem.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits != 4 {
        return None;
    }
    stem.get(stem.len() - 4..)?.parse().ok()
}

fn add_entry(entries: &mut BTreeMap<Date, Entry>, declared: i32, date: Date, entry: Entry) -> Result<(), Problem> {
    if !belongs_to_year(date, declared) {
        return Err(Problem::YearMismatch { declared, date });
    }
    if entry.kind == EntryKind::Workday && !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
        return Err(Problem::WorkdayNotWeekend { date, weekday: date.weekday() });
    }
    if let Some(existing) = entries.get(&date) {
        return Err(if existing.kind == entry.kind {
            Problem::DuplicateDate { date, other_line: existing.line }
        } else {
            Problem::HolidayAlsoWorkday { date, other_line: existing.line }
        });
    }
    entries.insert(date, entry);
    Ok(())
}

/// A year's notice sets its own year's dates, and sometimes the last days of December before
/// (the 2019 notice: 元旦 2018-12-30..2019-01-01 with 2018-12-29 worked).
pub(crate) fn belongs_to_year(date: Date, year: i32) -> bool {
    date.year() == year || (date.year() == year - 1 && date.month() == Month::December && date.day() >= PREVIOUS_YEAR_REACH_FROM_DAY)
}

fn split_word(text: &str) -> (&str, &str) {
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

fn parse_year(text: &str) -> Option<i32> {
    if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) { text.parse().ok() } else { None }
}

fn parse_dates(text: &str) -> Result<(Date, Date), Problem> {
    let (from, to) = match text.split_once("..") {
        Some((from, to)) => (parse_date(from)?, parse_date(to)?),
        None => {
            let date = parse_date(text)?;
            (date, date)
        }
    };
    if to < from {
        return Err(Problem::ReversedRange { from, to });
    }
    Ok((from, to))
}

/// Strict `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Result<Date, Problem> {
    let bad = || Problem::BadDate(text.to_owned());
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes.iter().enumerate().all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape_ok {
        return Err(bad());
    }
    let year: i32 = text[0..4].parse().map_err(|_| bad())?;
    let month: u8 = text[5..7].parse().map_err(|_| bad())?;
    let day: u8 = text[8..10].parse().map_err(|_| bad())?;
    let month = Month::try_from(month).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, day).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_dates() {
        assert!(parse_date("2025-10-01").is_ok());
        for bad in ["2025-02-29", "2025-13-01", "2025-1-01", "25-10-01", "2025/10/01", "２０２５-10-01", "2025-10-01x", ""] {
            assert_eq!(parse_date(bad), Err(Problem::BadDate(bad.to_owned())), "{bad}");
        }
    }

    #[test]
    fn year_in_file_names() {
        assert_eq!(year_in_file_name("cn-2027"), Some(2027));
        assert_eq!(year_in_file_name("2027"), Some(2027));
        assert_eq!(year_in_file_name("cn-20270"), None);
        assert_eq!(year_in_file_name("holidays"), None);
    }

    #[test]
    fn ranges_and_comments() {
        let file = parse_year_file("t", "# c\nyear 2025\n\nholiday 2025-10-01..2025-10-03 国庆节 # trailing\nworkday 2025-09-28 国庆节\n")
            .expect("valid");
        assert_eq!(file.year, 2025);
        assert_eq!(file.entries.len(), 4);
        assert_eq!(file.entries.values().next().map(|e| e.name.as_str()), Some("国庆节"));
    }
}
