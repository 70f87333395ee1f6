//! Who may call which evaluation method (R-X2). Methods absent here are refused for everyone.

use egov_platform::auth::{Role, Role::*, RoleTable};

const MAIN: &str = "egov.evaluation.v1.Evaluations";
const QUERIES: &str = "egov.evaluation.v1.EvaluationQueries";

/// Government roles that read evaluation's records (UNIT sees its own entries only, enforced per
/// resource; published results are for every one of them, R-E2).
const READERS: &[Role] = &[Unit, Drb, Finance, Drc, Cac, Xinchuang, Grassroots, Leader, Audit];

/// The readers and the suite's service account (intake screens and asks for R-I6 with it).
const READERS_AND_SERVICES: &[Role] = &[Unit, Drb, Finance, Drc, Cac, Xinchuang, Grassroots, Leader, Audit, Service];

pub fn table() -> RoleTable {
    let main: &[(&str, &[Role])] = &[
        ("RegisterEntry", &[Unit, Drb]),
        ("GetEntry", READERS),
        ("ListEntries", READERS),
        ("ImportCatalogue", &[Drb]),
        ("ScreenModules", READERS_AND_SERVICES),
        ("GetIndicatorSystem", READERS),
        ("ListIndicatorSystems", READERS),
        ("ListSchedules", READERS),
        ("OpenEvaluation", &[Drb, Finance]),
        ("RecordScores", &[Drb, Finance]),
        ("PublishEvaluation", &[Drb]),
        ("ListPublishedEvaluations", READERS),
        ("ProposeElimination", &[Drb]),
        ("DecideElimination", &[Leader]),
        ("EliminateApplication", &[Drb]),
        ("RecordSharingViolation", &[Drb]),
        ("RecordSharingRectified", &[Drb]),
        ("StopApplication", &[Unit, Drb]),
        ("RecordAssessment", &[Unit, Drb]),
        ("ListAssessments", READERS),
        ("UploadAuditReport", &[Unit]),
        ("DownloadAuditReport", READERS),
    ];
    let queries: &[(&str, &[Role])] = &[("SearchCatalogue", READERS_AND_SERVICES), ("GetLatestEvaluation", READERS_AND_SERVICES)];
    let mut t = RoleTable::new();
    for (method, roles) in main {
        t = t.allow(MAIN, method, roles);
    }
    for (method, roles) in queries {
        t = t.allow(QUERIES, method, roles);
    }
    egov_platform::ops::allow_platform_services(t)
}
