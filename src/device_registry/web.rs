//! Pages and API of registered devices: the administrators' device list (register, new code,
//! revoke), the enrolment page a kiosk opens once, the device's own heartbeat and credential
//! rotation, and the extractor that tells a request made by a device.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{DeviceRow, DeviceState, Fault, Kind};
use crate::auth::Failure;
use crate::error::{AppError, AppResult};
use crate::i18n::UserMessage;
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Form, Json, Meta, Path, Staff};
use crate::web::layout::Page;

/// The cookie an enrolled kiosk's browser carries its credential in.
pub const DEVICE_COOKIE: &str = "onetrip_device";

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/admin/devices", get(admin_page).post(admin_register))
        .route("/admin/devices/{id}/code", post(admin_code))
        .route("/admin/devices/{id}/revoke", post(admin_revoke))
        .route("/admin/devices/{id}/settings", post(admin_settings))
        .route("/devices/enrol", get(enrol_page).post(enrol_submit))
        .route("/kiosk/voice/{lang}/{prompt}", get(kiosk_prompt))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_register))
        .routes(routes!(api_enrol))
        .routes(routes!(api_heartbeat))
        .routes(routes!(api_rotate))
        .routes(routes!(api_revoke))
        .routes(routes!(api_settings))
        .routes(routes!(api_states))
}

/// The device a request is made by, if any: `Authorization: Device <credential>` or the
/// kiosk's cookie. An unknown, revoked or malformed credential is no device.
#[derive(Debug, Clone)]
pub struct MaybeDevice(pub Option<DeviceRow>);

impl FromRequestParts<AppState> for MaybeDevice {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(cached) = parts.extensions.get::<MaybeDevice>() {
            return Ok(cached.clone());
        }
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Device "))
            .map(str::to_string)
            .or_else(|| crate::web::middleware::cookie(&parts.headers, DEVICE_COOKIE));
        let device = match presented {
            Some(c) => super::authenticate(&state.db, &c).await?,
            None => None,
        };
        let found = MaybeDevice(device);
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

/// A request that must come from an enrolled device (401 otherwise).
pub struct Device(pub DeviceRow);

impl FromRequestParts<AppState> for Device {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match MaybeDevice::from_request_parts(parts, state).await?.0 {
            Some(d) => Ok(Device(d)),
            None => Err(AppError::new(StatusCode::UNAUTHORIZED, NotADevice)),
        }
    }
}

/// Refusal for a device call without a valid credential.
#[derive(Debug)]
pub struct NotADevice;

impl UserMessage for NotADevice {
    fn status(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }
    fn code(&self) -> &'static str {
        "device.credential"
    }
    fn message(&self, lang: crate::i18n::Lang) -> String {
        lang.pick(
            "需要已登记设备的凭证（设备未登记、已停用或凭证已更换）。",
            "This needs an enrolled device's credential (not enrolled, revoked, or replaced).",
        )
        .into()
    }
}

/// Refusal for a kiosk page opened on anything but an enrolled kiosk of that site.
#[derive(Debug)]
pub struct NotAKiosk;

impl UserMessage for NotAKiosk {
    fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }
    fn code(&self) -> &'static str {
        "device.not_a_kiosk"
    }
    fn message(&self, lang: crate::i18n::Lang) -> String {
        lang.pick(
            "这一页只在本办证点登记的自助机上打开。缴费请到自助机或收费窗口，也可凭申请编号和身份证号码在手机上查询。",
            "This page opens only on an enrolled kiosk of this site. Pay at a kiosk or the cashier's window, or look up your application on your phone with its number and your ID number.",
        )
        .into()
    }
}

/// Allows a kiosk page only on an enrolled kiosk of `site_id`.
pub fn kiosk_of(device: &MaybeDevice, site_id: i64) -> Result<&DeviceRow, AppError> {
    device
        .0
        .as_ref()
        .filter(|d| d.kind == Kind::Kiosk && d.site_id == site_id)
        .ok_or_else(|| AppError::new(StatusCode::FORBIDDEN, NotAKiosk))
}

// ---- administrators --------------------------------------------------------------------------

/// A device line on the administrators' page.
pub struct DeviceLine {
    pub state: DeviceState,
    pub kind: &'static str,
    pub site: String,
    pub state_name: &'static str,
    pub faults: String,
    pub last_seen: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/devices.html")]
struct AdminPage {
    page: Page,
    sites: Vec<Site>,
    devices: Vec<DeviceLine>,
    kinds: Vec<(&'static str, &'static str)>,
    /// A code just issued: (device name, code).
    code: Option<(String, String)>,
    error: Option<String>,
}

async fn admin_view(
    state: &AppState,
    page: Page,
    actor: &crate::auth::Actor,
    code: Option<(String, String)>,
    error: Option<String>,
) -> AppResult<AdminPage> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let lang = page.lang;
    let sites: Vec<Site> = crate::sites::list_sites(state.db.reader(), true)
        .await?
        .into_iter()
        .filter(|s| admin.covers(s.id))
        .collect();
    let ids: Vec<i64> = sites.iter().map(|s| s.id).collect();
    let devices = super::states(&state.db, &state.clock, Some(&ids))
        .await?
        .into_iter()
        .map(|d| DeviceLine {
            site: sites
                .iter()
                .find(|s| s.id == d.site_id)
                .map(|s| s.name(lang).to_string())
                .unwrap_or_default(),
            state_name: d.state_name(lang),
            kind: d.kind.name(lang),
            faults: d
                .faults
                .iter()
                .map(|f| f.name(lang))
                .collect::<Vec<_>>()
                .join(lang.pick("、", ", ")),
            last_seen: d
                .last_seen_at
                .map(crate::clock::format_local_minute)
                .unwrap_or_default(),
            state: d,
        })
        .collect();
    Ok(AdminPage {
        kinds: Kind::ALL.iter().map(|k| (k.code(), k.name(lang))).collect(),
        page,
        sites,
        devices,
        code,
        error,
    })
}

async fn admin_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
) -> AppResult<AdminPage> {
    admin_view(&state, page, &actor, None, None).await
}

#[derive(Debug, Default, Deserialize)]
struct RegisterForm {
    #[serde(default)]
    site: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

async fn admin_register(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Form(f): Form<RegisterForm>,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let lang = page.lang;
    let site = crate::sites::site_by_code(state.db.reader(), f.site.trim()).await?;
    let (Some(site), Some(kind)) = (site, Kind::parse(&f.kind)) else {
        let why = lang.pick(
            "请选择办证点和设备类型。",
            "Choose the site and the kind of device.",
        );
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            admin_view(&state, page, &actor, None, Some(why.into())).await?,
        )
            .into_response());
    };
    match super::register(&state.db, &state.clock, admin, site.id, kind, &f.name).await {
        Ok((d, code)) => Ok(admin_view(&state, page, &actor, Some((d.name, code)), None)
            .await?
            .into_response()),
        Err(Failure::Refused(e)) => Ok((
            e.status(),
            admin_view(&state, page, &actor, None, Some(e.message(lang))).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn admin_code(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
) -> AppResult<AdminPage> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let code = super::new_code(&state.db, &state.clock, admin, id).await?;
    let name = super::store::by_id(state.db.reader(), id)
        .await?
        .map(|d| d.name)
        .unwrap_or_default();
    admin_view(&state, page, &actor, Some((name, code)), None).await
}

async fn admin_revoke(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    super::revoke(&state.db, &state.clock, admin, id).await?;
    Ok(Redirect::to("/admin/devices").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    voice_prompts: Option<String>,
    always_open: Option<String>,
}

async fn admin_settings(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(f): Form<SettingsForm>,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let settings = super::Settings {
        voice_prompts: f.voice_prompts.is_some(),
        always_open: f.always_open.is_some(),
    };
    super::set_settings(&state.db, &state.clock, admin, id, settings).await?;
    Ok(Redirect::to("/admin/devices").into_response())
}

/// A kiosk's spoken prompt (issue 14 §1): the WAV when the calling device has spoken prompts
/// on, 204 when it has them off (the page then stays silent), so the pages need not know.
async fn kiosk_prompt(
    device: MaybeDevice,
    Path((lang, prompt)): Path<(String, String)>,
) -> AppResult<Response> {
    let lang = crate::i18n::Lang::from_code(&lang).ok_or_else(AppError::not_found)?;
    let prompt = crate::queue::voice::Prompt::parse(prompt.trim_end_matches(".wav"))
        .ok_or_else(AppError::not_found)?;
    if !device.0.as_ref().is_some_and(|d| d.voice_prompts) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    match crate::queue::voice::prompt_clip(lang, prompt).await {
        Ok(wav) => Ok((
            [
                (
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("audio/wav"),
                ),
                (
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static("no-store"),
                ),
            ],
            wav.as_ref().clone(),
        )
            .into_response()),
        Err(crate::queue::voice::VoiceError::Unavailable) => Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            crate::error::CommonError::Unavailable,
        )),
        Err(e) => Err(AppError::internal(e)),
    }
}

// ---- enrolment on the device -------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "device_enrol.html")]
struct EnrolPage {
    page: Page,
    /// Enrolled on this request, or the device this browser already is: (name, kind, site).
    enrolled: Option<(String, String, String)>,
    error: Option<String>,
}

async fn device_summary(
    state: &AppState,
    d: &DeviceRow,
    lang: crate::i18n::Lang,
) -> AppResult<(String, String, String)> {
    let site = crate::sites::site(state.db.reader(), d.site_id)
        .await?
        .map(|s| s.name(lang).to_string())
        .unwrap_or_default();
    Ok((d.name.clone(), d.kind.name(lang).to_string(), site))
}

async fn enrol_page(
    State(state): State<AppState>,
    page: Page,
    device: MaybeDevice,
) -> AppResult<EnrolPage> {
    let enrolled = match &device.0 {
        Some(d) => Some(device_summary(&state, d, page.lang).await?),
        None => None,
    };
    Ok(EnrolPage {
        page,
        enrolled,
        error: None,
    })
}

#[derive(Debug, Default, Deserialize)]
struct EnrolForm {
    #[serde(default)]
    code: String,
}

async fn enrol_submit(
    State(state): State<AppState>,
    page: Page,
    Meta(meta): Meta,
    Form(f): Form<EnrolForm>,
) -> AppResult<Response> {
    let lang = page.lang;
    // Guessing codes is limited like signing in.
    state
        .limits
        .check(crate::web::limits::Scope::SignIn, &meta.ip, None)
        .await
        .map_err(AppError::rate_limited)?;
    match super::enrol(&state.db, &state.clock, &f.code, &meta).await {
        Ok((d, credential)) => {
            let summary = device_summary(&state, &d, lang).await?;
            let cookie = crate::web::middleware::set_cookie(
                DEVICE_COOKIE,
                &credential,
                Some(10 * 365 * 86_400),
                state.config.cookie_secure,
                "Strict",
            );
            let mut res = EnrolPage {
                page,
                enrolled: Some(summary),
                error: None,
            }
            .into_response();
            res.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(res)
        }
        Err(Failure::Refused(e)) => Ok((
            e.status(),
            EnrolPage {
                page,
                enrolled: None,
                error: Some(e.message(lang)),
            },
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

// ---- JSON API ----------------------------------------------------------------------------------

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterJson {
    pub site: crate::web::fields::SiteCodeText,
    pub kind: Kind,
    pub name: String,
}

/// A device just registered, with its one-time enrolment code (shown once, valid 24 hours).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub device: DeviceState,
    pub enrolment_code: String,
}

/// Registers a device of a site (administrators of the site).
#[utoipa::path(post, path = "/api/v1/devices", tag = "devices", request_body = RegisterJson,
    responses((status = 201, body = Registered), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn api_register(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Json(b): Json<RegisterJson>,
) -> AppResult<(StatusCode, axum::Json<Registered>)> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let site = crate::sites::site_by_code(state.db.reader(), b.site.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    let (d, code) =
        super::register(&state.db, &state.clock, admin, site.id, b.kind, &b.name).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Registered {
            device: DeviceState::of(&d, state.clock.now_ms()),
            enrolment_code: code,
        }),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EnrolJson {
    /// The one-time code from the administrator (12 digits, separators ignored).
    #[schema(max_length = 20, pattern = "^[0-9][0-9 -]{10,18}[0-9]$")]
    pub code: String,
}

/// The device's credential: send it as `Authorization: Device <credential>` on every call.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Credential {
    pub device_id: i64,
    pub credential: String,
}

/// Enrols a device with its one-time code; the credential is returned once.
#[utoipa::path(post, path = "/api/v1/devices/enrol", tag = "devices", request_body = EnrolJson,
    responses((status = 201, body = Credential), (status = 422, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
async fn api_enrol(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Json(b): Json<EnrolJson>,
) -> AppResult<(StatusCode, axum::Json<Credential>)> {
    state
        .limits
        .check(crate::web::limits::Scope::SignIn, &meta.ip, None)
        .await
        .map_err(AppError::rate_limited)?;
    let (d, credential) = super::enrol(&state.db, &state.clock, &b.code, &meta).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Credential {
            device_id: d.id,
            credential,
        }),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HeartbeatJson {
    /// The faults the device has now (empty: none).
    #[serde(default)]
    pub faults: Vec<Fault>,
}

/// The device's heartbeat (every 30 s) with its current faults; a new fault alerts the duty
/// leader.
#[utoipa::path(post, path = "/api/v1/devices/me/heartbeat", tag = "devices",
    request_body = HeartbeatJson,
    responses((status = 200, body = DeviceState), (status = 401, body = crate::error::ErrorBody)))]
async fn api_heartbeat(
    State(state): State<AppState>,
    Device(device): Device,
    Json(b): Json<HeartbeatJson>,
) -> AppResult<axum::Json<DeviceState>> {
    let leader = crate::domain::phone::PhoneNumber::parse(&state.config.duty_leader_phone).ok();
    let d = super::heartbeat(
        &state.db,
        &state.clock,
        &state.cipher,
        leader.as_ref(),
        &device,
        &b.faults,
    )
    .await?;
    Ok(axum::Json(DeviceState::of(&d, state.clock.now_ms())))
}

/// Replaces the device's credential with a new one (the one presented stops working).
#[utoipa::path(post, path = "/api/v1/devices/me/rotate", tag = "devices",
    responses((status = 200, body = Credential), (status = 401, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
async fn api_rotate(
    State(state): State<AppState>,
    Device(device): Device,
) -> AppResult<axum::Json<Credential>> {
    let credential = super::rotate(&state.db, &state.clock, &device).await?;
    Ok(axum::Json(Credential {
        device_id: device.id,
        credential,
    }))
}

/// Revokes a device (administrators of its site): its credential is refused from now on.
#[utoipa::path(post, path = "/api/v1/devices/{id}/revoke", tag = "devices",
    params(("id" = i64, Path, description = "Device id")),
    responses((status = 200, body = DeviceState), (status = 404, body = crate::error::ErrorBody)))]
async fn api_revoke(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
) -> AppResult<axum::Json<DeviceState>> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let d = super::revoke(&state.db, &state.clock, admin, id).await?;
    Ok(axum::Json(DeviceState::of(&d, state.clock.now_ms())))
}

/// Sets a device's settings (administrators of its site): spoken prompts, round-the-clock.
#[utoipa::path(put, path = "/api/v1/devices/{id}/settings", tag = "devices",
    params(("id" = i64, Path, description = "Device id")), request_body = super::Settings,
    responses((status = 200, body = DeviceState), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
async fn api_settings(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Json(b): Json<super::Settings>,
) -> AppResult<axum::Json<DeviceState>> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let d = super::set_settings(&state.db, &state.clock, admin, id, b).await?;
    Ok(axum::Json(DeviceState::of(&d, state.clock.now_ms())))
}

/// The devices of a site and their states (its administrators and duty leader).
#[utoipa::path(get, path = "/api/v1/sites/{code}/devices", tag = "devices",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Site code")),
    responses((status = 200, body = Vec<DeviceState>), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
async fn api_states(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(code): Path<crate::web::fields::SiteCodeText>,
) -> AppResult<axum::Json<Vec<DeviceState>>> {
    let site = crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    let may = actor.admin_of(site.id).is_some() || actor.may::<crate::auth::grant::Lead>(site.id);
    if !may {
        return Err(AppError::forbidden());
    }
    Ok(axum::Json(
        super::states(&state.db, &state.clock, Some(&[site.id])).await?,
    ))
}
