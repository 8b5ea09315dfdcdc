//! The duty leader's live hall page, its event stream and its JSON twin.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use serde::Deserialize;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HallNow;
use crate::auth::grant::Lead;
use crate::error::{AppError, AppResult};
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Path, Query, Staff};
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/staff/leader/hall", get(hall_page))
        .route("/staff/leader/hall/events", get(hall_events))
        .route("/static/hall.js", get(hall_js))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_hall))
}

#[derive(Debug, Default, Deserialize)]
struct SiteQuery {
    #[serde(default)]
    site: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/hall.html")]
struct HallPage {
    page: Page,
    sites: Vec<Site>,
    site: Site,
    hall: HallNow,
    /// (code, name) of every business line.
    names: Vec<(String, String)>,
    at: String,
}

impl HallPage {
    fn line_name(&self, code: &str) -> String {
        self.names
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| code.to_string())
    }
    fn total_waiting(&self) -> i64 {
        self.hall.lines.iter().map(|l| l.waiting).sum()
    }
    fn longest(&self) -> i64 {
        self.hall
            .lines
            .iter()
            .map(|l| l.longest_wait_minutes)
            .max()
            .unwrap_or(0)
    }
    fn device_state(&self, d: &crate::device_registry::DeviceState) -> &'static str {
        d.state_name(self.page.lang)
    }
    fn status_name(&self, status: &str) -> &'static str {
        match status {
            "open" => self.page.pick("办理中", "Open"),
            "paused" => self.page.pick("暂停", "Paused"),
            _ => self.page.pick("关闭", "Closed"),
        }
    }
}

async fn hall_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<SiteQuery>,
) -> AppResult<HallPage> {
    actor.grant::<Lead>().ok_or_else(AppError::forbidden)?;
    let (sites, site) = crate::sites::web::duty_sites::<Lead>(&state, &actor, &q.site).await?;
    let hall = super::now(&state.db, &state.clock, site.id).await?;
    let names = state
        .lines
        .all()
        .iter()
        .map(|l| (l.code.clone(), l.name(page.lang).to_string()))
        .collect();
    Ok(HallPage {
        at: crate::clock::format_local(hall.at),
        names,
        page,
        sites,
        site,
        hall,
    })
}

/// `changed` whenever anything happens at the site (a ticket, a call, a window, a payment,
/// an acceptance, an alert), on any node: the page then reads the hall again.
async fn hall_events(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Query(q): Query<SiteQuery>,
) -> AppResult<Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>>> {
    let site = crate::sites::site_by_code(state.db.reader(), q.site.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    if !actor.may::<Lead>(site.id) {
        return Err(AppError::forbidden());
    }
    let site_id = site.id;
    let stream = BroadcastStream::new(state.db.subscribe()).filter_map(move |e| {
        let e = e.ok()?;
        // After the node's listener restarted, changes from other nodes may have been missed.
        (e.topic == crate::db::RESUMED
            || e.payload.get("site").and_then(|s| s.as_i64()) == Some(site_id))
        .then(|| Ok(Event::default().event("changed").data("{}")))
    });
    let stream =
        futures_util::StreamExt::take_until(stream, crate::web::stopped(state.stop.clone()));
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn hall_js() -> Response {
    crate::web::script_response(include_str!("../../static/hall.js"))
}

/// The hall of a site now (its duty leaders).
#[utoipa::path(get, path = "/api/v1/sites/{code}/hall", tag = "statistics",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Site code")),
    responses((status = 200, body = HallNow), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
async fn api_hall(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(code): Path<crate::web::fields::SiteCodeText>,
) -> AppResult<axum::Json<HallNow>> {
    let site = crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    if !actor.may::<Lead>(site.id) {
        return Err(AppError::forbidden());
    }
    Ok(axum::Json(
        super::now(&state.db, &state.clock, site.id).await?,
    ))
}
