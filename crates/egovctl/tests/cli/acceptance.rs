//! The `acceptance` commands of the `egovctl` binary: usage errors exit 2 before anything is
//! called, naming the flag or the field of the input file; well-formed commands go to
//! --acceptance-endpoint / EGOVCTL_ACCEPTANCE_ENDPOINT (not to --endpoint); and against an
//! in-memory fake of the acceptance service, the requests carry what the command line and the
//! panel files say (dates, fen, etags, the panel member by member), files are streamed in 64 KiB
//! chunks whose concatenation is the file, downloads are kept only when whole, the answers print
//! as tables or JSON, and refusals print their rule ids.
//!
//! The fake checks what a client must get right (bearer tokens, etags, the request fields, the
//! streams), not the Measures: those are the acceptance service's own tests.

use crate::common;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    pin::Pin,
    process::Output,
    sync::{Arc, Mutex},
};

use egov_proto::{
    acceptance::{
        self as pb, AcceptanceApplication, AcceptanceCase, AcceptanceRecord, ApplicationCheck, CaseState, Channel, Filing,
        InitialAcceptance, Material, MaterialKind, PanelMember, ReportSource, Specialty, TrialOperation,
        acceptance_server::{Acceptance, AcceptanceServer},
    },
    common::CivilDate,
};
use tokio_stream::Stream;
use tonic::{Request, Response, Status, transport::Server};

use crate::common::{ACCEPTANCE, INTAKE, PROCUREMENT, REVIEW, closed, ok, refused, root, stderr, stdout};

// ------------------------------------------------------------------ the fake service

const PROJECT: &str = "0193a6f0-0000-7000-8000-000000000001";
const NAME: &str = "上城区社会救助综合服务应用（浙政钉端）";
const CHUNK: usize = 64 * 1024;

/// A stream's header and the sizes and bytes of its chunks, as received.
#[derive(Clone)]
struct Streamed<H> {
    header: H,
    chunks: Vec<usize>,
    content: Vec<u8>,
}

#[derive(Default)]
struct State {
    case: AcceptanceCase,
    /// Materials stored, with their content.
    stored: Vec<(Material, Vec<u8>)>,
    /// The last request of each kind, as received.
    list: Option<pb::ListCasesRequest>,
    upload: Option<Streamed<pb::MaterialHeader>>,
    deposit: Option<Streamed<pb::TrialReportHeader>>,
    initial: Option<pb::RecordInitialAcceptanceRequest>,
    apply: Option<pb::ApplyForAcceptanceRequest>,
    review: Option<pb::ReviewApplicationRequest>,
    record: Option<pb::RecordAcceptanceRequest>,
    /// Authorization headers seen.
    tokens: Vec<String>,
}

#[derive(Clone, Default)]
struct Fake {
    state: Arc<Mutex<State>>,
}

type Res<T> = Result<Response<T>, Status>;

fn date(year: i32, month: i32, day: i32) -> Option<CivilDate> {
    Some(CivilDate { year, month, day })
}

/// Today, for the fake: every filing is made on 2027-11-19.
const TODAY: CivilDate = CivilDate { year: 2027, month: 11, day: 19 };

fn days(d: &Option<CivilDate>) -> i64 {
    let d = d.unwrap_or_default();
    let month = time::Month::try_from(u8::try_from(d.month).unwrap_or(1)).unwrap();
    time::Date::from_calendar_date(d.year, month, u8::try_from(d.day).unwrap_or(1)).unwrap().to_julian_day().into()
}

/// R-P5 as the fake has it: five days from production (the real calendar is the service's).
fn filing(produced_on: Option<CivilDate>) -> Filing {
    let p = produced_on.unwrap_or_default();
    let deadline = CivilDate { day: p.day + 5, ..p };
    Filing {
        produced_on,
        filed_on: Some(TODAY),
        deadline: Some(deadline),
        late: days(&Some(TODAY)) > days(&Some(deadline)),
        provisional_years: vec![],
    }
}

/// Reads an upload stream: its header, then chunks.
async fn receive<M, H>(mut stream: tonic::Streaming<M>, split: impl Fn(M) -> Option<Result<H, Vec<u8>>>) -> Result<Streamed<H>, Status> {
    let header = match stream.message().await?.and_then(&split) {
        Some(Ok(h)) => h,
        _ => return Err(Status::invalid_argument("the first message must be the header")),
    };
    let mut got = Streamed { header, chunks: Vec::new(), content: Vec::new() };
    while let Some(m) = stream.message().await? {
        match split(m) {
            Some(Err(c)) => {
                got.chunks.push(c.len());
                got.content.extend_from_slice(&c);
            }
            _ => return Err(Status::invalid_argument("a second header")),
        }
    }
    Ok(got)
}

impl Fake {
    /// Every call needs a bearer token: the token (after `Bearer `) and the request.
    fn authed<T>(&self, req: Request<T>) -> Result<(String, T), Status> {
        let h = req.metadata().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let Some(token) = h.strip_prefix("Bearer ") else {
            return Err(Status::unauthenticated("no bearer token"));
        };
        let token = token.to_string();
        self.state.lock().unwrap().tokens.push(h);
        Ok((token, req.into_inner()))
    }

    /// Runs `f` on the case when `etag` is current and bumps the etag.
    fn update(&self, project_id: &str, etag: &str, f: impl FnOnce(&mut AcceptanceCase) -> Result<(), Status>) -> Res<AcceptanceCase> {
        let mut st = self.state.lock().unwrap();
        if project_id != st.case.project_id {
            return Err(Status::not_found(format!("no acceptance case {project_id}")));
        }
        if etag != st.case.etag {
            return Err(Status::aborted(format!("the case has etag {}, the request sent {etag}", st.case.etag)));
        }
        f(&mut st.case)?;
        st.case.etag = (st.case.etag.parse::<u32>().unwrap_or(0) + 1).to_string();
        Ok(Response::new(st.case.clone()))
    }

    /// Stores a material for the case and returns it.
    fn store(&self, header: (String, i32, String, String, Option<CivilDate>), content: Vec<u8>, source: i32, by: &str) -> Material {
        let mut st = self.state.lock().unwrap();
        let (project_id, kind, file_name, content_type, produced_on) = header;
        let m = Material {
            document_id: format!("D{}", st.stored.len() + 1),
            project_id,
            kind,
            file_name,
            content_type,
            size_bytes: content.len() as i64,
            sha256: format!("fake-sha256-{}", content.len()),
            sm3: format!("fake-sm3-{}", content.len()),
            filing: Some(filing(produced_on)),
            source,
            uploaded_by: by.into(),
            uploaded_at: None,
        };
        st.stored.push((m.clone(), content));
        st.case.materials.push(m.clone());
        m
    }
}

type Download = Pin<Box<dyn Stream<Item = Result<pb::DownloadMaterialResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Acceptance for Fake {
    async fn get_case(&self, req: Request<pb::GetCaseRequest>) -> Res<AcceptanceCase> {
        let (_, r) = self.authed(req)?;
        let st = self.state.lock().unwrap();
        if r.project_id != st.case.project_id {
            return Err(Status::not_found(format!("no acceptance case {}", r.project_id)));
        }
        Ok(Response::new(st.case.clone()))
    }

    async fn list_cases(&self, req: Request<pb::ListCasesRequest>) -> Res<pb::ListCasesResponse> {
        let (_, r) = self.authed(req)?;
        let mut st = self.state.lock().unwrap();
        st.list = Some(r.clone());
        let fits = (r.state == 0 || r.state == st.case.state) && (r.unit_id.is_empty() || r.unit_id == st.case.lead_unit_id);
        let cases = if fits { vec![st.case.clone()] } else { vec![] };
        Ok(Response::new(pb::ListCasesResponse { cases, next_page_token: if fits { "page-2".into() } else { String::new() } }))
    }

    async fn upload_material(&self, req: Request<tonic::Streaming<pb::UploadMaterialRequest>>) -> Res<Material> {
        let (token, stream) = self.authed(req)?;
        use pb::upload_material_request::Part;
        let got = receive(stream, |m: pb::UploadMaterialRequest| match m.part? {
            Part::Header(h) => Some(Ok(h)),
            Part::Chunk(c) => Some(Err(c)),
        })
        .await?;
        self.state.lock().unwrap().upload = Some(got.clone());
        let h = got.header;
        if h.project_name != NAME {
            return Err(refused(
                "the material is refused",
                &[(
                    "R-P5",
                    "header.project_name",
                    &format!("the material names {:?}; the approval document names {NAME:?}", h.project_name),
                )],
            ));
        }
        let m = self.store((h.project_id, h.kind, h.file_name, h.content_type, h.produced_on), got.content, 0, &token);
        Ok(Response::new(m))
    }

    async fn list_materials(&self, req: Request<pb::ListMaterialsRequest>) -> Res<pb::ListMaterialsResponse> {
        let (_, r) = self.authed(req)?;
        let st = self.state.lock().unwrap();
        let materials = st.stored.iter().filter(|(m, _)| m.project_id == r.project_id).map(|(m, _)| m.clone()).collect();
        Ok(Response::new(pb::ListMaterialsResponse { materials }))
    }

    type DownloadMaterialStream = Download;

    async fn download_material(&self, req: Request<pb::DownloadMaterialRequest>) -> Res<Download> {
        use pb::download_material_response::Part;
        let (_, r) = self.authed(req)?;
        let msg = |p: Part| Ok(pb::DownloadMaterialResponse { part: Some(p) });
        let (m, content) = match r.document_id.as_str() {
            // Announces more than it sends: the stream ends early.
            "D-SHORT" => {
                let m = Material { document_id: "D-SHORT".into(), file_name: "短.pdf".into(), size_bytes: 10, ..Default::default() };
                return Ok(Response::new(Box::pin(tokio_stream::iter(vec![msg(Part::Material(m)), msg(Part::Chunk(b"12345".to_vec()))]))));
            }
            // Fails mid-stream, as the service does when the stored hashes do not match.
            "D-BROKEN" => {
                let m = Material { document_id: "D-BROKEN".into(), size_bytes: 10, ..Default::default() };
                return Ok(Response::new(Box::pin(tokio_stream::iter(vec![
                    msg(Part::Material(m)),
                    msg(Part::Chunk(b"12345".to_vec())),
                    Err(Status::data_loss("the stored content does not match its SHA-256")),
                ]))));
            }
            id => self
                .state
                .lock()
                .unwrap()
                .stored
                .iter()
                .find(|(m, _)| m.document_id == id)
                .cloned()
                .ok_or_else(|| Status::not_found(format!("no material {id}")))?,
        };
        let mut msgs = vec![msg(Part::Material(m))];
        msgs.extend(content.chunks(CHUNK).map(|c| msg(Part::Chunk(c.to_vec()))));
        Ok(Response::new(Box::pin(tokio_stream::iter(msgs))))
    }

    async fn record_initial_acceptance(&self, req: Request<pb::RecordInitialAcceptanceRequest>) -> Res<AcceptanceCase> {
        let (token, r) = self.authed(req)?;
        self.state.lock().unwrap().initial = Some(r.clone());
        if !r.panel.iter().any(|m| m.specialties.contains(&(Specialty::Cybersecurity as i32))) {
            return Err(refused(
                "the initial acceptance is refused",
                &[("R-A1", "panel", "the panel has no 网络安全 (cybersecurity) expert")],
            ));
        }
        self.update(&r.project_id, &r.etag, |k| {
            let passed = r.panel.iter().filter(|m| m.passes).count() * 2 > r.panel.len();
            k.initial_acceptances.push(InitialAcceptance {
                held_on: r.held_on,
                panel: r.panel.clone(),
                passed,
                conclusion: r.conclusion.clone(),
                recorded_by: token,
                recorded_at: None,
            });
            if passed {
                k.state = CaseState::TrialOperation as i32;
                k.trial = Some(TrialOperation { started_on: r.held_on, completes_on: date(2027, 12, 10), ..Default::default() });
            }
            Ok(())
        })
    }

    async fn deposit_trial_report(&self, req: Request<tonic::Streaming<pb::DepositTrialReportRequest>>) -> Res<Material> {
        let (token, stream) = self.authed(req)?;
        let source = match token.as_str() {
            "province-token" => ReportSource::ProvincialSystem,
            "drb-token" => ReportSource::Manual,
            _ => return Err(Status::permission_denied("DepositTrialReport is for PROVINCE and DRB")),
        };
        use pb::deposit_trial_report_request::Part;
        let got = receive(stream, |m: pb::DepositTrialReportRequest| match m.part? {
            Part::Header(h) => Some(Ok(h)),
            Part::Chunk(c) => Some(Err(c)),
        })
        .await?;
        self.state.lock().unwrap().deposit = Some(got.clone());
        let h = got.header;
        let covered = days(&h.period_to) - days(&h.period_from) + 1;
        if covered < 30 {
            return Err(refused(
                "the trial-operation report is refused",
                &[("R-A2", "header.period_to", &format!("the report covers {covered} days of the trial; at least 30"))],
            ));
        }
        let kind = MaterialKind::TrialOperationReport as i32;
        let m = self.store((h.project_id, kind, h.file_name, h.content_type, h.produced_on), got.content, source as i32, &token);
        let mut st = self.state.lock().unwrap();
        if let Some(t) = st.case.trial.as_mut() {
            t.report_document_id = m.document_id.clone();
            t.report_source = source as i32;
        }
        Ok(Response::new(m))
    }

    async fn apply_for_acceptance(&self, req: Request<pb::ApplyForAcceptanceRequest>) -> Res<AcceptanceCase> {
        let (_, r) = self.authed(req)?;
        self.state.lock().unwrap().apply = Some(r.clone());
        let modules = ["救助申请", "审核审批", "数据比对"];
        let missing: Vec<&str> = modules.iter().copied().filter(|m| !r.built_modules.iter().any(|b| b == m)).collect();
        let mut v = Vec::new();
        if r.partial {
            v.push(("R-A3", "partial", "整体验收 / whole project: acceptance is of the whole project, never of a part".to_string()));
        }
        if !missing.is_empty() {
            v.push((
                "R-A3",
                "built_modules",
                format!("建设内容 / everything approved is built: not declared built: {}", missing.join("、")),
            ));
        }
        if !r.goals_met {
            v.push(("R-A3", "goals_met", "建设目标 / goals met: the unit does not state that the goals are met".into()));
        }
        if !v.is_empty() {
            let v: Vec<(&str, &str, &str)> = v.iter().map(|(r, s, m)| (*r, *s, m.as_str())).collect();
            return Err(refused("the application is refused", &v));
        }
        self.update(&r.project_id, &r.etag, |k| {
            k.state = CaseState::ApplicationReview as i32;
            k.function_modules = modules.iter().map(|m| m.to_string()).collect();
            k.operator_unit_id = if r.operator_unit_id.is_empty() { k.lead_unit_id.clone() } else { r.operator_unit_id.clone() };
            k.user_unit_ids = r.user_unit_ids.clone();
            k.applications.push(AcceptanceApplication {
                attempt: k.applications.len() as i32 + 1,
                applied_on: Some(TODAY),
                built_modules: r.built_modules.clone(),
                statement: r.statement.clone(),
                checks: vec![
                    ApplicationCheck { item: "整体验收 / whole project".into(), satisfied: true, detail: "the whole project".into() },
                    ApplicationCheck {
                        item: "建设内容 / everything approved is built".into(),
                        satisfied: true,
                        detail: "all 3 approved function module(s) built".into(),
                    },
                    ApplicationCheck {
                        item: "专家评审意见 / expert opinion (basis)".into(),
                        satisfied: true,
                        detail: "approved on the fast track (R-R5): no expert review opinion".into(),
                    },
                ],
                ..Default::default()
            });
            Ok(())
        })
    }

    async fn review_application(&self, req: Request<pb::ReviewApplicationRequest>) -> Res<AcceptanceCase> {
        let (token, r) = self.authed(req)?;
        self.state.lock().unwrap().review = Some(r.clone());
        self.update(&r.project_id, &r.etag, |k| {
            let a = k.applications.last_mut().ok_or_else(|| Status::failed_precondition("no application"))?;
            a.reviewed = true;
            a.approved = r.approve;
            a.review_reasons = r.reasons.clone();
            a.reviewed_by = token;
            k.state = if r.approve { CaseState::Acceptance } else { CaseState::TrialOperation } as i32;
            Ok(())
        })
    }

    async fn record_acceptance(&self, req: Request<pb::RecordAcceptanceRequest>) -> Res<AcceptanceCase> {
        let (token, r) = self.authed(req)?;
        self.state.lock().unwrap().record = Some(r.clone());
        self.update(&r.project_id, &r.etag, |k| {
            let passed = r.experts.iter().filter(|m| m.passes).count() * 2 > r.experts.len();
            k.acceptances.push(AcceptanceRecord {
                held_on: r.held_on,
                organiser: "DRB".into(),
                drb_joined: r.drb_joined,
                experts: r.experts.clone(),
                passed,
                conclusion: r.conclusion.clone(),
                costs_fen: r.costs_fen,
                recorded_by: token,
            });
            if passed {
                k.state = CaseState::Accepted as i32;
                k.accepted_on = r.held_on;
            }
            Ok(())
        })
    }
}

fn new_case() -> AcceptanceCase {
    AcceptanceCase {
        project_id: PROJECT.into(),
        project_name: NAME.into(),
        lead_unit_id: "U-CIVIL".into(),
        participating_unit_ids: vec!["U-STREET".into()],
        document_number: "上数〔2026〕123号".into(),
        budget_fen: 108_000_000,
        channel: Channel::GovernmentProcurement as i32,
        supplier_name: "杭州某某科技有限公司".into(),
        supplier_credit_code: "91350100M000100Y43".into(),
        supervision_credit_code: "91440101MA5CJQ4N59".into(),
        contract_amount_fen: 97_200_000,
        classified_protection_level: 3,
        construction_completed_on: date(2027, 10, 30),
        state: CaseState::InitialAcceptance as i32,
        etag: "1".into(),
        ..Default::default()
    }
}

/// Serves a fake with one new case on a free port, for the life of the test process.
fn serve() -> (SocketAddr, Fake) {
    let fake = Fake::default();
    fake.state.lock().unwrap().case = new_case();
    let served = fake.clone();
    let addr = common::serve(move || async move { Server::builder().add_service(AcceptanceServer::new(served)) });
    (addr, fake)
}

// ------------------------------------------------------------------ running the binary

/// Runs egovctl with intake, review and procurement at closed ports and acceptance at `acceptance`.
fn ctl<S: AsRef<std::ffi::OsStr>>(acceptance: SocketAddr, token: Option<&str>, args: &[S]) -> Output {
    common::egovctl(&[(INTAKE, closed()), (REVIEW, closed()), (PROCUREMENT, closed()), (ACCEPTANCE, acceptance)], token, args)
}

const UNIT: &str = "unit-token";
const DRB: &str = "drb-token";
const PROVINCE: &str = "province-token";

/// A scratch path of its own for `name`.
fn scratch_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("egovctl-acceptance-{}-{}-{name}", std::process::id(), uuid::Uuid::now_v7()))
}

fn scratch(name: &str, content: &[u8]) -> PathBuf {
    let p = scratch_path(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// Content that differs at every position of a chunk: a chunk out of order or lost shows.
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn sample(name: &str) -> String {
    root().join("crates/egovctl/samples").join(name).to_str().unwrap().to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn members(path: &str) -> Vec<PanelMember> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| PanelMember {
            name: m["name"].as_str().unwrap().into(),
            specialties: m["specialties"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| match s.as_str().unwrap() {
                    "INFORMATION_TECHNOLOGY" | "信息技术" => Specialty::InformationTechnology as i32,
                    "CYBERSECURITY" | "网络安全" => Specialty::Cybersecurity as i32,
                    "BUSINESS_DOMAIN" | "业务领域" => Specialty::BusinessDomain as i32,
                    other => panic!("{other}"),
                })
                .collect(),
            affiliation: m["affiliation"].as_str().unwrap().into(),
            affiliation_credit_code: m["affiliation_credit_code"].as_str().unwrap().into(),
            opinion: m["opinion"].as_str().unwrap().into(),
            passes: m["passes"].as_bool().unwrap(),
        })
        .collect()
}

// ------------------------------------------------------------------ tests without a server

#[test]
fn usage_errors_exit_2_naming_the_flag_before_calling() {
    let nowhere = closed();
    let file = scratch("minutes.pdf", b"%PDF-1.7");
    let upload = |extra: &[&str]| -> Vec<String> {
        ["acceptance", "materials", "upload", PROJECT, "--file", s(&file), "--kind", "initial-minutes"]
            .iter()
            .chain(extra)
            .map(|a| a.to_string())
            .collect()
    };
    let args: Vec<(Vec<String>, &str)> = vec![
        (upload(&["--produced-on", "2027-11-10"]), "--project-name"),
        (upload(&["--project-name", NAME]), "--produced-on"),
        (upload(&["--produced-on", "2027-11-31", "--project-name", NAME]), "--produced-on"),
        (
            [
                "acceptance",
                "materials",
                "upload",
                PROJECT,
                "--file",
                "x",
                "--kind",
                "PHOTO",
                "--produced-on",
                "2027-11-10",
                "--project-name",
                NAME,
            ]
            .map(String::from)
            .to_vec(),
            "--kind",
        ),
        (["acceptance", "cases", "list", "--state", "DONE"].map(String::from).to_vec(), "--state"),
        (["acceptance", "cases", "list", "--page-size", "ten"].map(String::from).to_vec(), "--page-size"),
        (["acceptance", "materials", "download", "D1"].map(String::from).to_vec(), "--out"),
        (["acceptance", "review-application", PROJECT, "--etag", "4"].map(String::from).to_vec(), "--approve"),
        (["acceptance", "review-application", PROJECT, "--etag", "4", "--return"].map(String::from).to_vec(), "--reasons"),
        (
            ["acceptance", "review-application", PROJECT, "--etag", "4", "--approve", "--return", "--reasons", "x"]
                .map(String::from)
                .to_vec(),
            "--return",
        ),
        (
            [
                "acceptance",
                "record-acceptance",
                PROJECT,
                "--etag",
                "5",
                "--held-on",
                "2028-01-20",
                "--experts",
                "e.json",
                "--costs-fen=-100",
            ]
            .map(String::from)
            .to_vec(),
            "--costs-fen",
        ),
        (
            ["acceptance", "record-acceptance", PROJECT, "--etag", "5", "--held-on", "2028-01-20", "--experts", "e.json"]
                .map(String::from)
                .to_vec(),
            "--costs-fen",
        ),
        (["acceptance", "initial-acceptance", PROJECT, "--etag", "1", "--held-on", "2027-11-10"].map(String::from).to_vec(), "--panel"),
        (
            [
                "acceptance",
                "trial-report",
                "deposit",
                PROJECT,
                "--file",
                "r.pdf",
                "--produced-on",
                "2027-12-10",
                "--project-name",
                NAME,
                "--period-from",
                "2027-11-10",
            ]
            .map(String::from)
            .to_vec(),
            "--period-to",
        ),
        (
            ["acceptance", "apply", PROJECT, "--etag", "3", "--built-module", "救助申请", "--built-module", "救助申请"]
                .map(String::from)
                .to_vec(),
            "--built-module \"救助申请\" is given twice",
        ),
        (
            ["acceptance", "apply", PROJECT, "--etag", "3", "--user-unit", "U-A", "--user-unit", "U-A"].map(String::from).to_vec(),
            "--user-unit \"U-A\" is given twice",
        ),
    ];
    for (args, says) in args {
        let o = ctl(nowhere, Some(UNIT), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?} should say {says:?}:\n{}", stderr(&o));
    }

    // Files are read before connecting: a missing file to upload, a missing or malformed panel.
    let o = ctl(
        nowhere,
        Some(UNIT),
        &[
            "acceptance",
            "materials",
            "upload",
            PROJECT,
            "--file",
            "/nonexistent/x.pdf",
            "--kind",
            "OTHER",
            "--produced-on",
            "2027-11-10",
            "--project-name",
            NAME,
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot open /nonexistent/x.pdf"), "{}", stderr(&o));
    let initial = |panel: &str| {
        ["acceptance", "initial-acceptance", PROJECT, "--etag", "1", "--held-on", "2027-11-10", "--panel", panel].map(String::from)
    };
    let o = ctl(nowhere, Some(UNIT), &initial("/nonexistent/panel.json"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("the panel file is not valid:\n/nonexistent/panel.json: cannot read the panel file"), "{}", stderr(&o));
    let bad = scratch(
        "panel.json",
        r#"{"members":[{"name":"甲","specialties":["LAW"],"passes":true},{"name":"乙","specialties":["网络安全"],"passes":true}]}"#
            .as_bytes(),
    );
    let o = ctl(nowhere, Some(UNIT), &initial(s(&bad)));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("panel.members[0].specialties[0]: unknown value \"LAW\""), "{}", stderr(&o));
    std::fs::write(&bad, r#"{"members":[{"name":"甲","specialties":["网络安全"]}]}"#).unwrap();
    let o = ctl(
        nowhere,
        Some(UNIT),
        &[
            "--json",
            "acceptance",
            "record-acceptance",
            PROJECT,
            "--etag",
            "5",
            "--held-on",
            "2028-01-20",
            "--experts",
            s(&bad),
            "--costs-fen",
            "0",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e: serde_json::Value = serde_json::from_slice(&o.stderr).expect("a JSON error");
    assert_eq!(e["error"], "usage");
    assert!(
        e["message"].as_str().unwrap().contains("the experts file is not valid")
            && e["message"].as_str().unwrap().contains("missing field `passes`"),
        "{e}"
    );

    // A download never overwrites a file unless told to.
    let o = ctl(nowhere, Some(UNIT), &["acceptance", "materials", "download", "D1", "--out", s(&file)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("exists: pass --force to replace it"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&file).unwrap(), b"%PDF-1.7");
    std::fs::remove_file(&file).ok();
    std::fs::remove_file(&bad).ok();
}

#[test]
fn acceptance_commands_call_the_acceptance_endpoint() {
    let acceptance = closed();
    let file = scratch("report.pdf", b"%PDF-1.7");
    let (panel, experts) = (sample("initial-acceptance-panel.json"), sample("acceptance-experts.json"));
    for args in [
        vec!["acceptance", "cases", "list", "--state", "trial-operation"],
        vec!["acceptance", "cases", "get", PROJECT],
        vec![
            "acceptance",
            "materials",
            "upload",
            PROJECT,
            "--file",
            s(&file),
            "--kind",
            "OTHER",
            "--produced-on",
            "2027-11-10",
            "--project-name",
            NAME,
        ],
        vec!["acceptance", "materials", "list", PROJECT],
        vec!["acceptance", "materials", "download", "D1", "--out", "-"],
        vec!["acceptance", "initial-acceptance", PROJECT, "--etag", "1", "--held-on", "2027-11-10", "--panel", &panel],
        vec![
            "acceptance",
            "trial-report",
            "deposit",
            PROJECT,
            "--file",
            s(&file),
            "--produced-on",
            "2027-12-10",
            "--period-from",
            "2027-11-10",
            "--period-to",
            "2027-12-09",
            "--project-name",
            NAME,
        ],
        vec!["acceptance", "apply", PROJECT, "--etag", "3"],
        vec!["acceptance", "review-application", PROJECT, "--etag", "4", "--approve"],
        vec![
            "acceptance",
            "record-acceptance",
            PROJECT,
            "--etag",
            "5",
            "--held-on",
            "2028-01-20",
            "--experts",
            &experts,
            "--costs-fen",
            "0",
        ],
    ] {
        let o = ctl(acceptance, Some(UNIT), &args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("cannot reach http://{acceptance}")), "{args:?} should call acceptance at {acceptance}:\n{err}");
    }
    // --acceptance-endpoint beats the environment; --endpoint is not what these commands use.
    let other = closed();
    let o = ctl(
        acceptance,
        None,
        &["acceptance", "--acceptance-endpoint", &format!("http://{other}"), "--endpoint", "http://127.0.0.1:1", "cases", "get", PROJECT],
    );
    assert!(stderr(&o).contains(&format!("cannot reach http://{other}")), "{}", stderr(&o));
    std::fs::remove_file(&file).ok();
}

#[test]
fn help_lists_every_acceptance_command() {
    let o = ctl(closed(), None, &["acceptance", "--help"]);
    assert!(o.status.success());
    let help = stdout(&o);
    for cmd in ["cases", "materials", "initial-acceptance", "trial-report", "apply", "review-application", "record-acceptance"] {
        assert!(help.contains(&format!("\n  {cmd} ")), "acceptance --help lacks {cmd}:\n{help}");
    }
    assert!(help.contains("EGOVCTL_ACCEPTANCE_ENDPOINT"), "{help}");
    let materials = stdout(&ctl(closed(), None, &["acceptance", "materials", "--help"]));
    for cmd in ["upload", "list", "download"] {
        assert!(materials.contains(&format!("\n  {cmd} ")), "{materials}");
    }
    assert!(stdout(&ctl(closed(), None, &["acceptance", "trial-report", "--help"])).contains("\n  deposit "));
    let top = stdout(&ctl(closed(), None, &["--help"]));
    assert!(top.contains("\n  acceptance "), "{top}");
}

#[test]
fn tokens_for_the_province_and_services() {
    for role in ["PROVINCE", "service"] {
        let t = ok(&ctl(closed(), None, &["--json", "token", "--role", role]));
        assert_eq!(t["claims"]["role"], role.to_ascii_uppercase());
        assert_eq!(t["claims"]["sub"], format!("{}-local", role.to_ascii_lowercase()));
        assert_eq!(t["token"].as_str().unwrap().split('.').count(), 3, "a JWT");
    }
    let o = ctl(closed(), None, &["token", "--role", "PROVINCIAL"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("OPERATOR, SERVICE, PROVINCE"), "{}", stderr(&o));
    assert!(stdout(&ctl(closed(), None, &["token", "--help"])).contains("PROVINCE"));
}

// ------------------------------------------------------------------ tests against the fake

#[test]
fn cases_are_listed_and_shown() {
    let (addr, fake) = serve();
    let text = stdout(&ctl(addr, Some(DRB), &["acceptance", "cases", "get", PROJECT]));
    for want in [
        "state                INITIAL_ACCEPTANCE (初验)\n",
        "channel              GOVERNMENT_PROCUREMENT (政府采购): DRB leads the expert acceptance (R-A4)\n",
        "contract             972,000.00 yuan (97200000 fen)\n",
        "security             等保 level 3 (its assessment report is required, R-A3)\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let o = ctl(
        addr,
        Some(DRB),
        &["acceptance", "cases", "list", "--state", "initial-acceptance", "--unit", "U-CIVIL", "--page-size", "20", "--page-token", "p1"],
    );
    let text = stdout(&o);
    assert!(text.starts_with("PROJECT"), "{text}");
    assert!(text.contains("INITIAL_ACCEPTANCE (初验)  GOVERNMENT_PROCUREMENT  972,000.00"), "{text}");
    assert!(text.ends_with("\nmore: --page-token page-2\n"), "{text}");
    let sent = fake.state.lock().unwrap().list.clone().unwrap();
    assert_eq!(
        (sent.state, sent.unit_id.as_str(), sent.page_size, sent.page_token.as_str()),
        (CaseState::InitialAcceptance as i32, "U-CIVIL", 20, "p1")
    );
    assert_eq!(stdout(&ctl(addr, Some(DRB), &["acceptance", "cases", "list", "--state", "ACCEPTED"])), "no cases\n");
    assert_eq!(fake.state.lock().unwrap().list.clone().unwrap().page_size, 50, "the default page size");
    let page = ok(&ctl(addr, Some(DRB), &["--json", "acceptance", "cases", "list"]));
    assert_eq!(page["cases"][0]["state"], "CASE_STATE_INITIAL_ACCEPTANCE");
    assert_eq!(page["next_page_token"], "page-2");
    let o = ctl(addr, Some(DRB), &["acceptance", "cases", "get", "P-MISSING"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: NOT_FOUND (5): no acceptance case P-MISSING\n"), "{}", stderr(&o));
    let o = ctl(addr, None, &["acceptance", "cases", "get", PROJECT]);
    assert!(stderr(&o).contains("UNAUTHENTICATED") && stderr(&o).contains("hint: pass a token"), "{}", stderr(&o));
}

#[test]
fn materials_are_streamed_up_and_down_whole() {
    let (addr, fake) = serve();
    let bytes = content(2 * CHUNK + 123);
    let file = scratch("初验会议纪要.pdf", &bytes);
    let upload = |name: &str, extra: &[&str]| -> Output {
        let mut args = vec!["acceptance", "materials", "upload", PROJECT, "--file", s(&file), "--kind", "initial-minutes"];
        args.extend(["--produced-on", "2027-11-10", "--project-name", name]);
        args.extend(extra);
        ctl(addr, Some(UNIT), &args)
    };

    // The header says what the command line says; the chunks are 64 KiB but the last, and
    // together they are the file.
    let o = upload(NAME, &["--file-name", "初验会议纪要.pdf", "--request-id", "req-minutes-1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = fake.state.lock().unwrap().upload.clone().unwrap();
    let h = &got.header;
    assert_eq!((h.request_id.as_str(), h.project_id.as_str(), h.kind), ("req-minutes-1", PROJECT, MaterialKind::InitialMinutes as i32));
    assert_eq!((h.file_name.as_str(), h.content_type.as_str()), ("初验会议纪要.pdf", "application/pdf"));
    assert_eq!((h.produced_on, h.project_name.as_str()), (date(2027, 11, 10), NAME));
    assert_eq!(got.chunks, vec![CHUNK, CHUNK, 123]);
    assert!(got.content == bytes, "the chunks put together are the file");
    let text = stdout(&o);
    assert!(text.contains("kind          INITIAL_MINUTES (初验会议纪要)\n"), "{text}");
    assert!(text.contains("filed on      2027-11-19 (LATE: accepted and marked late (R-P5); deadline 2027-11-15)\n"), "{text}");

    // A generated request id; a name other than the approval's is R-P5's refusal.
    let o = upload("社会救助系统", &["--content-type", "application/ofd"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("error: FAILED_PRECONDITION (9): the material is refused\nrefused by rule:\n"), "{err}");
    assert!(err.contains("  R-P5 [header.project_name]: the material names \"社会救助系统\""), "{err}");
    let h = fake.state.lock().unwrap().upload.clone().unwrap().header;
    assert!(uuid::Uuid::parse_str(&h.request_id).is_ok(), "a UUID request id is generated: {}", h.request_id);
    assert_eq!(h.content_type, "application/ofd");

    // An empty file is a header alone; on time, with --json.
    let empty = scratch("empty.txt", b"");
    let m = ok(&ctl(
        addr,
        Some(DRB),
        &[
            "--json",
            "acceptance",
            "materials",
            "upload",
            PROJECT,
            "--file",
            s(&empty),
            "--file-name",
            "空白.txt",
            "--kind",
            "OTHER",
            "--produced-on",
            "2027-11-18",
            "--project-name",
            NAME,
        ],
    ));
    assert_eq!((m["kind"].as_str(), m["size_bytes"].as_i64()), (Some("MATERIAL_KIND_OTHER"), Some(0)));
    assert_eq!((m["filing"]["late"].as_bool(), m["filing"]["deadline"].as_str()), (Some(false), Some("2027-11-23")));
    assert!(fake.state.lock().unwrap().upload.clone().unwrap().chunks.is_empty());

    // The list, with the R-P5 filing of each.
    let text = stdout(&ctl(addr, Some(UNIT), &["acceptance", "materials", "list", PROJECT]));
    assert!(text.starts_with("DOCUMENT  KIND"), "{text}");
    assert!(text.contains("D1        INITIAL_MINUTES (初验会议纪要)  初验会议纪要.pdf  131195"), "{text}");
    assert!(text.contains("2027-11-10  2027-11-19  2027-11-15  LATE"), "{text}");
    assert!(text.ends_with("\n1 filed late: accepted and marked late (R-P5)\n"), "{text}");
    let list = ok(&ctl(addr, Some(UNIT), &["--json", "acceptance", "materials", "list", PROJECT]));
    assert_eq!(list["materials"].as_array().unwrap().len(), 2);
    assert_eq!(stdout(&ctl(addr, Some(UNIT), &["acceptance", "materials", "list", "P-OTHER"])), "no materials\n");

    // Down to a file, whole; to standard output, the content alone, the summary on standard error.
    let out = scratch_path("download.pdf");
    let o = ctl(addr, Some(UNIT), &["acceptance", "materials", "download", "D1", "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(&out).unwrap() == bytes, "the downloaded file is the uploaded one");
    assert!(stdout(&o).ends_with(&format!("\nwrote 131195 bytes to {}: all 131195 bytes announced arrived\n", s(&out))), "{}", stdout(&o));
    let o = ctl(addr, Some(UNIT), &["acceptance", "materials", "download", "D1", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "an existing file is kept: {}", stderr(&o));
    let o = ctl(addr, Some(UNIT), &["--json", "acceptance", "materials", "download", "D1", "--out", s(&out), "--force"]);
    let d = ok(&o);
    assert_eq!((d["bytes_written"].as_u64(), d["material"]["document_id"].as_str()), (Some(131_195), Some("D1")));
    let o = ctl(addr, Some(UNIT), &["acceptance", "materials", "download", "D1", "--out", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout == bytes, "standard output carries the content alone");
    assert!(stderr(&o).contains("wrote 131195 bytes to standard output: all 131195 bytes announced arrived"), "{}", stderr(&o));
    let o = ctl(addr, Some(UNIT), &["--json", "acceptance", "materials", "download", "D1", "--out", "-"]);
    assert!(o.stdout == bytes);
    let e: serde_json::Value = serde_json::from_slice(&o.stderr).expect("the summary as JSON on standard error");
    assert_eq!(e["written_to"], "-");

    // A download that ends short, or fails midway, keeps nothing and exits 1.
    let partial = scratch_path("short.pdf");
    for (id, says) in
        [("D-SHORT", "the download is incomplete: 5 of the 10 bytes of 短.pdf arrived; nothing was kept"), ("D-BROKEN", "DATA_LOSS")]
    {
        let o = ctl(addr, Some(UNIT), &["acceptance", "materials", "download", id, "--out", s(&partial)]);
        assert_eq!(o.status.code(), Some(1), "{id}");
        assert!(stderr(&o).contains(says), "{id} should say {says:?}:\n{}", stderr(&o));
        assert!(!partial.exists(), "{id}: nothing is kept");
        assert!(!PathBuf::from(format!("{}.part", s(&partial))).exists(), "{id}: no part file is left");
        let o = ctl(addr, Some(UNIT), &["acceptance", "materials", "download", id, "--out", "-"]);
        assert_eq!(o.status.code(), Some(1), "{id}");
        assert!(o.stdout.is_empty(), "{id}: nothing reaches standard output");
    }
    for p in [file, empty, out] {
        std::fs::remove_file(p).ok();
    }
}

#[test]
fn a_case_from_initial_acceptance_to_accepted() {
    let (addr, fake) = serve();
    let (panel, experts) = (sample("initial-acceptance-panel.json"), sample("acceptance-experts.json"));

    // A panel without a cybersecurity expert is R-A1's refusal, its rule id printed.
    let weak = scratch(
        "weak-panel.json",
        r#"{"members":[{"name":"甲","specialties":["信息技术"],"affiliation":"浙江大学","opinion":"同意","passes":true}]}"#.as_bytes(),
    );
    let initial = |file: &str| {
        [
            "acceptance",
            "initial-acceptance",
            PROJECT,
            "--etag",
            "1",
            "--held-on",
            "2027-11-10",
            "--panel",
            file,
            "--conclusion",
            "同意通过初验",
        ]
        .map(String::from)
    };
    let o = ctl(addr, Some(UNIT), &initial(s(&weak)));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("refused by rule:\n  R-A1 [panel]: the panel has no 网络安全 (cybersecurity) expert\n"), "{}", stderr(&o));
    let o = ctl(addr, Some(UNIT), &[vec!["--json".to_string()], initial(s(&weak)).to_vec()].concat());
    let e: serde_json::Value = serde_json::from_slice(&o.stderr).expect("a JSON error");
    assert_eq!((e["precondition_violations"][0]["rule_id"].as_str(), e["code"].as_str()), (Some("R-A1"), Some("FAILED_PRECONDITION")));
    std::fs::remove_file(&weak).ok();

    // The sample panel goes member by member as the file says; the trial starts.
    let o = ctl(addr, Some(UNIT), &initial(&panel));
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().initial.clone().unwrap();
    assert_eq!((sent.etag.as_str(), sent.held_on, sent.conclusion.as_str()), ("1", date(2027, 11, 10), "同意通过初验"));
    assert_eq!(sent.panel, members(&panel));
    let text = stdout(&o);
    for want in [
        "state                TRIAL_OPERATION (试运行)\n",
        "Initial acceptance #1 (初验, R-A1):\n  held on     2027-11-10\n  result      PASSED (5 of 5 pass)\n",
        "Panel of initial acceptance #1:\n",
        "  4  周建华  信息技术, 网络安全  杭州电子科技大学网络空间安全学院",
        "Trial operation (试运行, R-A2):\n  started on  2027-11-10\n",
        "  report      - (not deposited yet",
        "etag                 2\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }

    // The trial-operation report: a period too short is R-A2's; the province's deposit and DRB's
    // manual one stream the file; a unit may not deposit.
    let report = content(CHUNK + 1);
    let file = scratch("试运行报告.pdf", &report);
    let deposit = |token: &str, to: &str| {
        ctl(
            addr,
            Some(token),
            &[
                "acceptance",
                "trial-report",
                "deposit",
                PROJECT,
                "--file",
                s(&file),
                "--produced-on",
                "2027-12-10",
                "--period-from",
                "2027-11-10",
                "--period-to",
                to,
                "--external-reference",
                "ZJSZZY-2027-0815",
                "--project-name",
                NAME,
                "--request-id",
                "req-trial-1",
            ],
        )
    };
    let o = deposit(PROVINCE, "2027-12-08");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("  R-A2 [header.period_to]: the report covers 29 days of the trial; at least 30\n"), "{}", stderr(&o));
    let o = deposit(PROVINCE, "2027-12-09");
    assert!(o.status.success(), "{}", stderr(&o));
    let got = fake.state.lock().unwrap().deposit.clone().unwrap();
    let h = &got.header;
    assert_eq!((h.request_id.as_str(), h.project_id.as_str()), ("req-trial-1", PROJECT));
    assert!(h.file_name.ends_with("试运行报告.pdf"), "the file's own name: {}", h.file_name);
    assert_eq!((h.produced_on, h.period_from, h.period_to), (date(2027, 12, 10), date(2027, 11, 10), date(2027, 12, 9)));
    assert_eq!(
        (h.external_reference.as_str(), h.project_name.as_str(), h.content_type.as_str()),
        ("ZJSZZY-2027-0815", NAME, "application/pdf")
    );
    assert_eq!(got.chunks, vec![CHUNK, 1]);
    assert!(got.content == report);
    let text = stdout(&o);
    assert!(text.contains("kind          TRIAL_OPERATION_REPORT (试运行报告)\n"), "{text}");
    assert!(text.contains("source        PROVINCIAL_SYSTEM (一体化数字资源系统)\n"), "{text}");
    let m = ok(&ctl(
        addr,
        Some(DRB),
        &[
            "--json",
            "acceptance",
            "trial-report",
            "deposit",
            PROJECT,
            "--file",
            s(&file),
            "--file-name",
            "试运行报告（人工上传）.pdf",
            "--produced-on",
            "2027-12-10",
            "--period-from",
            "2027-11-10",
            "--period-to",
            "2027-12-10",
            "--project-name",
            NAME,
        ],
    ));
    assert_eq!((m["source"].as_str(), m["file_name"].as_str()), (Some("REPORT_SOURCE_MANUAL"), Some("试运行报告（人工上传）.pdf")));
    assert_eq!(fake.state.lock().unwrap().deposit.clone().unwrap().header.external_reference, "", "no reference by hand");
    let o = deposit(UNIT, "2027-12-09");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: PERMISSION_DENIED (7)"), "{}", stderr(&o));
    std::fs::remove_file(&file).ok();

    // An incomplete application is refused with every missing item listed at once.
    let o = ctl(addr, Some(UNIT), &["acceptance", "apply", PROJECT, "--etag", "2", "--partial", "--built-module", "救助申请"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    for want in [
        "  R-A3 [partial]: 整体验收 / whole project: acceptance is of the whole project, never of a part\n",
        "  R-A3 [built_modules]: 建设内容 / everything approved is built: not declared built: 审核审批、数据比对\n",
        "  R-A3 [goals_met]: 建设目标 / goals met: the unit does not state that the goals are met\n",
    ] {
        assert!(err.contains(want), "missing {want:?} in\n{err}");
    }
    assert!(fake.state.lock().unwrap().apply.clone().unwrap().partial);
    let o = ctl(
        addr,
        Some(UNIT),
        &[
            "acceptance",
            "apply",
            PROJECT,
            "--etag",
            "2",
            "--built-module",
            "救助申请",
            "--built-module",
            "审核审批",
            "--built-module",
            "数据比对",
            "--goals-met",
            "--function-performance-met",
            "--statement",
            "建设内容已全部完成，建设目标已实现",
            "--operator-unit",
            "U-BIGDATA",
            "--user-unit",
            "U-CIVIL",
            "--user-unit",
            "U-STREET",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().apply.clone().unwrap();
    assert_eq!((sent.etag.as_str(), sent.built_modules.clone()), ("2", vec!["救助申请".to_string(), "审核审批".into(), "数据比对".into()]));
    assert!(sent.goals_met && sent.function_performance_met && !sent.partial);
    assert_eq!((sent.statement.as_str(), sent.operator_unit_id.as_str()), ("建设内容已全部完成，建设目标已实现", "U-BIGDATA"));
    assert_eq!(sent.user_unit_ids, vec!["U-CIVIL", "U-STREET"]);
    let text = stdout(&o);
    for want in [
        "state                APPLICATION_REVIEW (验收申请审核)\n",
        "function modules     救助申请, 审核审批, 数据比对\n",
        "operator unit        U-BIGDATA\n",
        "Application #1 (验收申请, R-A3):\n  applied on     2027-11-19\n  built modules  救助申请, 审核审批, 数据比对\n",
        "  checks         3 of 3 items satisfied\n  review         awaiting DRB's review (R-A3)\n",
        "R-A3 checks of application #1:\n  OK  ITEM",
        "  ✓   建设内容 / everything approved is built  all 3 approved function module(s) built\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }

    // DRB returns it with reasons, the unit applies again, DRB approves; a stale etag is ABORTED.
    let o =
        ctl(addr, Some(DRB), &["acceptance", "review-application", PROJECT, "--etag", "3", "--return", "--reasons", "信创测评报告缺失"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().review.clone().unwrap();
    assert_eq!((sent.approve, sent.reasons.as_str(), sent.etag.as_str()), (false, "信创测评报告缺失", "3"));
    assert!(stdout(&o).contains("  review         RETURNED by drb-token: 信创测评报告缺失\n"), "{}", stdout(&o));
    let o = ctl(addr, Some(DRB), &["acceptance", "review-application", PROJECT, "--etag", "3", "--approve"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("ABORTED") && stderr(&o).contains("hint: the resource changed"), "{}", stderr(&o));
    let modules = ["--built-module", "救助申请", "--built-module", "审核审批", "--built-module", "数据比对"];
    ok(&ctl(addr, Some(UNIT), &[&["--json", "acceptance", "apply", PROJECT, "--etag", "4", "--goals-met"][..], &modules].concat()));
    let k = ok(&ctl(addr, Some(DRB), &["--json", "acceptance", "review-application", PROJECT, "--etag", "5", "--approve"]));
    assert_eq!(k["state"], "CASE_STATE_ACCEPTANCE");
    assert_eq!((k["applications"][1]["approved"].as_bool(), k["applications"][1]["attempt"].as_i64()), (Some(true), Some(2)));
    let sent = fake.state.lock().unwrap().review.clone().unwrap();
    assert_eq!((sent.approve, sent.reasons.as_str()), (true, ""));

    // DRB records the acceptance with the sample experts, the costs in fen.
    let o = ctl(
        addr,
        Some(DRB),
        &[
            "acceptance",
            "record-acceptance",
            PROJECT,
            "--etag",
            "6",
            "--held-on",
            "2028-01-20",
            "--experts",
            &experts,
            "--conclusion",
            "同意通过验收",
            "--costs-fen",
            "1500000",
            "--drb-joined",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().record.clone().unwrap();
    assert_eq!((sent.etag.as_str(), sent.held_on, sent.costs_fen, sent.drb_joined), ("6", date(2028, 1, 20), 1_500_000, true));
    assert_eq!((sent.conclusion.as_str(), sent.experts.clone()), ("同意通过验收", members(&experts)));
    let text = stdout(&o);
    for want in [
        "state                ACCEPTED (验收通过)\n",
        "accepted on          2028-01-20 (in use)\n",
        "Acceptance #1 (验收, R-A4, R-A5):\n  held on      2028-01-20\n  organiser    DRB (DRB joined)\n",
        "  result       PASSED (5 of 5 pass)\n",
        "  costs        15,000.00 yuan (1500000 fen), borne by the unit\n",
        "Experts of acceptance #1:\n",
        "  5  钱芳    业务领域, 网络安全",
        "Materials (R-X1, R-P5):\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }

    // Every call carried its bearer token.
    assert!(fake.state.lock().unwrap().tokens.iter().all(|t| [UNIT, DRB, PROVINCE].iter().any(|k| *t == format!("Bearer {k}"))));
}
