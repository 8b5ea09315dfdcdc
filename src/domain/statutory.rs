//! The statutory public holidays (《全国年节及纪念日放假办法》 as in force since 2025-01-01) and
//! the provisional year computed from them when no State Council notice has been entered.
//!
//! The State Council publishes each year's arrangement (dates of the breaks and the 调休
//! weekend working days) around November of the year before (domain §8.2); it can be late or
//! amended. Until it is entered, a year is computed from the statute alone: the statutory
//! days off plus weekends, no 调休 (only the notice gives those). Such a year is marked
//! provisional wherever a person sees a date computed on it (issue 11).
//!
//! Statutory days since the 2024-11 revision (domain §8.1, 13 days): New Year's Day 1 (1 Jan);
//! Spring Festival 4 (农历除夕 and 正月初一 to 初三); Qingming 1 (the 清明 solar term); Labour
//! Day 2 (1–2 May); Dragon Boat 1 (五月初五); Mid-Autumn 1 (八月十五); National Day 3
//! (1–3 Oct). Lunar dates and the 清明 solar term come from the `tyme4rs` crate (6tail's
//! calendar library: astronomical new moons and solar terms in Beijing time), checked against
//! the shipped 2025 and 2026 notices in the tests below.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use tyme4rs::tyme::lunar::LunarDay;
use tyme4rs::tyme::solar::SolarTerm;

use crate::i18n::Lang;

/// The first year the 2024 revision of the statute applies to (it took effect 2025-01-01).
pub const FIRST_YEAR: i16 = 2025;
/// The last year a provisional arrangement is computed for; beyond it a year without a notice
/// is refused. Far enough for any time limit or booking window the hall has.
pub const LAST_YEAR: i16 = 2100;

/// A statutory festival (法定节日) that gives days off to everyone.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Festival {
    NewYear,
    SpringFestival,
    Qingming,
    LabourDay,
    DragonBoat,
    MidAutumn,
    NationalDay,
}

impl Festival {
    /// Every statutory festival, in calendar order; a notice must give each of them.
    pub const ALL: [Festival; 7] = [
        Festival::NewYear,
        Festival::SpringFestival,
        Festival::Qingming,
        Festival::LabourDay,
        Festival::DragonBoat,
        Festival::MidAutumn,
        Festival::NationalDay,
    ];

    /// The code used in the API and in forms (`spring_festival`).
    pub fn code(self) -> &'static str {
        match self {
            Festival::NewYear => "new_year",
            Festival::SpringFestival => "spring_festival",
            Festival::Qingming => "qingming",
            Festival::LabourDay => "labour_day",
            Festival::DragonBoat => "dragon_boat",
            Festival::MidAutumn => "mid_autumn",
            Festival::NationalDay => "national_day",
        }
    }

    pub fn parse(code: &str) -> Option<Festival> {
        Festival::ALL.into_iter().find(|f| f.code() == code)
    }

    /// The Chinese name as the notices write it.
    pub fn name_zh(self) -> &'static str {
        match self {
            Festival::NewYear => "元旦",
            Festival::SpringFestival => "春节",
            Festival::Qingming => "清明节",
            Festival::LabourDay => "劳动节",
            Festival::DragonBoat => "端午节",
            Festival::MidAutumn => "中秋节",
            Festival::NationalDay => "国庆节",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Festival::NewYear => "New Year's Day",
            Festival::SpringFestival => "Spring Festival",
            Festival::Qingming => "Qingming Festival",
            Festival::LabourDay => "Labour Day",
            Festival::DragonBoat => "Dragon Boat Festival",
            Festival::MidAutumn => "Mid-Autumn Festival",
            Festival::NationalDay => "National Day",
        }
    }

    pub fn name(self, lang: Lang) -> &'static str {
        lang.pick(self.name_zh(), self.name_en())
    }

    /// The festivals a break's Chinese name speaks of ("国庆节、中秋节" → both), for the yearly
    /// files, which name breaks the way the notice does.
    pub fn named_in(name_zh: &str) -> Vec<Festival> {
        Festival::ALL
            .into_iter()
            .filter(|f| name_zh.contains(f.name_zh().trim_end_matches('节')))
            .collect()
    }

    /// The statutory days off of this festival in `year` (《全国年节及纪念日放假办法》 第二条,
    /// as revised 2024-11-10). `None` outside the years the lunar tables cover.
    pub fn statutory_days(self, year: i16) -> Option<Vec<Date>> {
        let fixed = |month: i8, day: i8, n: i64| -> Option<Vec<Date>> {
            let first = Date::new(year, month, day).ok()?;
            run(first, n)
        };
        match self {
            Festival::NewYear => fixed(1, 1, 1),
            Festival::LabourDay => fixed(5, 1, 2),
            Festival::NationalDay => fixed(10, 1, 3),
            // 除夕 is the day before 正月初一, whatever the length of 腊月 (29 or 30 days).
            Festival::SpringFestival => run(lunar(year, 1, 1)?.yesterday().ok()?, 4),
            Festival::DragonBoat => run(lunar(year, 5, 5)?, 1),
            Festival::MidAutumn => run(lunar(year, 8, 15)?, 1),
            Festival::Qingming => run(qingming(year)?, 1),
        }
    }
}

/// `n` consecutive days from `first`.
fn run(first: Date, n: i64) -> Option<Vec<Date>> {
    (0..n)
        .map(|i| first.checked_add(jiff::Span::new().days(i)).ok())
        .collect()
}

fn supported(year: i16) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&year)
}

/// The Gregorian date of a day of the lunar year that begins in Gregorian `year`.
fn lunar(year: i16, month: i8, day: i8) -> Option<Date> {
    if !supported(year) {
        return None;
    }
    let d = LunarDay::new(isize::from(year), isize::from(month), day as usize).ok()?;
    let s = d.get_solar_day();
    Date::new(
        i16::try_from(s.get_year()).ok()?,
        i8::try_from(s.get_month()).ok()?,
        i8::try_from(s.get_day()).ok()?,
    )
    .ok()
}

/// The day of the 清明 solar term in `year` (Beijing time).
fn qingming(year: i16) -> Option<Date> {
    if !supported(year) {
        return None;
    }
    let term = SolarTerm::new(isize::from(year), "清明").ok()?;
    let s = term.get_solar_day();
    Date::new(
        i16::try_from(s.get_year()).ok()?,
        i8::try_from(s.get_month()).ok()?,
        i8::try_from(s.get_day()).ok()?,
    )
    .ok()
}

/// One statutory break of a provisional year: a festival's days off (two festivals when their
/// days meet, as 中秋 on 1–3 October does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatutoryBreak {
    pub festivals: Vec<Festival>,
    pub start: Date,
    pub end: Date,
}

/// The statutory days off of `year`, one break per festival in calendar order, or `None` for
/// a year the statute (as revised) does not govern or the lunar tables do not cover.
/// In some years two festivals share a day (中秋 on 1–3 Oct): they make one break.
pub fn statutory_breaks(year: i16) -> Option<Vec<StatutoryBreak>> {
    if !supported(year) {
        return None;
    }
    let mut out: Vec<StatutoryBreak> = Vec::new();
    for festival in Festival::ALL {
        let days: Vec<Date> = festival
            .statutory_days(year)?
            .into_iter()
            .filter(|d| d.year() == year)
            .collect();
        let (Some(&start), Some(&end)) = (days.first(), days.last()) else {
            continue;
        };
        match out.iter_mut().find(|b| b.start <= end && start <= b.end) {
            Some(b) => {
                b.festivals.push(festival);
                b.start = b.start.min(start);
                b.end = b.end.max(end);
            }
            None => out.push(StatutoryBreak {
                festivals: vec![festival],
                start,
                end,
            }),
        }
    }
    out.sort_by_key(|b| b.start);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn lunar_festivals_of_the_shipped_years() {
        // From the notices (domain §8.1, §8.2): 除夕 2025-01-28, 2026-02-16 (正月初一 02-17);
        // 清明 2025-04-04, 2026-04-05; 端午 2025-05-31, 2026-06-19; 中秋 2025-10-06, 2026-09-25.
        let first = |f: Festival, y| f.statutory_days(y).and_then(|d| d.first().copied());
        assert_eq!(
            Festival::SpringFestival.statutory_days(2025),
            Some(vec![
                date(2025, 1, 28),
                date(2025, 1, 29),
                date(2025, 1, 30),
                date(2025, 1, 31)
            ])
        );
        assert_eq!(
            first(Festival::SpringFestival, 2026),
            Some(date(2026, 2, 16))
        );
        assert_eq!(first(Festival::Qingming, 2025), Some(date(2025, 4, 4)));
        assert_eq!(first(Festival::Qingming, 2026), Some(date(2026, 4, 5)));
        assert_eq!(first(Festival::DragonBoat, 2025), Some(date(2025, 5, 31)));
        assert_eq!(first(Festival::DragonBoat, 2026), Some(date(2026, 6, 19)));
        assert_eq!(first(Festival::MidAutumn, 2025), Some(date(2025, 10, 6)));
        assert_eq!(first(Festival::MidAutumn, 2026), Some(date(2026, 9, 25)));
        // Published lunar calendars for 2027: 除夕 02-05, 清明 04-05, 端午 06-09, 中秋 09-15.
        assert_eq!(
            first(Festival::SpringFestival, 2027),
            Some(date(2027, 2, 5))
        );
        assert_eq!(first(Festival::Qingming, 2027), Some(date(2027, 4, 5)));
        assert_eq!(first(Festival::DragonBoat, 2027), Some(date(2027, 6, 9)));
        assert_eq!(first(Festival::MidAutumn, 2027), Some(date(2027, 9, 15)));
    }

    #[test]
    fn thirteen_statutory_days_a_year() {
        for year in FIRST_YEAR..=LAST_YEAR {
            let breaks = statutory_breaks(year).expect("covered");
            let days: i64 = breaks
                .iter()
                .map(|b| (b.end - b.start).get_days() as i64 + 1)
                .sum();
            // 13 unless 中秋 falls on 1–3 October and shares a day with National Day, which
            // then makes one break of both.
            let shared = Festival::MidAutumn
                .statutory_days(year)
                .is_some_and(|d| d.iter().any(|d| d.month() == 10 && d.day() <= 3));
            assert_eq!(days, if shared { 12 } else { 13 }, "{year}");
            assert_eq!(breaks.len(), if shared { 6 } else { 7 }, "{year}");
            assert!(breaks.windows(2).all(|w| w[0].end < w[1].start), "{year}");
        }
        assert!(statutory_breaks(2024).is_none());
        assert!(statutory_breaks(LAST_YEAR + 1).is_none());
    }

    #[test]
    fn festival_codes_and_names() {
        for f in Festival::ALL {
            assert_eq!(Festival::parse(f.code()), Some(f));
        }
        assert_eq!(
            Festival::named_in("国庆节、中秋节"),
            vec![Festival::MidAutumn, Festival::NationalDay]
        );
        assert_eq!(Festival::named_in("清明节"), vec![Festival::Qingming]);
        assert_eq!(Festival::named_in("春节"), vec![Festival::SpringFestival]);
    }
}
