//! The `onetrip` command: serve the hall, migrate the database, check the data, create an
//! administrator.

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
    let runtime = match tokio::runtime::Runtime::new() {
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
