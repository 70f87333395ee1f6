//! Calls to the other services of the suite: one way to open a channel to a peer and present the
//! service's own identity on it.
//!
//! A service calls its peers as the `SERVICE` role (the role tables allow it on the queries other
//! services need, such as R-I9's screening or R-A3's approved scope). Its bearer token comes from
//! `peers.token_file` (the identity provider's token of the service account, re-read when the
//! file changes) or, without one, is minted by the service itself with the HS256 secret (local
//! and test profiles), short-lived and renewed before it expires. Every call also carries the
//! trace context, and the connection has `TCP_NODELAY` set.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use tonic::{
    metadata::{Ascii, MetadataValue},
    service::interceptor::InterceptedService,
    transport::{Channel, Endpoint},
};

use crate::{
    AppError,
    auth::{Claims, Role, mint_hs256},
    config::{ConfigError, Settings},
};

/// A channel to a peer that presents this service's token on every call.
pub type PeerChannel = InterceptedService<Channel, PeerAuth>;

/// How long a self-minted token lives, and how long before its end it is renewed.
const MINTED_LIFETIME_SECS: i64 = 3600;
const RENEW_BEFORE_SECS: i64 = 300;

#[derive(Debug)]
enum Source {
    /// Re-read when the file's modification time changes.
    File(String),
    /// Minted with the HS256 secret for `egov-<service>`.
    Minted { secret: Vec<u8>, issuer: String, subject: String },
}

#[derive(Debug, Default)]
struct Cached {
    header: Option<MetadataValue<Ascii>>,
    /// Minted tokens: when to mint the next. Files: the modification time read.
    renew_at: i64,
    modified: Option<SystemTime>,
}

/// The client interceptor: `authorization: Bearer <token>` and the trace context.
#[derive(Debug, Clone)]
pub struct PeerAuth {
    source: Arc<Source>,
    cached: Arc<Mutex<Cached>>,
}

impl PeerAuth {
    /// The credentials of `settings`' service: its token file, or tokens it mints itself.
    pub fn from_settings(settings: &Settings) -> Result<PeerAuth, ConfigError> {
        let source = if !settings.peers.token_file.trim().is_empty() {
            Source::File(settings.peers.token_file.trim().to_string())
        } else if !settings.auth.hs256_secret.expose().is_empty() {
            Source::Minted {
                secret: settings.auth.hs256_secret.expose().as_bytes().to_vec(),
                issuer: settings.auth.issuer.clone(),
                subject: format!("egov-{}", settings.service.name),
            }
        } else {
            return Err(ConfigError::new(
                "peers.token_file",
                "this service calls other services: give it the token of its service account (peers.token_file) or an HS256 secret",
            ));
        };
        Ok(PeerAuth { source: Arc::new(source), cached: Arc::new(Mutex::new(Cached::default())) })
    }

    /// The `authorization` header to send now.
    fn header(&self) -> Result<MetadataValue<Ascii>, AppError> {
        let mut cached = self.cached.lock().map_err(|_| AppError::Internal(anyhow::anyhow!("peer token cache poisoned")))?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match self.source.as_ref() {
            Source::Minted { secret, issuer, subject } => {
                if cached.header.is_none() || now >= cached.renew_at {
                    let claims = Claims {
                        sub: subject.clone(),
                        role: Role::Service,
                        unit: None,
                        iss: issuer.clone(),
                        exp: now + MINTED_LIFETIME_SECS,
                        iat: now,
                    };
                    cached.header = Some(bearer(&mint_hs256(secret, &claims)?)?);
                    cached.renew_at = now + MINTED_LIFETIME_SECS - RENEW_BEFORE_SECS;
                }
            }
            Source::File(path) => {
                let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
                if cached.header.is_none() || modified != cached.modified {
                    let token = std::fs::read_to_string(path)
                        .map_err(|e| AppError::Unavailable(format!("the service's peer token file {path} cannot be read: {e}")))?;
                    cached.header = Some(bearer(token.trim())?);
                    cached.modified = modified;
                }
            }
        }
        cached.header.clone().ok_or_else(|| AppError::Internal(anyhow::anyhow!("no peer token")))
    }
}

fn bearer(token: &str) -> Result<MetadataValue<Ascii>, AppError> {
    format!("Bearer {token}").parse().map_err(|_| AppError::Internal(anyhow::anyhow!("the peer token is not printable ASCII")))
}

impl tonic::service::Interceptor for PeerAuth {
    fn call(&mut self, req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut req = crate::telemetry::inject_trace_metadata(req)?;
        req.metadata_mut().insert("authorization", self.header()?);
        Ok(req)
    }
}

/// A lazily connected channel to the peer at `endpoint` (`http://host:port`), with this
/// service's credentials, `TCP_NODELAY`, and the configured timeout on connecting and on each
/// call.
pub fn channel(endpoint: &str, auth: &PeerAuth, timeout: Duration) -> Result<PeerChannel, ConfigError> {
    let e = Endpoint::from_shared(endpoint.to_string())
        .map_err(|e| ConfigError::new("peers", format!("{endpoint:?} is not a valid endpoint: {e}")))?
        .tcp_nodelay(true)
        .connect_timeout(timeout)
        .timeout(timeout);
    Ok(InterceptedService::new(e.connect_lazy(), auth.clone()))
}

/// What a peer's failure means to the caller: the peer is away (UNAVAILABLE, nothing changed
/// here), or it refused in a way the caller passes on.
pub fn peer_error(peer: &str, what: &str, s: tonic::Status) -> AppError {
    use tonic::Code;
    match s.code() {
        Code::NotFound => AppError::NotFound(format!("{peer} has no {what}: {}", crate::request::bounded(s.message()))),
        Code::PermissionDenied | Code::Unauthenticated => AppError::Unavailable(format!(
            "{peer} refused this service's credentials when asked for {what} ({}); nothing was changed: the operators check the service account",
            crate::request::bounded(s.message())
        )),
        _ => AppError::Unavailable(format!(
            "{peer} could not answer for {what} ({:?}: {}); nothing was changed, retry later",
            s.code(),
            crate::request::bounded(s.message())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn minted_tokens_are_service_tokens_and_reused() {
        let settings = Settings::defaults("acceptance");
        let auth = PeerAuth::from_settings(&settings).unwrap();
        let a = auth.header().unwrap();
        let b = auth.header().unwrap();
        assert_eq!(a, b, "reused until renewal");
        let token = a.to_str().unwrap().strip_prefix("Bearer ").unwrap().to_string();
        let verifier = crate::auth::TokenVerifier::hs256(settings.auth.hs256_secret.expose().as_bytes(), &settings.auth.issuer);
        let p = verifier.verify(&token).unwrap();
        assert_eq!((p.role, p.subject.as_str()), (Role::Service, "egov-acceptance"));
    }

    #[test]
    fn a_token_file_is_read_and_re_read_when_it_changes() {
        let dir = std::env::temp_dir().join(format!("egov-peer-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "first\n").unwrap();
        let mut settings = Settings::defaults("acceptance");
        settings.peers.token_file = path.to_string_lossy().into_owned();
        let auth = PeerAuth::from_settings(&settings).unwrap();
        assert_eq!(auth.header().unwrap().to_str().unwrap(), "Bearer first");
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&path, "second").unwrap();
        let f = std::fs::File::options().append(true).open(&path).unwrap();
        f.set_modified(SystemTime::now() + Duration::from_secs(5)).unwrap();
        assert_eq!(auth.header().unwrap().to_str().unwrap(), "Bearer second");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn no_credentials_is_a_configuration_error() {
        let mut settings = Settings::defaults("acceptance");
        settings.auth.hs256_secret = crate::config::Secret::new("");
        assert_eq!(PeerAuth::from_settings(&settings).unwrap_err().key, "peers.token_file");
    }
}
