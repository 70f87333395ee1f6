//! `GET /api/_schema`: the services, their methods and every message and enum, read from the
//! descriptor set the services are built from, so the pages draw each method's form (fields,
//! repeated rows, nested groups, enum choices) without a copy of the API of their own.

use std::sync::Arc;

use axum::{Json, extract::State};
use prost_reflect::{Cardinality, FieldDescriptor, Kind};
use serde_json::{Value, json};

use crate::Console;

/// The backends, in lifecycle order, with their Chinese names.
pub const BACKENDS: [(&str, &str); 5] =
    [("intake", "申报"), ("review", "审核审批"), ("procurement", "采购与建设"), ("acceptance", "验收"), ("evaluation", "绩效评价")];

/// The schema is the same for the life of the process: built once, on the first request.
pub async fn describe(State(console): State<Arc<Console>>) -> Json<Value> {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    Json(SCHEMA.get_or_init(|| build(console.bridge.pool())).clone())
}

fn build(pool: &prost_reflect::DescriptorPool) -> Value {
    let backends: Vec<Value> = BACKENDS
        .iter()
        .map(|(name, title)| {
            let services: Vec<Value> = pool
                .services()
                .filter(|s| s.package_name() == format!("egov.{name}.v1") || s.package_name() == "egov.common.v1")
                .map(|s| {
                    let methods: Vec<Value> = s
                        .methods()
                        .map(|m| {
                            json!({
                                "name": m.name(),
                                "input": m.input().full_name(),
                                "output": m.output().full_name(),
                                "client_streaming": m.is_client_streaming(),
                                "server_streaming": m.is_server_streaming(),
                            })
                        })
                        .collect();
                    json!({ "name": s.full_name(), "short": s.name(), "methods": methods })
                })
                .collect();
            json!({ "name": name, "title": title, "services": services })
        })
        .collect();
    let messages: serde_json::Map<String, Value> = pool
        .all_messages()
        .map(|m| {
            let fields: Vec<Value> = m.fields().map(|f| field(&f)).collect();
            (m.full_name().to_string(), json!({ "name": m.name(), "fields": fields, "map_entry": m.is_map_entry() }))
        })
        .collect();
    let enums: serde_json::Map<String, Value> = pool
        .all_enums()
        .map(|e| {
            let values: Vec<Value> = e.values().map(|v| json!({ "name": v.name(), "number": v.number() })).collect();
            (e.full_name().to_string(), Value::Array(values))
        })
        .collect();
    json!({ "backends": backends, "messages": messages, "enums": enums, "comments": comments() })
}

fn field(f: &FieldDescriptor) -> Value {
    let (kind, type_name) = match f.kind() {
        Kind::Message(m) => ("message", Some(m.full_name().to_string())),
        Kind::Enum(e) => ("enum", Some(e.full_name().to_string())),
        Kind::String => ("string", None),
        Kind::Bytes => ("bytes", None),
        Kind::Bool => ("bool", None),
        Kind::Double | Kind::Float => ("number", None),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => ("int64", None),
        _ => ("int32", None),
    };
    json!({
        "name": f.name(),
        "json_name": f.json_name(),
        "number": f.number(),
        "kind": kind,
        "type": type_name,
        "repeated": f.cardinality() == Cardinality::Repeated && !f.is_map(),
        "map": f.is_map(),
        "oneof": f.containing_oneof().map(|o| o.name().to_string()),
    })
}

/// The protos' comments by full name (see `build.rs`), parsed once.
fn comments() -> &'static Value {
    static COMMENTS: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    COMMENTS.get_or_init(|| serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/comments.json"))).unwrap_or(Value::Null))
}
