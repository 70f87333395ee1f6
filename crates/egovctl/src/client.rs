//! Connecting to a service, attaching the bearer token, and reporting failures: a gRPC status
//! with its rich details (precondition violations with their rule ids, bad-request fields),
//! decoded with `tonic_types::StatusExt`.

use std::{error::Error as _, fmt, time::Duration};

use serde_json::{Value, json};
use tonic::{
    Code, Request, Status,
    metadata::{AsciiMetadataValue, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};
use tonic_types::StatusExt;

/// Why a command failed; decides the exit code.
#[derive(Debug)]
pub enum CliError {
    /// Bad arguments or input files: exit 2, like clap's own usage errors.
    Usage(String),
    /// The service refused or failed the call: exit 1.
    Rpc(Status),
    /// Anything else (connection, local files): exit 1.
    Other(anyhow::Error),
}

impl CliError {
    pub fn usage(msg: impl Into<String>) -> CliError {
        CliError::Usage(msg.into())
    }

    pub fn other(msg: impl fmt::Display) -> CliError {
        CliError::Other(anyhow::anyhow!("{msg}"))
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Rpc(_) | CliError::Other(_) => 1,
        }
    }

    /// Prints the error on standard error, as JSON when `json` is set.
    pub fn report(&self, json: bool) {
        match self {
            CliError::Rpc(s) if json => eprintln!("{}", serde_json::to_string_pretty(&status_json(s)).unwrap_or_default()),
            CliError::Rpc(s) => eprint!("{}", status_text(s)),
            CliError::Usage(m) if json => {
                eprintln!("{}", json!({ "error": "usage", "message": m }))
            }
            CliError::Usage(m) => eprintln!("error: {m}"),
            CliError::Other(e) if json => eprintln!("{}", json!({ "error": "failed", "message": format!("{e:#}") })),
            CliError::Other(e) => eprintln!("error: {e:#}"),
        }
    }
}

impl From<Status> for CliError {
    fn from(s: Status) -> CliError {
        CliError::Rpc(s)
    }
}

pub use egov_platform::error::code_name;

/// What the user can do about a code that needs no server detail to explain.
fn hint(code: Code) -> Option<&'static str> {
    match code {
        Code::Unauthenticated => Some("pass a token with --token or EGOV_TOKEN (local runs: egovctl token --role DRB)"),
        Code::Aborted => Some("the resource changed since you read it: get it again and retry with its new --etag"),
        Code::Unavailable => Some(
            "is the service running at --endpoint / EGOVCTL_ENDPOINT (review commands: --review-endpoint / \
                 EGOVCTL_REVIEW_ENDPOINT; procurement commands: --procurement-endpoint / EGOVCTL_PROCUREMENT_ENDPOINT; \
                 acceptance commands: --acceptance-endpoint / EGOVCTL_ACCEPTANCE_ENDPOINT; evaluation commands: \
                 --evaluation-endpoint / EGOVCTL_EVALUATION_ENDPOINT)?",
        ),
        _ => None,
    }
}

/// Messages of an error's sources, skipping those that only repeat the message before them
/// (transport errors often wrap an error with the same text).
fn sources(first: &str, mut cur: Option<&(dyn std::error::Error + 'static)>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut prev = first.to_string();
    while let Some(e) = cur {
        let msg = e.to_string();
        if !prev.contains(&msg) {
            out.push(msg.clone());
        }
        prev = msg;
        cur = e.source();
    }
    out
}

fn cause_chain(s: &Status) -> Vec<String> {
    sources(s.message(), s.source())
}

/// The status as text: code and message, then every detail the server attached.
pub fn status_text(s: &Status) -> String {
    let mut out = format!("error: {} ({}): {}\n", code_name(s.code()), i32::from(s.code()), s.message());
    let d = s.get_error_details();
    if let Some(pf) = d.precondition_failure() {
        out.push_str("refused by rule:\n");
        for v in &pf.violations {
            let subject = if v.subject.is_empty() { String::new() } else { format!(" [{}]", v.subject) };
            out.push_str(&format!("  {}{}: {}\n", v.r#type, subject, v.description));
        }
    }
    if let Some(br) = d.bad_request() {
        out.push_str("invalid fields:\n");
        for v in &br.field_violations {
            out.push_str(&format!("  {}: {}\n", v.field, v.description));
        }
    }
    if let Some(q) = d.quota_failure() {
        for v in &q.violations {
            out.push_str(&format!("quota: {}: {}\n", v.subject, v.description));
        }
    }
    if let Some(r) = d.resource_info() {
        out.push_str(&format!("resource: {} {} {}\n", r.resource_type, r.resource_name, r.description).replace("  ", " "));
    }
    if let Some(l) = d.localized_message() {
        out.push_str(&format!("message ({}): {}\n", l.locale, l.message));
    }
    if let Some(h) = d.help() {
        for l in &h.links {
            out.push_str(&format!("help: {} {}\n", l.description, l.url));
        }
    }
    if let Some(r) = d.retry_info().and_then(|r| r.retry_delay) {
        out.push_str(&format!("retry after {:.1} s\n", r.as_secs_f64()));
    }
    if let Some(info) = d.error_info() {
        let mut meta: Vec<String> = info.metadata.iter().map(|(k, v)| format!("{k}={v}")).collect();
        meta.sort();
        out.push_str(&format!(
            "reason: {} (domain {}){}\n",
            info.reason,
            info.domain,
            if meta.is_empty() { String::new() } else { format!(" {}", meta.join(" ")) }
        ));
    }
    for c in cause_chain(s) {
        out.push_str(&format!("caused by: {c}\n"));
    }
    if let Some(h) = hint(s.code()) {
        out.push_str(&format!("hint: {h}\n"));
    }
    out
}

/// The status as JSON for scripts.
pub fn status_json(s: &Status) -> Value {
    let d = s.get_error_details();
    json!({
        "error": "rpc",
        "code": code_name(s.code()),
        "code_number": i32::from(s.code()),
        "message": s.message(),
        "precondition_violations": d.precondition_failure().map(|pf| pf.violations.iter().map(|v| json!({
            "rule_id": v.r#type, "subject": v.subject, "description": v.description,
        })).collect::<Vec<_>>()).unwrap_or_default(),
        "field_violations": d.bad_request().map(|br| br.field_violations.iter().map(|v| json!({
            "field": v.field, "description": v.description,
        })).collect::<Vec<_>>()).unwrap_or_default(),
        "error_info": d.error_info().map(|i| json!({ "reason": i.reason, "domain": i.domain, "metadata": i.metadata })),
        "causes": cause_chain(s),
    })
}

/// Adds `authorization: Bearer <token>` to every call when a token is set.
#[derive(Clone)]
pub struct Bearer(Option<AsciiMetadataValue>);

impl Bearer {
    pub fn new(token: Option<&str>) -> Result<Bearer, CliError> {
        match token.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(Bearer(None)),
            Some(t) => MetadataValue::try_from(format!("Bearer {t}"))
                .map(|v| Bearer(Some(v)))
                .map_err(|_| CliError::usage("the token contains characters that cannot go in a gRPC header")),
        }
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;

/// Builds the endpoint: connect within 5 s, each call within `timeout`.
pub fn endpoint(uri: &str, timeout: Duration) -> Result<Endpoint, CliError> {
    let with_scheme = if uri.contains("://") { uri.to_string() } else { format!("http://{uri}") };
    if with_scheme.starts_with("https://") {
        return Err(CliError::usage(
            "this build of egovctl speaks plain HTTP/2 (h2c) only; use an http:// endpoint or a TLS-terminating proxy",
        ));
    }
    Endpoint::from_shared(with_scheme)
        .map(|e| e.tcp_nodelay(true).connect_timeout(Duration::from_secs(5)).timeout(timeout))
        .map_err(|e| CliError::usage(format!("--endpoint {uri:?} is not a valid URI: {e}")))
}

/// Connects now, so an unreachable service is reported as such rather than as a failed call.
pub async fn connect(uri: &str, timeout: Duration) -> Result<Channel, CliError> {
    endpoint(uri, timeout)?.connect().await.map_err(|e| {
        let mut msg = format!("cannot reach {uri}: {e}");
        for c in sources(&e.to_string(), e.source()) {
            msg.push_str(&format!(": {c}"));
        }
        CliError::Other(anyhow::anyhow!("{msg}\nhint: is the service running? (deploy/local/up.sh starts the local suite)"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, FieldViolation, PreconditionViolation};

    #[test]
    fn rich_details_are_printed() {
        let mut d = ErrorDetails::new();
        d.set_precondition_failure(vec![
            PreconditionViolation::new("R-I4", "documents", "the feasibility study report is not uploaded"),
            PreconditionViolation::new("R-I6", "leader_consent", "needs the consent of the district leader in charge"),
        ]);
        d.set_bad_request(vec![FieldViolation::new("draft.name", "at most 200 characters")]);
        let s = Status::with_error_details(Code::FailedPrecondition, "submission refused", d);
        let text = status_text(&s);
        assert!(text.starts_with("error: FAILED_PRECONDITION (9): submission refused\n"), "{text}");
        assert!(text.contains("  R-I4 [documents]: the feasibility study report is not uploaded\n"), "{text}");
        assert!(text.contains("  draft.name: at most 200 characters\n"), "{text}");
        let j = status_json(&s);
        assert_eq!(j["precondition_violations"][1]["rule_id"], "R-I6");
        assert_eq!(j["field_violations"][0]["field"], "draft.name");
    }

    #[test]
    fn bad_tokens_and_endpoints_are_usage_errors() {
        assert!(matches!(Bearer::new(Some("a\nb")), Err(CliError::Usage(_))));
        assert!(Bearer::new(Some("abc.def.ghi")).is_ok());
        assert!(matches!(endpoint("http://exa mple", Duration::from_secs(1)), Err(CliError::Usage(_))));
        assert!(endpoint("127.0.0.1:50051", Duration::from_secs(1)).is_ok());
    }
}
