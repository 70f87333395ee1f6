//! Value types every service shares: money in fen and the ids of projects and units, each with a
//! checked constructor, so a value that exists is a valid one.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::FieldViolation;

/// Money in fen (分): an integer, never negative, never floating point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Fen(i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// `None` for a negative amount.
    pub fn new(fen: i64) -> Option<Fen> {
        (fen >= 0).then_some(Fen(fen))
    }

    /// A request's amount field: refused (naming `field`) when negative.
    pub fn field(field: &str, fen: i64) -> Result<Fen, FieldViolation> {
        Fen::new(fen).ok_or_else(|| FieldViolation::new(field, format!("{fen} is negative: amounts are whole fen (分), 0 or more")))
    }

    /// A request's amount field that must be more than zero.
    pub fn positive(field: &str, fen: i64) -> Result<Fen, FieldViolation> {
        match Fen::field(field, fen)? {
            Fen(0) => Err(FieldViolation::new(field, "must be more than 0 fen")),
            f => Ok(f),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    /// `None` when `other` is larger (money never goes negative).
    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).and_then(Fen::new)
    }

    /// The sum of `amounts`; `None` on overflow.
    pub fn sum<I: IntoIterator<Item = Fen>>(amounts: I) -> Option<Fen> {
        amounts.into_iter().try_fold(Fen::ZERO, Fen::checked_add)
    }

    /// `self` as basis points (1/10,000) of `whole`, rounded down; `None` for a zero whole.
    pub fn basis_points_of(self, whole: Fen) -> Option<i64> {
        if whole.0 == 0 {
            return None;
        }
        i64::try_from(i128::from(self.0) * 10_000 / i128::from(whole.0)).ok()
    }

    /// Whether `self` is at least `bp` basis points of `whole`, compared exactly in integers.
    pub fn at_least_bp_of(self, bp: u32, whole: Fen) -> bool {
        i128::from(self.0) * 10_000 >= i128::from(whole.0) * i128::from(bp)
    }

    /// Yuan with two decimals (`1234.50`), for messages.
    pub fn yuan(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} yuan", self.yuan())
    }
}

/// A project's id: the application's id in intake, which every later service keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProjectId(Uuid);

impl ProjectId {
    /// A new id (UUIDv7: time-ordered, so pages of projects are stable).
    pub fn generate() -> ProjectId {
        ProjectId(Uuid::now_v7())
    }

    /// A request's or an event's id field: required, a UUID.
    pub fn parse(field: &str, raw: &str) -> Result<ProjectId, FieldViolation> {
        crate::convert::uuid(field, raw).map(ProjectId)
    }

    pub fn uuid(self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for ProjectId {
    fn from(u: Uuid) -> ProjectId {
        ProjectId(u)
    }
}

impl From<ProjectId> for Uuid {
    fn from(p: ProjectId) -> Uuid {
        p.0
    }
}

impl fmt::Display for ProjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A unit's id (项目建设单位): 2 to 32 ASCII letters, digits or '-', e.g. `U-CIVIL`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnitId(String);

impl UnitId {
    pub fn parse(field: &str, raw: &str) -> Result<UnitId, FieldViolation> {
        let id = raw.trim();
        if id.len() < 2 || id.len() > 32 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(FieldViolation::new(field, "2 to 32 letters, digits or '-' (e.g. U-CIVIL)"));
        }
        Ok(UnitId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for UnitId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fen_is_never_negative() {
        assert_eq!(Fen::new(-1), None);
        assert_eq!(Fen::field("budget_fen", -5).unwrap_err().field, "budget_fen");
        assert_eq!(Fen::positive("x", 0).unwrap_err().field, "x");
        assert_eq!(Fen::new(5).unwrap().checked_sub(Fen::new(6).unwrap()), None);
        assert_eq!(Fen::sum([Fen(1), Fen(2)]), Some(Fen(3)));
        assert_eq!(Fen::sum([Fen(i64::MAX), Fen(1)]), None);
        assert_eq!(Fen(123_450).yuan(), "1234.50");
    }

    #[test]
    fn basis_points_compare_exactly() {
        // 15 % of 1,000,000 fen is 150,000: 149,999 is below, 150,000 is at, 150,001 above.
        let whole = Fen(1_000_000);
        assert!(!Fen(149_999).at_least_bp_of(1500, whole));
        assert!(Fen(150_000).at_least_bp_of(1500, whole));
        assert!(Fen(150_001).at_least_bp_of(1500, whole));
        assert_eq!(Fen(149_999).basis_points_of(whole), Some(1499));
        assert_eq!(Fen(1).basis_points_of(Fen::ZERO), None);
    }

    #[test]
    fn ids_are_checked() {
        assert!(ProjectId::parse("project_id", "nope").is_err());
        assert_eq!(ProjectId::parse("project_id", "").unwrap_err().field, "project_id");
        let p = ProjectId::generate();
        assert_eq!(ProjectId::parse("p", &p.to_string()).unwrap(), p);
        assert_eq!(UnitId::parse("unit_id", " U-CIVIL ").unwrap().as_str(), "U-CIVIL");
        for bad in ["", "U", "U CIVIL", &"U".repeat(33), "单位"] {
            assert!(UnitId::parse("unit_id", bad).is_err(), "{bad:?}");
        }
    }
}
