//! The steps a project takes, as `Suite` methods the branches share: the review stages (each
//! passed or failed), the approval, construction, the acceptance (initial, trial, application,
//! the acceptance itself, passed or failed), the evaluation; and what every service shows.

use egov_platform::{
    auth::{Bearer, Claims, Role, mint_hs256},
    config::LOCAL_DEV_SECRET,
    convert::civil,
    testing::{bearer, token},
};
use egov_proto::{
    acceptance as apb, evaluation as epb, procurement as ppb,
    review::{self as rpb, expert_review_client::ExpertReviewClient},
};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

use super::*;

type Authed = InterceptedService<Channel, Bearer>;

/// A token for `subject` (an expert scores as the expert whose id is the subject).
fn token_of(subject: &str, role: Role, unit: Option<&str>) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = Claims { sub: subject.into(), role, unit: unit.map(Into::into), iss: "egov-local".into(), exp: now + 3600, iat: now };
    mint_hs256(LOCAL_DEV_SECRET.as_bytes(), &claims).unwrap()
}

/// What one service shows of a project: its state's name without the enum's prefix, "" when it
/// has no case.
fn name(full: &str) -> String {
    ["CASE_STAGE_", "CASE_STATE_", "ENTRY_STATE_"].iter().fold(full.to_string(), |n, p| n.trim_start_matches(p).to_string())
}

/// A panel member who passes or fails the project.
fn member(n: &str, sp: apb::Specialty, passes: bool) -> apb::PanelMember {
    apb::PanelMember {
        name: n.into(),
        specialties: vec![sp as i32],
        affiliation: "浙江工业大学".into(),
        affiliation_credit_code: "12330000470003266X".into(),
        opinion: if passes { "功能完整，同意通过".into() } else { "性能不达标".into() },
        passes,
    }
}

fn panel(names: [&str; 3], passes: bool) -> Vec<apb::PanelMember> {
    vec![
        member(names[0], apb::Specialty::InformationTechnology, passes),
        member(names[1], apb::Specialty::Cybersecurity, passes),
        member(names[2], apb::Specialty::BusinessDomain, passes),
    ]
}

impl Suite {
    // ------------------------------------------------------------------ what every service shows

    /// `[intake's registry status, review, procurement, acceptance, evaluation]` for `id`.
    pub(crate) async fn shows(&self, id: &str) -> [String; 5] {
        let status = self
            .intake(Role::Drb, None)
            .get_project_status(ipb::GetProjectStatusRequest { project_id: id.into() })
            .await
            .map(|s| s.into_inner().status)
            .unwrap_or_default();
        let review = self.case(id).await.map(|c| name(rpb::CaseStage::try_from(c.stage).unwrap().as_str_name())).unwrap_or_default();
        let procurement =
            self.procurement_case(id).await.map(|c| name(ppb::CaseState::try_from(c.state).unwrap().as_str_name())).unwrap_or_default();
        let acceptance =
            self.acceptance_case(id).await.map(|c| name(apb::CaseState::try_from(c.state).unwrap().as_str_name())).unwrap_or_default();
        let evaluation = self.entry(id).await.map(|e| name(epb::EntryState::try_from(e.state).unwrap().as_str_name())).unwrap_or_default();
        [status, review, procurement, acceptance, evaluation]
    }

    /// Waits until every service shows `expected` for `id` (see [`Suite::shows`]); fails with
    /// what they show otherwise.
    pub(crate) async fn assert_shows(&self, id: &str, expected: [&str; 5]) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let now = self.shows(id).await;
            if now.iter().zip(expected).all(|(a, b)| a == b) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "[intake, review, procurement, acceptance, evaluation] show {now:?}, expected {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // ------------------------------------------------------------------ review

    /// The review case intake's compliance pass opened.
    pub(crate) async fn opened_case(&self, id: &str) -> rpb::ReviewCase {
        eventually(WAIT, "review case opened", || async { self.case(id).await.is_some() }).await;
        self.case(id).await.unwrap()
    }

    /// Every preliminary participant's opinion, then DRB's decision (R-R1).
    pub(crate) async fn decide_preliminary(&self, id: &str, passed: bool) -> rpb::ReviewCase {
        let tasks = self
            .review(Role::Audit, None)
            .list_tasks(rpb::ListTasksRequest { case_id: id.into(), ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .tasks;
        let sheet =
            self.review(Role::Drb, None).get_scoring_sheet(rpb::GetScoringSheetRequest { case_id: id.into() }).await.unwrap().into_inner();
        for t in tasks.into_iter().filter(|t| t.kind.starts_with("preliminary")) {
            let role = Role::parse(&t.assignee_role).unwrap();
            self.review(role, None)
                .submit_preliminary_opinion(rpb::SubmitPreliminaryOpinionRequest {
                    case_id: id.into(),
                    task_id: t.task_id.clone(),
                    etag: t.etag.clone(),
                    scores: sheet
                        .criteria
                        .iter()
                        .map(|c| rpb::CriterionScore { code: c.code.clone(), score: if passed { 85 } else { 40 } })
                        .collect(),
                    passed,
                    opinion: if passed { "同意".into() } else { "与已建系统重复".into() },
                    request_id: t.task_id.clone(),
                })
                .await
                .unwrap();
        }
        let case = self.case(id).await.unwrap();
        self.review(Role::Drb, None)
            .decide_preliminary(rpb::DecidePreliminaryRequest {
                case_id: id.into(),
                etag: case.etag,
                passed,
                comment: if passed { "通过初审".into() } else { "重复建设，不予通过".into() },
                request_id: "preliminary".into(),
            })
            .await
            .unwrap()
            .into_inner()
    }

    pub(crate) fn experts(&self, subject: &str, role: Role, unit: Option<&str>) -> ExpertReviewClient<Authed> {
        ExpertReviewClient::with_interceptor(self.review.channel.clone(), bearer(&token_of(subject, role, unit)))
    }

    pub(crate) async fn review_material(&self, unit: &str, id: &str, kind: rpb::MaterialKind) {
        let msgs = vec![
            rpb::UploadMaterialRequest {
                part: Some(rpb::upload_material_request::Part::Header(rpb::MaterialHeader {
                    case_id: id.into(),
                    kind: kind as i32,
                    file_name: format!("{}.pdf", kind.as_str_name().to_lowercase()),
                    request_id: uuid::Uuid::now_v7().to_string(),
                })),
            },
            rpb::UploadMaterialRequest { part: Some(rpb::upload_material_request::Part::Chunk(format!("{kind:?}").into_bytes())) },
        ];
        self.experts("unit-user", Role::Unit, Some(unit)).upload_material(futures::stream::iter(msgs)).await.unwrap();
    }

    /// The expert review (R-R2): materials, a meeting of three experts, their scores, DRB's
    /// conclusion; a pass is followed by the revised report and revision list (→ re-check).
    pub(crate) async fn expert_review(&self, unit: &str, id: &str, passed: bool) -> rpb::ReviewCase {
        let drb = self.experts("drb", Role::Drb, None);
        for e in ["e2", "e3", "e4"] {
            drb.clone()
                .create_expert(rpb::CreateExpertRequest {
                    request_id: e.into(),
                    expert_id: e.into(),
                    name: format!("专家{e}"),
                    specialties: vec!["IT".into()],
                    affiliation: format!("{e} 研究院"),
                })
                .await
                .unwrap();
        }
        for k in [rpb::MaterialKind::RevisedFeasibilityReport, rpb::MaterialKind::RevisionList, rpb::MaterialKind::Presentation] {
            self.review_material(unit, id, k).await;
        }
        let m = drb
            .clone()
            .create_meeting(rpb::CreateMeetingRequest {
                request_id: format!("meeting-{id}"),
                held_on: Some(civil(self.review.clock.today())),
                specialties: vec![rpb::SpecialtyNeed { specialty: "IT".into(), count: 3 }],
            })
            .await
            .unwrap()
            .into_inner();
        let m = drb
            .clone()
            .schedule_case(rpb::ScheduleCaseRequest { meeting_id: m.meeting_id.clone(), etag: m.etag.clone(), case_id: id.into() })
            .await
            .unwrap()
            .into_inner();
        let m = drb
            .clone()
            .draw_panel(rpb::DrawPanelRequest { meeting_id: m.meeting_id.clone(), etag: m.etag, seed: 7 })
            .await
            .unwrap()
            .into_inner();
        for e in &m.panel {
            let dims = ["RESOURCE_CONSOLIDATION", "TECHNICAL_SOLUTION", "DATA_SHARING", "SECURITY_ASSURANCE", "COST_ESTIMATE"];
            self.experts(&e.expert_id, Role::Expert, None)
                .submit_expert_score(rpb::SubmitExpertScoreRequest {
                    meeting_id: m.meeting_id.clone(),
                    case_id: id.into(),
                    scores: dims
                        .iter()
                        .map(|d| rpb::DimensionScore { dimension: (*d).into(), score: if passed { 80 } else { 30 } })
                        .collect(),
                    opinion: if passed { "方案可行".into() } else { "重复建设".into() },
                    request_id: e.expert_id.clone(),
                })
                .await
                .unwrap();
        }
        let now = self.case(id).await.unwrap();
        let concluded = drb
            .clone()
            .conclude_expert_review(rpb::ConcludeExpertReviewRequest {
                case_id: id.into(),
                etag: now.etag,
                passed,
                recommended_budget_fen: if passed { 9_800_000 } else { 1 },
                opinion: if passed { "建议压缩投资".into() } else { "不予通过".into() },
                request_id: "conclude".into(),
            })
            .await
            .unwrap()
            .into_inner();
        if passed {
            self.review_material(unit, id, rpb::MaterialKind::RevisedFeasibilityReport).await;
            self.review_material(unit, id, rpb::MaterialKind::RevisionList).await;
            return self.case(id).await.unwrap();
        }
        concluded
    }

    /// The re-check (R-R3): DRB's, DRC's and FINANCE's opinions, DRB's conclusion with the
    /// funding arrangement.
    pub(crate) async fn recheck(&self, id: &str, passed: bool) -> rpb::ReviewCase {
        let tasks = self
            .review(Role::Audit, None)
            .list_tasks(rpb::ListTasksRequest { case_id: id.into(), ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .tasks;
        for t in tasks.into_iter().filter(|t| t.kind == "recheck.opinion") {
            self.review(Role::parse(&t.assignee_role).unwrap(), None)
                .submit_recheck_opinion(rpb::SubmitRecheckOpinionRequest {
                    case_id: id.into(),
                    task_id: t.task_id.clone(),
                    etag: t.etag.clone(),
                    passed,
                    opinion: if passed { "同意".into() } else { "未按专家意见修改".into() },
                    request_id: t.task_id.clone(),
                })
                .await
                .unwrap();
        }
        let now = self.case(id).await.unwrap();
        self.review(Role::Drb, None)
            .conclude_recheck(rpb::ConcludeRecheckRequest {
                case_id: id.into(),
                etag: now.etag,
                passed,
                comment: if passed { "复核通过，按优先级安排资金".into() } else { "未按专家意见修改".into() },
                priority_rank: if passed { 1 } else { 0 },
                fiscal_year: if passed { self.review.clock.today().year() + 1 } else { 0 },
                amount_fen: if passed { 9_800_000 } else { 0 },
                request_id: "recheck".into(),
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// The district joint meeting (R-R4).
    pub(crate) async fn joint_meeting(&self, id: &str, passed: bool) -> rpb::ReviewCase {
        let now = self.case(id).await.unwrap();
        self.review(Role::Drb, None)
            .record_joint_meeting(rpb::RecordJointMeetingRequest {
                case_id: id.into(),
                etag: now.etag,
                passed,
                meeting_ref: "规划土地数字管理联席会议".into(),
                held_on: Some(civil(self.review.clock.today())),
                comment: if passed { String::new() } else { "与已建系统重复".into() },
                request_id: "joint".into(),
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// The approval document (R-R4), issued today.
    pub(crate) async fn issue_approval(&self, id: &str, budget_fen: i64) -> rpb::ReviewCase {
        let case = self.case(id).await.unwrap();
        assert_eq!(case.stage, rpb::CaseStage::Approval as i32, "{case:?}");
        self.review(Role::Drb, None)
            .issue_approval(rpb::IssueApprovalRequest {
                case_id: id.into(),
                etag: case.etag,
                document_number: "上数〔2027〕3号".into(),
                issued_on: Some(civil(self.review.clock.today())),
                budget_fen,
                scope: "救助审核模块".into(),
                planned_construction_months: 12,
                request_id: "approve".into(),
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// An application of `unit` through every review stage: compliance, preliminary, expert
    /// review, re-check, joint meeting; awaiting its approval document.
    pub(crate) async fn reviewed_project(&self, unit: &str) -> String {
        let a = self.passed_application(unit, Track::Normal).await;
        let id = a.project_id.clone();
        self.opened_case(&id).await;
        assert_eq!(self.decide_preliminary(&id, true).await.stage, rpb::CaseStage::ExpertReview as i32);
        assert_eq!(self.expert_review(unit, &id, true).await.stage, rpb::CaseStage::ReCheck as i32);
        assert_eq!(self.recheck(&id, true).await.stage, rpb::CaseStage::JointMeeting as i32);
        assert_eq!(self.joint_meeting(&id, true).await.stage, rpb::CaseStage::Approval as i32);
        id
    }

    // ------------------------------------------------------------------ construction

    /// A project under construction with a payment plan whose later stages wait for
    /// acceptance's milestones (R-P6), the first stage paid; construction completed ten days
    /// into it. Returns the project's approved name.
    pub(crate) async fn completed_construction(&self, id: &str) -> String {
        eventually(WAIT, "procurement case opened", || async { self.procurement_case(id).await.is_some() }).await;
        let (start, _) = self.under_construction(id).await;
        let unit = self.procurement_client(Role::Unit, Some("U-CIVIL"));
        let k = self.procurement_case(id).await.unwrap();
        let stage = |id: &str, condition: &str, ratio_bp: u32| ppb::PaymentStageTerms {
            stage_id: id.into(),
            condition: condition.into(),
            ratio_bp,
        };
        let k = unit
            .clone()
            .set_payment_plan(ppb::SetPaymentPlanRequest {
                project_id: id.into(),
                etag: k.etag,
                stages: vec![stage("sign", "合同签订", 3000), stage("initial", "初验通过", 4000), stage("final", "终验通过", 3000)],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let k = unit
            .clone()
            .mark_stage_condition_met(ppb::MarkStageConditionMetRequest {
                project_id: id.into(),
                etag: k.etag,
                stage_id: "sign".into(),
                evidence: "合同已签订".into(),
                request_id: "sign-met".into(),
            })
            .await
            .unwrap()
            .into_inner();
        let k = unit
            .clone()
            .file_payment(ppb::FilePaymentRequest {
                project_id: id.into(),
                etag: k.etag,
                stage_id: "sign".into(),
                amount_fen: 2_880_000,
                request_id: "pay-sign".into(),
            })
            .await
            .unwrap()
            .into_inner();
        self.move_to(start + time::Duration::days(10)).await;
        let done = unit
            .clone()
            .declare_construction_complete(ppb::DeclareConstructionCompleteRequest {
                project_id: id.into(),
                etag: self.procurement_case(id).await.map_or(k.etag, |k| k.etag),
                completed_on: Some(civil(self.procurement.clock.today())),
                summary: "建设内容全部完成".into(),
                overrun_explanation: String::new(),
                request_id: "done".into(),
            })
            .await
            .unwrap()
            .into_inner();
        eventually(WAIT, "acceptance opened the case", || async { self.acceptance_case(id).await.is_some() }).await;
        done.project_name
    }

    // ------------------------------------------------------------------ acceptance

    pub(crate) fn acceptance_unit(&self) -> egov_proto::acceptance::acceptance_client::AcceptanceClient<Authed> {
        self.acceptance_client(Role::Unit, Some("U-CIVIL"))
    }

    /// R-A1: the unit's initial acceptance passes (procurement's 初验 stage is met); the other
    /// materials of the application are filed. Returns the day it was held.
    pub(crate) async fn initial_acceptance(&self, id: &str, name: &str) -> time::Date {
        for kind in [apb::MaterialKind::InitialPanelOpinions, apb::MaterialKind::InitialMinutes, apb::MaterialKind::InitialTestReport] {
            file_material(self, id, kind, name).await;
        }
        let k = self.acceptance_case(id).await.unwrap();
        let held = self.acceptance.clock.today();
        self.acceptance_unit()
            .record_initial_acceptance(apb::RecordInitialAcceptanceRequest {
                project_id: id.into(),
                etag: k.etag,
                held_on: Some(civil(held)),
                panel: panel(["王工", "李工", "赵处"], true),
                conclusion: "同意通过初验，进入试运行".into(),
            })
            .await
            .unwrap();
        for kind in [
            apb::MaterialKind::FunctionPerformanceTestReport,
            apb::MaterialKind::ClassifiedProtectionAssessment,
            apb::MaterialKind::XinchuangAssessment,
            apb::MaterialKind::ConstructionSummary,
        ] {
            file_material(self, id, kind, name).await;
        }
        held
    }

    /// R-A2: the trial runs 30 days from `held`; the provincial system deposits its report.
    pub(crate) async fn trial_operation(&self, id: &str, name: &str, held: time::Date) {
        self.move_to(held + time::Duration::days(30)).await;
        let report = apb::TrialReportHeader {
            request_id: "trial".into(),
            project_id: id.into(),
            file_name: "试运行报告.pdf".into(),
            content_type: "application/pdf".into(),
            produced_on: Some(civil(held + time::Duration::days(29))),
            period_from: Some(civil(held)),
            period_to: Some(civil(held + time::Duration::days(29))),
            external_reference: "ZJ-SZZY-0001".into(),
            project_name: name.into(),
        };
        self.acceptance_client(Role::Province, None)
            .deposit_trial_report(futures::stream::iter(vec![
                apb::DepositTrialReportRequest { part: Some(apb::deposit_trial_report_request::Part::Header(report)) },
                apb::DepositTrialReportRequest { part: Some(apb::deposit_trial_report_request::Part::Chunk(b"report".to_vec())) },
            ]))
            .await
            .unwrap();
    }

    /// R-A3: the unit applies (acceptance asks review and procurement itself) and DRB approves
    /// the application.
    pub(crate) async fn apply_for_acceptance(&self, id: &str) -> apb::AcceptanceCase {
        let k = self.acceptance_case(id).await.unwrap();
        let applied = self
            .acceptance_unit()
            .apply_for_acceptance(apb::ApplyForAcceptanceRequest {
                project_id: id.into(),
                etag: k.etag,
                built_modules: vec!["救助审核".into()],
                goals_met: true,
                function_performance_met: true,
                statement: "全部建设内容已完成".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        self.acceptance_client(Role::Drb, None)
            .review_application(apb::ReviewApplicationRequest {
                project_id: id.into(),
                etag: applied.etag,
                approve: true,
                reasons: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// R-A4/R-A5: the acceptance, organised by the unit (small public-resource trading), passed or
    /// failed by its experts.
    pub(crate) async fn record_acceptance(&self, id: &str, passed: bool) -> apb::AcceptanceCase {
        let k = self.acceptance_case(id).await.unwrap();
        self.acceptance_unit()
            .record_acceptance(apb::RecordAcceptanceRequest {
                project_id: id.into(),
                etag: k.etag,
                held_on: Some(civil(self.acceptance.clock.today())),
                experts: panel(["钱工", "孙工", "周处"], passed),
                conclusion: if passed { "验收通过".into() } else { "验收不通过，限期整改".into() },
                costs_fen: 500_000,
                drb_joined: true,
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// A fast-tracked fiscal project from its application to a failed or passed acceptance.
    pub(crate) async fn through_acceptance(&self, passed: bool) -> String {
        let id = self.approved_fiscal_project().await;
        let name = self.completed_construction(&id).await;
        let held = self.initial_acceptance(&id, &name).await;
        self.trial_operation(&id, &name, held).await;
        self.apply_for_acceptance(&id).await;
        self.record_acceptance(&id, passed).await;
        id
    }

    /// A project accepted and catalogued by evaluation, its first evaluation scheduled.
    pub(crate) async fn accepted_project(&self) -> (String, epb::CatalogueEntry) {
        let id = self.through_acceptance(true).await;
        let entry = self.catalogued(&id).await;
        (id, entry)
    }

    // ------------------------------------------------------------------ evaluation

    pub(crate) fn evaluation_client(&self, role: Role, unit: Option<&str>) -> epb::evaluations_client::EvaluationsClient<Authed> {
        epb::evaluations_client::EvaluationsClient::with_interceptor(self.evaluation.channel.clone(), bearer(&token(role, unit)))
    }

    pub(crate) async fn entry(&self, id: &str) -> Option<epb::CatalogueEntry> {
        self.evaluation_client(Role::Drb, None)
            .get_entry(epb::GetEntryRequest { entry_id: id.into() })
            .await
            .ok()
            .map(tonic::Response::into_inner)
    }

    /// Waits until evaluation has catalogued the accepted project with its schedule (R-E1, R-E2).
    pub(crate) async fn catalogued(&self, id: &str) -> epb::CatalogueEntry {
        eventually(WAIT, "evaluation catalogues the accepted project", || async {
            self.entry(id).await.is_some_and(|e| e.schedule.is_some())
        })
        .await;
        self.entry(id).await.unwrap()
    }

    /// Waits until `f` holds of the entry.
    pub(crate) async fn entry_until(&self, id: &str, what: &str, f: impl Fn(&epb::CatalogueEntry) -> bool) -> epb::CatalogueEntry {
        eventually(WAIT, what, || async { self.entry(id).await.is_some_and(|e| f(&e)) }).await;
        self.entry(id).await.unwrap()
    }

    /// DRB opens an evaluation, DRB and FINANCE score every indicator with `points`, DRB
    /// publishes it (R-E2).
    pub(crate) async fn evaluate(&self, id: &str, points: i32) -> epb::CatalogueEntry {
        let drb = self.evaluation_client(Role::Drb, None);
        let e = drb
            .clone()
            .open_evaluation(epb::OpenEvaluationRequest { request_id: uuid::Uuid::now_v7().to_string(), app_id: id.into() })
            .await
            .unwrap()
            .into_inner();
        let evaluation_id = e.evaluations.last().unwrap().evaluation_id.clone();
        let system = drb.clone().get_indicator_system(epb::GetIndicatorSystemRequest::default()).await.unwrap().into_inner();
        let mut etag = e.etag;
        for role in [Role::Drb, Role::Finance] {
            let scores = system
                .indicators
                .iter()
                .filter(|i| i.assessed_by == role.as_str())
                .map(|i| epb::IndicatorScore { indicator: i.code.clone(), score: points, ..Default::default() })
                .collect();
            let r = epb::RecordScoresRequest { app_id: id.into(), etag: etag.clone(), evaluation_id: evaluation_id.clone(), scores };
            etag = self.evaluation_client(role, None).record_scores(r).await.unwrap().into_inner().etag;
        }
        drb.clone()
            .publish_evaluation(epb::PublishEvaluationRequest { app_id: id.into(), etag, evaluation_id, comment: "评价意见".into() })
            .await
            .unwrap()
            .into_inner()
    }
}
