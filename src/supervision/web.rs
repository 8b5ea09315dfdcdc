//! Pages and API of supervision cards: photos by content hash, the administrator's upload, and
//! the public list of a site's officers on duty today with the complaint numbers.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Card, OnDuty, PhotoError};
use crate::auth::Failure;
use crate::error::{AppError, AppResult};
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Path, Staff};
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/officers/photos/{sha}", get(photo))
        .route(
            "/admin/staff/{id}/photo",
            get(admin_photo).post(admin_upload),
        )
        .route("/sites/{code}/on-duty", get(on_duty_page))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_upload))
        .routes(routes!(api_on_duty))
}

fn image(content_type: &str, bytes: Vec<u8>, cache: &'static str) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// A photo by its content hash: the same URL is always the same picture, so it is cached for
/// good.
async fn photo(State(state): State<AppState>, Path(sha): Path<String>) -> AppResult<Response> {
    let (ct, bytes) = super::photo(&state.db, &sha)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(image(&ct, bytes, "public, max-age=31536000, immutable"))
}

/// A staff member's current photo, for the administrators' staff page.
async fn admin_photo(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    if !crate::auth::administers(&state.db, &admin, id).await? {
        return Err(AppError::not_found());
    }
    let card = super::card(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let Some(sha) = card
        .photo_url
        .as_deref()
        .and_then(|u| u.rsplit('/').next())
        .map(str::to_string)
    else {
        // No photo yet: a neutral outline, so the staff list shows who still needs one.
        return Ok(image(
            "image/svg+xml",
            NO_PHOTO_SVG.as_bytes().to_vec(),
            "private, no-cache",
        ));
    };
    let (ct, bytes) = super::photo(&state.db, &sha)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(image(&ct, bytes, "private, no-cache"))
}

/// The outline shown where a staff member has no photo yet.
const NO_PHOTO_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 48"><rect width="36" height="48" fill="#eef1f5"/><circle cx="18" cy="17" r="8" fill="#c5ccd6"/><path d="M4 46c1-10 7-15 14-15s13 5 14 15z" fill="#c5ccd6"/></svg>"##;

/// The administrator's upload (`multipart/form-data`, field `photo`; the CSRF token comes in
/// the form action's query).
async fn admin_upload(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    mut form: Multipart,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let mut bytes = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| AppError::from(Failure::Refused(PhotoError::TooLarge)))?
    {
        if field.name() == Some("photo") {
            let data = field
                .bytes()
                .await
                .map_err(|_| AppError::from(Failure::Refused(PhotoError::TooLarge)))?;
            bytes = Some(data);
        }
    }
    let bytes = bytes.ok_or_else(|| AppError::from(Failure::Refused(PhotoError::NotAPhoto)))?;
    super::set_photo(&state.db, &state.clock, admin, id, &bytes).await?;
    Ok(Redirect::to("/admin/staff").into_response())
}

/// The stored photo's content hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhotoSet {
    pub sha256: String,
    pub photo_url: String,
}

/// Sets a staff member's supervision-card photo: the body is the JPEG or PNG file itself
/// (at most 1 MB). Administrators of the staff member's sites.
#[utoipa::path(put, path = "/api/v1/staff/{id}/photo", tag = "staff",
    params(("id" = i64, Path, description = "Staff id")),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 200, body = PhotoSet), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
        (status = 415, body = crate::error::ErrorBody)))]
async fn api_upload(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    body: Bytes,
) -> AppResult<axum::Json<PhotoSet>> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let sha = super::set_photo(&state.db, &state.clock, admin, id, &body).await?;
    Ok(axum::Json(PhotoSet {
        photo_url: format!("/officers/photos/{sha}"),
        sha256: sha,
    }))
}

#[derive(Template, WebTemplate)]
#[template(path = "on_duty.html")]
struct OnDutyPage {
    page: Page,
    site: Site,
    officers: Vec<OnDuty>,
    today: String,
}

async fn site_of(state: &AppState, code: &str) -> AppResult<Site> {
    crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .filter(|s| s.active)
        .ok_or_else(AppError::not_found)
}

/// 今日在岗民警: the public supervision list of a site.
async fn on_duty_page(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<OnDutyPage> {
    let site = site_of(&state, &code).await?;
    let officers = super::on_duty_today(&state.db, &state.clock, site.id).await?;
    Ok(OnDutyPage {
        page,
        site,
        officers,
        today: state.clock.today().to_string(),
    })
}

/// A site's officers on duty today and where to complain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OnDutyJson {
    #[schema(format = Date)]
    pub date: String,
    pub officers: Vec<OnDuty>,
    /// The exit-entry service hotline (12367).
    pub hotline: String,
    /// The bureau's complaint number.
    pub complaint_phone: String,
}

/// The officers on duty today at a site (name, badge, photo, window), with the complaint
/// numbers: the public side of the supervision cards.
#[utoipa::path(get, path = "/api/v1/sites/{code}/on-duty", tag = "public",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Site code")),
    responses((status = 200, body = OnDutyJson), (status = 404, body = crate::error::ErrorBody)))]
async fn api_on_duty(
    State(state): State<AppState>,
    Path(code): Path<crate::web::fields::SiteCodeText>,
) -> AppResult<axum::Json<OnDutyJson>> {
    let site = site_of(&state, &code).await?;
    let officers = super::on_duty_today(&state.db, &state.clock, site.id).await?;
    Ok(axum::Json(OnDutyJson {
        date: state.clock.today().to_string(),
        officers,
        hotline: state.config.bureau.hotline.clone(),
        complaint_phone: state.config.bureau.complaint_phone.clone(),
    }))
}

/// The card for templates: the officer serving, if known.
pub async fn card_of(state: &AppState, staff_id: Option<i64>) -> AppResult<Option<Card>> {
    match staff_id {
        Some(id) => Ok(super::card(&state.db, id).await?),
        None => Ok(None),
    }
}
