//! The browser harness: headless Chromium through chromedriver (WebDriver), screenshots in
//! `target/screenshots/` that must fit their window, and the small steps the walks are made of.
#![allow(dead_code)]

use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

pub const PHONE: (u32, u32) = (390, 844);
pub const HALL_SCREEN: (u32, u32) = (1920, 1080);

pub fn browser_required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("ONETRIP_REQUIRE_BROWSER").is_some()
}

/// The chromedriver to use, or `None` (with a note) when this run may skip browser tests.
pub fn chromedriver_or_skip() -> Option<PathBuf> {
    let found = find_chromedriver();
    if found.is_none() {
        assert!(
            !browser_required(),
            "the browser test is required (CI or ONETRIP_REQUIRE_BROWSER is set) but chromedriver \
             is not installed: install chromium and chromium-driver, or set CHROMEDRIVER"
        );
        eprintln!("note: chromedriver is not installed; skipping the browser test");
    }
    found
}

/// `CHROMEDRIVER`, else the first `chromedriver` on `PATH`.
pub fn find_chromedriver() -> Option<PathBuf> {
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// The chromedriver child process (and the browser it starts): killed when dropped, so a failing
/// assertion does not leave processes behind.
pub struct Chromedriver {
    pub child: Child,
    pub url: String,
}

impl Chromedriver {
    pub fn start(binary: &Path) -> Chromedriver {
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
    pub async fn wait_ready(&mut self) {
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

pub async fn connect(driver: &Chromedriver, profile: &Path) -> Client {
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
pub struct Shots {
    pub dir: PathBuf,
    pub driver_url: String,
    pub http: reqwest::Client,
    /// Pages that scroll sideways, checked at the end so every screenshot is still taken.
    pub overflowing: std::sync::Mutex<Vec<String>>,
}

impl Shots {
    pub fn new(driver_url: &str) -> Shots {
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
    pub async fn take(&self, c: &Client, name: &str) {
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

    /// Fails with every screenshotted page that scrolled sideways.
    pub fn assert_all_fit(&self) {
        let overflowing = self.overflowing.lock().unwrap().clone();
        assert!(
            overflowing.is_empty(),
            "pages wider than the window:\n{}",
            overflowing.join("\n")
        );
    }

    pub async fn full_page(&self, c: &Client) -> Option<Vec<u8>> {
        let shot = self
            .cdp(
                c,
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true }),
            )
            .await?;
        base64_decode(shot["data"].as_str()?)
    }

    /// A DevTools command on the current page through chromedriver's bridge, and its result
    /// (`None` when the bridge is not there or the command failed).
    pub async fn cdp(
        &self,
        c: &Client,
        cmd: &str,
        params: serde_json::Value,
    ) -> Option<serde_json::Value> {
        let session = c.session_id().await.ok()??;
        let res = self
            .http
            .post(format!(
                "{}/session/{session}/goog/cdp/execute",
                self.driver_url
            ))
            .json(&json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .ok()?;
        if !res.status().is_success() {
            return None;
        }
        let body: serde_json::Value = res.json().await.ok()?;
        Some(body["value"].clone())
    }
}

/// Standard base64 (the screenshot data of the DevTools protocol), without a crate for it.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
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

pub async fn text_of(c: &Client, css: &str) -> String {
    // A page still loading after a click can replace the element between finding it and
    // reading it (a stale reference): found again then, for as long as the wait allows.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let element = c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"));
        match element.text().await {
            Ok(text) => return text,
            Err(e) if std::time::Instant::now() < until => {
                eprintln!("{css} changed while read ({e}); reading it again");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("element text of {css}: {e}"),
        }
    }
}

pub async fn body_text(c: &Client) -> String {
    text_of(c, "body").await
}

pub async fn path_is(c: &Client, expected: &str) {
    path_where(c, expected, |p| p == expected).await;
}

/// Waits until the path of the current page passes `ok` (`what` names it for the failure), and
/// returns it.
pub async fn path_where(c: &Client, what: &str, ok: impl Fn(&str) -> bool) -> String {
    path_within(c, what, 10, ok).await
}

/// Waits up to `secs` until the current path passes `ok` (an idle kiosk wiping itself) and
/// returns it.
pub async fn path_within(c: &Client, what: &str, secs: u64, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let url = c.current_url().await.expect("current url");
        if ok(url.path()) {
            return url.path().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "expected to be on {what} within {secs} s, still on {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the query string of the current page contains `part`.
pub async fn query_has(c: &Client, part: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = c.current_url().await.expect("current url");
        if url.query().is_some_and(|q| q.contains(part)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "expected {part} in the address, still on {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The natural width of the image `css` once the browser has finished loading it (0 when it
/// could not be loaded or decoded).
pub async fn loaded_image_width(c: &Client, css: &str) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let width = c
            .execute(
                "const img = document.querySelector(arguments[0]);
                 if (!img) return -2;
                 return img.complete ? img.naturalWidth : -1;",
                vec![json!(css)],
            )
            .await
            .expect("measure the image")
            .as_i64()
            .expect("a number");
        assert_ne!(width, -2, "no {css} on the page");
        if width >= 0 {
            return width;
        }
        assert!(
            Instant::now() < deadline,
            "{css} did not finish loading within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn html_lang(c: &Client) -> String {
    c.find(Locator::Css("html"))
        .await
        .expect("html element")
        .attr("lang")
        .await
        .expect("lang attribute")
        .unwrap_or_default()
}

/// `zh` or `en`, whichever is the language of the page shown (by its `<html lang>`).
pub async fn in_page_lang(c: &Client, zh: &'static str, en: &'static str) -> &'static str {
    if html_lang(c).await == "en" { en } else { zh }
}

/// Waits for the element and clicks it. The page is marked first, so [`flow_message`] can
/// tell the page the click leads to from the one it was made on.
pub async fn click(c: &Client, css: &str) {
    mark_page(c).await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} to click: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Clicks a form's submit button and waits for the page the form leads to. A plain [`click`]
/// returns as soon as the click is made; an element both pages carry (a flash message) could
/// then still be read from the old one.
pub async fn submit(c: &Client, css: &str) {
    click(c, css).await;
    new_page(c, &format!("the page after {css}")).await;
}

/// Waits until the page marked by [`mark_page`] (as [`click`] does) has been replaced by the
/// next one, loaded.
pub async fn new_page(c: &Client, what: &str) {
    super::kiosk::js_until(
        c,
        what,
        "return !window.onetripOldPage && document.readyState === 'complete';",
    )
    .await;
}

/// Waits for the input and types into it, like a person at the keyboard.
pub async fn type_into(c: &Client, css: &str, text: &str) {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} to type into: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// The current value of an input.
pub async fn value_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .prop("value")
        .await
        .expect("value property")
        .unwrap_or_default()
}

/// Signs in through the form of `/login` (the current page), then waits for the workstation.
pub async fn sign_in(c: &Client, username: &str, password: &str) {
    type_into(c, "main form input[name=username]", username).await;
    type_into(c, "main form input[name=password]", password).await;
    click(c, "main form button").await;
    path_is(c, "/staff").await;
}

/// Signs out with the button in the header: back home as a citizen.
pub async fn sign_out(c: &Client) {
    click(c, "header form[action='/logout'] button").await;
    path_is(c, "/").await;
}

pub async fn click_lang_switch(c: &Client, expect_label: &str) {
    let switch = c
        .find(Locator::Css("a.lang-switch"))
        .await
        .expect("the language switch");
    assert_eq!(switch.text().await.expect("label"), expect_label);
    switch.click().await.expect("click the language switch");
}

/// Whether the page is wider than the window (forcing sideways scrolling), and if so the
/// outermost elements that stick out.
pub async fn sideways_overflow(c: &Client) -> Option<String> {
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
/// Runs `walk` in a fresh Chromium session of its own (its own chromedriver and profile), on
/// a task of its own so the browser is closed even when an assertion fails, within 3 minutes;
/// then checks that every screenshotted page fitted its window.
/// At most two browsers at once: on a 2-core machine more make live-update waits time out
/// for reasons that have nothing to do with the pages.
pub static BROWSERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

pub async fn in_chromium<F, Fut>(binary: &Path, walk: F)
where
    F: FnOnce(Client, Arc<Shots>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let _turn = BROWSERS.acquire().await.expect("browser semaphore");
    let profile = tempfile::tempdir().expect("browser profile dir");
    let mut driver = Chromedriver::start(binary);
    driver.wait_ready().await;
    let client = connect(&driver, profile.path()).await;
    let shots = Arc::new(Shots::new(&driver.url));
    let walking = walk(client.clone(), shots.clone());
    let walked = tokio::spawn(async move {
        tokio::time::timeout(Duration::from_secs(180), walking)
            .await
            .expect("the browser walk finished within 3 minutes")
    })
    .await;
    let _ = client.close().await;
    drop(driver);
    match walked {
        Ok(()) => {}
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("the browser walk did not finish: {e}"),
    }
    shots.assert_all_fit();
}

/// Marks the page shown, so that `flow_message_after` can tell when the next one is there.
pub async fn mark_page(c: &Client) {
    c.execute("window.onetripOldPage = true; return null;", vec![])
        .await
        .expect("mark the page");
}
