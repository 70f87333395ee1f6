//! R-E1: the catalogue, once per accepted project however often the event comes; DRB's import;
//! units' registrations; bad input; roles (R-X2) and third-party audit reports (R-E8, R-X1).

use egov_platform::{
    auth::Role,
    testing::{eventually, publish},
};
use egov_proto::evaluation as pb;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn accepted_delivered_ten_times_is_one_entry_and_one_schedule() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::now_v7().to_string();
    let go_live = today(&app);
    let event = accepted_event(&id, go_live, "BUSINESS_APPLICATION", 3, true);
    let exchange = app.svc.settings.broker.exchange.clone();
    for _ in 0..10 {
        publish(&app.vhost.amqp_url(), &exchange, &event).await.unwrap();
        // Acceptance republishing the fact under a new event id changes nothing either.
        let again = egov_proto::events::EventEnvelope { event_id: rid(), ..event.clone() };
        publish(&app.vhost.amqp_url(), &exchange, &again).await.unwrap();
    }
    let pool = app.svc.pool.clone();
    eventually(WAIT, "eleven distinct events consumed", || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM egov_inbox WHERE consumer = 'evaluation'").fetch_one(&pool).await.unwrap()
                == 11
        }
    })
    .await;
    let listed = app.drb().list_entries(pb::ListEntriesRequest::default()).await.unwrap().into_inner();
    assert_eq!(listed.entries.len(), 1);
    let e = &listed.entries[0];
    assert_eq!((e.entry_id.as_str(), e.builder_unit_id.as_str(), e.operator_unit_id.as_str()), (id.as_str(), "U-CIVIL", "U-CIVIL"));
    assert_eq!(e.user_unit_ids, vec!["U-CIVIL", "U-STREET"]);
    assert_eq!(e.functions.len(), 2);
    let schedules = app.drb().list_schedules(pb::ListSchedulesRequest::default()).await.unwrap().into_inner().schedules;
    assert_eq!(schedules.len(), 1);
    let timers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind = 'evaluation.evaluation_due' AND status = 'pending'")
            .fetch_one(&app.svc.pool)
            .await
            .unwrap();
    assert_eq!(timers, 1);
    assert_eq!(app.events("evaluation.application.catalogued").await.len(), 1);
    // The project's own unit reads it; another unit neither reads nor lists it.
    app.unit("U-STREET").get_entry(pb::GetEntryRequest { entry_id: id.clone() }).await.unwrap();
    let e = app.unit("U-OTHER").get_entry(pb::GetEntryRequest { entry_id: id.clone() }).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(app.unit("U-OTHER").list_entries(pb::ListEntriesRequest::default()).await.unwrap().into_inner().entries.is_empty());
}

#[tokio::test]
async fn drb_imports_the_catalogue_and_a_reimport_changes_nothing() {
    let app = TestApp::spawn().await;
    let first = import_sample(&app).await;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!((first.created, first.updated), (38, 0));
    assert_eq!(first.sha256.len(), 64);
    assert_eq!(first.sm3.len(), 64);
    let again = import_sample(&app).await;
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 38));
    let json = r#"[{"external_id":"SC-001","name":"上城区社会救助一件事（二期）","source":"DISTRICT","builder_unit":"区民政局","functions":["低保网上申办"]},
                   {"external_id":"X-1","name":"","source":"DISTRICT","builder_unit":"x","functions":["a"]}]"#;
    let r = import(&app, json.as_bytes(), pb::ImportFormat::Json).await.unwrap();
    assert_eq!((r.created, r.updated), (0, 1));
    assert_eq!((r.errors[0].row, r.errors[0].field.as_str()), (2, "name"));
    let e = import(&app, b"x", pb::ImportFormat::Unspecified).await.unwrap_err();
    assert_eq!(fields(&e), vec!["header.format"]);
    let denied =
        app.unit("U-CIVIL").import_catalogue(futures::stream::iter(vec![pb::ImportCatalogueRequest::default()])).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn units_register_resources_and_bad_input_names_the_field() {
    let app = TestApp::spawn().await;
    let new = |kind: pb::EntryKind, builder: &str| pb::NewEntry {
        kind: kind as i32,
        name: "低保家庭经济状况数据".into(),
        builder_unit_id: builder.into(),
        ..Default::default()
    };
    let req = pb::RegisterEntryRequest { request_id: rid(), entry: Some(new(pb::EntryKind::Data, "U-CIVIL")) };
    let e = app.unit("U-CIVIL").register_entry(req.clone()).await.unwrap().into_inner();
    assert_eq!(e.kind, pb::EntryKind::Data as i32);
    let retried = app.unit("U-CIVIL").register_entry(req).await.unwrap().into_inner();
    assert_eq!(retried.entry_id, e.entry_id, "the same request id answers with the same entry");
    let bad = pb::RegisterEntryRequest {
        request_id: String::new(),
        entry: Some(pb::NewEntry { user_unit_ids: vec!["单位".into()], ..new(pb::EntryKind::Unspecified, "") }),
    };
    let err = app.unit("U-CIVIL").register_entry(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(fields(&err), vec!["request_id", "entry.builder_unit_id", "entry.user_unit_ids[0]"]);
    let app_kind = pb::RegisterEntryRequest { request_id: rid(), entry: Some(new(pb::EntryKind::Application, "U-CIVIL")) };
    assert_eq!(fields(&app.unit("U-CIVIL").register_entry(app_kind).await.unwrap_err()), vec!["entry.kind"]);
    let foreign = pb::RegisterEntryRequest { request_id: rid(), entry: Some(new(pb::EntryKind::Cloud, "U-OTHER")) };
    assert_eq!(app.unit("U-CIVIL").register_entry(foreign).await.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(
        app.drb().list_entries(pb::ListEntriesRequest::default()).await.unwrap().into_inner().entries.len(),
        1,
        "nothing else stored"
    );
}

#[tokio::test]
async fn r_e8_audit_reports_are_stored_with_their_hashes_and_audit_reads_everything() {
    let app = TestApp::spawn().await;
    let e = accepted(&app, today(&app), "BUSINESS_APPLICATION", 2, false).await;
    let upload = |unit: &str, content: &'static [u8]| {
        let mut c = app.unit(unit);
        let msgs = vec![
            pb::UploadAuditReportRequest {
                part: Some(pb::upload_audit_report_request::Part::Header(pb::AuditHeader {
                    request_id: rid(),
                    app_id: e.entry_id.clone(),
                    auditor: "浙江某会计师事务所".into(),
                    file_name: "审计报告.pdf".into(),
                    content_type: "application/pdf".into(),
                    conclusion: "资金使用规范".into(),
                })),
            },
            pb::UploadAuditReportRequest { part: Some(pb::upload_audit_report_request::Part::Chunk(content.to_vec())) },
        ];
        async move { c.upload_audit_report(futures::stream::iter(msgs)).await }
    };
    let done = upload("U-CIVIL", "第三方审计报告正文".as_bytes()).await.unwrap().into_inner();
    let a = &done.audits[0];
    assert_eq!((a.size_bytes, a.sha256.len(), a.sm3.len()), ("第三方审计报告正文".len() as i64, 64, 64));
    assert_eq!(upload("U-OTHER", b"x").await.unwrap_err().code(), Code::PermissionDenied);
    let audit = app.as_role(Role::Audit, None);
    let mut stream = audit
        .clone()
        .download_audit_report(pb::DownloadAuditReportRequest { app_id: e.entry_id.clone(), document_id: a.document_id.clone() })
        .await
        .unwrap()
        .into_inner();
    let mut body = vec![];
    while let Some(m) = stream.message().await.unwrap() {
        if let Some(pb::download_audit_report_response::Part::Chunk(b)) = m.part {
            body.extend(b);
        }
    }
    assert_eq!(body, "第三方审计报告正文".as_bytes());
    let r = audit
        .clone()
        .stop_application(pb::StopApplicationRequest { app_id: e.entry_id.clone(), etag: done.etag.clone(), reason: "x".into() })
        .await;
    assert_eq!(r.unwrap_err().code(), Code::PermissionDenied, "AUDIT reads, changes nothing");
    assert_eq!(app.events("evaluation.audit.recorded").await.len(), 1);
}

#[test]
fn every_evaluation_method_is_in_the_role_table() {
    let table = egov_evaluation::grpc::roles::table();
    let paths = egov_proto::method_paths(&["egov.evaluation.v1", "egov.common.v1"]);
    assert!(paths.len() > 25, "{paths:?}");
    let missing: Vec<_> = paths.iter().filter(|p| table.roles(p).is_none()).collect();
    assert!(missing.is_empty(), "methods without roles: {missing:?}");
    assert!(table.roles("/egov.evaluation.v1.EvaluationQueries/SearchCatalogue").unwrap().contains(&Role::Service));
    assert_eq!(table.roles("/egov.evaluation.v1.Evaluations/DecideElimination").unwrap(), &[Role::Leader]);
}
