//! Time (时钟): every rule reads an injected [`Clock`]; nothing else calls `now()`.
//!
//! Local and test runs use [`AdjustableClock`], whose offset the Operations service moves forward
//! (and broadcasts so every running service moves together). Production config refuses an
//! adjustable clock (see `config`), so production time is the system's.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicI64, Ordering},
};

use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::error::AppError;

/// The district's time zone, Asia/Shanghai: UTC+8 all year (no daylight saving since 1991).
pub const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
    /// Seconds this clock runs ahead of the system's.
    fn offset_seconds(&self) -> i64 {
        0
    }
    fn adjustable(&self) -> bool {
        false
    }
    /// Moves the clock so that it runs `offset_seconds` ahead of the system's, never backwards.
    fn set_offset(&self, _offset_seconds: i64) -> Result<i64, AppError> {
        Err(AppError::PermissionDenied("this service's clock cannot be moved (production profile: the clock is the system's)".into()))
    }
    /// Today's civil date in Asia/Shanghai.
    fn today(&self) -> Date {
        civil_date(self.now())
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// System time plus an offset that only moves forward (local and test profiles).
#[derive(Debug, Default)]
pub struct AdjustableClock {
    offset: AtomicI64,
}

impl AdjustableClock {
    pub fn new(offset_seconds: i64) -> AdjustableClock {
        AdjustableClock { offset: AtomicI64::new(offset_seconds.max(0)) }
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + Duration::seconds(self.offset.load(Ordering::SeqCst))
    }
    fn offset_seconds(&self) -> i64 {
        self.offset.load(Ordering::SeqCst)
    }
    fn adjustable(&self) -> bool {
        true
    }
    fn set_offset(&self, offset_seconds: i64) -> Result<i64, AppError> {
        Ok(self.offset.fetch_max(offset_seconds, Ordering::SeqCst).max(offset_seconds))
    }
}

/// A clock that stands still until told to move: for unit tests of rules.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    pub fn at(now: OffsetDateTime) -> ManualClock {
        ManualClock { now: Mutex::new(now) }
    }
    pub fn set(&self, now: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = now;
    }
    pub fn advance(&self, by: Duration) {
        let mut n = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *n += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The civil date of an instant in Asia/Shanghai.
pub fn civil_date(instant: OffsetDateTime) -> Date {
    instant.to_offset(SHANGHAI).date()
}

/// 00:00:00 of `date` in Asia/Shanghai.
pub fn start_of_day(date: Date) -> OffsetDateTime {
    PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_offset(SHANGHAI)
}

/// A wall-clock time in Asia/Shanghai.
pub fn shanghai(date: Date, time: Time) -> OffsetDateTime {
    PrimitiveDateTime::new(date, time).assume_offset(SHANGHAI)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn shanghai_dates() {
        // 2026-09-30 16:00 UTC is already 10-01 in Shanghai.
        assert_eq!(civil_date(datetime!(2026-09-30 15:59:59 UTC)), date!(2026 - 09 - 30));
        assert_eq!(civil_date(datetime!(2026-09-30 16:00:00 UTC)), date!(2026 - 10 - 01));
        assert_eq!(start_of_day(date!(2026 - 10 - 01)), datetime!(2026-09-30 16:00:00 UTC));
    }

    #[test]
    fn adjustable_only_forward() {
        let c = AdjustableClock::new(0);
        assert_eq!(c.set_offset(100).unwrap(), 100);
        assert_eq!(c.set_offset(50).unwrap(), 100);
        assert_eq!(c.offset_seconds(), 100);
        assert!(SystemClock.set_offset(5).is_err());
    }
}
