//! `egov-acceptance`: the platform's service main (config, telemetry, build, serve until SIGTERM).

use std::path::PathBuf;

use clap::Parser;
use egov_acceptance::startup::Application;

#[derive(Parser)]
#[command(name = "egov-acceptance", about = "Acceptance (验收) service of the egov suite")]
struct Args {
    /// Optional TOML configuration file (also EGOV_CONFIG); EGOV_<SECTION>__<KEY> overrides.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    egov_platform::server::run_main::<Application>("acceptance", Args::parse().config).await
}
