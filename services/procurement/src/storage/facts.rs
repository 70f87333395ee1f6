//! Procurement's facts for reconciliation: each case's state, budget, procurement amount and
//! supervision fee, contract, payments and payment stages.

use egov_platform::{
    AppError,
    reconcile::{Facts, FactsProvider},
};
use futures::future::BoxFuture;
use sqlx::PgPool;
use uuid::Uuid;

/// Reads the facts from procurement's database.
pub struct StoredFacts(pub PgPool);

impl FactsProvider for StoredFacts {
    fn facts<'a>(&'a self, after: Option<Uuid>, limit: i64) -> BoxFuture<'a, Result<Vec<Facts>, AppError>> {
        Box::pin(async move {
            let mut c = self.0.acquire().await?;
            let cases = super::list_cases(&mut c, None, None, after, limit).await?;
            Ok(cases
                .into_iter()
                .map(|k| {
                    let mut f = Facts::new(k.project_id, k.state.as_str(), k.lead_unit_id.clone());
                    f.approved_budget_fen = Some(k.budget_fen.get());
                    if let Some(p) = &k.procurement {
                        f.procured_fen = Some(p.amount_fen.get());
                        f.supervision_fee_fen = p.supervision.as_ref().map(|s| s.fee_fen.get());
                    }
                    if let Some(contract) = &k.contract {
                        f.contract_fen = Some(contract.terms.amount_fen.get());
                        f.paid_fen = Some(contract.paid_fen().get());
                        f.stages = contract.stages.iter().map(|s| (s.stage_id.clone(), s.ratio_bp, s.amount_fen.get())).collect();
                    }
                    f
                })
                .collect())
        })
    }
}
