//! How the review service's answers are printed, in the shapes of `crate::render`: key/value
//! blocks and tables for people, the protobuf JSON mapping's shape for `--json` (proto field
//! names, enums by full name, timestamps RFC 3339 UTC, dates `YYYY-MM-DD`).

use egov_proto::review::{
    ApprovalDocument, BudgetChange, CaseMaterial, CaseStage, ChangeRoute, ChangeState, Decision, DimensionScore, Dossier, Expert,
    ExpertOpinion, JointMeetingOutcome, MaterialKind, Meeting, MeetingState, PreliminaryOpinion, RecheckConclusion, ReviewCase,
    ScoringSheet, Task, TaskState,
};
use serde_json::{Value, json};

use crate::{
    enums,
    render::{
        Fields, Listed, Output, Table, block, date_json, date_text, hundredths, list_or_dash, money, or_dash, section, ts_json, ts_text,
        yes, yuan,
    },
};

/// Hundredths of a point as a score: 8050 → `80.50`.
pub fn score_centi(centi: i32) -> String {
    hundredths(centi)
}

// ------------------------------------------------------------------ cases

fn dossier_json(d: &Dossier) -> Value {
    json!({
        "project_name": d.project_name,
        "lead_unit_id": d.lead_unit_id,
        "participating_unit_ids": d.participating_unit_ids,
        "category": d.category,
        "build_type": d.build_type,
        "total_budget_fen": d.total_budget_fen,
        "security_budget_fen": d.security_budget_fen,
        "funding_source": d.funding_source,
        "fast_track_grounds": d.fast_track_grounds,
        "reaches_streets": d.reaches_streets,
        "streets_reached": d.streets_reached,
        "planned_construction_months": d.planned_construction_months,
        "function_modules": d.function_modules,
        "review_flags": d.review_flags,
        "target_year": d.target_year,
    })
}

fn opinion_json(o: &PreliminaryOpinion) -> Value {
    json!({
        "role": o.role,
        "subject": o.subject,
        "scores": o.scores.iter().map(|s| json!({ "code": s.code, "score": s.score })).collect::<Vec<_>>(),
        "weighted_score_centi": o.weighted_score_centi,
        "passed": o.passed,
        "opinion": o.opinion,
        "at": ts_json(&o.at),
    })
}

fn decision_json(d: &Decision) -> Value {
    json!({
        "passed": d.passed,
        "comment": d.comment,
        "decided_by": d.decided_by,
        "decided_at": ts_json(&d.decided_at),
        "policy_version": d.policy_version,
        "aggregate_score_centi": d.aggregate_score_centi,
    })
}

fn recheck_json(r: &RecheckConclusion) -> Value {
    json!({
        "passed": r.passed,
        "comment": r.comment,
        "priority_rank": r.priority_rank,
        "fiscal_year": r.fiscal_year,
        "amount_fen": r.amount_fen,
        "decided_by": r.decided_by,
        "decided_at": ts_json(&r.decided_at),
    })
}

fn joint_meeting_json(j: &JointMeetingOutcome) -> Value {
    json!({
        "passed": j.passed,
        "meeting_ref": j.meeting_ref,
        "held_on": date_json(&j.held_on),
        "comment": j.comment,
        "recorded_by": j.recorded_by,
    })
}

fn change_json(c: &BudgetChange) -> Value {
    json!({
        "change_id": c.change_id,
        "old_budget_fen": c.old_budget_fen,
        "new_budget_fen": c.new_budget_fen,
        "route": enums::full::<ChangeRoute>(c.route),
        "state": enums::full::<ChangeState>(c.state),
        "reason": c.reason,
        "requested_by": c.requested_by,
        "requested_at": ts_json(&c.requested_at),
    })
}

/// The re-check's participants (R-R3).
const RECHECK_PARTICIPANTS: [&str; 3] = ["DRB", "DRC", "FINANCE"];

fn stage_text(k: &ReviewCase) -> String {
    let stage = enums::short::<CaseStage>(k.stage);
    if k.stage == CaseStage::Returned as i32 && k.returned_from != 0 {
        format!("{stage} (from {})", enums::short::<CaseStage>(k.returned_from))
    } else {
        stage
    }
}

impl Output for ReviewCase {
    fn to_json(&self) -> Value {
        json!({
            "case_id": self.case_id,
            "project_id": self.project_id,
            "dossier": self.dossier.as_ref().map_or(Value::Null, dossier_json),
            "stage": enums::full::<CaseStage>(self.stage),
            "returned_from": enums::full::<CaseStage>(self.returned_from),
            "fast_track": self.fast_track,
            "unit_record": self.unit_record.iter().map(|r| json!({
                "kind": r.kind, "reason": r.reason, "ineligible_year": r.ineligible_year,
            })).collect::<Vec<_>>(),
            "required_participants": self.required_participants,
            "opinions": self.opinions.iter().map(opinion_json).collect::<Vec<_>>(),
            "preliminary_decision": self.preliminary_decision.as_ref().map_or(Value::Null, decision_json),
            "approval": self.approval.as_ref().map_or(Value::Null, Output::to_json),
            "end_reason": self.end_reason,
            "policy_version": self.policy_version,
            "etag": self.etag,
            "opened_at": ts_json(&self.opened_at),
            "recheck_opinions": self.recheck_opinions.iter().map(opinion_json).collect::<Vec<_>>(),
            "recheck": self.recheck.as_ref().map_or(Value::Null, recheck_json),
            "joint_meeting": self.joint_meeting.as_ref().map_or(Value::Null, joint_meeting_json),
            "changes": self.changes.iter().map(change_json).collect::<Vec<_>>(),
            "procurement_completed": self.procurement_completed,
        })
    }

    fn to_text(&self) -> String {
        let d = self.dossier.clone().unwrap_or_default();
        let mut f = Fields::new();
        f.add("case", &self.case_id)
            .add("project", &self.project_id)
            .add("name", &d.project_name)
            .add("stage", stage_text(self))
            .add("lead unit", &d.lead_unit_id)
            .add("participating units", list_or_dash(&d.participating_unit_ids))
            .add("category", format!("{} / {}", or_dash(&d.category), or_dash(&d.build_type)))
            .add("total budget", money(d.total_budget_fen))
            .add("security budget", format!("{} yuan", yuan(d.security_budget_fen)))
            .add("funding", or_dash(&d.funding_source))
            .add("fast track", if self.fast_track { format!("yes (R-R5: {})", list_or_dash(&d.fast_track_grounds)) } else { "no".into() })
            .add("reaches streets", if d.reaches_streets { format!("yes ({})", list_or_dash(&d.streets_reached)) } else { "no".into() })
            .add("construction", format!("{} months", d.planned_construction_months))
            .add("modules", list_or_dash(&d.function_modules))
            .add("review flags", list_or_dash(&d.review_flags))
            .add("target year", if d.target_year == 0 { "-".into() } else { d.target_year.to_string() })
            .add("participants", list_or_dash(&self.required_participants));
        if self.stage == CaseStage::PreliminaryReview as i32 {
            let waiting: Vec<String> =
                self.required_participants.iter().filter(|r| !self.opinions.iter().any(|o| &o.role == *r)).cloned().collect();
            f.add("waiting for", if waiting.is_empty() { "nobody: DRB decides (review decide)".into() } else { waiting.join(", ") });
        }
        if self.stage == CaseStage::ReCheck as i32 {
            let waiting: Vec<&str> =
                RECHECK_PARTICIPANTS.iter().copied().filter(|r| !self.recheck_opinions.iter().any(|o| o.role == *r)).collect();
            f.add(
                "waiting for",
                if waiting.is_empty() { "nobody: DRB concludes (review recheck-conclude)".into() } else { waiting.join(", ") },
            );
        }
        if self.procurement_completed {
            f.add("procurement", "completed (no change of the main content after it, R-R7)");
        }
        if !self.end_reason.is_empty() {
            f.add("ended", &self.end_reason);
        }
        f.add("policy", or_dash(&self.policy_version)).add("opened", ts_text(&self.opened_at)).add("etag", &self.etag);
        let mut out = f.render();

        let mut t = Table::new(&["KIND", "INELIGIBLE YEAR", "REASON"]);
        for r in &self.unit_record {
            t.row(vec![r.kind.clone(), if r.ineligible_year == 0 { "-".into() } else { r.ineligible_year.to_string() }, r.reason.clone()]);
        }
        section(&mut out, "The unit's record (R-I10, R-P8)", &t, self.unit_record.is_empty());

        let mut t = Table::new(&["ROLE", "BY", "SCORE", "PASSED", "AT", "OPINION"]);
        for o in &self.opinions {
            t.row(vec![
                o.role.clone(),
                o.subject.clone(),
                score_centi(o.weighted_score_centi),
                yes(o.passed).into(),
                ts_text(&o.at),
                o.opinion.clone(),
            ]);
        }
        section(&mut out, "Preliminary opinions (R-R1)", &t, self.opinions.is_empty());

        if let Some(p) = &self.preliminary_decision {
            block(
                &mut out,
                "Preliminary decision (R-R1)",
                Fields::new()
                    .add("passed", yes(p.passed))
                    .add("score", format!("{} (mean of the participants' weighted scores)", score_centi(p.aggregate_score_centi)))
                    .add("by", &p.decided_by)
                    .add("at", ts_text(&p.decided_at))
                    .add("comment", &p.comment)
                    .add("policy", or_dash(&p.policy_version)),
            );
        }
        let mut t = Table::new(&["ROLE", "BY", "PASSED", "AT", "OPINION"]);
        for o in &self.recheck_opinions {
            t.row(vec![o.role.clone(), o.subject.clone(), yes(o.passed).into(), ts_text(&o.at), o.opinion.clone()]);
        }
        section(&mut out, "Re-check opinions (R-R3)", &t, self.recheck_opinions.is_empty());
        if let Some(r) = &self.recheck {
            let mut f = Fields::new();
            f.add("passed", yes(r.passed));
            if r.passed {
                f.add("funding", format!("priority {}, fiscal year {}, {}", r.priority_rank, r.fiscal_year, money(r.amount_fen)));
            }
            f.add("by", &r.decided_by).add("at", ts_text(&r.decided_at)).add("comment", &r.comment);
            block(&mut out, "Re-check conclusion (复核结论, R-R3)", &f);
        }
        if let Some(j) = &self.joint_meeting {
            block(
                &mut out,
                "Joint meeting (联席会议, R-R4)",
                Fields::new()
                    .add("passed", yes(j.passed))
                    .add("meeting", &j.meeting_ref)
                    .add("held on", date_text(&j.held_on))
                    .add("recorded by", &j.recorded_by)
                    .add("comment", or_dash(&j.comment)),
            );
        }
        if let Some(a) = &self.approval {
            block(&mut out, "Approval document (立项文件, R-R4)", &approval_fields(a, false));
        }
        let mut t = Table::new(&["CHANGE", "ROUTE", "STATE", "OLD (yuan)", "NEW (yuan)", "BY", "AT", "REASON"]);
        for c in &self.changes {
            t.row(vec![
                c.change_id.clone(),
                enums::short::<ChangeRoute>(c.route),
                enums::short::<ChangeState>(c.state),
                yuan(c.old_budget_fen),
                yuan(c.new_budget_fen),
                c.requested_by.clone(),
                ts_text(&c.requested_at),
                c.reason.clone(),
            ]);
        }
        section(&mut out, "Changes (R-R7)", &t, self.changes.is_empty());
        out
    }
}

impl Listed for ReviewCase {
    const ITEMS: &'static str = "cases";
    const COLUMNS: &'static [&'static str] = &["CASE", "UNIT", "STAGE", "FAST TRACK", "TOTAL (yuan)", "OPENED", "ETAG", "NAME"];

    fn row(&self) -> Vec<String> {
        let d = self.dossier.clone().unwrap_or_default();
        vec![
            self.case_id.clone(),
            d.lead_unit_id,
            stage_text(self),
            yes(self.fast_track).into(),
            yuan(d.total_budget_fen),
            ts_text(&self.opened_at),
            self.etag.clone(),
            d.project_name,
        ]
    }
}

// ------------------------------------------------------------------ tasks

impl Output for Task {
    fn to_json(&self) -> Value {
        json!({
            "task_id": self.task_id,
            "case_id": self.case_id,
            "kind": self.kind,
            "group_id": self.group_id,
            "assignee_role": self.assignee_role,
            "assignee": self.assignee,
            "state": enums::full::<TaskState>(self.state),
            "due_at": ts_json(&self.due_at),
            "overdue": self.overdue,
            "completed_by": self.completed_by,
            "comment": self.comment,
            "etag": self.etag,
        })
    }

    fn to_text(&self) -> String {
        Fields::new()
            .add("task", &self.task_id)
            .add("case", &self.case_id)
            .add("kind", &self.kind)
            .add("group", or_dash(&self.group_id))
            .add("role", &self.assignee_role)
            .add("assignee", or_dash(&self.assignee))
            .add("state", enums::short::<TaskState>(self.state))
            .add("due", format!("{}{}", ts_text(&self.due_at), if self.overdue { " (OVERDUE: escalated to DRB)" } else { "" }))
            .add("completed by", or_dash(&self.completed_by))
            .add("comment", or_dash(&self.comment))
            .add("etag", &self.etag)
            .render()
    }
}

impl Listed for Task {
    const ITEMS: &'static str = "tasks";
    const NONE: Option<&'static str> = Some("no tasks");
    const COLUMNS: &'static [&'static str] = &["TASK", "CASE", "KIND", "ROLE", "STATE", "ASSIGNEE", "DUE", "ETAG"];

    fn row(&self) -> Vec<String> {
        vec![
            self.task_id.clone(),
            self.case_id.clone(),
            self.kind.clone(),
            self.assignee_role.clone(),
            enums::short::<TaskState>(self.state),
            or_dash(&self.assignee),
            format!("{}{}", ts_text(&self.due_at), if self.overdue { " OVERDUE" } else { "" }),
            self.etag.clone(),
        ]
    }
}

// ------------------------------------------------------------------ preliminary review

impl Output for ScoringSheet {
    fn to_json(&self) -> Value {
        json!({
            "policy_version": self.policy_version,
            "criteria": self.criteria.iter().map(|c| json!({ "code": c.code, "title": c.title, "weight": c.weight })).collect::<Vec<_>>(),
            "pass_score": self.pass_score,
        })
    }

    fn to_text(&self) -> String {
        let mut out = format!(
            "preliminary scoring sheet of policy {}; each criterion is scored 0..100, weighted; an opinion is expected to pass at {} or more (advisory)\n",
            self.policy_version, self.pass_score
        );
        let mut t = Table::new(&["CODE", "WEIGHT", "TITLE"]);
        for c in &self.criteria {
            t.row(vec![c.code.clone(), format!("{} %", c.weight), c.title.clone()]);
        }
        out.push_str(&t.render());
        out
    }
}

// ------------------------------------------------------------------ approval

/// The document's fields, led by the project when it is shown on its own.
fn approval_fields(a: &ApprovalDocument, with_project: bool) -> Fields {
    let mut f = Fields::new();
    if with_project {
        f.add("project", &a.project_id);
    }
    f.add("document number", &a.document_number)
        .add("issued on", date_text(&a.issued_on))
        .add("issuers", list_or_dash(&a.issuers))
        .add("project name", &a.project_name)
        .add("budget", money(a.budget_fen))
        .add("funding", or_dash(&a.funding_source))
        .add("scope", &a.scope)
        .add("construction", format!("{} months", a.planned_construction_months))
        .add("fast track", yes(a.fast_track))
        .add(
            "valid until",
            if a.valid_until.is_some() {
                format!("{} (R-R6: outside funding must be secured by then)", date_text(&a.valid_until))
            } else {
                "- (no limit)".into()
            },
        )
        .add("funds secured", yes(a.funds_secured))
        .add("cancelled", if a.cancelled { format!("yes: {}", a.cancel_reason) } else { "no".into() })
        .add("policy", or_dash(&a.policy_version));
    f
}

impl Output for ApprovalDocument {
    fn to_json(&self) -> Value {
        json!({
            "project_id": self.project_id,
            "document_number": self.document_number,
            "issued_on": date_json(&self.issued_on),
            "issuers": self.issuers,
            "project_name": self.project_name,
            "budget_fen": self.budget_fen,
            "funding_source": self.funding_source,
            "scope": self.scope,
            "planned_construction_months": self.planned_construction_months,
            "fast_track": self.fast_track,
            "valid_until": date_json(&self.valid_until),
            "funds_secured": self.funds_secured,
            "cancelled": self.cancelled,
            "cancel_reason": self.cancel_reason,
            "policy_version": self.policy_version,
        })
    }

    fn to_text(&self) -> String {
        approval_fields(self, true).render()
    }
}

// ------------------------------------------------------------------ expert review (R-R2)

impl Output for Expert {
    fn to_json(&self) -> Value {
        json!({
            "expert_id": self.expert_id,
            "name": self.name,
            "specialties": self.specialties,
            "affiliation": self.affiliation,
            "available": self.available,
            "etag": self.etag,
        })
    }

    fn to_text(&self) -> String {
        Fields::new()
            .add("expert", &self.expert_id)
            .add("name", &self.name)
            .add("specialties", list_or_dash(&self.specialties))
            .add("affiliation", &self.affiliation)
            .add("available", yes(self.available))
            .add("etag", &self.etag)
            .render()
    }
}

impl Listed for Expert {
    const ITEMS: &'static str = "experts";
    const NONE: Option<&'static str> = Some("no experts");
    const COLUMNS: &'static [&'static str] = &["EXPERT", "NAME", "SPECIALTIES", "AFFILIATION", "AVAILABLE", "ETAG"];

    fn row(&self) -> Vec<String> {
        vec![
            self.expert_id.clone(),
            self.name.clone(),
            list_or_dash(&self.specialties),
            self.affiliation.clone(),
            yes(self.available).into(),
            self.etag.clone(),
        ]
    }
}

impl Output for CaseMaterial {
    fn to_json(&self) -> Value {
        json!({
            "document_id": self.document_id,
            "case_id": self.case_id,
            "kind": enums::full::<MaterialKind>(self.kind),
            "file_name": self.file_name,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "sm3": self.sm3,
            "uploaded_by": self.uploaded_by,
            "uploaded_at": ts_json(&self.uploaded_at),
        })
    }

    fn to_text(&self) -> String {
        Fields::new()
            .add("document", &self.document_id)
            .add("case", &self.case_id)
            .add("kind", enums::short::<MaterialKind>(self.kind))
            .add("file", &self.file_name)
            .add("size", format!("{} bytes", self.size_bytes))
            .add("sha256", &self.sha256)
            .add("sm3", &self.sm3)
            .add("uploaded by", &self.uploaded_by)
            .add("uploaded", ts_text(&self.uploaded_at))
            .render()
    }
}

fn dimension_scores_json(scores: &[DimensionScore]) -> Value {
    Value::Array(scores.iter().map(|d| json!({ "dimension": d.dimension, "score": d.score })).collect())
}

/// A dimension's score in `scores`, `-` when absent.
fn score_of(scores: &[DimensionScore], dimension: &str) -> String {
    scores.iter().find(|d| d.dimension == dimension).map_or_else(|| "-".into(), |d| d.score.to_string())
}

impl Output for Meeting {
    fn to_json(&self) -> Value {
        json!({
            "meeting_id": self.meeting_id,
            "held_on": date_json(&self.held_on),
            "specialties": self.specialties.iter().map(|n| json!({ "specialty": n.specialty, "count": n.count })).collect::<Vec<_>>(),
            "case_ids": self.case_ids,
            "state": enums::full::<MeetingState>(self.state),
            // A u64 as a string, as the protobuf JSON mapping has it.
            "seed": self.seed.to_string(),
            "panel": self.panel.iter().map(Output::to_json).collect::<Vec<_>>(),
            "scores": self.scores.iter().map(|s| json!({
                "expert_id": s.expert_id,
                "case_id": s.case_id,
                "scores": dimension_scores_json(&s.scores),
                "opinion": s.opinion,
            })).collect::<Vec<_>>(),
            "etag": self.etag,
        })
    }

    fn to_text(&self) -> String {
        let needs: Vec<String> = self.specialties.iter().map(|n| format!("{} × {}", n.specialty, n.count)).collect();
        let mut f = Fields::new();
        f.add("meeting", &self.meeting_id)
            .add("held on", date_text(&self.held_on))
            .add("state", enums::short::<MeetingState>(self.state))
            .add("needs", list_or_dash(&needs))
            .add("cases", list_or_dash(&self.case_ids))
            .add("seed", if self.seed == 0 { "- (not drawn)".into() } else { self.seed.to_string() });
        if !self.panel.is_empty() {
            for case in &self.case_ids {
                let waiting: Vec<&str> = self
                    .panel
                    .iter()
                    .map(|e| e.expert_id.as_str())
                    .filter(|e| !self.scores.iter().any(|s| &s.case_id == case && s.expert_id == *e))
                    .collect();
                let who = if waiting.is_empty() { "nobody: DRB concludes (review conclude)".into() } else { waiting.join(", ") };
                f.add("to score", format!("{case}: {who}"));
            }
        }
        f.add("etag", &self.etag);
        let mut out = f.render();

        let mut t = Table::new(&["#", "EXPERT", "NAME", "SPECIALTIES", "AFFILIATION"]);
        for (i, e) in self.panel.iter().enumerate() {
            t.row(vec![(i + 1).to_string(), e.expert_id.clone(), e.name.clone(), list_or_dash(&e.specialties), e.affiliation.clone()]);
        }
        section(&mut out, "Panel, in draw order (R-R2)", &t, self.panel.is_empty());

        let mut t = Table::new(&["CASE", "EXPERT", "RESOURCES", "TECHNICAL", "DATA", "SECURITY", "COST", "OPINION"]);
        for s in &self.scores {
            let mut row = vec![s.case_id.clone(), s.expert_id.clone()];
            row.extend(super::DIMENSIONS.iter().map(|d| score_of(&s.scores, d)));
            row.push(s.opinion.clone());
            t.row(row);
        }
        section(&mut out, "Scores", &t, self.scores.is_empty());
        out
    }
}

impl Output for ExpertOpinion {
    fn to_json(&self) -> Value {
        json!({
            "project_id": self.project_id,
            "meeting_id": self.meeting_id,
            "passed": self.passed,
            "recommended_budget_fen": self.recommended_budget_fen,
            "opinion": self.opinion,
            "mean_scores_centi": dimension_scores_json(&self.mean_scores_centi),
            "experts": self.experts,
            "concluded_at": ts_json(&self.concluded_at),
        })
    }

    fn to_text(&self) -> String {
        let mut out = Fields::new()
            .add("project", &self.project_id)
            .add("meeting", &self.meeting_id)
            .add("passed", yes(self.passed))
            .add("recommended budget", money(self.recommended_budget_fen))
            .add("experts", list_or_dash(&self.experts))
            .add("concluded", ts_text(&self.concluded_at))
            .add("opinion", &self.opinion)
            .render();
        let mut t = Table::new(&["DIMENSION", "MEAN SCORE"]);
        for d in &self.mean_scores_centi {
            t.row(vec![d.dimension.clone(), score_centi(d.score)]);
        }
        section(&mut out, "Mean scores of the panel", &t, self.mean_scores_centi.is_empty());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Page;
    use egov_proto::common::CivilDate;

    #[test]
    fn scores_in_hundredths() {
        assert_eq!(score_centi(8000), "80.00");
        assert_eq!(score_centi(6001), "60.01");
        assert_eq!(score_centi(5), "0.05");
    }

    #[test]
    fn a_case_waits_for_participants_and_shows_its_opinions() {
        let k = ReviewCase {
            case_id: "C1".into(),
            project_id: "C1".into(),
            dossier: Some(Dossier { project_name: "社会救助".into(), total_budget_fen: 120_000_000, ..Default::default() }),
            stage: CaseStage::PreliminaryReview as i32,
            required_participants: vec!["DRC".into(), "FINANCE".into()],
            opinions: vec![PreliminaryOpinion {
                role: "DRC".into(),
                subject: "drc-1".into(),
                weighted_score_centi: 8000,
                passed: true,
                opinion: "同意".into(),
                ..Default::default()
            }],
            etag: "3".into(),
            ..Default::default()
        };
        let text = k.to_text();
        assert!(text.contains("waiting for          FINANCE\n"), "{text}");
        assert!(text.contains("total budget         1,200,000.00 yuan (120000000 fen)\n"), "{text}");
        assert!(text.contains("Preliminary opinions (R-R1):\n  ROLE  BY     SCORE  PASSED"), "{text}");
        let j = k.to_json();
        assert_eq!(j["stage"], "CASE_STAGE_PRELIMINARY_REVIEW");
        assert_eq!(j["returned_from"], "CASE_STAGE_UNSPECIFIED");
        assert_eq!(j["opinions"][0]["weighted_score_centi"], 8000);
        assert_eq!(j["approval"], Value::Null);
    }

    #[test]
    fn approval_documents() {
        let a = ApprovalDocument {
            project_id: "P1".into(),
            document_number: "上数〔2026〕7号".into(),
            issued_on: Some(CivilDate { year: 2026, month: 11, day: 24 }),
            issuers: vec!["DRB".into(), "DRC".into(), "FINANCE".into()],
            budget_fen: 50_000_000,
            valid_until: Some(CivilDate { year: 2028, month: 11, day: 23 }),
            ..Default::default()
        };
        let text = a.to_text();
        assert!(text.starts_with("project          P1\ndocument number  上数〔2026〕7号\n"), "{text}");
        assert!(text.contains("valid until      2028-11-23 (R-R6"), "{text}");
        let j = a.to_json();
        assert_eq!(j["issued_on"], "2026-11-24");
        assert_eq!(j["issuers"][2], "FINANCE");
        let k = ReviewCase { stage: CaseStage::Approved as i32, approval: Some(a), ..Default::default() };
        assert!(k.to_text().contains("Approval document (立项文件, R-R4):\n  document number  上数〔2026〕7号\n"));
        assert_eq!(k.to_json()["approval"]["budget_fen"], 50_000_000);
    }

    #[test]
    fn meetings_show_the_panel_the_seed_and_who_is_still_to_score() {
        let e =
            |id: &str| Expert { expert_id: id.into(), name: format!("专家{id}"), specialties: vec!["IT".into()], ..Default::default() };
        let dims = |n| super::super::DIMENSIONS.iter().map(|d| DimensionScore { dimension: (*d).into(), score: n }).collect();
        let m = Meeting {
            meeting_id: "M1".into(),
            held_on: Some(CivilDate { year: 2026, month: 11, day: 24 }),
            specialties: vec![egov_proto::review::SpecialtyNeed { specialty: "IT".into(), count: 2 }],
            case_ids: vec!["C1".into()],
            state: MeetingState::PanelDrawn as i32,
            seed: u64::MAX,
            panel: vec![e("e3"), e("e2")],
            scores: vec![egov_proto::review::ExpertScoreSheet {
                expert_id: "e3".into(),
                case_id: "C1".into(),
                scores: dims(80),
                opinion: "方案可行".into(),
            }],
            etag: "4".into(),
        };
        let text = m.to_text();
        assert!(text.contains("needs     IT × 2\n"), "{text}");
        assert!(text.contains("seed      18446744073709551615\n"), "{text}");
        assert!(text.contains("to score  C1: e2\n"), "{text}");
        assert!(text.contains("Panel, in draw order (R-R2):\n  #  EXPERT  NAME    SPECIALTIES  AFFILIATION\n  1  e3"), "{text}");
        assert!(text.contains("  C1    e3      80         80         80    80        80    方案可行\n"), "{text}");
        let j = m.to_json();
        assert_eq!(j["seed"], "18446744073709551615");
        assert_eq!(j["state"], "MEETING_STATE_PANEL_DRAWN");
        assert_eq!(j["panel"][1]["expert_id"], "e2");
        assert_eq!(j["scores"][0]["scores"][4]["dimension"], "COST_ESTIMATE");
        let planned = Meeting { state: MeetingState::Planned as i32, ..Default::default() };
        assert!(planned.to_text().contains("seed     - (not drawn)\n"), "{}", planned.to_text());
    }

    #[test]
    fn expert_opinions_materials_and_experts() {
        let o = ExpertOpinion {
            project_id: "P1".into(),
            passed: true,
            recommended_budget_fen: 108_000_000,
            mean_scores_centi: vec![DimensionScore { dimension: "TECHNICAL_SOLUTION".into(), score: 8667 }],
            experts: vec!["e2".into(), "e3".into()],
            ..Default::default()
        };
        let text = o.to_text();
        assert!(text.contains("recommended budget  1,080,000.00 yuan (108000000 fen)\n"), "{text}");
        assert!(text.contains("  TECHNICAL_SOLUTION  86.67\n"), "{text}");
        assert_eq!(o.to_json()["mean_scores_centi"][0]["score"], 8667);
        let m = CaseMaterial { kind: MaterialKind::RevisionList as i32, size_bytes: 12, ..Default::default() };
        assert!(m.to_text().contains("kind         REVISION_LIST\n"), "{}", m.to_text());
        assert_eq!(m.to_json()["kind"], "MATERIAL_KIND_REVISION_LIST");
        assert_eq!(Page::<Expert>(&[], "").to_text(), "no experts\n");
        let e = Expert { expert_id: "e2".into(), specialties: vec!["IT".into(), "SECURITY".into()], available: true, ..Default::default() };
        assert!(Page(std::slice::from_ref(&e), "t").to_text().contains("IT, SECURITY"));
        assert!(Page(std::slice::from_ref(&e), "t").to_text().ends_with("more: --page-token t\n"));
    }

    #[test]
    fn a_case_shows_its_re_check_joint_meeting_and_changes() {
        let mut k = ReviewCase {
            stage: CaseStage::ReCheck as i32,
            recheck_opinions: vec![PreliminaryOpinion { role: "DRC".into(), subject: "drc-1".into(), passed: true, ..Default::default() }],
            ..Default::default()
        };
        assert!(k.to_text().contains("waiting for          DRB, FINANCE\n"), "{}", k.to_text());
        assert!(k.to_text().contains("Re-check opinions (R-R3):\n  ROLE  BY     PASSED"), "{}", k.to_text());
        k.stage = CaseStage::Approved as i32;
        k.recheck =
            Some(RecheckConclusion { passed: true, priority_rank: 1, fiscal_year: 2027, amount_fen: 108_000_000, ..Default::default() });
        k.joint_meeting = Some(JointMeetingOutcome {
            passed: true,
            meeting_ref: "2026年第3次联席会议".into(),
            held_on: Some(CivilDate { year: 2026, month: 11, day: 24 }),
            ..Default::default()
        });
        k.changes = vec![BudgetChange {
            change_id: "X1".into(),
            old_budget_fen: 108_000_000,
            new_budget_fen: 100_000_000,
            route: ChangeRoute::InternalControlFiling as i32,
            state: ChangeState::Filed as i32,
            ..Default::default()
        }];
        let text = k.to_text();
        assert!(!text.contains("waiting for"), "{text}");
        assert!(text.contains("  funding  priority 1, fiscal year 2027, 1,080,000.00 yuan (108000000 fen)\n"), "{text}");
        assert!(
            text.contains(
                "Joint meeting (联席会议, R-R4):\n  passed       yes\n  meeting      2026年第3次联席会议\n  held on      2026-11-24\n"
            ),
            "{text}"
        );
        assert!(text.contains("  X1      INTERNAL_CONTROL_FILING  FILED  1,080,000.00  1,000,000.00"), "{text}");
        let j = k.to_json();
        assert_eq!(j["recheck"]["amount_fen"], 108_000_000);
        assert_eq!(j["joint_meeting"]["held_on"], "2026-11-24");
        assert_eq!(j["changes"][0]["route"], "CHANGE_ROUTE_INTERNAL_CONTROL_FILING");
        assert_eq!(j["recheck_opinions"][0]["role"], "DRC");
        assert_eq!(j["procurement_completed"], false);
    }

    #[test]
    fn empty_task_lists_say_so() {
        assert_eq!(Page::<Task>(&[], "").to_text(), "no tasks\n");
        let t = Task { task_id: "T1".into(), state: TaskState::Open as i32, overdue: true, ..Default::default() };
        assert!(Page(std::slice::from_ref(&t), "").to_text().contains("OPEN"));
        assert_eq!(t.to_json()["state"], "TASK_STATE_OPEN");
    }
}
