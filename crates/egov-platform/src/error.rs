//! The one mapping from errors to gRPC statuses (R-X5: explained refusals).
//!
//! Handlers return [`AppError`]; `impl From<AppError> for Status` is the only place statuses are
//! built. Rule refusals become `FAILED_PRECONDITION` with a `PreconditionFailure` whose violation
//! type is the rule id; field errors become `INVALID_ARGUMENT` with `BadRequest`; every status
//! carries an `ErrorInfo`. Only unexpected faults are `INTERNAL`, and their cause stays in the log.

use std::fmt;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Domain of every `ErrorInfo` the suite returns.
pub const ERROR_DOMAIN: &str = "egov.shangcheng";

/// A refused rule: which rule (R-I8 ...), about what, and what is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleViolation {
    pub rule_id: String,
    pub subject: String,
    pub description: String,
}

impl RuleViolation {
    pub fn new(rule_id: &str, subject: impl Into<String>, description: impl Into<String>) -> RuleViolation {
        RuleViolation { rule_id: rule_id.into(), subject: subject.into(), description: description.into() }
    }
}

impl fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule_id, self.description)
    }
}

/// A field of a request that is missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> FieldViolation {
        FieldViolation { field: field.into(), description: description.into() }
    }
}

/// A domain's refusal of a command: pure data, no transport and no I/O. Every service's
/// `domain/` returns it; [`AppError`] wraps it at the use-case boundary and the one mapping to
/// `tonic::Status` turns it into `FAILED_PRECONDITION` (rules) or `INVALID_ARGUMENT` (fields).
///
/// A step taken out of order is a rule refusal too: it names the rule whose order it breaks
/// (R-X5) and says in words what has to happen first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Rules of the Measures refuse the command: the violations say which and what is missing.
    #[error("refused: {}", fmt_rules(.0))]
    Rules(Vec<RuleViolation>),
    /// Values of the command are missing or wrong: fix the named fields.
    #[error("invalid argument: {}", fmt_fields(.0))]
    Fields(Vec<FieldViolation>),
}

impl Refusal {
    pub fn rule(rule_id: &str, subject: impl Into<String>, description: impl Into<String>) -> Refusal {
        Refusal::Rules(vec![RuleViolation::new(rule_id, subject, description)])
    }

    pub fn field(field: impl Into<String>, description: impl Into<String>) -> Refusal {
        Refusal::Fields(vec![FieldViolation::new(field, description)])
    }

    /// Rule ids of a rule refusal (empty for field errors).
    pub fn rule_ids(&self) -> Vec<&str> {
        match self {
            Refusal::Rules(v) => v.iter().map(|r| r.rule_id.as_str()).collect(),
            Refusal::Fields(_) => vec![],
        }
    }

    /// Refused fields (empty for rule refusals).
    pub fn fields(&self) -> Vec<&str> {
        match self {
            Refusal::Rules(_) => vec![],
            Refusal::Fields(v) => v.iter().map(|f| f.field.as_str()).collect(),
        }
    }
}

impl From<RuleViolation> for Refusal {
    fn from(v: RuleViolation) -> Refusal {
        Refusal::Rules(vec![v])
    }
}

impl From<Vec<RuleViolation>> for Refusal {
    fn from(v: Vec<RuleViolation>) -> Refusal {
        Refusal::Rules(v)
    }
}

impl From<FieldViolation> for Refusal {
    fn from(v: FieldViolation) -> Refusal {
        Refusal::Fields(vec![v])
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> AppError {
        match r {
            Refusal::Rules(v) => AppError::Rule(v),
            Refusal::Fields(v) => AppError::InvalidArgument(v),
        }
    }
}

impl From<Refusal> for Status {
    fn from(r: Refusal) -> Status {
        AppError::from(r).into()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed: fix the named fields and retry.
    #[error("invalid argument: {}", fmt_fields(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// A rule of the Measures refuses the request: the violations say what is missing.
    #[error("refused: {}", fmt_rules(.0))]
    Rule(Vec<RuleViolation>),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// The etag is stale: re-read the resource and retry.
    #[error("aborted: {0}")]
    Aborted(String),
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// A dependency (database, broker, another service) is unreachable: retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Stored content no longer matches its recorded hashes.
    #[error("data loss: {0}")]
    DataLoss(String),
    /// A fault of ours; the client gets a generic message, the log gets the chain.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn fmt_fields(v: &[FieldViolation]) -> String {
    v.iter().map(|f| format!("{}: {}", f.field, f.description)).collect::<Vec<_>>().join("; ")
}

fn fmt_rules(v: &[RuleViolation]) -> String {
    v.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl AppError {
    pub fn field(field: impl Into<String>, description: impl Into<String>) -> AppError {
        AppError::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    pub fn rule(rule_id: &str, subject: impl Into<String>, description: impl Into<String>) -> AppError {
        AppError::Rule(vec![RuleViolation::new(rule_id, subject, description)])
    }

    /// Rule ids of a rule refusal (empty otherwise).
    pub fn rule_ids(&self) -> Vec<String> {
        match self {
            AppError::Rule(v) => v.iter().map(|r| r.rule_id.clone()).collect(),
            _ => vec![],
        }
    }
}

/// A single field error is an `INVALID_ARGUMENT` naming that field, so parsers returning
/// `FieldViolation` compose with `?` in handlers.
impl From<FieldViolation> for AppError {
    fn from(v: FieldViolation) -> AppError {
        AppError::InvalidArgument(vec![v])
    }
}

impl From<FieldViolation> for Status {
    fn from(v: FieldViolation) -> Status {
        AppError::from(v).into()
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> AppError {
        match &e {
            // Connection-level failures: the database is unreachable or the link broke.
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => AppError::Unavailable(format!("database unavailable: {e}")),
            sqlx::Error::Database(db) if db.code().as_deref() == Some("40001") || db.code().as_deref() == Some("40P01") => {
                AppError::Aborted(format!("concurrent update, retry: {e}"))
            }
            // A text PostgreSQL cannot store (U+0000) that reached it through a stream's header.
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021" | "22P05")) => {
                AppError::field("(text)", "a text contains a character that cannot be stored (U+0000 or an invalid sequence)")
            }
            _ => AppError::Internal(anyhow::Error::new(e)),
        }
    }
}

impl From<AppError> for Status {
    fn from(e: AppError) -> Status {
        let mut details = ErrorDetails::new();
        let (code, message, reason) = match &e {
            AppError::InvalidArgument(fields) => {
                for f in fields {
                    details.add_bad_request_violation(f.field.clone(), f.description.clone());
                }
                (Code::InvalidArgument, e.to_string(), "INVALID_ARGUMENT")
            }
            AppError::Rule(rules) => {
                for r in rules {
                    details.add_precondition_failure_violation(r.rule_id.clone(), r.subject.clone(), r.description.clone());
                }
                (Code::FailedPrecondition, e.to_string(), "RULE_VIOLATION")
            }
            AppError::NotFound(_) => (Code::NotFound, e.to_string(), "NOT_FOUND"),
            AppError::AlreadyExists(_) => (Code::AlreadyExists, e.to_string(), "ALREADY_EXISTS"),
            AppError::Aborted(_) => (Code::Aborted, e.to_string(), "STALE_ETAG"),
            AppError::PermissionDenied(_) => (Code::PermissionDenied, e.to_string(), "PERMISSION_DENIED"),
            AppError::Unauthenticated(_) => (Code::Unauthenticated, e.to_string(), "UNAUTHENTICATED"),
            AppError::Unavailable(_) => (Code::Unavailable, e.to_string(), "UNAVAILABLE"),
            AppError::DataLoss(_) => (Code::DataLoss, e.to_string(), "DATA_LOSS"),
            AppError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                (Code::Internal, "internal error; the operators have the details in the log".to_string(), "INTERNAL")
            }
        };
        let mut metadata = std::collections::HashMap::new();
        let rule_ids = e.rule_ids();
        if !rule_ids.is_empty() {
            metadata.insert("rule_ids".to_string(), rule_ids.join(","));
        }
        details.set_error_info(reason, ERROR_DOMAIN, metadata);
        Status::with_error_details(code, message, details)
    }
}

/// Test helper and client aid: the rule ids of a status's `PreconditionFailure`.
/// The code's canonical name, as grpcurl and the gRPC docs spell it (`FAILED_PRECONDITION`).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

pub fn status_rule_ids(status: &Status) -> Vec<String> {
    status.get_details_precondition_failure().map(|pf| pf.violations.into_iter().map(|v| v.r#type).collect()).unwrap_or_default()
}

/// Test helper and client aid: the fields of a status's `BadRequest`.
pub fn status_fields(status: &Status) -> Vec<String> {
    status.get_details_bad_request().map(|br| br.field_violations.into_iter().map(|v| v.field).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_violation_maps_to_precondition_failure() {
        let s: Status = AppError::Rule(vec![
            RuleViolation::new("R-I4", "documents", "missing feasibility report"),
            RuleViolation::new("R-I8", "documents", "4 streets"),
        ])
        .into();
        assert_eq!(s.code(), Code::FailedPrecondition);
        assert_eq!(status_rule_ids(&s), vec!["R-I4", "R-I8"]);
        assert_eq!(s.get_details_error_info().unwrap().metadata["rule_ids"], "R-I4,R-I8");
    }

    #[test]
    fn field_violation_maps_to_bad_request() {
        let s: Status = AppError::field("draft.budget[0].amount_fen", "must not be negative").into();
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(status_fields(&s), vec!["draft.budget[0].amount_fen"]);
    }

    #[test]
    fn internal_hides_cause() {
        let s: Status = AppError::Internal(anyhow::anyhow!("secret detail")).into();
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("secret"));
    }
}
