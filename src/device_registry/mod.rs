//! Registered devices (issue 14 §3): every kiosk, window evaluator, ID-reader station and
//! printer is a device of a site, registered by an administrator and enrolled once with a
//! one-time code that yields its credential (stored only as a hash; revocable; rotated). A
//! device reports a heartbeat with its faults; a new fault is texted to the duty leader and
//! shown with every device's state to administrators and the duty leader.

mod store;
pub mod web;

use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditEntry};
use crate::auth::{AdminCap, Failure, RequestMeta};
use crate::clock::Clock;
use crate::crypto;
use crate::db::Db;
use crate::domain::phone::PhoneNumber;
use crate::i18n::{Lang, UserMessage};

pub use store::DeviceRow;

/// What a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A self-service kiosk (tickets, check-in, the one form, payment, endorsement).
    Kiosk,
    /// The window evaluator facing the citizen.
    Evaluator,
    /// The ID-reader and capture station at a window.
    IdStation,
    /// A ticket or receipt printer.
    Printer,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Kiosk, Kind::Evaluator, Kind::IdStation, Kind::Printer];
    pub fn code(self) -> &'static str {
        match self {
            Kind::Kiosk => "kiosk",
            Kind::Evaluator => "evaluator",
            Kind::IdStation => "id_station",
            Kind::Printer => "printer",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Kind::Kiosk => lang.pick("自助机", "Kiosk"),
            Kind::Evaluator => lang.pick("服务评价器", "Window evaluator"),
            Kind::IdStation => lang.pick("证件采集站", "ID and capture station"),
            Kind::Printer => lang.pick("打印机", "Printer"),
        }
    }
}

/// A fault a device reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    PaperLow,
    PaperOut,
    PrinterJam,
    CardReaderFault,
    CardWriterFault,
    CameraFault,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::PaperLow,
        Fault::PaperOut,
        Fault::PrinterJam,
        Fault::CardReaderFault,
        Fault::CardWriterFault,
        Fault::CameraFault,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Fault::PaperLow => "paper_low",
            Fault::PaperOut => "paper_out",
            Fault::PrinterJam => "printer_jam",
            Fault::CardReaderFault => "card_reader_fault",
            Fault::CardWriterFault => "card_writer_fault",
            Fault::CameraFault => "camera_fault",
        }
    }
    pub fn parse(s: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.code() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Fault::PaperLow => lang.pick("纸张将尽", "Paper low"),
            Fault::PaperOut => lang.pick("缺纸", "Out of paper"),
            Fault::PrinterJam => lang.pick("打印机卡纸", "Printer jam"),
            Fault::CardReaderFault => lang.pick("读卡器故障", "Card reader fault"),
            Fault::CardWriterFault => lang.pick("写卡器故障", "Card writer fault"),
            Fault::CameraFault => lang.pick("摄像头故障", "Camera fault"),
        }
    }
    /// Whether the device cannot print with it (a kiosk says so before a citizen starts).
    pub fn stops_printing(self) -> bool {
        matches!(self, Fault::PaperOut | Fault::PrinterJam)
    }
}

/// A device silent for longer than this is offline (heartbeats come every 30 s).
pub const OFFLINE_AFTER_MS: i64 = 3 * 60_000;
/// A one-time enrolment code is good for this long.
pub const ENROL_CODE_VALID_MS: i64 = 24 * 3_600_000;

/// Why a device step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("name")]
    Name,
    #[error("outside sites")]
    OutsideSites,
    #[error("no such device")]
    NoSuchDevice,
    #[error("bad code")]
    BadCode,
    #[error("revoked")]
    Revoked,
}

impl UserMessage for DeviceError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            DeviceError::OutsideSites => StatusCode::FORBIDDEN,
            DeviceError::NoSuchDevice => StatusCode::NOT_FOUND,
            DeviceError::BadCode => StatusCode::UNPROCESSABLE_ENTITY,
            DeviceError::Revoked => StatusCode::CONFLICT,
            DeviceError::Name => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            DeviceError::Name => "device.name",
            DeviceError::OutsideSites => "device.outside_sites",
            DeviceError::NoSuchDevice => "device.no_such_device",
            DeviceError::BadCode => "device.bad_code",
            DeviceError::Revoked => "device.revoked",
        }
    }
    fn message(&self, lang: Lang) -> String {
        match self {
            DeviceError::Name => lang.pick(
                "请为设备命名（1–40 字），例如“大厅 1 号自助机”。",
                "Name the device (1–40 characters), e.g. \"Hall kiosk 1\".",
            ),
            DeviceError::OutsideSites => lang.pick(
                "您只能管理自己办证点的设备。",
                "You can only manage devices of the sites you administer.",
            ),
            DeviceError::NoSuchDevice => lang.pick("没有这台设备。", "No such device."),
            DeviceError::BadCode => lang.pick(
                "登记码无效或已过期，请向管理员重新获取。",
                "The enrolment code is not valid or has expired; ask an administrator for a new one.",
            ),
            DeviceError::Revoked => lang.pick(
                "该设备已停用，需管理员重新登记。",
                "This device is revoked; an administrator must register it again.",
            ),
        }
        .into()
    }
}

type Result<T> = std::result::Result<T, Failure<DeviceError>>;

fn refused<T>(e: DeviceError) -> Result<T> {
    Err(Failure::Refused(e))
}

/// A one-time enrolment code: twelve digits in three groups (typed on a kiosk keypad).
fn fresh_code() -> String {
    let digits: String = crypto::random_token()
        .bytes()
        .filter(u8::is_ascii_digit)
        .chain(std::iter::repeat(b'0'))
        .take(12)
        .map(char::from)
        .collect();
    format!("{}-{}-{}", &digits[..4], &digits[4..8], &digits[8..])
}

/// A code as typed: its digits only, so "4821 0937 5512" and "4821-0937-5512" are the same.
fn code_hash(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 12).then(|| crypto::sha256_hex(&format!("enrol:{digits}")))
}

/// A credential: `dv1.<device id>.<secret>`; the server keeps SHA-256 of the whole.
fn fresh_credential(device_id: i64) -> String {
    format!("dv1.{device_id}.{}", crypto::random_token())
}

fn credential_device(credential: &str) -> Option<i64> {
    let mut parts = credential.trim().split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("dv1"), Some(id), Some(secret), None) if secret.len() == 64 => id.parse().ok(),
        _ => None,
    }
}

async fn event(
    conn: &mut sqlx::AnyConnection,
    device_id: i64,
    at: i64,
    kind: &str,
    detail: serde_json::Value,
) -> std::result::Result<(), sqlx::Error> {
    store::insert_event(conn, device_id, at, kind, &detail.to_string()).await
}

/// An administrator's step on a device: its device event and its audit entry (`device.<kind>`).
async fn admin_step(
    conn: &mut sqlx::AnyConnection,
    admin: &AdminCap<'_>,
    device_id: i64,
    site_id: i64,
    kind: &str,
    now: i64,
    detail: serde_json::Value,
) -> std::result::Result<(), sqlx::Error> {
    event(conn, device_id, now, kind, detail.clone()).await?;
    audit::record(
        conn,
        AuditEntry::by(
            admin.actor(),
            &format!("device.{kind}"),
            "device",
            &device_id.to_string(),
            now,
        )
        .site(site_id)
        .detail(detail),
    )
    .await
}

/// Registers a device of a site; returns it with its one-time enrolment code (shown once).
pub async fn register(
    db: &Db,
    clock: &Clock,
    admin: AdminCap<'_>,
    site_id: i64,
    kind: Kind,
    name: &str,
) -> Result<(DeviceRow, String)> {
    let name = name.trim();
    if !(1..=40).contains(&name.chars().count()) {
        return refused(DeviceError::Name);
    }
    if !admin.covers(site_id) {
        return refused(DeviceError::OutsideSites);
    }
    let code = fresh_code();
    let hash = code_hash(&code).ok_or_else(|| Failure::Internal("enrolment code".into()))?;
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    let id = store::insert(
        &mut tx,
        &store::NewDevice {
            site_id,
            kind,
            name,
            enrol_code_hash: &hash,
            enrol_expires_at: now + ENROL_CODE_VALID_MS,
            created_at: now,
            created_by: admin.actor().staff_id,
        },
    )
    .await?;
    admin_step(
        &mut tx,
        &admin,
        id,
        site_id,
        "registered",
        now,
        serde_json::json!({"kind": kind.code(), "name": name}),
    )
    .await?;
    tx.commit().await?;
    let row = store::by_id(db.reader(), id)
        .await?
        .ok_or(Failure::Refused(DeviceError::NoSuchDevice))?;
    Ok((row, code))
}

async fn managed(db: &Db, admin: &AdminCap<'_>, id: i64) -> Result<DeviceRow> {
    match store::by_id(db.reader(), id).await? {
        Some(d) if admin.covers(d.site_id) => Ok(d),
        // Another site's device: the same answer as none.
        _ => refused(DeviceError::NoSuchDevice),
    }
}

/// A new one-time code for a device (to enrol it again, e.g. a replaced kiosk); its current
/// credential stays valid until the new code is used.
pub async fn new_code(db: &Db, clock: &Clock, admin: AdminCap<'_>, id: i64) -> Result<String> {
    let d = managed(db, &admin, id).await?;
    let code = fresh_code();
    let hash = code_hash(&code).ok_or_else(|| Failure::Internal("enrolment code".into()))?;
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    store::set_code(&mut tx, d.id, &hash, now + ENROL_CODE_VALID_MS).await?;
    admin_step(
        &mut tx,
        &admin,
        d.id,
        d.site_id,
        "code_issued",
        now,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(code)
}

/// Revokes a device: its credential is refused from now on, its code voided.
pub async fn revoke(db: &Db, clock: &Clock, admin: AdminCap<'_>, id: i64) -> Result<DeviceRow> {
    let d = managed(db, &admin, id).await?;
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    store::revoke(&mut tx, d.id, now).await?;
    admin_step(
        &mut tx,
        &admin,
        d.id,
        d.site_id,
        "revoked",
        now,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    store::by_id(db.reader(), d.id)
        .await?
        .ok_or(Failure::Refused(DeviceError::NoSuchDevice))
}

/// A device's settings, as its administrator sets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Speak the kiosk's prompts in zh-CN (offline synthesis, like the hall display's calls).
    pub voice_prompts: bool,
    /// Serve round the clock (police stations, extension points), not only in the site's
    /// opening hours.
    pub always_open: bool,
}

/// Sets a device's settings (audited as a device event).
pub async fn set_settings(
    db: &Db,
    clock: &Clock,
    admin: AdminCap<'_>,
    id: i64,
    settings: Settings,
) -> Result<DeviceRow> {
    let d = managed(db, &admin, id).await?;
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    store::set_settings(&mut tx, d.id, settings.voice_prompts, settings.always_open).await?;
    admin_step(
        &mut tx,
        &admin,
        d.id,
        d.site_id,
        "settings",
        now,
        serde_json::to_value(settings).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    store::by_id(db.reader(), d.id)
        .await?
        .ok_or(Failure::Refused(DeviceError::NoSuchDevice))
}

/// Whether a device serves now: a round-the-clock device always, any other in its site's
/// opening hours (a closed hall's kiosks say so instead). A year the calendar does not cover
/// yet does not shut a kiosk.
pub fn serving_now(
    d: &DeviceRow,
    site: &crate::sites::Site,
    calendar: &crate::domain::calendar::HolidayCalendar,
    clock: &Clock,
) -> bool {
    if d.always_open {
        return true;
    }
    let now = clock.timestamp().to_zoned_datetime(crate::clock::hall_tz());
    match crate::domain::opening::openings_on(&site.opening_rules, calendar, now.date()) {
        Ok(day) => day.periods().iter().any(|p| p.contains(now.time())),
        Err(_) => true,
    }
}

/// Enrols the device holding a valid one-time code: the code is used up and the device gets
/// its credential (returned once; only its hash is kept).
pub async fn enrol(
    db: &Db,
    clock: &Clock,
    code: &str,
    meta: &RequestMeta,
) -> Result<(DeviceRow, String)> {
    let Some(hash) = code_hash(code) else {
        return refused(DeviceError::BadCode);
    };
    let now = clock.now_ms();
    let Some(d) = store::by_code(db.reader(), &hash).await? else {
        return refused(DeviceError::BadCode);
    };
    if d.revoked_at.is_some() || d.enrol_expires_at.is_none_or(|t| t < now) {
        return refused(DeviceError::BadCode);
    }
    let credential = fresh_credential(d.id);
    let mut tx = db.begin().await?;
    // Conditional on the code: two devices typing it at once, one wins.
    if !store::enrol(&mut tx, d.id, &hash, &crypto::sha256_hex(&credential), now).await? {
        return refused(DeviceError::BadCode);
    }
    event(
        &mut tx,
        d.id,
        now,
        "enrolled",
        serde_json::json!({"ip": meta.ip}),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::system("device.enrolled", "device", &d.id.to_string(), meta, now)
            .site(d.site_id),
    )
    .await?;
    tx.commit().await?;
    let row = store::by_id(db.reader(), d.id)
        .await?
        .ok_or(Failure::Refused(DeviceError::NoSuchDevice))?;
    Ok((row, credential))
}

/// The enrolled, unrevoked device a credential belongs to; `None` for anything else.
pub async fn authenticate(
    db: &Db,
    credential: &str,
) -> std::result::Result<Option<DeviceRow>, sqlx::Error> {
    let Some(id) = credential_device(credential) else {
        return Ok(None);
    };
    let Some(d) = store::by_id(db.reader(), id).await? else {
        return Ok(None);
    };
    let ok = d.revoked_at.is_none()
        && d.credential_hash
            .as_deref()
            .is_some_and(|h| crypto::constant_time_eq(h, &crypto::sha256_hex(credential.trim())));
    Ok(ok.then_some(d))
}

/// Gives the device a new credential in place of the one it presented (which stops working).
pub async fn rotate(db: &Db, clock: &Clock, device: &DeviceRow) -> Result<String> {
    let credential = fresh_credential(device.id);
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    if !store::replace_credential(
        &mut tx,
        device.id,
        device.credential_hash.as_deref().unwrap_or_default(),
        &crypto::sha256_hex(&credential),
    )
    .await?
    {
        return refused(DeviceError::Revoked);
    }
    event(&mut tx, device.id, now, "rotated", serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(credential)
}

/// The duty leader's text about a new fault of a device (in Chinese: it goes to staff).
pub fn fault_text(device: &str, kind: Kind, fault: Fault) -> String {
    format!(
        "【出入境·设备告警】{device}（{}）：{}，请尽快处理。",
        kind.name(Lang::ZhCn),
        fault.name(Lang::ZhCn)
    )
}

/// The duty leader's text about a device that fell silent.
pub fn offline_text(device: &str, kind: Kind) -> String {
    format!(
        "【出入境·设备告警】{device}（{}）已离线超过{}分钟，请检查电源和网络。",
        kind.name(Lang::ZhCn),
        OFFLINE_AFTER_MS / 60_000
    )
}

/// Texts the duty leader about a device, in the caller's transaction (no phone set: nothing).
async fn tell_leader(
    tx: &mut sqlx::AnyConnection,
    cipher: &crate::privacy::Cipher,
    leader_phone: Option<&PhoneNumber>,
    kind: &str,
    reference: &str,
    body: &str,
    now: i64,
) -> std::result::Result<(), sqlx::Error> {
    let Some(phone) = leader_phone else {
        return Ok(());
    };
    crate::notify::enqueue(
        tx,
        cipher,
        crate::notify::Outgoing {
            kind,
            reference,
            phone,
            body,
            due_at: now,
        },
        now,
    )
    .await?;
    Ok(())
}

/// A device's heartbeat with the faults it has now. A fault that was not there before is an
/// event and is texted to the duty leader (when a phone is set); one that went away is an event.
pub async fn heartbeat(
    db: &Db,
    clock: &Clock,
    cipher: &crate::privacy::Cipher,
    leader_phone: Option<&PhoneNumber>,
    device: &DeviceRow,
    faults: &[Fault],
) -> Result<DeviceRow> {
    let mut now_faults: Vec<Fault> = faults.to_vec();
    now_faults.sort_by_key(|f| f.code());
    now_faults.dedup();
    let before = device.faults();
    let codes = now_faults
        .iter()
        .map(|f| f.code())
        .collect::<Vec<_>>()
        .join(",");
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    if device
        .last_seen_at
        .is_some_and(|t| now - t > OFFLINE_AFTER_MS)
    {
        event(
            &mut tx,
            device.id,
            now,
            "back_online",
            serde_json::json!({}),
        )
        .await?;
    }
    store::beat(&mut tx, device.id, now, &codes).await?;
    for f in now_faults.iter().filter(|f| !before.contains(f)) {
        event(
            &mut tx,
            device.id,
            now,
            "fault",
            serde_json::json!({"fault": f.code()}),
        )
        .await?;
        tell_leader(
            &mut tx,
            cipher,
            leader_phone,
            "leader.device_fault",
            &format!("device-{}-{}-{now}", device.id, f.code()),
            &fault_text(&device.name, device.kind, *f),
            now,
        )
        .await?;
    }
    for f in before.iter().filter(|f| !now_faults.contains(f)) {
        event(
            &mut tx,
            device.id,
            now,
            "fault_cleared",
            serde_json::json!({"fault": f.code()}),
        )
        .await?;
    }
    tx.commit().await?;
    store::by_id(db.reader(), device.id)
        .await?
        .ok_or(Failure::Refused(DeviceError::NoSuchDevice))
}

/// Reports devices that fell silent (no heartbeat for [`OFFLINE_AFTER_MS`]): an `offline`
/// event and a text to the duty leader, once per silence (a worker calls this every minute;
/// a second node calling it too may text twice at worst, never miss). The number reported.
pub async fn alert_offline(
    db: &Db,
    clock: &Clock,
    cipher: &crate::privacy::Cipher,
    leader_phone: Option<&PhoneNumber>,
) -> std::result::Result<usize, sqlx::Error> {
    let now = clock.now_ms();
    let silent = store::newly_offline(db.reader(), now - OFFLINE_AFTER_MS).await?;
    for d in &silent {
        let mut tx = db.begin().await?;
        event(
            &mut tx,
            d.id,
            now,
            "offline",
            serde_json::json!({"last_seen_at": d.last_seen_at}),
        )
        .await?;
        tell_leader(
            &mut tx,
            cipher,
            leader_phone,
            "leader.device_offline",
            &format!("device-{}-offline-{now}", d.id),
            &offline_text(&d.name, d.kind),
            now,
        )
        .await?;
        tx.commit().await?;
    }
    Ok(silent.len())
}

/// A device as administrators and the duty leader see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeviceState {
    pub id: i64,
    pub site_id: i64,
    pub kind: Kind,
    pub name: String,
    /// `waiting` (not enrolled yet), `online`, `offline` (no heartbeat for 3 minutes),
    /// `fault` (online with a fault) or `revoked`.
    pub state: String,
    pub faults: Vec<Fault>,
    /// Epoch milliseconds of the last heartbeat.
    pub last_seen_at: Option<i64>,
    pub settings: Settings,
}

impl DeviceState {
    pub fn of(d: &DeviceRow, now: i64) -> DeviceState {
        let faults = d.faults();
        let state = if d.revoked_at.is_some() {
            "revoked"
        } else if d.enrolled_at.is_none() {
            "waiting"
        } else if d.last_seen_at.is_none_or(|t| now - t > OFFLINE_AFTER_MS) {
            "offline"
        } else if !faults.is_empty() {
            "fault"
        } else {
            "online"
        };
        DeviceState {
            id: d.id,
            site_id: d.site_id,
            kind: d.kind,
            name: d.name.clone(),
            state: state.into(),
            faults,
            last_seen_at: d.last_seen_at,
            settings: Settings {
                voice_prompts: d.voice_prompts,
                always_open: d.always_open,
            },
        }
    }

    /// Needs someone: offline or with a fault.
    pub fn alerting(&self) -> bool {
        matches!(self.state.as_str(), "offline" | "fault")
    }

    pub fn state_name(&self, lang: Lang) -> &'static str {
        match self.state.as_str() {
            "waiting" => lang.pick("待登记", "Not enrolled"),
            "online" => lang.pick("正常", "Online"),
            "offline" => lang.pick("离线", "Offline"),
            "fault" => lang.pick("故障", "Fault"),
            _ => lang.pick("已停用", "Revoked"),
        }
    }
}

/// The devices of the given sites (`None`: every site), with their states now.
pub async fn states(
    db: &Db,
    clock: &Clock,
    sites: Option<&[i64]>,
) -> std::result::Result<Vec<DeviceState>, sqlx::Error> {
    let now = clock.now_ms();
    Ok(store::all(db.reader())
        .await?
        .iter()
        .filter(|d| sites.is_none_or(|s| s.contains(&d.site_id)))
        .map(|d| DeviceState::of(d, now))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_twelve_digits_and_typed_any_way() {
        let c = fresh_code();
        assert_eq!(c.len(), 14);
        assert_eq!(code_hash(&c), code_hash(&c.replace('-', " ")));
        assert!(code_hash("1234-5678").is_none());
        assert_ne!(code_hash(&c), code_hash(&fresh_code()));
    }

    #[test]
    fn credentials_name_their_device() {
        let c = fresh_credential(42);
        assert_eq!(credential_device(&c), Some(42));
        assert_eq!(credential_device("dv1.42.short"), None);
        assert_eq!(credential_device("Bearer x"), None);
        assert_eq!(credential_device(&format!("{c}.extra")), None);
    }
}
