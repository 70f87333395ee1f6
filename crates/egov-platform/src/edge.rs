//! The edge (入口校验): every unary request's text is checked once, before any handler sees it.
//!
//! [`EdgeLayer`] reads the request body of every unary method it finds in the suite's descriptor
//! set, decodes it as the method's input message and walks every string in it (nested messages,
//! repeated fields and maps included):
//! - no control character (NUL included) anywhere, except line breaks and tabs in free text;
//! - at most [`TextLimits`] characters, by the kind of field its name says it is: an identifier
//!   (`*_id`, `etag`, `page_token`, `*_code`, `*_number`), a name (`name`, `*_name`, `title`,
//!   `content_type`), or free text (everything else);
//! - a body that is not one gRPC frame of a valid message is `INVALID_ARGUMENT` with a short
//!   message, not the decoder's words.
//!
//! Refusals are `INVALID_ARGUMENT` with a `BadRequest` naming each field (`record.supplier`,
//! `modules[2].name`) and quoting at most the first [`QUOTED_CHARS`] characters of its value.
//! Client-streaming methods (the uploads) are passed through: their headers' text is checked by
//! the store (a NUL that reaches PostgreSQL is `INVALID_ARGUMENT`, see `error.rs`).

use std::{
    sync::{Arc, OnceLock},
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body_util::BodyExt;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor, Value};
use serde::{Deserialize, Serialize};
use tonic::{Status, body::Body};

use crate::error::{AppError, FieldViolation};

/// Characters of a refused value quoted back.
pub const QUOTED_CHARS: usize = 32;
/// At most this many fields are named in one refusal.
const MAX_VIOLATIONS: usize = 10;
/// Unary bodies larger than this are refused (RESOURCE_EXHAUSTED), as tonic's own limit would.
const MAX_INSPECTED_BYTES: usize = 4 * 1024 * 1024;

/// Longest text, in characters, by kind of field (`edge.*` in configuration).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct TextLimits {
    /// Ids, etags, page tokens, codes and document numbers.
    pub identifier_chars: usize,
    /// Names, titles, file names and content types.
    pub name_chars: usize,
    /// Free text: reasons, opinions, descriptions, summaries.
    pub text_chars: usize,
}

impl Default for TextLimits {
    fn default() -> TextLimits {
        TextLimits { identifier_chars: 128, name_chars: 255, text_chars: 20_000 }
    }
}

/// The kind of a string field, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Identifier,
    Name,
    Text,
}

impl TextKind {
    pub fn of(field: &str) -> TextKind {
        let f = field.to_ascii_lowercase();
        let identifier = f == "id"
            || f == "etag"
            || f == "page_token"
            || f.ends_with("_id")
            || f.ends_with("_ids")
            || f.ends_with("_code")
            || f == "code"
            || f.ends_with("_number")
            || f.ends_with("_token");
        if identifier {
            TextKind::Identifier
        } else if f == "name" || f.ends_with("_name") || f == "title" || f == "content_type" {
            TextKind::Name
        } else {
            TextKind::Text
        }
    }

    fn words(self) -> &'static str {
        match self {
            TextKind::Identifier => "an identifier",
            TextKind::Name => "a name",
            TextKind::Text => "a text",
        }
    }
}

impl TextLimits {
    fn max(&self, kind: TextKind) -> usize {
        match kind {
            TextKind::Identifier => self.identifier_chars,
            TextKind::Name => self.name_chars,
            TextKind::Text => self.text_chars,
        }
    }

    /// What is wrong with `value` as the field `path` of that kind, if anything.
    pub fn check(&self, path: &str, kind: TextKind, value: &str) -> Option<FieldViolation> {
        let max = self.max(kind);
        let mut chars = 0usize;
        for (i, c) in value.chars().enumerate() {
            chars += 1;
            let allowed_break = kind == TextKind::Text && matches!(c, '\n' | '\r' | '\t');
            if c.is_control() && !allowed_break {
                return Some(FieldViolation::new(
                    path,
                    format!(
                        "contains the control character U+{:04X} at character {}; {} holds none{}: {}",
                        c as u32,
                        i + 1,
                        kind.words(),
                        if kind == TextKind::Text { " but line breaks and tabs" } else { "" },
                        quote(value)
                    ),
                ));
            }
        }
        (chars > max).then(|| {
            FieldViolation::new(path, format!("is {chars} characters long; {} holds at most {max}: {}", kind.words(), quote(value)))
        })
    }
}

/// The first [`QUOTED_CHARS`] characters of `value`, control characters escaped.
pub fn quote(value: &str) -> String {
    let mut q = String::from("「");
    for (i, c) in value.chars().enumerate() {
        if i == QUOTED_CHARS {
            q.push('…');
            break;
        }
        if c.is_control() {
            q.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            q.push(c);
        }
    }
    q.push('」');
    q
}

/// Every egov method, by its gRPC path.
fn pool() -> Option<&'static DescriptorPool> {
    static POOL: OnceLock<Option<DescriptorPool>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(egov_proto::FILE_DESCRIPTOR_SET).ok()).as_ref()
}

fn method(path: &str) -> Option<MethodDescriptor> {
    let (service, name) = path.trim_start_matches('/').split_once('/')?;
    pool()?.get_service_by_name(service)?.methods().find(|m| m.name() == name)
}

/// Checks one unary request body (one gRPC frame) of `input`: the field violations, or the body's
/// own fault.
pub fn inspect(input: &MessageDescriptor, body: &[u8], limits: &TextLimits) -> Result<(), AppError> {
    let not_a_message = || {
        AppError::InvalidArgument(vec![FieldViolation::new(
            "(request)",
            format!("the request body is not a valid {} message", input.name()),
        )])
    };
    if body.len() < 5 || body[0] != 0 {
        // Compressed frames are not accepted by the services either; an empty body is no frame.
        return Err(not_a_message());
    }
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    if body.len() != 5 + len {
        return Err(not_a_message());
    }
    let message = DynamicMessage::decode(input.clone(), &body[5..]).map_err(|_| not_a_message())?;
    let mut violations = Vec::new();
    walk(&message, "", limits, &mut violations);
    if violations.is_empty() { Ok(()) } else { Err(AppError::InvalidArgument(violations)) }
}

fn walk(message: &DynamicMessage, prefix: &str, limits: &TextLimits, out: &mut Vec<FieldViolation>) {
    for (field, value) in message.fields() {
        if out.len() >= MAX_VIOLATIONS {
            return;
        }
        let path = if prefix.is_empty() { field.name().to_string() } else { format!("{prefix}.{}", field.name()) };
        let kind = TextKind::of(field.name());
        value_of(value, &path, kind, limits, out);
    }
}

fn value_of(value: &Value, path: &str, kind: TextKind, limits: &TextLimits, out: &mut Vec<FieldViolation>) {
    match value {
        Value::String(s) => out.extend(limits.check(path, kind, s)),
        Value::Message(m) => walk(m, path, limits, out),
        Value::List(items) => {
            for (i, v) in items.iter().enumerate() {
                value_of(v, &format!("{path}[{i}]"), kind, limits, out);
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                if let prost_reflect::MapKey::String(key) = k {
                    out.extend(limits.check(&format!("{path} key"), TextKind::Name, key));
                }
                value_of(v, &format!("{path}[{k:?}]"), kind, limits, out);
            }
        }
        _ => {}
    }
}

/// Tower layer: the edge check of every unary egov request (see the module's doc).
#[derive(Clone)]
pub struct EdgeLayer {
    limits: Arc<TextLimits>,
}

impl EdgeLayer {
    pub fn new(limits: TextLimits) -> EdgeLayer {
        EdgeLayer { limits: Arc::new(limits) }
    }
}

impl<S> tower::Layer<S> for EdgeLayer {
    type Service = EdgeService<S>;
    fn layer(&self, inner: S) -> EdgeService<S> {
        EdgeService { limits: self.limits.clone(), inner }
    }
}

#[derive(Clone)]
pub struct EdgeService<S> {
    limits: Arc<TextLimits>,
    inner: S,
}

impl<S> tower::Service<http::Request<Body>> for EdgeService<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limits = self.limits.clone();
        Box::pin(async move {
            let Some(m) = method(req.uri().path()).filter(|m| !m.is_client_streaming()) else {
                return inner.call(req).await;
            };
            let (parts, body) = req.into_parts();
            let bytes: Bytes = match http_body_util::Limited::new(body, MAX_INSPECTED_BYTES).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => {
                    return Ok(Status::resource_exhausted("the request body is larger than 4 MiB or could not be read").into_http());
                }
            };
            if let Err(e) = inspect(&m.input(), &bytes, &limits) {
                let status: Status = e.into();
                return Ok(status.into_http());
            }
            inner.call(http::Request::from_parts(parts, Body::new(http_body_util::Full::new(bytes)))).await
        })
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn frame(m: &impl Message) -> Vec<u8> {
        let body = m.encode_to_vec();
        let mut f = vec![0u8];
        f.extend_from_slice(&(body.len() as u32).to_be_bytes());
        f.extend(body);
        f
    }

    fn input(path: &str) -> MessageDescriptor {
        method(path).unwrap().input()
    }

    fn fields(e: AppError) -> Vec<String> {
        match e {
            AppError::InvalidArgument(v) => v.into_iter().map(|f| format!("{}: {}", f.field, f.description)).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn kinds_by_name() {
        assert_eq!(TextKind::of("project_id"), TextKind::Identifier);
        assert_eq!(TextKind::of("etag"), TextKind::Identifier);
        assert_eq!(TextKind::of("supplier_credit_code"), TextKind::Identifier);
        assert_eq!(TextKind::of("participating_unit_ids"), TextKind::Identifier);
        assert_eq!(TextKind::of("name"), TextKind::Name);
        assert_eq!(TextKind::of("file_name"), TextKind::Name);
        assert_eq!(TextKind::of("reason"), TextKind::Text);
    }

    #[test]
    fn a_nul_anywhere_is_named_with_its_field_and_a_bounded_quote() {
        use egov_proto::intake as pb;
        let limits = TextLimits::default();
        let m = pb::CreateUnitRequest { unit_id: "U-\0X".into(), name: "民政局".into(), ..Default::default() };
        let v = fields(inspect(&input("/egov.intake.v1.Intake/CreateUnit"), &frame(&m), &limits).unwrap_err());
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].starts_with("unit_id: contains the control character U+0000 at character 3"), "{v:?}");
        assert!(v[0].contains("「U-\\u{0}X」"), "{v:?}");
    }

    #[test]
    fn lengths_at_the_limit_pass_and_one_more_is_refused_with_at_most_32_characters_quoted() {
        let limits = TextLimits { identifier_chars: 128, name_chars: 255, text_chars: 20_000 };
        assert!(limits.check("unit_id", TextKind::Identifier, &"a".repeat(128)).is_none());
        let v = limits.check("unit_id", TextKind::Identifier, &"a".repeat(5_000)).unwrap();
        assert!(v.description.starts_with("is 5000 characters long; an identifier holds at most 128"), "{v:?}");
        assert!(v.description.chars().count() < 160, "{v:?}");
        assert!(limits.check("name", TextKind::Name, &"名".repeat(255)).is_none());
        assert!(limits.check("name", TextKind::Name, &"名".repeat(256)).is_some());
        assert!(limits.check("reason", TextKind::Text, &"理".repeat(20_000)).is_none());
        assert!(limits.check("reason", TextKind::Text, &"理".repeat(20_001)).is_some());
    }

    #[test]
    fn line_breaks_only_in_free_text() {
        let limits = TextLimits::default();
        assert!(limits.check("reason", TextKind::Text, "第一行\n第二行\t完").is_none());
        assert!(limits.check("name", TextKind::Name, "民政\n局").is_some());
        assert!(limits.check("reason", TextKind::Text, "bell\u{7}").is_some());
    }

    #[test]
    fn nested_and_repeated_fields_are_named_by_their_path() {
        use egov_proto::procurement as pb;
        let m = pb::SetPaymentPlanRequest {
            project_id: "p".into(),
            etag: "1".into(),
            stages: vec![
                pb::PaymentStageTerms { stage_id: "1".into(), condition: "ok".into(), ratio_bp: 5000 },
                pb::PaymentStageTerms { stage_id: "2".into(), condition: "bad\0".into(), ratio_bp: 5000 },
            ],
            ..Default::default()
        };
        let v = fields(inspect(&input("/egov.procurement.v1.Procurement/SetPaymentPlan"), &frame(&m), &TextLimits::default()).unwrap_err());
        assert!(v[0].starts_with("stages[1].condition: contains the control character U+0000"), "{v:?}");
    }

    #[test]
    fn a_body_that_is_not_the_message_is_invalid_argument_in_few_words() {
        let input = input("/egov.intake.v1.Intake/CreateUnit");
        for body in [vec![], vec![0, 0, 0, 0, 9, 1, 2], vec![0, 0, 0, 0, 3, 0xff, 0xff, 0xff], vec![1, 0, 0, 0, 0]] {
            let v = fields(inspect(&input, &body, &TextLimits::default()).unwrap_err());
            assert_eq!(v, vec!["(request): the request body is not a valid CreateUnitRequest message".to_string()], "{body:?}");
        }
    }

    #[test]
    fn every_unary_method_of_the_suite_is_found() {
        let paths = egov_proto::method_paths(&[
            "egov.intake.v1",
            "egov.review.v1",
            "egov.procurement.v1",
            "egov.acceptance.v1",
            "egov.evaluation.v1",
            "egov.common.v1",
        ]);
        assert!(paths.len() > 100, "{}", paths.len());
        assert!(paths.iter().all(|p| method(p).is_some()), "a method the edge cannot find");
    }
}
