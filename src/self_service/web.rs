//! Pages and API of self-service endorsement: the kiosk's screens (place the permit, choose,
//! pay by QR, the card written and the receipt) and their JSON twins for a kiosk that is not a
//! browser. Only an enrolled kiosk of the site opens them; a session belongs to its kiosk.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::station::TestPermit;
use super::{Finished, SessionState, SessionView, Started};
use crate::applications::web::yuan;
use crate::auth::Failure;
use crate::device_registry::web::{Device, MaybeDevice, NotAKiosk, kiosk_of};
use crate::device_registry::{DeviceRow, Kind};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, UserMessage};
use crate::payments::Method;
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Form, Json, Path, Query};
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/kiosk/{site}/endorse", get(start_page).post(start_submit))
        .route("/kiosk/{site}/endorse/sim-permit", post(sim_place))
        .route("/kiosk/{site}/endorse/result/{kind}", get(result_page))
        .route("/kiosk/{site}/endorse/{token}", get(session_page))
        .route("/kiosk/{site}/endorse/{token}/choose", post(choose_submit))
        .route("/kiosk/{site}/endorse/{token}/finish", post(finish_submit))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_start))
        .routes(routes!(api_view))
        .routes(routes!(api_choose))
        .routes(routes!(api_write))
}

impl AppState {
    /// Everything self-service endorsement needs.
    pub fn self_service(&self) -> super::Ctx<'_> {
        super::Ctx {
            app: self.applications(),
            pay: self.payments(),
            station: self.devices.self_service.as_ref(),
            leader_phone: crate::domain::phone::PhoneNumber::parse(&self.config.duty_leader_phone)
                .ok(),
        }
    }
}

async fn kiosk_site(state: &AppState, code: &str) -> AppResult<Site> {
    crate::sites::site_by_code(state.db.reader(), code)
        .await?
        .filter(|s| s.active)
        .ok_or_else(AppError::not_found)
}

// ---- kiosk pages ---------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "kiosk_endorse.html")]
struct EndorsePage {
    page: Page,
    site: Site,
    /// `start`, `window`, `face`, or a session state's code.
    screen: &'static str,
    view: Option<SessionView>,
    error: Option<String>,
    /// The demo's test permits (simulator only): (code, label, placed).
    test_permits: Vec<(&'static str, &'static str, bool)>,
    order: Option<crate::payments::OnlineOrder>,
    phone: String,
}

impl EndorsePage {
    fn yuan(&self, fen: &i64) -> String {
        yuan(*fen)
    }
    fn entries(&self, e: &Option<u32>) -> String {
        match (e, self.page.lang) {
            (Some(n), Lang::ZhCn) => format!("{n}次"),
            (Some(1), Lang::En) => "1 entry".into(),
            (Some(n), Lang::En) => format!("{n} entries"),
            (None, lang) => lang.pick("多次", "multiple entries").into(),
        }
    }
    fn refusal(&self, r: &super::eligibility::Refusal) -> String {
        r.message(self.page.lang)
    }
}

fn test_permits(
    state: &AppState,
    device: &DeviceRow,
    lang: Lang,
) -> Vec<(&'static str, &'static str, bool)> {
    match &state.devices.self_service_simulator {
        Some(sim) => {
            let placed = sim.placed(device.id);
            TestPermit::ALL
                .into_iter()
                .map(|t| (t.code(), t.label(lang), t == placed))
                .collect()
        }
        None => Vec::new(),
    }
}

fn blank(page: Page, site: Site, screen: &'static str) -> EndorsePage {
    EndorsePage {
        page,
        site,
        screen,
        view: None,
        error: None,
        test_permits: Vec::new(),
        order: None,
        phone: String::new(),
    }
}

async fn start_page(
    State(state): State<AppState>,
    page: Page,
    device: MaybeDevice,
    Path(code): Path<String>,
) -> AppResult<EndorsePage> {
    let site = kiosk_site(&state, &code).await?;
    let d = kiosk_of(&device, site.id)?;
    // Back at the start: whatever was read and not chosen ends, chip data and all.
    super::kiosk_wiped(&state.db, &state.clock, d.id).await?;
    let mut p = blank(page, site, "start");
    p.test_permits = test_permits(&state, d, p.page.lang);
    if d.faults()
        .contains(&crate::device_registry::Fault::CardWriterFault)
    {
        p.error = Some(
            p.page
                .pick(
                    "本机写卡器暂时故障，不能办理自助签注：请到其他自助机或窗口办理。",
                    "This kiosk's card writer is out of order: please use another kiosk or a window.",
                )
                .into(),
        );
    }
    Ok(p)
}

async fn start_submit(
    State(state): State<AppState>,
    page: Page,
    device: MaybeDevice,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let site = kiosk_site(&state, &code).await?;
    let d = kiosk_of(&device, site.id)?.clone();
    match super::start(&state.self_service(), &d, &site).await {
        Ok(Started::Read { token }) => {
            Ok(Redirect::to(&format!("/kiosk/{}/endorse/{token}", site.code)).into_response())
        }
        // Redirected, so that reloading the answer never reads the permit (and alerts) again.
        Ok(Started::GoToWindow) => Ok(Redirect::to(&format!(
            "/kiosk/{}/endorse/result/window",
            site.code
        ))
        .into_response()),
        Ok(Started::FaceMismatch) => {
            Ok(Redirect::to(&format!("/kiosk/{}/endorse/result/face", site.code)).into_response())
        }
        Err(Failure::Refused(e)) => {
            let mut p = blank(page, site, "start");
            p.test_permits = test_permits(&state, &d, p.page.lang);
            p.error = Some(e.message(p.page.lang));
            Ok((e.status(), p).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// The answer to a read that went no further: "go to a window" or "the face did not match".
async fn result_page(
    State(state): State<AppState>,
    page: Page,
    device: MaybeDevice,
    Path((code, kind)): Path<(String, String)>,
) -> AppResult<EndorsePage> {
    let site = kiosk_site(&state, &code).await?;
    kiosk_of(&device, site.id)?;
    let screen = match kind.as_str() {
        "window" => "window",
        "face" => "face",
        _ => return Err(AppError::not_found()),
    };
    Ok(blank(page, site, screen))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PlaceForm {
    permit: String,
}

/// The demo's "put a test permit on the reader" (simulator only).
async fn sim_place(
    State(state): State<AppState>,
    device: MaybeDevice,
    Path(code): Path<String>,
    Form(f): Form<PlaceForm>,
) -> AppResult<Redirect> {
    let site = kiosk_site(&state, &code).await?;
    let d = kiosk_of(&device, site.id)?;
    let sim = state
        .devices
        .self_service_simulator
        .as_ref()
        .ok_or_else(AppError::not_found)?;
    let permit = TestPermit::parse(&f.permit).ok_or_else(AppError::not_found)?;
    sim.place(d.id, permit);
    Ok(Redirect::to(&format!("/kiosk/{}/endorse", site.code)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SessionQuery {
    order: String,
}

async fn session_screen(
    state: &AppState,
    page: Page,
    site: Site,
    d: &DeviceRow,
    token: &str,
    order: Option<String>,
) -> AppResult<EndorsePage> {
    let view = super::view(&state.self_service(), d, token, page.lang).await?;
    let screen = view.state.code();
    // The QR of the pending order, when the kiosk is waiting for the payment.
    let order = match (view.state, order) {
        (SessionState::Chosen, Some(o)) if !view.paid => {
            match crate::payments::payment_by_order(state.db.reader(), &o).await? {
                Some(p) if Some(p.application_id) == application_id(state, &view).await? => {
                    Some(crate::payments::OnlineOrder {
                        order_no: p.order_no,
                        amount_fen: p.amount_fen,
                        pay_url: String::new(),
                    })
                }
                _ => None,
            }
        }
        _ => None,
    };
    let mut p = blank(page, site, screen);
    p.view = Some(view);
    p.order = order;
    Ok(p)
}

async fn application_id(state: &AppState, view: &SessionView) -> AppResult<Option<i64>> {
    Ok(match &view.application_no {
        Some(no) => crate::applications::application_by_no(state.db.reader(), no)
            .await?
            .map(|a| a.id),
        None => None,
    })
}

async fn session_page(
    State(state): State<AppState>,
    page: Page,
    device: MaybeDevice,
    Path((code, token)): Path<(String, String)>,
    Query(q): Query<SessionQuery>,
) -> AppResult<EndorsePage> {
    let site = kiosk_site(&state, &code).await?;
    let d = kiosk_of(&device, site.id)?.clone();
    let order = Some(q.order).filter(|o| !o.is_empty());
    session_screen(&state, page, site, &d, &token, order).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChooseForm {
    option: String,
    phone: String,
    method: String,
}

async fn choose_submit(
    State(state): State<AppState>,
    page: Page,
    device: MaybeDevice,
    Path((code, token)): Path<(String, String)>,
    Form(f): Form<ChooseForm>,
) -> AppResult<Response> {
    let site = kiosk_site(&state, &code).await?;
    let d = kiosk_of(&device, site.id)?.clone();
    let lang = page.lang;
    let ctx = state.self_service();
    // Only the page's two buttons send a method; anything else is refused, not guessed.
    let chosen = match Method::parse(&f.method) {
        Some(method) => {
            super::choose(
                &ctx,
                &d,
                &site,
                &token,
                &super::Choice {
                    option_id: &f.option,
                    phone: &f.phone,
                    method,
                },
                lang,
            )
            .await
        }
        None => Err(Failure::Refused(super::SelfServiceError::Method)),
    };
    match chosen {
        Ok(order) => Ok(Redirect::to(&format!(
            "/kiosk/{}/endorse/{token}?order={}",
            site.code, order.order_no
        ))
        .into_response()),
        Err(Failure::Refused(e)) => {
            let mut p = session_screen(&state, page, site, &d, &token, None).await?;
            p.error = Some(e.message(lang));
            p.phone = f.phone;
            Ok((e.status(), p).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

async fn finish_submit(
    State(state): State<AppState>,
    page: Page,
    device: MaybeDevice,
    Path((code, token)): Path<(String, String)>,
    Form(q): Form<SessionQuery>,
) -> AppResult<Response> {
    let site = kiosk_site(&state, &code).await?;
    let d = kiosk_of(&device, site.id)?.clone();
    let lang = page.lang;
    match super::finish(&state.self_service(), &d, &token, lang).await {
        Ok(_) => Ok(Redirect::to(&format!("/kiosk/{}/endorse/{token}", site.code)).into_response()),
        Err(Failure::Refused(e)) => {
            let order = Some(q.order).filter(|o| !o.is_empty());
            let mut p = session_screen(&state, page, site, &d, &token, order).await?;
            p.error = Some(e.message(lang));
            Ok((e.status(), p).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

// ---- API -----------------------------------------------------------------------------------

/// The calling device, which must be a kiosk.
fn kiosk(device: DeviceRow) -> AppResult<DeviceRow> {
    if device.kind == Kind::Kiosk {
        Ok(device)
    } else {
        Err(AppError::new(StatusCode::FORBIDDEN, NotAKiosk))
    }
}

async fn site_of(state: &AppState, device: &DeviceRow) -> AppResult<Site> {
    crate::sites::site(state.db.reader(), device.site_id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Reads the permit on the kiosk's reader, compares the holder's face and runs the checks.
/// `go_to_window` is all a control-list hit says.
#[utoipa::path(post, path = "/api/v1/self-endorsements", tag = "self-service",
    responses((status = 201, body = Started), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody)))]
async fn api_start(
    State(state): State<AppState>,
    Device(device): Device,
) -> AppResult<(StatusCode, axum::Json<Started>)> {
    let device = kiosk(device)?;
    let site = site_of(&state, &device).await?;
    let started = super::start(&state.self_service(), &device, &site).await?;
    Ok((StatusCode::CREATED, axum::Json(started)))
}

/// The session: the permit (masked), every endorsement type with what may be issued or why
/// not, and once chosen the application, payment and write.
#[utoipa::path(get, path = "/api/v1/self-endorsements/{token}", tag = "self-service",
    params(("token" = String, Path, description = "The session's token from the start.")),
    responses((status = 200, body = SessionView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn api_view(
    State(state): State<AppState>,
    page: Page,
    Device(device): Device,
    Path(token): Path<String>,
) -> AppResult<axum::Json<SessionView>> {
    let device = kiosk(device)?;
    Ok(axum::Json(
        super::view(&state.self_service(), &device, &token, page.lang).await?,
    ))
}

/// The citizen's choice.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ChoiceJson {
    /// An offered option's id (from the session's verdicts).
    #[schema(max_length = 64)]
    option_id: String,
    /// For the text messages; may be left out.
    #[serde(default)]
    phone: Option<crate::web::fields::PhoneText>,
    /// `alipay` or `wechat`.
    method: Method,
}

/// Chooses an offered endorsement: the application is accepted by the kiosk with today's fee
/// and an order made with the provider (its QR code is the citizen's to scan).
#[utoipa::path(post, path = "/api/v1/self-endorsements/{token}/choice", tag = "self-service",
    params(("token" = String, Path, description = "The session's token.")),
    request_body = ChoiceJson,
    responses((status = 201, body = crate::payments::OnlineOrder), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn api_choose(
    State(state): State<AppState>,
    page: Page,
    Device(device): Device,
    Path(token): Path<String>,
    Json(b): Json<ChoiceJson>,
) -> AppResult<(StatusCode, axum::Json<crate::payments::OnlineOrder>)> {
    let device = kiosk(device)?;
    let site = site_of(&state, &device).await?;
    let order = super::choose(
        &state.self_service(),
        &device,
        &site,
        &token,
        &super::Choice {
            option_id: &b.option_id,
            phone: b.phone.as_deref().unwrap_or_default(),
            method: b.method,
        },
        page.lang,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(order)))
}

/// Writes the paid endorsement to the card (once, however often it is called); a write that
/// fails is retried and then refunded in full.
#[utoipa::path(post, path = "/api/v1/self-endorsements/{token}/write", tag = "self-service",
    params(("token" = String, Path, description = "The session's token.")),
    responses((status = 200, body = Finished), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
async fn api_write(
    State(state): State<AppState>,
    page: Page,
    Device(device): Device,
    Path(token): Path<String>,
) -> AppResult<axum::Json<Finished>> {
    let device = kiosk(device)?;
    Ok(axum::Json(
        super::finish(&state.self_service(), &device, &token, page.lang).await?,
    ))
}
