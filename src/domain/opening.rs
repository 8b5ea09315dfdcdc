//! Per-site opening rules (R2): hours on working days, Saturday/Sunday openings, noon service,
//! recurring extended hours, one-off extra openings (e.g. holiday on-call days) and closures.
//!
//! [`OpeningRules`] is stored per site as TOML or JSON text (serde) and checked with
//! [`OpeningRules::validate`] when saved. [`openings_on`] combines it with the
//! [`HolidayCalendar`], in this order of precedence for a date:
//!
//! 1. a **closure** listed for the date: closed, with its reason;
//! 2. an **extra opening** listed for the date: open with exactly its periods (replacing
//!    whatever the day would otherwise have);
//! 3. a **holiday** (domain §8): closed, with the holiday's name, even if it is a Saturday
//!    the site normally opens;
//! 4. a **working day**: open with the working-day periods plus any extended hours for that
//!    weekday. A 调休 Saturday/Sunday is a working day and opens with working-day hours
//!    (kind `AdjustedWorkday`), not with the Saturday/Sunday hours;
//! 5. an ordinary **Saturday/Sunday**: open with that day's periods if any, else closed.
//!
//! Every query needs the date's year in the calendar (even for a listed closure), so a missing
//! year fails loudly with [`CalendarError::YearNotCovered`] instead of guessing.

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::{Date, Time, time};
use serde::{Deserialize, Serialize};

use crate::domain::calendar::{CalendarError, Holiday, HolidayCalendar};
use crate::i18n::{Lang, UserMessage};

/// A span of opening time on one day, `start` inclusive to `end` exclusive.
///
/// Serialised as `{ start = "08:30", end = "12:00" }` (times are strings, seconds optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub start: Time,
    pub end: Time,
}

impl Period {
    /// A period; errors unless `start < end`.
    pub fn new(start: Time, end: Time) -> Result<Self, OpeningRulesError> {
        let period = Period { start, end };
        if start < end {
            Ok(period)
        } else {
            Err(OpeningRulesError::EmptyPeriod {
                field: "period".to_owned(),
                period,
            })
        }
    }

    /// For constants: `Period::hm(8, 30, 12, 0)`. Panics at compile time on an invalid time
    /// when used in a const context; only call it with literal values.
    const fn hm(start_h: i8, start_m: i8, end_h: i8, end_m: i8) -> Self {
        Period {
            start: time(start_h, start_m, 0, 0),
            end: time(end_h, end_m, 0, 0),
        }
    }

    /// Whether `t` falls in the period (`start <= t < end`).
    pub fn contains(&self, t: Time) -> bool {
        self.start <= t && t < self.end
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}–{}",
            self.start.strftime("%H:%M"),
            self.end.strftime("%H:%M")
        )
    }
}

/// A text in Chinese with an optional English version (falls back to Chinese).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalText {
    pub zh: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl LocalText {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        LocalText {
            zh: zh.into(),
            en: Some(en.into()),
        }
    }

    /// The text in `lang`; English falls back to Chinese when missing.
    pub fn get(&self, lang: Lang) -> &str {
        match (lang, &self.en) {
            (Lang::En, Some(en)) if !en.trim().is_empty() => en,
            _ => &self.zh,
        }
    }
}

/// Day of the week, for recurring extended hours (serialised lowercase: `"wednesday"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<jiff::civil::Weekday> for Weekday {
    fn from(w: jiff::civil::Weekday) -> Self {
        use jiff::civil::Weekday as J;
        match w {
            J::Monday => Weekday::Monday,
            J::Tuesday => Weekday::Tuesday,
            J::Wednesday => Weekday::Wednesday,
            J::Thursday => Weekday::Thursday,
            J::Friday => Weekday::Friday,
            J::Saturday => Weekday::Saturday,
            J::Sunday => Weekday::Sunday,
        }
    }
}

/// Extra periods on working days that fall on the given weekdays, e.g. Wednesdays until 19:00
/// (延时服务). Added to [`OpeningRules::working_day`]; not applied to holidays, to ordinary
/// weekend openings, or to extra openings. A 调休 working day uses its real weekday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendedHours {
    pub weekdays: Vec<Weekday>,
    pub periods: Vec<Period>,
}

/// A one-off opening on a date, e.g. an on-call day during a holiday. Replaces the day's hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraOpening {
    pub date: Date,
    pub periods: Vec<Period>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<LocalText>,
}

/// A one-off closure on a date, with the reason shown to the public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub date: Date,
    pub reason: LocalText,
}

/// One site's opening rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningRules {
    /// Hours on working days (Mon–Fri that are not holidays, and 调休 working days). Noon service
    /// (午间不休) is one continuous period, e.g. 08:30–17:30, instead of two.
    pub working_day: Vec<Period>,
    /// Recurring extended hours on working days.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extended_hours: Vec<ExtendedHours>,
    /// Hours on ordinary Saturdays (not holidays, not 调休); empty = closed.
    #[serde(default)]
    pub saturday: Vec<Period>,
    /// Hours on ordinary Sundays; empty = closed.
    #[serde(default)]
    pub sunday: Vec<Period>,
    /// One-off openings (holiday on-call days, special Sundays, longer hours on a date).
    #[serde(default)]
    pub extra_openings: Vec<ExtraOpening>,
    /// One-off closures.
    #[serde(default)]
    pub closures: Vec<Closure>,
}

impl OpeningRules {
    /// Demo hall: working days 08:30–12:00 and 13:30–17:30, Saturdays 09:00–12:00 and
    /// 13:30–17:00, closed on Sundays.
    pub fn default_hall() -> Self {
        OpeningRules {
            working_day: vec![Period::hm(8, 30, 12, 0), Period::hm(13, 30, 17, 30)],
            extended_hours: Vec::new(),
            saturday: vec![Period::hm(9, 0, 12, 0), Period::hm(13, 30, 17, 0)],
            sunday: Vec::new(),
            extra_openings: Vec::new(),
            closures: Vec::new(),
        }
    }

    /// [`default_hall`](Self::default_hall) with noon service on working days: 08:30–17:30.
    pub fn default_hall_noon_service() -> Self {
        OpeningRules {
            working_day: vec![Period::hm(8, 30, 17, 30)],
            ..Self::default_hall()
        }
    }

    /// Parses TOML text and validates it.
    pub fn from_toml_str(text: &str) -> Result<Self, OpeningRulesError> {
        let rules: OpeningRules = toml::from_str(text).map_err(|e| OpeningRulesError::Parse {
            message: e.to_string().trim_end().to_owned(),
        })?;
        rules.validate()?;
        Ok(rules)
    }

    /// Checks every period list (non-empty where required, `start < end`, sorted, no overlaps;
    /// touching periods such as 12:00–12:00 boundaries are allowed), that extended hours do
    /// not overlap the working-day hours, and that no date is listed twice or is both an extra
    /// opening and a closure. Returns the first problem found.
    pub fn validate(&self) -> Result<(), OpeningRulesError> {
        check_periods("working_day", &self.working_day, true)?;
        check_periods("saturday", &self.saturday, false)?;
        check_periods("sunday", &self.sunday, false)?;
        for (i, ext) in self.extended_hours.iter().enumerate() {
            let field = format!("extended_hours[{i}]");
            if ext.weekdays.is_empty() {
                return Err(OpeningRulesError::NoWeekdays { field });
            }
            check_periods(&field, &ext.periods, true)?;
        }
        for weekday in self
            .extended_hours
            .iter()
            .flat_map(|e| e.weekdays.iter().copied())
        {
            let field = format!("working_day + extended_hours ({weekday:?})");
            let mut all = self.working_day_periods(weekday);
            all.sort();
            check_periods(&field, &all, true)?;
        }
        let mut extra_dates = BTreeSet::new();
        for extra in &self.extra_openings {
            let field = format!("extra_openings[{}]", extra.date);
            if !extra_dates.insert(extra.date) {
                return Err(OpeningRulesError::DuplicateDate {
                    field: "extra_openings".to_owned(),
                    date: extra.date,
                });
            }
            check_periods(&field, &extra.periods, true)?;
        }
        let mut closure_dates = BTreeSet::new();
        for closure in &self.closures {
            if !closure_dates.insert(closure.date) {
                return Err(OpeningRulesError::DuplicateDate {
                    field: "closures".to_owned(),
                    date: closure.date,
                });
            }
            if closure.reason.zh.trim().is_empty() {
                return Err(OpeningRulesError::EmptyReason { date: closure.date });
            }
            if extra_dates.contains(&closure.date) {
                return Err(OpeningRulesError::OpenAndClosed { date: closure.date });
            }
        }
        Ok(())
    }

    /// Working-day periods plus extended hours for `weekday`, unsorted and unmerged.
    fn working_day_periods(&self, weekday: Weekday) -> Vec<Period> {
        let mut all = self.working_day.clone();
        for ext in &self.extended_hours {
            if ext.weekdays.contains(&weekday) {
                all.extend_from_slice(&ext.periods);
            }
        }
        all
    }
}

fn check_periods(field: &str, periods: &[Period], required: bool) -> Result<(), OpeningRulesError> {
    if required && periods.is_empty() {
        return Err(OpeningRulesError::NoPeriods {
            field: field.to_owned(),
        });
    }
    for p in periods {
        if p.start >= p.end {
            return Err(OpeningRulesError::EmptyPeriod {
                field: field.to_owned(),
                period: *p,
            });
        }
    }
    for pair in periods.windows(2) {
        if let [a, b] = pair {
            if b.start < a.start {
                return Err(OpeningRulesError::Unsorted {
                    field: field.to_owned(),
                });
            }
            if b.start < a.end {
                return Err(OpeningRulesError::Overlap {
                    field: field.to_owned(),
                    first: *a,
                    second: *b,
                });
            }
        }
    }
    Ok(())
}

/// Sorts and joins periods that touch or overlap (13:30–17:30 + 17:30–19:00 = 13:30–19:00).
fn normalise(mut periods: Vec<Period>) -> Vec<Period> {
    periods.sort();
    let mut out: Vec<Period> = Vec::with_capacity(periods.len());
    for p in periods {
        match out.last_mut() {
            Some(last) if p.start <= last.end => last.end = last.end.max(p.end),
            _ => out.push(p),
        }
    }
    out
}

/// Why a site opens on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenKind {
    /// A Monday–Friday working day.
    WorkingDay,
    /// A 调休 Saturday/Sunday that is an official working day (working-day hours).
    AdjustedWorkday,
    /// An ordinary Saturday or Sunday the site opens.
    WeekendOpening,
    /// Listed in `extra_openings`.
    ExtraOpening,
}

/// Why a site is closed on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClosedReason {
    /// A public holiday (the whole break, for "春节 2/15–2/23" style display).
    Holiday(Holiday),
    /// An ordinary Saturday or Sunday without weekend hours.
    Weekend,
    /// Listed in `closures`.
    Closure { reason: LocalText },
}

impl ClosedReason {
    /// A short label in `lang`, e.g. `春节` / `Spring Festival`, `周末` / `Weekend`.
    pub fn label(&self, lang: Lang) -> String {
        match self {
            ClosedReason::Holiday(h) => h.name(lang).to_owned(),
            ClosedReason::Weekend => lang_pick(lang, "周末", "Weekend").to_owned(),
            ClosedReason::Closure { reason } => reason.get(lang).to_owned(),
        }
    }
}

/// A site's opening on one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DayOpening {
    Open {
        kind: OpenKind,
        /// Sorted, non-overlapping, touching periods joined.
        periods: Vec<Period>,
        /// The extra opening's note, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<LocalText>,
    },
    Closed {
        reason: ClosedReason,
    },
}

impl DayOpening {
    pub fn is_open(&self) -> bool {
        matches!(self, DayOpening::Open { .. })
    }

    /// The periods (empty when closed).
    pub fn periods(&self) -> &[Period] {
        match self {
            DayOpening::Open { periods, .. } => periods,
            DayOpening::Closed { .. } => &[],
        }
    }

    /// One line for the public page, e.g. `08:30–12:00, 13:30–17:30` or `休息（春节）`.
    pub fn describe(&self, lang: Lang) -> String {
        match self {
            DayOpening::Open { periods, note, .. } => {
                let hours = periods
                    .iter()
                    .map(Period::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                match note {
                    Some(n) => match lang {
                        Lang::ZhCn => format!("{hours}（{}）", n.get(lang)),
                        Lang::En => format!("{hours} ({})", n.get(lang)),
                    },
                    None => hours,
                }
            }
            DayOpening::Closed { reason } => match lang {
                Lang::ZhCn => format!("休息（{}）", reason.label(lang)),
                Lang::En => format!("Closed ({})", reason.label(lang)),
            },
        }
    }
}

fn lang_pick(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
    }
}

/// The site's opening on `date` (precedence in the module docs). Errors if the calendar has no
/// data for the date's year. `rules` is assumed validated.
pub fn openings_on(
    rules: &OpeningRules,
    cal: &HolidayCalendar,
    date: Date,
) -> Result<DayOpening, CalendarError> {
    let working = cal.is_working_day(date)?;
    if let Some(closure) = rules.closures.iter().find(|c| c.date == date) {
        return Ok(DayOpening::Closed {
            reason: ClosedReason::Closure {
                reason: closure.reason.clone(),
            },
        });
    }
    if let Some(extra) = rules.extra_openings.iter().find(|e| e.date == date) {
        return Ok(DayOpening::Open {
            kind: OpenKind::ExtraOpening,
            periods: normalise(extra.periods.clone()),
            note: extra.note.clone(),
        });
    }
    if let Some(holiday) = cal.holiday_on(date) {
        return Ok(DayOpening::Closed {
            reason: ClosedReason::Holiday(holiday.clone()),
        });
    }
    let weekday = Weekday::from(date.weekday());
    if working {
        let kind = if cal.is_adjusted_workday(date) {
            OpenKind::AdjustedWorkday
        } else {
            OpenKind::WorkingDay
        };
        return Ok(DayOpening::Open {
            kind,
            periods: normalise(rules.working_day_periods(weekday)),
            note: None,
        });
    }
    let weekend = match weekday {
        Weekday::Saturday => &rules.saturday,
        _ => &rules.sunday,
    };
    Ok(if weekend.is_empty() {
        DayOpening::Closed {
            reason: ClosedReason::Weekend,
        }
    } else {
        DayOpening::Open {
            kind: OpenKind::WeekendOpening,
            periods: normalise(weekend.clone()),
            note: None,
        }
    })
}

/// The openings of `days` consecutive dates starting with `from` (today included), for the
/// public "next days' openings" page. Errors if any of those dates is in a year without data;
/// a caller that wants a shorter list near year end can bound `days` with
/// [`HolidayCalendar::covered_years`].
pub fn next_openings(
    rules: &OpeningRules,
    cal: &HolidayCalendar,
    from: Date,
    days: u32,
) -> Result<Vec<(Date, DayOpening)>, CalendarError> {
    let mut out = Vec::with_capacity(days as usize);
    let mut date = from;
    for i in 0..days {
        if i > 0 {
            date = date.tomorrow().map_err(|_| CalendarError::YearNotCovered {
                year: date.year().saturating_add(1),
            })?;
        }
        out.push((date, openings_on(rules, cal, date)?));
    }
    Ok(out)
}

/// What is wrong with a site's opening rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpeningRulesError {
    #[error("The opening rules cannot be read: {message}")]
    Parse { message: String },
    #[error("{field}: at least one opening period is required")]
    NoPeriods { field: String },
    #[error("{field}: period {period} does not end after it starts")]
    EmptyPeriod { field: String, period: Period },
    #[error("{field}: periods must be listed in time order")]
    Unsorted { field: String },
    #[error("{field}: periods {first} and {second} overlap")]
    Overlap {
        field: String,
        first: Period,
        second: Period,
    },
    #[error("{field}: at least one weekday is required")]
    NoWeekdays { field: String },
    #[error("{field}: {date} is listed more than once")]
    DuplicateDate { field: String, date: Date },
    #[error("closures: {date} has no reason")]
    EmptyReason { date: Date },
    #[error("{date} is both an extra opening and a closure")]
    OpenAndClosed { date: Date },
}

impl UserMessage for OpeningRulesError {
    fn code(&self) -> &'static str {
        match self {
            OpeningRulesError::Parse { .. } => "opening.parse",
            OpeningRulesError::NoPeriods { .. } => "opening.no_periods",
            OpeningRulesError::EmptyPeriod { .. } => "opening.empty_period",
            OpeningRulesError::Unsorted { .. } => "opening.unsorted",
            OpeningRulesError::Overlap { .. } => "opening.overlap",
            OpeningRulesError::NoWeekdays { .. } => "opening.no_weekdays",
            OpeningRulesError::DuplicateDate { .. } => "opening.duplicate_date",
            OpeningRulesError::EmptyReason { .. } => "opening.empty_reason",
            OpeningRulesError::OpenAndClosed { .. } => "opening.open_and_closed",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::ZhCn => match self {
                OpeningRulesError::Parse { message } => format!("开放时间设置无法读取：{message}"),
                OpeningRulesError::NoPeriods { field } => {
                    format!("{field}：至少需要一个开放时段")
                }
                OpeningRulesError::EmptyPeriod { field, period } => {
                    format!("{field}：时段 {period} 的结束时间必须晚于开始时间")
                }
                OpeningRulesError::Unsorted { field } => {
                    format!("{field}：时段须按时间先后排列")
                }
                OpeningRulesError::Overlap {
                    field,
                    first,
                    second,
                } => format!("{field}：时段 {first} 与 {second} 重叠"),
                OpeningRulesError::NoWeekdays { field } => {
                    format!("{field}：至少需要指定一个星期几")
                }
                OpeningRulesError::DuplicateDate { field, date } => {
                    format!("{field}：日期 {date} 重复")
                }
                OpeningRulesError::EmptyReason { date } => {
                    format!("闭厅日期 {date} 未填写原因")
                }
                OpeningRulesError::OpenAndClosed { date } => {
                    format!("{date} 同时设置为临时开放和闭厅")
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use std::path::Path;

    static CAL: std::sync::LazyLock<HolidayCalendar> = std::sync::LazyLock::new(|| {
        HolidayCalendar::load_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/calendar"))
            .expect("data/calendar loads")
    });

    fn p(s: &str, e: &str) -> Period {
        Period {
            start: s.parse().expect("time"),
            end: e.parse().expect("time"),
        }
    }

    fn site() -> OpeningRules {
        let mut rules = OpeningRules::default_hall();
        rules.extended_hours.push(ExtendedHours {
            weekdays: vec![Weekday::Wednesday],
            periods: vec![p("17:30", "19:00")],
        });
        rules.extra_openings.push(ExtraOpening {
            date: date(2026, 2, 21), // Sat, inside 春节
            periods: vec![p("09:00", "12:00")],
            note: Some(LocalText::new(
                "春节假期值班",
                "Spring Festival on-call service",
            )),
        });
        rules.closures.push(Closure {
            date: date(2026, 3, 10), // Tue
            reason: LocalText::new("系统升级", "System upgrade"),
        });
        rules.validate().expect("valid");
        rules
    }

    fn on(rules: &OpeningRules, d: Date) -> DayOpening {
        openings_on(rules, &CAL, d).expect("covered")
    }

    #[test]
    fn holiday_is_closed_with_its_name() {
        let o = on(&site(), date(2026, 10, 2));
        assert!(
            matches!(&o, DayOpening::Closed { reason: ClosedReason::Holiday(h) } if h.name_zh == "国庆节")
        );
        assert_eq!(o.describe(Lang::ZhCn), "休息（国庆节）");
        assert_eq!(o.describe(Lang::En), "Closed (National Day)");
        // Serialises for the public page / API (tagged by `status`, then `kind`).
        let text = toml::to_string(&o).expect("serialises");
        assert!(text.contains("status = \"closed\""), "{text}");
        assert!(text.contains("kind = \"holiday\""), "{text}");
        assert!(text.contains("name_zh = \"国庆节\""), "{text}");
        // A holiday Saturday stays closed although the site opens on Saturdays (2026-01-03).
        assert!(!on(&site(), date(2026, 1, 3)).is_open());
    }

    #[test]
    fn adjusted_saturday_opens_with_working_day_hours() {
        let o = on(&site(), date(2026, 2, 28));
        assert_eq!(
            o,
            DayOpening::Open {
                kind: OpenKind::AdjustedWorkday,
                periods: vec![p("08:30", "12:00"), p("13:30", "17:30")],
                note: None,
            }
        );
        // A 调休 Sunday too, even though the site never opens on Sundays (2025-09-28).
        assert!(matches!(
            on(&site(), date(2025, 9, 28)),
            DayOpening::Open {
                kind: OpenKind::AdjustedWorkday,
                ..
            }
        ));
    }

    #[test]
    fn ordinary_weekend() {
        let rules = site();
        assert_eq!(
            on(&rules, date(2026, 3, 7)), // Sat
            DayOpening::Open {
                kind: OpenKind::WeekendOpening,
                periods: vec![p("09:00", "12:00"), p("13:30", "17:00")],
                note: None,
            }
        );
        let sunday = on(&rules, date(2026, 3, 8));
        assert_eq!(
            sunday,
            DayOpening::Closed {
                reason: ClosedReason::Weekend
            }
        );
        assert_eq!(sunday.describe(Lang::En), "Closed (Weekend)");
    }

    #[test]
    fn working_days_noon_service_and_extended_hours() {
        let rules = site();
        let tue = on(&rules, date(2026, 3, 3));
        assert_eq!(tue.describe(Lang::ZhCn), "08:30–12:00, 13:30–17:30");
        assert!(matches!(
            tue,
            DayOpening::Open {
                kind: OpenKind::WorkingDay,
                ..
            }
        ));
        // Wednesday: extended until 19:00, joined with the afternoon period.
        assert_eq!(
            on(&rules, date(2026, 3, 4)).periods(),
            &[p("08:30", "12:00"), p("13:30", "19:00")]
        );
        let noon = OpeningRules::default_hall_noon_service();
        noon.validate().expect("valid");
        assert_eq!(
            on(&noon, date(2026, 3, 3)).periods(),
            &[p("08:30", "17:30")]
        );
        let half_past_twelve: Time = "12:30".parse().expect("time");
        assert!(on(&noon, date(2026, 3, 3)).periods()[0].contains(half_past_twelve));
    }

    #[test]
    fn extra_opening_on_a_holiday() {
        let o = on(&site(), date(2026, 2, 21));
        assert_eq!(
            o,
            DayOpening::Open {
                kind: OpenKind::ExtraOpening,
                periods: vec![p("09:00", "12:00")],
                note: Some(LocalText::new(
                    "春节假期值班",
                    "Spring Festival on-call service"
                )),
            }
        );
        assert_eq!(
            o.describe(Lang::En),
            "09:00–12:00 (Spring Festival on-call service)"
        );
        // The day before is still closed for 春节.
        assert!(!on(&site(), date(2026, 2, 20)).is_open());
    }

    #[test]
    fn closure_on_a_working_day() {
        let o = on(&site(), date(2026, 3, 10));
        assert_eq!(o.describe(Lang::ZhCn), "休息（系统升级）");
        assert_eq!(o.describe(Lang::En), "Closed (System upgrade)");
    }

    #[test]
    fn next_openings_page() {
        // Thu 2026-02-12 .. Sun 2026-03-01.
        let list = next_openings(&site(), &CAL, date(2026, 2, 12), 18).expect("covered");
        assert_eq!(list.len(), 18);
        assert_eq!(list.first().map(|x| x.0), Some(date(2026, 2, 12)));
        assert_eq!(list.last().map(|x| x.0), Some(date(2026, 3, 1)));
        let kinds: Vec<Option<OpenKind>> = list
            .iter()
            .map(|(_, o)| match o {
                DayOpening::Open { kind, .. } => Some(*kind),
                DayOpening::Closed { .. } => None,
            })
            .collect();
        use OpenKind::*;
        #[rustfmt::skip]
        let expected = vec![
            Some(WorkingDay), Some(WorkingDay),           // 02-12 Thu, 02-13 Fri
            Some(AdjustedWorkday),                        // 02-14 Sat 调休
            None, None, None, None, None, None, Some(ExtraOpening), None, None, // 02-15..02-23, 02-21 on call
            Some(WorkingDay), Some(WorkingDay), Some(WorkingDay), Some(WorkingDay), // 02-24..27
            Some(AdjustedWorkday),                        // 02-28 Sat 调休
            None,                                         // 03-01 Sun
        ];
        assert_eq!(kinds, expected);
        // Into 2027 (no notice shipped): the statutory holidays, provisionally.
        let into_2027 = next_openings(&site(), &CAL, date(2026, 12, 20), 30).expect("provisional");
        assert_eq!(into_2027.len(), 30);
        assert!(!into_2027[12].1.is_open(), "2027-01-01 元旦");
        assert!(next_openings(&site(), &CAL, date(2100, 12, 20), 30).is_err());
        assert!(
            next_openings(&site(), &CAL, date(2026, 12, 20), 0)
                .expect("empty")
                .is_empty()
        );
    }

    #[test]
    fn a_year_the_statute_does_not_reach_is_an_error() {
        assert!(openings_on(&site(), &CAL, date(2027, 1, 4)).is_ok_and(|o| o.is_open()));
        assert!(matches!(
            openings_on(&site(), &CAL, date(2101, 1, 4)),
            Err(CalendarError::YearNotCovered { year: 2101 })
        ));
    }

    #[test]
    fn validation() {
        let base = OpeningRules::default_hall();
        base.validate().expect("valid");
        let mut r = base.clone();
        r.working_day.clear();
        assert!(matches!(
            r.validate(),
            Err(OpeningRulesError::NoPeriods { .. })
        ));
        let mut r = base.clone();
        r.working_day = vec![p("12:00", "08:30")];
        assert!(matches!(
            r.validate(),
            Err(OpeningRulesError::EmptyPeriod { .. })
        ));
        let mut r = base.clone();
        r.working_day = vec![p("13:30", "17:30"), p("08:30", "12:00")];
        assert!(matches!(
            r.validate(),
            Err(OpeningRulesError::Unsorted { .. })
        ));
        let mut r = base.clone();
        r.saturday = vec![p("09:00", "12:00"), p("11:00", "17:00")];
        let err = r.validate().expect_err("overlap");
        assert!(matches!(err, OpeningRulesError::Overlap { .. }));
        assert_eq!(err.code(), "opening.overlap");
        assert_eq!(
            err.message(Lang::ZhCn),
            "saturday：时段 09:00–12:00 与 11:00–17:00 重叠"
        );
        // Touching periods are fine.
        let mut r = base.clone();
        r.working_day = vec![p("08:30", "12:00"), p("12:00", "17:30")];
        r.validate().expect("touching is fine");
        // Extended hours that overlap the working day.
        let mut r = base.clone();
        r.extended_hours.push(ExtendedHours {
            weekdays: vec![Weekday::Tuesday],
            periods: vec![p("17:00", "19:00")],
        });
        assert!(matches!(
            r.validate(),
            Err(OpeningRulesError::Overlap { .. })
        ));
        // Dates.
        let mut r = site();
        r.closures.push(r.closures[0].clone());
        assert!(matches!(
            r.validate(),
            Err(OpeningRulesError::DuplicateDate { .. })
        ));
        let mut r = site();
        r.closures.push(Closure {
            date: date(2026, 2, 21),
            reason: LocalText::new("x", "x"),
        });
        assert!(matches!(
            r.validate(),
            Err(OpeningRulesError::OpenAndClosed { .. })
        ));
        let mut r = site();
        r.extra_openings[0].periods.clear();
        assert!(matches!(
            r.validate(),
            Err(OpeningRulesError::NoPeriods { .. })
        ));
        assert!(Period::new(p("09:00", "09:00").start, p("09:00", "09:00").end).is_err());
    }

    const SITE_TOML: &str = r#"
working_day = [{ start = "08:30", end = "12:00" }, { start = "13:30", end = "17:30" }]
saturday = [{ start = "09:00", end = "12:00" }, { start = "13:30", end = "17:00" }]
sunday = []

[[extended_hours]]
weekdays = ["wednesday"]
periods = [{ start = "17:30", end = "19:00" }]

[[extra_openings]]
date = "2026-02-21"
periods = [{ start = "09:00", end = "12:00" }]
note = { zh = "春节假期值班", en = "Spring Festival on-call service" }

[[closures]]
date = "2026-03-10"
reason = { zh = "系统升级", en = "System upgrade" }
"#;

    #[test]
    fn toml_shape_round_trips() {
        let rules = OpeningRules::from_toml_str(SITE_TOML).expect("parses");
        assert_eq!(rules, site());
        let text = toml::to_string(&rules).expect("serialises");
        assert_eq!(
            OpeningRules::from_toml_str(&text).expect("round trip"),
            rules
        );
        let err = OpeningRules::from_toml_str("working_day = []").expect_err("invalid");
        assert!(matches!(err, OpeningRulesError::NoPeriods { .. }));
        let err = OpeningRules::from_toml_str("working_days = []").expect_err("typo");
        assert_eq!(err.code(), "opening.parse");
    }
}
