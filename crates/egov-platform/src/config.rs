//! Layered configuration: compiled defaults, then an optional TOML file (`EGOV_CONFIG` or
//! `--config`), then `EGOV_<SECTION>__<KEY>` environment variables. Validated once at start; a
//! bad value exits with code 64 (EX_USAGE) naming the key.

use std::{fmt, net::SocketAddr, path::PathBuf};

use serde::{Deserialize, Serialize};

/// Exit code for configuration errors (sysexits EX_USAGE).
pub const EXIT_CONFIG: i32 = 64;

/// Secret strings never appear in logs or debug output.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Local,
    Test,
    Production,
}

/// The local profile's signing secret. Production refuses to start with it.
pub const LOCAL_DEV_SECRET: &str = "egov-local-dev-secret-change-me";

/// The local and test profiles' SM4 key for documents at rest. Production refuses to start with it.
pub const LOCAL_DEV_SM4_KEY: &str = "00112233445566778899aabbccddeeff";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub service: ServiceSettings,
    pub database: DatabaseSettings,
    pub broker: BrokerSettings,
    pub outbox: OutboxSettings,
    pub timers: TimerSettings,
    pub auth: AuthSettings,
    pub telemetry: TelemetrySettings,
    pub policy: PolicySettings,
    pub clock: ClockSettings,
    pub documents: DocumentSettings,
    pub peers: PeerSettings,
    #[serde(default)]
    pub housekeeping: HousekeepingSettings,
    /// Longest text by kind of field, checked at the edge (`edge.rs`).
    #[serde(default)]
    pub edge: crate::edge::TextLimits,
    /// The audit trail's anchors (`anchors.rs`).
    #[serde(default)]
    pub audit: AuditSettings,
}

/// The audit trail's signed anchors ([`crate::anchors`]).
///
/// Environment: `EGOV_AUDIT__SM2_KEY`, `EGOV_AUDIT__SM2_KEY_ID`, `EGOV_AUDIT__ANCHOR_INTERVAL_SECS`,
/// `EGOV_AUDIT__TRUSTED_KEYS`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditSettings {
    /// SM2 private key (64 hex digits) anchors are signed with; from a Secret in production,
    /// where the local development key is refused.
    pub sm2_key: Secret,
    /// The key's id, stored in every anchor (a new key gets a new id).
    pub sm2_key_id: String,
    /// Seconds between anchors: the longest a record stays not yet sealed.
    pub anchor_interval_secs: u64,
    /// Earlier keys whose anchors still verify after a rotation: `key_id:public_key_hex`, comma-separated.
    pub trusted_keys: String,
}

impl Default for AuditSettings {
    fn default() -> AuditSettings {
        AuditSettings {
            sm2_key: Secret::new(crate::anchors::LOCAL_DEV_SM2_KEY),
            sm2_key_id: "local-dev".into(),
            anchor_interval_secs: 60,
            trusted_keys: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceSettings {
    /// intake, review, procurement, acceptance, evaluation.
    pub name: String,
    pub profile: Profile,
    /// Address the gRPC server binds; port 0 picks a free port (tests).
    pub listen: String,
    /// Seconds in-flight calls get to finish after SIGTERM.
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseSettings {
    /// The service's runtime role: reads and writes rows, nothing more (least privilege).
    pub url: Secret,
    /// The owner role that runs the migrations and grants the runtime role what it needs (rows
    /// of every table; on the audit tables INSERT and SELECT only), then disconnects. Empty: the
    /// runtime URL does both (a single-role setup, without that separation).
    #[serde(default)]
    pub owner_url: Secret,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
    /// Create the database when missing; honoured in the local and test profiles only.
    pub create_if_missing: bool,
    /// How long a start waits for an unreachable PostgreSQL (answering gRPC health NOT_SERVING
    /// meanwhile, retrying with backoff) before it gives up; 0: it gives up at once.
    #[serde(default = "default_start_wait_secs")]
    pub start_wait_secs: u64,
}

fn default_start_wait_secs() -> u64 {
    300
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BrokerSettings {
    pub url: Secret,
    /// The suite's one durable topic exchange.
    pub exchange: String,
    pub dead_letter_exchange: String,
    /// Unacknowledged deliveries a consumer holds at once.
    pub prefetch: u16,
    /// Deliveries of one message before it is dead-lettered (quorum queue x-delivery-limit).
    pub delivery_limit: u32,
    /// Prefix of queue names (tests isolate themselves by virtual host instead).
    pub queue_prefix: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxSettings {
    pub batch_size: u32,
    /// Attempts before an event is marked dead for an operator to redrive.
    pub max_attempts: u32,
    pub poll_interval_ms: u64,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Hours a `sent` row is kept before housekeeping deletes it (dead and pending rows are
    /// never deleted).
    #[serde(default = "default_outbox_retention_hours")]
    pub retention_hours: u64,
    /// Shortest time between two passes of the relay woken by commits
    /// (`EGOV_OUTBOX__GATHER_MS`): a stream of event-producing commits is published in batches,
    /// not one transaction each, for at most this much added latency; a lone event goes at once.
    #[serde(default = "default_outbox_gather_ms")]
    pub gather_ms: u64,
}

fn default_outbox_gather_ms() -> u64 {
    10
}

fn default_outbox_retention_hours() -> u64 {
    168
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimerSettings {
    pub poll_interval_ms: u64,
    pub batch_size: u32,
    /// Timers one replica fires at once, each in its own transaction (`EGOV_TIMERS__CONCURRENCY`):
    /// a burst of due timers (the 21st's report checks) is bounded by commit latency, not CPU,
    /// when they fire one at a time.
    #[serde(default = "default_timer_concurrency")]
    pub concurrency: u32,
    /// Hours a fired or cancelled timer is kept before housekeeping deletes it (pending timers
    /// are never deleted).
    #[serde(default = "default_timer_retention_hours")]
    pub retention_hours: u64,
}

fn default_timer_retention_hours() -> u64 {
    720
}

fn default_timer_concurrency() -> u32 {
    4
}

/// The housekeeping loop (`housekeeping.rs`): how often it prunes and how many rows one delete
/// takes (small batches keep locks and WAL bursts short).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HousekeepingSettings {
    pub interval_secs: u64,
    pub batch_size: u32,
}

impl Default for HousekeepingSettings {
    fn default() -> HousekeepingSettings {
        HousekeepingSettings { interval_secs: 600, batch_size: 500 }
    }
}

/// Bearer-token verification (`auth.rs`). Two kinds of signer, together or alone: an HS256
/// secret (local runs, tests, `egovctl token`), and a production identity provider's JWKS
/// (RS256/ES256), from a file or a URL. At least one must be configured; production refuses the
/// local development secret, so it runs on a JWKS, on a secret of its own, or both.
///
/// Environment: `EGOV_AUTH__HS256_SECRET`, `EGOV_AUTH__ISSUER`, `EGOV_AUTH__AUDIENCE`,
/// `EGOV_AUTH__JWKS_FILE`, `EGOV_AUTH__JWKS_URL`, `EGOV_AUTH__JWKS_CA_FILE`,
/// `EGOV_AUTH__JWKS_REFRESH_SECS`, `EGOV_AUTH__JWKS_MIN_RELOAD_SECS`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthSettings {
    /// The HS256 signing secret, at least 16 bytes. Empty: HS256 tokens are refused (a JWKS-only
    /// deployment sets it empty, as the default is the local development secret).
    pub hs256_secret: Secret,
    /// The `iss` every token must carry: the identity provider's issuer when it signs them.
    pub issuer: String,
    /// The `aud` every token must name (one of its audiences). Empty: not checked.
    #[serde(default)]
    pub audience: String,
    /// A JWKS JSON document with the provider's public keys, e.g. mounted from a Kubernetes
    /// Secret or ConfigMap that the platform team keeps current. Re-read every
    /// `jwks_refresh_secs`; unusable at start, a configuration error.
    #[serde(default)]
    pub jwks_file: String,
    /// The provider's JWKS URL, fetched at start and every `jwks_refresh_secs`: `https://`
    /// (`http://` is accepted outside production, for a local provider). Not with `jwks_file`.
    #[serde(default)]
    pub jwks_url: String,
    /// PEM CA certificates trusted for `jwks_url` besides the system's (a provider behind a
    /// private CA). Empty: the system's only.
    #[serde(default)]
    pub jwks_ca_file: String,
    /// Seconds between two readings of the JWKS.
    #[serde(default = "default_jwks_refresh_secs")]
    pub jwks_refresh_secs: u64,
    /// A token of a kid the JWKS held does not have triggers a reload, at most once per this
    /// many seconds (so made-up kids cannot make the service hammer the provider).
    #[serde(default = "default_jwks_min_reload_secs")]
    pub jwks_min_reload_secs: u64,
    /// Refused calls recorded per minute at most (`egov_denied_calls`); the rest are counted.
    #[serde(default = "default_denials_per_minute")]
    pub denials_per_minute: u32,
}

fn default_denials_per_minute() -> u32 {
    120
}

fn default_jwks_refresh_secs() -> u64 {
    300
}

fn default_jwks_min_reload_secs() -> u64 {
    30
}

impl AuthSettings {
    /// The settings of the local profile: HS256 with the development secret, no JWKS.
    fn local() -> AuthSettings {
        AuthSettings {
            hs256_secret: Secret::new(LOCAL_DEV_SECRET),
            issuer: "egov-local".into(),
            audience: String::new(),
            jwks_file: String::new(),
            jwks_url: String::new(),
            jwks_ca_file: String::new(),
            jwks_refresh_secs: default_jwks_refresh_secs(),
            jwks_min_reload_secs: default_jwks_min_reload_secs(),
            denials_per_minute: default_denials_per_minute(),
        }
    }

    /// Validates `auth.*`; reads `jwks_file` (and `jwks_ca_file`), so that a document that
    /// cannot be used stops the start with exit 64 naming the key. A `jwks_url` is fetched when
    /// the service starts serving, not here.
    pub fn validate(&self, production: bool) -> Result<(), ConfigError> {
        let secret = self.hs256_secret.expose();
        if !secret.is_empty() && secret.len() < 16 {
            return Err(ConfigError::new("auth.hs256_secret", "must be at least 16 bytes (or empty: HS256 tokens refused)"));
        }
        if production && secret == LOCAL_DEV_SECRET {
            return Err(ConfigError::new(
                "auth.hs256_secret",
                "the local development secret is refused in production: set a secret of your own, or set it empty and \
                 configure auth.jwks_file or auth.jwks_url",
            ));
        }
        if self.issuer.trim().is_empty() {
            return Err(ConfigError::new("auth.issuer", "must not be empty"));
        }
        if !self.jwks_file.is_empty() && !self.jwks_url.is_empty() {
            return Err(ConfigError::new("auth.jwks_url", "set auth.jwks_file or auth.jwks_url, not both"));
        }
        if secret.is_empty() && self.jwks_file.is_empty() && self.jwks_url.is_empty() {
            return Err(ConfigError::new(
                "auth.hs256_secret",
                "is empty and no JWKS is configured (auth.jwks_file or auth.jwks_url): no token could be verified",
            ));
        }
        if self.jwks_refresh_secs == 0 {
            return Err(ConfigError::new("auth.jwks_refresh_secs", "must be at least 1"));
        }
        if self.jwks_min_reload_secs == 0 {
            return Err(ConfigError::new("auth.jwks_min_reload_secs", "must be at least 1"));
        }
        if !self.jwks_url.is_empty() {
            crate::auth::jwks::check_url(&self.jwks_url, production).map_err(|e| ConfigError::new("auth.jwks_url", e))?;
        }
        if !self.jwks_ca_file.is_empty() {
            if self.jwks_url.is_empty() {
                return Err(ConfigError::new("auth.jwks_ca_file", "is only used with auth.jwks_url"));
            }
            let pem = std::fs::read(&self.jwks_ca_file)
                .map_err(|e| ConfigError::new("auth.jwks_ca_file", format!("cannot read {}: {e}", self.jwks_ca_file)))?;
            crate::auth::jwks::check_roots_pem(&pem)
                .map_err(|e| ConfigError::new("auth.jwks_ca_file", format!("{}: {e}", self.jwks_ca_file)))?;
        }
        if !self.jwks_file.is_empty() {
            let document = std::fs::read(&self.jwks_file)
                .map_err(|e| ConfigError::new("auth.jwks_file", format!("cannot read {}: {e}", self.jwks_file)))?;
            crate::auth::jwks::check_document(&document)
                .map_err(|e| ConfigError::new("auth.jwks_file", format!("{}: {e}", self.jwks_file)))?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TelemetrySettings {
    /// `tracing` filter directive, e.g. "info,egov=debug".
    pub log_filter: String,
    /// json or text.
    pub log_format: String,
    /// OTLP/gRPC endpoint of traces and metrics; empty: neither is exported.
    pub otlp_endpoint: String,
    /// How often the metrics sampler reads the outbox and timer gauges from the database (only
    /// while metrics are exported).
    #[serde(default = "default_metrics_sample_ms")]
    pub metrics_sample_ms: u64,
    /// Where this service instance records its metrics instead of the global meter provider
    /// (which `telemetry::init` points at OTLP when `otlp_endpoint` is set). Set in code by
    /// tests, to read one instance's numbers; never read from files or the environment.
    #[serde(skip)]
    pub meter_provider: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
}

fn default_metrics_sample_ms() -> u64 {
    5000
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicySettings {
    /// Policy file; empty: the policy compiled into the binary.
    pub file: String,
    /// A directory of working-day calendar files (`cn-YYYY.txt`, egov-calendar's format) that add
    /// a newly published year or correct one, over the official years compiled into the binary.
    /// Empty: the compiled years only.
    #[serde(default)]
    pub calendar_dir: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClockSettings {
    /// Whether Operations.AdvanceClock may move time (never in production).
    pub adjustable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentSettings {
    /// Local directory of the object store.
    pub dir: String,
    /// Largest accepted upload.
    pub max_bytes: u64,
    /// SM4 key (32 hex digits) documents are encrypted with at rest, SM4-GCM (see
    /// [`crate::sealing`]); from a Kubernetes Secret in production, where it is required and
    /// must not be the local development key. Empty: documents are stored in clear (local and
    /// test profiles only).
    #[serde(default)]
    pub sm4_key: Secret,
    /// The key's id, written into every sealed object (a later key gets a new id).
    #[serde(default = "default_sm4_key_id")]
    pub sm4_key_id: String,
}

fn default_sm4_key_id() -> String {
    "k1".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerSettings {
    pub intake: String,
    pub review: String,
    pub procurement: String,
    pub acceptance: String,
    pub evaluation: String,
    /// Seconds a call to another service may take.
    pub timeout_secs: u64,
    /// A file holding the bearer token this service presents to its peers (the identity
    /// provider's token of its service account, e.g. mounted from a Kubernetes Secret and kept
    /// current by the platform team); re-read when it changes. Empty: the service mints its own
    /// short-lived `SERVICE` token with the HS256 secret (local and test profiles).
    #[serde(default)]
    pub token_file: String,
}

/// Default ports of the five services.
pub fn default_port(service: &str) -> u16 {
    match service {
        "intake" => 50051,
        "review" => 50052,
        "procurement" => 50053,
        "acceptance" => 50054,
        "evaluation" => 50055,
        _ => 50050,
    }
}

impl Settings {
    /// The compiled defaults: a local run against the machine's PostgreSQL and RabbitMQ.
    pub fn defaults(service: &str) -> Settings {
        let peer = |s: &str| format!("http://127.0.0.1:{}", default_port(s));
        Settings {
            service: ServiceSettings {
                name: service.into(),
                profile: Profile::Local,
                listen: format!("0.0.0.0:{}", default_port(service)),
                shutdown_grace_secs: 20,
            },
            database: DatabaseSettings {
                url: Secret::new(format!("postgres://egov:egov@127.0.0.1:5432/egov_{service}")),
                owner_url: Secret::default(),
                max_connections: 16,
                acquire_timeout_secs: 5,
                create_if_missing: true,
                start_wait_secs: default_start_wait_secs(),
            },
            broker: BrokerSettings {
                url: Secret::new("amqp://guest:guest@127.0.0.1:5672/%2f"),
                exchange: "egov.events".into(),
                dead_letter_exchange: "egov.dlx".into(),
                prefetch: 32,
                delivery_limit: 5,
                queue_prefix: "egov".into(),
            },
            outbox: OutboxSettings {
                batch_size: 200,
                max_attempts: 12,
                poll_interval_ms: 500,
                backoff_base_ms: 250,
                backoff_max_ms: 60_000,
                retention_hours: default_outbox_retention_hours(),
                gather_ms: default_outbox_gather_ms(),
            },
            timers: TimerSettings {
                poll_interval_ms: 500,
                batch_size: 50,
                retention_hours: default_timer_retention_hours(),
                concurrency: default_timer_concurrency(),
            },
            auth: AuthSettings::local(),
            telemetry: TelemetrySettings {
                log_filter: "info".into(),
                log_format: "json".into(),
                otlp_endpoint: String::new(),
                metrics_sample_ms: default_metrics_sample_ms(),
                meter_provider: None,
            },
            policy: PolicySettings { file: String::new(), calendar_dir: String::new() },
            clock: ClockSettings { adjustable: true },
            documents: DocumentSettings {
                dir: format!(".egov-local/documents/{service}"),
                max_bytes: 64 * 1024 * 1024,
                sm4_key: Secret::new(LOCAL_DEV_SM4_KEY),
                sm4_key_id: "local-dev".into(),
            },
            peers: PeerSettings {
                intake: peer("intake"),
                review: peer("review"),
                procurement: peer("procurement"),
                acceptance: peer("acceptance"),
                evaluation: peer("evaluation"),
                timeout_secs: 5,
                token_file: String::new(),
            },
            housekeeping: HousekeepingSettings::default(),
            edge: crate::edge::TextLimits::default(),
            audit: AuditSettings::default(),
        }
    }

    /// Defaults, then `file` (if any), then the `EGOV_` environment; validated.
    pub fn load(service: &str, file: Option<PathBuf>) -> Result<Settings, ConfigError> {
        let defaults = config::Config::try_from(&Settings::defaults(service)).map_err(|e| ConfigError::new("<defaults>", e.to_string()))?;
        let mut builder = config::Config::builder().add_source(defaults);
        let file = file.or_else(|| std::env::var_os("EGOV_CONFIG").map(PathBuf::from));
        if let Some(f) = &file {
            builder = builder.add_source(config::File::from(f.as_path()).required(true));
        }
        builder = builder.add_source(config::Environment::with_prefix("EGOV").prefix_separator("_").separator("__").try_parsing(true));
        let cfg = builder.build().map_err(|e| ConfigError::from_config(e, file.as_deref()))?;
        let settings: Settings = cfg.try_deserialize().map_err(|e| ConfigError::from_config(e, file.as_deref()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Loads or exits 64 with a message naming the key.
    pub fn load_or_exit(service: &str, file: Option<PathBuf>) -> Settings {
        match Settings::load(service, file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("egov-{service}: configuration error: {e}");
                std::process::exit(EXIT_CONFIG);
            }
        }
    }

    pub fn listen_addr(&self) -> SocketAddr {
        // validate() has checked it parses.
        self.service.listen.parse().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let prod = self.service.profile == Profile::Production;
        if self.service.listen.parse::<SocketAddr>().is_err() {
            return Err(ConfigError::new(
                "service.listen",
                format!("{:?} is not a socket address like 0.0.0.0:50051", self.service.listen),
            ));
        }
        if !self.database.url.expose().starts_with("postgres://") && !self.database.url.expose().starts_with("postgresql://") {
            return Err(ConfigError::new("database.url", "must be a postgres:// URL"));
        }
        let owner = self.database.owner_url.expose();
        if !owner.is_empty() && !owner.starts_with("postgres://") && !owner.starts_with("postgresql://") {
            return Err(ConfigError::new("database.owner_url", "must be a postgres:// URL, or empty"));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::new("database.max_connections", "must be at least 1"));
        }
        if !self.broker.url.expose().starts_with("amqp://") && !self.broker.url.expose().starts_with("amqps://") {
            return Err(ConfigError::new("broker.url", "must be an amqp:// or amqps:// URL"));
        }
        if self.broker.exchange.is_empty() {
            return Err(ConfigError::new("broker.exchange", "must not be empty"));
        }
        if self.broker.prefetch == 0 {
            return Err(ConfigError::new("broker.prefetch", "must be at least 1"));
        }
        if self.broker.delivery_limit == 0 {
            return Err(ConfigError::new("broker.delivery_limit", "must be at least 1"));
        }
        // Each timer worker holds a connection while it fires: leave the rest for calls.
        if self.timers.concurrency == 0 || self.timers.concurrency >= self.database.max_connections {
            return Err(ConfigError::new(
                "timers.concurrency",
                format!("must be at least 1 and less than database.max_connections ({})", self.database.max_connections),
            ));
        }
        if self.outbox.max_attempts == 0 || self.outbox.batch_size == 0 {
            return Err(ConfigError::new("outbox.max_attempts", "outbox.max_attempts and outbox.batch_size must be at least 1"));
        }
        // Bounded so that `hours * interval '1 hour'` stays far inside PostgreSQL's range.
        const MAX_RETENTION_HOURS: u64 = 100 * 366 * 24;
        for (key, hours) in
            [("outbox.retention_hours", self.outbox.retention_hours), ("timers.retention_hours", self.timers.retention_hours)]
        {
            if hours == 0 || hours > MAX_RETENTION_HOURS {
                return Err(ConfigError::new(key, format!("must be between 1 and {MAX_RETENTION_HOURS} hours")));
            }
        }
        if self.housekeeping.interval_secs == 0 || self.housekeeping.batch_size == 0 {
            return Err(ConfigError::new(
                "housekeeping.interval_secs",
                "housekeeping.interval_secs and housekeeping.batch_size must be at least 1",
            ));
        }
        for (key, chars) in [
            ("edge.identifier_chars", self.edge.identifier_chars),
            ("edge.name_chars", self.edge.name_chars),
            ("edge.text_chars", self.edge.text_chars),
        ] {
            if !(16..=1_000_000).contains(&chars) {
                return Err(ConfigError::new(key, "must be between 16 and 1,000,000 characters"));
            }
        }
        if self.telemetry.metrics_sample_ms == 0 {
            return Err(ConfigError::new("telemetry.metrics_sample_ms", "must be at least 1"));
        }
        if !matches!(self.telemetry.log_format.as_str(), "json" | "text") {
            return Err(ConfigError::new("telemetry.log_format", "must be json or text"));
        }
        if self.documents.max_bytes == 0 {
            return Err(ConfigError::new("documents.max_bytes", "must be at least 1"));
        }
        if self.audit.anchor_interval_secs == 0 {
            return Err(ConfigError::new("audit.anchor_interval_secs", "must be at least 1"));
        }
        crate::anchors::from_settings(&self.audit)?;
        if !self.documents.sm4_key.expose().is_empty() {
            crate::sealing::SealingKey::from_hex(&self.documents.sm4_key_id, self.documents.sm4_key.expose())
                .map_err(|why| ConfigError::new("documents.sm4_key", why))?;
        }
        if prod {
            if self.clock.adjustable {
                return Err(ConfigError::new("clock.adjustable", "time cannot be moved in the production profile"));
            }
            if self.database.create_if_missing {
                return Err(ConfigError::new("database.create_if_missing", "databases are provisioned, not created, in production"));
            }
        }
        // Last: it reads the JWKS file.
        self.auth.validate(prod)?;
        if prod && (self.documents.sm4_key.expose().is_empty() || self.documents.sm4_key.expose() == LOCAL_DEV_SM4_KEY) {
            return Err(ConfigError::new(
                "documents.sm4_key",
                "production encrypts documents at rest with its own SM4 key (32 hex digits, from a Secret), not the local one",
            ));
        }
        if prod && self.audit.sm2_key.expose().trim().eq_ignore_ascii_case(crate::anchors::LOCAL_DEV_SM2_KEY) {
            return Err(ConfigError::new(
                "audit.sm2_key",
                "production signs its audit anchors with its own SM2 key (64 hex digits, from a Secret), not the local one",
            ));
        }
        Ok(())
    }
}

/// A configuration error naming the key at fault.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError { key: key.into(), message: message.into() }
    }

    fn from_config(e: config::ConfigError, file: Option<&std::path::Path>) -> ConfigError {
        let text = e.to_string();
        // Messages name the key as "... for key `service.profile` ...".
        if let Some(key) = text.split("for key `").nth(1).and_then(|r| r.split('`').next()) {
            return ConfigError::new(key, text.clone());
        }
        match &e {
            config::ConfigError::Type { key: Some(k), .. } => ConfigError::new(k.clone(), text),
            config::ConfigError::NotFound(k) => ConfigError::new(k.clone(), "missing"),
            config::ConfigError::FileParse { .. } | config::ConfigError::Foreign(_) => {
                ConfigError::new(file.map(|f| f.display().to_string()).unwrap_or_else(|| "<file>".into()), text)
            }
            _ => ConfigError::new("<settings>", text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        Settings::defaults("intake").validate().unwrap();
        assert_eq!(Settings::defaults("review").service.listen, "0.0.0.0:50052");
    }

    #[test]
    fn timer_workers_leave_connections_for_calls() {
        let key = |workers: u32, connections: u32| {
            let mut s = Settings::defaults("procurement");
            (s.timers.concurrency, s.database.max_connections) = (workers, connections);
            s.validate().err().map(|e| e.key)
        };
        assert_eq!(key(4, 16), None);
        assert_eq!(key(15, 16), None);
        assert_eq!(key(16, 16), Some("timers.concurrency".into()));
        assert_eq!(key(0, 16), Some("timers.concurrency".into()));
        assert_eq!(key(1, 2), None);
    }

    fn fixture(name: &str) -> String {
        format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    /// A JWKS file of the test keys in a fresh directory (removed by the caller).
    fn jwks_file(dir: &std::path::Path, jwks: &str) -> String {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("jwks.json");
        std::fs::write(&path, jwks).unwrap();
        path.display().to_string()
    }

    fn test_jwks() -> String {
        let key = std::fs::read_to_string(fixture("rsa-a.jwk.json")).unwrap();
        format!("{{\"keys\": [{key}]}}")
    }

    fn production() -> Settings {
        let mut s = Settings::defaults("intake");
        s.service.profile = Profile::Production;
        s.database.create_if_missing = false;
        s.clock.adjustable = false;
        s.documents.sm4_key = Secret::new("0123456789abcdeffedcba9876543210");
        s.audit.sm2_key = Secret::new("22".repeat(32));
        s
    }

    #[test]
    fn production_refuses_adjustable_clock_and_dev_secret() {
        let mut s = Settings::defaults("intake");
        s.service.profile = Profile::Production;
        s.database.create_if_missing = false;
        assert_eq!(s.validate().unwrap_err().key, "clock.adjustable");
        s.clock.adjustable = false;
        assert_eq!(s.validate().unwrap_err().key, "auth.hs256_secret");
        s.auth.hs256_secret = Secret::new("a-real-production-secret-0123456789");
        // Documents at rest: production's own SM4 key, neither none nor the local one.
        assert_eq!(s.validate().unwrap_err().key, "documents.sm4_key");
        s.documents.sm4_key = Secret::new("");
        assert_eq!(s.validate().unwrap_err().key, "documents.sm4_key");
        s.documents.sm4_key = Secret::new("0123456789abcdeffedcba98765432");
        assert_eq!(s.validate().unwrap_err().key, "documents.sm4_key", "too short");
        s.documents.sm4_key = Secret::new("0123456789abcdeffedcba9876543210");
        // Audit anchors: production's own SM2 key, not the local one, and a valid one.
        assert_eq!(s.validate().unwrap_err().key, "audit.sm2_key");
        s.audit.sm2_key = Secret::new("00".repeat(32));
        assert_eq!(s.validate().unwrap_err().key, "audit.sm2_key", "zero is no key");
        s.audit.sm2_key = Secret::new("22".repeat(32));
        s.validate().unwrap();
    }

    #[test]
    fn production_runs_on_a_jwks_a_secret_of_its_own_or_both() {
        let dir = std::env::temp_dir().join(format!("egov-cfg-{}", uuid::Uuid::now_v7()));
        let file = jwks_file(&dir, &test_jwks());
        // A JWKS does not make the development secret acceptable: it must be replaced or emptied.
        let mut s = production();
        s.auth.jwks_file = file.clone();
        assert_eq!(s.validate().unwrap_err().key, "auth.hs256_secret");
        s.auth.hs256_secret = Secret::new("");
        s.validate().unwrap();
        s.auth.hs256_secret = Secret::new("a-real-production-secret-0123456789");
        s.validate().unwrap();
        // Nothing to verify tokens with.
        let mut s = production();
        s.auth.hs256_secret = Secret::new("");
        assert_eq!(s.validate().unwrap_err().key, "auth.hs256_secret");
        // A URL instead of a file: https only in production.
        s.auth.jwks_url = "http://idp.example/jwks".into();
        assert_eq!(s.validate().unwrap_err().key, "auth.jwks_url");
        s.auth.jwks_url = "https://idp.example/realms/egov/protocol/openid-connect/certs".into();
        s.validate().unwrap();
        s.auth.jwks_file = file;
        assert_eq!(s.validate().unwrap_err().key, "auth.jwks_url", "not both");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn auth_errors_name_their_key() {
        let dir = std::env::temp_dir().join(format!("egov-cfg-{}", uuid::Uuid::now_v7()));
        let key = |f: &dyn Fn(&mut AuthSettings)| {
            let mut s = Settings::defaults("intake");
            f(&mut s.auth);
            s.validate().err().map(|e| e.key)
        };
        assert_eq!(key(&|a| a.hs256_secret = Secret::new("short")), Some("auth.hs256_secret".into()));
        assert_eq!(key(&|a| a.issuer = " ".into()), Some("auth.issuer".into()));
        assert_eq!(key(&|a| a.jwks_refresh_secs = 0), Some("auth.jwks_refresh_secs".into()));
        assert_eq!(key(&|a| a.jwks_min_reload_secs = 0), Some("auth.jwks_min_reload_secs".into()));
        // http:// is fine for a local provider.
        assert_eq!(key(&|a| a.jwks_url = "http://127.0.0.1:8080/jwks".into()), None);
        assert_eq!(key(&|a| a.jwks_url = "idp.example/jwks".into()), Some("auth.jwks_url".into()));
        assert_eq!(key(&|a| a.jwks_ca_file = fixture("tls-ca.pem")), Some("auth.jwks_ca_file".into()), "without a URL");
        let with_ca = |ca: String| {
            move |a: &mut AuthSettings| {
                a.jwks_url = "https://127.0.0.1:8443/jwks".into();
                a.jwks_ca_file = ca.clone();
            }
        };
        assert_eq!(key(&with_ca(fixture("tls-ca.pem"))), None);
        assert_eq!(key(&with_ca(fixture("rsa-a.jwk.json"))), Some("auth.jwks_ca_file".into()));
        // The JWKS file is read at validation: missing or malformed, exit 64 naming it.
        assert_eq!(key(&|a| a.jwks_file = dir.join("missing.json").display().to_string()), Some("auth.jwks_file".into()));
        let malformed = jwks_file(&dir, "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"a\", \"n\": \"AQAB\", \"e\": \"AQAB\"}]}");
        assert_eq!(key(&|a| a.jwks_file = malformed.clone()), Some("auth.jwks_file".into()));
        let good = jwks_file(&dir, &test_jwks());
        assert_eq!(key(&|a| a.jwks_file = good.clone()), None);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn file_layer_and_bad_key() {
        let dir = std::env::temp_dir().join(format!("egov-cfg-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(&good, "[service]\nlisten = \"127.0.0.1:0\"\n[broker]\nprefetch = 7\n").unwrap();
        let s = Settings::load("intake", Some(good)).unwrap();
        assert_eq!(s.broker.prefetch, 7);
        assert_eq!(s.service.listen, "127.0.0.1:0");
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[service]\nprofile = \"staging\"\n").unwrap();
        let e = Settings::load("intake", Some(bad)).unwrap_err();
        assert!(e.key.contains("profile"), "{e}");
        let retention = dir.join("retention.toml");
        std::fs::write(&retention, "[outbox]\nretention_hours = 24\n[housekeeping]\nbatch_size = 10\n").unwrap();
        let s = Settings::load("intake", Some(retention)).unwrap();
        assert_eq!((s.outbox.retention_hours, s.timers.retention_hours), (24, 720));
        assert_eq!((s.housekeeping.batch_size, s.housekeeping.interval_secs), (10, 600));
        let no_retention = dir.join("no_retention.toml");
        std::fs::write(&no_retention, "[timers]\nretention_hours = 0\n").unwrap();
        assert_eq!(Settings::load("intake", Some(no_retention)).unwrap_err().key, "timers.retention_hours");
        let jwks = dir.join("jwks.toml");
        std::fs::write(&jwks, format!("[auth]\nhs256_secret = \"\"\njwks_file = {:?}\naudience = \"egov\"\n", fixture("missing.json")))
            .unwrap();
        assert_eq!(Settings::load("intake", Some(jwks)).unwrap_err().key, "auth.jwks_file");
        let jwks_ok = dir.join("jwks_ok.toml");
        let document = jwks_file(&dir.join("keys"), &test_jwks());
        std::fs::write(&jwks_ok, format!("[auth]\nhs256_secret = \"\"\njwks_file = {document:?}\naudience = \"egov\"\n")).unwrap();
        let s = Settings::load("intake", Some(jwks_ok)).unwrap();
        assert_eq!((s.auth.hs256_secret.expose(), s.auth.audience.as_str()), ("", "egov"));
        assert_eq!((s.auth.jwks_refresh_secs, s.auth.jwks_min_reload_secs), (300, 30));
        let bad_num = dir.join("bad_num.toml");
        std::fs::write(&bad_num, "[broker]\nprefetch = \"many\"\n").unwrap();
        let e = Settings::load("intake", Some(bad_num)).unwrap_err();
        assert!(e.key.contains("prefetch"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
