//! A hook for the integration tests, not an API: it puts a case where a test needs it without
//! walking every step before (the expert review, tested on its own, is long).

use egov_platform::{
    clock::SharedClock,
    policy::PolicyBook,
    transition::{self, Change, Context, Expected, Origin},
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{ExpertConclusion, ReviewCase, case, events::PRODUCER};

/// Writes the outcome of a passed expert review on the case `id` (in expert review), as the
/// `ExpertReview` service leaves it once the revised materials are in: the conclusion (pass,
/// `recommended_budget_fen`, by `experts`), stage `RE_CHECK`, and the re-check tasks opened by
/// the same transition that opens them after an upload. Committed through the pipeline.
pub async fn conclude_expert_review_and_revise(
    pool: &PgPool,
    clock: &SharedClock,
    id: Uuid,
    recommended_budget_fen: i64,
    experts: Vec<String>,
) -> anyhow::Result<()> {
    let policy = PolicyBook::load("").map_err(|e| anyhow::anyhow!("{}: {}", e.key, e.message))?;
    let mut tx = pool.begin().await?;
    let k: ReviewCase = transition::load(&mut tx, &id, true).await?;
    let pinned = policy.pinned(&k.policy_version)?;
    let at = clock.now();
    let mut next = k.clone();
    next.expert.conclusion = Some(ExpertConclusion {
        passed: true,
        recommended_budget_fen,
        opinion: "方案可行，建议核减预算".into(),
        mean_scores: vec![],
        experts,
        concluded_by: "drb-1".into(),
        concluded_at: at,
    });
    next.expert.revised_after_conclusion = true;
    let change = case::enter_recheck(Change::new(next, "TestingExpertReviewConcluded"), Context::new(at, &pinned));
    transition::commit(&mut tx, &Origin::system(PRODUCER, at, "testing"), Expected::Version(k.version), change).await?;
    tx.commit().await?;
    Ok(())
}
