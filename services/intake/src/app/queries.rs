//! Reads: what each role may see (R-X2: a unit sees its own, as lead or participant).

use std::sync::Arc;

use egov_platform::{
    AppError,
    auth::{Principal, Role},
    paging,
    policy::Policy,
    request::Page,
};
use tracing::instrument;
use uuid::Uuid;

use super::Intake;
use crate::{
    domain::{rules, *},
    storage::{self, ApplicationFilter, ProjectRow, StoredDocument, TimelineRow},
};

/// A unit's eligibility to apply in a year (R-I10) and the record shown with it.
pub(crate) struct Eligibility {
    pub eligible: bool,
    /// Suspensions of the year, and the whole record of overruns (shown to reviewers).
    pub shown: Vec<Penalty>,
}

/// The unit a UNIT caller may list (its own; asking for another's is refused); other roles list
/// what they asked for.
fn listed_unit(p: &Principal, asked: &str, what: &str) -> Result<Option<String>, AppError> {
    let asked = (!asked.is_empty()).then(|| asked.to_string());
    if !p.is(Role::Unit) {
        return Ok(asked);
    }
    let mine = p.unit.clone().unwrap_or_default();
    if asked.as_ref().is_some_and(|u| *u != mine) {
        return Err(AppError::PermissionDenied(format!("unit {mine} may not list {what} of unit {}", asked.unwrap_or_default())));
    }
    Ok(Some(mine))
}

impl Intake {
    /// An application and its documents, for its lead and participating units and the readers.
    pub(crate) async fn read_application(&self, p: &Principal, id: Uuid) -> Result<(Application, Vec<StoredDocument>), AppError> {
        let mut c = self.pool.acquire().await?;
        let app = storage::get_application(&mut c, id, false).await?;
        p.ensure_unit(&app.lead_unit_id, app.draft.participating_unit_ids.iter())?;
        let docs = storage::documents_of(&mut c, id).await?;
        Ok((app, docs))
    }

    pub(crate) async fn list_applications(
        &self,
        p: &Principal,
        unit_id: &str,
        round_id: Option<Uuid>,
        state: Option<ApplicationState>,
        page: Page<Uuid>,
    ) -> Result<(Vec<Application>, String), AppError> {
        let unit_id = listed_unit(p, unit_id, "applications")?;
        let mut c = self.pool.acquire().await?;
        let rows = storage::list_applications(&mut c, &ApplicationFilter { unit_id, round_id, state }, page.after, page.size + 1).await?;
        Ok(paging::page(rows, page.size, |a| a.application_id.to_string()))
    }

    pub(crate) async fn get_unit(&self, p: &Principal, unit_id: &str) -> Result<Unit, AppError> {
        p.ensure_unit(unit_id, [])?;
        let mut c = self.pool.acquire().await?;
        storage::get_unit(&mut c, unit_id.trim()).await
    }

    pub(crate) async fn list_units(&self, page: Page<String>) -> Result<(Vec<Unit>, String), AppError> {
        let mut c = self.pool.acquire().await?;
        let rows = storage::list_units(&mut c, page.after.as_deref().unwrap_or_default(), page.size + 1).await?;
        Ok(paging::page(rows, page.size, |u| u.unit_id.clone()))
    }

    /// R-I10: may the unit apply in `year`?
    #[instrument(skip_all, fields(unit_id, year), err)]
    pub(crate) async fn unit_eligibility(&self, p: &Principal, unit_id: &str, year: i32) -> Result<Eligibility, AppError> {
        p.ensure_unit(unit_id, [])?;
        let mut c = self.pool.acquire().await?;
        storage::get_unit(&mut c, unit_id).await?;
        let all = storage::penalties_of(&mut c, unit_id).await?;
        let eligible = rules::suspending(&all, year).is_empty();
        let shown = all.into_iter().filter(|p| p.ineligible_year == Some(year) || p.kind == PenaltyKind::ConstructionOverrun).collect();
        Ok(Eligibility { eligible, shown })
    }

    pub(crate) async fn get_round(&self, id: Uuid) -> Result<Round, AppError> {
        let mut c = self.pool.acquire().await?;
        storage::get_round(&mut c, id).await
    }

    pub(crate) async fn list_rounds(&self, page: Page<Uuid>) -> Result<(Vec<Round>, String), AppError> {
        let mut c = self.pool.acquire().await?;
        let rows = storage::list_rounds(&mut c, page.after, page.size + 1).await?;
        Ok(paging::page(rows, page.size, |r| r.round_id.to_string()))
    }

    /// The checklist of the policy an application is pinned to, or of the policy in force.
    pub(crate) async fn compliance_checklist(&self, p: &Principal, application_id: Option<Uuid>) -> Result<Arc<Policy>, AppError> {
        match application_id {
            None => Ok(self.policy_now()),
            Some(id) => {
                let (app, _) = self.read_application(p, id).await?;
                self.policy.pinned(&app.policy_version)
            }
        }
    }

    /// A project's status and cross-service timeline (状态时间线).
    pub(crate) async fn project_status(&self, p: &Principal, id: Uuid) -> Result<(ProjectRow, Vec<TimelineRow>), AppError> {
        let mut c = self.pool.acquire().await?;
        let (proj, timeline) = storage::get_project(&mut c, id).await?;
        p.ensure_unit(&proj.lead_unit_id, proj.participating.iter())?;
        Ok((proj, timeline))
    }

    pub(crate) async fn list_projects(
        &self,
        p: &Principal,
        unit_id: &str,
        status: &str,
        page: Page<Uuid>,
    ) -> Result<(Vec<ProjectRow>, String), AppError> {
        let unit = listed_unit(p, unit_id, "projects")?;
        let status = (!status.is_empty()).then_some(status);
        let mut c = self.pool.acquire().await?;
        let rows = storage::list_projects(&mut c, unit.as_deref(), status, page.after, page.size + 1).await?;
        Ok(paging::page(rows, page.size, |p| p.project_id.to_string()))
    }
}
