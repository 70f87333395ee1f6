//! Bad input gets a structured error naming the field, never INTERNAL, and changes nothing.

use egov_platform::auth::Role;
use egov_proto::intake as pb;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn malformed_requests_name_their_fields_and_change_nothing() {
    let app = TestApp::spawn_with(|s| s.documents.max_bytes = 1024).await;
    create_unit(&app, "U-CIVIL").await;
    let a = create_application(&app, "U-CIVIL", draft()).await;
    let before = get(&app, "U-CIVIL", &a.application_id).await;
    let audit_rows = || async { sqlx::query_scalar::<_, i64>("SELECT count(*) FROM egov_audit").fetch_one(&app.pool).await.unwrap() };
    let rows_before = audit_rows().await;

    let update = |d: pb::ApplicationDraft| pb::UpdateApplicationRequest {
        application_id: a.application_id.clone(),
        etag: a.etag.clone(),
        draft: Some(d),
    };

    // Wrong enum value.
    let mut d = draft();
    d.category = 99;
    let e = app.unit("U-CIVIL").update_application(update(d)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(fields(&e), vec!["draft.category"]);
    // Negative money.
    let mut d = draft();
    d.budget[1].amount_fen = -1;
    let e = app.unit("U-CIVIL").update_application(update(d)).await.unwrap_err();
    assert_eq!(fields(&e), vec!["draft.budget[1].amount_fen"]);
    // Budget line naming no module of the draft, and an unspecified cost category.
    let mut d = draft();
    d.budget[0].module = "不存在".into();
    d.budget[1].category = 0;
    let e = app.unit("U-CIVIL").update_application(update(d)).await.unwrap_err();
    assert_eq!(fields(&e), vec!["draft.budget[1].category"]);
    // Missing fields.
    let e = app
        .unit("U-CIVIL")
        .update_application(pb::UpdateApplicationRequest { application_id: a.application_id.clone(), etag: String::new(), draft: None })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(fields(&e), vec!["etag"]);
    let e = app.unit("U-CIVIL").get_application(pb::GetApplicationRequest { application_id: "nope".into() }).await.unwrap_err();
    assert_eq!(fields(&e), vec!["application_id"]);
    let e = app
        .unit("U-CIVIL")
        .create_application(pb::CreateApplicationRequest { request_id: String::new(), lead_unit_id: String::new(), draft: None })
        .await
        .unwrap_err();
    assert_eq!(fields(&e), vec!["request_id", "lead_unit_id", "draft"]);
    let e = app
        .drb()
        .create_unit(pb::CreateUnitRequest { request_id: rid(), unit_id: "bad id!".into(), name: String::new(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(fields(&e), vec!["unit_id", "name"]);
    let e = app.drb().list_applications(pb::ListApplicationsRequest { page_size: -1, ..Default::default() }).await.unwrap_err();
    assert_eq!(fields(&e), vec!["page_size"]);

    // Uploads: empty, over the limit, no header first.
    let e = upload(&app, "U-CIVIL", &a.application_id, pb::DocumentKind::FeasibilityReport, "", b"").await.unwrap_err();
    assert_eq!((e.code(), fields(&e)), (Code::InvalidArgument, vec!["chunk".to_string()]));
    let e = upload(&app, "U-CIVIL", &a.application_id, pb::DocumentKind::FeasibilityReport, "", &[7u8; 1025]).await.unwrap_err();
    assert_eq!((e.code(), fields(&e)), (Code::InvalidArgument, vec!["chunk".to_string()]));
    let e = upload(&app, "U-CIVIL", &a.application_id, pb::DocumentKind::Unspecified, "", b"x").await.unwrap_err();
    assert_eq!(fields(&e), vec!["header.kind"]);
    let only_chunk = vec![pb::UploadDocumentRequest { part: Some(pb::upload_document_request::Part::Chunk(b"x".to_vec())) }];
    let e = app.unit("U-CIVIL").upload_document(futures::stream::iter(only_chunk)).await.unwrap_err();
    assert_eq!(fields(&e), vec!["header"]);
    upload(&app, "U-CIVIL", &a.application_id, pb::DocumentKind::FeasibilityReport, "", &[7u8; 1024]).await.unwrap();

    // Nothing changed but the one valid upload.
    let after = get(&app, "U-CIVIL", &a.application_id).await;
    assert_eq!(after.etag, before.etag);
    assert_eq!(after.name, before.name);
    assert_eq!(after.budget, before.budget);
    assert_eq!(after.documents.len(), 1);
    assert_eq!(audit_rows().await, rows_before + 1);
    let files = walk(std::path::Path::new(&app.settings.documents.dir));
    assert_eq!(files, 1, "refused uploads leave no content behind");
}

fn walk(p: &std::path::Path) -> usize {
    std::fs::read_dir(p).map(|d| d.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum()).unwrap_or(0)
}

#[tokio::test]
async fn checklist_answers_must_be_complete() {
    let app = TestApp::spawn().await;
    let a = submitted(&app, "U-CIVIL").await;
    let mut results = checklist_results(&app, &[]).await;
    results.pop();
    results.push(pb::ChecklistResult { code: "SCOPE".into(), passed: false, note: String::new() });
    let e = app
        .drb()
        .decide_compliance(pb::DecideComplianceRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            results,
            comment: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(fields(&e).iter().any(|f| f == "results"), "{:?}", fields(&e));
    assert_eq!(get(&app, "U-CIVIL", &a.application_id).await.state, pb::ApplicationState::Submitted as i32);
}

/// The edge (issue 13): a NUL, an over-long id and an over-long name are refused before any
/// handler, naming the field and quoting a bounded prefix; a body that is not the method's
/// message is INVALID_ARGUMENT in few words; nothing is stored.
#[tokio::test]
async fn text_is_checked_once_at_the_edge_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let units = || async { sqlx::query_scalar::<_, i64>("SELECT count(*) FROM units").fetch_one(&app.pool).await.unwrap() };
    let before = units().await;
    let create = |unit_id: String, name: String| pb::CreateUnitRequest { request_id: rid(), unit_id, name, ..Default::default() };

    let e = app.drb().create_unit(create("U-CIV\0IL".into(), "民政局".into())).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert_eq!(fields(&e), vec!["unit_id"]);
    assert!(e.message().len() < 600, "a bounded refusal: {}", e.message().len());

    let e = app.drb().create_unit(create("U".repeat(5_000), "民政局".into())).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert_eq!(fields(&e), vec!["unit_id"]);
    assert!(e.message().len() < 600, "5,000 characters are not echoed: {}", e.message().len());

    let e = app.drb().create_unit(create("U-BIG".into(), "局".repeat(1_000_000))).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert_eq!(fields(&e), vec!["name"]);

    // A NUL deep in an application draft.
    create_unit(&app, "U-CIVIL").await;
    let mut d = draft();
    d.modules[0].description = "救助\0对象".into();
    let e = app
        .unit("U-CIVIL")
        .create_application(pb::CreateApplicationRequest { request_id: rid(), lead_unit_id: "U-CIVIL".into(), draft: Some(d) })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert_eq!(fields(&e), vec!["draft.modules[0].description"]);

    // Not a CreateUnitRequest: field 2 (unit_id, a string) sent as a number.
    #[derive(Clone, PartialEq, prost::Message)]
    struct NotTheMessage {
        #[prost(uint64, tag = "2")]
        unit_id: u64,
    }
    let mut grpc = tonic::client::Grpc::new(app.channel.clone());
    grpc.ready().await.unwrap();
    let mut req = tonic::Request::new(NotTheMessage { unit_id: 7 });
    req.metadata_mut().insert("authorization", format!("Bearer {}", token(Role::Drb, None)).parse().unwrap());
    let path = http::uri::PathAndQuery::from_static("/egov.intake.v1.Intake/CreateUnit");
    let e = grpc.unary::<_, pb::Unit, _>(req, path, tonic_prost::ProstCodec::default()).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("not a valid CreateUnitRequest message"), "{}", e.message());

    assert_eq!(units().await, before + 1, "only U-CIVIL was stored");
}
