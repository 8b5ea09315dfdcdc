//! The personal-data key kept apart from the backups (R15, issue 17): the text file
//! `onetrip key export` writes and `onetrip key import` installs, and the check that a key
//! opens the personal data a database holds, so that the wrong key is never installed after a
//! restore.
//!
//! The file is three lines (comments with `#` aside):
//!
//! ```text
//! onetrip-key v1
//! key <64 hexadecimal characters>
//! check <16 hexadecimal characters: privacy::key_check of the key>
//! ```
//!
//! The check line finds a damaged copy (a digit mistyped from paper) before it is installed,
//! and names the key in output without revealing it.

use std::path::{Path, PathBuf};

use sqlx::{Connection, Row};

use crate::privacy::{self, Cipher, KEY_FILE};

const HEADER: &str = "onetrip-key v1";

/// A key file is a few hundred bytes; anything far larger is some other file given by mistake.
const MAX_FILE_BYTES: u64 = 4096;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    // No variant ever holds the key or a line of the file: messages reach the terminal and logs.
    #[error("{0} is not an onetrip key file (its first line is not `{HEADER}`)")]
    NotAKeyFile(String),
    #[error("{0} is an onetrip key file of a version this program does not read")]
    Version(String),
    #[error("{0}: line {1} is not `key …` or `check …`")]
    UnexpectedLine(String, usize),
    #[error("{0} has no `{1}` line, or more than one")]
    Missing(String, &'static str),
    #[error("{0}: the key is not 64 hexadecimal characters")]
    BadKey(String),
    #[error(
        "{0} is damaged: its key does not give its check value (a changed or mistyped character)"
    )]
    Checksum(String),
    #[error("{0} exists: export the key into a new file")]
    Exists(String),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

fn io(what: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |e| KeyFileError::Io(what.display().to_string(), e)
}

/// The file's text for a key.
pub fn render(key: &[u8; 32]) -> String {
    format!(
        "{HEADER}\n\
         # The onetrip personal-data key. Without it the sealed personal data cannot be read.\n\
         # Keep it apart from the database backups; install it with `onetrip key import FILE`.\n\
         key {}\n\
         check {}\n",
        crate::crypto::hex(key),
        privacy::key_check(key)
    )
}

/// Reads a key file's text, checking its format, its key and its check value.
pub fn parse(text: &str, shown: &str) -> Result<[u8; 32], KeyFileError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    match lines.next() {
        Some((_, HEADER)) => {}
        Some((_, l)) if l.starts_with("onetrip-key ") => {
            return Err(KeyFileError::Version(shown.into()));
        }
        _ => return Err(KeyFileError::NotAKeyFile(shown.into())),
    }
    let (mut key, mut check) = (Vec::new(), Vec::new());
    for (n, line) in lines {
        match line.split_once(char::is_whitespace) {
            Some(("key", v)) => key.push(v.trim()),
            Some(("check", v)) => check.push(v.trim()),
            _ => return Err(KeyFileError::UnexpectedLine(shown.into(), n)),
        }
    }
    let ([key], [check]) = (key.as_slice(), check.as_slice()) else {
        let missing = if key.len() == 1 { "check" } else { "key" };
        return Err(KeyFileError::Missing(shown.into(), missing));
    };
    // Stricter than the variable's parser (which takes `+f` for a digit): only hex digits.
    let key = key
        .bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| privacy::key_from_hex(key))
        .flatten()
        .ok_or_else(|| KeyFileError::BadKey(shown.into()))?;
    if !crate::crypto::constant_time_eq(&privacy::key_check(&key), &check.to_ascii_lowercase()) {
        return Err(KeyFileError::Checksum(shown.into()));
    }
    Ok(key)
}

/// Reads and checks a key file.
pub fn read(path: &Path) -> Result<[u8; 32], KeyFileError> {
    let shown = path.display().to_string();
    let len = std::fs::metadata(path).map_err(io(path))?.len();
    if len > MAX_FILE_BYTES {
        return Err(KeyFileError::NotAKeyFile(shown));
    }
    let bytes = std::fs::read(path).map_err(io(path))?;
    let text = String::from_utf8(bytes).map_err(|_| KeyFileError::NotAKeyFile(shown.clone()))?;
    parse(&text, &shown)
}

/// Writes `contents` to a new file readable by its owner only, on disk before this returns.
fn write_new_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// Where key version `version` (2 or later) goes when the key is exported to `dest`, and where
/// `import` looks for it: beside it, named as in the state directory (`DEST.N`).
pub fn version_sibling(dest: &Path, version: u8) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(format!(".{version}"));
    PathBuf::from(name)
}

/// The later key versions exported beside `src` (`SRC.2`, `SRC.3`, … up to the first missing).
pub fn read_versions(src: &Path) -> Result<Vec<(u8, [u8; 32])>, KeyFileError> {
    let mut found = Vec::new();
    for version in 2..=privacy::MAX_VERSION {
        let path = version_sibling(src, version);
        if !path.exists() {
            break;
        }
        found.push((version, read(&path)?));
    }
    Ok(found)
}

/// Writes the key to `dest`, a new file (mode 0600): an existing file is never overwritten, as
/// it may be the only other copy of a key.
pub fn export(key: &[u8; 32], dest: &Path) -> Result<(), KeyFileError> {
    write_new_private(dest, render(key).as_bytes()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyFileError::Exists(dest.display().to_string())
        } else {
            KeyFileError::Io(dest.display().to_string(), e)
        }
    })
}

/// What a state directory's key file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    None,
    Key([u8; 32]),
    /// A file that is not 32 bytes: the server refuses to start with it.
    Unreadable,
}

/// The key file of a state directory.
pub fn installed(state_dir: &Path) -> Result<Installed, KeyFileError> {
    let path = state_dir.join(KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(bytes
            .as_slice()
            .try_into()
            .map_or(Installed::Unreadable, Installed::Key)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Installed::None),
        Err(e) => Err(KeyFileError::Io(path.display().to_string(), e)),
    }
}

/// Installs `key` as `<state_dir>/secret.key` (mode 0600). A key file already there is kept
/// beside it as `secret.key.before-import-<unix seconds>` (returned): a key is never deleted,
/// since the data it sealed may still turn up in a backup. The caller has checked that no
/// server runs and that the key opens the database.
pub fn install(state_dir: &Path, key: &[u8; 32]) -> Result<Option<PathBuf>, KeyFileError> {
    std::fs::create_dir_all(state_dir).map_err(io(state_dir))?;
    let path = state_dir.join(KEY_FILE);
    let tmp = state_dir.join(format!("{KEY_FILE}.import"));
    // Left by an import that stopped half-way; it never replaced anything.
    if tmp.exists() {
        std::fs::remove_file(&tmp).map_err(io(&tmp))?;
    }
    write_new_private(&tmp, key).map_err(io(&tmp))?;
    let kept = if path.exists() {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let kept = state_dir.join(format!("{KEY_FILE}.before-import-{seconds}"));
        // A link, not a move: the old key stays in place until the new one replaces it in one
        // rename, so a crash never leaves the directory without a key.
        std::fs::hard_link(&path, &kept).map_err(io(&kept))?;
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    #[cfg(unix)]
    std::fs::File::open(state_dir)
        .and_then(|d| d.sync_all())
        .map_err(io(state_dir))?;
    Ok(kept)
}

/// Whether a key opens the personal data a database holds, from a sample of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sample {
    /// No database file yet (SQLite): nothing to check against.
    NoDatabase(String),
    /// The database holds no sealed personal value (new, or all erased).
    NoPersonalData,
    /// Every sampled value opened.
    Opens { values: usize },
    /// Some or all sampled values did not open: the data was sealed with another key.
    DoesNotOpen { opened: usize, values: usize },
}

impl Sample {
    /// Whether installing or using this key leaves the database's personal data readable.
    pub fn acceptable(&self) -> bool {
        !matches!(self, Sample::DoesNotOpen { .. })
    }
}

impl std::fmt::Display for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sample::NoDatabase(path) => write!(f, "no database at {path}: nothing to check"),
            Sample::NoPersonalData => {
                f.write_str("the database holds no personal data yet: nothing to check")
            }
            Sample::Opens { values } => write!(
                f,
                "the key opens the personal data in the database ({values} sampled value{})",
                plural(*values)
            ),
            Sample::DoesNotOpen { opened, values } => write!(
                f,
                "this key does not open the personal data in this database ({opened} of {values} sampled value{} opened)",
                plural(*values)
            ),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The newest values of each table that holds names (a booking, an application, a complaint):
/// the newest are the least likely to have been erased, and every kind of record is sealed with
/// the same key.
const SAMPLE_SQL: [&str; 3] = [
    "SELECT name_sealed FROM bookings WHERE erased_at IS NULL ORDER BY id DESC LIMIT 3",
    "SELECT name_sealed FROM applications WHERE erased_at IS NULL ORDER BY id DESC LIMIT 3",
    "SELECT name_sealed FROM complaints WHERE erased_at IS NULL ORDER BY id DESC LIMIT 3",
];

/// Opens a sample of the database's sealed names with `key`. Reads only: a SQLite file is
/// opened read-only and never created, so a check does not make a database where none was.
pub async fn sample(database_url: &str, cipher: &Cipher) -> Result<Sample, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let url = match crate::backup::sqlite_path(database_url) {
        Some(path) if !path.exists() => {
            return Ok(Sample::NoDatabase(path.display().to_string()));
        }
        Some(path) => format!("sqlite://{}?mode=ro", path.display()),
        None => database_url.to_string(),
    };
    let mut c = sqlx::AnyConnection::connect(&url).await?;
    let mut sealed: Vec<Vec<u8>> = Vec::new();
    for sql in SAMPLE_SQL {
        for row in sqlx::query(sql).fetch_all(&mut c).await? {
            let value: Vec<u8> = row.try_get(0)?;
            if !privacy::is_erased(&value) {
                sealed.push(value);
            }
        }
    }
    c.close().await?;
    if sealed.is_empty() {
        return Ok(Sample::NoPersonalData);
    }
    let opened = sealed.iter().filter(|v| cipher.open(v).is_ok()).count();
    Ok(if opened == sealed.len() {
        Sample::Opens {
            values: sealed.len(),
        }
    } else {
        Sample::DoesNotOpen {
            opened,
            values: sealed.len(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_file_reads_back_and_a_changed_digit_is_caught() {
        let key = [0x5a; 32];
        let text = render(&key);
        assert_eq!(parse(&text, "f").expect("reads"), key);
        assert_eq!(
            parse(&text.replace('\n', "\r\n"), "f").expect("CRLF"),
            key,
            "a copy through another system still reads"
        );
        let damaged = text.replacen("key 5a", "key 5b", 1);
        assert!(matches!(
            parse(&damaged, "f"),
            Err(KeyFileError::Checksum(_))
        ));
        let wrong_check = text.replacen("check ", "check 0", 1);
        assert!(matches!(
            parse(&wrong_check, "f"),
            Err(KeyFileError::Checksum(_))
        ));
        assert!(matches!(
            parse(&text.replacen("key 5a", "key +a", 1), "f"),
            Err(KeyFileError::BadKey(_))
        ));
        assert!(matches!(
            parse(&text.replacen("v1", "v2", 1), "f"),
            Err(KeyFileError::Version(_))
        ));
        assert!(matches!(
            parse("hello\n", "f"),
            Err(KeyFileError::NotAKeyFile(_))
        ));
        let no_check: Vec<&str> = text.lines().filter(|l| !l.starts_with("check")).collect();
        assert!(matches!(
            parse(&no_check.join("\n"), "f"),
            Err(KeyFileError::Missing(_, "check"))
        ));
        let twice = format!("{text}key {}\n", "00".repeat(32));
        assert!(matches!(
            parse(&twice, "f"),
            Err(KeyFileError::Missing(_, "key"))
        ));
    }

    #[test]
    fn no_error_shows_the_key() {
        let key = [0x5a; 32];
        let hex = crate::crypto::hex(&key);
        let text = render(&key);
        for bad in [
            text.replacen("key 5a", "key 5b", 1),
            text.replacen("key 5a", "key 5", 1),
            format!("{text}{hex}\n"),
            format!("{text}key {hex}\n"),
        ] {
            let e = parse(&bad, "f").expect_err("refused").to_string();
            assert!(!e.contains(&hex[..16]), "{e}");
        }
    }
}
