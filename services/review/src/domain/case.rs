//! The review case's state machine (评审立项): every transition a pure function of the case, the
//! command and the [`Context`] (now, today, the pinned policy), returning the [`Change`] (the
//! new case with the tasks it owns, what happened, the events and timers) or a [`Refusal`]
//! naming its rules.
//!
//! ```text
//! PRELIMINARY_REVIEW ─pass (R-R1)─▶ EXPERT_REVIEW ─pass + revised materials (R-R2)─▶ RE_CHECK ─pass (R-R3)─▶ JOINT_MEETING ─pass (R-R4)─▶ APPROVAL ─issue─▶ APPROVED
//!   │ fail ─▶ ENDED          (any reviewing stage) ─return─▶ RETURNED ─resubmit─▶ back          fast track (R-R5) ───────────────▶ APPROVAL      │ R-R6 / R-P1 ─▶ CANCELLED
//!   └ withdraw (before approval) ─▶ ENDED                                                                          R-P10 (any stage) ─▶ TERMINATED └ R-R7 changes
//! ```
//!
//! A step taken out of order is refused under the rule whose order it breaks (see
//! [`rules::stage_rule`]) with words saying where the case stands and what comes first.

use egov_platform::{
    auth::Role,
    error::Refusal,
    transition::{Change, Context},
    values::Fen,
};
use egov_proto::events::{self as ev, event_envelope::Payload};
use uuid::Uuid;

use super::{
    change::{ChangeEvent, ChangeRoute, ChangeState},
    events::{self, stage_status, types},
    meeting::{self, Meeting},
    model::*,
    panel,
    rules::{self, ApprovalInput, JointMeetingInput, RecheckInput},
    validity,
    workflow::{self, PRELIMINARY_GROUP, PRELIMINARY_TASK, RECHECK_GROUP, RECHECK_TASK, Task, TaskState},
};

/// Who acts on a task: the role and the person (the token's subject).
#[derive(Debug, Clone, Copy)]
pub struct Participant<'a> {
    pub role: Role,
    pub subject: &'a str,
}

/// Opens one task per role in `group` (completion: all must act), each with its reminder and
/// escalation timers.
fn open_tasks(change: Change<ReviewCase>, kind: &str, group: &str, roles: &[Role], ctx: Context<'_>) -> Change<ReviewCase> {
    let Change { mut state, mut effects } = change;
    for role in roles {
        let t = Task::new(state.case_id, kind, group, *role, &state.policy_version, ctx.now, ctx.policy.review_task_days);
        effects.timers.extend(workflow::timers(&t, ctx.policy.review_reminder_hours));
        state.tasks.push(t);
    }
    Change { state, effects }
}

/// The preliminary review's tasks: one per required participant (R-R1).
fn open_preliminary_tasks(change: Change<ReviewCase>, ctx: Context<'_>) -> Change<ReviewCase> {
    let roles: Vec<Role> = change.state.required_participants.iter().filter_map(|r| Role::parse(r)).collect();
    open_tasks(change, PRELIMINARY_TASK, PRELIMINARY_GROUP, &roles, ctx)
}

/// The re-check's tasks: DRB, DRC and FINANCE (R-R3).
fn open_recheck_tasks(change: Change<ReviewCase>, ctx: Context<'_>) -> Change<ReviewCase> {
    open_tasks(change, RECHECK_TASK, RECHECK_GROUP, &rules::RECHECK_PARTICIPANTS, ctx)
}

/// A case opens for a project that passed compliance, pinned to the application's policy
/// version: on the fast track (R-R5) straight to the approval, otherwise to the preliminary
/// review with one task per participant (R-R1).
pub fn open(case_id: Uuid, dossier: Dossier, unit_record: Vec<UnitRecordEntry>, ctx: Context<'_>) -> Change<ReviewCase> {
    let case = rules::open_case(case_id, dossier, unit_record, ctx.policy.version.clone(), ctx.now);
    let payload = Payload::ReviewCaseOpened(ev::ReviewCaseOpened {
        case_id: case_id.to_string(),
        fast_track: case.fast_track,
        stage: case.stage.as_str().into(),
    });
    let rule = if case.fast_track { "R-R5" } else { "R-R1" };
    let preliminary = case.stage == Stage::PreliminaryReview;
    let change = Change::new(case, "OpenCase").rules(&[rule]).event(types::CASE_OPENED, payload);
    if preliminary { open_preliminary_tasks(change, ctx) } else { change }
}

/// The live task `task_id` of `kind` on this case, done by `by`, and its cancelled timers.
fn complete_task(
    case: &mut ReviewCase,
    task_id: Uuid,
    kind: &str,
    by: Participant<'_>,
    comment: &str,
) -> Result<Vec<egov_platform::transition::TimerOp>, Refusal> {
    let Some(t) = case.tasks.iter_mut().find(|t| t.task_id == task_id && t.kind == kind) else {
        return Err(Refusal::field("task_id", format!("not a {kind} task of this case")));
    };
    let (done, ops) = workflow::complete(t, by.subject, comment)?;
    *t = done;
    Ok(ops)
}

/// R-R1: a participant scores and gives its opinion on its task.
pub fn submit_opinion(
    case: &ReviewCase,
    task_id: Uuid,
    by: Participant<'_>,
    scores: Vec<(String, u32)>,
    passed: bool,
    opinion: &str,
    ctx: Context<'_>,
) -> Result<Change<ReviewCase>, Refusal> {
    let mut next = case.clone();
    let ops = complete_task(&mut next, task_id, PRELIMINARY_TASK, by, opinion.trim())?;
    rules::check_opinion(case, by.role, opinion)?;
    let weighted = rules::weighted_score(&ctx.policy.preliminary_scoring_sheet, &scores)?;
    next.opinions.push(Opinion {
        role: by.role.as_str().into(),
        subject: by.subject.to_string(),
        scores,
        weighted_centi: weighted,
        passed,
        opinion: opinion.trim().into(),
        at: ctx.now,
    });
    let mut change = Change::new(next, "SubmitPreliminaryOpinion")
        .rules(&["R-R1"])
        .reason(opinion.trim())
        .detail("task_id", task_id.to_string())
        .detail("opinion", serde_json::json!({ "passed": passed, "weighted_score_centi": weighted }));
    change.effects.timers.extend(ops);
    Ok(change)
}

/// Ends the case at its current stage: the stage, the reason, and `review.application.ended`.
fn end(mut change: Change<ReviewCase>, reason: String, rule_ids: &[&str]) -> Change<ReviewCase> {
    change.state.stage = Stage::Ended;
    change.state.end_reason = reason;
    let payload = events::ended(&change.state, &change.state.end_reason, rule_ids);
    change.event(types::ENDED, payload)
}

/// R-R1: DRB decides once every participant has scored and every task is done; a fail ends the
/// application.
pub fn decide_preliminary(
    case: &ReviewCase,
    passed: bool,
    comment: &str,
    by: &str,
    ctx: Context<'_>,
) -> Result<Change<ReviewCase>, Refusal> {
    let aggregate = rules::decide_preliminary(case)?;
    let (done, total) = workflow::progress(case.tasks_of(PRELIMINARY_GROUP));
    if !workflow::Completion::All.satisfied(done, total) {
        return Err(Refusal::rule("R-R1", "tasks", format!("{done} of {total} participants' tasks are done")));
    }
    let comment = comment.trim();
    let mut next = case.clone();
    next.preliminary = Some(Decision {
        passed,
        comment: comment.into(),
        decided_by: by.to_string(),
        decided_at: ctx.now,
        policy_version: ctx.policy.version.clone(),
        aggregate_centi: aggregate,
    });
    let payload = Payload::PreliminaryDecided(ev::PreliminaryDecided {
        case_id: case.case_id.to_string(),
        passed,
        aggregate_score_centi: aggregate as i32,
        comment: comment.into(),
    });
    let change = Change::new(next, "DecidePreliminary").rules(&["R-R1"]).reason(comment).event(types::PRELIMINARY_DECIDED, payload);
    if passed {
        Ok(change.map(|mut k| {
            k.stage = Stage::ExpertReview;
            k
        }))
    } else {
        Ok(end(change, format!("初审未通过，本次申报结束 / preliminary review failed: {comment}"), &["R-R1"]))
    }
}

/// 退回: DRB returns a case under review to the unit; its live tasks are suspended.
pub fn return_for_revision(case: &ReviewCase, comment: &str, _ctx: Context<'_>) -> Result<Change<ReviewCase>, Refusal> {
    rules::return_for_revision(case)?;
    let mut next = case.clone();
    workflow::move_tasks(&mut next.tasks, &[TaskState::Open, TaskState::Claimed], TaskState::Suspended);
    next.returned_from = Some(case.stage);
    next.stage = Stage::Returned;
    let payload = Payload::CaseReturned(ev::CaseReturned { case_id: case.case_id.to_string(), comment: comment.trim().into() });
    Ok(Change::new(next, "ReturnForRevision").reason(comment.trim()).event(types::CASE_RETURNED, payload))
}

/// The unit resubmits: the case goes back to the stage it left and is reviewed afresh (the
/// suspended tasks are cancelled and new ones open).
pub fn resubmit(case: &ReviewCase, comment: &str, ctx: Context<'_>) -> Result<Change<ReviewCase>, Refusal> {
    let back = rules::resubmit(case)?;
    let mut next = case.clone();
    let ops = workflow::move_tasks(&mut next.tasks, &[TaskState::Suspended], TaskState::Cancelled);
    next.stage = back;
    next.returned_from = None;
    if back == Stage::PreliminaryReview {
        next.opinions.clear();
    }
    if back == Stage::ReCheck {
        next.recheck_opinions.clear();
    }
    let mut change = Change::new(next, "ResubmitCase")
        .reason(comment.trim())
        .event(types::CASE_RESUBMITTED, events::status_changed(stage_status(back), "resubmitted after revision (退回后重新提交)"));
    change.effects.timers.extend(ops);
    Ok(match back {
        Stage::PreliminaryReview => open_preliminary_tasks(change, ctx),
        Stage::ReCheck => open_recheck_tasks(change, ctx),
        _ => change,
    })
}

/// The unit withdraws its application before approval; every task of the case is cancelled.
pub fn withdraw(case: &ReviewCase, reason: &str, _ctx: Context<'_>) -> Result<Change<ReviewCase>, Refusal> {
    rules::withdraw(case)?;
    let mut next = case.clone();
    let ops = workflow::move_tasks(&mut next.tasks, &[TaskState::Open, TaskState::Claimed, TaskState::Suspended], TaskState::Cancelled);
    let mut change = Change::new(next, "WithdrawCase").reason(reason.trim());
    change.effects.timers.extend(ops);
    Ok(end(change, format!("单位撤回申报 / withdrawn by the unit: {}", reason.trim()), &[]))
}

/// R-R4 (R-R5 on the fast track): DRB issues the approval document; an outside-funded approval
/// is valid for the policy's years (R-R6), and its cancellation timer is set.
pub fn issue_approval(case: &ReviewCase, input: &ApprovalInput, ctx: Context<'_>) -> Result<Change<ReviewCase>, Refusal> {
    let approval = rules::issue_approval(case, input, ctx.today, ctx.policy)?;
    let mut rule_ids = vec!["R-R4"];
    if case.fast_track {
        rule_ids.push("R-R5");
    }
    if approval.valid_until.is_some() {
        rule_ids.push("R-R6");
    }
    let payload = events::approved(case, &approval);
    let lapses = validity::lapses_at(approval.issued_on, &approval.funding_source, ctx.policy);
    let reason = approval.document_number.clone();
    let mut next = case.clone();
    next.approval = Some(approval);
    next.stage = Stage::Approved;
    let change = Change::new(next, "IssueApproval").rules(&rule_ids).reason(reason).event(types::APPROVED, payload);
    Ok(match lapses {
        Some(due) => change.set_timer(validity::APPROVAL_VALIDITY, case.case_id.to_string(), due, serde_json::json!({})),
        None => change,
    })
}

/// R-R3: DRB, DRC or FINANCE gives its re-check opinion on its task.
pub fn submit_recheck_opinion(
    case: &ReviewCase,
    task_id: Uuid,
    by: Participant<'_>,
    passed: bool,
    opinion: &str,
    ctx: Context<'_>,
) -> Result<Change<ReviewCase>, Refusal> {
    let mut next = case.clone();
    let ops = complete_task(&mut next, task_id, RECHECK_TASK, by, opinion.trim())?;
    rules::check_recheck_opinion(case, by.role, opinion)?;
    next.recheck_opinions.push(Opinion {
        role: by.role.as_str().into(),
        subject: by.subject.to_string(),
        scores: vec![],
        weighted_centi: 0,
        passed,
        opinion: opinion.trim().into(),
        at: ctx.now,
    });
    let mut change = Change::new(next, "SubmitRecheckOpinion")
        .rules(&["R-R3"])
        .reason(opinion.trim())
        .detail("task_id", task_id.to_string())
        .detail("opinion", serde_json::json!({ "passed": passed }));
    change.effects.timers.extend(ops);
    Ok(change)
}

/// R-R3: DRB concludes the re-check with the funding arrangement; a fail ends the application.
pub fn conclude_recheck(case: &ReviewCase, input: &RecheckInput, by: &str, ctx: Context<'_>) -> Result<Change<ReviewCase>, Refusal> {
    let progress = workflow::progress(case.tasks_of(RECHECK_GROUP));
    let conclusion = rules::conclude_recheck(case, input, progress, by, ctx.now)?;
    let passed = conclusion.passed;
    let summary = if passed {
        format!(
            "re-check passed (复核通过): funding priority {}, fiscal year {}, {} fen; goes to the joint meeting",
            conclusion.priority_rank, conclusion.fiscal_year, conclusion.amount_fen
        )
    } else {
        format!("re-check failed (复核未通过): {}", conclusion.comment)
    };
    let stage = if passed { Stage::JointMeeting } else { Stage::Ended };
    let change = Change::new(case.clone(), "ConcludeRecheck")
        .rules(&["R-R3"])
        .reason(conclusion.comment.clone())
        .detail("passed", passed)
        .detail("priority_rank", conclusion.priority_rank)
        .detail("fiscal_year", conclusion.fiscal_year)
        .detail("amount_fen", conclusion.amount_fen)
        .event(types::RECHECK_CONCLUDED, events::status_changed(stage_status(stage), summary));
    let reason = format!("复核审查未通过，本次申报结束 / re-check failed: {}", conclusion.comment);
    let change = change.map(|mut k| {
        k.recheck = Some(conclusion);
        k.stage = Stage::JointMeeting;
        k
    });
    Ok(if passed { change } else { end(change, reason, &["R-R3"]) })
}

/// R-R4: DRB records the joint meeting's outcome; a pass moves the case to its approval, a fail
/// ends the application.
pub fn record_joint_meeting(
    case: &ReviewCase,
    input: &JointMeetingInput,
    by: &str,
    ctx: Context<'_>,
) -> Result<Change<ReviewCase>, Refusal> {
    let outcome = rules::record_joint_meeting(case, input, ctx.today, by)?;
    let reason = if outcome.comment.is_empty() { outcome.meeting_ref.clone() } else { outcome.comment.clone() };
    let passed = outcome.passed;
    let (stage, summary) = if passed {
        (
            Stage::Approval,
            format!("passed by the joint meeting {} of {}; the approval document follows", outcome.meeting_ref, outcome.held_on),
        )
    } else {
        (Stage::Ended, format!("not passed by the joint meeting {} of {}: {}", outcome.meeting_ref, outcome.held_on, outcome.comment))
    };
    let end_reason = format!("联席会议未通过，本次申报结束 / not passed by the joint meeting {}: {}", outcome.meeting_ref, outcome.comment);
    let change = Change::new(case.clone(), "RecordJointMeeting")
        .rules(&["R-R4"])
        .reason(reason)
        .detail("passed", passed)
        .detail("meeting_ref", outcome.meeting_ref.clone())
        .detail("held_on", outcome.held_on.to_string())
        .event(types::JOINT_MEETING_RECORDED, events::status_changed(stage_status(stage), summary))
        .map(|mut k| {
            k.joint_meeting = Some(outcome);
            k.stage = Stage::Approval;
            k
        });
    Ok(if passed { change } else { end(change, end_reason, &["R-R4"]) })
}

/// R-R6: the outside funds of a time-limited approval were secured in time; the cancellation
/// timer stops.
pub fn record_funds_secured(
    case: &ReviewCase,
    evidence: &[String],
    comment: &str,
    ctx: Context<'_>,
) -> Result<Change<ReviewCase>, Refusal> {
    rules::check_funds_secured(case, ctx.today, evidence)?;
    let evidence: Vec<String> = evidence.iter().map(|e| e.trim().to_string()).collect();
    let mut next = case.clone();
    let mut until = String::new();
    if let Some(a) = next.approval.as_mut() {
        a.funds_secured = true;
        until = a.valid_until.map(|d| d.to_string()).unwrap_or_default();
    }
    let comment = comment.trim();
    let reason = if comment.is_empty() { "资金已落实 / funds secured" } else { comment };
    let summary = format!("outside funds secured within the approval's validity (through {until}); evidence {}", evidence.join(", "));
    Ok(Change::new(next, "RecordFundsSecured")
        .rules(&["R-R6"])
        .reason(reason)
        .detail("evidence_document_ids", evidence)
        .detail("valid_until", until)
        .event(types::FUNDS_SECURED, events::status_changed(stage_status(Stage::Approved), summary))
        .cancel_timer(validity::APPROVAL_VALIDITY, case.case_id.to_string()))
}

/// R-R7: the lead unit asks to change the approved budget. A reduction of at most the policy's
/// share is filed and adjusts the budget at once; a larger one awaits DRB's departmental review.
pub fn request_change(
    case: &ReviewCase,
    change_id: Uuid,
    new_budget: Fen,
    reason: &str,
    by: &str,
    ctx: Context<'_>,
) -> Result<Change<ReviewCase>, Refusal> {
    let route = rules::request_change(case, new_budget, reason, ctx.policy)?;
    let mut next = case.clone();
    let Some(a) = next.approval.as_mut() else {
        return Err(rules::out_of_order("R-R7", "变更 / change: a change is made to an approved project (立项后)"));
    };
    let record = ChangeRecord {
        change_id,
        old_budget_fen: a.budget_fen,
        new_budget_fen: new_budget,
        route: route.as_str().into(),
        state: route.initial_state().as_str().into(),
        reason: reason.trim().into(),
        requested_by: by.to_string(),
        requested_at: ctx.now,
    };
    let (event, payload) = if route == ChangeRoute::InternalControlFiling {
        // 内控流程并向区数据资源局备案: the filing itself adjusts the budget.
        a.budget_fen = new_budget;
        (types::CHANGE_FILED, events::budget_adjusted(case, &record))
    } else {
        // DRB's cue to convene the departmental review (informational on the registry: the
        // project stays approved meanwhile).
        let summary = format!(
            "change request {}: budget {} → {} fen, awaiting departmental review (变更申请, R-R7)",
            record.change_id,
            record.old_budget_fen.get(),
            record.new_budget_fen.get()
        );
        (types::CHANGE_REQUESTED, events::status_changed("", summary))
    };
    let change = Change::new(next, "RequestChange")
        .rules(&["R-R7"])
        .reason(record.reason.clone())
        .detail("change_id", record.change_id.to_string())
        .detail("route", record.route.clone())
        .detail("old_budget_fen", record.old_budget_fen.get())
        .detail("new_budget_fen", record.new_budget_fen.get())
        .event(event, payload);
    Ok(change.map(|mut k| {
        k.changes.push(record);
        k
    }))
}

/// R-R7: DRB's departmental review, then the expert review, of a change request; an approved
/// change adjusts the budget.
pub fn decide_change(
    case: &ReviewCase,
    change_id: Uuid,
    event: ChangeEvent,
    comment: &str,
    _ctx: Context<'_>,
) -> Result<Change<ReviewCase>, Refusal> {
    let (i, state) = rules::decide_change(case, change_id, event)?;
    let mut next = case.clone();
    next.changes[i].state = state.as_str().into();
    let record = next.changes[i].clone();
    let mut change = Change::new(next, "DecideChange")
        .rules(&["R-R7"])
        .reason(comment.trim())
        .detail("change_id", change_id.to_string())
        .detail("review", event.label())
        .detail("state", state.as_str());
    if state == ChangeState::Approved {
        if let Some(a) = change.state.approval.as_mut() {
            a.budget_fen = record.new_budget_fen;
        }
        change = change.event(types::BUDGET_ADJUSTED, events::budget_adjusted(case, &record));
    }
    Ok(change)
}

/// Why an approval in force is cancelled (取消立项指标).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancellation {
    /// R-R6: the validity of an outside-funded approval lapsed without its funds secured.
    ValidityLapsed,
    /// R-P1: procurement was not completed within its deadline after approval.
    ProcurementDeadlineMissed,
}

impl Cancellation {
    pub fn rule(self) -> &'static str {
        match self {
            Cancellation::ValidityLapsed => "R-R6",
            Cancellation::ProcurementDeadlineMissed => "R-P1",
        }
    }
}

/// R-R6 or R-P1: the approval in force is cancelled, whoever notices (the validity timer, or
/// procurement's deadline-missed event). `None` when there is nothing to cancel: no approval,
/// cancelled already, the case moved on (terminated), or, for R-R6, the funds were secured.
pub fn cancel_approval(case: &ReviewCase, why: Cancellation, _ctx: Context<'_>) -> Option<Change<ReviewCase>> {
    let a = case.approval.as_ref().filter(|a| !a.cancelled && case.stage == Stage::Approved)?;
    if why == Cancellation::ValidityLapsed && a.funds_secured {
        return None;
    }
    let reason = match why {
        Cancellation::ValidityLapsed => format!(
            "立项文件有效期内未落实资金，取消立项指标 / funds not secured by {}",
            a.valid_until.map(|d| d.to_string()).unwrap_or_default()
        ),
        Cancellation::ProcurementDeadlineMissed => {
            "采购未在立项后规定期限内完成，取消立项指标 / procurement not completed in time after approval".to_string()
        }
    };
    let mut next = case.clone();
    if let Some(a) = next.approval.as_mut() {
        a.cancelled = true;
        a.cancel_reason = reason.clone();
        a.cancelled_under = why.rule().to_string();
    }
    next.stage = Stage::Cancelled;
    next.end_reason = reason.clone();
    let payload = Payload::ApprovalCancelled(ev::ApprovalCancelled {
        project_id: case.case_id.to_string(),
        reason: reason.clone(),
        rule_ids: vec![why.rule().to_string()],
    });
    Some(
        Change::new(next, "CancelApproval")
            .rules(&[why.rule()])
            .reason(reason)
            .event(types::APPROVAL_CANCELLED, payload)
            .cancel_timer(validity::APPROVAL_VALIDITY, case.case_id.to_string()),
    )
}

/// R-R7: once procurement completes, the main content no longer changes. `None` on redelivery.
pub fn procurement_completed(case: &ReviewCase, _ctx: Context<'_>) -> Option<Change<ReviewCase>> {
    if case.procurement_completed {
        return None;
    }
    let mut next = case.clone();
    next.procurement_completed = true;
    Some(
        Change::new(next, "ProcurementCompleted")
            .rules(&["R-R7"])
            .reason("采购已完成，不再受理变更 / procurement completed: no further changes"),
    )
}

/// R-P10: the project was revoked or terminated; its approval stays on record, but nothing
/// more happens to it here (no changes, no R-R6 validity check). `None` on redelivery.
pub fn terminate(case: &ReviewCase, kind: &str, reason: &str, _ctx: Context<'_>) -> Option<Change<ReviewCase>> {
    if case.stage == Stage::Terminated {
        return None;
    }
    let reason = format!(
        "项目{} / the project was {} under R-P10: {}",
        if kind == "REVOKED" { "撤销" } else { "终止" },
        kind.to_lowercase(),
        reason
    );
    let mut next = case.clone();
    next.stage = Stage::Terminated;
    next.end_reason = reason.clone();
    Some(
        Change::new(next, "ProjectTerminated")
            .rules(&["R-P10"])
            .reason(reason)
            .cancel_timer(validity::APPROVAL_VALIDITY, case.case_id.to_string()),
    )
}

/// R-R2: materials are uploaded while the case is in expert review.
pub fn accept_material(case: &ReviewCase) -> Result<(), Refusal> {
    if case.stage != Stage::ExpertReview {
        return Err(rules::out_of_order(
            "R-R2",
            format!(
                "专家评审 / expert review: materials are uploaded while the case is in expert review (after the preliminary \
                 review passed); this case is {}",
                rules::stage_words(case.stage)
            ),
        ));
    }
    Ok(())
}

/// R-R2, R-X1: a document joins the case's materials. After a passed expert review, the revised
/// report and revision list (uploaded again) move the case to the re-check (R-R3), whose tasks
/// open.
pub fn add_material(case: &ReviewCase, doc: CaseDocument, ctx: Context<'_>) -> Result<Change<ReviewCase>, Refusal> {
    accept_material(case)?;
    let mut next = case.clone();
    let details = serde_json::json!({
        "document_id": doc.document_id.to_string(), "kind": doc.kind, "size": doc.size_bytes, "sha256": doc.sha256, "sm3": doc.sm3,
    });
    next.expert.documents.push(doc);
    let revised = meeting::revised_after_conclusion(&next);
    if revised {
        next.expert.revised_after_conclusion = true;
    }
    let mut change = Change::new(next, "UploadMaterial").rules(&["R-R2", "R-X1"]);
    if let serde_json::Value::Object(d) = details {
        change.effects.details.extend(d);
    }
    if !revised {
        return Ok(change);
    }
    let change = change.event(
        types::RECHECK_STARTED,
        events::status_changed(
            stage_status(Stage::ReCheck),
            "revised report and revision list uploaded after the expert review; re-check by DRB, DRC, FINANCE",
        ),
    );
    Ok(enter_recheck(change, ctx))
}

/// R-R3: the case enters the re-check, whose tasks open (DRB, DRC, FINANCE).
pub fn enter_recheck(change: Change<ReviewCase>, ctx: Context<'_>) -> Change<ReviewCase> {
    let change = change.map(|mut k| {
        k.stage = Stage::ReCheck;
        k
    });
    open_recheck_tasks(change, ctx)
}

/// What DRB or FINANCE concludes for the panel (专家组意见).
#[derive(Debug, Clone)]
pub struct ExpertVerdict {
    pub passed: bool,
    pub recommended_budget: Fen,
    pub opinion: String,
}

/// R-R2: the panel's conclusion on a case of `meeting` (the case's meeting, `None` when it is on
/// none), once every panel expert has scored it; a fail ends the application.
pub fn conclude_expert_review(
    case: &ReviewCase,
    meeting: Option<&Meeting>,
    verdict: &ExpertVerdict,
    by: &str,
    ctx: Context<'_>,
) -> Result<Change<ReviewCase>, Refusal> {
    if case.stage != Stage::ExpertReview || case.expert.conclusion.is_some() {
        return Err(rules::out_of_order(
            rules::stage_rule(case),
            format!(
                "专家评审 / expert review: the panel concludes on a case in expert review that awaits its conclusion; this case \
                 is {}{}",
                rules::stage_words(case.stage),
                if case.expert.conclusion.is_some() { " and its expert review is concluded already" } else { "" }
            ),
        ));
    }
    let Some(meeting) = meeting else {
        return Err(Refusal::rule("R-R2", "meeting_id", "the case is not on an expert review meeting: it is scheduled on one first"));
    };
    let scores = meeting::scores_of(meeting, case.case_id);
    let c = panel::conclude(&meeting.panel, &scores, verdict.passed, verdict.recommended_budget.get(), case.dossier.total_budget_fen)?;
    let opinion = verdict.opinion.trim();
    let mut next = case.clone();
    next.expert.conclusion = Some(ExpertConclusion {
        passed: c.passed,
        recommended_budget_fen: c.recommended_budget_fen,
        opinion: opinion.into(),
        mean_scores: c.mean_scores.iter().map(|(d, v)| (d.as_str().to_string(), *v)).collect(),
        experts: meeting.panel.iter().map(|e| e.expert_id.clone()).collect(),
        concluded_by: by.to_string(),
        concluded_at: ctx.now,
    });
    let (status, summary) = if c.passed {
        (
            "专家评审通过 EXPERT_PASSED",
            format!(
                "expert review passed, recommended budget {} fen; the unit uploads the revised report and revision list",
                c.recommended_budget_fen
            ),
        )
    } else {
        ("申报结束 ENDED", format!("expert review failed: {opinion}"))
    };
    let change = Change::new(next, "ConcludeExpertReview")
        .rules(&["R-R2"])
        .reason(opinion)
        .detail("passed", c.passed)
        .detail("recommended_budget_fen", c.recommended_budget_fen)
        .event(types::EXPERT_CONCLUDED, events::status_changed(status, summary));
    Ok(if c.passed {
        change
    } else {
        end(change, format!("专家评审未通过，本次申报结束 / expert review failed: {opinion}"), &["R-R2"])
    })
}
