//! R-P10 revocation and termination (项目撤销/终止): on one of the recognised grounds the unit
//! states the reason, the progress and the payments, with its party committee's resolution and
//! the district leader's approval, and files with DRB; the project ends.

use egov_platform::error::{Refusal, RuleViolation};

use crate::domain::TerminationGround;

/// What the unit files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminationFiling {
    pub ground: Option<TerminationGround>,
    pub reason: String,
    pub progress: String,
    pub payments: String,
    pub party_committee_resolution: String,
    pub leader_approval: String,
}

/// 撤销 before a contract is filed, 终止 after.
pub fn kind(contract_filed: bool) -> &'static str {
    if contract_filed { "TERMINATED" } else { "REVOKED" }
}

/// Every missing item of an R-P10 filing, listed together.
pub fn check(f: &TerminationFiling) -> Result<(), Refusal> {
    let mut missing = Vec::new();
    if f.ground.is_none() {
        missing.push(RuleViolation::new(
            "R-P10",
            "ground",
            "撤销/终止 的情形: FORCE_MAJEURE, MAJOR_CONTENT_CHANGE, FAILED_IMPLEMENTATION, SERIOUS_DELAY_OR_LOSS, \
             FUNCTION_TRANSFER_OR_POLICY_CHANGE or OTHER",
        ));
    }
    let items: [(&str, &str, &str); 5] = [
        ("reason", &f.reason, "原因 / the reason"),
        ("progress", &f.progress, "项目进展情况 / the project's progress"),
        ("payments", &f.payments, "资金支付情况 / the payments made"),
        ("party_committee_resolution", &f.party_committee_resolution, "党委（党组）会议决议 / the party committee's resolution"),
        ("leader_approval", &f.leader_approval, "区领导审批 / the district leader's approval"),
    ];
    for (field, value, what) in items {
        if value.trim().is_empty() {
            missing.push(RuleViolation::new("R-P10", field, format!("missing: {what}")));
        }
    }
    if f.ground == Some(TerminationGround::Other) && f.reason.trim().chars().count() < 10 {
        missing.push(RuleViolation::new("R-P10", "reason", "其他原因: say which recognised reason applies (at least 10 characters)"));
    }
    if missing.is_empty() { Ok(()) } else { Err(Refusal::Rules(missing)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> TerminationFiling {
        TerminationFiling {
            ground: Some(TerminationGround::FunctionTransferOrPolicyChange),
            reason: "职能划转至市级部门".into(),
            progress: "需求调研完成，未开发".into(),
            payments: "已支付合同款30%".into(),
            party_committee_resolution: "党组会议纪要〔2026〕12号".into(),
            leader_approval: "区领导批示 2026-11-20".into(),
        }
    }

    #[test]
    fn a_complete_filing_passes() {
        check(&complete()).unwrap();
        assert_eq!(kind(false), "REVOKED");
        assert_eq!(kind(true), "TERMINATED");
    }

    #[test]
    fn every_missing_item_is_listed() {
        let empty = TerminationFiling {
            ground: None,
            reason: " ".into(),
            progress: String::new(),
            payments: String::new(),
            party_committee_resolution: String::new(),
            leader_approval: String::new(),
        };
        let e = check(&empty).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-P10"; 6]);
        let Refusal::Rules(v) = e else { panic!("not a rule error") };
        let subjects: Vec<_> = v.iter().map(|r| r.subject.as_str()).collect();
        assert_eq!(subjects, ["ground", "reason", "progress", "payments", "party_committee_resolution", "leader_approval"]);
    }

    #[test]
    fn only_the_leaders_approval_missing() {
        let mut f = complete();
        f.leader_approval = String::new();
        let Refusal::Rules(v) = check(&f).unwrap_err() else { panic!("not a rule error") };
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].subject, "leader_approval");
    }

    #[test]
    fn other_ground_needs_a_reason_that_says_which() {
        let mut f = complete();
        f.ground = Some(TerminationGround::Other);
        f.reason = "其他".into();
        assert_eq!(check(&f).unwrap_err().rule_ids(), vec!["R-P10"]);
        f.reason = "上级统筹建设同类系统，本项目不再建设".into();
        check(&f).unwrap();
    }
}
