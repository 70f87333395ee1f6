//! Use cases of the catalogue (R-E1): an accepted project catalogued (the consumer), a unit's
//! registration, DRB's import, and the reads (entries, schedules, published results, the latest
//! evaluation for R-I6).

use egov_platform::{
    AppError,
    auth::Principal,
    convert,
    documents::{StoredObject, Uploaded},
    request::Page,
    transition::{self, Context, Expected, Load, Origin},
};
use egov_proto::events::{self as ev, EventEnvelope, event_envelope::Payload};
use futures::Stream;
use sqlx::PgConnection;
use tracing::instrument;
use uuid::Uuid;

use super::{Evaluation, SERVICE, own_unit, reading_unit};
use crate::{
    domain::{
        entry::{self, Accepted, NewEntry},
        import::{self, Format, RowError},
        *,
    },
    storage::{self, EntryFilter, ImportRecord, Published},
};

/// An event the consumer cannot use: dead-lettered, not retried.
#[derive(Debug)]
pub(crate) enum Unusable {
    Event(String),
    App(AppError),
}

impl From<AppError> for Unusable {
    fn from(e: AppError) -> Unusable {
        Unusable::App(e)
    }
}

/// What an import did.
#[derive(Debug, Clone)]
pub(crate) struct Imported {
    pub record: ImportRecord,
    pub document_id: Uuid,
    pub errors: Vec<RowError>,
}

fn accepted(p: &ev::ProjectAccepted) -> Result<Accepted, String> {
    let project_id = Uuid::parse_str(p.project_id.trim()).map_err(|_| format!("project_id {:?} is not an id", p.project_id))?;
    let go_live_on = convert::date("go_live_on", p.go_live_on.as_ref()).map_err(|v| format!("{}: {}", v.field, v.description))?;
    let builder = if p.builder_unit_id.is_empty() { p.lead_unit_id.clone() } else { p.builder_unit_id.clone() };
    if builder.trim().is_empty() {
        return Err("neither builder_unit_id nor lead_unit_id is set".into());
    }
    let mut users = p.user_unit_ids.clone();
    if users.is_empty() {
        users.push(builder.clone());
        users.extend(p.participating_unit_ids.iter().cloned());
    }
    Ok(Accepted {
        project_id,
        name: p.project_name.clone(),
        category: p.category.clone(),
        functions: p
            .function_modules
            .iter()
            .map(|m| match m.split_once(['：', ':']) {
                Some((n, d)) => Function { name: n.trim().into(), description: d.trim().into() },
                None => Function { name: m.trim().into(), description: String::new() },
            })
            .collect(),
        go_live_on,
        classified_protection_level: u32::try_from(p.classified_protection_level).unwrap_or(0),
        important_system: p.important_system,
        builder_unit_id: builder,
        operator_unit_id: p.operator_unit_id.clone(),
        user_unit_ids: users,
    })
}

impl Evaluation {
    /// R-A5 → R-E1, R-E2, R-E7: an accepted project's application enters the catalogue with its
    /// schedule, once however often the event comes (the inbox, and the entry's id = the project's).
    #[instrument(skip_all, fields(project_id = %e.project_id), err(Debug))]
    pub(crate) async fn apply_event(&self, tx: &mut PgConnection, e: &EventEnvelope) -> Result<(), Unusable> {
        let Some(Payload::ProjectAccepted(p)) = &e.payload else {
            return Err(Unusable::Event(format!("{} carries no ProjectAccepted payload", e.r#type)));
        };
        let a = accepted(p).map_err(Unusable::Event)?;
        if Entry::load(tx, &a.project_id, true).await?.is_some() {
            return Ok(());
        }
        let origin = Origin::system(SERVICE, self.clock.now(), e.event_id.clone());
        let policy = self.policy.in_force(a.go_live_on.max(self.clock.today()));
        let change = entry::catalogue_accepted(a, Context::new(origin.at, &policy));
        transition::commit(tx, &origin, Expected::New, change).await?;
        Ok(())
    }

    /// R-E1: a unit (or DRB) registers a data, cloud-resource or component entry.
    #[instrument(skip_all, err)]
    pub(crate) async fn register(&self, p: &Principal, request_id: &str, n: NewEntry) -> Result<Entry, AppError> {
        p.ensure_unit(&n.builder_unit_id, [&n.operator_unit_id])?;
        let mut tx = self.begin().await?;
        if let Some(existing) = egov_platform::idempotency::lookup(&mut tx, "RegisterEntry", request_id).await? {
            let id = Uuid::parse_str(&existing).map_err(|e| AppError::Internal(e.into()))?;
            return transition::load(&mut tx, &id, false).await;
        }
        let app = match n.app_id.as_str() {
            "" => None,
            raw => {
                let id = egov_platform::request::id("entry.app_id", raw)?;
                Some(
                    Entry::load(&mut tx, &id, false)
                        .await?
                        .ok_or_else(|| AppError::field("entry.app_id", format!("no catalogue entry {id}")))?,
                )
            }
        };
        let origin = self.origin(p, request_id);
        let policy = self.policy_now();
        let change = entry::register(Uuid::now_v7(), n, app.as_ref(), Context::new(origin.at, &policy))?;
        let e = transition::commit(&mut tx, &origin, Expected::New, change).await?;
        egov_platform::idempotency::record(&mut tx, "RegisterEntry", request_id, &e.entry_id.to_string()).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// R-E1, R-I9: DRB imports the existing application catalogue. The file is stored first
    /// (R-X1), then every good row is created or updated in one transaction with the import's
    /// record; bad rows are reported and skipped. A retried request answers with the first import.
    #[instrument(skip_all, err)]
    pub(crate) async fn import<S>(
        &self,
        p: &Principal,
        request_id: &str,
        file_name: &str,
        format: Format,
        chunks: S,
    ) -> Result<Imported, AppError>
    where
        S: Stream<Item = Result<bytes::Bytes, AppError>> + Send,
    {
        let origin = self.origin(p, request_id);
        let policy = self.policy_now();
        let store = self.documents.clone();
        let by = p.subject.clone();
        let file_name = file_name.to_string();
        let format_name = match format {
            Format::Csv => "CSV",
            Format::Json => "JSON",
        };
        let done = self
            .documents
            .upload(
                &self.pool,
                "ImportCatalogue",
                request_id,
                |id| format!("imports/{id}"),
                chunks,
                move |tx, document_id, stored: StoredObject| {
                    Box::pin(async move {
                        let content = store.get_verified(&stored.path, &stored.sha256, &stored.sm3).await?;
                        let (rows, errors) = import::parse(format, &content);
                        let (mut created, mut updated, mut unchanged) = (0, 0, 0);
                        for row in rows {
                            match storage::find_imported(tx, row.source, &row.external_key).await? {
                                None => {
                                    let change = entry::import_new(Uuid::now_v7(), row, Context::new(origin.at, &policy));
                                    transition::commit(tx, &origin, Expected::New, change).await?;
                                    created += 1;
                                }
                                Some(current) => match entry::import_update(&current, row) {
                                    Some(change) => {
                                        transition::commit(tx, &origin, Expected::Version(current.version), change).await?;
                                        updated += 1;
                                    }
                                    None => unchanged += 1,
                                },
                            }
                        }
                        let record = ImportRecord {
                            import_id: document_id,
                            file_name,
                            format: format_name.into(),
                            path: stored.path,
                            size: stored.size,
                            sha256: stored.sha256,
                            sm3: stored.sm3,
                            uploaded_by: by,
                            uploaded_at: origin.at,
                            created,
                            updated,
                            unchanged,
                            errors: serde_json::Value::Array(
                                errors
                                    .iter()
                                    .map(|e| serde_json::json!({"row": e.row, "field": e.field, "description": e.description}))
                                    .collect(),
                            ),
                        };
                        storage::insert_import(tx, &record).await?;
                        Ok(Imported { record, document_id, errors })
                    })
                },
            )
            .await?;
        match done {
            Uploaded::New(i) => Ok(i),
            Uploaded::Earlier(id) => {
                let mut c = self.pool.acquire().await?;
                let record = storage::get_import(&mut c, id).await?;
                let errors = record
                    .errors
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|e| RowError {
                                row: e["row"].as_u64().unwrap_or(0) as usize,
                                field: e["field"].as_str().unwrap_or_default().into(),
                                description: e["description"].as_str().unwrap_or_default().into(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Imported { record, document_id: id, errors })
            }
        }
    }

    pub(crate) async fn get_entry(&self, p: &Principal, id: Uuid) -> Result<Entry, AppError> {
        let mut c = self.pool.acquire().await?;
        let e: Entry = transition::load(&mut c, &id, false).await?;
        reading_unit(p, &e)?;
        Ok(e)
    }

    pub(crate) async fn list_entries(&self, p: &Principal, mut f: EntryFilter, page: Page<Uuid>) -> Result<(Vec<Entry>, String), AppError> {
        if let Some(mine) = own_unit(p) {
            if f.unit_id.as_ref().is_some_and(|u| *u != mine) {
                return Err(AppError::PermissionDenied(format!("unit {mine} may list only its own entries (R-X2)")));
            }
            f.unit_id = Some(mine);
        }
        let mut c = self.pool.acquire().await?;
        let rows = storage::list_entries(&mut c, &f, page.after, page.size + 1).await?;
        Ok(egov_platform::paging::page(rows, page.size, |e| e.entry_id.to_string()))
    }

    pub(crate) async fn list_schedules(
        &self,
        p: &Principal,
        due_by: Option<time::Date>,
        page: Page<Uuid>,
    ) -> Result<(Vec<Entry>, String), AppError> {
        let mut c = self.pool.acquire().await?;
        let mine = own_unit(p);
        let rows = storage::list_scheduled(&mut c, due_by, page.after, page.size + 1).await?;
        let (rows, next) = egov_platform::paging::page(rows, page.size, |e| e.entry_id.to_string());
        Ok((rows.into_iter().filter(|e| mine.as_ref().is_none_or(|u| e.acting_units().contains(&u.as_str()))).collect(), next))
    }

    pub(crate) async fn list_tracked(&self, p: &Principal, page: Page<Uuid>) -> Result<(Vec<Entry>, String), AppError> {
        let mut c = self.pool.acquire().await?;
        let mine = own_unit(p);
        let rows = storage::list_tracked(&mut c, page.after, page.size + 1).await?;
        let (rows, next) = egov_platform::paging::page(rows, page.size, |e| e.entry_id.to_string());
        Ok((rows.into_iter().filter(|e| mine.as_ref().is_none_or(|u| e.acting_units().contains(&u.as_str()))).collect(), next))
    }

    pub(crate) async fn list_published(&self, app_id: Option<Uuid>, page: Page<Uuid>) -> Result<(Vec<Published>, String), AppError> {
        let mut c = self.pool.acquire().await?;
        let rows = storage::list_published(&mut c, app_id, page.after, page.size + 1).await?;
        Ok(egov_platform::paging::page(rows, page.size, |e| e.evaluation_id.to_string()))
    }

    /// R-I6: the latest published evaluation of an application; `None` when it has none (or the
    /// id names no catalogued application).
    pub(crate) async fn latest_evaluation(&self, app_id: &str) -> Result<Option<(Uuid, EvaluationRecord)>, AppError> {
        let Ok(id) = Uuid::parse_str(app_id.trim()) else {
            return if app_id.trim().is_empty() { Err(AppError::field("app_id", "required")) } else { Ok(None) };
        };
        let mut c = self.pool.acquire().await?;
        let e = Entry::load(&mut c, &id, false).await?;
        Ok(e.and_then(|e| e.latest_published().cloned().map(|r| (e.entry_id, r))))
    }
}
