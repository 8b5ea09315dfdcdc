//! The command line refuses bad data before serving: a broken catalog or calendar file stops
//! start-up with a message naming the file, the item and the problem.

use std::path::Path;
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn onetrip(data: &Path, state: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_onetrip"))
        .args(args)
        .env("ONETRIP_DATA_DIR", data)
        .env("ONETRIP_STATE_DIR", state)
        .env("ONETRIP_LISTEN", "127.0.0.1:0")
        .env_remove("DATABASE_URL")
        .output()
        .expect("run onetrip")
}

#[test]
fn shipped_data_passes_check_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = onetrip(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("data"),
        dir.path(),
        &["check-data"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("service items") && stdout.contains("2025") && stdout.contains("2026"),
        "{stdout}"
    );
}

#[test]
fn a_bad_catalog_item_stops_start_up_naming_file_item_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data"), &data);
    let items = data.join("catalog/items.toml");
    let text = std::fs::read_to_string(&items).unwrap();
    // Point the passport renewal at a material that does not exist.
    let broken = text.replacen(
        "fee = \"document\"\n\n[[item.material]]\nmaterial = \"original-document\"",
        "fee = \"document\"\n\n[[item.material]]\nmaterial = \"no-such-material\"",
        1,
    );
    assert_ne!(broken, text);
    std::fs::write(&items, broken).unwrap();
    for command in [["check-data"].as_slice(), ["serve"].as_slice()] {
        let out = onetrip(&data, dir.path(), command);
        assert!(!out.status.success(), "{command:?} must fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("items.toml"), "names the file: {stderr}");
        assert!(
            stderr.contains("no-such-material"),
            "names the problem: {stderr}"
        );
        assert!(
            stderr.contains("passport-renewal"),
            "names the item: {stderr}"
        );
    }
}

#[test]
fn a_bad_calendar_file_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data"), &data);
    let f = data.join("calendar/2026.toml");
    let text = std::fs::read_to_string(&f).unwrap();
    // An adjusted workday that is a Tuesday is impossible.
    std::fs::write(&f, text.replacen("2026-01-04", "2026-01-06", 1)).unwrap();
    let out = onetrip(&data, dir.path(), &["check-data"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2026.toml"), "{stderr}");
}

#[test]
fn the_calendar_cli_marks_a_year_without_a_notice_provisional_and_agrees_with_the_shipped_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    // From a clean checkout (no database yet): 2026-12-28 + 7 working days reaches 2027.
    let out = onetrip(
        &data,
        dir.path(),
        &["calendar", "add-working-days", "2026-12-28", "7"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "2027-01-07 provisional"
    );
    assert!(
        !dir.path().join("onetrip.db").exists(),
        "a read does not create a database"
    );

    // `show 2026` agrees with data/calendar/2026.toml on every day.
    let out = onetrip(&data, dir.path(), &["calendar", "show", "2026"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 365);
    assert!(lines.iter().all(|l| l.contains(" official")), "{text}");
    assert_eq!(
        lines.iter().filter(|l| l.contains(" workday ")).count(),
        248
    );
    let file = onetrip::domain::calendar::HolidayCalendar::load_dir(data.join("calendar")).unwrap();
    for line in &lines {
        let date: jiff::civil::Date = line[..10].parse().unwrap();
        let working = file.is_working_day(date).unwrap();
        assert_eq!(line.contains(" workday "), working, "{line}");
        match file.holiday_on(date) {
            Some(h) => assert!(line.ends_with(&h.name_zh), "{line}"),
            None => assert_eq!(
                line.contains("调休"),
                file.is_adjusted_workday(date),
                "{line}"
            ),
        }
    }
    assert!(text.contains("2026-02-17 rest official 春节"));
    assert!(text.contains("2026-02-14 workday official 调休"));

    // 2027 before its notice: the statutory days, provisional.
    let out = onetrip(&data, dir.path(), &["calendar", "show", "2027"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("2027-01-01 rest provisional 元旦"), "{text}");
    assert!(text.contains("2027-02-05 rest provisional 春节"), "{text}");
    // A year neither a notice nor the statute reaches is refused with a reason.
    let out = onetrip(&data, dir.path(), &["calendar", "show", "2101"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("2101"));
}

#[test]
fn the_calendar_cli_and_check_data_read_the_notices_entered_in_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let out = onetrip(&data, dir.path(), &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = format!("sqlite://{}", dir.path().join("onetrip.db").display());
    let store = |version: i64, arrangement: String| {
        let url = url.clone();
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let db = onetrip::db::Db::connect(
                    &url,
                    &onetrip::db::DbOptions {
                        max_connections: 1,
                        ..onetrip::db::DbOptions::default()
                    },
                )
                .await
                .unwrap();
                let mut tx = db.begin().await.unwrap();
                onetrip::calendar::insert_notice(
                    &mut tx,
                    &onetrip::calendar::NewNotice {
                        year: 2027,
                        version,
                        arrangement: &arrangement,
                        note: "cli test",
                        entered_by: 1,
                        now: 0,
                    },
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
                db.close().await;
            })
    };
    let mut notice = serde_json::json!({
        "year": 2027,
        "notice": {"title": "国务院办公厅关于2027年部分节假日安排的通知", "published": "2026-11-20"},
        "holidays": [
            {"festivals": ["new_year"], "start": "2027-01-01", "end": "2027-01-03"},
            {"festivals": ["spring_festival"], "start": "2027-02-05", "end": "2027-02-12"},
            {"festivals": ["qingming"], "start": "2027-04-03", "end": "2027-04-05"},
            {"festivals": ["labour_day"], "start": "2027-05-01", "end": "2027-05-05"},
            {"festivals": ["dragon_boat"], "start": "2027-06-09", "end": "2027-06-11"},
            {"festivals": ["mid_autumn"], "start": "2027-09-15", "end": "2027-09-17"},
            {"festivals": ["national_day"], "start": "2027-10-01", "end": "2027-10-07"}
        ],
        "adjusted_workdays": ["2027-02-20"]
    });
    store(1, notice.to_string());
    let out = onetrip(
        &data,
        dir.path(),
        &["calendar", "add-working-days", "2026-12-28", "7"],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "2027-01-07 official"
    );
    let out = onetrip(&data, dir.path(), &["calendar", "show", "2027"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("2027-02-20 workday official 调休"), "{text}");
    assert!(text.contains("2027-02-12 rest official 春节"), "{text}");
    let out = onetrip(&data, dir.path(), &["check-data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("[2025, 2026, 2027]"));

    // A version that fails the checks: check-data names it and fails; the CLI says so and
    // computes without it (the version before it, still official).
    notice["holidays"][4]["start"] = "2027-06-12".into();
    notice["holidays"][4]["end"] = "2027-06-12".into();
    store(2, notice.to_string());
    let out = onetrip(&data, dir.path(), &["check-data"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("2027") && err.contains("Dragon Boat"), "{err}");
    let out = onetrip(
        &data,
        dir.path(),
        &["calendar", "add-working-days", "2026-12-28", "7"],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "2027-01-07 official"
    );
}

/// Issue 12 item 10: outside the demo the server refuses to start with simulated devices
/// (the payment simulator settles orders for anyone) unless allowed in as many words.
#[test]
fn simulators_outside_the_demo_stop_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_onetrip"))
        .arg("serve")
        .env("ONETRIP_DATA_DIR", &data)
        .env("ONETRIP_STATE_DIR", dir.path())
        .env("ONETRIP_LISTEN", "127.0.0.1:0")
        .env("ONETRIP_DEMO", "false")
        .env_remove("ONETRIP_ALLOW_SIMULATORS")
        .env_remove("DATABASE_URL")
        .output()
        .expect("run onetrip");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to start") && stderr.contains("payments"),
        "{stderr}"
    );
    assert!(stderr.contains("allow_simulators"), "{stderr}");
}
