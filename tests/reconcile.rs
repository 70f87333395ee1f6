//! The five services' views of every project compared, as `egovctl reconcile` compares them:
//! through each service's `Reconciliation.ListProjectFacts` (as OPERATOR) and the platform's
//! `reconcile::compare`. Every branch ends with no disagreement; here each kind of disagreement
//! is planted in a service's database with SQL and is reported.

use egov_platform::reconcile::compare::{self, Disagreement, Kind, SERVICES, Views};
use egov_proto::common::{ListProjectFactsRequest, reconciliation_client::ReconciliationClient};
use uuid::Uuid;

use super::*;

impl Suite {
    /// Every service's facts, page by page.
    pub(crate) async fn views(&self) -> Views {
        let mut v = Views::default();
        for (name, svc) in SERVICES.iter().zip(self.services()) {
            let mut c = ReconciliationClient::with_interceptor(svc.channel.clone(), bearer(&token(Role::Operator, None)));
            let mut page_token = String::new();
            loop {
                let r = c.list_project_facts(ListProjectFactsRequest { page_size: 2, page_token }).await.unwrap().into_inner();
                assert_eq!(r.service, *name);
                v.add(name, r.facts);
                if r.next_page_token.is_empty() {
                    break;
                }
                page_token = r.next_page_token;
            }
        }
        v
    }

    pub(crate) async fn reconcile(&self) -> Vec<Disagreement> {
        compare::compare(&self.views().await, time::OffsetDateTime::now_utc(), time::Duration::ZERO)
    }

    /// Waits until every outbox is sent and the services agree; fails with the disagreements.
    pub(crate) async fn reconcile_agrees(&self) {
        for svc in self.services() {
            eventually(WAIT, "every outbox is sent", || async {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM egov_outbox WHERE status <> 'sent'").fetch_one(&svc.pool).await.unwrap()
                    == 0
            })
            .await;
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let found = self.reconcile().await;
            if found.is_empty() {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "the services disagree: {found:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the comparison reports `kind` about `id`, naming `service`.
    pub(crate) async fn reported(&self, id: &str, kind: Kind, service: &str) -> Disagreement {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let found = self.reconcile().await;
            if let Some(d) = found.iter().find(|d| d.project_id == id && d.kind == kind && d.services.iter().any(|s| s == service)) {
                return d.clone();
            }
            assert!(tokio::time::Instant::now() < deadline, "{kind} about {id} by {service} not reported: {found:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Runs `sql` on a service's database with the project id as `$1`; returns the rows changed.
async fn plant(svc: &RunningService, sql: &str, id: &str) -> u64 {
    let id = Uuid::parse_str(id).unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).bind(id).execute(&svc.pool).await.unwrap().rows_affected()
}

#[tokio::test]
async fn each_kind_of_disagreement_planted_in_a_database_is_reported() {
    let s = Suite::start().await;
    let (id, _) = s.accepted_project().await;
    s.reconcile_agrees().await;
    let facts = s.views().await;
    let k = facts.get("procurement", &id).unwrap();
    assert_eq!((k.contract_fen, k.paid_fen, k.stages.len()), (Some(9_600_000), Some(2_880_000), 3), "{k:?}");
    let published: usize = SERVICES.iter().map(|svc| facts.get(svc, &id).map_or(0, |f| f.published.len())).sum();
    let observed = facts.get("intake", &id).unwrap().observed.len();
    assert!(published >= 15 && observed >= published, "{published} published, {observed} on intake's timeline");

    // A schedule for a failed acceptance: acceptance's case set back to rectification.
    let set_state = |state: &str| {
        format!("UPDATE acceptance_cases SET state = '{state}', body = jsonb_set(body, '{{state}}', '\"{state}\"') WHERE project_id = $1")
    };
    assert_eq!(plant(&s.acceptance, &set_state("RECTIFICATION"), &id).await, 1);
    let d = s.reported(&id, Kind::ScheduleWithoutAcceptance, "evaluation").await;
    assert!(d.detail.contains("evaluation due"), "{}", d.detail);
    plant(&s.acceptance, &set_state("ACCEPTED"), &id).await;
    s.reconcile_agrees().await;

    // A procurement case for a cancelled approval: review's stage set to cancelled.
    let stage = |stage: &str| {
        format!("UPDATE review_cases SET stage = '{stage}', body = jsonb_set(body, '{{stage}}', '\"{stage}\"') WHERE case_id = $1")
    };
    assert_eq!(plant(&s.review, &stage("CANCELLED"), &id).await, 1);
    s.reported(&id, Kind::CaseAfterCancellation, "procurement").await;
    s.reported(&id, Kind::StatusMismatch, "intake").await;
    plant(&s.review, &stage("APPROVED"), &id).await;
    s.reconcile_agrees().await;

    // A timeline that misses a step: intake's entry of the contract filing taken away.
    let missing = "UPDATE timeline SET project_id = '00000000-0000-0000-0000-000000000000'
                   WHERE project_id = $1 AND event_type = 'procurement.contract.filed'";
    assert_eq!(plant(&s.intake, missing, &id).await, 1);
    let d = s.reported(&id, Kind::MissingStep, "procurement").await;
    assert!(d.detail.contains("procurement.contract.filed"), "{}", d.detail);
    let back = "UPDATE timeline SET project_id = $1 WHERE project_id = '00000000-0000-0000-0000-000000000000'";
    plant(&s.intake, back, &id).await;
    s.reconcile_agrees().await;

    // Money out of its bounds, each in procurement's case: payments beyond the contract ...
    let body = |path: &str, value: &str| {
        format!("UPDATE procurement_cases SET body = jsonb_set(body, '{{{path}}}', '{value}') WHERE project_id = $1")
    };
    assert_eq!(plant(&s.procurement, &body("contract,payments,0,amount_fen", "9600001"), &id).await, 1);
    let d = s.reported(&id, Kind::MoneyOutOfBounds, "procurement").await;
    assert!(d.detail.contains("payments of 9600001 fen exceed the contract's 9600000 fen"), "{}", d.detail);
    plant(&s.procurement, &body("contract,payments,0,amount_fen", "2880000"), &id).await;
    // ... stage ratios that do not make 100 % ...
    plant(&s.procurement, &body("contract,stages,0,ratio_bp", "2999"), &id).await;
    let d = s.reported(&id, Kind::MoneyOutOfBounds, "procurement").await;
    assert!(d.detail.contains("99.99 %"), "{}", d.detail);
    plant(&s.procurement, &body("contract,stages,0,ratio_bp", "3000"), &id).await;
    s.reconcile_agrees().await;
    // ... and a contract above the budget review approved after changes.
    let budget = "UPDATE review_cases SET body = jsonb_set(body, '{approval,budget_fen}', '9500000') WHERE case_id = $1";
    assert_eq!(plant(&s.review, budget, &id).await, 1);
    let found = s.reconcile().await;
    let money: Vec<&str> = found.iter().filter(|d| d.kind == Kind::MoneyOutOfBounds).map(|d| d.detail.as_str()).collect();
    assert!(money.iter().any(|d| d.contains("the contract's 9600000 fen exceed the approved budget 9500000 fen")), "{money:?}");
    assert!(money.iter().any(|d| d.contains("review's approved budget after changes is 9500000 fen")), "{money:?}");
}
