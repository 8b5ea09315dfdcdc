//! Pure appointment rules: slot times from a day's opening periods, the booking window, the
//! no-show rule. No I/O.

use jiff::civil::{Date, Time};

use crate::domain::opening::Period;

/// A site's appointment settings for one business line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SlotSettings {
    pub slot_minutes: i64,
    pub quota_online: i64,
    pub quota_phone: i64,
    pub quota_onsite: i64,
    /// How many days ahead a day opens for booking.
    pub open_days_ahead: i64,
    /// Minute of the day (local) at which the farthest day opens, e.g. 540 for 09:00.
    pub open_at_minute: i64,
    /// Booking for a slot closes this many minutes before it starts.
    pub close_minutes_before: i64,
    /// A cancelled place is offered again only after this delay, so scripts watching for
    /// cancellations gain nothing over people.
    pub release_delay_seconds: i64,
}

/// One appointment slot's time of day, in minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotTime {
    pub start_minute: i64,
    pub end_minute: i64,
}

pub fn minute_of(t: Time) -> i64 {
    i64::from(t.hour()) * 60 + i64::from(t.minute())
}

/// Formats a minute of the day as `HH:MM`.
pub fn hhmm(minute: i64) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// The slots of a day: each opening period cut into `slot_minutes` pieces; a remainder shorter
/// than a slot is not offered (nobody should be booked into a window that closes mid-service).
pub fn slot_times(periods: &[Period], slot_minutes: i64) -> Vec<SlotTime> {
    let mut out = Vec::new();
    if slot_minutes <= 0 {
        return out;
    }
    for p in periods {
        let (start, end) = (minute_of(p.start), minute_of(p.end));
        let mut s = start;
        while s + slot_minutes <= end {
            out.push(SlotTime {
                start_minute: s,
                end_minute: s + slot_minutes,
            });
            s += slot_minutes;
        }
    }
    out
}

/// Where a slot stands in the booking window at a given local moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    /// Bookable now.
    Open,
    /// The day opens for booking at this date and minute.
    NotYetOpen { date: Date, minute: i64 },
    /// Booking for this slot has closed (too close to its start, or past).
    Closed,
}

/// Whether a slot on `date` starting at `start_minute` can be booked at local `now_date`
/// `now_minute`. Day D opens at `open_at_minute` on D − `open_days_ahead`.
pub fn window(
    settings: &SlotSettings,
    now_date: Date,
    now_minute: i64,
    date: Date,
    start_minute: i64,
) -> Window {
    let days_until = (date - now_date).get_days() as i64;
    if days_until < 0
        || (days_until == 0 && now_minute + settings.close_minutes_before > start_minute)
    {
        return Window::Closed;
    }
    // A slot that starts soon after midnight still needs its close margin counted back into
    // the previous day.
    if days_until == 1
        && start_minute - settings.close_minutes_before < 0
        && now_minute >= 1440 + start_minute - settings.close_minutes_before
    {
        return Window::Closed;
    }
    if days_until > settings.open_days_ahead
        || (days_until == settings.open_days_ahead && now_minute < settings.open_at_minute)
    {
        let opens = date
            .checked_sub(jiff::Span::new().days(settings.open_days_ahead))
            .unwrap_or(date);
        return Window::NotYetOpen {
            date: opens,
            minute: settings.open_at_minute,
        };
    }
    Window::Open
}

/// The no-show rule (R2): `limit` no-shows within `window_days` — counting only those after the
/// last time staff lifted a block — block online booking for `block_days` after the last one.
/// Returns the end of the block (epoch ms) if one is in force at `now`.
pub fn blocked_until(
    no_shows: &[i64],
    last_lift: Option<i64>,
    now: i64,
    limit: usize,
    window_days: i64,
    block_days: i64,
) -> Option<i64> {
    const DAY: i64 = 86_400_000;
    if limit == 0 {
        return None;
    }
    let since = (now - window_days * DAY).max(last_lift.unwrap_or(i64::MIN));
    let mut recent: Vec<i64> = no_shows.iter().copied().filter(|t| *t > since).collect();
    if recent.len() < limit {
        return None;
    }
    recent.sort_unstable();
    let until = recent[recent.len() - 1] + block_days * DAY;
    (until > now).then_some(until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};
    use proptest::prelude::*;

    fn settings() -> SlotSettings {
        SlotSettings {
            slot_minutes: 30,
            quota_online: 6,
            quota_phone: 2,
            quota_onsite: 2,
            open_days_ahead: 7,
            open_at_minute: 9 * 60,
            close_minutes_before: 60,
            release_delay_seconds: 600,
        }
    }

    #[test]
    fn periods_are_cut_into_whole_slots() {
        let periods = [
            Period {
                start: time(8, 30, 0, 0),
                end: time(12, 0, 0, 0),
            },
            Period {
                start: time(13, 30, 0, 0),
                end: time(17, 15, 0, 0),
            },
        ];
        let slots = slot_times(&periods, 30);
        assert_eq!(slots.len(), 7 + 7);
        assert_eq!(
            slots[0],
            SlotTime {
                start_minute: 510,
                end_minute: 540
            }
        );
        assert_eq!(
            slots.last().map(|s| s.end_minute),
            Some(17 * 60),
            "17:00–17:15 is too short for a slot"
        );
        assert_eq!(hhmm(510), "08:30");
    }

    #[test]
    fn booking_window_opens_at_the_set_time_and_closes_before_the_slot() {
        let s = settings();
        let today = date(2026, 3, 2);
        // Seven days ahead opens at 09:00.
        assert_eq!(
            window(&s, today, 8 * 60 + 59, date(2026, 3, 9), 600),
            Window::NotYetOpen {
                date: today,
                minute: 540
            }
        );
        assert_eq!(
            window(&s, today, 9 * 60, date(2026, 3, 9), 600),
            Window::Open
        );
        assert!(matches!(
            window(&s, today, 12 * 60, date(2026, 3, 10), 600),
            Window::NotYetOpen { .. }
        ));
        // Same day: closes an hour before.
        assert_eq!(window(&s, today, 8 * 60 + 59, today, 10 * 60), Window::Open);
        assert_eq!(
            window(&s, today, 9 * 60 + 1, today, 10 * 60),
            Window::Closed
        );
        assert_eq!(window(&s, today, 0, date(2026, 3, 1), 600), Window::Closed);
    }

    #[test]
    fn three_no_shows_block_for_ninety_days_unless_lifted() {
        const DAY: i64 = 86_400_000;
        let now = 1000 * DAY;
        let shows = [now - 100 * DAY, now - 50 * DAY, now - 10 * DAY];
        assert_eq!(
            blocked_until(&shows, None, now, 3, 180, 90),
            Some(now + 80 * DAY)
        );
        assert_eq!(blocked_until(&shows[..2], None, now, 3, 180, 90), None);
        // One of them older than the window does not count.
        let old = [now - 200 * DAY, now - 50 * DAY, now - 10 * DAY];
        assert_eq!(blocked_until(&old, None, now, 3, 180, 90), None);
        // Staff lifted the block after the third: nothing counts from before the lift.
        assert_eq!(
            blocked_until(&shows, Some(now - 5 * DAY), now, 3, 180, 90),
            None
        );
        // The block ends 90 days after the last no-show.
        assert_eq!(
            blocked_until(&shows, None, now + 81 * DAY, 3, 180, 90),
            None
        );
    }

    proptest! {
        #[test]
        fn slots_never_overlap_and_fit_their_period(start in 0i64..1200, len in 1i64..600, slot in 5i64..120) {
            let end = (start + len).min(1439);
            prop_assume!(end > start);
            let t = |m: i64| time((m / 60) as i8, (m % 60) as i8, 0, 0);
            let slots = slot_times(&[Period { start: t(start), end: t(end) }], slot);
            for w in slots.windows(2) {
                prop_assert!(w[0].end_minute <= w[1].start_minute);
            }
            for s in &slots {
                prop_assert!(s.start_minute >= start && s.end_minute <= end);
                prop_assert_eq!(s.end_minute - s.start_minute, slot);
            }
            prop_assert_eq!(slots.len() as i64, (end - start) / slot);
        }
    }
}
