//! Review's gRPC handlers: parse the request (fields named as sent), call the use case, convert
//! the answer. Errors become statuses through the platform's one mapping (`AppError` → `Status`).

mod convert;
pub(crate) mod expert;
pub mod roles;

use std::sync::Arc;

use egov_platform::{AppError, auth::Principal, convert::Fields, request};
use egov_proto::review::{self as pb, review_server::Review as ReviewRpc};
use tonic::{Request, Response, Status};
use tracing::instrument;

use crate::app::{Review, Target, TaskRef};

#[derive(Clone)]
pub struct ReviewApi {
    app: Arc<Review>,
}

impl ReviewApi {
    pub fn new(app: Arc<Review>) -> ReviewApi {
        ReviewApi { app }
    }
}

type R<T> = Result<Response<T>, Status>;

fn principal<T>(r: &Request<T>) -> Result<Principal, AppError> {
    Principal::from_request(r)
}

fn ok<T>(v: T) -> R<T> {
    Ok(Response::new(v))
}

/// The case id, etag and request id every case transition names; `more` parses the rest of the
/// request's fields into the same list of field errors.
fn target(case_id: &str, etag: &str, request_id: &str, more: impl FnOnce(&mut Fields)) -> Result<Target, AppError> {
    let mut f = Fields::new();
    let id = f.take(request::id("case_id", case_id));
    let etag = f.take(request::etag("etag", etag));
    more(&mut f);
    f.finish()?;
    Ok(Target { id: id.unwrap_or_default(), etag: etag.unwrap_or_default(), request_id: request_id.to_string() })
}

/// The case, task and etag fields of an opinion request.
fn task_ref(f: &mut Fields, case_id: &str, task_id: &str, etag: &str, request_id: &str) -> TaskRef {
    let case_id = f.take(request::id("case_id", case_id)).unwrap_or_default();
    let task_id = f.take(request::id("task_id", task_id)).unwrap_or_default();
    let etag = f.take(request::etag("etag", etag)).unwrap_or_default();
    TaskRef { case_id, task_id, etag, request_id: request_id.to_string() }
}

/// A required text field (its reasons, its opinion): refused when blank.
fn stated(f: &mut Fields, field: &str, value: &str, what: &str) {
    if value.trim().is_empty() {
        f.push(field, what);
    }
}

#[tonic::async_trait]
impl ReviewRpc for ReviewApi {
    async fn get_case(&self, req: Request<pb::GetCaseRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let id = request::id("case_id", &req.get_ref().case_id)?;
        ok(convert::case(&self.app.read_case(&p, id).await?))
    }

    async fn list_cases(&self, req: Request<pb::ListCasesRequest>) -> R<pb::ListCasesResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let page = request::page(r.page_size, &r.page_token)?;
        let stage = convert::stage_from_proto("stage", r.stage)?;
        let (cases, next_page_token) = self.app.list_cases(&p, stage, &r.unit_id, page).await?;
        ok(pb::ListCasesResponse { cases: cases.iter().map(convert::case).collect(), next_page_token })
    }

    async fn list_tasks(&self, req: Request<pb::ListTasksRequest>) -> R<pb::ListTasksResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let page = request::page(r.page_size, &r.page_token)?;
        let case_id = if r.case_id.is_empty() { None } else { Some(request::id("case_id", &r.case_id)?) };
        let state = convert::task_state_from_proto("state", r.state)?;
        let role = convert::role("role", &r.role)?;
        let (tasks, next_page_token) = self.app.list_tasks(&p, case_id, role, state, page).await?;
        ok(pb::ListTasksResponse { tasks: tasks.iter().map(convert::task).collect(), next_page_token })
    }

    #[instrument(skip_all)]
    async fn claim_task(&self, req: Request<pb::ClaimTaskRequest>) -> R<pb::Task> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = request::id("task_id", &r.task_id)?;
        let etag = request::etag("etag", &r.etag)?;
        ok(convert::task(&self.app.claim_task(&p, id, etag, &r.request_id).await?))
    }

    async fn get_scoring_sheet(&self, req: Request<pb::GetScoringSheetRequest>) -> R<pb::ScoringSheet> {
        let p = principal(&req)?;
        let raw = &req.get_ref().case_id;
        let id = if raw.is_empty() { None } else { Some(request::id("case_id", raw)?) };
        ok(convert::scoring_sheet(&*self.app.scoring_sheet(&p, id).await?))
    }

    #[instrument(skip_all)]
    async fn submit_preliminary_opinion(&self, req: Request<pb::SubmitPreliminaryOpinionRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let task = task_ref(&mut f, &r.case_id, &r.task_id, &r.etag, &r.request_id);
        let scores = convert::criterion_scores(&mut f, &r.scores);
        f.finish()?;
        ok(convert::case(&self.app.submit_opinion(&p, task, scores, r.passed, &r.opinion).await?))
    }

    #[instrument(skip_all)]
    async fn decide_preliminary(&self, req: Request<pb::DecidePreliminaryRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let t = target(&r.case_id, &r.etag, &r.request_id, |f| {
            stated(f, "comment", &r.comment, "the decision states its reasons (综合初审单位意见)")
        })?;
        ok(convert::case(&self.app.decide_preliminary(&p, t, r.passed, &r.comment).await?))
    }

    #[instrument(skip_all)]
    async fn return_for_revision(&self, req: Request<pb::ReturnForRevisionRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let t =
            target(&r.case_id, &r.etag, &r.request_id, |f| stated(f, "comment", &r.comment, "say what the unit must revise (退回意见)"))?;
        ok(convert::case(&self.app.return_for_revision(&p, t, &r.comment).await?))
    }

    #[instrument(skip_all)]
    async fn resubmit_case(&self, req: Request<pb::ResubmitCaseRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let t = target(&r.case_id, &r.etag, &r.request_id, |_| {})?;
        ok(convert::case(&self.app.resubmit_case(&p, t, &r.comment).await?))
    }

    #[instrument(skip_all)]
    async fn withdraw_case(&self, req: Request<pb::WithdrawCaseRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let t = target(&r.case_id, &r.etag, &r.request_id, |f| stated(f, "reason", &r.reason, "a withdrawal states its reason"))?;
        ok(convert::case(&self.app.withdraw_case(&p, t, &r.reason).await?))
    }

    #[instrument(skip_all)]
    async fn issue_approval(&self, req: Request<pb::IssueApprovalRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut input = None;
        let t = target(&r.case_id, &r.etag, &r.request_id, |f| input = convert::approval_input(f, &r))?;
        let input = input.ok_or_else(|| AppError::field("issued_on", "required"))?;
        ok(convert::case(&self.app.issue_approval(&p, t, input).await?))
    }

    async fn get_approval(&self, req: Request<pb::GetApprovalRequest>) -> R<pb::ApprovalDocument> {
        let p = principal(&req)?;
        let id = request::id("project_id", &req.get_ref().project_id)?;
        let (k, a) = self.app.approval(&p, id).await?;
        ok(convert::approval(&k, &a))
    }

    #[instrument(skip_all)]
    async fn submit_recheck_opinion(&self, req: Request<pb::SubmitRecheckOpinionRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let task = task_ref(&mut f, &r.case_id, &r.task_id, &r.etag, &r.request_id);
        f.finish()?;
        ok(convert::case(&self.app.submit_recheck_opinion(&p, task, r.passed, &r.opinion).await?))
    }

    #[instrument(skip_all)]
    async fn conclude_recheck(&self, req: Request<pb::ConcludeRecheckRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut input = None;
        let t = target(&r.case_id, &r.etag, &r.request_id, |f| input = convert::recheck_input(f, &r))?;
        let input = input.ok_or_else(|| AppError::field("amount_fen", "required"))?;
        ok(convert::case(&self.app.conclude_recheck(&p, t, input).await?))
    }

    #[instrument(skip_all)]
    async fn record_joint_meeting(&self, req: Request<pb::RecordJointMeetingRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut input = None;
        let t = target(&r.case_id, &r.etag, &r.request_id, |f| input = convert::joint_meeting_input(f, &r))?;
        let input = input.ok_or_else(|| AppError::field("held_on", "required"))?;
        ok(convert::case(&self.app.record_joint_meeting(&p, t, input).await?))
    }

    #[instrument(skip_all)]
    async fn record_funds_secured(&self, req: Request<pb::RecordFundsSecuredRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let t = target(&r.case_id, &r.etag, &r.request_id, |_| {})?;
        ok(convert::case(&self.app.record_funds_secured(&p, t, &r.evidence_document_ids, &r.comment).await?))
    }

    #[instrument(skip_all)]
    async fn request_change(&self, req: Request<pb::RequestChangeRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut budget = None;
        let t = target(&r.case_id, &r.etag, &r.request_id, |f| {
            budget = f.take(egov_platform::values::Fen::field("new_budget_fen", r.new_budget_fen))
        })?;
        let budget = budget.ok_or_else(|| AppError::field("new_budget_fen", "required"))?;
        ok(convert::case(&self.app.request_change(&p, t, budget, &r.reason).await?))
    }

    #[instrument(skip_all)]
    async fn decide_change(&self, req: Request<pb::DecideChangeRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (mut change_id, mut event) = (None, None);
        let t = target(&r.case_id, &r.etag, &r.request_id, |f| {
            change_id = f.take(request::id("change_id", &r.change_id));
            event = f.take(convert::change_event("stage", r.stage, r.passed));
            stated(f, "comment", &r.comment, "the review states its opinion (部门初审意见 / 专家论证意见)");
        })?;
        let (Some(change_id), Some(event)) = (change_id, event) else { return Err(AppError::field("change_id", "required").into()) };
        ok(convert::case(&self.app.decide_change(&p, t, change_id, event, &r.comment).await?))
    }
}
