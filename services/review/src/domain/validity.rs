//! R-R6 approval validity for outside funding (立项文件有效期): which approvals carry a time
//! limit, their last valid day, when the cancellation timer fires, and recording that the
//! funds were secured in time.
//!
//! The Measures (第六章): "非区级财政性资金投资建设的项目立项文件有效期两年，两年内争取到相关资金可
//! 开展项目建设，两年内未争取到相关资金的取消相应立项指标。" The same chapter defines such projects
//! in the fast-track sentence as "非区级财政性资金投资（全额由上级专项转移支付、社会资金）建设的项目":
//! funded **wholly** by superior special transfer payments or social capital.
//!
//! Decisions, so that every caller reads the text the same way:
//! - **Who has a limit.** Only `SUPERIOR_TRANSFER` and `SOCIAL_CAPITAL` (intake's funding-source
//!   names). `DISTRICT_FISCAL` has none, and neither has `MIXED`: a project funded partly by
//!   district money is district-fiscally funded in part, so it is not "wholly" outside funding
//!   (the same reading intake applies to the R-R5 fast-track ground).
//! - **The last valid day.** Counted the Civil Code's way, like every period of the Measures
//!   ([`egov_platform::period`], arts. 200-204): the issue day is not counted, and two years end
//!   at the end of the corresponding day, the second anniversary; where that month has no such
//!   day (02-29), on the month's last day. Issued 2026-03-15 → valid through 2028-03-15 →
//!   cancelled from 2028-03-16, 00:00 Asia/Shanghai; issued 2024-02-29 → valid through
//!   2026-02-28. Funds secured on the anniversary itself are in time; the day after they are not.

use egov_platform::{
    error::{FieldViolation, Refusal},
    period::{self, Period},
    policy::Policy,
};
use time::{Date, OffsetDateTime};

/// Timer: the approval's validity has lapsed (key: the case id).
pub const APPROVAL_VALIDITY: &str = "review.approval.validity";

/// The funding sources (intake's names) whose approval is valid for a limited time: money wholly
/// from outside district fiscal funds.
pub const LIMITED_FUNDING_SOURCES: [&str; 2] = ["SUPERIOR_TRANSFER", "SOCIAL_CAPITAL"];

/// The validity period of the policy (`external_funding_validity_years`).
fn validity(policy: &Policy) -> Period {
    Period::Years(policy.external_funding_validity_years)
}

fn limited(funding_source: &str) -> bool {
    LIMITED_FUNDING_SOURCES.contains(&funding_source)
}

/// The last day on which an approval issued on `issued_on` is valid, or `None` when it has no
/// limit (district fiscal money, in whole or in part; see the module documentation). Funding
/// source names other than intake's four are for the boundary to reject; here they carry no
/// limit, like district funding.
pub fn valid_until(issued_on: Date, funding_source: &str, policy: &Policy) -> Option<Date> {
    limited(funding_source).then(|| period::last_day(issued_on, validity(policy)))
}

/// When the cancellation timer fires: 00:00 Asia/Shanghai of the day after the last valid day,
/// or `None` when the approval has no limit.
pub fn lapses_at(issued_on: Date, funding_source: &str, policy: &Policy) -> Option<OffsetDateTime> {
    limited(funding_source).then(|| period::lapses_at(issued_on, validity(policy)))
}

/// Whether the approval has expired on `today` (Asia/Shanghai civil date): from the day after
/// its last valid day.
pub fn expired(valid_until: Date, today: Date) -> bool {
    today > valid_until
}

/// Records that a time-limited approval's funds were secured (争取到相关资金), which stops the
/// cancellation. Refused under R-R6 when the approval has no limit or has already expired (on
/// `today`, the last valid day itself is still in time); the evidence is a field error.
pub fn record_funds_secured(valid_until: Option<Date>, today: Date, evidence_document_ids: &[String]) -> Result<(), Refusal> {
    let Some(until) = valid_until else {
        return Err(Refusal::rule(
            "R-R6",
            "funding",
            "立项文件有效期 / approval validity: this approval is funded (in whole or in part) by district fiscal money and has \
             no validity limit, so there are no outside funds to record as secured",
        ));
    };
    if expired(until, today) {
        return Err(Refusal::rule(
            "R-R6",
            "funding",
            format!(
                "立项文件有效期 / approval validity: the approval was valid through {until}; funds not secured within it \
                 cancel the approval (两年内未争取到相关资金的取消相应立项指标)"
            ),
        ));
    }
    if evidence_document_ids.is_empty() {
        return Err(Refusal::field("evidence_document_ids", "upload the documents that show the funds were secured (资金落实证明)"));
    }
    let blank: Vec<_> = evidence_document_ids
        .iter()
        .enumerate()
        .filter(|(_, id)| id.trim().is_empty())
        .map(|(i, _)| FieldViolation::new(format!("evidence_document_ids[{i}]"), "must not be empty"))
        .collect();
    if !blank.is_empty() {
        return Err(Refusal::Fields(blank));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use egov_platform::policy::PolicyBook;
    use time::macros::{date, datetime};

    use super::*;

    fn policy() -> Arc<Policy> {
        PolicyBook::load("").unwrap().in_force(date!(2026 - 06 - 01))
    }

    fn evidence() -> Vec<String> {
        vec!["DOC-1".to_string()]
    }

    fn fields(e: Refusal) -> Vec<String> {
        e.fields().into_iter().map(String::from).collect()
    }

    #[test]
    fn outside_funding_valid_through_the_second_anniversary() {
        let p = policy();
        assert_eq!(p.external_funding_validity_years, 2);
        for source in LIMITED_FUNDING_SOURCES {
            assert_eq!(valid_until(date!(2026 - 03 - 15), source, &p), Some(date!(2028 - 03 - 15)), "{source}");
        }
    }

    #[test]
    fn district_fiscal_and_mixed_have_no_limit() {
        let p = policy();
        for source in ["DISTRICT_FISCAL", "MIXED", "", "superior_transfer"] {
            assert_eq!(valid_until(date!(2026 - 03 - 15), source, &p), None, "{source}");
            assert_eq!(lapses_at(date!(2026 - 03 - 15), source, &p), None, "{source}");
        }
    }

    #[test]
    fn valid_on_the_anniversary_expired_the_day_after() {
        let p = policy();
        let until = valid_until(date!(2026 - 03 - 15), "SOCIAL_CAPITAL", &p).unwrap();
        assert!(!expired(until, date!(2026 - 03 - 15)));
        assert!(!expired(until, date!(2028 - 03 - 14)));
        assert!(!expired(until, date!(2028 - 03 - 15)), "the anniversary itself is still valid");
        assert!(expired(until, date!(2028 - 03 - 16)), "expired the day after the anniversary");
        let due = lapses_at(date!(2026 - 03 - 15), "SOCIAL_CAPITAL", &p).unwrap();
        assert_eq!(due, datetime!(2028-03-16 00:00 +8));
        assert_eq!(due, datetime!(2028-03-15 16:00 UTC));
    }

    #[test]
    fn leap_days_end_on_the_month_end() {
        let p = policy();
        for (issued, last) in [
            (date!(2024 - 02 - 29), date!(2026 - 02 - 28)),
            (date!(2024 - 02 - 28), date!(2026 - 02 - 28)),
            (date!(2024 - 03 - 01), date!(2026 - 03 - 01)),
            (date!(2022 - 03 - 01), date!(2024 - 03 - 01)),
            (date!(2026 - 02 - 28), date!(2028 - 02 - 28)),
            (date!(2026 - 01 - 01), date!(2028 - 01 - 01)),
        ] {
            assert_eq!(valid_until(issued, "SUPERIOR_TRANSFER", &p), Some(last), "issued {issued}");
        }
        assert!(expired(date!(2026 - 02 - 28), date!(2026 - 03 - 01)));
        assert_eq!(lapses_at(date!(2024 - 02 - 29), "SUPERIOR_TRANSFER", &p), Some(datetime!(2026-03-01 00:00 +8)));
    }

    #[test]
    fn huge_validity_saturates() {
        let mut p = (*policy()).clone();
        p.external_funding_validity_years = u32::MAX;
        assert_eq!(valid_until(date!(2026 - 03 - 15), "SOCIAL_CAPITAL", &p), Some(Date::MAX));
    }

    #[test]
    fn funds_secured_on_the_anniversary_accepted_the_day_after_refused() {
        let until = valid_until(date!(2026 - 03 - 15), "SUPERIOR_TRANSFER", &policy());
        assert!(record_funds_secured(until, date!(2026 - 03 - 15), &evidence()).is_ok());
        assert!(record_funds_secured(until, date!(2028 - 03 - 14), &evidence()).is_ok());
        assert!(record_funds_secured(until, date!(2028 - 03 - 15), &evidence()).is_ok(), "the anniversary is in time");
        let e = record_funds_secured(until, date!(2028 - 03 - 16), &evidence()).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-R6"]);
        assert!(e.to_string().contains("2028-03-15"), "{e}");
    }

    #[test]
    fn funds_secured_refused_without_a_limit() {
        let until = valid_until(date!(2026 - 03 - 15), "DISTRICT_FISCAL", &policy());
        assert_eq!(record_funds_secured(until, date!(2026 - 04 - 01), &evidence()).unwrap_err().rule_ids(), vec!["R-R6"]);
    }

    #[test]
    fn funds_secured_needs_evidence() {
        let until = Some(date!(2028 - 03 - 15));
        assert_eq!(fields(record_funds_secured(until, date!(2027 - 01 - 01), &[]).unwrap_err()), vec!["evidence_document_ids"]);
        assert_eq!(
            fields(record_funds_secured(until, date!(2027 - 01 - 01), &["DOC-1".into(), " ".into()]).unwrap_err()),
            vec!["evidence_document_ids[1]"]
        );
    }
}
