//! Retention (R15, issue 17): once a kind of record's period has passed since the record
//! ended, its personal data is erased — sealed values emptied, blind indexes and tokens
//! replaced by `erased:<id>`, free text emptied, short-lived rows removed — while everything
//! the reports count stays; a record under an open case is never touched. Each run writes one
//! audit entry per kind with its counts. docs/RETENTION.md lists every table concerned, what is
//! erased from it, and the basis of each period.

mod store;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::audit::{self, AuditEntry};
use crate::clock::Clock;
use crate::config::Retention;
use crate::db::Db;

pub use store::BATCH;

const DAY_MS: i64 = 86_400_000;

/// A kind of record with its own retention period (`[retention]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Appointments,
    Applications,
    Complaints,
    Ratings,
    Callbacks,
    Texts,
    StaffSessions,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Appointments,
        Kind::Applications,
        Kind::Complaints,
        Kind::Ratings,
        Kind::Callbacks,
        Kind::Texts,
        Kind::StaffSessions,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Kind::Appointments => "appointments",
            Kind::Applications => "applications",
            Kind::Complaints => "complaints",
            Kind::Ratings => "ratings",
            Kind::Callbacks => "callbacks",
            Kind::Texts => "texts",
            Kind::StaffSessions => "staff_sessions",
        }
    }

    /// The configured period in days; 0 keeps the kind for ever.
    pub fn days(self, r: &Retention) -> u32 {
        match self {
            Kind::Appointments => r.appointments_days,
            Kind::Applications => r.applications_days,
            Kind::Complaints => r.complaints_days,
            Kind::Ratings => r.ratings_days,
            Kind::Callbacks => r.callbacks_days,
            Kind::Texts => r.texts_days,
            Kind::StaffSessions => r.staff_sessions_days,
        }
    }
}

/// Who started a purge, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The server's nightly job.
    Daily,
    /// An operator's `onetrip purge`.
    Command,
}

impl Trigger {
    fn code(self) -> &'static str {
        match self {
            Trigger::Daily => "daily",
            Trigger::Command => "command",
        }
    }
}

/// What a purge did to one kind, or — dry — would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindReport {
    pub kind: Kind,
    /// The period; `None` when the kind is kept for ever.
    pub days: Option<u32>,
    /// Records that ended before this instant (epoch ms) were due.
    pub cutoff: Option<i64>,
    /// Records erased or removed (the kind's own rows, not those hanging on them).
    pub records: u64,
    /// Rows changed per table: the records' own and those hanging on them.
    pub rows: BTreeMap<&'static str, u64>,
}

/// Erases (or, when `dry_run`, counts) the personal data of every kind whose period has passed,
/// batch by batch, and — unless dry — records one audit entry per kind. Running it again
/// changes nothing until more records come due.
pub async fn purge(
    db: &Db,
    clock: &Clock,
    settings: &Retention,
    dry_run: bool,
    trigger: Trigger,
) -> Result<Vec<KindReport>, sqlx::Error> {
    // One instant for the whole run, so every batch of a kind has the same cutoff.
    let now = clock.now_ms();
    let mut out = Vec::with_capacity(Kind::ALL.len());
    for kind in Kind::ALL {
        let days = kind.days(settings);
        let mut report = KindReport {
            kind,
            days: (days > 0).then_some(days),
            cutoff: None,
            records: 0,
            rows: BTreeMap::new(),
        };
        if days > 0 {
            let cutoff = now - i64::from(days) * DAY_MS;
            report.cutoff = Some(cutoff);
            let cut = store::Cutoff::at(cutoff);
            for root in store::roots(kind) {
                if dry_run {
                    store::count(db, root, &cut, &mut report).await?;
                } else {
                    store::erase(db, root, &cut, now, &mut report).await?;
                }
            }
        }
        if !dry_run {
            let mut tx = db.begin().await?;
            audit::record(
                &mut tx,
                AuditEntry::by_system("retention.purge", "retention", kind.code(), now).detail(
                    serde_json::json!({
                        "trigger": trigger.code(),
                        "days": report.days,
                        "cutoff": report.cutoff,
                        "records": report.records,
                        "rows": report.rows,
                    }),
                ),
            )
            .await?;
            tx.commit().await?;
        }
        out.push(report);
    }
    Ok(out)
}

/// The `settings` row naming the last hall day a node claimed the nightly purge for.
const CLAIM_KEY: &str = "retention.purged_on";

/// The nightly purge, run once per hall day by whichever node claims the day first (one
/// conditional upsert on the shared `settings` table, so two PostgreSQL nodes never purge side
/// by side); `None` when the day was claimed already. A run that fails gives the day back, so
/// the next try (five minutes later) runs it again; a node that dies mid-run leaves the rest to
/// the next night, the purge taking up where it stopped.
pub async fn purge_daily(
    db: &Db,
    clock: &Clock,
    settings: &Retention,
) -> Result<Option<Vec<KindReport>>, sqlx::Error> {
    // The purge spares people on the watch list by joining blind indexes, which a key
    // rotation's rebuild (src/rekey) holds under two forms for a while: the night's run waits
    // until it is through (the next try is five minutes later).
    if crate::rekey::rebuild_pending(db).await? {
        return Ok(None);
    }
    let day = clock.today().to_string();
    let mut tx = db.begin().await?;
    let claimed = sqlx::query(
        r#"INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE settings.value < excluded.value"#,
    )
    .bind(CLAIM_KEY)
    .bind(&day)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    if claimed == 0 {
        return Ok(None);
    }
    match purge(db, clock, settings, false, Trigger::Daily).await {
        Ok(done) => Ok(Some(done)),
        Err(e) => {
            let mut tx = db.begin().await?;
            sqlx::query("UPDATE settings SET value = '' WHERE key = $1 AND value = $2")
                .bind(CLAIM_KEY)
                .bind(&day)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Err(e)
        }
    }
}
