//! `egov-procurement`: the platform's service main (config, telemetry, build, serve until SIGTERM).

use std::path::PathBuf;

use clap::Parser;
use egov_procurement::startup::Application;

#[derive(Parser)]
#[command(name = "egov-procurement", about = "Procurement (采购建设) service of the egov suite")]
struct Args {
    /// Optional TOML configuration file (also EGOV_CONFIG); EGOV_<SECTION>__<KEY> overrides.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    egov_platform::server::run_main::<Application>("procurement", Args::parse().config).await
}
