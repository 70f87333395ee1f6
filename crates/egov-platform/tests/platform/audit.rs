//! The audit trail's chains and anchors against the real PostgreSQL (issue 9): writes of
//! different projects do not wait for each other; every tampering a writer of the tables can do
//! (edit, delete, insert, reorder, drop a chain's last records before and after an anchor,
//! rewrite a whole project's chain with consistent hashes, alter or re-sign an anchor) is found,
//! except the records after the last anchor, which are reported as not yet sealed. Tampering runs
//! as the table owner with the append-only triggers disabled: what an intruder with the owner's
//! rights could do; the services' runtime role cannot (see `least_privilege` in the services).

use std::time::Duration;

use egov_platform::{
    anchors::{self, AnchorSigner, LOCAL_DEV_SM2_KEY, Trust},
    audit::{self, AuditEntry, Verification},
    testing::{TestDatabase, platform_pool},
};
use sqlx::PgPool;

const A: &str = "0193a1b2-0000-7000-8000-00000000000a";
const B: &str = "0193a1b2-0000-7000-8000-00000000000b";

struct World {
    _db: TestDatabase,
    pool: PgPool,
    signer: AnchorSigner,
    trust: Trust,
}

/// Project A with 5 records, B with 3, the service's own chain with 2; all anchored.
async fn world() -> World {
    let db = TestDatabase::create().await.unwrap();
    let pool = platform_pool(&db).await.unwrap();
    let signer = AnchorSigner::from_hex("k1", LOCAL_DEV_SM2_KEY).unwrap();
    let trust = Trust::new(&signer, "").unwrap();
    let w = World { _db: db, pool, signer, trust };
    for (project, n) in [(A, 5), (B, 3), ("", 2)] {
        for _ in 0..n {
            w.add(project).await;
        }
    }
    assert_eq!(w.anchor().await, Some(1));
    w
}

impl World {
    async fn add(&self, project: &str) -> i64 {
        let mut tx = self.pool.begin().await.unwrap();
        let e = AuditEntry::system("test", "record", "things/1").project(project).reason("测试").rules(&["R-X3"]);
        let seq = audit::append(&mut tx, time::OffsetDateTime::now_utc(), &e).await.unwrap();
        tx.commit().await.unwrap();
        seq
    }

    async fn anchor(&self) -> Option<i64> {
        anchors::anchor_once(&self.pool, time::OffsetDateTime::now_utc(), &self.signer).await.unwrap()
    }

    async fn verify(&self, project: Option<&str>) -> Verification {
        audit::verify(&self.pool, &self.trust, project).await.unwrap()
    }

    /// Runs `sql` as the owner with the append-only triggers off, as an intruder would.
    async fn tamper(&self, sql: &str) {
        let script = format!(
            "ALTER TABLE egov_audit DISABLE TRIGGER USER; ALTER TABLE egov_audit_anchors DISABLE TRIGGER USER; {sql};
             ALTER TABLE egov_audit ENABLE TRIGGER USER; ALTER TABLE egov_audit_anchors ENABLE TRIGGER USER;"
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(script)).execute(&self.pool).await.unwrap();
    }

    async fn seq_of(&self, chain: &str, chain_seq: i64) -> i64 {
        sqlx::query_scalar("SELECT seq FROM egov_audit WHERE chain = $1 AND chain_seq = $2")
            .bind(chain)
            .bind(chain_seq)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// The one broken chain of `v`: its name, place and detail.
fn only_break(v: &Verification) -> (String, i64, String) {
    assert!(!v.intact, "{v:?}");
    assert_eq!(v.broken_chains.len(), 1, "{v:?}");
    let b = &v.broken_chains[0];
    (b.chain.clone(), b.chain_seq, b.detail.clone())
}

#[tokio::test]
async fn an_intact_trail_is_verified_and_sealed_and_later_records_are_not_yet_sealed() {
    let w = world().await;
    let v = w.verify(None).await;
    assert!(v.intact, "{v:?}");
    assert_eq!((v.records_checked, v.records_sealed, v.unsealed_records, v.chains_checked, v.anchors_checked), (10, 10, 0, 3, 1));
    w.add(A).await;
    w.add(A).await;
    let v = w.verify(None).await;
    assert!(v.intact);
    assert_eq!((v.records_sealed, v.unsealed_records), (10, 2), "records after the anchor are not reported as sealed");
    // One project, as an auditor asks.
    let a = w.verify(Some(A)).await;
    assert_eq!((a.records_checked, a.records_sealed, a.unsealed_records, a.chains_checked), (7, 5, 2, 1));
    // The next anchor seals only what moved.
    assert_eq!(w.anchor().await, Some(2));
    assert_eq!(w.anchor().await, None, "nothing moved since");
    let heads: String = sqlx::query_scalar("SELECT heads FROM egov_audit_anchors WHERE anchor_seq = 2").fetch_one(&w.pool).await.unwrap();
    assert!(heads.contains(A) && !heads.contains(B), "{heads}");
    let v = w.verify(None).await;
    assert_eq!((v.records_sealed, v.unsealed_records, v.anchors_checked), (12, 0, 2));
}

#[tokio::test]
async fn writes_of_different_projects_do_not_wait_for_each_other() {
    let w = world().await;
    let mut first = w.pool.begin().await.unwrap();
    audit::append(&mut first, time::OffsetDateTime::now_utc(), &AuditEntry::system("test", "x", "r").project(A)).await.unwrap();
    // A's chain is held by `first`: B's writer goes on, A's second writer waits.
    tokio::time::timeout(Duration::from_secs(5), w.add(B)).await.expect("another project's write does not wait");
    let pool = w.pool.clone();
    let second = tokio::spawn(async move {
        let mut tx = pool.begin().await.unwrap();
        audit::append(&mut tx, time::OffsetDateTime::now_utc(), &AuditEntry::system("test", "y", "r").project(A)).await.unwrap();
        tx.commit().await.unwrap();
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!second.is_finished(), "the same project's writes keep one order");
    first.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), second).await.unwrap().unwrap();
    let places: Vec<i64> = sqlx::query_scalar("SELECT chain_seq FROM egov_audit WHERE chain = $1 ORDER BY chain_seq")
        .bind(A)
        .fetch_all(&w.pool)
        .await
        .unwrap();
    assert_eq!(places, vec![1, 2, 3, 4, 5, 6, 7]);
    assert!(w.verify(None).await.intact);
}

#[tokio::test]
async fn an_edited_field_is_found() {
    let w = world().await;
    let seq = w.seq_of(A, 3).await;
    w.tamper(&format!("UPDATE egov_audit SET reason = '改过' WHERE seq = {seq}")).await;
    let v = w.verify(None).await;
    let (chain, at, detail) = only_break(&v);
    assert_eq!((chain.as_str(), at), (A, 3));
    assert!(detail.contains("altered"), "{detail}");
    assert_eq!(v.first_broken_seq(), seq);
    assert!(!w.verify(Some(A)).await.intact);
    assert!(w.verify(Some(B)).await.intact, "other projects' chains stand");
}

#[tokio::test]
async fn a_deleted_row_is_found() {
    let w = world().await;
    w.tamper(&format!("DELETE FROM egov_audit WHERE chain = '{B}' AND chain_seq = 2")).await;
    let (chain, at, detail) = only_break(&w.verify(None).await);
    assert_eq!((chain.as_str(), at), (B, 2));
    assert!(detail.contains("missing"), "{detail}");
}

#[tokio::test]
async fn an_inserted_row_is_found() {
    let w = world().await;
    // A record slipped in between 2 and 3: the places after it move up.
    w.tamper(&format!(
        "UPDATE egov_audit SET chain_seq = chain_seq + 100 WHERE chain = '{A}' AND chain_seq >= 3;
         UPDATE egov_audit SET chain_seq = chain_seq - 99 WHERE chain = '{A}' AND chain_seq >= 103;
         INSERT INTO egov_audit (chain, chain_seq, at, actor, role, action, resource, project_id, prev_hash, hash)
           SELECT chain, 3, at, 'intruder', 'DRB', 'approve', 'things/2', project_id, hash, repeat('ab', 32)
           FROM egov_audit WHERE chain = '{A}' AND chain_seq = 2"
    ))
    .await;
    let (chain, at, _) = only_break(&w.verify(None).await);
    assert_eq!((chain.as_str(), at), (A, 3));
}

#[tokio::test]
async fn reordered_rows_are_found() {
    let w = world().await;
    w.tamper(&format!(
        "UPDATE egov_audit SET chain_seq = -2 WHERE chain = '{A}' AND chain_seq = 2;
         UPDATE egov_audit SET chain_seq = 2 WHERE chain = '{A}' AND chain_seq = 3;
         UPDATE egov_audit SET chain_seq = 3 WHERE chain = '{A}' AND chain_seq = -2"
    ))
    .await;
    let (chain, at, detail) = only_break(&w.verify(None).await);
    assert_eq!((chain.as_str(), at), (A, 2));
    assert!(detail.contains("link"), "{detail}");
}

#[tokio::test]
async fn dropping_a_projects_last_records_is_found_once_sealed_and_by_the_head_before() {
    let w = world().await;
    // After the anchor: sealed records removed, the head row put back to match.
    w.tamper(&format!("DELETE FROM egov_audit WHERE chain = '{A}' AND chain_seq >= 4")).await;
    sqlx::query("UPDATE egov_audit_heads h SET chain_seq = 3, hash = a.hash FROM egov_audit a WHERE h.chain = $1 AND a.chain = $1 AND a.chain_seq = 3")
        .bind(A)
        .execute(&w.pool)
        .await
        .unwrap();
    let (chain, at, detail) = only_break(&w.verify(None).await);
    assert_eq!((chain.as_str(), at), (A, 4));
    assert!(detail.contains("anchor sealed it at record 5"), "{detail}");

    // Before any anchor (B's two newest records, not sealed yet), the head row still knows them.
    w.add(B).await;
    w.add(B).await;
    w.tamper(&format!("DELETE FROM egov_audit WHERE chain = '{B}' AND chain_seq >= 4")).await;
    let v = w.verify(Some(B)).await;
    let (chain, at, detail) = only_break(&v);
    assert_eq!((chain.as_str(), at), (B, 4));
    assert!(detail.contains("head"), "{detail}");

    // The limit: an intruder who also rewinds the head row leaves nothing to find in the
    // unsealed tail (at most `audit.anchor_interval_secs` of records); sealed records stay.
    sqlx::query("UPDATE egov_audit_heads h SET chain_seq = 3, hash = a.hash FROM egov_audit a WHERE h.chain = $1 AND a.chain = $1 AND a.chain_seq = 3")
        .bind(B)
        .execute(&w.pool)
        .await
        .unwrap();
    let v = w.verify(Some(B)).await;
    assert!(v.intact && v.unsealed_records == 0, "{v:?}");
}

#[tokio::test]
async fn a_project_chain_rewritten_with_consistent_hashes_is_found() {
    let w = world().await;
    // Everything of A removed and written again through the real append: every hash and link of
    // the new chain is consistent; only the anchor knows the old head.
    w.tamper(&format!("DELETE FROM egov_audit WHERE chain = '{A}'")).await;
    sqlx::query("DELETE FROM egov_audit_heads WHERE chain = $1").bind(A).execute(&w.pool).await.unwrap();
    for _ in 0..5 {
        let mut tx = w.pool.begin().await.unwrap();
        let e = AuditEntry::system("test", "record", "things/1").project(A).reason("改写").rules(&["R-X3"]);
        audit::append(&mut tx, time::OffsetDateTime::now_utc(), &e).await.unwrap();
        tx.commit().await.unwrap();
    }
    let (chain, at, detail) = only_break(&w.verify(None).await);
    assert_eq!((chain.as_str(), at), (A, 5));
    assert!(detail.contains("rewritten"), "{detail}");
    // Anchoring again does not launder it: the old anchor still holds it to the old head.
    w.anchor().await;
    assert!(!w.verify(Some(A)).await.intact);
}

#[tokio::test]
async fn an_altered_or_re_signed_anchor_is_found() {
    let w = world().await;
    w.tamper("UPDATE egov_audit_anchors SET heads = heads || ' ' WHERE anchor_seq = 1").await;
    let v = w.verify(None).await;
    assert!(!v.intact);
    let (n, why) = v.broken_anchor.clone().unwrap();
    assert_eq!(n, 1);
    assert!(why.contains("hash"), "{why}");

    // A whole new anchor, consistently hashed and signed by a key of the intruder's own.
    let w = world().await;
    let intruder = AnchorSigner::from_hex("k1", &"22".repeat(32)).unwrap();
    w.tamper("DELETE FROM egov_audit_anchors").await;
    sqlx::query("DELETE FROM egov_audit_sealed").execute(&w.pool).await.unwrap();
    anchors::anchor_once(&w.pool, time::OffsetDateTime::now_utc(), &intruder).await.unwrap();
    let v = w.verify(None).await;
    let (n, why) = v.broken_anchor.clone().unwrap();
    assert_eq!(n, 1);
    assert!(why.contains("not the trusted key"), "{why}");
    assert_eq!(v.records_sealed, 0, "nothing counts as sealed by an untrusted anchor");
}

#[tokio::test]
async fn competing_anchorers_seal_each_head_once() {
    let w = world().await;
    for _ in 0..20 {
        w.add(A).await;
        w.add(B).await;
    }
    let (x, y) = tokio::join!(
        anchors::anchor_once(&w.pool, time::OffsetDateTime::now_utc(), &w.signer),
        anchors::anchor_once(&w.pool, time::OffsetDateTime::now_utc(), &w.signer)
    );
    let made: Vec<i64> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
    assert_eq!(made, vec![2], "one replica anchors, the other skips");
    let v = w.verify(None).await;
    assert!(v.intact && v.unsealed_records == 0 && v.anchors_checked == 2, "{v:?}");
}
