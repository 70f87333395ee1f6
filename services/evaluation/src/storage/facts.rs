//! Evaluation's facts for reconciliation: the catalogue entry of each accepted project (its id is
//! the project's), its state and its evaluation schedule.

use egov_platform::{
    AppError,
    reconcile::{Facts, FactsProvider},
};
use futures::future::BoxFuture;
use sqlx::PgPool;
use uuid::Uuid;

/// Reads the facts from evaluation's database.
pub struct StoredFacts(pub PgPool);

impl FactsProvider for StoredFacts {
    fn facts<'a>(&'a self, after: Option<Uuid>, limit: i64) -> BoxFuture<'a, Result<Vec<Facts>, AppError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT body FROM entries WHERE project_id = entry_id::text AND ($1::uuid IS NULL OR entry_id > $1)
                 ORDER BY entry_id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(&self.0)
            .await?;
            rows.iter()
                .map(|r| {
                    let e = super::entry_row(r)?;
                    let mut f = Facts::new(e.entry_id, e.state.as_str(), e.responsible_unit().to_string());
                    f.next_evaluation_due = e.schedule.as_ref().map(|s| s.next_due_on);
                    Ok(f)
                })
                .collect()
        })
    }
}
