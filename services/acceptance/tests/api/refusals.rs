//! Refusals over the API: rule ids, fields, roles, unit isolation, peers away, stale etags — and
//! the state left as it was.

use egov_platform::auth::Role;
use egov_proto::acceptance as pb;
use time::Duration;
use tonic::Code;

use crate::{flow::trial_over, helpers::*};

#[tokio::test]
async fn every_method_has_roles() {
    let table = egov_acceptance::grpc::roles::table();
    for path in egov_proto::method_paths(&["egov.acceptance.v1"]) {
        assert!(table.roles(&path).is_some(), "{path} has no roles");
    }
}

#[tokio::test]
async fn bad_input_names_the_field_and_changes_nothing() {
    let app = App::spawn().await;
    let (id, k) = app.opened("GOVERNMENT_PROCUREMENT").await;
    let mut bad_panel = panel(&[true, true, true]);
    bad_panel[2].name = String::new();
    bad_panel[1].specialties = vec![9];
    let e = app
        .unit()
        .record_initial_acceptance(pb::RecordInitialAcceptanceRequest {
            project_id: id.to_string(),
            etag: "x".into(),
            held_on: None,
            panel: bad_panel,
            conclusion: "同意".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let f = fields(&e);
    for want in ["etag", "held_on", "panel[1].specialties[0]"] {
        assert!(f.contains(&want.to_string()), "{want} missing from {f:?}");
    }
    let e = app.drb().get_case(pb::GetCaseRequest { project_id: "nope".into() }).await.unwrap_err();
    assert_eq!((e.code(), fields(&e)), (Code::InvalidArgument, vec!["project_id".to_string()]));
    let e = app.drb().get_case(pb::GetCaseRequest { project_id: uuid::Uuid::now_v7().to_string() }).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    // A refused panel (R-A1) leaves the case as it was.
    let e = app
        .unit()
        .record_initial_acceptance(pb::RecordInitialAcceptanceRequest {
            project_id: id.to_string(),
            etag: k.etag.clone(),
            held_on: day(app.today()),
            panel: panel(&[true, true]),
            conclusion: "同意".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert!(rules(&e).iter().all(|r| r == "R-A1"), "{e:?}");
    assert_eq!(app.case(id).await, k);
    // A stale etag is ABORTED.
    let e = app
        .unit()
        .record_initial_acceptance(pb::RecordInitialAcceptanceRequest {
            project_id: id.to_string(),
            etag: "99".into(),
            held_on: day(app.today()),
            panel: panel(&[true, true, true]),
            conclusion: "同意".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Aborted);
}

#[tokio::test]
async fn roles_and_unit_isolation() {
    let app = App::spawn().await;
    let (id, k) = app.opened("GOVERNMENT_PROCUREMENT").await;
    let req = |etag: String| pb::RecordInitialAcceptanceRequest {
        project_id: id.to_string(),
        etag,
        held_on: day(app.today()),
        panel: panel(&[true, true, true]),
        conclusion: "同意".into(),
    };
    let other = app.client(Role::Unit, Some("U-OTHER")).record_initial_acceptance(req(k.etag.clone())).await.unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied);
    let drb = app.drb().record_initial_acceptance(req(k.etag.clone())).await.unwrap_err();
    assert_eq!(drb.code(), Code::PermissionDenied, "the unit organises its initial acceptance");
    // A participating unit reads; it does not act.
    app.client(Role::Unit, Some("U-STREET")).get_case(pb::GetCaseRequest { project_id: id.to_string() }).await.unwrap();
    assert_eq!(
        app.client(Role::Unit, Some("U-STREET")).record_initial_acceptance(req(k.etag.clone())).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    let e = app.client(Role::Unit, Some("U-OTHER")).get_case(pb::GetCaseRequest { project_id: id.to_string() }).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let listed = app.client(Role::Unit, Some("U-OTHER")).list_cases(pb::ListCasesRequest::default()).await.unwrap().into_inner();
    assert!(listed.cases.is_empty());
    // Only the provincial system or DRB deposits the trial report; a unit may not.
    let e = app.deposit(id, app.today(), app.today(), Role::Unit).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = app.client(Role::Audit, None).review_application(pb::ReviewApplicationRequest::default()).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "AUDIT reads only");
}

#[tokio::test]
async fn peers_away_give_unavailable_and_change_nothing() {
    let app = App::spawn().await;
    let (id, k) = trial_over(&app, "GOVERNMENT_PROCUREMENT").await;
    *app.peers.down.lock().unwrap() = true;
    let e = app
        .unit()
        .apply_for_acceptance(pb::ApplyForAcceptanceRequest {
            project_id: id.to_string(),
            etag: k.etag.clone(),
            built_modules: vec!["救助审核".into(), "救助发放".into()],
            goals_met: true,
            function_performance_met: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unavailable);
    assert_eq!(app.case(id).await, k);
}

#[tokio::test]
async fn materials_keep_their_hashes_and_their_filing() {
    let app = App::spawn().await;
    let (id, _) = app.opened("GOVERNMENT_PROCUREMENT").await;
    let produced = app.today() - Duration::days(20);
    let m = app.file(id, pb::MaterialKind::InitialMinutes, produced, "初验会议纪要".as_bytes()).await.unwrap();
    assert!(m.filing.as_ref().unwrap().late, "filed long after it was produced: accepted, marked late (R-P5)");
    assert_eq!(m.sha256.len(), 64);
    let mut s = app.drb().download_material(pb::DownloadMaterialRequest { document_id: m.document_id.clone() }).await.unwrap().into_inner();
    let mut content = Vec::new();
    while let Some(part) = s.message().await.unwrap() {
        if let Some(pb::download_material_response::Part::Chunk(b)) = part.part {
            content.extend(b);
        }
    }
    assert_eq!(content, "初验会议纪要".as_bytes());
    // The same request id again: the same material, nothing stored twice.
    let header = pb::MaterialHeader {
        request_id: "same".into(),
        project_id: id.to_string(),
        kind: pb::MaterialKind::Other as i32,
        file_name: "a.pdf".into(),
        content_type: String::new(),
        produced_on: day(app.today()),
        project_name: NAME.into(),
    };
    let a = upload(app.unit(), header.clone(), b"one").await.unwrap();
    let b = upload(app.unit(), header, b"two").await.unwrap();
    assert_eq!(a.document_id, b.document_id);
    assert_eq!(app.case(id).await.materials.len(), 2);
    // An upload without its header first is refused naming the field.
    let e = app
        .unit()
        .upload_material(futures::stream::iter(vec![pb::UploadMaterialRequest {
            part: Some(pb::upload_material_request::Part::Chunk(b"x".to_vec())),
        }]))
        .await
        .unwrap_err();
    assert_eq!((e.code(), fields(&e)), (Code::InvalidArgument, vec!["header".to_string()]));
    // DRB's manual trial report is marked as such (after initial acceptance passed).
    let k = app.case(id).await;
    app.unit()
        .record_initial_acceptance(pb::RecordInitialAcceptanceRequest {
            project_id: id.to_string(),
            etag: k.etag,
            held_on: day(app.today()),
            panel: panel(&[true, true, true]),
            conclusion: "同意".into(),
        })
        .await
        .unwrap();
    let start = app.today();
    app.at(start + Duration::days(30));
    let r = app.deposit(id, start, start + Duration::days(29), Role::Drb).await.unwrap();
    assert_eq!(r.source, pb::ReportSource::Manual as i32);
}
