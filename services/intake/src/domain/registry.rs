//! Units (项目建设单位), their record (R-I10, R-P8) and application rounds (R-I3) as transitions:
//! each a pure function returning the [`Change`] or a [`Refusal`].

use egov_platform::{
    error::Refusal,
    transition::{Change, Context},
    values::UnitId,
};
use egov_proto::events::{self as ev, event_envelope::Payload};
use time::Date;
use uuid::Uuid;

use super::{events::types, model::*, rules};

/// What a unit is, as DRB registers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUnit {
    pub unit_id: UnitId,
    pub name: String,
    pub district_budget_unit: bool,
    pub state_owned_enterprise: bool,
    pub runs_platform: bool,
    pub has_street_app: bool,
}

/// DRB registers a unit.
pub fn create_unit(u: NewUnit, ctx: Context<'_>) -> Change<Unit> {
    let unit = Unit {
        unit_id: u.unit_id.to_string(),
        name: u.name.trim().to_string(),
        district_budget_unit: u.district_budget_unit,
        state_owned_enterprise: u.state_owned_enterprise,
        runs_platform: u.runs_platform,
        has_street_app: u.has_street_app,
        version: 1,
        created_at: ctx.now,
    };
    Change::new(unit, "CreateUnit")
        .under_policy(ctx.policy.version.clone())
        .detail("district_budget_unit", u.district_budget_unit)
        .detail("state_owned_enterprise", u.state_owned_enterprise)
        .detail("runs_platform", u.runs_platform)
        .detail("has_street_app", u.has_street_app)
}

/// An entry of a unit's record, as DRB states it (R-I10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPenalty {
    pub unit_id: String,
    pub kind: PenaltyKind,
    pub reason: String,
    pub project_id: String,
    pub went_live_on: Option<Date>,
    pub stopped_on: Option<Date>,
    pub found_in_year: i32,
}

/// DRB records an entry of a unit's record: an early stop or a build outside the Measures
/// suspends the unit's applications of the next year (R-I10); an overrun only joins the record
/// shown to reviewers (R-P8).
pub fn record_penalty(p: NewPenalty, ctx: Context<'_>) -> Result<Change<Penalty>, Refusal> {
    let year = rules::ineligible_year(p.kind, p.went_live_on, p.stopped_on, p.found_in_year, ctx.policy)?;
    let rule_ids: &[&str] = if p.kind == PenaltyKind::ConstructionOverrun { &["R-P8", "R-I10"] } else { &["R-I10"] };
    let pen = Penalty {
        penalty_id: Uuid::now_v7(),
        unit_id: p.unit_id,
        kind: p.kind,
        reason: p.reason.trim().to_string(),
        project_id: p.project_id.trim().to_string(),
        went_live_on: p.went_live_on,
        stopped_on: p.stopped_on,
        ineligible_year: year,
        rule_ids: rule_ids.iter().map(|s| s.to_string()).collect(),
        policy_version: ctx.policy.version.clone(),
        recorded_at: ctx.now,
    };
    let payload = Payload::UnitPenaltyRecorded(ev::UnitPenaltyRecorded {
        penalty_id: pen.penalty_id.to_string(),
        unit_id: pen.unit_id.clone(),
        kind: pen.kind.as_str().to_string(),
        ineligible_year: year.unwrap_or(0),
        reason: pen.reason.clone(),
    });
    let reason = pen.reason.clone();
    Ok(Change::new(pen, "RecordUnitPenalty")
        .rules(rule_ids)
        .reason(reason)
        .detail("kind", p.kind.as_str())
        .detail("ineligible_year", year)
        .event(types::PENALTY_RECORDED, payload))
}

/// What another service found against a unit, recorded on its record: evaluation's eligibility
/// suspension (R-E6 → R-I10) or procurement's construction overrun (R-P8). Published by the
/// service that found it, so nothing is published again here.
pub fn penalty_from_event(p: NewPenalty, ineligible_year: Option<i32>, policy_version: &str, ctx: Context<'_>) -> Change<Penalty> {
    let (action, rule_ids): (&'static str, &[&str]) = match p.kind {
        PenaltyKind::ConstructionOverrun => ("RecordConstructionOverrun", &["R-P8", "R-I10"]),
        _ => ("ApplyEligibilitySuspension", &["R-I10", "R-E6"]),
    };
    let pen = Penalty {
        penalty_id: Uuid::now_v7(),
        unit_id: p.unit_id,
        kind: p.kind,
        reason: p.reason,
        project_id: p.project_id,
        went_live_on: p.went_live_on,
        stopped_on: p.stopped_on,
        ineligible_year,
        rule_ids: rule_ids.iter().map(|s| s.to_string()).collect(),
        policy_version: policy_version.to_string(),
        recorded_at: ctx.now,
    };
    let reason = pen.reason.clone();
    Change::new(pen, action).rules(rule_ids).reason(reason)
}

/// R-I3: DRB opens the year's round for next year's projects (每年集中申报下一年度项目).
pub fn open_round(target_year: i32, ctx: Context<'_>) -> Result<Change<Round>, Refusal> {
    let deadline = rules::open_round(target_year, ctx.now, ctx.policy)?;
    let round = Round {
        round_id: Uuid::now_v7(),
        target_year,
        deadline,
        state: RoundState::Open,
        policy_version: ctx.policy.version.clone(),
        version: 1,
        opened_at: ctx.now,
        closed_at: None,
    };
    let payload = Payload::RoundOpened(ev::RoundOpened {
        round_id: round.round_id.to_string(),
        target_year,
        deadline: Some(egov_platform::convert::civil(deadline)),
    });
    Ok(Change::new(round, "OpenRound")
        .rules(&["R-I3"])
        .detail("target_year", target_year)
        .detail("deadline", deadline.to_string())
        .event(types::ROUND_OPENED, payload))
}

/// R-I3: DRB closes a round before (or at) its deadline.
pub fn close_round(round: &Round, reason: &str, ctx: Context<'_>) -> Result<Change<Round>, Refusal> {
    if round.state == RoundState::Closed {
        return Err(Refusal::rule("R-I3", "state", "the round is already closed; the next round opens next year"));
    }
    let mut next = round.clone();
    next.state = RoundState::Closed;
    next.closed_at = Some(ctx.now);
    let payload = Payload::RoundClosed(ev::RoundClosed { round_id: round.round_id.to_string(), reason: reason.to_string() });
    Ok(Change::new(next, "CloseRound").rules(&["R-I3"]).reason(reason).event(types::ROUND_CLOSED, payload))
}
