//! Appointments (R2): one slot engine for every channel. Slots come from each site's opening
//! rules and the working-day calendar; each slot has a quota per pool (online, telephone,
//! on-site) that a single conditional UPDATE enforces; one active booking per ID number per
//! site and day is a unique index; no-shows block online booking by rule.

mod day_cache;
pub mod messages;
pub mod slots;
pub(crate) mod store;
pub mod web;
mod writer;
pub use day_cache::*;
use messages::*;

/// What other capabilities may read or record through booking's store (the store itself is private).
pub use store::{
    BookingRow, CapacityChange, booking_by_code, booking_by_id, held_places, longest_window,
};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditEntry};
use crate::auth::grant::{BookingDesk, LiftBlock};
use crate::auth::{Actor, AdminCap, Failure, Grant};
use crate::catalog::lines::Lines;
use crate::clock::{Clock, hall_tz};
use crate::crypto;
use crate::db::{Db, is_unique_violation};
use crate::domain::id_number::{IdNumber, IdNumberError};
use crate::domain::opening::openings_on;
use crate::domain::phone::{PhoneError, PhoneNumber};
use crate::i18n::{Lang, UserMessage};
use crate::notify;
use crate::privacy::Cipher;
use crate::sites::{self, Site};
use slots::{SlotSettings, Window, hhmm, slot_times, window};
use store::SlotRow;

/// Where a booking was made (R2: five channels, one engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The web portal.
    Web,
    /// The phone-sized page (WeChat-style).
    Mobile,
    /// Staff booking for a caller on the telephone.
    Phone,
    /// A community self-service kiosk.
    Kiosk,
    /// The on-site desk.
    Onsite,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Mobile => "mobile",
            Channel::Phone => "phone",
            Channel::Kiosk => "kiosk",
            Channel::Onsite => "onsite",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        [
            Channel::Web,
            Channel::Mobile,
            Channel::Phone,
            Channel::Kiosk,
            Channel::Onsite,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
    /// The quota pool a channel draws on: walk-in and telephone callers keep places of their
    /// own, so scripts on the web cannot crowd them out.
    pub fn pool(self) -> Pool {
        match self {
            Channel::Web | Channel::Mobile | Channel::Kiosk => Pool::Online,
            Channel::Phone => Pool::Phone,
            Channel::Onsite => Pool::OnSite,
        }
    }
    /// Channels staff use on a citizen's behalf.
    pub fn is_staff(self) -> bool {
        matches!(self, Channel::Phone | Channel::Onsite)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Channel::Web => lang.pick("网上预约", "Web"),
            Channel::Mobile => lang.pick("手机预约", "Mobile"),
            Channel::Phone => lang.pick("电话预约", "Telephone"),
            Channel::Kiosk => lang.pick("社区自助机", "Community kiosk"),
            Channel::Onsite => lang.pick("现场预约", "On-site desk"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    Online,
    Phone,
    OnSite,
}

impl Pool {
    pub fn as_str(self) -> &'static str {
        match self {
            Pool::Online => "online",
            Pool::Phone => "phone",
            Pool::OnSite => "onsite",
        }
    }
    pub fn parse(s: &str) -> Option<Pool> {
        [Pool::Online, Pool::Phone, Pool::OnSite]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Booked,
    Arrived,
    Cancelled,
    NoShow,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Booked => "booked",
            Status::Arrived => "arrived",
            Status::Cancelled => "cancelled",
            Status::NoShow => "no_show",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Booked,
            Status::Arrived,
            Status::Cancelled,
            Status::NoShow,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Status::Booked => lang.pick("已预约", "Booked"),
            Status::Arrived => lang.pick("已到场", "Arrived"),
            Status::Cancelled => lang.pick("已取消", "Cancelled"),
            Status::NoShow => lang.pick("未到场（爽约）", "No-show"),
        }
    }
}

/// Why a booking action was refused; every variant is said in the citizen's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    #[error("unknown site")]
    UnknownSite,
    #[error("unknown or unbookable line")]
    UnknownLine,
    #[error("no such slot")]
    NoSuchSlot,
    #[error("not open yet")]
    NotOpenYet { date: String, time: String },
    #[error("booking closed")]
    Closed,
    #[error("full")]
    Full,
    #[error("already booked that day")]
    AlreadyBooked,
    #[error("blocked until {0}")]
    Blocked(i64),
    #[error("not found")]
    NotFound,
    #[error("locked after wrong ID numbers")]
    Locked,
    #[error("not active")]
    NotActive,
    #[error("no booking today")]
    NotFoundToday,
    #[error("too early until {0}")]
    TooEarly(String),
    #[error("too late")]
    TooLate,
    #[error("too many attempts")]
    RateLimited,
    #[error("id number: {0}")]
    IdNumber(IdNumberError),
    #[error("{0}")]
    NotCitizenId(crate::domain::id_number::NotCitizenId),
    #[error("phone: {0}")]
    Phone(PhoneError),
    #[error("name")]
    Name,
    #[error("day closed: {0}")]
    DayClosed(String, String),
    #[error("calendar: {0}")]
    Calendar(String),
    #[error("reason needed")]
    ReasonNeeded,
    #[error("settings out of range")]
    BadSettings,
    #[error("not staff channel")]
    StaffChannel,
    #[error("site outside the grant")]
    OtherSite,
}

impl UserMessage for BookingError {
    fn status(&self) -> axum::http::StatusCode {
        match self {
            BookingError::NotFound => axum::http::StatusCode::NOT_FOUND,
            BookingError::Full | BookingError::AlreadyBooked => axum::http::StatusCode::CONFLICT,
            BookingError::RateLimited => axum::http::StatusCode::TOO_MANY_REQUESTS,
            BookingError::Locked => axum::http::StatusCode::LOCKED,
            BookingError::OtherSite => axum::http::StatusCode::FORBIDDEN,
            _ => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            BookingError::UnknownSite => "booking.unknown_site",
            BookingError::UnknownLine => "booking.unknown_line",
            BookingError::NoSuchSlot => "booking.no_such_slot",
            BookingError::NotOpenYet { .. } => "booking.not_open_yet",
            BookingError::Closed => "booking.closed",
            BookingError::Full => "booking.full",
            BookingError::AlreadyBooked => "booking.already_booked",
            BookingError::Blocked(_) => "booking.blocked",
            BookingError::NotFound => "booking.not_found",
            BookingError::Locked => "booking.locked",
            BookingError::NotActive => "booking.not_active",
            BookingError::TooEarly(_) => "booking.too_early",
            BookingError::TooLate => "booking.too_late",
            BookingError::NotFoundToday => "booking.not_found_today",
            BookingError::RateLimited => "booking.rate_limited",
            BookingError::IdNumber(e) => e.code(),
            BookingError::NotCitizenId(e) => e.code(),
            BookingError::Phone(e) => e.code(),
            BookingError::Name => "booking.name",
            BookingError::DayClosed(..) => "booking.day_closed",
            BookingError::Calendar(_) => "booking.calendar",
            BookingError::ReasonNeeded => "booking.reason_needed",
            BookingError::BadSettings => "booking.bad_settings",
            BookingError::StaffChannel => "booking.staff_channel",
            BookingError::OtherSite => "booking.other_site",
        }
    }

    fn message(&self, lang: Lang) -> String {
        use BookingError::*;
        match (self, lang) {
            (UnknownSite, Lang::ZhCn) => "没有这个办证点。".into(),
            (UnknownSite, Lang::En) => "There is no such site.".into(),
            (UnknownLine, Lang::ZhCn) => "该业务不能预约。".into(),
            (UnknownLine, Lang::En) => "This service cannot be booked.".into(),
            (NoSuchSlot, Lang::ZhCn) => "所选时段不存在，请重新选择。".into(),
            (NoSuchSlot, Lang::En) => "The chosen time does not exist; please choose again.".into(),
            (NotOpenYet { date, time }, Lang::ZhCn) => format!("该日期尚未开放预约，将于 {date} {time} 开放。"),
            (NotOpenYet { date, time }, Lang::En) => format!("This day is not open for booking yet; it opens on {date} at {time}."),
            (Closed, Lang::ZhCn) => "该时段已停止预约（需在开始前提前预约），请选择其他时段或现场取号。".into(),
            (Closed, Lang::En) => "Booking for this time has closed; choose another time or take a ticket at the hall.".into(),
            (Full, Lang::ZhCn) => "该时段已约满，请选择其他时段，或登记候补。".into(),
            (Full, Lang::En) => "This time is fully booked; choose another or join the waiting list.".into(),
            (AlreadyBooked, Lang::ZhCn) => "该身份证号当天在本办证点已有一个预约；如需改时间，请先取消或改约。".into(),
            (AlreadyBooked, Lang::En) => "This ID number already has a booking at this site that day; cancel or reschedule it instead.".into(),
            (Blocked(until), Lang::ZhCn) => format!(
                "因多次预约未到场，网上预约暂停至 {}。您仍可现场取号办理，或请工作人员核实后解除。",
                crate::clock::format_local(*until)
            ),
            (Blocked(until), Lang::En) => format!(
                "After repeated missed appointments, online booking is suspended until {}. You can still take a ticket at the hall, or ask staff to review it.",
                crate::clock::format_local(*until)
            ),
            (Locked, Lang::ZhCn) => "该预约因多次输入错误的身份证号码，已停止网上查询、改约和取消；预约仍然有效。请致电或到大厅办理。".into(),
            (Locked, Lang::En) => "Too many wrong ID numbers were given for this booking: online lookup, rescheduling and cancelling are stopped; the booking stands. Call or come to the hall.".into(),
            (NotFound, Lang::ZhCn) => "预约码与身份证号不匹配，或预约不存在。".into(),
            (NotFound, Lang::En) => "The booking code and ID number do not match a booking.".into(),
            (NotFoundToday, Lang::ZhCn) => "今天本办证点没有找到该预约。".into(),
            (NotFoundToday, Lang::En) => "No booking found for today at this site.".into(),
            (TooEarly(at), Lang::ZhCn) => format!("您预约的时段还没到，请于 {at} 后再来签到。"),
            (TooEarly(at), Lang::En) => format!("Your time has not come yet: check in from {at}."),
            (TooLate, Lang::ZhCn) => "您预约的时段已过，自助机不能签到，请到导办台由工作人员办理。".into(),
            (TooLate, Lang::En) => "Your time is past: the kiosk cannot check you in; please go to the guide desk.".into(),
            (NotActive, Lang::ZhCn) => "该预约已取消、已到场或已过期，不能再修改。".into(),
            (NotActive, Lang::En) => "This booking is cancelled, used or past, and can no longer be changed.".into(),
            (RateLimited, Lang::ZhCn) => "操作过于频繁，请稍后再试。".into(),
            (RateLimited, Lang::En) => "Too many attempts; please try again later (within the hour).".into(),
            (IdNumber(e), l) => e.message(l),
            (NotCitizenId(e), l) => e.message(l),
            (Phone(e), l) => e.message(l),
            (Name, Lang::ZhCn) => "请填写与身份证一致的姓名（1–30 个字符）。".into(),
            (Name, Lang::En) => "Enter the name as on the ID card (1–30 characters).".into(),
            (DayClosed(zh, _), Lang::ZhCn) => format!("该日本办证点暂停办理：{zh}"),
            (DayClosed(_, en), Lang::En) => format!("The site is closed that day: {en}"),
            (Calendar(m), Lang::ZhCn) => format!("无法计算办公日：{m}"),
            (Calendar(m), Lang::En) => format!("Working days cannot be computed: {m}"),
            (ReasonNeeded, Lang::ZhCn) => "请填写原因（将记入审计日志）。".into(),
            (ReasonNeeded, Lang::En) => "Give a reason (it goes into the audit log).".into(),
            (BadSettings, Lang::ZhCn) => "预约设置超出允许范围。".into(),
            (BadSettings, Lang::En) => "The appointment settings are out of range.".into(),
            (StaffChannel, Lang::ZhCn) => "电话预约和现场预约只能由工作人员办理。".into(),
            (StaffChannel, Lang::En) => "Telephone and on-site bookings are made by staff.".into(),
            (OtherSite, Lang::ZhCn) => "您在这个办证点没有办理此项业务的权限。".into(),
            (OtherSite, Lang::En) => "You do not hold this duty at this site.".into(),
        }
    }
}

/// The rules of the no-show block, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct NoShowRule {
    pub limit: usize,
    pub window_days: i64,
    pub block_days: i64,
    pub grace_minutes: i64,
}

/// What a booking use case needs besides its input.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub cache: &'a DayCache,
    pub cipher: &'a Cipher,
    pub clock: &'a Clock,
    pub calendar: &'a crate::calendar::CalendarHandle,
    pub lines: &'a Lines,
    pub no_show: NoShowRule,
}

impl Ctx<'_> {
    /// Now as a local date and minute of the day.
    fn local_now(&self) -> (Date, i64) {
        let z = self.clock.timestamp().to_zoned_datetime(hall_tz());
        (z.date(), i64::from(z.hour()) * 60 + i64::from(z.minute()))
    }
}

/// The instant of `minute` on `date` at the hall; an instant that cannot exist is a fault.
fn epoch_ms(date: Date, minute: i64) -> Result<i64, Failure<BookingError>> {
    crate::clock::local_ms(date, minute)
        .ok_or_else(|| Failure::Internal(format!("no instant for {date} minute {minute}")))
}

/// The settings for a line at a site: the administrator's, else the defaults.
pub async fn settings_for(
    ctx: &Ctx<'_>,
    site_id: i64,
    line: &str,
) -> Result<SlotSettings, sqlx::Error> {
    if let Some(s) = store::settings(ctx.db.reader(), site_id, line).await? {
        return Ok(s);
    }
    let d = &ctx.lines.defaults;
    Ok(SlotSettings {
        slot_minutes: d.slot_minutes,
        quota_online: d.quota_online,
        quota_phone: d.quota_phone,
        quota_onsite: d.quota_onsite,
        open_days_ahead: d.open_days_ahead,
        open_at_minute: crate::catalog::lines::parse_hhmm(&d.open_at).unwrap_or(540),
        close_minutes_before: d.close_minutes_before,
        release_delay_seconds: d.release_delay_seconds,
    })
}

/// Makes sure the day's slots exist (generated once, from opening rules, calendar, settings
/// and peak-capacity changes); concurrent callers are harmless (`ON CONFLICT DO NOTHING`).
pub async fn ensure_slots(
    ctx: &Ctx<'_>,
    site: &Site,
    line: &str,
    date: Date,
    settings: &SlotSettings,
) -> Result<(), Failure<BookingError>> {
    let day = date.to_string();
    if store::count_slots(ctx.db.reader(), site.id, line, &day).await? > 0 {
        return Ok(());
    }
    let opening = openings_on(&site.opening_rules, &ctx.calendar.current(), date)
        .map_err(|e| Failure::Refused(BookingError::Calendar(e.message(Lang::En))))?;
    let times = slot_times(opening.periods(), settings.slot_minutes);
    if times.is_empty() {
        return Ok(());
    }
    let extra = store::extra_capacity(ctx.db.reader(), site.id, line, &day).await?;
    let closed = store::day_closure(ctx.db.reader(), site.id, &day)
        .await?
        .is_some();
    let mut tx = ctx.db.begin().await?;
    for t in times {
        let slot = store::NewSlot {
            start_minute: t.start_minute,
            end_minute: t.end_minute,
            starts_at: epoch_ms(date, t.start_minute)?,
            ends_at: epoch_ms(date, t.end_minute)?,
            quota: (
                settings.quota_online + extra.0,
                settings.quota_phone + extra.1,
                settings.quota_onsite + extra.2,
            ),
        };
        store::insert_slot(&mut tx, site.id, line, &day, &slot, closed).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One slot as a citizen sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlotView {
    pub slot_id: i64,
    /// Hall local time of day, `HH:MM` (Beijing time, the site's own clock).
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub start: String,
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:30")]
    pub end: String,
    /// Places left in the pool of the asking channel.
    pub remaining: i64,
    pub bookable: bool,
}

/// A day's availability for a site and line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayAvailability {
    pub site_code: String,
    pub line_code: String,
    #[schema(format = Date)]
    pub date: String,
    /// Why nothing can be booked that day (closed, not open yet), in the request's language.
    pub notice: Option<String>,
    pub slots: Vec<SlotView>,
}

/// The bookable days from today, as far as the booking window reaches and the holiday
/// calendar covers.
pub async fn bookable_dates(
    ctx: &Ctx<'_>,
    site: &Site,
    line: &str,
) -> Result<Vec<Date>, Failure<BookingError>> {
    let settings = settings_for(ctx, site.id, line).await?;
    let (today, _) = ctx.local_now();
    let mut out = Vec::new();
    let calendar = ctx.calendar.current();
    for i in 0..=settings.open_days_ahead {
        let Ok(d) = today.checked_add(jiff::Span::new().days(i)) else {
            break;
        };
        match openings_on(&site.opening_rules, &calendar, d) {
            Ok(o) if o.is_open() => out.push(d),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(out)
}

pub async fn availability(
    ctx: &Ctx<'_>,
    site: &Site,
    line: &str,
    date: Date,
    channel: Channel,
    lang: Lang,
) -> Result<DayAvailability, Failure<BookingError>> {
    let bl = ctx
        .lines
        .get(line)
        .filter(|l| l.bookable)
        .ok_or(Failure::Refused(BookingError::UnknownLine))?;
    let (today, minute) = ctx.local_now();
    let day_text = date.to_string();
    let empty = |notice: String| DayAvailability {
        site_code: site.code.clone(),
        line_code: bl.code.clone(),
        date: day_text.clone(),
        notice: Some(notice),
        slots: vec![],
    };
    if date < today {
        return Ok(empty(BookingError::Closed.message(lang)));
    }
    let day = match ctx
        .cache
        .get(site.id, &bl.code, &day_text, ctx.clock.now_ms())
    {
        Some(d) => d,
        None => {
            let settings = settings_for(ctx, site.id, &bl.code).await?;
            if let Window::NotYetOpen { date: d, minute: m } =
                window(&settings, today, minute, date, 24 * 60)
            {
                let e = BookingError::NotOpenYet {
                    date: d.to_string(),
                    time: hhmm(m),
                };
                return Ok(empty(e.message(lang)));
            }
            ensure_slots(ctx, site, &bl.code, date, &settings).await?;
            let closure = store::day_closure(ctx.db.reader(), site.id, &day_text).await?;
            let slots = store::slots_of_day(ctx.db.reader(), site.id, &bl.code, &day_text).await?;
            ctx.cache.put(
                site.id,
                &bl.code,
                &day_text,
                CachedDay {
                    at: ctx.clock.now_ms(),
                    settings,
                    closure,
                    slots,
                },
            )
        }
    };
    if let Window::NotYetOpen { date: d, minute: m } =
        window(&day.settings, today, minute, date, 24 * 60)
    {
        let e = BookingError::NotOpenYet {
            date: d.to_string(),
            time: hhmm(m),
        };
        return Ok(empty(e.message(lang)));
    }
    let pool = channel.pool();
    let slots = day
        .slots
        .iter()
        .map(|s| SlotView {
            slot_id: s.id,
            start: hhmm(s.start_minute),
            end: hhmm(s.end_minute),
            remaining: s.remaining(pool),
            bookable: !s.closed
                && s.remaining(pool) > 0
                && window(&day.settings, today, minute, date, s.start_minute) == Window::Open,
        })
        .collect();
    Ok(DayAvailability {
        site_code: site.code.clone(),
        line_code: bl.code.clone(),
        date: day_text.clone(),
        notice: day
            .closure
            .clone()
            .map(|(zh, en)| BookingError::DayClosed(zh, en).message(lang)),
        slots,
    })
}

/// A booking request from any channel.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct BookRequest {
    pub slot_id: i64,
    pub name: String,
    #[serde(deserialize_with = "crate::web::fields::IdNumberText::deserialize_string")]
    #[schema(value_type = crate::web::fields::IdNumberText)]
    pub id_number: String,
    #[serde(deserialize_with = "crate::web::fields::PhoneText::deserialize_string")]
    #[schema(value_type = crate::web::fields::PhoneText)]
    pub phone: String,
    pub channel: Channel,
    #[serde(default)]
    pub lang: Option<Lang>,
}

/// What the citizen gets back: the code, the time and place, what to bring.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Confirmation {
    pub code: String,
    pub status: Status,
    pub site_code: String,
    pub site_name: String,
    pub site_address: String,
    pub line_code: String,
    pub line_name: String,
    #[schema(format = Date)]
    pub date: String,
    /// Hall local time of day, `HH:MM` (Beijing time, the site's own clock).
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub start: String,
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:30")]
    pub end: String,
    pub channel: Channel,
    /// Masked, for display.
    pub name: String,
    pub id_number: String,
    pub phone: String,
}

fn valid_name(name: &str) -> Result<String, BookingError> {
    let n = name.trim();
    let len = n.chars().count();
    if len == 0 || len > 30 || n.chars().any(|c| c.is_control()) {
        return Err(BookingError::Name);
    }
    Ok(n.to_string())
}

/// Validates the person at the edge: a citizen ID by its checksum, a phone number, a name.
pub fn parse_person(
    name: &str,
    id: &str,
    phone: &str,
) -> Result<(String, IdNumber, PhoneNumber), BookingError> {
    let name = valid_name(name)?;
    let id = IdNumber::parse(id).map_err(BookingError::IdNumber)?;
    id.require_citizen().map_err(BookingError::NotCitizenId)?;
    let phone = PhoneNumber::parse(phone).map_err(BookingError::Phone)?;
    Ok((name, id, phone))
}

fn new_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut b = [0u8; 8];
    crypto::fill_random(&mut b);
    b.iter()
        .map(|x| ALPHABET[(*x as usize) % ALPHABET.len()] as char)
        .collect()
}

fn lang_of(code: &str) -> Lang {
    Lang::from_code(code).unwrap_or_default()
}

/// The actor's grant to work the booking desk; "other site" when the actor has none.
pub fn desk(actor: &Actor) -> Result<Grant<'_, BookingDesk>, Failure<BookingError>> {
    actor.grant_or(BookingError::OtherSite)
}

/// The actor's grant to lift no-show blocks; "other site" when the actor has none.
pub fn lifter(actor: &Actor) -> Result<Grant<'_, LiftBlock>, Failure<BookingError>> {
    actor.grant_or(BookingError::OtherSite)
}

/// Refuses unless `covers` (the grant holds at the record's site).
fn at_site(covers: bool) -> Result<(), Failure<BookingError>> {
    if covers {
        Ok(())
    } else {
        Err(Failure::Refused(BookingError::OtherSite))
    }
}

/// Books a slot. Refusals say why; a retried request with the same idempotency key returns
/// the booking it made the first time.
pub async fn book(
    ctx: &Ctx<'_>,
    grant: Option<&Grant<'_, BookingDesk>>,
    req: BookRequest,
    idempotency_key: Option<&str>,
) -> Result<Confirmation, Failure<BookingError>> {
    if req.channel.is_staff() && grant.is_none() {
        return Err(Failure::Refused(BookingError::StaffChannel));
    }
    let actor = grant.map(|g| g.actor());
    if let Some(key) = idempotency_key
        && let Some(existing) = store::booking_by_key(ctx.db.reader(), key).await?
    {
        return confirmation(ctx, &existing).await;
    }
    let (name, id, phone) =
        parse_person(&req.name, &req.id_number, &req.phone).map_err(Failure::Refused)?;
    let lang = req.lang.unwrap_or_default();
    // The day's copy already holds the slot, the settings and any closure (a release morning
    // books days that were just read); the database is asked only when it does not.
    let (slot, cached) = match ctx.cache.slot(req.slot_id, ctx.clock.now_ms()) {
        Some(facts) => (facts.slot.clone(), Some(facts)),
        None => (
            store::slot(ctx.db.reader(), req.slot_id)
                .await?
                .ok_or(Failure::Refused(BookingError::NoSuchSlot))?,
            None,
        ),
    };
    let site = ctx
        .cache
        .site(ctx.db, slot.site_id, ctx.clock.now_ms())
        .await?
        .filter(|s| s.active)
        .ok_or(Failure::Refused(BookingError::UnknownSite))?;
    if req.channel.is_staff() {
        at_site(grant.is_some_and(|g| g.covers(site.id)))?;
    }
    let line = ctx
        .lines
        .get(&slot.line_code)
        .filter(|l| l.bookable)
        .ok_or(Failure::Refused(BookingError::UnknownLine))?;
    let (settings, closure) = match cached {
        Some(facts) => (facts.settings, facts.closure),
        None => (
            settings_for(ctx, site.id, &line.code).await?,
            store::day_closure(ctx.db.reader(), site.id, &slot.date).await?,
        ),
    };
    check_window(ctx, &settings, &slot)?;
    if let Some((zh, en)) = closure {
        return Err(Failure::Refused(BookingError::DayClosed(zh, en)));
    }
    // The no-show rule is checked by the writer, for the whole batch in one query.
    let id_index = ctx.cipher.blind_index(id.as_str());
    let now = ctx.clock.now_ms();
    let code = new_code();
    let line_name = line.name(lang).to_string();
    let job = writer::BookingJob {
        code: code.clone(),
        slot: slot.clone(),
        channel: req.channel,
        id_index,
        id_sealed: ctx.cipher.seal(id.as_str()),
        name_sealed: ctx.cipher.seal(&name),
        phone_sealed: ctx.cipher.seal(phone.as_str()),
        lang,
        idempotency_key: idempotency_key.map(str::to_string),
        actor: actor.cloned(),
        no_show: (!req.channel.is_staff()).then_some(ctx.no_show),
        messages: booking_messages(ctx, &site, &line_name, &slot, &code, &phone, lang, now),
        now,
    };
    let written = writer::write(ctx.db, job).await?;
    if !matches!(written, writer::Written::Booked(_))
        && let Some(key) = idempotency_key
        && let Some(existing) = store::booking_by_key(ctx.db.reader(), key).await?
    {
        // The same request retried concurrently: its twin made the booking (and may have
        // taken the last place, which is why this one can come back "full").
        return confirmation(ctx, &existing).await;
    }
    match written {
        writer::Written::Booked(_) => {}
        writer::Written::Full => return Err(Failure::Refused(BookingError::Full)),
        writer::Written::Blocked(until) => {
            return Err(Failure::Refused(BookingError::Blocked(until)));
        }
        writer::Written::Taken => return Err(Failure::Refused(BookingError::AlreadyBooked)),
    }
    ctx.cache
        .took_place(site.id, &line.code, &slot.date, slot.id, req.channel.pool());
    // Only the duty leader's dashboard listens, for "this site changed".
    ctx.db.publish_coalesced(
        "booking.created",
        site.id,
        serde_json::json!({"site": site.id, "slot": slot.id}),
        std::time::Duration::from_millis(250),
    );
    let person = Person {
        name,
        id: id.as_str().to_string(),
        phone: phone.as_str().to_string(),
    };
    Ok(confirmation_of(
        ctx,
        &site,
        &slot,
        &code,
        Status::Booked,
        req.channel,
        &person,
        lang,
    ))
}

fn check_window(
    ctx: &Ctx<'_>,
    settings: &SlotSettings,
    slot: &SlotRow,
) -> Result<(), Failure<BookingError>> {
    let date: Date = slot
        .date
        .parse()
        .map_err(|_| Failure::Internal(format!("bad slot date {}", slot.date)))?;
    let (today, minute) = ctx.local_now();
    match window(settings, today, minute, date, slot.start_minute) {
        Window::Open => Ok(()),
        Window::Closed => Err(Failure::Refused(BookingError::Closed)),
        Window::NotYetOpen { date, minute } => Err(Failure::Refused(BookingError::NotOpenYet {
            date: date.to_string(),
            time: hhmm(minute),
        })),
    }
}

/// The booking's texts: the confirmation now and a reminder at 18:00 the evening before, if
/// that is still ahead (R2).
#[allow(clippy::too_many_arguments)]
fn booking_messages(
    ctx: &Ctx<'_>,
    site: &Site,
    line_name: &str,
    slot: &SlotRow,
    code: &str,
    phone: &PhoneNumber,
    lang: Lang,
    now: i64,
) -> Vec<notify::Sealed> {
    let (start, end) = (hhmm(slot.start_minute), hhmm(slot.end_minute));
    let body = message_booked(lang, site, line_name, &slot.date, &start, &end, code);
    let mut out = vec![notify::Sealed::new(
        ctx.cipher,
        &notify::Outgoing {
            kind: "booking.confirmation",
            reference: code,
            phone,
            body: &body,
            due_at: now,
        },
    )];
    if let Ok(date) = slot.date.parse::<Date>()
        && let Ok(eve) = date.yesterday()
        && let Some(due) = crate::clock::local_ms(eve, 18 * 60)
        && due > now
    {
        let body = message_reminder(lang, site, &slot.date, &start, code);
        out.push(notify::Sealed::new(
            ctx.cipher,
            &notify::Outgoing {
                kind: "booking.reminder",
                reference: code,
                phone,
                body: &body,
                due_at: due,
            },
        ));
    }
    out
}

/// Builds the confirmation of a stored booking (personal data masked).
pub async fn confirmation(
    ctx: &Ctx<'_>,
    b: &store::BookingRow,
) -> Result<Confirmation, Failure<BookingError>> {
    let site = sites::site(ctx.db.reader(), b.site_id)
        .await?
        .ok_or(Failure::Refused(BookingError::UnknownSite))?;
    let open = |v: &[u8]| {
        ctx.cipher
            .open(v)
            .map_err(|e| Failure::Internal(e.to_string()))
    };
    let person = Person {
        name: open(&b.name_sealed)?,
        id: open(&b.id_sealed)?,
        phone: open(&b.phone_sealed)?,
    };
    let slot = store::slot(ctx.db.reader(), b.slot_id)
        .await?
        .ok_or(Failure::Refused(BookingError::NoSuchSlot))?;
    let channel = b.channel;
    Ok(confirmation_of(
        ctx, &site, &slot, &b.code, b.status, channel, &person, b.lang,
    ))
}

/// The clear personal values of a booking, only ever shown masked.
struct Person {
    name: String,
    id: String,
    phone: String,
}

/// Builds a confirmation from values in hand (no database reads).
#[allow(clippy::too_many_arguments)]
fn confirmation_of(
    ctx: &Ctx<'_>,
    site: &Site,
    slot: &SlotRow,
    code: &str,
    status: Status,
    channel: Channel,
    person: &Person,
    lang: Lang,
) -> Confirmation {
    Confirmation {
        code: code.to_string(),
        status,
        site_code: site.code.clone(),
        site_name: site.name(lang).to_string(),
        site_address: site.address(lang).to_string(),
        line_code: slot.line_code.clone(),
        line_name: ctx
            .lines
            .get(&slot.line_code)
            .map(|l| l.name(lang).to_string())
            .unwrap_or_default(),
        date: slot.date.clone(),
        start: hhmm(slot.start_minute),
        end: hhmm(slot.end_minute),
        channel,
        name: crate::domain::masking::mask_name(&person.name),
        id_number: IdNumber::parse(&person.id)
            .map(|i| i.masked())
            .unwrap_or_default(),
        phone: PhoneNumber::parse(&person.phone)
            .map(|p| p.masked())
            .unwrap_or_default(),
    }
}

/// Finds a booking by its code and the ID number it was made with (both must match).
pub async fn find_own(
    ctx: &Ctx<'_>,
    code: &str,
    id_number: &str,
) -> Result<store::BookingRow, Failure<BookingError>> {
    let id = IdNumber::parse(id_number).map_err(|e| Failure::Refused(BookingError::IdNumber(e)))?;
    let code = code.trim().to_uppercase();
    let Some(b) = store::booking_by_code(ctx.db.reader(), &code).await? else {
        return Err(Failure::Refused(BookingError::NotFound));
    };
    if b.locked_at.is_some() {
        return Err(Failure::Refused(BookingError::Locked));
    }
    if ctx.cipher.blind_index(id.as_str()).matches(&b.id_index) {
        return Ok(b);
    }
    // A wrong ID number with a real code: counted on the booking, shared by every node.
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    let locked_now = store::count_wrong_id(&mut tx, b.id, WRONG_IDS_BEFORE_LOCK, now).await?;
    if locked_now
        && let Ok(phone) = ctx
            .cipher
            .open(&b.phone_sealed)
            .map_err(|e| e.to_string())
            .and_then(|p| PhoneNumber::parse(&p).map_err(|e| e.to_string()))
    {
        let body = message_locked(b.lang, &b.code);
        notify::enqueue(
            &mut tx,
            ctx.cipher,
            notify::Outgoing {
                kind: "booking.locked",
                reference: &b.code,
                phone: &phone,
                body: &body,
                due_at: now,
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Err(Failure::Refused(if locked_now {
        BookingError::Locked
    } else {
        BookingError::NotFound
    }))
}

/// Wrong ID numbers with one booking code before the code is locked for online use (a code
/// with a region and birth date leaves ≤ 1,000 candidates; a citizen mistypes once or twice).
pub const WRONG_IDS_BEFORE_LOCK: i64 = 5;

/// Cancels a booking (the citizen with code + ID number, or staff). The place is offered again
/// only after the release delay.
pub async fn cancel(
    ctx: &Ctx<'_>,
    grant: Option<&Grant<'_, BookingDesk>>,
    b: &store::BookingRow,
    reason: Option<&str>,
) -> Result<(), Failure<BookingError>> {
    let now = ctx.clock.now_ms();
    let settings = settings_for(ctx, b.site_id, &b.line_code).await?;
    let mut tx = ctx.db.begin().await?;
    let release_at = now + settings.release_delay_seconds * 1000;
    if !store::set_status(
        &mut tx,
        b.id,
        &[Status::Booked],
        Status::Cancelled,
        now,
        reason,
        Some(release_at),
    )
    .await?
    {
        return Err(Failure::Refused(BookingError::NotActive));
    }
    notify::withdraw(&mut tx, "booking.reminder", &b.code, now).await?;
    if let Ok(phone) = ctx
        .cipher
        .open(&b.phone_sealed)
        .map_err(|_| ())
        .and_then(|p| PhoneNumber::parse(&p).map_err(|_| ()))
    {
        let lang = b.lang;
        let body = message_cancelled(lang, &b.date, &hhmm(b.start_minute), &b.code, reason);
        notify::enqueue(
            &mut tx,
            ctx.cipher,
            notify::Outgoing {
                kind: "booking.cancelled",
                reference: &b.code,
                phone: &phone,
                body: &body,
                due_at: now,
            },
            now,
        )
        .await?;
    }
    if let Some(a) = grant.map(|g| g.actor()) {
        audit::record(
            &mut tx,
            AuditEntry::by(a, "booking.cancelled", "booking", &b.id.to_string(), now)
                .site(b.site_id)
                .detail(serde_json::json!({"code": b.code, "reason": reason})),
        )
        .await?;
    }
    tx.commit().await?;
    ctx.cache.invalidate(b.site_id, &b.line_code, &b.date);
    Ok(())
}

/// Moves a booking to another slot in one transaction: the new place is taken before the old
/// one is let go, so a full slot leaves the old booking untouched.
pub async fn reschedule(
    ctx: &Ctx<'_>,
    b: &store::BookingRow,
    new_slot_id: i64,
) -> Result<Confirmation, Failure<BookingError>> {
    if b.status != Status::Booked {
        return Err(Failure::Refused(BookingError::NotActive));
    }
    let slot = store::slot(ctx.db.reader(), new_slot_id)
        .await?
        .ok_or(Failure::Refused(BookingError::NoSuchSlot))?;
    let site = sites::site(ctx.db.reader(), slot.site_id)
        .await?
        .ok_or(Failure::Refused(BookingError::UnknownSite))?;
    let line = ctx
        .lines
        .get(&slot.line_code)
        .filter(|l| l.bookable)
        .ok_or(Failure::Refused(BookingError::UnknownLine))?;
    let settings = settings_for(ctx, site.id, &line.code).await?;
    check_window(ctx, &settings, &slot)?;
    if let Some((zh, en)) = store::day_closure(ctx.db.reader(), site.id, &slot.date).await? {
        return Err(Failure::Refused(BookingError::DayClosed(zh, en)));
    }
    let phone = ctx
        .cipher
        .open(&b.phone_sealed)
        .ok()
        .and_then(|p| PhoneNumber::parse(&p).ok())
        .ok_or(Failure::Internal("stored phone unreadable".into()))?;
    let lang = b.lang;
    let now = ctx.clock.now_ms();
    let code = new_code();
    let old_settings = settings_for(ctx, b.site_id, &b.line_code).await?;
    let mut tx = ctx.db.begin().await?;
    if !store::set_status(
        &mut tx,
        b.id,
        &[Status::Booked],
        Status::Cancelled,
        now,
        Some("rescheduled"),
        Some(now + old_settings.release_delay_seconds * 1000),
    )
    .await?
    {
        return Err(Failure::Refused(BookingError::NotActive));
    }
    if !store::take_place(&mut tx, slot.id, b.pool).await? {
        return Err(Failure::Refused(BookingError::Full));
    }
    let new = store::NewBooking {
        code: &code,
        slot: &slot,
        channel: b.channel,
        pool: b.pool,
        id_index: &b.id_index,
        id_sealed: b.id_sealed.clone(),
        name_sealed: b.name_sealed.clone(),
        phone_sealed: b.phone_sealed.clone(),
        lang: b.lang,
        rescheduled_from: Some(b.id),
        idempotency_key: None,
        created_by: None,
        now,
    };
    match store::insert_booking(&mut tx, &new).await {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(Failure::Refused(BookingError::AlreadyBooked));
        }
        Err(e) => return Err(e.into()),
    }
    notify::withdraw(&mut tx, "booking.reminder", &b.code, now).await?;
    let messages = booking_messages(ctx, &site, line.name(lang), &slot, &code, &phone, lang, now);
    notify::enqueue_sealed(&mut tx, &messages, now).await?;
    tx.commit().await?;
    ctx.cache.invalidate(b.site_id, &b.line_code, &b.date);
    ctx.cache.invalidate(site.id, &line.code, &slot.date);
    let row = store::booking_by_code(ctx.db.reader(), &code)
        .await?
        .ok_or(Failure::Internal("booking vanished".into()))?;
    confirmation(ctx, &row).await
}

/// Marks a booking arrived (R2: appointment arrivals are served without queuing; the ticketing
/// capability hands them a priority ticket).
/// Who marks an arrival: the booking desk, or an enrolled kiosk of the site where the holder
/// swiped their ID card or scanned the booking's QR (issue 14 §2).
pub enum Arrival<'a> {
    Desk(&'a Grant<'a, BookingDesk>),
    Kiosk(&'a crate::device_registry::DeviceRow),
}

/// A kiosk checks in from this many minutes before the booked time (staff at any time).
pub const KIOSK_EARLY_MINUTES: i64 = 60;

pub async fn check_in(
    ctx: &Ctx<'_>,
    by: Arrival<'_>,
    b: &store::BookingRow,
) -> Result<(), Failure<BookingError>> {
    let (today, _) = ctx.local_now();
    if b.date != today.to_string() {
        return Err(Failure::Refused(BookingError::NotActive));
    }
    let now = ctx.clock.now_ms();
    match &by {
        Arrival::Desk(grant) => at_site(grant.covers(b.site_id))?,
        Arrival::Kiosk(device) => {
            if device.site_id != b.site_id {
                return Err(Failure::Refused(BookingError::NotFoundToday));
            }
            let opens = b.starts_at - KIOSK_EARLY_MINUTES * 60_000;
            if now < opens {
                let at = crate::clock::format_local_minute(opens);
                return Err(Failure::Refused(BookingError::TooEarly(
                    at.get(11..).unwrap_or(&at).to_string(),
                )));
            }
            // Past the slot and its grace the booking is a no-show; staff decide.
            if now > b.ends_at + ctx.no_show.grace_minutes * 60_000 {
                return Err(Failure::Refused(BookingError::TooLate));
            }
        }
    }
    let mut tx = ctx.db.begin().await?;
    if !store::set_status(
        &mut tx,
        b.id,
        &[Status::Booked, Status::NoShow],
        Status::Arrived,
        now,
        None,
        None,
    )
    .await?
    {
        return Err(Failure::Refused(BookingError::NotActive));
    }
    let entry = match &by {
        Arrival::Desk(grant) => AuditEntry::by(
            grant.actor(),
            "booking.checked_in",
            "booking",
            &b.id.to_string(),
            now,
        ),
        Arrival::Kiosk(device) => AuditEntry::system(
            "booking.checked_in",
            "booking",
            &b.id.to_string(),
            &crate::auth::RequestMeta::default(),
            now,
        )
        .detail(serde_json::json!({"device": device.id})),
    };
    audit::record(&mut tx, entry.site(b.site_id)).await?;
    tx.commit().await?;
    ctx.db.publish(
        "booking.arrived",
        serde_json::json!({"site": b.site_id, "code": b.code}),
    );
    Ok(())
}

/// Today's bookings of a person at a site, found by ID number (staff look-up at arrival).
pub async fn find_today_by_id(
    ctx: &Ctx<'_>,
    site_id: i64,
    id_number: &str,
) -> Result<Option<store::BookingRow>, Failure<BookingError>> {
    let id = IdNumber::parse(id_number).map_err(|e| Failure::Refused(BookingError::IdNumber(e)))?;
    let (today, _) = ctx.local_now();
    Ok(store::active_booking_of(
        ctx.db.reader(),
        &ctx.cipher.blind_index(id.as_str()),
        site_id,
        &today.to_string(),
    )
    .await?)
}

/// Staff lift a no-show block, with a reason (audited).
pub async fn lift_block(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, LiftBlock>,
    id_number: &str,
    reason: &str,
) -> Result<(), Failure<BookingError>> {
    let actor = grant.actor();
    let id = IdNumber::parse(id_number).map_err(|e| Failure::Refused(BookingError::IdNumber(e)))?;
    let reason = reason.trim();
    if reason.chars().count() < 2 {
        return Err(Failure::Refused(BookingError::ReasonNeeded));
    }
    let now = ctx.clock.now_ms();
    let index = ctx.cipher.blind_index(id.as_str());
    let mut tx = ctx.db.begin().await?;
    store::insert_lift(&mut tx, index.newest(), actor.staff_id, reason, now).await?;
    audit::record(
        &mut tx,
        AuditEntry::by(actor, "booking.block_lifted", "person", &id.masked(), now)
            .detail(serde_json::json!({"reason": reason})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Joins the waiting list for a full day; people are told in order when a place frees.
pub async fn join_waitlist(
    ctx: &Ctx<'_>,
    site: &Site,
    line: &str,
    date: Date,
    id_number: &str,
    phone: &str,
    lang: Lang,
) -> Result<bool, Failure<BookingError>> {
    let id = IdNumber::parse(id_number).map_err(|e| Failure::Refused(BookingError::IdNumber(e)))?;
    let phone = PhoneNumber::parse(phone).map_err(|e| Failure::Refused(BookingError::Phone(e)))?;
    ctx.lines
        .get(line)
        .filter(|l| l.bookable)
        .ok_or(Failure::Refused(BookingError::UnknownLine))?;
    let now = ctx.clock.now_ms();
    let person = ctx.cipher.blind_index(id.as_str());
    let mut tx = ctx.db.begin().await?;
    let entry = store::WaitEntry {
        site_id: site.id,
        line,
        date: &date.to_string(),
        id_index: person.newest(),
        phone_sealed: ctx.cipher.seal(phone.as_str()),
        lang: lang.code(),
    };
    let joined = store::join_waitlist(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(joined)
}

/// Tells the first person waiting for a place on this day and line (in the order they joined)
/// that one is free; false when nobody is waiting.
async fn tell_next_waiting(
    ctx: &Ctx<'_>,
    tx: &mut sqlx::AnyConnection,
    site_id: i64,
    line: &str,
    date: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let Some((sealed, lang)) = store::next_waiting(tx, site_id, line, date, now).await? else {
        return Ok(false);
    };
    if let Some(phone) = ctx
        .cipher
        .open(&sealed)
        .ok()
        .and_then(|p| PhoneNumber::parse(&p).ok())
    {
        let body = message_place_free(lang_of(&lang), date);
        let reference = format!("{site_id}/{line}/{date}");
        notify::enqueue(
            tx,
            ctx.cipher,
            notify::Outgoing {
                kind: "waitlist.place_free",
                reference: &reference,
                phone: &phone,
                body: &body,
                due_at: now,
            },
            now,
        )
        .await?;
    }
    Ok(true)
}

/// Background rules: offer cancelled places again after their delay (telling the first person
/// waiting), and mark bookings nobody came to as no-shows after the grace period.
pub async fn sweep(ctx: &Ctx<'_>) -> Result<(u64, usize), sqlx::Error> {
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    let due = store::due_releases(&mut tx, now).await?;
    let mut released = 0;
    for (id, slot_id, pool, site_id, line, date) in due {
        if store::mark_released(&mut tx, id).await? {
            store::return_place(&mut tx, slot_id, pool).await?;
            released += 1;
            tell_next_waiting(ctx, &mut tx, site_id, &line, &date, now).await?;
        }
    }
    let no_shows =
        store::mark_no_shows(&mut tx, now - ctx.no_show.grace_minutes * 60_000, now).await?;
    tx.commit().await?;
    if released > 0 {
        ctx.cache.clear();
    }
    Ok((no_shows, released))
}

/// Administrators change a line's appointment settings at a site; slots already generated for
/// future days take the new quotas (never below what is booked).
pub async fn update_settings(
    ctx: &Ctx<'_>,
    admin: AdminCap<'_>,
    site_id: i64,
    line: &str,
    s: SlotSettings,
) -> Result<(), Failure<BookingError>> {
    let actor = admin.actor();
    at_site(admin.covers(site_id))?;
    ctx.lines
        .get(line)
        .filter(|l| l.bookable)
        .ok_or(Failure::Refused(BookingError::UnknownLine))?;
    if !(5..=240).contains(&s.slot_minutes)
        || !(0..=10_000).contains(&s.quota_online)
        || !(0..=10_000).contains(&s.quota_phone)
        || !(0..=10_000).contains(&s.quota_onsite)
        || !(1..=90).contains(&s.open_days_ahead)
        || !(0..1440).contains(&s.open_at_minute)
        || !(0..=1440).contains(&s.close_minutes_before)
        || !(0..=86_400).contains(&s.release_delay_seconds)
    {
        return Err(Failure::Refused(BookingError::BadSettings));
    }
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    store::upsert_settings(&mut tx, site_id, line, &s, now).await?;
    apply_quotas(ctx, &mut tx, site_id, line, &s).await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            actor,
            "booking.settings_changed",
            "site",
            &site_id.to_string(),
            now,
        )
        .site(site_id)
        .detail(serde_json::json!({"line": line, "settings": s})),
    )
    .await?;
    tx.commit().await?;
    ctx.cache.clear();
    // A longer window may bring the calendar warnings forward.
    ctx.calendar.refresh_booking_reach(ctx.db).await?;
    Ok(())
}

/// Applies a line's settings to the slots already generated from today on.
async fn apply_quotas(
    ctx: &Ctx<'_>,
    tx: &mut sqlx::AnyConnection,
    site_id: i64,
    line: &str,
    s: &SlotSettings,
) -> Result<(), sqlx::Error> {
    let (today, _) = ctx.local_now();
    for date in store::generated_dates(&mut *tx, site_id, line, &today.to_string()).await? {
        let extra = store::extra_capacity(&mut *tx, site_id, line, &date).await?;
        store::set_day_quotas(
            tx,
            site_id,
            line,
            &date,
            (
                s.quota_online + extra.0,
                s.quota_phone + extra.1,
                s.quota_onsite + extra.2,
            ),
        )
        .await?;
    }
    Ok(())
}

/// Adds peak capacity (extra places per slot) for a date range (R2: peak-season quota).
pub async fn add_capacity(
    ctx: &Ctx<'_>,
    admin: AdminCap<'_>,
    site_id: i64,
    change: store::CapacityChange,
) -> Result<(), Failure<BookingError>> {
    let actor = admin.actor();
    at_site(admin.covers(site_id))?;
    ctx.lines
        .get(&change.line_code)
        .filter(|l| l.bookable)
        .ok_or(Failure::Refused(BookingError::UnknownLine))?;
    let (from, to): (Date, Date) = match (change.from_date.parse(), change.to_date.parse()) {
        (Ok(f), Ok(t)) if f <= t => (f, t),
        _ => return Err(Failure::Refused(BookingError::BadSettings)),
    };
    let (a, b, c) = change.extra;
    if !(0..=1000).contains(&a)
        || !(0..=1000).contains(&b)
        || !(0..=1000).contains(&c)
        || a + b + c == 0
        || (to - from).get_days() > 366
    {
        return Err(Failure::Refused(BookingError::BadSettings));
    }
    if change.reason.trim().chars().count() < 2 {
        return Err(Failure::Refused(BookingError::ReasonNeeded));
    }
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    store::insert_capacity(&mut tx, site_id, &change, actor.staff_id, now).await?;
    // New online places are free places: tell people waiting for those days, in order, as
    // many as the places added (per slot of the day).
    if a > 0 {
        let site = sites::site(&mut *tx, site_id)
            .await?
            .ok_or(Failure::Refused(BookingError::UnknownSite))?;
        let settings = settings_for(ctx, site_id, &change.line_code).await?;
        let dates = store::waiting_dates(
            &mut *tx,
            site_id,
            &change.line_code,
            &change.from_date,
            &change.to_date,
        )
        .await?;
        for date in dates {
            // Places added that day: the extra per slot times the day's slots.
            let slots = date
                .parse::<Date>()
                .ok()
                .and_then(|d| openings_on(&site.opening_rules, &ctx.calendar.current(), d).ok())
                .map_or(0, |o| {
                    slot_times(o.periods(), settings.slot_minutes).len() as i64
                });
            for _ in 0..(a * slots).min(500) {
                if !tell_next_waiting(ctx, &mut tx, site_id, &change.line_code, &date, now).await? {
                    break;
                }
            }
        }
    }
    audit::record(
        &mut tx,
        AuditEntry::by(actor, "booking.capacity_added", "site", &site_id.to_string(), now).site(site_id).detail(serde_json::json!({
            "line": change.line_code, "from": change.from_date, "to": change.to_date, "extra": [a, b, c], "reason": change.reason,
        })),
    )
    .await?;
    tx.commit().await?;
    ctx.cache.clear();
    Ok(())
}

/// What closing a day did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DayClosed {
    pub site_code: String,
    #[schema(format = Date)]
    pub date: String,
    /// Bookings cancelled.
    pub cancelled: usize,
    /// Of those, the ones now holding another time the citizen was offered.
    pub offered: usize,
}

/// How long a cancellation text waits for the offer of another time that replaces it, so a
/// citizen gets one text saying both; when no offer can be made (or this node stops first),
/// the cancellation goes out alone.
const OFFER_GRACE_MS: i64 = 60_000;

/// Closes a site for a day with a reason: its slots close, its bookings are cancelled and each
/// citizen is offered another time, in one text that says why.
pub async fn close_day(
    ctx: &Ctx<'_>,
    admin: AdminCap<'_>,
    site: &Site,
    date: Date,
    reason_zh: &str,
    reason_en: &str,
) -> Result<DayClosed, Failure<BookingError>> {
    let actor = admin.actor();
    at_site(admin.covers(site.id))?;
    let (zh, en) = (reason_zh.trim(), reason_en.trim());
    if zh.chars().count() < 2 || en.chars().count() < 2 {
        return Err(Failure::Refused(BookingError::ReasonNeeded));
    }
    let now = ctx.clock.now_ms();
    let day = date.to_string();
    let mut tx = ctx.db.begin().await?;
    match store::insert_closure(&mut tx, site.id, &day, zh, en, actor.staff_id, now).await {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(Failure::Refused(BookingError::DayClosed(
                zh.into(),
                en.into(),
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let cancelled = store::cancel_day(&mut tx, site.id, &day, now).await?;
    for b in &cancelled {
        notify::withdraw(&mut tx, "booking.reminder", &b.code, now).await?;
        if let Some(phone) = ctx
            .cipher
            .open(&b.phone_sealed)
            .ok()
            .and_then(|p| PhoneNumber::parse(&p).ok())
        {
            let lang = b.lang;
            let why = lang.pick(zh, en);
            let body = message_cancelled(lang, &b.date, &hhmm(b.start_minute), &b.code, Some(why));
            notify::enqueue(
                &mut tx,
                ctx.cipher,
                notify::Outgoing {
                    kind: "booking.cancelled",
                    reference: &b.code,
                    phone: &phone,
                    body: &body,
                    due_at: now + OFFER_GRACE_MS,
                },
                now,
            )
            .await?;
        }
    }
    audit::record(
        &mut tx,
        AuditEntry::by(
            actor,
            "booking.day_closed",
            "site",
            &site.id.to_string(),
            now,
        )
        .site(site.id)
        .detail(
            serde_json::json!({"date": day, "reason": zh, "bookings_cancelled": cancelled.len()}),
        ),
    )
    .await?;
    tx.commit().await?;
    ctx.cache.clear();
    let mut offered = 0;
    for b in &cancelled {
        // Best effort after the closure is committed: a booking with no free place later keeps
        // its cancellation notice, which already asks the citizen to choose another time.
        let why = b.lang.pick(zh, en);
        match offer_another_time(ctx, site, b, date, why).await {
            Ok(Some(_)) => offered += 1,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, booking = b.id, "no other time offered"),
        }
    }
    Ok(DayClosed {
        site_code: site.code.clone(),
        date: day,
        cancelled: cancelled.len(),
        offered,
    })
}

/// Closes the days of `year` that `calendar` makes days off at a site that had opened them on
/// the calendar before (a provisional year whose notice has come, issue 11): like any closed
/// day, their bookings are cancelled and offered another time. Days already closed stay as
/// they are; days that become working days open by themselves when first asked for.
pub async fn close_new_days_off(
    ctx: &Ctx<'_>,
    admin: AdminCap<'_>,
    calendar: &crate::domain::calendar::HolidayCalendar,
    year: i16,
) -> Result<Vec<DayClosed>, Failure<BookingError>> {
    use crate::domain::opening::{ClosedReason, DayOpening};
    at_site(admin.site().is_none())?;
    let (today, _) = ctx.local_now();
    let Ok(first) = Date::new(year, 1, 1) else {
        return Ok(Vec::new());
    };
    let from = today.max(first).to_string();
    let prefix = format!("{year}-");
    let mut closed = Vec::new();
    for site in sites::list_sites(ctx.db.reader(), true).await? {
        let mut days = std::collections::BTreeSet::new();
        for line in ctx.lines.bookable() {
            for d in store::generated_dates(ctx.db.reader(), site.id, &line.code, &from).await? {
                if d.starts_with(&prefix) {
                    days.insert(d);
                }
            }
        }
        for day in days {
            let Ok(date) = day.parse::<Date>() else {
                continue;
            };
            let Ok(DayOpening::Closed { reason }) =
                openings_on(&site.opening_rules, calendar, date)
            else {
                continue;
            };
            if store::day_closure(ctx.db.reader(), site.id, &day)
                .await?
                .is_some()
            {
                continue;
            }
            let (zh, en) = match &reason {
                ClosedReason::Holiday(h) => (
                    format!("国务院节假日安排（{}放假）", h.name_zh),
                    format!("the State Council's holiday arrangement ({})", h.name_en),
                ),
                other => (other.label(Lang::ZhCn), other.label(Lang::En)),
            };
            match close_day(ctx, admin, &site, date, &zh, &en).await {
                Ok(c) => closed.push(c),
                // Closed by someone else in the meantime: nothing left to do here.
                Err(Failure::Refused(BookingError::DayClosed(..))) => {}
                Err(e) => return Err(e),
            }
        }
    }
    ctx.cache.clear();
    Ok(closed)
}

/// Holds the nearest later free place in the same pool for a booking whose day was closed, as
/// a new booking (rescheduled from the old one) the citizen can keep, move or cancel; returns
/// its code, or `None` when nothing is free within the booking window.
async fn offer_another_time(
    ctx: &Ctx<'_>,
    site: &Site,
    b: &store::BookingRow,
    closed: Date,
    why: &str,
) -> Result<Option<String>, Failure<BookingError>> {
    let Some(line) = ctx.lines.get(&b.line_code).filter(|l| l.bookable) else {
        return Ok(None);
    };
    let settings = settings_for(ctx, site.id, &line.code).await?;
    let phone = ctx
        .cipher
        .open(&b.phone_sealed)
        .ok()
        .and_then(|p| PhoneNumber::parse(&p).ok())
        .ok_or(Failure::Internal("stored phone unreadable".into()))?;
    let lang = b.lang;
    for date in bookable_dates(ctx, site, &line.code)
        .await?
        .into_iter()
        .filter(|d| *d > closed)
    {
        let day = date.to_string();
        if store::day_closure(ctx.db.reader(), site.id, &day)
            .await?
            .is_some()
        {
            continue;
        }
        ensure_slots(ctx, site, &line.code, date, &settings).await?;
        for slot in store::slots_of_day(ctx.db.reader(), site.id, &line.code, &day).await? {
            if slot.remaining(b.pool) <= 0 || check_window(ctx, &settings, &slot).is_err() {
                continue;
            }
            let now = ctx.clock.now_ms();
            let code = new_code();
            let mut tx = ctx.db.begin().await?;
            if !store::take_place(&mut tx, slot.id, b.pool).await? {
                continue;
            }
            let new = store::NewBooking {
                code: &code,
                slot: &slot,
                channel: b.channel,
                pool: b.pool,
                id_index: &b.id_index,
                id_sealed: b.id_sealed.clone(),
                name_sealed: b.name_sealed.clone(),
                phone_sealed: b.phone_sealed.clone(),
                lang: b.lang,
                rescheduled_from: Some(b.id),
                idempotency_key: None,
                created_by: None,
                now,
            };
            match store::insert_booking(&mut tx, &new).await {
                Ok(_) => {}
                // The person already has a booking that day: try the next day.
                Err(e) if is_unique_violation(&e) => break,
                Err(e) => return Err(e.into()),
            }
            let (start, end) = (hhmm(slot.start_minute), hhmm(slot.end_minute));
            let body = message_offered(lang, site, &b.date, why, &day, &start, &end, &code);
            // The offer says why the old time went: the cancellation text is not needed.
            notify::withdraw(&mut tx, "booking.cancelled", &b.code, now).await?;
            notify::enqueue(
                &mut tx,
                ctx.cipher,
                notify::Outgoing {
                    kind: "booking.offered",
                    reference: &code,
                    phone: &phone,
                    body: &body,
                    due_at: now,
                },
                now,
            )
            .await?;
            if let Ok(eve) = date.yesterday() {
                let due = epoch_ms(eve, 18 * 60)?;
                if due > now {
                    let body = message_reminder(lang, site, &day, &start, &code);
                    notify::enqueue(
                        &mut tx,
                        ctx.cipher,
                        notify::Outgoing {
                            kind: "booking.reminder",
                            reference: &code,
                            phone: &phone,
                            body: &body,
                            due_at: due,
                        },
                        now,
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            ctx.cache.invalidate(site.id, &line.code, &day);
            return Ok(Some(code));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_draw_on_their_own_pools() {
        assert_eq!(Channel::Web.pool(), Pool::Online);
        assert_eq!(Channel::Mobile.pool(), Pool::Online);
        assert_eq!(Channel::Kiosk.pool(), Pool::Online);
        assert_eq!(Channel::Phone.pool(), Pool::Phone);
        assert_eq!(Channel::Onsite.pool(), Pool::OnSite);
        for c in ["web", "mobile", "phone", "kiosk", "onsite"] {
            assert_eq!(Channel::parse(c).map(Channel::as_str), Some(c));
        }
    }

    #[test]
    fn people_are_validated_at_the_edge() {
        assert!(parse_person("张三", "11010519491231002X", "13800138000").is_ok());
        assert!(matches!(
            parse_person("张三", "110105194912310021", "13800138000"),
            Err(BookingError::IdNumber(_))
        ));
        assert_eq!(
            parse_person("张三", "810000199408230021", "13800138000").err(),
            Some(BookingError::NotCitizenId(
                crate::domain::id_number::NotCitizenId(
                    crate::domain::id_number::IdKind::HkResidencePermit
                )
            ))
        );
        assert!(matches!(
            parse_person("张三", "11010519491231002X", "12345"),
            Err(BookingError::Phone(_))
        ));
        assert_eq!(
            parse_person("  ", "11010519491231002X", "13800138000").err(),
            Some(BookingError::Name)
        );
    }

    #[test]
    fn codes_are_unambiguous() {
        for _ in 0..100 {
            let c = new_code();
            assert_eq!(c.len(), 8);
            assert!(!c.contains(['0', 'O', '1', 'I']));
        }
    }
}
