//! The hall's wall display in a real browser (issue 18 item 10): at 1920×1080 and 3840×2160, in
//! zh-CN and English, it shows the date and a live clock, the last eight calls with the newest
//! first and biggest, who waits for which line, and the administrators' notices in its lower
//! third; readable from 10 m (the newest numbers at least 8 % of the screen's height, no text
//! under 2.5 %), never scrolling; the same state without script; a new call appears live.

mod common;

use common::browser::*;
use common::kiosk::{js_until, screen};
use common::{Engine, TestApp, actor_at, at};
use fantoccini::Client;
use onetrip::auth::Role;
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::queue::{self, TicketClass};
use serde_json::{Value, json};

/// A Monday morning in December: the hall has been calling since nine, one window a minute.
const MORNING: &str = "2026-12-07T09:00:00+08:00";
const FULL_HD: (u32, u32) = (1920, 1080);
const UHD: (u32, u32) = (3840, 2160);

/// Windows of the demo hall and a line each serves: one call at each, a minute apart; the last
/// at a two-digit window, the widest label beside the newest number.
const CALLED: [(i64, &str); 8] = [
    (1, "first_issue"),
    (2, "renewal"),
    (3, "endorsement"),
    (4, "first_issue"),
    (5, "foreigner"),
    (6, "hmt_resident"),
    (7, "renewal"),
    (11, "pickup"),
];

/// Tickets still waiting when the wall is opened, per line.
const WAITING: [(&str, i64); 4] = [
    ("first_issue", 5),
    ("renewal", 3),
    ("endorsement", 2),
    ("foreigner", 1),
];

/// Everything the checks need from the wall in one look: what it shows and how it is laid out.
const LOOK: &str = r#"
const ih = window.innerHeight, iw = document.documentElement.clientWidth;
const px = e => e ? parseFloat(getComputedStyle(e).fontSize) : 0;
const box = s => { const e = document.querySelector(s); if (!e) return null;
  const r = e.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, left: r.left, right: r.right }; };
const calls = [...document.querySelectorAll('#calls li')].map(li =>
  [li.querySelector('.num').textContent.trim(), li.querySelector('.win').textContent.trim()]);
const waiting = [...document.querySelectorAll('#waiting li')].map(li =>
  [li.dataset.line, li.querySelector('.prefix').textContent.trim(), li.querySelector('.name').textContent.trim(),
   Number(li.querySelector('strong').textContent.trim())]);
// Text a citizen can see: rendered, not faded out (the notice waiting for its turn).
const seen = e => {
  if (!e.getClientRects().length) return false;
  for (let x = e; x; x = x.parentElement) {
    const s = getComputedStyle(x);
    if (s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0) return false;
  }
  return true;
};
const texts = [];
for (const e of document.body.querySelectorAll('*')) {
  const own = [...e.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim())
    .map(n => n.textContent.trim()).join(' ');
  if (own && seen(e)) texts.push([px(e), e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' “' + own.slice(0, 20) + '”']);
}
texts.sort((a, b) => a[0] - b[0]);
const nums = [...document.querySelectorAll('#calls li .num')].map(px);
// Whatever lies below the main part's bottom edge would be painted over the notices.
const main = box('.display-main');
const spill = [...document.querySelectorAll('#calls li, #waiting li, .display-main h2')]
  .filter(e => e.getBoundingClientRect().bottom > main.bottom + 1)
  .map(e => e.textContent.trim().slice(0, 20));
const roll = document.getElementById('notices');
// Nothing sticks out of its box (a call's number or window beyond its frame, a line's count).
const out = [];
for (const e of document.querySelectorAll('#calls li, #waiting li, .display-head, .display-foot')) {
  const r = e.getBoundingClientRect();
  for (const k of e.querySelectorAll('*')) {
    const q = k.getBoundingClientRect();
    if (q.width && (q.left < r.left - 1 || q.right > r.right + 1))
      out.push(k.textContent.trim().slice(0, 20) + ' (' + Math.round(q.left) + '–' + Math.round(q.right)
        + ' in ' + Math.round(r.left) + '–' + Math.round(r.right) + ')');
  }
}
// Which notices show at moments of the roll's cycle: one at a time, never none.
const lis = [...roll.querySelectorAll('li')];
const anims = lis.flatMap(li => li.getAnimations());
const turns = [1000, 5000, 9000, 13000, 17000, 21000, 23000].map(t => {
  anims.forEach(a => { a.pause(); a.currentTime = t; });
  return lis.filter(li => Number(getComputedStyle(li).opacity) > 0.5).length;
});
anims.forEach(a => a.play());
window.scrollTo(0, 10000);
const scrolled = window.scrollY;
window.scrollTo(0, 0);
const h1 = document.querySelector('.display-head h1');
return {
  ih, iw, calls, waiting, nums, spill, scrolled, out, turns,
  date: document.getElementById('wall-date').textContent.trim(),
  time: document.getElementById('wall-time').textContent.trim(),
  datetime: document.getElementById('wall-time').getAttribute('datetime'),
  notices: [...roll.querySelectorAll('li')].map(li => li.textContent.trim()),
  notices_box: box('.display-foot'),
  notices_clipped: roll.scrollHeight > roll.clientHeight + 1,
  title_cut: h1.scrollWidth > h1.clientWidth + 1,
  scroll_height: document.documentElement.scrollHeight,
  smallest: texts[0] || null,
  small: texts.filter(t => t[0] < 0.025 * ih).map(t => t[1] + ': ' + t[0] + 'px'),
};
"#;

async fn look(c: &Client) -> Value {
    c.execute(LOOK, vec![]).await.expect("look at the wall")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_default()
}

/// The checks every view of the wall must pass: readable from 10 m, nothing off the screen,
/// the notices in the lower third.
fn readable(w: &Value, what: &str) {
    let ih = f(&w["ih"]);
    let nums: Vec<f64> = w["nums"]
        .as_array()
        .expect("numbers")
        .iter()
        .map(f)
        .collect();
    assert!(nums.len() >= 2, "{what}: at least two calls: {w}");
    assert!(
        nums[0] >= 0.08 * ih && nums[1] >= 0.08 * ih,
        "{what}: the two newest numbers at least 8 % of the height ({ih} px): {nums:?}"
    );
    assert!(
        nums[1..].iter().all(|n| nums[0] >= 2.0 * n),
        "{what}: the newest number the biggest by far: {nums:?}"
    );
    assert!(
        nums[1] > nums[2..].iter().copied().fold(0.0, f64::max),
        "{what}: the one before it bigger than older calls: {nums:?}"
    );
    fits(w, what);
}

/// The layout of any view of the wall, with calls or without: no text under 2.5 % of the
/// height, nothing out of its frame or off the screen, the notices in the lower third.
fn fits(w: &Value, what: &str) {
    let ih = f(&w["ih"]);
    assert_eq!(
        w["small"],
        json!([]),
        "{what}: no text under 2.5 % of the height ({} px); smallest {}",
        0.025 * ih,
        w["smallest"]
    );
    let foot = &w["notices_box"];
    assert!(
        f(&foot["top"]) >= 0.6 * ih && f(&foot["bottom"]) <= ih + 1.0,
        "{what}: the notices in the lower third: {foot} of {ih}"
    );
    assert_eq!(w["notices_clipped"], json!(false), "{what}: notices whole");
    assert_eq!(
        w["title_cut"],
        json!(false),
        "{what}: the hall's name whole"
    );
    assert_eq!(
        w["out"],
        json!([]),
        "{what}: nothing sticks out of its frame"
    );
    assert!(
        w["turns"]
            .as_array()
            .is_some_and(|t| t.iter().all(|n| *n == json!(1))),
        "{what}: one notice at a time, never none: {}",
        w["turns"]
    );
    assert_eq!(
        w["spill"],
        json!([]),
        "{what}: calls and waiting lines stay above the notices"
    );
    assert!(
        f(&w["scroll_height"]) <= ih + 1.0 && f(&w["scrolled"]) == 0.0,
        "{what}: the wall does not scroll: {} px of content, scrolled to {}",
        w["scroll_height"],
        w["scrolled"]
    );
}

/// The live clock: the fixed clock's day, and its time plus the seconds this test has run.
fn clock_shows(w: &Value, date: &str, what: &str) {
    assert_eq!(w["date"], json!(date), "{what}: the date");
    let time = w["time"].as_str().unwrap_or_default();
    let live = time.len() == 8
        && ["09:08:", "09:09:", "09:10:", "09:11:"]
            .iter()
            .any(|m| time.starts_with(m));
    assert!(
        live,
        "{what}: the hall's time with its seconds ticking: {time}"
    );
    assert!(
        w["datetime"]
            .as_str()
            .is_some_and(|d| d.starts_with("2026-12-07T09:")),
        "{what}: {}",
        w["datetime"]
    );
}

/// Opens the wall (its live link up) at `size`, in the language of `query`.
async fn open_wall(c: &Client, shots: &Shots, base: &str, query: &str, size: (u32, u32)) {
    screen(c, shots, size).await;
    c.goto(&format!("{base}/display/0001{query}"))
        .await
        .expect("open the wall");
    js_until(
        c,
        "the wall's live link is up",
        "return document.body.dataset.link === 'live';",
    )
    .await;
    // The fonts are in before anything is measured.
    js_until(
        c,
        "the fonts loaded",
        "return document.fonts.status === 'loaded';",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_wall_reads_from_ten_metres_and_follows_the_calls() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let app = TestApp::spawn_full(Engine::Sqlite, Config::default(), Clock::fixed(at(MORNING)))
        .await
        .expect("sqlite app");
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .expect("read")
        .expect("the hall");
    let windows = onetrip::sites::windows_of(app.state.db.reader(), site.id)
        .await
        .expect("the hall's windows");
    let window = |n: i64| {
        windows
            .iter()
            .find(|w| w.number == n)
            .unwrap_or_else(|| panic!("window {n}"))
            .clone()
    };
    let officer = actor_at(site.id, &[Role::Officer]);
    let ctx = app.state.queue();

    // Since nine: one call a minute at eight windows, each ticket still at its window.
    let mut called = Vec::new();
    for (n, line) in CALLED {
        common::walk_in(&app, &site, line).await;
        let w = window(n);
        queue::open_window(&ctx, &common::granted(&officer), &w)
            .await
            .expect("open");
        let t = queue::call_next(&ctx, &common::granted(&officer), &w)
            .await
            .expect("call")
            .expect("the ticket just issued");
        called.push((t.number, n));
        app.state.clock.advance_ms(60_000);
    }
    for (line, n) in WAITING {
        for _ in 0..n {
            common::walk_in(&app, &site, line).await;
        }
    }
    // A green-channel ticket for the live call at window 9 later (its line called first).
    queue::issue_ticket(
        &ctx,
        common::guide_desk(),
        &site,
        "green_channel",
        TicketClass::Green,
        Some("funeral"),
        None,
        "guide",
    )
    .await
    .expect("a green-channel ticket");
    queue::set_notices(
        &ctx,
        common::administrator(),
        &site,
        "今日 16:00 起系统维护，暂停自助签注，窗口照常受理 | From 16:00 today self-service \
         endorsement is paused for maintenance; windows serve as usual\n\
         请保管好随身物品，取号后留意叫号 | Keep your belongings with you and watch for your number",
    )
    .await
    .expect("the notices");

    // The newest first; 09:08 on the fixed clock when the wall opens.
    let newest_first: Vec<Value> = called
        .iter()
        .rev()
        .map(|(num, w)| json!([num, format!("{w} 号窗口")]))
        .collect();
    let newest_first_en: Vec<Value> = called
        .iter()
        .rev()
        .map(|(num, w)| json!([num, format!("Window {w}")]))
        .collect();
    let waiting_of = |w: &Value, line: &str| -> Value {
        w["waiting"]
            .as_array()
            .expect("waiting lines")
            .iter()
            .find(|l| l[0] == json!(line))
            .cloned()
            .unwrap_or_else(|| panic!("no waiting line {line}: {w}"))
    };

    // Without script, the first paint is the whole state.
    let html = app
        .client()
        .get(app.url("/display/0001"))
        .send()
        .await
        .expect("the wall's page")
        .text()
        .await
        .expect("html");
    for shown in [
        "2026年12月7日 星期一",
        ">09:08</time>",
        "<span class=\"num\">D001</span>",
        "再次签注",
        "<li>今日 16:00 起系统维护，暂停自助签注，窗口照常受理</li>",
        "http-equiv=\"refresh\"",
    ] {
        assert!(html.contains(shown), "the page carries {shown}: {html}");
    }

    let base = app.base.clone();
    let state = app.state.clone();
    let w9 = window(9);
    in_chromium(&binary, move |c, shots| async move {
        for (size, name) in [(FULL_HD, "1920x1080"), (UHD, "3840x2160")] {
            open_wall(&c, &shots, &base, "", size).await;
            let w = look(&c).await;
            let what = format!("zh {name}");
            assert_eq!(
                f(&w["ih"]),
                f64::from(size.1),
                "{what}: the screen's height"
            );
            clock_shows(&w, "2026年12月7日 星期一", &what);
            assert_eq!(w["calls"], json!(newest_first), "{what}: the calls");
            assert_eq!(
                waiting_of(&w, "first_issue"),
                json!(["first_issue", "A", "首次申领 / 失效重新申领", 5]),
                "{what}"
            );
            assert_eq!(waiting_of(&w, "renewal")[3], json!(3), "{what}");
            assert_eq!(waiting_of(&w, "endorsement")[3], json!(2), "{what}");
            assert_eq!(waiting_of(&w, "green_channel")[3], json!(1), "{what}");
            assert_eq!(waiting_of(&w, "pickup")[3], json!(0), "{what}");
            assert_eq!(
                w["notices"],
                json!([
                    "今日 16:00 起系统维护，暂停自助签注，窗口照常受理",
                    "请保管好随身物品，取号后留意叫号"
                ]),
                "{what}"
            );
            readable(&w, &what);
            println!(
                "{what}: newest number {} px, the one before {} px, smallest text {}",
                w["nums"][0], w["nums"][1], w["smallest"]
            );
            shots.take(&c, &format!("wall-zh-{name}.png")).await;
        }

        for (size, name) in [(FULL_HD, "1920x1080"), (UHD, "3840x2160")] {
            open_wall(&c, &shots, &base, "?lang=en", size).await;
            let w = look(&c).await;
            let what = format!("en {name}");
            clock_shows(&w, "Monday, 7 December 2026", &what);
            assert_eq!(w["calls"], json!(newest_first_en), "{what}: the calls");
            assert_eq!(
                waiting_of(&w, "first_issue"),
                json!(["first_issue", "A", "First issue / reissue after expiry", 5]),
                "{what}"
            );
            assert_eq!(
                w["notices"][1],
                json!("Keep your belongings with you and watch for your number"),
                "{what}"
            );
            readable(&w, &what);
            println!(
                "{what}: newest number {} px, the one before {} px, smallest text {}",
                w["nums"][0], w["nums"][1], w["smallest"]
            );
            shots.take(&c, &format!("wall-en-{name}.png")).await;
        }

        // Without script (a screen whose browser has it off): the same wall from the server,
        // the clock to the minute.
        shots
            .cdp(
                &c,
                "Emulation.setScriptExecutionDisabled",
                json!({ "value": true }),
            )
            .await
            .expect("script off");
        screen(&c, &shots, FULL_HD).await;
        c.goto(&format!("{base}/display/0001?lang=zh"))
            .await
            .expect("open the wall without script");
        let w = look(&c).await;
        assert_eq!(
            w["time"],
            json!("09:08"),
            "without script: the time of the page"
        );
        assert_eq!(w["date"], json!("2026年12月7日 星期一"), "without script");
        assert_eq!(w["calls"], json!(newest_first), "without script: the calls");
        assert_eq!(waiting_of(&w, "first_issue")[3], json!(5), "without script");
        readable(&w, "zh 1920x1080 without script");
        shots.take(&c, "wall-zh-1920x1080-noscript.png").await;
        shots
            .cdp(
                &c,
                "Emulation.setScriptExecutionDisabled",
                json!({ "value": false }),
            )
            .await
            .expect("script on");

        // A site that has called nobody yet says so, as large.
        open_wall(&c, &shots, &base, "?lang=zh", FULL_HD).await;
        c.goto(&format!("{base}/display/0002?lang=zh"))
            .await
            .expect("the extension point's wall");
        js_until(
            &c,
            "the extension point's wall is live",
            "return document.body.dataset.link === 'live';",
        )
        .await;
        let w = look(&c).await;
        assert_eq!(
            w["calls"],
            json!([]),
            "nobody called at the extension point"
        );
        fits(&w, "an empty wall");
        shots.take(&c, "wall-zh-1920x1080-empty.png").await;

        // A call made while the wall is open shows by itself, on top, without a reload (back
        // in Chinese: the English choice stuck to this browser).
        open_wall(&c, &shots, &base, "?lang=zh", FULL_HD).await;
        c.execute("window.onetripWall = 'first load'; return null;", vec![])
            .await
            .expect("mark the wall");
        queue::open_window(&state.queue(), &common::granted(&officer), &w9)
            .await
            .expect("open window 9");
        let green = queue::call_next(&state.queue(), &common::granted(&officer), &w9)
            .await
            .expect("call")
            .expect("the green-channel ticket");
        js_until(
            &c,
            "the new call on top of the wall",
            &format!(
                "const li = document.querySelector('#calls li');
                 return !!li && li.querySelector('.num').textContent.trim() === '{}'
                   && li.querySelector('.win').textContent.trim() === '9 号窗口';",
                green.number
            ),
        )
        .await;
        js_until(
            &c,
            "nobody waits for the green channel any more",
            "const n = document.querySelector('#waiting li[data-line=green_channel] strong');
             return !!n && n.textContent.trim() === '0';",
        )
        .await;
        let w = look(&c).await;
        let mut expected = vec![json!([green.number, "9 号窗口"])];
        expected.extend(newest_first.iter().take(7).cloned());
        assert_eq!(
            w["calls"],
            json!(expected),
            "the new call first, the one before it second, eight in all"
        );
        readable(&w, "zh 1920x1080 after a live call");
        assert_eq!(
            c.execute("return window.onetripWall || null;", vec![])
                .await
                .expect("read the mark"),
            json!("first load"),
            "the call came live, the wall was not reloaded"
        );
        shots.take(&c, "wall-zh-1920x1080-live.png").await;

        // The longest notice an administrator can enter (200 characters) still fits, whole.
        let longest: String = "出入境证件办理请提前预约，"
            .repeat(16)
            .chars()
            .take(200)
            .collect();
        queue::set_notices(&state.queue(), common::administrator(), &site, &longest)
            .await
            .expect("the longest notice");
        for (size, name) in [(UHD, "3840x2160"), (FULL_HD, "1920x1080")] {
            open_wall(&c, &shots, &base, "?lang=zh", size).await;
            let w = look(&c).await;
            assert_eq!(w["notices"], json!([longest]), "{name}");
            readable(&w, &format!("zh {name}, the longest notice"));
        }
        shots.take(&c, "wall-zh-1920x1080-long-notice.png").await;
    })
    .await;
}
