//! Use cases of the expert review (R-R2): the pool, meetings, the case's materials (uploaded
//! through the platform's one upload sequence), panel draws, scores and the panel's conclusion.

use bytes::Bytes;
use egov_platform::{
    AppError,
    auth::Principal,
    documents::{StoredObject, Uploaded},
    idempotency,
    transition::{self, Context, Expected},
};
use futures::{FutureExt, Stream};
use time::Date;
use tracing::instrument;
use uuid::Uuid;

use super::{Review, Target};
use crate::{
    domain::{
        CaseDocument, ReviewCase,
        case::{self, ExpertVerdict},
        meeting::{self, Meeting, PoolExpert},
        panel::{Expert, ExpertScore, MaterialKind},
    },
    storage::experts,
};

/// A new meeting as asked: when, and the panel's specialties (specialty, how many experts).
#[derive(Debug, Clone)]
pub(crate) struct NewMeeting {
    pub request_id: String,
    pub held_on: Option<Date>,
    pub specialties: Vec<(String, u32)>,
}

/// An expert's score sheet on one case of a meeting.
#[derive(Debug, Clone)]
pub(crate) struct Score {
    pub meeting_id: Uuid,
    pub case_id: Uuid,
    pub request_id: String,
    pub sheet: ExpertScore,
}

/// An upload's header, parsed.
#[derive(Debug, Clone)]
pub(crate) struct MaterialHeader {
    pub request_id: String,
    pub case_id: Uuid,
    pub kind: MaterialKind,
    pub file_name: String,
}

impl Review {
    /// A new expert of the pool; a retried request (same request id) answers with the expert it
    /// created.
    #[instrument(skip_all, fields(expert_id = %e.expert_id), err)]
    pub(crate) async fn create_expert(&self, p: &Principal, request_id: &str, e: Expert) -> Result<PoolExpert, AppError> {
        let origin = self.origin(p, request_id);
        let mut tx = self.begin().await?;
        if let Some(existing) = idempotency::lookup(&mut tx, "CreateExpert", request_id).await? {
            return transition::load(&mut tx, &existing, false).await;
        }
        let id = e.expert_id.clone();
        let policy = self.policy_now();
        let change = meeting::add_expert(e, Context::new(origin.at, &policy));
        let created = match transition::commit(&mut tx, &origin, Expected::New, change).await {
            Err(AppError::AlreadyExists(_)) => Err(AppError::AlreadyExists(format!("expert {id} is already in the pool"))),
            r => r,
        }?;
        idempotency::record(&mut tx, "CreateExpert", request_id, &id).await?;
        tx.commit().await?;
        Ok(created)
    }

    #[instrument(skip_all, fields(expert_id = %id), err)]
    pub(crate) async fn set_expert_availability(
        &self,
        p: &Principal,
        id: String,
        etag: i64,
        available: bool,
    ) -> Result<PoolExpert, AppError> {
        let origin = self.origin(p, "");
        let mut tx = self.begin().await?;
        let e: PoolExpert = transition::load(&mut tx, &id, true).await?;
        transition::check_etag(&e, etag)?;
        let policy = self.policy_now();
        let change = meeting::set_availability(&e, available, Context::new(origin.at, &policy));
        let e = transition::commit(&mut tx, &origin, Expected::Version(e.version), change).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// A meeting planned for its date (today when none is given); idempotent by request id.
    #[instrument(skip_all, err)]
    pub(crate) async fn create_meeting(&self, p: &Principal, m: NewMeeting) -> Result<Meeting, AppError> {
        let origin = self.origin(p, &m.request_id);
        let mut tx = self.begin().await?;
        if let Some(existing) = idempotency::lookup(&mut tx, "CreateMeeting", &m.request_id).await? {
            let id = egov_platform::request::id("request_id", &existing)?;
            return transition::load(&mut tx, &id, false).await;
        }
        let policy = self.policy_now();
        let held_on = m.held_on.unwrap_or_else(|| self.clock.today());
        let change = meeting::create(Uuid::now_v7(), held_on, m.specialties, Context::new(origin.at, &policy));
        let created = transition::commit(&mut tx, &origin, Expected::New, change).await?;
        idempotency::record(&mut tx, "CreateMeeting", &m.request_id, &created.meeting_id.to_string()).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// A case goes on a meeting (the meeting's etag): the meeting and the case change together.
    #[instrument(skip_all, fields(project_id = %case_id), err)]
    pub(crate) async fn schedule_case(&self, p: &Principal, meeting_id: Uuid, case_id: Uuid, etag: i64) -> Result<Meeting, AppError> {
        let origin = self.origin(p, "");
        let mut tx = self.begin().await?;
        let m: Meeting = transition::load(&mut tx, &meeting_id, true).await?;
        transition::check_etag(&m, etag)?;
        let k: ReviewCase = transition::load(&mut tx, &case_id, true).await?;
        let (on_meeting, on_case) = meeting::schedule(&m, &k)?;
        let m = transition::commit(&mut tx, &origin, Expected::Version(m.version), on_meeting).await?;
        transition::commit(&mut tx, &origin, Expected::Version(k.version), on_case).await?;
        tx.commit().await?;
        Ok(m)
    }

    /// The meeting's panel, drawn with `seed` (recorded for replay).
    #[instrument(skip_all, fields(meeting_id = %meeting_id), err)]
    pub(crate) async fn draw_panel(&self, p: &Principal, meeting_id: Uuid, etag: i64, seed: u64) -> Result<Meeting, AppError> {
        let origin = self.origin(p, "");
        let mut tx = self.begin().await?;
        let m: Meeting = transition::load(&mut tx, &meeting_id, true).await?;
        transition::check_etag(&m, etag)?;
        let mut cases = Vec::with_capacity(m.case_ids.len());
        for id in &m.case_ids {
            cases.push(crate::storage::get_case(&mut tx, *id).await?);
        }
        let pool = experts::pool(&mut tx).await?;
        let policy = self.policy_now();
        let change = meeting::draw(&m, &pool, &cases, seed, Context::new(origin.at, &policy))?;
        let m = transition::commit(&mut tx, &origin, Expected::Version(m.version), change).await?;
        tx.commit().await?;
        Ok(m)
    }

    /// A panel expert scores a case of the meeting, once (a second sheet is ALREADY_EXISTS).
    #[instrument(skip_all, fields(project_id = %s.case_id), err)]
    pub(crate) async fn submit_expert_score(&self, p: &Principal, s: Score) -> Result<Meeting, AppError> {
        let origin = self.origin(p, &s.request_id);
        let mut tx = self.begin().await?;
        let m: Meeting = transition::load(&mut tx, &s.meeting_id, true).await?;
        if m.case_ids.contains(&s.case_id) && meeting::has_scored(&m, s.case_id, &s.sheet.expert_id) {
            return Err(AppError::AlreadyExists(format!("expert {} has already scored this case", s.sheet.expert_id)));
        }
        let policy = self.policy_now();
        let change = meeting::score(&m, s.case_id, s.sheet, Context::new(origin.at, &policy))?;
        let m = transition::commit(&mut tx, &origin, Expected::Version(m.version), change).await?;
        tx.commit().await?;
        Ok(m)
    }

    /// R-R2: the panel's conclusion on a case, from its meeting's scores.
    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn conclude_expert_review(&self, p: &Principal, t: Target, verdict: ExpertVerdict) -> Result<ReviewCase, AppError> {
        let origin = self.origin(p, &t.request_id);
        let mut tx = self.begin().await?;
        let k: ReviewCase = transition::load(&mut tx, &t.id, true).await?;
        p.ensure_unit(&k.dossier.lead_unit_id, [])?;
        transition::check_etag(&k, t.etag)?;
        let meeting = match k.expert.meeting_id {
            Some(id) if k.expert.conclusion.is_none() => Some(transition::load::<Meeting>(&mut tx, &id, false).await?),
            _ => None,
        };
        let policy = self.policy.pinned(&k.policy_version)?;
        let change = case::conclude_expert_review(&k, meeting.as_ref(), &verdict, &p.subject, Context::new(origin.at, &policy))?;
        let k = transition::commit(&mut tx, &origin, Expected::Version(k.version), change).await?;
        tx.commit().await?;
        Ok(k)
    }

    /// R-R2, R-X1: the lead unit uploads a material of its case in expert review. Checked before
    /// a byte is stored (unit, stage), and again in the transaction that records it.
    #[instrument(skip_all, fields(project_id = %h.case_id), err)]
    pub(crate) async fn upload_material<S>(&self, p: &Principal, h: MaterialHeader, chunks: S) -> Result<CaseDocument, AppError>
    where
        S: Stream<Item = Result<Bytes, AppError>> + Send,
    {
        let k = {
            let mut c = self.pool.acquire().await?;
            crate::storage::get_case(&mut c, h.case_id).await?
        };
        p.ensure_unit(&k.dossier.lead_unit_id, [])?;
        case::accept_material(&k)?;
        let origin = self.origin(p, &h.request_id);
        let (case_id, stage, policy) = (h.case_id, k.stage, self.policy.clone());
        let uploaded = self
            .documents
            .upload(
                &self.pool,
                "UploadMaterial",
                &h.request_id,
                |id| format!("cases/{case_id}/{id}"),
                chunks,
                move |tx, document_id, stored: StoredObject| {
                    async move {
                        let current: ReviewCase = transition::load(tx, &case_id, true).await?;
                        if current.stage != stage {
                            return Err(AppError::Aborted("the case changed stage during the upload; retry".into()));
                        }
                        let policy = policy.pinned(&current.policy_version)?;
                        let doc = CaseDocument {
                            document_id,
                            kind: h.kind.as_str().into(),
                            file_name: h.file_name,
                            size_bytes: stored.size as i64,
                            sha256: stored.sha256,
                            sm3: stored.sm3,
                            uploaded_by: origin.actor.subject.clone(),
                            uploaded_at: origin.at,
                        };
                        let change = case::add_material(&current, doc.clone(), Context::new(origin.at, &policy))?;
                        transition::commit(tx, &origin, Expected::Version(current.version), change).await?;
                        Ok(doc)
                    }
                    .boxed()
                },
            )
            .await?;
        match uploaded {
            Uploaded::New(doc) => Ok(doc),
            Uploaded::Earlier(id) => {
                k.expert.documents.into_iter().find(|d| d.document_id == id).ok_or_else(|| AppError::NotFound(format!("material {id}")))
            }
        }
    }
}
