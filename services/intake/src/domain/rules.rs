//! The Measures' intake rules as pure functions over values, a clock reading and a policy
//! version. Each refusal is a [`RuleViolation`] naming its rule id; flags are points the
//! compliance reviewer must look at, not refusals.

use std::collections::BTreeSet;

use egov_platform::{
    clock::civil_date,
    error::{FieldViolation, Refusal, RuleViolation},
    period::{self, Period},
    policy::{ChecklistItem, Policy},
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::model::*;

// ------------------------------------------------------------------ drafts

/// Field-level checks of a draft (what is malformed, not what is missing for submission).
pub fn validate_draft(lead_unit_id: &str, d: &Draft) -> Vec<FieldViolation> {
    let mut v = Vec::new();
    if d.name.chars().count() > 200 {
        v.push(FieldViolation::new("draft.name", "at most 200 characters"));
    }
    let mut seen = BTreeSet::new();
    for (i, u) in d.participating_unit_ids.iter().enumerate() {
        let f = format!("draft.participating_unit_ids[{i}]");
        if u.trim().is_empty() {
            v.push(FieldViolation::new(f, "must not be empty"));
        } else if u == lead_unit_id {
            v.push(FieldViolation::new(f, "the lead unit is not also a participating unit (R-I5)"));
        } else if !seen.insert(u.as_str()) {
            v.push(FieldViolation::new(f, "listed twice"));
        }
    }
    let mut names = BTreeSet::new();
    for (i, m) in d.modules.iter().enumerate() {
        if m.name.trim().is_empty() {
            v.push(FieldViolation::new(format!("draft.modules[{i}].name"), "required"));
        } else if !names.insert(m.name.as_str()) {
            v.push(FieldViolation::new(format!("draft.modules[{i}].name"), "two modules share this name"));
        }
    }
    for (i, l) in d.budget.iter().enumerate() {
        if !l.module.is_empty() && !names.contains(l.module.as_str()) {
            v.push(FieldViolation::new(format!("draft.budget[{i}].module"), format!("{:?} is not one of the draft's modules", l.module)));
        }
    }
    if d.totals().is_none() {
        v.push(FieldViolation::new("draft.budget", "the amounts overflow"));
    }
    if d.planned_construction_months > 120 {
        v.push(FieldViolation::new("draft.planned_construction_months", "at most 120 months"));
    }
    if d.build_type != Some(BuildType::Upgrade) && !d.upgrade_of_app_id.is_empty() {
        v.push(FieldViolation::new("draft.upgrade_of_app_id", "only an UPGRADE names the application it upgrades"));
    }
    v
}

// ------------------------------------------------------------------ rounds (R-I3)

/// Opens the round of the current year for projects of `target_year`: its deadline day. (One
/// open round a year is a uniqueness the use case checks: a second is `ALREADY_EXISTS`.)
pub fn open_round(target_year: i32, now: OffsetDateTime, policy: &Policy) -> Result<Date, Refusal> {
    let today = civil_date(now);
    if target_year != today.year() + 1 {
        return Err(Refusal::rule(
            "R-I3",
            "target_year",
            format!(
                "the round held in {} is for projects of {} (每年集中申报下一年度项目), not {target_year}",
                today.year(),
                today.year() + 1
            ),
        ));
    }
    let deadline = policy.round_deadline_in(today.year()).ok_or_else(|| {
        Refusal::rule(
            "R-I3",
            "target_year",
            format!("policy {} sets no round deadline ({}) that exists in {}", policy.version, policy.round_deadline, today.year()),
        )
    })?;
    if today > deadline {
        return Err(Refusal::rule(
            "R-I3",
            "target_year",
            format!("the {} round closed on {deadline}; outside a round only supplementary projects (增补项目) may apply", today.year()),
        ));
    }
    Ok(deadline)
}

/// Whether `round` takes submissions at `now`: open, and not past its deadline day.
pub fn round_accepts(round: &Round, now: OffsetDateTime) -> Result<(), RuleViolation> {
    if round.state != RoundState::Open {
        return Err(RuleViolation::new(
            "R-I3",
            "round_id",
            "the round is closed; outside a round only supplementary projects (增补项目) may apply",
        ));
    }
    if civil_date(now) > round.deadline {
        return Err(RuleViolation::new(
            "R-I3",
            "round_id",
            format!("the round's deadline {} (Asia/Shanghai) has passed (申报截止); apply as a supplementary project", round.deadline),
        ));
    }
    Ok(())
}

// ------------------------------------------------------------------ eligibility (R-I10)

/// The year in which a penalty suspends applications, per R-I10.
pub fn ineligible_year(
    kind: PenaltyKind,
    went_live_on: Option<Date>,
    stopped_on: Option<Date>,
    found_in_year: i32,
    policy: &Policy,
) -> Result<Option<i32>, Refusal> {
    match kind {
        PenaltyKind::EarlyStop => {
            let (Some(live), Some(stop)) = (went_live_on, stopped_on) else {
                return Err(Refusal::field("went_live_on", "EARLY_STOP needs went_live_on and stopped_on"));
            };
            if stop < live {
                return Err(Refusal::field("stopped_on", "an application cannot stop before it went live"));
            }
            // "建成使用不满两年而停用": stopped within the period of two years from going live
            // (counted as every period: through the anniversary itself) is early.
            let early = period::within(live, Period::Years(policy.early_stop_years), stop);
            Ok(early.then_some(stop.year() + 1))
        }
        PenaltyKind::BuiltOutsideMeasures => {
            if !(2000..=2100).contains(&found_in_year) {
                return Err(Refusal::field("found_in_year", "the year the violation was found is required"));
            }
            Ok(Some(found_in_year + 1))
        }
        PenaltyKind::ConstructionOverrun => Ok(None),
    }
}

/// Penalties that stop a unit applying in `year`.
pub fn suspending(penalties: &[Penalty], year: i32) -> Vec<&Penalty> {
    penalties.iter().filter(|p| p.ineligible_year == Some(year)).collect()
}

// ------------------------------------------------------------------ screening (R-I9)

/// Verdict per module from the catalogue's matches.
pub fn screen(modules: &[FunctionModule], matches: Vec<Vec<CatalogueMatch>>, policy: &Policy) -> Vec<ScreenedModule> {
    modules
        .iter()
        .zip(matches)
        .map(|(m, mut found)| {
            found.sort_by(|a, b| b.score.total_cmp(&a.score));
            let best = found.first().map(|c| c.score).unwrap_or(0.0);
            let verdict = if best >= policy.duplicate_score {
                ScreeningVerdict::Duplicate
            } else if best >= policy.partial_duplicate_score {
                ScreeningVerdict::PartialDuplicate
            } else {
                ScreeningVerdict::Distinct
            };
            ScreenedModule { module: m.name.clone(), matches: found, verdict }
        })
        .collect()
}

// ------------------------------------------------------------------ submission

/// Everything the submission rules look at besides the application.
pub struct SubmissionFacts<'a> {
    pub now: OffsetDateTime,
    pub policy: &'a Policy,
    pub lead_unit: &'a Unit,
    /// Participating unit ids that are not registered.
    pub unknown_participants: Vec<String>,
    pub documents: &'a [DocumentMeta],
    /// The round named by the submission; `None` for a supplementary submission.
    pub round: Option<&'a Round>,
    pub penalties: &'a [Penalty],
    /// For an upgraded business application: the upgraded app's latest evaluation.
    pub latest_evaluation: Option<LatestEvaluation>,
    pub screening: Vec<ScreenedModule>,
}

/// What a successful submission fixes on the application.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub round_id: Option<Uuid>,
    pub application_year: i32,
    pub flags: Vec<ReviewFlag>,
    pub totals: BudgetTotals,
    pub screening: Vec<ScreenedModule>,
    pub streets: Vec<String>,
}

fn flag(rule: &str, code: &str, message: impl Into<String>) -> ReviewFlag {
    ReviewFlag { rule_id: rule.into(), code: code.into(), message: message.into() }
}

/// Checks a submission against R-I1 to R-I10 and R-I12 (and the R-R5 grounds the dossier
/// declares). Refusals list every violation at once.
pub fn check_submission(app: &Application, f: &SubmissionFacts<'_>) -> Result<Submission, Vec<RuleViolation>> {
    let d = &app.draft;
    let p = f.policy;
    let mut v: Vec<RuleViolation> = Vec::new();
    let mut flags = Vec::new();
    let today = civil_date(f.now);

    // R-I1 scope.
    if !f.lead_unit.district_budget_unit {
        v.push(RuleViolation::new("R-I1", "lead_unit_id", "only district-level budget units (区本级预算单位) may apply"));
    }
    if f.lead_unit.state_owned_enterprise {
        v.push(RuleViolation::new("R-I1", "lead_unit_id", "district state-owned-enterprise projects (区属国企) are managed elsewhere"));
    }
    if d.classified {
        v.push(RuleViolation::new("R-I1", "draft.classified", "classified (涉密) projects are outside the Measures"));
    }
    for k in &d.content_kinds {
        if let Some(why) = k.exclusion() {
            v.push(RuleViolation::new("R-I1", "draft.content_kinds", format!("{why} is outside the Measures")));
        }
    }

    // R-I2 category and build type.
    if d.category.is_none() {
        v.push(RuleViolation::new("R-I2", "draft.category", "the project category (项目类别) is required"));
    }
    if d.build_type.is_none() {
        v.push(RuleViolation::new("R-I2", "draft.build_type", "the build type, new (新建) or upgrade (升级), is required"));
    }
    if d.name.trim().is_empty() {
        v.push(RuleViolation::new("R-I2", "draft.name", "the project name is required"));
    }
    if d.funding_source.is_none() {
        v.push(RuleViolation::new("R-I2", "draft.funding_source", "the funding source (资金来源) is required"));
    }
    if d.planned_construction_months == 0 {
        v.push(RuleViolation::new("R-I2", "draft.planned_construction_months", "the planned construction period is required"));
    }

    // R-I3 round or supplementary.
    let (round_id, application_year) = match f.round {
        Some(r) => {
            if let Err(e) = round_accepts(r, f.now) {
                v.push(e);
            }
            (Some(r.round_id), r.application_year())
        }
        None => {
            if app.supplementary != SupplementaryStatus::Accepted {
                v.push(RuleViolation::new(
                    "R-I3",
                    "round_id",
                    "outside an open round a submission needs a supplementary request (增补项目) accepted by DRB",
                ));
            }
            (None, today.year())
        }
    };

    // R-I4 dossier.
    let has = |k: DocumentKind| f.documents.iter().any(|doc| doc.kind == k);
    if !has(DocumentKind::ApplicationForm) {
        v.push(RuleViolation::new("R-I4", "documents", "the application form (电子政务项目申报表) is not uploaded"));
    }
    if !has(DocumentKind::FeasibilityReport) {
        v.push(RuleViolation::new("R-I4", "documents", "the feasibility study report (项目可行性研究报告) is not uploaded"));
    }

    // R-I5 participating units exist.
    for u in &f.unknown_participants {
        v.push(RuleViolation::new("R-I5", "draft.participating_unit_ids", format!("participating unit {u} is not registered")));
    }

    // R-I6 leader consent and iteration.
    if d.follows_business_application_flow() {
        if app.leader_consent.is_none() {
            v.push(RuleViolation::new(
                "R-I6",
                "leader_consent",
                "a business-application project needs the consent of the district leader in charge (分管区领导同意)",
            ));
        }
        if d.build_type == Some(BuildType::Upgrade) {
            if d.upgrade_of_app_id.is_empty() {
                v.push(RuleViolation::new("R-I6", "draft.upgrade_of_app_id", "an upgrade names the running application it upgrades"));
            } else {
                match &f.latest_evaluation {
                    None => v.push(RuleViolation::new(
                        "R-I6",
                        "draft.upgrade_of_app_id",
                        format!("application {} has no performance evaluation on record; an upgrade needs a passed one (迭代升级须通过绩效评价)", d.upgrade_of_app_id),
                    )),
                    Some(e) if !e.passed => v.push(RuleViolation::new(
                        "R-I6",
                        "draft.upgrade_of_app_id",
                        format!("the latest performance evaluation of {} is {} (not passed); an upgrade needs a pass", e.app_id, e.grade),
                    )),
                    Some(_) => {}
                }
            }
        }
    }

    // R-I7 necessity: the statement must declare; structural points are flagged.
    let n = &d.necessity;
    for (field, value, what) in [
        ("draft.necessity.core_business", &n.core_business, "the unit's core business (核心业务)"),
        ("draft.necessity.one_platform_path", &n.one_platform_path, "the one-unit-one-platform path (一单位一平台实施路径)"),
        (
            "draft.necessity.existing_systems_and_plans",
            &n.existing_systems_and_plans,
            "the unit's existing systems and plans (应用系统建设现状和未来计划)",
        ),
        (
            "draft.necessity.relations_with_other_units",
            &n.relations_with_other_units,
            "its business relations with other units (与其它业务部门业务关系)",
        ),
    ] {
        if value.trim().is_empty() {
            v.push(RuleViolation::new("R-I7", field, format!("the feasibility statement must declare {what}")));
        }
    }
    if f.lead_unit.runs_platform
        && d.build_type == Some(BuildType::New)
        && !n.function_module_of_existing_platform
        && n.retired_systems.is_empty()
    {
        flags.push(flag(
            "R-I7",
            "NEW_PLATFORM",
            "the unit already runs a platform: a new build should be a function module of it or name the systems it retires (一单位一平台、只减不增)",
        ));
    }
    if n.terminals.is_empty() {
        flags.push(flag("R-I7", "NO_TERMINAL", "serves neither 浙里办 nor 浙政钉: check its place in the digital-reform framework"));
    }
    if !n.uses_public_data_platform {
        flags.push(flag(
            "R-I7",
            "NO_PUBLIC_DATA_PLATFORM",
            "does not use the district's integrated public data platform (一体化智能化公共数据平台)",
        ));
    }
    if !n.central_functions_extended.is_empty() {
        flags.push(flag(
            "R-I7",
            "CENTRAL_FUNCTIONS",
            format!(
                "extends functions built centrally by province or city ({}): only local additions may be funded",
                n.central_functions_extended.join(", ")
            ),
        ));
    }

    // R-I8 streets.
    let streets: BTreeSet<String> =
        f.documents.iter().filter(|doc| doc.kind == DocumentKind::StreetResearchReport).map(|doc| doc.street.clone()).collect();
    if d.reaches_streets {
        if (streets.len() as u32) < p.min_street_reports {
            let have: Vec<&str> = streets.iter().map(String::as_str).collect();
            v.push(RuleViolation::new(
                "R-I8",
                "documents",
                format!(
                    "an app reaching streets needs research reports from at least {} distinct streets (不少于{}个街道的调研报告); has {}{}",
                    p.min_street_reports,
                    p.min_street_reports,
                    streets.len(),
                    if have.is_empty() { String::new() } else { format!(": {}", have.join("、")) }
                ),
            ));
        }
        if f.lead_unit.has_street_app && d.adds_login_entry {
            flags.push(flag(
                "R-I8",
                "NEW_STREET_ENTRY",
                "the unit already reaches streets: no new login page or entry should be added (原则上不新增登陆网页或入口)",
            ));
        }
    }

    // R-I9 screening results are flags for the reviewer.
    for s in &f.screening {
        let best = s.matches.first();
        match (s.verdict, best) {
            (ScreeningVerdict::Duplicate, Some(b)) => flags.push(flag(
                "R-I9",
                "DUPLICATE",
                format!(
                    "module {:?} duplicates {:?} ({}, similarity {:.2}): a project whose main functions duplicate is not approved",
                    s.module, b.name, b.owner_unit, b.score
                ),
            )),
            (ScreeningVerdict::PartialDuplicate, Some(b)) => flags.push(flag(
                "R-I9",
                "PARTIAL_DUPLICATE",
                format!(
                    "module {:?} resembles {:?} ({}, similarity {:.2}): recommend cutting its share of the budget",
                    s.module, b.name, b.owner_unit, b.score
                ),
            )),
            _ => {}
        }
    }

    // R-I10 eligibility.
    for pen in suspending(f.penalties, application_year) {
        v.push(RuleViolation::new(
            "R-I10",
            "lead_unit_id",
            format!("unit {} may not apply in {application_year}: {} ({})", f.lead_unit.unit_id, pen.reason, pen.kind),
        ));
    }

    // R-I12 budget breakdown and security share.
    let totals = d.totals().unwrap_or_default();
    if d.modules.is_empty() {
        v.push(RuleViolation::new("R-I12", "draft.modules", "the budget is broken down by function module: list the modules"));
    }
    if d.budget.is_empty() || totals.total.get() == 0 {
        v.push(RuleViolation::new(
            "R-I12",
            "draft.budget",
            "a reasoned budget estimate by module and cost category is required (需求导向)",
        ));
    }
    for (i, l) in d.budget.iter().enumerate() {
        if l.rationale.trim().is_empty() {
            v.push(RuleViolation::new("R-I12", format!("draft.budget[{i}].rationale"), "each budget line gives its reasoning (测算合理)"));
        }
    }
    if d.build_type == Some(BuildType::New) && totals.total.get() > 0 && !totals.security_share_at_least(p.security_budget_ratio_bp) {
        flags.push(flag(
            "R-I12",
            "SECURITY_SHARE_LOW",
            format!(
                "network and data security budget is {}.{:02} % of the total, below {}.{:02} % (网络数据安全预算不低于总投资的5%)",
                totals.security_share_bp() / 100,
                totals.security_share_bp() % 100,
                p.security_budget_ratio_bp / 100,
                p.security_budget_ratio_bp % 100
            ),
        ));
    }

    // R-R5 grounds declared in the dossier must hold up.
    for g in &d.fast_track_grounds {
        match g {
            FastTrackGround::PrincipalLeaderAgreed if !has(DocumentKind::MeetingMinutes) => v.push(RuleViolation::new(
                "R-R5",
                "documents",
                "principal-leader agreement (区主要领导同意) as fast-track ground needs the meeting minutes uploaded",
            )),
            FastTrackGround::NonDistrictFunding
                if !matches!(d.funding_source, Some(FundingSource::SuperiorTransfer) | Some(FundingSource::SocialCapital)) =>
            {
                v.push(RuleViolation::new(
                    "R-R5",
                    "draft.funding_source",
                    "the non-district-funding ground needs funding wholly outside district fiscal money",
                ))
            }
            _ => {}
        }
    }

    if v.is_empty() {
        Ok(Submission { round_id, application_year, flags, totals, screening: f.screening.clone(), streets: streets.into_iter().collect() })
    } else {
        Err(v)
    }
}

// ------------------------------------------------------------------ supplementary (R-I3)

pub fn request_supplementary(app: &Application, justification: &str) -> Result<(), Refusal> {
    if app.state != ApplicationState::Draft {
        return Err(Refusal::rule(
            "R-I3",
            "state",
            format!("a supplementary request (增补项目) is made for a draft before it is submitted; this application is {}", app.state),
        ));
    }
    if app.supplementary == SupplementaryStatus::Accepted {
        return Err(Refusal::rule(
            "R-I3",
            "state",
            "DRB already accepted this supplementary request: submit the application without a round",
        ));
    }
    if justification.trim().chars().count() < 10 {
        return Err(Refusal::field(
            "urgency_justification",
            "state why the project cannot wait for the next round (紧急任务需要), at least 10 characters",
        ));
    }
    Ok(())
}

pub fn decide_supplementary(app: &Application) -> Result<(), Refusal> {
    if app.state != ApplicationState::AwaitingSupplementaryDecision {
        return Err(Refusal::rule(
            "R-I3",
            "state",
            format!(
                "DRB decides a supplementary request (一事一议) once the unit has made one; none awaits a decision, the application is {}",
                app.state
            ),
        ));
    }
    Ok(())
}

// ------------------------------------------------------------------ compliance (R-I11)

/// What a compliance decision does to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComplianceOutcome {
    Passed,
    /// First review failed: the unit may request one re-review until `deadline` (inclusive);
    /// the timer ends the application at `timer_due` otherwise.
    Failed {
        failed_items: Vec<String>,
        deadline: Date,
        timer_due: OffsetDateTime,
    },
    /// The re-review failed: 本次申报结束.
    Ended {
        failed_items: Vec<String>,
    },
}

/// Checks the results against the pinned checklist and decides.
pub fn decide_compliance(
    app: &Application,
    checklist: &[ChecklistItem],
    results: &[ChecklistResult],
    now: OffsetDateTime,
    policy: &Policy,
) -> Result<(u8, ComplianceOutcome), Refusal> {
    let round = match app.state {
        ApplicationState::Submitted => 1,
        ApplicationState::ReReviewRequested => 2,
        s => {
            return Err(Refusal::rule(
                "R-I11",
                "state",
                format!(
                    "compliance (合规性审查) is decided on a submitted application, or on the one re-review (复审) the unit requested; this application is {s}"
                ),
            ));
        }
    };
    let mut fields = Vec::new();
    let codes: BTreeSet<&str> = checklist.iter().map(|c| c.code.as_str()).collect();
    let mut answered = BTreeSet::new();
    for (i, r) in results.iter().enumerate() {
        if !codes.contains(r.code.as_str()) {
            fields.push(FieldViolation::new(
                format!("results[{i}].code"),
                format!("{:?} is not an item of the checklist of policy {}", r.code, policy.version),
            ));
        } else if !answered.insert(r.code.as_str()) {
            fields.push(FieldViolation::new(format!("results[{i}].code"), format!("{:?} is answered twice", r.code)));
        }
        if !r.passed && r.note.trim().is_empty() {
            fields.push(FieldViolation::new(format!("results[{i}].note"), "a failed item says what the unit must change (合规性审查意见)"));
        }
    }
    for c in checklist {
        if !answered.contains(c.code.as_str()) {
            fields.push(FieldViolation::new("results", format!("item {} ({}) is not answered", c.code, c.title)));
        }
    }
    if !fields.is_empty() {
        return Err(Refusal::Fields(fields));
    }
    let failed: Vec<String> = results.iter().filter(|r| !r.passed).map(|r| r.code.clone()).collect();
    let outcome = match (failed.is_empty(), round) {
        (true, _) => ComplianceOutcome::Passed,
        (false, 1) => {
            let window = Period::Days(policy.recheck_request_days);
            let decided_on = civil_date(now);
            ComplianceOutcome::Failed {
                failed_items: failed,
                deadline: period::last_day(decided_on, window),
                timer_due: period::lapses_at(decided_on, window),
            }
        }
        (false, _) => ComplianceOutcome::Ended { failed_items: failed },
    };
    Ok((round, outcome))
}

/// The unit asks for its one re-review (复审) in time.
pub fn request_re_review(app: &Application, now: OffsetDateTime) -> Result<(), Refusal> {
    let deadline = match (app.state, app.re_review_deadline) {
        (ApplicationState::ComplianceFailed, Some(deadline)) => deadline,
        (ApplicationState::ReReviewRequested, _) => {
            return Err(Refusal::rule("R-I11", "state", "the one re-review (复审) is already requested; DRB decides it"));
        }
        (s, _) => {
            return Err(Refusal::rule(
                "R-I11",
                "state",
                format!("a re-review (复审) is requested once, after a failed first compliance review; this application is {s}"),
            ));
        }
    };
    if civil_date(now) > deadline {
        return Err(Refusal::rule(
            "R-I11",
            "application_id",
            format!("the re-review had to be requested by {deadline} (Asia/Shanghai); this application ends (本次申报结束)"),
        ));
    }
    Ok(())
}

/// The re-review deadline passed without a request: whether the application ends now.
pub fn re_review_deadline_passed(app: &Application, now: OffsetDateTime) -> bool {
    app.state == ApplicationState::ComplianceFailed && app.re_review_deadline.is_some_and(|d| civil_date(now) > d)
}
