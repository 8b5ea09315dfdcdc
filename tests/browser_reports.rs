//! The monthly report in a real browser (issue 16): a month of recorded history at the hall
//! becomes the duty leader's report page, whose headline, three plotters-drawn charts and
//! tables show at 1440×900 without sideways scrolling, whose Excel link exports every table,
//! which reads in English too, and which still fits a phone.

mod common;

use common::browser::*;
use common::kiosk::screen;
use common::{Engine, TestApp, actor_at, at, synthetic_id};
use fantoccini::Client;
use onetrip::auth::Role;
use onetrip::catalog::TimeLimitClass;
use onetrip::clock::Clock;
use onetrip::config::Config;
use serde_json::json;
use sqlx::Row;

const LINES: [&str; 2] = ["first_issue", "renewal"];

/// A deterministic but irregular stream of numbers (no two days alike).
fn spread(i: i64, modulo: i64) -> i64 {
    (i * 7919 + 104_729) % modulo
}

/// The working days (Monday to Friday) of November 2026.
fn november_working_days() -> Vec<String> {
    (1..=30)
        .map(|d| format!("2026-11-{d:02}"))
        .filter(|d| {
            let date: jiff::civil::Date = d.parse().expect("date");
            !matches!(
                date.weekday(),
                jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
            )
        })
        .collect()
}

/// Records a month of tickets the way tests/reports.rs does: on each working day 30–60 of
/// them (Mondays busiest, Thursdays quietest, and a busier second half of the month), most
/// served after a wait that grows with the day's crowd, some missed; green ones with a reason.
/// Returns, per day, three served tickets of the first-issue line to hang applications on.
async fn record_tickets(app: &TestApp, site: i64, days: &[String]) -> Vec<Vec<(String, i64)>> {
    let mut tx = app.state.db.begin().await.expect("tx");
    let mut n = 0i64;
    let mut served_first = Vec::new();
    for (d, date) in days.iter().enumerate() {
        let d = d as i64;
        let weekday = date
            .parse::<jiff::civil::Date>()
            .expect("date")
            .weekday()
            .to_monday_zero_offset() as i64;
        let per_day = ([50, 42, 38, 34, 44][weekday as usize] + d / 2 + spread(d * 13 + 5, 7) - 3)
            .clamp(30, 60);
        // The wait ceiling in minutes: a quiet day waits 8–12, a crowded one up to about 45.
        let wait_ceiling = 8 + (per_day - 30) + spread(d * 5 + 1, 5);
        let mut picked = Vec::new();
        for i in 0..per_day {
            n += 1;
            let issued = at(&format!("{date}T09:00:00+08:00")) + i * 7 * 60_000;
            let wait_s = spread(n, wait_ceiling * 60);
            let service_s = 120 + spread(n * 3, 18 * 60);
            let status = match n % 9 {
                0 => "no_show",
                _ => "done",
            };
            let (called, started, finished) =
                common::ticket_times(status, issued, wait_s, service_s);
            let class = common::ticket_class(n);
            let line = LINES[(n % 2) as usize];
            let token = format!("r-{n}");
            // Spread over the morning: at least six tickets apart.
            let spaced = picked
                .last()
                .is_none_or(|(_, at): &(String, i64)| issued - at >= 42 * 60_000);
            if picked.len() < 3 && status == "done" && line == "first_issue" && spaced {
                picked.push((token.clone(), issued));
            }
            let window = 100 + n % 3;
            common::insert_ticket(
                &mut tx,
                common::RawTicket {
                    token: token.clone(),
                    site,
                    date,
                    line,
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
        assert_eq!(
            picked.len(),
            3,
            "three served first-issue tickets on {date}"
        );
        served_first.push(picked);
    }
    tx.commit().await.expect("commit");
    served_first
}

/// Three applications accepted through the engine per working day, each after one of that
/// day's tickets, so the journey chart has a line: some within 16 minutes, some not.
async fn accept_three_a_day(app: &TestApp, clock: &Clock, tickets: &[Vec<(String, i64)>]) {
    let officer = actor_at(app.site_id("0001").await, &[Role::Officer]);
    for (k, (token, issued)) in tickets.iter().flatten().enumerate() {
        let minutes = 6 + spread(k as i64 * 5 + 11, 22);
        clock.advance_ms(issued + minutes * 60_000 - clock.now_ms());
        let no = common::accepted_at(
            app,
            &officer,
            synthetic_id("19900101", 100 + k as u32),
            TimeLimitClass::Normal,
        )
        .await;
        let ticket: i64 = sqlx::query("SELECT id FROM tickets WHERE token = $1")
            .bind(token)
            .fetch_one(app.state.db.reader())
            .await
            .expect("the ticket")
            .get("id");
        sqlx::query("UPDATE applications SET ticket_id = $1 WHERE application_no = $2")
            .bind(ticket)
            .bind(no.as_str())
            .execute(app.state.db.reader())
            .await
            .expect("link the ticket");
    }
}

/// The rendered size of each chart (width, height, shown), in page order.
async fn chart_boxes(c: &Client) -> Vec<(f64, f64, bool)> {
    let v = c
        .execute(
            "return [...document.querySelectorAll('figure.chart svg')].map(s => {
               const r = s.getBoundingClientRect(), st = getComputedStyle(s);
               return [r.width, r.height, st.display !== 'none' && st.visibility !== 'hidden'];
             });",
            vec![],
        )
        .await
        .expect("measure the charts");
    v.as_array()
        .expect("a list")
        .iter()
        .map(|b| {
            (
                b[0].as_f64().expect("width"),
                b[1].as_f64().expect("height"),
                b[2].as_bool().expect("shown"),
            )
        })
        .collect()
}

async fn rows_in(c: &Client, table: &str) -> i64 {
    c.execute(
        "return document.querySelectorAll(arguments[0] + ' tbody tr').length;",
        vec![json!(table)],
    )
    .await
    .expect("count rows")
    .as_i64()
    .expect("a number")
}

async fn page_width(c: &Client) -> (i64, i64) {
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .expect("measure the page");
    (
        v[0].as_i64().expect("scrollWidth"),
        v[1].as_i64().expect("innerWidth"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_monthly_report_reads_in_a_browser() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let read_at = at("2026-12-03T08:30:00+08:00");
    let clock = Clock::fixed(read_at);
    let app = TestApp::spawn_full(Engine::Sqlite, Config::default(), clock.clone())
        .await
        .expect("sqlite app");
    let hall = app.site_id("0001").await;
    let days = november_working_days();
    assert_eq!(days.len(), 21);
    let tickets = record_tickets(&app, hall, &days).await;
    accept_three_a_day(&app, &clock, &tickets).await;
    clock.advance_ms(read_at - clock.now_ms());
    let pw = app
        .staff("reports_lead_b", vec![(Role::Leader, Some(hall))])
        .await;
    let base = app.base.clone();
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, (1440, 900)).await;
        c.goto(&format!("{base}/login")).await.expect("login");
        sign_in(&c, "reports_lead_b", &pw).await;
        let report = format!("{base}/staff/leader/reports?site=0001&from=2026-11-01&to=2026-11-30");
        c.goto(&report).await.expect("the report");
        assert!(text_of(&c, "#reports-title").await.starts_with("统计报表"));

        // The headline and the three charts, each at least 600 px wide at 1440×900.
        let headline = c
            .find(fantoccini::Locator::Css("#report-headline"))
            .await
            .expect("the headline");
        assert!(headline.is_displayed().await.expect("shown"));
        assert!(headline.text().await.expect("text").contains('%'));
        let charts = chart_boxes(&c).await;
        assert_eq!(charts.len(), 3, "three charts: {charts:?}");
        for (w, h, shown) in &charts {
            assert!(*shown && *w > 600.0 && *h > 150.0, "a chart of {w}×{h}");
        }
        // Every chart has a drawn line (a path or polyline), not only its axes.
        let drawn = c
            .execute(
                "return [...document.querySelectorAll('figure.chart svg')]
                   .map(s => s.querySelectorAll('polyline, path').length);",
                vec![],
            )
            .await
            .expect("chart lines");
        for n in drawn.as_array().expect("list") {
            assert!(n.as_i64().unwrap_or(0) > 0, "a chart with lines: {drawn}");
        }

        // The tables: the summary, and one row per day of the month.
        assert!(rows_in(&c, "#table-summary").await > 3);
        assert!(rows_in(&c, "#table-daily").await >= 21);
        let daily = text_of(&c, "#table-daily tbody").await;
        assert!(daily.contains("2026-11-02"), "{daily}");

        // The Excel export of every table.
        let export = c
            .find(fantoccini::Locator::Css("#export-xlsx"))
            .await
            .expect("the export link");
        assert_eq!(
            export.text().await.expect("label").trim(),
            "导出全部表格（Excel）"
        );
        let href = export
            .attr("href")
            .await
            .expect("href")
            .expect("an address");
        assert!(
            href.starts_with("/staff/leader/reports/export?") && href.contains("format=xlsx"),
            "{href}"
        );
        let (scroll, inner) = page_width(&c).await;
        assert!(scroll <= inner, "{scroll} px wide in a {inner} px window");
        shots.take(&c, "reports-zh-1440x900.png").await;

        // In English.
        c.goto(&format!("{report}&lang=en")).await.expect("english");
        assert_eq!(html_lang(&c).await, "en");
        let title = text_of(&c, "#reports-title").await;
        assert!(title.starts_with("Reports"), "{title}");
        assert_eq!(
            text_of(&c, "#export-xlsx").await.trim(),
            "Export all tables (Excel)"
        );
        let charts = chart_boxes(&c).await;
        assert_eq!(charts.len(), 3);
        assert!(
            charts.iter().all(|(w, _, s)| *s && *w > 600.0),
            "{charts:?}"
        );
        let (scroll, inner) = page_width(&c).await;
        assert!(scroll <= inner, "{scroll} px wide in a {inner} px window");
        shots.take(&c, "reports-en-1440x900.png").await;

        // On a phone, in Chinese again: each chart keeps a readable size and scrolls sideways
        // inside its own box (as the tables do), the page itself does not.
        screen(&c, &shots, PHONE).await;
        c.goto(&format!("{report}&lang=zh"))
            .await
            .expect("the report on a phone");
        assert_eq!(html_lang(&c).await, "zh-CN");
        let charts = chart_boxes(&c).await;
        assert!(
            charts.iter().all(|(w, _, s)| *s && *w >= 600.0),
            "{charts:?}"
        );
        let figures = c
            .execute(
                "return [...document.querySelectorAll('figure.chart')]
                   .every(f => f.getBoundingClientRect().right <= window.innerWidth
                     && getComputedStyle(f).overflowX === 'auto');",
                vec![],
            )
            .await
            .expect("measure the figures");
        assert_eq!(figures, json!(true), "the charts scroll inside the page");
        let (scroll, inner) = page_width(&c).await;
        assert!(scroll <= inner, "{scroll} px wide in a {inner} px window");
        shots.take(&c, "reports-zh-390.png").await;
    })
    .await;
}
