//! The staffing planner (issue 16): for a site and a day, per line and opening hour, the
//! arrivals to expect (the same weekday of recent weeks, or, on the first working day after a
//! holiday, recent such days), the service times the line measured, and the windows needed so
//! that a target share waits no longer than a target, by Erlang C, each checked by simulating
//! the hall's own calling order with the measured service times. Next to it: the windows the
//! line had on those days, and the waits each rota would give.

use jiff::ToSpan;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::{Any, Executor, Row};

use super::erlang;
use super::simulate::{self, ClassMix, ServiceTimes};
use crate::domain::calendar::HolidayCalendar;
use crate::queue::TicketClass;

/// The wait target: at least `share` of citizens called within `wait_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Targets {
    pub share: f64,
    pub wait_minutes: f64,
}

/// Reference days a plan is built from.
pub const REFERENCE_DAYS: usize = 4;
/// Hours of simulated traffic per checked hour: long enough for a steady share.
const SIMULATED_HOURS: f64 = 100.0;
/// No line is planned beyond this many windows.
const MAX_WINDOWS: u32 = 60;

/// Where the expected arrivals come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The same weekday of recent weeks.
    SameWeekday,
    /// Recent first working days after a holiday (the rush after a break).
    AfterHoliday,
    /// No history yet: nothing to plan from.
    NoHistory,
}

/// One opening hour of a line.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HourPlan {
    /// Local hour the slot starts (9 = 09:00–10:00).
    pub hour: u8,
    pub expected_arrivals: f64,
    /// Windows needed for the target (Erlang C); `None`: more than the planner's maximum.
    pub needed_windows: Option<u32>,
    /// The share called within the target wait with the needed windows, simulated.
    pub needed_share: Option<f64>,
    /// Windows that served the line in this hour on the reference days (average, rounded).
    pub staffed_windows: u32,
    /// The share within the target with the staffed windows, simulated (`None`: none staffed
    /// while citizens came).
    pub staffed_share: Option<f64>,
}

/// A line's plan for the day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LinePlan {
    pub line: String,
    pub basis: Basis,
    #[schema(value_type = Vec<String>)]
    pub reference_days: Vec<String>,
    /// Measured from start to finish on the reference period's served tickets.
    pub mean_service_minutes: f64,
    /// Hours whose expected arrivals were entered by hand, not taken from the history.
    pub entered_hours: Vec<u8>,
    pub hours: Vec<HourPlan>,
}

/// A served or waiting ticket of the history, as the planner reads it.
struct Past {
    date: String,
    issued_at: i64,
    class: TicketClass,
    called_at: Option<i64>,
    window_id: Option<i64>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

/// The days in `[from, to)` on which the line issued tickets at the site (one row a day).
async fn days_with_tickets<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    line: &str,
    from: &str,
    to: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        r#"SELECT DISTINCT date FROM tickets
         WHERE site_id = $1 AND line_code = $2 AND date >= $3 AND date < $4 ORDER BY date"#,
    )
    .bind(site_id)
    .bind(line)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| r.try_get("date"))
    .collect()
}

/// The line's tickets of one day.
async fn tickets_of_day<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    line: &str,
    date: &str,
) -> Result<Vec<Past>, sqlx::Error> {
    sqlx::query(
        r#"SELECT date, issued_at, class, called_at, window_id, started_at, finished_at FROM tickets
         WHERE site_id = $1 AND date = $2 AND line_code = $3"#,
    )
    .bind(site_id)
    .bind(date)
    .bind(line)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        let class: String = r.try_get("class")?;
        Ok(Past {
            date: r.try_get("date")?,
            issued_at: r.try_get("issued_at")?,
            class: TicketClass::parse(&class)
                .ok_or_else(|| sqlx::Error::Decode(format!("ticket class {class}").into()))?,
            called_at: r.try_get("called_at")?,
            window_id: r.try_get("window_id")?,
            started_at: r.try_get("started_at")?,
            finished_at: r.try_get("finished_at")?,
        })
    })
    .collect()
}

fn local_hour(ms: i64) -> u8 {
    // Asia/Shanghai has no daylight saving: UTC+8 all year.
    ((ms.div_euclid(1000) + 8 * 3600)
        .div_euclid(3600)
        .rem_euclid(24)) as u8
}

/// The first working day after a holiday (the day before it was one).
fn after_holiday(cal: &HolidayCalendar, date: Date) -> bool {
    date.yesterday()
        .ok()
        .is_some_and(|d| cal.holiday_on(d).is_some())
        && cal.is_working_day(date).unwrap_or(false)
}

/// The days to learn from: up to [`REFERENCE_DAYS`] earlier days of the same kind that had
/// tickets at the site, newest first.
fn reference_days(cal: &HolidayCalendar, date: Date, had_tickets: &[String]) -> (Basis, Vec<Date>) {
    let with_tickets = |d: &Date| had_tickets.iter().any(|t| *t == d.to_string());
    if after_holiday(cal, date) {
        let days: Vec<Date> = (1..=365)
            .filter_map(|n| date.checked_sub(n.days()).ok())
            .filter(|d| after_holiday(cal, *d) && with_tickets(d))
            .take(REFERENCE_DAYS)
            .collect();
        if !days.is_empty() {
            return (Basis::AfterHoliday, days);
        }
    }
    let days: Vec<Date> = (1..=12)
        .filter_map(|w| date.checked_sub((7 * w).days()).ok())
        .filter(with_tickets)
        .take(REFERENCE_DAYS)
        .collect();
    if days.is_empty() {
        (Basis::NoHistory, days)
    } else {
        (Basis::SameWeekday, days)
    }
}

/// What to plan: a line at a site on a date, over its opening hours (local hours that start a
/// period of service).
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub site_id: i64,
    pub line: &'a str,
    pub date: Date,
    pub hours: &'a [u8],
    /// Arrivals per hour entered by hand (a fair, a school holiday, a new rule): they replace
    /// the history's figure for those hours.
    pub entered: &'a [(u8, f64)],
}

/// Plans one line; `max_wait_minutes` is the calling order's maximum-wait rule.
pub async fn plan_line<'e>(
    ex: impl Executor<'e, Database = Any> + Copy,
    cal: &HolidayCalendar,
    q: Question<'_>,
    targets: Targets,
    max_wait_minutes: f64,
) -> Result<LinePlan, sqlx::Error> {
    let Question {
        site_id,
        line,
        date,
        hours,
        entered,
    } = q;
    let from = date
        .checked_sub(365.days())
        .map(|d| d.to_string())
        .unwrap_or_default();
    // Which days had tickets (one row a day), then the tickets of the few reference days only:
    // a year of a busy hall is never read whole.
    let had = days_with_tickets(ex, site_id, line, &from, &date.to_string()).await?;
    let (basis, days) = reference_days(cal, date, &had);
    let day_strings: Vec<String> = days.iter().map(|d| d.to_string()).collect();
    let mut past = Vec::new();
    for day in &day_strings {
        past.extend(tickets_of_day(ex, site_id, line, day).await?);
    }
    let used: Vec<&Past> = past.iter().collect();
    let service_s: Vec<f64> = used
        .iter()
        .filter_map(|p| match (p.started_at, p.finished_at) {
            (Some(s), Some(f)) if f > s => Some((f - s) as f64 / 1000.0),
            _ => None,
        })
        .collect();
    let service = ServiceTimes::Measured(service_s);
    let mean_service_s = service.mean_s();
    let n = used.len().max(1) as f64;
    let share = |c: TicketClass| used.iter().filter(|p| p.class == c).count() as f64 / n;
    let mix = ClassMix {
        green: share(TicketClass::Green),
        love: share(TicketClass::Love),
        appointment: share(TicketClass::Appointment),
    };
    let ndays = days.len().max(1) as f64;
    let target_s = targets.wait_minutes * 60.0;
    let check = |seed: u64, per_hour: f64, windows: u32| -> Option<f64> {
        if windows == 0 || mean_service_s <= 0.0 {
            return None;
        }
        let arrivals = simulate::arrivals(seed, per_hour, SIMULATED_HOURS, mix, &service);
        Some(simulate::run(&arrivals, windows, max_wait_minutes * 60.0).share_within(target_s))
    };
    let plans = hours
        .iter()
        .map(|&hour| {
            let in_hour: Vec<&&Past> = used
                .iter()
                .filter(|p| local_hour(p.issued_at) == hour)
                .collect();
            let expected = entered
                .iter()
                .find(|(h, _)| *h == hour)
                .map(|(_, n)| *n)
                .unwrap_or(in_hour.len() as f64 / ndays);
            let mut windows_per_day: Vec<(String, i64)> = used
                .iter()
                .filter(|p| p.called_at.is_some_and(|c| local_hour(c) == hour))
                .filter_map(|p| p.window_id.map(|w| (p.date.clone(), w)))
                .collect();
            windows_per_day.sort();
            windows_per_day.dedup();
            let staffed = (windows_per_day.len() as f64 / ndays).round() as u32;
            let needed = if mean_service_s > 0.0 {
                erlang::windows_needed(
                    expected,
                    mean_service_s / 60.0,
                    targets.share,
                    targets.wait_minutes,
                    MAX_WINDOWS,
                )
            } else {
                Some(0)
            };
            let seed = u64::from(hour) + 1;
            HourPlan {
                hour,
                expected_arrivals: (expected * 10.0).round() / 10.0,
                needed_windows: needed,
                needed_share: needed.and_then(|c| check(seed, expected, c)),
                staffed_windows: staffed,
                staffed_share: if expected > 0.0 {
                    check(seed, expected, staffed)
                } else {
                    None
                },
            }
        })
        .collect();
    Ok(LinePlan {
        line: line.to_string(),
        entered_hours: entered.iter().map(|(h, _)| *h).collect(),
        basis,
        reference_days: day_strings,
        mean_service_minutes: (mean_service_s / 60.0 * 10.0).round() / 10.0,
        hours: plans,
    })
}

/// Why hand-entered arrivals were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected arrivals: {0:?} is not line:hour=count")]
pub struct EnteredError(pub String);

impl crate::i18n::UserMessage for EnteredError {
    fn code(&self) -> &'static str {
        "staffing.expected_arrivals"
    }
    fn message(&self, lang: crate::i18n::Lang) -> String {
        match lang {
            crate::i18n::Lang::ZhCn => format!(
                "预计到达人数“{}”格式不对：应为 业务:时=人数，例如 first_issue:9=40,10=55;renewal:9=20（时为 0–23，人数为 0–10000）。",
                self.0
            ),
            crate::i18n::Lang::En => format!(
                "Expected arrivals “{}” are not understood: write line:hour=count, e.g. first_issue:9=40,10=55;renewal:9=20 (hours 0–23, counts 0–10000).",
                self.0
            ),
        }
    }
}

/// Parses hand-entered arrivals, `line:hour=count,hour=count;line:…`, for the known lines.
pub fn parse_entered(
    text: &str,
    lines: &[&str],
) -> Result<std::collections::BTreeMap<String, Vec<(u8, f64)>>, EnteredError> {
    let mut out: std::collections::BTreeMap<String, Vec<(u8, f64)>> = Default::default();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || EnteredError(part.chars().take(80).collect());
        let (line, hours) = part.split_once(':').ok_or_else(bad)?;
        let line = line.trim();
        if !lines.contains(&line) {
            return Err(bad());
        }
        let entry = out.entry(line.to_string()).or_default();
        for pair in hours.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (h, n) = pair.split_once('=').ok_or_else(bad)?;
            let h: u8 = h.trim().parse().map_err(|_| bad())?;
            let n: f64 = n.trim().parse().map_err(|_| bad())?;
            if h > 23 || !(0.0..=10_000.0).contains(&n) {
                return Err(bad());
            }
            entry.retain(|(x, _)| *x != h);
            entry.push((h, n));
        }
    }
    Ok(out)
}

/// The local hours a day's opening periods cover (a period 08:30–12:00 covers 8 to 11).
pub fn opening_hours(periods: &[crate::domain::opening::Period]) -> Vec<u8> {
    let mut hours: Vec<u8> = periods
        .iter()
        .flat_map(|p| {
            let start = p.start.hour();
            let end = if p.end.minute() > 0 {
                p.end.hour() + 1
            } else {
                p.end.hour()
            };
            (start..end).filter_map(|h| u8::try_from(h).ok())
        })
        .collect();
    hours.sort_unstable();
    hours.dedup();
    hours
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_local_to_the_hall() {
        // 2026-12-03 09:30 +08:00.
        let ms = jiff::Timestamp::from_second(1_796_261_400)
            .expect("ts")
            .as_millisecond();
        assert_eq!(local_hour(ms), 9);
    }

    #[test]
    fn opening_periods_become_hours() {
        use jiff::civil::time;
        let periods = [
            crate::domain::opening::Period::new(time(8, 30, 0, 0), time(12, 0, 0, 0)).expect("p"),
            crate::domain::opening::Period::new(time(14, 0, 0, 0), time(17, 30, 0, 0)).expect("p"),
        ];
        assert_eq!(opening_hours(&periods), vec![8, 9, 10, 11, 14, 15, 16, 17]);
    }
}
