//! The live hall (issue 16, R14): for the duty leader, right now at one site — waiting per
//! line and the longest wait, every window open, paused or closed with who is at it and what
//! it serves, tickets served this hour, devices needing attention, appointments still due
//! today. Read straight from the day's rows (a day is a few thousand), so it is exact; the page
//! follows the event bus, which carries events across nodes.

pub mod web;

use serde::Serialize;
use sqlx::{Any, Executor, Row};

use crate::clock::Clock;
use crate::db::Db;

/// A line's queue now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineNow {
    pub line: String,
    pub waiting: i64,
    /// Minutes the longest-waiting ticket has waited (0 when nobody waits).
    pub longest_wait_minutes: i64,
}

/// A window now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WindowNow {
    pub number: i64,
    pub kind: String,
    /// `open`, `paused` or `closed`.
    pub status: String,
    /// Name and badge of the officer at it (open or paused).
    pub officer: Option<String>,
    /// The ticket it is calling or serving.
    pub serving: Option<String>,
}

/// The hall now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HallNow {
    pub site_id: i64,
    /// Epoch milliseconds of the reading.
    pub at: i64,
    pub lines: Vec<LineNow>,
    pub windows: Vec<WindowNow>,
    pub windows_open: i64,
    pub windows_paused: i64,
    /// Tickets finished since the start of this hour.
    pub served_this_hour: i64,
    /// Tickets finished today.
    pub served_today: i64,
    /// Today's bookings not arrived yet whose time has not passed.
    pub appointments_due: i64,
    /// Devices offline or with a fault.
    pub devices_alerting: Vec<crate::device_registry::DeviceState>,
}

async fn lines_now<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    date: &str,
    now: i64,
) -> Result<Vec<LineNow>, sqlx::Error> {
    sqlx::query(
        r#"SELECT line_code, COUNT(*) AS n, MIN(issued_at) AS oldest FROM tickets
         WHERE site_id = $1 AND date = $2 AND status = 'waiting' GROUP BY line_code ORDER BY line_code"#,
    )
    .bind(site_id)
    .bind(date)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        let oldest: Option<i64> = r.try_get("oldest")?;
        Ok(LineNow {
            line: r.try_get("line_code")?,
            waiting: r.try_get("n")?,
            longest_wait_minutes: oldest.map_or(0, |o| (now - o).max(0) / 60_000),
        })
    })
    .collect()
}

async fn windows_now<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    date: &str,
) -> Result<Vec<WindowNow>, sqlx::Error> {
    sqlx::query(
        r#"SELECT w.number, w.kind, COALESCE(s.status, 'closed') AS status, st.display_name, st.badge_no,
           (SELECT t.number FROM tickets t WHERE t.window_id = w.id AND t.date = $2
              AND t.status IN ('called', 'serving') ORDER BY t.called_at DESC LIMIT 1) AS serving
         FROM windows w
         LEFT JOIN window_states s ON s.window_id = w.id
         LEFT JOIN staff st ON st.id = s.officer_id
         WHERE w.site_id = $1 AND w.active = 1 ORDER BY w.number"#,
    )
    .bind(site_id)
    .bind(date)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        let status: String = r.try_get("status")?;
        let name: Option<String> = r.try_get("display_name")?;
        let badge: Option<String> = r.try_get("badge_no")?;
        Ok(WindowNow {
            number: r.try_get("number")?,
            kind: r.try_get("kind")?,
            officer: match (status.as_str(), name, badge) {
                ("open" | "paused", Some(n), Some(b)) => Some(format!("{n} ({b})")),
                _ => None,
            },
            serving: r.try_get("serving")?,
            status,
        })
    })
    .collect()
}

async fn count<'e>(
    ex: impl Executor<'e, Database = Any>,
    sql: &'static str,
    site_id: i64,
    date: &str,
    since: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(sql)
        .bind(site_id)
        .bind(date)
        .bind(since)
        .fetch_one(ex)
        .await?
        .try_get("n")
}

/// The hall of `site_id` now.
pub async fn now(db: &Db, clock: &Clock, site_id: i64) -> Result<HallNow, sqlx::Error> {
    let at = clock.now_ms();
    let date = clock.today().to_string();
    let hour_start = at - at.rem_euclid(3_600_000);
    let reader = db.reader();
    let lines = lines_now(reader, site_id, &date, at).await?;
    let windows = windows_now(reader, site_id, &date).await?;
    let served_this_hour = count(
        reader,
        "SELECT COUNT(*) AS n FROM tickets WHERE site_id = $1 AND date = $2 AND finished_at >= $3",
        site_id,
        &date,
        hour_start,
    )
    .await?;
    let served_today = count(
        reader,
        "SELECT COUNT(*) AS n FROM tickets WHERE site_id = $1 AND date = $2 AND finished_at >= $3",
        site_id,
        &date,
        0,
    )
    .await?;
    let appointments_due = count(
        reader,
        "SELECT COUNT(*) AS n FROM bookings WHERE site_id = $1 AND date = $2 AND status = 'booked' AND starts_at >= $3",
        site_id,
        &date,
        at - 60 * 60_000,
    )
    .await?;
    let devices_alerting = crate::device_registry::states(db, clock, Some(&[site_id]))
        .await?
        .into_iter()
        .filter(|d| d.alerting())
        .collect();
    Ok(HallNow {
        site_id,
        at,
        windows_open: windows.iter().filter(|w| w.status == "open").count() as i64,
        windows_paused: windows.iter().filter(|w| w.status == "paused").count() as i64,
        lines,
        windows,
        served_this_hour,
        served_today,
        appointments_due,
        devices_alerting,
    })
}
