//! Compiles `proto/` with protox (no system `protoc`) and writes the descriptor set that server
//! reflection serves.
use std::{env, fs, path::PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = [
        "egov/common/v1/common.proto",
        "egov/evaluation/v1/evaluation.proto",
        "egov/intake/v1/intake.proto",
        "egov/review/v1/review.proto",
        "egov/review/v1/expert.proto",
        "egov/procurement/v1/procurement.proto",
        "egov/acceptance/v1/acceptance.proto",
        "egov/events/v1/events.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let fds = protox::Compiler::new([&root])?.include_imports(true).include_source_info(false).open_files(files)?.file_descriptor_set();
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("egov_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().build_server(true).build_client(true).compile_fds(fds)?;
    Ok(())
}
