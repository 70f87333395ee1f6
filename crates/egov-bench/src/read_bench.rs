//! (b) reads: `Intake.GetApplication` through the service against a bare tonic server in this
//! process whose handler runs the same SQL for the same row over sqlx (the application's body,
//! then its documents, on a pool of intake's size) and answers with the same message, captured
//! from the service once. The difference is what the service adds to a read: authentication,
//! the unit check, the JSON body into the typed aggregate and on into protobuf, the edge and
//! metrics layers, its tracing.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::Arc,
    task::{Context as TaskContext, Poll},
    time::{Duration, Instant},
};

use anyhow::Context;
use egov_proto::intake::{self as pb, intake_client::IntakeClient};
use futures::future::BoxFuture;
use serde::Serialize;
use sqlx::{PgPool, Row};
use tokio::task::JoinSet;
use tonic::{Request, Response, Status, transport::Channel};
use uuid::Uuid;

use crate::stats::{self, RunStats};

#[derive(Debug, Clone, Serialize)]
pub struct ReadPoint {
    pub in_flight: usize,
    pub rpc: RunStats,
    pub raw: RunStats,
    /// rpc calls/s over raw calls/s.
    pub ratio: f64,
}

/// The bare server: `egov.intake.v1.Intake/GetApplication` only.
#[derive(Clone)]
struct RawRead {
    pool: PgPool,
    reply: Arc<pb::Application>,
}

impl tonic::server::NamedService for RawRead {
    const NAME: &'static str = "egov.intake.v1.Intake";
}

struct Get(RawRead);

impl tonic::server::UnaryService<pb::GetApplicationRequest> for Get {
    type Response = pb::Application;
    type Future = BoxFuture<'static, Result<Response<pb::Application>, Status>>;

    fn call(&mut self, req: Request<pb::GetApplicationRequest>) -> Self::Future {
        let this = self.0.clone();
        Box::pin(async move {
            let id = Uuid::parse_str(&req.get_ref().application_id).map_err(|_| Status::invalid_argument("application_id"))?;
            let mut c = this.pool.acquire().await.map_err(|e| Status::unavailable(e.to_string()))?;
            let body: Option<serde_json::Value> = sqlx::query_scalar("SELECT body FROM applications WHERE application_id = $1")
                .bind(id)
                .fetch_optional(&mut *c)
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
            body.ok_or_else(|| Status::not_found("application"))?;
            let docs = sqlx::query("SELECT * FROM documents WHERE application_id = $1 ORDER BY uploaded_at, document_id")
                .bind(id)
                .fetch_all(&mut *c)
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
            for d in &docs {
                let _: (Uuid, String) =
                    (d.try_get("document_id").map_err(|e| Status::unavailable(e.to_string()))?, d.try_get("sha256").unwrap_or_default());
            }
            Ok(Response::new((*this.reply).clone()))
        })
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for RawRead {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            if req.uri().path() != "/egov.intake.v1.Intake/GetApplication" {
                return Ok(Status::unimplemented("the bare server serves GetApplication only").into_http());
            }
            let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::default());
            Ok(grpc.unary(Get(this), req).await)
        })
    }
}

/// Starts the bare server on a free loopback port; it runs until the process ends.
async fn start_raw(db_url: &str, pool_size: u32, reply: pb::Application) -> anyhow::Result<SocketAddr> {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(pool_size).connect(db_url).await?;
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let svc = RawRead { pool, reply: Arc::new(reply) };
    tokio::spawn(tonic::transport::Server::builder().tcp_nodelay(true).add_service(svc).serve(addr));
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(addr);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("the bare server did not listen on {addr}")
}

async fn channel(addr: SocketAddr) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(format!("http://{addr}"))?.tcp_nodelay(true).connect().await?)
}

/// `calls` reads of `id` over one connection, `in_flight` at a time.
async fn reads(channel: Channel, token: &str, id: &str, calls: usize, in_flight: usize) -> anyhow::Result<RunStats> {
    let per_task = calls.div_ceil(in_flight);
    let started = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..in_flight {
        let mut c = IntakeClient::with_interceptor(channel.clone(), egov_platform::auth::Bearer::new(token)?);
        let id = id.to_string();
        set.spawn(async move {
            let mut h = stats::histogram();
            for _ in 0..per_task {
                let t = Instant::now();
                c.get_application(pb::GetApplicationRequest { application_id: id.clone() }).await.context("GetApplication")?;
                stats::record(&mut h, t.elapsed());
            }
            Ok::<_, anyhow::Error>(h)
        });
    }
    let mut all = stats::histogram();
    while let Some(h) = set.join_next().await {
        all.add(h??)?;
    }
    Ok(RunStats::new((per_task * in_flight) as u64, started.elapsed(), &all))
}

/// Reads of one application at each of `levels` calls in flight, through intake at
/// `intake_addr` and through the bare server, alternating.
pub async fn run(
    intake_addr: SocketAddr,
    token: &str,
    db_url: &str,
    id: &str,
    calls: usize,
    levels: &[usize],
) -> anyhow::Result<Vec<ReadPoint>> {
    let pool_size = egov_platform::config::Settings::defaults("intake").database.max_connections;
    let intake = channel(intake_addr).await?;
    let reply = IntakeClient::with_interceptor(intake.clone(), egov_platform::auth::Bearer::new(token)?)
        .get_application(pb::GetApplicationRequest { application_id: id.to_string() })
        .await
        .context("the reply to capture")?
        .into_inner();
    let raw = channel(start_raw(db_url, pool_size, reply).await?).await?;
    // Warm both.
    reads(intake.clone(), token, id, 200, 4).await?;
    reads(raw.clone(), token, id, 200, 4).await?;
    let mut points = Vec::new();
    for &k in levels {
        let rpc = reads(intake.clone(), token, id, calls, k).await?;
        let raw = reads(raw.clone(), token, id, calls, k).await?;
        let ratio = if raw.per_second > 0.0 { rpc.per_second / raw.per_second } else { 0.0 };
        eprintln!("(b) GetApplication, {k} in flight: {:.0}/s vs {:.0}/s bare ({ratio:.2})", rpc.per_second, raw.per_second);
        points.push(ReadPoint { in_flight: k, rpc, raw, ratio });
    }
    Ok(points)
}
