//! `egov-evaluation`: the platform's service main (config, telemetry, build, serve until SIGTERM).

use std::path::PathBuf;

use clap::Parser;
use egov_evaluation::startup::Application;

#[derive(Parser)]
#[command(name = "egov-evaluation", about = "Evaluation (运行、绩效、审计) service of the egov suite")]
struct Args {
    /// Optional TOML configuration file (also EGOV_CONFIG); EGOV_<SECTION>__<KEY> overrides.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    egov_platform::server::run_main::<Application>("evaluation", Args::parse().config).await
}
