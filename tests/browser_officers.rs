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
    // After a click, the page its form answers with (not the one clicked on, which a fast
    // read would still find).
    new_page(c, "the page after the click").await;
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
    let day = common::hall_day(&app, "2026-12-07").await;
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

/// Issue 18 item 4, administration and the guide desk: a window's lines are ticked (their
/// calling order kept), a site's hours are written in a form and refused line by line, the
/// guide desk keeps every choice when it refuses, and the green channel is a class with a
/// reason there, not also a line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_are_ticked_hours_written_and_the_guide_desk_keeps_its_choices() {
    let clock = Clock::fixed(at("2026-12-07T09:00:00+08:00"));
    let app = TestApp::spawn_full(Engine::Sqlite, Config::default(), clock)
        .await
        .expect("sqlite app");
    let hall = app.site_id("0001").await;
    let pw = app.staff("admin_items", vec![(Role::Admin, None)]).await;
    let c = app.signed_in("admin_items", &pw).await;
    let token = app.csrf(&c, &format!("/admin/sites/{hall}")).await;
    let page = c
        .get(app.url(&format!("/admin/sites/{hall}")))
        .send()
        .await
        .expect("site page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("id=\"window-lines-1\""), "ticks per window");
    assert!(
        page.contains("name=\"hours_working_day\" value=\"08:30–12:00, 13:30–17:30\""),
        "the hours as people write them"
    );
    assert!(!page.contains("name=\"opening_rules\""), "no TOML to edit");

    // Window 1 serves renewal first, then first issue.
    let w1 = onetrip::sites::windows_of(app.state.db.reader(), hall)
        .await
        .expect("windows")
        .into_iter()
        .find(|w| w.number == 1)
        .expect("window 1");
    let res = c
        .post(app.url(&format!("/admin/windows/{}/lines", w1.id)))
        .form(&[
            ("csrf_token", token.as_str()),
            ("line", "renewal"),
            ("line", "first_issue"),
        ])
        .send()
        .await
        .expect("save lines");
    assert_eq!(res.status(), 303);
    let st = onetrip::queue::stored_window_state(app.state.db.reader(), w1.id)
        .await
        .expect("q")
        .expect("state");
    assert_eq!(st.lines, ",renewal,first_issue,");
    let page = c
        .get(app.url(&format!("/admin/sites/{hall}")))
        .send()
        .await
        .expect("site page")
        .text()
        .await
        .expect("html");
    let row = &page[page.find("id=\"window-lines-1\"").expect("row")..];
    let renewal = row
        .find("value=\"renewal\" checked")
        .expect("renewal ticked");
    let first = row
        .find("value=\"first_issue\" checked")
        .expect("first issue ticked");
    assert!(renewal < first, "in their calling order");

    // The hours in the form: Tuesday and Thursday evenings, a closure; then a line refused.
    let site = onetrip::sites::site(app.state.db.reader(), hall)
        .await
        .expect("q")
        .expect("hall");
    let fields = |extended: &'static str| {
        vec![
            ("csrf_token", token.clone()),
            ("code", site.code.clone()),
            ("kind", site.kind.as_str().to_string()),
            ("name_zh", site.name_zh.clone()),
            ("name_en", site.name_en.clone()),
            ("address_zh", site.address_zh.clone()),
            ("address_en", site.address_en.clone()),
            ("phone", site.phone.clone()),
            ("hours_working_day", "08:30–12:00, 13:30–17:30".to_string()),
            ("hours_saturday", "09:00–12:00".to_string()),
            ("hours_sunday", String::new()),
            ("hours_extended", extended.to_string()),
            ("hours_extra", String::new()),
            (
                "hours_closures",
                "2026-12-24 消防检查 | Fire safety inspection".to_string(),
            ),
        ]
    };
    let res = c
        .post(app.url(&format!("/admin/sites/{hall}")))
        .form(&fields("周二、周四 17:30–19:30"))
        .send()
        .await
        .expect("save hours");
    assert_eq!(res.status(), 303);
    let saved = onetrip::sites::site(app.state.db.reader(), hall)
        .await
        .expect("q")
        .expect("hall")
        .opening_rules;
    assert_eq!(saved.extended_hours.len(), 1);
    assert_eq!(saved.saturday.len(), 1);
    assert_eq!(saved.closures[0].reason.zh, "消防检查");
    let res = c
        .post(app.url(&format!("/admin/sites/{hall}")))
        .header("accept-language", "zh-CN")
        .form(&fields("周二 17:30–19:30\n周八 18:00–19:00"))
        .send()
        .await
        .expect("refused hours");
    assert_eq!(res.status(), 422);
    let html = res.text().await.expect("html");
    assert!(
        html.contains("extended hours 2") && html.contains("周八"),
        "the line refused is named"
    );
    assert!(
        html.contains("周二 17:30–19:30\n周八 18:00–19:00"),
        "what was typed is kept"
    );
    let unchanged = onetrip::sites::site(app.state.db.reader(), hall)
        .await
        .expect("q")
        .expect("hall")
        .opening_rules;
    assert_eq!(unchanged, saved, "nothing written");

    // The guide desk: the green channel is a class, not a line; a refusal keeps the choices.
    let gpw = app
        .staff("guide_items", vec![(Role::Guide, Some(hall))])
        .await;
    let g = app.signed_in("guide_items", &gpw).await;
    let desk = g
        .get(app.url("/staff/tickets"))
        .send()
        .await
        .expect("desk")
        .text()
        .await
        .expect("html");
    assert!(
        !desk.contains("value=\"green_channel\""),
        "no green-channel line"
    );
    assert_eq!(
        desk.matches("value=\"green\"").count(),
        1,
        "one green channel"
    );
    let gtoken = app.csrf(&g, "/staff/tickets").await;
    let res = g
        .post(app.url("/staff/tickets"))
        .form(&[
            ("csrf_token", gtoken.as_str()),
            ("line", "renewal"),
            ("class", "green"),
            ("green_reason", ""),
        ])
        .send()
        .await
        .expect("no reason");
    assert_eq!(res.status(), 422);
    let html = res.text().await.expect("html");
    assert!(html.contains("需选择原因"), "refused in words");
    assert!(html.contains("value=\"renewal\" checked"), "the line kept");
    assert!(html.contains("value=\"green\" checked"), "the class kept");
    assert!(!html.contains("value=\"normal\" checked"));
}

/// Issue 18 item 2: the approver sees what they decide on — age and masked identity, the
/// photo taken at acceptance, the documents asked for, the materials check, the control-list
/// result, the green-channel reason and proof, the payment and the accepting officer — opens
/// the full dossier only on the record, and rejects with a reason from a list plus words.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_approver_sees_what_they_decide_on() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let clock = Clock::fixed(at("2026-12-07T10:00:00+08:00"));
    let app = TestApp::spawn_full(Engine::Sqlite, Config::default(), clock)
        .await
        .expect("sqlite app");
    let hall = app.site_id("0001").await;
    app.staff("accepting_officer", vec![(Role::Officer, Some(hall))])
        .await;
    let officer_id: i64 = sqlx::query_scalar("SELECT id FROM staff WHERE username = $1")
        .bind("accepting_officer")
        .fetch_one(app.state.db.reader())
        .await
        .expect("staff id");
    let officer = onetrip::auth::Actor {
        staff_id: officer_id,
        ..actor_at(hall, &[Role::Officer])
    };
    // A green-channel case (a funeral abroad), paid in cash.
    let no = common::accepted_at(
        &app,
        &officer,
        synthetic_id("19610302", 5),
        TimeLimitClass::Expedited,
    )
    .await;
    common::pay_cash(&app, hall, &no).await;
    let row = applications::application_by_no(app.state.db.reader(), no.as_str())
        .await
        .expect("q")
        .expect("application");
    let docs = onetrip::documents::docs_of_application(app.state.db.reader(), row.id)
        .await
        .expect("docs");
    let pw = app
        .staff("approver_r", vec![(Role::Approver, Some(hall))])
        .await;
    let base = app.base.clone();
    let state = app.state.clone();
    let no_text = no.as_str().to_string();
    let (first, second) = (docs[0].id, docs[1].id);
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, WORKSTATION).await;
        c.goto(&format!("{base}/login")).await.expect("login");
        sign_in(&c, "approver_r", &pw).await;
        c.goto(&format!("{base}/staff/review")).await.expect("list");
        // The list offers no blind approval: a review starts, then the decision is taken on
        // the application's page.
        assert!(
            c.find(Locator::Css("main form[action='/staff/documents/approve']"))
                .await
                .is_err(),
            "no approve button on the list"
        );
        c.goto(&format!("{base}/staff/review/{first}"))
            .await
            .expect("the review page");
        click(&c, "#start-review").await;
        path_is(&c, &format!("/staff/review/{first}")).await;
        assert!(c.find(Locator::Css("#approve")).await.is_ok(), "under review now");

        // Who: masked, with age and the photo taken at acceptance.
        let name = text_of(&c, "#review-name").await;
        assert!(name.starts_with('李') && name.contains('*'), "{name}");
        let id = text_of(&c, "#review-id").await;
        assert!(id.contains('*') && !id.contains("19610302"), "masked ID: {id}");
        assert!(text_of(&c, "#review-age").await.contains("65"), "aged 65");
        assert!(loaded_image_width(&c, "#review-photo").await > 0, "the photo shows");
        // What was asked for and what the window checked.
        let asked = text_of(&c, "#review-documents").await;
        assert!(asked.contains("普通护照") && asked.contains("往来港澳通行证"), "{asked}");
        assert!(text_of(&c, "#review-materials").await.contains('✓'));
        assert!(text_of(&c, "#review-checks").await.contains("核查通过"));
        let green = text_of(&c, "#review-green").await;
        assert!(green.contains("出境奔丧") && green.contains("死亡证明"), "{green}");
        assert!(text_of(&c, "#review-payment").await.contains("已缴费"));
        assert!(text_of(&c, "#review-officer").await.contains("accepting_officer"));
        assert_eq!(sideways_overflow(&c).await, None);
        shots.take(&c, "review-detail-zh-1440x900.png").await;

        // The full dossier, on the record.
        click(&c, "#open-dossier").await;
        path_is(&c, &format!("/staff/review/{first}/dossier")).await;
        assert_eq!(text_of(&c, "#review-name").await, "李流程");
        assert!(text_of(&c, "#dossier-audited").await.contains("审计"));
        let audited: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE target_id = $1 AND detail LIKE '%review_dossier%'",
        )
        .bind(&no_text)
        .fetch_one(state.db.reader())
        .await
        .expect("audit");
        assert_eq!(audited, 1, "the dossier's opening is audited");

        // Approve the first; the second is rejected with a reason from the list plus words.
        c.goto(&format!("{base}/staff/review/{first}"))
            .await
            .expect("back");
        submit(&c, "#approve").await;
        path_is(&c, "/staff/review").await;
        assert!(text_of(&c, "#flow-message").await.contains("已审批通过"));
        c.goto(&format!("{base}/staff/review/{second}?lang=en"))
            .await
            .expect("the second, in English");
        submit(&c, "#start-review").await;
        let reasons = text_of(&c, "#reject-reason").await;
        assert!(reasons.contains("Photo does not meet the standard"), "{reasons}");
        shots.take(&c, "review-detail-en-1440x900.png").await;
        c.find(Locator::Css("#reject-reason"))
            .await
            .expect("reasons")
            .select_by_value("photo")
            .await
            .expect("choose");
        type_into(&c, "#reject-words", "背景不是白色").await;
        submit(&c, "#reject").await;
        assert!(text_of(&c, "#flow-message").await.contains("Rejected"));
        let doc = onetrip::documents::docs_of_application(state.db.reader(), row.id)
            .await
            .expect("docs")
            .into_iter()
            .find(|d| d.id == second)
            .expect("second");
        assert_eq!(doc.rejection.as_deref(), Some("照片不符合标准：背景不是白色"));
    })
    .await;
}

/// Issue 18 item 3: at pickup the photo taken at acceptance stands beside the live camera for
/// comparison, the proxy's and the guardian's fields appear only when chosen, and the officer
/// is told what was handed over by document and number, not by internal label.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pickup_compares_faces_and_names_what_was_handed_over() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let (app, clock, hall, site) = common::hall_app("2026-12-07T10:00:00+08:00").await;
    let staff = actor_at(
        hall,
        &[
            Role::Officer,
            Role::Approver,
            Role::Producer,
            Role::Custodian,
        ],
    );
    let id = synthetic_id("19900404", 9);
    let no = common::accepted_at(&app, &staff, id.clone(), TimeLimitClass::Normal).await;
    common::pay_cash(&app, hall, &no).await;
    let row = applications::application_by_no(app.state.db.reader(), no.as_str())
        .await
        .expect("q")
        .expect("application");
    let labels = common::kept(&app, &staff, row.id, &site, "B", ("E87654321", "CA7654321")).await;
    clock.advance_ms(2 * 86_400_000);
    let pw = app
        .staff("pickup_p", vec![(Role::Custodian, Some(hall))])
        .await;
    let base = app.base.clone();
    let no_text = no.as_str().to_string();
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, WORKSTATION).await;
        c.goto(&format!("{base}/login")).await.expect("login");
        sign_in(&c, "pickup_p", &pw).await;
        c.goto(&format!("{base}/staff/pickup?site=0001&no={no_text}"))
            .await
            .expect("pickup");
        assert!(
            loaded_image_width(&c, "#pickup-photo").await > 0,
            "the photo at acceptance"
        );
        assert!(
            loaded_image_width(&c, "#pickup-live").await > 0,
            "the live camera"
        );
        let shown = |css: &'static str| {
            let c = c.clone();
            async move {
                c.find(Locator::Css(css))
                    .await
                    .expect(css)
                    .is_displayed()
                    .await
                    .expect("displayed?")
            }
        };
        assert!(
            !shown("#proxy-fields").await,
            "no proxy fields unless a proxy collects"
        );
        assert!(
            !shown("#guardian-fields").await,
            "no guardian field unless chosen"
        );
        click(&c, "#issue-form input[name=recipient][value=proxy]").await;
        assert!(shown("#proxy-fields").await && !shown("#guardian-fields").await);
        shots.take(&c, "pickup-proxy-zh-1440x900.png").await;
        click(&c, "#issue-form input[name=recipient][value=guardian]").await;
        assert!(!shown("#proxy-fields").await && shown("#guardian-fields").await);
        click(&c, "#issue-form input[name=recipient][value=applicant]").await;
        assert!(!shown("#proxy-fields").await && !shown("#guardian-fields").await);
        // In English, the same comparison.
        c.goto(&format!(
            "{base}/staff/pickup?site=0001&no={no_text}&lang=en"
        ))
        .await
        .expect("pickup in English");
        let faces = text_of(&c, "#compare-faces").await;
        assert!(
            faces.contains("Photo at acceptance") && faces.contains("Live camera"),
            "{faces}"
        );
        shots.take(&c, "pickup-compare-en-1440x900.png").await;
        c.goto(&format!(
            "{base}/staff/pickup?site=0001&no={no_text}&lang=zh"
        ))
        .await
        .expect("pickup in Chinese");
        type_into(&c, "#issue-form input[name=applicant_id]", id.as_str()).await;
        click(&c, "#issue-form input[name=data_ok]").await;
        assert_eq!(sideways_overflow(&c).await, None);
        shots.take(&c, "pickup-compare-zh-1440x900.png").await;
        submit(&c, "#issue").await;
        let said = text_of(&c, "#flow-message").await;
        assert!(
            said.contains("普通护照 E8****321") && said.contains("往来港澳通行证 CA****321"),
            "documents and numbers: {said}"
        );
        for l in &labels {
            assert!(!said.contains(l.as_str()), "no internal label: {said}");
        }
    })
    .await;
}

/// Issue 18 item 4 in a browser: the administrator's site page (hours in a form, lines ticked)
/// and the guide desk keeping its choices after a refusal, at a workstation's size.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_administrator_and_the_guide_desk_in_a_browser() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let (app, _clock, hall, _site) = common::hall_app("2026-12-07T09:00:00+08:00").await;
    let admin_pw = app.staff("admin_b", vec![(Role::Admin, None)]).await;
    let guide_pw = app.staff("guide_b", vec![(Role::Guide, Some(hall))]).await;
    let base = app.base.clone();
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, WORKSTATION).await;
        c.goto(&format!("{base}/login")).await.expect("login");
        sign_in(&c, "admin_b", &admin_pw).await;
        c.goto(&format!("{base}/admin/sites/{hall}"))
            .await
            .expect("the site");
        assert!(text_of(&c, "#staff-nav").await.contains("系统管理"));
        assert!(text_of(&c, "#hours-form").await.contains("工作日"));
        // Window 1: untick renewal, save; the page comes back with it unticked.
        let renewal = "#window-lines-1 input[value=renewal]";
        let ticked = |css: &'static str| {
            let c = c.clone();
            async move {
                c.find(Locator::Css(css))
                    .await
                    .expect(css)
                    .is_selected()
                    .await
                    .expect("ticked?")
            }
        };
        let before = ticked(renewal).await;
        click(&c, renewal).await;
        mark_page(&c).await;
        click(&c, "#window-lines-1 button").await;
        common::kiosk::js_until(
            &c,
            "the site page again",
            "return !window.onetripOldPage && !!document.querySelector('#window-lines-1');",
        )
        .await;
        path_is(&c, &format!("/admin/sites/{hall}")).await;
        assert_eq!(ticked(renewal).await, !before, "the tick was saved");
        assert_eq!(sideways_overflow(&c).await, None);
        shots.take(&c, "admin-site-zh-1440x900.png").await;
        c.goto(&format!("{base}/admin/sites/{hall}?lang=en"))
            .await
            .expect("in English");
        let hours = text_of(&c, "#hours-form").await;
        assert!(
            hours.contains("Working days") && hours.contains("Closures"),
            "{hours}"
        );
        assert!(text_of(&c, "#staff-nav").await.contains("Administration"));
        shots.take(&c, "admin-site-en-1440x900.png").await;
        c.goto(&format!("{base}/admin/sites/{hall}?lang=zh"))
            .await
            .expect("back in Chinese");
        sign_out(&c).await;

        // The guide desk: green channel without a reason is refused, the choices stay.
        c.goto(&format!("{base}/login")).await.expect("login");
        sign_in(&c, "guide_b", &guide_pw).await;
        c.goto(&format!("{base}/staff/tickets"))
            .await
            .expect("desk");
        click(&c, "main input[name=line][value=renewal]").await;
        click(&c, "main label.class-green").await;
        click(&c, "main form[action='/staff/tickets'] button.primary").await;
        assert!(text_of(&c, "main .alert").await.contains("需选择原因"));
        assert!(
            ticked("main input[name=line][value=renewal]").await,
            "line kept"
        );
        assert!(
            ticked("main input[name=class][value=green]").await,
            "class kept"
        );
        shots.take(&c, "guide-desk-refused-zh-1440x900.png").await;
    })
    .await;
}

/// The photo taken at acceptance and the pickup camera are personal data: an approver or
/// officer of the site, or a pickup officer where the documents are handed over, sees them;
/// staff elsewhere guessing application numbers are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_acceptance_photo_is_shown_only_to_those_who_decide_or_hand_over() {
    let (app, _clock, hall, _site) = common::hall_app("2026-12-07T10:00:00+08:00").await;
    let other = onetrip::sites::list_sites(app.state.db.reader(), true)
        .await
        .expect("sites")
        .into_iter()
        .find(|s| s.id != hall)
        .expect("another site")
        .id;
    let officer = actor_at(hall, &[Role::Officer]);
    let no = common::accepted_at(
        &app,
        &officer,
        synthetic_id("19770707", 2),
        TimeLimitClass::Normal,
    )
    .await;
    let get = |user: &'static str, role: Role, site: i64, path: String| {
        let app = &app;
        async move {
            let pw = app.staff(user, vec![(role, Some(site))]).await;
            let c = app.signed_in(user, &pw).await;
            c.get(app.url(&path))
                .send()
                .await
                .expect("get")
                .status()
                .as_u16()
        }
    };
    let photo = format!("/staff/applications/{}/photo", no.as_str());
    let camera = format!("/staff/pickup/{}/camera", no.as_str());
    assert_eq!(
        get("ph_approver", Role::Approver, hall, photo.clone()).await,
        200
    );
    assert_eq!(
        get("ph_keeper", Role::Custodian, hall, camera.clone()).await,
        200
    );
    assert_eq!(
        get("ph_far_keeper", Role::Custodian, other, photo.clone()).await,
        403
    );
    assert_eq!(
        get("ph_far_keeper2", Role::Custodian, other, camera).await,
        403
    );
    assert_eq!(
        get("ph_far_approver", Role::Approver, other, photo).await,
        403
    );
}
