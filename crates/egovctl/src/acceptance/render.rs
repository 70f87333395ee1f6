//! How the acceptance service's answers are printed, in the shapes of `crate::render` and the
//! procurement commands: key/value blocks and tables for people (states, channels, specialties
//! and material kinds in English and Chinese; money in yuan from fen; the application's R-A3
//! checks item by item with ✓ and ✗; each material's R-P5 filing with its deadline and whether
//! it was late), the protobuf JSON mapping's shape for `--json` (proto field names, enums by full
//! name, timestamps RFC 3339 UTC, dates `YYYY-MM-DD`).

use egov_proto::acceptance::{
    AcceptanceApplication, AcceptanceCase, AcceptanceRecord, CaseState, Channel, Filing, InitialAcceptance, Material, MaterialKind,
    PanelMember, ReportSource, Specialty, TrialOperation,
};
use serde_json::{Value, json};

use crate::{
    enums,
    render::{Fields, Listed, Output, Table, block, date_json, date_text, list_or_dash, money, or_dash, section, ts_json, ts_text, yuan},
};

pub use crate::render::eprint;

// ------------------------------------------------------------------ names in English and Chinese

fn state_zh(s: CaseState) -> &'static str {
    match s {
        CaseState::Unspecified => "",
        CaseState::InitialAcceptance => "初验",
        CaseState::TrialOperation => "试运行",
        CaseState::ApplicationReview => "验收申请审核",
        CaseState::Acceptance => "验收",
        CaseState::Accepted => "验收通过",
        CaseState::Rectification => "整改",
        CaseState::RectificationLapsed => "整改逾期",
        CaseState::Closed => "已关闭",
    }
}

/// `TRIAL_OPERATION (试运行)`.
pub fn state_text(v: i32) -> String {
    with_zh(enums::short::<CaseState>(v), CaseState::try_from(v).map(state_zh).unwrap_or_default())
}

fn channel_text(v: i32) -> String {
    let zh = match Channel::try_from(v) {
        Ok(Channel::GovernmentProcurement) => "政府采购",
        Ok(Channel::SmallPublicResourceTrading) => "小额公共资源交易",
        _ => "",
    };
    with_zh(enums::short::<Channel>(v), zh)
}

/// Who organises the acceptance on this channel (R-A4).
fn organiser_text(v: i32) -> &'static str {
    match Channel::try_from(v) {
        Ok(Channel::GovernmentProcurement) => "DRB leads the expert acceptance (R-A4)",
        Ok(Channel::SmallPublicResourceTrading) => "the unit organises the acceptance, DRB may join (R-A4)",
        _ => "",
    }
}

fn kind_zh(k: MaterialKind) -> &'static str {
    match k {
        MaterialKind::Unspecified => "",
        MaterialKind::InitialPanelOpinions => "初验专家意见",
        MaterialKind::InitialMinutes => "初验会议纪要",
        MaterialKind::InitialTestReport => "初验测试报告",
        MaterialKind::FunctionPerformanceTestReport => "功能性能测试报告",
        MaterialKind::ClassifiedProtectionAssessment => "等保测评报告",
        MaterialKind::XinchuangAssessment => "信创测评报告",
        MaterialKind::TrialOperationReport => "试运行报告",
        MaterialKind::ConstructionSummary => "建设总结报告",
        MaterialKind::AcceptanceExpertOpinions => "验收专家意见",
        MaterialKind::AcceptanceMinutes => "验收会议纪要",
        MaterialKind::RectificationReport => "整改报告",
        MaterialKind::Other => "其他材料",
    }
}

/// `INITIAL_MINUTES (初验会议纪要)`.
pub fn kind_text(v: i32) -> String {
    with_zh(enums::short::<MaterialKind>(v), MaterialKind::try_from(v).map(kind_zh).unwrap_or_default())
}

fn source_text(v: i32) -> String {
    match ReportSource::try_from(v) {
        Ok(ReportSource::ProvincialSystem) => "PROVINCIAL_SYSTEM (一体化数字资源系统)".into(),
        Ok(ReportSource::Manual) => "MANUAL (uploaded by DRB by hand)".into(),
        _ => enums::short::<ReportSource>(v),
    }
}

fn specialty_zh(v: i32) -> String {
    match Specialty::try_from(v) {
        Ok(Specialty::InformationTechnology) => "信息技术".into(),
        Ok(Specialty::Cybersecurity) => "网络安全".into(),
        Ok(Specialty::BusinessDomain) => "业务领域".into(),
        _ => enums::short::<Specialty>(v),
    }
}

fn with_zh(en: String, zh: &str) -> String {
    if zh.is_empty() { en } else { format!("{en} ({zh})") }
}

fn check(ok: bool) -> String {
    if ok { "✓".into() } else { "✗".into() }
}

// ------------------------------------------------------------------ JSON of the parts

fn filing_json(f: &Filing) -> Value {
    json!({
        "produced_on": date_json(&f.produced_on),
        "filed_on": date_json(&f.filed_on),
        "deadline": date_json(&f.deadline),
        "late": f.late,
        "provisional_years": f.provisional_years,
    })
}

fn member_json(m: &PanelMember) -> Value {
    json!({
        "name": m.name,
        "specialties": m.specialties.iter().map(|&s| enums::full::<Specialty>(s)).collect::<Vec<_>>(),
        "affiliation": m.affiliation,
        "affiliation_credit_code": m.affiliation_credit_code,
        "opinion": m.opinion,
        "passes": m.passes,
    })
}

fn members_json(ms: &[PanelMember]) -> Vec<Value> {
    ms.iter().map(member_json).collect()
}

fn initial_json(i: &InitialAcceptance) -> Value {
    json!({
        "held_on": date_json(&i.held_on),
        "panel": members_json(&i.panel),
        "passed": i.passed,
        "conclusion": i.conclusion,
        "recorded_by": i.recorded_by,
        "recorded_at": ts_json(&i.recorded_at),
    })
}

fn trial_json(t: &TrialOperation) -> Value {
    json!({
        "started_on": date_json(&t.started_on),
        "completes_on": date_json(&t.completes_on),
        "report_document_id": t.report_document_id,
        "report_source": enums::full::<ReportSource>(t.report_source),
    })
}

fn application_json(a: &AcceptanceApplication) -> Value {
    json!({
        "attempt": a.attempt,
        "applied_on": date_json(&a.applied_on),
        "built_modules": a.built_modules,
        "statement": a.statement,
        "checks": a.checks.iter().map(|c| json!({ "item": c.item, "satisfied": c.satisfied, "detail": c.detail })).collect::<Vec<_>>(),
        "reviewed": a.reviewed,
        "approved": a.approved,
        "review_reasons": a.review_reasons,
        "reviewed_by": a.reviewed_by,
    })
}

fn record_json(r: &AcceptanceRecord) -> Value {
    json!({
        "held_on": date_json(&r.held_on),
        "organiser": r.organiser,
        "drb_joined": r.drb_joined,
        "experts": members_json(&r.experts),
        "passed": r.passed,
        "conclusion": r.conclusion,
        "costs_fen": r.costs_fen,
        "recorded_by": r.recorded_by,
    })
}

// ------------------------------------------------------------------ text of the parts

/// An R-P5 filing: when, on time or late, against its deadline.
fn filing_text(f: &Option<Filing>) -> String {
    let Some(f) = f else { return "-".into() };
    let timing = if f.late { "LATE: accepted and marked late (R-P5)" } else { "on time (R-P5)" };
    let mut s = format!("{} ({timing}; deadline {})", date_text(&f.filed_on), date_text(&f.deadline));
    if !f.provisional_years.is_empty() {
        let years: Vec<String> = f.provisional_years.iter().map(ToString::to_string).collect();
        s.push_str(&format!("; {} counted on weekends only (no official calendar loaded)", years.join(", ")));
    }
    s
}

/// How a panel or the experts decided: `PASSED (4 of 5 pass)`.
fn majority(passed: bool, members: &[PanelMember]) -> String {
    let n = members.iter().filter(|m| m.passes).count();
    format!("{} ({n} of {} pass)", if passed { "PASSED" } else { "FAILED" }, members.len())
}

fn members_table(members: &[PanelMember]) -> Table {
    let mut t = Table::new(&["#", "NAME", "SPECIALTIES", "AFFILIATION", "CREDIT CODE", "PASSES", "OPINION"]);
    for (i, m) in members.iter().enumerate() {
        t.row(vec![
            (i + 1).to_string(),
            m.name.clone(),
            list_or_dash(&m.specialties.iter().map(|&s| specialty_zh(s)).collect::<Vec<_>>()),
            or_dash(&m.affiliation),
            or_dash(&m.affiliation_credit_code),
            check(m.passes),
            or_dash(&m.opinion),
        ]);
    }
    t
}

fn materials_table(ms: &[Material]) -> Table {
    let mut t = Table::new(&["DOCUMENT", "KIND", "FILE", "SIZE", "PRODUCED", "FILED", "DEADLINE", "LATE (R-P5)", "BY"]);
    for m in ms {
        let f = m.filing.clone().unwrap_or_default();
        t.row(vec![
            m.document_id.clone(),
            kind_text(m.kind),
            m.file_name.clone(),
            m.size_bytes.to_string(),
            date_text(&f.produced_on),
            date_text(&f.filed_on),
            date_text(&f.deadline),
            if f.late { "LATE".into() } else { "no".into() },
            or_dash(&m.uploaded_by),
        ]);
    }
    t
}

fn review_text(a: &AcceptanceApplication) -> String {
    let reasons = if a.review_reasons.is_empty() { String::new() } else { format!(": {}", a.review_reasons) };
    match (a.reviewed, a.approved) {
        (false, _) => "awaiting DRB's review (R-A3)".into(),
        (true, true) => format!("APPROVED by {}{reasons}", or_dash(&a.reviewed_by)),
        (true, false) => format!("RETURNED by {}{reasons}", or_dash(&a.reviewed_by)),
    }
}

fn push_initial(out: &mut String, n: usize, i: &InitialAcceptance) {
    block(
        out,
        &format!("Initial acceptance #{n} (初验, R-A1)"),
        Fields::new()
            .add("held on", date_text(&i.held_on))
            .add("result", majority(i.passed, &i.panel))
            .add("conclusion", or_dash(&i.conclusion))
            .add("recorded", format!("{} by {}", ts_text(&i.recorded_at), or_dash(&i.recorded_by))),
    );
    section(out, &format!("Panel of initial acceptance #{n}"), &members_table(&i.panel), i.panel.is_empty());
}

fn push_trial(out: &mut String, t: &TrialOperation) {
    let report = if t.report_document_id.is_empty() {
        "- (not deposited yet: the provincial system deposits it, or DRB uploads it by hand)".into()
    } else {
        format!("{} from {}", t.report_document_id, source_text(t.report_source))
    };
    block(
        out,
        "Trial operation (试运行, R-A2)",
        Fields::new()
            .add("started on", date_text(&t.started_on))
            .add("apply from", format!("{} (the trial's minimum days are over)", date_text(&t.completes_on)))
            .add("report", report),
    );
}

fn push_application(out: &mut String, a: &AcceptanceApplication) {
    let satisfied = a.checks.iter().filter(|c| c.satisfied).count();
    block(
        out,
        &format!("Application #{} (验收申请, R-A3)", a.attempt),
        Fields::new()
            .add("applied on", date_text(&a.applied_on))
            .add("built modules", list_or_dash(&a.built_modules))
            .add("statement", or_dash(&a.statement))
            .add("checks", format!("{satisfied} of {} items satisfied", a.checks.len()))
            .add("review", review_text(a)),
    );
    let mut t = Table::new(&["OK", "ITEM", "DETAIL"]);
    for c in &a.checks {
        t.row(vec![check(c.satisfied), c.item.clone(), or_dash(&c.detail)]);
    }
    section(out, &format!("R-A3 checks of application #{}", a.attempt), &t, a.checks.is_empty());
}

fn push_acceptance(out: &mut String, n: usize, r: &AcceptanceRecord) {
    let organiser = if r.drb_joined { format!("{} (DRB joined)", or_dash(&r.organiser)) } else { or_dash(&r.organiser) };
    block(
        out,
        &format!("Acceptance #{n} (验收, R-A4, R-A5)"),
        Fields::new()
            .add("held on", date_text(&r.held_on))
            .add("organiser", organiser)
            .add("result", majority(r.passed, &r.experts))
            .add("conclusion", or_dash(&r.conclusion))
            .add("costs", format!("{}, borne by the unit", money(r.costs_fen)))
            .add("recorded by", or_dash(&r.recorded_by)),
    );
    section(out, &format!("Experts of acceptance #{n}"), &members_table(&r.experts), r.experts.is_empty());
}

fn security_text(k: &AcceptanceCase) -> String {
    let mut s = format!("等保 level {}", k.classified_protection_level);
    s.push_str(if k.classified_protection_level >= 2 {
        " (its assessment report is required, R-A3)"
    } else {
        " (no 等保 report required)"
    });
    if k.important_system {
        s.push_str(", important information system");
    }
    s
}

// ------------------------------------------------------------------ cases

impl Output for AcceptanceCase {
    fn to_json(&self) -> Value {
        json!({
            "project_id": self.project_id,
            "project_name": self.project_name,
            "lead_unit_id": self.lead_unit_id,
            "participating_unit_ids": self.participating_unit_ids,
            "document_number": self.document_number,
            "budget_fen": self.budget_fen,
            "scope": self.scope,
            "channel": enums::full::<Channel>(self.channel),
            "supplier_name": self.supplier_name,
            "supplier_credit_code": self.supplier_credit_code,
            "supervision_credit_code": self.supervision_credit_code,
            "contract_amount_fen": self.contract_amount_fen,
            "classified_protection_level": self.classified_protection_level,
            "important_system": self.important_system,
            "overrun_days": self.overrun_days,
            "construction_completed_on": date_json(&self.construction_completed_on),
            "state": enums::full::<CaseState>(self.state),
            "initial_acceptances": self.initial_acceptances.iter().map(initial_json).collect::<Vec<_>>(),
            "trial": self.trial.as_ref().map(trial_json),
            "applications": self.applications.iter().map(application_json).collect::<Vec<_>>(),
            "acceptances": self.acceptances.iter().map(record_json).collect::<Vec<_>>(),
            "rectify_by": date_json(&self.rectify_by),
            "accepted_on": date_json(&self.accepted_on),
            "closed_reason": self.closed_reason,
            "policy_version": self.policy_version,
            "etag": self.etag,
            "opened_at": ts_json(&self.opened_at),
            "materials": self.materials.iter().map(Output::to_json).collect::<Vec<_>>(),
            "category": self.category,
            "function_modules": self.function_modules,
            "operator_unit_id": self.operator_unit_id,
            "user_unit_ids": self.user_unit_ids,
        })
    }

    fn to_text(&self) -> String {
        let mut f = Fields::new();
        f.add("project", &self.project_id)
            .add("name", &self.project_name)
            .add("state", state_text(self.state))
            .add("lead unit", &self.lead_unit_id)
            .add("participating units", list_or_dash(&self.participating_unit_ids))
            .add("approval", or_dash(&self.document_number));
        if !self.category.is_empty() {
            f.add("category", &self.category);
        }
        f.add("budget", money(self.budget_fen)).add("scope", or_dash(&self.scope));
        if !self.function_modules.is_empty() {
            f.add("function modules", self.function_modules.join(", "));
        }
        let organiser = organiser_text(self.channel);
        f.add(
            "channel",
            if organiser.is_empty() { channel_text(self.channel) } else { format!("{}: {organiser}", channel_text(self.channel)) },
        )
        .add(
            "supplier",
            if self.supplier_credit_code.is_empty() {
                or_dash(&self.supplier_name)
            } else {
                format!("{} ({})", self.supplier_name, self.supplier_credit_code)
            },
        )
        .add("supervisor", or_dash(&self.supervision_credit_code))
        .add("contract", money(self.contract_amount_fen))
        .add("security", security_text(self))
        .add(
            "construction",
            format!(
                "completed {}{}",
                date_text(&self.construction_completed_on),
                if self.overrun_days > 0 { format!(", {} days past the contract (R-P8)", self.overrun_days) } else { String::new() }
            ),
        );
        if self.rectify_by.is_some() {
            f.add("rectify by", format!("{} (R-A5: re-apply by this day)", date_text(&self.rectify_by)));
        }
        if self.accepted_on.is_some() {
            f.add("accepted on", format!("{} (in use)", date_text(&self.accepted_on)));
        }
        if !self.closed_reason.is_empty() {
            f.add("closed", &self.closed_reason);
        }
        if !self.operator_unit_id.is_empty() {
            f.add("operator unit", &self.operator_unit_id);
        }
        if !self.user_unit_ids.is_empty() {
            f.add("user units", self.user_unit_ids.join(", "));
        }
        f.add("policy", or_dash(&self.policy_version)).add("opened", ts_text(&self.opened_at)).add("etag", &self.etag);
        let mut out = f.render();

        for (i, ia) in self.initial_acceptances.iter().enumerate() {
            push_initial(&mut out, i + 1, ia);
        }
        if let Some(t) = &self.trial {
            push_trial(&mut out, t);
        }
        for a in &self.applications {
            push_application(&mut out, a);
        }
        for (i, r) in self.acceptances.iter().enumerate() {
            push_acceptance(&mut out, i + 1, r);
        }
        section(&mut out, "Materials (R-X1, R-P5)", &materials_table(&self.materials), self.materials.is_empty());
        out
    }
}

impl Listed for AcceptanceCase {
    const ITEMS: &'static str = "cases";
    const NONE: Option<&'static str> = Some("no cases");
    const COLUMNS: &'static [&'static str] =
        &["PROJECT", "UNIT", "STATE", "CHANNEL", "CONTRACT (yuan)", "COMPLETED", "RECTIFY BY", "ETAG", "NAME"];

    fn row(&self) -> Vec<String> {
        vec![
            self.project_id.clone(),
            self.lead_unit_id.clone(),
            state_text(self.state),
            enums::short::<Channel>(self.channel),
            yuan(self.contract_amount_fen),
            date_text(&self.construction_completed_on),
            date_text(&self.rectify_by),
            self.etag.clone(),
            self.project_name.clone(),
        ]
    }
}

// ------------------------------------------------------------------ materials

impl Output for Material {
    fn to_json(&self) -> Value {
        json!({
            "document_id": self.document_id,
            "project_id": self.project_id,
            "kind": enums::full::<MaterialKind>(self.kind),
            "file_name": self.file_name,
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "sm3": self.sm3,
            "filing": self.filing.as_ref().map(filing_json),
            "source": enums::full::<ReportSource>(self.source),
            "uploaded_by": self.uploaded_by,
            "uploaded_at": ts_json(&self.uploaded_at),
        })
    }

    fn to_text(&self) -> String {
        let mut f = Fields::new();
        f.add("document", &self.document_id)
            .add("project", &self.project_id)
            .add("kind", kind_text(self.kind))
            .add("file", &self.file_name)
            .add("content type", or_dash(&self.content_type))
            .add("size", format!("{} bytes", self.size_bytes))
            .add("sha256", &self.sha256)
            .add("sm3", &self.sm3)
            .add("produced on", date_text(&self.filing.as_ref().and_then(|f| f.produced_on)))
            .add("filed on", filing_text(&self.filing));
        if self.source != 0 {
            f.add("source", source_text(self.source));
        }
        f.add("uploaded by", or_dash(&self.uploaded_by)).add("uploaded", ts_text(&self.uploaded_at));
        f.render()
    }
}

/// A case's materials.
pub struct Materials<'a>(pub &'a [Material]);

impl Output for Materials<'_> {
    fn to_json(&self) -> Value {
        json!({ "materials": self.0.iter().map(Output::to_json).collect::<Vec<_>>() })
    }

    fn to_text(&self) -> String {
        if self.0.is_empty() {
            return "no materials\n".into();
        }
        let mut out = materials_table(self.0).render();
        let late = self.0.iter().filter(|m| m.filing.as_ref().is_some_and(|f| f.late)).count();
        if late > 0 {
            out.push_str(&format!("\n{late} filed late: accepted and marked late (R-P5)\n"));
        }
        out
    }
}

/// A finished download: the material's metadata, where its content went and how much of it.
pub struct Downloaded<'a> {
    pub material: &'a Material,
    /// The file written, or `-` for standard output.
    pub written_to: String,
    pub bytes: u64,
}

impl Output for Downloaded<'_> {
    fn to_json(&self) -> Value {
        json!({ "material": self.material.to_json(), "written_to": self.written_to, "bytes_written": self.bytes })
    }

    fn to_text(&self) -> String {
        let to = if self.written_to == "-" { "standard output".to_string() } else { self.written_to.clone() };
        format!(
            "{}\nwrote {} bytes to {to}: all {} bytes announced arrived\n",
            self.material.to_text(),
            self.bytes,
            self.material.size_bytes
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Page;
    use egov_proto::{acceptance::ApplicationCheck, common::CivilDate};

    fn d(year: i32, month: i32, day: i32) -> Option<CivilDate> {
        Some(CivilDate { year, month, day })
    }

    fn member(name: &str, specialties: &[Specialty], passes: bool) -> PanelMember {
        PanelMember {
            name: name.into(),
            specialties: specialties.iter().map(|&s| s as i32).collect(),
            affiliation: "浙江工业大学".into(),
            affiliation_credit_code: "12330000470526018N".into(),
            opinion: if passes { "同意通过".into() } else { "不同意通过".into() },
            passes,
        }
    }

    fn material(kind: MaterialKind, late: bool) -> Material {
        Material {
            document_id: "D1".into(),
            project_id: "P1".into(),
            kind: kind as i32,
            file_name: "初验会议纪要.pdf".into(),
            content_type: "application/pdf".into(),
            size_bytes: 1234,
            sha256: "ab".into(),
            sm3: "cd".into(),
            filing: Some(Filing {
                produced_on: d(2027, 11, 10),
                filed_on: d(2027, 11, 19),
                deadline: d(2027, 11, 17),
                late,
                provisional_years: vec![],
            }),
            uploaded_by: "unit-local".into(),
            ..Default::default()
        }
    }

    fn case() -> AcceptanceCase {
        AcceptanceCase {
            project_id: "P1".into(),
            project_name: "社会救助".into(),
            lead_unit_id: "U-CIVIL".into(),
            document_number: "上数〔2026〕123号".into(),
            budget_fen: 108_000_000,
            channel: Channel::GovernmentProcurement as i32,
            supplier_name: "杭州某某科技有限公司".into(),
            supplier_credit_code: "91350100M000100Y43".into(),
            contract_amount_fen: 97_200_000,
            classified_protection_level: 3,
            construction_completed_on: d(2027, 10, 30),
            state: CaseState::InitialAcceptance as i32,
            etag: "1".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_case_shows_its_state_channel_and_money_in_both_languages() {
        let k = case();
        let text = k.to_text();
        for want in [
            "state                INITIAL_ACCEPTANCE (初验)\n",
            "budget               1,080,000.00 yuan (108000000 fen)\n",
            "channel              GOVERNMENT_PROCUREMENT (政府采购): DRB leads the expert acceptance (R-A4)\n",
            "supplier             杭州某某科技有限公司 (91350100M000100Y43)\n",
            "contract             972,000.00 yuan (97200000 fen)\n",
            "security             等保 level 3 (its assessment report is required, R-A3)\n",
            "construction         completed 2027-10-30\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert!(!text.contains("Trial operation") && !text.contains("rectify by"), "{text}");
        let j = k.to_json();
        assert_eq!(j["state"], "CASE_STATE_INITIAL_ACCEPTANCE");
        assert_eq!(j["channel"], "CHANNEL_GOVERNMENT_PROCUREMENT");
        assert_eq!(j["contract_amount_fen"], 97_200_000);
        assert_eq!(j["trial"], Value::Null);
        assert_eq!(j["rectify_by"], Value::Null);
    }

    #[test]
    fn a_case_shows_panel_trial_checks_acceptance_and_materials() {
        let mut k = case();
        k.state = CaseState::Rectification as i32;
        k.overrun_days = 5;
        k.rectify_by = d(2028, 3, 20);
        k.initial_acceptances = vec![InitialAcceptance {
            held_on: d(2027, 11, 10),
            panel: vec![
                member("陈立新", &[Specialty::InformationTechnology], true),
                member("王珺", &[Specialty::Cybersecurity, Specialty::BusinessDomain], true),
                member("李婉清", &[Specialty::BusinessDomain], false),
            ],
            passed: true,
            conclusion: "同意通过初验".into(),
            recorded_by: "unit-local".into(),
            ..Default::default()
        }];
        k.trial = Some(TrialOperation {
            started_on: d(2027, 11, 10),
            completes_on: d(2027, 12, 10),
            report_document_id: "D9".into(),
            report_source: ReportSource::Manual as i32,
        });
        k.applications = vec![AcceptanceApplication {
            attempt: 1,
            applied_on: d(2027, 12, 12),
            built_modules: vec!["救助申请".into(), "审核审批".into()],
            checks: vec![
                ApplicationCheck { item: "整体验收 / whole project".into(), satisfied: true, detail: "the whole project".into() },
                ApplicationCheck {
                    item: "信创测评报告 / XINCHUANG_ASSESSMENT".into(),
                    satisfied: false,
                    detail: "the 信创测评报告 is not filed".into(),
                },
            ],
            reviewed: true,
            approved: false,
            review_reasons: "信创测评报告缺失".into(),
            reviewed_by: "drb-local".into(),
            ..Default::default()
        }];
        k.acceptances = vec![AcceptanceRecord {
            held_on: d(2028, 1, 20),
            organiser: "DRB".into(),
            experts: vec![member("沈国平", &[Specialty::InformationTechnology], false)],
            passed: false,
            conclusion: "不予通过".into(),
            costs_fen: 1_500_000,
            recorded_by: "drb-local".into(),
            ..Default::default()
        }];
        k.materials = vec![material(MaterialKind::InitialMinutes, true)];
        let text = k.to_text();
        for want in [
            "state                RECTIFICATION (整改)\n",
            "construction         completed 2027-10-30, 5 days past the contract (R-P8)\n",
            "rectify by           2028-03-20 (R-A5: re-apply by this day)\n",
            "Initial acceptance #1 (初验, R-A1):\n  held on     2027-11-10\n  result      PASSED (2 of 3 pass)\n",
            "Panel of initial acceptance #1:\n  #  NAME    SPECIALTIES         AFFILIATION",
            "  2  王珺    网络安全, 业务领域  浙江工业大学  12330000470526018N  ✓       同意通过\n",
            "  3  李婉清  业务领域            浙江工业大学  12330000470526018N  ✗       不同意通过\n",
            "Trial operation (试运行, R-A2):\n  started on  2027-11-10\n  apply from  2027-12-10 (the trial's minimum days are over)\n",
            "  report      D9 from MANUAL (uploaded by DRB by hand)\n",
            "  checks         1 of 2 items satisfied\n",
            "  review         RETURNED by drb-local: 信创测评报告缺失\n",
            "R-A3 checks of application #1:\n  OK  ITEM",
            "  ✓   整体验收 / whole project",
            "  ✗   信创测评报告 / XINCHUANG_ASSESSMENT  the 信创测评报告 is not filed\n",
            "Acceptance #1 (验收, R-A4, R-A5):\n",
            "  result       FAILED (0 of 1 pass)\n",
            "  costs        15,000.00 yuan (1500000 fen), borne by the unit\n",
            "Materials (R-X1, R-P5):\n",
            "INITIAL_MINUTES (初验会议纪要)",
            "2027-11-10  2027-11-19  2027-11-17  LATE",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        let j = k.to_json();
        assert_eq!(j["initial_acceptances"][0]["panel"][1]["specialties"][1], "SPECIALTY_BUSINESS_DOMAIN");
        assert_eq!(j["trial"]["report_source"], "REPORT_SOURCE_MANUAL");
        assert_eq!(j["applications"][0]["checks"][1]["satisfied"], false);
        assert_eq!(j["acceptances"][0]["costs_fen"], 1_500_000);
        assert_eq!(j["materials"][0]["filing"]["deadline"], "2027-11-17");
        assert_eq!(j["rectify_by"], "2028-03-20");
    }

    #[test]
    fn an_application_awaiting_review_and_an_accepted_case() {
        let mut k = case();
        k.state = CaseState::Accepted as i32;
        k.accepted_on = d(2028, 1, 20);
        k.operator_unit_id = "U-CIVIL".into();
        k.user_unit_ids = vec!["U-CIVIL".into(), "U-STREET".into()];
        k.applications = vec![AcceptanceApplication { attempt: 2, ..Default::default() }];
        k.acceptances = vec![AcceptanceRecord { organiser: "UNIT".into(), drb_joined: true, passed: true, ..Default::default() }];
        let text = k.to_text();
        assert!(text.contains("state                ACCEPTED (验收通过)\n"), "{text}");
        assert!(text.contains("accepted on          2028-01-20 (in use)\n"), "{text}");
        assert!(text.contains("user units           U-CIVIL, U-STREET\n"), "{text}");
        assert!(text.contains("Application #2 (验收申请, R-A3):\n"), "{text}");
        assert!(text.contains("  review         awaiting DRB's review (R-A3)\n"), "{text}");
        assert!(text.contains("  organiser    UNIT (DRB joined)\n"), "{text}");
    }

    #[test]
    fn case_lists() {
        assert_eq!(Page::<AcceptanceCase>(&[], "").to_text(), "no cases\n");
        let text = Page(&[case()], "next").to_text();
        assert!(text.starts_with("PROJECT  UNIT     STATE                      CHANNEL"), "{text}");
        assert!(text.contains("P1       U-CIVIL  INITIAL_ACCEPTANCE (初验)  GOVERNMENT_PROCUREMENT  972,000.00"), "{text}");
        assert!(text.ends_with("more: --page-token next\n"), "{text}");
        assert_eq!(Page(&[case()], "").to_json()["cases"][0]["state"], "CASE_STATE_INITIAL_ACCEPTANCE");
    }

    #[test]
    fn materials_show_their_r_p5_filing() {
        let m = material(MaterialKind::TrialOperationReport, false);
        let m = Material { source: ReportSource::ProvincialSystem as i32, ..m };
        let text = m.to_text();
        assert!(text.contains("kind          TRIAL_OPERATION_REPORT (试运行报告)\n"), "{text}");
        assert!(text.contains("filed on      2027-11-19 (on time (R-P5); deadline 2027-11-17)\n"), "{text}");
        assert!(text.contains("source        PROVINCIAL_SYSTEM (一体化数字资源系统)\n"), "{text}");
        let late = material(MaterialKind::InitialMinutes, true);
        assert!(late.to_text().contains("LATE: accepted and marked late (R-P5); deadline 2027-11-17"), "{}", late.to_text());
        assert!(!late.to_text().contains("source"), "only trial reports have a source");
        let j = m.to_json();
        assert_eq!(
            (j["kind"].as_str(), j["source"].as_str()),
            (Some("MATERIAL_KIND_TRIAL_OPERATION_REPORT"), Some("REPORT_SOURCE_PROVINCIAL_SYSTEM"))
        );
        assert_eq!(j["filing"]["late"], false);
        let list = Materials(&[m, late]);
        let text = list.to_text();
        assert!(text.starts_with("DOCUMENT  KIND"), "{text}");
        assert!(text.ends_with("\n1 filed late: accepted and marked late (R-P5)\n"), "{text}");
        assert_eq!(list.to_json()["materials"][1]["filing"]["late"], true);
        assert_eq!(Materials(&[]).to_text(), "no materials\n");
        let prov = Material { filing: Some(Filing { provisional_years: vec![2028], ..Default::default() }), ..Default::default() };
        assert!(prov.to_text().contains("2028 counted on weekends only"), "{}", prov.to_text());
    }

    #[test]
    fn downloads_say_where_and_how_much() {
        let m = material(MaterialKind::InitialMinutes, false);
        let d = Downloaded { material: &m, written_to: "-".into(), bytes: 1234 };
        assert!(d.to_text().ends_with("\nwrote 1234 bytes to standard output: all 1234 bytes announced arrived\n"), "{}", d.to_text());
        let d = Downloaded { material: &m, written_to: "/tmp/x.pdf".into(), bytes: 1234 };
        assert_eq!(d.to_json()["bytes_written"], 1234);
        assert_eq!(d.to_json()["material"]["document_id"], "D1");
    }
}
