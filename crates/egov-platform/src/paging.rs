//! AIP-158 pagination: `page_size` (default 50, at most 500) and an opaque `page_token` that is
//! the last returned key; results are ordered by that key so pages are stable.

use crate::error::FieldViolation;

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 500;

pub fn page_size(raw: i32) -> Result<i64, FieldViolation> {
    match raw {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n < 0 => Err(FieldViolation::new("page_size", "must not be negative")),
        n => Ok(i64::from(n).min(MAX_PAGE_SIZE)),
    }
}

/// Given `limit + 1` rows, returns the page and the next token (the last key of the page).
pub fn page<T>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> (Vec<T>, String) {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        let next = rows.last().map(&key).unwrap_or_default();
        (rows, next)
    } else {
        (rows, String::new())
    }
}
