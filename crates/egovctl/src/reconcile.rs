//! `egovctl reconcile` and `egovctl projects timeline`: the whole lifecycle across the five
//! services.
//!
//! `reconcile` reads every service's facts about every project (`egov.common.v1.Reconciliation`,
//! as OPERATOR or AUDIT), compares them with the platform's `reconcile::compare` and prints the
//! disagreements; a disagreement seen once may be an event still on its way, so what it finds
//! is read again after `--settle` seconds and only what persists is reported. Exit 1 when any
//! does.
//!
//! `projects timeline` prints a project's cross-service timeline (intake's registry) with the
//! lifecycle stage of every entry in Chinese and English.

use std::{collections::BTreeSet, time::Duration};

use clap::Args;
use egov_platform::{
    convert,
    reconcile::compare::{self, Disagreement, SERVICES, Views},
};
use egov_proto::{
    common::{ListProjectFactsRequest, reconciliation_client::ReconciliationClient},
    intake::{GetProjectStatusRequest, ProjectStatus, intake_client::IntakeClient},
};
use serde_json::{Value, json};

use crate::{
    commands::{Ctx, Result},
    render::Output,
};

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Seconds to wait before reading again what disagreed (events on their way); 0 reports the
    /// first reading.
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub settle: u64,
    /// Projects asked of a service per call.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(i32).range(1..=500))]
    pub page_size: i32,
}

/// Where each service is: intake at --endpoint, the others at their own flags.
fn endpoints(ctx: &Ctx) -> [(&'static str, &str); 5] {
    [
        (SERVICES[0], ctx.endpoint.as_str()),
        (SERVICES[1], ctx.review_endpoint.as_str()),
        (SERVICES[2], ctx.procurement_endpoint.as_str()),
        (SERVICES[3], ctx.acceptance_endpoint.as_str()),
        (SERVICES[4], ctx.evaluation_endpoint.as_str()),
    ]
}

/// Every service's facts, page by page.
async fn read(ctx: &Ctx, page_size: i32) -> Result<Views> {
    let mut v = Views::default();
    for (service, endpoint) in endpoints(ctx) {
        let mut c = ReconciliationClient::new(ctx.channel_to(endpoint).await?);
        let mut page_token = String::new();
        loop {
            let r = c.list_project_facts(ListProjectFactsRequest { page_size, page_token }).await?.into_inner();
            v.add(service, r.facts);
            if r.next_page_token.is_empty() {
                break;
            }
            page_token = r.next_page_token;
        }
    }
    Ok(v)
}

/// Runs `egovctl reconcile`.
pub async fn run(ctx: &Ctx, a: ReconcileArgs) -> Result<u8> {
    let settle = time::Duration::seconds(i64::try_from(a.settle).unwrap_or(600));
    let views = read(ctx, a.page_size).await?;
    let mut found = compare::compare(&views, time::OffsetDateTime::now_utc(), settle);
    let mut report_views = views;
    if !found.is_empty() && a.settle > 0 {
        tokio::time::sleep(Duration::from_secs(a.settle)).await;
        let again = read(ctx, a.page_size).await?;
        let persisting = persisting(&found, &compare::compare(&again, time::OffsetDateTime::now_utc(), settle));
        found = persisting;
        report_views = again;
    }
    let report = Report { counts: report_views.counts(), projects: report_views.projects().len(), disagreements: found };
    ctx.show(&report);
    Ok(if report.disagreements.is_empty() { 0 } else { 1 })
}

/// The disagreements of the second reading that the first had too (same project, kind and
/// services).
fn persisting(first: &[Disagreement], second: &[Disagreement]) -> Vec<Disagreement> {
    let seen: BTreeSet<(&str, compare::Kind, &[String])> =
        first.iter().map(|d| (d.project_id.as_str(), d.kind, d.services.as_slice())).collect();
    second.iter().filter(|d| seen.contains(&(d.project_id.as_str(), d.kind, d.services.as_slice()))).cloned().collect()
}

struct Report {
    counts: Vec<(String, usize)>,
    projects: usize,
    disagreements: Vec<Disagreement>,
}

impl Output for Report {
    fn to_json(&self) -> Value {
        json!({
            "projects": self.projects,
            "services": self.counts.iter().map(|(s, n)| (s.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "disagreements": self.disagreements.iter().map(|d| json!({
                "project_id": d.project_id,
                "kind": d.kind.as_str(),
                "services": d.services,
                "detail": d.detail,
            })).collect::<Vec<_>>(),
        })
    }

    fn to_text(&self) -> String {
        let counts: Vec<String> = self.counts.iter().map(|(s, n)| format!("{s} {n}")).collect();
        let mut out = format!("projects: {} ({})\n", self.projects, counts.join(", "));
        if self.disagreements.is_empty() {
            out.push_str("对账一致 the services agree: 0 disagreements\n");
            return out;
        }
        out.push_str(&format!("对账不一致 {} disagreement(s):\n", self.disagreements.len()));
        for d in &self.disagreements {
            out.push_str(&format!(
                "  {}  {} ({})  [{}]\n      {}\n",
                d.project_id,
                d.kind,
                d.kind.describe(),
                d.services.join(" vs "),
                d.detail
            ));
        }
        out
    }
}

// ------------------------------------------------------------------ the timeline

/// Runs `egovctl projects timeline`.
pub async fn timeline(ctx: &Ctx, project_id: String) -> Result<u8> {
    let mut c = IntakeClient::new(ctx.channel_to(&ctx.endpoint).await?);
    let p = c.get_project_status(GetProjectStatusRequest { project_id }).await?.into_inner();
    ctx.show(&Timeline(p));
    Ok(0)
}

/// A lifecycle stage (rules.md's 全生命周期) or terminal outcome: Chinese and English.
pub type Stage = (&'static str, &'static str);

const APPLICATION: Stage = ("申报", "application");
const COMPLIANCE: Stage = ("合规性审查", "compliance review");
const PRELIMINARY: Stage = ("初审", "preliminary review");
const EXPERT: Stage = ("专家评审", "expert review");
const RECHECK: Stage = ("复核审查", "re-check");
const JOINT: Stage = ("联席会议", "joint meeting");
const APPROVAL: Stage = ("立项", "approval");
const PROCUREMENT: Stage = ("采购", "procurement");
const CONSTRUCTION: Stage = ("建设", "construction");
const INITIAL: Stage = ("初验", "initial acceptance");
const TRIAL: Stage = ("试运行", "trial operation");
const ACCEPTANCE: Stage = ("验收", "acceptance");
const OPERATION: Stage = ("运行", "operation");
const EVALUATION: Stage = ("绩效评价", "performance evaluation");
const ENDED: Stage = ("申报结束", "application ended");
const CANCELLED: Stage = ("取消立项指标", "approval cancelled");
const REVOKED: Stage = ("撤销/终止", "revoked or terminated");
const ELIMINATED: Stage = ("强制淘汰", "eliminated");
const DELISTED: Stage = ("下架", "delisted");
const STOPPED: Stage = ("停用", "stopped");

/// The stage an event belongs to, by its type (the first matching prefix); `None` for an event
/// that stays in the stage before it (a return for revision, an overdue task, a suspension).
pub fn stage_of(event_type: &str, summary: &str) -> Option<Stage> {
    const TABLE: &[(&str, Stage)] = &[
        ("intake.application.submitted", COMPLIANCE),
        ("intake.application.compliance", COMPLIANCE),
        ("intake.application.re_review", COMPLIANCE),
        ("intake.application.ended", ENDED),
        ("intake.application.", APPLICATION),
        ("review.preliminary.", PRELIMINARY),
        ("review.expert.", EXPERT),
        ("review.material", EXPERT),
        ("review.recheck.", RECHECK),
        ("review.joint_meeting.", JOINT),
        ("review.application.ended", ENDED),
        ("review.approval.cancelled", CANCELLED),
        ("review.project.approved", APPROVAL),
        ("review.approval.", APPROVAL),
        ("review.change.", APPROVAL),
        ("review.budget.", APPROVAL),
        ("review.funds.", APPROVAL),
        ("procurement.project.terminated", REVOKED),
        ("procurement.case.opened", PROCUREMENT),
        ("procurement.procurement.", PROCUREMENT),
        ("procurement.project.deadline_missed", PROCUREMENT),
        ("procurement.", CONSTRUCTION),
        ("acceptance.case.opened", INITIAL),
        ("acceptance.initial.", INITIAL),
        ("acceptance.trial.", TRIAL),
        ("acceptance.case.closed", ACCEPTANCE),
        ("acceptance.", ACCEPTANCE),
        ("evaluation.application.eliminated", ELIMINATED),
        ("evaluation.entry.delisted", DELISTED),
        ("evaluation.application.stopped", STOPPED),
        ("evaluation.evaluation.", EVALUATION),
        ("evaluation.rectification.", EVALUATION),
        ("evaluation.elimination.", EVALUATION),
        ("evaluation.unit.", OPERATION),
        ("evaluation.", OPERATION),
    ];
    if event_type == "review.case.opened" {
        // A fast-track case (R-R5) opens at the approval.
        return Some(if summary.contains("fast track") { APPROVAL } else { PRELIMINARY });
    }
    TABLE.iter().find(|(prefix, _)| event_type.starts_with(prefix)).map(|(_, s)| *s)
}

/// Each entry's stage: its own, or the one before it.
fn stages(p: &ProjectStatus) -> Vec<Stage> {
    let mut last = APPLICATION;
    p.timeline
        .iter()
        .map(|t| {
            if let Some(s) = stage_of(&t.event_type, &t.summary) {
                last = s;
            }
            last
        })
        .collect()
}

struct Timeline(ProjectStatus);

fn when(t: &Option<prost_types::Timestamp>) -> String {
    t.as_ref()
        .and_then(convert::from_timestamp)
        .map(|t| {
            let t = t.to_offset(egov_platform::clock::SHANGHAI);
            format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
        })
        .unwrap_or_default()
}

impl Output for Timeline {
    fn to_json(&self) -> Value {
        let p = &self.0;
        json!({
            "project_id": p.project_id,
            "name": p.name,
            "lead_unit_id": p.lead_unit_id,
            "status": p.status,
            "timeline": p.timeline.iter().zip(stages(p)).map(|(t, s)| json!({
                "occurred_at": when(&t.occurred_at),
                "stage_zh": s.0,
                "stage_en": s.1,
                "event_type": t.event_type,
                "producer": t.producer,
                "status": t.status,
                "summary": t.summary,
                "event_id": t.event_id,
            })).collect::<Vec<_>>(),
        })
    }

    fn to_text(&self) -> String {
        let p = &self.0;
        let mut out = format!("{} {} ({})\nstatus: {}\n", p.project_id, p.name, p.lead_unit_id, p.status);
        let mut last: Option<Stage> = None;
        for (t, s) in p.timeline.iter().zip(stages(p)) {
            if last != Some(s) {
                out.push_str(&format!("\n{} {}\n", s.0, s.1));
                last = Some(s);
            }
            out.push_str(&format!("  {}  {:<12} {}\n", when(&t.occurred_at), t.producer, t.summary));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use egov_platform::reconcile::compare::Kind;
    use egov_proto::intake::TimelineEntry;

    use super::*;

    #[test]
    fn every_event_finds_its_stage() {
        assert_eq!(stage_of("intake.application.created", ""), Some(APPLICATION));
        assert_eq!(stage_of("intake.application.compliance_failed", ""), Some(COMPLIANCE));
        assert_eq!(stage_of("intake.application.ended", ""), Some(ENDED));
        assert_eq!(stage_of("review.case.opened", "fast track (R-R5): approval follows compliance"), Some(APPROVAL));
        assert_eq!(stage_of("review.case.opened", "review case opened: preliminary review"), Some(PRELIMINARY));
        assert_eq!(stage_of("review.recheck.concluded", ""), Some(RECHECK));
        assert_eq!(stage_of("review.approval.cancelled", ""), Some(CANCELLED));
        assert_eq!(stage_of("procurement.project.deadline_missed", ""), Some(PROCUREMENT));
        assert_eq!(stage_of("procurement.contract.filed", ""), Some(CONSTRUCTION));
        assert_eq!(stage_of("procurement.project.terminated", ""), Some(REVOKED));
        assert_eq!(stage_of("acceptance.trial.report_deposited", ""), Some(TRIAL));
        assert_eq!(stage_of("acceptance.project.accepted", ""), Some(ACCEPTANCE));
        assert_eq!(stage_of("evaluation.application.catalogued", ""), Some(OPERATION));
        assert_eq!(stage_of("evaluation.evaluation.published", ""), Some(EVALUATION));
        assert_eq!(stage_of("evaluation.entry.delisted", ""), Some(DELISTED));
        assert_eq!(stage_of("review.case.returned", ""), None, "stays where it was");
    }

    #[test]
    fn the_timeline_groups_entries_under_their_stage() {
        let entry = |t: &str, summary: &str| TimelineEntry {
            event_type: t.into(),
            summary: summary.into(),
            producer: "x".into(),
            ..Default::default()
        };
        let p = ProjectStatus {
            project_id: "p".into(),
            name: "社会救助一件事".into(),
            status: "专家评审 EXPERT_REVIEW".into(),
            timeline: vec![
                entry("intake.application.created", "drafted"),
                entry("intake.application.submitted", "submitted"),
                entry("review.case.opened", "review case opened"),
                entry("review.case.returned", "returned"),
                entry("review.preliminary.decided", "passed"),
                entry("review.expert.concluded", "concluded"),
            ],
            ..Default::default()
        };
        assert_eq!(stages(&p)[3], PRELIMINARY);
        let text = Timeline(p.clone()).to_text();
        for s in ["申报 application", "合规性审查 compliance review", "初审 preliminary review", "专家评审 expert review"] {
            assert_eq!(text.matches(s).count(), 1, "{s} once in\n{text}");
        }
        assert_eq!(Timeline(p).to_json()["timeline"][5]["stage_en"], "expert review");
    }

    #[test]
    fn the_report_lists_what_persists() {
        let d = |kind: Kind, p: &str| Disagreement {
            project_id: p.into(),
            kind,
            services: vec!["review".into(), "procurement".into()],
            detail: "the approval is cancelled; procurement's case is PROCURING".into(),
        };
        let first = vec![d(Kind::CaseAfterCancellation, "a"), d(Kind::MissingStep, "b")];
        let second = vec![d(Kind::CaseAfterCancellation, "a"), d(Kind::MoneyOutOfBounds, "c")];
        let r = Report { counts: vec![("intake".into(), 3)], projects: 3, disagreements: persisting(&first, &second) };
        assert_eq!(r.disagreements.len(), 1);
        let text = r.to_text();
        assert!(text.contains("CASE_AFTER_CANCELLATION") && text.contains("review vs procurement"), "{text}");
        assert_eq!(r.to_json()["disagreements"][0]["kind"], "CASE_AFTER_CANCELLATION");
        let agree = Report { counts: vec![], projects: 0, disagreements: vec![] };
        assert!(agree.to_text().contains("0 disagreements"));
    }
}
