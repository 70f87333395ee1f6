//! Reads: what each role may see (R-X2: a unit sees its own projects, as lead or participant).

use bytes::Bytes;
use egov_platform::{
    AppError,
    auth::{Principal, Role},
    paging,
    request::Page,
};
use uuid::Uuid;

use super::Acceptance;
use crate::{domain::*, storage};

impl Acceptance {
    pub(crate) async fn get_case(&self, p: &Principal, id: Uuid) -> Result<AcceptanceCase, AppError> {
        let mut c = self.pool.acquire().await?;
        let k = storage::get_case(&mut c, id, false).await?;
        p.ensure_unit(&k.handover.lead_unit_id, k.handover.participating_unit_ids.iter())?;
        Ok(k)
    }

    pub(crate) async fn list_cases(
        &self,
        p: &Principal,
        unit_id: &str,
        state: Option<CaseState>,
        page: Page<Uuid>,
    ) -> Result<(Vec<AcceptanceCase>, String), AppError> {
        let mut unit = (!unit_id.is_empty()).then(|| unit_id.to_string());
        if p.is(Role::Unit) {
            let mine = p.unit.clone().unwrap_or_default();
            if unit.as_ref().is_some_and(|u| *u != mine) {
                return Err(AppError::PermissionDenied(format!("unit {mine} may not list cases of unit {unit_id}")));
            }
            unit = Some(mine);
        }
        let mut c = self.pool.acquire().await?;
        let rows = storage::list_cases(&mut c, unit.as_deref(), state, page.after, page.size + 1).await?;
        Ok(paging::page(rows, page.size, |k| k.project_id.to_string()))
    }

    /// A material and its content, verified against its recorded hashes.
    pub(crate) async fn download_material(&self, p: &Principal, document_id: Uuid) -> Result<(Uuid, Material, Bytes), AppError> {
        let k = {
            let mut c = self.pool.acquire().await?;
            storage::case_of_material(&mut c, document_id).await?
        };
        p.ensure_unit(&k.handover.lead_unit_id, k.handover.participating_unit_ids.iter())?;
        let project_id = k.project_id;
        let m = k
            .materials
            .into_iter()
            .find(|m| m.document_id == document_id)
            .ok_or_else(|| AppError::NotFound(format!("material {document_id}")))?;
        let content = self.documents.get_verified(&m.object_path, &m.sha256, &m.sm3).await?;
        Ok((project_id, m, content))
    }
}
