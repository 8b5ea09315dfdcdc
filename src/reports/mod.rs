//! Reports (issue 16, R14): management figures per site, line, officer, window and service
//! item for any range of days, compared with the period before, read from per-day aggregates
//! (rollup) so a year of a busy hall renders fast; charts as SVG, tables as CSV and .xlsx.

pub mod charts;
pub mod export;
pub mod read;
pub mod report;
pub mod rollup;
pub mod web;

use std::collections::BTreeMap;

use serde::Serialize;

/// What a figure is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    Site,
    Line,
    Officer,
    Window,
    /// A document type and application category, e.g. `hk_macao_permit.first_issue`.
    Item,
}

impl Dim {
    pub const BREAKDOWNS: [Dim; 4] = [Dim::Line, Dim::Officer, Dim::Window, Dim::Item];

    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Site => "site",
            Dim::Line => "line",
            Dim::Officer => "officer",
            Dim::Window => "window",
            Dim::Item => "item",
        }
    }
}

/// A duration kept as a histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// Ticket issued → first call.
    Wait,
    /// Service started → finished.
    Service,
    /// Arrival (check-in or ticket) → acceptance receipt.
    Journey,
    /// The journey of a first HK/Macao application (the 16-minute headline).
    Headline,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Wait => "wait",
            Measure::Service => "service",
            Measure::Journey => "journey",
            Measure::Headline => "headline",
        }
    }
    pub fn parse(s: &str) -> Option<Measure> {
        [
            Measure::Wait,
            Measure::Service,
            Measure::Journey,
            Measure::Headline,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// Durations longer than this many minutes count as this many (a ticket left overnight).
pub const MINUTES_CAP: i64 = 999;

/// A histogram of durations in whole minutes (a duration of 4 min 59 s counts as minute 4).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Minutes(pub BTreeMap<i64, i64>);

impl Minutes {
    pub fn add_seconds(&mut self, seconds: i64, n: i64) {
        // Clocks of two nodes can disagree by a little; a negative duration is zero.
        let minute = (seconds.max(0) / 60).min(MINUTES_CAP);
        *self.0.entry(minute).or_default() += n;
    }

    pub fn add_minute(&mut self, minute: i64, n: i64) {
        *self.0.entry(minute).or_default() += n;
    }

    pub fn merge(&mut self, other: &Minutes) {
        for (m, n) in &other.0 {
            self.add_minute(*m, *n);
        }
    }

    /// The stored form: `minute:count` pairs, ascending, separated by `;`.
    pub fn encode(&self) -> String {
        self.0
            .iter()
            .map(|(m, n)| format!("{m}:{n}"))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Adds a stored histogram to this one; `None` if the text is not one.
    pub fn merge_encoded(&mut self, text: &str) -> Option<()> {
        for pair in text.split(';').filter(|p| !p.is_empty()) {
            let (m, n) = pair.split_once(':')?;
            self.add_minute(m.parse().ok()?, n.parse().ok()?);
        }
        Some(())
    }

    pub fn count(&self) -> i64 {
        self.0.values().sum()
    }

    /// The `q` quantile by nearest rank (the smallest minute with at least ⌈q·n⌉ durations at
    /// or below it); `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<i64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as i64).clamp(1, n);
        let mut seen = 0;
        for (m, c) in &self.0 {
            seen += c;
            if seen >= rank {
                return Some(*m);
            }
        }
        self.0.keys().next_back().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let mut m = Minutes::default();
        for s in [30, 90, 150, 210, 270, 330, 390, 450, 510, 570] {
            m.add_seconds(s, 1);
        }
        // Minutes 0..=9, one each.
        assert_eq!(m.quantile(0.5), Some(4));
        assert_eq!(m.quantile(0.9), Some(8));
        assert_eq!(m.quantile(1.0), Some(9));
        assert_eq!(Minutes::default().quantile(0.5), None);
        let mut long = Minutes::default();
        long.add_seconds(10 * 24 * 3600, 1);
        long.add_seconds(-5, 1);
        assert_eq!(
            long.0.keys().copied().collect::<Vec<_>>(),
            vec![0, MINUTES_CAP]
        );
        let mut back = Minutes::default();
        assert_eq!(back.merge_encoded(&m.encode()), Some(()));
        assert_eq!(back, m);
        assert_eq!(back.merge_encoded("3:x"), None);
    }
}
