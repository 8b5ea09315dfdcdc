//! The live hall in a real browser (issue 16): the duty leader's page, open at 1440×900,
//! follows a call made at a window without being reloaded.

mod common;

use common::browser::*;
use common::kiosk::{js_until, screen};
use common::{Engine, TestApp, at};
use onetrip::auth::Role;
use onetrip::clock::Clock;
use onetrip::config::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_live_hall_follows_a_call() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = TestApp::spawn_full(
        Engine::Sqlite,
        Config::default(),
        Clock::fixed(at("2026-12-03T09:00:00+08:00")),
    )
    .await
    .expect("sqlite app");
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .expect("read")
        .expect("hall");
    let first = common::walk_in(&app, &site, "first_issue").await;
    common::walk_in(&app, &site, "first_issue").await;
    let pw = app
        .staff("live.duty", vec![(Role::Leader, Some(site.id))])
        .await;
    let window = onetrip::sites::windows_of(app.state.db.reader(), site.id)
        .await
        .expect("windows")
        .into_iter()
        .find(|w| w.number == 1)
        .expect("window 1");
    let base = app.base.clone();
    let state = app.state.clone();
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, (1440, 900)).await;
        c.goto(&format!("{base}/login")).await.expect("login");
        sign_in(&c, "live.duty", &pw).await;
        c.goto(&format!("{base}/staff/leader/hall?site=0001"))
            .await
            .expect("the live hall");
        assert_eq!(text_of(&c, "#hall-waiting").await, "2");
        assert_eq!(text_of(&c, "#hall-open").await, "0");
        shots.take(&c, "hall-before-1440x900.png").await;

        // An officer opens window 1 and calls, elsewhere: the page follows by itself.
        let officer = common::actor_at(site.id, &[Role::Officer]);
        let ctx = state.queue();
        onetrip::queue::open_window(&ctx, &common::granted(&officer), &window)
            .await
            .expect("open");
        onetrip::queue::call_next(&ctx, &common::granted(&officer), &window)
            .await
            .expect("call")
            .expect("a ticket");
        js_until(
            &c,
            "the called ticket at window 1",
            &format!(
                "const s = document.querySelector('#hall-window-1 .serving');
                 return !!s && s.textContent.trim() === '{}';",
                first.number
            ),
        )
        .await;
        assert_eq!(text_of(&c, "#hall-waiting").await, "1");
        assert_eq!(text_of(&c, "#hall-open").await, "1");
        assert_eq!(sideways_overflow(&c).await, None);
        shots.take(&c, "hall-after-call-1440x900.png").await;
    })
    .await;
}
