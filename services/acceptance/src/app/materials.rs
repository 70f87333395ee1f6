//! Use cases of materials (R-X1, R-P5): the unit's (and DRB's) uploads, and the trial-operation
//! report the provincial system deposits (R-A2), all through the platform's one upload sequence.

use bytes::Bytes;
use egov_platform::{
    AppError,
    auth::{Principal, Role},
    documents::{self, StoredObject, Uploaded},
    transition::{self, Context, Expected},
};
use futures::{FutureExt, Stream};
use time::Date;
use tracing::instrument;
use uuid::Uuid;

use super::Acceptance;
use crate::{
    domain::{
        case::{self, TrialReport, Upload},
        *,
    },
    storage,
};

/// An upload's header, parsed.
#[derive(Debug, Clone)]
pub(crate) struct MaterialHeader {
    pub request_id: String,
    pub project_id: Uuid,
    pub kind: MaterialKind,
    pub file_name: String,
    pub content_type: String,
    pub produced_on: Date,
    pub project_name: String,
}

/// A trial-operation report's header, parsed.
#[derive(Debug, Clone)]
pub(crate) struct ReportHeader {
    pub material: MaterialHeader,
    pub period_from: Date,
    pub period_to: Date,
    pub external_reference: String,
}

impl Acceptance {
    /// The lead unit (or DRB) files a material of the case.
    #[instrument(skip_all, fields(project_id = %h.project_id), err)]
    pub(crate) async fn upload_material<S>(&self, p: &Principal, h: MaterialHeader, chunks: S) -> Result<Material, AppError>
    where
        S: Stream<Item = Result<Bytes, AppError>> + Send,
    {
        self.store(p, h, None, chunks).await
    }

    /// R-A2: the provincial system deposits the trial-operation report through its own account;
    /// DRB may upload it by hand, marked manual.
    #[instrument(skip_all, fields(project_id = %h.material.project_id), err)]
    pub(crate) async fn deposit_trial_report<S>(&self, p: &Principal, h: ReportHeader, chunks: S) -> Result<Material, AppError>
    where
        S: Stream<Item = Result<Bytes, AppError>> + Send,
    {
        let source = if p.is(Role::Province) { ReportSource::ProvincialSystem } else { ReportSource::Manual };
        let report = TrialReport { period_from: h.period_from, period_to: h.period_to, external_reference: h.external_reference, source };
        self.store(p, h.material, Some(report), chunks).await
    }

    /// Checked before a byte is stored, and decided again in the transaction that files it.
    async fn store<S>(&self, p: &Principal, h: MaterialHeader, report: Option<TrialReport>, chunks: S) -> Result<Material, AppError>
    where
        S: Stream<Item = Result<Bytes, AppError>> + Send,
    {
        let k = {
            let mut c = self.pool.acquire().await?;
            storage::get_case(&mut c, h.project_id, false).await?
        };
        p.ensure_unit(&k.handover.lead_unit_id, [])?;
        let policy = self.policy.pinned(&k.policy_version)?;
        case::accept_material(&k, h.kind, h.produced_on, &h.project_name, report.as_ref(), Context::new(self.clock.now(), &policy))?;
        let origin = self.origin(p, &h.request_id);
        let project_id = h.project_id;
        let calendar = self.calendar.clone();
        let uploaded = self
            .documents
            .upload(
                &self.pool,
                "UploadMaterial",
                &h.request_id,
                |id| format!("cases/{project_id}/{id}"),
                chunks,
                move |tx, document_id, stored: StoredObject| {
                    async move {
                        let k = storage::get_case(tx, project_id, true).await?;
                        let upload = Upload {
                            document_id,
                            kind: h.kind,
                            file_name: h.file_name,
                            content_type: documents::content_type(&h.content_type),
                            size_bytes: stored.size as i64,
                            sha256: stored.sha256,
                            sm3: stored.sm3,
                            object_path: stored.path,
                            produced_on: h.produced_on,
                            project_name: h.project_name,
                            uploaded_by: origin.actor.subject.clone(),
                        };
                        let change = case::file_material(&k, upload, report, &calendar, Context::new(origin.at, &policy))?;
                        let k = transition::commit(tx, &origin, Expected::Version(k.version), change).await?;
                        k.materials
                            .iter()
                            .find(|m| m.document_id == document_id)
                            .cloned()
                            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the filed material is not on the case")))
                    }
                    .boxed()
                },
            )
            .await?;
        match uploaded {
            Uploaded::New(m) => Ok(m),
            Uploaded::Earlier(id) => {
                let mut c = self.pool.acquire().await?;
                let k = storage::case_of_material(&mut c, id).await?;
                k.materials.into_iter().find(|m| m.document_id == id).ok_or_else(|| AppError::NotFound(format!("material {id}")))
            }
        }
    }
}
