//! The `evaluation` commands of the `egovctl` binary: usage errors exit 2 before anything is
//! called, naming the flag or the field of the input file; well-formed commands go to
//! --evaluation-endpoint / EGOVCTL_EVALUATION_ENDPOINT (not to --endpoint); and against in-memory
//! fakes of `egov.evaluation.v1.Evaluations` and `EvaluationQueries`, the requests carry what the
//! command line and the input files say (ids, etags, dates, scores, modules, the entry field by
//! field), the catalogue and audit reports are streamed in 64 KiB chunks whose concatenation is
//! the file, downloads are kept only when whole, the answers print as tables in English and
//! Chinese or as JSON, and refusals print their rule ids.
//!
//! The fakes check what a client must get right (bearer tokens, etags, the request fields, the
//! streams), not the Measures: those are the evaluation service's own tests.

use crate::common;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    pin::Pin,
    process::Output,
    sync::{Arc, Mutex},
};

use egov_proto::{
    common::CivilDate,
    evaluation::{
        self as pb, AssessmentKind, AssessmentTrack, CatalogueEntry, EliminationStatus, EntryKind, EntryState, EvaluationGrade,
        EvaluationRecord, EvaluationSchedule, EvaluationStatus, FunctionModule, IndicatorScore, RectificationStatus, ScreeningVerdict,
        ThirdPartyAudit,
        evaluation_queries_server::{EvaluationQueries, EvaluationQueriesServer},
        evaluations_server::{Evaluations, EvaluationsServer},
    },
};
use tokio_stream::Stream;
use tonic::{Request, Response, Status, transport::Server};

use crate::common::{ACCEPTANCE, EVALUATION, INTAKE, PROCUREMENT, REVIEW, closed, ok, refused, root, stderr, stdout};

// ------------------------------------------------------------------ the fake service

const APP: &str = "0193a6f0-0000-7000-8000-0000000000a1";
const NAME: &str = "上城区社会救助综合服务应用（浙政钉端）";
const CHUNK: usize = 64 * 1024;

const UNIT: &str = "unit-token";
const DRB: &str = "drb-token";
const FINANCE: &str = "finance-token";
const LEADER: &str = "leader-token";

/// The indicator system of the fake: (code, weight, who scores it), as the policy's.
const INDICATORS: [(&str, i64, &str); 5] =
    [("USAGE", 25, DRB), ("EFFECT", 25, DRB), ("SHARING", 15, DRB), ("SECURITY", 15, DRB), ("COST", 20, FINANCE)];

/// A stream's header and the sizes and bytes of its chunks, as received.
#[derive(Clone)]
struct Streamed<H> {
    header: H,
    chunks: Vec<usize>,
    content: Vec<u8>,
}

#[derive(Default)]
struct State {
    entry: CatalogueEntry,
    /// Audit reports stored, with their content.
    stored: Vec<(ThirdPartyAudit, Vec<u8>)>,
    /// The last request of each kind, as received.
    register: Option<pb::RegisterEntryRequest>,
    list: Option<pb::ListEntriesRequest>,
    import: Option<Streamed<pb::ImportHeader>>,
    screen: Option<pb::ScreenModulesRequest>,
    system: Option<pb::GetIndicatorSystemRequest>,
    schedules: Option<pb::ListSchedulesRequest>,
    open: Option<pb::OpenEvaluationRequest>,
    scores: Vec<pb::RecordScoresRequest>,
    publish: Option<pb::PublishEvaluationRequest>,
    published: Option<pb::ListPublishedEvaluationsRequest>,
    propose: Option<pb::ProposeEliminationRequest>,
    decide: Option<pb::DecideEliminationRequest>,
    eliminate: Option<pb::EliminateApplicationRequest>,
    violation: Option<pb::RecordSharingViolationRequest>,
    rectified: Option<pb::RecordSharingRectifiedRequest>,
    stop: Option<pb::StopApplicationRequest>,
    assessment: Option<pb::RecordAssessmentRequest>,
    assessments: Option<pb::ListAssessmentsRequest>,
    audit: Option<Streamed<pb::AuditHeader>>,
    download: Option<pb::DownloadAuditReportRequest>,
    search: Option<pb::SearchCatalogueRequest>,
    latest: Option<pb::GetLatestEvaluationRequest>,
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

/// Today, for the fake.
const TODAY: CivilDate = CivilDate { year: 2028, month: 7, day: 25 };

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

/// The grade of a weighted score in hundredths, as the policy's bands.
fn grade(centi: i64) -> (EvaluationGrade, &'static str, i32) {
    match centi {
        9000.. => (EvaluationGrade::Excellent, "全额保障并可优先支持迭代 / fund in full, upgrades favoured", 10000),
        8000.. => (EvaluationGrade::Good, "全额保障 / fund in full", 10000),
        6000.. => (EvaluationGrade::Pass, "压减运维经费 / reduce operation and maintenance funding", 8000),
        _ => (EvaluationGrade::Fail, "暂停运维经费，限期整改 / suspend funding until rectified", 0),
    }
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

    /// Runs `f` on the entry when `etag` is current (or not asked for) and bumps the etag.
    fn update(&self, entry_id: &str, etag: Option<&str>, f: impl FnOnce(&mut CatalogueEntry) -> Result<(), Status>) -> Res<CatalogueEntry> {
        let mut st = self.state.lock().unwrap();
        if entry_id != st.entry.entry_id {
            return Err(Status::not_found(format!("no catalogue entry {entry_id}")));
        }
        if let Some(etag) = etag
            && etag != st.entry.etag
        {
            return Err(Status::aborted(format!("the entry has etag {}, the request sent {etag}", st.entry.etag)));
        }
        f(&mut st.entry)?;
        st.entry.etag = (st.entry.etag.parse::<u32>().unwrap_or(0) + 1).to_string();
        Ok(Response::new(st.entry.clone()))
    }

    fn evaluation<'a>(e: &'a mut CatalogueEntry, id: &str) -> Result<&'a mut EvaluationRecord, Status> {
        e.evaluations.iter_mut().find(|r| r.evaluation_id == id).ok_or_else(|| Status::not_found(format!("no evaluation {id}")))
    }
}

fn published(e: &CatalogueEntry) -> Vec<pb::PublishedEvaluation> {
    e.evaluations
        .iter()
        .filter(|r| r.status == EvaluationStatus::Published as i32)
        .map(|r| pb::PublishedEvaluation {
            evaluation_id: r.evaluation_id.clone(),
            app_id: e.entry_id.clone(),
            name: e.name.clone(),
            operator_unit_id: e.operator_unit_id.clone(),
            published_on: r.published_on,
            score_centi: r.score_centi,
            grade: r.grade,
            passed: r.passed,
            funding_recommendation: r.funding_recommendation.clone(),
            funding_bp: r.funding_bp,
            indicator_system: r.indicator_system.clone(),
        })
        .collect()
}

fn system(version: &str) -> pb::IndicatorSystem {
    pb::IndicatorSystem {
        version: version.into(),
        effective_from: if version == "2026-1" { date(2026, 1, 1) } else { date(2028, 1, 1) },
        indicators: INDICATORS
            .iter()
            .map(|(code, weight, by)| pb::Indicator {
                code: (*code).into(),
                title: format!("{code} 指标"),
                weight: *weight as i32,
                assessed_by: if *by == DRB { "DRB".into() } else { "FINANCE".into() },
            })
            .collect(),
        grades: [9000, 8000, 6000, 0]
            .iter()
            .map(|&c| {
                let (g, rec, bp) = grade(c);
                pb::GradeThreshold { grade: g as i32, min_score: (c / 100) as i32, funding_recommendation: rec.into(), funding_bp: bp }
            })
            .collect(),
        passing_grade: EvaluationGrade::Pass as i32,
        first_evaluation_months_business: 6,
        first_evaluation_months_other: 12,
        evaluation_interval_months: 12,
        rectification_months: 3,
    }
}

type Download = Pin<Box<dyn Stream<Item = Result<pb::DownloadAuditReportResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Evaluations for Fake {
    async fn register_entry(&self, req: Request<pb::RegisterEntryRequest>) -> Res<CatalogueEntry> {
        let (token, r) = self.authed(req)?;
        self.state.lock().unwrap().register = Some(r.clone());
        let n = r.entry.unwrap_or_default();
        if token == UNIT && n.kind == EntryKind::Application as i32 {
            return Err(refused(
                "the entry is refused",
                &[("R-E1", "entry.kind", "applications are catalogued when accepted; a unit registers data, cloud and component entries")],
            ));
        }
        Ok(Response::new(CatalogueEntry {
            entry_id: "0193a6f0-0000-7000-8000-0000000000d1".into(),
            kind: n.kind,
            state: EntryState::Listed as i32,
            name: n.name,
            description: n.description,
            operator_unit_id: if n.operator_unit_id.is_empty() { n.builder_unit_id.clone() } else { n.operator_unit_id },
            builder_unit_id: n.builder_unit_id,
            user_unit_ids: n.user_unit_ids,
            project_id: n.project_id,
            app_id: n.app_id,
            functions: n.functions,
            source: "PROJECT".into(),
            policy_version: "2026-1".into(),
            etag: "1".into(),
            ..Default::default()
        }))
    }

    async fn get_entry(&self, req: Request<pb::GetEntryRequest>) -> Res<CatalogueEntry> {
        let (_, r) = self.authed(req)?;
        let st = self.state.lock().unwrap();
        if r.entry_id != st.entry.entry_id {
            return Err(Status::not_found(format!("no catalogue entry {}", r.entry_id)));
        }
        Ok(Response::new(st.entry.clone()))
    }

    async fn list_entries(&self, req: Request<pb::ListEntriesRequest>) -> Res<pb::ListEntriesResponse> {
        let (_, r) = self.authed(req)?;
        let mut st = self.state.lock().unwrap();
        st.list = Some(r.clone());
        let fits = (r.kind == 0 || r.kind == st.entry.kind) && (r.state == 0 || r.state == st.entry.state);
        let entries = if fits { vec![st.entry.clone()] } else { vec![] };
        Ok(Response::new(pb::ListEntriesResponse { entries, next_page_token: if fits { "page-2".into() } else { String::new() } }))
    }

    async fn import_catalogue(&self, req: Request<tonic::Streaming<pb::ImportCatalogueRequest>>) -> Res<pb::ImportCatalogueResponse> {
        let (token, stream) = self.authed(req)?;
        use pb::import_catalogue_request::Part;
        let got = receive(stream, |m: pb::ImportCatalogueRequest| match m.part? {
            Part::Header(h) => Some(Ok(h)),
            Part::Chunk(c) => Some(Err(c)),
        })
        .await?;
        self.state.lock().unwrap().import = Some(got.clone());
        if token != DRB {
            return Err(Status::permission_denied("ImportCatalogue is for DRB"));
        }
        let text = String::from_utf8(got.content.clone()).map_err(|_| Status::invalid_argument("not UTF-8"))?;
        // Rows as the fake reads them: CSV lines after the header, or the JSON array's objects.
        let rows: Vec<String> = if got.header.format == pb::ImportFormat::Json as i32 {
            let v: Vec<serde_json::Value> = serde_json::from_str(&text).map_err(|e| Status::invalid_argument(e.to_string()))?;
            v.iter().map(|r| r["source"].as_str().unwrap_or_default().to_string()).collect()
        } else {
            text.lines().skip(1).filter(|l| !l.trim().is_empty()).map(|l| l.split(',').nth(2).unwrap_or_default().to_string()).collect()
        };
        let errors: Vec<pb::ImportRowError> = rows
            .iter()
            .enumerate()
            .filter(|(_, source)| !["DISTRICT", "PROVINCE", "区级", "省级"].contains(&source.as_str()))
            .map(|(i, source)| pb::ImportRowError {
                row: i as i32 + 1,
                field: "source".into(),
                description: format!("{source:?}: DISTRICT (区级) or PROVINCE (省级)"),
            })
            .collect();
        Ok(Response::new(pb::ImportCatalogueResponse {
            import_id: "0193a6f0-0000-7000-8000-00000000001a".into(),
            document_id: "0193a6f0-0000-7000-8000-00000000001d".into(),
            sha256: format!("fake-sha256-{}", got.content.len()),
            sm3: format!("fake-sm3-{}", got.content.len()),
            created: (rows.len() - errors.len()) as i32,
            updated: 0,
            unchanged: 0,
            errors,
        }))
    }

    async fn screen_modules(&self, req: Request<pb::ScreenModulesRequest>) -> Res<pb::ScreenModulesResponse> {
        let (_, r) = self.authed(req)?;
        self.state.lock().unwrap().screen = Some(r.clone());
        let hit = |score: f64, function: &str, terms: &[&str]| pb::ScreeningMatch {
            entry_id: "0193a6f0-0000-7000-8000-0000000000c1".into(),
            name: "上城区社会救助一件事".into(),
            owner_unit: "区民政局".into(),
            score,
            function_name: function.into(),
            shared_terms: terms.iter().map(|t| t.to_string()).collect(),
            source: "DISTRICT".into(),
        };
        let modules = r
            .modules
            .iter()
            .map(|m| {
                let text = format!("{}{}", m.name, m.description);
                let (verdict, matches) = if text.contains("低保") {
                    (ScreeningVerdict::Duplicate, vec![hit(0.97, "低保网上申办", &["低保", "申报", "居民"])])
                } else if text.contains("助餐") {
                    (ScreeningVerdict::PartialDuplicate, vec![hit(0.71, "居家养老上门服务", &["助餐", "老人"])])
                } else {
                    (ScreeningVerdict::Distinct, vec![])
                };
                pb::ScreenedModule { module: m.name.clone(), matches, verdict: verdict as i32 }
            })
            .collect();
        Ok(Response::new(pb::ScreenModulesResponse {
            modules,
            duplicate_score: 0.85,
            partial_duplicate_score: 0.6,
            policy_version: "2026-1".into(),
        }))
    }

    async fn get_indicator_system(&self, req: Request<pb::GetIndicatorSystemRequest>) -> Res<pb::IndicatorSystem> {
        let (_, r) = self.authed(req)?;
        self.state.lock().unwrap().system = Some(r.clone());
        match r.version.as_str() {
            "" | "2028-1" => Ok(Response::new(system("2028-1"))),
            "2026-1" => Ok(Response::new(system("2026-1"))),
            v => Err(Status::not_found(format!("indicator system {v}"))),
        }
    }

    async fn list_indicator_systems(&self, req: Request<pb::ListIndicatorSystemsRequest>) -> Res<pb::ListIndicatorSystemsResponse> {
        self.authed(req)?;
        Ok(Response::new(pb::ListIndicatorSystemsResponse { systems: vec![system("2026-1"), system("2028-1")] }))
    }

    async fn list_schedules(&self, req: Request<pb::ListSchedulesRequest>) -> Res<pb::ListSchedulesResponse> {
        let (_, r) = self.authed(req)?;
        let mut st = self.state.lock().unwrap();
        st.schedules = Some(r);
        let e = &st.entry;
        let s = e.schedule.unwrap_or_default();
        let schedules = vec![pb::ScheduledEvaluation {
            app_id: e.entry_id.clone(),
            name: e.name.clone(),
            operator_unit_id: e.operator_unit_id.clone(),
            category: e.category.clone(),
            next_due_on: s.next_due_on,
            due: s.due,
        }];
        Ok(Response::new(pb::ListSchedulesResponse { schedules, next_page_token: String::new() }))
    }

    async fn open_evaluation(&self, req: Request<pb::OpenEvaluationRequest>) -> Res<CatalogueEntry> {
        let (_, r) = self.authed(req)?;
        self.state.lock().unwrap().open = Some(r.clone());
        self.update(&r.app_id, None, |e| {
            if e.evaluations.iter().any(|x| x.status == EvaluationStatus::Open as i32) {
                return Err(refused("the evaluation is refused", &[("R-E2", "app_id", "an evaluation is already open")]));
            }
            e.evaluations.push(EvaluationRecord {
                evaluation_id: format!("E{}", e.evaluations.len() + 1),
                status: EvaluationStatus::Open as i32,
                indicator_system: "2026-1".into(),
                ..Default::default()
            });
            Ok(())
        })
    }

    async fn record_scores(&self, req: Request<pb::RecordScoresRequest>) -> Res<CatalogueEntry> {
        let (token, r) = self.authed(req)?;
        self.state.lock().unwrap().scores.push(r.clone());
        let foreign: Vec<(&str, &str, String)> = r
            .scores
            .iter()
            .filter(|s| !INDICATORS.iter().any(|(code, _, by)| *code == s.indicator && *by == token))
            .map(|s| ("R-E2", "scores", format!("{} is not an indicator this role scores", s.indicator)))
            .collect();
        if !foreign.is_empty() {
            let v: Vec<(&str, &str, &str)> = foreign.iter().map(|(r, s, m)| (*r, *s, m.as_str())).collect();
            return Err(refused("the scores are refused", &v));
        }
        self.update(&r.app_id, Some(&r.etag), |e| {
            let x = Fake::evaluation(e, &r.evaluation_id)?;
            for s in &r.scores {
                x.scores.retain(|o| o.indicator != s.indicator);
                x.scores.push(IndicatorScore {
                    scored_by: format!("{}-local", token.trim_end_matches("-token")),
                    scored_by_role: token.trim_end_matches("-token").to_ascii_uppercase(),
                    ..s.clone()
                });
            }
            Ok(())
        })
    }

    async fn publish_evaluation(&self, req: Request<pb::PublishEvaluationRequest>) -> Res<CatalogueEntry> {
        let (_, r) = self.authed(req)?;
        self.state.lock().unwrap().publish = Some(r.clone());
        self.update(&r.app_id, Some(&r.etag), |e| {
            let x = Fake::evaluation(e, &r.evaluation_id)?;
            let missing: Vec<&str> =
                INDICATORS.iter().map(|(c, _, _)| *c).filter(|c| !x.scores.iter().any(|s| s.indicator == *c)).collect();
            if !missing.is_empty() {
                let m = format!("not scored yet: {}", missing.join(", "));
                return Err(refused("the evaluation cannot be published", &[("R-E2", "scores", &m)]));
            }
            let centi: i64 = x.scores.iter().map(|s| i64::from(s.score) * INDICATORS.iter().find(|i| i.0 == s.indicator).unwrap().1).sum();
            let (g, rec, bp) = grade(centi);
            x.status = EvaluationStatus::Published as i32;
            x.score_centi = centi;
            x.grade = g as i32;
            x.passed = g != EvaluationGrade::Fail;
            x.published_on = Some(TODAY);
            x.funding_recommendation = rec.into();
            x.funding_bp = bp;
            x.comment = r.comment.clone();
            let (id, passed) = (x.evaluation_id.clone(), x.passed);
            if !passed && e.rectification.is_none() {
                e.rectification = Some(pb::Rectification {
                    status: RectificationStatus::Pending as i32,
                    evaluation_id: id,
                    rectify_by: date(2028, 10, 25),
                    cleared_by_evaluation_id: String::new(),
                });
            }
            e.schedule = Some(EvaluationSchedule { next_due_on: date(2029, 7, 25), due: false });
            Ok(())
        })
    }

    async fn list_published_evaluations(
        &self,
        req: Request<pb::ListPublishedEvaluationsRequest>,
    ) -> Res<pb::ListPublishedEvaluationsResponse> {
        let (_, r) = self.authed(req)?;
        let mut st = self.state.lock().unwrap();
        st.published = Some(r.clone());
        let evaluations = if r.app_id.is_empty() || r.app_id == st.entry.entry_id { published(&st.entry) } else { vec![] };
        Ok(Response::new(pb::ListPublishedEvaluationsResponse { evaluations, next_page_token: String::new() }))
    }

    async fn propose_elimination(&self, req: Request<pb::ProposeEliminationRequest>) -> Res<CatalogueEntry> {
        let (token, r) = self.authed(req)?;
        self.state.lock().unwrap().propose = Some(r.clone());
        self.update(&r.app_id, Some(&r.etag), |e| {
            let overdue = e.rectification.as_ref().is_some_and(|x| x.status == RectificationStatus::Overdue as i32);
            if !overdue {
                return Err(refused(
                    "the proposal is refused",
                    &[("R-E3", "app_id", "elimination is proposed only once the rectification deadline has passed unrectified")],
                ));
            }
            e.elimination = Some(pb::Elimination {
                status: EliminationStatus::Proposed as i32,
                reason: r.reason.clone(),
                proposed_by: token,
                proposed_on: Some(TODAY),
                ..Default::default()
            });
            Ok(())
        })
    }

    async fn decide_elimination(&self, req: Request<pb::DecideEliminationRequest>) -> Res<CatalogueEntry> {
        let (token, r) = self.authed(req)?;
        self.state.lock().unwrap().decide = Some(r.clone());
        if token != LEADER {
            return Err(Status::permission_denied("DecideElimination is for LEADER"));
        }
        self.update(&r.app_id, Some(&r.etag), |e| {
            let x = e.elimination.as_mut().ok_or_else(|| Status::failed_precondition("nothing proposed"))?;
            x.status = if r.approve { EliminationStatus::Approved } else { EliminationStatus::Rejected } as i32;
            x.decided_by = token;
            x.decided_on = Some(TODAY);
            x.decision_comment = r.comment.clone();
            Ok(())
        })
    }

    async fn eliminate_application(&self, req: Request<pb::EliminateApplicationRequest>) -> Res<CatalogueEntry> {
        let (_, r) = self.authed(req)?;
        self.state.lock().unwrap().eliminate = Some(r.clone());
        self.update(&r.app_id, Some(&r.etag), |e| {
            let approved = e.elimination.as_ref().is_some_and(|x| x.status == EliminationStatus::Approved as i32);
            if !approved {
                return Err(refused(
                    "the elimination is refused",
                    &[("R-E3", "app_id", "elimination needs the approval of the district leader in charge")],
                ));
            }
            if let Some(x) = e.elimination.as_mut() {
                x.status = EliminationStatus::Executed as i32;
            }
            e.state = EntryState::Eliminated as i32;
            e.schedule = None;
            Ok(())
        })
    }

    async fn record_sharing_violation(&self, req: Request<pb::RecordSharingViolationRequest>) -> Res<CatalogueEntry> {
        let (_, r) = self.authed(req)?;
        self.state.lock().unwrap().violation = Some(r.clone());
        self.update(&r.entry_id, Some(&r.etag), |e| {
            e.sharing_violation = Some(pb::SharingViolation {
                description: r.description.clone(),
                recorded_on: Some(TODAY),
                rectify_by: date(2028, 10, 25),
                status: "PENDING".into(),
                rectification_note: String::new(),
            });
            Ok(())
        })
    }

    async fn record_sharing_rectified(&self, req: Request<pb::RecordSharingRectifiedRequest>) -> Res<CatalogueEntry> {
        let (_, r) = self.authed(req)?;
        self.state.lock().unwrap().rectified = Some(r.clone());
        self.update(&r.entry_id, Some(&r.etag), |e| {
            let v = e
                .sharing_violation
                .as_mut()
                .ok_or_else(|| refused("nothing to rectify", &[("R-E5", "entry_id", "no sharing violation is recorded on this entry")]))?;
            v.status = "RECTIFIED".into();
            v.rectification_note = r.note.clone();
            Ok(())
        })
    }

    async fn stop_application(&self, req: Request<pb::StopApplicationRequest>) -> Res<CatalogueEntry> {
        let (_, r) = self.authed(req)?;
        self.state.lock().unwrap().stop = Some(r.clone());
        self.update(&r.app_id, Some(&r.etag), |e| {
            if e.state != EntryState::Listed as i32 {
                return Err(refused("the stop is refused", &[("R-E6", "app_id", "only a listed application is stopped")]));
            }
            e.state = EntryState::Stopped as i32;
            e.early_stop = Some(pb::EarlyStop {
                stopped_on: Some(TODAY),
                reason: r.reason.clone(),
                within_early_stop_years: true,
                ineligible_year: 2029,
            });
            Ok(())
        })
    }

    async fn record_assessment(&self, req: Request<pb::RecordAssessmentRequest>) -> Res<CatalogueEntry> {
        let (_, r) = self.authed(req)?;
        self.state.lock().unwrap().assessment = Some(r.clone());
        self.update(&r.app_id, Some(&r.etag), |e| {
            let t = e.assessments.iter_mut().find(|t| t.kind == r.kind).ok_or_else(|| {
                refused("the assessment is refused", &[("R-E7", "kind", "密评 is tracked for important information systems only")])
            })?;
            t.last_done_on = r.done_on;
            t.last_conclusion = r.conclusion.clone();
            t.last_report_reference = r.report_reference.clone();
            t.overdue = false;
            t.reminded = false;
            t.due_on = r.done_on.map(|d| CivilDate { year: d.year + 1, ..d });
            Ok(())
        })
    }

    async fn list_assessments(&self, req: Request<pb::ListAssessmentsRequest>) -> Res<pb::ListAssessmentsResponse> {
        let (_, r) = self.authed(req)?;
        let mut st = self.state.lock().unwrap();
        st.assessments = Some(r.clone());
        let e = &st.entry;
        let assessments = e
            .assessments
            .iter()
            .filter(|t| !r.overdue_only || t.overdue)
            .map(|t| pb::AssessmentDue {
                app_id: e.entry_id.clone(),
                name: e.name.clone(),
                operator_unit_id: e.operator_unit_id.clone(),
                track: Some(t.clone()),
            })
            .collect();
        Ok(Response::new(pb::ListAssessmentsResponse { assessments, next_page_token: String::new() }))
    }

    async fn upload_audit_report(&self, req: Request<tonic::Streaming<pb::UploadAuditReportRequest>>) -> Res<CatalogueEntry> {
        let (token, stream) = self.authed(req)?;
        use pb::upload_audit_report_request::Part;
        let got = receive(stream, |m: pb::UploadAuditReportRequest| match m.part? {
            Part::Header(h) => Some(Ok(h)),
            Part::Chunk(c) => Some(Err(c)),
        })
        .await?;
        self.state.lock().unwrap().audit = Some(got.clone());
        let h = got.header;
        let a = ThirdPartyAudit {
            document_id: format!("D{}", self.state.lock().unwrap().stored.len() + 1),
            auditor: h.auditor,
            file_name: h.file_name,
            content_type: h.content_type,
            size_bytes: got.content.len() as i64,
            sha256: format!("fake-sha256-{}", got.content.len()),
            sm3: format!("fake-sm3-{}", got.content.len()),
            uploaded_by: token,
            uploaded_at: None,
            conclusion: h.conclusion,
        };
        self.state.lock().unwrap().stored.push((a.clone(), got.content));
        self.update(&h.app_id, None, |e| {
            e.audits.push(a);
            Ok(())
        })
    }

    type DownloadAuditReportStream = Download;

    async fn download_audit_report(&self, req: Request<pb::DownloadAuditReportRequest>) -> Res<Download> {
        use pb::download_audit_report_response::Part;
        let (_, r) = self.authed(req)?;
        self.state.lock().unwrap().download = Some(r.clone());
        let msg = |p: Part| Ok(pb::DownloadAuditReportResponse { part: Some(p) });
        let (a, content) = match r.document_id.as_str() {
            // Announces more than it sends: the stream ends early.
            "D-SHORT" => {
                let a =
                    ThirdPartyAudit { document_id: "D-SHORT".into(), file_name: "短.pdf".into(), size_bytes: 10, ..Default::default() };
                return Ok(Response::new(Box::pin(tokio_stream::iter(vec![msg(Part::Header(a)), msg(Part::Chunk(b"12345".to_vec()))]))));
            }
            // Fails mid-stream, as the service does when the stored hashes do not match.
            "D-BROKEN" => {
                let a = ThirdPartyAudit { document_id: "D-BROKEN".into(), size_bytes: 10, ..Default::default() };
                return Ok(Response::new(Box::pin(tokio_stream::iter(vec![
                    msg(Part::Header(a)),
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
                .find(|(a, _)| a.document_id == id)
                .cloned()
                .ok_or_else(|| Status::not_found(format!("no audit report {id}")))?,
        };
        let mut msgs = vec![msg(Part::Header(a))];
        msgs.extend(content.chunks(CHUNK).map(|c| msg(Part::Chunk(c.to_vec()))));
        Ok(Response::new(Box::pin(tokio_stream::iter(msgs))))
    }
}

#[tonic::async_trait]
impl EvaluationQueries for Fake {
    async fn search_catalogue(&self, req: Request<pb::SearchCatalogueRequest>) -> Res<pb::SearchCatalogueResponse> {
        let (_, r) = self.authed(req)?;
        self.state.lock().unwrap().search = Some(r.clone());
        let matches = if r.text.contains("低保") {
            vec![pb::CatalogueMatch {
                entry_id: "0193a6f0-0000-7000-8000-0000000000c1".into(),
                name: "上城区社会救助一件事".into(),
                owner_unit: "区民政局".into(),
                score: 0.97,
            }]
        } else {
            vec![]
        };
        Ok(Response::new(pb::SearchCatalogueResponse { matches }))
    }

    async fn get_latest_evaluation(&self, req: Request<pb::GetLatestEvaluationRequest>) -> Res<pb::GetLatestEvaluationResponse> {
        let (_, r) = self.authed(req)?;
        let mut st = self.state.lock().unwrap();
        st.latest = Some(r.clone());
        let evaluation = if r.app_id == st.entry.entry_id {
            published(&st.entry).last().map(|p| pb::Evaluation {
                app_id: p.app_id.clone(),
                grade: p.grade,
                passed: p.passed,
                evaluated_on: p.published_on,
            })
        } else {
            None
        };
        Ok(Response::new(pb::GetLatestEvaluationResponse { evaluation }))
    }
}

/// A running application catalogued on acceptance, its first evaluation due.
fn new_entry() -> CatalogueEntry {
    CatalogueEntry {
        entry_id: APP.into(),
        kind: EntryKind::Application as i32,
        state: EntryState::Listed as i32,
        name: NAME.into(),
        builder_unit_id: "U-CIVIL".into(),
        operator_unit_id: "U-CIVIL".into(),
        user_unit_ids: vec!["U-CIVIL".into(), "U-STREET".into()],
        project_id: APP.into(),
        functions: vec![
            FunctionModule { name: "救助申请".into(), description: "群众通过浙里办申请社会救助".into() },
            FunctionModule { name: "审核审批".into(), description: "街道和区民政局审核审批".into() },
        ],
        source: "PROJECT".into(),
        category: "BUSINESS_APPLICATION".into(),
        go_live_on: date(2028, 1, 20),
        classified_protection_level: 3,
        important_system: false,
        schedule: Some(EvaluationSchedule { next_due_on: date(2028, 7, 20), due: true }),
        assessments: vec![AssessmentTrack {
            kind: AssessmentKind::ClassifiedProtection as i32,
            due_on: date(2029, 1, 20),
            reminded: false,
            overdue: true,
            ..Default::default()
        }],
        policy_version: "2026-1".into(),
        etag: "1".into(),
        ..Default::default()
    }
}

/// Serves a fake of both services with one running application on a free port, for the life of
/// the test process.
fn serve() -> (SocketAddr, Fake) {
    let fake = Fake::default();
    fake.state.lock().unwrap().entry = new_entry();
    let served = fake.clone();
    let addr = common::serve(move || async move {
        Server::builder().add_service(EvaluationsServer::new(served.clone())).add_service(EvaluationQueriesServer::new(served))
    });
    (addr, fake)
}

// ------------------------------------------------------------------ running the binary

/// Runs egovctl with the other services at closed ports and evaluation at `evaluation`.
fn ctl<S: AsRef<std::ffi::OsStr>>(evaluation: SocketAddr, token: Option<&str>, args: &[S]) -> Output {
    common::egovctl(
        &[(INTAKE, closed()), (REVIEW, closed()), (PROCUREMENT, closed()), (ACCEPTANCE, closed()), (EVALUATION, evaluation)],
        token,
        args,
    )
}

/// A scratch path of its own for `name`.
fn scratch_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("egovctl-evaluation-{}-{}-{name}", std::process::id(), uuid::Uuid::now_v7()))
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

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|x| x.to_string()).collect()
}

/// The scores a sample file holds, as they should be sent.
fn sample_scores(name: &str) -> Vec<IndicatorScore> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(sample(name)).unwrap()).unwrap();
    v["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| IndicatorScore {
            indicator: x["indicator"].as_str().unwrap().into(),
            score: x["score"].as_i64().unwrap() as i32,
            comment: x["comment"].as_str().unwrap().into(),
            ..Default::default()
        })
        .collect()
}

// ------------------------------------------------------------------ tests without a server

#[test]
fn usage_errors_exit_2_naming_the_flag_before_calling() {
    let nowhere = closed();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (args(&["evaluation", "entries", "register"]), "--entry"),
        (args(&["evaluation", "entries", "list", "--kind", "APP"]), "--kind"),
        (args(&["evaluation", "entries", "list", "--state", "GONE"]), "--state"),
        (args(&["evaluation", "entries", "list", "--page-size", "ten"]), "--page-size"),
        (args(&["evaluation", "import"]), "--file"),
        (args(&["evaluation", "import", "--file", "x.csv", "--format", "xml"]), "--format"),
        (args(&["evaluation", "screen"]), "--modules"),
        (args(&["evaluation", "screen", "--module", "低保", "--limit", "0"]), "--limit"),
        (args(&["evaluation", "screen", "--module", "：只有描述"]), "--module"),
        (args(&["evaluation", "schedules", "list", "--due-by", "2028-02-30"]), "--due-by"),
        (args(&["evaluation", "record-scores", APP, "--etag", "2", "--evaluation", "E1"]), "--scores"),
        (args(&["evaluation", "record-scores", APP, "--etag", "2", "--evaluation", "E1", "--score", "USAGE=101"]), "--score"),
        (args(&["evaluation", "record-scores", APP, "--etag", "2", "--evaluation", "E1", "--score", "USAGE"]), "--score"),
        (
            args(&["evaluation", "record-scores", APP, "--etag", "2", "--evaluation", "E1", "--score", "USAGE=80", "--score", "USAGE=90"]),
            "--score USAGE is given twice",
        ),
        (args(&["evaluation", "record-scores", APP, "--evaluation", "E1", "--score", "USAGE=80"]), "--etag"),
        (args(&["evaluation", "publish", APP, "--etag", "3"]), "--evaluation"),
        (args(&["evaluation", "propose-elimination", APP, "--etag", "4"]), "--reason"),
        (args(&["evaluation", "decide-elimination", APP, "--etag", "5"]), "--approve"),
        (args(&["evaluation", "decide-elimination", APP, "--etag", "5", "--approve", "--reject"]), "--reject"),
        (args(&["evaluation", "eliminate", APP]), "--etag"),
        (args(&["evaluation", "sharing-violation", APP, "--etag", "1"]), "--description"),
        (args(&["evaluation", "stop", APP, "--etag", "1"]), "--reason"),
        (args(&["evaluation", "assessments", "record", APP, "--etag", "1", "--kind", "ISO27001", "--done-on", "2028-06-30"]), "--kind"),
        (args(&["evaluation", "assessments", "record", APP, "--etag", "1", "--kind", "等保", "--done-on", "30/06/2028"]), "--done-on"),
        (args(&["evaluation", "assessments", "record", APP, "--etag", "1", "--kind", "等保"]), "--done-on"),
        (args(&["evaluation", "audit-reports", "upload", APP, "--file", "r.pdf"]), "--auditor"),
        (args(&["evaluation", "audit-reports", "download", APP, "D1"]), "--out"),
        (args(&["evaluation", "queries", "search"]), "<TEXT>"),
        (args(&["evaluation", "queries", "search", "低保", "--limit", "0"]), "--limit"),
    ];
    for (args, says) in cases {
        let o = ctl(nowhere, Some(DRB), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?} should say {says:?}:\n{}", stderr(&o));
    }

    // Files are read before connecting: a missing file, a format the name does not tell, a
    // malformed entry, modules or scores file, each problem under its field.
    let o = ctl(nowhere, Some(DRB), &["evaluation", "import", "--file", "/nonexistent/目录.csv"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot open /nonexistent/目录.csv"), "{}", stderr(&o));
    let xlsx = scratch("目录.xlsx", b"x");
    let o = ctl(nowhere, Some(DRB), &["evaluation", "import", "--file", s(&xlsx)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--format: cannot tell CSV from JSON"), "{}", stderr(&o));
    let bad = scratch("entry.json", r#"{"kind":"表格","name":"x"}"#.as_bytes());
    let o = ctl(nowhere, Some(UNIT), &["evaluation", "entries", "register", "--entry", s(&bad)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("the entry file is not valid:\nentry.kind: unknown value \"表格\""), "{}", stderr(&o));
    std::fs::write(&bad, r#"{"kind":"DATA","name":"x","owner":"U-CIVIL"}"#).unwrap();
    let o = ctl(nowhere, Some(UNIT), &["evaluation", "entries", "register", "--entry", s(&bad)]);
    assert!(stderr(&o).contains("unknown field `owner`"), "{}", stderr(&o));
    let o = ctl(nowhere, Some(DRB), &["evaluation", "screen", "--modules", "/nonexistent/modules.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the modules file is not valid:\n/nonexistent/modules.json: cannot read the modules file"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&bad, r#"{"scores":[{"indicator":"USAGE","score":120},{"indicator":"COST","score":80}]}"#).unwrap();
    let o =
        ctl(nowhere, Some(DRB), &["--json", "evaluation", "record-scores", APP, "--etag", "2", "--evaluation", "E1", "--scores", s(&bad)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e: serde_json::Value = serde_json::from_slice(&o.stderr).expect("a JSON error");
    assert_eq!(e["error"], "usage");
    assert!(e["message"].as_str().unwrap().contains("scores.scores[0].score: 120 is not a whole number of points from 0 to 100"), "{e}");

    // A download never overwrites a file unless told to.
    let o = ctl(nowhere, Some(DRB), &["evaluation", "audit-reports", "download", APP, "D1", "--out", s(&xlsx)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("exists: pass --force to replace it"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&xlsx).unwrap(), b"x");
    for p in [xlsx, bad] {
        std::fs::remove_file(p).ok();
    }
}

#[test]
fn evaluation_commands_call_the_evaluation_endpoint() {
    let evaluation = closed();
    let file = scratch("report.pdf", b"%PDF-1.7");
    let csv = root().join("services/evaluation/data/catalogue-sample.csv");
    let (entry, modules, scores) = (sample("catalogue-entry.json"), sample("screening-modules.json"), sample("evaluation-scores-drb.json"));
    for a in [
        vec!["evaluation", "entries", "register", "--entry", &entry],
        vec!["evaluation", "entries", "get", APP],
        vec!["evaluation", "entries", "list"],
        vec!["evaluation", "import", "--file", s(&csv)],
        vec!["evaluation", "screen", "--modules", &modules],
        vec!["evaluation", "indicator-systems", "get"],
        vec!["evaluation", "indicator-systems", "list"],
        vec!["evaluation", "schedules", "list"],
        vec!["evaluation", "open", APP],
        vec!["evaluation", "record-scores", APP, "--etag", "2", "--evaluation", "E1", "--scores", &scores],
        vec!["evaluation", "publish", APP, "--etag", "3", "--evaluation", "E1"],
        vec!["evaluation", "published", "list"],
        vec!["evaluation", "rectification", APP],
        vec!["evaluation", "propose-elimination", APP, "--etag", "4", "--reason", "逾期未整改"],
        vec!["evaluation", "decide-elimination", APP, "--etag", "5", "--approve"],
        vec!["evaluation", "eliminate", APP, "--etag", "6"],
        vec!["evaluation", "sharing-violation", APP, "--etag", "1", "--description", "未按目录共享"],
        vec!["evaluation", "sharing-rectified", APP, "--etag", "2"],
        vec!["evaluation", "stop", APP, "--etag", "1", "--reason", "职能调整"],
        vec!["evaluation", "assessments", "record", APP, "--etag", "1", "--kind", "等保", "--done-on", "2028-06-30"],
        vec!["evaluation", "assessments", "list"],
        vec!["evaluation", "audit-reports", "upload", APP, "--file", s(&file), "--auditor", "审计所"],
        vec!["evaluation", "audit-reports", "download", APP, "D1", "--out", "-"],
        vec!["evaluation", "queries", "search", "低保在线申请"],
        vec!["evaluation", "queries", "latest", APP],
    ] {
        let o = ctl(evaluation, Some(DRB), &a);
        assert_eq!(o.status.code(), Some(1), "{a:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("cannot reach http://{evaluation}")), "{a:?} should call evaluation at {evaluation}:\n{err}");
    }
    // --evaluation-endpoint beats the environment; --endpoint is not what these commands use.
    let other = closed();
    let o = ctl(
        evaluation,
        None,
        &["evaluation", "--evaluation-endpoint", &format!("http://{other}"), "--endpoint", "http://127.0.0.1:1", "entries", "get", APP],
    );
    assert!(stderr(&o).contains(&format!("cannot reach http://{other}")), "{}", stderr(&o));
    std::fs::remove_file(&file).ok();
}

#[test]
fn help_lists_every_evaluation_command() {
    let o = ctl(closed(), None, &["evaluation", "--help"]);
    assert!(o.status.success());
    let help = stdout(&o);
    for cmd in [
        "entries",
        "import",
        "screen",
        "indicator-systems",
        "schedules",
        "open",
        "record-scores",
        "publish",
        "published",
        "rectification",
        "propose-elimination",
        "decide-elimination",
        "eliminate",
        "sharing-violation",
        "sharing-rectified",
        "stop",
        "assessments",
        "audit-reports",
        "queries",
    ] {
        assert!(help.contains(&format!("\n  {cmd} ")), "evaluation --help lacks {cmd}:\n{help}");
    }
    assert!(help.contains("EGOVCTL_EVALUATION_ENDPOINT"), "{help}");
    for (group, cmds) in [
        ("entries", &["register", "get", "list"][..]),
        ("indicator-systems", &["get", "list"]),
        ("assessments", &["record", "list"]),
        ("audit-reports", &["upload", "download"]),
        ("queries", &["search", "latest"]),
    ] {
        let h = stdout(&ctl(closed(), None, &["evaluation", group, "--help"]));
        for cmd in cmds {
            assert!(h.contains(&format!("\n  {cmd} ")), "{group} --help lacks {cmd}:\n{h}");
        }
    }
    let top = stdout(&ctl(closed(), None, &["--help"]));
    assert!(top.contains("\n  evaluation "), "{top}");
}

// ------------------------------------------------------------------ tests against the fake

#[test]
fn the_catalogue_registered_read_and_listed() {
    let (addr, fake) = serve();
    let entry = sample("catalogue-entry.json");

    // The sample data entry goes field by field as the file says.
    let o = ctl(addr, Some(UNIT), &["evaluation", "entries", "register", "--entry", &entry, "--request-id", "req-entry-1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().register.clone().unwrap();
    assert_eq!(sent.request_id, "req-entry-1");
    let n = sent.entry.unwrap();
    assert_eq!((n.kind, n.name.as_str()), (EntryKind::Data as i32, "上城区低保家庭经济状况核对数据集"));
    assert_eq!((n.builder_unit_id.as_str(), n.operator_unit_id.as_str()), ("U-CIVIL", "U-BIGDATA"));
    assert_eq!(n.user_unit_ids, vec!["U-CIVIL", "U-STREET"]);
    assert_eq!(n.functions.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), vec!["家庭经济状况比对", "核对结果共享"]);
    assert!(n.functions[0].description.contains("身份证号"));
    let text = stdout(&o);
    for want in [
        "kind           DATA (数据编目)\n",
        "state          LISTED (在册)\n",
        "builder unit   U-CIVIL (谁建设谁负责)\n",
        "operator unit  U-BIGDATA (谁运行谁负责)\n",
        "user units     U-CIVIL, U-STREET (谁使用谁负责)\n",
        "Functions (功能模块):\n  #  FUNCTION          DESCRIPTION\n  1  家庭经济状况比对",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // A request id is generated when none is given.
    ok(&ctl(addr, Some(UNIT), &["--json", "evaluation", "entries", "register", "--entry", &entry]));
    assert_eq!(fake.state.lock().unwrap().register.clone().unwrap().request_id.len(), 36, "a UUID");

    // A unit registering an application is R-E1's refusal, its rule id printed.
    let app = scratch("app.json", r#"{"kind":"应用","name":"重复的应用","builder_unit_id":"U-CIVIL"}"#.as_bytes());
    let o = ctl(addr, Some(UNIT), &["evaluation", "entries", "register", "--entry", s(&app)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("refused by rule:\n  R-E1 [entry.kind]: applications are catalogued when accepted"), "{}", stderr(&o));
    let o = ctl(addr, Some(UNIT), &["--json", "evaluation", "entries", "register", "--entry", s(&app)]);
    let e: serde_json::Value = serde_json::from_slice(&o.stderr).expect("a JSON error");
    assert_eq!((e["precondition_violations"][0]["rule_id"].as_str(), e["code"].as_str()), (Some("R-E1"), Some("FAILED_PRECONDITION")));
    std::fs::remove_file(&app).ok();

    // The application with its schedule, security and assessments.
    let text = stdout(&ctl(addr, Some(DRB), &["evaluation", "entries", "get", APP]));
    for want in [
        &format!("entry            {APP}\n"),
        "kind             APPLICATION (应用编目)\n",
        "source           PROJECT (项目编目)\n",
        "went live on     2028-01-20\n",
        "security         等保 level 3\n",
        "next evaluation  2028-07-20 — DUE: no evaluation published since (R-E2)\n",
        "Assessments (等保测评 / 密评, R-E7):\n",
        "CLASSIFIED_PROTECTION (等保测评)  2029-01-20  no        OVERDUE",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let o = ctl(addr, Some(DRB), &["evaluation", "entries", "get", "0193a6f0-0000-7000-8000-0000000000ff"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: NOT_FOUND (5)"), "{}", stderr(&o));

    // Lists with their filters.
    let text = stdout(&ctl(
        addr,
        Some(DRB),
        &["evaluation", "entries", "list", "--kind", "application", "--state", "LISTED", "--unit", "U-CIVIL", "--page-size", "20"],
    ));
    let sent = fake.state.lock().unwrap().list.clone().unwrap();
    assert_eq!((sent.kind, sent.state, sent.unit_id.as_str(), sent.page_size), (1, 1, "U-CIVIL", 20));
    assert!(text.starts_with("ENTRY  "), "{text}");
    assert!(
        text.contains(&format!("{APP}  APPLICATION (应用编目)  LISTED (在册)  PROJECT  U-CIVIL   2028-07-20 DUE   1     {NAME}")),
        "{text}"
    );
    assert!(text.ends_with("more: --page-token page-2\n"), "{text}");
    let list = ok(&ctl(addr, Some(DRB), &["--json", "evaluation", "entries", "list", "--page-token", "page-2"]));
    assert_eq!(fake.state.lock().unwrap().list.clone().unwrap().page_token, "page-2");
    assert_eq!(list["entries"][0]["kind"], "ENTRY_KIND_APPLICATION");
    assert_eq!(stdout(&ctl(addr, Some(DRB), &["evaluation", "entries", "list", "--state", "stopped"])), "no entries\n");
}

#[test]
fn the_existing_catalogue_is_imported_streamed_in_chunks() {
    let (addr, fake) = serve();

    // The service's own sample, in one chunk: the format from the extension.
    let csv = root().join("services/evaluation/data/catalogue-sample.csv");
    let bytes = std::fs::read(&csv).unwrap();
    let o = ctl(addr, Some(DRB), &["evaluation", "import", "--file", s(&csv), "--request-id", "req-import-1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = fake.state.lock().unwrap().import.clone().unwrap();
    assert_eq!((got.header.request_id.as_str(), got.header.file_name.as_str()), ("req-import-1", "catalogue-sample.csv"));
    assert_eq!(got.header.format, pb::ImportFormat::Csv as i32);
    assert_eq!(got.chunks, vec![bytes.len()]);
    assert!(got.content == bytes, "the file as it is on disk");
    let rows = bytes.split(|b| *b == b'\n').skip(1).filter(|l| !l.is_empty()).count();
    let text = stdout(&o);
    assert!(text.contains(&format!("created       {rows} application(s) catalogued\n")), "{text}");
    assert!(text.contains("rows refused  0\n") && !text.contains("Rows not imported"), "{text}");

    // A large JSON file named otherwise: streamed in 64 KiB chunks whose concatenation is the file;
    // a row at fault is listed by row and field.
    let mut rows: Vec<serde_json::Value> = (0..600)
        .map(|i| {
            serde_json::json!({
                "external_id": format!("SC-{i:04}"),
                "name": format!("上城区第{i}号存量应用"),
                "source": "DISTRICT",
                "builder_unit": "区数据局",
                "functions": [format!("功能{i}：为群众提供第{i}项在线服务，网上申请、审核审批和结果反馈全流程办理")],
            })
        })
        .collect();
    rows[6]["source"] = "市级".into();
    let big = serde_json::to_vec_pretty(&rows).unwrap();
    assert!(big.len() > 2 * CHUNK, "{}", big.len());
    let file = scratch("目录.txt", &big);
    let o = ctl(addr, Some(DRB), &["evaluation", "import", "--file", s(&file), "--format", "json", "--file-name", "存量应用目录.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = fake.state.lock().unwrap().import.clone().unwrap();
    assert_eq!((got.header.format, got.header.file_name.as_str()), (pb::ImportFormat::Json as i32, "存量应用目录.json"));
    assert_eq!(got.chunks.len(), big.len().div_ceil(CHUNK));
    assert!(got.chunks[..got.chunks.len() - 1].iter().all(|c| *c == CHUNK), "{:?}", got.chunks);
    assert!(got.content == big, "the chunks concatenate to the file");
    let text = stdout(&o);
    assert!(text.contains("created       599 application(s) catalogued\n"), "{text}");
    assert!(
        text.contains(
            "Rows not imported (the others were):\n  ROW  FIELD   PROBLEM\n  7    source  \"市级\": DISTRICT (区级) or PROVINCE (省级)\n"
        ),
        "{text}"
    );

    // The egovctl JSON sample, --json; a unit may not import.
    let r = ok(&ctl(addr, Some(DRB), &["--json", "evaluation", "import", "--file", &sample("catalogue-import.json")]));
    assert_eq!((r["created"].as_i64(), r["errors"].as_array().map(Vec::len)), (Some(3), Some(0)));
    assert_eq!(r["sha256"], format!("fake-sha256-{}", std::fs::read(sample("catalogue-import.json")).unwrap().len()));
    let o = ctl(addr, Some(UNIT), &["evaluation", "import", "--file", s(&csv)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: PERMISSION_DENIED (7)"), "{}", stderr(&o));
    std::fs::remove_file(&file).ok();
}

#[test]
fn screening_shows_verdicts_with_scores_and_shared_terms() {
    let (addr, fake) = serve();
    let o = ctl(addr, Some(DRB), &["evaluation", "screen", "--modules", &sample("screening-modules.json"), "--limit", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().screen.clone().unwrap();
    assert_eq!(sent.limit, 3);
    assert_eq!(sent.modules.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), vec!["低保在线申请", "老年人助餐服务", "古树名木巡查"]);
    assert_eq!(sent.modules[0].description, "市民通过浙里办提交最低生活保障申请，系统自动核对家庭经济状况");
    let text = stdout(&o);
    for want in [
        "3 module(s) screened against the catalogue (R-I9): 1 duplicate, 1 partial duplicate, 1 distinct\n",
        "thresholds: duplicate from 0.85, partial duplicate from 0.60 (policy 2026-1)\n",
        "Module 1: 低保在线申请 — DUPLICATE (重复建设):\n",
        "  0.97   上城区社会救助一件事  0193a6f0-0000-7000-8000-0000000000c1  区民政局  DISTRICT (区级存量应用)  低保网上申办  低保, 申报, 居民\n",
        "Module 2: 老年人助餐服务 — PARTIAL_DUPLICATE (部分重复):\n",
        "  0.71   上城区社会救助一件事",
        "居家养老上门服务  助餐, 老人\n",
        "Module 3: 古树名木巡查 — DISTINCT (不重复):\n  no catalogued function resembles it\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // Modules on the command line; the default limit is the service's.
    let r = ok(&ctl(
        addr,
        Some(DRB),
        &["--json", "evaluation", "screen", "--module", "低保在线申请：市民在线申请低保", "--module", "古树巡查"],
    ));
    let sent = fake.state.lock().unwrap().screen.clone().unwrap();
    assert_eq!(sent.limit, 0);
    assert_eq!((sent.modules[0].name.as_str(), sent.modules[0].description.as_str()), ("低保在线申请", "市民在线申请低保"));
    assert_eq!((sent.modules[1].name.as_str(), sent.modules[1].description.as_str()), ("古树巡查", ""));
    assert_eq!(r["modules"][0]["verdict"], "SCREENING_VERDICT_DUPLICATE");
    assert_eq!(r["modules"][0]["matches"][0]["shared_terms"][0], "低保");
    assert_eq!(r["modules"][1]["matches"].as_array().map(Vec::len), Some(0));

    // The query intake asks (R-I9).
    let o = ctl(addr, Some(DRB), &["evaluation", "queries", "search", "低保在线申请", "--limit", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().search.clone().unwrap();
    assert_eq!((sent.text.as_str(), sent.limit), ("低保在线申请", 2));
    assert!(stdout(&o).contains("0.97   0193a6f0-0000-7000-8000-0000000000c1  区民政局  上城区社会救助一件事\n"), "{}", stdout(&o));
    assert_eq!(stdout(&ctl(addr, Some(DRB), &["evaluation", "queries", "search", "古树巡查"])), "no catalogued application resembles it\n");
}

#[test]
fn indicator_systems_and_schedules() {
    let (addr, fake) = serve();
    let text = stdout(&ctl(addr, Some(DRB), &["evaluation", "indicator-systems", "get"]));
    assert_eq!(fake.state.lock().unwrap().system.clone().unwrap().version, "", "the one in force today");
    for want in [
        "indicator system  policy 2028-1\n",
        "passing grade     PASS (合格) and better (R-I6); below it, rectification (R-E3)\n",
        "Indicators (指标, weights 100 % in all):\n",
        "  COST      20 %    FINANCE    COST 指标\n",
        "  EXCELLENT (优秀)  90          100.00 %       全额保障并可优先支持迭代 / fund in full, upgrades favoured\n",
        "  FAIL (不合格)     0           0.00 %         暂停运维经费，限期整改 / suspend funding until rectified\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let j = ok(&ctl(addr, Some(DRB), &["--json", "evaluation", "indicator-systems", "get", "--policy-version", "2026-1"]));
    assert_eq!(fake.state.lock().unwrap().system.clone().unwrap().version, "2026-1");
    assert_eq!((j["version"].as_str(), j["effective_from"].as_str()), (Some("2026-1"), Some("2026-01-01")));
    assert_eq!(j["grades"][2]["funding_bp"], 8000);
    let o = ctl(addr, Some(DRB), &["evaluation", "indicator-systems", "get", "--policy-version", "1999-1"]);
    assert!(stderr(&o).starts_with("error: NOT_FOUND (5)"), "{}", stderr(&o));
    let text = stdout(&ctl(addr, Some(DRB), &["evaluation", "indicator-systems", "list"]));
    assert!(text.starts_with("VERSION  EFFECTIVE FROM"), "{text}");
    assert!(
        text.contains("2028-1   2028-01-01      USAGE 25 %, EFFECT 25 %, SHARING 15 %, SECURITY 15 %, COST 20 %  PASS (合格)"),
        "{text}"
    );

    let text = stdout(&ctl(addr, Some(DRB), &["evaluation", "schedules", "list", "--due-by", "2028-07-31", "--page-size", "5"]));
    let sent = fake.state.lock().unwrap().schedules.clone().unwrap();
    assert_eq!((sent.due_by, sent.page_size), (date(2028, 7, 31), 5));
    assert!(text.contains(&format!("{APP}  2028-07-20  DUE      U-CIVIL   BUSINESS_APPLICATION  {NAME}\n")), "{text}");
    ok(&ctl(addr, Some(DRB), &["--json", "evaluation", "schedules", "list"]));
    assert_eq!(fake.state.lock().unwrap().schedules.clone().unwrap().due_by, None, "absent: all scheduled");
}

#[test]
fn an_evaluation_opened_scored_published_and_read() {
    let (addr, fake) = serve();
    let o = ctl(addr, Some(DRB), &["evaluation", "open", APP, "--request-id", "req-open-1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().open.clone().unwrap();
    assert_eq!((sent.app_id.as_str(), sent.request_id.as_str()), (APP, "req-open-1"));
    assert!(stdout(&o).contains("Evaluation E1 (绩效评价, R-E2):\n  status            OPEN (评价中)\n"), "{}", stdout(&o));
    let o = ctl(addr, Some(FINANCE), &["evaluation", "open", APP]);
    assert!(stderr(&o).contains("  R-E2 [app_id]: an evaluation is already open\n"), "{}", stderr(&o));

    // FINANCE may not score DRB's indicators: R-E2, each named.
    let drb = sample("evaluation-scores-drb.json");
    let o = ctl(addr, Some(FINANCE), &["evaluation", "record-scores", APP, "--etag", "2", "--evaluation", "E1", "--scores", &drb]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("  R-E2 [scores]: USAGE is not an indicator this role scores\n"), "{err}");
    assert!(err.contains("  R-E2 [scores]: SECURITY is not an indicator this role scores\n"), "{err}");

    // DRB's sample file, then FINANCE's, each score as the file says.
    let o = ctl(addr, Some(DRB), &["evaluation", "record-scores", APP, "--etag", "2", "--evaluation", "E1", "--scores", &drb]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().scores.last().cloned().unwrap();
    assert_eq!((sent.etag.as_str(), sent.evaluation_id.as_str()), ("2", "E1"));
    assert_eq!(sent.scores, sample_scores("evaluation-scores-drb.json"));
    assert!(stdout(&o).contains("  scored            4 indicator(s) so far\n"), "{}", stdout(&o));
    assert!(stdout(&o).contains("  USAGE      86     drb-local  DRB   月活跃用户约1.2万人"), "{}", stdout(&o));

    // Published before FINANCE scored: R-E2 names what is missing.
    let o = ctl(addr, Some(DRB), &["evaluation", "publish", APP, "--etag", "3", "--evaluation", "E1"]);
    assert!(stderr(&o).contains("  R-E2 [scores]: not scored yet: COST\n"), "{}", stderr(&o));
    let finance = sample("evaluation-scores-finance.json");
    let o = ctl(addr, Some(FINANCE), &["evaluation", "record-scores", APP, "--etag", "3", "--evaluation", "E1", "--scores", &finance]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fake.state.lock().unwrap().scores.last().cloned().unwrap().scores, sample_scores("evaluation-scores-finance.json"));

    // A stale etag is ABORTED with its hint; the current one publishes with the grade.
    let o = ctl(addr, Some(DRB), &["evaluation", "publish", APP, "--etag", "3", "--evaluation", "E1"]);
    assert!(stderr(&o).contains("ABORTED") && stderr(&o).contains("hint: the resource changed"), "{}", stderr(&o));
    let o = ctl(addr, Some(DRB), &["evaluation", "publish", APP, "--etag", "4", "--evaluation", "E1", "--comment", "运行良好，继续保障"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().publish.clone().unwrap();
    assert_eq!((sent.etag.as_str(), sent.evaluation_id.as_str(), sent.comment.as_str()), ("4", "E1", "运行良好，继续保障"));
    // 86×25 + 82×25 + 78×15 + 88×15 + 80×20 = 8290 hundredths.
    let text = stdout(&o);
    for want in [
        "next evaluation  2029-07-25 (R-E2)\n",
        "  status            PUBLISHED (已公布)\n",
        "  published on      2028-07-25\n",
        "  weighted score    82.90\n",
        "  grade             GOOD (良好), passed\n",
        "  funding           全额保障 / fund in full (100.00 % of the requested O&M funding, R-E4)\n",
        "  comment           运行良好，继续保障\n",
        "  COST       80     finance-local  FINANCE  运维经费支出与合同一致",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert!(!text.contains("Rectification"), "a passing grade asks for none: {text}");

    // The published list every government role reads, and the query intake asks (R-I6).
    let text = stdout(&ctl(addr, Some(UNIT), &["evaluation", "published", "list", "--app", APP]));
    assert_eq!(fake.state.lock().unwrap().published.clone().unwrap().app_id, APP);
    assert!(text.starts_with("PUBLISHED   APPLICATION"), "{text}");
    assert!(text.contains(&format!("2028-07-25  {APP}  82.90  GOOD (良好)  yes     100.00 % 全额保障 / fund in full  2026-1")), "{text}");
    let j = ok(&ctl(addr, Some(UNIT), &["--json", "evaluation", "published", "list"]));
    assert_eq!(
        (j["evaluations"][0]["score_centi"].as_i64(), j["evaluations"][0]["grade"].as_str()),
        (Some(8290), Some("EVALUATION_GRADE_GOOD"))
    );
    let o = ctl(addr, Some(UNIT), &["evaluation", "queries", "latest", APP]);
    assert_eq!(fake.state.lock().unwrap().latest.clone().unwrap().app_id, APP);
    assert_eq!(stdout(&o), format!("application {APP}: latest evaluation GOOD (良好) on 2028-07-25, passed (R-I6)\n"));
    let j = ok(&ctl(addr, Some(UNIT), &["--json", "evaluation", "queries", "latest", APP]));
    assert_eq!((j["evaluation"]["passed"].as_bool(), j["evaluation"]["evaluated_on"].as_str()), (Some(true), Some("2028-07-25")));
    let other = "0193a6f0-0000-7000-8000-0000000000ff";
    assert_eq!(
        stdout(&ctl(addr, Some(UNIT), &["evaluation", "queries", "latest", other])),
        format!("application {other} has never been evaluated (R-I6)\n")
    );
}

#[test]
fn a_failing_grade_to_rectification_and_elimination_with_the_leaders_approval() {
    let (addr, fake) = serve();
    ok(&ctl(addr, Some(DRB), &["--json", "evaluation", "open", APP]));
    // Scores on the command line, a comment with colons kept whole.
    let o = ctl(
        addr,
        Some(DRB),
        &[
            "evaluation",
            "record-scores",
            APP,
            "--etag",
            "2",
            "--evaluation",
            "E1",
            "--score",
            "USAGE=40:月活跃用户不足200人",
            "--score",
            "EFFECT=50",
            "--score",
            "SHARING=45:未共享：2类数据",
            "--score",
            "SECURITY=70",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().scores.last().cloned().unwrap();
    let got: Vec<(&str, i32, &str)> = sent.scores.iter().map(|s| (s.indicator.as_str(), s.score, s.comment.as_str())).collect();
    assert_eq!(
        got,
        vec![("USAGE", 40, "月活跃用户不足200人"), ("EFFECT", 50, ""), ("SHARING", 45, "未共享：2类数据"), ("SECURITY", 70, "")]
    );
    ok(&ctl(
        addr,
        Some(FINANCE),
        &["--json", "evaluation", "record-scores", APP, "--etag", "3", "--evaluation", "E1", "--score", "COST=50"],
    ));
    let text = stdout(&ctl(addr, Some(DRB), &["evaluation", "publish", APP, "--etag", "4", "--evaluation", "E1"]));
    for want in [
        // 40×25 + 50×25 + 45×15 + 70×15 + 50×20 = 4975 hundredths.
        "  weighted score    49.75\n  grade             FAIL (不合格), NOT passed\n",
        "  funding           暂停运维经费，限期整改 / suspend funding until rectified (0.00 % of the requested O&M funding, R-E4)\n",
        "Rectification (整改, R-E3):\n  status      PENDING (整改中)\n  asked by    evaluation E1 (a grade below the passing grade)\n",
        "  rectify by  2028-10-25 (a passing re-evaluation published by this day clears it)\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }

    // Proposed before the deadline: R-E3.
    let o = ctl(addr, Some(DRB), &["evaluation", "propose-elimination", APP, "--etag", "5", "--reason", "逾期未整改"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("  R-E3 [app_id]: elimination is proposed only once the rectification deadline has passed unrectified\n"),
        "{}",
        stderr(&o)
    );

    // The deadline passes unrectified (the service's timer): the rectification command says so.
    fake.state.lock().unwrap().entry.rectification.as_mut().unwrap().status = RectificationStatus::Overdue as i32;
    let text = stdout(&ctl(addr, Some(DRB), &["evaluation", "rectification", APP]));
    for want in [
        &format!("application  {APP} {NAME}\n"),
        "state        LISTED (在册)\netag         5\n",
        "  status      OVERDUE (整改逾期)\n",
        "  next        DRB may propose elimination to the leader in charge (R-E3)\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let j = ok(&ctl(addr, Some(DRB), &["--json", "evaluation", "rectification", APP]));
    assert_eq!(
        (j["rectification"]["status"].as_str(), j["elimination"].clone()),
        (Some("RECTIFICATION_STATUS_OVERDUE"), serde_json::Value::Null)
    );

    let o = ctl(addr, Some(DRB), &["evaluation", "propose-elimination", APP, "--etag", "5", "--reason", "整改期满仍未达到合格等次"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().propose.clone().unwrap();
    assert_eq!((sent.etag.as_str(), sent.reason.as_str()), ("5", "整改期满仍未达到合格等次"));
    assert!(stdout(&o).contains("Elimination (强制淘汰, R-E3):\n  status    PROPOSED (已提议淘汰，待分管区领导决定)\n"), "{}", stdout(&o));
    assert!(stdout(&o).contains("  next      the leader in charge (LEADER) approves or rejects it\n"), "{}", stdout(&o));

    // Eliminated without the leader's approval: R-E3. DRB may not decide; the leader approves.
    let o = ctl(addr, Some(DRB), &["evaluation", "eliminate", APP, "--etag", "6"]);
    assert!(stderr(&o).contains("  R-E3 [app_id]: elimination needs the approval of the district leader in charge\n"), "{}", stderr(&o));
    assert_eq!(fake.state.lock().unwrap().eliminate.clone().unwrap().etag, "6");
    let o = ctl(addr, Some(DRB), &["evaluation", "decide-elimination", APP, "--etag", "6", "--approve"]);
    assert!(stderr(&o).starts_with("error: PERMISSION_DENIED (7)"), "{}", stderr(&o));
    let o = ctl(addr, Some(LEADER), &["evaluation", "decide-elimination", APP, "--etag", "6", "--approve", "--comment", "同意淘汰"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().decide.clone().unwrap();
    assert_eq!((sent.approve, sent.comment.as_str(), sent.etag.as_str()), (true, "同意淘汰", "6"));
    let text = stdout(&o);
    assert!(text.contains("  status            APPROVED (分管区领导同意淘汰)\n"), "{text}");
    assert!(text.contains("  decided           2028-07-25 by leader-token\n  decision comment  同意淘汰\n"), "{text}");
    let o = ctl(addr, Some(DRB), &["evaluation", "eliminate", APP, "--etag", "7"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.lines().any(|l| l.starts_with("state ") && l.ends_with(" ELIMINATED (强制淘汰)")), "{text}");
    assert!(text.contains("  status            EXECUTED (已强制淘汰)\n"), "{text}");
    assert!(!text.contains("next evaluation"), "an eliminated application has no schedule: {text}");

    // A rejection is sent as such.
    let (addr, fake) = serve();
    fake.state.lock().unwrap().entry.elimination =
        Some(pb::Elimination { status: EliminationStatus::Proposed as i32, ..Default::default() });
    let j = ok(&ctl(addr, Some(LEADER), &["--json", "evaluation", "decide-elimination", APP, "--etag", "1", "--reject"]));
    assert!(!fake.state.lock().unwrap().decide.clone().unwrap().approve);
    assert_eq!(j["elimination"]["status"], "ELIMINATION_STATUS_REJECTED");
}

#[test]
fn sharing_violations_stops_and_assessments() {
    let (addr, fake) = serve();
    let o =
        ctl(addr, Some(DRB), &["evaluation", "sharing-violation", APP, "--etag", "1", "--description", "低保核对数据未按目录向街道共享"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().violation.clone().unwrap();
    assert_eq!((sent.entry_id.as_str(), sent.etag.as_str(), sent.description.as_str()), (APP, "1", "低保核对数据未按目录向街道共享"));
    let text = stdout(&o);
    assert!(text.contains("Sharing violation (数据共享, R-E5):\n  status       PENDING (整改中)\n"), "{text}");
    assert!(text.contains("  rectify by   2028-10-25 (unrectified, delisted the day after)\n"), "{text}");
    let o = ctl(addr, Some(DRB), &["evaluation", "sharing-rectified", APP, "--etag", "2", "--note", "已于9月完成目录共享"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fake.state.lock().unwrap().rectified.clone().unwrap().note, "已于9月完成目录共享");
    assert!(
        stdout(&o).contains("  status         RECTIFIED (已整改)\n") && stdout(&o).contains("  rectification  已于9月完成目录共享\n"),
        "{}",
        stdout(&o)
    );

    // 等保 recorded by its Chinese name; 密评 on a system that is not important is R-E7's refusal.
    let o = ctl(
        addr,
        Some(UNIT),
        &[
            "evaluation",
            "assessments",
            "record",
            APP,
            "--etag",
            "3",
            "--kind",
            "等保",
            "--done-on",
            "2028-07-20",
            "--conclusion",
            "基本符合",
            "--report-reference",
            "DJCP-2028-0715",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().assessment.clone().unwrap();
    assert_eq!((sent.kind, sent.done_on, sent.etag.as_str()), (AssessmentKind::ClassifiedProtection as i32, date(2028, 7, 20), "3"));
    assert_eq!((sent.conclusion.as_str(), sent.report_reference.as_str()), ("基本符合", "DJCP-2028-0715"));
    assert!(
        stdout(&o).contains("  CLASSIFIED_PROTECTION (等保测评)  2029-07-20  no        no       2028-07-20  基本符合    DJCP-2028-0715\n"),
        "{}",
        stdout(&o)
    );
    let o = ctl(
        addr,
        Some(UNIT),
        &["evaluation", "assessments", "record", APP, "--etag", "4", "--kind", "cryptography", "--done-on", "2028-07-20"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("  R-E7 [kind]: 密评 is tracked for important information systems only\n"), "{}", stderr(&o));
    assert_eq!(fake.state.lock().unwrap().assessment.clone().unwrap().kind, AssessmentKind::Cryptography as i32);

    // The list, all or overdue only.
    let text = stdout(&ctl(addr, Some(DRB), &["evaluation", "assessments", "list"]));
    assert!(
        text.contains(&format!("{APP}  CLASSIFIED_PROTECTION (等保测评)  2029-07-20  no        no       2028-07-20  U-CIVIL   {NAME}\n")),
        "{text}"
    );
    assert!(!fake.state.lock().unwrap().assessments.clone().unwrap().overdue_only);
    assert_eq!(stdout(&ctl(addr, Some(DRB), &["evaluation", "assessments", "list", "--overdue-only"])), "no assessments\n");
    assert!(fake.state.lock().unwrap().assessments.clone().unwrap().overdue_only);

    // The unit stops its application (R-E6): the ineligible year is shown; stopping again is refused.
    let o = ctl(addr, Some(UNIT), &["evaluation", "stop", APP, "--etag", "4", "--reason", "业务职能调整，系统整合至市级平台"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().stop.clone().unwrap();
    assert_eq!((sent.etag.as_str(), sent.reason.as_str()), ("4", "业务职能调整，系统整合至市级平台"));
    let text = stdout(&o);
    assert!(text.contains("state            STOPPED (停用)\n"), "{text}");
    assert!(text.contains("Stopped (停用, R-E6):\n  stopped on  2028-07-25\n"), "{text}");
    assert!(
        text.contains("  early stop  yes: stopped within the policy's years of going live; the unit may not apply in 2029\n"),
        "{text}"
    );
    let o = ctl(addr, Some(UNIT), &["--json", "evaluation", "stop", APP, "--etag", "5", "--reason", "再次停用"]);
    let e: serde_json::Value = serde_json::from_slice(&o.stderr).expect("a JSON error");
    assert_eq!(e["precondition_violations"][0]["rule_id"], "R-E6");
}

#[test]
fn audit_reports_uploaded_and_downloaded_whole() {
    let (addr, fake) = serve();
    let report = content(2 * CHUNK + 7);
    let file = scratch("审计报告.pdf", &report);
    let o = ctl(
        addr,
        Some(UNIT),
        &[
            "evaluation",
            "audit-reports",
            "upload",
            APP,
            "--file",
            s(&file),
            "--auditor",
            "浙江某某会计师事务所",
            "--conclusion",
            "资金使用规范",
            "--request-id",
            "req-audit-1",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let got = fake.state.lock().unwrap().audit.clone().unwrap();
    let h = &got.header;
    assert_eq!((h.request_id.as_str(), h.app_id.as_str(), h.auditor.as_str()), ("req-audit-1", APP, "浙江某某会计师事务所"));
    assert_eq!((h.conclusion.as_str(), h.content_type.as_str()), ("资金使用规范", "application/pdf"));
    assert!(h.file_name.ends_with("审计报告.pdf"), "the file's own name: {}", h.file_name);
    assert_eq!(got.chunks, vec![CHUNK, CHUNK, 7]);
    assert!(got.content == report, "the chunks concatenate to the file");
    let text = stdout(&o);
    assert!(text.contains("Third-party audits (R-E8):\n  DOCUMENT  AUDITOR               FILE"), "{text}");
    assert!(text.contains("  D1        浙江某某会计师事务所"), "{text}");
    assert!(text.contains("131079  unit-token"), "{text}");
    let j = ok(&ctl(
        addr,
        Some(UNIT),
        &[
            "--json",
            "evaluation",
            "audit-reports",
            "upload",
            APP,
            "--file",
            s(&file),
            "--file-name",
            "2028年度审计报告.pdf",
            "--content-type",
            "application/ofd",
            "--auditor",
            "审计所",
        ],
    ));
    let h = fake.state.lock().unwrap().audit.clone().unwrap().header;
    assert_eq!((h.file_name.as_str(), h.content_type.as_str(), h.conclusion.as_str()), ("2028年度审计报告.pdf", "application/ofd", ""));
    assert_eq!(j["audits"][1]["file_name"], "2028年度审计报告.pdf");

    // Down to a file, whole; to standard output, the content alone, the summary on standard error.
    let out = scratch_path("download.pdf");
    let o = ctl(addr, Some(DRB), &["evaluation", "audit-reports", "download", APP, "D1", "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = fake.state.lock().unwrap().download.clone().unwrap();
    assert_eq!((sent.app_id.as_str(), sent.document_id.as_str()), (APP, "D1"));
    assert!(std::fs::read(&out).unwrap() == report, "the downloaded file is the uploaded one");
    assert!(stdout(&o).contains("auditor       浙江某某会计师事务所\n"), "{}", stdout(&o));
    assert!(stdout(&o).ends_with(&format!("\nwrote 131079 bytes to {}: all 131079 bytes announced arrived\n", s(&out))), "{}", stdout(&o));
    let o = ctl(addr, Some(DRB), &["evaluation", "audit-reports", "download", APP, "D1", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "an existing file is kept: {}", stderr(&o));
    let d = ok(&ctl(addr, Some(DRB), &["--json", "evaluation", "audit-reports", "download", APP, "D1", "--out", s(&out), "--force"]));
    assert_eq!((d["bytes_written"].as_u64(), d["audit"]["document_id"].as_str()), (Some(131_079), Some("D1")));
    let o = ctl(addr, Some(DRB), &["evaluation", "audit-reports", "download", APP, "D1", "--out", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout == report, "standard output carries the content alone");
    assert!(stderr(&o).contains("wrote 131079 bytes to standard output: all 131079 bytes announced arrived"), "{}", stderr(&o));

    // A download that ends short, or fails midway, keeps nothing and exits 1.
    let partial = scratch_path("short.pdf");
    for (id, says) in
        [("D-SHORT", "the download is incomplete: 5 of the 10 bytes of 短.pdf arrived; nothing was kept"), ("D-BROKEN", "DATA_LOSS")]
    {
        let o = ctl(addr, Some(DRB), &["evaluation", "audit-reports", "download", APP, id, "--out", s(&partial)]);
        assert_eq!(o.status.code(), Some(1), "{id}");
        assert!(stderr(&o).contains(says), "{id} should say {says:?}:\n{}", stderr(&o));
        assert!(!partial.exists(), "{id}: nothing is kept");
        assert!(!PathBuf::from(format!("{}.part", s(&partial))).exists(), "{id}: no part file is left");
        let o = ctl(addr, Some(DRB), &["evaluation", "audit-reports", "download", APP, id, "--out", "-"]);
        assert_eq!(o.status.code(), Some(1), "{id}");
        assert!(o.stdout.is_empty(), "{id}: nothing reaches standard output");
    }

    // Every call carried its bearer token.
    assert!(fake.state.lock().unwrap().tokens.iter().all(|t| [UNIT, DRB].iter().any(|k| *t == format!("Bearer {k}"))));
    for p in [file, out] {
        std::fs::remove_file(p).ok();
    }
}
