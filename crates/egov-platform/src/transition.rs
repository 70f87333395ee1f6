//! The transition pipeline: one [`Change`] and one [`commit`] for every state change of every
//! service.
//!
//! A service's `domain/` decides a transition as a pure function of the current state, the
//! command and a [`Context`] and returns a [`Change`]: the new state of the aggregate plus what
//! happened (action, rule ids, reason, details), the events to publish and the timers to set or
//! cancel. Its `app/` use case loads the aggregate, calls the domain and hands the change to
//! [`commit`], which, in the caller's transaction:
//!
//! 1. bumps the version and stores the aggregate ([`Stored::update`] guarded by the expected
//!    version, so a stale etag is `ABORTED`; [`Stored::insert`] for a new one),
//! 2. appends the audit record (R-X3) with who, which role, what, why, the rules and the policy
//!    version the aggregate is pinned to,
//! 3. enqueues every event in the outbox (the relay publishes them after the commit),
//! 4. sets and cancels timers.
//!
//! No service writes `version += 1`, an audit append or an outbox insert itself. Changes that
//! record something without an aggregate of their own (a penalty entry, a reminder) go through
//! [`record`], which does steps 2 to 4.

use std::future::Future;

use egov_proto::events::event_envelope::Payload;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};

use crate::{
    AppError,
    audit::{self, AuditEntry},
    auth::Principal,
    clock::civil_date,
    error::Refusal,
    outbox,
    policy::{Policy, PolicyBook},
    timers,
};

/// Who makes a change: a person (from the verified token) or the service itself (a consumer or a
/// timer), as the audit trail records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub subject: String,
    pub role: String,
    pub unit_id: String,
}

impl Actor {
    pub fn person(p: &Principal) -> Actor {
        Actor { subject: p.subject.clone(), role: p.role.as_str().to_string(), unit_id: p.unit.clone().unwrap_or_default() }
    }

    /// The service itself (`egov-<service>`, role `SYSTEM`).
    pub fn system(service: &str) -> Actor {
        Actor { subject: format!("egov-{service}"), role: "SYSTEM".into(), unit_id: String::new() }
    }
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Actor {
        Actor::person(p)
    }
}

/// What a domain decision sees besides the state and the command: the instant and civil date it
/// is taken at (from the service's injected clock) and the policy version the aggregate is pinned
/// to. Services with more context (the working-day calendar) pass it beside this.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub now: OffsetDateTime,
    pub today: Date,
    pub policy: &'a Policy,
}

impl<'a> Context<'a> {
    pub fn new(now: OffsetDateTime, policy: &'a Policy) -> Context<'a> {
        Context { now, today: civil_date(now), policy }
    }
}

/// An event a change publishes: its type (the routing key) and payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_type: &'static str,
    pub payload: Payload,
}

/// A timer a change sets or stops, in its transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum TimerOp {
    /// Sets (or moves) the pending timer `kind`/`key` to `due_at`.
    Set { kind: &'static str, key: String, due_at: OffsetDateTime, payload: serde_json::Value },
    /// Cancels the pending timer `kind`/`key`, if any.
    Cancel { kind: &'static str, key: String },
    /// Cancels every pending timer of `kind` whose key starts with `prefix/`.
    CancelUnder { kind: &'static str, prefix: String },
}

/// What happened, besides the new state: recorded in the audit trail, published, and timed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Effects {
    pub action: &'static str,
    pub rule_ids: Vec<String>,
    pub reason: String,
    /// Audit details besides the aggregate's own summary.
    pub details: serde_json::Map<String, serde_json::Value>,
    pub events: Vec<Event>,
    pub timers: Vec<TimerOp>,
    /// The policy version the decision applied, when the aggregate is pinned to none (a unit's
    /// registration records the version in force).
    pub policy_version: Option<String>,
    /// The project the change is about, when the aggregate belongs to none or to several (an
    /// expert's score on one project of a meeting): the audit record's and events' project id.
    pub project_id: Option<String>,
}

impl Effects {
    pub fn new(action: &'static str) -> Effects {
        Effects { action, ..Effects::default() }
    }
    pub fn rules(mut self, ids: &[&str]) -> Effects {
        self.rule_ids = ids.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn reason(mut self, reason: impl Into<String>) -> Effects {
        self.reason = reason.into();
        self
    }
    pub fn detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Effects {
        self.details.insert(key.to_string(), value.into());
        self
    }
    pub fn event(mut self, event_type: &'static str, payload: Payload) -> Effects {
        self.events.push(Event { event_type, payload });
        self
    }
    pub fn set_timer(mut self, kind: &'static str, key: impl Into<String>, due_at: OffsetDateTime, payload: serde_json::Value) -> Effects {
        self.timers.push(TimerOp::Set { kind, key: key.into(), due_at, payload });
        self
    }
    pub fn cancel_timer(mut self, kind: &'static str, key: impl Into<String>) -> Effects {
        self.timers.push(TimerOp::Cancel { kind, key: key.into() });
        self
    }
    pub fn cancel_timers_under(mut self, kind: &'static str, prefix: impl Into<String>) -> Effects {
        self.timers.push(TimerOp::CancelUnder { kind, prefix: prefix.into() });
        self
    }
    pub fn under_policy(mut self, version: impl Into<String>) -> Effects {
        self.policy_version = Some(version.into());
        self
    }
    /// Records the change as about `project_id` (for aggregates that span projects).
    pub fn about_project(mut self, project_id: impl Into<String>) -> Effects {
        self.project_id = Some(project_id.into());
        self
    }
    /// The event types, in order (for tests and logs).
    pub fn event_types(&self) -> Vec<&'static str> {
        self.events.iter().map(|e| e.event_type).collect()
    }
}

/// A decided transition: the aggregate's new state and what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Change<A> {
    pub state: A,
    pub effects: Effects,
}

impl<A> Change<A> {
    pub fn new(state: A, action: &'static str) -> Change<A> {
        Change { state, effects: Effects::new(action) }
    }
    pub fn rules(mut self, ids: &[&str]) -> Change<A> {
        self.effects = self.effects.rules(ids);
        self
    }
    pub fn reason(mut self, reason: impl Into<String>) -> Change<A> {
        self.effects = self.effects.reason(reason);
        self
    }
    pub fn detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Change<A> {
        self.effects = self.effects.detail(key, value);
        self
    }
    pub fn event(mut self, event_type: &'static str, payload: Payload) -> Change<A> {
        self.effects = self.effects.event(event_type, payload);
        self
    }
    pub fn set_timer(
        mut self,
        kind: &'static str,
        key: impl Into<String>,
        due_at: OffsetDateTime,
        payload: serde_json::Value,
    ) -> Change<A> {
        self.effects = self.effects.set_timer(kind, key, due_at, payload);
        self
    }
    pub fn cancel_timer(mut self, kind: &'static str, key: impl Into<String>) -> Change<A> {
        self.effects = self.effects.cancel_timer(kind, key);
        self
    }
    pub fn cancel_timers_under(mut self, kind: &'static str, prefix: impl Into<String>) -> Change<A> {
        self.effects = self.effects.cancel_timers_under(kind, prefix);
        self
    }
    /// Records the policy version the decision applied (for aggregates pinned to none).
    pub fn under_policy(mut self, version: impl Into<String>) -> Change<A> {
        self.effects = self.effects.under_policy(version);
        self
    }
    /// Records the change as about `project_id` (for aggregates that span projects).
    pub fn about_project(mut self, project_id: impl Into<String>) -> Change<A> {
        self.effects = self.effects.about_project(project_id);
        self
    }
    /// The same effects over another state (e.g. a part of the aggregate for a test).
    pub fn map<B>(self, f: impl FnOnce(A) -> B) -> Change<B> {
        Change { state: f(self.state), effects: self.effects }
    }
    /// The event types, in order.
    pub fn event_types(&self) -> Vec<&'static str> {
        self.effects.event_types()
    }
}

/// An aggregate as the pipeline sees it: versioned, pinned to a policy version, belonging to a
/// project, named as an audit resource.
pub trait Aggregate: Send + Sync {
    /// What the aggregate is called in messages ("the application", "the case").
    const NAME: &'static str;
    /// The audit resource name, e.g. `applications/<id>`.
    fn resource(&self) -> String;
    /// The project the aggregate belongs to (the event's and audit record's project id).
    fn project_id(&self) -> String;
    /// The policy version its decisions apply.
    fn policy_version(&self) -> &str;
    fn version(&self) -> i64;
    fn set_version(&mut self, version: i64);
    /// Audit details every record of this aggregate carries (e.g. its state).
    fn summary(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }
}

/// How an aggregate is stored: implemented in the service's `storage/`.
pub trait Stored: Aggregate {
    /// Inserts a new aggregate; `false` when one with the same identity exists already.
    fn insert(&self, conn: &mut PgConnection) -> impl Future<Output = Result<bool, AppError>> + Send;
    /// Stores the aggregate if the stored one still has `expected_version`; `false` otherwise.
    fn update(&self, conn: &mut PgConnection, expected_version: i64) -> impl Future<Output = Result<bool, AppError>> + Send;
}

/// The version the caller read (from the request's etag or a locked load), or none for a new
/// aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    New,
    Version(i64),
}

/// Where a commit comes from: the producing service, who acts, when (the service clock's now),
/// and the request id (a client's idempotency key, an event id or a timer id) that the audit
/// record keeps.
#[derive(Debug, Clone)]
pub struct Origin {
    pub service: &'static str,
    pub actor: Actor,
    pub at: OffsetDateTime,
    pub request_id: String,
}

impl Origin {
    pub fn new(service: &'static str, actor: Actor, at: OffsetDateTime) -> Origin {
        Origin { service, actor, at, request_id: String::new() }
    }
    /// The service itself acting (a consumer, a timer), for the event or timer `request_id`.
    pub fn system(service: &'static str, at: OffsetDateTime, request_id: impl Into<String>) -> Origin {
        Origin { service, actor: Actor::system(service), at, request_id: request_id.into() }
    }
    pub fn request(mut self, request_id: impl Into<String>) -> Origin {
        self.request_id = request_id.into();
        self
    }
}

/// A stale etag, in the words every service uses.
pub fn stale(name: &str, stored: i64, sent: i64) -> AppError {
    AppError::Aborted(format!("{name} has etag {stored}, the request sent {sent}: read it again and retry"))
}

/// Checks a request's etag against the loaded aggregate's version before deciding.
pub fn check_etag<A: Aggregate>(a: &A, etag: i64) -> Result<(), AppError> {
    if a.version() != etag { Err(stale(A::NAME, a.version(), etag)) } else { Ok(()) }
}

/// How an aggregate is found by its id: implemented in the service's `storage/`.
pub trait Load: Stored + Sized {
    type Id: std::fmt::Display + Send + Sync;
    /// The aggregate, locked for the rest of the transaction when `lock`; `None` when unknown.
    fn load(conn: &mut PgConnection, id: &Self::Id, lock: bool) -> impl Future<Output = Result<Option<Self>, AppError>> + Send;
}

/// Loads `id` or answers `NOT_FOUND` naming it.
pub async fn load<A: Load>(conn: &mut PgConnection, id: &A::Id, lock: bool) -> Result<A, AppError> {
    A::load(conn, id, lock).await?.ok_or_else(|| AppError::NotFound(format!("{} {id}", A::NAME)))
}

/// The common transition, start to end in the caller's transaction: load `id` locked, let
/// `authorise` look at it (unit isolation), check the request's `etag` (when it sent one), decide
/// under the policy version the aggregate is pinned to, commit.
pub async fn transition<A, D>(
    conn: &mut PgConnection,
    origin: &Origin,
    policy: &PolicyBook,
    id: &A::Id,
    etag: Option<i64>,
    authorise: impl FnOnce(&A) -> Result<(), AppError> + Send,
    decide: D,
) -> Result<A, AppError>
where
    A: Load,
    D: FnOnce(&A, Context<'_>) -> Result<Change<A>, Refusal> + Send,
{
    let current: A = load(conn, id, true).await?;
    authorise(&current)?;
    if let Some(etag) = etag {
        check_etag(&current, etag)?;
    }
    let pinned = policy.pinned(current.policy_version())?;
    let change = decide(&current, Context::new(origin.at, &pinned))?;
    commit(conn, origin, Expected::Version(current.version()), change).await
}

/// Commits `change` in the caller's transaction (see the module documentation) and returns the
/// stored aggregate with its new version.
pub async fn commit<A: Stored>(conn: &mut PgConnection, origin: &Origin, expected: Expected, change: Change<A>) -> Result<A, AppError> {
    let Change { mut state, effects } = change;
    match expected {
        Expected::New => {
            state.set_version(1);
            if !state.insert(conn).await? {
                return Err(AppError::AlreadyExists(format!("{} {} exists already", A::NAME, state.resource())));
            }
        }
        Expected::Version(v) => {
            state.set_version(v + 1);
            if !state.update(conn, v).await? {
                return Err(AppError::Aborted(format!("{} was changed by someone else (stale etag); read it again and retry", A::NAME)));
            }
        }
    }
    let mut details = state.summary();
    details.insert("version".into(), state.version().into());
    apply(conn, origin, &state.resource(), &state.project_id(), state.policy_version(), details, effects).await?;
    Ok(state)
}

/// Records `effects` about `resource` without storing an aggregate (audit, events, timers).
pub async fn record(
    conn: &mut PgConnection,
    origin: &Origin,
    resource: &str,
    project_id: &str,
    policy_version: &str,
    effects: Effects,
) -> Result<(), AppError> {
    apply(conn, origin, resource, project_id, policy_version, serde_json::Map::new(), effects).await
}

async fn apply(
    conn: &mut PgConnection,
    origin: &Origin,
    resource: &str,
    project_id: &str,
    policy_version: &str,
    mut details: serde_json::Map<String, serde_json::Value>,
    effects: Effects,
) -> Result<(), AppError> {
    let Effects { action, rule_ids, reason, details: extra, events, timers: ops, policy_version: applied, project_id: about } = effects;
    details.extend(extra);
    let policy_version = applied.as_deref().unwrap_or(policy_version);
    let project_id = about.as_deref().unwrap_or(project_id);
    let entry = AuditEntry {
        actor: origin.actor.subject.clone(),
        role: origin.actor.role.clone(),
        unit_id: origin.actor.unit_id.clone(),
        action: action.to_string(),
        resource: resource.to_string(),
        project_id: project_id.to_string(),
        reason,
        rule_ids,
        policy_version: policy_version.to_string(),
        request_id: origin.request_id.to_string(),
        details: serde_json::Value::Object(details),
    };
    audit::append(conn, origin.at, &entry).await?;
    for e in events {
        let envelope = outbox::envelope(origin.service, e.event_type, project_id, policy_version, origin.at, e.payload);
        outbox::enqueue(conn, &envelope).await?;
    }
    set_timers(conn, ops).await
}

/// Sets and cancels `ops` in the caller's transaction and nothing else: for a recurring check
/// whose domain decided no change to store, audit or publish, only its next run (a monthly check
/// that found the month's report in).
pub async fn set_timers(conn: &mut PgConnection, ops: Vec<TimerOp>) -> Result<(), AppError> {
    for op in ops {
        match op {
            TimerOp::Set { kind, key, due_at, payload } => {
                timers::schedule(conn, kind, &key, due_at, payload).await?;
            }
            TimerOp::Cancel { kind, key } => {
                timers::cancel(conn, kind, &key).await?;
            }
            TimerOp::CancelUnder { kind, prefix } => {
                timers::cancel_under(conn, kind, &prefix).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_proto::events as ev;
    use time::macros::datetime;

    #[test]
    fn change_builds_its_effects_in_order() {
        let at = datetime!(2026-03-01 00:00 +8);
        let c = Change::new(7u32, "Act")
            .rules(&["R-I11"])
            .reason("why")
            .detail("k", 1)
            .event("a.b", Payload::ReReviewRequested(ev::ReReviewRequested { application_id: "x".into() }))
            .set_timer("t", "key", at, serde_json::json!({}))
            .cancel_timer("u", "key");
        assert_eq!(c.state, 7);
        assert_eq!(c.effects.rule_ids, vec!["R-I11"]);
        assert_eq!(c.event_types(), vec!["a.b"]);
        assert_eq!(c.effects.timers.len(), 2);
        let about = c.clone().about_project("p-1");
        assert_eq!(about.effects.project_id.as_deref(), Some("p-1"));
        let mapped = c.map(|s| s * 2);
        assert_eq!(mapped.state, 14);
        assert_eq!(mapped.effects.action, "Act");
    }
}
