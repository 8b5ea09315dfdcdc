//! Appointment release under load: `cargo bench --bench booking`.
//!
//! Starts the real application in this process (SQLite file, or PostgreSQL with
//! `ONETRIP_BENCH_PG=postgres://…`) at a fixed moment (2026-03-02 10:00, Asia/Shanghai), opens
//! two days' slots with `ONETRIP_BENCH_CAPACITY` places each (default 20,000), and runs the
//! load generator as a second process of this same program (single-threaded, pinned to the
//! last core with `taskset` when it is there) with `ONETRIP_BENCH_CLIENTS` keep-alive
//! connections on loopback (default 2,000):
//!   1. the raw HTTP ceiling (`/livez`, no database),
//!   2. the first day's availability,
//!   3. books the first day until it is full (distinct ID numbers; attempts go on past "full",
//!      like a release-morning crowd) — the most bookings per second the server can make,
//!   4. availability again on the full day (its cost must not grow with bookings),
//!   5. books the second day on a fixed schedule of `ONETRIP_BENCH_RATE` bookings per second
//!      (default 5,000) spread over all connections — latency at that load, counted from when
//!      each request was due.
//!
//! Then it checks from the database that no quota was exceeded and no ID number booked twice.

mod support;

use support::load::{self, Pace};
use support::{citizen, env_or, peak_rss_mib};

use std::cell::Cell;
use std::rc::Rc;

use onetrip::auth::Actor;
use onetrip::booking::{self, slots::SlotSettings};
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::db::{Db, DbOptions};
use onetrip::web;

const DAY_MAX: &str = "2026-03-04";
const DAY_RATED: &str = "2026-03-05";

fn main() {
    if std::env::var("ONETRIP_BENCH_ROLE").as_deref() == Ok("load") {
        return generate_load();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(serve_and_verify());
}

/// The server side: the application, the load process, and the checks afterwards.
async fn serve_and_verify() {
    let clients: usize = env_or("ONETRIP_BENCH_CLIENTS", 2000);
    let capacity: i64 = env_or("ONETRIP_BENCH_CAPACITY", 20_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let url = std::env::var("ONETRIP_BENCH_PG")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let engine = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let sync = std::env::var("ONETRIP_SQLITE_SYNCHRONOUS").unwrap_or_else(|_| "full".into());
    let db = Db::connect(
        &url,
        &DbOptions {
            max_connections: env_or("ONETRIP_BENCH_DB_CONNECTIONS", 32),
            sqlite_synchronous: sync.clone(),
            ..DbOptions::default()
        },
    )
    .await
    .expect("database");
    db.migrate().await.expect("migrate");
    let config = Config {
        data_dir: support::data_dir(),
        booking_attempts_per_ip_hour: 0,
        booking_attempts_per_id_hour: 0,
        ..Config::default()
    };
    let clock = Clock::fixed(
        "2026-03-02T10:00:00+08:00"
            .parse::<jiff::Timestamp>()
            .expect("time")
            .as_millisecond(),
    );
    let state = support::app_state(db.clone(), config, clock, false).await;
    // Each day: 15 half-hour slots at the hall; spread the capacity over them.
    let hall = onetrip::sites::site_by_code(db.reader(), "0001")
        .await
        .expect("q")
        .expect("hall");
    let per_slot = (capacity + 14) / 15;
    let settings = SlotSettings {
        slot_minutes: 30,
        quota_online: per_slot,
        quota_phone: 0,
        quota_onsite: 0,
        open_days_ahead: 7,
        open_at_minute: 540,
        close_minutes_before: 60,
        release_delay_seconds: 600,
    };
    booking::update_settings(
        &state.booking(),
        Actor::system()
            .any_admin()
            .expect("an administrator of every site"),
        hall.id,
        "first_issue",
        settings,
    )
    .await
    .expect("settings");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    tokio::spawn(web::launch(listener, state.clone(), std::future::pending()));
    println!(
        "onetrip booking benchmark on {engine} (sqlite synchronous={sync}): {clients} keep-alive connections on loopback, \
         2 days x 15 slots x {per_slot} places, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // The load generator: this program again, in its own process, on one core.
    let exe = std::env::current_exe().expect("exe");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = cores > 1
        && std::process::Command::new("taskset")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
    let mut command = if pinned {
        let mut c = tokio::process::Command::new("taskset");
        c.arg("-c").arg((cores - 1).to_string()).arg(&exe);
        c
    } else {
        tokio::process::Command::new(&exe)
    };
    let status = command
        .env("ONETRIP_BENCH_ROLE", "load")
        .env("ONETRIP_BENCH_ADDR", &addr)
        .env("ONETRIP_BENCH_PER_SLOT", per_slot.to_string())
        .status()
        .await
        .expect("load generator");
    assert!(status.success(), "the load generator failed");
    println!(
        "load generator {}; peak memory of the server process: {:.1} MiB",
        if pinned {
            format!("pinned to core {}", cores - 1)
        } else {
            "not pinned".into()
        },
        peak_rss_mib()
    );

    // Verification from the database.
    let (over,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM slots WHERE booked_online > quota_online OR booked_phone > quota_phone OR booked_onsite > quota_onsite",
    )
    .fetch_one(db.reader())
    .await
    .expect("check");
    let (twice,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM (SELECT id_index FROM bookings WHERE status = 'booked' GROUP BY id_index, site_id, date HAVING COUNT(*) > 1) x",
    )
    .fetch_one(db.reader())
    .await
    .expect("dupes");
    for day in [DAY_MAX, DAY_RATED] {
        let (booked, quota): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(booked_online), 0) AS BIGINT), CAST(COALESCE(SUM(quota_online), 0) AS BIGINT) \
             FROM slots WHERE date = $1 AND line_code = 'first_issue'",
        )
        .bind(day)
        .fetch_one(db.reader())
        .await
        .expect("sum");
        let (rows,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM bookings WHERE status = 'booked' AND date = $1")
                .bind(day)
                .fetch_one(db.reader())
                .await
                .expect("count");
        let (texts,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM outbox o JOIN bookings b ON b.code = o.ref WHERE b.date = $1 AND o.kind = 'booking.confirmation'",
        )
        .bind(day)
        .fetch_one(db.reader())
        .await
        .expect("texts");
        println!(
            "verified {day}: {booked} of {quota} places booked, {rows} booking rows, {texts} confirmations queued"
        );
        assert_eq!(
            rows, booked,
            "booking rows and slot counters disagree on {day}"
        );
        assert_eq!(texts, rows, "a booking without its confirmation on {day}");
    }
    println!("verified: {over} slots over quota, {twice} ID numbers booked twice");
    assert_eq!(over, 0, "a quota was exceeded");
    assert_eq!(twice, 0, "an ID number was booked twice");
}

/// The load side (a separate process): every phase over the same keep-alive connections.
fn generate_load() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let addr = std::env::var("ONETRIP_BENCH_ADDR").expect("address");
        let clients: usize = env_or("ONETRIP_BENCH_CLIENTS", 2000);
        let per_slot: usize = env_or("ONETRIP_BENCH_PER_SLOT", 1334);
        let rate: f64 = env_or("ONETRIP_BENCH_RATE", 5000.0);
        let mut conns = load::connect_all(&addr, clients).await;
        assert!(!conns.is_empty(), "no connection to the server");
        let host = addr.clone();
        let day_path = |d: &str| format!("/api/v1/appointments/availability?site=0001&line=first_issue&date={d}");
        let mut slot_ids = Vec::new();
        for day in [DAY_MAX, DAY_RATED] {
            let c = &mut conns[0];
            let status = c.send(&load::get(&host, &day_path(day))).await.expect("availability");
            assert_eq!(status, 200, "availability of {day}");
            let v: serde_json::Value = serde_json::from_slice(c.body()).expect("json");
            let ids: Vec<i64> = v["slots"].as_array().map(|a| a.iter().filter_map(|s| s["slot_id"].as_i64()).collect()).unwrap_or_default();
            assert!(!ids.is_empty(), "no slots on {day}");
            slot_ids.push(Rc::new(ids));
        }
        let places = per_slot * slot_ids[0].len();

        let livez = Rc::new(load::get(&host, "/livez"));
        let ceiling = load::run_phase("HTTP ceiling (GET /livez)", &mut conns, Pace::Closed { seconds: 4.0 }, 200, move |_, _| Some(livez.to_vec()))
            .await
            .print();

        let read_max = Rc::new(load::get(&host, &day_path(DAY_MAX)));
        let r = read_max.clone();
        let empty_reads = load::run_phase("availability, empty day", &mut conns, Pace::Closed { seconds: 4.0 }, 200, move |_, _| Some(r.to_vec()))
            .await
            .print();

        // Attempts stop 10 % past the places: the rest are refusals as full, as on the day.
        let attempts = Rc::new(Cell::new(0usize));
        let (a, ids, h) = (attempts.clone(), slot_ids[0].clone(), host.clone());
        let limit = places + places / 10;
        let mut max = load::run_phase("bookings, as fast as they come (until full)", &mut conns, Pace::Closed { seconds: 60.0 }, 201, move |c, _| {
            let person = a.get();
            if person >= limit {
                return None;
            }
            a.set(person + 1);
            Some(booking_request(&h, ids[(person + c) % ids.len()], person as u32))
        })
        .await;
        let booking_rate = max.print();

        let r = read_max.clone();
        let full_reads = load::run_phase("availability, full day", &mut conns, Pace::Closed { seconds: 4.0 }, 200, move |_, _| Some(r.to_vec()))
            .await
            .print();

        let next = Rc::new(Cell::new(0usize));
        let (n, ids, h) = (next.clone(), slot_ids[1].clone(), host.clone());
        // People numbered after the first day's, so nobody books both days.
        let base = limit + 1;
        let seconds = (places as f64 / rate).min(6.0);
        let mut rated = load::run_phase(&format!("bookings at {rate:.0}/s over {} connections", conns.len()), &mut conns, Pace::Open { per_second: rate, seconds }, 201, move |_, _| {
            let person = n.get();
            n.set(person + 1);
            Some(booking_request(&h, ids[person % ids.len()], (base + person) as u32))
        })
        .await;
        rated.print();

        println!(
            "bookings (most) = {:.1} % of the HTTP ceiling; availability full/empty = {:.2}; {} refusals as full; {} connections at the end",
            100.0 * booking_rate / ceiling,
            full_reads / empty_reads,
            max.other,
            conns.len()
        );
        println!("peak memory of the load generator: {:.1} MiB", peak_rss_mib());
    });
}

fn booking_request(host: &str, slot: i64, person: u32) -> Vec<u8> {
    let body = format!(
        r#"{{"slot_id":{slot},"name":"压测","id_number":"{}","phone":"13800138000","channel":"web"}}"#,
        citizen(person)
    );
    load::post_json(host, "/api/v1/appointments", &body)
}
