//! The staffing planner (issue 16) on both engines: four recorded Thursdays at the hall become
//! the expected arrivals of the next Thursday, the measured service time, the windows Erlang C
//! asks for (checked by the simulation) and the windows the line had, through the duty
//! leader's JSON API and page; other staff are refused.

mod common;

use common::{Engine, TestApp, at};
use onetrip::auth::Role;
use onetrip::clock::Clock;
use onetrip::config::Config;
use serde_json::Value;

/// Records `per_hour` served first-issue tickets in each of 09, 10 and 11 o'clock on `date`,
/// 12 minutes of service each, called at `windows` windows in turn.
async fn record_day(app: &TestApp, site: i64, date: &str, per_hour: i64, windows: i64) {
    let mut tx = app.state.db.begin().await.expect("tx");
    let mut n = 0;
    for hour in [9, 10, 11] {
        let start = at(&format!("{date}T{hour:02}:00:00+08:00"));
        for i in 0..per_hour {
            n += 1;
            let issued = start + i * 3_600_000 / per_hour;
            let called = issued + 5 * 60_000;
            sqlx::query(
                r#"INSERT INTO tickets (token, site_id, date, line_code, number, class, status, issued_at,
                 channel, window_id, called_at, started_at, finished_at)
                 VALUES ($1, $2, $3, 'first_issue', $4, $5, 'done', $6, 'kiosk', $7, $8, $9, $10)"#,
            )
            .bind(format!("t-{date}-{n}"))
            .bind(site)
            .bind(date)
            .bind(format!("A{n:03}"))
            .bind(if i % 5 == 0 { "appointment" } else { "normal" })
            .bind(issued)
            .bind(100 + (i % windows))
            .bind(called)
            .bind(called + 30_000)
            .bind(called + 30_000 + 12 * 60_000)
            .execute(&mut *tx)
            .await
            .expect("ticket");
        }
    }
    tx.commit().await.expect("commit");
}

/// The plan of one line in a day plan.
fn line_of(plan: &Value, code: &str) -> Value {
    plan["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["line"] == code)
        .cloned()
        .unwrap_or_else(|| panic!("line {code}"))
}

/// One hour of a line's plan.
fn hour_of(line: &Value, h: i64) -> Value {
    line["hours"]
        .as_array()
        .expect("hours")
        .iter()
        .find(|x| x["hour"] == h)
        .cloned()
        .expect("hour planned")
}

on_both_engines!(the_planner_reads_recorded_days_and_asks_erlang_c);

async fn the_planner_reads_recorded_days_and_asks_erlang_c(engine: Engine) {
    let Some(app) = TestApp::spawn_full(
        engine,
        Config::default(),
        Clock::fixed(at("2026-12-03T08:00:00+08:00")),
    )
    .await
    else {
        return;
    };
    let hall = app.site_id("0001").await;
    for date in ["2026-11-26", "2026-11-19", "2026-11-12", "2026-11-05"] {
        record_day(&app, hall, date, 30, 7).await;
    }
    // A Wednesday does not count for a Thursday.
    record_day(&app, hall, "2026-12-02", 90, 3).await;
    let pw = app
        .staff("plan.duty", vec![(Role::Leader, Some(hall))])
        .await;
    let (leader, _) = app.api_session("plan.duty", &pw).await;
    let res = leader
        .get(app.url("/api/v1/sites/0001/staffing?date=2026-12-03"))
        .send()
        .await
        .expect("plan");
    assert_eq!(res.status(), 200);
    let plan: Value = res.json().await.expect("json");
    assert_eq!(plan["open"], true);
    let line = line_of(&plan, "first_issue");
    assert_eq!(line["basis"], "same_weekday");
    assert_eq!(line["reference_days"].as_array().map(Vec::len), Some(4));
    assert_eq!(line["mean_service_minutes"], 12.0);
    let hour = |h: i64| hour_of(&line, h);
    let ten = hour(10);
    assert_eq!(ten["expected_arrivals"], 30.0);
    // 6 erlangs: 7 windows give 82 % within 15 minutes, 8 give 97 % (Erlang C).
    assert_eq!(ten["needed_windows"], 8);
    assert_eq!(ten["staffed_windows"], 7);
    let needed_share = ten["needed_share"].as_f64().expect("simulated");
    let staffed_share = ten["staffed_share"].as_f64().expect("simulated");
    assert!(
        needed_share >= 0.9,
        "the recommended rota meets the target: {needed_share}"
    );
    assert!(
        staffed_share < needed_share,
        "{staffed_share} vs {needed_share}"
    );
    // An hour nobody came needs no window.
    let afternoon = hour(15);
    assert_eq!(afternoon["expected_arrivals"], 0.0);
    assert_eq!(afternoon["needed_windows"], 0);

    // Arrivals entered by hand replace the history for their hour only: a fair doubles ten
    // o'clock, and Erlang C asks for more windows.
    let fair: Value = leader
        .get(app.url("/api/v1/sites/0001/staffing?date=2026-12-03&expected=first_issue:10=60"))
        .send()
        .await
        .expect("plan")
        .json()
        .await
        .expect("json");
    let fair_line = line_of(&fair, "first_issue");
    assert_eq!(fair_line["entered_hours"], serde_json::json!([10]));
    let fair_hour = |h: i64| hour_of(&fair_line, h);
    assert_eq!(fair_hour(10)["expected_arrivals"], 60.0);
    assert!(fair_hour(10)["needed_windows"].as_i64() > ten["needed_windows"].as_i64());
    assert_eq!(
        fair_hour(9)["expected_arrivals"],
        hour(9)["expected_arrivals"]
    );
    for bad in [
        "first_issue:25=3",
        "nowhere:9=3",
        "first_issue:9=lots",
        "first_issue",
    ] {
        let res = leader
            .get(app.url(&format!(
                "/api/v1/sites/0001/staffing?date=2026-12-03&expected={bad}"
            )))
            .send()
            .await
            .expect("bad");
        assert_eq!(res.status(), 422, "{bad}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["code"], "staffing.expected_arrivals", "{bad}");
    }
    let page = leader
        .get(app.url("/staff/leader/staffing?site=0001&date=2026-12-03&expected=first_issue:10=60"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("value=\"first_issue:10=60\""),
        "the entry stays in the form"
    );
    assert!(page.contains("10:00"));

    // A Sunday the hall is closed: nothing to staff.
    let sunday: Value = leader
        .get(app.url("/api/v1/sites/0001/staffing?date=2026-12-06"))
        .send()
        .await
        .expect("sunday")
        .json()
        .await
        .expect("json");
    assert_eq!(sunday["open"], false);

    // The page shows the same numbers.
    let html = leader
        .get(app.url("/staff/leader/staffing?site=0001&date=2026-12-03"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("Erlang C"), "{html}");
    assert!(html.contains("10:00–11:00"));

    // Not the duty leader: refused.
    let opw = app
        .staff("plan.officer", vec![(Role::Officer, Some(hall))])
        .await;
    let (officer, _) = app.api_session("plan.officer", &opw).await;
    let res = officer
        .get(app.url("/api/v1/sites/0001/staffing"))
        .send()
        .await
        .expect("plan");
    assert_eq!(res.status(), 403);
}
