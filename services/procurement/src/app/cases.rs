//! Use cases of a case by its unit (and DRB for a stage's condition): procurement, the contract,
//! payments, progress, overruns, completion and termination. Each is one transition (see
//! [`Procurement::transition`]).

use egov_platform::{AppError, auth::Principal, values::Fen};
use tracing::instrument;
use uuid::Uuid;

use super::{Procurement, actor};
use crate::domain::{
    ProcurementCase, YearMonth,
    case::{self, CompletionDeclaration, ContractFiling, Report},
    payments::PaymentStage,
    termination::TerminationFiling,
};

/// Nothing makes the step a duplicate.
fn never(_: &ProcurementCase) -> Option<String> {
    None
}

impl Procurement {
    /// R-P1, R-P3, R-P4, R-P5: the unit records its completed procurement.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn record_procurement(
        &self,
        p: &Principal,
        request_id: &str,
        id: Uuid,
        etag: i64,
        cmd: case::Procurement,
    ) -> Result<ProcurementCase, AppError> {
        let calendar = &self.calendar;
        self.transition(p, request_id, id, etag, never, |k, ctx| case::record_procurement(k, cmd, ctx, calendar)).await
    }

    /// R-P2, R-P5, R-P9: the unit files the contract; construction starts.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn file_contract(
        &self,
        p: &Principal,
        request_id: &str,
        id: Uuid,
        etag: i64,
        cmd: ContractFiling,
    ) -> Result<ProcurementCase, AppError> {
        let calendar = &self.calendar;
        self.transition(p, request_id, id, etag, never, |k, ctx| case::file_contract(k, cmd, ctx, calendar)).await
    }

    /// R-P6: the contract's payment stages.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn set_payment_plan(
        &self,
        p: &Principal,
        request_id: &str,
        id: Uuid,
        etag: i64,
        stages: Vec<PaymentStage>,
    ) -> Result<ProcurementCase, AppError> {
        self.transition(p, request_id, id, etag, never, |k, ctx| case::set_payment_plan(k, stages, ctx)).await
    }

    /// R-P6: a stage's payment condition is met (the lead unit or DRB, with evidence).
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn mark_stage_condition_met(
        &self,
        p: &Principal,
        request_id: &str,
        id: Uuid,
        etag: i64,
        stage_id: &str,
        evidence: &str,
    ) -> Result<ProcurementCase, AppError> {
        let by = actor(p);
        self.transition(p, request_id, id, etag, never, |k, ctx| case::mark_stage_condition_met(k, stage_id, evidence, &by, ctx)).await
    }

    /// R-P6: a fund payment filing.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn file_payment(
        &self,
        p: &Principal,
        request_id: &str,
        id: Uuid,
        etag: i64,
        stage_id: &str,
        amount: Fen,
    ) -> Result<ProcurementCase, AppError> {
        self.transition(p, request_id, id, etag, never, |k, ctx| case::file_payment(k, stage_id, amount, request_id, ctx)).await
    }

    /// R-P7: a month's progress report; a month reported already is ALREADY_EXISTS.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn report_progress(
        &self,
        p: &Principal,
        request_id: &str,
        id: Uuid,
        etag: i64,
        report: Report,
    ) -> Result<ProcurementCase, AppError> {
        let (by, month): (String, YearMonth) = (actor(p), report.month);
        let exists = move |k: &ProcurementCase| case::report_exists(k, month);
        self.transition(p, request_id, id, etag, exists, |k, ctx| case::report_progress(k, report, &by, ctx)).await
    }

    /// R-P8: the unit explains the overrun; an explanation on file already is ALREADY_EXISTS.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn explain_overrun(
        &self,
        p: &Principal,
        request_id: &str,
        id: Uuid,
        etag: i64,
        explanation: &str,
    ) -> Result<ProcurementCase, AppError> {
        self.transition(p, request_id, id, etag, case::explanation_exists, |k, ctx| case::explain_overrun(k, explanation, ctx)).await
    }

    /// R-P8: the unit declares construction complete; acceptance opens on the event.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn declare_construction_complete(
        &self,
        p: &Principal,
        request_id: &str,
        id: Uuid,
        etag: i64,
        declaration: CompletionDeclaration,
    ) -> Result<ProcurementCase, AppError> {
        self.transition(p, request_id, id, etag, never, |k, ctx| case::declare_construction_complete(k, declaration, ctx)).await
    }

    /// R-P10: the unit revokes or terminates the project.
    #[instrument(skip_all, fields(project_id = %id), err)]
    pub(crate) async fn terminate_project(
        &self,
        p: &Principal,
        request_id: &str,
        id: Uuid,
        etag: i64,
        filing: TerminationFiling,
    ) -> Result<ProcurementCase, AppError> {
        let by = actor(p);
        self.transition(p, request_id, id, etag, never, |k, ctx| case::terminate(k, filing, &by, ctx)).await
    }
}
