//! Who may call which procurement method (R-X2).

use egov_platform::auth::{Role, Role::*, RoleTable};

const SERVICE: &str = "egov.procurement.v1.Procurement";
/// SERVICE: the suite's other services (acceptance reads the contract's state, R-A3).
const READERS: &[Role] = &[Unit, Drb, Finance, Drc, Leader, Audit, Service];

pub fn table() -> RoleTable {
    let t = RoleTable::new()
        .allow(SERVICE, "GetCase", READERS)
        .allow(SERVICE, "ListCases", READERS)
        .allow(SERVICE, "RecordProcurement", &[Unit])
        .allow(SERVICE, "FileContract", &[Unit])
        .allow(SERVICE, "SetPaymentPlan", &[Unit])
        // The lead unit records a stage's condition (初验通过, ...) or DRB does, with evidence.
        .allow(SERVICE, "MarkStageConditionMet", &[Unit, Drb])
        .allow(SERVICE, "FilePayment", &[Unit])
        .allow(SERVICE, "ReportProgress", &[Unit])
        // DRB draws (抽查); the draws are not shown to units, who could otherwise see them coming.
        .allow(SERVICE, "DrawInspections", &[Drb])
        .allow(SERVICE, "GetInspectionDraw", &[Drb, Finance, Drc, Leader, Audit])
        .allow(SERVICE, "ListInspectionDraws", &[Drb, Finance, Drc, Leader, Audit])
        .allow(SERVICE, "ExplainOverrun", &[Unit])
        .allow(SERVICE, "DeclareConstructionComplete", &[Unit])
        .allow(SERVICE, "TerminateProject", &[Unit])
        .allow(SERVICE, "ExportOcds", READERS);
    egov_platform::ops::allow_platform_services(t)
}
