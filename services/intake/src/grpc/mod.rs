//! Intake's gRPC handlers: authorise, parse, call the domain, persist state + audit + outbox
//! in one transaction, map errors (through `AppError` → `Status`, the platform's one mapping).

mod convert;
pub mod roles;

use std::{pin::Pin, sync::Arc};

use bytes::Bytes;
use egov_platform::{
    AppError,
    audit::{self, AuditEntry},
    auth::{Principal, Role},
    clock::{SharedClock, civil_date},
    convert::{self as c, Fields},
    documents::{self, DocumentStore},
    error::FieldViolation,
    idempotency, outbox, paging,
    policy::{Policy, PolicyBook},
    timers,
};
use egov_proto::{
    events::{self as ev, event_envelope::Payload},
    intake::{self as pb, intake_server::Intake},
};
use futures::{Stream, StreamExt};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use crate::{
    domain::{rules, *},
    evaluation::SharedEvaluation,
    jobs::RE_REVIEW_DEADLINE,
    messaging::{self, types},
    storage::{self, ApplicationFilter, StoredDocument},
};

/// Everything a handler needs; cheap to share.
pub struct IntakeState {
    pub pool: PgPool,
    pub clock: SharedClock,
    pub policy: Arc<PolicyBook>,
    pub documents: DocumentStore,
    /// `None` when no evaluation service is configured: R-I9 screening is then recorded as not
    /// performed (a flag for the reviewer), and upgrades, which need R-I6's answer, are refused
    /// as UNAVAILABLE.
    pub evaluation: Option<SharedEvaluation>,
}

#[derive(Clone)]
pub struct IntakeApi {
    s: Arc<IntakeState>,
}

impl IntakeApi {
    pub fn new(state: Arc<IntakeState>) -> IntakeApi {
        IntakeApi { s: state }
    }
}

type R<T> = Result<Response<T>, Status>;

fn id_field(field: &str, raw: &str) -> Result<Uuid, AppError> {
    c::uuid(field, raw).map_err(AppError::from)
}

fn etag_field(raw: &str) -> Result<i64, AppError> {
    c::etag("etag", raw).map_err(AppError::from)
}

fn check_etag(version: i64, etag: i64, what: &str) -> Result<(), AppError> {
    if version != etag {
        return Err(AppError::Aborted(format!("{what} has etag {version}, the request sent {etag}: read it again and retry")));
    }
    Ok(())
}

fn page_token(raw: &str) -> Result<Option<Uuid>, AppError> {
    if raw.is_empty() { Ok(None) } else { id_field("page_token", raw).map(Some) }
}

fn page_size(raw: i32) -> Result<i64, AppError> {
    paging::page_size(raw).map_err(AppError::from)
}

/// The effects of a transition, besides the new application state.
struct Change {
    action: &'static str,
    rule_ids: Vec<&'static str>,
    reason: String,
    events: Vec<(&'static str, Payload)>,
    schedule: Option<(OffsetDateTime, &'static str)>,
    cancel: Option<&'static str>,
}

impl Change {
    fn new(action: &'static str) -> Change {
        Change { action, rule_ids: vec![], reason: String::new(), events: vec![], schedule: None, cancel: None }
    }
}

impl IntakeState {
    fn pinned(&self, version: &str) -> Result<Arc<Policy>, AppError> {
        self.policy.version(version).ok_or_else(|| {
            AppError::InvalidState(format!(
                "policy version {version}, pinned by this case, is no longer loaded; restore it in the policy file"
            ))
        })
    }

    fn policy_now(&self) -> Arc<Policy> {
        self.policy.in_force(self.clock.today())
    }

    /// Loads, authorises (UNIT: lead unit only), checks the etag, applies `f`, and stores the
    /// application with its audit record, events and timers in one transaction.
    async fn transition<F>(&self, p: &Principal, id: Uuid, etag: i64, request_id: &str, f: F) -> Result<Application, AppError>
    where
        F: FnOnce(&mut Application, &Policy, OffsetDateTime) -> Result<Change, AppError>,
    {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let mut app = storage::get_application(&mut tx, id, true).await?;
        p.ensure_unit(&app.lead_unit_id, [])?;
        check_etag(app.version, etag, "the application")?;
        let policy = self.pinned(&app.policy_version)?;
        let change = f(&mut app, &policy, now)?;
        app.version += 1;
        storage::update_application(&mut tx, &app).await?;
        self.effects(&mut tx, p, &app, &change, request_id, now).await?;
        tx.commit().await?;
        Ok(app)
    }

    async fn effects(
        &self,
        tx: &mut PgConnection,
        p: &Principal,
        app: &Application,
        change: &Change,
        request_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let id = app.application_id.to_string();
        let entry = AuditEntry::by(p, change.action, format!("applications/{id}"))
            .project(&id)
            .reason(&change.reason)
            .rules(&change.rule_ids)
            .policy(&app.policy_version)
            .request(request_id)
            .details(serde_json::json!({ "state": app.state.as_str(), "version": app.version }));
        audit::append(tx, now, &entry).await?;
        for (t, payload) in &change.events {
            outbox::enqueue(tx, &messaging::envelope(t, &id, &app.policy_version, now, payload.clone())).await?;
        }
        if let Some(kind) = change.cancel {
            timers::cancel(tx, kind, &id).await?;
        }
        if let Some((due, kind)) = change.schedule {
            timers::schedule(tx, kind, &id, due, serde_json::json!({ "application_id": id })).await?;
        }
        Ok(())
    }

    async fn read_application(&self, p: &Principal, id: Uuid) -> Result<(Application, Vec<StoredDocument>), AppError> {
        let mut c = self.pool.acquire().await?;
        let app = storage::get_application(&mut c, id, false).await?;
        p.ensure_unit(&app.lead_unit_id, app.draft.participating_unit_ids.iter())?;
        let docs = storage::documents_of(&mut c, id).await?;
        Ok((app, docs))
    }

    /// R-I9 and R-I6 answers from evaluation, asked before the transaction.
    async fn ask_evaluation(
        &self,
        app: &Application,
        policy: &Policy,
    ) -> Result<(Vec<ScreenedModule>, Option<LatestEvaluation>, Option<ReviewFlag>), AppError> {
        let d = &app.draft;
        let needs_evaluation =
            d.follows_business_application_flow() && d.build_type == Some(BuildType::Upgrade) && !d.upgrade_of_app_id.is_empty();
        let Some(eval) = &self.evaluation else {
            if needs_evaluation {
                return Err(AppError::Unavailable(
                    "no evaluation service is configured, so the upgraded application's latest evaluation (R-I6) cannot be checked; nothing was changed".into(),
                ));
            }
            let flag = ReviewFlag {
                rule_id: "R-I9".into(),
                code: "NOT_SCREENED".into(),
                message: "no evaluation service is configured: the modules were not screened against the application catalogue; the reviewer checks duplicates by hand".into(),
            };
            return Ok((vec![], None, Some(flag)));
        };
        let mut found = Vec::with_capacity(d.modules.len());
        for m in &d.modules {
            let text = if m.description.is_empty() { m.name.clone() } else { format!("{}: {}", m.name, m.description) };
            found.push(eval.search_catalogue(&text, 5).await?);
        }
        let screening = rules::screen(&d.modules, found, policy);
        let latest = if needs_evaluation { eval.latest_evaluation(&d.upgrade_of_app_id).await? } else { None };
        Ok((screening, latest, None))
    }
}

fn principal<T>(r: &Request<T>) -> Result<Principal, AppError> {
    Principal::from_request(r)
}

#[tonic::async_trait]
impl Intake for IntakeApi {
    // ------------------------------------------------------------ units

    async fn create_unit(&self, req: Request<pb::CreateUnitRequest>) -> R<pb::Unit> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let request_id = f.take(idempotency::request_id("request_id", &r.request_id));
        let unit_id = r.unit_id.trim().to_string();
        if unit_id.len() < 2 || unit_id.len() > 32 || !unit_id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-') {
            f.push("unit_id", "2 to 32 letters, digits or '-' (e.g. U-CIVIL)");
        }
        f.required("name", &r.name);
        f.finish()?;
        let request_id = request_id.unwrap_or_default();
        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        if let Some(existing) = idempotency::lookup(&mut tx, "CreateUnit", &request_id).await? {
            return Ok(Response::new(convert::unit(&storage::get_unit(&mut tx, &existing).await?)));
        }
        let u = Unit {
            unit_id: unit_id.clone(),
            name: r.name.trim().to_string(),
            district_budget_unit: r.district_budget_unit,
            state_owned_enterprise: r.state_owned_enterprise,
            runs_platform: r.runs_platform,
            has_street_app: r.has_street_app,
            version: 1,
            created_at: now,
        };
        storage::insert_unit(&mut tx, &u).await?;
        idempotency::record(&mut tx, "CreateUnit", &request_id, &unit_id).await?;
        let policy = self.s.policy_now();
        audit::append(
            &mut tx,
            now,
            &AuditEntry::by(&p, "CreateUnit", format!("units/{unit_id}")).policy(&policy.version).request(&request_id).details(
                serde_json::json!({
                    "district_budget_unit": u.district_budget_unit, "state_owned_enterprise": u.state_owned_enterprise,
                    "runs_platform": u.runs_platform, "has_street_app": u.has_street_app
                }),
            ),
        )
        .await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(convert::unit(&u)))
    }

    async fn get_unit(&self, req: Request<pb::GetUnitRequest>) -> R<pb::Unit> {
        let p = principal(&req)?;
        p.ensure_unit(&req.get_ref().unit_id, [])?;
        let mut c = self.s.pool.acquire().await.map_err(AppError::from)?;
        Ok(Response::new(convert::unit(&storage::get_unit(&mut c, req.get_ref().unit_id.trim()).await?)))
    }

    async fn list_units(&self, req: Request<pb::ListUnitsRequest>) -> R<pb::ListUnitsResponse> {
        let r = req.into_inner();
        let limit = page_size(r.page_size)?;
        let mut c = self.s.pool.acquire().await.map_err(AppError::from)?;
        let rows = storage::list_units(&mut c, &r.page_token, limit + 1).await?;
        let (rows, next) = paging::page(rows, limit, |u| u.unit_id.clone());
        Ok(Response::new(pb::ListUnitsResponse { units: rows.iter().map(convert::unit).collect(), next_page_token: next }))
    }

    async fn record_unit_penalty(&self, req: Request<pb::RecordUnitPenaltyRequest>) -> R<pb::UnitPenalty> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let request_id = f.take(idempotency::request_id("request_id", &r.request_id)).unwrap_or_default();
        let kind = convert::required::<PenaltyKind>(&mut f, "kind", r.kind);
        f.required("unit_id", &r.unit_id);
        f.required("reason", &r.reason);
        let live = f.take(convert::optional_date("went_live_on", r.went_live_on.as_ref())).flatten();
        let stop = f.take(convert::optional_date("stopped_on", r.stopped_on.as_ref())).flatten();
        f.finish()?;
        let kind = kind.ok_or_else(|| AppError::field("kind", "required"))?;
        let now = self.s.clock.now();
        let policy = self.s.policy_now();
        let year = rules::ineligible_year(kind, live, stop, r.found_in_year, &policy)?;
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        if let Some(existing) = idempotency::lookup(&mut tx, "RecordUnitPenalty", &request_id).await? {
            let id = id_field("request_id", &existing)?;
            return Ok(Response::new(convert::penalty(&storage::get_penalty(&mut tx, id).await?)));
        }
        storage::get_unit(&mut tx, r.unit_id.trim()).await?;
        let rule_ids: Vec<&str> = if kind == PenaltyKind::ConstructionOverrun { vec!["R-P8", "R-I10"] } else { vec!["R-I10"] };
        let pen = Penalty {
            penalty_id: Uuid::now_v7(),
            unit_id: r.unit_id.trim().to_string(),
            kind,
            reason: r.reason.trim().to_string(),
            project_id: r.project_id.trim().to_string(),
            went_live_on: live,
            stopped_on: stop,
            ineligible_year: year,
            rule_ids: rule_ids.iter().map(|s| s.to_string()).collect(),
            policy_version: policy.version.clone(),
            recorded_at: now,
        };
        storage::insert_penalty(&mut tx, &pen).await?;
        idempotency::record(&mut tx, "RecordUnitPenalty", &request_id, &pen.penalty_id.to_string()).await?;
        audit::append(
            &mut tx,
            now,
            &AuditEntry::by(&p, "RecordUnitPenalty", format!("units/{}", pen.unit_id))
                .project(&pen.project_id)
                .reason(&pen.reason)
                .rules(&rule_ids)
                .policy(&policy.version)
                .request(&request_id)
                .details(serde_json::json!({ "kind": kind.as_str(), "ineligible_year": year })),
        )
        .await?;
        let payload = Payload::UnitPenaltyRecorded(ev::UnitPenaltyRecorded {
            penalty_id: pen.penalty_id.to_string(),
            unit_id: pen.unit_id.clone(),
            kind: kind.as_str().to_string(),
            ineligible_year: year.unwrap_or(0),
            reason: pen.reason.clone(),
        });
        outbox::enqueue(&mut tx, &messaging::envelope(types::PENALTY_RECORDED, "", &policy.version, now, payload)).await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(convert::penalty(&pen)))
    }

    async fn get_unit_eligibility(&self, req: Request<pb::GetUnitEligibilityRequest>) -> R<pb::UnitEligibility> {
        let p = principal(&req)?;
        let r = req.into_inner();
        p.ensure_unit(&r.unit_id, [])?;
        if !(2000..=2100).contains(&r.year) {
            return Err(AppError::field("year", "the year in which the unit wants to apply, e.g. 2026").into());
        }
        let mut c = self.s.pool.acquire().await.map_err(AppError::from)?;
        storage::get_unit(&mut c, &r.unit_id).await?;
        let all = storage::penalties_of(&mut c, &r.unit_id).await?;
        let suspending = rules::suspending(&all, r.year);
        let eligible = suspending.is_empty();
        // Suspensions of the year, and the whole record of overruns (shown to reviewers, R-I10).
        let shown = all
            .iter()
            .filter(|p| p.ineligible_year == Some(r.year) || p.kind == PenaltyKind::ConstructionOverrun)
            .map(convert::penalty)
            .collect();
        Ok(Response::new(pb::UnitEligibility { unit_id: r.unit_id, year: r.year, eligible, penalties: shown }))
    }

    // ------------------------------------------------------------ rounds

    async fn open_round(&self, req: Request<pb::OpenRoundRequest>) -> R<pb::ApplicationRound> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let request_id = idempotency::request_id("request_id", &r.request_id).map_err(AppError::from)?;
        let now = self.s.clock.now();
        let policy = self.s.policy_now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        if let Some(existing) = idempotency::lookup(&mut tx, "OpenRound", &request_id).await? {
            return Ok(Response::new(convert::round(&storage::get_round(&mut tx, id_field("request_id", &existing)?).await?)));
        }
        let open = storage::open_rounds(&mut tx).await?;
        let deadline = rules::open_round(r.target_year, &open, now, &policy)?;
        let round = Round {
            round_id: Uuid::now_v7(),
            target_year: r.target_year,
            deadline,
            state: RoundState::Open,
            policy_version: policy.version.clone(),
            version: 1,
            opened_at: now,
            closed_at: None,
        };
        storage::insert_round(&mut tx, &round).await?;
        idempotency::record(&mut tx, "OpenRound", &request_id, &round.round_id.to_string()).await?;
        audit::append(
            &mut tx,
            now,
            &AuditEntry::by(&p, "OpenRound", format!("rounds/{}", round.round_id))
                .rules(&["R-I3"])
                .policy(&policy.version)
                .request(&request_id)
                .details(serde_json::json!({ "target_year": r.target_year, "deadline": deadline.to_string() })),
        )
        .await?;
        let payload = Payload::RoundOpened(ev::RoundOpened {
            round_id: round.round_id.to_string(),
            target_year: round.target_year,
            deadline: Some(c::civil(deadline)),
        });
        outbox::enqueue(&mut tx, &messaging::envelope(types::ROUND_OPENED, "", &policy.version, now, payload)).await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(convert::round(&round)))
    }

    async fn close_round(&self, req: Request<pb::CloseRoundRequest>) -> R<pb::ApplicationRound> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("round_id", &r.round_id)?;
        let etag = etag_field(&r.etag)?;
        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        let mut round = storage::get_round(&mut tx, id).await?;
        check_etag(round.version, etag, "the round")?;
        if round.state == RoundState::Closed {
            return Err(AppError::InvalidState("the round is already closed".into()).into());
        }
        round.state = RoundState::Closed;
        round.closed_at = Some(now);
        round.version += 1;
        storage::close_round(&mut tx, &round, etag).await?;
        audit::append(
            &mut tx,
            now,
            &AuditEntry::by(&p, "CloseRound", format!("rounds/{id}")).reason(&r.reason).rules(&["R-I3"]).policy(&round.policy_version),
        )
        .await?;
        let payload = Payload::RoundClosed(ev::RoundClosed { round_id: id.to_string(), reason: r.reason.clone() });
        outbox::enqueue(&mut tx, &messaging::envelope(types::ROUND_CLOSED, "", &round.policy_version, now, payload)).await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(convert::round(&round)))
    }

    async fn get_round(&self, req: Request<pb::GetRoundRequest>) -> R<pb::ApplicationRound> {
        let id = id_field("round_id", &req.get_ref().round_id)?;
        let mut c = self.s.pool.acquire().await.map_err(AppError::from)?;
        Ok(Response::new(convert::round(&storage::get_round(&mut c, id).await?)))
    }

    async fn list_rounds(&self, req: Request<pb::ListRoundsRequest>) -> R<pb::ListRoundsResponse> {
        let r = req.into_inner();
        let limit = page_size(r.page_size)?;
        let after = page_token(&r.page_token)?;
        let mut c = self.s.pool.acquire().await.map_err(AppError::from)?;
        let rows = storage::list_rounds(&mut c, after, limit + 1).await?;
        let (rows, next) = paging::page(rows, limit, |r| r.round_id.to_string());
        Ok(Response::new(pb::ListRoundsResponse { rounds: rows.iter().map(convert::round).collect(), next_page_token: next }))
    }

    // ------------------------------------------------------------ applications

    async fn create_application(&self, req: Request<pb::CreateApplicationRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut f = Fields::new();
        let request_id = f.take(idempotency::request_id("request_id", &r.request_id)).unwrap_or_default();
        f.required("lead_unit_id", &r.lead_unit_id);
        let lead = r.lead_unit_id.trim().to_string();
        let draft = match convert::draft(&lead, r.draft) {
            Ok(d) => Some(d),
            Err(v) => {
                f.0.extend(v);
                None
            }
        };
        f.finish()?;
        // R-I5 / R-X2: a unit applies as lead for itself only.
        if p.unit.as_deref() != Some(lead.as_str()) {
            return Err(AppError::PermissionDenied(format!(
                "unit {} may not apply in the name of unit {lead} (R-X2, R-I5)",
                p.unit.clone().unwrap_or_default()
            ))
            .into());
        }
        let draft = draft.unwrap_or_default();
        let now = self.s.clock.now();
        let policy = self.s.policy_now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        if let Some(existing) = idempotency::lookup(&mut tx, "CreateApplication", &request_id).await? {
            let app = storage::get_application(&mut tx, id_field("request_id", &existing)?, false).await?;
            let docs = storage::documents_of(&mut tx, app.application_id).await?;
            return Ok(Response::new(convert::application(&app, &docs)));
        }
        storage::get_unit(&mut tx, &lead).await?;
        let app = Application::new(Uuid::now_v7(), lead.clone(), draft, policy.version.clone(), now);
        storage::insert_application(&mut tx, &app).await?;
        idempotency::record(&mut tx, "CreateApplication", &request_id, &app.application_id.to_string()).await?;
        storage::upsert_project(
            &mut tx,
            app.application_id,
            &app.draft.name,
            &lead,
            &app.draft.participating_unit_ids,
            "申报草稿 DRAFT",
            now,
        )
        .await?;
        let mut change = Change::new("CreateApplication");
        change.events.push((
            types::APPLICATION_CREATED,
            Payload::ApplicationCreated(ev::ApplicationCreated {
                application_id: app.application_id.to_string(),
                lead_unit_id: lead,
                name: app.draft.name.clone(),
            }),
        ));
        self.s.effects(&mut tx, &p, &app, &change, &request_id, now).await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(convert::application(&app, &[])))
    }

    async fn update_application(&self, req: Request<pb::UpdateApplicationRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("application_id", &r.application_id)?;
        let etag = etag_field(&r.etag)?;
        let lead = p.unit.clone().unwrap_or_default();
        let draft = convert::draft(&lead, r.draft).map_err(AppError::InvalidArgument)?;
        let app = self
            .s
            .transition(&p, id, etag, "", |app, _, _| {
                // Editable while a draft, or while revising after a failed compliance review.
                if !matches!(app.state, ApplicationState::Draft | ApplicationState::ComplianceFailed) {
                    return Err(AppError::InvalidState(format!(
                        "the dossier is editable as a draft or after a failed compliance review; this application is {}",
                        app.state
                    )));
                }
                app.draft = draft;
                Ok(Change::new("UpdateApplication"))
            })
            .await?;
        let mut tx = self.s.pool.acquire().await.map_err(AppError::from)?;
        storage::upsert_project(
            &mut tx,
            id,
            &app.draft.name,
            &app.lead_unit_id,
            &app.draft.participating_unit_ids,
            "申报草稿 DRAFT",
            app.created_at,
        )
        .await?;
        let docs = storage::documents_of(&mut tx, id).await?;
        Ok(Response::new(convert::application(&app, &docs)))
    }

    async fn get_application(&self, req: Request<pb::GetApplicationRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let id = id_field("application_id", &req.get_ref().application_id)?;
        let (app, docs) = self.s.read_application(&p, id).await?;
        Ok(Response::new(convert::application(&app, &docs)))
    }

    async fn list_applications(&self, req: Request<pb::ListApplicationsRequest>) -> R<pb::ListApplicationsResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let limit = page_size(r.page_size)?;
        let after = page_token(&r.page_token)?;
        let mut f = Fields::new();
        let state = convert::optional::<ApplicationState>(&mut f, "state", r.state);
        let round_id = if r.round_id.is_empty() { None } else { f.take(c::uuid("round_id", &r.round_id)) };
        f.finish()?;
        let mut unit_id = (!r.unit_id.is_empty()).then(|| r.unit_id.clone());
        if p.is(Role::Unit) {
            // A unit lists its own (lead or participating) applications, whatever it asked.
            let mine = p.unit.clone().unwrap_or_default();
            if unit_id.as_ref().is_some_and(|u| *u != mine) {
                return Err(AppError::PermissionDenied(format!("unit {mine} may not list applications of unit {}", r.unit_id)).into());
            }
            unit_id = Some(mine);
        }
        let mut c = self.s.pool.acquire().await.map_err(AppError::from)?;
        let rows = storage::list_applications(&mut c, &ApplicationFilter { unit_id, round_id, state }, after, limit + 1).await?;
        let (rows, next) = paging::page(rows, limit, |a| a.application_id.to_string());
        Ok(Response::new(pb::ListApplicationsResponse {
            applications: rows.iter().map(|a| convert::application(a, &[])).collect(),
            next_page_token: next,
        }))
    }

    async fn upload_document(&self, req: Request<Streaming<pb::UploadDocumentRequest>>) -> R<pb::Document> {
        let p = principal(&req)?;
        let mut stream = req.into_inner();
        let header = match stream.message().await? {
            Some(pb::UploadDocumentRequest { part: Some(pb::upload_document_request::Part::Header(h)) }) => h,
            _ => return Err(AppError::field("header", "the first message of an upload is its header").into()),
        };
        let mut f = Fields::new();
        let request_id = f.take(idempotency::request_id("header.request_id", &header.request_id)).unwrap_or_default();
        let app_id = f.take(c::uuid("header.application_id", &header.application_id));
        let kind = convert::required::<DocumentKind>(&mut f, "header.kind", header.kind);
        let file_name = f.take(documents::file_name("header.file_name", &header.file_name)).unwrap_or_default();
        f.finish()?;
        let (app_id, kind) = (app_id.unwrap_or_default(), kind.unwrap_or(DocumentKind::Other));
        let (app, _) = self.s.read_application(&p, app_id).await?;
        p.ensure_unit(&app.lead_unit_id, [])?;
        {
            let mut c = self.s.pool.acquire().await.map_err(AppError::from)?;
            if let Some(existing) = idempotency::lookup(&mut c, "UploadDocument", &request_id).await? {
                let doc = storage::get_document(&mut c, id_field("header.request_id", &existing)?).await?;
                return Ok(Response::new(convert::document(&doc)));
            }
        }
        if !matches!(
            app.state,
            ApplicationState::Draft | ApplicationState::ComplianceFailed | ApplicationState::AwaitingSupplementaryDecision
        ) {
            return Err(AppError::InvalidState(format!(
                "documents are added while the dossier is editable; this application is {}",
                app.state
            ))
            .into());
        }
        let policy = self.s.pinned(&app.policy_version)?;
        let street = header.street.trim().to_string();
        match kind {
            DocumentKind::StreetResearchReport if !policy.streets.contains(&street) => {
                return Err(AppError::InvalidArgument(vec![FieldViolation::new(
                    "header.street",
                    format!("a street research report names one of the district's streets: {}", policy.streets.join("、")),
                )])
                .into());
            }
            DocumentKind::StreetResearchReport => {}
            _ if !street.is_empty() => return Err(AppError::field("header.street", "only a street research report names a street").into()),
            _ => {}
        }
        let document_id = Uuid::now_v7();
        let path = format!("applications/{app_id}/{document_id}");
        let chunks = chunk_stream(stream);
        let stored = self.s.documents.put_stream(&path, chunks).await?;
        let doc = StoredDocument {
            document_id,
            application_id: app_id,
            kind,
            file_name,
            content_type: if header.content_type.is_empty() { "application/octet-stream".into() } else { header.content_type.clone() },
            size_bytes: stored.size as i64,
            sha256: stored.sha256.clone(),
            sm3: stored.sm3.clone(),
            street,
            object_path: path.clone(),
            uploaded_by: p.subject.clone(),
            uploaded_at: self.s.clock.now(),
        };
        let saved: Result<(), AppError> = async {
            let mut tx = self.s.pool.begin().await?;
            let current = storage::get_application(&mut tx, app_id, true).await?;
            if current.state != app.state {
                return Err(AppError::Aborted("the application changed state during the upload; retry".into()));
            }
            storage::insert_document(&mut tx, &doc).await?;
            idempotency::record(&mut tx, "UploadDocument", &request_id, &document_id.to_string()).await?;
            let entry = AuditEntry::by(&p, "UploadDocument", format!("applications/{app_id}/documents/{document_id}"))
                .project(app_id.to_string())
                .rules(&["R-X1"])
                .policy(&app.policy_version)
                .request(&request_id)
                .details(serde_json::json!({ "kind": kind.as_str(), "size": doc.size_bytes, "sha256": doc.sha256, "sm3": doc.sm3, "street": doc.street }));
            audit::append(&mut tx, doc.uploaded_at, &entry).await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        if let Err(e) = saved {
            // Nothing half-done: the content goes if its record could not be stored.
            self.s.documents.delete(&path).await;
            return Err(e.into());
        }
        Ok(Response::new(convert::document(&doc)))
    }

    type DownloadDocumentStream = Pin<Box<dyn Stream<Item = Result<pb::DownloadDocumentResponse, Status>> + Send + 'static>>;

    async fn download_document(&self, req: Request<pb::DownloadDocumentRequest>) -> R<Self::DownloadDocumentStream> {
        let p = principal(&req)?;
        let id = id_field("document_id", &req.get_ref().document_id)?;
        let doc = {
            let mut c = self.s.pool.acquire().await.map_err(AppError::from)?;
            storage::get_document(&mut c, id).await?
        };
        self.s.read_application(&p, doc.application_id).await?;
        let bytes = self.s.documents.get_verified(&doc.object_path, &doc.sha256, &doc.sm3).await?;
        let mut parts =
            vec![Ok(pb::DownloadDocumentResponse { part: Some(pb::download_document_response::Part::Document(convert::document(&doc))) })];
        let mut offset = 0;
        while offset < bytes.len() {
            let end = (offset + 64 * 1024).min(bytes.len());
            parts.push(Ok(pb::DownloadDocumentResponse {
                part: Some(pb::download_document_response::Part::Chunk(bytes.slice(offset..end).to_vec())),
            }));
            offset = end;
        }
        Ok(Response::new(Box::pin(futures::stream::iter(parts))))
    }

    async fn list_documents(&self, req: Request<pb::ListDocumentsRequest>) -> R<pb::ListDocumentsResponse> {
        let p = principal(&req)?;
        let id = id_field("application_id", &req.get_ref().application_id)?;
        let (_, docs) = self.s.read_application(&p, id).await?;
        Ok(Response::new(pb::ListDocumentsResponse { documents: docs.iter().map(convert::document).collect() }))
    }

    async fn record_leader_consent(&self, req: Request<pb::RecordLeaderConsentRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("application_id", &r.application_id)?;
        let current = {
            let mut c = self.s.pool.acquire().await.map_err(AppError::from)?;
            storage::get_application(&mut c, id, false).await?
        };
        let app = self
            .s
            .transition(&p, id, current.version, "", |app, _, now| {
                if !matches!(
                    app.state,
                    ApplicationState::Draft | ApplicationState::AwaitingSupplementaryDecision | ApplicationState::ComplianceFailed
                ) {
                    return Err(AppError::InvalidState(format!(
                        "consent is recorded before submission; this application is {}",
                        app.state
                    )));
                }
                if !app.draft.follows_business_application_flow() {
                    return Err(AppError::InvalidState(
                        "only business-application projects (and 信创 retrofits) need the leader's consent (R-I6)".into(),
                    ));
                }
                app.leader_consent = Some(LeaderConsent { by: p.subject.clone(), comment: r.comment.trim().to_string(), at: now });
                let mut ch = Change::new("RecordLeaderConsent");
                ch.rule_ids = vec!["R-I6"];
                ch.reason = r.comment.trim().to_string();
                ch.events.push((
                    types::LEADER_CONSENT_RECORDED,
                    messaging::status_changed("申报草稿 DRAFT", format!("分管区领导同意 / leader consent recorded by {}", p.subject)),
                ));
                Ok(ch)
            })
            .await?;
        let docs = self.s.read_application(&p, id).await?.1;
        Ok(Response::new(convert::application(&app, &docs)))
    }

    async fn request_supplementary(&self, req: Request<pb::RequestSupplementaryRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("application_id", &r.application_id)?;
        let etag = etag_field(&r.etag)?;
        let app = self
            .s
            .transition(&p, id, etag, "", |app, _, _| {
                rules::request_supplementary(app, &r.urgency_justification)?;
                app.state = ApplicationState::AwaitingSupplementaryDecision;
                app.supplementary = SupplementaryStatus::Requested;
                app.urgency_justification = r.urgency_justification.trim().to_string();
                let mut ch = Change::new("RequestSupplementary");
                ch.rule_ids = vec!["R-I3"];
                ch.reason = app.urgency_justification.clone();
                ch.events.push((
                    types::SUPPLEMENTARY_REQUESTED,
                    messaging::status_changed("增补待定 SUPPLEMENTARY_REQUESTED", "supplementary project requested (增补项目，一事一议)"),
                ));
                Ok(ch)
            })
            .await?;
        Ok(Response::new(convert::application(&app, &[])))
    }

    async fn decide_supplementary(&self, req: Request<pb::DecideSupplementaryRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("application_id", &r.application_id)?;
        let etag = etag_field(&r.etag)?;
        if r.comment.trim().is_empty() {
            return Err(AppError::field("comment", "the decision gives its reasons (一事一议)").into());
        }
        let app = self
            .s
            .transition(&p, id, etag, "", |app, _, _| {
                rules::decide_supplementary(app)?;
                app.state = ApplicationState::Draft;
                app.supplementary = if r.accepted { SupplementaryStatus::Accepted } else { SupplementaryStatus::Refused };
                let mut ch = Change::new("DecideSupplementary");
                ch.rule_ids = vec!["R-I3"];
                ch.reason = r.comment.trim().to_string();
                ch.events.push((
                    types::SUPPLEMENTARY_DECIDED,
                    Payload::SupplementaryDecided(ev::SupplementaryDecided {
                        application_id: id.to_string(),
                        accepted: r.accepted,
                        comment: r.comment.trim().to_string(),
                    }),
                ));
                Ok(ch)
            })
            .await?;
        Ok(Response::new(convert::application(&app, &[])))
    }

    async fn submit_application(&self, req: Request<pb::SubmitApplicationRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("application_id", &r.application_id)?;
        let etag = etag_field(&r.etag)?;
        let round_id = if r.round_id.is_empty() { None } else { Some(id_field("round_id", &r.round_id)?) };
        // Ask evaluation first, outside any transaction: if it cannot answer, nothing changes.
        let (draft_app, _) = self.s.read_application(&p, id).await?;
        p.ensure_unit(&draft_app.lead_unit_id, [])?;
        check_etag(draft_app.version, etag, "the application")?;
        if draft_app.state != ApplicationState::Draft {
            return Err(AppError::InvalidState(format!("only a draft can be submitted; this application is {}", draft_app.state)).into());
        }
        let policy = self.s.pinned(&draft_app.policy_version)?;
        let (screening, latest, not_screened) = self.s.ask_evaluation(&draft_app, &policy).await?;

        let now = self.s.clock.now();
        let mut tx = self.s.pool.begin().await.map_err(AppError::from)?;
        let mut app = storage::get_application(&mut tx, id, true).await?;
        check_etag(app.version, etag, "the application")?;
        if app.draft != draft_app.draft {
            return Err(AppError::Aborted("the dossier changed while it was being screened; retry".into()).into());
        }
        let unit = storage::get_unit(&mut tx, &app.lead_unit_id).await?;
        let unknown = storage::unknown_units(&mut tx, &app.draft.participating_unit_ids).await?;
        let docs = storage::documents_of(&mut tx, id).await?;
        let metas: Vec<DocumentMeta> = docs.iter().map(StoredDocument::meta).collect();
        let round = match round_id {
            Some(rid) => Some(storage::get_round(&mut tx, rid).await?),
            None => None,
        };
        let penalties = storage::penalties_of(&mut tx, &app.lead_unit_id).await?;
        let facts = rules::SubmissionFacts {
            now,
            policy: &policy,
            lead_unit: &unit,
            unknown_participants: unknown,
            documents: &metas,
            round: round.as_ref(),
            penalties: &penalties,
            latest_evaluation: latest,
            screening,
        };
        let sub = rules::check_submission(&app, &facts).map_err(AppError::Rule)?;
        app.version += 1;
        app.state = ApplicationState::Submitted;
        app.round_id = sub.round_id;
        app.flags = sub.flags;
        app.flags.extend(not_screened);
        app.screening = sub.screening;
        app.totals = sub.totals;
        app.submitted_at = Some(now);
        storage::update_application(&mut tx, &app).await?;
        let mut ch = Change::new("SubmitApplication");
        ch.rule_ids = vec!["R-I1", "R-I2", "R-I3", "R-I4", "R-I5", "R-I6", "R-I7", "R-I8", "R-I9", "R-I10", "R-I12"];
        ch.events.push((
            types::SUBMITTED,
            Payload::ApplicationSubmitted(ev::ApplicationSubmitted {
                application_id: id.to_string(),
                lead_unit_id: app.lead_unit_id.clone(),
                round_id: app.round_id.map(|r| r.to_string()).unwrap_or_default(),
                supplementary: app.round_id.is_none(),
            }),
        ));
        self.s.effects(&mut tx, &p, &app, &ch, "", now).await?;
        tx.commit().await.map_err(AppError::from)?;
        Ok(Response::new(convert::application(&app, &docs)))
    }

    async fn get_compliance_checklist(&self, req: Request<pb::GetComplianceChecklistRequest>) -> R<pb::ComplianceChecklist> {
        let p = principal(&req)?;
        let policy = if req.get_ref().application_id.is_empty() {
            self.s.policy_now()
        } else {
            let id = id_field("application_id", &req.get_ref().application_id)?;
            let (app, _) = self.s.read_application(&p, id).await?;
            self.s.pinned(&app.policy_version)?
        };
        Ok(Response::new(pb::ComplianceChecklist {
            policy_version: policy.version.clone(),
            items: policy.compliance_checklist.iter().map(|i| pb::ChecklistItem { code: i.code.clone(), title: i.title.clone() }).collect(),
        }))
    }

    async fn decide_compliance(&self, req: Request<pb::DecideComplianceRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("application_id", &r.application_id)?;
        let etag = etag_field(&r.etag)?;
        let results: Vec<ChecklistResult> = r
            .results
            .iter()
            .map(|x| ChecklistResult { code: x.code.trim().to_string(), passed: x.passed, note: x.note.trim().to_string() })
            .collect();
        let (doc_ids, streets, target_year, record) = {
            let mut c = self.s.pool.acquire().await.map_err(AppError::from)?;
            let docs = storage::documents_of(&mut c, id).await?;
            let app = storage::get_application(&mut c, id, false).await?;
            let record = storage::penalties_of(&mut c, &app.lead_unit_id).await?;
            let target = match app.round_id {
                Some(rid) => storage::get_round(&mut c, rid).await?.target_year,
                None => app.submitted_at.map(|t| civil_date(t).year()).unwrap_or_default(),
            };
            let streets: std::collections::BTreeSet<String> =
                docs.iter().filter(|d| d.kind == DocumentKind::StreetResearchReport).map(|d| d.street.clone()).collect();
            (docs.iter().map(|d| d.document_id.to_string()).collect::<Vec<_>>(), streets.into_iter().collect::<Vec<_>>(), target, record)
        };
        let app = self
            .s
            .transition(&p, id, etag, "", |app, policy, now| {
                let (round, outcome) = rules::decide_compliance(app, &policy.compliance_checklist, &results, now, policy)?;
                let passed = outcome == rules::ComplianceOutcome::Passed;
                app.decisions.push(ComplianceDecision {
                    round,
                    passed,
                    results: results.clone(),
                    comment: r.comment.trim().to_string(),
                    decided_by: p.subject.clone(),
                    decided_at: now,
                    policy_version: policy.version.clone(),
                });
                let mut ch = Change::new(if round == 1 { "DecideCompliance" } else { "DecideReReview" });
                ch.rule_ids = vec!["R-I11"];
                ch.reason = r.comment.trim().to_string();
                match outcome {
                    rules::ComplianceOutcome::Passed => {
                        app.state = ApplicationState::CompliancePassed;
                        ch.events
                            .push((types::COMPLIANCE_PASSED, messaging::compliance_passed(app, streets, doc_ids, target_year, &record)));
                    }
                    rules::ComplianceOutcome::Failed { failed_items, deadline, timer_due } => {
                        app.state = ApplicationState::ComplianceFailed;
                        app.re_review_deadline = Some(deadline);
                        ch.schedule = Some((timer_due, RE_REVIEW_DEADLINE));
                        ch.events.push((
                            types::COMPLIANCE_FAILED,
                            Payload::ComplianceFailed(ev::ComplianceFailed {
                                application_id: id.to_string(),
                                failed_items,
                                re_review_deadline: Some(c::civil(deadline)),
                            }),
                        ));
                    }
                    rules::ComplianceOutcome::Ended { failed_items } => {
                        app.state = ApplicationState::Ended;
                        app.end_reason = format!("复审未通过 / re-review failed on {} (本次申报结束)", failed_items.join(", "));
                        let reason = app.end_reason.clone();
                        ch.events.push((types::ENDED, messaging::ended(app, &reason, &["R-I11"])));
                    }
                }
                Ok(ch)
            })
            .await?;
        let docs = self.s.read_application(&p, id).await?.1;
        Ok(Response::new(convert::application(&app, &docs)))
    }

    async fn request_re_review(&self, req: Request<pb::RequestReReviewRequest>) -> R<pb::Application> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let id = id_field("application_id", &r.application_id)?;
        let etag = etag_field(&r.etag)?;
        let app = self
            .s
            .transition(&p, id, etag, "", |app, _, now| {
                rules::request_re_review(app, now)?;
                app.state = ApplicationState::ReReviewRequested;
                let mut ch = Change::new("RequestReReview");
                ch.rule_ids = vec!["R-I11"];
                ch.reason = r.comment.trim().to_string();
                ch.cancel = Some(RE_REVIEW_DEADLINE);
                ch.events.push((
                    types::RE_REVIEW_REQUESTED,
                    Payload::ReReviewRequested(ev::ReReviewRequested { application_id: id.to_string() }),
                ));
                Ok(ch)
            })
            .await?;
        Ok(Response::new(convert::application(&app, &[])))
    }

    // ------------------------------------------------------------ registry

    async fn get_project_status(&self, req: Request<pb::GetProjectStatusRequest>) -> R<pb::ProjectStatus> {
        let p = principal(&req)?;
        let id = id_field("project_id", &req.get_ref().project_id)?;
        let mut c = self.s.pool.acquire().await.map_err(AppError::from)?;
        let (proj, timeline) = storage::get_project(&mut c, id).await?;
        p.ensure_unit(&proj.lead_unit_id, proj.participating.iter())?;
        Ok(Response::new(project(&proj, &timeline)))
    }

    async fn list_projects(&self, req: Request<pb::ListProjectsRequest>) -> R<pb::ListProjectsResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let limit = page_size(r.page_size)?;
        let after = page_token(&r.page_token)?;
        let mut unit = (!r.unit_id.is_empty()).then(|| r.unit_id.clone());
        if p.is(Role::Unit) {
            let mine = p.unit.clone().unwrap_or_default();
            if unit.as_ref().is_some_and(|u| *u != mine) {
                return Err(AppError::PermissionDenied(format!("unit {mine} may not list projects of unit {}", r.unit_id)).into());
            }
            unit = Some(mine);
        }
        let status = (!r.status.is_empty()).then_some(r.status.as_str());
        let mut c = self.s.pool.acquire().await.map_err(AppError::from)?;
        let rows = storage::list_projects(&mut c, unit.as_deref(), status, after, limit + 1).await?;
        let (rows, next) = paging::page(rows, limit, |p| p.project_id.to_string());
        Ok(Response::new(pb::ListProjectsResponse { projects: rows.iter().map(|p| project(p, &[])).collect(), next_page_token: next }))
    }
}

fn project(p: &storage::ProjectRow, t: &[storage::TimelineRow]) -> pb::ProjectStatus {
    pb::ProjectStatus {
        project_id: p.project_id.to_string(),
        name: p.name.clone(),
        lead_unit_id: p.lead_unit_id.clone(),
        status: p.status.clone(),
        timeline: t
            .iter()
            .map(|e| pb::TimelineEntry {
                event_id: e.event_id.to_string(),
                event_type: e.event_type.clone(),
                producer: e.producer.clone(),
                occurred_at: Some(c::timestamp(e.occurred_at)),
                status: e.status.clone(),
                summary: e.summary.clone(),
            })
            .collect(),
    }
}

/// The content chunks of an upload; a second header is refused.
fn chunk_stream(s: Streaming<pb::UploadDocumentRequest>) -> impl Stream<Item = Result<Bytes, AppError>> + Send {
    s.map(|m| match m {
        Ok(pb::UploadDocumentRequest { part: Some(pb::upload_document_request::Part::Chunk(b)) }) => Ok(Bytes::from(b)),
        Ok(_) => Err(AppError::field("chunk", "after the header, an upload sends only content chunks")),
        Err(s) => Err(AppError::Unavailable(format!("upload interrupted: {}", s.message()))),
    })
}
