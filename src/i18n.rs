//! Languages the system speaks, the trait every user-facing error implements, and the UI text table.
//!
//! zh-CN is the default and English the second language everywhere (R1). UI strings live in
//! `locales/ui.toml`, one entry per key with both languages side by side, so a missing
//! translation is visible in review and caught by a test.

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub enum Lang {
    #[default]
    #[serde(rename = "zh", alias = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl TryFrom<String> for Lang {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Lang::from_code(&s).ok_or_else(|| format!("language {s}"))
    }
}

/// An error or notice a citizen or officer reads: a stable code and a message in their language.
pub trait UserMessage {
    /// Stable machine-readable code, e.g. `id_number.checksum`.
    fn code(&self) -> &'static str;
    /// The message in the given language.
    fn message(&self, lang: Lang) -> String;
    /// The HTTP status the refusal answers with, wherever it is raised (the one error → HTTP
    /// mapping, issue 13 item 3): 422 — understood but refused — unless the error says
    /// otherwise (404 for what does not exist, 403 for another site's, 409 for a state that
    /// changed under the caller).
    fn status(&self) -> axum::http::StatusCode {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// A value a person chose or typed that is none of the allowed ones (a payment method, a
/// category, a count, a site): refused in words, never replaced by a default (issue 12 item 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field_en}: “{value}” is not a valid value")]
pub struct BadValue {
    pub field_zh: &'static str,
    pub field_en: &'static str,
    pub value: String,
}

impl BadValue {
    /// `value` as typed, cut to 40 characters for the message.
    pub fn new(field_zh: &'static str, field_en: &'static str, value: &str) -> BadValue {
        BadValue {
            field_zh,
            field_en,
            value: value.trim().chars().take(40).collect(),
        }
    }
}

impl UserMessage for BadValue {
    fn code(&self) -> &'static str {
        "input.bad_value"
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::ZhCn => format!(
                "「{}」的值“{}”无效，请重新选择或填写。",
                self.field_zh, self.value
            ),
            Lang::En => format!(
                "{}: “{}” is not a valid value; choose or enter it again.",
                self.field_en, self.value
            ),
        }
    }
}

impl Lang {
    /// The BCP 47 tag used in `<html lang>` and `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Parses a short code as used in `?lang=` and the `lang` cookie.
    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh_cn" | "zh-hans" => Some(Lang::ZhCn),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the first supported language of an `Accept-Language` header, in the client's order.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut ranked: Vec<(f32, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim().to_ascii_lowercase();
                let q = pieces
                    .find_map(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|v| v.parse::<f32>().ok())
                    })
                    .unwrap_or(1.0);
                let lang = if tag.starts_with("zh") {
                    Lang::ZhCn
                } else if tag.starts_with("en") {
                    Lang::En
                } else {
                    return None;
                };
                Some((q, i, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.first().map(|r| r.2)
    }

    /// The other language, for the language switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh",
            Lang::En => "en",
        }
    }

    /// Chooses between a Chinese and an English text.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::ZhCn => zh,
            Lang::En => en,
        }
    }
}

#[derive(serde::Deserialize)]
struct Entry {
    zh: String,
    en: String,
}

static UI_TEXT: LazyLock<HashMap<String, Entry>> = LazyLock::new(|| {
    // The file is compiled in; a syntax error is caught by `ui_text_parses` below.
    toml::from_str(include_str!("../locales/ui.toml")).unwrap_or_default()
});

/// Looks up a UI string. An unknown key returns the key itself, so a gap is visible on the
/// page rather than silent; `tests` check that every key used in templates exists.
pub fn t(lang: Lang, key: &str) -> &str {
    match UI_TEXT.get(key) {
        Some(e) => match lang {
            Lang::ZhCn => &e.zh,
            Lang::En => &e.en,
        },
        None => key,
    }
}

/// Every key in the UI text table (for tests).
pub fn keys() -> impl Iterator<Item = &'static str> {
    UI_TEXT.keys().map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_text_parses_and_every_entry_has_both_languages() {
        let parsed: HashMap<String, Entry> =
            toml::from_str(include_str!("../locales/ui.toml")).expect("locales/ui.toml parses");
        assert!(parsed.len() > 20);
        for (k, e) in &parsed {
            assert!(!e.zh.trim().is_empty(), "{k} has no zh text");
            assert!(!e.en.trim().is_empty(), "{k} has no en text");
        }
    }

    /// Every key a template (`.t("key")`) or Rust code (`t(lang, "key")`) asks for exists in
    /// `locales/ui.toml`: an unknown key would show the key itself on the page.
    #[test]
    fn every_key_used_exists_in_the_text_table() {
        let used =
            regex::Regex::new(r#"(?:\.t|\bt\([a-z_.]+,)\s*\(?\s*"([a-z0-9_]+\.[a-z0-9_.]+)""#)
                .expect("pattern");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("templates"), root.join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir)
                .expect("readable source tree")
                .flatten()
            {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "html" || e == "rs") {
                    files.push(path);
                }
            }
        }
        let known: std::collections::HashSet<&str> = keys().collect();
        let mut seen = 0;
        let mut missing = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path).expect("readable file");
            for c in used.captures_iter(&text) {
                seen += 1;
                if !known.contains(&c[1]) {
                    missing.push(format!("{}: {}", path.display(), &c[1]));
                }
            }
        }
        assert!(
            seen > 50,
            "the scan found only {seen} uses: is the pattern right?"
        );
        assert!(
            missing.is_empty(),
            "keys missing from locales/ui.toml: {missing:#?}"
        );
    }

    #[test]
    fn accept_language_respects_quality() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr, zh-CN;q=0.5, en;q=0.4"),
            Some(Lang::ZhCn)
        );
        assert_eq!(Lang::from_accept_language("de"), None);
    }
}
