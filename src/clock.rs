//! The one source of "now": system time in production, a settable instant in tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// The hall's time zone. Calendar dates are kept in it (ARCHITECTURE.md: portable value rules).
pub fn hall_tz() -> TimeZone {
    // Asia/Shanghai has been UTC+8 without daylight saving since 1991; the bundled tzdb always
    // has it, and a fixed offset is the exact fallback.
    TimeZone::get("Asia/Shanghai").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(8)))
}

#[derive(Clone, Default)]
pub struct Clock {
    fixed: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    /// A clock that stands still at `ms` until moved (tests).
    pub fn fixed(ms: i64) -> Clock {
        Clock {
            fixed: Some(Arc::new(AtomicI64::new(ms))),
        }
    }

    /// Moves a fixed clock; a system clock ignores it.
    pub fn advance_ms(&self, ms: i64) {
        if let Some(f) = &self.fixed {
            f.fetch_add(ms, Ordering::SeqCst);
        }
    }

    /// Now, as UTC epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        match &self.fixed {
            Some(f) => f.load(Ordering::SeqCst),
            None => Timestamp::now().as_millisecond(),
        }
    }

    /// Today's date in the hall's time zone.
    pub fn today(&self) -> Date {
        self.timestamp().to_zoned_datetime(hall_tz()).date()
    }

    pub fn timestamp(&self) -> Timestamp {
        Timestamp::from_millisecond(self.now_ms()).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// Formats epoch milliseconds as local hall time, `YYYY-MM-DD HH:MM:SS`.
pub fn format_local(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => ts
            .to_zoned_datetime(hall_tz())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => String::from("-"),
    }
}

/// Formats epoch milliseconds as local hall time to the minute, `YYYY-MM-DD HH:MM` (what
/// citizens read on timelines).
pub fn format_local_minute(ms: i64) -> String {
    let full = format_local(ms);
    full.get(..16).map(str::to_string).unwrap_or(full)
}

/// The local day `date` as epoch milliseconds `[start, next day's start)`, in the hall's time
/// zone (reconciliation compares a provider's statement for exactly this span).
/// `None` only for a date at the very end of the calendar's range, never a made-up 0.
pub fn day_bounds_ms(date: Date) -> Option<(i64, i64)> {
    Some((local_ms(date, 0)?, local_ms(date.tomorrow().ok()?, 0)?))
}

/// Epoch milliseconds of `minute` (from midnight) on the local day `date` in the hall's time
/// zone; `None` only at the very ends of the calendar's range, never a made-up 0.
pub fn local_ms(date: Date, minute: i64) -> Option<i64> {
    let hour = i8::try_from(minute.div_euclid(60)).ok()?;
    let min = i8::try_from(minute.rem_euclid(60)).ok()?;
    let t = jiff::civil::Time::new(hour, min, 0, 0).ok()?;
    date.to_datetime(t)
        .to_zoned_datetime(hall_tz())
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}
