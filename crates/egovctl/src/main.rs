//! `egovctl`: the command-line client of the egov suite.
//!
//! # Layout
//! - `cli`: the command line (clap), value parsers for checklist results and dates.
//! - `commands`: runs a command: request, call, print.
//! - `client`: connection, bearer token, and errors with their gRPC rich details.
//! - `draft`: the JSON draft file ↔ `ApplicationDraft`.
//! - `enums`: protobuf enums by name.
//! - `input`: what the JSON input files share: reading, parsing, mapping with every problem
//!   named by its field.
//! - `render`: tables for people, JSON for scripts.
//! - `review`: the `review` commands (the review service at `--review-endpoint`): command line,
//!   calls and rendering in one module, so that the service's next RPCs are added in one place.
//! - `procurement`: the `procurement` commands (the procurement service at
//!   `--procurement-endpoint`), built the way `review` is; the contract terms file ↔
//!   `ContractTerms`.
//! - `acceptance`: the `acceptance` commands (the acceptance service at `--acceptance-endpoint`),
//!   built the way `procurement` is; the panel file ↔ `PanelMember`s.
//! - `evaluation`: the `evaluation` commands (both services of the evaluation service at
//!   `--evaluation-endpoint`), built the way `acceptance` is; the entry, modules and scores files.
//!
//! - `reconcile`: `reconcile` (every service's facts about every project compared) and
//!   `projects timeline` (the cross-service timeline with stage names in Chinese and English).
//!
//! Exit codes: 0 success; 1 the service refused or failed (or a check came back negative);
//! 2 usage (bad arguments or input files).

mod acceptance;
mod cli;
mod client;
mod commands;
mod draft;
mod enums;
mod evaluation;
mod input;
mod procurement;
mod reconcile;
mod render;
mod review;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // clap prints help and version with exit 0 and usage errors with exit 2.
    let cli = cli::Cli::parse();
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            e.report(json);
            ExitCode::from(e.exit_code())
        }
    }
}
