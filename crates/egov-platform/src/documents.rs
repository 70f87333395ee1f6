//! Document storage (R-X1): streamed uploads through `object_store` (a local directory by
//! default, S3 in production), SHA-256 and SM3 of the plaintext computed while streaming,
//! encrypted at rest with SM4-GCM when a key is configured ([`crate::sealing`]), and downloads
//! that open and verify both hashes before a byte is returned; and the one upload sequence every service's
//! upload RPC runs ([`receive`], then [`DocumentStore::upload`]).

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt, future::BoxFuture};
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart, local::LocalFileSystem, path::Path};
use sha2::{Digest as _, Sha256};
use sm3::Sm3;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    config::DocumentSettings,
    error::{AppError, FieldViolation},
    idempotency,
    sealing::{self, SealingKey},
};

/// What was stored: where, how large, and its content hashes (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub sm3: String,
}

#[derive(Clone)]
pub struct DocumentStore {
    store: Arc<dyn ObjectStore>,
    max_bytes: u64,
    key: Option<SealingKey>,
}

impl DocumentStore {
    /// The store `documents.*` describes: its directory (created when missing), its upload limit,
    /// and its SM4 key when one is configured.
    pub fn from_settings(s: &DocumentSettings) -> anyhow::Result<DocumentStore> {
        let key = match s.sm4_key.expose() {
            "" => None,
            hex_key => Some(SealingKey::from_hex(&s.sm4_key_id, hex_key).map_err(|why| anyhow::anyhow!("documents.sm4_key: {why}"))?),
        };
        Ok(DocumentStore { key, ..DocumentStore::local(&s.dir, s.max_bytes)? })
    }

    /// A store in a local directory (created when missing), storing in clear.
    pub fn local(dir: &str, max_bytes: u64) -> anyhow::Result<DocumentStore> {
        std::fs::create_dir_all(dir)?;
        Ok(DocumentStore { store: Arc::new(LocalFileSystem::new_with_prefix(dir)?), max_bytes, key: None })
    }

    /// The same store, sealing what it stores with `key` from now on.
    pub fn sealed_with(self, key: SealingKey) -> DocumentStore {
        DocumentStore { key: Some(key), ..self }
    }

    /// Whether new documents are encrypted at rest.
    pub fn seals(&self) -> bool {
        self.key.is_some()
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Streams `chunks` to `path`. An empty or over-limit upload is refused (field `chunk`) and
    /// leaves nothing behind.
    pub async fn put_stream<S>(&self, path: &str, chunks: S) -> Result<StoredObject, AppError>
    where
        S: Stream<Item = Result<Bytes, AppError>> + Send,
    {
        let location = Path::from(path);
        let upload = self.store.put_multipart(&location).await.map_err(store_error)?;
        let mut writer = WriteMultipart::new(upload);
        let mut sealer = self.key.as_ref().map(SealingKey::sealer);
        if let Some(s) = &sealer {
            writer.put(Bytes::from(s.header()));
        }
        let mut sha = Sha256::new();
        let mut sm = Sm3::new();
        let mut size = 0u64;
        let mut chunks = std::pin::pin!(chunks);
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e);
                }
            };
            size += chunk.len() as u64;
            if size > self.max_bytes {
                let _ = writer.abort().await;
                return Err(AppError::InvalidArgument(vec![FieldViolation::new(
                    "chunk",
                    format!("document exceeds the limit of {} bytes / 文件超过大小上限", self.max_bytes),
                )]));
            }
            sha.update(&chunk);
            sm.update(&chunk);
            match sealer.as_mut() {
                Some(s) => match s.push(&chunk) {
                    Ok(sealed) if !sealed.is_empty() => writer.put(Bytes::from(sealed)),
                    Ok(_) => {}
                    Err(e) => {
                        let _ = writer.abort().await;
                        return Err(e);
                    }
                },
                None => writer.put(chunk),
            }
        }
        if size == 0 {
            let _ = writer.abort().await;
            return Err(AppError::InvalidArgument(vec![FieldViolation::new("chunk", "document is empty (0 bytes) / 文件为空")]));
        }
        if let Some(s) = sealer {
            match s.finish() {
                Ok(last) => writer.put(Bytes::from(last)),
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e);
                }
            }
        }
        writer.finish().await.map_err(store_error)?;
        Ok(StoredObject { path: path.to_string(), size, sha256: hex::encode(sha.finalize()), sm3: hex::encode(sm.finalize()) })
    }

    /// Reads `path` whole, opens it when it is sealed, and checks the plaintext against the
    /// recorded hashes: `DATA_LOSS` on mismatch or when the ciphertext does not authenticate.
    pub async fn get_verified(&self, path: &str, sha256: &str, sm3: &str) -> Result<Bytes, AppError> {
        let got = self.store.get(&Path::from(path)).await.map_err(store_error)?;
        let stored = got.bytes().await.map_err(store_error)?;
        let bytes = if sealing::is_sealed(&stored) { Bytes::from(sealing::open_with(self.key.as_ref(), &stored)?) } else { stored };
        let sha_now = hex::encode(Sha256::digest(&bytes));
        let sm_now = hex::encode(Sm3::digest(&bytes));
        if sha_now != sha256 || sm_now != sm3 {
            return Err(AppError::DataLoss(format!(
                "document {path} no longer matches its recorded SHA-256/SM3 hashes / 文件内容与登记的哈希不一致"
            )));
        }
        Ok(bytes)
    }

    /// Deletes an object (e.g. after the database refused its metadata).
    pub async fn delete(&self, path: &str) {
        if let Err(e) = self.store.delete(&Path::from(path)).await {
            tracing::warn!(path, error = %e, "could not delete orphaned document");
        }
    }
}

/// One message of a streamed upload: the header first, then content chunks.
pub enum UploadPart<H> {
    Header(H),
    Chunk(Vec<u8>),
}

/// Splits a streamed upload into its header and its content chunks; `part` takes a message
/// apart (its `oneof part { Header header; bytes chunk; }`). The first message must be the header
/// (field `header`); a second header or an empty message among the chunks is refused (field
/// `chunk`); a broken stream is `UNAVAILABLE`.
pub async fn receive<M, H>(
    mut stream: tonic::Streaming<M>,
    part: fn(M) -> Option<UploadPart<H>>,
) -> Result<(H, impl Stream<Item = Result<Bytes, AppError>> + Send), AppError>
where
    M: Send + 'static,
{
    let header = match stream.message().await {
        Ok(Some(m)) => match part(m) {
            Some(UploadPart::Header(h)) => h,
            _ => return Err(AppError::field("header", "the first message of an upload is its header")),
        },
        Ok(None) => return Err(AppError::field("header", "the first message of an upload is its header")),
        Err(s) => return Err(upload_interrupted(&s)),
    };
    let chunks = stream.map(move |m| match m {
        Ok(m) => match part(m) {
            Some(UploadPart::Chunk(b)) => Ok(Bytes::from(b)),
            _ => Err(AppError::field("chunk", "after the header, an upload sends only content chunks")),
        },
        Err(s) => Err(upload_interrupted(&s)),
    });
    Ok((header, chunks))
}

fn upload_interrupted(s: &tonic::Status) -> AppError {
    // A client that sends bytes that are not protobuf gets INVALID_ARGUMENT, not the decoder's
    // internals.
    if s.code() == tonic::Code::Internal {
        return AppError::field("chunk", "the upload stream is not a valid message sequence");
    }
    AppError::Unavailable(format!("upload interrupted: {}", crate::request::bounded(s.message())))
}

/// What [`DocumentStore::upload`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uploaded<T> {
    /// A retry: an earlier upload with the same request id made this document; nothing was stored.
    Earlier(Uuid),
    /// The content is stored and `save` committed its record.
    New(T),
}

impl DocumentStore {
    /// The upload sequence, the same in every service:
    ///
    /// 1. a request id seen before in `scope` answers with the document it made ([`Uploaded::Earlier`]);
    /// 2. the chunks stream into the store at `path_of(document id)`, hashed (SHA-256, SM3) on the way;
    /// 3. one transaction runs `save` (which stores the document's record and commits the change
    ///    it makes, re-checking that the aggregate still takes it) and records the request id;
    /// 4. if anything after step 2 fails, the stored content is deleted: nothing is half-done.
    pub async fn upload<T, S, F>(
        &self,
        pool: &PgPool,
        scope: &str,
        request_id: &str,
        path_of: impl FnOnce(Uuid) -> String,
        chunks: S,
        save: F,
    ) -> Result<Uploaded<T>, AppError>
    where
        S: Stream<Item = Result<Bytes, AppError>> + Send,
        F: for<'c> FnOnce(&'c mut PgConnection, Uuid, StoredObject) -> BoxFuture<'c, Result<T, AppError>>,
    {
        {
            let mut conn = pool.acquire().await?;
            if let Some(existing) = idempotency::lookup(&mut conn, scope, request_id).await? {
                let id = Uuid::parse_str(&existing)
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("idempotency record {scope}/{request_id}: {e}")))?;
                return Ok(Uploaded::Earlier(id));
            }
        }
        let document_id = Uuid::now_v7();
        let path = path_of(document_id);
        let stored = self.put_stream(&path, chunks).await?;
        let saved: Result<T, AppError> = async {
            let mut tx = pool.begin().await?;
            let out = save(&mut tx, document_id, stored).await?;
            idempotency::record(&mut tx, scope, request_id, &document_id.to_string()).await?;
            tx.commit().await?;
            Ok(out)
        }
        .await;
        match saved {
            Ok(out) => Ok(Uploaded::New(out)),
            Err(e) => {
                self.delete(&path).await;
                Err(e)
            }
        }
    }
}

/// A download's content in chunks of at most 64 KiB (what every download RPC streams after the
/// document's metadata).
pub fn download_chunks(bytes: &Bytes) -> Vec<Bytes> {
    const CHUNK: usize = 64 * 1024;
    (0..bytes.len()).step_by(CHUNK).map(|start| bytes.slice(start..(start + CHUNK).min(bytes.len()))).collect()
}

/// A content type as sent, or `application/octet-stream` when none was.
pub fn content_type(raw: &str) -> String {
    let t = raw.trim();
    if t.is_empty() { "application/octet-stream".to_string() } else { t.to_string() }
}

/// An uploaded document's file name: 1 to 255 bytes, trimmed, without path separators (it never
/// becomes part of the stored path, but it is shown back to people and must stay a name).
pub fn file_name(field: &str, raw: &str) -> Result<String, FieldViolation> {
    let name = raw.trim();
    if name.is_empty() || name.len() > 255 || name.contains(['/', '\\', '\0']) {
        return Err(FieldViolation::new(field, "a file name of 1 to 255 bytes without path separators"));
    }
    Ok(name.to_string())
}

fn store_error(e: object_store::Error) -> AppError {
    match e {
        object_store::Error::NotFound { path, .. } => AppError::NotFound(format!("document content {path}")),
        other => AppError::Unavailable(format!("document store: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(max: u64) -> (DocumentStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("egov-docs-{}", uuid::Uuid::now_v7()));
        (DocumentStore::local(dir.to_str().unwrap(), max).unwrap(), dir)
    }

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, AppError>> + Send {
        futures::stream::iter(parts.iter().map(|p| Ok(Bytes::from_static(p))).collect::<Vec<_>>())
    }

    #[tokio::test]
    async fn round_trip_with_hashes() {
        let (s, dir) = store(1024);
        let o = s.put_stream("a/b.txt", chunks(&[b"abc"])).await.unwrap();
        assert_eq!(o.size, 3);
        assert_eq!(o.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        // GB/T 32905 test vector for "abc".
        assert_eq!(o.sm3, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
        assert_eq!(&s.get_verified("a/b.txt", &o.sha256, &o.sm3).await.unwrap()[..], b"abc");
        std::fs::write(dir.join("a/b.txt"), b"abd").unwrap();
        assert!(matches!(s.get_verified("a/b.txt", &o.sha256, &o.sm3).await, Err(AppError::DataLoss(_))));
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn sealed_at_rest_with_sm4_hashes_of_the_plaintext_and_clear_documents_still_read() {
        let (clear, dir) = store(1 << 20);
        let old = clear.put_stream("old.txt", chunks(&[b"stored before the key"])).await.unwrap();
        let key = SealingKey::from_hex("k1", "0123456789abcdeffedcba9876543210").unwrap();
        let s = clear.sealed_with(key);
        assert!(s.seals());
        let text: &'static [u8] = "电子政务项目申报表 / application form ".repeat(5000).leak().as_bytes();
        let o = s.put_stream("a/sealed.pdf", chunks(&[&text[..1000], &text[1000..]])).await.unwrap();
        assert_eq!(o.size, text.len() as u64);
        assert_eq!(o.sha256, hex::encode(Sha256::digest(text)), "the recorded hash is the plaintext's");
        let on_disk = std::fs::read(dir.join("a/sealed.pdf")).unwrap();
        assert!(sealing::is_sealed(&on_disk) && on_disk.len() > text.len());
        assert!(!on_disk.windows(27).any(|w| w == &text[..27]), "no plaintext on disk");
        assert_eq!(&s.get_verified("a/sealed.pdf", &o.sha256, &o.sm3).await.unwrap()[..], text);
        // A document stored in clear before encryption was configured still reads.
        assert_eq!(&s.get_verified("old.txt", &old.sha256, &old.sm3).await.unwrap()[..], b"stored before the key");
        // One changed byte of ciphertext: DATA_LOSS, nothing returned.
        let mut tampered = on_disk.clone();
        let at = tampered.len() / 2;
        tampered[at] ^= 0x01;
        std::fs::write(dir.join("a/sealed.pdf"), &tampered).unwrap();
        assert!(matches!(s.get_verified("a/sealed.pdf", &o.sha256, &o.sm3).await, Err(AppError::DataLoss(_))));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name("f", "  申报表.pdf ").unwrap(), "申报表.pdf");
        for bad in ["", "   ", "a/b.pdf", "a\\b", "x\0y", &"n".repeat(256)] {
            assert_eq!(file_name("header.file_name", bad).unwrap_err().field, "header.file_name", "{bad:?}");
        }
    }

    #[tokio::test]
    async fn empty_and_oversize_refused() {
        let (s, dir) = store(4);
        assert!(matches!(s.put_stream("e", chunks(&[])).await, Err(AppError::InvalidArgument(_))));
        assert!(matches!(s.put_stream("big", chunks(&[b"abc", b"de"])).await, Err(AppError::InvalidArgument(_))));
        assert!(matches!(s.get_verified("big", "", "").await, Err(AppError::NotFound(_))));
        std::fs::remove_dir_all(dir).ok();
    }
}
