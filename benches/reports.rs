//! Reports over a year of a busy hall: `cargo bench --bench reports`.
//!
//! Writes `ONETRIP_BENCH_DAYS` days (default 365) of `ONETRIP_BENCH_PER_DAY` applicants a day
//! (default 3,600: the seeds' busiest hall) straight into a fresh SQLite file — tickets of every
//! fate, three in five accepted with a document and paid — then rolls every day up as the
//! server's background job does and prints the time per day, and finally reads the report of
//! each month and of the whole year as the page does (refresh check, aggregates, comparison
//! with the period before) and prints p50 and max, with peak memory.

mod support;

use std::time::Instant;

use jiff::ToSpan;
use jiff::civil::Date;
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::db::Db;
use support::{env_or, peak_rss_mib};

const FIRST_DAY: &str = "2025-12-01";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let days: i64 = env_or("ONETRIP_BENCH_DAYS", 365);
        let per_day: i64 = env_or("ONETRIP_BENCH_PER_DAY", 3600);
        let dir = tempfile::tempdir().expect("tempdir");
        let db = support::fresh_sqlite(dir.path()).await;
        let first: Date = FIRST_DAY.parse().expect("date");
        let last = first.checked_add((days - 1).days()).expect("last day");
        // The report is read the day after the generated year.
        let clock = Clock::fixed(
            onetrip::clock::local_ms(last.tomorrow().expect("day"), 9 * 60).expect("ms"),
        );
        let config = Config {
            data_dir: support::data_dir(),
            ..Config::default()
        };
        let state = support::app_state(db.clone(), config, clock.clone(), false).await;
        let hall = onetrip::sites::site_by_code(db.reader(), "0001")
            .await
            .expect("q")
            .expect("hall");

        let t = Instant::now();
        let base = onetrip::clock::local_ms(first, 9 * 60).expect("ms");
        generate(&db, hall.id, days, per_day, base).await;
        let tickets: i64 = count(&db, "SELECT COUNT(*) AS n FROM tickets").await;
        let accepted: i64 = count(&db, "SELECT COUNT(*) AS n FROM applications").await;
        println!(
            "generated {days} days: {tickets} tickets, {accepted} accepted applications in {:.1} s",
            t.elapsed().as_secs_f64()
        );

        let t = Instant::now();
        let rolled = onetrip::reports::rollup::settle(&db, &clock, hall.id, 0)
            .await
            .expect("roll up");
        let secs = t.elapsed().as_secs_f64();
        println!(
            "rolled up {rolled} days in {secs:.1} s ({:.1} ms a day)",
            secs * 1000.0 / rolled.max(1) as f64
        );
        let rows: i64 = count(&db, "SELECT COUNT(*) AS n FROM report_counts").await;
        let hist: i64 = count(&db, "SELECT COUNT(*) AS n FROM report_minutes").await;
        println!("aggregates: {rows} count rows, {hist} histogram rows");

        let mut monthly = Vec::new();
        let mut month = first;
        while month <= last {
            let end = month.last_of_month().min(last);
            let range = onetrip::reports::report::Range::new(month, end).expect("range");
            let t = Instant::now();
            let r =
                onetrip::reports::web::report_for(&state, &hall, range, onetrip::i18n::Lang::ZhCn)
                    .await
                    .expect("monthly report");
            monthly.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(!r.tables.is_empty());
            month = end.tomorrow().expect("next");
        }
        print_times("monthly report", &mut monthly);
        let mut yearly = Vec::new();
        for _ in 0..5 {
            let range = onetrip::reports::report::Range::new(first, last).expect("range");
            let t = Instant::now();
            let r =
                onetrip::reports::web::report_for(&state, &hall, range, onetrip::i18n::Lang::ZhCn)
                    .await
                    .expect("yearly report");
            yearly.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(r.daily.len() as i64, days);
        }
        print_times("yearly report", &mut yearly);
        println!("peak memory: {:.1} MiB", peak_rss_mib());
    });
}

fn print_times(what: &str, ms: &mut [f64]) {
    ms.sort_by(f64::total_cmp);
    let p50 = ms[ms.len() / 2];
    let max = ms[ms.len() - 1];
    println!(
        "{what}: {} runs, p50 {p50:.1} ms, max {max:.1} ms",
        ms.len()
    );
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(db.reader())
        .await
        .expect("count")
        .get("n")
}

/// Generates the history in SQL: a day is `per_day` tickets eight seconds apart from 09:00, on
/// three lines, one in twenty green and one in twenty-five missed; waits of 0–40 minutes and
/// services of 2–25, spread by a multiplicative hash; three in five accepted and paid.
async fn generate(db: &Db, site: i64, days: i64, per_day: i64, base_ms: i64) {
    let mut tx = db.begin().await.expect("tx");
    sqlx::query(
        r#"WITH RECURSIVE d(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM d WHERE i < $1 - 1),
                n(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM n WHERE j < $2 - 1),
                g AS (SELECT i, j, $3 + i * 86400000 + j * 8000 AS issued,
                             ((i * 3600 + j) * 7919 % 2400) * 1000 AS wait,
                             (120 + (i * 3600 + j) * 104729 % 1380) * 1000 AS service
                      FROM d, n)
         INSERT INTO tickets (token, site_id, date, line_code, number, class, class_reason, status,
                              issued_at, channel, window_id, officer_id, called_at, started_at, finished_at)
         SELECT 'b' || i || '-' || j, $4, date($5, '+' || i || ' days'),
                CASE j % 3 WHEN 0 THEN 'first_issue' WHEN 1 THEN 'renewal' ELSE 'endorsement' END,
                'A' || j,
                CASE WHEN j % 20 = 0 THEN 'green' WHEN j % 4 = 1 THEN 'appointment' ELSE 'normal' END,
                CASE WHEN j % 20 = 0 THEN 'funeral' END,
                CASE WHEN j % 25 = 0 THEN 'no_show' ELSE 'done' END,
                issued, 'kiosk', 100 + j % 30, 900 + j % 30, issued + wait,
                CASE WHEN j % 25 = 0 THEN NULL ELSE issued + wait + 20000 END,
                CASE WHEN j % 25 = 0 THEN NULL ELSE issued + wait + 20000 + service END
         FROM g"#,
    )
    .bind(days)
    .bind(per_day)
    .bind(base_ms)
    .bind(site)
    .bind(FIRST_DAY)
    .execute(&mut *tx)
    .await
    .expect("tickets");
    sqlx::query(
        r#"INSERT INTO applications (application_no, token, site_id, form_date, channel, status, id_index,
              id_sealed, name_sealed, phone_sealed, address_sealed, sex, birth_date, ethnicity, id_source,
              lang, created_at, ticket_id, window_id, officer_id, time_limit_class, accepted_at, promised_date)
         SELECT 'B' || id, 'tok' || id, site_id, date, 'window', 'accepted', 'idx' || id,
                X'00', X'00', X'00', X'00', 'M', '1990-01-01', '汉', 'typed', 'zh-CN', issued_at, id,
                window_id, officer_id, CASE WHEN id % 50 = 0 THEN 'expedited' ELSE 'normal' END,
                finished_at, date(date, '+10 days')
         FROM tickets WHERE status = 'done' AND id % 5 < 3"#,
    )
    .execute(&mut *tx)
    .await
    .expect("applications");
    sqlx::query(
        r#"INSERT INTO application_documents (application_id, position, document_type, category, item_id, status, promised_date)
         SELECT id, 0, CASE WHEN id % 3 = 0 THEN 'hk_macao_permit' ELSE 'passport' END,
                CASE WHEN id % 2 = 0 THEN 'first_issue' ELSE 'renewal' END, 'bench', 'accepted', promised_date
         FROM applications"#,
    )
    .execute(&mut *tx)
    .await
    .expect("documents");
    sqlx::query(
        r#"INSERT INTO payments (application_id, site_id, method, channel, amount_fen, order_no, status,
              receipt_no, created_at, paid_at, business_date)
         SELECT id, site_id, CASE id % 4 WHEN 0 THEN 'cash' WHEN 1 THEN 'card' WHEN 2 THEN 'alipay' ELSE 'wechat' END,
                'window', 12000, 'o' || id, 'paid', 'r' || id, accepted_at, accepted_at, form_date
         FROM applications"#,
    )
    .execute(&mut *tx)
    .await
    .expect("payments");
    tx.commit().await.expect("commit");
}
