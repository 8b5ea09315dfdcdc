//! Warnings before the wall (issue 11 item 4): how far the hall's horizons reach — the booking
//! window and the longest statutory time limit counted from today — and how many days are left
//! before they reach a year that has no State Council notice yet. Inside 60 days the
//! administrators' and duty leader's pages carry a banner, `/healthz` says so and the
//! `onetrip_calendar_provisional_days_ahead` gauge shows the margin. Never a refusal.

use jiff::civil::Date;
use serde::Serialize;

use crate::catalog::{Catalog, DayUnit, TimeLimitClass};
use crate::domain::calendar::{CountingRules, HolidayCalendar};
use crate::i18n::Lang;

/// A warning is raised when a horizon comes within this many days of a provisional year.
pub const WARNING_DAYS: i64 = 60;

/// How far the hall looks ahead, and what is provisional there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Outlook {
    #[schema(value_type = String, format = Date)]
    pub today: Date,
    /// The furthest date the hall computes today (booking window, longest time limit).
    #[schema(value_type = String, format = Date)]
    pub horizon_end: Date,
    /// The first day of a year without a notice, if one comes before the statute's end.
    #[schema(value_type = Option<String>, format = Date)]
    pub first_provisional_day: Option<Date>,
    /// Days from the horizon's end to the first provisional day (negative: the horizon is
    /// already inside it). `None` when no provisional year is ahead.
    pub provisional_days_ahead: Option<i64>,
    /// A banner is shown (the margin is at most [`WARNING_DAYS`]).
    pub warning: bool,
}

impl Outlook {
    /// The banner text, when there is one.
    pub fn message(&self, lang: Lang) -> Option<String> {
        if !self.warning {
            return None;
        }
        let first = self.first_provisional_day?;
        let year = first.year();
        let margin = self.provisional_days_ahead.unwrap_or_default();
        Some(match lang {
            Lang::ZhCn if margin <= 0 => format!(
                "{year}年放假安排尚未录入：预约和承诺办结日期已计算到{year}年，暂按法定节假日计算并标注“预计”。国务院通知发布后，请在“节假日安排”中录入，系统将重新计算并通知受影响的群众。"
            ),
            Lang::ZhCn => format!(
                "{year}年放假安排尚未录入：{margin}天后预约和承诺办结日期将计算到{year}年，届时暂按法定节假日计算并标注“预计”。国务院通知发布后，请在“节假日安排”中录入。"
            ),
            Lang::En if margin <= 0 => format!(
                "The {year} public holidays have not been entered: bookings and promised dates already reach {year} and are computed from the statutory holidays, marked expected. Enter the State Council's notice under Holidays when it is out; affected citizens are told of any change."
            ),
            Lang::En => format!(
                "The {year} public holidays have not been entered: in {margin} days bookings and promised dates will reach {year} and be computed from the statutory holidays, marked expected. Enter the State Council's notice under Holidays when it is out."
            ),
        })
    }
}

/// The outlook on `calendar` from `today`, for a booking window of `booking_days` days and the
/// time limits of `catalog`.
pub fn outlook(
    calendar: &HolidayCalendar,
    rules: &CountingRules,
    catalog: &Catalog,
    today: Date,
    booking_days: i64,
) -> Outlook {
    let mut horizon_end = today
        .checked_add(jiff::Span::new().days(booking_days.max(0)))
        .unwrap_or(today);
    for item in catalog.items() {
        for class in TimeLimitClass::ALL {
            let Some(limit) = item.time_limit(class) else {
                continue;
            };
            let end = match limit.unit {
                DayUnit::WorkingDays => calendar.add_working_days(today, limit.days, rules),
                DayUnit::CalendarDays => calendar.add_calendar_days(today, limit.days),
            };
            // A limit the statute cannot reach counts as reaching as far as it goes.
            let end = end.map_or(Date::MAX, |r| r.date);
            horizon_end = horizon_end.max(end);
        }
    }
    let first = calendar.first_provisional_day(today);
    let ahead = first.map(|f| i64::from((f - horizon_end).get_days()));
    Outlook {
        today,
        horizon_end,
        first_provisional_day: first,
        provisional_days_ahead: ahead,
        warning: ahead.is_some_and(|m| m <= WARNING_DAYS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn catalog() -> Catalog {
        Catalog::load_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/data/catalog")).expect("catalog")
    }

    fn calendar() -> HolidayCalendar {
        HolidayCalendar::load_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/data/calendar"))
            .expect("calendar")
    }

    #[test]
    fn the_warning_comes_sixty_days_before_a_horizon_reaches_a_provisional_year() {
        let (cal, cat, rules) = (calendar(), catalog(), CountingRules::default());
        // The longest limit in the catalog is 20 calendar days (cross-province), so from
        // mid-December the horizon is in 2027; the warning starts 60 days earlier.
        let at = |d| outlook(&cal, &rules, &cat, d, 7);
        let early = at(date(2026, 9, 1));
        assert!(!early.warning, "{early:?}");
        assert!(early.message(Lang::ZhCn).is_none());
        let warned = at(date(2026, 11, 1));
        assert!(warned.warning, "{warned:?}");
        assert_eq!(warned.first_provisional_day, Some(date(2027, 1, 1)));
        let margin = warned.provisional_days_ahead.expect("ahead");
        assert!((1..=WARNING_DAYS).contains(&margin), "{margin}");
        assert!(
            warned
                .message(Lang::ZhCn)
                .expect("banner")
                .contains("2027年")
        );
        assert!(warned.message(Lang::En).expect("banner").contains("2027"));
        // Once inside: the margin is negative and the banner says the dates are expected.
        let inside = at(date(2026, 12, 28));
        assert!(inside.provisional_days_ahead.expect("ahead") <= 0);
        assert!(inside.message(Lang::ZhCn).expect("banner").contains("预计"));
        // The warning begins on the first day the margin is 60 days or less (working-day
        // horizons jump over weekends, so the margin can step by more than one day).
        let mut d = date(2026, 9, 1);
        while !at(d).warning {
            d = d.tomorrow().expect("date");
        }
        assert!(at(d).provisional_days_ahead.expect("ahead") <= WARNING_DAYS);
        assert!(
            at(d.yesterday().expect("date"))
                .provisional_days_ahead
                .expect("ahead")
                > WARNING_DAYS
        );
    }
}
