//! 好差评 (R13) on both engines: one rating per service even when raters race, ratings that
//! cannot be changed or removed, bad ratings that open a follow-up case due in working days,
//! the duty leader closing it once, and the citizen's page and API.

mod common;

use common::{Engine, TestApp, at};
use onetrip::auth::Failure;
use onetrip::auth::{Actor, RequestMeta, Role, RoleGrant};
use onetrip::clock::Clock;
use onetrip::config::Config;
use onetrip::queue::{self, TicketStatus};
use onetrip::ratings::{self, Channel, Level, Outcome, RatingError, RatingInput, Verification};

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

async fn app_at(engine: Engine, when: &str) -> Option<TestApp> {
    TestApp::spawn_full(engine, Config::default(), Clock::fixed(at(when))).await
}

/// A service at window 1 of the demo hall, issued, called, served and finished: its ticket.
async fn finished_service(app: &TestApp) -> queue::Ticket {
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .unwrap()
        .unwrap();
    let windows = onetrip::sites::windows_of(app.state.db.reader(), site.id)
        .await
        .unwrap();
    let w = windows.iter().find(|w| w.number == 1).unwrap();
    let ctx = app.state.queue();
    let t = common::walk_in(app, &site, "renewal").await;
    let officer = staff(site.id, Role::Officer, 4242);
    let serve = common::granted(&officer);
    queue::open_window(&ctx, &serve, w).await.unwrap();
    let called = queue::call_next(&ctx, &serve, w).await.unwrap().unwrap();
    assert_eq!(called.id, t.id);
    queue::advance(&ctx, &serve, w, TicketStatus::Serving)
        .await
        .unwrap();
    queue::advance(&ctx, &serve, w, TicketStatus::Done)
        .await
        .unwrap();
    queue::ticket(app.state.db.reader(), t.id)
        .await
        .unwrap()
        .unwrap()
}

fn input(level: Level, reasons: &[&str]) -> RatingInput {
    RatingInput {
        level,
        reasons: reasons.iter().map(|s| s.to_string()).collect(),
        comment: String::new(),
    }
}

/// Why rating `token` with `level` and `reasons` through `channel` is refused.
async fn refused_rating(
    ctx: &ratings::Ctx<'_>,
    token: &str,
    channel: Channel,
    level: Level,
    reasons: &[&str],
) -> RatingError {
    refusal(
        ratings::rate(
            ctx,
            token,
            channel,
            &input(level, reasons),
            &RequestMeta::default(),
        )
        .await,
    )
}

fn refusal<T: std::fmt::Debug>(r: Result<T, Failure<RatingError>>) -> RatingError {
    match r {
        Err(Failure::Refused(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

on_both_engines!(one_rating_per_service_even_when_raters_race);

async fn one_rating_per_service_even_when_raters_race(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-06T10:00:00+08:00").await else {
        return;
    };
    let t = finished_service(&app).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let state = app.state.clone();
        let token = t.token.clone();
        tasks.push(tokio::spawn(async move {
            let level = if i % 2 == 0 {
                Level::Satisfied
            } else {
                Level::VerySatisfied
            };
            let channel = if i % 2 == 0 {
                Channel::Link
            } else {
                Channel::Evaluator
            };
            ratings::rate(
                &state.ratings(),
                &token,
                channel,
                &input(level, &[]),
                &RequestMeta::default(),
            )
            .await
        }));
    }
    let mut rated = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => rated += 1,
            Err(Failure::Refused(RatingError::AlreadyRated)) => {}
            Err(e) => panic!("unexpected: {e:?}"),
        }
    }
    assert_eq!(rated, 1, "exactly one rating is recorded");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ratings WHERE ticket_id = $1")
        .bind(t.id)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(n, 1);
    // The rating belongs to the officer, window and line of the service.
    let r = ratings::rating_of(&app.state.ratings(), t.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.officer_id, r.window_id, r.line_code.as_str()),
        (Some(4242), t.window_id, "renewal")
    );
}

on_both_engines!(ratings_cannot_be_changed_or_removed);

async fn ratings_cannot_be_changed_or_removed(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-06T10:00:00+08:00").await else {
        return;
    };
    let t = finished_service(&app).await;
    ratings::rate(
        &app.state.ratings(),
        &t.token,
        Channel::Evaluator,
        &input(Level::Dissatisfied, &["slow"]),
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    // On the writer, so the trigger (not a read-only connection) is what refuses.
    for (sql, why) in [
        (
            "UPDATE ratings SET level = 'very_satisfied'",
            "a rating cannot be improved afterwards",
        ),
        ("DELETE FROM ratings", "a rating cannot be removed"),
    ] {
        let mut tx = app.state.db.begin().await.unwrap();
        let err = sqlx::query(sql).execute(&mut *tx).await.expect_err(why);
        assert!(err.to_string().contains("append-only"), "{why}: {err}");
    }
    let db = app.state.db.reader();
    let level: String = sqlx::query_scalar("SELECT level FROM ratings WHERE ticket_id = $1")
        .bind(t.id)
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(level, "dissatisfied");
}

on_both_engines!(what_can_be_rated_and_when);

async fn what_can_be_rated_and_when(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-06T10:00:00+08:00").await else {
        return;
    };
    let ctx = app.state.ratings();
    assert_eq!(
        refused_rating(&ctx, "no-such-token", Channel::Link, Level::Satisfied, &[]).await,
        RatingError::NoSuchService
    );
    let t = finished_service(&app).await;
    // A waiting ticket is not rated yet.
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .unwrap()
        .unwrap();
    let waiting = common::walk_in(&app, &site, "first_issue").await;
    assert_eq!(
        refused_rating(&ctx, &waiting.token, Channel::Link, Level::Satisfied, &[]).await,
        RatingError::NotFinished
    );
    assert_eq!(
        refused_rating(&ctx, &t.token, Channel::Link, Level::VeryDissatisfied, &[]).await,
        RatingError::ReasonsNeeded
    );
    // The evaluator asks only right after the service; the link lasts 7 days.
    app.state.clock.advance_ms(31 * 60_000);
    assert_eq!(
        refused_rating(&ctx, &t.token, Channel::Evaluator, Level::Satisfied, &[]).await,
        RatingError::Expired
    );
    assert!(ratings::rateable(&ctx, &t, Channel::Link).await.unwrap());
    app.state.clock.advance_ms(7 * 86_400_000);
    assert_eq!(
        refused_rating(&ctx, &t.token, Channel::Link, Level::Satisfied, &[]).await,
        RatingError::Expired
    );
}

on_both_engines!(a_bad_rating_is_followed_up_by_the_duty_leader_once);

async fn a_bad_rating_is_followed_up_by_the_duty_leader_once(engine: Engine) {
    // Friday 2026-03-06: three working days later is Wednesday 2026-03-11 (the weekend does
    // not count).
    let Some(app) = app_at(engine, "2026-03-06T10:00:00+08:00").await else {
        return;
    };
    let ctx = app.state.ratings();
    let t = finished_service(&app).await;
    let rated = ratings::rate(
        &ctx,
        &t.token,
        Channel::Link,
        &input(Level::VeryDissatisfied, &["not_one_trip", "attitude"]),
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    let case_id = rated.case_id.expect("a bad rating opens a case");
    assert_eq!(rated.due_date.as_deref(), Some("2026-03-11"));
    // A good rating opens none.
    let good = finished_service(&app).await;
    let fine = ratings::rate(
        &ctx,
        &good.token,
        Channel::Link,
        &input(Level::Basic, &[]),
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    assert!(fine.case_id.is_none());

    let leader = staff(t.site_id, Role::Leader, 77);
    let lead = common::granted(&leader);
    let open = ratings::cases(&ctx, &lead, t.site_id).await.unwrap();
    assert_eq!(open.len(), 1);
    assert!(!open[0].overdue);
    assert_eq!(open[0].case.rating.reasons, ["attitude", "not_one_trip"]);

    // Another site's duty leader sees nothing and closes nothing.
    let elsewhere = staff(t.site_id + 1000, Role::Leader, 78);
    assert_eq!(
        refusal(ratings::cases(&ctx, &common::granted(&elsewhere), t.site_id).await),
        RatingError::OtherSite
    );
    let justified = Verification {
        outcome: Outcome::Justified,
        verification: "调取录像核实，告知不完整属实".into(),
        rectification: String::new(),
        citizen_reply: String::new(),
    };
    assert_eq!(
        refusal(ratings::close_case(&ctx, &common::granted(&elsewhere), case_id, &justified).await),
        RatingError::OtherSite
    );
    // Justified needs its rectification.
    assert_eq!(
        refusal(ratings::close_case(&ctx, &lead, case_id, &justified).await),
        RatingError::VerificationNeeded
    );
    // Past its deadline it shows overdue.
    app.state.clock.advance_ms(6 * 86_400_000);
    assert!(ratings::cases(&ctx, &lead, t.site_id).await.unwrap()[0].overdue);
    let done = Verification {
        rectification: "窗口增设一次性告知清单，当事民警批评教育".into(),
        citizen_reply: "群众表示满意".into(),
        ..justified
    };
    let closed = ratings::close_case(&ctx, &lead, case_id, &done)
        .await
        .unwrap();
    assert_eq!(closed.outcome, Some(Outcome::Justified));
    assert_eq!(
        refusal(ratings::close_case(&ctx, &lead, case_id, &done).await),
        RatingError::CaseClosed
    );
    let after = ratings::cases(&ctx, &lead, t.site_id).await.unwrap();
    assert!(after[0].case.closed_at.is_some() && !after[0].overdue);
    // The satisfaction rate counts the three good levels.
    let s = ratings::satisfaction(&ctx, t.site_id, 0).await.unwrap();
    assert_eq!((s.total, s.satisfied_permille), (2, Some(500)));
}

on_both_engines!(the_citizen_rates_from_the_phone_and_the_api);

async fn the_citizen_rates_from_the_phone_and_the_api(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-06T10:00:00+08:00").await else {
        return;
    };
    let t = finished_service(&app).await;
    let c = app.client();
    // The ticket page offers the rating once the service is done.
    let status = c
        .get(app.url(&format!("/q/{}", t.token)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(status.contains(&format!("/rate/{}", t.token)), "{status}");
    let page = c
        .get(app.url(&format!("/rate/{}", t.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("非常不满意") && html.contains("name=\"reason\""));

    let res = c
        .post(app.url(&format!("/api/v1/ratings/{}", t.token)))
        .json(&serde_json::json!({"level": "dissatisfied"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "a bad rating needs a reason");
    let res = c
        .post(app.url(&format!("/api/v1/ratings/{}", t.token)))
        .header("accept-language", "en")
        .json(&serde_json::json!({"level": "dissatisfied", "reasons": ["slow"], "comment": "45 minutes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let rated: serde_json::Value = res.json().await.unwrap();
    assert_eq!(rated["due_date"], "2026-03-11");
    let again = c
        .post(app.url(&format!("/api/v1/ratings/{}", t.token)))
        .header("accept-language", "en")
        .json(&serde_json::json!({"level": "satisfied"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let body: serde_json::Value = again.json().await.unwrap();
    assert_eq!(body["code"], "rating.already_rated");
    assert!(body["message"].as_str().unwrap().contains("rated already"));
    // Rated: the page says so and offers no second form; an unknown token is not found.
    let html = c
        .get(app.url(&format!("/rate/{}", t.token)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"closed\"") && !html.contains("name=\"level\""));
    let none = c.get(app.url("/rate/not-a-token")).send().await.unwrap();
    assert_eq!(none.status(), 404);
    let reasons: serde_json::Value = c
        .get(app.url("/api/v1/rating-reasons"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(reasons.as_array().is_some_and(|r| r.len() >= 5));
}

on_both_engines!(the_evaluator_tablet_is_a_device);

/// Issue 14 §3: the window evaluator runs on an enrolled evaluator tablet of the site, with no
/// staff signed in on a screen the citizen touches; a tablet of another site, a kiosk, or
/// nothing at all is refused.
async fn the_evaluator_tablet_is_a_device(engine: Engine) {
    let Some(app) = app_at(engine, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let t = finished_service(&app).await;
    let window = t.window_id.unwrap();
    let tablet = |site: &'static str, kind: onetrip::device_registry::Kind| {
        let app = &app;
        async move {
            let site_id = app.site_id(site).await;
            let (_, code) = onetrip::device_registry::register(
                &app.state.db,
                &app.state.clock,
                common::administrator(),
                site_id,
                kind,
                "窗口评价器",
            )
            .await
            .unwrap();
            let (_, credential) = onetrip::device_registry::enrol(
                &app.state.db,
                &app.state.clock,
                &code,
                &RequestMeta::default(),
            )
            .await
            .unwrap();
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(
                "authorization",
                format!("Device {credential}").parse().unwrap(),
            );
            reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(headers)
                .build()
                .unwrap()
        }
    };
    let url = app.url(&format!("/evaluator/{window}"));
    use onetrip::device_registry::Kind;
    for (who, c) in [
        ("nobody", app.client()),
        (
            "another site's tablet",
            tablet("0002", Kind::Evaluator).await,
        ),
        ("a kiosk", tablet("0001", Kind::Kiosk).await),
    ] {
        let res = c.get(&url).send().await.unwrap();
        let status = res.status();
        // Nobody at all is sent to sign in; a device of the wrong kind or site is refused.
        let to_login = status == 303
            && res.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login");
        assert!(to_login || status == 403, "{who}: {status}");
    }
    let c = tablet("0001", Kind::Evaluator).await;
    let html = c.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&t.number), "the service to rate: {html}");
    assert!(html.contains(&format!("action=\"/evaluator/{window}\"")));
    assert!(
        html.contains("data-kiosk-home"),
        "the tablet wipes itself back"
    );
    let token = app.csrf(&c, &format!("/evaluator/{window}")).await;
    let res = c
        .post(&url)
        .header("origin", app.url(""))
        .form(&[
            ("csrf_token", token.as_str()),
            ("token", t.token.as_str()),
            ("level", "very_satisfied"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/evaluator/{window}?thanks=1").as_str()
    );
    let level: String = sqlx::query_scalar("SELECT level FROM ratings WHERE ticket_id = $1")
        .bind(t.id)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(level, "very_satisfied");
}
