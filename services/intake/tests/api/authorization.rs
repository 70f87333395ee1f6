//! R-X2: authenticated, authorised by role, units isolated, AUDIT read-only.

use egov_platform::auth::Role;
use egov_proto::intake as pb;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn roles_tokens_and_unit_isolation() {
    let app = TestApp::spawn().await;
    create_unit(&app, "U-A").await;
    create_unit(&app, "U-B").await;
    let a = create_application(&app, "U-A", draft()).await;
    let get_req = || pb::GetApplicationRequest { application_id: a.application_id.clone() };

    // Unit B can neither see nor change unit A's application.
    let e = app.unit("U-B").get_application(get_req()).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = app
        .unit("U-B")
        .update_application(pb::UpdateApplicationRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            draft: Some(draft()),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = upload(&app, "U-B", &a.application_id, pb::DocumentKind::Other, "", b"x").await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let listed = app.unit("U-B").list_applications(pb::ListApplicationsRequest::default()).await.unwrap().into_inner();
    assert!(listed.applications.is_empty());
    let e =
        app.unit("U-B").list_applications(pb::ListApplicationsRequest { unit_id: "U-A".into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // A unit applies only in its own name.
    let e = app
        .unit("U-B")
        .create_application(pb::CreateApplicationRequest { request_id: rid(), lead_unit_id: "U-A".into(), draft: Some(draft()) })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    // AUDIT reads everything and changes nothing.
    let audit = app.as_role(Role::Audit, None);
    audit.clone().get_application(get_req()).await.unwrap();
    assert_eq!(audit.clone().list_applications(pb::ListApplicationsRequest::default()).await.unwrap().into_inner().applications.len(), 1);
    let e = audit
        .clone()
        .create_unit(pb::CreateUnitRequest { request_id: rid(), unit_id: "U-X".into(), name: "x".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = audit
        .clone()
        .decide_compliance(pb::DecideComplianceRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    app.audit_trail(Role::Audit).verify_audit_trail(egov_proto::common::VerifyAuditTrailRequest::default()).await.unwrap();
    // Units do not read the audit trail; DRB cannot move the clock.
    let e = app.audit_trail(Role::Unit).verify_audit_trail(egov_proto::common::VerifyAuditTrailRequest::default()).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = app.operations(Role::Drb).advance_clock(egov_proto::common::AdvanceClockRequest { seconds: 60 }).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    // No token, a malformed token, a token signed with another key: UNAUTHENTICATED.
    let mut anon = pb::intake_client::IntakeClient::new(app.channel.clone());
    assert_eq!(anon.get_application(get_req()).await.unwrap_err().code(), Code::Unauthenticated);
    assert_eq!(app.client("not-a-jwt").get_application(get_req()).await.unwrap_err().code(), Code::Unauthenticated);
    let foreign = egov_platform::auth::mint_hs256(
        b"some-other-secret-0123456789",
        &egov_platform::auth::Claims { sub: "x".into(), role: Role::Drb, unit: None, iss: "egov-local".into(), exp: 4_000_000_000, iat: 0 },
    )
    .unwrap();
    assert_eq!(app.client(&foreign).get_application(get_req()).await.unwrap_err().code(), Code::Unauthenticated);
    // Only the leader records the leader's consent.
    let e = app
        .drb()
        .record_leader_consent(pb::RecordLeaderConsentRequest { application_id: a.application_id.clone(), comment: String::new() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
}

#[test]
fn every_intake_method_is_in_the_role_table() {
    let table = egov_intake::grpc::roles::table();
    let paths = egov_proto::method_paths(&["egov.intake.v1", "egov.common.v1"]);
    assert!(paths.len() > 30, "{paths:?}");
    let missing: Vec<_> = paths.iter().filter(|p| table.roles(p).is_none()).collect();
    assert!(missing.is_empty(), "methods without roles: {missing:?}");
}

/// 等保 security audit (issue 13 item 7): refused authentication and authorisation are recorded
/// with subject, role, method, reason and peer, readable by AUDIT only; a flood is capped.
#[tokio::test]
async fn refused_calls_are_recorded_for_audit_and_a_flood_is_capped() {
    let app = TestApp::spawn_with(|s| s.auth.denials_per_minute = 5).await;
    let get_unit = || pb::GetUnitRequest { unit_id: "U-CIVIL".into() };
    // No token, then a UNIT calling DRB's method.
    let anonymous = egov_proto::intake::intake_client::IntakeClient::new(app.channel.clone());
    assert_eq!(anonymous.clone().get_unit(get_unit()).await.unwrap_err().code(), Code::Unauthenticated);
    let e = app
        .unit("U-CIVIL")
        .create_unit(pb::CreateUnitRequest { request_id: rid(), unit_id: "U-X".into(), name: "某局".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    let list = || async {
        app.audit_trail(Role::Audit)
            .list_denied_calls(egov_proto::common::ListDeniedCallsRequest { page_size: 100, page_token: String::new() })
            .await
            .unwrap()
            .into_inner()
            .calls
    };
    egov_platform::testing::eventually(WAIT, "two refusals recorded", || async { list().await.len() == 2 }).await;
    // Each is written on a task of its own: their order in the table is not the calls' order.
    let mut calls = list().await;
    calls.sort_by(|a, b| a.method.cmp(&b.method));
    assert_eq!(
        (calls[0].subject.as_str(), calls[0].role.as_str(), calls[0].code.as_str(), calls[0].method.as_str()),
        ("unit-tester", "UNIT", "PERMISSION_DENIED", "/egov.intake.v1.Intake/CreateUnit")
    );
    assert!(calls[0].reason.contains("R-X2"), "{:?}", calls[0].reason);
    assert_eq!(
        (calls[1].subject.as_str(), calls[1].role.as_str(), calls[1].code.as_str(), calls[1].method.as_str()),
        ("(unauthenticated)", "", "UNAUTHENTICATED", "/egov.intake.v1.Intake/GetUnit")
    );
    assert!(calls.iter().all(|c| c.peer.starts_with("127.0.0.1:")), "{calls:?}");

    // Only AUDIT reads them.
    let e = app.audit_trail(Role::Drb).list_denied_calls(egov_proto::common::ListDeniedCallsRequest::default()).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    // A flood of 200 refusals in the same minute: 5 rows in all for the minute (the Drb read
    // above was the third), the rest only counted.
    for _ in 0..200 {
        let _ = anonymous.clone().get_unit(get_unit()).await;
    }
    let stored = || async { sqlx::query_scalar::<_, i64>("SELECT count(*) FROM egov_denied_calls").fetch_one(&app.pool).await.unwrap() };
    egov_platform::testing::eventually(WAIT, "five rows written", || async { stored().await >= 5 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(stored().await, 5, "capped at auth.denials_per_minute");
}
