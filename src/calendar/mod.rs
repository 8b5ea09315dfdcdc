//! The holiday calendar in force (issue 11): the State Council's notices stored as versioned
//! entries, shared by every node and swapped in without a restart; the warnings before a
//! horizon reaches a year that is only provisional.
//!
//! Sources, in order: the latest entered version of a year (`calendar_notices`), the shipped
//! `data/calendar/<year>.toml`, the statutory rule ([`crate::domain::statutory`]). The yearly
//! routine is in docs/CONFIGURATION.md.

pub mod outlook;
pub mod pages;
mod store;
pub mod web;

/// What other capabilities may read or record through calendar's store (the store itself is private).
pub use store::{NewNotice, all_versions, insert_notice, versions};

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use jiff::civil::Date;
use serde::Serialize;

use crate::audit::{self, AuditEntry};
use crate::auth::AdminCap;
use crate::db::{Db, is_unique_violation};
use crate::domain::calendar::{
    Arrangement, HolidayCalendar, ScheduleProblem, Source, YearSchedule,
};
use crate::error::Failure;
use crate::i18n::{Lang, UserMessage};

/// The calendar every request and job reads: swapped whole when a notice is entered here or on
/// another node, so a use case that took a snapshot counts on one consistent calendar.
pub struct CalendarHandle {
    files: HolidayCalendar,
    current: ArcSwap<HolidayCalendar>,
    /// Entered versions that no longer pass the checks (kept out; shown to operators).
    problems: Mutex<Vec<String>>,
    /// The longest booking window set for any site and line, in days (0: none set): how far
    /// bookings reach, for the warnings (read on every page, refreshed from the database).
    booking_reach: AtomicI64,
    /// When `booking_reach` was last read from the database (epoch ms).
    reach_read_at: AtomicI64,
}

impl CalendarHandle {
    /// A handle on the shipped files alone (until [`CalendarHandle::reload`] reads the database).
    pub fn new(files: HolidayCalendar) -> CalendarHandle {
        CalendarHandle {
            current: ArcSwap::from_pointee(files.clone()),
            files,
            problems: Mutex::new(Vec::new()),
            booking_reach: AtomicI64::new(0),
            reach_read_at: AtomicI64::new(i64::MIN),
        }
    }

    /// The longest booking window set at any site (0 when none is set).
    pub fn booking_reach(&self) -> i64 {
        self.booking_reach.load(Ordering::Relaxed)
    }

    /// Re-reads the longest booking window when the copy is older than 30 s (health checks and
    /// metrics scrapes: changes made on other nodes show within that, and a probe costs no
    /// query most of the time).
    pub async fn refresh_booking_reach_if_stale(
        &self,
        db: &Db,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let read = self.reach_read_at.load(Ordering::Relaxed);
        if now.saturating_sub(read) < 30_000 {
            return Ok(());
        }
        self.reach_read_at.store(now, Ordering::Relaxed);
        self.refresh_booking_reach(db).await
    }

    /// Re-reads the longest booking window set at any site (after a change of the settings
    /// here, at start-up and when a notice is entered).
    pub async fn refresh_booking_reach(&self, db: &Db) -> Result<(), sqlx::Error> {
        let days = crate::booking::longest_window(db.reader())
            .await?
            .unwrap_or(0);
        self.booking_reach.store(days, Ordering::Relaxed);
        Ok(())
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
        self.refresh_booking_reach(db).await?;
        let rows = store::all_versions(db.reader()).await?;
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

/// The calendar from the files and the entered versions (`rows`, each year's latest first):
/// the latest version of a year that passes the checks is in force. A stored version that
/// fails them is our own data gone wrong: it is kept out, loudly, and the version before it
/// stays in force.
pub fn build(files: &HolidayCalendar, rows: &[store::NoticeRow]) -> (HolidayCalendar, Vec<String>) {
    let mut calendar = files.clone();
    let mut problems = Vec::new();
    let mut settled = std::collections::BTreeSet::new();
    for row in rows {
        if settled.contains(&row.year) {
            continue;
        }
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
            Ok(s) if i64::from(s.year()) == row.year => {
                calendar.set(s);
                settled.insert(row.year);
            }
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
                // A notice entered while this node's listener was reconnecting: read them again.
                Ok(e) if e.topic == TOPIC || e.topic == crate::db::RESUMED => {}
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

/// What entering a notice needs: the calendar, and the applications and appointments it may
/// move.
pub struct Ctx<'a> {
    pub applications: crate::applications::Ctx<'a>,
    pub booking: crate::booking::Ctx<'a>,
}

/// What an administrator enters: the notice and why this version.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NoticeInput {
    #[serde(flatten)]
    pub arrangement: Arrangement,
    /// Why this version (required for an amendment, e.g. the amending notice's number).
    #[serde(default)]
    pub note: String,
}

/// Why a notice was not entered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarAdminError {
    #[error("{0}")]
    Invalid(ScheduleProblem),
    #[error("only an administrator of every site may enter the holiday arrangement")]
    AllSitesOnly,
    #[error("{year} is over; past years are not changed")]
    PastYear { year: i16 },
    #[error("{year} is too far ahead")]
    TooFarAhead { year: i16 },
    #[error("the year in the path and in the body differ")]
    YearMismatch,
    #[error("an amendment needs a reason")]
    AmendmentReason,
    #[error("another administrator entered this year at the same moment")]
    Concurrent,
    #[error("{field}: {value} is not a date")]
    BadDate { field: String, value: String },
}

impl UserMessage for CalendarAdminError {
    fn code(&self) -> &'static str {
        match self {
            CalendarAdminError::Invalid(p) => p.code(),
            CalendarAdminError::AllSitesOnly => "calendar.all_sites_only",
            CalendarAdminError::PastYear { .. } => "calendar.past_year",
            CalendarAdminError::TooFarAhead { .. } => "calendar.too_far_ahead",
            CalendarAdminError::YearMismatch => "calendar.year_mismatch",
            CalendarAdminError::AmendmentReason => "calendar.amendment_reason",
            CalendarAdminError::Concurrent => "calendar.concurrent",
            CalendarAdminError::BadDate { .. } => "calendar.bad_date",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match self {
            CalendarAdminError::Invalid(p) => p.message(lang),
            CalendarAdminError::AllSitesOnly => lang
                .pick(
                    "节假日安排适用于所有办证点，只有全局管理员可以录入。",
                    "The holiday arrangement applies to every site; only an administrator of every site may enter it.",
                )
                .into(),
            CalendarAdminError::PastYear { year } => match lang {
                Lang::ZhCn => format!("{year}年已经过去，不能再录入或修改其放假安排。"),
                Lang::En => format!("{year} is over; its arrangement can no longer be entered or changed."),
            },
            CalendarAdminError::TooFarAhead { year } => match lang {
                Lang::ZhCn => format!("{year}年太远：国务院每年只公布次年的放假安排。"),
                Lang::En => format!("{year} is too far ahead: the State Council publishes one year ahead."),
            },
            CalendarAdminError::YearMismatch => lang
                .pick("地址中的年份与内容中的年份不一致。", "The year in the address and the year in the body differ.")
                .into(),
            CalendarAdminError::AmendmentReason => lang
                .pick(
                    "该年已有放假安排，修改时须写明原因（如变更通知的文号）。",
                    "This year already has an arrangement: say why it is amended (e.g. the amending notice's number).",
                )
                .into(),
            CalendarAdminError::Concurrent => lang
                .pick(
                    "另一位管理员刚刚录入了该年的安排，请刷新后核对再提交。",
                    "Another administrator has just entered this year; reload, check and submit again.",
                )
                .into(),
            CalendarAdminError::BadDate { field, value } => match lang {
                Lang::ZhCn => format!("「{field}」的日期“{value}”无效，请按 年-月-日（如 2027-01-01）填写。"),
                Lang::En => format!("{field}: “{value}” is not a date; write it as year-month-day (e.g. 2027-01-01)."),
            },
        }
    }
}

/// An entered version and what it changed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entered {
    pub notice_id: i64,
    pub year: i16,
    pub version: i64,
    pub report: Report,
}

/// What entering a version changed (issue 11 item 3): promised dates of open applications
/// and the days with open appointments that became days off.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Report {
    pub promised: Vec<crate::applications::PromisedChange>,
    /// Documents whose provisional promised date was confirmed unchanged.
    pub confirmed: usize,
    /// Days a site had opened for appointments that are now days off.
    #[serde(default)]
    pub days_closed: Vec<crate::booking::DayClosed>,
}

impl Report {
    /// Citizens told of a change (one text each).
    pub fn texts(&self) -> usize {
        self.promised.iter().filter(|p| p.texted).count()
            + self.days_closed.iter().map(|d| d.cancelled).sum::<usize>()
    }
}

/// Enters a year's arrangement as the notice reads (a new version when the year has one),
/// puts it in force on every node, and recomputes what it moves.
pub async fn enter_notice(
    ctx: &Ctx<'_>,
    admin: AdminCap<'_>,
    input: NoticeInput,
) -> Result<Entered, Failure<CalendarAdminError>> {
    if admin.site().is_some() {
        return Err(Failure::Refused(CalendarAdminError::AllSitesOnly));
    }
    let year = input.arrangement.year;
    let clock = ctx.applications.clock;
    let today = clock.today();
    if year < today.year() {
        return Err(Failure::Refused(CalendarAdminError::PastYear { year }));
    }
    if year > today.year().saturating_add(2) {
        return Err(Failure::Refused(CalendarAdminError::TooFarAhead { year }));
    }
    let now = clock.now_ms();
    YearSchedule::official(
        input.arrangement.clone(),
        Source::Entered {
            version: 0,
            entered_at: now,
        },
    )
    .map_err(|p| Failure::Refused(CalendarAdminError::Invalid(p)))?;
    let note = input.note.trim().to_owned();
    let db = ctx.applications.db;
    let json =
        serde_json::to_string(&input.arrangement).map_err(|e| Failure::Internal(e.to_string()))?;

    let mut tx = db.begin().await?;
    let version = store::next_version(&mut tx, i64::from(year)).await?;
    let handle = ctx.applications.calendar;
    let had_official = handle.current().covers(year);
    if (version > 1 || had_official) && note.chars().count() < 2 {
        return Err(Failure::Refused(CalendarAdminError::AmendmentReason));
    }
    let notice_id = match store::insert_notice(
        &mut tx,
        &store::NewNotice {
            year: i64::from(year),
            version,
            arrangement: &json,
            note: &note,
            entered_by: admin.actor().staff_id,
            now,
        },
    )
    .await
    {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            return Err(Failure::Refused(CalendarAdminError::Concurrent));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &mut tx,
        AuditEntry::by(
            admin.actor(),
            "calendar.notice_entered",
            "calendar_year",
            &year.to_string(),
            now,
        )
        .detail(serde_json::json!({
            "version": version,
            "title": input.arrangement.notice.title,
            "document_number": input.arrangement.notice.document_number,
            "note": note,
        })),
    )
    .await?;
    tx.commit().await?;

    // In force here at once; the other nodes follow the event.
    let after = handle.reload(db).await?;
    db.publish(TOPIC, serde_json::json!({"year": year, "version": version}));
    let report = recompute(ctx, admin, &after, year).await?;
    let text = serde_json::to_string(&report).map_err(|e| Failure::Internal(e.to_string()))?;
    store::insert_report(db.reader(), notice_id, &text, clock.now_ms()).await?;
    tracing::info!(
        year,
        version,
        promised_changed = report.promised.len(),
        days_closed = report.days_closed.len(),
        "holiday notice entered"
    );
    Ok(Entered {
        notice_id,
        year,
        version,
        report,
    })
}

/// Recomputes what `after` moves in `year`: promised dates of open applications, and open
/// appointment days that became days off (each citizen texted once). Idempotent: what already
/// agrees with `after` is left alone.
pub async fn recompute(
    ctx: &Ctx<'_>,
    admin: AdminCap<'_>,
    after: &HolidayCalendar,
    year: i16,
) -> Result<Report, Failure<CalendarAdminError>> {
    let (promised, confirmed) =
        crate::applications::recompute_promised_dates(&ctx.applications, after, year).await?;
    let days_closed = crate::booking::close_new_days_off(&ctx.booking, admin, after, year)
        .await
        .map_err(|e| match e {
            Failure::Refused(r) => Failure::Internal(r.to_string()),
            Failure::Storage(e) => Failure::Storage(e),
            Failure::Internal(m) => Failure::Internal(m),
        })?;
    Ok(Report {
        promised,
        confirmed,
        days_closed,
    })
}

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
        let (cal, problems) = build(&files, &[row(2026, 2, json.clone())]);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(
            !cal.is_working_day("2026-10-08".parse().expect("date"))
                .expect("2026")
        );
        assert!(matches!(
            cal.official_year(2026).map(YearSchedule::source),
            Some(Source::Entered { version: 2, .. })
        ));
        // Unreadable or failing the checks: kept out, said loudly, the file stays in force...
        let (cal, problems) = build(&files, &[row(2026, 3, "{}".into())]);
        assert_eq!(problems.len(), 1);
        assert!(
            cal.is_working_day("2026-10-08".parse().expect("date"))
                .expect("2026")
        );
        // ...or the version before it.
        let (cal, problems) = build(
            &files,
            &[row(2026, 3, "{}".into()), row(2026, 2, json.clone())],
        );
        assert_eq!(problems.len(), 1);
        assert!(matches!(
            cal.official_year(2026).map(YearSchedule::source),
            Some(Source::Entered { version: 2, .. })
        ));
        amended.year = 2027;
        let json = serde_json::to_string(&amended).expect("json");
        let (_, problems) = build(&files, &[row(2027, 1, json)]);
        assert_eq!(problems.len(), 1, "2026 dates entered as 2027");
    }
}
