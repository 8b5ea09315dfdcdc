//! Daily callbacks (每日回访, R13) on both engines: one list per site and working day even when
//! drawn concurrently, a sample reproducible from its seed that never includes a citizen who
//! declined contact, three attempts at most (also under concurrency), append-only attempts,
//! audited phone reveals, and the staff page and citizen's "no callbacks" through HTTP.

mod common;

use common::{TestApp, at};
use onetrip::auth::{Actor, Failure, Role};
use onetrip::callbacks::{self, AttemptInput, CallbackError, ItemStatus, Outcome};
use onetrip::catalog::TimeLimitClass;
use onetrip::domain::application_no::ApplicationNo;
use std::collections::{BTreeMap, HashSet};

/// Wednesday: the citizens are served; Thursday: they are called.
const SERVED: &str = "2026-10-14T10:00:00+08:00";
const CALLED: &str = "2026-10-15T09:00:00+08:00";

/// Moves the test's fixed clock to `when`.
fn move_to(app: &TestApp, when: &str) {
    app.state
        .clock
        .advance_ms(at(when) - app.state.clock.now_ms());
}

fn person(n: u32) -> onetrip::domain::id_number::IdNumber {
    common::synthetic_id("19850607", n)
}

fn answers() -> BTreeMap<String, String> {
    [
        ("satisfaction", "very_satisfied"),
        ("one_trip", "yes"),
        ("improper", "no"),
        ("conduct", "good"),
        ("remarks", "大厅指引清楚"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn attempt(outcome: Outcome) -> AttemptInput {
    AttemptInput {
        outcome,
        answers: BTreeMap::new(),
        note: String::new(),
        decline_contact: false,
    }
}

fn refusal<T: std::fmt::Debug>(r: Result<T, Failure<CallbackError>>) -> CallbackError {
    match r {
        Err(Failure::Refused(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn id_index_of(app: &TestApp, application_id: i64) -> onetrip::privacy::BlindIndex {
    let sealed = onetrip::applications::application(app.state.db.reader(), application_id)
        .await
        .expect("q")
        .expect("application")
        .id_sealed;
    app.state
        .cipher
        .blind_index_of_sealed(&sealed)
        .expect("opens")
}

/// Serves 14 people on Wednesday (person 1 twice), person 2 declines callbacks; returns the
/// application numbers.
async fn a_served_day(app: &TestApp, site: i64) -> Vec<ApplicationNo> {
    let officer = common::actor_at(site, &[Role::Officer]);
    let mut nos = Vec::new();
    for n in 1..=14 {
        nos.push(common::accepted_at(app, &officer, person(n), TimeLimitClass::Normal).await);
    }
    // Person 1 comes back the same day for another application: still one citizen to call.
    app.state.clock.advance_ms(60_000);
    common::accepted_at(app, &officer, person(1), TimeLimitClass::Normal).await;
    let declined = onetrip::applications::application_by_no(app.state.db.reader(), nos[1].as_str())
        .await
        .expect("q")
        .expect("app");
    let person = app
        .state
        .cipher
        .blind_index_of_sealed(&declined.id_sealed)
        .expect("opens");
    callbacks::decline_contact(&app.state.callbacks(), &person)
        .await
        .expect("decline");
    nos
}

async fn the_sample_is_reproducible_and_respects_declines(app: TestApp) {
    let site = app.site_id("0001").await;
    a_served_day(&app, site).await;
    move_to(&app, CALLED);
    let ctx = app.state.callbacks();
    let caller = common::actor_at(site, &[Role::Guide]);

    // The morning worker draws the lists of the sites with windows (the hall and the
    // extension point, not the kiosk point), once.
    assert_eq!(
        callbacks::draw_all(&ctx, app.state.clock.today())
            .await
            .expect("draw all"),
        2
    );
    assert_eq!(
        callbacks::draw_all(&ctx, app.state.clock.today())
            .await
            .expect("draw all"),
        0
    );
    // Eight callers open the page at once: the same list, ten citizens.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let state = app.state.clone();
        let caller = caller.clone();
        tasks.push(tokio::spawn(async move {
            callbacks::list_for_day(
                &state.callbacks(),
                &common::granted(&caller),
                site,
                state.clock.today(),
            )
            .await
            .expect("list")
            .id
        }));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        ids.insert(t.await.expect("task"));
    }
    assert_eq!(ids.len(), 1, "one list per site and day");
    let list = callbacks::list_for_day(
        &ctx,
        &common::granted(&caller),
        site,
        app.state.clock.today(),
    )
    .await
    .expect("list");
    assert_eq!(list.served_day, "2026-10-14");
    // 14 people served, one declined: 13 may be called; 10 are drawn.
    assert_eq!(list.population, 13);
    let items = callbacks::items(&ctx, &list).await.expect("items");
    assert_eq!(items.len(), 10);
    let mut people = HashSet::new();
    for i in &items {
        let who = id_index_of(&app, i.item.application_id).await;
        assert!(
            people.insert(who.newest().to_owned()),
            "a citizen is drawn once"
        );
        assert!(!callbacks::declined(&ctx, &who).await.expect("q"));
        assert_eq!(i.masked_phone, "139****9000");
        assert_eq!(i.item.status, ItemStatus::Pending);
    }
    // The same seed and records draw the same citizens, in the same order.
    let drawn: Vec<i64> = items.iter().map(|i| i.item.application_id).collect();
    assert_eq!(callbacks::redraw(&ctx, &list).await.expect("redraw"), drawn);
    // A decline after the draw does not change what the seed reproduces…
    app.state.clock.advance_ms(1_000);
    let later = id_index_of(&app, drawn[0]).await;
    callbacks::decline_contact(&ctx, &later)
        .await
        .expect("decline");
    assert_eq!(callbacks::redraw(&ctx, &list).await.expect("redraw"), drawn);
    // …but no later list draws that citizen.
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'callback.list_drawn'")
            .fetch_one(app.state.db.reader())
            .await
            .expect("count");
    assert_eq!(count, 2, "each site's list drawn once, audited once");

    // Saturday has no list.
    move_to(&app, "2026-10-17T09:00:00+08:00");
    assert_eq!(
        refusal(
            callbacks::list_for_day(
                &ctx,
                &common::granted(&caller),
                site,
                app.state.clock.today()
            )
            .await
        ),
        CallbackError::NotWorkingDay
    );
    // Another site's caller cannot open this site's list.
    let elsewhere = common::actor_at(app.site_id("0002").await, &[Role::Guide]);
    move_to(&app, CALLED);
    assert_eq!(
        refusal(
            callbacks::list_for_day(
                &ctx,
                &common::granted(&elsewhere),
                site,
                app.state.clock.today()
            )
            .await
        ),
        CallbackError::OtherSite
    );
}

on_both_engines!(
    sample,
    at = super::SERVED,
    super::the_sample_is_reproducible_and_respects_declines
);

async fn calls_are_attempted_three_times_and_kept(app: TestApp) {
    let site = app.site_id("0001").await;
    a_served_day(&app, site).await;
    move_to(&app, CALLED);
    let ctx = app.state.callbacks();
    let caller = common::actor_at(site, &[Role::Guide]);
    let grant = common::granted(&caller);
    let list = callbacks::list_for_day(&ctx, &grant, site, app.state.clock.today())
        .await
        .expect("list");
    let items = callbacks::items(&ctx, &list).await.expect("items");
    let (first, second, third, fourth) = (
        items[0].item.id,
        items[1].item.id,
        items[2].item.id,
        items[3].item.id,
    );

    // No answer three times: unreachable, and no fourth attempt.
    for n in 1..=3 {
        let i = callbacks::record_attempt(&ctx, &grant, first, &attempt(Outcome::NoAnswer))
            .await
            .expect("attempt");
        assert_eq!(i.attempts, n);
    }
    let i = callbacks::record_attempt(&ctx, &grant, first, &attempt(Outcome::Reached)).await;
    assert_eq!(refusal(i), CallbackError::Finished);

    // Reached: the script's required answers first.
    assert_eq!(
        refusal(callbacks::record_attempt(&ctx, &grant, second, &attempt(Outcome::Reached)).await),
        CallbackError::AnswerMissing("satisfaction".into())
    );
    let mut wrong = answers();
    wrong.insert("conduct".into(), "splendid".into());
    assert_eq!(
        refusal(
            callbacks::record_attempt(
                &ctx,
                &grant,
                second,
                &AttemptInput {
                    answers: wrong,
                    ..attempt(Outcome::Reached)
                }
            )
            .await
        ),
        CallbackError::UnknownAnswer("conduct".into())
    );
    let done = callbacks::record_attempt(
        &ctx,
        &grant,
        second,
        &AttemptInput {
            answers: answers(),
            ..attempt(Outcome::Reached)
        },
    )
    .await
    .expect("reached");
    assert_eq!((done.status, done.attempts), (ItemStatus::Reached, 1));
    let stored: BTreeMap<String, String> =
        serde_json::from_str(done.answers.as_deref().expect("answers")).expect("json");
    assert_eq!(stored, answers());
    assert_eq!(
        refusal(callbacks::record_attempt(&ctx, &grant, second, &attempt(Outcome::NoAnswer)).await),
        CallbackError::Finished
    );

    // Refused, and never to be called again.
    let declined = callbacks::record_attempt(
        &ctx,
        &grant,
        third,
        &AttemptInput {
            decline_contact: true,
            note: "表示工作忙，不需要回访".into(),
            ..attempt(Outcome::Refused)
        },
    )
    .await
    .expect("refused");
    assert_eq!(declined.status, ItemStatus::Refused);
    let who = id_index_of(&app, declined.application_id).await;
    assert!(callbacks::declined(&ctx, &who).await.expect("q"));

    // Eight callers record the same citizen's attempt at once: never more than three
    // attempts, and exactly as many rows as the item counts.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let state = app.state.clone();
        let caller = caller.clone();
        tasks.push(tokio::spawn(async move {
            callbacks::record_attempt(
                &state.callbacks(),
                &common::granted(&caller),
                fourth,
                &attempt(Outcome::NoAnswer),
            )
            .await
            .is_ok()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += i64::from(t.await.expect("task"));
    }
    let after = callbacks::items(&ctx, &list)
        .await
        .expect("items")
        .into_iter()
        .find(|i| i.item.id == fourth)
        .expect("item");
    assert!((1..=3).contains(&ok), "{ok} attempts recorded");
    assert_eq!(after.item.attempts, ok);
    assert_eq!(after.attempts.len() as i64, ok);
    let numbers: Vec<i64> = after.attempts.iter().map(|a| a.attempt).collect();
    assert_eq!(numbers, (1..=ok).collect::<Vec<_>>());

    // Attempts cannot be changed or removed.
    for (sql, why) in [
        (
            "UPDATE callback_attempts SET outcome = 'reached'",
            "append-only",
        ),
        ("DELETE FROM callback_attempts", "append-only"),
        ("DELETE FROM callback_items", "kept"),
        ("UPDATE callback_lists SET seed = 'other'", "kept"),
        ("DELETE FROM callback_lists", "kept"),
    ] {
        // On the writer, so the trigger (not a read-only connection) is what refuses.
        let mut tx = app.state.db.begin().await.expect("tx");
        let err = sqlx::query(sql).execute(&mut *tx).await.expect_err(sql);
        assert!(err.to_string().contains(why), "{sql}: {err}");
    }

    // Showing a number is audited; another site's caller cannot see it.
    let phone = callbacks::reveal_phone(&ctx, &grant, second)
        .await
        .expect("phone");
    assert_eq!(phone, "13900139000");
    let reveals: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'personal_data.read' AND detail LIKE '%callback.phone%'",
    )
    .fetch_one(app.state.db.reader())
    .await
    .expect("count");
    assert_eq!(reveals, 1);
    let elsewhere: Actor = common::actor_at(app.site_id("0002").await, &[Role::Guide]);
    assert_eq!(
        refusal(callbacks::reveal_phone(&ctx, &common::granted(&elsewhere), second).await),
        CallbackError::NoSuchItem
    );
}

on_both_engines!(
    attempts,
    at = super::SERVED,
    super::calls_are_attempted_three_times_and_kept
);

async fn the_pages_work_the_list_and_the_citizen_declines(app: TestApp) {
    let site = app.site_id("0001").await;
    let nos = a_served_day(&app, site).await;
    move_to(&app, CALLED);

    // The citizen declines callbacks from the progress page (number + ID number).
    let citizen = app.client();
    let token = app.csrf(&citizen, "/progress").await;
    let html = citizen
        .post(app.url("/progress/decline-callbacks"))
        .header("origin", app.url(""))
        .form(&[
            ("csrf_token", token.as_str()),
            ("no", nos[4].as_str()),
            ("id_number", person(5).as_str()),
        ])
        .send()
        .await
        .expect("decline")
        .text()
        .await
        .expect("html");
    assert!(html.contains("id=\"declined-now\""), "{html}");
    // A wrong ID number records nothing.
    let html = citizen
        .post(app.url("/progress/decline-callbacks"))
        .header("origin", app.url(""))
        .form(&[
            ("csrf_token", token.as_str()),
            ("no", nos[5].as_str()),
            ("id_number", person(7).as_str()),
        ])
        .send()
        .await
        .expect("decline")
        .text()
        .await
        .expect("html");
    assert!(!html.contains("declined-now"));

    let password = app.staff("caller", vec![(Role::Guide, Some(site))]).await;
    let c = app.signed_in("caller", &password).await;
    let html = c
        .get(app.url("/staff/callbacks"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    // 14 served, persons 2 and 5 declined.
    assert!(html.contains("共 12 人"), "{html}");
    assert!(html.contains("139****9000"));
    assert!(!html.contains("13900139000"));
    let list = callbacks::list_for_day(
        &app.state.callbacks(),
        &common::granted(&common::actor_at(site, &[Role::Guide])),
        site,
        app.state.clock.today(),
    )
    .await
    .expect("list");
    let items = callbacks::items(&app.state.callbacks(), &list)
        .await
        .expect("items");
    let id = items[0].item.id;
    let token = app.csrf(&c, "/staff/callbacks").await;
    let shown = c
        .post(app.url(&format!("/staff/callbacks/items/{id}/phone")))
        .header("origin", app.url(""))
        .form(&[("csrf_token", token.as_str()), ("site", "0001")])
        .send()
        .await
        .expect("reveal")
        .text()
        .await
        .expect("html");
    assert!(shown.contains("13900139000"));
    let mut form: Vec<(String, String)> = vec![
        ("csrf_token".into(), token.clone()),
        ("site".into(), "0001".into()),
        ("outcome".into(), "reached".into()),
    ];
    form.extend(answers().into_iter().map(|(k, v)| (format!("q_{k}"), v)));
    let res = c
        .post(app.url(&format!("/staff/callbacks/items/{id}/attempts")))
        .header("origin", app.url(""))
        .form(&form)
        .send()
        .await
        .expect("attempt");
    assert_eq!(res.status(), 303);
    let html = c
        .get(app.url("/staff/callbacks"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("callback-ok") || html.contains("已回访"),
        "{html}"
    );
    assert!(html.contains("一次办成") || html.contains("是，一次办成"));
    assert!(html.contains("id=\"callbacks-done\">1 / 10"));

    // The JSON twin.
    let json: serde_json::Value = c
        .get(app.url("/api/v1/sites/0001/callbacks"))
        .send()
        .await
        .expect("api")
        .json()
        .await
        .expect("json");
    assert_eq!(json["population"], 12);
    assert_eq!(json["items"][0]["status"], "reached");
    assert_eq!(json["items"][0]["answers"]["one_trip"], "yes");
    // A citizen without the role is refused.
    let officer_pw = app
        .staff("officer.x", vec![(Role::Officer, Some(site))])
        .await;
    let o = app.signed_in("officer.x", &officer_pw).await;
    let res = o
        .get(app.url("/api/v1/sites/0001/callbacks"))
        .send()
        .await
        .expect("api");
    assert_eq!(res.status(), 403);
}

on_both_engines!(
    pages,
    at = super::SERVED,
    super::the_pages_work_the_list_and_the_citizen_declines
);
