//! Evaluation's gRPC handlers: parse the request (fields named as sent), call the use case,
//! convert the answer. Errors become statuses through the platform's one mapping
//! (`AppError` → `Status`).

mod convert;
pub mod roles;

use std::{pin::Pin, sync::Arc};

use egov_platform::{
    AppError,
    auth::Principal,
    convert::{self as c, Fields},
    documents::{self, UploadPart},
    idempotency, request,
};
use egov_proto::evaluation::{self as pb, evaluation_queries_server::EvaluationQueries, evaluations_server::Evaluations};
use futures::Stream;
use tonic::{Request, Response, Status, Streaming};
use tracing::instrument;
use uuid::Uuid;

use crate::{
    app::Evaluation,
    domain::{
        AssessmentKind, EntryKind, EntryState,
        entry::{DoneAssessment, NewScore},
    },
    storage::EntryFilter,
};
use convert::ProtoEnum;

#[derive(Clone)]
pub struct EvaluationApi {
    app: Arc<Evaluation>,
}

impl EvaluationApi {
    pub fn new(app: Arc<Evaluation>) -> EvaluationApi {
        EvaluationApi { app }
    }
}

type R<T> = Result<Response<T>, Status>;

fn principal<T>(r: &Request<T>) -> Result<Principal, AppError> {
    Principal::from_request(r)
}

fn ok<T>(v: T) -> R<T> {
    Ok(Response::new(v))
}

fn entry(e: &crate::domain::Entry) -> R<pb::CatalogueEntry> {
    ok(convert::entry(e))
}

/// The entry id and etag every transition request names.
fn target(id_field: &str, id: &str, etag: &str) -> Result<(Uuid, i64), AppError> {
    let mut f = Fields::new();
    let id = f.take(request::id(id_field, id));
    let etag = f.take(request::etag("etag", etag));
    f.finish()?;
    Ok((id.unwrap_or_default(), etag.unwrap_or_default()))
}

type Download = Pin<Box<dyn Stream<Item = Result<pb::DownloadAuditReportResponse, Status>> + Send>>;

#[tonic::async_trait]
impl EvaluationQueries for EvaluationApi {
    #[instrument(skip_all)]
    async fn search_catalogue(&self, req: Request<pb::SearchCatalogueRequest>) -> R<pb::SearchCatalogueResponse> {
        let r = req.into_inner();
        let matches = self.app.search_catalogue(&r.text, r.limit).await?;
        ok(pb::SearchCatalogueResponse {
            matches: matches
                .iter()
                .map(|m| pb::CatalogueMatch {
                    entry_id: m.entry_id.to_string(),
                    name: m.name.clone(),
                    owner_unit: m.owner_unit.clone(),
                    score: m.score,
                })
                .collect(),
        })
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().app_id))]
    async fn get_latest_evaluation(&self, req: Request<pb::GetLatestEvaluationRequest>) -> R<pb::GetLatestEvaluationResponse> {
        let latest = self.app.latest_evaluation(&req.get_ref().app_id).await?;
        ok(pb::GetLatestEvaluationResponse {
            evaluation: latest.map(|(id, r)| pb::Evaluation {
                app_id: id.to_string(),
                grade: r.grade.map(ProtoEnum::to_proto).unwrap_or(0),
                passed: r.passed,
                evaluated_on: r.published_on.map(c::civil),
            }),
        })
    }
}

#[tonic::async_trait]
impl Evaluations for EvaluationApi {
    // ------------------------------------------------------------ catalogue

    #[instrument(skip_all)]
    async fn register_entry(&self, req: Request<pb::RegisterEntryRequest>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let request_id = f.take(idempotency::request_id("request_id", &r.request_id));
        let new = convert::new_entry(r.entry).map_err(|v| f.0.extend(v)).ok();
        f.finish()?;
        entry(&self.app.register(&p, &request_id.unwrap_or_default(), new.unwrap_or_default()).await?)
    }

    async fn get_entry(&self, req: Request<pb::GetEntryRequest>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let id = request::id("entry_id", &req.get_ref().entry_id)?;
        entry(&self.app.get_entry(&p, id).await?)
    }

    async fn list_entries(&self, req: Request<pb::ListEntriesRequest>) -> R<pb::ListEntriesResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let kind = f.take(EntryKind::from_proto("kind", r.kind)).flatten();
        let state = f.take(EntryState::from_proto("state", r.state)).flatten();
        let page = f.take(request::page(r.page_size, &r.page_token));
        f.finish()?;
        let unit_id = (!r.unit_id.trim().is_empty()).then(|| r.unit_id.trim().to_string());
        let (rows, next_page_token) =
            self.app.list_entries(&p, EntryFilter { kind, unit_id, state }, page.unwrap_or(request::Page { size: 0, after: None })).await?;
        ok(pb::ListEntriesResponse { entries: rows.iter().map(convert::entry).collect(), next_page_token })
    }

    #[instrument(skip_all)]
    async fn import_catalogue(&self, req: Request<Streaming<pb::ImportCatalogueRequest>>) -> R<pb::ImportCatalogueResponse> {
        let p = principal(&req)?;
        let (h, chunks) = documents::receive(req.into_inner(), |m: pb::ImportCatalogueRequest| {
            m.part.map(|part| match part {
                pb::import_catalogue_request::Part::Header(h) => UploadPart::Header(h),
                pb::import_catalogue_request::Part::Chunk(b) => UploadPart::Chunk(b),
            })
        })
        .await?;
        let h = convert::import_header(h)?;
        let i = self.app.import(&p, &h.request_id, &h.file_name, h.format, chunks).await?;
        ok(convert::imported(&i))
    }

    #[instrument(skip_all)]
    async fn screen_modules(&self, req: Request<pb::ScreenModulesRequest>) -> R<pb::ScreenModulesResponse> {
        let r = req.into_inner();
        let mut f = Fields::new();
        if r.modules.is_empty() || r.modules.len() > 200 {
            f.push("modules", "1 to 200 function modules");
        }
        let modules: Vec<(String, String)> = r
            .modules
            .iter()
            .enumerate()
            .map(|(i, m)| {
                (
                    convert::required_text(&mut f, &format!("modules[{i}].name"), &m.name, 200),
                    convert::text(&mut f, &format!("modules[{i}].description"), &m.description, 2000),
                )
            })
            .collect();
        f.finish()?;
        let (screened, policy) = self.app.screen_modules(&modules, r.limit).await?;
        ok(pb::ScreenModulesResponse {
            modules: screened.iter().map(convert::screened).collect(),
            duplicate_score: policy.duplicate_score,
            partial_duplicate_score: policy.partial_duplicate_score,
            policy_version: policy.version.clone(),
        })
    }

    // ------------------------------------------------------------ evaluations

    async fn get_indicator_system(&self, req: Request<pb::GetIndicatorSystemRequest>) -> R<pb::IndicatorSystem> {
        let v = req.get_ref().version.trim();
        let policy = if v.is_empty() {
            self.app.policy.in_force(self.app.clock.today())
        } else {
            self.app.policy.version(v).ok_or_else(|| AppError::NotFound(format!("indicator system {}", request::bounded(v))))?
        };
        ok(convert::indicator_system(&policy))
    }

    async fn list_indicator_systems(&self, _req: Request<pb::ListIndicatorSystemsRequest>) -> R<pb::ListIndicatorSystemsResponse> {
        ok(pb::ListIndicatorSystemsResponse { systems: self.app.policy.all().map(|p| convert::indicator_system(p)).collect() })
    }

    async fn list_schedules(&self, req: Request<pb::ListSchedulesRequest>) -> R<pb::ListSchedulesResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let due_by = r.due_by.as_ref().map(|d| c::date("due_by", Some(d))).transpose()?;
        let (rows, next_page_token) = self.app.list_schedules(&p, due_by, request::page(r.page_size, &r.page_token)?).await?;
        ok(pb::ListSchedulesResponse {
            schedules: rows
                .iter()
                .filter_map(|e| {
                    let s = e.schedule.as_ref()?;
                    Some(pb::ScheduledEvaluation {
                        app_id: e.entry_id.to_string(),
                        name: e.name.clone(),
                        operator_unit_id: e.operator_unit_id.clone(),
                        category: e.category.clone(),
                        next_due_on: Some(c::civil(s.next_due_on)),
                        due: s.due,
                    })
                })
                .collect(),
            next_page_token,
        })
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().app_id))]
    async fn open_evaluation(&self, req: Request<pb::OpenEvaluationRequest>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let request_id = f.take(idempotency::request_id("request_id", &r.request_id));
        let id = f.take(request::id("app_id", &r.app_id));
        f.finish()?;
        entry(&self.app.open_evaluation(&p, &request_id.unwrap_or_default(), id.unwrap_or_default()).await?)
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().app_id))]
    async fn record_scores(&self, req: Request<pb::RecordScoresRequest>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(request::id("app_id", &r.app_id));
        let etag = f.take(request::etag("etag", &r.etag));
        let evaluation_id = f.take(request::id("evaluation_id", &r.evaluation_id));
        let mut scores = vec![];
        for (i, s) in r.scores.iter().enumerate() {
            let score = u32::try_from(s.score).ok().filter(|n| *n <= 100);
            if score.is_none() {
                f.push(format!("scores[{i}].score"), "a whole number of points from 0 to 100");
            }
            let indicator = convert::required_text(&mut f, &format!("scores[{i}].indicator"), &s.indicator, 64);
            let comment = convert::text(&mut f, &format!("scores[{i}].comment"), &s.comment, 2000);
            scores.push(NewScore { indicator, score: score.unwrap_or(0), comment });
        }
        f.finish()?;
        let (id, etag, evaluation_id) = (id.unwrap_or_default(), etag.unwrap_or_default(), evaluation_id.unwrap_or_default());
        entry(&self.app.record_scores(&p, id, etag, evaluation_id, scores).await?)
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().app_id))]
    async fn publish_evaluation(&self, req: Request<pb::PublishEvaluationRequest>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target("app_id", &r.app_id, &r.etag)?;
        let evaluation_id = request::id("evaluation_id", &r.evaluation_id)?;
        entry(&self.app.publish(&p, id, etag, evaluation_id, r.comment.trim()).await?)
    }

    async fn list_published_evaluations(
        &self,
        req: Request<pb::ListPublishedEvaluationsRequest>,
    ) -> R<pb::ListPublishedEvaluationsResponse> {
        let r = req.into_inner();
        let app_id = if r.app_id.trim().is_empty() { None } else { Some(request::id("app_id", &r.app_id)?) };
        let (rows, next_page_token) = self.app.list_published(app_id, request::page(r.page_size, &r.page_token)?).await?;
        ok(pb::ListPublishedEvaluationsResponse { evaluations: rows.iter().map(convert::published).collect(), next_page_token })
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().app_id))]
    async fn propose_elimination(&self, req: Request<pb::ProposeEliminationRequest>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target("app_id", &r.app_id, &r.etag)?;
        entry(&self.app.propose_elimination(&p, id, etag, &convert::free_text("reason", &r.reason, 2000)?).await?)
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().app_id))]
    async fn decide_elimination(&self, req: Request<pb::DecideEliminationRequest>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target("app_id", &r.app_id, &r.etag)?;
        entry(&self.app.decide_elimination(&p, id, etag, r.approve, &convert::free_text("comment", &r.comment, 2000)?).await?)
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().app_id))]
    async fn eliminate_application(&self, req: Request<pb::EliminateApplicationRequest>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target("app_id", &r.app_id, &r.etag)?;
        entry(&self.app.eliminate(&p, id, etag).await?)
    }

    // ------------------------------------------------------------ sharing, stop, assessments, audits

    #[instrument(skip_all, fields(entry_id = %req.get_ref().entry_id))]
    async fn record_sharing_violation(&self, req: Request<pb::RecordSharingViolationRequest>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target("entry_id", &r.entry_id, &r.etag)?;
        entry(&self.app.record_sharing_violation(&p, id, etag, &convert::free_text("description", &r.description, 2000)?).await?)
    }

    #[instrument(skip_all, fields(entry_id = %req.get_ref().entry_id))]
    async fn record_sharing_rectified(&self, req: Request<pb::RecordSharingRectifiedRequest>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target("entry_id", &r.entry_id, &r.etag)?;
        entry(&self.app.record_sharing_rectified(&p, id, etag, &convert::free_text("note", &r.note, 2000)?).await?)
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().app_id))]
    async fn stop_application(&self, req: Request<pb::StopApplicationRequest>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target("app_id", &r.app_id, &r.etag)?;
        entry(&self.app.stop(&p, id, etag, &convert::free_text("reason", &r.reason, 2000)?).await?)
    }

    #[instrument(skip_all, fields(project_id = %req.get_ref().app_id))]
    async fn record_assessment(&self, req: Request<pb::RecordAssessmentRequest>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (id, etag) = target("app_id", &r.app_id, &r.etag)?;
        let mut f = Fields::new();
        let kind = f.take(AssessmentKind::from_proto("kind", r.kind).and_then(|k| {
            k.ok_or_else(|| egov_platform::error::FieldViolation::new("kind", "required: CLASSIFIED_PROTECTION or CRYPTOGRAPHY"))
        }));
        let done_on = f.take(c::date("done_on", r.done_on.as_ref()));
        let conclusion = convert::text(&mut f, "conclusion", &r.conclusion, 2000);
        let report_reference = convert::text(&mut f, "report_reference", &r.report_reference, 200);
        f.finish()?;
        let (Some(kind), Some(done_on)) = (kind, done_on) else { return Err(AppError::field("kind", "required").into()) };
        entry(&self.app.record_assessment(&p, id, etag, DoneAssessment { kind, done_on, conclusion, report_reference }).await?)
    }

    async fn list_assessments(&self, req: Request<pb::ListAssessmentsRequest>) -> R<pb::ListAssessmentsResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (rows, next_page_token) = self.app.list_tracked(&p, request::page(r.page_size, &r.page_token)?).await?;
        let assessments = rows
            .iter()
            .flat_map(|e| {
                e.assessments.iter().filter(|t| !r.overdue_only || t.overdue).map(|t| pb::AssessmentDue {
                    app_id: e.entry_id.to_string(),
                    name: e.name.clone(),
                    operator_unit_id: e.operator_unit_id.clone(),
                    track: Some(convert::track(t)),
                })
            })
            .collect();
        ok(pb::ListAssessmentsResponse { assessments, next_page_token })
    }

    #[instrument(skip_all)]
    async fn upload_audit_report(&self, req: Request<Streaming<pb::UploadAuditReportRequest>>) -> R<pb::CatalogueEntry> {
        let p = principal(&req)?;
        let (h, chunks) = documents::receive(req.into_inner(), |m: pb::UploadAuditReportRequest| {
            m.part.map(|part| match part {
                pb::upload_audit_report_request::Part::Header(h) => UploadPart::Header(h),
                pb::upload_audit_report_request::Part::Chunk(b) => UploadPart::Chunk(b),
            })
        })
        .await?;
        let mut f = Fields::new();
        let request_id = f.take(idempotency::request_id("header.request_id", &h.request_id));
        let app_id = f.take(request::id("header.app_id", &h.app_id));
        let auditor = convert::required_text(&mut f, "header.auditor", &h.auditor, 200);
        let file_name = f.take(documents::file_name("header.file_name", &h.file_name));
        let conclusion = convert::text(&mut f, "header.conclusion", &h.conclusion, 2000);
        f.finish()?;
        let header = crate::app::AuditHeader {
            app_id: app_id.unwrap_or_default(),
            auditor,
            file_name: file_name.unwrap_or_default(),
            content_type: documents::content_type(&h.content_type),
            conclusion,
        };
        entry(&self.app.upload_audit(&p, &request_id.unwrap_or_default(), header, chunks).await?)
    }

    type DownloadAuditReportStream = Download;

    async fn download_audit_report(&self, req: Request<pb::DownloadAuditReportRequest>) -> R<Download> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let app_id = f.take(request::id("app_id", &r.app_id));
        let document_id = f.take(request::id("document_id", &r.document_id));
        f.finish()?;
        let (a, bytes) = self.app.download_audit(&p, app_id.unwrap_or_default(), document_id.unwrap_or_default()).await?;
        let mut msgs =
            vec![Ok(pb::DownloadAuditReportResponse { part: Some(pb::download_audit_report_response::Part::Header(convert::audit(&a))) })];
        msgs.extend(
            documents::download_chunks(&bytes)
                .into_iter()
                .map(|b| Ok(pb::DownloadAuditReportResponse { part: Some(pb::download_audit_report_response::Part::Chunk(b.to_vec())) })),
        );
        ok(Box::pin(futures::stream::iter(msgs)) as Download)
    }
}
