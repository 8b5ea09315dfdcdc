//! Appointment pages (citizen web and phone page, staff telephone/on-site booking, arrival
//! check-in, the day's list and CSV) and the JSON API.

use crate::auth::grant::{BookingDesk, LiftBlock};
use crate::web::extract::Path;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    Arrival, BookRequest, BookingError, Channel, Confirmation, DayAvailability, Status, hhmm, store,
};
use crate::auth::{Actor, Failure};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, UserMessage};
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Form, Json, Meta, Query, Staff};
use crate::web::layout::Page;
use crate::web::limits::Scope;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/appointments", get(book_page).post(book_submit))
        .route(
            "/kiosk/{site}/check-in",
            get(kiosk_check_in_page).post(kiosk_check_in),
        )
        .route("/m/appointments", get(mobile_entry))
        .route("/appointments/manage", get(manage_page).post(manage_lookup))
        .route("/appointments/manage/cancel", post(manage_cancel))
        .route("/appointments/manage/reschedule", post(manage_reschedule))
        .route("/appointments/waitlist", post(waitlist_submit))
        .route("/appointments/{code}", get(confirmation_page))
        .route("/appointments/{code}/qr.svg", get(qr_svg))
        .route("/appointments/{code}/calendar.ics", get(ics))
        .route("/staff/appointments", get(staff_day))
        .route("/staff/appointments.csv", get(staff_csv))
        .route(
            "/staff/appointments/book",
            get(staff_book_page).post(staff_book_submit),
        )
        .route("/staff/appointments/check-in", post(staff_check_in))
        .route("/staff/appointments/lift-block", post(staff_lift_block))
        .route("/admin/sms", get(sms_log))
        .route("/admin/sites/{id}/appointments", get(admin_settings_page))
        .route(
            "/admin/sites/{id}/appointments/settings",
            post(admin_settings_submit),
        )
        .route(
            "/admin/sites/{id}/appointments/capacity",
            post(admin_capacity_submit),
        )
        .route(
            "/admin/sites/{id}/appointments/close-day",
            post(admin_close_day_submit),
        )
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_availability))
        .routes(routes!(api_book))
        .routes(routes!(api_lookup))
        .routes(routes!(api_waitlist))
        .routes(routes!(api_lift_block))
        .routes(routes!(api_close_day))
        .routes(routes!(api_add_capacity))
        .routes(routes!(api_cancel))
        .routes(routes!(api_reschedule))
        .routes(routes!(api_check_in))
        .routes(routes!(api_kiosk_check_in))
}

/// A citizen's own booking by code and ID number: every try counts against the client's
/// address, and a wrong ID number against the code (which locks after a few, in `find_own`).
async fn own_booking(
    state: &AppState,
    ip: &str,
    code: &str,
    id_number: &str,
) -> AppResult<store::BookingRow> {
    state
        .limits
        .check(Scope::Lookup, ip, None)
        .await
        .map_err(|w| AppError::too_many(BookingError::RateLimited, w))?;
    super::find_own(&state.booking(), code, id_number)
        .await
        .map_err(AppError::from)
}

async fn site_by_code(
    state: &AppState,
    code: &str,
) -> Result<std::sync::Arc<Site>, Failure<BookingError>> {
    state
        .days
        .site_by_code(&state.db, code, state.clock.now_ms())
        .await?
        .filter(|s| s.active && s.kind != crate::sites::SiteKind::KioskPoint)
        .ok_or(Failure::Refused(BookingError::UnknownSite))
}

fn parse_date(s: &str) -> Result<Date, Failure<BookingError>> {
    s.trim()
        .parse()
        .map_err(|_| Failure::Refused(BookingError::NoSuchSlot))
}

// ---- citizen pages ---------------------------------------------------------------------------

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct DateChoice {
    pub date: String,
    pub label: String,
    pub selected: bool,
    /// In a year without the State Council's holiday notice (the day may become a day off).
    pub provisional: bool,
}

/// The bookable days as links, a provisional one marked.
fn date_choices(state: &AppState, list: &[Date], chosen: &str, lang: Lang) -> Vec<DateChoice> {
    let calendar = state.calendar.current();
    list.iter()
        .map(|d| DateChoice {
            date: d.to_string(),
            label: format!("{} {}", &d.to_string()[5..], weekday(*d, lang)),
            selected: d.to_string() == chosen,
            provisional: calendar.is_provisional(d.year()),
        })
        .collect()
}

/// A bookable line as the booking page offers it, naming the documents it covers.
pub struct LineCover {
    pub code: String,
    pub name: String,
    /// "普通护照、往来港澳通行证、往来台湾通行证（加注仅限普通护照）".
    pub covers: String,
    pub selected: bool,
}

/// The documents a line's catalog items cover, by category: every document the line serves,
/// then the categories that serve fewer of them. A line without items (pickup) covers any
/// document that is ready.
pub fn line_covers(
    state: &AppState,
    line: &crate::catalog::lines::BusinessLine,
    lang: Lang,
) -> String {
    use crate::catalog::{ApplicationCategory, DocumentType};
    let items: Vec<_> = line
        .items
        .iter()
        .filter_map(|id| state.catalog.item(id))
        .collect();
    if items.is_empty() {
        return crate::i18n::t(lang, "appt.covers_any").to_string();
    }
    let serves = |c: Option<ApplicationCategory>| -> Vec<DocumentType> {
        DocumentType::ALL
            .into_iter()
            .filter(|d| {
                items
                    .iter()
                    .any(|i| i.document_type == *d && c.is_none_or(|c| i.category == c))
            })
            .collect()
    };
    let list = |docs: &[DocumentType]| {
        docs.iter()
            .map(|d| d.name(lang))
            .collect::<Vec<_>>()
            .join(lang.pick("、", ", "))
    };
    let all = serves(None);
    let narrower: Vec<String> = ApplicationCategory::ALL
        .into_iter()
        .map(|c| (c, serves(Some(c))))
        .filter(|(_, docs)| !docs.is_empty() && docs.len() < all.len())
        .map(|(c, docs)| match lang {
            Lang::ZhCn => format!("{}仅限{}", c.name(lang), list(&docs)),
            Lang::En => format!("{}: {} only", c.name(lang).to_lowercase(), list(&docs)),
        })
        .collect();
    if narrower.is_empty() {
        list(&all)
    } else {
        match lang {
            Lang::ZhCn => format!("{}（{}）", list(&all), narrower.join("；")),
            Lang::En => format!("{} ({})", list(&all), narrower.join("; ")),
        }
    }
}

pub struct MaterialGroup {
    pub item_id: String,
    pub item_name: String,
    pub materials: Vec<String>,
}

impl BookPage {
    /// Whether a day offered lies in a year without the State Council's notice.
    fn any_provisional(&self) -> bool {
        self.dates.iter().any(|d| d.provisional)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "appointments.html")]
struct BookPage {
    page: Page,
    /// `/appointments` or `/staff/appointments/book`.
    action: String,
    staff: bool,
    channel: String,
    sites: Vec<Choice>,
    lines: Vec<Choice>,
    /// The same lines, each naming the documents it covers.
    covers: Vec<LineCover>,
    dates: Vec<DateChoice>,
    site: String,
    line: String,
    date: String,
    day: Option<DayAvailability>,
    materials: Vec<MaterialGroup>,
    error: Option<String>,
    notice: Option<String>,
    form: PersonForm,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct BookQuery {
    site: Option<String>,
    line: Option<String>,
    date: Option<String>,
    via: Option<String>,
}

fn weekday(d: Date, lang: Lang) -> &'static str {
    use jiff::civil::Weekday::*;
    match d.weekday() {
        Monday => lang.pick("周一", "Mon"),
        Tuesday => lang.pick("周二", "Tue"),
        Wednesday => lang.pick("周三", "Wed"),
        Thursday => lang.pick("周四", "Thu"),
        Friday => lang.pick("周五", "Fri"),
        Saturday => lang.pick("周六", "Sat"),
        Sunday => lang.pick("周日", "Sun"),
    }
}

/// The materials to bring for a line: what every applicant of each item needs.
pub fn materials_for_line(state: &AppState, line: &str, lang: Lang) -> Vec<MaterialGroup> {
    let Some(l) = state.lines.get(line) else {
        return Vec::new();
    };
    l.items
        .iter()
        .filter_map(|id| state.catalog.item(id))
        .map(|item| MaterialGroup {
            item_id: item.id.clone(),
            item_name: item.name.get(lang).to_string(),
            materials: item
                .materials
                .iter()
                .filter(|r| r.when == crate::catalog::Condition::Always)
                .filter_map(|r| state.catalog.material(&r.material))
                .filter(|m| !m.provided_at_window)
                .map(|m| m.name.get(lang).to_string())
                .collect(),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn build_book_page(
    state: &AppState,
    page: Page,
    q: BookQuery,
    staff: bool,
    channel: Channel,
    form: PersonForm,
    error: Option<String>,
) -> AppResult<BookPage> {
    let lang = page.lang;
    let all_sites: Vec<Site> = crate::sites::list_sites(state.db.reader(), true)
        .await?
        .into_iter()
        .filter(|s| s.kind != crate::sites::SiteKind::KioskPoint)
        .collect();
    let site_code = q
        .site
        .clone()
        .filter(|c| all_sites.iter().any(|s| &s.code == c))
        .or_else(|| all_sites.first().map(|s| s.code.clone()))
        .unwrap_or_default();
    let line_code = q
        .line
        .clone()
        .filter(|c| state.lines.get(c).is_some_and(|l| l.bookable))
        .or_else(|| state.lines.bookable().next().map(|l| l.code.clone()))
        .unwrap_or_default();
    let sites = all_sites
        .iter()
        .map(|s| Choice {
            value: s.code.clone(),
            label: s.name(lang).to_string(),
            selected: s.code == site_code,
        })
        .collect();
    let lines = state
        .lines
        .bookable()
        .map(|l| Choice {
            value: l.code.clone(),
            label: l.name(lang).to_string(),
            selected: l.code == line_code,
        })
        .collect();
    let covers = state
        .lines
        .bookable()
        .map(|l| LineCover {
            code: l.code.clone(),
            name: l.name(lang).to_string(),
            covers: line_covers(state, l, lang),
            selected: l.code == line_code,
        })
        .collect();
    let ctx = state.booking();
    let mut dates = Vec::new();
    let mut day = None;
    let mut chosen = String::new();
    if let Some(site) = all_sites.iter().find(|s| s.code == site_code) {
        let list = super::bookable_dates(&ctx, site, &line_code).await?;
        chosen = q
            .date
            .clone()
            .filter(|d| list.iter().any(|x| x.to_string() == *d))
            .or_else(|| list.first().map(|d| d.to_string()))
            .unwrap_or_default();
        dates = date_choices(state, &list, &chosen, lang);
        if let Ok(date) = chosen.parse::<Date>() {
            day = Some(super::availability(&ctx, site, &line_code, date, channel, lang).await?);
        }
    }
    Ok(BookPage {
        action: if staff {
            "/staff/appointments/book".into()
        } else {
            "/appointments".into()
        },
        staff,
        channel: channel.as_str().into(),
        materials: materials_for_line(state, &line_code, lang),
        sites,
        lines,
        covers,
        dates,
        site: site_code,
        line: line_code,
        date: chosen,
        day,
        error,
        notice: None,
        form,
        page,
    })
}

fn channel_of(via: Option<&str>) -> Channel {
    match via {
        Some("mobile") => Channel::Mobile,
        Some("kiosk") => Channel::Kiosk,
        _ => Channel::Web,
    }
}

async fn book_page(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<BookQuery>,
) -> AppResult<BookPage> {
    let channel = channel_of(q.via.as_deref());
    build_book_page(&state, page, q, false, channel, PersonForm::default(), None).await
}

/// The phone page is the same engine with the mobile channel recorded.
async fn mobile_entry() -> Redirect {
    Redirect::to("/appointments?via=mobile")
}

#[derive(Debug, Clone, Deserialize)]
struct BookForm {
    site: String,
    line: String,
    date: String,
    #[serde(default)]
    slot_id: Option<i64>,
    #[serde(default)]
    channel: String,
    #[serde(flatten)]
    person: PersonForm,
}

async fn submit(
    state: &AppState,
    page: Page,
    actor: Option<&Actor>,
    ip: &str,
    f: BookForm,
    staff: bool,
) -> AppResult<Response> {
    let lang = page.lang;
    let channel = match (staff, Channel::parse(&f.channel)) {
        (true, Some(c @ (Channel::Phone | Channel::Onsite))) => c,
        (true, _) => Channel::Phone,
        (false, Some(c)) if !c.is_staff() => c,
        (false, _) => Channel::Web,
    };
    let q = BookQuery {
        site: Some(f.site.clone()),
        line: Some(f.line.clone()),
        date: Some(f.date.clone()),
        via: Some(channel.as_str().into()),
    };
    let Some(slot_id) = f.slot_id else {
        let msg = lang
            .pick("请选择一个预约时段。", "Choose a time.")
            .to_string();
        let body = build_book_page(state, page, q, staff, channel, f.person, Some(msg)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response());
    };
    let id_key = state.cipher.blind_index(f.person.id_number.trim());
    let limited = if staff {
        Ok(())
    } else {
        state
            .limits
            .check(Scope::Booking, ip, Some(id_key.newest()))
            .await
    };
    if let Err(wait) = limited {
        let body = build_book_page(
            state,
            page,
            q,
            staff,
            channel,
            f.person,
            Some(BookingError::RateLimited.message(lang)),
        )
        .await?;
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            [(axum::http::header::RETRY_AFTER, wait.0.to_string())],
            body,
        )
            .into_response());
    }
    let req = BookRequest {
        slot_id,
        name: f.person.name.clone(),
        id_number: f.person.id_number.clone(),
        phone: f.person.phone.clone(),
        channel,
        lang: Some(lang),
    };
    let grant = actor.and_then(Actor::grant::<BookingDesk>);
    match super::book(&state.booking(), grant.as_ref(), req, None).await {
        Ok(c) => Ok(Redirect::to(&format!("/appointments/{}", c.code)).into_response()),
        Err(Failure::Refused(e)) => {
            let status = match e {
                BookingError::Full | BookingError::AlreadyBooked => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let body = build_book_page(
                state,
                page,
                q,
                staff,
                channel,
                f.person,
                Some(e.message(lang)),
            )
            .await?;
            Ok((status, body).into_response())
        }
        Err(other) => Err(AppError::from(other)),
    }
}

async fn book_submit(
    State(state): State<AppState>,
    page: Page,
    Meta(meta): Meta,
    Form(f): Form<BookForm>,
) -> AppResult<Response> {
    submit(&state, page, None, &meta.ip, f, false).await
}

#[derive(Template, WebTemplate)]
#[template(path = "appointment_confirmation.html")]
struct ConfirmationPage {
    page: Page,
    c: Confirmation,
    status: String,
    materials: Vec<MaterialGroup>,
    /// The phone form for the booked site and line, while the booking stands and its line
    /// takes applications (not pickup): filled in advance, the citizen comes with a number.
    form_href: Option<String>,
}

async fn confirmation_page(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<ConfirmationPage> {
    let ctx = state.booking();
    let b = store::booking_by_code(state.db.reader(), &code.to_uppercase())
        .await?
        .ok_or_else(AppError::not_found)?;
    let c = super::confirmation(&ctx, &b).await?;
    let lang = page.lang;
    let takes_forms = state
        .lines
        .get(&c.line_code)
        .is_some_and(|l| !l.items.is_empty());
    let form_href = (c.status == Status::Booked && takes_forms).then(|| {
        format!(
            "/m/form?{}",
            serde_urlencoded::to_string([("site", &c.site_code), ("line", &c.line_code)])
                .unwrap_or_default()
        )
    });
    Ok(ConfirmationPage {
        status: c.status.name(lang).to_string(),
        materials: materials_for_line(&state, &c.line_code, lang),
        form_href,
        c,
        page,
    })
}

async fn qr_svg(State(state): State<AppState>, Path(code): Path<String>) -> AppResult<Response> {
    let b = store::booking_by_code(state.db.reader(), &code.to_uppercase())
        .await?
        .ok_or_else(AppError::not_found)?;
    // The QR carries only the booking code: the arrival desk scans it into the look-up field.
    crate::queue::web::qr_svg(&b.code, 200)
}

fn ics_stamp(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default()
}

fn ics_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

async fn ics(
    State(state): State<AppState>,
    lang: Lang,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let code = code.trim_end_matches(".ics").to_uppercase();
    let b = store::booking_by_code(state.db.reader(), &code)
        .await?
        .ok_or_else(AppError::not_found)?;
    let site = crate::sites::site(state.db.reader(), b.site_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let line = state
        .lines
        .get(&b.line_code)
        .map(|l| l.name(lang).to_string())
        .unwrap_or_default();
    let summary = match lang {
        Lang::ZhCn => format!("出入境预约：{line}（预约码 {}）", b.code),
        Lang::En => format!("Exit-entry appointment: {line} (code {})", b.code),
    };
    // RFC 5545, CRLF line ends; times in UTC.
    let body = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//onetrip//appointments//ZH".into(),
        "METHOD:PUBLISH".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{}@onetrip", b.code),
        format!("DTSTAMP:{}", ics_stamp(b.created_at)),
        format!("DTSTART:{}", ics_stamp(b.starts_at)),
        format!("DTEND:{}", ics_stamp(b.ends_at)),
        format!("SUMMARY:{}", ics_escape(&summary)),
        format!(
            "LOCATION:{}",
            ics_escape(&format!("{} {}", site.name(lang), site.address(lang)))
        ),
        format!(
            "DESCRIPTION:{}",
            ics_escape(&format!(
                "{} {}",
                lang.pick(
                    "请携带身份证及所需材料。预约码",
                    "Bring your ID card and the materials. Code"
                ),
                b.code
            ))
        ),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ]
    .join("\r\n")
        + "\r\n";
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"appointment.ics\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "appointment_manage.html")]
struct ManagePage {
    page: Page,
    code: String,
    id_number: String,
    found: Option<Confirmation>,
    status: String,
    active: bool,
    day: Option<DayAvailability>,
    dates: Vec<DateChoice>,
    error: Option<String>,
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ManageQuery {
    code: Option<String>,
}

async fn manage_page(page: Page, Query(q): Query<ManageQuery>) -> ManagePage {
    ManagePage {
        page,
        code: q.code.unwrap_or_default(),
        id_number: String::new(),
        found: None,
        status: String::new(),
        active: false,
        day: None,
        dates: vec![],
        error: None,
        done: None,
    }
}

#[derive(Debug, Deserialize)]
struct ManageForm {
    code: String,
    id_number: String,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    slot_id: Option<i64>,
}

async fn manage_view(
    state: &AppState,
    page: Page,
    f: &ManageForm,
    done: Option<String>,
) -> AppResult<Response> {
    manage_view_with(state, page, f, done, None).await
}

async fn manage_view_with(
    state: &AppState,
    page: Page,
    f: &ManageForm,
    done: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let lang = page.lang;
    let ctx = state.booking();
    let b = match super::find_own(&ctx, &f.code, &f.id_number).await {
        Ok(b) => b,
        Err(Failure::Refused(e)) => {
            let body = ManagePage {
                page,
                code: f.code.clone(),
                id_number: String::new(),
                found: None,
                status: String::new(),
                active: false,
                day: None,
                dates: vec![],
                error: Some(e.message(lang)),
                done: None,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response());
        }
        Err(other) => return Err(AppError::from(other)),
    };
    let c = super::confirmation(&ctx, &b).await?;
    let active = b.status == Status::Booked;
    let (mut day, mut dates) = (None, Vec::new());
    if active && let Some(site) = crate::sites::site(state.db.reader(), b.site_id).await? {
        let list = super::bookable_dates(&ctx, &site, &b.line_code).await?;
        let chosen = f
            .date
            .clone()
            .filter(|d| list.iter().any(|x| x.to_string() == *d))
            .unwrap_or_else(|| b.date.clone());
        dates = date_choices(state, &list, &chosen, lang);
        if let Ok(date) = chosen.parse::<Date>() {
            let channel = b.channel;
            let mut d = super::availability(&ctx, &site, &b.line_code, date, channel, lang).await?;
            // The booking's own slot is not somewhere to move to.
            for s in d.slots.iter_mut().filter(|s| s.slot_id == b.slot_id) {
                s.bookable = false;
            }
            day = Some(d);
        }
    }
    Ok(ManagePage {
        status: c.status.name(lang).to_string(),
        page,
        code: b.code.clone(),
        id_number: f.id_number.clone(),
        found: Some(c),
        active,
        day,
        dates,
        error,
        done,
    }
    .into_response())
}

async fn manage_lookup(
    State(state): State<AppState>,
    page: Page,
    Meta(meta): Meta,
    Form(f): Form<ManageForm>,
) -> AppResult<Response> {
    state
        .limits
        .check(Scope::Lookup, &meta.ip, None)
        .await
        .map_err(|w| AppError::too_many(BookingError::RateLimited, w))?;
    manage_view(&state, page, &f, None).await
}

async fn manage_cancel(
    State(state): State<AppState>,
    page: Page,
    Meta(meta): Meta,
    Form(f): Form<ManageForm>,
) -> AppResult<Response> {
    let ctx = state.booking();
    let lang = page.lang;
    let b = own_booking(&state, &meta.ip, &f.code, &f.id_number).await?;
    match super::cancel(&ctx, None, &b, None).await {
        Ok(()) => {
            manage_view(
                &state,
                page,
                &f,
                Some(
                    lang.pick(
                        "预约已取消，我们将发送短信确认。",
                        "The booking is cancelled; a text message will confirm it.",
                    )
                    .into(),
                ),
            )
            .await
        }
        Err(Failure::Refused(e)) => Err(AppError::invalid(e)),
        Err(other) => Err(AppError::from(other)),
    }
}

async fn manage_reschedule(
    State(state): State<AppState>,
    page: Page,
    Meta(meta): Meta,
    Form(f): Form<ManageForm>,
) -> AppResult<Response> {
    let ctx = state.booking();
    let lang = page.lang;
    let b = own_booking(&state, &meta.ip, &f.code, &f.id_number).await?;
    let Some(slot_id) = f.slot_id else {
        return manage_view(&state, page, &f, None).await;
    };
    match super::reschedule(&ctx, &b, slot_id).await {
        Ok(c) => Ok(Redirect::to(&format!("/appointments/{}", c.code)).into_response()),
        Err(Failure::Refused(e)) => {
            let mut res = manage_view_with(&state, page, &f, None, Some(e.message(lang))).await?;
            *res.status_mut() = StatusCode::CONFLICT;
            Ok(res)
        }
        Err(other) => Err(AppError::from(other)),
    }
}

#[derive(Debug, Deserialize)]
struct WaitlistForm {
    site: String,
    line: String,
    date: String,
    id_number: String,
    phone: String,
}

async fn waitlist_submit(
    State(state): State<AppState>,
    page: Page,
    Meta(meta): Meta,
    Form(f): Form<WaitlistForm>,
) -> AppResult<Response> {
    let lang = page.lang;
    state
        .limits
        .check(Scope::Booking, &meta.ip, None)
        .await
        .map_err(|w| AppError::too_many(BookingError::RateLimited, w))?;
    let ctx = state.booking();
    let site = site_by_code(&state, &f.site).await?;
    let date = parse_date(&f.date)?;
    super::join_waitlist(&ctx, &site, &f.line, date, &f.id_number, &f.phone, lang).await?;
    let q = BookQuery {
        site: Some(f.site),
        line: Some(f.line),
        date: Some(f.date),
        via: None,
    };
    let mut body = build_book_page(
        &state,
        page,
        q,
        false,
        Channel::Web,
        PersonForm::default(),
        None,
    )
    .await?;
    body.notice = Some(lang.pick("已登记候补：有名额空出时将按登记顺序短信通知您。", "You are on the waiting list: when a place frees, people are told by text message in the order they joined.").into());
    Ok(body.into_response())
}

// ---- staff pages ------------------------------------------------------------------------------

fn require_booking_staff(actor: &Actor, site_id: i64) -> Result<(), AppError> {
    if actor.may::<BookingDesk>(site_id) {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

/// The first site the actor may work at, or the one asked for.
async fn staff_site(state: &AppState, actor: &Actor, code: Option<&str>) -> AppResult<Site> {
    let all = crate::sites::list_sites(state.db.reader(), true).await?;
    let pick = match code {
        Some(c) => all.into_iter().find(|s| s.code == c),
        None => all
            .into_iter()
            .find(|s| require_booking_staff(actor, s.id).is_ok()),
    }
    .ok_or_else(AppError::forbidden)?;
    require_booking_staff(actor, pick.id)?;
    Ok(pick)
}

pub struct SlotLine {
    pub line: String,
    pub time: String,
    pub quota: String,
    pub booked: String,
    pub utilisation: u32,
    pub closed: bool,
}

pub struct BookingLine {
    pub code: String,
    pub time: String,
    pub line: String,
    pub channel: String,
    pub status: String,
    pub status_code: String,
    pub name: String,
    pub id_number: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/appointments.html")]
struct StaffDayPage {
    page: Page,
    site: Site,
    sites: Vec<Choice>,
    date: String,
    slots: Vec<SlotLine>,
    bookings: Vec<BookingLine>,
    total_quota: i64,
    total_booked: i64,
    arrived: usize,
    no_shows: usize,
    cancelled: usize,
    /// Places held by cancellations until their release delay passes.
    held: i64,
    message: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DayQuery {
    site: Option<String>,
    date: Option<String>,
}

async fn day_data(
    state: &AppState,
    actor: &Actor,
    site: &Site,
    date: &str,
    lang: Lang,
) -> AppResult<(Vec<SlotLine>, Vec<BookingLine>, i64, i64)> {
    let slots = store::slots_of_site_day(state.db.reader(), site.id, date).await?;
    let bookings = store::bookings_of_site_day(state.db.reader(), site.id, date).await?;
    // R15: a staff read of people's records is audited.
    let mut tx = state.db.begin().await?;
    crate::audit::record(
        &mut tx,
        crate::audit::AuditEntry::by(
            actor,
            "booking.list_viewed",
            "site",
            &site.id.to_string(),
            state.clock.now_ms(),
        )
        .site(site.id)
        .detail(serde_json::json!({"date": date, "bookings": bookings.len()})),
    )
    .await?;
    tx.commit().await?;
    let line_name = |c: &str| {
        state
            .lines
            .get(c)
            .map(|l| l.name(lang).to_string())
            .unwrap_or_else(|| c.to_string())
    };
    let total_quota = slots.iter().map(|s| s.quota()).sum();
    let total_booked = slots.iter().map(|s| s.booked()).sum();
    let slot_lines = slots
        .iter()
        .map(|s| SlotLine {
            line: line_name(&s.line_code),
            time: format!("{}–{}", hhmm(s.start_minute), hhmm(s.end_minute)),
            quota: format!(
                "{} / {} / {}",
                s.quota_online, s.quota_phone, s.quota_onsite
            ),
            booked: format!(
                "{} / {} / {}",
                s.booked_online, s.booked_phone, s.booked_onsite
            ),
            utilisation: if s.quota() > 0 {
                (s.booked() * 100 / s.quota()) as u32
            } else {
                0
            },
            closed: s.closed,
        })
        .collect();
    let booking_lines = bookings
        .iter()
        .map(|b| {
            // Our own sealed data that does not open is a fault to see, not a blank name; a
            // booking erased after its retention period (an old day) is shown as erased.
            let (name, id) = if crate::privacy::is_erased(&b.name_sealed) {
                let erased = crate::privacy::ERASED_SHOWN.to_string();
                (erased.clone(), erased)
            } else {
                let name = state
                    .cipher
                    .open(&b.name_sealed)
                    .map(|n| crate::domain::masking::mask_name(&n))
                    .map_err(|e| AppError::internal(format!("booking {} name: {e}", b.code)))?;
                let id = state
                    .cipher
                    .open(&b.id_sealed)
                    .ok()
                    .and_then(|i| crate::domain::id_number::IdNumber::parse(&i).ok())
                    .map(|i| i.masked())
                    .ok_or_else(|| AppError::internal(format!("booking {} ID number", b.code)))?;
                (name, id)
            };
            Ok(BookingLine {
                code: b.code.clone(),
                time: hhmm(b.start_minute),
                line: line_name(&b.line_code),
                channel: b.channel.name(lang).to_string(),
                status: b.status.name(lang).to_string(),
                status_code: b.status.as_str().to_string(),
                name,
                id_number: id,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok((slot_lines, booking_lines, total_quota, total_booked))
}

async fn render_day(
    state: &AppState,
    page: Page,
    actor: &Actor,
    site: Site,
    date: String,
    message: Option<String>,
    error: Option<String>,
) -> AppResult<StaffDayPage> {
    let lang = page.lang;
    let (slots, bookings, total_quota, total_booked) =
        day_data(state, actor, &site, &date, lang).await?;
    let count = |s: &str| bookings.iter().filter(|b| b.status_code == s).count();
    let sites = crate::sites::list_sites(state.db.reader(), true)
        .await?
        .into_iter()
        .filter(|s| require_booking_staff(actor, s.id).is_ok())
        .map(|s| Choice {
            selected: s.code == site.code,
            value: s.code.clone(),
            label: s.name(lang).to_string(),
        })
        .collect();
    let held = store::held_places(state.db.reader(), site.id, &date).await?;
    Ok(StaffDayPage {
        arrived: count("arrived"),
        no_shows: count("no_show"),
        cancelled: count("cancelled"),
        held,
        page,
        site,
        sites,
        date,
        slots,
        bookings,
        total_quota,
        total_booked,
        message,
        error,
    })
}

async fn staff_day(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<DayQuery>,
) -> AppResult<StaffDayPage> {
    let site = staff_site(&state, &actor, q.site.as_deref()).await?;
    let date = q
        .date
        .filter(|d| d.parse::<Date>().is_ok())
        .unwrap_or_else(|| state.clock.today().to_string());
    render_day(&state, page, &actor, site, date, None, None).await
}

async fn staff_csv(
    State(state): State<AppState>,
    lang: Lang,
    Staff(actor): Staff,
    Query(q): Query<DayQuery>,
) -> AppResult<Response> {
    let site = staff_site(&state, &actor, q.site.as_deref()).await?;
    let date = q
        .date
        .filter(|d| d.parse::<Date>().is_ok())
        .unwrap_or_else(|| state.clock.today().to_string());
    let (_, bookings, _, _) = day_data(&state, &actor, &site, &date, lang).await?;
    let mut out = String::from("\u{feff}code,date,time,line,channel,status,name,id_number\r\n");
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    for b in bookings {
        out.push_str(
            &[
                b.code,
                date.clone(),
                b.time,
                b.line,
                b.channel,
                b.status,
                b.name,
                b.id_number,
            ]
            .iter()
            .map(|s| field(s))
            .collect::<Vec<_>>()
            .join(","),
        );
        out.push_str("\r\n");
    }
    let disposition = format!(
        "attachment; filename=\"appointments-{}-{date}.csv\"",
        site.code
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        out,
    )
        .into_response())
}

async fn staff_book_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<BookQuery>,
) -> AppResult<BookPage> {
    let site = staff_site(&state, &actor, q.site.as_deref()).await?;
    let q = BookQuery {
        site: Some(site.code),
        ..q
    };
    let channel = if q.via.as_deref() == Some("onsite") {
        Channel::Onsite
    } else {
        Channel::Phone
    };
    build_book_page(&state, page, q, true, channel, PersonForm::default(), None).await
}

async fn staff_book_submit(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Meta(meta): Meta,
    Form(f): Form<BookForm>,
) -> AppResult<Response> {
    staff_site(&state, &actor, Some(&f.site)).await?;
    submit(&state, page, Some(&actor), &meta.ip, f, true).await
}

#[derive(Debug, Deserialize)]
struct CheckInForm {
    site: String,
    /// A booking code (typed or scanned from the QR) or an ID number.
    query: String,
}

/// A booking's holder arrives: checked in, and given an appointment-class ticket so they are
/// served without queuing (R2/R3) — the same for the staff page and the API. A check-in whose
/// ticket was not issued (a fault between the two) gets it on the next try; a second check-in
/// with its ticket is refused.
pub(crate) async fn arrive(
    state: &AppState,
    by: Arrival<'_>,
    site: &Site,
    b: &store::BookingRow,
) -> Result<crate::queue::Ticket, Failure<BookingError>> {
    let issuer = match &by {
        Arrival::Desk(g) => crate::queue::Issuer::BookingDesk(g),
        Arrival::Kiosk(d) => crate::queue::Issuer::Kiosk(d),
    };
    match super::check_in(&state.booking(), by, b).await {
        Ok(()) => {}
        Err(Failure::Refused(BookingError::NotActive))
            if b.status == Status::Arrived
                && crate::queue::ticket_of_booking(state.db.reader(), b.id)
                    .await?
                    .is_none() => {}
        Err(e) => return Err(e),
    }
    let issued = crate::queue::issue_ticket(
        &state.queue(),
        issuer,
        site,
        &b.line_code,
        crate::queue::TicketClass::Appointment,
        None,
        Some(b.id),
        "appointment",
    )
    .await;
    match issued {
        Ok(t) => Ok(t),
        // Another check-in of the same booking issued its ticket first (one per booking, a
        // unique key): this one is a second check-in.
        Err(Failure::Storage(e))
            if crate::queue::ticket_of_booking(state.db.reader(), b.id)
                .await?
                .is_some() =>
        {
            tracing::debug!(error = %e, booking = b.id, "second check-in refused");
            Err(Failure::Refused(BookingError::NotActive))
        }
        Err(Failure::Storage(e)) => Err(Failure::Storage(e)),
        Err(other) => Err(Failure::Internal(other.to_string())),
    }
}

/// Today's booking at `site` named by its code (typed or scanned from the QR) or the holder's
/// ID number.
async fn booking_at(
    state: &AppState,
    site: &Site,
    query: &str,
) -> Result<store::BookingRow, Failure<BookingError>> {
    let q = query.trim().to_uppercase();
    let found = if q.len() == 8 {
        store::booking_by_code(state.db.reader(), &q)
            .await?
            .filter(|b| b.site_id == site.id)
    } else {
        super::find_today_by_id(&state.booking(), site.id, &q).await?
    };
    found.ok_or(Failure::Refused(BookingError::NotFoundToday))
}

#[derive(Template, WebTemplate)]
#[template(path = "kiosk_check_in.html")]
struct KioskCheckInPage {
    page: Page,
    site: Site,
    error: Option<String>,
}

/// The kiosk's appointment check-in (issue 14 §2): only on an enrolled kiosk of the site.
async fn kiosk_check_in_page(
    State(state): State<AppState>,
    page: Page,
    device: crate::device_registry::web::MaybeDevice,
    Path(code): Path<String>,
) -> AppResult<KioskCheckInPage> {
    let site = site_by_code(&state, &code).await?;
    crate::device_registry::web::kiosk_of(&device, site.id)?;
    Ok(KioskCheckInPage {
        page,
        site: (*site).clone(),
        error: None,
    })
}

#[derive(Debug, Default, Deserialize)]
struct KioskCheckInForm {
    #[serde(default)]
    query: String,
}

/// The holder swipes their ID card (the kiosk's reader fills the number) or scans the booking
/// QR: checked in within the time window and given the priority ticket, printed at once. The
/// staff desk and the API issue the same ticket; one arrival never yields two.
async fn kiosk_check_in(
    State(state): State<AppState>,
    page: Page,
    device: crate::device_registry::web::MaybeDevice,
    Path(code): Path<String>,
    Form(f): Form<KioskCheckInForm>,
) -> AppResult<Response> {
    let site = (*site_by_code(&state, &code).await?).clone();
    let kiosk = crate::device_registry::web::kiosk_of(&device, site.id)?;
    let lang = page.lang;
    let arrived = async {
        let b = booking_at(&state, &site, &f.query).await?;
        arrive(&state, Arrival::Kiosk(kiosk), &site, &b).await
    }
    .await;
    match arrived {
        Ok(t) => Ok(Redirect::to(&format!("/tickets/{}/print", t.token)).into_response()),
        Err(Failure::Refused(e)) => Ok((
            e.status(),
            KioskCheckInPage {
                page,
                site,
                error: Some(e.message(lang)),
            },
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn staff_check_in(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Form(f): Form<CheckInForm>,
) -> AppResult<Response> {
    let site = staff_site(&state, &actor, Some(&f.site)).await?;
    let lang = page.lang;
    let r = async {
        let b = booking_at(&state, &site, &f.query).await?;
        let ticket = arrive(&state, Arrival::Desk(&super::desk(&actor)?), &site, &b).await?;
        Ok(match lang {
            Lang::ZhCn => format!("预约 {} 已签到（{}），优先号 {}，请引导至预约窗口，无需排队。", b.code, hhmm(b.start_minute), ticket.number),
            Lang::En => format!(
                "Booking {} checked in ({}); priority ticket {}: send the citizen to an appointment window, no queuing.",
                b.code,
                hhmm(b.start_minute),
                ticket.number
            ),
        })
    }
    .await;
    day_outcome(&state, page, &actor, site, r).await
}

#[derive(Debug, Deserialize)]
struct LiftForm {
    site: String,
    id_number: String,
    reason: String,
}

/// Lifting a no-show block is for the site's duty leader, officers and administrators.
fn may_lift_blocks(actor: &Actor, site: &Site) -> AppResult<()> {
    if actor.may::<LiftBlock>(site.id) {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

async fn staff_lift_block(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Form(f): Form<LiftForm>,
) -> AppResult<Response> {
    let site = staff_site(&state, &actor, Some(&f.site)).await?;
    may_lift_blocks(&actor, &site)?;
    let done = page.lang.pick(
        "已解除该身份证号的网上预约限制。",
        "The online-booking block on this ID number is lifted.",
    );
    let r = super::lift_block(
        &state.booking(),
        &super::lifter(&actor)?,
        &f.id_number,
        &f.reason,
    )
    .await
    .map(|()| done.to_string());
    day_outcome(&state, page, &actor, site, r).await
}

/// Renders today's list at a site with the outcome of a staff action on it.
async fn day_outcome(
    state: &AppState,
    page: Page,
    actor: &Actor,
    site: Site,
    r: Result<String, Failure<BookingError>>,
) -> AppResult<Response> {
    let lang = page.lang;
    let today = state.clock.today().to_string();
    match r {
        Ok(msg) => Ok(render_day(state, page, actor, site, today, Some(msg), None)
            .await?
            .into_response()),
        Err(Failure::Refused(e)) => {
            let status = if e == BookingError::NotFoundToday {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let body =
                render_day(state, page, actor, site, today, None, Some(e.message(lang))).await?;
            Ok((status, body).into_response())
        }
        Err(other) => Err(AppError::from(other)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/sms.html")]
struct SmsPage {
    page: Page,
    rows: Vec<(String, String, String)>,
}

async fn sms_log(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
) -> AppResult<SmsPage> {
    actor.admin().ok_or_else(AppError::forbidden)?;
    Ok(SmsPage {
        rows: crate::notify::recent_sms(&state.db, 200).await?,
        page,
    })
}

// ---- JSON API --------------------------------------------------------------------------------

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct AvailabilityQuery {
    /// Four-digit site code.
    site: crate::web::fields::SiteCodeText,
    /// Business line code, e.g. `first_issue`.
    line: String,
    /// YYYY-MM-DD.
    #[param(format = Date)]
    date: String,
    /// Channel asking (decides the quota pool): web, mobile or kiosk.
    channel: Option<Channel>,
}

/// A day's slots with the places left for the asking channel.
#[utoipa::path(get, path = "/api/v1/appointments/availability", tag = "appointments", params(AvailabilityQuery),
    responses((status = 200, body = DayAvailability), (status = 422, body = crate::error::ErrorBody)))]
async fn api_availability(
    State(state): State<AppState>,
    lang: Lang,
    Query(q): Query<AvailabilityQuery>,
) -> AppResult<axum::Json<DayAvailability>> {
    let site = site_by_code(&state, &q.site).await?;
    let date = parse_date(&q.date)?;
    let channel = q.channel.filter(|c| !c.is_staff()).unwrap_or(Channel::Web);
    Ok(axum::Json(
        super::availability(&state.booking(), &site, &q.line, date, channel, lang).await?,
    ))
}

/// Books a slot. Send an `Idempotency-Key` header: a retried request with the same key returns
/// the first booking instead of making a second. Staff channels (phone, onsite) need a session.
#[utoipa::path(post, path = "/api/v1/appointments", tag = "appointments", request_body = BookRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key, 8–100 characters")),
    responses((status = 201, body = Confirmation),
              (status = 401, description = "A staff channel (phone, on-site) without a staff session", body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn api_book(
    State(state): State<AppState>,
    lang: Lang,
    Meta(meta): Meta,
    staff: crate::web::extract::MaybeStaff,
    headers: HeaderMap,
    Json(mut req): Json<BookRequest>,
) -> AppResult<Response> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| (8..=100).contains(&k.len()));
    let actor = staff.0.as_ref();
    if req.channel.is_staff() {
        let a = actor.ok_or_else(AppError::not_signed_in)?;
        let slot = store::slot(state.db.reader(), req.slot_id)
            .await?
            .ok_or_else(|| AppError::invalid(BookingError::NoSuchSlot))?;
        require_booking_staff(a, slot.site_id)?;
    } else if let Err(wait) = state
        .limits
        .check(
            Scope::Booking,
            &meta.ip,
            Some(state.cipher.blind_index(req.id_number.trim()).newest()),
        )
        .await
    {
        return Err(AppError::too_many(BookingError::RateLimited, wait));
    }
    req.lang = req.lang.or(Some(lang));
    let grant = actor
        .filter(|_| req.channel.is_staff())
        .and_then(Actor::grant::<BookingDesk>);
    let c = super::book(&state.booking(), grant.as_ref(), req, key).await?;
    Ok((StatusCode::CREATED, axum::Json(c)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct OwnBooking {
    code: crate::web::fields::BookingCodeText,
    id_number: crate::web::fields::IdNumberText,
}

/// Looks a booking up by its code and the ID number it was made with.
#[utoipa::path(post, path = "/api/v1/appointments/lookup", tag = "appointments", request_body = OwnBooking,
    responses((status = 200, body = Confirmation), (status = 404, body = crate::error::ErrorBody),
        (status = 423, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn api_lookup(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Json(req): Json<OwnBooking>,
) -> AppResult<axum::Json<Confirmation>> {
    let ctx = state.booking();
    let b = own_booking(&state, &meta.ip, &req.code, &req.id_number).await?;
    Ok(axum::Json(super::confirmation(&ctx, &b).await?))
}

/// Cancels a booking (code + ID number). The place is offered again after a short delay.
#[utoipa::path(post, path = "/api/v1/appointments/cancel", tag = "appointments", request_body = OwnBooking,
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
        (status = 423, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn api_cancel(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Json(req): Json<OwnBooking>,
) -> AppResult<StatusCode> {
    let ctx = state.booking();
    let b = own_booking(&state, &meta.ip, &req.code, &req.id_number).await?;
    super::cancel(&ctx, None, &b, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct RescheduleRequest {
    code: crate::web::fields::BookingCodeText,
    id_number: crate::web::fields::IdNumberText,
    slot_id: i64,
}

/// Moves a booking to another slot (a new code is issued; the old one is cancelled).
#[utoipa::path(post, path = "/api/v1/appointments/reschedule", tag = "appointments", request_body = RescheduleRequest,
    responses((status = 200, body = Confirmation), (status = 409, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 423, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn api_reschedule(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Json(req): Json<RescheduleRequest>,
) -> AppResult<axum::Json<Confirmation>> {
    let ctx = state.booking();
    let b = own_booking(&state, &meta.ip, &req.code, &req.id_number).await?;
    Ok(axum::Json(super::reschedule(&ctx, &b, req.slot_id).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct CheckedIn {
    code: String,
    status: Status,
    /// The appointment-class ticket issued for the arrival (called before the normal queue).
    ticket_number: String,
    /// The ticket's token (`GET /api/v1/tickets/{token}` follows it).
    ticket_token: String,
}

/// Marks today's booking arrived (staff at the site).
#[utoipa::path(post, path = "/api/v1/appointments/{code}/check-in", tag = "appointments",
    params(("code" = crate::web::fields::BookingCodeText, Path, description = "Booking code")),
    responses((status = 200, body = CheckedIn), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn api_check_in(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(code): Path<crate::web::fields::BookingCodeText>,
) -> AppResult<axum::Json<CheckedIn>> {
    let b = store::booking_by_code(state.db.reader(), &code.to_uppercase())
        .await?
        .ok_or_else(AppError::not_found)?;
    require_booking_staff(&actor, b.site_id)?;
    let site = crate::sites::site(state.db.reader(), b.site_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let ticket = arrive(&state, Arrival::Desk(&super::desk(&actor)?), &site, &b).await?;
    Ok(axum::Json(CheckedIn {
        code: b.code,
        status: Status::Arrived,
        ticket_number: ticket.number,
        ticket_token: ticket.token,
    }))
}

/// What a kiosk read or scanned: the booking code (QR) or the holder's ID number (card).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct KioskCheckInJson {
    #[schema(
        pattern = "^([A-Za-z0-9]{8}|[0-9]{17}[0-9Xx])$",
        example = "110101199204180604"
    )]
    query: String,
}

/// Checks in an appointment at the calling kiosk's site (the JSON twin of the kiosk page, for
/// kiosks that are not browsers): the same time-window checks and the same one priority ticket
/// as the desk; the kiosk prints it.
#[utoipa::path(post, path = "/api/v1/devices/me/check-in", tag = "appointments",
    request_body = KioskCheckInJson,
    responses((status = 200, body = CheckedIn), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn api_kiosk_check_in(
    State(state): State<AppState>,
    crate::device_registry::web::Device(device): crate::device_registry::web::Device,
    Json(b): Json<KioskCheckInJson>,
) -> AppResult<axum::Json<CheckedIn>> {
    let site = crate::sites::site(state.db.reader(), device.site_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let device = crate::device_registry::web::MaybeDevice(Some(device));
    let kiosk = crate::device_registry::web::kiosk_of(&device, site.id)?;
    let booking = booking_at(&state, &site, &b.query).await?;
    let ticket = arrive(&state, Arrival::Kiosk(kiosk), &site, &booking).await?;
    Ok(axum::Json(CheckedIn {
        code: booking.code,
        status: Status::Arrived,
        ticket_number: ticket.number,
        ticket_token: ticket.token,
    }))
}

// ---- administration --------------------------------------------------------------------------

pub struct LineSettings {
    pub code: String,
    pub name: String,
    pub s: super::SlotSettings,
    pub open_at: String,
}

pub struct CapacityView {
    pub line: String,
    pub from: String,
    pub to: String,
    pub extra: String,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/appointments.html")]
struct SettingsPage {
    page: Page,
    site: Site,
    lines: Vec<LineSettings>,
    line_choices: Vec<Choice>,
    capacity: Vec<CapacityView>,
    closures: Vec<(String, String, String)>,
    message: Option<String>,
    error: Option<String>,
}

async fn settings_page(
    state: &AppState,
    page: Page,
    site_id: i64,
    message: Option<String>,
    error: Option<String>,
) -> AppResult<SettingsPage> {
    let lang = page.lang;
    let site = crate::sites::site(state.db.reader(), site_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let ctx = state.booking();
    let mut lines = Vec::new();
    for l in state.lines.bookable() {
        let s = super::settings_for(&ctx, site.id, &l.code).await?;
        lines.push(LineSettings {
            code: l.code.clone(),
            name: l.name(lang).to_string(),
            open_at: hhmm(s.open_at_minute),
            s,
        });
    }
    let today = state.clock.today().to_string();
    let name = |c: &str| {
        state
            .lines
            .get(c)
            .map(|l| l.name(lang).to_string())
            .unwrap_or_else(|| c.to_string())
    };
    let capacity = store::capacity_changes(state.db.reader(), site.id, &today)
        .await?
        .into_iter()
        .map(|c| CapacityView {
            line: name(&c.line_code),
            from: c.from_date,
            to: c.to_date,
            extra: format!("+{} / +{} / +{}", c.extra.0, c.extra.1, c.extra.2),
            reason: c.reason,
        })
        .collect();
    let closures = store::closures(state.db.reader(), site.id, &today).await?;
    let line_choices = state
        .lines
        .bookable()
        .map(|l| Choice {
            value: l.code.clone(),
            label: l.name(lang).to_string(),
            selected: false,
        })
        .collect();
    Ok(SettingsPage {
        page,
        site,
        lines,
        line_choices,
        capacity,
        closures,
        message,
        error,
    })
}

async fn admin_settings_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
) -> AppResult<SettingsPage> {
    actor.admin_of(id).ok_or_else(AppError::forbidden)?;
    settings_page(&state, page, id, None, None).await
}

#[derive(Debug, Deserialize)]
struct SettingsForm {
    line: String,
    slot_minutes: i64,
    quota_online: i64,
    quota_phone: i64,
    quota_onsite: i64,
    open_days_ahead: i64,
    open_at: String,
    close_minutes_before: i64,
    release_delay_seconds: i64,
}

async fn outcome(
    state: &AppState,
    page: Page,
    id: i64,
    r: Result<String, Failure<BookingError>>,
) -> AppResult<Response> {
    let lang = page.lang;
    match r {
        Ok(msg) => Ok(settings_page(state, page, id, Some(msg), None)
            .await?
            .into_response()),
        Err(Failure::Refused(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            settings_page(state, page, id, None, Some(e.message(lang))).await?,
        )
            .into_response()),
        Err(other) => Err(AppError::from(other)),
    }
}

async fn admin_settings_submit(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(f): Form<SettingsForm>,
) -> AppResult<Response> {
    let admin = actor.admin_of(id).ok_or_else(AppError::forbidden)?;
    let saved = page
        .lang
        .pick(
            "预约设置已保存，已生成的时段名额同步更新。",
            "Settings saved; generated slots took the new places.",
        )
        .to_string();
    let r = match crate::catalog::lines::parse_hhmm(&f.open_at) {
        Some(open_at_minute) => {
            let s = super::SlotSettings {
                slot_minutes: f.slot_minutes,
                quota_online: f.quota_online,
                quota_phone: f.quota_phone,
                quota_onsite: f.quota_onsite,
                open_days_ahead: f.open_days_ahead,
                open_at_minute,
                close_minutes_before: f.close_minutes_before,
                release_delay_seconds: f.release_delay_seconds,
            };
            super::update_settings(&state.booking(), admin, id, &f.line, s)
                .await
                .map(|_| saved)
        }
        None => Err(Failure::Refused(BookingError::BadSettings)),
    };
    outcome(&state, page, id, r).await
}

/// Peak capacity as the administrator's form and the JSON API send it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct CapacityForm {
    line: String,
    /// First and last day, `YYYY-MM-DD`.
    #[schema(format = Date)]
    from: String,
    #[schema(format = Date)]
    to: String,
    /// Extra places per slot in each pool.
    extra_online: i64,
    extra_phone: i64,
    extra_onsite: i64,
    reason: String,
}

impl CapacityForm {
    fn change(self) -> store::CapacityChange {
        store::CapacityChange {
            line_code: self.line,
            from_date: self.from,
            to_date: self.to,
            extra: (self.extra_online, self.extra_phone, self.extra_onsite),
            reason: self.reason,
        }
    }
}

async fn admin_capacity_submit(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(f): Form<CapacityForm>,
) -> AppResult<Response> {
    let admin = actor.admin_of(id).ok_or_else(AppError::forbidden)?;
    let change = f.change();
    let done = page
        .lang
        .pick("已增加高峰名额。", "Peak capacity added.")
        .to_string();
    let r = super::add_capacity(&state.booking(), admin, id, change)
        .await
        .map(|_| done);
    outcome(&state, page, id, r).await
}

#[derive(Debug, Deserialize)]
struct CloseDayForm {
    date: String,
    reason_zh: String,
    reason_en: String,
}

async fn admin_close_day_submit(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Form(f): Form<CloseDayForm>,
) -> AppResult<Response> {
    let admin = actor.admin_of(id).ok_or_else(AppError::forbidden)?;
    let site = crate::sites::site(state.db.reader(), id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let lang = page.lang;
    let r = match f.date.trim().parse::<Date>() {
        Ok(date) => super::close_day(&state.booking(), admin, &site, date, &f.reason_zh, &f.reason_en).await.map(|c| {
            let (n, m) = (c.cancelled, c.offered);
            match lang {
                Lang::ZhCn => format!("{date} 已闭厅，{n} 个预约已取消，其中 {m} 个已为市民保留之后最近的时间；每位市民收到一条短信。"),
                Lang::En => format!("{date} is closed; {n} bookings were cancelled, {m} of them moved to the nearest later time held for the citizen; each citizen gets one text message."),
            }
        }),
        Err(_) => Err(Failure::Refused(BookingError::BadSettings)),
    };
    outcome(&state, page, id, r).await
}

// ---- the remaining steps as JSON (issue 12 item 12) ------------------------------------------

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct WaitlistJson {
    /// Four-digit site code.
    site: crate::web::fields::SiteCodeText,
    line: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    date: String,
    id_number: crate::web::fields::IdNumberText,
    phone: crate::web::fields::PhoneText,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct WaitlistJoined {
    /// False when this ID number was already waiting for that day.
    joined: bool,
}

/// Joins the waiting list of a full day; the citizen is texted when a place frees.
#[utoipa::path(post, path = "/api/v1/appointments/waitlist", tag = "appointments",
    request_body = WaitlistJson, responses((status = 200, body = WaitlistJoined)))]
async fn api_waitlist(
    State(state): State<AppState>,
    lang: Lang,
    Meta(meta): Meta,
    Json(b): Json<WaitlistJson>,
) -> AppResult<axum::Json<WaitlistJoined>> {
    state
        .limits
        .check(Scope::Booking, &meta.ip, None)
        .await
        .map_err(|w| AppError::too_many(BookingError::RateLimited, w))?;
    let site = site_by_code(&state, &b.site).await?;
    let date = parse_date(&b.date)?;
    let joined = super::join_waitlist(
        &state.booking(),
        &site,
        &b.line,
        date,
        &b.id_number,
        &b.phone,
        lang,
    )
    .await?;
    Ok(axum::Json(WaitlistJoined { joined }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct LiftJson {
    /// Site code where the officer works.
    site: crate::web::fields::SiteCodeText,
    id_number: crate::web::fields::IdNumberText,
    /// Why the no-show block is lifted (recorded).
    reason: String,
}

/// Lifts the online-booking block of an ID number after no-shows (duty leader, officer or
/// administrator of the site), with a reason.
#[utoipa::path(post, path = "/api/v1/appointments/blocks/lift", tag = "appointments",
    request_body = LiftJson, responses((status = 204)))]
async fn api_lift_block(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Json(b): Json<LiftJson>,
) -> AppResult<StatusCode> {
    let site = staff_site(&state, &actor, Some(&b.site)).await?;
    may_lift_blocks(&actor, &site)?;
    super::lift_block(
        &state.booking(),
        &super::lifter(&actor)?,
        &b.id_number,
        &b.reason,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct CloseDayJson {
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    date: String,
    reason_zh: String,
    reason_en: String,
}

/// Closes a site for a day (its administrators): bookings cancelled and moved to the nearest
/// later time, each citizen texted once.
#[utoipa::path(post, path = "/api/v1/admin/sites/{code}/closures", tag = "administration",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Four-digit site code")),
    request_body = CloseDayJson, responses((status = 201, body = super::DayClosed)))]
async fn api_close_day(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(code): Path<crate::web::fields::SiteCodeText>,
    Json(b): Json<CloseDayJson>,
) -> AppResult<(StatusCode, axum::Json<super::DayClosed>)> {
    let site = crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    let admin = actor.admin_of(site.id).ok_or_else(AppError::forbidden)?;
    let date = parse_date(&b.date)?;
    let closed = super::close_day(
        &state.booking(),
        admin,
        &site,
        date,
        &b.reason_zh,
        &b.reason_en,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(closed)))
}

/// Adds peak capacity to a line for some days (its administrators); the waiting list is told.
#[utoipa::path(post, path = "/api/v1/admin/sites/{code}/capacity", tag = "administration",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Four-digit site code")),
    request_body = CapacityForm, responses((status = 204)))]
async fn api_add_capacity(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(code): Path<crate::web::fields::SiteCodeText>,
    Json(b): Json<CapacityForm>,
) -> AppResult<StatusCode> {
    let site = crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    let admin = actor.admin_of(site.id).ok_or_else(AppError::forbidden)?;
    super::add_capacity(&state.booking(), admin, site.id, b.change()).await?;
    Ok(StatusCode::NO_CONTENT)
}
