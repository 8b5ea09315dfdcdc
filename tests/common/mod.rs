//! Test harness: the real application on a random port with a fresh database, on SQLite
//! always and on PostgreSQL when `ONETRIP_TEST_PG` names a database (CI sets it; a CI run that
//! would silently skip PostgreSQL fails instead).
#![allow(dead_code)]

pub mod browser;

use std::net::SocketAddr;
use std::sync::Arc;

use onetrip::auth::{self, Actor, NewStaff, Role, RoleGrant};
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::db::{Db, DbOptions};
use onetrip::web::{self, AppState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub engine: Engine,
    pub addr: SocketAddr,
    pub base: String,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

/// Whether this run must cover PostgreSQL (CI, or asked for explicitly).
pub fn pg_required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("ONETRIP_REQUIRE_PG").is_some()
}

/// The PostgreSQL URL for tests, or `None` (with a note) when this run may skip it.
pub fn pg_url() -> Option<String> {
    match std::env::var("ONETRIP_TEST_PG") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !pg_required(),
                "PostgreSQL tests are required in CI but ONETRIP_TEST_PG is not set"
            );
            eprintln!("note: ONETRIP_TEST_PG is not set; skipping the PostgreSQL run of this test");
            None
        }
    }
}

fn random_suffix() -> String {
    onetrip::crypto::random_token()[..12].to_string()
}

/// A fresh, migrated database of the given engine; `None` when PostgreSQL is not configured.
pub async fn fresh_db(
    engine: Engine,
    dir: &std::path::Path,
) -> Option<(Db, Option<(String, String)>)> {
    match engine {
        Engine::Sqlite => {
            let url = format!("sqlite://{}", dir.join("test.db").display());
            let db = Db::connect(&url, &DbOptions::default())
                .await
                .expect("open sqlite");
            db.migrate().await.expect("migrate sqlite");
            Some((db, None))
        }
        Engine::Postgres => {
            let url = pg_url()?;
            let schema = format!("t_{}", random_suffix());
            let admin = Db::connect(
                &url,
                &DbOptions {
                    max_connections: 2,
                    ..DbOptions::default()
                },
            )
            .await
            .expect("connect to ONETRIP_TEST_PG");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(admin.reader())
                .await
                .expect("create test schema");
            admin.close().await;
            let db = Db::connect(
                &url,
                &DbOptions {
                    max_connections: 8,
                    pg_schema: Some(schema.clone()),
                    ..DbOptions::default()
                },
            )
            .await
            .expect("connect to test schema");
            db.migrate().await.expect("migrate postgres");
            Some((db, Some((url, schema))))
        }
    }
}

impl TestApp {
    /// Starts the whole application; `None` only for PostgreSQL when it is not configured.
    pub async fn spawn(engine: Engine) -> Option<TestApp> {
        Self::spawn_with(engine, Config::default()).await
    }

    pub async fn spawn_with(engine: Engine, config: Config) -> Option<TestApp> {
        Self::spawn_full(engine, config, Clock::system()).await
    }

    /// Starts the application with a given clock (tests that move time).
    pub async fn spawn_full(engine: Engine, mut config: Config, clock: Clock) -> Option<TestApp> {
        // Logs show only with RUST_LOG set, e.g. RUST_LOG=error cargo test -- --nocapture.
        if std::env::var_os("RUST_LOG").is_some() {
            onetrip::telemetry::init(onetrip::config::LogFormat::Text);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, pg) = fresh_db(engine, dir.path()).await?;
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        config.data_dir = data;
        config.state_dir = dir.path().to_path_buf();
        let loaded = onetrip::server::load_data(&config).expect("shipped data loads");
        onetrip::demo::load_if_empty(&db, &clock)
            .await
            .expect("demo city");
        let cipher = Arc::new(onetrip::privacy::Cipher::new(&[42u8; 32]));
        let state = onetrip::server::build(config, loaded, db, clock, cipher)
            .await
            .expect("the application builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, server) = serve(listener, state.clone());
        Some(TestApp {
            engine,
            addr,
            base: format!("http://{addr}"),
            state,
            shutdown: Some(tx),
            server: Some(server),
            _dir: dir,
            pg,
        })
    }

    /// Starts the application with the clock standing at `when` (RFC 3339).
    pub async fn spawn_at(engine: Engine, when: &str) -> Option<TestApp> {
        Self::spawn_full(engine, Config::default(), Clock::fixed(at(when))).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    pub async fn site_id(&self, code: &str) -> i64 {
        onetrip::sites::site_by_code(self.state.db.reader(), code)
            .await
            .expect("query")
            .expect("site")
            .id
    }

    /// Creates a staff member with a known password that needs no change.
    pub async fn staff(&self, username: &str, grants: Vec<(Role, Option<i64>)>) -> String {
        let system = Actor::system();
        let admin = system.any_admin().expect("system admin");
        let created = auth::create_staff(
            &self.state.db,
            &self.state.clock,
            admin,
            NewStaff {
                username: username.into(),
                display_name: format!("测试{username}"),
                badge_no: "990001".into(),
                grants: grants
                    .into_iter()
                    .map(|(role, site_id)| RoleGrant { role, site_id })
                    .collect(),
            },
        )
        .await
        .expect("create staff");
        let password = format!("test-{username}-pass-42");
        let hash = auth::password::hash(&password).expect("hash");
        let mut tx = self.state.db.begin().await.expect("tx");
        auth::set_password(&mut tx, created.id, &hash, false, self.state.clock.now_ms())
            .await
            .expect("set password");
        tx.commit().await.expect("commit");
        password
    }

    /// Signs in through the login form like a browser and returns the client.
    pub async fn signed_in(&self, username: &str, password: &str) -> reqwest::Client {
        let c = self.client();
        let token = self.csrf(&c, "/login").await;
        let res = c
            .post(self.url("/login"))
            .header("origin", &self.base)
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", username),
                ("password", password),
                ("next", "/staff"),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(res.status(), 303, "sign-in of {username} redirects");
        c
    }

    /// Loads a page and returns the CSRF token its forms carry.
    pub async fn csrf(&self, c: &reqwest::Client, path: &str) -> String {
        let html = c
            .get(self.url(path))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("body");
        let marker = "name=\"csrf_token\" value=\"";
        let start = html
            .find(marker)
            .unwrap_or_else(|| panic!("{path} has a form with a CSRF token"))
            + marker.len();
        html[start..start + 64].to_string()
    }
}

fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = web::launch(listener, state, async move {
            let _ = rx.await;
        })
        .await;
    });
    (tx, server)
}

impl TestApp {
    /// Stops the server (gracefully) and starts it again on the same address and database, as
    /// after a restart or an upgrade.
    pub async fn restart(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
        }
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("bind the same address again");
        let (tx, server) = serve(listener, self.state.clone());
        self.shutdown = Some(tx);
        self.server = Some(server);
    }
}

/// A second `onetrip serve` node on the same PostgreSQL schema (for cross-node tests).
pub struct Node {
    pub base: String,
    pub state: AppState,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl TestApp {
    /// Starts another node on this app's PostgreSQL schema; `None` on SQLite.
    pub async fn second_node(&self) -> Option<Node> {
        let (url, schema) = self.pg.clone()?;
        let db = Db::connect(
            &url,
            &DbOptions {
                max_connections: 4,
                pg_schema: Some(schema),
                ..DbOptions::default()
            },
        )
        .await
        .expect("second node database");
        // Each node counts its own way (its own database handle), as a separate process would.
        let limits = Arc::new(web::RateLimits::new(
            self.state.config.booking_attempts_per_ip_hour,
            self.state.config.booking_attempts_per_id_hour,
            &db,
            self.state.clock.clone(),
        ));
        let state = AppState::from(web::AppParts {
            db,
            limits,
            days: Arc::new(onetrip::booking::DayCache::new(1000)),
            stop: web::not_stopping(),
            ..web::AppParts::clone(&self.state)
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let s = state.clone();
        tokio::spawn(async move {
            let _ = web::launch(listener, s, async move {
                let _ = rx.await;
            })
            .await;
        });
        Some(Node {
            base: format!("http://{addr}"),
            state,
            _shutdown: tx,
        })
    }
}

/// Runs a future to completion on a separate runtime (for sync helpers inside async tests).
fn futures_block<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt")
            .block_on(f)
    })
    .join()
    .expect("thread")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((url, schema)) = self.pg.take() {
            // Leave nothing behind in the shared test database.
            futures_block(async move {
                if let Ok(db) = Db::connect(
                    &url,
                    &DbOptions {
                        max_connections: 1,
                        ..DbOptions::default()
                    },
                )
                .await
                {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE"
                    )))
                    .execute(db.reader())
                    .await;
                    db.close().await;
                }
            });
        }
    }
}

/// A staff member (not stored) holding `roles` at one site, for calling use cases directly.
pub fn actor_at(site_id: i64, roles: &[Role]) -> Actor {
    Actor {
        display_name: "测试".into(),
        badge_no: "7".into(),
        ..Actor::at_site(0, "use.case.test", site_id, roles)
    }
}

/// A ticket as the history holds it, written straight into the table (the reports' and the
/// planner's tests record days of history this way).
#[allow(dead_code)]
pub struct RawTicket<'a> {
    pub token: String,
    pub site: i64,
    pub date: &'a str,
    pub line: &'a str,
    pub number: String,
    pub class: &'a str,
    pub status: &'a str,
    pub issued: i64,
    pub window: i64,
    pub officer: i64,
    pub called: Option<i64>,
    pub started: Option<i64>,
    pub finished: Option<i64>,
}

/// When a recorded ticket was called, started and finished: a served one after `wait_s` and
/// `service_s` seconds (20 s to walk to the window), a missed one called only, a waiting one
/// never.
#[allow(dead_code)]
pub fn ticket_times(
    status: &str,
    issued: i64,
    wait_s: i64,
    service_s: i64,
) -> (Option<i64>, Option<i64>, Option<i64>) {
    let called = issued + wait_s * 1000;
    match status {
        "done" => (
            Some(called),
            Some(called + 20_000),
            Some(called + 20_000 + service_s * 1000),
        ),
        "no_show" => (Some(called), None, None),
        _ => (None, None, None),
    }
}

/// The class of recorded ticket `n`: every 7th green, then appointment, love, normal.
#[allow(dead_code)]
pub fn ticket_class(n: i64) -> &'static str {
    match n % 7 {
        0 => "green",
        1 => "appointment",
        2 => "love",
        _ => "normal",
    }
}

#[allow(dead_code)]
pub async fn insert_ticket(conn: &mut sqlx::AnyConnection, t: RawTicket<'_>) {
    sqlx::query(
        r#"INSERT INTO tickets (token, site_id, date, line_code, number, class, class_reason,
         status, issued_at, channel, window_id, officer_id, called_at, started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'kiosk', $10, $11, $12, $13, $14)"#,
    )
    .bind(&t.token)
    .bind(t.site)
    .bind(t.date)
    .bind(t.line)
    .bind(&t.number)
    .bind(t.class)
    .bind((t.class == "green").then_some("funeral"))
    .bind(t.status)
    .bind(t.issued)
    .bind(t.called.map(|_| t.window))
    .bind(t.called.map(|_| t.officer))
    .bind(t.called)
    .bind(t.started)
    .bind(t.finished)
    .execute(conn)
    .await
    .expect("ticket");
}

/// An RFC 3339 instant (`2026-03-02T09:00:00+08:00`) as epoch milliseconds: where the tests'
/// clocks stand and what they move to.
pub fn at(when: &str) -> i64 {
    when.parse::<jiff::Timestamp>()
        .expect("RFC 3339 instant")
        .as_millisecond()
}

/// A valid citizen ID number for person `n` (born in 1990, Beijing Dongcheng, check digit by
/// the domain's own rule), as text: many distinct people for crowd tests.
/// The hall's (0001) first-issue availability on `date`, as the API answers it.
pub async fn hall_day(app: &TestApp, date: &str) -> serde_json::Value {
    app.client()
        .get(app.url(&format!(
            "/api/v1/appointments/availability?site=0001&line=first_issue&date={date}"
        )))
        .send()
        .await
        .expect("availability")
        .json()
        .await
        .expect("json")
}

/// The first slot of the hall's (0001) first-issue line on `date` with a place left online.
pub async fn free_slot(app: &TestApp, date: &str) -> i64 {
    let day = hall_day(app, date).await;
    day["slots"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["remaining"].as_i64() > Some(0))
        .and_then(|s| s["slot_id"].as_i64())
        .unwrap_or_else(|| panic!("a free slot in {day}"))
}

/// Citizen `n` books online at the hall on `date` (name 预约n); the booking code.
pub async fn web_booking(
    app: &TestApp,
    date: &str,
    n: u32,
) -> Result<String, onetrip::error::Failure<onetrip::booking::BookingError>> {
    let req = onetrip::booking::BookRequest {
        slot_id: free_slot(app, date).await,
        name: format!("预约{n}"),
        id_number: citizen(n),
        phone: "13700137000".into(),
        channel: onetrip::booking::Channel::Web,
        lang: None,
    };
    onetrip::booking::book(&app.state.booking(), None, req, None)
        .await
        .map(|c| c.code)
}

pub fn citizen(n: u32) -> String {
    let first17 = format!("110101{}{:03}", 19900101 + (n / 1000) % 28, n % 1000);
    let check = onetrip::domain::id_number::IdNumber::check_digit_for(&first17).expect("digit");
    format!("{first17}{check}")
}

/// A synthetic ID number with a valid check digit: 110101 + `birth` (YYYYMMDD) + `n`.
pub fn synthetic_id(birth: &str, n: u32) -> onetrip::domain::id_number::IdNumber {
    let first17 = format!("110101{birth}{:03}", n % 1000);
    let check = onetrip::domain::id_number::IdNumber::check_digit_for(&first17).expect("digit");
    onetrip::domain::id_number::IdNumber::parse(&format!("{first17}{check}")).expect("valid")
}

/// The one way a test runs on both engines (decision 001): a module of two tests, `sqlite`
/// and `postgres`; the PostgreSQL one returns early only where this run may skip PostgreSQL
/// (`pg_url`). Three forms:
/// - `on_both_engines!(scenario)` — `async fn scenario(engine: Engine)` that starts what it
///   needs; the module takes the function's name.
/// - `on_both_engines!(name, scenario)` — `async fn scenario(app: TestApp)` on a fresh app.
/// - `on_both_engines!(name, at = "2026-03-02T09:00:00+08:00", scenario)` — the same with the
///   clock standing at that instant (scenarios whose dates matter).
#[macro_export]
macro_rules! on_both_engines {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$scenario($crate::common::Engine::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if $crate::common::pg_url().is_some() {
                    super::$scenario($crate::common::Engine::Postgres).await;
                }
            }
        }
    };
    ($name:ident, at = $when:expr, $scenario:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let app = $crate::common::TestApp::spawn_at($crate::common::Engine::Sqlite, $when)
                    .await
                    .expect("sqlite app");
                $scenario(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(app) =
                    $crate::common::TestApp::spawn_at($crate::common::Engine::Postgres, $when)
                        .await
                else {
                    return;
                };
                $scenario(app).await;
            }
        }
    };
    ($name:ident, $scenario:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let app = $crate::common::TestApp::spawn($crate::common::Engine::Sqlite)
                    .await
                    .expect("sqlite app");
                $scenario(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(app) =
                    $crate::common::TestApp::spawn($crate::common::Engine::Postgres).await
                else {
                    return;
                };
                $scenario(app).await;
            }
        }
    };
}

/// The 2027 arrangement as an administrator would enter it (dates of the kind the State
/// Council gives; the real notice is not out): 元旦 from 01-01 to `new_year_end`, 春节 from
/// 02-05 to `spring_end`.
#[allow(dead_code)]
pub fn notice_2027(new_year_end: &str, spring_end: &str) -> serde_json::Value {
    serde_json::json!({
        "year": 2027,
        "notice": {"title": "国务院办公厅关于2027年部分节假日安排的通知", "document_number": "国办发明电〔2026〕7号", "published": "2026-11-20"},
        "holidays": [
            {"festivals": ["new_year"], "start": "2027-01-01", "end": new_year_end},
            {"festivals": ["spring_festival"], "start": "2027-02-05", "end": spring_end},
            {"festivals": ["qingming"], "start": "2027-04-03", "end": "2027-04-05"},
            {"festivals": ["labour_day"], "start": "2027-05-01", "end": "2027-05-05"},
            {"festivals": ["dragon_boat"], "start": "2027-06-09", "end": "2027-06-11"},
            {"festivals": ["mid_autumn"], "start": "2027-09-15", "end": "2027-09-17"},
            {"festivals": ["national_day"], "start": "2027-10-01", "end": "2027-10-07"}
        ],
        "adjusted_workdays": ["2027-02-20", "2027-10-09"]
    })
}

/// Reviews, approves and produces every document of application `application_id` as `actor`
/// (an approver and producer), numbering a passport `passport_no` and a permit `permit_no`;
/// returns the produced documents in the application's order.
#[allow(dead_code)]
pub async fn produced(
    app: &TestApp,
    actor: &Actor,
    application_id: i64,
    passport_no: &str,
    permit_no: &str,
) -> Vec<onetrip::documents::DocRow> {
    use onetrip::documents;
    let ctx = app.state.applications();
    let docs = documents::docs_of_application(app.state.db.reader(), application_id)
        .await
        .expect("docs");
    for d in &docs {
        documents::start_review(&ctx, &granted(actor), d.id)
            .await
            .expect("review");
        documents::approve(&ctx, &granted(actor), d.id)
            .await
            .expect("approve");
    }
    let ids: Vec<i64> = docs.iter().map(|d| d.id).collect();
    let batch = documents::start_batch(&ctx, &granted(actor), &ids)
        .await
        .expect("batch");
    let numbers: Vec<(i64, String)> = docs
        .iter()
        .map(|d| {
            let n = if d.document_type == "passport" {
                passport_no
            } else {
                permit_no
            };
            (d.id, n.to_string())
        })
        .collect();
    documents::finish_batch(&ctx, &granted(actor), batch, &numbers)
        .await
        .expect("produced")
}

/// [`produced`], then each document checked into `cabinet` at `site` (slots 01, 02, …) as
/// `actor` (also a custodian); returns the labels.
#[allow(dead_code)]
pub async fn kept(
    app: &TestApp,
    actor: &Actor,
    application_id: i64,
    site: &onetrip::sites::Site,
    cabinet: &str,
    numbers: (&str, &str),
) -> Vec<String> {
    let ctx = app.state.applications();
    let mut labels = Vec::new();
    for (k, d) in produced(app, actor, application_id, numbers.0, numbers.1)
        .await
        .iter()
        .enumerate()
    {
        let label = d.label.clone().expect("label");
        onetrip::documents::check_in(
            &ctx,
            &granted(actor),
            &label,
            site,
            cabinet,
            &format!("{:02}", k + 1),
        )
        .await
        .expect("checked in");
        labels.push(label);
    }
    labels
}

/// A SQLite app on a clock fixed at `when`, with the demo hall (0001) it serves: the clock
/// (to move it), the hall's id and the hall.
#[allow(dead_code)]
pub async fn hall_app(when: &str) -> (TestApp, Clock, i64, onetrip::sites::Site) {
    let clock = Clock::fixed(at(when));
    let app = TestApp::spawn_full(Engine::Sqlite, Config::default(), clock.clone())
        .await
        .expect("sqlite app");
    let hall = app.site_id("0001").await;
    let site = onetrip::sites::site(app.state.db.reader(), hall)
        .await
        .expect("q")
        .expect("hall");
    (app, clock, hall, site)
}

/// A form for a first passport and a first HK/Macao permit, filled at the hall's kiosk by the
/// person `id` (李流程) and not yet taken up.
#[allow(dead_code)]
pub async fn form_at(
    app: &TestApp,
    id: onetrip::domain::id_number::IdNumber,
) -> onetrip::domain::application_no::ApplicationNo {
    use onetrip::applications;
    use onetrip::i18n::Lang;
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .expect("q")
        .expect("hall");
    let input = applications::FormInput {
        name: "李流程".into(),
        id_number: id,
        phone: onetrip::domain::phone::PhoneNumber::parse("13900139000").expect("phone"),
        address: "示范市".into(),
        ethnicity: "汉".into(),
        from_card_reader: false,
        registered_state_personnel: false,
        unit_consent: false,
        work_unit: None,
        guardian: None,
        documents: vec![
            applications::rules::DocumentRequest {
                document: onetrip::catalog::DocumentType::Passport,
                category: onetrip::catalog::ApplicationCategory::FirstIssue,
                old_number: None,
                old_document: None,
                endorsements: vec![],
                annotations: 0,
            },
            applications::rules::DocumentRequest {
                document: onetrip::catalog::DocumentType::HkMacaoPermit,
                category: onetrip::catalog::ApplicationCategory::FirstIssue,
                old_number: None,
                old_document: None,
                endorsements: vec![],
                annotations: 0,
            },
        ],
        lang: Lang::ZhCn,
    };
    let row = applications::submit_form(
        &app.state.applications(),
        &site,
        applications::Channel::Kiosk,
        input,
    )
    .await
    .expect("form");
    onetrip::domain::application_no::ApplicationNo::parse(&row.application_no).expect("no")
}

/// An application (passport and HK/Macao permit, first issue) accepted at the hall by `actor`
/// (an officer there) for the applicant `id`, its fee still owed.
#[allow(dead_code)]
pub async fn accepted_at(
    app: &TestApp,
    actor: &onetrip::auth::Actor,
    id: onetrip::domain::id_number::IdNumber,
    class: onetrip::catalog::TimeLimitClass,
) -> onetrip::domain::application_no::ApplicationNo {
    use onetrip::applications::{self, Acceptance, Delivery};
    use onetrip::catalog::TimeLimitClass;
    use onetrip::devices::CaptureKind;
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .expect("q")
        .expect("hall");
    let ctx = app.state.applications();
    let no = form_at(app, id).await;
    let d = applications::start_acceptance(&ctx, &granted(actor), &no, None)
        .await
        .expect("start");
    let all: Vec<String> = d
        .materials(&app.state.catalog)
        .iter()
        .map(|m| m.id.clone())
        .collect();
    applications::check_materials(&ctx, &granted(actor), &no, &all)
        .await
        .expect("materials");
    for kind in [CaptureKind::Photo, CaptureKind::Fingerprint] {
        applications::capture(&ctx, &granted(actor), &no, kind)
            .await
            .expect("capture");
    }
    applications::verify_face(&ctx, &granted(actor), &no)
        .await
        .expect("face");
    applications::run_checks(&ctx, &granted(actor), &no)
        .await
        .expect("checks");
    let expedited = class == TimeLimitClass::Expedited;
    applications::accept(
        &ctx,
        &granted(actor),
        &no,
        Acceptance {
            class,
            emergency_reason: expedited.then(|| "funeral".to_string()),
            emergency_proof: expedited.then(|| "死亡证明".to_string()),
            delivery: Delivery::Pickup { site_id: site.id },
        },
    )
    .await
    .expect("accept");
    no
}

/// Pays application `no` in cash at a cashier's window of site `site_id`; returns the receipt
/// number (decision 012: nothing is produced before).
#[allow(dead_code)]
pub async fn pay_cash(
    app: &TestApp,
    site_id: i64,
    no: &onetrip::domain::application_no::ApplicationNo,
) -> String {
    let cashier = actor_at(site_id, &[Role::Cashier]);
    onetrip::payments::pay_at_window(
        &app.state.payments(),
        &granted(&cashier),
        no,
        onetrip::payments::Method::Cash,
        None,
    )
    .await
    .expect("paid in cash")
    .receipt_no
    .expect("a receipt number")
}

impl TestApp {
    /// Signs in through the JSON API; returns the client (holding the cookies) and the CSRF
    /// token for state-changing calls.
    #[allow(dead_code)]
    pub async fn api_session(&self, username: &str, password: &str) -> (reqwest::Client, String) {
        let c = self.client();
        let csrf = sign_in(&c, &self.base, username, password).await;
        (c, csrf)
    }
}

/// Signs `client` (which keeps cookies) in at the server `base` through the JSON API; returns
/// the CSRF token for state-changing calls.
#[allow(dead_code)]
pub async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> String {
    let me: serde_json::Value = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("me");
    me["csrf_token"].as_str().expect("a CSRF token").to_owned()
}

/// `actor`'s grant for the duty a use case asks for (inferred from the call): the tests'
/// stand-in for the handler's check. Panics when the actor does not hold it.
#[allow(dead_code)]
pub fn granted<D: onetrip::auth::Duty>(actor: &Actor) -> onetrip::auth::Grant<'_, D> {
    actor.grant().expect("the test actor holds the duty")
}

static GUIDE: std::sync::LazyLock<Actor> = std::sync::LazyLock::new(|| Actor {
    grants: vec![RoleGrant {
        role: Role::Guide,
        site_id: None,
    }],
    ..actor_at(0, &[])
});
static GUIDE_DESK: std::sync::LazyLock<
    onetrip::auth::Grant<'static, onetrip::auth::grant::GuideDesk>,
> = std::sync::LazyLock::new(|| granted(&GUIDE));

static DESK: std::sync::LazyLock<onetrip::auth::Grant<'static, onetrip::auth::grant::BookingDesk>> =
    std::sync::LazyLock::new(|| granted(&GUIDE));

/// The guide desk of every site: issues tickets of any walk-in class in the tests.
#[allow(dead_code)]
pub fn guide_desk() -> onetrip::queue::Issuer<'static> {
    onetrip::queue::Issuer::Guide(&GUIDE_DESK)
}

/// Who issues a ticket of `class` in the tests: the booking desk for appointments, the guide
/// desk for walk-ins.
#[allow(dead_code)]
pub fn issuer_of(class: onetrip::queue::TicketClass) -> onetrip::queue::Issuer<'static> {
    match class {
        onetrip::queue::TicketClass::Appointment => onetrip::queue::Issuer::BookingDesk(&DESK),
        _ => guide_desk(),
    }
}

static SYSTEM: std::sync::LazyLock<Actor> = std::sync::LazyLock::new(Actor::system);

/// The administrator of every site, for use cases that take an `AdminCap`.
#[allow(dead_code)]
pub fn administrator() -> onetrip::auth::AdminCap<'static> {
    SYSTEM
        .any_admin()
        .expect("the system administers every site")
}

/// A browser that is an enrolled kiosk of `site_code` (registered by the system administrator,
/// enrolled through `/devices/enrol`, its credential in the device cookie).
#[allow(dead_code)]
pub async fn kiosk_browser(app: &TestApp, site_code: &str, name: &str) -> reqwest::Client {
    let site = app.site_id(site_code).await;
    let (_, code) = onetrip::device_registry::register(
        &app.state.db,
        &app.state.clock,
        administrator(),
        site,
        onetrip::device_registry::Kind::Kiosk,
        name,
    )
    .await
    .expect("register the kiosk");
    let browser = app.client();
    let token = app.csrf(&browser, "/devices/enrol").await;
    let res = browser
        .post(app.url("/devices/enrol"))
        .header("origin", app.url(""))
        .form(&[("csrf_token", token.as_str()), ("code", code.as_str())])
        .send()
        .await
        .expect("enrol");
    assert_eq!(res.status(), 200, "the kiosk enrols");
    browser
}

/// A normal walk-in ticket for `line` at `site`, from the guide desk.
#[allow(dead_code)]
pub async fn walk_in(
    app: &TestApp,
    site: &onetrip::sites::Site,
    line: &str,
) -> onetrip::queue::Ticket {
    onetrip::queue::issue_ticket(
        &app.state.queue(),
        guide_desk(),
        site,
        line,
        onetrip::queue::TicketClass::Normal,
        None,
        None,
        "guide",
    )
    .await
    .expect("walk-in ticket")
}

/// The hall kiosk in a real browser (issue 14 §1), shared by the kiosk's browser tests: the
/// kiosk enrolled, its screen sized, and what every kiosk page must be (the shell, text at
/// least 28 px, targets at least 72 px high and apart).
#[allow(dead_code)]
pub mod kiosk {
    use std::time::{Duration, Instant};

    use fantoccini::{Client, Locator};
    use serde_json::json;

    use super::TestApp;
    use super::browser::{Shots, click, in_page_lang, text_of, type_into};

    /// The hall's kiosk standing upright, and lying.
    pub const PORTRAIT: (u32, u32) = (1080, 1920);
    pub const LANDSCAPE: (u32, u32) = (1920, 1080);

    /// Registers a kiosk of the hall (0001) and returns its one-time enrolment code.
    pub async fn kiosk_code(app: &TestApp, name: &str) -> String {
        onetrip::device_registry::register(
            &app.state.db,
            &app.state.clock,
            super::administrator(),
            app.site_id("0001").await,
            onetrip::device_registry::Kind::Kiosk,
            name,
        )
        .await
        .expect("register the kiosk")
        .1
    }

    /// Makes this browser the kiosk: the administrator's code typed once on `/devices/enrol`
    /// of the application at `base`.
    pub async fn enrol(c: &Client, base: &str, code: &str) {
        c.goto(&format!("{base}/devices/enrol"))
            .await
            .expect("open enrol");
        type_into(c, "main input[name=code]", code).await;
        click(c, "main form button").await;
        text_of(c, "#enrolled").await;
    }

    /// The page's viewport exactly `size` (through DevTools), as on the kiosk's full screen.
    pub async fn screen(c: &Client, shots: &Shots, size: (u32, u32)) {
        c.set_window_size(size.0, size.1)
            .await
            .expect("window size");
        shots
            .cdp(
                c,
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": size.0, "height": size.1, "deviceScaleFactor": 1, "mobile": false }),
            )
            .await;
    }

    /// Runs `script` until it returns something other than `null` or `false` (at most 10 s).
    pub async fn js_until(c: &Client, what: &str, script: &str) -> serde_json::Value {
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

    /// Waits until `css` shows some text, and returns it.
    pub async fn text_until(c: &Client, css: &str, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(e) = c.find(Locator::Css(css)).await
                && let Ok(text) = e.text().await
                && !text.trim().is_empty()
            {
                return text;
            }
            assert!(Instant::now() < deadline, "{what} in {css} within 15 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The page is in the kiosk's shell: its header, Back (`back`: not on the home page) and
    /// Start again at the foot, and none of the public site's masthead, navigation, footer or
    /// staff sign-in.
    pub async fn in_kiosk_shell(c: &Client, what: &str, back: bool) {
        let found = c
            .execute(
                r#"const q = s => !!document.querySelector(s);
                   return { masthead: q('.masthead'), mainnav: q('.mainnav'), footer: q('footer'),
                            login: q('a[href="/login"]'), staff: q('a[href="/staff"]'),
                            head: q('header.kiosk-head'), restart: q('#kiosk-restart'),
                            back: q('#kiosk-back'), kiosk_body: q('body.kiosk-body') };"#,
                vec![],
            )
            .await
            .expect("look at the shell");
        assert_eq!(
            found,
            json!({ "masthead": false, "mainnav": false, "footer": false, "login": false,
                    "staff": false, "head": true, "restart": true, "back": back, "kiosk_body": true }),
            "{what}: the kiosk's shell and nothing of the public site"
        );
        let restart = text_of(c, "#kiosk-restart").await;
        assert_eq!(
            restart,
            in_page_lang(c, "重新开始", "Start again").await,
            "{what}"
        );
    }

    /// Text shown in the page's main part and its foot smaller than `min` px: each as
    /// "tag.class “text”: size".
    pub async fn small_text(c: &Client, min: f64) -> Vec<String> {
        let v = c
            .execute(
                r#"const min = arguments[0], out = [];
                   const all = document.querySelectorAll('main *, .kiosk-nav *');
                   for (const e of all) {
                     if (!e.getClientRects().length || getComputedStyle(e).visibility === 'hidden') continue;
                     // Not rendered (the inside of a closed <details>).
                     if (e.checkVisibility && !e.checkVisibility()) continue;
                     const own = [...e.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim())
                       .map(n => n.textContent.trim()).join(' ');
                     const typed = (e.tagName === 'INPUT' || e.tagName === 'SELECT') ? (e.value || e.name) : '';
                     if (!own && !typed) continue;
                     const size = parseFloat(getComputedStyle(e).fontSize);
                     if (size < min) out.push(e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
                       + ' “' + (own || typed).slice(0, 30) + '”: ' + size + 'px');
                   }
                   return out;"#,
                vec![json!(min)],
            )
            .await
            .expect("measure the text");
        v.as_array()
            .expect("a list")
            .iter()
            .map(|s| s.as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The body text's size (the first paragraph or label of the main part), in px.
    pub async fn body_font_px(c: &Client) -> f64 {
        c.execute(
            "const e = document.querySelector('main p, main label');
             return parseFloat(getComputedStyle(e || document.body).fontSize);",
            vec![],
        )
        .await
        .expect("font size")
        .as_f64()
        .expect("a number")
    }

    /// Targets shown (buttons, links styled as buttons, fields, keys, the labels of checkboxes
    /// and radio buttons, the foot's buttons) that are less than `min` px high, or closer than
    /// `apart` px to another target.
    pub async fn cramped_targets(c: &Client, min: f64, apart: f64) -> Vec<String> {
        let v = c
            .execute(
                r#"const [min, apart] = arguments, out = [];
                   const sel = 'main button, main .button, main .kiosk-action, main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main select, main label.check, main label:has(> input[type=radio]), main summary, .kiosk-nav a, .kiosk-head a';
                   const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' “' + (e.textContent || e.value || e.name || '').trim().replace(/\s+/g, ' ').slice(0, 24) + '”';
                   const shown = [...document.querySelectorAll(sel)].filter(e => e.getClientRects().length && !e.closest('[hidden]')
                     && !(e.checkVisibility && !e.checkVisibility()));
                   for (const e of shown) {
                     const r = e.getBoundingClientRect();
                     if (r.height < min) out.push(name(e) + ' is ' + Math.round(r.height) + 'px high');
                   }
                   // What is on the screen now: the main part scrolls between the head and the foot.
                   const m = document.querySelector('main').getBoundingClientRect();
                   const boxes = shown.map(e => {
                     const r = e.getBoundingClientRect();
                     if (!e.closest('main')) return [e, r];
                     const top = Math.max(r.top, m.top), bottom = Math.min(r.bottom, m.bottom);
                     return bottom > top ? [e, { left: r.left, right: r.right, top, bottom }] : null;
                   }).filter(b => b);
                   for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
                     const [a, r] = boxes[i], [b, s] = boxes[j];
                     if (a.contains(b) || b.contains(a)) continue;
                     const dx = Math.max(s.left - r.right, r.left - s.right), dy = Math.max(s.top - r.bottom, r.top - s.bottom);
                     if (Math.max(dx, dy) < apart) out.push(name(a) + ' and ' + name(b) + ' are ' + Math.round(Math.max(dx, dy)) + 'px apart');
                   }
                   return out;"#,
                vec![json!(min), json!(apart)],
            )
            .await
            .expect("measure the targets");
        v.as_array()
            .expect("a list")
            .iter()
            .map(|s| s.as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Everything issue 14 §1 asks of a kiosk page, checked at the current size.
    pub async fn kiosk_page_ok(c: &Client, what: &str) {
        in_kiosk_shell(c, what, true).await;
        let px = body_font_px(c).await;
        assert!(px >= 28.0, "{what}: body text {px}px, not at least 28px");
        let small = small_text(c, 28.0).await;
        assert!(small.is_empty(), "{what}: text under 28px: {small:#?}");
        let cramped = cramped_targets(c, 72.0, 8.0).await;
        assert!(
            cramped.is_empty(),
            "{what}: targets under 72px or without room: {cramped:#?}"
        );
    }

    /// Types `digits` on the keypad of the field `field` (an id), one key at a time.
    pub async fn keypad_type(c: &Client, field: &str, digits: &str) {
        for k in digits.chars() {
            click(
                c,
                &format!("#{field}-keypad button.kiosk-key[data-key='{k}']"),
            )
            .await;
        }
    }

    /// The keypad of `field` is up, the system keyboard is not asked for.
    pub async fn keypad_is_up(c: &Client, field: &str, what: &str) {
        let mode = c
            .find(Locator::Css(&format!("#{field}")))
            .await
            .expect("the field")
            .attr("inputmode")
            .await
            .expect("inputmode");
        assert_eq!(
            mode.as_deref(),
            Some("none"),
            "{what}: no system keyboard for {field}"
        );
        js_until(
            c,
            &format!("{what}: the keypad of {field} shown"),
            &format!(
                "const p = document.getElementById('{field}-keypad');
                 return !!p && !p.hidden && p.getClientRects().length > 0;"
            ),
        )
        .await;
    }
}
