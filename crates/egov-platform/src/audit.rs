//! Audit trail (R-X3): one append-only row per state change, chained with SM3 so that any edit,
//! deletion or reordering of stored rows is found by [`verify`].
//!
//! One chain per project (the records about no project form the service's own chain, `""`), so
//! that writes of different projects never wait for each other: `append` runs inside the
//! caller's transaction and locks only its chain's head row (`egov_audit_heads`), so a chain has
//! one order with any number of replicas writing, and other chains go on meanwhile. Records of
//! the single chain that came before (the legacy segment) keep their `seq` order. The chains'
//! heads are sealed periodically into signed anchors ([`crate::anchors`]): whoever can write the
//! tables can recompute hashes, but cannot sign, so verification holds every chain to its last
//! anchored head and reports the records after it as not yet sealed.

use sm3::{Digest, Sm3};
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;

use crate::{auth::Principal, error::AppError, telemetry};

/// Hash of the (absent) record before the first.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The chain name the legacy segment (records from before per-project chains) is sealed under.
pub const LEGACY_CHAIN: &str = "#legacy";

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
    /// Its chain (the project id; `""` the service's own) and place in it; `None` in the legacy
    /// segment, whose order is `seq`.
    pub chain: Option<String>,
    pub chain_seq: Option<i64>,
    pub at: OffsetDateTime,
    pub entry: AuditEntry,
    pub trace_id: String,
    pub details_text: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash a record carries at place `seq` of its chain after `prev` (for tools that import or
/// generate trails, and the benchmarks).
pub fn record_hash(prev: &str, seq: i64, at: OffsetDateTime, e: &AuditEntry, trace_id: &str, details: &str) -> String {
    chain_hash(prev, seq, at, e, trace_id, details)
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

/// Appends `entry` at `at` (the service clock's now) to its project's chain, within the caller's
/// transaction; returns the record's `seq`. The chain's head row stays locked until the caller
/// commits: the next writer of the same project waits, writers of other projects do not.
pub async fn append(conn: &mut PgConnection, at: OffsetDateTime, entry: &AuditEntry) -> Result<i64, AppError> {
    let chain = entry.project_id.as_str();
    // The head, locked; created at the chain's first record (without a write when it exists).
    let head = "SELECT chain_seq, hash FROM egov_audit_heads WHERE chain = $1 FOR UPDATE";
    let found: Option<(i64, String)> = sqlx::query_as(head).bind(chain).fetch_optional(&mut *conn).await?;
    let (last, prev) = match found {
        Some(h) => h,
        None => {
            sqlx::query("INSERT INTO egov_audit_heads (chain, chain_seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING")
                .bind(chain)
                .bind(GENESIS)
                .execute(&mut *conn)
                .await?;
            sqlx::query_as(head).bind(chain).fetch_one(&mut *conn).await?
        }
    };
    let chain_seq = last + 1;
    // Microsecond precision: what PostgreSQL stores.
    let at = at.replace_nanosecond(at.nanosecond() / 1000 * 1000).unwrap_or(at);
    let trace_id = telemetry::current_trace_id();
    let details = entry.details.to_string();
    let hash = chain_hash(&prev, chain_seq, at, entry, &trace_id, &details);
    // One statement: the head moves and the record is inserted.
    let seq: i64 = sqlx::query_scalar(
        "WITH head AS (UPDATE egov_audit_heads SET chain_seq = $2, hash = $16 WHERE chain = $1)
         INSERT INTO egov_audit (chain, chain_seq, at, actor, role, unit_id, action, resource, project_id, reason, rule_ids,
                                 policy_version, request_id, trace_id, details, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $1, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING seq",
    )
    .bind(chain) // $1
    .bind(chain_seq) // $2
    .bind(at) // $3
    .bind(&entry.actor) // $4
    .bind(&entry.role) // $5
    .bind(&entry.unit_id) // $6
    .bind(&entry.action) // $7
    .bind(&entry.resource) // $8
    .bind(&entry.reason) // $9
    .bind(&entry.rule_ids) // $10
    .bind(&entry.policy_version) // $11
    .bind(&entry.request_id) // $12
    .bind(&trace_id) // $13
    .bind(&details) // $14
    .bind(&prev) // $15
    .bind(&hash) // $16
    .fetch_one(&mut *conn)
    .await?;
    Ok(seq)
}

fn record(row: &sqlx::postgres::PgRow) -> Result<AuditRecord, sqlx::Error> {
    let details_text: String = row.try_get("details")?;
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        chain: row.try_get("chain")?,
        chain_seq: row.try_get("chain_seq")?,
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

/// A chain whose records do not hold together, or do not reach its anchored head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenChain {
    /// The project id; `""` the service's own chain, [`LEGACY_CHAIN`] the legacy segment.
    pub chain: String,
    /// The first record found broken or missing: its place in the chain, and its `seq` when it
    /// exists (0 otherwise).
    pub chain_seq: i64,
    pub seq: i64,
    pub detail: String,
}

/// Result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verification {
    /// No broken chain and no broken anchor.
    pub intact: bool,
    pub records_checked: i64,
    /// Records up to their chain's last anchored head: verified and sealed.
    pub records_sealed: i64,
    /// Records after their chain's last anchored head: consistent, but not yet sealed (anyone
    /// who can write the table could have written them).
    pub unsealed_records: i64,
    pub chains_checked: i64,
    pub anchors_checked: i64,
    pub broken_chains: Vec<BrokenChain>,
    /// The first anchor whose link, hash, key or signature does not hold.
    pub broken_anchor: Option<(i64, String)>,
    pub detail: String,
}

impl Verification {
    /// The first broken record's `seq` (0 when none is known).
    pub fn first_broken_seq(&self) -> i64 {
        self.broken_chains.iter().map(|b| b.seq).find(|s| *s > 0).unwrap_or(0)
    }
}

/// What the checker knows of one chain as it walks it.
struct ChainWalk {
    chain: String,
    /// Every head anchors sealed: place → hash.
    anchored: std::collections::HashMap<i64, String>,
    prev: String,
    next: i64,
    records: i64,
    broken: Option<BrokenChain>,
}

impl ChainWalk {
    fn new(chain: &str, anchored: Option<&std::collections::HashMap<i64, String>>) -> ChainWalk {
        ChainWalk {
            chain: chain.to_string(),
            anchored: anchored.cloned().unwrap_or_default(),
            prev: GENESIS.to_string(),
            next: 1,
            records: 0,
            broken: None,
        }
    }

    fn fail(&mut self, chain_seq: i64, seq: i64, detail: String) {
        if self.broken.is_none() {
            self.broken = Some(BrokenChain { chain: self.chain.clone(), chain_seq, seq, detail });
        }
    }

    /// Checks the next record (its place given by `place`: chain_seq, or seq in the legacy
    /// segment).
    fn step(&mut self, r: &AuditRecord, place: i64) {
        self.records += 1;
        if self.broken.is_some() {
            return;
        }
        if place != self.next {
            return self.fail(self.next, 0, format!("record {} of the chain is missing (found {place})", self.next));
        }
        if r.prev_hash != self.prev {
            return self.fail(place, r.seq, format!("record {place} of the chain does not link to its predecessor"));
        }
        if chain_hash(&self.prev, place, r.at, &r.entry, &r.trace_id, &r.details_text) != r.hash {
            return self.fail(place, r.seq, format!("record {place} of the chain was altered: its content does not match its hash"));
        }
        if self.anchored.get(&place).is_some_and(|sealed| *sealed != r.hash) {
            return self.fail(place, r.seq, format!("record {place} differs from the one an anchor sealed: the chain was rewritten"));
        }
        self.prev = r.hash.clone();
        self.next += 1;
    }

    /// Holds the walked chain to its anchored head and the head row; returns the sealed and
    /// unsealed record counts.
    fn finish(&mut self, head: Option<i64>) -> (i64, i64) {
        let last = self.next - 1;
        let sealed_through = self.anchored.keys().copied().max();
        if let Some(at) = sealed_through
            && at > last
            && self.broken.is_none()
        {
            self.fail(
                last + 1,
                0,
                format!("the chain ends at record {last}, but an anchor sealed it at record {at}: sealed records were removed"),
            );
        }
        if let Some(h) = head
            && h > last
            && self.broken.is_none()
        {
            self.fail(last + 1, 0, format!("the chain's head is record {h} but the chain ends at {last}: its last records were removed"));
        }
        let sealed = sealed_through.map_or(0, |at| at.min(self.records));
        (sealed, self.records - sealed)
    }
}

/// Verifies the service's trail, or one project's chain (`project`): every anchor (link, hash,
/// trusted key, signature; see [`crate::anchors`]), then every chain's records (place, link,
/// hash), each held to its last anchored head. Reports the first broken record of every broken
/// chain, and the records after the last anchored heads as not yet sealed.
pub async fn verify(pool: &PgPool, trust: &crate::anchors::Trust, project: Option<&str>) -> Result<Verification, AppError> {
    let anchors = crate::anchors::verify_anchors(pool, trust).await?;
    let heads: std::collections::HashMap<String, i64> =
        sqlx::query_as("SELECT chain, chain_seq FROM egov_audit_heads").fetch_all(pool).await?.into_iter().collect();
    let mut v = Verification { anchors_checked: anchors.checked, broken_anchor: anchors.broken.clone(), ..Default::default() };
    let mut seen = std::collections::HashSet::new();
    let finish = |walk: &mut ChainWalk, v: &mut Verification| {
        let (sealed, unsealed) = walk.finish(heads.get(&walk.chain).copied());
        v.chains_checked += 1;
        v.records_checked += walk.records;
        v.records_sealed += sealed;
        v.unsealed_records += unsealed;
        if let Some(b) = walk.broken.take() {
            v.broken_chains.push(b);
        }
    };
    // Project chains (and the service's own), in (chain, chain_seq) order, a page at a time.
    let mut walk: Option<ChainWalk> = None;
    let (mut after_chain, mut after_seq) = (String::new(), 0i64);
    let mut first_page = true;
    loop {
        let rows = sqlx::query(
            "SELECT * FROM egov_audit WHERE chain IS NOT NULL AND ($1::text IS NULL OR chain = $1)
               AND ($2 OR (chain, chain_seq) > ($3, $4))
             ORDER BY chain, chain_seq LIMIT 5000",
        )
        .bind(project)
        .bind(first_page)
        .bind(&after_chain)
        .bind(after_seq)
        .fetch_all(pool)
        .await?;
        first_page = false;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let r = record(row)?;
            let (chain, place) = (r.chain.clone().unwrap_or_default(), r.chain_seq.unwrap_or(0));
            if walk.as_ref().is_none_or(|w| w.chain != chain) {
                if let Some(mut w) = walk.take() {
                    finish(&mut w, &mut v);
                }
                seen.insert(chain.clone());
                walk = Some(ChainWalk::new(&chain, anchors.heads.get(&chain)));
            }
            if let Some(w) = walk.as_mut() {
                w.step(&r, place);
            }
            (after_chain, after_seq) = (chain, place);
        }
    }
    if let Some(mut w) = walk.take() {
        finish(&mut w, &mut v);
    }
    // The legacy segment, in seq order (the whole service only).
    if project.is_none() {
        let mut w = ChainWalk::new(LEGACY_CHAIN, anchors.heads.get(LEGACY_CHAIN));
        let mut after = 0i64;
        loop {
            let rows = sqlx::query("SELECT * FROM egov_audit WHERE chain IS NULL AND seq > $1 ORDER BY seq LIMIT 5000")
                .bind(after)
                .fetch_all(pool)
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let r = record(row)?;
                w.step(&r, r.seq);
                after = r.seq;
            }
        }
        if w.records > 0 || anchors.heads.contains_key(LEGACY_CHAIN) {
            seen.insert(LEGACY_CHAIN.to_string());
            finish(&mut w, &mut v);
        }
    }
    // Chains an anchor sealed, or the heads know, of which no record is left.
    let mut vanished: Vec<&String> = anchors.heads.keys().chain(heads.iter().filter(|(_, n)| **n > 0).map(|(c, _)| c)).collect();
    vanished.sort();
    vanished.dedup();
    for chain in vanished {
        if seen.contains(chain) || project.is_some_and(|p| p != chain) || (chain == LEGACY_CHAIN && project.is_some()) {
            continue;
        }
        let mut w = ChainWalk::new(chain, anchors.heads.get(chain));
        finish(&mut w, &mut v);
    }
    v.intact = v.broken_chains.is_empty() && v.broken_anchor.is_none();
    v.detail = if v.intact {
        format!(
            "{} records in {} chains intact; {} sealed by {} anchors, {} not yet sealed",
            v.records_checked, v.chains_checked, v.records_sealed, v.anchors_checked, v.unsealed_records
        )
    } else {
        let mut parts: Vec<String> = v.broken_chains.iter().map(|b| format!("chain {:?}: {}", b.chain, b.detail)).collect();
        if let Some((n, why)) = &v.broken_anchor {
            parts.insert(0, format!("anchor {n}: {why}"));
        }
        parts.join("; ")
    };
    Ok(v)
}

#[cfg(all(test, feature = "testing"))]
mod migration_tests {
    use sqlx::migrate::Migrator;

    use super::*;
    use crate::{
        anchors::{AnchorSigner, LOCAL_DEV_SM2_KEY, Trust, anchor_once},
        db::PLATFORM_MIGRATIONS,
        testing::TestDatabase,
    };

    /// A trail written before per-project chains becomes the legacy segment: verified in `seq`
    /// order, reported unsealed until the first anchor seals it, and its tampering still found.
    #[tokio::test]
    async fn an_existing_trail_migrates_into_the_first_sealed_segment() {
        let db = TestDatabase::create().await.unwrap();
        let pool = PgPool::connect(&db.url()).await.unwrap();
        let before: Vec<_> = PLATFORM_MIGRATIONS.iter().filter(|m| m.version < 5).cloned().collect();
        Migrator::with_migrations(before).run(&pool).await.unwrap();
        // Five records as the single-chain trail wrote them.
        let mut prev = GENESIS.to_string();
        for seq in 1..=5i64 {
            let at = OffsetDateTime::from_unix_timestamp(1_700_000_000 + seq).unwrap();
            let entry = AuditEntry::system("intake", "applications.submit", format!("applications/{seq}")).project(format!("p-{seq}"));
            let details = entry.details.to_string();
            let hash = chain_hash(&prev, seq, at, &entry, "", &details);
            sqlx::query(
                "INSERT INTO egov_audit (seq, at, actor, role, action, resource, project_id, details, prev_hash, hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(seq)
            .bind(at)
            .bind(&entry.actor)
            .bind(&entry.role)
            .bind(&entry.action)
            .bind(&entry.resource)
            .bind(&entry.project_id)
            .bind(&details)
            .bind(&prev)
            .bind(&hash)
            .execute(&pool)
            .await
            .unwrap();
            prev = hash;
        }
        PLATFORM_MIGRATIONS.run(&pool).await.unwrap();
        let signer = AnchorSigner::from_hex("k1", LOCAL_DEV_SM2_KEY).unwrap();
        let trust = Trust::new(&signer, "").unwrap();

        let v = verify(&pool, &trust, None).await.unwrap();
        assert!(v.intact, "{v:?}");
        assert_eq!((v.records_checked, v.chains_checked, v.unsealed_records), (5, 1, 5));
        assert_eq!(anchor_once(&pool, OffsetDateTime::now_utc(), &signer).await.unwrap(), Some(1));
        let v = verify(&pool, &trust, None).await.unwrap();
        assert_eq!((v.records_sealed, v.unsealed_records), (5, 0), "{v:?}");

        // New records go to their projects' chains, numbered after the legacy ones.
        let mut tx = pool.begin().await.unwrap();
        let seq = append(&mut tx, OffsetDateTime::now_utc(), &AuditEntry::system("intake", "x", "r").project("p-9")).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(seq, 6);
        let v = verify(&pool, &trust, None).await.unwrap();
        assert!(v.intact && v.chains_checked == 2 && v.unsealed_records == 1, "{v:?}");

        // A legacy record edited is found in the legacy segment.
        sqlx::raw_sql(
            "ALTER TABLE egov_audit DISABLE TRIGGER USER; UPDATE egov_audit SET actor = 'x' WHERE seq = 3; ALTER TABLE egov_audit ENABLE TRIGGER USER;",
        )
        .execute(&pool)
        .await
        .unwrap();
        let v = verify(&pool, &trust, None).await.unwrap();
        assert_eq!(v.broken_chains.len(), 1, "{v:?}");
        assert_eq!((v.broken_chains[0].chain.as_str(), v.broken_chains[0].seq), (LEGACY_CHAIN, 3));
        pool.close().await;
    }
}
