//! How responses are printed: aligned tables and key/value blocks for people (default), JSON for
//! scripts (`--json`). The JSON follows the protobuf JSON mapping's shape with the proto field
//! names (snake_case), enums by full name, timestamps in RFC 3339 UTC and dates as
//! `YYYY-MM-DD`; nothing is derived on the generated types.
//!
//! The `… list` answers are [`Page`]s of [`Listed`] items: each item type says its JSON key and
//! table row next to its own `Output`. The scalars and layout helpers here serve the review and
//! procurement renderers too.

use egov_proto::{
    common::{AuditRecord, CivilDate, ClockReading, DeadEvent, VerifyAuditTrailResponse},
    intake::{
        Application, ApplicationRound, ApplicationState, BudgetLine, BuildType, ChecklistResult, ComplianceChecklist, ComplianceDecision,
        ContentKind, CostCategory, Document, DocumentKind, FastTrackGround, FunctionModule, FundingSource, NecessityStatement, PenaltyKind,
        ProjectCategory, ProjectStatus, ReviewFlag, RoundState, ScreenedModule, Terminal, TimelineEntry, Unit, UnitEligibility,
        UnitPenalty,
    },
};
use serde_json::{Value, json};
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

use crate::enums::{self, ProtoEnum};

/// A response that can be shown both ways.
pub trait Output {
    fn to_json(&self) -> Value;
    fn to_text(&self) -> String;
}

/// Prints `value` as pretty JSON or as text.
pub fn print(value: &dyn Output, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(&value.to_json()).unwrap_or_else(|_| "null".into()));
    } else {
        let text = value.to_text();
        print!("{text}");
        if !text.ends_with('\n') {
            println!();
        }
    }
}

/// Prints `value` on standard error (when standard output carries a download's content).
pub fn eprint(value: &dyn Output, json: bool) {
    if json {
        eprintln!("{}", serde_json::to_string_pretty(&value.to_json()).unwrap_or_else(|_| "null".into()));
    } else {
        let text = value.to_text();
        eprint!("{text}");
        if !text.ends_with('\n') {
            eprintln!();
        }
    }
}

// ------------------------------------------------------------------ scalars

/// Asia/Shanghai has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact.
const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

fn instant(ts: &prost_types::Timestamp) -> Option<OffsetDateTime> {
    let nanos = i128::from(ts.seconds) * 1_000_000_000 + i128::from(ts.nanos);
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// RFC 3339 in UTC, `null` when absent.
pub fn ts_json(ts: &Option<prost_types::Timestamp>) -> Value {
    ts.as_ref().and_then(instant).and_then(|t| t.format(&Rfc3339).ok()).map_or(Value::Null, Value::String)
}

/// Local time of the district, to the second: `2026-11-24 12:30:05 +08:00`; `-` when absent.
pub fn ts_text(ts: &Option<prost_types::Timestamp>) -> String {
    ts.as_ref()
        .and_then(instant)
        .map(|t| {
            let t = t.to_offset(SHANGHAI);
            format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02} +08:00", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
        })
        .unwrap_or_else(|| "-".into())
}

pub fn date_text(d: &Option<CivilDate>) -> String {
    match d {
        Some(d) => format!("{:04}-{:02}-{:02}", d.year, d.month, d.day),
        None => "-".into(),
    }
}

pub fn date_json(d: &Option<CivilDate>) -> Value {
    d.as_ref().map_or(Value::Null, |_| Value::String(date_text(d)))
}

/// Fen as yuan with thousands separators: 120000000 → `1,200,000.00`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    let digits = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", abs % 100)
}

/// Hundredths as a decimal with two places: 8050 → `80.50`.
pub fn hundredths(v: i32) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let abs = v.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Basis points as a percentage: 600 → `6.00 %`.
pub fn percent_bp(bp: i32) -> String {
    format!("{} %", hundredths(bp))
}

/// Fen for people: `1,200,000.00 yuan (120000000 fen)`.
pub fn money(fen: i64) -> String {
    format!("{} yuan ({fen} fen)", yuan(fen))
}

pub fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

pub fn or_dash(s: &str) -> String {
    if s.is_empty() { "-".into() } else { s.to_string() }
}

pub fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() { "-".into() } else { items.join(", ") }
}

fn enum_list<E: ProtoEnum>(values: &[i32]) -> Value {
    Value::Array(values.iter().map(|&v| Value::String(enums::full::<E>(v))).collect())
}

fn enum_list_text<E: ProtoEnum>(values: &[i32]) -> String {
    list_or_dash(&values.iter().map(|&v| enums::short::<E>(v)).collect::<Vec<_>>())
}

// ------------------------------------------------------------------ layout

/// Terminal columns a character takes: East Asian wide and fullwidth characters take two.
fn char_width(c: char) -> usize {
    let u = c as u32;
    let wide = matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF |
        0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 |
        0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD);
    if c.is_control() {
        0
    } else if wide {
        2
    } else {
        1
    }
}

pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// Cells stay on one line: newlines and tabs become spaces.
fn cell(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// An aligned table: columns two spaces apart, the last one unpadded.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Table {
        Table { headers: headers.to_vec(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.iter().map(|c| cell(c)).collect());
    }

    pub fn render(&self) -> String {
        let n = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                widths[i] = widths[i].max(width(c));
            }
        }
        let mut out = String::new();
        let mut line = |cells: Vec<&str>| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                s.push_str(c);
                if i + 1 < cells.len() {
                    s.push_str(&" ".repeat(widths[i].saturating_sub(width(c)) + 2));
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        line(self.headers.to_vec());
        for r in &self.rows {
            line(r.iter().map(String::as_str).collect());
        }
        out
    }
}

/// `key  value` lines with the keys aligned.
pub struct Fields {
    rows: Vec<(String, String)>,
}

impl Fields {
    pub fn new() -> Fields {
        Fields { rows: Vec::new() }
    }

    pub fn add(&mut self, key: &str, value: impl Into<String>) -> &mut Fields {
        self.rows.push((key.to_string(), cell(&value.into())));
        self
    }

    pub fn render(&self) -> String {
        let w = self.rows.iter().map(|(k, _)| width(k)).max().unwrap_or(0);
        self.rows.iter().map(|(k, v)| format!("{k}{}  {v}\n", " ".repeat(w - width(k)))).collect()
    }
}

/// `title:` and `body` indented under it, after a blank line.
fn titled(out: &mut String, title: &str, body: &str) {
    out.push('\n');
    out.push_str(title);
    out.push_str(":\n");
    for l in body.lines() {
        out.push_str("  ");
        out.push_str(l);
        out.push('\n');
    }
}

/// A titled table inside a longer text; nothing when `empty`.
pub fn section(out: &mut String, title: &str, table: &Table, empty: bool) {
    if !empty {
        titled(out, title, &table.render());
    }
}

/// A titled key/value block inside a longer text, indented like `section`'s tables.
pub fn block(out: &mut String, title: &str, fields: &Fields) {
    titled(out, title, &fields.render());
}

fn next_page(out: &mut String, token: &str) {
    if !token.is_empty() {
        out.push_str(&format!("\nmore: --page-token {token}\n"));
    }
}

// ------------------------------------------------------------------ paged lists

/// An item of the `… list` commands' answers: the list's JSON key, and the item as a table row.
/// Its own `Output` is what `… get` prints.
pub trait Listed: Output {
    /// The key of the items in the list's JSON: `"cases"`.
    const ITEMS: &'static str;
    /// What a list with no items and no next page says (`"no cases"`); `None` prints the
    /// table's header alone.
    const NONE: Option<&'static str> = None;
    const COLUMNS: &'static [&'static str];
    fn row(&self) -> Vec<String>;
}

/// One page of a list and the token of the next page (empty on the last):
/// `{"<items>": [...], "next_page_token": "..."}` for scripts, a table for people.
pub struct Page<'a, T>(pub &'a [T], pub &'a str);

impl<T: Listed> Output for Page<'_, T> {
    fn to_json(&self) -> Value {
        json!({ T::ITEMS: self.0.iter().map(Output::to_json).collect::<Vec<_>>(), "next_page_token": self.1 })
    }

    fn to_text(&self) -> String {
        if let Some(none) = T::NONE
            && self.0.is_empty()
            && self.1.is_empty()
        {
            return format!("{none}\n");
        }
        let mut t = Table::new(T::COLUMNS);
        for item in self.0 {
            t.row(item.row());
        }
        let mut out = t.render();
        next_page(&mut out, self.1);
        out
    }
}

// ------------------------------------------------------------------ units

impl Output for Unit {
    fn to_json(&self) -> Value {
        json!({
            "unit_id": self.unit_id,
            "name": self.name,
            "district_budget_unit": self.district_budget_unit,
            "state_owned_enterprise": self.state_owned_enterprise,
            "runs_platform": self.runs_platform,
            "has_street_app": self.has_street_app,
            "etag": self.etag,
            "created_at": ts_json(&self.created_at),
        })
    }

    fn to_text(&self) -> String {
        Fields::new()
            .add("unit", &self.unit_id)
            .add("name", &self.name)
            .add("district budget unit", yes(self.district_budget_unit))
            .add("state-owned enterprise", yes(self.state_owned_enterprise))
            .add("runs a platform", yes(self.runs_platform))
            .add("has a street app", yes(self.has_street_app))
            .add("created", ts_text(&self.created_at))
            .add("etag", &self.etag)
            .render()
    }
}

impl Listed for Unit {
    const ITEMS: &'static str = "units";
    const COLUMNS: &'static [&'static str] = &["UNIT", "NAME", "BUDGET UNIT", "SOE", "PLATFORM", "STREET APP", "CREATED"];

    fn row(&self) -> Vec<String> {
        vec![
            self.unit_id.clone(),
            self.name.clone(),
            yes(self.district_budget_unit).into(),
            yes(self.state_owned_enterprise).into(),
            yes(self.runs_platform).into(),
            yes(self.has_street_app).into(),
            ts_text(&self.created_at),
        ]
    }
}

impl Output for UnitPenalty {
    fn to_json(&self) -> Value {
        json!({
            "penalty_id": self.penalty_id,
            "unit_id": self.unit_id,
            "kind": enums::full::<PenaltyKind>(self.kind),
            "reason": self.reason,
            "project_id": self.project_id,
            "went_live_on": date_json(&self.went_live_on),
            "stopped_on": date_json(&self.stopped_on),
            "ineligible_year": self.ineligible_year,
            "rule_ids": self.rule_ids,
            "policy_version": self.policy_version,
            "recorded_at": ts_json(&self.recorded_at),
        })
    }

    fn to_text(&self) -> String {
        Fields::new()
            .add("penalty", &self.penalty_id)
            .add("unit", &self.unit_id)
            .add("kind", enums::short::<PenaltyKind>(self.kind))
            .add("reason", &self.reason)
            .add("project", or_dash(&self.project_id))
            .add("went live on", date_text(&self.went_live_on))
            .add("stopped on", date_text(&self.stopped_on))
            .add(
                "ineligible year",
                if self.ineligible_year == 0 { "- (suspends nothing)".into() } else { self.ineligible_year.to_string() },
            )
            .add("rules", list_or_dash(&self.rule_ids))
            .add("policy", &self.policy_version)
            .add("recorded", ts_text(&self.recorded_at))
            .render()
    }
}

impl Output for UnitEligibility {
    fn to_json(&self) -> Value {
        json!({
            "unit_id": self.unit_id,
            "year": self.year,
            "eligible": self.eligible,
            "penalties": self.penalties.iter().map(Output::to_json).collect::<Vec<_>>(),
        })
    }

    fn to_text(&self) -> String {
        let mut out = format!(
            "unit {} {} apply in {} (for projects of {})\n",
            self.unit_id,
            if self.eligible { "may" } else { "may NOT" },
            self.year,
            self.year.saturating_add(1)
        );
        let mut t = Table::new(&["PENALTY", "KIND", "INELIGIBLE YEAR", "PROJECT", "REASON"]);
        for p in &self.penalties {
            t.row(vec![
                p.penalty_id.clone(),
                enums::short::<PenaltyKind>(p.kind),
                if p.ineligible_year == 0 { "-".into() } else { p.ineligible_year.to_string() },
                or_dash(&p.project_id),
                p.reason.clone(),
            ]);
        }
        section(&mut out, "Penalties on record", &t, self.penalties.is_empty());
        out
    }
}

// ------------------------------------------------------------------ rounds

impl Output for ApplicationRound {
    fn to_json(&self) -> Value {
        json!({
            "round_id": self.round_id,
            "target_year": self.target_year,
            "deadline": date_json(&self.deadline),
            "state": enums::full::<RoundState>(self.state),
            "policy_version": self.policy_version,
            "etag": self.etag,
            "opened_at": ts_json(&self.opened_at),
            "closed_at": ts_json(&self.closed_at),
        })
    }

    fn to_text(&self) -> String {
        Fields::new()
            .add("round", &self.round_id)
            .add("target year", self.target_year.to_string())
            .add("deadline", format!("{} (end of day, Asia/Shanghai)", date_text(&self.deadline)))
            .add("state", enums::short::<RoundState>(self.state))
            .add("opened", ts_text(&self.opened_at))
            .add("closed", ts_text(&self.closed_at))
            .add("policy", &self.policy_version)
            .add("etag", &self.etag)
            .render()
    }
}

impl Listed for ApplicationRound {
    const ITEMS: &'static str = "rounds";
    const COLUMNS: &'static [&'static str] = &["ROUND", "TARGET YEAR", "DEADLINE", "STATE", "OPENED", "ETAG"];

    fn row(&self) -> Vec<String> {
        vec![
            self.round_id.clone(),
            self.target_year.to_string(),
            date_text(&self.deadline),
            enums::short::<RoundState>(self.state),
            ts_text(&self.opened_at),
            self.etag.clone(),
        ]
    }
}

// ------------------------------------------------------------------ applications

fn necessity_json(n: &Option<NecessityStatement>) -> Value {
    let Some(n) = n else { return Value::Null };
    json!({
        "core_business": n.core_business,
        "one_platform_path": n.one_platform_path,
        "relations_with_other_units": n.relations_with_other_units,
        "existing_systems_and_plans": n.existing_systems_and_plans,
        "terminals": enum_list::<Terminal>(&n.terminals),
        "uses_public_data_platform": n.uses_public_data_platform,
        "function_module_of_existing_platform": n.function_module_of_existing_platform,
        "retired_systems": n.retired_systems,
        "central_functions_extended": n.central_functions_extended,
    })
}

fn module_json(m: &FunctionModule) -> Value {
    json!({ "name": m.name, "description": m.description })
}

fn budget_json(l: &BudgetLine) -> Value {
    json!({
        "module": l.module,
        "category": enums::full::<CostCategory>(l.category),
        "amount_fen": l.amount_fen,
        "rationale": l.rationale,
    })
}

fn flag_json(f: &ReviewFlag) -> Value {
    json!({ "rule_id": f.rule_id, "code": f.code, "message": f.message })
}

fn screened_json(s: &ScreenedModule) -> Value {
    json!({
        "module": s.module,
        "verdict": s.verdict,
        "matches": s.matches.iter().map(|m| json!({
            "entry_id": m.entry_id, "name": m.name, "owner_unit": m.owner_unit, "score": m.score,
        })).collect::<Vec<_>>(),
    })
}

fn result_json(r: &ChecklistResult) -> Value {
    json!({ "code": r.code, "passed": r.passed, "note": r.note })
}

fn decision_json(d: &ComplianceDecision) -> Value {
    json!({
        "round": d.round,
        "passed": d.passed,
        "results": d.results.iter().map(result_json).collect::<Vec<_>>(),
        "comment": d.comment,
        "decided_by": d.decided_by,
        "decided_at": ts_json(&d.decided_at),
        "policy_version": d.policy_version,
    })
}

impl Output for Application {
    fn to_json(&self) -> Value {
        json!({
            "application_id": self.application_id,
            "project_id": self.project_id,
            "lead_unit_id": self.lead_unit_id,
            "participating_unit_ids": self.participating_unit_ids,
            "name": self.name,
            "category": enums::full::<ProjectCategory>(self.category),
            "build_type": enums::full::<BuildType>(self.build_type),
            "xinchuang_retrofit": self.xinchuang_retrofit,
            "classified": self.classified,
            "content_kinds": enum_list::<ContentKind>(&self.content_kinds),
            "upgrade_of_app_id": self.upgrade_of_app_id,
            "funding_source": enums::full::<FundingSource>(self.funding_source),
            "fast_track_grounds": enum_list::<FastTrackGround>(&self.fast_track_grounds),
            "reaches_streets": self.reaches_streets,
            "adds_login_entry": self.adds_login_entry,
            "planned_construction_months": self.planned_construction_months,
            "necessity": necessity_json(&self.necessity),
            "modules": self.modules.iter().map(module_json).collect::<Vec<_>>(),
            "budget": self.budget.iter().map(budget_json).collect::<Vec<_>>(),
            "total_budget_fen": self.total_budget_fen,
            "security_budget_fen": self.security_budget_fen,
            "security_share_bp": self.security_share_bp,
            "state": enums::full::<ApplicationState>(self.state),
            "round_id": self.round_id,
            "supplementary": self.supplementary,
            "urgency_justification": self.urgency_justification,
            "leader_consent_recorded": self.leader_consent_recorded,
            "flags": self.flags.iter().map(flag_json).collect::<Vec<_>>(),
            "screening": self.screening.iter().map(screened_json).collect::<Vec<_>>(),
            "decisions": self.decisions.iter().map(decision_json).collect::<Vec<_>>(),
            "re_review_deadline": date_json(&self.re_review_deadline),
            "end_reason": self.end_reason,
            "policy_version": self.policy_version,
            "etag": self.etag,
            "created_at": ts_json(&self.created_at),
            "submitted_at": ts_json(&self.submitted_at),
            "documents": self.documents.iter().map(Output::to_json).collect::<Vec<_>>(),
        })
    }

    fn to_text(&self) -> String {
        let n = self.necessity.clone().unwrap_or_default();
        let mut f = Fields::new();
        f.add("application", &self.application_id)
            .add("project", &self.project_id)
            .add("name", &self.name)
            .add("state", enums::short::<ApplicationState>(self.state))
            .add("lead unit", &self.lead_unit_id)
            .add("participating units", list_or_dash(&self.participating_unit_ids))
            .add(
                "category",
                format!(
                    "{} / {}{}",
                    enums::short::<ProjectCategory>(self.category),
                    enums::short::<BuildType>(self.build_type),
                    if self.xinchuang_retrofit { " (信创 retrofit)" } else { "" }
                ),
            )
            .add("content", enum_list_text::<ContentKind>(&self.content_kinds))
            .add("classified", yes(self.classified));
        if !self.upgrade_of_app_id.is_empty() {
            f.add("upgrades app", &self.upgrade_of_app_id);
        }
        f.add("funding", enums::short::<FundingSource>(self.funding_source))
            .add("fast track", enum_list_text::<FastTrackGround>(&self.fast_track_grounds))
            .add(
                "reaches streets",
                format!("{}{}", yes(self.reaches_streets), if self.adds_login_entry { " (adds a login entry)" } else { "" }),
            )
            .add("construction", format!("{} months", self.planned_construction_months))
            .add("terminals", enum_list_text::<Terminal>(&n.terminals))
            .add("public data platform", yes(n.uses_public_data_platform))
            .add("total budget", format!("{} yuan ({} fen)", yuan(self.total_budget_fen), self.total_budget_fen))
            .add("security budget", format!("{} yuan = {}", yuan(self.security_budget_fen), percent_bp(self.security_share_bp)))
            .add("round", or_dash(&self.round_id))
            .add("supplementary", yes(self.supplementary));
        if !self.urgency_justification.is_empty() {
            f.add("urgency", &self.urgency_justification);
        }
        f.add("leader consent", yes(self.leader_consent_recorded));
        if self.re_review_deadline.is_some() {
            f.add("re-review by", date_text(&self.re_review_deadline));
        }
        if !self.end_reason.is_empty() {
            f.add("ended", &self.end_reason);
        }
        f.add("policy", or_dash(&self.policy_version))
            .add("created", ts_text(&self.created_at))
            .add("submitted", ts_text(&self.submitted_at))
            .add("etag", &self.etag);
        let mut out = f.render();

        let mut t = Table::new(&["MODULE", "DESCRIPTION"]);
        for m in &self.modules {
            t.row(vec![m.name.clone(), m.description.clone()]);
        }
        section(&mut out, "Function modules", &t, self.modules.is_empty());

        let mut t = Table::new(&["MODULE", "CATEGORY", "AMOUNT (yuan)", "RATIONALE"]);
        for l in &self.budget {
            t.row(vec![or_dash(&l.module), enums::short::<CostCategory>(l.category), yuan(l.amount_fen), l.rationale.clone()]);
        }
        section(&mut out, "Budget", &t, self.budget.is_empty());

        let mut t = Table::new(&["DOCUMENT", "KIND", "FILE", "SIZE", "STREET", "UPLOADED"]);
        for d in &self.documents {
            t.row(vec![
                d.document_id.clone(),
                enums::short::<DocumentKind>(d.kind),
                d.file_name.clone(),
                d.size_bytes.to_string(),
                or_dash(&d.street),
                ts_text(&d.uploaded_at),
            ]);
        }
        section(&mut out, "Documents", &t, self.documents.is_empty());

        let mut t = Table::new(&["RULE", "FLAG", "MESSAGE"]);
        for x in &self.flags {
            t.row(vec![x.rule_id.clone(), x.code.clone(), x.message.clone()]);
        }
        section(&mut out, "Flags for the compliance reviewer", &t, self.flags.is_empty());

        let mut t = Table::new(&["MODULE", "VERDICT", "CLOSEST", "SIMILARITY"]);
        for s in &self.screening {
            let best = s.matches.first();
            t.row(vec![
                s.module.clone(),
                s.verdict.clone(),
                best.map(|b| format!("{} ({}, {})", b.name, b.entry_id, b.owner_unit)).unwrap_or_else(|| "-".into()),
                best.map(|b| format!("{:.2}", b.score)).unwrap_or_else(|| "-".into()),
            ]);
        }
        section(&mut out, "Catalogue screening (R-I9)", &t, self.screening.is_empty());

        let mut t = Table::new(&["ROUND", "PASSED", "BY", "AT", "FAILED ITEMS", "COMMENT"]);
        for d in &self.decisions {
            let failed: Vec<String> = d
                .results
                .iter()
                .filter(|r| !r.passed)
                .map(|r| if r.note.is_empty() { r.code.clone() } else { format!("{}: {}", r.code, r.note) })
                .collect();
            t.row(vec![
                d.round.to_string(),
                yes(d.passed).into(),
                d.decided_by.clone(),
                ts_text(&d.decided_at),
                list_or_dash(&failed),
                d.comment.clone(),
            ]);
        }
        section(&mut out, "Compliance decisions", &t, self.decisions.is_empty());
        out
    }
}

impl Listed for Application {
    const ITEMS: &'static str = "applications";
    const COLUMNS: &'static [&'static str] = &["APPLICATION", "UNIT", "STATE", "CATEGORY", "TOTAL (yuan)", "ROUND", "NAME"];

    fn row(&self) -> Vec<String> {
        vec![
            self.application_id.clone(),
            self.lead_unit_id.clone(),
            enums::short::<ApplicationState>(self.state),
            enums::short::<ProjectCategory>(self.category),
            yuan(self.total_budget_fen),
            if self.supplementary && self.round_id.is_empty() { "(supplementary)".into() } else { or_dash(&self.round_id) },
            self.name.clone(),
        ]
    }
}

// ------------------------------------------------------------------ documents

impl Output for Document {
    fn to_json(&self) -> Value {
        json!({
            "document_id": self.document_id,
            "application_id": self.application_id,
            "kind": enums::full::<DocumentKind>(self.kind),
            "file_name": self.file_name,
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "sm3": self.sm3,
            "street": self.street,
            "uploaded_by": self.uploaded_by,
            "uploaded_at": ts_json(&self.uploaded_at),
        })
    }

    fn to_text(&self) -> String {
        Fields::new()
            .add("document", &self.document_id)
            .add("application", &self.application_id)
            .add("kind", enums::short::<DocumentKind>(self.kind))
            .add("file", &self.file_name)
            .add("content type", &self.content_type)
            .add("size", format!("{} bytes", self.size_bytes))
            .add("sha256", &self.sha256)
            .add("sm3", &self.sm3)
            .add("street", or_dash(&self.street))
            .add("uploaded by", &self.uploaded_by)
            .add("uploaded", ts_text(&self.uploaded_at))
            .render()
    }
}

pub struct DocumentList<'a>(pub &'a [Document]);

impl Output for DocumentList<'_> {
    fn to_json(&self) -> Value {
        json!({ "documents": self.0.iter().map(Output::to_json).collect::<Vec<_>>() })
    }

    fn to_text(&self) -> String {
        let mut t = Table::new(&["DOCUMENT", "KIND", "FILE", "SIZE", "STREET", "UPLOADED BY", "UPLOADED", "SHA-256"]);
        for d in self.0 {
            t.row(vec![
                d.document_id.clone(),
                enums::short::<DocumentKind>(d.kind),
                d.file_name.clone(),
                d.size_bytes.to_string(),
                or_dash(&d.street),
                d.uploaded_by.clone(),
                ts_text(&d.uploaded_at),
                d.sha256.clone(),
            ]);
        }
        t.render()
    }
}

/// A finished download: the document's metadata and where it was written.
pub struct Downloaded<'a>(pub &'a Document, pub &'a str, pub u64);

impl Output for Downloaded<'_> {
    fn to_json(&self) -> Value {
        json!({ "document": self.0.to_json(), "written_to": self.1, "bytes_written": self.2 })
    }

    fn to_text(&self) -> String {
        let mut out = self.0.to_text();
        out.push_str(&format!("\nwrote {} bytes to {}\n", self.2, self.1));
        out
    }
}

// ------------------------------------------------------------------ compliance

impl Output for ComplianceChecklist {
    fn to_json(&self) -> Value {
        json!({
            "policy_version": self.policy_version,
            "items": self.items.iter().map(|i| json!({ "code": i.code, "title": i.title })).collect::<Vec<_>>(),
        })
    }

    fn to_text(&self) -> String {
        let mut out = format!("checklist of policy {}\n", self.policy_version);
        let mut t = Table::new(&["CODE", "TITLE"]);
        for i in &self.items {
            t.row(vec![i.code.clone(), i.title.clone()]);
        }
        out.push_str(&t.render());
        out
    }
}

// ------------------------------------------------------------------ registry

fn timeline_json(e: &TimelineEntry) -> Value {
    json!({
        "event_id": e.event_id,
        "event_type": e.event_type,
        "producer": e.producer,
        "occurred_at": ts_json(&e.occurred_at),
        "status": e.status,
        "summary": e.summary,
    })
}

impl Output for ProjectStatus {
    fn to_json(&self) -> Value {
        json!({
            "project_id": self.project_id,
            "name": self.name,
            "lead_unit_id": self.lead_unit_id,
            "status": self.status,
            "timeline": self.timeline.iter().map(timeline_json).collect::<Vec<_>>(),
        })
    }

    fn to_text(&self) -> String {
        let mut out = Fields::new()
            .add("project", &self.project_id)
            .add("name", &self.name)
            .add("lead unit", &self.lead_unit_id)
            .add("status", &self.status)
            .render();
        let mut t = Table::new(&["OCCURRED", "PRODUCER", "EVENT", "STATUS", "SUMMARY"]);
        for e in &self.timeline {
            t.row(vec![ts_text(&e.occurred_at), e.producer.clone(), e.event_type.clone(), e.status.clone(), e.summary.clone()]);
        }
        section(&mut out, "Timeline", &t, self.timeline.is_empty());
        out
    }
}

impl Listed for ProjectStatus {
    const ITEMS: &'static str = "projects";
    const COLUMNS: &'static [&'static str] = &["PROJECT", "UNIT", "STATUS", "LAST EVENT", "NAME"];

    fn row(&self) -> Vec<String> {
        vec![
            self.project_id.clone(),
            self.lead_unit_id.clone(),
            self.status.clone(),
            self.timeline.last().map(|e| ts_text(&e.occurred_at)).unwrap_or_else(|| "-".into()),
            self.name.clone(),
        ]
    }
}

// ------------------------------------------------------------------ audit and operations

impl Output for AuditRecord {
    fn to_json(&self) -> Value {
        // details_json is JSON text: embed it parsed when it parses.
        let details = serde_json::from_str::<Value>(&self.details_json).unwrap_or_else(|_| Value::String(self.details_json.clone()));
        json!({
            "seq": self.seq,
            "at": ts_json(&self.at),
            "actor": self.actor,
            "role": self.role,
            "unit_id": self.unit_id,
            "action": self.action,
            "resource": self.resource,
            "project_id": self.project_id,
            "reason": self.reason,
            "rule_ids": self.rule_ids,
            "policy_version": self.policy_version,
            "request_id": self.request_id,
            "trace_id": self.trace_id,
            "details": details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        })
    }

    fn to_text(&self) -> String {
        Page(std::slice::from_ref(self), "").to_text()
    }
}

impl Listed for AuditRecord {
    const ITEMS: &'static str = "records";
    const COLUMNS: &'static [&'static str] = &["SEQ", "AT", "ACTOR", "ROLE", "UNIT", "ACTION", "RESOURCE", "RULES", "POLICY", "REASON"];

    fn row(&self) -> Vec<String> {
        vec![
            self.seq.to_string(),
            ts_text(&self.at),
            self.actor.clone(),
            self.role.clone(),
            or_dash(&self.unit_id),
            self.action.clone(),
            self.resource.clone(),
            list_or_dash(&self.rule_ids),
            or_dash(&self.policy_version),
            self.reason.clone(),
        ]
    }
}

impl Output for VerifyAuditTrailResponse {
    fn to_json(&self) -> Value {
        json!({
            "intact": self.intact,
            "records_checked": self.records_checked,
            "records_sealed": self.records_sealed,
            "unsealed_records": self.unsealed_records,
            "chains_checked": self.chains_checked,
            "anchors_checked": self.anchors_checked,
            "first_broken_seq": self.first_broken_seq,
            "broken_chains": self.broken_chains.iter().map(|b| json!({
                "chain": b.chain, "chain_seq": b.chain_seq, "seq": b.seq, "detail": b.detail,
            })).collect::<Vec<_>>(),
            "broken_anchor_seq": self.broken_anchor_seq,
            "broken_anchor_detail": self.broken_anchor_detail,
            "detail": self.detail,
        })
    }

    fn to_text(&self) -> String {
        let counts = format!(
            "{} records in {} chains checked; {} sealed by {} signed anchors, {} not yet sealed",
            self.records_checked, self.chains_checked, self.records_sealed, self.anchors_checked, self.unsealed_records
        );
        if self.intact {
            return format!("audit trail intact: {counts}\n");
        }
        let mut out = format!("audit trail BROKEN at record {} ({counts}): {}\n", self.first_broken_seq, self.detail);
        if self.broken_anchor_seq > 0 {
            out.push_str(&format!("  anchor {}: {}\n", self.broken_anchor_seq, self.broken_anchor_detail));
        }
        for b in &self.broken_chains {
            let chain = if b.chain.is_empty() { "(the service's own)" } else { b.chain.as_str() };
            out.push_str(&format!("  chain {chain}: record {} of the chain (seq {}): {}\n", b.chain_seq, b.seq, b.detail));
        }
        out
    }
}

pub struct DeadEventList<'a>(pub &'a [DeadEvent]);

impl Output for DeadEventList<'_> {
    fn to_json(&self) -> Value {
        json!({ "events": self.0.iter().map(|e| json!({
            "event_id": e.event_id,
            "routing_key": e.routing_key,
            "attempts": e.attempts,
            "last_error": e.last_error,
            "created_at": ts_json(&e.created_at),
        })).collect::<Vec<_>>() })
    }

    fn to_text(&self) -> String {
        if self.0.is_empty() {
            return "no dead events\n".into();
        }
        let mut t = Table::new(&["EVENT", "ROUTING KEY", "ATTEMPTS", "CREATED", "LAST ERROR"]);
        for e in self.0 {
            t.row(vec![e.event_id.clone(), e.routing_key.clone(), e.attempts.to_string(), ts_text(&e.created_at), e.last_error.clone()]);
        }
        t.render()
    }
}

pub struct Redriven(pub i64);

impl Output for Redriven {
    fn to_json(&self) -> Value {
        json!({ "redriven": self.0 })
    }

    fn to_text(&self) -> String {
        format!("{} dead event(s) queued for publication again\n", self.0)
    }
}

impl Output for ClockReading {
    fn to_json(&self) -> Value {
        json!({
            "now": ts_json(&self.now),
            "offset_seconds": self.offset_seconds,
            "adjustable": self.adjustable,
            "policy_version": self.policy_version,
        })
    }

    fn to_text(&self) -> String {
        let o = self.offset_seconds;
        Fields::new()
            .add("now", ts_text(&self.now))
            .add("offset", format!("{o} s ({}d {}h {}m {}s)", o / 86_400, (o % 86_400) / 3600, (o % 3600) / 60, o % 60))
            .add("adjustable", yes(self.adjustable))
            .add("policy", &self.policy_version)
            .render()
    }
}

/// A gRPC health answer.
pub struct Health<'a> {
    pub service: &'a str,
    pub status: &'a str,
}

impl Output for Health<'_> {
    fn to_json(&self) -> Value {
        json!({ "service": self.service, "status": self.status })
    }

    fn to_text(&self) -> String {
        if self.service.is_empty() { format!("{}\n", self.status) } else { format!("{}: {}\n", self.service, self.status) }
    }
}

/// A minted token.
pub struct Token<'a> {
    pub token: &'a str,
    pub claims: &'a egov_platform::auth::Claims,
}

impl Output for Token<'_> {
    fn to_json(&self) -> Value {
        json!({ "token": self.token, "claims": serde_json::to_value(self.claims).unwrap_or(Value::Null) })
    }

    fn to_text(&self) -> String {
        format!("{}\n", self.token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_percentages() {
        assert_eq!(yuan(120_000_000), "1,200,000.00");
        assert_eq!(yuan(7_200_005), "72,000.05");
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(-1), "-0.01");
        assert_eq!(yuan(i64::MIN), "-92,233,720,368,547,758.08");
        assert_eq!(percent_bp(600), "6.00 %");
        assert_eq!(percent_bp(5), "0.05 %");
    }

    #[test]
    fn tables_align_wide_characters() {
        let mut t = Table::new(&["A", "B"]);
        t.row(vec!["民政局".into(), "x".into()]);
        t.row(vec!["ab\ncd".into(), "y".into()]);
        let out = t.render();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "A       B");
        assert_eq!(lines[1], "民政局  x");
        assert_eq!(lines[2], "ab cd   y");
    }

    #[test]
    fn pages_of_lists() {
        let unit = Unit { unit_id: "U1".into(), name: "民政局".into(), ..Default::default() };
        let page = Page(std::slice::from_ref(&unit), "t2");
        assert_eq!(page.to_json(), json!({ "units": [unit.to_json()], "next_page_token": "t2" }));
        let text = page.to_text();
        assert!(text.starts_with("UNIT  NAME    BUDGET UNIT"), "{text}");
        assert!(text.ends_with("\nmore: --page-token t2\n"), "{text}");
        // Without a NONE text an empty page is its header; with one, only the last page says it.
        assert_eq!(Page::<Unit>(&[], "").to_text(), "UNIT  NAME  BUDGET UNIT  SOE  PLATFORM  STREET APP  CREATED\n");
        assert_eq!(Page::<Thing>(&[], "").to_text(), "no things\n");
        assert_eq!(Page::<Thing>(&[], "t3").to_text(), "X\n\nmore: --page-token t3\n");
        assert_eq!(Page(&[Thing], "").to_json(), json!({ "things": [{}], "next_page_token": "" }));
    }

    struct Thing;

    impl Output for Thing {
        fn to_json(&self) -> Value {
            json!({})
        }

        fn to_text(&self) -> String {
            String::new()
        }
    }

    impl Listed for Thing {
        const ITEMS: &'static str = "things";
        const NONE: Option<&'static str> = Some("no things");
        const COLUMNS: &'static [&'static str] = &["X"];

        fn row(&self) -> Vec<String> {
            vec!["x".into()]
        }
    }

    #[test]
    fn timestamps() {
        let ts = Some(prost_types::Timestamp { seconds: 1_790_000_000, nanos: 0 });
        assert_eq!(ts_json(&ts), json!("2026-09-21T14:13:20Z"));
        assert_eq!(ts_text(&ts), "2026-09-21 22:13:20 +08:00");
        assert_eq!(ts_text(&None), "-");
        assert_eq!(date_text(&Some(CivilDate { year: 2026, month: 9, day: 30 })), "2026-09-30");
    }
}
