//! Documents encrypted at rest (商用密码应用安全性评估, storage confidentiality and integrity):
//! SM4 in GCM mode, in segments so that an upload is encrypted as it streams.
//!
//! A sealed object is a header and its segments:
//!
//! ```text
//! "EGOVSM4G" | version (1) | key id length (1) | key id | nonce prefix (7)
//! segment*   = SM4-GCM(key, nonce = prefix | counter (4, big-endian) | last (1), aad = header)
//!              of at most 64 KiB of plaintext, each followed by its 16-byte tag
//! ```
//!
//! Every segment's nonce is unique to the object (a random prefix per object, a counter per
//! segment), the header is authenticated with every segment, and only the last segment carries
//! the last flag: a reordered, dropped, truncated or extended segment, another key, or a changed
//! header fails to open (`DATA_LOSS`), as does any flipped bit. The hashes recorded for a document
//! (SHA-256, SM3) stay those of the plaintext, checked again after opening. An object without the
//! magic is a document stored in clear before encryption was configured and is read as it is.

use aes_gcm::{
    AesGcm, KeyInit, Nonce,
    aead::{Aead, Payload, consts::U12},
};
use rand::{RngCore, SeedableRng, rngs::StdRng};
use sm4::Sm4;

use crate::error::AppError;

/// SM4-GCM with a 96-bit nonce.
type Sm4Gcm = AesGcm<Sm4, U12>;

const MAGIC: &[u8; 8] = b"EGOVSM4G";
const VERSION: u8 = 1;
const PREFIX: usize = 7;
const TAG: usize = 16;
/// Plaintext per segment.
pub const SEGMENT: usize = 64 * 1024;

/// The key documents are sealed with, and its id (written into every object).
#[derive(Clone)]
pub struct SealingKey {
    id: String,
    cipher: Sm4Gcm,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingKey({:?}, ***)", self.id)
    }
}

impl SealingKey {
    /// `hex`: 32 hex digits (128 bits); `id`: 1 to 32 bytes of letters, digits, `-`, `_`, `.`.
    pub fn from_hex(id: &str, hex_key: &str) -> Result<SealingKey, String> {
        if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
            return Err("the key id is 1 to 32 letters, digits, '-', '_' or '.'".into());
        }
        let bytes = hex::decode(hex_key.trim()).map_err(|_| "the key is 32 hexadecimal digits (128 bits)".to_string())?;
        let cipher = Sm4Gcm::new_from_slice(&bytes).map_err(|_| "the key is 32 hexadecimal digits (128 bits)".to_string())?;
        Ok(SealingKey { id: id.to_string(), cipher })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// A sealer for one new object.
    pub fn sealer(&self) -> Sealer {
        let mut prefix = [0u8; PREFIX];
        StdRng::from_os_rng().fill_bytes(&mut prefix);
        let mut header = Vec::with_capacity(MAGIC.len() + 2 + self.id.len() + PREFIX);
        header.extend_from_slice(MAGIC);
        header.push(VERSION);
        header.push(self.id.len() as u8);
        header.extend_from_slice(self.id.as_bytes());
        header.extend_from_slice(&prefix);
        Sealer { key: self.clone(), header, prefix, counter: 0, pending: Vec::with_capacity(SEGMENT) }
    }

    /// The plaintext of a stored object: opened when sealed, as it is when stored in clear.
    pub fn open(&self, object: &[u8]) -> Result<Vec<u8>, AppError> {
        open_with(Some(self), object)
    }
}

/// Whether `object` is sealed (starts with the magic).
pub fn is_sealed(object: &[u8]) -> bool {
    object.starts_with(MAGIC)
}

/// Opens `object` with `key`; an object in clear is returned as it is; a sealed object without a
/// key, with another key or altered in any way is `DATA_LOSS`.
pub fn open_with(key: Option<&SealingKey>, object: &[u8]) -> Result<Vec<u8>, AppError> {
    if !is_sealed(object) {
        return Ok(object.to_vec());
    }
    let broken = |why: &str| AppError::DataLoss(format!("the stored document cannot be opened: {why} / 文件密文无法解密或已被改动"));
    let Some(key) = key else {
        return Err(broken("it is encrypted and no documents.sm4_key is configured"));
    };
    let rest = &object[MAGIC.len()..];
    let (&version, rest) = rest.split_first().ok_or_else(|| broken("header cut short"))?;
    if version != VERSION {
        return Err(broken("unknown format version"));
    }
    let (&id_len, rest) = rest.split_first().ok_or_else(|| broken("header cut short"))?;
    let id_len = usize::from(id_len);
    if rest.len() < id_len + PREFIX {
        return Err(broken("header cut short"));
    }
    let (id, rest) = rest.split_at(id_len);
    if id != key.id.as_bytes() {
        return Err(broken(&format!("sealed with key {:?}, the configured key is {:?}", String::from_utf8_lossy(id), key.id)));
    }
    let (prefix, mut body) = rest.split_at(PREFIX);
    let header = &object[..MAGIC.len() + 2 + id_len + PREFIX];
    let mut plain = Vec::with_capacity(body.len());
    let mut counter = 0u32;
    loop {
        let take = body.len().min(SEGMENT + TAG);
        let last = take == body.len();
        if take < TAG {
            return Err(broken("a segment is cut short"));
        }
        let (segment, next) = body.split_at(take);
        let nonce = nonce(prefix, counter, last);
        let opened = key
            .cipher
            .decrypt(&Nonce::<U12>::from(nonce), Payload { msg: segment, aad: header })
            .map_err(|_| broken("a segment does not authenticate"))?;
        plain.extend_from_slice(&opened);
        if last {
            return Ok(plain);
        }
        body = next;
        counter = counter.checked_add(1).ok_or_else(|| broken("too many segments"))?;
    }
}

fn nonce(prefix: &[u8], counter: u32, last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..PREFIX].copy_from_slice(prefix);
    n[PREFIX..PREFIX + 4].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    n
}

/// Seals one object as its plaintext streams in: [`Sealer::push`] returns the bytes ready to
/// store, [`Sealer::finish`] the last segment.
pub struct Sealer {
    key: SealingKey,
    header: Vec<u8>,
    prefix: [u8; PREFIX],
    counter: u32,
    pending: Vec<u8>,
}

impl Sealer {
    /// The object's header: the first bytes to store.
    pub fn header(&self) -> Vec<u8> {
        self.header.clone()
    }

    /// Takes plaintext; returns the sealed segments now complete. A full segment is kept back
    /// until more plaintext comes, as only the last segment may carry the last flag.
    pub fn push(&mut self, mut plain: &[u8]) -> Result<Vec<u8>, AppError> {
        let mut out = Vec::new();
        while !plain.is_empty() {
            if self.pending.len() == SEGMENT {
                out.extend(self.seal(false)?);
            }
            let room = SEGMENT - self.pending.len();
            let (now, later) = plain.split_at(room.min(plain.len()));
            self.pending.extend_from_slice(now);
            plain = later;
        }
        Ok(out)
    }

    /// The last segment (possibly of empty plaintext).
    pub fn finish(mut self) -> Result<Vec<u8>, AppError> {
        self.seal(true)
    }

    fn seal(&mut self, last: bool) -> Result<Vec<u8>, AppError> {
        let nonce = nonce(&self.prefix, self.counter, last);
        let sealed = self
            .key
            .cipher
            .encrypt(&Nonce::<U12>::from(nonce), Payload { msg: &self.pending, aad: &self.header })
            .map_err(|_| AppError::Internal(anyhow::anyhow!("SM4-GCM sealing failed")))?;
        self.pending.clear();
        self.counter = self.counter.checked_add(1).ok_or_else(|| AppError::Internal(anyhow::anyhow!("document too large to seal")))?;
        Ok(sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, hex_key: &str) -> SealingKey {
        SealingKey::from_hex(id, hex_key).unwrap()
    }

    fn seal(k: &SealingKey, plain: &[u8], piece: usize) -> Vec<u8> {
        let mut s = k.sealer();
        let mut out = s.header();
        for c in plain.chunks(piece.max(1)) {
            out.extend(s.push(c).unwrap());
        }
        out.extend(s.finish().unwrap());
        out
    }

    const K: &str = "0123456789abcdeffedcba9876543210";

    #[test]
    #[allow(deprecated)] // the cipher crate's block type is generic-array 0.14's
    fn sm4_is_the_cipher_gb_t_32907_names() {
        // GB/T 32907-2016, appendix A.1: SM4 of the key under itself.
        use sm4::cipher::{BlockEncrypt, KeyInit as _, generic_array::GenericArray};
        let raw: [u8; 16] = hex::decode(K).unwrap().try_into().unwrap();
        let mut block = GenericArray::from(raw);
        Sm4::new_from_slice(&raw).unwrap().encrypt_block(&mut block);
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
    }

    #[test]
    fn sealed_documents_open_to_their_plaintext_whatever_the_sizes() {
        let k = key("k1", K);
        for len in [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 3 * SEGMENT + 17] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            for piece in [1000, SEGMENT, 7 * SEGMENT] {
                let sealed = seal(&k, &plain, piece);
                assert!(is_sealed(&sealed));
                assert_eq!(sealed.len(), k.sealer().header().len() + len + TAG * len.div_ceil(SEGMENT).max(1));
                assert_eq!(k.open(&sealed).unwrap(), plain, "{len} in pieces of {piece}");
                if len > 64 {
                    assert!(!sealed.windows(64).any(|w| w == &plain[..64]), "no plaintext in the stored bytes");
                }
            }
        }
    }

    #[test]
    fn altered_truncated_reordered_or_foreign_objects_are_data_loss() {
        let k = key("k1", K);
        let plain = vec![7u8; 2 * SEGMENT + 100];
        let sealed = seal(&k, &plain, SEGMENT);
        let h = k.sealer().header().len();
        let data_loss = |bytes: &[u8], with: &SealingKey| matches!(with.open(bytes), Err(AppError::DataLoss(_)));
        let mut flipped = sealed.clone();
        flipped[h + 10] ^= 1;
        assert!(data_loss(&flipped, &k), "a flipped bit");
        assert!(data_loss(&sealed[..sealed.len() - 1], &k), "one byte short");
        assert!(data_loss(&sealed[..h + SEGMENT + TAG], &k), "cut after a whole segment (not the last)");
        let mut reordered = sealed[..h].to_vec();
        reordered.extend_from_slice(&sealed[h + SEGMENT + TAG..h + 2 * (SEGMENT + TAG)]);
        reordered.extend_from_slice(&sealed[h..h + SEGMENT + TAG]);
        reordered.extend_from_slice(&sealed[h + 2 * (SEGMENT + TAG)..]);
        assert!(data_loss(&reordered, &k), "segments swapped");
        let mut extended = sealed.clone();
        extended.extend_from_slice(&[0u8; TAG + 5]);
        assert!(data_loss(&extended, &k), "bytes appended");
        let mut header = sealed.clone();
        header[h - 1] ^= 0x80;
        assert!(data_loss(&header, &k), "the nonce prefix changed");
        assert!(data_loss(&sealed, &key("k1", "ffffffffffffffffffffffffffffffff")), "another key with the same id");
        assert!(data_loss(&sealed, &key("k2", K)), "another key id");
        assert!(matches!(open_with(None, &sealed), Err(AppError::DataLoss(_))), "no key configured");
    }

    #[test]
    fn documents_stored_in_clear_read_as_they_are_and_nonces_differ() {
        let k = key("k1", K);
        assert_eq!(k.open(b"%PDF-1.7 plain").unwrap(), b"%PDF-1.7 plain");
        assert_ne!(seal(&k, b"same", 10), seal(&k, b"same", 10), "a fresh nonce prefix per object");
        assert!(SealingKey::from_hex("k1", "abcd").is_err());
        assert!(SealingKey::from_hex("k 1", K).is_err());
        assert!(SealingKey::from_hex("", K).is_err());
    }
}
