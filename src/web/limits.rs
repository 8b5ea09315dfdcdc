//! Limits on what anyone can try without signing in (R2: stop scripted booking and guessing
//! without hurting citizens), by client address and by ID number, counted over a sliding hour,
//! each kind of attempt ([`Scope`]) on its own counters.
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

/// What an attempt is: each has its own counters, so looking up a progress does not use up a
/// citizen's booking attempts (issue 12 item 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Booking a place (and joining a waiting list).
    Booking,
    /// Looking up, cancelling or moving one's own booking by code and ID number.
    Lookup,
    /// The citizen's progress lookup by application number and ID number.
    Progress,
    /// Online payment orders opened without a session (kiosks).
    Orders,
    /// Staff sign-in attempts (their own per-address limit, `sign_in_attempts_per_ip_hour`).
    SignIn,
    /// Complaints sent and followed without a session.
    Complaints,
}

impl Scope {
    fn prefix(self) -> &'static str {
        match self {
            Scope::Booking => "book",
            Scope::Lookup => "lookup",
            Scope::Progress => "progress",
            Scope::Orders => "orders",
            Scope::SignIn => "signin",
            Scope::Complaints => "complaints",
        }
    }
}

/// An attempt over a limit, and how long until one would be allowed again (seconds, for
/// `Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl RetryAfter {
    /// Whole minutes, at least one, for a message.
    pub fn minutes(self) -> u64 {
        self.0.div_ceil(60).max(1)
    }
}

/// Milliseconds from `now` until the sliding-hour estimate of `h` leaves room for one more
/// attempt under `limit` (0 when there is room now).
fn wait_ms(h: Hits, now: i64, limit: u32) -> i64 {
    let room = f64::from(limit) - 1.0;
    if estimate(h, now) <= room {
        return 0;
    }
    let end = h.window + WINDOW_MS;
    // In this hour, the previous hour's share shrinks as the hour goes on.
    if h.previous > 0 && (h.current as f64) <= room {
        let into = 1.0 - (room - h.current as f64) / h.previous as f64;
        let at = h.window + (into * WINDOW_MS as f64 - 1e-6).ceil() as i64;
        if at < end {
            return (at - now).max(0);
        }
    }
    // Next hour: this hour's attempts become the previous share and shrink in turn.
    if h.current as f64 <= room || h.current == 0 {
        return (end - now).max(0);
    }
    let into = 1.0 - room.max(0.0) / h.current as f64;
    (end + (into * WINDOW_MS as f64 - 1e-6).ceil() as i64 - now).max(0)
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

    /// Counts one attempt of `scope` now; refused, with how long to wait, when the address or
    /// the ID number (its blind index) is over its limit. A database that cannot count lets the
    /// attempt through: the attempt itself will then fail on the same database, and say so.
    pub async fn check(
        &self,
        scope: Scope,
        ip: &str,
        id_key: Option<&str>,
    ) -> Result<(), RetryAfter> {
        let now = self.clock.now_ms();
        let mut keys: Vec<(String, u32)> = Vec::with_capacity(2);
        let p = scope.prefix();
        if self.per_ip_hour > 0 {
            keys.push((format!("{p}:ip:{ip}"), self.per_ip_hour));
        }
        if let (Some(k), true) = (id_key, self.per_id_hour > 0) {
            keys.push((format!("{p}:id:{k}"), self.per_id_hour));
        }
        self.count(keys, now).await
    }

    /// Counts one attempt of `scope` from `ip` against a limit of its own (0: none).
    pub async fn check_address(
        &self,
        scope: Scope,
        ip: &str,
        per_hour: u32,
    ) -> Result<(), RetryAfter> {
        if per_hour == 0 {
            return Ok(());
        }
        let key = format!("{}:ip:{ip}", scope.prefix());
        self.count(vec![(key, per_hour)], self.clock.now_ms()).await
    }

    async fn count(&self, keys: Vec<(String, u32)>, now: i64) -> Result<(), RetryAfter> {
        if keys.is_empty() {
            return Ok(());
        }
        let counted = match &self.store {
            Store::Memory(map) => Ok(count_in_memory(map, &keys, now)),
            Store::Database(db) => count_in_database(db, &keys, now).await,
        };
        match counted {
            Ok(hits) => {
                let over = keys
                    .iter()
                    .zip(hits)
                    .filter(|((_, limit), h)| estimate(*h, now) > f64::from(*limit))
                    .map(|((_, limit), h)| wait_ms(h, now, *limit))
                    .max();
                match over {
                    None => Ok(()),
                    Some(ms) => Err(RetryAfter((ms.max(1000) as u64).div_ceil(1000))),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "rate limits could not be counted; attempt let through");
                Ok(())
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
        r#"WITH hit AS (INSERT INTO rate_hits AS r (key, window_start, hits) VALUES {}
         ON CONFLICT (key, window_start) DO UPDATE SET hits = r.hits + 1 RETURNING key, hits)
         SELECT hit.key, hit.hits, COALESCE(p.hits, 0) AS previous FROM hit
         LEFT JOIN rate_hits p ON p.key = hit.key AND p.window_start = $2"#,
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
        assert!(
            limits
                .check(Scope::Booking, "10.0.0.1", Some("person-a"))
                .await
                .is_ok()
        );
        assert!(
            limits
                .check(Scope::Booking, "10.0.0.1", Some("person-a"))
                .await
                .is_ok()
        );
        assert!(
            limits
                .check(Scope::Booking, "10.0.0.1", Some("person-a"))
                .await
                .is_err(),
            "a third attempt for the same ID number in the hour"
        );
        assert!(
            limits
                .check(Scope::Booking, "10.0.0.1", Some("person-b"))
                .await
                .is_ok()
        );
        assert!(
            limits
                .check(Scope::Booking, "10.0.0.1", Some("person-c"))
                .await
                .is_ok()
        );
        assert!(
            limits
                .check(Scope::Booking, "10.0.0.1", Some("person-d"))
                .await
                .is_err(),
            "a sixth attempt from one address"
        );
        assert!(
            limits.check(Scope::Booking, "10.0.0.2", None).await.is_ok(),
            "another address"
        );
        clock.advance_ms(3 * HOUR);
        limits.prune().await.expect("prune");
        if let Store::Memory(map) = &limits.store {
            assert!(map.lock().expect("lock").is_empty(), "idle keys forgotten");
        }
        assert!(
            limits
                .check(Scope::Booking, "10.0.0.1", Some("person-a"))
                .await
                .is_ok()
        );
        let off = RateLimits::new(0, 0, &db, clock);
        for _ in 0..100 {
            assert!(
                off.check(Scope::Booking, "10.0.0.1", Some("person-a"))
                    .await
                    .is_ok()
            );
        }
    }

    #[tokio::test]
    async fn scopes_count_apart_and_a_refusal_says_how_long_to_wait() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("l.db").display());
        let db = Db::connect(&url, &crate::db::DbOptions::default())
            .await
            .expect("db");
        let clock = Clock::fixed(500 * HOUR + HOUR / 2);
        let limits = RateLimits::new(2, 0, &db, clock.clone());
        for _ in 0..2 {
            assert!(limits.check(Scope::Booking, "10.0.0.9", None).await.is_ok());
        }
        let wait = limits
            .check(Scope::Booking, "10.0.0.9", None)
            .await
            .expect_err("a third booking attempt");
        // Half an hour into the hour with 3 attempts and a limit of 2: room comes when the
        // next hour has worn this one's share down to one attempt, 40 minutes into it.
        assert_eq!(wait, RetryAfter(HOUR as u64 / 2 / 1000 + 40 * 60));
        assert_eq!(wait.minutes(), 70);
        assert!(
            limits
                .check(Scope::Progress, "10.0.0.9", None)
                .await
                .is_ok(),
            "a progress lookup has its own counters"
        );
        clock.advance_ms(wait.0 as i64 * 1000);
        assert!(limits.check(Scope::Booking, "10.0.0.9", None).await.is_ok());
    }
}
