//! Working-day calendar: public holidays and 调休 working days of each year, and the due-date
//! arithmetic built on them.
//!
//! A year's arrangement comes, in this order, from the State Council notice an administrator
//! entered at runtime (the database; the latest version of the year), from the yearly file
//! shipped in `data/calendar/<year>.toml` (domain §8.1 for 2025, §8.2 for 2026), or — when
//! neither has it yet — from the statute alone ([`crate::domain::statutory`]): a *provisional*
//! year, statutory days off plus weekends and no 调休. Anything computed on a provisional year
//! says so ([`Reckoned::provisional`]), so a person sees "预计…（待国务院公布次年放假安排后确认）"
//! and never a silent guess; the hall never stops because next year's notice is late
//! (issue 11). Only a year outside the statute's reach ([`CalendarError::YearNotCovered`]) is
//! refused.
//!
//! Counting (domain §4): the acceptance day is not counted; Saturdays, Sundays and statutory
//! holidays are not counted. Whether 调休 weekend working days count is unclear, so it is a
//! setting ([`CountingRules::count_adjusted_workdays`], default `true` as in chinesecalendar).
//! A period counted in calendar days whose last day is a rest day ends on the next working day
//! (民法典 第二百零三条).
//!
//! Validation is done once, when an arrangement is loaded or entered; queries do no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

use crate::domain::statutory::{self, Festival};
use crate::i18n::{Lang, UserMessage};

/// The range of years an arrangement may declare.
const YEARS: std::ops::RangeInclusive<i64> = 1900..=2999;

/// A public holiday break (放假): an inclusive range of days off with its names.
///
/// Weekend days inside the range are normal (e.g. 2026 春节 starts on a Sunday).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    /// Name in Chinese, e.g. `春节` or `国庆节、中秋节`.
    pub name_zh: String,
    /// Name in English, e.g. `Spring Festival`.
    pub name_en: String,
    /// The statutory festivals this break is for (one, or two when they are joined).
    pub festivals: Vec<Festival>,
    /// First day off.
    pub start: Date,
    /// Last day off (inclusive).
    pub end: Date,
}

impl Holiday {
    /// The name in the given language.
    pub fn name(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhCn => &self.name_zh,
            Lang::En => &self.name_en,
        }
    }

    /// Whether `date` is one of the days off of this break.
    pub fn contains(&self, date: Date) -> bool {
        self.start <= date && date <= self.end
    }
}

/// The State Council notice a year's arrangement comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notice {
    /// e.g. `国务院办公厅关于2026年部分节假日安排的通知`.
    pub title: String,
    /// The document number (文号), e.g. `国办发明电〔2024〕12号`; `None` where it was not seen
    /// (2026, domain §8.2).
    #[serde(default)]
    pub document_number: Option<String>,
    /// Date of the notice.
    #[schema(value_type = String, format = Date)]
    pub published: Date,
    /// Where the text was read.
    #[serde(default)]
    pub source: Option<String>,
}

/// One break of an arrangement as the notice gives it: the festivals, the first and last day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Break {
    pub festivals: Vec<Festival>,
    #[schema(value_type = String, format = Date)]
    pub start: Date,
    #[schema(value_type = String, format = Date)]
    pub end: Date,
}

/// A year's arrangement exactly as the notice reads: what an administrator enters and what a
/// yearly file holds. Checked by [`YearSchedule::official`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Arrangement {
    pub year: i16,
    pub notice: Notice,
    pub holidays: Vec<Break>,
    /// The 调休 weekend working days.
    #[schema(value_type = Vec<String>)]
    pub adjusted_workdays: Vec<Date>,
}

/// Whether 调休 weekend working days count toward statutory time limits (domain §4).
///
/// Beijing says "Saturdays, Sundays and statutory holidays are not counted", which is ambiguous
/// for a Saturday or Sunday that is an official working day (调休). chinesecalendar counts them,
/// and so does the default here (`true`): 2026-02-12 + 7 working days = 2026-02-28, a 调休
/// Saturday. With `false`, such days are skipped and the same example gives 2026-03-03.
/// The reference marks this [U]: confirm with the client and keep it in site configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct CountingRules {
    /// Count 调休 weekend working days as working days. Default `true`.
    pub count_adjusted_workdays: bool,
}

impl Default for CountingRules {
    fn default() -> Self {
        CountingRules {
            count_adjusted_workdays: true,
        }
    }
}

/// Where a year's arrangement comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A yearly file shipped with the code.
    File { path: String },
    /// A notice an administrator entered; the `version`-th entry for the year.
    Entered { version: i64, entered_at: i64 },
    /// No notice yet: the statutory days only (not official).
    Provisional,
}

/// One year's arrangement, validated.
#[derive(Debug, Clone)]
pub struct YearSchedule {
    year: i16,
    source: Source,
    notice: Option<Notice>,
    holidays: Vec<Holiday>,
    /// Each day off → index into `holidays`.
    holiday_by_date: BTreeMap<Date, usize>,
    adjusted_workdays: BTreeSet<Date>,
}

impl YearSchedule {
    /// The calendar year.
    pub fn year(&self) -> i16 {
        self.year
    }

    /// Where the arrangement comes from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Whether the arrangement is only the statute's (no notice yet).
    pub fn is_provisional(&self) -> bool {
        self.source == Source::Provisional
    }

    /// The notice the data comes from; `None` for a provisional year.
    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    /// The holiday breaks, in date order.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// The 调休 working days, in date order.
    pub fn adjusted_workdays(&self) -> impl Iterator<Item = Date> + '_ {
        self.adjusted_workdays.iter().copied()
    }

    /// The arrangement as a notice would give it (for forms, the API and amendments).
    pub fn arrangement(&self) -> Option<Arrangement> {
        Some(Arrangement {
            year: self.year,
            notice: self.notice.clone()?,
            holidays: self
                .holidays
                .iter()
                .map(|h| Break {
                    festivals: h.festivals.clone(),
                    start: h.start,
                    end: h.end,
                })
                .collect(),
            adjusted_workdays: self.adjusted_workdays.iter().copied().collect(),
        })
    }

    /// Checks an official arrangement (entered or from a file): dates in its year, no
    /// overlaps, every statutory festival present with its statutory days off, 调休 days on
    /// Saturdays or Sundays and not days off.
    pub fn official(arrangement: Arrangement, source: Source) -> Result<Self, ScheduleProblem> {
        let names = arrangement
            .holidays
            .iter()
            .map(|b| {
                (
                    join_names(&b.festivals, Lang::ZhCn),
                    join_names(&b.festivals, Lang::En),
                )
            })
            .collect();
        check(arrangement, source, names)
    }

    /// The provisional arrangement of `year` from the statute, or `None` where the statute
    /// (as revised for 2025 on) does not reach.
    fn provisional(year: i16) -> Option<Self> {
        let breaks = statutory::statutory_breaks(year)?;
        let holidays: Vec<Holiday> = breaks
            .into_iter()
            .map(|b| Holiday {
                name_zh: join_names(&b.festivals, Lang::ZhCn),
                name_en: join_names(&b.festivals, Lang::En),
                festivals: b.festivals,
                start: b.start,
                end: b.end,
            })
            .collect();
        let mut holiday_by_date = BTreeMap::new();
        for (index, h) in holidays.iter().enumerate() {
            for d in days_of(h.start, h.end) {
                holiday_by_date.insert(d, index);
            }
        }
        Some(YearSchedule {
            year,
            source: Source::Provisional,
            notice: None,
            holidays,
            holiday_by_date,
            adjusted_workdays: BTreeSet::new(),
        })
    }
}

fn join_names(festivals: &[Festival], lang: Lang) -> String {
    let sep = lang.pick("、", " and ");
    festivals
        .iter()
        .map(|f| f.name(lang))
        .collect::<Vec<_>>()
        .join(sep)
}

/// The provisional years, computed once per process: they depend on nothing but the statute.
static PROVISIONAL: LazyLock<BTreeMap<i16, YearSchedule>> = LazyLock::new(|| {
    (statutory::FIRST_YEAR..=statutory::LAST_YEAR)
        .filter_map(|y| YearSchedule::provisional(y).map(|s| (y, s)))
        .collect()
});

/// A date computed on the calendar, and whether a provisional year was involved in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reckoned {
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    /// A day counted or looked at lies in a year without an official arrangement: the date
    /// may move when the State Council notice is entered.
    pub provisional: bool,
}

impl Reckoned {
    /// The date as a person reads it: a provisional one says it still has to be confirmed.
    pub fn describe(&self, lang: Lang) -> String {
        describe_date(&self.date.to_string(), self.provisional, lang)
    }
}

/// A computed date as a person reads it (receipts, texts, progress): `2027-01-07`, or when
/// provisional `预计2027-01-07（待国务院公布次年放假安排后确认）`.
pub fn describe_date(date: &str, provisional: bool, lang: Lang) -> String {
    match (provisional, lang) {
        (false, _) => date.to_owned(),
        (true, Lang::ZhCn) => format!("预计{date}（待国务院公布次年放假安排后确认）"),
        (true, Lang::En) => format!(
            "{date} (expected; to be confirmed when the State Council publishes the year's public holidays)"
        ),
    }
}

/// What one day is, for people and for the operators' CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayInfo<'a> {
    pub date: Date,
    pub working: bool,
    pub provisional: bool,
    pub holiday: Option<&'a Holiday>,
    pub adjusted_workday: bool,
}

impl DayInfo<'_> {
    /// One line: `YYYY-MM-DD workday|rest official|provisional [festival]`.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} {} {}",
            self.date,
            if self.working { "workday" } else { "rest" },
            if self.provisional {
                "provisional"
            } else {
                "official"
            }
        );
        if let Some(h) = self.holiday {
            s.push(' ');
            s.push_str(&h.name_zh);
        } else if self.adjusted_workday {
            s.push_str(" 调休");
        }
        s
    }
}

/// Holidays and 调休 working days: the official years, and the provisional rule for the rest.
#[derive(Debug, Clone, Default)]
pub struct HolidayCalendar {
    years: BTreeMap<i16, Arc<YearSchedule>>,
}

impl HolidayCalendar {
    /// A calendar with no official year: every year the statute reaches is provisional.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses and validates one year's file. `file_name` is used in error messages and, if its
    /// stem is a number (`2026.toml`), must match the `year` inside.
    pub fn from_toml_str(file_name: &str, text: &str) -> Result<Self, CalendarError> {
        let raw: RawYearFile = toml::from_str(text).map_err(|e| CalendarError::Parse {
            file: file_name.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let schedule = from_file(file_name, raw).map_err(|problem| CalendarError::InvalidFile {
            file: file_name.to_owned(),
            problem,
        })?;
        let mut calendar = HolidayCalendar::new();
        calendar.set(schedule);
        Ok(calendar)
    }

    /// Loads every `*.toml` file in `dir` (in file-name order). Fails if the directory has no
    /// such file, if any file is invalid, or if two files declare the same year.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Self, CalendarError> {
        let dir = dir.as_ref();
        let io_err = |path: &Path, source| CalendarError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
            let path = entry.map_err(|e| io_err(dir, e))?.path();
            if path.extension().is_some_and(|ext| ext == "toml") && path.is_file() {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(CalendarError::NoFiles {
                dir: dir.display().to_string(),
            });
        }
        files.sort();
        let mut calendar = HolidayCalendar::new();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
            calendar.merge(Self::from_toml_str(&path.display().to_string(), &text)?)?;
        }
        Ok(calendar)
    }

    /// Adds the years of `other`. Fails (leaving `self` unchanged) if a year is in both.
    pub fn merge(&mut self, other: HolidayCalendar) -> Result<(), CalendarError> {
        if let Some((year, theirs)) = other
            .years
            .iter()
            .find(|(year, _)| self.years.contains_key(year))
        {
            let first = self.years.get(year).map(|s| source_name(&s.source));
            return Err(CalendarError::DuplicateYear {
                year: *year,
                first: first.unwrap_or_default(),
                second: source_name(&theirs.source),
            });
        }
        self.years.extend(other.years);
        Ok(())
    }

    /// Puts an official year in place, replacing what the year had (an entered notice
    /// overrides the shipped file; a later version the earlier one).
    pub fn set(&mut self, schedule: YearSchedule) {
        self.years.insert(schedule.year, Arc::new(schedule));
    }

    /// The years with an official arrangement, ascending.
    pub fn covered_years(&self) -> Vec<i16> {
        self.years.keys().copied().collect()
    }

    /// Whether `year` has an official arrangement.
    pub fn covers(&self, year: i16) -> bool {
        self.years.contains_key(&year)
    }

    /// Whether `year` is computed from the statute only (no official arrangement yet).
    pub fn is_provisional(&self, year: i16) -> bool {
        !self.covers(year) && PROVISIONAL.contains_key(&year)
    }

    /// A year's arrangement: the official one, else the provisional one.
    pub fn year(&self, year: i16) -> Option<&YearSchedule> {
        self.years
            .get(&year)
            .map(|s| s.as_ref())
            .or_else(|| PROVISIONAL.get(&year))
    }

    /// The official arrangement of `year`, if any.
    pub fn official_year(&self, year: i16) -> Option<&YearSchedule> {
        self.years.get(&year).map(|s| s.as_ref())
    }

    fn schedule(&self, date: Date) -> Result<&YearSchedule, CalendarError> {
        self.year(date.year())
            .ok_or(CalendarError::YearNotCovered { year: date.year() })
    }

    /// The first day on or after `from` that lies in a provisional year, if one comes before
    /// the statute's last year.
    pub fn first_provisional_day(&self, from: Date) -> Option<Date> {
        (from.year()..=statutory::LAST_YEAR)
            .find(|y| self.is_provisional(*y))
            .and_then(|y| Date::new(y, 1, 1).ok())
            .map(|d| d.max(from))
    }

    /// What `date` is: working day or rest, official or provisional, which break.
    pub fn day(&self, date: Date) -> Result<DayInfo<'_>, CalendarError> {
        let schedule = self.schedule(date)?;
        let holiday = schedule
            .holiday_by_date
            .get(&date)
            .and_then(|i| schedule.holidays.get(*i));
        let adjusted_workday = schedule.adjusted_workdays.contains(&date);
        Ok(DayInfo {
            date,
            working: holiday.is_none() && (adjusted_workday || !is_weekend(date)),
            provisional: schedule.is_provisional(),
            holiday,
            adjusted_workday,
        })
    }

    /// Whether `date` is a working day: a Monday–Friday that is not a holiday, or a 调休
    /// working day. Errors only for a year the statute does not reach.
    pub fn is_working_day(&self, date: Date) -> Result<bool, CalendarError> {
        Ok(self.day(date)?.working)
    }

    /// Whether `date` counts toward a time limit under `rules`: a working day, except that a 调休
    /// weekend working day counts only if `rules.count_adjusted_workdays` (domain §4).
    pub fn counts_as_working_day(
        &self,
        date: Date,
        rules: &CountingRules,
    ) -> Result<bool, CalendarError> {
        // domain §4: a 调休 weekend working day counts only if the site's rules say so ([U]).
        let working = self.is_working_day(date)?;
        Ok(working && (rules.count_adjusted_workdays || !is_weekend(date)))
    }

    /// The holiday break `date` falls in, if any (provisional years included).
    pub fn holiday_on(&self, date: Date) -> Option<&Holiday> {
        self.day(date).ok().and_then(|d| d.holiday)
    }

    /// Whether `date` is a 调休 working day (a weekend day that is a working day).
    pub fn is_adjusted_workday(&self, date: Date) -> bool {
        self.day(date).is_ok_and(|d| d.adjusted_workday)
    }

    /// Whether any year of `first..=last` is provisional.
    fn any_provisional(&self, first: Date, last: Date) -> bool {
        (first.year()..=last.year()).any(|y| self.is_provisional(y))
    }

    /// The `n`-th counted working day after `start` (domain §4): the start (acceptance) day is
    /// not counted, whatever it is. `n == 0` returns `start`. Provisional when a day counted
    /// lies in a provisional year.
    ///
    /// Example: 2026-02-12 + 7 = 2026-02-28 with the default rules.
    pub fn add_working_days(
        &self,
        start: Date,
        n: u32,
        rules: &CountingRules,
    ) -> Result<Reckoned, CalendarError> {
        // domain §4: the acceptance day is not counted, so counting starts the day after.
        let mut date = start;
        let mut counted = 0;
        while counted < n {
            date = next_day(date)?;
            if self.counts_as_working_day(date, rules)? {
                counted += 1;
            }
        }
        Ok(Reckoned {
            date,
            provisional: n > 0 && self.any_provisional(next_day(start)?, date),
        })
    }

    /// The last day of a period of `n` calendar days after `start` (the start day not
    /// counted): `start + n`, moved to the next working day when it is a rest day —
    /// 民法典 第二百零三条: a period whose last day is a statutory rest day ends on the day
    /// after the rest. Provisional when the days looked at lie in a provisional year.
    pub fn add_calendar_days(&self, start: Date, n: u32) -> Result<Reckoned, CalendarError> {
        let mut date = start
            .checked_add(jiff::Span::new().days(i64::from(n)))
            .map_err(|_| CalendarError::YearNotCovered {
                year: start.year().saturating_add(1),
            })?;
        let last = date;
        while !self.is_working_day(date)? {
            date = next_day(date)?;
        }
        Ok(Reckoned {
            date,
            provisional: self.any_provisional(last, date),
        })
    }

    /// The number of counted working days in `(a, b]`, i.e. after `a` up to and including `b`,
    /// so that `working_days_between(d, add_working_days(d, n)) == n`. Negative if `b < a`
    /// (the count in `(b, a]`, negated). Errors for a year the statute does not reach.
    pub fn working_days_between(
        &self,
        a: Date,
        b: Date,
        rules: &CountingRules,
    ) -> Result<i64, CalendarError> {
        let (from, to, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
        let mut count = 0i64;
        let mut date = from;
        while date < to {
            date = next_day(date)?;
            if self.counts_as_working_day(date, rules)? {
                count += 1;
            }
        }
        Ok(sign * count)
    }
}

fn source_name(source: &Source) -> String {
    match source {
        Source::File { path } => path.clone(),
        Source::Entered { version, .. } => format!("database (version {version})"),
        Source::Provisional => "provisional".to_owned(),
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The next day; past jiff's last date (9999-12-31) we report the (never covered) next year.
fn next_day(date: Date) -> Result<Date, CalendarError> {
    date.tomorrow().map_err(|_| CalendarError::YearNotCovered {
        year: date.year().saturating_add(1),
    })
}

/// Every day of `start..=end` (empty when reversed).
fn days_of(start: Date, end: Date) -> impl Iterator<Item = Date> {
    start
        .series(jiff::Span::new().days(1))
        .take_while(move |d| *d <= end)
}

fn weekday_name(weekday: Weekday, lang: Lang) -> &'static str {
    let (zh, en) = match weekday {
        Weekday::Monday => ("周一", "Monday"),
        Weekday::Tuesday => ("周二", "Tuesday"),
        Weekday::Wednesday => ("周三", "Wednesday"),
        Weekday::Thursday => ("周四", "Thursday"),
        Weekday::Friday => ("周五", "Friday"),
        Weekday::Saturday => ("周六", "Saturday"),
        Weekday::Sunday => ("周日", "Sunday"),
    };
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Why a calendar could not be loaded, or a working-day question cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// Neither a notice nor the statute (as revised for 2025 on) gives the year: never guess.
    #[error(
        "No holiday arrangement exists for {year} and the statutory rule does not reach it; working days cannot be computed"
    )]
    YearNotCovered { year: i16 },
    /// The file is not valid TOML, or does not have the expected shape.
    #[error("Calendar file {file} cannot be read as a holiday schedule: {message}")]
    Parse { file: String, message: String },
    /// The file parses but its content is wrong.
    #[error("Calendar file {file}: {problem}")]
    InvalidFile {
        file: String,
        problem: ScheduleProblem,
    },
    /// Two files declare the same year.
    #[error("The holiday schedule for {year} is given twice: in {first} and in {second}")]
    DuplicateYear {
        year: i16,
        first: String,
        second: String,
    },
    /// The data directory has no `*.toml` file.
    #[error("No holiday schedule files (*.toml) found in {dir}")]
    NoFiles { dir: String },
    /// A file or directory could not be read.
    #[error("Cannot read holiday schedule data at {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl UserMessage for CalendarError {
    fn code(&self) -> &'static str {
        match self {
            CalendarError::YearNotCovered { .. } => "calendar.year_not_covered",
            CalendarError::Parse { .. } => "calendar.parse",
            CalendarError::InvalidFile { .. } => "calendar.invalid_file",
            CalendarError::DuplicateYear { .. } => "calendar.duplicate_year",
            CalendarError::NoFiles { .. } => "calendar.no_files",
            CalendarError::Io { .. } => "calendar.io",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::ZhCn => match self {
                CalendarError::YearNotCovered { year } => {
                    format!("{year}年既无放假安排，也不在法定节假日规则适用范围内，无法计算工作日")
                }
                CalendarError::Parse { file, message } => {
                    format!("节假日数据文件 {file} 格式错误：{message}")
                }
                CalendarError::InvalidFile { file, problem } => {
                    format!(
                        "节假日数据文件 {file} 有误：{}",
                        problem.message(Lang::ZhCn)
                    )
                }
                CalendarError::DuplicateYear {
                    year,
                    first,
                    second,
                } => format!("{year}年的节假日安排重复：{first} 与 {second}"),
                CalendarError::NoFiles { dir } => {
                    format!("目录 {dir} 中没有节假日数据文件（*.toml）")
                }
                CalendarError::Io { path, source } => {
                    format!("无法读取节假日数据 {path}：{source}")
                }
            },
        }
    }
}

/// What is wrong with a year's arrangement (a file's or an entered notice's). `field` names
/// where, e.g. `holidays[1] (春节).end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleProblem {
    /// `year` is outside 1900..=2999.
    BadYear { value: i64 },
    /// The file is called `<n>.toml` but declares another year.
    YearMismatch { file_name_year: i64, year: i16 },
    /// Not a date (a time or offset given, an impossible date, a malformed string).
    BadDate { field: String, value: String },
    /// A required text is empty.
    EmptyText { field: String },
    /// The arrangement has no holidays at all.
    NoHolidays,
    /// A break names no statutory festival.
    NoFestival { field: String },
    /// A statutory festival has no break.
    MissingFestival { festival: Festival },
    /// A festival's statutory day off is not inside a break for that festival.
    FestivalDayNotOff { festival: Festival, date: Date },
    /// A holiday ends before it starts.
    ReversedRange {
        holiday: String,
        start: Date,
        end: Date,
    },
    /// A holiday or 调休 date is not in the arrangement's year. A break that crosses New Year
    /// must be split between the two years.
    OutsideYear {
        field: String,
        date: Date,
        year: i16,
    },
    /// Two holidays share a day.
    OverlappingHolidays {
        date: Date,
        first: String,
        second: String,
    },
    /// A date is both a holiday and a 调休 working day.
    HolidayAndAdjustedWorkday { date: Date, holiday: String },
    /// A 调休 working day that is Monday–Friday (those are working days anyway).
    AdjustedWorkdayNotWeekend { date: Date },
    /// The same 调休 working day listed twice.
    DuplicateAdjustedWorkday { date: Date },
}

impl UserMessage for ScheduleProblem {
    fn code(&self) -> &'static str {
        match self {
            ScheduleProblem::BadYear { .. } => "calendar.bad_year",
            ScheduleProblem::YearMismatch { .. } => "calendar.year_mismatch",
            ScheduleProblem::BadDate { .. } => "calendar.bad_date",
            ScheduleProblem::EmptyText { .. } => "calendar.empty_text",
            ScheduleProblem::NoHolidays => "calendar.no_holidays",
            ScheduleProblem::NoFestival { .. } => "calendar.no_festival",
            ScheduleProblem::MissingFestival { .. } => "calendar.missing_festival",
            ScheduleProblem::FestivalDayNotOff { .. } => "calendar.festival_day_not_off",
            ScheduleProblem::ReversedRange { .. } => "calendar.reversed_range",
            ScheduleProblem::OutsideYear { .. } => "calendar.outside_year",
            ScheduleProblem::OverlappingHolidays { .. } => "calendar.overlapping_holidays",
            ScheduleProblem::HolidayAndAdjustedWorkday { .. } => "calendar.holiday_and_workday",
            ScheduleProblem::AdjustedWorkdayNotWeekend { .. } => "calendar.workday_not_weekend",
            ScheduleProblem::DuplicateAdjustedWorkday { .. } => "calendar.duplicate_workday",
        }
    }

    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        match self {
            ScheduleProblem::BadYear { value } => {
                if zh {
                    format!("年份 {value} 不在 1900–2999 之间")
                } else {
                    format!("year {value} is not between 1900 and 2999")
                }
            }
            ScheduleProblem::YearMismatch {
                file_name_year,
                year,
            } => {
                if zh {
                    format!("文件名表示 {file_name_year} 年，但文件内 year = {year}")
                } else {
                    format!("the file name says {file_name_year} but the file says year = {year}")
                }
            }
            ScheduleProblem::BadDate { field, value } => {
                if zh {
                    format!("{field} 不是有效日期（应为 YYYY-MM-DD）：{value}")
                } else {
                    format!("{field} is not a valid date (expected YYYY-MM-DD): {value}")
                }
            }
            ScheduleProblem::EmptyText { field } => {
                if zh {
                    format!("{field} 不能为空")
                } else {
                    format!("{field} must not be empty")
                }
            }
            ScheduleProblem::NoHolidays => {
                if zh {
                    "没有任何节假日".to_owned()
                } else {
                    "no holidays are given".to_owned()
                }
            }
            ScheduleProblem::NoFestival { field } => {
                if zh {
                    format!("{field} 未注明是哪个法定节日的假期")
                } else {
                    format!("{field} does not say which statutory festival it is for")
                }
            }
            ScheduleProblem::MissingFestival { festival } => {
                if zh {
                    format!(
                        "缺少{}的放假安排（《全国年节及纪念日放假办法》规定的节日都须列出）",
                        festival.name_zh()
                    )
                } else {
                    format!(
                        "{} is missing (every festival of the statutory list must be given)",
                        festival.name_en()
                    )
                }
            }
            ScheduleProblem::FestivalDayNotOff { festival, date } => {
                if zh {
                    format!(
                        "{date} 是{}的法定假日，但不在该节日的放假日期内",
                        festival.name_zh()
                    )
                } else {
                    format!(
                        "{date} is a statutory day off of {} but is not inside its break",
                        festival.name_en()
                    )
                }
            }
            ScheduleProblem::ReversedRange {
                holiday,
                start,
                end,
            } => {
                if zh {
                    format!("{holiday} 的结束日期 {end} 早于开始日期 {start}")
                } else {
                    format!("{holiday} ends ({end}) before it starts ({start})")
                }
            }
            ScheduleProblem::OutsideYear { field, date, year } => {
                if zh {
                    format!(
                        "{field} 的日期 {date} 不在 {year} 年内（跨年的假期须分别录入两个年份）"
                    )
                } else {
                    format!(
                        "{field}: {date} is not in {year} (a break across New Year must be split between the two years)"
                    )
                }
            }
            ScheduleProblem::OverlappingHolidays {
                date,
                first,
                second,
            } => {
                if zh {
                    format!("{date} 同时属于 {first} 和 {second}")
                } else {
                    format!("{date} is in both {first} and {second}")
                }
            }
            ScheduleProblem::HolidayAndAdjustedWorkday { date, holiday } => {
                if zh {
                    format!("{date} 既是 {holiday} 假期又是调休上班日")
                } else {
                    format!("{date} is both a day off ({holiday}) and an adjusted workday")
                }
            }
            ScheduleProblem::AdjustedWorkdayNotWeekend { date } => {
                if zh {
                    format!(
                        "调休上班日 {date} 是{}，不是周六或周日",
                        weekday_name(date.weekday(), lang)
                    )
                } else {
                    format!(
                        "adjusted workday {date} is a {}, not a Saturday or Sunday",
                        weekday_name(date.weekday(), lang)
                    )
                }
            }
            ScheduleProblem::DuplicateAdjustedWorkday { date } => {
                if zh {
                    format!("调休上班日 {date} 重复列出")
                } else {
                    format!("adjusted workday {date} is listed twice")
                }
            }
        }
    }
}

impl fmt::Display for ScheduleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

// ---------------------------------------------------------------------------------------------
// File format and validation

/// The file as written. Dates are kept as TOML values so that a bad one is reported with the
/// field it is in; both TOML local dates (`2025-01-26`) and strings (`"2025-01-26"`) are accepted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYearFile {
    year: i64,
    #[serde(default)]
    adjusted_workdays: Vec<toml::Value>,
    notice: RawNotice,
    #[serde(default)]
    holidays: Vec<RawHoliday>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotice {
    title: String,
    #[serde(default)]
    document_number: Option<String>,
    published: toml::Value,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name_zh: String,
    name_en: String,
    start: toml::Value,
    end: toml::Value,
}

fn parse_date(field: &str, value: &toml::Value) -> Result<Date, ScheduleProblem> {
    let bad = || ScheduleProblem::BadDate {
        field: field.to_owned(),
        value: value.to_string(),
    };
    match value {
        toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                let year = i16::try_from(d.year).map_err(|_| bad())?;
                let month = i8::try_from(d.month).map_err(|_| bad())?;
                let day = i8::try_from(d.day).map_err(|_| bad())?;
                Date::new(year, month, day).map_err(|_| bad())
            }
            _ => Err(bad()),
        },
        toml::Value::String(s) if s.len() == 10 => jiff::fmt::strtime::parse("%Y-%m-%d", s)
            .and_then(|tm| tm.to_date())
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn non_empty(field: &str, text: String) -> Result<String, ScheduleProblem> {
    let text = text.trim().to_owned();
    if text.is_empty() {
        Err(ScheduleProblem::EmptyText {
            field: field.to_owned(),
        })
    } else {
        Ok(text)
    }
}

/// A yearly file → a checked schedule; the breaks keep the file's names, and their festivals
/// are read from the Chinese name ("国庆节、中秋节").
fn from_file(file_name: &str, raw: RawYearFile) -> Result<YearSchedule, ScheduleProblem> {
    let year = i16::try_from(raw.year)
        .ok()
        .filter(|_| YEARS.contains(&raw.year))
        .ok_or(ScheduleProblem::BadYear { value: raw.year })?;
    let stem_year = Path::new(file_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse::<i64>().ok());
    if let Some(file_name_year) = stem_year
        && file_name_year != raw.year
    {
        return Err(ScheduleProblem::YearMismatch {
            file_name_year,
            year,
        });
    }
    let notice = Notice {
        title: raw.notice.title,
        document_number: raw.notice.document_number,
        published: parse_date("notice.published", &raw.notice.published)?,
        source: raw.notice.source,
    };
    let mut holidays = Vec::with_capacity(raw.holidays.len());
    let mut names = Vec::with_capacity(raw.holidays.len());
    for (i, h) in raw.holidays.into_iter().enumerate() {
        let name_zh = non_empty(&format!("holidays[{i}].name_zh"), h.name_zh)?;
        let label = format!("holidays[{i}] ({name_zh})");
        let name_en = non_empty(&format!("{label}.name_en"), h.name_en)?;
        holidays.push(Break {
            festivals: Festival::named_in(&name_zh),
            start: parse_date(&format!("{label}.start"), &h.start)?,
            end: parse_date(&format!("{label}.end"), &h.end)?,
        });
        names.push((name_zh, name_en));
    }
    let adjusted_workdays = raw
        .adjusted_workdays
        .iter()
        .enumerate()
        .map(|(i, v)| parse_date(&format!("adjusted_workdays[{i}]"), v))
        .collect::<Result<Vec<_>, _>>()?;
    check(
        Arrangement {
            year,
            notice,
            holidays,
            adjusted_workdays,
        },
        Source::File {
            path: file_name.to_owned(),
        },
        names,
    )
}

/// The checks every official arrangement passes; `names` are each break's (zh, en) names.
fn check(
    a: Arrangement,
    source: Source,
    names: Vec<(String, String)>,
) -> Result<YearSchedule, ScheduleProblem> {
    let year = a.year;
    if !YEARS.contains(&i64::from(year)) {
        return Err(ScheduleProblem::BadYear {
            value: i64::from(year),
        });
    }
    let in_year = |field: &str, date: Date| {
        if date.year() == year {
            Ok(date)
        } else {
            Err(ScheduleProblem::OutsideYear {
                field: field.to_owned(),
                date,
                year,
            })
        }
    };

    // Notice metadata (its date is normally in the previous year).
    let notice = Notice {
        title: non_empty("notice.title", a.notice.title)?,
        document_number: a
            .notice
            .document_number
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        published: a.notice.published,
        source: a
            .notice
            .source
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
    };

    // Holidays: valid ranges inside the year, each for a festival, no shared day.
    if a.holidays.is_empty() {
        return Err(ScheduleProblem::NoHolidays);
    }
    let mut holidays = Vec::with_capacity(a.holidays.len());
    for (i, (b, (name_zh, name_en))) in a.holidays.into_iter().zip(names).enumerate() {
        let label = format!("holidays[{i}] ({name_zh})");
        if b.festivals.is_empty() {
            return Err(ScheduleProblem::NoFestival { field: label });
        }
        in_year(&format!("{label}.start"), b.start)?;
        in_year(&format!("{label}.end"), b.end)?;
        if b.end < b.start {
            return Err(ScheduleProblem::ReversedRange {
                holiday: name_zh,
                start: b.start,
                end: b.end,
            });
        }
        let mut festivals = b.festivals;
        festivals.sort();
        festivals.dedup();
        holidays.push(Holiday {
            name_zh,
            name_en,
            festivals,
            start: b.start,
            end: b.end,
        });
    }
    holidays.sort_by_key(|h| h.start);
    let mut holiday_by_date = BTreeMap::new();
    for (index, h) in holidays.iter().enumerate() {
        for date in days_of(h.start, h.end) {
            if let Some(previous) = holiday_by_date.insert(date, index) {
                return Err(ScheduleProblem::OverlappingHolidays {
                    date,
                    first: holidays
                        .get(previous)
                        .map(|p| p.name_zh.clone())
                        .unwrap_or_default(),
                    second: h.name_zh.clone(),
                });
            }
        }
    }

    // Every statutory festival has its break, and the break holds the festival's statutory
    // days off (catches a year's dates copied from another year, domain §8.2 warnings).
    for festival in Festival::ALL {
        if !holidays.iter().any(|h| h.festivals.contains(&festival)) {
            return Err(ScheduleProblem::MissingFestival { festival });
        }
        for date in festival.statutory_days(year).unwrap_or_default() {
            let off = holiday_by_date
                .get(&date)
                .and_then(|i| holidays.get(*i))
                .is_some_and(|h| h.festivals.contains(&festival));
            if date.year() == year && !off {
                return Err(ScheduleProblem::FestivalDayNotOff { festival, date });
            }
        }
    }

    // 调休 working days: inside the year, weekend days, not holidays, listed once.
    let mut adjusted_workdays = BTreeSet::new();
    for (i, date) in a.adjusted_workdays.into_iter().enumerate() {
        let date = in_year(&format!("adjusted_workdays[{i}]"), date)?;
        if let Some(&index) = holiday_by_date.get(&date) {
            return Err(ScheduleProblem::HolidayAndAdjustedWorkday {
                date,
                holiday: holidays
                    .get(index)
                    .map(|h| h.name_zh.clone())
                    .unwrap_or_default(),
            });
        }
        if !is_weekend(date) {
            return Err(ScheduleProblem::AdjustedWorkdayNotWeekend { date });
        }
        if !adjusted_workdays.insert(date) {
            return Err(ScheduleProblem::DuplicateAdjustedWorkday { date });
        }
    }

    Ok(YearSchedule {
        year,
        source,
        notice: Some(notice),
        holidays,
        holiday_by_date,
        adjusted_workdays,
    })
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn data_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/calendar")
    }

    static CAL: std::sync::LazyLock<HolidayCalendar> = std::sync::LazyLock::new(|| {
        HolidayCalendar::load_dir(data_dir()).expect("data/calendar loads")
    });

    fn cal() -> &'static HolidayCalendar {
        &CAL
    }

    const YES: CountingRules = CountingRules {
        count_adjusted_workdays: true,
    };
    const NO: CountingRules = CountingRules {
        count_adjusted_workdays: false,
    };

    fn add(c: &HolidayCalendar, start: Date, n: u32, rules: CountingRules) -> Date {
        c.add_working_days(start, n, &rules).expect("covered").date
    }

    fn all_days(year: i16) -> Vec<Date> {
        date(year, 1, 1)
            .series(jiff::Span::new().days(1))
            .take_while(|d| d.year() == year)
            .collect()
    }

    /// The data as written in domain §8.1 / §8.2, independent of the TOML files.
    fn reference_holidays() -> Vec<(&'static str, Date, Date)> {
        vec![
            // §8.1 (2025)
            ("元旦", date(2025, 1, 1), date(2025, 1, 1)),
            ("春节", date(2025, 1, 28), date(2025, 2, 4)),
            ("清明节", date(2025, 4, 4), date(2025, 4, 6)),
            ("劳动节", date(2025, 5, 1), date(2025, 5, 5)),
            ("端午节", date(2025, 5, 31), date(2025, 6, 2)),
            ("国庆节、中秋节", date(2025, 10, 1), date(2025, 10, 8)),
            // §8.2 (2026)
            ("元旦", date(2026, 1, 1), date(2026, 1, 3)),
            ("春节", date(2026, 2, 15), date(2026, 2, 23)),
            ("清明节", date(2026, 4, 4), date(2026, 4, 6)),
            ("劳动节", date(2026, 5, 1), date(2026, 5, 5)),
            ("端午节", date(2026, 6, 19), date(2026, 6, 21)),
            ("中秋节", date(2026, 9, 25), date(2026, 9, 27)),
            ("国庆节", date(2026, 10, 1), date(2026, 10, 7)),
        ]
    }

    fn reference_adjusted() -> Vec<Date> {
        vec![
            // §8.1
            date(2025, 1, 26),
            date(2025, 2, 8),
            date(2025, 4, 27),
            date(2025, 9, 28),
            date(2025, 10, 11),
            // §8.2
            date(2026, 1, 4),
            date(2026, 2, 14),
            date(2026, 2, 28),
            date(2026, 5, 9),
            date(2026, 9, 20),
            date(2026, 10, 10),
        ]
    }

    #[test]
    fn real_files_load_with_metadata() {
        let c = cal();
        assert_eq!(c.covered_years(), vec![2025, 2026]);
        let y25 = c.year(2025).expect("2025");
        assert_eq!(y25.notice().expect("notice").published, date(2024, 11, 12));
        assert_eq!(
            y25.notice().expect("notice").document_number.as_deref(),
            Some("国办发明电〔2024〕12号")
        );
        assert!(matches!(y25.source(), Source::File { path } if path.ends_with("2025.toml")));
        let y26 = c.year(2026).expect("2026");
        assert_eq!(y26.notice().expect("notice").published, date(2025, 11, 4));
        assert_eq!(y26.notice().expect("notice").document_number, None);
        assert_eq!(y26.holidays().len(), 7);
        let spring = c.holiday_on(date(2026, 2, 17)).expect("春节");
        assert_eq!(spring.name(Lang::ZhCn), "春节");
        assert_eq!(spring.name(Lang::En), "Spring Festival");
        assert_eq!(
            (spring.start, spring.end),
            (date(2026, 2, 15), date(2026, 2, 23))
        );
    }

    #[test]
    fn each_year_has_248_working_days() {
        let c = cal();
        for year in [2025, 2026] {
            let n = all_days(year)
                .into_iter()
                .filter(|d| c.is_working_day(*d).expect("covered"))
                .count();
            assert_eq!(n, 248, "working days in {year} (domain §8)");
        }
    }

    #[test]
    fn data_matches_domain_section_8() {
        let c = cal();
        let mut expected_off = BTreeSet::new();
        for (name, start, end) in reference_holidays() {
            let mut d = start;
            while d <= end {
                assert!(!c.is_working_day(d).expect("covered"), "{d} is a holiday");
                assert_eq!(
                    c.holiday_on(d).map(|h| h.name_zh.as_str()),
                    Some(name),
                    "{d}"
                );
                assert!(!c.is_adjusted_workday(d));
                expected_off.insert(d);
                d = d.tomorrow().expect("date");
            }
        }
        for d in reference_adjusted() {
            assert!(
                c.is_working_day(d).expect("covered"),
                "{d} is a 调休 working day"
            );
            assert!(c.is_adjusted_workday(d), "{d}");
            assert!(is_weekend(d), "{d}");
            assert!(c.holiday_on(d).is_none());
        }
        // Nothing else: every other day follows the Mon–Fri rule.
        let adjusted: BTreeSet<Date> = reference_adjusted().into_iter().collect();
        for year in [2025, 2026] {
            for d in all_days(year) {
                if !expected_off.contains(&d) && !adjusted.contains(&d) {
                    assert_eq!(c.is_working_day(d).expect("covered"), !is_weekend(d), "{d}");
                    assert!(c.holiday_on(d).is_none(), "{d}");
                }
            }
        }
    }

    #[test]
    fn weekdays_off_match_domain_counts() {
        // §8.1: 18 weekdays off in 2025; §8.2: 19 in 2026.
        let c = cal();
        for (year, expected) in [(2025, 18), (2026, 19)] {
            let n = all_days(year)
                .into_iter()
                .filter(|d| !is_weekend(*d) && c.holiday_on(*d).is_some())
                .count();
            assert_eq!(n, expected, "{year}");
        }
    }

    #[test]
    fn domain_section_4_example() {
        // Thu 2026-02-12 accepted. Counted days:
        //   02-13 Fri (1), 02-14 Sat 调休 (2), 02-15..02-23 春节, 02-24 Tue (3), 02-25 (4),
        //   02-26 (5), 02-27 Fri (6), 02-28 Sat 调休 (7)                    -> 2026-02-28.
        // Without 调休 weekend days: 02-13 (1), [02-14 skipped], 02-24 (2), 02-25 (3),
        //   02-26 (4), 02-27 (5), [02-28 Sat, 03-01 Sun], 03-02 Mon (6), 03-03 Tue (7)
        //                                                                   -> 2026-03-03.
        let c = cal();
        assert_eq!(add(c, date(2026, 2, 12), 7, YES), date(2026, 2, 28));
        assert_eq!(add(c, date(2026, 2, 12), 7, NO), date(2026, 3, 3));
        assert_eq!(CountingRules::default(), YES);
    }

    #[test]
    fn across_2025_spring_festival() {
        // Fri 2025-01-24 accepted. 01-25 Sat off, 01-26 Sun 调休 (1), 01-27 Mon (2),
        //   01-28..02-04 春节, 02-05 Wed (3), 02-06 (4), 02-07 Fri (5), 02-08 Sat 调休 (6),
        //   02-09 Sun off, 02-10 Mon (7)                                    -> 2025-02-10.
        // Without 调休: 01-27 (1), 02-05 (2), 02-06 (3), 02-07 (4), 02-10 (5), 02-11 (6),
        //   02-12 Wed (7)                                                   -> 2025-02-12.
        let c = cal();
        assert_eq!(add(c, date(2025, 1, 24), 7, YES), date(2025, 2, 10));
        assert_eq!(add(c, date(2025, 1, 24), 7, NO), date(2025, 2, 12));
    }

    #[test]
    fn across_2026_spring_festival() {
        // Fri 2026-02-13 + 5: 02-14 Sat 调休 (1), 02-24 (2), 02-25 (3), 02-26 (4), 02-27 (5).
        // Without 调休: 02-24 (1) .. 02-27 (4), 03-02 Mon (5).
        let c = cal();
        assert_eq!(add(c, date(2026, 2, 13), 5, YES), date(2026, 2, 27));
        assert_eq!(add(c, date(2026, 2, 13), 5, NO), date(2026, 3, 2));
        // Accepted on a holiday (e.g. green-channel duty): the first day counted is 02-24.
        assert_eq!(add(c, date(2026, 2, 17), 1, YES), date(2026, 2, 24));
    }

    #[test]
    fn across_2025_national_day() {
        // Fri 2025-09-26 accepted. 09-27 Sat off, 09-28 Sun 调休 (1), 09-29 Mon (2),
        //   09-30 Tue (3), 10-01..10-08 国庆节、中秋节, 10-09 Thu (4), 10-10 Fri (5),
        //   10-11 Sat 调休 (6), 10-12 Sun off, 10-13 Mon (7)                -> 2025-10-13.
        // Without 调休: 09-29 (1), 09-30 (2), 10-09 (3), 10-10 (4), 10-13 (5), 10-14 (6),
        //   10-15 Wed (7)                                                   -> 2025-10-15.
        let c = cal();
        assert_eq!(add(c, date(2025, 9, 26), 7, YES), date(2025, 10, 13));
        assert_eq!(add(c, date(2025, 9, 26), 7, NO), date(2025, 10, 15));
        assert_eq!(
            c.working_days_between(date(2025, 9, 26), date(2025, 10, 13), &YES)
                .expect("covered"),
            7
        );
        assert_eq!(
            c.working_days_between(date(2025, 10, 13), date(2025, 9, 26), &YES)
                .expect("covered"),
            -7
        );
    }

    #[test]
    fn across_new_year() {
        // Wed 2025-12-31 + 1: 2026-01-01..01-03 元旦, 01-04 Sun 调休 (1). Without: Mon 01-05.
        let c = cal();
        assert_eq!(add(c, date(2025, 12, 31), 1, YES), date(2026, 1, 4));
        assert_eq!(add(c, date(2025, 12, 31), 1, NO), date(2026, 1, 5));
        assert_eq!(add(c, date(2025, 12, 31), 0, YES), date(2025, 12, 31));
    }

    #[test]
    fn a_year_without_a_notice_is_provisional_and_one_the_statute_does_not_reach_is_refused() {
        let c = cal();
        // 2027: no notice shipped, so the statutory days off and weekends, marked provisional.
        assert!(c.is_provisional(2027));
        assert!(!c.is_provisional(2026));
        assert!(!c.is_working_day(date(2027, 1, 1)).expect("provisional"));
        assert!(c.is_working_day(date(2027, 3, 1)).expect("provisional"));
        assert_eq!(
            c.holiday_on(date(2027, 2, 5)).map(|h| h.name_zh.as_str()),
            Some("春节")
        );
        // Mon 2026-12-28 + 7: 12-29 (1), 12-30 (2), 12-31 (3), 2027-01-01 元旦, 01-02/03
        // weekend, 01-04 (4), 01-05 (5), 01-06 (6), 01-07 (7).
        assert_eq!(
            c.add_working_days(date(2026, 12, 28), 7, &YES)
                .expect("provisional"),
            Reckoned {
                date: date(2027, 1, 7),
                provisional: true
            }
        );
        // Counting inside the official year stays official, even on 12-31.
        assert_eq!(
            c.add_working_days(date(2026, 12, 22), 7, &YES)
                .expect("official"),
            Reckoned {
                date: date(2026, 12, 31),
                provisional: false
            }
        );
        assert_eq!(
            c.first_provisional_day(date(2026, 12, 2)),
            Some(date(2027, 1, 1))
        );
        assert_eq!(
            c.first_provisional_day(date(2027, 6, 1)),
            Some(date(2027, 6, 1))
        );
        // Before the 2025 revision, and beyond the statute's table: refused, never guessed.
        let err = c
            .is_working_day(date(2024, 12, 31))
            .expect_err("2024 has no data");
        assert!(matches!(err, CalendarError::YearNotCovered { year: 2024 }));
        assert_eq!(err.code(), "calendar.year_not_covered");
        assert!(err.message(Lang::ZhCn).contains("2024年"));
        assert!(err.message(Lang::En).contains("2024"));
        assert!(matches!(
            c.is_working_day(date(2101, 3, 1)),
            Err(CalendarError::YearNotCovered { year: 2101 })
        ));
        assert!(c.holiday_on(date(2024, 1, 1)).is_none());
        assert!(!c.is_adjusted_workday(date(2027, 1, 2)));
    }

    #[test]
    fn the_provisional_rule_reproduces_the_statutory_days_of_2025_and_2026() {
        // Every statutory day off the rule computes is a day off of the same festival in the
        // notices; the notices add bridge days and 调休, which only they can give.
        let official = cal();
        let bare = HolidayCalendar::new();
        for year in [2025, 2026] {
            assert!(bare.is_provisional(year));
            let rule = bare.year(year).expect("statute reaches it");
            assert_eq!(rule.holidays().len(), 7, "{year}");
            for h in rule.holidays() {
                for d in days_of(h.start, h.end) {
                    let notice = official.holiday_on(d).expect("a day off in the notice");
                    assert!(
                        notice.festivals.iter().any(|f| h.festivals.contains(f)),
                        "{d}: {} vs {}",
                        h.name_zh,
                        notice.name_zh
                    );
                    assert!(!bare.is_working_day(d).expect("provisional"));
                }
            }
            assert_eq!(rule.adjusted_workdays().count(), 0);
        }
        // The lines the operators' CLI prints.
        assert_eq!(
            bare.day(date(2026, 2, 16)).expect("day").line(),
            "2026-02-16 rest provisional 春节"
        );
        assert_eq!(
            official.day(date(2026, 2, 14)).expect("day").line(),
            "2026-02-14 workday official 调休"
        );
        assert_eq!(
            official.day(date(2026, 2, 13)).expect("day").line(),
            "2026-02-13 workday official"
        );
    }

    #[test]
    fn a_calendar_day_period_ending_on_a_rest_day_ends_on_the_next_working_day() {
        // 民法典 第二百零三条. 2026-09-15 + 20 = 10-05, inside National Day (10-01..10-07): 10-08.
        let c = cal();
        let end = |d, n| c.add_calendar_days(d, n).expect("covered");
        assert_eq!(
            end(date(2026, 9, 15), 20),
            Reckoned {
                date: date(2026, 10, 8),
                provisional: false
            }
        );
        // Ending on a Saturday (2026-12-19): Monday 12-21.
        assert_eq!(end(date(2026, 11, 29), 20).date, date(2026, 12, 21));
        // Ending on a working day: unchanged.
        assert_eq!(end(date(2026, 12, 2), 20).date, date(2026, 12, 22));
        // Ending on 2027-01-01 (provisional 元旦), then the weekend: Monday 01-04, provisional.
        assert_eq!(
            end(date(2026, 12, 12), 20),
            Reckoned {
                date: date(2027, 1, 4),
                provisional: true
            }
        );
        // 2026-12-22 + 20 = 2027-01-11, a Monday: no longer produced silently.
        assert!(end(date(2026, 12, 22), 20).provisional);
        // A 调休 Saturday is a working day: 2026-01-25 + 20 = 02-14 stays.
        assert_eq!(end(date(2026, 1, 25), 20).date, date(2026, 2, 14));
    }

    fn arrangement_2026() -> Arrangement {
        cal()
            .official_year(2026)
            .and_then(|y| y.arrangement())
            .expect("2026 shipped")
    }

    #[test]
    fn an_entered_notice_is_checked_and_replaces_the_year() {
        let a = arrangement_2026();
        let entered = Source::Entered {
            version: 1,
            entered_at: 0,
        };
        let s = YearSchedule::official(a.clone(), entered.clone()).expect("valid");
        assert_eq!(s.holidays().len(), 7);
        assert_eq!(s.holidays()[1].name_zh, "春节");

        // A 2027 notice (dates of the kind the State Council gives) ends the provisional year.
        let mut c = cal().clone();
        let y2027 = Arrangement {
            year: 2027,
            notice: Notice {
                title: "国务院办公厅关于2027年部分节假日安排的通知".into(),
                document_number: Some("国办发明电〔2026〕7号".into()),
                published: date(2026, 11, 20),
                source: None,
            },
            holidays: vec![
                brk(&[Festival::NewYear], date(2027, 1, 1), date(2027, 1, 3)),
                brk(
                    &[Festival::SpringFestival],
                    date(2027, 2, 5),
                    date(2027, 2, 12),
                ),
                brk(&[Festival::Qingming], date(2027, 4, 3), date(2027, 4, 5)),
                brk(&[Festival::LabourDay], date(2027, 5, 1), date(2027, 5, 5)),
                brk(&[Festival::DragonBoat], date(2027, 6, 9), date(2027, 6, 11)),
                brk(&[Festival::MidAutumn], date(2027, 9, 15), date(2027, 9, 17)),
                brk(
                    &[Festival::NationalDay],
                    date(2027, 10, 1),
                    date(2027, 10, 7),
                ),
            ],
            adjusted_workdays: vec![date(2027, 2, 20), date(2027, 10, 9)],
        };
        c.set(YearSchedule::official(y2027.clone(), entered.clone()).expect("valid 2027"));
        assert!(!c.is_provisional(2027));
        assert!(c.is_working_day(date(2027, 2, 20)).expect("调休"));
        assert!(!c.is_working_day(date(2027, 2, 8)).expect("春节"));
        assert!(
            !c.add_working_days(date(2026, 12, 28), 7, &YES)
                .expect("ok")
                .provisional
        );

        let problem =
            |a: Arrangement| YearSchedule::official(a, entered.clone()).expect_err("refused");
        // Every statutory festival must be there.
        let mut missing = y2027.clone();
        missing
            .holidays
            .retain(|b| b.festivals != [Festival::DragonBoat]);
        assert_eq!(
            problem(missing),
            ScheduleProblem::MissingFestival {
                festival: Festival::DragonBoat
            }
        );
        // A festival's statutory day must be inside its break (the 2026 dates copied into 2027).
        let mut copied = y2027.clone();
        copied.holidays[1] = brk(
            &[Festival::SpringFestival],
            date(2027, 2, 15),
            date(2027, 2, 23),
        );
        let p = problem(copied);
        assert_eq!(
            p,
            ScheduleProblem::FestivalDayNotOff {
                festival: Festival::SpringFestival,
                date: date(2027, 2, 5)
            }
        );
        assert!(p.message(Lang::ZhCn).contains("春节"));
        assert_eq!(p.code(), "calendar.festival_day_not_off");
        // A break must name its festival; dates in the year; 调休 on weekends only.
        let mut unnamed = y2027.clone();
        unnamed.holidays[0].festivals.clear();
        assert!(matches!(
            problem(unnamed),
            ScheduleProblem::NoFestival { .. }
        ));
        let mut outside = y2027.clone();
        outside.adjusted_workdays.push(date(2026, 12, 27));
        assert!(matches!(
            problem(outside),
            ScheduleProblem::OutsideYear { .. }
        ));
        let mut weekday = y2027.clone();
        weekday.adjusted_workdays.push(date(2027, 3, 3));
        assert!(matches!(
            problem(weekday),
            ScheduleProblem::AdjustedWorkdayNotWeekend { .. }
        ));
        let mut overlap = y2027;
        overlap.holidays[6].start = date(2027, 9, 16);
        assert!(matches!(
            problem(overlap),
            ScheduleProblem::OverlappingHolidays { .. }
        ));
    }

    fn brk(festivals: &[Festival], start: Date, end: Date) -> Break {
        Break {
            festivals: festivals.to_vec(),
            start,
            end,
        }
    }

    const MINIMAL: &str = r#"
year = 2026
adjusted_workdays = [2026-02-14]
[notice]
title = "t"
published = 2025-11-04
[[holidays]]
name_zh = "春节"
name_en = "Spring Festival"
start = 2026-02-15
end = "2026-02-23"
[[holidays]]
name_zh = "元旦"
name_en = "New Year's Day"
start = 2026-01-01
end = 2026-01-03
[[holidays]]
name_zh = "清明节"
name_en = "Qingming Festival"
start = 2026-04-04
end = 2026-04-06
[[holidays]]
name_zh = "劳动节"
name_en = "Labour Day"
start = 2026-05-01
end = 2026-05-05
[[holidays]]
name_zh = "端午节"
name_en = "Dragon Boat Festival"
start = 2026-06-19
end = 2026-06-21
[[holidays]]
name_zh = "中秋节"
name_en = "Mid-Autumn Festival"
start = 2026-09-25
end = 2026-09-27
[[holidays]]
name_zh = "国庆节"
name_en = "National Day"
start = 2026-10-01
end = 2026-10-07
"#;

    fn problem(file: &str, text: &str) -> (String, ScheduleProblem) {
        match HolidayCalendar::from_toml_str(file, text) {
            Err(CalendarError::InvalidFile { file, problem }) => (file, problem),
            other => panic!("expected InvalidFile, got {other:?}"),
        }
    }

    #[test]
    fn minimal_file_loads_and_strings_are_accepted_as_dates() {
        let c = HolidayCalendar::from_toml_str("2026.toml", MINIMAL).expect("valid");
        assert_eq!(
            c.holiday_on(date(2026, 2, 23)).map(|h| h.end),
            Some(date(2026, 2, 23))
        );
        // A holiday on a weekend day is fine (02-15 is a Sunday).
        assert!(c.holiday_on(date(2026, 2, 15)).is_some());
    }

    #[test]
    fn bad_files_name_the_file_and_the_problem() {
        let (file, p) = problem(
            "2026.toml",
            &MINIMAL.replace("\"2026-02-23\"", "\"2026-02-30\""),
        );
        assert_eq!(file, "2026.toml");
        assert!(
            matches!(&p, ScheduleProblem::BadDate { field, .. } if field.contains("春节") && field.ends_with(".end"))
        );
        let err = HolidayCalendar::from_toml_str(
            "2026.toml",
            &MINIMAL.replace("\"2026-02-23\"", "\"2026-02-30\""),
        )
        .expect_err("bad");
        assert!(err.to_string().contains("2026.toml"), "{err}");
        assert!(err.message(Lang::ZhCn).contains("2026.toml"));
        assert_eq!(err.code(), "calendar.invalid_file");

        // An impossible TOML date is rejected by the TOML parser; still names the file.
        let err = HolidayCalendar::from_toml_str(
            "data/calendar/2026.toml",
            &MINIMAL.replace("start = 2026-02-15", "start = 2026-02-30"),
        )
        .expect_err("bad");
        assert!(
            matches!(&err, CalendarError::Parse { file, .. } if file == "data/calendar/2026.toml")
        );
        assert!(err.to_string().contains("data/calendar/2026.toml"));

        // A date-time is not a date.
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("start = 2026-02-15", "start = 2026-02-15T08:00:00"),
        );
        assert!(matches!(p, ScheduleProblem::BadDate { .. }));

        // Holiday outside the file's year.
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("start = 2026-02-15", "start = 2025-12-31"),
        );
        assert!(
            matches!(p, ScheduleProblem::OutsideYear { date: d, year: 2026, .. } if d == date(2025, 12, 31))
        );

        // Adjusted workday outside the year.
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("[2026-02-14]", "[2027-01-02]"),
        );
        assert!(matches!(p, ScheduleProblem::OutsideYear { .. }));

        // Both holiday and adjusted workday.
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("[2026-02-14]", "[2026-02-21]"),
        );
        assert!(
            matches!(p, ScheduleProblem::HolidayAndAdjustedWorkday { date: d, .. } if d == date(2026, 2, 21))
        );

        // Adjusted workday on a weekday (2026-02-13 is a Friday).
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("[2026-02-14]", "[2026-02-13]"),
        );
        assert!(matches!(
            p,
            ScheduleProblem::AdjustedWorkdayNotWeekend { .. }
        ));
        assert!(p.message(Lang::En).contains("Friday"), "{p}");
        assert!(p.message(Lang::ZhCn).contains("周五"));

        // Duplicate adjusted workday.
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("[2026-02-14]", "[2026-02-14, \"2026-02-14\"]"),
        );
        assert!(matches!(
            p,
            ScheduleProblem::DuplicateAdjustedWorkday { .. }
        ));

        // Reversed range, overlapping holidays, missing names, no holidays.
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("start = 2026-02-15", "start = 2026-02-24"),
        );
        assert!(matches!(p, ScheduleProblem::ReversedRange { .. }));
        let overlapping = format!(
            "{MINIMAL}[[holidays]]\nname_zh = \"春节\"\nname_en = \"x\"\nstart = 2026-02-23\nend = 2026-02-24\n"
        );
        let (_, p) = problem("2026.toml", &overlapping);
        assert!(
            matches!(p, ScheduleProblem::OverlappingHolidays { date: d, .. } if d == date(2026, 2, 23))
        );
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("name_en = \"Spring Festival\"", "name_en = \" \""),
        );
        assert!(matches!(p, ScheduleProblem::EmptyText { .. }));
        let no_holidays = MINIMAL
            .split("[[holidays]]")
            .next()
            .unwrap_or_default()
            .replace("[2026-02-14]", "[]");
        let (_, p) = problem("2026.toml", &no_holidays);
        assert_eq!(p, ScheduleProblem::NoHolidays);

        // File name and year disagree; year out of range.
        let (file, p) = problem("2025.toml", MINIMAL);
        assert_eq!(file, "2025.toml");
        assert!(matches!(
            p,
            ScheduleProblem::YearMismatch {
                file_name_year: 2025,
                year: 2026
            }
        ));
        assert!(HolidayCalendar::from_toml_str("other-name.toml", MINIMAL).is_ok());
        let (_, p) = problem("x.toml", &MINIMAL.replace("year = 2026", "year = 40000"));
        assert!(matches!(p, ScheduleProblem::BadYear { value: 40000 }));

        // Unknown keys (typos) and syntax errors are parse errors naming the file.
        let err = HolidayCalendar::from_toml_str(
            "2026.toml",
            &MINIMAL.replace("adjusted_workdays", "adjusted_workday"),
        )
        .expect_err("typo");
        assert!(matches!(&err, CalendarError::Parse { file, .. } if file == "2026.toml"));
        assert_eq!(err.code(), "calendar.parse");
        assert!(HolidayCalendar::from_toml_str("2026.toml", "year = ").is_err());
    }

    #[test]
    fn duplicate_year_and_directory_errors() {
        let mut c = HolidayCalendar::from_toml_str("a/2026.toml", MINIMAL).expect("valid");
        let again = HolidayCalendar::from_toml_str("b/2026.toml", MINIMAL).expect("valid");
        let err = c.merge(again).expect_err("duplicate");
        assert!(matches!(
            &err,
            CalendarError::DuplicateYear { year: 2026, first, second }
                if first == "a/2026.toml" && second == "b/2026.toml"
        ));
        assert!(err.message(Lang::ZhCn).contains("a/2026.toml"));

        let tmp =
            std::env::temp_dir().join(format!("onetrip-calendar-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).expect("tmp dir");
        assert!(matches!(
            HolidayCalendar::load_dir(&tmp),
            Err(CalendarError::NoFiles { .. })
        ));
        std::fs::write(tmp.join("2026.toml"), MINIMAL).expect("write");
        std::fs::write(tmp.join("README.md"), "ignored").expect("write");
        assert_eq!(
            HolidayCalendar::load_dir(&tmp)
                .expect("loads")
                .covered_years(),
            vec![2026]
        );
        std::fs::write(tmp.join("2026-copy.toml"), MINIMAL).expect("write");
        assert!(matches!(
            HolidayCalendar::load_dir(&tmp),
            Err(CalendarError::DuplicateYear { year: 2026, .. })
        ));
        std::fs::remove_file(tmp.join("2026-copy.toml")).expect("rm");
        std::fs::write(tmp.join("2025.toml"), "year = 2025\n[notice]\n").expect("write");
        let err = HolidayCalendar::load_dir(&tmp).expect_err("bad file");
        assert!(err.to_string().contains("2025.toml"), "{err}");
        let _ = std::fs::remove_dir_all(&tmp);

        assert!(matches!(
            HolidayCalendar::load_dir("/nonexistent/onetrip/calendar"),
            Err(CalendarError::Io { .. })
        ));
    }

    fn covered_date() -> impl Strategy<Value = Date> {
        // Any day of 2025–2026.
        (0i64..730).prop_map(|offset| {
            date(2025, 1, 1)
                .checked_add(jiff::Span::new().days(offset))
                .expect("in range")
        })
    }

    fn rules() -> impl Strategy<Value = CountingRules> {
        any::<bool>().prop_map(|count_adjusted_workdays| CountingRules {
            count_adjusted_workdays,
        })
    }

    proptest! {
        #[test]
        fn add_working_days_increases_and_lands_on_working_days(
            start in covered_date(),
            n in 0u32..60,
            rules in rules(),
        ) {
            let c = cal();
            let (Ok(a), Ok(b)) = (
                c.add_working_days(start, n, &rules).map(|r| r.date),
                c.add_working_days(start, n + 1, &rules).map(|r| r.date),
            ) else {
                // Ran into 2027: must be the uncovered-year error, nothing else.
                let err = c.add_working_days(start, n + 1, &rules).expect_err("an error");
                let is_2027 = matches!(err, CalendarError::YearNotCovered { year: 2027 });
                prop_assert!(is_2027, "unexpected error: {}", err);
                return Ok(());
            };
            prop_assert!(a < b);
            prop_assert!(c.is_working_day(b).expect("covered"));
            prop_assert!(c.counts_as_working_day(b, &rules).expect("covered"));
            if n > 0 {
                prop_assert!(start < a);
                prop_assert!(c.counts_as_working_day(a, &rules).expect("covered"));
            }
        }

        #[test]
        fn working_days_between_inverts_add(
            start in covered_date(),
            n in 0u32..80,
            rules in rules(),
        ) {
            let c = cal();
            if let Ok(Reckoned { date: end, .. }) = c.add_working_days(start, n, &rules) {
                prop_assert_eq!(c.working_days_between(start, end, &rules).expect("covered"), i64::from(n));
                prop_assert_eq!(c.working_days_between(end, start, &rules).expect("covered"), -i64::from(n));
            }
        }
    }
}
