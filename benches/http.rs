//! HTTP load generator for the public pages and the raw ceiling of the server, on loopback.
//!
//! `cargo bench --bench http` starts the real application in this process on a fresh SQLite
//! file (or on PostgreSQL with `ONETRIP_BENCH_PG=postgres://…`), then drives each endpoint
//! with `ONETRIP_BENCH_CLIENTS` concurrent keep-alive clients (default 64) for
//! `ONETRIP_BENCH_SECONDS` seconds (default 5) and prints requests/s, latency percentiles and
//! the process's peak memory; then the hall's writes (tickets) alone and under a flood of
//! wrong staff sign-ins. Figures go to docs/BENCHMARKS.md.

mod support;

use support::{env_or, peak_rss_mib};

use std::time::{Duration, Instant};

use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::web;

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// Drives `path` from `clients` keep-alive clients for `seconds` — a GET, or a POST of `body`
/// — and prints the figures under `label`.
async fn drive(
    base: &str,
    path: &str,
    body: Option<serde_json::Value>,
    clients: usize,
    seconds: u64,
    label: &str,
) {
    let url = format!("{base}{path}");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (url, body) = (url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client");
            let mut lat = Vec::with_capacity(4096);
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                let req = match &body {
                    Some(b) => client.post(&url).json(b),
                    None => client.get(&url),
                };
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed().as_micros() as u64);
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((lat, e)) = t.await {
            all.extend(lat);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds as f64);
    all.sort_unstable();
    println!(
        "{label:<40} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   p99.9 {:>6.2} ms   errors {errors}",
        all.len() as f64 / elapsed,
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        percentile(&all, 0.999),
    );
}

/// Wrong staff sign-ins at `per_second`, each with another username (so no lock cuts them
/// short and every one checks a password), until `stop` (issue 12 item 7: they must not stall
/// the hall's writes).
async fn sign_in_flood(base: String, per_second: u64, stop: Instant) -> u64 {
    let client = reqwest::Client::new();
    let mut sent = 0u64;
    let gap = Duration::from_micros(1_000_000 / per_second.max(1));
    let mut next = Instant::now();
    while Instant::now() < stop {
        let (c, url) = (client.clone(), format!("{base}/api/v1/session"));
        let body =
            serde_json::json!({"username": format!("guess{sent}"), "password": "wrong-password"});
        tokio::spawn(async move {
            let _ = c.post(url).json(&body).send().await;
        });
        sent += 1;
        next += gap;
        tokio::time::sleep_until(next.into()).await;
    }
    sent
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let clients: usize = env_or("ONETRIP_BENCH_CLIENTS", 64);
        let seconds: u64 = env_or("ONETRIP_BENCH_SECONDS", 5);
        let dir = tempfile::tempdir().expect("tempdir");
        let url = std::env::var("ONETRIP_BENCH_PG")
            .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
        let db = support::migrated(&url).await;
        let config = Config {
            data_dir: support::data_dir(),
            // The flood below must reach the password check every time.
            sign_in_attempts_per_ip_hour: 0,
            ..Config::default()
        };
        let clock = Clock::system();
        let state = support::app_state(db, config, clock, true).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(web::launch(listener, state, std::future::pending()));
        println!(
            "onetrip HTTP benchmark: {} on {url_kind}, {clients} clients, {seconds} s per endpoint, {} cores",
            env!("CARGO_PKG_VERSION"),
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            url_kind = if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" },
        );
        for path in [
            "/healthz",
            "/api/v1/catalog/items/passport-first-issue",
            "/guide/hk-macao-permit-endorsement",
            "/sites",
        ] {
            drive(&base, path, None, clients, seconds, path).await;
        }
        // Writes (a ticket each) alone, then under a flood of wrong staff sign-ins.
        let ticket = serde_json::json!({"site": "0001", "line": "first_issue"});
        let writers = clients.min(16);
        drive(&base, "/api/v1/tickets", Some(ticket.clone()), writers, seconds, "POST /api/v1/tickets").await;
        let flood_rate: u64 = env_or("ONETRIP_BENCH_FLOOD_PER_SECOND", 33);
        let stop = Instant::now() + Duration::from_secs(seconds);
        let flood = tokio::spawn(sign_in_flood(base.clone(), flood_rate, stop));
        drive(
            &base,
            "/api/v1/tickets",
            Some(ticket),
            writers,
            seconds,
            &format!("  … with {flood_rate} wrong sign-ins/s"),
        )
        .await;
        let sent = flood.await.unwrap_or(0);
        println!("  ({sent} wrong sign-ins sent)");
        println!("peak memory (server and load generator together): {:.1} MiB", peak_rss_mib());
    });
}
