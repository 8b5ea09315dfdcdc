//! Pages and API of 好差评: the window evaluator facing the citizen, the rating page on the
//! citizen's phone (from the ticket page), and the duty leader's follow-up cases.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    CaseView, Channel, Level, Outcome, Rated, RatingError, RatingInput, Satisfaction, Verification,
};
use crate::auth::Failure;
use crate::auth::grant::{Lead, ServeWindow};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, UserMessage};
use crate::queue::Ticket;
use crate::sites::{Site, Window};
use crate::web::AppState;
use crate::web::extract::{Form, Json, Meta, Path, Query, Staff};
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/rate/{token}", get(rate_page).post(rate_submit))
        .route(
            "/staff/windows/{id}/evaluator",
            get(evaluator_page).post(evaluator_submit),
        )
        // The same page for the enrolled evaluator tablet of the window's site (no staff
        // sign-in on a screen the citizen touches).
        .route(
            "/evaluator/{id}",
            get(evaluator_page).post(evaluator_submit),
        )
        .route("/staff/leader/ratings", get(cases_page))
        .route("/staff/leader/ratings/{id}", post(case_close))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_reasons))
        .routes(routes!(api_rate))
        .routes(routes!(api_cases))
        .routes(routes!(api_close_case))
}

/// A level as the form offers it.
pub struct LevelChoice {
    pub code: &'static str,
    pub name: &'static str,
    pub bad: bool,
    pub checked: bool,
}

/// A reason as the form offers it.
pub struct ReasonChoice {
    pub id: String,
    pub text: String,
    pub checked: bool,
}

fn level_choices(lang: Lang, chosen: Option<Level>) -> Vec<LevelChoice> {
    Level::ALL
        .iter()
        .map(|l| LevelChoice {
            code: l.code(),
            name: l.name(lang),
            bad: l.bad(),
            checked: chosen == Some(*l),
        })
        .collect()
}

fn reason_choices(lang: Lang, chosen: &[String]) -> Vec<ReasonChoice> {
    super::reasons()
        .iter()
        .map(|r| ReasonChoice {
            id: r.id.clone(),
            text: r.text(lang).to_string(),
            checked: chosen.contains(&r.id),
        })
        .collect()
}

/// The rating form's fields as posted: `level`, `reason` (repeated), `comment`.
#[derive(Debug, Default)]
struct RatingForm {
    level: String,
    reasons: Vec<String>,
    comment: String,
    token: String,
}

impl RatingForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> RatingForm {
        let mut f = RatingForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "level" => f.level = v,
                "reason" => f.reasons.push(v),
                "comment" => f.comment = v,
                "token" => f.token = v,
                _ => {}
            }
        }
        f
    }

    fn input(&self) -> Option<RatingInput> {
        Some(RatingInput {
            level: Level::parse(&self.level)?,
            reasons: self.reasons.clone(),
            comment: self.comment.clone(),
        })
    }
}

/// Why a posted rating form was not recorded, in the citizen's language.
fn form_error(e: Failure<RatingError>, lang: Lang) -> AppResult<String> {
    match e {
        Failure::Refused(r) => Ok(r.message(lang)),
        other => Err(AppError::from(other)),
    }
}

fn choose_level(lang: Lang) -> String {
    lang.pick(
        "请选择一个评价等级。",
        "Please choose how satisfied you are.",
    )
    .into()
}

// ---- the citizen's phone --------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "rate.html")]
struct RatePage {
    page: Page,
    site: Site,
    ticket: Ticket,
    officer: Option<crate::supervision::Card>,
    levels: Vec<LevelChoice>,
    reasons: Vec<ReasonChoice>,
    comment: String,
    /// Why the form came back; `None` on a fresh form.
    error: Option<String>,
    /// The rating given (the thank-you view).
    done: Option<Rated>,
    /// The service cannot be rated (expired, not finished, rated already): why.
    closed: Option<String>,
}

async fn ticket_site(state: &AppState, token: &str) -> AppResult<(Ticket, Site)> {
    let t = super::service(&state.ratings(), token).await?;
    let site = crate::sites::site(state.db.reader(), t.site_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok((t, site))
}

#[allow(clippy::too_many_arguments)]
async fn rate_view(
    state: &AppState,
    page: Page,
    token: &str,
    channel: Channel,
    form: Option<&RatingForm>,
    error: Option<String>,
    done: Option<Rated>,
) -> AppResult<RatePage> {
    let lang = page.lang;
    let (ticket, site) = ticket_site(state, token).await?;
    let ctx = state.ratings();
    let closed = if done.is_some() {
        None
    } else if super::rating_of(&ctx, ticket.id).await?.is_some() {
        Some(RatingError::AlreadyRated.message(lang))
    } else if !super::rateable(&ctx, &ticket, channel).await? {
        Some(
            match ticket.status {
                crate::queue::TicketStatus::Done => RatingError::Expired,
                _ => RatingError::NotFinished,
            }
            .message(lang),
        )
    } else {
        None
    };
    let officer = crate::supervision::web::card_of(state, ticket.officer_id).await?;
    Ok(RatePage {
        levels: level_choices(lang, form.and_then(|f| Level::parse(&f.level))),
        reasons: reason_choices(lang, form.map(|f| f.reasons.as_slice()).unwrap_or_default()),
        comment: form.map(|f| f.comment.clone()).unwrap_or_default(),
        page,
        site,
        ticket,
        officer,
        error,
        done,
        closed,
    })
}

async fn rate_page(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
) -> AppResult<RatePage> {
    rate_view(&state, page, &token, Channel::Link, None, None, None).await
}

async fn rate_submit(
    State(state): State<AppState>,
    page: Page,
    Meta(meta): Meta,
    Path(token): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let lang = page.lang;
    let form = RatingForm::from_pairs(pairs);
    let Some(input) = form.input() else {
        let view = rate_view(
            &state,
            page,
            &token,
            Channel::Link,
            Some(&form),
            Some(choose_level(lang)),
            None,
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
    };
    match super::rate(&state.ratings(), &token, Channel::Link, &input, &meta).await {
        Ok(rated) => Ok(
            rate_view(&state, page, &token, Channel::Link, None, None, Some(rated))
                .await?
                .into_response(),
        ),
        Err(e) => {
            let status = match &e {
                Failure::Refused(r) => r.status(),
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let msg = form_error(e, lang)?;
            let view = rate_view(
                &state,
                page,
                &token,
                Channel::Link,
                Some(&form),
                Some(msg),
                None,
            )
            .await?;
            Ok((status, view).into_response())
        }
    }
}

// ---- the window evaluator -------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "evaluator.html")]
struct EvaluatorPage {
    page: Page,
    site: Site,
    window: Window,
    officer: Option<crate::supervision::Card>,
    /// The service to rate now: the window's last finished, unrated ticket.
    ticket: Option<Ticket>,
    levels: Vec<LevelChoice>,
    reasons: Vec<ReasonChoice>,
    comment: String,
    error: Option<String>,
    thanks: bool,
    /// Where this page is (and its form posts): the staff path or the device's.
    here: String,
    /// Shown on an enrolled evaluator tablet (it wipes itself back after a while).
    on_device: bool,
}

#[derive(Debug, Default, Deserialize)]
struct EvaluatorQuery {
    #[serde(default)]
    thanks: Option<String>,
}

/// The window, if the actor may serve at its site (the evaluator tablet is signed in as the
/// window's officer until devices enrol on their own, issue 14).
/// The window the evaluator faces, for a staff member who serves windows at its site or the
/// enrolled evaluator tablet of that site; with where the page lives for that caller.
async fn served_window(
    state: &AppState,
    staff: &crate::web::extract::MaybeStaff,
    device: &crate::device_registry::web::MaybeDevice,
    id: i64,
) -> AppResult<(Window, Site, String, bool)> {
    let window = crate::sites::window(state.db.reader(), id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let by_device = device.0.as_ref().is_some_and(|d| {
        d.kind == crate::device_registry::Kind::Evaluator && d.site_id == window.site_id
    });
    let by_staff = staff
        .0
        .as_ref()
        .is_some_and(|a| a.may::<ServeWindow>(window.site_id));
    if !by_device && !by_staff {
        return Err(if staff.0.is_none() && device.0.is_none() {
            AppError::not_signed_in()
        } else {
            AppError::forbidden()
        });
    }
    let site = crate::sites::site(state.db.reader(), window.site_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let here = if by_device && !by_staff {
        format!("/evaluator/{id}")
    } else {
        format!("/staff/windows/{id}/evaluator")
    };
    Ok((window, site, here, by_device && !by_staff))
}

/// Where the evaluator is shown: the window, its site, the page's path, on a device or not.
type Facing = (Window, Site, String, bool);

async fn evaluator_view(
    state: &AppState,
    page: Page,
    (window, site, here, on_device): Facing,
    form: Option<&RatingForm>,
    error: Option<String>,
    thanks: bool,
) -> AppResult<EvaluatorPage> {
    let lang = page.lang;
    let ctx = state.ratings();
    let today = state.clock.today().to_string();
    let last = crate::queue::last_finished_at_window(state.db.reader(), window.id, &today).await?;
    let ticket = match last {
        Some(t) if super::rateable(&ctx, &t, Channel::Evaluator).await? => Some(t),
        _ => None,
    };
    let holder = match &ticket {
        Some(t) => t.officer_id,
        None => crate::queue::stored_window_state(state.db.reader(), window.id)
            .await?
            .and_then(|s| s.officer_id),
    };
    Ok(EvaluatorPage {
        officer: crate::supervision::web::card_of(state, holder).await?,
        levels: level_choices(lang, form.and_then(|f| Level::parse(&f.level))),
        reasons: reason_choices(lang, form.map(|f| f.reasons.as_slice()).unwrap_or_default()),
        comment: form.map(|f| f.comment.clone()).unwrap_or_default(),
        page,
        site,
        window,
        ticket,
        error,
        thanks,
        here,
        on_device,
    })
}

async fn evaluator_page(
    State(state): State<AppState>,
    page: Page,
    staff: crate::web::extract::MaybeStaff,
    device: crate::device_registry::web::MaybeDevice,
    Path(id): Path<i64>,
    Query(q): Query<EvaluatorQuery>,
) -> AppResult<Response> {
    let facing = served_window(&state, &staff, &device, id).await?;
    let view = evaluator_view(&state, page, facing, None, None, q.thanks.is_some()).await?;
    let waiting = view.ticket.is_none();
    let mut res = view.into_response();
    // Nothing to rate yet: look again shortly, without JavaScript.
    if waiting {
        res.headers_mut()
            .insert("refresh", HeaderValue::from_static("10"));
    }
    Ok(res)
}

async fn evaluator_submit(
    State(state): State<AppState>,
    page: Page,
    Meta(meta): Meta,
    staff: crate::web::extract::MaybeStaff,
    device: crate::device_registry::web::MaybeDevice,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let lang = page.lang;
    let facing = served_window(&state, &staff, &device, id).await?;
    let window_id = facing.0.id;
    let form = RatingForm::from_pairs(pairs);
    let result = match form.input() {
        None => Err(choose_level(lang)),
        Some(input) => {
            // Only the service this window finished can be rated here.
            let ctx = state.ratings();
            match super::service(&ctx, &form.token).await {
                Ok(t) if t.window_id == Some(window_id) => {
                    match super::rate(&ctx, &form.token, Channel::Evaluator, &input, &meta).await {
                        Ok(_) => Ok(()),
                        Err(e) => Err(form_error(e, lang)?),
                    }
                }
                Ok(_) => Err(RatingError::NoSuchService.message(lang)),
                Err(e) => Err(form_error(e, lang)?),
            }
        }
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("{}?thanks=1", facing.2)).into_response()),
        Err(msg) => {
            let view = evaluator_view(&state, page, facing, Some(&form), Some(msg), false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
    }
}

// ---- the duty leader ------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "staff/ratings.html")]
struct CasesPage {
    page: Page,
    sites: Vec<Site>,
    site: Site,
    cases: Vec<CaseLine>,
    satisfaction: Satisfaction,
    satisfied: String,
    counts: Vec<(String, i64)>,
    error: Option<String>,
    ok: bool,
}

/// A follow-up case as the page lists it.
pub struct CaseLine {
    pub id: i64,
    pub rated_at: String,
    pub level: String,
    pub reasons: String,
    pub comment: String,
    pub officer: String,
    pub line: String,
    pub due_date: String,
    pub overdue: bool,
    pub closed: bool,
    pub outcome: String,
    pub verification: String,
    pub rectification: String,
    pub citizen_reply: String,
}

#[derive(Debug, Default, Deserialize)]
struct CasesQuery {
    #[serde(default)]
    site: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

async fn case_line(state: &AppState, v: CaseView, lang: Lang) -> AppResult<CaseLine> {
    let c = v.case;
    let officer = crate::supervision::web::card_of(state, c.rating.officer_id)
        .await?
        .map(|o| format!("{} ({})", o.name, o.badge))
        .unwrap_or_default();
    let reasons = c
        .rating
        .reasons
        .iter()
        .filter_map(|id| super::reasons().iter().find(|r| &r.id == id))
        .map(|r| r.text(lang))
        .collect::<Vec<_>>()
        .join(lang.pick("；", "; "));
    Ok(CaseLine {
        id: c.id,
        rated_at: crate::clock::format_local(c.rating.rated_at),
        level: c.rating.level.name(lang).to_string(),
        reasons,
        comment: c.rating.comment.clone(),
        officer,
        line: state
            .lines
            .get(&c.rating.line_code)
            .map(|l| l.name(lang).to_string())
            .unwrap_or_else(|| c.rating.line_code.clone()),
        due_date: c.due_date.clone(),
        overdue: v.overdue,
        closed: c.closed_at.is_some(),
        outcome: c
            .outcome
            .map(|o| o.name(lang).to_string())
            .unwrap_or_default(),
        verification: c.verification.unwrap_or_default(),
        rectification: c.rectification.unwrap_or_default(),
        citizen_reply: c.citizen_reply.unwrap_or_default(),
    })
}

async fn cases_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<CasesQuery>,
) -> AppResult<CasesPage> {
    let lang = page.lang;
    let grant = super::leader(&actor)?;
    let (sites, site) = crate::sites::web::duty_sites::<Lead>(&state, &actor, &q.site).await?;
    let ctx = state.ratings();
    let mut cases = Vec::new();
    for v in super::cases(&ctx, &grant, site.id).await? {
        cases.push(case_line(&state, v, lang).await?);
    }
    let since = state.clock.now_ms() - 30 * 86_400_000;
    let satisfaction = super::satisfaction(&ctx, site.id, since).await?;
    let satisfied = satisfaction
        .satisfied_permille
        .map(|p| format!("{}.{} %", p / 10, p % 10))
        .unwrap_or_else(|| "—".into());
    let counts = satisfaction
        .counts
        .iter()
        .map(|(l, n)| (l.name(lang).to_string(), *n))
        .collect();
    Ok(CasesPage {
        page,
        sites,
        site,
        cases,
        satisfaction,
        satisfied,
        counts,
        error: q.error.filter(|e| !e.is_empty()),
        ok: q.ok.is_some(),
    })
}

#[derive(Debug, Deserialize)]
struct CloseForm {
    outcome: String,
    #[serde(default)]
    verification: String,
    #[serde(default)]
    rectification: String,
    #[serde(default)]
    citizen_reply: String,
    #[serde(default)]
    site: String,
}

async fn case_close(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(f): Form<CloseForm>,
) -> AppResult<Response> {
    let lang = page.lang;
    let grant = super::leader(&actor)?;
    let back = |k: &str, v: &str| {
        let q =
            serde_urlencoded::to_string([("site", f.site.as_str()), (k, v)]).unwrap_or_default();
        Redirect::to(&format!("/staff/leader/ratings?{q}")).into_response()
    };
    let Some(outcome) = Outcome::parse(&f.outcome) else {
        let msg = lang.pick("请选择核实结果。", "Choose what the verification found.");
        return Ok(back("error", msg));
    };
    let v = Verification {
        outcome,
        verification: f.verification.clone(),
        rectification: f.rectification.clone(),
        citizen_reply: f.citizen_reply.clone(),
    };
    match super::close_case(&state.ratings(), &grant, id, &v).await {
        Ok(_) => Ok(back("ok", "1")),
        Err(e) => Ok(back("error", &form_error(e, lang)?)),
    }
}

// ---- JSON API -------------------------------------------------------------------------------

/// A reason offered for a bad rating.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReasonJson {
    pub id: String,
    pub zh: String,
    pub en: String,
}

/// The reasons a citizen may give for a bad rating (`dissatisfied`, `very_dissatisfied`).
#[utoipa::path(get, path = "/api/v1/rating-reasons", tag = "ratings",
    responses((status = 200, body = Vec<ReasonJson>)))]
async fn api_reasons() -> axum::Json<Vec<ReasonJson>> {
    axum::Json(
        super::reasons()
            .iter()
            .map(|r| ReasonJson {
                id: r.id.clone(),
                zh: r.zh.clone(),
                en: r.en.clone(),
            })
            .collect(),
    )
}

/// Rates a finished service (一次一评) with the ticket's token (its status-page QR), within
/// the link's life; once per service. A bad rating opens a follow-up case.
#[utoipa::path(post, path = "/api/v1/ratings/{token}", tag = "ratings",
    params(("token" = String, Path, description = "The ticket's token (from its status page)")),
    request_body = RatingInput,
    responses((status = 201, body = Rated), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn api_rate(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Path(token): Path<String>,
    Json(input): Json<RatingInput>,
) -> AppResult<(StatusCode, axum::Json<Rated>)> {
    let rated = super::rate(&state.ratings(), &token, Channel::Link, &input, &meta).await?;
    Ok((StatusCode::CREATED, axum::Json(rated)))
}

/// A follow-up case as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseJson {
    pub id: i64,
    pub level: Level,
    pub reasons: Vec<String>,
    pub comment: String,
    pub officer_id: Option<i64>,
    pub window_id: Option<i64>,
    pub line_code: String,
    /// Epoch milliseconds.
    pub rated_at: i64,
    #[schema(format = Date)]
    pub due_date: String,
    pub overdue: bool,
    pub outcome: Option<Outcome>,
    /// Epoch milliseconds.
    pub closed_at: Option<i64>,
}

impl From<CaseView> for CaseJson {
    fn from(v: CaseView) -> CaseJson {
        let c = v.case;
        CaseJson {
            id: c.id,
            level: c.rating.level,
            reasons: c.rating.reasons,
            comment: c.rating.comment,
            officer_id: c.rating.officer_id,
            window_id: c.rating.window_id,
            line_code: c.rating.line_code,
            rated_at: c.rating.rated_at,
            due_date: c.due_date,
            overdue: v.overdue,
            outcome: c.outcome,
            closed_at: c.closed_at,
        }
    }
}

/// A site's follow-up cases of bad ratings (the duty leader's): open ones first, by deadline.
#[utoipa::path(get, path = "/api/v1/sites/{code}/rating-cases", tag = "ratings",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Site code")),
    responses((status = 200, body = Vec<CaseJson>), (status = 403, body = crate::error::ErrorBody)))]
async fn api_cases(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(code): Path<crate::web::fields::SiteCodeText>,
) -> AppResult<axum::Json<Vec<CaseJson>>> {
    let grant = super::leader(&actor)?;
    let site = crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    let cases = super::cases(&state.ratings(), &grant, site.id).await?;
    Ok(axum::Json(cases.into_iter().map(CaseJson::from).collect()))
}

/// Closes a follow-up case with the duty leader's verification (once).
#[utoipa::path(post, path = "/api/v1/rating-cases/{id}/close", tag = "ratings",
    params(("id" = i64, Path, description = "Case id")), request_body = Verification,
    responses((status = 204), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn api_close_case(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Json(v): Json<Verification>,
) -> AppResult<StatusCode> {
    let grant = super::leader(&actor)?;
    super::close_case(&state.ratings(), &grant, id, &v).await?;
    Ok(StatusCode::NO_CONTENT)
}
