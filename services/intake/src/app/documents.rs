//! Use cases of the dossier's documents (R-X1, R-I4, R-I8): the upload through the platform's one
//! upload sequence, and the verified download.

use bytes::Bytes;
use egov_platform::{
    AppError,
    auth::Principal,
    documents::{self, StoredObject, Uploaded},
    transition::{self, Context},
};
use futures::{FutureExt, Stream};
use tracing::instrument;
use uuid::Uuid;

use super::Intake;
use crate::{
    domain::{application, *},
    storage::{self, StoredDocument},
};

/// An upload's header, parsed.
#[derive(Debug, Clone)]
pub(crate) struct DocumentHeader {
    pub request_id: String,
    pub application_id: Uuid,
    pub kind: DocumentKind,
    pub file_name: String,
    pub content_type: String,
    pub street: String,
}

/// A document and its verified content.
pub(crate) struct Download {
    pub document: StoredDocument,
    pub content: Bytes,
}

impl Intake {
    /// The lead unit adds a document to its editable dossier. Checked before a byte is stored
    /// (unit, state, street), and again in the transaction that records it.
    #[instrument(skip_all, fields(project_id = %h.application_id), err)]
    pub(crate) async fn upload_document<S>(&self, p: &Principal, h: DocumentHeader, chunks: S) -> Result<StoredDocument, AppError>
    where
        S: Stream<Item = Result<Bytes, AppError>> + Send,
    {
        let app = {
            let mut c = self.pool.acquire().await?;
            storage::get_application(&mut c, h.application_id, false).await?
        };
        p.ensure_unit(&app.lead_unit_id, [])?;
        let policy = self.policy.pinned(&app.policy_version)?;
        application::accept_document(&app, h.kind, &h.street, Context::new(self.clock.now(), &policy))?;
        let origin = self.origin(p, &h.request_id);
        let app_id = h.application_id;
        let uploaded = self
            .documents
            .upload(
                &self.pool,
                "UploadDocument",
                &h.request_id,
                |id| format!("applications/{app_id}/{id}"),
                chunks,
                move |tx, document_id, stored: StoredObject| {
                    async move {
                        let current = storage::get_application(tx, app_id, true).await?;
                        if current.state != app.state {
                            return Err(AppError::Aborted("the application changed state during the upload; retry".into()));
                        }
                        let doc = StoredDocument {
                            document_id,
                            application_id: app_id,
                            kind: h.kind,
                            file_name: h.file_name,
                            content_type: documents::content_type(&h.content_type),
                            size_bytes: stored.size as i64,
                            sha256: stored.sha256,
                            sm3: stored.sm3,
                            street: h.street,
                            object_path: stored.path,
                            uploaded_by: origin.actor.subject.clone(),
                            uploaded_at: origin.at,
                        };
                        storage::insert_document(tx, &doc).await?;
                        let effects = application::document_added(&doc.meta(), doc.size_bytes, &doc.sha256, &doc.sm3);
                        let resource = format!("applications/{app_id}/documents/{document_id}");
                        transition::record(tx, &origin, &resource, &app_id.to_string(), &current.policy_version, effects).await?;
                        Ok(doc)
                    }
                    .boxed()
                },
            )
            .await?;
        match uploaded {
            Uploaded::New(doc) => Ok(doc),
            Uploaded::Earlier(id) => {
                let mut c = self.pool.acquire().await?;
                storage::get_document(&mut c, id).await
            }
        }
    }

    /// A document of an application the caller may read, its content verified against its hashes.
    #[instrument(skip_all, fields(document_id = %id), err)]
    pub(crate) async fn download_document(&self, p: &Principal, id: Uuid) -> Result<Download, AppError> {
        let document = {
            let mut c = self.pool.acquire().await?;
            storage::get_document(&mut c, id).await?
        };
        self.read_application(p, document.application_id).await?;
        let content = self.documents.get_verified(&document.object_path, &document.sha256, &document.sm3).await?;
        Ok(Download { document, content })
    }
}
