//! A service of the suite as a child process: its release binary configured through `EGOV_*`
//! environment variables only, logging to a file, waited on until gRPC health says SERVING,
//! stopped with SIGTERM. (b) runs `egov-intake` this way, (f) all five services.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use egov_platform::auth::{Bearer, Claims, Role, mint_hs256};
use egov_platform::config::LOCAL_DEV_SECRET;
use egov_proto::{common::operations_client::OperationsClient, intake::intake_client::IntakeClient};
use time::OffsetDateTime;
use tokio::process::{Child, Command};
use tonic::{service::interceptor::InterceptedService, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

pub type Client = IntakeClient<InterceptedService<Channel, Bearer>>;
pub type Operations = OperationsClient<InterceptedService<Channel, Bearer>>;

/// The issuer of the local profile's tokens (`config::Settings::defaults`).
const ISSUER: &str = "egov-local";

/// Where a release binary is expected, and how to build it.
pub fn check_binary(path: &Path) -> anyhow::Result<()> {
    if !path.is_file() {
        let package = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        bail!("{} does not exist: build it first with\n    cargo build --release -p {package}", path.display());
    }
    Ok(())
}

/// One running service process.
pub struct ServiceProcess {
    /// The binary's file name, for messages (`egov-intake`).
    name: String,
    child: Child,
    pid: u32,
    pub addr: SocketAddr,
    pub log: PathBuf,
    docs: PathBuf,
}

impl ServiceProcess {
    /// Starts `bin` on a free loopback port against `database_url` and `amqp_url`, with a fresh
    /// documents directory, warnings-only logs in `log`, and `extra` variables (peers: an empty
    /// peer means none).
    pub async fn start(
        bin: &Path,
        database_url: &str,
        amqp_url: &str,
        extra: &[(&str, String)],
        log: PathBuf,
    ) -> anyhow::Result<ServiceProcess> {
        let name = bin.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "service".into());
        let addr = free_port()?;
        let docs = std::env::temp_dir().join(format!("egov-bench-documents-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&docs).with_context(|| format!("creating {}", docs.display()))?;
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let out = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut cmd = Command::new(bin);
        // Only the configuration below: nothing inherited (EGOV_CONFIG, a profile…) changes the run.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("EGOV_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("EGOV_SERVICE__LISTEN", addr.to_string())
            .env("EGOV_DATABASE__URL", database_url)
            .env("EGOV_BROKER__URL", amqp_url)
            .env("EGOV_DOCUMENTS__DIR", &docs)
            .env("EGOV_TELEMETRY__LOG_FILTER", "warn")
            .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true);
        let child = cmd.spawn().with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("the child exited at once")?;
        Ok(ServiceProcess { name, child, pid, addr, log, docs })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Waits until gRPC health reports the server SERVING; fails if the child exits first.
    pub async fn wait_serving(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited with {status} before serving; its log ({}):\n{}", self.name, self.log.display(), self.log_tail());
            }
            let last = match self.check_health().await {
                Ok(true) => return Ok(()),
                Ok(false) => "health says NOT_SERVING".to_string(),
                Err(e) => format!("{e:#}"),
            };
            if Instant::now() >= deadline {
                bail!("{} did not serve within {timeout:?} ({last}); its log ({}):\n{}", self.name, self.log.display(), self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn check_health(&self) -> anyhow::Result<bool> {
        let channel = Channel::from_shared(format!("http://{}", self.addr))?.connect_timeout(Duration::from_secs(1)).connect().await?;
        let r = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await?;
        Ok(r.into_inner().status == ServingStatus::Serving as i32)
    }

    /// A new HTTP/2 connection to the service.
    pub async fn connect(&self) -> anyhow::Result<Channel> {
        Ok(Channel::from_shared(format!("http://{}", self.addr))?.connect().await?)
    }

    /// Whether the child is still running.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited with {status}; its log ({}):\n{}", self.name, self.log.display(), self.log_tail());
        }
        Ok(())
    }

    /// SIGTERM (by pid, through `kill`), then a bounded wait; SIGKILL if it does not stop.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_none() {
            let _ = std::process::Command::new("kill").arg("-TERM").arg(self.pid.to_string()).status();
            match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
                Ok(status) => {
                    let status = status?;
                    if !status.success() {
                        eprintln!("note: {} exited with {status} after SIGTERM (log: {})", self.name, self.log.display());
                    }
                }
                Err(_) => {
                    eprintln!("note: {} did not stop within 30 s of SIGTERM; killing it", self.name);
                    self.child.start_kill()?;
                    let _ = self.child.wait().await;
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.docs);
        Ok(())
    }
}

/// A free loopback port (bound, read, released).
fn free_port() -> anyhow::Result<SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?)
}

/// A token of the local profile's issuer, valid for three hours.
pub fn token(subject: &str, role: Role, unit: Option<&str>) -> anyhow::Result<String> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = Claims { sub: subject.into(), role, unit: unit.map(Into::into), iss: ISSUER.into(), exp: now + 3 * 3600, iat: now };
    Ok(mint_hs256(LOCAL_DEV_SECRET.as_bytes(), &claims)?)
}

pub fn intake_client(channel: Channel, token: &str) -> anyhow::Result<Client> {
    Ok(IntakeClient::with_interceptor(channel, Bearer::new(token)?).max_decoding_message_size(8 * 1024 * 1024))
}

pub fn operations_client(channel: Channel, token: &str) -> anyhow::Result<Operations> {
    Ok(OperationsClient::with_interceptor(channel, Bearer::new(token)?))
}

/// What the services started here trust: the local profile's anchor key.
pub fn local_trust() -> anyhow::Result<egov_platform::anchors::Trust> {
    Ok(egov_platform::anchors::from_settings(&egov_platform::config::Settings::defaults("bench").audit)?.1)
}
