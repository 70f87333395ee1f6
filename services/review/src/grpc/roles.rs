//! Who may call which review method (R-X2). Methods absent here are refused for everyone.

use egov_platform::auth::{Role, Role::*, RoleTable};

const SERVICE: &str = "egov.review.v1.Review";

/// Reviewers and readers (UNIT sees its own cases only, enforced per case).
/// SERVICE: the suite's other services (acceptance reads the approval and the function modules, R-A3).
const READERS: &[Role] = &[Unit, Drb, Finance, Drc, Cac, Xinchuang, Grassroots, Leader, Audit, Service];
const PARTICIPANTS: &[Role] = &[Drc, Finance, Cac, Xinchuang, Grassroots];

pub fn table() -> RoleTable {
    let m: &[(&str, &[Role])] = &[
        ("GetCase", READERS),
        ("ListCases", READERS),
        ("ListTasks", &[Drb, Finance, Drc, Cac, Xinchuang, Grassroots, Audit]),
        ("ClaimTask", &[Drb, Finance, Drc, Cac, Xinchuang, Grassroots]),
        ("GetScoringSheet", READERS),
        ("SubmitPreliminaryOpinion", PARTICIPANTS),
        ("DecidePreliminary", &[Drb]),
        ("ReturnForRevision", &[Drb]),
        ("ResubmitCase", &[Unit]),
        ("WithdrawCase", &[Unit]),
        ("IssueApproval", &[Drb]),
        ("GetApproval", READERS),
        ("SubmitRecheckOpinion", &[Drb, Drc, Finance]),
        ("ConcludeRecheck", &[Drb]),
        ("RecordJointMeeting", &[Drb]),
        ("RecordFundsSecured", &[Finance, Drb]),
        ("RequestChange", &[Unit]),
        ("DecideChange", &[Drb]),
    ];
    let mut t = RoleTable::new();
    for (method, roles) in m {
        t = t.allow(SERVICE, method, roles);
    }
    egov_platform::ops::allow_platform_services(super::expert::allow(t))
}
