//! Retention (R15, issue 17) on both engines: a hall's history — appointments, an application
//! collected, one still in production, a form never accepted, complaints closed and open, a
//! rating with its follow-up, a callback note, texts, a staff session — is carried past its
//! periods and purged. The finished records lose their personal data (sealed values, blind
//! indexes, free text), the open cases and the control list's people keep theirs, the reports
//! of the old days stay the same, the audit log has one entry per kind with the counts, a dry
//! run and a second run change nothing, and the nightly job runs once a day.

mod common;

use std::collections::BTreeMap;

use common::{Engine, TestApp, accepted_at, actor_at, at, citizen, pay_cash, synthetic_id};
use onetrip::auth::{Actor, RequestMeta, Role, RoleGrant};
use onetrip::catalog::TimeLimitClass;
use onetrip::clock::Clock;
use onetrip::complaints::{self, AnswerInput, Category, ComplaintChannel, ComplaintInput};
use onetrip::config::{Config, Retention};
use onetrip::devices::VerifyMethod;
use onetrip::documents::{self, PickupInput, Recipient};
use onetrip::domain::application_no::ApplicationNo;
use onetrip::i18n::Lang;
use onetrip::retention::{self, Kind, KindReport, Trigger};
use sqlx::Row;

/// Monday 2026-01-05, 09:00 in the hall.
const START: &str = "2026-01-05T09:00:00+08:00";
const DAY_MS: i64 = 86_400_000;
/// Days from the start to the purge: past every period below, still in 2026's calendar.
const LATER_DAYS: i64 = 210;

/// Periods no shorter than the rules and laws allow (no-show window, six months of logs), the
/// others short enough for one calendar year.
fn periods() -> Retention {
    Retention {
        appointments_days: 180,
        applications_days: 200,
        complaints_days: 200,
        ratings_days: 200,
        callbacks_days: 200,
        texts_days: 180,
        staff_sessions_days: 180,
    }
}

fn staff(site_id: i64) -> Actor {
    actor_at(
        site_id,
        &[
            Role::Officer,
            Role::Approver,
            Role::Producer,
            Role::Custodian,
            Role::Leader,
        ],
    )
}

async fn book(app: &TestApp, date: &str, n: u32) -> String {
    common::web_booking(app, date, n).await.expect("booked")
}

/// Reviews, approves, produces, checks in and hands over every document of `no`.
async fn collected(app: &TestApp, actor: &Actor, no: &ApplicationNo, holder: &str) {
    let ctx = app.state.applications();
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .expect("q")
        .expect("hall");
    let row = onetrip::applications::application_by_no(app.state.db.reader(), no.as_str())
        .await
        .expect("q")
        .expect("application");
    common::kept(app, actor, row.id, &site, "A", ("E12345678", "CA1234567")).await;
    documents::issue_documents(
        &ctx,
        &common::granted(actor),
        no,
        site.id,
        PickupInput {
            applicant_id: holder.to_string(),
            recipient: Recipient::Applicant,
            receipt_presented: true,
            method: VerifyMethod::Fingerprint,
        },
    )
    .await
    .expect("issued");
}

fn complaint(phone: &str, content: &str) -> ComplaintInput {
    ComplaintInput {
        channel: ComplaintChannel::Web,
        category: Category::Efficiency,
        site: Some("0001".into()),
        window: None,
        application_no: None,
        officer_badge: None,
        content: content.into(),
        name: "王投诉".into(),
        phone: phone.into(),
    }
}

/// Every row of `table`, each value as text, in key order: what "nothing changed" compares.
async fn dump(app: &TestApp, table: &str) -> Vec<Vec<String>> {
    // The test's own fixed table names.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM {table} ORDER BY 1"
    )))
    .fetch_all(app.state.db.reader())
    .await
    .unwrap_or_else(|e| panic!("{table}: {e}"));
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
                        format!("{v:?}")
                    } else if let Ok(v) = r.try_get::<Option<String>, _>(i) {
                        format!("{v:?}")
                    } else if let Ok(v) = r.try_get::<Option<Vec<u8>>, _>(i) {
                        format!("{v:?}")
                    } else {
                        "?".into()
                    }
                })
                .collect()
        })
        .collect()
}

/// The tables the purge may change, and the audit log.
const PURGED: [&str; 17] = [
    "bookings",
    "waitlist",
    "no_show_lifts",
    "applications",
    "application_documents",
    "pickups",
    "shipments",
    "data_errors",
    "self_endorsements",
    "complaints",
    "ratings",
    "rating_cases",
    "callback_attempts",
    "outbox",
    "sms_log",
    "sessions",
    "audit_log",
];

/// What the statistics are made of; the purge never changes these.
const COUNTED: [&str; 8] = [
    "tickets",
    "payments",
    "refunds",
    "application_events",
    "document_steps",
    "complaint_events",
    "callback_items",
    "report_counts",
];

async fn snapshot(app: &TestApp, tables: &[&str]) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut out = BTreeMap::new();
    for t in tables {
        out.insert((*t).to_string(), dump(app, t).await);
    }
    out
}

fn by_kind(reports: &[KindReport]) -> BTreeMap<Kind, KindReport> {
    reports.iter().map(|r| (r.kind, r.clone())).collect()
}

async fn one_str(app: &TestApp, sql: &'static str, key: &str) -> String {
    sqlx::query_scalar(sql)
        .bind(key)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn one_blob(app: &TestApp, sql: &'static str, key: &str) -> Vec<u8> {
    sqlx::query_scalar(sql)
        .bind(key)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The old days' figures, computed from the raw rows.
async fn figures(
    app: &TestApp,
    site: i64,
    days: &[jiff::civil::Date],
) -> Vec<onetrip::reports::rollup::DayFigures> {
    let mut out = Vec::new();
    for d in days {
        out.push(
            onetrip::reports::rollup::compute_day(
                app.state.db.reader(),
                site,
                *d,
                app.state.clock.today(),
            )
            .await
            .expect("figures"),
        );
    }
    out
}

on_both_engines!(finished_records_are_erased_open_cases_and_statistics_kept);

async fn finished_records_are_erased_open_cases_and_statistics_kept(engine: Engine) {
    let clock = Clock::fixed(at(START));
    let config = Config {
        booking_attempts_per_ip_hour: 0,
        booking_attempts_per_id_hour: 0,
        retention: periods(),
        ..Config::default()
    };
    let Some(app) = TestApp::spawn_full(engine, config, clock.clone()).await else {
        return;
    };
    let db = app.state.db.reader();
    let hall = app.site_id("0001").await;
    let site = onetrip::sites::site_by_code(db, "0001")
        .await
        .expect("q")
        .expect("hall");
    let actor = staff(hall);
    let start = clock.now_ms();

    // --- The history, on Monday 2026-01-05 ---
    // Two appointments for Wednesday; the second person is on the control list.
    let old_booking = book(&app, "2026-01-07", 1).await;
    let watched_booking = book(&app, "2026-01-07", 2).await;
    let watched_index = app.state.cipher.blind_index(&citizen(2));
    {
        let mut tx = app.state.db.begin().await.expect("tx");
        sqlx::query(
            "INSERT INTO watch_list (id_index, kind, note, imported_at, imported_by) VALUES ($1, 'restricted_exit', 'test', $2, 0)",
        )
        .bind(watched_index.newest())
        .bind(start)
        .execute(&mut *tx)
        .await
        .expect("watched");
        tx.commit().await.expect("commit");
    }

    // A walk-in served at a window, whose applicant's documents are collected the same day.
    let ticket = common::walk_in(&app, &site, "first_issue").await;
    let done_id = synthetic_id("19800101", 1);
    let done = accepted_at(&app, &actor, done_id.clone(), TimeLimitClass::Normal).await;
    pay_cash(&app, hall, &done).await;
    collected(&app, &actor, &done, done_id.as_str()).await;
    let done_row = onetrip::applications::application_by_no(db, done.as_str())
        .await
        .expect("q")
        .expect("row");
    // Another applicant's documents are still being made (an open case however old).
    let open_id = synthetic_id("19850505", 2);
    let open = accepted_at(&app, &actor, open_id.clone(), TimeLimitClass::Normal).await;
    pay_cash(&app, hall, &open).await;
    // A form filled at the kiosk and never brought to a window.
    let abandoned = common::form_at(&app, synthetic_id("19920303", 3)).await;

    // The collected applicant rated the service badly, with words; the follow-up was closed.
    // A callback reached them, with a note.
    {
        let mut tx = app.state.db.begin().await.expect("tx");
        let rating: i64 = sqlx::query_scalar(
            r#"INSERT INTO ratings (ticket_id, site_id, window_id, officer_id, line_code, application_id, level, reasons, comment, channel, rated_at)
             VALUES ($1, $2, NULL, NULL, 'first_issue', $3, 'dissatisfied', 'slow', '等了很久，我叫李流程', 'evaluator', $4) RETURNING id"#,
        )
        .bind(ticket.id)
        .bind(hall)
        .bind(done_row.id)
        .bind(start)
        .fetch_one(&mut *tx)
        .await
        .expect("rating");
        sqlx::query(
            r#"INSERT INTO rating_cases (rating_id, site_id, opened_at, due_date, outcome, verification, rectification, citizen_reply, closed_at, closed_by)
             VALUES ($1, $2, $3, '2026-01-08', 'justified', '电话联系李先生核实', '增开窗口', '满意', $4, 1)"#,
        )
        .bind(rating)
        .bind(hall)
        .bind(start)
        .bind(start + 3_600_000)
        .execute(&mut *tx)
        .await
        .expect("case");
        let list: i64 = sqlx::query_scalar(
            r#"INSERT INTO callback_lists (site_id, day, served_day, seed, sample_size, population, drawn_at)
             VALUES ($1, '2026-01-06', '2026-01-05', '00', 1, 1, $2) RETURNING id"#,
        )
        .bind(hall)
        .bind(start)
        .fetch_one(&mut *tx)
        .await
        .expect("list");
        let item: i64 = sqlx::query_scalar(
            "INSERT INTO callback_items (list_id, application_id, officer_id, status, attempts) VALUES ($1, $2, NULL, 'reached', 1) RETURNING id",
        )
        .bind(list)
        .bind(done_row.id)
        .fetch_one(&mut *tx)
        .await
        .expect("item");
        sqlx::query(
            "INSERT INTO callback_attempts (item_id, attempt, at, staff_id, outcome, answers, note) VALUES ($1, 1, $2, 1, 'reached', '{}', '母亲住院，下周再来')",
        )
        .bind(item)
        .bind(start + DAY_MS)
        .execute(&mut *tx)
        .await
        .expect("attempt");
        // A staff member's session, expired that evening.
        let staff_id: i64 = sqlx::query_scalar("SELECT MIN(id) FROM staff")
            .fetch_one(&mut *tx)
            .await
            .expect("staff");
        sqlx::query(
            "INSERT INTO sessions (token_hash, staff_id, created_at, last_seen_at, expires_at, ip, user_agent) VALUES ('old-session', $1, $2, $2, $3, '10.1.2.3', 'Firefox')",
        )
        .bind(staff_id)
        .bind(start)
        .bind(start + 12 * 3_600_000)
        .execute(&mut *tx)
        .await
        .expect("session");
        tx.commit().await.expect("commit");
    }

    // Two complaints: one answered and closed by the citizen, one still open.
    let cctx = app.state.complaints();
    let meta = RequestMeta::default();
    let closed = complaints::register(
        &cctx,
        complaints::Registrar::Citizen,
        &complaint("13800138000", "窗口民警态度生硬，我叫王投诉，住示范路1号。"),
        &meta,
    )
    .await
    .expect("registered");
    let still_open = complaints::register(
        &cctx,
        complaints::Registrar::Citizen,
        &complaint("13600136000", "取证等候时间太长，希望增加窗口。"),
        &meta,
    )
    .await
    .expect("registered");
    let leader = Actor {
        staff_id: 77,
        grants: vec![RoleGrant {
            role: Role::Leader,
            site_id: Some(hall),
        }],
        ..actor_at(hall, &[])
    };
    let closed_id: i64 = sqlx::query_scalar("SELECT id FROM complaints WHERE number = $1")
        .bind(&closed.number)
        .fetch_one(db)
        .await
        .expect("id");
    complaints::answer(
        &cctx,
        complaints::Answerer::Leader(&common::granted(&leader)),
        closed_id,
        &AnswerInput {
            answer: "王先生您好，已对当事民警批评教育。".into(),
            justified: true,
            accountability: "诫勉谈话".into(),
        },
    )
    .await
    .expect("answered");
    complaints::rate_answer(&cctx, &closed.number, "13800138000", true, &meta)
        .await
        .expect("closed");

    // The day's texts go out.
    let sms = onetrip::notify::SimulatedSms;
    onetrip::notify::deliver_due(&app.state.db, &app.state.cipher, &sms, &clock)
        .await
        .expect("texts");
    let texts_sent: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL")
            .fetch_one(db)
            .await
            .expect("count");
    assert!(texts_sent > 0, "the booking confirmations went out");
    // Reminders due the evening before the appointments stay unsent (no worker runs here).
    let old_texts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(db)
        .await
        .expect("count");
    assert!(old_texts > texts_sent, "reminders wait");
    // A busier day's texts, more than one batch of them.
    const MANY: i64 = 1_100;
    {
        let mut tx = app.state.db.begin().await.expect("tx");
        for i in 0..MANY {
            sqlx::query(
                "INSERT INTO outbox (kind, ref, phone_sealed, body, due_at, sent_at, created_at) VALUES ('test', $1, $2, '您的证件已可领取', $3, $3, $3)",
            )
            .bind(format!("bulk-{i}"))
            .bind(app.state.cipher.seal("13500135000"))
            .bind(start + i)
            .execute(&mut *tx)
            .await
            .expect("text");
            sqlx::query(
                "INSERT INTO sms_log (at, phone_masked, body) VALUES ($1, '135****5000', '您的证件已可领取')",
            )
            .bind(start + i)
            .execute(&mut *tx)
            .await
            .expect("log");
        }
        tx.commit().await.expect("commit");
    }
    let (old_texts, texts_sent) = (old_texts + MANY, texts_sent + MANY);
    let logged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_log")
        .fetch_one(db)
        .await
        .expect("count");
    assert!(logged > MANY);

    // The days are rolled up as the server does.
    let old_days: Vec<jiff::civil::Date> = ["2026-01-05", "2026-01-06", "2026-01-07"]
        .iter()
        .map(|d| d.parse().expect("date"))
        .collect();

    // --- Seven months later ---
    clock.advance_ms(LATER_DAYS * DAY_MS);
    let now = clock.now_ms();
    // A booking for later this week (a future appointment) and its confirmation, not yet sent.
    let future_booking = book(&app, "2026-08-05", 3).await;
    onetrip::reports::rollup::refresh(&app.state.db, &clock, hall, old_days[0], old_days[2], 0)
        .await
        .expect("rolled up");
    let figures_before = figures(&app, hall, &old_days).await;
    let counted_before = snapshot(&app, &COUNTED).await;
    let purged_before = snapshot(&app, &PURGED).await;

    // A dry run counts and changes nothing, the audit log included.
    let dry = retention::purge(&app.state.db, &clock, &periods(), true, Trigger::Command)
        .await
        .expect("dry run");
    assert_eq!(snapshot(&app, &PURGED).await, purged_before, "a dry run");
    let dry = by_kind(&dry);
    assert_eq!(dry[&Kind::Appointments].records, 1, "{dry:?}");

    // The purge.
    let done_report = retention::purge(&app.state.db, &clock, &periods(), false, Trigger::Command)
        .await
        .expect("purge");
    let kinds = by_kind(&done_report);
    // It did what the dry run said it would.
    assert_eq!(kinds, dry);
    assert_eq!(kinds[&Kind::Appointments].records, 1);
    assert_eq!(
        kinds[&Kind::Applications].records,
        2,
        "collected and abandoned"
    );
    assert_eq!(kinds[&Kind::Applications].rows["pickups"], 1);
    assert_eq!(kinds[&Kind::Complaints].records, 1);
    assert_eq!(kinds[&Kind::Ratings].records, 2, "the comment and the case");
    assert_eq!(kinds[&Kind::Callbacks].records, 1);
    assert_eq!(kinds[&Kind::Texts].rows["outbox"] as i64, old_texts);
    assert_eq!(kinds[&Kind::Texts].rows["sms_log"] as i64, logged);
    assert_eq!(kinds[&Kind::StaffSessions].records, 1);
    for k in Kind::ALL {
        assert_eq!(
            kinds[&k].cutoff,
            Some(now - i64::from(k.days(&periods())) * DAY_MS)
        );
    }

    // The collected application: nothing of the person left, nor a way to find them.
    let sealed = "SELECT id_sealed FROM applications WHERE application_no = $1";
    assert!(one_blob(&app, sealed, done.as_str()).await.is_empty());
    for col in ["name_sealed", "phone_sealed", "address_sealed"] {
        let v: Vec<u8> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {col} FROM applications WHERE application_no = $1"
        )))
        .bind(done.as_str())
        .fetch_one(db)
        .await
        .expect("q");
        assert!(v.is_empty(), "{col}");
    }
    let r = sqlx::query(
        "SELECT id_index, token, birth_date, ethnicity, photo_ref, fingerprint_ref, erased_at, status, fee_fen, officer_id, accepted_at FROM applications WHERE application_no = $1",
    )
    .bind(done.as_str())
    .fetch_one(db)
    .await
    .expect("row");
    assert!(r.get::<String, _>("id_index").starts_with("erased:"));
    assert!(r.get::<String, _>("token").starts_with("erased:"));
    assert_eq!(r.get::<String, _>("birth_date"), "1980");
    assert_eq!(r.get::<String, _>("ethnicity"), "");
    assert_eq!(r.get::<Option<String>, _>("photo_ref"), None);
    assert_eq!(r.get::<Option<String>, _>("fingerprint_ref"), None);
    assert_eq!(r.get::<Option<i64>, _>("erased_at"), Some(now));
    // What the statistics count stays.
    assert_eq!(r.get::<String, _>("status"), "accepted");
    assert_eq!(r.get::<Option<i64>, _>("fee_fen"), done_row.fee_fen);
    assert_eq!(r.get::<Option<i64>, _>("officer_id"), done_row.officer_id);
    assert_eq!(r.get::<Option<i64>, _>("accepted_at"), done_row.accepted_at);
    let numbers: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM application_documents WHERE application_id = $1 AND issued_number_sealed IS NULL AND status = 'issued'",
    )
    .bind(done_row.id)
    .fetch_one(db)
    .await
    .expect("q");
    assert_eq!(numbers, 2, "issued, without their numbers");
    let pickup = sqlx::query(
        "SELECT recipient_id_index, recipient_sealed, signature_ref, photo_ref FROM pickups WHERE application_id = $1",
    )
    .bind(done_row.id)
    .fetch_one(db)
    .await
    .expect("pickup");
    assert!(
        pickup
            .get::<String, _>("recipient_id_index")
            .starts_with("erased:")
    );
    assert!(pickup.get::<Vec<u8>, _>("recipient_sealed").is_empty());
    assert_eq!(pickup.get::<String, _>("signature_ref"), "");
    let actx = app.state.applications();
    assert!(
        documents::progress(&actx, &done, &done_id, Lang::ZhCn)
            .await
            .expect("progress")
            .is_none(),
        "the number and ID number find nothing"
    );
    assert!(matches!(
        onetrip::applications::dossier(&actx, &done).await,
        Err(onetrip::auth::Failure::Refused(
            onetrip::applications::ApplicationError::NoSuchApplication
        ))
    ));
    let person: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM applications WHERE id_index = $1")
        .bind(
            app.state
                .cipher
                .blind_index(done_id.as_str())
                .newest()
                .to_owned(),
        )
        .fetch_one(db)
        .await
        .expect("q");
    assert_eq!(person, 0, "the blind index finds nobody");
    // The abandoned form too.
    assert!(one_blob(&app, sealed, abandoned.as_str()).await.is_empty());

    // The open case is untouched: its data opens, the citizen follows it.
    let kept = one_blob(&app, sealed, open.as_str()).await;
    assert_eq!(
        app.state.cipher.open(&kept).expect("opens"),
        open_id.as_str()
    );
    let p = documents::progress(&actx, &open, &open_id, Lang::ZhCn)
        .await
        .expect("progress")
        .expect("still found");
    assert_eq!(p.documents.len(), 2);

    // Appointments: the old one erased, the control list's person's and the future one kept.
    let code_index = "SELECT id_index FROM bookings WHERE code = $1";
    assert!(
        one_str(&app, code_index, &old_booking)
            .await
            .starts_with("erased:")
    );
    assert_eq!(
        one_str(&app, code_index, &watched_booking).await,
        watched_index.newest()
    );
    let future_sealed = one_blob(
        &app,
        "SELECT name_sealed FROM bookings WHERE code = $1",
        &future_booking,
    )
    .await;
    assert_eq!(
        app.state.cipher.open(&future_sealed).expect("opens"),
        "预约3"
    );

    // Complaints: the closed one's contact and words gone (tracking finds nothing), the open
    // one's kept.
    let content = "SELECT content FROM complaints WHERE number = $1";
    assert_eq!(one_str(&app, content, &closed.number).await, "");
    assert!(
        one_str(
            &app,
            "SELECT phone_index FROM complaints WHERE number = $1",
            &closed.number
        )
        .await
        .starts_with("erased:")
    );
    assert!(
        complaints::track(&cctx, &closed.number, "13800138000")
            .await
            .is_err()
    );
    assert_eq!(
        one_str(&app, content, &still_open.number).await,
        "取证等候时间太长，希望增加窗口。"
    );
    assert!(
        complaints::track(&cctx, &still_open.number, "13600136000")
            .await
            .is_ok()
    );
    // The rating's and the callback's words, the follow-up's conversation.
    let words: (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = {
        let r = sqlx::query(
            r#"SELECT r.comment, a.note, c.verification, c.citizen_reply, c.rectification
             FROM ratings r, callback_attempts a, rating_cases c WHERE c.rating_id = r.id"#,
        )
        .fetch_one(db)
        .await
        .expect("q");
        (
            r.get(0),
            r.get(1),
            r.get(2),
            r.get(3),
            r.get::<Option<String>, _>(4),
        )
    };
    assert_eq!(
        words,
        (
            String::new(),
            String::new(),
            None,
            None,
            Some("增开窗口".into())
        )
    );
    // Texts: the old ones' numbers and words gone, the unsent one kept.
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE erased_at IS NULL AND created_at < $1",
    )
    .bind(start + DAY_MS)
    .fetch_one(db)
    .await
    .expect("q");
    assert_eq!(left, 0);
    // A text never sent is cancelled with its number, or the worker would try it for ever.
    let cancelled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE erased_at IS NOT NULL AND sent_at IS NULL AND cancelled_at = $1",
    )
    .bind(now)
    .fetch_one(db)
    .await
    .expect("q");
    assert_eq!(cancelled, old_texts - texts_sent);
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE erased_at IS NULL AND sent_at IS NULL AND body <> ''",
    )
    .fetch_one(db)
    .await
    .expect("q");
    assert!(
        pending > 0,
        "the future booking's confirmation waits to be sent"
    );
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(db)
        .await
        .expect("q");
    assert_eq!(sessions, 0);

    // The statistics: the raw rows they count are the same, and so are the old days' figures,
    // computed again or rolled up again.
    assert_eq!(snapshot(&app, &COUNTED).await, counted_before);
    assert_eq!(figures(&app, hall, &old_days).await, figures_before);
    for d in &old_days {
        onetrip::reports::rollup::roll_up_day(&app.state.db, &clock, hall, *d)
            .await
            .expect("rolled again");
    }
    assert_eq!(
        dump(&app, "report_counts").await,
        counted_before["report_counts"]
    );

    // The audit log: one entry per kind, with the counts.
    let entries = sqlx::query(
        "SELECT target_id, detail, actor_name FROM audit_log WHERE action = 'retention.purge' ORDER BY id",
    )
    .fetch_all(db)
    .await
    .expect("audit");
    assert_eq!(entries.len(), Kind::ALL.len());
    for (e, k) in entries.iter().zip(Kind::ALL) {
        assert_eq!(e.get::<String, _>("target_id"), k.code());
        assert_eq!(e.get::<String, _>("actor_name"), "system");
        let detail: serde_json::Value =
            serde_json::from_str(&e.get::<String, _>("detail")).expect("json");
        assert_eq!(detail["records"], kinds[&k].records, "{k:?}");
        assert_eq!(detail["trigger"], "command");
        assert_eq!(detail["days"], k.days(&periods()));
    }

    // A second run changes nothing (it only says so in the audit log).
    let after_first = snapshot(&app, &PURGED).await;
    let again = retention::purge(&app.state.db, &clock, &periods(), false, Trigger::Command)
        .await
        .expect("again");
    assert!(again.iter().all(|k| k.records == 0), "{again:?}");
    let mut after_second = snapshot(&app, &PURGED).await;
    let mut expected = after_first;
    after_second.remove("audit_log");
    expected.remove("audit_log");
    assert_eq!(after_second, expected);

    // The nightly job: once a day, whichever node asks first.
    assert!(
        retention::purge_daily(&app.state.db, &clock, &periods())
            .await
            .expect("nightly")
            .is_some()
    );
    assert!(
        retention::purge_daily(&app.state.db, &clock, &periods())
            .await
            .expect("nightly")
            .is_none(),
        "claimed already today"
    );
    clock.advance_ms(DAY_MS);
    assert!(
        retention::purge_daily(&app.state.db, &clock, &periods())
            .await
            .expect("nightly")
            .is_some()
    );
}

/// `onetrip purge --dry-run` prints each kind and changes nothing; without it, it erases.
#[test]
fn the_command_prints_each_kind() {
    let dir = tempfile::tempdir().expect("dir");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_onetrip"))
            .args(args)
            .env(
                "ONETRIP_DATA_DIR",
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data"),
            )
            .env("ONETRIP_STATE_DIR", dir.path())
            .env("ONETRIP_RETENTION_CALLBACKS_DAYS", "0")
            .env_remove("DATABASE_URL")
            .output()
            .expect("run onetrip")
    };
    let out = run(&["purge", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for k in Kind::ALL {
        assert!(text.contains(k.code()), "{k:?} in {text}");
    }
    assert!(text.contains("would erase 0 records"), "{text}");
    assert!(text.contains("callbacks       kept for ever"), "{text}");
    let out = run(&["purge"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("erased 0 records"), "{text}");
    // Below the six months logs are kept, the command refuses to start.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_onetrip"))
        .args(["purge", "--dry-run"])
        .env("ONETRIP_STATE_DIR", dir.path())
        .env("ONETRIP_RETENTION_TEXTS_DAYS", "30")
        .env_remove("DATABASE_URL")
        .output()
        .expect("run onetrip");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("texts_days"));
}
