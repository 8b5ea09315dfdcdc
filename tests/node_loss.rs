//! Losing a node (issue 17, R15): two `onetrip serve` processes on one PostgreSQL database
//! behind HAProxy. Windows call and hall displays listen through the proxy; one node is lost
//! while they do — killed (SIGKILL), or frozen (SIGSTOP: it holds its connections and answers
//! nothing, as a hung machine or a cut network). The windows' next calls go through the other
//! node, and every display — those whose stream ran through the lost node reconnect with
//! `Last-Event-ID` — sees every call made, before and after the loss, exactly once and in the
//! order made. The gaps are measured and printed (docs/OPERATIONS.md, "Losing a node").
//!
//! Needs `ONETRIP_TEST_PG` and `haproxy` (scripts/test installs it); skipped with a note
//! without them, unless PostgreSQL is required (`CI`, `ONETRIP_REQUIRE_PG`).

mod common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use onetrip::auth::{self, Actor, NewStaff, Role, RoleGrant};
use onetrip::clock::Clock;
use onetrip::db::{Db, DbOptions};
use onetrip::sites::WindowKind;

/// Every node of a deployment shares one personal-data key.
const KEY: &str = "6f6e65207472697020666f72206576657279206e6f6465206f66207468652068";
const DISPLAYS: usize = 5;
const WINDOWS: usize = 3;
const TICKETS: usize = 400;
/// How long windows call before the loss, and after it.
const BEFORE: Duration = Duration::from_secs(2);
const AFTER: Duration = Duration::from_secs(5);
/// What "within seconds" means here.
const BOUND: Duration = Duration::from_secs(5);

/// A child process killed when the test ends, however it ends.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A database of its own for the two nodes, dropped at the end.
struct ScratchDb {
    admin_url: String,
    name: String,
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside the test's runtime: a small runtime of its own on another thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(db) = Db::connect(&url, &options(1)).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(db.reader())
                    .await;
                    db.close().await;
                }
            });
        })
        .join();
    }
}

fn options(max_connections: u32) -> DbOptions {
    DbOptions {
        max_connections,
        ..DbOptions::default()
    }
}

/// `url` with its database name replaced by `name` (keeping any `?…` options).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let head = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .map_or(base, |i| &base[..i]);
    match query {
        Some(q) => format!("{head}/{name}?{q}"),
        None => format!("{head}/{name}"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn find_haproxy() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d| d.join("haproxy"))
        .find(|p| p.is_file())
}

/// Starts one node on `url`, logging to `dir/node-<name>.log`.
fn start_node(name: &str, url: &str, port: u16, dir: &std::path::Path) -> Proc {
    let state = dir.join(format!("state-{name}"));
    std::fs::create_dir_all(&state).expect("state dir");
    let log = std::fs::File::create(dir.join(format!("node-{name}.log"))).expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_onetrip"))
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("ONETRIP_LISTEN", format!("127.0.0.1:{port}"))
        .env("ONETRIP_STATE_DIR", &state)
        .env(
            "ONETRIP_DATA_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/data"),
        )
        .env("ONETRIP_SECRET_KEY", KEY)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start onetrip");
    Proc(child)
}

/// The proxy's configuration: what docs/OPERATIONS.md shows.
fn haproxy_config(port: u16, nodes: &[(&str, u16)]) -> String {
    let servers: String = nodes
        .iter()
        .map(|(name, p)| format!("    server {name} 127.0.0.1:{p} check\n"))
        .collect();
    format!(
        r#"global
    maxconn 2000

defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s
    timeout check 500ms
    retries 3
    option redispatch 1
    option http-no-delay

frontend hall
    bind 127.0.0.1:{port}
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 200ms fastinter 100ms downinter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
    http-response set-header X-Node %s
{servers}"#
    )
}

/// Waits until `base` answers `/healthz`; fails at once when `process` has ended.
async fn wait_healthy(base: &str, what: &str, mut process: Option<&mut Proc>) {
    let c = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = c.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        if let Some(p) = process.as_mut()
            && let Ok(Some(status)) = p.0.try_wait()
        {
            panic!("{what} ended at start ({status}); see its log");
        }
        assert!(Instant::now() < deadline, "{what} did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A call as a display received it.
#[derive(Debug, Clone)]
struct Seen {
    id: i64,
    number: String,
    window: i64,
    at: Instant,
    /// The same moment on the wall clock (epoch ms), to compare with when the call was made.
    at_ms: i64,
}

#[derive(Debug, Default)]
struct DisplayLog {
    calls: Vec<Seen>,
    /// When each stream opened, and which node served it.
    opened: Vec<(Instant, String)>,
    /// When a stream ended or failed.
    lost: Vec<Instant>,
}

/// A display as a browser's EventSource runs it: reads `id:`, `event:`, `data:` and `retry:`,
/// and on a lost stream waits `retry` and reconnects with `Last-Event-ID`.
async fn display(
    proxy: String,
    log: Arc<Mutex<DisplayLog>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let mut last_id: Option<String> = None;
    // The browsers' default until the server says otherwise.
    let mut retry = Duration::from_secs(3);
    while !*stop.borrow() {
        let mut req = client.get(format!("{proxy}/display/0001/events"));
        if let Some(id) = &last_id {
            req = req.header("Last-Event-ID", id);
        }
        let res = tokio::select! {
            r = req.send() => r,
            _ = stop.changed() => return,
        };
        match res {
            Ok(mut res) if res.status() == 200 => {
                let node = res
                    .headers()
                    .get("x-node")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("?")
                    .to_string();
                log.lock().expect("log").opened.push((Instant::now(), node));
                let mut buf = String::new();
                let (mut id, mut event, mut data) = (None::<String>, String::new(), String::new());
                loop {
                    let chunk = tokio::select! {
                        c = res.chunk() => c,
                        _ = stop.changed() => return,
                    };
                    let Ok(Some(chunk)) = chunk else { break };
                    buf.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buf.find('\n') {
                        let line = buf[..end].trim_end_matches('\r').to_string();
                        buf.drain(..=end);
                        if line.is_empty() {
                            // The event is complete: dispatch it.
                            if let Some(i) = id.take() {
                                last_id = Some(i);
                            }
                            if event == "call" {
                                let v: serde_json::Value =
                                    serde_json::from_str(&data).expect("call data is JSON");
                                let seen = Seen {
                                    id: last_id
                                        .as_deref()
                                        .and_then(|i| i.parse().ok())
                                        .expect("a call has a numeric id"),
                                    number: v["number"].as_str().expect("number").to_string(),
                                    window: v["window"].as_i64().expect("window"),
                                    at: Instant::now(),
                                    at_ms: Clock::system().now_ms(),
                                };
                                assert_eq!(v["id"].as_i64(), Some(seen.id), "{data}");
                                log.lock().expect("log").calls.push(seen);
                            }
                            event.clear();
                            data.clear();
                        } else if let Some(v) = line.strip_prefix("id:") {
                            id = Some(v.trim_start().to_string());
                        } else if let Some(v) = line.strip_prefix("event:") {
                            event = v.trim_start().to_string();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.trim_start());
                        } else if let Some(v) = line.strip_prefix("retry:")
                            && let Ok(ms) = v.trim().parse::<u64>()
                        {
                            retry = Duration::from_millis(ms);
                        }
                    }
                }
            }
            // Refused or not a stream: a browser would wait and try again the same way.
            Ok(_) | Err(_) => {}
        }
        log.lock().expect("log").lost.push(Instant::now());
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = stop.changed() => return,
        }
    }
}

#[derive(Debug, Default)]
struct WindowLog {
    /// When each call-next answered with a called ticket.
    calls: Vec<Instant>,
    /// Requests that failed (no answer, or the proxy's 502/503).
    failures: usize,
}

/// An officer at a window, through the proxy: call the next ticket, now and then call it again,
/// finish it, call the next. A request lost with its node is tried again; a call whose answer
/// was lost shows as the window being busy, and is finished like any other.
async fn window(
    proxy: String,
    client: reqwest::Client,
    csrf: String,
    window_id: i64,
    log: Arc<Mutex<WindowLog>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    let action = |body: serde_json::Value| {
        client
            .post(format!("{proxy}/api/v1/windows/{window_id}/actions"))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    let mut n = 0u32;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let res = client
            .post(format!("{proxy}/api/v1/windows/{window_id}/call-next"))
            .header("x-csrf-token", &csrf)
            .send()
            .await;
        let busy = match res {
            Ok(r) if r.status() == 200 => {
                let t: serde_json::Value = r.json().await.unwrap_or(serde_json::Value::Null);
                if t.is_null() {
                    panic!("the queue ran dry: issue more tickets");
                }
                log.lock().expect("log").calls.push(Instant::now());
                n += 1;
                if n.is_multiple_of(4) {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    // A recall is a call too; if its answer is lost, so be it (the record says).
                    let _ = action(serde_json::json!({"action": "recall"})).await;
                }
                true
            }
            Ok(r) if r.status() == 409 => true,
            Ok(r) => {
                assert!(
                    r.status().is_server_error(),
                    "call-next: {} {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                );
                false
            }
            Err(_) => false,
        };
        if !busy {
            log.lock().expect("log").failures += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        // Serving takes a moment; then the window is free again.
        tokio::time::sleep(Duration::from_millis(60)).await;
        loop {
            match action(serde_json::json!({"action": "finish"})).await {
                // Finished now, or before an answer that was lost.
                Ok(r) if r.status() == 200 || r.status() == 422 => break,
                Ok(r) if !r.status().is_server_error() => {
                    panic!(
                        "finish: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )
                }
                _ => {
                    log.lock().expect("log").failures += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

/// A window officer with a known password.
async fn officer(db: &Db, clock: &Clock, username: &str, site_id: i64) -> String {
    let system = Actor::system();
    let created = auth::create_staff(
        db,
        clock,
        system.any_admin().expect("system admin"),
        NewStaff {
            username: username.into(),
            display_name: format!("窗口{username}"),
            badge_no: "990017".into(),
            grants: vec![RoleGrant {
                role: Role::Officer,
                site_id: Some(site_id),
            }],
        },
    )
    .await
    .expect("create officer");
    let password = format!("node-loss-{username}-2026");
    let hash = auth::password::hash(&password).expect("hash");
    let mut tx = db.begin().await.expect("tx");
    auth::set_password(&mut tx, created.id, &hash, false, clock.now_ms())
        .await
        .expect("password");
    tx.commit().await.expect("commit");
    password
}

/// What differs between the calls a display saw and the calls made, in a few words.
fn difference(got: &[(i64, String, i64)], made: &[(i64, String, i64)]) -> String {
    let ids = |v: &[(i64, String, i64)]| v.iter().map(|c| c.0).collect::<Vec<_>>();
    let (got_ids, made_ids) = (ids(got), ids(made));
    let missing: Vec<i64> = made_ids
        .iter()
        .filter(|i| !got_ids.contains(i))
        .copied()
        .collect();
    let mut repeated = got_ids.clone();
    repeated.sort_unstable();
    repeated.dedup();
    let first = got
        .iter()
        .zip(made)
        .position(|(g, m)| g != m)
        .unwrap_or(got.len().min(made.len()));
    format!(
        "{} seen, {} made; missing {missing:?}; {} repeated; first difference at {first}: {:?} vs {:?}",
        got.len(),
        made.len(),
        got_ids.len() - repeated.len(),
        got.get(first),
        made.get(first)
    )
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// How the node is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loss {
    /// The process dies (SIGKILL): its connections close at once.
    Killed,
    /// The process stops answering but its connections stay open (SIGSTOP), as with a frozen
    /// machine or a cut network: only the proxy's health checks notice.
    Frozen,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn a_killed_node_loses_no_call() {
    lose_a_node(Loss::Killed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn a_frozen_node_loses_no_call() {
    lose_a_node(Loss::Frozen).await;
}

async fn lose_a_node(loss: Loss) {
    let Some(pg) = common::pg_url() else {
        return;
    };
    let Some(haproxy_bin) = find_haproxy() else {
        assert!(
            !common::pg_required(),
            "haproxy is needed for the node-loss test (scripts/test installs it)"
        );
        eprintln!("note: haproxy is not installed; skipping the node-loss test");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");

    // A database of its own: the nodes take theirs from DATABASE_URL, with no schema to choose.
    let name = format!(
        "onetrip_node_loss_{}_{}_{}",
        match loss {
            Loss::Killed => "killed",
            Loss::Frozen => "frozen",
        },
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_millis()
    );
    let admin = Db::connect(&pg, &options(1))
        .await
        .expect("connect to ONETRIP_TEST_PG");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(admin.reader())
        .await
        .expect("create a database for the nodes");
    admin.close().await;
    let _scratch = ScratchDb {
        admin_url: pg.clone(),
        name: name.clone(),
    };
    let url = with_database(&pg, &name);

    // The hall and its officers, written before the nodes start.
    let db = Db::connect(&url, &options(4)).await.expect("connect");
    db.migrate().await.expect("migrate");
    let clock = Clock::system();
    onetrip::demo::load_if_empty(&db, &clock)
        .await
        .expect("demo city");
    let site = onetrip::sites::site_by_code(db.reader(), "0001")
        .await
        .expect("site")
        .expect("hall 0001");
    let windows: Vec<_> = onetrip::sites::windows_of(db.reader(), site.id)
        .await
        .expect("windows")
        .into_iter()
        .filter(|w| w.kind == WindowKind::Citizen)
        .take(WINDOWS)
        .collect();
    assert_eq!(windows.len(), WINDOWS);
    let mut passwords = Vec::new();
    for w in &windows {
        let user = format!("window{}", w.number);
        let pw = officer(&db, &clock, &user, site.id).await;
        passwords.push((user, pw));
    }

    // Two nodes and the proxy in front of them.
    let ports = [("a", free_port()), ("b", free_port())];
    let mut nodes: HashMap<&str, Proc> = ports
        .iter()
        .map(|(n, p)| (*n, start_node(n, &url, *p, dir.path())))
        .collect();
    for (n, p) in ports {
        let node = nodes.get_mut(n);
        wait_healthy(&format!("http://127.0.0.1:{p}"), &format!("node {n}"), node).await;
    }
    let proxy_port = free_port();
    let cfg = dir.path().join("haproxy.cfg");
    std::fs::write(&cfg, haproxy_config(proxy_port, &ports)).expect("write haproxy.cfg");
    let mut haproxy = Proc(
        Command::new(&haproxy_bin)
            .args(["-db", "-f"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("haproxy.log")).expect("haproxy log"))
            .spawn()
            .expect("start haproxy"),
    );
    let proxy = format!("http://127.0.0.1:{proxy_port}");
    wait_healthy(&proxy, "the proxy", Some(&mut haproxy)).await;
    // Both nodes up in the proxy's eyes (rise 2 at 200 ms), so streams are spread over both.
    tokio::time::sleep(Duration::from_millis(800)).await;

    // Tickets from the kiosk API, through the proxy.
    let kiosk = reqwest::Client::new();
    let issuers: Vec<_> = (0..20)
        .map(|_| {
            let (kiosk, proxy) = (kiosk.clone(), proxy.clone());
            tokio::spawn(async move {
                for _ in 0..TICKETS / 20 {
                    let r = kiosk
                        .post(format!("{proxy}/api/v1/tickets"))
                        .json(&serde_json::json!({"site": "0001", "line": "renewal"}))
                        .send()
                        .await
                        .expect("issue");
                    assert_eq!(r.status(), 201);
                }
            })
        })
        .collect();
    for t in issuers {
        t.await.expect("kiosk");
    }

    // The displays listen.
    let (stop_displays, stopped) = tokio::sync::watch::channel(false);
    let logs: Vec<Arc<Mutex<DisplayLog>>> = (0..DISPLAYS)
        .map(|_| Arc::new(Mutex::new(DisplayLog::default())))
        .collect();
    let mut display_tasks = Vec::new();
    for log in &logs {
        display_tasks.push(tokio::spawn(display(
            proxy.clone(),
            log.clone(),
            stopped.clone(),
        )));
        // One after the other, so round robin spreads them over both nodes.
        let deadline = Instant::now() + Duration::from_secs(10);
        while log.lock().expect("log").opened.is_empty() {
            assert!(Instant::now() < deadline, "a display connects");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let first_nodes: Vec<String> = logs
        .iter()
        .map(|l| l.lock().expect("log").opened[0].1.clone())
        .collect();

    // The windows sign in and open, through the proxy, and call.
    let stop_windows = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let wlogs: Vec<Arc<Mutex<WindowLog>>> = (0..WINDOWS)
        .map(|_| Arc::new(Mutex::new(WindowLog::default())))
        .collect();
    let mut window_tasks = Vec::new();
    for ((w, (user, pw)), log) in windows.iter().zip(&passwords).zip(&wlogs) {
        let c = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let csrf = common::sign_in(&c, &proxy, user, pw).await;
        let opened = c
            .post(format!("{proxy}/api/v1/windows/{}/actions", w.id))
            .header("x-csrf-token", &csrf)
            .json(&serde_json::json!({"action": "open"}))
            .send()
            .await
            .expect("open");
        assert_eq!(opened.status(), 200, "window {} opens", w.number);
        window_tasks.push(tokio::spawn(window(
            proxy.clone(),
            c,
            csrf,
            w.id,
            log.clone(),
            stop_windows.clone(),
        )));
    }
    tokio::time::sleep(BEFORE).await;

    // Lose the node that serves the most displays.
    let victim = if first_nodes.iter().filter(|n| *n == "a").count() * 2 >= DISPLAYS {
        "a"
    } else {
        "b"
    };
    let on_victim = first_nodes.iter().filter(|n| *n == victim).count();
    assert!(
        on_victim > 0 && on_victim < DISPLAYS,
        "displays on both nodes: {first_nodes:?}"
    );
    let mut lost = nodes.remove(victim).expect("victim");
    let killed_ms = clock.now_ms();
    match loss {
        Loss::Killed => {
            lost.0.kill().expect("SIGKILL");
        }
        Loss::Frozen => {
            let stopped = Command::new("kill")
                .args(["-STOP", &lost.0.id().to_string()])
                .status()
                .expect("kill -STOP");
            assert!(stopped.success(), "the node is frozen");
        }
    }
    let killed = Instant::now();
    tokio::time::sleep(AFTER).await;
    // A frozen node is killed now (Drop); a killed one is reaped.
    drop(lost);
    stop_windows.store(true, std::sync::atomic::Ordering::SeqCst);
    for t in window_tasks {
        t.await.expect("window task");
    }

    // What was called, as the database recorded it (answers lost with the node included).
    let made: Vec<(i64, String, i64, i64)> = sqlx::query_as(
        r#"SELECT e.id, t.number, w.number, e.at FROM ticket_events e
           JOIN tickets t ON t.id = e.ticket_id JOIN windows w ON w.id = e.window_id
           WHERE t.site_id = $1 AND e.kind IN ('called', 'recalled') ORDER BY e.id"#,
    )
    .bind(site.id)
    .fetch_all(db.reader())
    .await
    .expect("calls made");
    let before = made.iter().filter(|c| c.3 < killed_ms).count();
    assert!(before > 0, "calls before the loss");
    assert!(made.len() > before, "calls after the loss");
    let first_after = made
        .iter()
        .find(|c| c.3 >= killed_ms)
        .map(|c| c.0)
        .expect("a call after the loss");

    // Every display catches up, then is compared call by call.
    let deadline = Instant::now() + Duration::from_secs(10);
    while logs
        .iter()
        .any(|l| l.lock().expect("log").calls.len() < made.len())
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop_displays.send(true).expect("stop displays");
    for t in display_tasks {
        t.await.expect("display task");
    }

    let expected: Vec<(i64, String, i64)> = made
        .iter()
        .map(|(id, number, window, _)| (*id, number.clone(), *window))
        .collect();
    let mut display_gaps = Vec::new();
    let mut reconnects = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        let log = log.lock().expect("log");
        let got: Vec<(i64, String, i64)> = log
            .calls
            .iter()
            .map(|s| (s.id, s.number.clone(), s.window))
            .collect();
        assert!(
            got == expected,
            "display {i} (first on node {}) saw every call once, in order: {}",
            first_nodes[i],
            difference(&got, &expected)
        );
        let seen_after = log
            .calls
            .iter()
            .find(|s| s.id == first_after)
            .expect("the first call after the loss")
            .at;
        display_gaps.push(seen_after.saturating_duration_since(killed));
        if first_nodes[i] == victim {
            let back = log
                .opened
                .iter()
                .find(|(at, _)| *at > killed)
                .expect("a display of the lost node reconnects");
            assert_ne!(back.1, victim, "reconnected through the other node");
            reconnects.push(back.0.saturating_duration_since(killed));
        }
    }

    // How long a call takes to reach a display when no node is lost (made → received).
    let made_at: HashMap<i64, i64> = made.iter().map(|c| (c.0, c.3)).collect();
    let mut latencies: Vec<i64> = logs
        .iter()
        .flat_map(|l| {
            let l = l.lock().expect("log");
            l.calls
                .iter()
                .filter(|s| made_at[&s.id] < killed_ms - 100)
                .map(|s| s.at_ms - made_at[&s.id])
                .collect::<Vec<_>>()
        })
        .collect();
    latencies.sort_unstable();
    let latency = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];

    let mut window_gaps = Vec::new();
    let mut failures = 0;
    for log in &wlogs {
        let log = log.lock().expect("log");
        failures += log.failures;
        let Some(next) = log.calls.iter().find(|at| **at > killed) else {
            panic!(
                "a window made no call in the {} s after the loss ({} calls before it, {} failed requests)",
                AFTER.as_secs(),
                log.calls.len(),
                log.failures
            );
        };
        window_gaps.push(next.saturating_duration_since(killed));
    }
    let first_call = window_gaps.iter().min().copied().unwrap_or_default();
    let every_window = window_gaps.iter().max().copied().unwrap_or_default();
    let every_display = display_gaps.iter().max().copied().unwrap_or_default();
    let reconnect = reconnects.iter().max().copied().unwrap_or_default();
    println!(
        "{loss:?} node: {} calls ({} before the loss), {} displays ({} on the lost node), {} windows",
        made.len(),
        before,
        DISPLAYS,
        on_victim,
        WINDOWS
    );
    println!(
        "{loss:?} node: first successful call {} ms after the loss; every window calling again within {} ms; {} requests failed and were retried",
        ms(first_call),
        ms(every_window),
        failures
    );
    println!(
        "{loss:?} node: displays of the lost node reconnected within {} ms; every display had the first call after the loss within {} ms (per display: {:?} ms)",
        ms(reconnect),
        ms(every_display),
        display_gaps.iter().map(|d| ms(*d)).collect::<Vec<_>>()
    );
    println!(
        "{loss:?} node: before the loss a call reached the displays in {} ms (median), {} ms (99th percentile), {} ms (max)",
        latency(0.5),
        latency(0.99),
        latency(1.0)
    );
    assert!(every_window < BOUND, "windows call again within seconds");
    assert!(every_display < BOUND, "displays follow within seconds");
    db.close().await;
}
