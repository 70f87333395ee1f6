//! How the evaluation service's answers are printed, in the shapes of `crate::render` and the
//! acceptance commands: key/value blocks and tables for people (kinds, states, grades, statuses,
//! verdicts and sources in English and Chinese; weighted scores to the hundredth; funding shares
//! in percent from basis points; dates `YYYY-MM-DD`; each screened module with its matches, their
//! scores and the shared terms that are the reason), the protobuf JSON mapping's shape for
//! `--json` (proto field names, enums by full name, timestamps RFC 3339 UTC, dates
//! `YYYY-MM-DD`). The evaluation service handles no money: funding is a recommendation and a
//! share (R-E4), never an amount.

use egov_proto::evaluation::{
    AssessmentDue, AssessmentKind, AssessmentTrack, CatalogueEntry, CatalogueMatch, EliminationStatus, EntryKind, EntryState,
    EvaluationGrade, EvaluationRecord, EvaluationStatus, GetLatestEvaluationResponse, GradeThreshold, ImportCatalogueResponse,
    IndicatorSystem, PublishedEvaluation, RectificationStatus, ScheduledEvaluation, ScreenModulesResponse, ScreenedModule, ScreeningMatch,
    ScreeningVerdict, SearchCatalogueResponse, ThirdPartyAudit,
};
use serde_json::{Value, json};

use crate::{
    enums::{self, ProtoEnum},
    render::{
        Fields, Listed, Output, Table, block, date_json, date_text, list_or_dash, or_dash, percent_bp, section, ts_json, ts_text, yes,
    },
};

// ------------------------------------------------------------------ names in English and Chinese

fn with_zh(en: String, zh: &str) -> String {
    if zh.is_empty() { en } else { format!("{en} ({zh})") }
}

/// `SHORT_NAME (中文)` of a wire value, by the Chinese of its known values.
fn named<E: ProtoEnum>(v: i32, zh: fn(E) -> &'static str) -> String {
    with_zh(enums::short::<E>(v), E::try_from(v).map(zh).unwrap_or_default())
}

fn kind_zh(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Unspecified => "",
        EntryKind::Application => "应用编目",
        EntryKind::Data => "数据编目",
        EntryKind::Cloud => "云资源编目",
        EntryKind::Component => "组件编目",
    }
}

fn state_zh(s: EntryState) -> &'static str {
    match s {
        EntryState::Unspecified => "",
        EntryState::Listed => "在册",
        EntryState::Stopped => "停用",
        EntryState::Eliminated => "强制淘汰",
        EntryState::Delisted => "下架",
    }
}

fn grade_zh(g: EvaluationGrade) -> &'static str {
    match g {
        EvaluationGrade::Unspecified => "",
        EvaluationGrade::Excellent => "优秀",
        EvaluationGrade::Good => "良好",
        EvaluationGrade::Pass => "合格",
        EvaluationGrade::Fail => "不合格",
    }
}

fn status_zh(s: EvaluationStatus) -> &'static str {
    match s {
        EvaluationStatus::Unspecified => "",
        EvaluationStatus::Open => "评价中",
        EvaluationStatus::Published => "已公布",
    }
}

fn rectification_zh(s: RectificationStatus) -> &'static str {
    match s {
        RectificationStatus::Unspecified => "",
        RectificationStatus::Pending => "整改中",
        RectificationStatus::Rectified => "已整改",
        RectificationStatus::Overdue => "整改逾期",
    }
}

fn elimination_zh(s: EliminationStatus) -> &'static str {
    match s {
        EliminationStatus::Unspecified => "",
        EliminationStatus::Proposed => "已提议淘汰，待分管区领导决定",
        EliminationStatus::Approved => "分管区领导同意淘汰",
        EliminationStatus::Rejected => "分管区领导不同意淘汰",
        EliminationStatus::Executed => "已强制淘汰",
    }
}

fn assessment_zh(k: AssessmentKind) -> &'static str {
    match k {
        AssessmentKind::Unspecified => "",
        AssessmentKind::ClassifiedProtection => "等保测评",
        AssessmentKind::Cryptography => "密评",
    }
}

fn verdict_zh(v: ScreeningVerdict) -> &'static str {
    match v {
        ScreeningVerdict::Unspecified => "",
        ScreeningVerdict::Duplicate => "重复建设",
        ScreeningVerdict::PartialDuplicate => "部分重复",
        ScreeningVerdict::Distinct => "不重复",
    }
}

/// `LISTED (在册)`.
pub fn state_text(v: i32) -> String {
    named::<EntryState>(v, state_zh)
}

pub fn kind_text(v: i32) -> String {
    named::<EntryKind>(v, kind_zh)
}

/// `GOOD (良好)`, `-` when there is none yet.
pub fn grade_text(v: i32) -> String {
    named::<EvaluationGrade>(v, grade_zh)
}

fn assessment_text(v: i32) -> String {
    named::<AssessmentKind>(v, assessment_zh)
}

fn verdict_text(v: i32) -> String {
    named::<ScreeningVerdict>(v, verdict_zh)
}

/// Where an entry came from: catalogued from a project, or imported.
fn source_text(s: &str) -> String {
    let zh = match s {
        "PROJECT" => "项目编目",
        "DISTRICT" => "区级存量应用",
        "PROVINCE" => "省级共享应用",
        _ => "",
    };
    with_zh(or_dash(s), zh)
}

/// A sharing violation's status (a string on the wire).
fn sharing_text(s: &str) -> String {
    let zh = match s {
        "PENDING" => "整改中",
        "RECTIFIED" => "已整改",
        "DELISTED" => "已下架",
        _ => "",
    };
    with_zh(or_dash(s), zh)
}

/// A weighted score in hundredths: 8250 → `82.50`.
pub fn centi(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let abs = v.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Passed or not, as R-I6 reads it.
fn passed_text(passed: bool) -> &'static str {
    if passed { "passed" } else { "NOT passed" }
}

/// `全额保障 / fund in full (100.00 % of the requested O&M funding)`.
fn funding_text(recommendation: &str, bp: i32) -> String {
    if recommendation.is_empty() && bp == 0 {
        return "-".into();
    }
    format!("{} ({} of the requested O&M funding, R-E4)", or_dash(recommendation), percent_bp(bp))
}

// ------------------------------------------------------------------ JSON of the parts

fn evaluation_json(r: &EvaluationRecord) -> Value {
    json!({
        "evaluation_id": r.evaluation_id,
        "status": enums::full::<EvaluationStatus>(r.status),
        "indicator_system": r.indicator_system,
        "scores": r.scores.iter().map(|s| json!({
            "indicator": s.indicator,
            "score": s.score,
            "comment": s.comment,
            "scored_by": s.scored_by,
            "scored_by_role": s.scored_by_role,
        })).collect::<Vec<_>>(),
        "score_centi": r.score_centi,
        "grade": enums::full::<EvaluationGrade>(r.grade),
        "passed": r.passed,
        "published_on": date_json(&r.published_on),
        "funding_recommendation": r.funding_recommendation,
        "funding_bp": r.funding_bp,
        "comment": r.comment,
        "opened_at": ts_json(&r.opened_at),
    })
}

fn track_json(t: &AssessmentTrack) -> Value {
    json!({
        "kind": enums::full::<AssessmentKind>(t.kind),
        "due_on": date_json(&t.due_on),
        "reminded": t.reminded,
        "overdue": t.overdue,
        "last_done_on": date_json(&t.last_done_on),
        "last_conclusion": t.last_conclusion,
        "last_report_reference": t.last_report_reference,
    })
}

fn audit_json(a: &ThirdPartyAudit) -> Value {
    json!({
        "document_id": a.document_id,
        "auditor": a.auditor,
        "file_name": a.file_name,
        "content_type": a.content_type,
        "size_bytes": a.size_bytes,
        "sha256": a.sha256,
        "sm3": a.sm3,
        "uploaded_by": a.uploaded_by,
        "uploaded_at": ts_json(&a.uploaded_at),
        "conclusion": a.conclusion,
    })
}

fn rectification_json(e: &CatalogueEntry) -> Value {
    e.rectification.as_ref().map_or(Value::Null, |r| {
        json!({
            "status": enums::full::<RectificationStatus>(r.status),
            "evaluation_id": r.evaluation_id,
            "rectify_by": date_json(&r.rectify_by),
            "cleared_by_evaluation_id": r.cleared_by_evaluation_id,
        })
    })
}

fn elimination_json(e: &CatalogueEntry) -> Value {
    e.elimination.as_ref().map_or(Value::Null, |x| {
        json!({
            "status": enums::full::<EliminationStatus>(x.status),
            "reason": x.reason,
            "proposed_by": x.proposed_by,
            "decided_by": x.decided_by,
            "decision_comment": x.decision_comment,
            "proposed_on": date_json(&x.proposed_on),
            "decided_on": date_json(&x.decided_on),
        })
    })
}

// ------------------------------------------------------------------ text of the parts

fn push_evaluation(out: &mut String, r: &EvaluationRecord) {
    let mut f = Fields::new();
    f.add("status", named::<EvaluationStatus>(r.status, status_zh)).add("indicator system", or_dash(&r.indicator_system));
    f.add("opened", ts_text(&r.opened_at));
    if r.status == EvaluationStatus::Published as i32 {
        f.add("published on", date_text(&r.published_on))
            .add("weighted score", centi(r.score_centi))
            .add("grade", format!("{}, {}", grade_text(r.grade), passed_text(r.passed)))
            .add("funding", funding_text(&r.funding_recommendation, r.funding_bp));
    } else {
        f.add("scored", format!("{} indicator(s) so far", r.scores.len()));
    }
    if !r.comment.is_empty() {
        f.add("comment", &r.comment);
    }
    block(out, &format!("Evaluation {} (绩效评价, R-E2)", r.evaluation_id), &f);
    let mut t = Table::new(&["INDICATOR", "SCORE", "BY", "ROLE", "COMMENT"]);
    for s in &r.scores {
        t.row(vec![s.indicator.clone(), s.score.to_string(), or_dash(&s.scored_by), or_dash(&s.scored_by_role), or_dash(&s.comment)]);
    }
    section(out, &format!("Scores of evaluation {}", r.evaluation_id), &t, r.scores.is_empty());
}

fn push_rectification(out: &mut String, e: &CatalogueEntry) {
    let Some(r) = &e.rectification else { return };
    let mut f = Fields::new();
    f.add("status", named::<RectificationStatus>(r.status, rectification_zh))
        .add("asked by", format!("evaluation {} (a grade below the passing grade)", or_dash(&r.evaluation_id)))
        .add("rectify by", format!("{} (a passing re-evaluation published by this day clears it)", date_text(&r.rectify_by)));
    if !r.cleared_by_evaluation_id.is_empty() {
        f.add("cleared by", format!("evaluation {}", r.cleared_by_evaluation_id));
    }
    if r.status == RectificationStatus::Overdue as i32 && e.elimination.is_none() {
        f.add("next", "DRB may propose elimination to the leader in charge (R-E3)");
    }
    block(out, "Rectification (整改, R-E3)", &f);
}

fn push_elimination(out: &mut String, e: &CatalogueEntry) {
    let Some(x) = &e.elimination else { return };
    let mut f = Fields::new();
    f.add("status", named::<EliminationStatus>(x.status, elimination_zh))
        .add("reason", or_dash(&x.reason))
        .add("proposed", format!("{} by {}", date_text(&x.proposed_on), or_dash(&x.proposed_by)));
    if !x.decided_by.is_empty() || x.decided_on.is_some() {
        f.add("decided", format!("{} by {}", date_text(&x.decided_on), or_dash(&x.decided_by)));
    }
    if !x.decision_comment.is_empty() {
        f.add("decision comment", &x.decision_comment);
    }
    let next = match EliminationStatus::try_from(x.status) {
        Ok(EliminationStatus::Proposed) => "the leader in charge (LEADER) approves or rejects it",
        Ok(EliminationStatus::Approved) => "DRB eliminates the application: delisted, its timers end",
        _ => "",
    };
    if !next.is_empty() {
        f.add("next", next);
    }
    block(out, "Elimination (强制淘汰, R-E3)", &f);
}

fn push_sharing(out: &mut String, e: &CatalogueEntry) {
    let Some(s) = &e.sharing_violation else { return };
    let mut f = Fields::new();
    f.add("status", sharing_text(&s.status))
        .add("violation", or_dash(&s.description))
        .add("recorded on", date_text(&s.recorded_on))
        .add("rectify by", format!("{} (unrectified, delisted the day after)", date_text(&s.rectify_by)));
    if !s.rectification_note.is_empty() {
        f.add("rectification", &s.rectification_note);
    }
    block(out, "Sharing violation (数据共享, R-E5)", &f);
}

fn tracks_table(tracks: &[AssessmentTrack]) -> Table {
    let mut t = Table::new(&["KIND", "DUE ON", "REMINDED", "OVERDUE", "LAST DONE", "CONCLUSION", "REPORT"]);
    for x in tracks {
        t.row(vec![
            assessment_text(x.kind),
            date_text(&x.due_on),
            yes(x.reminded).into(),
            if x.overdue { "OVERDUE".into() } else { "no".into() },
            date_text(&x.last_done_on),
            or_dash(&x.last_conclusion),
            or_dash(&x.last_report_reference),
        ]);
    }
    t
}

fn audits_table(audits: &[ThirdPartyAudit]) -> Table {
    let mut t = Table::new(&["DOCUMENT", "AUDITOR", "FILE", "SIZE", "UPLOADED BY", "UPLOADED", "CONCLUSION"]);
    for a in audits {
        t.row(vec![
            a.document_id.clone(),
            a.auditor.clone(),
            a.file_name.clone(),
            a.size_bytes.to_string(),
            or_dash(&a.uploaded_by),
            ts_text(&a.uploaded_at),
            or_dash(&a.conclusion),
        ]);
    }
    t
}

fn schedule_text(e: &CatalogueEntry) -> Option<String> {
    let s = e.schedule.as_ref()?;
    let due = if s.due { " — DUE: no evaluation published since (R-E2)" } else { " (R-E2)" };
    Some(format!("{}{due}", date_text(&s.next_due_on)))
}

fn security_text(e: &CatalogueEntry) -> String {
    let mut s = if e.classified_protection_level > 0 { format!("等保 level {}", e.classified_protection_level) } else { "-".into() };
    if e.important_system {
        s.push_str(", important information system (密评)");
    }
    s
}

// ------------------------------------------------------------------ catalogue entries

impl Output for CatalogueEntry {
    fn to_json(&self) -> Value {
        json!({
            "entry_id": self.entry_id,
            "kind": enums::full::<EntryKind>(self.kind),
            "state": enums::full::<EntryState>(self.state),
            "name": self.name,
            "description": self.description,
            "builder_unit_id": self.builder_unit_id,
            "operator_unit_id": self.operator_unit_id,
            "user_unit_ids": self.user_unit_ids,
            "project_id": self.project_id,
            "app_id": self.app_id,
            "functions": self.functions.iter().map(|f| json!({ "name": f.name, "description": f.description })).collect::<Vec<_>>(),
            "source": self.source,
            "category": self.category,
            "go_live_on": date_json(&self.go_live_on),
            "classified_protection_level": self.classified_protection_level,
            "important_system": self.important_system,
            "schedule": self.schedule.as_ref().map(|s| json!({ "next_due_on": date_json(&s.next_due_on), "due": s.due })),
            "evaluations": self.evaluations.iter().map(evaluation_json).collect::<Vec<_>>(),
            "rectification": rectification_json(self),
            "elimination": elimination_json(self),
            "sharing_violation": self.sharing_violation.as_ref().map(|s| json!({
                "description": s.description,
                "recorded_on": date_json(&s.recorded_on),
                "rectify_by": date_json(&s.rectify_by),
                "status": s.status,
                "rectification_note": s.rectification_note,
            })),
            "assessments": self.assessments.iter().map(track_json).collect::<Vec<_>>(),
            "audits": self.audits.iter().map(audit_json).collect::<Vec<_>>(),
            "early_stop": self.early_stop.as_ref().map(|s| json!({
                "stopped_on": date_json(&s.stopped_on),
                "reason": s.reason,
                "within_early_stop_years": s.within_early_stop_years,
                "ineligible_year": s.ineligible_year,
            })),
            "policy_version": self.policy_version,
            "etag": self.etag,
            "catalogued_at": ts_json(&self.catalogued_at),
        })
    }

    fn to_text(&self) -> String {
        let mut f = Fields::new();
        f.add("entry", &self.entry_id).add("name", &self.name).add("kind", kind_text(self.kind)).add("state", state_text(self.state));
        if !self.description.is_empty() {
            f.add("description", &self.description);
        }
        f.add("source", source_text(&self.source))
            .add("builder unit", format!("{} (谁建设谁负责)", or_dash(&self.builder_unit_id)))
            .add("operator unit", format!("{} (谁运行谁负责)", or_dash(&self.operator_unit_id)))
            .add("user units", format!("{} (谁使用谁负责)", list_or_dash(&self.user_unit_ids)));
        if !self.project_id.is_empty() {
            f.add("project", &self.project_id);
        }
        if !self.app_id.is_empty() {
            f.add("application", &self.app_id);
        }
        if !self.category.is_empty() {
            f.add("category", &self.category);
        }
        if self.go_live_on.is_some() {
            f.add("went live on", date_text(&self.go_live_on));
        }
        if self.classified_protection_level > 0 || self.important_system {
            f.add("security", security_text(self));
        }
        if let Some(s) = schedule_text(self) {
            f.add("next evaluation", s);
        }
        f.add("policy", or_dash(&self.policy_version)).add("catalogued", ts_text(&self.catalogued_at)).add("etag", &self.etag);
        let mut out = f.render();

        let mut t = Table::new(&["#", "FUNCTION", "DESCRIPTION"]);
        for (i, m) in self.functions.iter().enumerate() {
            t.row(vec![(i + 1).to_string(), m.name.clone(), or_dash(&m.description)]);
        }
        section(&mut out, "Functions (功能模块)", &t, self.functions.is_empty());
        for r in &self.evaluations {
            push_evaluation(&mut out, r);
        }
        push_rectification(&mut out, self);
        push_elimination(&mut out, self);
        push_sharing(&mut out, self);
        section(&mut out, "Assessments (等保测评 / 密评, R-E7)", &tracks_table(&self.assessments), self.assessments.is_empty());
        section(&mut out, "Third-party audits (R-E8)", &audits_table(&self.audits), self.audits.is_empty());
        if let Some(s) = &self.early_stop {
            let judged = if s.within_early_stop_years {
                format!("yes: stopped within the policy's years of going live; the unit may not apply in {}", s.ineligible_year)
            } else {
                "no: the unit's eligibility is not affected".into()
            };
            block(
                &mut out,
                "Stopped (停用, R-E6)",
                Fields::new().add("stopped on", date_text(&s.stopped_on)).add("reason", or_dash(&s.reason)).add("early stop", judged),
            );
        }
        out
    }
}

impl Listed for CatalogueEntry {
    const ITEMS: &'static str = "entries";
    const NONE: Option<&'static str> = Some("no entries");
    const COLUMNS: &'static [&'static str] = &["ENTRY", "KIND", "STATE", "SOURCE", "OPERATOR", "NEXT EVALUATION", "ETAG", "NAME"];

    fn row(&self) -> Vec<String> {
        vec![
            self.entry_id.clone(),
            kind_text(self.kind),
            state_text(self.state),
            or_dash(&self.source),
            or_dash(&self.operator_unit_id),
            self.schedule
                .as_ref()
                .map(|s| format!("{}{}", date_text(&s.next_due_on), if s.due { " DUE" } else { "" }))
                .unwrap_or("-".into()),
            self.etag.clone(),
            self.name.clone(),
        ]
    }
}

/// What R-E3 asks of an application now: its state, rectification and elimination.
pub struct Rectification<'a>(pub &'a CatalogueEntry);

impl Output for Rectification<'_> {
    fn to_json(&self) -> Value {
        let e = self.0;
        json!({
            "entry_id": e.entry_id,
            "name": e.name,
            "state": enums::full::<EntryState>(e.state),
            "rectification": rectification_json(e),
            "elimination": elimination_json(e),
            "etag": e.etag,
        })
    }

    fn to_text(&self) -> String {
        let e = self.0;
        let mut out = Fields::new()
            .add("application", format!("{} {}", e.entry_id, e.name))
            .add("state", state_text(e.state))
            .add("etag", &e.etag)
            .render();
        if e.rectification.is_none() && e.elimination.is_none() {
            out.push_str("\nno rectification: no published grade below the passing grade (R-E3)\n");
        }
        push_rectification(&mut out, e);
        push_elimination(&mut out, e);
        out
    }
}

// ------------------------------------------------------------------ import and screening

impl Output for ImportCatalogueResponse {
    fn to_json(&self) -> Value {
        json!({
            "import_id": self.import_id,
            "document_id": self.document_id,
            "sha256": self.sha256,
            "sm3": self.sm3,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors.iter().map(|e| json!({ "row": e.row, "field": e.field, "description": e.description })).collect::<Vec<_>>(),
        })
    }

    fn to_text(&self) -> String {
        let mut out = Fields::new()
            .add("import", &self.import_id)
            .add("file", format!("{} (stored, R-X1)", self.document_id))
            .add("sha256", &self.sha256)
            .add("sm3", &self.sm3)
            .add("created", format!("{} application(s) catalogued", self.created))
            .add("updated", self.updated.to_string())
            .add("unchanged", self.unchanged.to_string())
            .add("rows refused", self.errors.len().to_string())
            .render();
        let mut t = Table::new(&["ROW", "FIELD", "PROBLEM"]);
        for e in &self.errors {
            t.row(vec![if e.row == 0 { "file".into() } else { e.row.to_string() }, or_dash(&e.field), e.description.clone()]);
        }
        section(&mut out, "Rows not imported (the others were)", &t, self.errors.is_empty());
        out
    }
}

fn match_json(m: &ScreeningMatch) -> Value {
    json!({
        "entry_id": m.entry_id,
        "name": m.name,
        "owner_unit": m.owner_unit,
        "score": m.score,
        "function_name": m.function_name,
        "shared_terms": m.shared_terms,
        "source": m.source,
    })
}

fn module_json(s: &ScreenedModule) -> Value {
    json!({
        "module": s.module,
        "matches": s.matches.iter().map(match_json).collect::<Vec<_>>(),
        "verdict": enums::full::<ScreeningVerdict>(s.verdict),
    })
}

impl Output for ScreenModulesResponse {
    fn to_json(&self) -> Value {
        json!({
            "modules": self.modules.iter().map(module_json).collect::<Vec<_>>(),
            "duplicate_score": self.duplicate_score,
            "partial_duplicate_score": self.partial_duplicate_score,
            "policy_version": self.policy_version,
        })
    }

    fn to_text(&self) -> String {
        let count = |v: ScreeningVerdict| self.modules.iter().filter(|m| m.verdict == v as i32).count();
        let mut out = format!(
            "{} module(s) screened against the catalogue (R-I9): {} duplicate, {} partial duplicate, {} distinct\n\
             thresholds: duplicate from {:.2}, partial duplicate from {:.2} (policy {})\n",
            self.modules.len(),
            count(ScreeningVerdict::Duplicate),
            count(ScreeningVerdict::PartialDuplicate),
            count(ScreeningVerdict::Distinct),
            self.duplicate_score,
            self.partial_duplicate_score,
            or_dash(&self.policy_version),
        );
        for (i, s) in self.modules.iter().enumerate() {
            let mut t = Table::new(&["SCORE", "APPLICATION", "ENTRY", "OWNER", "SOURCE", "FUNCTION", "SHARED TERMS (reason)"]);
            for m in &s.matches {
                t.row(vec![
                    format!("{:.2}", m.score),
                    m.name.clone(),
                    m.entry_id.clone(),
                    or_dash(&m.owner_unit),
                    source_text(&m.source),
                    or_dash(&m.function_name),
                    list_or_dash(&m.shared_terms),
                ]);
            }
            let title = format!("Module {}: {} — {}", i + 1, s.module, verdict_text(s.verdict));
            if s.matches.is_empty() {
                out.push_str(&format!("\n{title}:\n  no catalogued function resembles it\n"));
            } else {
                section(&mut out, &title, &t, false);
            }
        }
        out
    }
}

impl Output for SearchCatalogueResponse {
    fn to_json(&self) -> Value {
        json!({ "matches": self.matches.iter().map(|m: &CatalogueMatch| json!({
            "entry_id": m.entry_id, "name": m.name, "owner_unit": m.owner_unit, "score": m.score,
        })).collect::<Vec<_>>() })
    }

    fn to_text(&self) -> String {
        if self.matches.is_empty() {
            return "no catalogued application resembles it\n".into();
        }
        let mut t = Table::new(&["SCORE", "ENTRY", "OWNER", "NAME"]);
        for m in &self.matches {
            t.row(vec![format!("{:.2}", m.score), m.entry_id.clone(), or_dash(&m.owner_unit), m.name.clone()]);
        }
        t.render()
    }
}

/// The answer of `queries latest`, with the application asked about.
pub struct Latest<'a>(pub &'a str, pub &'a GetLatestEvaluationResponse);

impl Output for Latest<'_> {
    fn to_json(&self) -> Value {
        json!({ "evaluation": self.1.evaluation.as_ref().map(|e| json!({
            "app_id": e.app_id,
            "grade": enums::full::<EvaluationGrade>(e.grade),
            "passed": e.passed,
            "evaluated_on": date_json(&e.evaluated_on),
        })) })
    }

    fn to_text(&self) -> String {
        match &self.1.evaluation {
            None => format!("application {} has never been evaluated (R-I6)\n", self.0),
            Some(e) => format!(
                "application {}: latest evaluation {} on {}, {} (R-I6)\n",
                e.app_id,
                grade_text(e.grade),
                date_text(&e.evaluated_on),
                passed_text(e.passed)
            ),
        }
    }
}

// ------------------------------------------------------------------ indicator systems, schedules, results

fn grade_json(g: &GradeThreshold) -> Value {
    json!({
        "grade": enums::full::<EvaluationGrade>(g.grade),
        "min_score": g.min_score,
        "funding_recommendation": g.funding_recommendation,
        "funding_bp": g.funding_bp,
    })
}

impl Output for IndicatorSystem {
    fn to_json(&self) -> Value {
        json!({
            "version": self.version,
            "effective_from": date_json(&self.effective_from),
            "indicators": self.indicators.iter().map(|i| json!({
                "code": i.code, "title": i.title, "weight": i.weight, "assessed_by": i.assessed_by,
            })).collect::<Vec<_>>(),
            "grades": self.grades.iter().map(grade_json).collect::<Vec<_>>(),
            "passing_grade": enums::full::<EvaluationGrade>(self.passing_grade),
            "first_evaluation_months_business": self.first_evaluation_months_business,
            "first_evaluation_months_other": self.first_evaluation_months_other,
            "evaluation_interval_months": self.evaluation_interval_months,
            "rectification_months": self.rectification_months,
        })
    }

    fn to_text(&self) -> String {
        let weights: i32 = self.indicators.iter().map(|i| i.weight).sum();
        let mut out = Fields::new()
            .add("indicator system", format!("policy {}", self.version))
            .add("effective from", date_text(&self.effective_from))
            .add("passing grade", format!("{} and better (R-I6); below it, rectification (R-E3)", grade_text(self.passing_grade)))
            .add(
                "first evaluation",
                format!(
                    "{} months after going live for business applications, {} for others (R-E2)",
                    self.first_evaluation_months_business, self.first_evaluation_months_other
                ),
            )
            .add("then", format!("every {} months after each published evaluation", self.evaluation_interval_months))
            .add("rectification", format!("within {} months of a failing grade (R-E3)", self.rectification_months))
            .render();
        let mut t = Table::new(&["CODE", "WEIGHT", "SCORED BY", "TITLE"]);
        for i in &self.indicators {
            t.row(vec![i.code.clone(), format!("{} %", i.weight), i.assessed_by.clone(), i.title.clone()]);
        }
        section(&mut out, &format!("Indicators (指标, weights {weights} % in all)"), &t, self.indicators.is_empty());
        let mut t = Table::new(&["GRADE", "FROM SCORE", "FUNDING SHARE", "FUNDING RECOMMENDATION (R-E4)"]);
        for g in &self.grades {
            t.row(vec![grade_text(g.grade), g.min_score.to_string(), percent_bp(g.funding_bp), or_dash(&g.funding_recommendation)]);
        }
        section(&mut out, "Grades (等次)", &t, self.grades.is_empty());
        out
    }
}

/// Every indicator system, one per policy version.
pub struct Systems<'a>(pub &'a [IndicatorSystem]);

impl Output for Systems<'_> {
    fn to_json(&self) -> Value {
        json!({ "systems": self.0.iter().map(Output::to_json).collect::<Vec<_>>() })
    }

    fn to_text(&self) -> String {
        if self.0.is_empty() {
            return "no indicator systems\n".into();
        }
        let mut t = Table::new(&["VERSION", "EFFECTIVE FROM", "INDICATORS", "PASSING GRADE", "INTERVAL", "RECTIFICATION"]);
        for s in self.0 {
            t.row(vec![
                s.version.clone(),
                date_text(&s.effective_from),
                list_or_dash(&s.indicators.iter().map(|i| format!("{} {} %", i.code, i.weight)).collect::<Vec<_>>()),
                grade_text(s.passing_grade),
                format!("{} months", s.evaluation_interval_months),
                format!("{} months", s.rectification_months),
            ]);
        }
        t.render()
    }
}

impl Output for ScheduledEvaluation {
    fn to_json(&self) -> Value {
        json!({
            "app_id": self.app_id,
            "name": self.name,
            "operator_unit_id": self.operator_unit_id,
            "category": self.category,
            "next_due_on": date_json(&self.next_due_on),
            "due": self.due,
        })
    }

    fn to_text(&self) -> String {
        crate::render::Page(std::slice::from_ref(self), "").to_text()
    }
}

impl Listed for ScheduledEvaluation {
    const ITEMS: &'static str = "schedules";
    const NONE: Option<&'static str> = Some("no evaluations scheduled");
    const COLUMNS: &'static [&'static str] = &["APPLICATION", "NEXT DUE", "DUE NOW", "OPERATOR", "CATEGORY", "NAME"];

    fn row(&self) -> Vec<String> {
        vec![
            self.app_id.clone(),
            date_text(&self.next_due_on),
            if self.due { "DUE".into() } else { "no".into() },
            or_dash(&self.operator_unit_id),
            or_dash(&self.category),
            self.name.clone(),
        ]
    }
}

impl Output for PublishedEvaluation {
    fn to_json(&self) -> Value {
        json!({
            "evaluation_id": self.evaluation_id,
            "app_id": self.app_id,
            "name": self.name,
            "operator_unit_id": self.operator_unit_id,
            "published_on": date_json(&self.published_on),
            "score_centi": self.score_centi,
            "grade": enums::full::<EvaluationGrade>(self.grade),
            "passed": self.passed,
            "funding_recommendation": self.funding_recommendation,
            "funding_bp": self.funding_bp,
            "indicator_system": self.indicator_system,
        })
    }

    fn to_text(&self) -> String {
        crate::render::Page(std::slice::from_ref(self), "").to_text()
    }
}

impl Listed for PublishedEvaluation {
    const ITEMS: &'static str = "evaluations";
    const NONE: Option<&'static str> = Some("no published evaluations");
    const COLUMNS: &'static [&'static str] =
        &["PUBLISHED", "APPLICATION", "SCORE", "GRADE", "PASSED", "FUNDING", "SYSTEM", "OPERATOR", "EVALUATION", "NAME"];

    fn row(&self) -> Vec<String> {
        vec![
            date_text(&self.published_on),
            self.app_id.clone(),
            centi(self.score_centi),
            grade_text(self.grade),
            yes(self.passed).into(),
            format!("{} {}", percent_bp(self.funding_bp), self.funding_recommendation),
            or_dash(&self.indicator_system),
            or_dash(&self.operator_unit_id),
            self.evaluation_id.clone(),
            self.name.clone(),
        ]
    }
}

impl Output for AssessmentDue {
    fn to_json(&self) -> Value {
        json!({
            "app_id": self.app_id,
            "name": self.name,
            "operator_unit_id": self.operator_unit_id,
            "track": self.track.as_ref().map(track_json),
        })
    }

    fn to_text(&self) -> String {
        crate::render::Page(std::slice::from_ref(self), "").to_text()
    }
}

impl Listed for AssessmentDue {
    const ITEMS: &'static str = "assessments";
    const NONE: Option<&'static str> = Some("no assessments");
    const COLUMNS: &'static [&'static str] = &["APPLICATION", "KIND", "DUE ON", "REMINDED", "OVERDUE", "LAST DONE", "OPERATOR", "NAME"];

    fn row(&self) -> Vec<String> {
        let t = self.track.clone().unwrap_or_default();
        vec![
            self.app_id.clone(),
            assessment_text(t.kind),
            date_text(&t.due_on),
            yes(t.reminded).into(),
            if t.overdue { "OVERDUE".into() } else { "no".into() },
            date_text(&t.last_done_on),
            or_dash(&self.operator_unit_id),
            self.name.clone(),
        ]
    }
}

// ------------------------------------------------------------------ audit reports

impl Output for ThirdPartyAudit {
    fn to_json(&self) -> Value {
        audit_json(self)
    }

    fn to_text(&self) -> String {
        Fields::new()
            .add("document", &self.document_id)
            .add("auditor", &self.auditor)
            .add("file", &self.file_name)
            .add("content type", or_dash(&self.content_type))
            .add("size", format!("{} bytes", self.size_bytes))
            .add("sha256", &self.sha256)
            .add("sm3", &self.sm3)
            .add("conclusion", or_dash(&self.conclusion))
            .add("uploaded by", or_dash(&self.uploaded_by))
            .add("uploaded", ts_text(&self.uploaded_at))
            .render()
    }
}

/// A finished download of an audit report: its metadata, where its content went and how much.
pub struct Downloaded<'a> {
    pub audit: &'a ThirdPartyAudit,
    /// The file written, or `-` for standard output.
    pub written_to: String,
    pub bytes: u64,
}

impl Output for Downloaded<'_> {
    fn to_json(&self) -> Value {
        json!({ "audit": self.audit.to_json(), "written_to": self.written_to, "bytes_written": self.bytes })
    }

    fn to_text(&self) -> String {
        let to = if self.written_to == "-" { "standard output".to_string() } else { self.written_to.clone() };
        format!("{}\nwrote {} bytes to {to}: all {} bytes announced arrived\n", self.audit.to_text(), self.bytes, self.audit.size_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Page;
    use egov_proto::{
        common::CivilDate,
        evaluation::{EarlyStop, Elimination, EvaluationSchedule, FunctionModule, Indicator, IndicatorScore, SharingViolation},
    };

    fn d(year: i32, month: i32, day: i32) -> Option<CivilDate> {
        Some(CivilDate { year, month, day })
    }

    fn score(indicator: &str, score: i32, role: &str) -> IndicatorScore {
        IndicatorScore {
            indicator: indicator.into(),
            score,
            comment: "良好".into(),
            scored_by: format!("{}-local", role.to_lowercase()),
            scored_by_role: role.into(),
        }
    }

    fn app() -> CatalogueEntry {
        CatalogueEntry {
            entry_id: "A1".into(),
            kind: EntryKind::Application as i32,
            state: EntryState::Listed as i32,
            name: "上城区社会救助综合服务应用".into(),
            builder_unit_id: "U-CIVIL".into(),
            operator_unit_id: "U-BIGDATA".into(),
            user_unit_ids: vec!["U-CIVIL".into(), "U-STREET".into()],
            project_id: "P1".into(),
            functions: vec![FunctionModule { name: "救助申请".into(), description: "群众在线申请救助".into() }],
            source: "PROJECT".into(),
            category: "BUSINESS_APPLICATION".into(),
            go_live_on: d(2028, 1, 20),
            classified_protection_level: 3,
            important_system: true,
            schedule: Some(EvaluationSchedule { next_due_on: d(2028, 7, 20), due: true }),
            policy_version: "2026-1".into(),
            etag: "7".into(),
            ..Default::default()
        }
    }

    fn failed() -> EvaluationRecord {
        EvaluationRecord {
            evaluation_id: "E1".into(),
            status: EvaluationStatus::Published as i32,
            indicator_system: "2026-1".into(),
            scores: vec![score("USAGE", 50, "DRB"), score("COST", 55, "FINANCE")],
            score_centi: 5125,
            grade: EvaluationGrade::Fail as i32,
            passed: false,
            published_on: d(2028, 7, 25),
            funding_recommendation: "暂停运维经费，限期整改 / suspend funding until rectified".into(),
            funding_bp: 0,
            comment: "使用率低".into(),
            opened_at: None,
        }
    }

    #[test]
    fn an_entry_shows_its_parties_schedule_and_operation_record_in_both_languages() {
        let mut e = app();
        e.evaluations = vec![
            failed(),
            EvaluationRecord {
                evaluation_id: "E2".into(),
                status: EvaluationStatus::Open as i32,
                scores: vec![score("USAGE", 80, "DRB")],
                ..Default::default()
            },
        ];
        e.rectification = Some(egov_proto::evaluation::Rectification {
            status: RectificationStatus::Overdue as i32,
            evaluation_id: "E1".into(),
            rectify_by: d(2028, 10, 25),
            cleared_by_evaluation_id: String::new(),
        });
        e.elimination = Some(Elimination {
            status: EliminationStatus::Proposed as i32,
            reason: "逾期未整改".into(),
            proposed_by: "drb-local".into(),
            proposed_on: d(2028, 10, 27),
            ..Default::default()
        });
        e.sharing_violation = Some(SharingViolation {
            description: "未按目录共享".into(),
            recorded_on: d(2028, 8, 1),
            rectify_by: d(2028, 11, 1),
            status: "PENDING".into(),
            rectification_note: String::new(),
        });
        e.assessments = vec![AssessmentTrack {
            kind: AssessmentKind::ClassifiedProtection as i32,
            due_on: d(2029, 1, 20),
            reminded: true,
            ..Default::default()
        }];
        e.audits = vec![ThirdPartyAudit {
            document_id: "D1".into(),
            auditor: "浙江某会计师事务所".into(),
            file_name: "审计报告.pdf".into(),
            size_bytes: 1234,
            ..Default::default()
        }];
        e.early_stop =
            Some(EarlyStop {
                stopped_on: d(2029, 1, 1), reason: "职能调整".into(), within_early_stop_years: true, ineligible_year: 2030
            });
        let text = e.to_text();
        for want in [
            "kind             APPLICATION (应用编目)\nstate            LISTED (在册)\n",
            "source           PROJECT (项目编目)\n",
            "builder unit     U-CIVIL (谁建设谁负责)\noperator unit    U-BIGDATA (谁运行谁负责)\nuser units       U-CIVIL, U-STREET (谁使用谁负责)\n",
            "security         等保 level 3, important information system (密评)\n",
            "next evaluation  2028-07-20 — DUE: no evaluation published since (R-E2)\n",
            "Functions (功能模块):\n  #  FUNCTION  DESCRIPTION\n  1  救助申请  群众在线申请救助\n",
            "Evaluation E1 (绩效评价, R-E2):\n  status            PUBLISHED (已公布)\n",
            "  weighted score    51.25\n  grade             FAIL (不合格), NOT passed\n",
            "  funding           暂停运维经费，限期整改 / suspend funding until rectified (0.00 % of the requested O&M funding, R-E4)\n",
            "Scores of evaluation E1:\n  INDICATOR  SCORE  BY             ROLE     COMMENT\n  USAGE      50     drb-local      DRB      良好\n",
            "  COST       55     finance-local  FINANCE  良好\n",
            "Evaluation E2 (绩效评价, R-E2):\n  status            OPEN (评价中)\n",
            "  scored            1 indicator(s) so far\n",
            "Rectification (整改, R-E3):\n  status      OVERDUE (整改逾期)\n  asked by    evaluation E1 (a grade below the passing grade)\n",
            "  rectify by  2028-10-25 (a passing re-evaluation published by this day clears it)\n",
            "Elimination (强制淘汰, R-E3):\n  status    PROPOSED (已提议淘汰，待分管区领导决定)\n",
            "  next      the leader in charge (LEADER) approves or rejects it\n",
            "Sharing violation (数据共享, R-E5):\n  status       PENDING (整改中)\n",
            "  rectify by   2028-11-01 (unrectified, delisted the day after)\n",
            "  CLASSIFIED_PROTECTION (等保测评)  2029-01-20  yes       no",
            "  D1        浙江某会计师事务所  审计报告.pdf  1234",
            "Stopped (停用, R-E6):\n",
            "  early stop  yes: stopped within the policy's years of going live; the unit may not apply in 2030\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert!(!text.contains("next      DRB may propose"), "elimination is already proposed: {text}");
        let j = e.to_json();
        assert_eq!((j["kind"].as_str(), j["state"].as_str()), (Some("ENTRY_KIND_APPLICATION"), Some("ENTRY_STATE_LISTED")));
        assert_eq!(j["evaluations"][0]["grade"], "EVALUATION_GRADE_FAIL");
        assert_eq!(j["evaluations"][0]["score_centi"], 5125);
        assert_eq!(j["evaluations"][0]["scores"][1]["scored_by_role"], "FINANCE");
        assert_eq!(j["evaluations"][1]["status"], "EVALUATION_STATUS_OPEN");
        assert_eq!(j["rectification"]["status"], "RECTIFICATION_STATUS_OVERDUE");
        assert_eq!(j["rectification"]["rectify_by"], "2028-10-25");
        assert_eq!(j["elimination"]["status"], "ELIMINATION_STATUS_PROPOSED");
        assert_eq!(j["assessments"][0]["kind"], "ASSESSMENT_KIND_CLASSIFIED_PROTECTION");
        assert_eq!(j["schedule"]["due"], true);
        assert_eq!(j["early_stop"]["ineligible_year"], 2030);
        assert_eq!(j["go_live_on"], "2028-01-20");
    }

    #[test]
    fn a_plain_entry_leaves_out_what_it_has_not() {
        let e = CatalogueEntry {
            entry_id: "X1".into(),
            kind: EntryKind::Data as i32,
            state: EntryState::Delisted as i32,
            name: "低保核对数据".into(),
            source: "PROJECT".into(),
            ..Default::default()
        };
        let text = e.to_text();
        assert!(text.contains("kind           DATA (数据编目)\nstate          DELISTED (下架)\n"), "{text}");
        for absent in ["next evaluation", "security", "Functions", "Evaluation", "Rectification", "Stopped", "went live"] {
            assert!(!text.contains(absent), "{absent} in {text}");
        }
        let j = e.to_json();
        assert_eq!((j["schedule"].clone(), j["rectification"].clone(), j["go_live_on"].clone()), (Value::Null, Value::Null, Value::Null));
        assert_eq!(Page::<CatalogueEntry>(&[], "").to_text(), "no entries\n");
        let text = Page(&[app()], "n").to_text();
        assert!(
            text.starts_with("ENTRY  KIND                    STATE          SOURCE   OPERATOR   NEXT EVALUATION  ETAG  NAME\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "A1     APPLICATION (应用编目)  LISTED (在册)  PROJECT  U-BIGDATA  2028-07-20 DUE   7     上城区社会救助综合服务应用\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("more: --page-token n\n"), "{text}");
    }

    #[test]
    fn rectification_says_what_r_e3_asks_next() {
        let mut e = app();
        assert!(Rectification(&e).to_text().contains("no rectification: no published grade below the passing grade (R-E3)"));
        e.rectification = Some(egov_proto::evaluation::Rectification {
            status: RectificationStatus::Overdue as i32,
            evaluation_id: "E1".into(),
            rectify_by: d(2028, 10, 25),
            cleared_by_evaluation_id: String::new(),
        });
        let text = Rectification(&e).to_text();
        assert!(text.contains("  next        DRB may propose elimination to the leader in charge (R-E3)\n"), "{text}");
        e.elimination = Some(Elimination {
            status: EliminationStatus::Approved as i32,
            decided_by: "leader-local".into(),
            decided_on: d(2028, 11, 2),
            decision_comment: "同意".into(),
            ..Default::default()
        });
        let text = Rectification(&e).to_text();
        assert!(text.contains("  status            APPROVED (分管区领导同意淘汰)\n"), "{text}");
        assert!(text.contains("  decided           2028-11-02 by leader-local\n"), "{text}");
        assert!(text.contains("  next              DRB eliminates the application: delisted, its timers end\n"), "{text}");
        let j = Rectification(&e).to_json();
        assert_eq!((j["elimination"]["status"].as_str(), j["etag"].as_str()), (Some("ELIMINATION_STATUS_APPROVED"), Some("7")));
        e.rectification.as_mut().unwrap().status = RectificationStatus::Rectified as i32;
        e.rectification.as_mut().unwrap().cleared_by_evaluation_id = "E3".into();
        e.elimination = None;
        let text = Rectification(&e).to_text();
        assert!(text.contains("  status      RECTIFIED (已整改)\n") && text.contains("  cleared by  evaluation E3\n"), "{text}");
    }

    #[test]
    fn screening_shows_each_module_with_its_matches_scores_and_reasons() {
        let s = ScreenModulesResponse {
            modules: vec![
                ScreenedModule {
                    module: "低保在线申请".into(),
                    verdict: ScreeningVerdict::Duplicate as i32,
                    matches: vec![ScreeningMatch {
                        entry_id: "S1".into(),
                        name: "上城区社会救助一件事".into(),
                        owner_unit: "区民政局".into(),
                        score: 0.934,
                        function_name: "低保网上申办".into(),
                        shared_terms: vec!["低保".into(), "申报".into()],
                        source: "DISTRICT".into(),
                    }],
                },
                ScreenedModule { module: "古树巡查".into(), verdict: ScreeningVerdict::Distinct as i32, matches: vec![] },
            ],
            duplicate_score: 0.85,
            partial_duplicate_score: 0.6,
            policy_version: "2026-1".into(),
        };
        let text = s.to_text();
        for want in [
            "2 module(s) screened against the catalogue (R-I9): 1 duplicate, 0 partial duplicate, 1 distinct\n",
            "thresholds: duplicate from 0.85, partial duplicate from 0.60 (policy 2026-1)\n",
            "Module 1: 低保在线申请 — DUPLICATE (重复建设):\n  SCORE  APPLICATION",
            "  0.93   上城区社会救助一件事  S1     区民政局  DISTRICT (区级存量应用)  低保网上申办  低保, 申报\n",
            "Module 2: 古树巡查 — DISTINCT (不重复):\n  no catalogued function resembles it\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        let j = s.to_json();
        assert_eq!(j["modules"][0]["verdict"], "SCREENING_VERDICT_DUPLICATE");
        assert_eq!(j["modules"][0]["matches"][0]["shared_terms"][1], "申报");
        assert_eq!(j["modules"][0]["matches"][0]["score"], 0.934);
        assert_eq!(j["duplicate_score"], 0.85);
    }

    #[test]
    fn indicator_systems_with_weights_grades_and_funding_shares() {
        let sys = IndicatorSystem {
            version: "2026-1".into(),
            effective_from: d(2026, 1, 1),
            indicators: vec![
                Indicator { code: "USAGE".into(), title: "应用使用情况 / usage".into(), weight: 80, assessed_by: "DRB".into() },
                Indicator { code: "COST".into(), title: "成本效益 / cost".into(), weight: 20, assessed_by: "FINANCE".into() },
            ],
            grades: vec![GradeThreshold {
                grade: EvaluationGrade::Pass as i32,
                min_score: 60,
                funding_recommendation: "压减运维经费".into(),
                funding_bp: 8000,
            }],
            passing_grade: EvaluationGrade::Pass as i32,
            first_evaluation_months_business: 6,
            first_evaluation_months_other: 12,
            evaluation_interval_months: 12,
            rectification_months: 3,
        };
        let text = sys.to_text();
        for want in [
            "passing grade     PASS (合格) and better (R-I6); below it, rectification (R-E3)\n",
            "first evaluation  6 months after going live for business applications, 12 for others (R-E2)\n",
            "Indicators (指标, weights 100 % in all):\n",
            "  COST   20 %    FINANCE    成本效益 / cost\n",
            "  PASS (合格)  60          80.00 %        压减运维经费\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert_eq!(sys.to_json()["grades"][0]["funding_bp"], 8000);
        assert_eq!(sys.to_json()["passing_grade"], "EVALUATION_GRADE_PASS");
        let list = Systems(std::slice::from_ref(&sys));
        assert!(list.to_text().contains("2026-1   2026-01-01      USAGE 80 %, COST 20 %  PASS (合格)"), "{}", list.to_text());
        assert_eq!(list.to_json()["systems"][0]["version"], "2026-1");
        assert_eq!(Systems(&[]).to_text(), "no indicator systems\n");
    }

    #[test]
    fn lists_of_schedules_results_and_assessments() {
        let s = ScheduledEvaluation {
            app_id: "A1".into(),
            name: "社会救助".into(),
            operator_unit_id: "U-CIVIL".into(),
            category: "BUSINESS_APPLICATION".into(),
            next_due_on: d(2028, 7, 20),
            due: true,
        };
        let text = Page(std::slice::from_ref(&s), "").to_text();
        assert!(text.contains("A1           2028-07-20  DUE      U-CIVIL   BUSINESS_APPLICATION  社会救助\n"), "{text}");
        assert_eq!(Page::<ScheduledEvaluation>(&[], "").to_text(), "no evaluations scheduled\n");
        let p = PublishedEvaluation {
            evaluation_id: "E1".into(),
            app_id: "A1".into(),
            name: "社会救助".into(),
            published_on: d(2028, 7, 25),
            score_centi: 8250,
            grade: EvaluationGrade::Good as i32,
            passed: true,
            funding_recommendation: "全额保障 / fund in full".into(),
            funding_bp: 10000,
            indicator_system: "2026-1".into(),
            ..Default::default()
        };
        let text = Page(std::slice::from_ref(&p), "").to_text();
        assert!(text.contains("2028-07-25  A1           82.50  GOOD (良好)  yes     100.00 % 全额保障 / fund in full  2026-1"), "{text}");
        assert_eq!(Page(&[p], "").to_json()["evaluations"][0]["grade"], "EVALUATION_GRADE_GOOD");
        let a = AssessmentDue {
            app_id: "A1".into(),
            name: "社会救助".into(),
            operator_unit_id: "U-CIVIL".into(),
            track: Some(AssessmentTrack {
                kind: AssessmentKind::Cryptography as i32,
                due_on: d(2029, 1, 20),
                overdue: true,
                ..Default::default()
            }),
        };
        let text = Page(std::slice::from_ref(&a), "").to_text();
        assert!(text.contains("A1           CRYPTOGRAPHY (密评)  2029-01-20  no        OVERDUE"), "{text}");
        assert_eq!(Page(&[a], "").to_json()["assessments"][0]["track"]["overdue"], true);
    }

    #[test]
    fn imports_queries_and_downloads() {
        let r = ImportCatalogueResponse {
            import_id: "I1".into(),
            document_id: "D1".into(),
            sha256: "ab".into(),
            sm3: "cd".into(),
            created: 36,
            updated: 1,
            unchanged: 0,
            errors: vec![egov_proto::evaluation::ImportRowError {
                row: 7,
                field: "source".into(),
                description: "\"市级\": DISTRICT (区级) or PROVINCE (省级)".into(),
            }],
        };
        let text = r.to_text();
        assert!(text.contains("created       36 application(s) catalogued\n") && text.contains("rows refused  1\n"), "{text}");
        assert!(text.contains("Rows not imported (the others were):\n  ROW  FIELD   PROBLEM\n  7    source  \"市级\": DISTRICT (区级) or PROVINCE (省级)\n"), "{text}");
        assert_eq!(r.to_json()["errors"][0]["row"], 7);
        let none = GetLatestEvaluationResponse { evaluation: None };
        assert_eq!(Latest("A9", &none).to_text(), "application A9 has never been evaluated (R-I6)\n");
        assert_eq!(Latest("A9", &none).to_json()["evaluation"], Value::Null);
        let some = GetLatestEvaluationResponse {
            evaluation: Some(egov_proto::evaluation::Evaluation {
                app_id: "A1".into(),
                grade: EvaluationGrade::Pass as i32,
                passed: true,
                evaluated_on: d(2028, 7, 25),
            }),
        };
        assert_eq!(Latest("A1", &some).to_text(), "application A1: latest evaluation PASS (合格) on 2028-07-25, passed (R-I6)\n");
        let found = SearchCatalogueResponse {
            matches: vec![CatalogueMatch {
                entry_id: "S1".into(),
                name: "社会救助一件事".into(),
                owner_unit: "区民政局".into(),
                score: 0.5,
            }],
        };
        assert!(found.to_text().contains("0.50   S1     区民政局  社会救助一件事\n"), "{}", found.to_text());
        assert_eq!(SearchCatalogueResponse { matches: vec![] }.to_text(), "no catalogued application resembles it\n");
        let a = ThirdPartyAudit {
            document_id: "D1".into(),
            auditor: "审计所".into(),
            file_name: "r.pdf".into(),
            size_bytes: 10,
            ..Default::default()
        };
        let done = Downloaded { audit: &a, written_to: "-".into(), bytes: 10 };
        assert!(done.to_text().ends_with("\nwrote 10 bytes to standard output: all 10 bytes announced arrived\n"), "{}", done.to_text());
        assert_eq!(done.to_json()["audit"]["auditor"], "审计所");
        assert_eq!(centi(-5), "-0.05");
    }
}
