//! The shipped server under a release morning: `cargo bench --bench shipped`.
//!
//! Unlike `benches/booking.rs` (the application built in the benchmark's own process, metrics
//! off, a fixed clock), this starts the release binary (`target/release/onetrip`, built by
//! cargo for the benchmark) as its own process the README's way — `onetrip serve` in an empty
//! directory, so every setting is the default: SQLite in `onetrip-data/`, `synchronous=full`,
//! the demo city, the real clock, metrics, request ids, tracing, the outbox worker and every
//! background job — with `RUST_LOG=warn` and two settings changed:
//!   * `ONETRIP_LISTEN`: a free port on 127.0.0.1 instead of 8080 (which may be taken);
//!   * `ONETRIP_BOOKING_ATTEMPTS_PER_IP_HOUR=0` and `ONETRIP_BOOKING_ATTEMPTS_PER_ID_HOUR=0`:
//!     the booking-attempt limits off, because the 2,000 connections share one address.
//!
//! A bare axum server answering "ok" on `/` (this program again, with a multi-threaded runtime,
//! as a minimal axum app) is started beside it, as the ceiling of the machine in the same run.
//! The administrator opens the quota over HTTP, as a person would: signs in with the demo's
//! one-time password, sets a new one, and adds peak capacity (`POST
//! /api/v1/admin/sites/0001/capacity`) to the first two open days of the booking window so that
//! each has about `ONETRIP_BENCH_CAPACITY` online places (default 20,000).
//!
//! The load generator is this program once more, single-threaded and pinned to the last core
//! (`taskset`), with `ONETRIP_BENCH_CLIENTS` keep-alive connections (default 2,000):
//!   0. the bare axum ceiling (`GET /`), and
//!   1. onetrip's `/livez` (the whole middleware stack, no database), alternated in
//!      `ONETRIP_BENCH_CEILING_ROUNDS` rounds (default 3), the median share reported,
//!   2. availability of the first day,
//!   3. bookings of the first day as fast as they come, until full (+10 % refused as full),
//!   4. availability again, on the full day,
//!   5. bookings of the second day at `ONETRIP_BENCH_RATE` per second offered (default 5,000);
//!   6. with `ONETRIP_BENCH_STORM_SECONDS` (default 0: none), a storm: bookings of the later
//!      open days at `ONETRIP_BENCH_STORM_RATE` per second (default 2,000), a line a minute
//!      with the log's size — the bound of the write-ahead log under minutes of writes.
//!
//! `ONETRIP_BENCH_SERVER_X=v` sets `ONETRIP_X=v` for the server (one setting changed on purpose).
//!
//! `ONETRIP_BENCH_PG=postgres://…/db`: the server runs on a fresh database `onetrip_shipped` of
//! that PostgreSQL server instead (dropped and created at the start).
//!
//! Each phase also prints the server's CPU (cores busy, and CPU per answer) and the load
//! generator's own CPU (a phase where it is near 100 % of its core measures the generator, not
//! the server). Then: the server's peak memory (`VmHWM`), the log's peak size, the database's
//! bytes per booking, and — after the server stopped — the same consistency checks as the
//! in-process benchmark, from the database file.

mod support;

use support::load::{self, Pace};
use support::{citizen, env_or};

use std::cell::Cell;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The binary under test, built by cargo in the benchmark's profile (release).
const ONETRIP: &str = env!("CARGO_BIN_EXE_onetrip");

fn main() {
    match std::env::var("ONETRIP_BENCH_ROLE").as_deref() {
        Ok("load") => generate_load(),
        Ok("bare") => bare_axum(),
        _ => orchestrate(),
    }
}

// ---- the bare axum server ---------------------------------------------------------------------

/// A minimal axum app: one route answering "ok", on the default multi-threaded runtime. It
/// prints its address on the first line of its output.
fn bare_axum() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("{}", listener.local_addr().expect("addr"));
        std::io::stdout().flush().expect("flush");
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        axum::serve(listener, app).await.expect("serve");
    });
}

// ---- the orchestrator -------------------------------------------------------------------------

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

/// The database's files: the database, its write-ahead log, the log's index.
struct DbFiles {
    db: PathBuf,
    wal: PathBuf,
    shm: PathBuf,
}

impl DbFiles {
    fn total(&self) -> u64 {
        file_len(&self.db) + file_len(&self.wal) + file_len(&self.shm)
    }
}

fn vm_hwm_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn pinned_command(exe: &str) -> (Command, Option<usize>) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = cores > 1
        && Command::new("taskset")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
    if pinned {
        let mut c = Command::new("taskset");
        c.arg("-c").arg((cores - 1).to_string()).arg(exe);
        (c, Some(cores - 1))
    } else {
        (Command::new(exe), None)
    }
}

/// Kills a child when dropped (a failed assertion must not leave servers running).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn orchestrate() {
    let clients: usize = env_or("ONETRIP_BENCH_CLIENTS", 2000);
    let capacity: i64 = env_or("ONETRIP_BENCH_CAPACITY", 20_000);
    let storm_seconds: f64 = env_or("ONETRIP_BENCH_STORM_SECONDS", 0.0);
    let storm_rate: f64 = env_or("ONETRIP_BENCH_STORM_RATE", 2000.0);
    let storm_places = (storm_seconds * storm_rate * 1.02).ceil() as i64;
    let dir = tempfile::tempdir().expect("tempdir");
    // PostgreSQL instead of SQLite: a fresh database `onetrip_shipped` on that server.
    let pg = std::env::var("ONETRIP_BENCH_PG")
        .ok()
        .filter(|u| !u.is_empty());
    let pg_url = pg.as_deref().map(fresh_pg_database);
    let files = DbFiles {
        db: dir.path().join("onetrip-data/onetrip.db"),
        wal: dir.path().join("onetrip-data/onetrip.db-wal"),
        shm: dir.path().join("onetrip-data/onetrip.db-shm"),
    };
    let me = std::env::current_exe().expect("exe");

    // The ceiling: a bare axum server.
    let mut bare = Reaped(
        Command::new(&me)
            .env("ONETRIP_BENCH_ROLE", "bare")
            .stdout(Stdio::piped())
            .spawn()
            .expect("bare axum server"),
    );
    let bare_addr = {
        let out = bare.0.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).expect("address");
        line.trim().to_string()
    };

    // The shipped server, the README's way, in an empty directory.
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut serve = Command::new(ONETRIP);
    // Nothing of this shell's configuration leaks in (a `DATABASE_URL` or `ONETRIP_*` set for
    // the tests would change what is measured): defaults only, plus the three below.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("ONETRIP_") || name == "DATABASE_URL" || name == "RUST_LOG" {
            serve.env_remove(name);
        }
    }
    let mut server = Reaped(
        serve
            .arg("serve")
            .current_dir(dir.path())
            .env("RUST_LOG", "warn")
            .env("ONETRIP_LISTEN", &addr)
            .env("ONETRIP_BOOKING_ATTEMPTS_PER_IP_HOUR", "0")
            .env("ONETRIP_BOOKING_ATTEMPTS_PER_ID_HOUR", "0")
            .envs(pg_url.iter().map(|u| ("DATABASE_URL", u.as_str())))
            // `ONETRIP_BENCH_SERVER_X=v` sets `ONETRIP_X=v` for the server: one setting changed
            // on purpose, to compare (e.g. `ONETRIP_BENCH_SERVER_SQLITE_WAL_LIMIT_MIB=0`).
            .envs(std::env::vars().filter_map(|(k, v)| {
                k.strip_prefix("ONETRIP_BENCH_SERVER_")
                    .map(|rest| (format!("ONETRIP_{rest}"), v))
            }))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("onetrip serve"),
    );
    let server_pid = server.0.id();
    // The one-time password of the demo's administrator, printed once at the first start; the
    // rest of the output (warnings) goes to a log file, read continuously so the server never
    // blocks on a full pipe.
    let log_path = dir.path().join("server.log");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    for stream in [
        Box::new(server.0.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(server.0.stderr.take().expect("stderr")),
    ] {
        let (tx, log_path) = (tx.clone(), log_path.clone());
        std::thread::spawn(move || {
            let mut log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .expect("server log");
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = writeln!(log, "{line}");
                let _ = tx.send(line);
            }
        });
    }
    drop(tx);
    let password = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the server printed the demo accounts");
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"admin") && words.len() >= 2 {
            break words[1].to_string();
        }
    };
    std::thread::spawn(move || for _ in rx {});

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (days, per_slot, slots_per_day, storm_days) =
        runtime.block_on(open_quota(&addr, &password, capacity, storm_places));
    let places = per_slot * slots_per_day as i64;

    println!(
        "onetrip shipped-server benchmark: {ONETRIP} serve ({}, limits off, RUST_LOG=warn), \
         {clients} keep-alive connections on loopback, days {} and {} x {slots_per_day} slots x {per_slot} places, {} cores{}",
        if pg_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite, synchronous=full"
        },
        days[0],
        days[1],
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if storm_seconds > 0.0 {
            format!(
                "; then a storm of {storm_rate:.0} bookings/s for {storm_seconds:.0} s over {}",
                storm_days.join(", ")
            )
        } else {
            String::new()
        }
    );

    // The log's size and the database's, sampled while the load runs.
    std::thread::sleep(Duration::from_millis(1500));
    let size = |runtime: &tokio::runtime::Runtime| match &pg_url {
        Some(url) => runtime.block_on(pg_size(url)),
        None => files.total(),
    };
    let before = size(&runtime);
    let wal_peak = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, on, wal) = (wal_peak.clone(), sampling.clone(), files.wal.clone());
        std::thread::spawn(move || {
            while on.load(Ordering::Relaxed) {
                peak.fetch_max(file_len(&wal), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };

    let (mut command, core) = pinned_command(&me.to_string_lossy());
    let status = command
        .env("ONETRIP_BENCH_ROLE", "load")
        .env("ONETRIP_BENCH_BARE_ADDR", &bare_addr)
        .env("ONETRIP_BENCH_BARE_PID", bare.0.id().to_string())
        .env("ONETRIP_BENCH_ADDR", &addr)
        .env("ONETRIP_BENCH_SERVER_PID", server_pid.to_string())
        .env("ONETRIP_BENCH_DAYS", days.join(","))
        .env("ONETRIP_BENCH_PLACES", places.to_string())
        .env("ONETRIP_BENCH_STORM_DAYS", storm_days.join(","))
        .env("ONETRIP_BENCH_WAL", &files.wal)
        .env("ONETRIP_BENCH_STORM_SECONDS", storm_seconds.to_string())
        .env("ONETRIP_BENCH_STORM_RATE", storm_rate.to_string())
        .status()
        .expect("load generator");
    assert!(status.success(), "the load generator failed");
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.join();
    let hwm = vm_hwm_mib(server_pid);
    let running = size(&runtime);
    println!(
        "load generator {}; server peak memory (VmHWM) {hwm:.1} MiB; bare axum peak memory {:.1} MiB",
        core.map_or("not pinned".to_string(), |c| format!("pinned to core {c}")),
        vm_hwm_mib(bare.0.id())
    );

    // Stop the server as an operator would (SIGTERM: graceful shutdown, the pool closed, the
    // log checkpointed into the database file).
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server_pid.to_string())
        .status();
    let stopped = Instant::now();
    while stopped.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(_)) = server.0.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = size(&runtime);
    let warnings = std::fs::read_to_string(&log_path).unwrap_or_default();
    let warning_lines: Vec<&str> = warnings.lines().filter(|l| l.contains("WARN")).collect();
    println!(
        "server log: {} warnings{}",
        warning_lines.len(),
        warning_lines
            .first()
            .map_or(String::new(), |l| format!(", the first: {l}"))
    );

    let mut checked = days.clone();
    checked.extend(storm_days);
    let url = pg_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", files.db.display()));
    runtime.block_on(verify(&url, &checked, (before, running, after), &wal_peak));
}

/// Reads a JSON body, or says what came instead.
async fn json(res: reqwest::Response, what: &str) -> serde_json::Value {
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    assert!(status.is_success(), "{what}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// What an administrator does before a release morning: finds the next open days, signs in,
/// replaces the one-time password, and adds peak capacity to two days. Returns the days, the
/// places per slot and the slots per day.
async fn open_quota(
    addr: &str,
    password: &str,
    capacity: i64,
    storm_places: i64,
) -> (Vec<String>, i64, usize, Vec<String>) {
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let started = Instant::now();
    while http
        .get(format!("{base}/livez"))
        .send()
        .await
        .map_or(true, |r| !r.status().is_success())
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not answer"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The next days whose every slot can be booked now (today's close as the day goes on).
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(onetrip::clock::hall_tz())
        .date();
    let mut days = Vec::new();
    let mut slots = 0;
    for i in 1..=14 {
        let day = today
            .checked_add(jiff::Span::new().days(i))
            .expect("date")
            .to_string();
        let v = json(
            http.get(format!(
                "{base}/api/v1/appointments/availability?site=0001&line=first_issue&date={day}"
            ))
            .send()
            .await
            .expect("availability"),
            "availability",
        )
        .await;
        let list = v["slots"].as_array().cloned().unwrap_or_default();
        if !list.is_empty() && list.iter().all(|s| s["bookable"] == true) {
            slots = slots.max(list.len());
            days.push((day, list));
        }
        if days.len() == 2 && storm_places == 0 {
            break;
        }
    }
    assert!(days.len() >= 2, "two open days in the booking window");
    // The storm books the open days after the first two.
    let storm_days: Vec<String> = days.split_off(2).into_iter().map(|(d, _)| d).collect();
    assert!(
        storm_places == 0 || !storm_days.is_empty(),
        "open days for the storm"
    );
    let per_slot = (capacity + slots as i64 - 1) / slots as i64;

    let me = json(
        http.post(format!("{base}/api/v1/session"))
            .json(&serde_json::json!({"username": "admin", "password": password}))
            .send()
            .await
            .expect("sign in"),
        "sign in",
    )
    .await;
    let csrf = me["csrf_token"].as_str().unwrap_or_default().to_string();
    let new_password = "release-morning-2026-bench";
    let res = http
        .post(format!("{base}/api/v1/me/password"))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"current": password, "new": new_password}))
        .send()
        .await
        .expect("password");
    assert!(res.status().is_success(), "password: {}", res.status());
    for (day, list) in &days {
        let have = list
            .iter()
            .filter_map(|s| s["remaining"].as_i64())
            .min()
            .unwrap_or(0);
        // One change adds at most 1,000 places a slot (the settings' bound): as many as needed.
        let mut missing = per_slot - have;
        while missing > 0 {
            let extra = missing.min(1000);
            missing -= extra;
            let res = http
                .post(format!("{base}/api/v1/admin/sites/0001/capacity"))
                .header("x-csrf-token", &csrf)
                .json(&serde_json::json!({
                    "line": "first_issue", "from": day, "to": day,
                    "extra_online": extra, "extra_phone": 0, "extra_onsite": 0,
                    "reason": "release morning (benchmark)"
                }))
                .send()
                .await
                .expect("capacity");
            assert!(
                res.status().is_success(),
                "capacity: {} {}",
                res.status(),
                res.text().await.unwrap_or_default()
            );
        }
    }
    // The storm's days get 1,000 places a slot more per change over their whole range (rest
    // days in between have no slots), as many changes as the storm needs.
    if let (Some(first), Some(last)) = (storm_days.first(), storm_days.last()) {
        let per_change = 1000 * slots as i64 * storm_days.len() as i64;
        for _ in 0..(storm_places + per_change - 1) / per_change {
            let res = http
                .post(format!("{base}/api/v1/admin/sites/0001/capacity"))
                .header("x-csrf-token", &csrf)
                .json(&serde_json::json!({
                    "line": "first_issue", "from": first, "to": last,
                    "extra_online": 1000, "extra_phone": 0, "extra_onsite": 0,
                    "reason": "storm (benchmark)"
                }))
                .send()
                .await
                .expect("capacity");
            assert!(
                res.status().is_success(),
                "storm capacity: {}",
                res.status()
            );
        }
    }
    let days: Vec<String> = days.into_iter().map(|(d, _)| d).collect();
    (days, per_slot, slots, storm_days)
}

/// A new, empty database `onetrip_shipped` on the PostgreSQL server of `url`; its URL.
fn fresh_pg_database(url: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let db = onetrip::db::Db::connect(url, &onetrip::db::DbOptions::default())
            .await
            .expect("ONETRIP_BENCH_PG");
        for sql in [
            "DROP DATABASE IF EXISTS onetrip_shipped WITH (FORCE)",
            "CREATE DATABASE onetrip_shipped",
        ] {
            sqlx::query(sql).execute(db.reader()).await.expect(sql);
        }
        db.close().await;
    });
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let head = base.rfind('/').map_or(base, |i| &base[..i]);
    match query {
        Some(q) => format!("{head}/onetrip_shipped?{q}"),
        None => format!("{head}/onetrip_shipped"),
    }
}

/// The PostgreSQL database's size on disk.
async fn pg_size(url: &str) -> u64 {
    let db = onetrip::db::Db::connect(url, &onetrip::db::DbOptions::default())
        .await
        .expect("database");
    let (bytes,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
        .fetch_one(db.reader())
        .await
        .expect("size");
    db.close().await;
    u64::try_from(bytes).unwrap_or(0)
}

async fn verify(url: &str, days: &[String], sizes: (u64, u64, u64), wal_peak: &AtomicU64) {
    let (before, running, after) = sizes;
    let db = onetrip::db::Db::connect(url, &onetrip::db::DbOptions::default())
        .await
        .expect("the database after the run");
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
    let mut total = 0;
    for day in days {
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
        let (texts, sent): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN o.sent_at IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) \
             FROM outbox o JOIN bookings b ON b.code = o.ref WHERE b.date = $1 AND o.kind = 'booking.confirmation'",
        )
        .bind(day)
        .fetch_one(db.reader())
        .await
        .expect("texts");
        println!(
            "verified {day}: {booked} of {quota} places booked, {rows} booking rows, {texts} confirmations queued ({sent} sent by the outbox worker during the run)"
        );
        assert_eq!(
            rows, booked,
            "booking rows and slot counters disagree on {day}"
        );
        assert_eq!(texts, rows, "a booking without its confirmation on {day}");
        total += rows;
    }
    println!("verified: {over} slots over quota, {twice} ID numbers booked twice");
    assert_eq!(over, 0, "a quota was exceeded");
    assert_eq!(twice, 0, "an ID number was booked twice");
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let per = |b: u64| b.saturating_sub(before) as f64 / total.max(1) as f64;
    println!(
        "database: {:.1} MiB before the load; {:.1} MiB (database + log + index) at the end of the run = {:.0} bytes per booking; \
         {:.1} MiB after a clean stop (log copied in) = {:.0} bytes per booking; the log's file peaked at {:.1} MiB",
        mib(before),
        mib(running),
        per(running),
        mib(after),
        per(after),
        mib(wal_peak.load(Ordering::Relaxed))
    );
}

// ---- the load generator -----------------------------------------------------------------------

/// CPU seconds a process has used so far (user + system; Linux, 100 ticks a second).
fn cpu_seconds(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may hold spaces) start at ") ".
            let rest = s.rsplit_once(") ")?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let user: f64 = f.get(11)?.parse().ok()?;
            let system: f64 = f.get(12)?.parse().ok()?;
            Some((user + system) / 100.0)
        })
        .unwrap_or(0.0)
}

/// The server's and the generator's CPU over one phase.
struct Cpu {
    server_pid: String,
    server: f64,
    me: f64,
    at: Instant,
}

impl Cpu {
    fn start(server_pid: &str) -> Cpu {
        Cpu {
            server_pid: server_pid.to_string(),
            server: cpu_seconds(server_pid),
            me: cpu_seconds("self"),
            at: Instant::now(),
        }
    }

    fn print(self, answers: usize) {
        let wall = self.at.elapsed().as_secs_f64();
        let server = cpu_seconds(&self.server_pid) - self.server;
        let me = cpu_seconds("self") - self.me;
        println!(
            "{:<44} server CPU {:.2} cores, {:.1} µs per answer; load generator {:.0} % of its core",
            "",
            server / wall,
            1e6 * server / answers.max(1) as f64,
            100.0 * me / wall
        );
    }
}

fn generate_load() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let bare = std::env::var("ONETRIP_BENCH_BARE_ADDR").expect("bare address");
        let addr = std::env::var("ONETRIP_BENCH_ADDR").expect("address");
        let server_pid = std::env::var("ONETRIP_BENCH_SERVER_PID").expect("server pid");
        let bare_pid = std::env::var("ONETRIP_BENCH_BARE_PID").expect("bare pid");
        let days_env = std::env::var("ONETRIP_BENCH_DAYS").expect("days");
        let days: Vec<&str> = days_env.split(',').collect();
        let places: usize = env_or("ONETRIP_BENCH_PLACES", 20_010);
        let clients: usize = env_or("ONETRIP_BENCH_CLIENTS", 2000);
        let rate: f64 = env_or("ONETRIP_BENCH_RATE", 5000.0);
        let seconds: f64 = env_or("ONETRIP_BENCH_SECONDS", 4.0);

        // 0–1. The ceiling and `/livez`, alternated in rounds (`ONETRIP_BENCH_CEILING_ROUNDS`,
        // default 3), the median share reported: this shared machine's speed drifts by a
        // fifth within minutes, more than the difference measured. Each server's connections
        // are closed before the other's are opened.
        let rounds: usize = env_or::<usize>("ONETRIP_BENCH_CEILING_ROUNDS", 3).max(1);
        let host = addr.clone();
        let livez = Rc::new(load::get(&host, "/livez"));
        let mut pairs = Vec::new();
        let mut conns = Vec::new();
        for round in 1..=rounds {
            drop(std::mem::take(&mut conns));
            let ceiling = {
                let mut conns = load::connect_all(&bare, clients).await;
                assert!(!conns.is_empty(), "no connection to the bare server");
                let ok = Rc::new(load::get(&bare, "/"));
                let cpu = Cpu::start(&bare_pid);
                let mut s = load::run_phase(&format!("bare axum GET / (ceiling), round {round}"), &mut conns, Pace::Closed { seconds }, 200, move |_, _| Some(ok.to_vec())).await;
                let r = s.print();
                cpu.print(s.ok + s.other);
                r
            };
            conns = load::connect_all(&addr, clients).await;
            assert!(!conns.is_empty(), "no connection to the server");
            let l = livez.clone();
            let cpu = Cpu::start(&server_pid);
            let mut s = load::run_phase(&format!("onetrip GET /livez, round {round}"), &mut conns, Pace::Closed { seconds }, 200, move |_, _| Some(l.to_vec())).await;
            let live = s.print();
            cpu.print(s.ok + s.other);
            pairs.push((ceiling, live));
        }
        let mut shares: Vec<f64> = pairs.iter().map(|(c, l)| 100.0 * l / c).collect();
        let round_shares = shares.iter().map(|x| format!("{x:.1} %")).collect::<Vec<_>>().join(", ");
        shares.sort_by(f64::total_cmp);
        let live_share = shares[shares.len() / 2];
        let mut ceilings: Vec<f64> = pairs.iter().map(|(c, _)| *c).collect();
        ceilings.sort_by(f64::total_cmp);
        let ceiling = ceilings[ceilings.len() / 2];

        let day_path = |d: &str| format!("/api/v1/appointments/availability?site=0001&line=first_issue&date={d}");
        let mut slot_ids = Vec::new();
        for day in &days {
            let c = &mut conns[0];
            let status = c.send(&load::get(&host, &day_path(day))).await.expect("availability");
            assert_eq!(status, 200, "availability of {day}");
            let v: serde_json::Value = serde_json::from_slice(c.body()).expect("json");
            let ids: Vec<i64> = v["slots"].as_array().map(|a| a.iter().filter_map(|s| s["slot_id"].as_i64()).collect()).unwrap_or_default();
            assert!(!ids.is_empty(), "no slots on {day}");
            slot_ids.push(Rc::new(ids));
        }

        let read_max = Rc::new(load::get(&host, &day_path(days[0])));
        let r = read_max.clone();
        let cpu = Cpu::start(&server_pid);
        let mut s = load::run_phase("availability, empty day", &mut conns, Pace::Closed { seconds }, 200, move |_, _| Some(r.to_vec())).await;
        let empty_reads = s.print();
        cpu.print(s.ok + s.other);

        // Attempts stop 10 % past the places: the rest are refusals as full, as on the day.
        let attempts = Rc::new(Cell::new(0usize));
        let (a, ids, h) = (attempts.clone(), slot_ids[0].clone(), host.clone());
        let limit = places + places / 10;
        let cpu = Cpu::start(&server_pid);
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
        cpu.print(max.ok + max.other);

        let r = read_max.clone();
        let cpu = Cpu::start(&server_pid);
        let mut s = load::run_phase("availability, full day", &mut conns, Pace::Closed { seconds }, 200, move |_, _| Some(r.to_vec())).await;
        let full_reads = s.print();
        cpu.print(s.ok + s.other);

        let next = Rc::new(Cell::new(0usize));
        let (n, ids, h) = (next.clone(), slot_ids[1].clone(), host.clone());
        // People numbered after the first day's, so nobody books both days.
        let base = limit + 1;
        let rated_seconds = (places as f64 / rate).min(6.0);
        let cpu = Cpu::start(&server_pid);
        let mut rated = load::run_phase(&format!("bookings at {rate:.0}/s over {} connections", conns.len()), &mut conns, Pace::Open { per_second: rate, seconds: rated_seconds }, 201, move |_, _| {
            let person = n.get();
            n.set(person + 1);
            Some(booking_request(&h, ids[person % ids.len()], (base + person) as u32))
        })
        .await;
        rated.print();
        cpu.print(rated.ok + rated.other);
        rated.print_worst_moments(250, 5);

        // 6. The storm: bookings at a steady rate for minutes, one line a minute.
        let storm_seconds: f64 = env_or("ONETRIP_BENCH_STORM_SECONDS", 0.0);
        let storm_rate: f64 = env_or("ONETRIP_BENCH_STORM_RATE", 2000.0);
        let storm_env = std::env::var("ONETRIP_BENCH_STORM_DAYS").unwrap_or_default();
        if storm_seconds > 0.0 && !storm_env.is_empty() {
            let mut storm_slots = Vec::new();
            for day in storm_env.split(',') {
                let c = &mut conns[0];
                let status = c.send(&load::get(&host, &day_path(day))).await.expect("availability");
                assert_eq!(status, 200, "availability of {day}");
                let v: serde_json::Value = serde_json::from_slice(c.body()).expect("json");
                storm_slots.extend(v["slots"].as_array().into_iter().flatten().filter_map(|s| s["slot_id"].as_i64()));
            }
            let storm_slots = Rc::new(storm_slots);
            // People numbered after both days' (the second day's run used at most `places`).
            let first_person = base + places + 1;
            let next = Rc::new(Cell::new(0usize));
            let mut left = storm_seconds;
            let mut minute = 0;
            while left > 0.0 {
                minute += 1;
                let seconds = left.min(60.0);
                left -= seconds;
                let (n, ids, h) = (next.clone(), storm_slots.clone(), host.clone());
                let cpu = Cpu::start(&server_pid);
                let mut s = load::run_phase(&format!("storm minute {minute}, {storm_rate:.0}/s"), &mut conns, Pace::Open { per_second: storm_rate, seconds }, 201, move |_, _| {
                    let person = n.get();
                    n.set(person + 1);
                    Some(booking_request(&h, ids[person % ids.len()], (first_person + person) as u32))
                })
                .await;
                s.print();
                cpu.print(s.ok + s.other);
                s.print_worst_moments(1000, 3);
                let wal = std::env::var("ONETRIP_BENCH_WAL").unwrap_or_default();
                if Path::new(&wal).exists() {
                    println!("{:<44} log {:.1} MiB now", "", file_len(Path::new(&wal)) as f64 / 1048576.0);
                }
            }
        }

        println!(
            "onetrip /livez = {:.1} % of bare axum (median of {} rounds: {round_shares}); bookings (most) = {:.1} % of bare axum (its median); availability full/empty = {:.2}; {} refusals as full; {} connections at the end",
            live_share,
            pairs.len(),
            100.0 * booking_rate / ceiling,
            full_reads / empty_reads,
            max.other,
            conns.len()
        );
        println!("peak memory of the load generator: {:.1} MiB", support::peak_rss_mib());
    });
}

fn booking_request(host: &str, slot: i64, person: u32) -> Vec<u8> {
    let body = format!(
        r#"{{"slot_id":{slot},"name":"压测","id_number":"{}","phone":"13800138000","channel":"web"}}"#,
        citizen(person)
    );
    load::post_json(host, "/api/v1/appointments", &body)
}
