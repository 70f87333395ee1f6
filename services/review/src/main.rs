//! `egov-review`: load config, start telemetry, build, serve until SIGTERM.

use std::path::PathBuf;

use clap::Parser;
use egov_platform::{config::Settings, server::shutdown_on_signals, telemetry};
use egov_review::startup::Application;

#[derive(Parser)]
#[command(name = "egov-review", about = "Review (评审立项) service of the egov suite")]
struct Args {
    /// Optional TOML configuration file (also EGOV_CONFIG); EGOV_<SECTION>__<KEY> overrides.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let settings = Settings::load_or_exit("review", args.config);
    let _telemetry = telemetry::init("review", &settings.telemetry)?;
    let app = Application::build(settings).await?;
    tracing::info!(addr = %app.local_addr(), "egov-review serving");
    shutdown_on_signals(app.shutdown_token());
    app.run_until_stopped().await
}
