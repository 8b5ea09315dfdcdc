//! The holiday calendar in force (issue 11): the State Council's notices stored as versioned
//! entries, shared by every node and swapped in without a restart; the warnings before a
//! horizon reaches a year that is only provisional.
//!
//! Sources, in order: the latest entered version of a year (`calendar_notices`), the shipped
//! `data/calendar/<year>.toml`, the statutory rule ([`crate::domain::statutory`]). The yearly
//! routine is in docs/CONFIGURATION.md.

pub mod outlook;
pub mod store;

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use jiff::civil::Date;
use serde::Serialize;

use crate::db::Db;
use crate::domain::calendar::{Arrangement, HolidayCalendar, Source, YearSchedule};

/// The calendar every request and job reads: swapped whole when a notice is entered here or on
/// another node, so a use case that took a snapshot counts on one consistent calendar.
pub struct CalendarHandle {
    files: HolidayCalendar,
    current: ArcSwap<HolidayCalendar>,
    /// Entered versions that no longer pass the checks (kept out; shown to operators).
    problems: Mutex<Vec<String>>,
}

impl CalendarHandle {
    /// A handle on the shipped files alone (until [`CalendarHandle::reload`] reads the database).
    pub fn new(files: HolidayCalendar) -> CalendarHandle {
        CalendarHandle {
            current: ArcSwap::from_pointee(files.clone()),
            files,
            problems: Mutex::new(Vec::new()),
        }
    }

    /// The calendar in force now.
    pub fn current(&self) -> Arc<HolidayCalendar> {
        self.current.load_full()
    }

    /// What the shipped files say, without entered notices.
    pub fn files(&self) -> &HolidayCalendar {
        &self.files
    }

    /// Entered versions that were kept out because they no longer pass the checks.
    pub fn problems(&self) -> Vec<String> {
        match self.problems.lock() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads the entered notices and puts the resulting calendar in force; returns it.
    pub async fn reload(&self, db: &Db) -> Result<Arc<HolidayCalendar>, sqlx::Error> {
        let rows = store::latest_per_year(db.reader()).await?;
        let (calendar, problems) = build(&self.files, &rows);
        for p in &problems {
            tracing::error!(problem = %p, "an entered holiday notice is kept out of the calendar");
        }
        let calendar = Arc::new(calendar);
        self.current.store(calendar.clone());
        match self.problems.lock() {
            Ok(mut p) => *p = problems,
            Err(poisoned) => *poisoned.into_inner() = problems,
        }
        Ok(calendar)
    }
}

/// The calendar from the files and the entered versions in force (`rows`, one per year). A
/// stored version that fails the checks is our own data gone wrong: it is kept out, loudly.
pub fn build(files: &HolidayCalendar, rows: &[store::NoticeRow]) -> (HolidayCalendar, Vec<String>) {
    let mut calendar = files.clone();
    let mut problems = Vec::new();
    for row in rows {
        let checked = serde_json::from_str::<Arrangement>(&row.arrangement)
            .map_err(|e| e.to_string())
            .and_then(|a| {
                YearSchedule::official(
                    a,
                    Source::Entered {
                        version: row.version,
                        entered_at: row.entered_at,
                    },
                )
                .map_err(|p| p.to_string())
            });
        match checked {
            Ok(s) if i64::from(s.year()) == row.year => calendar.set(s),
            Ok(_) => problems.push(format!(
                "calendar_notices id {}: the arrangement is not for {}",
                row.id, row.year
            )),
            Err(e) => problems.push(format!(
                "calendar_notices year {} version {}: {e}",
                row.year, row.version
            )),
        }
    }
    (calendar, problems)
}

/// Reloads the calendar on this node whenever any node enters a notice (PostgreSQL carries the
/// event between nodes like the hall's live events).
pub fn spawn_follower(db: Db, handle: Arc<CalendarHandle>) {
    let mut events = db.subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(e) if e.topic == TOPIC => {}
                Ok(_) => continue,
                // Missed events: one of them may have been ours; reloading is cheap.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
            if let Err(e) = handle.reload(&db).await {
                tracing::warn!(error = %e, "cannot reload the holiday calendar; keeping the one in force");
            }
        }
    });
}

/// The event topic of a change of the calendar.
pub const TOPIC: &str = "calendar.changed";

/// A year's arrangement as the admin page and API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct YearView {
    pub year: i16,
    /// `file`, `entered` or `provisional`.
    pub source: String,
    pub version: Option<i64>,
    pub provisional: bool,
    pub notice: Option<crate::domain::calendar::Notice>,
    pub holidays: Vec<HolidayView>,
    #[schema(value_type = Vec<String>)]
    pub adjusted_workdays: Vec<Date>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HolidayView {
    pub festivals: Vec<crate::domain::statutory::Festival>,
    pub name_zh: String,
    pub name_en: String,
    #[schema(value_type = String, format = Date)]
    pub start: Date,
    #[schema(value_type = String, format = Date)]
    pub end: Date,
}

/// The view of `year` on `calendar`, or `None` for a year neither a notice nor the statute
/// reaches.
pub fn year_view(calendar: &HolidayCalendar, year: i16) -> Option<YearView> {
    let s = calendar.year(year)?;
    let (source, version) = match s.source() {
        Source::File { .. } => ("file", None),
        Source::Entered { version, .. } => ("entered", Some(*version)),
        Source::Provisional => ("provisional", None),
    };
    Some(YearView {
        year,
        source: source.into(),
        version,
        provisional: s.is_provisional(),
        notice: s.notice().cloned(),
        holidays: s
            .holidays()
            .iter()
            .map(|h| HolidayView {
                festivals: h.festivals.clone(),
                name_zh: h.name_zh.clone(),
                name_en: h.name_en.clone(),
                start: h.start,
                end: h.end,
            })
            .collect(),
        adjusted_workdays: s.adjusted_workdays().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(year: i64, version: i64, arrangement: String) -> store::NoticeRow {
        store::NoticeRow {
            id: version,
            year,
            version,
            arrangement,
            note: String::new(),
            entered_by: 1,
            entered_by_name: None,
            entered_at: 0,
        }
    }

    #[test]
    fn an_entered_version_overrides_the_file_and_a_bad_one_is_kept_out() {
        let files =
            HolidayCalendar::load_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/data/calendar"))
                .expect("files");
        let mut amended = files
            .official_year(2026)
            .and_then(YearSchedule::arrangement)
            .expect("2026");
        // An amendment extending National Day by a day (10-08, a Thursday).
        amended.holidays[6].end = "2026-10-08".parse().expect("date");
        let json = serde_json::to_string(&amended).expect("json");
        let (cal, problems) = build(&files, &[row(2026, 2, json)]);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(
            !cal.is_working_day("2026-10-08".parse().expect("date"))
                .expect("2026")
        );
        assert!(matches!(
            cal.official_year(2026).map(YearSchedule::source),
            Some(Source::Entered { version: 2, .. })
        ));
        // Unreadable or failing the checks: kept out, said loudly, the file stays in force.
        let (cal, problems) = build(&files, &[row(2026, 3, "{}".into())]);
        assert_eq!(problems.len(), 1);
        assert!(
            cal.is_working_day("2026-10-08".parse().expect("date"))
                .expect("2026")
        );
        amended.year = 2027;
        let json = serde_json::to_string(&amended).expect("json");
        let (_, problems) = build(&files, &[row(2027, 1, json)]);
        assert_eq!(problems.len(), 1, "2026 dates entered as 2027");
    }
}
