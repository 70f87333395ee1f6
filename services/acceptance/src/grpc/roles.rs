//! Who may call which acceptance method (R-X2). Unit isolation (a unit acts on its own projects)
//! is checked by the use cases.

use egov_platform::{
    auth::{Role, RoleTable},
    ops::allow_platform_services,
};

pub const SERVICE: &str = "egov.acceptance.v1.Acceptance";

/// Roles that read acceptance cases and materials.
const READERS: &[Role] =
    &[Role::Unit, Role::Drb, Role::Finance, Role::Drc, Role::Cac, Role::Xinchuang, Role::Leader, Role::Audit, Role::Expert, Role::Service];

pub fn table() -> RoleTable {
    use Role::*;
    let t = RoleTable::new()
        .allow(SERVICE, "GetCase", READERS)
        .allow(SERVICE, "ListCases", READERS)
        .allow(SERVICE, "ListMaterials", READERS)
        .allow(SERVICE, "DownloadMaterial", READERS)
        .allow(SERVICE, "UploadMaterial", &[Unit, Drb])
        .allow(SERVICE, "RecordInitialAcceptance", &[Unit])
        .allow(SERVICE, "DepositTrialReport", &[Province, Drb])
        .allow(SERVICE, "ApplyForAcceptance", &[Unit])
        .allow(SERVICE, "ReviewApplication", &[Drb])
        .allow(SERVICE, "RecordAcceptance", &[Drb, Unit]);
    allow_platform_services(t)
}
