//! `onetrip simulate` (issue 16): a seeded synthetic day replayed through the real engine on a
//! scratch SQLite database — every applicant gets a ticket, is called, accepted, pays, and has
//! each document approved; the day's report counts them all; the same seed replays the same
//! day to the minute, another seed another day; and the staffing planner's simulator, given
//! the recorded day, reproduces the waits the engine's calling order produced.

use onetrip::config::Config;
use onetrip::hall_day::{DayShape, replay};
use onetrip::reports::report::Cell;

fn summary(run: &onetrip::hall_day::DayRun) -> Vec<(String, Cell)> {
    run.report
        .tables
        .iter()
        .find(|t| t.id == "summary")
        .expect("summary")
        .rows
        .iter()
        .map(|r| (r[0].display(), r[2].clone()))
        .collect()
}

fn figure(rows: &[(String, Cell)], code: &str) -> Cell {
    rows.iter()
        .find(|(c, _)| c == code)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("{code} in the summary"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_day_goes_through_the_whole_hall_and_replays_the_same() {
    let shape = DayShape {
        applicants: 150,
        seed: 11,
        date: Some("2026-12-07".parse().expect("a Monday")),
        // Few windows for the crowd, so citizens wait and the waits are worth comparing.
        windows: Some(2),
        ..DayShape::default()
    };
    let config = Config::default();
    let dir = tempfile::tempdir().expect("scratch");
    let run = replay(&config, &shape, dir.path())
        .await
        .expect("the day runs");
    assert_eq!(run.applicants, 150);
    assert_eq!(run.windows, 2);
    assert_eq!(run.accepted, 150, "everyone who came was accepted");
    assert_eq!(run.paid, 150);
    assert!(
        run.approved >= 150,
        "every document approved: {}",
        run.approved
    );
    let s = summary(&run);
    assert_eq!(figure(&s, "issued"), Cell::Int(150));
    assert_eq!(figure(&s, "served"), Cell::Int(150));
    assert_eq!(figure(&s, "accepted"), Cell::Int(150));
    let Cell::Int(wait_p90) = figure(&s, "wait_p90") else {
        panic!("a wait was measured")
    };
    assert!(wait_p90 > 0, "two windows for 150 applicants make a queue");
    let Cell::Real(within) = figure(&s, "journey_within") else {
        panic!("journeys were measured")
    };
    assert!((0.0..=100.0).contains(&within));
    // Those who came with an appointment booked it, on the web, and were checked in; the
    // bookings nobody came for are no-shows after closing.
    let appointments: i64 = {
        let db = onetrip::db::Db::connect(
            &format!("sqlite://{}", dir.path().join("simulate.db").display()),
            &onetrip::db::DbOptions::default(),
        )
        .await
        .expect("the replayed day's database");
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM tickets WHERE class = 'appointment' AND booking_id IS NOT NULL",
        )
        .fetch_one(db.reader())
        .await
        .expect("appointment tickets")
    };
    assert!(
        appointments > 20,
        "a share came with an appointment: {appointments}"
    );
    let Cell::Int(no_shows) = figure(&s, "no_show") else {
        panic!("no-shows counted")
    };
    assert_eq!(no_shows, (appointments as f64 * 0.05).round() as i64);
    assert_eq!(figure(&s, "arrived"), Cell::Int(appointments));
    assert_eq!(figure(&s, "booked"), Cell::Int(appointments + no_shows));
    let green = figure(&s, "green");
    assert_eq!(
        figure(&s, "expedited"),
        green,
        "green-channel applicants are expedited"
    );

    // The recorded day, replayed in the staffing planner's simulator (issue 16): the same
    // arrivals, classes and measured service times at the same two windows give waits close
    // to those the engine's own calling order produced. Stated error: the mean wait within
    // 10 % (or one minute) and the 90th percentile within 15 % (or two minutes); the planner
    // keeps one queue where the hall keeps one per line (measured: 625 s against 622 s, p90
    // 2,622 s against 2,419 s).
    let recorded = onetrip::db::Db::connect(
        &format!("sqlite://{}", dir.path().join("simulate.db").display()),
        &onetrip::db::DbOptions::default(),
    )
    .await
    .expect("the replayed day's database");
    let rows = sqlx::query(
        "SELECT class, issued_at, called_at, started_at, finished_at FROM tickets ORDER BY issued_at, id",
    )
    .fetch_all(recorded.reader())
    .await
    .expect("tickets");
    use sqlx::Row;
    let first = rows
        .first()
        .map(|r| r.get::<i64, _>("issued_at"))
        .expect("tickets");
    let mut measured = Vec::new();
    let arrivals: Vec<onetrip::staffing::simulate::Arrival> = rows
        .iter()
        .map(|r| {
            let issued: i64 = r.get("issued_at");
            let called: i64 = r.get("called_at");
            measured.push((called - issued) as f64 / 1000.0);
            onetrip::staffing::simulate::Arrival {
                at_s: (issued - first) as f64 / 1000.0,
                class: onetrip::queue::TicketClass::parse(&r.get::<String, _>("class"))
                    .expect("class"),
                service_s: (r.get::<i64, _>("finished_at") - r.get::<i64, _>("started_at")) as f64
                    / 1000.0,
            }
        })
        .collect();
    let out = onetrip::staffing::simulate::run(&arrivals, 2, config.max_wait_minutes as f64 * 60.0);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let p90 = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[((v.len() as f64 * 0.9).ceil() as usize).clamp(1, v.len()) - 1]
    };
    let (engine_mean, model_mean) = (mean(&measured), out.mean_wait_s());
    let (engine_p90, model_p90) = (p90(&measured), p90(&out.waits_s));
    eprintln!(
        "waits: engine mean {engine_mean:.0} s p90 {engine_p90:.0} s; planner's simulator mean {model_mean:.0} s p90 {model_p90:.0} s"
    );
    assert!(
        engine_mean > 60.0,
        "the day had a queue worth comparing: {engine_mean:.0} s"
    );
    assert!(
        (engine_mean - model_mean).abs() <= (0.1 * engine_mean).max(60.0),
        "mean wait: engine {engine_mean:.0} s, planner {model_mean:.0} s"
    );
    assert!(
        (engine_p90 - model_p90).abs() <= (0.15 * engine_p90).max(120.0),
        "90th percentile: engine {engine_p90:.0} s, planner {model_p90:.0} s"
    );

    // The same seed: the same day, minute for minute.
    let again = tempfile::tempdir().expect("scratch");
    let second = replay(&config, &shape, again.path())
        .await
        .expect("the day runs again");
    assert_eq!(summary(&second), s);
    // Another seed: another day.
    let other = tempfile::tempdir().expect("scratch");
    let third = replay(
        &config,
        &DayShape {
            seed: 12,
            ..shape.clone()
        },
        other.path(),
    )
    .await
    .expect("another day");
    assert_ne!(summary(&third), s);
}
