//! A project across services: intake, review, procurement, acceptance and evaluation in one
//! process each as `main` would run them, each with its own database, sharing one RabbitMQ
//! virtual host. `branches` walks one project to its first published evaluation and every
//! terminal branch of the lifecycle, asserting what every service shows; `reconcile` compares
//! the five services' views (what `egovctl reconcile` does) and plants each kind of
//! disagreement.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

mod branches;
mod reconcile;
mod walks;

use std::time::Duration;

use egov_platform::{
    auth::Role,
    clock::shanghai,
    testing::{RunningService, TestDatabase, TestVhost, bearer, eventually, test_settings, token},
};
use egov_proto::{
    events::EventEnvelope,
    intake::{self as ipb, intake_client::IntakeClient},
    review::{self as rpb, review_client::ReviewClient},
};
use prost::Message;

const WAIT: Duration = Duration::from_secs(30);

struct Suite {
    intake: RunningService,
    review: RunningService,
    procurement: RunningService,
    acceptance: RunningService,
    evaluation: RunningService,
    vhost: TestVhost,
    _dbs: [TestDatabase; 5],
}

/// How an application is funded and tracked.
#[derive(Clone, Copy, PartialEq)]
enum Track {
    /// District fiscal money, normal review.
    Normal,
    /// Wholly outside funding (R-R5 fast track, R-R6 validity).
    OutsideFunding,
    /// District fiscal money, principal leader's agreement with minutes (R-R5 fast track, R-P1).
    LeaderAgreed,
}

impl Suite {
    async fn start() -> Suite {
        let vhost = TestVhost::create().await.unwrap();
        let mut dbs = Vec::new();
        for _ in 0..5 {
            dbs.push(TestDatabase::create().await.unwrap());
        }
        let [idb, rdb, pdb, adb, edb]: [TestDatabase; 5] = dbs.try_into().unwrap();
        // Five services a suite, suites in parallel: small pools keep PostgreSQL's connections.
        let settings = |name: &str, db: &TestDatabase| {
            let mut s = test_settings(name, db, &vhost);
            s.database.max_connections = 4;
            s
        };
        // Intake screens against evaluation's catalogue (R-I9) over gRPC.
        let evaluation = RunningService::start::<egov_evaluation::startup::Application>(settings("evaluation", &edb)).await.unwrap();
        let mut is = settings("intake", &idb);
        is.peers.evaluation = format!("http://{}", evaluation.addr);
        let intake = RunningService::start::<egov_intake::startup::Application>(is).await.unwrap();
        let review = RunningService::start::<egov_review::startup::Application>(settings("review", &rdb)).await.unwrap();
        let procurement = RunningService::start::<egov_procurement::startup::Application>(settings("procurement", &pdb)).await.unwrap();
        // Acceptance asks review and procurement (R-A3) over gRPC with its own SERVICE token.
        let mut acs = settings("acceptance", &adb);
        acs.peers.review = format!("http://{}", review.addr);
        acs.peers.procurement = format!("http://{}", procurement.addr);
        let acceptance = RunningService::start::<egov_acceptance::startup::Application>(acs).await.unwrap();
        Suite { intake, review, procurement, acceptance, evaluation, vhost, _dbs: [idb, rdb, pdb, adb, edb] }
    }

    /// The five services, in lifecycle order.
    fn services(&self) -> [&RunningService; 5] {
        [&self.intake, &self.review, &self.procurement, &self.acceptance, &self.evaluation]
    }

    fn intake(
        &self,
        role: Role,
        unit: Option<&str>,
    ) -> IntakeClient<tonic::service::interceptor::InterceptedService<tonic::transport::Channel, egov_platform::auth::Bearer>> {
        IntakeClient::with_interceptor(self.intake.channel.clone(), bearer(&token(role, unit)))
    }

    fn review(
        &self,
        role: Role,
        unit: Option<&str>,
    ) -> ReviewClient<tonic::service::interceptor::InterceptedService<tonic::transport::Channel, egov_platform::auth::Bearer>> {
        ReviewClient::with_interceptor(self.review.channel.clone(), bearer(&token(role, unit)))
    }

    /// The round open today, or one opened next spring (time moved there through the
    /// Operations service's broadcast).
    async fn open_round(&self) -> ipb::ApplicationRound {
        let drb = self.intake(Role::Drb, None);
        let today = self.intake.clock.today();
        let rounds = drb.clone().list_rounds(ipb::ListRoundsRequest::default()).await.unwrap().into_inner().rounds;
        let open = rounds.into_iter().find(|r| {
            r.state == ipb::RoundState::Open as i32
                && egov_platform::convert::date("deadline", r.deadline.as_ref()).is_ok_and(|d| d >= today)
        });
        match open {
            Some(r) => r,
            None => {
                // The next spring: this year's if it has not passed, else next year's.
                let this_spring = time::Date::from_calendar_date(today.year(), time::Month::March, 2).unwrap();
                let spring = if today <= this_spring {
                    this_spring
                } else {
                    time::Date::from_calendar_date(today.year() + 1, time::Month::March, 2).unwrap()
                };
                if self.intake.clock.now() < shanghai(spring, time::macros::time!(10:00)) {
                    self.move_to(spring).await;
                }
                let target_year = spring.year() + 1;
                drb.clone()
                    .open_round(ipb::OpenRoundRequest { request_id: format!("round-{target_year}"), target_year })
                    .await
                    .unwrap()
                    .into_inner()
            }
        }
    }

    /// A unit's application with its dossier uploaded, not yet submitted (the unit registered
    /// first).
    async fn drafted_application(&self, unit: &str, track: Track) -> ipb::Application {
        let _ = self
            .intake(Role::Drb, None)
            .create_unit(ipb::CreateUnitRequest {
                request_id: format!("unit-{unit}"),
                unit_id: unit.into(),
                name: format!("{unit} 单位"),
                district_budget_unit: true,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut d = ipb::ApplicationDraft {
            name: "社会救助一件事".into(),
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
            modules: vec![ipb::FunctionModule { name: "救助审核".into(), description: "救助对象审核".into() }],
            budget: vec![
                ipb::BudgetLine {
                    module: "救助审核".into(),
                    category: ipb::CostCategory::SoftwareDevelopment as i32,
                    amount_fen: 9_500_000,
                    rationale: "按人天测算".into(),
                },
                ipb::BudgetLine {
                    module: "救助审核".into(),
                    category: ipb::CostCategory::Security as i32,
                    amount_fen: 500_000,
                    rationale: "等保测评".into(),
                },
            ],
            ..Default::default()
        };
        match track {
            Track::Normal => {}
            Track::OutsideFunding => {
                d.funding_source = ipb::FundingSource::SuperiorTransfer as i32;
                d.fast_track_grounds = vec![ipb::FastTrackGround::NonDistrictFunding as i32];
            }
            Track::LeaderAgreed => d.fast_track_grounds = vec![ipb::FastTrackGround::PrincipalLeaderAgreed as i32],
        }
        let u = self.intake(Role::Unit, Some(unit));
        let a = u
            .clone()
            .create_application(ipb::CreateApplicationRequest {
                request_id: uuid::Uuid::now_v7().to_string(),
                lead_unit_id: unit.into(),
                draft: Some(d),
            })
            .await
            .unwrap()
            .into_inner();
        let mut docs = vec![(ipb::DocumentKind::ApplicationForm, "申报表"), (ipb::DocumentKind::FeasibilityReport, "可行性研究报告")];
        if track == Track::LeaderAgreed {
            docs.push((ipb::DocumentKind::MeetingMinutes, "区主要领导专题会议纪要"));
        }
        for (kind, text) in docs {
            let msgs = vec![
                ipb::UploadDocumentRequest {
                    part: Some(ipb::upload_document_request::Part::Header(ipb::DocumentUploadHeader {
                        application_id: a.application_id.clone(),
                        kind: kind as i32,
                        file_name: "doc.pdf".into(),
                        request_id: uuid::Uuid::now_v7().to_string(),
                        ..Default::default()
                    })),
                },
                ipb::UploadDocumentRequest { part: Some(ipb::upload_document_request::Part::Chunk(text.as_bytes().to_vec())) },
            ];
            u.clone().upload_document(futures::stream::iter(msgs)).await.unwrap();
        }
        u.clone().get_application(ipb::GetApplicationRequest { application_id: a.application_id.clone() }).await.unwrap().into_inner()
    }

    /// Submits a drafted application into the open round.
    async fn submit(&self, unit: &str, a: &ipb::Application) -> Result<ipb::Application, tonic::Status> {
        let round = self.open_round().await;
        let a = self
            .intake(Role::Unit, Some(unit))
            .get_application(ipb::GetApplicationRequest { application_id: a.application_id.clone() })
            .await?
            .into_inner();
        self.intake(Role::Unit, Some(unit))
            .submit_application(ipb::SubmitApplicationRequest {
                application_id: a.application_id.clone(),
                etag: a.etag.clone(),
                round_id: round.round_id.clone(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// DRB's compliance decision on a submitted (or re-review requested) application: every
    /// checklist item passed, or the first failed.
    async fn decide_compliance(&self, a: &ipb::Application, pass: bool) -> ipb::Application {
        let drb = self.intake(Role::Drb, None);
        let a = drb
            .clone()
            .get_application(ipb::GetApplicationRequest { application_id: a.application_id.clone() })
            .await
            .unwrap()
            .into_inner();
        let items = drb
            .clone()
            .get_compliance_checklist(ipb::GetComplianceChecklistRequest { application_id: a.application_id.clone() })
            .await
            .unwrap()
            .into_inner()
            .items;
        let results = items
            .into_iter()
            .enumerate()
            .map(|(n, i)| ipb::ChecklistResult {
                code: i.code,
                passed: pass || n > 0,
                note: if pass || n > 0 { String::new() } else { "材料不全，请补充".into() },
            })
            .collect();
        drb.clone()
            .decide_compliance(ipb::DecideComplianceRequest {
                application_id: a.application_id.clone(),
                etag: a.etag.clone(),
                results,
                comment: if pass { "合规".into() } else { "不合规".into() },
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// A unit's application through compliance, in a round opened next spring.
    async fn passed_application(&self, unit: &str, track: Track) -> ipb::Application {
        let a = self.drafted_application(unit, track).await;
        let a = self.submit(unit, &a).await.unwrap();
        self.decide_compliance(&a, true).await
    }

    async fn case(&self, id: &str) -> Option<rpb::ReviewCase> {
        self.review(Role::Drb, None).get_case(rpb::GetCaseRequest { case_id: id.into() }).await.ok().map(tonic::Response::into_inner)
    }

    async fn status(&self, unit: &str, id: &str) -> ipb::ProjectStatus {
        self.intake(Role::Unit, Some(unit))
            .get_project_status(ipb::GetProjectStatusRequest { project_id: id.into() })
            .await
            .unwrap()
            .into_inner()
    }

    /// Publishes again every event a service's outbox has sent (a broker redelivering them all).
    async fn redeliver_all(&self, svc: &RunningService) -> usize {
        let rows: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT payload FROM egov_outbox WHERE status = 'sent'").fetch_all(&svc.pool).await.unwrap();
        for p in &rows {
            let e = EventEnvelope::decode(p.as_slice()).unwrap();
            egov_platform::testing::publish(&self.vhost.amqp_url(), &svc.settings.broker.exchange, &e).await.unwrap();
        }
        rows.len()
    }
}

#[tokio::test]
async fn compliance_to_approval_across_intake_and_review() {
    let s = Suite::start().await;
    let a = s.passed_application("U-CIVIL", Track::OutsideFunding).await;
    assert_eq!(a.state, ipb::ApplicationState::CompliancePassed as i32);

    // Intake's event opens the review case; on the fast track it awaits the approval document.
    eventually(WAIT, "review case opened", || async { s.case(&a.project_id).await.is_some() }).await;
    let case = s.case(&a.project_id).await.unwrap();
    assert!(case.fast_track);
    assert_eq!(case.stage, rpb::CaseStage::Approval as i32);
    assert_eq!(case.dossier.as_ref().unwrap().total_budget_fen, 10_000_000);

    let approved = s
        .review(Role::Drb, None)
        .issue_approval(rpb::IssueApprovalRequest {
            case_id: case.case_id.clone(),
            etag: case.etag.clone(),
            document_number: "上数〔2026〕7号".into(),
            issued_on: Some(egov_platform::convert::civil(s.review.clock.today())),
            budget_fen: 9_800_000,
            scope: "救助审核模块".into(),
            planned_construction_months: 12,
            request_id: "approve".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(approved.stage, rpb::CaseStage::Approved as i32);

    // Intake's registry shows the approval, then procurement opening from it.
    eventually(WAIT, "intake shows procurement opened after the approval", || async {
        let st = s.status("U-CIVIL", &a.project_id).await;
        st.status == "采购 PROCUREMENT" && st.timeline.iter().any(|t| t.event_type == "review.project.approved")
    })
    .await;

    // Redelivering every event of both services changes nothing.
    let before = s.status("U-CIVIL", &a.project_id).await.timeline.len();
    let (n_intake, n_review) = (s.redeliver_all(&s.intake).await, s.redeliver_all(&s.review).await);
    assert!(n_intake >= 4 && n_review >= 2, "{n_intake} {n_review}");
    // A fresh application after the redeliveries is a FIFO marker through both consumers.
    let marker = s.passed_application("U-OTHER", Track::Normal).await;
    eventually(WAIT, "marker case opened", || async { s.case(&marker.project_id).await.is_some() }).await;
    eventually(WAIT, "marker on intake's timeline", || async {
        s.status("U-OTHER", &marker.project_id).await.status == "初审 PRELIMINARY_REVIEW"
    })
    .await;
    assert_eq!(s.status("U-CIVIL", &a.project_id).await.timeline.len(), before);
    let cases: i64 = sqlx::query_scalar("SELECT count(*) FROM review_cases").fetch_one(&s.review.pool).await.unwrap();
    assert_eq!(cases, 2);
    let approvals: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE routing_key = 'review.project.approved'")
        .fetch_one(&s.review.pool)
        .await
        .unwrap();
    assert_eq!(approvals, 1);
}

#[tokio::test]
async fn ended_at_preliminary_review_in_every_service() {
    let s = Suite::start().await;
    let a = s.passed_application("U-CIVIL", Track::Normal).await;
    let id = a.project_id.clone();
    s.opened_case(&id).await;
    let tasks = s.review(Role::Audit, None).list_tasks(rpb::ListTasksRequest { case_id: id.clone(), ..Default::default() }).await.unwrap();
    assert_eq!(tasks.into_inner().tasks.len(), 4, "DRC, FINANCE, CAC, XINCHUANG (R-R1)");
    assert_eq!(s.decide_preliminary(&id, false).await.stage, rpb::CaseStage::Ended as i32);
    s.assert_shows(&id, ["申报结束 ENDED", "ENDED", "", "", ""]).await;
    let st = s.status("U-CIVIL", &id).await;
    assert!(st.timeline.iter().any(|t| t.producer == "review" && t.summary.contains("重复建设")), "{:?}", st.timeline);
    s.reconcile_agrees().await;
}

impl Suite {
    /// A fast-tracked, fiscally funded project approved today.
    async fn approved_fiscal_project(&self) -> String {
        let a = self.passed_application("U-CIVIL", Track::LeaderAgreed).await;
        self.opened_case(&a.project_id).await;
        self.issue_approval(&a.project_id, 10_000_000).await;
        a.project_id
    }

    fn procurement_client(
        &self,
        role: Role,
        unit: Option<&str>,
    ) -> egov_proto::procurement::procurement_client::ProcurementClient<
        tonic::service::interceptor::InterceptedService<tonic::transport::Channel, egov_platform::auth::Bearer>,
    > {
        egov_proto::procurement::procurement_client::ProcurementClient::with_interceptor(
            self.procurement.channel.clone(),
            bearer(&token(role, unit)),
        )
    }

    async fn procurement_case(&self, id: &str) -> Option<egov_proto::procurement::ProcurementCase> {
        self.procurement_client(Role::Drb, None)
            .get_case(egov_proto::procurement::GetCaseRequest { project_id: id.into() })
            .await
            .ok()
            .map(tonic::Response::into_inner)
    }
}

#[tokio::test]
async fn r_p1_an_unprocured_approval_is_cancelled_in_review_when_the_deadline_passes() {
    let s = Suite::start().await;
    let id = s.approved_fiscal_project().await;
    eventually(WAIT, "procurement case opened", || async { s.procurement_case(&id).await.is_some() }).await;
    let case = s.procurement_case(&id).await.unwrap();
    let deadline = egov_platform::convert::date("procurement_deadline", case.procurement_deadline.as_ref()).unwrap();
    let approved = egov_platform::convert::date("approved_on", case.approved_on.as_ref()).unwrap();
    assert_eq!(deadline, egov_platform::period::last_day(approved, egov_platform::period::Period::Months(6)));

    // On the deadline day nothing happens; the day after, review cancels the approval.
    let mut ops = egov_proto::common::operations_client::OperationsClient::with_interceptor(
        s.procurement.channel.clone(),
        bearer(&token(Role::Operator, None)),
    );
    let on_the_day = (shanghai(deadline, time::macros::time!(23:00)) - s.procurement.clock.now()).whole_seconds();
    ops.advance_clock(egov_proto::common::AdvanceClockRequest { seconds: on_the_day }).await.unwrap();
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind = 'procurement.deadline' AND status = 'pending'")
        .fetch_one(&s.procurement.pool)
        .await
        .unwrap();
    assert_eq!(pending, 1);
    ops.advance_clock(egov_proto::common::AdvanceClockRequest { seconds: 3600 }).await.unwrap();
    eventually(WAIT, "review cancels the approval", || async {
        s.case(&id).await.is_some_and(|c| c.stage == rpb::CaseStage::Cancelled as i32)
    })
    .await;
    eventually(WAIT, "intake shows the cancellation", || async {
        s.status("U-CIVIL", &id).await.status == "取消立项 APPROVAL_CANCELLED"
    })
    .await;
    s.assert_shows(&id, ["取消立项 APPROVAL_CANCELLED", "CANCELLED", "CANCELLED", "", ""]).await;
    s.reconcile_agrees().await;
}

#[tokio::test]
async fn procurement_completed_in_time_stops_the_clock_and_review_changes() {
    let s = Suite::start().await;
    let id = s.approved_fiscal_project().await;
    eventually(WAIT, "procurement case opened", || async { s.procurement_case(&id).await.is_some() }).await;
    let case = s.procurement_case(&id).await.unwrap();
    let record = egov_proto::procurement::ProcurementRecord {
        channel: "SMALL_PUBLIC_RESOURCE_TRADING".into(),
        method: "竞争性磋商".into(),
        supplier_name: "杭州某信息技术有限公司".into(),
        supplier_credit_code: "91350100M000100Y43".into(),
        amount_fen: 9_600_000,
        implementing_body: "区民政局信息中心".into(),
        responsible_person: "张三".into(),
        supervision: None,
        completed_on: Some(egov_platform::convert::civil(s.procurement.clock.today())),
        documents_filing: None,
    };
    let done = s
        .procurement_client(Role::Unit, Some("U-CIVIL"))
        .record_procurement(egov_proto::procurement::RecordProcurementRequest {
            project_id: id.clone(),
            etag: case.etag.clone(),
            record: Some(record),
            request_id: "p".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.state, egov_proto::procurement::CaseState::Procured as i32);
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind = 'procurement.deadline' AND status = 'pending'")
        .fetch_one(&s.procurement.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0, "the R-P1 clock stopped");
    // Review learns of it: no more changes (R-R7).
    eventually(WAIT, "review knows procurement completed", || async { s.case(&id).await.is_some_and(|c| c.procurement_completed) }).await;
    let c = s.case(&id).await.unwrap();
    let e = s
        .review(Role::Unit, Some("U-CIVIL"))
        .request_change(rpb::RequestChangeRequest {
            case_id: id.clone(),
            etag: c.etag.clone(),
            new_budget_fen: 9_000_000,
            reason: "压缩".into(),
            request_id: "c".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(egov_platform::error::status_rule_ids(&e), vec!["R-R7"]);
}

impl Suite {
    /// The procurement of a project opened in procurement, recorded today (small public-resource
    /// trading), and its contract filed today: construction for 60 days from tomorrow. Returns
    /// the construction's first and last days.
    async fn under_construction(&self, id: &str) -> (time::Date, time::Date) {
        use egov_proto::procurement as ppb;
        let civil = egov_platform::convert::civil;
        let unit = self.procurement_client(Role::Unit, Some("U-CIVIL"));
        let today = self.procurement.clock.today();
        let case = self.procurement_case(id).await.unwrap();
        let k = unit
            .clone()
            .record_procurement(ppb::RecordProcurementRequest {
                project_id: id.to_string(),
                etag: case.etag,
                record: Some(ppb::ProcurementRecord {
                    channel: "SMALL_PUBLIC_RESOURCE_TRADING".into(),
                    method: "竞争性磋商".into(),
                    supplier_name: "杭州某信息技术有限公司".into(),
                    supplier_credit_code: "91350100M000100Y43".into(),
                    amount_fen: 9_600_000,
                    implementing_body: "区民政局信息中心".into(),
                    responsible_person: "张三".into(),
                    supervision: None,
                    completed_on: Some(civil(today)),
                    documents_filing: None,
                }),
                request_id: "p".into(),
            })
            .await
            .unwrap()
            .into_inner();
        // Construction for 60 days from tomorrow; two years of maintenance after it.
        let (start, end) = (today + time::Duration::days(1), today + time::Duration::days(60));
        let terms = ppb::ContractTerms {
            project_name: k.project_name.clone(),
            construction_start: Some(civil(start)),
            construction_end: Some(civil(end)),
            amount_fen: 9_600_000,
            ip_owned_by_unit_or_joint: true,
            data_owned_by_unit: true,
            security_agreement: ppb::SignedStatement::Signed as i32,
            security_responsibility_letter: ppb::SignedStatement::Signed as i32,
            maintenance_scope: "系统运行维护".into(),
            maintenance_start: Some(civil(end + time::Duration::days(1))),
            maintenance_end: Some(civil(end.replace_year(end.year() + 2).unwrap())),
            maintenance_duty: "7×24小时响应".into(),
            security_duties_and_penalties: true,
            overrun_penalty_clause: true,
        };
        let filed = unit
            .clone()
            .file_contract(ppb::FileContractRequest {
                project_id: id.to_string(),
                etag: k.etag,
                terms: Some(terms),
                contract_signed_on: Some(civil(today)),
                filed_on: Some(civil(today)),
                request_id: "contract".into(),
                security: Some(ppb::SecurityFlags { classified_protection_level: 3, important_system: false, ..Default::default() }),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(filed.state, ppb::CaseState::Construction as i32);
        (start, end)
    }
}

#[tokio::test]
async fn construction_to_completion_emits_its_event_once_and_the_overrun_joins_the_units_record() {
    use egov_proto::procurement as ppb;
    let civil = egov_platform::convert::civil;
    let s = Suite::start().await;
    let id = s.approved_fiscal_project().await;
    eventually(WAIT, "procurement case opened", || async { s.procurement_case(&id).await.is_some() }).await;
    let unit = s.procurement_client(Role::Unit, Some("U-CIVIL"));
    let (_, end) = s.under_construction(&id).await;
    let k = s.procurement_case(&id).await.unwrap();
    assert_eq!(k.state, ppb::CaseState::Construction as i32);
    eventually(WAIT, "intake shows construction", || async { s.status("U-CIVIL", &id).await.status == "建设 CONSTRUCTION" }).await;

    // Two days past the contract period: the overrun is recorded against the unit in intake.
    let mut ops = egov_proto::common::operations_client::OperationsClient::with_interceptor(
        s.procurement.channel.clone(),
        bearer(&token(Role::Operator, None)),
    );
    let past = (shanghai(end + time::Duration::days(2), time::macros::time!(09:00)) - s.procurement.clock.now()).whole_seconds();
    ops.advance_clock(egov_proto::common::AdvanceClockRequest { seconds: past }).await.unwrap();
    eventually(WAIT, "overrun recorded", || async { s.procurement_case(&id).await.is_some_and(|c| c.overrun.is_some()) }).await;
    let year = s.intake.clock.today().year() + 1;
    let record = || async {
        s.intake(Role::Drb, None)
            .get_unit_eligibility(ipb::GetUnitEligibilityRequest { unit_id: "U-CIVIL".into(), year })
            .await
            .unwrap()
            .into_inner()
    };
    eventually(WAIT, "the overrun is on the unit's record in intake", || async { !record().await.penalties.is_empty() }).await;

    // The monthly report checks of the months passed catch up one by one; wait for them.
    eventually(WAIT, "procurement's due timers have fired", || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM egov_timers WHERE status = 'pending' AND due_at <= $1")
            .bind(s.procurement.clock.now())
            .fetch_one(&s.procurement.pool)
            .await
            .unwrap()
            == 0
    })
    .await;
    let k = s.procurement_case(&id).await.unwrap();
    let done = unit
        .clone()
        .declare_construction_complete(ppb::DeclareConstructionCompleteRequest {
            project_id: id.clone(),
            etag: k.etag,
            completed_on: Some(civil(end + time::Duration::days(2))),
            summary: "建设内容全部完成".into(),
            overrun_explanation: "数据迁移延期两天".into(),
            request_id: "done".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.state, ppb::CaseState::ConstructionCompleted as i32);
    assert_eq!(done.completion.as_ref().unwrap().overrun_days, 2);
    // Completion, then acceptance opening its case (初验): intake's status follows the latest.
    eventually(WAIT, "intake shows completion and acceptance opening", || async {
        s.status("U-CIVIL", &id).await.status == "初验 INITIAL_ACCEPTANCE"
    })
    .await;

    // Every procurement event delivered again changes nothing: one completion, one overrun.
    eventually(WAIT, "procurement's outbox is sent", || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM egov_outbox WHERE status <> 'sent'")
            .fetch_one(&s.procurement.pool)
            .await
            .unwrap()
            == 0
    })
    .await;
    let sent = s.redeliver_all(&s.procurement).await;
    assert!(sent >= 5, "{sent}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let st = s.status("U-CIVIL", &id).await;
    let count = |t: &str| st.timeline.iter().filter(|e| e.event_type == t).count();
    assert_eq!(count("procurement.construction.completed"), 1, "{:?}", st.timeline);
    assert_eq!(count("procurement.construction.overrun_recorded"), 1);
    assert_eq!(st.status, "初验 INITIAL_ACCEPTANCE");
    let r = record().await;
    assert_eq!(r.penalties.len(), 1);
    assert_eq!(r.penalties[0].kind, ipb::PenaltyKind::ConstructionOverrun as i32);
    assert!(r.eligible);
    let completed: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_outbox WHERE routing_key = 'procurement.construction.completed'")
        .fetch_one(&s.procurement.pool)
        .await
        .unwrap();
    assert_eq!(completed, 1);
}

#[tokio::test]
async fn r_p10_a_revoked_project_ends_in_review_and_shows_in_intake() {
    use egov_proto::procurement as ppb;
    let s = Suite::start().await;
    let id = s.approved_fiscal_project().await;
    eventually(WAIT, "procurement case opened", || async { s.procurement_case(&id).await.is_some() }).await;
    let k = s.terminate(&id, "未支付").await;
    assert_eq!(k.state, ppb::CaseState::Terminated as i32);
    assert_eq!(k.termination.unwrap().kind, "REVOKED");
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_timers WHERE kind = 'procurement.deadline' AND status = 'pending'")
        .fetch_one(&s.procurement.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0, "no R-P1 deadline for a revoked project");
    eventually(WAIT, "review ends the case", || async { s.case(&id).await.is_some_and(|c| c.stage == rpb::CaseStage::Terminated as i32) })
        .await;
    s.assert_shows(&id, ["撤销 REVOKED", "TERMINATED", "TERMINATED", "", ""]).await;
    // No change is taken for an ended project (R-R7 after R-P10).
    let c = s.case(&id).await.unwrap();
    let e = s
        .review(Role::Unit, Some("U-CIVIL"))
        .request_change(rpb::RequestChangeRequest {
            case_id: id.clone(),
            etag: c.etag,
            new_budget_fen: 9_000_000,
            reason: "压缩".into(),
            request_id: "c".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{e:?}");
    s.reconcile_agrees().await;
}

impl Suite {
    fn acceptance_client(
        &self,
        role: Role,
        unit: Option<&str>,
    ) -> egov_proto::acceptance::acceptance_client::AcceptanceClient<
        tonic::service::interceptor::InterceptedService<tonic::transport::Channel, egov_platform::auth::Bearer>,
    > {
        egov_proto::acceptance::acceptance_client::AcceptanceClient::with_interceptor(
            self.acceptance.channel.clone(),
            bearer(&token(role, unit)),
        )
    }

    async fn acceptance_case(&self, id: &str) -> Option<egov_proto::acceptance::AcceptanceCase> {
        self.acceptance_client(Role::Drb, None)
            .get_case(egov_proto::acceptance::GetCaseRequest { project_id: id.into() })
            .await
            .ok()
            .map(tonic::Response::into_inner)
    }

    /// Moves every service's clock to 10:00 Asia/Shanghai of `d`, through the Operations
    /// service's broadcast.
    async fn move_to(&self, d: time::Date) {
        self.move_to_instant(shanghai(d, time::macros::time!(10:00))).await;
    }

    /// Moves every service's clock to `at` (forward only), through the Operations service's
    /// broadcast, and waits until every service follows.
    async fn move_to_instant(&self, at: time::OffsetDateTime) {
        let seconds = (at - self.procurement.clock.now()).whole_seconds();
        if seconds < 1 {
            return; // already there: the clock moves by whole seconds
        }
        let mut ops = egov_proto::common::operations_client::OperationsClient::with_interceptor(
            self.procurement.channel.clone(),
            bearer(&token(Role::Operator, None)),
        );
        ops.advance_clock(egov_proto::common::AdvanceClockRequest { seconds }).await.unwrap();
        let offset = self.procurement.clock.offset_seconds();
        eventually(WAIT, "every service's clock follows the broadcast", || async {
            self.services().iter().all(|s| s.clock.offset_seconds() == offset)
        })
        .await;
    }
}

/// Uploads a material to acceptance as the unit.
async fn file_material(s: &Suite, id: &str, kind: egov_proto::acceptance::MaterialKind, name: &str) {
    use egov_proto::acceptance as apb;
    let header = apb::MaterialHeader {
        request_id: uuid::Uuid::now_v7().to_string(),
        project_id: id.into(),
        kind: kind as i32,
        file_name: format!("{}.pdf", kind.as_str_name()),
        content_type: "application/pdf".into(),
        produced_on: Some(egov_platform::convert::civil(s.acceptance.clock.today())),
        project_name: name.into(),
    };
    let parts = vec![
        apb::UploadMaterialRequest { part: Some(apb::upload_material_request::Part::Header(header)) },
        apb::UploadMaterialRequest { part: Some(apb::upload_material_request::Part::Chunk(b"material".to_vec())) },
    ];
    s.acceptance_client(Role::Unit, Some("U-CIVIL")).upload_material(futures::stream::iter(parts)).await.unwrap();
}

#[tokio::test]
async fn from_construction_to_accepted_across_procurement_acceptance_and_intake_once() {
    use egov_proto::acceptance as apb;
    let s = Suite::start().await;
    let id = s.approved_fiscal_project().await;
    // A plan whose later stages wait for acceptance's milestones (R-P6); construction ends early.
    let name = s.completed_construction(&id).await;
    // R-A1: the unit's initial acceptance passes; procurement's "初验通过" stage is met.
    let held = s.initial_acceptance(&id, &name).await;
    let stage_met = |stage: &'static str| {
        let s = &s;
        let id = id.clone();
        async move {
            s.procurement_case(&id)
                .await
                .and_then(|k| k.contract)
                .is_some_and(|c| c.payment_stages.iter().any(|p| p.stage_id == stage && p.condition_met))
        }
    };
    eventually(WAIT, "procurement marks the initial-acceptance stage met", || stage_met("initial")).await;
    // R-A2: the trial runs 30 days; the provincial system deposits its report.
    s.trial_operation(&id, &name, held).await;
    // R-A3: acceptance asks review and procurement itself, with its own service account.
    let approved = s.apply_for_acceptance(&id).await;
    assert_eq!(approved.category, "DATA_RESOURCE", "from review's dossier");
    assert!(approved.applications[0].checks.iter().any(|c| c.detail.contains("fast track")), "no expert opinion on the fast track");
    // R-A4: bought through small public-resource trading, the unit organises the acceptance.
    let accepted = s.record_acceptance(&id, true).await;
    assert_eq!(accepted.state, apb::CaseState::Accepted as i32);
    eventually(WAIT, "procurement marks the final stage met", || stage_met("final")).await;
    eventually(WAIT, "intake shows the system in use", || async { s.status("U-CIVIL", &id).await.status == "运行 IN_OPERATION" }).await;

    // Every acceptance and procurement event delivered again changes nothing.
    for svc in [&s.acceptance, &s.procurement] {
        eventually(WAIT, "the outbox is sent", || async {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM egov_outbox WHERE status <> 'sent'").fetch_one(&svc.pool).await.unwrap() == 0
        })
        .await;
    }
    let again = s.redeliver_all(&s.procurement).await + s.redeliver_all(&s.acceptance).await;
    assert!(again >= 8, "{again}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cases: i64 = sqlx::query_scalar("SELECT count(*) FROM acceptance_cases").fetch_one(&s.acceptance.pool).await.unwrap();
    assert_eq!(cases, 1);
    let st = s.status("U-CIVIL", &id).await;
    let count = |t: &str| st.timeline.iter().filter(|e| e.event_type == t).count();
    assert_eq!(count("acceptance.project.accepted"), 1, "{:?}", st.timeline);
    assert_eq!(count("acceptance.case.opened"), 1);
    assert_eq!(count("procurement.payment.condition_met"), 2, "initial, then final (acceptance's milestones): each once");
    assert_eq!(st.status, "运行 IN_OPERATION");
    let met: i64 = sqlx::query_scalar("SELECT count(*) FROM egov_audit WHERE action = 'MarkStageConditionMet'")
        .fetch_one(&s.procurement.pool)
        .await
        .unwrap();
    assert_eq!(met, 3);
}
