//! Sign-in, sign-out, password change, the staff home, and the administrator's staff pages.

use crate::web::extract::Path;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{CreatedStaff, Failure, NewStaff, Role, RoleGrant, store};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, UserMessage};
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Form, Json, Meta, Query, Staff};
use crate::web::layout::Page;
use crate::web::middleware::{SESSION_COOKIE, cookie, set_cookie};

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route(
            "/account/password",
            get(password_page).post(password_submit),
        )
        .route("/staff", get(staff_home))
        .route(
            "/admin/staff",
            get(admin_staff_page).post(admin_staff_create),
        )
        .route("/admin/staff/{id}/grants", post(admin_staff_grants))
        .route("/admin/staff/{id}/reset", post(admin_staff_reset))
        .route("/admin/staff/{id}/active", post(admin_staff_active))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_sign_in, api_sign_out))
        .routes(routes!(api_me))
        .routes(routes!(api_change_password))
        .routes(routes!(api_list_staff, api_create_staff))
}

/// A local path to return to after sign-in; anything else goes to the staff home.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/staff".into(),
    }
}

fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    set_cookie(
        SESSION_COOKIE,
        token,
        None,
        state.config.cookie_secure,
        "Lax",
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(page: Page, Query(q): Query<NextQuery>) -> Response {
    if page.staff.is_some() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    LoginPage {
        page,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
    }
    .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    page: Page,
    Meta(meta): Meta,
    Form(f): Form<LoginForm>,
) -> Response {
    if let Err(wait) = state
        .limits
        .check_address(
            crate::web::limits::Scope::SignIn,
            &meta.ip,
            state.config.sign_in_attempts_per_ip_hour,
        )
        .await
    {
        return AppError::rate_limited(wait).into_response();
    }
    match super::sign_in(
        &state.db,
        &state.config,
        &state.clock,
        &f.username,
        &f.password,
        meta,
    )
    .await
    {
        Ok(session) => {
            let to = if session.actor.must_change_password {
                "/account/password".to_string()
            } else {
                safe_next(f.next.as_deref())
            };
            let mut res = Redirect::to(&to).into_response();
            res.headers_mut()
                .append(header::SET_COOKIE, session_cookie(&state, &session.token));
            res
        }
        Err(Failure::Refused(e)) => {
            let lang = page.lang;
            let status = StatusCode::UNAUTHORIZED;
            let body = LoginPage {
                page,
                next: safe_next(f.next.as_deref()),
                username: f.username,
                error: Some(e.message(lang)),
            };
            (status, body).into_response()
        }
        Err(other) => AppError::from(other).into_response(),
    }
}

async fn logout(
    State(state): State<AppState>,
    Staff(actor): Staff,
    headers: HeaderMap,
) -> AppResult<Response> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        super::sign_out(&state.db, &state.clock, &actor, &token).await?;
    }
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            "",
            Some(0),
            state.config.cookie_secure,
            "Lax",
        ),
    );
    Ok(res)
}

#[derive(Template, WebTemplate)]
#[template(path = "account_password.html")]
struct PasswordPage {
    page: Page,
    forced: bool,
    error: Option<String>,
    done: bool,
}

async fn password_page(page: Page, Staff(actor): Staff) -> PasswordPage {
    PasswordPage {
        page,
        forced: actor.must_change_password,
        error: None,
        done: false,
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

async fn password_submit(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    headers: HeaderMap,
    Form(f): Form<PasswordForm>,
) -> AppResult<Response> {
    let lang = page.lang;
    if f.new != f.confirm {
        let error = Some(
            lang.pick("两次输入的新密码不一致。", "The two new passwords differ.")
                .to_string(),
        );
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            PasswordPage {
                page,
                forced: actor.must_change_password,
                error,
                done: false,
            },
        )
            .into_response());
    }
    match super::change_password(
        &state.db,
        &state.clock,
        &actor,
        cookie(&headers, SESSION_COOKIE).as_deref(),
        &f.current,
        &f.new,
    )
    .await
    {
        Ok(()) => Ok(PasswordPage {
            page,
            forced: false,
            error: None,
            done: true,
        }
        .into_response()),
        Err(Failure::Refused(e)) => {
            let error = Some(e.message(lang));
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                PasswordPage {
                    page,
                    forced: actor.must_change_password,
                    error,
                    done: false,
                },
            )
                .into_response())
        }
        Err(other) => Err(AppError::from(other)),
    }
}

/// A role held at a named site, for display.
pub struct GrantView {
    pub role: String,
    pub site: String,
    pub value: String,
}

fn grant_views(grants: &[RoleGrant], sites: &[Site], lang: Lang) -> Vec<GrantView> {
    grants
        .iter()
        .map(|g| GrantView {
            role: g.role.name(lang).to_string(),
            site: match g.site_id {
                None => lang.pick("全部办证点", "All sites").to_string(),
                Some(id) => sites
                    .iter()
                    .find(|s| s.id == id)
                    .map(|s| s.name(lang).to_string())
                    .unwrap_or_else(|| format!("#{id}")),
            },
            value: grant_value(g),
        })
        .collect()
}

fn grant_value(g: &RoleGrant) -> String {
    format!(
        "{}:{}",
        g.role.as_str(),
        g.site_id.map_or("*".to_string(), |s| s.to_string())
    )
}

fn parse_grant(v: &str) -> Option<RoleGrant> {
    let (role, site) = v.split_once(':')?;
    Some(RoleGrant {
        role: Role::parse(role)?,
        site_id: if site == "*" {
            None
        } else {
            Some(site.parse().ok()?)
        },
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/home.html")]
struct StaffHome {
    page: Page,
    grants: Vec<GrantView>,
}

async fn staff_home(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
) -> AppResult<StaffHome> {
    let sites = crate::sites::list_sites(state.db.reader(), false).await?;
    let grants = grant_views(&actor.grants, &sites, page.lang);
    Ok(StaffHome { page, grants })
}

pub struct StaffRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub badge_no: String,
    pub active: bool,
    pub must_change_password: bool,
    pub locked: bool,
    pub grants: Vec<GrantView>,
}

pub struct GrantOption {
    pub value: String,
    pub label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/staff.html")]
struct AdminStaffPage {
    page: Page,
    rows: Vec<StaffRow>,
    options: Vec<GrantOption>,
    error: Option<String>,
    created: Option<CreatedStaff>,
    reset: Option<(String, String)>,
}

async fn staff_page(
    state: &AppState,
    page: Page,
    error: Option<String>,
    created: Option<CreatedStaff>,
    reset: Option<(String, String)>,
) -> AppResult<AdminStaffPage> {
    let lang = page.lang;
    let sites = crate::sites::list_sites(state.db.reader(), false).await?;
    let admin = page
        .staff
        .as_ref()
        .and_then(|a| a.admin())
        .ok_or_else(AppError::forbidden)?;
    let list = super::visible_staff(&state.db, &state.clock, admin).await?;
    let rows = list
        .into_iter()
        .map(|s| StaffRow {
            grants: grant_views(&s.grants, &sites, lang),
            id: s.id,
            username: s.username,
            display_name: s.display_name,
            badge_no: s.badge_no,
            active: s.active,
            must_change_password: s.must_change_password,
            locked: s.locked,
        })
        .collect();
    let mut options = Vec::new();
    for role in Role::ALL {
        options.push(GrantOption {
            value: format!("{}:*", role.as_str()),
            label: format!(
                "{} · {}",
                role.name(lang),
                lang.pick("全部办证点", "All sites")
            ),
        });
        for s in &sites {
            options.push(GrantOption {
                value: format!("{}:{}", role.as_str(), s.id),
                label: format!("{} · {}", role.name(lang), s.name(lang)),
            });
        }
    }
    Ok(AdminStaffPage {
        page,
        rows,
        options,
        error,
        created,
        reset,
    })
}

async fn admin_staff_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
) -> AppResult<AdminStaffPage> {
    actor.admin().ok_or_else(AppError::forbidden)?;
    staff_page(&state, page, None, None, None).await
}

async fn admin_staff_create(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let grants: Vec<RoleGrant> = pairs
        .iter()
        .filter(|(k, _)| k == "grant")
        .filter_map(|(_, v)| parse_grant(v))
        .collect();
    let input = NewStaff {
        username: field("username"),
        display_name: field("display_name"),
        badge_no: field("badge_no"),
        grants,
    };
    let lang = page.lang;
    match super::create_staff(&state.db, &state.clock, admin, input).await {
        Ok(created) => Ok(staff_page(&state, page, None, Some(created), None)
            .await?
            .into_response()),
        Err(Failure::Refused(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            staff_page(&state, page, Some(e.message(lang)), None, None).await?,
        )
            .into_response()),
        Err(other) => Err(AppError::from(other)),
    }
}

async fn admin_staff_grants(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let grants: Vec<RoleGrant> = pairs
        .iter()
        .filter(|(k, _)| k == "grant")
        .filter_map(|(_, v)| parse_grant(v))
        .collect();
    let lang = page.lang;
    match super::set_grants(&state.db, &state.clock, admin, id, grants).await {
        Ok(()) => Ok(Redirect::to("/admin/staff").into_response()),
        Err(Failure::Refused(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            staff_page(&state, page, Some(e.message(lang)), None, None).await?,
        )
            .into_response()),
        Err(other) => Err(AppError::from(other)),
    }
}

async fn admin_staff_reset(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let lang = page.lang;
    match super::reset_password(&state.db, &state.clock, admin, id).await {
        Ok(password) => {
            let name = store::list_staff(state.db.reader(), 0)
                .await?
                .into_iter()
                .find(|s| s.id == id)
                .map(|s| s.username)
                .unwrap_or_default();
            Ok(staff_page(&state, page, None, None, Some((name, password)))
                .await?
                .into_response())
        }
        Err(Failure::Refused(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            staff_page(&state, page, Some(e.message(lang)), None, None).await?,
        )
            .into_response()),
        Err(other) => Err(AppError::from(other)),
    }
}

#[derive(Deserialize)]
struct ActiveForm {
    active: String,
}

async fn admin_staff_active(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(f): Form<ActiveForm>,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let lang = page.lang;
    match super::set_active(&state.db, &state.clock, admin, id, f.active == "1").await {
        Ok(()) => Ok(Redirect::to("/admin/staff").into_response()),
        Err(Failure::Refused(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            staff_page(&state, page, Some(e.message(lang)), None, None).await?,
        )
            .into_response()),
        Err(other) => Err(AppError::from(other)),
    }
}

// ---- JSON API -------------------------------------------------------------------------------

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
}

/// The signed-in staff member.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    pub staff_id: i64,
    pub username: String,
    pub display_name: String,
    pub badge_no: String,
    pub must_change_password: bool,
    pub grants: Vec<RoleGrant>,
    /// Send this value in the `X-CSRF-Token` header with every state-changing API call made
    /// with the session cookie.
    pub csrf_token: String,
}

fn me(actor: &super::Actor, csrf: String) -> Me {
    Me {
        staff_id: actor.staff_id,
        username: actor.username.clone(),
        display_name: actor.display_name.clone(),
        badge_no: actor.badge_no.clone(),
        must_change_password: actor.must_change_password,
        grants: actor.grants.clone(),
        csrf_token: csrf,
    }
}

/// Signs in and sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "staff", request_body = SignInRequest,
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
async fn api_sign_in(
    State(state): State<AppState>,
    Meta(meta): Meta,
    csrf: crate::web::middleware::CsrfToken,
    Json(req): Json<SignInRequest>,
) -> AppResult<Response> {
    state
        .limits
        .check_address(
            crate::web::limits::Scope::SignIn,
            &meta.ip,
            state.config.sign_in_attempts_per_ip_hour,
        )
        .await
        .map_err(AppError::rate_limited)?;
    let session = super::sign_in(
        &state.db,
        &state.config,
        &state.clock,
        &req.username,
        &req.password,
        meta,
    )
    .await?;
    let mut res = axum::Json(me(&session.actor, csrf.0)).into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, session_cookie(&state, &session.token));
    Ok(res)
}

/// Ends the session.
#[utoipa::path(delete, path = "/api/v1/session", tag = "staff",
    responses((status = 204), (status = 401, body = crate::error::ErrorBody)))]
async fn api_sign_out(
    State(state): State<AppState>,
    Staff(actor): Staff,
    headers: HeaderMap,
) -> AppResult<Response> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        super::sign_out(&state.db, &state.clock, &actor, &token).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            "",
            Some(0),
            state.config.cookie_secure,
            "Lax",
        ),
    );
    Ok(res)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct PasswordChange {
    current: String,
    new: String,
}

/// Changes the signed-in account's password (the first thing a one-time password allows);
/// the account's other sessions end.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "staff", request_body = PasswordChange,
    responses((status = 204)))]
async fn api_change_password(
    State(state): State<AppState>,
    Staff(actor): Staff,
    headers: HeaderMap,
    Json(b): Json<PasswordChange>,
) -> AppResult<StatusCode> {
    super::change_password(
        &state.db,
        &state.clock,
        &actor,
        cookie(&headers, SESSION_COOKIE).as_deref(),
        &b.current,
        &b.new,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who is signed in, with their roles and the CSRF token for API calls.
#[utoipa::path(get, path = "/api/v1/me", tag = "staff",
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
async fn api_me(Staff(actor): Staff, csrf: crate::web::middleware::CsrfToken) -> axum::Json<Me> {
    axum::Json(me(&actor, csrf.0))
}

/// Every staff account (administrators).
#[utoipa::path(get, path = "/api/v1/staff", tag = "administration",
    responses((status = 200, body = Vec<store::StaffSummary>), (status = 403, body = crate::error::ErrorBody)))]
async fn api_list_staff(
    State(state): State<AppState>,
    Staff(actor): Staff,
) -> AppResult<axum::Json<Vec<store::StaffSummary>>> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    Ok(axum::Json(
        super::visible_staff(&state.db, &state.clock, admin).await?,
    ))
}

/// Creates an account; the response carries its one-time password.
#[utoipa::path(post, path = "/api/v1/staff", tag = "administration", request_body = NewStaff,
    responses((status = 201, body = CreatedStaff), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn api_create_staff(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Json(input): Json<NewStaff>,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let created = super::create_staff(&state.db, &state.clock, admin, input).await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}
