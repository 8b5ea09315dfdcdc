//! Calling under load: `cargo bench --bench queue`.
//!
//! Starts the real application in this process (SQLite, or PostgreSQL with
//! `ONETRIP_BENCH_PG=postgres://…`) at a fixed moment, issues `ONETRIP_BENCH_TICKETS` tickets
//! (default 3,000), connects `ONETRIP_BENCH_DISPLAYS` display clients (default 1,000) to the
//! hall's event stream, and lets every window that serves the citizen lines call and finish
//! tickets as fast as it can. It prints calls per second, the call-to-display latency
//! (p50/p99/p99.9 over every display and call), how many calls each display received, and
//! peak memory; and it checks from the database that no ticket was called twice.

mod support;

use support::{env_or, peak_rss_mib};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use onetrip::auth::{Actor, RequestMeta, Role, RoleGrant};
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::db::{Db, DbOptions};
use onetrip::queue::{self, TicketClass, TicketStatus};
use onetrip::web;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let tickets: usize = env_or("ONETRIP_BENCH_TICKETS", 3000);
        let displays: usize = env_or("ONETRIP_BENCH_DISPLAYS", 1000);
        let dir = tempfile::tempdir().expect("tempdir");
        let url = std::env::var("ONETRIP_BENCH_PG").unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
        let engine = if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
        let db = Db::connect(&url, &DbOptions { max_connections: 32, ..DbOptions::default() }).await.expect("database");
        db.migrate().await.expect("migrate");
        let config = Config { data_dir: support::data_dir(), ..Config::default() };
        let clock = Clock::fixed("2026-03-02T09:00:00+08:00".parse::<jiff::Timestamp>().expect("time").as_millisecond());
        let state = support::app_state(db.clone(), config, clock, false).await;
        let hall = onetrip::sites::site_by_code(db.reader(), "0001").await.expect("q").expect("hall");
        let windows: Vec<_> = onetrip::sites::windows_of(db.reader(), hall.id)
            .await
            .expect("windows")
            .into_iter()
            .filter(|w| queue::default_lines(w.kind).contains(&"renewal"))
            .collect();
        let actor = Actor {
            staff_id: 1,
            username: "bench".into(),
            display_name: "bench".into(),
            badge_no: "0".into(),
            grants: vec![RoleGrant { role: Role::Officer, site_id: Some(hall.id) }],
            must_change_password: false,
            meta: RequestMeta::default(),
        };
        let ctx = state.queue();
        for i in 0..tickets {
            let line = ["first_issue", "renewal", "endorsement"][i % 3];
            queue::issue_ticket(&ctx, queue::Issuer::Citizen, &hall, line, TicketClass::Normal, None, None, "kiosk").await.expect("issue");
        }
        for w in &windows {
            queue::open_window(&ctx, &actor.grant().expect("the bench officer serves"), w).await.expect("open");
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(web::launch(listener, state.clone(), std::future::pending()));

        // The displays.
        let client = reqwest::Client::builder().pool_max_idle_per_host(displays).build().expect("client");
        let received: Arc<Mutex<Vec<(String, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
        let per_display: Arc<Mutex<Vec<usize>>> = Arc::new(Mutex::new(Vec::new()));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut display_tasks = Vec::new();
        for _ in 0..displays {
            let (client, url, received, per_display, mut stop) = (client.clone(), format!("{base}/display/0001/events"), received.clone(), per_display.clone(), stop_rx.clone());
            display_tasks.push(tokio::spawn(async move {
                let Ok(mut res) = client.get(&url).send().await else { return };
                let (mut buf, mut mine, mut count) = (String::new(), Vec::new(), 0usize);
                loop {
                    tokio::select! {
                        _ = stop.changed() => break,
                        chunk = res.chunk() => match chunk {
                            Ok(Some(bytes)) => {
                                let now = Instant::now();
                                buf.push_str(&String::from_utf8_lossy(&bytes));
                                while let Some(end) = buf.find("\n\n") {
                                    let frame: String = buf.drain(..end + 2).collect();
                                    if frame.contains("event: call")
                                        && let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: "))
                                        && let Ok(v) = serde_json::from_str::<serde_json::Value>(data)
                                    {
                                        mine.push((v["number"].as_str().unwrap_or("").to_string(), now));
                                        count += 1;
                                    }
                                }
                            }
                            _ => break,
                        }
                    }
                }
                received.lock().map(|mut r| r.extend(mine)).ok();
                per_display.lock().map(|mut p| p.push(count)).ok();
            }));
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;

        // The windows call as fast as they can.
        let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
        let started = Instant::now();
        let mut window_tasks = Vec::new();
        for w in windows.clone() {
            let (state, actor, sent) = (state.clone(), actor.clone(), sent.clone());
            window_tasks.push(tokio::spawn(async move {
                let ctx = state.queue();
                let mut calls = 0usize;
                loop {
                    let t0 = Instant::now();
                    match queue::call_next(&ctx, &actor.grant().expect("the bench officer serves"), &w).await {
                        Ok(Some(t)) => {
                            sent.lock().map(|mut s| s.insert(t.number.clone(), t0)).ok();
                            calls += 1;
                            let _ = queue::advance(&ctx, &actor.grant().expect("the bench officer serves"), &w, TicketStatus::Done).await;
                        }
                        _ => break,
                    }
                }
                calls
            }));
        }
        let mut calls = 0;
        for t in window_tasks {
            calls += t.await.unwrap_or(0);
        }
        let seconds = started.elapsed().as_secs_f64();
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let _ = stop_tx.send(true);
        for t in display_tasks {
            let _ = t.await;
        }
        let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
        let mut lat: Vec<f64> = received
            .lock()
            .map(|r| r.iter().filter_map(|(n, at)| sent.get(n).map(|s| at.duration_since(*s).as_secs_f64() * 1000.0)).collect())
            .unwrap_or_default();
        lat.sort_by(f64::total_cmp);
        let p = |q: f64| if lat.is_empty() { 0.0 } else { lat[((lat.len() as f64 - 1.0) * q).round() as usize] };
        let counts = per_display.lock().map(|p| p.clone()).unwrap_or_default();
        let full = counts.iter().filter(|c| **c == calls).count();
        println!("onetrip calling benchmark on {engine}: {} windows, {tickets} tickets, {displays} display clients, {} cores", windows.len(), std::thread::available_parallelism().map_or(1, |n| n.get()));
        println!("calls: {calls} in {seconds:.2} s = {:.0} calls/s (each call followed by a finish)", calls as f64 / seconds);
        println!("call-to-display latency over {} deliveries: p50 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms", lat.len(), p(0.5), p(0.99), p(0.999));
        println!("displays that received every call: {full} of {}", counts.len());
        println!("peak memory (server, displays and load together): {:.1} MiB", peak_rss_mib());
        let (twice,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM (SELECT ticket_id FROM ticket_events WHERE kind = 'called' GROUP BY ticket_id HAVING COUNT(*) > 1) x")
            .fetch_one(db.reader())
            .await
            .expect("check");
        println!("verified: {twice} tickets called twice");
        assert_eq!(twice, 0);
        assert_eq!(calls, tickets);
    });
}
