//! The procurement case's state machine tested on the changes it returns, without a database:
//! each transition allowed (its new state, rules, events and timers), refused out of order under
//! the rule whose order it breaks, and at its boundaries.

mod transitions {
    use std::sync::Arc;

    use egov_calendar::Calendar;
    use egov_platform::{
        clock::shanghai,
        error::Refusal,
        period::{self, Period},
        policy::{Policy, PolicyBook},
        transition::{Change, Context, TimerOp},
        values::Fen,
    };
    use time::{
        Date, OffsetDateTime,
        macros::{date, time},
    };
    use uuid::Uuid;

    use crate::domain::{
        case::{self, Approval, CompletionDeclaration, ContractFiling, Procurement, Report, ReportCheck},
        contract::ContractTerms,
        events::types,
        inspections::{self, DrawRequest},
        payments::PaymentStage,
        supervision::{Channel, SupervisionContract},
        termination::TerminationFiling,
        timers::{OVERRUN, PROCUREMENT_DEADLINE, PROGRESS_REPORT},
        *,
    };

    const APPROVED: Date = date!(2026 - 03 - 02);
    const SUPPLIER: &str = "91350100M000100Y43";

    fn policy() -> Arc<Policy> {
        PolicyBook::load("").unwrap().in_force(APPROVED)
    }

    fn calendar() -> Calendar {
        Calendar::official().unwrap()
    }

    fn fen(n: i64) -> Fen {
        Fen::new(n).unwrap()
    }

    fn at(d: Date) -> OffsetDateTime {
        shanghai(d, time!(10:00))
    }

    /// Runs `f` with the context of 10:00 on `d`.
    fn on<T>(d: Date, f: impl FnOnce(Context<'_>) -> T) -> T {
        let p = policy();
        f(Context::new(at(d), &p))
    }

    /// The state a committed change leaves (the version as the pipeline bumps it).
    fn committed(c: Change<ProcurementCase>) -> ProcurementCase {
        let mut k = c.state;
        k.version += 1;
        k
    }

    fn approval(funding: &str) -> Approval {
        Approval {
            project_id: Uuid::nil(),
            project_name: "社会救助一件事".into(),
            lead_unit_id: "U-CIVIL".into(),
            participating_unit_ids: vec![],
            budget: fen(10_000_000),
            funding_source: funding.into(),
            planned_construction_months: 12,
            scope: "救助审核".into(),
            approved_on: APPROVED,
            document_number: "上数〔2026〕9号".into(),
        }
    }

    fn procuring() -> ProcurementCase {
        committed(on(APPROVED, |ctx| case::open(approval("DISTRICT_FISCAL"), ctx)))
    }

    fn procurement(channel: Channel, amount: i64, fee: Option<i64>) -> Procurement {
        Procurement {
            channel,
            method: "公开招标".into(),
            supplier_name: "杭州某信息技术有限公司".into(),
            supplier_credit_code: SUPPLIER.into(),
            amount: fen(amount),
            implementing_body: "区民政局信息中心".into(),
            responsible_person: "张三".into(),
            supervision: fee.map(|f| SupervisionContract {
                supplier_credit_code: SUPPLIER.into(),
                fee_fen: fen(f),
                separately_procured: true,
            }),
            completed_on: date!(2026 - 04 - 01),
        }
    }

    const RECORDED: Date = date!(2026 - 04 - 02);

    fn procured() -> ProcurementCase {
        let cmd = procurement(Channel::SmallPublicResourceTrading, 9_000_000, None);
        committed(on(RECORDED, |ctx| case::record_procurement(&procuring(), cmd, ctx, &calendar())).unwrap())
    }

    fn terms() -> ContractTerms {
        ContractTerms {
            project_name: "社会救助一件事".into(),
            construction_start: date!(2026 - 05 - 01),
            construction_end: date!(2026 - 09 - 30),
            amount_fen: fen(9_000_000),
            ip_owned_by_unit_or_joint: true,
            data_owned_by_unit: true,
            security_agreement_signed: Some(true),
            security_responsibility_letter_signed: Some(false),
            maintenance_scope: "系统软件及数据的运行维护".into(),
            maintenance_start: Some(date!(2026 - 10 - 01)),
            maintenance_end: Some(date!(2028 - 09 - 30)),
            maintenance_duty: "7×24小时响应".into(),
            security_duties_and_penalties: true,
            overrun_penalty_clause: true,
        }
    }

    const FILED: Date = date!(2026 - 04 - 10);

    fn filing(terms: ContractTerms) -> ContractFiling {
        let security = SecurityFlags { classified_protection_level: 3, important_system: true };
        ContractFiling { terms, security, signed_on: date!(2026 - 04 - 08), filed_on: FILED }
    }

    fn building() -> ProcurementCase {
        committed(on(FILED, |ctx| case::file_contract(&procured(), filing(terms()), ctx, &calendar())).unwrap())
    }

    fn stages() -> Vec<PaymentStage> {
        vec![
            PaymentStage { stage_id: "sign".into(), condition: "合同签订".into(), ratio_bp: 3000 },
            PaymentStage { stage_id: "final".into(), condition: "终验通过".into(), ratio_bp: 7000 },
        ]
    }

    fn termination() -> TerminationFiling {
        TerminationFiling {
            ground: Some(TerminationGround::FunctionTransferOrPolicyChange),
            reason: "职能划转至市级部门".into(),
            progress: "需求调研完成".into(),
            payments: "无".into(),
            party_committee_resolution: "党组会议纪要〔2026〕12号".into(),
            leader_approval: "区领导批示".into(),
        }
    }

    fn completed() -> ProcurementCase {
        let d = CompletionDeclaration { completed_on: date!(2026 - 09 - 30), summary: "完成".into(), overrun_explanation: String::new() };
        committed(on(date!(2026 - 09 - 30), |ctx| case::declare_construction_complete(&building(), d, ctx)).unwrap())
    }

    /// A refusal under `rule` only, explained in words: never typed STATE, never a Rust debug
    /// value (`Some(..)`, a variant's name, a quoted string).
    fn refused_under(r: Refusal, rule: &str) -> String {
        let Refusal::Rules(v) = &r else { panic!("expected a rule refusal, got {r:?}") };
        assert!(v.iter().all(|x| x.rule_id == rule), "{r:?}");
        let text = r.to_string();
        for debug in ["STATE", "Some(", "None", "Procured", "Construction ", "\""] {
            assert!(!text.contains(debug), "{debug} in {text}");
        }
        text
    }

    fn timers(c: &Change<ProcurementCase>) -> &[TimerOp] {
        &c.effects.timers
    }

    // ------------------------------------------------------------ opening, R-P1

    #[test]
    fn a_fiscal_case_opens_with_r_p1_s_deadline_and_its_timer() {
        let c = on(APPROVED, |ctx| case::open(approval("DISTRICT_FISCAL"), ctx));
        assert_eq!(c.state.state, CaseState::Procuring);
        assert_eq!(c.state.procurement_deadline, Some(date!(2026 - 09 - 02)));
        assert_eq!(c.event_types(), vec![types::CASE_OPENED]);
        assert_eq!(c.effects.rule_ids, vec!["R-P1"]);
        let TimerOp::Set { kind, key, due_at, .. } = &timers(&c)[0] else { panic!("{c:?}") };
        assert_eq!((*kind, key.as_str()), (PROCUREMENT_DEADLINE, Uuid::nil().to_string().as_str()));
        // Lapsed from 00:00 of the day after the last day, as before, now counted by the platform.
        assert_eq!(*due_at, shanghai(date!(2026 - 09 - 03), time!(0:00)));
        assert_eq!(*due_at, period::lapses_at(APPROVED, Period::Months(6)));

        let outside = on(APPROVED, |ctx| case::open(approval("SUPERIOR_TRANSFER"), ctx));
        assert_eq!(outside.state.procurement_deadline, None);
        assert!(timers(&outside).is_empty(), "no R-P1 deadline outside fiscal funding");
    }

    #[test]
    fn r_p1_the_deadline_is_missed_only_while_procuring() {
        let c = on(date!(2026 - 09 - 03), |ctx| case::miss_deadline(&procuring(), ctx)).unwrap();
        assert_eq!(c.state.state, CaseState::DeadlineMissed);
        assert_eq!(c.event_types(), vec![types::DEADLINE_MISSED]);
        assert_eq!(c.effects.rule_ids, vec!["R-P1"]);
        assert!(on(date!(2026 - 09 - 03), |ctx| case::miss_deadline(&procured(), ctx)).is_none(), "procured in time");
        // Every later step is refused under R-P1.
        let missed = committed(c);
        let cmd = procurement(Channel::SmallPublicResourceTrading, 9_000_000, None);
        let e = on(date!(2026 - 09 - 04), |ctx| case::record_procurement(&missed, cmd, ctx, &calendar())).unwrap_err();
        assert!(refused_under(e, "R-P1").contains("2026-09-02"));
    }

    // ------------------------------------------------------------ procurement, R-P3, R-P4

    #[test]
    fn recording_procurement_stops_r_p1_and_tells_review() {
        let cmd = procurement(Channel::SmallPublicResourceTrading, 9_000_000, None);
        let c = on(RECORDED, |ctx| case::record_procurement(&procuring(), cmd, ctx, &calendar())).unwrap();
        assert_eq!(c.state.state, CaseState::Procured);
        assert_eq!(c.effects.rule_ids, vec!["R-P1", "R-P3", "R-P4", "R-P5"]);
        assert_eq!(c.event_types(), vec![types::COMPLETED]);
        assert_eq!(timers(&c), &[TimerOp::Cancel { kind: PROCUREMENT_DEADLINE, key: Uuid::nil().to_string() }]);
        let rec = c.state.procurement.unwrap();
        assert!(rec.in_time);
        assert!(!rec.documents_filing.unwrap().1.late, "filed the day after completion");
    }

    #[test]
    fn procurement_is_recorded_once_under_r_p4() {
        let cmd = procurement(Channel::SmallPublicResourceTrading, 9_000_000, None);
        let e = on(RECORDED, |ctx| case::record_procurement(&procured(), cmd, ctx, &calendar())).unwrap_err();
        let text = refused_under(e, "R-P4");
        assert!(text.contains("recorded once") && text.contains("2026-04-01"), "{text}");
    }

    /// R-P3 (fixed): the procurement amount and the supervision fee together may not exceed the
    /// approved budget (10,000,000 fen); before, only the fee alone was compared with it, and
    /// 9,000,000 + 1,000,001 was accepted.
    #[test]
    fn r_p3_amount_and_supervision_fee_together_within_the_budget() {
        let record = |fee: i64| {
            let cmd = procurement(Channel::GovernmentProcurement, 9_000_000, Some(fee));
            on(RECORDED, |ctx| case::record_procurement(&procuring(), cmd, ctx, &calendar()))
        };
        assert!(record(999_999).is_ok(), "budget − 1 fen");
        assert!(record(1_000_000).is_ok(), "exactly the budget");
        let text = refused_under(record(1_000_001).unwrap_err(), "R-P3");
        assert!(text.contains("by 1 fen"), "budget + 1 fen: {text}");
        // The amount alone above the budget is refused first, as before.
        let cmd = procurement(Channel::SmallPublicResourceTrading, 10_000_001, None);
        let e = on(RECORDED, |ctx| case::record_procurement(&procuring(), cmd, ctx, &calendar())).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-P3"]);
    }

    // ------------------------------------------------------------ the contract, R-P2

    #[test]
    fn filing_the_contract_starts_construction_and_its_checks() {
        let c = on(FILED, |ctx| case::file_contract(&procured(), filing(terms()), ctx, &calendar())).unwrap();
        assert_eq!(c.state.state, CaseState::Construction);
        assert_eq!(c.effects.rule_ids, vec!["R-P2", "R-P5", "R-P9"]);
        assert_eq!(c.event_types(), vec![types::CONTRACT_FILED]);
        let first = YearMonth::new(2026, 5).unwrap();
        assert_eq!(c.state.first_report_month, Some(first));
        let id = Uuid::nil();
        assert_eq!(
            timers(&c),
            &[
                TimerOp::Set {
                    kind: PROGRESS_REPORT,
                    key: format!("{id}/2026-05"),
                    due_at: shanghai(date!(2026 - 05 - 21), time!(0:00)),
                    payload: serde_json::json!({ "year": 2026, "month": 5 }),
                },
                TimerOp::Set {
                    kind: OVERRUN,
                    key: id.to_string(),
                    due_at: shanghai(date!(2026 - 10 - 01), time!(0:00)),
                    payload: serde_json::json!({}),
                },
            ]
        );
    }

    #[test]
    fn a_contract_is_filed_after_procurement_and_once_under_r_p2() {
        let e = on(FILED, |ctx| case::file_contract(&procuring(), filing(terms()), ctx, &calendar())).unwrap_err();
        assert!(refused_under(e, "R-P2").contains("record the procurement first"));
        let e = on(FILED, |ctx| case::file_contract(&building(), filing(terms()), ctx, &calendar())).unwrap_err();
        assert!(refused_under(e, "R-P2").contains("filed on 2026-04-10"));
    }

    #[test]
    fn r_p2_periods_count_their_first_day_on_the_civil_code() {
        // 12 planned months from 2026-05-01 run through 2027-04-30: that day is accepted, the next refused.
        let mut t = terms();
        t.construction_end = date!(2027 - 04 - 30);
        assert!(on(FILED, |ctx| case::file_contract(&procured(), filing(t.clone()), ctx, &calendar())).is_ok());
        t.construction_end = date!(2027 - 05 - 01);
        let e = on(FILED, |ctx| case::file_contract(&procured(), filing(t), ctx, &calendar())).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-P2"]);
        // Two years of maintenance from a 02-29 run through 2030-02-27 on the platform's count (the
        // boundary moved one day earlier: the anniversary of a leap day used to be taken as 03-01,
        // which made the period run through 2030-02-28).
        let mut t = terms();
        t.maintenance_start = Some(date!(2028 - 02 - 29));
        t.maintenance_end = Some(date!(2030 - 02 - 27));
        assert!(on(FILED, |ctx| case::file_contract(&procured(), filing(t.clone()), ctx, &calendar())).is_ok());
        t.maintenance_end = Some(date!(2030 - 02 - 26));
        let e = on(FILED, |ctx| case::file_contract(&procured(), filing(t), ctx, &calendar())).unwrap_err();
        assert!(e.to_string().contains("2030-02-27"), "{e}");
    }

    // ------------------------------------------------------------ payments, R-P6

    #[test]
    fn r_p6_payments_need_the_contract_a_met_condition_and_fix_the_plan() {
        let e = on(RECORDED, |ctx| case::set_payment_plan(&procured(), stages(), ctx)).unwrap_err();
        assert!(refused_under(e, "R-P6").contains("the contract is filed first"));

        let k = committed(on(FILED, |ctx| case::set_payment_plan(&building(), stages(), ctx)).unwrap());
        let amounts: Vec<i64> = k.contract.as_ref().unwrap().stages.iter().map(|s| s.amount_fen.get()).collect();
        assert_eq!(amounts, vec![2_700_000, 6_300_000]);
        let e = on(FILED, |ctx| case::file_payment(&k, "sign", fen(2_700_000), "p1", ctx)).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-P6"], "the condition is not met");
        let k = committed(on(FILED, |ctx| case::mark_stage_condition_met(&k, "sign", "合同", "DRB", ctx)).unwrap());
        let e = on(FILED, |ctx| case::mark_stage_condition_met(&k, "sign", "合同", "DRB", ctx)).unwrap_err();
        assert!(refused_under(e, "R-P6").contains("recorded once"));
        let c = on(FILED, |ctx| case::file_payment(&k, "sign", fen(2_700_000), "p1", ctx)).unwrap();
        assert_eq!(c.event_types(), vec![types::PAYMENT_FILED]);
        assert_eq!(c.state.state, CaseState::Construction, "a payment does not move the case");
        let k = committed(c);
        let e = on(FILED, |ctx| case::set_payment_plan(&k, stages(), ctx)).unwrap_err();
        assert!(refused_under(e, "R-P6").contains("fixed once a payment is filed"));
        let e = on(FILED, |ctx| case::file_payment(&k, "nope", fen(1), "p2", ctx)).unwrap_err();
        assert_eq!(e.fields(), vec!["stage_id"]);
    }

    #[test]
    fn r_p6_acceptance_milestones_meet_the_stages_conditioned_on_them() {
        assert_eq!(case::milestone_of("初验通过后支付"), Some(case::Milestone::InitialAcceptance));
        assert_eq!(case::milestone_of("终验通过"), Some(case::Milestone::FinalAcceptance));
        assert_eq!(case::milestone_of("项目验收通过"), Some(case::Milestone::FinalAcceptance));
        assert_eq!(case::milestone_of("合同签订"), None);
        let plan = vec![
            PaymentStage { stage_id: "sign".into(), condition: "合同签订".into(), ratio_bp: 3000 },
            PaymentStage { stage_id: "initial".into(), condition: "初验通过".into(), ratio_bp: 4000 },
            PaymentStage { stage_id: "final".into(), condition: "终验通过".into(), ratio_bp: 3000 },
        ];
        let k = committed(on(FILED, |ctx| case::set_payment_plan(&building(), plan, ctx)).unwrap());
        let held = date!(2026 - 10 - 10);
        let c = on(held, |ctx| case::acceptance_milestone(&k, case::Milestone::InitialAcceptance, held, "event e-1", ctx)).unwrap();
        assert_eq!(c.effects.rule_ids, vec!["R-P6", "R-A1"]);
        assert_eq!(c.event_types(), vec![types::PAYMENT_CONDITION_MET]);
        let k = committed(c);
        let met: Vec<&str> =
            k.contract.as_ref().unwrap().stages.iter().filter(|s| s.condition_met.is_some()).map(|s| s.stage_id.as_str()).collect();
        assert_eq!(met, vec!["initial"], "only the stage conditioned on initial acceptance");
        // Delivered again: nothing waits for it any more.
        assert!(on(held, |ctx| case::acceptance_milestone(&k, case::Milestone::InitialAcceptance, held, "event e-1", ctx)).is_none());
        on(held, |ctx| case::file_payment(&k, "initial", fen(3_600_000), "p-initial", ctx)).unwrap();
        let accepted = date!(2026 - 12 - 01);
        let k = committed(
            on(accepted, |ctx| case::acceptance_milestone(&k, case::Milestone::FinalAcceptance, accepted, "event e-2", ctx)).unwrap(),
        );
        let fin = k.contract.as_ref().unwrap().stages.iter().find(|s| s.stage_id == "final").unwrap();
        assert_eq!(fin.condition_met.as_ref().map(|m| m.on), Some(accepted));
        assert!(
            on(accepted, |ctx| case::acceptance_milestone(&procured(), case::Milestone::FinalAcceptance, accepted, "e", ctx)).is_none(),
            "no contract"
        );
    }

    // ------------------------------------------------------------ progress, R-P7

    #[test]
    fn r_p7_reports_during_construction_once_a_month() {
        let month = YearMonth::new(2026, 5).unwrap();
        let report = || Report { month, percent_complete: 20, summary: "调研".into(), issues: String::new() };
        let e = on(date!(2026 - 05 - 20), |ctx| case::report_progress(&procured(), report(), "UNIT", ctx)).unwrap_err();
        assert!(refused_under(e, "R-P7").contains("no contract is filed yet"));

        // The 20th: on time, no event; the 21st: accepted, late, an informational event.
        let c = on(date!(2026 - 05 - 20), |ctx| case::report_progress(&building(), report(), "UNIT", ctx)).unwrap();
        assert!(c.event_types().is_empty());
        assert!(!c.state.progress_reports[0].late);
        let late = on(date!(2026 - 05 - 21), |ctx| case::report_progress(&building(), report(), "UNIT", ctx)).unwrap();
        assert_eq!(late.event_types(), vec![types::REPORT_LATE]);
        assert!(late.state.progress_reports[0].late);

        let k = committed(c);
        assert!(case::report_exists(&k, month).is_some(), "the use case answers ALREADY_EXISTS");
        let e = on(date!(2026 - 05 - 21), |ctx| case::report_progress(&completed(), report(), "UNIT", ctx)).unwrap_err();
        assert!(refused_under(e, "R-P7").contains("declared complete on 2026-09-30"));
    }

    #[test]
    fn r_p7_the_monthly_check_flags_a_missing_report_then_checks_the_next_month() {
        let may = YearMonth::new(2026, 5).unwrap();
        let next = |c: &ReportCheck| match c {
            ReportCheck::Next(op) => op.clone(),
            ReportCheck::Flag(c) => c.effects.timers[0].clone(),
            ReportCheck::Stop => panic!("stopped"),
        };
        let flagged = on(date!(2026 - 05 - 21), |ctx| case::check_report(&building(), may, ctx));
        let ReportCheck::Flag(c) = &flagged else { panic!("{flagged:?}") };
        assert_eq!(c.state.missing_reports, vec![may]);
        assert_eq!(c.event_types(), vec![types::REPORT_MISSING]);
        let TimerOp::Set { key, due_at, .. } = next(&flagged) else { panic!() };
        assert_eq!((key, due_at), (format!("{}/2026-06", Uuid::nil()), shanghai(date!(2026 - 06 - 21), time!(0:00))));

        // Flagged already, or reported: nothing to record, only the next check.
        let k = committed((**c).clone());
        assert!(matches!(on(date!(2026 - 05 - 21), |ctx| case::check_report(&k, may, ctx)), ReportCheck::Next(_)));
        assert_eq!(on(date!(2026 - 05 - 21), |ctx| case::check_report(&completed(), may, ctx)), ReportCheck::Stop);
    }

    // ------------------------------------------------------------ overruns and completion, R-P8

    #[test]
    fn r_p8_an_overrun_is_recorded_the_day_after_the_contract_end_once() {
        assert!(on(date!(2026 - 09 - 30), |ctx| case::record_overrun(&building(), ctx)).is_none(), "the last day");
        let c = on(date!(2026 - 10 - 01), |ctx| case::record_overrun(&building(), ctx)).unwrap();
        assert_eq!(c.event_types(), vec![types::OVERRUN_RECORDED]);
        assert_eq!(c.effects.rule_ids, vec!["R-P8"]);
        let k = committed(c);
        assert!(on(date!(2026 - 10 - 02), |ctx| case::record_overrun(&k, ctx)).is_none(), "once");

        let e = on(date!(2026 - 09 - 30), |ctx| case::explain_overrun(&building(), "设备延迟", ctx)).unwrap_err();
        assert!(refused_under(e, "R-P8").contains("no overrun to explain"));
        let c = on(date!(2026 - 10 - 02), |ctx| case::explain_overrun(&k, "设备延迟", ctx)).unwrap();
        assert_eq!(c.event_types(), vec![types::OVERRUN_EXPLAINED]);
        assert!(case::explanation_exists(&committed(c)).is_some(), "the use case answers ALREADY_EXISTS");
    }

    #[test]
    fn completion_stops_the_checks_and_opens_acceptance() {
        let d = |on_day: Date, why: &str| CompletionDeclaration {
            completed_on: on_day,
            summary: "完成".into(),
            overrun_explanation: why.into(),
        };
        let c =
            on(date!(2026 - 09 - 30), |ctx| case::declare_construction_complete(&building(), d(date!(2026 - 09 - 30), ""), ctx)).unwrap();
        assert_eq!(c.state.state, CaseState::ConstructionCompleted);
        assert_eq!(c.event_types(), vec![types::CONSTRUCTION_COMPLETED]);
        let id = Uuid::nil().to_string();
        assert_eq!(
            timers(&c),
            &[TimerOp::CancelUnder { kind: PROGRESS_REPORT, prefix: id.clone() }, TimerOp::Cancel { kind: OVERRUN, key: id }]
        );
        // A day past the contract end: the explanation is required (R-P8), then the overrun is recorded with it.
        let e = on(date!(2026 - 10 - 01), |ctx| case::declare_construction_complete(&building(), d(date!(2026 - 10 - 01), ""), ctx))
            .unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-P8"]);
        let c = on(date!(2026 - 10 - 01), |ctx| case::declare_construction_complete(&building(), d(date!(2026 - 10 - 01), "延迟"), ctx))
            .unwrap();
        assert_eq!(c.event_types(), vec![types::OVERRUN_RECORDED, types::CONSTRUCTION_COMPLETED]);
        assert_eq!(c.state.completion.unwrap().overrun_days, 1);
        let e = on(date!(2026 - 10 - 01), |ctx| case::declare_construction_complete(&completed(), d(date!(2026 - 09 - 30), ""), ctx))
            .unwrap_err();
        assert!(refused_under(e, "R-P8").contains("declared complete"));
        let e = on(FILED, |ctx| case::declare_construction_complete(&procured(), d(FILED, ""), ctx)).unwrap_err();
        assert!(refused_under(e, "R-P8").contains("no contract is filed yet"));
    }

    // ------------------------------------------------------------ revocation and termination, R-P10

    #[test]
    fn r_p10_revocation_before_the_contract_termination_after_and_only_once() {
        let c = on(RECORDED, |ctx| case::terminate(&procuring(), termination(), "UNIT U-CIVIL", ctx)).unwrap();
        assert_eq!(c.state.termination.as_ref().unwrap().kind, "REVOKED");
        assert_eq!(c.event_types(), vec![types::TERMINATED]);
        let id = Uuid::nil().to_string();
        assert_eq!(
            timers(&c),
            &[
                TimerOp::Cancel { kind: PROCUREMENT_DEADLINE, key: id.clone() },
                TimerOp::CancelUnder { kind: PROGRESS_REPORT, prefix: id.clone() },
                TimerOp::Cancel { kind: OVERRUN, key: id },
            ]
        );
        let ended = committed(c);
        let e = on(RECORDED, |ctx| case::terminate(&ended, termination(), "UNIT U-CIVIL", ctx)).unwrap_err();
        assert!(refused_under(e, "R-P10").contains("revoked on 2026-04-02"));
        let e = on(RECORDED, |ctx| case::set_payment_plan(&ended, stages(), ctx)).unwrap_err();
        refused_under(e, "R-P10");

        let c = on(FILED, |ctx| case::terminate(&building(), termination(), "UNIT U-CIVIL", ctx)).unwrap();
        assert_eq!(c.state.termination.unwrap().kind, "TERMINATED");
        let e = on(date!(2026 - 10 - 01), |ctx| case::terminate(&completed(), termination(), "UNIT U-CIVIL", ctx)).unwrap_err();
        assert!(refused_under(e, "R-P10").contains("acceptance follows"));
        // Missing items come first, all listed.
        let e = on(RECORDED, |ctx| {
            case::terminate(&procuring(), TerminationFiling { leader_approval: String::new(), ..termination() }, "U", ctx)
        })
        .unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-P10"]);
    }

    // ------------------------------------------------------------ review's cancellations and budget changes

    #[test]
    fn a_cancelled_approval_closes_the_case_once_and_names_its_rule_afterwards() {
        let rules = vec!["R-R6".to_string()];
        let c = on(RECORDED, |ctx| case::cancel_approval(&building(), "资金未落实", &rules, ctx)).unwrap();
        assert_eq!(c.state.state, CaseState::Cancelled);
        assert_eq!(c.effects.rule_ids, vec!["R-R6"]);
        assert_eq!(timers(&c).len(), 3, "the deadline, report and overrun checks stop");
        let k = committed(c);
        assert!(on(RECORDED, |ctx| case::cancel_approval(&k, "again", &rules, ctx)).is_none());
        let month = YearMonth::new(2026, 5).unwrap();
        let r = Report { month, percent_complete: 1, summary: "x".into(), issues: String::new() };
        let e = on(date!(2026 - 05 - 20), |ctx| case::report_progress(&k, r, "U", ctx)).unwrap_err();
        assert!(refused_under(e, "R-R6").contains("资金未落实"));
    }

    #[test]
    fn the_budget_follows_review_s_changes() {
        assert!(on(RECORDED, |ctx| case::adjust_budget(&procuring(), fen(10_000_000), "c1", "CHANGE_REQUEST", ctx)).is_none());
        let c = on(RECORDED, |ctx| case::adjust_budget(&procuring(), fen(8_000_000), "c1", "CHANGE_REQUEST", ctx)).unwrap();
        assert_eq!(c.state.budget_fen, fen(8_000_000));
        assert_eq!(c.effects.rule_ids, vec!["R-R7"]);
        assert!(c.event_types().is_empty());
    }

    // ------------------------------------------------------------ inspection draws, R-P7

    #[test]
    fn a_draw_records_itself_and_a_timeline_entry_per_drawn_project() {
        let pool: Vec<String> = (0..5).map(|i| format!("P-{i}")).collect();
        let r = DrawRequest { count: 2, seed: 42, note: "抽查".into() };
        let d = on(FILED, |ctx| inspections::draw(Uuid::nil(), pool.clone(), r.clone(), "DRB", ctx));
        assert_eq!(d.draw.drawn.len(), 2);
        assert_eq!(d.effects.rule_ids, vec!["R-P7"]);
        assert!(d.effects.events.is_empty());
        assert_eq!(d.notices.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(), d.draw.drawn);
        assert!(d.notices.iter().all(|(_, e)| e.event_types() == vec![types::INSPECTION_DRAWN]));
        assert_eq!(on(FILED, |ctx| inspections::draw(Uuid::nil(), pool, r, "DRB", ctx)).draw.drawn, d.draw.drawn, "reproducible");
    }
}
