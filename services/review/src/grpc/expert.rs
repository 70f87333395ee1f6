//! `egov.review.v1.ExpertReview` handlers (R-R2): the pool, meetings, materials, panel draws,
//! scores, the panel's conclusion and the expert opinion others read.

use std::sync::Arc;

use bytes::Bytes;
use egov_platform::{
    AppError,
    audit::{self, AuditEntry},
    auth::{Principal, Role},
    clock::SharedClock,
    convert::{self as c, Fields},
    documents::{self, DocumentStore},
    idempotency, outbox, paging,
    policy::PolicyBook,
};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    review::{self as pb, expert_review_server::ExpertReview},
};
use futures::StreamExt;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use crate::{
    domain::{
        CaseDocument, ExpertConclusion, ReviewCase, Stage,
        meeting::{self, Meeting},
        panel::{self, Dimension, Expert, ExpertScore, MaterialKind},
    },
    messaging::{self, types},
    storage::{self, experts},
};

pub struct ExpertState {
    pub pool: PgPool,
    pub clock: SharedClock,
    pub policy: Arc<PolicyBook>,
    pub documents: DocumentStore,
}

#[derive(Clone)]
pub struct ExpertApi {
    s: Arc<ExpertState>,
}

impl ExpertApi {
    pub fn new(s: Arc<ExpertState>) -> ExpertApi {
        ExpertApi { s }
    }
}

type R<T> = Result<Response<T>, Status>;

fn expert_pb(e: &Expert, version: i64) -> pb::Expert {
    pb::Expert {
        expert_id: e.expert_id.clone(),
        name: e.name.clone(),
        specialties: e.specialties.clone(),
        affiliation: e.affiliation.clone(),
        available: e.available,
        etag: version.to_string(),
    }
}

fn meeting_pb(m: &Meeting) -> pb::Meeting {
    pb::Meeting {
        meeting_id: m.meeting_id.to_string(),
        held_on: Some(c::civil(m.held_on)),
        specialties: m.specialties.iter().map(|(s, n)| pb::SpecialtyNeed { specialty: s.clone(), count: *n as i32 }).collect(),
        case_ids: m.case_ids.iter().map(Uuid::to_string).collect(),
        state: if m.panel.is_empty() { pb::MeetingState::Planned as i32 } else { pb::MeetingState::PanelDrawn as i32 },
        seed: m.seed.unwrap_or(0),
        panel: m.panel.iter().map(|e| expert_pb(e, 0)).collect(),
        scores: m
            .scores
            .iter()
            .map(|(case, s)| pb::ExpertScoreSheet {
                expert_id: s.expert_id.clone(),
                case_id: case.to_string(),
                scores: s.scores.iter().map(|(d, v)| pb::DimensionScore { dimension: d.as_str().into(), score: *v as i32 }).collect(),
                opinion: s.opinion.clone(),
            })
            .collect(),
        etag: m.version.to_string(),
    }
}

fn material_kind(raw: i32) -> Result<MaterialKind, egov_platform::error::FieldViolation> {
    c::enum_from_proto(
        "header.kind",
        raw,
        |i| pb::MaterialKind::try_from(i).ok().map(|e| e.as_str_name()),
        "MATERIAL_KIND_",
        MaterialKind::parse,
    )?
    .ok_or_else(|| egov_platform::error::FieldViolation::new("header.kind", "required (UNSPECIFIED is not a value)"))
}

impl ExpertState {
    /// Appends an R-R2 audit record; the policy version is the pinned one when the entry names
    /// it, else the one in force.
    async fn audit(&self, conn: &mut PgConnection, now: OffsetDateTime, entry: AuditEntry) -> Result<(), AppError> {
        let entry = if entry.policy_version.is_empty() { entry.policy(self.policy_now()) } else { entry };
        audit::append(conn, now, &entry.rules(&["R-R2"])).await?;
        Ok(())
    }

    fn policy_now(&self) -> String {
        self.policy.in_force(self.clock.today()).version.clone()
    }
}

#[tonic::async_trait]
impl ExpertReview for ExpertApi {
    async fn create_expert(&self, req: Request<pb::CreateExpertRequest>) -> R<pb::Expert> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let request_id = f.take(idempotency::request_id("request_id", &r.request_id)).unwrap_or_default();
        let id = r.expert_id.trim().to_string();
        if id.len() < 2 || id.len() > 64 || !id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
            f.push("expert_id", "2 to 64 letters, digits, '-' or '_'");
        }
        f.required("name", &r.name);
        f.required("affiliation", &r.affiliation);
        if r.specialties.iter().all(|s| s.trim().is_empty()) {
            f.push("specialties", "at least one specialty");
        }
        f.finish()?;
        let e = Expert {
            expert_id: id.clone(),
            name: r.name.trim().into(),
            specialties: r.specialties.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            affiliation: r.affiliation.trim().into(),
            available: true,
        };
        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        if let Some(existing) = idempotency::lookup(&mut tx, "CreateExpert", &request_id).await? {
            let (e, v) = experts::get_expert(&mut tx, &existing).await?;
            return Ok(Response::new(expert_pb(&e, v)));
        }
        experts::insert_expert(&mut tx, &e).await?;
        idempotency::record(&mut tx, "CreateExpert", &request_id, &id).await?;
        self.s.audit(&mut tx, now, AuditEntry::by(&p, "CreateExpert", format!("experts/{id}")).request(&request_id)).await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(expert_pb(&e, 1)))
    }

    async fn set_expert_availability(&self, req: Request<pb::SetExpertAvailabilityRequest>) -> R<pb::Expert> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let etag = c::etag("etag", &r.etag).map_err(AppError::from)?;
        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        let (mut e, v) = experts::get_expert(&mut tx, r.expert_id.trim()).await?;
        experts::set_availability(&mut tx, &e.expert_id, r.available, etag).await?;
        e.available = r.available;
        self.s.audit(&mut tx, now, AuditEntry::by(&p, "SetExpertAvailability", format!("experts/{}", e.expert_id))).await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(expert_pb(&e, v + 1)))
    }

    async fn list_experts(&self, req: Request<pb::ListExpertsRequest>) -> R<pb::ListExpertsResponse> {
        let r = req.into_inner();
        let limit = paging::page_size(r.page_size).map_err(AppError::from)?;
        let mut conn = self.s.pool.acquire().await.map_err(AppError::from)?;
        let specialty = (!r.specialty.is_empty()).then_some(r.specialty.as_str());
        let rows = experts::list_experts(&mut conn, specialty, &r.page_token, limit + 1).await?;
        let (rows, next) = paging::page(rows, limit, |(e, _)| e.expert_id.clone());
        Ok(Response::new(pb::ListExpertsResponse { experts: rows.iter().map(|(e, v)| expert_pb(e, *v)).collect(), next_page_token: next }))
    }

    async fn upload_material(&self, req: Request<Streaming<pb::UploadMaterialRequest>>) -> R<pb::CaseMaterial> {
        let p = Principal::from_request(&req)?;
        let mut stream = req.into_inner();
        let header = match stream.message().await? {
            Some(pb::UploadMaterialRequest { part: Some(pb::upload_material_request::Part::Header(h)) }) => h,
            _ => return Err(AppError::field("header", "the first message of an upload is its header").into()),
        };
        let mut f = Fields::new();
        let request_id = f.take(idempotency::request_id("header.request_id", &header.request_id)).unwrap_or_default();
        let case_id = f.take(c::uuid("header.case_id", &header.case_id));
        let kind = f.take(material_kind(header.kind));
        let file_name = f.take(documents::file_name("header.file_name", &header.file_name)).unwrap_or_default();
        f.finish()?;
        let (case_id, kind) = (case_id.unwrap_or_default(), kind.unwrap_or(MaterialKind::Presentation));
        {
            let mut conn = self.s.pool.acquire().await.map_err(AppError::from)?;
            let case = storage::get_case(&mut conn, case_id, false).await?;
            p.ensure_unit(&case.dossier.lead_unit_id, [])?;
            if case.stage != Stage::ExpertReview {
                return Err(
                    AppError::InvalidState(format!("materials are uploaded during expert review; this case is {}", case.stage)).into()
                );
            }
            if let Some(existing) = idempotency::lookup(&mut conn, "UploadMaterial", &request_id).await? {
                let id = c::uuid("header.request_id", &existing).map_err(AppError::from)?;
                let d = case
                    .expert
                    .documents
                    .iter()
                    .find(|d| d.document_id == id)
                    .ok_or_else(|| AppError::NotFound(format!("material {id}")))?;
                return Ok(Response::new(material_pb(case_id, d)));
            }
        }
        let document_id = Uuid::now_v7();
        let path = format!("cases/{case_id}/{document_id}");
        let chunks = stream.map(|m| match m {
            Ok(pb::UploadMaterialRequest { part: Some(pb::upload_material_request::Part::Chunk(b)) }) => Ok(Bytes::from(b)),
            Ok(_) => Err(AppError::field("chunk", "after the header, an upload sends only content chunks")),
            Err(s) => Err(AppError::Unavailable(format!("upload interrupted: {}", s.message()))),
        });
        let stored = self.s.documents.put_stream(&path, chunks).await?;
        let now = self.s.clock.now();
        let doc = CaseDocument {
            document_id,
            kind: kind.as_str().into(),
            file_name,
            size_bytes: stored.size as i64,
            sha256: stored.sha256,
            sm3: stored.sm3,
            uploaded_by: p.subject.clone(),
            uploaded_at: now,
        };
        let saved: Result<(), AppError> = async {
            let mut tx = self.s.pool.begin().await?;
            let mut case = storage::get_case(&mut tx, case_id, true).await?;
            if case.stage != Stage::ExpertReview {
                return Err(AppError::Aborted("the case changed stage during the upload; retry".into()));
            }
            case.expert.documents.push(doc.clone());
            let mut events = vec![];
            // After a pass, the revised report and revision list move the case to re-check.
            if meeting::revised_after_conclusion(&case) {
                case.expert.revised_after_conclusion = true;
                case.stage = Stage::ReCheck;
                let policy = self
                    .s
                    .policy
                    .version(&case.policy_version)
                    .ok_or_else(|| AppError::InvalidState("the case's policy version is not loaded".into()))?;
                messaging::open_recheck_tasks(&mut tx, &case, now, &policy).await?;
                events.push(Payload::ProjectStatusChanged(ev::ProjectStatusChanged {
                    status: "复核审查 RE_CHECK".into(),
                    summary: "revised report and revision list uploaded after the expert review; re-check by DRB, DRC, FINANCE".into(),
                }));
            }
            case.version += 1;
            storage::update_case(&mut tx, &case).await?;
            idempotency::record(&mut tx, "UploadMaterial", &request_id, &document_id.to_string()).await?;
            let entry = AuditEntry::by(&p, "UploadMaterial", format!("cases/{case_id}/documents/{document_id}"))
                .project(case_id.to_string())
                .rules(&["R-R2", "R-X1"])
                .policy(&case.policy_version)
                .request(&request_id)
                .details(serde_json::json!({ "kind": kind.as_str(), "size": doc.size_bytes, "sha256": doc.sha256, "sm3": doc.sm3 }));
            audit::append(&mut tx, now, &entry).await?;
            for e in events {
                outbox::enqueue(&mut tx, &messaging::envelope(types::RECHECK_STARTED, &case, now, e)).await?;
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        if let Err(e) = saved {
            self.s.documents.delete(&path).await;
            return Err(e.into());
        }
        Ok(Response::new(material_pb(case_id, &doc)))
    }

    async fn create_meeting(&self, req: Request<pb::CreateMeetingRequest>) -> R<pb::Meeting> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let request_id = f.take(idempotency::request_id("request_id", &r.request_id)).unwrap_or_default();
        let held_on = f.take(c::date("held_on", r.held_on.as_ref()));
        if r.specialties.is_empty() {
            f.push("specialties", "the panel's specialties and how many experts of each");
        }
        for (i, s) in r.specialties.iter().enumerate() {
            if s.specialty.trim().is_empty() {
                f.push(format!("specialties[{i}].specialty"), "required");
            }
            if !(1..=15).contains(&s.count) {
                f.push(format!("specialties[{i}].count"), "1 to 15 experts");
            }
        }
        f.finish()?;
        let now = self.s.clock.now();
        let m = Meeting {
            meeting_id: Uuid::now_v7(),
            held_on: held_on.unwrap_or_else(|| self.s.clock.today()),
            specialties: r.specialties.iter().map(|s| (s.specialty.trim().to_string(), s.count as u32)).collect(),
            case_ids: vec![],
            seed: None,
            panel: vec![],
            scores: vec![],
            version: 1,
            created_at: now,
        };
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        if let Some(existing) = idempotency::lookup(&mut tx, "CreateMeeting", &request_id).await? {
            let m = experts::get_meeting(&mut tx, c::uuid("request_id", &existing).map_err(AppError::from)?, false).await?;
            return Ok(Response::new(meeting_pb(&m)));
        }
        experts::insert_meeting(&mut tx, &m).await?;
        idempotency::record(&mut tx, "CreateMeeting", &request_id, &m.meeting_id.to_string()).await?;
        self.s.audit(&mut tx, now, AuditEntry::by(&p, "CreateMeeting", format!("meetings/{}", m.meeting_id)).request(&request_id)).await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(meeting_pb(&m)))
    }

    async fn schedule_case(&self, req: Request<pb::ScheduleCaseRequest>) -> R<pb::Meeting> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let meeting_id = f.take(c::uuid("meeting_id", &r.meeting_id));
        let case_id = f.take(c::uuid("case_id", &r.case_id));
        let etag = f.take(c::etag("etag", &r.etag));
        f.finish()?;
        let (meeting_id, case_id, etag) = (meeting_id.unwrap_or_default(), case_id.unwrap_or_default(), etag.unwrap_or_default());
        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        let mut m = experts::get_meeting(&mut tx, meeting_id, true).await?;
        if m.version != etag {
            return Err(AppError::Aborted(format!("the meeting has etag {}, the request sent {etag}", m.version)).into());
        }
        let mut case = storage::get_case(&mut tx, case_id, true).await?;
        meeting::schedule(&m, &case)?;
        m.case_ids.push(case_id);
        m.version += 1;
        experts::update_meeting(&mut tx, &m).await?;
        case.expert.meeting_id = Some(meeting_id);
        case.version += 1;
        storage::update_case(&mut tx, &case).await?;
        self.s
            .audit(
                &mut tx,
                now,
                AuditEntry::by(&p, "ScheduleCase", format!("meetings/{meeting_id}"))
                    .project(case_id.to_string())
                    .policy(&case.policy_version),
            )
            .await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(meeting_pb(&m)))
    }

    async fn draw_panel(&self, req: Request<pb::DrawPanelRequest>) -> R<pb::Meeting> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let meeting_id = c::uuid("meeting_id", &r.meeting_id).map_err(AppError::from)?;
        let etag = c::etag("etag", &r.etag).map_err(AppError::from)?;
        let seed = if r.seed == 0 { rand::random::<u64>().max(1) } else { r.seed };
        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        let mut m = experts::get_meeting(&mut tx, meeting_id, true).await?;
        if m.version != etag {
            return Err(AppError::Aborted(format!("the meeting has etag {}, the request sent {etag}", m.version)).into());
        }
        let mut cases = Vec::with_capacity(m.case_ids.len());
        for id in &m.case_ids {
            cases.push(storage::get_case(&mut tx, *id, false).await?);
        }
        let pool = experts::pool(&mut tx).await?;
        m.panel = meeting::draw(&m, &pool, &cases, seed)?;
        m.seed = Some(seed);
        m.version += 1;
        experts::update_meeting(&mut tx, &m).await?;
        let panel: Vec<&str> = m.panel.iter().map(|e| e.expert_id.as_str()).collect();
        let entry = AuditEntry::by(&p, "DrawPanel", format!("meetings/{meeting_id}"))
            .rules(&["R-R2"])
            .policy(self.s.policy_now())
            .details(serde_json::json!({ "seed": seed.to_string(), "panel": panel, "cases": m.case_ids }));
        audit::append(&mut tx, now, &entry).await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(meeting_pb(&m)))
    }

    async fn get_meeting(&self, req: Request<pb::GetMeetingRequest>) -> R<pb::Meeting> {
        let id = c::uuid("meeting_id", &req.get_ref().meeting_id).map_err(AppError::from)?;
        let mut conn = self.s.pool.acquire().await.map_err(AppError::from)?;
        Ok(Response::new(meeting_pb(&experts::get_meeting(&mut conn, id, false).await?)))
    }

    async fn submit_expert_score(&self, req: Request<pb::SubmitExpertScoreRequest>) -> R<pb::Meeting> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let meeting_id = f.take(c::uuid("meeting_id", &r.meeting_id));
        let case_id = f.take(c::uuid("case_id", &r.case_id));
        let mut scores = Vec::new();
        for (i, s) in r.scores.iter().enumerate() {
            match Dimension::parse(s.dimension.trim()) {
                Some(d) if s.score >= 0 => scores.push((d, s.score as u32)),
                Some(_) => f.push(format!("scores[{i}]"), "scored 0..=100"),
                None => f.push(format!("scores[{i}].dimension"), format!("{:?} is not a dimension of expert review", s.dimension)),
            }
        }
        f.finish()?;
        let (meeting_id, case_id) = (meeting_id.unwrap_or_default(), case_id.unwrap_or_default());
        let sheet = ExpertScore { expert_id: p.subject.clone(), scores, opinion: r.opinion.trim().into() };
        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        let mut m = experts::get_meeting(&mut tx, meeting_id, true).await?;
        meeting::score(&m, case_id, &sheet)?;
        m.scores.push((case_id, sheet));
        m.version += 1;
        experts::update_meeting(&mut tx, &m).await?;
        self.s
            .audit(
                &mut tx,
                now,
                AuditEntry::by(&p, "SubmitExpertScore", format!("meetings/{meeting_id}"))
                    .project(case_id.to_string())
                    .request(&r.request_id),
            )
            .await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(meeting_pb(&m)))
    }

    async fn conclude_expert_review(&self, req: Request<pb::ConcludeExpertReviewRequest>) -> R<pb::ReviewCase> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let case_id = c::uuid("case_id", &r.case_id).map_err(AppError::from)?;
        let etag = c::etag("etag", &r.etag).map_err(AppError::from)?;
        if r.opinion.trim().is_empty() {
            return Err(AppError::field("opinion", "the panel's opinion (专家组意见)").into());
        }
        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        let mut case = storage::get_case(&mut tx, case_id, true).await?;
        if case.version != etag {
            return Err(AppError::Aborted(format!("the case has etag {}, the request sent {etag}", case.version)).into());
        }
        if case.stage != Stage::ExpertReview || case.expert.conclusion.is_some() {
            return Err(AppError::InvalidState(format!(
                "the expert review of this case is not awaiting a conclusion (stage {})",
                case.stage
            ))
            .into());
        }
        let meeting_id =
            case.expert.meeting_id.ok_or_else(|| AppError::rule("R-R2", "meeting_id", "the case is not on an expert review meeting"))?;
        let m = experts::get_meeting(&mut tx, meeting_id, false).await?;
        let c =
            panel::conclude(&m.panel, &meeting::scores_of(&m, case_id), r.passed, r.recommended_budget_fen, case.dossier.total_budget_fen)?;
        case.expert.conclusion = Some(ExpertConclusion {
            passed: c.passed,
            recommended_budget_fen: c.recommended_budget_fen,
            opinion: r.opinion.trim().into(),
            mean_scores: c.mean_scores.iter().map(|(d, v)| (d.as_str().to_string(), *v)).collect(),
            experts: m.panel.iter().map(|e| e.expert_id.clone()).collect(),
            concluded_by: p.subject.clone(),
            concluded_at: now,
        });
        let (status, summary) = if c.passed {
            (
                "专家评审通过 EXPERT_PASSED",
                format!(
                    "expert review passed, recommended budget {} fen; the unit uploads the revised report and revision list",
                    c.recommended_budget_fen
                ),
            )
        } else {
            ("申报结束 ENDED", format!("expert review failed: {}", r.opinion.trim()))
        };
        let mut events =
            vec![(types::EXPERT_CONCLUDED, Payload::ProjectStatusChanged(ev::ProjectStatusChanged { status: status.into(), summary }))];
        if !c.passed {
            case.stage = Stage::Ended;
            case.end_reason = format!("专家评审未通过，本次申报结束 / expert review failed: {}", r.opinion.trim());
            events.push((types::ENDED, messaging::ended(&case, &case.end_reason.clone(), &["R-R2"])));
        }
        case.version += 1;
        storage::update_case(&mut tx, &case).await?;
        let entry = AuditEntry::by(&p, "ConcludeExpertReview", format!("cases/{case_id}"))
            .project(case_id.to_string())
            .reason(r.opinion.trim())
            .rules(&["R-R2"])
            .policy(&case.policy_version)
            .request(&r.request_id)
            .details(serde_json::json!({ "passed": c.passed, "recommended_budget_fen": c.recommended_budget_fen }));
        audit::append(&mut tx, now, &entry).await?;
        for (t, payload) in events {
            outbox::enqueue(&mut tx, &messaging::envelope(t, &case, now, payload)).await?;
        }
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(super::convert::case(&case)))
    }

    async fn get_expert_opinion(&self, req: Request<pb::GetExpertOpinionRequest>) -> R<pb::ExpertOpinion> {
        let p = Principal::from_request(&req)?;
        let id = c::uuid("project_id", &req.get_ref().project_id).map_err(AppError::from)?;
        let mut conn = self.s.pool.acquire().await.map_err(AppError::from)?;
        let case: ReviewCase = storage::get_case(&mut conn, id, false).await?;
        p.ensure_unit(&case.dossier.lead_unit_id, case.dossier.participating_unit_ids.iter())?;
        let c = case
            .expert
            .conclusion
            .as_ref()
            .ok_or_else(|| AppError::NotFound(format!("no expert opinion for project {id} yet (stage {})", case.stage)))?;
        Ok(Response::new(pb::ExpertOpinion {
            project_id: id.to_string(),
            meeting_id: case.expert.meeting_id.map(|m| m.to_string()).unwrap_or_default(),
            passed: c.passed,
            recommended_budget_fen: c.recommended_budget_fen,
            opinion: c.opinion.clone(),
            mean_scores_centi: c.mean_scores.iter().map(|(d, v)| pb::DimensionScore { dimension: d.clone(), score: *v as i32 }).collect(),
            experts: c.experts.clone(),
            concluded_at: Some(egov_platform::convert::timestamp(c.concluded_at)),
        }))
    }
}

fn material_pb(case_id: Uuid, d: &CaseDocument) -> pb::CaseMaterial {
    pb::CaseMaterial {
        document_id: d.document_id.to_string(),
        case_id: case_id.to_string(),
        kind: MaterialKind::parse(&d.kind)
            .map(|k| {
                egov_platform::convert::enum_to_proto("MATERIAL_KIND_", k.as_str(), |n| {
                    pb::MaterialKind::from_str_name(n).map(|e| e as i32)
                })
            })
            .unwrap_or(0),
        file_name: d.file_name.clone(),
        size_bytes: d.size_bytes,
        sha256: d.sha256.clone(),
        sm3: d.sm3.clone(),
        uploaded_by: d.uploaded_by.clone(),
        uploaded_at: Some(egov_platform::convert::timestamp(d.uploaded_at)),
    }
}

/// Roles of the ExpertReview service.
pub fn allow(t: egov_platform::auth::RoleTable) -> egov_platform::auth::RoleTable {
    use Role::*;
    const S: &str = "egov.review.v1.ExpertReview";
    const ORGANISERS: &[Role] = &[Drb, Finance];
    const READERS: &[Role] = &[Unit, Drb, Finance, Drc, Cac, Xinchuang, Grassroots, Leader, Audit, Expert];
    t.allow(S, "CreateExpert", ORGANISERS)
        .allow(S, "SetExpertAvailability", ORGANISERS)
        .allow(S, "ListExperts", &[Drb, Finance, Audit])
        .allow(S, "UploadMaterial", &[Unit])
        .allow(S, "CreateMeeting", ORGANISERS)
        .allow(S, "ScheduleCase", ORGANISERS)
        .allow(S, "DrawPanel", ORGANISERS)
        .allow(S, "GetMeeting", &[Drb, Finance, Audit, Expert])
        .allow(S, "SubmitExpertScore", &[Expert])
        .allow(S, "ConcludeExpertReview", ORGANISERS)
        .allow(S, "GetExpertOpinion", READERS)
}
