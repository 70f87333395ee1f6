//! Intake's gRPC handlers: parse the request (fields named as sent), call the use case, convert
//! the answer. Errors become statuses through the platform's one mapping (`AppError` → `Status`).

mod convert;
pub mod roles;

use std::{pin::Pin, sync::Arc};

use egov_platform::{AppError, auth::Principal, convert::Fields, documents, request};
use egov_proto::intake::{self as pb, intake_server::Intake as IntakeRpc};
use futures::Stream;
use tonic::{Request, Response, Status, Streaming};
use tracing::instrument;

use crate::{
    app::{Intake, Submission},
    domain::ApplicationState,
};

#[derive(Clone)]
pub struct IntakeApi {
    app: Arc<Intake>,
}

impl IntakeApi {
    pub fn new(app: Arc<Intake>) -> IntakeApi {
        IntakeApi { app }
    }
}

type R<T> = Result<Response<T>, Status>;

fn principal<T>(r: &Request<T>) -> Result<Principal, AppError> {
    Principal::from_request(r)
}

fn ok<T>(v: T) -> R<T> {
    Ok(Response::new(v))
}

/// The id and etag every transition request names.
fn target(id: &str, etag: &str) -> Result<(uuid::Uuid, i64), AppError> {
    let mut f = Fields::new();
    let id = f.take(request::id("application_id", id));
    let etag = f.take(request::etag("etag", etag));
    f.finish()?;
    Ok((id.unwrap_or_default(), etag.unwrap_or_default()))
}

#[tonic::async_trait]
impl IntakeRpc for IntakeApi {
    // ------------------------------------------------------------ units and rounds

    #[instrument(skip_all)]
    async fn create_unit(&self, req: Request<pb::CreateUnitRequest>) -> R<pb::Unit> {
        let p = principal(&req)?;
        let (request_id, u) = convert::new_unit(req.into_inner())?;
        ok(convert::unit(&self.app.create_unit(&p, &request_id, u).await?))
    }

    async fn get_unit(&self, req: Request<pb::GetUnitRequest>) -> R<pb::Unit> {
        let p = principal(&req)?;
        let unit_id = req.get_ref().unit_id.trim();
        if unit_id.is_empty() {
            return Err(AppError::field("unit_id", "required: the unit's code, e.g. U-CIVIL").into());
        }
        ok(convert::unit(&self.app.get_unit(&p, unit_id).await?))
    }

    async fn list_units(&self, req: Request<pb::ListUnitsRequest>) -> R<pb::ListUnitsResponse> {
        let r = req.into_inner();
        let (units, next_page_token) = self.app.list_units(request::keyed_page(r.page_size, &r.page_token)?).await?;
        ok(pb::ListUnitsResponse { units: units.iter().map(convert::unit).collect(), next_page_token })
    }

    #[instrument(skip_all)]
    async fn record_unit_penalty(&self, req: Request<pb::RecordUnitPenaltyRequest>) -> R<pb::UnitPenalty> {
        let p = principal(&req)?;
        let (request_id, pen) = convert::new_penalty(req.into_inner())?;
        ok(convert::penalty(&self.app.record_penalty(&p, &request_id, pen).await?))
    }

    async fn get_unit_eligibility(&self, req: Request<pb::GetUnitEligibilityRequest>) -> R<pb::UnitEligibility> {
        let p = principal(&req)?;
        let r = req.into_inner();
        if !(2000..=2100).contains(&r.year) {
            return Err(AppError::field("year", "the year in which the unit wants to apply, e.g. 2026").into());
        }
        let e = self.app.unit_eligibility(&p, &r.unit_id, r.year).await?;
        ok(convert::eligibility(r.unit_id, r.year, &e))
    }

    #[instrument(skip_all)]
    async fn open_round(&self, req: Request<pb::OpenRoundRequest>) -> R<pb::ApplicationRound> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let request_id = egov_platform::idempotency::request_id("request_id", &r.request_id)?;
        ok(convert::round(&self.app.open_round(&p, &request_id, r.target_year).await?))
    }

    #[instrument(skip_all)]
    async fn close_round(&self, req: Request<pb::CloseRoundRequest>) -> R<pb::ApplicationRound> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(request::id("round_id", &r.round_id));
        let etag = f.take(request::etag("etag", &r.etag));
        f.finish()?;
        let round = self.app.close_round(&p, id.unwrap_or_default(), etag.unwrap_or_default(), r.reason.trim()).await?;
        ok(convert::round(&round))
    }

    async fn get_round(&self, req: Request<pb::GetRoundRequest>) -> R<pb::ApplicationRound> {
        let id = request::id("round_id", &req.get_ref().round_id)?;
        ok(convert::round(&self.app.get_round(id).await?))
    }

    async fn list_rounds(&self, req: Request<pb::ListRoundsRequest>) -> R<pb::ListRoundsResponse> {
        let r = req.into_inner();
        let (rounds, next_page_token) = self.app.list_rounds(request::page(r.page_size, &r.page_token)?).await?;
        ok(pb::ListRoundsResponse { rounds: rounds.iter().map(convert::round).collect(), next_page_token })
    }

    // ------------------------------------------------------------ applications

    #[instrument(skip_all)]
    async fn create_application(&self, req: Request<pb::CreateApplicationRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let request_id = convert::request_id(&mut f, "request_id", &r.request_id);
        f.required("lead_unit_id", &r.lead_unit_id);
        let lead = r.lead_unit_id.trim().to_string();
        let draft = convert::draft(&lead, r.draft).map_err(|v| f.0.extend(v)).ok();
        f.finish()?;
        let (app, docs) = self.app.create_application(&p, &request_id, lead, draft.unwrap_or_default()).await?;
        ok(convert::application(&app, &docs))
    }

    #[instrument(skip_all)]
    async fn update_application(&self, req: Request<pb::UpdateApplicationRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target(&r.application_id, &r.etag)?;
        let draft = convert::draft(p.unit.as_deref().unwrap_or_default(), r.draft).map_err(AppError::InvalidArgument)?;
        let app = self.app.update_application(&p, id, etag, draft).await?;
        let (_, docs) = self.app.read_application(&p, id).await?;
        ok(convert::application(&app, &docs))
    }

    async fn get_application(&self, req: Request<pb::GetApplicationRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let id = request::id("application_id", &req.get_ref().application_id)?;
        let (app, docs) = self.app.read_application(&p, id).await?;
        ok(convert::application(&app, &docs))
    }

    async fn list_applications(&self, req: Request<pb::ListApplicationsRequest>) -> R<pb::ListApplicationsResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let page = f.take(request::page(r.page_size, &r.page_token));
        let state = convert::optional::<ApplicationState>(&mut f, "state", r.state);
        let round_id = if r.round_id.is_empty() { None } else { f.take(request::id("round_id", &r.round_id)) };
        f.finish()?;
        let page = page.ok_or_else(|| AppError::field("page_token", "invalid"))?;
        let (apps, next_page_token) = self.app.list_applications(&p, &r.unit_id, round_id, state, page).await?;
        ok(pb::ListApplicationsResponse { applications: apps.iter().map(|a| convert::application(a, &[])).collect(), next_page_token })
    }

    #[instrument(skip_all)]
    async fn upload_document(&self, req: Request<Streaming<pb::UploadDocumentRequest>>) -> R<pb::Document> {
        let p = principal(&req)?;
        let (header, chunks) = documents::receive(req.into_inner(), convert::upload_part).await?;
        let header = convert::document_header(header)?;
        ok(convert::document(&self.app.upload_document(&p, header, chunks).await?))
    }

    type DownloadDocumentStream = Pin<Box<dyn Stream<Item = Result<pb::DownloadDocumentResponse, Status>> + Send + 'static>>;

    async fn download_document(&self, req: Request<pb::DownloadDocumentRequest>) -> R<Self::DownloadDocumentStream> {
        let p = principal(&req)?;
        let id = request::id("document_id", &req.get_ref().document_id)?;
        let d = self.app.download_document(&p, id).await?;
        ok(Box::pin(futures::stream::iter(convert::download(&d))))
    }

    async fn list_documents(&self, req: Request<pb::ListDocumentsRequest>) -> R<pb::ListDocumentsResponse> {
        let p = principal(&req)?;
        let id = request::id("application_id", &req.get_ref().application_id)?;
        let (_, docs) = self.app.read_application(&p, id).await?;
        ok(pb::ListDocumentsResponse { documents: docs.iter().map(convert::document).collect() })
    }

    #[instrument(skip_all)]
    async fn record_leader_consent(&self, req: Request<pb::RecordLeaderConsentRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = request::id("application_id", &r.application_id)?;
        let app = self.app.record_leader_consent(&p, id, &r.comment).await?;
        let (_, docs) = self.app.read_application(&p, id).await?;
        ok(convert::application(&app, &docs))
    }

    #[instrument(skip_all)]
    async fn request_supplementary(&self, req: Request<pb::RequestSupplementaryRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target(&r.application_id, &r.etag)?;
        ok(convert::application(&self.app.request_supplementary(&p, id, etag, &r.urgency_justification).await?, &[]))
    }

    #[instrument(skip_all)]
    async fn decide_supplementary(&self, req: Request<pb::DecideSupplementaryRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target(&r.application_id, &r.etag)?;
        ok(convert::application(&self.app.decide_supplementary(&p, id, etag, r.accepted, &r.comment).await?, &[]))
    }

    #[instrument(skip_all)]
    async fn submit_application(&self, req: Request<pb::SubmitApplicationRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (application_id, etag) = target(&r.application_id, &r.etag)?;
        let round_id = if r.round_id.is_empty() { None } else { Some(request::id("round_id", &r.round_id)?) };
        let (app, docs) = self.app.submit_application(&p, Submission { application_id, etag, round_id }).await?;
        ok(convert::application(&app, &docs))
    }

    async fn get_compliance_checklist(&self, req: Request<pb::GetComplianceChecklistRequest>) -> R<pb::ComplianceChecklist> {
        let p = principal(&req)?;
        let raw = &req.get_ref().application_id;
        let id = if raw.is_empty() { None } else { Some(request::id("application_id", raw)?) };
        ok(convert::checklist(&*self.app.compliance_checklist(&p, id).await?))
    }

    #[instrument(skip_all)]
    async fn decide_compliance(&self, req: Request<pb::DecideComplianceRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target(&r.application_id, &r.etag)?;
        let results = convert::checklist_results(&r.results);
        let (app, docs) = self.app.decide_compliance(&p, id, etag, results, &r.comment).await?;
        ok(convert::application(&app, &docs))
    }

    #[instrument(skip_all)]
    async fn request_re_review(&self, req: Request<pb::RequestReReviewRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target(&r.application_id, &r.etag)?;
        ok(convert::application(&self.app.request_re_review(&p, id, etag, &r.comment).await?, &[]))
    }

    // ------------------------------------------------------------ registry

    async fn get_project_status(&self, req: Request<pb::GetProjectStatusRequest>) -> R<pb::ProjectStatus> {
        let p = principal(&req)?;
        let id = request::id("project_id", &req.get_ref().project_id)?;
        let (proj, timeline) = self.app.project_status(&p, id).await?;
        ok(convert::project(&proj, &timeline))
    }

    async fn list_projects(&self, req: Request<pb::ListProjectsRequest>) -> R<pb::ListProjectsResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let page = request::page(r.page_size, &r.page_token)?;
        let (rows, next_page_token) = self.app.list_projects(&p, &r.unit_id, &r.status, page).await?;
        ok(pb::ListProjectsResponse { projects: rows.iter().map(|p| convert::project(p, &[])).collect(), next_page_token })
    }
}
