//! The project registry's timeline (状态时间线): every `egov` event about a project becomes one
//! entry, and the project's status is that of its latest event, so a unit asks "where is my
//! project" in one call. This is the pure part: what status and summary an event shows.

use egov_proto::events::{EventEnvelope, event_envelope::Payload};

/// A lifecycle status (Chinese term / English) and a one-line summary of an event; an empty
/// status marks an informational event that leaves the project's status as it is.
pub fn status_of(e: &EventEnvelope) -> (String, String) {
    let (status, summary): (&str, String) = match (&e.payload, e.r#type.as_str()) {
        (Some(Payload::ApplicationCreated(p)), _) => ("申报草稿 DRAFT", format!("application {:?} drafted by {}", p.name, p.lead_unit_id)),
        (Some(Payload::ApplicationSubmitted(p)), _) => (
            "合规性审查 COMPLIANCE_REVIEW",
            if p.supplementary {
                "submitted as a supplementary project (增补项目)".into()
            } else {
                format!("submitted into round {}", p.round_id)
            },
        ),
        (Some(Payload::ComplianceFailed(p)), _) => (
            "待复审 AWAITING_RE_REVIEW",
            format!(
                "compliance review failed on {}; re-review may be requested until {}",
                p.failed_items.join(", "),
                p.re_review_deadline.as_ref().map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default()
            ),
        ),
        (Some(Payload::ReReviewRequested(_)), _) => ("复审 RE_REVIEW", "re-review requested".into()),
        (Some(Payload::CompliancePassed(p)), _) => {
            ("初审 PRELIMINARY_REVIEW", format!("compliance passed; goes to preliminary review (budget {} fen)", p.total_budget_fen))
        }
        (Some(Payload::ApplicationEnded(p)), _) => ("申报结束 ENDED", format!("{} ({})", p.reason, p.rule_ids.join(", "))),
        (Some(Payload::SupplementaryDecided(p)), _) => (
            "申报草稿 DRAFT",
            if p.accepted {
                format!("supplementary request accepted: {}", p.comment)
            } else {
                format!("supplementary request refused: {}", p.comment)
            },
        ),
        (Some(Payload::ReviewCaseOpened(p)), _) => {
            if p.fast_track {
                ("立项审批 APPROVAL", "fast track (R-R5): approval follows compliance".into())
            } else {
                ("初审 PRELIMINARY_REVIEW", "review case opened: preliminary review by DRC, FINANCE, CAC, XINCHUANG".into())
            }
        }
        (Some(Payload::PreliminaryDecided(p)), _) if p.passed => {
            ("专家评审 EXPERT_REVIEW", format!("preliminary review passed (score {:.2})", f64::from(p.aggregate_score_centi) / 100.0))
        }
        (Some(Payload::PreliminaryDecided(p)), _) => ("初审未通过 PRELIMINARY_FAILED", format!("preliminary review failed: {}", p.comment)),
        (Some(Payload::CaseReturned(p)), _) => ("退回修改 RETURNED", format!("returned to the unit for revision: {}", p.comment)),
        (Some(Payload::ProjectApproved(p)), _) => (
            "已立项 APPROVED",
            format!("approval document {} issued: budget {} fen, funding {}", p.document_number, p.budget_fen, p.funding_source),
        ),
        (Some(Payload::ApprovalCancelled(p)), _) => ("取消立项 APPROVAL_CANCELLED", format!("{} ({})", p.reason, p.rule_ids.join(", "))),
        (Some(Payload::ProjectStatusChanged(p)), _) => return (p.status.clone(), p.summary.clone()),
        // Informational: shown on the timeline, the project's status stays.
        (Some(Payload::TaskOverdue(p)), _) => ("", format!("task {} of {} is overdue: escalated to DRB", p.kind, p.assignee_role)),
        (Some(Payload::BudgetAdjusted(p)), _) => {
            ("", format!("budget changed from {} to {} fen ({}, R-R7)", p.old_budget_fen, p.new_budget_fen, p.route))
        }
        (Some(Payload::ProcurementDeadlineMissed(p)), _) => (
            "",
            format!(
                "procurement not completed by its deadline {} (R-P1): the approval is cancelled",
                p.deadline.as_ref().map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default()
            ),
        ),
        (Some(Payload::ProcurementCompleted(_)), _) => ("采购完成 PROCURED", "procurement completed (R-P3, R-P4)".into()),
        (Some(Payload::ConstructionOverrunRecorded(p)), _) => ("", format!("{} — recorded against unit {}", p.reason, p.unit_id)),
        (Some(Payload::ConstructionCompleted(p)), _) => (
            "建设完成 CONSTRUCTION_COMPLETED",
            format!(
                "construction completed on {} ({} day(s) past the contract period); acceptance follows",
                p.completed_on.as_ref().map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default(),
                p.overrun_days
            ),
        ),
        (Some(Payload::ProjectTerminated(p)), _) => (
            if p.kind == "REVOKED" { "撤销 REVOKED" } else { "终止 TERMINATED" },
            format!("{} ({}), {} fen paid (R-P10): the project ends", p.reason, p.ground, p.paid_fen),
        ),
        // Acceptance (R-A1 … R-A5).
        (Some(Payload::AcceptanceCaseOpened(p)), _) => {
            ("初验 INITIAL_ACCEPTANCE", format!("acceptance opened ({}): the unit organises the initial acceptance (R-A1)", p.channel))
        }
        (Some(Payload::InitialAcceptanceConcluded(p)), _) if p.passed => (
            "试运行 TRIAL_OPERATION",
            format!(
                "initial acceptance passed on {}; the acceptance may be applied for from {} (R-A2)",
                date(&p.held_on),
                date(&p.trial_completes_on)
            ),
        ),
        (Some(Payload::InitialAcceptanceConcluded(p)), _) => {
            ("", format!("initial acceptance of {} did not pass: {}", date(&p.held_on), p.conclusion))
        }
        (Some(Payload::TrialReportDeposited(p)), _) => ("", format!("trial-operation report in ({})", p.source)),
        (Some(Payload::AcceptanceApplied(p)), _) => {
            ("验收申请 ACCEPTANCE_APPLIED", format!("acceptance applied for (attempt {}): DRB reviews it (R-A3)", p.attempt))
        }
        (Some(Payload::AcceptanceApplicationReviewed(p)), _) if p.approved => {
            ("验收 ACCEPTANCE", format!("DRB approved the application; the acceptance is organised by {} (R-A4)", p.organiser))
        }
        (Some(Payload::AcceptanceApplicationReviewed(p)), _) => ("", format!("DRB returned the acceptance application: {}", p.reasons)),
        (Some(Payload::ProjectAccepted(p)), _) => {
            ("运行 IN_OPERATION", format!("accepted on {}: the system is in use (R-A5)", date(&p.go_live_on)))
        }
        (Some(Payload::AcceptanceFailed(p)), _) => (
            "验收未通过 RECTIFICATION",
            format!("acceptance failed: {}; rectify and re-apply by {} (R-A5)", p.conclusion, date(&p.rectify_by)),
        ),
        (Some(Payload::RectificationOverdue(p)), _) => {
            ("整改逾期 RECTIFICATION_LAPSED", format!("not rectified by {}: not accepted, not put into use (R-A5)", date(&p.rectify_by)))
        }
        (Some(Payload::AcceptanceCaseClosed(p)), _) => ("", format!("acceptance closed: {}", p.reason)),
        // Produced by evaluation (R-E1 … R-E8).
        (Some(Payload::ApplicationCatalogued(p)), _) => (
            "",
            format!(
                "catalogued (R-E1): built by {}, run by {}; first evaluation due {}",
                p.builder_unit_id,
                p.operator_unit_id,
                p.first_evaluation_due_on.as_ref().map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default()
            ),
        ),
        (Some(Payload::EvaluationDue(p)), _) => (
            "绩效评价 EVALUATION_DUE",
            format!(
                "performance evaluation due {} (R-E2)",
                p.due_on.as_ref().map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default()
            ),
        ),
        (Some(Payload::EvaluationPublished(p)), _) if p.passed => (
            "运行 IN_OPERATION",
            format!(
                "evaluation published: {} ({}.{:02} points); {}",
                p.grade,
                p.score_centi / 100,
                p.score_centi % 100,
                p.funding_recommendation
            ),
        ),
        (Some(Payload::EvaluationPublished(p)), _) => (
            "整改 RECTIFICATION",
            format!(
                "evaluation published: {} ({}.{:02} points); rectify by {} (R-E3)",
                p.grade,
                p.score_centi / 100,
                p.score_centi % 100,
                p.rectify_by.as_ref().map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default()
            ),
        ),
        (Some(Payload::EvaluationRectificationCleared(_)), _) => ("运行 IN_OPERATION", "rectified: a passing re-evaluation (R-E3)".into()),
        (Some(Payload::EvaluationRectificationOverdue(_)), _) => {
            ("整改逾期 RECTIFICATION_OVERDUE", "not rectified in time: elimination may be proposed (R-E3)".into())
        }
        (Some(Payload::EliminationProposed(p)), _) => ("", format!("elimination proposed to the leader in charge: {} (R-E3)", p.reason)),
        (Some(Payload::EliminationDecided(p)), _) => {
            ("", format!("the leader in charge {} the elimination: {}", if p.approved { "approved" } else { "rejected" }, p.comment))
        }
        (Some(Payload::ApplicationEliminated(p)), _) => ("强制淘汰 ELIMINATED", format!("eliminated and delisted: {} (R-E3)", p.reason)),
        (Some(Payload::CatalogueEntryDelisted(p)), _) => ("下架 DELISTED", format!("{} ({})", p.reason, p.rule_ids.join(", "))),
        (Some(Payload::SharingViolationRecorded(p)), _) => (
            "",
            format!(
                "sharing violation: {}; rectify by {} (R-E5)",
                p.description,
                p.rectify_by.as_ref().map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default()
            ),
        ),
        (Some(Payload::SharingViolationRectified(_)), _) => ("", "sharing violation rectified (R-E5)".into()),
        (Some(Payload::ApplicationStopped(p)), _) => (
            "停用 STOPPED",
            format!("stopped by {}: {}{}", p.unit_id, p.reason, if p.early { " — within two years of going live (R-E6)" } else { "" }),
        ),
        (Some(Payload::AssessmentReminder(p)), _) => ("", format!("{} assessment due soon (R-E7)", p.kind)),
        (Some(Payload::AssessmentOverdue(p)), _) => ("", format!("{} assessment overdue (R-E7)", p.kind)),
        (Some(Payload::AssessmentRecorded(p)), _) => ("", format!("{} assessment recorded: {} (R-E7)", p.kind, p.conclusion)),
        (Some(Payload::ThirdPartyAuditRecorded(p)), _) => ("", format!("third-party audit by {} recorded (R-E8)", p.auditor)),
        (Some(Payload::UnitEligibilitySuspended(p)), _) => {
            ("", format!("unit {} may not apply in {}: {} (R-E6, R-I10)", p.unit_id, p.year, p.reason))
        }
        (_, t) => return (t.to_string(), format!("{} from {}", t, e.producer)),
    };
    (status.to_string(), summary)
}

fn date(d: &Option<egov_proto::common::CivilDate>) -> String {
    d.as_ref().map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use egov_proto::events::{self as ev, EventEnvelope, event_envelope::Payload};

    use super::status_of;

    fn of(t: &str, p: Payload) -> (String, String) {
        status_of(&EventEnvelope { r#type: t.into(), producer: "acceptance".into(), payload: Some(p), ..Default::default() })
    }

    #[test]
    fn acceptance_moves_the_status_and_informs() {
        let d = Some(egov_proto::common::CivilDate { year: 2026, month: 4, day: 9 });
        let accepted =
            of("acceptance.project.accepted", Payload::ProjectAccepted(ev::ProjectAccepted { go_live_on: d, ..Default::default() }));
        assert_eq!(accepted.0, "运行 IN_OPERATION");
        assert!(accepted.1.contains("2026-04-09"));
        let failed =
            of("acceptance.project.failed", Payload::AcceptanceFailed(ev::AcceptanceFailed { rectify_by: d, ..Default::default() }));
        assert_eq!(failed.0, "验收未通过 RECTIFICATION");
        let initial_failed = of(
            "acceptance.initial.concluded",
            Payload::InitialAcceptanceConcluded(ev::InitialAcceptanceConcluded { passed: false, ..Default::default() }),
        );
        assert_eq!(initial_failed.0, "", "informational: the status stays");
        let lapsed = of("acceptance.rectification.overdue", Payload::RectificationOverdue(ev::RectificationOverdue::default()));
        assert_eq!(lapsed.0, "整改逾期 RECTIFICATION_LAPSED");
    }
}
