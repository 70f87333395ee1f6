//! Conversions between proto well-known types and domain values, shared by every service.

use prost_types::Timestamp;
use time::{Date, Month, OffsetDateTime};

use egov_proto::common::CivilDate;

use crate::error::{AppError, FieldViolation};

pub fn timestamp(t: OffsetDateTime) -> Timestamp {
    Timestamp { seconds: t.unix_timestamp(), nanos: t.nanosecond() as i32 }
}

pub fn from_timestamp(t: &Timestamp) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.seconds).ok().map(|d| d + time::Duration::nanoseconds(i64::from(t.nanos)))
}

pub fn civil(d: Date) -> CivilDate {
    CivilDate { year: d.year(), month: i32::from(u8::from(d.month())), day: i32::from(d.day()) }
}

/// A required civil date field.
pub fn date(field: &str, d: Option<&CivilDate>) -> Result<Date, FieldViolation> {
    let d = d.ok_or_else(|| FieldViolation::new(field, "required"))?;
    let month = u8::try_from(d.month).ok().and_then(|m| Month::try_from(m).ok());
    let day = u8::try_from(d.day).ok();
    match (month, day) {
        (Some(m), Some(day)) => Date::from_calendar_date(d.year, m, day)
            .map_err(|_| FieldViolation::new(field, format!("{}-{}-{} is not a calendar date", d.year, d.month, d.day))),
        _ => Err(FieldViolation::new(field, format!("{}-{}-{} is not a calendar date", d.year, d.month, d.day))),
    }
}

/// Collects field violations; `finish` returns `InvalidArgument` with all of them.
#[derive(Debug, Default)]
pub struct Fields(pub Vec<FieldViolation>);

impl Fields {
    pub fn new() -> Fields {
        Fields(Vec::new())
    }
    pub fn push(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }
    pub fn add(&mut self, v: FieldViolation) {
        self.0.push(v);
    }
    /// Records a failed result and yields its value otherwise.
    pub fn take<T>(&mut self, r: Result<T, FieldViolation>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
    pub fn required(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(field, "required");
        }
    }
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() { Ok(()) } else { Err(AppError::InvalidArgument(self.0)) }
    }
}

/// A proto enum field that must be set to a known, non-UNSPECIFIED value.
pub fn enum_value<E: TryFrom<i32>>(field: &str, raw: i32) -> Result<E, FieldViolation> {
    if raw == 0 {
        return Err(FieldViolation::new(field, "required (UNSPECIFIED is not a value)"));
    }
    E::try_from(raw).map_err(|_| FieldViolation::new(field, format!("{raw} is not a known value")))
}

/// An etag as sent by clients (see [`crate::request::etag`]).
pub fn etag(field: &str, raw: &str) -> Result<i64, FieldViolation> {
    crate::request::etag(field, raw)
}

/// A UUID path field (see [`crate::request::id`]).
pub fn uuid(field: &str, raw: &str) -> Result<uuid::Uuid, FieldViolation> {
    crate::request::id(field, raw)
}

/// Declares a domain enum whose variants have stable SCREAMING_SNAKE names, used in storage,
/// events and (with the proto enum's prefix) to map to and from proto enums.
#[macro_export]
macro_rules! named_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        $vis enum $name { $($(#[$vm])* #[serde(rename = $text)] $variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $text),+ } }
            pub fn parse(s: &str) -> Option<$name> { match s { $($text => Some($name::$variant),)+ _ => None } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

/// Maps a proto enum value to a [`named_enum!`] domain enum through its name: the proto name
/// minus `prefix` (`PROJECT_CATEGORY_`) is the domain name. 0 (UNSPECIFIED) gives `None`.
pub fn enum_from_proto<D>(
    field: &str,
    raw: i32,
    proto_name: impl Fn(i32) -> Option<&'static str>,
    prefix: &str,
    parse: impl Fn(&str) -> Option<D>,
) -> Result<Option<D>, FieldViolation> {
    if raw == 0 {
        return Ok(None);
    }
    proto_name(raw)
        .and_then(|n| n.strip_prefix(prefix))
        .and_then(parse)
        .map(Some)
        .ok_or_else(|| FieldViolation::new(field, format!("{raw} is not a known value")))
}

/// The proto enum value of a domain enum, by name (0 when the proto has no such name).
pub fn enum_to_proto(prefix: &str, name: &str, from_name: impl Fn(&str) -> Option<i32>) -> i32 {
    from_name(&format!("{prefix}{name}")).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates() {
        assert_eq!(date("d", Some(&civil(date!(2026 - 02 - 28)))).unwrap(), date!(2026 - 02 - 28));
        assert!(date("d", Some(&CivilDate { year: 2026, month: 2, day: 29 })).is_err());
        assert!(date("d", Some(&CivilDate { year: 2026, month: 13, day: 1 })).is_err());
        assert_eq!(date("x.y", None).unwrap_err().field, "x.y");
    }
}
