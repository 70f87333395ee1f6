//! R-I9: screening against the live catalogue, for intake (SearchCatalogue as SERVICE) and in
//! detail (ScreenModules: scores, shared terms, verdicts); intake's submission screened end to end.

use egov_platform::{
    auth::Role,
    testing::{RunningService, TestDatabase, TestVhost, bearer, test_settings, token},
};
use egov_proto::{evaluation as pb, intake as ipb};
use tonic::Code;

use crate::helpers::*;

const PARAPHRASE: &str = "最低生活保障在线办理：居民网上提交低保申请，系统自动核对家庭收入财产";

#[tokio::test]
async fn intake_finds_a_paraphrased_function_and_the_detail_says_why() {
    let app = TestApp::spawn().await;
    import_sample(&app).await;
    let found = app
        .queries(Role::Service)
        .search_catalogue(pb::SearchCatalogueRequest { text: PARAPHRASE.into(), limit: 3 })
        .await
        .unwrap()
        .into_inner()
        .matches;
    assert_eq!(found[0].name, "上城区社会救助一件事");
    assert!(found[0].score >= 0.85, "{found:?}");
    assert!(found.len() <= 3);
    let screened = app
        .as_role(Role::Service, None)
        .screen_modules(pb::ScreenModulesRequest {
            modules: vec![
                pb::ModuleToScreen {
                    name: "最低生活保障在线办理".into(),
                    description: "居民网上提交低保申请，系统自动核对家庭收入财产".into(),
                },
                pb::ModuleToScreen {
                    name: "智慧消防水源管理".into(), description: "登记市政消火栓位置并巡检水压".into()
                },
                pb::ModuleToScreen { name: "区块链电子存证".into(), description: "合同文本上链存证".into() },
            ],
            limit: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((screened.duplicate_score, screened.partial_duplicate_score), (0.85, 0.6));
    let m = &screened.modules[0];
    assert_eq!(m.verdict, pb::ScreeningVerdict::Duplicate as i32);
    assert_eq!(m.matches[0].function_name, "低保网上申办：群众在浙里办申请低保，自动比对家庭经济状况");
    assert!(m.matches[0].shared_terms.contains(&"低保".to_string()), "{:?}", m.matches[0].shared_terms);
    assert_eq!(m.matches[0].source, "DISTRICT");
    assert_eq!(screened.modules[2].verdict, pb::ScreeningVerdict::Distinct as i32);
    let e = app.as_role(Role::Expert, None).screen_modules(pb::ScreenModulesRequest::default()).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = app.drb().screen_modules(pb::ScreenModulesRequest::default()).await.unwrap_err();
    assert_eq!(fields(&e), vec!["modules"]);
    let e = app.queries(Role::Service).search_catalogue(pb::SearchCatalogueRequest { text: " ".into(), limit: -1 }).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn an_eliminated_or_stopped_application_is_not_screened_against() {
    let app = TestApp::spawn().await;
    let e = accepted(&app, today(&app), "BUSINESS_APPLICATION", 2, false).await;
    let q = || pb::SearchCatalogueRequest { text: PARAPHRASE.into(), limit: 5 };
    let before = app.queries(Role::Service).search_catalogue(q()).await.unwrap().into_inner().matches;
    assert_eq!(before[0].entry_id, e.entry_id, "the accepted project's functions are screened against at once");
    app.unit("U-CIVIL")
        .stop_application(pb::StopApplicationRequest { app_id: e.entry_id.clone(), etag: e.etag, reason: "并入一网通办".into() })
        .await
        .unwrap();
    let after = app.queries(Role::Service).search_catalogue(q()).await.unwrap().into_inner().matches;
    assert!(after.iter().all(|m| m.entry_id != e.entry_id));
}

/// Intake as the local run wires it: its evaluation peer is this service, called with intake's
/// own service account; the paraphrased module is flagged as a duplicate on submission.
#[tokio::test]
async fn intake_submission_is_screened_against_the_live_catalogue() {
    let app = TestApp::spawn().await;
    import_sample(&app).await;
    let db = TestDatabase::create().await.unwrap();
    let vhost = TestVhost::create().await.unwrap();
    let mut settings = test_settings("intake", &db, &vhost);
    settings.peers.evaluation = format!("http://{}", app.svc.addr);
    let intake = RunningService::start::<egov_intake::startup::Application>(settings).await.unwrap();
    let client = |role: Role, unit: Option<&str>| {
        ipb::intake_client::IntakeClient::with_interceptor(intake.channel.clone(), bearer(&token(role, unit)))
    };
    client(Role::Drb, None)
        .create_unit(ipb::CreateUnitRequest {
            request_id: rid(),
            unit_id: "U-CIVIL".into(),
            name: "区民政局".into(),
            district_budget_unit: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let now = intake.clock.now();
    intake.move_clock_to(egov_platform::clock::shanghai(
        time::Date::from_calendar_date(now.year() + 1, time::Month::March, 2).unwrap(),
        time::macros::time!(10:00),
    ));
    let round = client(Role::Drb, None)
        .open_round(ipb::OpenRoundRequest { request_id: rid(), target_year: now.year() + 2 })
        .await
        .unwrap()
        .into_inner();
    let draft = ipb::ApplicationDraft {
        name: "低保救助提质项目".into(),
        category: ipb::ProjectCategory::DataResource as i32,
        build_type: ipb::BuildType::New as i32,
        funding_source: ipb::FundingSource::DistrictFiscal as i32,
        planned_construction_months: 12,
        content_kinds: vec![ipb::ContentKind::SoftwareDevelopment as i32],
        necessity: Some(ipb::NecessityStatement {
            core_business: "社会救助".into(),
            one_platform_path: "民政一平台".into(),
            relations_with_other_units: "与街道协同".into(),
            existing_systems_and_plans: "无".into(),
            terminals: vec![ipb::Terminal::Zhezhengding as i32],
            uses_public_data_platform: true,
            ..Default::default()
        }),
        modules: vec![ipb::FunctionModule {
            name: "最低生活保障在线办理".into(),
            description: "居民网上提交低保申请，系统自动核对家庭收入财产".into(),
        }],
        budget: vec![
            ipb::BudgetLine {
                module: "最低生活保障在线办理".into(),
                category: ipb::CostCategory::SoftwareDevelopment as i32,
                amount_fen: 9_500_000,
                rationale: "按人天测算".into(),
            },
            ipb::BudgetLine {
                module: "最低生活保障在线办理".into(),
                category: ipb::CostCategory::Security as i32,
                amount_fen: 500_000,
                rationale: "等保测评".into(),
            },
        ],
        ..Default::default()
    };
    let unit = client(Role::Unit, Some("U-CIVIL"));
    let a = unit
        .clone()
        .create_application(ipb::CreateApplicationRequest { request_id: rid(), lead_unit_id: "U-CIVIL".into(), draft: Some(draft) })
        .await
        .unwrap()
        .into_inner();
    for (kind, text) in
        [(ipb::DocumentKind::ApplicationForm, "电子政务项目申报表"), (ipb::DocumentKind::FeasibilityReport, "项目可行性研究报告")]
    {
        let msgs = vec![
            ipb::UploadDocumentRequest {
                part: Some(ipb::upload_document_request::Part::Header(ipb::DocumentUploadHeader {
                    application_id: a.application_id.clone(),
                    kind: kind as i32,
                    file_name: "doc.pdf".into(),
                    content_type: "application/pdf".into(),
                    street: String::new(),
                    request_id: rid(),
                })),
            },
            ipb::UploadDocumentRequest { part: Some(ipb::upload_document_request::Part::Chunk(text.as_bytes().to_vec())) },
        ];
        unit.clone().upload_document(futures::stream::iter(msgs)).await.unwrap();
    }
    let a =
        unit.clone().get_application(ipb::GetApplicationRequest { application_id: a.application_id.clone() }).await.unwrap().into_inner();
    let submitted = unit
        .clone()
        .submit_application(ipb::SubmitApplicationRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            round_id: round.round_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let s = &submitted.screening[0];
    assert_eq!(s.verdict, "DUPLICATE", "{s:?}");
    assert_eq!(s.matches[0].name, "上城区社会救助一件事");
    assert!(submitted.flags.iter().any(|f| f.rule_id == "R-I9"), "{:?}", submitted.flags);
}
