//! Identifiers as the JSON API takes them: each in its one canonical written form, with the
//! pattern the OpenAPI document shows and the server checks being the same regular expression.
//!
//! Why strict here and lenient on the pages (decision in docs/API.md, issue 12): a person typing
//! on a phone or kiosk page may use full-width digits, a lower-case `x` or spaces, and the pages
//! normalise that (domain §7.1). A program calling the JSON API sends what it stored, so the API
//! documents one form per identifier and refuses the rest with a 400 naming the field — the
//! document then tells an integrator (or a fuzzer) exactly what is accepted. Passing the pattern
//! is necessary, not sufficient: check digits, calendars and existence are checked after it.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

macro_rules! canonical_field {
    ($(#[$doc:meta])* $name:ident, pattern = $pattern:literal, example = $example:literal,
     refusal = $refusal:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The pattern the document shows and [`Self::accepts`] applies.
            pub const PATTERN: &'static str = $pattern;

            /// Whether `text` is in the canonical form.
            pub fn accepts(text: &str) -> bool {
                static FORM: LazyLock<Regex> = LazyLock::new(|| {
                    // A literal checked by `patterns_compile` in the tests below.
                    Regex::new($pattern).unwrap_or_else(|e| panic!("pattern {}: {e}", $pattern))
                });
                FORM.is_match(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// For a use-case input that forms fill leniently and the JSON API strictly:
            /// `#[serde(deserialize_with = "…::deserialize_string")]` with
            /// `#[schema(value_type = …)]` on a `String` field.
            pub fn deserialize_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
                $name::deserialize(d).map(|v| v.0)
            }

            /// [`Self::deserialize_string`] for an optional field (with `#[serde(default)]`).
            pub fn deserialize_opt_string<'de, D: Deserializer<'de>>(
                d: D,
            ) -> Result<Option<String>, D::Error> {
                Option::<$name>::deserialize(d).map(|v| v.map(|v| v.0))
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                if $name::accepts(&text) {
                    Ok($name(text))
                } else {
                    Err(serde::de::Error::custom($refusal))
                }
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some($pattern))
                    .examples([serde_json::Value::from($example)])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

canonical_field!(
    /// A mainland resident ID number: 17 digits and a check digit `0`–`9` or capital `X`
    /// (GB 11643-1999; domain §7.1). The check digit and the date are checked after the form.
    IdNumberText,
    pattern = "^[0-9]{17}[0-9X]$",
    example = "11010519491231002X",
    refusal = "ID number: 18 ASCII characters, digits with a capital X as the only letter (身份号码应为18位半角字符，末位可为大写X)"
);

canonical_field!(
    /// A phone number as the hall stores it: an 11-digit mobile number, or a fixed line with
    /// its area code and a dash (`0755-12345678`; domain §7.3).
    PhoneText,
    pattern = "^(1[3-9][0-9]{9}|0[1-9][0-9]{1,2}-[1-9][0-9]{6,7})$",
    example = "13800138000",
    refusal = "phone: an 11-digit mobile number or a fixed line such as 0755-12345678 (手机号为11位数字；固定电话如0755-12345678)"
);

canonical_field!(
    /// An application number: 18 digits, date, site, sequence and a Luhn check digit
    /// (domain §8).
    ApplicationNoText,
    pattern = "^[0-9]{18}$",
    example = "202612010001000010",
    refusal = "application number: 18 ASCII digits (申请编号应为18位半角数字)"
);

canonical_field!(
    /// A site code: four digits.
    SiteCodeText,
    pattern = "^[0-9]{4}$",
    example = "0001",
    refusal = "site code: 4 ASCII digits (站点代码应为4位半角数字)"
);

canonical_field!(
    /// A booking code: eight characters from an alphabet without 0, 1, I and O (so that it can
    /// be read aloud and typed from a text message without confusion).
    BookingCodeText,
    pattern = "^[2-9A-HJ-NP-Z]{8}$",
    example = "K7M2Q9TX",
    refusal = "booking code: 8 characters, digits 2–9 and capital letters except I and O (预约码为8位，由数字2–9和除I、O外的大写字母组成)"
);

canonical_field!(
    /// A complaint number: `TS`, the date received and a four-digit sequence of the day.
    ComplaintNoText,
    pattern = "^TS[0-9]{12}$",
    example = "TS202603060001",
    refusal = "complaint number: TS and 12 digits (投诉编号为TS加12位数字)"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::application_no::ApplicationNo;
    use crate::domain::id_number::IdNumber;
    use crate::domain::phone::PhoneNumber;
    use proptest::prelude::*;

    #[test]
    fn patterns_compile_and_examples_pass() {
        assert!(IdNumberText::accepts("11010519491231002X"));
        assert!(PhoneText::accepts("13800138000"));
        assert!(PhoneText::accepts("0755-12345678"));
        assert!(PhoneText::accepts("010-12345678"));
        assert!(ApplicationNoText::accepts("202612010001000010"));
        assert!(SiteCodeText::accepts("0001"));
        assert!(BookingCodeText::accepts("K7M2Q9TX"));
    }

    #[test]
    fn non_canonical_forms_are_refused() {
        for id in [
            "11010519491231002x",
            "１１０１０５１９４９１２３１００２X",
            " 11010519491231002X",
            "11010519491231002X\n",
            "110105491231002",
        ] {
            assert!(!IdNumberText::accepts(id), "{id:?}");
        }
        for phone in [
            "138 0013 8000",
            "+8613800138000",
            "075512345678",
            "(0755)12345678",
        ] {
            assert!(!PhoneText::accepts(phone), "{phone:?}");
        }
        for code in ["k7m2q9tx", "K7M2Q9T0", "K7M2Q9TXX", "K7M2Q9TI"] {
            assert!(!BookingCodeText::accepts(code), "{code:?}");
        }
        assert!(!SiteCodeText::accepts("１"));
        let refused: Result<IdNumberText, _> = serde_json::from_str("\"11010519491231002x\"");
        assert!(refused.is_err_and(|e| e.to_string().contains("ID number")));
    }

    #[test]
    fn the_canonical_forms_of_the_domain_types_pass() {
        let id = IdNumber::parse("11010519491231002x").expect("valid");
        assert!(IdNumberText::accepts(id.as_str()));
        for raw in [
            "138 0013 8000",
            "+86 755 1234 5678",
            "(010) 1234-5678",
            "020-87654321",
        ] {
            let phone = PhoneNumber::parse(raw).expect("valid");
            assert!(
                PhoneText::accepts(phone.as_str()),
                "{raw} → {}",
                phone.as_str()
            );
        }
    }

    proptest! {
        /// Every number the hall issues is in the form its API takes.
        #[test]
        fn issued_application_numbers_pass(day in 0i64..3650, site in 1u16..=9999, seq in 1u32..=99_999) {
            let date = jiff::civil::date(2025, 1, 1).checked_add(jiff::Span::new().days(day)).expect("in range");
            let no = ApplicationNo::new(date, site, seq).expect("in range");
            prop_assert!(ApplicationNoText::accepts(no.as_str()));
        }

        /// Every ID number the domain type takes has a canonical form the API takes.
        #[test]
        fn valid_id_numbers_pass(first17 in "[1-6][1-5]0[1-9]0[1-9](19[5-9][0-9]|200[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}") {
            let check = IdNumber::check_digit_for(&first17).expect("17 digits");
            if let Ok(id) = IdNumber::parse(&format!("{first17}{check}")) {
                prop_assert!(IdNumberText::accepts(id.as_str()));
            }
        }
    }
}
