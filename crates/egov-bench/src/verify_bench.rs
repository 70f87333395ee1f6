//! (g) Verifying the audit trail: N records over many project chains (generated with the real
//! record hash and bulk-inserted, then sealed by one signed anchor), verified whole and for one
//! project, as `VerifyAuditTrail` does.

use std::time::Instant;

use anyhow::ensure;
use egov_platform::{
    anchors::{self, AnchorSigner, LOCAL_DEV_SM2_KEY, Trust},
    audit::{self, AuditEntry, GENESIS},
    testing::{TestDatabase, platform_pool},
};
use serde::Serialize;
use time::OffsetDateTime;

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub records: u64,
    pub chains: u64,
    pub insert_seconds: f64,
    pub verify_seconds: f64,
    pub records_per_second: f64,
    pub one_project_ms: f64,
    pub intact: bool,
    pub records_sealed: i64,
}

pub async fn run(records: u64, per_chain: u64) -> anyhow::Result<VerifyReport> {
    ensure!(records > 0 && per_chain > 0, "--audit-records and its chains must be at least 1");
    let db = TestDatabase::create().await?;
    let pool = platform_pool(&db).await?;
    let chains = records.div_ceil(per_chain);
    eprintln!("(g) writing {records} audit records in {chains} chains ...");
    let started = Instant::now();
    let base = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    const ROWS: usize = 10_000;
    let mut batch: Vec<(String, i64, OffsetDateTime, String, String, String)> = Vec::with_capacity(ROWS);
    let mut heads: Vec<(String, i64, String)> = Vec::with_capacity(chains as usize);
    for c in 0..chains {
        let project = uuid::Uuid::now_v7().to_string();
        let mut prev = GENESIS.to_string();
        let n = per_chain.min(records - c * per_chain);
        for k in 1..=n as i64 {
            let at = base + time::Duration::microseconds(k);
            let entry = AuditEntry::system("bench", "applications.submit", format!("applications/{project}"))
                .project(project.clone())
                .reason("基准")
                .rules(&["R-I1", "R-I2"]);
            let details = entry.details.to_string();
            let hash = audit::record_hash(&prev, k, at, &entry, "", &details);
            batch.push((project.clone(), k, at, prev.clone(), hash.clone(), details));
            prev = hash;
            if batch.len() == ROWS {
                insert(&pool, &mut batch).await?;
            }
        }
        heads.push((project, n as i64, prev));
    }
    insert(&pool, &mut batch).await?;
    let (cs, ns, hs): (Vec<String>, Vec<i64>, Vec<String>) = heads.iter().cloned().fold((vec![], vec![], vec![]), |mut acc, (c, n, h)| {
        acc.0.push(c);
        acc.1.push(n);
        acc.2.push(h);
        acc
    });
    sqlx::query("INSERT INTO egov_audit_heads (chain, chain_seq, hash) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])")
        .bind(&cs)
        .bind(&ns)
        .bind(&hs)
        .execute(&pool)
        .await?;
    let signer = AnchorSigner::from_hex("bench", LOCAL_DEV_SM2_KEY).map_err(anyhow::Error::msg)?;
    anchors::anchor_once(&pool, OffsetDateTime::now_utc(), &signer).await.map_err(|e| anyhow::anyhow!("anchoring: {e}"))?;
    sqlx::query("VACUUM ANALYZE egov_audit").execute(&pool).await?;
    let insert_seconds = started.elapsed().as_secs_f64();
    let trust = Trust::new(&signer, "").map_err(anyhow::Error::msg)?;

    eprintln!("(g) verifying ...");
    let t = Instant::now();
    let v = audit::verify(&pool, &trust, None).await.map_err(|e| anyhow::anyhow!("verifying: {e}"))?;
    let verify_seconds = t.elapsed().as_secs_f64();
    ensure!(v.intact && v.records_checked == records as i64, "the generated trail does not verify: {}", v.detail);
    let t = Instant::now();
    let one = audit::verify(&pool, &trust, Some(&cs[cs.len() / 2])).await.map_err(|e| anyhow::anyhow!("verifying one: {e}"))?;
    let one_project_ms = t.elapsed().as_secs_f64() * 1000.0;
    ensure!(one.intact && one.chains_checked == 1, "one project's chain does not verify: {}", one.detail);
    pool.close().await;
    drop(db);
    Ok(VerifyReport {
        records,
        chains,
        insert_seconds,
        verify_seconds,
        records_per_second: records as f64 / verify_seconds,
        one_project_ms,
        intact: v.intact,
        records_sealed: v.records_sealed,
    })
}

type Row = (String, i64, OffsetDateTime, String, String, String);

async fn insert(pool: &sqlx::PgPool, batch: &mut Vec<Row>) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut chain = Vec::with_capacity(batch.len());
    let mut place = Vec::with_capacity(batch.len());
    let mut at = Vec::with_capacity(batch.len());
    let mut prev = Vec::with_capacity(batch.len());
    let mut hash = Vec::with_capacity(batch.len());
    let mut details = Vec::with_capacity(batch.len());
    for (c, k, a, p, h, d) in batch.drain(..) {
        chain.push(c);
        place.push(k);
        at.push(a);
        prev.push(p);
        hash.push(h);
        details.push(d);
    }
    sqlx::query(
        "INSERT INTO egov_audit (chain, chain_seq, at, actor, role, action, resource, project_id, reason, rule_ids, details, prev_hash, hash)
         SELECT c, k, a, 'egov-bench', 'SYSTEM', 'applications.submit', 'applications/' || c, c, '基准', ARRAY['R-I1','R-I2'], d, p, h
         FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[]) AS t(c, k, a, p, h, d)",
    )
    .bind(&chain)
    .bind(&place)
    .bind(&at)
    .bind(&prev)
    .bind(&hash)
    .bind(&details)
    .execute(pool)
    .await?;
    Ok(())
}
