//! Who may call which intake method (R-X2). Methods absent here are refused for everyone.

use egov_platform::auth::{Role, Role::*, RoleTable};

const SERVICE: &str = "egov.intake.v1.Intake";

/// Roles that read intake's records (UNIT sees its own only, enforced per resource).
const READERS: &[Role] = &[Unit, Drb, Finance, Drc, Cac, Xinchuang, Grassroots, Leader, Audit];

pub fn table() -> RoleTable {
    let m: &[(&str, &[Role])] = &[
        ("CreateUnit", &[Drb]),
        ("GetUnit", READERS),
        ("ListUnits", &[Drb, Finance, Drc, Cac, Xinchuang, Grassroots, Leader, Audit]),
        ("RecordUnitPenalty", &[Drb]),
        ("GetUnitEligibility", READERS),
        ("OpenRound", &[Drb]),
        ("CloseRound", &[Drb]),
        ("GetRound", READERS),
        ("ListRounds", READERS),
        ("CreateApplication", &[Unit]),
        ("UpdateApplication", &[Unit]),
        ("GetApplication", READERS),
        ("ListApplications", READERS),
        ("UploadDocument", &[Unit]),
        ("DownloadDocument", READERS),
        ("ListDocuments", READERS),
        ("RecordLeaderConsent", &[Leader]),
        ("RequestSupplementary", &[Unit]),
        ("DecideSupplementary", &[Drb]),
        ("SubmitApplication", &[Unit]),
        ("GetComplianceChecklist", READERS),
        ("DecideCompliance", &[Drb]),
        ("RequestReReview", &[Unit]),
        ("GetProjectStatus", READERS),
        ("ListProjects", READERS),
    ];
    let mut t = RoleTable::new();
    for (method, roles) in m {
        t = t.allow(SERVICE, method, roles);
    }
    egov_platform::ops::allow_platform_services(t)
}
