//! Generated from the role tables and the descriptor set, against the five real services:
//!
//! - **the authorisation matrix**: every method of every port × every role, and every method with
//!   no token, an expired one, one signed with another key, `alg: none` and another issuer. A role
//!   the table does not name gets PERMISSION_DENIED; a named role is never refused for its role; a
//!   bad token gets UNAUTHENTICATED with the service's own words (no library text). A method of a
//!   service the port does not serve answers UNIMPLEMENTED.
//! - **fuzzing**: every method, called by a role it allows, with random requests drawn from its
//!   input message (hostile strings, extreme numbers, unknown enum values, nested and repeated
//!   fields) and with bytes that are not protobuf at all. Never INTERNAL, UNKNOWN or DATA_LOSS,
//!   never a panic; every service still SERVING after. `EGOV_FUZZ_PER_METHOD` sets the number of
//!   calls per method (default 120: CI-sized); `EGOV_FUZZ_SEED` replays a run.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

#[path = "support/five.rs"]
mod five;

use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::Bytes;
use egov_console::bridge::RawCodec;
use egov_platform::{
    auth::{Claims, Role, mint_hs256},
    config::LOCAL_DEV_SECRET,
    testing::token,
};
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MessageDescriptor, MethodDescriptor, Value};
use rand::{Rng, SeedableRng, rngs::StdRng};
use tonic::{Code, Status, metadata::MetadataValue, transport::Channel};

const UNIT: &str = "U-MATRIX";

fn pool() -> DescriptorPool {
    DescriptorPool::decode(egov_proto::FILE_DESCRIPTOR_SET).unwrap()
}

fn method(pool: &DescriptorPool, path: &str) -> MethodDescriptor {
    let (service, name) = path.trim_start_matches('/').split_once('/').unwrap();
    pool.get_service_by_name(service).unwrap().methods().find(|m| m.name() == name).unwrap()
}

/// One call of `m` with `body` (the encoded request; a client stream sends it as its only
/// message), as `bearer`; the first answer of a server stream stands for the call.
async fn call(ch: &Channel, m: &MethodDescriptor, bearer: Option<&str>, body: Bytes) -> Result<(), Status> {
    let mut grpc = tonic::client::Grpc::new(ch.clone());
    grpc.ready().await.map_err(|e| Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::try_from(format!("/{}/{}", m.parent_service().full_name(), m.name())).unwrap();
    let auth = |md: &mut tonic::metadata::MetadataMap| {
        if let Some(t) = bearer {
            md.insert("authorization", MetadataValue::try_from(format!("Bearer {t}")).unwrap());
        }
    };
    match (m.is_client_streaming(), m.is_server_streaming()) {
        (false, false) => {
            let mut req = tonic::Request::new(body);
            auth(req.metadata_mut());
            grpc.unary(req, path, RawCodec).await.map(|_| ())
        }
        (false, true) => {
            let mut req = tonic::Request::new(body);
            auth(req.metadata_mut());
            let mut stream = grpc.server_streaming(req, path, RawCodec).await?.into_inner();
            stream.message().await.map(|_| ())
        }
        (true, _) => {
            let mut req = tonic::Request::new(futures::stream::iter(vec![body]));
            auth(req.metadata_mut());
            grpc.client_streaming(req, path, RawCodec).await.map(|_| ())
        }
    }
}

fn role_token(role: Role) -> String {
    token(role, (role == Role::Unit).then_some(UNIT))
}

fn claims(iss: &str, exp_offset: i64) -> Claims {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Claims { sub: "matrix".into(), role: Role::Drb, unit: None, iss: iss.into(), iat: now - 60, exp: now + exp_offset }
}

/// Tokens every method must refuse with UNAUTHENTICATED.
fn bad_tokens() -> Vec<(&'static str, Option<String>)> {
    let b64 = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
        b64(&serde_json::to_value(claims("egov-local", 3600)).unwrap())
    );
    vec![
        ("no token", None),
        ("expired", Some(mint_hs256(LOCAL_DEV_SECRET.as_bytes(), &claims("egov-local", -3600)).unwrap())),
        ("another key", Some(mint_hs256(b"not-the-services-secret-at-all", &claims("egov-local", 3600)).unwrap())),
        ("alg none", Some(none)),
        ("another issuer", Some(mint_hs256(LOCAL_DEV_SECRET.as_bytes(), &claims("someone-else", 3600)).unwrap())),
        ("not a JWT", Some("abc.def".into())),
    ]
}

/// Words of the libraries underneath that a refusal must not carry.
const INTERNALS: [&str; 6] = ["jsonwebtoken", "InvalidSignature", "ExpiredSignature", "sqlx", "prost::", "DecodeError"];

#[tokio::test]
async fn every_method_every_role_and_every_bad_token() {
    let five = five::Five::start().await;
    let pool = pool();
    let mut wrong: Vec<String> = Vec::new();
    let mut calls = 0usize;
    let bad = bad_tokens();
    for (name, svc, table) in five.all() {
        let paths: Vec<String> = table.paths().map(str::to_string).collect();
        assert!(paths.len() >= 10, "{name}: {paths:?}");
        for path in &paths {
            let m = method(&pool, path);
            let allowed = table.roles(path).unwrap();
            for role in Role::ALL {
                calls += 1;
                let got = call(&svc.channel, &m, Some(&role_token(role)), Bytes::new()).await;
                let code = got.as_ref().err().map_or(Code::Ok, Status::code);
                let fine = if allowed.contains(&role) {
                    !matches!(code, Code::PermissionDenied | Code::Unauthenticated | Code::Internal | Code::Unknown | Code::Unimplemented)
                } else {
                    code == Code::PermissionDenied
                };
                if !fine {
                    wrong.push(format!("{name} {path} as {role}: {code:?} {:?}", got.err().map(|s| s.message().to_string())));
                }
            }
            for (what, t) in &bad {
                calls += 1;
                let got = call(&svc.channel, &m, t.as_deref(), Bytes::new()).await;
                match got {
                    Err(s) if s.code() == Code::Unauthenticated && !INTERNALS.iter().any(|w| s.message().contains(w)) => {}
                    other => wrong.push(format!("{name} {path} with {what}: {other:?}")),
                }
            }
        }
        // A service this port does not serve: UNIMPLEMENTED, whoever asks.
        let served: Vec<&str> = table.services().collect();
        for (other, _, other_table) in five.all() {
            for path in other_table.paths().filter(|p| !served.iter().any(|s| p.trim_start_matches('/').starts_with(&format!("{s}/")))) {
                calls += 1;
                let got = call(&svc.channel, &method(&pool, path), Some(&role_token(Role::Drb)), Bytes::new()).await;
                if got.as_ref().err().map(Status::code) != Some(Code::Unimplemented) {
                    wrong.push(format!("{path} ({other}'s) on {name}'s port: {got:?}"));
                }
            }
        }
    }
    println!("authorisation matrix: {calls} calls");
    assert!(wrong.is_empty(), "{} of {calls} calls answered wrongly:\n{}", wrong.len(), wrong.join("\n"));
}

// ------------------------------------------------------------------ fuzzing

const HOSTILE: [&str; 16] = [
    "",
    " ",
    "U-CIVIL",
    "01a242e1-0000-7000-8000-000000000000",
    "not-a-uuid",
    "\0",
    "a\0b",
    "\u{1b}[31m红\u{7}",
    "\u{202e}gnp.exe",
    "'; DROP TABLE egov_audit; --",
    "%s%n%x",
    "../../../etc/passwd",
    "2026-13-45",
    "😀🇨🇳",
    "\r\n\t",
    "\u{feff}\u{200b}",
];

fn hostile_string(rng: &mut StdRng) -> String {
    match rng.random_range(0..10) {
        0 => "名".repeat(rng.random_range(200..40_000)),
        1 => "x".repeat(rng.random_range(100..300)),
        2 => (0..rng.random_range(1..40)).map(|_| char::from_u32(rng.random_range(0..0x3_0000)).unwrap_or('?')).collect(),
        _ => HOSTILE[rng.random_range(0..HOSTILE.len())].to_string(),
    }
}

fn random_value(kind: &Kind, rng: &mut StdRng, depth: u32) -> Value {
    match kind {
        Kind::String => Value::String(hostile_string(rng)),
        Kind::Bytes => Value::Bytes((0..rng.random_range(0..64)).map(|_| rng.random::<u8>()).collect::<Vec<u8>>().into()),
        Kind::Bool => Value::Bool(rng.random()),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Value::I32([0, 1, -1, i32::MAX, i32::MIN, 29, 30, 31, 2026, rng.random()][rng.random_range(0..10)])
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            Value::I64([0, 1, -1, i64::MAX, i64::MIN, 1_500, 10_000_000, rng.random()][rng.random_range(0..8)])
        }
        Kind::Uint32 | Kind::Fixed32 => Value::U32([0, 1, u32::MAX, rng.random()][rng.random_range(0..4)]),
        Kind::Uint64 | Kind::Fixed64 => Value::U64([0, 1, u64::MAX, rng.random()][rng.random_range(0..4)]),
        Kind::Float => Value::F32([0.0, -1.0, f32::NAN, f32::INFINITY, rng.random()][rng.random_range(0..5)]),
        Kind::Double => Value::F64([0.0, -1.0, f64::NAN, f64::NEG_INFINITY, 14.99, 15.0, 15.01, rng.random()][rng.random_range(0..8)]),
        Kind::Enum(e) => {
            let known: Vec<i32> = e.values().map(|v| v.number()).collect();
            Value::EnumNumber(if rng.random_bool(0.8) { known[rng.random_range(0..known.len())] } else { rng.random_range(-5..1_000) })
        }
        Kind::Message(m) => Value::Message(random_message(m, rng, depth + 1)),
    }
}

fn random_message(desc: &MessageDescriptor, rng: &mut StdRng, depth: u32) -> DynamicMessage {
    let mut msg = DynamicMessage::new(desc.clone());
    if depth > 3 {
        return msg;
    }
    for f in desc.fields() {
        if f.is_map() || rng.random_bool(0.35) {
            continue;
        }
        let v = if f.is_list() {
            Value::List((0..rng.random_range(0..4)).map(|_| random_value(&f.kind(), rng, depth)).collect())
        } else {
            random_value(&f.kind(), rng, depth)
        };
        // A oneof keeps the last member set.
        msg.set_field(&f, v);
    }
    msg
}

/// The request bodies of one fuzz call: mostly random messages, some not protobuf at all.
fn random_body(input: &MessageDescriptor, rng: &mut StdRng) -> Bytes {
    match rng.random_range(0..10) {
        0 => (0..rng.random_range(1..64)).map(|_| rng.random::<u8>()).collect::<Vec<u8>>().into(),
        1 => {
            let full = random_message(input, rng, 0).encode_to_vec();
            let cut = if full.is_empty() { 0 } else { rng.random_range(0..full.len()) };
            Bytes::copy_from_slice(&full[..cut])
        }
        _ => random_message(input, rng, 0).encode_to_vec().into(),
    }
}

#[tokio::test]
async fn hostile_requests_to_every_method_never_break_a_service() {
    let per_method: usize = std::env::var("EGOV_FUZZ_PER_METHOD").ok().and_then(|v| v.parse().ok()).unwrap_or(120);
    let seed: u64 = std::env::var("EGOV_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(rand::random);
    println!("fuzz: seed {seed} (EGOV_FUZZ_SEED replays it), {per_method} calls per method");
    let mut rng = StdRng::seed_from_u64(seed);
    let five = five::Five::start().await;
    let pool = pool();
    let mut broken: Vec<String> = Vec::new();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let started = std::time::Instant::now();
    for (name, svc, table) in five.all() {
        let calls_before: usize = codes.values().sum();
        for path in table.paths() {
            let m = method(&pool, path);
            let roles = table.roles(path).unwrap();
            for i in 0..per_method {
                let role = roles[i % roles.len()];
                let body = random_body(&m.input(), &mut rng);
                let got = call(&svc.channel, &m, Some(&role_token(role)), body.clone()).await;
                let code = got.as_ref().err().map_or(Code::Ok, Status::code);
                *codes.entry(format!("{code:?}")).or_default() += 1;
                if let Err(s) = &got
                    && (matches!(s.code(), Code::Internal | Code::Unknown | Code::DataLoss | Code::Unimplemented)
                        || s.message().len() > 4_096
                        || INTERNALS.iter().any(|w| s.message().contains(w)))
                {
                    broken.push(format!(
                        "{name} {path} as {role}: {:?} {:.300} (body {})",
                        s.code(),
                        s.message(),
                        hex::encode(&body[..body.len().min(48)])
                    ));
                }
            }
        }
        // Still serving after all of it.
        let mut health = tonic_health::pb::health_client::HealthClient::new(svc.channel.clone());
        let status =
            health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await.expect("health answers").into_inner();
        assert_eq!(status.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32, "{name} after the fuzz");
        println!("fuzz: {name}: {} calls, still serving", codes.values().sum::<usize>() - calls_before);
    }
    let total: usize = codes.values().sum();
    println!("fuzz: {total} calls in {:.1}s: {codes:?}", started.elapsed().as_secs_f64());
    assert!(broken.is_empty(), "seed {seed}: {} of {total} calls broke a rule of the edge:\n{}", broken.len(), broken.join("\n"));
}
