//! `egov.review.v1.ExpertReview` handlers (R-R2): the pool, meetings, materials, panel draws,
//! scores, the panel's conclusion and the expert opinion others read. Parse, call, convert.

use std::sync::Arc;

use egov_platform::{
    AppError,
    auth::{Principal, Role},
    convert::Fields,
    documents, request,
};
use egov_proto::review::{self as pb, expert_review_server::ExpertReview};
use tonic::{Request, Response, Status, Streaming};
use tracing::instrument;

use super::{convert, target};
use crate::app::Review;

#[derive(Clone)]
pub struct ExpertApi {
    app: Arc<Review>,
}

impl ExpertApi {
    pub fn new(app: Arc<Review>) -> ExpertApi {
        ExpertApi { app }
    }
}

type R<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> R<T> {
    Ok(Response::new(v))
}

/// A meeting's id and the etag the client read of it.
fn meeting_ref(meeting_id: &str, etag: &str) -> Result<(uuid::Uuid, i64), AppError> {
    let mut f = Fields::new();
    let id = f.take(request::id("meeting_id", meeting_id));
    let etag = f.take(request::etag("etag", etag));
    f.finish()?;
    Ok((id.unwrap_or_default(), etag.unwrap_or_default()))
}

#[tonic::async_trait]
impl ExpertReview for ExpertApi {
    #[instrument(skip_all)]
    async fn create_expert(&self, req: Request<pb::CreateExpertRequest>) -> R<pb::Expert> {
        let p = Principal::from_request(&req)?;
        let (request_id, e) = convert::new_expert(req.into_inner())?;
        ok(convert::expert(&self.app.create_expert(&p, &request_id, e).await?))
    }

    #[instrument(skip_all)]
    async fn set_expert_availability(&self, req: Request<pb::SetExpertAvailabilityRequest>) -> R<pb::Expert> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let etag = request::etag("etag", &r.etag)?;
        ok(convert::expert(&self.app.set_expert_availability(&p, r.expert_id.trim().to_string(), etag, r.available).await?))
    }

    async fn list_experts(&self, req: Request<pb::ListExpertsRequest>) -> R<pb::ListExpertsResponse> {
        let r = req.into_inner();
        let (experts, next_page_token) = self.app.list_experts(&r.specialty, request::keyed_page(r.page_size, &r.page_token)?).await?;
        ok(pb::ListExpertsResponse { experts: experts.iter().map(convert::expert).collect(), next_page_token })
    }

    #[instrument(skip_all)]
    async fn upload_material(&self, req: Request<Streaming<pb::UploadMaterialRequest>>) -> R<pb::CaseMaterial> {
        let p = Principal::from_request(&req)?;
        let (header, chunks) = documents::receive(req.into_inner(), convert::upload_part).await?;
        let header = convert::material_header(header)?;
        let case_id = header.case_id;
        ok(convert::material(case_id, &self.app.upload_material(&p, header, chunks).await?))
    }

    #[instrument(skip_all)]
    async fn create_meeting(&self, req: Request<pb::CreateMeetingRequest>) -> R<pb::Meeting> {
        let p = Principal::from_request(&req)?;
        let m = convert::new_meeting(req.into_inner())?;
        ok(convert::meeting(&self.app.create_meeting(&p, m).await?))
    }

    #[instrument(skip_all)]
    async fn schedule_case(&self, req: Request<pb::ScheduleCaseRequest>) -> R<pb::Meeting> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let meeting_id = f.take(request::id("meeting_id", &r.meeting_id));
        let case_id = f.take(request::id("case_id", &r.case_id));
        let etag = f.take(request::etag("etag", &r.etag));
        f.finish()?;
        let m = self.app.schedule_case(&p, meeting_id.unwrap_or_default(), case_id.unwrap_or_default(), etag.unwrap_or_default()).await?;
        ok(convert::meeting(&m))
    }

    #[instrument(skip_all)]
    async fn draw_panel(&self, req: Request<pb::DrawPanelRequest>) -> R<pb::Meeting> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let (meeting_id, etag) = meeting_ref(&r.meeting_id, &r.etag)?;
        // No seed asked for: a fresh one, recorded with the draw.
        let seed = if r.seed == 0 { rand::random::<u64>().max(1) } else { r.seed };
        ok(convert::meeting(&self.app.draw_panel(&p, meeting_id, etag, seed).await?))
    }

    async fn get_meeting(&self, req: Request<pb::GetMeetingRequest>) -> R<pb::Meeting> {
        let id = request::id("meeting_id", &req.get_ref().meeting_id)?;
        ok(convert::meeting(&self.app.get_meeting(id).await?))
    }

    #[instrument(skip_all)]
    async fn submit_expert_score(&self, req: Request<pb::SubmitExpertScoreRequest>) -> R<pb::Meeting> {
        let p = Principal::from_request(&req)?;
        let s = convert::score(req.into_inner(), &p.subject)?;
        ok(convert::meeting(&self.app.submit_expert_score(&p, s).await?))
    }

    #[instrument(skip_all)]
    async fn conclude_expert_review(&self, req: Request<pb::ConcludeExpertReviewRequest>) -> R<pb::ReviewCase> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut verdict = None;
        let t = target(&r.case_id, &r.etag, &r.request_id, |f| verdict = convert::verdict(f, &r))?;
        let verdict = verdict.ok_or_else(|| AppError::field("recommended_budget_fen", "required"))?;
        ok(convert::case(&self.app.conclude_expert_review(&p, t, verdict).await?))
    }

    async fn get_expert_opinion(&self, req: Request<pb::GetExpertOpinionRequest>) -> R<pb::ExpertOpinion> {
        let p = Principal::from_request(&req)?;
        let id = request::id("project_id", &req.get_ref().project_id)?;
        let (k, c) = self.app.expert_opinion(&p, id).await?;
        ok(convert::expert_opinion(&k, &c))
    }
}

/// Roles of the ExpertReview service.
pub fn allow(t: egov_platform::auth::RoleTable) -> egov_platform::auth::RoleTable {
    use Role::*;
    const S: &str = "egov.review.v1.ExpertReview";
    const ORGANISERS: &[Role] = &[Drb, Finance];
    // SERVICE: acceptance reads the expert opinion, the basis of acceptance (R-A3).
    const READERS: &[Role] = &[Unit, Drb, Finance, Drc, Cac, Xinchuang, Grassroots, Leader, Audit, Expert, Service];
    t.allow(S, "CreateExpert", ORGANISERS)
        .allow(S, "SetExpertAvailability", ORGANISERS)
        .allow(S, "ListExperts", &[Drb, Finance, Audit])
        .allow(S, "UploadMaterial", &[Unit])
        .allow(S, "CreateMeeting", ORGANISERS)
        .allow(S, "ScheduleCase", ORGANISERS)
        .allow(S, "DrawPanel", ORGANISERS)
        .allow(S, "GetMeeting", &[Drb, Finance, Audit, Expert])
        .allow(S, "SubmitExpertScore", &[Expert])
        .allow(S, "ConcludeExpertReview", ORGANISERS)
        .allow(S, "GetExpertOpinion", READERS)
}
