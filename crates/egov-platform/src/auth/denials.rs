//! Refused calls, recorded (等保 security audit): subject, role, method, code, reason and peer
//! address of every refused authentication and authorisation, in `egov_denied_calls`, readable
//! by AUDIT through `AuditTrail.ListDeniedCalls`.
//!
//! A flood cannot fill the disk: at most `per_minute` rows are written in any minute of the
//! service's own time; the refusals beyond are counted, and the next row written carries that
//! count (`suppressed_before`). Writing never delays the refusal: it runs on its own task, and a
//! failure to write is logged, not returned.

use std::sync::{Arc, Mutex};

use sqlx::PgPool;
use std::time::{Duration, Instant};

/// One refused call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub subject: String,
    pub role: String,
    pub method: String,
    pub code: String,
    pub reason: String,
    pub peer: String,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    written: u32,
    suppressed: i64,
}

/// The recorder shared by every connection of a service.
#[derive(Debug, Clone)]
pub struct DenialLog {
    pool: PgPool,
    per_minute: u32,
    window_len: Duration,
    window: Arc<Mutex<Window>>,
}

impl DenialLog {
    pub fn new(pool: PgPool, per_minute: u32) -> DenialLog {
        DenialLog {
            pool,
            per_minute,
            window_len: Duration::from_secs(60),
            window: Arc::new(Mutex::new(Window { started: Instant::now(), written: 0, suppressed: 0 })),
        }
    }

    /// Whether this refusal is written, and how many were left out before it.
    fn admit(&self) -> Option<i64> {
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        if w.started.elapsed() >= self.window_len {
            w.started = Instant::now();
            w.written = 0;
        }
        if w.written >= self.per_minute {
            w.suppressed += 1;
            return None;
        }
        w.written += 1;
        Some(std::mem::take(&mut w.suppressed))
    }

    /// Records `d` on a task of its own (rate-limited).
    pub fn record(&self, d: Denial) {
        let Some(suppressed_before) = self.admit() else {
            return;
        };
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let written = sqlx::query(
                "INSERT INTO egov_denied_calls (subject, role, method, code, reason, peer, suppressed_before) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&d.subject)
            .bind(&d.role)
            .bind(&d.method)
            .bind(&d.code)
            .bind(&d.reason)
            .bind(&d.peer)
            .bind(suppressed_before)
            .execute(&pool)
            .await;
            if let Err(e) = written {
                tracing::warn!(error = %e, method = %d.method, "a refused call could not be recorded");
            }
        });
    }
}

/// A stored refusal.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeniedRow {
    pub seq: i64,
    pub at: time::OffsetDateTime,
    pub subject: String,
    pub role: String,
    pub method: String,
    pub code: String,
    pub reason: String,
    pub peer: String,
    pub suppressed_before: i64,
}

/// Refusals after `after` (a seq), oldest first, at most `limit`.
pub async fn list(pool: &PgPool, after: i64, limit: i64) -> Result<Vec<DeniedRow>, sqlx::Error> {
    sqlx::query_as::<_, DeniedRow>(
        "SELECT seq, at, subject, role, method, code, reason, peer, suppressed_before FROM egov_denied_calls \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_flood_is_capped_per_window_and_the_next_row_counts_what_was_left_out() {
        let pool = sqlx::postgres::PgPoolOptions::new().connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        let mut log = DenialLog::new(pool, 2);
        log.window_len = Duration::from_millis(50);
        assert_eq!([log.admit(), log.admit(), log.admit(), log.admit(), log.admit()], [Some(0), Some(0), None, None, None]);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(log.admit(), Some(3), "the first row of the next window counts the three left out");
        assert_eq!(log.admit(), Some(0));
        assert_eq!(log.admit(), None);
    }
}
