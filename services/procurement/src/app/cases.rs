//! Use cases of a case by its unit (and DRB for a stage's condition): procurement, the contract,
//! payments, progress, overruns, completion and termination. Each is one transition (see
//! [`Procurement::transition`]) of the domain's state machine.

use egov_platform::{AppError, auth::Principal, values::Fen};
use tracing::instrument;

use super::{Procurement, Target, actor};
use crate::domain::{
    ProcurementCase,
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
    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn record_procurement(&self, p: &Principal, t: Target<case::Procurement>) -> Result<ProcurementCase, AppError> {
        let calendar = &self.calendar;
        self.transition(p, t, never, |k, cmd, ctx| case::record_procurement(k, cmd, ctx, calendar)).await
    }

    /// R-P2, R-P5, R-P9: the unit files the contract; construction starts.
    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn file_contract(&self, p: &Principal, t: Target<ContractFiling>) -> Result<ProcurementCase, AppError> {
        let calendar = &self.calendar;
        self.transition(p, t, never, |k, cmd, ctx| case::file_contract(k, cmd, ctx, calendar)).await
    }

    /// R-P6: the contract's payment stages.
    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn set_payment_plan(&self, p: &Principal, t: Target<Vec<PaymentStage>>) -> Result<ProcurementCase, AppError> {
        self.transition(p, t, never, case::set_payment_plan).await
    }

    /// R-P6: a stage's payment condition is met (the lead unit or DRB, with evidence): the
    /// command is (stage id, evidence).
    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn mark_stage_condition_met(&self, p: &Principal, t: Target<(String, String)>) -> Result<ProcurementCase, AppError> {
        let by = actor(p);
        self.transition(p, t, never, |k, (stage, evidence), ctx| case::mark_stage_condition_met(k, &stage, &evidence, &by, ctx)).await
    }

    /// R-P6: a fund payment filing: the command is (stage id, amount).
    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn file_payment(&self, p: &Principal, t: Target<(String, Fen)>) -> Result<ProcurementCase, AppError> {
        let request_id = t.request_id.clone();
        self.transition(p, t, never, |k, (stage, amount), ctx| case::file_payment(k, &stage, amount, &request_id, ctx)).await
    }

    /// R-P7: a month's progress report; a month reported already is ALREADY_EXISTS.
    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn report_progress(&self, p: &Principal, t: Target<Report>) -> Result<ProcurementCase, AppError> {
        let (by, month) = (actor(p), t.command.month);
        let exists = move |k: &ProcurementCase| case::report_exists(k, month);
        self.transition(p, t, exists, |k, report, ctx| case::report_progress(k, report, &by, ctx)).await
    }

    /// R-P8: the unit explains the overrun; an explanation on file already is ALREADY_EXISTS.
    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn explain_overrun(&self, p: &Principal, t: Target<String>) -> Result<ProcurementCase, AppError> {
        self.transition(p, t, case::explanation_exists, |k, why, ctx| case::explain_overrun(k, &why, ctx)).await
    }

    /// R-P8: the unit declares construction complete; acceptance opens on the event.
    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn declare_construction_complete(
        &self,
        p: &Principal,
        t: Target<CompletionDeclaration>,
    ) -> Result<ProcurementCase, AppError> {
        self.transition(p, t, never, case::declare_construction_complete).await
    }

    /// R-P10: the unit revokes or terminates the project.
    #[instrument(skip_all, fields(project_id = %t.id), err)]
    pub(crate) async fn terminate_project(&self, p: &Principal, t: Target<TerminationFiling>) -> Result<ProcurementCase, AppError> {
        let by = actor(p);
        self.transition(p, t, never, |k, filing, ctx| case::terminate(k, filing, &by, ctx)).await
    }
}
