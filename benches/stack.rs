//! What the middleware stack costs per request, in-process: `/livez` through the whole
//! application router against the same answer from a bare axum router, on one thread, with no
//! network and no load generator to share the machine with (issue 17: "metrics, request ids
//! and tracing cost what they must and no more").
//!
//! `cargo bench --bench stack` builds the application as `serve` does (SQLite, metrics on,
//! logging at `RUST_LOG`, default `warn` as the shipped benchmark runs it), then alternates
//! rounds of `ONETRIP_BENCH_REQUESTS` requests (default 200,000) to each router and prints
//! nanoseconds per request — each round, and the medians and their difference, which is the
//! stack's own cost (hyper's parsing and the socket are the same for both and not in it).

mod support;

use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::Request;
use onetrip::clock::Clock;
use onetrip::config::Config;
use support::env_or;
use tower::{Service, ServiceExt};

/// Nanoseconds per `GET path` answered by `router`, body read, over `n` requests.
async fn per_request(router: &mut Router, path: &str, n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        let req = Request::get(path)
            .header("host", "127.0.0.1")
            .body(Body::empty())
            .expect("request");
        let res = ServiceExt::<Request<Body>>::ready(router)
            .await
            .expect("ready")
            .call(req)
            .await
            .expect("answer");
        assert!(res.status().is_success(), "{path}: {}", res.status());
        to_bytes(res.into_body(), 1 << 16).await.expect("body");
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .init();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let n: u32 = env_or("ONETRIP_BENCH_REQUESTS", 200_000);
        let rounds: usize = env_or("ONETRIP_BENCH_ROUNDS", 5);
        let dir = tempfile::tempdir().expect("tempdir");
        let db = support::fresh_sqlite(dir.path()).await;
        let config = Config {
            data_dir: support::data_dir(),
            ..Config::default()
        };
        let state = support::app_state(db, config, Clock::system(), true).await;
        let mut app = onetrip::web::app(state);
        let mut bare = Router::new().route("/livez", axum::routing::get(|| async { "ok" }));
        // Warm both (the metrics' handles are registered on the first answer).
        per_request(&mut app, "/livez", 1000).await;
        per_request(&mut bare, "/livez", 1000).await;
        println!(
            "middleware stack, in-process: {n} requests a round, {rounds} rounds, one thread"
        );
        let (mut bare_ns, mut app_ns) = (Vec::new(), Vec::new());
        for round in 1..=rounds {
            let b = per_request(&mut bare, "/livez", n).await;
            let a = per_request(&mut app, "/livez", n).await;
            println!("  round {round}: bare axum {b:7.0} ns, onetrip /livez {a:7.0} ns");
            bare_ns.push(b);
            app_ns.push(a);
        }
        let (b, a) = (median(bare_ns), median(app_ns));
        println!(
            "median: bare axum {b:.0} ns, onetrip /livez {a:.0} ns; the stack costs {:.0} ns a request; peak memory {:.1} MiB",
            a - b,
            support::peak_rss_mib()
        );
    });
}
