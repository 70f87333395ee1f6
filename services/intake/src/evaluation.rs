//! The evaluation service as intake sees it (R-I6, R-I9): a narrow port and its gRPC adapter.
//! When evaluation cannot be reached, calls fail with UNAVAILABLE naming the reason, and the
//! caller leaves the application as it was.

use std::{sync::Arc, time::Duration};

use egov_platform::{
    convert,
    error::AppError,
    peers::{self, PeerAuth, PeerChannel},
};
use egov_proto::evaluation::{GetLatestEvaluationRequest, SearchCatalogueRequest, evaluation_queries_client::EvaluationQueriesClient};
use futures::future::BoxFuture;

use crate::domain::{CatalogueMatch, LatestEvaluation};

pub trait EvaluationPort: Send + Sync + 'static {
    /// Catalogue entries whose functions resemble `text`, best first (R-I9).
    fn search_catalogue<'a>(&'a self, text: &'a str, limit: i32) -> BoxFuture<'a, Result<Vec<CatalogueMatch>, AppError>>;
    /// The latest evaluation of a running application, if any (R-I6).
    fn latest_evaluation<'a>(&'a self, app_id: &'a str) -> BoxFuture<'a, Result<Option<LatestEvaluation>, AppError>>;
}

pub type SharedEvaluation = Arc<dyn EvaluationPort>;

type Client = EvaluationQueriesClient<PeerChannel>;

/// The real adapter: a lazily connected channel to `egov-evaluation`.
#[derive(Clone)]
pub struct GrpcEvaluation {
    client: Client,
    endpoint: String,
}

impl GrpcEvaluation {
    /// A channel to `endpoint` presenting this service's credentials (`auth`).
    pub fn new(endpoint: &str, auth: &PeerAuth, timeout: Duration) -> anyhow::Result<GrpcEvaluation> {
        let channel = peers::channel(endpoint, auth, timeout)?;
        Ok(GrpcEvaluation { client: EvaluationQueriesClient::new(channel), endpoint: endpoint.to_string() })
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
