//! Who is signed in, and with what token the console calls the services for them.
//!
//! - `dev` sign-in (local profile): `POST /auth/dev` with a role, a unit (for 项目建设单位) and a
//!   subject mints an HS256 token with the services' secret and keeps it in an `HttpOnly`,
//!   `SameSite=Strict` cookie. The console never decides what the identity may do: the service
//!   verifies the token and applies its role table on every call.
//! - `gateway` sign-in (production): the identity provider's gateway (OpenID Connect; 浙政钉)
//!   signs the person in and sends their ID token as `Authorization: Bearer` with every request;
//!   the console forwards it untouched and the services verify it against their JWKS. The
//!   console holds no secret.
//!
//! Every `/api` call must carry `x-egov-console: 1`: a page of another site cannot add that
//! header without the browser asking first, so a signed-in person's cookie cannot be used from
//! elsewhere (cross-site request forgery).

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use egov_platform::auth::{Claims, Role, mint_hs256};
use serde::Deserialize;
use serde_json::json;

use crate::{Console, bridge::Refusal, settings::ConsoleSettings, settings::SignIn};

pub const COOKIE: &str = "egov_console";
pub const CSRF_HEADER: &str = "x-egov-console";

/// A development identity, as the sign-in page sends it.
#[derive(Debug, Deserialize)]
pub struct DevIdentity {
    pub role: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub subject: String,
}

/// The token to call the services with, or why there is none.
pub fn bearer_for_call(settings: &ConsoleSettings, headers: &HeaderMap) -> Result<String, Refusal> {
    if headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) != Some("1") {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!("请求缺少 {CSRF_HEADER} 请求头（只接受控制台页面发出的调用）"),
        ));
    }
    token(settings, headers)
        .ok_or_else(|| Refusal::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "尚未登录，或登录已过期：请重新登录".into()))
}

fn token(settings: &ConsoleSettings, headers: &HeaderMap) -> Option<String> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    match settings.sign_in {
        SignIn::Gateway => from_header,
        SignIn::Dev => cookie(headers, COOKIE).or(from_header),
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The claims of a JWT, read without verifying it: only to show who is signed in. Every service
/// verifies the token itself on every call.
fn claims_of(token: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `GET /auth/me`: who is signed in (`signed_in: false` when nobody), and how sign-in works here.
pub async fn me(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let mode = match console.settings.sign_in {
        SignIn::Dev => "dev",
        SignIn::Gateway => "gateway",
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = token(&console.settings, &headers).and_then(|t| claims_of(&t)).filter(|c| c["exp"].as_i64().is_some_and(|exp| exp > now));
    match claims {
        Some(c) => Json(json!({
            "signed_in": true,
            "sign_in": mode,
            "role": c["role"],
            "unit": c.get("unit").cloned().unwrap_or(serde_json::Value::Null),
            "subject": c["sub"],
            "expires_at": c["exp"],
        }))
        .into_response(),
        None => Json(json!({ "signed_in": false, "sign_in": mode })).into_response(),
    }
}

/// `POST /auth/dev`: signs a development identity in (dev sign-in only).
pub async fn dev_sign_in(State(console): State<Arc<Console>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    match sign_in(&console.settings, &headers, &body) {
        Ok((cookie, who)) => {
            let mut r = Json(who).into_response();
            r.headers_mut().insert(header::SET_COOKIE, cookie);
            r
        }
        Err(refusal) => refusal.into_response(),
    }
}

fn sign_in(s: &ConsoleSettings, headers: &HeaderMap, body: &[u8]) -> Result<(HeaderValue, serde_json::Value), Refusal> {
    let bad = |field: &str, message: String| {
        let mut r = Refusal::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message.clone());
        r.body["fields"] = json!([{ "field": field, "description": message }]);
        r
    };
    if headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) != Some("1") {
        return Err(Refusal::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", format!("请求缺少 {CSRF_HEADER} 请求头")));
    }
    if s.sign_in != SignIn::Dev || s.hs256_secret.is_empty() {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "此环境不提供开发身份登录：请通过统一身份认证（浙政钉）登录".into(),
        ));
    }
    let id: DevIdentity = serde_json::from_slice(body).map_err(|e| bad("role", format!("登录请求不是有效的 JSON：{e}")))?;
    let role = Role::parse(id.role.trim()).filter(|r| !matches!(r, Role::Service | Role::Province));
    let Some(role) = role else {
        return Err(bad("role", format!("{:?} 不是可登录的角色", id.role)));
    };
    let unit = Some(id.unit.trim().to_string()).filter(|u| !u.is_empty());
    if let Some(u) = &unit
        && (u.len() > 32 || !u.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(bad("unit", "单位编码只能由字母、数字和“-”组成，至多 32 个字符".into()));
    }
    if role == Role::Unit && unit.is_none() {
        return Err(bad("unit", "项目建设单位登录须填写单位编码（如 U-CIVIL）".into()));
    }
    let subject = id.subject.trim();
    if subject.len() > 64 || subject.chars().any(char::is_control) {
        return Err(bad("subject", "用户标识至多 64 个字符，且不能含控制字符".into()));
    }
    let subject = if subject.is_empty() { format!("{}-console", role.as_str().to_ascii_lowercase()) } else { subject.to_string() };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ttl = i64::from(s.session_hours.max(1)) * 3600;
    let claims = Claims { sub: subject, role, unit, iss: s.issuer.clone(), iat: now, exp: now + ttl };
    let token = mint_hs256(s.hs256_secret.as_bytes(), &claims)
        .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", format!("无法签发登录凭据：{e}")))?;
    let secure = if s.secure_cookie { "; Secure" } else { "" };
    let cookie = HeaderValue::try_from(format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={ttl}{secure}"))
        .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()))?;
    let who = json!({
        "signed_in": true,
        "sign_in": "dev",
        "role": claims.role.as_str(),
        "unit": claims.unit,
        "subject": claims.sub,
        "expires_at": claims.exp,
    });
    Ok((cookie, who))
}

/// `POST /auth/signout`: forgets the development identity.
pub async fn sign_out() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static("egov_console=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
    r
}
