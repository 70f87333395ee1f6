//! Reads: cases and approvals (unit isolation: a unit reads its own projects), tasks, the
//! scoring sheet, the expert pool, meetings and the expert opinion.

use std::sync::Arc;

use egov_platform::{
    AppError,
    auth::{Principal, Role},
    paging,
    policy::Policy,
    request::Page,
    transition,
};
use uuid::Uuid;

use super::Review;
use crate::{
    domain::{
        Stage,
        meeting::{Meeting, PoolExpert},
        workflow::{Task, TaskState},
        *,
    },
    storage::{self, experts},
};

impl Review {
    /// A case the caller may read (UNIT: the lead or a participating unit).
    pub(crate) async fn read_case(&self, p: &Principal, id: Uuid) -> Result<ReviewCase, AppError> {
        let mut c = self.pool.acquire().await?;
        let k = storage::get_case(&mut c, id).await?;
        p.ensure_unit(&k.dossier.lead_unit_id, k.dossier.participating_unit_ids.iter())?;
        Ok(k)
    }

    /// Cases by stage and unit, a page at a time; a unit lists its own.
    pub(crate) async fn list_cases(
        &self,
        p: &Principal,
        stage: Option<Stage>,
        unit: &str,
        page: Page<Uuid>,
    ) -> Result<(Vec<ReviewCase>, String), AppError> {
        let mut unit = (!unit.is_empty()).then(|| unit.to_string());
        if p.is(Role::Unit) {
            let mine = p.unit.clone().unwrap_or_default();
            if let Some(asked) = unit.as_ref().filter(|u| **u != mine) {
                return Err(AppError::PermissionDenied(format!("unit {mine} may not list cases of unit {asked}")));
            }
            unit = Some(mine);
        }
        let mut c = self.pool.acquire().await?;
        let rows = storage::list_cases(&mut c, stage, unit.as_deref(), page.after, page.size + 1).await?;
        Ok(paging::page(rows, page.size, |k| k.case_id.to_string()))
    }

    /// Tasks: participants see their role's, DRB and AUDIT any role's.
    pub(crate) async fn list_tasks(
        &self,
        p: &Principal,
        case_id: Option<Uuid>,
        role: Option<Role>,
        state: Option<TaskState>,
        page: Page<Uuid>,
    ) -> Result<(Vec<Task>, String), AppError> {
        let overseer = matches!(p.role, Role::Drb | Role::Audit);
        let role = match role {
            None => (!overseer).then(|| p.role.as_str().to_string()),
            Some(asked) if asked != p.role && !overseer => {
                return Err(AppError::PermissionDenied(format!("{} may not list the tasks of {asked}", p.role)));
            }
            Some(asked) => Some(asked.as_str().to_string()),
        };
        let mut c = self.pool.acquire().await?;
        let rows = storage::list_tasks(&mut c, case_id, role.as_deref(), state, page.after, page.size + 1).await?;
        Ok(paging::page(rows, page.size, |t| t.task_id.to_string()))
    }

    /// The scoring sheet of a case's pinned policy, or of the policy in force.
    pub(crate) async fn scoring_sheet(&self, p: &Principal, case_id: Option<Uuid>) -> Result<Arc<Policy>, AppError> {
        match case_id {
            None => Ok(self.policy_now()),
            Some(id) => {
                let k = self.read_case(p, id).await?;
                self.policy.pinned(&k.policy_version)
            }
        }
    }

    /// The approval document of a project (NOT_FOUND until issued).
    pub(crate) async fn approval(&self, p: &Principal, id: Uuid) -> Result<(ReviewCase, Approval), AppError> {
        let k = self.read_case(p, id).await?;
        let a =
            k.approval.clone().ok_or_else(|| AppError::NotFound(format!("no approval document for project {id} (stage {})", k.stage)))?;
        Ok((k, a))
    }

    /// The expert opinion of a project (NOT_FOUND until concluded): what acceptance reads.
    pub(crate) async fn expert_opinion(&self, p: &Principal, id: Uuid) -> Result<(ReviewCase, ExpertConclusion), AppError> {
        let k = self.read_case(p, id).await?;
        let c = k
            .expert
            .conclusion
            .clone()
            .ok_or_else(|| AppError::NotFound(format!("no expert opinion for project {id} yet (stage {})", k.stage)))?;
        Ok((k, c))
    }

    pub(crate) async fn list_experts(&self, specialty: &str, page: Page<String>) -> Result<(Vec<PoolExpert>, String), AppError> {
        let mut c = self.pool.acquire().await?;
        let specialty = (!specialty.is_empty()).then_some(specialty);
        let rows = experts::list_experts(&mut c, specialty, page.after.as_deref().unwrap_or_default(), page.size + 1).await?;
        Ok(paging::page(rows, page.size, |e| e.expert.expert_id.clone()))
    }

    pub(crate) async fn get_meeting(&self, id: Uuid) -> Result<Meeting, AppError> {
        let mut c = self.pool.acquire().await?;
        transition::load(&mut c, &id, false).await
    }
}
