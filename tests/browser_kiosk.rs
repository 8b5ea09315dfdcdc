//! Issue 14 §1, the kiosk shell, in a real browser (headless Chromium through chromedriver):
//! the hall kiosk's pages at 1080x1920 (upright) and 1920x1080 (lying). Each page is in the
//! kiosk's shell (no site navigation, footer or staff link; 返回 and 重新开始 always there), its
//! text is at least 28 px and every target at least 72 px high with room around it; ID and phone
//! numbers are typed on the on-screen keypad (no system keyboard); the one form shows one step at
//! a time with a progress bar. Screenshots go to `target/screenshots/kiosk-shell-*.png`.
//!
//! Needs `chromedriver` on `PATH` (or `CHROMEDRIVER=/path`), like `tests/browser.rs`; skipped
//! without it unless `CI` or `ONETRIP_REQUIRE_BROWSER` is set.

mod common;

use std::time::Duration;

use common::browser::*;
use common::kiosk::*;
use common::{Engine, TestApp};
use fantoccini::{Client, Locator};
use onetrip::auth::Role;
use onetrip::clock::Clock;
use onetrip::config::Config;
use serde_json::json;

/// A Monday morning, the hall open.
const MORNING: &str = "2026-03-02T09:30:00+08:00";

/// Where the application under test listens.
#[derive(Clone)]
struct App {
    base: String,
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

async fn hall_app() -> TestApp {
    TestApp::spawn_full(
        Engine::Sqlite,
        Config::default(),
        Clock::fixed(common::at(MORNING)),
    )
    .await
    .expect("sqlite app")
}

/// The steps of the form shown now: exactly one, and the count above them.
async fn one_step_shown(c: &Client, n: usize, total: usize) -> String {
    let shown = js_until(
        c,
        &format!("step {n} alone on the screen"),
        &format!(
            "const s = [...document.querySelectorAll('#one-form > fieldset')];
             const shown = s.filter(f => !f.hidden && f.getClientRects().length);
             return s.length === {total} && shown.length === 1 && shown[0] === s[{n} - 1]
               && document.getElementById('step-progress').value === {n}
               ? shown[0].querySelector('legend').textContent.trim() : null;"
        ),
    )
    .await;
    let count = text_of(c, "#step-count").await;
    let expected = in_page_lang(c, "第 {n} / {total} 步", "Step {n} of {total}")
        .await
        .replace("{n}", &n.to_string())
        .replace("{total}", &total.to_string());
    assert!(
        count.starts_with(&expected),
        "the progress says {expected}: {count}"
    );
    shown.as_str().unwrap_or_default().to_string()
}

/// A valid ID number that ends in X (typed with the keypad's X).
fn id_ending_in_x() -> String {
    (1..2000)
        .map(common::citizen)
        .find(|id| id.ends_with('X'))
        .expect("an ID number ending in X")
}

/// The kiosk's pay page, the application number typed on the keypad, the order's QR code in
/// the kiosk's shell, paid on the (simulated) phone while the kiosk looks again by itself, and
/// Done wipes it home.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kiosk_pay_in_the_kiosk_shell() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = hall_app().await;
    let site = app.site_id("0001").await;
    let officer = common::actor_at(site, &[Role::Officer]);
    let no = common::accepted_at(
        &app,
        &officer,
        common::synthetic_id("19800315", 7),
        onetrip::catalog::TimeLimitClass::Normal,
    )
    .await;
    let code = kiosk_code(&app, "大厅缴费机").await;
    let base = App {
        base: app.base.clone(),
    };
    let state = app.state.clone();
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, PORTRAIT).await;
        enrol(&c, &base.base, &code).await;
        c.goto(&base.url("/kiosk/0001")).await.expect("home");
        in_kiosk_shell(&c, "the kiosk's home", false).await;
        click(&c, "#kiosk-pay").await;
        path_is(&c, "/kiosk/0001/pay").await;
        kiosk_page_ok(&c, "the pay page").await;
        keypad_is_up(&c, "pay-number", "the pay page").await;
        // The keypad types, deletes and clears.
        keypad_type(&c, "pay-number", "12").await;
        click(&c, "#pay-number-keypad [data-key=del]").await;
        assert_eq!(value_of(&c, "#pay-number").await, "1");
        click(&c, "#pay-number-keypad [data-key=clear]").await;
        assert_eq!(value_of(&c, "#pay-number").await, "");
        keypad_type(&c, "pay-number", no.as_str()).await;
        assert_eq!(value_of(&c, "#pay-number").await, no.as_str());
        shots.take(&c, "kiosk-shell-pay-zh-1080x1920.png").await;
        screen(&c, &shots, LANDSCAPE).await;
        kiosk_page_ok(&c, "the pay page, lying").await;
        shots.take(&c, "kiosk-shell-pay-zh-1920x1080.png").await;
        screen(&c, &shots, PORTRAIT).await;

        click(&c, "#pay-alipay").await;
        let order = path_where(&c, "the kiosk's payment order", |p| {
            p.starts_with("/kiosk/0001/pay/")
        })
        .await;
        let order_no = order.rsplit('/').next().unwrap_or_default().to_string();
        kiosk_page_ok(&c, "the order page").await;
        assert!(text_of(&c, "#order-amount").await.contains("¥180"));
        assert_eq!(text_of(&c, "#order-application").await, no.as_str());
        let qr = loaded_image_width(&c, "main .kiosk-qr img").await;
        assert!(qr > 0, "the payment QR code loads");
        assert!(
            c.find(Locator::Css("#sim-wallet")).await.is_err(),
            "no way out of the kiosk to the wallet page"
        );
        shots.take(&c, "kiosk-shell-order-zh-1080x1920.png").await;
        screen(&c, &shots, LANDSCAPE).await;
        kiosk_page_ok(&c, "the order page, lying").await;
        shots.take(&c, "kiosk-shell-order-zh-1920x1080.png").await;
        screen(&c, &shots, PORTRAIT).await;

        // The citizen pays on the phone; the kiosk shows it by itself.
        onetrip::payments::simulate_customer_payment(&state.payments(), &order_no)
            .await
            .expect("paid on the phone");
        let receipt = text_until(&c, "#order-receipt", "the receipt number").await;
        path_is(&c, &order).await;
        assert!(!receipt.trim().is_empty());
        kiosk_page_ok(&c, "the paid order").await;
        shots
            .take(&c, "kiosk-shell-order-paid-zh-1080x1920.png")
            .await;
        click(&c, "#order-done").await;
        path_is(&c, "/kiosk/0001").await;
        c.back().await.expect("back");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            !body_text(&c).await.contains(&receipt),
            "Back does not bring the paid order back"
        );
    })
    .await;
}

/// The one form at the kiosk, one step at a time: the ID number typed on the keypad (with its
/// X), the phone number too, a passport, then submitted; the printed form is in the kiosk's
/// shell and Done wipes it home. Without script the same page shows the whole form.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kiosk_form_step_by_step_with_the_keypad() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = hall_app().await;
    // Without script: every section, no step hidden, the submit button in the form.
    let html = app
        .client()
        .get(app.url("/kiosk/0001/form"))
        .send()
        .await
        .expect("the form")
        .text()
        .await
        .expect("html");
    assert_eq!(html.matches("<fieldset").count(), 6, "six sections");
    assert!(
        !html.contains("<fieldset hidden"),
        "nothing hidden without script"
    );
    assert!(html.contains("id=\"submit-form\"") && html.contains("data-kiosk-steps"));
    assert!(html.contains("data-keypad=\"id\"") && html.contains("data-keypad=\"digits\""));
    assert!(!html.contains("class=\"masthead\""));
    // The public phone form is not the kiosk's.
    let phone = app
        .client()
        .get(app.url("/m/form"))
        .send()
        .await
        .expect("the phone form")
        .text()
        .await
        .expect("html");
    assert!(phone.contains("class=\"masthead\"") && !phone.contains("data-keypad"));

    let id = id_ending_in_x();
    let base = App {
        base: app.base.clone(),
    };
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, PORTRAIT).await;
        c.goto(&base.url("/kiosk/0001")).await.expect("home");
        click(&c, "#kiosk-form").await;
        path_is(&c, "/kiosk/0001/form").await;

        // Step 1: the applicant.
        let legend = one_step_shown(&c, 1, 6).await;
        assert!(legend.starts_with("申请人"), "{legend}");
        kiosk_page_ok(&c, "form step 1").await;
        keypad_is_up(&c, "f-id", "form step 1").await;
        // Nothing filled in: Next stays on the step.
        click(&c, "#step-next").await;
        one_step_shown(&c, 1, 6).await;
        type_into(&c, "#f-name", "王小明").await;
        // X only ends an ID number.
        let x_off = c
            .execute(
                "return document.querySelector('#f-id-keypad [data-key=X]').disabled;",
                vec![],
            )
            .await
            .expect("X?");
        assert_eq!(x_off, json!(true), "no X at the start of an ID number");
        keypad_type(&c, "f-id", &id).await;
        assert_eq!(value_of(&c, "#f-id").await, id, "typed on the keypad");
        type_into(&c, "#f-address", "示范市人民路 1 号").await;
        shots.take(&c, "kiosk-shell-form-1-zh-1080x1920.png").await;
        screen(&c, &shots, LANDSCAPE).await;
        one_step_shown(&c, 1, 6).await;
        kiosk_page_ok(&c, "form step 1, lying").await;
        shots.take(&c, "kiosk-shell-form-1-zh-1920x1080.png").await;
        screen(&c, &shots, PORTRAIT).await;

        // Step 2: the phone number, on its keypad.
        click(&c, "#step-next").await;
        let legend = one_step_shown(&c, 2, 6).await;
        assert_eq!(legend, "手机号码");
        keypad_is_up(&c, "f-phone", "form step 2").await;
        kiosk_page_ok(&c, "form step 2").await;
        keypad_type(&c, "f-phone", "13800138000").await;
        assert_eq!(value_of(&c, "#f-phone").await, "13800138000");
        shots.take(&c, "kiosk-shell-form-2-zh-1080x1920.png").await;

        // Step 3: the documents.
        click(&c, "#step-next").await;
        one_step_shown(&c, 3, 6).await;
        click(&c, "input[name=passport]").await;
        kiosk_page_ok(&c, "form step 3").await;
        shots.take(&c, "kiosk-shell-form-3-zh-1080x1920.png").await;
        // Back and forth keeps what was typed.
        click(&c, "#step-prev").await;
        one_step_shown(&c, 2, 6).await;
        assert_eq!(value_of(&c, "#f-phone").await, "13800138000");
        click(&c, "#step-next").await;
        one_step_shown(&c, 3, 6).await;

        // Steps 4 and 5 (guardian, state personnel) do not apply.
        click(&c, "#step-next").await;
        one_step_shown(&c, 4, 6).await;
        kiosk_page_ok(&c, "form step 4").await;
        click(&c, "#step-next").await;
        one_step_shown(&c, 5, 6).await;
        kiosk_page_ok(&c, "form step 5").await;
        click(&c, "#step-next").await;

        // Step 6: what was filled in, and the submit button.
        one_step_shown(&c, 6, 6).await;
        let summary = text_of(&c, "#form-summary").await;
        assert!(
            summary.contains("王小明")
                && summary.contains(&id)
                && summary.contains("13800138000")
                && summary.contains("护照"),
            "the summary: {summary}"
        );
        kiosk_page_ok(&c, "form step 6").await;
        shots.take(&c, "kiosk-shell-form-6-zh-1080x1920.png").await;
        screen(&c, &shots, LANDSCAPE).await;
        one_step_shown(&c, 6, 6).await;
        kiosk_page_ok(&c, "form step 6, lying").await;
        shots.take(&c, "kiosk-shell-form-6-zh-1920x1080.png").await;
        screen(&c, &shots, PORTRAIT).await;

        // Submitted: the printed form, in the kiosk's shell.
        click(&c, "#submit-form").await;
        path_where(&c, "the printed form", |p| p.starts_with("/forms/")).await;
        let number = text_of(&c, "#application-no").await;
        assert!(number.len() == 18 && number.chars().all(|ch| ch.is_ascii_digit()));
        assert!(
            !body_text(&c).await.contains(&id),
            "the ID number is masked"
        );
        kiosk_page_ok(&c, "the printed form").await;
        shots
            .take(&c, "kiosk-shell-form-printed-zh-1080x1920.png")
            .await;
        click(&c, "#form-done").await;
        path_is(&c, "/kiosk/0001").await;
        assert!(!body_text(&c).await.contains(&number));
    })
    .await;
}

/// The progress look-up at the kiosk: reached from the kiosk's home, only on an enrolled kiosk,
/// never stored; the numbers typed on the keypads, the result in the kiosk's shell.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kiosk_progress_in_the_kiosk_shell() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = hall_app().await;
    let site = app.site_id("0001").await;
    let officer = common::actor_at(site, &[Role::Officer]);
    let id = common::synthetic_id("19751120", 3);
    let no = common::accepted_at(
        &app,
        &officer,
        id.clone(),
        onetrip::catalog::TimeLimitClass::Normal,
    )
    .await;
    // Any other browser is refused; the kiosk's page is never stored.
    let res = app
        .client()
        .get(app.url("/kiosk/0001/progress"))
        .send()
        .await
        .expect("progress");
    assert_eq!(res.status(), 403);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let kiosk = common::kiosk_browser(&app, "0001", "大厅查询机").await;
    let res = kiosk
        .get(app.url("/kiosk/0001/progress"))
        .send()
        .await
        .expect("progress");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let home = kiosk
        .get(app.url("/kiosk/0001"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("html");
    assert!(
        home.contains("href=\"/kiosk/0001/progress\"") && !home.contains("href=\"/progress\""),
        "the kiosk's home leads to its own look-up"
    );

    let code = kiosk_code(&app, "大厅查询机 2").await;
    let base = App {
        base: app.base.clone(),
    };
    let id_number = id.as_str().to_string();
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, PORTRAIT).await;
        enrol(&c, &base.base, &code).await;
        c.goto(&base.url("/kiosk/0001")).await.expect("home");
        in_kiosk_shell(&c, "the kiosk's home", false).await;
        shots.take(&c, "kiosk-shell-home-zh-1080x1920.png").await;
        screen(&c, &shots, LANDSCAPE).await;
        shots.take(&c, "kiosk-shell-home-zh-1920x1080.png").await;
        screen(&c, &shots, PORTRAIT).await;
        click(&c, "#kiosk-progress").await;
        path_is(&c, "/kiosk/0001/progress").await;
        kiosk_page_ok(&c, "the progress look-up").await;
        // One keypad at a time: the number's, then the ID number's once that field is touched.
        keypad_is_up(&c, "progress-no", "the look-up").await;
        keypad_type(&c, "progress-no", no.as_str()).await;
        click(&c, "#progress-id").await;
        keypad_is_up(&c, "progress-id", "the look-up").await;
        let other_hidden = c
            .execute(
                "return document.getElementById('progress-no-keypad').hidden;",
                vec![],
            )
            .await
            .expect("hidden?");
        assert_eq!(other_hidden, json!(true), "one keypad at a time");
        keypad_type(&c, "progress-id", &id_number).await;
        shots
            .take(&c, "kiosk-shell-progress-zh-1080x1920.png")
            .await;
        screen(&c, &shots, LANDSCAPE).await;
        kiosk_page_ok(&c, "the progress look-up, lying").await;
        shots
            .take(&c, "kiosk-shell-progress-zh-1920x1080.png")
            .await;
        screen(&c, &shots, PORTRAIT).await;

        click(&c, "#progress-look-up").await;
        let found = text_of(&c, "#progress h2").await;
        assert!(found.contains(no.as_str()), "{found}");
        path_is(&c, "/kiosk/0001/progress").await;
        kiosk_page_ok(&c, "the progress found").await;
        assert!(
            c.find(Locator::Css(
                "#callbacks-choice form[action='/kiosk/0001/progress/decline-callbacks']"
            ))
            .await
            .is_ok(),
            "declining callbacks stays on the kiosk"
        );
        shots
            .take(&c, "kiosk-shell-progress-found-zh-1080x1920.png")
            .await;
        screen(&c, &shots, LANDSCAPE).await;
        kiosk_page_ok(&c, "the progress found, lying").await;
        shots
            .take(&c, "kiosk-shell-progress-found-zh-1920x1080.png")
            .await;
        screen(&c, &shots, PORTRAIT).await;
        click(&c, "#progress-done").await;
        path_is(&c, "/kiosk/0001").await;
        assert!(!body_text(&c).await.contains(no.as_str()));

        // In English, lying: the home's every action on the screen, none under the foot.
        screen(&c, &shots, LANDSCAPE).await;
        c.goto(&base.url("/kiosk/0001?lang=en"))
            .await
            .expect("home in English");
        in_kiosk_shell(&c, "the kiosk's home in English", false).await;
        let off = c
            .execute(
                "const foot = document.querySelector('.kiosk-nav').getBoundingClientRect().top;
                 return [...document.querySelectorAll('main button, main a')]
                   .filter(e => e.getBoundingClientRect().bottom > foot)
                   .map(e => e.textContent.trim());",
                vec![],
            )
            .await
            .expect("measure");
        shots.take(&c, "kiosk-shell-home-en-1920x1080.png").await;
        assert_eq!(off, json!([]), "actions hidden under the foot");
    })
    .await;
}
