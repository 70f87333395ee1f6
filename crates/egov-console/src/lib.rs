//! The district staff's web console (政务项目管理控制台).
//!
//! One binary serves two things on one port:
//! - the pages, in Chinese, built into the binary (`assets/`): no CDN, no download at run time;
//! - `/api/{backend}/{package.Service}/{Method}`, a bridge that turns the page's JSON into the
//!   method's protobuf request (proto3's JSON mapping, checked against the descriptor set the
//!   services are built from), calls the service over gRPC as the signed-in person and turns the
//!   answer, or the refusal with its rule ids and field names, back into JSON; `…/upload` streams a
//!   document to a client-streamed method, `…/download` a server-streamed one's file back.
//!
//! There is no second business API and no rule in the console: every decision is the service's,
//! made on the service's own RPC with the caller's own token, so the role table, unit isolation,
//! the edge's input checks and the audit trail apply to the console exactly as to any other
//! client. The pages describe forms from [`schema`] (the descriptor set), so a method added to a
//! service is reachable from the console without console code.
//!
//! Sign-in ([`session`]): in the local profile a development identity (role, unit, subject) is
//! picked and signed with the local HS256 secret; in production the console holds no secret and
//! forwards the `Authorization` bearer token the identity provider's gateway put on the request
//! (the OpenID Connect ID token the services verify against their JWKS).

pub mod assets;
pub mod bridge;
pub mod schema;
pub mod session;
pub mod settings;

use std::sync::Arc;

use axum::{
    Router,
    routing::{get, post},
};

pub use settings::ConsoleSettings;

/// What every request handler shares.
pub struct Console {
    pub settings: ConsoleSettings,
    pub bridge: bridge::Bridge,
}

/// The console's routes: pages, sign-in and the bridge.
pub fn router(settings: ConsoleSettings) -> anyhow::Result<Router> {
    let bridge = bridge::Bridge::new(&settings.backends)?;
    // A document may be as large as the services take (their documents.max_bytes); other
    // calls keep axum's default limit (2 MiB of JSON).
    let max_upload = usize::try_from(settings.max_upload_bytes).unwrap_or(usize::MAX);
    let state = Arc::new(Console { settings, bridge });
    Ok(Router::new()
        .route("/", get(assets::index))
        .route("/assets/{file}", get(assets::file))
        .route("/healthz", get(|| async { "ok" }))
        .route("/auth/me", get(session::me))
        .route("/auth/dev", post(session::dev_sign_in))
        .route("/auth/signout", post(session::sign_out))
        .route("/api/_schema", get(schema::describe))
        .route("/api/{backend}/{service}/{method}", post(bridge::call))
        .route("/api/{backend}/{service}/{method}/download", post(bridge::download))
        .route("/api/{backend}/{service}/{method}/upload", post(bridge::upload).layer(axum::extract::DefaultBodyLimit::max(max_upload)))
        .with_state(state))
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}
