//! Runs a parsed command: builds the request, calls the service, prints the answer.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use egov_platform::{
    auth::{Claims, Role, mint_hs256},
    config::LOCAL_DEV_SECRET,
};
use egov_proto::{
    common::{
        AdvanceClockRequest, GetClockRequest, ListAuditRecordsRequest, ListDeadEventsRequest, RedriveDeadEventsRequest,
        VerifyAuditTrailRequest, audit_trail_client::AuditTrailClient, operations_client::OperationsClient,
    },
    intake::{
        CloseRoundRequest, CreateApplicationRequest, CreateUnitRequest, DecideComplianceRequest, DecideSupplementaryRequest,
        DocumentUploadHeader, DownloadDocumentRequest, GetApplicationRequest, GetComplianceChecklistRequest, GetProjectStatusRequest,
        GetRoundRequest, GetUnitEligibilityRequest, GetUnitRequest, ListApplicationsRequest, ListDocumentsRequest, ListProjectsRequest,
        ListRoundsRequest, ListUnitsRequest, OpenRoundRequest, RecordLeaderConsentRequest, RecordUnitPenaltyRequest,
        RequestReReviewRequest, RequestSupplementaryRequest, SubmitApplicationRequest, UpdateApplicationRequest, UploadDocumentRequest,
        download_document_response, intake_client::IntakeClient, upload_document_request,
    },
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::{
    acceptance,
    cli::*,
    client::{self, Authed, Bearer, CliError},
    draft::{self, DraftJson},
    evaluation, procurement,
    render::{self, Output},
    review,
};

/// Size of each uploaded content chunk.
pub const CHUNK: usize = 64 * 1024;

pub type Result<T> = std::result::Result<T, CliError>;

/// What every RPC command needs: where, as whom, how to print.
pub struct Ctx {
    pub endpoint: String,
    /// Where the `review` commands call.
    pub review_endpoint: String,
    /// Where the `procurement` commands call.
    pub procurement_endpoint: String,
    /// Where the `acceptance` commands call.
    pub acceptance_endpoint: String,
    /// Where the `evaluation` commands call.
    pub evaluation_endpoint: String,
    pub timeout: Duration,
    pub bearer: Bearer,
    pub json: bool,
}

impl Ctx {
    async fn channel(&self) -> Result<Authed> {
        self.channel_to(&self.endpoint).await
    }

    /// A connection to `endpoint` that carries the bearer token.
    pub async fn channel_to(&self, endpoint: &str) -> Result<Authed> {
        let ch = client::connect(endpoint, self.timeout).await?;
        Ok(tonic::service::interceptor::InterceptedService::new(ch, self.bearer.clone()))
    }

    async fn intake(&self) -> Result<IntakeClient<Authed>> {
        Ok(IntakeClient::new(self.channel().await?))
    }

    pub fn show(&self, v: &dyn Output) {
        render::print(v, self.json);
    }
}

pub fn request_id(r: &RequestId) -> String {
    r.request_id.clone().unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

fn load_draft(path: &str) -> Result<egov_proto::intake::ApplicationDraft> {
    draft::load(path).map_err(|e| CliError::usage(format!("the draft is not valid:\n{e}")))
}

/// Runs the command; `Ok(code)` is the exit code of a call that completed (1 when its answer is
/// a negative one: not serving, a broken audit chain).
pub async fn run(cli: Cli) -> Result<u8> {
    let ctx = Ctx {
        endpoint: cli.endpoint.clone(),
        review_endpoint: cli.review_endpoint.clone(),
        procurement_endpoint: cli.procurement_endpoint.clone(),
        acceptance_endpoint: cli.acceptance_endpoint.clone(),
        evaluation_endpoint: cli.evaluation_endpoint.clone(),
        timeout: Duration::from_secs(cli.timeout),
        bearer: Bearer::new(cli.token.as_deref())?,
        json: cli.json,
    };
    match cli.command {
        Command::Token(a) => token(&ctx, a),
        Command::Health(a) => health(&ctx, a).await,
        Command::Units(c) => units(&ctx, c).await,
        Command::Penalty(PenaltyCmd::Record { unit, kind, reason, project, went_live_on, stopped_on, found_in_year, request_id: r }) => {
            let p = ctx
                .intake()
                .await?
                .record_unit_penalty(RecordUnitPenaltyRequest {
                    request_id: request_id(&r),
                    unit_id: unit,
                    kind: kind.into(),
                    reason,
                    project_id: project,
                    went_live_on,
                    stopped_on,
                    found_in_year,
                })
                .await?
                .into_inner();
            ctx.show(&p);
            Ok(0)
        }
        Command::Eligibility(EligibilityCmd::Get { unit, year }) => {
            let e = ctx.intake().await?.get_unit_eligibility(GetUnitEligibilityRequest { unit_id: unit, year }).await?.into_inner();
            ctx.show(&e);
            Ok(0)
        }
        Command::Rounds(c) => rounds(&ctx, c).await,
        Command::Applications(c) => applications(&ctx, c).await,
        Command::Documents(c) => documents(&ctx, c).await,
        Command::Consent(ConsentCmd::Record { application_id, comment }) => {
            let a = ctx.intake().await?.record_leader_consent(RecordLeaderConsentRequest { application_id, comment }).await?.into_inner();
            ctx.show(&a);
            Ok(0)
        }
        Command::Supplementary(SupplementaryCmd::Request { application_id, etag, justification }) => {
            let a = ctx
                .intake()
                .await?
                .request_supplementary(RequestSupplementaryRequest { application_id, etag, urgency_justification: justification })
                .await?
                .into_inner();
            ctx.show(&a);
            Ok(0)
        }
        Command::Supplementary(SupplementaryCmd::Decide { application_id, etag, accept, refuse: _, comment }) => {
            let a = ctx
                .intake()
                .await?
                .decide_supplementary(DecideSupplementaryRequest { application_id, etag, accepted: accept, comment })
                .await?
                .into_inner();
            ctx.show(&a);
            Ok(0)
        }
        Command::Submit(SubmitArgs { application_id, etag, round }) => {
            let a = ctx
                .intake()
                .await?
                .submit_application(SubmitApplicationRequest { application_id, etag, round_id: round })
                .await?
                .into_inner();
            ctx.show(&a);
            Ok(0)
        }
        Command::Compliance(c) => compliance(&ctx, c).await,
        Command::ReReview(ReReviewCmd::Request { application_id, etag, comment }) => {
            let a = ctx.intake().await?.request_re_review(RequestReReviewRequest { application_id, etag, comment }).await?.into_inner();
            ctx.show(&a);
            Ok(0)
        }
        Command::Reconcile(a) => crate::reconcile::run(&ctx, a).await,
        Command::Projects(ProjectsCmd::Timeline { project_id }) => crate::reconcile::timeline(&ctx, project_id).await,
        Command::Projects(ProjectsCmd::Status { project_id }) => {
            let p = ctx.intake().await?.get_project_status(GetProjectStatusRequest { project_id }).await?.into_inner();
            ctx.show(&p);
            Ok(0)
        }
        Command::Projects(ProjectsCmd::List { unit, status, paging }) => {
            let r = ctx
                .intake()
                .await?
                .list_projects(ListProjectsRequest { page_size: paging.page_size, page_token: paging.page_token, unit_id: unit, status })
                .await?
                .into_inner();
            ctx.show(&render::Page(&r.projects, &r.next_page_token));
            Ok(0)
        }
        Command::Audit(c) => audit(&ctx, c).await,
        Command::Ops(c) => ops(&ctx, c).await,
        Command::Review(c) => review::run(&ctx, c).await,
        Command::Procurement(c) => procurement::run(&ctx, c).await,
        Command::Acceptance(c) => acceptance::run(&ctx, c).await,
        Command::Evaluation(c) => evaluation::run(&ctx, c).await,
    }
}

// ------------------------------------------------------------------ token and health

fn token(ctx: &Ctx, a: TokenArgs) -> Result<u8> {
    let role = Role::parse(&a.role).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        CliError::usage(format!("--role {:?} is not a role; expected one of {}", a.role, names.join(", ")))
    })?;
    let unit = a.unit.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
    if role == Role::Unit && unit.is_none() {
        return Err(CliError::usage("a UNIT token names its unit: add --unit U-..."));
    }
    let secret = a.secret.unwrap_or_else(|| LOCAL_DEV_SECRET.to_string());
    if secret.is_empty() {
        return Err(CliError::usage("--secret must not be empty"));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = Claims {
        sub: a.sub.unwrap_or_else(|| format!("{}-local", role.as_str().to_ascii_lowercase())),
        role,
        unit,
        iss: a.issuer,
        iat: now,
        exp: now + i64::from(a.ttl_hours) * 3600,
    };
    let token = mint_hs256(secret.as_bytes(), &claims).map_err(|e| CliError::other(format!("cannot sign the token: {e}")))?;
    ctx.show(&render::Token { token: &token, claims: &claims });
    Ok(0)
}

async fn check_health(ch: Channel, service: &str) -> std::result::Result<ServingStatus, tonic::Status> {
    let r = HealthClient::new(ch).check(HealthCheckRequest { service: service.to_string() }).await?.into_inner();
    Ok(ServingStatus::try_from(r.status).unwrap_or(ServingStatus::Unknown))
}

async fn health(ctx: &Ctx, a: HealthArgs) -> Result<u8> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(a.wait);
    let last = loop {
        let attempt = match client::connect(&ctx.endpoint, ctx.timeout).await {
            Ok(ch) => check_health(ch, &a.service).await.map_err(CliError::from),
            Err(e) => Err(e),
        };
        if matches!(attempt, Ok(ServingStatus::Serving)) || tokio::time::Instant::now() >= deadline {
            break attempt;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let status = last?;
    ctx.show(&render::Health { service: &a.service, status: status.as_str_name() });
    Ok(if status == ServingStatus::Serving { 0 } else { 1 })
}

// ------------------------------------------------------------------ units and rounds

async fn units(ctx: &Ctx, c: UnitsCmd) -> Result<u8> {
    let mut cl = ctx.intake().await?;
    match c {
        UnitsCmd::Create { unit_id, name, district_budget_unit, state_owned_enterprise, runs_platform, has_street_app, request_id: r } => {
            let u = cl
                .create_unit(CreateUnitRequest {
                    request_id: request_id(&r),
                    unit_id,
                    name,
                    district_budget_unit,
                    state_owned_enterprise,
                    runs_platform,
                    has_street_app,
                })
                .await?
                .into_inner();
            ctx.show(&u);
        }
        UnitsCmd::Get { unit_id } => ctx.show(&cl.get_unit(GetUnitRequest { unit_id }).await?.into_inner()),
        UnitsCmd::List { paging } => {
            let r = cl.list_units(ListUnitsRequest { page_size: paging.page_size, page_token: paging.page_token }).await?.into_inner();
            ctx.show(&render::Page(&r.units, &r.next_page_token));
        }
    }
    Ok(0)
}

async fn rounds(ctx: &Ctx, c: RoundsCmd) -> Result<u8> {
    let mut cl = ctx.intake().await?;
    let round = match c {
        RoundsCmd::Open { target_year, request_id: r } => {
            cl.open_round(OpenRoundRequest { request_id: request_id(&r), target_year }).await?
        }
        RoundsCmd::Close { round_id, etag, reason } => cl.close_round(CloseRoundRequest { round_id, etag, reason }).await?,
        RoundsCmd::Get { round_id } => cl.get_round(GetRoundRequest { round_id }).await?,
        RoundsCmd::List { paging } => {
            let r = cl.list_rounds(ListRoundsRequest { page_size: paging.page_size, page_token: paging.page_token }).await?.into_inner();
            ctx.show(&render::Page(&r.rounds, &r.next_page_token));
            return Ok(0);
        }
    };
    ctx.show(&round.into_inner());
    Ok(0)
}

// ------------------------------------------------------------------ applications

async fn applications(ctx: &Ctx, c: ApplicationsCmd) -> Result<u8> {
    match c {
        ApplicationsCmd::Create { unit, draft, request_id: r } => {
            let draft = load_draft(&draft)?;
            let a = ctx
                .intake()
                .await?
                .create_application(CreateApplicationRequest { request_id: request_id(&r), lead_unit_id: unit, draft: Some(draft) })
                .await?
                .into_inner();
            ctx.show(&a);
        }
        ApplicationsCmd::Update { application_id, etag, draft } => {
            let draft = load_draft(&draft)?;
            let a = ctx
                .intake()
                .await?
                .update_application(UpdateApplicationRequest { application_id, etag, draft: Some(draft) })
                .await?
                .into_inner();
            ctx.show(&a);
        }
        ApplicationsCmd::Get { application_id, as_draft } => {
            let a = ctx.intake().await?.get_application(GetApplicationRequest { application_id }).await?.into_inner();
            if as_draft {
                let d = DraftJson::from_application(&a);
                println!("{}", serde_json::to_string_pretty(&d).map_err(CliError::other)?);
            } else {
                ctx.show(&a);
            }
        }
        ApplicationsCmd::List { unit, round, state, paging } => {
            let r = ctx
                .intake()
                .await?
                .list_applications(ListApplicationsRequest {
                    page_size: paging.page_size,
                    page_token: paging.page_token,
                    unit_id: unit,
                    round_id: round,
                    state: state.map_or(0, Into::into),
                })
                .await?
                .into_inner();
            ctx.show(&render::Page(&r.applications, &r.next_page_token));
        }
    }
    Ok(0)
}

/// A MIME type for the common dossier formats; anything else is octet-stream.
pub fn guess_content_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "json" => "application/json",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "ofd" => "application/ofd",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Fills `buf` as far as the file allows; 0 at the end of the file.
async fn read_chunk(file: &mut tokio::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = file.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

async fn documents(ctx: &Ctx, c: DocumentsCmd) -> Result<u8> {
    match c {
        DocumentsCmd::Upload { application, kind, file, file_name, content_type, street, request_id: r } => {
            let (f, file_name) = open_upload(&file, file_name).await?;
            let header = DocumentUploadHeader {
                application_id: application,
                kind: kind.into(),
                file_name,
                content_type: content_type.unwrap_or_else(|| guess_content_type(&file).to_string()),
                street,
                request_id: request_id(&r),
            };
            let doc = upload(&mut ctx.intake().await?, header, f, &file).await?;
            ctx.show(&doc);
        }
        DocumentsCmd::Download { document_id, out, force } => {
            if !force && tokio::fs::try_exists(&out).await.unwrap_or(false) {
                return Err(CliError::usage(format!("{} exists: pass --force to replace it", out.display())));
            }
            let mut cl = ctx.intake().await?;
            let (doc, written) = download(&mut cl, document_id, &out).await?;
            ctx.show(&render::Downloaded(&doc, &out.display().to_string(), written));
        }
        DocumentsCmd::List { application } => {
            let r = ctx.intake().await?.list_documents(ListDocumentsRequest { application_id: application }).await?.into_inner();
            ctx.show(&render::DocumentList(&r.documents));
        }
    }
    Ok(0)
}

/// Opens a file to upload: a regular file, and the name it is recorded under (`file_name`, or
/// the file's own name). A file that cannot be opened is a usage error.
pub async fn open_upload(file: &Path, file_name: Option<String>) -> Result<(tokio::fs::File, String)> {
    let f = tokio::fs::File::open(file).await.map_err(|e| CliError::usage(format!("cannot open {}: {e}", file.display())))?;
    let meta = f.metadata().await.map_err(|e| CliError::other(format!("cannot read {}: {e}", file.display())))?;
    if !meta.is_file() {
        return Err(CliError::usage(format!("{} is not a regular file", file.display())));
    }
    let file_name = match file_name {
        Some(n) => n,
        None => file
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
            .ok_or_else(|| CliError::usage(format!("{} has no UTF-8 file name: pass --file-name", file.display())))?,
    };
    Ok((f, file_name))
}

/// An upload's message stream: `header`, then the file in [`CHUNK`]-sized pieces wrapped by
/// `chunk`. A read error mid-file arrives on the returned receiver while the stream stays open
/// (it is never ended, which would look like a complete upload): the caller then drops the
/// call, so the service never stores a truncated file.
pub fn stream_file<M: Send + 'static>(
    header: M,
    mut file: tokio::fs::File,
    chunk: fn(Vec<u8>) -> M,
) -> (ReceiverStream<M>, tokio::sync::oneshot::Receiver<std::io::Error>) {
    // Bounded: the reader stays at most a few chunks ahead of the network.
    let (tx, rx) = tokio::sync::mpsc::channel::<M>(4);
    let (err_tx, err_rx) = tokio::sync::oneshot::channel::<std::io::Error>();
    tokio::spawn(async move {
        if tx.send(header).await.is_err() {
            return;
        }
        let mut buf = vec![0u8; CHUNK];
        loop {
            match read_chunk(&mut file, &mut buf).await {
                Ok(0) => return,
                Ok(n) => {
                    if tx.send(chunk(buf[..n].to_vec())).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = err_tx.send(e);
                    // Keep the stream open until the call is dropped: ending it would look like
                    // a complete upload.
                    tx.closed().await;
                    return;
                }
            }
        }
    });
    (ReceiverStream::new(rx), err_rx)
}

/// Streams the header, then the file (see [`stream_file`]).
async fn upload(
    cl: &mut IntakeClient<Authed>,
    header: DocumentUploadHeader,
    file: tokio::fs::File,
    path: &Path,
) -> Result<egov_proto::intake::Document> {
    use upload_document_request::Part;
    let (stream, err_rx) = stream_file(UploadDocumentRequest { part: Some(Part::Header(header)) }, file, |b| UploadDocumentRequest {
        part: Some(Part::Chunk(b)),
    });
    tokio::select! {
        r = cl.upload_document(stream) => Ok(r?.into_inner()),
        Ok(e) = err_rx => Err(CliError::other(format!("reading {} failed, upload aborted: {e}", path.display()))),
    }
}

/// Writes the content to `<out>.part` and renames it into place when the stream ends cleanly.
async fn download(cl: &mut IntakeClient<Authed>, document_id: String, out: &Path) -> Result<(egov_proto::intake::Document, u64)> {
    use download_document_response::Part;
    let mut stream = cl.download_document(DownloadDocumentRequest { document_id }).await?.into_inner();
    let doc = match stream.message().await? {
        Some(egov_proto::intake::DownloadDocumentResponse { part: Some(Part::Document(d)) }) => d,
        Some(_) => {
            return Err(CliError::other("the service sent content before the document's metadata"));
        }
        None => return Err(CliError::other("the service sent nothing")),
    };
    let mut part = out.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let result = async {
        let mut f = tokio::fs::File::create(&part).await.map_err(|e| CliError::other(format!("cannot create {}: {e}", part.display())))?;
        let mut written: u64 = 0;
        while let Some(msg) = stream.message().await? {
            match msg.part {
                Some(Part::Chunk(b)) => {
                    f.write_all(&b).await.map_err(|e| CliError::other(format!("writing {}: {e}", part.display())))?;
                    written += b.len() as u64;
                }
                Some(Part::Document(_)) => {
                    return Err(CliError::other("the service sent the document's metadata twice"));
                }
                None => {}
            }
        }
        f.flush().await.map_err(|e| CliError::other(format!("writing {}: {e}", part.display())))?;
        f.sync_all().await.map_err(|e| CliError::other(format!("writing {}: {e}", part.display())))?;
        tokio::fs::rename(&part, out)
            .await
            .map_err(|e| CliError::other(format!("cannot move {} to {}: {e}", part.display(), out.display())))?;
        Ok(written)
    }
    .await;
    match result {
        Ok(written) => Ok((doc, written)),
        Err(e) => {
            let _ = tokio::fs::remove_file(&part).await;
            Err(e)
        }
    }
}

/// One message of a streamed download after its header.
pub enum Piece {
    Chunk(Vec<u8>),
    /// The header again: a protocol error.
    HeaderAgain,
    Empty,
}

/// Where a download goes (the acceptance materials, the evaluation audit reports).
pub enum Sink {
    /// `<out>.part`, renamed to `out` once the content is whole.
    File { out: PathBuf, part: PathBuf, file: tokio::fs::File },
    /// Held until the content is whole, then written to standard output: a consumer never gets a
    /// truncated material.
    Stdout(Vec<u8>),
}

impl Sink {
    /// Where `out` says (`-`: standard output), for content of `size` bytes announced.
    pub async fn open(out: &Path, size: i64) -> Result<Sink> {
        if out == Path::new("-") {
            return Ok(Sink::Stdout(Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(64 << 20))));
        }
        let mut part = out.as_os_str().to_owned();
        part.push(".part");
        let part = PathBuf::from(part);
        let file = tokio::fs::File::create(&part).await.map_err(|e| CliError::other(format!("cannot create {}: {e}", part.display())))?;
        Ok(Sink::File { out: out.to_path_buf(), part, file })
    }

    pub async fn write(&mut self, b: &[u8]) -> Result<()> {
        match self {
            Sink::File { part, file, .. } => {
                file.write_all(b).await.map_err(|e| CliError::other(format!("writing {}: {e}", part.display())))
            }
            Sink::Stdout(buf) => {
                buf.extend_from_slice(b);
                Ok(())
            }
        }
    }

    pub async fn finish(self) -> Result<()> {
        match self {
            Sink::File { out, part, mut file } => {
                let io = |e: std::io::Error| CliError::other(format!("writing {}: {e}", part.display()));
                file.flush().await.map_err(io)?;
                file.sync_all().await.map_err(io)?;
                tokio::fs::rename(&part, &out)
                    .await
                    .map_err(|e| CliError::other(format!("cannot move {} to {}: {e}", part.display(), out.display())))
            }
            Sink::Stdout(buf) => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                out.write_all(&buf).and_then(|()| out.flush()).map_err(|e| CliError::other(format!("writing to standard output: {e}")))
            }
        }
    }

    /// Writes every part of a streamed download that follows its header, and keeps the content
    /// only when exactly `size` bytes arrived and the stream ended cleanly; otherwise nothing is
    /// kept. `what` names the header in messages ("material", "report").
    pub async fn receive<S>(mut self, mut parts: S, size: i64, name: &str, what: &str) -> Result<u64>
    where
        S: tokio_stream::Stream<Item = std::result::Result<Piece, tonic::Status>> + Unpin,
    {
        use tokio_stream::StreamExt;
        let received = async {
            let mut written: u64 = 0;
            while let Some(piece) = parts.next().await {
                match piece? {
                    Piece::Chunk(b) => {
                        self.write(&b).await?;
                        written += b.len() as u64;
                    }
                    Piece::HeaderAgain => return Err(CliError::other(format!("the service sent the {what}'s metadata twice"))),
                    Piece::Empty => {}
                }
            }
            let expected = u64::try_from(size).unwrap_or(0);
            if written != expected {
                return Err(CliError::other(format!(
                    "the download is incomplete: {written} of the {expected} bytes of {name} arrived; nothing was kept"
                )));
            }
            Ok(written)
        }
        .await;
        match received {
            Ok(written) => {
                self.finish().await?;
                Ok(written)
            }
            Err(e) => {
                self.discard().await;
                Err(e)
            }
        }
    }

    pub async fn discard(self) {
        if let Sink::File { part, file, .. } = self {
            drop(file);
            let _ = tokio::fs::remove_file(&part).await;
        }
    }
}

// ------------------------------------------------------------------ compliance

async fn compliance(ctx: &Ctx, c: ComplianceCmd) -> Result<u8> {
    let mut cl = ctx.intake().await?;
    match c {
        ComplianceCmd::Checklist { application_id } => {
            ctx.show(&cl.get_compliance_checklist(GetComplianceChecklistRequest { application_id }).await?.into_inner());
        }
        ComplianceCmd::Decide { application_id, etag, results, all_pass, comment } => {
            let results = if all_pass {
                let list = cl
                    .get_compliance_checklist(GetComplianceChecklistRequest { application_id: application_id.clone() })
                    .await?
                    .into_inner();
                if list.items.is_empty() {
                    return Err(CliError::other("the application's checklist has no items"));
                }
                list.items
                    .into_iter()
                    .map(|i| egov_proto::intake::ChecklistResult { code: i.code, passed: true, note: String::new() })
                    .collect()
            } else {
                let mut seen = std::collections::BTreeSet::new();
                for r in &results {
                    if !seen.insert(r.code.as_str()) {
                        return Err(CliError::usage(format!("item {} is answered twice", r.code)));
                    }
                }
                results
            };
            let a = cl.decide_compliance(DecideComplianceRequest { application_id, etag, results, comment }).await?.into_inner();
            ctx.show(&a);
        }
    }
    Ok(0)
}

// ------------------------------------------------------------------ audit and operations

async fn audit(ctx: &Ctx, c: AuditCmd) -> Result<u8> {
    let mut cl = AuditTrailClient::new(ctx.channel().await?);
    match c {
        AuditCmd::List { project, paging } => {
            let r = cl
                .list_audit_records(ListAuditRecordsRequest {
                    project_id: project,
                    page_size: paging.page_size,
                    page_token: paging.page_token,
                })
                .await?
                .into_inner();
            ctx.show(&render::Page(&r.records, &r.next_page_token));
            Ok(0)
        }
        AuditCmd::Verify { project } => {
            let r = cl.verify_audit_trail(VerifyAuditTrailRequest { project_id: project }).await?.into_inner();
            ctx.show(&r);
            Ok(if r.intact { 0 } else { 1 })
        }
    }
}

async fn ops(ctx: &Ctx, c: OpsCmd) -> Result<u8> {
    let mut cl = OperationsClient::new(ctx.channel().await?);
    match c {
        OpsCmd::DeadEvents(DeadEventsCmd::List { page_size }) => {
            let r = cl.list_dead_events(ListDeadEventsRequest { page_size }).await?.into_inner();
            ctx.show(&render::DeadEventList(&r.events));
        }
        OpsCmd::DeadEvents(DeadEventsCmd::Redrive { event_ids }) => {
            let r = cl.redrive_dead_events(RedriveDeadEventsRequest { event_ids }).await?.into_inner();
            ctx.show(&render::Redriven(r.redriven));
        }
        OpsCmd::Clock(ClockCmd::Get) => ctx.show(&cl.get_clock(GetClockRequest {}).await?.into_inner()),
        OpsCmd::Clock(ClockCmd::Advance { days, seconds }) => {
            let seconds = match (days, seconds) {
                (Some(d), _) => d.checked_mul(86_400).ok_or_else(|| CliError::usage("--days is too large"))?,
                (None, Some(s)) => s,
                (None, None) => return Err(CliError::usage("give --days or --seconds")),
            };
            ctx.show(&cl.advance_clock(AdvanceClockRequest { seconds }).await?.into_inner());
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(guess_content_type(Path::new("申报表.PDF")), "application/pdf");
        assert_eq!(guess_content_type(Path::new("a.txt")), "text/plain; charset=utf-8");
        assert_eq!(guess_content_type(Path::new("noext")), "application/octet-stream");
    }

    #[tokio::test]
    async fn chunks_are_full_but_the_last() {
        let path = std::env::temp_dir().join(format!("egovctl-chunk-{}", uuid::Uuid::now_v7()));
        tokio::fs::write(&path, vec![7u8; CHUNK * 2 + 10]).await.unwrap();
        let mut f = tokio::fs::File::open(&path).await.unwrap();
        let mut buf = vec![0u8; CHUNK];
        let mut sizes = Vec::new();
        loop {
            let n = read_chunk(&mut f, &mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            sizes.push(n);
        }
        assert_eq!(sizes, vec![CHUNK, CHUNK, 10]);
        tokio::fs::remove_file(&path).await.ok();
    }

    #[tokio::test]
    async fn tokens_verify_with_the_local_secret() {
        let ctx = Ctx {
            endpoint: String::new(),
            review_endpoint: String::new(),
            procurement_endpoint: String::new(),
            acceptance_endpoint: String::new(),
            evaluation_endpoint: String::new(),
            timeout: Duration::from_secs(1),
            bearer: Bearer::new(None).unwrap(),
            json: false,
        };
        let args = |role: &str, unit: Option<&str>| TokenArgs {
            role: role.into(),
            unit: unit.map(str::to_string),
            sub: None,
            ttl_hours: 1,
            secret: None,
            issuer: "egov-local".into(),
        };
        assert!(matches!(token(&ctx, args("UNIT", None)), Err(CliError::Usage(_))));
        assert!(matches!(token(&ctx, args("KING", None)), Err(CliError::Usage(_))));
        assert_eq!(token(&ctx, args("drb", None)).unwrap(), 0);
        // What `token` prints verifies with the platform's verifier.
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims =
            Claims { sub: "u".into(), role: Role::Unit, unit: Some("U-CIVIL".into()), iss: "egov-local".into(), iat: now, exp: now + 3600 };
        let t = mint_hs256(LOCAL_DEV_SECRET.as_bytes(), &claims).unwrap();
        let p = egov_platform::auth::TokenVerifier::hs256(LOCAL_DEV_SECRET.as_bytes(), "egov-local").verify(&t).unwrap();
        assert_eq!(p.unit.as_deref(), Some("U-CIVIL"));
    }
}
