//! Rules through the API: the refusal reaches the client as FAILED_PRECONDITION with the rule
//! id in its PreconditionFailure, and nothing changes. (Every boundary is also covered by the
//! domain's unit tests, on exact instants.)

use egov_platform::auth::Role;
use egov_proto::intake as pb;
use tonic::Code;

use crate::helpers::*;

async fn ready(app: &TestApp, unit: &str, d: pb::ApplicationDraft) -> (pb::Application, pb::ApplicationRound) {
    create_unit(app, unit).await;
    let round = open_round(app).await;
    let a = create_application(app, unit, d).await;
    upload_dossier(app, unit, &a.application_id).await;
    (get(app, unit, &a.application_id).await, round)
}

#[tokio::test]
async fn r_i1_out_of_scope_refused_then_fixed() {
    let app = TestApp::spawn().await;
    let mut d = draft();
    d.content_kinds.push(pb::ContentKind::BuildingIntelligence as i32);
    let (a, round) = ready(&app, "U-CIVIL", d).await;
    let e = submit(&app, "U-CIVIL", &a, &round.round_id).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(rule_ids(&e), vec!["R-I1"]);
    assert_eq!(get(&app, "U-CIVIL", &a.application_id).await.state, pb::ApplicationState::Draft as i32);
    let fixed = app
        .unit("U-CIVIL")
        .update_application(pb::UpdateApplicationRequest {
            application_id: a.application_id.clone(),
            etag: a.etag.clone(),
            draft: Some(draft()),
        })
        .await
        .unwrap()
        .into_inner();
    submit(&app, "U-CIVIL", &fixed, &round.round_id).await.unwrap();
}

#[tokio::test]
async fn r_i3_round_deadline_in_shanghai_time() {
    let app = TestApp::spawn().await;
    let (a, round) = ready(&app, "U-CIVIL", draft()).await;
    let deadline = round.deadline.unwrap();
    assert_eq!((deadline.month, deadline.day), (9, 30));
    // 10-01 00:00:30 Shanghai is 09-30 16:00:30 UTC: already past the deadline.
    let after = time::Date::from_calendar_date(deadline.year, time::Month::October, 1).unwrap();
    app.move_clock_to(egov_platform::clock::shanghai(after, time::macros::time!(00:00:30)));
    let e = submit(&app, "U-CIVIL", &a, &round.round_id).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-I3"]);
    // A closed round refuses too.
    let app2 = TestApp::spawn().await;
    let (b, round2) = ready(&app2, "U-CIVIL", draft()).await;
    app2.drb()
        .close_round(pb::CloseRoundRequest { round_id: round2.round_id.clone(), etag: round2.etag.clone(), reason: "截止".into() })
        .await
        .unwrap();
    let e = submit(&app2, "U-CIVIL", &b, &round2.round_id).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-I3"]);
    // One open round per year.
    let again = app2.drb().open_round(pb::OpenRoundRequest { request_id: rid(), target_year: round2.target_year }).await;
    assert!(again.is_ok(), "the closed round's year can open again: {again:?}");
    let twice = app2.drb().open_round(pb::OpenRoundRequest { request_id: rid(), target_year: round2.target_year }).await.unwrap_err();
    assert_eq!(twice.code(), Code::AlreadyExists);
    let wrong_year =
        app2.drb().open_round(pb::OpenRoundRequest { request_id: rid(), target_year: round2.target_year + 1 }).await.unwrap_err();
    assert_eq!(rule_ids(&wrong_year), vec!["R-I3"]);
}

#[tokio::test]
async fn r_i4_dossier_required() {
    let app = TestApp::spawn().await;
    create_unit(&app, "U-CIVIL").await;
    let round = open_round(&app).await;
    let a = create_application(&app, "U-CIVIL", draft()).await;
    upload(&app, "U-CIVIL", &a.application_id, pb::DocumentKind::ApplicationForm, "", b"form").await.unwrap();
    let a = get(&app, "U-CIVIL", &a.application_id).await;
    let e = submit(&app, "U-CIVIL", &a, &round.round_id).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-I4"]);
    assert!(e.message().contains("可行性研究报告"), "{}", e.message());
}

#[tokio::test]
async fn r_i5_participating_units_must_exist() {
    let app = TestApp::spawn().await;
    let mut d = draft();
    d.participating_unit_ids = vec!["U-HEALTH".into()];
    let (a, round) = ready(&app, "U-CIVIL", d).await;
    let e = submit(&app, "U-CIVIL", &a, &round.round_id).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-I5"]);
    create_unit(&app, "U-HEALTH").await;
    submit(&app, "U-CIVIL", &a, &round.round_id).await.unwrap();
    // The participating unit reads the application; it may not change it.
    let seen = app
        .unit("U-HEALTH")
        .get_application(pb::GetApplicationRequest { application_id: a.application_id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.lead_unit_id, "U-CIVIL");
}

#[tokio::test]
async fn r_i6_consent_and_upgrade_evaluation() {
    let app = TestApp::spawn().await;
    let mut d = draft();
    d.category = pb::ProjectCategory::BusinessApplication as i32;
    d.build_type = pb::BuildType::Upgrade as i32;
    d.upgrade_of_app_id = "APP-42".into();
    let (a, round) = ready(&app, "U-CIVIL", d).await;
    let e = submit(&app, "U-CIVIL", &a, &round.round_id).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-I6", "R-I6"], "no consent and no evaluation: {}", e.message());
    let consented = app
        .as_role(Role::Leader, None)
        .record_leader_consent(pb::RecordLeaderConsentRequest { application_id: a.application_id.clone(), comment: "同意".into() })
        .await
        .unwrap()
        .into_inner();
    assert!(consented.leader_consent_recorded);
    app.eval.0.lock().unwrap().evaluations.insert("APP-42".into(), (false, egov_proto::evaluation::EvaluationGrade::Fail as i32));
    let e = submit(&app, "U-CIVIL", &consented, &round.round_id).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-I6"]);
    app.eval.0.lock().unwrap().evaluations.insert("APP-42".into(), (true, egov_proto::evaluation::EvaluationGrade::Good as i32));
    submit(&app, "U-CIVIL", &consented, &round.round_id).await.unwrap();
}

#[tokio::test]
async fn r_i8_streets_four_refused_five_accepted() {
    let app = TestApp::spawn().await;
    let mut d = draft();
    d.reaches_streets = true;
    let (a, round) = ready(&app, "U-CIVIL", d).await;
    let bad = upload(&app, "U-CIVIL", &a.application_id, pb::DocumentKind::StreetResearchReport, "西湖", b"report").await.unwrap_err();
    assert_eq!(fields(&bad), vec!["header.street"]);
    for (i, s) in ["湖滨", "清波", "小营", "望江"].iter().enumerate() {
        upload(&app, "U-CIVIL", &a.application_id, pb::DocumentKind::StreetResearchReport, s, format!("report {i}").as_bytes())
            .await
            .unwrap();
    }
    // A second report from 湖滨: five reports, four streets.
    upload(&app, "U-CIVIL", &a.application_id, pb::DocumentKind::StreetResearchReport, "湖滨", b"report again").await.unwrap();
    let e = submit(&app, "U-CIVIL", &a, &round.round_id).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-I8"]);
    upload(&app, "U-CIVIL", &a.application_id, pb::DocumentKind::StreetResearchReport, "南星", b"report 5").await.unwrap();
    let s = submit(&app, "U-CIVIL", &a, &round.round_id).await.unwrap();
    assert_eq!(s.state, pb::ApplicationState::Submitted as i32);
}

#[tokio::test]
async fn r_i9_duplicates_flagged_for_the_reviewer() {
    let app = TestApp::spawn().await;
    app.eval.0.lock().unwrap().catalogue.insert("救助审核".into(), vec![("省救助审核系统".into(), 0.92)]);
    let a = submitted(&app, "U-CIVIL").await;
    let f = a.flags.iter().find(|f| f.rule_id == "R-I9").expect("R-I9 flag");
    assert_eq!(f.code, "DUPLICATE");
    assert!(f.message.contains("省救助审核系统"));
    assert_eq!(a.screening[0].matches[0].score, 0.92);
}

#[tokio::test]
async fn r_i10_penalised_unit_refused_in_its_year() {
    let app = TestApp::spawn().await;
    create_unit(&app, "U-CIVIL").await;
    let round = open_round(&app).await;
    // Built outside the Measures, found last year: may not apply this year (the round's year).
    let this_year = round.target_year - 1;
    let pen = app
        .drb()
        .record_unit_penalty(pb::RecordUnitPenaltyRequest {
            request_id: rid(),
            unit_id: "U-CIVIL".into(),
            kind: pb::PenaltyKind::BuiltOutsideMeasures as i32,
            reason: "未按规定擅自建设".into(),
            found_in_year: this_year - 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pen.ineligible_year, this_year);
    let el = app
        .unit("U-CIVIL")
        .get_unit_eligibility(pb::GetUnitEligibilityRequest { unit_id: "U-CIVIL".into(), year: this_year })
        .await
        .unwrap()
        .into_inner();
    assert!(!el.eligible);
    let next = app
        .unit("U-CIVIL")
        .get_unit_eligibility(pb::GetUnitEligibilityRequest { unit_id: "U-CIVIL".into(), year: this_year + 1 })
        .await
        .unwrap()
        .into_inner();
    assert!(next.eligible);
    let a = create_application(&app, "U-CIVIL", draft()).await;
    upload_dossier(&app, "U-CIVIL", &a.application_id).await;
    let a = get(&app, "U-CIVIL", &a.application_id).await;
    let e = submit(&app, "U-CIVIL", &a, &round.round_id).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-I10"]);
}

#[tokio::test]
async fn r_i12_security_share_flagged_at_submission() {
    let app = TestApp::spawn().await;
    let mut d = draft();
    // 4.99 %: 499 of 10000 fen.
    d.budget[0].amount_fen = 9_501;
    d.budget[1].amount_fen = 499;
    let (a, round) = ready(&app, "U-CIVIL", d).await;
    let s = submit(&app, "U-CIVIL", &a, &round.round_id).await.unwrap();
    assert_eq!(s.security_share_bp, 499);
    assert!(s.flags.iter().any(|f| f.rule_id == "R-I12" && f.code == "SECURITY_SHARE_LOW"));
    let mut d = draft();
    d.budget[0].amount_fen = 9_500;
    d.budget[1].amount_fen = 500;
    let b = create_application(&app, "U-CIVIL", d).await;
    upload_dossier(&app, "U-CIVIL", &b.application_id).await;
    let b = get(&app, "U-CIVIL", &b.application_id).await;
    let s = submit(&app, "U-CIVIL", &b, &round.round_id).await.unwrap();
    assert!(!s.flags.iter().any(|f| f.rule_id == "R-I12"), "{:?}", s.flags);
}
