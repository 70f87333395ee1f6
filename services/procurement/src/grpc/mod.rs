//! Procurement's gRPC handlers: parse the request (fields named as sent, `convert`), call the use
//! case, convert the answer. Errors become statuses through the platform's one mapping
//! (`AppError` → `Status`).

mod convert;
pub mod roles;

use std::sync::Arc;

use egov_platform::{AppError, auth::Principal, request};
use egov_proto::procurement::{self as pb, procurement_server::Procurement as ProcurementRpc};
use tonic::{Request, Response, Status};
use tracing::instrument;

use crate::{app::Procurement, domain::ProcurementCase};

#[derive(Clone)]
pub struct ProcurementApi {
    app: Arc<Procurement>,
}

impl ProcurementApi {
    pub(crate) fn new(app: Arc<Procurement>) -> ProcurementApi {
        ProcurementApi { app }
    }

    /// The case as served today.
    fn served(&self, k: &ProcurementCase) -> Response<pb::ProcurementCase> {
        Response::new(convert::case_pb(k, self.app.clock.today()))
    }
}

type R<T> = Result<Response<T>, Status>;

fn principal<T>(r: &Request<T>) -> Result<Principal, AppError> {
    Principal::from_request(r)
}

#[tonic::async_trait]
impl ProcurementRpc for ProcurementApi {
    async fn get_case(&self, req: Request<pb::GetCaseRequest>) -> R<pb::ProcurementCase> {
        let p = principal(&req)?;
        let id = request::id("project_id", &req.get_ref().project_id)?;
        Ok(self.served(&self.app.read_case(&p, id).await?))
    }

    async fn list_cases(&self, req: Request<pb::ListCasesRequest>) -> R<pb::ListCasesResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let page = request::page(r.page_size, &r.page_token)?;
        let state = convert::case_state(r.state)?;
        let (cases, next_page_token) = self.app.list_cases(&p, &r.unit_id, state, page).await?;
        let today = self.app.clock.today();
        Ok(Response::new(pb::ListCasesResponse { cases: cases.iter().map(|k| convert::case_pb(k, today)).collect(), next_page_token }))
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().project_id), err)]
    async fn record_procurement(&self, req: Request<pb::RecordProcurementRequest>) -> R<pb::ProcurementCase> {
        let p = principal(&req)?;
        let t = convert::record_procurement(req.into_inner())?;
        Ok(self.served(&self.app.record_procurement(&p, t).await?))
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().project_id), err)]
    async fn file_contract(&self, req: Request<pb::FileContractRequest>) -> R<pb::ProcurementCase> {
        let p = principal(&req)?;
        let t = convert::file_contract(req.into_inner())?;
        Ok(self.served(&self.app.file_contract(&p, t).await?))
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().project_id), err)]
    async fn set_payment_plan(&self, req: Request<pb::SetPaymentPlanRequest>) -> R<pb::ProcurementCase> {
        let p = principal(&req)?;
        let t = convert::payment_plan(req.into_inner())?;
        Ok(self.served(&self.app.set_payment_plan(&p, t).await?))
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().project_id), err)]
    async fn mark_stage_condition_met(&self, req: Request<pb::MarkStageConditionMetRequest>) -> R<pb::ProcurementCase> {
        let p = principal(&req)?;
        let t = convert::stage_condition(req.into_inner())?;
        Ok(self.served(&self.app.mark_stage_condition_met(&p, t).await?))
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().project_id), err)]
    async fn file_payment(&self, req: Request<pb::FilePaymentRequest>) -> R<pb::ProcurementCase> {
        let p = principal(&req)?;
        let t = convert::payment(req.into_inner())?;
        Ok(self.served(&self.app.file_payment(&p, t).await?))
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().project_id), err)]
    async fn report_progress(&self, req: Request<pb::ReportProgressRequest>) -> R<pb::ProcurementCase> {
        let p = principal(&req)?;
        let t = convert::report(req.into_inner())?;
        Ok(self.served(&self.app.report_progress(&p, t).await?))
    }

    #[instrument(skip_all, err)]
    async fn draw_inspections(&self, req: Request<pb::DrawInspectionsRequest>) -> R<pb::InspectionDraw> {
        let p = principal(&req)?;
        let (request_id, cmd) = convert::draw(req.into_inner())?;
        Ok(Response::new(convert::draw_pb(&self.app.draw_inspections(&p, &request_id, cmd).await?)))
    }

    async fn get_inspection_draw(&self, req: Request<pb::GetInspectionDrawRequest>) -> R<pb::InspectionDraw> {
        let id = request::id("draw_id", &req.get_ref().draw_id)?;
        Ok(Response::new(convert::draw_pb(&self.app.get_inspection_draw(id).await?)))
    }

    async fn list_inspection_draws(&self, req: Request<pb::ListInspectionDrawsRequest>) -> R<pb::ListInspectionDrawsResponse> {
        let r = req.into_inner();
        let (draws, next_page_token) = self.app.list_inspection_draws(request::page(r.page_size, &r.page_token)?).await?;
        Ok(Response::new(pb::ListInspectionDrawsResponse { draws: draws.iter().map(convert::draw_pb).collect(), next_page_token }))
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().project_id), err)]
    async fn explain_overrun(&self, req: Request<pb::ExplainOverrunRequest>) -> R<pb::ProcurementCase> {
        let p = principal(&req)?;
        let t = convert::explanation(req.into_inner())?;
        Ok(self.served(&self.app.explain_overrun(&p, t).await?))
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().project_id), err)]
    async fn declare_construction_complete(&self, req: Request<pb::DeclareConstructionCompleteRequest>) -> R<pb::ProcurementCase> {
        let p = principal(&req)?;
        let t = convert::completion(req.into_inner())?;
        Ok(self.served(&self.app.declare_construction_complete(&p, t).await?))
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().project_id), err)]
    async fn terminate_project(&self, req: Request<pb::TerminateProjectRequest>) -> R<pb::ProcurementCase> {
        let p = principal(&req)?;
        let t = convert::termination(req.into_inner())?;
        Ok(self.served(&self.app.terminate_project(&p, t).await?))
    }

    async fn export_ocds(&self, req: Request<pb::ExportOcdsRequest>) -> R<pb::OcdsReleasePackage> {
        let p = principal(&req)?;
        let id = request::id("project_id", &req.get_ref().project_id)?;
        Ok(Response::new(pb::OcdsReleasePackage { json: self.app.export_ocds(&p, id).await? }))
    }
}
