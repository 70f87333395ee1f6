//! Anchors of the audit trail (R-X3, 密评 integrity): periodically, one replica (whichever claims
//! the anchoring row with `FOR UPDATE SKIP LOCKED`) seals the head of every chain that moved since
//! the last anchor into an anchor record, chained to the previous anchor with SM3 and signed with
//! the service's SM2 key (GB/T 32918, RFC 6979 nonces). The key comes from configuration
//! (`audit.sm2_key`, a Secret in Kubernetes); the local development key is refused in production.
//!
//! Verification ([`verify_anchors`]) checks every anchor's place, link, hash, key (only keys the
//! service trusts: its own and `audit.trusted_keys`) and signature, and gives every head they
//! sealed, which [`crate::audit::verify`] holds each chain to (all of them, so that a rewritten
//! chain sealed again by a later anchor is still found by the earlier ones). Whoever can write the
//! tables can rewrite a chain with consistent hashes, but not sign an anchor for it; the records
//! written since the last anchor (at most `audit.anchor_interval_secs` old) are reported as not
//! yet sealed.

use std::{collections::HashMap, sync::Arc, time::Duration};

use sm2::dsa::{
    Signature, SigningKey, VerifyingKey,
    signature::{Signer, Verifier},
};
use sm3::{Digest, Sm3};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{audit::GENESIS, clock::SharedClock, error::AppError};

/// The distinguishing identifier of GM/T 0009's default signer.
const DISTID: &str = "1234567812345678";

/// A signing key (32 bytes, hex) for the local and test profiles only: production refuses it.
pub const LOCAL_DEV_SM2_KEY: &str = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";

/// The service's anchor signer.
pub struct AnchorSigner {
    key_id: String,
    key: SigningKey,
    public_hex: String,
}

impl std::fmt::Debug for AnchorSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnchorSigner").field("key_id", &self.key_id).field("public_key", &self.public_hex).finish_non_exhaustive()
    }
}

impl AnchorSigner {
    /// From the private key's 32 bytes in hex; the reason when they are no SM2 key.
    pub fn from_hex(key_id: &str, hex_key: &str) -> Result<AnchorSigner, String> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| "must be 64 hex digits".to_string())?;
        if bytes.len() != 32 {
            return Err("must be 64 hex digits (32 bytes)".into());
        }
        let key = SigningKey::from_slice(DISTID, &bytes).map_err(|_| "is not a valid SM2 private key".to_string())?;
        let public_hex = hex::encode(key.verifying_key().to_sec1_bytes());
        Ok(AnchorSigner { key_id: key_id.to_string(), key, public_hex })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_hex(&self) -> &str {
        &self.public_hex
    }

    fn sign(&self, message: &[u8]) -> String {
        let sig: Signature = self.key.sign(message);
        hex::encode(sig.to_bytes())
    }
}

/// The signer and the trust the settings give (their key, and the keys they still trust), or the
/// setting at fault and why.
pub fn from_settings(s: &crate::config::AuditSettings) -> Result<(AnchorSigner, Trust), crate::config::ConfigError> {
    let signer =
        AnchorSigner::from_hex(&s.sm2_key_id, s.sm2_key.expose()).map_err(|why| crate::config::ConfigError::new("audit.sm2_key", why))?;
    let trust = Trust::new(&signer, &s.trusted_keys).map_err(|why| crate::config::ConfigError::new("audit.trusted_keys", why))?;
    Ok((signer, trust))
}

/// The keys whose anchors verification accepts: `key_id` → public key (SEC1, hex).
#[derive(Debug, Clone, Default)]
pub struct Trust {
    keys: HashMap<String, String>,
}

impl Trust {
    /// The signer's own key and `extra` ("key_id:public_hex", comma-separated: the keys of
    /// earlier anchors after a rotation).
    pub fn new(signer: &AnchorSigner, extra: &str) -> Result<Trust, String> {
        let mut keys = HashMap::from([(signer.key_id.clone(), signer.public_hex.clone())]);
        for item in extra.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (id, public) = item.split_once(':').ok_or_else(|| format!("{item:?} is not key_id:public_key_hex"))?;
            let bytes = hex::decode(public.trim()).map_err(|_| format!("the key of {id} is not hex"))?;
            VerifyingKey::from_sec1_bytes(DISTID, &bytes).map_err(|_| format!("the key of {id} is no SM2 public key"))?;
            keys.insert(id.trim().to_string(), public.trim().to_lowercase());
        }
        Ok(Trust { keys })
    }

    fn check(&self, key_id: &str, public_hex: &str, message: &[u8], signature_hex: &str) -> Result<(), String> {
        match self.keys.get(key_id) {
            Some(k) if k.eq_ignore_ascii_case(public_hex) => {}
            Some(_) => return Err(format!("signed with a key that is not the trusted key {key_id}")),
            None => return Err(format!("signed with key {key_id:?}, which this service does not trust")),
        }
        let key =
            hex::decode(public_hex).ok().and_then(|b| VerifyingKey::from_sec1_bytes(DISTID, &b).ok()).ok_or("an unreadable public key")?;
        let sig = hex::decode(signature_hex).ok().and_then(|b| Signature::from_slice(&b).ok()).ok_or("an unreadable signature")?;
        key.verify(message, &sig).map_err(|_| "its signature does not verify".to_string())
    }
}

fn anchor_hash(prev: &str, anchor_seq: i64, at: OffsetDateTime, heads: &str, key_id: &str, public_hex: &str) -> String {
    let mut h = Sm3::new();
    let mut put = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    put(prev);
    put(&anchor_seq.to_string());
    put(&at.unix_timestamp_nanos().to_string());
    put(heads);
    put(key_id);
    put(public_hex);
    hex::encode(h.finalize())
}

/// Seals the heads of the chains that moved since the last anchor, if this replica claims the
/// anchoring row (another one anchoring now: `None`) and any chain moved (else `None`). The
/// heads are read from the committed snapshot without locking them, so no writer waits for an
/// anchor; what moves meanwhile is sealed by the next one. Returns the new anchor's number.
pub async fn anchor_once(pool: &PgPool, at: OffsetDateTime, signer: &AnchorSigner) -> Result<Option<i64>, AppError> {
    let mut tx = pool.begin().await?;
    let claimed: Option<i32> =
        sqlx::query_scalar("SELECT id FROM egov_audit_anchoring WHERE id = 1 FOR UPDATE SKIP LOCKED").fetch_optional(&mut *tx).await?;
    if claimed.is_none() {
        return Ok(None);
    }
    let heads: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT h.chain, h.chain_seq, h.hash FROM egov_audit_heads h LEFT JOIN egov_audit_sealed s ON s.chain = h.chain
         WHERE h.chain_seq > coalesce(s.chain_seq, 0) ORDER BY h.chain",
    )
    .fetch_all(&mut *tx)
    .await?;
    if heads.is_empty() {
        tx.commit().await?;
        return Ok(None);
    }
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT anchor_seq, hash FROM egov_audit_anchors ORDER BY anchor_seq DESC LIMIT 1").fetch_optional(&mut *tx).await?;
    let (seq, prev) = last.map_or((1, GENESIS.to_string()), |(s, h)| (s + 1, h));
    let at = at.replace_nanosecond(at.nanosecond() / 1000 * 1000).unwrap_or(at);
    let heads_text = serde_json::to_string(&heads).map_err(|e| AppError::Internal(e.into()))?;
    let hash = anchor_hash(&prev, seq, at, &heads_text, &signer.key_id, &signer.public_hex);
    let signature = signer.sign(hash.as_bytes());
    sqlx::query(
        "INSERT INTO egov_audit_anchors (anchor_seq, at, heads, prev_hash, hash, key_id, public_key, signature)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(at)
    .bind(&heads_text)
    .bind(&prev)
    .bind(&hash)
    .bind(&signer.key_id)
    .bind(&signer.public_hex)
    .bind(&signature)
    .execute(&mut *tx)
    .await?;
    let chains: Vec<&str> = heads.iter().map(|(c, _, _)| c.as_str()).collect();
    let places: Vec<i64> = heads.iter().map(|(_, n, _)| *n).collect();
    sqlx::query(
        "INSERT INTO egov_audit_sealed (chain, chain_seq) SELECT * FROM unnest($1::text[], $2::bigint[])
         ON CONFLICT (chain) DO UPDATE SET chain_seq = EXCLUDED.chain_seq",
    )
    .bind(&chains)
    .bind(&places)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE egov_audit_anchoring SET last_at = $1 WHERE id = 1").bind(at).execute(&mut *tx).await?;
    tx.commit().await?;
    tracing::debug!(anchor = seq, chains = heads.len(), "audit chains anchored");
    Ok(Some(seq))
}

/// Anchors every `interval` on any replica (each tries; one anchors), until `shutdown`.
pub fn spawn_anchoring(
    pool: PgPool,
    clock: SharedClock,
    signer: Arc<AnchorSigner>,
    interval: Duration,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
            if let Err(e) = anchor_once(&pool, clock.now(), &signer).await {
                tracing::warn!(error = %e, "anchoring the audit chains failed; next round retries");
            }
        }
    })
}

/// What the anchors say.
#[derive(Debug, Clone, Default)]
pub struct AnchorCheck {
    pub checked: i64,
    /// The first anchor that does not hold, and why.
    pub broken: Option<(i64, String)>,
    /// Every head sealed by an anchor that holds: chain → place → hash.
    pub heads: HashMap<String, HashMap<i64, String>>,
}

/// Checks every anchor in order; the heads they seal, up to the first that does not hold.
pub async fn verify_anchors(pool: &PgPool, trust: &Trust) -> Result<AnchorCheck, AppError> {
    type Row = (i64, OffsetDateTime, String, String, String, String, String, String);
    let mut out = AnchorCheck::default();
    let mut prev = GENESIS.to_string();
    let mut after = 0i64;
    'pages: loop {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT anchor_seq, at, heads, prev_hash, hash, key_id, public_key, signature FROM egov_audit_anchors
             WHERE anchor_seq > $1 ORDER BY anchor_seq LIMIT 1000",
        )
        .bind(after)
        .fetch_all(pool)
        .await?;
        if rows.is_empty() {
            break;
        }
        for (seq, at, heads, prev_hash, hash, key_id, public_key, signature) in rows {
            out.checked += 1;
            let expected = after + 1;
            let problem = if seq != expected {
                Some(format!("anchor {expected} is missing (found {seq})"))
            } else if prev_hash != prev {
                Some("it does not link to the anchor before it".into())
            } else if anchor_hash(&prev, seq, at, &heads, &key_id, &public_key) != hash {
                Some("its content does not match its hash".into())
            } else {
                trust.check(&key_id, &public_key, hash.as_bytes(), &signature).err()
            };
            let sealed: Option<Vec<(String, i64, String)>> = serde_json::from_str(&heads).ok();
            match (problem, sealed) {
                (Some(why), _) => {
                    out.broken = Some((expected.min(seq), why));
                    break 'pages;
                }
                (None, None) => {
                    out.broken = Some((seq, "its heads are unreadable".into()));
                    break 'pages;
                }
                (None, Some(sealed)) => {
                    for (chain, place, h) in sealed {
                        // The first seal of a place stands: a later anchor of a rewritten chain
                        // does not replace it.
                        out.heads.entry(chain).or_default().entry(place).or_insert(h);
                    }
                }
            }
            prev = hash;
            after = seq;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_with_trusted_keys_only() {
        let signer = AnchorSigner::from_hex("k1", LOCAL_DEV_SM2_KEY).unwrap();
        let trust = Trust::new(&signer, "").unwrap();
        let sig = signer.sign(b"head");
        assert!(trust.check("k1", signer.public_hex(), b"head", &sig).is_ok());
        assert!(trust.check("k1", signer.public_hex(), b"other", &sig).is_err(), "another message");
        let other = AnchorSigner::from_hex("k2", &"11".repeat(32)).unwrap();
        let forged = other.sign(b"head");
        assert!(trust.check("k2", other.public_hex(), b"head", &forged).unwrap_err().contains("does not trust"));
        assert!(trust.check("k1", other.public_hex(), b"head", &forged).unwrap_err().contains("not the trusted key"));
        let both = Trust::new(&signer, &format!("k2:{}", other.public_hex())).unwrap();
        assert!(both.check("k2", other.public_hex(), b"head", &forged).is_ok(), "a rotated-out key stays trusted when listed");
        assert!(AnchorSigner::from_hex("k", "00").is_err());
        assert!(AnchorSigner::from_hex("k", &"00".repeat(32)).is_err(), "zero is no private key");
        assert!(Trust::new(&signer, "k3").is_err());
    }
}
