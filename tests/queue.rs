//! Ticketing and calling (R3): a ticket is never called by two windows, the documented
//! priority order, transfers keep history, closing a window hands its ticket back, the display
//! hears each call; on SQLite and PostgreSQL where concurrency matters.

mod common;

use common::{Engine, TestApp, at};
use onetrip::auth::{Actor, RequestMeta, Role, RoleGrant};
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::queue::{self, TicketClass, TicketStatus};
use onetrip::sites::{Site, Window};

fn officer(site_id: i64) -> Actor {
    Actor {
        staff_id: 4242,
        username: "window.officer".into(),
        display_name: "窗口".into(),
        badge_no: "1".into(),
        grants: vec![RoleGrant {
            role: Role::Officer,
            site_id: Some(site_id),
        }],
        must_change_password: false,
        meta: RequestMeta::default(),
    }
}

async fn hall(app: &TestApp) -> (Site, Vec<Window>) {
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .unwrap()
        .unwrap();
    let windows = onetrip::sites::windows_of(app.state.db.reader(), site.id)
        .await
        .unwrap();
    (site, windows)
}

/// A ticket from the kiosk, as a citizen takes one: no reason, no appointment.
async fn kiosk_ticket(
    ctx: &queue::Ctx<'_>,
    site: &Site,
    line: &str,
    class: TicketClass,
) -> queue::Ticket {
    queue::issue_ticket(
        ctx,
        common::guide_desk(),
        site,
        line,
        class,
        None,
        None,
        "kiosk",
    )
    .await
    .unwrap()
}

async fn app_at(engine: Engine, when: &str) -> Option<TestApp> {
    TestApp::spawn_full(engine, Config::default(), Clock::fixed(at(when))).await
}

async fn no_ticket_is_called_twice(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let (site, windows) = hall(&app).await;
    let ctx = app.state.queue();
    for i in 0..60 {
        let line = ["first_issue", "renewal", "endorsement"][i % 3];
        kiosk_ticket(&ctx, &site, line, TicketClass::Normal).await;
    }
    let serving: Vec<Window> = windows
        .into_iter()
        .filter(|w| {
            !queue::default_lines(w.kind).is_empty()
                && queue::default_lines(w.kind).contains(&"renewal")
        })
        .collect();
    assert!(serving.len() >= 6, "several windows compete");
    let actor = officer(site.id);
    for w in &serving {
        queue::open_window(&ctx, &common::granted(&actor), w)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for w in serving {
        let state = app.state.clone();
        let actor = actor.clone();
        tasks.push(tokio::spawn(async move {
            let ctx = state.queue();
            let mut mine = Vec::new();
            while let Some(t) = queue::call_next(&ctx, &common::granted(&actor), &w)
                .await
                .unwrap()
            {
                mine.push(t.number.clone());
                queue::advance(&ctx, &common::granted(&actor), &w, TicketStatus::Done)
                    .await
                    .unwrap();
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(
        (total, all.len()),
        (60, 60),
        "every ticket called exactly once"
    );
    let (called_events,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM ticket_events WHERE kind = 'called'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(called_events, 60);
    let (done,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tickets WHERE status = 'done' AND started_at IS NOT NULL AND finished_at IS NOT NULL").fetch_one(app.state.db.reader()).await.unwrap();
    assert_eq!(done, 60);
}

on_both_engines!(no_ticket_is_called_twice);

on_both_engines!(the_next_ticket_follows_the_documented_priority_order);

async fn the_next_ticket_follows_the_documented_priority_order(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let (site, windows) = hall(&app).await;
    let ctx = app.state.queue();
    let issue = |class: TicketClass, reason: Option<&'static str>| {
        let state = app.state.clone();
        let site = site.clone();
        async move {
            queue::issue_ticket(
                &state.queue(),
                common::issuer_of(class),
                &site,
                "renewal",
                class,
                reason,
                None,
                "guide",
            )
            .await
            .unwrap()
            .number
        }
    };
    let early = issue(TicketClass::Normal, None).await;
    app.state.clock.advance_ms(60_000);
    let normal = issue(TicketClass::Normal, None).await;
    let love = issue(TicketClass::Love, Some("elderly")).await;
    let appointment = issue(TicketClass::Appointment, None).await;
    let green = issue(TicketClass::Green, Some("funeral")).await;
    // Priority classes need a reason.
    assert!(
        queue::issue_ticket(
            &ctx,
            common::guide_desk(),
            &site,
            "renewal",
            TicketClass::Love,
            None,
            None,
            "guide"
        )
        .await
        .is_err()
    );
    let w = windows.iter().find(|w| w.number == 1).unwrap();
    let actor = officer(site.id);
    queue::open_window(&ctx, &common::granted(&actor), w)
        .await
        .unwrap();
    let mut order = Vec::new();
    while let Some(t) = queue::call_next(&ctx, &common::granted(&actor), w)
        .await
        .unwrap()
    {
        order.push(t.number);
        queue::advance(&ctx, &common::granted(&actor), w, TicketStatus::Done)
            .await
            .unwrap();
    }
    assert_eq!(order, [green, love, appointment, early, normal]);
}

on_both_engines!(nobody_is_passed_over_beyond_the_maximum_wait);

async fn nobody_is_passed_over_beyond_the_maximum_wait(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let (site, windows) = hall(&app).await;
    let ctx = app.state.queue();
    let old = kiosk_ticket(&ctx, &site, "renewal", TicketClass::Normal)
        .await
        .number;
    app.state.clock.advance_ms(46 * 60_000);
    let love = queue::issue_ticket(
        &ctx,
        common::guide_desk(),
        &site,
        "renewal",
        TicketClass::Love,
        Some("pregnant"),
        None,
        "guide",
    )
    .await
    .unwrap()
    .number;
    let w = windows.iter().find(|w| w.number == 2).unwrap();
    let actor = officer(site.id);
    queue::open_window(&ctx, &common::granted(&actor), w)
        .await
        .unwrap();
    let first = queue::call_next(&ctx, &common::granted(&actor), w)
        .await
        .unwrap()
        .unwrap()
        .number;
    assert_eq!(
        first, old,
        "waited 46 minutes (> 45): served before the love channel"
    );
    queue::advance(&ctx, &common::granted(&actor), w, TicketStatus::Done)
        .await
        .unwrap();
    assert_eq!(
        queue::call_next(&ctx, &common::granted(&actor), w)
            .await
            .unwrap()
            .unwrap()
            .number,
        love
    );
}

on_both_engines!(a_transfer_keeps_number_and_history_and_closing_a_window_hands_back_its_ticket);

async fn a_transfer_keeps_number_and_history_and_closing_a_window_hands_back_its_ticket(
    engine: Engine,
) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let (site, windows) = hall(&app).await;
    let ctx = app.state.queue();
    let actor = officer(site.id);
    let t = kiosk_ticket(&ctx, &site, "first_issue", TicketClass::Normal).await;
    let citizen = windows.iter().find(|w| w.number == 1).unwrap();
    let payment = windows
        .iter()
        .find(|w| w.kind == onetrip::sites::WindowKind::Payment)
        .unwrap();
    queue::open_window(&ctx, &common::granted(&actor), citizen)
        .await
        .unwrap();
    queue::open_window(&ctx, &common::granted(&actor), payment)
        .await
        .unwrap();
    assert!(
        queue::call_next(&ctx, &common::granted(&actor), payment)
            .await
            .unwrap()
            .is_none(),
        "payment serves only the payment line"
    );
    queue::call_next(&ctx, &common::granted(&actor), citizen)
        .await
        .unwrap()
        .unwrap();
    // Busy: the current ticket must be dealt with first.
    assert!(
        queue::call_next(&ctx, &common::granted(&actor), citizen)
            .await
            .is_err()
    );
    queue::advance(
        &ctx,
        &common::granted(&actor),
        citizen,
        TicketStatus::Serving,
    )
    .await
    .unwrap();
    let moved = queue::transfer(&ctx, &common::granted(&actor), citizen, "payment", None)
        .await
        .unwrap();
    assert_eq!(
        (moved.number.as_str(), moved.status),
        (t.number.as_str(), TicketStatus::Waiting)
    );
    let at_payment = queue::call_next(&ctx, &common::granted(&actor), payment)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(at_payment.number, t.number);
    queue::advance(&ctx, &common::granted(&actor), payment, TicketStatus::Done)
        .await
        .unwrap();
    let kinds: Vec<String> = queue::history(app.state.db.reader(), t.id)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.1)
        .collect();
    assert_eq!(
        kinds,
        [
            "issued",
            "called",
            "started",
            "transferred",
            "called",
            "started",
            "finished"
        ]
    );
    // Recall limit, then closing the window returns an unstarted ticket to the queue.
    let u = kiosk_ticket(&ctx, &site, "first_issue", TicketClass::Normal).await;
    queue::call_next(&ctx, &common::granted(&actor), citizen)
        .await
        .unwrap()
        .unwrap();
    queue::recall(&ctx, &common::granted(&actor), citizen)
        .await
        .unwrap();
    queue::recall(&ctx, &common::granted(&actor), citizen)
        .await
        .unwrap();
    assert!(
        queue::recall(&ctx, &common::granted(&actor), citizen)
            .await
            .is_err(),
        "three calls at most"
    );
    queue::stop_window(&ctx, &common::granted(&actor), citizen, None)
        .await
        .unwrap();
    let back = queue::ticket(app.state.db.reader(), u.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.status, TicketStatus::Waiting);
    assert!(
        queue::call_next(&ctx, &common::granted(&actor), citizen)
            .await
            .is_err(),
        "a closed window cannot call"
    );
    let other = windows.iter().find(|w| w.number == 3).unwrap();
    queue::open_window(&ctx, &common::granted(&actor), other)
        .await
        .unwrap();
    assert_eq!(
        queue::call_next(&ctx, &common::granted(&actor), other)
            .await
            .unwrap()
            .unwrap()
            .number,
        u.number,
        "position backup"
    );
    // Officers of another site cannot work these windows.
    let stranger = officer(site.id + 1000);
    assert!(
        queue::open_window(&ctx, &common::granted(&stranger), citizen)
            .await
            .is_err()
    );
}

on_both_engines!(the_display_hears_each_call_and_the_citizen_sees_the_queue);

async fn the_display_hears_each_call_and_the_citizen_sees_the_queue(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let (site, windows) = hall(&app).await;
    let ctx = app.state.queue();
    let c = app.client();
    // The kiosk issues a ticket through its page.
    let token = app.csrf(&c, "/kiosk/0001").await;
    let res = c
        .post(app.url("/kiosk/0001/ticket"))
        .form(&[("csrf_token", token.as_str()), ("line", "endorsement")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let print = res.headers()["location"].to_str().unwrap().to_string();
    let html = c
        .get(app.url(&print))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("C001") && html.contains("qr.svg"));
    let ticket_token = print.split('/').nth(2).unwrap().to_string();
    // The status page says how many are ahead, as a range of minutes.
    let ahead_ticket = kiosk_ticket(&ctx, &site, "endorsement", TicketClass::Normal).await;
    let status: serde_json::Value = c
        .get(app.url(&format!("/api/v1/tickets/{}", ahead_ticket.token)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["ahead"], 1);
    assert!(status["wait_max"].as_i64().unwrap() >= status["wait_min"].as_i64().unwrap());
    // The display subscribes, then a window calls.
    let mut events = c.get(app.url("/display/0001/events")).send().await.unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let w = windows.iter().find(|w| w.number == 4).unwrap();
    let actor = officer(site.id);
    queue::open_window(&ctx, &common::granted(&actor), w)
        .await
        .unwrap();
    queue::call_next(&ctx, &common::granted(&actor), w)
        .await
        .unwrap()
        .unwrap();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !seen.contains("event: call") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("a call within a second or so")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        seen.contains("\"number\":\"C001\"") && seen.contains("\"window\":4"),
        "{seen}"
    );
    assert!(
        !seen.contains("name") && !seen.contains("id_number"),
        "nothing personal on the display"
    );
    // The citizen's page now points to the window; the display page shows the call.
    let page = c
        .get(app.url(&format!("/q/{ticket_token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["refresh"], "15");
    assert!(page.text().await.unwrap().contains("请到 4 号窗口办理"));
    let display = c
        .get(app.url("/display/0001"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        display.contains("C001")
            && display.contains("4 号窗口")
            && display.contains("/static/display.js")
    );
}

on_both_engines!(an_appointment_check_in_gets_a_priority_ticket);

async fn an_appointment_check_in_gets_a_priority_ticket(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T07:00:00+08:00").await else {
        return;
    };
    let (site, _) = hall(&app).await;
    let day: serde_json::Value = app
        .client()
        .get(app.url("/api/v1/appointments/availability?site=0001&line=renewal&date=2026-03-02"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slot = day["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["bookable"] == true)
        .unwrap()["slot_id"]
        .as_i64()
        .unwrap();
    let booked: serde_json::Value = app
        .client()
        .post(app.url("/api/v1/appointments"))
        .json(&serde_json::json!({"slot_id": slot, "name": "预约人", "id_number": "11010519491231002X", "phone": "13800138000", "channel": "web"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = booked["code"].as_str().unwrap();
    let pw = app
        .staff("guide.desk", vec![(Role::Guide, Some(site.id))])
        .await;
    let c = app.signed_in("guide.desk", &pw).await;
    let token = app.csrf(&c, "/staff/appointments").await;
    let res = c
        .post(app.url("/staff/appointments/check-in"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("site", "0001"),
            ("query", code),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("优先号 B001"));
    let (class, booking): (String, Option<i64>) =
        sqlx::query_as("SELECT class, booking_id FROM tickets")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(class, "appointment");
    assert!(booking.is_some());
}

/// R3/issue 4: with PostgreSQL and two nodes, a call made on one shows on a display connected
/// to the other (LISTEN/NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_on_one_node_reaches_a_display_on_another() {
    let Some(app) = app_at(Engine::Postgres, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let node2 = app.second_node().await.expect("postgres second node");
    let (site, windows) = hall(&app).await;
    // The display is connected to node 2.
    let c = app.client();
    let mut events = c
        .get(format!("{}/display/0001/events", node2.base))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    // Give node 2's listener a moment to LISTEN before the call.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // A window on node 1 calls.
    let ctx = app.state.queue();
    kiosk_ticket(&ctx, &site, "renewal", TicketClass::Normal).await;
    let w = windows.iter().find(|w| w.number == 1).unwrap();
    let actor = officer(site.id);
    queue::open_window(&ctx, &common::granted(&actor), w)
        .await
        .unwrap();
    let t = queue::call_next(&ctx, &common::granted(&actor), w)
        .await
        .unwrap()
        .unwrap();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !seen.contains("event: call") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("the call crosses nodes")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        seen.contains(&format!("\"number\":\"{}\"", t.number)) && seen.contains("\"window\":1"),
        "{seen}"
    );
}

/// R15: a node that froze in the middle of recording a call (its transaction open, its locks
/// held, its connection alive) stops the other node's windows for two seconds, not for good:
/// the database ends a transaction of ours that sits idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transaction_left_open_by_a_frozen_node_holds_the_windows_for_seconds_only() {
    let Some(app) = app_at(Engine::Postgres, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let (site, windows) = hall(&app).await;
    let ctx = app.state.queue();
    for _ in 0..2 {
        kiosk_ticket(&ctx, &site, "renewal", TicketClass::Normal).await;
    }
    let officer = officer(site.id);
    let actor = common::granted(&officer);
    let (w1, w2) = (&windows[0], &windows[1]);
    queue::open_window(&ctx, &actor, w1).await.unwrap();
    queue::open_window(&ctx, &actor, w2).await.unwrap();
    queue::call_next(&ctx, &actor, w1).await.unwrap().unwrap();
    // The "frozen node": a transaction that took the site's call record and then went quiet.
    let mut frozen = app.state.db.begin().await.unwrap();
    sqlx::query("UPDATE call_heads SET last_call = last_call WHERE site_id = $1")
        .bind(site.id)
        .execute(&mut *frozen)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let called = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        queue::call_next(&ctx, &actor, w2),
    )
    .await
    .expect("the other window calls once the idle transaction is ended")
    .unwrap();
    assert!(called.is_some(), "the second ticket is called");
    assert!(
        started.elapsed() >= onetrip::db::PG_IDLE_IN_TRANSACTION / 2,
        "the call waited for the held lock ({:?}), so the test did hold it",
        started.elapsed()
    );
    assert!(
        frozen.commit().await.is_err(),
        "the idle transaction was ended by the database, not committed late"
    );
}

on_both_engines!(the_server_speaks_calls_without_the_internet);

async fn the_server_speaks_calls_without_the_internet(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let installed = std::process::Command::new("espeak-ng")
        .arg("--version")
        .output()
        .is_ok();
    if !installed {
        assert!(
            std::env::var_os("CI").is_none()
                && std::env::var_os("ONETRIP_REQUIRE_BROWSER").is_none(),
            "espeak-ng is required here"
        );
        eprintln!("note: espeak-ng is not installed; skipping the voice test");
        return;
    }
    let c = app.client();
    for (lang, text_len) in [("zh", 10_000), ("en", 10_000)] {
        let res = c
            .get(app.url(&format!("/display/voice/{lang}/A012/3.wav")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{lang}");
        assert_eq!(res.headers()["content-type"], "audio/wav");
        let wav = res.bytes().await.unwrap();
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..12], b"WAVE");
        assert!(wav.len() > text_len, "a real clip, {} bytes", wav.len());
    }
    // Nothing but ticket and window numbers can be spoken.
    assert_eq!(
        c.get(app.url("/display/voice/zh/hello/3.wav"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        c.get(app.url("/display/voice/zh/A012/0.wav"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

on_both_engines!(
    the_workstation_redirects_after_each_action_and_the_kiosk_offers_only_self_service_lines
);

async fn the_workstation_redirects_after_each_action_and_the_kiosk_offers_only_self_service_lines(
    engine: Engine,
) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let (site, windows) = hall(&app).await;
    let w = windows.iter().find(|w| w.number == 1).unwrap();
    let pw = app
        .staff("desk.officer", vec![(Role::Officer, Some(site.id))])
        .await;
    let c = app.signed_in("desk.officer", &pw).await;
    let page = format!("/staff/window?window={}", w.id);
    let token = app.csrf(&c, &page).await;
    let post = |action: &str| {
        c.post(app.url(&format!("/staff/window/{}/{action}", w.id)))
            .form(&[("csrf_token", token.as_str())])
            .send()
    };
    let res = post("open").await.unwrap();
    assert_eq!(res.status(), 303);
    let res = post("call").await.unwrap();
    assert_eq!(
        res.headers()["location"],
        format!("/staff/window?window={}&note=empty", w.id).as_str()
    );
    assert!(
        c.get(app.url(res.headers()["location"].to_str().unwrap()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("当前没有等候的号码")
    );
    kiosk_ticket(&app.state.queue(), &site, "renewal", TicketClass::Normal).await;
    let res = post("call").await.unwrap();
    assert_eq!(
        res.headers()["location"],
        page.as_str(),
        "after a call the browser reloads the page with GET, so F5 calls nobody"
    );
    assert!(
        c.get(app.url(&page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("B001")
    );
    // The kiosk neither shows nor accepts the green channel, payment or express lines.
    let kiosk = app.client();
    let html = kiosk
        .get(app.url("/kiosk/0001"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("value=\"green_channel\"") && !html.contains("value=\"payment\""));
    let token = app.csrf(&kiosk, "/kiosk/0001").await;
    for line in ["green_channel", "payment", "express"] {
        let res = kiosk
            .post(app.url("/kiosk/0001/ticket"))
            .form(&[("csrf_token", token.as_str()), ("line", line)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{line}");
    }
    // The QR on the ticket carries a full address a phone can open.
    let t = kiosk_ticket(&app.state.queue(), &site, "renewal", TicketClass::Normal).await;
    let status = kiosk
        .get(app.url(&format!("/q/{}", t.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(status.headers()["refresh"], "15");
    let svg = kiosk
        .get(app.url(&format!("/tickets/{}/qr.svg", t.token)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(svg.contains("<svg"));
}

on_both_engines!(a_window_calls_its_lines_in_the_configured_priority);

async fn a_window_calls_its_lines_in_the_configured_priority(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let (site, windows) = hall(&app).await;
    let w = windows.iter().find(|w| w.number == 2).unwrap();
    let pw = app
        .staff("site.admin", vec![(Role::Admin, Some(site.id))])
        .await;
    let c = app.signed_in("site.admin", &pw).await;
    let token = app.csrf(&c, &format!("/admin/sites/{}", site.id)).await;
    // Renewals first at this window, then first issues; endorsements no longer.
    let res = c
        .post(app.url(&format!("/admin/windows/{}/lines", w.id)))
        .form(&[
            ("csrf_token", token.as_str()),
            ("lines", "renewal, first_issue"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let bad = c
        .post(app.url(&format!("/admin/windows/{}/lines", w.id)))
        .form(&[("csrf_token", token.as_str()), ("lines", "no_such_line")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let page = c
        .get(app.url(&format!("/admin/sites/{}", site.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The page ticks the window's lines in their calling order.
    let row = &page[page
        .find(&format!("id=\"window-lines-{}\"", w.number))
        .expect("row")..];
    let renewal = row
        .find("value=\"renewal\" checked")
        .expect("renewal ticked");
    let first = row
        .find("value=\"first_issue\" checked")
        .expect("first issue ticked");
    assert!(renewal < first);
    let ctx = app.state.queue();
    let first = kiosk_ticket(&ctx, &site, "first_issue", TicketClass::Normal)
        .await
        .number;
    app.state.clock.advance_ms(60_000);
    let endorsement = kiosk_ticket(&ctx, &site, "endorsement", TicketClass::Normal)
        .await
        .number;
    let renewal = kiosk_ticket(&ctx, &site, "renewal", TicketClass::Normal)
        .await
        .number;
    let actor = officer(site.id);
    queue::open_window(&ctx, &common::granted(&actor), w)
        .await
        .unwrap();
    let mut order = Vec::new();
    while let Some(t) = queue::call_next(&ctx, &common::granted(&actor), w)
        .await
        .unwrap()
    {
        order.push(t.number);
        queue::advance(&ctx, &common::granted(&actor), w, TicketStatus::Done)
            .await
            .unwrap();
    }
    assert_eq!(
        order,
        [renewal, first],
        "renewal first although issued later; the endorsement is not served here"
    );
    let left = queue::waiting_counts(app.state.db.reader(), site.id, "2026-03-02")
        .await
        .unwrap();
    assert_eq!(
        left,
        [("endorsement".to_string(), 1)],
        "{endorsement} still waits for another window"
    );
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'window.lines_changed'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(n, 1);
}

on_both_engines!(a_ticket_that_did_not_print_is_not_queued_until_reprinted);

async fn a_ticket_that_did_not_print_is_not_queued_until_reprinted(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let (site, windows) = hall(&app).await;
    let ctx = app.state.queue();
    let t = kiosk_ticket(&ctx, &site, "renewal", TicketClass::Normal).await;
    let c = app.client();
    let res = c
        .post(app.url(&format!("/api/v1/tickets/{}/print-result", t.token)))
        .json(&serde_json::json!({"printed": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let queue_now: serde_json::Value = c
        .get(app.url("/api/v1/sites/0001/queue"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        queue_now["waiting"].as_array().unwrap().len(),
        0,
        "not counted"
    );
    let w = windows.iter().find(|w| w.number == 1).unwrap();
    let actor = officer(site.id);
    queue::open_window(&ctx, &common::granted(&actor), w)
        .await
        .unwrap();
    assert!(
        queue::call_next(&ctx, &common::granted(&actor), w)
            .await
            .unwrap()
            .is_none(),
        "not called"
    );
    // Reprinted: the same number is back in its place.
    c.post(app.url(&format!("/api/v1/tickets/{}/print-result", t.token)))
        .json(&serde_json::json!({"printed": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        queue::call_next(&ctx, &common::granted(&actor), w)
            .await
            .unwrap()
            .unwrap()
            .number,
        t.number
    );
    let kinds: Vec<String> = queue::history(app.state.db.reader(), t.id)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.1)
        .collect();
    assert_eq!(kinds, ["issued", "print_failed", "printed", "called"]);
}

on_both_engines!(graceful_shutdown_ends_open_display_streams);

/// Displays hold their event stream open for hours; shutting the server down must not wait
/// for them (a display reconnects by itself when the server is back).
async fn graceful_shutdown_ends_open_display_streams(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(onetrip::web::launch(
        listener,
        app.state.clone(),
        async move {
            let _ = rx.await;
        },
    ));
    let mut events = app
        .client()
        .get(format!("{base}/display/0001/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    tx.send(()).unwrap();
    // The display sees its stream end (and its EventSource will reconnect)…
    let end = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Ok(Some(_)) = events.chunk().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream ended");
    drop(events);
    // …and the server stops although a display was connected.
    let finished = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
    assert!(finished.is_ok(), "the server stopped");
}

on_both_engines!(
    the_guide_desk_puts_people_of_seventy_and_over_on_the_love_channel_from_the_id_number
);

async fn the_guide_desk_puts_people_of_seventy_and_over_on_the_love_channel_from_the_id_number(
    engine: Engine,
) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let (site, _) = hall(&app).await;
    let pw = app
        .staff("desk.guide", vec![(Role::Guide, Some(site.id))])
        .await;
    let c = app.signed_in("desk.guide", &pw).await;
    let token = app.csrf(&c, "/staff/tickets").await;
    let issue = |id: &'static str| {
        c.post(app.url("/staff/tickets"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("line", "renewal"),
                ("class", "normal"),
                ("id_number", id),
            ])
            .send()
    };
    // Born 1949-12-31: 76 on 2026-03-02.
    assert_eq!(issue("11010519491231002X").await.unwrap().status(), 303);
    // Born 1990: regular.
    assert_eq!(issue("110101199003078670").await.unwrap().status(), 303);
    let classes: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT class, class_reason FROM tickets ORDER BY id")
            .fetch_all(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(
        classes,
        [
            ("love".to_string(), Some("elderly".to_string())),
            ("normal".to_string(), None)
        ]
    );
    // A mistyped number is refused with the reason, and nothing is issued.
    let res = issue("110105194912310021").await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("校验"));
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tickets")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(n, 2);
    // The ID number is not stored anywhere.
    let (found,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM ticket_events WHERE detail LIKE '%19491231%'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(found, 0);
}

on_both_engines!(a_ticket_transferred_to_a_named_window_is_called_only_there);

async fn a_ticket_transferred_to_a_named_window_is_called_only_there(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let (site, windows) = hall(&app).await;
    let ctx = app.state.queue();
    let actor = officer(site.id);
    let w1 = windows.iter().find(|w| w.number == 1).unwrap();
    let w2 = windows.iter().find(|w| w.number == 2).unwrap();
    let w3 = windows.iter().find(|w| w.number == 3).unwrap();
    let pickup = windows
        .iter()
        .find(|w| w.kind == onetrip::sites::WindowKind::Pickup)
        .unwrap();
    for w in [w1, w2, w3] {
        queue::open_window(&ctx, &common::granted(&actor), w)
            .await
            .unwrap();
    }
    let t = kiosk_ticket(&ctx, &site, "renewal", TicketClass::Normal).await;
    queue::call_next(&ctx, &common::granted(&actor), w1)
        .await
        .unwrap()
        .unwrap();
    // A window that does not serve the line is refused as a target.
    assert!(
        queue::transfer(&ctx, &common::granted(&actor), w1, "renewal", Some(pickup))
            .await
            .is_err()
    );
    queue::transfer(&ctx, &common::granted(&actor), w1, "renewal", Some(w3))
        .await
        .unwrap();
    assert!(
        queue::call_next(&ctx, &common::granted(&actor), w2)
            .await
            .unwrap()
            .is_none(),
        "window 2 does not take it"
    );
    assert_eq!(
        queue::call_next(&ctx, &common::granted(&actor), w3)
            .await
            .unwrap()
            .unwrap()
            .number,
        t.number
    );
}

on_both_engines!(administrators_set_the_rolling_notices_of_the_display);

async fn administrators_set_the_rolling_notices_of_the_display(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T09:00:00+08:00").await else {
        return;
    };
    let (site, _) = hall(&app).await;
    let pw = app
        .staff("notice.admin", vec![(Role::Admin, Some(site.id))])
        .await;
    let c = app.signed_in("notice.admin", &pw).await;
    let token = app.csrf(&c, &format!("/admin/sites/{}", site.id)).await;
    let text = "今日下午系统维护，暂停自助签注 | Self-service endorsement paused this afternoon\n节假日值班电话见门口公告";
    let res = c
        .post(app.url(&format!("/admin/sites/{}/notices", site.id)))
        .form(&[("csrf_token", token.as_str()), ("notices", text)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let zh = app
        .client()
        .get(app.url("/display/0001"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        zh.contains("<li>今日下午系统维护，暂停自助签注</li>")
            && zh.contains("<li>节假日值班电话见门口公告</li>"),
        "{zh}"
    );
    let en = app
        .client()
        .get(app.url("/display/0001?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        en.contains("<li>Self-service endorsement paused this afternoon</li>")
            && en.contains("<li>节假日值班电话见门口公告</li>")
    );
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'display.notices_changed'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(n, 1);
}

/// Issue 12 item 11: only the officer who opened a window calls and serves at it; another
/// officer of the site is refused (through the API too); the duty leader takes it over, on
/// record. Acceptance at a window that does not exist is refused.
async fn a_window_is_its_officers_until_the_leader_takes_it_over(app: TestApp) {
    let (site, windows) = hall(&app).await;
    let ctx = app.state.queue();
    let w = windows
        .iter()
        .find(|w| queue::default_lines(w.kind).contains(&"first_issue"))
        .expect("a window for first issues")
        .clone();
    for _ in 0..3 {
        queue::issue_ticket(
            &ctx,
            common::guide_desk(),
            &site,
            "first_issue",
            TicketClass::Normal,
            None,
            None,
            "kiosk",
        )
        .await
        .expect("ticket");
    }
    let holder = officer(site.id);
    queue::open_window(&ctx, &common::granted(&holder), &w)
        .await
        .expect("open");

    // Another officer, signed in, through the API.
    let password = app
        .staff("other.officer", vec![(Role::Officer, Some(site.id))])
        .await;
    let c = app.signed_in("other.officer", &password).await;
    let me: serde_json::Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let res = c
        .post(app.url(&format!("/api/v1/windows/{}/call-next", w.id)))
        .header(
            "x-csrf-token",
            me["csrf_token"].as_str().unwrap_or_default(),
        )
        .send()
        .await
        .expect("call");
    assert!(res.status().is_client_error(), "{}", res.status());
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["code"], "queue.not_your_window", "{body}");
    let (called,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM tickets WHERE status <> 'waiting'")
            .fetch_one(app.state.db.reader())
            .await
            .expect("count");
    assert_eq!(called, 0);
    // Nor can they open, pause or close it under the holder.
    let other = Actor {
        staff_id: 5151,
        ..officer(site.id)
    };
    for r in [
        queue::open_window(&ctx, &common::granted(&other), &w).await,
        queue::stop_window(&ctx, &common::granted(&other), &w, Some("break")).await,
        queue::stop_window(&ctx, &common::granted(&other), &w, None).await,
    ] {
        assert!(
            matches!(
                r,
                Err(onetrip::auth::Failure::Refused(
                    queue::QueueError::NotYourWindow
                ))
            ),
            "{r:?}"
        );
    }

    // The holder calls; the duty leader takes over and finishes, on record.
    queue::call_next(&ctx, &common::granted(&holder), &w)
        .await
        .expect("call")
        .expect("a ticket");
    let leader = Actor {
        staff_id: 6161,
        grants: vec![RoleGrant {
            role: Role::Leader,
            site_id: Some(site.id),
        }],
        ..officer(site.id)
    };
    queue::advance(&ctx, &common::granted(&leader), &w, TicketStatus::Serving)
        .await
        .expect("taken over");
    let (taken,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'queue.window_taken_over'")
            .fetch_one(app.state.db.reader())
            .await
            .expect("audit");
    assert_eq!(taken, 1);
    assert!(matches!(
        queue::advance(&ctx, &common::granted(&holder), &w, TicketStatus::Done).await,
        Err(onetrip::auth::Failure::Refused(
            queue::QueueError::NotYourWindow
        ))
    ));

    // Acceptance at a window that does not exist.
    let no = onetrip::applications::submit_form(
        &app.state.applications(),
        &site,
        onetrip::applications::Channel::Kiosk,
        onetrip::applications::FormInput {
            name: "窗口测试".into(),
            id_number: common::synthetic_id("19900203", 77),
            phone: onetrip::domain::phone::PhoneNumber::parse("13900139000").expect("phone"),
            address: "示范市".into(),
            ethnicity: "汉".into(),
            from_card_reader: false,
            registered_state_personnel: false,
            unit_consent: false,
            work_unit: None,
            guardian: None,
            documents: vec![onetrip::applications::rules::DocumentRequest {
                document: onetrip::catalog::DocumentType::Passport,
                category: onetrip::catalog::ApplicationCategory::FirstIssue,
                old_number: None,
                old_document: None,
                endorsements: vec![],
                annotations: 0,
            }],
            lang: onetrip::i18n::Lang::ZhCn,
        },
    )
    .await
    .expect("form")
    .application_no;
    let no = onetrip::domain::application_no::ApplicationNo::parse(&no).expect("no");
    let r = onetrip::applications::start_acceptance(
        &app.state.applications(),
        &common::granted(&holder),
        &no,
        Some(987_654),
    )
    .await;
    assert!(
        matches!(
            r,
            Err(onetrip::auth::Failure::Refused(
                onetrip::applications::ApplicationError::NoSuchWindow
            ))
        ),
        "{:?}",
        r.err()
    );
}

on_both_engines!(
    window_holder,
    at = "2026-03-02T09:00:00+08:00",
    super::a_window_is_its_officers_until_the_leader_takes_it_over
);
