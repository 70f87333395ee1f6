//! Use cases of a running application's operation record: evaluations (R-E2 … R-E4), elimination
//! (R-E3), data sharing (R-E5), early stop (R-E6), yearly assessments (R-E7), third-party audits
//! (R-E8), and the timers that move them.

use egov_platform::{
    AppError,
    auth::Principal,
    documents::{StoredObject, Uploaded},
    idempotency,
    policy::Policy,
    transition::{self, Context, Expected},
};
use futures::Stream;
use sqlx::PgConnection;
use std::sync::Arc;
use tracing::instrument;
use uuid::Uuid;

use super::{Evaluation, acting_unit, reading_unit};
use crate::{
    domain::{
        entry::{self, DoneAssessment, NewScore},
        *,
    },
    storage::{self, Published},
};

/// What a unit uploads with its audit report (R-E8).
#[derive(Debug, Clone)]
pub(crate) struct AuditHeader {
    pub app_id: Uuid,
    pub auditor: String,
    pub file_name: String,
    pub content_type: String,
    pub conclusion: String,
}

impl Evaluation {
    /// The indicator system an open evaluation applies (its policy version).
    async fn system_of(&self, app_id: Uuid, evaluation_id: Uuid) -> Result<Arc<Policy>, AppError> {
        let mut c = self.pool.acquire().await?;
        let e: Entry = transition::load(&mut c, &app_id, false).await?;
        match e.evaluation(evaluation_id) {
            Some(r) => self.policy.pinned(&r.indicator_system),
            // The domain names the missing evaluation.
            None => Ok(self.policy_now()),
        }
    }

    /// R-E2: DRB or FINANCE opens an evaluation under the indicator system in force.
    #[instrument(skip_all, fields(project_id = %app_id), err)]
    pub(crate) async fn open_evaluation(&self, p: &Principal, request_id: &str, app_id: Uuid) -> Result<Entry, AppError> {
        let mut tx = self.begin().await?;
        if let Some(existing) = idempotency::lookup(&mut tx, "OpenEvaluation", request_id).await? {
            let _ = Uuid::parse_str(&existing).map_err(|e| AppError::Internal(e.into()))?;
            return transition::load(&mut tx, &app_id, false).await;
        }
        let system = self.policy_now();
        let origin = self.origin(p, request_id);
        let evaluation_id = Uuid::now_v7();
        let e = transition::transition(
            &mut tx,
            &origin,
            &self.policy,
            &app_id,
            None,
            |_| Ok(()),
            |e, ctx| entry::open_evaluation(e, evaluation_id, &system, ctx),
        )
        .await?;
        idempotency::record(&mut tx, "OpenEvaluation", request_id, &evaluation_id.to_string()).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// R-E2: DRB or FINANCE records the scores of its indicators.
    #[instrument(skip_all, fields(project_id = %app_id), err)]
    pub(crate) async fn record_scores(
        &self,
        p: &Principal,
        app_id: Uuid,
        etag: i64,
        evaluation_id: Uuid,
        scores: Vec<NewScore>,
    ) -> Result<Entry, AppError> {
        let system = self.system_of(app_id, evaluation_id).await?;
        let (by, role) = (p.subject.clone(), p.role.as_str().to_string());
        self.act(p, app_id, Some(etag), |_| Ok(()), |e, ctx| entry::record_scores(e, evaluation_id, scores, &by, &role, &system, ctx)).await
    }

    /// R-E2 … R-E4: DRB publishes; the result joins the published list in the same transaction.
    #[instrument(skip_all, fields(project_id = %app_id), err)]
    pub(crate) async fn publish(
        &self,
        p: &Principal,
        app_id: Uuid,
        etag: i64,
        evaluation_id: Uuid,
        comment: &str,
    ) -> Result<Entry, AppError> {
        let system = self.system_of(app_id, evaluation_id).await?;
        let origin = self.origin(p, "");
        let mut tx = self.begin().await?;
        let e = transition::transition(
            &mut tx,
            &origin,
            &self.policy,
            &app_id,
            Some(etag),
            |_| Ok(()),
            |e, ctx| entry::publish(e, evaluation_id, comment, &system, ctx),
        )
        .await?;
        if let Some(r) = e.evaluation(evaluation_id) {
            storage::insert_published(
                &mut tx,
                &Published {
                    evaluation_id,
                    app_id,
                    name: e.name.clone(),
                    operator_unit_id: e.operator_unit_id.clone(),
                    published_on: r.published_on.unwrap_or(origin.at.date()),
                    score_centi: r.score_centi,
                    grade: r.grade.map(|g| g.as_str().to_string()).unwrap_or_default(),
                    passed: r.passed,
                    funding_recommendation: r.funding_recommendation.clone(),
                    funding_bp: r.funding_bp as i32,
                    indicator_system: r.indicator_system.clone(),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(e)
    }

    #[instrument(skip_all, fields(project_id = %app_id), err)]
    pub(crate) async fn propose_elimination(&self, p: &Principal, app_id: Uuid, etag: i64, reason: &str) -> Result<Entry, AppError> {
        let by = p.subject.clone();
        self.act(p, app_id, Some(etag), |_| Ok(()), |e, ctx| entry::propose_elimination(e, reason, &by, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %app_id), err)]
    pub(crate) async fn decide_elimination(
        &self,
        p: &Principal,
        app_id: Uuid,
        etag: i64,
        approve: bool,
        comment: &str,
    ) -> Result<Entry, AppError> {
        let by = p.subject.clone();
        self.act(p, app_id, Some(etag), |_| Ok(()), |e, ctx| entry::decide_elimination(e, approve, comment, &by, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %app_id), err)]
    pub(crate) async fn eliminate(&self, p: &Principal, app_id: Uuid, etag: i64) -> Result<Entry, AppError> {
        self.act(p, app_id, Some(etag), |_| Ok(()), entry::eliminate).await
    }

    #[instrument(skip_all, fields(entry_id = %id), err)]
    pub(crate) async fn record_sharing_violation(&self, p: &Principal, id: Uuid, etag: i64, description: &str) -> Result<Entry, AppError> {
        self.act(p, id, Some(etag), |_| Ok(()), |e, ctx| entry::record_sharing_violation(e, description, ctx)).await
    }

    #[instrument(skip_all, fields(entry_id = %id), err)]
    pub(crate) async fn record_sharing_rectified(&self, p: &Principal, id: Uuid, etag: i64, note: &str) -> Result<Entry, AppError> {
        self.act(p, id, Some(etag), |_| Ok(()), |e, ctx| entry::record_sharing_rectified(e, note, ctx)).await
    }

    /// R-E6: a unit (its builder or operator) stops its application; DRB may record it for the
    /// operator.
    #[instrument(skip_all, fields(project_id = %app_id), err)]
    pub(crate) async fn stop(&self, p: &Principal, app_id: Uuid, etag: i64, reason: &str) -> Result<Entry, AppError> {
        let caller_unit = p.unit.clone().filter(|_| p.role == egov_platform::auth::Role::Unit);
        self.act(
            p,
            app_id,
            Some(etag),
            |e| acting_unit(p, e),
            |e, ctx| {
                let unit = caller_unit.unwrap_or_else(|| e.responsible_unit().to_string());
                entry::stop(e, reason, &unit, ctx)
            },
        )
        .await
    }

    #[instrument(skip_all, fields(project_id = %app_id), err)]
    pub(crate) async fn record_assessment(&self, p: &Principal, app_id: Uuid, etag: i64, a: DoneAssessment) -> Result<Entry, AppError> {
        self.act(p, app_id, Some(etag), |e| acting_unit(p, e), |e, ctx| entry::record_assessment(e, a, ctx)).await
    }

    /// R-E8, R-X1: the report is stored (hashed), then recorded on the application with its
    /// event, in one transaction.
    #[instrument(skip_all, fields(project_id = %h.app_id), err)]
    pub(crate) async fn upload_audit<S>(&self, p: &Principal, request_id: &str, h: AuditHeader, chunks: S) -> Result<Entry, AppError>
    where
        S: Stream<Item = Result<bytes::Bytes, AppError>> + Send,
    {
        {
            let mut c = self.pool.acquire().await?;
            let e: Entry = transition::load(&mut c, &h.app_id, false).await?;
            acting_unit(p, &e)?;
        }
        let origin = self.origin(p, request_id);
        let policy = self.policy.clone();
        let principal = p.clone();
        let app_id = h.app_id;
        let done = self
            .documents
            .upload(
                &self.pool,
                "UploadAuditReport",
                request_id,
                |id| format!("audits/{app_id}/{id}"),
                chunks,
                move |tx, document_id, s: StoredObject| {
                    Box::pin(async move {
                        let current: Entry = transition::load(tx, &app_id, true).await?;
                        acting_unit(&principal, &current)?;
                        let pinned = policy.pinned(&current.policy_version)?;
                        let audit = Audit {
                            document_id,
                            auditor: h.auditor,
                            conclusion: h.conclusion,
                            file_name: h.file_name,
                            content_type: h.content_type,
                            path: s.path,
                            size: s.size,
                            sha256: s.sha256,
                            sm3: s.sm3,
                            uploaded_by: principal.subject.clone(),
                            uploaded_at: origin.at,
                        };
                        let change = entry::record_audit(&current, audit, Context::new(origin.at, &pinned))?;
                        transition::commit(tx, &origin, Expected::Version(current.version), change).await
                    })
                },
            )
            .await?;
        match done {
            Uploaded::New(e) => Ok(e),
            Uploaded::Earlier(_) => {
                let mut c = self.pool.acquire().await?;
                transition::load(&mut c, &app_id, false).await
            }
        }
    }

    /// R-E8, R-X1: an audit report, verified against its hashes.
    pub(crate) async fn download_audit(&self, p: &Principal, app_id: Uuid, document_id: Uuid) -> Result<(Audit, bytes::Bytes), AppError> {
        let e = self.get_entry(p, app_id).await?;
        reading_unit(p, &e)?;
        let a = e
            .audits
            .iter()
            .find(|a| a.document_id == document_id)
            .cloned()
            .ok_or_else(|| AppError::NotFound(format!("audit report {document_id}")))?;
        let bytes = self.documents.get_verified(&a.path, &a.sha256, &a.sm3).await?;
        Ok((a, bytes))
    }

    // ------------------------------------------------------------ timers

    /// Fires timer `kind` for entry `id` (and assessment `kind`), in the timer's transaction.
    pub(crate) async fn fire(&self, tx: &mut PgConnection, timer_id: &str, kind: &str, key: &str) -> Result<(), AppError> {
        let (id, assessment) = match key.split_once('/') {
            Some((id, k)) => (id, AssessmentKind::parse(k)),
            None => (key, None),
        };
        let id = Uuid::parse_str(id).map_err(|_| AppError::Internal(anyhow::anyhow!("timer key {key:?} names no entry")))?;
        match (kind, assessment) {
            (entry::EVALUATION_DUE, _) => self.system_change(tx, timer_id, id, entry::mark_due).await,
            (entry::RECTIFICATION_DEADLINE, _) => self.system_change(tx, timer_id, id, entry::rectification_lapsed).await,
            (entry::SHARING_DEADLINE, _) => self.system_change(tx, timer_id, id, entry::sharing_lapsed).await,
            (entry::ASSESSMENT_REMINDER, Some(k)) => {
                self.system_change(tx, timer_id, id, |e, ctx| entry::assessment_reminder(e, k, ctx)).await
            }
            (entry::ASSESSMENT_OVERDUE, Some(k)) => {
                self.system_change(tx, timer_id, id, |e, ctx| entry::assessment_lapsed(e, k, ctx)).await
            }
            _ => Err(AppError::Internal(anyhow::anyhow!("evaluation has no timer {kind} for key {key}"))),
        }
    }
}
