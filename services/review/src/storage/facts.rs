//! Review's facts for reconciliation: each case's stage and its approval's budget after changes.

use egov_platform::{
    AppError,
    reconcile::{Facts, FactsProvider},
};
use futures::future::BoxFuture;
use sqlx::PgPool;
use uuid::Uuid;

/// Reads the facts from review's database.
pub struct StoredFacts(pub PgPool);

impl FactsProvider for StoredFacts {
    fn facts<'a>(&'a self, after: Option<Uuid>, limit: i64) -> BoxFuture<'a, Result<Vec<Facts>, AppError>> {
        Box::pin(async move {
            let mut c = self.0.acquire().await?;
            let cases = super::list_cases(&mut c, None, None, after, limit).await?;
            Ok(cases
                .into_iter()
                .map(|k| {
                    let mut f = Facts::new(k.case_id, k.stage.as_str(), k.dossier.lead_unit_id.clone());
                    f.approved_budget_fen = k.approval.as_ref().map(|a| a.budget_fen.get());
                    f
                })
                .collect())
        })
    }
}
