//! The officers' screens in a real browser (issue 18), at the size officers have (1440×900):
//! the window workstation tells who the called ticket brings and takes the application up in
//! one step, offers only the buttons that can act, and acceptance asks to finish the ticket.

mod common;

use common::browser::*;
use common::kiosk::screen;
use common::{Engine, TestApp, actor_at, at, synthetic_id};
use fantoccini::{Client, Locator};
use onetrip::applications::{self, Acceptance, Delivery};
use onetrip::auth::Role;
use onetrip::catalog::TimeLimitClass;
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::queue::TicketClass;

const WORKSTATION: (u32, u32) = (1440, 900);

/// The CSS selectors of the buttons (by their form's action) the page offers.
async fn offered(c: &Client) -> Vec<String> {
    c.execute(
        "return [...document.querySelectorAll('main form[action^=\"/staff/window/\"] button')]
           .map(b => b.closest('form').getAttribute('action').split('/').pop());",
        vec![],
    )
    .await
    .expect("buttons")
    .as_array()
    .expect("list")
    .iter()
    .filter_map(|v| v.as_str().map(str::to_string))
    .collect()
}

/// A form filled in advance on the phone by the booking's holder: the application number.
async fn form_in_advance(app: &TestApp, site: &onetrip::sites::Site, n: u32) -> String {
    let input = applications::FormInput {
        name: "李预约".into(),
        id_number: synthetic_id("19880808", n),
        phone: onetrip::domain::phone::PhoneNumber::parse("13900139000").expect("phone"),
        address: "示范市".into(),
        ethnicity: "汉".into(),
        from_card_reader: false,
        registered_state_personnel: false,
        unit_consent: false,
        work_unit: None,
        guardian: None,
        documents: vec![applications::rules::DocumentRequest {
            document: onetrip::catalog::DocumentType::HkMacaoPermit,
            category: onetrip::catalog::ApplicationCategory::FirstIssue,
            old_number: None,
            old_document: None,
            endorsements: vec![],
            annotations: 0,
        }],
        lang: onetrip::i18n::Lang::ZhCn,
    };
    applications::submit_form(
        &app.state.applications(),
        site,
        applications::Channel::Mobile,
        input,
    )
    .await
    .expect("the form")
    .application_no
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_window_workstation_tells_who_is_called_and_takes_the_form_up() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    // Friday: a citizen books Monday 09:00 on the web and fills the form in advance.
    let clock = Clock::fixed(at("2026-12-04T10:00:00+08:00"));
    let app = TestApp::spawn_full(Engine::Sqlite, Config::default(), clock.clone())
        .await
        .expect("sqlite app");
    let hall_id = app.site_id("0001").await;
    let hall = onetrip::sites::site(app.state.db.reader(), hall_id)
        .await
        .expect("q")
        .expect("hall");
    let day: serde_json::Value = app
        .client()
        .get(
            app.url("/api/v1/appointments/availability?site=0001&line=first_issue&date=2026-12-07"),
        )
        .send()
        .await
        .expect("availability")
        .json()
        .await
        .expect("json");
    let slot = day["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .find(|s| s["bookable"] == true)
        .expect("a bookable slot");
    let (start, end) = (
        slot["start"].as_str().expect("start").to_string(),
        slot["end"].as_str().expect("end").to_string(),
    );
    let id = synthetic_id("19880808", 7);
    let code = onetrip::booking::book(
        &app.state.booking(),
        None,
        onetrip::booking::BookRequest {
            slot_id: slot["slot_id"].as_i64().expect("slot id"),
            name: "李预约".into(),
            id_number: id.as_str().to_string(),
            phone: "13900139000".into(),
            channel: onetrip::booking::Channel::Web,
            lang: None,
        },
        None,
    )
    .await
    .expect("booked")
    .code;
    let prefilled = form_in_advance(&app, &hall, 7).await;

    // Monday 09:05: a green-channel walk-in from the guide, then the booking checked in.
    clock.advance_ms(at("2026-12-07T09:05:00+08:00") - clock.now_ms());
    let q = app.state.queue();
    let green = onetrip::queue::issue_ticket(
        &q,
        common::guide_desk(),
        &hall,
        "first_issue",
        TicketClass::Green,
        Some("funeral"),
        None,
        "guide",
    )
    .await
    .expect("green ticket");
    let booking = onetrip::booking::booking_by_code(app.state.db.reader(), &code)
        .await
        .expect("q")
        .expect("the booking");
    let desk = actor_at(hall_id, &[Role::Guide]);
    onetrip::booking::check_in(
        &app.state.booking(),
        onetrip::booking::Arrival::Desk(&common::granted(&desk)),
        &booking,
    )
    .await
    .expect("checked in");
    let booked = onetrip::queue::issue_ticket(
        &q,
        common::issuer_of(TicketClass::Appointment),
        &hall,
        "first_issue",
        TicketClass::Appointment,
        None,
        Some(booking.id),
        "appointment",
    )
    .await
    .expect("appointment ticket");
    let window = onetrip::sites::windows_of(app.state.db.reader(), hall_id)
        .await
        .expect("windows")
        .into_iter()
        .find(|w| w.number == 1)
        .expect("window 1");
    let pw = app
        .staff(
            "officer_w1",
            vec![
                (Role::Officer, Some(hall_id)),
                (Role::Cashier, Some(hall_id)),
            ],
        )
        .await;
    let base = app.base.clone();
    let state = app.state.clone();
    let (green_no, booked_no) = (green.number.clone(), booked.number.clone());
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, WORKSTATION).await;
        c.goto(&format!("{base}/login")).await.expect("login");
        sign_in(&c, "officer_w1", &pw).await;
        let desk = format!("{base}/staff/window?window={}", window.id);
        c.goto(&desk).await.expect("the window");

        // Closed: no call offered, and the page says why.
        assert!(
            c.find(Locator::Css("#call-next")).await.is_err(),
            "no call from a closed window"
        );
        assert!(
            text_of(&c, "#open-first")
                .await
                .contains("窗口开启后才能叫号")
        );
        click(&c, "main form[action$='/open'] button").await;
        click(&c, "#call-next").await;

        // The green-channel walk-in first: its class and reason; the called ticket's buttons.
        assert_eq!(text_of(&c, "#current-number").await, green_no);
        assert_eq!(text_of(&c, "#called-class").await, "绿色通道 · 出境奔丧");
        let mut buttons = offered(&c).await;
        buttons.sort();
        assert!(
            ["finish", "no-show", "recall", "start"]
                .iter()
                .all(|b| buttons.iter().any(|x| x == b)),
            "a called ticket: {buttons:?}"
        );
        click(&c, "main form[action$='/start'] button").await;
        // Being served: only finishing (and transferring) can act now.
        let buttons = offered(&c).await;
        for never in ["start", "recall", "no-show", "call"] {
            assert!(
                !buttons.iter().any(|b| b == never),
                "{never} offered while serving: {buttons:?}"
            );
        }
        assert!(buttons.iter().any(|b| b == "finish"), "{buttons:?}");
        click(&c, "main form[action$='/finish'] button").await;

        // The booked citizen: class, booked service and time, masked name, and the form they
        // filled in advance ready to take up.
        click(&c, "#call-next").await;
        assert_eq!(text_of(&c, "#current-number").await, booked_no);
        assert_eq!(text_of(&c, "#called-class").await, "预约");
        let when = text_of(&c, "#called-booked").await;
        assert!(
            when.contains("首次申领") && when.contains(&format!("{start}–{end}")),
            "the booked service and time: {when}"
        );
        let holder = text_of(&c, "#called-holder").await;
        assert!(
            holder.starts_with('李') && holder.contains('*') && !holder.contains("预约"),
            "the holder's name, masked: {holder}"
        );
        assert_eq!(value_of(&c, "#take-up-number").await, prefilled);
        assert!(text_of(&c, "#prefilled-note").await.contains("提前填表"));
        assert_eq!(sideways_overflow(&c).await, None);
        shots
            .take(&c, "window-called-appointment-zh-1440x900.png")
            .await;

        // In English, the same facts.
        c.goto(&format!("{desk}&lang=en")).await.expect("english");
        assert_eq!(text_of(&c, "#called-class").await, "Appointment");
        assert!(text_of(&c, "#take-up").await.contains("Application number"));
        shots
            .take(&c, "window-called-appointment-en-1440x900.png")
            .await;
        c.goto(&format!("{desk}&lang=zh")).await.expect("chinese");

        // A wrong number keeps the officer at the window with the reason.
        let field = c
            .find(Locator::Css("#take-up-number"))
            .await
            .expect("the field");
        field.clear().await.expect("clear");
        field.send_keys("12345").await.expect("type");
        click(&c, "#take-up button").await;
        path_where(&c, "still at the window", |p| {
            p.starts_with("/staff/window/")
        })
        .await;
        assert!(!text_of(&c, "main .alert").await.is_empty());
        c.goto(&desk).await.expect("the window again");

        // One step: the ticket starts, the form is taken up under it at this window.
        click(&c, "#take-up button").await;
        path_is(&c, &format!("/staff/acceptance/{prefilled}")).await;
        let row = applications::application_by_no(state.db.reader(), &prefilled)
            .await
            .expect("q")
            .expect("application");
        assert_eq!(row.window_id, Some(window.id), "taken up at this window");
        let ticket = onetrip::queue::ticket(state.db.reader(), row.ticket_id.expect("ticket"))
            .await
            .expect("q")
            .expect("ticket");
        assert_eq!(ticket.number, booked_no, "under the ticket being served");
        assert_eq!(ticket.status.as_str(), "serving");

        // The acceptance steps, then acceptance: the workstation asks to finish the ticket.
        let officer = actor_at(hall_id, &[Role::Officer]);
        let no = onetrip::domain::application_no::ApplicationNo::parse(&prefilled).expect("no");
        let ctx = state.applications();
        let g = || common::granted(&officer);
        let d = applications::dossier(&ctx, &no)
            .await
            .expect("q")
            .expect("dossier");
        let all: Vec<String> = d
            .materials(&state.catalog)
            .iter()
            .map(|m| m.id.clone())
            .collect();
        applications::check_materials(&ctx, &g(), &no, &all)
            .await
            .expect("materials");
        for kind in [
            onetrip::devices::CaptureKind::Photo,
            onetrip::devices::CaptureKind::Fingerprint,
        ] {
            applications::capture(&ctx, &g(), &no, kind)
                .await
                .expect("capture");
        }
        applications::verify_face(&ctx, &g(), &no)
            .await
            .expect("face");
        applications::run_checks(&ctx, &g(), &no)
            .await
            .expect("checks");
        applications::accept(
            &ctx,
            &g(),
            &no,
            Acceptance {
                class: TimeLimitClass::Normal,
                emergency_reason: None,
                emergency_proof: None,
                delivery: Delivery::Pickup { site_id: hall_id },
            },
        )
        .await
        .expect("accepted");
        c.goto(&format!("{base}/staff/acceptance/{prefilled}"))
            .await
            .expect("the acceptance page");
        let ask = text_of(&c, "#finish-ticket").await;
        assert!(ask.contains(&booked_no), "{ask}");
        shots
            .take(&c, "acceptance-finish-ticket-zh-1440x900.png")
            .await;
        click(&c, "#finish-ticket button").await;
        path_is(&c, "/staff/window").await;
        assert!(
            c.find(Locator::Css("#call-next")).await.is_ok(),
            "the window is free"
        );
        let ticket = onetrip::queue::ticket(state.db.reader(), ticket.id)
            .await
            .expect("q")
            .expect("ticket");
        assert_eq!(ticket.status.as_str(), "done");
    })
    .await;
}

/// The links of the staff navigation on a page's HTML (`href`s inside `#staff-nav`).
fn staff_nav_links(html: &str) -> Vec<String> {
    let Some(start) = html.find("id=\"staff-nav\"") else {
        return Vec::new();
    };
    let nav = &html[start..];
    let nav = &nav[..nav.find("</nav>").unwrap_or(nav.len())];
    nav.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

/// Issue 18 item 4: staff pages carry the staff navigation — the workstations this person may
/// use, by role — and not the citizen's; every link in it opens for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_pages_carry_the_workstations_of_each_role() {
    let clock = Clock::fixed(at("2026-12-07T09:00:00+08:00"));
    let app = TestApp::spawn_full(Engine::Sqlite, Config::default(), clock)
        .await
        .expect("sqlite app");
    let hall = app.site_id("0001").await;
    for (role, must) in [
        (
            Role::Officer,
            &["/staff/window", "/staff/acceptance", "/staff/cashier"][..],
        ),
        (
            Role::Cashier,
            &["/staff/cashier", "/staff/reconciliation"][..],
        ),
        (Role::Approver, &["/staff/review"][..]),
        (Role::Producer, &["/staff/production"][..]),
        (
            Role::Custodian,
            &["/staff/custody", "/staff/pickup", "/staff/express"][..],
        ),
        (
            Role::Guide,
            &["/staff/tickets", "/staff/appointments", "/staff/callbacks"][..],
        ),
        (
            Role::Leader,
            &[
                "/staff/leader/hall",
                "/staff/leader/reports",
                "/staff/window",
            ][..],
        ),
    ] {
        let name = format!("nav_{role:?}").to_lowercase();
        let pw = app.staff(&name, vec![(role, Some(hall))]).await;
        let c = app.signed_in(&name, &pw).await;
        let html = c
            .get(app.url("/staff"))
            .send()
            .await
            .expect("home")
            .text()
            .await
            .expect("html");
        let links = staff_nav_links(&html);
        for m in must {
            assert!(links.iter().any(|l| l == m), "{role:?} has {m}: {links:?}");
        }
        for citizen in ["/guide", "/appointments", "/sites"] {
            assert!(!links.iter().any(|l| l == citizen), "{role:?}: {links:?}");
        }
        assert!(
            !html.contains("href=\"/guide\" "),
            "no citizen navigation for {role:?}"
        );
        for l in &links {
            let res = c.get(app.url(l)).send().await.expect("link");
            assert_eq!(res.status(), 200, "{role:?} opens {l}");
            let page = res.text().await.expect("page");
            assert_eq!(staff_nav_links(&page), links, "the same navigation on {l}");
        }
        // Nobody is offered what their role cannot open.
        if role != Role::Leader {
            assert!(
                !links.iter().any(|l| l.starts_with("/staff/leader")),
                "{role:?}: {links:?}"
            );
        }
    }
}
