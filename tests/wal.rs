//! The SQLite write-ahead log restarts under a storm (issue 17): writers commit without pause
//! while readers are always in the log — the case where a passive checkpoint never lets the
//! log restart and it grew to 965 MB — and the log's file stays within a few times its bound
//! though several times the bound is written through it. (Strictly within the bound it is
//! not: what arrives while readers delay the restart is the overshoot.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use onetrip::db::{Db, DbOptions};

const LIMIT: i64 = 1024 * 1024;
const ROW_BYTES: usize = 2048;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_restarts_under_a_storm_and_stays_near_its_bound() {
    let dir = tempfile::tempdir().expect("scratch");
    let file = dir.path().join("storm.db");
    let db = Db::connect(
        &format!("sqlite://{}", file.display()),
        &DbOptions {
            sqlite_wal_limit_bytes: LIMIT,
            ..DbOptions::default()
        },
    )
    .await
    .expect("database");
    let mut tx = db.begin().await.expect("tx");
    sqlx::query("CREATE TABLE storm (id INTEGER PRIMARY KEY, pad TEXT NOT NULL)")
        .execute(&mut *tx)
        .await
        .expect("table");
    tx.commit().await.expect("commit");
    let wal = dir.path().join("storm.db-wal");
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicI64::new(0));
    let mut tasks = Vec::new();
    // Writers: one row a transaction, as bookings commit.
    for w in 0..4 {
        let (db, stop, written) = (db.clone(), stop.clone(), written.clone());
        tasks.push(tokio::spawn(async move {
            let pad = "x".repeat(ROW_BYTES);
            while !stop.load(Ordering::Relaxed) {
                let mut tx = db.begin().await.expect("tx");
                sqlx::query("INSERT INTO storm (pad) VALUES ($1)")
                    .bind(format!("{w}{pad}"))
                    .execute(&mut *tx)
                    .await
                    .expect("insert");
                tx.commit().await.expect("commit");
                written.fetch_add(ROW_BYTES as i64, Ordering::Relaxed);
            }
        }));
    }
    // Readers: always one in the log.
    for _ in 0..3 {
        let (db, stop) = (db.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM storm")
                    .fetch_one(db.reader())
                    .await
                    .expect("read");
            }
        }));
    }
    let started = Instant::now();
    let mut largest = 0i64;
    // At least 8 s, and until forty times the bound has gone through the log (a slow machine
    // takes longer: CI once wrote under ten times in 8 s), within 90 s.
    while (started.elapsed() < Duration::from_secs(8)
        || written.load(Ordering::Relaxed) < 40 * LIMIT)
        && started.elapsed() < Duration::from_secs(90)
    {
        let size = std::fs::metadata(&wal).map(|m| m.len() as i64).unwrap_or(0);
        largest = largest.max(size);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("task");
    }
    let through = written.load(Ordering::Relaxed);
    eprintln!(
        "wrote {} MiB through the log; the log's file peaked at {:.1} MiB (bound {} MiB)",
        through / (1024 * 1024),
        largest as f64 / (1024.0 * 1024.0),
        LIMIT / (1024 * 1024)
    );
    assert!(
        through >= 40 * LIMIT,
        "a storm: {through} bytes written, forty times the bound"
    );
    // The log restarts when it passes half its bound and the readers of the moment let it
    // (within 250 ms, tried again every 100 ms): what is written in between is the overshoot,
    // several times this tiny bound in a debug build (2.6–4.1 MiB seen on 2026-12-05; 6.0 and
    // 7.9–8.0 MiB on 2026-12-06, the machine writing faster, with and without that day's
    // change). Unbounded, the log would hold everything written (and more: whole pages), so a
    // quarter of it is still far from "no bound".
    assert!(
        largest <= 12 * LIMIT && 4 * largest < through,
        "the log peaked at {largest} bytes for a bound of {LIMIT}, with {through} written"
    );
}
