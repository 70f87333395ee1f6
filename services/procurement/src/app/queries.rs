//! Reading cases: one case (its unit, participating units and the other readers), a page of
//! cases (a unit lists its own), and a case's OCDS 1.1 release package.

use egov_platform::{
    AppError,
    auth::{Principal, Role},
    paging,
    request::Page,
    transition,
};
use uuid::Uuid;

use super::Procurement;
use crate::{
    domain::{CaseState, ProcurementCase, ocds},
    storage,
};

impl Procurement {
    /// The case, if `p` may read it (R-X2: a unit reads its own and those it participates in).
    pub(crate) async fn read_case(&self, p: &Principal, id: Uuid) -> Result<ProcurementCase, AppError> {
        let k: ProcurementCase = transition::load(&mut *self.pool.acquire().await?, &id, false).await?;
        p.ensure_unit(&k.lead_unit_id, k.participating_unit_ids.iter())?;
        Ok(k)
    }

    /// A page of cases, filtered by unit and state; a unit lists only its own.
    pub(crate) async fn list_cases(
        &self,
        p: &Principal,
        unit_id: &str,
        state: Option<CaseState>,
        page: Page<Uuid>,
    ) -> Result<(Vec<ProcurementCase>, String), AppError> {
        let mut unit = (!unit_id.is_empty()).then(|| unit_id.to_string());
        if p.is(Role::Unit) {
            let mine = p.unit.clone().unwrap_or_default();
            if unit.as_ref().is_some_and(|u| *u != mine) {
                return Err(AppError::PermissionDenied(format!("unit {mine} may not list cases of unit {unit_id}")));
            }
            unit = Some(mine);
        }
        let rows = storage::list_cases(&mut *self.pool.acquire().await?, unit.as_deref(), state, page.after, page.size + 1).await?;
        Ok(paging::page(rows, page.size, |k| k.project_id.to_string()))
    }

    /// The case as an OCDS 1.1 release package (pretty JSON), published now.
    pub(crate) async fn export_ocds(&self, p: &Principal, id: Uuid) -> Result<String, AppError> {
        let k = self.read_case(p, id).await?;
        let package = ocds::release_package(&k, &ocds::Publisher::default(), self.clock.now());
        serde_json::to_string_pretty(&package).map_err(|e| AppError::Internal(e.into()))
    }
}
