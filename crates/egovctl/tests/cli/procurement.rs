//! The `procurement` commands of the `egovctl` binary: usage errors exit 2 before anything is
//! called; well-formed commands go to --procurement-endpoint / EGOVCTL_PROCUREMENT_ENDPOINT (not
//! to --endpoint); and against an in-memory fake of the procurement service, the requests carry
//! what the command line and the terms file say (fen, basis points, dates, the R-P9 flags), the
//! answers print as tables or JSON, and refusals print their rule ids and fields.
//!
//! The fake checks what a client must get right (bearer tokens, etags, the request fields), not
//! the Measures: those are the procurement service's own tests.

use crate::common;

use std::{
    net::SocketAddr,
    path::PathBuf,
    process::Output,
    sync::{Arc, Mutex},
};

use egov_proto::{
    common::CivilDate,
    procurement::{
        self as pb, CaseState, ContractRecord, InspectionDraw, OcdsReleasePackage, PaymentStage, ProcurementCase, ProgressReport,
        SignedStatement,
        procurement_server::{Procurement, ProcurementServer},
    },
};
use tonic::{Request, Response, Status, transport::Server};

use crate::common::{INTAKE, PROCUREMENT, REVIEW, closed, invalid, ok, refused, root, stderr, stdout};

// ------------------------------------------------------------------ the fake service

const PROJECT: &str = "0193a6f0-0000-7000-8000-000000000001";

#[derive(Default)]
struct State {
    case: ProcurementCase,
    /// The last request of each kind, as received.
    record: Option<pb::RecordProcurementRequest>,
    contract: Option<pb::FileContractRequest>,
    plan: Option<pb::SetPaymentPlanRequest>,
    draw: Option<pb::DrawInspectionsRequest>,
    terminate: Option<pb::TerminateProjectRequest>,
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

impl Fake {
    /// Every call needs a bearer token (which one is the real service's business): the request
    /// when it has one.
    fn authed<T>(&self, req: Request<T>) -> Result<T, Status> {
        let h = req.metadata().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        if !h.starts_with("Bearer ") {
            return Err(Status::unauthenticated("no bearer token"));
        }
        self.state.lock().unwrap().tokens.push(h);
        Ok(req.into_inner())
    }

    /// Runs `f` on the case when `etag` is current and bumps the etag.
    fn update(&self, project_id: &str, etag: &str, f: impl FnOnce(&mut ProcurementCase) -> Result<(), Status>) -> Res<ProcurementCase> {
        let mut st = self.state.lock().unwrap();
        if project_id != st.case.project_id {
            return Err(Status::not_found(format!("no procurement case {project_id}")));
        }
        if etag != st.case.etag {
            return Err(Status::aborted(format!("the case has etag {}, the request sent {etag}", st.case.etag)));
        }
        f(&mut st.case)?;
        st.case.etag = (st.case.etag.parse::<u32>().unwrap_or(0) + 1).to_string();
        Ok(Response::new(st.case.clone()))
    }
}

#[tonic::async_trait]
impl Procurement for Fake {
    async fn get_case(&self, req: Request<pb::GetCaseRequest>) -> Res<ProcurementCase> {
        let r = self.authed(req)?;
        let st = self.state.lock().unwrap();
        if r.project_id != st.case.project_id {
            return Err(Status::not_found(format!("no procurement case {}", r.project_id)));
        }
        Ok(Response::new(st.case.clone()))
    }

    async fn list_cases(&self, req: Request<pb::ListCasesRequest>) -> Res<pb::ListCasesResponse> {
        let r = self.authed(req)?;
        let st = self.state.lock().unwrap();
        let cases = if r.state == 0 || r.state == st.case.state { vec![st.case.clone()] } else { vec![] };
        Ok(Response::new(pb::ListCasesResponse { cases, next_page_token: String::new() }))
    }

    async fn record_procurement(&self, req: Request<pb::RecordProcurementRequest>) -> Res<ProcurementCase> {
        let r = self.authed(req)?;
        self.state.lock().unwrap().record = Some(r.clone());
        self.update(&r.project_id, &r.etag, |k| {
            k.procurement = r.record.clone();
            k.state = CaseState::Procured as i32;
            Ok(())
        })
    }

    async fn file_contract(&self, req: Request<pb::FileContractRequest>) -> Res<ProcurementCase> {
        let r = self.authed(req)?;
        self.state.lock().unwrap().contract = Some(r.clone());
        let t = r.terms.clone().unwrap_or_default();
        let mut v = Vec::new();
        if t.security_responsibility_letter == SignedStatement::NotStated as i32 {
            v.push(("R-P2", "terms.security_responsibility_letter_signed", "安全责任书: state whether one is signed"));
        }
        if !t.overrun_penalty_clause {
            v.push(("R-P2", "terms.overrun_penalty_clause", "超期惩罚条款 missing"));
        }
        if !v.is_empty() {
            return Err(refused("the contract filing is refused", &v));
        }
        self.update(&r.project_id, &r.etag, |k| {
            k.contract = Some(ContractRecord {
                terms: Some(t),
                signed_on: r.contract_signed_on,
                filed_on: r.filed_on,
                filing_deadline: r.filed_on,
                security: r.security,
                ..Default::default()
            });
            k.state = CaseState::Construction as i32;
            Ok(())
        })
    }

    async fn set_payment_plan(&self, req: Request<pb::SetPaymentPlanRequest>) -> Res<ProcurementCase> {
        let r = self.authed(req)?;
        self.state.lock().unwrap().plan = Some(r.clone());
        let sum: u32 = r.stages.iter().map(|s| s.ratio_bp).sum();
        if sum != 10_000 {
            return Err(refused("the payment plan is refused", &[("R-P6", "stages", &format!("the ratios sum to {sum} bp"))]));
        }
        self.update(&r.project_id, &r.etag, |k| {
            let contract = k.contract.get_or_insert_with(Default::default);
            let amount = contract.terms.as_ref().map_or(0, |t| t.amount_fen);
            contract.payment_stages = r
                .stages
                .iter()
                .map(|s| PaymentStage {
                    stage_id: s.stage_id.clone(),
                    condition: s.condition.clone(),
                    ratio_bp: s.ratio_bp,
                    amount_fen: amount * i64::from(s.ratio_bp) / 10_000,
                    ..Default::default()
                })
                .collect();
            Ok(())
        })
    }

    async fn mark_stage_condition_met(&self, req: Request<pb::MarkStageConditionMetRequest>) -> Res<ProcurementCase> {
        let r = self.authed(req)?;
        self.update(&r.project_id, &r.etag, |k| {
            let stage =
                k.contract.as_mut().and_then(|c| c.payment_stages.iter_mut().find(|s| s.stage_id == r.stage_id)).ok_or_else(|| {
                    invalid("invalid request", "stage_id", &format!("{:?} is not a stage of the payment plan", r.stage_id))
                })?;
            stage.condition_met = true;
            stage.condition_evidence = r.evidence.clone();
            stage.condition_met_on = date(2026, 11, 24);
            Ok(())
        })
    }

    async fn file_payment(&self, req: Request<pb::FilePaymentRequest>) -> Res<ProcurementCase> {
        let r = self.authed(req)?;
        self.update(&r.project_id, &r.etag, |k| {
            let c = k.contract.get_or_insert_with(Default::default);
            c.payments.push(pb::PaymentFiling { stage_id: r.stage_id.clone(), amount_fen: r.amount_fen, filed_on: date(2026, 11, 24) });
            c.paid_fen += r.amount_fen;
            Ok(())
        })
    }

    async fn report_progress(&self, req: Request<pb::ReportProgressRequest>) -> Res<ProcurementCase> {
        let r = self.authed(req)?;
        if r.month.is_some_and(|m| (m.year, m.month) > (2026, 11)) {
            return Err(invalid("invalid request", "month", "2026-12 is still to come (today is 2026-11-24)"));
        }
        self.update(&r.project_id, &r.etag, |k| {
            k.progress_reports.push(ProgressReport {
                month: r.month,
                reported_on: date(2026, 11, 24),
                due_on: date(2026, 11, 20),
                late: true,
                percent_complete: r.percent_complete,
                summary: r.summary.clone(),
                issues: r.issues.clone(),
                reported_by: "UNIT U-CIVIL".into(),
            });
            Ok(())
        })
    }

    async fn draw_inspections(&self, req: Request<pb::DrawInspectionsRequest>) -> Res<InspectionDraw> {
        let r = self.authed(req)?;
        self.state.lock().unwrap().draw = Some(r.clone());
        Ok(Response::new(draw(r.seed.unwrap_or(7), r.count, &r.note)))
    }

    async fn get_inspection_draw(&self, req: Request<pb::GetInspectionDrawRequest>) -> Res<InspectionDraw> {
        if self.authed(req)?.draw_id != "D1" {
            return Err(Status::not_found("no such draw"));
        }
        Ok(Response::new(draw(7, 1, "")))
    }

    async fn list_inspection_draws(&self, req: Request<pb::ListInspectionDrawsRequest>) -> Res<pb::ListInspectionDrawsResponse> {
        self.authed(req)?;
        Ok(Response::new(pb::ListInspectionDrawsResponse { draws: vec![draw(7, 1, "")], next_page_token: "D0".into() }))
    }

    async fn explain_overrun(&self, req: Request<pb::ExplainOverrunRequest>) -> Res<ProcurementCase> {
        let r = self.authed(req)?;
        self.update(&r.project_id, &r.etag, |k| {
            k.overrun = Some(pb::Overrun { explanation: r.explanation.clone(), days: 3, ..Default::default() });
            Ok(())
        })
    }

    async fn declare_construction_complete(&self, req: Request<pb::DeclareConstructionCompleteRequest>) -> Res<ProcurementCase> {
        let r = self.authed(req)?;
        self.update(&r.project_id, &r.etag, |k| {
            k.completion = Some(pb::Completion {
                completed_on: r.completed_on,
                declared_on: date(2026, 11, 24),
                summary: r.summary.clone(),
                overrun_days: 0,
            });
            k.state = CaseState::ConstructionCompleted as i32;
            Ok(())
        })
    }

    async fn terminate_project(&self, req: Request<pb::TerminateProjectRequest>) -> Res<ProcurementCase> {
        let r = self.authed(req)?;
        self.state.lock().unwrap().terminate = Some(r.clone());
        if r.party_committee_resolution.is_empty() {
            return Err(refused("the termination is refused", &[("R-P10", "party_committee_resolution", "党委（党组）会议决议 required")]));
        }
        self.update(&r.project_id, &r.etag, |k| {
            k.state = CaseState::Terminated as i32;
            Ok(())
        })
    }

    async fn export_ocds(&self, req: Request<pb::ExportOcdsRequest>) -> Res<OcdsReleasePackage> {
        let id = self.authed(req)?.project_id;
        Ok(Response::new(OcdsReleasePackage {
            json: format!(r#"{{"version":"1.1","uri":"urn:egov:{id}","releases":[{{"ocid":"ocds-egov-{id}","tag":["contract"]}}]}}"#),
        }))
    }
}

fn draw(seed: u64, count: u32, note: &str) -> InspectionDraw {
    InspectionDraw {
        draw_id: "D1".into(),
        seed,
        count,
        pool: vec![PROJECT.into(), "P2".into()],
        drawn: vec![PROJECT.into()],
        drawn_by: "drb-local".into(),
        note: note.into(),
        ..Default::default()
    }
}

fn new_case() -> ProcurementCase {
    ProcurementCase {
        project_id: PROJECT.into(),
        project_name: "上城区社会救助综合服务应用（浙政钉端）".into(),
        lead_unit_id: "U-CIVIL".into(),
        budget_fen: 108_000_000,
        funding_source: "DISTRICT_FISCAL".into(),
        planned_construction_months: 10,
        approved_on: date(2026, 11, 24),
        document_number: "上数〔2026〕123号".into(),
        procurement_deadline: date(2027, 5, 24),
        state: CaseState::Procuring as i32,
        etag: "1".into(),
        ..Default::default()
    }
}

/// Serves a fake with one new case on a free port, for the life of the test process.
fn serve() -> (SocketAddr, Fake) {
    let fake = Fake::default();
    fake.state.lock().unwrap().case = new_case();
    let served = fake.clone();
    let addr = common::serve(move || async move { Server::builder().add_service(ProcurementServer::new(served)) });
    (addr, fake)
}

// ------------------------------------------------------------------ running the binary

/// Runs egovctl with intake and review at closed ports and procurement at `procurement`.
fn ctl<S: AsRef<std::ffi::OsStr>>(procurement: SocketAddr, token: Option<&str>, args: &[S]) -> Output {
    common::egovctl(&[(INTAKE, closed()), (REVIEW, closed()), (PROCUREMENT, procurement)], token, args)
}

const UNIT: &str = "unit-token";

fn scratch(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("egovctl-{name}-{}-{}", std::process::id(), uuid::Uuid::now_v7()));
    std::fs::write(&p, text).unwrap();
    p
}

fn sample_terms() -> String {
    root().join("crates/egovctl/samples/contract-terms.json").to_str().unwrap().to_string()
}

// ------------------------------------------------------------------ tests without a server

#[test]
fn usage_errors_exit_2_before_calling() {
    let nowhere = closed();
    let file = |extra: &[&str]| {
        let mut v: Vec<String> =
            ["procurement", "file-contract", PROJECT, "--etag", "2", "--signed-on", "2026-11-20", "--filed-on", "2026-11-24"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    for (args, says) in [
        (vec!["procurement", "cases", "list", "--state", "BUILDING"], "PROCURING, PROCURED"),
        (vec!["procurement", "payment-plan", PROJECT, "--etag", "3", "--stage", "1=30%"], "付款条件"),
        (vec!["procurement", "payment-plan", PROJECT, "--etag", "3", "--stage", "1=0%:合同签订"], "more than 0"),
        (vec!["procurement", "payment-plan", PROJECT, "--etag", "3", "--stage", "1=30%:x", "--stage", "1=70%:y"], "stage 1 is given twice"),
        (
            vec!["procurement", "report-progress", PROJECT, "--etag", "3", "--month", "2026-13", "--percent", "1", "--summary", "x"],
            "not a month",
        ),
        (vec!["procurement", "file-payment", PROJECT, "--etag", "3", "--stage", "1", "--amount-fen", "1.5"], "1.5"),
        (vec!["procurement", "terminate", PROJECT, "--etag", "3", "--ground", "BORED", "--reason", "x"], "FORCE_MAJEURE"),
        (vec!["procurement", "inspections", "draw", "--count", "0"], "0"),
        (vec!["procurement", "complete", PROJECT, "--etag", "3", "--completed-on", "2027-02-29"], "2027-02-29"),
    ] {
        let o = ctl(nowhere, Some(UNIT), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?} should say {says:?}:\n{}", stderr(&o));
    }
    // The terms file is read before connecting: a missing or malformed file is a usage error.
    let o = ctl(nowhere, Some(UNIT), &file(&["--terms", "/nonexistent/terms.json", "--protection-level", "3"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot read the terms file"), "{}", stderr(&o));
    let bad = scratch("terms", r#"{"project_name":"x","construction_end":"2027-02-30","security_agreement":"MAYBE","penalties":true}"#);
    let o = ctl(nowhere, Some(UNIT), &file(&["--terms", bad.to_str().unwrap(), "--protection-level", "3"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown field `penalties`"), "{}", stderr(&o));
    std::fs::write(&bad, r#"{"project_name":"x","construction_end":"2027-02-30","security_agreement":"MAYBE"}"#).unwrap();
    let o = ctl(
        nowhere,
        Some(UNIT),
        &[vec!["--json".to_string()], file(&["--terms", bad.to_str().unwrap(), "--protection-level", "3"])].concat(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e: serde_json::Value = serde_json::from_slice(&o.stderr).expect("a JSON error");
    assert_eq!(e["error"], "usage");
    let m = e["message"].as_str().unwrap();
    assert!(
        m.contains("terms.construction_end: \"2027-02-30\" is not a date") && m.contains("terms.security_agreement: unknown value"),
        "{m}"
    );
    std::fs::remove_file(&bad).ok();
    // The 等保 level is required (R-P9) and 1..5.
    for level in [None, Some("0"), Some("6")] {
        let mut args = file(&["--terms", "x.json"]);
        if let Some(l) = level {
            args.extend(["--protection-level".to_string(), l.to_string()]);
        }
        let o = ctl(nowhere, Some(UNIT), &args);
        assert_eq!(o.status.code(), Some(2), "{level:?}: {}", stderr(&o));
    }
}

#[test]
fn procurement_commands_call_the_procurement_endpoint() {
    let procurement = closed();
    let terms = sample_terms();
    for args in [
        vec!["procurement", "cases", "list", "--state", "construction"],
        vec!["procurement", "cases", "get", PROJECT],
        vec![
            "procurement",
            "record",
            PROJECT,
            "--etag",
            "1",
            "--channel",
            "SMALL_PUBLIC_RESOURCE_TRADING",
            "--method",
            "询价",
            "--supplier",
            "某公司",
            "--supplier-credit-code",
            "91350100M000100Y43",
            "--amount-fen",
            "1000",
            "--implementing-body",
            "信息中心",
            "--responsible-person",
            "张三",
            "--completed-on",
            "2026-11-24",
        ],
        vec![
            "procurement",
            "file-contract",
            PROJECT,
            "--etag",
            "2",
            "--terms",
            &terms,
            "--signed-on",
            "2026-11-24",
            "--filed-on",
            "2026-11-24",
            "--protection-level",
            "2",
        ],
        vec!["procurement", "payment-plan", PROJECT, "--etag", "3", "--stage", "1=100%:合同签订"],
        vec!["procurement", "condition-met", PROJECT, "--etag", "4", "--stage", "1", "--evidence", "合同"],
        vec!["procurement", "file-payment", PROJECT, "--etag", "5", "--stage", "1", "--amount-fen", "1000"],
        vec!["procurement", "report-progress", PROJECT, "--etag", "6", "--month", "2026-11", "--percent", "5", "--summary", "开工"],
        vec!["procurement", "inspections", "draw", "--count", "1"],
        vec!["procurement", "inspections", "get", "D1"],
        vec!["procurement", "inspections", "list"],
        vec!["procurement", "explain-overrun", PROJECT, "--etag", "7", "--explanation", "设备到货延误"],
        vec!["procurement", "complete", PROJECT, "--etag", "8", "--completed-on", "2026-11-24"],
        vec!["procurement", "terminate", PROJECT, "--etag", "9", "--ground", "OTHER", "--reason", "x"],
        vec!["procurement", "ocds", PROJECT],
    ] {
        let o = ctl(procurement, Some(UNIT), &args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("cannot reach http://{procurement}")), "{args:?} should call procurement at {procurement}:\n{err}");
    }
    // --procurement-endpoint beats the environment; --endpoint is not what these commands use.
    let other = closed();
    let o = ctl(
        procurement,
        None,
        &["procurement", "--procurement-endpoint", &format!("http://{other}"), "--endpoint", "http://127.0.0.1:1", "ocds", PROJECT],
    );
    assert!(stderr(&o).contains(&format!("cannot reach http://{other}")), "{}", stderr(&o));
}

#[test]
fn help_lists_every_procurement_command() {
    let o = ctl(closed(), None, &["procurement", "--help"]);
    assert!(o.status.success());
    let help = stdout(&o);
    for cmd in [
        "cases",
        "record",
        "file-contract",
        "payment-plan",
        "condition-met",
        "file-payment",
        "report-progress",
        "inspections",
        "explain-overrun",
        "complete",
        "terminate",
        "ocds",
    ] {
        assert!(help.contains(&format!("\n  {cmd} ")), "procurement --help lacks {cmd}:\n{help}");
    }
    assert!(help.contains("EGOVCTL_PROCUREMENT_ENDPOINT"), "{help}");
    let top = stdout(&ctl(closed(), None, &["--help"]));
    assert!(top.contains("\n  procurement "), "{top}");
}

// ------------------------------------------------------------------ tests against the fake

#[test]
fn a_project_from_procurement_to_completion() {
    let (addr, fake) = serve();
    let terms = sample_terms();

    // The new case, for people and as JSON.
    let o = ctl(addr, Some(UNIT), &["procurement", "cases", "get", PROJECT]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("state         PROCURING\n") && text.contains("procure by    2027-05-24 (R-P1)\n"), "{text}");
    let list = stdout(&ctl(addr, Some(UNIT), &["procurement", "cases", "list", "--state", "PROCURING"]));
    assert!(list.starts_with("PROJECT") && list.contains("PROCURING"), "{list}");
    assert_eq!(stdout(&ctl(addr, Some(UNIT), &["procurement", "cases", "list", "--state", "TERMINATED"])), "no cases\n");

    // Procurement recorded, with the supervision contract (R-P3).
    let k = ok(&ctl(
        addr,
        Some(UNIT),
        &[
            "--json",
            "procurement",
            "record",
            PROJECT,
            "--etag",
            "1",
            "--channel",
            "government-procurement",
            "--method",
            "公开招标",
            "--supplier",
            "杭州某某科技有限公司",
            "--supplier-credit-code",
            "91350100M000100Y43",
            "--amount-fen",
            "97200000",
            "--implementing-body",
            "区民政局",
            "--responsible-person",
            "张三",
            "--completed-on",
            "2026-11-24",
            "--supervision-credit-code",
            "91440101MA5CJQ4N59",
            "--supervision-fee-fen",
            "2160000",
            "--supervision-separately-procured",
            "--request-id",
            "req-record-1",
        ],
    ));
    assert_eq!(k["state"], "CASE_STATE_PROCURED");
    assert_eq!(k["etag"], "2");
    assert_eq!(k["procurement"]["supervision"]["fee_fen"], 2_160_000);
    let r = fake.state.lock().unwrap().record.clone().unwrap();
    assert_eq!(r.request_id, "req-record-1");
    let rec = r.record.unwrap();
    assert_eq!((rec.channel.as_str(), rec.amount_fen, rec.completed_on), ("GOVERNMENT_PROCUREMENT", 97_200_000, date(2026, 11, 24)));
    assert!(rec.supervision.unwrap().separately_procured);

    // A contract missing clauses is refused: every rule listed, exit 1.
    let partial = scratch("partial-terms", r#"{"project_name":"上城区社会救助综合服务应用（浙政钉端）","amount_fen":97200000}"#);
    let contract = |file: &str| {
        vec![
            "procurement".to_string(),
            "file-contract".into(),
            PROJECT.into(),
            "--etag".into(),
            "2".into(),
            "--terms".into(),
            file.to_string(),
            "--signed-on".into(),
            "2026-11-20".into(),
            "--filed-on".into(),
            "2026-11-24".into(),
            "--protection-level".into(),
            "3".into(),
            "--important-system".into(),
        ]
    };
    let args = contract(partial.to_str().unwrap());
    let o = ctl(addr, Some(UNIT), &args);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("error: FAILED_PRECONDITION (9): the contract filing is refused\nrefused by rule:\n"), "{err}");
    assert!(err.contains("  R-P2 [terms.security_responsibility_letter_signed]: 安全责任书"), "{err}");
    assert!(err.contains("  R-P2 [terms.overrun_penalty_clause]: 超期惩罚条款 missing"), "{err}");
    let o = ctl(addr, Some(UNIT), &[vec!["--json".to_string()], args].concat());
    let e: serde_json::Value = serde_json::from_slice(&o.stderr).expect("a JSON error");
    assert_eq!(e["precondition_violations"][1]["rule_id"], "R-P2");
    assert_eq!(e["precondition_violations"][1]["subject"], "terms.overrun_penalty_clause");
    std::fs::remove_file(&partial).ok();

    // The full terms go as the file says, with the R-P9 flags.
    let o = ctl(addr, Some(UNIT), &contract(&terms));
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("Contract (合同备案, R-P2, R-P5, R-P9):\n"), "{text}");
    assert!(text.contains("  construction           2027-01-01 .. 2027-10-31\n"), "{text}");
    assert!(text.contains("  security (R-P9)        等保 level 3, important information system\n"), "{text}");
    let sent = fake.state.lock().unwrap().contract.clone().unwrap();
    assert_eq!((sent.contract_signed_on, sent.filed_on), (date(2026, 11, 20), date(2026, 11, 24)));
    let flags = sent.security.unwrap();
    assert_eq!((flags.classified_protection_level, flags.important_system), (3, true));
    let t = sent.terms.unwrap();
    assert_eq!((t.amount_fen, t.maintenance_end, t.security_agreement), (97_200_000, date(2029, 10, 31), SignedStatement::Signed as i32));
    // The filed terms come back as a terms file.
    let o = ctl(addr, Some(UNIT), &["procurement", "cases", "get", PROJECT, "--as-terms"]);
    let back: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a terms file");
    assert_eq!(back["security_responsibility_letter"], "SIGNED");
    assert_eq!(back["construction_end"], "2027-10-31");

    // A plan whose ratios do not sum to 100 % is the service's R-P6 refusal; the plan in percent.
    let o = ctl(
        addr,
        Some(UNIT),
        &["procurement", "payment-plan", PROJECT, "--etag", "3", "--stage", "1=30%:合同签订", "--stage", "2=40%:初验通过"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("  R-P6 [stages]: the ratios sum to 7000 bp\n"), "{}", stderr(&o));
    let k = ok(&ctl(
        addr,
        Some(UNIT),
        &[
            "--json",
            "procurement",
            "payment-plan",
            PROJECT,
            "--etag",
            "3",
            "--stage",
            "1=30%:合同签订",
            "--stage",
            "2=40%:初验通过",
            "--stage",
            "3=3000bp:终验通过",
        ],
    ));
    assert_eq!(k["contract"]["payment_stages"][2]["ratio_bp"], 3000);
    assert_eq!(k["contract"]["payment_stages"][0]["amount_fen"], 29_160_000);
    let plan = fake.state.lock().unwrap().plan.clone().unwrap();
    assert_eq!(
        plan.stages.iter().map(|s| (s.stage_id.as_str(), s.ratio_bp)).collect::<Vec<_>>(),
        vec![("1", 3000), ("2", 4000), ("3", 3000)]
    );

    // A stale etag is ABORTED with advice; an unknown stage names its field.
    let o = ctl(addr, Some(UNIT), &["procurement", "condition-met", PROJECT, "--etag", "3", "--stage", "1", "--evidence", "合同"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("ABORTED") && stderr(&o).contains("hint: the resource changed"), "{}", stderr(&o));
    let o = ctl(addr, Some(UNIT), &["procurement", "condition-met", PROJECT, "--etag", "4", "--stage", "9", "--evidence", "合同"]);
    assert!(stderr(&o).contains("invalid fields:\n  stage_id: \"9\" is not a stage of the payment plan\n"), "{}", stderr(&o));
    let k = ok(&ctl(
        addr,
        Some(UNIT),
        &["--json", "procurement", "condition-met", PROJECT, "--etag", "4", "--stage", "1", "--evidence", "合同编号 SC-1"],
    ));
    assert_eq!(k["contract"]["payment_stages"][0]["condition_met"], true);
    let text = stdout(&ctl(
        addr,
        Some(UNIT),
        &["procurement", "file-payment", PROJECT, "--etag", "5", "--stage", "1", "--amount-fen", "29160000"],
    ));
    assert!(
        text.contains("Payments filed (资金支付报备, R-P6):\n  STAGE  AMOUNT (yuan)  FILED ON\n  1      291,600.00     2026-11-24\n"),
        "{text}"
    );

    // Progress: a month to come is the service's field error; this month's report is filed.
    let o = ctl(
        addr,
        Some(UNIT),
        &["procurement", "report-progress", PROJECT, "--etag", "6", "--month", "2026-12", "--percent", "5", "--summary", "开工"],
    );
    assert!(stderr(&o).contains("  month: 2026-12 is still to come"), "{}", stderr(&o));
    let k = ok(&ctl(
        addr,
        Some(UNIT),
        &[
            "--json",
            "procurement",
            "report-progress",
            PROJECT,
            "--etag",
            "6",
            "--month",
            "2026-11",
            "--percent",
            "5",
            "--summary",
            "开工",
            "--issues",
            "无",
        ],
    ));
    assert_eq!(k["progress_reports"][0]["month"], "2026-11");
    assert_eq!(k["progress_reports"][0]["percent_complete"], 5);

    // Inspections: the seed goes as given (0 included), or not at all.
    let d = ok(&ctl(
        addr,
        Some("drb-token"),
        &["--json", "procurement", "inspections", "draw", "--count", "1", "--seed", "0", "--note", "季度抽查"],
    ));
    assert_eq!((d["seed"].as_str(), d["drawn"][0].as_str()), (Some("0"), Some(PROJECT)));
    assert_eq!(fake.state.lock().unwrap().draw.clone().unwrap().seed, Some(0));
    ok(&ctl(addr, Some("drb-token"), &["--json", "procurement", "inspections", "draw", "--count", "2"]));
    let sent = fake.state.lock().unwrap().draw.clone().unwrap();
    assert_eq!(sent.seed, None);
    assert!(!sent.request_id.is_empty(), "a request id is generated");
    assert!(stdout(&ctl(addr, Some("drb-token"), &["procurement", "inspections", "get", "D1"])).contains("  1  0193a6f0"));
    assert!(stdout(&ctl(addr, Some("drb-token"), &["procurement", "inspections", "list"])).ends_with("more: --page-token D0\n"));

    // Completion.
    let o = ctl(
        addr,
        Some(UNIT),
        &["procurement", "complete", PROJECT, "--etag", "7", "--completed-on", "2026-11-24", "--summary", "全部建成"],
    );
    let text = stdout(&o);
    assert!(text.contains("state         CONSTRUCTION_COMPLETED\n"), "{text}");
    assert!(text.contains("Construction completed (建设完成):\n  completed on  2026-11-24\n"), "{text}");

    // Termination refused for want of the resolution: the rule id is printed.
    let o = ctl(addr, Some(UNIT), &["procurement", "terminate", PROJECT, "--etag", "8", "--ground", "force-majeure", "--reason", "台风"]);
    assert!(stderr(&o).contains("  R-P10 [party_committee_resolution]:"), "{}", stderr(&o));
    assert_eq!(fake.state.lock().unwrap().terminate.clone().unwrap().ground, pb::TerminationGround::ForceMajeure as i32);

    // The OCDS package, as the service wrote it; parsed with --json.
    let o = ctl(addr, Some(UNIT), &["procurement", "ocds", PROJECT]);
    assert_eq!(
        stdout(&o),
        format!(
            "{{\"version\":\"1.1\",\"uri\":\"urn:egov:{PROJECT}\",\"releases\":[{{\"ocid\":\"ocds-egov-{PROJECT}\",\"tag\":[\"contract\"]}}]}}\n"
        )
    );
    let p = ok(&ctl(addr, Some(UNIT), &["--json", "procurement", "ocds", PROJECT]));
    assert_eq!(p["releases"][0]["tag"][0], "contract");

    // Every call carried the bearer token; without one the service's UNAUTHENTICATED has a hint.
    assert!(fake.state.lock().unwrap().tokens.iter().all(|t| t == "Bearer unit-token" || t == "Bearer drb-token"));
    let o = ctl(addr, None, &["procurement", "cases", "get", PROJECT]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("UNAUTHENTICATED") && stderr(&o).contains("hint: pass a token"), "{}", stderr(&o));
    let o = ctl(addr, Some(UNIT), &["procurement", "cases", "get", "P-MISSING"]);
    assert!(stderr(&o).starts_with("error: NOT_FOUND (5): no procurement case P-MISSING\n"), "{}", stderr(&o));
}
