//! Pages and API of complaints: the citizen's form and follow-up page, the duty leader's list
//! with registration from hotlines, the box and windows, and the answer.

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

use super::{
    AnswerInput, Answerer, Category, ComplaintChannel, ComplaintError, ComplaintInput, Registered,
    Registrar, Status, Tracked,
};
use crate::auth::Failure;
use crate::auth::grant::Lead;
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, UserMessage};
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Form, Json, Meta, Path, Query, Staff};
use crate::web::layout::Page;
use crate::web::limits::Scope;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/complaints", get(form_page).post(form_submit))
        .route("/complaints/track", get(track_page).post(track_submit))
        .route("/staff/complaints", get(list_page).post(staff_register))
        .route("/staff/complaints/{id}/answer", post(staff_answer))
        .route("/staff/complaints/{id}/assign", post(staff_assign))
        .route("/staff/complaints/mine", get(mine_page))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_register))
        .routes(routes!(api_track))
        .routes(routes!(api_rate_answer))
        .routes(routes!(api_list))
        .routes(routes!(api_answer))
        .routes(routes!(api_assign))
        .routes(routes!(api_mine))
}

/// A choice in a select.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn categories(lang: Lang, chosen: &str) -> Vec<Choice> {
    Category::ALL
        .iter()
        .map(|c| Choice {
            value: c.code(),
            label: c.name(lang),
            selected: c.code() == chosen,
        })
        .collect()
}

fn refusal_text(e: Failure<ComplaintError>, lang: Lang) -> AppResult<(StatusCode, String)> {
    match e {
        Failure::Refused(r) => Ok((r.status(), r.message(lang))),
        other => Err(AppError::from(other)),
    }
}

async fn limited(state: &AppState, ip: &str) -> AppResult<()> {
    state
        .limits
        .check(Scope::Complaints, ip, None)
        .await
        .map_err(AppError::rate_limited)
}

// ---- the citizen ----------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct ComplaintForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    window: String,
    #[serde(default)]
    application_no: String,
    #[serde(default)]
    officer_badge: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    channel: String,
}

impl ComplaintForm {
    /// The use case's input; a category or window number that is not one is refused, never
    /// defaulted.
    fn input(&self, channel: ComplaintChannel) -> Result<ComplaintInput, ComplaintError> {
        let category = Category::parse(&self.category).ok_or(ComplaintError::Category)?;
        let window = match self.window.trim() {
            "" => None,
            n => Some(n.parse().map_err(|_| ComplaintError::NoSuchWindow)?),
        };
        Ok(ComplaintInput {
            channel,
            category,
            site: Some(self.site.clone()).filter(|s| !s.trim().is_empty()),
            window,
            application_no: Some(self.application_no.clone()).filter(|s| !s.trim().is_empty()),
            officer_badge: Some(self.officer_badge.clone()).filter(|s| !s.trim().is_empty()),
            content: self.content.clone(),
            name: self.name.clone(),
            phone: self.phone.clone(),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "complaint.html")]
struct FormPage {
    page: Page,
    sites: Vec<Site>,
    categories: Vec<Choice>,
    form: ComplaintForm,
    error: Option<String>,
    done: Option<Registered>,
}

async fn form_view(
    state: &AppState,
    page: Page,
    form: ComplaintForm,
    error: Option<String>,
    done: Option<Registered>,
) -> AppResult<FormPage> {
    Ok(FormPage {
        sites: crate::sites::list_sites(state.db.reader(), true).await?,
        categories: categories(page.lang, &form.category),
        page,
        form,
        error,
        done,
    })
}

async fn form_page(State(state): State<AppState>, page: Page) -> AppResult<FormPage> {
    form_view(&state, page, ComplaintForm::default(), None, None).await
}

async fn form_submit(
    State(state): State<AppState>,
    page: Page,
    Meta(meta): Meta,
    Form(f): Form<ComplaintForm>,
) -> AppResult<Response> {
    limited(&state, &meta.ip).await?;
    let lang = page.lang;
    let registered = match f.input(ComplaintChannel::Web) {
        Ok(input) => super::register(&state.complaints(), Registrar::Citizen, &input, &meta).await,
        Err(e) => Err(Failure::Refused(e)),
    };
    match registered {
        Ok(r) => Ok(
            form_view(&state, page, ComplaintForm::default(), None, Some(r))
                .await?
                .into_response(),
        ),
        Err(e) => {
            let (status, msg) = refusal_text(e, lang)?;
            Ok((status, form_view(&state, page, f, Some(msg), None).await?).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "complaint_track.html")]
struct TrackPage {
    page: Page,
    number: String,
    phone: String,
    tracked: Option<Tracked>,
    status: String,
    category: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct TrackForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    phone: String,
    /// `satisfied` or `dissatisfied`: the citizen's word on the answer.
    #[serde(default)]
    verdict: String,
}

fn track_view(
    page: Page,
    f: &TrackForm,
    tracked: Option<Tracked>,
    error: Option<String>,
) -> TrackPage {
    let lang = page.lang;
    TrackPage {
        number: f.number.clone(),
        phone: f.phone.clone(),
        status: tracked
            .as_ref()
            .map(|t| t.status.name(lang).to_string())
            .unwrap_or_default(),
        category: tracked
            .as_ref()
            .map(|t| t.category.name(lang).to_string())
            .unwrap_or_default(),
        page,
        tracked,
        error,
    }
}

async fn track_page(page: Page) -> TrackPage {
    track_view(page, &TrackForm::default(), None, None)
}

async fn track_submit(
    State(state): State<AppState>,
    page: Page,
    Meta(meta): Meta,
    Form(f): Form<TrackForm>,
) -> AppResult<Response> {
    limited(&state, &meta.ip).await?;
    let lang = page.lang;
    let ctx = state.complaints();
    let result = match f.verdict.as_str() {
        "satisfied" | "dissatisfied" => {
            super::rate_answer(&ctx, &f.number, &f.phone, f.verdict == "satisfied", &meta).await
        }
        _ => super::track(&ctx, &f.number, &f.phone).await,
    };
    match result {
        Ok(t) => Ok(track_view(page, &f, Some(t), None).into_response()),
        Err(e) => {
            let (status, msg) = refusal_text(e, lang)?;
            Ok((status, track_view(page, &f, None, Some(msg))).into_response())
        }
    }
}

// ---- the duty leader ------------------------------------------------------------------------

/// A complaint as the list shows it (contact masked).
pub struct ComplaintLine {
    pub id: i64,
    pub number: String,
    pub channel: String,
    pub category: String,
    pub received: String,
    pub due_date: String,
    pub status: String,
    pub open: bool,
    pub overdue: bool,
    pub repeated: bool,
    pub content: String,
    pub contact: String,
    /// The site's code (forms send it back).
    pub site_code: String,
    /// The officer concerned: "name (badge)".
    pub officer: String,
    /// The named handler: "name (badge)".
    pub handler: String,
    pub handler_id: Option<i64>,
    pub window: String,
    pub application_no: String,
    pub answer: String,
    pub justified: String,
    pub accountability: String,
    pub satisfied: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/complaints.html")]
struct ListPage {
    page: Page,
    sites: Vec<Site>,
    site: Site,
    complaints: Vec<ComplaintLine>,
    /// Who an open complaint can be assigned to: (staff id, "name (badge)").
    handlers: Vec<(i64, String)>,
    /// The leader's list (assign forms shown), not a handler's own.
    assignable: bool,
    categories: Vec<Choice>,
    channels: Vec<Choice>,
    error: Option<String>,
    ok: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    site: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

async fn staff_name(state: &AppState, id: Option<i64>) -> AppResult<String> {
    Ok(crate::supervision::web::card_of(state, id)
        .await?
        .map(|c| format!("{} ({})", c.name, c.badge))
        .unwrap_or_default())
}

async fn line_of(
    state: &AppState,
    v: super::ComplaintView,
    lang: Lang,
) -> AppResult<ComplaintLine> {
    let r = v.row;
    let (site_code, windows) = match r.site_id {
        Some(id) => (
            crate::sites::site(state.db.reader(), id)
                .await?
                .map(|s| s.code)
                .unwrap_or_default(),
            crate::sites::windows_of(state.db.reader(), id).await?,
        ),
        None => (String::new(), Vec::new()),
    };
    let officer = staff_name(state, r.officer_id).await?;
    let handler = staff_name(state, r.handler_id).await?;
    // Sealed by us: a contact that does not open or parse is our fault, and says so; one
    // erased after the retention period is shown as erased.
    let (name, phone) = if crate::privacy::is_erased(&r.name_sealed) {
        (crate::privacy::ERASED_SHOWN.to_string(), String::new())
    } else {
        let name = state
            .cipher
            .open(&r.name_sealed)
            .map_err(AppError::internal)?;
        let phone = state
            .cipher
            .open(&r.phone_sealed)
            .map_err(AppError::internal)?;
        let phone = crate::domain::phone::PhoneNumber::parse(&phone)
            .map_err(|e| AppError::internal(format!("complaint {} phone: {e}", r.number)))?
            .masked();
        (name, phone)
    };
    Ok(ComplaintLine {
        id: r.id,
        number: r.number,
        channel: r.channel.name(lang).into(),
        category: r.category.name(lang).into(),
        received: crate::clock::format_local(r.received_at),
        due_date: r.due_date,
        status: r.status.name(lang).into(),
        open: r.status == Status::Open,
        overdue: v.overdue,
        repeated: v.repeated,
        content: r.content,
        contact: format!("{} {}", crate::domain::masking::mask_name(&name), phone),
        site_code,
        officer,
        handler,
        handler_id: r.handler_id,
        window: r
            .window_id
            .and_then(|id| windows.iter().find(|w| w.id == id))
            .map(|w| w.number.to_string())
            .unwrap_or_default(),
        application_no: r.application_no.unwrap_or_default(),
        answer: r.answer.unwrap_or_default(),
        justified: r
            .justified
            .map(|j| {
                lang.pick(
                    if j { "属实" } else { "不属实" },
                    if j { "Justified" } else { "Not justified" },
                )
                .to_string()
            })
            .unwrap_or_default(),
        accountability: r.accountability.unwrap_or_default(),
        satisfied: r
            .satisfied
            .map(|s| {
                lang.pick(
                    if s { "满意" } else { "不满意" },
                    if s { "Satisfied" } else { "Dissatisfied" },
                )
                .to_string()
            })
            .unwrap_or_default(),
    })
}

async fn list_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<ListPage> {
    let lang = page.lang;
    let grant = super::handler(&actor)?;
    let (sites, site) = crate::sites::web::duty_sites::<Lead>(&state, &actor, &q.site).await?;
    let mut complaints = Vec::new();
    for v in super::list(&state.complaints(), &grant, site.id).await? {
        complaints.push(line_of(&state, v, lang).await?);
    }
    let handlers = crate::auth::staff_of_site(&state.db, &state.clock, site.id)
        .await?
        .into_iter()
        .map(|s| (s.id, format!("{} ({})", s.display_name, s.badge_no)))
        .collect();
    Ok(ListPage {
        channels: ComplaintChannel::ALL
            .iter()
            .filter(|c| **c != ComplaintChannel::Web)
            .map(|c| Choice {
                value: c.code(),
                label: c.name(lang),
                selected: false,
            })
            .collect(),
        categories: categories(lang, ""),
        page,
        sites,
        site,
        complaints,
        handlers,
        assignable: true,
        error: q.error.filter(|e| !e.is_empty()),
        ok: q.ok.filter(|e| !e.is_empty()),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/complaints_mine.html")]
struct MinePage {
    page: Page,
    complaints: Vec<ComplaintLine>,
    handlers: Vec<(i64, String)>,
    assignable: bool,
    error: Option<String>,
    ok: Option<String>,
}

/// The complaints assigned to the signed-in staff member, whatever their role.
async fn mine_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<MinePage> {
    let lang = page.lang;
    let mut complaints = Vec::new();
    for v in super::assigned_to(&state.complaints(), &actor).await? {
        complaints.push(line_of(&state, v, lang).await?);
    }
    Ok(MinePage {
        page,
        complaints,
        handlers: Vec::new(),
        assignable: false,
        error: q.error.filter(|e| !e.is_empty()),
        ok: q.ok.filter(|e| !e.is_empty()),
    })
}

fn back_to(site: &str, key: &str, value: &str) -> Response {
    let q = serde_urlencoded::to_string([("site", site), (key, value)]).unwrap_or_default();
    Redirect::to(&format!("/staff/complaints?{q}")).into_response()
}

/// Back to the handler's own list (`mine`) or the leader's.
fn back(mine: bool, site: &str, key: &str, value: &str) -> Response {
    if mine {
        let q = serde_urlencoded::to_string([(key, value)]).unwrap_or_default();
        Redirect::to(&format!("/staff/complaints/mine?{q}")).into_response()
    } else {
        back_to(site, key, value)
    }
}

async fn staff_register(
    State(state): State<AppState>,
    page: Page,
    Meta(meta): Meta,
    Staff(actor): Staff,
    Form(f): Form<ComplaintForm>,
) -> AppResult<Response> {
    let lang = page.lang;
    let grant = super::taker(&actor)?;
    let Some(channel) = ComplaintChannel::parse(&f.channel) else {
        return Ok(back_to(
            &f.site,
            "error",
            &ComplaintError::Channel.message(lang),
        ));
    };
    let registered = match f.input(channel) {
        Ok(input) => {
            super::register(&state.complaints(), Registrar::Staff(&grant), &input, &meta).await
        }
        Err(e) => Err(Failure::Refused(e)),
    };
    match registered {
        Ok(r) => Ok(back_to(&f.site, "ok", &r.number)),
        Err(e) => Ok(back_to(&f.site, "error", &refusal_text(e, lang)?.1)),
    }
}

#[derive(Debug, Deserialize)]
struct AnswerForm {
    #[serde(default)]
    answer: String,
    #[serde(default)]
    justified: String,
    #[serde(default)]
    accountability: String,
    #[serde(default)]
    site: String,
    /// Sent from the handler's own list.
    #[serde(default)]
    mine: String,
}

async fn staff_answer(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(f): Form<AnswerForm>,
) -> AppResult<Response> {
    let lang = page.lang;
    let mine = f.mine == "1";
    let justified = match f.justified.as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            let why = ComplaintError::FindingNeeded.message(lang);
            return Ok(back(mine, &f.site, "error", &why));
        }
    };
    let input = AnswerInput {
        answer: f.answer.clone(),
        justified,
        accountability: f.accountability.clone(),
    };
    let lead = actor.grant::<Lead>();
    let answerer = match &lead {
        Some(g) => Answerer::Leader(g),
        None => Answerer::Handler(&actor),
    };
    match super::answer(&state.complaints(), answerer, id, &input).await {
        Ok(r) => Ok(back(mine, &f.site, "ok", &r.number)),
        Err(e) => Ok(back(mine, &f.site, "error", &refusal_text(e, lang)?.1)),
    }
}

#[derive(Debug, Deserialize)]
struct AssignForm {
    #[serde(default)]
    handler: String,
    #[serde(default)]
    site: String,
}

async fn staff_assign(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(f): Form<AssignForm>,
) -> AppResult<Response> {
    let lang = page.lang;
    let grant = super::handler(&actor)?;
    let Ok(handler) = f.handler.trim().parse::<i64>() else {
        return Ok(back_to(
            &f.site,
            "error",
            &ComplaintError::NoSuchHandler.message(lang),
        ));
    };
    match super::assign(&state.complaints(), &grant, id, handler).await {
        Ok(r) => Ok(back_to(&f.site, "ok", &r.number)),
        Err(e) => Ok(back_to(&f.site, "error", &refusal_text(e, lang)?.1)),
    }
}

// ---- JSON API -------------------------------------------------------------------------------

/// Registers an online complaint or suggestion (`channel: web`); limited per address.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints", request_body = ComplaintInput,
    responses((status = 201, body = Registered), (status = 422, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
async fn api_register(
    State(state): State<AppState>,
    Meta(meta): Meta,
    staff: crate::web::extract::MaybeStaff,
    Json(input): Json<ComplaintInput>,
) -> AppResult<(StatusCode, axum::Json<Registered>)> {
    let registered = match (&staff.0, input.channel) {
        // Staff register the other channels through the same operation.
        (Some(actor), c) if c != ComplaintChannel::Web => {
            let grant = super::taker(actor)?;
            super::register(&state.complaints(), Registrar::Staff(&grant), &input, &meta).await?
        }
        _ => {
            limited(&state, &meta.ip).await?;
            super::register(&state.complaints(), Registrar::Citizen, &input, &meta).await?
        }
    };
    Ok((StatusCode::CREATED, axum::Json(registered)))
}

/// The number and phone number a complaint was registered with.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TrackJson {
    pub number: crate::web::fields::ComplaintNoText,
    pub phone: crate::web::fields::PhoneText,
}

/// Where a complaint stands (by its number and the phone number given with it).
#[utoipa::path(post, path = "/api/v1/complaints/track", tag = "complaints", request_body = TrackJson,
    responses((status = 200, body = Tracked), (status = 404, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
async fn api_track(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Json(b): Json<TrackJson>,
) -> AppResult<axum::Json<Tracked>> {
    limited(&state, &meta.ip).await?;
    Ok(axum::Json(
        super::track(&state.complaints(), &b.number, b.phone.as_ref()).await?,
    ))
}

/// The citizen's word on the answer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VerdictJson {
    pub number: crate::web::fields::ComplaintNoText,
    pub phone: crate::web::fields::PhoneText,
    pub satisfied: bool,
}

/// Records whether the answer satisfied the citizen; closes the complaint (once).
#[utoipa::path(post, path = "/api/v1/complaints/rate-answer", tag = "complaints", request_body = VerdictJson,
    responses((status = 200, body = Tracked), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn api_rate_answer(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Json(b): Json<VerdictJson>,
) -> AppResult<axum::Json<Tracked>> {
    limited(&state, &meta.ip).await?;
    Ok(axum::Json(
        super::rate_answer(
            &state.complaints(),
            &b.number,
            b.phone.as_ref(),
            b.satisfied,
            &meta,
        )
        .await?,
    ))
}

/// A complaint as the duty leader's API shows it (contact left out).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ComplaintJson {
    pub id: i64,
    pub number: String,
    pub channel: ComplaintChannel,
    pub category: Category,
    pub status: Status,
    /// Epoch milliseconds.
    pub received_at: i64,
    #[schema(format = Date)]
    pub due_date: String,
    pub overdue: bool,
    pub repeated: bool,
    pub content: String,
    pub answer: Option<String>,
    pub justified: Option<bool>,
    pub satisfied: Option<bool>,
    /// The officer concerned (staff id), if known.
    pub officer_id: Option<i64>,
    /// The named handler (staff id), once assigned.
    pub handler_id: Option<i64>,
}

/// A site's complaints for its duty leader: open ones first, by deadline.
#[utoipa::path(get, path = "/api/v1/sites/{code}/complaints", tag = "complaints",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Site code")),
    responses((status = 200, body = Vec<ComplaintJson>), (status = 403, body = crate::error::ErrorBody)))]
async fn api_list(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(code): Path<crate::web::fields::SiteCodeText>,
) -> AppResult<axum::Json<Vec<ComplaintJson>>> {
    let grant = super::handler(&actor)?;
    let site = crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    let list = super::list(&state.complaints(), &grant, site.id).await?;
    Ok(axum::Json(list.into_iter().map(complaint_json).collect()))
}

fn complaint_json(v: super::ComplaintView) -> ComplaintJson {
    ComplaintJson {
        id: v.row.id,
        number: v.row.number,
        channel: v.row.channel,
        category: v.row.category,
        status: v.row.status,
        received_at: v.row.received_at,
        due_date: v.row.due_date,
        overdue: v.overdue,
        repeated: v.repeated,
        content: v.row.content,
        answer: v.row.answer,
        justified: v.row.justified,
        satisfied: v.row.satisfied,
        officer_id: v.row.officer_id,
        handler_id: v.row.handler_id,
    }
}

/// The open complaints assigned to the signed-in staff member, by deadline (their work list).
#[utoipa::path(get, path = "/api/v1/complaints/mine", tag = "complaints",
    responses((status = 200, body = Vec<ComplaintJson>)))]
async fn api_mine(
    State(state): State<AppState>,
    Staff(actor): Staff,
) -> AppResult<axum::Json<Vec<ComplaintJson>>> {
    let mine = super::assigned_to(&state.complaints(), &actor).await?;
    Ok(axum::Json(mine.into_iter().map(complaint_json).collect()))
}

/// Answers a complaint (once), with whether it was justified and the accountability.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/answer", tag = "complaints",
    params(("id" = i64, Path, description = "Complaint id")), request_body = AnswerInput,
    responses((status = 204), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn api_answer(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Json(b): Json<AnswerInput>,
) -> AppResult<StatusCode> {
    let lead = actor.grant::<Lead>();
    let answerer = match &lead {
        Some(g) => Answerer::Leader(g),
        None => Answerer::Handler(&actor),
    };
    super::answer(&state.complaints(), answerer, id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who handles a complaint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AssignJson {
    /// A staff id of the complaint's site.
    pub handler: i64,
}

/// Assigns an open complaint to a named handler of its site (the duty leader).
#[utoipa::path(post, path = "/api/v1/complaints/{id}/assign", tag = "complaints",
    params(("id" = i64, Path, description = "Complaint id")), request_body = AssignJson,
    responses((status = 204), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn api_assign(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Json(b): Json<AssignJson>,
) -> AppResult<StatusCode> {
    let grant = super::handler(&actor)?;
    super::assign(&state.complaints(), &grant, id, b.handler).await?;
    Ok(StatusCode::NO_CONTENT)
}
