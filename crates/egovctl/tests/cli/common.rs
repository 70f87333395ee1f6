//! What the `egovctl` integration tests share: serving a fake service on a free port, the rich
//! refusals a fake answers with, and running the binary with its endpoints and token set.
//!
//! Each test file is a binary of its own and uses a part of these.

use std::{
    ffi::OsStr,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use tonic::{Code, Status, transport::server::Router};
use tonic_types::{ErrorDetails, PreconditionViolation, StatusExt};

// ------------------------------------------------------------------ fake services

/// Serves the services `router` builds on a free port, from a thread and runtime of its own, for
/// the life of the test process. `router` runs on that runtime (a health reporter can be set
/// there).
pub fn serve<F: Future<Output = Router>>(router: impl FnOnce() -> F + Send + 'static) -> SocketAddr {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let addr = std_listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            router().await.serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)).await.expect("serve");
        });
    });
    addr
}

/// FAILED_PRECONDITION with a `PreconditionFailure` of `(rule id, subject, description)`.
pub fn refused(message: &str, violations: &[(&str, &str, &str)]) -> Status {
    let mut d = ErrorDetails::new();
    d.set_precondition_failure(violations.iter().map(|(r, s, m)| PreconditionViolation::new(*r, *s, *m)).collect::<Vec<_>>());
    Status::with_error_details(Code::FailedPrecondition, message, d)
}

/// INVALID_ARGUMENT with a `BadRequest` naming one field.
pub fn invalid(message: &str, field: &str, description: &str) -> Status {
    let mut d = ErrorDetails::new();
    d.add_bad_request_violation(field, description);
    Status::with_error_details(Code::InvalidArgument, message, d)
}

// ------------------------------------------------------------------ running the binary

/// The variables naming each service's endpoint.
pub const INTAKE: &str = "EGOVCTL_ENDPOINT";
pub const REVIEW: &str = "EGOVCTL_REVIEW_ENDPOINT";
pub const PROCUREMENT: &str = "EGOVCTL_PROCUREMENT_ENDPOINT";
pub const ACCEPTANCE: &str = "EGOVCTL_ACCEPTANCE_ENDPOINT";
pub const EVALUATION: &str = "EGOVCTL_EVALUATION_ENDPOINT";

/// Runs egovctl with each endpoint variable of `endpoints` set to its address and `token` as
/// EGOV_TOKEN; the token and the signing secret of the environment running the tests are left
/// out.
pub fn egovctl<S: AsRef<OsStr>>(endpoints: &[(&str, SocketAddr)], token: Option<&str>, args: &[S]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_egovctl"));
    cmd.env_remove("EGOV_TOKEN").env_remove("EGOV_AUTH__HS256_SECRET");
    for (variable, addr) in endpoints {
        cmd.env(variable, format!("http://{addr}"));
    }
    if let Some(t) = token {
        cmd.env("EGOV_TOKEN", t);
    }
    cmd.args(args).output().expect("run egovctl")
}

/// An address where nothing listens.
pub fn closed() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The JSON a successful command printed (`--json`), `null` when it printed something else.
pub fn ok(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "egovctl failed: {}\n{}", stdout(o), stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null)
}
