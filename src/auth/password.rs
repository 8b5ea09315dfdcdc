//! Password hashing (Argon2id, per-password salt) and the password policy.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

use crate::i18n::{Lang, UserMessage};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password too short")]
    TooShort,
    #[error("password needs letters and digits")]
    NeedsLettersAndDigits,
    #[error("password contains the username")]
    ContainsUsername,
    #[error("password too long")]
    TooLong,
}

impl UserMessage for PasswordError {
    fn code(&self) -> &'static str {
        match self {
            PasswordError::TooShort => "password.too_short",
            PasswordError::NeedsLettersAndDigits => "password.letters_and_digits",
            PasswordError::ContainsUsername => "password.contains_username",
            PasswordError::TooLong => "password.too_long",
        }
    }
    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PasswordError::TooShort, Lang::ZhCn) => format!("密码至少需要 {MIN_LEN} 个字符。"),
            (PasswordError::TooShort, Lang::En) => {
                format!("The password needs at least {MIN_LEN} characters.")
            }
            (PasswordError::NeedsLettersAndDigits, Lang::ZhCn) => {
                "密码必须同时包含字母和数字。".into()
            }
            (PasswordError::NeedsLettersAndDigits, Lang::En) => {
                "The password must contain both letters and digits.".into()
            }
            (PasswordError::ContainsUsername, Lang::ZhCn) => "密码不能包含用户名。".into(),
            (PasswordError::ContainsUsername, Lang::En) => {
                "The password must not contain the username.".into()
            }
            (PasswordError::TooLong, Lang::ZhCn) => "密码不能超过 128 个字符。".into(),
            (PasswordError::TooLong, Lang::En) => {
                "The password must not exceed 128 characters.".into()
            }
        }
    }
}

pub const MIN_LEN: usize = 10;

/// Checks a new password against the policy before it is hashed.
pub fn check_policy(username: &str, password: &str) -> Result<(), PasswordError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(PasswordError::TooShort);
    }
    if len > 128 {
        return Err(PasswordError::TooLong);
    }
    if !(password.chars().any(|c| c.is_alphabetic())
        && password.chars().any(|c| c.is_ascii_digit()))
    {
        return Err(PasswordError::NeedsLettersAndDigits);
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(PasswordError::ContainsUsername);
    }
    Ok(())
}

/// Hashes a password with Argon2id and a fresh random salt.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())?
        .to_string())
}

/// Verifies a password against a stored PHC hash; a malformed hash never verifies.
pub fn verify(stored: &str, password: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A random password for a new or reset account: 14 characters from an alphabet without
/// look-alikes (no 0/O, 1/l/I), always with letters and digits, to be changed at first login.
pub fn generate() -> String {
    const LETTERS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    let mut bytes = [0u8; 14];
    crate::crypto::fill_random(&mut bytes);
    bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            // Positions 4 and 9 are digits, so the policy always holds.
            if i == 4 || i == 9 {
                DIGITS[(*b as usize) % DIGITS.len()] as char
            } else {
                LETTERS[(*b as usize) % LETTERS.len()] as char
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_same_password() {
        let h = hash("correct horse 42").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(&h, "correct horse 42"));
        assert!(!verify(&h, "correct horse 43"));
        assert!(!verify("not a hash", "x"));
    }

    #[test]
    fn policy_and_generated_passwords() {
        assert_eq!(check_policy("li", "short1"), Err(PasswordError::TooShort));
        assert_eq!(
            check_policy("li", "onlyletterslong"),
            Err(PasswordError::NeedsLettersAndDigits)
        );
        assert_eq!(
            check_policy("officer1", "myofficer1pass"),
            Err(PasswordError::ContainsUsername)
        );
        assert_eq!(check_policy("li", "good password 7"), Ok(()));
        for _ in 0..50 {
            let p = generate();
            assert_eq!(check_policy("someone", &p), Ok(()), "{p}");
        }
        assert_ne!(generate(), generate());
    }
}
