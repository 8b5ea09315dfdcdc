//! Start-up: load and check the data, open and migrate the database, load the demo city on
//! first start, serve until a shutdown signal.

use std::sync::Arc;

use crate::catalog::Catalog;
use crate::catalog::lines::Lines;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{Db, DbOptions};
use crate::domain::calendar::HolidayCalendar;
use crate::privacy::Cipher;
use crate::web::{self, AppState};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("service catalog: {0}")]
    Catalog(String),
    #[error("holiday calendar: {0}")]
    Calendar(String),
    #[error("{0}")]
    Db(#[from] crate::db::DbError),
    #[error("cannot listen on {0}: {1}")]
    Listen(std::net::SocketAddr, std::io::Error),
    #[error("server: {0}")]
    Serve(std::io::Error),
    #[error("demo data: {0}")]
    Demo(String),
    #[error("{0}")]
    Key(#[from] crate::privacy::KeyError),
    #[error("devices: {0}")]
    Devices(String),
    #[error("{0}")]
    Held(#[from] crate::backup::BackupError),
    #[error("{0}")]
    Keys(#[from] crate::rekey::RekeyError),
}

/// The versioned data under `data_dir`, loaded and validated.
pub struct Data {
    pub catalog: Catalog,
    pub calendar: HolidayCalendar,
    pub lines: Lines,
}

/// Loads the catalog and calendar; any problem names the file and what is wrong.
pub fn load_data(config: &Config) -> Result<Data, StartError> {
    let dir = resolve_data_dir(config);
    let catalog =
        Catalog::load_dir(dir.join("catalog")).map_err(|e| StartError::Catalog(e.to_string()))?;
    let calendar = HolidayCalendar::load_dir(dir.join("calendar"))
        .map_err(|e| StartError::Calendar(e.to_string()))?;
    let lines = Lines::load(&dir.join("lines.toml"), &catalog)
        .map_err(|e| StartError::Catalog(e.to_string()))?;
    Ok(Data {
        catalog,
        calendar,
        lines,
    })
}

/// `data_dir` as configured, or the repository's `data/` when run from elsewhere by cargo.
fn resolve_data_dir(config: &Config) -> std::path::PathBuf {
    if config.data_dir.is_dir() || config.data_dir.is_absolute() {
        config.data_dir.clone()
    } else {
        let beside_source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&config.data_dir);
        if beside_source.is_dir() {
            beside_source
        } else {
            config.data_dir.clone()
        }
    }
}

pub async fn open_db(config: &Config) -> Result<Db, StartError> {
    let db = Db::connect(
        &config.database_url,
        &DbOptions {
            max_connections: config.db_max_connections,
            sqlite_synchronous: config.sqlite_synchronous.clone(),
            pg_schema: None,
            sqlite_wal_limit_bytes: config.sqlite_wal_limit_bytes(),
        },
    )
    .await?;
    db.migrate().await?;
    Ok(db)
}

/// The application's state, built the same way for `serve`, the tests and the benches (as
/// zero-to-production's `Application::build`): the calendar in force (the shipped files, then
/// the notices entered at runtime, followed on every node), the catalog and lines, the rate
/// limits, the day cache and the device adapters. It starts no background loop: `serve` starts
/// them with [`spawn_workers`]; the tests drive the same use cases with their own clock.
pub async fn build(
    config: Config,
    data: Data,
    db: Db,
    clock: Clock,
    cipher: Arc<Cipher>,
) -> Result<AppState, StartError> {
    let calendar = Arc::new(crate::calendar::CalendarHandle::new(data.calendar));
    calendar
        .reload(&db)
        .await
        .map_err(crate::db::DbError::from)?;
    crate::calendar::spawn_follower(db.clone(), calendar.clone());
    let limits = Arc::new(web::RateLimits::new(
        config.booking_attempts_per_ip_hour,
        config.booking_attempts_per_id_hour,
        &db,
        clock.clone(),
    ));
    Ok(AppState::from(web::AppParts {
        db,
        config: Arc::new(config),
        clock,
        catalog: Arc::new(data.catalog),
        calendar,
        lines: Arc::new(data.lines),
        cipher: cipher.clone(),
        limits,
        days: Arc::new(crate::booking::DayCache::new(1000)),
        stop: crate::web::not_stopping(),
        metrics: web::ops::metrics_handle(),
        devices: Arc::new(crate::devices::Devices::simulated_for(&cipher)),
    }))
}

/// Runs the hall until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> Result<(), StartError> {
    // Before anything else: simulators outside the demo only when allowed in words.
    config
        .devices
        .check(config.demo)
        .map_err(StartError::Devices)?;
    let data = load_data(&config)?;
    tracing::info!(
        items = data.catalog.items().len(),
        years = ?data.calendar.covered_years(),
        "data loaded"
    );
    // One server per SQLite file; a restore checks the same hold.
    let _held = match crate::backup::sqlite_path(&config.database_url) {
        Some(path) => Some(crate::backup::hold(&path)?),
        None => None,
    };
    let db = open_db(&config).await?;
    let cipher = Arc::new(Cipher::load(
        &config.state_dir,
        std::env::var("ONETRIP_SECRET_KEY").ok().as_deref(),
    )?);
    let clock = Clock::system();
    // Before any value is sealed: a node must hold every key version the data uses.
    crate::rekey::reconcile(&db, &cipher, &config.state_dir, clock.now_ms()).await?;
    if !config.devices.simulated().is_empty() {
        tracing::warn!(simulated = ?config.devices.simulated(), "devices are simulated");
    }
    if config.demo
        && let Some(demo) = crate::demo::load_if_empty(&db, &clock)
            .await
            .map_err(|e| StartError::Demo(e.to_string()))?
    {
        crate::demo::print_accounts(&demo, config.listen);
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| StartError::Listen(config.listen, e))?;
    tracing::info!(address = %config.listen, engine = ?db.engine(), "onetrip is serving");
    let state = build(config, data, db.clone(), clock, cipher).await?;
    spawn_workers(&state, Arc::new(crate::notify::SimulatedSms));
    web::launch(listener, state, shutdown_signal())
        .await
        .map_err(StartError::Serve)?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The background work of a node, started in one place: the outbox worker (texts), the
/// appointment sweep (places offered again, no-shows, stale rate counts), the duty leader's
/// daily digest and the nightly retention purge. Each runs the same use case the tests call
/// directly.
pub fn spawn_workers(state: &AppState, sms: Arc<dyn crate::notify::SmsSender>) {
    crate::notify::spawn_worker(
        state.db.clone(),
        state.cipher.clone(),
        sms,
        state.clock.clone(),
    );
    spawn_sweeper(state.clone());
    spawn_digest(state.clone());
    spawn_callback_lists(state.clone());
    spawn_device_watch(state.clone());
    spawn_report_rollups(state.clone());
    spawn_retention_purge(state.clone());
    crate::rekey::spawn(
        state.db.clone(),
        state.cipher.clone(),
        state.clock.clone(),
        state.config.state_dir.clone(),
    );
}

/// Erases personal data past its retention period (R15) once a night from 02:00, when the
/// halls are closed; one node does it (the day is claimed in the database), in small batches.
fn spawn_retention_purge(state: AppState) {
    every_day_from(
        state,
        (2, 0),
        "purging personal data past its retention period",
        |state, _day| async move {
            let done =
                crate::retention::purge_daily(&state.db, &state.clock, &state.config.retention)
                    .await
                    .map_err(|e| e.to_string())?;
            if let Some(kinds) = done {
                for k in kinds.iter().filter(|k| k.records > 0) {
                    tracing::info!(kind = k.kind.code(), records = k.records, rows = ?k.rows, "personal data past its retention period erased");
                }
            }
            Ok(())
        },
    );
}

/// Keeps the report aggregates current: every minute today's figures at each site, and once an
/// hour the days that can still change (documents becoming ready, late ratings) plus any day
/// never rolled up. Rolling up is idempotent, so several nodes doing it repeat no harm.
fn spawn_report_rollups(state: AppState) {
    tokio::spawn(async move {
        loop {
            match crate::sites::list_sites(state.db.reader(), false).await {
                Ok(sites) => {
                    for site in sites {
                        let today = state.clock.today();
                        if let Err(e) = crate::reports::rollup::refresh(
                            &state.db,
                            &state.clock,
                            site.id,
                            today,
                            today,
                            55_000,
                        )
                        .await
                        .and(
                            crate::reports::rollup::settle(
                                &state.db,
                                &state.clock,
                                site.id,
                                3_600_000,
                            )
                            .await,
                        ) {
                            tracing::warn!(error = %e, site = %site.code, "rolling up report figures failed; retrying");
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listing sites for the report roll-up failed; retrying")
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        }
    });
}

/// Every minute, reports devices that fell silent to the duty leader (once per silence) and
/// settles self-service endorsement sessions a kiosk left behind (written, refunded or ended).
fn spawn_device_watch(state: AppState) {
    tokio::spawn(async move {
        let leader = crate::domain::phone::PhoneNumber::parse(&state.config.duty_leader_phone).ok();
        loop {
            if let Err(e) = crate::device_registry::alert_offline(
                &state.db,
                &state.clock,
                &state.cipher,
                leader.as_ref(),
            )
            .await
            {
                tracing::warn!(error = %e, "checking for silent devices failed; retrying");
            }
            match crate::self_service::sweep(&state.self_service()).await {
                Ok(swept) if swept != Default::default() => {
                    tracing::info!(?swept, "self-service sessions left behind settled");
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "settling self-service sessions failed; retrying")
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        }
    });
}

/// Draws each working day's callback lists from 08:30, so they are ready before the callback
/// staff open them (opening a list that is not drawn yet draws it too).
fn spawn_callback_lists(state: AppState) {
    every_day_from(
        state,
        (8, 30),
        "drawing the callback lists",
        |state, day| async move {
            crate::callbacks::draw_all(&state.callbacks(), day)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
    );
}

/// Runs `job` every five minutes from `from` (hall time, hour and minute) on each day, for
/// that day; each job is idempotent per day, so a restart or a second node repeats nothing.
fn every_day_from<F, Fut>(state: AppState, from: (i8, i8), what: &'static str, job: F)
where
    F: Fn(AppState, jiff::civil::Date) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    tokio::spawn(async move {
        loop {
            let z = state
                .clock
                .timestamp()
                .to_zoned_datetime(crate::clock::hall_tz());
            if (z.hour(), z.minute()) >= from
                && let Err(e) = job(state.clone(), z.date()).await
            {
                tracing::warn!(error = %e, "{what} failed; retrying");
            }
            tokio::time::sleep(std::time::Duration::from_secs(300)).await;
        }
    });
}

/// Runs the appointment sweep every few seconds until the process ends.
fn spawn_sweeper(state: AppState) {
    tokio::spawn(async move {
        for round in 0u64.. {
            if let Err(e) = crate::booking::sweep(&state.booking()).await {
                tracing::warn!(error = %e, "appointment sweep failed; retrying");
            }
            // Every five minutes, forget booking attempts too old to count.
            if round % 60 == 0
                && let Err(e) = state.limits.prune().await
            {
                tracing::warn!(error = %e, "pruning booking attempt counts failed; retrying");
            }
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        }
    });
}

/// Sends the duty leader's digest every day from 08:00 when their phone is configured.
fn spawn_digest(state: AppState) {
    let Ok(phone) = crate::domain::phone::PhoneNumber::parse(&state.config.duty_leader_phone)
    else {
        return;
    };
    every_day_from(state, (8, 0), "daily digest", move |state, day| {
        let phone = phone.clone();
        async move {
            let extra = state
                .leader_digest_extra()
                .await
                .map_err(|e| format!("{e:?}"))?;
            crate::documents::send_digest_once(&state.applications(), &phone, day, &extra)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}

/// The calendar in force for operators' commands: the entered notices in the database when it
/// exists and has them, then the shipped files, then the statutory rule — the same data the
/// server uses. A database that does not exist yet is not created; one without the notices
/// table (not yet migrated) is read as having none.
pub async fn calendar_in_force(config: &Config) -> Result<CalendarInForce, StartError> {
    let files = load_data(config)?.calendar;
    let url = &config.database_url;
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = rest.split('?').next().unwrap_or(rest);
        if path == ":memory:" || !std::path::Path::new(path).exists() {
            return Ok(CalendarInForce {
                calendar: files,
                skipped: Some(format!("no database at {path}: shipped files only")),
                problems: Vec::new(),
            });
        }
    }
    let db = Db::connect(
        url,
        &DbOptions {
            max_connections: 1,
            sqlite_synchronous: config.sqlite_synchronous.clone(),
            pg_schema: None,
            ..DbOptions::default()
        },
    )
    .await?;
    let rows = crate::calendar::all_versions(db.reader()).await;
    // Dropping the last handle stops its background tasks (closing first would leave the
    // checkpointer retrying on a closed pool).
    drop(db);
    match rows {
        Ok(rows) => {
            let (calendar, problems) = crate::calendar::build(&files, &rows);
            Ok(CalendarInForce {
                calendar,
                skipped: None,
                problems,
            })
        }
        Err(e) => Ok(CalendarInForce {
            calendar: files,
            skipped: Some(format!(
                "entered notices not read ({e}): shipped files only"
            )),
            problems: Vec::new(),
        }),
    }
}

/// The calendar the server would use, with what could not be read and what failed the checks.
pub struct CalendarInForce {
    pub calendar: HolidayCalendar,
    /// Why the database's entered notices were not read, when they were not.
    pub skipped: Option<String>,
    /// Entered versions kept out because they fail the checks.
    pub problems: Vec<String>,
}
