//! Key rotation (R15, issue 17) on both engines: a hall with appointments, an application
//! collected, texts and complaints sealed under key version 1 rotates to version 2 while it
//! serves. New values are sealed with version 2 at once; the job seals the stored ones again in
//! batches; a restart half-way (a fresh keyring that finds version 2 in the state directory)
//! goes on from the last batch; afterwards every stored value is version 2, version 1 alone
//! opens none, the hall still reads its data and still knows a person by the blind index, and
//! a node missing version 2 or holding another key under it is refused.

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

async fn slot_on(app: &TestApp, date: &str) -> i64 {
    let day: serde_json::Value = app
        .client()
        .get(app.url(&format!(
            "/api/v1/appointments/availability?site=0001&line=first_issue&date={date}"
        )))
        .send()
        .await
        .expect("availability")
        .json()
        .await
        .expect("json");
    day["slots"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["remaining"].as_i64() > Some(0))
        .and_then(|s| s["slot_id"].as_i64())
        .unwrap_or_else(|| panic!("a free slot in {day}"))
}

async fn book(
    app: &TestApp,
    n: u32,
) -> Result<String, onetrip::error::Failure<onetrip::booking::BookingError>> {
    let req = onetrip::booking::BookRequest {
        slot_id: slot_on(app, "2026-01-07").await,
        name: format!("预约{n}"),
        id_number: citizen(n),
        phone: "13700137000".into(),
        channel: onetrip::booking::Channel::Web,
        lang: None,
    };
    onetrip::booking::book(&app.state.booking(), None, req, None)
        .await
        .map(|c| c.code)
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
    let resealed = rekey::reseal_all(db, &restarted, &clock)
        .await
        .expect("the rest");
    assert_eq!(resealed, v1_left, "each version-1 value once");
    assert!(rekey::status(db).await.expect("status").done());
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
    assert_eq!(restarted.blind_index(&citizen(1)), index_before);
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
