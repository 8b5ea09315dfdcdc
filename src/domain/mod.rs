//! Pure domain rules, no I/O: identity and document numbers, money, application numbers, the
//! working-day calendar, site opening hours, masking.

pub mod application_no;
pub mod calendar;
pub mod document_number;
pub mod id_number;
pub mod masking;
pub mod money;
pub mod opening;
pub mod phone;
pub mod statutory;

/// The string form every validated text type shares: `FromStr` runs `parse`, serde writes the
/// canonical text and reads it back through `parse`, so a stored or received value is as
/// valid as a typed one.
macro_rules! text_type {
    ($t:ident, $err:ty, $field:ident) => {
        impl std::str::FromStr for $t {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $t::parse(s)
            }
        }

        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.$field)
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                $t::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use text_type;
