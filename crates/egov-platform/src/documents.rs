//! Document storage (R-X1): streamed uploads through `object_store` (a local directory by
//! default, S3 in production), SHA-256 and SM3 computed while streaming, and downloads that
//! verify both hashes before a byte is returned.

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart, local::LocalFileSystem, path::Path};
use sha2::{Digest as _, Sha256};
use sm3::Sm3;

use crate::error::{AppError, FieldViolation};

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
}

impl DocumentStore {
    /// A store in a local directory (created when missing).
    pub fn local(dir: &str, max_bytes: u64) -> anyhow::Result<DocumentStore> {
        std::fs::create_dir_all(dir)?;
        Ok(DocumentStore { store: Arc::new(LocalFileSystem::new_with_prefix(dir)?), max_bytes })
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
            writer.put(chunk);
        }
        if size == 0 {
            let _ = writer.abort().await;
            return Err(AppError::InvalidArgument(vec![FieldViolation::new("chunk", "document is empty (0 bytes) / 文件为空")]));
        }
        writer.finish().await.map_err(store_error)?;
        Ok(StoredObject { path: path.to_string(), size, sha256: hex::encode(sha.finalize()), sm3: hex::encode(sm.finalize()) })
    }

    /// Reads `path` whole and checks it against the recorded hashes: `DATA_LOSS` on mismatch.
    pub async fn get_verified(&self, path: &str, sha256: &str, sm3: &str) -> Result<Bytes, AppError> {
        let got = self.store.get(&Path::from(path)).await.map_err(store_error)?;
        let bytes = got.bytes().await.map_err(store_error)?;
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
