//! Operations endpoints: health, Prometheus metrics, static files.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// Installs the process-wide Prometheus recorder once and returns its handle.
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new().install_recorder().ok();
            if let Some(h) = &handle {
                super::front::RequestMetrics::enable();
                // The recorder keeps every histogram sample until something drains it: a
                // scrape of `/metrics` does, and so must this, or a hall nobody scrapes grows
                // by 16 bytes a request (33 MiB a minute under the issue-17 load). Five
                // seconds is the interval the crate's own exporter uses.
                let h = h.clone();
                let spawned = std::thread::Builder::new()
                    .name("metrics-upkeep".into())
                    .spawn(move || {
                        loop {
                            std::thread::sleep(std::time::Duration::from_secs(5));
                            h.run_upkeep();
                        }
                    });
                if let Err(e) = spawned {
                    tracing::warn!(error = %e, "metrics upkeep not started; histograms drain only when scraped");
                }
            }
            handle
        })
        .clone()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/static/app.css", get(css))
        .route("/static/print.js", get(print_js))
}

/// The print buttons' script (no inline handlers under the content-security policy).
async fn print_js() -> axum::response::Response {
    crate::web::script_response(include_str!("../../static/print.js"))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(livez))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub engine: &'static str,
    pub database: &'static str,
    pub version: &'static str,
    /// How far the hall's horizons reach into years without the State Council's holiday
    /// notice (issue 11): `warning` inside 60 days, never a failure.
    pub calendar: CalendarHealth,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CalendarHealth {
    /// `ok` or `warning`.
    pub status: &'static str,
    pub outlook: crate::calendar::outlook::Outlook,
    /// The warning in English, when there is one.
    pub message: Option<String>,
    /// Entered notices kept out because they fail the checks.
    pub problems: Vec<String>,
}

/// The calendar outlook of this hall now: the longest booking window (the default, or a
/// site's own) and the catalog's time limits counted from today on the calendar in force.
pub fn calendar_outlook(state: &AppState) -> crate::calendar::outlook::Outlook {
    crate::calendar::outlook::outlook(
        &state.calendar.current(),
        &crate::domain::calendar::CountingRules {
            count_adjusted_workdays: state.config.count_adjusted_workdays,
        },
        &state.catalog,
        state.clock.today(),
        state
            .lines
            .defaults
            .open_days_ahead
            .max(state.calendar.booking_reach()),
    )
}

/// Liveness: the process answers, without touching the database — for a supervisor deciding
/// whether to restart the process (a database outage is not cured by a restart), and the
/// benchmarks' measure of the web stack's own ceiling.
#[utoipa::path(get, path = "/livez", tag = "operations", responses((status = 200, description = "alive")))]
async fn livez() -> &'static str {
    "ok"
}

/// Readiness: the process answers and its database answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn healthz(State(state): State<AppState>) -> Response {
    let engine = match state.db.engine() {
        crate::db::Engine::Sqlite => "sqlite",
        crate::db::Engine::Postgres => "postgres",
    };
    let ok = state.db.ping().await.is_ok();
    if let Err(e) = state
        .calendar
        .refresh_booking_reach_if_stale(&state.db, state.clock.now_ms())
        .await
    {
        tracing::debug!(error = %e, "cannot read the booking windows for the calendar outlook");
    }
    let outlook = calendar_outlook(&state);
    let calendar = CalendarHealth {
        status: if outlook.warning { "warning" } else { "ok" },
        message: outlook.message(crate::i18n::Lang::En),
        outlook,
        problems: state.calendar.problems(),
    };
    let body = Health {
        calendar,
        status: if ok { "ok" } else { "degraded" },
        engine,
        database: if ok { "up" } else { "down" },
        version: env!("CARGO_PKG_VERSION"),
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// Whether this request may read the metrics: from a configured address, or with the
/// configured bearer token (issue 12 item 10: they tell load, errors and who is busy).
fn may_read_metrics(state: &AppState, ip: &str, headers: &axum::http::HeaderMap) -> bool {
    let token = state.config.metrics_token.as_str();
    if !token.is_empty()
        && let Some(given) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        && crate::crypto::constant_time_eq(given.trim(), token)
    {
        return true;
    }
    let Ok(addr) = ip.parse::<std::net::IpAddr>() else {
        return false;
    };
    state
        .config
        .metrics_networks()
        .unwrap_or_default()
        .iter()
        .any(|n| n.contains(&addr))
}

async fn metrics(
    State(state): State<AppState>,
    super::extract::Meta(meta): super::extract::Meta,
    headers: axum::http::HeaderMap,
) -> Response {
    if !may_read_metrics(&state, &meta.ip, &headers) {
        return crate::error::AppError::forbidden().into_response();
    }
    // Days left before a horizon reaches a year without a notice (negative: already inside).
    if let Err(e) = state
        .calendar
        .refresh_booking_reach_if_stale(&state.db, state.clock.now_ms())
        .await
    {
        tracing::debug!(error = %e, "cannot read the booking windows for the calendar outlook");
    }
    if let Some(days) = calendar_outlook(&state).provisional_days_ahead {
        metrics::gauge!("onetrip_calendar_provisional_days_ahead").set(days as f64);
    }
    match &state.metrics {
        Some(h) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            )],
            h.render(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn css() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}
