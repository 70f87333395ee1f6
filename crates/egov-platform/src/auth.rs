//! Authentication and authorisation (R-X2): bearer JWTs carrying role, unit and subject, checked
//! by one tower layer in front of every service against that service's method→roles table.
//!
//! The layer runs before any handler, so a method missing from a service's table is refused for
//! everyone (deny by default). Unit isolation (a UNIT sees only its own projects) needs the
//! resource, so handlers do it with [`Principal::ensure_unit`].
//!
//! Tokens are verified by a [`TokenVerifier`] built from `auth.*`:
//! - HS256 with `auth.hs256_secret`: local runs, tests and `egovctl token`. Accepted only when a
//!   secret is configured (empty: HS256 refused); production refuses the local development one.
//! - RS256 and ES256 from a production identity provider, against the key of the token's `kid`
//!   in its JWKS ([`jwks`]: `auth.jwks_file` or `auth.jwks_url`, re-read every
//!   `auth.jwks_refresh_secs`). A kid not among the keys held makes the verifier reload the JWKS
//!   first (at most once per `auth.jwks_min_reload_secs`), so a key published since the last
//!   refresh works at once.
//!
//! Any other `alg` (`none`, HS384, RS512, PS256, ...) is refused, and the key is always chosen by
//! the algorithm the verifier expects, never by the token: an RS256 public key is never used as
//! an HS256 secret, and `jku`/`jwk`/`x5u` headers are ignored. Every token must carry `sub`,
//! `exp` and the configured `iss` (and `aud` when `auth.audience` is set); `exp` and `nbf` are
//! checked with [`LEEWAY_SECS`] of leeway for clock skew. The claims are [`Claims`] whichever the
//! algorithm, mapped to the same [`Principal`].

use std::{
    collections::HashMap,
    fmt,
    sync::Arc,
    task::{Context, Poll},
};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::{Status, body::Body};

use crate::{
    config::{AuthSettings, ConfigError, Profile},
    error::AppError,
};

pub mod denials;
pub mod jwks;

pub use jwks::{Jwks, JwksError, JwksStatus, Reload};

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
    /// A service of the suite calling another (queries such as R-I9's screening, R-A3's approved
    /// scope): the service account each service presents to its peers.
    Service,
    /// 一体化数字资源系统: the provincial integrated digital resource system, which deposits
    /// trial-operation reports (R-A2) through its own service account.
    Province,
}

impl Role {
    pub const ALL: [Role; 13] = [
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
        Role::Service,
        Role::Province,
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
            Role::Service => "SERVICE",
            Role::Province => "PROVINCE",
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

/// Seconds of clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;

/// Verifies bearer tokens (see the module documentation for what is accepted). Cheap to clone:
/// clones share the keys, so a JWKS reload is seen by all of them.
#[derive(Clone)]
pub struct TokenVerifier {
    inner: Arc<VerifierKeys>,
}

struct VerifierKeys {
    /// `None`: HS256 tokens are refused.
    hs256: Option<DecodingKey>,
    /// `None`: RS256 and ES256 tokens are refused.
    jwks: Option<Arc<Jwks>>,
    hs256_validation: Validation,
    rs256_validation: Validation,
    es256_validation: Validation,
}

/// A refusal, or a kid the keys held do not have (worth a reload and a second look).
enum Refusal {
    UnknownKid(String),
    Invalid(AppError),
}

impl Refusal {
    fn into_error(self) -> AppError {
        match self {
            Refusal::UnknownKid(kid) => unauthenticated(format!("invalid bearer token: no key {kid:?} in the identity provider's JWKS")),
            Refusal::Invalid(e) => e,
        }
    }
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Refusal {
        Refusal::Invalid(e)
    }
}

fn unauthenticated(message: impl Into<String>) -> AppError {
    AppError::Unauthenticated(message.into())
}

impl TokenVerifier {
    /// HS256 tokens of `issuer` signed with `secret`, nothing else (local runs, tests, tools).
    pub fn hs256(secret: &[u8], issuer: &str) -> TokenVerifier {
        TokenVerifier::new(Some(secret), None, issuer, None)
    }

    /// HS256 tokens when `hs256_secret` is given, RS256/ES256 tokens when `jwks` is; all of
    /// `issuer`, and of `audience` when given.
    pub fn new(hs256_secret: Option<&[u8]>, jwks: Option<Arc<Jwks>>, issuer: &str, audience: Option<&str>) -> TokenVerifier {
        let validation = |alg: Algorithm| {
            let mut v = Validation::new(alg);
            v.set_issuer(&[issuer]);
            v.leeway = LEEWAY_SECS;
            v.validate_nbf = true;
            match audience {
                Some(aud) => {
                    v.set_audience(&[aud]);
                    v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
                }
                None => {
                    // Not configured: not checked (provider tokens name their audience anyway).
                    v.validate_aud = false;
                    v.set_required_spec_claims(&["exp", "iss", "sub"]);
                }
            }
            v
        };
        TokenVerifier {
            inner: Arc::new(VerifierKeys {
                hs256: hs256_secret.map(DecodingKey::from_secret),
                jwks,
                hs256_validation: validation(Algorithm::HS256),
                rs256_validation: validation(Algorithm::RS256),
                es256_validation: validation(Algorithm::ES256),
            }),
        }
    }

    /// The verifier `auth` describes, its JWKS loaded (fetched, for `auth.jwks_url`). A JWKS
    /// that cannot be loaded is a configuration error naming its key. The caller runs the
    /// JWKS's refresh loop ([`Jwks::spawn_refresh`] on [`TokenVerifier::jwks`]).
    pub async fn from_settings(auth: &AuthSettings, profile: Profile) -> Result<TokenVerifier, ConfigError> {
        let secret = auth.hs256_secret.expose();
        // Settings::validate refuses it too; settings built in code may not have been validated.
        if profile == Profile::Production && secret == crate::config::LOCAL_DEV_SECRET {
            return Err(ConfigError::new("auth.hs256_secret", "the local development secret is refused in production"));
        }
        let jwks = Jwks::from_settings(auth, profile).await?;
        let hs256 = (!secret.is_empty()).then_some(secret.as_bytes());
        let audience = (!auth.audience.is_empty()).then_some(auth.audience.as_str());
        Ok(TokenVerifier::new(hs256, jwks, &auth.issuer, audience))
    }

    /// The JWKS that RS256/ES256 tokens are verified against, if any.
    pub fn jwks(&self) -> Option<&Arc<Jwks>> {
        self.inner.jwks.as_ref()
    }

    /// Verifies `token` with the keys held now. A kid the JWKS does not have is refused without
    /// a reload: [`TokenVerifier::authenticate`] is what the auth layer calls.
    pub fn verify(&self, token: &str) -> Result<Principal, AppError> {
        self.try_verify(token).map_err(Refusal::into_error)
    }

    /// Verifies `token`; for a kid the JWKS does not have, reloads the JWKS first (at most once
    /// per `auth.jwks_min_reload_secs`) and looks again.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AppError> {
        match self.try_verify(token) {
            Err(Refusal::UnknownKid(_)) => {
                if let Some(jwks) = &self.inner.jwks {
                    // A failed reload is logged by the JWKS; the token is refused either way.
                    let _ = jwks.reload_for_unknown_kid().await;
                }
                self.verify(token)
            }
            other => other.map_err(Refusal::into_error),
        }
    }

    fn try_verify(&self, token: &str) -> Result<Principal, Refusal> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| unauthenticated(format!("invalid bearer token: {}", token_problem(&e))))?;
        let keys = &*self.inner;
        let data = match header.alg {
            Algorithm::HS256 => {
                let key =
                    keys.hs256.as_ref().ok_or_else(|| unauthenticated("HS256 tokens are not accepted: no HS256 secret is configured"))?;
                jsonwebtoken::decode::<Claims>(token, key, &keys.hs256_validation)
            }
            alg @ (Algorithm::RS256 | Algorithm::ES256) => {
                let jwks =
                    keys.jwks.as_ref().ok_or_else(|| unauthenticated(format!("{alg:?} tokens are not accepted: no JWKS is configured")))?;
                let kid = header
                    .kid
                    .as_deref()
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| unauthenticated(format!("an {alg:?} token must name its key (kid)")))?;
                let set = jwks.current();
                let key = set.get(kid).ok_or_else(|| Refusal::UnknownKid(kid.to_string()))?;
                if key.alg != alg {
                    return Err(unauthenticated(format!("key {kid:?} is an {:?} key, the token says {alg:?}", key.alg)).into());
                }
                let validation = if alg == Algorithm::RS256 { &keys.rs256_validation } else { &keys.es256_validation };
                jsonwebtoken::decode::<Claims>(token, &key.key, validation)
            }
            other => {
                return Err(unauthenticated(format!(
                    "tokens signed with {other:?} are not accepted (RS256, ES256, or HS256 when configured)"
                ))
                .into());
            }
        };
        let c = data.map_err(|e| unauthenticated(format!("invalid bearer token: {}", token_problem(&e))))?.claims;
        if c.sub.trim().is_empty() {
            return Err(unauthenticated("token has an empty subject").into());
        }
        if c.role == Role::Unit && c.unit.as_deref().is_none_or(|u| u.trim().is_empty()) {
            return Err(unauthenticated("a UNIT token must name its unit").into());
        }
        Ok(Principal { subject: c.sub, role: c.role, unit: c.unit })
    }
}

/// Why a token was refused, in the suite's words (never the JWT library's own error text).
fn token_problem(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => "the token has expired".into(),
        K::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        K::InvalidSignature => "the token's signature does not verify".into(),
        K::InvalidIssuer => "the token comes from another issuer".into(),
        K::InvalidAudience => "the token is meant for another audience".into(),
        K::InvalidSubject => "the token's subject is not accepted".into(),
        K::MissingRequiredClaim(claim) => format!("the token lacks its {claim:?} claim"),
        K::InvalidAlgorithm | K::InvalidAlgorithmName | K::MissingAlgorithm => "the token's algorithm is not the one expected".into(),
        K::InvalidKeyFormat | K::InvalidRsaKey(_) | K::InvalidEcdsaKey => "the token's key is not usable".into(),
        _ => "the token is not a well-formed JWT".into(),
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
    /// The services (`package.Service`) of `methods`, kept as methods are allowed: what the port
    /// serves, looked up on every call.
    services: std::collections::BTreeSet<String>,
    /// Services anyone may call without a token (health, reflection).
    public_prefixes: Vec<String>,
}

impl RoleTable {
    pub fn new() -> RoleTable {
        RoleTable {
            methods: HashMap::new(),
            services: Default::default(),
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
        self.services.insert(service.to_string());
        self
    }

    /// Roles allowed on a path; `None` when the path is unknown (deny).
    pub fn roles(&self, path: &str) -> Option<&[Role]> {
        self.methods.get(path).map(|v| v.as_slice())
    }

    pub fn is_public(&self, path: &str) -> bool {
        self.public_prefixes.iter().any(|p| path.starts_with(p.as_str()))
    }

    /// The services (`package.Service`) this table has methods of: what the port serves.
    pub fn services(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(String::as_str)
    }

    /// Whether `path` belongs to a service this port serves (public or in the table).
    pub fn serves(&self, path: &str) -> bool {
        self.is_public(path) || path.trim_start_matches('/').split_once('/').is_some_and(|(service, _)| self.services.contains(service))
    }

    /// Every method path in the table (for tests that check coverage of a service).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.methods.keys().map(String::as_str)
    }

    async fn check(&self, verifier: &TokenVerifier, path: &str, header: Option<&str>) -> Result<Option<Principal>, AppError> {
        if self.is_public(path) {
            return Ok(None);
        }
        let header = header.ok_or(AppError::Unauthenticated("missing authorization: Bearer token".into()))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(AppError::Unauthenticated("authorization header is not a Bearer token".into()))?;
        let principal = verifier.authenticate(token.trim()).await?;
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
    denials: Option<denials::DenialLog>,
}

impl AuthLayer {
    pub fn new(verifier: TokenVerifier, table: RoleTable) -> AuthLayer {
        AuthLayer { inner: Arc::new((verifier, table)), denials: None }
    }

    /// Records every refused authentication and authorisation in `log` (等保 security audit).
    pub fn recording_denials(mut self, log: denials::DenialLog) -> AuthLayer {
        self.denials = Some(log);
        self
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService { auth: self.inner.clone(), denials: self.denials.clone(), inner }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    auth: Arc<(TokenVerifier, RoleTable)>,
    denials: Option<denials::DenialLog>,
    inner: S,
}

/// What a refusal records: who (when the token was valid), which method, why, from where.
async fn denial(verifier: &TokenVerifier, header: Option<&str>, path: &str, peer: String, e: &AppError) -> denials::Denial {
    let who = match (e, header.and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))) {
        (AppError::PermissionDenied(_), Some(token)) => verifier.authenticate(token.trim()).await.ok(),
        _ => None,
    };
    let (code, reason) = match e {
        AppError::PermissionDenied(m) => ("PERMISSION_DENIED", m.clone()),
        AppError::Unauthenticated(m) => ("UNAUTHENTICATED", m.clone()),
        AppError::Unavailable(m) => ("UNAVAILABLE", m.clone()),
        other => ("OTHER", other.to_string()),
    };
    denials::Denial {
        subject: who.as_ref().map_or_else(|| "(unauthenticated)".to_string(), |p| p.subject.chars().take(200).collect()),
        role: who.as_ref().map_or_else(String::new, |p| p.role.as_str().to_string()),
        method: path.chars().take(200).collect(),
        code: code.to_string(),
        reason: reason.chars().take(500).collect(),
        peer,
    }
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
        // Take the service that was driven to readiness, leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        let denials = self.denials.clone();
        // Checked inside the future: a token of a new kid may wait for a JWKS reload.
        Box::pin(async move {
            let (verifier, table) = &*auth;
            if !table.serves(req.uri().path()) {
                // Another service's method: this port does not serve it (not a refusal).
                return Ok(Status::unimplemented("this port does not serve that service").into_http());
            }
            let header = req.headers().get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            match table.check(verifier, req.uri().path(), header).await {
                Ok(principal) => {
                    if let Some(p) = principal {
                        req.extensions_mut().insert(p);
                    }
                    inner.call(req).await
                }
                Err(e) => {
                    if let Some(log) = &denials {
                        let peer = req
                            .extensions()
                            .get::<tonic::transport::server::TcpConnectInfo>()
                            .and_then(|c| c.remote_addr())
                            .map_or_else(String::new, |a| a.to_string());
                        log.record(denial(verifier, header, req.uri().path(), peer, &e).await);
                    }
                    let status: Status = e.into();
                    Ok(status.into_http())
                }
            }
        })
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

    #[tokio::test]
    async fn token_round_trip_and_role_table() {
        let v = TokenVerifier::hs256(b"secret", "egov-local");
        let t = mint_hs256(b"secret", &claims(Role::Drb, None)).unwrap();
        let p = table().check(&v, "/egov.intake.v1.Intake/GetUnit", Some(&format!("Bearer {t}"))).await.unwrap();
        assert_eq!(p.unwrap().role, Role::Drb);
    }

    #[tokio::test]
    async fn refusals() {
        let v = TokenVerifier::hs256(b"secret", "egov-local");
        let path = "/egov.intake.v1.Intake/GetUnit";
        let check = |header: Option<String>| {
            let v = v.clone();
            async move { table().check(&v, path, header.as_deref()).await }
        };
        assert!(matches!(check(None).await, Err(AppError::Unauthenticated(_))));
        assert!(matches!(check(Some("Bearer not.a.jwt".into())).await, Err(AppError::Unauthenticated(_))));
        let wrong_key = mint_hs256(b"other", &claims(Role::Drb, None)).unwrap();
        assert!(matches!(check(Some(format!("Bearer {wrong_key}"))).await, Err(AppError::Unauthenticated(_))));
        let unit = mint_hs256(b"secret", &claims(Role::Unit, Some("U1"))).unwrap();
        assert!(matches!(check(Some(format!("Bearer {unit}"))).await, Err(AppError::PermissionDenied(_))));
        let unknown = "/egov.intake.v1.Intake/Nope";
        let drb = mint_hs256(b"secret", &claims(Role::Drb, None)).unwrap();
        assert!(matches!(table().check(&v, unknown, Some(&format!("Bearer {drb}"))).await, Err(AppError::PermissionDenied(_))));
        let unitless = mint_hs256(b"secret", &claims(Role::Unit, None)).unwrap();
        assert!(matches!(v.verify(&unitless), Err(AppError::Unauthenticated(_))));
        assert!(table().check(&v, "/grpc.health.v1.Health/Check", None).await.unwrap().is_none());
    }

    #[test]
    fn hs256_claims_are_checked() {
        let v = TokenVerifier::new(Some(b"secret"), None, "egov-local", Some("egov"));
        // No aud: refused once an audience is configured.
        let no_aud = mint_hs256(b"secret", &claims(Role::Drb, None)).unwrap();
        assert!(matches!(v.verify(&no_aud), Err(AppError::Unauthenticated(_))));
        let sign = |claims: serde_json::Value| {
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"secret")).unwrap()
        };
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let base = serde_json::json!({"sub": "a", "role": "DRB", "iss": "egov-local", "aud": "egov", "exp": now + 60, "iat": now});
        assert_eq!(v.verify(&sign(base.clone())).unwrap().role, Role::Drb);
        let with = |key: &str, value: serde_json::Value| {
            let mut c = base.clone();
            c[key] = value;
            sign(c)
        };
        for refused in [
            with("aud", "other".into()),
            with("iss", "someone-else".into()),
            with("exp", (now - 2 * LEEWAY_SECS as i64).into()),
            with("nbf", (now + 2 * LEEWAY_SECS as i64).into()),
            with("role", "KING".into()),
        ] {
            assert!(matches!(v.verify(&refused), Err(AppError::Unauthenticated(_))), "{refused}");
        }
        // Within the leeway: accepted.
        assert!(v.verify(&with("exp", (now - LEEWAY_SECS as i64 / 2).into())).is_ok());
        // No HS256 secret: HS256 refused however well signed; no JWKS: RS256 refused.
        let jwks_only = TokenVerifier::new(None, None, "egov-local", None);
        assert!(matches!(jwks_only.verify(&no_aud), Err(AppError::Unauthenticated(m)) if m.contains("HS256")));
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
