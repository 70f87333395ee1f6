//! Audit trail (R-X3): one append-only row per state change, chained with SM3 so that any edit,
//! deletion or reordering of stored rows is found by [`verify`].
//!
//! `append` runs inside the caller's transaction, under a transaction-scoped advisory lock, so
//! the chain has one order even with many replicas writing.

use sm3::{Digest, Sm3};
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;

use crate::{auth::Principal, error::AppError, telemetry};

/// Hash of the (absent) record before the first.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const AUDIT_LOCK: i64 = 0x6567_6f76_6175_6474; // "egovaudt"

/// What happened, by whom, why, under which rules and policy version.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub actor: String,
    pub role: String,
    pub unit_id: String,
    pub action: String,
    pub resource: String,
    pub project_id: String,
    pub reason: String,
    pub rule_ids: Vec<String>,
    pub policy_version: String,
    pub request_id: String,
    pub details: serde_json::Value,
}

impl AuditEntry {
    pub fn by(principal: &Principal, action: &str, resource: impl Into<String>) -> AuditEntry {
        AuditEntry {
            actor: principal.subject.clone(),
            role: principal.role.as_str().to_string(),
            unit_id: principal.unit.clone().unwrap_or_default(),
            action: action.to_string(),
            resource: resource.into(),
            details: serde_json::Value::Object(Default::default()),
            ..Default::default()
        }
    }
    /// For changes made by the system itself (timers, consumers).
    pub fn system(service: &str, action: &str, resource: impl Into<String>) -> AuditEntry {
        AuditEntry {
            actor: format!("egov-{service}"),
            role: "SYSTEM".into(),
            action: action.to_string(),
            resource: resource.into(),
            details: serde_json::Value::Object(Default::default()),
            ..Default::default()
        }
    }
    pub fn project(mut self, id: impl Into<String>) -> Self {
        self.project_id = id.into();
        self
    }
    pub fn reason(mut self, r: impl Into<String>) -> Self {
        self.reason = r.into();
        self
    }
    pub fn rules(mut self, ids: &[&str]) -> Self {
        self.rule_ids = ids.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn policy(mut self, v: impl Into<String>) -> Self {
        self.policy_version = v.into();
        self
    }
    pub fn request(mut self, id: impl Into<String>) -> Self {
        self.request_id = id.into();
        self
    }
    pub fn details(mut self, d: serde_json::Value) -> Self {
        self.details = d;
        self
    }
}

/// A stored record.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub entry: AuditEntry,
    pub trace_id: String,
    pub details_text: String,
    pub prev_hash: String,
    pub hash: String,
}

fn chain_hash(prev: &str, seq: i64, at: OffsetDateTime, e: &AuditEntry, trace_id: &str, details: &str) -> String {
    // Length-prefixed fields: no two different records serialise alike.
    let mut h = Sm3::new();
    let mut put = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    put(prev);
    put(&seq.to_string());
    put(&at.unix_timestamp_nanos().to_string());
    for f in [&e.actor, &e.role, &e.unit_id, &e.action, &e.resource, &e.project_id, &e.reason] {
        put(f);
    }
    put(&e.rule_ids.join(","));
    put(&e.policy_version);
    put(&e.request_id);
    put(trace_id);
    put(details);
    hex::encode(h.finalize())
}

/// Appends `entry` at `at` (the service clock's now) within the caller's transaction.
pub async fn append(conn: &mut PgConnection, at: OffsetDateTime, entry: &AuditEntry) -> Result<i64, AppError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AUDIT_LOCK).execute(&mut *conn).await?;
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM egov_audit ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *conn).await?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_string()),
    };
    // Microsecond precision: what PostgreSQL stores.
    let at = at.replace_nanosecond(at.nanosecond() / 1000 * 1000).unwrap_or(at);
    let trace_id = telemetry::current_trace_id();
    let details = entry.details.to_string();
    let hash = chain_hash(&prev, seq, at, entry, &trace_id, &details);
    sqlx::query(
        "INSERT INTO egov_audit (seq, at, actor, role, unit_id, action, resource, project_id, reason, rule_ids, policy_version, request_id, trace_id, details, prev_hash, hash)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)",
    )
    .bind(seq)
    .bind(at)
    .bind(&entry.actor)
    .bind(&entry.role)
    .bind(&entry.unit_id)
    .bind(&entry.action)
    .bind(&entry.resource)
    .bind(&entry.project_id)
    .bind(&entry.reason)
    .bind(&entry.rule_ids)
    .bind(&entry.policy_version)
    .bind(&entry.request_id)
    .bind(&trace_id)
    .bind(&details)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok(seq)
}

fn record(row: &sqlx::postgres::PgRow) -> Result<AuditRecord, sqlx::Error> {
    let details_text: String = row.try_get("details")?;
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        entry: AuditEntry {
            actor: row.try_get("actor")?,
            role: row.try_get("role")?,
            unit_id: row.try_get("unit_id")?,
            action: row.try_get("action")?,
            resource: row.try_get("resource")?,
            project_id: row.try_get("project_id")?,
            reason: row.try_get("reason")?,
            rule_ids: row.try_get("rule_ids")?,
            policy_version: row.try_get("policy_version")?,
            request_id: row.try_get("request_id")?,
            details: serde_json::from_str(&details_text).unwrap_or(serde_json::Value::Null),
        },
        trace_id: row.try_get("trace_id")?,
        details_text,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// Records of one project (or all, when `project_id` is empty), after `after_seq`, in order.
pub async fn list(pool: &PgPool, project_id: &str, after_seq: i64, limit: i64) -> Result<Vec<AuditRecord>, AppError> {
    let rows = sqlx::query("SELECT * FROM egov_audit WHERE ($1 = '' OR project_id = $1) AND seq > $2 ORDER BY seq LIMIT $3")
        .bind(project_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(record).collect::<Result<_, _>>().map_err(AppError::from)
}

/// Result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub intact: bool,
    pub records_checked: i64,
    pub first_broken_seq: Option<i64>,
    pub detail: String,
}

/// Walks the whole chain and recomputes every hash.
pub async fn verify(pool: &PgPool) -> Result<Verification, AppError> {
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1i64;
    let mut checked = 0i64;
    let mut after = 0i64;
    loop {
        let batch = list(pool, "", after, 1000).await?;
        if batch.is_empty() {
            break;
        }
        for r in &batch {
            let broken = |detail: String| Verification { intact: false, records_checked: checked, first_broken_seq: Some(r.seq), detail };
            if r.seq != expected_seq {
                return Ok(broken(format!("record {expected_seq} is missing (found {})", r.seq)));
            }
            if r.prev_hash != prev {
                return Ok(broken(format!("record {} does not link to its predecessor", r.seq)));
            }
            let h = chain_hash(&prev, r.seq, r.at, &r.entry, &r.trace_id, &r.details_text);
            if h != r.hash {
                return Ok(broken(format!("record {} was altered: its content does not match its hash", r.seq)));
            }
            prev = r.hash.clone();
            expected_seq += 1;
            checked += 1;
            after = r.seq;
        }
    }
    Ok(Verification { intact: true, records_checked: checked, first_broken_seq: None, detail: format!("{checked} records, chain intact") })
}
