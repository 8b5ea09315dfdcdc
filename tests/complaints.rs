//! Complaints and suggestions (R13) on both engines: registered from the web and by staff from
//! the other channels, numbered, due in working days, answered once with the accountability
//! when justified, followed and closed by the citizen with their number and phone, never
//! deleted, their history append-only.

mod common;

use common::{Engine, TestApp, at};
use onetrip::auth::{Actor, Failure, RequestMeta, Role, RoleGrant};
use onetrip::clock::Clock;
use onetrip::complaints::{
    self, AnswerInput, Category, ComplaintChannel, ComplaintError, ComplaintInput, Registrar,
    Status,
};
use onetrip::config::Config;

fn staff(site_id: i64, role: Role, id: i64) -> Actor {
    Actor {
        staff_id: id,
        grants: vec![RoleGrant {
            role,
            site_id: Some(site_id),
        }],
        ..common::actor_at(site_id, &[])
    }
}

fn complaint(channel: ComplaintChannel, phone: &str) -> ComplaintInput {
    ComplaintInput {
        channel,
        category: Category::Materials,
        site: Some("0001".into()),
        window: Some(3),
        application_no: None,
        officer_badge: None,
        content: "窗口要求提供办事指南以外的户口本复印件，白跑了一趟。".into(),
        name: "王小明".into(),
        phone: phone.into(),
    }
}

fn refusal<T: std::fmt::Debug>(r: Result<T, Failure<ComplaintError>>) -> ComplaintError {
    match r {
        Err(Failure::Refused(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn hall_id(app: &TestApp) -> i64 {
    onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .unwrap()
        .unwrap()
        .id
}

on_both_engines!(a_complaint_from_the_web_to_the_citizens_verdict);

async fn a_complaint_from_the_web_to_the_citizens_verdict(engine: Engine) {
    // Friday 2026-03-06: five working days later is Friday 2026-03-13.
    let Some(app) = TestApp::spawn_full(
        engine,
        Config::default(),
        Clock::fixed(at("2026-03-06T10:00:00+08:00")),
    )
    .await
    else {
        return;
    };
    let ctx = app.state.complaints();
    let meta = RequestMeta::default();
    let site = hall_id(&app).await;

    // What the citizen may not do.
    let mut short = complaint(ComplaintChannel::Web, "13800138000");
    short.content = "差".into();
    assert_eq!(
        refusal(complaints::register(&ctx, Registrar::Citizen, &short, &meta).await),
        ComplaintError::Content
    );
    assert_eq!(
        refusal(
            complaints::register(
                &ctx,
                Registrar::Citizen,
                &complaint(ComplaintChannel::Web, "12345"),
                &meta
            )
            .await
        ),
        ComplaintError::Phone
    );
    assert_eq!(
        refusal(
            complaints::register(
                &ctx,
                Registrar::Citizen,
                &complaint(ComplaintChannel::Hotline12367, "13800138000"),
                &meta
            )
            .await
        ),
        ComplaintError::Channel
    );

    let mut no_window = complaint(ComplaintChannel::Web, "13800138000");
    no_window.window = Some(99);
    assert_eq!(
        refusal(complaints::register(&ctx, Registrar::Citizen, &no_window, &meta).await),
        ComplaintError::NoSuchWindow
    );
    let mut wrong_no = complaint(ComplaintChannel::Web, "13800138000");
    wrong_no.application_no = Some("2026030600010000".into());
    assert_eq!(
        refusal(complaints::register(&ctx, Registrar::Citizen, &wrong_no, &meta).await),
        ComplaintError::ApplicationNo
    );
    let web = complaints::register(
        &ctx,
        Registrar::Citizen,
        &complaint(ComplaintChannel::Web, "13800138000"),
        &meta,
    )
    .await
    .unwrap();
    assert_eq!(web.number, "TS202603060001");
    assert_eq!(web.due_date, "2026-03-13");

    // Staff register a hotline call from the same phone: numbered next, marked repeated.
    let officer = staff(site, Role::Officer, 501);
    let taker = common::granted(&officer);
    let hotline = complaints::register(
        &ctx,
        Registrar::Staff(&taker),
        &complaint(ComplaintChannel::Hotline12367, "13800138000"),
        &meta,
    )
    .await
    .unwrap();
    assert_eq!(hotline.number, "TS202603060002");
    let elsewhere = staff(site + 1000, Role::Officer, 502);
    assert_eq!(
        refusal(
            complaints::register(
                &ctx,
                Registrar::Staff(&common::granted(&elsewhere)),
                &complaint(ComplaintChannel::Box, "13900139000"),
                &meta
            )
            .await
        ),
        ComplaintError::OtherSite
    );

    let leader = staff(site, Role::Leader, 77);
    let lead = common::granted(&leader);
    let list = complaints::list(&ctx, &lead, site).await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|v| v.repeated && !v.overdue));
    // Contact data is sealed at rest.
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT phone_sealed FROM complaints WHERE number = $1")
            .bind(&web.number)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains("13800138000"));

    // Past the deadline: overdue.
    app.state.clock.advance_ms(8 * 86_400_000);
    assert!(complaints::list(&ctx, &lead, site).await.unwrap()[0].overdue);

    // The answer: justified needs the accountability; once only.
    let id = list
        .iter()
        .find(|v| v.row.number == web.number)
        .unwrap()
        .row
        .id;
    let mut answer = AnswerInput {
        answer: "经核实，窗口民警多要求了材料，已批评教育并向您致歉。".into(),
        justified: true,
        accountability: String::new(),
    };
    assert_eq!(
        refusal(complaints::answer(&ctx, complaints::Answerer::Leader(&lead), id, &answer).await),
        ComplaintError::AccountabilityNeeded
    );
    answer.accountability = "当事民警诫勉谈话，窗口一次性告知清单更新".into();
    let answered = complaints::answer(&ctx, complaints::Answerer::Leader(&lead), id, &answer)
        .await
        .unwrap();
    assert_eq!(answered.status, Status::Answered);
    assert_eq!(
        refusal(complaints::answer(&ctx, complaints::Answerer::Leader(&lead), id, &answer).await),
        ComplaintError::WrongState
    );

    // The citizen follows it with number and phone, and says whether the answer satisfied.
    assert_eq!(
        refusal(complaints::track(&ctx, &web.number, "13900139000").await),
        ComplaintError::NotFound
    );
    let t = complaints::track(&ctx, &web.number, "138 0013 8000")
        .await
        .unwrap();
    assert_eq!(t.status, Status::Answered);
    assert!(t.answer.is_some());
    let closed = complaints::rate_answer(&ctx, &web.number, "13800138000", true, &meta)
        .await
        .unwrap();
    assert_eq!(
        (closed.status, closed.satisfied),
        (Status::Closed, Some(true))
    );
    assert_eq!(
        refusal(complaints::rate_answer(&ctx, &web.number, "13800138000", false, &meta).await),
        ComplaintError::WrongState
    );

    // Nothing can be quietly removed.
    let db = app.state.db.reader();
    assert!(
        sqlx::query("DELETE FROM complaints")
            .execute(db)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("UPDATE complaint_events SET kind = 'x'")
            .execute(db)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM complaint_events")
            .execute(db)
            .await
            .is_err()
    );
    let history = complaints::history(&ctx, id).await.unwrap();
    let kinds: Vec<&str> = history.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["registered", "answered", "citizen_satisfaction"]);
}

on_both_engines!(complaints_over_http);

async fn complaints_over_http(engine: Engine) {
    let Some(app) = TestApp::spawn_full(
        engine,
        Config::default(),
        Clock::fixed(at("2026-03-06T10:00:00+08:00")),
    )
    .await
    else {
        return;
    };
    let c = app.client();
    let form = c
        .get(app.url("/complaints"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("name=\"content\"") && form.contains("12367"));
    // A forged category or a window number that is not one is refused, never defaulted.
    let token = app.csrf(&c, "/complaints").await;
    let csrf = token.as_str();
    for (field, value) in [("category", "bribery"), ("window", "three")] {
        let mut fields = vec![
            ("csrf_token", csrf),
            ("category", "efficiency"),
            ("site", "0001"),
            ("window", "3"),
            ("content", "排队等了两个小时，窗口只开了两个。"),
            ("name", "李"),
            ("phone", "13700137000"),
        ];
        for f in fields.iter_mut() {
            if f.0 == field {
                f.1 = value;
            }
        }
        let res = c
            .post(app.url("/complaints"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{field}={value}");
        assert!(res.text().await.unwrap().contains("complaint-error"));
    }
    let res = c
        .post(app.url("/api/v1/complaints"))
        .json(&serde_json::json!({
            "channel": "web", "category": "efficiency", "site": "0001",
            "content": "排队等了两个小时，窗口只开了两个。", "name": "李", "phone": "13700137000"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let reg: serde_json::Value = res.json().await.unwrap();
    let number = reg["number"].as_str().unwrap().to_string();
    // Anonymous callers register only online complaints.
    let res = c
        .post(app.url("/api/v1/complaints"))
        .json(&serde_json::json!({
            "channel": "hotline_12367", "category": "efficiency",
            "content": "排队等了两个小时，窗口只开了两个。", "name": "李", "phone": "13700137000"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = c
        .post(app.url("/api/v1/complaints/track"))
        .json(&serde_json::json!({"number": number, "phone": "13700137000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let t: serde_json::Value = res.json().await.unwrap();
    assert_eq!(t["status"], "open");
    assert_eq!(t["due_date"], "2026-03-13");
    let res = c
        .post(app.url("/api/v1/complaints/track"))
        .json(&serde_json::json!({"number": number, "phone": "13600136000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "another phone learns nothing");
}

on_both_engines!(the_officer_concerned_a_named_handler_and_alerts);

/// A complaint names the officer concerned (by badge, or as the acceptor of the application);
/// the duty leader assigns it to a named handler, who answers it, and nobody else; a repeated
/// complaint texts the duty leader at once; the leader's page counts what is overdue.
async fn the_officer_concerned_a_named_handler_and_alerts(engine: Engine) {
    let config = Config {
        duty_leader_phone: "13800138000".into(),
        ..Config::default()
    };
    let Some(app) = TestApp::spawn_full(
        engine,
        config,
        Clock::fixed(at("2026-10-15T09:00:00+08:00")),
    )
    .await
    else {
        return;
    };
    let hall = hall_id(&app).await;
    let id_of = |username: &'static str| {
        let db = app.state.db.reader().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT id FROM staff WHERE username = $1")
                .bind(username)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    // The demo officer 李受理 wears badge 010002; the test officer accepts an application.
    let demo_officer = id_of("officer").await;
    app.staff("acceptor", vec![(Role::Officer, Some(hall))])
        .await;
    let acceptor = onetrip::auth::Actor {
        staff_id: id_of("acceptor").await,
        ..common::actor_at(hall, &[Role::Officer])
    };
    let no = common::accepted_at(
        &app,
        &acceptor,
        common::synthetic_id("19800101", 1),
        onetrip::catalog::TimeLimitClass::Normal,
    )
    .await;
    let ctx = app.state.complaints();
    let meta = RequestMeta::default();

    // By badge.
    let by_badge = ComplaintInput {
        officer_badge: Some("010002".into()),
        ..complaint(ComplaintChannel::Web, "13700137001")
    };
    let r1 = complaints::register(&ctx, Registrar::Citizen, &by_badge, &meta)
        .await
        .unwrap();
    // A badge nobody at that site wears, or a badge without a site: refused, not dropped.
    for bad in [
        ComplaintInput {
            officer_badge: Some("999999".into()),
            ..complaint(ComplaintChannel::Web, "13700137002")
        },
        ComplaintInput {
            officer_badge: Some("010002".into()),
            site: None,
            window: None,
            ..complaint(ComplaintChannel::Web, "13700137002")
        },
    ] {
        assert_eq!(
            refusal(complaints::register(&ctx, Registrar::Citizen, &bad, &meta).await),
            ComplaintError::NoSuchOfficer
        );
    }
    // By application: its site and its accepting officer.
    let by_application = ComplaintInput {
        site: None,
        window: None,
        application_no: Some(no.as_str().into()),
        ..complaint(ComplaintChannel::Web, "13700137003")
    };
    let r2 = complaints::register(&ctx, Registrar::Citizen, &by_application, &meta)
        .await
        .unwrap();
    let leader = staff(hall, Role::Leader, 9001);
    let lead = common::granted(&leader);
    let listed = complaints::list(&ctx, &lead, hall).await.unwrap();
    let row = |n: &str| {
        listed
            .iter()
            .find(|v| v.row.number == n)
            .map(|v| v.row.clone())
            .unwrap()
    };
    assert_eq!(row(&r1.number).officer_id, Some(demo_officer));
    assert_eq!(row(&r2.number).officer_id, Some(acceptor.staff_id));
    assert_eq!(row(&r2.number).site_id, Some(hall));

    // Nothing texted yet: no repeat.
    let texts = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'leader.complaint_repeated'",
        )
        .fetch_one(app.state.db.reader())
        .await
        .unwrap()
    };
    assert_eq!(texts().await, 0);
    // The same officer complained about again: the duty leader is texted at once.
    let again = ComplaintInput {
        officer_badge: Some("010002".into()),
        category: Category::Attitude,
        ..complaint(ComplaintChannel::Web, "13700137004")
    };
    let r3 = complaints::register(&ctx, Registrar::Citizen, &again, &meta)
        .await
        .unwrap();
    assert_eq!(texts().await, 1);
    let listed = complaints::list(&ctx, &lead, hall).await.unwrap();
    assert!(
        listed
            .iter()
            .filter(|v| v.row.officer_id == Some(demo_officer))
            .all(|v| v.repeated)
    );
    let alerts = complaints::alerts(&ctx, &lead, hall).await.unwrap();
    assert_eq!((alerts.overdue, alerts.repeated), (0, 2));

    // Assigned to a named handler of the site (not someone of another site).
    let guide = id_of("guide").await;
    let r3_id = listed
        .iter()
        .find(|v| v.row.number == r3.number)
        .map(|v| v.row.id)
        .unwrap();
    app.staff(
        "far.away",
        vec![(Role::Officer, Some(app.site_id("0002").await))],
    )
    .await;
    assert_eq!(
        refusal(complaints::assign(&ctx, &lead, r3_id, id_of("far.away").await).await),
        ComplaintError::NoSuchHandler
    );
    let assigned = complaints::assign(&ctx, &lead, r3_id, guide).await.unwrap();
    assert_eq!(assigned.handler_id, Some(guide));
    let handler = onetrip::auth::Actor {
        staff_id: guide,
        ..common::actor_at(hall, &[Role::Guide])
    };
    let mine = complaints::assigned_to(&ctx, &handler).await.unwrap();
    assert_eq!(
        mine.iter()
            .map(|v| v.row.number.clone())
            .collect::<Vec<_>>(),
        vec![r3.number.clone()]
    );
    let answer = AnswerInput {
        answer: "经核实，该民警服务用语不规范，已批评教育并向您致歉。".into(),
        justified: true,
        accountability: "对民警李受理进行批评教育，扣减当月考核分".into(),
    };
    // Someone it was not assigned to cannot answer it.
    let other = onetrip::auth::Actor {
        staff_id: acceptor.staff_id,
        ..common::actor_at(hall, &[Role::Officer])
    };
    assert_eq!(
        refusal(
            complaints::answer(&ctx, complaints::Answerer::Handler(&other), r3_id, &answer).await
        ),
        ComplaintError::NotFound
    );
    let done = complaints::answer(
        &ctx,
        complaints::Answerer::Handler(&handler),
        r3_id,
        &answer,
    )
    .await
    .unwrap();
    assert_eq!(done.justified, Some(true));
    assert!(
        complaints::assigned_to(&ctx, &handler)
            .await
            .unwrap()
            .is_empty()
    );
    let kinds: Vec<String> = complaints::history(&ctx, r3_id)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, k, _)| k)
        .collect();
    assert_eq!(kinds, vec!["registered", "assigned", "answered"]);

    // The handler's own list as JSON.
    let hpw = app
        .staff("handler.two", vec![(Role::Guide, Some(hall))])
        .await;
    let r1_id = listed
        .iter()
        .find(|v| v.row.number == r1.number)
        .map(|v| v.row.id)
        .unwrap();
    complaints::assign(&ctx, &lead, r1_id, id_of("handler.two").await)
        .await
        .unwrap();
    let (h, _) = app.api_session("handler.two", &hpw).await;
    let mine: serde_json::Value = h
        .get(app.url("/api/v1/complaints/mine"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(mine[0]["number"], r1.number.as_str());

    // Six working days later the others are overdue: on the leader's page and in the digest.
    app.state.clock.advance_ms(8 * 86_400_000);
    let alerts = complaints::alerts(&ctx, &lead, hall).await.unwrap();
    assert_eq!(alerts.overdue, 2);
    let line = complaints::digest_line(&ctx).await.unwrap();
    assert!(line.contains("投诉超期未答复2件"), "{line}");
    let password = app
        .staff("leader.alerts", vec![(Role::Leader, Some(hall))])
        .await;
    let c = app.signed_in("leader.alerts", &password).await;
    let html = c
        .get(app.url("/staff/leader"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"service-alerts\""), "{html}");
    assert!(html.contains("投诉超期未答复2件"));
    // The handler's own page lists nothing now; the leader's shows the officer and handler.
    let html = c
        .get(app.url("/staff/complaints"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("李受理 (010002)"));
    assert!(html.contains("郑导办 (010007)"));
}
