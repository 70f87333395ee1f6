//! Acceptance's facts for reconciliation: each case's state.

use egov_platform::{
    AppError,
    reconcile::{Facts, FactsProvider},
};
use futures::future::BoxFuture;
use sqlx::PgPool;
use uuid::Uuid;

/// Reads the facts from acceptance's database.
pub struct StoredFacts(pub PgPool);

impl FactsProvider for StoredFacts {
    fn facts<'a>(&'a self, after: Option<Uuid>, limit: i64) -> BoxFuture<'a, Result<Vec<Facts>, AppError>> {
        Box::pin(async move {
            let mut c = self.0.acquire().await?;
            let cases = super::list_cases(&mut c, None, None, after, limit).await?;
            Ok(cases.into_iter().map(|k| Facts::new(k.project_id, k.state.as_str(), k.handover.lead_unit_id.clone())).collect())
        })
    }
}
