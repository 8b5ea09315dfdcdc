//! Working-day calendar: public holidays and 调休 working days, loaded from one TOML file per
//! year (`data/calendar/<year>.toml`), and the due-date arithmetic built on it.
//!
//! The data comes from the State Council notices (domain §8.1 for 2025, §8.2 for 2026) and
//! matches the PyPI `chinesecalendar` tables (domain §8.3). A year without data is an error
//! ([`CalendarError::YearNotCovered`]), never silently a working day: the next year's notice
//! appears around November, and the data files must be updated every year (domain §8.2).
//!
//! Counting (domain §4): the acceptance day is not counted; Saturdays, Sundays and statutory
//! holidays are not counted. Whether 调休 weekend working days count is unclear, so it is a
//! setting ([`CountingRules::count_adjusted_workdays`], default `true` as in chinesecalendar).
//!
//! Validation is done once, when a file is loaded; the query functions do no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

use crate::i18n::{Lang, UserMessage};

/// The range of years a data file may declare.
const YEARS: std::ops::RangeInclusive<i64> = 1900..=2999;

/// A public holiday break (放假): an inclusive range of days off with its names.
///
/// Weekend days inside the range are normal (e.g. 2026 春节 starts on a Sunday).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    /// Name in Chinese, e.g. `春节`.
    pub name_zh: String,
    /// Name in English, e.g. `Spring Festival`.
    pub name_en: String,
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

/// The State Council notice a year's data comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// e.g. `国务院办公厅关于2026年部分节假日安排的通知`.
    pub title: String,
    /// e.g. `国办发明电〔2024〕12号`; `None` where it was not seen (2026, domain §8.2).
    pub document_number: Option<String>,
    /// Date of the notice.
    pub published: Date,
    /// Where the text was read.
    pub source: Option<String>,
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

/// One year's data, as loaded from one file.
#[derive(Debug, Clone)]
pub struct YearSchedule {
    year: i16,
    file: String,
    notice: Notice,
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

    /// The file the data was loaded from (as given to the loader).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The notice the data comes from.
    pub fn notice(&self) -> &Notice {
        &self.notice
    }

    /// The holiday breaks, in date order.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// The 调休 working days, in date order.
    pub fn adjusted_workdays(&self) -> impl Iterator<Item = Date> + '_ {
        self.adjusted_workdays.iter().copied()
    }
}

/// Holidays and 调休 working days for the years that have data.
#[derive(Debug, Clone, Default)]
pub struct HolidayCalendar {
    years: BTreeMap<i16, YearSchedule>,
}

impl HolidayCalendar {
    /// An empty calendar: every working-day query fails with `YearNotCovered`.
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
        let schedule = validate(file_name, raw).map_err(|problem| CalendarError::InvalidFile {
            file: file_name.to_owned(),
            problem,
        })?;
        let mut years = BTreeMap::new();
        years.insert(schedule.year, schedule);
        Ok(HolidayCalendar { years })
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
            let first = self.years.get(year).map(|s| s.file.clone());
            return Err(CalendarError::DuplicateYear {
                year: *year,
                first: first.unwrap_or_default(),
                second: theirs.file.clone(),
            });
        }
        self.years.extend(other.years);
        Ok(())
    }

    /// The years that have data, ascending.
    pub fn covered_years(&self) -> Vec<i16> {
        self.years.keys().copied().collect()
    }

    /// Whether `year` has data.
    pub fn covers(&self, year: i16) -> bool {
        self.years.contains_key(&year)
    }

    /// One year's data, if loaded.
    pub fn year(&self, year: i16) -> Option<&YearSchedule> {
        self.years.get(&year)
    }

    fn schedule(&self, date: Date) -> Result<&YearSchedule, CalendarError> {
        self.years
            .get(&date.year())
            .ok_or(CalendarError::YearNotCovered { year: date.year() })
    }

    /// Whether `date` is an official working day: a Monday–Friday that is not a holiday, or a
    /// 调休 working day. Errors if the date's year has no data.
    pub fn is_working_day(&self, date: Date) -> Result<bool, CalendarError> {
        // domain §8.2: a year without data is an error, never a guess.
        let schedule = self.schedule(date)?;
        // domain §8.1/§8.2: days off first, then 调休 working days, then Mon–Fri.
        Ok(if schedule.holiday_by_date.contains_key(&date) {
            false
        } else if schedule.adjusted_workdays.contains(&date) {
            true
        } else {
            !is_weekend(date)
        })
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

    /// The holiday break `date` falls in, if any. `None` for years without data too.
    pub fn holiday_on(&self, date: Date) -> Option<&Holiday> {
        let schedule = self.years.get(&date.year())?;
        let index = *schedule.holiday_by_date.get(&date)?;
        schedule.holidays.get(index)
    }

    /// Whether `date` is a 调休 working day (a weekend day that is a working day). `false` for
    /// years without data too.
    pub fn is_adjusted_workday(&self, date: Date) -> bool {
        self.years
            .get(&date.year())
            .is_some_and(|s| s.adjusted_workdays.contains(&date))
    }

    /// The `n`-th counted working day after `start` (domain §4): the start (acceptance) day is
    /// not counted, whatever it is. `n == 0` returns `start`. Errors if a year that has to be
    /// looked at has no data (the start day's own year is not needed).
    ///
    /// Example: 2026-02-12 + 7 = 2026-02-28 with the default rules.
    pub fn add_working_days(
        &self,
        start: Date,
        n: u32,
        rules: &CountingRules,
    ) -> Result<Date, CalendarError> {
        // domain §4: the acceptance day is not counted, so counting starts the day after.
        let mut date = start;
        let mut counted = 0;
        while counted < n {
            date = next_day(date)?;
            if self.counts_as_working_day(date, rules)? {
                counted += 1;
            }
        }
        Ok(date)
    }

    /// The number of counted working days in `(a, b]`, i.e. after `a` up to and including `b`,
    /// so that `working_days_between(d, add_working_days(d, n)) == n`. Negative if `b < a`
    /// (the count in `(b, a]`, negated). Errors if a year in the range has no data.
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

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The next day; past jiff's last date (9999-12-31) we report the (never covered) next year.
fn next_day(date: Date) -> Result<Date, CalendarError> {
    date.tomorrow().map_err(|_| CalendarError::YearNotCovered {
        year: date.year().saturating_add(1),
    })
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
    /// No data for the year: never guess (domain §8.2, "fail loudly").
    #[error("The holiday schedule for {year} has not been loaded; working days cannot be computed")]
    YearNotCovered { year: i16 },
    /// The file is not valid TOML, or does not have the expected shape.
    #[error("Calendar file {file} cannot be read as a holiday schedule: {message}")]
    Parse { file: String, message: String },
    /// The file parses but its content is wrong.
    #[error("Calendar file {file}: {problem}")]
    InvalidFile { file: String, problem: FileProblem },
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
                    format!("{year}年的节假日安排尚未录入，无法计算工作日")
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

/// What is wrong inside one calendar file. `field` names where, e.g. `holidays[1] (春节).end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// `year` is outside 1900..=2999.
    BadYear { value: i64 },
    /// The file is called `<n>.toml` but declares another year.
    YearMismatch { file_name_year: i64, year: i16 },
    /// Not a date (a time or offset given, an impossible date, a malformed string).
    BadDate { field: String, value: String },
    /// A required text is empty.
    EmptyText { field: String },
    /// The file has no holidays at all.
    NoHolidays,
    /// A holiday ends before it starts.
    ReversedRange {
        holiday: String,
        start: Date,
        end: Date,
    },
    /// A holiday or 调休 date is not in the file's year. A break that crosses New Year must be
    /// split between the two years' files.
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

impl FileProblem {
    /// The problem in the given language.
    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        match self {
            FileProblem::BadYear { value } => {
                if zh {
                    format!("年份 {value} 不在 1900–2999 之间")
                } else {
                    format!("year {value} is not between 1900 and 2999")
                }
            }
            FileProblem::YearMismatch {
                file_name_year,
                year,
            } => {
                if zh {
                    format!("文件名表示 {file_name_year} 年，但文件内 year = {year}")
                } else {
                    format!("the file name says {file_name_year} but the file says year = {year}")
                }
            }
            FileProblem::BadDate { field, value } => {
                if zh {
                    format!("{field} 不是有效日期（应为 YYYY-MM-DD）：{value}")
                } else {
                    format!("{field} is not a valid date (expected YYYY-MM-DD): {value}")
                }
            }
            FileProblem::EmptyText { field } => {
                if zh {
                    format!("{field} 不能为空")
                } else {
                    format!("{field} must not be empty")
                }
            }
            FileProblem::NoHolidays => {
                if zh {
                    "文件中没有任何节假日".to_owned()
                } else {
                    "the file lists no holidays".to_owned()
                }
            }
            FileProblem::ReversedRange {
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
            FileProblem::OutsideYear { field, date, year } => {
                if zh {
                    format!(
                        "{field} 的日期 {date} 不在 {year} 年内（跨年的假期须拆分到两个年份的文件）"
                    )
                } else {
                    format!(
                        "{field}: {date} is not in {year} (a break across New Year must be split between the two years' files)"
                    )
                }
            }
            FileProblem::OverlappingHolidays {
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
            FileProblem::HolidayAndAdjustedWorkday { date, holiday } => {
                if zh {
                    format!("{date} 既是 {holiday} 假期又是调休上班日")
                } else {
                    format!("{date} is both a day off ({holiday}) and an adjusted workday")
                }
            }
            FileProblem::AdjustedWorkdayNotWeekend { date } => {
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
            FileProblem::DuplicateAdjustedWorkday { date } => {
                if zh {
                    format!("调休上班日 {date} 重复列出")
                } else {
                    format!("adjusted workday {date} is listed twice")
                }
            }
        }
    }
}

impl fmt::Display for FileProblem {
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

fn parse_date(field: &str, value: &toml::Value) -> Result<Date, FileProblem> {
    let bad = || FileProblem::BadDate {
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

fn non_empty(field: &str, text: String) -> Result<String, FileProblem> {
    let text = text.trim().to_owned();
    if text.is_empty() {
        Err(FileProblem::EmptyText {
            field: field.to_owned(),
        })
    } else {
        Ok(text)
    }
}

fn validate(file_name: &str, raw: RawYearFile) -> Result<YearSchedule, FileProblem> {
    // Year, and agreement with a numeric file name.
    let year = i16::try_from(raw.year)
        .ok()
        .filter(|_| YEARS.contains(&raw.year))
        .ok_or(FileProblem::BadYear { value: raw.year })?;
    let stem_year = Path::new(file_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse::<i64>().ok());
    if let Some(file_name_year) = stem_year
        && file_name_year != raw.year
    {
        return Err(FileProblem::YearMismatch {
            file_name_year,
            year,
        });
    }
    let in_year = |field: &str, date: Date| {
        if date.year() == year {
            Ok(date)
        } else {
            Err(FileProblem::OutsideYear {
                field: field.to_owned(),
                date,
                year,
            })
        }
    };

    // Notice metadata (its date is normally in the previous year).
    let notice = Notice {
        title: non_empty("notice.title", raw.notice.title)?,
        document_number: raw.notice.document_number.filter(|s| !s.trim().is_empty()),
        published: parse_date("notice.published", &raw.notice.published)?,
        source: raw.notice.source.filter(|s| !s.trim().is_empty()),
    };

    // Holidays: valid ranges inside the year, no shared day.
    if raw.holidays.is_empty() {
        return Err(FileProblem::NoHolidays);
    }
    let mut holidays = Vec::with_capacity(raw.holidays.len());
    for (i, h) in raw.holidays.into_iter().enumerate() {
        let name_zh = non_empty(&format!("holidays[{i}].name_zh"), h.name_zh)?;
        let label = format!("holidays[{i}] ({name_zh})");
        let name_en = non_empty(&format!("{label}.name_en"), h.name_en)?;
        let start = parse_date(&format!("{label}.start"), &h.start)?;
        let end = parse_date(&format!("{label}.end"), &h.end)?;
        in_year(&format!("{label}.start"), start)?;
        in_year(&format!("{label}.end"), end)?;
        if end < start {
            return Err(FileProblem::ReversedRange {
                holiday: name_zh,
                start,
                end,
            });
        }
        holidays.push(Holiday {
            name_zh,
            name_en,
            start,
            end,
        });
    }
    holidays.sort_by_key(|h| h.start);
    let mut holiday_by_date = BTreeMap::new();
    for (index, h) in holidays.iter().enumerate() {
        // start..=end lies inside one year, so this ends well inside jiff's range.
        let mut date = h.start;
        loop {
            if let Some(previous) = holiday_by_date.insert(date, index) {
                return Err(FileProblem::OverlappingHolidays {
                    date,
                    first: holidays
                        .get(previous)
                        .map(|p| p.name_zh.clone())
                        .unwrap_or_default(),
                    second: h.name_zh.clone(),
                });
            }
            if date >= h.end {
                break;
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
    }

    // 调休 working days: inside the year, weekend days, not holidays, listed once.
    let mut adjusted_workdays = BTreeSet::new();
    for (i, value) in raw.adjusted_workdays.iter().enumerate() {
        let field = format!("adjusted_workdays[{i}]");
        let date = in_year(&field, parse_date(&field, value)?)?;
        if let Some(&index) = holiday_by_date.get(&date) {
            return Err(FileProblem::HolidayAndAdjustedWorkday {
                date,
                holiday: holidays
                    .get(index)
                    .map(|h| h.name_zh.clone())
                    .unwrap_or_default(),
            });
        }
        if !is_weekend(date) {
            return Err(FileProblem::AdjustedWorkdayNotWeekend { date });
        }
        if !adjusted_workdays.insert(date) {
            return Err(FileProblem::DuplicateAdjustedWorkday { date });
        }
    }

    Ok(YearSchedule {
        year,
        file: file_name.to_owned(),
        notice,
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
        c.add_working_days(start, n, &rules).expect("covered")
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
        assert_eq!(y25.notice().published, date(2024, 11, 12));
        assert_eq!(
            y25.notice().document_number.as_deref(),
            Some("国办发明电〔2024〕12号")
        );
        assert!(y25.file().ends_with("2025.toml"));
        let y26 = c.year(2026).expect("2026");
        assert_eq!(y26.notice().published, date(2025, 11, 4));
        assert_eq!(y26.notice().document_number, None);
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
    fn uncovered_year_is_an_error() {
        let c = cal();
        let err = c
            .is_working_day(date(2027, 3, 1))
            .expect_err("2027 has no data");
        assert!(matches!(err, CalendarError::YearNotCovered { year: 2027 }));
        assert_eq!(err.code(), "calendar.year_not_covered");
        assert_eq!(
            err.message(Lang::ZhCn),
            "2027年的节假日安排尚未录入，无法计算工作日"
        );
        assert_eq!(
            err.message(Lang::En),
            "The holiday schedule for 2027 has not been loaded; working days cannot be computed"
        );
        // 2026-12-31 is Thu; +1 is Fri 2027-01-01, which must not be guessed.
        assert!(matches!(
            c.add_working_days(date(2026, 12, 30), 2, &YES),
            Err(CalendarError::YearNotCovered { year: 2027 })
        ));
        assert!(matches!(
            c.is_working_day(date(2024, 12, 31)),
            Err(CalendarError::YearNotCovered { year: 2024 })
        ));
        assert!(matches!(
            c.working_days_between(date(2026, 12, 1), date(2027, 1, 5), &YES),
            Err(CalendarError::YearNotCovered { year: 2027 })
        ));
        assert!(c.holiday_on(date(2027, 1, 1)).is_none());
        assert!(!c.is_adjusted_workday(date(2027, 1, 1)));
        assert!(
            HolidayCalendar::new()
                .is_working_day(date(2026, 3, 2))
                .is_err()
        );
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
"#;

    fn problem(file: &str, text: &str) -> (String, FileProblem) {
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
            matches!(&p, FileProblem::BadDate { field, .. } if field.contains("春节") && field.ends_with(".end"))
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
        assert!(matches!(p, FileProblem::BadDate { .. }));

        // Holiday outside the file's year.
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("start = 2026-02-15", "start = 2025-12-31"),
        );
        assert!(
            matches!(p, FileProblem::OutsideYear { date: d, year: 2026, .. } if d == date(2025, 12, 31))
        );

        // Adjusted workday outside the year.
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("[2026-02-14]", "[2027-01-02]"),
        );
        assert!(matches!(p, FileProblem::OutsideYear { .. }));

        // Both holiday and adjusted workday.
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("[2026-02-14]", "[2026-02-21]"),
        );
        assert!(
            matches!(p, FileProblem::HolidayAndAdjustedWorkday { date: d, .. } if d == date(2026, 2, 21))
        );

        // Adjusted workday on a weekday (2026-02-13 is a Friday).
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("[2026-02-14]", "[2026-02-13]"),
        );
        assert!(matches!(p, FileProblem::AdjustedWorkdayNotWeekend { .. }));
        assert!(p.message(Lang::En).contains("Friday"), "{p}");
        assert!(p.message(Lang::ZhCn).contains("周五"));

        // Duplicate adjusted workday.
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("[2026-02-14]", "[2026-02-14, \"2026-02-14\"]"),
        );
        assert!(matches!(p, FileProblem::DuplicateAdjustedWorkday { .. }));

        // Reversed range, overlapping holidays, missing names, no holidays.
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("start = 2026-02-15", "start = 2026-02-24"),
        );
        assert!(matches!(p, FileProblem::ReversedRange { .. }));
        let overlapping = format!(
            "{MINIMAL}[[holidays]]\nname_zh = \"x\"\nname_en = \"x\"\nstart = 2026-02-23\nend = 2026-02-24\n"
        );
        let (_, p) = problem("2026.toml", &overlapping);
        assert!(
            matches!(p, FileProblem::OverlappingHolidays { date: d, .. } if d == date(2026, 2, 23))
        );
        let (_, p) = problem(
            "2026.toml",
            &MINIMAL.replace("name_en = \"Spring Festival\"", "name_en = \" \""),
        );
        assert!(matches!(p, FileProblem::EmptyText { .. }));
        let no_holidays = MINIMAL
            .split("[[holidays]]")
            .next()
            .unwrap_or_default()
            .replace("[2026-02-14]", "[]");
        let (_, p) = problem("2026.toml", &no_holidays);
        assert_eq!(p, FileProblem::NoHolidays);

        // File name and year disagree; year out of range.
        let (file, p) = problem("2025.toml", MINIMAL);
        assert_eq!(file, "2025.toml");
        assert!(matches!(
            p,
            FileProblem::YearMismatch {
                file_name_year: 2025,
                year: 2026
            }
        ));
        assert!(HolidayCalendar::from_toml_str("other-name.toml", MINIMAL).is_ok());
        let (_, p) = problem("x.toml", &MINIMAL.replace("year = 2026", "year = 40000"));
        assert!(matches!(p, FileProblem::BadYear { value: 40000 }));

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
                c.add_working_days(start, n, &rules),
                c.add_working_days(start, n + 1, &rules),
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
            if let Ok(end) = c.add_working_days(start, n, &rules) {
                prop_assert_eq!(c.working_days_between(start, end, &rules).expect("covered"), i64::from(n));
                prop_assert_eq!(c.working_days_between(end, start, &rules).expect("covered"), -i64::from(n));
            }
        }
    }
}
