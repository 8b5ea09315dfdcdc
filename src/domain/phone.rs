//! Mainland China phone numbers: mobile and fixed line.
//!
//! Masking per domain §9.3 (`138****1234`). The number formats are general mainland numbering
//! practice (the domain reference has no section on them): mobile `1[3-9]` + 9 digits; fixed
//! line trunk `0` + area code + 7–8 digit local number, where the area code is `10` or `2X`
//! (two digits) or three digits starting with 3–9. Only a local number starting with 0 is
//! refused (a doubled trunk prefix); leading 1 is left alone to avoid refusing a real number.

use std::fmt;

use super::masking::{mask_middle, normalize_width};
use crate::i18n::{Lang, UserMessage};

/// Mobile or fixed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PhoneKind {
    Mobile,
    FixedLine,
}

/// A valid mainland phone number in canonical form: mobile `13812345678`, fixed line
/// `0755-12345678` (trunk 0 and area code, a dash, the local number).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    number: String,
    /// Length of the `0` + area code part for a fixed line, 0 for a mobile number.
    area_len: usize,
}

impl PhoneNumber {
    /// Parses a mobile or fixed-line number.
    ///
    /// Accepts: surrounding whitespace, full-width characters, spaces, dashes and parentheses
    /// anywhere (`138 1234 5678`, `(0755) 1234-5678`), and an international prefix `+86` /
    /// `0086` (then the fixed-line trunk 0 may be left out: `+86 10 12345678`) or a bare `86`
    /// before an 11-digit mobile number. Other country codes are refused.
    pub fn parse(input: &str) -> Result<PhoneNumber, PhoneError> {
        let normalized = normalize_width(input);
        if normalized.is_empty() {
            return Err(PhoneError::Empty);
        }
        let compact: String = normalized
            .chars()
            .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '(' | ')')))
            .collect();

        let (rest, international) = if let Some(rest) = compact.strip_prefix("+86") {
            (rest, true)
        } else if let Some(rest) = compact.strip_prefix("0086") {
            (rest, true)
        } else if compact.starts_with('+') || compact.starts_with("00") {
            return Err(PhoneError::NotMainland);
        } else if let Some(rest) = compact
            .strip_prefix("86")
            .filter(|r| r.len() == 11 && r.starts_with('1'))
        {
            (rest, true)
        } else {
            (compact.as_str(), false)
        };
        if rest.is_empty() {
            return Err(PhoneError::Format);
        }
        if let Some(found) = rest.chars().find(|c| !c.is_ascii_digit()) {
            return Err(PhoneError::InvalidCharacter { found });
        }
        // In international format the fixed-line trunk 0 is dropped: +86 755 … = 0755 ….
        let is_mobile_shaped = rest.starts_with('1') && rest.len() == 11;
        let digits = if international && !rest.starts_with('0') && !is_mobile_shaped {
            format!("0{rest}")
        } else {
            rest.to_owned()
        };

        let bytes = digits.as_bytes();
        match bytes[0] {
            b'1' => {
                if bytes.len() != 11 {
                    return Err(PhoneError::MobileLength { found: bytes.len() });
                }
                if !(b'3'..=b'9').contains(&bytes[1]) {
                    return Err(PhoneError::MobilePrefix);
                }
                Ok(PhoneNumber {
                    number: digits,
                    area_len: 0,
                })
            }
            b'0' => {
                let area_len = match bytes.get(1) {
                    Some(b'1') if bytes.get(2) == Some(&b'0') => 3, // 010 Beijing
                    Some(b'2') if bytes.len() > 2 => 3,             // 02X
                    Some(b'3'..=b'9') if bytes.len() > 3 => 4,      // 0XYZ
                    _ => return Err(PhoneError::AreaCode),
                };
                let local = &digits[area_len..];
                if !(7..=8).contains(&local.len()) || local.starts_with('0') {
                    return Err(PhoneError::LocalNumber);
                }
                Ok(PhoneNumber {
                    number: format!("{}-{local}", &digits[..area_len]),
                    area_len,
                })
            }
            _ => Err(PhoneError::Format),
        }
    }

    pub fn kind(&self) -> PhoneKind {
        if self.area_len == 0 {
            PhoneKind::Mobile
        } else {
            PhoneKind::FixedLine
        }
    }

    /// Canonical form: `13812345678` or `0755-12345678`. Personal data: do not log it.
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// The area code with its trunk 0 (`"0755"`, `"010"`), for fixed lines only.
    pub fn area_code(&self) -> Option<&str> {
        (self.area_len > 0).then(|| &self.number[..self.area_len])
    }

    /// E.164 form for SMS gateways: `+8613812345678`, `+8675512345678`.
    pub fn e164(&self) -> String {
        let national: String = self.number.chars().filter(char::is_ascii_digit).collect();
        let national = national.strip_prefix('0').unwrap_or(&national);
        format!("+86{national}")
    }

    /// Mobile: first 3 + last 4 (`138****1234`, domain §9.3). Fixed line: area code kept, local
    /// number masked except its last 4 (`0755-****5678`).
    pub fn masked(&self) -> String {
        match self.area_code() {
            None => mask_middle(&self.number, 3, 4),
            Some(area) => {
                let local = &self.number[self.area_len + 1..];
                format!("{area}-{}", mask_middle(local, 0, 4))
            }
        }
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number)
    }
}

impl fmt::Debug for PhoneNumber {
    /// Masked, so that phone numbers never end up in logs in full.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.masked()).finish()
    }
}

crate::domain::text_type!(PhoneNumber, PhoneError, number);

/// Why a text is not a valid mainland phone number. `Display` is the English message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("Please enter a phone number")]
    Empty,
    #[error("Only mainland China phone numbers (+86) are accepted")]
    NotMainland,
    #[error("The phone number contains a character that is not allowed: “{found}”")]
    InvalidCharacter { found: char },
    #[error("A mobile number has 11 digits; {found} were entered")]
    MobileLength { found: usize },
    #[error("A mobile number starts with 13 to 19")]
    MobilePrefix,
    #[error("The area code of the landline number is not valid")]
    AreaCode,
    #[error("The local part of a landline number has 7 or 8 digits and does not start with 0")]
    LocalNumber,
    #[error(
        "Enter an 11-digit mobile number starting with 1, or a landline number with its area code starting with 0"
    )]
    Format,
}

impl UserMessage for PhoneError {
    fn code(&self) -> &'static str {
        match self {
            PhoneError::Empty => "phone.empty",
            PhoneError::NotMainland => "phone.not_mainland",
            PhoneError::InvalidCharacter { .. } => "phone.invalid_character",
            PhoneError::MobileLength { .. } => "phone.mobile_length",
            PhoneError::MobilePrefix => "phone.mobile_prefix",
            PhoneError::AreaCode => "phone.area_code",
            PhoneError::LocalNumber => "phone.local_number",
            PhoneError::Format => "phone.format",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::ZhCn => match self {
                PhoneError::Empty => "请填写电话号码".to_owned(),
                PhoneError::NotMainland => "仅支持中国大陆电话号码（+86）".to_owned(),
                PhoneError::InvalidCharacter { found } => {
                    format!("电话号码中包含不允许的字符：“{found}”")
                }
                PhoneError::MobileLength { found } => {
                    format!("手机号码应为11位，当前输入了{found}位")
                }
                PhoneError::MobilePrefix => "手机号码应以13至19开头".to_owned(),
                PhoneError::AreaCode => "固定电话区号不正确".to_owned(),
                PhoneError::LocalNumber => {
                    "固定电话号码（区号之后）应为7或8位，且不以0开头".to_owned()
                }
                PhoneError::Format => {
                    "请填写以1开头的11位手机号码，或以0开头、带区号的固定电话号码".to_owned()
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> Result<String, PhoneError> {
        PhoneNumber::parse(s).map(|p| p.to_string())
    }

    #[test]
    fn mobile_numbers() {
        for input in [
            "13812341234",
            " 138 1234 1234 ",
            "138-1234-1234",
            "+86 138 1234 1234",
            "+8613812341234",
            "8613812341234",
            "0086 13812341234",
            "１３８１２３４１２３４",
        ] {
            assert_eq!(canon(input).as_deref(), Ok("13812341234"), "{input}");
        }
        let p = PhoneNumber::parse("19912345678").unwrap();
        assert_eq!(p.kind(), PhoneKind::Mobile);
        assert_eq!(p.area_code(), None);
        assert_eq!(p.e164(), "+8619912345678");
        assert_eq!(
            canon("1381234123"),
            Err(PhoneError::MobileLength { found: 10 })
        );
        assert_eq!(
            canon("138123412345"),
            Err(PhoneError::MobileLength { found: 12 })
        );
        assert_eq!(canon("12812341234"), Err(PhoneError::MobilePrefix));
        assert_eq!(canon("10012341234"), Err(PhoneError::MobilePrefix));
    }

    #[test]
    fn fixed_line_numbers() {
        assert_eq!(canon("010-12345678").as_deref(), Ok("010-12345678"));
        assert_eq!(canon("01012345678").as_deref(), Ok("010-12345678"));
        assert_eq!(canon("021 6123 4567").as_deref(), Ok("021-61234567"));
        assert_eq!(canon("0755-12345678").as_deref(), Ok("0755-12345678"));
        assert_eq!(canon("(0755)2345678").as_deref(), Ok("0755-2345678"));
        assert_eq!(canon("+86 10 12345678").as_deref(), Ok("010-12345678"));
        assert_eq!(canon("+86 755 12345678").as_deref(), Ok("0755-12345678"));
        let p = PhoneNumber::parse("0755-12345678").unwrap();
        assert_eq!(p.kind(), PhoneKind::FixedLine);
        assert_eq!(p.area_code(), Some("0755"));
        assert_eq!(p.e164(), "+8675512345678");

        assert_eq!(canon("011-12345678"), Err(PhoneError::AreaCode));
        assert_eq!(canon("0012345678"), Err(PhoneError::NotMainland));
        assert_eq!(canon("0"), Err(PhoneError::AreaCode));
        assert_eq!(canon("0755-123456"), Err(PhoneError::LocalNumber));
        assert_eq!(canon("0755-123456789"), Err(PhoneError::LocalNumber));
        assert_eq!(canon("0755-02345678"), Err(PhoneError::LocalNumber));
        assert_eq!(
            canon("12345678"),
            Err(PhoneError::MobileLength { found: 8 })
        );
        assert_eq!(canon("62345678"), Err(PhoneError::Format));
    }

    #[test]
    fn refuses_other_input() {
        assert_eq!(canon(""), Err(PhoneError::Empty));
        assert_eq!(canon("  "), Err(PhoneError::Empty));
        assert_eq!(canon("+1 415 555 0100"), Err(PhoneError::NotMainland));
        assert_eq!(canon("+852 6123 4567"), Err(PhoneError::NotMainland));
        assert_eq!(canon("+86"), Err(PhoneError::Format));
        assert_eq!(
            canon("138.1234.1234"),
            Err(PhoneError::InvalidCharacter { found: '.' })
        );
    }

    #[test]
    fn masking_and_debug() {
        let m = PhoneNumber::parse("13812341234").unwrap();
        assert_eq!(m.masked(), "138****1234");
        assert_eq!(format!("{m:?}"), "PhoneNumber(\"138****1234\")");
        let f = PhoneNumber::parse("0755-12345678").unwrap();
        assert_eq!(f.masked(), "0755-****5678");
        let f = PhoneNumber::parse("010-2345678").unwrap();
        assert_eq!(f.masked(), "010-***5678");
    }

    #[test]
    fn serde_and_from_str() {
        let p: PhoneNumber = "+86 138 1234 1234".parse().unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, "\"13812341234\"");
        assert_eq!(serde_json::from_str::<PhoneNumber>(&json).unwrap(), p);
        assert!(serde_json::from_str::<PhoneNumber>("\"12345\"").is_err());
    }

    #[test]
    fn every_error_has_both_languages() {
        let all = [
            PhoneError::Empty,
            PhoneError::NotMainland,
            PhoneError::InvalidCharacter { found: '.' },
            PhoneError::MobileLength { found: 10 },
            PhoneError::MobilePrefix,
            PhoneError::AreaCode,
            PhoneError::LocalNumber,
            PhoneError::Format,
        ];
        let mut codes = std::collections::HashSet::new();
        for e in &all {
            let zh = e.message(Lang::ZhCn);
            let en = e.message(Lang::En);
            assert!(!zh.trim().is_empty() && !en.trim().is_empty(), "{e:?}");
            assert_ne!(zh, en, "{e:?}");
            assert!(codes.insert(e.code()), "duplicate code {}", e.code());
        }
    }
}
