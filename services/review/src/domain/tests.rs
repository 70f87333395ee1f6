//! The review case's state machine tested on the changes it returns, without a database: the new
//! case and its tasks, the audit's rules, the events and the timers, for each transition its
//! allowed path, its refusal (with the rule id whose order it breaks) and its boundary.

mod transitions {
    use std::sync::Arc;

    use egov_platform::{
        auth::Role,
        clock::shanghai,
        error::Refusal,
        policy::{Policy, PolicyBook},
        transition::{Change, Context, TimerOp},
        values::Fen,
    };
    use time::{
        OffsetDateTime,
        macros::{date, datetime, time},
    };
    use uuid::Uuid;

    use crate::domain::{
        case::{self, Cancellation, ExpertVerdict, Participant},
        change::ChangeEvent,
        events::types,
        meeting::Meeting,
        model::*,
        panel::MaterialKind,
        rules::{ApprovalInput, stage_rule},
        validity::APPROVAL_VALIDITY,
        workflow::{PRELIMINARY_TASK, RECHECK_TASK, TASK_ESCALATION, TASK_REMINDER, TaskState},
    };

    const NOW: OffsetDateTime = datetime!(2026-03-02 02:00 UTC);

    fn policy() -> Arc<Policy> {
        PolicyBook::load("").unwrap().in_force(date!(2026 - 06 - 01))
    }

    fn ctx_at(now: OffsetDateTime, p: &Policy) -> Context<'_> {
        Context::new(now, p)
    }

    fn dossier(funding: &str, fast_track: bool) -> Dossier {
        Dossier {
            project_name: "社会救助一件事".into(),
            lead_unit_id: "U-CIVIL".into(),
            total_budget_fen: 10_000_000,
            funding_source: funding.into(),
            fast_track_grounds: if fast_track { vec!["NON_DISTRICT_FUNDING".into()] } else { vec![] },
            ..Default::default()
        }
    }

    fn opened(p: &Policy) -> ReviewCase {
        case::open(Uuid::now_v7(), dossier("DISTRICT_FISCAL", false), vec![], ctx_at(NOW, p)).state
    }

    fn rules(r: Refusal) -> Vec<String> {
        assert!(!r.to_string().contains("STATE"), "{r}");
        r.rule_ids().into_iter().map(String::from).collect()
    }

    fn sets(c: &Change<ReviewCase>, kind: &str) -> usize {
        c.effects.timers.iter().filter(|t| matches!(t, TimerOp::Set { kind: k, .. } if *k == kind)).count()
    }

    fn cancels(c: &Change<ReviewCase>, kind: &str) -> usize {
        c.effects.timers.iter().filter(|t| matches!(t, TimerOp::Cancel { kind: k, .. } if *k == kind)).count()
    }

    /// Every participant of the preliminary review opines on its task.
    fn all_opined(mut k: ReviewCase, p: &Policy) -> ReviewCase {
        let scores: Vec<(String, u32)> = p.preliminary_scoring_sheet.iter().map(|c| (c.code.clone(), 80)).collect();
        for t in k.tasks.clone() {
            let by = Participant { role: t.role, subject: "someone" };
            k = case::submit_opinion(&k, t.task_id, by, scores.clone(), true, "同意", ctx_at(NOW, p)).unwrap().state;
        }
        k
    }

    fn approved(funding: &str, p: &Policy) -> ReviewCase {
        let k = case::open(Uuid::now_v7(), dossier(funding, true), vec![], ctx_at(NOW, p)).state;
        case::issue_approval(&k, &approval_input(date!(2026 - 03 - 15)), ctx_at(datetime!(2026-03-15 02:00 UTC), p)).unwrap().state
    }

    fn approval_input(issued_on: time::Date) -> ApprovalInput {
        ApprovalInput {
            document_number: "上数〔2026〕31号".into(),
            issued_on,
            budget_fen: Fen::new(1_000_000).unwrap(),
            scope: "全部".into(),
            planned_construction_months: 12,
        }
    }

    #[test]
    fn opening_puts_the_case_on_its_track_with_its_tasks_and_timers() {
        let p = policy();
        let c = case::open(Uuid::now_v7(), dossier("DISTRICT_FISCAL", false), vec![], ctx_at(NOW, &p));
        assert_eq!(c.state.stage, Stage::PreliminaryReview);
        assert_eq!(c.effects.rule_ids, vec!["R-R1"]);
        assert_eq!(c.event_types(), vec![types::CASE_OPENED]);
        assert_eq!(c.state.tasks.len(), 4, "DRC, FINANCE, CAC, XINCHUANG");
        assert!(c.state.tasks.iter().all(|t| t.kind == PRELIMINARY_TASK && t.state == TaskState::Open));
        assert_eq!((sets(&c, TASK_REMINDER), sets(&c, TASK_ESCALATION)), (4, 4));
        // R-R5: straight to the approval, no tasks.
        let fast = case::open(Uuid::now_v7(), dossier("SUPERIOR_TRANSFER", true), vec![], ctx_at(NOW, &p));
        assert_eq!(fast.state.stage, Stage::Approval);
        assert_eq!(fast.effects.rule_ids, vec!["R-R5"]);
        assert!(fast.state.tasks.is_empty() && fast.effects.timers.is_empty());
    }

    #[test]
    fn r_r1_an_opinion_completes_its_task_once() {
        let p = policy();
        let k = opened(&p);
        let t = k.tasks[0].clone();
        let scores: Vec<(String, u32)> = p.preliminary_scoring_sheet.iter().map(|c| (c.code.clone(), 80)).collect();
        let by = Participant { role: t.role, subject: "p1" };
        let c = case::submit_opinion(&k, t.task_id, by, scores.clone(), true, "同意", ctx_at(NOW, &p)).unwrap();
        assert_eq!(c.state.tasks[0].state, TaskState::Done);
        assert_eq!(c.state.opinions.len(), 1);
        assert_eq!((cancels(&c, TASK_REMINDER), cancels(&c, TASK_ESCALATION)), (1, 1));
        // The same task again: refused under R-R1 (done already).
        let again = case::submit_opinion(&c.state, t.task_id, by, scores.clone(), true, "再次", ctx_at(NOW, &p)).unwrap_err();
        assert_eq!(rules(again), vec!["R-R1"]);
        // Not a task of this case: the field.
        let e = case::submit_opinion(&k, Uuid::now_v7(), by, scores, true, "同意", ctx_at(NOW, &p)).unwrap_err();
        assert_eq!(e.fields(), vec!["task_id"]);
    }

    #[test]
    fn r_r1_the_decision_waits_for_every_task_then_passes_or_ends() {
        let p = policy();
        let k = opened(&p);
        assert_eq!(rules(case::decide_preliminary(&k, true, "同意", "drb", ctx_at(NOW, &p)).unwrap_err()), vec!["R-R1"]);
        let k = all_opined(k, &p);
        let pass = case::decide_preliminary(&k, true, "同意", "drb", ctx_at(NOW, &p)).unwrap();
        assert_eq!(pass.state.stage, Stage::ExpertReview);
        assert_eq!(pass.event_types(), vec![types::PRELIMINARY_DECIDED]);
        let fail = case::decide_preliminary(&k, false, "不符合", "drb", ctx_at(NOW, &p)).unwrap();
        assert_eq!(fail.state.stage, Stage::Ended);
        assert_eq!(fail.event_types(), vec![types::PRELIMINARY_DECIDED, types::ENDED]);
        // Out of order: deciding again.
        assert_eq!(rules(case::decide_preliminary(&pass.state, true, "x", "drb", ctx_at(NOW, &p)).unwrap_err()), vec!["R-R1"]);
    }

    #[test]
    fn return_suspends_resubmit_reopens_and_out_of_order_names_the_stage_rule() {
        let p = policy();
        let k = opened(&p);
        let returned = case::return_for_revision(&k, "补充", ctx_at(NOW, &p)).unwrap();
        assert_eq!(returned.state.stage, Stage::Returned);
        assert!(returned.state.tasks.iter().all(|t| t.state == TaskState::Suspended));
        assert_eq!(returned.event_types(), vec![types::CASE_RETURNED]);
        // Returned twice: refused under the rule of the stage it left (R-R1).
        assert_eq!(rules(case::return_for_revision(&returned.state, "x", ctx_at(NOW, &p)).unwrap_err()), vec!["R-R1"]);
        let back = case::resubmit(&returned.state, "已补充", ctx_at(NOW, &p)).unwrap();
        assert_eq!(back.state.stage, Stage::PreliminaryReview);
        let states: Vec<TaskState> = back.state.tasks.iter().map(|t| t.state).collect();
        assert_eq!(states.iter().filter(|s| **s == TaskState::Cancelled).count(), 4);
        assert_eq!(states.iter().filter(|s| **s == TaskState::Open).count(), 4);
        assert_eq!((cancels(&back, TASK_REMINDER), sets(&back, TASK_REMINDER)), (4, 4));
        // Resubmitting a case that was not returned: refused under R-R1, in words.
        let e = case::resubmit(&back.state, "x", ctx_at(NOW, &p)).unwrap_err();
        assert!(e.to_string().contains("returned it for revision"), "{e}");
        assert_eq!(rules(e), vec!["R-R1"]);
        // Withdrawal cancels every live or suspended task; after approval it is refused (R-R4).
        let gone = case::withdraw(&back.state, "调整计划", ctx_at(NOW, &p)).unwrap();
        assert_eq!(gone.state.stage, Stage::Ended);
        assert!(gone.state.tasks.iter().all(|t| t.state == TaskState::Cancelled));
        assert_eq!(gone.event_types(), vec![types::ENDED]);
        let a = approved("DISTRICT_FISCAL", &p);
        assert_eq!(rules(case::withdraw(&a, "x", ctx_at(NOW, &p)).unwrap_err()), vec!["R-R4"]);
        assert_eq!(rules(case::return_for_revision(&a, "x", ctx_at(NOW, &p)).unwrap_err()), vec!["R-R4"]);
    }

    #[test]
    fn r_r4_r_r6_approval_sets_the_validity_timer_for_the_day_after_the_anniversary() {
        let p = policy();
        let a = case::open(Uuid::now_v7(), dossier("SUPERIOR_TRANSFER", true), vec![], ctx_at(NOW, &p)).state;
        let c = case::issue_approval(&a, &approval_input(date!(2026 - 03 - 15)), ctx_at(datetime!(2026-03-15 02:00 UTC), &p)).unwrap();
        assert_eq!(c.state.stage, Stage::Approved);
        assert_eq!(c.effects.rule_ids, vec!["R-R4", "R-R5", "R-R6"]);
        assert_eq!(c.state.approval.as_ref().unwrap().valid_until, Some(date!(2028 - 03 - 15)), "through the anniversary");
        let due = c.effects.timers.iter().find_map(|t| match t {
            TimerOp::Set { kind: APPROVAL_VALIDITY, due_at, .. } => Some(*due_at),
            _ => None,
        });
        assert_eq!(due, Some(shanghai(date!(2028 - 03 - 16), time!(0:00))));
        // District money: no limit, no timer. Before the approval stage: refused under R-R4.
        let d = approved("DISTRICT_FISCAL", &p);
        assert_eq!(d.approval.as_ref().unwrap().valid_until, None);
        let k = opened(&p);
        assert_eq!(rules(case::issue_approval(&k, &approval_input(date!(2026 - 03 - 02)), ctx_at(NOW, &p)).unwrap_err()), vec!["R-R4"]);
    }

    #[test]
    fn r_r6_funds_secured_on_the_anniversary_in_time_the_day_after_not() {
        let p = policy();
        let a = approved("SOCIAL_CAPITAL", &p);
        let ids = vec!["DOC-1".to_string()];
        let on = case::record_funds_secured(&a, &ids, "", ctx_at(shanghai(date!(2028 - 03 - 15), time!(23:00)), &p)).unwrap();
        assert!(on.state.approval.as_ref().unwrap().funds_secured);
        assert_eq!(cancels(&on, APPROVAL_VALIDITY), 1);
        let late = case::record_funds_secured(&a, &ids, "", ctx_at(shanghai(date!(2028 - 03 - 16), time!(0:30)), &p)).unwrap_err();
        assert_eq!(rules(late), vec!["R-R6"]);
    }

    #[test]
    fn one_cancellation_for_r_r6_and_r_p1() {
        let p = policy();
        let a = approved("SOCIAL_CAPITAL", &p);
        for why in [Cancellation::ValidityLapsed, Cancellation::ProcurementDeadlineMissed] {
            let c = case::cancel_approval(&a, why, ctx_at(NOW, &p)).unwrap();
            assert_eq!(c.state.stage, Stage::Cancelled);
            let approval = c.state.approval.as_ref().unwrap();
            assert!(approval.cancelled);
            assert_eq!(approval.cancelled_under, why.rule());
            assert_eq!(c.effects.rule_ids, vec![why.rule()]);
            assert_eq!(c.event_types(), vec![types::APPROVAL_CANCELLED]);
            assert_eq!(cancels(&c, APPROVAL_VALIDITY), 1);
            // Nothing more to cancel; a later step names the rule it was cancelled under.
            assert!(case::cancel_approval(&c.state, why, ctx_at(NOW, &p)).is_none());
            assert_eq!(stage_rule(&c.state), why.rule());
        }
        // Funds secured: the validity no longer cancels it, the procurement deadline still does.
        let mut secured = a.clone();
        secured.approval.as_mut().unwrap().funds_secured = true;
        assert!(case::cancel_approval(&secured, Cancellation::ValidityLapsed, ctx_at(NOW, &p)).is_none());
        assert!(case::cancel_approval(&secured, Cancellation::ProcurementDeadlineMissed, ctx_at(NOW, &p)).is_some());
        // No approval: nothing to cancel.
        assert!(case::cancel_approval(&opened(&p), Cancellation::ProcurementDeadlineMissed, ctx_at(NOW, &p)).is_none());
    }

    #[test]
    fn r_r7_the_fifteen_percent_boundary_in_whole_fen() {
        let p = policy();
        let a = approved("DISTRICT_FISCAL", &p); // 1 000 000 fen
        let ask = |fen: i64| case::request_change(&a, Uuid::now_v7(), Fen::new(fen).unwrap(), "需求调整", "unit", ctx_at(NOW, &p));
        for (fen, event) in [(850_100, types::CHANGE_FILED), (850_000, types::CHANGE_FILED), (849_900, types::CHANGE_REQUESTED)] {
            let c = ask(fen).unwrap();
            assert_eq!(c.event_types(), vec![event], "{fen}: 14.99 % and 15.00 % are filed, 15.01 % is a change request");
            let budget = c.state.approval.as_ref().unwrap().budget_fen.get();
            assert_eq!(budget, if event == types::CHANGE_FILED { fen } else { 1_000_000 });
        }
        assert_eq!(rules(ask(1_000_001).unwrap_err()), vec!["R-R7"]);
        // The change procedure: the expert review comes after the departmental one.
        let requested = ask(700_000).unwrap().state;
        let id = requested.changes[0].change_id;
        let e = case::decide_change(&requested, id, ChangeEvent::ExpertReview { passed: true }, "同意", ctx_at(NOW, &p)).unwrap_err();
        assert!(e.to_string().contains("departmental review"), "{e}");
        assert_eq!(rules(e), vec!["R-R7"]);
        let c = case::decide_change(&requested, id, ChangeEvent::DepartmentalReview { passed: true }, "同意", ctx_at(NOW, &p)).unwrap();
        let c = case::decide_change(&c.state, id, ChangeEvent::ExpertReview { passed: true }, "同意", ctx_at(NOW, &p)).unwrap();
        assert_eq!(c.event_types(), vec![types::BUDGET_ADJUSTED]);
        assert_eq!(c.state.approval.as_ref().unwrap().budget_fen.get(), 700_000);
    }

    #[test]
    fn r_r7_and_r_p10_from_procurement() {
        let p = policy();
        let a = approved("SOCIAL_CAPITAL", &p);
        let done = case::procurement_completed(&a, ctx_at(NOW, &p)).unwrap();
        assert_eq!(done.effects.rule_ids, vec!["R-R7"]);
        assert!(case::procurement_completed(&done.state, ctx_at(NOW, &p)).is_none(), "a redelivery");
        let ended = case::terminate(&a, "REVOKED", "政策调整", ctx_at(NOW, &p)).unwrap();
        assert_eq!(ended.state.stage, Stage::Terminated);
        assert_eq!(cancels(&ended, APPROVAL_VALIDITY), 1);
        assert!(case::terminate(&ended.state, "REVOKED", "again", ctx_at(NOW, &p)).is_none());
        assert!(case::cancel_approval(&ended.state, Cancellation::ValidityLapsed, ctx_at(NOW, &p)).is_none());
        let e = case::request_change(&ended.state, Uuid::now_v7(), Fen::new(900_000).unwrap(), "调整", "unit", ctx_at(NOW, &p));
        assert_eq!(rules(e.unwrap_err()), vec!["R-R7"]);
        assert_eq!(rules(case::withdraw(&ended.state, "x", ctx_at(NOW, &p)).unwrap_err()), vec!["R-P10"]);
    }

    fn material(kind: MaterialKind, at: OffsetDateTime) -> CaseDocument {
        CaseDocument {
            document_id: Uuid::now_v7(),
            kind: kind.as_str().into(),
            file_name: "f.pdf".into(),
            size_bytes: 3,
            sha256: "s".into(),
            sm3: "m".into(),
            uploaded_by: "u".into(),
            uploaded_at: at,
        }
    }

    #[test]
    fn r_r2_materials_then_the_revised_ones_open_the_recheck() {
        let p = policy();
        let k = opened(&p);
        let e = case::add_material(&k, material(MaterialKind::Presentation, NOW), ctx_at(NOW, &p)).unwrap_err();
        assert_eq!(rules(e), vec!["R-R2"]);
        let mut k = case::decide_preliminary(&all_opined(k, &p), true, "同意", "drb", ctx_at(NOW, &p)).unwrap().state;
        let c = case::add_material(&k, material(MaterialKind::Presentation, NOW), ctx_at(NOW, &p)).unwrap();
        assert_eq!(c.effects.rule_ids, vec!["R-R2", "R-X1"]);
        assert!(c.event_types().is_empty());
        // Concluding without a meeting: R-R2.
        let verdict = ExpertVerdict { passed: true, recommended_budget: Fen::new(9_000_000).unwrap(), opinion: "通过".into() };
        assert_eq!(rules(case::conclude_expert_review(&k, None::<&Meeting>, &verdict, "drb", ctx_at(NOW, &p)).unwrap_err()), vec!["R-R2"]);
        // After a pass, the revised report and revision list move the case to the re-check.
        let concluded = NOW + time::Duration::days(30);
        k.expert.conclusion = Some(ExpertConclusion {
            passed: true,
            recommended_budget_fen: 9_000_000,
            opinion: "通过".into(),
            mean_scores: vec![],
            experts: vec![],
            concluded_by: "drb".into(),
            concluded_at: concluded,
        });
        let later = concluded + time::Duration::days(1);
        let k = case::add_material(&k, material(MaterialKind::RevisedFeasibilityReport, later), ctx_at(later, &p)).unwrap().state;
        assert_eq!(k.stage, Stage::ExpertReview);
        let c = case::add_material(&k, material(MaterialKind::RevisionList, later), ctx_at(later, &p)).unwrap();
        assert_eq!(c.state.stage, Stage::ReCheck);
        assert_eq!(c.event_types(), vec![types::RECHECK_STARTED]);
        let recheck: Vec<Role> = c.state.tasks.iter().filter(|t| t.kind == RECHECK_TASK).map(|t| t.role).collect();
        assert_eq!(recheck, vec![Role::Drb, Role::Drc, Role::Finance]);
        assert_eq!(sets(&c, TASK_ESCALATION), 3);
    }
}
