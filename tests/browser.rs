//! End to end in a real browser: headless Chromium driven through chromedriver (WebDriver).
//!
//! Walks the pages a citizen and an administrator see, asserts on what the browser shows, and
//! leaves screenshots in `target/screenshots/` for a person to look at: public pages in Chinese
//! and English, sign-in, the workstation and administration at phone width (390x844), then
//! the audit log, staff list, home and a guide page on the 1920x1080 hall screen. Every page
//! screenshotted must also fit its window (no sideways scrolling).
//!
//! Needs `chromedriver` on `PATH` (or `CHROMEDRIVER=/path`) and a Chromium/Chrome it can drive.
//! Without it the test is skipped with a note, unless `CI` or `ONETRIP_REQUIRE_BROWSER` is set,
//! in which case it fails.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Engine, TestApp};
use fantoccini::{Client, ClientBuilder, Locator};
use onetrip::auth::Role;
use serde_json::json;

const PHONE: (u32, u32) = (390, 844);
const HALL_SCREEN: (u32, u32) = (1920, 1080);

fn browser_required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("ONETRIP_REQUIRE_BROWSER").is_some()
}

/// `CHROMEDRIVER`, else the first `chromedriver` on `PATH`.
fn find_chromedriver() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMEDRIVER").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromedriver"))
            .find(|p| p.is_file())
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// The chromedriver child process (and the browser it starts): killed when dropped, so a failing
/// assertion does not leave processes behind.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    fn start(binary: &Path) -> Chromedriver {
        let port = free_port();
        let mut cmd = Command::new(binary);
        cmd.arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so the browser processes it starts can be ended with it.
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits until chromedriver answers `/status` with `ready: true`.
    async fn wait_ready(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited early with {status}");
            }
            if let Ok(res) = http.get(format!("{}/status", self.url)).send().await
                && let Ok(body) = res.json::<serde_json::Value>().await
                && body["value"]["ready"] == json!(true)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {} within 30 s",
                self.url
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            // The whole group: chromedriver and the Chromium it started (ids are ours).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(driver: &Chromedriver, profile: &Path) -> Client {
    let mut args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        format!("--user-data-dir={}", profile.display()),
        format!("--window-size={},{}", PHONE.0, PHONE.1),
        // Phones overlay their scrollbars: the page gets the full 390 px, and full-page
        // screenshots are not clipped by a scrollbar's width.
        "--hide-scrollbars".into(),
        // A browser set up in China: the site must speak Chinese to it without being asked.
        "--lang=zh-CN".into(),
    ];
    args.dedup();
    let mut chrome = json!({
        "args": args,
        "prefs": { "intl.accept_languages": "zh-CN,zh" },
    });
    if Path::new("/usr/bin/chromium").is_file() {
        chrome["binary"] = json!("/usr/bin/chromium");
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), chrome);
    ClientBuilder::rustls()
        .expect("rustls connector")
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session in Chromium")
}

/// Screenshots of one run, written under `target/screenshots/`.
struct Shots {
    dir: PathBuf,
    driver_url: String,
    http: reqwest::Client,
    /// Pages that scroll sideways, checked at the end so every screenshot is still taken.
    overflowing: std::sync::Mutex<Vec<String>>,
}

impl Shots {
    fn new(driver_url: &str) -> Shots {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("create target/screenshots");
        Shots {
            dir,
            driver_url: driver_url.to_string(),
            http: reqwest::Client::new(),
            overflowing: Default::default(),
        }
    }

    /// The whole page at the current width (through chromedriver's DevTools bridge), or the
    /// visible part when that bridge is not there; notes the page if it scrolls sideways.
    async fn take(&self, c: &Client, name: &str) {
        if let Some(problem) = sideways_overflow(c).await {
            self.overflowing
                .lock()
                .unwrap()
                .push(format!("{name}: {problem}"));
        }
        let png = match self.full_page(c).await {
            Some(png) => png,
            None => c.screenshot().await.expect("screenshot"),
        };
        assert!(
            png.starts_with(b"\x89PNG"),
            "{name}: the screenshot is a PNG"
        );
        let path = self.dir.join(name);
        std::fs::write(&path, png).expect("write screenshot");
        println!("screenshot: {}", path.display());
    }

    async fn full_page(&self, c: &Client) -> Option<Vec<u8>> {
        let session = c.session_id().await.ok()??;
        let res = self
            .http
            .post(format!(
                "{}/session/{session}/goog/cdp/execute",
                self.driver_url
            ))
            .json(&json!({
                "cmd": "Page.captureScreenshot",
                "params": { "format": "png", "captureBeyondViewport": true },
            }))
            .send()
            .await
            .ok()?;
        if !res.status().is_success() {
            return None;
        }
        let body: serde_json::Value = res.json().await.ok()?;
        base64_decode(body["value"]["data"].as_str()?)
    }
}

/// Standard base64 (the screenshot data of the DevTools protocol), without a crate for it.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .text()
        .await
        .expect("element text")
}

async fn body_text(c: &Client) -> String {
    text_of(c, "body").await
}

async fn path_is(c: &Client, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = c.current_url().await.expect("current url");
        if url.path() == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "expected to be on {expected}, still on {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn html_lang(c: &Client) -> String {
    c.find(Locator::Css("html"))
        .await
        .expect("html element")
        .attr("lang")
        .await
        .expect("lang attribute")
        .unwrap_or_default()
}

async fn click_lang_switch(c: &Client, expect_label: &str) {
    let switch = c
        .find(Locator::Css("a.lang-switch"))
        .await
        .expect("the language switch");
    assert_eq!(switch.text().await.expect("label"), expect_label);
    switch.click().await.expect("click the language switch");
}

/// Whether the page is wider than the window (forcing sideways scrolling), and if so the
/// outermost elements that stick out.
async fn sideways_overflow(c: &Client) -> Option<String> {
    let found = c
        .execute(
            r#"const root = document.documentElement, w = root.clientWidth;
               if (root.scrollWidth <= w + 1) return null;
               const out = [];
               for (const e of document.querySelectorAll('body *')) {
                 const r = e.getBoundingClientRect();
                 if (r.right > w + 1 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > w + 1)) {
                   out.push(e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' (' + Math.round(r.right) + 'px)');
                 }
               }
               return root.scrollWidth + 'px wide in a ' + w + 'px window; sticking out: ' + out.slice(0, 8).join(', ');"#,
            vec![],
        )
        .await
        .expect("measure the page");
    found.as_str().map(str::to_owned)
}

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
    let user = c
        .find(Locator::Css("form input[name=username]"))
        .await
        .expect("username input");
    user.send_keys("browser.admin")
        .await
        .expect("type username");
    c.find(Locator::Css("form input[name=password]"))
        .await
        .expect("password input")
        .send_keys(password)
        .await
        .expect("type password");
    c.find(Locator::Css("main form button"))
        .await
        .expect("sign-in button")
        .click()
        .await
        .expect("click sign in");
    path_is(c, "/staff").await;
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
    c.find(Locator::Css("header form[action='/logout'] button"))
        .await
        .expect("the sign-out button")
        .click()
        .await
        .expect("click sign out");
    path_is(c, "/").await;
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

    let overflowing = shots.overflowing.lock().unwrap().clone();
    assert!(
        overflowing.is_empty(),
        "pages wider than the window:\n{}",
        overflowing.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn citizen_and_admin_pages_in_chromium() {
    let Some(binary) = find_chromedriver() else {
        assert!(
            !browser_required(),
            "the browser test is required (CI or ONETRIP_REQUIRE_BROWSER is set) but chromedriver \
             is not installed: install chromium and chromium-driver, or set CHROMEDRIVER"
        );
        eprintln!("note: chromedriver is not installed; skipping the browser test");
        return;
    };
    let app = TestApp::spawn(Engine::Sqlite).await.expect("sqlite app");
    let password = app.staff("browser.admin", vec![(Role::Admin, None)]).await;

    let profile = tempfile::tempdir().expect("browser profile dir");
    let mut driver = Chromedriver::start(&binary);
    driver.wait_ready().await;
    let client = connect(&driver, profile.path()).await;
    let shots = Shots::new(&driver.url);

    // On its own task, so the browser session is closed even when an assertion fails.
    let walker = {
        let (c, site) = (
            client.clone(),
            App {
                base: app.base.clone(),
            },
        );
        tokio::spawn(async move {
            tokio::time::timeout(Duration::from_secs(180), walk(&site, &c, &shots, &password))
                .await
                .expect("the browser walk finished within 3 minutes")
        })
    };
    let walked = walker.await;
    let _ = client.close().await;
    drop(driver);
    match walked {
        Ok(()) => {}
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("the browser walk did not finish: {e}"),
    }
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
