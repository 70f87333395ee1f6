//! Use cases of units, their record and application rounds: DRB's registrations and decisions,
//! and what other services' events add to a unit's record.

use egov_platform::{
    AppError,
    auth::Principal,
    idempotency,
    transition::{self, Context, Expected, Origin},
};
use sqlx::PgConnection;
use tracing::instrument;
use uuid::Uuid;

use super::{Intake, SERVICE};
use crate::{
    domain::{
        registry::{self, NewPenalty, NewUnit},
        *,
    },
    storage,
};

impl Intake {
    /// DRB registers a unit; a retried request answers with the unit it registered.
    #[instrument(skip_all, fields(unit_id = %u.unit_id), err)]
    pub(crate) async fn create_unit(&self, p: &Principal, request_id: &str, u: NewUnit) -> Result<Unit, AppError> {
        let mut tx = self.begin().await?;
        if let Some(existing) = idempotency::lookup(&mut tx, "CreateUnit", request_id).await? {
            return storage::get_unit(&mut tx, &existing).await;
        }
        let origin = self.origin(p, request_id);
        let policy = self.policy_now();
        let unit = transition::commit(&mut tx, &origin, Expected::New, registry::create_unit(u, Context::new(origin.at, &policy))).await?;
        idempotency::record(&mut tx, "CreateUnit", request_id, &unit.unit_id).await?;
        tx.commit().await?;
        Ok(unit)
    }

    /// DRB records an entry of a unit's record (R-I10, R-P8).
    #[instrument(skip_all, fields(unit_id = %pen.unit_id), err)]
    pub(crate) async fn record_penalty(&self, p: &Principal, request_id: &str, pen: NewPenalty) -> Result<Penalty, AppError> {
        let origin = self.origin(p, request_id);
        let policy = self.policy_now();
        // Decided before the transaction: a refused entry touches nothing.
        let change = registry::record_penalty(pen, Context::new(origin.at, &policy))?;
        let mut tx = self.begin().await?;
        if let Some(existing) = idempotency::lookup(&mut tx, "RecordUnitPenalty", request_id).await? {
            let id = Uuid::parse_str(&existing).map_err(|e| AppError::Internal(e.into()))?;
            return storage::get_penalty(&mut tx, id).await;
        }
        storage::get_unit(&mut tx, &change.state.unit_id).await?;
        let pen = transition::commit(&mut tx, &origin, Expected::New, change).await?;
        idempotency::record(&mut tx, "RecordUnitPenalty", request_id, &pen.penalty_id.to_string()).await?;
        tx.commit().await?;
        Ok(pen)
    }

    /// Another service found something against a unit (evaluation's suspension, R-E6 → R-I10;
    /// procurement's overrun, R-P8): it joins the unit's record, in the consumer's transaction.
    /// `None` when the unit is not registered here.
    #[instrument(skip_all, fields(unit_id = %pen.unit_id), err)]
    pub(crate) async fn record_penalty_from_event(
        &self,
        tx: &mut PgConnection,
        event_id: &str,
        policy_version: &str,
        pen: NewPenalty,
        ineligible_year: Option<i32>,
    ) -> Result<Option<Penalty>, AppError> {
        if storage::find_unit(tx, &pen.unit_id).await?.is_none() {
            return Ok(None);
        }
        let origin = Origin::system(SERVICE, self.clock.now(), event_id);
        let policy = self.policy_now();
        let change = registry::penalty_from_event(pen, ineligible_year, policy_version, Context::new(origin.at, &policy));
        Ok(Some(transition::commit(tx, &origin, Expected::New, change).await?))
    }

    /// R-I3: DRB opens the year's round; one open round a year (a second is ALREADY_EXISTS).
    #[instrument(skip_all, fields(target_year), err)]
    pub(crate) async fn open_round(&self, p: &Principal, request_id: &str, target_year: i32) -> Result<Round, AppError> {
        let origin = self.origin(p, request_id);
        let policy = self.policy_now();
        let mut tx = self.begin().await?;
        if let Some(existing) = idempotency::lookup(&mut tx, "OpenRound", request_id).await? {
            let id = Uuid::parse_str(&existing).map_err(|e| AppError::Internal(e.into()))?;
            return storage::get_round(&mut tx, id).await;
        }
        if storage::open_rounds(&mut tx).await?.iter().any(|r| r.target_year == target_year) {
            return Err(AppError::AlreadyExists(format!("a round for {target_year} is already open (one round a year, R-I3)")));
        }
        let change = registry::open_round(target_year, Context::new(origin.at, &policy))?;
        let round = transition::commit(&mut tx, &origin, Expected::New, change).await?;
        idempotency::record(&mut tx, "OpenRound", request_id, &round.round_id.to_string()).await?;
        tx.commit().await?;
        Ok(round)
    }

    /// R-I3: DRB closes a round.
    #[instrument(skip_all, fields(round_id = %id), err)]
    pub(crate) async fn close_round(&self, p: &Principal, id: Uuid, etag: i64, reason: &str) -> Result<Round, AppError> {
        let origin = self.origin(p, "");
        let mut tx = self.begin().await?;
        let round = transition::transition(
            &mut tx,
            &origin,
            &self.policy,
            &id,
            Some(etag),
            |_: &Round| Ok(()),
            |r, ctx| registry::close_round(r, reason, ctx),
        )
        .await?;
        tx.commit().await?;
        Ok(round)
    }
}
