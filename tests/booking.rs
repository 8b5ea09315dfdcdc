//! Appointments (R2) end to end: quotas under concurrency, one booking per ID per day,
//! idempotency, channels and pools, the booking window across holidays, cancellation with
//! delayed release and the waiting list, no-shows and their block, rescheduling, reminders,
//! check-in, staff views; on SQLite and PostgreSQL.

mod common;

use common::{Engine, TestApp, at, citizen};
use onetrip::auth::{Actor, Role};
use onetrip::booking::{self, BookRequest, Channel, slots::SlotSettings};
use onetrip::clock::Clock;
use onetrip::config::Config;
use serde_json::{Value, json};

async fn app_at(engine: Engine, when: &str) -> Option<TestApp> {
    let config = Config {
        booking_attempts_per_ip_hour: 0,
        booking_attempts_per_id_hour: 0,
        ..Config::default()
    };
    TestApp::spawn_full(engine, config, Clock::fixed(at(when))).await
}

async fn set_quota(app: &TestApp, site: &str, line: &str, online: i64, phone: i64, onsite: i64) {
    let site_id = app.site_id(site).await;
    let settings = SlotSettings {
        slot_minutes: 30,
        quota_online: online,
        quota_phone: phone,
        quota_onsite: onsite,
        open_days_ahead: 7,
        open_at_minute: 9 * 60,
        close_minutes_before: 60,
        release_delay_seconds: 600,
    };
    booking::update_settings(
        &app.state.booking(),
        common::administrator(),
        site_id,
        line,
        settings,
    )
    .await
    .expect("settings");
}

async fn availability(app: &TestApp, date: &str) -> Value {
    app.client()
        .get(app.url(&format!(
            "/api/v1/appointments/availability?site=0001&line=first_issue&date={date}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn first_slot(day: &Value) -> i64 {
    day["slots"][0]["slot_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("a slot in {day}"))
}

async fn book_api(
    app: &TestApp,
    c: &reqwest::Client,
    slot: i64,
    n: u32,
    key: Option<&str>,
) -> reqwest::Response {
    let mut req = c.post(app.url("/api/v1/appointments")).json(&json!({
        "slot_id": slot, "name": format!("测试{n}"), "id_number": citizen(n), "phone": "13800138000", "channel": "web"
    }));
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

/// Starts one web booking of `slot` for `id_number` at once; its task gives the HTTP status
/// (0 when the request failed to send).
fn spawn_booking(
    app: &TestApp,
    slot: i64,
    name: &'static str,
    id_number: String,
) -> tokio::task::JoinHandle<u16> {
    let c = app.client();
    let url = app.url("/api/v1/appointments");
    tokio::spawn(async move {
        c.post(url)
            .json(&json!({"slot_id": slot, "name": name, "id_number": id_number, "phone": "13800138000", "channel": "web"}))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    })
}

async fn quota_holds_under_concurrent_bookings(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    set_quota(&app, "0001", "first_issue", 5, 2, 2).await;
    let day = availability(&app, "2026-03-04").await;
    let slot = first_slot(&day);
    let mut tasks = Vec::new();
    for n in 0..200u32 {
        tasks.push(spawn_booking(&app, slot, "并发", citizen(n)));
    }
    let mut ok = 0;
    let mut full = 0;
    for t in tasks {
        match t.await.unwrap() {
            201 => ok += 1,
            409 => full += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, full), (5, 195));
    let (booked, quota): (i64, i64) =
        sqlx::query_as("SELECT booked_online, quota_online FROM slots WHERE id = $1")
            .bind(slot)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!((booked, quota), (5, 5));
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM bookings WHERE slot_id = $1 AND status = 'booked'")
            .bind(slot)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(n, 5);
}

on_both_engines!(quota_holds_under_concurrent_bookings);

/// The duty leader's dashboard hears a crowd of bookings as "this site changed", at most once
/// per quarter second, not once per booking: on a release morning thousands a second would
/// each be a `NOTIFY` between nodes and a frame to every dashboard (docs/BENCHMARKS.md item 6).
async fn a_crowd_of_bookings_reaches_the_dashboard_coalesced(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    set_quota(&app, "0001", "first_issue", 30, 2, 2).await;
    let day = availability(&app, "2026-03-04").await;
    let slot = first_slot(&day);
    let mut events = app.state.db.subscribe();
    // PostgreSQL: the node's listener starts with the first subscriber.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for n in 0..30u32 {
        tasks.push(spawn_booking(&app, slot, "看板", citizen(n)));
    }
    let statuses = futures_collect(tasks).await;
    let took = started.elapsed();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert!(
        took < std::time::Duration::from_secs(4),
        "the crowd came within a few windows ({took:?}), so one event per booking would show"
    );
    // The last window closes 250 ms after the last booking; PostgreSQL's round trip on top.
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    let mut heard = Vec::new();
    while let Ok(e) = events.try_recv() {
        if e.topic == "booking.created" {
            heard.push(e.payload);
        }
    }
    let windows = 2 + took.as_millis() / 250;
    assert!(
        !heard.is_empty() && (heard.len() as u128) <= windows,
        "{} events for 30 bookings in {took:?}: at most {windows} (one a window)",
        heard.len()
    );
    let site = app.site_id("0001").await;
    assert!(
        heard
            .iter()
            .all(|p| p["site"] == json!(site) && p["slot"] == json!(slot)),
        "each event names the site and the slot: {heard:?}"
    );
}

on_both_engines!(a_crowd_of_bookings_reaches_the_dashboard_coalesced);

/// A crowd that the group-commit writer takes in batches: places, duplicates and the no-show
/// rule are decided per booking inside one transaction, and each gets its own answer.
async fn a_mixed_crowd_is_decided_booking_by_booking(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    set_quota(&app, "0001", "first_issue", 40, 2, 2).await;
    let day = availability(&app, "2026-03-04").await;
    let slot = first_slot(&day);
    // Person 900 has three recent no-shows: blocked from online booking.
    let blocked_id = citizen(900);
    let index = app.state.cipher.blind_index(&blocked_id);
    let now = app.state.clock.now_ms();
    for (n, code) in ["NOSHOW01", "NOSHOW02", "NOSHOW03"].iter().enumerate() {
        sqlx::query(
            "INSERT INTO bookings (code, slot_id, site_id, line_code, date, start_minute, starts_at, ends_at, channel, pool, \
             id_index, id_sealed, name_sealed, phone_sealed, lang, status, no_show_at, created_at) \
             SELECT $1, id, site_id, line_code, $2, start_minute, starts_at, ends_at, 'web', 'online', $3, $4, $4, $4, 'zh-CN', 'no_show', $5, $5 \
             FROM slots WHERE id = $6",
        )
        .bind(*code)
        .bind(format!("2026-02-2{n}"))
        .bind(index.newest())
        .bind(vec![0u8])
        .bind(now - (n as i64 + 1) * 86_400_000)
        .bind(slot)
        .execute(app.state.db.reader())
        .await
        .unwrap();
    }
    // 120 distinct people, 20 attempts by one more person, and the blocked one, all at once.
    let mut people: Vec<String> = (0..120).map(citizen).collect();
    people.extend((0..20).map(|_| citizen(901)));
    people.push(blocked_id.clone());
    let mut tasks = Vec::new();
    for id in people {
        let c = app.client();
        let url = app.url("/api/v1/appointments");
        tasks.push(tokio::spawn(async move {
            let r = c
                .post(url)
                .json(&json!({"slot_id": slot, "name": "人群", "id_number": id, "phone": "13800138000", "channel": "web"}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (id, status, body["code"].as_str().unwrap_or("").to_string())
        }));
    }
    let mut booked = Vec::new();
    let (mut full, mut twice, mut blocked) = (0, 0, 0);
    for t in tasks {
        let (id, status, code) = t.await.unwrap();
        match (status, code.as_str()) {
            (201, _) => booked.push(id),
            (_, "booking.full") => full += 1,
            (_, "booking.already_booked") => twice += 1,
            (_, "booking.blocked") => {
                assert_eq!(id, blocked_id);
                blocked += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(booked.len(), 40, "exactly the quota is booked");
    assert_eq!(blocked, 1, "the no-show rule refuses the blocked person");
    assert!(!booked.contains(&blocked_id));
    assert!(
        booked.iter().filter(|id| **id == citizen(901)).count() <= 1,
        "one booking per person and day"
    );
    assert_eq!(full + twice + 40 + 1, 141);
    let (counter,): (i64,) = sqlx::query_as("SELECT booked_online FROM slots WHERE id = $1")
        .bind(slot)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let (rows, texts): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), (SELECT COUNT(*) FROM outbox o WHERE o.kind = 'booking.confirmation' AND o.ref IN \
         (SELECT code FROM bookings WHERE slot_id = $1 AND status = 'booked')) FROM bookings WHERE slot_id = $1 AND status = 'booked'",
    )
    .bind(slot)
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(
        (counter, rows, texts),
        (40, 40, 40),
        "counter, rows and texts agree"
    );
}

on_both_engines!(a_mixed_crowd_is_decided_booking_by_booking);

async fn one_active_booking_per_id_per_site_and_day(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let day = availability(&app, "2026-03-05").await;
    let slots: Vec<i64> = day["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slot_id"].as_i64().unwrap())
        .collect();
    // The same person tries ten slots at once: exactly one booking exists afterwards.
    let mut tasks = Vec::new();
    for &slot in slots.iter().take(10) {
        tasks.push(spawn_booking(&app, slot, "同一人", citizen(7)));
    }
    let statuses: Vec<u16> = futures_collect(tasks).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409));
    // The refusal says why, in the reader's language.
    let res = app
        .client()
        .post(app.url("/api/v1/appointments"))
        .header("accept-language", "en")
        .json(&json!({"slot_id": slots[12], "name": "同一人", "id_number": citizen(7), "phone": "13800138000", "channel": "web"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "booking.already_booked");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("already has a booking")
    );
    // Another day is fine.
    let other = first_slot(&availability(&app, "2026-03-06").await);
    assert_eq!(
        book_api(&app, &app.client(), other, 7, None).await.status(),
        201
    );
}

async fn futures_collect(tasks: Vec<tokio::task::JoinHandle<u16>>) -> Vec<u16> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

on_both_engines!(one_active_booking_per_id_per_site_and_day);

async fn retried_requests_book_once(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let slot = first_slot(&availability(&app, "2026-03-04").await);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let c = app.client();
        let url = app.url("/api/v1/appointments");
        tasks.push(tokio::spawn(async move {
            let r = c
                .post(url)
                .header("idempotency-key", "retry-key-0001")
                .json(&json!({"slot_id": slot, "name": "重试", "id_number": citizen(9), "phone": "13800138000", "channel": "mobile"}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (status, body["code"].as_str().unwrap_or("").to_string())
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        let (status, code) = t.await.unwrap();
        assert_eq!(status, 201);
        codes.push(code);
    }
    codes.dedup();
    assert_eq!(codes.len(), 1, "every retry returns the same booking");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM bookings")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(n, 1);
    let (booked,): (i64,) = sqlx::query_as("SELECT booked_online FROM slots WHERE id = $1")
        .bind(slot)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(booked, 1, "no place was leaked by the retries");
}

on_both_engines!(retried_requests_book_once);

on_both_engines!(channels_draw_on_their_own_pools_and_staff_channels_need_staff);

async fn channels_draw_on_their_own_pools_and_staff_channels_need_staff(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    set_quota(&app, "0001", "first_issue", 1, 1, 1).await;
    let slot = first_slot(&availability(&app, "2026-03-04").await);
    assert_eq!(
        book_api(&app, &app.client(), slot, 1, None).await.status(),
        201
    );
    assert_eq!(
        book_api(&app, &app.client(), slot, 2, None).await.status(),
        409,
        "online pool is full"
    );
    // A citizen cannot claim the telephone pool.
    let res = app
        .client()
        .post(app.url("/api/v1/appointments"))
        .json(&json!({"slot_id": slot, "name": "冒充", "id_number": citizen(3), "phone": "13800138000", "channel": "phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // An officer books a caller on the telephone pool, through the staff page.
    let hall = app.site_id("0001").await;
    let pw = app
        .staff("phone.officer", vec![(Role::Officer, Some(hall))])
        .await;
    let c = app.signed_in("phone.officer", &pw).await;
    let token = app
        .csrf(
            &c,
            "/staff/appointments/book?site=0001&line=first_issue&date=2026-03-04",
        )
        .await;
    let res = c
        .post(app.url("/staff/appointments/book"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("site", "0001"),
            ("line", "first_issue"),
            ("date", "2026-03-04"),
            ("slot_id", &slot.to_string()),
            ("channel", "phone"),
            ("name", "来电人"),
            ("id_number", &citizen(4)),
            ("phone", "13900139000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (phone, online, onsite): (i64, i64, i64) = sqlx::query_as(
        "SELECT booked_phone, booked_online, booked_onsite FROM slots WHERE id = $1",
    )
    .bind(slot)
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!((online, phone, onsite), (1, 1, 0));
    let (channel, created_by): (String, Option<i64>) =
        sqlx::query_as("SELECT channel, created_by FROM bookings WHERE pool = 'phone'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(channel, "phone");
    assert!(created_by.is_some());
    let audited: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'booking.created'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(audited.0, 1);
}

on_both_engines!(the_booking_window_follows_the_calendar_across_spring_festival);

async fn the_booking_window_follows_the_calendar_across_spring_festival(engine: Engine) {
    // Friday before the 2026 Spring Festival; the day after is a 调休 working Saturday.
    let Some(app) = app_at(engine, "2026-02-13T08:00:00+08:00").await else {
        return;
    };
    let hall = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .unwrap()
        .unwrap();
    let dates: Vec<String> = booking::bookable_dates(&app.state.booking(), &hall, "first_issue")
        .await
        .unwrap()
        .iter()
        .map(|d| d.to_string())
        .collect();
    // 02-15 … 02-20 are holidays; the window (7 days) ends on 02-20.
    assert_eq!(dates, ["2026-02-13", "2026-02-14"]);
    let friday = availability(&app, "2026-02-13").await;
    let saturday = availability(&app, "2026-02-14").await;
    assert_eq!(
        saturday["slots"].as_array().unwrap().len(),
        friday["slots"].as_array().unwrap().len(),
        "a 调休 Saturday opens with working-day hours"
    );
    let holiday = availability(&app, "2026-02-17").await;
    assert!(holiday["slots"].as_array().unwrap().is_empty() || holiday["notice"].is_string());
    // Beyond the window: not open yet, with the date it opens.
    let far = availability(&app, "2026-02-24").await;
    assert!(
        far["notice"].as_str().unwrap().contains("2026-02-17"),
        "{far}"
    );
    // Same day: slots within the hour are closed.
    let today = availability(&app, "2026-02-13").await;
    let first = &today["slots"][0];
    assert_eq!(first["start"], "08:30");
    assert_eq!(first["bookable"], false, "08:30 closes at 07:30");
    let later = today["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["start"] == "09:30")
        .unwrap();
    assert_eq!(later["bookable"], true);
}

async fn cancellation_reopens_after_the_delay_and_tells_the_waiting_list(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    set_quota(&app, "0001", "first_issue", 1, 0, 0).await;
    let slot = first_slot(&availability(&app, "2026-03-04").await);
    let res = book_api(&app, &app.client(), slot, 1, None).await;
    let code = res.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    // Someone joins the waiting list for that day.
    let ctx = app.state.booking();
    let hall = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .unwrap()
        .unwrap();
    let date: jiff::civil::Date = "2026-03-04".parse().unwrap();
    assert!(
        booking::join_waitlist(
            &ctx,
            &hall,
            "first_issue",
            date,
            &citizen(50),
            "13700137000",
            onetrip::i18n::Lang::ZhCn
        )
        .await
        .unwrap()
    );
    // Cancel with code + ID number; a wrong ID is refused.
    let wrong = app
        .client()
        .post(app.url("/api/v1/appointments/cancel"))
        .json(&json!({"code": code, "id_number": citizen(2)}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
    let ok = app
        .client()
        .post(app.url("/api/v1/appointments/cancel"))
        .json(&json!({"code": code, "id_number": citizen(1)}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    // Not yet offered again; the staff list says the place is held.
    booking::sweep(&ctx).await.unwrap();
    let (held,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM bookings WHERE status = 'cancelled' AND released = 0")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(held, 1);
    assert_eq!(
        onetrip::booking::held_places(app.state.db.reader(), hall.id, "2026-03-04")
            .await
            .unwrap(),
        1
    );
    let day = availability(&app, "2026-03-04").await;
    assert_eq!(day["slots"][0]["remaining"], 0);
    // After the delay it is, and the first person waiting is told.
    app.state.clock.advance_ms(601_000);
    let (_, released) = booking::sweep(&ctx).await.unwrap();
    assert_eq!(released, 1);
    let day = availability(&app, "2026-03-04").await;
    assert_eq!(day["slots"][0]["remaining"], 1);
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE kind = 'waitlist.place_free'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(n, 1);
    // A second sweep releases nothing twice.
    let (_, again) = booking::sweep(&ctx).await.unwrap();
    assert_eq!(again, 0);
    assert_eq!(
        availability(&app, "2026-03-04").await["slots"][0]["remaining"],
        1
    );
}

on_both_engines!(cancellation_reopens_after_the_delay_and_tells_the_waiting_list);

on_both_engines!(three_no_shows_block_online_booking_until_staff_lift_it);

async fn three_no_shows_block_online_booking_until_staff_lift_it(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let ctx = app.state.booking();
    for date in ["2026-03-03", "2026-03-04", "2026-03-05"] {
        let slot = first_slot(&availability(&app, date).await);
        assert_eq!(
            book_api(&app, &app.client(), slot, 77, None).await.status(),
            201
        );
    }
    // A week later, none of them came.
    app.state.clock.advance_ms(7 * 86_400_000);
    let (no_shows, _) = booking::sweep(&ctx).await.unwrap();
    assert_eq!(no_shows, 3);
    let slot = first_slot(&availability(&app, "2026-03-11").await);
    let res = book_api(&app, &app.client(), slot, 77, None).await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "booking.blocked");
    assert!(err["message"].as_str().unwrap().contains("现场取号"));
    // Someone else is not affected.
    assert_eq!(
        book_api(&app, &app.client(), slot, 78, None).await.status(),
        201
    );
    // A duty leader lifts the block with a reason; it is audited.
    let hall = app.site_id("0001").await;
    let pw = app.staff("duty", vec![(Role::Leader, Some(hall))]).await;
    let c = app.signed_in("duty", &pw).await;
    let token = app.csrf(&c, "/staff/appointments?site=0001").await;
    let res = c
        .post(app.url("/staff/appointments/lift-block"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("site", "0001"),
            ("id_number", &citizen(77)),
            ("reason", "住院证明已核实"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        book_api(&app, &app.client(), slot, 77, None).await.status(),
        201
    );
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'booking.block_lifted'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(n, 1);
}

on_both_engines!(rescheduling_takes_the_new_place_before_letting_the_old_one_go);

async fn rescheduling_takes_the_new_place_before_letting_the_old_one_go(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    set_quota(&app, "0001", "first_issue", 1, 0, 0).await;
    let day = availability(&app, "2026-03-04").await;
    let (a, b) = (
        day["slots"][0]["slot_id"].as_i64().unwrap(),
        day["slots"][1]["slot_id"].as_i64().unwrap(),
    );
    let code = book_api(&app, &app.client(), a, 1, None)
        .await
        .json::<Value>()
        .await
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        book_api(&app, &app.client(), b, 2, None).await.status(),
        201
    );
    // b is full: the move fails and the original booking stands.
    let res = app
        .client()
        .post(app.url("/api/v1/appointments/reschedule"))
        .json(&json!({"code": code, "id_number": citizen(1), "slot_id": b}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let still: Value = app
        .client()
        .post(app.url("/api/v1/appointments/lookup"))
        .json(&json!({"code": code, "id_number": citizen(1)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(still["status"], "booked");
    // A free slot on the same day: the move succeeds with a new code.
    let c = day["slots"][2]["slot_id"].as_i64().unwrap();
    let moved: Value = app
        .client()
        .post(app.url("/api/v1/appointments/reschedule"))
        .json(&json!({"code": code, "id_number": citizen(1), "slot_id": c}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(moved["code"], code.as_str());
    assert_eq!(moved["start"], day["slots"][2]["start"]);
    let old: Value = app
        .client()
        .post(app.url("/api/v1/appointments/lookup"))
        .json(&json!({"code": code, "id_number": citizen(1)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(old["status"], "cancelled");
}

on_both_engines!(confirmations_and_reminders_go_through_the_outbox);

async fn confirmations_and_reminders_go_through_the_outbox(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let slot = first_slot(&availability(&app, "2026-03-04").await);
    let code = book_api(&app, &app.client(), slot, 1, None)
        .await
        .json::<Value>()
        .await
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let sms = onetrip::notify::SimulatedSms;
    let sent =
        onetrip::notify::deliver_due(&app.state.db, &app.state.cipher, &sms, &app.state.clock)
            .await
            .unwrap();
    assert_eq!(
        sent, 1,
        "the confirmation goes now; the reminder waits for the evening before"
    );
    let log = onetrip::notify::recent_sms(&app.state.db, 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1, "138****8000");
    assert!(log[0].2.contains(&code) && log[0].2.contains("预约成功"));
    // The evening before at 18:00 the reminder goes.
    app.state
        .clock
        .advance_ms(at("2026-03-03T18:00:01+08:00") - at("2026-03-02T10:00:00+08:00"));
    assert_eq!(
        onetrip::notify::deliver_due(&app.state.db, &app.state.cipher, &sms, &app.state.clock)
            .await
            .unwrap(),
        1
    );
    assert!(
        onetrip::notify::recent_sms(&app.state.db, 1).await.unwrap()[0]
            .2
            .contains("提醒")
    );
    // Nothing is sent twice.
    assert_eq!(
        onetrip::notify::deliver_due(&app.state.db, &app.state.cipher, &sms, &app.state.clock)
            .await
            .unwrap(),
        0
    );
}

on_both_engines!(cancelling_withdraws_the_reminder);

async fn cancelling_withdraws_the_reminder(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let slot = first_slot(&availability(&app, "2026-03-04").await);
    let code = book_api(&app, &app.client(), slot, 1, None)
        .await
        .json::<Value>()
        .await
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.client()
        .post(app.url("/api/v1/appointments/cancel"))
        .json(&json!({"code": code, "id_number": citizen(1)}))
        .send()
        .await
        .unwrap();
    app.state.clock.advance_ms(3 * 86_400_000);
    let sms = onetrip::notify::SimulatedSms;
    onetrip::notify::deliver_due(&app.state.db, &app.state.cipher, &sms, &app.state.clock)
        .await
        .unwrap();
    let bodies: Vec<String> = onetrip::notify::recent_sms(&app.state.db, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(bodies.iter().any(|b| b.contains("已取消")));
    assert!(!bodies.iter().any(|b| b.contains("提醒")));
}

on_both_engines!(arrival_check_in_by_code_or_id_number_and_the_staff_day_view);

async fn arrival_check_in_by_code_or_id_number_and_the_staff_day_view(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T07:00:00+08:00").await else {
        return;
    };
    let day = availability(&app, "2026-03-02").await;
    let s1 = day["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["bookable"] == true)
        .unwrap()["slot_id"]
        .as_i64()
        .unwrap();
    let code = book_api(&app, &app.client(), s1, 1, None)
        .await
        .json::<Value>()
        .await
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        book_api(&app, &app.client(), s1, 2, None).await.status(),
        201
    );
    let hall = app.site_id("0001").await;
    let pw = app.staff("desk", vec![(Role::Guide, Some(hall))]).await;
    let c = app.signed_in("desk", &pw).await;
    let token = app.csrf(&c, "/staff/appointments").await;
    let res = c
        .post(app.url("/staff/appointments/check-in"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("site", "0001"),
            ("query", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("已签到"));
    let res = c
        .post(app.url("/staff/appointments/check-in"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("site", "0001"),
            ("query", citizen(2).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (arrived,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM bookings WHERE status = 'arrived'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(arrived, 2);
    // The day view masks people and is audited; the CSV has the same rows.
    let page = c
        .get(app.url("/staff/appointments?site=0001&date=2026-03-02"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&code) && page.contains("测*"), "masked name");
    assert!(
        !page.contains(&citizen(1)),
        "no full ID number on the staff list"
    );
    let csv = c
        .get(app.url("/staff/appointments.csv?site=0001&date=2026-03-02"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.contains(&code));
    let (viewed,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'booking.list_viewed'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert!(viewed >= 2);
    // Staff of another site cannot see this one.
    let ext = app.site_id("0002").await;
    let pw = app.staff("other", vec![(Role::Officer, Some(ext))]).await;
    let o = app.signed_in("other", &pw).await;
    assert_eq!(
        o.get(app.url("/staff/appointments?site=0001"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

on_both_engines!(personal_data_is_stored_encrypted);

async fn personal_data_is_stored_encrypted(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let slot = first_slot(&availability(&app, "2026-03-04").await);
    assert_eq!(
        book_api(&app, &app.client(), slot, 1, None).await.status(),
        201
    );
    let (id_sealed, name_sealed, index): (Vec<u8>, Vec<u8>, String) =
        sqlx::query_as("SELECT id_sealed, name_sealed, id_index FROM bookings")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    let id = citizen(1);
    assert!(!String::from_utf8_lossy(&id_sealed).contains(&id));
    assert!(!String::from_utf8_lossy(&name_sealed).contains("测试"));
    assert!(!index.contains(&id[..6]));
    assert_eq!(app.state.cipher.open(&id_sealed).unwrap(), id);
}

on_both_engines!(citizens_book_through_the_page_and_get_code_qr_calendar_and_materials);

async fn citizens_book_through_the_page_and_get_code_qr_calendar_and_materials(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let c = app.client();
    let page = c
        .get(app.url("/appointments?site=0001&line=renewal&date=2026-03-04"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("请携带的材料") && page.contains("居民身份证"));
    let marker = "name=\"slot_id\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let slot: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let token = app.csrf(&c, "/appointments").await;
    // A bad ID number is refused with the reason, and what was typed is kept.
    let res = c
        .post(app.url("/appointments"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("site", "0001"),
            ("line", "renewal"),
            ("date", "2026-03-04"),
            ("slot_id", &slot),
            ("channel", "web"),
            ("name", "王五"),
            ("id_number", "110105194912310021"),
            ("phone", "13800138000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("校验") && body.contains("王五"),
        "checksum message, name kept"
    );
    let res = c
        .post(app.url("/appointments"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("site", "0001"),
            ("line", "renewal"),
            ("date", "2026-03-04"),
            ("slot_id", &slot),
            ("channel", "mobile"),
            ("name", "王五"),
            ("id_number", &citizen(5)),
            ("phone", "13800138000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let code = location.rsplit('/').next().unwrap().to_string();
    let confirm = c
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        confirm.contains("预约成功")
            && confirm.contains(&code)
            && confirm.contains("qr.svg")
            && confirm.contains("王*")
    );
    let svg = c
        .get(app.url(&format!("/appointments/{code}/qr.svg")))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let ics = c
        .get(app.url(&format!("/appointments/{code}/calendar.ics")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        ics.starts_with("BEGIN:VCALENDAR\r\n")
            && ics.contains(&format!("UID:{code}@onetrip"))
            && ics.contains("DTSTART:20260304T")
    );
    let (channel,): (String,) = sqlx::query_as("SELECT channel FROM bookings WHERE code = $1")
        .bind(&code)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(channel, "mobile");
    // Manage: look up with code + ID, cancel.
    let token = app.csrf(&c, "/appointments/manage").await;
    let found = c
        .post(app.url("/appointments/manage"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("code", code.as_str()),
            ("id_number", &citizen(5)),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(found.contains("取消预约"));
    let done = c
        .post(app.url("/appointments/manage/cancel"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("code", code.as_str()),
            ("id_number", &citizen(5)),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.contains("预约已取消"));
}

#[test]
fn test_ids_are_valid() {
    for n in [0, 1, 77, 199, 5000] {
        assert!(
            onetrip::domain::id_number::IdNumber::parse(&citizen(n)).is_ok(),
            "{}",
            citizen(n)
        );
    }
}

on_both_engines!(book_request_use_case_refuses_staff_channels_without_staff);

async fn book_request_use_case_refuses_staff_channels_without_staff(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let slot = first_slot(&availability(&app, "2026-03-04").await);
    let req = BookRequest {
        slot_id: slot,
        name: "x".into(),
        id_number: citizen(1),
        phone: "13800138000".into(),
        channel: Channel::Onsite,
        lang: None,
    };
    let r = booking::book(&app.state.booking(), None, req, None).await;
    assert!(matches!(
        r,
        Err(onetrip::auth::Failure::Refused(
            booking::BookingError::StaffChannel
        ))
    ));
}

on_both_engines!(administrators_change_quotas_add_peak_capacity_and_close_a_day);

async fn administrators_change_quotas_add_peak_capacity_and_close_a_day(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let hall = app.site_id("0001").await;
    let pw = app
        .staff("hall.admin", vec![(Role::Admin, Some(hall))])
        .await;
    let c = app.signed_in("hall.admin", &pw).await;
    let before = availability(&app, "2026-03-04").await;
    assert_eq!(before["slots"][0]["remaining"], 6, "default online quota");
    let slot = first_slot(&before);
    assert_eq!(
        book_api(&app, &app.client(), slot, 1, None).await.status(),
        201
    );
    let path = format!("/admin/sites/{hall}/appointments");
    let token = app.csrf(&c, &path).await;
    let res = c
        .post(app.url(&format!("{path}/settings")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("line", "first_issue"),
            ("slot_minutes", "30"),
            ("quota_online", "3"),
            ("quota_phone", "1"),
            ("quota_onsite", "1"),
            ("open_days_ahead", "7"),
            ("open_at", "09:00"),
            ("close_minutes_before", "60"),
            ("release_delay_seconds", "600"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        availability(&app, "2026-03-04").await["slots"][0]["remaining"],
        2,
        "3 places, 1 booked, on the already generated day"
    );
    // Out-of-range settings are refused.
    let res = c
        .post(app.url(&format!("{path}/settings")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("line", "first_issue"),
            ("slot_minutes", "1"),
            ("quota_online", "3"),
            ("quota_phone", "1"),
            ("quota_onsite", "1"),
            ("open_days_ahead", "7"),
            ("open_at", "09:00"),
            ("close_minutes_before", "60"),
            ("release_delay_seconds", "600"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    // Peak capacity for two days: both the generated day and one not generated yet get it.
    let res = c
        .post(app.url(&format!("{path}/capacity")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("line", "first_issue"),
            ("from", "2026-03-04"),
            ("to", "2026-03-05"),
            ("extra_online", "4"),
            ("extra_phone", "0"),
            ("extra_onsite", "0"),
            ("reason", "暑期高峰"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        availability(&app, "2026-03-04").await["slots"][0]["remaining"],
        6
    );
    assert_eq!(
        availability(&app, "2026-03-05").await["slots"][0]["remaining"],
        7
    );
    assert_eq!(
        availability(&app, "2026-03-06").await["slots"][0]["remaining"],
        3
    );
    // Close a day: the booking is cancelled, the citizen told, new bookings refused.
    let res = c
        .post(app.url(&format!("{path}/close-day")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("date", "2026-03-04"),
            ("reason_zh", "系统升级"),
            ("reason_en", "System upgrade"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("1 个预约已取消"));
    let (old_id, status, reason): (i64, String, Option<String>) = sqlx::query_as(
        "SELECT id, status, cancel_reason FROM bookings WHERE rescheduled_from IS NULL",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), reason.as_deref()),
        ("cancelled", Some("site_closed"))
    );
    // Another time is offered: the nearest later free place, held as a new booking the
    // citizen can keep, move or cancel, and texted.
    let (offered_date, offered_status): (String, String) =
        sqlx::query_as("SELECT date, status FROM bookings WHERE rescheduled_from = $1")
            .bind(old_id)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(offered_status, "booked");
    assert!(offered_date.as_str() > "2026-03-04", "{offered_date}");
    // One text says both why and the new time: the cancellation queued a minute ahead in
    // case no offer could be made is withdrawn.
    let (offers,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'booking.offered' AND body LIKE '%2026年3月4日%' AND body LIKE '%系统升级%'",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(offers, 1);
    let (notices, withdrawn): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(cancelled_at) FROM outbox WHERE kind = 'booking.cancelled' AND body LIKE '%系统升级%'",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!((notices, withdrawn), (1, 1));
    let day = availability(&app, "2026-03-04").await;
    assert!(day["notice"].as_str().unwrap().contains("系统升级"));
    assert_eq!(day["slots"][1]["bookable"], false);
    let res = book_api(&app, &app.client(), first_slot(&day), 2, None).await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "booking.day_closed"
    );
    // Closing the same day twice is refused; the audit log has every change.
    let res = c
        .post(app.url(&format!("{path}/close-day")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("date", "2026-03-04"),
            ("reason_zh", "系统升级"),
            ("reason_en", "System upgrade"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let actions: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM audit_log WHERE action LIKE 'booking.%' ORDER BY id")
            .fetch_all(app.state.db.reader())
            .await
            .unwrap();
    let actions: Vec<&str> = actions.iter().map(|a| a.0.as_str()).collect();
    assert!(
        actions.contains(&"booking.settings_changed")
            && actions.contains(&"booking.capacity_added")
            && actions.contains(&"booking.day_closed")
    );
    // Another site's administrator cannot touch this one.
    let ext = app.site_id("0002").await;
    let pw = app.staff("ext.admin", vec![(Role::Admin, Some(ext))]).await;
    let o = app.signed_in("ext.admin", &pw).await;
    assert_eq!(o.get(app.url(&path)).send().await.unwrap().status(), 403);
}

on_both_engines!(another_nodes_availability_catches_up_within_the_cache_lifetime);

async fn another_nodes_availability_catches_up_within_the_cache_lifetime(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let hall = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .unwrap()
        .unwrap();
    let date: jiff::civil::Date = "2026-03-04".parse().unwrap();
    // A second node: same database, its own cache.
    let other_cache = booking::DayCache::new(1000);
    let other = booking::Ctx {
        cache: &other_cache,
        ..app.state.booking()
    };
    let lang = onetrip::i18n::Lang::ZhCn;
    let before = booking::availability(&other, &hall, "first_issue", date, Channel::Web, lang)
        .await
        .unwrap();
    assert_eq!(before.slots[0].remaining, 6);
    assert_eq!(
        book_api(&app, &app.client(), before.slots[0].slot_id, 1, None)
            .await
            .status(),
        201
    );
    // This node sees its own booking at once.
    assert_eq!(
        availability(&app, "2026-03-04").await["slots"][0]["remaining"],
        5
    );
    // The other node may show the old count for at most its cache lifetime…
    let stale = booking::availability(&other, &hall, "first_issue", date, Channel::Web, lang)
        .await
        .unwrap();
    assert_eq!(stale.slots[0].remaining, 6);
    // …and the booking engine, not the copy, decides: a booking through it still respects the quota.
    app.state.clock.advance_ms(1001);
    let fresh = booking::availability(&other, &hall, "first_issue", date, Channel::Web, lang)
        .await
        .unwrap();
    assert_eq!(fresh.slots[0].remaining, 5);
}

on_both_engines!(added_capacity_tells_the_waiting_list_in_order);

async fn added_capacity_tells_the_waiting_list_in_order(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let ctx = app.state.booking();
    let hall = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .unwrap()
        .unwrap();
    let date: jiff::civil::Date = "2026-03-05".parse().unwrap();
    for n in [31, 32] {
        booking::join_waitlist(
            &ctx,
            &hall,
            "first_issue",
            date,
            &citizen(n),
            "13700137000",
            onetrip::i18n::Lang::ZhCn,
        )
        .await
        .unwrap();
    }
    let change = booking::CapacityChange {
        line_code: "first_issue".into(),
        from_date: "2026-03-05".into(),
        to_date: "2026-03-05".into(),
        extra: (1, 0, 0),
        reason: "加开窗口".into(),
    };
    booking::add_capacity(&ctx, common::administrator(), hall.id, change)
        .await
        .unwrap();
    let (told,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE kind = 'waitlist.place_free'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(told, 2, "both waiting people are told");
    let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM waitlist WHERE notified_at IS NULL")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(left, 0);
    // Online places only: extra telephone places tell nobody.
    booking::join_waitlist(
        &ctx,
        &hall,
        "first_issue",
        date,
        &citizen(33),
        "13700137000",
        onetrip::i18n::Lang::ZhCn,
    )
    .await
    .unwrap();
    let phone_only = booking::CapacityChange {
        extra: (0, 2, 0),
        ..booking::CapacityChange {
            line_code: "first_issue".into(),
            from_date: "2026-03-05".into(),
            to_date: "2026-03-05".into(),
            extra: (0, 0, 0),
            reason: "电话加号".into(),
        }
    };
    booking::add_capacity(&ctx, common::administrator(), hall.id, phone_only)
        .await
        .unwrap();
    let (still,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM waitlist WHERE notified_at IS NULL")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(still, 1);
}

on_both_engines!(
    a_day_closed_on_another_node_refuses_bookings_even_while_this_node_remembers_it_open
);

async fn a_day_closed_on_another_node_refuses_bookings_even_while_this_node_remembers_it_open(
    engine: Engine,
) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let hall = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .unwrap()
        .unwrap();
    // This node reads the day (and remembers its slots).
    let slot = first_slot(&availability(&app, "2026-03-04").await);
    // Another node (its own cache) closes the day.
    let other_cache = booking::DayCache::new(1000);
    let other = booking::Ctx {
        cache: &other_cache,
        ..app.state.booking()
    };
    let date: jiff::civil::Date = "2026-03-04".parse().unwrap();
    booking::close_day(
        &other,
        common::administrator(),
        &hall,
        date,
        "停电检修",
        "Power maintenance",
    )
    .await
    .unwrap();
    // Within this node's cache lifetime the database still refuses the booking.
    let res = book_api(&app, &app.client(), slot, 1, None).await;
    assert_ne!(res.status(), 201);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM bookings")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(n, 0);
    // Once the copy expires, the citizen is told why.
    app.state.clock.advance_ms(1001);
    let _ = availability(&app, "2026-03-04").await;
    let res = book_api(&app, &app.client(), slot, 1, None).await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "booking.day_closed"
    );
}

/// Rate limits (R2): per ID number and per client address, shared by every node. On PostgreSQL
/// the attempts alternate between two nodes, which must count them together.
async fn rate_limits_stop_scripted_booking_on_every_node(engine: Engine) {
    let config = Config {
        booking_attempts_per_ip_hour: 8,
        booking_attempts_per_id_hour: 3,
        ..Config::default()
    };
    let Some(app) = TestApp::spawn_full(
        engine,
        config,
        Clock::fixed(at("2026-03-02T10:00:00+08:00")),
    )
    .await
    else {
        return;
    };
    let node_b = app.second_node().await;
    let bases = [
        app.base.clone(),
        node_b.as_ref().map_or(app.base.clone(), |n| n.base.clone()),
    ];
    set_quota(&app, "0001", "first_issue", 100, 0, 0).await;
    let slot = first_slot(&availability(&app, "2026-03-04").await);
    let c = app.client();
    let attempt = |n: u32, person: u32, lang: &'static str| {
        let url = format!("{}/api/v1/appointments", bases[n as usize % 2]);
        c.post(url)
            .header("accept-language", lang)
            .json(&json!({"slot_id": slot, "name": "脚本", "id_number": citizen(person), "phone": "13800138000", "channel": "web"}))
            .send()
    };
    // One person: booked, then twice "already booked", then the limit of 3 an hour.
    let mut statuses = Vec::new();
    for n in 0..3 {
        statuses.push(attempt(n, 1, "zh-CN").await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, vec![201, 409, 409]);
    let refused = attempt(3, 1, "zh-CN").await.unwrap();
    assert_eq!(refused.status().as_u16(), 429);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "booking.rate_limited");
    assert_eq!(body["message"], "操作过于频繁，请稍后再试。");
    // One address: 4 attempts so far (the refused one counts); 4 more people get through,
    // the ninth attempt of the hour does not, in English for an English reader.
    for person in 2..6 {
        assert_eq!(
            attempt(person, person, "en")
                .await
                .unwrap()
                .status()
                .as_u16(),
            201,
            "person {person}"
        );
    }
    let refused = attempt(6, 6, "en").await.unwrap();
    assert_eq!(refused.status().as_u16(), 429);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Too many attempts; please try again later (within the hour)."
    );
    // A refused attempt writes nothing.
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM bookings WHERE slot_id = $1")
        .bind(slot)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(rows, 5, "the five bookings that got through, nothing else");
    // Two hours on (both nodes share the test's clock), the address may try again.
    app.state.clock.advance_ms(2 * 3_600_000 + 1);
    assert_eq!(attempt(7, 6, "en").await.unwrap().status().as_u16(), 201);
    // Old counts are pruned (in memory on SQLite, rows on PostgreSQL).
    app.state.limits.prune().await.unwrap();
    if engine == Engine::Postgres {
        let (old,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM rate_hits WHERE window_start < $1")
                .bind(app.state.clock.now_ms() - 3_600_000)
                .fetch_one(app.state.db.reader())
                .await
                .unwrap();
        assert_eq!(old, 0);
    }
}

on_both_engines!(rate_limits_stop_scripted_booking_on_every_node);

/// Issue 11 item 3: appointments booked on a provisional working day that the State Council's
/// notice makes a day off are cancelled and moved to the nearest later time, each citizen told
/// once (the offer says why); entering the same dates again moves nothing.
async fn the_notice_moves_appointments_off_new_days_off(app: TestApp) {
    // 2027-01-04 is a working day on the provisional calendar (元旦 is one day).
    let day = availability(&app, "2027-01-04").await;
    let res = book_api(&app, &app.client(), first_slot(&day), 1, None).await;
    assert_eq!(res.status(), 201);
    let old: Value = res.json().await.unwrap();
    let old_code = old["code"].as_str().unwrap().to_owned();

    let admin = Actor {
        grants: vec![onetrip::auth::RoleGrant {
            role: Role::Admin,
            site_id: None,
        }],
        ..common::actor_at(0, &[])
    };
    let input = |note: &str| onetrip::calendar::NoticeInput {
        arrangement: serde_json::from_value(common::notice_2027("2027-01-05", "2027-02-12"))
            .unwrap(),
        note: note.into(),
    };
    let ctx = app.state.calendar_admin();
    let entered = onetrip::calendar::enter_notice(&ctx, admin.any_admin().unwrap(), input(""))
        .await
        .unwrap();
    let closed = &entered.report.days_closed;
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(
        (closed[0].site_code.as_str(), closed[0].date.as_str()),
        ("0001", "2027-01-04")
    );
    assert_eq!((closed[0].cancelled, closed[0].offered), (1, 1));

    let (old_id, status): (i64, String) =
        sqlx::query_as("SELECT id, status FROM bookings WHERE code = $1")
            .bind(&old_code)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(status, "cancelled");
    let (new_date, new_status): (String, String) =
        sqlx::query_as("SELECT date, status FROM bookings WHERE rescheduled_from = $1")
            .bind(old_id)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(new_status, "booked");
    assert!(new_date.as_str() >= "2027-01-06", "{new_date}");
    // One text for the citizen, and it says why.
    let texts: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, body FROM outbox WHERE kind IN ('booking.cancelled', 'booking.offered') \
         AND cancelled_at IS NULL",
    )
    .fetch_all(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(texts[0].0, "booking.offered");
    // The text writes the new day as people write dates.
    let new_day = onetrip::notify::wording::stored_date(onetrip::i18n::Lang::ZhCn, &new_date);
    assert!(new_day.starts_with("2027年1月"), "{new_day}");
    assert!(
        texts[0].1.contains("国务院节假日安排（元旦放假）") && texts[0].1.contains(&new_day),
        "{}",
        texts[0].1
    );
    // The day is closed to new bookings and says why.
    let day = availability(&app, "2027-01-04").await;
    assert!(
        day["notice"].as_str().unwrap_or_default().contains("元旦"),
        "{day}"
    );
    assert!(
        day["slots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["bookable"] == false)
    );
    // The same dates again (an amendment with its reason) move nothing.
    let again =
        onetrip::calendar::enter_notice(&ctx, admin.any_admin().unwrap(), input("核对后重新录入"))
            .await
            .unwrap();
    assert!(again.report.days_closed.is_empty());
}

on_both_engines!(
    notice_moves_appointments,
    at = "2026-12-30T09:00:00+08:00",
    super::the_notice_moves_appointments_off_new_days_off
);

/// Issue 12 item 5: guessing the owner's ID number to cancel a booking stops after a few
/// wrong ones: the code is locked for online use on every node, the owner is told once, the
/// booking stands; every try also counts against the client's address.
async fn a_booking_code_locks_after_wrong_id_numbers(engine: Engine) {
    let config = Config {
        booking_attempts_per_ip_hour: 9,
        booking_attempts_per_id_hour: 0,
        ..Config::default()
    };
    let Some(app) = TestApp::spawn_full(
        engine,
        config,
        Clock::fixed(at("2026-03-02T10:00:00+08:00")),
    )
    .await
    else {
        return;
    };
    let slot = first_slot(&availability(&app, "2026-03-04").await);
    let res = book_api(&app, &app.client(), slot, 1, None).await;
    assert_eq!(res.status(), 201);
    let code = res.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = app.client();
    let cancel = |id: String| {
        c.post(app.url("/api/v1/appointments/cancel"))
            .json(&json!({"code": code, "id_number": id}))
            .send()
    };
    // Four wrong guesses look like no booking at all; the fifth locks the code.
    for n in 2..6 {
        assert_eq!(cancel(citizen(n)).await.unwrap().status(), 404);
    }
    let res = cancel(citizen(6)).await.unwrap();
    assert_eq!(res.status(), 423);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "booking.locked");
    // Now not even the right ID number changes it online; the booking stands.
    let res = cancel(citizen(1)).await.unwrap();
    assert_eq!(res.status(), 423);
    let (status,): (String,) = sqlx::query_as("SELECT status FROM bookings WHERE code = $1")
        .bind(&code)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(status, "booked");
    let (told,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE kind = 'booking.locked' AND ref = $1")
            .bind(&code)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(told, 1);
    // The address has used 6 of its 9 lookups (booking counts apart); the tenth is refused.
    for n in 7..10 {
        let _ = cancel(citizen(n)).await.unwrap();
    }
    let res = cancel(citizen(9)).await.unwrap();
    assert_eq!(res.status(), 429);
}

on_both_engines!(a_booking_code_locks_after_wrong_id_numbers);

/// Issue 12 item 12: checking in through the JSON API issues the same priority ticket as the
/// staff page; a second check-in is refused and issues nothing more.
async fn the_api_check_in_issues_the_priority_ticket(app: TestApp) {
    let day = availability(&app, "2026-03-02").await;
    let slot = day["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["bookable"] == true)
        .unwrap()["slot_id"]
        .as_i64()
        .unwrap();
    let code = book_api(&app, &app.client(), slot, 1, None)
        .await
        .json::<Value>()
        .await
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let hall = app.site_id("0001").await;
    let pw = app.staff("api.desk", vec![(Role::Guide, Some(hall))]).await;
    let c = app.signed_in("api.desk", &pw).await;
    let me: Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    let check_in = || {
        c.post(app.url(&format!("/api/v1/appointments/{code}/check-in")))
            .header("x-csrf-token", csrf.as_str())
            .send()
    };
    let res = check_in().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "arrived");
    assert!(
        !body["ticket_number"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{body}"
    );
    let ticket: Value = app
        .client()
        .get(app.url(&format!(
            "/api/v1/tickets/{}",
            body["ticket_token"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ticket["number"], body["ticket_number"], "{ticket}");
    let (class,): (String,) =
        sqlx::query_as("SELECT class FROM tickets WHERE booking_id IS NOT NULL")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(class, "appointment");
    assert_ne!(check_in().await.unwrap().status(), 200);
    let (tickets,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM tickets WHERE booking_id IS NOT NULL")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(tickets, 1);
}

on_both_engines!(
    api_check_in,
    at = "2026-03-02T07:00:00+08:00",
    super::the_api_check_in_issues_the_priority_ticket
);

/// Issue 12 item 12: the administrators' and desk's booking steps as JSON: close a day (its
/// bookings moved), add capacity, join a waiting list, lift a no-show block.
async fn booking_administration_through_json(app: TestApp) {
    let slot = first_slot(&availability(&app, "2026-03-04").await);
    assert_eq!(
        book_api(&app, &app.client(), slot, 1, None).await.status(),
        201
    );
    let hall = app.site_id("0001").await;
    let pw = app
        .staff(
            "json.admin",
            vec![(Role::Admin, Some(hall)), (Role::Leader, Some(hall))],
        )
        .await;
    let (c, csrf) = app.api_session("json.admin", &pw).await;
    let post = |path: &str, body: Value| {
        c.post(app.url(path))
            .header("x-csrf-token", csrf.as_str())
            .json(&body)
            .send()
    };
    let res = post(
        "/api/v1/admin/sites/0001/closures",
        json!({"date": "2026-03-04", "reason_zh": "系统升级", "reason_en": "System upgrade"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    let closed: Value = res.json().await.unwrap();
    assert_eq!(
        (closed["cancelled"].as_i64(), closed["date"].as_str()),
        (Some(1), Some("2026-03-04"))
    );
    let res = post(
        "/api/v1/admin/sites/0001/capacity",
        json!({"line": "first_issue", "from": "2026-03-05", "to": "2026-03-05",
               "extra_online": 2, "extra_phone": 0, "extra_onsite": 0, "reason": "高峰加号"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 204);
    let (extra,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM capacity_changes")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(extra, 1);
    let join = || {
        app.client()
            .post(app.url("/api/v1/appointments/waitlist"))
            .json(
                &json!({"site": "0001", "line": "first_issue", "date": "2026-03-06",
                          "id_number": citizen(9), "phone": "13800138000"}),
            )
            .send()
    };
    let first: Value = join().await.unwrap().json().await.unwrap();
    let again: Value = join().await.unwrap().json().await.unwrap();
    assert_eq!(
        (first["joined"].as_bool(), again["joined"].as_bool()),
        (Some(true), Some(false))
    );
    let res = post(
        "/api/v1/appointments/blocks/lift",
        json!({"site": "0001", "id_number": citizen(1), "reason": "电话核实后解除"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 204);
}

on_both_engines!(
    booking_admin_json,
    at = "2026-03-02T10:00:00+08:00",
    super::booking_administration_through_json
);

/// Issue 14 §2: the holder checks in at an enrolled kiosk of the site with their ID number (as
/// the card reader fills it) or the booking code, within the time window, and gets the same
/// priority ticket; too early is told when to come back; a second check-in and two kiosks at
/// once never yield a second ticket; anything but an enrolled kiosk of the site is refused.
async fn kiosk_check_in_prints_the_priority_ticket(app: TestApp) {
    let day = availability(&app, "2026-03-02").await;
    let slots: Vec<&Value> = day["slots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["bookable"] == true)
        .collect();
    let slot = slots[2]["slot_id"].as_i64().unwrap();
    let code = book_api(&app, &app.client(), slot, 31, None)
        .await
        .json::<Value>()
        .await
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let second = book_api(&app, &app.client(), slot, 33, None)
        .await
        .json::<Value>()
        .await
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let booking = onetrip::booking::booking_by_code(app.state.db.reader(), &code)
        .await
        .unwrap()
        .unwrap();
    let tickets = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM tickets WHERE booking_id = $1")
            .bind(booking.id)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap()
    };

    // Not a kiosk: refused.
    let stranger = app.client();
    assert_eq!(
        stranger
            .get(app.url("/kiosk/0001/check-in"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let kiosk = common::kiosk_browser(&app, "0001", "大厅签到机").await;
    let token = app.csrf(&kiosk, "/kiosk/0001/check-in").await;
    let check_in = |query: String| {
        let kiosk = kiosk.clone();
        let token = token.clone();
        let url = app.url("/kiosk/0001/check-in");
        let origin = app.url("");
        async move {
            kiosk
                .post(url)
                .header("origin", origin)
                .form(&[("csrf_token", token.as_str()), ("query", query.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    // Too early (more than an hour before): told when to come back, nothing issued.
    let opens = booking.starts_at - 60 * 60_000;
    app.state
        .clock
        .advance_ms(opens - 10 * 60_000 - app.state.clock.now_ms());
    let res = check_in(citizen(31)).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    let from = onetrip::clock::format_local_minute(opens);
    assert!(html.contains(&from[11..]), "says from when: {html}");
    assert_eq!(tickets().await, 0);

    // In the window: six check-ins at once (the holder at two kiosks, by card and by code):
    // one ticket.
    app.state.clock.advance_ms(20 * 60_000);
    let tries = (0..6).map(|i| {
        check_in(if i % 2 == 0 {
            citizen(31)
        } else {
            code.clone()
        })
    });
    let answers = futures_util::future::join_all(tries).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "one arrival, one ticket: {statuses:?}"
    );
    assert_eq!(tickets().await, 1);
    let printed = answers
        .into_iter()
        .find(|r| r.status() == 303)
        .expect("the printed one");
    let location = printed.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("/tickets/") && location.ends_with("/print"),
        "{location}"
    );
    let class: String = sqlx::query_scalar("SELECT class FROM tickets WHERE booking_id = $1")
        .bind(booking.id)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(class, "appointment");
    // Again: refused, still one ticket.
    assert_ne!(check_in(citizen(31)).await.status(), 303);
    assert_eq!(tickets().await, 1);
    // Someone without a booking today: told so.
    let html = check_in(citizen(32)).await.text().await.unwrap();
    assert!(html.contains("今天本办证点没有找到该预约"), "{html}");
    // The JSON twin for a kiosk that is not a browser: the same checks and the same one ticket.
    let (_, enrol_code) = onetrip::device_registry::register(
        &app.state.db,
        &app.state.clock,
        common::administrator(),
        app.site_id("0001").await,
        onetrip::device_registry::Kind::Kiosk,
        "签到终端",
    )
    .await
    .unwrap();
    let (_, credential) = onetrip::device_registry::enrol(
        &app.state.db,
        &app.state.clock,
        &enrol_code,
        &Default::default(),
    )
    .await
    .unwrap();
    let json_check_in = |query: String| {
        let url = app.url("/api/v1/devices/me/check-in");
        let client = app.client();
        let credential = credential.clone();
        async move {
            client
                .post(url)
                .header("authorization", format!("Device {credential}"))
                .json(&serde_json::json!({ "query": query }))
                .send()
                .await
                .unwrap()
        }
    };
    assert_ne!(
        json_check_in(citizen(31)).await.status(),
        200,
        "already arrived"
    );
    assert_eq!(tickets().await, 1);
    let res = json_check_in(second.clone()).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["code"], second.as_str());
    assert!(
        v["ticket_number"].as_str().is_some_and(|n| !n.is_empty()),
        "{v}"
    );
    assert_ne!(json_check_in(citizen(33)).await.status(), 200, "once");
    let anonymous = app
        .client()
        .post(app.url("/api/v1/devices/me/check-in"))
        .json(&serde_json::json!({ "query": second }))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // The extension point's kiosk cannot check in a hall booking.
    let far = common::kiosk_browser(&app, "0002", "延伸点签到机").await;
    assert_eq!(
        far.get(app.url("/kiosk/0001/check-in"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

on_both_engines!(
    kiosk_check_in,
    at = "2026-03-02T06:00:00+08:00",
    super::kiosk_check_in_prints_the_priority_ticket
);
