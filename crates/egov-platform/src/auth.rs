//! Authentication and authorisation (R-X2): bearer JWTs carrying role, unit and subject, checked
//! by one tower layer in front of every service against that service's method→roles table.
//!
//! The layer runs before any handler, so a method missing from a service's table is refused for
//! everyone (deny by default). Unit isolation (a UNIT sees only its own projects) needs the
//! resource, so handlers do it with [`Principal::ensure_unit`].

use std::{
    collections::HashMap,
    fmt,
    sync::Arc,
    task::{Context, Poll},
};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::{Status, body::Body};

use crate::error::AppError;

/// Roles of rules.md's glossary, plus `OPERATOR` for the operations team (dead events, clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// 项目建设单位: applies, builds and runs; sees only its own projects.
    Unit,
    /// 区数据资源局: the competent department.
    Drb,
    /// 区财政局.
    Finance,
    /// 区发改经信局.
    Drc,
    /// 区委网信办.
    Cac,
    /// 区信创办.
    Xinchuang,
    /// 基层报表（应用）联审机制成员单位.
    Grassroots,
    /// 专家.
    Expert,
    /// 分管区领导 / 区主要领导.
    Leader,
    /// 区审计局: reads everything, changes nothing.
    Audit,
    /// Operations team of the district cloud: dead events, clock of local runs.
    Operator,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::Unit,
        Role::Drb,
        Role::Finance,
        Role::Drc,
        Role::Cac,
        Role::Xinchuang,
        Role::Grassroots,
        Role::Expert,
        Role::Leader,
        Role::Audit,
        Role::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Unit => "UNIT",
            Role::Drb => "DRB",
            Role::Finance => "FINANCE",
            Role::Drc => "DRC",
            Role::Cac => "CAC",
            Role::Xinchuang => "XINCHUANG",
            Role::Grassroots => "GRASSROOTS",
            Role::Expert => "EXPERT",
            Role::Leader => "LEADER",
            Role::Audit => "AUDIT",
            Role::Operator => "OPERATOR",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims of an egov token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Who acts: a person's or system's id.
    pub sub: String,
    pub role: Role,
    /// The unit the subject acts for; required for `UNIT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub iss: String,
    pub exp: i64,
    pub iat: i64,
}

/// The authenticated caller, put in each request's extensions by [`AuthLayer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    pub unit: Option<String>,
}

impl Principal {
    pub fn from_request<T>(req: &tonic::Request<T>) -> Result<Principal, AppError> {
        req.extensions().get::<Principal>().cloned().ok_or(AppError::Unauthenticated("no verified principal on the request".into()))
    }

    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }

    /// Unit isolation: a UNIT caller may touch only resources of its own unit (or of units
    /// listed in `also`, e.g. participating units that may read). Other roles pass.
    pub fn ensure_unit<'a>(&self, owner: &str, also: impl IntoIterator<Item = &'a String>) -> Result<(), AppError> {
        if self.role != Role::Unit {
            return Ok(());
        }
        let mine = self.unit.as_deref().unwrap_or_default();
        if mine == owner || also.into_iter().any(|u| u == mine) {
            Ok(())
        } else {
            Err(AppError::PermissionDenied(format!("unit {mine} may not access a resource of unit {owner} (R-X2)")))
        }
    }
}

/// Verifies and mints HS256 tokens (local and test profiles).
#[derive(Clone)]
pub struct TokenVerifier {
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenVerifier {
    pub fn hs256(secret: &[u8], issuer: &str) -> TokenVerifier {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 30;
        TokenVerifier { decoding: DecodingKey::from_secret(secret), validation }
    }

    pub fn verify(&self, token: &str) -> Result<Principal, AppError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| AppError::Unauthenticated(format!("invalid bearer token: {e}")))?;
        let c = data.claims;
        if c.sub.trim().is_empty() {
            return Err(AppError::Unauthenticated("token has an empty subject".into()));
        }
        if c.role == Role::Unit && c.unit.as_deref().is_none_or(|u| u.trim().is_empty()) {
            return Err(AppError::Unauthenticated("a UNIT token must name its unit".into()));
        }
        Ok(Principal { subject: c.sub, role: c.role, unit: c.unit })
    }
}

/// Mints an HS256 token; used by `egovctl token` and tests in the local and test profiles.
pub fn mint_hs256(secret: &[u8], claims: &Claims) -> Result<String, AppError> {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("token signing failed: {e}")))
}

/// Client interceptor that sends `authorization: Bearer <token>` (and the trace context).
#[derive(Clone)]
pub struct Bearer(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    pub fn new(token: &str) -> Result<Bearer, AppError> {
        format!("Bearer {token}").parse().map(Bearer).map_err(|_| AppError::field("token", "a token is printable ASCII"))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, req: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        let mut req = crate::telemetry::inject_trace_metadata(req)?;
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

/// Which roles may call which method, by full gRPC path (`/egov.intake.v1.Intake/SubmitApplication`).
#[derive(Debug, Clone, Default)]
pub struct RoleTable {
    methods: HashMap<String, Vec<Role>>,
    /// Services anyone may call without a token (health, reflection).
    public_prefixes: Vec<String>,
}

impl RoleTable {
    pub fn new() -> RoleTable {
        RoleTable {
            methods: HashMap::new(),
            public_prefixes: vec![
                "/grpc.health.v1.Health/".into(),
                "/grpc.reflection.v1.ServerReflection/".into(),
                "/grpc.reflection.v1alpha.ServerReflection/".into(),
            ],
        }
    }

    /// Allows `roles` to call `method` of `service` (`egov.intake.v1.Intake`).
    pub fn allow(mut self, service: &str, method: &str, roles: &[Role]) -> RoleTable {
        self.methods.insert(format!("/{service}/{method}"), roles.to_vec());
        self
    }

    /// Roles allowed on a path; `None` when the path is unknown (deny).
    pub fn roles(&self, path: &str) -> Option<&[Role]> {
        self.methods.get(path).map(|v| v.as_slice())
    }

    pub fn is_public(&self, path: &str) -> bool {
        self.public_prefixes.iter().any(|p| path.starts_with(p.as_str()))
    }

    /// Every method path in the table (for tests that check coverage of a service).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.methods.keys().map(String::as_str)
    }

    fn check(&self, verifier: &TokenVerifier, path: &str, header: Option<&str>) -> Result<Option<Principal>, AppError> {
        if self.is_public(path) {
            return Ok(None);
        }
        let header = header.ok_or(AppError::Unauthenticated("missing authorization: Bearer token".into()))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(AppError::Unauthenticated("authorization header is not a Bearer token".into()))?;
        let principal = verifier.verify(token.trim())?;
        let roles = self.roles(path).ok_or_else(|| AppError::PermissionDenied(format!("method {path} is not open to any role")))?;
        if !roles.contains(&principal.role) {
            let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            return Err(AppError::PermissionDenied(format!(
                "role {} may not call {path}; allowed: {} (R-X2)",
                principal.role,
                allowed.join(", ")
            )));
        }
        Ok(Some(principal))
    }
}

/// Tower layer: authenticate, authorise by the role table, put the [`Principal`] in extensions.
#[derive(Clone)]
pub struct AuthLayer {
    inner: Arc<(TokenVerifier, RoleTable)>,
}

impl AuthLayer {
    pub fn new(verifier: TokenVerifier, table: RoleTable) -> AuthLayer {
        AuthLayer { inner: Arc::new((verifier, table)) }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService { auth: self.inner.clone(), inner }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    auth: Arc<(TokenVerifier, RoleTable)>,
    inner: S,
}

impl<S> tower::Service<http::Request<Body>> for AuthService<S>
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

    fn call(&mut self, mut req: http::Request<Body>) -> Self::Future {
        let (verifier, table) = &*self.auth;
        let header = req.headers().get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        match table.check(verifier, req.uri().path(), header) {
            Ok(principal) => {
                if let Some(p) = principal {
                    req.extensions_mut().insert(p);
                }
                // Take the service that was driven to readiness, leave a fresh clone behind.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move { inner.call(req).await })
            }
            Err(e) => {
                let status: Status = e.into();
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(role: Role, unit: Option<&str>) -> Claims {
        Claims { sub: "alice".into(), role, unit: unit.map(Into::into), iss: "egov-local".into(), exp: 4_000_000_000, iat: 0 }
    }

    fn table() -> RoleTable {
        RoleTable::new().allow("egov.intake.v1.Intake", "GetUnit", &[Role::Drb, Role::Audit])
    }

    #[test]
    fn token_round_trip_and_role_table() {
        let v = TokenVerifier::hs256(b"secret", "egov-local");
        let t = mint_hs256(b"secret", &claims(Role::Drb, None)).unwrap();
        let p = table().check(&v, "/egov.intake.v1.Intake/GetUnit", Some(&format!("Bearer {t}"))).unwrap();
        assert_eq!(p.unwrap().role, Role::Drb);
    }

    #[test]
    fn refusals() {
        let v = TokenVerifier::hs256(b"secret", "egov-local");
        let path = "/egov.intake.v1.Intake/GetUnit";
        assert!(matches!(table().check(&v, path, None), Err(AppError::Unauthenticated(_))));
        assert!(matches!(table().check(&v, path, Some("Bearer not.a.jwt")), Err(AppError::Unauthenticated(_))));
        let wrong_key = mint_hs256(b"other", &claims(Role::Drb, None)).unwrap();
        assert!(matches!(table().check(&v, path, Some(&format!("Bearer {wrong_key}"))), Err(AppError::Unauthenticated(_))));
        let unit = mint_hs256(b"secret", &claims(Role::Unit, Some("U1"))).unwrap();
        assert!(matches!(table().check(&v, path, Some(&format!("Bearer {unit}"))), Err(AppError::PermissionDenied(_))));
        let unknown = "/egov.intake.v1.Intake/Nope";
        let drb = mint_hs256(b"secret", &claims(Role::Drb, None)).unwrap();
        assert!(matches!(table().check(&v, unknown, Some(&format!("Bearer {drb}"))), Err(AppError::PermissionDenied(_))));
        let unitless = mint_hs256(b"secret", &claims(Role::Unit, None)).unwrap();
        assert!(matches!(v.verify(&unitless), Err(AppError::Unauthenticated(_))));
        assert!(table().check(&v, "/grpc.health.v1.Health/Check", None).unwrap().is_none());
    }

    #[test]
    fn unit_isolation() {
        let p = Principal { subject: "a".into(), role: Role::Unit, unit: Some("U1".into()) };
        assert!(p.ensure_unit("U1", []).is_ok());
        assert!(p.ensure_unit("U2", []).is_err());
        assert!(p.ensure_unit("U2", [&"U1".to_string()]).is_ok());
        let drb = Principal { subject: "d".into(), role: Role::Drb, unit: None };
        assert!(drb.ensure_unit("U2", []).is_ok());
    }
}
