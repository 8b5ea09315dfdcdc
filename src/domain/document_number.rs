//! Numbers of the travel documents the hall issues: ordinary passport, 往来港澳通行证 (EEP to
//! Hong Kong and Macao) and 往来台湾通行证 (EEP to Taiwan).
//!
//! Formats from domain §7.3 (the regexes there are implemented by hand). No public check-digit
//! algorithm exists for these numbers (domain §7.3), so only the shape is checked.

use std::fmt;

use super::masking::{mask_middle, normalize_width};
use crate::i18n::{Lang, UserMessage};

/// Which document a number belongs to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum DocumentKind {
    /// 普通护照.
    Passport,
    /// 往来港澳通行证.
    HkMacaoPermit,
    /// 往来台湾通行证.
    TaiwanPermit,
}

impl DocumentKind {
    /// The document's name in the given language.
    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (DocumentKind::Passport, Lang::ZhCn) => "护照",
            (DocumentKind::Passport, Lang::En) => "passport",
            (DocumentKind::HkMacaoPermit, Lang::ZhCn) => "往来港澳通行证",
            (DocumentKind::HkMacaoPermit, Lang::En) => {
                "Exit-Entry Permit for Travelling to and from Hong Kong and Macao"
            }
            (DocumentKind::TaiwanPermit, Lang::ZhCn) => "往来台湾通行证",
            (DocumentKind::TaiwanPermit, Lang::En) => {
                "Exit-Entry Permit for Travelling to and from Taiwan"
            }
        }
    }

    /// The accepted formats, for error messages.
    fn format_hint(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (DocumentKind::Passport, Lang::ZhCn) => {
                "E加8位数字，或E加1个字母（不含I、O）再加7位数字；旧版为G加8位数字"
            }
            (DocumentKind::Passport, Lang::En) => {
                "E followed by 8 digits, or E, one letter (not I or O) and 7 digits; old passports: G and 8 digits"
            }
            (DocumentKind::HkMacaoPermit, Lang::ZhCn) => {
                "C加8位数字，或C加1个字母（不含I、O）再加7位数字；旧版本式证件为W加8位数字"
            }
            (DocumentKind::HkMacaoPermit, Lang::En) => {
                "C followed by 8 digits, or C, one letter (not I or O) and 7 digits; old booklets: W and 8 digits"
            }
            (DocumentKind::TaiwanPermit, Lang::ZhCn) => "L加8位数字；旧版本式证件为T加8位数字",
            (DocumentKind::TaiwanPermit, Lang::En) => {
                "L followed by 8 digits; old booklets: T and 8 digits"
            }
        }
    }
}

/// A document number of a known kind, upper-case ASCII, valid for its kind.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "RawDocumentNumber", into = "RawDocumentNumber")]
pub struct DocumentNumber {
    kind: DocumentKind,
    number: String,
    legacy: bool,
}

/// Serde form: `{"kind": "Passport", "number": "E12345678"}`.
#[derive(serde::Serialize, serde::Deserialize)]
struct RawDocumentNumber {
    kind: DocumentKind,
    number: String,
}

impl TryFrom<RawDocumentNumber> for DocumentNumber {
    type Error = DocumentNumberError;

    fn try_from(raw: RawDocumentNumber) -> Result<Self, Self::Error> {
        DocumentNumber::parse(raw.kind, &raw.number)
    }
}

impl From<DocumentNumber> for RawDocumentNumber {
    fn from(d: DocumentNumber) -> Self {
        RawDocumentNumber {
            kind: d.kind,
            number: d.number,
        }
    }
}

impl DocumentNumber {
    /// Parses a number of the given kind. Input is trimmed, full-width characters mapped to
    /// ASCII and letters upper-cased (domain §7.3 regexes assume upper-case input).
    ///
    /// * Passport: `^E(\d{8}|[A-HJ-NP-Z]\d{7})$`; legacy `^G\d{8}$` (domain §7.3, all expired
    ///   but still quoted on renewals) is accepted with [`DocumentNumber::is_legacy`].
    /// * HK/Macao permit: `^C(\d{8}|[A-HJ-NP-Z]\d{7})$`; legacy booklet `^W\d{8}$` (domain §7.3
    ///   `^[CW]\d{8}$`) is accepted as legacy. `C` + 8 digits is the current card format and
    ///   is *not* flagged, although an old booklet may have the same shape.
    /// * Taiwan permit: `^L\d{8}$`; legacy booklet `^T\d{8}$` (domain §7.3, tagged "unverified": confirm
    ///   with a sample card).
    pub fn parse(kind: DocumentKind, input: &str) -> Result<DocumentNumber, DocumentNumberError> {
        let number = normalize_width(input).to_ascii_uppercase();
        if number.is_empty() {
            return Err(DocumentNumberError::Empty { kind });
        }
        let chars: Vec<char> = number.chars().collect();
        if chars.len() != 9 {
            return Err(DocumentNumberError::Length {
                kind,
                found: chars.len(),
            });
        }
        let (prefix, second, rest) = (chars[0], chars[1], &chars[2..]);
        let (current, legacy) = match kind {
            DocumentKind::Passport => ('E', 'G'),
            DocumentKind::HkMacaoPermit => ('C', 'W'),
            DocumentKind::TaiwanPermit => ('L', 'T'),
        };
        let letter_allowed = prefix == current && kind != DocumentKind::TaiwanPermit;
        if prefix != current && prefix != legacy {
            return Err(DocumentNumberError::Prefix { kind });
        }
        if !rest.iter().all(char::is_ascii_digit) {
            return Err(DocumentNumberError::Format { kind });
        }
        if !second.is_ascii_digit() {
            // domain §7.3: `[A-HJ-NP-Z]`, letters I and O are not used (confusable with 1, 0).
            if !letter_allowed || !second.is_ascii_uppercase() {
                return Err(DocumentNumberError::Format { kind });
            }
            if second == 'I' || second == 'O' {
                return Err(DocumentNumberError::LetterIOrO { kind });
            }
        }
        Ok(DocumentNumber {
            kind,
            number,
            legacy: prefix == legacy,
        })
    }

    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The full number. Personal data: do not log it (use [`DocumentNumber::masked`]).
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// True for the old formats (`G` passports, `W` HK/Macao booklets, `T` Taiwan booklets),
    /// all of which have expired (domain §7.3): valid as a *previous* document on a renewal, not
    /// as a current travel document.
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }

    /// First 2 + last 3 characters, the middle masked, length kept: `E1****678` (domain §9.3
    /// "first 1–2 + last 3–4"; never on public screens).
    pub fn masked(&self) -> String {
        mask_middle(&self.number, 2, 3)
    }
}

impl fmt::Display for DocumentNumber {
    /// The full number. Personal data: for forms and storage, not for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number)
    }
}

impl fmt::Debug for DocumentNumber {
    /// Masked, so that document numbers never end up in logs in full.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentNumber")
            .field("kind", &self.kind)
            .field("number", &self.masked())
            .field("legacy", &self.legacy)
            .finish()
    }
}

/// Why a text is not a valid document number. `Display` is the English message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentNumberError {
    #[error("Please enter the {} number", .kind.name(Lang::En))]
    Empty { kind: DocumentKind },
    #[error(
        "The {} number must have 9 characters ({}); {found} were entered",
        .kind.name(Lang::En), .kind.format_hint(Lang::En)
    )]
    Length { kind: DocumentKind, found: usize },
    #[error(
        "The {} number starts with the wrong letter ({})",
        .kind.name(Lang::En), .kind.format_hint(Lang::En)
    )]
    Prefix { kind: DocumentKind },
    #[error(
        "The letters I and O are not used in {} numbers: did you mean the digits 1 and 0?",
        .kind.name(Lang::En)
    )]
    LetterIOrO { kind: DocumentKind },
    #[error(
        "The {} number has the wrong format ({})",
        .kind.name(Lang::En), .kind.format_hint(Lang::En)
    )]
    Format { kind: DocumentKind },
}

impl UserMessage for DocumentNumberError {
    fn code(&self) -> &'static str {
        match self {
            DocumentNumberError::Empty { .. } => "document_number.empty",
            DocumentNumberError::Length { .. } => "document_number.length",
            DocumentNumberError::Prefix { .. } => "document_number.prefix",
            DocumentNumberError::LetterIOrO { .. } => "document_number.letter_i_or_o",
            DocumentNumberError::Format { .. } => "document_number.format",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::ZhCn => match self {
                DocumentNumberError::Empty { kind } => {
                    format!("请填写{}号码", kind.name(Lang::ZhCn))
                }
                DocumentNumberError::Length { kind, found } => format!(
                    "{}号码应为9位（{}），当前输入了{found}位",
                    kind.name(Lang::ZhCn),
                    kind.format_hint(Lang::ZhCn)
                ),
                DocumentNumberError::Prefix { kind } => format!(
                    "{}号码的首字母不正确（{}）",
                    kind.name(Lang::ZhCn),
                    kind.format_hint(Lang::ZhCn)
                ),
                DocumentNumberError::LetterIOrO { kind } => format!(
                    "{}号码中不使用字母I和O，请确认是否为数字1和0",
                    kind.name(Lang::ZhCn)
                ),
                DocumentNumberError::Format { kind } => format!(
                    "{}号码格式不正确（{}）",
                    kind.name(Lang::ZhCn),
                    kind.format_hint(Lang::ZhCn)
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DocumentKind::{HkMacaoPermit, Passport, TaiwanPermit};

    fn ok(kind: DocumentKind, s: &str) -> DocumentNumber {
        DocumentNumber::parse(kind, s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn passports() {
        let p = ok(Passport, "E12345678");
        assert_eq!(p.as_str(), "E12345678");
        assert!(!p.is_legacy());
        assert_eq!(p.kind(), Passport);
        assert_eq!(ok(Passport, "EA1234567").as_str(), "EA1234567");
        assert_eq!(ok(Passport, " ea1234567 ").as_str(), "EA1234567");
        assert_eq!(ok(Passport, "ＥＺ１２３４５６７").as_str(), "EZ1234567");
        assert!(ok(Passport, "G12345678").is_legacy());
        assert_eq!(
            DocumentNumber::parse(Passport, "EI1234567"),
            Err(DocumentNumberError::LetterIOrO { kind: Passport })
        );
        assert_eq!(
            DocumentNumber::parse(Passport, "EO1234567"),
            Err(DocumentNumberError::LetterIOrO { kind: Passport })
        );
        assert_eq!(
            DocumentNumber::parse(Passport, "GA1234567"),
            Err(DocumentNumberError::Format { kind: Passport })
        );
        assert_eq!(
            DocumentNumber::parse(Passport, "C12345678"),
            Err(DocumentNumberError::Prefix { kind: Passport })
        );
        assert_eq!(
            DocumentNumber::parse(Passport, "E1234567"),
            Err(DocumentNumberError::Length {
                kind: Passport,
                found: 8
            })
        );
        assert_eq!(
            DocumentNumber::parse(Passport, "E1234567A"),
            Err(DocumentNumberError::Format { kind: Passport })
        );
        assert_eq!(
            DocumentNumber::parse(Passport, "EAB123456"),
            Err(DocumentNumberError::Format { kind: Passport })
        );
        assert_eq!(
            DocumentNumber::parse(Passport, "E-1234567"),
            Err(DocumentNumberError::Format { kind: Passport })
        );
        assert_eq!(
            DocumentNumber::parse(Passport, "  "),
            Err(DocumentNumberError::Empty { kind: Passport })
        );
        // Other PRC passports (domain §7.3) are not issued by the hall.
        assert!(DocumentNumber::parse(Passport, "DE1234567").is_err());
        assert!(DocumentNumber::parse(Passport, "K12345678").is_err());
    }

    #[test]
    fn hk_macao_permits() {
        assert!(!ok(HkMacaoPermit, "C12345678").is_legacy());
        assert!(!ok(HkMacaoPermit, "CZ1234567").is_legacy());
        assert!(ok(HkMacaoPermit, "W12345678").is_legacy());
        assert_eq!(
            DocumentNumber::parse(HkMacaoPermit, "CI1234567"),
            Err(DocumentNumberError::LetterIOrO {
                kind: HkMacaoPermit
            })
        );
        assert_eq!(
            DocumentNumber::parse(HkMacaoPermit, "E12345678"),
            Err(DocumentNumberError::Prefix {
                kind: HkMacaoPermit
            })
        );
        assert_eq!(
            DocumentNumber::parse(HkMacaoPermit, "WA1234567"),
            Err(DocumentNumberError::Format {
                kind: HkMacaoPermit
            })
        );
    }

    #[test]
    fn taiwan_permits() {
        assert!(!ok(TaiwanPermit, "L12345678").is_legacy());
        assert!(ok(TaiwanPermit, "t12345678").is_legacy());
        assert_eq!(
            DocumentNumber::parse(TaiwanPermit, "LA1234567"),
            Err(DocumentNumberError::Format { kind: TaiwanPermit })
        );
        assert_eq!(
            DocumentNumber::parse(TaiwanPermit, "C12345678"),
            Err(DocumentNumberError::Prefix { kind: TaiwanPermit })
        );
    }

    #[test]
    fn masked_and_debug() {
        let p = ok(Passport, "E12345678");
        assert_eq!(p.masked(), "E1****678");
        assert_eq!(ok(HkMacaoPermit, "CA1234567").masked(), "CA****567");
        let debug = format!("{p:?}");
        assert!(debug.contains("E1****678"), "{debug}");
        assert!(!debug.contains("E12345678"), "{debug}");
        assert_eq!(p.to_string(), "E12345678");
    }

    #[test]
    fn serde_round_trip_validates() {
        let p = ok(Passport, "EA1234567");
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"kind":"Passport","number":"EA1234567"}"#);
        let back: DocumentNumber = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        assert!(
            serde_json::from_str::<DocumentNumber>(r#"{"kind":"Passport","number":"EI1234567"}"#)
                .is_err()
        );
    }

    #[test]
    fn every_error_has_both_languages() {
        let mut codes = std::collections::HashSet::new();
        for kind in [Passport, HkMacaoPermit, TaiwanPermit] {
            let all = [
                DocumentNumberError::Empty { kind },
                DocumentNumberError::Length { kind, found: 3 },
                DocumentNumberError::Prefix { kind },
                DocumentNumberError::LetterIOrO { kind },
                DocumentNumberError::Format { kind },
            ];
            for e in &all {
                let zh = e.message(Lang::ZhCn);
                let en = e.message(Lang::En);
                assert!(!zh.trim().is_empty() && !en.trim().is_empty(), "{e:?}");
                assert_ne!(zh, en, "{e:?}");
                assert!(e.code().starts_with("document_number."));
                codes.insert(e.code());
            }
        }
        assert_eq!(codes.len(), 5);
    }
}
