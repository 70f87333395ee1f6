//! The identity provider's public keys (a JWKS, RFC 7517) that RS256 and ES256 tokens are
//! verified against, and keeping them current.
//!
//! The document comes from `auth.jwks_file` (a file kept current by the platform team, e.g. a
//! mounted Kubernetes Secret or ConfigMap, which the kubelet swaps in place) or from
//! `auth.jwks_url` (fetched by the `fetch` submodule, over HTTPS in production, without an HTTP
//! client stack of its own). It is read at start, where a document that cannot be used is a
//! configuration error, then again every
//! `auth.jwks_refresh_secs` by the loop of [`Jwks::spawn_refresh`], and on demand when a token
//! names a kid the keys held do not have (a rotation published since the last refresh), at most
//! once per `auth.jwks_min_reload_secs` so that tokens with made-up kids cannot make the service
//! hammer the provider or the disk.
//!
//! A new document replaces the keys held only as a whole and only when it is usable: one that
//! cannot be read, parsed, or that holds no usable key leaves the previous keys in place and is
//! logged as an error, so a half-written file or a provider's bad minute never locks everyone
//! out.
//!
//! What is usable: keys with a `kid`, for signing (`use` absent or `sig`), of type RSA (for
//! RS256, at least 2048 bits) or EC on P-256 (for ES256), whose `alg`, when present, is that
//! algorithm. Other keys (encryption keys, symmetric `oct` keys, other curves or algorithms) are
//! skipped: identity providers publish such keys next to their signing keys. A key of a usable
//! kind with broken parameters, or two usable keys with one kid, makes the whole document
//! malformed, as it is a broken publication rather than a key meant for someone else.

mod fetch;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use jsonwebtoken::{
    Algorithm, DecodingKey, DecodingKeyKind,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse},
};
use tokio::{task::JoinHandle, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::config::{AuthSettings, ConfigError, Profile};

/// Largest JWKS document accepted (real ones are a few kilobytes).
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// How long one fetch of `auth.jwks_url` may take, connection and TLS handshake included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// RS256 keys shorter than this are refused (aws-lc-rs would refuse them at every verification).
const MIN_RSA_BITS: usize = 2048;

/// Why a JWKS document was not taken.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JwksError {
    /// The document could not be read or fetched (missing file, network, HTTP status, too
    /// large): the keys held stay; the next refresh tries again.
    #[error("{0}")]
    Unavailable(String),
    /// The document is not a JWKS with at least one usable key: the keys held stay; whoever
    /// publishes the document must fix it.
    #[error("{0}")]
    Malformed(String),
}

/// One verification key of the document.
#[derive(Clone)]
pub(crate) struct VerificationKey {
    /// The one algorithm tokens verified with this key may name.
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

/// The usable keys of one document, by kid.
#[derive(Clone, Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, VerificationKey>,
    /// The document they came from, to tell a changed document from the same one again.
    document: Vec<u8>,
}

impl KeySet {
    pub(crate) fn get(&self, kid: &str) -> Option<&VerificationKey> {
        self.keys.get(kid)
    }

    fn kids(&self) -> Vec<String> {
        let mut kids: Vec<String> = self.keys.keys().cloned().collect();
        kids.sort();
        kids
    }
}

/// Parses a JWKS document into its usable keys (see the module documentation for which).
pub(crate) fn parse_document(document: &[u8]) -> Result<KeySet, JwksError> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let doc: Document = serde_json::from_slice(document)
        .map_err(|e| JwksError::Malformed(format!("not a JWKS document (a JSON object with a \"keys\" array): {e}")))?;
    let mut keys = HashMap::new();
    let mut skipped = Vec::new();
    for (i, value) in doc.keys.into_iter().enumerate() {
        let kid = value.get("kid").and_then(|k| k.as_str()).map(str::to_owned);
        let name = kid.clone().map_or_else(|| format!("keys[{i}]"), |k| format!("key {k:?}"));
        let jwk: Jwk = match serde_json::from_value(value) {
            Ok(jwk) => jwk,
            Err(e) => return Err(JwksError::Malformed(format!("{name} is not a JWK: {e}"))),
        };
        match usable_key(&jwk) {
            Ok(Some(alg)) => {
                let Some(kid) = kid.filter(|k| !k.is_empty()) else {
                    skipped.push(format!("{name}: no kid"));
                    continue;
                };
                let key = decoding_key(&jwk, alg).map_err(|e| JwksError::Malformed(format!("{name}: {e}")))?;
                if keys.insert(kid.clone(), VerificationKey { alg, key }).is_some() {
                    return Err(JwksError::Malformed(format!("two signing keys have the kid {kid:?}")));
                }
            }
            Ok(None) => skipped.push(format!("{name}: not an RS256 or ES256 signing key")),
            Err(e) => return Err(JwksError::Malformed(format!("{name}: {e}"))),
        }
    }
    if !skipped.is_empty() {
        tracing::debug!(skipped = ?skipped, "JWKS keys not used for verification");
    }
    if keys.is_empty() {
        return Err(JwksError::Malformed("the document holds no RS256 or ES256 signing key with a kid".into()));
    }
    Ok(KeySet { keys, document: document.to_vec() })
}

/// The algorithm a key verifies, `None` for a key of a kind this service does not use.
fn usable_key(jwk: &Jwk) -> Result<Option<Algorithm>, String> {
    if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != PublicKeyUse::Signature) {
        return Ok(None);
    }
    let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        (AlgorithmParameters::EllipticCurve(p), None | Some(KeyAlgorithm::ES256)) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        (AlgorithmParameters::EllipticCurve(p), Some(KeyAlgorithm::ES256)) => {
            return Err(format!("an ES256 key must be on P-256, not {:?}", p.curve));
        }
        _ => return Ok(None),
    };
    Ok(Some(alg))
}

fn decoding_key(jwk: &Jwk, alg: Algorithm) -> Result<DecodingKey, String> {
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("unreadable key parameters: {e}"))?;
    match (alg, key.kind()) {
        (Algorithm::RS256, DecodingKeyKind::RsaModulusExponent { n, e }) => {
            let significant = n.iter().skip_while(|b| **b == 0).count();
            if significant * 8 < MIN_RSA_BITS {
                return Err(format!("an RSA key of {} bits; RS256 keys need at least {MIN_RSA_BITS}", significant * 8));
            }
            if e.iter().all(|b| *b == 0) {
                return Err("an RSA key with a zero exponent".into());
            }
        }
        // An uncompressed P-256 point: 0x04, then 32 bytes of x and 32 of y.
        (Algorithm::ES256, DecodingKeyKind::SecretOrDer(point)) if point.len() == 65 => {}
        (Algorithm::ES256, _) => return Err("x and y must be 32 bytes each on P-256".into()),
        _ => return Err("key parameters do not match the key type".into()),
    }
    Ok(key)
}

/// Where the document comes from.
enum Source {
    File(PathBuf),
    Url(fetch::HttpGet),
}

impl Source {
    /// The setting and its value, for logs and errors.
    fn describe(&self) -> String {
        match self {
            Source::File(path) => format!("auth.jwks_file {}", path.display()),
            Source::Url(get) => format!("auth.jwks_url {}", get.url()),
        }
    }

    async fn read(&self) -> Result<Vec<u8>, JwksError> {
        match self {
            Source::File(path) => {
                let bytes =
                    tokio::fs::read(path).await.map_err(|e| JwksError::Unavailable(format!("cannot read {}: {e}", path.display())))?;
                if bytes.len() > MAX_DOCUMENT_BYTES {
                    return Err(JwksError::Unavailable(format!("{} is larger than {MAX_DOCUMENT_BYTES} bytes", path.display())));
                }
                Ok(bytes)
            }
            Source::Url(get) => get.get(FETCH_TIMEOUT, MAX_DOCUMENT_BYTES).await.map_err(JwksError::Unavailable),
        }
    }
}

/// What a reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// A new document is in use.
    Replaced,
    /// The document had not changed.
    Unchanged,
    /// A token-triggered reload was skipped: one ran less than `auth.jwks_min_reload_secs` ago.
    RateLimited,
}

/// Counters of one [`Jwks`], for logs, operators and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksStatus {
    /// The kids of the keys in use, sorted.
    pub kids: Vec<String>,
    /// Reloads attempted since start (the load at start not counted).
    pub reloads: u64,
    /// Of those, how many failed and left the keys as they were.
    pub failed_reloads: u64,
}

/// The keys of one JWKS source, shared by every request's verification and the refresh loop.
pub struct Jwks {
    source: Source,
    /// The keys in use: requests clone the `Arc` and never wait for a reload.
    keys: RwLock<Arc<KeySet>>,
    /// Serialises reloads, so the refresh loop and token-triggered reloads never read or fetch
    /// the document twice at once.
    reloading: tokio::sync::Mutex<()>,
    /// When the last token-triggered reload started; the lock also makes concurrent requests
    /// with the same new kid wait for one reload instead of each starting their own.
    last_on_demand: tokio::sync::Mutex<Option<Instant>>,
    refresh_every: Duration,
    min_reload: Duration,
    reloads: AtomicU64,
    failed_reloads: AtomicU64,
}

impl Jwks {
    /// The JWKS source of `auth`, loaded; `None` when neither `auth.jwks_file` nor
    /// `auth.jwks_url` is set. A source that cannot be loaded is a configuration error naming
    /// its key.
    pub async fn from_settings(auth: &AuthSettings, profile: Profile) -> Result<Option<Arc<Jwks>>, ConfigError> {
        let (key, source) = if !auth.jwks_file.is_empty() {
            ("auth.jwks_file", Source::File(PathBuf::from(&auth.jwks_file)))
        } else if !auth.jwks_url.is_empty() {
            let extra_roots = if auth.jwks_ca_file.is_empty() {
                None
            } else {
                Some(
                    std::fs::read(&auth.jwks_ca_file)
                        .map_err(|e| ConfigError::new("auth.jwks_ca_file", format!("cannot read {}: {e}", auth.jwks_ca_file)))?,
                )
            };
            let get = fetch::HttpGet::new(&auth.jwks_url, profile == Profile::Production, extra_roots.as_deref()).map_err(|e| match e {
                fetch::SetupError::Url(e) => ConfigError::new("auth.jwks_url", e),
                fetch::SetupError::Roots(e) => ConfigError::new("auth.jwks_ca_file", e),
            })?;
            ("auth.jwks_url", Source::Url(get))
        } else {
            return Ok(None);
        };
        let jwks = Jwks::load(source, Duration::from_secs(auth.jwks_refresh_secs), Duration::from_secs(auth.jwks_min_reload_secs))
            .await
            .map_err(|e| ConfigError::new(key, e.to_string()))?;
        Ok(Some(Arc::new(jwks)))
    }

    /// Keys read from the JWKS file at `path` (see [`Jwks::from_settings`] for settings).
    pub async fn from_file(path: impl Into<PathBuf>, refresh_every: Duration, min_reload: Duration) -> Result<Jwks, JwksError> {
        Jwks::load(Source::File(path.into()), refresh_every, min_reload).await
    }

    async fn load(source: Source, refresh_every: Duration, min_reload: Duration) -> Result<Jwks, JwksError> {
        let document = source.read().await?;
        let location = match &source {
            Source::File(path) => path.display().to_string(),
            Source::Url(get) => get.url().to_string(),
        };
        let keys = parse_document(&document).map_err(|e| JwksError::Malformed(format!("{location}: {e}")))?;
        tracing::info!(source = %source.describe(), kids = ?keys.kids(), "JWKS loaded");
        Ok(Jwks {
            source,
            keys: RwLock::new(Arc::new(keys)),
            reloading: tokio::sync::Mutex::new(()),
            last_on_demand: tokio::sync::Mutex::new(None),
            refresh_every,
            min_reload,
            reloads: AtomicU64::new(0),
            failed_reloads: AtomicU64::new(0),
        })
    }

    /// The keys in use.
    pub(crate) fn current(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn status(&self) -> JwksStatus {
        JwksStatus {
            kids: self.current().kids(),
            reloads: self.reloads.load(Ordering::Relaxed),
            failed_reloads: self.failed_reloads.load(Ordering::Relaxed),
        }
    }

    /// Reads the document again and uses it if it is usable; otherwise keeps the keys held and
    /// logs why (an error: someone must look).
    pub async fn reload(&self) -> Result<Reload, JwksError> {
        let _one_at_a_time = self.reloading.lock().await;
        self.reloads.fetch_add(1, Ordering::Relaxed);
        let outcome = self.read_and_parse().await;
        match &outcome {
            Ok(Some(keys)) => {
                tracing::info!(source = %self.source.describe(), kids = ?keys.kids(), "JWKS changed: new keys in use");
                *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys.clone();
            }
            Ok(None) => tracing::debug!(source = %self.source.describe(), "JWKS unchanged"),
            Err(e) => {
                self.failed_reloads.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    source = %self.source.describe(),
                    error = %e,
                    kept = ?self.current().kids(),
                    "JWKS reload failed: keeping the keys loaded before"
                );
            }
        }
        outcome.map(|keys| if keys.is_some() { Reload::Replaced } else { Reload::Unchanged })
    }

    /// The new keys, or `None` when the document is the one in use.
    async fn read_and_parse(&self) -> Result<Option<Arc<KeySet>>, JwksError> {
        let document = self.source.read().await?;
        if document == self.current().document {
            return Ok(None);
        }
        Ok(Some(Arc::new(parse_document(&document)?)))
    }

    /// A reload for a token whose kid the keys held do not have, unless one ran less than
    /// `min_reload` ago. Requests arriving meanwhile wait for it and then look again.
    pub async fn reload_for_unknown_kid(&self) -> Result<Reload, JwksError> {
        let mut last = self.last_on_demand.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.min_reload) {
            return Ok(Reload::RateLimited);
        }
        *last = Some(Instant::now());
        self.reload().await
    }

    /// Re-reads the document every `auth.jwks_refresh_secs` until `stop` fires. Registered with
    /// the platform's other background loops, so shutdown waits for it.
    pub fn spawn_refresh(self: &Arc<Jwks>, stop: CancellationToken) -> JoinHandle<()> {
        let jwks = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(Instant::now() + jwks.refresh_every, jwks.refresh_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tick.tick() => {}
                }
                // A fetch in flight is abandoned on shutdown rather than awaited.
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = jwks.reload() => {}
                }
            }
        })
    }
}

/// Checks a JWKS document the way a load does (configuration validation: the file at start).
pub fn check_document(document: &[u8]) -> Result<(), JwksError> {
    parse_document(document).map(|_| ())
}

pub(crate) use fetch::{check_roots_pem, check_url};

#[cfg(test)]
mod tests {
    use super::*;

    fn rsa_jwk(kid: &str) -> serde_json::Value {
        // 256 bytes of 0xff: not a real key, but the shape of a 2048-bit one.
        let n = "_".repeat(341) + "w";
        serde_json::json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": "AQAB"})
    }

    fn doc(keys: Vec<serde_json::Value>) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "keys": keys })).unwrap()
    }

    #[test]
    fn usable_keys_are_kept_and_others_skipped() {
        let set = parse_document(&doc(vec![
            rsa_jwk("a"),
            serde_json::json!({"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}),
            serde_json::json!({"kty": "oct", "kid": "sym", "k": "c2VjcmV0"}),
            serde_json::json!({"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AAAA"}),
            serde_json::json!({"kty": "RSA", "kid": "ps", "alg": "PS256", "n": "AQAB", "e": "AQAB"}),
            serde_json::json!({"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AAAA", "y": "AAAA"}),
        ]))
        .unwrap();
        assert_eq!(set.kids(), vec!["a".to_string()]);
        assert_eq!(set.get("a").map(|k| k.alg), Some(Algorithm::RS256));
    }

    #[test]
    fn malformed_documents() {
        let malformed = |bytes: &[u8]| matches!(parse_document(bytes), Err(JwksError::Malformed(_)));
        assert!(malformed(b"not json"));
        assert!(malformed(b"{\"keys\": 3}"));
        assert!(malformed(&doc(vec![])));
        // Only keys that are not ours: nothing to verify with.
        assert!(malformed(&doc(vec![serde_json::json!({"kty": "oct", "kid": "sym", "k": "c2VjcmV0"})])));
        assert!(malformed(&doc(vec![rsa_jwk("a"), rsa_jwk("a")])));
        let short = serde_json::json!({"kty": "RSA", "kid": "short", "alg": "RS256", "n": "AQAB", "e": "AQAB"});
        assert!(malformed(&doc(vec![rsa_jwk("a"), short])));
        let bad_b64 = serde_json::json!({"kty": "EC", "kid": "e", "crv": "P-256", "x": "***", "y": "AAAA"});
        assert!(malformed(&doc(vec![rsa_jwk("a"), bad_b64])));
        let short_point = serde_json::json!({"kty": "EC", "kid": "e", "crv": "P-256", "x": "AAAA", "y": "AAAA"});
        assert!(malformed(&doc(vec![rsa_jwk("a"), short_point])));
    }
}
