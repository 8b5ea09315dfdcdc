//! What the benchmarks share: settings from the environment and the process's peak memory.
#![allow(dead_code)]

/// A setting from the environment, or its default.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub use onetrip::telemetry::peak_rss_mib;

/// Citizen `n`'s ID number: valid, and distinct for every `n` below 2,000,000.
pub fn citizen(n: u32) -> String {
    let first17 = format!(
        "11010119{:02}{:02}{:02}{:03}",
        50 + (n / 100_000) % 50,
        1 + (n / 1000) % 12,
        1 + (n / 12_000) % 28,
        n % 1000
    );
    let check = onetrip::domain::id_number::IdNumber::check_digit_for(&first17).expect("digit");
    format!("{first17}{check}")
}

pub mod load;

/// A fresh SQLite database in `dir`, migrated.
pub async fn fresh_sqlite(dir: &std::path::Path) -> onetrip::db::Db {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    migrated(&url).await
}

/// The database at `url` with the default options, migrated.
pub async fn migrated(url: &str) -> onetrip::db::Db {
    let db = onetrip::db::Db::connect(url, &onetrip::db::DbOptions::default())
        .await
        .expect("database");
    db.migrate().await.expect("migrate");
    db
}

/// The application's state for a benchmark: the demo city loaded into `db`, the repository's
/// data, the given clock, no rate limits (the load comes from one address).
pub async fn app_state(
    db: onetrip::db::Db,
    config: onetrip::config::Config,
    clock: onetrip::clock::Clock,
    metrics: bool,
) -> onetrip::web::AppState {
    use std::sync::Arc;
    let data = onetrip::server::load_data(&config).expect("data");
    onetrip::demo::load_if_empty(&db, &clock)
        .await
        .expect("demo");
    let cipher = Arc::new(onetrip::privacy::Cipher::new(&[7u8; 32]));
    let config = onetrip::config::Config {
        booking_attempts_per_ip_hour: 0,
        booking_attempts_per_id_hour: 0,
        ..config
    };
    let state = onetrip::server::build(config, data, db, clock, cipher)
        .await
        .expect("the application builds");
    if metrics {
        state
    } else {
        onetrip::web::AppState::from(onetrip::web::AppParts {
            metrics: None,
            ..onetrip::web::AppParts::clone(&state)
        })
    }
}

/// The repository's data folder.
pub fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}
