//! `onetrip key export/import/check` (issue 17, R15), driving the real binary: the key leaves
//! the state directory only as a checked file of its own, comes back into a fresh one after a
//! restore and opens the restored personal data; a damaged file, a different key over an
//! existing one, a key that does not open the database and a running server are refused; no
//! command ever prints the key.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use onetrip::db::{Db, DbOptions};
use onetrip::privacy::Cipher;

struct Run {
    ok: bool,
    out: String,
    err: String,
}

fn command(state: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_onetrip"));
    c.args(args)
        .env(
            "ONETRIP_DATA_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data"),
        )
        .env("ONETRIP_STATE_DIR", state)
        .env("ONETRIP_LISTEN", "127.0.0.1:0")
        .env_remove("DATABASE_URL")
        .env_remove("ONETRIP_CONFIG")
        .env_remove("ONETRIP_SECRET_KEY");
    c
}

/// Whether `text` holds a run of 32 or more hexadecimal digits: half a key or more (a check
/// value is 16).
fn holds_key_like_hex(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_hexdigit() { run + 1 } else { 0 };
        if run >= 32 {
            return true;
        }
    }
    false
}

fn finish(args: &[&str], out: Output, keys: &[&str]) -> Run {
    let run = Run {
        ok: out.status.success(),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for text in [&run.out, &run.err] {
        for key in keys {
            assert!(!text.contains(key), "{args:?} printed a key: {text}");
        }
        if args.first() == Some(&"key") {
            assert!(
                !holds_key_like_hex(text),
                "{args:?} printed key-like hex: {text}"
            );
        }
    }
    run
}

/// Runs `onetrip ARGS` on a state directory; `keys` (hex) must appear in none of its output.
fn onetrip(state: &Path, args: &[&str], keys: &[&str]) -> Run {
    let out = command(state, args).output().expect("run onetrip");
    finish(args, out, keys)
}

fn ok(state: &Path, args: &[&str], keys: &[&str]) -> Run {
    let run = onetrip(state, args, keys);
    assert!(run.ok, "{args:?} failed: {}{}", run.out, run.err);
    run
}

fn refused(state: &Path, args: &[&str], keys: &[&str]) -> String {
    let run = onetrip(state, args, keys);
    assert!(!run.ok, "{args:?} should be refused: {}", run.out);
    run.err
}

fn hex(key: &[u8]) -> String {
    onetrip::crypto::hex(key)
}

fn key_of(state: &Path) -> Vec<u8> {
    std::fs::read(state.join("secret.key")).expect("secret.key")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The check value printed after "check ".
fn check_value(text: &str) -> String {
    let at = text.find("check ").expect("a check value") + "check ".len();
    text[at..at + 16].to_string()
}

/// A hall that has started once (the key created as the server creates it) and holds personal
/// data sealed with that key: a complaint's name, and a newer erased one that no key opens.
fn hall_with_personal_data(state: &Path) -> String {
    ok(state, &["migrate"], &[]);
    let cipher = Cipher::load(state, None).expect("key created at first start");
    let url = format!("sqlite://{}", state.join("onetrip.db").display());
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async move {
            let db = Db::connect(&url, &DbOptions::default()).await.expect("db");
            let mut tx = db.begin().await.expect("tx");
            for (number, name, erased_at) in [
                ("TS-1", cipher.seal("张三"), None),
                ("TS-2", Vec::new(), Some(1_i64)),
            ] {
                sqlx::query(
                    "INSERT INTO complaints (number, channel, category, content, name_sealed, \
                     phone_sealed, phone_index, received_at, due_date, status, erased_at) \
                     VALUES ($1, 'web', 'other', 'queue too long', $2, $3, $4, 0, '2026-12-10', 'open', $5)",
                )
                .bind(number)
                .bind(name)
                .bind(cipher.seal("13800138000"))
                .bind(cipher.blind_index(number).newest().to_owned())
                .bind(erased_at)
                .execute(&mut *tx)
                .await
                .expect("insert");
            }
            tx.commit().await.expect("commit");
            db.close().await;
        });
    hex(&key_of(state))
}

/// Restores state `from`'s database into `to` through `onetrip backup` and `onetrip restore`.
fn restore_into(from: &Path, to: &Path, scratch: &Path) {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let backup = scratch.join(format!(
        "backup-{}-to-{}",
        name(from).unwrap_or_default(),
        name(to).unwrap_or_default()
    ));
    ok(from, &["backup", path(&backup)], &[]);
    std::fs::create_dir_all(to).expect("mkdir");
    ok(to, &["restore", path(&backup)], &[]);
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn the_key_goes_out_and_back_in_and_opens_the_restored_data() {
    let dir = tempfile::tempdir().expect("dir");
    let a = dir.path().join("a");
    let key = hall_with_personal_data(&a);
    let keys = [key.as_str()];

    let file = dir.path().join("hall.key");
    let run = ok(&a, &["key", "export", path(&file)], &keys);
    let check = check_value(&run.out);
    assert!(run.out.contains("without it"), "{}", run.out);
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);
    let text = std::fs::read_to_string(&file).expect("file");
    assert!(text.starts_with("onetrip-key v1\n"), "{text}");
    assert!(text.contains(&format!("\nkey {key}\n")), "{text}");
    assert!(text.contains(&format!("\ncheck {check}\n")), "{text}");

    // `check` names the key in use and the file's key the same way, and both open the data.
    let run = ok(&a, &["key", "check"], &keys);
    assert_eq!(check_value(&run.out), check);
    assert!(run.out.contains("opens the personal data"), "{}", run.out);
    let run = ok(&a, &["key", "check", path(&file)], &keys);
    assert_eq!(check_value(&run.out), check);
    assert!(run.out.contains("the same key"), "{}", run.out);

    // A new machine: the database restored, no key; the data cannot be read until the import.
    let b = dir.path().join("b");
    restore_into(&a, &b, dir.path());
    assert!(!b.join("secret.key").exists(), "a restore brings no key");
    let err = refused(&b, &["key", "check"], &keys);
    assert!(err.contains("no key yet"), "{err}");
    let run = ok(&b, &["key", "import", path(&file)], &keys);
    assert_eq!(check_value(&run.out), check);
    assert!(run.out.contains("opens the personal data"), "{}", run.out);
    assert_eq!(hex(&key_of(&b)), key);
    #[cfg(unix)]
    assert_eq!(mode(&b.join("secret.key")), 0o600);
    let run = ok(&b, &["key", "check"], &keys);
    assert_eq!(check_value(&run.out), check);
    assert!(run.out.contains("opens the personal data"), "{}", run.out);

    // The server's own loading reads the restored name with the imported key.
    let cipher = Cipher::load(&b, None).expect("load");
    let url = format!("sqlite://{}", b.join("onetrip.db").display());
    let name = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async move {
            let db = Db::connect(&url, &DbOptions::default()).await.expect("db");
            let sealed: Vec<u8> =
                sqlx::query_scalar("SELECT name_sealed FROM complaints WHERE number = 'TS-1'")
                    .fetch_one(db.reader())
                    .await
                    .expect("row");
            db.close().await;
            sealed
        });
    assert_eq!(cipher.open(&name).expect("opens"), "张三");

    // Importing the same key again changes nothing.
    let run = ok(&b, &["key", "import", path(&file)], &keys);
    assert!(run.out.contains("already holds this key"), "{}", run.out);
    let kept: Vec<_> = std::fs::read_dir(&b)
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("before-import"))
        .collect();
    assert!(kept.is_empty(), "nothing replaced");
}

#[test]
fn export_needs_a_key_and_never_overwrites_a_file() {
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state");
    let file = dir.path().join("hall.key");
    let err = refused(&state, &["key", "export", path(&file)], &[]);
    assert!(err.contains("no key yet"), "{err}");
    assert!(
        !state.join("secret.key").exists(),
        "exporting creates no key"
    );
    assert!(!file.exists());

    Cipher::load(&state, None).expect("first start");
    let key = hex(&key_of(&state));
    std::fs::write(&file, "the only copy of something").expect("write");
    let err = refused(&state, &["key", "export", path(&file)], &[&key]);
    assert!(err.contains("exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        "the only copy of something"
    );

    // The variable wins over the file, as for the server.
    let env_key = "0123456789abcdef".repeat(4);
    let out = command(
        &state,
        &["key", "export", path(&dir.path().join("env.key"))],
    )
    .env("ONETRIP_SECRET_KEY", &env_key)
    .output()
    .expect("run");
    let run = finish(&["key"], out, &[&key, &env_key]);
    assert!(run.ok, "{}", run.err);
    assert!(run.out.contains("ONETRIP_SECRET_KEY"), "{}", run.out);
    let text = std::fs::read_to_string(dir.path().join("env.key")).expect("read");
    assert!(text.contains(&env_key));
}

#[test]
fn import_refuses_a_damaged_file() {
    let dir = tempfile::tempdir().expect("dir");
    let a = dir.path().join("a");
    Cipher::load(&a, None).expect("first start");
    let key = hex(&key_of(&a));
    let file = dir.path().join("hall.key");
    ok(&a, &["key", "export", path(&file)], &[&key]);
    let text = std::fs::read_to_string(&file).expect("read");

    // One digit of the key changed, as when copied by hand from paper.
    let at = text.find("\nkey ").expect("key line") + 5 + 10;
    let mut damaged = text.clone().into_bytes();
    damaged[at] = if damaged[at] == b'0' { b'1' } else { b'0' };
    let damaged_key = String::from_utf8(damaged).expect("utf-8");
    let bad = dir.path().join("damaged.key");
    let other_hex = damaged_key
        .lines()
        .find_map(|l| l.strip_prefix("key "))
        .expect("key")
        .to_string();
    let b = dir.path().join("b");
    for (content, expected) in [
        (damaged_key.as_str(), "damaged"),
        ("not a key at all\n", "not an onetrip key file"),
        (&text.replace("check ", "# check "), "no `check` line"),
        (&text.replacen("v1", "v9", 1), "version"),
    ] {
        std::fs::write(&bad, content).expect("write");
        for args in [
            ["key", "import", path(&bad)].as_slice(),
            ["key", "check", path(&bad)].as_slice(),
        ] {
            let err = refused(&b, args, &[&key, &other_hex]);
            assert!(err.contains(expected), "{args:?}: {err}");
        }
        assert!(!b.join("secret.key").exists(), "nothing installed");
    }
}

#[test]
fn import_refuses_a_different_key_over_an_existing_one_unless_told_to_replace_it() {
    let dir = tempfile::tempdir().expect("dir");
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    Cipher::load(&a, None).expect("a's first start");
    Cipher::load(&b, None).expect("b's first start");
    let (key_a, key_b) = (hex(&key_of(&a)), hex(&key_of(&b)));
    let keys = [key_a.as_str(), key_b.as_str()];
    let file = dir.path().join("a.key");
    ok(&a, &["key", "export", path(&file)], &keys);

    let err = refused(&b, &["key", "import", path(&file)], &keys);
    assert!(
        err.contains("different key") && err.contains("--replace"),
        "{err}"
    );
    assert_eq!(hex(&key_of(&b)), key_b, "the old key stays");

    let run = ok(&b, &["key", "import", "--replace", path(&file)], &keys);
    assert!(run.out.contains("kept as"), "{}", run.out);
    assert_eq!(hex(&key_of(&b)), key_a);
    let kept: Vec<PathBuf> = std::fs::read_dir(&b)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("secret.key.before-import-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        hex(&std::fs::read(&kept[0]).expect("kept")),
        key_b,
        "a replaced key is never lost"
    );
}

#[test]
fn import_refuses_a_key_that_does_not_open_the_database_and_while_a_server_runs() {
    let dir = tempfile::tempdir().expect("dir");
    let a = dir.path().join("a");
    let key_a = hall_with_personal_data(&a);
    let file_a = dir.path().join("a.key");
    ok(&a, &["key", "export", path(&file_a)], &[&key_a]);

    // Another hall's key, exported by mistake.
    let other = dir.path().join("other");
    Cipher::load(&other, None).expect("first start");
    let key_other = hex(&key_of(&other));
    let file_other = dir.path().join("other.key");
    ok(&other, &["key", "export", path(&file_other)], &[&key_other]);
    let keys = [key_a.as_str(), key_other.as_str()];

    // B: a's database restored onto a machine where a server already started (its own key).
    let b = dir.path().join("b");
    Cipher::load(&b, None).expect("b's first start");
    let key_b = hex(&key_of(&b));
    let keys = [keys[0], keys[1], key_b.as_str()];
    restore_into(&a, &b, dir.path());
    let err = refused(&b, &["key", "check"], &keys);
    assert!(
        err.contains("this key does not open the personal data in this database"),
        "{err}"
    );

    for args in [
        ["key", "import", path(&file_other)].as_slice(),
        ["key", "import", "--replace", path(&file_other)].as_slice(),
    ] {
        let err = refused(&b, args, &keys);
        assert!(
            err.contains("this key does not open the personal data in this database"),
            "{args:?}: {err}"
        );
        assert_eq!(hex(&key_of(&b)), key_b, "nothing installed");
    }
    let err = refused(&b, &["key", "check", path(&file_other)], &keys);
    assert!(err.contains("does not open"), "{err}");

    // A server holds the database: no import, even of the right key.
    let held = onetrip::backup::hold(&b.join("onetrip.db")).expect("hold");
    let err = refused(&b, &["key", "import", "--replace", path(&file_a)], &keys);
    assert!(err.contains("running server"), "{err}");
    assert_eq!(hex(&key_of(&b)), key_b);
    drop(held);

    // The right key, in place of the one the fresh start made.
    let run = ok(&b, &["key", "import", "--replace", path(&file_a)], &keys);
    assert!(run.out.contains("opens the personal data"), "{}", run.out);
    assert_eq!(hex(&key_of(&b)), key_a);
    ok(&b, &["key", "check"], &keys);
}

#[test]
fn with_the_key_in_the_environment_check_reads_it_and_import_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let a = dir.path().join("a");
    let key_a = hall_with_personal_data(&a);
    let file = dir.path().join("a.key");
    ok(&a, &["key", "export", path(&file)], &[&key_a]);

    let out = command(&a, &["key", "check"])
        .env("ONETRIP_SECRET_KEY", &key_a)
        .output()
        .expect("run");
    let run = finish(&["key"], out, &[&key_a]);
    assert!(run.ok, "{}", run.err);
    assert!(
        run.out.contains("ONETRIP_SECRET_KEY") && run.out.contains("opens"),
        "{}",
        run.out
    );

    let fresh = dir.path().join("fresh");
    let out = command(&fresh, &["key", "import", path(&file)])
        .env("ONETRIP_SECRET_KEY", "ab".repeat(32))
        .output()
        .expect("run");
    let run = finish(&["key"], out, &[&key_a]);
    assert!(!run.ok);
    assert!(run.err.contains("ONETRIP_SECRET_KEY is set"), "{}", run.err);
    assert!(!fresh.join("secret.key").exists());
}

/// Seals every stored value again under the newest key version of `state`, as the server's
/// background job does.
fn reseal(state: &Path) {
    let cipher = Cipher::load(state, None).expect("v1");
    for version in 2..=onetrip::privacy::MAX_VERSION {
        match onetrip::privacy::read_version(state, version).expect("read") {
            Some(k) => cipher.adopt(version, &k),
            None => break,
        }
    }
    let url = format!("sqlite://{}", state.join("onetrip.db").display());
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async move {
            let db = Db::connect(&url, &DbOptions::default()).await.expect("db");
            let clock = onetrip::clock::Clock::system();
            onetrip::rekey::reseal_all(&db, &cipher, &clock)
                .await
                .expect("reseal");
            db.close().await;
        });
}

#[test]
fn a_rotated_key_goes_out_and_back_in_with_all_its_versions() {
    let dir = tempfile::tempdir().expect("dir");
    let a = dir.path().join("a");
    let key = hall_with_personal_data(&a);

    let run = ok(&a, &["key", "rotate"], &[&key]);
    assert!(run.out.contains("added key version 2"), "{}", run.out);
    let v2_file = a.join("secret.key.2");
    assert!(v2_file.exists(), "{}", run.out);
    #[cfg(unix)]
    assert_eq!(mode(&v2_file), 0o600);
    let v2 = hex(&std::fs::read(&v2_file).expect("v2"));
    assert_ne!(v2, key);
    let keys = [key.as_str(), v2.as_str()];
    let v2_check = check_value(&run.out);

    // Nothing resealed yet: status says so and names both versions.
    let run = ok(&a, &["key", "status"], &keys);
    assert!(run.out.contains("key version 1"), "{}", run.out);
    assert!(
        run.out.contains(&format!("key version 2 check {v2_check}")),
        "{}",
        run.out
    );
    assert!(!run.out.contains("not installed here"), "{}", run.out);
    assert!(
        run.out
            .contains("sealing again and rebuilding indexes under key version 2"),
        "{}",
        run.out
    );

    reseal(&a);
    let run = ok(&a, &["key", "status"], &keys);
    assert!(
        run.out
            .contains("all stored personal data is sealed and indexed under key version 2"),
        "{}",
        run.out
    );
    let run = ok(&a, &["key", "check"], &keys);
    assert!(run.out.contains("opens the personal data"), "{}", run.out);

    // The export carries every version: FILE and FILE.2.
    let file = dir.path().join("hall.key");
    let run = ok(&a, &["key", "export", path(&file)], &keys);
    assert!(run.out.contains("exported key version 2"), "{}", run.out);
    let sibling = dir.path().join("hall.key.2");
    assert!(sibling.exists());
    #[cfg(unix)]
    assert_eq!(mode(&sibling), 0o600);

    // A restore elsewhere: the data is sealed under version 2 now, so version 1 alone does
    // not open it and is refused; with its sibling beside it the import installs both.
    let b = dir.path().join("b");
    restore_into(&a, &b, dir.path());
    let alone = dir.path().join("alone");
    std::fs::create_dir_all(&alone).expect("mkdir");
    let only_v1 = alone.join("hall.key");
    std::fs::copy(&file, &only_v1).expect("copy");
    let err = refused(&b, &["key", "import", path(&only_v1)], &keys);
    assert!(err.contains("does not open the personal data"), "{err}");
    assert!(!b.join("secret.key").exists(), "nothing installed");

    let run = ok(&b, &["key", "import", path(&file)], &keys);
    assert!(run.out.contains("installed key version 2"), "{}", run.out);
    assert_eq!(hex(&key_of(&b)), key);
    assert_eq!(
        hex(&std::fs::read(b.join("secret.key.2")).expect("v2 installed")),
        v2
    );
    let run = ok(&b, &["key", "check"], &keys);
    assert!(run.out.contains("opens the personal data"), "{}", run.out);
    let run = ok(&b, &["key", "status"], &keys);
    assert!(!run.out.contains("not installed here"), "{}", run.out);
}
