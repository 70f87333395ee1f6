//! The JSON bridge: a page's call becomes the service's own gRPC call, made as the signed-in
//! person, and the answer or the refusal comes back as JSON.
//!
//! `POST /api/{backend}/{package.Service}/{Method}` with the request in proto3's JSON mapping
//! (field names as in the `.proto`, or their lowerCamelCase JSON names). The request is checked
//! against the method's input message from the descriptor set before anything is sent: an unknown
//! field or a value of the wrong type is answered `400` naming it, and the service never sees it.
//! The answer is the output message in the same mapping, every field present (defaults included,
//! enums by name, 64-bit integers as strings).
//!
//! `POST .../upload` streams a document: the body is the file, the header `x-egov-upload` the
//! JSON of the request's metadata part (percent-encoded, as a browser can only send ISO-8859-1
//! in a header; plain JSON is taken too); the request message's `oneof` of a metadata message and a
//! `bytes` chunk is found from the descriptor, so every service's upload goes the same way.
//!
//! A refusal keeps what the service said: `{code, message, rule_ids, violations, fields}`, with
//! the gRPC code's name, the rule ids of a PreconditionFailure and the fields of a BadRequest.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::{Buf, BufMut};
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MessageDescriptor, MethodDescriptor, ReflectMessage, SerializeOptions, Value};
use serde_json::json;
use tonic::{
    Code, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    metadata::MetadataValue,
    transport::{Channel, Endpoint},
};
use tonic_types::StatusExt;

use crate::{Console, session, settings::Backends};

/// Upload chunks: what the services' own clients send.
const CHUNK: usize = 64 * 1024;

/// The descriptor set and one lazily connected channel per service.
pub struct Bridge {
    pool: DescriptorPool,
    channels: HashMap<&'static str, Channel>,
}

impl Bridge {
    pub fn new(backends: &Backends) -> anyhow::Result<Bridge> {
        let pool = DescriptorPool::decode(egov_proto::FILE_DESCRIPTOR_SET)?;
        let mut channels = HashMap::new();
        for (name, addr) in backends.all() {
            let endpoint = Endpoint::from_shared(addr.to_string())
                .map_err(|e| anyhow::anyhow!("the {name} service's address {addr:?} is not a URL: {e}"))?
                .connect_timeout(std::time::Duration::from_secs(5))
                .tcp_nodelay(true);
            channels.insert(name, endpoint.connect_lazy());
        }
        Ok(Bridge { pool, channels })
    }

    pub fn pool(&self) -> &DescriptorPool {
        &self.pool
    }

    /// The method `service/method` as `backend` serves it: its own package's services, and the
    /// common ones (audit trail, operations, reconciliation) every service serves.
    fn method(&self, backend: &str, service: &str, method: &str) -> Result<(Channel, MethodDescriptor), Refusal> {
        let channel = self.channels.get(backend).cloned().ok_or_else(|| {
            Refusal::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("没有名为 {backend:?} 的服务（intake、review、procurement、acceptance、evaluation）"),
            )
        })?;
        let own = service.starts_with(&format!("egov.{backend}.v1.")) || service.starts_with("egov.common.v1.");
        let found = self.pool.get_service_by_name(service).filter(|_| own).and_then(|s| s.methods().find(|m| m.name() == method));
        let m =
            found.ok_or_else(|| Refusal::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("{backend} 服务没有方法 {service}/{method}")))?;
        Ok((channel, m))
    }
}

/// What a call goes on: the person's token, the method, and a client ready to call it.
struct Prepared {
    token: String,
    method: MethodDescriptor,
    grpc: tonic::client::Grpc<Channel>,
}

/// Checks the caller and finds the method; `shape` says whether it is the kind of method the
/// route serves (the refusal's words when not).
async fn prepare(
    console: &Console,
    headers: &HeaderMap,
    (backend, service, method): &(String, String, String),
    shape: impl FnOnce(&MethodDescriptor) -> Result<(), String>,
) -> Result<Prepared, Refusal> {
    let token = session::bearer_for_call(&console.settings, headers)?;
    let (channel, m) = console.bridge.method(backend, service, method)?;
    shape(&m).map_err(|why| Refusal::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", why))?;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| Refusal::unavailable(backend, &e.to_string()))?;
    Ok(Prepared { token, method: m, grpc })
}

/// The check `prepare` makes of a method's streaming: client-streamed exactly when `client`,
/// server-streamed exactly when `server`; otherwise a refusal naming the method, then `refusal`.
fn shaped(client: bool, server: bool, refusal: &'static str) -> impl FnOnce(&MethodDescriptor) -> Result<(), String> {
    move |m| match (m.is_client_streaming(), m.is_server_streaming()) == (client, server) {
        true => Ok(()),
        false => Err(format!("{} {refusal}", m.name())),
    }
}

/// The request of `m` from the call's JSON body (empty: all fields at their defaults).
fn request_of(m: &MethodDescriptor, body: &[u8]) -> Result<Bytes, Refusal> {
    from_json(&m.input(), if body.is_empty() { b"{}" } else { body })
}

/// `POST /api/{backend}/{service}/{method}`: one unary call.
pub async fn call(
    State(console): State<Arc<Console>>,
    Path(route): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let unary = shaped(false, false, "是流式方法：上传请用 …/upload，下载请用 …/download");
        let Prepared { token, method: m, mut grpc } = prepare(&console, &headers, &route, unary).await?;
        let request = request_of(&m, &body)?;
        let answer = grpc.unary(authorised(request, &token)?, grpc_path(&m)?, RawCodec).await.map_err(Refusal::from_status)?;
        to_json(&m.output(), answer.into_inner())
    }
    .await;
    respond(result)
}

/// `POST /api/{backend}/{service}/{method}/upload`: a client-streamed document.
pub async fn upload(
    State(console): State<Arc<Console>>,
    Path(route): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let Prepared { token, method: m, mut grpc } = prepare(&console, &headers, &route, shaped(true, false, "不是上传方法")).await?;
        let meta = headers.get("x-egov-upload").map(|v| percent_decoded(v.as_bytes())).unwrap_or_else(|| b"{}".to_vec());
        let parts = upload_parts(&m.input(), &meta, &body)?;
        let mut req = tonic::Request::new(futures::stream::iter(parts));
        req.metadata_mut().insert("authorization", bearer_value(&token)?);
        let answer = grpc.client_streaming(req, grpc_path(&m)?, RawCodec).await.map_err(Refusal::from_status)?;
        to_json(&m.output(), answer.into_inner())
    }
    .await;
    respond(result)
}

/// `POST /api/{backend}/{service}/{method}/download`: a server-streamed document. The body is
/// the request's JSON; the answer's body is the file, streamed chunk by chunk as the service
/// sends it, and the header `x-egov-document` the JSON of the stream's metadata message
/// (percent-encoded), so the page shows the service's own hashes beside the file. A refusal
/// before the first message is JSON as for any call; a failure in mid-stream ends the body
/// early (the browser sees a network error, not a whole file).
pub async fn download(
    State(console): State<Arc<Console>>,
    Path(route): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let Prepared { token, method: m, mut grpc } = prepare(&console, &headers, &route, shaped(false, true, "不是下载方法")).await?;
        let output = m.output();
        let (meta_field, chunk_field) = stream_parts(&output)?;
        let request = request_of(&m, &body)?;
        let answer = grpc.server_streaming(authorised(request, &token)?, grpc_path(&m)?, RawCodec).await.map_err(Refusal::from_status)?;
        let mut stream = answer.into_inner();
        let first = stream.message().await.map_err(Refusal::from_status)?;
        let first = first.ok_or_else(|| Refusal::new(StatusCode::BAD_GATEWAY, "INTERNAL", "服务没有发送任何内容".into()))?;
        let first = DynamicMessage::decode(output.clone(), first)
            .map_err(|e| Refusal::new(StatusCode::BAD_GATEWAY, "INTERNAL", format!("服务的答复不是有效的 {}：{e}", output.name())))?;
        let (meta, lead) = match first.get_field(&meta_field).as_ref() {
            Value::Message(meta) if first.has_field(&meta_field) => (to_json(&meta.descriptor(), Bytes::from(meta.encode_to_vec()))?, None),
            _ => (json!({}), chunk_of(&first, &chunk_field)),
        };
        let content_type = meta["content_type"].as_str().filter(|t| !t.is_empty() && t.is_ascii()).unwrap_or("application/octet-stream");
        let content_type = http::HeaderValue::from_str(content_type).unwrap_or(http::HeaderValue::from_static("application/octet-stream"));
        let described = http::HeaderValue::from_str(&percent_encoded(meta.to_string().as_bytes()))
            .map_err(|e| Refusal::new(StatusCode::BAD_GATEWAY, "INTERNAL", e.to_string()))?;
        let rest = futures::stream::unfold((stream, output, chunk_field), |(mut stream, output, chunk_field)| async move {
            match stream.message().await {
                Ok(Some(raw)) => {
                    let part = DynamicMessage::decode(output.clone(), raw)
                        .map(|m| chunk_of(&m, &chunk_field).unwrap_or_default())
                        .map_err(|e| std::io::Error::other(e.to_string()));
                    Some((part, (stream, output, chunk_field)))
                }
                Ok(None) => None,
                Err(status) => Some((Err(std::io::Error::other(status.message().to_string())), (stream, output, chunk_field))),
            }
        });
        let all = futures::StreamExt::chain(futures::stream::iter(lead.map(Ok)), rest);
        let mut response = axum::body::Body::from_stream(all).into_response();
        response.headers_mut().insert(http::header::CONTENT_TYPE, content_type);
        response.headers_mut().insert("x-egov-document", described);
        response.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
        Ok::<Response, Refusal>(response)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

fn chunk_of(m: &DynamicMessage, chunk_field: &prost_reflect::FieldDescriptor) -> Option<Bytes> {
    match m.get_field(chunk_field).as_ref() {
        Value::Bytes(b) if m.has_field(chunk_field) => Some(b.clone()),
        _ => None,
    }
}

/// `%XX`-encodes every byte outside printable ASCII, and `%` itself (what `decodeURIComponent`
/// reads back).
fn percent_encoded(raw: &[u8]) -> String {
    raw.iter()
        .map(|&b| match b {
            b' '..=b'~' if b != b'%' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A streamed message's `oneof` of a metadata message and a `bytes` chunk, as every service's
/// upload and download has it.
fn stream_parts(desc: &MessageDescriptor) -> Result<(prost_reflect::FieldDescriptor, prost_reflect::FieldDescriptor), Refusal> {
    let oneof = desc.oneofs().find(|o| {
        let fields: Vec<_> = o.fields().collect();
        fields.iter().any(|f| matches!(f.kind(), Kind::Message(_))) && fields.iter().any(|f| matches!(f.kind(), Kind::Bytes))
    });
    let Some(oneof) = oneof else {
        return Err(Refusal::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", format!("{} 没有“元数据 + 文件块”的结构", desc.name())));
    };
    match (oneof.fields().find(|f| matches!(f.kind(), Kind::Message(_))), oneof.fields().find(|f| matches!(f.kind(), Kind::Bytes))) {
        (Some(meta), Some(chunk)) => Ok((meta, chunk)),
        _ => Err(Refusal::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "no metadata or chunk field".into())),
    }
}

/// The request's parts: its metadata message first, then the body in chunks.
fn upload_parts(input: &MessageDescriptor, meta_json: &[u8], body: &[u8]) -> Result<Vec<Bytes>, Refusal> {
    let (meta_field, chunk_field) = stream_parts(input)?;
    let Kind::Message(meta_desc) = meta_field.kind() else {
        return Err(Refusal::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "metadata is not a message".into()));
    };
    let meta = decode_json(&meta_desc, meta_json, meta_field.name())?;
    let mut first = DynamicMessage::new(input.clone());
    first.set_field(&meta_field, Value::Message(meta));
    let mut parts = vec![Bytes::from(first.encode_to_vec())];
    for chunk in body.chunks(CHUNK) {
        let mut m = DynamicMessage::new(input.clone());
        m.set_field(&chunk_field, Value::Bytes(Bytes::copy_from_slice(chunk)));
        parts.push(Bytes::from(m.encode_to_vec()));
    }
    Ok(parts)
}

/// `%XX`-decodes `raw` (what `encodeURIComponent` wrote); bytes that are not an escape stay.
fn percent_decoded(raw: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match (raw[i], raw.get(i + 1).and_then(|b| hex(*b)), raw.get(i + 2).and_then(|b| hex(*b))) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn grpc_path(m: &MethodDescriptor) -> Result<http::uri::PathAndQuery, Refusal> {
    http::uri::PathAndQuery::try_from(format!("/{}/{}", m.parent_service().full_name(), m.name()))
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", e.to_string()))
}

fn bearer_value(token: &str) -> Result<MetadataValue<tonic::metadata::Ascii>, Refusal> {
    MetadataValue::try_from(format!("Bearer {token}"))
        .map_err(|_| Refusal::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "登录凭据含有不能放进请求头的字符".into()))
}

fn authorised(body: Bytes, token: &str) -> Result<tonic::Request<Bytes>, Refusal> {
    let mut req = tonic::Request::new(body);
    req.metadata_mut().insert("authorization", bearer_value(token)?);
    Ok(req)
}

/// The page's JSON as the method's request, encoded.
fn from_json(input: &MessageDescriptor, body: &[u8]) -> Result<Bytes, Refusal> {
    Ok(Bytes::from(decode_json(input, body, "")?.encode_to_vec()))
}

fn decode_json(desc: &MessageDescriptor, body: &[u8], what: &str) -> Result<DynamicMessage, Refusal> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = DynamicMessage::deserialize(desc.clone(), &mut de).and_then(|m| de.end().map(|()| m));
    parsed.map_err(|e| {
        let within = if what.is_empty() { String::new() } else { format!("（{what}）") };
        Refusal::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", format!("请求内容不是有效的 {}{within}：{e}", desc.name()))
    })
}

/// The service's answer as JSON, every field present.
fn to_json(output: &MessageDescriptor, bytes: Bytes) -> Result<serde_json::Value, Refusal> {
    let message = DynamicMessage::decode(output.clone(), bytes)
        .map_err(|e| Refusal::new(StatusCode::BAD_GATEWAY, "INTERNAL", format!("服务的答复不是有效的 {}：{e}", output.name())))?;
    let options = SerializeOptions::new().use_proto_field_name(true).skip_default_fields(false);
    message
        .serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| Refusal::new(StatusCode::BAD_GATEWAY, "INTERNAL", format!("无法把答复转成 JSON：{e}")))
}

fn respond(result: Result<serde_json::Value, Refusal>) -> Response {
    match result {
        Ok(v) => Json(v).into_response(),
        Err(r) => r.into_response(),
    }
}

/// A call that did not succeed, as the page shows it.
#[derive(Debug)]
pub struct Refusal {
    pub http: StatusCode,
    pub body: serde_json::Value,
}

impl Refusal {
    pub fn new(http: StatusCode, code: &str, message: String) -> Refusal {
        Refusal { http, body: json!({ "code": code, "message": message, "rule_ids": [], "violations": [], "fields": [] }) }
    }

    fn unavailable(backend: &str, detail: &str) -> Refusal {
        Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", format!("{backend} 服务暂时连不上，请稍后再试（{detail}）"))
    }

    /// The service's refusal, with its rule ids and field names kept.
    pub fn from_status(s: Status) -> Refusal {
        let violations: Vec<_> = s
            .get_details_precondition_failure()
            .map(|pf| {
                pf.violations.into_iter().map(|v| json!({"rule": v.r#type, "subject": v.subject, "description": v.description})).collect()
            })
            .unwrap_or_default();
        let rule_ids: Vec<_> = violations.iter().filter_map(|v| v["rule"].as_str().map(str::to_string)).collect();
        let fields: Vec<_> = s
            .get_details_bad_request()
            .map(|br| br.field_violations.into_iter().map(|v| json!({"field": v.field, "description": v.description})).collect())
            .unwrap_or_default();
        let http = match s.code() {
            Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => StatusCode::CONFLICT,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::BAD_GATEWAY,
        };
        Refusal {
            http,
            body: json!({
                "code": egov_platform::error::code_name(s.code()),
                "message": s.message(),
                "rule_ids": rule_ids,
                "violations": violations,
                "fields": fields,
            }),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.http, Json(self.body)).into_response()
    }
}

/// Passes encoded messages through untouched: the bridge encodes and decodes with the
/// descriptor set itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

#[cfg(test)]
mod tests {
    use super::percent_decoded;

    #[test]
    fn document_metadata_is_percent_encoded_and_decodes_back() {
        let meta = "{\"file_name\":\"申报表 100%.pdf\"}";
        let enc = super::percent_encoded(meta.as_bytes());
        assert!(enc.is_ascii() && !enc.contains('申'), "{enc}");
        assert!(http::HeaderValue::from_str(&enc).is_ok(), "{enc}");
        assert_eq!(percent_decoded(enc.as_bytes()), meta.as_bytes());
    }

    #[test]
    fn upload_metadata_is_percent_decoded() {
        assert_eq!(percent_decoded(b"%7B%22file_name%22%3A%22%E7%94%B3.pdf%22%7D"), "{\"file_name\":\"申.pdf\"}".as_bytes());
        assert_eq!(percent_decoded(b"{\"a\":\"100%\"}"), b"{\"a\":\"100%\"}");
        assert_eq!(percent_decoded(b"%zz%4"), b"%zz%4");
    }
}
