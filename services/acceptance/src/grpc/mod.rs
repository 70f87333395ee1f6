//! Acceptance's gRPC handlers: parse the request (fields named as sent), call the use case,
//! convert the answer. Errors become statuses through the platform's one mapping.

mod convert;
pub mod roles;

use std::{pin::Pin, sync::Arc};

use egov_platform::{AppError, auth::Principal, convert::Fields, documents, request};
use egov_proto::acceptance::{self as pb, acceptance_server::Acceptance as AcceptanceRpc};
use futures::Stream;
use tonic::{Request, Response, Status, Streaming};
use tracing::instrument;

use crate::app::Acceptance;

#[derive(Clone)]
pub struct AcceptanceApi {
    app: Arc<Acceptance>,
}

impl AcceptanceApi {
    pub fn new(app: Arc<Acceptance>) -> AcceptanceApi {
        AcceptanceApi { app }
    }
}

type R<T> = Result<Response<T>, Status>;

fn principal<T>(r: &Request<T>) -> Result<Principal, AppError> {
    Principal::from_request(r)
}

fn ok<T>(v: T) -> R<T> {
    Ok(Response::new(v))
}

#[tonic::async_trait]
impl AcceptanceRpc for AcceptanceApi {
    async fn get_case(&self, req: Request<pb::GetCaseRequest>) -> R<pb::AcceptanceCase> {
        let p = principal(&req)?;
        let id = request::id("project_id", &req.get_ref().project_id)?;
        ok(convert::case(&self.app.get_case(&p, id).await?))
    }

    async fn list_cases(&self, req: Request<pb::ListCasesRequest>) -> R<pb::ListCasesResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let page = request::page(r.page_size, &r.page_token)?;
        let state = convert::state_filter(r.state)?;
        let (cases, next_page_token) = self.app.list_cases(&p, &r.unit_id, state, page).await?;
        ok(pb::ListCasesResponse { cases: cases.iter().map(convert::case).collect(), next_page_token })
    }

    #[instrument(skip_all)]
    async fn upload_material(&self, req: Request<Streaming<pb::UploadMaterialRequest>>) -> R<pb::Material> {
        let p = principal(&req)?;
        let (header, chunks) = documents::receive(req.into_inner(), convert::upload_part).await?;
        let header = convert::material_header(header)?;
        let project_id = header.project_id;
        ok(convert::material(project_id, &self.app.upload_material(&p, header, chunks).await?))
    }

    async fn list_materials(&self, req: Request<pb::ListMaterialsRequest>) -> R<pb::ListMaterialsResponse> {
        let p = principal(&req)?;
        let id = request::id("project_id", &req.get_ref().project_id)?;
        let k = self.app.get_case(&p, id).await?;
        ok(pb::ListMaterialsResponse { materials: k.materials.iter().map(|m| convert::material(id, m)).collect() })
    }

    type DownloadMaterialStream = Pin<Box<dyn Stream<Item = Result<pb::DownloadMaterialResponse, Status>> + Send + 'static>>;

    async fn download_material(&self, req: Request<pb::DownloadMaterialRequest>) -> R<Self::DownloadMaterialStream> {
        let p = principal(&req)?;
        let id = request::id("document_id", &req.get_ref().document_id)?;
        let (project_id, m, content) = self.app.download_material(&p, id).await?;
        ok(Box::pin(futures::stream::iter(convert::download(project_id, &m, &content))))
    }

    #[instrument(skip_all)]
    async fn record_initial_acceptance(&self, req: Request<pb::RecordInitialAcceptanceRequest>) -> R<pb::AcceptanceCase> {
        let p = principal(&req)?;
        let (id, etag, held_on, panel, conclusion) = convert::initial(req.into_inner())?;
        ok(convert::case(&self.app.record_initial_acceptance(&p, id, etag, held_on, panel, conclusion).await?))
    }

    #[instrument(skip_all)]
    async fn deposit_trial_report(&self, req: Request<Streaming<pb::DepositTrialReportRequest>>) -> R<pb::Material> {
        let p = principal(&req)?;
        let (header, chunks) = documents::receive(req.into_inner(), convert::report_part).await?;
        let header = convert::report_header(header)?;
        let project_id = header.material.project_id;
        ok(convert::material(project_id, &self.app.deposit_trial_report(&p, header, chunks).await?))
    }

    #[instrument(skip_all)]
    async fn apply_for_acceptance(&self, req: Request<pb::ApplyForAcceptanceRequest>) -> R<pb::AcceptanceCase> {
        let p = principal(&req)?;
        let (id, etag, application) = convert::application(req.into_inner())?;
        ok(convert::case(&self.app.apply(&p, id, etag, application).await?))
    }

    #[instrument(skip_all)]
    async fn review_application(&self, req: Request<pb::ReviewApplicationRequest>) -> R<pb::AcceptanceCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let (id, etag) = convert::target(&mut f, &r.project_id, &r.etag);
        f.finish()?;
        ok(convert::case(&self.app.review_application(&p, id, etag, r.approve, &r.reasons).await?))
    }

    #[instrument(skip_all)]
    async fn record_acceptance(&self, req: Request<pb::RecordAcceptanceRequest>) -> R<pb::AcceptanceCase> {
        let p = principal(&req)?;
        let (id, etag, held) = convert::acceptance(req.into_inner())?;
        ok(convert::case(&self.app.record_acceptance(&p, id, etag, held).await?))
    }
}
