//! Registered devices (issue 14 §3) on both engines: registration with a one-time code, one
//! enrolment per code even when two devices race, the credential's heartbeat, faults alerting
//! the duty leader once, rotation and revocation refusing the old credential, and the money
//! endpoints an application number alone no longer opens.

mod common;

use common::{Engine, TestApp, at};
use onetrip::auth::Role;
use onetrip::clock::Clock;
use onetrip::config::Config;
use serde_json::{Value, json};

async fn app_at(engine: Engine) -> Option<TestApp> {
    let config = Config {
        duty_leader_phone: "13800138000".into(),
        ..Config::default()
    };
    TestApp::spawn_full(
        engine,
        config,
        Clock::fixed(at("2026-10-15T09:00:00+08:00")),
    )
    .await
}

/// Registers a device through the API as an administrator of every site: (id, code).
async fn register(
    app: &TestApp,
    admin: &(reqwest::Client, String),
    kind: &str,
    name: &str,
) -> (i64, String) {
    let res = admin
        .0
        .post(app.url("/api/v1/devices"))
        .header("x-csrf-token", &admin.1)
        .json(&json!({"site": "0001", "kind": kind, "name": name}))
        .send()
        .await
        .expect("register");
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.expect("json");
    assert_eq!(v["device"]["state"], "waiting");
    (
        v["device"]["id"].as_i64().expect("id"),
        v["enrolment_code"].as_str().expect("code").to_string(),
    )
}

async fn enrol(app: &TestApp, code: &str) -> reqwest::Response {
    app.client()
        .post(app.url("/api/v1/devices/enrol"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .expect("enrol")
}

async fn heartbeat(app: &TestApp, credential: &str, faults: &[&str]) -> reqwest::Response {
    app.client()
        .post(app.url("/api/v1/devices/me/heartbeat"))
        .header("authorization", format!("Device {credential}"))
        .json(&json!({ "faults": faults }))
        .send()
        .await
        .expect("heartbeat")
}

async fn texts(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'leader.device_fault'")
        .fetch_one(app.state.db.reader())
        .await
        .expect("count")
}

on_both_engines!(devices_enrol_beat_rotate_and_are_revoked);

async fn devices_enrol_beat_rotate_and_are_revoked(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let pw = app.staff("dev.admin", vec![(Role::Admin, None)]).await;
    let admin = app.api_session("dev.admin", &pw).await;
    let (id, code) = register(&app, &admin, "kiosk", "大厅 2 号自助机").await;

    // A wrong code, a malformed one: refused alike.
    for bad in ["0000-0000-0000", "12", ""] {
        let res = enrol(&app, bad).await;
        assert_eq!(res.status(), 422, "{bad}");
        let v: Value = res.json().await.expect("json");
        assert_eq!(v["code"], "device.bad_code");
    }
    // Two devices type the same code at once: one is enrolled.
    let (a, b) = tokio::join!(enrol(&app, &code), enrol(&app, &code));
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    assert!(
        statuses.contains(&201) && statuses.contains(&422),
        "{statuses:?}"
    );
    let winner = if a.status() == 201 { a } else { b };
    let v: Value = winner.json().await.expect("json");
    assert_eq!(v["device_id"], id);
    let credential = v["credential"].as_str().expect("credential").to_string();
    // The code is used up; only the credential's hash is kept.
    assert_eq!(enrol(&app, &code).await.status(), 422);
    let stored: Option<String> =
        sqlx::query_scalar("SELECT credential_hash FROM devices WHERE id = $1")
            .bind(id)
            .fetch_one(app.state.db.reader())
            .await
            .expect("hash");
    assert_ne!(stored.as_deref(), Some(credential.as_str()));

    // Heartbeats: online; a fault alerts the duty leader once, however often it is reported.
    let res = heartbeat(&app, &credential, &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.expect("json")["state"], "online");
    for _ in 0..3 {
        let v: Value = heartbeat(&app, &credential, &["paper_out", "paper_out"])
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v["state"], "fault");
        assert_eq!(v["faults"], json!(["paper_out"]));
    }
    assert_eq!(texts(&app).await, 1);
    // An unknown fault is a bad request, not a silent drop.
    assert_eq!(
        heartbeat(&app, &credential, &["on_fire"]).await.status(),
        400
    );
    heartbeat(&app, &credential, &[]).await;
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM device_events WHERE device_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(app.state.db.reader())
            .await
            .expect("events");
    assert_eq!(kinds, ["registered", "enrolled", "fault", "fault_cleared"]);

    // The duty leader sees the site's devices; silent for four minutes: offline, and on the
    // leader's page.
    let lpw = app
        .staff(
            "dev.leader",
            vec![(Role::Leader, Some(app.site_id("0001").await))],
        )
        .await;
    let leader = app.api_session("dev.leader", &lpw).await;
    app.state.clock.advance_ms(4 * 60_000);
    let states: Value = leader
        .0
        .get(app.url("/api/v1/sites/0001/devices"))
        .send()
        .await
        .expect("states")
        .json()
        .await
        .expect("json");
    let mine = states
        .as_array()
        .expect("list")
        .iter()
        .find(|d| d["id"] == id)
        .expect("the device");
    assert_eq!(mine["state"], "offline");
    let page = app.signed_in("dev.leader", &lpw).await;
    let html = page
        .get(app.url("/staff/leader"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("大厅 2 号自助机"), "{html}");

    // Rotation: the new credential works, the old one no longer.
    let res = app
        .client()
        .post(app.url("/api/v1/devices/me/rotate"))
        .header("authorization", format!("Device {credential}"))
        .send()
        .await
        .expect("rotate");
    assert_eq!(res.status(), 200);
    let rotated = res.json::<Value>().await.expect("json")["credential"]
        .as_str()
        .expect("credential")
        .to_string();
    assert_eq!(heartbeat(&app, &credential, &[]).await.status(), 401);
    assert_eq!(heartbeat(&app, &rotated, &[]).await.status(), 200);

    // A site administrator of the extension point cannot touch the hall's device.
    let epw = app
        .staff(
            "dev.ext",
            vec![(Role::Admin, Some(app.site_id("0002").await))],
        )
        .await;
    let ext = app.api_session("dev.ext", &epw).await;
    let res = ext
        .0
        .post(app.url(&format!("/api/v1/devices/{id}/revoke")))
        .header("x-csrf-token", &ext.1)
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 404);
    let res = ext
        .0
        .post(app.url("/api/v1/devices"))
        .header("x-csrf-token", &ext.1)
        .json(&json!({"site": "0001", "kind": "printer", "name": "别人的打印机"}))
        .send()
        .await
        .expect("register");
    assert_eq!(res.status(), 403);
    // Revoked: refused at once.
    let res = admin
        .0
        .post(app.url(&format!("/api/v1/devices/{id}/revoke")))
        .header("x-csrf-token", &admin.1)
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 200);
    assert_eq!(heartbeat(&app, &rotated, &[]).await.status(), 401);
}

on_both_engines!(money_needs_a_kiosk_staff_or_the_applicant);

async fn money_needs_a_kiosk_staff_or_the_applicant(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let hall = app.site_id("0001").await;
    let officer = common::actor_at(hall, &[Role::Officer]);
    let applicant = common::synthetic_id("19900101", 7);
    let no = common::accepted_at(
        &app,
        &officer,
        applicant.clone(),
        onetrip::catalog::TimeLimitClass::Normal,
    )
    .await;
    let bill = app.url(&format!("/api/v1/applications/{}/bill", no.as_str()));
    let order = app.url(&format!("/api/v1/applications/{}/orders", no.as_str()));

    // A number alone opens nothing.
    let res = app.client().get(&bill).send().await.expect("bill");
    assert_eq!(res.status(), 401);
    let res = app
        .client()
        .post(&order)
        .json(&json!({"method": "alipay"}))
        .send()
        .await
        .expect("order");
    assert_eq!(res.status(), 401);
    // Someone else's ID number: as if there were no such application.
    let res = app
        .client()
        .get(&bill)
        .header(
            "x-applicant-id-number",
            common::synthetic_id("19900101", 8).as_str(),
        )
        .send()
        .await
        .expect("bill");
    assert_eq!(res.status(), 404);
    // The applicant's own.
    let res = app
        .client()
        .get(&bill)
        .header("x-applicant-id-number", applicant.as_str())
        .send()
        .await
        .expect("bill");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.expect("json")["amount_fen"],
        18_000
    );

    // An enrolled kiosk (of any site) may; an evaluator may not.
    let pw = app.staff("money.admin", vec![(Role::Admin, None)]).await;
    let admin = app.api_session("money.admin", &pw).await;
    let (_, kiosk_code) = register(&app, &admin, "kiosk", "大厅 3 号自助机").await;
    let (_, eval_code) = register(&app, &admin, "evaluator", "1 号窗口评价器").await;
    let credential = |code: String| {
        let app = &app;
        async move {
            enrol(app, &code).await.json::<Value>().await.expect("json")["credential"]
                .as_str()
                .expect("credential")
                .to_string()
        }
    };
    let kiosk = credential(kiosk_code).await;
    let evaluator = credential(eval_code).await;
    let res = app
        .client()
        .get(&bill)
        .header("authorization", format!("Device {evaluator}"))
        .send()
        .await
        .expect("bill");
    assert_eq!(res.status(), 401);
    let res = app
        .client()
        .post(&order)
        .header("authorization", format!("Device {kiosk}"))
        .json(&json!({"method": "alipay"}))
        .send()
        .await
        .expect("order");
    assert_eq!(res.status(), 201);

    // The kiosk's pay page opens only in an enrolled kiosk's browser of that site.
    let browser = app.client();
    let res = browser
        .get(app.url("/kiosk/0001/pay"))
        .send()
        .await
        .expect("page");
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .expect("html")
            .contains("只在本办证点登记的自助机上打开")
    );
    let browser = common::kiosk_browser(&app, "0001", "大厅 4 号自助机").await;
    let html = browser
        .get(app.url("/devices/enrol"))
        .send()
        .await
        .expect("enrol page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("id=\"enrolled\"") && html.contains("大厅 4 号自助机"));
    let res = browser
        .get(app.url("/kiosk/0001/pay"))
        .send()
        .await
        .expect("page");
    assert_eq!(res.status(), 200);
    // Not the extension point's pay page.
    let res = browser
        .get(app.url("/kiosk/0002/pay"))
        .send()
        .await
        .expect("page");
    assert_eq!(res.status(), 403);
}

on_both_engines!(a_kiosk_that_cannot_print_says_so);

/// A kiosk reporting no paper (or a jam) says so on its home page before anyone starts, and
/// offers no ticket buttons; once cleared, it is itself again.
async fn a_kiosk_that_cannot_print_says_so(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let kiosk = common::kiosk_browser(&app, "0001", "大厅 5 号自助机").await;
    let home = || async {
        kiosk
            .get(app.url("/kiosk/0001"))
            .send()
            .await
            .expect("home")
            .text()
            .await
            .expect("html")
    };
    let beat = |faults: Value| {
        let (kiosk, url) = (kiosk.clone(), app.url("/api/v1/devices/me/heartbeat"));
        async move {
            let res = kiosk
                .post(url)
                .json(&json!({ "faults": faults }))
                .send()
                .await
                .expect("heartbeat");
            assert_eq!(
                res.status(),
                200,
                "the kiosk's browser reports with its cookie"
            );
        }
    };
    assert!(!home().await.contains("id=\"cannot-print\""));
    beat(json!(["paper_low"])).await;
    assert!(
        !home().await.contains("id=\"cannot-print\""),
        "paper low still prints"
    );
    beat(json!(["paper_out"])).await;
    let html = home().await;
    assert!(html.contains("id=\"cannot-print\""), "{html}");
    assert!(html.contains("kiosk-btn\" disabled"));
    beat(json!([])).await;
    assert!(!home().await.contains("id=\"cannot-print\""));
}

on_both_engines!(a_silent_device_alerts_once_per_silence);

/// A device that stops reporting is texted to the duty leader once it has been silent for
/// three minutes, once per silence; reporting again is recorded, and a new silence alerts
/// again.
async fn a_silent_device_alerts_once_per_silence(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let pw = app.staff("quiet.admin", vec![(Role::Admin, None)]).await;
    let admin = app.api_session("quiet.admin", &pw).await;
    let (id, code) = register(&app, &admin, "printer", "导办台打印机").await;
    let credential = enrol(&app, &code)
        .await
        .json::<Value>()
        .await
        .expect("json")["credential"]
        .as_str()
        .expect("credential")
        .to_string();
    let leader = onetrip::domain::phone::PhoneNumber::parse("13800138000").ok();
    let check = || {
        onetrip::device_registry::alert_offline(
            &app.state.db,
            &app.state.clock,
            &app.state.cipher,
            leader.as_ref(),
        )
    };
    let texts = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'leader.device_offline'",
        )
        .fetch_one(app.state.db.reader())
        .await
        .expect("count")
    };
    // Two minutes of silence: nothing yet. Four: one alert, however often it is checked.
    app.state.clock.advance_ms(2 * 60_000);
    assert_eq!(check().await.expect("check"), 0);
    app.state.clock.advance_ms(2 * 60_000);
    assert_eq!(check().await.expect("check"), 1);
    assert_eq!(check().await.expect("check"), 0);
    assert_eq!(texts().await, 1);
    // Back, then silent again: a second alert.
    assert_eq!(heartbeat(&app, &credential, &[]).await.status(), 200);
    app.state.clock.advance_ms(5 * 60_000);
    assert_eq!(check().await.expect("check"), 1);
    assert_eq!(texts().await, 2);
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM device_events WHERE device_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(app.state.db.reader())
            .await
            .expect("events");
    assert_eq!(
        kinds,
        [
            "registered",
            "enrolled",
            "offline",
            "back_online",
            "offline"
        ]
    );
}
