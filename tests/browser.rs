//! End to end in a real browser: headless Chromium driven through chromedriver (WebDriver).
//!
//! Walks the pages a citizen and an administrator see, asserts on what the browser shows, and
//! leaves screenshots in `target/screenshots/` for a person to look at: public pages in Chinese
//! and English, sign-in, the workstation and administration at phone width (390x844), then
//! the audit log, staff list, home and a guide page on the 1920x1080 hall screen. A second walk,
//! at a fixed clock, books an appointment the way a citizen does on a phone (line, day and time
//! by clicking, then the form), checks the confirmation's code and QR image, looks the booking
//! up and cancels it; an officer then finds it cancelled on the day's list, and an administrator
//! opens the appointment settings and the SMS simulator's log. A third walk, also at a fixed
//! clock, follows a ticket: the hall display is opened first (1920x1080) and stays open in its
//! own window; in a second window the kiosk (upright 1080x1920, and landscape) issues an
//! endorsement ticket (after a morning of calls at other windows), whose print page (also laid out on 80 mm paper) shows the number and a
//! loaded QR code; the citizen's status page on a phone; an officer opens window 4 and calls the
//! next ticket; the guide desk; then the display, never reloaded, shows the call it received
//! live. Every page screenshotted must also fit its window (no sideways scrolling).
//!
//! Needs `chromedriver` on `PATH` (or `CHROMEDRIVER=/path`) and a Chromium/Chrome it can drive.
//! Without it the test is skipped with a note, unless `CI` or `ONETRIP_REQUIRE_BROWSER` is set,
//! in which case it fails.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::browser::*;
use common::{Engine, TestApp, citizen};
use fantoccini::{Client, Locator};
use onetrip::auth::{Actor, RequestMeta, Role, RoleGrant};
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::queue::{self, TicketClass, TicketStatus};
use onetrip::web::AppState;
use serde_json::json;

async fn walk(app: &App, c: &Client, shots: &Shots, password: &str) {
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");

    // Home, in Chinese for a Chinese browser.
    c.goto(&app.url("/")).await.expect("open home");
    path_is(c, "/").await;
    assert_eq!(html_lang(c).await, "zh-CN");
    assert_eq!(text_of(c, "main h1").await, "办理出入境证件，只跑一次");
    let home = body_text(c).await;
    assert!(
        home.contains("办理流程") && home.contains("可办理的证件"),
        "{home}"
    );
    assert!(
        home.contains("工作人员登录"),
        "the sign-in link in the header"
    );
    shots.take(c, "home-zh.png").await;

    // Switch to English with the link in the header.
    click_lang_switch(c, "English").await;
    path_is(c, "/").await;
    assert_eq!(html_lang(c).await, "en");
    assert_eq!(
        text_of(c, "main h1").await,
        "Your exit-entry documents, in one trip"
    );
    assert!(body_text(c).await.contains("How it works"));
    shots.take(c, "home-en.png").await;

    // The guide, through the main navigation: English sticks through the cookie.
    c.find(Locator::Css("nav.mainnav a[href='/guide']"))
        .await
        .expect("the guide in the main navigation")
        .click()
        .await
        .expect("open the guide");
    path_is(c, "/guide").await;
    assert_eq!(text_of(c, "main h1").await, "Service guide");
    assert!(
        !c.find_all(Locator::Css("main .item-links a"))
            .await
            .expect("guide links")
            .is_empty(),
        "the guide lists the services"
    );
    shots.take(c, "guide-en.png").await;

    // The passport guide (no ?lang= in this URL either).
    c.goto(&app.url("/guide/passport-first-issue"))
        .await
        .expect("open the passport guide");
    path_is(c, "/guide/passport-first-issue").await;
    assert_eq!(html_lang(c).await, "en");
    let guide = body_text(c).await;
    assert!(guide.contains("¥120.00"), "passport fee in force today");
    assert!(guide.contains("What to bring"), "materials section");
    assert!(guide.contains("Time limit") && guide.contains("Fee"));
    let fee = text_of(c, ".fee").await;
    assert!(fee.starts_with("¥120.00"), "the fee stands out: {fee}");
    shots.take(c, "guide-passport-en.png").await;

    // Back to Chinese through the link, on the same page.
    click_lang_switch(c, "中文").await;
    path_is(c, "/guide/passport-first-issue").await;
    assert_eq!(html_lang(c).await, "zh-CN");
    let guide = body_text(c).await;
    assert!(guide.contains("¥120.00"), "passport fee in force today");
    assert!(guide.contains("所需材料") && guide.contains("办理时限") && guide.contains("收费标准"));
    shots.take(c, "guide-passport-zh.png").await;

    // Sites and their coming opening days (Chinese sticks now).
    c.goto(&app.url("/sites")).await.expect("open sites");
    path_is(c, "/sites").await;
    let sites = body_text(c).await;
    assert!(sites.contains("示范市人民路 88 号") && sites.contains("近期开放时间"));
    let days = c
        .find_all(Locator::Css(".site .days li"))
        .await
        .expect("opening days");
    assert!(!days.is_empty(), "each site lists its coming days");
    shots.take(c, "sites-zh.png").await;

    // A page that does not exist: the error page, in the reader's language, with a way home.
    c.goto(&app.url("/guide/no-such-service"))
        .await
        .expect("open a missing guide");
    assert_eq!(text_of(c, "main h1").await, "无法完成您的请求");
    assert!(body_text(c).await.contains("返回首页"));
    shots.take(c, "error-zh.png").await;

    // An administrator signs in through the form, like a person would.
    c.goto(&app.url("/login")).await.expect("open login");
    path_is(c, "/login").await;
    assert_eq!(text_of(c, "main h1").await, "工作人员登录");
    shots.take(c, "login-zh.png").await;
    sign_in(c, "browser.admin", password).await;
    assert_eq!(text_of(c, "main h1").await, "工作台");
    let desk = body_text(c).await;
    assert!(
        desk.contains("测试browser.admin") && desk.contains("990001"),
        "the supervision card names the officer: {desk}"
    );
    assert!(desk.contains("退出"), "a sign-out button in the header");
    shots.take(c, "staff-zh.png").await;

    // Administration: sites and the audit log (which recorded the sign-in).
    c.goto(&app.url("/admin/sites")).await.expect("admin sites");
    path_is(c, "/admin/sites").await;
    assert_eq!(text_of(c, "main h1").await, "办证点与窗口");
    assert!(
        !c.find_all(Locator::Css("main table tbody tr"))
            .await
            .expect("site rows")
            .is_empty(),
        "the demo city's sites are listed"
    );
    shots.take(c, "admin-sites-zh.png").await;

    c.goto(&app.url("/admin/staff")).await.expect("admin staff");
    path_is(c, "/admin/staff").await;
    assert_eq!(text_of(c, "main h1").await, "工作人员与角色");
    assert!(text_of(c, "main table").await.contains("browser.admin"));
    shots.take(c, "admin-staff-zh.png").await;

    c.goto(&app.url("/admin/audit")).await.expect("admin audit");
    path_is(c, "/admin/audit").await;
    assert_eq!(text_of(c, "main h1").await, "审计日志");
    let audit = text_of(c, "main table").await;
    assert!(
        audit.contains("auth.sign_in") && audit.contains("browser.admin"),
        "the sign-in is in the audit log: {audit}"
    );
    shots.take(c, "admin-audit-zh.png").await;

    // The 1080p screen of the hall (and an officer's desktop).
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("hall screen window");
    c.refresh().await.expect("reload the audit log");
    assert_eq!(text_of(c, "main h1").await, "审计日志");
    shots.take(c, "admin-audit-zh-1920.png").await;
    c.goto(&app.url("/admin/staff")).await.expect("admin staff");
    shots.take(c, "admin-staff-zh-1920.png").await;

    // Sign out with the button in the header: back home as a citizen.
    sign_out(c).await;
    assert_eq!(text_of(c, "main h1").await, "办理出入境证件，只跑一次");
    let header = text_of(c, "header.masthead").await;
    assert!(
        header.contains("工作人员登录") && !header.contains("系统管理"),
        "signed out: {header}"
    );
    shots.take(c, "home-zh-1920.png").await;

    c.goto(&app.url("/guide/passport-first-issue"))
        .await
        .expect("open the passport guide");
    assert!(body_text(c).await.contains("¥120.00"));
    shots.take(c, "guide-passport-zh-1920.png").await;

    c.goto(&app.url("/admin/audit")).await.expect("admin audit");
    path_is(c, "/login").await;
    assert!(
        c.current_url()
            .await
            .expect("url")
            .query()
            .is_some_and(|q| q.contains("next=%2Fadmin%2Faudit")),
        "signed out, the audit log sends to the sign-in page and back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn citizen_and_admin_pages_in_chromium() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = TestApp::spawn(Engine::Sqlite).await.expect("sqlite app");
    let password = app.staff("browser.admin", vec![(Role::Admin, None)]).await;
    let site = App {
        base: app.base.clone(),
    };
    in_chromium(&binary, move |c, shots| async move {
        walk(&site, &c, &shots, &password).await
    })
    .await;
}

/// 2026-03-02 10:00 in Beijing, a Monday: the appointment walk runs at this instant.
const BOOKING_NOW: &str = "2026-03-02T10:00:00+08:00";
/// The day the citizen books, two days ahead (a Wednesday).
const BOOKING_DAY: &str = "2026-03-04";

/// What the appointment walk works with besides the browser.
struct Booking {
    app: App,
    /// The application's state, to deliver the SMS outbox as the worker would.
    state: AppState,
    /// The id of the hall (site 0001).
    hall: i64,
    officer_password: String,
    admin_password: String,
}

/// Steps 1 and 2 of booking, on the citizen's page: the service `line` at the hall (0001)
/// chosen in the list, then the day among the date links.
async fn choose_line_and_day(c: &Client, app: &App, line: &str, day: &str) {
    c.goto(&app.url("/appointments"))
        .await
        .expect("open appointments");
    path_is(c, "/appointments").await;
    assert_eq!(text_of(c, "main h1").await, "预约办证");
    c.find(Locator::Css("main select[name=line]"))
        .await
        .expect("the service list")
        .select_by_value(line)
        .await
        .unwrap_or_else(|e| panic!("choose {line}: {e}"));
    click(c, "main form[method=get] button").await;
    query_has(c, &format!("line={line}")).await;
    assert_eq!(value_of(c, "main select[name=line]").await, line);
    assert_eq!(value_of(c, "main select[name=site]").await, "0001");
    click(c, &format!("main .dates a[href*='date={day}']")).await;
    query_has(c, &format!("date={day}")).await;
    assert!(text_of(c, "main form[method=post] h2").await.contains(day));
    assert_eq!(value_of(c, "main select[name=line]").await, line);
}

/// Step 3 of booking: the first time still open, by clicking its box; returns the time shown.
async fn choose_first_open_time(c: &Client) -> String {
    let slot = c
        .find(Locator::Css("main .slots label.slot:not(.full)"))
        .await
        .expect("an open time");
    let time = slot
        .find(Locator::Css(".time"))
        .await
        .expect("its time")
        .text()
        .await
        .expect("time text");
    slot.click().await.expect("choose the time");
    assert!(
        slot.find(Locator::Css("input[name=slot_id]"))
            .await
            .expect("its radio button")
            .is_selected()
            .await
            .expect("selected?"),
        "clicking the time box selects it"
    );
    time
}

/// Step 4 of booking: who comes.
async fn fill_in_who_comes(c: &Client, name: &str, id_number: &str) {
    type_into(c, "main input[name=name]", name).await;
    type_into(c, "main input[name=id_number]", id_number).await;
    type_into(c, "main input[name=phone]", "13800138000").await;
}

/// The confirmation page after booking: waits for it and returns the booking's code.
async fn confirmation_code(c: &Client) -> String {
    let path = path_where(c, "a confirmation page", |p| {
        p.starts_with("/appointments/") && p != "/appointments/manage"
    })
    .await;
    let code = path.rsplit('/').next().unwrap_or_default().to_string();
    assert_eq!(text_of(c, "main h1").await, "预约成功");
    assert_eq!(text_of(c, "#booking-code").await, code);
    assert!(
        code.len() >= 6 && code.chars().all(|ch| ch.is_ascii_alphanumeric()),
        "a short code to read out: {code}"
    );
    code
}

async fn appointment_walk(t: &Booking, c: &Client, shots: &Shots) {
    let id_number = citizen(5);
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");

    // The citizen opens the booking page on a phone: another service than the first, and a
    // day two days ahead.
    choose_line_and_day(c, &t.app, "renewal", BOOKING_DAY).await;
    assert_eq!(
        text_of(c, "main .dates a[aria-current=date]").await,
        "03-04 周三",
        "the chosen day is marked"
    );
    let time = choose_first_open_time(c).await;
    fill_in_who_comes(c, "王五", &id_number).await;
    assert!(body_text(c).await.contains("请携带的材料"));
    shots.take(c, "appointments-zh.png").await;
    click(c, "main form[method=post] button.primary").await;

    // The confirmation: the code, the QR image (really loaded), the time and the materials.
    let code = confirmation_code(c).await;
    let confirm = body_text(c).await;
    assert!(
        confirm.contains(&format!("{BOOKING_DAY} {time}")),
        "the booked day and time {time}: {confirm}"
    );
    assert!(confirm.contains("王*"), "the name is masked: {confirm}");
    assert!(!confirm.contains(&id_number), "no full ID number shown");
    assert!(confirm.contains("请携带的材料"));
    let qr = loaded_image_width(c, "main .qr img").await;
    assert!(qr > 0, "the QR code image loads (naturalWidth {qr})");
    let ics = c
        .find(Locator::Css("main a[href$='/calendar.ics']"))
        .await
        .expect("the calendar link")
        .attr("href")
        .await
        .expect("href");
    assert_eq!(
        ics.as_deref(),
        Some(format!("/appointments/{code}/calendar.ics").as_str())
    );
    shots.take(c, "appointment-confirmation-zh.png").await;
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");
    assert!(loaded_image_width(c, "main .qr img").await > 0);
    shots.take(c, "appointment-confirmation-zh-1920.png").await;
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");

    // Manage: the link carries the code; the ID number proves it is theirs.
    click(c, "main .confirm a[href^='/appointments/manage']").await;
    path_is(c, "/appointments/manage").await;
    assert_eq!(value_of(c, "main input[name=code]").await, code);
    type_into(c, "main input[name=id_number]", &id_number).await;
    submit(c, "main form button.primary").await;
    let found = text_of(c, "main section.card h2").await;
    assert!(
        found.contains(&code) && found.contains("已预约"),
        "the booking is found: {found}"
    );
    assert!(
        body_text(c)
            .await
            .contains(&format!("{BOOKING_DAY} {time}"))
    );
    shots.take(c, "appointment-manage-zh.png").await;

    // Cancel: the page says so and offers no more cancelling or moving.
    // Cancelling takes two steps, so a mis-tap on a phone cancels nothing.
    let ask = c
        .find(Locator::Css("main details.confirm-cancel summary"))
        .await
        .expect("the cancel button");
    assert_eq!(ask.text().await.expect("label"), "取消预约");
    ask.click().await.expect("open the confirmation");
    let cancel = c
        .find(Locator::Css(
            "main form[action='/appointments/manage/cancel'] button",
        ))
        .await
        .expect("the confirm button");
    assert_eq!(cancel.text().await.expect("label"), "确认取消");
    cancel.click().await.expect("cancel");
    let done = text_of(c, "main .alert.ok").await;
    assert!(done.contains("预约已取消"), "{done}");
    let state = text_of(c, "main section.card h2").await;
    assert!(
        state.contains(&code) && state.contains("已取消"),
        "the cancelled state: {state}"
    );
    assert!(
        c.find_all(Locator::Css("main form[action^='/appointments/manage/']"))
            .await
            .expect("forms")
            .is_empty(),
        "a cancelled booking cannot be cancelled or moved again"
    );
    shots.take(c, "appointment-cancelled-zh.png").await;

    // An officer of the hall finds it cancelled on the day's list.
    c.goto(&t.app.url("/login")).await.expect("open login");
    sign_in(c, "hall.officer", &t.officer_password).await;
    c.goto(
        &t.app
            .url(&format!("/staff/appointments?site=0001&date={BOOKING_DAY}")),
    )
    .await
    .expect("the day's appointments");
    path_is(c, "/staff/appointments").await;
    let title = text_of(c, "main h1").await;
    assert!(
        title.contains("预约一览") && title.contains(BOOKING_DAY),
        "{title}"
    );
    let row = text_of(c, "main table tbody tr.st-cancelled").await;
    assert!(
        row.contains(&code) && row.contains("已取消") && row.contains("王*"),
        "the cancelled booking on the list: {row}"
    );
    shots.take(c, "staff-appointments-zh.png").await;
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");
    shots.take(c, "staff-appointments-zh-1920.png").await;
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    c.goto(&t.app.url(&format!(
        "/staff/appointments/book?site=0001&line=renewal&date={BOOKING_DAY}"
    )))
    .await
    .expect("booking for a citizen");
    assert_eq!(text_of(c, "main h1").await, "代为预约（电话 / 现场）");
    shots.take(c, "staff-book-zh.png").await;
    sign_out(c).await;

    // An administrator: the hall's appointment settings, and the text messages sent.
    c.goto(&t.app.url("/login")).await.expect("open login");
    sign_in(c, "booking.admin", &t.admin_password).await;
    let settings = format!("/admin/sites/{}/appointments", t.hall);
    c.goto(&t.app.url(&settings))
        .await
        .expect("appointment settings");
    path_is(c, &settings).await;
    assert!(text_of(c, "main h1").await.starts_with("预约设置"));
    assert!(
        !c.find_all(Locator::Css("main form[action$='/appointments/settings']"))
            .await
            .expect("settings forms")
            .is_empty(),
        "a settings form for each line"
    );
    shots.take(c, "admin-appointments-zh.png").await;

    let sent = onetrip::notify::deliver_due(
        &t.state.db,
        &t.state.cipher,
        &onetrip::notify::SimulatedSms,
        &t.state.clock,
    )
    .await
    .expect("deliver the outbox");
    assert!(
        sent >= 2,
        "the confirmation and the cancellation go out: {sent}"
    );
    c.goto(&t.app.url("/admin/sms")).await.expect("the SMS log");
    path_is(c, "/admin/sms").await;
    let log = text_of(c, "main table").await;
    assert!(
        log.contains("预约成功") && log.contains(&code) && log.contains("138****8000"),
        "the confirmation text is in the log: {log}"
    );
    shots.take(c, "admin-sms-zh.png").await;

    // The same pages on a 1080p screen.
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");
    c.refresh().await.expect("reload the SMS log");
    assert!(text_of(c, "main table").await.contains("预约成功"));
    shots.take(c, "admin-sms-zh-1920.png").await;
    c.goto(&t.app.url(&settings))
        .await
        .expect("appointment settings");
    assert!(text_of(c, "main h1").await.starts_with("预约设置"));
    shots.take(c, "admin-appointments-zh-1920.png").await;
    sign_out(c).await;
    c.goto(&t.app.url(&format!(
        "/appointments?site=0001&line=renewal&date={BOOKING_DAY}"
    )))
    .await
    .expect("open appointments");
    assert_eq!(text_of(c, "main h1").await, "预约办证");
    assert!(
        !c.find_all(Locator::Css("main .slots label.slot"))
            .await
            .expect("times")
            .is_empty()
    );
    shots.take(c, "appointments-zh-1920.png").await;

    // The same page in English, on a phone.
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    click_lang_switch(c, "English").await;
    query_has(c, &format!("date={BOOKING_DAY}")).await;
    assert_eq!(text_of(c, "main h1").await, "Book an appointment");
    assert!(text_of(c, "main .slots").await.contains("left:"));
    shots.take(c, "appointments-en.png").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn booking_an_appointment_in_chromium() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let now = BOOKING_NOW
        .parse::<jiff::Timestamp>()
        .expect("timestamp")
        .as_millisecond();
    let config = Config {
        booking_attempts_per_ip_hour: 0,
        booking_attempts_per_id_hour: 0,
        ..Config::default()
    };
    let app = TestApp::spawn_full(Engine::Sqlite, config, Clock::fixed(now))
        .await
        .expect("sqlite app");
    let hall = app.site_id("0001").await;
    let officer_password = app
        .staff("hall.officer", vec![(Role::Officer, Some(hall))])
        .await;
    let admin_password = app.staff("booking.admin", vec![(Role::Admin, None)]).await;
    let walk = Booking {
        app: App {
            base: app.base.clone(),
        },
        state: app.state.clone(),
        hall,
        officer_password,
        admin_password,
    };
    in_chromium(&binary, move |c, shots| async move {
        appointment_walk(&walk, &c, &shots).await
    })
    .await;
}

/// Where the application under test listens.
struct App {
    base: String,
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

/// 2026-03-02 08:53 in Beijing, a Monday morning: the hall has been calling for a while (one
/// ticket a minute at other windows than 4) when the ticketing walk starts, at 09:00 sharp.
const QUEUE_MORNING: &str = "2026-03-02T08:53:00+08:00";
/// Tickets called before the walk, one a minute (the last ones still at their windows).
const EARLIER_CALLS: i64 = 7;
/// The hall's self-service kiosk: a touch screen standing upright.
const KIOSK_PORTRAIT: (u32, u32) = (1080, 1920);
/// 80 mm thermal paper, in CSS pixels (96 to the inch).
const TICKET_PAPER_PX: i64 = 302;

/// What the ticketing walk works with besides the browser.
struct Hall {
    app: App,
    /// The id of window 4 of the hall (site 0001).
    window4: i64,
    officer_password: String,
    /// Tickets at the other windows when the walk starts (listed on the display).
    at_windows: usize,
}

/// Runs `script` (with `args`) until it returns something other than `null` or `false`, for
/// at most `secs` seconds, and returns that; `what` names the awaited state for the failure.
async fn js_until(
    c: &Client,
    what: &str,
    secs: u64,
    script: &str,
    args: Vec<serde_json::Value>,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let v = c
            .execute(script, args.clone())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        if !v.is_null() && v != json!(false) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not the case within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the text of `css` passes `ok`, and returns it.
async fn text_until(c: &Client, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(text) = e.text().await
            && ok(&text)
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "expected {what} in {css} within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sizes the window, and makes the page's viewport exactly `size` (through DevTools, when
/// there): a kiosk or a hall screen shows its page full screen, without a window's frame.
async fn full_screen(c: &Client, shots: &Shots, size: (u32, u32)) {
    c.set_window_size(size.0, size.1)
        .await
        .expect("window size");
    shots
        .cdp(
            c,
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": size.0, "height": size.1, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
}

/// Back to an ordinary window of `size` (the page's viewport is the window's again).
async fn windowed(c: &Client, shots: &Shots, size: (u32, u32)) {
    shots
        .cdp(c, "Emulation.clearDeviceMetricsOverride", json!({}))
        .await;
    c.set_window_size(size.0, size.1)
        .await
        .expect("window size");
}

/// Every service button of the kiosk is big enough for a finger and on the screen without
/// scrolling: at least 120 px tall and 400 px wide, inside the window.
async fn kiosk_buttons_fit(c: &Client, size: &str) {
    let report = c
        .execute(
            r#"const out = [], vw = document.documentElement.clientWidth, vh = window.innerHeight;
               const all = document.querySelectorAll('.kiosk-btn');
               if (all.length < 3) return 'only ' + all.length + ' buttons';
               for (const b of all) {
                 const r = b.getBoundingClientRect();
                 if (r.height < 120 || r.width < 400 || r.bottom > vh || r.right > vw)
                   out.push(b.textContent.trim().replace(/\s+/g, ' ') + ': ' + Math.round(r.width) + 'x'
                     + Math.round(r.height) + ' at ' + Math.round(r.left) + ',' + Math.round(r.top));
               }
               return out.join('; ');"#,
            vec![],
        )
        .await
        .expect("measure the kiosk buttons");
    assert_eq!(
        report.as_str(),
        Some(""),
        "kiosk buttons at {size}: too small or off the screen"
    );
}

async fn ticketing_walk(t: &Hall, c: &Client, shots: &Shots) {
    // The wall display first, on the hall screen: its live link is up before anyone calls.
    full_screen(c, shots, HALL_SCREEN).await;
    c.goto(&t.app.url("/display/0001"))
        .await
        .expect("open the display");
    path_is(c, "/display/0001").await;
    js_until(
        c,
        "the display's live link is up",
        10,
        "return document.body.dataset.link === 'live';",
        vec![],
    )
    .await;
    assert!(text_of(c, "#waiting").await.contains("再次签注"));
    // A mark on the page itself: it would be gone if the page reloaded.
    c.execute("window.onetripMark = 'first load'; return null;", vec![])
        .await
        .expect("mark the display page");
    shots.take(c, "display-before-zh-1920.png").await;
    let display = c.window().await.expect("the display's window");

    // The kiosk, in a second window of the same browser, upright.
    let kiosk = c
        .new_window(false)
        .await
        .expect("a second browser window")
        .handle;
    c.switch_to_window(kiosk.clone())
        .await
        .expect("switch to the kiosk window");
    full_screen(c, shots, KIOSK_PORTRAIT).await;
    c.goto(&t.app.url("/kiosk/0001"))
        .await
        .expect("open the kiosk");
    path_is(c, "/kiosk/0001").await;
    assert!(text_of(c, "main h1").await.contains("自助取号"));
    let endorsement = "main form:has(input[name=line][value=endorsement]) button.kiosk-btn";
    let label = text_of(c, endorsement).await;
    assert!(
        label.contains("再次签注") && label.contains('C'),
        "the endorsement button: {label}"
    );
    shots.take(c, "kiosk-zh-1080x1920.png").await;
    kiosk_buttons_fit(c, "1080x1920").await;
    full_screen(c, shots, HALL_SCREEN).await;
    shots.take(c, "kiosk-zh-1920.png").await;
    kiosk_buttons_fit(c, "1920x1080").await;
    // A foreigner switches the kiosk to English, and back.
    click_lang_switch(c, "English").await;
    text_until(c, "main h1", "the English kiosk", |s| s == "Take a ticket").await;
    kiosk_buttons_fit(c, "1920x1080, in English").await;
    shots.take(c, "kiosk-en-1920.png").await;
    click_lang_switch(c, "中文").await;
    text_until(c, "main h1", "the Chinese kiosk", |s| s == "自助取号").await;
    full_screen(c, shots, KIOSK_PORTRAIT).await;

    // A citizen touches 再次签注: the ticket to print.
    click(c, endorsement).await;
    let print = path_where(c, "the printed ticket", |p| {
        p.starts_with("/tickets/") && p.ends_with("/print")
    })
    .await;
    let token = print.split('/').nth(2).unwrap_or_default().to_string();
    assert_eq!(text_of(c, "#ticket-number").await, "C001");
    let ticket = text_of(c, "main.ticket").await;
    assert!(
        ticket.contains("再次签注")
            && ticket.contains("前面等候")
            && ticket.contains("预计等候")
            && ticket.contains("2026-03-02 09:00"),
        "the ticket says what, how many ahead, how long and when: {ticket}"
    );
    let qr = loaded_image_width(c, "main.ticket img").await;
    assert!(qr > 0, "the ticket's QR code loads (naturalWidth {qr})");
    shots.take(c, "ticket-print-zh.png").await;

    // As the printer lays it out: print media on 80 mm paper (through DevTools, when there).
    if shots
        .cdp(c, "Emulation.setEmulatedMedia", json!({ "media": "print" }))
        .await
        .is_some()
    {
        shots
            .cdp(
                c,
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": TICKET_PAPER_PX, "height": 700, "deviceScaleFactor": 2, "mobile": false }),
            )
            .await
            .expect("80 mm wide page");
        let fit = c
            .execute(
                "const r = document.querySelector('main.ticket').getBoundingClientRect();
                 const hidden = [...document.querySelectorAll('.no-print')]
                   .every(e => getComputedStyle(e).display === 'none');
                 return [Math.ceil(r.left), Math.ceil(r.right), hidden];",
                vec![],
            )
            .await
            .expect("measure the ticket");
        assert!(
            fit[0].as_i64() >= Some(0) && fit[1].as_i64() <= Some(TICKET_PAPER_PX),
            "the ticket fits 80 mm paper: {fit}"
        );
        assert_eq!(fit[2], json!(true), "no screen buttons on the paper");
        shots.take(c, "ticket-print-80mm.png").await;
        shots
            .cdp(c, "Emulation.setEmulatedMedia", json!({ "media": "" }))
            .await;
        full_screen(c, shots, KIOSK_PORTRAIT).await;
    }

    // The display counts the new ticket as waiting, without reloading.
    c.switch_to_window(display.clone())
        .await
        .expect("back to the display");
    js_until(
        c,
        "the display counts one waiting for 再次签注",
        5,
        "const n = document.querySelector('#waiting li[data-line=endorsement] strong');
         return n && n.textContent.trim() === '1';",
        vec![],
    )
    .await;
    c.switch_to_window(kiosk.clone())
        .await
        .expect("back to the kiosk window");

    // The citizen follows the queue on a phone (the QR code's page).
    windowed(c, shots, PHONE).await;
    c.goto(&t.app.url(&format!("/q/{token}")))
        .await
        .expect("open the status page");
    assert_eq!(text_of(c, "main .ticket-number").await, "C001");
    let status = text_of(c, "main").await;
    assert!(
        status.contains("前面等候") && status.contains("再次签注"),
        "{status}"
    );
    shots.take(c, "ticket-status-zh.png").await;

    // An officer of the hall opens window 4 and calls the next ticket.
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");
    c.goto(&t.app.url("/login")).await.expect("open login");
    sign_in(c, "window.officer", &t.officer_password).await;
    c.goto(&t.app.url("/staff/window"))
        .await
        .expect("the window workstation");
    path_is(c, "/staff/window").await;
    assert!(text_of(c, "main h1").await.contains("窗口工作台"));
    c.find(Locator::Css("main select[name=window]"))
        .await
        .expect("the window list")
        .select_by_value(&t.window4.to_string())
        .await
        .expect("choose window 4");
    click(c, "main form[action='/staff/window'] button").await;
    query_has(c, &format!("window={}", t.window4)).await;
    click(c, "main form[action$='/open'] button").await;
    text_until(c, "main", "the window open", |s| s.contains("已开启")).await;
    click(c, "main form[action$='/call'] button").await;
    text_until(c, "#current-number", "C001 called", |s| s == "C001").await;
    let desk = body_text(c).await;
    assert!(
        desk.contains("重呼") && desk.contains("开始办理") && desk.contains("办结"),
        "the next steps for the called ticket: {desk}"
    );
    shots.take(c, "staff-window-zh-1920.png").await;
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    shots.take(c, "staff-window-zh.png").await;

    // The guide desk, where priority tickets are issued.
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");
    c.goto(&t.app.url("/staff/tickets"))
        .await
        .expect("the guide desk");
    path_is(c, "/staff/tickets").await;
    assert!(text_of(c, "main h1").await.contains("导办台取号"));
    let form = text_of(c, "main form").await;
    assert!(
        form.contains("爱心通道") && form.contains("绿色通道"),
        "the priority classes: {form}"
    );
    // The reason asked for is the chosen channel's.
    let shown = |css: &'static str| async move {
        c.find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .is_displayed()
            .await
            .expect("displayed?")
    };
    assert!(!shown("main select[name=love_reason]").await);
    click(c, "main label.class-love").await;
    assert!(
        shown("main select[name=love_reason]").await
            && !shown("main select[name=green_reason]").await,
        "the love channel asks for its reason"
    );
    shots.take(c, "staff-tickets-zh-1920.png").await;
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    shots.take(c, "staff-tickets-zh.png").await;

    // Back on the display, never reloaded: the call arrived over its live link.
    c.switch_to_window(display.clone())
        .await
        .expect("back to the display");
    let call = js_until(
        c,
        "the display shows C001 called to window 4",
        5,
        "const li = document.querySelector('#calls li');
         if (!li) return null;
         const text = li.querySelector('.num').textContent.trim() + ' ' + li.querySelector('.win').textContent.trim();
         return text === 'C001 4 号窗口' ? text : null;",
        vec![],
    )
    .await;
    assert_eq!(call, json!("C001 4 号窗口"));
    let listed = c
        .execute(
            "return [...document.querySelectorAll('#calls li .num')].map(n => n.textContent);",
            vec![],
        )
        .await
        .expect("the calls listed");
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1 + t.at_windows),
        "the calls at the other windows stay listed below the new one: {listed}"
    );
    // Readable across the hall: the latest call is the biggest thing on the screen, whole.
    let size = c
        .execute(
            "const li = document.querySelector('#calls li'), r = li.getBoundingClientRect();
             const px = e => parseFloat(getComputedStyle(e).fontSize);
             const others = [...document.querySelectorAll('#calls li ~ li .num, #waiting li, .display-head h1')];
             return [px(li.querySelector('.num')), Math.max(0, ...others.map(px)),
                     Math.round(r.top), Math.round(r.bottom), window.innerHeight];",
            vec![],
        )
        .await
        .expect("measure the call");
    let px = |i: usize| size[i].as_f64().unwrap_or_default();
    assert!(
        px(0) >= 150.0 && px(0) >= 2.0 * px(1),
        "the latest call in letters of 150 px at least, twice anything else: {size}"
    );
    assert!(
        px(2) >= 0.0 && px(3) <= px(4),
        "the latest call is whole on the screen: {size}"
    );
    assert_eq!(
        c.execute("return window.onetripMark || null;", vec![])
            .await
            .expect("read the mark"),
        json!("first load"),
        "the display was not reloaded: the call came live"
    );
    js_until(
        c,
        "the display counts nobody waiting for 再次签注 any more",
        // Counts refresh on the display's 2-second tick after a change: allow a few ticks on
        // a loaded machine.
        10,
        "const n = document.querySelector('#waiting li[data-line=endorsement] strong');
         return n && n.textContent.trim() === '0';",
        vec![],
    )
    .await;
    shots.take(c, "display-zh-1920.png").await;

    // The citizen's phone now sends them to the window.
    c.switch_to_window(kiosk)
        .await
        .expect("back to the second window");
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    c.goto(&t.app.url(&format!("/q/{token}")))
        .await
        .expect("open the status page");
    assert_eq!(text_of(c, "main .callout").await, "请到 4 号窗口办理");
    shots.take(c, "ticket-status-called-zh.png").await;

    // The officer serves C001 and finishes; the window is free for the next call.
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");
    c.goto(&t.app.url(&format!("/staff/window?window={}", t.window4)))
        .await
        .expect("the window workstation");
    text_until(c, "#current-number", "C001 still at the window", |s| {
        s == "C001"
    })
    .await;
    click(c, "main form[action$='/start'] button").await;
    text_until(c, "main .current-state", "C001 being served", |s| {
        s.contains("办理中")
    })
    .await;
    click(c, "main form[action$='/finish'] button").await;
    text_until(
        c,
        "main form[action$='/call'] button",
        "the window free",
        |s| s.contains("叫下一号"),
    )
    .await;
    shots.take(c, "staff-window-free-zh-1920.png").await;
    c.goto(&t.app.url(&format!("/q/{token}")))
        .await
        .expect("open the status page");
    let done = text_of(c, "main .callout").await;
    assert!(
        done.contains("已办结") && !done.contains("窗口"),
        "a finished ticket sends nobody to a window: {done}"
    );

    // Done at the window, C001 leaves the display as it would after a reload: still live.
    c.switch_to_window(display)
        .await
        .expect("back to the display");
    js_until(
        c,
        "C001 leaves the display once done",
        5,
        "return ![...document.querySelectorAll('#calls li .num')].some(n => n.textContent === 'C001');",
        vec![],
    )
    .await;
    assert_eq!(
        c.execute("return window.onetripMark || null;", vec![])
            .await
            .expect("read the mark"),
        json!("first load"),
        "the display was not reloaded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ticketing_and_calling_in_chromium() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let morning = QUEUE_MORNING
        .parse::<jiff::Timestamp>()
        .expect("timestamp")
        .as_millisecond();
    let app = TestApp::spawn_full(Engine::Sqlite, Config::default(), Clock::fixed(morning))
        .await
        .expect("sqlite app");
    let hall = app.site_id("0001").await;
    let windows = onetrip::sites::windows_of(app.state.db.reader(), hall)
        .await
        .expect("the hall's windows");
    let window4 = windows.iter().find(|w| w.number == 4).expect("window 4").id;
    let officer_password = app
        .staff("window.officer", vec![(Role::Officer, Some(hall))])
        .await;

    // The morning so far: colleagues at the other windows called and served a few tickets.
    let colleague = "morning.officer";
    app.staff(colleague, vec![(Role::Officer, Some(hall))])
        .await;
    let (colleague_id,): (i64,) = sqlx::query_as("SELECT id FROM staff WHERE username = $1")
        .bind(colleague)
        .fetch_one(app.state.db.reader())
        .await
        .expect("the colleague's id");
    let actor = Actor {
        staff_id: colleague_id,
        username: colleague.into(),
        display_name: "早班".into(),
        badge_no: "990002".into(),
        grants: vec![RoleGrant {
            role: Role::Officer,
            site_id: Some(hall),
        }],
        must_change_password: false,
        meta: RequestMeta::default(),
    };
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .expect("query")
        .expect("the hall");
    let others: Vec<_> = windows
        .iter()
        .filter(|w| w.number != 4 && queue::default_lines(w.kind).contains(&"renewal"))
        .collect();
    assert!(others.len() >= 3, "other windows serve renewals");
    let ctx = app.state.queue();
    for i in 0..EARLIER_CALLS {
        let line = ["renewal", "first_issue"][i as usize % 2];
        queue::issue_ticket(
            &ctx,
            common::guide_desk(),
            &site,
            line,
            TicketClass::Normal,
            None,
            None,
            "kiosk",
        )
        .await
        .expect("an earlier ticket");
        let w = others[i as usize % others.len()];
        if (i as usize) < others.len() {
            queue::open_window(&ctx, &common::granted(&actor), w)
                .await
                .expect("open");
        } else {
            // The window's previous citizen is done.
            queue::advance(&ctx, &common::granted(&actor), w, TicketStatus::Done)
                .await
                .expect("served");
        }
        queue::call_next(&ctx, &common::granted(&actor), w)
            .await
            .expect("call")
            .expect("the earlier ticket");
        queue::advance(&ctx, &common::granted(&actor), w, TicketStatus::Serving)
            .await
            .expect("being served");
        app.state.clock.advance_ms(60_000);
    }
    // The display lists the tickets being served at a window now.
    let at_windows = others.len().min(EARLIER_CALLS as usize);
    assert_eq!(
        app.state.clock.now_ms(),
        "2026-03-02T09:00:00+08:00"
            .parse::<jiff::Timestamp>()
            .expect("timestamp")
            .as_millisecond(),
        "the walk starts at 09:00"
    );
    let walk = Hall {
        app: App {
            base: app.base.clone(),
        },
        window4,
        officer_password,
        at_windows,
    };
    in_chromium(&binary, move |c, shots| async move {
        ticketing_walk(&walk, &c, &shots).await
    })
    .await;
}

/// Issue 4: the hall display recovers by itself after the server restarts — its event stream
/// ends cleanly at shutdown, EventSource reconnects to the new server, and the next call shows
/// (and the page is never reloaded).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_display_recovers_by_itself_after_a_server_restart() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let nine = "2026-03-02T09:00:00+08:00"
        .parse::<jiff::Timestamp>()
        .expect("timestamp")
        .as_millisecond();
    let app = TestApp::spawn_full(Engine::Sqlite, Config::default(), Clock::fixed(nine))
        .await
        .expect("sqlite app");
    let app = Arc::new(tokio::sync::Mutex::new(app));
    let shared = app.clone();
    in_chromium(&binary, move |c, shots| async move {
        let (base, state) = {
            let a = shared.lock().await;
            (a.base.clone(), a.state.clone())
        };
        c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
            .await
            .expect("window size");
        c.goto(&format!("{base}/display/0001"))
            .await
            .expect("display");
        js_until(
            &c,
            "the display is live",
            10,
            "return document.body.dataset.link === 'live';",
            vec![],
        )
        .await;
        c.execute("window.__sameDisplay = true;", vec![])
            .await
            .expect("marker");

        // The server restarts under the connected display.
        shared.lock().await.restart().await;

        // The display notices, reconnects by itself, and shows the next call.
        js_until(
            &c,
            "the display is live again",
            20,
            "return document.body.dataset.link === 'live';",
            vec![],
        )
        .await;
        let hall = onetrip::sites::site_by_code(state.db.reader(), "0001")
            .await
            .expect("q")
            .expect("hall");
        let windows = onetrip::sites::windows_of(state.db.reader(), hall.id)
            .await
            .expect("windows");
        let w = windows.iter().find(|w| w.number == 5).expect("window 5");
        let actor = Actor {
            staff_id: 1,
            username: "restart.officer".into(),
            display_name: "重启".into(),
            badge_no: "1".into(),
            grants: vec![RoleGrant {
                role: Role::Officer,
                site_id: Some(hall.id),
            }],
            must_change_password: false,
            meta: RequestMeta::default(),
        };
        let ctx = state.queue();
        queue::issue_ticket(
            &ctx,
            common::guide_desk(),
            &hall,
            "foreigner",
            TicketClass::Normal,
            None,
            None,
            "kiosk",
        )
        .await
        .expect("ticket");
        queue::open_window(&ctx, &common::granted(&actor), w)
            .await
            .expect("open");
        let t = queue::call_next(&ctx, &common::granted(&actor), w)
            .await
            .expect("call")
            .expect("a ticket");
        let shown = text_until(&c, "#calls li .num", "the call after the restart", |s| {
            s.contains(&t.number)
        })
        .await;
        assert_eq!(shown.trim(), t.number);
        let same = c
            .execute("return window.__sameDisplay === true;", vec![])
            .await
            .expect("marker");
        assert_eq!(same, json!(true), "recovered without a reload");
        shots.take(&c, "display-after-restart-zh-1920.png").await;
    })
    .await;
}

/// What the one-form walk works with besides the browser.
struct OneTrip {
    app: App,
    officer_password: String,
}

/// Clicks the button `css` of a workstation step and waits for the page it redirects to
/// (`?ok={ok}`), which says the step is done.
async fn workstation_step(c: &Client, css: &str, ok: &str) -> String {
    click(c, css).await;
    query_has(c, &format!("ok={ok}")).await;
    text_of(c, "#step-message").await
}

/// Opens the kiosk's form at the hall (0001), reads the (simulated) ID card into it, types the
/// phone number and ticks the passport (a first one); returns the ID number and the name read.
async fn kiosk_form_from_card(c: &Client, app: &App) -> (String, String) {
    c.goto(&app.url("/kiosk/0001/form"))
        .await
        .expect("open the kiosk form");
    path_is(c, "/kiosk/0001/form").await;
    assert_eq!(
        text_of(c, "main h1").await,
        in_page_lang(
            c,
            "出入境证件申请表（一张表单）",
            "Application form (one form for every document)"
        )
        .await
    );
    click(c, "#read-card").await;
    let id_number = js_until(
        c,
        "the ID card read into the form",
        10,
        "const v = document.querySelector('#f-id').value; return v ? v : null;",
        vec![],
    )
    .await;
    let id_number = id_number.as_str().unwrap_or_default().to_string();
    assert_eq!(
        id_number.len(),
        18,
        "an ID number from the card: {id_number}"
    );
    let name = value_of(c, "#f-name").await;
    assert!(!name.is_empty(), "the card's name fills the form");
    assert!(!value_of(c, "#f-address").await.is_empty());
    assert_eq!(value_of(c, "#from_card").await, "1");
    assert!(text_of(c, "#read-status").await.contains(&name));
    // One step at a time (issue 14 §1): the phone number on the next, then the documents.
    click(c, "#step-next").await;
    type_into(c, "#f-phone", "13800138000").await;
    click(c, "#step-next").await;
    click(c, "input[name=passport]").await;
    assert_eq!(
        value_of(c, "select[name=passport_category]").await,
        "first_issue",
        "a first passport unless chosen otherwise"
    );
    (id_number, name)
}

/// Submits the kiosk's form (stepping on to its last step) and returns the application number
/// on the printed form.
async fn submit_kiosk_form(c: &Client) -> String {
    for _ in 0..6 {
        let shown = c
            .execute(
                "const b = document.getElementById('submit-form');
                 return !!b && b.getClientRects().length > 0;",
                vec![],
            )
            .await
            .expect("the submit button shown?");
        if shown == json!(true) {
            break;
        }
        click(c, "#step-next").await;
    }
    click(c, "#submit-form").await;
    path_where(c, "the printed form", |p| {
        p.starts_with("/forms/") && p.matches('/').count() == 2 && p.len() > "/forms/".len()
    })
    .await;
    let number = text_of(c, "#application-no").await;
    assert!(
        number.len() == 18 && number.chars().all(|ch| ch.is_ascii_digit()),
        "an 18-digit application number: {number}"
    );
    number
}

/// At the acceptance workstation (signed in as an officer of the hall): scans `number`, ticks
/// every material, then takes the photo, the fingerprints, the face and the checks, one button
/// each; returns what the desk shows of the applicant.
async fn acceptance_steps(c: &Client, app: &App, number: &str) -> String {
    c.goto(&app.url("/staff/acceptance"))
        .await
        .expect("the acceptance workstation");
    path_is(c, "/staff/acceptance").await;
    assert_eq!(
        text_of(c, "main h1").await,
        in_page_lang(c, "受理工作台", "Acceptance workstation").await
    );
    type_into(c, "#scan", number).await;
    click(c, "main form[action='/staff/acceptance'] button").await;
    path_is(c, &format!("/staff/acceptance/{number}")).await;
    assert_eq!(text_of(c, "#app-no").await, number);
    let desk = text_of(c, "main").await;

    // Materials, all there.
    let boxes = c
        .find_all(Locator::Css("#materials-form input[type=checkbox]"))
        .await
        .expect("the materials");
    assert!(!boxes.is_empty(), "materials to check");
    for b in &boxes {
        if !b.is_selected().await.expect("ticked?") {
            b.click().await.expect("tick a material");
        }
    }
    let said = workstation_step(c, "#materials-form button", "materials").await;
    let complete = in_page_lang(c, "材料已核对齐全", "Materials complete").await;
    assert!(said.contains(complete), "{said}");

    // Photo, fingerprints, the face and the checks.
    for (action, ok, done) in [
        ("photo", "photo", "#photo-done"),
        ("fingerprint", "fingerprint", "#fingerprint-done"),
        ("face", "face", "#face-done"),
        ("checks", "clear", "#checks-done"),
    ] {
        workstation_step(c, &format!("main form[action$='/{action}'] button"), ok).await;
        text_of(c, done).await;
    }
    for done in [
        "#photo-done",
        "#fingerprint-done",
        "#face-done",
        "#checks-done",
    ] {
        text_of(c, done).await;
    }
    desk
}

/// Accepts the application at the workstation as it stands (normal time limit, collected
/// here): waits for the receipt and returns its path.
async fn accept_to_receipt(c: &Client, number: &str) -> String {
    click(c, "#accept").await;
    let receipt = format!("/staff/acceptance/{number}/receipt");
    path_is(c, &receipt).await;
    assert!(!text_of(c, "#promised-date").await.trim().is_empty());
    receipt
}

/// Opens the cashier's window on the application `number`; returns the page's address.
async fn open_cashier(c: &Client, app: &App, number: &str) -> String {
    let cashier = format!("/staff/cashier?no={number}");
    c.goto(&app.url(&cashier)).await.expect("the cashier");
    path_is(c, "/staff/cashier").await;
    cashier
}

/// The number of the payment receipt, once the cashier's page shows the bill paid.
async fn payment_receipt_number(c: &Client) -> String {
    text_until(c, "#receipt-number", "the receipt number", |s| {
        !s.trim().is_empty()
    })
    .await
}

async fn one_form_walk(t: &OneTrip, c: &Client, shots: &Shots) {
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");

    // The kiosk's form: the ID card fills in the applicant, the citizen the rest.
    let (id_number, name) = kiosk_form_from_card(c, &t.app).await;
    click(c, "input[name=hk_macao_permit]").await;
    c.find(Locator::Css("select[name=hk_macao_permit_endorsement_1]"))
        .await
        .expect("the first HK/Macao endorsement")
        .select_by_value("hk-macao-t-3m-once")
        .await
        .expect("choose a three-month visit");
    shots.take(c, "one-form-kiosk-zh.png").await;

    // The printed form: the number to show at the window, and its barcode.
    let number = submit_kiosk_form(c).await;
    let form = text_of(c, "main").await;
    assert!(
        form.contains("护照") && form.contains("往来港澳通行证") && form.contains("¥195.00"),
        "both documents and the estimated fee: {form}"
    );
    assert!(!form.contains(&id_number), "the ID number is masked");
    // Its barcode is checked at the end, so every screenshot is still taken.
    let form_barcode = loaded_image_width(c, "figure.barcode img").await;
    shots.take(c, "one-form-printed-zh.png").await;

    // An officer of the hall scans the number at the acceptance workstation.
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");
    c.goto(&t.app.url("/login")).await.expect("open login");
    sign_in(c, "accept.officer", &t.officer_password).await;
    let desk = acceptance_steps(c, &t.app, &number).await;
    assert!(
        desk.contains(&name) && desk.contains(&id_number) && desk.contains("读卡"),
        "the officer sees the applicant in full, read from the card: {desk}"
    );
    shots.take(c, "acceptance-workstation-zh-1920.png").await;
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    shots.take(c, "acceptance-workstation-zh.png").await;

    // Accepted as it stands (normal time limit, collected here): the receipt.
    let receipt = accept_to_receipt(c, &number).await;
    let fee = text_of(c, "#fee").await;
    assert!(
        fee.contains("¥195"),
        "passport 120 + permit 60 + endorsement 15: {fee}"
    );
    assert!(body_text(c).await.contains("未缴费"));
    shots.take(c, "acceptance-receipt-unpaid-zh.png").await;

    // The cashier: a QR payment, paid in the simulated wallet.
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");
    let cashier = open_cashier(c, &t.app, &number).await;
    assert!(text_of(c, "#amount-due").await.contains("¥195"));
    assert_eq!(value_of(c, "main select[name=method]").await, "alipay");
    click(c, "#pay-qr").await;
    let order = path_where(c, "the payment order", |p| {
        p.starts_with("/staff/cashier/order/")
    })
    .await;
    let qr = loaded_image_width(c, "main figure.qr img").await;
    assert!(qr > 0, "the payment QR code loads (naturalWidth {qr})");
    assert!(text_of(c, "main h1").await.contains("¥195"));
    shots.take(c, "cashier-order-zh-1920.png").await;
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    click(c, "#sim-wallet").await;
    let order_no = order.rsplit('/').next().unwrap_or_default().to_string();
    path_is(c, &format!("/sim/pay/{order_no}")).await;
    shots.take(c, "sim-wallet-zh.png").await;
    click(c, "#wallet-pay").await;
    let paid = text_of(c, "#wallet-done").await;
    assert!(!paid.trim().is_empty());
    shots.take(c, "sim-wallet-paid-zh.png").await;

    c.goto(&t.app.url(&cashier)).await.expect("the cashier");
    let receipt_no = payment_receipt_number(c).await;
    shots.take(c, "cashier-paid-zh.png").await;

    // The acceptance receipt now says it is paid.
    c.goto(&t.app.url(&receipt)).await.expect("the receipt");
    assert_eq!(text_of(c, "#payment-receipt").await, receipt_no);
    assert!(text_of(c, "#fee").await.contains("¥195"));
    assert!(!body_text(c).await.contains("未缴费"));
    let receipt_barcode = loaded_image_width(c, "figure.barcode img").await;
    shots.take(c, "receipt-printed-zh.png").await;
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");
    shots.take(c, "receipt-printed-zh-1920.png").await;

    // The barcodes a scanner reads at the window: the form's and the receipt's, really loaded.
    assert!(
        form_barcode > 0 && receipt_barcode > 0,
        "the barcodes load (naturalWidth: form {form_barcode}, receipt {receipt_barcode})"
    );
}

/// The one form, end to end at the hall: filled at the kiosk from the ID card, accepted at a
/// window, paid by QR in the simulated wallet, and the receipt printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_form_to_receipt_in_one_sitting() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = TestApp::spawn(Engine::Sqlite).await.expect("sqlite app");
    let hall = app.site_id("0001").await;
    let officer_password = app
        .staff(
            "accept.officer",
            vec![(Role::Officer, Some(hall)), (Role::Cashier, Some(hall))],
        )
        .await;
    let walk = OneTrip {
        app: App {
            base: app.base.clone(),
        },
        officer_password,
    };
    in_chromium(&binary, move |c, shots| async move {
        one_form_walk(&walk, &c, &shots).await
    })
    .await;
}

/// 2026-03-02 08:00 in Beijing, a Monday: the whole journey starts at this instant, and the
/// citizen books a time later the same morning.
const JOURNEY_START: &str = "2026-03-02T08:00:00+08:00";
const JOURNEY_DAY: &str = "2026-03-02";
/// The person on the simulated ID card the hall's reader returns.
const CARD_ID: &str = "110101199204180604";
const CARD_NAME: &str = "林晓测";

/// What the whole-journey walk works with besides the browser.
struct Journey {
    app: App,
    /// The application's state, to let the (fixed) clock run between the steps.
    state: AppState,
    officer_password: String,
}

impl Journey {
    /// Time passes between two steps of the journey (less than an hour at a time, or the
    /// officer's idle session would end).
    fn later(&self, minutes: i64) {
        self.state.clock.advance_ms(minutes * 60_000);
    }
}

/// Waits for the message `#flow-message` of a document-flow page (after a step redirected
/// there), failing with `#flow-error` when the step was refused; returns the message.
async fn flow_message(c: &Client, step: &str) -> String {
    // Not the page the click was made on, which may show the previous step's message.
    new_page(c, step).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(e) = c.find(Locator::Css("#flow-message")).await {
            return e.text().await.expect("message text");
        }
        if let Ok(e) = c.find(Locator::Css("#flow-error")).await {
            panic!("{step}: refused: {}", e.text().await.unwrap_or_default());
        }
        assert!(
            Instant::now() < deadline,
            "{step}: no #flow-message within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks the button of the form posting to `action` in the table row that lists `number`.
async fn click_in_row_of(c: &Client, number: &str, action: &str) {
    let css = format!("main tr:has(form[action='{action}'])");
    let rows = c.find_all(Locator::Css(&css)).await.expect("table rows");
    mark_page(c).await;
    for row in rows {
        if row.text().await.expect("row text").contains(number) {
            row.find(Locator::Css(&format!("form[action='{action}'] button")))
                .await
                .unwrap_or_else(|e| panic!("no {action} button in the row of {number}: {e}"))
                .click()
                .await
                .unwrap_or_else(|e| panic!("click {action} for {number}: {e}"));
            return;
        }
    }
    panic!("no row of {number} with a form to {action}");
}

/// Opens the review of application `number` from the approval list (the approver decides
/// on the application's page, never blind from the list) and approves it.
async fn approve_in_detail(c: &Client, number: &str) {
    let rows = c
        .find_all(Locator::Css("main tr:has(a[id^='decide-'])"))
        .await
        .expect("table rows");
    for row in rows {
        if row.text().await.expect("row text").contains(number) {
            row.find(Locator::Css("a[id^='decide-']"))
                .await
                .expect("the decide link")
                .click()
                .await
                .expect("open the review");
            path_where(c, "the review page", |p| p.starts_with("/staff/review/")).await;
            mark_page(c).await;
            click(c, "#approve").await;
            return;
        }
    }
    panic!("no row of {number} to review");
}

async fn journey_walk(t: &Journey, c: &Client, shots: &Shots) {
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");

    // 1. The citizen books a first passport for later this morning, on a phone.
    choose_line_and_day(c, &t.app, "first_issue", JOURNEY_DAY).await;
    let time = choose_first_open_time(c).await;
    fill_in_who_comes(c, CARD_NAME, CARD_ID).await;
    click(c, "main form[method=post] button.primary").await;
    let code = confirmation_code(c).await;
    assert!(
        body_text(c)
            .await
            .contains(&format!("{JOURNEY_DAY} {time}")),
        "booked for {JOURNEY_DAY} {time}"
    );
    shots.take(c, "journey-booked-zh.png").await;

    // At the hall, the officer checks the booking in: a priority ticket, no queuing.
    t.later(45);
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");
    c.goto(&t.app.url("/login")).await.expect("open login");
    sign_in(c, "journey.officer", &t.officer_password).await;
    c.goto(&t.app.url("/staff/appointments?site=0001"))
        .await
        .expect("the day's appointments");
    path_is(c, "/staff/appointments").await;
    assert!(text_of(c, "main h1").await.contains(JOURNEY_DAY));
    type_into(
        c,
        "main form[action='/staff/appointments/check-in'] input[name=query]",
        &code,
    )
    .await;
    click(c, "main form[action='/staff/appointments/check-in'] button").await;
    let arrived = text_until(c, "main .alert.ok", "the check-in", |s| {
        s.contains("已签到")
    })
    .await;
    let ticket = arrived
        .split("优先号")
        .nth(1)
        .and_then(|rest| rest.trim().split('，').next())
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(
        arrived.contains(&code) && !ticket.is_empty(),
        "checked in with a priority ticket: {arrived}"
    );
    let row = text_of(c, "main table tbody tr.st-arrived").await;
    assert!(row.contains(&code), "the booking is arrived: {row}");
    shots.take(c, "journey-check-in-zh-1920.png").await;
    sign_out(c).await;

    // 2. Called to the window, the citizen fills in the one form at the kiosk from the ID card.
    t.later(5);
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    let (id_number, name) = kiosk_form_from_card(c, &t.app).await;
    assert_eq!(
        (id_number.as_str(), name.as_str()),
        (CARD_ID, CARD_NAME),
        "the person who booked"
    );
    let number = submit_kiosk_form(c).await;
    let form = text_of(c, "main").await;
    assert!(
        form.contains("护照") && form.contains("¥120.00") && !form.contains("往来港澳通行证"),
        "a passport only: {form}"
    );

    // 3. The officer accepts it.
    t.later(5);
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");
    c.goto(&t.app.url("/login")).await.expect("open login");
    sign_in(c, "journey.officer", &t.officer_password).await;
    let desk = acceptance_steps(c, &t.app, &number).await;
    assert!(
        desk.contains(CARD_NAME) && desk.contains(CARD_ID),
        "the applicant at the desk: {desk}"
    );
    accept_to_receipt(c, &number).await;
    assert!(text_of(c, "#fee").await.contains("¥120"));

    // 4. Paid in cash.
    t.later(3);
    open_cashier(c, &t.app, &number).await;
    assert!(text_of(c, "#amount-due").await.contains("¥120"));
    click(c, "#pay-cash").await;
    payment_receipt_number(c).await;

    // 5. Approval: the review starts, then the passport is approved.
    t.later(40);
    c.goto(&t.app.url("/staff/review?site=0001"))
        .await
        .expect("the approval page");
    path_is(c, "/staff/review").await;
    click_in_row_of(c, &number, "/staff/documents/review").await;
    let said = flow_message(c, "start the review").await;
    assert!(said.contains("已开始审批"), "{said}");
    t.later(10);
    shots.take(c, "journey-review-zh-1920.png").await;
    approve_in_detail(c, &number).await;
    let said = flow_message(c, "approve").await;
    assert!(said.contains("已审批通过"), "{said}");

    // 6. Production: a batch with the approved passport, then its new number.
    t.later(30);
    c.goto(&t.app.url("/staff/production"))
        .await
        .expect("the production page");
    path_is(c, "/staff/production").await;
    let label = format!("{number}01");
    let chosen = c
        .find(Locator::Css(&format!(
            "input[type=checkbox][name^='d:'][aria-label='{label}']"
        )))
        .await
        .unwrap_or_else(|e| panic!("no checkbox for {label}: {e}"));
    assert!(
        chosen.is_selected().await.expect("checked?"),
        "approved documents are in the next batch unless unticked"
    );
    click(c, "#start-batch").await;
    let said = flow_message(c, "start a batch").await;
    assert!(said.contains("已建制证批次"), "{said}");
    type_into(c, "input[name^='n:']", "E12345678").await;
    shots.take(c, "journey-production-zh-1920.png").await;
    t.later(45);
    click(c, "form[action='/staff/documents/finish'] button").await;
    let said = flow_message(c, "finish the batch").await;
    assert!(said.contains("批次制证完成"), "{said}");

    // 7. Custody: the produced passport goes into cabinet A, slot 01.
    t.later(30);
    c.goto(&t.app.url("/staff/custody?site=0001"))
        .await
        .expect("the custody page");
    path_is(c, "/staff/custody").await;
    assert_eq!(
        text_of(c, &format!("main a[href='/staff/documents/label/{label}']")).await,
        label,
        "the produced passport waits to be checked in"
    );
    let check_in = "main form[action='/staff/documents/check-in']";
    type_into(c, &format!("{check_in} input[name=label]"), &label).await;
    type_into(c, &format!("{check_in} input[name=cabinet]"), "A").await;
    type_into(c, &format!("{check_in} input[name=slot]"), "01").await;
    click(c, &format!("{check_in} button")).await;
    let said = flow_message(c, "check in").await;
    assert!(said.contains("A-01"), "{said}");
    let held = text_of(c, "main table").await;
    assert!(held.contains(&label), "in the cabinets: {held}");
    shots.take(c, "journey-custody-zh-1920.png").await;
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    shots.take(c, "journey-custody-zh.png").await;
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");

    // 8. Pickup: the citizen comes back; the officer checks the ID card and issues.
    t.later(50);
    c.goto(&t.app.url(&format!("/staff/pickup?site=0001&no={number}")))
        .await
        .expect("the pickup window");
    path_is(c, "/staff/pickup").await;
    let docs = text_of(c, "main table").await;
    assert!(
        docs.contains("护照") && docs.contains("A-01"),
        "the passport in slot A-01: {docs}"
    );
    type_into(c, "#issue-form input[name=applicant_id]", CARD_ID).await;
    assert!(
        c.find(Locator::Css(
            "#issue-form input[name=recipient][value=applicant]"
        ))
        .await
        .expect("the applicant as recipient")
        .is_selected()
        .await
        .expect("selected?"),
        "an adult collects in person unless chosen otherwise"
    );
    click(c, "#issue-form input[name=data_ok]").await;
    click(c, "#issue").await;
    let said = flow_message(c, "issue").await;
    // Named as the officer hands it over: the document and its number, not the label.
    assert!(
        said.contains("已发证") && said.contains("普通护照 E1****678") && !said.contains(&label),
        "{said}"
    );
    shots.take(c, "journey-pickup-zh-1920.png").await;
    sign_out(c).await;

    // 9. At home, the citizen follows the whole way on a phone.
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    c.goto(&t.app.url(&format!("/progress?no={number}")))
        .await
        .expect("the progress page");
    path_is(c, "/progress").await;
    assert_eq!(value_of(c, "main input[name=no]").await, number);
    type_into(c, "main input[name=id_number]", CARD_ID).await;
    submit(c, "main form[action='/progress'] button").await;
    let progress = text_of(c, "#progress").await;
    let stages = [
        "已受理",
        // The fee, paid in cash after acceptance, is a step of the way (issue 18 item 6).
        "已缴费",
        "审批中",
        "审批通过",
        "制证中",
        "制证完成",
        "可领取",
        "已领取",
    ];
    for stage in stages {
        assert!(
            progress.contains(stage),
            "{stage} in the timeline: {progress}"
        );
    }
    let steps = c
        .execute(
            "return [...document.querySelectorAll('#progress ol.timeline li')].map(li => li.textContent);",
            vec![],
        )
        .await
        .expect("the timeline's steps");
    let steps: Vec<String> = steps
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(steps.len(), stages.len(), "one step each: {steps:?}");
    for (step, stage) in steps.iter().zip(stages) {
        assert!(step.contains(stage), "{stage} in its turn: {steps:?}");
        // Each step opens with the hall's local time to the minute (the API gives epoch ms).
        let when = step.trim_start().get(..16).unwrap_or_default();
        assert!(
            when.starts_with("2026-") && when.as_bytes().get(13) == Some(&b':'),
            "a local time first: {step:?}"
        );
    }
    shots.take(c, "journey-progress-zh.png").await;
}

/// The whole journey in one browser: booked on a phone, checked in at the hall, the one form at
/// the kiosk, accepted, paid in cash, approved, produced, kept in the cabinet, collected, and
/// the timeline the citizen then sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whole_journey_from_booking_to_pickup() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let start = JOURNEY_START
        .parse::<jiff::Timestamp>()
        .expect("timestamp")
        .as_millisecond();
    let config = Config {
        booking_attempts_per_ip_hour: 0,
        booking_attempts_per_id_hour: 0,
        ..Config::default()
    };
    let app = TestApp::spawn_full(Engine::Sqlite, config, Clock::fixed(start))
        .await
        .expect("sqlite app");
    let hall = app.site_id("0001").await;
    let officer_password = app
        .staff(
            "journey.officer",
            [
                Role::Officer,
                Role::Cashier,
                Role::Approver,
                Role::Producer,
                Role::Custodian,
                Role::Leader,
            ]
            .into_iter()
            .map(|r| (r, Some(hall)))
            .collect(),
        )
        .await;
    let walk = Journey {
        app: App {
            base: app.base.clone(),
        },
        state: app.state.clone(),
        officer_password,
    };
    in_chromium(&binary, move |c, shots| async move {
        journey_walk(&walk, &c, &shots).await
    })
    .await;
}

/// Chinese words of the interface which, left on an English page, mean a label nobody
/// translated.
const UNTRANSLATED: [&str; 8] = [
    "受理",
    "申请",
    "证件",
    "提交",
    "查询",
    "办证点",
    "缴费",
    "打印",
];

/// The visible text of a page without what is data rather than interface, and may stay in
/// Chinese on an English page: the applicant's name, and the demo city's names and addresses
/// (each run of text from 示范市 up to the next space).
fn without_chinese_data(text: &str) -> String {
    let text = text.replace(CARD_NAME, "");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("示范市") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        rest = &rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// Whether the page shown is in English: `<html lang="en">`, and no word of [`UNTRANSLATED`]
/// left in its visible text once the data is taken out. Notes what is wrong in `problems`,
/// checked at the end so that every screenshot is still taken.
async fn check_english(c: &Client, name: &str, problems: &mut Vec<String>) {
    let lang = html_lang(c).await;
    if lang != "en" {
        problems.push(format!("{name}: <html lang=\"{lang}\">"));
    }
    let text = c
        .execute("return document.body.innerText;", vec![])
        .await
        .expect("the page's text");
    let text = without_chinese_data(text.as_str().unwrap_or_default());
    for line in text.lines() {
        let found: Vec<&str> = UNTRANSLATED
            .into_iter()
            .filter(|w| line.contains(w))
            .collect();
        if !found.is_empty() {
            problems.push(format!("{name}: {} in “{}”", found.join(", "), line.trim()));
        }
    }
}

/// The page shown at phone width (`{name}-en.png`) and on the 1080p screen
/// (`{name}-en-1920.png`), in English at both; the window stays at 1920x1080.
async fn english_at_both_sizes(c: &Client, shots: &Shots, name: &str, problems: &mut Vec<String>) {
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    check_english(c, &format!("{name} (phone)"), problems).await;
    shots.take(c, &format!("{name}-en.png")).await;
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("desktop window");
    check_english(c, &format!("{name} (1920)"), problems).await;
    shots.take(c, &format!("{name}-en-1920.png")).await;
}

async fn english_walk(t: &Journey, c: &Client, shots: &Shots) {
    let mut untranslated = Vec::new();
    let problems = &mut untranslated;
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");

    // English, chosen with the switch on the home page: the cookie keeps it from then on.
    c.goto(&t.app.url("/")).await.expect("open home");
    click_lang_switch(c, "English").await;
    path_is(c, "/").await;
    assert_eq!(html_lang(c).await, "en");

    // The one form at the kiosk, filled from the ID card, and the form it prints.
    let (id_number, name) = kiosk_form_from_card(c, &t.app).await;
    assert_eq!((id_number.as_str(), name.as_str()), (CARD_ID, CARD_NAME));
    english_at_both_sizes(c, shots, "kiosk-form", problems).await;
    let number = submit_kiosk_form(c).await;
    assert!(
        text_of(c, "main").await.contains("¥120.00"),
        "a passport's fee"
    );
    english_at_both_sizes(c, shots, "form-printed", problems).await;
    // A second form from the same card, for an HK/Macao permit to be sent by express.
    kiosk_form_from_card(c, &t.app).await;
    click(c, "input[name=passport]").await;
    click(c, "input[name=hk_macao_permit]").await;
    let by_post = submit_kiosk_form(c).await;

    // The officer accepts the passport: the workstation, then the receipt.
    t.later(5);
    c.goto(&t.app.url("/login")).await.expect("open login");
    sign_in(c, "english.officer", &t.officer_password).await;
    let desk = acceptance_steps(c, &t.app, &number).await;
    assert!(
        desk.contains(CARD_NAME) && desk.contains(CARD_ID),
        "the applicant at the desk: {desk}"
    );
    english_at_both_sizes(c, shots, "acceptance", problems).await;
    accept_to_receipt(c, &number).await;
    assert!(text_of(c, "#fee").await.contains("¥120"));
    english_at_both_sizes(c, shots, "receipt", problems).await;
    // Then the permit, to be sent by express.
    acceptance_steps(c, &t.app, &by_post).await;
    click(c, "#accept-form input[name=delivery][value=express]").await;
    type_into(c, "#accept-form input[name=recipient]", CARD_NAME).await;
    type_into(c, "#accept-form input[name=express_phone]", "13800138000").await;
    type_into(
        c,
        "#accept-form input[name=express_address]",
        "示范市人民路 88 号 3 栋 2 单元 501 室",
    )
    .await;
    accept_to_receipt(c, &by_post).await;
    english_at_both_sizes(c, shots, "receipt-express", problems).await;

    // Both paid in cash at the cashier's; the day's reconciliation counts them.
    t.later(3);
    open_cashier(c, &t.app, &number).await;
    assert!(text_of(c, "#amount-due").await.contains("¥120"));
    english_at_both_sizes(c, shots, "cashier", problems).await;
    click(c, "#pay-cash").await;
    payment_receipt_number(c).await;
    english_at_both_sizes(c, shots, "cashier-paid", problems).await;
    open_cashier(c, &t.app, &by_post).await;
    click(c, "#pay-cash").await;
    payment_receipt_number(c).await;
    c.goto(&t.app.url("/staff/reconciliation"))
        .await
        .expect("the reconciliation");
    path_is(c, "/staff/reconciliation").await;
    assert_eq!(text_of(c, "#recon-total").await, "180.00", "120 + 60");
    english_at_both_sizes(c, shots, "reconciliation", problems).await;

    // Approval: both under review, then approved.
    t.later(40);
    c.goto(&t.app.url("/staff/review"))
        .await
        .expect("the approval page");
    path_is(c, "/staff/review").await;
    for no in [&number, &by_post] {
        mark_page(c).await;
        click_in_row_of(c, no, "/staff/documents/review").await;
        let said = flow_message(c, "start the review").await;
        assert!(said.contains("Review started"), "{said}");
    }
    english_at_both_sizes(c, shots, "review", problems).await;
    for no in [&number, &by_post] {
        mark_page(c).await;
        approve_in_detail(c, no).await;
        let said = flow_message(c, "approve").await;
        assert!(said.contains("Approved"), "{said}");
    }

    // Production: one batch, and each document's new number.
    t.later(30);
    c.goto(&t.app.url("/staff/production"))
        .await
        .expect("the production page");
    path_is(c, "/staff/production").await;
    mark_page(c).await;
    click(c, "#start-batch").await;
    let said = flow_message(c, "start a batch").await;
    assert!(
        said.contains("Production batch") && said.contains("started"),
        "{said}"
    );
    let label = format!("{number}01");
    let rows = c
        .find_all(Locator::Css(
            "form[action='/staff/documents/finish'] tbody tr",
        ))
        .await
        .expect("the batch's documents");
    assert_eq!(rows.len(), 2, "both documents in the batch");
    for row in rows {
        let text = row.text().await.expect("row text");
        let new_number = if text.contains(&label) {
            "E12345678"
        } else {
            "C12345678"
        };
        row.find(Locator::Css("input[name^='n:']"))
            .await
            .expect("the new number's input")
            .send_keys(new_number)
            .await
            .expect("type the new number");
    }
    english_at_both_sizes(c, shots, "production", problems).await;
    mark_page(c).await;
    click(c, "form[action='/staff/documents/finish'] button").await;
    let said = flow_message(c, "finish the batch").await;
    assert!(said.contains("Batch produced"), "{said}");

    // Custody: the passport into cabinet A, slot 01.
    t.later(30);
    c.goto(&t.app.url("/staff/custody?site=0001"))
        .await
        .expect("the custody page");
    path_is(c, "/staff/custody").await;
    let check_in = "main form[action='/staff/documents/check-in']";
    type_into(c, &format!("{check_in} input[name=label]"), &label).await;
    type_into(c, &format!("{check_in} input[name=cabinet]"), "A").await;
    type_into(c, &format!("{check_in} input[name=slot]"), "01").await;
    mark_page(c).await;
    click(c, &format!("{check_in} button")).await;
    let said = flow_message(c, "check in").await;
    assert!(said.contains("A-01"), "{said}");
    english_at_both_sizes(c, shots, "custody", problems).await;

    // The express desk ships the permit; the courier (simulated) picks it up.
    c.goto(&t.app.url("/staff/express?site=0001"))
        .await
        .expect("the express desk");
    path_is(c, "/staff/express").await;
    mark_page(c).await;
    click(c, "#ship").await;
    let said = flow_message(c, "ship").await;
    assert!(said.contains("Waybills created"), "{said}");
    click(c, "main form[action^='/sim/courier/'] button").await;
    text_until(c, "main table tbody", "the parcel picked up", |s| {
        s.contains(&by_post) && s.contains("Picked up by the courier")
    })
    .await;
    english_at_both_sizes(c, shots, "express", problems).await;

    // Pickup: the officer checks the ID card and issues the passport.
    t.later(50);
    c.goto(&t.app.url(&format!("/staff/pickup?site=0001&no={number}")))
        .await
        .expect("the pickup window");
    path_is(c, "/staff/pickup").await;
    assert!(text_of(c, "main table").await.contains("A-01"));
    english_at_both_sizes(c, shots, "pickup", problems).await;
    type_into(c, "#issue-form input[name=applicant_id]", CARD_ID).await;
    click(c, "#issue-form input[name=data_ok]").await;
    mark_page(c).await;
    click(c, "#issue").await;
    let said = flow_message(c, "issue").await;
    assert!(
        said.contains("Issued") && said.contains("Passport") && !said.contains(&label),
        "{said}"
    );

    // The duty leader's page.
    c.goto(&t.app.url("/staff/leader"))
        .await
        .expect("the duty leader's page");
    path_is(c, "/staff/leader").await;
    text_of(c, "#digest").await;
    english_at_both_sizes(c, shots, "leader", problems).await;
    sign_out(c).await;

    // At home, the citizen follows both applications on a phone.
    for (no, name) in [(&number, "progress"), (&by_post, "progress-express")] {
        c.set_window_size(PHONE.0, PHONE.1)
            .await
            .expect("phone window");
        c.goto(&t.app.url(&format!("/progress?no={no}")))
            .await
            .expect("the progress page");
        path_is(c, "/progress").await;
        type_into(c, "main input[name=id_number]", CARD_ID).await;
        submit(c, "main form[action='/progress'] button").await;
        let progress = text_of(c, "#progress").await;
        assert!(progress.contains(no.as_str()), "{progress}");
        english_at_both_sizes(c, shots, name, problems).await;
    }
    assert!(
        text_of(c, "#progress")
            .await
            .contains("Picked up by the courier"),
        "the permit's parcel is tracked"
    );

    assert!(
        untranslated.is_empty(),
        "English pages with Chinese left in them:\n{}",
        untranslated.join("\n")
    );
}

/// A short journey in English, from the kiosk's form to the progress page, with an officer
/// holding every role at the hall; each page at phone width and on a 1080p screen, in English
/// throughout (no Chinese label left) and fitting its window.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn new_pages_in_english_and_on_phones() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let start = JOURNEY_START
        .parse::<jiff::Timestamp>()
        .expect("timestamp")
        .as_millisecond();
    let app = TestApp::spawn_full(Engine::Sqlite, Config::default(), Clock::fixed(start))
        .await
        .expect("sqlite app");
    let hall = app.site_id("0001").await;
    let officer_password = app
        .staff(
            "english.officer",
            [
                Role::Officer,
                Role::Cashier,
                Role::Approver,
                Role::Producer,
                Role::Custodian,
                Role::Leader,
            ]
            .into_iter()
            .map(|r| (r, Some(hall)))
            .collect(),
        )
        .await;
    let walk = Journey {
        app: App {
            base: app.base.clone(),
        },
        state: app.state.clone(),
        officer_password,
    };
    in_chromium(&binary, move |c, shots| async move {
        english_walk(&walk, &c, &shots).await
    })
    .await;
}

/// The day the State Council's 2027 notice is entered in the browser walk: inside the 60 days
/// before the booking window and the time limits reach 2027, so the warning shows.
const NOTICE_DAY: &str = "2026-12-02T10:00:00+08:00";

/// Sets an input's value the way a date picker does (typing into a date input depends on the
/// browser's locale), then tells the page it changed.
async fn set_value(c: &Client, css: &str, value: &str) {
    c.execute(
        "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
         e.dispatchEvent(new Event('change', {bubbles: true})); return e.value;",
        vec![json!(css), json!(value)],
    )
    .await
    .unwrap_or_else(|e| panic!("set {css}: {e}"));
}

/// Issue 11: an administrator of every site enters the 2027 notice in the admin page, as the
/// notice reads; a notice missing a festival is refused naming it and keeps what was typed;
/// once entered, the year is official, the warning is gone and the version is listed.
async fn notice_walk(app: &App, c: &Client, shots: &Shots, password: &str) {
    c.set_window_size(HALL_SCREEN.0, HALL_SCREEN.1)
        .await
        .expect("workstation window");
    c.goto(&app.url("/login")).await.expect("open login");
    sign_in(c, "calendar.admin", password).await;

    c.goto(&app.url("/admin/calendar"))
        .await
        .expect("calendar list");
    path_is(c, "/admin/calendar").await;
    assert_eq!(text_of(c, "main h1").await, "节假日安排");
    let warning = text_of(c, "#calendar-warning").await;
    assert!(warning.contains("2027"), "{warning}");
    let rows = text_of(c, "main table").await;
    assert!(rows.contains("2027") && rows.contains("暂定"), "{rows}");
    shots.take(c, "admin-calendar-zh.png").await;

    click(c, "a[href='/admin/calendar/2027']").await;
    path_is(c, "/admin/calendar/2027").await;
    // The form starts from the provisional statutory days: 春节 is 除夕 to 初三.
    assert_eq!(
        value_of(c, "input[name=spring_festival_start]").await,
        "2027-02-05"
    );
    assert_eq!(
        value_of(c, "input[name=spring_festival_end]").await,
        "2027-02-08"
    );
    shots.take(c, "admin-calendar-2027-form-zh.png").await;

    // As the notice reads.
    let days = [
        ("new_year", "2027-01-01", "2027-01-03"),
        ("spring_festival", "2027-02-05", "2027-02-12"),
        ("qingming", "2027-04-03", "2027-04-05"),
        ("labour_day", "2027-05-01", "2027-05-05"),
        ("dragon_boat", "", ""),
        ("mid_autumn", "2027-09-15", "2027-09-17"),
        ("national_day", "2027-10-01", "2027-10-07"),
    ];
    for (code, start, end) in days {
        set_value(c, &format!("input[name={code}_start]"), start).await;
        set_value(c, &format!("input[name={code}_end]"), end).await;
    }
    type_into(c, "input[name=document_number]", "国办发明电〔2026〕7号").await;
    set_value(c, "input[name=published]", "2026-11-20").await;
    set_value(c, "textarea[name=adjusted]", "2027-02-20\n2027-10-09").await;
    submit(c, "#enter-notice button").await;
    // 端午节 was left out: refused, naming it, with what was typed kept.
    let refusal = text_of(c, "main .alert[role=alert]:not(#calendar-warning)").await;
    assert!(refusal.contains("端午节"), "{refusal}");
    assert_eq!(
        value_of(c, "input[name=spring_festival_end]").await,
        "2027-02-12"
    );
    shots.take(c, "admin-calendar-2027-refused-zh.png").await;

    set_value(c, "input[name=dragon_boat_start]", "2027-06-09").await;
    set_value(c, "input[name=dragon_boat_end]", "2027-06-11").await;
    click(c, "#enter-notice button").await;
    query_has(c, "entered=1").await;
    let page = body_text(c).await;
    assert!(page.contains("第1版已录入"), "{page}");
    assert!(page.contains("已录入通知（第1版）"), "{page}");
    assert!(page.contains("国办发明电〔2026〕7号"), "{page}");
    assert!(
        c.find(Locator::Css("#calendar-warning")).await.is_err(),
        "2027 is official: no more warning"
    );
    shots.take(c, "admin-calendar-2027-entered-zh.png").await;

    // In English too.
    click_lang_switch(c, "English").await;
    assert_eq!(text_of(c, "main h1").await, "Holiday calendar · 2027");
    let page = body_text(c).await;
    assert!(page.contains("Notice entered (version 1)"), "{page}");
    shots.take(c, "admin-calendar-2027-entered-en.png").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn entering_the_holiday_notice_in_chromium() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = TestApp::spawn_at(Engine::Sqlite, NOTICE_DAY)
        .await
        .expect("sqlite app");
    let password = app.staff("calendar.admin", vec![(Role::Admin, None)]).await;
    let site = App {
        base: app.base.clone(),
    };
    in_chromium(&binary, move |c, shots| async move {
        notice_walk(&site, &c, &shots, &password).await
    })
    .await;
}

/// Friday 2026-03-06 10:00 in Beijing: the rating walk runs at this instant (a bad rating's
/// follow-up is then due on Wednesday 2026-03-11, three working days later).
const RATING_NOW: &str = "2026-03-06T10:00:00+08:00";
/// The window evaluator: a tablet facing the citizen, lying on the counter.
const TABLET: (u32, u32) = (1280, 800);

/// What the rating walk works with besides the browser.
struct Rating {
    app: App,
    /// The application's state, to serve citizens at window 1 through the use cases.
    state: AppState,
    /// The demo hall (site 0001).
    site: onetrip::sites::Site,
    /// Window 1 of the demo hall.
    window: onetrip::sites::Window,
    /// The demo officer (李受理), who serves at window 1.
    officer: Actor,
    officer_password: String,
    leader_password: String,
}

/// A citizen served at window 1 by the demo officer: issued, called, served and finished just
/// now; the ticket as finished.
async fn finished_at_window_1(t: &Rating) -> onetrip::queue::Ticket {
    let ctx = t.state.queue();
    let serve = common::granted(&t.officer);
    let issued = queue::issue_ticket(
        &ctx,
        common::guide_desk(),
        &t.site,
        "renewal",
        TicketClass::Normal,
        None,
        None,
        "guide",
    )
    .await
    .expect("a walk-in ticket");
    queue::open_window(&ctx, &serve, &t.window)
        .await
        .expect("window 1 open");
    let called = queue::call_next(&ctx, &serve, &t.window)
        .await
        .expect("call")
        .expect("a ticket to call");
    assert_eq!(called.id, issued.id, "the citizen's ticket is called");
    queue::advance(&ctx, &serve, &t.window, TicketStatus::Serving)
        .await
        .expect("being served");
    queue::advance(&ctx, &serve, &t.window, TicketStatus::Done)
        .await
        .expect("done");
    queue::ticket(t.state.db.reader(), issued.id)
        .await
        .expect("query")
        .expect("the finished ticket")
}

/// Chooses a level of the rating form by touching its box, as a citizen does.
async fn choose_level(c: &Client, level: &str) {
    click(c, &format!("main label.level:has(input[value={level}])")).await;
    assert!(
        c.find(Locator::Css(&format!(
            "main input[name=level][value={level}]"
        )))
        .await
        .expect("the level's radio button")
        .is_selected()
        .await
        .expect("selected?"),
        "touching {level} chooses it"
    );
}

/// From the ticket's status page on the phone to its rating page, through the button shown
/// once the service is done.
async fn rating_page_from_ticket(t: &Rating, c: &Client, token: &str) {
    c.goto(&t.app.url(&format!("/q/{token}")))
        .await
        .expect("open the status page");
    let done = text_of(c, "main .callout").await;
    assert!(done.contains("已办结"), "the service is done: {done}");
    click(c, "#rate-link").await;
    path_is(c, &format!("/rate/{token}")).await;
    assert_eq!(text_of(c, "main h1").await, "服务评价（好差评）");
    let card = text_of(c, "#officer-card").await;
    assert!(
        card.contains("李受理") && card.contains("010002"),
        "the officer who served: {card}"
    );
}

async fn rating_walk(t: &Rating, c: &Client, shots: &Shots) {
    // The officer signs the window evaluator in, on the tablet facing the citizen.
    c.set_window_size(TABLET.0, TABLET.1)
        .await
        .expect("tablet window");
    c.goto(&t.app.url("/login")).await.expect("open login");
    sign_in(c, "officer", &t.officer_password).await;
    let evaluator = format!("/staff/windows/{}/evaluator", t.window.id);

    // A citizen has just been served at window 1: the evaluator asks for a rating.
    let first = finished_at_window_1(t).await;
    c.goto(&t.app.url(&evaluator))
        .await
        .expect("open the evaluator");
    path_is(c, &evaluator).await;
    let card = text_of(c, "#officer-card").await;
    assert!(
        card.contains("李受理") && card.contains("010002") && card.contains("12367"),
        "the supervision card names the officer: {card}"
    );
    let title = text_of(c, "main h1").await;
    assert!(
        title.contains("请为本次服务评价") && title.contains(&first.number),
        "the service to rate: {title}"
    );
    let levels = c
        .find_all(Locator::Css("main input[name=level]"))
        .await
        .expect("the levels");
    assert_eq!(levels.len(), 5, "five levels");
    shots.take(c, "evaluator-zh-1280x800.png").await;

    // 不满意 without a reason: the form comes back asking for one, the level kept.
    choose_level(c, "dissatisfied").await;
    submit(c, "main form[action$='/evaluator'] button[type=submit]").await;
    let error = text_of(c, "#rating-error").await;
    assert!(!error.is_empty(), "the refusal says why");
    assert!(
        c.find(Locator::Css("main input[name=level][value=dissatisfied]"))
            .await
            .expect("the level")
            .is_selected()
            .await
            .expect("selected?"),
        "the chosen level is kept"
    );
    shots
        .take(c, "evaluator-reason-needed-zh-1280x800.png")
        .await;

    // With a reason ticked, the rating is recorded and the tablet thanks the citizen.
    click(c, "main input[name=reason][value=slow]").await;
    submit(c, "main form[action$='/evaluator'] button[type=submit]").await;
    query_has(c, "thanks=1").await;
    path_is(c, &evaluator).await;
    assert!(text_of(c, "#thanks").await.contains("感谢您的评价"));
    assert!(
        c.find(Locator::Css("main input[name=level]"))
            .await
            .is_err(),
        "rated: no second form for the same service"
    );
    shots.take(c, "evaluator-thanks-zh-1280x800.png").await;
    sign_out(c).await;

    // The next citizen rates later, on a phone, from the ticket's status page.
    let second = finished_at_window_1(t).await;
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    rating_page_from_ticket(t, c, &second.token).await;
    shots.take(c, "rate-zh.png").await;
    choose_level(c, "very_satisfied").await;
    submit(c, "main form[action^='/rate/'] button[type=submit]").await;
    let rated = text_of(c, "#rated").await;
    assert!(
        rated.contains("感谢您的评价") && rated.contains("非常满意"),
        "{rated}"
    );
    assert!(
        c.find(Locator::Css("#followup")).await.is_err(),
        "a good rating needs no follow-up"
    );
    shots.take(c, "rate-thanks-zh.png").await;

    // A third citizen is very dissatisfied: a follow-up case opens, due in three working days.
    let third = finished_at_window_1(t).await;
    rating_page_from_ticket(t, c, &third.token).await;
    choose_level(c, "very_dissatisfied").await;
    click(c, "main input[name=reason][value=not_one_trip]").await;
    type_into(c, "main textarea[name=comment]", "材料清单没说要照片回执").await;
    submit(c, "main form[action^='/rate/'] button[type=submit]").await;
    assert!(text_of(c, "#rated").await.contains("非常不满意"));
    let followup = text_of(c, "#followup").await;
    assert!(followup.contains("2026-03-11"), "{followup}");
    shots.take(c, "rate-followup-zh.png").await;

    // The duty leader verifies it and closes the case.
    c.set_window_size(TABLET.0, TABLET.1)
        .await
        .expect("desktop window");
    c.goto(&t.app.url("/login")).await.expect("open login");
    sign_in(c, "leader", &t.leader_password).await;
    c.goto(&t.app.url("/staff/leader/ratings"))
        .await
        .expect("the follow-up cases");
    path_is(c, "/staff/leader/ratings").await;
    let cases = c
        .find_all(Locator::Css("main article.case"))
        .await
        .expect("the cases");
    assert_eq!(
        cases.len(),
        2,
        "two bad ratings to follow up: the evaluator's and the phone's"
    );
    let mut id = None;
    for case in &cases {
        let title = case
            .find(Locator::Css("h2"))
            .await
            .expect("the case's title")
            .text()
            .await
            .expect("title text");
        if title.contains("非常不满意") {
            id = case.attr("id").await.expect("id attribute");
        }
    }
    let id = id.expect("the very dissatisfied rating's case");
    let case = text_of(c, &format!("#{id}")).await;
    assert!(
        case.contains("非常不满意")
            && case.contains("李受理")
            && case.contains("告知不清楚")
            && case.contains("材料清单没说要照片回执")
            && case.contains("2026-03-11"),
        "the case says what, who, why and by when: {case}"
    );
    let satisfaction = text_of(c, "#satisfaction").await;
    assert!(
        satisfaction.contains("33.3 %"),
        "one good rating in three: {satisfaction}"
    );
    shots.take(c, "leader-ratings-zh-1280x800.png").await;
    click(c, &format!("#{id} input[name=outcome][value=justified]")).await;
    type_into(
        c,
        &format!("#{id} textarea[name=verification]"),
        "调取录像核实，一次性告知不完整属实",
    )
    .await;
    type_into(
        c,
        &format!("#{id} textarea[name=rectification]"),
        "窗口增设一次性告知清单",
    )
    .await;
    submit(c, &format!("#{id} form button")).await;
    assert!(text_of(c, "#case-ok").await.contains("已办结"));
    let closed = text_of(c, &format!("#{id}")).await;
    assert!(
        closed.contains("属实") && closed.contains("窗口增设一次性告知清单"),
        "the closed case shows the verification: {closed}"
    );
    assert!(
        c.find(Locator::Css(&format!("#{id} form"))).await.is_err(),
        "a closed case cannot be closed again"
    );
    shots.take(c, "leader-ratings-closed-zh-1280x800.png").await;
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    shots.take(c, "leader-ratings-closed-zh.png").await;
}

/// Sets a demo account's password (the demo city's one-time passwords are printed once, at
/// the start that made them) so the walk can sign in with it.
async fn demo_password(app: &TestApp, username: &str) -> (i64, String) {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM staff WHERE username = $1")
        .bind(username)
        .fetch_one(app.state.db.reader())
        .await
        .expect("the demo account");
    let password = format!("demo-{username}-pass-42");
    let hash = onetrip::auth::password::hash(&password).expect("hash");
    let mut tx = app.state.db.begin().await.expect("tx");
    onetrip::auth::set_password(&mut tx, id, &hash, false, app.state.clock.now_ms())
        .await
        .expect("set the password");
    tx.commit().await.expect("commit");
    (id, password)
}

/// 好差评 in the browser: the window evaluator (a tablet) refuses a bad rating without a reason
/// and takes it with one; a citizen rates from the ticket page on a phone; a very bad rating
/// opens a follow-up case the demo duty leader closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rating_a_service_in_chromium() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = TestApp::spawn_full(
        Engine::Sqlite,
        Config::default(),
        Clock::fixed(common::at(RATING_NOW)),
    )
    .await
    .expect("sqlite app");
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .expect("query")
        .expect("the demo hall");
    let window = onetrip::sites::windows_of(app.state.db.reader(), site.id)
        .await
        .expect("the hall's windows")
        .into_iter()
        .find(|w| w.number == 1)
        .expect("window 1");
    let (officer_id, officer_password) = demo_password(&app, "officer").await;
    let (_, leader_password) = demo_password(&app, "leader").await;
    let officer = Actor {
        staff_id: officer_id,
        username: "officer".into(),
        display_name: "李受理".into(),
        badge_no: "010002".into(),
        grants: vec![RoleGrant {
            role: Role::Officer,
            site_id: Some(site.id),
        }],
        must_change_password: false,
        meta: RequestMeta::default(),
    };
    let walk = Rating {
        app: App {
            base: app.base.clone(),
        },
        state: app.state.clone(),
        site,
        window,
        officer,
        officer_password,
        leader_password,
    };
    in_chromium(&binary, move |c, shots| async move {
        rating_walk(&walk, &c, &shots).await
    })
    .await;
}

/// Friday 2026-03-06 10:00 in Beijing: the complaint walk runs at this instant (a complaint
/// sent now is due five working days later, on Friday 2026-03-13).
const COMPLAINT_NOW: &str = "2026-03-06T10:00:00+08:00";
/// The duty leader's desk.
const DESKTOP: (u32, u32) = (1280, 800);

/// Chooses `value` in the select `css`, as a person picks an option.
async fn choose(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("choose {value} in {css}: {e}"));
    assert_eq!(value_of(c, css).await, value, "{css} shows {value}");
}

/// Empties the input `css` and types `text` into it.
async fn retype(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .clear()
        .await
        .unwrap_or_else(|e| panic!("clear {css}: {e}"));
    type_into(c, css, text).await;
}

/// The id of the duty leader's card of complaint `number` (`complaint-…`).
async fn complaint_card(c: &Client, number: &str) -> String {
    for card in c
        .find_all(Locator::Css("main article.case"))
        .await
        .expect("the complaints")
    {
        let title = card
            .find(Locator::Css("h2"))
            .await
            .expect("the complaint's title")
            .text()
            .await
            .expect("title text");
        if title.contains(number) {
            return card
                .attr("id")
                .await
                .expect("id attribute")
                .expect("the card has an id");
        }
    }
    panic!("no card of {number} on the duty leader's list");
}

async fn complaint_walk(app: &App, c: &Client, shots: &Shots, leader_password: &str) {
    // A citizen on a phone finds the form in the footer of the home page.
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    c.goto(&app.url("/")).await.expect("open home");
    click(c, "#complaints-link").await;
    path_is(c, "/complaints").await;
    assert_eq!(text_of(c, "main h1").await, "投诉与建议");
    let send = "main form[action='/complaints'] button[type=submit]";

    // Too short to look into: refused, with what was typed kept.
    choose(c, "main select[name=category]", "attitude").await;
    choose(c, "main select[name=site]", "0001").await;
    type_into(c, "main input[name=window]", "3").await;
    type_into(c, "main textarea[name=content]", "态度差").await;
    type_into(c, "main input[name=name]", "张女士").await;
    type_into(c, "main input[name=phone]", "13800138000").await;
    submit(c, send).await;
    let error = text_of(c, "#complaint-error").await;
    assert!(error.contains("10–2000"), "the refusal says why: {error}");
    assert_eq!(value_of(c, "main textarea[name=content]").await, "态度差");
    assert_eq!(value_of(c, "main select[name=site]").await, "0001");
    assert_eq!(value_of(c, "main select[name=category]").await, "attitude");
    assert_eq!(value_of(c, "main input[name=phone]").await, "13800138000");
    shots.take(c, "complaint-refused-zh.png").await;

    // Said properly, it is registered with its number and the date it will be answered by.
    let content = "3号窗口工作人员态度生硬，需要的材料没有一次性讲清楚，让我跑了两趟。";
    retype(c, "main textarea[name=content]", content).await;
    submit(c, send).await;
    let registered = text_of(c, "#complaint-registered").await;
    let number = text_of(c, "#complaint-number").await;
    assert_eq!(number, "TS202603060001");
    assert!(
        registered.contains("2026-03-13"),
        "answered within five working days: {registered}"
    );
    assert!(
        c.find(Locator::Css("main textarea[name=content]"))
            .await
            .is_err(),
        "registered: the form is gone"
    );
    shots.take(c, "complaint-registered-zh.png").await;

    // The duty leader, at the desk, finds it on the list from the workstation.
    c.set_window_size(DESKTOP.0, DESKTOP.1)
        .await
        .expect("desktop window");
    c.goto(&app.url("/login")).await.expect("open login");
    sign_in(c, "leader", leader_password).await;
    click(c, "main a[href='/staff/complaints']").await;
    path_is(c, "/staff/complaints").await;
    let id = complaint_card(c, &number).await;
    let card = text_of(c, &format!("#{id}")).await;
    assert!(
        card.contains("服务态度")
            && card.contains("办理中")
            && card.contains("网上投诉建议")
            && card.contains(content)
            && card.contains("2026-03-13"),
        "the card says what, from where and by when: {card}"
    );
    assert!(
        card.contains("138****8000") && !card.contains("13800138000"),
        "the contact is masked: {card}"
    );
    shots.take(c, "staff-complaints-zh-1280x800.png").await;

    // Justified, but no accountability recorded: refused.
    let answer = "经调取录像核实，窗口工作人员未一次性告知所需材料，已批评教育，特向您致歉。";
    type_into(c, &format!("#{id} textarea[name=answer]"), answer).await;
    click(c, &format!("#{id} input[name=justified][value=yes]")).await;
    submit(c, &format!("#{id} form[action$='/answer'] button")).await;
    let error = text_of(c, "#complaint-error").await;
    assert!(error.contains("责任追究"), "the refusal says why: {error}");
    assert!(
        c.find(Locator::Css(&format!("#{id} form[action$='/answer']")))
            .await
            .is_ok(),
        "still open: the answer form is there"
    );

    // With it, the complaint is answered, once.
    type_into(c, &format!("#{id} textarea[name=answer]"), answer).await;
    click(c, &format!("#{id} input[name=justified][value=yes]")).await;
    type_into(
        c,
        &format!("#{id} textarea[name=accountability]"),
        "对当班民警批评教育，扣减当月绩效分",
    )
    .await;
    submit(c, &format!("#{id} form[action$='/answer'] button")).await;
    let ok = text_of(c, "#complaint-ok").await;
    assert!(ok.contains(&number), "{ok}");
    let card = text_of(c, &format!("#{id}")).await;
    assert!(
        card.contains("已答复")
            && card.contains("属实")
            && card.contains(answer)
            && card.contains("扣减当月绩效分"),
        "the answered card shows the answer and the accountability: {card}"
    );
    assert!(
        c.find(Locator::Css(&format!("#{id} form[action$='/answer']")))
            .await
            .is_err(),
        "an answered complaint cannot be answered again"
    );

    // A 12367 call is registered from the collapsed form.
    click(c, "main details > summary").await;
    let hotline = "main details form";
    choose(
        c,
        &format!("{hotline} select[name=channel]"),
        "hotline_12367",
    )
    .await;
    choose(c, &format!("{hotline} select[name=category]"), "efficiency").await;
    type_into(
        c,
        &format!("{hotline} textarea[name=content]"),
        "来电反映周五下午取号后等候超过一小时，希望高峰时段增开窗口。",
    )
    .await;
    type_into(c, &format!("{hotline} input[name=name]"), "刘先生").await;
    type_into(c, &format!("{hotline} input[name=phone]"), "13900139000").await;
    shots
        .take(c, "staff-complaints-register-zh-1280x800.png")
        .await;
    submit(c, &format!("{hotline} button")).await;
    let ok = text_of(c, "#complaint-ok").await;
    assert!(ok.contains("TS202603060002"), "numbered next: {ok}");
    let call = complaint_card(c, "TS202603060002").await;
    let card = text_of(c, &format!("#{call}")).await;
    assert!(
        card.contains("12367 服务热线") && card.contains("办事效率") && card.contains("办理中"),
        "{card}"
    );
    shots
        .take(c, "staff-complaints-answered-zh-1280x800.png")
        .await;
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone window");
    shots.take(c, "staff-complaints-answered-zh.png").await;
    sign_out(c).await;

    // The citizen follows it on the phone: the wrong phone finds nothing.
    c.goto(&app.url("/complaints/track"))
        .await
        .expect("open the follow-up page");
    assert_eq!(text_of(c, "main h1").await, "投诉办理查询");
    let look_up = "main form[action='/complaints/track'] button[type=submit]";
    type_into(c, "main input[name=number]", &number).await;
    type_into(c, "main input[name=phone]", "13900139000").await;
    submit(c, look_up).await;
    let error = text_of(c, "#track-error").await;
    assert!(error.contains("没有找到"), "{error}");
    assert!(
        c.find(Locator::Css("#tracked")).await.is_err(),
        "nothing shown to the wrong phone"
    );

    // With the right one: answered, the answer shown, and a word on it asked for.
    retype(c, "main input[name=phone]", "13800138000").await;
    submit(c, look_up).await;
    assert_eq!(text_of(c, "#track-status").await, "已答复");
    let shown = c
        .find(Locator::Css("#track-answer"))
        .await
        .expect("the answer");
    assert!(shown.is_displayed().await.expect("displayed?"));
    assert_eq!(shown.text().await.expect("answer text"), answer);
    shots.take(c, "complaint-track-answered-zh.png").await;

    submit(c, "main button[name=verdict][value=satisfied]").await;
    text_until(c, "#track-status", "已办结", |s| s == "已办结").await;
    assert!(
        c.find(Locator::Css("main button[name=verdict]"))
            .await
            .is_err(),
        "closed: no second verdict"
    );
    assert_eq!(text_of(c, "#track-verdict").await, "满意");
    shots.take(c, "complaint-track-closed-zh.png").await;
}

/// 投诉建议 in the browser: a citizen sends a complaint from the phone (refused when too
/// short), the demo duty leader answers it (refused when justified without accountability) and
/// registers a 12367 call, and the citizen follows it with number and phone and closes it
/// satisfied.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_complaint_from_the_web_form_to_its_answer_in_chromium() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = TestApp::spawn_full(
        Engine::Sqlite,
        Config::default(),
        Clock::fixed(common::at(COMPLAINT_NOW)),
    )
    .await
    .expect("sqlite app");
    let (_, leader_password) = demo_password(&app, "leader").await;
    let site = App {
        base: app.base.clone(),
    };
    in_chromium(&binary, move |c, shots| async move {
        complaint_walk(&site, &c, &shots, &leader_password).await
    })
    .await;
}

/// Wednesday 2026-10-14 10:00 in Beijing: six citizens are served at the demo hall.
const CALLBACKS_SERVED: &str = "2026-10-14T10:00:00+08:00";
/// Thursday 2026-10-15 09:00: the callback staff call Wednesday's citizens back.
const CALLBACKS_CALLED: &str = "2026-10-15T09:00:00+08:00";
/// A workstation's screen.
const WORKSTATION: (u32, u32) = (1366, 900);
/// The small screen above a window, facing the citizens at the counter.
const WINDOW_SCREEN: (u32, u32) = (1280, 400);
/// The supervision card photo: a portrait of 96x128 pixels.
const PORTRAIT: (usize, usize) = (96, 128);

/// What the callbacks, error rate and cards walk works with besides the browser.
struct Callbacks {
    app: App,
    /// The demo officer (李受理), who accepted the six applications and serves at window 1.
    officer_id: i64,
    officer_password: String,
    caller_password: String,
    leader_password: String,
    /// Window 1 of the demo hall.
    window_id: i64,
    /// Where the officer's photo is served.
    photo_url: String,
}

/// CRC-32 (the PNG chunks' checksum), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG portrait without an image crate: a head and shoulders in a dark uniform on a light
/// blue background, RGB, stored (uncompressed) in a zlib stream.
fn portrait_png() -> Vec<u8> {
    let (w, h) = PORTRAIT;
    let mut raw = Vec::with_capacity(h * (1 + 3 * w));
    for y in 0..h {
        raw.push(0); // filter: none
        for x in 0..w {
            let (dx, dy) = (x as f64 - 48.0, y as f64 - 50.0);
            let head = (dx / 21.0).powi(2) + (dy / 27.0).powi(2) <= 1.0;
            let hair = head && y < 36;
            let shoulders = y >= 86 && dx.abs() <= 22.0 + (y as f64 - 86.0) * 1.4;
            let collar = shoulders && y < 100 && dx.abs() <= 100.0 - y as f64;
            raw.extend_from_slice(match () {
                _ if hair => &[40, 32, 28],
                _ if head => &[232, 192, 160],
                _ if collar => &[236, 240, 246],
                _ if shoulders => &[28, 48, 92],
                _ => &[190, 214, 240],
            });
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks = raw.chunks(65_535).count();
    for (i, block) in raw.chunks(65_535).enumerate() {
        zlib.push(u8::from(i + 1 == blocks)); // stored block, last or not
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut header = Vec::new();
    header.extend_from_slice(&(w as u32).to_be_bytes());
    header.extend_from_slice(&(h as u32).to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, no filter, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", header), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(&data);
        let crc = crc32(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    png
}

/// The ids of the callback list's items (`callback-…`), in the page's order.
async fn callback_items(c: &Client) -> Vec<String> {
    let mut ids = Vec::new();
    for item in c
        .find_all(Locator::Css("main article.callback"))
        .await
        .expect("the callback items")
    {
        ids.push(
            item.attr("id")
                .await
                .expect("id attribute")
                .expect("the item has an id"),
        );
    }
    ids
}

/// The page does not scroll sideways in its window.
async fn fits_the_width(c: &Client, what: &str) {
    let fits = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .expect("measure the page");
    assert_eq!(
        fits,
        json!(true),
        "{what} scrolls sideways: {:?}",
        sideways_overflow(c).await
    );
}

/// The image `css` has loaded with the portrait's own size.
async fn portrait_loaded(c: &Client, css: &str) {
    assert_eq!(
        loaded_image_width(c, css).await,
        PORTRAIT.0 as i64,
        "{css}: the photo is loaded"
    );
    let size = c
        .execute(
            "const img = document.querySelector(arguments[0]);
             return [img.naturalWidth, img.naturalHeight, img.getBoundingClientRect().width > 0];",
            vec![json!(css)],
        )
        .await
        .expect("measure the photo");
    assert_eq!(
        size,
        json!([PORTRAIT.0, PORTRAIT.1, true]),
        "{css}: the whole portrait, shown"
    );
}

async fn callbacks_walk(t: &Callbacks, c: &Client, shots: &Shots) {
    // The callback staff sign in at a workstation and open today's list.
    windowed(c, shots, WORKSTATION).await;
    c.goto(&t.app.url("/login")).await.expect("open login");
    sign_in(c, "caller", &t.caller_password).await;
    c.goto(&t.app.url("/staff/callbacks"))
        .await
        .expect("the callback list");
    path_is(c, "/staff/callbacks").await;
    assert!(text_of(c, "main h1").await.contains("每日回访"));
    let list = text_of(c, "#callback-list").await;
    assert!(
        list.contains("2026-10-15") && list.contains("2026-10-14") && list.contains("共 6 人"),
        "Thursday's list draws from Wednesday's six citizens: {list}"
    );
    assert_eq!(text_of(c, "#callbacks-done").await, "0 / 6");
    let ids = callback_items(c).await;
    assert_eq!(
        ids.len(),
        6,
        "fewer served than the sample size: all six drawn"
    );
    for id in &ids {
        let item = text_of(c, &format!("#{id}")).await;
        assert!(
            item.contains("139****9000")
                && !item.contains("13900139000")
                && item.contains("待回访")
                && item.contains("李受理 (010002)"),
            "masked, to call, with who served: {item}"
        );
    }
    shots.take(c, "callbacks-zh-1366x900.png").await;
    let (first, second, third, fourth) = (&ids[0], &ids[1], &ids[2], &ids[3]);

    // The first citizen: the number shown (audited), the script asked, the answers saved.
    click(c, &format!("#{first} form[action$='/phone'] button")).await;
    text_until(
        c,
        &format!("#{first} .phone.revealed"),
        "the full number",
        |s| s == "13900139000",
    )
    .await;
    for id in &ids[1..] {
        assert_eq!(
            text_of(c, &format!("#{id} .phone")).await,
            "139****9000",
            "only the one number is shown"
        );
    }
    assert!(
        c.find(Locator::Css(&format!("#{first} form[action$='/phone']")))
            .await
            .is_err(),
        "shown: no second button"
    );
    // Shown to be dialled: the script is open already.
    assert_eq!(
        c.execute(
            "return document.querySelector(arguments[0]).open;",
            vec![json!(format!("#{first} details"))],
        )
        .await
        .expect("details"),
        json!(true),
        "the number shown, the script opens with it"
    );
    for (question, answer) in [
        ("satisfaction", "satisfied"),
        ("one_trip", "yes"),
        ("improper", "no"),
        ("conduct", "good"),
    ] {
        let radio = format!("#{first} input[name=q_{question}][value={answer}]");
        click(
            c,
            &format!("#{first} label.chip:has(input[name=q_{question}][value={answer}])"),
        )
        .await;
        assert!(
            c.find(Locator::Css(&radio))
                .await
                .expect("the answer's radio button")
                .is_selected()
                .await
                .expect("selected?"),
            "touching the answer chooses it: {radio}"
        );
    }
    let remark = "大厅指引清楚，等候不到十分钟";
    type_into(c, &format!("#{first} textarea[name=q_remarks]"), remark).await;
    shots.take(c, "callbacks-script-zh-1366x900.png").await;
    click(c, &format!("#{first} button[name=outcome][value=reached]")).await;
    query_has(c, "ok=1").await;
    path_is(c, "/staff/callbacks").await;
    assert!(text_of(c, "#callback-ok").await.contains("已记录"));
    assert!(text_of(c, &format!("#{first} h2")).await.contains("已回访"));
    let done = text_of(c, &format!("#{first}")).await;
    assert!(
        done.contains("第1次") && done.contains("已接通"),
        "the item shows the call: {done}"
    );
    // Each answer under its question.
    let lines = c
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0]))
                 .map(dt => dt.textContent.trim() + '：' + dt.nextElementSibling.textContent.trim());",
            vec![json!(format!("#{first} dl.answers dt"))],
        )
        .await
        .expect("the item's answers");
    let lines: Vec<String> = serde_json::from_value(lines).expect("texts");
    for (question, answer) in [
        ("satisfaction", "satisfied"),
        ("one_trip", "yes"),
        ("improper", "no"),
        ("conduct", "good"),
        ("remarks", remark),
    ] {
        let q = onetrip::callbacks::script()
            .iter()
            .find(|q| q.id == question)
            .expect("the script's question");
        let shown = q
            .options
            .iter()
            .find(|o| o.value == answer)
            .map_or(answer, |o| o.zh.as_str());
        assert!(
            lines.iter().any(|l| l
                .strip_prefix(q.zh.as_str())
                .is_some_and(|rest| rest.trim_start_matches([':', '：', ' ']) == shown)),
            "the answer to {question} is shown as {shown}: {lines:?}"
        );
    }
    assert!(
        c.find(Locator::Css(&format!("#{first} form")))
            .await
            .is_err(),
        "reached: nothing more to record"
    );
    assert!(
        !done.contains("13900139000"),
        "back on the list, the number is masked again"
    );

    // The second: nobody answers, three times; then the citizen is unreachable.
    for n in 1..=3 {
        click(
            c,
            &format!("#{second} button[name=outcome][value=no_answer]"),
        )
        .await;
        let attempt = format!("第{n}次");
        text_until(c, &format!("#{second}"), &attempt, |s| s.contains(&attempt)).await;
    }
    let unreachable = text_of(c, &format!("#{second}")).await;
    assert!(
        text_of(c, &format!("#{second} h2"))
            .await
            .contains("三次未接通"),
        "{unreachable}"
    );
    assert_eq!(
        unreachable.matches("无人接听").count(),
        3,
        "three attempts listed: {unreachable}"
    );
    assert!(
        c.find(Locator::Css(&format!("#{second} form")))
            .await
            .is_err(),
        "no fourth attempt"
    );

    // The third declines, and asks never to be called again.
    click(c, &format!("#{third} input[name=decline_contact]")).await;
    assert!(
        c.find(Locator::Css(&format!(
            "#{third} input[name=decline_contact]"
        )))
        .await
        .expect("the checkbox")
        .is_selected()
        .await
        .expect("ticked?")
    );
    type_into(c, &format!("#{third} input[name=note]"), "表示工作忙").await;
    click(c, &format!("#{third} button[name=outcome][value=refused]")).await;
    text_until(c, &format!("#{third} h2"), "拒绝回访", |s| {
        s.contains("拒绝回访")
    })
    .await;
    let refused = text_of(c, &format!("#{third}")).await;
    assert!(
        refused.contains("表示工作忙") && refused.contains("群众已表示不再接受回访"),
        "the note and the wish are kept: {refused}"
    );
    assert!(
        c.find(Locator::Css(&format!("#{third} form")))
            .await
            .is_err(),
        "declined: finished"
    );

    // The fourth: "reached" without a single answer is held back by the browser (the
    // required answers)…
    click(c, &format!("#{fourth} button[name=outcome][value=reached]")).await;
    path_is(c, "/staff/callbacks").await;
    assert!(c.find(Locator::Css("#callback-error")).await.is_err());
    // …and refused by the server when it gets through anyway, said in the item.
    c.execute(
        "document.querySelector(arguments[0]).noValidate = true;",
        vec![json!(format!("#{fourth} form[action$='/attempts']"))],
    )
    .await
    .expect("skip the browser's check");
    click(c, &format!("#{fourth} button[name=outcome][value=reached]")).await;
    query_has(c, "error=").await;
    assert!(
        c.find(Locator::Css(&format!("#{fourth} #callback-error")))
            .await
            .is_ok(),
        "the refusal is shown in the item it is about"
    );
    let error = text_of(c, "#callback-error").await;
    assert!(
        error.contains("已接通的回访须回答") && error.contains("整体感受"),
        "the refusal names the question: {error}"
    );
    assert!(
        text_of(c, &format!("#{fourth} h2"))
            .await
            .contains("待回访")
    );
    assert!(
        c.find(Locator::Css(&format!("#{fourth} form")))
            .await
            .is_ok(),
        "still to call: the form is there"
    );
    assert!(c.find(Locator::Css("#callback-ok")).await.is_err());
    assert_eq!(text_of(c, "#callbacks-done").await, "3 / 6");
    shots.take(c, "callbacks-worked-zh-1366x900.png").await;
    windowed(c, shots, PHONE).await;
    fits_the_width(c, "the callback list on a phone").await;
    shots.take(c, "callbacks-worked-zh.png").await;
    click(c, &format!("#{} details > summary", ids[4])).await;
    fits_the_width(c, "the callback script on a phone").await;
    shots.take(c, "callbacks-script-zh.png").await;
    sign_out(c).await;

    // The duty leader's monthly error rate: six accepted, none wrong.
    windowed(c, shots, WORKSTATION).await;
    c.goto(&t.app.url("/login")).await.expect("open login");
    sign_in(c, "rate.leader", &t.leader_password).await;
    c.goto(&t.app.url("/staff/leader/error-rate?month=2026-10"))
        .await
        .expect("the error rate");
    path_is(c, "/staff/leader/error-rate").await;
    assert!(text_of(c, "main h1").await.contains("受理差错率"));
    assert_eq!(value_of(c, "main input[name=month]").await, "2026-10");
    let row = format!("#error-rate #officer-{}", t.officer_id);
    let cells = c
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0] + ' td'))
                 .map(td => td.textContent.trim().replace(/\\s+/g, ' '));",
            vec![json!(row)],
        )
        .await
        .expect("the officer's row");
    assert_eq!(
        cells,
        json!(["李受理 (010002)", "0.00 % 达标", "6", "0", "0", "0", ""]),
        "the accepting officer's month"
    );
    let goal = c
        .find(Locator::Css("#goal-line"))
        .await
        .expect("the goal line");
    assert!(goal.is_displayed().await.expect("displayed?"));
    assert!(goal.text().await.expect("text").contains("0.00 %"));
    assert!(c.find(Locator::Css("#error-rate-error")).await.is_err());
    shots.take(c, "error-rate-zh-1366x900.png").await;
    windowed(c, shots, PHONE).await;
    fits_the_width(c, "the error rate on a phone").await;
    shots.take(c, "error-rate-zh.png").await;

    // A month that does not exist: said so, no table.
    windowed(c, shots, WORKSTATION).await;
    c.goto(&t.app.url("/staff/leader/error-rate?month=2026-13"))
        .await
        .expect("the error rate");
    let error = c
        .find(Locator::Css("#error-rate-error"))
        .await
        .expect("the refusal");
    assert!(error.is_displayed().await.expect("displayed?"));
    let said = error.text().await.expect("text");
    assert!(said.contains("YYYY-MM"), "{said}");
    assert!(
        c.find(Locator::Css("#error-rate")).await.is_err(),
        "no table for a month that does not exist"
    );
    shots.take(c, "error-rate-bad-month-zh-1366x900.png").await;
    sign_out(c).await;

    // The public list of officers on duty, on a phone: the officer's card with the photo.
    windowed(c, shots, PHONE).await;
    c.goto(&t.app.url("/sites/0001/on-duty"))
        .await
        .expect("officers on duty");
    assert_eq!(text_of(c, "main h1").await, "今日在岗民警");
    let photo = format!("#officers li.officer-card img[src='{}']", t.photo_url);
    let card = text_of(c, "#officers").await;
    assert!(
        card.contains("李受理") && card.contains("010002") && card.contains("1 号窗口"),
        "the officer at window 1: {card}"
    );
    portrait_loaded(c, &photo).await;
    fits_the_width(c, "the on-duty list on a phone").await;
    shots.take(c, "on-duty-zh.png").await;
    windowed(c, shots, HALL_SCREEN).await;
    portrait_loaded(c, &photo).await;
    shots.take(c, "on-duty-zh-1920x1080.png").await;

    // The small screen above window 1 carries the card.
    full_screen(c, shots, WINDOW_SCREEN).await;
    c.goto(&t.app.url("/display/0001/window/1"))
        .await
        .expect("the window's screen");
    let card = text_of(c, "#officer-card").await;
    assert!(
        card.contains("李受理") && card.contains("010002") && card.contains("12367"),
        "the window's card: {card}"
    );
    portrait_loaded(c, "#officer-card img").await;
    shots.take(c, "window-display-card-zh-1280x400.png").await;

    // The evaluator tablet, signed in as the officer: the same card above the rating.
    windowed(c, shots, TABLET).await;
    c.goto(&t.app.url("/login")).await.expect("open login");
    sign_in(c, "officer", &t.officer_password).await;
    let evaluator = format!("/staff/windows/{}/evaluator", t.window_id);
    c.goto(&t.app.url(&evaluator))
        .await
        .expect("open the evaluator");
    path_is(c, &evaluator).await;
    let card = text_of(c, "#officer-card").await;
    assert!(
        card.contains("李受理") && card.contains("010002") && card.contains("12367"),
        "the evaluator's card: {card}"
    );
    portrait_loaded(c, "#officer-card img.officer-photo").await;
    shots.take(c, "evaluator-card-zh-1280x800.png").await;
    sign_out(c).await;
}

/// 每日回访, 受理差错率 and 服务监督牌 in the browser: the callback staff work Thursday's list of
/// Wednesday's citizens (a number shown, a call reached with its answers, one unreachable after
/// three tries, one declined, a "reached" without answers refused); the duty leader reads the
/// accepting officer's month at 0.00 % and is told off for a month 13; the officer's photo,
/// uploaded through the API, is on the public on-duty list, the window's screen and the
/// evaluator.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callbacks_error_rate_and_cards_in_chromium() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = TestApp::spawn_full(
        Engine::Sqlite,
        Config::default(),
        Clock::fixed(common::at(CALLBACKS_SERVED)),
    )
    .await
    .expect("sqlite app");
    let site = app.site_id("0001").await;
    let (officer_id, officer_password) = demo_password(&app, "officer").await;
    let officer = Actor {
        staff_id: officer_id,
        username: "officer".into(),
        display_name: "李受理".into(),
        badge_no: "010002".into(),
        ..common::actor_at(site, &[Role::Officer])
    };
    for n in 1..=6 {
        common::accepted_at(
            &app,
            &officer,
            common::synthetic_id("19850607", n),
            onetrip::catalog::TimeLimitClass::Normal,
        )
        .await;
    }
    app.state
        .clock
        .advance_ms(common::at(CALLBACKS_CALLED) - app.state.clock.now_ms());
    let caller_password = app.staff("caller", vec![(Role::Guide, Some(site))]).await;
    let leader_password = app
        .staff("rate.leader", vec![(Role::Leader, Some(site))])
        .await;

    // An administrator uploads the officer's photo through the API.
    let admin_password = app.staff("card.admin", vec![(Role::Admin, None)]).await;
    let (api, csrf) = app.api_session("card.admin", &admin_password).await;
    let res = api
        .put(app.url(&format!("/api/v1/staff/{officer_id}/photo")))
        .header("x-csrf-token", &csrf)
        .header("content-type", "image/png")
        .body(portrait_png())
        .send()
        .await
        .expect("upload the photo");
    assert_eq!(res.status(), 200, "the photo is taken");
    let set: serde_json::Value = res.json().await.expect("json");
    let photo_url = set["photo_url"]
        .as_str()
        .expect("where the photo is served")
        .to_string();
    assert!(photo_url.ends_with(set["sha256"].as_str().expect("the photo's hash")));

    // The officer opens window 1.
    let window = onetrip::sites::windows_of(app.state.db.reader(), site)
        .await
        .expect("the hall's windows")
        .into_iter()
        .find(|w| w.number == 1)
        .expect("window 1");
    onetrip::queue::open_window(&app.state.queue(), &common::granted(&officer), &window)
        .await
        .expect("window 1 open");
    let walk = Callbacks {
        app: App {
            base: app.base.clone(),
        },
        officer_id,
        officer_password,
        caller_password,
        leader_password,
        window_id: window.id,
        photo_url,
    };
    in_chromium(&binary, move |c, shots| async move {
        callbacks_walk(&walk, &c, &shots).await
    })
    .await;
}

/// Issue 14 §1: a kiosk wipes itself. A citizen takes a ticket and walks off; after the idle
/// time the kiosk counts down on screen, then goes home with the ticket gone, and Back does not
/// bring it back; the kiosk's pages are never stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idle_kiosk_wipes_itself_in_chromium() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let config = Config {
        kiosk_idle_seconds: 20,
        ..Config::default()
    };
    let app = TestApp::spawn_full(
        Engine::Sqlite,
        config,
        Clock::fixed(common::at("2026-03-02T09:30:00+08:00")),
    )
    .await
    .expect("sqlite app");
    let res = app
        .client()
        .get(app.url("/kiosk/0001"))
        .send()
        .await
        .expect("kiosk page");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let base = App {
        base: app.base.clone(),
    };
    in_chromium(&binary, move |c, shots| async move {
        windowed(&c, &shots, (1080, 1920)).await;
        c.goto(&base.url("/kiosk/0001"))
            .await
            .expect("open the kiosk");
        click(&c, "main form button.kiosk-btn").await;
        let number = text_of(&c, "#ticket-number").await;
        assert!(!number.is_empty());
        // Five seconds before the wipe's countdown: nothing yet.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let shown = c
            .execute(
                "const b = document.querySelector('.kiosk-idle'); return !!b && !b.hidden;",
                vec![],
            )
            .await
            .expect("countdown?");
        assert_eq!(
            shown,
            json!(false),
            "no countdown while the citizen may still look"
        );
        // The countdown comes (idle 20 s less its 15 s) and says so.
        let text = text_until(&c, ".kiosk-idle p", "the countdown", |t| {
            t.contains("秒后返回首页")
        })
        .await;
        assert!(text.contains("触摸屏幕可继续"), "{text}");
        shots
            .take(&c, "kiosk-idle-countdown-zh-1080x1920.png")
            .await;
        // A touch keeps the page.
        click(&c, ".kiosk-idle").await;
        let hidden = c
            .execute(
                "return document.querySelector('.kiosk-idle').hidden;",
                vec![],
            )
            .await
            .expect("hidden?");
        assert_eq!(hidden, json!(true), "a touch dismisses the countdown");
        path_where(&c, "still the ticket", |p| p.ends_with("/print")).await;
        // Left alone: wiped back home (20 s after the touch), the ticket nowhere on screen.
        let deadline = Instant::now() + Duration::from_secs(30);
        while c.current_url().await.expect("url").path() != "/kiosk/0001" {
            assert!(Instant::now() < deadline, "the kiosk went home within 30 s");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert!(!body_text(&c).await.contains(&number), "the ticket is gone");
        // Back stays home.
        c.back().await.expect("back");
        tokio::time::sleep(Duration::from_millis(500)).await;
        path_is(&c, "/kiosk/0001").await;
        assert!(!body_text(&c).await.contains(&number));
    })
    .await;
}

/// Issue 14 §2 in Chromium: at an enrolled kiosk of the hall (enrolled through its page), the
/// holder of a booking touches "check in with my ID card"; the (simulated) reader fills the
/// number and the kiosk prints the priority ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kiosk_check_in_by_id_card_in_chromium() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = TestApp::spawn_full(
        Engine::Sqlite,
        Config::default(),
        Clock::fixed(common::at("2026-03-02T06:00:00+08:00")),
    )
    .await
    .expect("sqlite app");
    let card = onetrip::devices::simulated_card();
    let day = common::hall_day(&app, "2026-03-02").await;
    let slot = day["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .find(|s| s["bookable"] == true)
        .expect("a bookable slot")["slot_id"]
        .as_i64()
        .expect("id");
    let booked: serde_json::Value = app
        .client()
        .post(app.url("/api/v1/appointments"))
        .json(
            &json!({"slot_id": slot, "name": card.name, "id_number": card.id_number,
            "phone": "13800138000", "channel": "web"}),
        )
        .send()
        .await
        .expect("book")
        .json()
        .await
        .expect("json");
    let code = booked["code"].as_str().expect("a booking code").to_string();
    let booking = onetrip::booking::booking_by_code(app.state.db.reader(), &code)
        .await
        .expect("q")
        .expect("booking");
    // Half an hour before the booked time.
    app.state
        .clock
        .advance_ms(booking.starts_at - 30 * 60_000 - app.state.clock.now_ms());
    let (_, enrolment) = onetrip::device_registry::register(
        &app.state.db,
        &app.state.clock,
        common::administrator(),
        app.site_id("0001").await,
        onetrip::device_registry::Kind::Kiosk,
        "大厅签到机",
    )
    .await
    .expect("register the kiosk");
    let base = App {
        base: app.base.clone(),
    };
    let state = app.state.clone();
    in_chromium(&binary, move |c, shots| async move {
        windowed(&c, &shots, (1080, 1920)).await;
        // Not enrolled yet: the check-in page refuses.
        c.goto(&base.url("/kiosk/0001/check-in"))
            .await
            .expect("open");
        assert!(
            body_text(&c)
                .await
                .contains("只在本办证点登记的自助机上打开")
        );
        // The administrator's code, typed once on the kiosk.
        c.goto(&base.url("/devices/enrol"))
            .await
            .expect("open enrol");
        type_into(&c, "main input[name=code]", &enrolment).await;
        click(&c, "main form button").await;
        assert!(text_of(&c, "#enrolled").await.contains("大厅签到机"));
        c.goto(&base.url("/kiosk/0001")).await.expect("kiosk home");
        click(&c, "#kiosk-check-in").await;
        path_is(&c, "/kiosk/0001/check-in").await;
        shots.take(&c, "kiosk-check-in-zh-1080x1920.png").await;
        click(&c, "#read-card").await;
        let printed = path_where(&c, "the printed ticket", |p| p.ends_with("/print")).await;
        let number = text_of(&c, "#ticket-number").await;
        assert!(!number.is_empty());
        shots
            .take(&c, "kiosk-check-in-ticket-zh-1080x1920.png")
            .await;
        let token = printed
            .trim_start_matches("/tickets/")
            .trim_end_matches("/print")
            .to_string();
        let t = onetrip::queue::ticket_by_token(state.db.reader(), &token)
            .await
            .expect("q")
            .expect("the ticket");
        assert_eq!(t.booking_id, Some(booking.id));
        assert_eq!(t.class.as_str(), "appointment");
        assert_eq!(t.number, number);
        // The same card again: refused, said on the kiosk.
        c.goto(&base.url("/kiosk/0001/check-in"))
            .await
            .expect("open");
        click(&c, "#read-card").await;
        let error = text_of(&c, "#check-in-error").await;
        assert!(
            error.contains("已到场") || error.contains("已取消"),
            "{error}"
        );
    })
    .await;
}
