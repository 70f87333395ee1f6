//! The 开放合同数据标准 (Open Contracting Data Standard, OCDS 1.1) export that makes a case public
//! (公开透明): one procurement case as a release package that holds one release, the case's
//! current state, tagged by what the case holds. `ExportOcds` calls [`release_package`]. Every
//! field it writes is listed in `OVERVIEW.md` ("OCDS 1.1 export").
//!
//! Pure: the caller passes the publisher and the publication instant. Nothing here reads a clock,
//! a database or the network, so the same case, publisher and instant always give the same JSON.
//! Parts the case doesn't hold are left out. No field is ever `null`, and no array or object is
//! ever empty.
//!
//! Decisions:
//! - **Identifiers.** `ocid = {ocid_prefix}-{project_id}`. The release id is `{ocid}-{version}`:
//!   each stored version of the case is one release. The tender, award and contract ids are
//!   `{ocid}-tender`, `{ocid}-award` and `{ocid}-contract`.
//! - **Money.** Integer fen become CNY amounts in yuan. Each amount is built from its decimal
//!   string (1 fen → `0.01`, 12345678901 fen → `123456789.01`), and a whole number of yuan
//!   becomes a JSON integer. No arithmetic is done on doubles. serde_json stores a fraction as a
//!   double and prints its shortest round-trip form. Up to 15 significant digits (below 10^13
//!   yuan), that form is exactly the decimal.
//! - **Dates.** RFC 3339 in Asia/Shanghai (`+08:00`), to the second. A civil date becomes its
//!   midnight, `YYYY-MM-DDT00:00:00+08:00`. The last day of a period or deadline, which counts,
//!   becomes `23:59:59` of that day instead (`contracts.period.endDate`, milestone `dueDate`),
//!   so that day still falls inside the period. The release `date` is the latest date the case
//!   records, never after `publishedDate`, so exporting one version twice gives one release.
//! - **Organisations.** Suppliers and the supervisor are identified by their unified social credit
//!   code (统一社会信用代码) under org-id.guide's `CN-USCI` scheme. Units are identified by our
//!   internal unit id under `CN-EGOV-UNIT`, because no public register lists them. The case holds
//!   no unit names, so the id also serves as the name. The implementing body (实施主体) is the
//!   procuring entity. Participating units are interested parties. The supervisor (监理) is a
//!   `supplier` (of its own, separately procured supervision contract) and the main contract's
//!   `contractImplementationManager`. Its fee goes in `details`.
//! - **Methods.** 公开招标 → `open`. 邀请招标 → `selective`: suppliers qualify, then some are
//!   invited. 竞争性谈判, 竞争性磋商 and 询价 → `limited`: the purchaser picks the suppliers it
//!   negotiates with or asks for quotes, from a pool, by recommendation or after a notice, and
//!   there is no qualification stage open to all. 单一来源 → `direct`. A trailing 采购 is
//!   ignored. Any other method leaves `procurementMethod` out. The channel and the method as
//!   recorded always go in `procurementMethodDetails`.
//! - **Status.** The tender is `complete` once procurement is recorded. The award is `active`
//!   and the contract `active`, still `active` after construction completes, because acceptance,
//!   maintenance and the last payments follow. A case that ends (R-P10 revocation or termination,
//!   approval cancelled, R-P1 deadline missed) with a contract filed has the contract
//!   `terminated`. That is OCDS 1.1's code for a signed contract that came to an early close;
//!   OCDS 1.1 reserves `cancelled` for contracts never signed. Without a contract, the tender
//!   and any award are `cancelled`. The reason goes in a `cancellationDetails` document.
//! - **Payment stages** are contract milestones of type `payment`. A stage is `met` once paid in
//!   full (OCDS expects a transaction for a met payment milestone), `partiallyMet` while partly
//!   paid, `scheduled` before any payment, and `notMet` if the case ends before any payment. The
//!   condition recorded as met goes in the description. `value` is an additional field (core in
//!   OCDS 1.2). **Payment filings** are `implementation.transactions`, dated by the filing.
//!   **Progress reports** are `physicalProgressReport` documents of the implementation.
//!   **Completion** is the implementation's `delivery` milestone, due on the contract's
//!   construction end.
//! - **Not published.** Personal names (the responsible person, reporters, who filed or confirmed
//!   what) are personal information. The R-P9 security flags (等保 level, important system) are
//!   security-sensitive. Also left out: the party committee resolution and the leader's
//!   approval of an R-P10 filing, and the contract clauses (R-P2).

use std::str::FromStr;

use egov_platform::{
    clock::{SHANGHAI, start_of_day},
    values::Fen,
};
use serde_json::{Map, Number, Value};
use time::{Date, OffsetDateTime, PrimitiveDateTime, macros::time};

use super::{
    model::{CaseState, ContractRecord, ProcurementCase, ProcurementRecord, StageRecord, Termination, TerminationGround},
    supervision::Channel,
};

/// The OCDS schema version of the package (`major.minor`).
pub const OCDS_VERSION: &str = "1.1";
/// The currency of every amount.
pub const CURRENCY: &str = "CNY";
/// Identifier scheme of our units (the unit ids the platform issues).
pub const UNIT_SCHEME: &str = "CN-EGOV-UNIT";
/// org-id.guide's scheme for the unified social credit code (统一社会信用代码, GB 32100).
pub const USCC_SCHEME: &str = "CN-USCI";

/// Who publishes the package (the district's data resources bureau) and the OCID prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    pub name: String,
    pub uri: String,
    pub ocid_prefix: String,
}

impl Default for Publisher {
    fn default() -> Publisher {
        Publisher {
            name: "上城区数据资源管理局 (Shangcheng District Data Resources Bureau)".into(),
            uri: "urn:egov:shangcheng:procurement".into(),
            ocid_prefix: "ocds-egovsc".into(),
        }
    }
}

/// The case as one OCDS 1.1 release package with one release (the case's current state, tagged
/// by what exists: planning, tender, award, contract, implementation,
/// tenderCancellation/contractTermination where it applies).
///
/// `published_at` becomes `publishedDate`. The handler passes the export instant, or the time of
/// the case's last change when it has one (OCDS's advice for packages generated on demand).
pub fn release_package(case: &ProcurementCase, publisher: &Publisher, published_at: OffsetDateTime) -> Value {
    let ocid = format!("{}-{}", publisher.ocid_prefix, case.project_id);
    let release_id = format!("{ocid}-{}", case.version);
    let release = release(case, &ocid, &release_id, published_at);
    Obj::new()
        .s("uri", package_uri(&publisher.uri, &release_id))
        .s("version", OCDS_VERSION)
        .s("publishedDate", instant(published_at))
        .obj("publisher", Obj::new().text("name", &publisher.name).text("uri", &publisher.uri))
        .list("releases", vec![release])
        .build()
}

fn release(case: &ProcurementCase, ocid: &str, release_id: &str, published_at: OffsetDateTime) -> Value {
    let end = end_of(case);
    let mut parties = Parties::default();
    let buyer_id = unit_party_id(&case.lead_unit_id);
    parties.add(&buyer_id, "buyer", || unit_party(&case.lead_unit_id));
    for unit in &case.participating_unit_ids {
        parties.add(&unit_party_id(unit), "interestedParty", || {
            unit_party(unit).obj("details", Obj::new().s("note", "参与单位 (participating unit)"))
        });
    }
    let buyer = org_ref(&buyer_id, &case.lead_unit_id);

    let mut tags = vec!["planning"];
    let tender = tender(case, ocid, end.as_ref(), &mut parties);
    let mut awards = Vec::new();
    let mut contracts = Vec::new();
    let mut supplier = None;
    if let Some(p) = &case.procurement {
        tags.extend(["tender", "award"]);
        let supplier_id = supplier_parties(p, &mut parties);
        let supplier_ref = org_ref(&supplier_id, &p.supplier_name);
        awards.push(award(case, ocid, p, end.is_some() && case.contract.is_none(), supplier_ref.clone()));
        supplier = Some((supplier_id, supplier_ref));
    }
    if let Some(c) = &case.contract {
        tags.push("contract");
        if implementation_under_way(case, c) {
            tags.push("implementation");
        }
        if !c.payments.is_empty() {
            parties.add(&buyer_id, "payer", || unit_party(&case.lead_unit_id));
            if let Some((id, _)) = &supplier {
                parties.add(id, "payee", Obj::new);
            }
        }
        contracts.push(contract(case, ocid, c, end.as_ref(), &buyer, supplier.as_ref().map(|(_, r)| r)));
    }
    if end.is_some() {
        if case.contract.is_some() {
            tags.push("contractTermination");
        } else {
            tags.push("tenderCancellation");
            if case.procurement.is_some() {
                tags.push("awardCancellation");
            }
        }
    }

    Obj::new()
        .s("ocid", ocid)
        .s("id", release_id)
        .s("date", instant(release_date(case).min(published_at)))
        .v("tag", tags)
        .s("initiationType", "tender")
        .s("language", "zh")
        .list("parties", parties.into_values())
        .v("buyer", buyer)
        .v("planning", planning(case))
        .opt("tender", tender)
        .list("awards", awards)
        .list("contracts", contracts)
        .build()
}

fn planning(case: &ProcurementCase) -> Value {
    let budget = Obj::new()
        .opt("description", funding_label(&case.funding_source).map(|f| format!("资金来源 / funding source: {f}")))
        .v("amount", money(case.budget_fen.get()))
        .text("project", &case.project_name)
        .s("projectID", case.project_id.to_string());
    let mut about = Vec::new();
    if !case.document_number.trim().is_empty() {
        about.push(format!("批复文号 / document number: {}", case.document_number.trim()));
    }
    if case.planned_construction_months > 0 {
        about.push(format!("计划建设周期 / planned construction: {} 个月 (months)", case.planned_construction_months));
    }
    if let Some(d) = case.procurement_deadline {
        about.push(format!("采购完成期限 / procurement deadline (R-P1): {d}"));
    }
    let approval = Obj::new()
        .s("id", "approval")
        .s("title", "立项批复 (project approval)")
        .s("type", "approval")
        .s("status", "met")
        .s("dateMet", civil(case.approved_on))
        .opt("description", joined(&about));
    Obj::new().text("rationale", &case.scope).obj("budget", budget).list("milestones", vec![approval.build()]).build()
}

/// The tender once procurement is recorded, or once the case ends without a contract (then
/// `cancelled`, with the reason).
fn tender(case: &ProcurementCase, ocid: &str, end: Option<&End<'_>>, parties: &mut Parties) -> Option<Value> {
    let cancelled = end.filter(|_| case.contract.is_none());
    if case.procurement.is_none() && cancelled.is_none() {
        return None;
    }
    let mut t = Obj::new()
        .s("id", format!("{ocid}-tender"))
        .text("title", &case.project_name)
        .s("status", if cancelled.is_some() { "cancelled" } else { "complete" })
        .v("value", money(case.budget_fen.get()));
    if let Some(p) = &case.procurement {
        const BODY: &str = "implementing-body";
        parties.add(BODY, "procuringEntity", || {
            Obj::new().text("name", &p.implementing_body).obj("details", Obj::new().s("note", "实施主体 (implementing body)"))
        });
        t = t
            .v("procuringEntity", org_ref(BODY, &p.implementing_body))
            .opt("procurementMethod", procurement_method(&p.method))
            .s("procurementMethodDetails", method_details(p));
    }
    if let Some(end) = cancelled {
        t = t.list("documents", vec![end_document(end)]);
    }
    Some(t.build())
}

/// Adds the supplier (and the supervisor, if any) to the parties; returns the supplier's id.
fn supplier_parties(p: &ProcurementRecord, parties: &mut Parties) -> String {
    let supplier_id = uscc_party_id(&p.supplier_credit_code);
    parties.add(&supplier_id, "supplier", || {
        Obj::new().text("name", &p.supplier_name).obj(
            "identifier",
            Obj::new().s("scheme", USCC_SCHEME).s("id", p.supplier_credit_code.trim()).text("legalName", &p.supplier_name),
        )
    });
    if let Some(s) = &p.supervision {
        let id = uscc_party_id(&s.supplier_credit_code);
        let fields = || {
            Obj::new().obj("identifier", Obj::new().s("scheme", USCC_SCHEME).s("id", s.supplier_credit_code.trim())).obj(
                "details",
                Obj::new()
                    .s("note", "工程监理 (engineering supervision, R-P3)")
                    .v("separatelyProcured", s.separately_procured)
                    .v("fee", money(s.fee_fen.get())),
            )
        };
        parties.add(&id, "supplier", fields);
        parties.add(&id, "contractImplementationManager", Obj::new);
    }
    supplier_id
}

fn award(case: &ProcurementCase, ocid: &str, p: &ProcurementRecord, cancelled: bool, supplier: Value) -> Value {
    Obj::new()
        .s("id", format!("{ocid}-award"))
        .text("title", &case.project_name)
        .s("status", if cancelled { "cancelled" } else { "active" })
        .s("date", civil(p.completed_on))
        .v("value", money(p.amount_fen.get()))
        .list("suppliers", vec![supplier])
        .build()
}

fn contract(
    case: &ProcurementCase,
    ocid: &str,
    c: &ContractRecord,
    end: Option<&End<'_>>,
    buyer: &Value,
    supplier: Option<&Value>,
) -> Value {
    let ended_on = end.and_then(End::date);
    let mut milestones = vec![filing_milestone(c)];
    milestones.extend(c.stages.iter().map(|s| stage_milestone(c, s, end.is_some(), ended_on)));

    let transactions = c
        .payments
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Obj::new()
                .s("id", format!("payment-{}", i + 1))
                .s("date", civil(p.filed_on))
                .v("value", money(p.amount_fen.get()))
                .v("payer", buyer.clone())
                .opt("payee", supplier.cloned())
                .build()
        })
        .collect();
    let reports = case
        .progress_reports
        .iter()
        .map(|r| {
            let mut about = vec![format!("完成 / complete: {}%", r.percent_complete)];
            if !r.summary.trim().is_empty() {
                about.push(r.summary.trim().to_string());
            }
            if !r.issues.trim().is_empty() {
                about.push(format!("问题 / issues: {}", r.issues.trim()));
            }
            if r.late {
                about.push(format!("逾期报送 / reported late (due {})", r.due_on));
            }
            Obj::new()
                .s("id", format!("progress-{}", r.month))
                .s("documentType", "physicalProgressReport")
                .s("title", format!("{} 月度进展 (monthly progress report, R-P7)", r.month))
                .opt("description", joined(&about))
                .s("datePublished", civil(r.reported_on))
                .s("language", "zh")
                .build()
        })
        .collect();
    let implementation =
        Obj::new().list("transactions", transactions).list("milestones", vec![delivery_milestone(case, c, end)]).list("documents", reports);

    Obj::new()
        .s("id", format!("{ocid}-contract"))
        .opt("awardID", case.procurement.as_ref().map(|_| format!("{ocid}-award")))
        .text("title", &c.terms.project_name)
        .s("status", if end.is_some() { "terminated" } else { "active" })
        .obj("period", Obj::new().s("startDate", civil(c.terms.construction_start)).s("endDate", day_end(c.terms.construction_end)))
        .v("value", money(c.terms.amount_fen.get()))
        .s("dateSigned", civil(c.signed_on))
        .list("milestones", milestones)
        .list("documents", end.map(end_document).into_iter().collect())
        .obj("implementation", implementation)
        .build()
}

/// R-P5: the contract filed with DRB, due by the filing deadline.
fn filing_milestone(c: &ContractRecord) -> Value {
    let mut about = vec![if c.late {
        format!("逾期备案 / filed late: {} working days after signing", c.working_days_taken)
    } else {
        format!("按时备案 / filed on time: {} working days after signing", c.working_days_taken)
    }];
    if !c.provisional_years.is_empty() {
        let years: Vec<String> = c.provisional_years.iter().map(i32::to_string).collect();
        about.push(format!(
            "{} 年官方日历未载入，按周末推算 / provisional: counted on weekends only for {}",
            years.join("、"),
            years.join(", ")
        ));
    }
    Obj::new()
        .s("id", "filing")
        .s("title", "合同备案 (contract filing, R-P5)")
        .s("type", "approval")
        .s("status", "met")
        .s("dueDate", day_end(c.deadline))
        .s("dateMet", civil(c.filed_on))
        .opt("description", joined(&about))
        .build()
}

/// R-P6: one payment stage, its status from what was paid for it.
fn stage_milestone(c: &ContractRecord, s: &StageRecord, ended: bool, ended_on: Option<Date>) -> Value {
    let paid = c.paid_for(&s.stage_id);
    let last_paid = c.payments.iter().filter(|p| p.stage_id == s.stage_id).map(|p| p.filed_on).max();
    let (status, date_met, modified) = if paid > Fen::ZERO && paid >= s.amount_fen {
        ("met", last_paid, None)
    } else if paid > Fen::ZERO {
        ("partiallyMet", None, last_paid)
    } else if ended {
        ("notMet", None, ended_on)
    } else {
        ("scheduled", None, s.condition_met.as_ref().map(|m| m.on))
    };
    let mut about = vec![format!("{}.{:02}% of the contract amount", s.ratio_bp / 100, s.ratio_bp % 100)];
    if !s.condition.trim().is_empty() {
        about.push(format!("付款条件 / condition: {}", s.condition.trim()));
    }
    if let Some(m) = &s.condition_met {
        about.push(if m.evidence.trim().is_empty() {
            format!("条件已满足 / condition met on {}", m.on)
        } else {
            format!("条件已满足 / condition met on {}: {}", m.on, m.evidence.trim())
        });
    }
    if paid > Fen::ZERO && status != "met" {
        about.push(format!("已支付 / paid: {} 元", yuan_text(paid.get())));
    }
    Obj::new()
        .s("id", format!("stage-{}", s.stage_id))
        .text("title", &s.condition)
        .s("type", "payment")
        .s("status", status)
        .opt("dateMet", date_met.map(civil))
        .opt("dateModified", modified.map(civil))
        .opt("description", joined(&about))
        .v("value", money(s.amount_fen.get()))
        .build()
}

/// Construction complete (建设完成), due on the contract's construction end; R-P8 overruns and an
/// early end show as `notMet`.
fn delivery_milestone(case: &ProcurementCase, c: &ContractRecord, end: Option<&End<'_>>) -> Value {
    let mut about = Vec::new();
    let (status, date_met, modified) = if let Some(done) = &case.completion {
        if !done.summary.trim().is_empty() {
            about.push(done.summary.trim().to_string());
        }
        if done.overrun_days > 0 {
            about.push(format!("超期 {0} 天 / {0} days past the contract period (R-P8)", done.overrun_days));
        }
        ("met", Some(done.completed_on), Some(done.declared_on))
    } else if let Some(end) = end {
        about.push("项目已撤销或终止 / the project ended before construction was complete".to_string());
        ("notMet", None, end.date())
    } else if let Some(o) = &case.overrun {
        about.push(format!("超期 / construction ran past the contract period (R-P8), recorded on {}", o.recorded_on));
        ("notMet", None, Some(o.explained_on.unwrap_or(o.recorded_on)))
    } else {
        ("scheduled", None, None)
    };
    if let Some(text) = case.overrun.as_ref().and_then(|o| o.explanation.as_deref()).filter(|t| !t.trim().is_empty()) {
        about.push(format!("情况说明 / explanation: {}", text.trim()));
    }
    Obj::new()
        .s("id", "construction")
        .s("title", "建设完成 (construction complete)")
        .s("type", "delivery")
        .s("status", status)
        .s("dueDate", day_end(c.terms.construction_end))
        .opt("dateMet", date_met.map(civil))
        .opt("dateModified", modified.map(civil))
        .opt("description", joined(&about))
        .build()
}

/// Whether anything has happened under the contract yet: a payment, a report, an overrun, completion.
fn implementation_under_way(case: &ProcurementCase, c: &ContractRecord) -> bool {
    !c.payments.is_empty() || !case.progress_reports.is_empty() || case.overrun.is_some() || case.completion.is_some()
}

/// How a case ended, if it has.
enum End<'a> {
    /// An R-P10 revocation (撤销) or termination (终止) filing.
    Filed(&'a Termination),
    /// Review cancelled the approval (`review.approval.cancelled`).
    ApprovalCancelled,
    /// R-P1: procurement was not completed by the deadline.
    DeadlineMissed(Option<Date>),
    /// TERMINATED without a stored filing (not produced today; kept total).
    Unrecorded,
}

impl End<'_> {
    fn date(&self) -> Option<Date> {
        match self {
            End::Filed(t) => Some(t.filed_on),
            _ => None,
        }
    }
}

fn end_of(case: &ProcurementCase) -> Option<End<'_>> {
    if let Some(t) = &case.termination {
        return Some(End::Filed(t));
    }
    match case.state {
        CaseState::Cancelled => Some(End::ApprovalCancelled),
        CaseState::DeadlineMissed => Some(End::DeadlineMissed(case.procurement_deadline)),
        CaseState::Terminated => Some(End::Unrecorded),
        _ => None,
    }
}

/// The `cancellationDetails` document saying why the case ended.
fn end_document(end: &End<'_>) -> Value {
    let doc = Obj::new().s("documentType", "cancellationDetails").s("language", "zh");
    match end {
        End::Filed(t) => {
            let kind = match t.kind.as_str() {
                "REVOKED" => "撤销 (revoked)",
                "TERMINATED" => "终止 (terminated)",
                other => other,
            };
            let mut about = Vec::new();
            for (label, text) in [("原因 / reason", &t.reason), ("建设进展 / progress", &t.progress), ("资金支付 / payments", &t.payments)]
            {
                if !text.trim().is_empty() {
                    about.push(format!("{label}: {}", text.trim()));
                }
            }
            about.push(format!("已支付 / paid: {} 元", yuan_text(t.paid_fen.get())));
            doc.s("id", "termination")
                .s("title", format!("{kind}, R-P10: {} ({})", ground_label(t.ground), t.ground))
                .opt("description", joined(&about))
                .s("datePublished", civil(t.filed_on))
        }
        End::ApprovalCancelled => doc.s("id", "approval-cancelled").s("title", "立项批复已撤销 (the project approval was cancelled)"),
        End::DeadlineMissed(deadline) => doc
            .s("id", "deadline-missed")
            .s("title", "未在期限内完成采购 (R-P1: procurement was not completed by the deadline)")
            .opt("description", deadline.map(|d| format!("采购完成期限 / deadline: {d}"))),
        End::Unrecorded => doc.s("id", "termination").s("title", "撤销或终止 (revoked or terminated, R-P10)"),
    }
    .build()
}

fn ground_label(g: TerminationGround) -> &'static str {
    match g {
        TerminationGround::ForceMajeure => "不可抗力",
        TerminationGround::MajorContentChange => "建设内容发生重大变更",
        TerminationGround::FailedImplementation => "项目实施失败",
        TerminationGround::SeriousDelayOrLoss => "严重延误或重大损失",
        TerminationGround::FunctionTransferOrPolicyChange => "职能划转或政策调整",
        TerminationGround::Other => "其他认定的原因",
    }
}

/// The OCDS method code for a Chinese procurement method (采购方式); `None` when no code fits.
pub fn procurement_method(method: &str) -> Option<&'static str> {
    let m = method.trim();
    match m.strip_suffix("采购").unwrap_or(m) {
        "公开招标" => Some("open"),
        "邀请招标" => Some("selective"),
        "竞争性谈判" | "竞争性磋商" | "询价" => Some("limited"),
        "单一来源" => Some("direct"),
        _ => None,
    }
}

/// `政府采购 · 公开招标`: the channel (R-P4) and the method as recorded.
fn method_details(p: &ProcurementRecord) -> String {
    let channel = Channel::parse(p.channel.trim()).map_or_else(|| p.channel.trim().to_string(), |c| c.label().to_string());
    [channel, p.method.trim().to_string()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ")
}

fn funding_label(source: &str) -> Option<String> {
    let label = match source.trim() {
        "" => return None,
        "DISTRICT_FISCAL" => "区级财政资金",
        "SUPERIOR_TRANSFER" => "上级专项转移支付",
        "SOCIAL_CAPITAL" => "社会资本",
        "MIXED" => "区级财政与其他资金",
        other => return Some(other.to_string()),
    };
    Some(format!("{label} ({})", source.trim()))
}

/// The latest date the case records: when its information was last recorded.
fn release_date(case: &ProcurementCase) -> OffsetDateTime {
    let mut days = vec![case.approved_on];
    if let Some(p) = &case.procurement {
        days.push(p.completed_on);
    }
    if let Some(c) = &case.contract {
        days.extend([c.signed_on, c.filed_on]);
        days.extend(c.stages.iter().filter_map(|s| s.condition_met.as_ref().map(|m| m.on)));
        days.extend(c.payments.iter().map(|p| p.filed_on));
    }
    days.extend(case.progress_reports.iter().map(|r| r.reported_on));
    if let Some(o) = &case.overrun {
        days.push(o.recorded_on);
        days.extend(o.explained_on);
    }
    days.extend(case.completion.as_ref().map(|c| c.declared_on));
    days.extend(case.termination.as_ref().map(|t| t.filed_on));
    days.into_iter().map(start_of_day).fold(case.opened_at, OffsetDateTime::max)
}

fn package_uri(publisher_uri: &str, release_id: &str) -> String {
    if publisher_uri.starts_with("urn:") {
        format!("{publisher_uri}:release-package:{release_id}")
    } else {
        format!("{}/release-package/{release_id}", publisher_uri.trim_end_matches('/'))
    }
}

fn unit_party_id(unit_id: &str) -> String {
    format!("{UNIT_SCHEME}-{}", unit_id.trim())
}

fn unit_party(unit_id: &str) -> Obj {
    Obj::new().text("name", unit_id).obj("identifier", Obj::new().s("scheme", UNIT_SCHEME).s("id", unit_id.trim()))
}

fn uscc_party_id(code: &str) -> String {
    format!("{USCC_SCHEME}-{}", code.trim())
}

fn org_ref(id: &str, name: &str) -> Value {
    Obj::new().s("id", id).text("name", name).build()
}

/// `{"amount": <yuan>, "currency": "CNY"}`.
fn money(fen: i64) -> Value {
    Obj::new().v("amount", yuan(fen)).s("currency", CURRENCY).build()
}

/// `fen` in yuan as a JSON number, built from its exact decimal string (see the module docs).
fn yuan(fen: i64) -> Number {
    if fen % 100 == 0 {
        return Number::from(fen / 100);
    }
    // A finite decimal always parses; the fallback only keeps this total.
    Number::from_str(&yuan_text(fen)).unwrap_or_else(|_| Number::from(fen / 100))
}

/// `fen` in yuan as an exact decimal string: `0.01`, `-2.50`, `123456789.01`.
fn yuan_text(fen: i64) -> String {
    let abs = fen.unsigned_abs();
    format!("{}{}.{:02}", if fen < 0 { "-" } else { "" }, abs / 100, abs % 100)
}

/// A civil date as its midnight in Shanghai.
fn civil(d: Date) -> String {
    instant(start_of_day(d))
}

/// The last second of a civil date in Shanghai: the end of a period whose last day counts.
fn day_end(d: Date) -> String {
    instant(PrimitiveDateTime::new(d, time!(23:59:59)).assume_offset(SHANGHAI))
}

/// RFC 3339 in Shanghai time, to the second. Written by hand so it cannot fail; the offset
/// stays the instant's own only if it cannot be shown in Shanghai (years near the limits).
fn instant(t: OffsetDateTime) -> String {
    let t = t.checked_to_offset(SHANGHAI).unwrap_or(t);
    let (h, m, _) = t.offset().as_hms();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        if t.offset().is_negative() { '-' } else { '+' },
        h.unsigned_abs(),
        m.unsigned_abs()
    )
}

fn joined(parts: &[String]) -> Option<String> {
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A JSON object that never holds `null`, an empty string, an empty array or an empty object.
struct Obj(Map<String, Value>);

impl Obj {
    fn new() -> Obj {
        Obj(Map::new())
    }

    fn s(mut self, key: &str, value: impl Into<String>) -> Obj {
        self.0.insert(key.into(), Value::String(value.into()));
        self
    }

    /// A string, left out when blank.
    fn text(self, key: &str, value: &str) -> Obj {
        if value.trim().is_empty() { self } else { self.s(key, value.trim()) }
    }

    fn v(mut self, key: &str, value: impl Into<Value>) -> Obj {
        self.0.insert(key.into(), value.into());
        self
    }

    fn opt<V: Into<Value>>(self, key: &str, value: Option<V>) -> Obj {
        match value {
            Some(v) => self.v(key, v),
            None => self,
        }
    }

    fn list(self, key: &str, values: Vec<Value>) -> Obj {
        if values.is_empty() { self } else { self.v(key, values) }
    }

    fn obj(self, key: &str, value: Obj) -> Obj {
        if value.0.is_empty() { self } else { self.v(key, value.build()) }
    }

    fn build(self) -> Value {
        Value::Object(self.0)
    }
}

/// `parties`, in the order first named; one entry per id, its roles gathered.
#[derive(Default)]
struct Parties(Vec<(String, Obj, Vec<&'static str>)>);

impl Parties {
    /// Gives the party `id` the role `role`, creating it from `fields` when it is new (the first
    /// description of a party wins).
    fn add(&mut self, id: &str, role: &'static str, fields: impl FnOnce() -> Obj) {
        if let Some((_, _, roles)) = self.0.iter_mut().find(|(pid, _, _)| pid == id) {
            if !roles.contains(&role) {
                roles.push(role);
            }
            return;
        }
        self.0.push((id.to_string(), fields(), vec![role]));
    }

    fn into_values(self) -> Vec<Value> {
        self.0.into_iter().map(|(id, fields, roles)| fields.s("id", id).v("roles", roles).build()).collect()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};
    use uuid::Uuid;

    use super::*;
    use crate::domain::{
        contract::ContractTerms,
        model::{Completion, ConditionMet, OverrunRecord, PaymentRecord, ProgressReport, Supervision, YearMonth},
    };

    fn fen(n: i64) -> Fen {
        Fen::new(n).unwrap()
    }

    const PROJECT: &str = "01900000-0000-7000-8000-000000000001";
    const OCID: &str = "ocds-egovsc-01900000-0000-7000-8000-000000000001";
    const NAME: &str = "上城区城市大脑数字驾驶舱项目";
    const SUPPLIER: &str = "91350200776049653A";
    const SUPERVISOR: &str = "91350100M000100Y43";

    fn published() -> OffsetDateTime {
        datetime!(2027-01-05 10:00:00 +08:00)
    }

    /// Approved, nothing procured yet.
    fn approved() -> ProcurementCase {
        ProcurementCase {
            project_id: Uuid::parse_str(PROJECT).unwrap(),
            project_name: NAME.into(),
            lead_unit_id: "U-DRB".into(),
            participating_unit_ids: vec!["U-CIVIL".into(), "U-URBAN".into()],
            budget_fen: fen(120_000_000),
            funding_source: "DISTRICT_FISCAL".into(),
            planned_construction_months: 6,
            scope: "驾驶舱指标体系、数据接入与可视化".into(),
            approved_on: date!(2026 - 03 - 15),
            document_number: "上城数资〔2026〕12号".into(),
            procurement_deadline: Some(date!(2026 - 09 - 15)),
            state: CaseState::Procuring,
            procurement: None,
            policy_version: "2026.1".into(),
            version: 1,
            opened_at: datetime!(2026-03-16 09:30:00 +08:00),
            contract: None,
            progress_reports: Vec::new(),
            missing_reports: Vec::new(),
            first_report_month: None,
            overrun: None,
            completion: None,
            termination: None,
            cancellation: None,
        }
    }

    fn procured() -> ProcurementCase {
        let mut case = approved();
        case.state = CaseState::Procured;
        case.version = 2;
        case.procurement = Some(ProcurementRecord {
            channel: "GOVERNMENT_PROCUREMENT".into(),
            method: "公开招标".into(),
            supplier_name: "杭州数智科技有限公司".into(),
            supplier_credit_code: SUPPLIER.into(),
            amount_fen: fen(118_000_001),
            implementing_body: "区数据资源局信息中心".into(),
            responsible_person: "张三".into(),
            supervision: Some(Supervision { supplier_credit_code: SUPERVISOR.into(), fee_fen: fen(1_800_050), separately_procured: true }),
            completed_on: date!(2026 - 05 - 20),
            in_time: true,
            documents_filing: None,
        });
        case
    }

    fn terms() -> ContractTerms {
        ContractTerms {
            project_name: NAME.into(),
            construction_start: date!(2026 - 06 - 01),
            construction_end: date!(2026 - 11 - 30),
            amount_fen: fen(118_000_001),
            ip_owned_by_unit_or_joint: true,
            data_owned_by_unit: true,
            security_agreement_signed: Some(true),
            security_responsibility_letter_signed: Some(true),
            maintenance_scope: "系统运行维护".into(),
            maintenance_start: Some(date!(2026 - 12 - 01)),
            maintenance_end: Some(date!(2028 - 11 - 30)),
            maintenance_duty: "7×24小时响应".into(),
            security_duties_and_penalties: true,
            overrun_penalty_clause: true,
        }
    }

    fn stage(id: &str, condition: &str, ratio_bp: u32, amount_fen: i64, met_on: Option<Date>) -> StageRecord {
        StageRecord {
            stage_id: id.into(),
            condition: condition.into(),
            ratio_bp,
            amount_fen: fen(amount_fen),
            condition_met: met_on.map(|on| ConditionMet { evidence: format!("{condition}证明"), on, by: "李四".into() }),
        }
    }

    fn payment(stage_id: &str, amount_fen: i64, filed_on: Date) -> PaymentRecord {
        PaymentRecord { stage_id: stage_id.into(), amount_fen: fen(amount_fen), filed_on, request_id: format!("req-{stage_id}-{filed_on}") }
    }

    /// Contract filed, nothing paid or reported yet.
    fn under_contract() -> ProcurementCase {
        let mut case = procured();
        case.state = CaseState::Construction;
        case.version = 3;
        case.contract = Some(ContractRecord {
            terms: terms(),
            signed_on: date!(2026 - 05 - 28),
            filed_on: date!(2026 - 06 - 03),
            deadline: date!(2026 - 06 - 04),
            late: false,
            working_days_taken: 4,
            provisional_years: Vec::new(),
            stages: vec![
                stage("S1", "合同签订", 3000, 35_400_000, None),
                stage("S2", "初验通过", 6000, 70_800_000, None),
                stage("S3", "终验通过", 1000, 11_800_001, None),
            ],
            payments: Vec::new(),
            security: Default::default(),
        });
        case.first_report_month = YearMonth::new(2026, 6);
        case
    }

    /// Paid in part, reported, completed.
    fn full() -> ProcurementCase {
        let mut case = under_contract();
        case.state = CaseState::ConstructionCompleted;
        case.version = 9;
        let c = case.contract.as_mut().unwrap();
        c.stages[0].condition_met = Some(ConditionMet { evidence: "合同文本".into(), on: date!(2026 - 06 - 05), by: "李四".into() });
        c.stages[1].condition_met = Some(ConditionMet { evidence: "初验报告".into(), on: date!(2026 - 12 - 10), by: "李四".into() });
        c.payments = vec![payment("S1", 35_400_000, date!(2026 - 06 - 08)), payment("S2", 50_000_000, date!(2026 - 12 - 15))];
        case.progress_reports = vec![
            ProgressReport {
                month: YearMonth { year: 2026, month: 6 },
                reported_on: date!(2026 - 06 - 18),
                due_on: date!(2026 - 06 - 20),
                late: false,
                percent_complete: 20,
                summary: "完成需求调研".into(),
                issues: String::new(),
                reported_by: "王五".into(),
            },
            ProgressReport {
                month: YearMonth { year: 2026, month: 7 },
                reported_on: date!(2026 - 07 - 22),
                due_on: date!(2026 - 07 - 20),
                late: true,
                percent_complete: 45,
                summary: "数据接入开发".into(),
                issues: "接口联调延期".into(),
                reported_by: "王五".into(),
            },
        ];
        case.completion = Some(Completion {
            completed_on: date!(2026 - 11 - 28),
            declared_on: date!(2026 - 11 - 30),
            summary: "全部建设内容已完成".into(),
            overrun_days: 0,
        });
        case
    }

    fn termination(kind: &str, filed_on: Date) -> Termination {
        Termination {
            kind: kind.into(),
            ground: TerminationGround::FunctionTransferOrPolicyChange,
            reason: "职能划转至市级部门".into(),
            progress: "需求调研阶段".into(),
            payments: "已付首期款".into(),
            paid_fen: fen(35_400_000),
            party_committee_resolution: "党组会议纪要〔2026〕9号".into(),
            leader_approval: "区领导批示".into(),
            filed_on,
            filed_by: "赵六".into(),
        }
    }

    fn package(case: &ProcurementCase) -> Value {
        release_package(case, &Publisher::default(), published())
    }

    fn release(case: &ProcurementCase) -> Value {
        package(case)["releases"][0].clone()
    }

    /// The value at a JSON pointer into `v`, which must exist.
    fn at<'a>(v: &'a Value, pointer: &str) -> &'a Value {
        v.pointer(pointer).unwrap_or_else(|| panic!("{pointer} missing from {v:#}"))
    }

    fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
        at(v, pointer).as_str().unwrap_or_else(|| panic!("{pointer} is not a string"))
    }

    /// The JSON text of the amount at `pointer` (an amount object `{amount, currency}`).
    fn amount(v: &Value, pointer: &str) -> String {
        assert_eq!(s(v, &format!("{pointer}/currency")), "CNY");
        at(v, &format!("{pointer}/amount")).to_string()
    }

    fn tags(r: &Value) -> Vec<&str> {
        at(r, "/tag").as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect()
    }

    fn party<'a>(r: &'a Value, id: &str) -> &'a Value {
        at(r, "/parties").as_array().unwrap().iter().find(|p| p["id"] == id).unwrap_or_else(|| panic!("no party {id}"))
    }

    fn roles<'a>(r: &'a Value, id: &str) -> Vec<&'a str> {
        party(r, id)["roles"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect()
    }

    /// No `null`, no empty string, array or object anywhere.
    fn assert_nothing_empty(v: &Value, path: &str) {
        match v {
            Value::Null => panic!("null at {path}"),
            Value::String(s) => assert!(!s.trim().is_empty(), "empty string at {path}"),
            Value::Array(a) => {
                assert!(!a.is_empty(), "empty array at {path}");
                for (i, x) in a.iter().enumerate() {
                    assert_nothing_empty(x, &format!("{path}/{i}"));
                }
            }
            Value::Object(o) => {
                assert!(!o.is_empty(), "empty object at {path}");
                for (k, x) in o {
                    assert_nothing_empty(x, &format!("{path}/{k}"));
                }
            }
            Value::Bool(_) | Value::Number(_) => {}
        }
    }

    #[test]
    fn amounts_are_exact_decimal_yuan() {
        for (fen, json) in [
            (1, "0.01"),
            (10, "0.1"),
            (12_345_678_901, "123456789.01"),
            (30, "0.3"),
            (110, "1.1"),
            (100, "1"),
            (0, "0"),
            (-250, "-2.5"),
            (118_000_001, "1180000.01"),
            (999_999_999_999_999, "9999999999999.99"),
            (i64::MAX - 7, "92233720368547758"),
        ] {
            assert_eq!(serde_json::to_string(&money(fen)["amount"]).unwrap(), json, "{fen} fen");
            assert_eq!(money(fen)["currency"], "CNY");
        }
        assert_eq!(yuan_text(1), "0.01");
        assert_eq!(yuan_text(-250), "-2.50");
        assert_eq!(yuan_text(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn dates_are_rfc3339_in_shanghai() {
        assert_eq!(civil(date!(2026 - 06 - 01)), "2026-06-01T00:00:00+08:00");
        assert_eq!(day_end(date!(2026 - 11 - 30)), "2026-11-30T23:59:59+08:00");
        assert_eq!(instant(datetime!(2026-05-31 16:30:15.25 UTC)), "2026-06-01T00:30:15+08:00");
        assert_eq!(instant(datetime!(2026-06-01 08:00:00 +08:00)), "2026-06-01T08:00:00+08:00");
    }

    #[test]
    fn chinese_methods_map_to_the_ocds_method_codelist() {
        for (method, code) in [
            ("公开招标", Some("open")),
            (" 公开招标 ", Some("open")),
            ("邀请招标", Some("selective")),
            ("竞争性谈判", Some("limited")),
            ("竞争性磋商", Some("limited")),
            ("询价", Some("limited")),
            ("询价采购", Some("limited")),
            ("单一来源", Some("direct")),
            ("单一来源采购", Some("direct")),
            ("框架协议采购", None),
            ("网上超市", None),
            ("", None),
        ] {
            assert_eq!(procurement_method(method), code, "{method:?}");
        }
    }

    #[test]
    fn planning_only_case() {
        let p = package(&approved());
        assert_nothing_empty(&p, "");
        assert_eq!(s(&p, "/version"), "1.1");
        assert_eq!(s(&p, "/uri"), format!("urn:egov:shangcheng:procurement:release-package:{OCID}-1"));
        assert_eq!(s(&p, "/publishedDate"), "2027-01-05T10:00:00+08:00");
        assert_eq!(s(&p, "/publisher/name"), "上城区数据资源管理局 (Shangcheng District Data Resources Bureau)");
        assert_eq!(s(&p, "/publisher/uri"), "urn:egov:shangcheng:procurement");
        assert_eq!(at(&p, "/releases").as_array().unwrap().len(), 1);

        let r = &p["releases"][0];
        assert_eq!(s(r, "/ocid"), OCID);
        assert_eq!(s(r, "/id"), format!("{OCID}-1"));
        assert_eq!(s(r, "/date"), "2026-03-16T09:30:00+08:00", "opened after approval: the case's first record");
        assert_eq!(tags(r), ["planning"]);
        assert_eq!(s(r, "/initiationType"), "tender");
        assert_eq!(s(r, "/language"), "zh");
        for absent in ["tender", "awards", "contracts"] {
            assert!(r.get(absent).is_none(), "{absent} present in {r:#}");
        }

        assert_eq!(at(r, "/buyer"), &serde_json::json!({ "id": "CN-EGOV-UNIT-U-DRB", "name": "U-DRB" }));
        assert_eq!(roles(r, "CN-EGOV-UNIT-U-DRB"), ["buyer"]);
        assert_eq!(at(party(r, "CN-EGOV-UNIT-U-DRB"), "/identifier"), &serde_json::json!({ "scheme": "CN-EGOV-UNIT", "id": "U-DRB" }));
        assert_eq!(roles(r, "CN-EGOV-UNIT-U-CIVIL"), ["interestedParty"]);
        assert_eq!(roles(r, "CN-EGOV-UNIT-U-URBAN"), ["interestedParty"]);
        assert_eq!(at(r, "/parties").as_array().unwrap().len(), 3);

        assert_eq!(amount(r, "/planning/budget/amount"), "1200000");
        assert_eq!(s(r, "/planning/budget/project"), NAME);
        assert_eq!(s(r, "/planning/budget/projectID"), PROJECT);
        assert_eq!(s(r, "/planning/budget/description"), "资金来源 / funding source: 区级财政资金 (DISTRICT_FISCAL)");
        assert_eq!(s(r, "/planning/rationale"), "驾驶舱指标体系、数据接入与可视化");
        let approval = at(r, "/planning/milestones/0");
        assert_eq!(s(approval, "/type"), "approval");
        assert_eq!(s(approval, "/status"), "met");
        assert_eq!(s(approval, "/dateMet"), "2026-03-15T00:00:00+08:00");
        let about = s(approval, "/description");
        assert!(about.contains("上城数资〔2026〕12号") && about.contains("2026-09-15") && about.contains("6 个月"), "{about}");
    }

    #[test]
    fn procured_case_has_tender_award_and_parties() {
        let r = release(&procured());
        assert_nothing_empty(&r, "");
        assert_eq!(tags(&r), ["planning", "tender", "award"]);
        assert_eq!(s(&r, "/id"), format!("{OCID}-2"));
        assert_eq!(s(&r, "/date"), "2026-05-20T00:00:00+08:00");

        assert_eq!(s(&r, "/tender/id"), format!("{OCID}-tender"));
        assert_eq!(s(&r, "/tender/title"), NAME);
        assert_eq!(s(&r, "/tender/status"), "complete");
        assert_eq!(s(&r, "/tender/procurementMethod"), "open");
        assert_eq!(s(&r, "/tender/procurementMethodDetails"), "政府采购 · 公开招标");
        assert_eq!(amount(&r, "/tender/value"), "1200000");
        assert_eq!(at(&r, "/tender/procuringEntity"), &serde_json::json!({ "id": "implementing-body", "name": "区数据资源局信息中心" }));
        assert_eq!(roles(&r, "implementing-body"), ["procuringEntity"]);

        assert_eq!(s(&r, "/awards/0/id"), format!("{OCID}-award"));
        assert_eq!(s(&r, "/awards/0/status"), "active");
        assert_eq!(s(&r, "/awards/0/date"), "2026-05-20T00:00:00+08:00");
        assert_eq!(amount(&r, "/awards/0/value"), "1180000.01");
        let supplier_id = format!("CN-USCI-{SUPPLIER}");
        assert_eq!(at(&r, "/awards/0/suppliers"), &serde_json::json!([{ "id": supplier_id, "name": "杭州数智科技有限公司" }]));
        assert_eq!(roles(&r, &supplier_id), ["supplier"]);
        assert_eq!(
            at(party(&r, &supplier_id), "/identifier"),
            &serde_json::json!({ "scheme": "CN-USCI", "id": SUPPLIER, "legalName": "杭州数智科技有限公司" })
        );

        let supervisor_id = format!("CN-USCI-{SUPERVISOR}");
        assert_eq!(roles(&r, &supervisor_id), ["supplier", "contractImplementationManager"]);
        let supervisor = party(&r, &supervisor_id);
        assert_eq!(s(supervisor, "/identifier/scheme"), "CN-USCI");
        assert_eq!(s(supervisor, "/details/note"), "工程监理 (engineering supervision, R-P3)");
        assert_eq!(at(supervisor, "/details/separatelyProcured"), true);
        assert_eq!(amount(supervisor, "/details/fee"), "18000.5");

        // Personal names are not published.
        let text = r.to_string();
        assert!(!text.contains("张三"), "{text}");
        assert!(r.get("contracts").is_none());
    }

    #[test]
    fn channel_and_unknown_methods_stay_in_the_details() {
        let mut case = procured();
        let p = case.procurement.as_mut().unwrap();
        p.channel = "SMALL_PUBLIC_RESOURCE_TRADING".into();
        p.method = "网上竞价".into();
        p.supervision = None;
        let r = release(&case);
        assert!(r["tender"].get("procurementMethod").is_none());
        assert_eq!(s(&r, "/tender/procurementMethodDetails"), "小额公共资源交易 · 网上竞价");
        assert!(!r.to_string().contains(SUPERVISOR));
    }

    #[test]
    fn contract_filed_before_any_activity_is_not_yet_implementation() {
        let r = release(&under_contract());
        assert_nothing_empty(&r, "");
        assert_eq!(tags(&r), ["planning", "tender", "award", "contract"]);
        assert_eq!(s(&r, "/contracts/0/status"), "active");
        let payments: Vec<&str> = (1..=3).map(|i| s(&r, &format!("/contracts/0/milestones/{i}/status"))).collect();
        assert_eq!(payments, ["scheduled"; 3]);
        let construction = at(&r, "/contracts/0/implementation/milestones/0");
        assert_eq!(s(construction, "/status"), "scheduled");
        assert!(r["contracts"][0]["implementation"].get("transactions").is_none());
        assert!(r["contracts"][0]["implementation"].get("documents").is_none());
    }

    #[test]
    fn full_case_field_by_field() {
        let p = package(&full());
        assert_nothing_empty(&p, "");
        let r = &p["releases"][0];
        assert_eq!(s(r, "/id"), format!("{OCID}-9"));
        assert_eq!(tags(r), ["planning", "tender", "award", "contract", "implementation"]);
        assert_eq!(s(r, "/date"), "2026-12-15T00:00:00+08:00", "the last payment filing");

        let c = at(r, "/contracts/0");
        assert_eq!(s(c, "/id"), format!("{OCID}-contract"));
        assert_eq!(s(c, "/awardID"), format!("{OCID}-award"));
        assert_eq!(s(c, "/title"), NAME);
        assert_eq!(s(c, "/status"), "active", "acceptance and the last payment follow completion");
        assert_eq!(s(c, "/period/startDate"), "2026-06-01T00:00:00+08:00");
        assert_eq!(s(c, "/period/endDate"), "2026-11-30T23:59:59+08:00");
        assert_eq!(amount(c, "/value"), "1180000.01");
        assert_eq!(s(c, "/dateSigned"), "2026-05-28T00:00:00+08:00");
        assert!(c.get("documents").is_none());

        let filing = at(c, "/milestones/0");
        assert_eq!(s(filing, "/id"), "filing");
        assert_eq!(s(filing, "/type"), "approval");
        assert_eq!(s(filing, "/status"), "met");
        assert_eq!(s(filing, "/dueDate"), "2026-06-04T23:59:59+08:00");
        assert_eq!(s(filing, "/dateMet"), "2026-06-03T00:00:00+08:00");
        assert!(s(filing, "/description").contains("按时备案"));

        // S1 paid in full, S2 in part, S3 not yet.
        let stages = at(c, "/milestones").as_array().unwrap();
        assert_eq!(stages.len(), 4);
        let ids: Vec<&str> = stages.iter().map(|m| m["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["filing", "stage-S1", "stage-S2", "stage-S3"]);
        for m in &stages[1..] {
            assert_eq!(m["type"], "payment");
        }
        assert_eq!(s(&stages[1], "/title"), "合同签订");
        assert_eq!(s(&stages[1], "/status"), "met");
        assert_eq!(s(&stages[1], "/dateMet"), "2026-06-08T00:00:00+08:00");
        assert_eq!(amount(&stages[1], "/value"), "354000");
        assert!(s(&stages[1], "/description").starts_with("30.00% of the contract amount"));
        assert_eq!(s(&stages[2], "/status"), "partiallyMet");
        assert_eq!(s(&stages[2], "/dateModified"), "2026-12-15T00:00:00+08:00");
        assert!(stages[2].get("dateMet").is_none());
        assert_eq!(amount(&stages[2], "/value"), "708000");
        let about = s(&stages[2], "/description");
        assert!(about.contains("初验报告") && about.contains("已支付 / paid: 500000.00 元"), "{about}");
        assert_eq!(s(&stages[3], "/status"), "scheduled");
        assert_eq!(amount(&stages[3], "/value"), "118000.01");
        assert!(stages[3].get("dateModified").is_none());

        let i = at(c, "/implementation");
        let buyer = serde_json::json!({ "id": "CN-EGOV-UNIT-U-DRB", "name": "U-DRB" });
        let supplier = serde_json::json!({ "id": format!("CN-USCI-{SUPPLIER}"), "name": "杭州数智科技有限公司" });
        assert_eq!(
            at(i, "/transactions"),
            &serde_json::json!([
                { "id": "payment-1", "date": "2026-06-08T00:00:00+08:00",
                  "value": { "amount": 354000, "currency": "CNY" }, "payer": buyer, "payee": supplier },
                { "id": "payment-2", "date": "2026-12-15T00:00:00+08:00",
                  "value": { "amount": 500000, "currency": "CNY" }, "payer": buyer, "payee": supplier },
            ])
        );
        assert_eq!(roles(r, "CN-EGOV-UNIT-U-DRB"), ["buyer", "payer"]);
        assert_eq!(roles(r, &format!("CN-USCI-{SUPPLIER}")), ["supplier", "payee"]);

        let construction = at(i, "/milestones/0");
        assert_eq!(s(construction, "/id"), "construction");
        assert_eq!(s(construction, "/type"), "delivery");
        assert_eq!(s(construction, "/status"), "met");
        assert_eq!(s(construction, "/dueDate"), "2026-11-30T23:59:59+08:00");
        assert_eq!(s(construction, "/dateMet"), "2026-11-28T00:00:00+08:00");
        assert_eq!(s(construction, "/dateModified"), "2026-11-30T00:00:00+08:00");
        assert_eq!(s(construction, "/description"), "全部建设内容已完成");

        let reports = at(i, "/documents").as_array().unwrap();
        assert_eq!(reports.len(), 2);
        assert_eq!(s(&reports[0], "/id"), "progress-2026-06");
        assert_eq!(s(&reports[0], "/documentType"), "physicalProgressReport");
        assert_eq!(s(&reports[0], "/datePublished"), "2026-06-18T00:00:00+08:00");
        assert_eq!(s(&reports[0], "/description"), "完成 / complete: 20%; 完成需求调研");
        assert_eq!(s(&reports[1], "/id"), "progress-2026-07");
        assert_eq!(
            s(&reports[1], "/description"),
            "完成 / complete: 45%; 数据接入开发; 问题 / issues: 接口联调延期; 逾期报送 / reported late (due 2026-07-20)"
        );

        // Not published: personal names, R-P9 flags.
        let text = p.to_string();
        for name in ["张三", "李四", "王五"] {
            assert!(!text.contains(name), "{name} published");
        }
        assert!(!text.contains("classified"), "{text}");
    }

    #[test]
    fn overrun_without_completion_is_a_missed_delivery() {
        let mut case = under_contract();
        case.overrun = Some(OverrunRecord {
            contract_end: date!(2026 - 11 - 30),
            recorded_on: date!(2026 - 12 - 01),
            explanation: Some("硬件到货延迟".into()),
            explained_on: Some(date!(2026 - 12 - 04)),
        });
        let r = release(&case);
        assert_eq!(tags(&r), ["planning", "tender", "award", "contract", "implementation"]);
        let construction = at(&r, "/contracts/0/implementation/milestones/0");
        assert_eq!(s(construction, "/status"), "notMet");
        assert_eq!(s(construction, "/dateModified"), "2026-12-04T00:00:00+08:00");
        assert!(s(construction, "/description").contains("硬件到货延迟"));
        assert_eq!(s(&r, "/date"), "2026-12-04T00:00:00+08:00");
    }

    #[test]
    fn revoked_before_contract_cancels_tender_and_award() {
        let mut case = procured();
        case.state = CaseState::Terminated;
        case.version = 4;
        case.termination = Some(termination("REVOKED", date!(2026 - 06 - 10)));
        let r = release(&case);
        assert_nothing_empty(&r, "");
        assert_eq!(tags(&r), ["planning", "tender", "award", "tenderCancellation", "awardCancellation"]);
        assert_eq!(s(&r, "/date"), "2026-06-10T00:00:00+08:00");
        assert_eq!(s(&r, "/tender/status"), "cancelled");
        assert_eq!(s(&r, "/awards/0/status"), "cancelled");
        assert!(r.get("contracts").is_none());
        let doc = at(&r, "/tender/documents/0");
        assert_eq!(s(doc, "/id"), "termination");
        assert_eq!(s(doc, "/documentType"), "cancellationDetails");
        assert_eq!(s(doc, "/title"), "撤销 (revoked), R-P10: 职能划转或政策调整 (FUNCTION_TRANSFER_OR_POLICY_CHANGE)");
        assert_eq!(s(doc, "/datePublished"), "2026-06-10T00:00:00+08:00");
        let about = s(doc, "/description");
        assert!(about.contains("原因 / reason: 职能划转至市级部门") && about.contains("已支付 / paid: 354000.00 元"), "{about}");
        let text = r.to_string();
        assert!(!text.contains("党组会议纪要") && !text.contains("赵六"), "{text}");
    }

    #[test]
    fn revoked_while_procuring_cancels_a_bare_tender() {
        let mut case = approved();
        case.state = CaseState::Terminated;
        case.termination = Some(termination("REVOKED", date!(2026 - 04 - 01)));
        let r = release(&case);
        assert_nothing_empty(&r, "");
        assert_eq!(tags(&r), ["planning", "tenderCancellation"]);
        assert_eq!(s(&r, "/tender/status"), "cancelled");
        assert!(r["tender"].get("procurementMethod").is_none());
        assert!(r.get("awards").is_none());
        assert_eq!(s(&r, "/tender/documents/0/documentType"), "cancellationDetails");
    }

    #[test]
    fn approval_cancelled_or_deadline_missed_cancels_the_tender() {
        let mut cancelled = approved();
        cancelled.state = CaseState::Cancelled;
        let r = release(&cancelled);
        assert_eq!(tags(&r), ["planning", "tenderCancellation"]);
        assert_eq!(s(&r, "/tender/status"), "cancelled");
        assert_eq!(s(&r, "/tender/documents/0/id"), "approval-cancelled");

        let mut missed = approved();
        missed.state = CaseState::DeadlineMissed;
        let r = release(&missed);
        assert_eq!(tags(&r), ["planning", "tenderCancellation"]);
        assert_eq!(s(&r, "/tender/documents/0/id"), "deadline-missed");
        assert_eq!(s(&r, "/tender/documents/0/description"), "采购完成期限 / deadline: 2026-09-15");
    }

    #[test]
    fn terminated_after_contract_terminates_the_contract() {
        let mut case = under_contract();
        case.state = CaseState::Terminated;
        case.version = 6;
        let c = case.contract.as_mut().unwrap();
        c.stages[0].condition_met = Some(ConditionMet { evidence: "合同文本".into(), on: date!(2026 - 06 - 05), by: "李四".into() });
        c.payments = vec![payment("S1", 35_400_000, date!(2026 - 06 - 08))];
        case.termination = Some(termination("TERMINATED", date!(2026 - 08 - 20)));
        let r = release(&case);
        assert_nothing_empty(&r, "");
        assert_eq!(tags(&r), ["planning", "tender", "award", "contract", "implementation", "contractTermination"]);
        assert_eq!(s(&r, "/date"), "2026-08-20T00:00:00+08:00");
        // The procurement itself completed; only the contract ended.
        assert_eq!(s(&r, "/tender/status"), "complete");
        assert!(r["tender"].get("documents").is_none());
        assert_eq!(s(&r, "/awards/0/status"), "active");

        let c = at(&r, "/contracts/0");
        assert_eq!(s(c, "/status"), "terminated");
        assert_eq!(s(c, "/documents/0/documentType"), "cancellationDetails");
        assert_eq!(s(c, "/documents/0/title"), "终止 (terminated), R-P10: 职能划转或政策调整 (FUNCTION_TRANSFER_OR_POLICY_CHANGE)");
        assert_eq!(s(c, "/milestones/1/status"), "met");
        for i in [2, 3] {
            let m = at(c, &format!("/milestones/{i}"));
            assert_eq!(s(m, "/status"), "notMet");
            assert_eq!(s(m, "/dateModified"), "2026-08-20T00:00:00+08:00");
        }
        let construction = at(c, "/implementation/milestones/0");
        assert_eq!(s(construction, "/status"), "notMet");
        assert_eq!(s(construction, "/dateModified"), "2026-08-20T00:00:00+08:00");
    }

    #[test]
    fn release_date_never_follows_the_published_date() {
        let early = datetime!(2026-12-01 12:00:00 +08:00);
        let p = release_package(&full(), &Publisher::default(), early);
        assert_eq!(s(&p, "/publishedDate"), "2026-12-01T12:00:00+08:00");
        assert_eq!(s(&p, "/releases/0/date"), "2026-12-01T12:00:00+08:00");
    }

    #[test]
    fn same_input_gives_identical_json() {
        for case in [approved(), procured(), under_contract(), full()] {
            let a = serde_json::to_string(&package(&case)).unwrap();
            let b = serde_json::to_string(&package(&case.clone())).unwrap();
            assert_eq!(a, b);
        }
        // A later publication changes the package's date, not the release.
        let later = release_package(&full(), &Publisher::default(), datetime!(2027-03-01 09:00:00 +08:00));
        assert_eq!(later["releases"], package(&full())["releases"]);
    }

    #[test]
    fn publisher_and_http_uris() {
        let publisher = Publisher { name: "DRB".into(), uri: "https://data.example.gov.cn/ocds/".into(), ocid_prefix: "ocds-test".into() };
        let p = release_package(&approved(), &publisher, published());
        assert_eq!(s(&p, "/uri"), format!("https://data.example.gov.cn/ocds/release-package/ocds-test-{PROJECT}-1"));
        assert_eq!(s(&p, "/releases/0/ocid"), format!("ocds-test-{PROJECT}"));
        assert_eq!(at(&p, "/publisher"), &serde_json::json!({ "name": "DRB", "uri": "https://data.example.gov.cn/ocds/" }));
    }

    #[test]
    fn a_unit_named_twice_is_one_party_with_both_roles() {
        let mut case = approved();
        case.participating_unit_ids = vec!["U-DRB".into(), "U-CIVIL".into()];
        let r = release(&case);
        assert_eq!(at(&r, "/parties").as_array().unwrap().len(), 2);
        assert_eq!(roles(&r, "CN-EGOV-UNIT-U-DRB"), ["buyer", "interestedParty"]);
    }
}
