//! The citizen's progress page on a phone (issue 18 item 6): at every stage it says what to do
//! next — a form not yet accepted, a fee to pay, a document being produced, one ready to
//! collect with where, when and what to bring — and the payment is a step of the timeline.

mod common;

use common::browser::*;
use common::kiosk::screen;
use common::{actor_at, at, synthetic_id};
use fantoccini::Client;
use onetrip::auth::Role;
use onetrip::catalog::TimeLimitClass;

/// Looks the application up as the citizen does and returns the next-step block's text.
async fn look_up(c: &Client, base: &str, no: &str, id: &str, lang: &str) -> String {
    c.goto(&format!("{base}/progress?lang={lang}"))
        .await
        .expect("the progress page");
    type_into(c, "main input[name=no]", no).await;
    type_into(c, "main input[name=id_number]", id).await;
    click(c, "main form[action='/progress'] button").await;
    text_of(c, "#next-step").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn progress_says_what_to_do_next_at_every_stage() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    // Monday 7 December 2026, 10:00: the hall is open until 17:30.
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
    // One citizen filled the form only; another was accepted.
    let waiting_id = synthetic_id("19920202", 3);
    let waiting = common::form_at(&app, waiting_id.clone()).await;
    let id = synthetic_id("19920202", 4);
    let no = common::accepted_at(&app, &staff, id.clone(), TimeLimitClass::Normal).await;
    let base = app.base.clone();
    let state = app.state.clone();
    // The app lives in the walk: the payment is made through it half-way.
    let (no_text, id_text) = (no.as_str().to_string(), id.as_str().to_string());
    let address = site.address_zh.clone();
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, PHONE).await;

        // Not accepted yet: come to a window, with where and when.
        let next = look_up(&c, &base, waiting.as_str(), waiting_id.as_str(), "zh").await;
        assert!(
            next.contains("尚未受理") && next.contains("到窗口") && next.contains(&address),
            "{next}"
        );
        assert!(next.contains("今天 08:30–12:00、13:30–17:30"), "{next}");

        // Accepted, the fee owed: pay.
        let next = look_up(&c, &base, &no_text, &id_text, "zh").await;
        assert!(next.contains("待缴费") && next.contains("180元"), "{next}");

        // Paid: the payment is a step; waiting for production, with the promised date.
        common::pay_cash(&app, hall, &no).await;
        let next = look_up(&c, &base, &no_text, &id_text, "zh").await;
        assert!(
            next.contains("审批制证中") && next.contains("承诺于2026年"),
            "{next}"
        );
        let timeline = text_of(&c, "#progress .timeline").await;
        assert!(timeline.contains("已缴费 180元"), "{timeline}");

        // Produced and in the cabinet: where, when and what to bring.
        let row = onetrip::applications::application_by_no(state.db.reader(), &no_text)
            .await
            .expect("q")
            .expect("application");
        common::kept(&app, &staff, row.id, &site, "C", ("E11112222", "CA1112222")).await;
        // Evening: the hall has closed for today, so the next opening is tomorrow's.
        clock.advance_ms(at("2026-12-07T18:00:00+08:00") - clock.now_ms());
        let next = look_up(&c, &base, &no_text, &id_text, "zh").await;
        for part in [
            "可领取",
            address.as_str(),
            "明天 08:30–12:00、13:30–17:30",
            "受理回执和本人居民身份证",
            "代领人和申请人的居民身份证",
        ] {
            assert!(next.contains(part), "{part} in {next}");
        }
        assert_eq!(sideways_overflow(&c).await, None);
        shots.take(&c, "progress-collect-zh-390.png").await;

        let next = look_up(&c, &base, &no_text, &id_text, "en").await;
        for part in [
            "Ready to collect",
            "tomorrow, 08:30–12:00 and 13:30–17:30",
            "acceptance receipt and your ID card",
        ] {
            assert!(next.contains(part), "{part} in {next}");
        }
        shots.take(&c, "progress-collect-en-390.png").await;
    })
    .await;
}
