//! Appointment release under load: `cargo bench --bench booking`.
//!
//! Starts the real application in this process (SQLite file, or PostgreSQL with
//! `ONETRIP_BENCH_PG=postgres://…`) at a fixed moment (2026-03-02 10:00, Asia/Shanghai), opens
//! one day's slots with `ONETRIP_BENCH_CAPACITY` places (default 20,000), and with
//! `ONETRIP_BENCH_CLIENTS` concurrent HTTP clients on loopback (default 2,000):
//!   1. measures the raw HTTP ceiling (`/healthz`),
//!   2. reads the day's availability,
//!   3. books the day until it is full (every client books people with distinct ID numbers,
//!      and keeps trying after "full" answers, like a release-morning crowd),
//!   4. reads availability again on the full day (its cost must not grow with bookings),
//!
//! Then it checks from the database that no quota was exceeded and no ID number booked twice.

mod support;

use support::{env_or, peak_rss_mib};

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use onetrip::auth::Actor;
use onetrip::booking::{self, slots::SlotSettings};
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::db::{Db, DbOptions};
use onetrip::web::{self, AppState};

fn citizen(n: u32) -> String {
    let first17 = format!(
        "11010119{:02}{:02}{:02}{:03}",
        50 + (n / 100_000) % 50,
        1 + (n / 1000) % 12,
        1 + (n / 12_000) % 28,
        n % 1000
    );
    let w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let s: u32 = first17
        .chars()
        .zip(w)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    format!(
        "{first17}{}",
        "10X98765432".as_bytes()[(s % 11) as usize] as char
    )
}

struct Stats {
    label: String,
    ok: usize,
    other: usize,
    seconds: f64,
    lat: Vec<u32>,
}

impl Stats {
    fn print(&mut self) -> f64 {
        self.lat.sort_unstable();
        let p = |q: f64| {
            if self.lat.is_empty() {
                0.0
            } else {
                self.lat[((self.lat.len() as f64 - 1.0) * q).round() as usize] as f64 / 1000.0
            }
        };
        let rate = self.ok as f64 / self.seconds;
        println!(
            "{:<34} {:>9.0}/s  ok {:>7}  other {:>7}  p50 {:>7.2} ms  p99 {:>7.2} ms  p99.9 {:>7.2} ms",
            self.label,
            rate,
            self.ok,
            self.other,
            p(0.5),
            p(0.99),
            p(0.999)
        );
        rate
    }
}

/// Runs `clients` loops of `f` for up to `seconds` (or until `f` says stop) and collects timings.
async fn run<F, Fut>(label: &str, clients: usize, seconds: f64, f: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Outcome> + Send,
{
    let f = Arc::new(f);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut ok, mut other) = (Vec::new(), 0usize, 0usize);
            while Instant::now() < deadline {
                let t = Instant::now();
                match f(c).await {
                    Outcome::Ok => {
                        ok += 1;
                        lat.push(t.elapsed().as_micros() as u32);
                    }
                    Outcome::Other => {
                        other += 1;
                        lat.push(t.elapsed().as_micros() as u32);
                    }
                    Outcome::Stop => break,
                }
            }
            (lat, ok, other)
        }));
    }
    let mut stats = Stats {
        label: label.into(),
        ok: 0,
        other: 0,
        seconds: 0.0,
        lat: Vec::new(),
    };
    for t in tasks {
        if let Ok((lat, ok, other)) = t.await {
            stats.lat.extend(lat);
            stats.ok += ok;
            stats.other += other;
        }
    }
    stats.seconds = started.elapsed().as_secs_f64();
    stats
}

enum Outcome {
    Ok,
    Other,
    Stop,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let clients: usize = env_or("ONETRIP_BENCH_CLIENTS", 2000);
        let capacity: i64 = env_or("ONETRIP_BENCH_CAPACITY", 20_000);
        let dir = tempfile::tempdir().expect("tempdir");
        let url = std::env::var("ONETRIP_BENCH_PG").unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
        let engine = if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
        let sync = std::env::var("ONETRIP_SQLITE_SYNCHRONOUS").unwrap_or_else(|_| "full".into());
        let db = Db::connect(&url, &DbOptions { max_connections: env_or("ONETRIP_BENCH_DB_CONNECTIONS", 32), sqlite_synchronous: sync.clone(), ..DbOptions::default() }).await.expect("database");
        db.migrate().await.expect("migrate");
        let config = Config {
            data_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data"),
            booking_attempts_per_ip_hour: 0,
            booking_attempts_per_id_hour: 0,
            ..Config::default()
        };
        let data = onetrip::server::load_data(&config).expect("data");
        let clock = Clock::fixed("2026-03-02T10:00:00+08:00".parse::<jiff::Timestamp>().expect("time").as_millisecond());
        onetrip::demo::load_if_empty(&db, &clock).await.expect("demo");
        let state = AppState {
            db: db.clone(),
            config: Arc::new(config),
            clock,
            catalog: Arc::new(data.catalog),
            calendar: Arc::new(data.calendar),
            lines: Arc::new(data.lines),
            cipher: Arc::new(onetrip::privacy::Cipher::new(&[7u8; 32])),
            limits: Arc::new(web::RateLimits::new(0, 0)),
            days: Arc::new(onetrip::booking::DayCache::new(1000)),
            stop: web::not_stopping(),
            metrics: None,
            devices: Arc::new(onetrip::devices::Devices::simulated_for(&onetrip::privacy::Cipher::new(&[7u8; 32]))),
        };
        // The day: 15 half-hour slots at the hall; spread the capacity over them.
        let hall = onetrip::sites::store::site_by_code(db.reader(), "0001").await.expect("q").expect("hall");
        let per_slot = (capacity + 14) / 15;
        let settings = SlotSettings { slot_minutes: 30, quota_online: per_slot, quota_phone: 0, quota_onsite: 0, open_days_ahead: 7, open_at_minute: 540, close_minutes_before: 60, release_delay_seconds: 600 };
        booking::update_settings(&state.booking(), &Actor::system(), hall.id, "first_issue", settings).await.expect("settings");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(web::launch(listener, state.clone(), std::future::pending()));
        let client = reqwest::Client::builder().pool_max_idle_per_host(clients).build().expect("client");
        let day_url = format!("{base}/api/v1/appointments/availability?site=0001&line=first_issue&date=2026-03-04");
        let first: serde_json::Value = client.get(&day_url).send().await.expect("availability").json().await.expect("json");
        let slot_ids: Arc<Vec<i64>> = Arc::new(first["slots"].as_array().map(|a| a.iter().filter_map(|s| s["slot_id"].as_i64()).collect()).unwrap_or_default());
        println!(
            "onetrip booking benchmark on {engine} (sqlite synchronous={sync}): {clients} concurrent clients on loopback, {} slots x {per_slot} places, {} cores",
            slot_ids.len(),
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );

        let c = client.clone();
        let u = format!("{base}/healthz");
        let ceiling = run("HTTP ceiling (GET /healthz)", clients, 4.0, move |_| {
            let (c, u) = (c.clone(), u.clone());
            async move {
                match c.get(&u).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        Outcome::Ok
                    }
                    _ => Outcome::Other,
                }
            }
        })
        .await
        .print();

        let c = client.clone();
        let u = day_url.clone();
        let empty_reads = run("availability, empty day", clients, 4.0, move |_| {
            let (c, u) = (c.clone(), u.clone());
            async move {
                match c.get(&u).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        Outcome::Ok
                    }
                    _ => Outcome::Other,
                }
            }
        })
        .await
        .print();

        let next = Arc::new(AtomicU32::new(0));
        let full_answers = Arc::new(AtomicU32::new(0));
        let (c, n, fa, ids) = (client.clone(), next.clone(), full_answers.clone(), slot_ids.clone());
        let book_url = format!("{base}/api/v1/appointments");
        let cap = capacity as u32;
        let mut bookings = run("bookings (POST, until the day is full)", clients, 30.0, move |client_no| {
            let (c, n, fa, ids, u) = (c.clone(), n.clone(), fa.clone(), ids.clone(), book_url.clone());
            async move {
                if fa.load(Ordering::Relaxed) > cap / 2 + 2000 {
                    return Outcome::Stop;
                }
                let person = n.fetch_add(1, Ordering::Relaxed);
                let slot = ids[(person as usize + client_no) % ids.len().max(1)];
                let body = serde_json::json!({"slot_id": slot, "name": "压测", "id_number": citizen(person), "phone": "13800138000", "channel": "web"});
                match c.post(&u).json(&body).send().await {
                    Ok(r) if r.status().as_u16() == 201 => Outcome::Ok,
                    Ok(r) => {
                        if r.status().as_u16() == 409 {
                            fa.fetch_add(1, Ordering::Relaxed);
                        }
                        Outcome::Other
                    }
                    Err(_) => Outcome::Other,
                }
            }
        })
        .await;
        let booking_rate = bookings.print();

        let c = client.clone();
        let u = day_url.clone();
        let full_reads = run("availability, full day", clients, 4.0, move |_| {
            let (c, u) = (c.clone(), u.clone());
            async move {
                match c.get(&u).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        Outcome::Ok
                    }
                    _ => Outcome::Other,
                }
            }
        })
        .await
        .print();

        println!("booking throughput = {:.1} % of the HTTP ceiling; availability full/empty = {:.2}", 100.0 * booking_rate / ceiling, full_reads / empty_reads);
        println!("peak memory (server and load generator together): {:.1} MiB", peak_rss_mib());

        // Verification from the database.
        let (over,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM slots WHERE booked_online > quota_online OR booked_phone > quota_phone OR booked_onsite > quota_onsite")
            .fetch_one(db.reader())
            .await
            .expect("check");
        let (booked, quota): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(booked_online), 0) AS BIGINT), CAST(COALESCE(SUM(quota_online), 0) AS BIGINT) FROM slots WHERE date = '2026-03-04' AND line_code = 'first_issue'",
        )
        .fetch_one(db.reader())
        .await
        .expect("sum");
        let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM bookings WHERE status = 'booked'").fetch_one(db.reader()).await.expect("count");
        let (twice,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM (SELECT id_index FROM bookings WHERE status = 'booked' GROUP BY id_index, site_id, date HAVING COUNT(*) > 1) x")
            .fetch_one(db.reader())
            .await
            .expect("dupes");
        println!(
            "verified: {booked} of {quota} places booked, {rows} booking rows, {over} slots over quota, {twice} ID numbers booked twice, {} refusals as full",
            full_answers.load(Ordering::Relaxed)
        );
        assert_eq!(over, 0, "a quota was exceeded");
        assert_eq!(twice, 0, "an ID number was booked twice");
        assert_eq!(rows, booked, "booking rows and slot counters disagree");
    });
}
