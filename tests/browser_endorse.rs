//! Issue 14 §4, self-service endorsement at the kiosk, in a real browser (headless Chromium
//! through chromedriver) at 1080x1920, upright as the kiosk stands, and the choice once lying
//! (1920x1080): an eligible holder chooses an individual-visit endorsement, types a phone number
//! on the on-screen keypad, pays by QR and the kiosk writes the card by itself; a permit ending
//! too soon gets no offers and the reasons; a control-list hit says "go to a window" and nothing
//! more; a write that fails after payment is refunded; and an idle kiosk wipes the holder off
//! the screen, for good. Every screen is in the kiosk's shell, its text at least 28 px and its
//! targets at least 72 px high and apart. Screenshots go to `target/screenshots/endorse-*.png`.
//!
//! Needs `chromedriver` on `PATH` (or `CHROMEDRIVER=/path`), like `tests/browser.rs`; skipped
//! without it unless `CI` or `ONETRIP_REQUIRE_BROWSER` is set.

mod common;

use std::time::Duration;

use common::browser::*;
use common::kiosk::*;
use common::{Engine, TestApp};
use fantoccini::{Client, Locator};
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::self_service::station::TestPermit;
use serde_json::json;

/// A Thursday morning, the hall open (the dates of `tests/self_service.rs`: the "expiring"
/// permit ends within six months).
const MORNING: &str = "2026-12-03T10:00:00+08:00";
/// The eligible test permit's holder, 周自助, as the kiosk shows them.
const ELIGIBLE_MASKED: &str = "周**";

async fn endorse_app(idle_seconds: u32) -> TestApp {
    let config = Config {
        duty_leader_phone: "13800138000".into(),
        kiosk_idle_seconds: idle_seconds,
        ..Config::default()
    };
    TestApp::spawn_full(Engine::Sqlite, config, Clock::fixed(common::at(MORNING)))
        .await
        .expect("sqlite app")
}

/// The kiosk's endorsement start page, in the shell, the demo's permits offered.
async fn start_page(c: &Client, base: &str) {
    c.goto(&format!("{base}/kiosk/0001/endorse"))
        .await
        .expect("the endorsement start");
    path_is(c, "/kiosk/0001/endorse").await;
    text_of(c, "#endorse-read").await;
}

/// Puts a test permit on the reader with the demo's buttons on the start page.
async fn place(c: &Client, permit: TestPermit) {
    let button = format!("#sim-permit-{}", permit.code());
    let open = c
        .execute(
            "return document.querySelector('details.kiosk-sim').open;",
            vec![],
        )
        .await
        .expect("the demo's permits");
    if open != json!(true) {
        click(c, "details.kiosk-sim > summary").await;
    }
    click(c, &button).await;
    path_is(c, "/kiosk/0001/endorse").await;
    js_until(
        c,
        &format!("{button} placed"),
        &format!(
            "const b = document.querySelector('{button}');
             return !!b && b.getAttribute('aria-pressed') === 'true';"
        ),
    )
    .await;
}

/// The step marked as the current one.
async fn current_step(c: &Client) -> String {
    text_of(c, ".kiosk-steps li[aria-current=step]").await
}

/// Reads the permit (start page → the session's screen) and returns the session's path.
async fn read_permit(c: &Client) -> String {
    click(c, "#endorse-read").await;
    path_where(c, "the session's screen", |p| {
        p.starts_with("/kiosk/0001/endorse/") && p != "/kiosk/0001/endorse/sim-permit"
    })
    .await
}

/// Chooses `option` (by clicking its row), pays with Alipay, and returns the order number
/// (from the pay screen's form).
async fn choose_and_pay(c: &Client, option: &str, phone: Option<&str>) -> String {
    click(
        c,
        &format!("label.kiosk-option:has(input[value='{option}'])"),
    )
    .await;
    let checked = c
        .execute(
            "return document.querySelector(`input[name=option][value='${arguments[0]}']`).checked;",
            vec![json!(option)],
        )
        .await
        .expect("the choice");
    assert_eq!(checked, json!(true), "{option} chosen by touching its row");
    if let Some(phone) = phone {
        click(c, "#endorse-phone").await;
        keypad_is_up(c, "endorse-phone", "the choice").await;
        keypad_type(c, "endorse-phone", phone).await;
        assert_eq!(value_of(c, "#endorse-phone").await, phone);
    }
    click(c, "#endorse-pay-alipay").await;
    query_has(c, "order=").await;
    let order = c
        .find(Locator::Css("#endorse-finish input[name=order]"))
        .await
        .expect("the order on the pay screen")
        .attr("value")
        .await
        .expect("value")
        .unwrap_or_default();
    assert!(!order.is_empty(), "the order number on the pay screen");
    order
}

/// The visible text of the main part.
async fn main_text(c: &Client) -> String {
    text_of(c, "main").await
}

/// Every element of the main part that is on the screen below the foot's top edge or above
/// the main part's top: what a person cannot see without scrolling.
async fn out_of_view(c: &Client, css: &str) -> Vec<String> {
    let v = c
        .execute(
            "const m = document.querySelector('main').getBoundingClientRect();
             return [...document.querySelectorAll(arguments[0])]
               .filter(e => e.getClientRects().length)
               .filter(e => { const r = e.getBoundingClientRect(); return r.bottom > m.bottom + 1 || r.top < m.top - 1; })
               .map(e => (e.id || e.className || e.tagName) + ': ' + (e.textContent || '').trim().slice(0, 30));",
            vec![json!(css)],
        )
        .await
        .expect("measure");
    v.as_array()
        .expect("a list")
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect()
}

/// (a) An eligible holder at the kiosk: the start page (the eligible demo permit placed by
/// default), the permit read, an individual-visit endorsement chosen with a phone number typed
/// on the keypad, the QR to pay; paid on the phone, the kiosk writes the card by itself and
/// shows the application number on the receipt. The same choice lying down.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_eligible_holder_renews_at_the_kiosk() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = endorse_app(60).await;
    let code = kiosk_code(&app, "自助签注机 1").await;
    let base = app.base.clone();
    let state = app.state.clone();
    let station = state
        .devices
        .self_service_simulator
        .clone()
        .expect("simulated station");
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, PORTRAIT).await;
        enrol(&c, &base, &code).await;
        c.goto(&format!("{base}/kiosk/0001")).await.expect("home");
        click(&c, "#kiosk-endorse").await;
        start_page(&c, &base).await;
        kiosk_page_ok(&c, "the endorsement start").await;
        assert_eq!(current_step(&c).await, "读证比对");
        // The demo's permits are there, folded away, the eligible one on the reader.
        let placed = c
            .execute(
                "return [...document.querySelectorAll('.kiosk-sim button[aria-pressed=true]')].map(b => b.id);",
                vec![],
            )
            .await
            .expect("placed");
        assert_eq!(placed, json!(["sim-permit-eligible"]));
        assert!(
            out_of_view(&c, "#endorse-read").await.is_empty(),
            "the button on the screen"
        );
        shots.take(&c, "endorse-start-zh-1080x1920.png").await;
        click(&c, "details.kiosk-sim > summary").await;
        kiosk_page_ok(&c, "the start with the demo's permits").await;
        shots.take(&c, "endorse-start-sim-zh-1080x1920.png").await;
        screen(&c, &shots, LANDSCAPE).await;
        kiosk_page_ok(&c, "the endorsement start, lying").await;
        shots.take(&c, "endorse-start-zh-1920x1080.png").await;
        screen(&c, &shots, PORTRAIT).await;

        // Read: the holder masked, the offers first, what cannot be done here folded away.
        let session = read_permit(&c).await;
        assert_eq!(text_of(&c, "#endorse-holder").await, ELIGIBLE_MASKED);
        assert_eq!(current_step(&c).await, "选择签注");
        let body = body_text(&c).await;
        assert!(
            !body.contains("周自助") && !body.contains("C60418297"),
            "masked: the screen faces the hall"
        );
        kiosk_page_ok(&c, "the choice").await;
        let offers: Vec<String> = c
            .execute(
                "return [...document.querySelectorAll('input[name=option]')].map(i => i.value);",
                vec![],
            )
            .await
            .expect("offers")
            .as_array()
            .expect("a list")
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect();
        assert!(
            offers.contains(&"hk-macao-g-3m-once".to_string())
                && offers.contains(&"hk-macao-l-3m-once".to_string()),
            "G and L on offer: {offers:?}"
        );
        let refused = c
            .execute(
                "const d = document.querySelector('details#endorse-refused');
                 return d ? { open: d.open, n: d.querySelectorAll('li.kiosk-type.refused').length,
                              reasons: d.querySelectorAll('.refusal').length } : null;",
                vec![],
            )
            .await
            .expect("the refused types");
        assert_eq!(
            refused,
            json!({ "open": false, "n": 4, "reasons": 4 }),
            "the four types not issued here are folded away, each with its reason"
        );
        assert_eq!(
            c.execute(
                "return document.querySelectorAll('.kiosk-type').length;",
                vec![]
            )
            .await
            .expect("types"),
            json!(6),
            "six endorsement types listed"
        );
        let radios_out = out_of_view(&c, "label.kiosk-option").await;
        assert!(
            radios_out.is_empty(),
            "every offer on the screen without scrolling: {radios_out:#?}"
        );
        shots.take(&c, "endorse-choose-zh-1080x1920.png").await;
        click(&c, "#endorse-refused > summary").await;
        c.execute(
            "document.getElementById('endorse-refused').scrollIntoView({ block: 'end' }); return null;",
            vec![],
        )
        .await
        .expect("scroll");
        kiosk_page_ok(&c, "the choice, the refused types unfolded").await;
        shots
            .take(&c, "endorse-choose-refused-open-zh-1080x1920.png")
            .await;
        click(&c, "#endorse-refused > summary").await;
        screen(&c, &shots, LANDSCAPE).await;
        shots.take(&c, "endorse-choose-zh-1920x1080.png").await;
        kiosk_page_ok(&c, "the choice, lying").await;
        let out = out_of_view(
            &c,
            "label.kiosk-option, #endorse-phone, #endorse-pay-alipay, #endorse-pay-wechat",
        )
        .await;
        assert!(out.is_empty(), "lying, all on the screen: {out:#?}");
        screen(&c, &shots, PORTRAIT).await;
        // The same in English (the language stays for the session's pages), and back.
        click_lang_switch(&c, "English").await;
        text_until(&c, "html[lang=en] #endorse-choose", "the choice in English").await;
        kiosk_page_ok(&c, "the choice in English").await;
        shots.take(&c, "endorse-choose-en-1080x1920.png").await;
        click_lang_switch(&c, "中文").await;
        text_until(&c, "html[lang=zh-CN] #endorse-choose", "the choice in Chinese").await;

        // The choice, the phone number on the keypad, then the QR.
        let order = choose_and_pay(&c, "hk-macao-g-3m-once", Some("13912345678")).await;
        path_is(&c, &session).await;
        assert_eq!(current_step(&c).await, "扫码缴费");
        assert!(
            text_of(&c, "#endorse-amount").await.contains("¥15"),
            "the fee of 3 months single G"
        );
        let qr = loaded_image_width(&c, "main .kiosk-qr img").await;
        assert!(qr > 0, "the payment QR code loads");
        assert!(
            c.find(Locator::Css("main a[target=_blank]")).await.is_err(),
            "no way out of the kiosk"
        );
        kiosk_page_ok(&c, "the pay screen").await;
        let out = out_of_view(&c, ".kiosk-qr img, #endorse-amount").await;
        assert!(out.is_empty(), "the code on the screen: {out:#?}");
        shots.take(&c, "endorse-pay-zh-1080x1920.png").await;
        screen(&c, &shots, LANDSCAPE).await;
        kiosk_page_ok(&c, "the pay screen, lying").await;
        shots.take(&c, "endorse-pay-zh-1920x1080.png").await;
        screen(&c, &shots, PORTRAIT).await;

        // Paid on the phone: the kiosk sees it, writes the card by itself, shows the receipt.
        let paid = onetrip::payments::simulate_customer_payment(&state.payments(), &order)
            .await
            .expect("paid on the phone");
        assert_eq!(paid, onetrip::payments::Settlement::Paid);
        let written = text_until(&c, "#endorse-written", "the card written").await;
        path_is(&c, &session).await;
        let payment = onetrip::payments::payment_by_order(state.db.reader(), &order)
            .await
            .expect("read")
            .expect("the payment");
        let application = onetrip::applications::application(state.db.reader(), payment.application_id)
            .await
            .expect("read")
            .expect("the application");
        assert_eq!(
            text_of(&c, "#endorse-application").await,
            application.application_no
        );
        assert!(written.contains(&application.application_no), "{written}");
        assert!(written.contains("¥15"), "{written}");
        assert_eq!(current_step(&c).await, "写卡取证");
        assert_eq!(station.writes_on("C60418297"), 1, "written once");
        assert!(
            !body_text(&c).await.contains(ELIGIBLE_MASKED),
            "the holder is off the screen once written"
        );
        kiosk_page_ok(&c, "the card written").await;
        shots.take(&c, "endorse-written-zh-1080x1920.png").await;
        screen(&c, &shots, LANDSCAPE).await;
        kiosk_page_ok(&c, "the card written, lying").await;
        shots.take(&c, "endorse-written-zh-1920x1080.png").await;
        screen(&c, &shots, PORTRAIT).await;

        // Done: home, and Back does not bring the receipt back.
        click(&c, "#endorse-done").await;
        path_is(&c, "/kiosk/0001").await;
        c.back().await.expect("back");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            !body_text(&c).await.contains(&application.application_no),
            "Back does not bring the receipt back"
        );
    })
    .await;
}

/// (b) A permit ending too soon: no offers, every type's reason on the screen, nothing to pay;
/// and someone else's face in front of the camera.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_permit_ending_too_soon_gets_the_reasons_and_no_offers() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = endorse_app(60).await;
    let code = kiosk_code(&app, "自助签注机 2").await;
    let base = app.base.clone();
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, PORTRAIT).await;
        enrol(&c, &base, &code).await;
        start_page(&c, &base).await;
        place(&c, TestPermit::Expiring).await;
        read_permit(&c).await;
        assert_eq!(text_of(&c, "#endorse-holder").await, "吴**");
        let none = text_of(&c, "#endorse-none").await;
        assert!(none.contains("不能"), "{none}");
        let shown = c
            .execute(
                "return { radios: document.querySelectorAll('input[name=option]').length,
                          pay: document.querySelectorAll('[name=method]').length,
                          form: !!document.getElementById('endorse-choose'),
                          folded: !!document.querySelector('details#endorse-refused'),
                          types: document.querySelectorAll('#endorse-refused li.kiosk-type.refused').length };",
                vec![],
            )
            .await
            .expect("the screen");
        assert_eq!(
            shown,
            json!({ "radios": 0, "pay": 0, "form": false, "folded": false, "types": 6 }),
            "no offers, nothing to pay, every type with its reason in view"
        );
        let reasons = text_of(&c, "#endorse-refused").await;
        assert!(
            reasons.contains("通行证有效期至2027-02-28") && reasons.contains("请先换发通行证"),
            "the permit's end is the reason: {reasons}"
        );
        assert!(reasons.contains("个人旅游") && reasons.contains("团队旅游"));
        kiosk_page_ok(&c, "no offers").await;
        shots.take(&c, "endorse-none-zh-1080x1920.png").await;
        screen(&c, &shots, LANDSCAPE).await;
        kiosk_page_ok(&c, "no offers, lying").await;
        shots.take(&c, "endorse-none-zh-1920x1080.png").await;
        screen(&c, &shots, PORTRAIT).await;

        // Someone else in front of the camera: to a window, or try again.
        click(&c, "#kiosk-restart").await;
        path_is(&c, "/kiosk/0001").await;
        start_page(&c, &base).await;
        place(&c, TestPermit::FaceMismatch).await;
        click(&c, "#endorse-read").await;
        let face = text_until(&c, "#endorse-face", "the face refused").await;
        assert!(face.contains("人脸比对未通过"), "{face}");
        assert!(!body_text(&c).await.contains("周"), "no name shown");
        kiosk_page_ok(&c, "the face refused").await;
        shots.take(&c, "endorse-face-zh-1080x1920.png").await;
    })
    .await;
}

/// (c) A control-list hit: "please go to a window", and nothing else: no name, no permit, no
/// reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_control_list_hit_only_says_go_to_a_window() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = endorse_app(60).await;
    onetrip::applications::import_watch_list(
        &app.state.applications(),
        common::administrator(),
        &format!(
            "{},restricted_exit,test",
            TestPermit::Watched.holder_id_number()
        ),
    )
    .await
    .expect("watch list");
    let code = kiosk_code(&app, "自助签注机 3").await;
    let base = app.base.clone();
    let state = app.state.clone();
    let site = app.site_id("0001").await;
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, PORTRAIT).await;
        enrol(&c, &base, &code).await;
        start_page(&c, &base).await;
        place(&c, TestPermit::Watched).await;
        click(&c, "#endorse-read").await;
        text_until(&c, "#endorse-window", "go to a window").await;
        let main = main_text(&c).await;
        let lines: Vec<&str> = main
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(
            lines,
            [
                "自助签注",
                "本机无法为您办理，请到人工窗口办理。",
                "请取号后到出入境窗口，工作人员会为您办理。",
                "完成"
            ],
            "go to a window, and nothing else"
        );
        let body = body_text(&c).await;
        for secret in [
            "王",
            "C93751258",
            "C9****258",
            TestPermit::Watched.holder_id_number(),
            "核查",
            "限制",
        ] {
            assert!(!body.contains(secret), "{secret} is not on the screen");
        }
        assert!(
            c.find(Locator::Css(".kiosk-facts, #endorse-holder"))
                .await
                .is_err(),
            "no permit shown"
        );
        kiosk_page_ok(&c, "go to a window").await;
        shots.take(&c, "endorse-window-zh-1080x1920.png").await;
        // The duty leader knows.
        let alerts = onetrip::applications::open_alerts(state.db.reader(), site)
            .await
            .expect("alerts");
        assert_eq!(alerts.len(), 1);
    })
    .await;
}

/// (d) The card writer fails after payment: the payment is refunded in full, the refund
/// number on the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_write_after_payment_is_refunded() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = endorse_app(60).await;
    let code = kiosk_code(&app, "自助签注机 4").await;
    let base = app.base.clone();
    let state = app.state.clone();
    let station = state
        .devices
        .self_service_simulator
        .clone()
        .expect("simulated station");
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, PORTRAIT).await;
        enrol(&c, &base, &code).await;
        start_page(&c, &base).await;
        place(&c, TestPermit::WriteFails).await;
        let session = read_permit(&c).await;
        assert_eq!(text_of(&c, "#endorse-holder").await, "冯**");
        let order = choose_and_pay(&c, "hk-macao-l-3m-once", None).await;
        assert!(text_of(&c, "#endorse-amount").await.contains("¥15"));
        onetrip::payments::simulate_customer_payment(&state.payments(), &order)
            .await
            .expect("paid on the phone");
        let refunded = text_until(&c, "#endorse-refunded", "the refund").await;
        path_is(&c, &session).await;
        let refund_no = text_of(&c, "#endorse-refund-no").await;
        assert!(!refund_no.trim().is_empty(), "a refund number: {refunded}");
        assert!(refunded.contains("全额退回"), "{refunded}");
        let payment = onetrip::payments::payment_by_order(state.db.reader(), &order)
            .await
            .expect("read")
            .expect("the payment");
        let refunds = onetrip::payments::refunds_of(state.db.reader(), payment.id)
            .await
            .expect("refunds");
        assert_eq!(
            refunds
                .iter()
                .map(|r| r.refund_no.as_str())
                .collect::<Vec<_>>(),
            [refund_no.trim()],
            "the refund on the screen is the one made"
        );
        assert_eq!(station.writes_on("C04862369"), 0, "nothing written");
        kiosk_page_ok(&c, "the refund").await;
        shots.take(&c, "endorse-refunded-zh-1080x1920.png").await;
    })
    .await;
}

/// (e) The idle kiosk wipes the holder off the screen: after the permit is read, nobody
/// touches it; it counts down and goes home, and Back does not bring the holder back. Start
/// again does the same; once the server has ended the session, its address shows only that it
/// is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idle_kiosk_wipes_the_holder_off_the_screen() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    // kiosk.js waits at least 20 s (15 of them counting down).
    let app = endorse_app(20).await;
    let code = kiosk_code(&app, "自助签注机 5").await;
    let base = app.base.clone();
    let state = app.state.clone();
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, PORTRAIT).await;
        enrol(&c, &base, &code).await;
        start_page(&c, &base).await;
        let session = read_permit(&c).await;
        assert_eq!(text_of(&c, "#endorse-holder").await, ELIGIBLE_MASKED);
        // Untouched: the countdown, then home.
        text_until(&c, ".kiosk-idle:not([hidden]) p", "the idle countdown").await;
        shots.take(&c, "endorse-idle-zh-1080x1920.png").await;
        path_within(&c, "the idle kiosk home", 30, |p| p == "/kiosk/0001").await;
        assert!(!body_text(&c).await.contains(ELIGIBLE_MASKED));
        c.back().await.expect("back");
        tokio::time::sleep(Duration::from_millis(800)).await;
        let url = c.current_url().await.expect("url");
        assert_ne!(url.path(), session, "Back does not return to the session");
        assert!(
            !body_text(&c).await.contains(ELIGIBLE_MASKED),
            "Back does not show the holder"
        );

        // Start again, right after reading: the same.
        start_page(&c, &base).await;
        let second = read_permit(&c).await;
        assert_eq!(text_of(&c, "#endorse-holder").await, ELIGIBLE_MASKED);
        click(&c, "#kiosk-restart").await;
        path_is(&c, "/kiosk/0001").await;
        assert!(!body_text(&c).await.contains(ELIGIBLE_MASKED));
        c.back().await.expect("back");
        tokio::time::sleep(Duration::from_millis(800)).await;
        let url = c.current_url().await.expect("url");
        assert_ne!(url.path(), second, "Back does not return to the session");
        assert!(!body_text(&c).await.contains(ELIGIBLE_MASKED));
        // Back from the choice, too.
        start_page(&c, &base).await;
        let third = read_permit(&c).await;
        click(&c, "#kiosk-back").await;
        path_is(&c, "/kiosk/0001/endorse").await;
        c.back().await.expect("back");
        tokio::time::sleep(Duration::from_millis(800)).await;
        let url = c.current_url().await.expect("url");
        assert_ne!(url.path(), third, "Back does not return to the session");
        assert!(!body_text(&c).await.contains(ELIGIBLE_MASKED));

        // A read not chosen within 15 minutes is over, even before the server's sweep has
        // ended it: its address shows only that.
        state.clock.advance_ms(16 * 60_000);
        c.goto(&format!("{base}{session}"))
            .await
            .expect("the old address");
        text_until(&c, "#endorse-over", "the session lapsed").await;
        assert!(!body_text(&c).await.contains(ELIGIBLE_MASKED));
        assert!(
            c.find(Locator::Css(".kiosk-facts, .kiosk-steps"))
                .await
                .is_err()
        );
        let swept = onetrip::self_service::sweep(&state.self_service())
            .await
            .expect("sweep");
        // Every session left unchosen ended when the kiosk went home or back to the start:
        // nothing waited for the sweep.
        assert_eq!(swept.abandoned, 0, "{swept:?}");
        c.goto(&format!("{base}{session}"))
            .await
            .expect("the old address");
        text_until(&c, "#endorse-over", "the session over").await;
        assert!(!body_text(&c).await.contains(ELIGIBLE_MASKED));
        kiosk_page_ok(&c, "the session over").await;
        shots.take(&c, "endorse-over-zh-1080x1920.png").await;
    })
    .await;
}
