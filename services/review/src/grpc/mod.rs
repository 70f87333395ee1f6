//! Review's gRPC handlers: authorise, parse, call the domain, persist case + tasks + audit +
//! outbox + timers in one transaction, map errors through the platform's one mapping.

mod convert;
pub mod expert;
pub mod roles;

use std::sync::Arc;

use egov_platform::{
    AppError,
    audit::{self, AuditEntry},
    auth::{Principal, Role},
    clock::SharedClock,
    convert::{self as c, Fields},
    outbox, paging,
    policy::{Policy, PolicyBook},
    timers,
};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    review::{self as pb, review_server::Review},
};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    domain::{
        ChangeRecord, Decision, Opinion, ReviewCase, Stage,
        change::{ChangeRoute, ChangeState},
        rules, validity,
        workflow::{self, Completion, TaskState},
    },
    jobs,
    messaging::{self, types},
    storage,
};

pub struct ReviewState {
    pub pool: PgPool,
    pub clock: SharedClock,
    pub policy: Arc<PolicyBook>,
}

#[derive(Clone)]
pub struct ReviewApi {
    s: Arc<ReviewState>,
}

impl ReviewApi {
    pub fn new(s: Arc<ReviewState>) -> ReviewApi {
        ReviewApi { s }
    }
}

type R<T> = Result<Response<T>, Status>;

fn id_field(field: &str, raw: &str) -> Result<Uuid, AppError> {
    c::uuid(field, raw).map_err(AppError::from)
}

fn etag_field(raw: &str) -> Result<i64, AppError> {
    c::etag("etag", raw).map_err(AppError::from)
}

fn page(raw_size: i32, raw_token: &str) -> Result<(i64, Option<Uuid>), AppError> {
    let size = paging::page_size(raw_size).map_err(AppError::from)?;
    let after = if raw_token.is_empty() { None } else { Some(id_field("page_token", raw_token)?) };
    Ok((size, after))
}

/// What a case transition does besides changing the case.
struct Change {
    action: &'static str,
    rule_ids: Vec<&'static str>,
    reason: String,
    events: Vec<(&'static str, Payload)>,
    /// Audit details besides the stage and version.
    details: serde_json::Map<String, serde_json::Value>,
}

impl Change {
    fn new(action: &'static str, rule_ids: &[&'static str], reason: impl Into<String>) -> Change {
        Change { action, rule_ids: rule_ids.to_vec(), reason: reason.into(), events: vec![], details: serde_json::Map::new() }
    }

    fn detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Change {
        self.details.insert(key.into(), value.into());
        self
    }
}

impl ReviewState {
    fn pinned(&self, version: &str) -> Result<Arc<Policy>, AppError> {
        self.policy
            .version(version)
            .ok_or_else(|| AppError::InvalidState(format!("policy version {version}, pinned by this case, is no longer loaded")))
    }

    async fn read_case(&self, p: &Principal, id: Uuid) -> Result<ReviewCase, AppError> {
        let mut conn = self.pool.acquire().await?;
        let k = storage::get_case(&mut conn, id, false).await?;
        p.ensure_unit(&k.dossier.lead_unit_id, k.dossier.participating_unit_ids.iter())?;
        Ok(k)
    }

    /// Load (locked) → UNIT must be the lead → etag → `f` (which may also write tasks) → store
    /// case, audit and events, all in one transaction.
    async fn transition<F>(&self, p: &Principal, id: Uuid, etag: i64, request_id: &str, f: F) -> Result<ReviewCase, AppError>
    where
        F: for<'c> FnOnce(
            &'c mut PgConnection,
            &'c mut ReviewCase,
            Arc<Policy>,
            OffsetDateTime,
        ) -> futures::future::BoxFuture<'c, Result<Change, AppError>>,
    {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let mut case = storage::get_case(&mut tx, id, true).await?;
        p.ensure_unit(&case.dossier.lead_unit_id, [])?;
        if case.version != etag {
            return Err(AppError::Aborted(format!("the case has etag {}, the request sent {etag}: read it again and retry", case.version)));
        }
        let policy = self.pinned(&case.policy_version)?;
        let change = f(&mut tx, &mut case, policy, now).await?;
        case.version += 1;
        storage::update_case(&mut tx, &case).await?;
        let mut details = change.details;
        details.insert("stage".into(), case.stage.as_str().into());
        details.insert("version".into(), case.version.into());
        let entry = AuditEntry::by(p, change.action, format!("cases/{id}"))
            .project(id.to_string())
            .reason(&change.reason)
            .rules(&change.rule_ids)
            .policy(&case.policy_version)
            .request(request_id)
            .details(serde_json::Value::Object(details));
        audit::append(&mut tx, now, &entry).await?;
        for (t, payload) in change.events {
            outbox::enqueue(&mut tx, &messaging::envelope(t, &case, now, payload)).await?;
        }
        tx.commit().await?;
        Ok(case)
    }
}

/// A participant's opinion on its task (preliminary review, re-check).
struct OpinionTask<'a> {
    /// Case, task and the task's etag.
    ids: (Uuid, Uuid, i64),
    kind: &'static str,
    action: &'static str,
    rule: &'static str,
    opinion: &'a str,
    request_id: &'a str,
}

/// The case, task and etag fields of an opinion request.
fn task_ref(f: &mut Fields, case_id: &str, task_id: &str, etag: &str) -> (Uuid, Uuid, i64) {
    let case_id = f.take(c::uuid("case_id", case_id)).unwrap_or_default();
    let task_id = f.take(c::uuid("task_id", task_id)).unwrap_or_default();
    let etag = f.take(c::etag("etag", etag)).unwrap_or_default();
    (case_id, task_id, etag)
}

impl ReviewState {
    /// Completes an opinion task in one transaction: the task is locked first, so of two people
    /// completing it at once the second finds a stale etag (ABORTED); `apply` records the
    /// opinion on the case (and returns audit details); the task is done, its timers cancelled.
    async fn complete_opinion_task<F>(&self, p: &Principal, job: OpinionTask<'_>, apply: F) -> Result<ReviewCase, AppError>
    where
        F: FnOnce(&mut ReviewCase, &Policy, OffsetDateTime) -> Result<serde_json::Value, AppError>,
    {
        let (case_id, task_id, etag) = job.ids;
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let mut task = storage::get_task(&mut tx, task_id, true).await?;
        workflow::ensure_can_complete(&task, etag, p)?;
        if task.case_id != case_id || task.kind != job.kind {
            return Err(AppError::field("task_id", format!("not a {} task of this case", job.kind)));
        }
        let mut case = storage::get_case(&mut tx, case_id, true).await?;
        let policy = self.pinned(&case.policy_version)?;
        let details = apply(&mut case, &policy, now)?;
        case.version += 1;
        storage::update_case(&mut tx, &case).await?;
        task.state = TaskState::Done;
        task.completed_by = p.subject.clone();
        task.comment = job.opinion.to_string();
        task.version += 1;
        storage::update_task(&mut tx, &task).await?;
        jobs::cancel_task_timers(&mut tx, task_id).await?;
        let entry = AuditEntry::by(p, job.action, format!("cases/{case_id}"))
            .project(case_id.to_string())
            .reason(job.opinion)
            .rules(&[job.rule])
            .policy(&case.policy_version)
            .request(job.request_id)
            .details(serde_json::json!({ "task_id": task_id.to_string(), "opinion": details }));
        audit::append(&mut tx, now, &entry).await?;
        tx.commit().await?;
        Ok(case)
    }
}

fn principal<T>(r: &Request<T>) -> Result<Principal, AppError> {
    Principal::from_request(r)
}

#[tonic::async_trait]
impl Review for ReviewApi {
    async fn get_case(&self, req: Request<pb::GetCaseRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let id = id_field("case_id", &req.get_ref().case_id)?;
        Ok(Response::new(convert::case(&self.s.read_case(&p, id).await?)))
    }

    async fn list_cases(&self, req: Request<pb::ListCasesRequest>) -> R<pb::ListCasesResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (limit, after) = page(r.page_size, &r.page_token)?;
        let stage = convert::stage_from_proto("stage", r.stage).map_err(AppError::from)?;
        let mut unit = (!r.unit_id.is_empty()).then(|| r.unit_id.clone());
        if p.is(Role::Unit) {
            let mine = p.unit.clone().unwrap_or_default();
            if unit.as_ref().is_some_and(|u| *u != mine) {
                return Err(AppError::PermissionDenied(format!("unit {mine} may not list cases of unit {}", r.unit_id)).into());
            }
            unit = Some(mine);
        }
        let mut conn = self.s.pool.acquire().await.map_err(AppError::from)?;
        let rows = storage::list_cases(&mut conn, stage, unit.as_deref(), after, limit + 1).await?;
        let (rows, next) = paging::page(rows, limit, |k| k.case_id.to_string());
        Ok(Response::new(pb::ListCasesResponse { cases: rows.iter().map(convert::case).collect(), next_page_token: next }))
    }

    async fn list_tasks(&self, req: Request<pb::ListTasksRequest>) -> R<pb::ListTasksResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (limit, after) = page(r.page_size, &r.page_token)?;
        let case_id = if r.case_id.is_empty() { None } else { Some(id_field("case_id", &r.case_id)?) };
        let state = convert::task_state_from_proto("state", r.state).map_err(AppError::from)?;
        // Participants see their role's tasks; DRB and AUDIT see any role's.
        let role = if r.role.is_empty() {
            (!matches!(p.role, Role::Drb | Role::Audit)).then(|| p.role.as_str().to_string())
        } else {
            let asked = Role::parse(&r.role).ok_or_else(|| AppError::field("role", format!("{:?} is not a role", r.role)))?;
            if asked != p.role && !matches!(p.role, Role::Drb | Role::Audit) {
                return Err(AppError::PermissionDenied(format!("{} may not list the tasks of {asked}", p.role)).into());
            }
            Some(asked.as_str().to_string())
        };
        let mut conn = self.s.pool.acquire().await.map_err(AppError::from)?;
        let rows = storage::list_tasks(&mut conn, case_id, role.as_deref(), state, after, limit + 1).await?;
        let (rows, next) = paging::page(rows, limit, |t| t.task_id.to_string());
        Ok(Response::new(pb::ListTasksResponse { tasks: rows.iter().map(convert::task).collect(), next_page_token: next }))
    }

    async fn claim_task(&self, req: Request<pb::ClaimTaskRequest>) -> R<pb::Task> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("task_id", &r.task_id)?;
        let etag = etag_field(&r.etag)?;
        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        let mut task = storage::get_task(&mut tx, id, true).await?;
        workflow::claim(&task, etag, &p)?;
        let case = storage::get_case(&mut tx, task.case_id, false).await?;
        task.state = TaskState::Claimed;
        task.assignee = Some(p.subject.clone());
        task.version += 1;
        storage::update_task(&mut tx, &task).await?;
        audit::append(
            &mut tx,
            now,
            &AuditEntry::by(&p, "ClaimTask", format!("tasks/{id}"))
                .project(task.case_id.to_string())
                .policy(&case.policy_version)
                .request(&r.request_id),
        )
        .await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(convert::task(&task)))
    }

    async fn get_scoring_sheet(&self, req: Request<pb::GetScoringSheetRequest>) -> R<pb::ScoringSheet> {
        let p = principal(&req)?;
        let policy = if req.get_ref().case_id.is_empty() {
            self.s.policy.in_force(self.s.clock.today())
        } else {
            let k = self.s.read_case(&p, id_field("case_id", &req.get_ref().case_id)?).await?;
            self.s.pinned(&k.policy_version)?
        };
        Ok(Response::new(pb::ScoringSheet {
            policy_version: policy.version.clone(),
            criteria: policy
                .preliminary_scoring_sheet
                .iter()
                .map(|c| pb::Criterion { code: c.code.clone(), title: c.title.clone(), weight: c.weight as i32 })
                .collect(),
            pass_score: policy.preliminary_pass_score as i32,
        }))
    }

    async fn submit_preliminary_opinion(&self, req: Request<pb::SubmitPreliminaryOpinionRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let ids = task_ref(&mut f, &r.case_id, &r.task_id, &r.etag);
        let mut scores = Vec::new();
        for (i, s) in r.scores.iter().enumerate() {
            if s.score < 0 {
                f.push(format!("scores[{i}].score"), "scored 0..100");
            }
            scores.push((s.code.trim().to_string(), s.score.max(0) as u32));
        }
        f.finish()?;
        let job = OpinionTask {
            ids,
            kind: "preliminary.opinion",
            action: "SubmitPreliminaryOpinion",
            rule: "R-R1",
            opinion: r.opinion.trim(),
            request_id: &r.request_id,
        };
        let case = self
            .s
            .complete_opinion_task(&p, job, |case, policy, now| {
                rules::check_opinion(case, p.role, &r.opinion)?;
                let weighted = rules::weighted_score(&policy.preliminary_scoring_sheet, &scores)?;
                case.opinions.push(Opinion {
                    role: p.role.as_str().into(),
                    subject: p.subject.clone(),
                    scores,
                    weighted_centi: weighted,
                    passed: r.passed,
                    opinion: r.opinion.trim().into(),
                    at: now,
                });
                Ok(serde_json::json!({ "passed": r.passed, "weighted_score_centi": weighted }))
            })
            .await?;
        Ok(Response::new(convert::case(&case)))
    }

    async fn decide_preliminary(&self, req: Request<pb::DecidePreliminaryRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("case_id", &r.case_id)?;
        let etag = etag_field(&r.etag)?;
        if r.comment.trim().is_empty() {
            return Err(AppError::field("comment", "the decision states its reasons (综合初审单位意见)").into());
        }
        let who = p.subject.clone();
        let case = self
            .s
            .transition(&p, id, etag, &r.request_id, move |conn, case, policy, now| {
                Box::pin(async move {
                    let aggregate = rules::decide_preliminary(case)?;
                    // The task group must be complete too (all must act).
                    let (done, total) = workflow::progress(&storage::tasks_of(conn, case.case_id, Some("preliminary")).await?);
                    if !Completion::All.satisfied(done, total) {
                        return Err(AppError::rule("R-R1", "tasks", format!("{done} of {total} participants' tasks are done")));
                    }
                    case.preliminary = Some(Decision {
                        passed: r.passed,
                        comment: r.comment.trim().into(),
                        decided_by: who,
                        decided_at: now,
                        policy_version: policy.version.clone(),
                        aggregate_centi: aggregate,
                    });
                    let mut ch = Change::new("DecidePreliminary", &["R-R1"], r.comment.trim());
                    ch.events.push((
                        types::PRELIMINARY_DECIDED,
                        Payload::PreliminaryDecided(ev::PreliminaryDecided {
                            case_id: case.case_id.to_string(),
                            passed: r.passed,
                            aggregate_score_centi: aggregate as i32,
                            comment: r.comment.trim().into(),
                        }),
                    ));
                    if r.passed {
                        case.stage = Stage::ExpertReview;
                    } else {
                        case.stage = Stage::Ended;
                        case.end_reason = format!("初审未通过，本次申报结束 / preliminary review failed: {}", r.comment.trim());
                        ch.events.push((types::ENDED, messaging::ended(case, &case.end_reason.clone(), &["R-R1"])));
                    }
                    Ok(ch)
                })
            })
            .await?;
        Ok(Response::new(convert::case(&case)))
    }

    async fn return_for_revision(&self, req: Request<pb::ReturnForRevisionRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("case_id", &r.case_id)?;
        let etag = etag_field(&r.etag)?;
        if r.comment.trim().is_empty() {
            return Err(AppError::field("comment", "say what the unit must revise (退回意见)").into());
        }
        let case = self
            .s
            .transition(&p, id, etag, &r.request_id, move |conn, case, _, _| {
                Box::pin(async move {
                    rules::return_for_revision(case)?;
                    storage::set_tasks_state(conn, case.case_id, &[TaskState::Open, TaskState::Claimed], TaskState::Suspended).await?;
                    case.returned_from = Some(case.stage);
                    case.stage = Stage::Returned;
                    let mut ch = Change::new("ReturnForRevision", &[], r.comment.trim());
                    ch.events.push((
                        types::CASE_RETURNED,
                        Payload::CaseReturned(ev::CaseReturned { case_id: case.case_id.to_string(), comment: r.comment.trim().into() }),
                    ));
                    Ok(ch)
                })
            })
            .await?;
        Ok(Response::new(convert::case(&case)))
    }

    async fn resubmit_case(&self, req: Request<pb::ResubmitCaseRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("case_id", &r.case_id)?;
        let etag = etag_field(&r.etag)?;
        let case = self
            .s
            .transition(&p, id, etag, &r.request_id, move |conn, case, policy, now| {
                Box::pin(async move {
                    let back = rules::resubmit(case)?;
                    // The revised dossier is reviewed afresh: old tasks go, new ones open.
                    let suspended = storage::set_tasks_state(conn, case.case_id, &[TaskState::Suspended], TaskState::Cancelled).await?;
                    for t in suspended {
                        jobs::cancel_task_timers(conn, t).await?;
                    }
                    case.stage = back;
                    case.returned_from = None;
                    if back == Stage::PreliminaryReview {
                        case.opinions.clear();
                        messaging::open_preliminary_tasks(conn, case, now, &policy).await?;
                    }
                    if back == Stage::ReCheck {
                        case.recheck_opinions.clear();
                        messaging::open_recheck_tasks(conn, case, now, &policy).await?;
                    }
                    let mut ch = Change::new("ResubmitCase", &[], r.comment.trim());
                    ch.events.push((
                        types::CASE_RESUBMITTED,
                        Payload::ProjectStatusChanged(ev::ProjectStatusChanged {
                            status: stage_status(back).into(),
                            summary: "resubmitted after revision (退回后重新提交)".into(),
                        }),
                    ));
                    Ok(ch)
                })
            })
            .await?;
        Ok(Response::new(convert::case(&case)))
    }

    async fn withdraw_case(&self, req: Request<pb::WithdrawCaseRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("case_id", &r.case_id)?;
        let etag = etag_field(&r.etag)?;
        if r.reason.trim().is_empty() {
            return Err(AppError::field("reason", "a withdrawal states its reason").into());
        }
        let case = self
            .s
            .transition(&p, id, etag, &r.request_id, move |conn, case, _, _| {
                Box::pin(async move {
                    rules::withdraw(case)?;
                    for t in storage::set_tasks_state(
                        conn,
                        case.case_id,
                        &[TaskState::Open, TaskState::Claimed, TaskState::Suspended],
                        TaskState::Cancelled,
                    )
                    .await?
                    {
                        jobs::cancel_task_timers(conn, t).await?;
                    }
                    case.stage = Stage::Ended;
                    case.end_reason = format!("单位撤回申报 / withdrawn by the unit: {}", r.reason.trim());
                    let mut ch = Change::new("WithdrawCase", &[], r.reason.trim());
                    ch.events.push((types::ENDED, messaging::ended(case, &case.end_reason.clone(), &[])));
                    Ok(ch)
                })
            })
            .await?;
        Ok(Response::new(convert::case(&case)))
    }

    async fn issue_approval(&self, req: Request<pb::IssueApprovalRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("case_id", &r.case_id)?;
        let etag = etag_field(&r.etag)?;
        let issued_on = c::date("issued_on", r.issued_on.as_ref()).map_err(AppError::from)?;
        let input = rules::ApprovalInput {
            document_number: r.document_number.clone(),
            issued_on,
            budget_fen: r.budget_fen,
            scope: r.scope.clone(),
            planned_construction_months: r.planned_construction_months,
        };
        let case = self
            .s
            .transition(&p, id, etag, &r.request_id, move |conn, case, policy, now| {
                Box::pin(async move {
                    let approval = rules::issue_approval(case, &input, egov_platform::clock::civil_date(now), &policy)?;
                    if let Some(until) = approval.valid_until {
                        timers::schedule(
                            conn,
                            jobs::APPROVAL_VALIDITY,
                            &case.case_id.to_string(),
                            validity::timer_due(until),
                            serde_json::json!({}),
                        )
                        .await?;
                    }
                    let mut rule_ids = vec!["R-R4"];
                    if case.fast_track {
                        rule_ids.push("R-R5");
                    }
                    if approval.valid_until.is_some() {
                        rule_ids.push("R-R6");
                    }
                    let mut ch = Change::new("IssueApproval", &rule_ids, approval.document_number.clone());
                    ch.events.push((types::APPROVED, messaging::approved(case, &approval)));
                    case.approval = Some(approval);
                    case.stage = Stage::Approved;
                    Ok(ch)
                })
            })
            .await?;
        Ok(Response::new(convert::case(&case)))
    }

    async fn get_approval(&self, req: Request<pb::GetApprovalRequest>) -> R<pb::ApprovalDocument> {
        let p = principal(&req)?;
        let id = id_field("project_id", &req.get_ref().project_id)?;
        let k = self.s.read_case(&p, id).await?;
        let a =
            k.approval.as_ref().ok_or_else(|| AppError::NotFound(format!("no approval document for project {id} (stage {})", k.stage)))?;
        Ok(Response::new(convert::approval(&k, a)))
    }

    async fn submit_recheck_opinion(&self, req: Request<pb::SubmitRecheckOpinionRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let ids = task_ref(&mut f, &r.case_id, &r.task_id, &r.etag);
        f.finish()?;
        let job = OpinionTask {
            ids,
            kind: RECHECK_TASK,
            action: "SubmitRecheckOpinion",
            rule: "R-R3",
            opinion: r.opinion.trim(),
            request_id: &r.request_id,
        };
        let case = self
            .s
            .complete_opinion_task(&p, job, |case, _, now| {
                rules::check_recheck_opinion(case, p.role, &r.opinion)?;
                case.recheck_opinions.push(Opinion {
                    role: p.role.as_str().into(),
                    subject: p.subject.clone(),
                    scores: vec![],
                    weighted_centi: 0,
                    passed: r.passed,
                    opinion: r.opinion.trim().into(),
                    at: now,
                });
                Ok(serde_json::json!({ "passed": r.passed }))
            })
            .await?;
        Ok(Response::new(convert::case(&case)))
    }

    async fn conclude_recheck(&self, req: Request<pb::ConcludeRecheckRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("case_id", &r.case_id)?;
        let etag = etag_field(&r.etag)?;
        let input = rules::RecheckInput {
            passed: r.passed,
            comment: r.comment.clone(),
            priority_rank: r.priority_rank,
            fiscal_year: r.fiscal_year,
            amount_fen: r.amount_fen,
        };
        let who = p.subject.clone();
        let case = self
            .s
            .transition(&p, id, etag, &r.request_id, move |conn, case, _, now| {
                Box::pin(async move {
                    let progress = workflow::progress(&storage::tasks_of(conn, case.case_id, Some(RECHECK_GROUP)).await?);
                    let conclusion = rules::conclude_recheck(case, &input, progress, &who, now)?;
                    let mut ch = Change::new("ConcludeRecheck", &["R-R3"], conclusion.comment.clone())
                        .detail("passed", conclusion.passed)
                        .detail("priority_rank", conclusion.priority_rank)
                        .detail("fiscal_year", conclusion.fiscal_year)
                        .detail("amount_fen", conclusion.amount_fen);
                    let summary = if conclusion.passed {
                        case.stage = Stage::JointMeeting;
                        format!(
                            "re-check passed (复核通过): funding priority {}, fiscal year {}, {} fen; goes to the joint meeting",
                            conclusion.priority_rank, conclusion.fiscal_year, conclusion.amount_fen
                        )
                    } else {
                        case.stage = Stage::Ended;
                        case.end_reason = format!("复核审查未通过，本次申报结束 / re-check failed: {}", conclusion.comment);
                        format!("re-check failed (复核未通过): {}", conclusion.comment)
                    };
                    ch.events.push((
                        types::RECHECK_CONCLUDED,
                        Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: stage_status(case.stage).into(), summary }),
                    ));
                    if !conclusion.passed {
                        ch.events.push((types::ENDED, messaging::ended(case, &case.end_reason.clone(), &["R-R3"])));
                    }
                    case.recheck = Some(conclusion);
                    Ok(ch)
                })
            })
            .await?;
        Ok(Response::new(convert::case(&case)))
    }

    async fn record_joint_meeting(&self, req: Request<pb::RecordJointMeetingRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(c::uuid("case_id", &r.case_id));
        let etag = f.take(c::etag("etag", &r.etag));
        let held_on = f.take(c::date("held_on", r.held_on.as_ref()));
        f.finish()?;
        let (id, etag, held_on) = (id.unwrap_or_default(), etag.unwrap_or_default(), held_on.unwrap_or(time::Date::MIN));
        let input = rules::JointMeetingInput { passed: r.passed, meeting_ref: r.meeting_ref.clone(), held_on, comment: r.comment.clone() };
        let who = p.subject.clone();
        let case = self
            .s
            .transition(&p, id, etag, &r.request_id, move |_, case, _, now| {
                Box::pin(async move {
                    let outcome = rules::record_joint_meeting(case, &input, egov_platform::clock::civil_date(now), &who)?;
                    let reason = if outcome.comment.is_empty() { outcome.meeting_ref.clone() } else { outcome.comment.clone() };
                    let mut ch = Change::new("RecordJointMeeting", &["R-R4"], reason)
                        .detail("passed", outcome.passed)
                        .detail("meeting_ref", outcome.meeting_ref.clone())
                        .detail("held_on", outcome.held_on.to_string());
                    let summary = if outcome.passed {
                        case.stage = Stage::Approval;
                        format!("passed by the joint meeting {} of {}; the approval document follows", outcome.meeting_ref, outcome.held_on)
                    } else {
                        case.stage = Stage::Ended;
                        case.end_reason = format!(
                            "联席会议未通过，本次申报结束 / not passed by the joint meeting {}: {}",
                            outcome.meeting_ref, outcome.comment
                        );
                        format!("not passed by the joint meeting {} of {}: {}", outcome.meeting_ref, outcome.held_on, outcome.comment)
                    };
                    ch.events.push((
                        types::JOINT_MEETING_RECORDED,
                        Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: stage_status(case.stage).into(), summary }),
                    ));
                    if !outcome.passed {
                        ch.events.push((types::ENDED, messaging::ended(case, &case.end_reason.clone(), &["R-R4"])));
                    }
                    case.joint_meeting = Some(outcome);
                    Ok(ch)
                })
            })
            .await?;
        Ok(Response::new(convert::case(&case)))
    }

    async fn record_funds_secured(&self, req: Request<pb::RecordFundsSecuredRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("case_id", &r.case_id)?;
        let etag = etag_field(&r.etag)?;
        let evidence = r.evidence_document_ids.clone();
        let case = self
            .s
            .transition(&p, id, etag, &r.request_id, move |conn, case, _, now| {
                Box::pin(async move {
                    rules::check_funds_secured(case, egov_platform::clock::civil_date(now), &evidence)?;
                    let evidence: Vec<String> = evidence.iter().map(|e| e.trim().to_string()).collect();
                    timers::cancel(conn, jobs::APPROVAL_VALIDITY, &case.case_id.to_string()).await?;
                    let Some(a) = case.approval.as_mut() else {
                        return Err(AppError::Internal(anyhow::anyhow!("approval checked above")));
                    };
                    a.funds_secured = true;
                    let until = a.valid_until.map(|d| d.to_string()).unwrap_or_default();
                    let comment = r.comment.trim();
                    let reason = if comment.is_empty() { "资金已落实 / funds secured" } else { comment };
                    let mut ch = Change::new("RecordFundsSecured", &["R-R6"], reason)
                        .detail("evidence_document_ids", evidence.clone())
                        .detail("valid_until", until.clone());
                    ch.events.push((
                        types::FUNDS_SECURED,
                        Payload::ProjectStatusChanged(ev::ProjectStatusChanged {
                            status: stage_status(Stage::Approved).into(),
                            summary: format!(
                                "outside funds secured within the approval's validity (through {until}); evidence {}",
                                evidence.join(", ")
                            ),
                        }),
                    ));
                    Ok(ch)
                })
            })
            .await?;
        Ok(Response::new(convert::case(&case)))
    }

    async fn request_change(&self, req: Request<pb::RequestChangeRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("case_id", &r.case_id)?;
        let etag = etag_field(&r.etag)?;
        let who = p.subject.clone();
        let case = self
            .s
            .transition(&p, id, etag, &r.request_id, move |_, case, policy, now| {
                Box::pin(async move {
                    let route = rules::request_change(case, r.new_budget_fen, &r.reason, &policy)?;
                    let Some(a) = case.approval.as_mut() else {
                        return Err(AppError::Internal(anyhow::anyhow!("approval checked above")));
                    };
                    let record = ChangeRecord {
                        change_id: Uuid::now_v7(),
                        old_budget_fen: a.budget_fen,
                        new_budget_fen: r.new_budget_fen,
                        route: route.as_str().into(),
                        state: route.initial_state().as_str().into(),
                        reason: r.reason.trim().into(),
                        requested_by: who,
                        requested_at: now,
                    };
                    let mut ch = Change::new("RequestChange", &["R-R7"], record.reason.clone())
                        .detail("change_id", record.change_id.to_string())
                        .detail("route", record.route.clone())
                        .detail("old_budget_fen", record.old_budget_fen)
                        .detail("new_budget_fen", record.new_budget_fen);
                    if route == ChangeRoute::InternalControlFiling {
                        // 内控流程并向区数据资源局备案: the filing itself adjusts the budget.
                        a.budget_fen = record.new_budget_fen;
                        ch.events.push((types::CHANGE_FILED, budget_adjusted(case.case_id, &record)));
                    } else {
                        // DRB's cue to convene the departmental review (informational on the
                        // registry: the project stays approved meanwhile).
                        ch.events.push((
                            types::CHANGE_REQUESTED,
                            Payload::ProjectStatusChanged(ev::ProjectStatusChanged {
                                status: String::new(),
                                summary: format!(
                                    "change request {}: budget {} → {} fen, awaiting departmental review (变更申请, R-R7)",
                                    record.change_id, record.old_budget_fen, record.new_budget_fen
                                ),
                            }),
                        ));
                    }
                    case.changes.push(record);
                    Ok(ch)
                })
            })
            .await?;
        Ok(Response::new(convert::case(&case)))
    }

    async fn decide_change(&self, req: Request<pb::DecideChangeRequest>) -> R<pb::ReviewCase> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(c::uuid("case_id", &r.case_id));
        let etag = f.take(c::etag("etag", &r.etag));
        let change_id = f.take(c::uuid("change_id", &r.change_id));
        let event = f.take(convert::change_event("stage", r.stage, r.passed));
        if r.comment.trim().is_empty() {
            f.push("comment", "the review states its opinion (部门初审意见 / 专家论证意见)");
        }
        f.finish()?;
        let (Some(id), Some(etag), Some(change_id), Some(event)) = (id, etag, change_id, event) else {
            return Err(AppError::Internal(anyhow::anyhow!("fields checked above")).into());
        };
        let case = self
            .s
            .transition(&p, id, etag, &r.request_id, move |_, case, _, _| {
                Box::pin(async move {
                    let (i, next) = rules::decide_change(case, change_id, event)?;
                    case.changes[i].state = next.as_str().into();
                    let record = case.changes[i].clone();
                    let mut ch = Change::new("DecideChange", &["R-R7"], r.comment.trim())
                        .detail("change_id", change_id.to_string())
                        .detail("review", format!("{event:?}"))
                        .detail("state", next.as_str());
                    if next == ChangeState::Approved {
                        if let Some(a) = case.approval.as_mut() {
                            a.budget_fen = record.new_budget_fen;
                        }
                        ch.events.push((types::BUDGET_ADJUSTED, budget_adjusted(case.case_id, &record)));
                    }
                    Ok(ch)
                })
            })
            .await?;
        Ok(Response::new(convert::case(&case)))
    }
}

/// The re-check's tasks (opened by `messaging::open_recheck_tasks`).
const RECHECK_TASK: &str = "recheck.opinion";
const RECHECK_GROUP: &str = "recheck";

/// R-R7: the approved budget changed (a filing, or an approved change request).
fn budget_adjusted(case_id: Uuid, c: &ChangeRecord) -> Payload {
    Payload::BudgetAdjusted(ev::BudgetAdjusted {
        project_id: case_id.to_string(),
        old_budget_fen: c.old_budget_fen,
        new_budget_fen: c.new_budget_fen,
        change_id: c.change_id.to_string(),
        route: c.route.clone(),
    })
}

/// The registry status shown when a case enters `stage`.
fn stage_status(stage: Stage) -> &'static str {
    match stage {
        Stage::PreliminaryReview => "初审 PRELIMINARY_REVIEW",
        Stage::ExpertReview => "专家评审 EXPERT_REVIEW",
        Stage::ReCheck => "复核审查 RE_CHECK",
        Stage::JointMeeting => "联席会议 JOINT_MEETING",
        Stage::Approval => "立项审批 APPROVAL",
        Stage::Approved => "已立项 APPROVED",
        Stage::Returned => "退回修改 RETURNED",
        Stage::Ended => "申报结束 ENDED",
        Stage::Cancelled => "取消立项 APPROVAL_CANCELLED",
        Stage::Terminated => "撤销/终止 TERMINATED",
    }
}
