//! Self-service endorsement (自助签注, R11, issue 14 §4; exit-entry.md §6): at an enrolled kiosk
//! a citizen re-endorses a card-type permit alone. The kiosk reads the chip and compares the
//! holder's face; a control-list hit stops it (the duty leader is alerted, the citizen is sent
//! to a window and told nothing more); the catalog decides what may be issued; the choice is an
//! application accepted by the kiosk with today's fee; it is paid through the provider adapter
//! and written to the card once. A write that fails after payment is retried and then refunded
//! in full automatically, so nobody pays without an endorsement and nothing is written unpaid.

pub mod eligibility;
pub mod station;
mod store;
pub mod web;

use serde::Serialize;

use crate::applications::at_kiosk::{self, KioskApplicant, KioskEndorsement};
use crate::audit::{self, AuditEntry};
use crate::auth::Failure;
use crate::catalog::DocumentType;
use crate::device_registry::DeviceRow;
use crate::documents::flow::Stage;
use crate::domain::document_number::DocumentNumber;
use crate::domain::id_number::IdNumber;
use crate::domain::phone::PhoneNumber;
use crate::i18n::{Lang, UserMessage};
use crate::payments::{Method, OnlineOrder};
use eligibility::TypeVerdict;
use station::{EndorsementWrite, PermitChip, SelfServiceStation};

/// A session not finished within this long is abandoned (the kiosk wipes itself after a
/// minute of no touch; this is the server's own end of it).
pub const SESSION_MS: i64 = 15 * 60_000;
/// A write claimed this long ago without an answer: the kiosk went silent mid-write, and the
/// sweep retries it (the writer is idempotent by request) or refunds.
pub const WRITE_STALE_MS: i64 = 2 * 60_000;
/// Writes tried in one go before the payment is refunded.
pub const WRITE_TRIES: u32 = 3;

#[derive(Clone)]
pub struct Ctx<'a> {
    pub app: crate::applications::Ctx<'a>,
    pub pay: crate::payments::Ctx<'a>,
    pub station: &'a dyn SelfServiceStation,
    /// The duty leader's phone (`duty_leader_phone`), texted on a control-list hit.
    pub leader_phone: Option<PhoneNumber>,
}

/// Why a step was refused, in the citizen's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelfServiceError {
    #[error("reader")]
    Reader,
    #[error("closed")]
    Closed,
    #[error("not a permit")]
    NotAPermit,
    #[error("no such session")]
    NoSuchSession,
    #[error("session over")]
    SessionOver,
    #[error("not offered")]
    NotOffered,
    #[error("phone")]
    Phone,
    #[error("method")]
    Method,
    #[error("not paid")]
    NotPaid,
    #[error("payment: {0}")]
    Payment(String),
    #[error("application: {0}")]
    Application(String),
}

impl UserMessage for SelfServiceError {
    fn code(&self) -> &'static str {
        match self {
            SelfServiceError::Reader => "self_service.reader",
            SelfServiceError::Closed => "self_service.closed",
            SelfServiceError::NotAPermit => "self_service.not_a_permit",
            SelfServiceError::NoSuchSession => "self_service.no_such_session",
            SelfServiceError::SessionOver => "self_service.session_over",
            SelfServiceError::NotOffered => "self_service.not_offered",
            SelfServiceError::Phone => "self_service.phone",
            SelfServiceError::Method => "self_service.method",
            SelfServiceError::NotPaid => "self_service.not_paid",
            SelfServiceError::Payment(_) => "self_service.payment",
            SelfServiceError::Application(_) => "self_service.application",
        }
    }
    fn status(&self) -> axum::http::StatusCode {
        match self {
            SelfServiceError::NoSuchSession => axum::http::StatusCode::NOT_FOUND,
            SelfServiceError::SessionOver | SelfServiceError::NotPaid => {
                axum::http::StatusCode::CONFLICT
            }
            SelfServiceError::Reader | SelfServiceError::Closed => {
                axum::http::StatusCode::SERVICE_UNAVAILABLE
            }
            _ => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn message(&self, lang: Lang) -> String {
        match self {
            SelfServiceError::Reader => lang
                .pick(
                    "读不到证件，请将通行证平放在读卡区后重试；仍不行请到窗口办理。",
                    "The permit could not be read: lay it flat on the reader and try again, or go to a window.",
                )
                .into(),
            SelfServiceError::Closed => lang
                .pick(
                    "本机只在办证点开放时间内服务，请在开放时间再来，或使用24小时自助机。",
                    "This kiosk serves in its site's opening hours only: come back when it is open, or use a 24-hour kiosk.",
                )
                .into(),
            SelfServiceError::NotAPermit => lang
                .pick(
                    "本机只为电子往来港澳通行证、往来台湾通行证办理签注。",
                    "This kiosk endorses electronic HK/Macao and Taiwan permits only.",
                )
                .into(),
            SelfServiceError::NoSuchSession => lang
                .pick("没有这次办理，请重新开始。", "No such session: please start again.")
                .into(),
            SelfServiceError::SessionOver => lang
                .pick(
                    "这次办理已结束或已超时，请重新开始。",
                    "This session has ended or timed out: please start again.",
                )
                .into(),
            SelfServiceError::NotOffered => lang
                .pick(
                    "所选签注不能为您自助办理，请在列出的选项中选择。",
                    "The endorsement chosen cannot be issued to you here: choose one of those listed.",
                )
                .into(),
            SelfServiceError::Phone => lang
                .pick(
                    "手机号码应为11位，以1开头；也可不填。",
                    "The mobile number has 11 digits starting with 1; or leave it empty.",
                )
                .into(),
            SelfServiceError::Method => lang
                .pick("请选择支付宝或微信支付。", "Choose Alipay or WeChat Pay.")
                .into(),
            SelfServiceError::NotPaid => lang
                .pick(
                    "尚未收到付款，请扫码支付后再试。",
                    "The payment has not arrived yet: scan the code to pay, then try again.",
                )
                .into(),
            SelfServiceError::Payment(m) | SelfServiceError::Application(m) => m.clone(),
        }
    }
}

type Result<T> = std::result::Result<T, Failure<SelfServiceError>>;

fn refused<T>(e: SelfServiceError) -> Result<T> {
    Err(Failure::Refused(e))
}

/// A failure of another capability, with its message in `lang`.
fn relay<E: UserMessage>(
    lang: Lang,
    wrap: fn(String) -> SelfServiceError,
) -> impl Fn(Failure<E>) -> Failure<SelfServiceError> {
    move |f| match f {
        Failure::Refused(e) => Failure::Refused(wrap(e.message(lang))),
        Failure::Storage(e) => Failure::Storage(e),
        Failure::Internal(e) => Failure::Internal(e),
    }
}

fn device_fault(e: crate::devices::DeviceError) -> Failure<SelfServiceError> {
    tracing::warn!(error = %e, "self-service station");
    Failure::Refused(SelfServiceError::Reader)
}

/// What a kiosk shows after reading a permit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Started {
    /// Read and verified: the session to go on with.
    Read { token: String },
    /// The face did not match the permit: to a window.
    FaceMismatch,
    /// Please go to a window (a control-list hit; nothing more is said).
    GoToWindow,
}

/// Reads the permit on the kiosk, compares the face and runs the control-list checks.
pub async fn start(
    ctx: &Ctx<'_>,
    device: &DeviceRow,
    site: &crate::sites::Site,
) -> Result<Started> {
    if !crate::device_registry::serving_now(
        device,
        site,
        &ctx.app.calendar.current(),
        ctx.app.clock,
    ) {
        return refused(SelfServiceError::Closed);
    }
    let chip = ctx.station.read_permit(device.id).map_err(device_fault)?;
    let (holder, _number) = check_chip(&chip)?;
    let face = ctx
        .station
        .compare_face(device.id, &chip.number)
        .map_err(device_fault)?;
    let app = &ctx.app;
    let now = app.clock.now_ms();
    let token = crate::crypto::random_token();
    let sealed = app
        .cipher
        .seal(&serde_json::to_string(&chip).map_err(|e| Failure::Internal(e.to_string()))?);
    let id_index = app.cipher.blind_index(holder.as_str());
    let session = |state, application_id, failure| store::NewSession {
        token: &token,
        device_id: device.id,
        site_id: site.id,
        now,
        document_type: chip.document.code(),
        id_index: id_index.newest(),
        chip_sealed: if state == "read" {
            sealed.clone()
        } else {
            Vec::new()
        },
        face_ref: &face.reference,
        face_score: face.quality,
        state,
        application_id,
        failure,
    };
    if face.quality < crate::devices::MATCH_THRESHOLD {
        let mut tx = app.db.begin().await?;
        store::insert(&mut tx, &session("refused", None, Some("face_mismatch"))).await?;
        tx.commit().await?;
        return Ok(Started::FaceMismatch);
    }
    let hits = at_kiosk::watch_hits(app, &holder)
        .await
        .map_err(relay(Lang::ZhCn, SelfServiceError::Application))?;
    if !hits.is_empty() {
        let mut tx = app.db.begin().await?;
        let who = KioskApplicant {
            name: chip.name.trim(),
            id_number: &holder,
            phone: None,
            lang: Lang::ZhCn,
        };
        let no =
            at_kiosk::stop_at_kiosk(app, &mut tx, site, &who, (device.id, &device.name), &hits)
                .await
                .map_err(relay(Lang::ZhCn, SelfServiceError::Application))?;
        let application = crate::applications::application_by_no(&mut *tx, no.as_str())
            .await?
            .map(|a| a.id);
        store::insert(&mut tx, &session("stopped", application, Some("checks"))).await?;
        if let Some(phone) = &ctx.leader_phone {
            let body = stopped_text(&site.name_zh, &device.name, no.as_str());
            crate::notify::enqueue(
                &mut tx,
                app.cipher,
                crate::notify::Outgoing {
                    kind: "self_service.stopped",
                    reference: no.as_str(),
                    phone,
                    body: &body,
                    due_at: now,
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        app.db.publish(
            "leader.alert",
            serde_json::json!({"site": site.id, "application": no.as_str()}),
        );
        return Ok(Started::GoToWindow);
    }
    let mut tx = app.db.begin().await?;
    // One person at a kiosk at a time: whatever the previous one left unchosen ends now.
    store::end_reads_of(&mut tx, device.id, now).await?;
    store::insert(&mut tx, &session("read", None, None)).await?;
    tx.commit().await?;
    Ok(Started::Read { token })
}

/// The duty leader's text when a self-service endorsement stops on a check hit (in Chinese:
/// it goes to staff).
pub fn stopped_text(site: &str, device: &str, no: &str) -> String {
    format!(
        "【出入境·带班提醒】{site}（{device}）有一笔自助签注核查命中，已停止办理（申请编号{no}），请尽快处理。"
    )
}

/// The permit must be a card-type permit with a well-formed number and a citizen's ID number.
fn check_chip(chip: &PermitChip) -> Result<(IdNumber, DocumentNumber)> {
    if !matches!(
        chip.document,
        DocumentType::HkMacaoPermit | DocumentType::TaiwanPermit
    ) {
        return refused(SelfServiceError::NotAPermit);
    }
    let holder = IdNumber::parse(&chip.holder_id_number)
        .map_err(|_| Failure::Refused(SelfServiceError::Reader))?;
    let number = DocumentNumber::parse(
        crate::applications::rules::document_kind(chip.document),
        &chip.number,
    )
    .map_err(|_| Failure::Refused(SelfServiceError::NotAPermit))?;
    Ok((holder, number))
}

/// Ends what a kiosk left unchosen when it wipes itself home: the chip data goes at once.
pub async fn kiosk_wiped(
    db: &crate::db::Db,
    clock: &crate::clock::Clock,
    device_id: i64,
) -> std::result::Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    store::end_reads_of(&mut tx, device_id, clock.now_ms()).await?;
    tx.commit().await
}

/// Where a session stands, as the kiosk shows it (masked: the screen faces the hall).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub token: String,
    #[schema(value_type = String)]
    pub state: SessionState,
    pub holder: Option<String>,
    pub permit: Option<String>,
    #[schema(format = Date)]
    pub permit_valid_until: Option<String>,
    /// Every endorsement type with what may be issued here or why not (while choosing).
    pub verdicts: Vec<TypeVerdict>,
    pub option_id: Option<String>,
    pub application_no: Option<String>,
    pub fee_fen: Option<i64>,
    pub paid: bool,
    /// A reference of the write, once written.
    pub written: Option<String>,
    /// Refund number, when the payment was given back.
    pub refund_no: Option<String>,
}

/// A session's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Read,
    Stopped,
    Refused,
    Chosen,
    Writing,
    Written,
    Refunded,
    Abandoned,
}

impl SessionState {
    fn parse(s: &str) -> Option<SessionState> {
        use SessionState::*;
        [
            Read, Stopped, Refused, Chosen, Writing, Written, Refunded, Abandoned,
        ]
        .into_iter()
        .find(|x| x.code() == s)
    }
    pub fn code(self) -> &'static str {
        match self {
            SessionState::Read => "read",
            SessionState::Stopped => "stopped",
            SessionState::Refused => "refused",
            SessionState::Chosen => "chosen",
            SessionState::Writing => "writing",
            SessionState::Written => "written",
            SessionState::Refunded => "refunded",
            SessionState::Abandoned => "abandoned",
        }
    }
}

/// Takes the write (see [`store::claim_write`]).
async fn claim(
    ctx: &Ctx<'_>,
    id: i64,
    from: &str,
    claimed_at: Option<i64>,
    now: i64,
) -> Result<bool> {
    let mut tx = ctx.app.db.begin().await?;
    let claimed = store::claim_write(&mut *tx, id, from, claimed_at, now).await?;
    tx.commit().await?;
    Ok(claimed)
}

async fn session_of(ctx: &Ctx<'_>, device: &DeviceRow, token: &str) -> Result<store::SessionRow> {
    // Only the kiosk that read the permit can go on with it.
    match store::by_token(ctx.app.db.reader(), token).await? {
        Some(s) if s.device_id == device.id => Ok(s),
        _ => refused(SelfServiceError::NoSuchSession),
    }
}

/// The chip read of a running session; `None` once the session ended and erased it. A sealed
/// read that cannot be opened is our fault (a wrong key, a damaged row), never "no permit".
fn open_chip(ctx: &Ctx<'_>, s: &store::SessionRow) -> Result<Option<PermitChip>> {
    if s.chip_sealed.is_empty() {
        return Ok(None);
    }
    let plain = ctx
        .app
        .cipher
        .open(&s.chip_sealed)
        .map_err(|e| Failure::Internal(format!("session {}: chip read: {e}", s.id)))?;
    serde_json::from_str(&plain)
        .map(Some)
        .map_err(|e| Failure::Internal(format!("session {}: chip read: {e}", s.id)))
}

fn expired(ctx: &Ctx<'_>, s: &store::SessionRow) -> bool {
    ctx.app.clock.now_ms() - s.started_at > SESSION_MS
}

/// The session as the kiosk shows it.
pub async fn view(
    ctx: &Ctx<'_>,
    device: &DeviceRow,
    token: &str,
    lang: Lang,
) -> Result<SessionView> {
    let s = session_of(ctx, device, token).await?;
    let mut state = SessionState::parse(&s.state)
        .ok_or_else(|| Failure::Internal(format!("session state {}", s.state)))?;
    // A read left past its time is over, whether or not the sweep has come by yet.
    if state == SessionState::Read && expired(ctx, &s) {
        state = SessionState::Abandoned;
    }
    let chip =
        open_chip(ctx, &s)?.filter(|_| state == SessionState::Read || s.application_id.is_some());
    let today = ctx.app.clock.today();
    let verdicts = match (&chip, state) {
        (Some(chip), SessionState::Read) if !expired(ctx, &s) => {
            eligibility::assess(ctx.app.catalog, chip, today, lang)
        }
        _ => Vec::new(),
    };
    let application = match s.application_id {
        Some(id) => crate::applications::application(ctx.app.db.reader(), id).await?,
        None => None,
    };
    let paid = match &application {
        Some(a) => crate::payments::paid_payment(ctx.pay.db.reader(), a.id).await?,
        None => None,
    };
    let refund_no = match &paid {
        Some(p) if state == SessionState::Refunded => {
            crate::payments::refunds_of(ctx.pay.db.reader(), p.id)
                .await?
                .into_iter()
                .next()
                .map(|r| r.refund_no)
        }
        _ => None,
    };
    Ok(SessionView {
        token: s.token.clone(),
        state,
        holder: chip
            .as_ref()
            .map(|c| crate::domain::masking::mask_name(&c.name)),
        permit: chip
            .as_ref()
            .and_then(|c| check_chip(c).ok())
            .map(|(_, n)| n.masked()),
        permit_valid_until: chip.as_ref().map(|c| c.valid_until.to_string()),
        verdicts,
        option_id: s.option_id.clone(),
        application_no: application
            .as_ref()
            .filter(|_| state != SessionState::Stopped)
            .map(|a| a.application_no.clone()),
        fee_fen: application.as_ref().and_then(|a| a.fee_fen),
        paid: paid.is_some(),
        written: s.write_ref.clone(),
        refund_no,
    })
}

/// What the citizen chose on the kiosk.
pub struct Choice<'a> {
    pub option_id: &'a str,
    /// Typed on the keypad; may be empty.
    pub phone: &'a str,
    pub method: Method,
}

/// The citizen's choice: the application accepted by the kiosk, and an order to pay by QR.
pub async fn choose(
    ctx: &Ctx<'_>,
    device: &DeviceRow,
    site: &crate::sites::Site,
    token: &str,
    choice: &Choice<'_>,
    lang: Lang,
) -> Result<OnlineOrder> {
    let s = session_of(ctx, device, token).await?;
    if !choice.method.online() {
        return refused(SelfServiceError::Method);
    }
    let phone = match choice.phone.trim() {
        "" => None,
        p => Some(PhoneNumber::parse(p).map_err(|_| Failure::Refused(SelfServiceError::Phone))?),
    };
    if s.state != "read" || expired(ctx, &s) {
        return refused(SelfServiceError::SessionOver);
    }
    let Some(chip) = open_chip(ctx, &s)? else {
        return refused(SelfServiceError::SessionOver);
    };
    let today = ctx.app.clock.today();
    let verdicts = eligibility::assess(ctx.app.catalog, &chip, today, lang);
    if eligibility::offer(&verdicts, choice.option_id).is_none() {
        return refused(SelfServiceError::NotOffered);
    }
    let (holder, number) = check_chip(&chip)?;
    let mut tx = ctx.app.db.begin().await?;
    let accepted = at_kiosk::accept_at_kiosk(
        &ctx.app,
        &mut tx,
        site,
        &KioskApplicant {
            name: chip.name.trim(),
            id_number: &holder,
            phone: phone.as_ref(),
            lang,
        },
        &KioskEndorsement {
            document: chip.document,
            permit_number: &number,
            option_id: choice.option_id,
            device_id: device.id,
            device_name: &device.name,
        },
    )
    .await
    .map_err(relay(lang, SelfServiceError::Application))?;
    if !store::choose(&mut tx, s.id, choice.option_id, accepted.application_id).await? {
        // Chosen twice at once: the other choice stands, this one is not written.
        return refused(SelfServiceError::SessionOver);
    }
    tx.commit().await?;
    crate::payments::create_order(
        &ctx.pay,
        None,
        &accepted.application_no,
        choice.method,
        "kiosk",
    )
    .await
    .map_err(relay(lang, SelfServiceError::Payment))
}

/// What became of the write.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Finished {
    /// On the card; print the receipt.
    Written { reference: String },
    /// Another request is writing it now: ask again in a moment.
    InProgress,
    /// The writer failed; the payment was refunded in full.
    Refunded { refund_no: Option<String> },
}

/// Writes the paid endorsement to the card, once: of any number of concurrent calls one
/// writes, the others see it in progress or done.
pub async fn finish(
    ctx: &Ctx<'_>,
    device: &DeviceRow,
    token: &str,
    lang: Lang,
) -> Result<Finished> {
    let s = session_of(ctx, device, token).await?;
    match s.state.as_str() {
        "written" => {
            let reference = s.write_ref.ok_or_else(|| {
                Failure::Internal(format!("session {} written without a reference", s.id))
            })?;
            return Ok(Finished::Written { reference });
        }
        "refunded" => return Ok(Finished::Refunded { refund_no: None }),
        "writing" => return Ok(Finished::InProgress),
        "chosen" => {}
        _ => return refused(SelfServiceError::SessionOver),
    }
    let application_id = s
        .application_id
        .ok_or_else(|| Failure::Internal("chosen without application".into()))?;
    if crate::payments::paid_payment(ctx.pay.db.reader(), application_id)
        .await?
        .is_none()
    {
        let _ = lang;
        return refused(SelfServiceError::NotPaid);
    }
    let now = ctx.app.clock.now_ms();
    if !claim(ctx, s.id, "chosen", s.write_claimed_at, now).await? {
        return Ok(Finished::InProgress);
    }
    write_claimed(ctx, s.id, device.id).await
}

/// Writes a claimed session (`writing`): tries the writer, then records written, or refunds.
async fn write_claimed(ctx: &Ctx<'_>, session_id: i64, device_id: i64) -> Result<Finished> {
    let s = store::by_id(ctx.app.db.reader(), session_id)
        .await?
        .ok_or_else(|| Failure::Internal("session vanished".into()))?;
    let application_id = s
        .application_id
        .ok_or_else(|| Failure::Internal("writing without application".into()))?;
    let write = match (open_chip(ctx, &s)?, s.option_id.as_deref()) {
        (Some(chip), Some(option)) => endorsement_write(ctx, &s, &chip, option),
        _ => None,
    };
    let mut last_error = String::from("nothing to write");
    if let Some(write) = &write {
        for _ in 0..WRITE_TRIES {
            match ctx.station.write_endorsement(device_id, write) {
                Ok(reference) => return record_written(ctx, &s, application_id, &reference).await,
                Err(e) => last_error = e.to_string(),
            }
        }
    }
    refund_unwritten(ctx, &s, application_id, &last_error).await
}

fn endorsement_write(
    ctx: &Ctx<'_>,
    s: &store::SessionRow,
    chip: &PermitChip,
    option: &str,
) -> Option<EndorsementWrite> {
    let (spec, o) = ctx.app.catalog.endorsement_option(option)?;
    let crate::catalog::Validity::Months(months) = o.validity else {
        return None;
    };
    let from = ctx.app.clock.today();
    Some(EndorsementWrite {
        request_id: s.token.clone(),
        permit_number: chip.number.clone(),
        endorsement: spec.endorsement_type,
        option_id: option.to_string(),
        valid_from: from,
        valid_until: eligibility::add_months(from, months),
        entries: match o.entries {
            crate::catalog::Entries::One => Some(1),
            crate::catalog::Entries::Two => Some(2),
            crate::catalog::Entries::Multiple => None,
        },
    })
}

async fn record_written(
    ctx: &Ctx<'_>,
    s: &store::SessionRow,
    application_id: i64,
    reference: &str,
) -> Result<Finished> {
    let now = ctx.app.clock.now_ms();
    let mut tx = ctx.app.db.begin().await?;
    if !store::finish(
        &mut tx,
        s.id,
        "writing",
        "written",
        Some(reference),
        None,
        now,
    )
    .await?
    {
        return Ok(Finished::InProgress);
    }
    if let Some(doc) = store::document_of(&mut *tx, application_id).await? {
        crate::documents::move_stage(
            &mut tx,
            doc,
            Stage::Accepted,
            Stage::Issued,
            None,
            now,
            &serde_json::json!({"self_service": true, "write": reference, "device": s.device_id}),
        )
        .await?;
    }
    crate::applications::record_event(
        &mut tx,
        application_id,
        now,
        "endorsement_written",
        None,
        serde_json::json!({"device": s.device_id, "write": reference}),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by_device(
            &s.device_id.to_string(),
            "self_service.write",
            "session",
            &s.token[..8],
            now,
        )
        .site(s.site_id)
        .detail(serde_json::json!({"application_id": application_id, "write": reference})),
    )
    .await?;
    tx.commit().await?;
    Ok(Finished::Written {
        reference: reference.to_string(),
    })
}

async fn refund_unwritten(
    ctx: &Ctx<'_>,
    s: &store::SessionRow,
    application_id: i64,
    error: &str,
) -> Result<Finished> {
    tracing::warn!(
        session = s.id,
        error,
        "self-service endorsement not written: refunding"
    );
    let refund = crate::payments::refund_undelivered(
        &ctx.pay,
        application_id,
        "自助签注写卡失败，自动全额退款 (card write failed: automatic full refund)",
    )
    .await
    .map_err(relay(Lang::ZhCn, SelfServiceError::Payment))?;
    let now = ctx.app.clock.now_ms();
    let mut tx = ctx.app.db.begin().await?;
    if !store::finish(&mut tx, s.id, "writing", "refunded", None, Some(error), now).await? {
        return Ok(Finished::InProgress);
    }
    void_document(&mut tx, application_id, s.device_id, "write_failed", now).await?;
    tx.commit().await?;
    Ok(Finished::Refunded {
        refund_no: refund.map(|r| r.refund_no),
    })
}

async fn void_document(
    tx: &mut sqlx::AnyConnection,
    application_id: i64,
    device_id: i64,
    why: &str,
    now: i64,
) -> Result<()> {
    if let Some(doc) = store::document_of(&mut *tx, application_id).await? {
        crate::documents::move_stage(
            tx,
            doc,
            Stage::Accepted,
            Stage::Voided,
            None,
            now,
            &serde_json::json!({"self_service": true, "why": why, "device": device_id}),
        )
        .await?;
    }
    crate::applications::record_event(
        tx,
        application_id,
        now,
        "self_service_ended",
        None,
        serde_json::json!({"why": why, "device": device_id}),
    )
    .await?;
    Ok(())
}

/// What a sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Swept {
    pub written: usize,
    pub refunded: usize,
    pub abandoned: usize,
}

/// The server's end of sessions a kiosk left behind (run every minute): a write that went
/// silent is retried (idempotent) or refunded; a paid choice never written is written or
/// refunded; an unpaid choice or an unused read is abandoned, its chip data erased; and money
/// that arrives for an abandoned choice goes back.
pub async fn sweep(ctx: &Ctx<'_>) -> Result<Swept> {
    let now = ctx.app.clock.now_ms();
    let mut swept = Swept::default();
    let tally = |f: &Finished, swept: &mut Swept| match f {
        Finished::Written { .. } => swept.written += 1,
        Finished::Refunded { .. } => swept.refunded += 1,
        Finished::InProgress => {}
    };
    for s in store::stale(ctx.app.db.reader(), "writing", now - WRITE_STALE_MS).await? {
        if claim(ctx, s.id, "writing", s.write_claimed_at, now).await? {
            let f = write_claimed(ctx, s.id, s.device_id).await?;
            tally(&f, &mut swept);
        }
    }
    for s in store::stale(ctx.app.db.reader(), "chosen", now - SESSION_MS).await? {
        let Some(application_id) = s.application_id else {
            continue;
        };
        if crate::payments::paid_payment(ctx.pay.db.reader(), application_id)
            .await?
            .is_some()
        {
            if claim(ctx, s.id, "chosen", s.write_claimed_at, now).await? {
                let f = write_claimed(ctx, s.id, s.device_id).await?;
                tally(&f, &mut swept);
            }
            continue;
        }
        let mut tx = ctx.app.db.begin().await?;
        if store::finish(
            &mut tx,
            s.id,
            "chosen",
            "abandoned",
            None,
            Some("unpaid"),
            now,
        )
        .await?
        {
            void_document(&mut tx, application_id, s.device_id, "unpaid", now).await?;
            swept.abandoned += 1;
        }
        tx.commit().await?;
    }
    for s in store::stale(ctx.app.db.reader(), "read", now - SESSION_MS).await? {
        let mut tx = ctx.app.db.begin().await?;
        if store::finish(
            &mut tx,
            s.id,
            "read",
            "abandoned",
            None,
            Some("not_chosen"),
            now,
        )
        .await?
        {
            swept.abandoned += 1;
        }
        tx.commit().await?;
    }
    // Paid after it was abandoned (the citizen scanned the code late): the money goes back.
    for s in store::stale(ctx.app.db.reader(), "abandoned", now).await? {
        if let Some(application_id) = s.application_id
            && crate::payments::refund_undelivered(
                &ctx.pay,
                application_id,
                "自助签注已超时取消，到账款项自动退回 (session abandoned: automatic refund)",
            )
            .await
            .map_err(relay(Lang::ZhCn, SelfServiceError::Payment))?
            .is_some()
        {
            swept.refunded += 1;
        }
    }
    Ok(swept)
}
