//! R-R2 through the ExpertReview API: materials before a meeting, a reproducible panel without
//! conflicted experts, scores, the conclusion, the opinion acceptance reads, and re-check after
//! the revised materials.

use egov_platform::auth::{Bearer, Role};
use egov_proto::review::{self as pb, expert_review_client::ExpertReviewClient};
use tonic::{Code, service::interceptor::InterceptedService, transport::Channel};

use crate::helpers::*;

type Experts = ExpertReviewClient<InterceptedService<Channel, Bearer>>;

fn experts(app: &ReviewApp, role: Role, subject: &str) -> Experts {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let unit = (role == Role::Unit).then(|| "U-CIVIL".to_string());
    let claims = egov_platform::auth::Claims { sub: subject.into(), role, unit, iss: "egov-local".into(), exp: now + 3600, iat: now };
    let t = egov_platform::auth::mint_hs256(egov_platform::config::LOCAL_DEV_SECRET.as_bytes(), &claims).unwrap();
    ExpertReviewClient::with_interceptor(app.svc.channel.clone(), egov_platform::testing::bearer(&t))
}

async fn material(app: &ReviewApp, case_id: &str, kind: pb::MaterialKind) -> Result<pb::CaseMaterial, tonic::Status> {
    let msgs = vec![
        pb::UploadMaterialRequest {
            part: Some(pb::upload_material_request::Part::Header(pb::MaterialHeader {
                case_id: case_id.into(),
                kind: kind as i32,
                file_name: format!("{}.pdf", kind.as_str_name().to_lowercase()),
                request_id: uuid::Uuid::now_v7().to_string(),
            })),
        },
        pb::UploadMaterialRequest { part: Some(pb::upload_material_request::Part::Chunk(format!("{kind:?} content").into_bytes())) },
    ];
    experts(app, Role::Unit, "unit-user").upload_material(futures::stream::iter(msgs)).await.map(tonic::Response::into_inner)
}

/// A case that passed its preliminary review.
async fn in_expert_review(app: &ReviewApp) -> pb::ReviewCase {
    let case = app.open_case(dossier(false)).await;
    for r in [Role::Drc, Role::Finance, Role::Cac, Role::Xinchuang] {
        opine(app, &case.case_id, r, true).await.unwrap();
    }
    let now = app.case(&case.case_id).await;
    app.drb()
        .decide_preliminary(pb::DecidePreliminaryRequest {
            case_id: case.case_id.clone(),
            etag: now.etag,
            passed: true,
            comment: "通过初审".into(),
            request_id: "p".into(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn pool(app: &ReviewApp) {
    let drb = experts(app, Role::Drb, "drb");
    for (id, affiliation) in [("e1", "U-CIVIL"), ("e2", "浙江大学"), ("e3", "市信息中心"), ("e4", "之江实验室"), ("e5", "U-CIVIL")]
    {
        drb.clone()
            .create_expert(pb::CreateExpertRequest {
                request_id: id.into(),
                expert_id: id.into(),
                name: format!("专家{id}"),
                specialties: vec!["IT".into(), "SECURITY".into()],
                affiliation: affiliation.into(),
            })
            .await
            .unwrap();
    }
}

fn dims(score: i32) -> Vec<pb::DimensionScore> {
    ["RESOURCE_CONSOLIDATION", "TECHNICAL_SOLUTION", "DATA_SHARING", "SECURITY_ASSURANCE", "COST_ESTIMATE"]
        .iter()
        .map(|d| pb::DimensionScore { dimension: (*d).into(), score })
        .collect()
}

#[tokio::test]
async fn r_r2_expert_review_from_materials_to_re_check() {
    let app = ReviewApp::spawn().await;
    let case = in_expert_review(&app).await;
    assert_eq!(case.stage, pb::CaseStage::ExpertReview as i32);
    pool(&app).await;
    let drb = experts(&app, Role::Drb, "drb");
    let held_on = egov_platform::convert::civil(app.svc.clock.today());
    let m = drb
        .clone()
        .create_meeting(pb::CreateMeetingRequest {
            request_id: "m1".into(),
            held_on: Some(held_on),
            specialties: vec![pb::SpecialtyNeed { specialty: "IT".into(), count: 3 }],
        })
        .await
        .unwrap()
        .into_inner();

    // Refused until the presentation is uploaded, too.
    material(&app, &case.case_id, pb::MaterialKind::RevisedFeasibilityReport).await.unwrap();
    material(&app, &case.case_id, pb::MaterialKind::RevisionList).await.unwrap();
    let schedule = |etag: String| pb::ScheduleCaseRequest { meeting_id: m.meeting_id.clone(), etag, case_id: case.case_id.clone() };
    let e = drb.clone().schedule_case(schedule(m.etag.clone())).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-R2"]);
    assert!(e.message().contains("汇报PPT"), "{}", e.message());
    material(&app, &case.case_id, pb::MaterialKind::Presentation).await.unwrap();
    let m = drb.clone().schedule_case(schedule(m.etag.clone())).await.unwrap().into_inner();
    assert_eq!(m.case_ids, vec![case.case_id.clone()]);

    // The panel: three of the two unconflicted... only three eligible (e2, e3, e4), never e1/e5.
    let drawn = drb
        .clone()
        .draw_panel(pb::DrawPanelRequest { meeting_id: m.meeting_id.clone(), etag: m.etag.clone(), seed: 42 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(drawn.seed, 42);
    let mut ids: Vec<String> = drawn.panel.iter().map(|e| e.expert_id.clone()).collect();
    ids.sort();
    assert_eq!(ids, vec!["e2", "e3", "e4"]);
    let e = drb.clone().schedule_case(schedule(drawn.etag.clone())).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "no scheduling after the draw");

    // Scores: a conflicted expert is not on the panel; each panel expert scores once.
    let score = |who: &str, s: i32| {
        let mut c = experts(&app, Role::Expert, who);
        let r = pb::SubmitExpertScoreRequest {
            meeting_id: m.meeting_id.clone(),
            case_id: case.case_id.clone(),
            scores: dims(s),
            opinion: "方案可行".into(),
            request_id: who.into(),
        };
        async move { c.submit_expert_score(r).await }
    };
    let e = score("e1", 90).await.unwrap_err();
    assert_eq!(egov_platform::error::status_fields(&e), vec!["expert_id"]);
    score("e2", 80).await.unwrap();
    assert_eq!(score("e2", 80).await.unwrap_err().code(), Code::AlreadyExists);
    score("e3", 70).await.unwrap();
    let now = app.case(&case.case_id).await;
    let conclude = |etag: String, budget: i64| pb::ConcludeExpertReviewRequest {
        case_id: case.case_id.clone(),
        etag,
        passed: true,
        recommended_budget_fen: budget,
        opinion: "建议压缩投资".into(),
        request_id: "c".into(),
    };
    let e = drb.clone().conclude_expert_review(conclude(now.etag.clone(), 9_000_000)).await.unwrap_err();
    assert_eq!(rule_ids(&e), vec!["R-R2"], "one expert has not scored");
    score("e4", 60).await.unwrap();
    let e = drb.clone().conclude_expert_review(conclude(now.etag.clone(), 10_000_001)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "never above the budget applied for");
    let concluded = drb.clone().conclude_expert_review(conclude(now.etag.clone(), 9_000_000)).await.unwrap().into_inner();
    assert_eq!(concluded.stage, pb::CaseStage::ExpertReview as i32, "awaiting the revised materials");

    // The opinion acceptance will read.
    let op = experts(&app, Role::Audit, "audit")
        .get_expert_opinion(pb::GetExpertOpinionRequest { project_id: case.case_id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert!(op.passed);
    assert_eq!(op.recommended_budget_fen, 9_000_000);
    assert_eq!(op.experts.len(), 3);
    let tech = op.mean_scores_centi.iter().find(|d| d.dimension == "TECHNICAL_SOLUTION").unwrap();
    assert_eq!(tech.score, 7000);

    // Revised report and revision list again: the case moves to re-check with three tasks.
    material(&app, &case.case_id, pb::MaterialKind::RevisedFeasibilityReport).await.unwrap();
    assert_eq!(app.case(&case.case_id).await.stage, pb::CaseStage::ExpertReview as i32);
    material(&app, &case.case_id, pb::MaterialKind::RevisionList).await.unwrap();
    assert_eq!(app.case(&case.case_id).await.stage, pb::CaseStage::ReCheck as i32);
    let recheck: Vec<String> =
        app.tasks(&case.case_id).await.into_iter().filter(|t| t.kind == "recheck.opinion").map(|t| t.assignee_role).collect();
    assert_eq!(recheck, vec!["DRB", "DRC", "FINANCE"]);

    // The draw is in the audit trail with its seed.
    let seed: String =
        sqlx::query_scalar("SELECT details FROM egov_audit WHERE action = 'DrawPanel'").fetch_one(&app.svc.pool).await.unwrap();
    assert!(seed.contains("\"42\""), "{seed}");
}

#[tokio::test]
async fn r_r2_a_failed_expert_review_ends_the_application() {
    let app = ReviewApp::spawn().await;
    let case = in_expert_review(&app).await;
    pool(&app).await;
    let drb = experts(&app, Role::Drb, "drb");
    let m = drb
        .clone()
        .create_meeting(pb::CreateMeetingRequest {
            request_id: "m".into(),
            held_on: Some(egov_platform::convert::civil(app.svc.clock.today())),
            specialties: vec![pb::SpecialtyNeed { specialty: "SECURITY".into(), count: 1 }],
        })
        .await
        .unwrap()
        .into_inner();
    for k in [pb::MaterialKind::RevisedFeasibilityReport, pb::MaterialKind::RevisionList, pb::MaterialKind::Presentation] {
        material(&app, &case.case_id, k).await.unwrap();
    }
    let m = drb
        .clone()
        .schedule_case(pb::ScheduleCaseRequest { meeting_id: m.meeting_id.clone(), etag: m.etag.clone(), case_id: case.case_id.clone() })
        .await
        .unwrap()
        .into_inner();
    let m = drb
        .clone()
        .draw_panel(pb::DrawPanelRequest { meeting_id: m.meeting_id.clone(), etag: m.etag.clone(), seed: 0 })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(m.seed, 0, "a random seed is chosen and recorded");
    let who = m.panel[0].expert_id.clone();
    experts(&app, Role::Expert, &who)
        .submit_expert_score(pb::SubmitExpertScoreRequest {
            meeting_id: m.meeting_id.clone(),
            case_id: case.case_id.clone(),
            scores: dims(30),
            opinion: "重复建设".into(),
            request_id: "s".into(),
        })
        .await
        .unwrap();
    let now = app.case(&case.case_id).await;
    let ended = drb
        .clone()
        .conclude_expert_review(pb::ConcludeExpertReviewRequest {
            case_id: case.case_id.clone(),
            etag: now.etag,
            passed: false,
            recommended_budget_fen: 1,
            opinion: "不予通过".into(),
            request_id: "c".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ended.stage, pb::CaseStage::Ended as i32);
    // Only EXPERT scores; units cannot organise meetings.
    let e = experts(&app, Role::Unit, "u")
        .create_meeting(pb::CreateMeetingRequest { request_id: "x".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
}
