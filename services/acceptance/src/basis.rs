//! What review and procurement say about a project when its unit applies for acceptance (R-A3):
//! a narrow port and its gRPC adapter. A peer that cannot answer gives UNAVAILABLE, and the
//! application changes nothing.

use std::{sync::Arc, time::Duration};

use egov_platform::{
    error::AppError,
    peers::{self, PeerAuth, PeerChannel, peer_error},
};
use egov_proto::{
    procurement::{self as pp, procurement_client::ProcurementClient},
    review::{self as pr, expert_review_client::ExpertReviewClient, review_client::ReviewClient},
};
use futures::future::BoxFuture;
use uuid::Uuid;

use crate::domain::{ExpertOpinion, ProjectBasis};

pub trait BasisPort: Send + Sync + 'static {
    /// The approval, the approved function modules and the expert opinion (review), and the
    /// contract's state (procurement).
    fn basis(&self, project_id: Uuid) -> BoxFuture<'_, Result<ProjectBasis, AppError>>;
}

pub type SharedBasis = Arc<dyn BasisPort>;

/// The real adapter: lazily connected channels to `egov-review` and `egov-procurement`, with this
/// service's own credentials.
#[derive(Clone)]
pub struct GrpcBasis {
    review: ReviewClient<PeerChannel>,
    experts: ExpertReviewClient<PeerChannel>,
    procurement: ProcurementClient<PeerChannel>,
}

impl GrpcBasis {
    pub fn new(review: &str, procurement: &str, auth: &PeerAuth, timeout: Duration) -> anyhow::Result<GrpcBasis> {
        let r = peers::channel(review, auth, timeout)?;
        let p = peers::channel(procurement, auth, timeout)?;
        Ok(GrpcBasis { review: ReviewClient::new(r.clone()), experts: ExpertReviewClient::new(r), procurement: ProcurementClient::new(p) })
    }
}

impl BasisPort for GrpcBasis {
    fn basis(&self, project_id: Uuid) -> BoxFuture<'_, Result<ProjectBasis, AppError>> {
        Box::pin(async move {
            let id = project_id.to_string();
            let case = self
                .review
                .clone()
                .get_case(pr::GetCaseRequest { case_id: id.clone() })
                .await
                .map_err(|s| peer_error("the review service", "the approved project (R-A3)", s))?
                .into_inner();
            let opinion = match self.experts.clone().get_expert_opinion(pr::GetExpertOpinionRequest { project_id: id.clone() }).await {
                Ok(o) => {
                    let o = o.into_inner();
                    Some(ExpertOpinion { passed: o.passed, opinion: o.opinion })
                }
                Err(s) if s.code() == tonic::Code::NotFound => None,
                Err(s) => return Err(peer_error("the review service", "the expert opinion (R-A3)", s)),
            };
            let procured = self
                .procurement
                .clone()
                .get_case(pp::GetCaseRequest { project_id: id })
                .await
                .map_err(|s| peer_error("the procurement service", "the contract's state (R-A3)", s))?
                .into_inner();
            let dossier = case.dossier.unwrap_or_default();
            let approval = case.approval.unwrap_or_default();
            Ok(ProjectBasis {
                approved_name: approval.project_name,
                approved_scope: approval.scope,
                approval_cancelled: approval.cancelled,
                category: dossier.category,
                function_modules: dossier.function_modules,
                expert_opinion: opinion,
                procurement_state: procured.state().as_str_name().trim_start_matches("CASE_STATE_").to_string(),
            })
        })
    }
}
