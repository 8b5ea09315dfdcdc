//! Business lines (业务类别): what a citizen books or takes a ticket for, loaded from
//! `data/lines.toml` and checked against the catalog's items.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Catalog, Text};
use crate::i18n::Lang;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BusinessLine {
    /// Stable code, e.g. `first_issue`.
    pub code: String,
    pub name: Text,
    /// The letter its tickets start with (A012).
    pub ticket_prefix: String,
    /// Whether appointments can be made for it.
    pub bookable: bool,
    /// Catalog items served on this line.
    pub items: Vec<String>,
}

impl BusinessLine {
    pub fn name(&self, lang: impl std::borrow::Borrow<Lang>) -> &str {
        self.name.get(*lang.borrow())
    }
}

/// Default appointment settings for a line at a site until an administrator changes them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SlotDefaults {
    pub slot_minutes: i64,
    pub quota_online: i64,
    pub quota_phone: i64,
    pub quota_onsite: i64,
    pub open_days_ahead: i64,
    /// Local time at which the day `open_days_ahead` ahead opens for booking, `HH:MM`.
    pub open_at: String,
    pub close_minutes_before: i64,
    pub release_delay_seconds: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    line: Vec<BusinessLine>,
    defaults: SlotDefaults,
}

/// The business lines and default slot settings.
#[derive(Debug, Clone)]
pub struct Lines {
    lines: Vec<BusinessLine>,
    pub defaults: SlotDefaults,
}

#[derive(Debug, thiserror::Error)]
pub enum LinesError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0}: {1}")]
    Syntax(String, String),
    #[error("{file}: line `{line}`: {problem}")]
    Invalid {
        file: String,
        line: String,
        problem: String,
    },
}

/// Parses `HH:MM` into minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<i64> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

impl Lines {
    pub fn load(path: &Path, catalog: &Catalog) -> Result<Lines, LinesError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| LinesError::Read(name.clone(), e))?;
        Lines::parse(&name, &text, catalog)
    }

    pub fn parse(file: &str, text: &str, catalog: &Catalog) -> Result<Lines, LinesError> {
        let parsed: File =
            toml::from_str(text).map_err(|e| LinesError::Syntax(file.into(), e.to_string()))?;
        let invalid = |line: &str, problem: String| LinesError::Invalid {
            file: file.into(),
            line: line.into(),
            problem,
        };
        let mut prefixes = Vec::new();
        for (i, l) in parsed.line.iter().enumerate() {
            if parsed.line[..i].iter().any(|o| o.code == l.code) {
                return Err(invalid(&l.code, "duplicate code".into()));
            }
            if l.ticket_prefix.len() != 1
                || !l.ticket_prefix.chars().all(|c| c.is_ascii_uppercase())
            {
                return Err(invalid(
                    &l.code,
                    "ticket_prefix must be one capital letter".into(),
                ));
            }
            if prefixes.contains(&l.ticket_prefix) {
                return Err(invalid(
                    &l.code,
                    format!("ticket prefix {} is used twice", l.ticket_prefix),
                ));
            }
            prefixes.push(l.ticket_prefix.clone());
            if let Some(missing) = l.items.iter().find(|id| catalog.item(id).is_none()) {
                return Err(invalid(
                    &l.code,
                    format!("unknown catalog item `{missing}`"),
                ));
            }
        }
        let d = &parsed.defaults;
        if !(5..=240).contains(&d.slot_minutes)
            || d.quota_online < 0
            || d.quota_phone < 0
            || d.quota_onsite < 0
            || !(1..=90).contains(&d.open_days_ahead)
            || parse_hhmm(&d.open_at).is_none()
            || d.close_minutes_before < 0
            || d.release_delay_seconds < 0
        {
            return Err(invalid("defaults", "a default is out of range".into()));
        }
        Ok(Lines {
            lines: parsed.line,
            defaults: parsed.defaults,
        })
    }

    pub fn all(&self) -> &[BusinessLine] {
        &self.lines
    }

    pub fn bookable(&self) -> impl Iterator<Item = &BusinessLine> {
        self.lines.iter().filter(|l| l.bookable)
    }

    pub fn get(&self, code: &str) -> Option<&BusinessLine> {
        self.lines.iter().find(|l| l.code == code)
    }
}
