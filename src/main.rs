//! The `onetrip` command: serve the hall, migrate the database, check the data, create an
//! administrator, purge personal data past its retention period.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use onetrip::config::Config;

#[derive(Parser)]
#[command(
    name = "onetrip",
    version,
    about = "Exit-entry service hall: one trip, or none (只跑一次)"
)]
struct Cli {
    /// Configuration file (TOML); environment variables override it.
    #[arg(long, short, global = true, env = "ONETRIP_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the hall (the default). Loads the demo city into an empty database unless
    /// ONETRIP_DEMO=false.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load and validate the service catalog and holiday calendar, then exit.
    CheckData,
    /// The working-day calendar the server uses (entered notices, shipped files, statutory
    /// rule), for support staff and checks.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Take a consistent copy of the (SQLite) database while the hall runs, with a manifest,
    /// into DEST (a new directory). The personal-data key is not copied.
    Backup { dest: std::path::PathBuf },
    /// Check a backup (checksum and integrity) and put it in place of the database; refused
    /// while a server holds the database.
    Restore { src: std::path::PathBuf },
    /// The personal-data key, which no backup contains: export it once after the first start and
    /// keep it apart; import it after restoring onto a new machine (docs/OPERATIONS.md).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Erase personal data past its retention period (`[retention]`, docs/RETENTION.md), as the
    /// server does each night, and print what was erased per kind of record.
    Purge {
        /// Only count and print what would be erased; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Replay a seeded synthetic hall day through the real engine on a scratch database
    /// (tickets, calls, acceptances, payments, approvals) and print the day's KPIs.
    Simulate {
        /// Applicants in the day.
        #[arg(long, default_value_t = 3600)]
        applicants: usize,
        /// Seed of the day: the same seed replays the same day.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// A working day (YYYY-MM-DD); the next one when left out.
        #[arg(long)]
        date: Option<String>,
        /// Citizen windows to open; enough for the peak hour by Erlang C when left out.
        #[arg(long)]
        windows: Option<u32>,
        /// Share of applicants with an appointment.
        #[arg(long, default_value_t = 0.3)]
        appointment_share: f64,
        /// Share sent to the green channel.
        #[arg(long, default_value_t = 0.02)]
        green_share: f64,
        /// Bookings for the day that never come, as a share of those that do.
        #[arg(long, default_value_t = 0.05)]
        no_show_share: f64,
    },
    /// Create an administrator of every site and print the one-time password.
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        badge: String,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Write the key in use (ONETRIP_SECRET_KEY or <state_dir>/secret.key) to DEST, a new file
    /// (mode 0600), and print its check value; the key itself is never printed.
    Export { dest: PathBuf },
    /// Check a key file and install it as <state_dir>/secret.key (mode 0600). Refused while a
    /// server holds the database, over a different key without --replace, and when the key
    /// does not open the personal data already in the database.
    Import {
        src: PathBuf,
        /// Put it in place of a different key (the old one is kept beside it).
        #[arg(long)]
        replace: bool,
    },
    /// Print the check value of the key in use (or of FILE) and whether it opens the personal
    /// data in the database.
    Check { file: Option<PathBuf> },
    /// Add a new key version (<state_dir>/secret.key.N, mode 0600) and record it in the
    /// database: new personal data is sealed with it at once (a running server picks it up
    /// within seconds), and the server seals the stored data again in the background. Copy the
    /// file to every node first when several serve one database.
    Rotate,
    /// The key versions the database records and how far the background job has sealed the
    /// stored personal data again under the newest.
    Status,
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Every day of YEAR, one line each: `YYYY-MM-DD workday|rest official|provisional [festival]`.
    Show { year: i16 },
    /// The N-th counted working day after DATE (the day itself not counted), and whether it is
    /// provisional.
    AddWorkingDays { date: String, n: u32 },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("onetrip: {e}");
            return ExitCode::from(2);
        }
    };
    onetrip::telemetry::init(config.log_format);
    let runtime = tokio::runtime::Runtime::new();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("onetrip: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => onetrip::server::serve(config)
                .await
                .map_err(|e| e.to_string()),
            Command::Migrate => onetrip::server::open_db(&config)
                .await
                .map(|_| println!("migrations applied to {}", redact(&config.database_url)))
                .map_err(|e| e.to_string()),
            Command::CheckData => check_data(&config).await,
            Command::Backup { dest } => {
                async {
                    let db = onetrip::server::open_db(&config)
                        .await
                        .map_err(|e| e.to_string())?;
                    let taken_at = jiff::Timestamp::now().to_string();
                    let m = onetrip::backup::backup(&db, &config.database_url, &dest, &taken_at)
                        .await
                        .map_err(|e| e.to_string())?;
                    println!(
                        "backup in {}: {} bytes, sha256 {}, {} tables; keep secret.key apart",
                        dest.display(),
                        m.bytes,
                        m.sha256,
                        m.tables.len()
                    );
                    Ok(())
                }
                .await
            }
            Command::Restore { src } => {
                async {
                    let path = onetrip::backup::sqlite_path(&config.database_url)
                        .ok_or_else(|| onetrip::backup::BackupError::NotSqlite.to_string())?;
                    let m = onetrip::backup::restore(&src, &path)
                        .await
                        .map_err(|e| e.to_string())?;
                    println!(
                        "restored {} (taken {}) into {}",
                        src.display(),
                        m.taken_at,
                        path.display()
                    );
                    Ok(())
                }
                .await
            }
            Command::Calendar { command } => calendar(&config, command).await,
            Command::Key { command } => key(&config, command).await,
            Command::Purge { dry_run } => purge(&config, dry_run).await,
            Command::Simulate {
                applicants,
                seed,
                date,
                windows,
                appointment_share,
                green_share,
                no_show_share,
            } => {
                let date = match date.map(|d| d.parse::<jiff::civil::Date>()) {
                    None => None,
                    Some(Ok(d)) => Some(d),
                    Some(Err(_)) => return Err("--date: dates look like 2026-12-03".to_string()),
                };
                let shape = onetrip::hall_day::DayShape {
                    applicants,
                    seed,
                    date,
                    windows,
                    appointment_share,
                    green_share,
                    no_show_share,
                };
                simulate(&config, &shape).await
            }
            Command::CreateAdmin {
                username,
                name,
                badge,
            } => {
                async {
                    let db = onetrip::server::open_db(&config)
                        .await
                        .map_err(|e| e.to_string())?;
                    let created = onetrip::demo::create_first_admin(&db, &username, &name, &badge)
                        .await
                        .map_err(|e| e.to_string())?;
                    println!(
                        "administrator {} created; one-time password (change at first sign-in): {}",
                        created.username, created.initial_password
                    );
                    Ok(())
                }
                .await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("onetrip: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `onetrip check-data`: the shipped files, and the notices entered in the database.
async fn check_data(config: &Config) -> Result<(), String> {
    let d = onetrip::server::load_data(config).map_err(|e| e.to_string())?;
    println!(
        "catalog: {} service items; calendar files: years {:?}",
        d.catalog.items().len(),
        d.calendar.covered_years()
    );
    let in_force = onetrip::server::calendar_in_force(config)
        .await
        .map_err(|e| e.to_string())?;
    match &in_force.skipped {
        Some(why) => println!("entered notices: none read ({why})"),
        None => println!(
            "calendar in force (files and entered notices): official years {:?}",
            in_force.calendar.covered_years()
        ),
    }
    if in_force.problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "entered holiday notices that fail the checks: {}",
            in_force.problems.join("; ")
        ))
    }
}

/// `onetrip purge [--dry-run]`: one line per kind of record (period, cutoff, records, rows per
/// table).
async fn purge(config: &Config, dry_run: bool) -> Result<(), String> {
    let db = onetrip::server::open_db(config)
        .await
        .map_err(|e| e.to_string())?;
    let clock = onetrip::clock::Clock::system();
    // The purge spares people on the watch list by joining blind indexes, which a key
    // rotation's rebuild holds under two forms for a while.
    if !dry_run
        && onetrip::rekey::rebuild_pending(&db)
            .await
            .map_err(|e| e.to_string())?
    {
        db.close().await;
        return Err(
            "a key rotation is still rebuilding the blind indexes (`onetrip key status`); \
             purge once it is through"
                .into(),
        );
    }
    let kinds = onetrip::retention::purge(
        &db,
        &clock,
        &config.retention,
        dry_run,
        onetrip::retention::Trigger::Command,
    )
    .await
    .map_err(|e| e.to_string());
    db.close().await;
    let verb = if dry_run { "would erase" } else { "erased" };
    for k in kinds? {
        let (Some(days), Some(cutoff)) = (k.days, k.cutoff) else {
            println!("{:<15} kept for ever (0 days)", k.kind.code());
            continue;
        };
        let rows: Vec<String> = k
            .rows
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        println!(
            "{:<15} {days:>5} days  ended before {}  {verb} {} records{}",
            k.kind.code(),
            onetrip::clock::format_local(cutoff),
            k.records,
            if rows.is_empty() {
                String::new()
            } else {
                format!(" ({})", rows.join(", "))
            }
        );
    }
    Ok(())
}

/// `onetrip key …`: moves the personal-data key in and out of the state directory, printing
/// only its check value.
async fn key(config: &Config, command: KeyCommand) -> Result<(), String> {
    use onetrip::key_file;
    use onetrip::privacy;
    let env_key = std::env::var("ONETRIP_SECRET_KEY").ok();
    let in_use = || {
        privacy::current_key(&config.state_dir, env_key.as_deref())
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "there is no key yet: {} does not exist and ONETRIP_SECRET_KEY is not set \
                     (the server creates the key at its first start)",
                    config.state_dir.join(privacy::KEY_FILE).display()
                )
            })
    };
    // A key with the later versions of the state directory: what opens the data after a
    // rotation.
    let with_versions = |key: [u8; 32]| -> Result<privacy::Cipher, String> {
        let cipher = privacy::Cipher::new(&key);
        for version in 2..=privacy::MAX_VERSION {
            if let Some(k) =
                privacy::read_version(&config.state_dir, version).map_err(|e| e.to_string())?
            {
                cipher.adopt(version, &k);
            }
        }
        Ok(cipher)
    };
    let sample = |cipher: privacy::Cipher| async move {
        key_file::sample(&config.database_url, &cipher)
            .await
            .map_err(|e| {
                format!(
                    "cannot read {} to check the key: {e}",
                    redact(&config.database_url)
                )
            })
    };
    match command {
        KeyCommand::Export { dest } => {
            let (source, key) = in_use()?;
            let later = with_versions(key)?;
            key_file::export(&key, &dest).map_err(|e| e.to_string())?;
            println!(
                "exported the key of {source} to {} (mode 0600): check {}",
                dest.display(),
                privacy::key_check(&key)
            );
            for (version, _) in later.versions().into_iter().filter(|(v, _)| *v >= 2) {
                let Some(k) =
                    privacy::read_version(&config.state_dir, version).map_err(|e| e.to_string())?
                else {
                    continue;
                };
                let to = key_file::version_sibling(&dest, version);
                key_file::export(&k, &to).map_err(|e| e.to_string())?;
                println!(
                    "exported key version {version} to {} (mode 0600): check {}",
                    to.display(),
                    privacy::key_check(&k)
                );
            }
            println!(
                "keep it apart from the backups (offline, with a second custodian): without it \
                 the personal data cannot be read"
            );
            Ok(())
        }
        KeyCommand::Import { src, replace } => {
            let key = key_file::read(&src).map_err(|e| e.to_string())?;
            let check = privacy::key_check(&key);
            let versions = key_file::read_versions(&src).map_err(|e| e.to_string())?;
            for (version, k) in &versions {
                if let Some(there) =
                    privacy::read_version(&config.state_dir, *version).map_err(|e| e.to_string())?
                    && there != *k
                {
                    return Err(format!(
                        "{} holds a different key version {version} (check {}) than {} (check {})",
                        privacy::version_file(&config.state_dir, *version).display(),
                        privacy::key_check(&there),
                        key_file::version_sibling(&src, *version).display(),
                        privacy::key_check(k)
                    ));
                }
            }
            if env_key.is_some() {
                return Err(format!(
                    "ONETRIP_SECRET_KEY is set, and the server uses it rather than {}: unset it \
                     to use the imported key, or put the file's `key` line in it (check {check})",
                    privacy::KEY_FILE
                ));
            }
            // A running server has read its key already; holding the database as `restore`
            // does keeps one from starting with a half-installed key.
            let _held = match onetrip::backup::sqlite_path(&config.database_url) {
                Some(path) => Some(onetrip::backup::hold(&path).map_err(|e| e.to_string())?),
                None => None,
            };
            // The database first: a key that does not open it is refused whatever is installed,
            // rather than asking for --replace only to refuse it then.
            let cipher = with_versions(key)?;
            for (version, k) in &versions {
                cipher.adopt(*version, k);
            }
            let sampled = sample(cipher).await?;
            let path = config.state_dir.join(privacy::KEY_FILE);
            let installed = key_file::installed(&config.state_dir).map_err(|e| e.to_string())?;
            let same = installed == key_file::Installed::Key(key);
            if !sampled.acceptable() {
                let done = if same {
                    format!("{} already holds it", path.display())
                } else {
                    "not installed".to_string()
                };
                return Err(format!(
                    "{sampled}: {done} (check {check}); import the key exported from the \
                     installation this database was backed up from"
                ));
            }
            if !same && !replace {
                let old = match installed {
                    key_file::Installed::None => None,
                    key_file::Installed::Key(old) => Some(format!(
                        "a different key (check {})",
                        privacy::key_check(&old)
                    )),
                    key_file::Installed::Unreadable => Some("a damaged key file".to_string()),
                };
                if let Some(old) = old {
                    return Err(format!(
                        "{} already holds {old}; --replace puts the imported key (check {check}) \
                         in its place and keeps the old one beside it",
                        path.display()
                    ));
                }
            }
            if same {
                println!("{} already holds this key: check {check}", path.display());
            } else {
                let kept = key_file::install(&config.state_dir, &key).map_err(|e| e.to_string())?;
                println!(
                    "installed the key from {} as {} (mode 0600): check {check}",
                    src.display(),
                    path.display()
                );
                if let Some(kept) = kept {
                    println!("the key it replaced is kept as {}", kept.display());
                }
            }
            for (version, k) in &versions {
                if privacy::read_version(&config.state_dir, *version)
                    .map_err(|e| e.to_string())?
                    .is_none()
                {
                    let to = privacy::write_version(&config.state_dir, *version, k)
                        .map_err(|e| e.to_string())?;
                    println!(
                        "installed key version {version} as {} (mode 0600): check {}",
                        to.display(),
                        privacy::key_check(k)
                    );
                }
            }
            println!("{sampled}");
            Ok(())
        }
        KeyCommand::Rotate => {
            let (_, key) = in_use()?;
            let cipher = with_versions(key)?;
            let db = onetrip::server::open_db(config)
                .await
                .map_err(|e| e.to_string())?;
            let now = onetrip::clock::Clock::system().now_ms();
            let rotated = onetrip::rekey::rotate(&db, &cipher, &config.state_dir, now).await;
            db.close().await;
            let (version, file) = rotated.map_err(|e| e.to_string())?;
            println!(
                "added key version {version} as {} (mode 0600): check {}",
                file.display(),
                cipher
                    .versions()
                    .last()
                    .map(|(_, c)| c.clone())
                    .unwrap_or_default()
            );
            println!(
                "new personal data is sealed with it; the server seals the stored data again in \
                 the background (`onetrip key status`). Several nodes: copy the file to each \
                 one's state directory. Export it for safe keeping: `onetrip key export FILE`"
            );
            Ok(())
        }
        KeyCommand::Status => {
            let db = onetrip::server::open_db(config)
                .await
                .map_err(|e| e.to_string())?;
            let status = onetrip::rekey::status(&db).await;
            db.close().await;
            let status = status.map_err(|e| e.to_string())?;
            for v in &status.versions {
                let held = match u8::try_from(v.version) {
                    Ok(1) => privacy::current_key(&config.state_dir, env_key.as_deref())
                        .ok()
                        .flatten()
                        .is_some_and(|(_, k)| privacy::key_check(&k) == v.check),
                    Ok(n) => privacy::read_version(&config.state_dir, n)
                        .ok()
                        .flatten()
                        .is_some_and(|k| privacy::key_check(&k) == v.check),
                    Err(_) => false,
                };
                println!(
                    "key version {} check {} added {}{}",
                    v.version,
                    v.check,
                    onetrip::clock::format_local(v.added_at),
                    if held { "" } else { "  (not installed here)" }
                );
            }
            // The sealed tables first, then the blind-index columns (`table.column`).
            for t in &status.tables {
                let (doing, changed) = if t.table.contains('.') {
                    ("indexing", "brought forward")
                } else {
                    ("sealing ", "sealed again")
                };
                println!(
                    "{:<28} {}  {} {changed}, {} rows to go",
                    t.table,
                    if t.done { "done    " } else { doing },
                    t.resealed,
                    t.rows_left
                );
            }
            println!(
                "{}",
                if status.done() {
                    format!(
                        "all stored personal data is sealed and indexed under key version {}",
                        status.newest
                    )
                } else {
                    format!(
                        "sealing again and rebuilding indexes under key version {} (the server \
                         does it in the background, starting {} s after the rotation)",
                        status.newest,
                        onetrip::rekey::GRACE.as_secs()
                    )
                }
            );
            Ok(())
        }
        KeyCommand::Check { file } => {
            let key = match &file {
                Some(f) => {
                    let key = key_file::read(f).map_err(|e| e.to_string())?;
                    println!("{}: check {}", f.display(), privacy::key_check(&key));
                    match privacy::current_key(&config.state_dir, env_key.as_deref()) {
                        Ok(Some((source, k))) if k == key => {
                            println!("the same key as {source}, the key in use")
                        }
                        Ok(Some((source, k))) => println!(
                            "not the key in use: {source} holds check {}",
                            privacy::key_check(&k)
                        ),
                        Ok(None) => println!("there is no key in use yet"),
                        Err(e) => println!("the key in use cannot be read: {e}"),
                    }
                    key
                }
                None => {
                    let (source, key) = in_use()?;
                    println!("key in use ({source}): check {}", privacy::key_check(&key));
                    key
                }
            };
            let sampled = sample(with_versions(key)?).await?;
            if sampled.acceptable() {
                println!("{sampled}");
                Ok(())
            } else {
                Err(sampled.to_string())
            }
        }
    }
}

/// `onetrip calendar …`: prints what the server would compute.
async fn calendar(config: &Config, command: CalendarCommand) -> Result<(), String> {
    let in_force = onetrip::server::calendar_in_force(config)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(note) = in_force.skipped.iter().chain(&in_force.problems).next() {
        eprintln!("onetrip: {note}");
    }
    let calendar = in_force.calendar;
    match command {
        CalendarCommand::Show { year } => {
            let first = jiff::civil::Date::new(year, 1, 1).map_err(|e| e.to_string())?;
            for date in first
                .series(jiff::Span::new().days(1))
                .take_while(|d| d.year() == year)
            {
                println!("{}", calendar.day(date).map_err(|e| e.to_string())?.line());
            }
        }
        CalendarCommand::AddWorkingDays { date, n } => {
            let start: jiff::civil::Date = date
                .trim()
                .parse()
                .map_err(|_| format!("{date} is not a date (YYYY-MM-DD)"))?;
            let rules = onetrip::domain::calendar::CountingRules {
                count_adjusted_workdays: config.count_adjusted_workdays,
            };
            let r = calendar
                .add_working_days(start, n, &rules)
                .map_err(|e| e.to_string())?;
            println!(
                "{} {}",
                r.date,
                if r.provisional {
                    "provisional"
                } else {
                    "official"
                }
            );
        }
    }
    Ok(())
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// `onetrip simulate`: replays the day on a scratch database in a temporary directory and prints
/// what happened and the day's KPIs, as the report computes them.
async fn simulate(config: &Config, shape: &onetrip::hall_day::DayShape) -> Result<(), String> {
    let scratch = std::env::temp_dir().join(format!("onetrip-simulate-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let run = onetrip::hall_day::replay(config, shape, &scratch).await;
    // The scratch database goes whatever happened.
    let _ = std::fs::remove_dir_all(&scratch);
    let run = run.map_err(|e| e.to_string())?;
    println!(
        "simulated {} at hall 0001: {} applicants (seed {}), {} windows; {} accepted, {} paid, {} documents approved",
        run.date, run.applicants, shape.seed, run.windows, run.accepted, run.paid, run.approved
    );
    if let Some(summary) = run.report.tables.iter().find(|t| t.id == "summary") {
        for row in &summary.rows {
            if let (Some(label), Some(value)) = (row.get(1), row.get(2))
                && *value != onetrip::reports::report::Cell::Empty
            {
                println!("  {:<44} {}", label.display(), value.display());
            }
        }
    }
    println!(
        "wall time {:.1} s (the day {:.1} s, approvals {:.1} s; {:.0} applicants/s); peak memory {:.1} MiB",
        run.wall_seconds,
        run.day_seconds,
        run.approvals_seconds,
        run.applicants as f64 / run.wall_seconds.max(0.001),
        onetrip::telemetry::peak_rss_mib()
    );
    Ok(())
}
