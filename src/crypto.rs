//! Randomness and digests used for sessions and tokens.

use sha2::{Digest, Sha256};

/// Fills `buf` from the operating system's random source.
pub fn fill_random(buf: &mut [u8]) {
    // The OS random source failing means the machine cannot run anything secure; stopping is
    // the only safe answer, and it cannot be caused by input.
    if let Err(e) = getrandom::fill(buf) {
        panic!("operating system random source failed: {e}");
    }
}

/// A fresh random token, 32 bytes as 64 hex characters.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    fill_random(&mut b);
    hex(&b)
}

/// SHA-256 of `s` as hex: how a session token is stored, so a copy of the database cannot be
/// used to sign in.
pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn tokens_are_random_hex_and_compare_exactly() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &random_token()));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
