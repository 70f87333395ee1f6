//! The contract as an outside client sees it: `buf curl` (a client this project did not write,
//! pinned in deploy/local/tools) calls all five services through server reflection only — no
//! proto files given to it. For each service: health, one read, one write whose idempotency key
//! is sent twice (the same resource comes back), and one refusal whose rich error details (the
//! field of a `BadRequest`, the rule id of a `PreconditionFailure`, the `ErrorInfo`) are read from
//! the JSON that buf curl prints.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

use std::{path::PathBuf, process::Command, sync::OnceLock, time::Duration};

use egov_platform::{
    auth::Role,
    testing::{RunningService, TestDatabase, TestVhost, eventually, publish, test_settings, token},
};
use egov_proto::events::{self as ev, event_envelope::Payload};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);
const NAME: &str = "社会救助一件事";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The project-local buf binary, installed (pinned) by the project's own script.
fn buf() -> &'static str {
    static BUF: OnceLock<String> = OnceLock::new();
    BUF.get_or_init(|| {
        let out = Command::new("bash").arg(root().join("deploy/local/tools/install.sh")).output().expect("bash runs");
        assert!(out.status.success(), "install.sh failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// What one `buf curl` call printed: the answer on success, the error JSON otherwise.
#[derive(Debug)]
struct Curl {
    ok: bool,
    json: Value,
}

/// `buf curl` over gRPC (h2c) with reflection; `data` is one JSON message, or several separated
/// by whitespace for a client stream.
async fn curl(svc: &RunningService, role: Option<(Role, Option<&str>)>, method: &str, data: String) -> Curl {
    let url = format!("http://{}/{method}", svc.addr);
    let mut args: Vec<String> =
        vec!["curl".into(), "--protocol".into(), "grpc".into(), "--http2-prior-knowledge".into(), "--emit-defaults".into()];
    if let Some((role, unit)) = role {
        args.push("-H".into());
        args.push(format!("Authorization: Bearer {}", token(role, unit)));
    }
    args.extend(["-d".into(), data, url]);
    let bin = buf().to_string();
    let out = tokio::task::spawn_blocking(move || Command::new(bin).args(&args).output().expect("buf runs")).await.unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string());
    let text = if out.status.success() {
        &stdout
    } else if stdout.trim().is_empty() {
        &stderr
    } else {
        &stdout
    };
    let json = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("{method}: buf curl printed no JSON ({e}); stdout: {stdout}; stderr: {stderr}"));
    Curl { ok: out.status.success(), json }
}

/// The error detail of `type` that buf curl printed: its `value` is the detail's protobuf
/// encoding in base64 (buf curl names the type but does not expand google.rpc details).
fn detail<M: prost::Message + Default>(err: &Value, ty: &str) -> M {
    let value = err["details"]
        .as_array()
        .and_then(|d| d.iter().find(|x| x["type"] == ty))
        .and_then(|x| x["value"].as_str())
        .unwrap_or_else(|| panic!("no {ty} in {err}"));
    M::decode(base64(value).as_slice()).unwrap_or_else(|e| panic!("{ty} in {err} does not decode: {e}"))
}

/// Standard or URL-safe base64, padded or not (what buf curl prints).
fn base64(s: &str) -> Vec<u8> {
    let digit = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => panic!("{s:?} is not base64"),
        }
    };
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in s.bytes().filter(|c| *c != b'=') {
        acc = (acc << 6) | digit(c);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap());
        }
    }
    out
}

/// `v` with every RFC 3339 timestamp cut to microseconds. A retried create answers with the
/// resource as stored, whose timestamps PostgreSQL keeps to the microsecond, while the first answer
/// may carry the clock's nanoseconds: the same instant to the precision that is stored.
fn to_micros(v: &Value) -> Value {
    match v {
        Value::String(s) if s.ends_with('Z') && s.contains('T') && s.contains('.') => {
            let (head, frac) = s.trim_end_matches('Z').rsplit_once('.').unwrap();
            Value::String(format!("{head}.{:0<6}Z", &frac[..frac.len().min(6)]))
        }
        Value::Array(a) => Value::Array(a.iter().map(to_micros).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), to_micros(v))).collect()),
        other => other.clone(),
    }
}

fn bad_request_fields(err: &Value) -> Vec<String> {
    detail::<tonic_types::pb::BadRequest>(err, "google.rpc.BadRequest").field_violations.into_iter().map(|v| v.field).collect()
}

fn rule_ids(err: &Value) -> Vec<String> {
    detail::<tonic_types::pb::PreconditionFailure>(err, "google.rpc.PreconditionFailure").violations.into_iter().map(|v| v.r#type).collect()
}

fn error_info(err: &Value) -> tonic_types::pb::ErrorInfo {
    detail(err, "google.rpc.ErrorInfo")
}

fn assert_error_info(err: &Value, reason: &str) {
    let info = error_info(err);
    assert_eq!(info.domain, "egov.shangcheng", "{err}");
    assert_eq!(info.reason, reason, "{err}");
}

async fn healthy(svc: &RunningService, name: &str) {
    let h = curl(svc, None, "grpc.health.v1.Health/Check", "{}".into()).await;
    assert!(h.ok, "{name} health: {:?}", h.json);
    assert_eq!(h.json["status"], "SERVING", "{name}");
}

struct Suite {
    intake: RunningService,
    review: RunningService,
    procurement: RunningService,
    acceptance: RunningService,
    evaluation: RunningService,
    vhost: TestVhost,
    _dbs: Vec<TestDatabase>,
}

impl Suite {
    async fn start() -> Suite {
        let vhost = TestVhost::create().await.unwrap();
        let mut dbs = Vec::new();
        for _ in 0..5 {
            dbs.push(TestDatabase::create().await.unwrap());
        }
        let evaluation =
            RunningService::start::<egov_evaluation::startup::Application>(test_settings("evaluation", &dbs[4], &vhost)).await.unwrap();
        let mut is = test_settings("intake", &dbs[0], &vhost);
        is.peers.evaluation = format!("http://{}", evaluation.addr);
        let intake = RunningService::start::<egov_intake::startup::Application>(is).await.unwrap();
        let review = RunningService::start::<egov_review::startup::Application>(test_settings("review", &dbs[1], &vhost)).await.unwrap();
        let procurement =
            RunningService::start::<egov_procurement::startup::Application>(test_settings("procurement", &dbs[2], &vhost)).await.unwrap();
        let mut acs = test_settings("acceptance", &dbs[3], &vhost);
        acs.peers.review = format!("http://{}", review.addr);
        acs.peers.procurement = format!("http://{}", procurement.addr);
        let acceptance = RunningService::start::<egov_acceptance::startup::Application>(acs).await.unwrap();
        Suite { intake, review, procurement, acceptance, evaluation, vhost, _dbs: dbs }
    }
}

fn civil(d: time::Date) -> Value {
    json!({"year": d.year(), "month": u8::from(d.month()), "day": d.day()})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buf_curl_calls_every_service_through_reflection() {
    let s = Suite::start().await;
    let drb = Some((Role::Drb, None));

    // ---------------------------------------------------------------- intake
    healthy(&s.intake, "intake").await;
    let unit = json!({"requestId": "contract-unit-1", "unitId": "U-CIVIL", "name": "区民政局", "districtBudgetUnit": true});
    let first = curl(&s.intake, drb, "egov.intake.v1.Intake/CreateUnit", unit.to_string()).await;
    assert!(first.ok, "{:?}", first.json);
    assert_eq!(first.json["unitId"], "U-CIVIL");
    let again = curl(&s.intake, drb, "egov.intake.v1.Intake/CreateUnit", unit.to_string()).await;
    assert!(again.ok, "{:?}", again.json);
    assert_eq!(to_micros(&again.json), to_micros(&first.json), "the same request_id answers with the same unit, unchanged");
    let read = curl(&s.intake, drb, "egov.intake.v1.Intake/ListUnits", "{}".into()).await;
    assert!(read.ok, "{:?}", read.json);
    assert_eq!(read.json["units"].as_array().unwrap().len(), 1, "one unit for two calls: {}", read.json);
    let bad = curl(&s.intake, drb, "egov.intake.v1.Intake/CreateUnit", json!({"unitId": "U-X", "name": "x"}).to_string()).await;
    assert!(!bad.ok);
    assert_eq!(bad.json["code"], "invalid_argument", "{}", bad.json);
    assert_eq!(bad_request_fields(&bad.json), vec!["request_id"]);
    assert_error_info(&bad.json, "INVALID_ARGUMENT");
    // Reflection also serves google.rpc's error details, for clients that resolve them by symbol.
    let reflected = curl(
        &s.intake,
        None,
        "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        json!({"fileContainingSymbol": "google.rpc.PreconditionFailure"}).to_string(),
    )
    .await;
    assert!(reflected.ok && reflected.json["fileDescriptorResponse"]["fileDescriptorProto"].is_array(), "{:?}", reflected.json);
    let denied = curl(&s.intake, Some((Role::Audit, None)), "egov.intake.v1.Intake/CreateUnit", unit.to_string()).await;
    assert_eq!(denied.json["code"], "permission_denied", "{}", denied.json);
    let anonymous = curl(&s.intake, None, "egov.intake.v1.Intake/ListUnits", "{}".into()).await;
    assert_eq!(anonymous.json["code"], "unauthenticated", "{}", anonymous.json);

    // ---------------------------------------------------------------- review
    healthy(&s.review, "review").await;
    let expert =
        json!({"requestId": "contract-expert-1", "expertId": "E-001", "name": "王工", "specialties": ["IT"], "affiliation": "浙江大学"});
    let first = curl(&s.review, drb, "egov.review.v1.ExpertReview/CreateExpert", expert.to_string()).await;
    assert!(first.ok, "{:?}", first.json);
    let again = curl(&s.review, drb, "egov.review.v1.ExpertReview/CreateExpert", expert.to_string()).await;
    assert_eq!(to_micros(&again.json), to_micros(&first.json), "the same request_id answers with the same expert");
    let read = curl(&s.review, drb, "egov.review.v1.ExpertReview/ListExperts", "{}".into()).await;
    assert!(read.ok, "{:?}", read.json);
    assert_eq!(read.json["experts"].as_array().unwrap().len(), 1, "{}", read.json);
    let cases = curl(&s.review, drb, "egov.review.v1.Review/ListCases", "{}".into()).await;
    assert!(cases.ok && cases.json["cases"].as_array().unwrap().is_empty(), "{:?}", cases.json);
    let bad =
        curl(&s.review, drb, "egov.review.v1.ExpertReview/CreateExpert", json!({"expertId": "E-002", "name": "李工"}).to_string()).await;
    assert_eq!(bad.json["code"], "invalid_argument", "{}", bad.json);
    assert!(bad_request_fields(&bad.json).contains(&"request_id".to_string()), "{}", bad.json);
    assert_error_info(&bad.json, "INVALID_ARGUMENT");

    // ---------------------------------------------------------------- procurement
    healthy(&s.procurement, "procurement").await;
    let draw = json!({"count": 2, "seed": "42", "note": "2026年第四季度抽查", "requestId": "contract-draw-1"});
    let first = curl(&s.procurement, drb, "egov.procurement.v1.Procurement/DrawInspections", draw.to_string()).await;
    assert!(first.ok, "{:?}", first.json);
    let again = curl(&s.procurement, drb, "egov.procurement.v1.Procurement/DrawInspections", draw.to_string()).await;
    assert_eq!(to_micros(&again.json), to_micros(&first.json), "the same request_id answers with the same draw");
    let read = curl(&s.procurement, drb, "egov.procurement.v1.Procurement/ListInspectionDraws", "{}".into()).await;
    assert!(read.ok, "{:?}", read.json);
    assert_eq!(read.json["draws"].as_array().unwrap().len(), 1, "{}", read.json);
    let bad = curl(
        &s.procurement,
        drb,
        "egov.procurement.v1.Procurement/DrawInspections",
        json!({"count": 0, "requestId": "contract-draw-2"}).to_string(),
    )
    .await;
    assert_eq!(bad.json["code"], "invalid_argument", "{}", bad.json);
    assert_eq!(bad_request_fields(&bad.json), vec!["count"]);

    // ---------------------------------------------------------------- acceptance
    healthy(&s.acceptance, "acceptance").await;
    // A case opens from procurement's construction-completed event, as in production.
    let project = uuid::Uuid::now_v7();
    let today = s.acceptance.clock.today();
    let e = egov_platform::outbox::envelope(
        "procurement",
        "procurement.construction.completed",
        &project.to_string(),
        "2026.1-draft",
        s.acceptance.clock.now(),
        Payload::ConstructionCompleted(ev::ConstructionCompleted {
            project_id: project.to_string(),
            project_name: NAME.into(),
            lead_unit_id: "U-CIVIL".into(),
            document_number: "上数资〔2026〕12号".into(),
            budget_fen: 100_000_000,
            funding_source: "DISTRICT_FISCAL".into(),
            scope: "救助审核".into(),
            channel: "GOVERNMENT_PROCUREMENT".into(),
            method: "PUBLIC_TENDERING".into(),
            supplier_name: "杭州某某科技有限公司".into(),
            supplier_credit_code: "91330100MA2XXXXX1A".into(),
            supervision_credit_code: "91330100MA2YYYYY2B".into(),
            supervision_fee_fen: 1_000_000,
            contract_amount_fen: 90_000_000,
            completed_on: Some(egov_proto::common::CivilDate {
                year: today.year(),
                month: i32::from(u8::from(today.month())),
                day: i32::from(today.day()),
            }),
            classified_protection_level: 3,
            important_system: true,
            ..Default::default()
        }),
    );
    publish(&s.vhost.amqp_url(), &s.acceptance.settings.broker.exchange, &e).await.unwrap();
    let get = json!({"projectId": project.to_string()}).to_string();
    eventually(WAIT, "acceptance opens the case from the event", || {
        let get = get.clone();
        let svc = &s.acceptance;
        async move { curl(svc, drb, "egov.acceptance.v1.Acceptance/GetCase", get).await.ok }
    })
    .await;
    let case = curl(&s.acceptance, drb, "egov.acceptance.v1.Acceptance/GetCase", get.clone()).await;
    assert!(case.ok, "{:?}", case.json);
    let unit = Some((Role::Unit, Some("U-CIVIL")));
    // A client stream: the header, then one chunk (bytes in base64), as two JSON messages.
    let header = json!({"header": {
        "requestId": "contract-material-1", "projectId": project.to_string(), "kind": "MATERIAL_KIND_INITIAL_MINUTES",
        "fileName": "初验会议纪要.pdf", "contentType": "application/pdf", "producedOn": civil(today), "projectName": NAME}});
    let upload = format!("{header}\n{}", json!({"chunk": "5Yid6aqM5Lya6K6u57qq6KaB"}));
    let first = curl(&s.acceptance, unit, "egov.acceptance.v1.Acceptance/UploadMaterial", upload.clone()).await;
    assert!(first.ok, "{:?}", first.json);
    let again = curl(&s.acceptance, unit, "egov.acceptance.v1.Acceptance/UploadMaterial", upload).await;
    assert_eq!(again.json["documentId"], first.json["documentId"], "the same request_id answers with the same material");
    let listed = curl(&s.acceptance, drb, "egov.acceptance.v1.Acceptance/ListMaterials", get.clone()).await;
    assert!(listed.ok, "{:?}", listed.json);
    assert_eq!(listed.json["materials"].as_array().unwrap().len(), 1, "{}", listed.json);
    // R-A1: an initial-acceptance panel of two is refused, with the rule id in the details
    // (against the case as it is now: the material bumped its etag).
    let case = curl(&s.acceptance, drb, "egov.acceptance.v1.Acceptance/GetCase", get.clone()).await;
    assert!(case.ok, "{:?}", case.json);
    let member = |n: &str, s: &str| {
        json!({"name": n, "specialties": [s], "affiliation": "浙江大学", "affiliationCreditCode": "12330000470003281Q",
               "opinion": "同意", "passes": true})
    };
    let refused = curl(
        &s.acceptance,
        unit,
        "egov.acceptance.v1.Acceptance/RecordInitialAcceptance",
        json!({"projectId": project.to_string(), "etag": case.json["etag"], "heldOn": civil(today),
               "panel": [member("专家0", "SPECIALTY_INFORMATION_TECHNOLOGY"), member("专家1", "SPECIALTY_CYBERSECURITY")],
               "conclusion": "同意"})
        .to_string(),
    )
    .await;
    assert!(!refused.ok);
    assert_eq!(refused.json["code"], "failed_precondition", "{}", refused.json);
    let rules = rule_ids(&refused.json);
    assert!(!rules.is_empty() && rules.iter().all(|r| r == "R-A1"), "{}", refused.json);
    assert_error_info(&refused.json, "RULE_VIOLATION");
    assert_eq!(error_info(&refused.json).metadata["rule_ids"], rules.join(","));

    // ---------------------------------------------------------------- evaluation
    healthy(&s.evaluation, "evaluation").await;
    let entry = json!({"requestId": "contract-entry-1", "entry": {"kind": "ENTRY_KIND_DATA", "name": "救助对象数据",
                       "description": "救助对象名单", "builderUnitId": "U-CIVIL", "userUnitIds": ["U-CIVIL"]}});
    let first = curl(&s.evaluation, unit, "egov.evaluation.v1.Evaluations/RegisterEntry", entry.to_string()).await;
    assert!(first.ok, "{:?}", first.json);
    let again = curl(&s.evaluation, unit, "egov.evaluation.v1.Evaluations/RegisterEntry", entry.to_string()).await;
    assert_eq!(again.json["entryId"], first.json["entryId"], "the same request_id answers with the same entry");
    let read = curl(&s.evaluation, drb, "egov.evaluation.v1.Evaluations/ListEntries", "{}".into()).await;
    assert!(read.ok, "{:?}", read.json);
    assert_eq!(read.json["entries"].as_array().unwrap().len(), 1, "{}", read.json);
    let bad = curl(
        &s.evaluation,
        unit,
        "egov.evaluation.v1.Evaluations/RegisterEntry",
        json!({"requestId": "contract-entry-2", "entry": {"kind": "ENTRY_KIND_APPLICATION", "name": "x", "builderUnitId": "U-CIVIL"}})
            .to_string(),
    )
    .await;
    assert_eq!(bad.json["code"], "invalid_argument", "{}", bad.json);
    assert_eq!(bad_request_fields(&bad.json), vec!["entry.kind"]);
}

/// The Python example (examples/python/submit_and_follow.py, stubs generated from proto/ when it
/// starts) submits an application as the unit and follows it; DRB decides meanwhile, here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_example_submits_and_follows_to_a_decision() {
    use egov_platform::{clock::shanghai, testing::bearer};
    use egov_proto::intake::{self as ipb, intake_client::IntakeClient};

    let vhost = TestVhost::create().await.unwrap();
    let db = TestDatabase::create().await.unwrap();
    let mut is = test_settings("intake", &db, &vhost);
    is.peers.evaluation = String::new(); // no evaluation here: screening is flagged, not refused
    let intake = RunningService::start::<egov_intake::startup::Application>(is).await.unwrap();
    let drb = IntakeClient::with_interceptor(intake.channel.clone(), bearer(&token(Role::Drb, None)));
    drb.clone()
        .create_unit(ipb::CreateUnitRequest {
            request_id: "py-unit".into(),
            unit_id: "U-CIVIL".into(),
            name: "区民政局".into(),
            district_budget_unit: true,
            ..Default::default()
        })
        .await
        .unwrap();
    // A round for next year, opened in spring (the service clock moved there).
    let spring = time::Date::from_calendar_date(intake.clock.today().year() + 1, time::Month::March, 2).unwrap();
    intake.move_clock_to(shanghai(spring, time::macros::time!(10:00)));
    let round = drb
        .clone()
        .open_round(ipb::OpenRoundRequest { request_id: "py-round".into(), target_year: spring.year() + 1 })
        .await
        .unwrap()
        .into_inner();

    let python = {
        let out = Command::new("bash").arg(root().join("deploy/local/tools/install-python.sh")).output().expect("bash runs");
        assert!(out.status.success(), "install-python.sh failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let args = vec![
        root().join("examples/python/submit_and_follow.py").display().to_string(),
        "--target".into(),
        intake.addr.to_string(),
        "--token".into(),
        token(Role::Unit, Some("U-CIVIL")),
        "--unit".into(),
        "U-CIVIL".into(),
        "--round".into(),
        round.round_id.clone(),
    ];
    let client = tokio::task::spawn_blocking(move || Command::new(python).args(&args).output().expect("python runs"));

    // DRB sees the submission and decides it.
    let submitted = || {
        let drb = drb.clone();
        async move {
            drb.clone()
                .list_applications(ipb::ListApplicationsRequest::default())
                .await
                .unwrap()
                .into_inner()
                .applications
                .into_iter()
                .find(|a| a.state == ipb::ApplicationState::Submitted as i32)
        }
    };
    eventually(Duration::from_secs(120), "the example submits its application", || async { submitted().await.is_some() }).await;
    let a = submitted().await.unwrap();
    let items = drb
        .clone()
        .get_compliance_checklist(ipb::GetComplianceChecklistRequest { application_id: a.application_id.clone() })
        .await
        .unwrap()
        .into_inner()
        .items;
    let results = items.into_iter().map(|i| ipb::ChecklistResult { code: i.code, passed: true, note: String::new() }).collect();
    drb.clone()
        .decide_compliance(ipb::DecideComplianceRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            results,
            comment: "合规".into(),
        })
        .await
        .unwrap();

    let out = client.await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the example failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let answer: Value = serde_json::from_str(stdout.trim()).expect("the example prints one JSON object");
    assert_eq!(answer["application_id"], a.application_id.as_str());
    assert_eq!(answer["state"], "APPLICATION_STATE_COMPLIANCE_PASSED", "{answer}");
    // The early submission was refused with the rule requiring the documents, read by grpcio-status.
    assert_eq!(answer["refused_before_documents"]["code"], "FAILED_PRECONDITION", "{answer}");
    let rules = answer["refused_before_documents"]["rule_ids"].as_array().unwrap();
    assert!(rules.iter().any(|r| r == "R-I4"), "{answer}");
}
