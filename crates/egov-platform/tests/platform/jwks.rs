//! Production identity: RS256 and ES256 tokens verified against a JWKS (a file, or a URL over
//! HTTPS), key rotation by the refresh loop and by a token of a new kid, malformed documents
//! keeping the keys held, and an RS256 token through a running service over gRPC.
//!
//! The keys are the fixed test key pairs of `tests/fixtures` (their README says what each is);
//! tokens are signed here with jsonwebtoken's `EncodingKey`.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use egov_platform::{
    AppError,
    auth::{Jwks, Reload, Role, TokenVerifier},
    config::{AuthSettings, Profile, Secret, Settings},
    testing::{RunningService, TestDatabase, TestVhost, bearer, eventually, test_settings, token},
};
use egov_proto::common::{
    GetClockRequest, VerifyAuditTrailRequest, audit_trail_client::AuditTrailClient, operations_client::OperationsClient,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rustls_connector::{
    rustls,
    rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, pem::PemObject},
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::support::{PlatformOnly, WAIT};

const ISSUER: &str = "https://idp.test/realms/egov";
const AUDIENCE: &str = "egov-suite";
/// Long enough that no test ever sees a second token-triggered reload unless it waits for one.
const NO_SECOND_RELOAD: Duration = Duration::from_secs(3600);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A test key pair: signs tokens naming `kid`.
struct Signer {
    kid: &'static str,
    alg: Algorithm,
    key: EncodingKey,
}

impl Signer {
    fn rsa(file: &str, kid: &'static str) -> Signer {
        let der = PrivatePkcs1KeyDer::from_pem_file(fixture(file)).unwrap();
        Signer { kid, alg: Algorithm::RS256, key: EncodingKey::from_rsa_der(der.secret_pkcs1_der()) }
    }

    fn ec(file: &str, kid: &'static str) -> Signer {
        let der = PrivatePkcs8KeyDer::from_pem_file(fixture(file)).unwrap();
        Signer { kid, alg: Algorithm::ES256, key: EncodingKey::from_ec_der(der.secret_pkcs8_der()) }
    }

    fn rsa_a() -> Signer {
        Signer::rsa("rsa-a.key.pem", "rsa-a")
    }

    fn rsa_b() -> Signer {
        Signer::rsa("rsa-b.key.pem", "rsa-b")
    }

    fn ec_a() -> Signer {
        Signer::ec("ec-a.key.pem", "ec-a")
    }

    /// Signs `claims` with this key, with `alg` and `kid` in the header.
    fn sign_as(&self, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(Into::into);
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(self.alg, Some(self.kid), claims)
    }
}

/// Claims as an identity provider would issue them for `role`, valid for an hour.
fn claims(role: Role, unit: Option<&str>) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut c = json!({
        "sub": format!("{}-idp-user", role.as_str().to_lowercase()),
        "role": role.as_str(),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": Uuid::now_v7().to_string(),
    });
    if let Some(u) = unit {
        c["unit"] = u.into();
    }
    c
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

/// A JWKS document of the named fixture keys (`rsa-a` → `rsa-a.jwk.json`).
fn jwks_of(keys: &[&str]) -> String {
    let keys: Vec<Value> =
        keys.iter().map(|k| serde_json::from_str(&std::fs::read_to_string(fixture(&format!("{k}.jwk.json"))).unwrap()).unwrap()).collect();
    json!({ "keys": keys }).to_string()
}

/// A JWKS file in a directory of its own, rewritten as a mounted Secret is: the new document is
/// written aside, then renamed over the old one, so a reader sees one or the other whole.
struct JwksFile {
    dir: PathBuf,
}

impl JwksFile {
    fn new(document: &str) -> JwksFile {
        let dir = std::env::temp_dir().join(format!("egov-jwks-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = JwksFile { dir };
        f.write(document);
        f
    }

    fn path(&self) -> PathBuf {
        self.dir.join("jwks.json")
    }

    fn write(&self, document: &str) {
        let tmp = self.dir.join(format!(".jwks-{}.json", Uuid::now_v7().simple()));
        std::fs::write(&tmp, document).unwrap();
        std::fs::rename(&tmp, self.path()).unwrap();
    }
}

impl Drop for JwksFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// JWKS-only settings (no HS256 secret) of the test issuer and audience.
fn auth_settings(jwks_file: &Path) -> AuthSettings {
    let mut auth = Settings::defaults("jwks").auth;
    auth.hs256_secret = Secret::new("");
    auth.issuer = ISSUER.into();
    auth.audience = AUDIENCE.into();
    auth.jwks_file = jwks_file.display().to_string();
    auth
}

async fn verifier_of(file: &JwksFile, refresh: Duration, min_reload: Duration) -> (TokenVerifier, Arc<Jwks>) {
    let jwks = Arc::new(Jwks::from_file(file.path(), refresh, min_reload).await.unwrap());
    (TokenVerifier::new(None, Some(jwks.clone()), ISSUER, Some(AUDIENCE)), jwks)
}

/// The gRPC status code the auth layer would answer with.
fn code(result: Result<egov_platform::auth::Principal, AppError>) -> tonic::Code {
    match result {
        Ok(_) => tonic::Code::Ok,
        Err(e) => tonic::Status::from(e).code(),
    }
}

#[tokio::test]
async fn rs256_and_es256_tokens_are_verified_against_the_key_of_their_kid() {
    let file = JwksFile::new(&jwks_of(&["rsa-a", "ec-a"]));
    let (v, _) = verifier_of(&file, Duration::from_secs(300), NO_SECOND_RELOAD).await;

    let p = v.authenticate(&Signer::rsa_a().sign(&claims(Role::Drb, None))).await.unwrap();
    assert_eq!((p.subject.as_str(), p.role, p.unit), ("drb-idp-user", Role::Drb, None));
    let p = v.authenticate(&Signer::ec_a().sign(&claims(Role::Unit, Some("U-001")))).await.unwrap();
    assert_eq!((p.role, p.unit.as_deref()), (Role::Unit, Some("U-001")));
    // An audience among several is enough.
    let many = with(claims(Role::Audit, None), "aud", json!(["another-app", AUDIENCE]));
    assert_eq!(v.authenticate(&Signer::rsa_a().sign(&many)).await.unwrap().role, Role::Audit);
}

#[tokio::test]
async fn refused_tokens_are_unauthenticated() {
    let file = JwksFile::new(&jwks_of(&["rsa-a", "ec-a"]));
    let (v, jwks) = verifier_of(&file, Duration::from_secs(300), NO_SECOND_RELOAD).await;
    let (rsa, ec) = (Signer::rsa_a(), Signer::ec_a());
    let drb = claims(Role::Drb, None);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // {"alg":"none","typ":"JWT","kid":"rsa-a"}, the claims of a real token, no signature.
    let none_token = {
        let signed = rsa.sign(&drb);
        let claims = signed.split('.').nth(1).unwrap();
        format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIiwia2lkIjoicnNhLWEifQ.{claims}.")
    };
    let refused = [
        ("an unknown kid", rsa.sign_as(Algorithm::RS256, Some("not-a-key"), &drb)),
        ("no kid", rsa.sign_as(Algorithm::RS256, None, &drb)),
        ("the wrong key for a known kid", Signer::rsa("rsa-wrong.key.pem", "rsa-a").sign(&drb)),
        ("an RS256 token naming the ES256 key", rsa.sign_as(Algorithm::RS256, Some("ec-a"), &drb)),
        ("RS384", rsa.sign_as(Algorithm::RS384, Some("rsa-a"), &drb)),
        ("expired beyond the leeway", ec.sign(&with(drb.clone(), "exp", json!(now - 120)))),
        ("not yet valid beyond the leeway", ec.sign(&with(drb.clone(), "nbf", json!(now + 120)))),
        ("another issuer", rsa.sign(&with(drb.clone(), "iss", json!("https://evil.test")))),
        ("another audience", rsa.sign(&with(drb.clone(), "aud", json!("another-app")))),
        (
            "no audience",
            rsa.sign(&{
                let mut c = drb.clone();
                c.as_object_mut().unwrap().remove("aud");
                c
            }),
        ),
        ("alg none", none_token),
        // No HS256 secret is configured: refused however it is signed.
        ("HS256", jsonwebtoken::encode(&Header::new(Algorithm::HS256), &drb, &EncodingKey::from_secret(b"any-secret-0123456789")).unwrap()),
        ("HS256 with the development secret", token(Role::Drb, None)),
        ("a UNIT without its unit", rsa.sign(&claims(Role::Unit, None))),
    ];
    for (what, t) in refused {
        assert_eq!(code(v.authenticate(&t).await), tonic::Code::Unauthenticated, "{what} must be refused");
    }
    // The unknown kids cost one reload, not one each.
    assert_eq!(jwks.status().reloads, 1);
    // Within the leeway: accepted.
    assert_eq!(code(v.authenticate(&ec.sign(&with(drb.clone(), "exp", json!(now - 10)))).await), tonic::Code::Ok);
}

#[tokio::test]
async fn hs256_is_accepted_beside_the_jwks_only_with_a_secret() {
    let file = JwksFile::new(&jwks_of(&["rsa-a"]));
    let jwks = Arc::new(Jwks::from_file(file.path(), Duration::from_secs(300), NO_SECOND_RELOAD).await.unwrap());
    let secret = b"a-real-production-secret-0123456789";
    let both = TokenVerifier::new(Some(secret), Some(jwks.clone()), ISSUER, Some(AUDIENCE));
    let hs =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(Role::Operator, None), &EncodingKey::from_secret(secret)).unwrap();
    assert_eq!(both.authenticate(&hs).await.unwrap().role, Role::Operator);
    assert_eq!(both.authenticate(&Signer::rsa_a().sign(&claims(Role::Drb, None))).await.unwrap().role, Role::Drb);
    let jwks_only = TokenVerifier::new(None, Some(jwks), ISSUER, Some(AUDIENCE));
    assert_eq!(code(jwks_only.authenticate(&hs).await), tonic::Code::Unauthenticated);
}

#[tokio::test]
async fn the_refresh_loop_rotates_keys_and_keeps_them_through_a_malformed_document() {
    let file = JwksFile::new(&jwks_of(&["rsa-a"]));
    // No token-triggered reloads here (`verify` never reloads): only the loop changes the keys.
    let (v, jwks) = verifier_of(&file, Duration::from_secs(1), NO_SECOND_RELOAD).await;
    let stop = CancellationToken::new();
    let refresh = jwks.spawn_refresh(stop.clone());
    let (old, new) = (Signer::rsa_a().sign(&claims(Role::Drb, None)), Signer::rsa_b().sign(&claims(Role::Drb, None)));
    assert_eq!(code(v.verify(&old)), tonic::Code::Ok);
    assert_eq!(code(v.verify(&new)), tonic::Code::Unauthenticated);

    // The provider publishes the new key next to the old one, then removes the old one.
    file.write(&jwks_of(&["rsa-a", "rsa-b"]));
    eventually(WAIT, "the refresh loop picks up the new key", || async { v.verify(&new).is_ok() }).await;
    assert_eq!(code(v.verify(&old)), tonic::Code::Ok, "the old key stays until it is removed");
    file.write(&jwks_of(&["rsa-b"]));
    eventually(WAIT, "the refresh loop drops the removed key", || async { v.verify(&old).is_err() }).await;
    assert_eq!(code(v.verify(&old)), tonic::Code::Unauthenticated);
    assert_eq!(jwks.status().kids, vec!["rsa-b".to_string()]);

    // Half-written, emptied, or with no key of ours: the keys held stay.
    for malformed in ["{\"keys\": [{\"kty\": \"RSA\", \"ki", "", r#"{"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]}"#] {
        let failed = jwks.status().failed_reloads;
        file.write(malformed);
        eventually(WAIT, "the refresh loop reads the malformed document", || async { jwks.status().failed_reloads > failed }).await;
        assert_eq!(code(v.verify(&new)), tonic::Code::Ok, "keys kept through {malformed:?}");
        assert_eq!(jwks.status().kids, vec!["rsa-b".to_string()]);
    }
    // A missing file too (the volume briefly unmounted).
    let failed = jwks.status().failed_reloads;
    std::fs::remove_file(file.path()).unwrap();
    eventually(WAIT, "the refresh loop misses the file", || async { jwks.status().failed_reloads > failed }).await;
    assert_eq!(code(v.verify(&new)), tonic::Code::Ok);
    // And a good document is taken again.
    file.write(&jwks_of(&["rsa-b", "ec-a"]));
    eventually(WAIT, "the refresh loop takes the repaired document", || async { jwks.status().kids.len() == 2 }).await;

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), refresh).await.expect("the refresh loop stops on shutdown").unwrap();
}

#[tokio::test]
async fn a_token_of_a_new_kid_triggers_one_reload_per_interval() {
    let file = JwksFile::new(&jwks_of(&["rsa-a"]));
    let (v, jwks) = verifier_of(&file, Duration::from_secs(3600), NO_SECOND_RELOAD).await;
    // Published after the last refresh: the first token of the new kid reloads and passes.
    file.write(&jwks_of(&["rsa-a", "rsa-b"]));
    assert_eq!(v.authenticate(&Signer::rsa_b().sign(&claims(Role::Drb, None))).await.unwrap().role, Role::Drb);
    assert_eq!(jwks.status().reloads, 1);
    // Another new kid within the interval: no reload (made-up kids cannot hammer the source).
    file.write(&jwks_of(&["rsa-a", "rsa-b", "ec-a"]));
    let ec = Signer::ec_a().sign(&claims(Role::Drb, None));
    assert_eq!(code(v.authenticate(&ec).await), tonic::Code::Unauthenticated);
    assert_eq!(jwks.reload_for_unknown_kid().await.unwrap(), Reload::RateLimited);
    assert_eq!(jwks.status().reloads, 1);
    // The next reload (here an explicit one) brings it in.
    assert_eq!(jwks.reload().await.unwrap(), Reload::Replaced);
    assert_eq!(jwks.reload().await.unwrap(), Reload::Unchanged);
    assert_eq!(code(v.authenticate(&ec).await), tonic::Code::Ok);
}

/// A one-connection-at-a-time HTTPS server of a JWKS document, with the test CA's certificate
/// for 127.0.0.1, on a thread of its own (blocking rustls: nothing to share with the runtime
/// under test).
struct JwksServer {
    addr: SocketAddr,
    document: Arc<Mutex<(u16, String)>>,
    requests: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl JwksServer {
    fn start(document: &str) -> JwksServer {
        let certs = vec![CertificateDer::from_pem_file(fixture("tls-server.pem")).unwrap()];
        let key = PrivateKeyDer::from_pem_file(fixture("tls-server.key.pem")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = JwksServer {
            addr,
            document: Arc::new(Mutex::new((200, document.to_string()))),
            requests: Arc::default(),
            stop: Arc::default(),
        };
        let (document, requests, stop) = (server.document.clone(), server.requests.clone(), server.stop.clone());
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(tcp) = tcp else { continue };
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                let Ok(conn) = rustls::ServerConnection::new(config.clone()) else { continue };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                // The request head (GET, no body).
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                if !head.starts_with(b"GET /jwks HTTP/1.1\r\n") {
                    continue;
                }
                requests.fetch_add(1, Ordering::SeqCst);
                let (status, body) = document.lock().unwrap().clone();
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        });
        server
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/jwks", self.addr.port())
    }

    fn serve(&self, status: u16, document: &str) {
        *self.document.lock().unwrap() = (status, document.to_string());
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

#[tokio::test]
async fn a_jwks_url_is_fetched_over_https() {
    let server = JwksServer::start(&jwks_of(&["rsa-a"]));
    let mut auth = auth_settings(Path::new(""));
    auth.jwks_file = String::new();
    auth.jwks_url = server.url();
    auth.jwks_ca_file = fixture("tls-ca.pem").display().to_string();
    auth.jwks_min_reload_secs = 3600;
    let mut settings = Settings::defaults("jwks");
    settings.auth = auth.clone();
    settings.validate().unwrap();

    let v = TokenVerifier::from_settings(&auth, Profile::Production).await.unwrap();
    assert_eq!(server.requests(), 1, "fetched at start");
    assert_eq!(v.authenticate(&Signer::rsa_a().sign(&claims(Role::Drb, None))).await.unwrap().role, Role::Drb);
    // A rotation: the first token of the new kid fetches the document again.
    server.serve(200, &jwks_of(&["rsa-a", "rsa-b"]));
    assert_eq!(v.authenticate(&Signer::rsa_b().sign(&claims(Role::Drb, None))).await.unwrap().role, Role::Drb);
    assert_eq!(server.requests(), 2);
    // A provider's bad minute keeps the keys.
    let jwks = v.jwks().unwrap();
    server.serve(503, "unavailable");
    assert!(jwks.reload().await.is_err());
    server.serve(200, "<html>maintenance</html>");
    assert!(jwks.reload().await.is_err());
    assert_eq!(jwks.status().kids, vec!["rsa-a".to_string(), "rsa-b".to_string()]);
    assert_eq!(server.requests(), 4);

    // At start, failures name the key: a certificate the system's roots do not vouch for, an
    // error status, a document without keys.
    let mut untrusted = auth.clone();
    untrusted.jwks_ca_file = String::new();
    let e = TokenVerifier::from_settings(&untrusted, Profile::Production).await.err().unwrap();
    assert_eq!(e.key, "auth.jwks_url", "{e}");
    assert!(e.message.contains("TLS"), "{e}");
    server.serve(404, "not found");
    assert_eq!(TokenVerifier::from_settings(&auth, Profile::Production).await.err().unwrap().key, "auth.jwks_url");
    server.serve(200, r#"{"keys": []}"#);
    assert_eq!(TokenVerifier::from_settings(&auth, Profile::Production).await.err().unwrap().key, "auth.jwks_url");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs256_tokens_reach_a_running_service_over_grpc() {
    let (db, vhost) = tokio::try_join!(TestDatabase::create(), TestVhost::create()).unwrap();
    let file = JwksFile::new(&jwks_of(&["rsa-a", "ec-a"]));
    let mut settings = test_settings("jwks", &db, &vhost);
    settings.auth = auth_settings(&file.path());
    settings.auth.jwks_refresh_secs = 1;
    settings.validate().unwrap();
    let svc = RunningService::start::<PlatformOnly>(settings).await.unwrap();

    let audit = |t: &str| AuditTrailClient::with_interceptor(svc.channel.clone(), bearer(t));
    let ops = |t: &str| OperationsClient::with_interceptor(svc.channel.clone(), bearer(t));
    let rsa_audit = Signer::rsa_a().sign(&claims(Role::Audit, None));
    let verified = audit(&rsa_audit).verify_audit_trail(VerifyAuditTrailRequest::default()).await.unwrap().into_inner();
    assert!(verified.intact, "{verified:?}");
    ops(&Signer::ec_a().sign(&claims(Role::Unit, Some("U-001")))).get_clock(GetClockRequest {}).await.unwrap();
    // Authenticated, then authorised by the role table as before.
    let as_expert = Signer::rsa_a().sign(&claims(Role::Expert, None));
    assert_eq!(
        audit(&as_expert).verify_audit_trail(VerifyAuditTrailRequest::default()).await.unwrap_err().code(),
        tonic::Code::PermissionDenied
    );
    for refused in [
        Signer::rsa("rsa-wrong.key.pem", "rsa-a").sign(&claims(Role::Audit, None)),
        Signer::rsa_a().sign_as(Algorithm::RS256, Some("not-a-key"), &claims(Role::Audit, None)),
        // JWKS only: the local development secret's tokens are not accepted.
        token(Role::Audit, None),
    ] {
        let status = audit(&refused).verify_audit_trail(VerifyAuditTrailRequest::default()).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
    }

    // The platform's refresh loop follows a rotation of the file.
    file.write(&jwks_of(&["rsa-b"]));
    let rsa_b_audit = Signer::rsa_b().sign(&claims(Role::Audit, None));
    eventually(WAIT, "the service drops the removed key", || {
        let mut client = audit(&rsa_audit);
        async move {
            client.verify_audit_trail(VerifyAuditTrailRequest::default()).await.is_err_and(|s| s.code() == tonic::Code::Unauthenticated)
        }
    })
    .await;
    audit(&rsa_b_audit).verify_audit_trail(VerifyAuditTrailRequest::default()).await.unwrap();
    tokio::time::timeout(WAIT, svc.stop()).await.expect("the service stops, its refresh loop with it").unwrap();
}
