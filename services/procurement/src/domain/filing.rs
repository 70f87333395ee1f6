//! R-P5 filing within working days (备案时限): which documents are filed, the deadline counted on
//! the official working-day calendar, and whether a filing was late.
//!
//! The Measures (第八章): "应将采购文件、合同文件、初验材料、终验材料等相关文件生成后的5个工作日内将文件
//! 电子档通过项目管理系统报区数据资源局备案". The number of days is `Policy::filing_working_days`.
//!
//! Decisions:
//! - **Deadline.** The `filing_working_days`-th working day after the day the document was
//!   produced, that day not counted ([`egov_calendar::Calendar::add_working_days`]), on the
//!   official calendar: statutory holidays are not working days, weekend days worked in exchange
//!   (调休上班) are. Filing on the deadline day, or on any day before it, including the production
//!   day itself, is on time.
//! - **Late is accepted.** A filing after the deadline (even on a non-working day right after it)
//!   is late: it is accepted and recorded as late, never refused.
//! - **Provisional years.** When a year involved has no official schedule loaded, the calendar
//!   counts weekends only and says so; the assessment carries those years in
//!   [`FilingTimeliness::provisional_years`] and must be re-assessed once the year is loaded.

use egov_calendar::{Calendar, CalendarError, FilingAssessment};
use egov_platform::{error::Refusal, named_enum, policy::Policy};
use time::Date;

named_enum!(
    /// What is filed with DRB under R-P5.
    pub enum FilingKind {
        /// 采购文件.
        ProcurementDocuments = "PROCUREMENT_DOCUMENTS",
        /// 合同文件.
        Contract = "CONTRACT",
        /// 初验材料.
        InitialAcceptance = "INITIAL_ACCEPTANCE",
        /// 终验（验收）材料.
        FinalAcceptance = "FINAL_ACCEPTANCE",
    }
);

#[cfg_attr(not(test), expect(dead_code, reason = "acceptance files its materials under R-P5 by these names once it is built"))]
impl FilingKind {
    /// The Measures' name for the filed documents.
    pub fn chinese_name(self) -> &'static str {
        match self {
            FilingKind::ProcurementDocuments => "采购文件",
            FilingKind::Contract => "合同文件",
            FilingKind::InitialAcceptance => "初验材料",
            FilingKind::FinalAcceptance => "验收材料",
        }
    }
}

/// How a filing stands against its R-P5 deadline: the calendar's one assessment
/// ([`Calendar::assess_filing`]), stored with the case under this name.
pub type FilingTimeliness = FilingAssessment;

/// Assesses a filing of a document produced on `produced_on` and filed on `filed_on` (both
/// Asia/Shanghai civil dates) against the R-P5 deadline, on the calendar.
///
/// A late filing is `Ok` with `late = true`. Field errors: `filed_on` before `produced_on`, and a
/// date the calendar cannot answer for (outside its supported range). A provisional answer
/// (see [`FilingAssessment::provisional_years`]) must be re-assessed when its years are loaded.
pub fn assess(calendar: &Calendar, produced_on: Date, filed_on: Date, policy: &Policy) -> Result<FilingTimeliness, Refusal> {
    if filed_on < produced_on {
        return Err(Refusal::field("filed_on", format!("{filed_on} is before the document was produced ({produced_on})")));
    }
    let n = policy.filing_working_days;
    // Which date the calendar could not count from: the production day's deadline, or the filing.
    calendar.add_working_days(produced_on, n).map_err(|e| calendar_field("produced_on", &e))?;
    calendar.assess_filing(produced_on, n, filed_on).map_err(|e| calendar_field("filed_on", &e))
}

fn calendar_field(field: &str, e: &CalendarError) -> Refusal {
    Refusal::field(field, format!("the working-day calendar cannot count from this date: {e}"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use egov_platform::policy::PolicyBook;
    use time::macros::date;

    use super::*;

    fn policy() -> Arc<Policy> {
        PolicyBook::load("").unwrap().in_force(date!(2026 - 06 - 01))
    }

    fn calendar() -> Calendar {
        Calendar::official().unwrap()
    }

    fn field(e: &Refusal) -> &str {
        match e {
            Refusal::Fields(v) => &v[0].field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn national_day_2025_fifth_working_day_on_time_sixth_late() {
        let (c, p) = (calendar(), policy());
        assert_eq!(p.filing_working_days, 5);
        let produced = date!(2025 - 09 - 26);
        // Working days after Friday 09-26: Sunday 09-28 (worked), 09-29, 09-30, [10-01..=10-08
        // holiday], 10-09, 10-10; then Saturday 10-11 (worked).
        let fifth = c.add_working_days(produced, 5).unwrap().value;
        let sixth = c.add_working_days(produced, 6).unwrap().value;
        assert_eq!(fifth, date!(2025 - 10 - 10));
        assert_eq!(sixth, date!(2025 - 10 - 11));

        let on_time = assess(&c, produced, fifth, &p).unwrap();
        assert_eq!(
            on_time,
            FilingTimeliness { deadline: date!(2025 - 10 - 10), late: false, working_days_taken: 5, provisional_years: vec![] }
        );
        let late = assess(&c, produced, sixth, &p).unwrap();
        assert_eq!(
            late,
            FilingTimeliness { deadline: date!(2025 - 10 - 10), late: true, working_days_taken: 6, provisional_years: vec![] }
        );
        // Inside the holiday: three working days have passed (09-28, 09-29, 09-30).
        let mid = assess(&c, produced, date!(2025 - 10 - 05), &p).unwrap();
        assert_eq!((mid.late, mid.working_days_taken), (false, 3));
        // The worked Sunday counts.
        assert_eq!(assess(&c, produced, date!(2025 - 09 - 28), &p).unwrap().working_days_taken, 1);
    }

    #[test]
    fn spring_festival_2026_fifth_working_day_on_time_sixth_late() {
        let (c, p) = (calendar(), policy());
        let produced = date!(2026 - 02 - 13);
        // Saturday 02-14 worked, 02-15..=02-23 holiday, 02-24..=02-27, Saturday 02-28 worked.
        assert_eq!(c.add_working_days(produced, 5).unwrap().value, date!(2026 - 02 - 27));
        assert_eq!(c.add_working_days(produced, 6).unwrap().value, date!(2026 - 02 - 28));

        let on_time = assess(&c, produced, date!(2026 - 02 - 27), &p).unwrap();
        assert_eq!((on_time.deadline, on_time.late, on_time.working_days_taken), (date!(2026 - 02 - 27), false, 5));
        assert!(on_time.provisional_years.is_empty());
        let late = assess(&c, produced, date!(2026 - 02 - 28), &p).unwrap();
        assert_eq!((late.deadline, late.late, late.working_days_taken), (date!(2026 - 02 - 27), true, 6));
        // Late on a non-working day right after the deadline.
        let sunday = assess(&c, produced, date!(2026 - 03 - 01), &p).unwrap();
        assert_eq!((sunday.late, sunday.working_days_taken), (true, 6));
    }

    #[test]
    fn filed_on_the_production_day_is_on_time() {
        let (c, p) = (calendar(), policy());
        for day in [date!(2025 - 09 - 26), date!(2025 - 10 - 03), date!(2026 - 02 - 14)] {
            let t = assess(&c, day, day, &p).unwrap();
            assert!(!t.late, "{day}");
            assert_eq!(t.working_days_taken, 0, "{day}");
        }
    }

    #[test]
    fn filed_before_production_is_a_field_error() {
        let e = assess(&calendar(), date!(2026 - 03 - 10), date!(2026 - 03 - 09), &policy()).unwrap_err();
        assert_eq!(field(&e), "filed_on");
    }

    #[test]
    fn calendar_errors_are_field_errors() {
        let (c, p) = (calendar(), policy());
        assert_eq!(field(&assess(&c, date!(1899 - 12 - 30), date!(1900 - 01 - 02), &p).unwrap_err()), "produced_on");
        // The deadline would fall after the calendar's last supported day.
        assert_eq!(field(&assess(&c, date!(2200 - 12 - 30), date!(2200 - 12 - 31), &p).unwrap_err()), "produced_on");
        assert_eq!(field(&assess(&c, date!(2200 - 12 - 01), date!(2201 - 01 - 05), &p).unwrap_err()), "filed_on");
    }

    #[test]
    fn a_2027_date_is_provisional() {
        let (c, p) = (calendar(), policy());
        // Monday 2027-01-04 + 5 working days, weekends only: Monday 2027-01-11.
        let t = assess(&c, date!(2027 - 01 - 04), date!(2027 - 01 - 11), &p).unwrap();
        assert_eq!(
            t,
            FilingTimeliness { deadline: date!(2027 - 01 - 11), late: false, working_days_taken: 5, provisional_years: vec![2027] }
        );
        assert!(!t.provisional_years.is_empty());
        // Produced in late December 2026: 2027 may yet set those days (元旦), so provisional too.
        let t = assess(&c, date!(2026 - 12 - 28), date!(2026 - 12 - 29), &p).unwrap();
        assert_eq!(t.provisional_years, vec![2027]);
        // Loading 2027 settles it.
        let loaded = c.with_year_file("cn-2027.txt", "year 2027\nholiday 2027-01-01 元旦\n").unwrap();
        let t = assess(&loaded, date!(2027 - 01 - 04), date!(2027 - 01 - 11), &p).unwrap();
        assert!(t.provisional_years.is_empty());
    }

    #[test]
    fn deadline_follows_the_policy() {
        let mut p = (*policy()).clone();
        p.filing_working_days = 3;
        let t = assess(&calendar(), date!(2025 - 09 - 26), date!(2025 - 10 - 09), &p).unwrap();
        assert_eq!((t.deadline, t.late), (date!(2025 - 09 - 30), true));
    }

    #[test]
    fn filing_kinds() {
        assert_eq!(FilingKind::ALL.len(), 4);
        for kind in FilingKind::ALL {
            assert_eq!(FilingKind::parse(kind.as_str()), Some(*kind));
            assert_eq!(serde_json::to_string(kind).unwrap(), format!("\"{kind}\""));
        }
        assert_eq!(FilingKind::Contract.as_str(), "CONTRACT");
        assert_eq!(FilingKind::InitialAcceptance.chinese_name(), "初验材料");
        assert_eq!(serde_json::from_str::<FilingKind>("\"FINAL_ACCEPTANCE\"").unwrap(), FilingKind::FinalAcceptance);
    }
}
