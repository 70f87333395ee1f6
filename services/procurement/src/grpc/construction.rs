//! Construction (建设): monthly progress (R-P7), overruns (R-P8), completion, revocation and
//! termination (R-P10), and the OCDS export.

use egov_platform::{
    AppError,
    auth::Principal,
    convert::{self as c, Fields},
};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    procurement as pb,
};
use tonic::{Request, Response};

use super::{Change, ProcurementApi, R, TimerOp, actor};
use crate::{
    domain::{
        CaseState, Completion, ProgressReport, Termination, TerminationGround, YearMonth, ocds, progress,
        termination::{self, TerminationFiling},
    },
    jobs,
    messaging::{self, types},
    storage,
};

/// A month from the request: required, 1..12.
fn year_month(f: &mut Fields, field: &str, m: Option<&pb::YearMonth>) -> Option<YearMonth> {
    let Some(m) = m else {
        f.push(field, "required: the year and month reported on");
        return None;
    };
    let ym = u8::try_from(m.month).ok().and_then(|month| YearMonth::new(m.year, month)).filter(|_| (2000..=2100).contains(&m.year));
    if ym.is_none() {
        f.push(field, format!("{}-{} is not a month (year 2000..2100, month 1..12)", m.year, m.month));
    }
    ym
}

/// Construction must be under way.
fn under_construction(state: CaseState, what: &str) -> Result<(), AppError> {
    if state == CaseState::Construction {
        Ok(())
    } else {
        Err(AppError::InvalidState(format!("{what} during construction (a filed contract); this case is {state}")))
    }
}

fn informational(summary: String) -> Payload {
    Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: String::new(), summary })
}

impl ProcurementApi {
    pub(super) async fn report_progress_impl(&self, req: Request<pb::ReportProgressRequest>) -> R<pb::ProcurementCase> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(c::uuid("project_id", &r.project_id)).unwrap_or_default();
        let etag = f.take(c::etag("etag", &r.etag)).unwrap_or_default();
        let month = year_month(&mut f, "month", r.month.as_ref());
        let percent = u8::try_from(r.percent_complete).ok().filter(|p| *p <= 100);
        if percent.is_none() {
            f.push("percent_complete", "0 to 100");
        }
        f.required("summary", &r.summary);
        f.finish()?;
        let (Some(month), Some(percent)) = (month, percent) else { return Err(AppError::field("month", "required").into()) };
        let case = self
            .transition(&p, id, etag, &r.request_id, |case, policy, today| {
                under_construction(case.state, "progress is reported")?;
                let first = case.first_report_month.unwrap_or_else(|| YearMonth::of(today));
                let reported: Vec<YearMonth> = case.progress_reports.iter().map(|r| r.month).collect();
                progress::check_report_month(month, first, today, &reported)?;
                let due_on = progress::report_due(month.as_tuple(), policy);
                let late = !progress::report_on_time(month.as_tuple(), today, policy);
                case.progress_reports.push(ProgressReport {
                    month,
                    reported_on: today,
                    due_on,
                    late,
                    percent_complete: percent,
                    summary: r.summary.trim().into(),
                    issues: r.issues.trim().into(),
                    reported_by: actor(&p),
                });
                case.progress_reports.sort_by_key(|r| r.month);
                let mut ch = Change::new(
                    "ReportProgress",
                    format!("cases/{id}/reports/{month}"),
                    &["R-P7"],
                    serde_json::json!({ "month": month.to_string(), "due_on": due_on.to_string(), "late": late, "percent_complete": percent }),
                );
                if late {
                    let summary = format!("月度进展迟报 / the progress report for {month} came in on {today}, after its due day {due_on} (R-P7)");
                    ch.events.push((types::REPORT_LATE, informational(summary)));
                }
                Ok(ch)
            })
            .await?;
        Ok(Response::new(self.served(&case)))
    }

    pub(super) async fn explain_overrun_impl(&self, req: Request<pb::ExplainOverrunRequest>) -> R<pb::ProcurementCase> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(c::uuid("project_id", &r.project_id)).unwrap_or_default();
        let etag = f.take(c::etag("etag", &r.etag)).unwrap_or_default();
        f.required("explanation", &r.explanation);
        f.finish()?;
        let explanation = r.explanation.trim().to_string();
        let case = self
            .transition(&p, id, etag, &r.request_id, |case, _, today| {
                under_construction(case.state, "an overrun is explained")?;
                let mut ch = Change::new(
                    "ExplainOverrun",
                    format!("cases/{id}"),
                    &["R-P8"],
                    serde_json::json!({ "explanation": explanation.clone() }),
                );
                // The timer may not have run yet on the day after the contract end.
                if let Some(recorded) = jobs::record_overrun(case, today) {
                    ch.events.push((types::OVERRUN_RECORDED, recorded));
                }
                let Some(overrun) = case.overrun.as_mut() else {
                    let end = case.contract.as_ref().map(|k| k.terms.construction_end.to_string()).unwrap_or_default();
                    return Err(AppError::InvalidState(format!(
                        "construction is within its contract period (ending {end}): there is no overrun to explain (R-P8)"
                    )));
                };
                if let (Some(_), Some(on)) = (&overrun.explanation, overrun.explained_on) {
                    return Err(AppError::AlreadyExists(format!("the overrun was explained on {on} (R-P8)")));
                }
                overrun.explanation = Some(explanation.clone());
                overrun.explained_on = Some(today);
                let days = progress::overrun_days(overrun.contract_end, today);
                let summary =
                    format!("超期情况说明 / the unit explained the overrun ({days} day(s) past {}): {explanation}", overrun.contract_end);
                ch.events.push((types::OVERRUN_EXPLAINED, informational(summary)));
                Ok(ch)
            })
            .await?;
        Ok(Response::new(self.served(&case)))
    }

    pub(super) async fn declare_construction_complete_impl(
        &self,
        req: Request<pb::DeclareConstructionCompleteRequest>,
    ) -> R<pb::ProcurementCase> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(c::uuid("project_id", &r.project_id)).unwrap_or_default();
        let etag = f.take(c::etag("etag", &r.etag)).unwrap_or_default();
        let completed_on = f.take(c::date("completed_on", r.completed_on.as_ref()));
        f.required("summary", &r.summary);
        f.finish()?;
        let Some(completed_on) = completed_on else { return Err(AppError::field("completed_on", "required").into()) };
        let given = r.overrun_explanation.trim().to_string();
        let case = self
            .transition(&p, id, etag, &r.request_id, |case, _, today| {
                under_construction(case.state, "construction is declared complete")?;
                let Some(contract) = case.contract.as_ref() else {
                    return Err(AppError::InvalidState("construction is declared complete once a contract is filed".into()));
                };
                let (signed_on, end) = (contract.signed_on, contract.terms.construction_end);
                if completed_on > today || completed_on < signed_on {
                    return Err(AppError::field("completed_on", format!("between the contract signing ({signed_on}) and today ({today})")));
                }
                let on_file = case.overrun.as_ref().and_then(|o| o.explanation.clone()).unwrap_or_default();
                let explanation = if on_file.is_empty() { given.clone() } else { on_file };
                let days = progress::check_overrun_explanation(end, completed_on, &explanation).map_err(|e| match e {
                    AppError::Rule(mut v) => {
                        v.iter_mut().for_each(|r| r.subject = "overrun_explanation".into());
                        AppError::Rule(v)
                    }
                    other => other,
                })?;
                let mut ch = Change::new(
                    "DeclareConstructionComplete",
                    format!("cases/{id}"),
                    &["R-P8"],
                    serde_json::json!({ "completed_on": completed_on.to_string(), "overrun_days": days }),
                );
                if let Some(recorded) = jobs::record_overrun(case, completed_on) {
                    ch.events.push((types::OVERRUN_RECORDED, recorded));
                }
                if let Some(o) = case.overrun.as_mut().filter(|o| o.explanation.is_none() && !given.is_empty()) {
                    o.explanation = Some(given.clone());
                    o.explained_on = Some(today);
                }
                case.completion =
                    Some(Completion { completed_on, declared_on: today, summary: r.summary.trim().into(), overrun_days: days });
                case.state = CaseState::ConstructionCompleted;
                ch.timers.push(TimerOp::StopConstruction);
                ch.events.push((types::CONSTRUCTION_COMPLETED, messaging::construction_completed(case)));
                Ok(ch)
            })
            .await?;
        Ok(Response::new(self.served(&case)))
    }

    pub(super) async fn terminate_project_impl(&self, req: Request<pb::TerminateProjectRequest>) -> R<pb::ProcurementCase> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let id = f.take(c::uuid("project_id", &r.project_id)).unwrap_or_default();
        let etag = f.take(c::etag("etag", &r.etag)).unwrap_or_default();
        let ground = match pb::TerminationGround::try_from(r.ground) {
            Ok(pb::TerminationGround::Unspecified) => None,
            Ok(g) => TerminationGround::parse(g.as_str_name().trim_start_matches("TERMINATION_GROUND_")),
            Err(_) => {
                f.push("ground", format!("{} is not a TerminationGround", r.ground));
                None
            }
        };
        f.finish()?;
        let filing = TerminationFiling {
            ground,
            reason: r.reason.trim().into(),
            progress: r.progress.trim().into(),
            payments: r.payments.trim().into(),
            party_committee_resolution: r.party_committee_resolution.trim().into(),
            leader_approval: r.leader_approval.trim().into(),
        };
        termination::check(&filing)?;
        let ground = ground.unwrap_or(TerminationGround::Other);
        let case = self
            .transition(&p, id, etag, &r.request_id, |case, _, today| {
                if !matches!(case.state, CaseState::Procuring | CaseState::Procured | CaseState::Construction) {
                    return Err(AppError::InvalidState(format!(
                        "a project is revoked or terminated while procuring or under construction (R-P10); this case is {}",
                        case.state
                    )));
                }
                let kind = termination::kind(case.contract.is_some());
                let paid_fen = case.contract.as_ref().map_or(0, |k| k.paid_fen());
                case.termination = Some(Termination {
                    kind: kind.into(),
                    ground,
                    reason: filing.reason.clone(),
                    progress: filing.progress.clone(),
                    payments: filing.payments.clone(),
                    paid_fen,
                    party_committee_resolution: filing.party_committee_resolution.clone(),
                    leader_approval: filing.leader_approval.clone(),
                    filed_on: today,
                    filed_by: actor(&p),
                });
                case.state = CaseState::Terminated;
                let mut ch = Change::new(
                    "TerminateProject",
                    format!("cases/{id}"),
                    &["R-P10"],
                    serde_json::json!({
                        "kind": kind,
                        "ground": ground.as_str(),
                        "reason": filing.reason,
                        "paid_fen": paid_fen,
                        "party_committee_resolution": filing.party_committee_resolution,
                        "leader_approval": filing.leader_approval,
                    }),
                );
                ch.stop_deadline = true;
                ch.timers.push(TimerOp::StopConstruction);
                ch.events.push((
                    types::TERMINATED,
                    Payload::ProjectTerminated(ev::ProjectTerminated {
                        project_id: id.to_string(),
                        kind: kind.into(),
                        ground: ground.as_str().into(),
                        reason: filing.reason.clone(),
                        paid_fen,
                    }),
                ));
                Ok(ch)
            })
            .await?;
        Ok(Response::new(self.served(&case)))
    }

    pub(super) async fn export_ocds_impl(&self, req: Request<pb::ExportOcdsRequest>) -> R<pb::OcdsReleasePackage> {
        let p = Principal::from_request(&req)?;
        let id = c::uuid("project_id", &req.get_ref().project_id).map_err(AppError::from)?;
        let mut conn = self.s.pool.acquire().await.map_err(AppError::from)?;
        let k = storage::get_case(&mut conn, id, false).await?;
        p.ensure_unit(&k.lead_unit_id, k.participating_unit_ids.iter())?;
        let package = ocds::release_package(&k, &ocds::Publisher::default(), self.s.clock.now());
        let json = serde_json::to_string_pretty(&package).map_err(|e| AppError::Internal(e.into()))?;
        Ok(Response::new(pb::OcdsReleasePackage { json }))
    }
}
