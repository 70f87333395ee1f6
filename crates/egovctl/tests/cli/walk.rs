//! End-to-end tests of the `egovctl` binary against an in-memory fake of the intake service's
//! gRPC surface (Intake, Operations, AuditTrail, health): streaming uploads and downloads, etags,
//! rich refusals and exit codes, and `deploy/local/sample-walk.sh` run as written, on each of
//! its paths (round open, round refused, submission refused for the date).
//!
//! The fake checks what a client must get right (bearer tokens signed with the local secret,
//! header-first uploads, etags), not the Measures: those are the real service's tests.

use crate::common;

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::PathBuf,
    pin::Pin,
    process::{Command, Output},
    sync::{Arc, Mutex},
};

use egov_platform::{auth::TokenVerifier, config::LOCAL_DEV_SECRET};
use egov_proto::{
    common::{
        AdvanceClockRequest, AuditRecord, ClockReading, GetClockRequest, ListAuditRecordsRequest, ListAuditRecordsResponse,
        ListDeadEventsRequest, ListDeadEventsResponse, RedriveDeadEventsRequest, RedriveDeadEventsResponse, VerifyAuditTrailRequest,
        VerifyAuditTrailResponse,
        audit_trail_server::{AuditTrail, AuditTrailServer},
        operations_server::{Operations, OperationsServer},
    },
    intake::{
        self as pb, Application, ApplicationRound, ApplicationState, ChecklistItem, ComplianceChecklist, ComplianceDecision, Document,
        DocumentKind, ProjectStatus, TimelineEntry, Unit,
        intake_server::{Intake, IntakeServer},
    },
};
use tokio_stream::Stream;
use tonic::{Request, Response, Status, transport::Server};

use crate::common::{INTAKE, closed, invalid, ok, refused, root};

// ------------------------------------------------------------------ the fake service

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Opening next year's round works and submissions into it are accepted.
    RoundOpen,
    /// Opening the round is refused (after 09-30, R-I3).
    RoundRefused,
    /// The round opens, but a submission into it is refused for the date (R-I3).
    SubmitRefusedForDate,
}

#[derive(Default)]
struct State {
    units: HashMap<String, Unit>,
    rounds: Vec<ApplicationRound>,
    apps: HashMap<String, Application>,
    docs: HashMap<String, (Document, Vec<u8>)>,
    timeline: HashMap<String, Vec<TimelineEntry>>,
    /// Sizes of the content chunks of every upload, in order.
    chunks: Vec<usize>,
    seq: u64,
}

#[derive(Clone)]
struct Fake {
    mode: Mode,
    state: Arc<Mutex<State>>,
    verifier: TokenVerifier,
}

type Res<T> = Result<Response<T>, Status>;

fn now() -> prost_types::Timestamp {
    let t = time::OffsetDateTime::now_utc();
    prost_types::Timestamp { seconds: t.unix_timestamp(), nanos: 0 }
}

impl Fake {
    fn new(mode: Mode) -> Fake {
        Fake { mode, state: Arc::default(), verifier: TokenVerifier::hs256(LOCAL_DEV_SECRET.as_bytes(), "egov-local") }
    }

    /// The caller's role, from a token the local secret signed.
    fn role<T>(&self, req: &Request<T>) -> Result<String, Status> {
        let header = req.metadata().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let token = header.strip_prefix("Bearer ").ok_or_else(|| Status::unauthenticated("no bearer token"))?;
        let p = self.verifier.verify(token).map_err(|e| Status::unauthenticated(format!("bad token: {e:?}")))?;
        Ok(p.role.to_string())
    }

    fn need<T>(&self, req: &Request<T>, role: &str) -> Result<(), Status> {
        let r = self.role(req)?;
        if r == role { Ok(()) } else { Err(Status::permission_denied(format!("{r} may not do this; {role} may"))) }
    }

    fn next(&self, st: &mut State, prefix: &str) -> String {
        st.seq += 1;
        format!("{prefix}-{:04}", st.seq)
    }

    /// Runs `f` on the application when `etag` is current, bumps the etag, records an event.
    fn transition(&self, id: &str, etag: &str, event: &str, f: impl FnOnce(&mut Application) -> Result<(), Status>) -> Res<Application> {
        let mut st = self.state.lock().unwrap();
        let st = &mut *st;
        let app = st.apps.get_mut(id).ok_or_else(|| Status::not_found(format!("application {id}")))?;
        if !etag.is_empty() && app.etag != etag {
            return Err(Status::aborted(format!("stale etag {etag}; current {}", app.etag)));
        }
        f(app)?;
        st.seq += 1;
        app.etag = format!("v{}", st.seq);
        let status = format!("{:?}", ApplicationState::try_from(app.state).unwrap_or_default());
        st.timeline.entry(id.to_string()).or_default().push(TimelineEntry {
            event_id: format!("ev-{}", st.seq),
            event_type: event.into(),
            producer: "intake".into(),
            occurred_at: Some(now()),
            status,
            summary: event.into(),
        });
        let mut out = app.clone();
        out.documents = st.docs.values().filter(|(d, _)| d.application_id == id).map(|(d, _)| d.clone()).collect();
        Ok(Response::new(out))
    }
}

#[tonic::async_trait]
impl Intake for Fake {
    async fn record_unit_penalty(&self, _: Request<pb::RecordUnitPenaltyRequest>) -> Res<pb::UnitPenalty> {
        Err(Status::unimplemented("record_unit_penalty"))
    }
    async fn get_unit_eligibility(&self, _: Request<pb::GetUnitEligibilityRequest>) -> Res<pb::UnitEligibility> {
        Err(Status::unimplemented("get_unit_eligibility"))
    }
    async fn close_round(&self, _: Request<pb::CloseRoundRequest>) -> Res<ApplicationRound> {
        Err(Status::unimplemented("close_round"))
    }
    async fn get_round(&self, _: Request<pb::GetRoundRequest>) -> Res<ApplicationRound> {
        Err(Status::unimplemented("get_round"))
    }
    async fn update_application(&self, _: Request<pb::UpdateApplicationRequest>) -> Res<Application> {
        Err(Status::unimplemented("update_application"))
    }
    async fn list_applications(&self, _: Request<pb::ListApplicationsRequest>) -> Res<pb::ListApplicationsResponse> {
        Err(Status::unimplemented("list_applications"))
    }
    async fn request_re_review(&self, _: Request<pb::RequestReReviewRequest>) -> Res<Application> {
        Err(Status::unimplemented("request_re_review"))
    }
    async fn list_projects(&self, _: Request<pb::ListProjectsRequest>) -> Res<pb::ListProjectsResponse> {
        Err(Status::unimplemented("list_projects"))
    }

    async fn create_unit(&self, req: Request<pb::CreateUnitRequest>) -> Res<Unit> {
        self.need(&req, "DRB")?;
        let r = req.into_inner();
        let mut st = self.state.lock().unwrap();
        if st.units.contains_key(&r.unit_id) {
            return Err(Status::already_exists(format!("unit {} exists", r.unit_id)));
        }
        let u = Unit {
            unit_id: r.unit_id.clone(),
            name: r.name,
            district_budget_unit: r.district_budget_unit,
            etag: "v1".into(),
            created_at: Some(now()),
            ..Default::default()
        };
        st.units.insert(r.unit_id, u.clone());
        Ok(Response::new(u))
    }

    async fn get_unit(&self, req: Request<pb::GetUnitRequest>) -> Res<Unit> {
        self.role(&req)?;
        let id = req.into_inner().unit_id;
        self.state.lock().unwrap().units.get(&id).cloned().map(Response::new).ok_or_else(|| Status::not_found(id))
    }

    async fn list_units(&self, req: Request<pb::ListUnitsRequest>) -> Res<pb::ListUnitsResponse> {
        self.role(&req)?;
        let mut units: Vec<Unit> = self.state.lock().unwrap().units.values().cloned().collect();
        units.sort_by(|a, b| a.unit_id.cmp(&b.unit_id));
        Ok(Response::new(pb::ListUnitsResponse { units, next_page_token: String::new() }))
    }

    async fn open_round(&self, req: Request<pb::OpenRoundRequest>) -> Res<ApplicationRound> {
        self.need(&req, "DRB")?;
        let r = req.into_inner();
        if self.mode == Mode::RoundRefused {
            return Err(refused("the round cannot be opened", &[("R-I3", "target_year", "the round closed on 09-30")]));
        }
        let mut st = self.state.lock().unwrap();
        if st.rounds.iter().any(|x| x.target_year == r.target_year) {
            return Err(Status::already_exists("a round for that year is open"));
        }
        let round = ApplicationRound {
            round_id: self.next(&mut st, "R"),
            target_year: r.target_year,
            deadline: Some(egov_proto::common::CivilDate { year: r.target_year - 1, month: 9, day: 30 }),
            state: pb::RoundState::Open.into(),
            etag: "v1".into(),
            opened_at: Some(now()),
            ..Default::default()
        };
        st.rounds.push(round.clone());
        Ok(Response::new(round))
    }

    async fn list_rounds(&self, req: Request<pb::ListRoundsRequest>) -> Res<pb::ListRoundsResponse> {
        self.role(&req)?;
        Ok(Response::new(pb::ListRoundsResponse { rounds: self.state.lock().unwrap().rounds.clone(), next_page_token: String::new() }))
    }

    async fn create_application(&self, req: Request<pb::CreateApplicationRequest>) -> Res<Application> {
        self.need(&req, "UNIT")?;
        let r = req.into_inner();
        let d = r.draft.ok_or_else(|| Status::invalid_argument("draft"))?;
        let total: i64 = d.budget.iter().map(|l| l.amount_fen).sum();
        let security: i64 = d.budget.iter().filter(|l| l.category == pb::CostCategory::Security as i32).map(|l| l.amount_fen).sum();
        let mut st = self.state.lock().unwrap();
        let id = self.next(&mut st, "A");
        let app = Application {
            application_id: id.clone(),
            project_id: id.clone(),
            lead_unit_id: r.lead_unit_id,
            name: d.name,
            category: d.category,
            build_type: d.build_type,
            funding_source: d.funding_source,
            fast_track_grounds: d.fast_track_grounds,
            necessity: d.necessity,
            modules: d.modules,
            budget: d.budget,
            total_budget_fen: total,
            security_budget_fen: security,
            security_share_bp: if total > 0 { (security * 10_000 / total) as i32 } else { 0 },
            state: ApplicationState::Draft.into(),
            etag: "v0".into(),
            created_at: Some(now()),
            ..Default::default()
        };
        st.apps.insert(id.clone(), app.clone());
        st.timeline.insert(
            id,
            vec![TimelineEntry {
                event_type: "intake.application.created".into(),
                producer: "intake".into(),
                occurred_at: Some(now()),
                status: "申报".into(),
                ..Default::default()
            }],
        );
        Ok(Response::new(app))
    }

    async fn get_application(&self, req: Request<pb::GetApplicationRequest>) -> Res<Application> {
        self.role(&req)?;
        let id = req.into_inner().application_id;
        let st = self.state.lock().unwrap();
        let mut app = st.apps.get(&id).cloned().ok_or_else(|| Status::not_found(id.clone()))?;
        app.documents = st.docs.values().filter(|(d, _)| d.application_id == id).map(|(d, _)| d.clone()).collect();
        Ok(Response::new(app))
    }

    async fn upload_document(&self, req: Request<tonic::Streaming<pb::UploadDocumentRequest>>) -> Res<Document> {
        self.need(&req, "UNIT")?;
        let mut stream = req.into_inner();
        let header = match stream.message().await? {
            Some(pb::UploadDocumentRequest { part: Some(pb::upload_document_request::Part::Header(h)) }) => h,
            _ => {
                return Err(Status::invalid_argument("the first message must be the header"));
            }
        };
        let mut content = Vec::new();
        let mut sizes = Vec::new();
        while let Some(m) = stream.message().await? {
            match m.part {
                Some(pb::upload_document_request::Part::Chunk(c)) => {
                    sizes.push(c.len());
                    content.extend_from_slice(&c);
                }
                _ => return Err(Status::invalid_argument("a second header")),
            }
        }
        let mut st = self.state.lock().unwrap();
        if !st.apps.contains_key(&header.application_id) {
            return Err(Status::not_found(header.application_id));
        }
        st.chunks.extend(sizes);
        let doc = Document {
            document_id: self.next(&mut st, "D"),
            application_id: header.application_id,
            kind: header.kind,
            file_name: header.file_name,
            content_type: header.content_type,
            size_bytes: content.len() as i64,
            sha256: format!("fake-sha256-{}", content.len()),
            sm3: format!("fake-sm3-{}", content.len()),
            street: header.street,
            uploaded_by: "civil-sample-walk".into(),
            uploaded_at: Some(now()),
        };
        st.docs.insert(doc.document_id.clone(), (doc.clone(), content));
        Ok(Response::new(doc))
    }

    type DownloadDocumentStream = Pin<Box<dyn Stream<Item = Result<pb::DownloadDocumentResponse, Status>> + Send>>;

    async fn download_document(&self, req: Request<pb::DownloadDocumentRequest>) -> Res<Self::DownloadDocumentStream> {
        self.role(&req)?;
        let id = req.into_inner().document_id;
        let (doc, content) = self.state.lock().unwrap().docs.get(&id).cloned().ok_or_else(|| Status::not_found(id))?;
        use pb::download_document_response::Part;
        let mut msgs = vec![Ok(pb::DownloadDocumentResponse { part: Some(Part::Document(doc)) })];
        msgs.extend(content.chunks(64 * 1024).map(|c| Ok(pb::DownloadDocumentResponse { part: Some(Part::Chunk(c.to_vec())) })));
        Ok(Response::new(Box::pin(tokio_stream::iter(msgs))))
    }

    async fn list_documents(&self, req: Request<pb::ListDocumentsRequest>) -> Res<pb::ListDocumentsResponse> {
        self.role(&req)?;
        let id = req.into_inner().application_id;
        let mut documents: Vec<Document> =
            self.state.lock().unwrap().docs.values().filter(|(d, _)| d.application_id == id).map(|(d, _)| d.clone()).collect();
        documents.sort_by(|a, b| a.document_id.cmp(&b.document_id));
        Ok(Response::new(pb::ListDocumentsResponse { documents }))
    }

    async fn record_leader_consent(&self, req: Request<pb::RecordLeaderConsentRequest>) -> Res<Application> {
        self.need(&req, "LEADER")?;
        let r = req.into_inner();
        self.transition(&r.application_id, "", "intake.application.leader_consented", |a| {
            a.leader_consent_recorded = true;
            Ok(())
        })
    }

    async fn request_supplementary(&self, req: Request<pb::RequestSupplementaryRequest>) -> Res<Application> {
        self.need(&req, "UNIT")?;
        let r = req.into_inner();
        self.transition(&r.application_id, &r.etag, "intake.application.supplementary_requested", |a| {
            if a.state != ApplicationState::Draft as i32 || r.urgency_justification.chars().count() < 10 {
                return Err(Status::failed_precondition("a draft with a justification of at least 10 characters"));
            }
            a.state = ApplicationState::AwaitingSupplementaryDecision.into();
            a.urgency_justification = r.urgency_justification.clone();
            Ok(())
        })
    }

    async fn decide_supplementary(&self, req: Request<pb::DecideSupplementaryRequest>) -> Res<Application> {
        self.need(&req, "DRB")?;
        let r = req.into_inner();
        self.transition(&r.application_id, &r.etag, "intake.application.supplementary_decided", |a| {
            if a.state != ApplicationState::AwaitingSupplementaryDecision as i32 {
                return Err(Status::failed_precondition("no request awaits a decision"));
            }
            a.state = ApplicationState::Draft.into();
            a.supplementary = r.accepted;
            Ok(())
        })
    }

    async fn submit_application(&self, req: Request<pb::SubmitApplicationRequest>) -> Res<Application> {
        self.need(&req, "UNIT")?;
        let r = req.into_inner();
        let kinds: Vec<i32> =
            self.state.lock().unwrap().docs.values().filter(|(d, _)| d.application_id == r.application_id).map(|(d, _)| d.kind).collect();
        let mode = self.mode;
        self.transition(&r.application_id, &r.etag, "intake.application.submitted", |a| {
            let mut v: Vec<(&str, &str, &str)> = Vec::new();
            if r.round_id.is_empty() && !a.supplementary {
                v.push(("R-I3", "round_id", "outside an open round a submission needs an accepted supplementary request"));
            }
            if !r.round_id.is_empty() && mode == Mode::SubmitRefusedForDate {
                v.push(("R-I3", "round_id", "the round's deadline has passed; apply as a supplementary project"));
            }
            if !kinds.contains(&(DocumentKind::ApplicationForm as i32)) {
                v.push(("R-I4", "documents", "the application form is not uploaded"));
            }
            if !kinds.contains(&(DocumentKind::FeasibilityReport as i32)) {
                v.push(("R-I4", "documents", "the feasibility study report is not uploaded"));
            }
            if !a.leader_consent_recorded {
                v.push(("R-I6", "leader_consent", "needs the consent of the district leader in charge"));
            }
            if !v.is_empty() {
                return Err(refused("the submission is refused", &v));
            }
            a.state = ApplicationState::Submitted.into();
            a.round_id = r.round_id.clone();
            a.submitted_at = Some(now());
            Ok(())
        })
    }

    async fn get_compliance_checklist(&self, req: Request<pb::GetComplianceChecklistRequest>) -> Res<ComplianceChecklist> {
        self.role(&req)?;
        let items =
            ["SCOPE", "DOSSIER", "BUDGET"].iter().map(|c| ChecklistItem { code: c.to_string(), title: format!("{c} 审核要点") }).collect();
        Ok(Response::new(ComplianceChecklist { policy_version: "2026.1-draft".into(), items }))
    }

    async fn decide_compliance(&self, req: Request<pb::DecideComplianceRequest>) -> Res<Application> {
        self.need(&req, "DRB")?;
        let r = req.into_inner();
        self.transition(&r.application_id, &r.etag, "intake.application.compliance_passed", |a| {
            let mut codes: Vec<&str> = r.results.iter().map(|x| x.code.as_str()).collect();
            codes.sort();
            if codes != ["BUDGET", "DOSSIER", "SCOPE"] {
                return Err(invalid(
                    "the results do not match the checklist",
                    "results",
                    &format!("answer every item exactly once; got {codes:?}"),
                ));
            }
            let passed = r.results.iter().all(|x| x.passed);
            a.state = if passed { ApplicationState::CompliancePassed } else { ApplicationState::ComplianceFailed }.into();
            a.decisions.push(ComplianceDecision {
                round: 1,
                passed,
                results: r.results.clone(),
                comment: r.comment.clone(),
                decided_by: "drb".into(),
                decided_at: Some(now()),
                policy_version: "2026.1-draft".into(),
            });
            Ok(())
        })
    }

    async fn get_project_status(&self, req: Request<pb::GetProjectStatusRequest>) -> Res<ProjectStatus> {
        self.role(&req)?;
        let id = req.into_inner().project_id;
        let st = self.state.lock().unwrap();
        let app = st.apps.get(&id).ok_or_else(|| Status::not_found(id.clone()))?;
        let timeline = st.timeline.get(&id).cloned().unwrap_or_default();
        Ok(Response::new(ProjectStatus {
            project_id: id,
            name: app.name.clone(),
            lead_unit_id: app.lead_unit_id.clone(),
            status: timeline.last().map(|t| t.status.clone()).unwrap_or_default(),
            timeline,
        }))
    }
}

#[tonic::async_trait]
impl Operations for Fake {
    async fn list_dead_events(&self, _: Request<ListDeadEventsRequest>) -> Res<ListDeadEventsResponse> {
        Ok(Response::new(ListDeadEventsResponse::default()))
    }
    async fn redrive_dead_events(&self, r: Request<RedriveDeadEventsRequest>) -> Res<RedriveDeadEventsResponse> {
        Ok(Response::new(RedriveDeadEventsResponse { redriven: r.into_inner().event_ids.len() as i64 }))
    }
    async fn get_clock(&self, req: Request<GetClockRequest>) -> Res<ClockReading> {
        self.need(&req, "OPERATOR")?;
        Ok(Response::new(ClockReading { now: Some(now()), offset_seconds: 0, adjustable: true, policy_version: "2026.1-draft".into() }))
    }
    async fn advance_clock(&self, r: Request<AdvanceClockRequest>) -> Res<ClockReading> {
        Ok(Response::new(ClockReading {
            now: Some(now()),
            offset_seconds: r.into_inner().seconds,
            adjustable: true,
            policy_version: "x".into(),
        }))
    }
}

#[tonic::async_trait]
impl AuditTrail for Fake {
    async fn list_audit_records(&self, _: Request<ListAuditRecordsRequest>) -> Res<ListAuditRecordsResponse> {
        let rec = AuditRecord {
            seq: 1,
            at: Some(now()),
            actor: "drb".into(),
            role: "DRB".into(),
            action: "CreateUnit".into(),
            details_json: r#"{"unit_id":"U-CIVIL"}"#.into(),
            ..Default::default()
        };
        Ok(Response::new(ListAuditRecordsResponse { records: vec![rec], next_page_token: String::new() }))
    }
    async fn list_denied_calls(
        &self,
        _: Request<egov_proto::common::ListDeniedCallsRequest>,
    ) -> Res<egov_proto::common::ListDeniedCallsResponse> {
        Err(tonic::Status::unimplemented("egovctl has no command for refused calls; the fake does not serve them"))
    }
    async fn verify_audit_trail(&self, _: Request<VerifyAuditTrailRequest>) -> Res<VerifyAuditTrailResponse> {
        Ok(Response::new(VerifyAuditTrailResponse {
            intact: false,
            records_checked: 9,
            first_broken_seq: 7,
            detail: "hash mismatch".into(),
            chains_checked: 2,
            broken_chains: vec![egov_proto::common::BrokenAuditChain {
                chain: "p-1".into(),
                chain_seq: 3,
                seq: 7,
                detail: "record 3 of the chain was altered".into(),
            }],
            ..Default::default()
        }))
    }
}

/// Serves the fake, reporting SERVING, on a free port for the life of the test process.
fn serve(mode: Mode) -> (SocketAddr, Fake) {
    let fake = Fake::new(mode);
    let served = fake.clone();
    let addr = common::serve(move || async move {
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter.set_service_status("", tonic_health::ServingStatus::Serving).await;
        Server::builder()
            .add_service(health)
            .add_service(IntakeServer::new(served.clone()))
            .add_service(OperationsServer::new(served.clone()))
            .add_service(AuditTrailServer::new(served))
    });
    (addr, fake)
}

// ------------------------------------------------------------------ running the binary

/// Runs egovctl with intake at `addr`.
fn ctl(addr: SocketAddr, token: Option<&str>, args: &[&str]) -> Output {
    common::egovctl(&[(INTAKE, addr)], token, args)
}

/// `egovctl token`: signed with the local development secret the fake checks (the secret of
/// the environment running the tests is left out).
fn token(role: &str, unit: Option<&str>) -> String {
    let mut args = vec!["token", "--role", role];
    if let Some(u) = unit {
        args.extend(["--unit", u]);
    }
    let o = common::egovctl(&[], None, &args);
    assert!(o.status.success());
    String::from_utf8(o.stdout).expect("utf-8").trim().to_string()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("egovctl-{name}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn new_application(addr: SocketAddr, unit: &str) -> (String, String) {
    let draft = root().join("deploy/local/sample-draft.json");
    let a = ok(&ctl(addr, Some(unit), &["--json", "applications", "create", "--unit", "U-CIVIL", "--draft", draft.to_str().unwrap()]));
    (a["application_id"].as_str().unwrap().to_string(), a["etag"].as_str().unwrap().to_string())
}

// ------------------------------------------------------------------ tests

#[test]
fn documents_stream_in_64k_chunks_and_come_back_unchanged() {
    let (addr, fake) = serve(Mode::RoundOpen);
    let unit = token("UNIT", Some("U-CIVIL"));
    let (app, _) = new_application(addr, &unit);
    let dir = scratch("docs");
    let src = dir.join("可行性研究报告.pdf");
    let content: Vec<u8> = (0..200 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&src, &content).unwrap();

    let d = ok(&ctl(
        addr,
        Some(&unit),
        &["--json", "documents", "upload", "--application", &app, "--kind", "FEASIBILITY_REPORT", "--file", src.to_str().unwrap()],
    ));
    assert_eq!(d["kind"], "DOCUMENT_KIND_FEASIBILITY_REPORT");
    assert_eq!(d["file_name"], "可行性研究报告.pdf");
    assert_eq!(d["content_type"], "application/pdf");
    assert_eq!(d["size_bytes"], 200 * 1024);
    assert_eq!(fake.state.lock().unwrap().chunks, vec![65_536, 65_536, 65_536, 8_192]);

    let doc_id = d["document_id"].as_str().unwrap().to_string();
    let out = dir.join("copy.pdf");
    let r = ok(&ctl(addr, Some(&unit), &["--json", "documents", "download", &doc_id, "--out", out.to_str().unwrap()]));
    assert_eq!(r["bytes_written"], 200 * 1024);
    assert_eq!(std::fs::read(&out).unwrap(), content);
    // An existing file is kept unless --force.
    let again = ctl(addr, Some(&unit), &["documents", "download", &doc_id, "--out", out.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "{}", String::from_utf8_lossy(&again.stderr));
    ok(&ctl(addr, Some(&unit), &["documents", "download", &doc_id, "--out", out.to_str().unwrap(), "--force"]));

    let list = String::from_utf8(ctl(addr, Some(&unit), &["documents", "list", "--application", &app]).stdout).unwrap();
    assert!(list.starts_with("DOCUMENT") && list.contains("FEASIBILITY_REPORT") && list.contains("可行性研究报告.pdf"), "{list}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn refusals_show_rules_and_exit_1() {
    let (addr, _) = serve(Mode::RoundOpen);
    let unit = token("UNIT", Some("U-CIVIL"));
    let (app, etag) = new_application(addr, &unit);

    let o = ctl(addr, Some(&unit), &["submit", &app, "--etag", &etag]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.starts_with("error: FAILED_PRECONDITION (9): the submission is refused\n"), "{err}");
    for line in ["  R-I3 [round_id]:", "  R-I4 [documents]: the application form is not uploaded", "  R-I6 [leader_consent]:"] {
        assert!(err.contains(line), "missing {line:?} in\n{err}");
    }

    let o = ctl(addr, Some(&unit), &["--json", "submit", &app, "--etag", &etag]);
    assert_eq!(o.status.code(), Some(1));
    let e: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap();
    assert_eq!(e["code"], "FAILED_PRECONDITION");
    assert_eq!(e["precondition_violations"][0]["rule_id"], "R-I3");

    // A stale etag is ABORTED, with advice.
    let o = ctl(addr, Some(&unit), &["supplementary", "request", &app, "--etag", "v-old", "--justification", "紧急任务需要，一事一议处理"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("hint: the resource changed"));

    // Bad-request fields are listed.
    let drb = token("DRB", None);
    let o = ctl(addr, Some(&drb), &["compliance", "decide", &app, "--etag", &etag, "SCOPE=pass"]);
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("invalid fields:\n  results: answer every item exactly once"), "{err}");

    // No token: UNAUTHENTICATED with a hint.
    let o = ctl(addr, None, &["units", "list"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("UNAUTHENTICATED") && err.contains("hint: pass a token"), "{err}");
}

#[test]
fn usage_errors_exit_2_and_name_the_problem() {
    let (addr, _) = serve(Mode::RoundOpen);
    let unit = token("UNIT", Some("U-CIVIL"));
    let dir = scratch("usage");
    let bad = dir.join("draft.json");
    std::fs::write(&bad, r#"{"name":"x","category":"GAME","budget":[{"category":"SECURITY","amount_fen":100}]}"#).unwrap();
    let o = ctl(addr, Some(&unit), &["applications", "create", "--unit", "U-CIVIL", "--draft", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("draft.category: unknown value \"GAME\""), "{err}");

    let o = ctl(addr, Some(&unit), &["applications", "create", "--unit", "U-CIVIL", "--draft", "/nonexistent/draft.json"]);
    assert_eq!(o.status.code(), Some(2));
    let o = ctl(addr, Some(&unit), &["compliance", "decide", "A", "--etag", "e", "SCOPE=maybe"]);
    assert_eq!(o.status.code(), Some(2));
    let o = ctl(addr, Some(&unit), &["documents", "upload", "--application", "A", "--kind", "OTHER", "--file", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "a directory is not a file");
    let o = ctl(addr, Some(&unit), &["--endpoint", "http://exa mple", "units", "list"]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn health_audit_and_operations() {
    let (addr, _) = serve(Mode::RoundOpen);
    let o = ctl(addr, None, &["health"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "SERVING\n");
    assert!(o.status.success());

    let op = token("OPERATOR", None);
    let clock = ok(&ctl(addr, Some(&op), &["--json", "ops", "clock", "get"]));
    assert_eq!(clock["adjustable"], true);
    let adv = ok(&ctl(addr, Some(&op), &["--json", "ops", "clock", "advance", "--days", "2"]));
    assert_eq!(adv["offset_seconds"], 172_800);
    let r = ok(&ctl(addr, Some(&op), &["--json", "ops", "dead-events", "redrive", "e1", "e2"]));
    assert_eq!(r["redriven"], 2);
    assert!(String::from_utf8_lossy(&ctl(addr, Some(&op), &["ops", "dead-events", "list"]).stdout).contains("no dead events"));

    let audit = token("AUDIT", None);
    let recs = ok(&ctl(addr, Some(&audit), &["--json", "audit", "list"]));
    assert_eq!(recs["records"][0]["details"]["unit_id"], "U-CIVIL");
    let v = ctl(addr, Some(&audit), &["audit", "verify"]);
    assert_eq!(v.status.code(), Some(1), "a broken chain exits 1");
    assert!(String::from_utf8_lossy(&v.stdout).contains("BROKEN at record 7"));
    assert!(String::from_utf8_lossy(&v.stdout).contains("chain p-1: record 3 of the chain (seq 7)"));

    // Nothing listens here: a clear message, exit 1.
    let closed = closed();
    let o = ctl(closed, None, &["health"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("cannot reach http://{closed}")));
}

/// Runs deploy/local/sample-walk.sh against the fake (bash and python3 are required).
fn walk(mode: Mode) -> Option<String> {
    for tool in ["bash", "python3"] {
        assert!(Command::new(tool).arg("--version").output().is_ok(), "the sample walk needs {tool}: deploy/local/setup.sh installs it");
    }
    let (addr, _) = serve(mode);
    // The fake is intake only: review is somewhere nothing listens, so each project's walk ends
    // at compliance (and a review service running on this machine is left alone).
    let no_review = closed();
    let o = Command::new("bash")
        .arg(root().join("deploy/local/sample-walk.sh"))
        .env("EGOVCTL", env!("CARGO_BIN_EXE_egovctl"))
        .env("EGOVCTL_ENDPOINT", format!("http://{addr}"))
        .env("EGOVCTL_REVIEW_ENDPOINT", format!("http://{no_review}"))
        .env("EGOVCTL_PROCUREMENT_ENDPOINT", format!("http://{}", closed()))
        .env("EGOVCTL_ACCEPTANCE_ENDPOINT", format!("http://{}", closed()))
        .env("EGOVCTL_EVALUATION_ENDPOINT", format!("http://{}", closed()))
        .env_remove("EGOV_TOKEN")
        .env_remove("EGOV_AUTH__HS256_SECRET")
        .output()
        .expect("run sample-walk.sh");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "sample-walk.sh failed:\n{out}\n{}", String::from_utf8_lossy(&o.stderr));
    println!("{out}");
    assert!(out.contains("sample walk done"), "{out}");
    assert!(out.contains("intake.application.compliance_passed"), "the timeline is printed:\n{out}");
    // Both samples are walked through intake; review is skipped, saying so.
    assert!(out.contains("drafts an application from deploy/local/sample-draft.json"), "{out}");
    assert!(out.contains("drafts an application from deploy/local/sample-draft-fast-track.json"), "{out}");
    assert!(out.contains("fast-track grounds: FAST_TRACK_GROUND_NON_DISTRICT_FUNDING"), "{out}");
    assert!(out.contains(&format!("review is not SERVING at http://{no_review}")), "{out}");
    assert_eq!(out.matches("passed compliance; review not walked").count(), 2, "{out}");
    Some(out)
}

#[test]
fn sample_walk_through_an_open_round() {
    let Some(out) = walk(Mode::RoundOpen) else {
        return;
    };
    assert!(out.contains("UNIT submits the application into round R-"), "{out}");
    assert!(!out.contains("supplementary project, with an urgency"), "{out}");
}

#[test]
fn sample_walk_when_the_round_cannot_be_opened() {
    let Some(out) = walk(Mode::RoundRefused) else {
        return;
    };
    assert!(out.contains("cannot be opened") && out.contains("R-I3 [target_year]"), "{out}");
    assert!(out.contains("DRB accepts the supplementary request"), "{out}");
    assert!(out.contains("UNIT submits the supplementary application (no round)"), "{out}");
}

#[test]
fn sample_walk_when_the_round_refuses_the_date() {
    let Some(out) = walk(Mode::SubmitRefusedForDate) else {
        return;
    };
    assert!(out.contains("the round refuses the submission for the date"), "{out}");
    assert!(out.contains("UNIT submits the supplementary application (no round)"), "{out}");
}
