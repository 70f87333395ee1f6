//! The console's settings: where it listens, where the five services are, and how people sign in.
//! Read from the command line or the environment (`EGOV_CONSOLE__*`, and the services' own
//! `EGOV_AUTH__HS256_SECRET` / `EGOV_AUTH__ISSUER` so one set of variables signs and verifies).

use clap::{Parser, ValueEnum};
use egov_platform::config::LOCAL_DEV_SECRET;

/// How people sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignIn {
    /// Pick a development identity (role, unit, subject), signed with the local HS256 secret.
    /// Refused when the secret is empty.
    Dev,
    /// The identity provider's gateway signs people in (OpenID Connect, 浙政钉) and puts the ID
    /// token on every request as `Authorization: Bearer`; the console forwards it as it is.
    Gateway,
}

/// The five services' gRPC addresses.
#[derive(Debug, Clone, clap::Args)]
pub struct Backends {
    #[arg(long = "intake", env = "EGOV_CONSOLE__INTAKE", default_value = "http://127.0.0.1:50051")]
    pub intake: String,
    #[arg(long = "review", env = "EGOV_CONSOLE__REVIEW", default_value = "http://127.0.0.1:50052")]
    pub review: String,
    #[arg(long = "procurement", env = "EGOV_CONSOLE__PROCUREMENT", default_value = "http://127.0.0.1:50053")]
    pub procurement: String,
    #[arg(long = "acceptance", env = "EGOV_CONSOLE__ACCEPTANCE", default_value = "http://127.0.0.1:50054")]
    pub acceptance: String,
    #[arg(long = "evaluation", env = "EGOV_CONSOLE__EVALUATION", default_value = "http://127.0.0.1:50055")]
    pub evaluation: String,
}

impl Backends {
    /// `(backend name, address)` in lifecycle order.
    pub fn all(&self) -> [(&'static str, &str); 5] {
        [
            ("intake", &self.intake),
            ("review", &self.review),
            ("procurement", &self.procurement),
            ("acceptance", &self.acceptance),
            ("evaluation", &self.evaluation),
        ]
    }
}

#[derive(Debug, Clone, Parser)]
#[command(name = "egov-console", about = "The district staff's web console of the egov suite")]
pub struct ConsoleSettings {
    /// Address to listen on.
    #[arg(long, env = "EGOV_CONSOLE__LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub backends: Backends,
    #[arg(long, env = "EGOV_CONSOLE__SIGN_IN", value_enum, default_value = "dev")]
    pub sign_in: SignIn,
    /// HS256 secret development identities are signed with (the services' `auth.hs256_secret`).
    #[arg(long, env = "EGOV_AUTH__HS256_SECRET", hide_env_values = true, default_value = LOCAL_DEV_SECRET)]
    pub hs256_secret: String,
    /// The `iss` of development identities (the services' `auth.issuer`).
    #[arg(long, env = "EGOV_AUTH__ISSUER", default_value = "egov-local")]
    pub issuer: String,
    /// How long a development sign-in lasts, in hours.
    #[arg(long, env = "EGOV_CONSOLE__SESSION_HOURS", default_value_t = 8)]
    pub session_hours: u32,
    /// The largest document the console takes for upload, in bytes (the services' own
    /// `documents.max_bytes`, 64 MiB by default, still applies). The console holds an upload in
    /// memory while it streams it on, so its memory limit must allow a few at once.
    #[arg(long, env = "EGOV_CONSOLE__MAX_UPLOAD_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_upload_bytes: u64,
    /// Set the session cookie's `Secure` flag (when served over HTTPS).
    #[arg(long, env = "EGOV_CONSOLE__SECURE_COOKIE", default_value_t = false)]
    pub secure_cookie: bool,
}

impl ConsoleSettings {
    /// The settings of a console in front of `backends`, signing development identities with the
    /// local secret (tests and local runs).
    pub fn local(listen: &str, backends: Backends) -> ConsoleSettings {
        ConsoleSettings {
            listen: listen.into(),
            backends,
            sign_in: SignIn::Dev,
            hs256_secret: LOCAL_DEV_SECRET.into(),
            issuer: "egov-local".into(),
            session_hours: 8,
            max_upload_bytes: 64 * 1024 * 1024,
            secure_cookie: false,
        }
    }
}
