//! The web console against the real services (intake and evaluation here, each with its own
//! database, one virtual host): its pages, its sign-in, and the bridge that makes every call the
//! service's own gRPC call as the signed-in person, keeping the service's refusals whole.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

use std::{net::SocketAddr, time::Duration};

use egov_console::{
    ConsoleSettings,
    settings::{Backends, SignIn},
};
use egov_platform::{
    auth::Role,
    clock::shanghai,
    testing::{RunningService, TestDatabase, TestVhost, test_settings, token},
};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{Value, json};
use sha2::Digest;

const INTAKE: &str = "/api/intake/egov.intake.v1.Intake";

struct Stack {
    intake: RunningService,
    _evaluation: RunningService,
    /// Review, procurement and acceptance, when the walk needs all five.
    others: Vec<RunningService>,
    _vhost: TestVhost,
    _dbs: Vec<TestDatabase>,
}

impl Stack {
    async fn start() -> Stack {
        let vhost = TestVhost::create().await.unwrap();
        let (idb, edb) = (TestDatabase::create().await.unwrap(), TestDatabase::create().await.unwrap());
        let evaluation =
            RunningService::start::<egov_evaluation::startup::Application>(test_settings("evaluation", &edb, &vhost)).await.unwrap();
        let mut is = test_settings("intake", &idb, &vhost);
        is.peers.evaluation = format!("http://{}", evaluation.addr);
        let intake = RunningService::start::<egov_intake::startup::Application>(is).await.unwrap();
        Stack { intake, _evaluation: evaluation, others: Vec::new(), _vhost: vhost, _dbs: vec![idb, edb] }
    }

    /// The five services, as the lifecycle suite starts them.
    async fn start_all() -> Stack {
        let mut stack = Stack::start().await;
        let (rdb, pdb, adb) =
            (TestDatabase::create().await.unwrap(), TestDatabase::create().await.unwrap(), TestDatabase::create().await.unwrap());
        let review =
            RunningService::start::<egov_review::startup::Application>(test_settings("review", &rdb, &stack._vhost)).await.unwrap();
        let procurement =
            RunningService::start::<egov_procurement::startup::Application>(test_settings("procurement", &pdb, &stack._vhost))
                .await
                .unwrap();
        let mut acs = test_settings("acceptance", &adb, &stack._vhost);
        acs.peers.review = format!("http://{}", review.addr);
        acs.peers.procurement = format!("http://{}", procurement.addr);
        let acceptance = RunningService::start::<egov_acceptance::startup::Application>(acs).await.unwrap();
        stack.others = vec![review, procurement, acceptance];
        stack._dbs.extend([rdb, pdb, adb]);
        stack
    }

    fn backends(&self) -> Backends {
        let intake = format!("http://{}", self.intake.addr);
        // Services not started here answer UNAVAILABLE (nothing listens on port 9).
        let other = |i: usize| self.others.get(i).map_or("http://127.0.0.1:9".to_string(), |s| format!("http://{}", s.addr));
        Backends {
            intake,
            review: other(0),
            procurement: other(1),
            acceptance: other(2),
            evaluation: format!("http://{}", self._evaluation.addr),
        }
    }

    async fn console(&self, sign_in: SignIn) -> Console {
        let mut settings = ConsoleSettings::local("127.0.0.1:0", self.backends());
        settings.sign_in = sign_in;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = egov_console::router(settings).unwrap();
        tokio::spawn(egov_console::serve(listener, router, std::future::pending()));
        Console { addr, cookie: None }
    }
}

struct Console {
    addr: SocketAddr,
    cookie: Option<String>,
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Console {
    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
        let stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        let mut req = http::Request::builder().method(method).uri(path).header("host", "console");
        if let Some(c) = &self.cookie {
            req = req.header("cookie", format!("egov_console={c}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = tokio::time::timeout(Duration::from_secs(30), sender.send_request(req.body(Full::new(Bytes::from(body))).unwrap()))
            .await
            .unwrap()
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
        Answer { status, headers, body }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, &[], Vec::new()).await
    }

    /// A page's call: JSON with the console header.
    async fn call(&self, path: &str, body: Value) -> Answer {
        self.send("POST", path, &[("content-type", "application/json"), ("x-egov-console", "1")], body.to_string().into_bytes()).await
    }

    async fn sign_in(&mut self, role: &str, unit: &str) -> Answer {
        let a = self.call("/auth/dev", json!({ "role": role, "unit": unit })).await;
        if a.status == 200 {
            let set = a.headers.get("set-cookie").unwrap().to_str().unwrap().to_string();
            assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
            let value = set.split(';').next().unwrap().strip_prefix("egov_console=").unwrap();
            self.cookie = Some(value.to_string());
        }
        a
    }
}

/// `%XX` escapes back to bytes (what the console's `x-egov-document` header carries).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn draft() -> Value {
    json!({
        "name": "社会救助一件事",
        "category": "PROJECT_CATEGORY_DATA_RESOURCE",
        "build_type": "BUILD_TYPE_NEW",
        "funding_source": "FUNDING_SOURCE_DISTRICT_FISCAL",
        "planned_construction_months": 12,
        "content_kinds": ["CONTENT_KIND_SOFTWARE_DEVELOPMENT"],
        "necessity": {
            "core_business": "社会救助",
            "one_platform_path": "民政一平台",
            "relations_with_other_units": "与街道协同",
            "existing_systems_and_plans": "无",
            "terminals": ["TERMINAL_ZHEZHENGDING"],
            "uses_public_data_platform": true
        },
        "modules": [{ "name": "救助审核", "description": "救助对象审核" }],
        "budget": [
            { "module": "救助审核", "category": "COST_CATEGORY_SOFTWARE_DEVELOPMENT", "amount_fen": "9500000", "rationale": "按人天测算" },
            { "module": "救助审核", "category": "COST_CATEGORY_SECURITY", "amount_fen": "500000", "rationale": "等保测评" }
        ]
    })
}

#[tokio::test]
async fn pages_and_the_schema_are_served_from_the_binary_in_chinese() {
    let stack = Stack::start().await;
    let c = stack.console(SignIn::Dev).await;
    let index = c.get("/").await;
    assert_eq!(index.status, 200);
    assert!(index.text().contains("lang=\"zh-CN\"") && index.text().contains("上城区政务项目管理系统"));
    let csp = index.headers.get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'self'") && !csp.contains("http"), "nothing is loaded from elsewhere: {csp}");
    for f in ["app.js", "labels.js", "app.css"] {
        let a = c.get(&format!("/assets/{f}")).await;
        assert_eq!(a.status, 200, "{f}");
        assert!(!a.text().contains("https://") && !a.text().contains("http://"), "{f} fetches nothing from elsewhere");
    }
    assert_eq!(c.get("/assets/../Cargo.toml").await.status, 404);
    let schema = c.get("/api/_schema").await.json();
    let intake = schema["backends"].as_array().unwrap().iter().find(|b| b["name"] == "intake").unwrap();
    assert_eq!(intake["title"], "申报");
    let methods: Vec<&str> =
        intake["services"].as_array().unwrap().iter().find(|s| s["name"] == "egov.intake.v1.Intake").unwrap()["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
    assert!(methods.contains(&"CreateApplication") && methods.contains(&"UploadDocument"));
    let fields = &schema["messages"]["egov.intake.v1.CreateApplicationRequest"]["fields"];
    assert!(fields.as_array().unwrap().iter().any(|f| f["name"] == "draft" && f["type"] == "egov.intake.v1.ApplicationDraft"));
    assert!(
        schema["enums"]["egov.intake.v1.ApplicationState"].as_array().unwrap().iter().any(|v| v["name"] == "APPLICATION_STATE_SUBMITTED")
    );
    // The protos' own comments come along: the forms take the Measures' Chinese terms from them.
    let term = schema["comments"]["egov.intake.v1.DocumentKind.DOCUMENT_KIND_FEASIBILITY_REPORT"].as_str().unwrap();
    assert!(term.contains("项目可行性研究报告"), "{term}");
    assert!(schema["comments"]["egov.intake.v1.Unit.district_budget_unit"].as_str().unwrap().contains("区本级预算单位"));
}

#[tokio::test]
async fn calls_need_a_sign_in_and_the_consoles_own_header() {
    let stack = Stack::start().await;
    let mut c = stack.console(SignIn::Dev).await;
    assert_eq!(c.get("/auth/me").await.json()["signed_in"], false);
    let nobody = c.call(&format!("{INTAKE}/ListRounds"), json!({})).await;
    assert_eq!((nobody.status, nobody.json()["code"].as_str()), (401, Some("UNAUTHENTICATED")));
    // A bad identity is refused naming its field, and signs nobody in.
    let no_unit = c.sign_in("UNIT", "").await;
    assert_eq!(no_unit.status, 400);
    assert_eq!(no_unit.json()["fields"][0]["field"], "unit");
    assert_eq!(c.sign_in("SERVICE", "").await.json()["fields"][0]["field"], "role");
    assert_eq!(c.sign_in("UNIT", "U 1;").await.json()["fields"][0]["field"], "unit");
    assert!(c.cookie.is_none());
    assert_eq!(c.sign_in("DRB", "").await.status, 200);
    let me = c.get("/auth/me").await.json();
    assert_eq!((me["role"].as_str(), me["signed_in"].as_bool()), (Some("DRB"), Some(true)));
    // Signed in, but a request without the console's header (another site's form) is refused.
    let forged = c.send("POST", &format!("{INTAKE}/ListRounds"), &[("content-type", "application/json")], b"{}".to_vec()).await;
    assert_eq!(forged.status, 403);
    assert_eq!(c.call(&format!("{INTAKE}/ListRounds"), json!({})).await.status, 200);
    // A method the backend does not serve, and a service that is not there.
    assert_eq!(c.call("/api/intake/egov.review.v1.Review/ListCases", json!({})).await.status, 404);
    let down = c.call("/api/review/egov.review.v1.Review/ListCases", json!({})).await;
    assert_eq!((down.status, down.json()["code"].as_str()), (503, Some("UNAVAILABLE")));
    // Production: no development identities; the gateway's bearer token is forwarded as it is.
    let gw = stack.console(SignIn::Gateway).await;
    assert_eq!(gw.call("/auth/dev", json!({ "role": "DRB" })).await.status, 403);
    let drb = token(Role::Drb, None);
    let bearer = format!("Bearer {drb}");
    let via_gateway = gw
        .send(
            "POST",
            &format!("{INTAKE}/ListRounds"),
            &[("content-type", "application/json"), ("x-egov-console", "1"), ("authorization", &bearer)],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(via_gateway.status, 200, "{}", via_gateway.text());
    let forged = gw
        .send("POST", &format!("{INTAKE}/ListRounds"), &[("x-egov-console", "1"), ("authorization", "Bearer not.a.token")], b"{}".to_vec())
        .await;
    assert_eq!((forged.status, forged.json()["code"].as_str()), (401, Some("UNAUTHENTICATED")));
}

#[tokio::test]
async fn a_unit_applies_uploads_and_submits_through_the_console_and_refusals_keep_rule_ids() {
    let stack = Stack::start().await;
    let mut drb = stack.console(SignIn::Dev).await;
    drb.sign_in("DRB", "").await;
    let unit = drb
        .call(
            &format!("{INTAKE}/CreateUnit"),
            json!({ "request_id": "unit-U-CIVIL", "unit_id": "U-CIVIL", "name": "区民政局", "district_budget_unit": true }),
        )
        .await;
    assert_eq!(unit.status, 200, "{}", unit.text());

    let mut u = stack.console(SignIn::Dev).await;
    u.sign_in("UNIT", "U-CIVIL").await;
    // JSON that is not the method's request is refused before the service sees it: the unknown
    // field is named, and nothing is stored.
    let wrong = u.call(&format!("{INTAKE}/CreateApplication"), json!({ "request_id": "x", "lead_unit_id": "U-CIVIL", "budgett": 1 })).await;
    assert_eq!((wrong.status, wrong.json()["code"].as_str()), (400, Some("INVALID_ARGUMENT")));
    assert!(wrong.json()["message"].as_str().unwrap().contains("budgett"), "{}", wrong.text());
    let typed = u.call(&format!("{INTAKE}/CreateApplication"), json!({ "draft": { "planned_construction_months": "twelve" } })).await;
    assert_eq!(typed.status, 400, "{}", typed.text());
    let listed = u.call(&format!("{INTAKE}/ListApplications"), json!({ "unit_id": "U-CIVIL" })).await.json();
    assert_eq!(listed["applications"].as_array().map(Vec::len), Some(0));
    // The service's own field check comes back with the field's path.
    let empty = u.call(&format!("{INTAKE}/CreateApplication"), json!({ "request_id": "r-0", "lead_unit_id": "U-CIVIL" })).await;
    assert_eq!(empty.status, 400, "{}", empty.text());
    assert!(!empty.json()["fields"].as_array().unwrap().is_empty(), "{}", empty.text());

    let created =
        u.call(&format!("{INTAKE}/CreateApplication"), json!({ "request_id": "r-1", "lead_unit_id": "U-CIVIL", "draft": draft() })).await;
    assert_eq!(created.status, 200, "{}", created.text());
    let app = created.json();
    let id = app["application_id"].as_str().unwrap().to_string();
    assert_eq!(app["state"], "APPLICATION_STATE_DRAFT");
    // Every field is in the answer, defaults included, so a page can show and prefill them.
    assert!(app.get("etag").is_some() && app["budget"].as_array().unwrap().len() == 2, "{app}");
    assert_eq!((app["total_budget_fen"].as_str(), app["supplementary"].as_bool()), (Some("10000000"), Some(false)), "{app}");

    // Another unit neither reads nor changes it (unit isolation is the service's).
    let mut other = stack.console(SignIn::Dev).await;
    other.sign_in("UNIT", "U-OTHER").await;
    let peek = other.call(&format!("{INTAKE}/GetApplication"), json!({ "application_id": id })).await;
    assert!(peek.status == 403 || peek.status == 404, "{}", peek.text());

    // The dossier, streamed through the bridge: the stored hash is the file's.
    // 3.2 MB: more than a web server's usual body limit, less than the services' 64 MiB.
    let content = "电子政务项目申报表".repeat(120_000).into_bytes();
    let header = json!({ "application_id": id, "kind": "DOCUMENT_KIND_APPLICATION_FORM", "file_name": "申报表.pdf", "request_id": "d-1" })
        .to_string();
    let up = u
        .send("POST", &format!("{INTAKE}/UploadDocument/upload"), &[("x-egov-console", "1"), ("x-egov-upload", &header)], content.clone())
        .await;
    assert_eq!(up.status, 200, "{}", up.text());
    let doc = up.json();
    assert_eq!(doc["size_bytes"], content.len().to_string());
    assert_eq!(doc["sha256"], hex::encode(sha2::Sha256::digest(&content)));
    // Downloaded through the bridge: the service's stream comes back whole, its record (with the
    // hashes) in a header.
    let dl = json!({ "document_id": doc["document_id"] }).to_string().into_bytes();
    let down = u.send("POST", &format!("{INTAKE}/DownloadDocument/download"), &[("x-egov-console", "1")], dl.clone()).await;
    assert_eq!(down.status, 200, "{}", down.text());
    assert_eq!(down.body, content, "the file comes back byte for byte");
    let described = down.headers.get("x-egov-document").unwrap().to_str().unwrap().to_string();
    let described: Value = serde_json::from_str(&String::from_utf8(percent_decode(&described)).unwrap()).unwrap();
    assert_eq!((&described["sha256"], &described["file_name"]), (&doc["sha256"], &json!("申报表.pdf")), "{described}");
    // Another unit may not download it: the service's refusal, as JSON.
    let peek = other.send("POST", &format!("{INTAKE}/DownloadDocument/download"), &[("x-egov-console", "1")], dl).await;
    assert!(peek.status == 403 || peek.status == 404, "{}", peek.text());
    // A unary method is not a download.
    let unary = u.send("POST", &format!("{INTAKE}/ListDocuments/download"), &[("x-egov-console", "1")], b"{}".to_vec()).await;
    assert_eq!(unary.status, 400, "{}", unary.text());

    // Submitting without an open round: the service refuses, and its rule ids reach the page.
    let fresh = u.call(&format!("{INTAKE}/GetApplication"), json!({ "application_id": id })).await.json();
    let refused = u
        .call(&format!("{INTAKE}/SubmitApplication"), json!({ "application_id": id, "etag": fresh["etag"], "round_id": "no-such-round" }))
        .await;
    assert!(refused.status >= 400 && refused.status < 500, "{}", refused.text());
    let body = refused.json();
    assert!(body["code"].as_str().is_some_and(|c| c != "INTERNAL"), "{body}");
    assert!(!body["message"].as_str().unwrap().is_empty());
    let after = u.call(&format!("{INTAKE}/GetApplication"), json!({ "application_id": id })).await.json();
    assert_eq!(after["state"], "APPLICATION_STATE_DRAFT");
    assert_eq!(after["etag"], fresh["etag"], "a refused call changes nothing");

    // A stale etag: ABORTED, as the service says it.
    let update = json!({ "application_id": id, "etag": fresh["etag"], "draft": draft() });
    let updated = u.call(&format!("{INTAKE}/UpdateApplication"), update.clone()).await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    let stale = u.call(&format!("{INTAKE}/UpdateApplication"), update).await;
    assert_eq!((stale.status, stale.json()["code"].as_str()), (409, Some("ABORTED")), "{}", stale.text());

    // A rule refusal keeps its rule ids: a district state-owned enterprise may not apply (R-I1).
    drb.call(
        &format!("{INTAKE}/CreateUnit"),
        json!({ "request_id": "unit-U-SOE", "unit_id": "U-SOE", "name": "区属国企", "state_owned_enterprise": true }),
    )
    .await;
    let mut soe = stack.console(SignIn::Dev).await;
    soe.sign_in("UNIT", "U-SOE").await;
    let made =
        soe.call(&format!("{INTAKE}/CreateApplication"), json!({ "request_id": "r-2", "lead_unit_id": "U-SOE", "draft": draft() })).await;
    assert_eq!(made.status, 200, "{}", made.text());
    let made = made.json();
    // A round, opened by DRB through the console in the spring (the service's clock moved there).
    let today = stack.intake.clock.today();
    let spring = time::Date::from_calendar_date(today.year() + 1, time::Month::March, 2).unwrap();
    stack.intake.move_clock_to(shanghai(spring, time::macros::time!(10:00)));
    let round = drb.call(&format!("{INTAKE}/OpenRound"), json!({ "request_id": "round-1", "target_year": spring.year() + 1 })).await;
    assert_eq!(round.status, 200, "{}", round.text());
    let round_id = round.json()["round_id"].as_str().unwrap().to_string();
    let r_i1 = soe
        .call(
            &format!("{INTAKE}/SubmitApplication"),
            json!({ "application_id": made["application_id"], "etag": made["etag"], "round_id": round_id }),
        )
        .await;
    let body = r_i1.json();
    assert_eq!((r_i1.status, body["code"].as_str()), (409, Some("FAILED_PRECONDITION")), "{body}");
    assert!(body["rule_ids"].as_array().unwrap().iter().any(|r| r == "R-I1"), "{body}");
    // Each violation keeps the service's words; the missing dossier is R-I4's.
    let says = |rule: &str, words: &str| {
        body["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["rule"] == rule && v["description"].as_str().is_some_and(|d| d.contains(words)))
    };
    assert!(says("R-I1", "区属国企") && says("R-I4", "可行性研究报告"), "{body}");
}

/// One project walked through the console in Debian's Chromium (tests/browser/walk.mjs), every
/// step a page's form as the person whose step it is: the unit's application form, the dossier's
/// upload, a refusal showing its rule id, the submission, DRB's 待办 and compliance checklist; the
/// review (preliminary opinions from each co-reviewer's 待办, DRB's decision, experts, materials,
/// meeting, panel draw, each expert's scores, the re-check, the joint meeting, the approval); the
/// procurement, contract, payment plan, payment and progress report; construction completed after
/// the clock is moved; initial acceptance, trial report, acceptance application and its review,
/// the acceptance; then the project page and the overview, at desktop and phone width, with
/// every control labelled. Screenshots go to target/console-screenshots.
#[tokio::test]
async fn a_project_is_walked_through_the_console_in_chromium() {
    let stack = Stack::start_all().await;
    let c = stack.console(SignIn::Dev).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let shots = root.join("target/console-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let tools = std::env::var("EGOV_TOOLS_DIR").map_or_else(|_| root.join("deploy/local/tools"), std::path::PathBuf::from);
    assert!(
        tools.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed in {}: run deploy/local/tools/install.sh (deploy/local/setup.sh does)",
        tools.display()
    );
    let chromium = std::env::var("EGOV_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(std::path::Path::new(&chromium).exists(), "no Chromium at {chromium}: deploy/local/prereqs.sh installs Debian's chromium");
    let walk = tokio::process::Command::new("node")
        .arg(root.join("tests/browser/walk.mjs"))
        .arg(format!("http://{}/", c.addr))
        .arg(&shots)
        .env("EGOV_TOOLS_DIR", &tools)
        .env("EGOV_CHROMIUM", &chromium)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(900), walk).await.expect("the walk ends within 15 minutes").expect("node runs");
    let said = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the browser walk failed:\n{said}");
    assert!(said.contains("walk: done"), "{said}");
    let pngs =
        std::fs::read_dir(&shots).unwrap().filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "png"))).count();
    assert!(pngs >= 50, "{pngs} screenshots in {}", shots.display());
}
