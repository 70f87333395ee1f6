//! Intake's facts for reconciliation: each application's state, the registry's status, and every
//! event its timeline shows.

use std::collections::HashMap;

use egov_platform::{
    AppError,
    reconcile::{Facts, FactsProvider},
};
use futures::future::BoxFuture;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

/// Reads the facts from intake's database.
pub struct StoredFacts(pub PgPool);

impl FactsProvider for StoredFacts {
    fn facts<'a>(&'a self, after: Option<Uuid>, limit: i64) -> BoxFuture<'a, Result<Vec<Facts>, AppError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "WITH ids AS (SELECT application_id AS id FROM applications UNION SELECT project_id FROM projects)
                 SELECT ids.id, COALESCE(a.state, '') AS state, COALESCE(a.lead_unit_id, p.lead_unit_id, '') AS lead,
                        COALESCE(p.status, '') AS status
                 FROM ids LEFT JOIN applications a ON a.application_id = ids.id LEFT JOIN projects p ON p.project_id = ids.id
                 WHERE ($1::uuid IS NULL OR ids.id > $1) ORDER BY ids.id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(&self.0)
            .await?;
            let mut facts = Vec::with_capacity(rows.len());
            for r in &rows {
                let mut f = Facts::new(r.try_get("id")?, r.try_get::<String, _>("state")?, r.try_get::<String, _>("lead")?);
                f.status = r.try_get("status")?;
                facts.push(f);
            }
            let ids: Vec<Uuid> = facts.iter().map(|f| f.project_id).collect();
            let steps = sqlx::query(
                "SELECT project_id, event_id, event_type, occurred_at FROM timeline WHERE project_id = ANY($1) ORDER BY occurred_at, event_id",
            )
            .bind(&ids)
            .fetch_all(&self.0)
            .await?;
            let mut by_project: HashMap<Uuid, Vec<(Uuid, String, OffsetDateTime)>> = HashMap::new();
            for s in &steps {
                by_project.entry(s.try_get("project_id")?).or_default().push((
                    s.try_get("event_id")?,
                    s.try_get("event_type")?,
                    s.try_get("occurred_at")?,
                ));
            }
            for f in &mut facts {
                f.observed = by_project.remove(&f.project_id).unwrap_or_default();
            }
            Ok(facts)
        })
    }
}
