//! HTTP: router assembly, shared state, middleware, and the `launch` entry tests drive on port 0.

pub mod extract;
pub mod fields;
pub mod front;
pub mod layout;
pub mod limits;
pub mod middleware;
pub mod openapi;
pub mod ops;

pub use limits::RateLimits;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::catalog::Catalog;
use crate::catalog::lines::Lines;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;
use crate::privacy::Cipher;

/// Everything a request handler may reach, behind one `Arc`: axum clones the state for every
/// middleware layer and extractor of every request, and cloning a dozen `Arc`s each time was a
/// quarter of the server's CPU under load (atomic counters bouncing between cores; profiled in
/// docs/BENCHMARKS.md). Fields are reached through `Deref`.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl From<AppParts> for AppState {
    fn from(parts: AppParts) -> AppState {
        AppState(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;
    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Clone)]
pub struct AppParts {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub catalog: Arc<Catalog>,
    /// The holiday calendar in force (swapped when a notice is entered, on any node).
    pub calendar: Arc<crate::calendar::CalendarHandle>,
    pub lines: Arc<Lines>,
    pub cipher: Arc<Cipher>,
    pub limits: Arc<RateLimits>,
    /// Short-lived copies of each day's slots for availability reads.
    pub days: Arc<crate::booking::DayCache>,
    /// Becomes true when this server begins to shut down, so long-lived streams end; set by
    /// [`launch`] (construct with [`not_stopping`]).
    pub stop: tokio::sync::watch::Receiver<bool>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Device and provider adapters (capture stations, payment provider).
    pub devices: Arc<crate::devices::Devices>,
}

impl AppState {
    /// Everything the appointment use cases need.
    pub fn booking(&self) -> crate::booking::Ctx<'_> {
        crate::booking::Ctx {
            db: &self.db,
            cache: &self.days,
            cipher: &self.cipher,
            clock: &self.clock,
            calendar: &self.calendar,
            lines: &self.lines,
            no_show: crate::booking::NoShowRule {
                limit: self.config.no_show_limit,
                window_days: self.config.no_show_window_days,
                block_days: self.config.no_show_block_days,
                grace_minutes: self.config.no_show_grace_minutes,
            },
        }
    }
}

impl AppState {
    /// Everything the one-form and acceptance use cases need.
    pub fn applications(&self) -> crate::applications::Ctx<'_> {
        crate::applications::Ctx {
            db: &self.db,
            clock: &self.clock,
            cipher: &self.cipher,
            catalog: &self.catalog,
            calendar: &self.calendar,
            counting: crate::domain::calendar::CountingRules {
                count_adjusted_workdays: self.config.count_adjusted_workdays,
            },
            devices: &self.devices,
        }
    }

    /// Everything entering a holiday notice needs: what it recomputes.
    pub fn calendar_admin(&self) -> crate::calendar::Ctx<'_> {
        crate::calendar::Ctx {
            applications: self.applications(),
            booking: self.booking(),
        }
    }

    /// Everything the payment use cases need.
    pub fn payments(&self) -> crate::payments::Ctx<'_> {
        crate::payments::Ctx {
            db: &self.db,
            clock: &self.clock,
            devices: &self.devices,
        }
    }

    /// Everything the queue use cases need.
    pub fn complaints(&self) -> crate::complaints::Ctx<'_> {
        crate::complaints::Ctx {
            db: &self.db,
            clock: &self.clock,
            cipher: &self.cipher,
            calendar: &self.calendar,
            counting: crate::domain::calendar::CountingRules {
                count_adjusted_workdays: self.config.count_adjusted_workdays,
            },
            answer_working_days: self.config.complaint_answer_working_days,
            leader_phone: crate::domain::phone::PhoneNumber::parse(&self.config.duty_leader_phone)
                .ok(),
        }
    }

    /// The complaints' and ratings' lines of the duty leader's daily digest.
    pub async fn leader_digest_extra(&self) -> Result<String, crate::error::AppError> {
        let complaints = crate::complaints::digest_line(&self.complaints()).await?;
        let ratings = crate::ratings::digest_line(&self.ratings()).await?;
        Ok(format!("{complaints}{ratings}"))
    }

    pub fn callbacks(&self) -> crate::callbacks::Ctx<'_> {
        crate::callbacks::Ctx {
            db: &self.db,
            clock: &self.clock,
            cipher: &self.cipher,
            calendar: &self.calendar,
            sample_size: self.config.callback_sample_size,
        }
    }

    pub fn ratings(&self) -> crate::ratings::Ctx<'_> {
        crate::ratings::Ctx {
            db: &self.db,
            clock: &self.clock,
            calendar: &self.calendar,
            counting: crate::domain::calendar::CountingRules {
                count_adjusted_workdays: self.config.count_adjusted_workdays,
            },
            rules: crate::ratings::RatingRules {
                link_days: self.config.rating_link_days,
                evaluator_minutes: self.config.rating_evaluator_minutes,
                followup_working_days: self.config.rating_followup_working_days,
            },
        }
    }

    pub fn queue(&self) -> crate::queue::Ctx<'_> {
        crate::queue::Ctx {
            db: &self.db,
            clock: &self.clock,
            lines: &self.lines,
            rules: crate::queue::QueueRules {
                max_wait_minutes: self.config.max_wait_minutes,
                max_calls: self.config.max_calls,
            },
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "onetrip",
        description = "Exit-entry administration service hall: public information, staff and administration. \
                       Errors are `{\"code\", \"message\"}` with the message in the language of `Accept-Language` \
                       (zh-CN by default, en).",
        version = "1"
    ),
    components(schemas(crate::error::ErrorBody))
)]
pub struct ApiDoc;

/// The whole application: pages, JSON API, operations endpoints, middleware.
pub fn app(state: AppState) -> Router {
    let (api, mut openapi) = api_router().split_for_parts();
    openapi::tell_truth(&mut openapi);
    let openapi = Arc::new(openapi);
    let pages = Router::new()
        .merge(crate::portal::web::routes())
        .merge(crate::auth::web::pages())
        .merge(crate::sites::web::pages())
        .merge(crate::calendar::pages::pages())
        .merge(crate::booking::web::pages())
        .merge(crate::queue::web::pages())
        .merge(crate::ratings::web::pages())
        .merge(crate::complaints::web::pages())
        .merge(crate::callbacks::web::pages())
        .merge(crate::error_rate::web::pages())
        .merge(crate::staffing::web::pages())
        .merge(crate::reports::web::pages())
        .merge(crate::hall::web::pages())
        .merge(crate::supervision::web::pages())
        .merge(crate::device_registry::web::pages())
        .merge(crate::self_service::web::pages())
        .merge(crate::applications::web::pages())
        .merge(crate::payments::web::pages())
        .merge(crate::documents::web::pages())
        .merge(crate::express::web::pages())
        .merge(crate::audit::web::pages())
        .merge(ops::routes());
    let openapi_json = {
        let doc = openapi.clone();
        move || async move { axum::Json(doc.as_ref().clone()) }
    };
    Router::new()
        .merge(api)
        .merge(pages)
        .route("/api/v1/openapi.json", axum::routing::get(openapi_json))
        .fallback(|| async { AppError::not_found() })
        .layer(
            // Listed outermost first.
            ServiceBuilder::new()
                // Outermost, so that the layers beneath deal in plain bodies.
                .layer(CompressionLayer::new())
                // Request id, span, metrics, panics and the timeout.
                .layer(front::FrontLayer(front::REQUEST_TIMEOUT))
                .layer(middleware::EdgeLayer(state.clone()))
                // Inside `edge`, so its refusals carry the security headers too.
                .layer(tower_http::csrf::CsrfLayer::new()),
        )
        .with_state(state)
}

/// A script of ours as served under `/static/`: JavaScript, cached for five minutes.
pub fn script_response(body: &'static str) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        body,
    )
        .into_response()
}

/// The OpenAPI document as served at `/api/v1/openapi.json`.
pub fn api_document() -> utoipa::openapi::OpenApi {
    let mut doc = api_router().into_openapi();
    openapi::tell_truth(&mut doc);
    doc
}

/// Every JSON endpoint, registered so the OpenAPI document cannot drift from the routes.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::catalog::web::api())
        .merge(crate::sites::web::api())
        .merge(crate::calendar::web::api())
        .merge(crate::booking::web::api())
        .merge(crate::queue::web::api())
        .merge(crate::ratings::web::api())
        .merge(crate::complaints::web::api())
        .merge(crate::callbacks::web::api())
        .merge(crate::error_rate::web::api())
        .merge(crate::staffing::web::api())
        .merge(crate::reports::web::api())
        .merge(crate::hall::web::api())
        .merge(crate::supervision::web::api())
        .merge(crate::device_registry::web::api())
        .merge(crate::self_service::web::api())
        .merge(crate::applications::web::api())
        .merge(crate::payments::web::api())
        .merge(crate::documents::web::api())
        .merge(crate::express::web::api())
        .merge(crate::auth::web::api())
        .merge(crate::audit::web::api())
        .merge(crate::portal::web::api())
        .merge(ops::api())
}

/// A stop signal that never fires, for building an [`AppState`] before [`launch`].
pub fn not_stopping() -> tokio::sync::watch::Receiver<bool> {
    tokio::sync::watch::channel(false).1
}

/// Resolves when `stop` becomes true (or its server is gone).
pub async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Serves until `shutdown` resolves, then drains in-flight requests.
pub async fn launch(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Event streams stay open for hours; end them when shutdown begins, or the graceful
    // shutdown would wait for every display to go away.
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let parts = AppParts {
        stop,
        ..AppParts::clone(&state)
    };
    let app = app(parts.into()).into_make_service_with_connect_info::<SocketAddr>();
    let shutdown = async move {
        shutdown.await;
        stopping.send_replace(true);
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
