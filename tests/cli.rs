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
