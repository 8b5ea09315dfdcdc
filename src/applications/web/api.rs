//! The applications JSON API: submit the form, read a dossier, and every acceptance step (R4, R5).

use super::*;

// ---- JSON API ------------------------------------------------------------------------------

/// One document on a JSON form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DocumentJson {
    #[schema(value_type = String, example = "passport")]
    pub document: DocumentType,
    #[schema(value_type = String, example = "first_issue")]
    pub category: ApplicationCategory,
    #[serde(default)]
    pub old_number: Option<String>,
    /// `held`, `lost`, `stolen`, `damaged` or `expired`.
    #[serde(default)]
    pub old_document: Option<String>,
    #[serde(default)]
    pub endorsements: Vec<String>,
    #[serde(default)]
    pub annotations: u8,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GuardianJson {
    pub name: String,
    pub id_number: crate::web::fields::IdNumberText,
    pub relation: String,
    #[serde(default)]
    pub entrusted: bool,
}

/// The one form as JSON (kiosk clients).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FormJson {
    /// Site code, e.g. `0001`.
    pub site: crate::web::fields::SiteCodeText,
    /// Where the form was filled; a kiosk when left out.
    #[serde(default)]
    pub channel: Option<SubmitChannel>,
    pub name: String,
    pub id_number: crate::web::fields::IdNumberText,
    pub phone: crate::web::fields::PhoneText,
    pub address: String,
    #[serde(default)]
    pub ethnicity: String,
    #[serde(default)]
    pub from_card_reader: bool,
    #[serde(default)]
    pub registered_state_personnel: bool,
    #[serde(default)]
    pub unit_consent: bool,
    #[serde(default)]
    pub work_unit: Option<String>,
    #[serde(default)]
    pub guardian: Option<GuardianJson>,
    pub documents: Vec<DocumentJson>,
}

/// Where a form sent through the JSON API was filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubmitChannel {
    Kiosk,
    Mobile,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Submitted {
    pub application_no: String,
    /// Opens the printed form (`/forms/{token}`) and later the receipt (`/r/{token}`).
    pub token: String,
}

pub(super) fn invalid_text(msg: String) -> AppError {
    AppError::invalid(crate::error::CommonError::BadRequest(msg))
}

/// Submits the one form; returns the application number.
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications",
    request_body = FormJson,
    responses((status = 201, body = Submitted), (status = 422, body = crate::error::ErrorBody)))]
pub(super) async fn api_submit(
    State(state): State<AppState>,
    lang: Lang,
    Json(f): Json<FormJson>,
) -> AppResult<(StatusCode, axum::Json<Submitted>)> {
    let today = state.clock.today();
    let site = crate::sites::site_by_code(state.db.reader(), f.site.trim())
        .await?
        .filter(|s| s.active)
        .ok_or_else(|| AppError::invalid(crate::i18n::BadValue::new("办证点", "Site", &f.site)))?;
    let id_number = IdNumber::parse_on(&f.id_number, today).map_err(AppError::invalid)?;
    let phone = PhoneNumber::parse(&f.phone).map_err(AppError::invalid)?;
    let guardian = match f.guardian {
        Some(g) => Some(Guardian {
            name: g.name,
            id_number: IdNumber::parse_on(&g.id_number, today).map_err(AppError::invalid)?,
            relation: g.relation,
            entrusted: g.entrusted,
        }),
        None => None,
    };
    let mut documents = Vec::new();
    for d in f.documents {
        let old_number = match d.old_number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => Some(
                DocumentNumber::parse(crate::applications::rules::document_kind(d.document), n)
                    .map_err(AppError::invalid)?,
            ),
        };
        let old_document = match d.old_document.as_deref() {
            None | Some("") => None,
            Some(o) => Some(
                OldDocument::parse(o).ok_or_else(|| invalid_text(format!("old_document: {o}")))?,
            ),
        };
        documents.push(DocumentRequest {
            document: d.document,
            category: d.category,
            old_number,
            old_document,
            endorsements: d.endorsements,
            annotations: d.annotations,
        });
    }
    let channel = match f.channel {
        Some(SubmitChannel::Mobile) => Channel::Mobile,
        Some(SubmitChannel::Kiosk) | None => Channel::Kiosk,
    };
    let input = FormInput {
        name: f.name,
        id_number,
        phone,
        address: f.address,
        ethnicity: f.ethnicity,
        from_card_reader: f.from_card_reader,
        registered_state_personnel: f.registered_state_personnel,
        unit_consent: f.unit_consent,
        work_unit: f.work_unit,
        guardian,
        documents,
        lang,
    };
    let row =
        crate::applications::submit_form(&state.applications(), &site, channel, input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Submitted {
            application_no: row.application_no,
            token: row.token,
        }),
    ))
}

/// The ID-card reader simulator: answers as the kiosk's local reader service does
/// (`GET http://127.0.0.1:19196/card`, docs/DEVICES.md), with the test card.
#[utoipa::path(get, path = "/api/v1/devices/id-reader/card", tag = "devices",
    responses((status = 200, body = crate::devices::IdCardRead)))]
pub(super) async fn api_simulated_card() -> axum::Json<crate::devices::IdCardRead> {
    axum::Json(crate::devices::simulated_card())
}

/// An application as the officer sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationJson {
    pub application_no: String,
    pub status: Status,
    pub site_id: i64,
    pub name: String,
    pub id_number_masked: String,
    pub documents: Vec<String>,
    pub materials: Vec<String>,
    pub materials_present: Vec<String>,
    pub fee_fen: Option<i64>,
    #[schema(format = Date)]
    pub promised_date: Option<String>,
    pub time_limit_class: Option<String>,
    pub created_at: i64,
    pub acceptance_started_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub ticket_issued_at: Option<i64>,
    pub events: Vec<store::EventRow>,
}

pub(super) async fn application_json(state: &AppState, d: Dossier) -> AppResult<ApplicationJson> {
    let ticket_issued_at = match d.row.ticket_id {
        Some(t) => store::ticket_issued_at(state.db.reader(), t).await?,
        None => None,
    };
    Ok(ApplicationJson {
        application_no: d.no.as_str().into(),
        status: d.status,
        site_id: d.row.site_id,
        name: d.name.clone(),
        id_number_masked: d.id_number.masked(),
        documents: d
            .documents
            .iter()
            .map(|x| format!("{}:{}", x.document.code(), x.category.code()))
            .collect(),
        materials: d
            .materials(&state.catalog)
            .iter()
            .map(|m| m.id.clone())
            .collect(),
        materials_present: d.materials_present(),
        fee_fen: d.row.fee_fen,
        promised_date: d.row.promised_date.clone(),
        time_limit_class: d.row.time_limit_class.clone(),
        created_at: d.row.created_at,
        acceptance_started_at: d.row.acceptance_started_at,
        accepted_at: d.row.accepted_at,
        ticket_issued_at,
        events: store::events(state.db.reader(), d.row.id).await?,
    })
}

/// An application by its number (officers, cashiers and the duty leader of its site).
#[utoipa::path(get, path = "/api/v1/applications/{no}", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    responses((status = 200, body = ApplicationJson), (status = 404, body = crate::error::ErrorBody)))]
pub(super) async fn api_application(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
) -> AppResult<axum::Json<ApplicationJson>> {
    let d = officer_view(&state, &actor, &no, "api.application").await?;
    Ok(axum::Json(application_json(&state, d).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema, Default)]
pub struct StartJson {
    #[serde(default)]
    pub window_id: Option<i64>,
}

/// Starts acceptance (scan of the form barcode at a window).
#[utoipa::path(post, path = "/api/v1/applications/{no}/acceptance", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    request_body = StartJson,
    responses((status = 200, body = ApplicationJson)))]
pub(super) async fn api_start(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
    Json(b): Json<StartJson>,
) -> AppResult<axum::Json<ApplicationJson>> {
    let no = parse_no(&no)?;
    let d = crate::applications::start_acceptance(
        &state.applications(),
        &crate::applications::intake(&actor)?,
        &no,
        b.window_id,
    )
    .await?;
    Ok(axum::Json(application_json(&state, d).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MaterialsJson {
    /// Material ids the applicant has brought.
    pub present: Vec<String>,
}

/// Records the material check; a one-time notice lists every missing item.
#[utoipa::path(post, path = "/api/v1/applications/{no}/materials", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    request_body = MaterialsJson,
    responses((status = 200, body = crate::applications::MaterialCheck)))]
pub(super) async fn api_materials(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
    Json(b): Json<MaterialsJson>,
) -> AppResult<axum::Json<crate::applications::MaterialCheck>> {
    let no = parse_no(&no)?;
    crate::applications::check_materials(
        &state.applications(),
        &crate::applications::intake(&actor)?,
        &no,
        &b.present,
    )
    .await
    .map(axum::Json)
    .map_err(AppError::from)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaptureJson {
    pub reference: String,
    pub quality: i64,
}

/// Captures the photo or the fingerprints through the window's station (`photo`,
/// `fingerprint`); only the reference and quality are kept.
#[utoipa::path(post, path = "/api/v1/applications/{no}/captures/{kind}", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number"), ("kind" = String, Path, description = "photo or fingerprint")),
    responses((status = 200, body = CaptureJson)))]
pub(super) async fn api_capture(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path((no, kind)): Path<(crate::web::fields::ApplicationNoText, String)>,
) -> AppResult<axum::Json<CaptureJson>> {
    let no = parse_no(&no)?;
    let kind = CaptureKind::parse(&kind).ok_or_else(AppError::not_found)?;
    let c = crate::applications::capture(
        &state.applications(),
        &crate::applications::intake(&actor)?,
        &no,
        kind,
    )
    .await?;
    Ok(axum::Json(CaptureJson {
        reference: c.reference,
        quality: c.quality,
    }))
}

/// Records the face-to-face verification.
#[utoipa::path(post, path = "/api/v1/applications/{no}/face", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    responses((status = 204)))]
pub(super) async fn api_face(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
) -> AppResult<StatusCode> {
    let no = parse_no(&no)?;
    crate::applications::verify_face(
        &state.applications(),
        &crate::applications::intake(&actor)?,
        &no,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChecksJson {
    pub outcome: CheckOutcome,
}

/// Runs the restricted-exit and dual-registration checks.
#[utoipa::path(post, path = "/api/v1/applications/{no}/checks", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    responses((status = 200, body = ChecksJson)))]
pub(super) async fn api_checks(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
) -> AppResult<axum::Json<ChecksJson>> {
    let no = parse_no(&no)?;
    let outcome = crate::applications::run_checks(
        &state.applications(),
        &crate::applications::intake(&actor)?,
        &no,
    )
    .await?;
    Ok(axum::Json(ChecksJson { outcome }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AcceptJson {
    pub class: TimeLimitClass,
    #[serde(default)]
    pub emergency_reason: Option<String>,
    #[serde(default)]
    pub emergency_proof: Option<String>,
    pub delivery: Delivery,
}

/// Accepts the application; the fee and promised date are fixed.
#[utoipa::path(post, path = "/api/v1/applications/{no}/accept", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    request_body = AcceptJson,
    responses((status = 200, body = ApplicationJson), (status = 422, body = crate::error::ErrorBody)))]
pub(super) async fn api_accept(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
    Json(b): Json<AcceptJson>,
) -> AppResult<axum::Json<ApplicationJson>> {
    let no = parse_no(&no)?;
    let d = crate::applications::accept(
        &state.applications(),
        &crate::applications::intake(&actor)?,
        &no,
        Acceptance {
            class: b.class,
            emergency_reason: b.emergency_reason,
            emergency_proof: b.emergency_proof,
            delivery: b.delivery,
        },
    )
    .await?;
    Ok(axum::Json(application_json(&state, d).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefuseJson {
    pub reasons: Vec<String>,
    pub basis: String,
}

/// Refuses to accept, with reasons and basis in writing.
#[utoipa::path(post, path = "/api/v1/applications/{no}/refuse", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    request_body = RefuseJson,
    responses((status = 200, body = crate::applications::Refusal)))]
pub(super) async fn api_refuse(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
    Json(b): Json<RefuseJson>,
) -> AppResult<axum::Json<crate::applications::Refusal>> {
    let no = parse_no(&no)?;
    crate::applications::refuse(
        &state.applications(),
        &crate::applications::intake(&actor)?,
        &no,
        b.reasons,
        &b.basis,
    )
    .await
    .map(axum::Json)
    .map_err(AppError::from)
}
