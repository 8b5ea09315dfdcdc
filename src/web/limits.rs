//! Limits on online booking attempts (R2: stop scripted booking without hurting citizens), by
//! client address and by ID number, counted over a sliding hour.
//!
//! The count is the usual two-window estimate: the attempts of the current clock hour plus
//! those of the previous hour weighted by how much of it the sliding hour still covers. Every
//! attempt counts, refused ones too, so a script that keeps trying stays out while a citizen,
//! who books a few times a year, never comes near the limit.
//!
//! One SQLite node counts in memory. PostgreSQL nodes count in the shared database, so a
//! script spreading its attempts over several nodes behind a load balancer meets one limit,
//! not one per node.

use std::collections::HashMap;
use std::sync::Mutex;

use sqlx::Row;

use crate::clock::Clock;
use crate::db::{Db, Engine};

/// The limits count per clock hour.
const WINDOW_MS: i64 = 3_600_000;

/// What one key (an address or an ID number's blind index) did in two adjacent hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Hits {
    /// Start of the current hour.
    window: i64,
    current: i64,
    previous: i64,
}

/// The attempts in the sliding hour ending at `now`, the current one included.
fn estimate(h: Hits, now: i64) -> f64 {
    let into = (now - h.window).clamp(0, WINDOW_MS) as f64 / WINDOW_MS as f64;
    h.current as f64 + h.previous as f64 * (1.0 - into)
}

fn window_of(now: i64) -> i64 {
    now.div_euclid(WINDOW_MS) * WINDOW_MS
}

/// Counts one attempt of `key` at `now` into `h`, moving the hours on as needed.
fn count(h: &mut Hits, now: i64) {
    let w = window_of(now);
    if w != h.window {
        h.previous = if w - h.window == WINDOW_MS {
            h.current
        } else {
            0
        };
        h.current = 0;
        h.window = w;
    }
    h.current += 1;
}

enum Store {
    /// One node: counters in this process, pruned of keys idle for two hours.
    Memory(Mutex<HashMap<String, Hits>>),
    /// Several nodes: counters in the shared database (`rate_hits`).
    Database(Db),
}

/// Per-address and per-ID-number limits on online booking attempts.
pub struct RateLimits {
    per_ip_hour: u32,
    per_id_hour: u32,
    store: Store,
    clock: Clock,
}

impl RateLimits {
    /// Limits of `per_ip_hour` attempts per client address and `per_id_hour` per ID number
    /// (0 turns one off), counted where every node of `db` sees them.
    pub fn new(per_ip_hour: u32, per_id_hour: u32, db: &Db, clock: Clock) -> RateLimits {
        let store = match db.engine() {
            Engine::Sqlite => Store::Memory(Mutex::new(HashMap::new())),
            Engine::Postgres => Store::Database(db.clone()),
        };
        RateLimits {
            per_ip_hour,
            per_id_hour,
            store,
            clock,
        }
    }

    /// Counts one attempt now; false when the address or the ID number (its blind index) is
    /// over its limit. A database that cannot count lets the attempt
    /// through: the booking itself will then fail on the same database, and say so.
    pub async fn allow(&self, ip: &str, id_key: Option<&str>) -> bool {
        let now = self.clock.now_ms();
        let mut keys: Vec<(String, u32)> = Vec::with_capacity(2);
        if self.per_ip_hour > 0 {
            keys.push((format!("ip:{ip}"), self.per_ip_hour));
        }
        if let (Some(k), true) = (id_key, self.per_id_hour > 0) {
            keys.push((format!("id:{k}"), self.per_id_hour));
        }
        if keys.is_empty() {
            return true;
        }
        let counted = match &self.store {
            Store::Memory(map) => Ok(count_in_memory(map, &keys, now)),
            Store::Database(db) => count_in_database(db, &keys, now).await,
        };
        match counted {
            Ok(hits) => keys
                .iter()
                .zip(hits)
                .all(|((_, limit), h)| estimate(h, now) <= f64::from(*limit)),
            Err(e) => {
                tracing::warn!(error = %e, "rate limits could not be counted; attempt let through");
                true
            }
        }
    }

    /// Forgets keys with no attempt in the last two hours (they count nothing any more).
    pub async fn prune(&self) -> Result<(), sqlx::Error> {
        let oldest = window_of(self.clock.now_ms()) - WINDOW_MS;
        match &self.store {
            Store::Memory(map) => {
                let mut map = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                map.retain(|_, h| h.window >= oldest);
            }
            Store::Database(db) => {
                sqlx::query("DELETE FROM rate_hits WHERE window_start < $1")
                    .bind(oldest)
                    .execute(db.reader())
                    .await?;
            }
        }
        Ok(())
    }
}

fn count_in_memory(
    map: &Mutex<HashMap<String, Hits>>,
    keys: &[(String, u32)],
    now: i64,
) -> Vec<Hits> {
    let mut map = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    keys.iter()
        .map(|(k, _)| {
            let h = map.entry(k.clone()).or_default();
            count(h, now);
            *h
        })
        .collect()
}

/// One statement on PostgreSQL: counts the attempt in each key's current hour and reads each
/// key's previous hour.
async fn count_in_database(
    db: &Db,
    keys: &[(String, u32)],
    now: i64,
) -> Result<Vec<Hits>, sqlx::Error> {
    let window = window_of(now);
    let rows: Vec<String> = (0..keys.len())
        .map(|i| format!("(${}, $1, 1)", i + 3))
        .collect();
    let sql = format!(
        "WITH hit AS (INSERT INTO rate_hits AS r (key, window_start, hits) VALUES {} \
         ON CONFLICT (key, window_start) DO UPDATE SET hits = r.hits + 1 RETURNING key, hits) \
         SELECT hit.key, hit.hits, COALESCE(p.hits, 0) AS previous FROM hit \
         LEFT JOIN rate_hits p ON p.key = hit.key AND p.window_start = $2",
        rows.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(window)
        .bind(window - WINDOW_MS);
    for (k, _) in keys {
        q = q.bind(k.as_str());
    }
    let mut found: HashMap<String, Hits> = HashMap::new();
    for r in q.fetch_all(db.reader()).await? {
        found.insert(
            r.try_get("key")?,
            Hits {
                window,
                current: r.try_get("hits")?,
                previous: r.try_get("previous")?,
            },
        );
    }
    keys.iter()
        .map(|(k, _)| found.get(k).copied().ok_or(sqlx::Error::RowNotFound))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = WINDOW_MS;

    #[test]
    fn the_previous_hour_fades_as_the_sliding_hour_moves_on() {
        let mut h = Hits::default();
        let start = 100 * HOUR;
        for _ in 0..10 {
            count(&mut h, start + 10);
        }
        assert_eq!(estimate(h, start + 10), 10.0);
        // A quarter into the next hour, three quarters of the last hour still count.
        count(&mut h, start + HOUR + HOUR / 4);
        assert_eq!((h.current, h.previous), (1, 10));
        assert_eq!(estimate(h, start + HOUR + HOUR / 4), 1.0 + 7.5);
        // Two hours on, nothing of it is left.
        count(&mut h, start + 3 * HOUR);
        assert_eq!((h.current, h.previous), (1, 0));
    }

    #[tokio::test]
    async fn one_node_counts_addresses_and_id_numbers_apart_and_forgets_idle_keys() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("l.db").display());
        let db = Db::connect(&url, &crate::db::DbOptions::default())
            .await
            .expect("db");
        let clock = Clock::fixed(500 * HOUR);
        let limits = RateLimits::new(5, 2, &db, clock.clone());
        assert!(limits.allow("10.0.0.1", Some("person-a")).await);
        assert!(limits.allow("10.0.0.1", Some("person-a")).await);
        assert!(
            !limits.allow("10.0.0.1", Some("person-a")).await,
            "a third attempt for the same ID number in the hour"
        );
        assert!(limits.allow("10.0.0.1", Some("person-b")).await);
        assert!(limits.allow("10.0.0.1", Some("person-c")).await);
        assert!(
            !limits.allow("10.0.0.1", Some("person-d")).await,
            "a sixth attempt from one address"
        );
        assert!(limits.allow("10.0.0.2", None).await, "another address");
        clock.advance_ms(3 * HOUR);
        limits.prune().await.expect("prune");
        if let Store::Memory(map) = &limits.store {
            assert!(map.lock().expect("lock").is_empty(), "idle keys forgotten");
        }
        assert!(limits.allow("10.0.0.1", Some("person-a")).await);
        let off = RateLimits::new(0, 0, &db, clock);
        for _ in 0..100 {
            assert!(off.allow("10.0.0.1", Some("person-a")).await);
        }
    }
}
