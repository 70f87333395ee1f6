//! Use cases of applications (项目申报): create, edit, consent, supplementary request and
//! decision, submission, compliance review, re-review, and the end of an unused re-review window.

use egov_platform::{
    AppError,
    auth::Principal,
    clock::civil_date,
    idempotency,
    policy::Policy,
    transition::{self, Context, Expected, Origin},
};
use sqlx::PgConnection;
use tracing::instrument;
use uuid::Uuid;

use super::{Intake, SERVICE};
use crate::{
    domain::{
        application::{self, ComplianceFacts},
        rules::{self, SubmissionFacts},
        *,
    },
    storage::{self, StoredDocument},
};

/// What a unit submits: the application as it read it, into a round or (without one) as an
/// accepted supplementary project.
#[derive(Debug, Clone)]
pub(crate) struct Submission {
    pub application_id: Uuid,
    pub etag: i64,
    pub round_id: Option<Uuid>,
}

impl Intake {
    /// R-I5 / R-X2: a unit applies as lead for itself only; the draft's fields were checked when
    /// parsed. A retried request (same request id) answers with the application it created.
    #[instrument(skip_all, fields(lead_unit_id = %lead_unit_id), err)]
    pub(crate) async fn create_application(
        &self,
        p: &Principal,
        request_id: &str,
        lead_unit_id: String,
        draft: Draft,
    ) -> Result<(Application, Vec<StoredDocument>), AppError> {
        if p.unit.as_deref() != Some(lead_unit_id.as_str()) {
            return Err(AppError::PermissionDenied(format!(
                "unit {} may not apply in the name of unit {lead_unit_id} (R-X2, R-I5)",
                p.unit.clone().unwrap_or_default()
            )));
        }
        let mut tx = self.begin().await?;
        if let Some(existing) = idempotency::lookup(&mut tx, "CreateApplication", request_id).await? {
            let id = Uuid::parse_str(&existing).map_err(|e| AppError::Internal(e.into()))?;
            let app = storage::get_application(&mut tx, id, false).await?;
            let docs = storage::documents_of(&mut tx, id).await?;
            return Ok((app, docs));
        }
        storage::get_unit(&mut tx, &lead_unit_id).await?;
        let origin = self.origin(p, request_id);
        let policy = self.policy_now();
        let change = application::create(Uuid::now_v7(), lead_unit_id, draft, Context::new(origin.at, &policy));
        let app = transition::commit(&mut tx, &origin, Expected::New, change).await?;
        idempotency::record(&mut tx, "CreateApplication", request_id, &app.application_id.to_string()).await?;
        tx.commit().await?;
        Ok((app, vec![]))
    }

    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn update_application(&self, p: &Principal, id: Uuid, etag: i64, draft: Draft) -> Result<Application, AppError> {
        self.transition(p, id, Some(etag), |app, ctx| application::update_draft(app, draft, ctx)).await
    }

    /// R-I6: the leader in charge consents; no etag (the leader acts on what the unit prepared).
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn record_leader_consent(&self, p: &Principal, id: Uuid, comment: &str) -> Result<Application, AppError> {
        let by = p.subject.clone();
        self.transition(p, id, None, |app, ctx| application::record_leader_consent(app, &by, comment, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn request_supplementary(
        &self,
        p: &Principal,
        id: Uuid,
        etag: i64,
        justification: &str,
    ) -> Result<Application, AppError> {
        self.transition(p, id, Some(etag), |app, ctx| application::request_supplementary(app, justification, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn decide_supplementary(
        &self,
        p: &Principal,
        id: Uuid,
        etag: i64,
        accepted: bool,
        comment: &str,
    ) -> Result<Application, AppError> {
        self.transition(p, id, Some(etag), |app, ctx| application::decide_supplementary(app, accepted, comment, ctx)).await
    }

    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn request_re_review(&self, p: &Principal, id: Uuid, etag: i64, comment: &str) -> Result<Application, AppError> {
        self.transition(p, id, Some(etag), |app, ctx| application::request_re_review(app, comment, ctx)).await
    }

    /// Submission (R-I1 … R-I12). Evaluation is asked first, outside any transaction (R-I9
    /// screening, R-I6 latest evaluation): if it cannot answer, nothing changes. The dossier must
    /// not change while it is screened.
    #[instrument(skip_all, fields(project_id = %s.application_id), err)]
    pub(crate) async fn submit_application(&self, p: &Principal, s: Submission) -> Result<(Application, Vec<StoredDocument>), AppError> {
        let screened_draft = {
            let mut c = self.pool.acquire().await?;
            let app = storage::get_application(&mut c, s.application_id, false).await?;
            p.ensure_unit(&app.lead_unit_id, [])?;
            transition::check_etag(&app, s.etag)?;
            // The state check of the submission, before anyone is asked anything.
            application::ensure_submittable(&app)?;
            app
        };
        let policy = self.policy.pinned(&screened_draft.policy_version)?;
        let (screening, latest, not_screened) = self.ask_evaluation(&screened_draft, &policy).await?;

        let origin = self.origin(p, "");
        let mut tx = self.begin().await?;
        let app = storage::get_application(&mut tx, s.application_id, true).await?;
        transition::check_etag(&app, s.etag)?;
        if app.draft != screened_draft.draft {
            return Err(AppError::Aborted("the dossier changed while it was being screened; retry".into()));
        }
        let unit = storage::get_unit(&mut tx, &app.lead_unit_id).await?;
        let unknown = storage::unknown_units(&mut tx, &app.draft.participating_unit_ids).await?;
        let docs = storage::documents_of(&mut tx, s.application_id).await?;
        let metas: Vec<DocumentMeta> = docs.iter().map(StoredDocument::meta).collect();
        let round = match s.round_id {
            Some(rid) => Some(storage::get_round(&mut tx, rid).await?),
            None => None,
        };
        let penalties = storage::penalties_of(&mut tx, &app.lead_unit_id).await?;
        let facts = SubmissionFacts {
            now: origin.at,
            policy: &policy,
            lead_unit: &unit,
            unknown_participants: unknown,
            documents: &metas,
            round: round.as_ref(),
            penalties: &penalties,
            latest_evaluation: latest,
            screening,
        };
        let change = application::submit(&app, &facts, not_screened)?;
        let app = transition::commit(&mut tx, &origin, Expected::Version(app.version), change).await?;
        tx.commit().await?;
        Ok((app, docs))
    }

    /// R-I11: DRB decides compliance, or the one re-review, on the pinned checklist.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn decide_compliance(
        &self,
        p: &Principal,
        id: Uuid,
        etag: i64,
        results: Vec<ChecklistResult>,
        comment: &str,
    ) -> Result<(Application, Vec<StoredDocument>), AppError> {
        let origin = self.origin(p, "");
        let mut tx = self.begin().await?;
        let app = storage::get_application(&mut tx, id, true).await?;
        transition::check_etag(&app, etag)?;
        let policy = self.policy.pinned(&app.policy_version)?;
        let docs = storage::documents_of(&mut tx, id).await?;
        let facts = self.compliance_facts(&mut tx, &app, &docs).await?;
        let change = application::decide_compliance(&app, &results, comment, &p.subject, facts, Context::new(origin.at, &policy))?;
        let app = transition::commit(&mut tx, &origin, Expected::Version(app.version), change).await?;
        tx.commit().await?;
        Ok((app, docs))
    }

    /// The timer of R-I11: the re-review window lapsed unused and the application ends. Runs in
    /// the timer's transaction; nothing happens when a re-review came in time.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn end_after_re_review_window(&self, tx: &mut PgConnection, timer_id: &str, id: Uuid) -> Result<(), AppError> {
        let origin = Origin::system(SERVICE, self.clock.now(), timer_id);
        let app = storage::get_application(tx, id, true).await?;
        let policy = self.policy.pinned(&app.policy_version)?;
        if let Some(change) = application::end_after_re_review_window(&app, Context::new(origin.at, &policy)) {
            transition::commit(tx, &origin, Expected::Version(app.version), change).await?;
        }
        Ok(())
    }

    /// The common transition of an application: load locked, unit isolation (the lead unit
    /// only), etag, decide, commit, in one transaction.
    async fn transition<D>(&self, p: &Principal, id: Uuid, etag: Option<i64>, decide: D) -> Result<Application, AppError>
    where
        D: FnOnce(&Application, Context<'_>) -> Result<egov_platform::transition::Change<Application>, egov_platform::Refusal> + Send,
    {
        let origin = self.origin(p, "");
        let mut tx = self.begin().await?;
        let app =
            transition::transition(&mut tx, &origin, &self.policy, &id, etag, |a: &Application| p.ensure_unit(&a.lead_unit_id, []), decide)
                .await?;
        tx.commit().await?;
        Ok(app)
    }

    /// What the compliance-passed event carries: streets reported, documents, the target year
    /// and the unit's record (shown to preliminary reviewers, R-I10).
    async fn compliance_facts(
        &self,
        c: &mut PgConnection,
        app: &Application,
        docs: &[StoredDocument],
    ) -> Result<ComplianceFacts, AppError> {
        let record = storage::penalties_of(c, &app.lead_unit_id).await?;
        let target_year = match app.round_id {
            Some(rid) => storage::get_round(c, rid).await?.target_year,
            None => app.submitted_at.map(|t| civil_date(t).year()).unwrap_or_default(),
        };
        let streets: std::collections::BTreeSet<String> =
            docs.iter().filter(|d| d.kind == DocumentKind::StreetResearchReport).map(|d| d.street.clone()).collect();
        Ok(ComplianceFacts {
            streets: streets.into_iter().collect(),
            document_ids: docs.iter().map(|d| d.document_id.to_string()).collect(),
            target_year,
            record,
        })
    }

    /// R-I9 and R-I6 answers from evaluation, asked before the transaction.
    async fn ask_evaluation(
        &self,
        app: &Application,
        policy: &Policy,
    ) -> Result<(Vec<ScreenedModule>, Option<LatestEvaluation>, Option<ReviewFlag>), AppError> {
        let d = &app.draft;
        let needs_evaluation =
            d.follows_business_application_flow() && d.build_type == Some(BuildType::Upgrade) && !d.upgrade_of_app_id.is_empty();
        let Some(eval) = &self.evaluation else {
            if needs_evaluation {
                return Err(AppError::Unavailable(
                    "no evaluation service is configured, so the upgraded application's latest evaluation (R-I6) cannot be checked; nothing was changed".into(),
                ));
            }
            let flag = ReviewFlag {
                rule_id: "R-I9".into(),
                code: "NOT_SCREENED".into(),
                message: "no evaluation service is configured: the modules were not screened against the application catalogue; the reviewer checks duplicates by hand".into(),
            };
            return Ok((vec![], None, Some(flag)));
        };
        let mut found = Vec::with_capacity(d.modules.len());
        for m in &d.modules {
            let text = if m.description.is_empty() { m.name.clone() } else { format!("{}: {}", m.name, m.description) };
            found.push(eval.search_catalogue(&text, 5).await?);
        }
        let screening = rules::screen(&d.modules, found, policy);
        let latest = if needs_evaluation { eval.latest_evaluation(&d.upgrade_of_app_id).await? } else { None };
        Ok((screening, latest, None))
    }
}
