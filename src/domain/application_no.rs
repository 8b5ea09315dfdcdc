//! The application number (受理编号), the "one number" printed as a Code 128 barcode on the
//! application form and the receipt.
//!
//! Format (onetrip's own, not an official code; the domain reference records none): 18 digits =
//! acceptance date `YYYYMMDD` (8) + site code (4) + daily sequence (5) + 1 Luhn check digit.
//! All digits, so it encodes compactly in Code 128 code set C. The Luhn digit catches every
//! single-digit typo when an officer keys the number in by hand.

use std::fmt;

use jiff::civil::Date;

use super::masking::normalize_width;
use crate::i18n::{Lang, UserMessage};

/// Earliest acceptance year: no onetrip application predates 2000, so a smaller year is a typo.
const MIN_YEAR: i16 = 2000;
const MAX_SITE_CODE: u16 = 9999;
const MAX_SEQUENCE: u32 = 99_999;

/// A valid application number. Not personal data, so `Debug` shows it in full.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApplicationNo {
    /// Field order makes the derived `Ord` the order of the number itself.
    number: String,
    date: Date,
    site_code: u16,
    sequence: u32,
}

impl ApplicationNo {
    /// Builds the number for an application accepted on `date` at `site_code` (0..=9999) as the
    /// `seq`-th of that day at that site (1..=99999). `date` must be in the years 2000..=9999.
    pub fn new(date: Date, site_code: u16, seq: u32) -> Result<ApplicationNo, ApplicationNoError> {
        if date.year() < MIN_YEAR {
            return Err(ApplicationNoError::Date);
        }
        if site_code > MAX_SITE_CODE {
            return Err(ApplicationNoError::SiteCode);
        }
        if seq == 0 || seq > MAX_SEQUENCE {
            return Err(ApplicationNoError::Sequence);
        }
        let payload = format!(
            "{:04}{:02}{:02}{site_code:04}{seq:05}",
            date.year(),
            date.month(),
            date.day()
        );
        let check = luhn_check_digit(payload.as_bytes());
        Ok(ApplicationNo {
            number: format!("{payload}{check}"),
            date,
            site_code,
            sequence: seq,
        })
    }

    /// Parses a keyed-in or scanned number: trims, maps full-width digits to ASCII, then checks
    /// length, digits, the Luhn check digit, the date and the sequence.
    pub fn parse(input: &str) -> Result<ApplicationNo, ApplicationNoError> {
        let s = normalize_width(input);
        if s.is_empty() {
            return Err(ApplicationNoError::Empty);
        }
        let len = s.chars().count();
        if len != 18 {
            return Err(ApplicationNoError::Length { found: len });
        }
        if let Some(i) = s.chars().position(|c| !c.is_ascii_digit()) {
            return Err(ApplicationNoError::InvalidCharacter { position: i + 1 });
        }
        let bytes = s.as_bytes();
        if luhn_check_digit(&bytes[..17]) != u32::from(bytes[17] - b'0') {
            return Err(ApplicationNoError::Checksum);
        }
        let year = digits_value(&bytes[0..4]);
        let month = digits_value(&bytes[4..6]);
        let day = digits_value(&bytes[6..8]);
        // At most 4 decimal digits each, so the narrowing casts cannot truncate.
        let date =
            Date::new(year as i16, month as i8, day as i8).map_err(|_| ApplicationNoError::Date)?;
        if date.year() < MIN_YEAR {
            return Err(ApplicationNoError::Date);
        }
        let site_code = digits_value(&bytes[8..12]) as u16;
        let sequence = digits_value(&bytes[12..17]);
        if sequence == 0 {
            return Err(ApplicationNoError::Sequence);
        }
        Ok(ApplicationNo {
            number: s,
            date,
            site_code,
            sequence,
        })
    }

    /// Acceptance date (digits 1–8).
    pub fn date(&self) -> Date {
        self.date
    }

    /// Site code (digits 9–12), 0..=9999.
    pub fn site_code(&self) -> u16 {
        self.site_code
    }

    /// Daily sequence at the site (digits 13–17), 1..=99999.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The 18 digits, as encoded in the barcode.
    pub fn as_str(&self) -> &str {
        &self.number
    }
}

/// Luhn (ISO/IEC 7812-1) check digit for an ASCII-digit payload: from the rightmost payload
/// digit leftwards, every other digit is doubled (the rightmost included), digits of products
/// summed; the check digit makes the total a multiple of 10.
fn luhn_check_digit(payload: &[u8]) -> u32 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

fn digits_value(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |acc, &d| acc * 10 + u32::from(d - b'0'))
}

impl fmt::Display for ApplicationNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number)
    }
}

crate::domain::text_type!(ApplicationNo, ApplicationNoError, number);

/// Why an application number is not valid. `Display` is the English message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplicationNoError {
    #[error("Please enter the application number")]
    Empty,
    #[error("The application number has 18 digits; {found} characters were entered")]
    Length { found: usize },
    #[error("Character {position} of the application number is not a digit")]
    InvalidCharacter { position: usize },
    #[error("The application number is mistyped (its check digit does not match)")]
    Checksum,
    #[error("The date in the application number (first 8 digits) is not a valid acceptance date")]
    Date,
    #[error("The site code of the application number must be between 0000 and 9999")]
    SiteCode,
    #[error("The daily sequence of the application number must be between 00001 and 99999")]
    Sequence,
}

impl UserMessage for ApplicationNoError {
    fn code(&self) -> &'static str {
        match self {
            ApplicationNoError::Empty => "application_no.empty",
            ApplicationNoError::Length { .. } => "application_no.length",
            ApplicationNoError::InvalidCharacter { .. } => "application_no.invalid_character",
            ApplicationNoError::Checksum => "application_no.checksum",
            ApplicationNoError::Date => "application_no.date",
            ApplicationNoError::SiteCode => "application_no.site_code",
            ApplicationNoError::Sequence => "application_no.sequence",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::ZhCn => match self {
                ApplicationNoError::Empty => "请填写受理编号".to_owned(),
                ApplicationNoError::Length { found } => {
                    format!("受理编号应为18位数字，当前输入了{found}位")
                }
                ApplicationNoError::InvalidCharacter { position } => {
                    format!("受理编号第{position}位不是数字")
                }
                ApplicationNoError::Checksum => {
                    "受理编号有误（校验位不符），请核对后重新输入".to_owned()
                }
                ApplicationNoError::Date => {
                    "受理编号中的日期（前8位）不是有效的受理日期".to_owned()
                }
                ApplicationNoError::SiteCode => "受理编号的受理点代码应在0000至9999之间".to_owned(),
                ApplicationNoError::Sequence => "受理编号的当日序号应在00001至99999之间".to_owned(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn builds_and_parses() {
        let no = ApplicationNo::new(date(2026, 3, 9), 4403, 127).unwrap();
        // Payload 20260309 4403 00127; Luhn by hand: reversed 7,2,1,0,0,3,0,4,4,9,0,3,0,6,2,0,2,
        // doubled at even indexes 5+2+0+0+8+0+0+4+4 = 23, the others 27, total 50: check 0.
        assert_eq!(no.as_str(), "202603094403001270");
        assert_eq!(no.to_string(), "202603094403001270");
        let back = ApplicationNo::parse(" 202603094403001270 ").unwrap();
        assert_eq!(back, no);
        assert_eq!(back.date(), date(2026, 3, 9));
        assert_eq!(back.site_code(), 4403);
        assert_eq!(back.sequence(), 127);
        assert_eq!(
            "２０２６０３０９４４０３００１２７０".parse::<ApplicationNo>(),
            Ok(no)
        );
    }

    #[test]
    fn new_refuses_out_of_range_parts() {
        let d = date(2026, 3, 9);
        assert_eq!(
            ApplicationNo::new(d, 10_000, 1),
            Err(ApplicationNoError::SiteCode)
        );
        assert_eq!(
            ApplicationNo::new(d, 1, 0),
            Err(ApplicationNoError::Sequence)
        );
        assert_eq!(
            ApplicationNo::new(d, 1, 100_000),
            Err(ApplicationNoError::Sequence)
        );
        assert_eq!(
            ApplicationNo::new(date(1999, 12, 31), 1, 1),
            Err(ApplicationNoError::Date)
        );
        assert!(ApplicationNo::new(d, 0, 99_999).is_ok());
        assert!(ApplicationNo::new(date(9999, 12, 31), 9999, 99_999).is_ok());
    }

    /// Appends the Luhn digit to a 17-digit payload.
    fn with_check(payload: &str) -> String {
        format!("{payload}{}", luhn_check_digit(payload.as_bytes()))
    }

    #[test]
    fn parse_refuses_bad_input() {
        assert_eq!(ApplicationNo::parse(""), Err(ApplicationNoError::Empty));
        assert_eq!(
            ApplicationNo::parse("20260309440300127"),
            Err(ApplicationNoError::Length { found: 17 })
        );
        assert_eq!(
            ApplicationNo::parse("2026030944030012700"),
            Err(ApplicationNoError::Length { found: 19 })
        );
        assert_eq!(
            ApplicationNo::parse("2026-0309440300127"),
            Err(ApplicationNoError::InvalidCharacter { position: 5 })
        );
        assert_eq!(
            ApplicationNo::parse("202603094403001271"),
            Err(ApplicationNoError::Checksum)
        );
        assert_eq!(
            ApplicationNo::parse(&with_check("20260230440300127")),
            Err(ApplicationNoError::Date)
        );
        assert_eq!(
            ApplicationNo::parse(&with_check("19991231440300127")),
            Err(ApplicationNoError::Date)
        );
        assert_eq!(
            ApplicationNo::parse(&with_check("20260309440300000")),
            Err(ApplicationNoError::Sequence)
        );
    }

    #[test]
    fn serde_as_string() {
        let no = ApplicationNo::new(date(2026, 3, 9), 4403, 127).unwrap();
        let json = serde_json::to_string(&no).unwrap();
        assert_eq!(json, "\"202603094403001270\"");
        assert_eq!(serde_json::from_str::<ApplicationNo>(&json).unwrap(), no);
        assert!(serde_json::from_str::<ApplicationNo>("\"202603094403001279\"").is_err());
    }

    #[test]
    fn every_error_has_both_languages() {
        let all = [
            ApplicationNoError::Empty,
            ApplicationNoError::Length { found: 3 },
            ApplicationNoError::InvalidCharacter { position: 2 },
            ApplicationNoError::Checksum,
            ApplicationNoError::Date,
            ApplicationNoError::SiteCode,
            ApplicationNoError::Sequence,
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

    fn parts() -> impl Strategy<Value = (Date, u16, u32)> {
        let start = date(2000, 1, 1);
        (0i64..=365 * 100, 0u16..=9999, 1u32..=99_999).prop_map(move |(days, site, seq)| {
            let d = start
                .checked_add(jiff::Span::new().days(days))
                .expect("in range");
            (d, site, seq)
        })
    }

    proptest! {
        #[test]
        fn round_trip((d, site, seq) in parts()) {
            let no = ApplicationNo::new(d, site, seq).unwrap();
            prop_assert_eq!(no.as_str().len(), 18);
            let back = ApplicationNo::parse(no.as_str()).unwrap();
            prop_assert_eq!(back.date(), d);
            prop_assert_eq!(back.site_code(), site);
            prop_assert_eq!(back.sequence(), seq);
            prop_assert_eq!(&back, &no);
        }

        #[test]
        fn single_digit_change_is_detected(
            (d, site, seq) in parts(),
            position in 0usize..18,
            delta in 1u8..10,
        ) {
            let no = ApplicationNo::new(d, site, seq).unwrap();
            let mut bytes = no.as_str().as_bytes().to_vec();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(ApplicationNo::parse(&changed).is_err(), "{} parsed", changed);
        }
    }
}
