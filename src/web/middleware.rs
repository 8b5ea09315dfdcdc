//! Request middleware: language, CSRF tokens, error rendering, security headers.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
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

/// Where the CSRF check leaves a request: on to the route, or — a page's form — its body to be
/// read for the token first.
enum CsrfStep {
    Go(Request),
    Refuse(Response),
    ReadForm {
        parts: axum::http::request::Parts,
        body: Body,
        token: String,
        header_token: Option<String>,
    },
}

/// Gives every browser a CSRF token cookie and checks it on every state-changing request:
/// forms carry it in the `csrf_token` field, scripts in the `X-CSRF-Token` header. The
/// Origin/Sec-Fetch-Site check (`CsrfLayer`) stands behind it, so a forged request must beat
/// both. Returns the next step and the cookie to set.
/// API calls that carry no session cookie hold no ambient authority and need no token.
fn check_csrf(state: &AppState, req: Request) -> (CsrfStep, Option<HeaderValue>) {
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
    let step = if unsafe_method {
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
                return (CsrfStep::Refuse(reject()), None);
            }
            CsrfStep::Go(Request::from_parts(parts, body))
        } else if fresh {
            // A form from a browser that never had a token cannot carry the right one.
            return (CsrfStep::Refuse(reject()), None);
        } else if is_multipart(&parts.headers) {
            // A file upload (a supervision-card photo) is not read here: its token comes in the
            // form action's query (`?csrf_token=`), and the handler limits its own body.
            let submitted = header_token.or_else(|| {
                serde_urlencoded::from_str::<Vec<(String, String)>>(parts.uri.query().unwrap_or(""))
                    .ok()
                    .and_then(form_token)
            });
            if !submitted.is_some_and(|s| crypto::constant_time_eq(&s, &token)) {
                return (CsrfStep::Refuse(reject()), None);
            }
            CsrfStep::Go(Request::from_parts(parts, body))
        } else {
            CsrfStep::ReadForm {
                parts,
                body,
                token: token.clone(),
                header_token,
            }
        }
    } else {
        CsrfStep::Go(Request::from_parts(parts, body))
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
    (step, cookie)
}

fn form_token(pairs: Vec<(String, String)>) -> Option<String> {
    pairs
        .into_iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v)
}

/// Reads a page's posted form and checks its token (the field, or the header a script sends);
/// the route gets the form as it came.
async fn check_form_token(
    parts: axum::http::request::Parts,
    body: Body,
    token: String,
    header_token: Option<String>,
) -> Result<Request, Response> {
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            CommonError::BadRequest("form too large".into()),
        )
        .into_response());
    };
    let submitted = header_token.or_else(|| {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(form_token)
    });
    if !submitted.is_some_and(|s| crypto::constant_time_eq(&s, &token)) {
        return Err(reject());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The layer that puts [`Edge`] around a service.
#[derive(Clone)]
pub struct EdgeLayer(pub AppState);

impl<S> tower::Layer<S> for EdgeLayer {
    type Service = Edge<S>;
    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            state: self.0.clone(),
            inner,
        }
    }
}

/// The application's layer around every route, in this order: the client's address and
/// language; the CSRF token (refusing a forged change); then, on the way out, an error
/// rendered in the reader's language (JSON for the API, a page or a sign-in redirect for
/// browsers), the language's headers and the security headers. One service of ours rather
/// than a `from_fn` per concern: axum's `from_fn` clones the stack beneath it, boxes it and
/// its own future on every request, and four of them were a tenth of `/livez`'s time (issue
/// 17). Only a page's posted form, whose body must be read for its token, takes that path.
#[derive(Clone)]
pub struct Edge<S> {
    state: AppState,
    inner: S,
}

/// What the way out needs to know about the request.
struct Outbound {
    state: AppState,
    lang: Lang,
    chosen: Option<Lang>,
    json: bool,
    kiosk_page: bool,
    // Shared, not copied: only an error reads it.
    uri: Uri,
    cookie: Option<HeaderValue>,
}

impl Outbound {
    fn finish(self, mut res: Response) -> Response {
        // Room, once, for the headers added on the way out (language, the security headers,
        // the request id, compression's `Vary`), rather than the map growing half-way.
        res.headers_mut().reserve(8);
        if let Some(c) = self.cookie {
            res.headers_mut().append(header::SET_COOKIE, c);
        }
        let res = render_error(&self.state, res, self.lang, self.json, &self.uri);
        let res = language_headers(&self.state, res, self.lang, self.chosen);
        secure(res, self.kiosk_page)
    }
}

impl<S> tower::Service<Request> for Edge<S>
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let kiosk_page = is_kiosk_page(req.uri().path());
        note_client_address(&self.state, &mut req);
        let (lang, chosen) = pick_language(&req);
        req.extensions_mut().insert(lang);
        let mut out = Outbound {
            state: self.state.clone(),
            lang,
            chosen,
            json: wants_json(&req),
            kiosk_page,
            uri: req.uri().clone(),
            cookie: None,
        };
        match check_csrf(&self.state, req) {
            (CsrfStep::Refuse(refused), _) => EdgeFuture::Answered {
                res: Some(out.finish(refused)),
            },
            (CsrfStep::Go(req), cookie) => {
                out.cookie = cookie;
                EdgeFuture::Route {
                    inner: self.inner.call(req),
                    out: Some(out),
                }
            }
            (
                CsrfStep::ReadForm {
                    parts,
                    body,
                    token,
                    header_token,
                },
                cookie,
            ) => {
                out.cookie = cookie;
                // The route is called later, once the form is read: take the ready service and
                // leave a clone, as tower's services do.
                let fresh = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, fresh);
                EdgeFuture::Form {
                    inner: Box::pin(async move {
                        let res = match check_form_token(parts, body, token, header_token).await {
                            Ok(req) => match inner.call(req).await {
                                Ok(res) => res,
                                Err(never) => match never {},
                            },
                            Err(refused) => refused,
                        };
                        out.finish(res)
                    }),
                }
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Edge`]: an answer given at once, the route's own, or a form read first.
    #[project = EdgeProj]
    pub enum EdgeFuture<F> {
        Answered { res: Option<Response> },
        Route { #[pin] inner: F, out: Option<Outbound> },
        Form { inner: std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>> },
    }
}

impl<F> std::future::Future for EdgeFuture<F>
where
    F: std::future::Future<Output = Result<Response, std::convert::Infallible>>,
{
    type Output = Result<Response, std::convert::Infallible>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use std::task::Poll;
        match self.project() {
            EdgeProj::Answered { res } => match res.take() {
                Some(res) => Poll::Ready(Ok(res)),
                None => Poll::Pending,
            },
            EdgeProj::Route { inner, out } => match inner.poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(res)) => Poll::Ready(Ok(match out.take() {
                    Some(out) => out.finish(res),
                    None => res,
                })),
                Poll::Ready(Err(never)) => match never {},
            },
            EdgeProj::Form { inner } => inner.as_mut().poll(cx).map(Ok),
        }
    }
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
