//! The comparison of the five services' views of every project: pure, over what each service's
//! `Reconciliation.ListProjectFacts` answered, so `egovctl reconcile` and the end-to-end suite
//! judge the same way.
//!
//! What has to agree, project by project:
//! - **the chain of cases**: review has a case only for an application that passed compliance,
//!   procurement only for an approval (R-R4), acceptance only after construction completed,
//!   evaluation only for an accepted project (R-A5); and each service that let a project through
//!   sees the next one open its case;
//! - **the ends**: a cancelled approval (R-R6, R-P1) closes procurement's and acceptance's cases
//!   and leaves evaluation nothing; a revocation or termination (R-P10) ends review's case and
//!   acceptance's; a failed or lapsed acceptance has no catalogue entry or schedule;
//! - **intake's registry**: the status it shows for a project that ended is the end the deciding
//!   service recorded;
//! - **the timeline**: every event a service published and sent about a project is on intake's
//!   timeline (events sent less than `settle` ago may still be on their way);
//! - **money**: procurement's budget is review's approved budget after changes (R-R7); the
//!   procurement amount and supervision fee together, and the contract, stay within it (R-P3,
//!   R-P2); payments stay within the contract; stage ratios sum to 100 % and stage amounts to the
//!   contract (R-P6).

use std::collections::{BTreeMap, BTreeSet};

use egov_proto::common::ProjectFacts;
use time::OffsetDateTime;

use crate::convert;

pub const INTAKE: &str = "intake";
pub const REVIEW: &str = "review";
pub const PROCUREMENT: &str = "procurement";
pub const ACCEPTANCE: &str = "acceptance";
pub const EVALUATION: &str = "evaluation";
/// The services compared, in lifecycle order.
pub const SERVICES: [&str; 5] = [INTAKE, REVIEW, PROCUREMENT, ACCEPTANCE, EVALUATION];

crate::named_enum!(
    /// What kind of disagreement.
    pub enum Kind {
        /// A case still open in a later service for a project whose approval was cancelled.
        CaseAfterCancellation = "CASE_AFTER_CANCELLATION",
        /// A case in a service that the service before it never let the project reach.
        CaseWithoutPredecessor = "CASE_WITHOUT_PREDECESSOR",
        /// A catalogue entry or evaluation schedule for a project whose acceptance did not pass.
        ScheduleWithoutAcceptance = "SCHEDULE_WITHOUT_ACCEPTANCE",
        /// A service let the project through and the next never opened its case.
        MissingFollowUp = "MISSING_FOLLOW_UP",
        /// A project ended (cancelled, revoked, terminated) in one service and not in another.
        EndNotFollowed = "END_NOT_FOLLOWED",
        /// Intake's registry shows another status than the end a service decided.
        StatusMismatch = "STATUS_MISMATCH",
        /// A published event that intake's timeline does not show.
        MissingStep = "MISSING_STEP",
        /// Money outside its bounds.
        MoneyOutOfBounds = "MONEY_OUT_OF_BOUNDS",
    }
);

impl Kind {
    /// A short description in Chinese and English.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::CaseAfterCancellation => "取消立项后仍有案卷 case after a cancelled approval",
            Kind::CaseWithoutPredecessor => "前序环节未通过却有案卷 case without its predecessor",
            Kind::ScheduleWithoutAcceptance => "未通过验收却已编目排期 schedule without a passed acceptance",
            Kind::MissingFollowUp => "后续环节未开案 next stage never opened",
            Kind::EndNotFollowed => "项目终结未同步 end not followed",
            Kind::StatusMismatch => "状态不一致 status mismatch",
            Kind::MissingStep => "时间线缺少环节 timeline misses a step",
            Kind::MoneyOutOfBounds => "资金越界 money out of bounds",
        }
    }
}

/// One disagreement about one project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Disagreement {
    pub project_id: String,
    pub kind: Kind,
    /// The services whose views disagree.
    pub services: Vec<String>,
    pub detail: String,
}

/// Every service's facts, by service and project id.
#[derive(Debug, Clone, Default)]
pub struct Views {
    by_service: BTreeMap<String, BTreeMap<String, ProjectFacts>>,
}

impl Views {
    /// Adds what `service` answered (one page or all of them).
    pub fn add(&mut self, service: &str, facts: impl IntoIterator<Item = ProjectFacts>) {
        let m = self.by_service.entry(service.to_string()).or_default();
        for f in facts {
            m.insert(f.project_id.clone(), f);
        }
    }

    pub fn get(&self, service: &str, project_id: &str) -> Option<&ProjectFacts> {
        self.by_service.get(service).and_then(|m| m.get(project_id))
    }

    /// Every project id any service knows.
    pub fn projects(&self) -> BTreeSet<String> {
        self.by_service.values().flat_map(|m| m.keys().cloned()).collect()
    }

    /// Projects per service (for the report).
    pub fn counts(&self) -> Vec<(String, usize)> {
        SERVICES.iter().map(|s| (s.to_string(), self.by_service.get(*s).map_or(0, BTreeMap::len))).collect()
    }
}

/// Every disagreement between the views, by project and kind. Events sent less than `settle`
/// before `now` (real time) are not yet expected on intake's timeline.
pub fn compare(v: &Views, now: OffsetDateTime, settle: time::Duration) -> Vec<Disagreement> {
    let mut out = Vec::new();
    for p in v.projects() {
        let project = Project {
            id: &p,
            intake: v.get(INTAKE, &p),
            review: v.get(REVIEW, &p),
            procurement: v.get(PROCUREMENT, &p),
            acceptance: v.get(ACCEPTANCE, &p),
            evaluation: v.get(EVALUATION, &p),
        };
        let mut found = Found { id: &p, out: &mut out };
        project.chain(&mut found);
        project.ends(&mut found);
        project.registry(&mut found);
        project.steps(v, now - settle, &mut found);
        project.money(&mut found);
    }
    out.sort();
    out
}

struct Found<'a> {
    id: &'a str,
    out: &'a mut Vec<Disagreement>,
}

impl Found<'_> {
    fn push(&mut self, kind: Kind, services: &[&str], detail: String) {
        self.out.push(Disagreement {
            project_id: self.id.to_string(),
            kind,
            services: services.iter().map(|s| s.to_string()).collect(),
            detail,
        });
    }
}

struct Project<'a> {
    id: &'a str,
    intake: Option<&'a ProjectFacts>,
    review: Option<&'a ProjectFacts>,
    procurement: Option<&'a ProjectFacts>,
    acceptance: Option<&'a ProjectFacts>,
    evaluation: Option<&'a ProjectFacts>,
}

fn state(f: Option<&ProjectFacts>) -> Option<&str> {
    f.map(|f| f.state.as_str())
}

fn shown(f: Option<&ProjectFacts>) -> &str {
    f.map_or("no case", |f| f.state.as_str())
}

impl Project<'_> {
    /// Each service's case has its predecessor's passage, and each passage its follow-up.
    fn chain(&self, found: &mut Found<'_>) {
        let (i, r, k, a, e) =
            (state(self.intake), state(self.review), state(self.procurement), state(self.acceptance), state(self.evaluation));
        if r.is_some() && i != Some("COMPLIANCE_PASSED") {
            found.push(
                Kind::CaseWithoutPredecessor,
                &[INTAKE, REVIEW],
                format!("review has a case ({}) for an application that intake shows {}", shown(self.review), shown(self.intake)),
            );
        }
        if k.is_some() && !matches!(r, Some("APPROVED" | "CANCELLED" | "TERMINATED")) {
            found.push(
                Kind::CaseWithoutPredecessor,
                &[REVIEW, PROCUREMENT],
                format!("procurement has a case ({}) for a project review shows {}", shown(self.procurement), shown(self.review)),
            );
        }
        // Acceptance opens when construction completes; a project that ended after closes it.
        let ended_after = a == Some("CLOSED") && matches!(k, Some("TERMINATED" | "CANCELLED"));
        if a.is_some() && k != Some("CONSTRUCTION_COMPLETED") && !ended_after {
            found.push(
                Kind::CaseWithoutPredecessor,
                &[PROCUREMENT, ACCEPTANCE],
                format!("acceptance has a case ({}) for a project procurement shows {}", shown(self.acceptance), shown(self.procurement)),
            );
        }
        if e.is_some() && a != Some("ACCEPTED") {
            let schedule = self.evaluation.and_then(|f| f.next_evaluation_due.as_ref()).map(date).unwrap_or_default();
            found.push(
                Kind::ScheduleWithoutAcceptance,
                &[ACCEPTANCE, EVALUATION],
                format!(
                    "evaluation catalogued it ({}{}) while acceptance shows {}",
                    shown(self.evaluation),
                    if schedule.is_empty() { String::new() } else { format!(", evaluation due {schedule}") },
                    shown(self.acceptance)
                ),
            );
        }
        let follow = [
            (i == Some("COMPLIANCE_PASSED") && r.is_none(), INTAKE, REVIEW, "compliance passed"),
            (r == Some("APPROVED") && k.is_none(), REVIEW, PROCUREMENT, "approved"),
            (k == Some("CONSTRUCTION_COMPLETED") && a.is_none(), PROCUREMENT, ACCEPTANCE, "construction completed"),
            (a == Some("ACCEPTED") && e.is_none(), ACCEPTANCE, EVALUATION, "accepted"),
        ];
        for (missing, from, to, what) in follow {
            if missing {
                found.push(Kind::MissingFollowUp, &[from, to], format!("{from} shows it {what}; {to} has no case"));
            }
        }
    }

    /// Cancellations and R-P10's ends reach every later service.
    fn ends(&self, found: &mut Found<'_>) {
        let (r, k, a, e) = (state(self.review), state(self.procurement), state(self.acceptance), state(self.evaluation));
        if r == Some("CANCELLED") {
            if k.is_some_and(|k| k != "CANCELLED") {
                found.push(
                    Kind::CaseAfterCancellation,
                    &[REVIEW, PROCUREMENT],
                    format!("the approval is cancelled; procurement's case is {}", shown(self.procurement)),
                );
            }
            if a.is_some_and(|a| a != "CLOSED") {
                found.push(
                    Kind::CaseAfterCancellation,
                    &[REVIEW, ACCEPTANCE],
                    format!("the approval is cancelled; acceptance's case is {}", shown(self.acceptance)),
                );
            }
            if e.is_some() {
                found.push(
                    Kind::CaseAfterCancellation,
                    &[REVIEW, EVALUATION],
                    format!("the approval is cancelled; evaluation catalogued it ({})", shown(self.evaluation)),
                );
            }
        }
        if k == Some("CANCELLED") && r != Some("CANCELLED") {
            found.push(
                Kind::EndNotFollowed,
                &[REVIEW, PROCUREMENT],
                format!("procurement's case is cancelled; review shows {}", shown(self.review)),
            );
        }
        let terminated = k == Some("TERMINATED");
        if terminated != (r == Some("TERMINATED")) && (terminated || k.is_some()) {
            found.push(
                Kind::EndNotFollowed,
                &[REVIEW, PROCUREMENT],
                format!("procurement shows {}; review shows {}", shown(self.procurement), shown(self.review)),
            );
        }
        if terminated && a.is_some_and(|a| a != "CLOSED") {
            found.push(
                Kind::EndNotFollowed,
                &[PROCUREMENT, ACCEPTANCE],
                format!("the project is revoked or terminated; acceptance's case is {}", shown(self.acceptance)),
            );
        }
    }

    /// Intake's registry shows the end that a service decided.
    fn registry(&self, found: &mut Found<'_>) {
        let expected: Option<(&[&str], &str)> =
            match (state(self.evaluation), state(self.acceptance), state(self.procurement), state(self.review)) {
                (Some("ELIMINATED"), ..) => Some((&["强制淘汰 ELIMINATED", "下架 DELISTED"], EVALUATION)),
                (Some("DELISTED"), ..) => Some((&["下架 DELISTED"], EVALUATION)),
                (Some("STOPPED"), ..) => Some((&["停用 STOPPED"], EVALUATION)),
                (_, Some("RECTIFICATION_LAPSED"), ..) => Some((&["整改逾期 RECTIFICATION_LAPSED"], ACCEPTANCE)),
                (_, _, Some("TERMINATED"), _) => Some((&["撤销 REVOKED", "终止 TERMINATED"], PROCUREMENT)),
                (.., Some("CANCELLED")) => Some((&["取消立项 APPROVAL_CANCELLED"], REVIEW)),
                (.., Some("ENDED")) => Some((&["申报结束 ENDED"], REVIEW)),
                _ if state(self.intake) == Some("ENDED") => Some((&["申报结束 ENDED"], INTAKE)),
                _ => None,
            };
        let Some((statuses, decided_by)) = expected else { return };
        let status = self.intake.map_or("", |f| f.status.as_str());
        if !statuses.contains(&status) {
            found.push(
                Kind::StatusMismatch,
                &[INTAKE, decided_by],
                format!("{decided_by} ended it ({}); intake's registry shows {status:?}", statuses.join(" or ")),
            );
        }
    }

    /// Every sent event about the project is on intake's timeline.
    fn steps(&self, v: &Views, sent_by: OffsetDateTime, found: &mut Found<'_>) {
        let observed: BTreeSet<&str> = self.intake.map(|f| f.observed.iter().map(|s| s.event_id.as_str()).collect()).unwrap_or_default();
        for service in SERVICES {
            let Some(f) = v.get(service, self.id) else { continue };
            for s in &f.published {
                let settled = s.sent && s.sent_at.as_ref().and_then(convert::from_timestamp).is_some_and(|t| t <= sent_by);
                if settled && !observed.contains(s.event_id.as_str()) {
                    found.push(
                        Kind::MissingStep,
                        &[service, INTAKE],
                        format!("{service} published {} ({}); intake's timeline does not show it", s.event_type, s.event_id),
                    );
                }
            }
        }
    }

    /// payments ≤ contract ≤ approved budget after changes; procurement + supervision ≤ budget;
    /// stage ratios 100 %, stage amounts the contract.
    fn money(&self, found: &mut Found<'_>) {
        let Some(k) = self.procurement else { return };
        let approved = self.review.and_then(|r| r.approved_budget_fen);
        if let (Some(a), Some(b)) = (approved, k.approved_budget_fen)
            && a != b
        {
            found.push(
                Kind::MoneyOutOfBounds,
                &[REVIEW, PROCUREMENT],
                format!("review's approved budget after changes is {a} fen; procurement's budget is {b} fen"),
            );
        }
        let budget = approved.or(k.approved_budget_fen);
        let mut bound = |ok: bool, detail: String| {
            if !ok {
                found.push(Kind::MoneyOutOfBounds, &[PROCUREMENT], detail);
            }
        };
        if let (Some(p), Some(b)) = (k.procured_fen, budget) {
            let fee = k.supervision_fee_fen.unwrap_or(0);
            bound(
                p.saturating_add(fee) <= b,
                format!("procurement {p} fen + supervision {fee} fen exceed the approved budget {b} fen (R-P3)"),
            );
        }
        if let (Some(c), Some(b)) = (k.contract_fen, budget) {
            bound(c <= b, format!("the contract's {c} fen exceed the approved budget {b} fen"));
        }
        match (k.paid_fen, k.contract_fen) {
            (Some(paid), Some(c)) => bound(paid <= c, format!("payments of {paid} fen exceed the contract's {c} fen (R-P6)")),
            (Some(paid), None) => bound(paid == 0, format!("payments of {paid} fen without a contract (R-P6)")),
            _ => {}
        }
        if !k.stages.is_empty() {
            let ratios: u64 = k.stages.iter().map(|s| u64::from(s.ratio_bp)).sum();
            bound(ratios == 10_000, format!("the payment stages' ratios sum to {}.{:02} %, not 100 % (R-P6)", ratios / 100, ratios % 100));
            let amounts: i64 = k.stages.iter().map(|s| s.amount_fen).sum();
            if let Some(c) = k.contract_fen {
                bound(amounts == c, format!("the payment stages' amounts sum to {amounts} fen, the contract's is {c} fen (R-P6)"));
            }
        }
    }
}

fn date(d: &egov_proto::common::CivilDate) -> String {
    format!("{}-{:02}-{:02}", d.year, d.month, d.day)
}

#[cfg(test)]
mod tests {
    use egov_proto::common::{PaymentStageFact, RecordedStep};
    use time::macros::datetime;

    use super::*;

    const P: &str = "0190a000-0000-7000-8000-000000000001";

    fn facts(state: &str) -> ProjectFacts {
        ProjectFacts { project_id: P.into(), state: state.into(), ..Default::default() }
    }

    /// An accepted project as every service shows it when they agree.
    fn accepted() -> Views {
        let mut v = Views::default();
        v.add(INTAKE, [ProjectFacts { status: "运行 IN_OPERATION".into(), ..facts("COMPLIANCE_PASSED") }]);
        v.add(REVIEW, [ProjectFacts { approved_budget_fen: Some(10_000), ..facts("APPROVED") }]);
        v.add(
            PROCUREMENT,
            [ProjectFacts {
                approved_budget_fen: Some(10_000),
                procured_fen: Some(9_000),
                supervision_fee_fen: Some(1_000),
                contract_fen: Some(9_000),
                paid_fen: Some(9_000),
                stages: vec![
                    PaymentStageFact { stage_id: "a".into(), ratio_bp: 3_000, amount_fen: 2_700 },
                    PaymentStageFact { stage_id: "b".into(), ratio_bp: 7_000, amount_fen: 6_300 },
                ],
                ..facts("CONSTRUCTION_COMPLETED")
            }],
        );
        v.add(ACCEPTANCE, [facts("ACCEPTED")]);
        v.add(EVALUATION, [facts("LISTED")]);
        v
    }

    fn now() -> OffsetDateTime {
        datetime!(2027-06-01 10:00 UTC)
    }

    fn kinds(v: &Views) -> Vec<(Kind, Vec<String>)> {
        compare(v, now(), time::Duration::seconds(5)).into_iter().map(|d| (d.kind, d.services)).collect()
    }

    fn with(v: &mut Views, service: &str, f: impl FnOnce(&mut ProjectFacts)) {
        let m = v.by_service.get_mut(service).unwrap();
        f(m.get_mut(P).unwrap());
    }

    #[test]
    fn agreeing_views_have_no_disagreement() {
        assert_eq!(kinds(&accepted()), vec![]);
        // An application ended at compliance: intake alone knows it, and shows the end.
        let mut v = Views::default();
        v.add(INTAKE, [ProjectFacts { status: "申报结束 ENDED".into(), ..facts("ENDED") }]);
        assert_eq!(kinds(&v), vec![]);
        assert_eq!(v.counts()[0], ("intake".to_string(), 1));
    }

    #[test]
    fn a_procurement_case_for_a_cancelled_approval() {
        let mut v = accepted();
        with(&mut v, REVIEW, |f| f.state = "CANCELLED".into());
        with(&mut v, INTAKE, |f| f.status = "取消立项 APPROVAL_CANCELLED".into());
        with(&mut v, PROCUREMENT, |f| f.state = "PROCURING".into());
        v.by_service.get_mut(ACCEPTANCE).unwrap().clear();
        v.by_service.get_mut(EVALUATION).unwrap().clear();
        assert_eq!(kinds(&v), vec![(Kind::CaseAfterCancellation, vec!["review".into(), "procurement".into()])]);
        with(&mut v, PROCUREMENT, |f| f.state = "CANCELLED".into());
        assert_eq!(kinds(&v), vec![]);
        // Cancelled in procurement only: review never followed.
        with(&mut v, REVIEW, |f| f.state = "APPROVED".into());
        with(&mut v, INTAKE, |f| f.status = "已立项 APPROVED".into());
        assert_eq!(kinds(&v), vec![(Kind::EndNotFollowed, vec!["review".into(), "procurement".into()])]);
    }

    #[test]
    fn a_schedule_for_a_failed_acceptance() {
        let mut v = accepted();
        with(&mut v, ACCEPTANCE, |f| f.state = "RECTIFICATION".into());
        with(&mut v, EVALUATION, |f| f.next_evaluation_due = Some(convert::civil(time::macros::date!(2028 - 06 - 01))));
        let d = compare(&v, now(), time::Duration::ZERO);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].kind, Kind::ScheduleWithoutAcceptance);
        assert!(d[0].detail.contains("2028-06-01") && d[0].detail.contains("RECTIFICATION"), "{}", d[0].detail);
    }

    #[test]
    fn cases_need_their_predecessor_and_passages_their_follow_up() {
        let mut v = accepted();
        with(&mut v, REVIEW, |f| f.state = "ENDED".into());
        with(&mut v, INTAKE, |f| f.status = "申报结束 ENDED".into());
        assert!(kinds(&v).contains(&(Kind::CaseWithoutPredecessor, vec!["review".into(), "procurement".into()])), "{:?}", kinds(&v));
        let mut v = accepted();
        v.by_service.get_mut(EVALUATION).unwrap().clear();
        assert_eq!(kinds(&v), vec![(Kind::MissingFollowUp, vec!["acceptance".into(), "evaluation".into()])]);
        let mut v = accepted();
        with(&mut v, PROCUREMENT, |f| f.state = "CONSTRUCTION".into());
        assert_eq!(kinds(&v), vec![(Kind::CaseWithoutPredecessor, vec!["procurement".into(), "acceptance".into()])]);
    }

    #[test]
    fn a_termination_reaches_review_acceptance_and_the_registry() {
        let mut v = accepted();
        v.by_service.get_mut(EVALUATION).unwrap().clear();
        with(&mut v, PROCUREMENT, |f| f.state = "TERMINATED".into());
        with(&mut v, ACCEPTANCE, |f| f.state = "CLOSED".into());
        with(&mut v, REVIEW, |f| f.state = "TERMINATED".into());
        with(&mut v, INTAKE, |f| f.status = "终止 TERMINATED".into());
        assert_eq!(kinds(&v), vec![]);
        with(&mut v, INTAKE, |f| f.status = "建设 CONSTRUCTION".into());
        with(&mut v, REVIEW, |f| f.state = "APPROVED".into());
        assert_eq!(
            kinds(&v),
            vec![
                (Kind::EndNotFollowed, vec!["review".into(), "procurement".into()]),
                (Kind::StatusMismatch, vec!["intake".into(), "procurement".into()]),
            ]
        );
    }

    #[test]
    fn the_registry_shows_the_end_a_service_decided() {
        let mut v = accepted();
        with(&mut v, EVALUATION, |f| f.state = "ELIMINATED".into());
        assert_eq!(kinds(&v), vec![(Kind::StatusMismatch, vec!["intake".into(), "evaluation".into()])]);
        with(&mut v, INTAKE, |f| f.status = "下架 DELISTED".into());
        assert_eq!(kinds(&v), vec![], "elimination delists: either status is the end");
        with(&mut v, EVALUATION, |f| f.state = "STOPPED".into());
        assert_eq!(kinds(&v).len(), 1);
    }

    #[test]
    fn a_timeline_that_misses_a_step() {
        let step = |id: &str, sent_at: OffsetDateTime| RecordedStep {
            event_id: id.into(),
            event_type: "procurement.contract.filed".into(),
            sent: true,
            sent_at: Some(convert::timestamp(sent_at)),
            ..Default::default()
        };
        let mut v = accepted();
        with(&mut v, PROCUREMENT, |f| {
            f.published = vec![step("e1", now() - time::Duration::minutes(1)), step("e2", now() - time::Duration::minutes(1))];
        });
        with(&mut v, INTAKE, |f| f.observed = vec![RecordedStep { event_id: "e1".into(), ..Default::default() }]);
        let d = compare(&v, now(), time::Duration::seconds(5));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].kind, d[0].services.clone()), (Kind::MissingStep, vec!["procurement".to_string(), "intake".to_string()]));
        assert!(d[0].detail.contains("e2"));
        // Sent a moment ago, or not sent yet: still on its way.
        with(&mut v, PROCUREMENT, |f| {
            f.published[1].sent_at = Some(convert::timestamp(now() - time::Duration::seconds(1)));
        });
        assert_eq!(kinds(&v), vec![]);
        with(&mut v, PROCUREMENT, |f| f.published[1].sent = false);
        assert_eq!(kinds(&v), vec![]);
    }

    #[test]
    fn money_within_its_bounds() {
        let money = |f: fn(&mut ProjectFacts)| {
            let mut v = accepted();
            with(&mut v, PROCUREMENT, f);
            compare(&v, now(), time::Duration::ZERO).into_iter().map(|d| d.detail).collect::<Vec<_>>()
        };
        assert!(money(|f| f.paid_fen = Some(9_001))[0].contains("exceed the contract"));
        // At the bound: equal is within it.
        assert!(money(|f| f.procured_fen = Some(9_000)).is_empty());
        assert!(money(|f| f.procured_fen = Some(9_001))[0].contains("R-P3"));
        let over = money(|f| {
            f.contract_fen = Some(10_001);
            f.paid_fen = Some(0);
        });
        assert!(over.iter().any(|d| d.contains("exceed the approved budget 10000")), "{over:?}");
        assert!(money(|f| f.stages[1].ratio_bp = 6_999)[0].contains("99.99 %"));
        assert!(money(|f| f.stages[1].amount_fen = 6_299)[0].contains("8999 fen"));
        assert!(money(|f| f.approved_budget_fen = Some(9_500))[0].contains("review's approved budget after changes is 10000"));
        assert!(
            money(|f| {
                f.contract_fen = None;
                f.stages.clear();
            })[0]
                .contains("without a contract")
        );
        assert_eq!(Kind::parse("MONEY_OUT_OF_BOUNDS"), Some(Kind::MoneyOutOfBounds));
        assert!(Kind::MissingStep.describe().contains("timeline"));
    }
}
