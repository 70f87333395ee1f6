//! R-I9 screening over the live catalogue: the in-memory index of listed applications' functions,
//! rebuilt when the catalogue's revision moved (so every replica sees every change), and the
//! queries that read it (intake's SearchCatalogue and the detailed ScreenModules).

use std::sync::Arc;

use egov_platform::AppError;
use tracing::instrument;
use uuid::Uuid;

use super::Evaluation;
use crate::{
    domain::{
        Entry, ScreeningVerdict,
        screening::{self, Index},
    },
    storage,
};

/// A listed application as screening shows it.
#[derive(Debug, Clone)]
pub(crate) struct Indexed {
    pub entry_id: Uuid,
    pub name: String,
    pub owner_unit: String,
    pub source: String,
    pub functions: Vec<String>,
}

/// The catalogue indexed at a revision.
pub(crate) struct Catalogue {
    revision: i64,
    entries: Vec<Indexed>,
    index: Index,
}

impl Catalogue {
    pub(crate) fn build(revision: i64, entries: Vec<Entry>) -> Catalogue {
        let entries: Vec<Indexed> = entries
            .into_iter()
            .map(|e| Indexed {
                entry_id: e.entry_id,
                owner_unit: e.responsible_unit().to_string(),
                source: e.source.as_str().to_string(),
                functions: if e.functions.is_empty() {
                    vec![if e.description.is_empty() { e.name.clone() } else { format!("{}：{}", e.name, e.description) }]
                } else {
                    e.functions.iter().map(|f| f.text()).collect()
                },
                name: e.name,
            })
            .collect();
        let index = Index::build(
            entries.iter().enumerate().flat_map(|(i, e)| e.functions.iter().enumerate().map(move |(j, f)| (i, j, f.as_str()))),
        );
        Catalogue { revision, entries, index }
    }

    pub(crate) fn screen(&self, text: &str, limit: usize) -> Vec<Match> {
        self.index
            .screen(text, limit)
            .into_iter()
            .filter_map(|h| {
                let e = self.entries.get(h.entry)?;
                Some(Match {
                    entry_id: e.entry_id,
                    name: e.name.clone(),
                    owner_unit: e.owner_unit.clone(),
                    source: e.source.clone(),
                    function: e.functions.get(h.function).cloned().unwrap_or_default(),
                    score: h.score,
                    shared_terms: h.shared_terms,
                })
            })
            .collect()
    }
}

/// A catalogued application close to a screened text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Match {
    pub entry_id: Uuid,
    pub name: String,
    pub owner_unit: String,
    pub source: String,
    pub function: String,
    pub score: f64,
    pub shared_terms: Vec<String>,
}

/// A screened module: its closest applications and its verdict.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Screened {
    pub module: String,
    pub matches: Vec<Match>,
    pub verdict: ScreeningVerdict,
}

impl Evaluation {
    /// The index of the catalogue as it is now.
    async fn catalogue(&self) -> Result<Arc<Catalogue>, AppError> {
        let mut c = self.pool.acquire().await?;
        let revision = storage::catalogue_revision(&mut c).await?;
        if let Some(cached) = self.index.lock().map_err(|_| AppError::Internal(anyhow::anyhow!("screening index lock poisoned")))?.as_ref()
            && cached.revision == revision
        {
            return Ok(cached.clone());
        }
        let entries = storage::screenable(&mut c).await?;
        let built = Arc::new(Catalogue::build(revision, entries));
        if let Ok(mut slot) = self.index.lock() {
            *slot = Some(built.clone());
        }
        Ok(built)
    }

    /// R-I9 for intake: the closest catalogued applications to `text`.
    #[instrument(skip_all, err)]
    pub(crate) async fn search_catalogue(&self, text: &str, limit: i32) -> Result<Vec<Match>, AppError> {
        let e = &self.policy_now().evaluation;
        let limit = match limit {
            0 => e.screening_default_matches as usize,
            n if n < 0 => return Err(AppError::field("limit", "must not be negative")),
            n => (n as usize).min(e.screening_max_matches as usize),
        };
        if text.trim().is_empty() {
            return Err(AppError::field("text", "required: the function module's name and description"));
        }
        Ok(self.catalogue().await?.screen(text, limit))
    }

    /// R-I9 in detail: each module's closest functions with the shared terms, and its verdict at
    /// the policy's thresholds.
    #[instrument(skip_all, fields(modules = modules.len()), err)]
    pub(crate) async fn screen_modules(
        &self,
        modules: &[(String, String)],
        limit: i32,
    ) -> Result<(Vec<Screened>, Arc<egov_platform::policy::Policy>), AppError> {
        let policy = self.policy_now();
        let e = &policy.evaluation;
        let limit = match limit {
            0 => e.screening_default_matches as usize,
            n if n < 0 => return Err(AppError::field("limit", "must not be negative")),
            n => (n as usize).min(e.screening_max_matches as usize),
        };
        let catalogue = self.catalogue().await?;
        let out = modules
            .iter()
            .map(|(name, description)| {
                let text = if description.is_empty() { name.clone() } else { format!("{name}：{description}") };
                let matches = catalogue.screen(&text, limit);
                let best = matches.first().map(|m| m.score).unwrap_or(0.0);
                Screened {
                    module: name.clone(),
                    verdict: screening::verdict(best, policy.duplicate_score, policy.partial_duplicate_score),
                    matches,
                }
            })
            .collect();
        Ok((out, policy))
    }
}
