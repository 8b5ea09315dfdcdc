//! The outermost layer around every route: request id, tracing span, request metrics, panics
//! caught and the request timeout, in one service.
//!
//! These were six tower layers (tower-http's request-id pair, trace, catch-panic and timeout,
//! and a `from_fn` for metrics). Every layer wraps the future of the one beneath, every
//! `from_fn` clones the whole stack beneath it and boxes its future on each request, and each
//! read the clock on its own; together they were a sixth of `/livez`'s time (issue 17,
//! docs/BENCHMARKS.md item 9). Here one future does all of it with one clock read at each end.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::crypto;

/// The request id's header, parsed once (a name given as text is parsed on every look-up).
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long a request may take before it is answered 503 (the handler is dropped).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The layer that puts [`Front`] around a service, with the request timeout.
#[derive(Clone, Copy, Debug)]
pub struct FrontLayer(pub Duration);

impl<S> Layer<S> for FrontLayer {
    type Service = Front<S>;
    fn layer(&self, inner: S) -> Front<S> {
        Front {
            inner,
            timeout: self.0,
        }
    }
}

/// Gives each request an id (keeping the one a proxy sent), opens its span, and on the way out
/// answers 500 for a panic and 503 past [`REQUEST_TIMEOUT`], records the route's count and
/// latency, logs a server error, and echoes the id on the answer.
#[derive(Clone, Debug)]
pub struct Front<S> {
    inner: S,
    timeout: Duration,
}

impl<S> Service<Request> for Front<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = FrontFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let start = Instant::now();
        let request_id = match req.headers().get(REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let id = new_request_id();
                req.headers_mut().insert(REQUEST_ID, id.clone());
                id
            }
        };
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            request_id = %request_id.to_str().unwrap_or("-"),
        );
        let route = req.extensions().get::<MatchedPath>().cloned();
        let method = req.method().clone();
        let inner = {
            let _entered = span.enter();
            std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(req)))
                .ok()
                // From the clock read above: one read fewer per request.
                .map(|f| tokio::time::timeout_at((start + self.timeout).into(), f))
        };
        FrontFuture {
            inner,
            span,
            start,
            route,
            method,
            request_id,
        }
    }
}

pin_project! {
    /// The future of [`Front`]: the route's own, under its timeout, inside its span.
    pub struct FrontFuture<F> {
        // `None` when the route panicked before it returned a future.
        #[pin]
        inner: Option<tokio::time::Timeout<F>>,
        span: tracing::Span,
        start: Instant,
        route: Option<MatchedPath>,
        method: Method,
        request_id: HeaderValue,
    }
}

impl<F> Future for FrontFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let mut res = match this.inner.as_pin_mut() {
            None => panicked(),
            Some(inner) => match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(Ok(Ok(res)))) => res,
                Ok(Poll::Ready(Ok(Err(never)))) => match never {},
                Ok(Poll::Ready(Err(_elapsed))) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
                Err(_) => panicked(),
            },
        };
        let seconds = this.start.elapsed().as_secs_f64();
        let status = res.status();
        if let Some(metrics) = REQUEST_METRICS.get() {
            metrics.record(
                this.route.as_ref().map_or("unmatched", |p| p.as_str()),
                this.method,
                status.as_u16(),
                seconds,
            );
        }
        if status.is_server_error() {
            tracing::error!(
                status = status.as_u16(),
                latency_ms = seconds * 1e3,
                "response failed"
            );
        } else {
            // Every answer at `RUST_LOG=debug` (a disabled level costs one cached check).
            tracing::debug!(
                status = status.as_u16(),
                latency_ms = seconds * 1e3,
                "answered"
            );
        }
        if !res.headers().contains_key(REQUEST_ID) {
            res.headers_mut().insert(
                REQUEST_ID,
                std::mem::replace(this.request_id, HeaderValue::from_static("")),
            );
        }
        Poll::Ready(Ok(res))
    }
}

/// What a panicking handler answers; the panic itself is on the log already (the panic hook).
fn panicked() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

/// Request ids (`x-request-id`) unique across nodes and restarts: a random prefix drawn when
/// the process starts and a counter. A UUID per request drew from the operating system's
/// random source every time (2 % of `/livez`'s time, issue 17) for no more uniqueness.
fn new_request_id() -> HeaderValue {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| crypto::random_token().chars().take(16).collect());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // Written into a buffer on the stack rather than with `format!`: one allocation (the
    // header's) instead of two. Sixteen hex digits, a dash and at most sixteen more fit.
    let mut id = [0u8; 16 + 1 + 16];
    let mut out = std::io::Cursor::new(&mut id[..]);
    let _ = write!(out, "{prefix}-{n:x}");
    let len = out.position() as usize;
    // Hex digits and a dash: always valid header text.
    HeaderValue::from_bytes(&id[..len]).unwrap_or(HeaderValue::from_static("-"))
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
        let matches = |m: &&RouteMetrics| m.status == status && m.method == method;
        // The usual case, recorded under the read lock without taking the handles out.
        if let Ok(map) = self.by_route.read()
            && let Some(m) = map.get(route).and_then(|list| list.iter().find(matches))
        {
            m.count.increment(1);
            m.duration.record(seconds);
            return;
        }
        // The first answer of its kind: register its handles (once, should two race).
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
        made.count.increment(1);
        made.duration.record(seconds);
        if let Ok(mut map) = self.by_route.write() {
            let list = map.entry(route.into()).or_default();
            if !list.iter().any(|m| matches(&m)) {
                list.push(made);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use tower::ServiceExt;

    async fn answer<F, Fut>(mut handler: F, req: Request) -> (StatusCode, HeaderValue, String)
    where
        F: FnMut(Request) -> Fut,
        Fut: Future<Output = Response>,
    {
        let svc =
            FrontLayer(Duration::from_millis(200)).layer(tower::service_fn(move |req: Request| {
                let fut = handler(req);
                async move { Ok::<_, Infallible>(fut.await) }
            }));
        let res = svc.oneshot(req).await.unwrap();
        let id = res.headers()[REQUEST_ID].clone();
        let status = res.status();
        let body = to_bytes(res.into_body(), 1 << 16).await.unwrap();
        (status, id, String::from_utf8(body.to_vec()).unwrap())
    }

    fn get() -> Request {
        Request::new(Body::empty())
    }

    #[tokio::test]
    async fn an_id_sent_by_the_proxy_is_kept_and_the_route_sees_the_same_one() {
        let mut req = get();
        req.headers_mut()
            .insert(REQUEST_ID, HeaderValue::from_static("from-proxy-1"));
        let (status, id, body) = answer(
            |req: Request| async move {
                let seen = req.headers()[REQUEST_ID].to_str().unwrap().to_owned();
                seen.into_response()
            },
            req,
        )
        .await;
        assert_eq!(
            (status, id.to_str().unwrap(), body.as_str()),
            (StatusCode::OK, "from-proxy-1", "from-proxy-1")
        );
    }

    #[tokio::test]
    async fn each_request_without_an_id_gets_its_own_and_the_route_sees_it() {
        let echo = |req: Request| async move {
            req.headers()[REQUEST_ID]
                .to_str()
                .unwrap()
                .to_owned()
                .into_response()
        };
        let (_, first, seen) = answer(echo, get()).await;
        let (_, second, _) = answer(echo, get()).await;
        assert_eq!(first.to_str().unwrap(), seen);
        assert_ne!(first, second);
        // The process's random prefix, a dash, the counter in hex.
        let (prefix, count) = seen.split_once('-').expect("a dash");
        assert_eq!(prefix.len(), 16, "{seen}");
        assert!(
            prefix
                .bytes()
                .chain(count.bytes())
                .all(|b| b.is_ascii_hexdigit())
                && !count.is_empty(),
            "{seen}"
        );
        assert!(second.to_str().unwrap().starts_with(prefix), "{second:?}");
    }

    #[tokio::test]
    async fn a_panic_in_the_route_or_its_future_is_a_500_with_the_id() {
        #[allow(unreachable_code)]
        let (status, id, body) = answer(
            |_: Request| -> std::future::Ready<Response> { panic!("in the call") },
            get(),
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        );
        assert!(!id.is_empty());
        let (status, _, body) = answer(
            |_: Request| async move {
                if true {
                    panic!("in the future");
                }
                StatusCode::OK.into_response()
            },
            get(),
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        );
    }

    #[tokio::test]
    async fn a_route_past_the_timeout_is_answered_503() {
        for (ms, expected) in [
            (5_000, StatusCode::SERVICE_UNAVAILABLE),
            (10, StatusCode::OK),
        ] {
            let (status, _, _) = answer(
                move |_: Request| async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    StatusCode::OK.into_response()
                },
                get(),
            )
            .await;
            assert_eq!(status, expected, "{ms} ms");
        }
    }

    #[tokio::test]
    async fn the_routes_own_id_header_is_left_alone() {
        let (_, id, _) = answer(
            |_: Request| async move {
                ([(REQUEST_ID, HeaderValue::from_static("route-set"))], "ok").into_response()
            },
            get(),
        )
        .await;
        assert_eq!(id, "route-set");
    }
}
