//! Latency histograms (microseconds) and the throughput of a timed run.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies from 1 µs to 10 min, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).unwrap_or_else(|e| panic!("histogram bounds are valid: {e}"))
}

pub fn record(h: &mut Histogram<u64>, d: Duration) {
    h.saturating_record(u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1));
}

/// What one timed run of `count` operations gave.
#[derive(Debug, Clone, Serialize)]
pub struct RunStats {
    pub count: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl RunStats {
    pub fn new(count: u64, elapsed: Duration, h: &Histogram<u64>) -> RunStats {
        let ms = |us: u64| us as f64 / 1000.0;
        let seconds = elapsed.as_secs_f64();
        RunStats {
            count,
            seconds,
            per_second: rate(count, elapsed),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }
}

/// Operations per second.
pub fn rate(count: u64, elapsed: Duration) -> f64 {
    let s = elapsed.as_secs_f64();
    if s > 0.0 { count as f64 / s } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_rate() {
        let mut h = histogram();
        for ms in 1..=100u64 {
            record(&mut h, Duration::from_millis(ms));
        }
        let s = RunStats::new(100, Duration::from_secs(2), &h);
        assert_eq!(s.per_second, 50.0);
        assert!((s.p50_ms - 50.0).abs() < 0.1, "{}", s.p50_ms);
        assert!((s.p99_ms - 99.0).abs() < 0.1, "{}", s.p99_ms);
        assert_eq!(rate(10, Duration::ZERO), 0.0);
    }
}
