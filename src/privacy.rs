//! Personal data at rest (R15): ID numbers, names and phone numbers are stored encrypted
//! (AES-256-GCM, a fresh nonce per value) with a keyed blind index (HMAC-SHA-256) for exact
//! look-ups, so a copy of the database reveals no citizen's identity.
//!
//! The key is 32 random bytes: `ONETRIP_SECRET_KEY` (64 hex characters; every node of a
//! PostgreSQL deployment must share it) or `<state_dir>/secret.key`, created on first start
//! with mode 0600. Losing the key loses the personal data: backups never contain it, so export
//! it once (`onetrip key export`) and keep it apart from them (docs/OPERATIONS.md).
//!
//! Keys have versions (`onetrip key rotate`, src/rekey): the first key is version 1 and its
//! values carry no header (as before versions existed); a later version N is the file
//! `<state_dir>/secret.key.N`, and its values start with [`VERSIONED`] and N. New values are
//! sealed with the newest version held; every held version opens. Blind indexes follow the
//! same versions (see [`BlindIndex`]): a rotation rebuilds them too, so a leaked old key no
//! longer tells which stored rows belong to a guessed ID number.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::crypto;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("ONETRIP_SECRET_KEY must be 64 hexadecimal characters (32 bytes)")]
    BadEnvKey,
    #[error("secret key file {0} is not 32 bytes; restore it from backup")]
    BadKeyFile(String),
    #[error("cannot read or create the secret key file {0}: {1}")]
    Io(String, std::io::Error),
}

#[derive(Debug, thiserror::Error)]
#[error("a stored personal value could not be decrypted (wrong key or damaged data)")]
pub struct OpenError;

/// Whether a sealed value was erased after its retention period (src/retention): the purge
/// leaves no bytes where a required value stood, and a real sealed value is never empty.
pub fn is_erased(sealed: &[u8]) -> bool {
    sealed.is_empty()
}

/// Shown where an erased value stood.
pub const ERASED_SHOWN: &str = "—";

/// The first byte of a value sealed under key version 2 or later; the second is the version.
/// A version-1 value starts with its random nonce, so it may start with this byte too: opening
/// tries the named version and falls back to version 1, and the authentication tag tells.
pub const VERSIONED: u8 = 0xB7;

/// The highest key version: one byte in each sealed value.
pub const MAX_VERSION: u8 = u8::MAX;

struct Sealer {
    version: u8,
    check: String,
    aead: Aes256Gcm,
    index_key: [u8; 32],
}

/// Encrypts and indexes personal values.
pub struct Cipher {
    /// Held versions, oldest first; the last seals. A lock because a running server adopts a
    /// rotated key without restarting (src/rekey); reads take it for a moment only.
    keys: RwLock<Vec<Arc<Sealer>>>,
    /// Whether every stored blind index is known to be under the newest version (the rebuild
    /// after the last rotation is through): until then a look-up also tries the version before.
    settled: AtomicBool,
}

impl Clone for Cipher {
    fn clone(&self) -> Cipher {
        Cipher {
            keys: RwLock::new(self.held()),
            settled: AtomicBool::new(self.settled.load(Ordering::Relaxed)),
        }
    }
}

/// A person's blind index (of an ID number or a phone number), in the forms a look-up must
/// try. Equal values give equal indexes, and without the keys an index reveals nothing (ID
/// numbers are too few to hash without a key).
///
/// Each key version has its own index key, chained: version 1's index is
/// HMAC(k1, value) in 64 hexadecimal characters (as before versions existed), and version N's
/// is `vN:` followed by HMAC(kN, index under N−1). A rotation's rebuild (src/rekey) can so bring
/// every stored index forward without the value itself — the watch list, opt-outs and no-show
/// lifts hold a person by index alone — and an old key alone matches nothing once it is done.
/// While it runs, rows hold the newest form or the one before: writes store [`newest`]
/// and look-ups try [`forms`].
///
/// [`newest`]: BlindIndex::newest
/// [`forms`]: BlindIndex::forms
#[derive(Clone, PartialEq, Eq)]
pub struct BlindIndex {
    newest: String,
    previous: Option<String>,
}

impl std::fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndex(..)")
    }
}

impl BlindIndex {
    /// The form new rows store.
    pub fn newest(&self) -> &str {
        &self.newest
    }

    /// The forms a look-up tries: the newest, and the one before while a rebuild may have left
    /// rows under it (else the newest again, so queries bind a fixed number of values).
    pub fn forms(&self) -> [&str; 2] {
        [
            &self.newest,
            self.previous.as_deref().unwrap_or(&self.newest),
        ]
    }

    /// Whether a stored index is this person's, in either form (in constant time).
    pub fn matches(&self, stored: &str) -> bool {
        let [a, b] = self.forms();
        // Both compared always, so the time does not tell which form matched.
        crypto::constant_time_eq(stored, a) | crypto::constant_time_eq(stored, b)
    }
}

/// The key version a stored blind index is under: `None` for an erased one (src/retention) or
/// anything else that is no index.
pub fn index_version(stored: &str) -> Option<u8> {
    if stored.len() == 64 && stored.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(1);
    }
    let (v, hex) = stored.strip_prefix('v')?.split_once(':')?;
    let v: u8 = v.parse().ok()?;
    (v >= 2 && hex.len() == 64).then_some(v)
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(..)")
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(master)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(label);
    let out = mac.finalize().into_bytes();
    let mut k = [0u8; 32];
    k.copy_from_slice(&out);
    k
}

impl Cipher {
    /// Builds the cipher from a 32-byte master key, as version 1 (separate sub-keys for
    /// encryption and index).
    pub fn new(master: &[u8; 32]) -> Cipher {
        Cipher {
            keys: RwLock::new(vec![Arc::new(Sealer::new(1, master))]),
            settled: AtomicBool::new(true),
        }
    }

    /// Loads the key from `ONETRIP_SECRET_KEY` or `<state_dir>/secret.key`, creating the file
    /// on first start, and the later versions `<state_dir>/secret.key.N` there are.
    pub fn load(state_dir: &Path, env_key: Option<&str>) -> Result<Cipher, KeyError> {
        let cipher = match current_key(state_dir, env_key)? {
            Some((_, key)) => Cipher::new(&key),
            None => {
                let path = state_dir.join(KEY_FILE);
                let shown = path.display().to_string();
                std::fs::create_dir_all(state_dir).map_err(|e| KeyError::Io(shown.clone(), e))?;
                let mut key = [0u8; 32];
                crypto::fill_random(&mut key);
                write_private(&path, &key).map_err(|e| KeyError::Io(shown, e))?;
                Cipher::new(&key)
            }
        };
        for version in 2..=MAX_VERSION {
            if let Some(key) = read_version(state_dir, version)? {
                cipher.adopt(version, &key);
            }
        }
        Ok(cipher)
    }

    /// Holds one more key version (a rotated key); a newer one seals from now on. Holding a
    /// version already held changes nothing.
    pub fn adopt(&self, version: u8, master: &[u8; 32]) {
        if version < 2 {
            return;
        }
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        if keys.iter().all(|k| k.version != version) {
            keys.push(Arc::new(Sealer::new(version, master)));
            keys.sort_by_key(|k| k.version);
            self.settled.store(false, Ordering::Relaxed);
        }
    }

    /// Records whether every stored blind index is under the newest version (src/rekey tells,
    /// once its rebuild is through); until then look-ups also try the version before.
    pub fn set_indexes_settled(&self, settled: bool) {
        self.settled.store(settled, Ordering::Relaxed);
    }

    /// The versions held and each one's check value, oldest first.
    pub fn versions(&self) -> Vec<(u8, String)> {
        self.held()
            .iter()
            .map(|k| (k.version, k.check.clone()))
            .collect()
    }

    /// The version new values are sealed with.
    pub fn current_version(&self) -> u8 {
        self.current().version
    }

    fn held(&self) -> Vec<Arc<Sealer>> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn current(&self) -> Arc<Sealer> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        // `new` puts version 1 in and nothing takes a version out.
        keys.last()
            .cloned()
            .unwrap_or_else(|| unreachable!("a cipher holds a key"))
    }

    fn version(&self, version: u8) -> Option<Arc<Sealer>> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        keys.iter().find(|k| k.version == version).cloned()
    }

    /// Encrypts a value with the newest key: 12-byte nonce followed by the ciphertext and tag,
    /// after [`VERSIONED`] and the version for versions 2 and later.
    pub fn seal(&self, plain: &str) -> Vec<u8> {
        self.current().seal(plain)
    }

    /// Decrypts a value sealed by [`Cipher::seal`] under any held version.
    pub fn open(&self, sealed: &[u8]) -> Result<String, OpenError> {
        self.open_with_version(sealed).map(|(plain, _)| plain)
    }

    /// Decrypts a value and tells which version opened it.
    pub fn open_with_version(&self, sealed: &[u8]) -> Result<(String, u8), OpenError> {
        if let [VERSIONED, v, rest @ ..] = sealed
            && *v >= 2
            && let Some(k) = self.version(*v)
            && let Ok(plain) = k.open_body(rest)
        {
            return Ok((plain, *v));
        }
        let v1 = self.version(1).ok_or(OpenError)?;
        v1.open_body(sealed).map(|p| (p, 1))
    }

    /// The value sealed again with the newest key, or `None` when it already is.
    pub fn reseal(&self, sealed: &[u8]) -> Result<Option<Vec<u8>>, OpenError> {
        let (plain, version) = self.open_with_version(sealed)?;
        let current = self.current();
        Ok((version != current.version).then(|| current.seal(&plain)))
    }

    /// The blind index of a value (an ID number, a phone number), in the forms a look-up tries.
    pub fn blind_index(&self, value: &str) -> BlindIndex {
        let held = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let (mut index, mut previous) = (None::<String>, None);
        for k in held.iter() {
            let next = k.index(index.as_deref().unwrap_or(value));
            previous = index.replace(next);
        }
        let settled = self.settled.load(Ordering::Relaxed);
        BlindIndex {
            newest: index.unwrap_or_else(|| unreachable!("a cipher holds a key")),
            previous: previous.filter(|_| !settled),
        }
    }

    /// The blind index of the value a sealed copy holds (e.g. an application's sealed ID number),
    /// for looking a stored row's person up elsewhere in every form there.
    pub fn blind_index_of_sealed(&self, sealed: &[u8]) -> Result<BlindIndex, OpenError> {
        Ok(self.blind_index(&self.open(sealed)?))
    }

    /// A stored blind index brought forward to the newest version (the rebuild's step); `None`
    /// when it is already newest, is no index (erased), or is under a version not held.
    pub fn index_forward(&self, stored: &str) -> Option<String> {
        let from = index_version(stored)?;
        // The chain from there is the one look-ups compute only if that version is held.
        self.version(from)?;
        let later: Vec<_> = self
            .held()
            .into_iter()
            .filter(|k| k.version > from)
            .collect();
        (!later.is_empty()).then(|| later.iter().fold(stored.to_owned(), |i, k| k.index(&i)))
    }

    /// A secret derived from version 1's index key and a label, stable across rotations (the
    /// payment simulator's signing key is one).
    pub fn stable_secret(&self, label: &str) -> String {
        self.version(1)
            .unwrap_or_else(|| unreachable!("`new` holds version 1 and nothing takes it out"))
            .index(label)
    }
}

/// A version's sub-key for one purpose; version 1's label is the one used before versions
/// existed.
fn sub_key(master: &[u8; 32], version: u8, purpose: &str) -> [u8; 32] {
    let label = if version == 1 {
        format!("onetrip personal-data {purpose} v1")
    } else {
        format!("onetrip personal-data {purpose} key version {version}")
    };
    derive(master, label.as_bytes())
}

impl Sealer {
    fn new(version: u8, master: &[u8; 32]) -> Sealer {
        let enc = sub_key(master, version, "encryption");
        let aead = <Aes256Gcm as KeyInit>::new_from_slice(&enc)
            .unwrap_or_else(|_| unreachable!("32-byte key"));
        let index_key = sub_key(master, version, "blind index");
        Sealer {
            version,
            check: key_check(master),
            aead,
            index_key,
        }
    }

    /// This version's index of `input`: the value itself under version 1, the index under the
    /// version before from version 2 on (see [`BlindIndex`]).
    fn index(&self, input: &str) -> String {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.index_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(input.as_bytes());
        let hex = crypto::hex(&mac.finalize().into_bytes());
        if self.version == 1 {
            hex
        } else {
            format!("v{}:{hex}", self.version)
        }
    }

    fn seal(&self, plain: &str) -> Vec<u8> {
        let mut n = [0u8; 12];
        crypto::fill_random(&mut n);
        let nonce = Nonce::from(n);
        // Encryption with a valid key and an in-memory buffer cannot fail.
        let ct = self
            .aead
            .encrypt(&nonce, plain.as_bytes())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(2 + 12 + ct.len());
        if self.version >= 2 {
            out.extend_from_slice(&[VERSIONED, self.version]);
        }
        out.extend_from_slice(&n);
        out.extend_from_slice(&ct);
        out
    }

    fn open_body(&self, body: &[u8]) -> Result<String, OpenError> {
        if body.len() < 12 + 16 {
            return Err(OpenError);
        }
        let (n, ct) = body.split_at(12);
        let n: [u8; 12] = n.try_into().map_err(|_| OpenError)?;
        let plain = self
            .aead
            .decrypt(&Nonce::from(n), ct)
            .map_err(|_| OpenError)?;
        String::from_utf8(plain).map_err(|_| OpenError)
    }
}

/// The key file's name in the state directory.
pub const KEY_FILE: &str = "secret.key";

/// The file of key version `version` (2 or later) in the state directory.
pub fn version_file(state_dir: &Path, version: u8) -> PathBuf {
    state_dir.join(format!("{KEY_FILE}.{version}"))
}

/// Key version `version` from its file, `None` when there is no such file.
pub fn read_version(state_dir: &Path, version: u8) -> Result<Option<[u8; 32]>, KeyError> {
    let path = version_file(state_dir, version);
    let shown = path.display().to_string();
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| KeyError::BadKeyFile(shown))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(KeyError::Io(shown, e)),
    }
}

/// Writes a new key version's file (mode 0600), never over an existing one.
pub fn write_version(state_dir: &Path, version: u8, key: &[u8; 32]) -> Result<PathBuf, KeyError> {
    let path = version_file(state_dir, version);
    write_private(&path, key).map_err(|e| KeyError::Io(path.display().to_string(), e))?;
    Ok(path)
}

/// Where the key the server would use comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `ONETRIP_SECRET_KEY`.
    Env,
    /// `<state_dir>/secret.key`.
    File(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => f.write_str("ONETRIP_SECRET_KEY"),
            KeySource::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The master key [`Cipher::load`] would use, read by the same rules (the variable first, then
/// the file), but never created: `None` before the first start, so that exporting or checking
/// a key cannot invent one that no data was ever sealed with.
pub fn current_key(
    state_dir: &Path,
    env_key: Option<&str>,
) -> Result<Option<(KeySource, [u8; 32])>, KeyError> {
    if let Some(hex) = env_key {
        let key = parse_hex_key(hex).ok_or(KeyError::BadEnvKey)?;
        return Ok(Some((KeySource::Env, key)));
    }
    let path = state_dir.join(KEY_FILE);
    let shown = path.display().to_string();
    match std::fs::read(&path) {
        Ok(bytes) => {
            let key: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| KeyError::BadKeyFile(shown))?;
            Ok(Some((KeySource::File(path), key)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(KeyError::Io(shown, e)),
    }
}

/// A master key from 64 hexadecimal characters, as `ONETRIP_SECRET_KEY` is read.
pub fn key_from_hex(hex: &str) -> Option<[u8; 32]> {
    parse_hex_key(hex)
}

/// A short fingerprint of a master key (16 hex characters): tells two keys apart and shows a
/// key file is intact without revealing the key. A sub-key of its own, so it says nothing about
/// the encryption or index keys.
pub fn key_check(master: &[u8; 32]) -> String {
    crypto::hex(&derive(master, b"onetrip key check v1")[..8])
}

fn parse_hex_key(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, chunk) in hex.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(chunk).ok()?;
        key[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(key)
}

#[cfg(unix)]
fn write_private(path: &Path, key: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(key)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, key: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper_detection() {
        let c = Cipher::new(&[7u8; 32]);
        let a = c.seal("11010519491231002X");
        let b = c.seal("11010519491231002X");
        assert_ne!(a, b, "fresh nonce per value");
        assert_eq!(c.open(&a).expect("opens"), "11010519491231002X");
        let mut bad = a.clone();
        bad[20] ^= 1;
        assert!(c.open(&bad).is_err());
        assert!(
            Cipher::new(&[8u8; 32]).open(&a).is_err(),
            "another key cannot read it"
        );
    }

    #[test]
    fn a_rotated_key_seals_every_version_opens_and_the_index_moves_forward() {
        let c = Cipher::new(&[7u8; 32]);
        let old = c.seal("张三");
        let index = c.blind_index("11010519491231002X");
        assert_eq!(index_version(index.newest()), Some(1));
        assert_eq!(index.forms(), [index.newest(); 2], "one version, one form");
        c.adopt(2, &[9u8; 32]);
        assert_eq!(c.current_version(), 2);
        let new = c.seal("李四");
        assert_eq!(&new[..2], &[VERSIONED, 2]);
        assert_eq!(c.open_with_version(&old).expect("v1"), ("张三".into(), 1));
        assert_eq!(c.open_with_version(&new).expect("v2"), ("李四".into(), 2));
        let again = c.reseal(&old).expect("opens").expect("resealed");
        assert_eq!(c.open_with_version(&again).expect("v2"), ("张三".into(), 2));
        assert!(c.reseal(&again).expect("opens").is_none(), "already newest");
        // The index moves to version 2, chained on version 1's; until the rebuild is through a
        // look-up tries both forms, and the rebuild brings a stored one forward to the same.
        let moved = c.blind_index("11010519491231002X");
        assert_eq!(index_version(moved.newest()), Some(2));
        assert_eq!(moved.forms(), [moved.newest(), index.newest()]);
        assert!(moved.matches(index.newest()) && moved.matches(moved.newest()));
        assert!(!moved.matches(c.blind_index("11010519491231003X").newest()));
        assert_eq!(
            c.index_forward(index.newest()).as_deref(),
            Some(moved.newest())
        );
        assert_eq!(c.index_forward(moved.newest()), None, "already newest");
        assert_eq!(c.index_forward("erased:12"), None);
        c.set_indexes_settled(true);
        let settled = c.blind_index("11010519491231002X");
        assert_eq!(settled.forms(), [moved.newest(); 2]);
        assert!(
            !settled.matches(index.newest()),
            "version 1's form no longer"
        );
        // Version 1's key alone cannot make version 2's index; the stable secret stays.
        assert!(
            !Cipher::new(&[7u8; 32])
                .blind_index("11010519491231002X")
                .matches(moved.newest())
        );
        assert_eq!(
            c.stable_secret("s"),
            Cipher::new(&[7u8; 32]).stable_secret("s")
        );
        assert_eq!(c.stable_secret("s"), index_of_v1(&[7u8; 32], "s"));
        assert!(
            Cipher::new(&[7u8; 32]).open(&new).is_err(),
            "v1 alone cannot"
        );
        // A version-1 value that happens to start like a versioned one still opens.
        let v1 = Cipher::new(&[7u8; 32]);
        let mut tries = 0;
        let tricky = loop {
            let v = v1.seal("王五");
            tries += 1;
            if v[0] == VERSIONED || tries > 200_000 {
                break v;
            }
        };
        let both = v1.clone();
        both.adopt(tricky[1].max(2), &[9u8; 32]);
        assert_eq!(both.open(&tricky).expect("falls back"), "王五");
        assert_eq!(c.versions().len(), 2);
    }

    fn index_of_v1(master: &[u8; 32], value: &str) -> String {
        Cipher::new(master).blind_index(value).newest().to_owned()
    }

    #[test]
    fn blind_index_is_keyed_and_stable() {
        let c = Cipher::new(&[7u8; 32]);
        assert_eq!(c.blind_index("x"), c.blind_index("x"));
        assert_ne!(c.blind_index("x"), c.blind_index("y"));
        assert_ne!(c.blind_index("x"), Cipher::new(&[9u8; 32]).blind_index("x"));
    }

    #[test]
    fn current_key_reads_like_load_and_never_creates() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(current_key(dir.path(), None).expect("read").is_none());
        assert!(!dir.path().join(KEY_FILE).exists(), "not created");
        let c = Cipher::load(dir.path(), None).expect("created");
        let (source, key) = current_key(dir.path(), None)
            .expect("read")
            .expect("present");
        assert_eq!(source, KeySource::File(dir.path().join(KEY_FILE)));
        assert_eq!(Cipher::new(&key).blind_index("v"), c.blind_index("v"));
        let hex = "ab".repeat(32);
        let (source, key) = current_key(dir.path(), Some(&hex))
            .expect("env")
            .expect("present");
        assert_eq!((source, key), (KeySource::Env, [0xab; 32]));
        assert!(current_key(dir.path(), Some("abc")).is_err());
        assert_eq!(key_check(&[0xab; 32]).len(), 16);
        assert_ne!(key_check(&[0xab; 32]), key_check(&[0xac; 32]));
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = Cipher::load(dir.path(), None).expect("created");
        let b = Cipher::load(dir.path(), None).expect("reused");
        assert_eq!(a.blind_index("v"), b.blind_index("v"));
        assert!(Cipher::load(dir.path(), Some("abc")).is_err());
        let env = Cipher::load(dir.path(), Some(&"ab".repeat(32))).expect("env key");
        assert_ne!(env.blind_index("v"), a.blind_index("v"));
    }
}
