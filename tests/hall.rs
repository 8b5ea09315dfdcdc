//! The live hall (issue 16) on both engines: waiting per line with the longest wait, the
//! window open with its officer and the ticket it serves, tickets served this hour, through
//! the duty leader's JSON API and page; the event stream announces a call at once; others are
//! refused.

mod common;

use common::{Engine, TestApp, at};
use onetrip::auth::Role;
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::queue::{self, TicketStatus};
use serde_json::Value;

on_both_engines!(the_duty_leader_sees_the_hall_as_it_is);

async fn the_duty_leader_sees_the_hall_as_it_is(engine: Engine) {
    let Some(app) = TestApp::spawn_full(
        engine,
        Config::default(),
        Clock::fixed(at("2026-12-03T09:00:00+08:00")),
    )
    .await
    else {
        return;
    };
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .expect("read")
        .expect("hall");
    let windows = onetrip::sites::windows_of(app.state.db.reader(), site.id)
        .await
        .expect("windows");
    let window = windows.iter().find(|w| w.number == 1).expect("window 1");
    let first = common::walk_in(&app, &site, "first_issue").await;
    common::walk_in(&app, &site, "first_issue").await;
    common::walk_in(&app, &site, "renewal").await;
    app.state.clock.advance_ms(20 * 60_000);

    let pw = app
        .staff("hall.duty", vec![(Role::Leader, Some(site.id))])
        .await;
    let (leader, _) = app.api_session("hall.duty", &pw).await;
    let hall = || async {
        let res = leader
            .get(app.url("/api/v1/sites/0001/hall"))
            .send()
            .await
            .expect("hall");
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.expect("json")
    };
    let v = hall().await;
    let line = |v: &Value, code: &str| {
        v["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .find(|l| l["line"] == code)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(line(&v, "first_issue")["waiting"], 2);
    assert_eq!(line(&v, "first_issue")["longest_wait_minutes"], 20);
    assert_eq!(line(&v, "renewal")["waiting"], 1);
    assert_eq!(v["windows_open"], 0);

    // The officer opens window 1 and calls: the stream says so at once.
    let events = leader
        .get(app.url("/staff/leader/hall/events?site=0001"))
        .send()
        .await
        .expect("events");
    assert_eq!(events.status(), 200);
    let opw = app
        .staff("hall.officer", vec![(Role::Officer, Some(site.id))])
        .await;
    let officer_id: i64 = sqlx::query_scalar("SELECT id FROM staff WHERE username = $1")
        .bind("hall.officer")
        .fetch_one(app.state.db.reader())
        .await
        .expect("officer");
    let mut officer = common::actor_at(site.id, &[Role::Officer]);
    officer.staff_id = officer_id;
    let ctx = app.state.queue();
    queue::open_window(&ctx, &common::granted(&officer), window)
        .await
        .expect("open");
    let called = queue::call_next(&ctx, &common::granted(&officer), window)
        .await
        .expect("call")
        .expect("a ticket");
    assert_eq!(called.number, first.number);
    let mut events = events;
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(2), events.chunk())
        .await
        .expect("an event within the second")
        .expect("read")
        .expect("chunk");
    assert!(String::from_utf8_lossy(&chunk).contains("changed"));

    let v = hall().await;
    assert_eq!(line(&v, "first_issue")["waiting"], 1);
    assert_eq!(v["windows_open"], 1);
    let w1 = v["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .find(|w| w["number"] == 1)
        .cloned()
        .expect("window 1");
    assert_eq!(w1["status"], "open");
    assert_eq!(w1["serving"], first.number.as_str());
    assert!(
        w1["officer"].as_str().is_some_and(|o| !o.is_empty()),
        "{w1}"
    );
    queue::advance(
        &ctx,
        &common::granted(&officer),
        window,
        TicketStatus::Serving,
    )
    .await
    .expect("start");
    queue::advance(&ctx, &common::granted(&officer), window, TicketStatus::Done)
        .await
        .expect("finish");
    let v = hall().await;
    assert_eq!(v["served_this_hour"], 1);
    assert_eq!(v["served_today"], 1);

    // The page shows the same.
    let html = leader
        .get(app.url("/staff/leader/hall?site=0001"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("id=\"hall-line-first_issue\""), "{html}");
    assert!(html.contains("/static/hall.js"));

    // An officer is not the duty leader.
    let (other, _) = app.api_session("hall.officer", &opw).await;
    let res = other
        .get(app.url("/api/v1/sites/0001/hall"))
        .send()
        .await
        .expect("hall");
    assert_eq!(res.status(), 403);
}

on_both_engines!(a_booking_storm_wakes_the_dashboard_a_few_times_not_each_time);

/// Bookings tell the duty leader's dashboard "this site changed": at once for the first, then at
/// most once a window with the latest, never lost at the end of a burst, each site on its own.
async fn a_booking_storm_wakes_the_dashboard_a_few_times_not_each_time(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let Some((db, _)) = common::fresh_db(engine, dir.path()).await else {
        return;
    };
    let mut events = db.subscribe();
    // PostgreSQL: the node's listener starts with the first subscriber.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let window = std::time::Duration::from_millis(200);
    for n in 0..500 {
        db.publish_coalesced(
            "booking.created",
            7,
            serde_json::json!({"site": 7, "n": n}),
            window,
        );
        if n == 250 {
            db.publish_coalesced("booking.created", 8, serde_json::json!({"site": 8}), window);
        }
        if n % 50 == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    let mut seen = Vec::new();
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
    while let Ok(Ok(e)) = tokio::time::timeout_at(until, events.recv()).await {
        if e.topic == "booking.created" {
            seen.push(e.payload);
        }
    }
    let of_7: Vec<i64> = seen
        .iter()
        .filter(|p| p["site"] == 7)
        .map(|p| p["n"].as_i64().unwrap())
        .collect();
    assert_eq!(of_7.first(), Some(&0), "{seen:?}");
    assert_eq!(
        of_7.last(),
        Some(&499),
        "the burst's last is sent: {seen:?}"
    );
    assert!(of_7.len() <= 4, "one a window, not one a booking: {seen:?}");
    assert_eq!(
        seen.iter().filter(|p| p["site"] == 8).count(),
        1,
        "{seen:?}"
    );
    // After a quiet window the next change goes at once.
    tokio::time::sleep(window * 2).await;
    db.publish_coalesced(
        "booking.created",
        7,
        serde_json::json!({"site": 7, "n": 500}),
        window,
    );
    let e = tokio::time::timeout(std::time::Duration::from_secs(2), events.recv())
        .await
        .expect("sent at once")
        .unwrap();
    assert_eq!(e.payload["n"], 500);
}
