//! A site's opening hours as an administrator writes them in a form (issue 18 item 4), not as
//! TOML: periods like `08:30–12:00, 13:30–17:30` for working days, Saturdays and Sundays, and
//! one line each for extended hours (`周二、周四 17:30–19:30`), extra openings
//! (`2026-10-03 09:00–12:00 国庆值班 | National Day duty`) and closures
//! (`2026-12-24 消防检查 | Fire safety inspection`); and the same text back from the rules.

use jiff::civil::{Date, Time};
use serde::Deserialize;

use crate::domain::opening::{
    Closure, ExtendedHours, ExtraOpening, LocalText, OpeningRules, OpeningRulesError, Period,
    Weekday,
};

/// The hours fields of the site form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HoursForm {
    #[serde(default)]
    pub hours_working_day: String,
    #[serde(default)]
    pub hours_saturday: String,
    #[serde(default)]
    pub hours_sunday: String,
    #[serde(default)]
    pub hours_extended: String,
    #[serde(default)]
    pub hours_extra: String,
    #[serde(default)]
    pub hours_closures: String,
}

/// What separates periods in a list: the ways people write a list in either language.
const LIST: [char; 5] = [',', '，', '、', ';', '；'];
/// What joins a period's start and end.
const DASH: [char; 5] = ['-', '–', '—', '~', '至'];

impl HoursForm {
    pub fn from_rules(r: &OpeningRules) -> HoursForm {
        let days = |ds: &[Weekday]| {
            ds.iter()
                .map(|d| WEEKDAYS[*d as usize].0)
                .collect::<Vec<_>>()
                .join("、")
        };
        let note = |t: &LocalText| match &t.en {
            Some(en) if !en.trim().is_empty() => format!("{} | {en}", t.zh),
            _ => t.zh.clone(),
        };
        HoursForm {
            hours_working_day: periods_text(&r.working_day),
            hours_saturday: periods_text(&r.saturday),
            hours_sunday: periods_text(&r.sunday),
            hours_extended: r
                .extended_hours
                .iter()
                .map(|e| format!("{} {}", days(&e.weekdays), periods_text(&e.periods)))
                .collect::<Vec<_>>()
                .join("\n"),
            hours_extra: r
                .extra_openings
                .iter()
                .map(|x| {
                    let mut line = format!("{} {}", x.date, periods_text(&x.periods));
                    if let Some(n) = &x.note {
                        line = format!("{line} {}", note(n));
                    }
                    line
                })
                .collect::<Vec<_>>()
                .join("\n"),
            hours_closures: r
                .closures
                .iter()
                .map(|c| format!("{} {}", c.date, note(&c.reason)))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// Whether any hours field was filled (a form from before this one posts TOML instead).
    pub fn is_blank(&self) -> bool {
        [
            &self.hours_working_day,
            &self.hours_saturday,
            &self.hours_sunday,
            &self.hours_extended,
            &self.hours_extra,
            &self.hours_closures,
        ]
        .iter()
        .all(|f| f.trim().is_empty())
    }

    /// The rules the form describes, checked as any rules are; a line that cannot be read is
    /// refused naming its field and line.
    pub fn parse(&self) -> Result<OpeningRules, OpeningRulesError> {
        let rules = OpeningRules {
            working_day: periods(&self.hours_working_day, "工作日 / working days")?,
            saturday: periods(&self.hours_saturday, "周六 / Saturdays")?,
            sunday: periods(&self.hours_sunday, "周日 / Sundays")?,
            extended_hours: lines(
                &self.hours_extended,
                "延时服务 / extended hours",
                |l, at| {
                    let (days, rest) = split_days(l, at)?;
                    Ok(ExtendedHours {
                        weekdays: days,
                        periods: periods(rest, at)?,
                    })
                },
            )?,
            extra_openings: lines(&self.hours_extra, "加开 / extra openings", |l, at| {
                let (date, rest) = split_date(l, at)?;
                let (periods_part, note_part) = split_note(rest);
                Ok(ExtraOpening {
                    date,
                    periods: periods(periods_part, at)?,
                    note: (!note_part.is_empty()).then(|| local_text(note_part)),
                })
            })?,
            closures: lines(&self.hours_closures, "闭厅 / closures", |l, at| {
                let (date, rest) = split_date(l, at)?;
                Ok(Closure {
                    date,
                    reason: local_text(rest.trim()),
                })
            })?,
        };
        rules.validate()?;
        Ok(rules)
    }
}

/// Weekday names as a Chinese form shows them, and the other names people type.
const WEEKDAYS: [(&str, &[&str]); 7] = [
    ("周一", &["星期一", "monday", "mon"]),
    ("周二", &["星期二", "tuesday", "tue"]),
    ("周三", &["星期三", "wednesday", "wed"]),
    ("周四", &["星期四", "thursday", "thu"]),
    ("周五", &["星期五", "friday", "fri"]),
    ("周六", &["星期六", "saturday", "sat"]),
    ("周日", &["星期日", "星期天", "周天", "sunday", "sun"]),
];

const WEEKDAY_VALUES: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn periods_text(ps: &[Period]) -> String {
    ps.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn unreadable(at: &str, what: &str) -> OpeningRulesError {
    OpeningRulesError::Parse {
        message: format!("{at}: “{what}”"),
    }
}

fn time(text: &str, at: &str) -> Result<Time, OpeningRulesError> {
    let t = text.trim().replace('：', ":");
    Time::strptime("%H:%M", &t).map_err(|_| unreadable(at, text.trim()))
}

/// `08:30–12:00, 13:30–17:30` (empty: none).
fn periods(text: &str, at: &str) -> Result<Vec<Period>, OpeningRulesError> {
    text.split(LIST)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (start, end) = p.split_once(DASH).ok_or_else(|| unreadable(at, p))?;
            Period::new(time(start, at)?, time(end, at)?)
        })
        .collect()
}

/// Each non-empty line of `text` read by `one`, which is told where it is (field and line).
fn lines<T>(
    text: &str,
    field: &str,
    one: impl Fn(&str, &str) -> Result<T, OpeningRulesError>,
) -> Result<Vec<T>, OpeningRulesError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| one(l.trim(), &format!("{field} {}", i + 1)))
        .collect()
}

/// The weekdays a line starts with, and the rest.
fn split_days<'a>(line: &'a str, at: &str) -> Result<(Vec<Weekday>, &'a str), OpeningRulesError> {
    let first_digit = line
        .find(|c: char| c.is_ascii_digit())
        .ok_or_else(|| unreadable(at, line))?;
    let (names, rest) = line.split_at(first_digit);
    let mut days = Vec::new();
    for name in names
        .split(|c: char| LIST.contains(&c) || c.is_whitespace())
        .filter(|n| !n.is_empty())
    {
        let lower = name.to_lowercase();
        let i = WEEKDAYS
            .iter()
            .position(|(zh, other)| *zh == name || other.contains(&lower.as_str()))
            .ok_or_else(|| unreadable(at, name))?;
        if !days.contains(&WEEKDAY_VALUES[i]) {
            days.push(WEEKDAY_VALUES[i]);
        }
    }
    if days.is_empty() {
        return Err(unreadable(at, line));
    }
    Ok((days, rest))
}

/// The date a line starts with (`2026-10-03`), and the rest.
fn split_date<'a>(line: &'a str, at: &str) -> Result<(Date, &'a str), OpeningRulesError> {
    let (date, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let date = date.parse::<Date>().map_err(|_| unreadable(at, date))?;
    Ok((date, rest.trim()))
}

/// Periods, then a note: the note starts at the first word that is not a period.
fn split_note(rest: &str) -> (&str, &str) {
    let mut end = 0;
    for (i, c) in rest.char_indices() {
        if c.is_ascii_digit()
            || DASH.contains(&c)
            || LIST.contains(&c)
            || c == ':'
            || c == '：'
            || c.is_whitespace()
        {
            end = i + c.len_utf8();
        } else {
            break;
        }
    }
    (&rest[..end], rest[end..].trim())
}

/// `中文 | English`, or Chinese alone.
fn local_text(text: &str) -> LocalText {
    match text.split_once('|') {
        Some((zh, en)) => LocalText {
            zh: zh.trim().to_string(),
            en: Some(en.trim().to_string()).filter(|e| !e.is_empty()),
        },
        None => LocalText {
            zh: text.trim().to_string(),
            en: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_what_it_writes_and_refuses_in_words() {
        let form = HoursForm {
            hours_working_day: "08:30–12:00，13:30-17:30".into(),
            hours_saturday: "09:00~12:00".into(),
            hours_sunday: String::new(),
            hours_extended: "周二、Thursday 17:30–19:30".into(),
            hours_extra: "2026-10-03 09:00–12:00 国庆值班 | National Day duty".into(),
            hours_closures: "2026-12-24 消防检查 | Fire safety inspection".into(),
        };
        let rules = form.parse().expect("read");
        assert_eq!(rules.working_day.len(), 2);
        assert_eq!(rules.saturday.len(), 1);
        assert!(rules.sunday.is_empty());
        assert_eq!(
            rules.extended_hours[0].weekdays,
            vec![Weekday::Tuesday, Weekday::Thursday]
        );
        let note = rules.extra_openings[0].note.as_ref().expect("note");
        assert_eq!(note.zh, "国庆值班");
        assert_eq!(note.en.as_deref(), Some("National Day duty"));
        assert_eq!(rules.closures[0].reason.zh, "消防检查");
        let back = HoursForm::from_rules(&rules);
        assert_eq!(back.hours_working_day, "08:30–12:00, 13:30–17:30");
        assert_eq!(back.hours_extended, "周二、周四 17:30–19:30");
        assert_eq!(back.parse().expect("read again"), rules);

        let bad = HoursForm {
            hours_working_day: "08:30–12:00".into(),
            hours_extended: "周二 17:30–19:30\n周八 18:00–19:00".into(),
            ..HoursForm::default()
        };
        let e = bad.parse().expect_err("no such weekday");
        assert!(e.to_string().contains("extended hours 2"), "{e}");
        assert!(e.to_string().contains("周八"), "{e}");
        let reversed = HoursForm {
            hours_working_day: "17:00–09:00".into(),
            ..HoursForm::default()
        };
        assert!(reversed.parse().is_err());
    }
}
