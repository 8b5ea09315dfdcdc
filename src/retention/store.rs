//! The retention purge's SQL: for each kind, which rows are due (ended before the cutoff and
//! under no open case) and what each batch changes, in one set of statements for both engines.

use sqlx::{Any, AnyConnection, Row};

use super::{Kind, KindReport};
use crate::db::Db;

/// Records per transaction: a batch holds SQLite's one writer for milliseconds, so the hall's
/// own writes wait behind it no longer than behind a busy moment.
pub const BATCH: usize = 500;

/// The cutoff, as an instant and as the hall date it falls on.
pub struct Cutoff {
    ms: i64,
    date: String,
}

impl Cutoff {
    pub fn at(ms: i64) -> Cutoff {
        let date = jiff::Timestamp::from_millisecond(ms)
            .map(|t| {
                t.to_zoned_datetime(crate::clock::hall_tz())
                    .date()
                    .to_string()
            })
            // Before 1970 or past 9999: nothing is dated there, so nothing is due by date.
            .unwrap_or_default();
        Cutoff { ms, date }
    }
}

/// How `$1`, the cutoff, is compared: with an instant column or a date column.
#[derive(Clone, Copy)]
enum Cut {
    Ms,
    Date,
}

/// The type of the key a root's rows are found by.
#[derive(Clone, Copy)]
enum Key {
    Int,
    Text,
}

/// A value a step binds besides the batch's keys, in the order of its `$n`.
#[derive(Clone, Copy)]
enum Bind {
    /// The run's instant (epoch ms).
    Now,
    /// An erased sealed value: no bytes.
    Erased,
}

/// One statement of a batch. `{ids}` stands for the batch's keys; `$1`… are `binds`.
struct Step {
    table: &'static str,
    sql: &'static str,
    binds: &'static [Bind],
    /// The rows the step would change for every due record (dry run); `{due}` stands for the
    /// root's `due` query, whose `$1` is the cutoff.
    count: &'static str,
}

/// The rows of one table a kind is kept by, with what a batch of them changes.
pub struct Root {
    key: Key,
    cut: Cut,
    /// `SELECT <key> FROM …` the due rows: ended before `$1` and under no open case.
    due: &'static str,
    /// The order batches take them in (oldest first).
    order: &'static str,
    /// The first step changes the root's own rows; the rest, rows hanging on them.
    steps: &'static [Step],
}

const OWN: &str = "SELECT COUNT(*) FROM ({due}) due";

/// Nobody on the control list (法定不准出境 / 双重户籍) is erased while on it: the list's
/// holder may need everything the hall recorded about them.
macro_rules! not_watched {
    ($alias:literal) => {
        concat!(
            " AND NOT EXISTS (SELECT 1 FROM watch_list w WHERE w.id_index = ",
            $alias,
            ".id_index)"
        )
    };
}

const BOOKINGS: Root = Root {
    key: Key::Int,
    cut: Cut::Ms,
    // A booking ends with its slot (a cancellation or a no-show is recorded around it).
    due: concat!(
        "SELECT b.id FROM bookings b WHERE b.erased_at IS NULL AND b.ends_at < $1",
        " AND COALESCE(b.cancelled_at, 0) < $1 AND COALESCE(b.no_show_at, 0) < $1",
        not_watched!("b")
    ),
    order: "b.ends_at, b.id",
    steps: &[Step {
        table: "bookings",
        sql: "UPDATE bookings SET id_index = 'erased:' || CAST(id AS TEXT), id_sealed = $1, name_sealed = $1, phone_sealed = $1, erased_at = $2 WHERE erased_at IS NULL AND id IN ({ids})",
        binds: &[Bind::Erased, Bind::Now],
        count: OWN,
    }],
};

const WAITLIST: Root = Root {
    key: Key::Int,
    cut: Cut::Date,
    due: concat!(
        "SELECT l.id FROM waitlist l WHERE l.date < $1",
        not_watched!("l")
    ),
    order: "l.id",
    steps: &[Step {
        table: "waitlist",
        sql: "DELETE FROM waitlist WHERE id IN ({ids})",
        binds: &[],
        count: OWN,
    }],
};

const NO_SHOW_LIFTS: Root = Root {
    key: Key::Int,
    cut: Cut::Ms,
    due: concat!(
        "SELECT n.id FROM no_show_lifts n WHERE n.lifted_at < $1",
        not_watched!("n")
    ),
    order: "n.id",
    steps: &[Step {
        table: "no_show_lifts",
        sql: "DELETE FROM no_show_lifts WHERE id IN ({ids})",
        binds: &[],
        count: OWN,
    }],
};

/// An application is due when nothing has happened to it since the cutoff and no case on it is
/// open: every document finished (issued, delivered, returned, voided or not approved) once
/// accepted, every parcel delivered or returned, every data error resolved, every control-list
/// alert handled, no complaint about it open, no bad rating's follow-up open, no kiosk session
/// still writing or refunding, and the applicant not on the control list. A form never
/// accepted is due once as long has passed since its last step.
const APPLICATIONS: Root = Root {
    key: Key::Int,
    cut: Cut::Ms,
    due: concat!(
        "SELECT a.id FROM applications a WHERE a.erased_at IS NULL AND a.created_at < $1",
        " AND COALESCE(a.accepted_at, 0) < $1 AND COALESCE(a.refused_at, 0) < $1",
        " AND COALESCE(a.acceptance_started_at, 0) < $1",
        " AND (a.status <> 'accepted' OR NOT EXISTS (SELECT 1 FROM application_documents d",
        "      WHERE d.application_id = a.id",
        "      AND d.status NOT IN ('issued', 'delivered', 'returned', 'voided', 'rejected')))",
        " AND NOT EXISTS (SELECT 1 FROM application_events e WHERE e.application_id = a.id AND e.at >= $1)",
        " AND NOT EXISTS (SELECT 1 FROM application_documents d JOIN document_steps s ON s.document_id = d.id",
        "      WHERE d.application_id = a.id AND s.at >= $1)",
        " AND NOT EXISTS (SELECT 1 FROM application_documents d JOIN data_errors x ON x.document_id = d.id",
        "      WHERE d.application_id = a.id AND (x.resolved_at IS NULL OR x.reported_at >= $1 OR x.resolved_at >= $1))",
        " AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.application_id = a.id",
        "      AND (p.created_at >= $1 OR COALESCE(p.paid_at, 0) >= $1))",
        " AND NOT EXISTS (SELECT 1 FROM payments p JOIN refunds r ON r.payment_id = p.id",
        "      WHERE p.application_id = a.id AND r.at >= $1)",
        " AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.application_id = a.id",
        "      AND (s.updated_at >= $1 OR s.status NOT IN ('delivered', 'returned')))",
        " AND NOT EXISTS (SELECT 1 FROM pickups k WHERE k.application_id = a.id AND k.at >= $1)",
        " AND NOT EXISTS (SELECT 1 FROM watch_alerts w WHERE w.application_id = a.id AND w.handled_at IS NULL)",
        " AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.application_no = a.application_no",
        "      AND (c.status <> 'closed' OR c.closed_at >= $1))",
        " AND NOT EXISTS (SELECT 1 FROM ratings r JOIN rating_cases rc ON rc.rating_id = r.id",
        "      WHERE r.application_id = a.id AND (rc.closed_at IS NULL OR rc.closed_at >= $1))",
        " AND NOT EXISTS (SELECT 1 FROM self_endorsements se WHERE se.application_id = a.id",
        "      AND (se.state NOT IN ('stopped', 'refused', 'written', 'refunded', 'abandoned')",
        "           OR COALESCE(se.finished_at, se.started_at) >= $1))",
        not_watched!("a")
    ),
    order: "a.id",
    steps: &[
        // The form: identity, contact, address, guardian, express address, work unit, the
        // proof of an emergency, the references to the captured photo and fingerprint; the
        // birth date kept to its year. The printed form's and receipt's QR opens nothing.
        Step {
            table: "applications",
            sql: "UPDATE applications SET id_index = 'erased:' || CAST(id AS TEXT), token = 'erased:' || CAST(id AS TEXT), id_sealed = $1, name_sealed = $1, phone_sealed = $1, address_sealed = $1, guardian_name_sealed = NULL, guardian_id_sealed = NULL, express_sealed = NULL, birth_date = substr(birth_date, 1, 4), ethnicity = '', work_unit = NULL, emergency_proof = NULL, photo_ref = NULL, fingerprint_ref = NULL, erased_at = $2 WHERE erased_at IS NULL AND id IN ({ids})",
            binds: &[Bind::Erased, Bind::Now],
            count: OWN,
        },
        // The old and the issued document numbers.
        Step {
            table: "application_documents",
            sql: "UPDATE application_documents SET old_number_sealed = NULL, issued_number_sealed = NULL WHERE application_id IN ({ids})",
            binds: &[],
            count: "SELECT COUNT(*) FROM application_documents WHERE application_id IN ({due})",
        },
        // Who collected (a proxy's identity too) and the references to the comparison, the
        // camera photo and the signature.
        Step {
            table: "pickups",
            sql: "UPDATE pickups SET recipient_id_index = 'erased:' || CAST(id AS TEXT), recipient_sealed = $1, verification_ref = '', photo_ref = '', signature_ref = '' WHERE application_id IN ({ids})",
            binds: &[Bind::Erased],
            count: "SELECT COUNT(*) FROM pickups WHERE application_id IN ({due})",
        },
        // The parcel's recipient, phone and address.
        Step {
            table: "shipments",
            sql: "UPDATE shipments SET recipient_sealed = $1 WHERE application_id IN ({ids})",
            binds: &[Bind::Erased],
            count: "SELECT COUNT(*) FROM shipments WHERE application_id IN ({due})",
        },
        // What was wrong on the document, in the officer's words (often the right value).
        Step {
            table: "data_errors",
            sql: "UPDATE data_errors SET note = '' WHERE document_id IN (SELECT id FROM application_documents WHERE application_id IN ({ids}))",
            binds: &[],
            count: "SELECT COUNT(*) FROM data_errors WHERE document_id IN (SELECT id FROM application_documents WHERE application_id IN ({due}))",
        },
        // The kiosk session that became the application: the holder and the face comparison.
        Step {
            table: "self_endorsements",
            sql: "UPDATE self_endorsements SET id_index = 'erased:' || CAST(id AS TEXT), chip_sealed = $1, face_ref = '', erased_at = $2 WHERE erased_at IS NULL AND application_id IN ({ids})",
            binds: &[Bind::Erased, Bind::Now],
            count: "SELECT COUNT(*) FROM self_endorsements WHERE erased_at IS NULL AND application_id IN ({due})",
        },
    ],
};

/// Kiosk sessions that never became an application (refused, stopped, abandoned).
const KIOSK_SESSIONS: Root = Root {
    key: Key::Int,
    cut: Cut::Ms,
    due: concat!(
        "SELECT s.id FROM self_endorsements s WHERE s.erased_at IS NULL AND s.application_id IS NULL",
        " AND s.started_at < $1 AND COALESCE(s.finished_at, 0) < $1",
        " AND s.state IN ('stopped', 'refused', 'written', 'refunded', 'abandoned')",
        not_watched!("s")
    ),
    order: "s.id",
    steps: &[Step {
        table: "self_endorsements",
        sql: "UPDATE self_endorsements SET id_index = 'erased:' || CAST(id AS TEXT), chip_sealed = $1, face_ref = '', erased_at = $2 WHERE erased_at IS NULL AND id IN ({ids})",
        binds: &[Bind::Erased, Bind::Now],
        count: OWN,
    }],
};

/// A complaint is due once closed that long ago, with nothing recorded on it since.
const COMPLAINTS: Root = Root {
    key: Key::Int,
    cut: Cut::Ms,
    due: concat!(
        "SELECT c.id FROM complaints c WHERE c.erased_at IS NULL AND c.status = 'closed' AND c.closed_at < $1",
        " AND NOT EXISTS (SELECT 1 FROM complaint_events e WHERE e.complaint_id = c.id AND e.at >= $1)"
    ),
    order: "c.id",
    // The complainant's name, phone (and its index: tracking by number and phone finds
    // nothing), their words and the answer written to them; category, officer, times, the
    // finding and the satisfaction stay.
    steps: &[Step {
        table: "complaints",
        sql: "UPDATE complaints SET name_sealed = $1, phone_sealed = $1, phone_index = 'erased:' || CAST(id AS TEXT), content = '', answer = NULL, erased_at = $2 WHERE erased_at IS NULL AND id IN ({ids})",
        binds: &[Bind::Erased, Bind::Now],
        count: OWN,
    }],
};

/// A rating's comment, once rated that long ago and its follow-up (if any) closed as long.
const RATING_COMMENTS: Root = Root {
    key: Key::Int,
    cut: Cut::Ms,
    due: concat!(
        "SELECT r.id FROM ratings r WHERE r.comment <> '' AND r.rated_at < $1",
        " AND NOT EXISTS (SELECT 1 FROM rating_cases c WHERE c.rating_id = r.id",
        "      AND (c.closed_at IS NULL OR c.closed_at >= $1))"
    ),
    order: "r.rated_at, r.id",
    steps: &[Step {
        table: "ratings",
        sql: "UPDATE ratings SET comment = '' WHERE comment <> '' AND id IN ({ids})",
        binds: &[],
        count: OWN,
    }],
};

/// A bad rating's follow-up: what the citizen was told and answered (the outcome and the
/// rectification, the hall's own, stay).
const RATING_CASES: Root = Root {
    key: Key::Int,
    cut: Cut::Ms,
    due: "SELECT c.id FROM rating_cases c WHERE c.closed_at < $1 AND (c.verification IS NOT NULL OR c.citizen_reply IS NOT NULL)",
    order: "c.id",
    steps: &[Step {
        table: "rating_cases",
        sql: "UPDATE rating_cases SET verification = NULL, citizen_reply = NULL WHERE id IN ({ids})",
        binds: &[],
        count: OWN,
    }],
};

/// A callback's note (the survey's answers, statistics, stay).
const CALLBACK_NOTES: Root = Root {
    key: Key::Int,
    cut: Cut::Ms,
    due: "SELECT a.id FROM callback_attempts a WHERE a.note <> '' AND a.at < $1",
    order: "a.id",
    steps: &[Step {
        table: "callback_attempts",
        sql: "UPDATE callback_attempts SET note = '' WHERE note <> '' AND id IN ({ids})",
        binds: &[],
        count: OWN,
    }],
};

/// A text once sent or cancelled (or due) that long ago: its number and words go, its kind,
/// reference and times stay. One never sent is cancelled with it, or the worker would try an
/// empty number for ever.
const OUTBOX: Root = Root {
    key: Key::Int,
    cut: Cut::Ms,
    due: "SELECT o.id FROM outbox o WHERE o.erased_at IS NULL AND o.created_at < $1 AND COALESCE(o.sent_at, o.cancelled_at, o.due_at) < $1",
    order: "o.created_at, o.id",
    steps: &[Step {
        table: "outbox",
        sql: "UPDATE outbox SET phone_sealed = $1, body = '', last_error = NULL, cancelled_at = CASE WHEN sent_at IS NULL AND cancelled_at IS NULL THEN $2 ELSE cancelled_at END, erased_at = $2 WHERE erased_at IS NULL AND id IN ({ids})",
        binds: &[Bind::Erased, Bind::Now],
        count: OWN,
    }],
};

/// The SMS simulator's log (what a provider would keep on its side).
const SMS_LOG: Root = Root {
    key: Key::Int,
    cut: Cut::Ms,
    due: "SELECT s.id FROM sms_log s WHERE s.at < $1",
    order: "s.id",
    steps: &[Step {
        table: "sms_log",
        sql: "DELETE FROM sms_log WHERE id IN ({ids})",
        binds: &[],
        count: OWN,
    }],
};

/// Staff sessions long expired: the address and browser they came from.
const SESSIONS: Root = Root {
    key: Key::Text,
    cut: Cut::Ms,
    due: "SELECT s.token_hash FROM sessions s WHERE s.expires_at < $1",
    order: "s.token_hash",
    steps: &[Step {
        table: "sessions",
        sql: "DELETE FROM sessions WHERE token_hash IN ({ids})",
        binds: &[],
        count: OWN,
    }],
};

/// The tables each kind is kept by, in the order they are purged.
pub fn roots(kind: Kind) -> &'static [Root] {
    match kind {
        Kind::Appointments => &[BOOKINGS, WAITLIST, NO_SHOW_LIFTS],
        Kind::Applications => &[APPLICATIONS, KIOSK_SESSIONS],
        Kind::Complaints => &[COMPLAINTS],
        Kind::Ratings => &[RATING_COMMENTS, RATING_CASES],
        Kind::Callbacks => &[CALLBACK_NOTES],
        Kind::Texts => &[OUTBOX, SMS_LOG],
        Kind::StaffSessions => &[SESSIONS],
    }
}

type Query<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

fn bind_cutoff<'q>(q: Query<'q>, root: &Root, cut: &'q Cutoff) -> Query<'q> {
    match root.cut {
        Cut::Ms => q.bind(cut.ms),
        Cut::Date => q.bind(cut.date.as_str()),
    }
}

/// Counts what erasing would change, per table (the dry run).
pub async fn count(
    db: &Db,
    root: &Root,
    cut: &Cutoff,
    report: &mut KindReport,
) -> Result<(), sqlx::Error> {
    for (i, step) in root.steps.iter().enumerate() {
        // Fixed statements of this module; the cutoff is bound.
        let sql = step.count.replace("{due}", root.due);
        let n: i64 = bind_cutoff(sqlx::query(sqlx::AssertSqlSafe(sql)), root, cut)
            .fetch_one(db.reader())
            .await?
            .try_get(0)?;
        let n = u64::try_from(n).unwrap_or(0);
        *report.rows.entry(step.table).or_default() += n;
        if i == 0 {
            report.records += n;
        }
    }
    Ok(())
}

/// A key of a due row.
enum Id {
    Int(i64),
    Text(String),
}

/// `$first, …` for `n` keys.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn due_batch(
    conn: &mut AnyConnection,
    root: &Root,
    cut: &Cutoff,
) -> Result<Vec<Id>, sqlx::Error> {
    let sql = format!("{} ORDER BY {} LIMIT {BATCH}", root.due, root.order);
    // Fixed statements of this module; the cutoff is bound.
    bind_cutoff(sqlx::query(sqlx::AssertSqlSafe(sql)), root, cut)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| match root.key {
            Key::Int => r.try_get(0).map(Id::Int),
            Key::Text => r.try_get(0).map(Id::Text),
        })
        .collect()
}

/// Erases the due rows of `root` batch by batch, each batch in its own transaction, until
/// none is left; adds what changed to `report`.
pub async fn erase(
    db: &Db,
    root: &Root,
    cut: &Cutoff,
    now: i64,
    report: &mut KindReport,
) -> Result<(), sqlx::Error> {
    // Every table is named in the report, those with nothing due too (as the dry run names them).
    for step in root.steps {
        report.rows.entry(step.table).or_default();
    }
    loop {
        let mut tx = db.begin().await?;
        // Chosen inside the transaction that erases them: on SQLite no write can come
        // between, and every step re-checks what it can (`erased_at IS NULL`).
        let mut ids = due_batch(&mut tx, root, cut).await?;
        let Some(last) = ids.last() else {
            tx.commit().await?;
            return Ok(());
        };
        let full = ids.len() == BATCH;
        // Every batch the same size (the last key repeated), so each statement has one shape
        // and is prepared once.
        let pad = match last {
            Id::Int(v) => Id::Int(*v),
            Id::Text(v) => Id::Text(v.clone()),
        };
        ids.resize_with(BATCH, || match &pad {
            Id::Int(v) => Id::Int(*v),
            Id::Text(v) => Id::Text(v.clone()),
        });
        let mut own = 0;
        for (i, step) in root.steps.iter().enumerate() {
            let sql = step
                .sql
                .replace("{ids}", &placeholders(step.binds.len() + 1, BATCH));
            // Fixed statements of this module with numbered placeholders; every value bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for b in step.binds {
                q = match b {
                    Bind::Now => q.bind(now),
                    Bind::Erased => q.bind(Vec::<u8>::new()),
                };
            }
            for id in &ids {
                q = match id {
                    Id::Int(v) => q.bind(*v),
                    Id::Text(v) => q.bind(v.as_str()),
                };
            }
            let n = q.execute(&mut *tx).await?.rows_affected();
            *report.rows.entry(step.table).or_default() += n;
            if i == 0 {
                own = n;
            }
        }
        tx.commit().await?;
        report.records += own;
        // A batch that changed none of its rows would be chosen again: stop rather than spin.
        if !full || own == 0 {
            return Ok(());
        }
        // Let the hall's own writes take the writer between batches.
        tokio::task::yield_now().await;
    }
}
