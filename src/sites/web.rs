//! Site pages and API: the public list with hours and the next days' openings; the
//! administrator's site and window management.

use crate::web::extract::Path;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Site, SiteError, SiteInput, SiteKind, Window, WindowKind, store};
use crate::auth::Failure;
use crate::domain::opening::{DayOpening, OpeningRules, next_openings};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, UserMessage};
use crate::web::AppState;
use crate::web::extract::{Form, Query, Staff};
use crate::web::layout::Page;

/// The active sites where `actor` holds duty `D`, and the one a staff page works on: the one
/// `code` names, or the first. Forbidden when the actor holds the duty at no site, or not at
/// the one named.
pub async fn duty_sites<D: crate::auth::Duty>(
    state: &AppState,
    actor: &crate::auth::Actor,
    code: &str,
) -> AppResult<(Vec<Site>, Site)> {
    let sites: Vec<Site> = super::list_sites(state.db.reader(), true)
        .await?
        .into_iter()
        .filter(|s| actor.may::<D>(s.id))
        .collect();
    let site = if code.is_empty() {
        sites.first().cloned()
    } else {
        sites.iter().find(|s| s.code == code).cloned()
    }
    .ok_or_else(AppError::forbidden)?;
    Ok((sites, site))
}

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/sites", get(sites_page))
        .route("/admin/sites", get(admin_sites).post(admin_create_site))
        .route("/admin/sites/{id}", get(admin_site).post(admin_update_site))
        .route("/admin/sites/{id}/windows", post(admin_add_window))
        .route("/admin/windows/{id}/active", post(admin_window_active))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_sites))
        .routes(routes!(api_site_openings))
        .routes(routes!(api_site_windows))
}

/// One day of a site's calendar, as people read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpeningDay {
    #[schema(format = Date)]
    pub date: String,
    /// Weekday name in the request's language.
    pub weekday: String,
    pub open: bool,
    /// Hours ("08:30–12:00, 13:30–17:30") or why it is closed.
    pub text: String,
    /// The day lies in a year without the State Council's holiday notice: computed from the
    /// statutory holidays, to be confirmed.
    pub provisional: bool,
}

pub(crate) fn weekday_name(d: jiff::civil::Date, lang: Lang) -> &'static str {
    use jiff::civil::Weekday::*;
    match d.weekday() {
        Monday => lang.pick("星期一", "Monday"),
        Tuesday => lang.pick("星期二", "Tuesday"),
        Wednesday => lang.pick("星期三", "Wednesday"),
        Thursday => lang.pick("星期四", "Thursday"),
        Friday => lang.pick("星期五", "Friday"),
        Saturday => lang.pick("星期六", "Saturday"),
        Sunday => lang.pick("星期日", "Sunday"),
    }
}

/// The next `days` openings of a site; days of a year without the State Council's notice are
/// computed from the statutory holidays and marked provisional; the list stops only where the
/// statute itself does not reach.
pub fn upcoming(state: &AppState, rules: &OpeningRules, days: u32, lang: Lang) -> Vec<OpeningDay> {
    let today = state.clock.today();
    let mut out = Vec::new();
    let calendar = state.calendar.current();
    for i in 0..days {
        let Ok(date) = today.checked_add(jiff::Span::new().days(i64::from(i))) else {
            break;
        };
        let Ok(list) = next_openings(rules, &calendar, date, 1) else {
            break;
        };
        for (d, opening) in list {
            out.push(OpeningDay {
                date: d.to_string(),
                weekday: weekday_name(d, lang).to_string(),
                open: opening.is_open(),
                text: describe(&opening, lang),
                provisional: calendar.is_provisional(d.year()),
            });
        }
    }
    out
}

fn describe(o: &DayOpening, lang: Lang) -> String {
    o.describe(lang)
}

pub struct SiteView {
    pub site: Site,
    pub kind: String,
    pub days: Vec<OpeningDay>,
    pub windows: Vec<WindowView>,
}

impl SiteView {
    /// Windows in service (the public list shows only these).
    pub fn active_windows(&self) -> usize {
        self.windows.iter().filter(|w| w.active).count()
    }
}

pub struct WindowView {
    pub id: i64,
    pub number: i64,
    pub kind: String,
    pub active: bool,
    /// The lines it serves in priority order, as codes (`first_issue,renewal`).
    pub lines: String,
    /// Every business line to tick: those served first, in priority order, then the others.
    pub choices: Vec<LineChoice>,
}

/// A business line a window may serve, ticked when it does.
pub struct LineChoice {
    pub code: String,
    pub name: String,
    pub ticked: bool,
}

fn window_views(windows: Vec<Window>, lang: Lang) -> Vec<WindowView> {
    windows
        .into_iter()
        .map(|w| WindowView {
            id: w.id,
            number: w.number,
            kind: w.kind.name(lang).to_string(),
            active: w.active,
            lines: crate::queue::default_lines(w.kind).join(","),
            choices: Vec::new(),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "sites.html")]
struct SitesPage {
    page: Page,
    sites: Vec<SiteView>,
}

async fn sites_page(State(state): State<AppState>, page: Page) -> AppResult<SitesPage> {
    let lang = page.lang;
    let mut views = Vec::new();
    for site in store::list_sites(state.db.reader(), true).await? {
        let days = upcoming(&state, &site.opening_rules, 7, lang);
        let windows = window_views(store::windows_of(state.db.reader(), site.id).await?, lang);
        views.push(SiteView {
            kind: site.kind.name(lang).to_string(),
            site,
            days,
            windows,
        });
    }
    Ok(SitesPage { page, sites: views })
}

// ---- administration -------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "admin/sites.html")]
struct AdminSitesPage {
    page: Page,
    sites: Vec<SiteView>,
    kinds: Vec<(String, String)>,
    form: SiteForm,
    error: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SiteForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub address_zh: String,
    #[serde(default)]
    pub address_en: String,
    #[serde(default)]
    pub phone: String,
    /// Opening rules as TOML (see docs/CONFIGURATION.md), for scripts; the page posts the
    /// hours fields instead.
    #[serde(default)]
    pub opening_rules: String,
    #[serde(flatten)]
    pub hours: super::hours_form::HoursForm,
}

impl SiteForm {
    fn from_site(s: &Site) -> SiteForm {
        SiteForm {
            code: s.code.clone(),
            kind: s.kind.as_str().into(),
            name_zh: s.name_zh.clone(),
            name_en: s.name_en.clone(),
            address_zh: s.address_zh.clone(),
            address_en: s.address_en.clone(),
            phone: s.phone.clone(),
            opening_rules: String::new(),
            hours: super::hours_form::HoursForm::from_rules(&s.opening_rules),
        }
    }

    fn default_new() -> SiteForm {
        SiteForm {
            kind: "extension".into(),
            hours: super::hours_form::HoursForm::from_rules(&OpeningRules::default_hall()),
            ..SiteForm::default()
        }
    }

    fn parse(&self) -> Result<SiteInput, SiteError> {
        let kind = SiteKind::parse(&self.kind).ok_or(SiteError::MissingText("类型 / kind"))?;
        let opening_rules = if self.hours.is_blank() && !self.opening_rules.trim().is_empty() {
            OpeningRules::from_toml_str(&self.opening_rules)
        } else {
            self.hours.parse()
        }
        .map_err(|e| SiteError::Opening(e.to_string()))?;
        Ok(SiteInput {
            code: self.code.trim().into(),
            kind,
            name_zh: self.name_zh.clone(),
            name_en: self.name_en.clone(),
            address_zh: self.address_zh.clone(),
            address_en: self.address_en.clone(),
            phone: self.phone.clone(),
            opening_rules,
        })
    }
}

fn kinds(lang: Lang) -> Vec<(String, String)> {
    SiteKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.name(lang).to_string()))
        .collect()
}

async fn admin_list(state: &AppState, lang: Lang) -> AppResult<Vec<SiteView>> {
    let mut views = Vec::new();
    for site in store::list_sites(state.db.reader(), false).await? {
        let windows = window_views(store::windows_of(state.db.reader(), site.id).await?, lang);
        views.push(SiteView {
            kind: site.kind.name(lang).to_string(),
            site,
            days: Vec::new(),
            windows,
        });
    }
    Ok(views)
}

async fn admin_sites(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
) -> AppResult<AdminSitesPage> {
    actor.admin().ok_or_else(AppError::forbidden)?;
    let lang = page.lang;
    Ok(AdminSitesPage {
        sites: admin_list(&state, lang).await?,
        kinds: kinds(lang),
        form: SiteForm::default_new(),
        error: None,
        page,
    })
}

async fn admin_create_site(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Form(form): Form<SiteForm>,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let lang = page.lang;
    let result = match form.parse() {
        Ok(input) => super::create_site(&state.db, &state.clock, admin, input).await,
        Err(e) => Err(Failure::Refused(e)),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/admin/sites/{id}")).into_response()),
        Err(Failure::Refused(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            AdminSitesPage {
                sites: admin_list(&state, lang).await?,
                kinds: kinds(lang),
                form,
                error: Some(e.message(lang)),
                page,
            },
        )
            .into_response()),
        Err(other) => Err(AppError::from(other)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/site.html")]
struct AdminSitePage {
    page: Page,
    /// The display's rolling notices, one per line as `中文 | English`.
    notices: String,
    site: SiteView,
    kinds: Vec<(String, String)>,
    window_kinds: Vec<(String, String)>,
    form: SiteForm,
    error: Option<String>,
}

async fn site_page(
    state: &AppState,
    page: Page,
    id: i64,
    form: Option<SiteForm>,
    error: Option<String>,
) -> AppResult<AdminSitePage> {
    let lang = page.lang;
    let site = store::site(state.db.reader(), id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut windows = window_views(store::windows_of(state.db.reader(), id).await?, lang);
    for w in &mut windows {
        if let Some(st) = crate::queue::stored_window_state(state.db.reader(), w.id).await? {
            w.lines = st.lines.trim_matches(',').to_string();
        }
        let served: Vec<&str> = w.lines.split(',').filter(|c| !c.is_empty()).collect();
        let name = |code: &str| {
            state
                .lines
                .get(code)
                .map(|l| l.name(lang).to_string())
                .unwrap_or_else(|| code.to_string())
        };
        let mut choices: Vec<LineChoice> = served
            .iter()
            .map(|c| LineChoice {
                code: c.to_string(),
                name: name(c),
                ticked: true,
            })
            .collect();
        for l in state.lines.all() {
            if !served.contains(&l.code.as_str()) {
                choices.push(LineChoice {
                    code: l.code.clone(),
                    name: l.name(lang).to_string(),
                    ticked: false,
                });
            }
        }
        w.choices = choices;
    }
    let days = upcoming(state, &site.opening_rules, 14, lang);
    let form = form.unwrap_or_else(|| SiteForm::from_site(&site));
    Ok(AdminSitePage {
        notices: crate::queue::notices(state.db.reader(), id).await?,
        site: SiteView {
            kind: site.kind.name(lang).to_string(),
            site,
            days,
            windows,
        },
        kinds: kinds(lang),
        window_kinds: WindowKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.name(lang).to_string()))
            .collect(),
        form,
        error,
        page,
    })
}

async fn admin_site(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
) -> AppResult<AdminSitePage> {
    actor.admin_of(id).ok_or_else(AppError::forbidden)?;
    site_page(&state, page, id, None, None).await
}

async fn admin_update_site(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(form): Form<SiteForm>,
) -> AppResult<Response> {
    let admin = actor.admin_of(id).ok_or_else(AppError::forbidden)?;
    let lang = page.lang;
    let result = match form.parse() {
        Ok(input) => super::update_site(&state.db, &state.clock, admin, id, input).await,
        Err(e) => Err(Failure::Refused(e)),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/sites/{id}")).into_response()),
        Err(Failure::Refused(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            site_page(&state, page, id, Some(form), Some(e.message(lang))).await?,
        )
            .into_response()),
        Err(other) => Err(AppError::from(other)),
    }
}

#[derive(Deserialize)]
struct WindowForm {
    number: String,
    kind: String,
}

async fn admin_add_window(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(f): Form<WindowForm>,
) -> AppResult<Response> {
    let admin = actor.admin_of(id).ok_or_else(AppError::forbidden)?;
    let lang = page.lang;
    let kind = WindowKind::parse(&f.kind);
    let number = f.number.trim().parse::<i64>().ok();
    let result = match (number, kind) {
        (Some(n), Some(k)) => super::add_window(&state.db, &state.clock, admin, id, n, k)
            .await
            .map(|_| ()),
        _ => Err(Failure::Refused(SiteError::BadWindowNumber)),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/sites/{id}")).into_response()),
        Err(Failure::Refused(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            site_page(&state, page, id, None, Some(e.message(lang))).await?,
        )
            .into_response()),
        Err(other) => Err(AppError::from(other)),
    }
}

#[derive(Deserialize)]
struct ActiveForm {
    active: String,
}

async fn admin_window_active(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(f): Form<ActiveForm>,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let window = store::window(state.db.reader(), id)
        .await?
        .ok_or_else(AppError::not_found)?;
    super::set_window_active(&state.db, &state.clock, admin, id, f.active == "1").await?;
    Ok(Redirect::to(&format!("/admin/sites/{}", window.site_id)).into_response())
}

// ---- JSON API -------------------------------------------------------------------------------

/// Every active site: the hall, extension points and kiosk points, with address and hours.
#[utoipa::path(get, path = "/api/v1/sites", tag = "public", responses((status = 200, body = Vec<Site>)))]
async fn api_sites(State(state): State<AppState>) -> AppResult<axum::Json<Vec<Site>>> {
    Ok(axum::Json(
        store::list_sites(state.db.reader(), true).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct DaysQuery {
    /// How many days from today (1–60, default 14).
    #[param(minimum = 1, maximum = 60)]
    days: Option<u32>,
}

/// A site's openings for the coming days, from its rules and the holiday calendar.
#[utoipa::path(get, path = "/api/v1/sites/{code}/openings", tag = "public",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Four-digit site code"), DaysQuery),
    responses((status = 200, body = Vec<OpeningDay>), (status = 404, body = crate::error::ErrorBody)))]
async fn api_site_openings(
    State(state): State<AppState>,
    lang: Lang,
    Path(code): Path<crate::web::fields::SiteCodeText>,
    Query(q): Query<DaysQuery>,
) -> AppResult<axum::Json<Vec<OpeningDay>>> {
    let site = store::site_by_code(state.db.reader(), &code)
        .await?
        .filter(|s| s.active)
        .ok_or_else(AppError::not_found)?;
    let days = q.days.unwrap_or(14);
    if !(1..=60).contains(&days) {
        return Err(AppError::invalid(crate::i18n::BadValue::new(
            "天数（1–60）",
            "days (1–60)",
            &days.to_string(),
        )));
    }
    Ok(axum::Json(upcoming(
        &state,
        &site.opening_rules,
        days,
        lang,
    )))
}

/// A site's windows and what each serves.
#[utoipa::path(get, path = "/api/v1/sites/{code}/windows", tag = "public",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Four-digit site code")),
    responses((status = 200, body = Vec<Window>), (status = 404, body = crate::error::ErrorBody)))]
async fn api_site_windows(
    State(state): State<AppState>,
    Path(code): Path<crate::web::fields::SiteCodeText>,
) -> AppResult<axum::Json<Vec<Window>>> {
    let site = store::site_by_code(state.db.reader(), &code)
        .await?
        .filter(|s| s.active)
        .ok_or_else(AppError::not_found)?;
    Ok(axum::Json(
        store::windows_of(state.db.reader(), site.id).await?,
    ))
}
