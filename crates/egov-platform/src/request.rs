//! The request fields every API has, parsed in one place: ids, etags and pages (AIP-158). Each
//! parser names the field it refuses.

use uuid::Uuid;

use crate::{error::FieldViolation, paging, values::ProjectId};

/// A UUID id field: required.
pub fn id(field: &str, raw: &str) -> Result<Uuid, FieldViolation> {
    if raw.trim().is_empty() {
        return Err(FieldViolation::new(field, "required"));
    }
    Uuid::parse_str(raw.trim()).map_err(|_| FieldViolation::new(field, format!("{:?} is not an id", bounded(raw))))
}

/// A project id field: required.
pub fn project_id(field: &str, raw: &str) -> Result<ProjectId, FieldViolation> {
    id(field, raw).map(ProjectId::from)
}

/// An etag as sent by clients: the aggregate's version number as last read.
pub fn etag(field: &str, raw: &str) -> Result<i64, FieldViolation> {
    raw.trim().parse::<i64>().map_err(|_| FieldViolation::new(field, "required: the etag of the resource as last read"))
}

/// A page request: how many rows and after which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<K> {
    pub size: i64,
    pub after: Option<K>,
}

/// `page_size` and a `page_token` that is the last id of the previous page.
pub fn page(size: i32, token: &str) -> Result<Page<Uuid>, FieldViolation> {
    let size = paging::page_size(size)?;
    let after = if token.is_empty() { None } else { Some(id("page_token", token)?) };
    Ok(Page { size, after })
}

/// `page_size` and a `page_token` that is the last key (any text) of the previous page.
pub fn keyed_page(size: i32, token: &str) -> Result<Page<String>, FieldViolation> {
    let size = paging::page_size(size)?;
    if token.len() > 256 {
        return Err(FieldViolation::new("page_token", "not a token this service returned"));
    }
    Ok(Page { size, after: (!token.is_empty()).then(|| token.to_string()) })
}

/// At most 64 characters of a refused value, for messages (a refusal never echoes a huge value).
pub fn bounded(raw: &str) -> String {
    const MAX: usize = 64;
    if raw.chars().count() <= MAX { raw.to_string() } else { format!("{}…", raw.chars().take(MAX).collect::<String>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_etags_and_pages() {
        assert_eq!(id("case_id", "").unwrap_err().field, "case_id");
        assert!(id("case_id", "x").unwrap_err().description.contains("\"x\""));
        assert!(id("case_id", &"x".repeat(5000)).unwrap_err().description.len() < 100);
        assert_eq!(etag("etag", " 3 ").unwrap(), 3);
        assert_eq!(etag("etag", "").unwrap_err().field, "etag");
        assert_eq!(page(0, "").unwrap(), Page { size: paging::DEFAULT_PAGE_SIZE, after: None });
        assert_eq!(page(-1, "").unwrap_err().field, "page_size");
        assert_eq!(page(10, "zz").unwrap_err().field, "page_token");
        assert_eq!(keyed_page(10, "U-A").unwrap().after.as_deref(), Some("U-A"));
    }
}
