//! Request middleware: language, CSRF tokens, error rendering, metrics, security headers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, RwLock};
use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;
use super::layout::ErrorPage;
use crate::crypto;
use crate::error::{AppError, CommonError, ErrorBody, PendingError};
use crate::i18n::Lang;

pub const SESSION_COOKIE: &str = "onetrip_session";
pub const CSRF_COOKIE: &str = "onetrip_csrf";
pub const LANG_COOKIE: &str = "lang";
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The request id's header, parsed once (a name given as text is parsed on every look-up).
const REQUEST_ID: axum::http::HeaderName = axum::http::HeaderName::from_static("x-request-id");
/// Largest form body read for the token check; larger forms are refused.
const MAX_FORM_BYTES: usize = 1 << 20;

/// Reads one cookie from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value with our fixed attributes.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_secs: Option<i64>,
    secure: bool,
    same_site: &str,
) -> HeaderValue {
    let mut s = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age_secs {
        s.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        s.push_str("; Secure");
    }
    // Names and values are ours (hex tokens, language codes), always valid header text.
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn make_span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
}

/// The request metrics' handles, by route, then method and status. The recorder's own registry
/// hashes and allocates the labels on every call (a tenth of `/livez`'s time, issue 17); here a
/// request looks its handles up under a read lock, and registers them once per combination.
#[derive(Default)]
pub struct RequestMetrics {
    by_route: RwLock<HashMap<Box<str>, Vec<RouteMetrics>>>,
}

struct RouteMetrics {
    method: Method,
    status: u16,
    count: metrics::Counter,
    duration: metrics::Histogram,
}

static REQUEST_METRICS: OnceLock<RequestMetrics> = OnceLock::new();

impl RequestMetrics {
    /// Turns request metrics on; called once the process's recorder is installed, so that no
    /// handle is ever taken from the no-op recorder before it.
    pub fn enable() {
        let _ = REQUEST_METRICS.set(RequestMetrics::default());
    }

    fn record(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        let find = |list: &Vec<RouteMetrics>| {
            list.iter()
                .find(|m| m.status == status && m.method == method)
                .map(|m| (m.count.clone(), m.duration.clone()))
        };
        let known = self
            .by_route
            .read()
            .ok()
            .and_then(|map| map.get(route).and_then(find));
        let (count, duration) = match known {
            Some(handles) => handles,
            None => {
                let labels = [
                    ("method", method.as_str().to_owned()),
                    ("route", route.to_owned()),
                    ("status", status.to_string()),
                ];
                let made = RouteMetrics {
                    method: method.clone(),
                    status,
                    count: metrics::counter!("http_requests_total", &labels),
                    duration: metrics::histogram!("http_request_duration_seconds", &labels),
                };
                let handles = (made.count.clone(), made.duration.clone());
                if let Ok(mut map) = self.by_route.write() {
                    let list = map.entry(route.into()).or_default();
                    if find(list).is_none() {
                        list.push(made);
                    }
                }
                handles
            }
        };
        count.increment(1);
        duration.record(seconds);
    }
}

/// Counts requests and their latency per route for `/metrics`.
pub async fn record_metrics(req: Request, next: Next) -> Response {
    let Some(metrics) = REQUEST_METRICS.get() else {
        return next.run(req).await;
    };
    let start = Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let res = next.run(req).await;
    metrics.record(
        route.as_ref().map_or("unmatched", |p| p.as_str()),
        &method,
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    res
}

/// Request ids (`x-request-id`) unique across nodes and restarts: a random prefix drawn when
/// the process starts and a counter. A UUID per request drew from the operating system's
/// random source every time (2 % of `/livez`'s time, issue 17) for no more uniqueness.
#[derive(Clone, Copy, Default)]
pub struct MakeRequestId;

impl tower_http::request_id::MakeRequestId for MakeRequestId {
    fn make_request_id<B>(
        &mut self,
        _: &axum::http::Request<B>,
    ) -> Option<tower_http::request_id::RequestId> {
        static PREFIX: OnceLock<String> = OnceLock::new();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let prefix = PREFIX.get_or_init(|| crypto::random_token().chars().take(16).collect());
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{prefix}-{n:x}"))
            .ok()
            .map(tower_http::request_id::RequestId::new)
    }
}

/// The content-security policy of pages: nothing inline, nothing from elsewhere.
const PAGE_POLICY: HeaderValue = HeaderValue::from_static(
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
     media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
);

/// Content types a browser never renders as a document.
fn is_data(content_type: &str) -> bool {
    let t = content_type.trim_start();
    [
        "application/json",
        "text/plain",
        "text/event-stream",
        "text/csv",
    ]
    .iter()
    .any(|d| t.starts_with(d))
}

/// Headers that keep pages from being framed, sniffed, cached or leaking referrers, and a strict
/// content-security policy (no inline scripts or styles anywhere in the app).
fn secure(mut res: Response, kiosk_page: bool) -> Response {
    let h = res.headers_mut();
    // Nothing is cached unless a handler says how (static files, scripts).
    if kiosk_page || !h.contains_key(header::CACHE_CONTROL) {
        // A kiosk's pages hold one person's data: never kept for the next (issue 14 §1).
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        // What a browser can render as a document (a page, an SVG) gets the pages' policy;
        // data (JSON, plain text, event streams) loads nothing and is framed nowhere — the
        // short policy OWASP gives for APIs, stricter and a third of the bytes on every
        // answer.
        let document = h
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|t| !is_data(t));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            if document {
                PAGE_POLICY
            } else {
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")
            },
        );
    }
    // Every 429 says when to come back (a limit that knows sets its own value).
    if res.status() == StatusCode::TOO_MANY_REQUESTS
        && !res.headers().contains_key(header::RETRY_AFTER)
    {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    res
}

/// The pages a kiosk shows a citizen (and the ticket it prints, the one form as it is posted
/// and the printed form it leads to).
fn is_kiosk_page(path: &str) -> bool {
    path.starts_with("/kiosk/")
        || path == "/devices/enrol"
        || (path.starts_with("/tickets/") && path.ends_with("/print"))
        || path == "/forms"
        || (path.starts_with("/forms/") && !path.ends_with(".svg"))
}

/// Works out the client's address once (through the configured trusted proxies) for the rate
/// limits, the audit log and sign-in throttling.
fn note_client_address(state: &AppState, req: &mut Request) {
    if !state.config.trusted_proxies.is_empty()
        && let Some(peer) = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
    {
        let trusted = state.config.proxy_networks().unwrap_or_default();
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let client = crate::web::extract::client_address(peer, forwarded, &trusted);
        req.extensions_mut()
            .insert(crate::web::extract::ClientAddress(client));
    }
}

/// Picks the reader's language: `?lang=` (remembered in a cookie), the `lang` cookie,
/// `Accept-Language`, then zh-CN. Returns it and the `?lang=` choice, if any.
fn pick_language(req: &Request) -> (Lang, Option<Lang>) {
    // Language codes need no decoding: a plain look at the query, not a parse of all of it
    // (availability asks with a query on every call).
    let from_query = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("lang="))
            .and_then(Lang::from_code)
    });
    let lang = from_query
        .or_else(|| cookie(req.headers(), LANG_COOKIE).and_then(|c| Lang::from_code(&c)))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default();
    (lang, from_query)
}

/// The language's headers on the answer: `Content-Language`, and the cookie that remembers a
/// choice made with `?lang=`.
fn language_headers(
    state: &AppState,
    mut res: Response,
    lang: Lang,
    chosen: Option<Lang>,
) -> Response {
    if let Some(l) = chosen {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(
                LANG_COOKIE,
                l.code(),
                Some(365 * 24 * 3600),
                state.config.cookie_secure,
                "Lax",
            ),
        );
    }
    res.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.tag()),
    );
    res
}

fn wants_json(req: &Request) -> bool {
    req.uri().path().starts_with("/api/")
        || req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// Turns an [`AppError`] into JSON for the API or a page for people, in the reader's language.
/// A page that needs a signed-in officer sends the browser to the sign-in page instead.
fn render_error(state: &AppState, res: Response, lang: Lang, json: bool, uri: &Uri) -> Response {
    let Some(PendingError(err)) = res.extensions().get::<PendingError>().cloned() else {
        return res;
    };
    let status = res.status();
    let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
    let keep = |mut r: Response| {
        if let Some(v) = retry_after.clone() {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    };
    if json {
        let body = ErrorBody {
            code: err.code().to_string(),
            message: err.message(lang),
        };
        return keep((status, axum::Json(body)).into_response());
    }
    if status == StatusCode::UNAUTHORIZED {
        let path_and_query = uri.path_and_query().map_or("", |p| p.as_str());
        let next = serde_urlencoded::to_string([("next", path_and_query)]).unwrap_or_default();
        return Redirect::to(&format!("/login?{next}")).into_response();
    }
    // An error page's forms (the language switch) carry no token: the cookie a first visit
    // would get is not set on an error.
    let page = ErrorPage::new(
        lang,
        String::new(),
        state,
        uri.path(),
        status,
        err.code(),
        err.message(lang),
    );
    keep((status, page).into_response())
}

/// The double-submit CSRF token of this browser, for forms.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Gives every browser a CSRF token cookie and checks it on every state-changing request:
/// forms carry it in the `csrf_token` field, scripts in the `X-CSRF-Token` header. The
/// Origin/Sec-Fetch-Site check (`CsrfLayer`) stands behind it, so a forged request must beat
/// both. Returns the request to go on with and the cookie to set, or the refusal.
/// API calls that carry no session cookie hold no ambient authority and need no token.
async fn check_csrf(
    state: &AppState,
    req: Request,
) -> Result<(Request, Option<HeaderValue>), Response> {
    let existing = cookie(req.headers(), CSRF_COOKIE).filter(|t| is_token(t));
    // The operations endpoints take no forms: like the API, they hold no ambient authority.
    let is_api = req.uri().path().starts_with("/api/")
        || matches!(req.uri().path(), "/livez" | "/healthz" | "/metrics");
    // JSON clients get their token where they sign in or ask who they are (issue 12 item 12);
    // minting one for every other API call would only cost a random number and a cookie
    // nobody reads.
    let hands_out = matches!(req.uri().path(), "/api/v1/session" | "/api/v1/me");
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None if is_api && !hands_out => (String::new(), true),
        None => (crypto::random_token(), true),
    };
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(CsrfToken(token.clone()));
    // The methods that change something; any other (TRACE, …) goes on to the router, which
    // answers 405 for a route that does not take it.
    // Pages take only POST forms; the API also PUT, PATCH and DELETE. Anything else goes on
    // to the router, which answers 405 (or 404) without touching anything.
    let unsafe_method = if is_api {
        matches!(
            parts.method,
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
        )
    } else {
        parts.method == Method::POST
    };
    let req = if unsafe_method {
        let has_session = cookie(&parts.headers, SESSION_COOKIE).is_some();
        let header_token = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if is_api {
            if has_session
                && !header_token.is_some_and(|h| !fresh && crypto::constant_time_eq(&h, &token))
            {
                return Err(reject());
            }
            Request::from_parts(parts, body)
        } else if is_multipart(&parts.headers) {
            // A file upload (a supervision-card photo) is not read here: its token comes in the
            // form action's query (`?csrf_token=`), and the handler limits its own body.
            let submitted = header_token.or_else(|| {
                serde_urlencoded::from_str::<Vec<(String, String)>>(parts.uri.query().unwrap_or(""))
                    .ok()
                    .and_then(|pairs| {
                        pairs
                            .into_iter()
                            .find(|(k, _)| k == CSRF_FIELD)
                            .map(|(_, v)| v)
                    })
            });
            if fresh || !submitted.is_some_and(|s| crypto::constant_time_eq(&s, &token)) {
                return Err(reject());
            }
            Request::from_parts(parts, body)
        } else {
            let bytes = match to_bytes(body, MAX_FORM_BYTES).await {
                Ok(b) => b,
                Err(_) => {
                    return Err(AppError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        CommonError::BadRequest("form too large".into()),
                    )
                    .into_response());
                }
            };
            let submitted = header_token.or_else(|| {
                serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                    .ok()
                    .and_then(|pairs| {
                        pairs
                            .into_iter()
                            .find(|(k, _)| k == CSRF_FIELD)
                            .map(|(_, v)| v)
                    })
            });
            if fresh || !submitted.is_some_and(|s| crypto::constant_time_eq(&s, &token)) {
                return Err(reject());
            }
            Request::from_parts(parts, Body::from(bytes))
        }
    } else {
        Request::from_parts(parts, body)
    };
    let cookie = (fresh && (!is_api || hands_out)).then(|| {
        set_cookie(
            CSRF_COOKIE,
            &token,
            None,
            state.config.cookie_secure,
            "Strict",
        )
    });
    Ok((req, cookie))
}

/// The application's layer around every route, in this order: the client's address and
/// language; the CSRF token (refusing a forged change); then, on the way out, an error
/// rendered in the reader's language (JSON for the API, a page or a sign-in redirect for
/// browsers), the language's headers and the security headers. One layer rather than one per
/// concern: axum clones each layer's inner stack and boxes its future for every request, and
/// four of them were a tenth of `/livez`'s time (issue 17).
pub async fn edge(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let kiosk_page = is_kiosk_page(req.uri().path());
    note_client_address(&state, &mut req);
    let (lang, chosen) = pick_language(&req);
    req.extensions_mut().insert(lang);
    let json = wants_json(&req);
    // Shared, not copied: only an error reads it.
    let uri = req.uri().clone();
    let res = match check_csrf(&state, req).await {
        Ok((req, cookie)) => {
            let mut res = next.run(req).await;
            if let Some(c) = cookie {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            res
        }
        Err(refused) => refused,
    };
    let res = render_error(&state, res, lang, json, &uri);
    let res = language_headers(&state, res, lang, chosen);
    secure(res, kiosk_page)
}

fn reject() -> Response {
    AppError::new(StatusCode::FORBIDDEN, CommonError::CsrfRejected).into_response()
}

#[cfg(test)]
mod tests {
    use super::is_kiosk_page;

    #[test]
    fn the_kiosks_pages_and_the_forms_it_leads_to_are_never_stored() {
        for path in [
            "/kiosk/0001",
            "/kiosk/0001/progress",
            "/kiosk/0001/pay/P1",
            "/devices/enrol",
            "/tickets/abc/print",
            "/forms",
            "/forms/abc",
        ] {
            assert!(is_kiosk_page(path), "{path}");
        }
        for path in [
            "/",
            "/progress",
            "/m/form",
            "/forms/abc/barcode.svg",
            "/tickets/abc/qr.svg",
        ] {
            assert!(!is_kiosk_page(path), "{path}");
        }
    }
}
