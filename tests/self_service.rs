//! Self-service endorsement (issue 14 §4, R11) through the kiosk's JSON API on both engines:
//! an eligible holder re-endorsed end to end (one application, paid once, written once, in
//! reconciliation); the catalog's refusals with their reasons; a control-list hit that stops
//! the kiosk, alerts the duty leader and says nothing more; a write failing after payment
//! refunded in full; races on the choice, the payment and the write; and the sweep that
//! settles what a kiosk left behind.

mod common;

use common::{Engine, TestApp, administrator, at};
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::self_service::station::TestPermit;
use serde_json::{Value, json};

async fn app_at(engine: Engine) -> Option<TestApp> {
    let config = Config {
        duty_leader_phone: "13800138000".into(),
        ..Config::default()
    };
    TestApp::spawn_full(
        engine,
        config,
        Clock::fixed(at("2026-12-03T10:00:00+08:00")),
    )
    .await
}

/// An enrolled device of site 0001: (id, credential).
async fn device(app: &TestApp, kind: onetrip::device_registry::Kind, name: &str) -> (i64, String) {
    let site = app.site_id("0001").await;
    let (_, code) = onetrip::device_registry::register(
        &app.state.db,
        &app.state.clock,
        administrator(),
        site,
        kind,
        name,
    )
    .await
    .expect("register");
    let (d, credential) = onetrip::device_registry::enrol(
        &app.state.db,
        &app.state.clock,
        &code,
        &Default::default(),
    )
    .await
    .expect("enrol");
    (d.id, credential)
}

async fn kiosk(app: &TestApp, name: &str) -> (i64, String) {
    device(app, onetrip::device_registry::Kind::Kiosk, name).await
}

fn sim(app: &TestApp) -> &onetrip::self_service::station::SimulatedStation {
    app.state
        .devices
        .self_service_simulator
        .as_deref()
        .expect("simulated station")
}

async fn call(
    app: &TestApp,
    credential: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client()
        .request(method, app.url(path))
        .header("authorization", format!("Device {credential}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Reads the permit on the kiosk: the session token.
async fn start(app: &TestApp, credential: &str) -> String {
    let (status, v) = call(
        app,
        credential,
        reqwest::Method::POST,
        "/api/v1/self-endorsements",
        None,
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["outcome"], "read", "{v}");
    v["token"].as_str().expect("token").to_string()
}

/// The session as the kiosk sees it: (status, body).
async fn view(app: &TestApp, credential: &str, token: &str) -> (u16, Value) {
    call(
        app,
        credential,
        reqwest::Method::GET,
        &format!("/api/v1/self-endorsements/{token}"),
        None,
    )
    .await
}

async fn choose(app: &TestApp, credential: &str, token: &str, option: &str) -> (u16, Value) {
    call(
        app,
        credential,
        reqwest::Method::POST,
        &format!("/api/v1/self-endorsements/{token}/choice"),
        Some(json!({"option_id": option, "phone": "13912345678", "method": "alipay"})),
    )
    .await
}

async fn write(app: &TestApp, credential: &str, token: &str) -> (u16, Value) {
    call(
        app,
        credential,
        reqwest::Method::POST,
        &format!("/api/v1/self-endorsements/{token}/write"),
        None,
    )
    .await
}

async fn pay(app: &TestApp, order: &str) {
    let outcome = onetrip::payments::simulate_customer_payment(&app.state.payments(), order)
        .await
        .expect("paid");
    assert_eq!(outcome, onetrip::payments::Settlement::Paid);
}

async fn scalar(app: &TestApp, sql: &'static str, bind: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind.to_string())
        .fetch_one(app.state.db.reader())
        .await
        .expect(sql)
}

async fn document_stage(app: &TestApp, application_no: &str) -> String {
    sqlx::query_scalar(
        "SELECT d.status FROM application_documents d JOIN applications a ON a.id = d.application_id WHERE a.application_no = $1",
    )
    .bind(application_no.to_string())
    .fetch_one(app.state.db.reader())
    .await
    .expect("stage")
}

on_both_engines!(an_eligible_holder_renews_alone_paid_once_written_once);

async fn an_eligible_holder_renews_alone_paid_once_written_once(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let (_, k) = kiosk(&app, "自助签注机 1").await;
    let token = start(&app, &k).await;
    let (status, v) = view(&app, &k, &token).await;
    assert_eq!(status, 200);
    assert_eq!(v["state"], "read");
    // Masked: the screen faces the hall.
    assert_eq!(v["holder"], "周**", "{v}");
    assert_eq!(v["permit"], "C6****297");
    assert!(
        !v.to_string().contains("110101198503120711"),
        "no ID number in the view"
    );
    let verdict = |t: &str| {
        v["verdicts"]
            .as_array()
            .expect("verdicts")
            .iter()
            .find(|x| x["endorsement"] == t)
            .cloned()
            .expect("type listed")
    };
    let g = verdict("hk_macao_g");
    assert!(g["refusal"].is_null());
    let offer = g["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .find(|o| o["option_id"] == "hk-macao-g-3m-once")
        .cloned()
        .expect("3 months single G offered");
    assert_eq!(offer["fee_fen"], 1500, "exit-entry.md §3");
    assert_eq!(
        verdict("hk_macao_s")["refusal"]["reason"],
        "first_time_at_window"
    );
    assert_eq!(verdict("hk_macao_t")["refusal"]["reason"], "window_only");

    // Not offered: refused with a reason, nothing written.
    let (status, e) = choose(&app, &k, &token, "hk-macao-s-1y-multi").await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["code"], "self_service.not_offered");

    let (status, order) = choose(&app, &k, &token, "hk-macao-g-3m-once").await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["amount_fen"], 1500);
    let order_no = order["order_no"].as_str().expect("order").to_string();
    // A second choice on the same session is over.
    let (status, _) = choose(&app, &k, &token, "hk-macao-l-3m-once").await;
    assert_eq!(status, 409);

    // Nothing is written unpaid.
    let (status, e) = write(&app, &k, &token).await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(e["code"], "self_service.not_paid");
    assert_eq!(sim(&app).writes_on("C60418297"), 0);

    pay(&app, &order_no).await;
    let (status, w) = write(&app, &k, &token).await;
    assert_eq!(status, 200, "{w}");
    assert_eq!(w["outcome"], "written");
    // Asking again changes nothing.
    let (_, again) = write(&app, &k, &token).await;
    assert_eq!(again["reference"], w["reference"]);
    assert_eq!(sim(&app).writes_on("C60418297"), 1, "written once");

    let (_, v) = view(&app, &k, &token).await;
    assert_eq!(v["state"], "written");
    assert_eq!(v["paid"], true);
    assert_eq!(
        v["holder"],
        Value::Null,
        "the chip data is erased when the session ends"
    );
    let no = v["application_no"]
        .as_str()
        .expect("one number")
        .to_string();
    assert_eq!(document_stage(&app, &no).await, "issued");
    let app_row = onetrip::applications::application_by_no(app.state.db.reader(), &no)
        .await
        .expect("read")
        .expect("application");
    assert_eq!(app_row.status, onetrip::applications::Status::Accepted);
    assert_eq!(app_row.fee_fen, Some(1500));
    assert_eq!(app_row.officer_id, None, "accepted by the kiosk");
    assert_eq!(
        scalar(
            &app,
            "SELECT self_service FROM applications WHERE application_no = $1",
            &no
        )
        .await,
        1
    );
    // In the day's reconciliation as a kiosk Alipay payment.
    let recon = onetrip::payments::reconcile(
        &app.state.payments(),
        app.site_id("0001").await,
        app.state.clock.today(),
    )
    .await
    .expect("reconcile");
    assert!(recon.balanced, "{recon:?}");
    assert_eq!(recon.total_net_fen, 1500);
    // Audited.
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = $1",
            "application.accept_at_kiosk"
        )
        .await,
        1
    );
}

on_both_engines!(only_the_kiosk_that_read_the_permit_goes_on);

async fn only_the_kiosk_that_read_the_permit_goes_on(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let (_, k1) = kiosk(&app, "自助机 A").await;
    let (_, k2) = kiosk(&app, "自助机 B").await;
    let (_, evaluator) = device(&app, onetrip::device_registry::Kind::Evaluator, "评价器").await;
    let token = start(&app, &k1).await;
    let path = format!("/api/v1/self-endorsements/{token}");
    assert_eq!(
        call(&app, &k2, reqwest::Method::GET, &path, None).await.0,
        404
    );
    assert_eq!(
        call(&app, &evaluator, reqwest::Method::GET, &path, None)
            .await
            .0,
        403
    );
    assert_eq!(
        call(&app, "not-a-credential", reqwest::Method::GET, &path, None)
            .await
            .0,
        401
    );
    let res = app
        .client()
        .post(app.url("/api/v1/self-endorsements"))
        .send()
        .await
        .expect("anonymous");
    assert_eq!(res.status(), 401);
    assert_eq!(choose(&app, &k2, &token, "hk-macao-g-3m-once").await.0, 404);
}

on_both_engines!(the_catalog_refuses_with_reasons);

async fn the_catalog_refuses_with_reasons(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let (id, k) = kiosk(&app, "自助机").await;
    sim(&app).place(id, TestPermit::Expiring);
    let token = start(&app, &k).await;
    let (_, v) = view(&app, &k, &token).await;
    let verdicts = v["verdicts"].as_array().expect("verdicts");
    assert!(
        verdicts
            .iter()
            .all(|x| x["offers"].as_array().is_some_and(|o| o.is_empty())),
        "{v}"
    );
    let g = verdicts
        .iter()
        .find(|x| x["endorsement"] == "hk_macao_g")
        .expect("G");
    assert_eq!(g["refusal"]["reason"], "permit_ends_too_soon");
    let (status, _) = choose(&app, &k, &token, "hk-macao-g-3m-once").await;
    assert_eq!(status, 422);

    sim(&app).place(id, TestPermit::StatePersonnel);
    let first = token;
    let token = start(&app, &k).await;
    // The next permit read ends what the previous person left, chip data and all.
    let (_, before) = view(&app, &k, &first).await;
    assert_eq!(before["state"], "abandoned", "{before}");
    assert_eq!(before["holder"], Value::Null);
    let (_, v) = view(&app, &k, &token).await;
    assert!(
        v["verdicts"]
            .as_array()
            .expect("verdicts")
            .iter()
            .any(|x| x["refusal"]["reason"] == "state_personnel")
    );

    sim(&app).place(id, TestPermit::FaceMismatch);
    let (status, v) = call(
        &app,
        &k,
        reqwest::Method::POST,
        "/api/v1/self-endorsements",
        None,
    )
    .await;
    assert_eq!(
        (status, v["outcome"].as_str()),
        (201, Some("face_mismatch"))
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM applications WHERE channel = $1",
            "kiosk"
        )
        .await,
        0,
        "no application for a refusal or a failed face match"
    );
}

on_both_engines!(a_control_list_hit_stops_the_kiosk_and_alerts_the_leader);

async fn a_control_list_hit_stops_the_kiosk_and_alerts_the_leader(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    onetrip::applications::import_watch_list(
        &app.state.applications(),
        administrator(),
        &format!(
            "{},restricted_exit,test",
            TestPermit::Watched.holder_id_number()
        ),
    )
    .await
    .expect("watch list");
    let (id, k) = kiosk(&app, "自助机").await;
    sim(&app).place(id, TestPermit::Watched);
    let (status, v) = call(
        &app,
        &k,
        reqwest::Method::POST,
        "/api/v1/self-endorsements",
        None,
    )
    .await;
    assert_eq!(status, 201);
    // All the citizen (and the kiosk) learns.
    assert_eq!(v, json!({"outcome": "go_to_window"}));
    let site = app.site_id("0001").await;
    let alerts = onetrip::applications::open_alerts(app.state.db.reader(), site)
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, "restricted_exit");
    assert_eq!(alerts[0].officer_id, None);
    assert_eq!(alerts[0].device_id, Some(id));
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM outbox WHERE kind = $1",
            "self_service.stopped"
        )
        .await,
        1,
        "the duty leader is texted"
    );
    let app_row =
        onetrip::applications::application_by_no(app.state.db.reader(), &alerts[0].application_no)
            .await
            .expect("read")
            .expect("application");
    assert_eq!(app_row.status, onetrip::applications::Status::Refused);
    assert_eq!(app_row.checks_clear, Some(0));
}

on_both_engines!(a_write_failing_after_payment_is_refunded_in_full);

async fn a_write_failing_after_payment_is_refunded_in_full(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let (id, k) = kiosk(&app, "自助机").await;
    sim(&app).place(id, TestPermit::WriteFails);
    let token = start(&app, &k).await;
    let (status, order) = choose(&app, &k, &token, "hk-macao-l-3m-once").await;
    assert_eq!(status, 201, "{order}");
    pay(&app, order["order_no"].as_str().expect("order")).await;
    let (status, w) = write(&app, &k, &token).await;
    assert_eq!(status, 200, "{w}");
    assert_eq!(w["outcome"], "refunded");
    assert!(w["refund_no"].is_string(), "{w}");
    let (_, v) = view(&app, &k, &token).await;
    assert_eq!(v["state"], "refunded");
    let no = v["application_no"].as_str().expect("number").to_string();
    assert_eq!(document_stage(&app, &no).await, "voided");
    assert_eq!(sim(&app).writes_on("C04862369"), 0);
    let refunded: i64 = sqlx::query_scalar(
        "SELECT p.refunded_fen FROM payments p JOIN applications a ON a.id = p.application_id WHERE a.application_no = $1",
    )
    .bind(no.clone())
    .fetch_one(app.state.db.reader())
    .await
    .expect("payment");
    assert_eq!(refunded, 1500, "nobody pays without an endorsement");
    let recon = onetrip::payments::reconcile(
        &app.state.payments(),
        app.site_id("0001").await,
        app.state.clock.today(),
    )
    .await
    .expect("reconcile");
    assert_eq!(recon.total_net_fen, 0);
    assert!(recon.balanced, "{recon:?}");
}

on_both_engines!(racing_choices_payments_and_writes_make_one_of_each);

async fn racing_choices_payments_and_writes_make_one_of_each(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let (_, k) = kiosk(&app, "自助机").await;
    let token = start(&app, &k).await;
    let choices = futures_util::future::join_all(
        (0..6).map(|_| choose(&app, &k, &token, "hk-macao-g-3m-once")),
    )
    .await;
    let orders: Vec<_> = choices.iter().filter(|(s, _)| *s == 201).collect();
    assert_eq!(orders.len(), 1, "one choice stands: {choices:?}");
    assert!(
        choices.iter().all(|(s, _)| *s == 201 || *s == 409),
        "{choices:?}"
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM applications WHERE channel = $1",
            "kiosk"
        )
        .await,
        1,
        "one application"
    );
    let order = orders[0].1["order_no"].as_str().expect("order").to_string();
    let pay_ctx = app.state.payments();
    let payments = futures_util::future::join_all(
        (0..6).map(|_| onetrip::payments::simulate_customer_payment(&pay_ctx, &order)),
    )
    .await;
    let paid = payments
        .iter()
        .filter(|p| matches!(p, Ok(onetrip::payments::Settlement::Paid)))
        .count();
    assert_eq!(paid, 1, "{payments:?}");
    let writes = futures_util::future::join_all((0..8).map(|_| write(&app, &k, &token))).await;
    assert!(writes.iter().all(|(s, _)| *s == 200), "{writes:?}");
    let written: Vec<_> = writes
        .iter()
        .filter(|(_, v)| v["outcome"] == "written")
        .map(|(_, v)| v["reference"].clone())
        .collect();
    assert!(!written.is_empty());
    assert!(written.iter().all(|r| *r == written[0]));
    assert_eq!(sim(&app).writes_on("C60418297"), 1, "written once");
}

on_both_engines!(the_sweep_settles_what_a_kiosk_left_behind);

async fn the_sweep_settles_what_a_kiosk_left_behind(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let (id, k) = kiosk(&app, "自助机").await;
    // Paid, then the kiosk went dark before writing: the sweep writes it (the card is still on
    // the reader in the simulator, as it would be after a kiosk restart).
    let paid_token = start(&app, &k).await;
    let (_, order) = choose(&app, &k, &paid_token, "hk-macao-g-3m-once").await;
    pay(&app, order["order_no"].as_str().expect("order")).await;
    // Chosen, never paid: abandoned; then paid late: refunded.
    sim(&app).place(id, TestPermit::Shenzhen);
    let unpaid_token = start(&app, &k).await;
    let (_, late) = choose(&app, &k, &unpaid_token, "hk-macao-l-3m-once").await;
    // Read, never chosen: abandoned, the chip data erased.
    let idle_token = start(&app, &k).await;

    let ctx = app.state.self_service();
    let swept = onetrip::self_service::sweep(&ctx).await.expect("sweep");
    assert_eq!(swept, Default::default(), "nothing is stale yet");
    app.state
        .clock
        .advance_ms(onetrip::self_service::SESSION_MS + 60_000);
    let swept = onetrip::self_service::sweep(&ctx).await.expect("sweep");
    assert_eq!((swept.written, swept.abandoned), (1, 2), "{swept:?}");
    let state = |t: String| {
        let app = &app;
        async move {
            sqlx::query_scalar::<_, String>("SELECT state FROM self_endorsements WHERE token = $1")
                .bind(t)
                .fetch_one(app.state.db.reader())
                .await
                .expect("state")
        }
    };
    assert_eq!(state(paid_token).await, "written");
    assert_eq!(state(unpaid_token.clone()).await, "abandoned");
    assert_eq!(state(idle_token.clone()).await, "abandoned");
    let chip: Vec<u8> =
        sqlx::query_scalar("SELECT chip_sealed FROM self_endorsements WHERE token = $1")
            .bind(idle_token)
            .fetch_one(app.state.db.reader())
            .await
            .expect("chip");
    assert!(chip.is_empty(), "no personal data kept past the task");

    pay(&app, late["order_no"].as_str().expect("order")).await;
    let swept = onetrip::self_service::sweep(&ctx).await.expect("sweep");
    assert_eq!(swept.refunded, 1, "{swept:?}");
    let swept = onetrip::self_service::sweep(&ctx).await.expect("sweep");
    assert_eq!(swept.refunded, 0, "refunded once");
}

on_both_engines!(a_hall_kiosk_closes_with_the_hall_and_a_24_hour_one_does_not);

async fn a_hall_kiosk_closes_with_the_hall_and_a_24_hour_one_does_not(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let (id, k) = kiosk(&app, "派出所自助机").await;
    // 22:00 on a working day: the hall is closed.
    app.state.clock.advance_ms(12 * 3_600_000);
    let (status, e) = call(
        &app,
        &k,
        reqwest::Method::POST,
        "/api/v1/self-endorsements",
        None,
    )
    .await;
    assert_eq!(status, 503, "{e}");
    assert_eq!(e["code"], "self_service.closed");
    let prompt = || async {
        app.client()
            .get(app.url("/kiosk/voice/zh/take-card.wav"))
            .header("authorization", format!("Device {k}"))
            .send()
            .await
            .expect("prompt")
    };
    assert_eq!(prompt().await.status(), 204, "silent while prompts are off");
    let hall = app.site_id("0001").await;
    let pw = app
        .staff(
            "kiosk.admin",
            vec![(onetrip::auth::Role::Admin, Some(hall))],
        )
        .await;
    let admin = app.api_session("kiosk.admin", &pw).await;
    let res = admin
        .0
        .put(app.url(&format!("/api/v1/devices/{id}/settings")))
        .header("x-csrf-token", &admin.1)
        .json(&json!({"voice_prompts": true, "always_open": true}))
        .send()
        .await
        .expect("settings");
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.expect("json");
    assert_eq!(
        v["settings"],
        json!({"voice_prompts": true, "always_open": true})
    );
    start(&app, &k).await;
    // Spoken now, offline, where the synthesiser is installed (CI installs it).
    if std::process::Command::new("espeak-ng")
        .arg("--version")
        .output()
        .is_ok()
    {
        let res = prompt().await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "audio/wav");
        let wav = res.bytes().await.expect("wav");
        assert_eq!(&wav[..4], b"RIFF");
    }
    let unknown = app
        .client()
        .get(app.url("/kiosk/voice/zh/say-anything.wav"))
        .send()
        .await
        .expect("unknown");
    assert_eq!(unknown.status(), 404, "only the fixed prompts are spoken");
}

on_both_engines!(the_kiosk_wiping_itself_home_ends_the_session);

async fn the_kiosk_wiping_itself_home_ends_the_session(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let (_, k) = kiosk(&app, "自助机").await;
    let token = start(&app, &k).await;
    let home = app
        .client()
        .get(app.url("/kiosk/0001"))
        .header("authorization", format!("Device {k}"))
        .send()
        .await
        .expect("home");
    assert_eq!(home.status(), 200);
    let (_, v) = view(&app, &k, &token).await;
    assert_eq!(v["state"], "abandoned");
    assert_eq!(v["verdicts"], serde_json::json!([]));
    let chip: Vec<u8> =
        sqlx::query_scalar("SELECT chip_sealed FROM self_endorsements WHERE token = $1")
            .bind(token.clone())
            .fetch_one(app.state.db.reader())
            .await
            .expect("chip");
    assert!(chip.is_empty(), "erased at the wipe, not at the sweep");
    let (status, _) = choose(&app, &k, &token, "hk-macao-g-3m-once").await;
    assert_eq!(status, 409);
}

on_both_engines!(the_kiosk_page_refuses_a_payment_method_it_did_not_offer);

async fn the_kiosk_page_refuses_a_payment_method_it_did_not_offer(engine: Engine) {
    let Some(app) = app_at(engine).await else {
        return;
    };
    let kiosk = common::kiosk_browser(&app, "0001", "自助签注机").await;
    let token = app.csrf(&kiosk, "/kiosk/0001/endorse").await;
    let read = kiosk
        .post(app.url("/kiosk/0001/endorse"))
        .header("origin", app.url(""))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("read");
    assert_eq!(read.status(), 303);
    let session = read.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(session.starts_with("/kiosk/0001/endorse/"), "{session}");
    let res = kiosk
        .post(app.url(&format!("{session}/choose")))
        .header("origin", app.url(""))
        .form(&[
            ("csrf_token", token.as_str()),
            ("option", "hk-macao-g-3m-once"),
            ("method", "cash"),
        ])
        .send()
        .await
        .expect("choose");
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .expect("html")
            .contains("请选择支付宝或微信支付")
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM applications WHERE channel = $1",
            "kiosk"
        )
        .await,
        0,
        "nothing accepted on a method the kiosk does not take"
    );
}
