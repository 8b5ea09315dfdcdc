//! Ticketing pages (guide desk, hall kiosk, printed ticket, the citizen's status page), the
//! window workstation, the hall display with its live event stream, and the JSON API.

use crate::auth::grant::{GuideDesk, ServeWindow};
use std::convert::Infallible;
use std::time::Duration;

use crate::web::extract::Path;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{QueueError, Ticket, TicketClass, TicketStatus, TicketStatusView, store};
use crate::auth::{Actor, Failure};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, UserMessage};
use crate::sites::{Site, Window};
use crate::web::AppState;
use crate::web::extract::{Form, Json, Query, Staff};
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/staff/tickets", get(desk_page).post(desk_issue))
        .route("/kiosk/{site}", get(kiosk_page))
        .route("/kiosk/{site}/ticket", post(kiosk_issue))
        .route("/tickets/{token}/print", get(print_page))
        .route("/tickets/{token}/qr.svg", get(ticket_qr))
        .route("/q/{token}", get(status_page))
        .route("/staff/window", get(window_page))
        .route("/staff/window/{id}/{action}", post(window_action))
        .route("/admin/windows/{id}/lines", post(admin_window_lines))
        .route("/admin/sites/{id}/notices", post(admin_notices))
        .route("/display/{site}", get(display_page))
        .route("/display/{site}/events", get(display_events))
        .route("/static/display.js", get(display_js))
        .route("/display/voice/{lang}/{number}/{window}", get(voice_clip))
        .route("/display/{site}/window/{number}", get(window_display))
        .route("/static/window.js", get(window_js))
        .route("/static/kiosk.js", get(kiosk_js))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_issue))
        .routes(routes!(api_ticket_status))
        .routes(routes!(api_print_result))
        .routes(routes!(api_call_next))
        .routes(routes!(api_window_action))
        .routes(routes!(api_queue))
}

async fn site_by_code(state: &AppState, code: &str) -> AppResult<Site> {
    crate::sites::site_by_code(state.db.reader(), code)
        .await?
        .filter(|s| s.active)
        .ok_or_else(AppError::not_found)
}

pub struct LineButton {
    pub code: String,
    pub name: String,
    pub prefix: String,
    pub waiting: i64,
}

/// Lines a citizen takes a ticket for at the kiosk: not the green channel (the guide desk
/// checks the emergency), not payment or express (windows transfer tickets there).
fn self_service_line(code: &str) -> bool {
    !matches!(code, "green_channel" | "payment" | "express")
}

async fn line_buttons(
    state: &AppState,
    site: &Site,
    lang: Lang,
    kiosk: bool,
) -> AppResult<Vec<LineButton>> {
    let counts =
        store::waiting_counts(state.db.reader(), site.id, &state.clock.today().to_string()).await?;
    Ok(state
        .lines
        .all()
        .iter()
        .filter(|l| {
            if kiosk {
                self_service_line(&l.code)
            } else {
                // The green channel is a class with a reason at the desk (issue 18 item 4), not
                // also a line to choose between: its tickets go on the applicant's own line.
                !matches!(l.code.as_str(), "payment" | "express" | "green_channel")
            }
        })
        .map(|l| LineButton {
            code: l.code.clone(),
            name: l.name(lang).to_string(),
            prefix: l.ticket_prefix.clone(),
            waiting: counts
                .iter()
                .find(|(c, _)| *c == l.code)
                .map_or(0, |(_, n)| *n),
        })
        .collect())
}

// ---- hall kiosk and guide desk --------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "kiosk.html")]
struct KioskPage {
    page: Page,
    site: Site,
    lines: Vec<LineButton>,
    /// This kiosk cannot print now (its last report): said before anyone starts.
    cannot_print: bool,
}

async fn kiosk_page(
    State(state): State<AppState>,
    page: Page,
    device: crate::device_registry::web::MaybeDevice,
    Path(code): Path<String>,
) -> AppResult<KioskPage> {
    let site = site_by_code(&state, &code).await?;
    let lines = line_buttons(&state, &site, page.lang, true).await?;
    // Home is where a kiosk wipes itself to: a self-service session left unchosen ends here.
    if let Some(d) = &device.0 {
        crate::self_service::kiosk_wiped(&state.db, &state.clock, d.id).await?;
    }
    let cannot_print = device
        .0
        .as_ref()
        .is_some_and(|d| d.faults().iter().any(|f| f.stops_printing()));
    Ok(KioskPage {
        page,
        site,
        lines,
        cannot_print,
    })
}

#[derive(Debug, Deserialize)]
struct KioskForm {
    line: String,
}

async fn kiosk_issue(
    State(state): State<AppState>,
    device: crate::device_registry::web::MaybeDevice,
    Path(code): Path<String>,
    Form(f): Form<KioskForm>,
) -> AppResult<Response> {
    let site = site_by_code(&state, &code).await?;
    if !self_service_line(&f.line) {
        return Err(AppError::invalid(QueueError::UnknownLine));
    }
    // An enrolled kiosk of the site issues as itself (its tickets are counted as the
    // kiosk's); any other browser as a citizen.
    let issuer = match device
        .0
        .as_ref()
        .filter(|d| d.kind == crate::device_registry::Kind::Kiosk && d.site_id == site.id)
    {
        Some(d) => super::Issuer::Kiosk(d),
        None => super::Issuer::Citizen,
    };
    let t = super::issue_ticket(
        &state.queue(),
        issuer,
        &site,
        &f.line,
        TicketClass::Normal,
        None,
        None,
        "kiosk",
    )
    .await?;
    Ok(Redirect::to(&format!("/tickets/{}/print", t.token)).into_response())
}

pub struct ReasonChoice {
    pub value: String,
    pub label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/tickets.html")]
struct DeskPage {
    page: Page,
    site: Site,
    lines: Vec<LineButton>,
    love_reasons: Vec<ReasonChoice>,
    green_reasons: Vec<ReasonChoice>,
    /// What the guide chose, kept when the desk refuses (an error loses no choice).
    chosen: DeskForm,
    error: Option<String>,
}

fn love_reasons(lang: Lang) -> Vec<ReasonChoice> {
    [
        ("elderly", lang.pick("70岁以上老人", "Aged 70 or over")),
        ("pregnant", lang.pick("孕妇", "Pregnant")),
        ("infant", lang.pick("携带婴幼儿", "With an infant")),
        ("disabled", lang.pick("残疾人", "Disabled")),
    ]
    .into_iter()
    .map(|(v, l)| ReasonChoice {
        value: v.into(),
        label: l.into(),
    })
    .collect()
}

async fn guide_site(state: &AppState, actor: &Actor) -> AppResult<Site> {
    for s in crate::sites::list_sites(state.db.reader(), true).await? {
        if actor.may::<GuideDesk>(s.id) {
            return Ok(s);
        }
    }
    Err(AppError::forbidden())
}

async fn desk(
    state: &AppState,
    page: Page,
    actor: &Actor,
    chosen: Option<DeskForm>,
    error: Option<String>,
) -> AppResult<DeskPage> {
    let site = guide_site(state, actor).await?;
    let lang = page.lang;
    let lines = line_buttons(state, &site, lang, false).await?;
    let chosen = chosen.unwrap_or_else(|| DeskForm {
        line: lines.first().map(|l| l.code.clone()).unwrap_or_default(),
        class: "normal".into(),
        ..DeskForm::default()
    });
    Ok(DeskPage {
        lines,
        chosen,
        love_reasons: love_reasons(lang),
        green_reasons: state
            .catalog
            .emergency_reasons()
            .iter()
            .map(|r| ReasonChoice {
                value: r.code.clone(),
                label: r.name.get(lang).to_string(),
            })
            .collect(),
        site,
        page,
        error,
    })
}

async fn desk_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
) -> AppResult<DeskPage> {
    desk(&state, page, &actor, None, None).await
}

#[derive(Debug, Default, Deserialize)]
struct DeskForm {
    #[serde(default)]
    line: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    love_reason: String,
    #[serde(default)]
    green_reason: String,
    /// Optional: an ID card read or typed at the desk; 70 or older puts the ticket on the love
    /// channel by itself. It is used for the age only and not stored.
    #[serde(default)]
    id_number: String,
}

async fn desk_issue(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Form(f): Form<DeskForm>,
) -> AppResult<Response> {
    let site = guide_site(&state, &actor).await?;
    let lang = page.lang;
    let mut class = TicketClass::parse(&f.class)
        .filter(|c| *c != TicketClass::Appointment)
        .unwrap_or(TicketClass::Normal);
    let mut love_reason = f.love_reason.clone();
    if !f.id_number.trim().is_empty() {
        match crate::domain::id_number::IdNumber::parse(&f.id_number) {
            // R3: age 70 and over goes on the love channel, from the ID number.
            Ok(id) if id.age_on(state.clock.today()) >= 70 && class == TicketClass::Normal => {
                class = TicketClass::Love;
                love_reason = "elderly".into();
            }
            Ok(_) => {}
            Err(e) => {
                return Ok((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    desk(&state, page, &actor, Some(f), Some(e.message(lang))).await?,
                )
                    .into_response());
            }
        }
    }
    let reason = match class {
        TicketClass::Love => Some(love_reason.as_str()),
        TicketClass::Green => Some(f.green_reason.as_str()),
        _ => None,
    };
    let guide = actor.grant_or(QueueError::OtherSite)?;
    match super::issue_ticket(
        &state.queue(),
        super::Issuer::Guide(&guide),
        &site,
        &f.line,
        class,
        reason,
        None,
        "guide",
    )
    .await
    {
        Ok(t) => Ok(Redirect::to(&format!("/tickets/{}/print", t.token)).into_response()),
        Err(Failure::Refused(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            desk(&state, page, &actor, Some(f), Some(e.message(lang))).await?,
        )
            .into_response()),
        Err(other) => Err(AppError::from(other)),
    }
}

// ---- the printed ticket and the citizen's status page -------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "ticket_print.html")]
struct PrintPage {
    page: Page,
    site: Site,
    t: Ticket,
    view: TicketStatusView,
    issued: String,
    class: String,
}

async fn ticket_and_site(state: &AppState, token: &str) -> AppResult<(Ticket, Site)> {
    let t = store::ticket_by_token(state.db.reader(), token)
        .await?
        .ok_or_else(AppError::not_found)?;
    let site = crate::sites::site(state.db.reader(), t.site_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok((t, site))
}

async fn print_page(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
) -> AppResult<PrintPage> {
    let (t, site) = ticket_and_site(&state, &token).await?;
    let view = super::status_view(&state.queue(), &t, page.lang).await?;
    Ok(PrintPage {
        issued: crate::clock::format_local(t.issued_at),
        class: t.class.name(page.lang).to_string(),
        page,
        site,
        t,
        view,
    })
}

/// The address a phone reaches the hall at: the configured public one, else the host the
/// request (the kiosk) used.
pub(crate) fn public_base(
    config: &crate::config::Config,
    headers: &axum::http::HeaderMap,
) -> String {
    if config.public_url.is_empty() {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        format!(
            "{}://{host}",
            if config.cookie_secure {
                "https"
            } else {
                "http"
            }
        )
    } else {
        config.public_url.trim_end_matches('/').to_string()
    }
}

async fn ticket_qr(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let (t, _) = ticket_and_site(&state, &token).await?;
    let base = public_base(&state.config, &headers);
    qr_svg(&format!("{base}/q/{}", t.token), 160)
}

/// A QR code of `text` as an SVG response.
pub(crate) fn qr_svg(text: &str, size: u32) -> AppResult<Response> {
    let qr = qrcode::QrCode::new(text.as_bytes()).map_err(AppError::internal)?;
    let svg = qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build();
    Ok(svg_response(svg))
}

/// An SVG image response.
pub(crate) fn svg_response(svg: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("image/svg+xml"),
        )],
        svg,
    )
        .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "ticket_status.html")]
struct StatusPage {
    page: Page,
    site: Site,
    view: TicketStatusView,
    /// The service is finished and not rated yet: offer the rating (一次一评).
    rate: Option<String>,
}

async fn status_page(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let (t, site) = ticket_and_site(&state, &token).await?;
    let view = super::status_view(&state.queue(), &t, page.lang).await?;
    let live = matches!(
        view.status,
        TicketStatus::Waiting | TicketStatus::Called | TicketStatus::Serving
    );
    let rate = crate::ratings::rateable(&state.ratings(), &t, crate::ratings::Channel::Link)
        .await?
        .then(|| format!("/rate/{}", t.token));
    let mut res = StatusPage {
        page,
        site,
        view,
        rate,
    }
    .into_response();
    // No JavaScript needed: the page refreshes itself while the citizen waits, and stops once
    // the ticket is done or missed.
    if live {
        res.headers_mut()
            .insert("refresh", HeaderValue::from_static("15"));
    }
    Ok(res)
}

// ---- the window workstation -------------------------------------------------------------------

pub struct WindowChoice {
    pub id: i64,
    pub label: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/window.html")]
struct WindowPage {
    page: Page,
    windows: Vec<WindowChoice>,
    window: Option<Window>,
    status: String,
    /// `open`, `paused` or `closed`, for the template's choices.
    state_code: String,
    lines_text: String,
    current: Option<Ticket>,
    current_line: String,
    current_status: String,
    /// Who the current ticket brings, as far as the hall knows before acceptance.
    called: Option<Called>,
    waiting: Vec<(String, i64)>,
    transfer_lines: Vec<(String, String)>,
    message: Option<String>,
    error: Option<String>,
}

/// The ticket being served at a window, told the way the officer needs it: its class (and the
/// green channel's reason), the booked service and time, the holder's masked name, and the
/// application to take up — already taken up under this ticket, or filled in advance by the
/// booking's holder.
pub struct Called {
    pub class_code: &'static str,
    pub class: String,
    pub booked: Option<String>,
    pub holder: Option<String>,
    /// Taken up under this ticket already: continue it.
    pub taken_up: Option<String>,
    /// Filled in advance by the booking's holder: offered in the take-up field.
    pub prefilled: Option<String>,
}

async fn called_about(state: &AppState, t: &Ticket, lang: crate::i18n::Lang) -> AppResult<Called> {
    let mut class = t.class.name(lang).to_string();
    if let Some(reason) = t
        .class_reason
        .as_deref()
        .and_then(|r| state.catalog.emergency_reason(r))
    {
        class = format!("{class} · {}", reason.name.get(lang));
    }
    let taken_up = match crate::applications::application_of_ticket(state.db.reader(), t.id).await?
    {
        Some(id) => crate::applications::application(state.db.reader(), id)
            .await?
            .map(|a| a.application_no),
        None => None,
    };
    let (mut booked, mut holder, mut prefilled) = (None, None, None);
    if let Some(b) = match t.booking_id {
        Some(id) => crate::booking::booking_by_id(state.db.reader(), id).await?,
        None => None,
    } {
        let line = state
            .lines
            .get(&b.line_code)
            .map(|l| l.name(lang).to_string())
            .unwrap_or_else(|| b.line_code.clone());
        let at = |ms: i64| {
            let s = crate::clock::format_local_minute(ms);
            s.get(11..).unwrap_or(&s).to_string()
        };
        booked = Some(format!("{line} {}–{}", at(b.starts_at), at(b.ends_at)));
        // Our own sealed data that does not open is a fault to see, not a blank name.
        holder = Some(
            state
                .cipher
                .open(&b.name_sealed)
                .map(|n| crate::domain::masking::mask_name(&n))
                .map_err(|e| AppError::internal(format!("booking {} name: {e}", b.code)))?,
        );
        if taken_up.is_none() {
            // By the sealed number: a rotation's rebuild may hold the form under another form
            // of the person's index than the booking.
            let person = state
                .cipher
                .blind_index_of_sealed(&b.id_sealed)
                .map_err(|e| AppError::internal(format!("booking {} ID number: {e}", b.code)))?;
            prefilled = crate::applications::form_awaiting(state.db.reader(), &person).await?;
        }
    }
    Ok(Called {
        class_code: t.class.as_str(),
        class,
        booked,
        holder,
        taken_up,
        prefilled,
    })
}

#[derive(Debug, Default, Deserialize)]
struct WindowQuery {
    window: Option<i64>,
    /// `empty`: the last call found nobody waiting.
    note: Option<String>,
}

async fn officer_windows(state: &AppState, actor: &Actor) -> AppResult<Vec<Window>> {
    let mut out = Vec::new();
    for s in crate::sites::list_sites(state.db.reader(), true).await? {
        if actor.may::<ServeWindow>(s.id) {
            out.extend(
                crate::sites::windows_of(state.db.reader(), s.id)
                    .await?
                    .into_iter()
                    .filter(|w| w.active),
            );
        }
    }
    Ok(out)
}

async fn render_window(
    state: &AppState,
    page: Page,
    actor: &Actor,
    id: Option<i64>,
    message: Option<String>,
    error: Option<String>,
) -> AppResult<WindowPage> {
    let lang = page.lang;
    let all = officer_windows(state, actor).await?;
    if all.is_empty() {
        return Err(AppError::forbidden());
    }
    let window = id.and_then(|id| all.iter().find(|w| w.id == id).cloned());
    let ctx = state.queue();
    let mut state_code = String::from("closed");
    let (mut status, mut lines_text, mut current, mut waiting) =
        (String::new(), String::new(), None, Vec::new());
    if let Some(w) = &window {
        let st = super::window_state(&ctx, w).await?;
        state_code = st.status.clone();
        status = match st.status.as_str() {
            "open" => lang.pick("已开启", "Open").to_string(),
            "paused" => format!(
                "{}（{}）",
                lang.pick("暂停", "Paused"),
                st.pause_reason.clone().unwrap_or_default()
            ),
            _ => lang.pick("未开启", "Closed").to_string(),
        };
        let name = |c: &str| {
            state
                .lines
                .get(c)
                .map(|l| l.name(lang).to_string())
                .unwrap_or_else(|| c.to_string())
        };
        lines_text = st
            .lines
            .trim_matches(',')
            .split(',')
            .filter(|s| !s.is_empty())
            .map(name)
            .collect::<Vec<_>>()
            .join(" · ");
        let today = state.clock.today().to_string();
        current = store::current_at_window(state.db.reader(), w.id, &today).await?;
        waiting = store::waiting_counts(state.db.reader(), w.site_id, &today)
            .await?
            .into_iter()
            .map(|(c, n)| (name(&c), n))
            .collect();
    }
    let current_line = current
        .as_ref()
        .and_then(|t| state.lines.get(&t.line_code))
        .map(|l| l.name(lang).to_string())
        .unwrap_or_default();
    let current_status = current
        .as_ref()
        .map(|t| t.status.name(lang).to_string())
        .unwrap_or_default();
    let called = match &current {
        Some(t) => Some(called_about(state, t, lang).await?),
        None => None,
    };
    Ok(WindowPage {
        windows: all
            .iter()
            .map(|w| WindowChoice {
                id: w.id,
                label: format!("{} {}", w.number, w.kind.name(lang)),
                selected: window.as_ref().is_some_and(|x| x.id == w.id),
            })
            .collect(),
        window,
        status,
        state_code,
        lines_text,
        current,
        current_line,
        current_status,
        called,
        waiting,
        transfer_lines: state
            .lines
            .all()
            .iter()
            .map(|l| (l.code.clone(), l.name(lang).to_string()))
            .collect(),
        message,
        error,
        page,
    })
}

async fn window_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<WindowQuery>,
) -> AppResult<WindowPage> {
    let note = (q.note.as_deref() == Some("empty")).then(|| {
        page.lang
            .pick("当前没有等候的号码。", "Nobody is waiting.")
            .to_string()
    });
    render_window(&state, page, &actor, q.window, note, None).await
}

#[derive(Debug, Default, Deserialize)]
struct ActionForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    line: String,
    /// Transfer to this window number (optional).
    #[serde(default)]
    to_window: String,
    /// The application to take up under the ticket being served (scanned or typed).
    #[serde(default)]
    number: String,
}

/// Takes an application up at this window under the ticket it serves (issue 18 item 1): a
/// called ticket starts being served, the application is linked to it and the acceptance
/// workstation opens; a bad number keeps the officer on the window with the reason.
async fn take_up(
    state: &AppState,
    page: Page,
    actor: &Actor,
    window: &Window,
    number: &str,
) -> AppResult<Response> {
    let lang = page.lang;
    let no = match crate::domain::application_no::ApplicationNo::parse(number) {
        Ok(no) => no,
        Err(e) => return window_refused(state, page, actor, window.id, e.message(lang)).await,
    };
    let today = state.clock.today().to_string();
    let current = store::current_at_window(state.db.reader(), window.id, &today).await?;
    if current.as_ref().map(|t| t.status) == Some(TicketStatus::Called) {
        let grant = super::serve(actor)?;
        match super::advance(&state.queue(), &grant, window, TicketStatus::Serving).await {
            Ok(_) => {}
            Err(Failure::Refused(e)) => {
                return window_refused(state, page, actor, window.id, e.message(lang)).await;
            }
            Err(other) => return Err(other.into()),
        }
    }
    let intake = crate::applications::intake(actor)?;
    match crate::applications::start_acceptance(
        &state.applications(),
        &intake,
        &no,
        Some(window.id),
    )
    .await
    {
        Ok(d) => Ok(Redirect::to(&format!("/staff/acceptance/{}", d.no.as_str())).into_response()),
        Err(Failure::Refused(e)) => {
            window_refused(state, page, actor, window.id, e.message(lang)).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn window_refused(
    state: &AppState,
    page: Page,
    actor: &Actor,
    id: i64,
    message: String,
) -> AppResult<Response> {
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render_window(state, page, actor, Some(id), None, Some(message)).await?,
    )
        .into_response())
}

async fn window_action(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path((id, action)): Path<(i64, String)>,
    Form(f): Form<ActionForm>,
) -> AppResult<Response> {
    let lang = page.lang;
    let window = crate::sites::window(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::invalid(QueueError::NoSuchWindow))?;
    if action == "take-up" {
        return take_up(&state, page, &actor, &window, &f.number).await;
    }
    let ctx = state.queue();
    let grant = super::serve(&actor)?;
    let r: Result<Option<String>, Failure<QueueError>> = match action.as_str() {
        "open" => super::open_window(&ctx, &grant, &window)
            .await
            .map(|_| None),
        "pause" => super::stop_window(&ctx, &grant, &window, Some(&f.reason))
            .await
            .map(|_| None),
        "close" => super::stop_window(&ctx, &grant, &window, None)
            .await
            .map(|_| None),
        "call" => super::call_next(&ctx, &grant, &window).await.map(|t| {
            Some(match t {
                Some(t) => format!("{} {}", lang.pick("已叫号", "Called"), t.number),
                None => lang
                    .pick("当前没有等候的号码。", "Nobody is waiting.")
                    .to_string(),
            })
        }),
        "recall" => super::recall(&ctx, &grant, &window)
            .await
            .map(|t| Some(format!("{} {}", lang.pick("重呼", "Recalled"), t.number))),
        "start" => super::advance(&ctx, &grant, &window, TicketStatus::Serving)
            .await
            .map(|_| None),
        "finish" => super::advance(&ctx, &grant, &window, TicketStatus::Done)
            .await
            .map(|_| None),
        "no-show" => super::advance(&ctx, &grant, &window, TicketStatus::NoShow)
            .await
            .map(|_| None),
        "transfer" => {
            let wanted = f.to_window.trim();
            let to_window = match wanted.parse::<i64>() {
                Ok(n) => crate::sites::windows_of(state.db.reader(), window.site_id)
                    .await?
                    .into_iter()
                    .find(|w| w.number == n),
                Err(_) => None,
            };
            if !wanted.is_empty() && to_window.is_none() {
                Err(Failure::Refused(QueueError::NoSuchWindow))
            } else {
                super::transfer(&ctx, &grant, &window, &f.line, to_window.as_ref())
                    .await
                    .map(|t| {
                        Some(format!(
                            "{} {}",
                            t.number,
                            lang.pick("已转移", "transferred")
                        ))
                    })
            }
        }
        _ => return Err(AppError::not_found()),
    };
    match r {
        // Post/redirect/get: reloading the workstation must never repeat a call.
        Ok(msg) => {
            let empty = msg
                .as_deref()
                .is_some_and(|m| m == lang.pick("当前没有等候的号码。", "Nobody is waiting."));
            let to = if empty {
                format!("/staff/window?window={id}&note=empty")
            } else {
                format!("/staff/window?window={id}")
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(Failure::Refused(e)) => Ok((
            StatusCode::CONFLICT,
            render_window(&state, page, &actor, Some(id), None, Some(e.message(lang))).await?,
        )
            .into_response()),
        Err(other) => Err(AppError::from(other)),
    }
}

async fn admin_window_lines(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let admin = actor.admin().ok_or_else(AppError::forbidden)?;
    let window = crate::sites::window(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::invalid(QueueError::NoSuchWindow))?;
    // The ticked lines (`line`, repeated, in the page's order: those served first, in their
    // priority); a `lines` text of codes in priority order is still read, for scripts.
    let codes: Vec<String> = pairs
        .iter()
        .flat_map(|(k, v)| match k.as_str() {
            "line" => vec![v.clone()],
            "lines" => v.split([',', ' ', '，']).map(str::to_string).collect(),
            _ => Vec::new(),
        })
        .collect();
    super::set_window_lines(&state.queue(), admin, &window, &codes).await?;
    Ok(Redirect::to(&format!("/admin/sites/{}", window.site_id)).into_response())
}

#[derive(Debug, Deserialize)]
struct NoticesForm {
    notices: String,
}

async fn admin_notices(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(f): Form<NoticesForm>,
) -> AppResult<Response> {
    let admin = actor.admin_of(id).ok_or_else(AppError::forbidden)?;
    let site = crate::sites::site(state.db.reader(), id)
        .await?
        .ok_or_else(AppError::not_found)?;
    super::set_notices(&state.queue(), admin, &site, &f.notices).await?;
    Ok(Redirect::to(&format!("/admin/sites/{id}")).into_response())
}

// ---- the hall display ---------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "display.html")]
struct DisplayPage {
    page: Page,
    site: Site,
    /// (ticket number, window number), the latest call first.
    calls: Vec<(String, i64)>,
    /// (line code, ticket letter, line name, waiting).
    waiting: Vec<(String, String, String, i64)>,
    /// Rolling notices set by administrators (the default one when none).
    notices: Vec<String>,
    /// Some notice is too long for the usual size: the roll is set smaller, so that the
    /// longest one (200 characters) still fits the lower third.
    long_notices: bool,
    clock: WallClock,
    /// The event id the page's call stream starts after.
    calls_after: i64,
}

/// The hall's date and time when the page was made: what the wall shows without script, and
/// where its live clock starts from (the server's clock, not the screen's, which may be wrong).
struct WallClock {
    /// "2026年12月7日 星期一" or "Monday, 7 December 2026".
    date: String,
    /// "09:08".
    time: String,
    /// "2026-12-07T09:08" for the `<time>` element.
    iso: String,
    now_ms: i64,
    /// The hall's offset from UTC in minutes (480 in Beijing), so that the browser's own time
    /// zone does not matter.
    utc_offset_min: i32,
}

impl WallClock {
    fn at(clock: &crate::clock::Clock, lang: Lang) -> WallClock {
        let ts = clock.timestamp();
        let now = ts.to_zoned_datetime(crate::clock::hall_tz());
        let day = now.date();
        let weekday = crate::sites::web::weekday_name(day, lang);
        let date = match lang {
            Lang::ZhCn => format!("{}年{}月{}日 {weekday}", day.year(), day.month(), day.day()),
            Lang::En => format!(
                "{weekday}, {} {} {}",
                day.day(),
                MONTHS_EN[usize::try_from(day.month() - 1).unwrap_or_default() % 12],
                day.year()
            ),
        };
        WallClock {
            date,
            time: now.strftime("%H:%M").to_string(),
            iso: now.strftime("%Y-%m-%dT%H:%M").to_string(),
            now_ms: ts.as_millisecond(),
            utc_offset_min: now.offset().seconds() / 60,
        }
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// How wide a notice reads, in Chinese characters (Latin letters and digits take about half a
/// character's width): above 80 the usual size would not fit the lower third in three lines.
fn notice_is_long(text: &str) -> bool {
    let width: usize = text
        .chars()
        .map(|c| if c.is_ascii() { 11 } else { 20 })
        .sum();
    width > 80 * 20
}

async fn display_page(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<DisplayPage> {
    let site = site_by_code(&state, &code).await?;
    // The page's stream starts after the calls made before its list is read (so the list has
    // them): one made before the stream opens is sent then, not lost.
    let calls_after = super::calls_baseline(&state.db, site.id).await?;
    let today = state.clock.today().to_string();
    let lang = page.lang;
    let calls = store::recent_calls(state.db.reader(), site.id, &today, 8)
        .await?
        .into_iter()
        .map(|(n, w, _)| (n, w))
        .collect();
    let counts = store::waiting_counts(state.db.reader(), site.id, &today).await?;
    let waiting = state
        .lines
        .all()
        .iter()
        .filter(|l| !matches!(l.code.as_str(), "payment" | "express"))
        .map(|l| {
            (
                l.code.clone(),
                l.ticket_prefix.clone(),
                l.name(lang).to_string(),
                counts
                    .iter()
                    .find(|(c, _)| *c == l.code)
                    .map_or(0, |(_, n)| *n),
            )
        })
        .collect();
    let mut notices = super::notices_in(&store::notices(state.db.reader(), site.id).await?, lang);
    if notices.is_empty() {
        notices.push(crate::i18n::t(lang, "display.notice").to_string());
    }
    // Only the first three roll (the stylesheet's turns); a longer old list changes nothing.
    let long_notices = notices.iter().take(3).any(|n| notice_is_long(n));
    Ok(DisplayPage {
        calls_after,
        clock: WallClock::at(&state.clock, lang),
        page,
        site,
        calls,
        waiting,
        notices,
        long_notices,
    })
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    /// Where to resume when the browser sends no `Last-Event-ID`: the page's own starting
    /// point, or a display that opened a new stream after its browser gave up on the old one.
    last_event_id: Option<String>,
}

/// How long a display waits before reconnecting (the `retry` field): the other node answers at
/// once when one is lost, and browsers would wait about three seconds by default.
const DISPLAY_RETRY: Duration = Duration::from_secs(1);

/// A call older than this when sent (replayed after a long cut) is shown but not spoken: the
/// hall would otherwise hear every call it missed read out, long after.
const SPOKEN_WITHIN_MS: i64 = 60_000;

/// Calls read from the database at a time.
const CALLS_PAGE: i64 = 200;

/// Server-Sent Events for one site's display: each call (`call`, with the call's id as the
/// event id), queue changes (`changed`). Only ticket and window numbers ever leave the server
/// (R15: nothing personal on screens).
///
/// A display that reconnects (its node was lost, the network cut) sends the last id it saw
/// (`Last-Event-ID`, or `?last_event_id=`) and gets the calls it missed first, in order, then
/// the live ones. Calls are always read from the database, after the last one sent: an event
/// from the bus only says that there is something to read. So every node sends the same
/// calls with the same ids, none twice and none skipped, whichever events reached it.
async fn display_events(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<EventsQuery>,
    headers: axum::http::HeaderMap,
) -> AppResult<Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>>> {
    let site = site_by_code(&state, &code).await?;
    // Subscribed before anything is read: a call committed after the read below wakes it.
    let events = state.db.subscribe();
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or_else(|| q.last_event_id.and_then(|v| v.trim().parse::<i64>().ok()));
    let after = match resume {
        Some(id) => id,
        None => super::calls_baseline(&state.db, site.id).await?,
    };
    let follow = Follow {
        state: state.clone(),
        site_id: site.id,
        events,
        after,
        started: false,
    };
    let stream = futures_util::stream::unfold(follow, Follow::next_batch);
    let stream = futures_util::StreamExt::flat_map(stream, |batch| {
        futures_util::stream::iter(batch.into_iter().map(Ok))
    });
    let stream =
        futures_util::StreamExt::take_until(stream, crate::web::stopped(state.stop.clone()));
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// A call as a display receives it, its id as the event id. A call sent more than a minute after
/// it was made (replayed after a cut) is `quiet`: shown, not read out.
fn call_frame(call: &super::CallEvent, now: i64) -> Event {
    let data = serde_json::json!({
        "number": call.number,
        "window": call.window,
        "recall": call.recall,
        "site": call.site,
        "id": call.id,
        "quiet": now - call.at > SPOKEN_WITHIN_MS,
    });
    Event::default()
        .id(call.id.to_string())
        .event("call")
        .data(data.to_string())
}

/// One display's stream: the calls of its site after `after`, the last one sent.
struct Follow {
    state: AppState,
    site_id: i64,
    events: tokio::sync::broadcast::Receiver<crate::db::Event>,
    after: i64,
    started: bool,
}

impl Follow {
    /// The next events to send; `None` ends the stream (the display reconnects and resumes).
    async fn next_batch(mut self) -> Option<(Vec<Event>, Follow)> {
        use tokio::sync::broadcast::error::RecvError;
        if !self.started {
            self.started = true;
            let mut batch = vec![Event::default().retry(DISPLAY_RETRY)];
            batch.extend(self.new_calls().await?);
            return Some((batch, self));
        }
        let changed = || Event::default().event("changed").data("{}");
        loop {
            let e = match self.events.recv().await {
                Ok(e) => e,
                // Events were dropped here, or other nodes' lost while listening restarted:
                // the database has every call; the counts are fetched again.
                Err(RecvError::Lagged(_)) => return self.resync(changed()).await,
                Err(RecvError::Closed) => return None,
            };
            if e.topic == crate::db::RESUMED {
                return self.resync(changed()).await;
            }
            if e.payload.get("site").and_then(|s| s.as_i64()) != Some(self.site_id) {
                continue;
            }
            match e.topic.as_str() {
                "queue.called" => {
                    // The call right after the last one sent: shown as it came. Any other
                    // (events lost, or reordered between nodes) reads what was missed.
                    if let Ok(a) = serde_json::from_value::<super::Announced>(e.payload)
                        && a.before == self.after
                    {
                        self.after = a.call.id;
                        return Some((vec![call_frame(&a.call, self.state.clock.now_ms())], self));
                    }
                    let calls = self.new_calls().await?;
                    // Already sent with an earlier call's read: nothing new.
                    if !calls.is_empty() {
                        return Some((calls, self));
                    }
                }
                "queue.changed" => return Some((vec![changed()], self)),
                _ => {}
            }
        }
    }

    async fn resync(mut self, changed: Event) -> Option<(Vec<Event>, Follow)> {
        let mut batch = self.new_calls().await?;
        batch.push(changed);
        Some((batch, self))
    }

    /// The calls after the last one sent, oldest first; `None` when the database cannot say.
    async fn new_calls(&mut self) -> Option<Vec<Event>> {
        let mut out = Vec::new();
        loop {
            let now = self.state.clock.now_ms();
            let today = self.state.clock.today().to_string();
            let page = match super::calls_after(
                &self.state.db,
                self.site_id,
                &today,
                self.after,
                CALLS_PAGE,
            )
            .await
            {
                Ok(page) => page,
                Err(e) => {
                    // Ending the stream makes the display reconnect and resume from the last
                    // call it got, on whichever node answers.
                    tracing::warn!(error = %e, "cannot read the calls for a display; ending its stream");
                    return None;
                }
            };
            let full = page.len() as i64 == CALLS_PAGE;
            for call in page {
                self.after = call.id;
                out.push(call_frame(&call, now));
            }
            if !full {
                return Some(out);
            }
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "window_display.html")]
struct WindowDisplay {
    page: Page,
    site: Site,
    number: i64,
    kind: String,
    current: Option<String>,
    /// The supervision card of the officer at the window (服务监督牌), while it is open.
    officer: Option<crate::supervision::Card>,
    /// The event id the page's call stream starts after.
    calls_after: i64,
}

/// The small display above one window: the ticket it is serving, live, and the supervision
/// card of the officer at it.
async fn window_display(
    State(state): State<AppState>,
    page: Page,
    Path((code, number)): Path<(String, i64)>,
) -> AppResult<WindowDisplay> {
    let site = site_by_code(&state, &code).await?;
    // Before the current ticket is read: a call made after it is sent on the stream.
    let calls_after = super::calls_baseline(&state.db, site.id).await?;
    let window = crate::sites::windows_of(state.db.reader(), site.id)
        .await?
        .into_iter()
        .find(|w| w.number == number)
        .ok_or_else(AppError::not_found)?;
    let current = store::current_at_window(
        state.db.reader(),
        window.id,
        &state.clock.today().to_string(),
    )
    .await?
    .map(|t| t.number);
    let holder = crate::queue::stored_window_state(state.db.reader(), window.id)
        .await?
        .filter(|w| w.status != "closed")
        .and_then(|w| w.officer_id);
    let officer = crate::supervision::web::card_of(&state, holder).await?;
    Ok(WindowDisplay {
        calls_after,
        officer,
        kind: window.kind.name(page.lang).to_string(),
        page,
        site,
        number,
        current,
    })
}

async fn kiosk_js() -> Response {
    crate::web::script_response(include_str!("../../static/kiosk.js"))
}

async fn window_js() -> Response {
    crate::web::script_response(include_str!("../../static/window.js"))
}

/// The spoken call as a WAV clip, synthesised on this server (no internet needed).
async fn voice_clip(
    Path((lang, number, window)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let lang = Lang::from_code(&lang).ok_or_else(AppError::not_found)?;
    let window: i64 = window
        .trim_end_matches(".wav")
        .parse()
        .map_err(|_| AppError::not_found())?;
    match super::voice::clip(lang, &number, window).await {
        Ok(wav) => Ok((
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("audio/wav")),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
            ],
            wav.as_ref().clone(),
        )
            .into_response()),
        Err(super::voice::VoiceError::BadInput) => Err(AppError::not_found()),
        Err(super::voice::VoiceError::Unavailable) => Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            crate::error::CommonError::Unavailable,
        )),
        Err(e) => Err(AppError::internal(e)),
    }
}

async fn display_js() -> Response {
    crate::web::script_response(include_str!("../../static/display.js"))
}

// ---- JSON API ---------------------------------------------------------------------------------

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct IssueRequest {
    /// Four-digit site code.
    site: crate::web::fields::SiteCodeText,
    line: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Issued {
    number: String,
    /// Opens the citizen's status page: `/q/{token}`.
    token: String,
    status: TicketStatusView,
}

/// Issues a regular ticket (hall kiosk). Priority classes are issued by the guide desk.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "queue", request_body = IssueRequest,
    responses((status = 201, body = Issued), (status = 422, body = crate::error::ErrorBody)))]
async fn api_issue(
    State(state): State<AppState>,
    lang: Lang,
    Json(req): Json<IssueRequest>,
) -> AppResult<Response> {
    let site = site_by_code(&state, &req.site).await?;
    let ctx = state.queue();
    let t = super::issue_ticket(
        &ctx,
        super::Issuer::Citizen,
        &site,
        &req.line,
        TicketClass::Normal,
        None,
        None,
        "kiosk",
    )
    .await?;
    let status = super::status_view(&ctx, &t, lang).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Issued {
            number: t.number.clone(),
            token: t.token.clone(),
            status,
        }),
    )
        .into_response())
}

/// People ahead, the estimated wait (a range) and, once called, the window.
#[utoipa::path(get, path = "/api/v1/tickets/{token}", tag = "queue",
    params(("token" = String, Path, description = "The ticket's token (from its QR code)")),
    responses((status = 200, body = TicketStatusView), (status = 404, body = crate::error::ErrorBody)))]
async fn api_ticket_status(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> AppResult<axum::Json<TicketStatusView>> {
    let (t, _) = ticket_and_site(&state, &token).await?;
    Ok(axum::Json(
        super::status_view(&state.queue(), &t, lang).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct PrintResult {
    /// False when the kiosk's printer failed; true after a successful (re)print.
    printed: bool,
}

/// A kiosk reports its printer's outcome: a failed print takes the ticket out of the queue
/// and the counts until it is reprinted (same number).
#[utoipa::path(post, path = "/api/v1/tickets/{token}/print-result", tag = "queue", request_body = PrintResult,
    params(("token" = String, Path, description = "The ticket's token")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn api_print_result(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Json(r): Json<PrintResult>,
) -> AppResult<StatusCode> {
    let (t, _) = ticket_and_site(&state, &token).await?;
    super::record_print(&state.queue(), &t, r.printed).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Calls the next ticket to a window (the officer signed in there).
#[utoipa::path(post, path = "/api/v1/windows/{id}/call-next", tag = "queue",
    params(("id" = i64, Path, description = "Window id")),
    responses((status = 200, body = Option<Ticket>), (status = 409, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
async fn api_call_next(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
) -> AppResult<axum::Json<Option<Ticket>>> {
    let window = crate::sites::window(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::invalid(QueueError::NoSuchWindow))?;
    Ok(axum::Json(
        super::call_next(&state.queue(), &super::serve(&actor)?, &window).await?,
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct QueueSnapshot {
    /// Waiting tickets per line.
    waiting: Vec<LineWaiting>,
    /// Latest calls, newest first.
    calls: Vec<CallShown>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct LineWaiting {
    /// Line code (`first_issue`, …).
    line: String,
    waiting: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct CallShown {
    /// Ticket number as called (`A012`).
    number: String,
    /// Window number in the hall.
    window: i64,
}

/// One step at a window, as the officer's page offers it (issue 12 item 12).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
enum WindowAction {
    /// Sign in at the window and open it.
    Open,
    /// Pause with a reason (break, meeting, …).
    Pause { reason: String },
    /// Close; a ticket called but not started goes back to the queue.
    Close,
    /// Call the current ticket again.
    Recall,
    /// The citizen is at the window: serving starts.
    Start,
    /// Done with the current ticket.
    Finish,
    /// The called citizen did not come.
    NoShow,
    /// Send the current ticket to another line, or to a named window of this site.
    Transfer { line: String, window: Option<i64> },
}

/// A window after a step: its state and the ticket at it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct WindowNow {
    window_id: i64,
    /// `open`, `paused` or `closed`.
    status: String,
    /// The staff id of the officer holding the window.
    officer_id: Option<i64>,
    pause_reason: Option<String>,
    /// The ticket called or being served here, if any.
    current: Option<Ticket>,
}

/// Opens, pauses or closes a window, or moves its current ticket on (recall, start, finish,
/// no-show, transfer): the officer's page as JSON. Only the window's officer (or the duty
/// leader, taking it over) acts at it.
#[utoipa::path(post, path = "/api/v1/windows/{id}/actions", tag = "queue",
    params(("id" = i64, Path, description = "Window id")), request_body = WindowAction,
    responses((status = 200, body = WindowNow), (status = 409, body = crate::error::ErrorBody)))]
async fn api_window_action(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Json(action): Json<WindowAction>,
) -> AppResult<axum::Json<WindowNow>> {
    let window = crate::sites::window(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::invalid(QueueError::NoSuchWindow))?;
    let ctx = state.queue();
    let grant = super::serve(&actor)?;
    match action {
        WindowAction::Open => super::open_window(&ctx, &grant, &window).await.map(drop),
        WindowAction::Pause { reason } => {
            super::stop_window(&ctx, &grant, &window, Some(&reason)).await
        }
        WindowAction::Close => super::stop_window(&ctx, &grant, &window, None).await,
        WindowAction::Recall => super::recall(&ctx, &grant, &window).await.map(drop),
        WindowAction::Start => super::advance(&ctx, &grant, &window, TicketStatus::Serving)
            .await
            .map(drop),
        WindowAction::Finish => super::advance(&ctx, &grant, &window, TicketStatus::Done)
            .await
            .map(drop),
        WindowAction::NoShow => super::advance(&ctx, &grant, &window, TicketStatus::NoShow)
            .await
            .map(drop),
        WindowAction::Transfer { line, window: to } => {
            let target = match to {
                Some(w) => Some(
                    crate::sites::window(state.db.reader(), w)
                        .await?
                        .ok_or_else(|| AppError::invalid(QueueError::NoSuchWindow))?,
                ),
                None => None,
            };
            super::transfer(&ctx, &grant, &window, &line, target.as_ref())
                .await
                .map(drop)
        }
    }?;
    let st = super::window_state(&ctx, &window).await?;
    let current = store::current_at_window(
        state.db.reader(),
        window.id,
        &state.clock.today().to_string(),
    )
    .await?;
    Ok(axum::Json(WindowNow {
        window_id: window.id,
        status: st.status,
        officer_id: st.officer_id,
        pause_reason: st.pause_reason,
        current,
    }))
}

/// The hall's queue now: waiting per line and the latest calls (no personal data).
#[utoipa::path(get, path = "/api/v1/sites/{code}/queue", tag = "queue",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Four-digit site code")),
    responses((status = 200, body = QueueSnapshot), (status = 404, body = crate::error::ErrorBody)))]
async fn api_queue(
    State(state): State<AppState>,
    Path(code): Path<crate::web::fields::SiteCodeText>,
) -> AppResult<axum::Json<QueueSnapshot>> {
    let site = site_by_code(&state, &code).await?;
    let today = state.clock.today().to_string();
    Ok(axum::Json(QueueSnapshot {
        waiting: store::waiting_counts(state.db.reader(), site.id, &today)
            .await?
            .into_iter()
            .map(|(line, waiting)| LineWaiting { line, waiting })
            .collect(),
        calls: store::recent_calls(state.db.reader(), site.id, &today, 8)
            .await?
            .into_iter()
            .map(|(number, window, _)| CallShown { number, window })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_qr_codes_carry_a_full_address() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("hall.local:8080"));
        let mut config = crate::config::Config::default();
        assert_eq!(public_base(&config, &headers), "http://hall.local:8080");
        config.cookie_secure = true;
        assert_eq!(public_base(&config, &headers), "https://hall.local:8080");
        config.public_url = "https://crj.example.gov.cn/".into();
        assert_eq!(public_base(&config, &headers), "https://crj.example.gov.cn");
    }
}
