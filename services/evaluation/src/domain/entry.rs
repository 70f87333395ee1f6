//! The catalogue entry's transitions, pure: each decides one change as data (the new entry, the
//! audit's action and rules, events, timers) or refuses it with the rule whose order it breaks.
//!
//! - R-E1: cataloguing on acceptance (with the schedule of R-E2 and the tracks of R-E7), a unit's
//!   registration of data, cloud-resource and component entries, DRB's import.
//! - R-E2 … R-E4: open an evaluation, record scores (DRB and FINANCE, each their indicators),
//!   publish (grade, funding recommendation, next due day; a low grade sets a rectification
//!   deadline, a passing re-evaluation by the deadline clears it).
//! - R-E3: unrectified by the deadline → DRB proposes elimination → the leader in charge decides →
//!   DRB eliminates (and delists) only with the approval.
//! - R-E5: a sharing violation is rectified within the policy's months or the entry is delisted.
//! - R-E6: a stop within the policy's years of going live suspends the unit's next year.
//! - R-E7: yearly 等保 and 密评: reminders before, overdue after, recorded when done.
//! - R-E8: a third-party audit with its report.

use egov_platform::{
    Refusal,
    clock::start_of_day,
    convert::civil,
    error::RuleViolation,
    period::{self, Period},
    policy::{EvaluationPolicy, Policy},
    transition::{Change, Context},
};
use egov_proto::events::{self as ev, event_envelope::Payload};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::{events::types, model::*};

/// Timer kinds (key: the entry id, or `<entry id>/<assessment kind>`).
pub const EVALUATION_DUE: &str = "evaluation.evaluation_due";
pub const RECTIFICATION_DEADLINE: &str = "evaluation.rectification_deadline";
pub const SHARING_DEADLINE: &str = "evaluation.sharing_deadline";
pub const ASSESSMENT_REMINDER: &str = "evaluation.assessment_reminder";
pub const ASSESSMENT_OVERDUE: &str = "evaluation.assessment_overdue";

fn refuse(rule: &str, subject: &str, description: impl Into<String>) -> Refusal {
    Refusal::rule(rule, subject, description)
}

fn assessment_key(id: Uuid, kind: AssessmentKind) -> String {
    format!("{id}/{}", kind.as_str())
}

fn day(d: Date) -> String {
    d.to_string()
}

// ------------------------------------------------------------------ R-E1: cataloguing

/// What acceptance's event says of an accepted project (R-A5 → R-E1).
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub project_id: Uuid,
    pub name: String,
    pub category: String,
    pub functions: Vec<Function>,
    pub go_live_on: Date,
    pub classified_protection_level: u32,
    pub important_system: bool,
    pub builder_unit_id: String,
    pub operator_unit_id: String,
    pub user_unit_ids: Vec<String>,
}

/// R-E1, R-E2, R-E7: an accepted project's application enters the catalogue (its id is the
/// project's), its first evaluation is scheduled (business applications first) and its yearly
/// assessments are tracked.
pub fn catalogue_accepted(a: Accepted, ctx: Context<'_>) -> Change<Entry> {
    let e = &ctx.policy.evaluation;
    let months = if a.category == "BUSINESS_APPLICATION" { e.first_evaluation_months_business } else { e.first_evaluation_months_other };
    let first_due = period::last_day(a.go_live_on, Period::Months(months));
    let operator = if a.operator_unit_id.is_empty() { a.builder_unit_id.clone() } else { a.operator_unit_id.clone() };
    let mut assessments = vec![];
    if a.classified_protection_level >= e.classified_protection_min_level {
        assessments.push(AssessmentKind::ClassifiedProtection);
    }
    if a.important_system {
        assessments.push(AssessmentKind::Cryptography);
    }
    let assessment_due = period::last_day(a.go_live_on, Period::Months(e.assessment_interval_months));
    let entry = Entry {
        entry_id: a.project_id,
        kind: EntryKind::Application,
        state: EntryState::Listed,
        name: a.name,
        description: String::new(),
        builder_unit_id: a.builder_unit_id,
        operator_unit_id: operator,
        user_unit_ids: a.user_unit_ids,
        project_id: a.project_id.to_string(),
        app_id: String::new(),
        functions: a.functions,
        source: Source::Project,
        external_key: String::new(),
        category: a.category,
        go_live_on: Some(a.go_live_on),
        classified_protection_level: a.classified_protection_level,
        important_system: a.important_system,
        schedule: Some(Schedule { next_due_on: first_due, due: false }),
        evaluations: vec![],
        rectification: None,
        elimination: None,
        sharing: None,
        assessments: assessments
            .iter()
            .map(|k| AssessmentTrack {
                kind: *k,
                due_on: assessment_due,
                reminded: false,
                overdue: false,
                last_done_on: None,
                last_conclusion: String::new(),
                last_report_reference: String::new(),
            })
            .collect(),
        audits: vec![],
        early_stop: None,
        policy_version: ctx.policy.version.clone(),
        version: 0,
        catalogued_at: ctx.now,
    };
    let payload = Payload::ApplicationCatalogued(ev::ApplicationCatalogued {
        app_id: entry.entry_id.to_string(),
        name: entry.name.clone(),
        builder_unit_id: entry.builder_unit_id.clone(),
        operator_unit_id: entry.operator_unit_id.clone(),
        user_unit_ids: entry.user_unit_ids.clone(),
        function_count: entry.functions.len() as i32,
        first_evaluation_due_on: Some(civil(first_due)),
    });
    let id = entry.entry_id;
    let mut change = Change::new(entry, "CatalogueApplication")
        .rules(&["R-E1", "R-E2", "R-E7"])
        .reason(format!("accepted (R-A5): catalogued; first evaluation due {first_due} ({months} months after going live)"))
        .event(types::APPLICATION_CATALOGUED, payload)
        .set_timer(EVALUATION_DUE, id.to_string(), start_of_day(first_due), serde_json::json!({}));
    for k in assessments {
        change = set_assessment_timers(change, id, k, assessment_due, e, ctx.now);
    }
    change
}

fn set_assessment_timers(
    change: Change<Entry>,
    id: Uuid,
    kind: AssessmentKind,
    due: Date,
    e: &EvaluationPolicy,
    now: OffsetDateTime,
) -> Change<Entry> {
    let remind_on = due.checked_sub(Duration::days(i64::from(e.assessment_reminder_days))).unwrap_or(due);
    let remind_at = start_of_day(remind_on).max(now);
    change.set_timer(ASSESSMENT_REMINDER, assessment_key(id, kind), remind_at, serde_json::json!({})).set_timer(
        ASSESSMENT_OVERDUE,
        assessment_key(id, kind),
        period::lapses_at(due, Period::Days(0)),
        serde_json::json!({}),
    )
}

/// What a unit registers (R-E1): a data, cloud-resource or component entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewEntry {
    pub kind: Option<EntryKind>,
    pub name: String,
    pub description: String,
    pub builder_unit_id: String,
    pub operator_unit_id: String,
    pub user_unit_ids: Vec<String>,
    pub project_id: String,
    pub app_id: String,
    pub functions: Vec<Function>,
}

/// R-E1: a unit registers a resource its project produced. Applications are catalogued on
/// acceptance (or imported by DRB), not registered.
pub fn register(id: Uuid, n: NewEntry, app: Option<&Entry>, ctx: Context<'_>) -> Result<Change<Entry>, Refusal> {
    let Some(kind) = n.kind else { return Err(Refusal::field("entry.kind", "required: DATA, CLOUD or COMPONENT")) };
    if kind == EntryKind::Application {
        return Err(Refusal::field(
            "entry.kind",
            "applications are catalogued when acceptance passes (R-A5) or imported by DRB; register DATA, CLOUD or COMPONENT entries",
        ));
    }
    if let Some(app) = app {
        if app.kind != EntryKind::Application {
            return Err(Refusal::field("entry.app_id", "names a catalogue entry that is not an application"));
        }
        if app.state == EntryState::Eliminated {
            return Err(refuse(
                "R-E1",
                "entry.app_id",
                format!("application {} was eliminated (R-E3): nothing more is catalogued under it", app.name),
            ));
        }
    }
    let operator = if n.operator_unit_id.is_empty() { n.builder_unit_id.clone() } else { n.operator_unit_id };
    let entry = Entry {
        entry_id: id,
        kind,
        state: EntryState::Listed,
        name: n.name,
        description: n.description,
        builder_unit_id: n.builder_unit_id,
        operator_unit_id: operator,
        user_unit_ids: n.user_unit_ids,
        project_id: n.project_id,
        app_id: n.app_id,
        functions: n.functions,
        source: Source::Project,
        external_key: String::new(),
        category: String::new(),
        go_live_on: None,
        classified_protection_level: 0,
        important_system: false,
        schedule: None,
        evaluations: vec![],
        rectification: None,
        elimination: None,
        sharing: None,
        assessments: vec![],
        audits: vec![],
        early_stop: None,
        policy_version: ctx.policy.version.clone(),
        version: 0,
        catalogued_at: ctx.now,
    };
    let payload = Payload::CatalogueEntryRegistered(ev::CatalogueEntryRegistered {
        entry_id: id.to_string(),
        kind: kind.as_str().into(),
        name: entry.name.clone(),
        builder_unit_id: entry.builder_unit_id.clone(),
        app_id: entry.app_id.clone(),
    });
    Ok(Change::new(entry, "RegisterEntry")
        .rules(&["R-E1"])
        .reason(format!("{} entry catalogued", kind.as_str()))
        .event(types::ENTRY_REGISTERED, payload))
}

/// A row of DRB's import of the existing application catalogue (R-E1, R-I9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedApp {
    pub external_key: String,
    pub name: String,
    pub source: Source,
    pub builder_unit_id: String,
    pub operator_unit_id: String,
    pub user_unit_ids: Vec<String>,
    pub functions: Vec<Function>,
}

/// R-E1: an imported application, new.
pub fn import_new(id: Uuid, row: ImportedApp, ctx: Context<'_>) -> Change<Entry> {
    let operator = if row.operator_unit_id.is_empty() { row.builder_unit_id.clone() } else { row.operator_unit_id };
    let entry = Entry {
        entry_id: id,
        kind: EntryKind::Application,
        state: EntryState::Listed,
        name: row.name,
        description: String::new(),
        builder_unit_id: row.builder_unit_id,
        operator_unit_id: operator,
        user_unit_ids: row.user_unit_ids,
        project_id: String::new(),
        app_id: String::new(),
        functions: row.functions,
        source: row.source,
        external_key: row.external_key,
        category: String::new(),
        go_live_on: None,
        classified_protection_level: 0,
        important_system: false,
        schedule: None,
        evaluations: vec![],
        rectification: None,
        elimination: None,
        sharing: None,
        assessments: vec![],
        audits: vec![],
        early_stop: None,
        policy_version: ctx.policy.version.clone(),
        version: 0,
        catalogued_at: ctx.now,
    };
    let reason = format!("imported from the {} catalogue as {}", entry.source.as_str(), entry.external_key);
    Change::new(entry, "ImportEntry").rules(&["R-E1", "R-I9"]).reason(reason)
}

/// R-E1: a re-imported application: its names, units and functions as the file now has them;
/// `None` when nothing changed.
pub fn import_update(current: &Entry, row: ImportedApp) -> Option<Change<Entry>> {
    let mut e = current.clone();
    e.name = row.name;
    e.source = row.source;
    e.builder_unit_id = row.builder_unit_id.clone();
    e.operator_unit_id = if row.operator_unit_id.is_empty() { row.builder_unit_id } else { row.operator_unit_id };
    e.user_unit_ids = row.user_unit_ids;
    e.functions = row.functions;
    if &e == current {
        return None;
    }
    let reason = format!("re-imported from the {} catalogue as {}", e.source.as_str(), e.external_key);
    Some(Change::new(e, "ImportEntry").rules(&["R-E1", "R-I9"]).reason(reason))
}

// ------------------------------------------------------------------ R-E2 … R-E4: evaluations

fn running_application(e: &Entry, rule: &str, what: &str) -> Result<(), Refusal> {
    if e.kind != EntryKind::Application {
        return Err(refuse(rule, "app_id", format!("{} is a {} entry: only applications are {what}", e.name, e.kind.as_str())));
    }
    if e.state != EntryState::Listed {
        return Err(refuse(rule, "app_id", format!("{} is {}: only running applications are {what}", e.name, e.state.as_str())));
    }
    Ok(())
}

/// R-E2: the schedule's due day came (the timer): the evaluation is due.
pub fn mark_due(e: &Entry, ctx: Context<'_>) -> Option<Change<Entry>> {
    let s = e.schedule.as_ref()?;
    if e.state != EntryState::Listed || s.due || ctx.today < s.next_due_on {
        return None;
    }
    let mut next = e.clone();
    if let Some(s) = next.schedule.as_mut() {
        s.due = true;
    }
    let payload = Payload::EvaluationDue(ev::EvaluationDue {
        app_id: e.entry_id.to_string(),
        name: e.name.clone(),
        due_on: Some(civil(s.next_due_on)),
        operator_unit_id: e.operator_unit_id.clone(),
    });
    Some(
        Change::new(next, "EvaluationDue")
            .rules(&["R-E2"])
            .reason(format!("the evaluation scheduled for {} is due", s.next_due_on))
            .event(types::EVALUATION_DUE, payload),
    )
}

/// R-E2: DRB or FINANCE opens an evaluation under the indicator system in force (`system`).
pub fn open_evaluation(e: &Entry, evaluation_id: Uuid, system: &Policy, ctx: Context<'_>) -> Result<Change<Entry>, Refusal> {
    running_application(e, "R-E2", "evaluated")?;
    if let Some(open) = e.evaluations.iter().find(|x| x.status == EvaluationStatus::Open) {
        return Err(refuse(
            "R-E2",
            "app_id",
            format!("evaluation {} of {} is still open: record its scores and publish it first", open.evaluation_id, e.name),
        ));
    }
    let mut next = e.clone();
    next.evaluations.push(EvaluationRecord {
        evaluation_id,
        status: EvaluationStatus::Open,
        indicator_system: system.version.clone(),
        scores: vec![],
        score_centi: 0,
        grade: None,
        passed: false,
        published_on: None,
        funding_recommendation: String::new(),
        funding_bp: 0,
        comment: String::new(),
        opened_at: ctx.now,
    });
    Ok(Change::new(next, "OpenEvaluation")
        .rules(&["R-E2"])
        .reason(format!("evaluation opened under indicator system {}", system.version))
        .detail("evaluation_id", evaluation_id.to_string()))
}

/// One score as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScore {
    pub indicator: String,
    pub score: u32,
    pub comment: String,
}

fn open_evaluation_of<'a>(e: &'a Entry, id: Uuid, rule: &str) -> Result<&'a EvaluationRecord, Refusal> {
    let ev = e.evaluation(id).ok_or_else(|| Refusal::field("evaluation_id", format!("{} has no evaluation {id}", e.name)))?;
    if ev.status != EvaluationStatus::Open {
        return Err(refuse(
            rule,
            "evaluation_id",
            format!("evaluation {id} was published on {}: it takes no more scores", ev.published_on.map(day).unwrap_or_default()),
        ));
    }
    Ok(ev)
}

/// R-E2: DRB and FINANCE each score the indicators the system gives them (re-scoring replaces).
pub fn record_scores(
    e: &Entry,
    evaluation_id: Uuid,
    scores: Vec<NewScore>,
    by: &str,
    role: &str,
    system: &Policy,
    _ctx: Context<'_>,
) -> Result<Change<Entry>, Refusal> {
    open_evaluation_of(e, evaluation_id, "R-E2")?;
    let mut fields = vec![];
    let mut rules = vec![];
    for (i, s) in scores.iter().enumerate() {
        match system.evaluation.indicators.iter().find(|x| x.code == s.indicator) {
            None => fields.push(egov_platform::error::FieldViolation::new(
                format!("scores[{i}].indicator"),
                format!("{:?} is not an indicator of system {}", egov_platform::request::bounded(&s.indicator), system.version),
            )),
            Some(ind) if ind.assessed_by != role => rules.push(RuleViolation::new(
                "R-E2",
                format!("scores[{i}].indicator"),
                format!("{} ({}) is scored by {}, not {role}", ind.code, ind.title, ind.assessed_by),
            )),
            Some(_) => {}
        }
        if s.score > 100 {
            fields.push(egov_platform::error::FieldViolation::new(format!("scores[{i}].score"), "a whole number of points from 0 to 100"));
        }
        if scores[..i].iter().any(|x| x.indicator == s.indicator) {
            fields.push(egov_platform::error::FieldViolation::new(format!("scores[{i}].indicator"), "listed twice"));
        }
    }
    if scores.is_empty() {
        fields.push(egov_platform::error::FieldViolation::new("scores", "at least one score"));
    }
    if !fields.is_empty() {
        return Err(Refusal::Fields(fields));
    }
    if !rules.is_empty() {
        return Err(Refusal::Rules(rules));
    }
    let mut next = e.clone();
    let record = next.evaluations.iter_mut().find(|x| x.evaluation_id == evaluation_id);
    if let Some(record) = record {
        for s in scores {
            record.scores.retain(|x| x.indicator != s.indicator);
            record.scores.push(Score {
                indicator: s.indicator,
                score: s.score,
                comment: s.comment,
                scored_by: by.into(),
                scored_by_role: role.into(),
            });
        }
        record.scores.sort_by(|a, b| a.indicator.cmp(&b.indicator));
    }
    Ok(Change::new(next, "RecordScores")
        .rules(&["R-E2"])
        .reason(format!("{role} recorded scores"))
        .detail("evaluation_id", evaluation_id.to_string()))
}

/// The weighted score (× 100), grade and band of `scores` under `system`; `None` while an
/// indicator is unscored.
pub fn grade_of<'a>(scores: &[Score], system: &'a EvaluationPolicy) -> Option<(i64, Grade, &'a egov_platform::policy::GradeBand)> {
    let mut centi = 0i64;
    for ind in &system.indicators {
        let s = scores.iter().find(|s| s.indicator == ind.code)?;
        centi += i64::from(s.score) * i64::from(ind.weight);
    }
    let band = system.grades.iter().find(|g| centi >= i64::from(g.min_score) * 100)?;
    Some((centi, Grade::parse(&band.grade)?, band))
}

/// Whether `grade` passes under `system` (R-E3, R-I6).
pub fn passes(grade: Grade, system: &EvaluationPolicy) -> bool {
    Grade::parse(&system.passing_grade).is_some_and(|line| grade <= line)
}

/// R-E2 … R-E4: DRB publishes a fully scored evaluation: its grade and funding recommendation,
/// the next due day; a grade below the line sets a rectification deadline (R-E3); a passing
/// re-evaluation by the deadline clears it, a later one leaves it overdue.
pub fn publish(e: &Entry, evaluation_id: Uuid, comment: &str, system: &Policy, ctx: Context<'_>) -> Result<Change<Entry>, Refusal> {
    let record = open_evaluation_of(e, evaluation_id, "R-E2")?;
    let missing: Vec<&str> = system
        .evaluation
        .indicators
        .iter()
        .filter(|i| !record.scores.iter().any(|s| s.indicator == i.code))
        .map(|i| i.code.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(refuse(
            "R-E2",
            "scores",
            format!("indicators not yet scored: {} (DRB and FINANCE score theirs before publication)", missing.join(", ")),
        ));
    }
    let Some((centi, grade, band)) = grade_of(&record.scores, &system.evaluation) else {
        return Err(refuse("R-E2", "scores", "the indicator system gives no grade for these scores"));
    };
    let passed = passes(grade, &system.evaluation);
    let today = ctx.today;
    let ev_policy = &ctx.policy.evaluation;
    let next_due = period::last_day(today, Period::Months(ev_policy.evaluation_interval_months));
    let mut next = e.clone();
    if let Some(r) = next.evaluations.iter_mut().find(|x| x.evaluation_id == evaluation_id) {
        r.status = EvaluationStatus::Published;
        r.score_centi = centi;
        r.grade = Some(grade);
        r.passed = passed;
        r.published_on = Some(today);
        r.funding_recommendation = band.funding_recommendation.clone();
        r.funding_bp = band.funding_bp;
        r.comment = comment.to_string();
    }
    next.schedule = Some(Schedule { next_due_on: next_due, due: false });
    let id = e.entry_id.to_string();
    let mut rules = vec!["R-E2", "R-E4"];
    let mut events = vec![];
    let mut timers_set = None;
    let mut cancel_rectification = false;
    let mut rectify_by = None;
    match (&e.rectification, passed) {
        (Some(r), true) if r.status == RectificationStatus::Pending && period::within(r.rectify_by, Period::Days(0), today) => {
            next.rectification =
                Some(Rectification { status: RectificationStatus::Rectified, cleared_by: Some(evaluation_id), ..r.clone() });
            cancel_rectification = true;
            rules.push("R-E3");
            events.push((
                types::RECTIFICATION_CLEARED,
                Payload::EvaluationRectificationCleared(ev::EvaluationRectificationCleared {
                    app_id: id.clone(),
                    evaluation_id: evaluation_id.to_string(),
                }),
            ));
        }
        (Some(r), false) if r.status == RectificationStatus::Pending => {
            // The deadline stands: a second low grade does not extend it.
            rectify_by = Some(r.rectify_by);
            rules.push("R-E3");
        }
        (Some(r), _) if r.status == RectificationStatus::Overdue => {
            // Rectified late, or not at all: the overdue rectification stands (R-E3).
            rules.push("R-E3");
        }
        (_, false) => {
            let by = period::last_day(today, Period::Months(ev_policy.rectification_months));
            next.rectification =
                Some(Rectification { status: RectificationStatus::Pending, evaluation_id, rectify_by: by, cleared_by: None });
            timers_set = Some(period::lapses_at(by, Period::Days(0)));
            rectify_by = Some(by);
            rules.push("R-E3");
        }
        _ => {}
    }
    let payload = Payload::EvaluationPublished(ev::EvaluationPublished {
        app_id: id.clone(),
        evaluation_id: evaluation_id.to_string(),
        name: e.name.clone(),
        score_centi: centi,
        grade: grade.as_str().into(),
        passed,
        funding_recommendation: band.funding_recommendation.clone(),
        funding_bp: band.funding_bp as i32,
        rectify_by: rectify_by.map(civil),
        next_due_on: Some(civil(next_due)),
        operator_unit_id: e.operator_unit_id.clone(),
    });
    let mut change = Change::new(next, "PublishEvaluation")
        .rules(&rules)
        .reason(format!(
            "published: {}.{:02} points, {}{}",
            centi / 100,
            centi % 100,
            grade.as_str(),
            rectify_by.map(|d| format!("; rectify by {d}")).unwrap_or_default()
        ))
        .detail("evaluation_id", evaluation_id.to_string())
        .event(types::EVALUATION_PUBLISHED, payload)
        .set_timer(EVALUATION_DUE, id.clone(), start_of_day(next_due), serde_json::json!({}));
    for (t, p) in events {
        change = change.event(t, p);
    }
    if let Some(at) = timers_set {
        change = change.set_timer(RECTIFICATION_DEADLINE, id.clone(), at, serde_json::json!({}));
    }
    if cancel_rectification {
        change = change.cancel_timer(RECTIFICATION_DEADLINE, id);
    }
    Ok(change)
}

/// R-E3: the rectification deadline lapsed (the timer): unrectified → overdue.
pub fn rectification_lapsed(e: &Entry, ctx: Context<'_>) -> Option<Change<Entry>> {
    let r = e.rectification.as_ref()?;
    if r.status != RectificationStatus::Pending || !period::lapsed(r.rectify_by, Period::Days(0), ctx.today) {
        return None;
    }
    let mut next = e.clone();
    next.rectification = Some(Rectification { status: RectificationStatus::Overdue, ..r.clone() });
    let payload = Payload::EvaluationRectificationOverdue(ev::EvaluationRectificationOverdue {
        app_id: e.entry_id.to_string(),
        rectify_by: Some(civil(r.rectify_by)),
    });
    Some(
        Change::new(next, "RectificationOverdue")
            .rules(&["R-E3"])
            .reason(format!("not rectified by {}: elimination may be proposed", r.rectify_by))
            .event(types::RECTIFICATION_OVERDUE, payload),
    )
}

/// R-E3: DRB proposes elimination of an application whose rectification deadline passed.
pub fn propose_elimination(e: &Entry, reason: &str, by: &str, ctx: Context<'_>) -> Result<Change<Entry>, Refusal> {
    if reason.trim().is_empty() {
        return Err(Refusal::field("reason", "required: why the application is to be eliminated"));
    }
    running_application(e, "R-E3", "eliminated")?;
    let Some(r) = &e.rectification else {
        return Err(refuse(
            "R-E3",
            "app_id",
            format!("{} has no rectification: only a low grade unrectified in time leads to elimination", e.name),
        ));
    };
    match r.status {
        RectificationStatus::Rectified => {
            return Err(refuse("R-E3", "app_id", format!("{} was rectified by a passing re-evaluation", e.name)));
        }
        RectificationStatus::Pending if period::within(r.rectify_by, Period::Days(0), ctx.today) => {
            return Err(refuse(
                "R-E3",
                "app_id",
                format!("the rectification deadline {} has not passed: the unit may still rectify", r.rectify_by),
            ));
        }
        _ => {}
    }
    if let Some(el) = &e.elimination
        && matches!(el.status, EliminationStatus::Proposed | EliminationStatus::Approved)
    {
        return Err(refuse("R-E3", "app_id", format!("elimination was already proposed on {} ({})", el.proposed_on, el.status.as_str())));
    }
    let mut next = e.clone();
    if r.status == RectificationStatus::Pending {
        next.rectification = Some(Rectification { status: RectificationStatus::Overdue, ..r.clone() });
    }
    next.elimination = Some(Elimination {
        status: EliminationStatus::Proposed,
        reason: reason.trim().to_string(),
        proposed_by: by.to_string(),
        proposed_on: ctx.today,
        decided_by: String::new(),
        decision_comment: String::new(),
        decided_on: None,
    });
    let payload =
        Payload::EliminationProposed(ev::EliminationProposed { app_id: e.entry_id.to_string(), reason: reason.trim().to_string() });
    Ok(Change::new(next, "ProposeElimination")
        .rules(&["R-E3"])
        .reason(format!("not rectified by {}: proposed to the leader in charge", r.rectify_by))
        .event(types::ELIMINATION_PROPOSED, payload))
}

/// R-E3: the district leader in charge approves or rejects the proposal.
pub fn decide_elimination(e: &Entry, approve: bool, comment: &str, by: &str, ctx: Context<'_>) -> Result<Change<Entry>, Refusal> {
    let Some(el) = e.elimination.as_ref().filter(|el| el.status == EliminationStatus::Proposed) else {
        return Err(refuse(
            "R-E3",
            "app_id",
            format!("no elimination of {} is awaiting the leader's decision: DRB proposes it first", e.name),
        ));
    };
    let mut next = e.clone();
    next.elimination = Some(Elimination {
        status: if approve { EliminationStatus::Approved } else { EliminationStatus::Rejected },
        decided_by: by.to_string(),
        decision_comment: comment.trim().to_string(),
        decided_on: Some(ctx.today),
        ..el.clone()
    });
    let payload = Payload::EliminationDecided(ev::EliminationDecided {
        app_id: e.entry_id.to_string(),
        approved: approve,
        comment: comment.trim().to_string(),
    });
    Ok(Change::new(next, "DecideElimination")
        .rules(&["R-E3"])
        .reason(if approve { "elimination approved by the leader in charge" } else { "elimination rejected by the leader in charge" })
        .event(types::ELIMINATION_DECIDED, payload))
}

/// R-E3: DRB eliminates (强制淘汰) and delists the application, only with the leader's approval.
pub fn eliminate(e: &Entry, _ctx: Context<'_>) -> Result<Change<Entry>, Refusal> {
    let approved = e.elimination.as_ref().filter(|el| el.status == EliminationStatus::Approved);
    let Some(el) = approved else {
        let why = match &e.elimination {
            Some(el) if el.status == EliminationStatus::Proposed => "the proposal still awaits the leader's approval".to_string(),
            Some(el) if el.status == EliminationStatus::Rejected => "the leader rejected the proposal".to_string(),
            Some(el) if el.status == EliminationStatus::Executed => "it was eliminated already".to_string(),
            _ => "no elimination was proposed and approved".to_string(),
        };
        return Err(refuse(
            "R-E3",
            "app_id",
            format!("{} cannot be eliminated without the approval of the district leader in charge: {why}", e.name),
        ));
    };
    let mut next = e.clone();
    next.state = EntryState::Eliminated;
    next.schedule = None;
    next.elimination = Some(Elimination { status: EliminationStatus::Executed, ..el.clone() });
    let id = e.entry_id.to_string();
    let payload = Payload::ApplicationEliminated(ev::ApplicationEliminated {
        app_id: id.clone(),
        name: e.name.clone(),
        operator_unit_id: e.operator_unit_id.clone(),
        reason: el.reason.clone(),
    });
    Ok(stop_tracking(Change::new(next, "EliminateApplication"), e)
        .rules(&["R-E3"])
        .reason(format!("eliminated (强制淘汰) and delisted: {}", el.reason))
        .event(types::APPLICATION_ELIMINATED, payload))
}

/// An application that no longer runs has no more evaluations or assessments to wait for.
fn stop_tracking(change: Change<Entry>, e: &Entry) -> Change<Entry> {
    let id = e.entry_id;
    let mut c = change.cancel_timer(EVALUATION_DUE, id.to_string()).cancel_timer(RECTIFICATION_DEADLINE, id.to_string());
    for t in &e.assessments {
        c = c.cancel_timer(ASSESSMENT_REMINDER, assessment_key(id, t.kind)).cancel_timer(ASSESSMENT_OVERDUE, assessment_key(id, t.kind));
    }
    c
}

// ------------------------------------------------------------------ R-E5: data sharing

/// R-E5: DRB records that a catalogue resource is not shared as the rules require: the unit
/// rectifies within the policy's months.
pub fn record_sharing_violation(e: &Entry, description: &str, ctx: Context<'_>) -> Result<Change<Entry>, Refusal> {
    if description.trim().is_empty() {
        return Err(Refusal::field("description", "required: what the data-sharing rules require and what is missing"));
    }
    if e.state != EntryState::Listed {
        return Err(refuse("R-E5", "entry_id", format!("{} is {}: only listed resources are held to sharing", e.name, e.state.as_str())));
    }
    if let Some(s) = e.sharing.as_ref().filter(|s| s.status == SharingStatus::Pending) {
        return Err(refuse(
            "R-E5",
            "entry_id",
            format!("a sharing violation recorded on {} is pending until {}", s.recorded_on, s.rectify_by),
        ));
    }
    let months = ctx.policy.sharing_rectification_months;
    let by = period::last_day(ctx.today, Period::Months(months));
    let mut next = e.clone();
    next.sharing = Some(SharingViolation {
        description: description.trim().to_string(),
        recorded_on: ctx.today,
        rectify_by: by,
        status: SharingStatus::Pending,
        note: String::new(),
    });
    let id = e.entry_id.to_string();
    let payload = Payload::SharingViolationRecorded(ev::SharingViolationRecorded {
        entry_id: id.clone(),
        description: description.trim().to_string(),
        rectify_by: Some(civil(by)),
        unit_id: e.responsible_unit().to_string(),
    });
    Ok(Change::new(next, "RecordSharingViolation")
        .rules(&["R-E5"])
        .reason(format!("rectify by {by} ({months} months) or the resource is delisted"))
        .event(types::SHARING_VIOLATION_RECORDED, payload)
        .set_timer(SHARING_DEADLINE, id, period::lapses_at(by, Period::Days(0)), serde_json::json!({})))
}

/// R-E5: DRB confirms the rectification, on or before the deadline.
pub fn record_sharing_rectified(e: &Entry, note: &str, ctx: Context<'_>) -> Result<Change<Entry>, Refusal> {
    let Some(s) = e.sharing.as_ref().filter(|s| s.status == SharingStatus::Pending) else {
        return Err(refuse("R-E5", "entry_id", format!("{} has no pending sharing violation", e.name)));
    };
    if period::lapsed(s.rectify_by, Period::Days(0), ctx.today) {
        return Err(refuse(
            "R-E5",
            "entry_id",
            format!("the rectification deadline {} has passed: the resource is delisted", s.rectify_by),
        ));
    }
    let mut next = e.clone();
    next.sharing = Some(SharingViolation { status: SharingStatus::Rectified, note: note.trim().to_string(), ..s.clone() });
    let id = e.entry_id.to_string();
    let payload = Payload::SharingViolationRectified(ev::SharingViolationRectified { entry_id: id.clone(), note: note.trim().to_string() });
    Ok(Change::new(next, "RecordSharingRectified")
        .rules(&["R-E5"])
        .reason(format!("rectified by {} (deadline {})", ctx.today, s.rectify_by))
        .event(types::SHARING_VIOLATION_RECTIFIED, payload)
        .cancel_timer(SHARING_DEADLINE, id))
}

/// R-E5: the deadline lapsed unrectified (the timer): 下架.
pub fn sharing_lapsed(e: &Entry, ctx: Context<'_>) -> Option<Change<Entry>> {
    let s = e.sharing.as_ref().filter(|s| s.status == SharingStatus::Pending)?;
    if !period::lapsed(s.rectify_by, Period::Days(0), ctx.today) || e.state != EntryState::Listed {
        return None;
    }
    let mut next = e.clone();
    next.state = EntryState::Delisted;
    next.schedule = None;
    next.sharing = Some(SharingViolation { status: SharingStatus::Delisted, ..s.clone() });
    let reason = format!("sharing violation not rectified by {}: delisted (下架)", s.rectify_by);
    let payload = Payload::CatalogueEntryDelisted(ev::CatalogueEntryDelisted {
        entry_id: e.entry_id.to_string(),
        name: e.name.clone(),
        reason: reason.clone(),
        rule_ids: vec!["R-E5".into()],
    });
    Some(stop_tracking(Change::new(next, "DelistEntry"), e).rules(&["R-E5"]).reason(reason).event(types::ENTRY_DELISTED, payload))
}

// ------------------------------------------------------------------ R-E6: early stop

/// R-E6: a unit stops its application; within the policy's years of going live (through the
/// anniversary, as every period), the unit may not apply the next year (R-I10).
pub fn stop(e: &Entry, reason: &str, unit_id: &str, ctx: Context<'_>) -> Result<Change<Entry>, Refusal> {
    if reason.trim().is_empty() {
        return Err(Refusal::field("reason", "required: why the application stops"));
    }
    running_application(e, "R-E6", "stopped")?;
    let years = ctx.policy.early_stop_years;
    let early = e.go_live_on.is_some_and(|live| period::within(live, Period::Years(years), ctx.today));
    let ineligible_year = early.then_some(ctx.today.year() + 1);
    let mut next = e.clone();
    next.state = EntryState::Stopped;
    next.schedule = None;
    next.early_stop = Some(EarlyStop {
        stopped_on: ctx.today,
        reason: reason.trim().to_string(),
        unit_id: unit_id.to_string(),
        within_early_stop_years: early,
        ineligible_year,
    });
    let id = e.entry_id.to_string();
    let stopped = Payload::ApplicationStopped(ev::ApplicationStopped {
        app_id: id.clone(),
        unit_id: unit_id.to_string(),
        went_live_on: e.go_live_on.map(civil),
        stopped_on: Some(civil(ctx.today)),
        early,
        reason: reason.trim().to_string(),
    });
    let mut change = stop_tracking(Change::new(next, "StopApplication"), e).rules(&["R-E6"]).event(types::APPLICATION_STOPPED, stopped);
    change = match (ineligible_year, e.go_live_on) {
        (Some(year), Some(live)) => change
            .reason(format!("stopped within {years} years of going live on {live}: unit {unit_id} may not apply in {year} (R-I10)"))
            .event(
                types::UNIT_ELIGIBILITY_SUSPENDED,
                Payload::UnitEligibilitySuspended(ev::UnitEligibilitySuspended {
                    unit_id: unit_id.to_string(),
                    year,
                    reason: format!("应用建成使用不满{years}年而停用 / {} stopped within {years} years of going live (R-E6)", e.name),
                    app_id: id,
                    went_live_on: Some(civil(live)),
                    stopped_on: Some(civil(ctx.today)),
                }),
            ),
        _ => change.reason(match e.go_live_on {
            Some(live) => format!("stopped after {years} years of use (went live {live})"),
            None => "stopped (go-live day not catalogued: no early-stop judgement)".to_string(),
        }),
    };
    Ok(change)
}

// ------------------------------------------------------------------ R-E7: yearly assessments

fn track(e: &Entry, kind: AssessmentKind) -> Option<&AssessmentTrack> {
    e.assessments.iter().find(|t| t.kind == kind)
}

/// R-E7: the reminder before an assessment is due (the timer).
pub fn assessment_reminder(e: &Entry, kind: AssessmentKind, _ctx: Context<'_>) -> Option<Change<Entry>> {
    let t = track(e, kind)?;
    if t.reminded || e.state != EntryState::Listed {
        return None;
    }
    let mut next = e.clone();
    if let Some(t) = next.assessments.iter_mut().find(|t| t.kind == kind) {
        t.reminded = true;
    }
    let payload = Payload::AssessmentReminder(ev::AssessmentReminder {
        app_id: e.entry_id.to_string(),
        kind: kind.as_str().into(),
        due_on: Some(civil(t.due_on)),
        operator_unit_id: e.operator_unit_id.clone(),
    });
    Some(
        Change::new(next, "AssessmentReminder")
            .rules(&["R-E7"])
            .reason(format!("{} assessment due on {}", kind.as_str(), t.due_on))
            .event(types::ASSESSMENT_REMINDER, payload),
    )
}

/// R-E7: the due day passed with no assessment recorded (the timer): flagged overdue.
pub fn assessment_lapsed(e: &Entry, kind: AssessmentKind, ctx: Context<'_>) -> Option<Change<Entry>> {
    let t = track(e, kind)?;
    if t.overdue || e.state != EntryState::Listed || !period::lapsed(t.due_on, Period::Days(0), ctx.today) {
        return None;
    }
    let mut next = e.clone();
    if let Some(t) = next.assessments.iter_mut().find(|t| t.kind == kind) {
        t.overdue = true;
    }
    let payload = Payload::AssessmentOverdue(ev::AssessmentOverdue {
        app_id: e.entry_id.to_string(),
        kind: kind.as_str().into(),
        due_on: Some(civil(t.due_on)),
        operator_unit_id: e.operator_unit_id.clone(),
    });
    Some(
        Change::new(next, "AssessmentOverdue")
            .rules(&["R-E7"])
            .reason(format!("{} assessment due on {} not recorded", kind.as_str(), t.due_on))
            .event(types::ASSESSMENT_OVERDUE, payload),
    )
}

/// What a unit records of an assessment done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoneAssessment {
    pub kind: AssessmentKind,
    pub done_on: Date,
    pub conclusion: String,
    pub report_reference: String,
}

/// R-E7: an assessment was done: the next is due a year (the policy's months) later.
pub fn record_assessment(e: &Entry, a: DoneAssessment, ctx: Context<'_>) -> Result<Change<Entry>, Refusal> {
    if a.done_on > ctx.today {
        return Err(Refusal::field("done_on", format!("{} is in the future", a.done_on)));
    }
    if a.conclusion.trim().is_empty() {
        return Err(Refusal::field("conclusion", "required: the assessment's conclusion"));
    }
    running_application(e, "R-E7", "assessed")?;
    if track(e, a.kind).is_none() {
        let why = match a.kind {
            AssessmentKind::ClassifiedProtection => format!(
                "yearly 等保 assessments are tracked from level {} up; {} is level {}",
                ctx.policy.evaluation.classified_protection_min_level, e.name, e.classified_protection_level
            ),
            AssessmentKind::Cryptography => format!("密评 is tracked for important information systems; {} is not one", e.name),
        };
        return Err(refuse("R-E7", "kind", why));
    }
    let e_policy = &ctx.policy.evaluation;
    let due = period::last_day(a.done_on, Period::Months(e_policy.assessment_interval_months));
    let mut next = e.clone();
    if let Some(t) = next.assessments.iter_mut().find(|t| t.kind == a.kind) {
        *t = AssessmentTrack {
            kind: a.kind,
            due_on: due,
            reminded: false,
            overdue: false,
            last_done_on: Some(a.done_on),
            last_conclusion: a.conclusion.trim().to_string(),
            last_report_reference: a.report_reference.trim().to_string(),
        };
    }
    let payload = Payload::AssessmentRecorded(ev::AssessmentRecorded {
        app_id: e.entry_id.to_string(),
        kind: a.kind.as_str().into(),
        done_on: Some(civil(a.done_on)),
        conclusion: a.conclusion.trim().to_string(),
        next_due_on: Some(civil(due)),
    });
    let change = Change::new(next, "RecordAssessment")
        .rules(&["R-E7"])
        .reason(format!("{} assessed on {}; next due {due}", a.kind.as_str(), a.done_on))
        .event(types::ASSESSMENT_RECORDED, payload);
    Ok(set_assessment_timers(change, e.entry_id, a.kind, due, e_policy, ctx.now))
}

// ------------------------------------------------------------------ R-E8: third-party audits

/// R-E8: a unit's commissioned third-party audit, with its stored report.
pub fn record_audit(e: &Entry, audit: Audit, _ctx: Context<'_>) -> Result<Change<Entry>, Refusal> {
    if e.kind != EntryKind::Application {
        return Err(refuse("R-E8", "app_id", format!("{} is a {} entry: audits are recorded on applications", e.name, e.kind.as_str())));
    }
    let mut next = e.clone();
    let payload = Payload::ThirdPartyAuditRecorded(ev::ThirdPartyAuditRecorded {
        app_id: e.entry_id.to_string(),
        document_id: audit.document_id.to_string(),
        auditor: audit.auditor.clone(),
        sha256: audit.sha256.clone(),
        sm3: audit.sm3.clone(),
    });
    let reason = format!("third-party audit by {} recorded with its report", audit.auditor);
    let doc = audit.document_id.to_string();
    next.audits.push(audit);
    Ok(Change::new(next, "RecordAudit")
        .rules(&["R-E8", "R-X1"])
        .reason(reason)
        .detail("document_id", doc)
        .event(types::AUDIT_RECORDED, payload))
}
