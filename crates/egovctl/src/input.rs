//! What the JSON input files (`--draft`, `--terms`) have in common: reading a file or standard
//! input, parsing it with serde (unknown keys are refused by the file types), and mapping its
//! names and dates to proto values while collecting every problem, so that one run reports all
//! of them, each with the field it is in. The file types themselves live with their commands
//! (`draft.rs`, `procurement/terms.rs`).

use std::fmt;

use egov_proto::common::CivilDate;
use serde::de::DeserializeOwned;

use crate::{
    cli::parse_date,
    enums::{self, ProtoEnum},
};

/// Everything wrong with an input file, each naming its field (`draft.budget[2].category`), or
/// the file itself when it cannot be read or parsed. The caller shows it and exits 2 (usage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// `(field, message)`, in the order found.
    pub problems: Vec<(String, String)>,
}

impl InputError {
    fn one(field: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError { problems: vec![(field.into(), message.into())] }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (field, message)) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{field}: {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// Parses a file's text; the problem, with serde's line and column, is under `root` (`draft`).
pub fn parse<T: DeserializeOwned>(root: &str, text: &str) -> Result<T, InputError> {
    serde_json::from_str(text).map_err(|e| InputError::one(root, e.to_string()))
}

/// Reads the file at `path` (`-` for standard input) and parses it with `parse`. What is wrong
/// with reading or parsing it is reported under the path; `what` names the file in the message
/// (`cannot read the draft file: …`).
pub fn load<T>(path: &str, what: &str, parse: impl FnOnce(&str) -> Result<T, InputError>) -> Result<T, InputError> {
    let text = if path == "-" { std::io::read_to_string(std::io::stdin()) } else { std::fs::read_to_string(path) }
        .map_err(|e| InputError::one(path, format!("cannot read the {what}: {e}")))?;
    parse(&text).map_err(|e| InputError { problems: e.problems.into_iter().map(|(_, m)| (path.to_string(), m)).collect() })
}

/// Maps a parsed file's names and dates to proto values, collecting the problems; each is
/// reported as `root.field` (`terms.construction_end`). An unknown name maps to 0
/// (UNSPECIFIED) and a bad date to none, so the mapping goes on to the end.
pub struct Mapper {
    root: &'static str,
    problems: Vec<(String, String)>,
}

impl Mapper {
    pub fn new(root: &'static str) -> Mapper {
        Mapper { root, problems: Vec::new() }
    }

    fn problem(&mut self, field: &str, message: String) {
        self.problems.push((format!("{}.{field}", self.root), message));
    }

    /// An enum's name (short or full, any case).
    pub fn value<E: ProtoEnum>(&mut self, field: &str, value: &str) -> i32 {
        match enums::parse::<E>(value) {
            Ok(e) => e.into(),
            Err(message) => {
                self.problem(field, message);
                0
            }
        }
    }

    /// An enum's name the file may leave out: `absent` then.
    pub fn optional<E: ProtoEnum>(&mut self, field: &str, value: &Option<String>, absent: E) -> i32 {
        match value {
            None => absent.into(),
            Some(v) => self.value::<E>(field, v),
        }
    }

    /// A list of enum names; a problem names its index (`draft.content_kinds[1]`).
    pub fn many<E: ProtoEnum>(&mut self, field: &str, values: &[String]) -> Vec<i32> {
        values.iter().enumerate().map(|(i, v)| self.value::<E>(&format!("{field}[{i}]"), v)).collect()
    }

    /// A `YYYY-MM-DD` date the file may leave out.
    pub fn date(&mut self, field: &str, value: &Option<String>) -> Option<CivilDate> {
        let v = value.as_deref()?;
        match parse_date(v) {
            Ok(d) => Some(d),
            Err(message) => {
                self.problem(field, message);
                None
            }
        }
    }

    /// `value` when nothing was wrong, else every problem found.
    pub fn finish<T>(self, value: T) -> Result<T, InputError> {
        if self.problems.is_empty() { Ok(value) } else { Err(InputError { problems: self.problems }) }
    }
}

#[cfg(test)]
mod tests {
    use egov_proto::intake::Terminal;

    use super::*;

    #[test]
    fn problems_are_listed_in_order_under_the_root() {
        let mut m = Mapper::new("x");
        assert_eq!(m.optional("t", &None, Terminal::Zhezhengding), Terminal::Zhezhengding as i32);
        assert_eq!(m.many::<Terminal>("ts", &["ZHEZHENGDING".into(), "FAX".into()]), vec![Terminal::Zhezhengding as i32, 0]);
        assert_eq!(m.date("on", &Some("2026-02-30".into())), None);
        let e = m.finish(()).unwrap_err();
        let fields: Vec<&str> = e.problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vec!["x.ts[1]", "x.on"]);
        assert_eq!(e.to_string().lines().count(), 2);
    }

    #[test]
    fn unreadable_and_malformed_files_are_reported_under_their_path() {
        let e = load("/nonexistent/x.json", "x file", |t| parse::<Vec<i32>>("x", t)).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/x.json: cannot read the x file: "), "{e}");
        let e = parse::<Vec<i32>>("x", "[1,").unwrap_err();
        assert_eq!(e.problems[0].0, "x");
    }
}
