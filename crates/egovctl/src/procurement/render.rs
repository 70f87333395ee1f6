//! How the procurement service's answers are printed, in the shapes of `crate::render` and the
//! review commands: key/value blocks and tables for people, the protobuf JSON mapping's shape
//! for `--json` (proto field names, enums by full name, u64 as strings, timestamps RFC 3339 UTC,
//! dates `YYYY-MM-DD`, months `YYYY-MM`). The OCDS export is JSON already: people get it as the
//! service wrote it, `--json` gets it parsed.

use egov_proto::procurement::{
    CaseState, Completion, ContractRecord, InspectionDraw, OcdsReleasePackage, Overrun, PaymentStage, ProcurementCase, ProcurementRecord,
    ProgressReport, SecurityFlags, SignedStatement, Termination, TerminationGround, YearMonth,
};
use serde_json::{Value, json};

use crate::{
    enums,
    render::{
        Fields, Listed, Output, Table, block, date_json, date_text, list_or_dash, money, or_dash, percent_bp, section, ts_json, ts_text,
        yes, yuan,
    },
};

fn month_text(m: &Option<YearMonth>) -> String {
    m.as_ref().map_or_else(|| "-".into(), |m| format!("{:04}-{:02}", m.year, m.month))
}

fn month_json(m: &Option<YearMonth>) -> Value {
    m.as_ref().map_or(Value::Null, |_| Value::String(month_text(m)))
}

fn months_text(ms: &[YearMonth]) -> String {
    list_or_dash(&ms.iter().map(|m| month_text(&Some(*m))).collect::<Vec<_>>())
}

fn bp(ratio_bp: u32) -> String {
    percent_bp(i32::try_from(ratio_bp).unwrap_or(i32::MAX))
}

/// What a contract says about a signed document.
fn signed_text(v: i32) -> String {
    match SignedStatement::try_from(v) {
        Ok(SignedStatement::Signed) => "signed".into(),
        Ok(SignedStatement::NotSigned) => "not signed".into(),
        Ok(SignedStatement::NotStated | SignedStatement::Unspecified) => "NOT STATED".into(),
        Err(_) => format!("UNKNOWN({v})"),
    }
}

// ------------------------------------------------------------------ JSON of the parts

fn record_json(p: &ProcurementRecord) -> Value {
    json!({
        "channel": p.channel,
        "method": p.method,
        "supplier_name": p.supplier_name,
        "supplier_credit_code": p.supplier_credit_code,
        "amount_fen": p.amount_fen,
        "implementing_body": p.implementing_body,
        "responsible_person": p.responsible_person,
        "supervision": p.supervision.as_ref().map(|s| json!({
            "supplier_credit_code": s.supplier_credit_code,
            "fee_fen": s.fee_fen,
            "separately_procured": s.separately_procured,
        })),
        "completed_on": date_json(&p.completed_on),
        "documents_filing": p.documents_filing.as_ref().map(|d| json!({
            "produced_on": date_json(&d.produced_on),
            "filed_on": date_json(&d.filed_on),
            "deadline": date_json(&d.deadline),
            "late": d.late,
            "working_days_taken": d.working_days_taken,
            "provisional_years": d.provisional_years,
        })),
    })
}

fn security_json(s: &SecurityFlags) -> Value {
    json!({
        "classified_protection_level": s.classified_protection_level,
        "important_system": s.important_system,
        "yearly_assessment_required": s.yearly_assessment_required,
        "cryptography_assessment_required": s.cryptography_assessment_required,
    })
}

fn stage_json(s: &PaymentStage) -> Value {
    json!({
        "stage_id": s.stage_id,
        "condition": s.condition,
        "ratio_bp": s.ratio_bp,
        "amount_fen": s.amount_fen,
        "condition_met": s.condition_met,
        "condition_evidence": s.condition_evidence,
        "condition_met_on": date_json(&s.condition_met_on),
        "condition_met_by": s.condition_met_by,
        "paid_fen": s.paid_fen,
    })
}

fn contract_json(k: &ContractRecord) -> Value {
    let terms = k.terms.as_ref().map(|t| {
        json!({
            "project_name": t.project_name,
            "construction_start": date_json(&t.construction_start),
            "construction_end": date_json(&t.construction_end),
            "amount_fen": t.amount_fen,
            "ip_owned_by_unit_or_joint": t.ip_owned_by_unit_or_joint,
            "data_owned_by_unit": t.data_owned_by_unit,
            "security_agreement": enums::full::<SignedStatement>(t.security_agreement),
            "security_responsibility_letter": enums::full::<SignedStatement>(t.security_responsibility_letter),
            "maintenance_scope": t.maintenance_scope,
            "maintenance_start": date_json(&t.maintenance_start),
            "maintenance_end": date_json(&t.maintenance_end),
            "maintenance_duty": t.maintenance_duty,
            "security_duties_and_penalties": t.security_duties_and_penalties,
            "overrun_penalty_clause": t.overrun_penalty_clause,
        })
    });
    json!({
        "terms": terms,
        "signed_on": date_json(&k.signed_on),
        "filed_on": date_json(&k.filed_on),
        "filing_deadline": date_json(&k.filing_deadline),
        "late": k.late,
        "working_days_taken": k.working_days_taken,
        "provisional_years": k.provisional_years,
        "payment_stages": k.payment_stages.iter().map(stage_json).collect::<Vec<_>>(),
        "payments": k.payments.iter().map(|p| json!({
            "stage_id": p.stage_id, "amount_fen": p.amount_fen, "filed_on": date_json(&p.filed_on),
        })).collect::<Vec<_>>(),
        "paid_fen": k.paid_fen,
        "security": k.security.as_ref().map(security_json),
    })
}

fn report_json(r: &ProgressReport) -> Value {
    json!({
        "month": month_json(&r.month),
        "reported_on": date_json(&r.reported_on),
        "due_on": date_json(&r.due_on),
        "late": r.late,
        "percent_complete": r.percent_complete,
        "summary": r.summary,
        "issues": r.issues,
        "reported_by": r.reported_by,
    })
}

fn overrun_json(o: &Overrun) -> Value {
    json!({
        "contract_end": date_json(&o.contract_end),
        "recorded_on": date_json(&o.recorded_on),
        "explanation": o.explanation,
        "explained_on": date_json(&o.explained_on),
        "days": o.days,
    })
}

fn completion_json(c: &Completion) -> Value {
    json!({
        "completed_on": date_json(&c.completed_on),
        "declared_on": date_json(&c.declared_on),
        "summary": c.summary,
        "overrun_days": c.overrun_days,
    })
}

fn termination_json(t: &Termination) -> Value {
    json!({
        "kind": t.kind,
        "ground": enums::full::<TerminationGround>(t.ground),
        "reason": t.reason,
        "progress": t.progress,
        "payments": t.payments,
        "paid_fen": t.paid_fen,
        "party_committee_resolution": t.party_committee_resolution,
        "leader_approval": t.leader_approval,
        "filed_on": date_json(&t.filed_on),
        "filed_by": t.filed_by,
    })
}

// ------------------------------------------------------------------ text of the parts

fn record_fields(p: &ProcurementRecord) -> Fields {
    let mut f = Fields::new();
    f.add("channel", &p.channel)
        .add("method", &p.method)
        .add("supplier", format!("{} ({})", p.supplier_name, p.supplier_credit_code))
        .add("amount", money(p.amount_fen))
        .add("implementing body", &p.implementing_body)
        .add("responsible person", &p.responsible_person)
        .add(
            "supervision",
            match &p.supervision {
                Some(s) => format!(
                    "{}, fee {}{}",
                    s.supplier_credit_code,
                    money(s.fee_fen),
                    if s.separately_procured { ", procured separately" } else { ", NOT procured separately" }
                ),
                None => "- (none)".into(),
            },
        )
        .add("completed on", date_text(&p.completed_on));
    if let Some(d) = &p.documents_filing {
        f.add("documents filed", filing_text(&d.filed_on, d.late, d.working_days_taken, &d.deadline));
    }
    f
}

/// An R-P5 filing: when, on time or late, the working days taken and the deadline.
fn filing_text(
    filed_on: &Option<egov_proto::common::CivilDate>,
    late: bool,
    days: u32,
    deadline: &Option<egov_proto::common::CivilDate>,
) -> String {
    let timing = if late { "LATE: accepted and recorded as late (R-P5)" } else { "on time" };
    format!("{} ({timing}, {days} working days; deadline {})", date_text(filed_on), date_text(deadline))
}

fn security_text(s: &Option<SecurityFlags>) -> String {
    let Some(s) = s else { return "-".into() };
    let mut parts = vec![format!("等保 level {}", s.classified_protection_level)];
    if s.yearly_assessment_required {
        parts.push("assessed every year".into());
    }
    if s.important_system {
        parts.push("important information system".into());
    }
    if s.cryptography_assessment_required {
        parts.push("密评 required".into());
    }
    parts.join(", ")
}

fn contract_fields(k: &ContractRecord) -> Fields {
    let t = k.terms.clone().unwrap_or_default();
    let mut f = Fields::new();
    f.add("name", &t.project_name)
        .add("construction", format!("{} .. {}", date_text(&t.construction_start), date_text(&t.construction_end)))
        .add("amount", money(t.amount_fen))
        .add("signed on", date_text(&k.signed_on))
        .add("filed on", filing_text(&k.filed_on, k.late, k.working_days_taken, &k.filing_deadline));
    if !k.provisional_years.is_empty() {
        let years: Vec<String> = k.provisional_years.iter().map(ToString::to_string).collect();
        f.add("provisional", format!("{} counted on weekends only (no official calendar loaded)", years.join(", ")));
    }
    f.add("IP", if t.ip_owned_by_unit_or_joint { "the unit's or joint" } else { "NOT STATED" })
        .add("data", if t.data_owned_by_unit { "the unit's" } else { "NOT STATED" })
        .add("security agreement", signed_text(t.security_agreement))
        .add("responsibility letter", signed_text(t.security_responsibility_letter))
        .add(
            "maintenance",
            format!("{} .. {}: {}", date_text(&t.maintenance_start), date_text(&t.maintenance_end), or_dash(&t.maintenance_scope)),
        )
        .add("maintenance duty", or_dash(&t.maintenance_duty))
        .add("security duties", if t.security_duties_and_penalties { "stated, with penalties" } else { "NOT STATED" })
        .add("overrun penalties", if t.overrun_penalty_clause { "stated" } else { "NOT STATED" })
        .add("security (R-P9)", security_text(&k.security))
        .add("paid", format!("{} of {}", money(k.paid_fen), money(t.amount_fen)));
    f
}

fn state_text(k: &ProcurementCase) -> String {
    enums::short::<CaseState>(k.state)
}

// ------------------------------------------------------------------ cases

impl Output for ProcurementCase {
    fn to_json(&self) -> Value {
        json!({
            "project_id": self.project_id,
            "project_name": self.project_name,
            "lead_unit_id": self.lead_unit_id,
            "budget_fen": self.budget_fen,
            "funding_source": self.funding_source,
            "planned_construction_months": self.planned_construction_months,
            "approved_on": date_json(&self.approved_on),
            "document_number": self.document_number,
            "procurement_deadline": date_json(&self.procurement_deadline),
            "state": enums::full::<CaseState>(self.state),
            "procurement": self.procurement.as_ref().map(record_json),
            "policy_version": self.policy_version,
            "etag": self.etag,
            "opened_at": ts_json(&self.opened_at),
            "contract": self.contract.as_ref().map(contract_json),
            "progress_reports": self.progress_reports.iter().map(report_json).collect::<Vec<_>>(),
            "missing_reports": self.missing_reports.iter().map(|m| month_json(&Some(*m))).collect::<Vec<_>>(),
            "first_report_month": month_json(&self.first_report_month),
            "overrun": self.overrun.as_ref().map(overrun_json),
            "completion": self.completion.as_ref().map(completion_json),
            "termination": self.termination.as_ref().map(termination_json),
        })
    }

    fn to_text(&self) -> String {
        let mut f = Fields::new();
        f.add("project", &self.project_id)
            .add("name", &self.project_name)
            .add("state", state_text(self))
            .add("lead unit", &self.lead_unit_id)
            .add("approval", format!("{} of {}", or_dash(&self.document_number), date_text(&self.approved_on)))
            .add("budget", money(self.budget_fen))
            .add("funding", or_dash(&self.funding_source))
            .add("construction", format!("{} months (approved plan)", self.planned_construction_months))
            .add(
                "procure by",
                if self.procurement_deadline.is_some() {
                    format!("{} (R-P1)", date_text(&self.procurement_deadline))
                } else {
                    "- (no R-P1 deadline: not district fiscal money)".into()
                },
            );
        if self.first_report_month.is_some() {
            f.add("reports from", format!("{} (R-P7, monthly)", month_text(&self.first_report_month)));
        }
        if !self.missing_reports.is_empty() {
            f.add("reports missing", format!("{} (R-P7)", months_text(&self.missing_reports)));
        }
        f.add("policy", or_dash(&self.policy_version)).add("opened", ts_text(&self.opened_at)).add("etag", &self.etag);
        let mut out = f.render();

        if let Some(p) = &self.procurement {
            block(&mut out, "Procurement (采购, R-P3, R-P4)", &record_fields(p));
        }
        if let Some(k) = &self.contract {
            block(&mut out, "Contract (合同备案, R-P2, R-P5, R-P9)", &contract_fields(k));
            let mut t = Table::new(&["STAGE", "CONDITION", "RATIO", "AMOUNT (yuan)", "MET", "MET ON", "BY", "EVIDENCE", "PAID (yuan)"]);
            for s in &k.payment_stages {
                t.row(vec![
                    s.stage_id.clone(),
                    s.condition.clone(),
                    bp(s.ratio_bp),
                    yuan(s.amount_fen),
                    yes(s.condition_met).into(),
                    date_text(&s.condition_met_on),
                    or_dash(&s.condition_met_by),
                    or_dash(&s.condition_evidence),
                    yuan(s.paid_fen),
                ]);
            }
            section(&mut out, "Payment stages (分期付款, R-P6)", &t, k.payment_stages.is_empty());
            let mut t = Table::new(&["STAGE", "AMOUNT (yuan)", "FILED ON"]);
            for p in &k.payments {
                t.row(vec![p.stage_id.clone(), yuan(p.amount_fen), date_text(&p.filed_on)]);
            }
            section(&mut out, "Payments filed (资金支付报备, R-P6)", &t, k.payments.is_empty());
        }
        let mut t = Table::new(&["MONTH", "REPORTED ON", "DUE ON", "LATE", "DONE", "BY", "SUMMARY", "ISSUES"]);
        for r in &self.progress_reports {
            t.row(vec![
                month_text(&r.month),
                date_text(&r.reported_on),
                date_text(&r.due_on),
                yes(r.late).into(),
                format!("{} %", r.percent_complete),
                or_dash(&r.reported_by),
                r.summary.clone(),
                or_dash(&r.issues),
            ]);
        }
        section(&mut out, "Progress reports (月度进展, R-P7)", &t, self.progress_reports.is_empty());
        if let Some(o) = &self.overrun {
            block(
                &mut out,
                "Overrun (超期, R-P8)",
                Fields::new()
                    .add("contract end", date_text(&o.contract_end))
                    .add("days past it", o.days.to_string())
                    .add("recorded on", date_text(&o.recorded_on))
                    .add(
                        "explanation",
                        if o.explanation.is_empty() {
                            "- (none filed yet: egovctl procurement explain-overrun)".into()
                        } else {
                            format!("{} (filed {})", o.explanation, date_text(&o.explained_on))
                        },
                    ),
            );
        }
        if let Some(c) = &self.completion {
            block(
                &mut out,
                "Construction completed (建设完成)",
                Fields::new()
                    .add("completed on", date_text(&c.completed_on))
                    .add("declared on", date_text(&c.declared_on))
                    .add("overrun", if c.overrun_days == 0 { "none".into() } else { format!("{} days (R-P8)", c.overrun_days) })
                    .add("summary", or_dash(&c.summary)),
            );
        }
        if let Some(t) = &self.termination {
            block(
                &mut out,
                "Revoked or terminated (撤销/终止, R-P10)",
                Fields::new()
                    .add("kind", &t.kind)
                    .add("ground", enums::short::<TerminationGround>(t.ground))
                    .add("reason", &t.reason)
                    .add("progress", or_dash(&t.progress))
                    .add("payments", format!("{} (filed under R-P6: {})", or_dash(&t.payments), money(t.paid_fen)))
                    .add("party resolution", or_dash(&t.party_committee_resolution))
                    .add("leader approval", or_dash(&t.leader_approval))
                    .add("filed", format!("{} by {}", date_text(&t.filed_on), or_dash(&t.filed_by))),
            );
        }
        out
    }
}

impl Listed for ProcurementCase {
    const ITEMS: &'static str = "cases";
    const NONE: Option<&'static str> = Some("no cases");
    const COLUMNS: &'static [&'static str] =
        &["PROJECT", "UNIT", "STATE", "BUDGET (yuan)", "PROCURE BY", "CONTRACT (yuan)", "ETAG", "NAME"];

    fn row(&self) -> Vec<String> {
        vec![
            self.project_id.clone(),
            self.lead_unit_id.clone(),
            state_text(self),
            yuan(self.budget_fen),
            date_text(&self.procurement_deadline),
            self.contract.as_ref().and_then(|c| c.terms.as_ref()).map_or_else(|| "-".into(), |t| yuan(t.amount_fen)),
            self.etag.clone(),
            self.project_name.clone(),
        ]
    }
}

// ------------------------------------------------------------------ inspections

impl Output for InspectionDraw {
    fn to_json(&self) -> Value {
        json!({
            "draw_id": self.draw_id,
            // A u64 as a string, as the protobuf JSON mapping has it.
            "seed": self.seed.to_string(),
            "count": self.count,
            "pool": self.pool,
            "drawn": self.drawn,
            "drawn_at": ts_json(&self.drawn_at),
            "drawn_by": self.drawn_by,
            "note": self.note,
        })
    }

    fn to_text(&self) -> String {
        let mut out = Fields::new()
            .add("draw", &self.draw_id)
            .add("seed", format!("{} (the same pool and seed draw the same projects)", self.seed))
            .add("asked for", self.count.to_string())
            .add("pool", format!("{} project(s) under construction", self.pool.len()))
            .add("drawn at", ts_text(&self.drawn_at))
            .add("drawn by", or_dash(&self.drawn_by))
            .add("note", or_dash(&self.note))
            .render();
        let mut t = Table::new(&["#", "PROJECT"]);
        for (i, p) in self.drawn.iter().enumerate() {
            t.row(vec![(i + 1).to_string(), p.clone()]);
        }
        section(&mut out, "Drawn for inspection, in draw order (抽查, R-P7)", &t, self.drawn.is_empty());
        if self.drawn.is_empty() {
            out.push_str("\nnothing drawn: no project is under construction\n");
        }
        out
    }
}

impl Listed for InspectionDraw {
    const ITEMS: &'static str = "draws";
    const NONE: Option<&'static str> = Some("no inspection draws");
    const COLUMNS: &'static [&'static str] = &["DRAW", "DRAWN AT", "BY", "ASKED", "POOL", "SEED", "DRAWN"];

    fn row(&self) -> Vec<String> {
        vec![
            self.draw_id.clone(),
            ts_text(&self.drawn_at),
            or_dash(&self.drawn_by),
            self.count.to_string(),
            self.pool.len().to_string(),
            self.seed.to_string(),
            list_or_dash(&self.drawn),
        ]
    }
}

// ------------------------------------------------------------------ OCDS

impl Output for OcdsReleasePackage {
    /// The package itself, parsed (its text when the service sent something that does not parse).
    fn to_json(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or_else(|_| Value::String(self.json.clone()))
    }

    /// The package exactly as the service produced it (its key order kept): the export is JSON
    /// for people too.
    fn to_text(&self) -> String {
        let mut text = self.json.clone();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Page;
    use egov_proto::{
        common::CivilDate,
        procurement::{ContractTerms, PaymentFiling, Supervision},
    };

    fn d(year: i32, month: i32, day: i32) -> Option<CivilDate> {
        Some(CivilDate { year, month, day })
    }

    fn case() -> ProcurementCase {
        ProcurementCase {
            project_id: "P1".into(),
            project_name: "社会救助".into(),
            lead_unit_id: "U-CIVIL".into(),
            budget_fen: 108_000_000,
            funding_source: "DISTRICT_FISCAL".into(),
            planned_construction_months: 10,
            approved_on: d(2026, 11, 24),
            document_number: "上数〔2026〕123号".into(),
            procurement_deadline: d(2027, 5, 24),
            state: CaseState::Procuring as i32,
            etag: "1".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_case_shows_its_approval_and_r_p1_deadline() {
        let k = case();
        let text = k.to_text();
        assert!(text.starts_with("project       P1\nname          社会救助\nstate         PROCURING\n"), "{text}");
        assert!(text.contains("approval      上数〔2026〕123号 of 2026-11-24\n"), "{text}");
        assert!(text.contains("budget        1,080,000.00 yuan (108000000 fen)\n"), "{text}");
        assert!(text.contains("procure by    2027-05-24 (R-P1)\n"), "{text}");
        assert!(!text.contains("Contract"), "{text}");
        let j = k.to_json();
        assert_eq!(j["state"], "CASE_STATE_PROCURING");
        assert_eq!(j["procurement_deadline"], "2027-05-24");
        assert_eq!(j["contract"], Value::Null);
        assert_eq!(j["first_report_month"], Value::Null);
        let none = ProcurementCase { procurement_deadline: None, ..case() };
        assert!(none.to_text().contains("procure by    - (no R-P1 deadline"), "{}", none.to_text());
    }

    #[test]
    fn a_case_under_construction_shows_procurement_contract_stages_payments_and_reports() {
        let mut k = case();
        k.state = CaseState::Construction as i32;
        k.procurement = Some(ProcurementRecord {
            channel: "GOVERNMENT_PROCUREMENT".into(),
            method: "公开招标".into(),
            supplier_name: "某科技公司".into(),
            supplier_credit_code: "91350100M000100Y43".into(),
            amount_fen: 97_200_000,
            supervision: Some(Supervision {
                supplier_credit_code: "91440101MA5CJQ4N59".into(),
                fee_fen: 2_160_000,
                separately_procured: true,
            }),
            completed_on: d(2026, 11, 24),
            ..Default::default()
        });
        k.contract = Some(ContractRecord {
            terms: Some(ContractTerms {
                project_name: "社会救助".into(),
                construction_start: d(2026, 11, 24),
                construction_end: d(2027, 9, 23),
                amount_fen: 97_200_000,
                ip_owned_by_unit_or_joint: true,
                security_agreement: SignedStatement::Signed as i32,
                security_responsibility_letter: SignedStatement::NotStated as i32,
                ..Default::default()
            }),
            signed_on: d(2026, 11, 24),
            filed_on: d(2026, 12, 4),
            filing_deadline: d(2026, 12, 1),
            late: true,
            working_days_taken: 8,
            payment_stages: vec![PaymentStage {
                stage_id: "1".into(),
                condition: "合同签订".into(),
                ratio_bp: 3000,
                amount_fen: 29_160_000,
                condition_met: true,
                condition_met_on: d(2026, 12, 4),
                condition_met_by: "UNIT U-CIVIL".into(),
                condition_evidence: "合同编号 SC-1".into(),
                paid_fen: 29_160_000,
            }],
            payments: vec![PaymentFiling { stage_id: "1".into(), amount_fen: 29_160_000, filed_on: d(2026, 12, 4) }],
            paid_fen: 29_160_000,
            security: Some(SecurityFlags {
                classified_protection_level: 3,
                important_system: true,
                yearly_assessment_required: true,
                cryptography_assessment_required: true,
            }),
            ..Default::default()
        });
        k.progress_reports = vec![ProgressReport {
            month: Some(YearMonth { year: 2026, month: 12 }),
            reported_on: d(2026, 12, 4),
            due_on: d(2026, 12, 20),
            percent_complete: 10,
            summary: "完成需求调研".into(),
            reported_by: "UNIT U-CIVIL".into(),
            ..Default::default()
        }];
        k.first_report_month = Some(YearMonth { year: 2026, month: 12 });
        k.missing_reports = vec![YearMonth { year: 2027, month: 1 }];
        let text = k.to_text();
        for want in [
            "reports from     2026-12 (R-P7, monthly)\n",
            "reports missing  2027-01 (R-P7)\n",
            "Procurement (采购, R-P3, R-P4):\n  channel             GOVERNMENT_PROCUREMENT\n",
            "  supplier            某科技公司 (91350100M000100Y43)\n",
            "  supervision         91440101MA5CJQ4N59, fee 21,600.00 yuan (2160000 fen), procured separately\n",
            "  construction           2026-11-24 .. 2027-09-23\n",
            "  filed on               2026-12-04 (LATE: accepted and recorded as late (R-P5), 8 working days; deadline 2026-12-01)\n",
            "  responsibility letter  NOT STATED\n",
            "  security (R-P9)        等保 level 3, assessed every year, important information system, 密评 required\n",
            "  paid                   291,600.00 yuan (29160000 fen) of 972,000.00 yuan (97200000 fen)\n",
            "Payment stages (分期付款, R-P6):\n  STAGE  CONDITION  RATIO    AMOUNT (yuan)",
            "  1      合同签订   30.00 %  291,600.00     yes  2026-12-04  UNIT U-CIVIL  合同编号 SC-1  291,600.00\n",
            "Payments filed (资金支付报备, R-P6):\n",
            "  2026-12  2026-12-04   2026-12-20  no    10 %  UNIT U-CIVIL  完成需求调研  -\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        let j = k.to_json();
        assert_eq!(j["state"], "CASE_STATE_CONSTRUCTION");
        assert_eq!(j["procurement"]["supervision"]["fee_fen"], 2_160_000);
        assert_eq!(j["contract"]["terms"]["security_agreement"], "SIGNED_STATEMENT_SIGNED");
        assert_eq!(j["contract"]["terms"]["construction_end"], "2027-09-23");
        assert_eq!(j["contract"]["payment_stages"][0]["ratio_bp"], 3000);
        assert_eq!(j["contract"]["payments"][0]["filed_on"], "2026-12-04");
        assert_eq!(j["contract"]["security"]["classified_protection_level"], 3);
        assert_eq!(j["progress_reports"][0]["month"], "2026-12");
        assert_eq!(j["missing_reports"][0], "2027-01");
        assert_eq!(j["first_report_month"], "2026-12");
    }

    #[test]
    fn completion_overrun_and_termination() {
        let mut k = case();
        k.state = CaseState::ConstructionCompleted as i32;
        k.overrun = Some(Overrun { contract_end: d(2027, 9, 23), recorded_on: d(2027, 9, 24), days: 5, ..Default::default() });
        k.completion =
            Some(Completion { completed_on: d(2027, 9, 28), declared_on: d(2027, 9, 29), summary: "全部建成".into(), overrun_days: 5 });
        let text = k.to_text();
        assert!(text.contains("  explanation   - (none filed yet: egovctl procurement explain-overrun)\n"), "{text}");
        assert!(text.contains("Construction completed (建设完成):\n  completed on  2027-09-28\n"), "{text}");
        assert!(text.contains("  overrun       5 days (R-P8)\n"), "{text}");
        assert_eq!(k.to_json()["completion"]["overrun_days"], 5);
        assert_eq!(k.to_json()["overrun"]["explained_on"], Value::Null);

        k.state = CaseState::Terminated as i32;
        k.termination = Some(Termination {
            kind: "TERMINATED".into(),
            ground: TerminationGround::ForceMajeure as i32,
            reason: "台风".into(),
            paid_fen: 100,
            filed_on: d(2027, 10, 1),
            filed_by: "UNIT U-CIVIL".into(),
            ..Default::default()
        });
        let text = k.to_text();
        assert!(text.contains("  ground            FORCE_MAJEURE\n"), "{text}");
        assert!(text.contains("  payments          - (filed under R-P6: 1.00 yuan (100 fen))\n"), "{text}");
        assert_eq!(k.to_json()["termination"]["ground"], "TERMINATION_GROUND_FORCE_MAJEURE");
    }

    #[test]
    fn case_lists() {
        assert_eq!(Page::<ProcurementCase>(&[], "").to_text(), "no cases\n");
        let text = Page(&[case()], "next").to_text();
        assert!(text.starts_with("PROJECT  UNIT     STATE      BUDGET (yuan)  PROCURE BY  CONTRACT (yuan)  ETAG  NAME\n"), "{text}");
        assert!(text.contains("P1       U-CIVIL  PROCURING  1,080,000.00   2027-05-24  -                1     社会救助\n"), "{text}");
        assert!(text.ends_with("more: --page-token next\n"), "{text}");
        assert_eq!(Page(&[case()], "").to_json()["cases"][0]["project_id"], "P1");
    }

    #[test]
    fn inspection_draws() {
        let draw = InspectionDraw {
            draw_id: "D1".into(),
            seed: u64::MAX,
            count: 2,
            pool: vec!["P1".into(), "P2".into(), "P3".into()],
            drawn: vec!["P3".into(), "P1".into()],
            drawn_by: "drb".into(),
            ..Default::default()
        };
        let text = draw.to_text();
        assert!(text.contains("seed       18446744073709551615 (the same pool"), "{text}");
        assert!(text.contains("pool       3 project(s) under construction\n"), "{text}");
        assert!(text.contains("Drawn for inspection, in draw order (抽查, R-P7):\n  #  PROJECT\n  1  P3\n  2  P1\n"), "{text}");
        let j = draw.to_json();
        assert_eq!(j["seed"], "18446744073709551615");
        assert_eq!(j["drawn"][0], "P3");
        let empty = InspectionDraw { count: 1, ..Default::default() };
        assert!(empty.to_text().contains("nothing drawn: no project is under construction"));
        assert_eq!(Page::<InspectionDraw>(&[], "").to_text(), "no inspection draws\n");
        assert!(Page(std::slice::from_ref(&draw), "").to_text().contains("P3, P1"));
    }

    #[test]
    fn ocds_packages_print_as_json() {
        let p = OcdsReleasePackage { json: r#"{"version":"1.1","releases":[{"ocid":"ocds-x-P1"}]}"#.into() };
        assert_eq!(p.to_json()["releases"][0]["ocid"], "ocds-x-P1");
        assert_eq!(p.to_text(), format!("{}\n", p.json), "printed as the service made it, its key order kept");
        let broken = OcdsReleasePackage { json: "not json".into() };
        assert_eq!(broken.to_json(), Value::String("not json".into()));
        assert_eq!(broken.to_text(), "not json\n");
    }
}
