//! The application's state machine (项目申报): every transition a pure function of the
//! application, the command and the [`Context`] (now, policy), returning the [`Change`] (the new
//! application, what happened, events, timers) or a [`Refusal`] naming its rules.
//!
//! ```text
//! DRAFT ──submit──▶ SUBMITTED ──pass──▶ COMPLIANCE_PASSED ─▶ (review)
//!   │ ▲                  └─fail─▶ COMPLIANCE_FAILED ──re-review──▶ RE_REVIEW_REQUESTED ─pass─▶ COMPLIANCE_PASSED
//!   │ └─decided── AWAITING_SUPPLEMENTARY_DECISION        │ timer (deadline lapsed)        └─fail─▶ ENDED
//!   └─request supplementary─┘                             └──────────────▶ ENDED
//! ```
//!
//! A step taken out of order is refused under the rule whose order it breaks: the compliance
//! review of R-I11, the supplementary procedure of R-I3, the consent of R-I6.

use egov_platform::{
    error::{Refusal, RuleViolation},
    transition::{Change, Context},
};
use egov_proto::events::{self as ev, event_envelope::Payload};
use uuid::Uuid;

use super::{
    events::{self, types},
    model::*,
    rules::{self, ComplianceOutcome, SubmissionFacts},
};

/// Timer: the re-review window of R-I11 has lapsed (key: the application id).
pub const RE_REVIEW_DEADLINE: &str = "intake.re_review_deadline";

/// Registry status of a draft, as the timeline shows it.
pub const DRAFT_STATUS: &str = "申报草稿 DRAFT";

/// Refuses a step out of order under `rule`, saying what has to happen first.
fn out_of_order(rule: &str, what: String) -> Refusal {
    Refusal::Rules(vec![RuleViolation::new(rule, "state", what)])
}

/// Why the dossier cannot be edited, or submitted again, in the application's state.
fn not_editable(app: &Application, step: &str) -> Refusal {
    match app.state {
        ApplicationState::AwaitingSupplementaryDecision => {
            out_of_order("R-I3", format!("{step}: the supplementary request (增补项目) awaits DRB's decision (一事一议); wait for it"))
        }
        ApplicationState::Submitted | ApplicationState::ReReviewRequested => out_of_order(
            "R-I11",
            format!("{step}: the dossier is under compliance review (合规性审查); it is revised after a failed review"),
        ),
        ApplicationState::CompliancePassed => out_of_order(
            "R-I11",
            format!("{step}: compliance review has passed and the dossier is with the review service; changes follow its procedure"),
        ),
        ApplicationState::Ended => out_of_order("R-I11", format!("{step}: the application has ended (本次申报结束): {}", app.end_reason)),
        ApplicationState::Draft | ApplicationState::ComplianceFailed => out_of_order(
            "R-I11",
            format!("{step}: after a failed compliance review the unit revises the dossier and asks for its one re-review (复审)"),
        ),
    }
}

/// A new draft (申报草稿) of `lead_unit_id`.
pub fn create(id: Uuid, lead_unit_id: String, draft: Draft, ctx: Context<'_>) -> Change<Application> {
    let app = Application::new(id, lead_unit_id, draft, ctx.policy.version.clone(), ctx.now);
    let payload = Payload::ApplicationCreated(ev::ApplicationCreated {
        application_id: id.to_string(),
        lead_unit_id: app.lead_unit_id.clone(),
        name: app.draft.name.clone(),
    });
    Change::new(app, "CreateApplication").event(types::APPLICATION_CREATED, payload)
}

/// The unit edits its dossier: while a draft, or while revising after a failed compliance review.
pub fn update_draft(app: &Application, draft: Draft, _ctx: Context<'_>) -> Result<Change<Application>, Refusal> {
    if !matches!(app.state, ApplicationState::Draft | ApplicationState::ComplianceFailed) {
        return Err(not_editable(app, "the dossier cannot be edited now"));
    }
    let mut next = app.clone();
    next.draft = draft;
    Ok(Change::new(next, "UpdateApplication"))
}

/// R-I6: the district leader in charge consents (分管区领导同意), before submission.
pub fn record_leader_consent(app: &Application, by: &str, comment: &str, ctx: Context<'_>) -> Result<Change<Application>, Refusal> {
    if !matches!(app.state, ApplicationState::Draft | ApplicationState::AwaitingSupplementaryDecision | ApplicationState::ComplianceFailed)
    {
        return Err(out_of_order("R-I6", format!("the leader's consent is recorded before submission; this application is {}", app.state)));
    }
    if !app.draft.follows_business_application_flow() {
        return Err(Refusal::rule(
            "R-I6",
            "draft.category",
            "only business-application projects (and 信创 retrofits) need the leader's consent",
        ));
    }
    let mut next = app.clone();
    next.leader_consent = Some(LeaderConsent { by: by.to_string(), comment: comment.trim().to_string(), at: ctx.now });
    Ok(Change::new(next, "RecordLeaderConsent").rules(&["R-I6"]).reason(comment.trim()).event(
        types::LEADER_CONSENT_RECORDED,
        events::status_changed(DRAFT_STATUS, format!("分管区领导同意 / leader consent recorded by {by}")),
    ))
}

/// R-I3: outside a round, the unit asks to apply as a supplementary project (增补项目).
pub fn request_supplementary(app: &Application, justification: &str, _ctx: Context<'_>) -> Result<Change<Application>, Refusal> {
    rules::request_supplementary(app, justification)?;
    let mut next = app.clone();
    next.state = ApplicationState::AwaitingSupplementaryDecision;
    next.supplementary = SupplementaryStatus::Requested;
    next.urgency_justification = justification.trim().to_string();
    let reason = next.urgency_justification.clone();
    Ok(Change::new(next, "RequestSupplementary").rules(&["R-I3"]).reason(reason).event(
        types::SUPPLEMENTARY_REQUESTED,
        events::status_changed("增补待定 SUPPLEMENTARY_REQUESTED", "supplementary project requested (增补项目，一事一议)"),
    ))
}

/// R-I3: DRB accepts or refuses the supplementary request, case by case (一事一议).
pub fn decide_supplementary(app: &Application, accepted: bool, comment: &str, _ctx: Context<'_>) -> Result<Change<Application>, Refusal> {
    rules::decide_supplementary(app)?;
    if comment.trim().is_empty() {
        return Err(Refusal::field("comment", "the decision gives its reasons (一事一议)"));
    }
    let mut next = app.clone();
    next.state = ApplicationState::Draft;
    next.supplementary = if accepted { SupplementaryStatus::Accepted } else { SupplementaryStatus::Refused };
    let payload = Payload::SupplementaryDecided(ev::SupplementaryDecided {
        application_id: app.application_id.to_string(),
        accepted,
        comment: comment.trim().to_string(),
    });
    Ok(Change::new(next, "DecideSupplementary").rules(&["R-I3"]).reason(comment.trim()).event(types::SUPPLEMENTARY_DECIDED, payload))
}

/// Every rule the submission applies.
pub const SUBMISSION_RULES: [&str; 11] = ["R-I1", "R-I2", "R-I3", "R-I4", "R-I5", "R-I6", "R-I7", "R-I8", "R-I9", "R-I10", "R-I12"];

/// Submission: every intake rule at once (R-I1 … R-I12), every refusal listed. `not_screened` is
/// the R-I9 flag when no catalogue could be asked.
pub fn submit(app: &Application, facts: &SubmissionFacts<'_>, not_screened: Option<ReviewFlag>) -> Result<Change<Application>, Refusal> {
    ensure_submittable(app)?;
    let sub = rules::check_submission(app, facts)?;
    let mut next = app.clone();
    next.state = ApplicationState::Submitted;
    next.round_id = sub.round_id;
    next.flags = sub.flags;
    next.flags.extend(not_screened);
    next.screening = sub.screening;
    next.totals = sub.totals;
    next.submitted_at = Some(facts.now);
    let payload = Payload::ApplicationSubmitted(ev::ApplicationSubmitted {
        application_id: app.application_id.to_string(),
        lead_unit_id: app.lead_unit_id.clone(),
        round_id: next.round_id.map(|r| r.to_string()).unwrap_or_default(),
        supplementary: next.round_id.is_none(),
    });
    Ok(Change::new(next, "SubmitApplication").rules(&SUBMISSION_RULES).event(types::SUBMITTED, payload))
}

/// Only a draft is submitted (the state check of [`submit`], which the use case asks before it
/// asks evaluation anything).
pub fn ensure_submittable(app: &Application) -> Result<(), Refusal> {
    if app.state == ApplicationState::Draft { Ok(()) } else { Err(not_editable(app, "only a draft is submitted")) }
}

/// What the compliance-passed event carries besides the application.
#[derive(Debug, Clone, Default)]
pub struct ComplianceFacts {
    pub streets: Vec<String>,
    pub document_ids: Vec<String>,
    pub target_year: i32,
    pub record: Vec<Penalty>,
}

/// R-I11: DRB decides compliance (合规性审查) against the pinned checklist, or the one re-review
/// (复审). A pass goes to review; a first failure opens the re-review window (a timer ends the
/// application when it lapses unused); a failed re-review ends the application.
pub fn decide_compliance(
    app: &Application,
    results: &[ChecklistResult],
    comment: &str,
    decided_by: &str,
    facts: ComplianceFacts,
    ctx: Context<'_>,
) -> Result<Change<Application>, Refusal> {
    let (round, outcome) = rules::decide_compliance(app, &ctx.policy.compliance_checklist, results, ctx.now, ctx.policy)?;
    let mut next = app.clone();
    next.decisions.push(ComplianceDecision {
        round,
        passed: outcome == ComplianceOutcome::Passed,
        results: results.to_vec(),
        comment: comment.trim().to_string(),
        decided_by: decided_by.to_string(),
        decided_at: ctx.now,
        policy_version: ctx.policy.version.clone(),
    });
    let action = if round == 1 { "DecideCompliance" } else { "DecideReReview" };
    let id = app.application_id.to_string();
    let change = match outcome {
        ComplianceOutcome::Passed => {
            next.state = ApplicationState::CompliancePassed;
            let payload = events::compliance_passed(&next, facts.streets, facts.document_ids, facts.target_year, &facts.record);
            Change::new(next, action).event(types::COMPLIANCE_PASSED, payload)
        }
        ComplianceOutcome::Failed { failed_items, deadline, timer_due } => {
            next.state = ApplicationState::ComplianceFailed;
            next.re_review_deadline = Some(deadline);
            let payload = Payload::ComplianceFailed(ev::ComplianceFailed {
                application_id: id.clone(),
                failed_items,
                re_review_deadline: Some(egov_platform::convert::civil(deadline)),
            });
            Change::new(next, action).event(types::COMPLIANCE_FAILED, payload).set_timer(
                RE_REVIEW_DEADLINE,
                id.clone(),
                timer_due,
                serde_json::json!({ "application_id": id }),
            )
        }
        ComplianceOutcome::Ended { failed_items } => {
            next.state = ApplicationState::Ended;
            next.end_reason = format!("复审未通过 / re-review failed on {} (本次申报结束)", failed_items.join(", "));
            let payload = events::ended(&next, &next.end_reason, &["R-I11"]);
            Change::new(next, action).event(types::ENDED, payload)
        }
    };
    Ok(change.rules(&["R-I11"]).reason(comment.trim()))
}

/// R-I11: the unit asks for its one re-review (复审) within the window.
pub fn request_re_review(app: &Application, comment: &str, ctx: Context<'_>) -> Result<Change<Application>, Refusal> {
    rules::request_re_review(app, ctx.now)?;
    let mut next = app.clone();
    next.state = ApplicationState::ReReviewRequested;
    let id = app.application_id.to_string();
    let payload = Payload::ReReviewRequested(ev::ReReviewRequested { application_id: id.clone() });
    Ok(Change::new(next, "RequestReReview")
        .rules(&["R-I11"])
        .reason(comment.trim())
        .cancel_timer(RE_REVIEW_DEADLINE, id)
        .event(types::RE_REVIEW_REQUESTED, payload))
}

/// R-I11: the re-review window lapsed unused: the application ends (本次申报结束). `None` when
/// there is nothing to do (a re-review was requested in time, or the clock is early).
pub fn end_after_re_review_window(app: &Application, ctx: Context<'_>) -> Option<Change<Application>> {
    if !rules::re_review_deadline_passed(app, ctx.now) {
        return None;
    }
    let mut next = app.clone();
    next.state = ApplicationState::Ended;
    next.end_reason = format!(
        "no re-review requested by {} (未在期限内申请复审，本次申报结束)",
        app.re_review_deadline.map(|d| d.to_string()).unwrap_or_default()
    );
    let payload = events::ended(&next, &next.end_reason, &["R-I11"]);
    let reason = next.end_reason.clone();
    Some(Change::new(next, "EndApplication").rules(&["R-I11"]).reason(reason).event(types::ENDED, payload))
}

/// R-I4, R-I8: a document joins the dossier while it is editable (a draft, a supplementary
/// request awaiting its decision, or a revision after a failed compliance review); a street
/// research report names one of the district's streets, and only it names a street.
pub fn accept_document(app: &Application, kind: DocumentKind, street: &str, ctx: Context<'_>) -> Result<(), Refusal> {
    if !matches!(app.state, ApplicationState::Draft | ApplicationState::ComplianceFailed | ApplicationState::AwaitingSupplementaryDecision)
    {
        return Err(out_of_order(
            "R-I4",
            format!(
                "documents are added while the dossier is editable (a draft, or revising after a failed compliance review); this application is {}",
                app.state
            ),
        ));
    }
    match kind {
        DocumentKind::StreetResearchReport if !ctx.policy.streets.iter().any(|s| s == street) => Err(Refusal::field(
            "header.street",
            format!("a street research report names one of the district's streets: {}", ctx.policy.streets.join("、")),
        )),
        DocumentKind::StreetResearchReport => Ok(()),
        _ if !street.is_empty() => Err(Refusal::field("header.street", "only a street research report names a street")),
        _ => Ok(()),
    }
}

/// What adding a document records (R-X1): its kind, size and both hashes.
pub fn document_added(doc: &DocumentMeta, size: i64, sha256: &str, sm3: &str) -> egov_platform::transition::Effects {
    egov_platform::transition::Effects::new("UploadDocument")
        .rules(&["R-X1"])
        .detail("kind", doc.kind.as_str())
        .detail("size", size)
        .detail("sha256", sha256)
        .detail("sm3", sm3)
        .detail("street", doc.street.as_str())
}
