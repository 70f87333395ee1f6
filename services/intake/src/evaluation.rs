//! The evaluation service as intake sees it (R-I6, R-I9): a narrow port and its gRPC adapter.
//! When evaluation cannot be reached, calls fail with UNAVAILABLE naming the reason, and the
//! caller leaves the application as it was.

use std::{sync::Arc, time::Duration};

use egov_platform::{convert, error::AppError, telemetry};
use egov_proto::evaluation::{GetLatestEvaluationRequest, SearchCatalogueRequest, evaluation_queries_client::EvaluationQueriesClient};
use futures::future::BoxFuture;
use tonic::{service::interceptor::InterceptedService, transport::Channel};

use crate::domain::{CatalogueMatch, LatestEvaluation};

pub trait EvaluationPort: Send + Sync + 'static {
    /// Catalogue entries whose functions resemble `text`, best first (R-I9).
    fn search_catalogue<'a>(&'a self, text: &'a str, limit: i32) -> BoxFuture<'a, Result<Vec<CatalogueMatch>, AppError>>;
    /// The latest evaluation of a running application, if any (R-I6).
    fn latest_evaluation<'a>(&'a self, app_id: &'a str) -> BoxFuture<'a, Result<Option<LatestEvaluation>, AppError>>;
}

pub type SharedEvaluation = Arc<dyn EvaluationPort>;

type Client = EvaluationQueriesClient<InterceptedService<Channel, fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status>>>;

/// The real adapter: a lazily connected channel to `egov-evaluation`.
#[derive(Clone)]
pub struct GrpcEvaluation {
    client: Client,
    endpoint: String,
}

impl GrpcEvaluation {
    pub fn new(endpoint: &str, timeout: Duration) -> anyhow::Result<GrpcEvaluation> {
        let channel =
            Channel::from_shared(endpoint.to_string())?.tcp_nodelay(true).connect_timeout(timeout).timeout(timeout).connect_lazy();
        let inject: fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> = telemetry::inject_trace_metadata;
        Ok(GrpcEvaluation { client: EvaluationQueriesClient::with_interceptor(channel, inject), endpoint: endpoint.to_string() })
    }

    fn unavailable(&self, what: &str, s: tonic::Status) -> AppError {
        AppError::Unavailable(format!(
            "the evaluation service at {} did not answer {what} ({:?}: {}); nothing was changed, retry later / 绩效评价服务暂不可用",
            self.endpoint,
            s.code(),
            s.message()
        ))
    }
}

impl EvaluationPort for GrpcEvaluation {
    fn search_catalogue<'a>(&'a self, text: &'a str, limit: i32) -> BoxFuture<'a, Result<Vec<CatalogueMatch>, AppError>> {
        Box::pin(async move {
            let mut c = self.client.clone();
            let r = c
                .search_catalogue(SearchCatalogueRequest { text: text.to_string(), limit })
                .await
                .map_err(|s| self.unavailable("the catalogue search (R-I9)", s))?
                .into_inner();
            Ok(r.matches
                .into_iter()
                .map(|m| CatalogueMatch { entry_id: m.entry_id, name: m.name, owner_unit: m.owner_unit, score: m.score.clamp(0.0, 1.0) })
                .collect())
        })
    }

    fn latest_evaluation<'a>(&'a self, app_id: &'a str) -> BoxFuture<'a, Result<Option<LatestEvaluation>, AppError>> {
        Box::pin(async move {
            let mut c = self.client.clone();
            let r = c
                .get_latest_evaluation(GetLatestEvaluationRequest { app_id: app_id.to_string() })
                .await
                .map_err(|s| self.unavailable("the latest evaluation (R-I6)", s))?
                .into_inner();
            Ok(r.evaluation.map(|e| LatestEvaluation {
                grade: e.grade().as_str_name().trim_start_matches("EVALUATION_GRADE_").to_string(),
                evaluated_on: e.evaluated_on.as_ref().and_then(|d| convert::date("evaluated_on", Some(d)).ok()),
                app_id: e.app_id,
                passed: e.passed,
            }))
        })
    }
}
