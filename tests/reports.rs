//! Reports (issue 16) on both engines: three recorded days at the hall — tickets of every
//! class and fate, applications accepted through the engine and paid — become a report whose
//! figures equal a recount from the raw rows (counts, medians and 90th percentiles, the
//! 16-minute journey share), whose CSV and .xlsx exports read back to the same cells, which a
//! second roll-up leaves unchanged, and which other staff cannot read.

mod common;

use std::collections::BTreeMap;

use common::{Engine, TestApp, accepted_at, actor_at, at, pay_cash, synthetic_id};
use onetrip::auth::Role;
use onetrip::catalog::TimeLimitClass;
use onetrip::clock::Clock;
use onetrip::config::Config;
use serde_json::Value;
use sqlx::Row;

const DAYS: [&str; 3] = ["2026-11-30", "2026-12-01", "2026-12-02"];
const LINES: [&str; 2] = ["first_issue", "renewal"];

/// A deterministic but irregular stream of numbers (no two days alike).
fn spread(i: i64, modulo: i64) -> i64 {
    (i * 7919 + 104_729) % modulo
}

/// Records tickets on each day: most served after a wait of 0–40 minutes and a service of
/// 2–25 minutes, some missed, some still waiting; green ones with a reason.
async fn record_tickets(app: &TestApp, site: i64) {
    let mut tx = app.state.db.begin().await.expect("tx");
    let mut n = 0i64;
    for (d, date) in DAYS.iter().enumerate() {
        let per_day = 40 + 7 * d as i64;
        for i in 0..per_day {
            n += 1;
            let issued = at(&format!("{date}T09:00:00+08:00")) + i * 4 * 60_000;
            let wait_s = spread(n, 40 * 60);
            let service_s = 120 + spread(n * 3, 23 * 60);
            let status = match n % 10 {
                0 => "no_show",
                9 if d == 2 => "waiting",
                _ => "done",
            };
            let (called, started, finished) =
                common::ticket_times(status, issued, wait_s, service_s);
            let class = common::ticket_class(n);
            let window = 100 + n % 3;
            common::insert_ticket(
                &mut tx,
                common::RawTicket {
                    token: format!("r-{n}"),
                    site,
                    date,
                    line: LINES[(n % 2) as usize],
                    number: format!("A{n:03}"),
                    class,
                    status,
                    issued,
                    window,
                    officer: 900 + n % 2,
                    called,
                    started,
                    finished,
                },
            )
            .await;
        }
    }
    tx.commit().await.expect("commit");
}

/// Nearest-rank quantile of whole minutes, computed straight from durations in ms.
fn quantile(ms: &[i64], q: f64) -> Option<i64> {
    let mut m: Vec<i64> = ms.iter().map(|d| (d / 1000).max(0) / 60).collect();
    m.sort();
    if m.is_empty() {
        return None;
    }
    let rank = ((q * m.len() as f64).ceil() as usize).clamp(1, m.len());
    Some(m[rank - 1])
}

fn summary(report: &Value) -> BTreeMap<String, Value> {
    report["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["id"] == "summary")
        .expect("summary")["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| (r[0].as_str().expect("code").to_string(), r[2].clone()))
        .collect()
}

fn table<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("table {id}"))
}

on_both_engines!(the_report_equals_a_recount_from_the_raw_rows);

async fn the_report_equals_a_recount_from_the_raw_rows(engine: Engine) {
    let clock = Clock::fixed(at("2026-11-30T08:30:00+08:00"));
    let Some(app) = TestApp::spawn_full(engine, Config::default(), clock.clone()).await else {
        return;
    };
    let hall = app.site_id("0001").await;
    record_tickets(&app, hall).await;

    // Two applications accepted through the engine on the middle day, each after a ticket:
    // one in 12 minutes (within the promise), one in 25; the first paid in cash.
    clock.advance_ms(at("2026-12-01T10:00:00+08:00") - clock.now_ms());
    let officer = actor_at(hall, &[Role::Officer]);
    let mut journeys = Vec::new();
    for (k, minutes) in [(1u32, 12i64), (2, 25)] {
        let ticket = common::walk_in(
            &app,
            &onetrip::sites::site_by_code(app.state.db.reader(), "0001")
                .await
                .expect("q")
                .expect("hall"),
            "first_issue",
        )
        .await;
        clock.advance_ms(minutes * 60_000);
        let no = accepted_at(
            &app,
            &officer,
            synthetic_id("19900101", 70 + k),
            TimeLimitClass::Normal,
        )
        .await;
        // The acceptance took place at the window that called this ticket.
        sqlx::query("UPDATE applications SET ticket_id = $1 WHERE application_no = $2")
            .bind(ticket.id)
            .bind(no.as_str())
            .execute(app.state.db.reader())
            .await
            .expect("link the ticket");
        if k == 1 {
            pay_cash(&app, hall, &no).await;
        }
        journeys.push(minutes);
    }

    // The report is read on the last day, through the API, as the duty leader.
    clock.advance_ms(at("2026-12-02T18:00:00+08:00") - clock.now_ms());
    let password = app
        .staff("report_lead", vec![(Role::Leader, Some(hall))])
        .await;
    let (c, _) = app.api_session("report_lead", &password).await;
    let url = app.url(&format!(
        "/api/v1/sites/0001/reports?from={}&to={}",
        DAYS[0], DAYS[2]
    ));
    let res = c.get(&url).send().await.expect("report");
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.expect("json");
    assert_eq!(report["previous_from"], "2026-11-27");
    assert_eq!(report["previous_to"], "2026-11-29");
    let s = summary(&report);

    // The recount, straight from the raw rows.
    let rows = sqlx::query(
        "SELECT line_code, status, issued_at, called_at, started_at, finished_at FROM tickets WHERE site_id = $1",
    )
    .bind(hall)
    .fetch_all(app.state.db.reader())
    .await
    .expect("tickets");
    let (mut issued, mut served, mut missed) = (0i64, 0i64, 0i64);
    let (mut waits, mut services) = (Vec::new(), Vec::new());
    let mut per_line: BTreeMap<String, (i64, Vec<i64>)> = BTreeMap::new();
    for r in &rows {
        let status: String = r.get("status");
        let issued_at: i64 = r.get("issued_at");
        let called: Option<i64> = r.get("called_at");
        let line: String = r.get("line_code");
        issued += 1;
        let e = per_line.entry(line).or_default();
        e.0 += 1;
        if let Some(c) = called {
            waits.push(c - issued_at);
            e.1.push(c - issued_at);
        }
        match status.as_str() {
            "done" => {
                served += 1;
                let (st, fi): (i64, i64) = (r.get("started_at"), r.get("finished_at"));
                services.push(fi - st);
            }
            "no_show" => missed += 1,
            _ => {}
        }
    }
    assert!(issued > 120, "the days hold enough tickets: {issued}");
    assert_eq!(s["issued"], issued);
    assert_eq!(s["served"], served);
    assert_eq!(s["missed"], missed);
    assert_eq!(s["wait_median"], quantile(&waits, 0.5).expect("waits"));
    assert_eq!(s["wait_p90"], quantile(&waits, 0.9).expect("waits"));
    assert_eq!(
        s["service_median"],
        quantile(&services, 0.5).expect("services")
    );
    assert_eq!(
        s["service_p90"],
        quantile(&services, 0.9).expect("services")
    );
    // Journeys: both applications are first HK/Macao ones; one of two within 16 minutes.
    assert_eq!(s["accepted"], 2);
    assert_eq!(s["journey_within"], 50.0);
    assert_eq!(s["headline_within"], 50.0);
    assert_eq!(report["headline_within_share"], 50.0);
    assert_eq!(report["headline_count"], 2);
    assert_eq!(s["journey_median"], journeys[0]);
    let green_raw: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM tickets WHERE site_id = $1 AND class = 'green'")
            .bind(hall)
            .fetch_one(app.state.db.reader())
            .await
            .expect("green")
            .get("n");
    assert!(
        green_raw > 0 && green_raw < rows.len() as i64,
        "some tickets, not all, are green"
    );
    assert_eq!(s["green"], green_raw);
    let reasons = table(&report, "green_channel");
    assert_eq!(
        reasons["rows"][0][1], green_raw,
        "all green tickets had the funeral reason"
    );
    // Per line: issued and the wait median from the raw rows.
    let by_line = table(&report, "by_line");
    for (code, (n, w)) in &per_line {
        let name = app
            .state
            .lines
            .all()
            .iter()
            .find(|l| &l.code == code)
            .expect("line")
            .name(onetrip::i18n::Lang::ZhCn)
            .to_string();
        let row = by_line["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r[0] == name.as_str())
            .unwrap_or_else(|| panic!("line {name} in {by_line}"));
        assert_eq!(row[1], *n, "issued on {code}");
        assert_eq!(
            row[4],
            quantile(w, 0.5).expect("w"),
            "wait median on {code}"
        );
    }
    // Payments: one cash payment of the recorded fee.
    let fee: i64 = sqlx::query("SELECT CAST(SUM(amount_fen) AS BIGINT) AS f FROM payments WHERE site_id = $1 AND status = 'paid'")
        .bind(hall)
        .fetch_one(app.state.db.reader())
        .await
        .expect("fee")
        .get("f");
    let pay = table(&report, "payments");
    assert_eq!(pay["rows"][0][1], 1);
    assert_eq!(pay["rows"][0][2].as_f64(), Some(fee as f64 / 100.0));
    // The daily series: one point per day, issued as recorded.
    let daily = report["daily"].as_array().expect("daily");
    assert_eq!(daily.len(), 3);
    for (p, date) in daily.iter().zip(DAYS) {
        let n: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM tickets WHERE site_id = $1 AND date = $2")
                .bind(hall)
                .bind(date)
                .fetch_one(app.state.db.reader())
                .await
                .expect("n")
                .get("n");
        assert_eq!(p["date"], date);
        assert_eq!(p["issued"], n);
    }

    // Rolling a day up again changes nothing.
    let snapshot = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            sqlx::query("SELECT dim, date, dim_key, metric, value FROM report_counts ORDER BY dim, date, dim_key, metric")
                .fetch_all(db.reader())
                .await
                .expect("counts")
                .iter()
                .map(|r| format!("{}|{}|{}|{}|{}", r.get::<String, _>("dim"), r.get::<String, _>("date"), r.get::<String, _>("dim_key"), r.get::<String, _>("metric"), r.get::<i64, _>("value")))
                .collect::<Vec<_>>()
        }
    };
    let before = snapshot(&app).await;
    for d in DAYS {
        onetrip::reports::rollup::roll_up_day(
            &app.state.db,
            &app.state.clock,
            hall,
            d.parse().expect("date"),
        )
        .await
        .expect("roll up");
    }
    assert_eq!(snapshot(&app).await, before);

    // The exports carry the same cells: the summary as CSV, every table in the workbook.
    let export = |fmt: &str, table: &str| {
        app.url(&format!(
            "/staff/leader/reports/export?site=0001&from={}&to={}&format={fmt}&table={table}",
            DAYS[0], DAYS[2]
        ))
    };
    let res = c.get(export("csv", "summary")).send().await.expect("csv");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/csv")
    );
    let body = res.text().await.expect("csv body");
    let mut csv_rows: BTreeMap<String, String> = BTreeMap::new();
    for line in body.trim_start_matches('\u{feff}').lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        csv_rows.insert(cols[0].to_string(), cols[2].to_string());
    }
    assert_eq!(csv_rows["issued"], issued.to_string());
    assert_eq!(csv_rows["wait_p90"], s["wait_p90"].to_string());
    assert_eq!(csv_rows["journey_within"], "50.0");

    let res = c.get(export("xlsx", "")).send().await.expect("xlsx");
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.expect("xlsx body");
    use calamine::{DataType, Reader};
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("a real xlsx");
    let names = book.sheet_names();
    for t in report["tables"].as_array().expect("tables") {
        assert!(
            names.contains(&t["id"].as_str().expect("id").to_string()),
            "sheet {} in {names:?}",
            t["id"]
        );
    }
    let sheet = book.worksheet_range("summary").expect("summary sheet");
    let mut found = 0;
    for row in sheet.rows() {
        let code = row.first().map(|c| c.to_string()).unwrap_or_default();
        if let Some(expected) = s.get(&code) {
            let cell = &row[2];
            match expected.as_f64() {
                Some(x) => assert_eq!(
                    cell.get_float().or(cell.get_int().map(|i| i as f64)),
                    Some(x),
                    "{code}"
                ),
                None => assert!(
                    cell.is_empty(),
                    "{code} is empty on the page and in the sheet"
                ),
            }
            found += 1;
        }
    }
    assert_eq!(found, s.len(), "every summary figure is in the sheet");
    let by_line_sheet = book.worksheet_range("by_line").expect("by_line sheet");
    assert_eq!(
        by_line_sheet.rows().count(),
        3 + by_line["rows"].as_array().expect("rows").len()
    );

    // The page shows the headline, the charts as SVG and the tables.
    let res = c
        .get(app.url(&format!(
            "/staff/leader/reports?site=0001&from={}&to={}&lang=en",
            DAYS[0], DAYS[2]
        )))
        .send()
        .await
        .expect("page");
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("html");
    assert!(html.contains("First HK/Macao applications done within 16 minutes"));
    assert_eq!(
        html.matches("<svg").count(),
        3,
        "three charts drawn on the server"
    );
    assert!(html.contains("id=\"table-by_officer\""));

    // Bad ranges are refused in words; other staff are refused.
    let res = c
        .get(app.url("/api/v1/sites/0001/reports?from=2026-12-02&to=2026-12-01"))
        .header("accept-language", "en")
        .send()
        .await
        .expect("reversed");
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "report.range_reversed", "{body}");
    let res = c
        .get(app.url("/api/v1/sites/0001/reports?from=2025-01-01&to=2026-12-01"))
        .send()
        .await
        .expect("long");
    assert_eq!(res.status(), 422);
    let res = c
        .get(app.url("/api/v1/sites/0001/reports?from=2026-13-01"))
        .send()
        .await
        .expect("bad");
    assert_eq!(res.status(), 422);
    let pw = app
        .staff("report_officer", vec![(Role::Officer, Some(hall))])
        .await;
    let (other, _) = app.api_session("report_officer", &pw).await;
    let res = other.get(&url).send().await.expect("officer");
    assert_eq!(res.status(), 403);
}

on_both_engines!(an_old_day_is_rolled_again_when_a_late_document_is_ready_or_its_payment_refunded);

/// Beyond the 45 days a day may still change, only two things reach back: a document counted
/// overdue on its promised date becomes ready (then it counts late), and a payment of the day
/// is refunded. The background job rolls exactly those days again, once per change.
async fn an_old_day_is_rolled_again_when_a_late_document_is_ready_or_its_payment_refunded(
    engine: Engine,
) {
    use onetrip::reports::rollup::settle;
    let clock = Clock::fixed(at("2026-09-01T09:00:00+08:00"));
    let Some(app) = TestApp::spawn_full(engine, Config::default(), clock.clone()).await else {
        return;
    };
    let hall = app.site_id("0001").await;
    let site = onetrip::sites::site(app.state.db.reader(), hall)
        .await
        .expect("q")
        .expect("hall");
    common::walk_in(&app, &site, "first_issue").await;
    let staff = actor_at(
        hall,
        &[
            Role::Officer,
            Role::Approver,
            Role::Producer,
            Role::Custodian,
            Role::Cashier,
        ],
    );
    let no = accepted_at(
        &app,
        &staff,
        synthetic_id("19850505", 41),
        TimeLimitClass::Normal,
    )
    .await;
    let receipt = pay_cash(&app, hall, &no).await;
    let application = onetrip::applications::application_by_no(app.state.db.reader(), no.as_str())
        .await
        .expect("q")
        .expect("application");
    let docs = onetrip::documents::docs_of_application(app.state.db.reader(), application.id)
        .await
        .expect("docs");
    let promised: String =
        sqlx::query("SELECT promised_date FROM application_documents WHERE id = $1")
            .bind(docs[0].id)
            .fetch_one(app.state.db.reader())
            .await
            .expect("promised")
            .get("promised_date");
    let promised_date: jiff::civil::Date = promised.parse().expect("date");

    // Fifty days after the promise, nothing produced: the day counts its documents overdue.
    let later = promised_date
        .checked_add(jiff::Span::new().days(50))
        .expect("date");
    clock.advance_ms(onetrip::clock::local_ms(later, 10 * 60).expect("10:00") - clock.now_ms());
    let (db, c) = (&app.state.db, &app.state.clock);
    assert!(
        settle(db, c, hall, 0).await.expect("settle") > 45,
        "the history is rolled"
    );
    let metric = |date: String, metric: &'static str| {
        let db = app.state.db.clone();
        async move {
            sqlx::query(
                "SELECT value FROM report_counts WHERE site_id = $1 AND dim = 'site' AND dim_key = '' AND date = $2 AND metric = $3",
            )
            .bind(hall)
            .bind(date)
            .bind(metric)
            .fetch_optional(db.reader())
            .await
            .expect("count")
            .map(|r| r.get::<i64, _>("value"))
            .unwrap_or(0)
        }
    };
    let n = docs.len() as i64;
    assert_eq!(metric(promised.clone(), "limit.overdue").await, n);
    assert_eq!(metric(promised.clone(), "limit.late").await, 0);
    // Nothing changed: the settled days stay as they are.
    let quiet = i64::MAX / 4;
    assert_eq!(settle(db, c, hall, quiet).await.expect("settle"), 0);

    // The documents are produced and checked in an hour later: the old day now counts them late.
    clock.advance_ms(3_600_000);
    common::kept(
        &app,
        &staff,
        application.id,
        &site,
        "A",
        ("E87654321", "CA7654321"),
    )
    .await;
    assert_eq!(settle(db, c, hall, quiet).await.expect("settle"), 1);
    assert_eq!(metric(promised.clone(), "limit.overdue").await, 0);
    assert_eq!(metric(promised.clone(), "limit.late").await, n);
    assert_eq!(settle(db, c, hall, quiet).await.expect("settle"), 0, "once");

    // The fee of 1 September is refunded in part today: that day's refunded amount follows.
    let paid = "2026-09-01".to_string();
    assert_eq!(metric(paid.clone(), "pay.cash.refunded").await, 0);
    clock.advance_ms(3_600_000);
    onetrip::payments::refund(
        &app.state.payments(),
        &common::granted(&staff),
        &receipt,
        1_000,
        "收费有误",
        true,
    )
    .await
    .expect("refund");
    assert_eq!(settle(db, c, hall, quiet).await.expect("settle"), 1);
    assert_eq!(metric(paid.clone(), "pay.cash.refunded").await, 1_000);
    assert_eq!(settle(db, c, hall, quiet).await.expect("settle"), 0, "once");
}
