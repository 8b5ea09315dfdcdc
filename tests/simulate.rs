//! `onetrip simulate` (issue 16): a seeded synthetic day replayed through the real engine on a
//! scratch SQLite database — every applicant gets a ticket, is called, accepted, pays, and has
//! each document approved; the day's report counts them all; the same seed replays the same
//! day to the minute, another seed another day.

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
    let green = figure(&s, "green");
    assert_eq!(
        figure(&s, "expedited"),
        green,
        "green-channel applicants are expedited"
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
