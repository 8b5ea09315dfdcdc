//! Amounts of renminbi as integer fen (分, 1 yuan = 100 fen). Never floating point.
//!
//! Used for the fees of domain §3 (e.g. passport 120 yuan). An amount is never negative: a fee,
//! a payment or a refund is a non-negative amount, and its direction belongs to the record that
//! holds it.

use std::fmt;
use std::iter::Sum;
use std::str::FromStr;

use super::masking::normalize_width;
use crate::i18n::{Lang, UserMessage};

/// A non-negative amount of renminbi in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    /// An amount in fen; refuses negative amounts.
    pub const fn from_fen(fen: i64) -> Result<Money, MoneyError> {
        if fen < 0 {
            Err(MoneyError::Negative)
        } else {
            Ok(Money(fen))
        }
    }

    /// An amount in whole yuan; refuses negative amounts and overflow.
    pub const fn from_yuan(yuan: i64) -> Result<Money, MoneyError> {
        if yuan < 0 {
            return Err(MoneyError::Negative);
        }
        match yuan.checked_mul(100) {
            Some(fen) => Ok(Money(fen)),
            None => Err(MoneyError::Overflow),
        }
    }

    /// Parses `120`, `120.5`, `120.50`, `¥120.50`, `￥120.50`, `120元`, with surrounding
    /// whitespace and full-width digits allowed. Refuses more than two decimals, negative
    /// amounts, thousands separators, exponents and amounts beyond `i64::MAX` fen.
    pub fn parse(input: &str) -> Result<Money, MoneyError> {
        let normalized = normalize_width(input);
        let mut s = normalized.as_str();
        // `¥` U+00A5 and the full-width `￥` U+FFE5 (not in the range `normalize_width` maps).
        if let Some(rest) = s.strip_prefix(['¥', '￥']) {
            s = rest.trim_start();
        }
        if let Some(rest) = s.strip_suffix('元') {
            s = rest.trim_end();
        }
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        if s.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (whole, fraction) = match s.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (s, None),
        };
        let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return Err(MoneyError::Format);
        }
        let fraction = fraction.unwrap_or("");
        if fraction.len() > 2 {
            return Err(MoneyError::TooManyDecimals);
        }
        let mut fen: i64 = 0;
        for b in whole.bytes() {
            fen = fen
                .checked_mul(10)
                .and_then(|f| f.checked_add(i64::from(b - b'0')))
                .ok_or(MoneyError::Overflow)?;
        }
        fen = fen.checked_mul(100).ok_or(MoneyError::Overflow)?;
        let cents = match fraction.as_bytes() {
            [] => 0,
            [d] => i64::from(d - b'0') * 10,
            [d1, d2] => i64::from(d1 - b'0') * 10 + i64::from(d2 - b'0'),
            _ => return Err(MoneyError::TooManyDecimals),
        };
        fen = fen.checked_add(cents).ok_or(MoneyError::Overflow)?;
        Ok(Money(fen))
    }

    /// The amount in fen (never negative).
    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Sum of two amounts, or [`MoneyError::Overflow`].
    pub const fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        match self.0.checked_add(other.0) {
            Some(fen) => Ok(Money(fen)),
            None => Err(MoneyError::Overflow),
        }
    }

    /// Difference, or [`MoneyError::Negative`] if `other` is larger (e.g. change due).
    pub const fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        // Both are non-negative, so the subtraction cannot overflow.
        if other.0 > self.0 {
            Err(MoneyError::Negative)
        } else {
            Ok(Money(self.0 - other.0))
        }
    }

    /// The amount times a count (e.g. several endorsements), or [`MoneyError::Overflow`].
    pub const fn checked_mul(self, count: u32) -> Result<Money, MoneyError> {
        match self.0.checked_mul(count as i64) {
            Some(fen) => Ok(Money(fen)),
            None => Err(MoneyError::Overflow),
        }
    }

    /// Sum of all amounts, or [`MoneyError::Overflow`]. Same as
    /// `iter.sum::<Result<Money, MoneyError>>()`.
    pub fn checked_sum<I: IntoIterator<Item = Money>>(amounts: I) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::ZERO, |acc, m| acc.checked_add(m))
    }

    /// `120.00`: yuan with exactly two decimals, no symbol.
    pub fn display_yuan(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl fmt::Display for Money {
    /// `¥120.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse(s)
    }
}

/// `amounts.into_iter().sum::<Result<Money, MoneyError>>()`, stops at the first overflow.
impl Sum<Money> for Result<Money, MoneyError> {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Self {
        Money::checked_sum(iter)
    }
}

impl<'a> Sum<&'a Money> for Result<Money, MoneyError> {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Self {
        Money::checked_sum(iter.copied())
    }
}

impl serde::Serialize for Money {
    /// As an integer number of fen.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    /// From an integer number of fen; negative amounts are refused.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fen = i64::deserialize(deserializer)?;
        Money::from_fen(fen).map_err(serde::de::Error::custom)
    }
}

/// Why an amount is not valid. `Display` is the English message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Please enter an amount")]
    Empty,
    #[error("The amount cannot be negative")]
    Negative,
    #[error("The amount is not a number of yuan such as 120 or 120.50")]
    Format,
    #[error("The amount can have at most two decimal places (fen)")]
    TooManyDecimals,
    #[error("The amount is too large")]
    Overflow,
}

impl UserMessage for MoneyError {
    fn code(&self) -> &'static str {
        match self {
            MoneyError::Empty => "money.empty",
            MoneyError::Negative => "money.negative",
            MoneyError::Format => "money.format",
            MoneyError::TooManyDecimals => "money.too_many_decimals",
            MoneyError::Overflow => "money.overflow",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::ZhCn => match self {
                MoneyError::Empty => "请填写金额",
                MoneyError::Negative => "金额不能为负数",
                MoneyError::Format => "金额格式不正确，应为以元为单位的数字，如120或120.50",
                MoneyError::TooManyDecimals => "金额最多保留两位小数（精确到分）",
                MoneyError::Overflow => "金额过大",
            }
            .to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_yuan_amounts() {
        assert_eq!(Money::parse("120").map(Money::fen), Ok(12_000));
        assert_eq!(Money::parse("120.5").map(Money::fen), Ok(12_050));
        assert_eq!(Money::parse("120.50").map(Money::fen), Ok(12_050));
        assert_eq!(Money::parse("¥120.50").map(Money::fen), Ok(12_050));
        assert_eq!(Money::parse("￥ 120.05").map(Money::fen), Ok(12_005));
        assert_eq!(Money::parse(" １２０元 ").map(Money::fen), Ok(12_000));
        assert_eq!(Money::parse("0").map(Money::fen), Ok(0));
        assert_eq!(Money::parse("0.01").map(Money::fen), Ok(1));
        assert_eq!(Money::parse("007").map(Money::fen), Ok(700));
    }

    #[test]
    fn refuses_bad_amounts() {
        assert_eq!(Money::parse(""), Err(MoneyError::Empty));
        assert_eq!(Money::parse("¥"), Err(MoneyError::Empty));
        assert_eq!(Money::parse("120.505"), Err(MoneyError::TooManyDecimals));
        assert_eq!(Money::parse("-1"), Err(MoneyError::Negative));
        assert_eq!(Money::parse("¥-1.00"), Err(MoneyError::Negative));
        for bad in [
            "abc", "1,200", "1.2.3", ".5", "5.", "+5", "1e3", "12 0", "NaN",
        ] {
            assert_eq!(Money::parse(bad), Err(MoneyError::Format), "{bad}");
        }
        // i64::MAX fen = 92233720368547758.07 yuan.
        assert_eq!(
            Money::parse("92233720368547758.07").map(Money::fen),
            Ok(i64::MAX)
        );
        assert_eq!(
            Money::parse("92233720368547758.08"),
            Err(MoneyError::Overflow)
        );
        assert_eq!(Money::parse("92233720368547759"), Err(MoneyError::Overflow));
        assert_eq!(
            Money::parse("99999999999999999999999"),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn constructors() {
        assert_eq!(Money::from_fen(12_000), Money::from_yuan(120));
        assert_eq!(Money::from_fen(-1), Err(MoneyError::Negative));
        assert_eq!(Money::from_yuan(-1), Err(MoneyError::Negative));
        assert_eq!(Money::from_yuan(i64::MAX), Err(MoneyError::Overflow));
        assert_eq!(Money::default(), Money::ZERO);
    }

    #[test]
    fn arithmetic_is_checked() {
        let fee = Money::from_yuan(120).unwrap();
        let endorsement = Money::from_yuan(15).unwrap();
        assert_eq!(fee.checked_add(endorsement), Money::from_fen(13_500));
        assert_eq!(endorsement.checked_mul(2), Money::from_yuan(30));
        assert_eq!(fee.checked_sub(endorsement), Money::from_yuan(105));
        assert_eq!(endorsement.checked_sub(fee), Err(MoneyError::Negative));
        let max = Money::from_fen(i64::MAX).unwrap();
        assert_eq!(
            max.checked_add(Money::from_fen(1).unwrap()),
            Err(MoneyError::Overflow)
        );
        assert_eq!(max.checked_mul(2), Err(MoneyError::Overflow));

        let fees = [fee, endorsement, endorsement];
        assert_eq!(
            fees.iter().sum::<Result<Money, MoneyError>>(),
            Money::from_yuan(150)
        );
        assert_eq!(
            fees.into_iter().sum::<Result<Money, MoneyError>>(),
            Money::from_yuan(150)
        );
        assert_eq!(Money::checked_sum(fees), Money::from_yuan(150));
        assert_eq!(Money::checked_sum([]), Ok(Money::ZERO));
        assert_eq!(Money::checked_sum([max, fee]), Err(MoneyError::Overflow));
    }

    #[test]
    fn display() {
        let m = Money::parse("120").unwrap();
        assert_eq!(m.to_string(), "¥120.00");
        assert_eq!(m.display_yuan(), "120.00");
        assert_eq!(Money::from_fen(5).unwrap().to_string(), "¥0.05");
        assert_eq!(Money::from_fen(12_050).unwrap().display_yuan(), "120.50");
    }

    #[test]
    fn serde_as_integer_fen() {
        let m = Money::from_yuan(120).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "12000");
        assert_eq!(
            serde_json::from_str::<Money>("12050").unwrap().fen(),
            12_050
        );
        assert!(serde_json::from_str::<Money>("-1").is_err());
        assert!(serde_json::from_str::<Money>("1.5").is_err());
    }

    #[test]
    fn every_error_has_both_languages() {
        let all = [
            MoneyError::Empty,
            MoneyError::Negative,
            MoneyError::Format,
            MoneyError::TooManyDecimals,
            MoneyError::Overflow,
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

    proptest! {
        #[test]
        fn display_parse_round_trip(fen in 0i64..=i64::MAX) {
            let m = Money::from_fen(fen).unwrap();
            prop_assert_eq!(Money::parse(&m.to_string()), Ok(m));
            prop_assert_eq!(Money::parse(&m.display_yuan()), Ok(m));
            prop_assert_eq!(m.to_string(), format!("¥{}", m.display_yuan()));
        }
    }
}
