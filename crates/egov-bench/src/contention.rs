//! What a run waits on and competes with: lock waits sampled from `pg_stat_activity`, and
//! threads that keep CPUs busy while a measurement runs.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use serde::Serialize;
use sqlx::PgPool;
use tokio::task::JoinHandle;

/// Lock waits seen in the samples: backends waiting on a heavyweight lock (`wait_event_type =
/// 'Lock'`) while running a statement on the audit tables, and on anything else.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LockWaits {
    pub samples: u64,
    pub sample_interval_ms: u64,
    /// Backend-samples waiting on a lock in a statement on `egov_audit*` (the audit path).
    pub audit_path: u64,
    /// Of those, waits on an advisory lock.
    pub audit_path_advisory: u64,
    /// Backend-samples waiting on a lock in any other statement.
    pub other: u64,
    /// The waiting statements seen most often (first 100 characters), with their counts.
    pub top: Vec<(String, u64)>,
}

/// Samples `pg_stat_activity` of the databases named `datnames` every `interval` until stopped.
pub struct LockSampler {
    stop: Arc<AtomicBool>,
    task: JoinHandle<anyhow::Result<LockWaits>>,
}

impl LockSampler {
    pub fn start(pool: PgPool, datnames: Vec<String>, interval: Duration) -> LockSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let mut w = LockWaits { sample_interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX), ..Default::default() };
                let mut top = std::collections::HashMap::<String, u64>::new();
                while !stop.load(Ordering::Relaxed) {
                    let rows: Vec<(String, String)> = sqlx::query_as(
                        "SELECT coalesce(wait_event, ''), left(query, 100) FROM pg_stat_activity
                         WHERE datname = ANY($1) AND state = 'active' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
                    )
                    .bind(&datnames)
                    .fetch_all(&pool)
                    .await?;
                    w.samples += 1;
                    for (event, query) in rows {
                        if query.contains("egov_audit") {
                            w.audit_path += 1;
                            if event == "advisory" {
                                w.audit_path_advisory += 1;
                            }
                        } else {
                            w.other += 1;
                        }
                        *top.entry(query).or_default() += 1;
                    }
                    tokio::time::sleep(interval).await;
                }
                let mut top: Vec<(String, u64)> = top.into_iter().collect();
                top.sort_by_key(|b| std::cmp::Reverse(b.1));
                top.truncate(5);
                w.top = top;
                Ok(w)
            }
        });
        LockSampler { stop, task }
    }

    pub async fn finish(self) -> anyhow::Result<LockWaits> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await?
    }
}

/// `n` threads spinning until dropped: the CPU busy with something else during a measurement.
pub struct Burners {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<u64>>,
}

impl Burners {
    pub fn start(n: usize) -> Burners {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x: u64 = 1;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..10_000 {
                            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        }
                    }
                    x
                })
            })
            .collect();
        Burners { stop, threads }
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
