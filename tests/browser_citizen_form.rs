//! The citizen's way from the service guide to a booking to the one form, and the one form on
//! a phone (390×844), in real headless Chromium: the guide's 预约 opens the booking on the
//! item's line, each line names the documents it covers, the confirmation offers the form for
//! the booked hall, and the phone form promises no card reader; a document's details open when
//! it is ticked, an endorsement without its permit ticks it (script) or is refused at the field
//! (server), the chosen endorsement keeps its type in view, in zh-CN and English.
//! Screenshots go to `target/screenshots/citizen-*.png`.

mod common;

use std::time::{Duration, Instant};

use common::browser::*;
use common::kiosk::screen;
use common::{Engine, TestApp, citizen};
use fantoccini::{Client, Locator};
use onetrip::clock::Clock;
use onetrip::config::Config;
use serde_json::json;

/// A Monday morning: bookings open for the coming days.
const MORNING: &str = "2026-03-02T10:00:00+08:00";

/// Where the application under test listens (the browser walk runs on a task of its own).
#[derive(Clone)]
struct App {
    base: String,
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

async fn app_at_morning() -> TestApp {
    TestApp::spawn_full(
        Engine::Sqlite,
        Config::default(),
        Clock::fixed(common::at(MORNING)),
    )
    .await
    .expect("sqlite app")
}

/// Runs `script` until it returns something other than `null` or `false` (at most 10 s).
async fn until(c: &Client, what: &str, script: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = c
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        if !v.is_null() && v != json!(false) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not the case within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the element `css` is rendered (not inside something hidden).
async fn shown(c: &Client, css: &str) -> bool {
    c.execute(
        "const e = document.querySelector(arguments[0]);
         if (!e) throw new Error('no ' + arguments[0]);
         return e.checkVisibility();",
        vec![json!(css)],
    )
    .await
    .unwrap_or_else(|e| panic!("is {css} shown: {e}"))
        == json!(true)
}

/// The text the closed list `css` shows: its chosen option.
async fn chosen_text(c: &Client, css: &str) -> String {
    c.execute(
        "const s = document.querySelector(arguments[0]);
         return s.selectedIndex < 0 ? '' : s.options[s.selectedIndex].text;",
        vec![json!(css)],
    )
    .await
    .expect("the chosen option")
    .as_str()
    .unwrap_or_default()
    .to_string()
}

async fn choose(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("choose {value} in {css}: {e}"));
    assert_eq!(value_of(c, css).await, value, "{css} shows {value}");
}

async fn checked(c: &Client, css: &str) -> bool {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .is_selected()
        .await
        .expect("checked?")
}

/// The phone form's page carries nothing of a card reader.
fn promises_no_reader(html_or_text: &str, what: &str) {
    for reader in [
        "读取身份证",
        "读卡",
        "read-card",
        "Read ID card",
        "read the ID card",
    ] {
        assert!(
            !html_or_text.contains(reader),
            "{what}: the phone form mentions a card reader ({reader})"
        );
    }
}

/// Item 7: the guide's 预约 → the booking on that line, each line naming its documents → a
/// booked time → the confirmation offers the form for that hall → the phone form, filled and
/// submitted, gives the application number to bring.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn from_the_guide_to_the_booking_to_the_form() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = app_at_morning().await;
    // Without script or a browser: the phone form says nothing of a reader, in either language.
    for path in ["/m/form", "/m/form?lang=en"] {
        let html = app
            .client()
            .get(app.url(path))
            .send()
            .await
            .expect("the phone form")
            .text()
            .await
            .expect("html");
        promises_no_reader(&html, path);
    }
    let base = App {
        base: app.base.clone(),
    };
    let id = citizen(71);
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, PHONE).await;

        // The guide: bookable items carry 预约, on the line that serves them.
        c.goto(&base.url("/guide")).await.expect("the guide");
        path_is(&c, "/guide").await;
        let renewal = "main li:has(> a[href='/guide/passport-renewal']) a.book";
        assert_eq!(text_of(&c, renewal).await, "预约");
        shots.take(&c, "citizen-guide-zh-390.png").await;
        click(&c, renewal).await;
        path_is(&c, "/appointments").await;
        query_has(&c, "line=renewal").await;
        assert_eq!(value_of(&c, "main select[name=line]").await, "renewal");
        // Each line's entry under the list chooses it too (a link: no script needed).
        click(&c, "#line-covers li[data-line=first_issue] a").await;
        query_has(&c, "line=first_issue").await;
        assert_eq!(value_of(&c, "main select[name=line]").await, "first_issue");
        assert_eq!(
            text_of(&c, "#line-covers li.chosen a").await,
            "首次申领 / 失效重新申领"
        );

        // From an item's own page: its 预约 opens the booking on the endorsement line.
        c.goto(&base.url("/guide")).await.expect("the guide");
        click(&c, "main a[href='/guide/hk-macao-permit-endorsement']").await;
        path_is(&c, "/guide/hk-macao-permit-endorsement").await;
        assert_eq!(text_of(&c, "#book").await, "预约");
        shots.take(&c, "citizen-guide-item-zh-390.png").await;
        click(&c, "#book").await;
        path_is(&c, "/appointments").await;
        query_has(&c, "line=endorsement").await;
        assert_eq!(value_of(&c, "main select[name=line]").await, "endorsement");
        assert_eq!(
            text_of(&c, "#line-covers li.chosen a").await,
            "再次签注",
            "the chosen line is marked among the choices"
        );
        // Each line choice names the documents it covers.
        for (line, covers) in [
            ("first_issue", "普通护照、往来港澳通行证、往来台湾通行证"),
            (
                "renewal",
                "普通护照、往来港澳通行证、往来台湾通行证（加注仅限普通护照）",
            ),
            ("endorsement", "往来港澳通行证、往来台湾通行证"),
            ("pickup", "已办好的各类证件"),
        ] {
            assert_eq!(
                text_of(&c, &format!("#line-covers li[data-line={line}] .covers")).await,
                covers,
                "what {line} covers"
            );
        }
        let lines = c
            .find_all(Locator::Css("main select[name=line] option"))
            .await
            .expect("the line choices");
        let entries = c
            .find_all(Locator::Css("#line-covers li"))
            .await
            .expect("what each covers");
        assert_eq!(
            lines.len(),
            entries.len(),
            "every choice names its documents"
        );
        shots.take(&c, "citizen-booking-line-zh-390.png").await;

        // A day, a time, who comes: booked.
        click(&c, "main .dates a:not([aria-current])").await;
        query_has(&c, "date=").await;
        assert_eq!(value_of(&c, "main select[name=line]").await, "endorsement");
        click(&c, "main .slots label.slot:not(.full)").await;
        type_into(&c, "main input[name=name]", "王签注").await;
        type_into(&c, "main input[name=id_number]", &id).await;
        type_into(&c, "main input[name=phone]", "13800138000").await;
        click(&c, "main form[method=post] button.primary").await;
        let path = path_where(&c, "the confirmation", |p| {
            p.starts_with("/appointments/") && p != "/appointments/manage"
        })
        .await;
        assert_eq!(text_of(&c, "main h1").await, "预约成功");
        assert!(path.len() > "/appointments/".len());

        // The confirmation offers the form in advance, for this hall and line.
        let offer = text_of(&c, "#form-ahead").await;
        assert!(
            offer.contains("提前填写申请表") && offer.contains("申请编号"),
            "{offer}"
        );
        let href = c
            .find(Locator::Css("#fill-form"))
            .await
            .expect("the form link")
            .attr("href")
            .await
            .expect("href")
            .unwrap_or_default();
        assert_eq!(href, "/m/form?site=0001&line=endorsement");
        assert_eq!(text_of(&c, "#fill-form").await, "在手机上填写申请表");
        shots.take(&c, "citizen-booking-confirmed-zh-390.png").await;

        // The phone form, for the booked hall, the permits set to an endorsement.
        click(&c, "#fill-form").await;
        path_is(&c, "/m/form").await;
        assert_eq!(value_of(&c, "select[name=site]").await, "0001");
        assert_eq!(
            value_of(&c, "select[name=hk_macao_permit_category]").await,
            "endorsement"
        );
        assert_eq!(
            value_of(&c, "select[name=passport_category]").await,
            "first_issue",
            "a document the line does not serve starts as usual"
        );
        promises_no_reader(
            &body_text(&c).await,
            "the phone form opened from the booking",
        );
        assert!(
            c.find(Locator::Css("#read-card")).await.is_err(),
            "no reader button on the phone"
        );
        assert!(text_of(&c, "#one-form legend").await.starts_with("申请人"));
        shots.take(&c, "citizen-form-from-booking-zh-390.png").await;

        // Filled in and sent: the application number to bring.
        type_into(&c, "#f-name", "王签注").await;
        type_into(&c, "#f-id", &id).await;
        type_into(&c, "#f-phone", "13800138000").await;
        type_into(&c, "#f-address", "示范市人民路 1 号").await;
        click(&c, "#f-hk_macao_permit").await;
        type_into(&c, "#f-hk_macao_permit_old_number", "C12345678").await;
        choose(
            &c,
            "select[name=hk_macao_permit_endorsement_1]",
            "hk-macao-t-3m-once",
        )
        .await;
        click(&c, "#submit-form").await;
        path_where(&c, "the printed form", |p| p.starts_with("/forms/")).await;
        let number = text_of(&c, "#application-no").await;
        assert!(
            number.len() == 18 && number.chars().all(|ch| ch.is_ascii_digit()),
            "an application number to bring: {number}"
        );
        let printed = text_of(&c, "main").await;
        assert!(printed.contains("往来港澳通行证"), "{printed}");
        shots.take(&c, "citizen-form-printed-zh-390.png").await;
    })
    .await;
}

/// What the server says to a form posted without script: an HK/Macao endorsement without the
/// permit, and no phone number.
async fn post_endorsement_without_permit(app: &TestApp, lang: &str) -> (u16, String) {
    let c = app.client();
    let token = app.csrf(&c, &format!("/m/form?lang={lang}")).await;
    let id = citizen(72);
    let res = c
        .post(app.url("/forms"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("site", "0001"),
            ("channel", "mobile"),
            ("name", "李表单"),
            ("id_number", id.as_str()),
            ("phone", ""),
            ("address", "示范市人民路 1 号"),
            ("passport", "on"),
            ("passport_category", "first_issue"),
            ("hk_macao_permit_category", "endorsement"),
            ("hk_macao_permit_endorsement_1", "hk-macao-t-3m-once"),
        ])
        .send()
        .await
        .expect("post the form");
    let status = res.status().as_u16();
    (status, res.text().await.expect("page"))
}

/// The element with `id` as the page has it (from its opening tag to the end of the line it
/// is on), to look at one field and what follows it.
fn element_of<'h>(html: &'h str, marker: &str) -> &'h str {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} on the page"));
    let rest = &html[start..];
    &rest[..rest.find('\n').unwrap_or(rest.len())]
}

/// Item 8: the one form on a phone — details open when ticked, an endorsement without its
/// permit ticked by script and refused at the field by the server, the chosen endorsement
/// naming its type, errors at the field and at the top; in zh-CN and English.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_one_form_on_the_phone() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = app_at_morning().await;

    // Without script: refused, each message at its field (tied by aria-describedby) and in the
    // summary at the top, and what was chosen still chosen.
    for (lang, says, phone_says) in [
        ("zh", "签注随通行证一并申请", "电话号码"),
        ("en", "An endorsement goes with its permit", "phone"),
    ] {
        let (status, html) = post_endorsement_without_permit(&app, lang).await;
        assert_eq!(status, 422, "{lang}: refused");
        let field = "hk_macao_permit_endorsement_1";
        let select = element_of(&html, &format!("<select name=\"{field}\""));
        assert!(
            select.contains(&format!("aria-describedby=\"{field}-error\""))
                && select.contains("aria-invalid=\"true\""),
            "{lang}: the list is tied to its message: {select}"
        );
        assert!(
            select.contains("value=\"hk-macao-t-3m-once\" selected"),
            "{lang}: the endorsement chosen stays chosen"
        );
        let message = element_of(&html, &format!("id=\"{field}-error\""));
        assert!(message.contains(says), "{lang}: at the field: {message}");
        let summary = element_of(&html, "<ul><li>");
        assert!(
            summary.contains(says) && summary.contains(&format!("href=\"#f-{field}\"")),
            "{lang}: in the summary, linking to the field: {summary}"
        );
        let phone = element_of(&html, "id=\"phone-error\"");
        assert!(
            phone.to_lowercase().contains(phone_says),
            "{lang}: every field to correct at once: {phone}"
        );
        assert!(summary.contains("href=\"#f-phone\""), "{summary}");
        // The section with the endorsement is kept open although its permit is not ticked.
        assert!(html.contains("class=\"doc-block doc-open\" data-doc=\"hk_macao_permit\""));
    }

    let base = App {
        base: app.base.clone(),
    };
    let id = citizen(73);
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, PHONE).await;
        c.goto(&base.url("/m/form?site=0001")).await.expect("the form");
        path_is(&c, "/m/form").await;

        // A document's details are hidden until it is ticked.
        for doc in ["passport", "hk_macao_permit", "taiwan_permit"] {
            assert!(
                !shown(&c, &format!("#{doc}-details")).await,
                "{doc}: details hidden until ticked"
            );
        }
        shots.take(&c, "citizen-form-closed-zh-390.png").await;
        click(&c, "#f-passport").await;
        assert!(shown(&c, "#passport-details").await, "ticked: it opens");
        assert!(!shown(&c, "#hk_macao_permit-details").await);

        // The permit ticked, an endorsement chosen: its type stays in view.
        click(&c, "#f-hk_macao_permit").await;
        assert!(shown(&c, "#hk_macao_permit-details").await);
        choose(
            &c,
            "#f-hk_macao_permit_endorsement_1",
            "hk-macao-t-3m-once",
        )
        .await;
        let chosen = chosen_text(&c, "#f-hk_macao_permit_endorsement_1").await;
        assert_eq!(chosen, "探亲 · 3个月一次", "the type shows with the option");
        assert!(shown(&c, "#f-hk_macao_permit_endorsement_1").await);
        shots.take(&c, "citizen-form-endorsement-zh-390.png").await;

        // Unticked with an endorsement still chosen: it stays open and says why.
        click(&c, "#f-hk_macao_permit").await;
        assert!(!checked(&c, "#f-hk_macao_permit").await);
        assert!(
            shown(&c, "#hk_macao_permit-details").await,
            "the chosen endorsement is not hidden away"
        );
        let note = text_of(&c, "#hk_macao_permit-note").await;
        assert!(
            note.contains("签注随“往来港澳通行证”一并申请") && note.contains("不申请"),
            "{note}"
        );
        shots.take(&c, "citizen-form-unticked-zh-390.png").await;

        // Sent like that (as without script): refused, at the field and at the top.
        type_into(&c, "#f-name", "李表单").await;
        type_into(&c, "#f-id", &id).await;
        type_into(&c, "#f-phone", "13800138000").await;
        type_into(&c, "#f-address", "示范市人民路 1 号").await;
        click(&c, "#submit-form").await;
        text_of(&c, "#form-error").await;
        let at_field = text_of(&c, "#hk_macao_permit_endorsement_1-error").await;
        assert!(at_field.contains("签注随通行证一并申请"), "{at_field}");
        assert!(text_of(&c, "#form-error").await.contains(&at_field));
        let described = c
            .find(Locator::Css("#f-hk_macao_permit_endorsement_1"))
            .await
            .expect("the list")
            .attr("aria-describedby")
            .await
            .expect("attr");
        assert_eq!(
            described.as_deref(),
            Some("hk_macao_permit_endorsement_1-error")
        );
        assert!(shown(&c, "#hk_macao_permit-details").await);
        assert_eq!(
            chosen_text(&c, "#f-hk_macao_permit_endorsement_1").await,
            "探亲 · 3个月一次",
            "still chosen, type and all, after the refusal"
        );
        assert!(checked(&c, "#f-passport").await && shown(&c, "#passport-details").await);
        assert_eq!(value_of(&c, "#f-name").await, "李表单");
        shots.take(&c, "citizen-form-refused-zh-390.png").await;

        // The summary's link goes to the field.
        click(&c, "#form-error a[href='#f-hk_macao_permit_endorsement_1']").await;
        until(
            &c,
            "the field in view",
            "const r = document.querySelector('#f-hk_macao_permit_endorsement_1').getBoundingClientRect();
             return r.top >= 0 && r.bottom <= window.innerHeight;",
        )
        .await;

        // Choosing an endorsement without the permit ticks it, and says so.
        choose(
            &c,
            "#f-hk_macao_permit_endorsement_2",
            "hk-macao-s-3m-once",
        )
        .await;
        assert!(
            checked(&c, "#f-hk_macao_permit").await,
            "the permit is ticked"
        );
        let note = text_of(&c, "#hk_macao_permit-note").await;
        assert!(note.contains("已为您勾选“往来港澳通行证”"), "{note}");
        // What the server said is put right: gone from the field and from the top.
        assert!(
            c.find(Locator::Css("#hk_macao_permit_endorsement_1-error"))
                .await
                .is_err(),
            "the message goes once the permit is ticked"
        );
        assert!(!shown(&c, "#form-error").await, "nothing left to correct");
        assert_eq!(
            chosen_text(&c, "#f-hk_macao_permit_endorsement_2").await,
            "商务 · 3个月一次"
        );
        shots.take(&c, "citizen-form-ticked-for-you-zh-390.png").await;
        // The category for an endorsement alone, the current permit's number: accepted.
        choose(&c, "#f-hk_macao_permit_category", "endorsement").await;
        type_into(&c, "#f-hk_macao_permit_old_number", "C12345678").await;
        click(&c, "#submit-form").await;
        path_where(&c, "the printed form", |p| p.starts_with("/forms/")).await;
        let printed = text_of(&c, "main").await;
        assert!(
            printed.contains("探亲") && printed.contains("商务"),
            "both endorsements on the form: {printed}"
        );

        // English: the same form, the same behaviour.
        c.goto(&base.url("/m/form?site=0001&lang=en"))
            .await
            .expect("the form in English");
        assert_eq!(html_lang(&c).await, "en");
        assert!(text_of(&c, "#one-form legend").await.starts_with("Applicant"));
        promises_no_reader(&body_text(&c).await, "the phone form in English");
        assert!(!shown(&c, "#taiwan_permit-details").await);
        click(&c, "#f-taiwan_permit").await;
        assert!(shown(&c, "#taiwan_permit-details").await);
        choose(&c, "#f-taiwan_permit_endorsement_1", "taiwan-l-6m-once").await;
        let chosen = chosen_text(&c, "#f-taiwan_permit_endorsement_1").await;
        assert_eq!(
            chosen, "Group tour · 6 months, single entry",
            "the type shows with the option"
        );
        // A phone's width cuts the list short: the whole choice is written under it.
        assert_eq!(
            text_of(&c, "#taiwan_permit_endorsement_1-chosen").await,
            "Group tour · 6 months, single entry"
        );
        click(&c, "#f-taiwan_permit").await;
        let note = text_of(&c, "#taiwan_permit-note").await;
        assert!(
            note.contains("An endorsement goes with the Taiwan permit"),
            "{note}"
        );
        shots.take(&c, "citizen-form-unticked-en-390.png").await;
        choose(&c, "#f-taiwan_permit_endorsement_2", "taiwan-t-6m-once").await;
        assert!(checked(&c, "#f-taiwan_permit").await);
        assert_eq!(
            chosen_text(&c, "#f-taiwan_permit_endorsement_2").await,
            "Family visit · 6 months, single entry"
        );
        let note = text_of(&c, "#taiwan_permit-note").await;
        assert!(note.contains("The Taiwan permit is now ticked"), "{note}");
        shots.take(&c, "citizen-form-ticked-for-you-en-390.png").await;
    })
    .await;
}
