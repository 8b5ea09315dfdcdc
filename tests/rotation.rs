//! Key rotation (R15, issue 17) on both engines: a hall with appointments, an application
//! collected, texts and complaints sealed under key version 1 rotates to version 2 while it
//! serves. New values are sealed with version 2 at once; the job seals the stored ones again in
//! batches; a restart half-way (a fresh keyring that finds version 2 in the state directory)
//! goes on from the last batch; then it rebuilds every blind index under version 2, and
//! half-way through (bookings under both forms) nobody books twice and no second rotation is
//! let in; afterwards every stored value and index is version 2, version 1 alone opens or
//! matches none, the hall still knows a person by the index (bookings, watch list, no-show
//! lifts, waiting list, callback declines, complaints), and a node missing version 2 or holding
//! another key under it is refused.

mod common;

use common::{Engine, TestApp, accepted_at, actor_at, at, citizen, pay_cash, synthetic_id};
use onetrip::auth::{RequestMeta, Role};
use onetrip::catalog::TimeLimitClass;
use onetrip::clock::Clock;
use onetrip::complaints::{self, Category, ComplaintChannel, ComplaintInput};
use onetrip::config::Config;
use onetrip::privacy::{Cipher, VERSIONED};
use onetrip::rekey::{self, RekeyError};
use sqlx::Row;

/// The key every test app starts with (tests/common).
const KEY_V1: [u8; 32] = [42u8; 32];

async fn book(
    app: &TestApp,
    n: u32,
) -> Result<String, onetrip::error::Failure<onetrip::booking::BookingError>> {
    common::web_booking(app, "2026-01-07", n).await
}

/// Every stored sealed value, by table: (table, id, value).
async fn sealed_values(app: &TestApp) -> Vec<(&'static str, i64, Vec<u8>)> {
    let mut out = Vec::new();
    for (table, columns) in rekey::SEALED {
        let sql = format!("SELECT id, {} FROM {table}", columns.join(", "));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(app.state.db.reader())
            .await
            .expect("select");
        for row in rows {
            let id: i64 = row.get(0);
            for i in 0..columns.len() {
                if let Some(v) = row.get::<Option<Vec<u8>>, _>(i + 1)
                    && !v.is_empty()
                {
                    out.push((*table, id, v));
                }
            }
        }
    }
    out
}

async fn rotation_reseals_everything_and_survives_a_restart(engine: Engine) {
    let clock = Clock::fixed(at("2026-01-05T09:00:00+08:00"));
    let config = Config {
        booking_attempts_per_ip_hour: 0,
        booking_attempts_per_id_hour: 0,
        ..Config::default()
    };
    let Some(app) = TestApp::spawn_full(engine, config, clock.clone()).await else {
        return;
    };
    let db = &app.state.db;
    let state_dir = app.state.config.state_dir.clone();
    let now = clock.now_ms();

    // --- A hall's data under version 1 ---
    for n in 1..=25 {
        book(&app, n).await.expect("booked");
    }
    let hall = app.site_id("0001").await;
    let actor = actor_at(
        hall,
        &[
            Role::Officer,
            Role::Approver,
            Role::Producer,
            Role::Custodian,
        ],
    );
    let holder = synthetic_id("19800101", 1);
    let no = accepted_at(&app, &actor, holder.clone(), TimeLimitClass::Normal).await;
    pay_cash(&app, hall, &no).await;
    let complaint = complaints::register(
        &app.state.complaints(),
        complaints::Registrar::Citizen,
        &ComplaintInput {
            channel: ComplaintChannel::Web,
            category: Category::Efficiency,
            site: Some("0001".into()),
            window: None,
            application_no: None,
            officer_badge: None,
            content: "取证等候时间太长，希望增加窗口。".into(),
            name: "王投诉".into(),
            phone: "13800138000".into(),
        },
        &RequestMeta::default(),
    )
    .await
    .expect("complaint");
    let before = sealed_values(&app).await;
    assert!(
        before.len() > 80,
        "the hall holds personal data: {}",
        before.len()
    );
    assert!(before.iter().all(|(_, _, v)| {
        Cipher::new(&KEY_V1)
            .open_with_version(v)
            .is_ok_and(|(_, n)| n == 1)
    }));
    let tables: std::collections::BTreeSet<_> = before.iter().map(|(t, _, _)| *t).collect();
    for t in ["bookings", "outbox", "applications", "complaints"] {
        assert!(tables.contains(t), "{t} holds sealed values: {tables:?}");
    }
    let index_before = app.state.cipher.blind_index(&citizen(1));
    // People held by index alone: one on the watch list, one whose no-show block was lifted,
    // one on a waiting list; and the applicant declines callbacks.
    let v1 = |value: &str| Cipher::new(&KEY_V1).blind_index(value).newest().to_owned();
    {
        let mut tx = db.begin().await.expect("tx");
        sqlx::query(
            "INSERT INTO watch_list (id_index, kind, note, imported_at, imported_by) \
             VALUES ($1, 'restricted_exit', 'test', $2, 0)",
        )
        .bind(v1(&citizen(40)))
        .bind(now)
        .execute(&mut *tx)
        .await
        .expect("watched");
        sqlx::query(
            "INSERT INTO no_show_lifts (id_index, lifted_at, lifted_by, reason) VALUES ($1, $2, 0, 'test')",
        )
        .bind(v1(&citizen(41)))
        .bind(now)
        .execute(&mut *tx)
        .await
        .expect("lift");
        sqlx::query(
            "INSERT INTO waitlist (site_id, line_code, date, id_index, phone_sealed, lang, created_at) \
             VALUES ($1, 'first_issue', '2026-01-08', $2, $3, 'zh-CN', $4)",
        )
        .bind(hall)
        .bind(v1(&citizen(42)))
        .bind(app.state.cipher.seal("13700137000"))
        .bind(now)
        .execute(&mut *tx)
        .await
        .expect("waiting");
        tx.commit().await.expect("commit");
    }
    onetrip::callbacks::decline_contact(
        &app.state.callbacks(),
        &app.state.cipher.blind_index(holder.as_str()),
    )
    .await
    .expect("declined");

    // --- Rotation, on the serving node ---
    assert_eq!(
        rekey::reconcile(db, &app.state.cipher, &state_dir, now)
            .await
            .expect("first start records version 1"),
        Vec::<u8>::new()
    );
    let status = rekey::status(db).await.expect("status");
    assert!(status.done(), "nothing to do before a rotation");
    let (version, file) = rekey::rotate(db, &app.state.cipher, &state_dir, now)
        .await
        .expect("rotated");
    assert_eq!(version, 2);
    assert_eq!(std::fs::read(&file).expect("key file").len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the new key is private");
    }
    // New values use version 2 at once.
    let code = book(&app, 26).await.expect("booked after rotation");
    let new_name: Vec<u8> = sqlx::query_scalar("SELECT name_sealed FROM bookings WHERE code = $1")
        .bind(&code)
        .fetch_one(db.reader())
        .await
        .expect("new booking");
    assert_eq!(&new_name[..2], &[VERSIONED, 2]);

    // --- Half-way: three small batches, then the node restarts ---
    for _ in 0..3 {
        let s = rekey::step(db, &app.state.cipher, &clock, 7)
            .await
            .expect("step")
            .expect("work left");
        assert_eq!(s.table, "bookings");
        assert_eq!(s.unreadable, 0);
    }
    let half = rekey::status(db).await.expect("status");
    assert!(!half.done());
    assert_eq!(half.newest, 2);
    let bookings = half
        .tables
        .iter()
        .find(|t| t.table == "bookings")
        .expect("bookings");
    assert_eq!(bookings.resealed, 21 * 3, "3 batches of 7 rows × 3 values");
    assert_eq!(bookings.rows_left, 26 - 21);
    let mixed = sealed_values(&app).await;
    let v1_left = mixed
        .iter()
        .filter(|(_, _, v)| Cipher::new(&KEY_V1).open(v).is_ok())
        .count();
    assert!(v1_left > 0 && v1_left < mixed.len(), "half-way: {v1_left}");
    // The hall reads both versions meanwhile.
    let looked: serde_json::Value = app
        .client()
        .post(app.url("/api/v1/appointments/lookup"))
        .json(&serde_json::json!({"code": code, "id_number": citizen(26)}))
        .send()
        .await
        .expect("lookup")
        .json()
        .await
        .expect("json");
    assert_eq!(looked["code"], code.as_str(), "{looked}");

    // A restarted node starts from version 1 alone and finds version 2 in its state directory.
    let restarted = Cipher::new(&KEY_V1);
    assert_eq!(
        rekey::reconcile(db, &restarted, &state_dir, now)
            .await
            .expect("picked up"),
        vec![2]
    );
    assert_eq!(restarted.current_version(), 2);
    // The rest of the sealed values, then the first batch of the booking indexes.
    let sealed_tables: Vec<&str> = rekey::SEALED.iter().map(|(t, _)| *t).collect();
    let mut resealed = 0;
    loop {
        let s = rekey::step(db, &restarted, &clock, 7)
            .await
            .expect("step")
            .expect("work left");
        assert_eq!(s.unreadable, 0, "{s:?}");
        if sealed_tables.contains(&s.table) {
            resealed += s.resealed;
        }
        if s.table == "bookings.id_index" {
            break;
        }
    }
    assert_eq!(resealed, v1_left, "each version-1 value once");

    // --- Half-way through the booking indexes: both forms stored, nothing missed ---
    let forms: Vec<Option<u8>> = sqlx::query_scalar::<_, String>("SELECT id_index FROM bookings")
        .fetch_all(db.reader())
        .await
        .expect("indexes")
        .iter()
        .map(|i| onetrip::privacy::index_version(i))
        .collect();
    assert!(
        forms.contains(&Some(1)) && forms.contains(&Some(2)),
        "half-way: {forms:?}"
    );
    for n in [1, 20] {
        // Person 1's booking is under version 2 by now, person 20's still under version 1.
        assert!(
            book(&app, n).await.is_err(),
            "person {n}: one booking per person and day, half-way"
        );
    }
    assert!(matches!(
        rekey::rotate(db, &app.state.cipher, &state_dir, now).await,
        Err(RekeyError::Unfinished(2))
    ));
    let mut indexes = 0;
    while let Some(s) = rekey::step(db, &restarted, &clock, 7).await.expect("step") {
        assert_eq!(s.unreadable, 0, "{s:?}");
        indexes += s.resealed;
    }
    assert!(indexes > 0);
    let through = rekey::status(db).await.expect("status");
    assert!(through.done());
    assert_eq!(
        through.tables.len(),
        rekey::SEALED.len() + rekey::INDEXED.len()
    );
    assert!(!rekey::rebuild_pending(db).await.expect("pending"));
    // The serving node learns the rebuild is through from its own job's next look.
    assert!(
        rekey::step(db, &app.state.cipher, &clock, 7)
            .await
            .expect("step")
            .is_none()
    );
    assert_eq!(
        rekey::reseal_all(db, &restarted, &clock)
            .await
            .expect("again"),
        0,
        "a finished rotation does nothing more"
    );

    // --- Afterwards ---
    let after = sealed_values(&app).await;
    assert_eq!(after.len(), mixed.len(), "no value lost or added");
    for (table, id, v) in &after {
        assert_eq!(&v[..2], &[VERSIONED, 2], "{table} {id}");
        assert!(Cipher::new(&KEY_V1).open(v).is_err(), "{table} {id}");
    }
    // The same plain values, by row.
    let plain = |values: &[(&'static str, i64, Vec<u8>)]| {
        let mut p: Vec<(String, i64, String)> = values
            .iter()
            .map(|(t, id, v)| (t.to_string(), *id, restarted.open(v).expect("opens")))
            .collect();
        p.sort();
        p
    };
    assert_eq!(plain(&after), plain(&mixed));
    // Every stored index is under version 2, and version 1's key alone matches none of them.
    for c in rekey::INDEXED {
        let stored: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM {}",
            c.column, c.table
        )))
        .fetch_all(db.reader())
        .await
        .expect("indexes");
        for i in &stored {
            assert!(
                matches!(onetrip::privacy::index_version(i), Some(2) | None),
                "{}: {i}",
                c.name
            );
        }
    }
    let moved = restarted.blind_index(&citizen(1));
    assert_eq!(
        restarted.index_forward(index_before.newest()).as_deref(),
        Some(moved.newest())
    );
    for n in [1, 25, 40, 41, 42] {
        let old: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM bookings WHERE id_index = $1) \
             + (SELECT COUNT(*) FROM watch_list WHERE id_index = $1) \
             + (SELECT COUNT(*) FROM no_show_lifts WHERE id_index = $1) \
             + (SELECT COUNT(*) FROM waitlist WHERE id_index = $1)",
        )
        .bind(v1(&citizen(n)))
        .fetch_one(db.reader())
        .await
        .expect("count");
        assert_eq!(old, 0, "person {n} under version 1");
    }
    let watched = onetrip::domain::id_number::IdNumber::parse(&citizen(40)).expect("id");
    assert_eq!(
        onetrip::applications::at_kiosk::watch_hits(&app.state.applications(), &watched)
            .await
            .expect("hits"),
        vec!["restricted_exit".to_string()],
        "the watch list still knows person 40"
    );
    assert!(
        onetrip::callbacks::declined(
            &app.state.callbacks(),
            &app.state.cipher.blind_index(holder.as_str())
        )
        .await
        .expect("declined"),
        "the decline still holds"
    );
    let lifted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM no_show_lifts WHERE id_index = $1")
        .bind(app.state.cipher.blind_index(&citizen(41)).newest())
        .fetch_one(db.reader())
        .await
        .expect("lift");
    assert_eq!(lifted, 1);
    // The serving node reads everything, and still knows person 1 has a booking that day.
    let looked: serde_json::Value = app
        .client()
        .post(app.url("/api/v1/progress"))
        .json(&serde_json::json!({"application_no": no.as_str(), "id_number": holder.as_str()}))
        .send()
        .await
        .expect("progress")
        .json()
        .await
        .expect("json");
    assert!(looked.get("error").is_none(), "{looked}");
    assert!(
        book(&app, 1).await.is_err(),
        "one booking per person and day"
    );
    let tracked = complaints::track(&app.state.complaints(), &complaint.number, "13800138000")
        .await
        .expect("found by the phone's blind index");
    assert_eq!(tracked.number, complaint.number);

    // --- Nodes that do not hold the right keys are refused ---
    let elsewhere = tempfile::tempdir().expect("dir");
    assert!(matches!(
        rekey::reconcile(db, &Cipher::new(&KEY_V1), elsewhere.path(), now).await,
        Err(RekeyError::Missing { version: 2, .. })
    ));
    onetrip::privacy::write_version(elsewhere.path(), 2, &[7u8; 32]).expect("another key");
    assert!(matches!(
        rekey::reconcile(db, &Cipher::new(&KEY_V1), elsewhere.path(), now).await,
        Err(RekeyError::Mismatch { version: 2, .. })
    ));
    assert!(matches!(
        rekey::reconcile(db, &Cipher::new(&[9u8; 32]), &state_dir, now).await,
        Err(RekeyError::Mismatch { version: 1, .. })
    ));
}

on_both_engines!(rotation_reseals_everything_and_survives_a_restart);
