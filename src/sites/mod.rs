//! Sites (the hall, extension points, kiosk points) and their windows (R3, R12): who serves
//! where, and when each site is open.

mod hours_form;
mod store;
pub mod web;

/// The sites' read API for other capabilities: sites and windows by id or code.
pub use store::{list_sites, site, site_by_code, window, windows_of};

use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditEntry};
use crate::auth::{AdminCap, Failure};
use crate::clock::Clock;
use crate::db::{Db, is_unique_violation};
use crate::domain::opening::OpeningRules;
use crate::i18n::{Lang, UserMessage};

/// Glossary: hall (出入境接待大厅), extension point (办证点/延伸点), kiosk point (自助服务点).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    Hall,
    Extension,
    KioskPoint,
}

impl SiteKind {
    pub const ALL: [SiteKind; 3] = [SiteKind::Hall, SiteKind::Extension, SiteKind::KioskPoint];
    pub fn as_str(self) -> &'static str {
        match self {
            SiteKind::Hall => "hall",
            SiteKind::Extension => "extension",
            SiteKind::KioskPoint => "kiosk_point",
        }
    }
    pub fn parse(s: &str) -> Option<SiteKind> {
        SiteKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            SiteKind::Hall => lang.pick("出入境接待大厅", "Exit-entry service hall"),
            SiteKind::Extension => lang.pick("延伸办证点", "Extension point"),
            SiteKind::KioskPoint => lang.pick("自助服务点", "Self-service kiosk point"),
        }
    }
}

/// Window types of R3 [001 16].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    Citizen,
    Foreigner,
    HmtResident,
    Appointment,
    Pickup,
    Express,
    Payment,
    GreenChannel,
}

impl WindowKind {
    pub const ALL: [WindowKind; 8] = [
        WindowKind::Citizen,
        WindowKind::Foreigner,
        WindowKind::HmtResident,
        WindowKind::Appointment,
        WindowKind::Pickup,
        WindowKind::Express,
        WindowKind::Payment,
        WindowKind::GreenChannel,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            WindowKind::Citizen => "citizen",
            WindowKind::Foreigner => "foreigner",
            WindowKind::HmtResident => "hmt_resident",
            WindowKind::Appointment => "appointment",
            WindowKind::Pickup => "pickup",
            WindowKind::Express => "express",
            WindowKind::Payment => "payment",
            WindowKind::GreenChannel => "green_channel",
        }
    }
    pub fn parse(s: &str) -> Option<WindowKind> {
        WindowKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            WindowKind::Citizen => lang.pick("中国公民证件窗口", "Citizen documents"),
            WindowKind::Foreigner => lang.pick("外国人签证窗口", "Foreigner visas"),
            WindowKind::HmtResident => lang.pick("港澳台居民窗口", "HK/Macao/Taiwan residents"),
            WindowKind::Appointment => lang.pick("预约窗口", "Appointments"),
            WindowKind::Pickup => lang.pick("发证窗口", "Pickup"),
            WindowKind::Express => lang.pick("邮寄窗口", "Express delivery"),
            WindowKind::Payment => lang.pick("收费窗口", "Payment"),
            WindowKind::GreenChannel => lang.pick("绿色通道窗口", "Green channel"),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Site {
    pub id: i64,
    /// Four digits; part of every application number accepted here.
    pub code: String,
    pub kind: SiteKind,
    pub name_zh: String,
    pub name_en: String,
    pub address_zh: String,
    pub address_en: String,
    pub phone: String,
    #[schema(value_type = Object)]
    pub opening_rules: OpeningRules,
    pub active: bool,
}

impl Site {
    /// The name in `lang` (taking a reference too, for templates).
    pub fn name(&self, lang: impl std::borrow::Borrow<Lang>) -> &str {
        lang.borrow().pick(&self.name_zh, &self.name_en)
    }
    pub fn address(&self, lang: impl std::borrow::Borrow<Lang>) -> &str {
        lang.borrow().pick(&self.address_zh, &self.address_en)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Window {
    pub id: i64,
    pub site_id: i64,
    pub number: i64,
    pub kind: WindowKind,
    pub active: bool,
}

/// What an administrator enters for a site.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SiteInput {
    #[serde(deserialize_with = "crate::web::fields::SiteCodeText::deserialize_string")]
    #[schema(value_type = crate::web::fields::SiteCodeText)]
    pub code: String,
    pub kind: SiteKind,
    pub name_zh: String,
    pub name_en: String,
    pub address_zh: String,
    pub address_en: String,
    pub phone: String,
    #[schema(value_type = Object)]
    pub opening_rules: OpeningRules,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiteError {
    #[error("bad site code")]
    BadCode,
    #[error("site code taken")]
    CodeTaken,
    #[error("missing text {0}")]
    MissingText(&'static str),
    #[error("opening rules: {0}")]
    Opening(String),
    #[error("no such site")]
    NoSuchSite,
    #[error("bad window number")]
    BadWindowNumber,
    #[error("window number taken")]
    WindowNumberTaken,
    #[error("no such window")]
    NoSuchWindow,
    #[error("outside administrator's sites")]
    OutsideSites,
}

impl UserMessage for SiteError {
    fn code(&self) -> &'static str {
        match self {
            SiteError::BadCode => "site.bad_code",
            SiteError::CodeTaken => "site.code_taken",
            SiteError::MissingText(_) => "site.missing_text",
            SiteError::Opening(_) => "site.opening_rules",
            SiteError::NoSuchSite => "site.not_found",
            SiteError::BadWindowNumber => "window.bad_number",
            SiteError::WindowNumberTaken => "window.number_taken",
            SiteError::NoSuchWindow => "window.not_found",
            SiteError::OutsideSites => "site.outside_sites",
        }
    }
    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (SiteError::BadCode, Lang::ZhCn) => {
                "办证点代码须为 4 位数字（将出现在受理编号中）。".into()
            }
            (SiteError::BadCode, Lang::En) => {
                "A site code is 4 digits (it appears in application numbers).".into()
            }
            (SiteError::CodeTaken, Lang::ZhCn) => "该办证点代码已被使用。".into(),
            (SiteError::CodeTaken, Lang::En) => "This site code is already in use.".into(),
            (SiteError::MissingText(f), Lang::ZhCn) => format!("请填写：{f}。"),
            (SiteError::MissingText(f), Lang::En) => format!("Please fill in: {f}."),
            (SiteError::Opening(d), Lang::ZhCn) => format!("开放时间设置有误：{d}"),
            (SiteError::Opening(d), Lang::En) => format!("The opening hours are invalid: {d}"),
            (SiteError::NoSuchSite, Lang::ZhCn) => "没有这个办证点。".into(),
            (SiteError::NoSuchSite, Lang::En) => "There is no such site.".into(),
            (SiteError::BadWindowNumber, Lang::ZhCn) => "窗口号须为 1–999。".into(),
            (SiteError::BadWindowNumber, Lang::En) => "A window number is 1–999.".into(),
            (SiteError::WindowNumberTaken, Lang::ZhCn) => "该办证点已有这个窗口号。".into(),
            (SiteError::WindowNumberTaken, Lang::En) => {
                "This site already has a window with that number.".into()
            }
            (SiteError::NoSuchWindow, Lang::ZhCn) => "没有这个窗口。".into(),
            (SiteError::NoSuchWindow, Lang::En) => "There is no such window.".into(),
            (SiteError::OutsideSites, Lang::ZhCn) => "您不是该办证点的管理员。".into(),
            (SiteError::OutsideSites, Lang::En) => "You do not administer this site.".into(),
        }
    }
}

fn validate_site(input: &SiteInput) -> Result<(), SiteError> {
    if input.code.len() != 4 || !input.code.chars().all(|c| c.is_ascii_digit()) {
        return Err(SiteError::BadCode);
    }
    for (v, name) in [
        (&input.name_zh, "名称（中文） / name (Chinese)"),
        (&input.name_en, "名称（英文） / name (English)"),
        (&input.address_zh, "地址（中文） / address (Chinese)"),
        (&input.address_en, "地址（英文） / address (English)"),
        (&input.phone, "电话 / phone"),
    ] {
        if v.trim().is_empty() {
            return Err(SiteError::MissingText(name));
        }
    }
    input
        .opening_rules
        .validate()
        .map_err(|e| SiteError::Opening(e.to_string()))
}

/// Creates a site (administrators of every site only).
pub async fn create_site(
    db: &Db,
    clock: &Clock,
    admin: AdminCap<'_>,
    input: SiteInput,
) -> Result<i64, Failure<SiteError>> {
    if admin.site().is_some() {
        return Err(Failure::Refused(SiteError::OutsideSites));
    }
    validate_site(&input).map_err(Failure::Refused)?;
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    let id = match store::insert_site(&mut tx, &input, now).await {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => return Err(Failure::Refused(SiteError::CodeTaken)),
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &mut tx,
        AuditEntry::by(admin.actor(), "site.created", "site", &id.to_string(), now)
            .site(id)
            .detail(serde_json::json!({"code": input.code, "name": input.name_zh})),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Updates a site's details and opening hours.
pub async fn update_site(
    db: &Db,
    clock: &Clock,
    admin: AdminCap<'_>,
    site_id: i64,
    input: SiteInput,
) -> Result<(), Failure<SiteError>> {
    if !admin.covers(site_id) {
        return Err(Failure::Refused(SiteError::OutsideSites));
    }
    validate_site(&input).map_err(Failure::Refused)?;
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    match store::update_site(&mut tx, site_id, &input, now).await {
        Ok(true) => {}
        Ok(false) => return Err(Failure::Refused(SiteError::NoSuchSite)),
        Err(e) if is_unique_violation(&e) => return Err(Failure::Refused(SiteError::CodeTaken)),
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &mut tx,
        AuditEntry::by(
            admin.actor(),
            "site.updated",
            "site",
            &site_id.to_string(),
            now,
        )
        .site(site_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a window to a site.
pub async fn add_window(
    db: &Db,
    clock: &Clock,
    admin: AdminCap<'_>,
    site_id: i64,
    number: i64,
    kind: WindowKind,
) -> Result<i64, Failure<SiteError>> {
    if !admin.covers(site_id) {
        return Err(Failure::Refused(SiteError::OutsideSites));
    }
    if !(1..=999).contains(&number) {
        return Err(Failure::Refused(SiteError::BadWindowNumber));
    }
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    if store::site(&mut *tx, site_id).await?.is_none() {
        return Err(Failure::Refused(SiteError::NoSuchSite));
    }
    let id = match store::insert_window(&mut tx, site_id, number, kind, now).await {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            return Err(Failure::Refused(SiteError::WindowNumberTaken));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &mut tx,
        AuditEntry::by(
            admin.actor(),
            "window.created",
            "window",
            &id.to_string(),
            now,
        )
        .site(site_id)
        .detail(serde_json::json!({"number": number, "kind": kind})),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Takes a window into or out of service.
pub async fn set_window_active(
    db: &Db,
    clock: &Clock,
    admin: AdminCap<'_>,
    window_id: i64,
    active: bool,
) -> Result<(), Failure<SiteError>> {
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    let Some(w) = store::window(&mut *tx, window_id).await? else {
        return Err(Failure::Refused(SiteError::NoSuchWindow));
    };
    if !admin.covers(w.site_id) {
        return Err(Failure::Refused(SiteError::OutsideSites));
    }
    store::set_window_active(&mut tx, window_id, active, now).await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            admin.actor(),
            if active {
                "window.activated"
            } else {
                "window.deactivated"
            },
            "window",
            &window_id.to_string(),
            now,
        )
        .site(w.site_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
