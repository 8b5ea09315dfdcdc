//! Ticketing and calling (R3, R8): tickets per business line with a daily letter sequence,
//! priority classes, windows that call, recall, start, finish, transfer; every step recorded.
//!
//! **Who is called next** is one documented policy in [`order`] (green channel, then anyone
//! past the maximum wait, love channel, appointments, everyone else; then line priority and
//! issue time), property-tested there. A transferred ticket keeps its number, class and issue time, so it does not go to the back of
//! the queue it moves to. The claim is a conditional `UPDATE … WHERE status = 'waiting'`, so two
//! windows never call the same ticket, on either engine, with any number of nodes.

pub mod order;
mod store;
pub mod voice;
pub mod web;

/// What other capabilities may read or record through queue's store (the store itself is private).
pub use store::{
    current_at_window, history, last_finished_at_window, notices, ticket, ticket_by_token,
    ticket_of_booking, waiting_counts, window_state as stored_window_state,
};

use crate::auth::grant::{BookingDesk, GuideDesk, Lead, ServeWindow};
use serde::{Deserialize, Serialize};

use crate::auth::{Actor, Failure, Grant};
use crate::catalog::lines::Lines;
use crate::clock::Clock;
use crate::crypto;
use crate::db::Db;
use crate::i18n::{Lang, UserMessage};
use crate::sites::{Site, Window, WindowKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketClass {
    Green,
    Love,
    Appointment,
    Normal,
}

impl TicketClass {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketClass::Green => "green",
            TicketClass::Love => "love",
            TicketClass::Appointment => "appointment",
            TicketClass::Normal => "normal",
        }
    }
    pub fn parse(s: &str) -> Option<TicketClass> {
        [
            TicketClass::Green,
            TicketClass::Love,
            TicketClass::Appointment,
            TicketClass::Normal,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            TicketClass::Green => lang.pick("绿色通道", "Green channel"),
            TicketClass::Love => lang.pick("爱心通道", "Love channel"),
            TicketClass::Appointment => lang.pick("预约", "Appointment"),
            TicketClass::Normal => lang.pick("普通", "Regular"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    Called,
    Serving,
    Done,
    NoShow,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Called => "called",
            TicketStatus::Serving => "serving",
            TicketStatus::Done => "done",
            TicketStatus::NoShow => "no_show",
        }
    }
    pub fn parse(s: &str) -> Option<TicketStatus> {
        [
            TicketStatus::Waiting,
            TicketStatus::Called,
            TicketStatus::Serving,
            TicketStatus::Done,
            TicketStatus::NoShow,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            TicketStatus::Waiting => lang.pick("等候中", "Waiting"),
            TicketStatus::Called => lang.pick("已叫号", "Called"),
            TicketStatus::Serving => lang.pick("办理中", "Being served"),
            TicketStatus::Done => lang.pick("已办结", "Done"),
            TicketStatus::NoShow => lang.pick("过号", "Missed"),
        }
    }
}

/// A ticket and its history timestamps (R3: every call, start and finish is kept).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: i64,
    #[serde(skip)]
    pub token: String,
    pub site_id: i64,
    #[schema(format = Date)]
    pub date: String,
    pub line_code: String,
    pub number: String,
    pub class: TicketClass,
    pub class_reason: Option<String>,
    pub booking_id: Option<i64>,
    pub status: TicketStatus,
    pub issued_at: i64,
    pub window_id: Option<i64>,
    pub officer_id: Option<i64>,
    pub called_at: Option<i64>,
    pub call_count: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub transfers: i64,
}

#[derive(Debug, Clone)]
pub struct WindowState {
    pub window_id: i64,
    /// `open`, `paused` or `closed`.
    pub status: String,
    pub officer_id: Option<i64>,
    /// `,line,line,` in priority order.
    pub lines: String,
    pub pause_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("unknown line")]
    UnknownLine,
    #[error("reason needed")]
    ReasonNeeded,
    #[error("window not open")]
    WindowNotOpen,
    #[error("window busy")]
    WindowBusy,
    #[error("nothing called")]
    NothingCalled,
    #[error("recall limit")]
    RecallLimit,
    #[error("not at this site")]
    OtherSite,
    #[error("no such window")]
    NoSuchWindow,
    #[error("no such ticket")]
    NoSuchTicket,
    #[error("window does not serve that line")]
    WindowDoesNotServe,
    #[error("another officer holds this window")]
    NotYourWindow,
}

impl UserMessage for QueueError {
    fn status(&self) -> axum::http::StatusCode {
        match self {
            QueueError::NoSuchWindow | QueueError::NoSuchTicket => {
                axum::http::StatusCode::NOT_FOUND
            }
            QueueError::OtherSite => axum::http::StatusCode::FORBIDDEN,
            QueueError::WindowBusy | QueueError::WindowNotOpen => axum::http::StatusCode::CONFLICT,
            _ => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            QueueError::UnknownLine => "queue.unknown_line",
            QueueError::ReasonNeeded => "queue.reason_needed",
            QueueError::WindowNotOpen => "queue.window_not_open",
            QueueError::WindowBusy => "queue.window_busy",
            QueueError::NothingCalled => "queue.nothing_called",
            QueueError::RecallLimit => "queue.recall_limit",
            QueueError::OtherSite => "queue.other_site",
            QueueError::NoSuchWindow => "queue.no_such_window",
            QueueError::NoSuchTicket => "queue.no_such_ticket",
            QueueError::WindowDoesNotServe => "queue.window_does_not_serve",
            QueueError::NotYourWindow => "queue.not_your_window",
        }
    }
    fn message(&self, lang: Lang) -> String {
        use QueueError::*;
        match (self, lang) {
            (UnknownLine, Lang::ZhCn) => "没有这个业务类别。".into(),
            (UnknownLine, Lang::En) => "There is no such service line.".into(),
            (ReasonNeeded, Lang::ZhCn) => "绿色通道和爱心通道需选择原因。".into(),
            (ReasonNeeded, Lang::En) => "Green- and love-channel tickets need a reason.".into(),
            (WindowNotOpen, Lang::ZhCn) => "窗口未开启或已暂停，请先开启窗口。".into(),
            (WindowNotOpen, Lang::En) => "The window is closed or paused; open it first.".into(),
            (WindowBusy, Lang::ZhCn) => "请先完成、转移或标记过号当前号码，再叫下一号。".into(),
            (WindowBusy, Lang::En) => {
                "Finish, transfer or mark the current ticket missed before calling the next.".into()
            }
            (NothingCalled, Lang::ZhCn) => "本窗口当前没有号码。".into(),
            (NothingCalled, Lang::En) => "This window has no current ticket.".into(),
            (RecallLimit, Lang::ZhCn) => "已达到重呼次数上限，请标记过号。".into(),
            (RecallLimit, Lang::En) => {
                "The recall limit is reached; mark the ticket missed.".into()
            }
            (OtherSite, Lang::ZhCn) => "您在该办证点没有此岗位权限。".into(),
            (OtherSite, Lang::En) => "You do not hold this role at that site.".into(),
            (NoSuchWindow, Lang::ZhCn) => "没有这个窗口。".into(),
            (NoSuchWindow, Lang::En) => "There is no such window.".into(),
            (NoSuchTicket, Lang::ZhCn) => "没有这个号码。".into(),
            (NoSuchTicket, Lang::En) => "There is no such ticket.".into(),
            (WindowDoesNotServe, Lang::ZhCn) => "目标窗口不办理该业务，或不在本办证点。".into(),
            (WindowDoesNotServe, Lang::En) => {
                "That window does not serve this line, or is at another site.".into()
            }
            (NotYourWindow, Lang::ZhCn) => {
                "该窗口由另一位工作人员开启，只有本人可以在此叫号办理；如需接替，请值班领导接管窗口。".into()
            }
            (NotYourWindow, Lang::En) => {
                "Another officer opened this window; only they call and serve at it. To take it over, ask the duty leader.".into()
            }
        }
    }
}

/// Settings of the calling policy.
#[derive(Debug, Clone, Copy)]
pub struct QueueRules {
    /// Waiting longer than this puts a ticket ahead of the love and appointment classes.
    pub max_wait_minutes: i64,
    /// Calls of one ticket (the first and recalls) before it must be marked missed.
    pub max_calls: i64,
}

#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    pub lines: &'a Lines,
    pub rules: QueueRules,
}

/// The lines a window of this kind serves by default, in priority order.
pub fn default_lines(kind: WindowKind) -> &'static [&'static str] {
    match kind {
        WindowKind::Citizen => &["first_issue", "renewal", "endorsement"],
        WindowKind::Appointment => &["first_issue", "renewal", "endorsement", "pickup"],
        WindowKind::GreenChannel => &["green_channel", "first_issue", "renewal", "endorsement"],
        WindowKind::Pickup => &["pickup"],
        WindowKind::Foreigner => &["foreigner"],
        WindowKind::HmtResident => &["hmt_resident"],
        WindowKind::Payment => &["payment"],
        WindowKind::Express => &["express"],
    }
}

fn lines_text(lines: &[&str]) -> String {
    format!(",{},", lines.join(","))
}

/// Who issues a ticket: the citizen at a kiosk or on a phone (normal class only), the guide
/// desk (any walk-in class, priority ones with a reason), or the booking desk checking an
/// appointment in (appointment class).
#[derive(Debug, Clone, Copy)]
pub enum Issuer<'a> {
    Citizen,
    Guide(&'a Grant<'a, GuideDesk>),
    BookingDesk(&'a Grant<'a, BookingDesk>),
    /// An enrolled kiosk of the site: ordinary tickets, and the appointment ticket of a holder
    /// it checked in.
    Kiosk(&'a crate::device_registry::DeviceRow),
}

impl Issuer<'_> {
    fn staff(&self) -> Option<&Actor> {
        match self {
            Issuer::Citizen => None,
            Issuer::Guide(g) => Some(g.actor()),
            Issuer::BookingDesk(g) => Some(g.actor()),
            Issuer::Kiosk(_) => None,
        }
    }

    /// Whether this issuer may issue `class` at `site_id`.
    fn may_issue(&self, class: TicketClass, site_id: i64) -> bool {
        match self {
            Issuer::Citizen => class == TicketClass::Normal,
            Issuer::Guide(g) => class != TicketClass::Appointment && g.covers(site_id),
            Issuer::BookingDesk(g) => class == TicketClass::Appointment && g.covers(site_id),
            Issuer::Kiosk(d) => {
                matches!(class, TicketClass::Normal | TicketClass::Appointment)
                    && d.kind == crate::device_registry::Kind::Kiosk
                    && d.site_id == site_id
            }
        }
    }
}

/// Issues a ticket. No daily cap: everyone who comes in working time is served (R2, [003 三]).
#[allow(clippy::too_many_arguments)]
pub async fn issue_ticket(
    ctx: &Ctx<'_>,
    issuer: Issuer<'_>,
    site: &Site,
    line: &str,
    class: TicketClass,
    reason: Option<&str>,
    booking_id: Option<i64>,
    channel: &str,
) -> Result<Ticket, Failure<QueueError>> {
    let bl = ctx
        .lines
        .get(line)
        .ok_or(Failure::Refused(QueueError::UnknownLine))?;
    if !issuer.may_issue(class, site.id) {
        return Err(Failure::Refused(QueueError::OtherSite));
    }
    let actor = issuer.staff();
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if matches!(class, TicketClass::Green | TicketClass::Love) && reason.is_none() {
        return Err(Failure::Refused(QueueError::ReasonNeeded));
    }
    let now = ctx.clock.now_ms();
    let date = ctx.clock.today().to_string();
    let token = crypto::random_token()[..24].to_string();
    let mut tx = ctx.db.begin().await?;
    let seq = store::next_number(&mut tx, site.id, &date, &bl.code).await?;
    let number = format!("{}{:03}", bl.ticket_prefix, seq);
    let id = store::insert_ticket(
        &mut tx,
        &store::NewTicket {
            token: &token,
            site_id: site.id,
            date: &date,
            line: &bl.code,
            number: &number,
            class,
            class_reason: reason,
            booking_id,
            channel,
            issued_by: actor.map(|a| a.staff_id),
            now,
        },
    )
    .await?;
    store::event(
        &mut tx,
        id,
        now,
        "issued",
        None,
        actor.map(|a| a.staff_id),
        serde_json::json!({"class": class, "reason": reason, "channel": channel}),
    )
    .await?;
    tx.commit().await?;
    ctx.db
        .publish("queue.changed", serde_json::json!({"site": site.id}));
    store::ticket(ctx.db.reader(), id)
        .await?
        .ok_or(Failure::Internal("ticket vanished".into()))
}

/// The state of a window, or its closed default.
pub async fn window_state(ctx: &Ctx<'_>, window: &Window) -> Result<WindowState, sqlx::Error> {
    Ok(store::window_state(ctx.db.reader(), window.id)
        .await?
        .unwrap_or(WindowState {
            window_id: window.id,
            status: "closed".into(),
            officer_id: None,
            lines: lines_text(default_lines(window.kind)),
            pause_reason: None,
        }))
}

/// The actor's grant to serve at windows; "other site" when the actor has none.
pub fn serve(actor: &Actor) -> Result<Grant<'_, ServeWindow>, Failure<QueueError>> {
    actor.grant_or(QueueError::OtherSite)
}

/// The window's state for an action by `actor`. Only the officer who opened a window acts at
/// it (issue 12 item 11: calls are announced under the window's officer); the duty leader may
/// take it over — the takeover is recorded, and the window is theirs from then on.
async fn hold_window(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, ServeWindow>,
    window: &Window,
) -> Result<WindowState, Failure<QueueError>> {
    let actor = grant.actor();
    if !grant.covers(window.site_id) {
        return Err(Failure::Refused(QueueError::OtherSite));
    }
    let mut state = window_state(ctx, window).await?;
    match state.officer_id {
        None => Ok(state),
        Some(holder) if holder == actor.staff_id => Ok(state),
        Some(holder) if actor.may::<Lead>(window.site_id) => {
            let now = ctx.clock.now_ms();
            state.officer_id = Some(actor.staff_id);
            let mut tx = ctx.db.begin().await?;
            store::set_window_state(&mut tx, &state, now).await?;
            crate::audit::record(
                &mut tx,
                crate::audit::AuditEntry::by(
                    actor,
                    "queue.window_taken_over",
                    "window",
                    &window.id.to_string(),
                    now,
                )
                .site(window.site_id)
                .detail(serde_json::json!({"from_staff": holder, "window": window.number})),
            )
            .await?;
            tx.commit().await?;
            Ok(state)
        }
        Some(_) => Err(Failure::Refused(QueueError::NotYourWindow)),
    }
}

/// An officer signs in at a window and opens it.
pub async fn open_window(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, ServeWindow>,
    window: &Window,
) -> Result<(), Failure<QueueError>> {
    let actor = grant.actor();
    let mut state = hold_window(ctx, grant, window).await?;
    state.status = "open".into();
    state.officer_id = Some(actor.staff_id);
    state.pause_reason = None;
    let mut tx = ctx.db.begin().await?;
    store::set_window_state(&mut tx, &state, ctx.clock.now_ms()).await?;
    tx.commit().await?;
    ctx.db
        .publish("queue.changed", serde_json::json!({"site": window.site_id}));
    Ok(())
}

/// Pauses (with a reason) or closes a window. Closing hands back the ticket it called but did
/// not start, so others serve it (顶岗补位, R3).
pub async fn stop_window(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, ServeWindow>,
    window: &Window,
    pause_reason: Option<&str>,
) -> Result<(), Failure<QueueError>> {
    let actor = grant.actor();
    let mut state = hold_window(ctx, grant, window).await?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    match pause_reason.map(str::trim) {
        Some(r) if !r.is_empty() => {
            state.status = "paused".into();
            state.pause_reason = Some(r.to_string());
        }
        Some(_) => return Err(Failure::Refused(QueueError::ReasonNeeded)),
        None => {
            state.status = "closed".into();
            state.officer_id = None;
            for id in
                store::release_window(&mut tx, window.id, &ctx.clock.today().to_string()).await?
            {
                store::event(
                    &mut tx,
                    id,
                    now,
                    "returned",
                    Some(window.id),
                    Some(actor.staff_id),
                    serde_json::json!({"why": "window closed"}),
                )
                .await?;
            }
        }
    }
    store::set_window_state(&mut tx, &state, now).await?;
    tx.commit().await?;
    ctx.db
        .publish("queue.changed", serde_json::json!({"site": window.site_id}));
    Ok(())
}

/// A call as the display announces it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallEvent {
    /// The call's event id, the same on every node; the calls of a site rise with it in the
    /// order they were made (displays resume after the last id they saw).
    pub id: i64,
    pub site: i64,
    pub number: String,
    pub window: i64,
    pub recall: bool,
    /// When the call was made (epoch ms).
    pub at: i64,
}

/// A call as published on the bus: the call, and the id of the site's call before it, so a
/// display that showed that one shows this one at once (any other reads what it missed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Announced {
    #[serde(flatten)]
    pub call: CallEvent,
    pub before: i64,
}

/// Records a call (or recall) of `t` at `window` by an officer at an instant in `tx`, and
/// publishes it with the transaction; hand the result to `Db::committed` after the commit.
#[allow(clippy::too_many_arguments)]
async fn record_call(
    ctx: &Ctx<'_>,
    tx: &mut sqlx::AnyConnection,
    window: &Window,
    t: &Ticket,
    officer_id: i64,
    at: i64,
    detail: serde_json::Value,
    recall: bool,
) -> Result<crate::db::InTransaction, sqlx::Error> {
    let kind = if recall { "recalled" } else { "called" };
    let (id, before) = store::call_event(
        &mut *tx,
        window.site_id,
        t.id,
        at,
        kind,
        window.id,
        officer_id,
        detail,
    )
    .await?;
    let announced = Announced {
        call: CallEvent {
            id,
            site: window.site_id,
            number: t.number.clone(),
            window: window.number,
            recall,
            at,
        },
        before,
    };
    ctx.db
        .publish_in(
            tx,
            "queue.called",
            serde_json::to_value(announced).unwrap_or_default(),
        )
        .await
}

/// The event id a display that has seen no call yet follows the site's calls after: every
/// call made from now on has a greater one.
pub async fn calls_baseline(db: &Db, site_id: i64) -> Result<i64, sqlx::Error> {
    match db.engine() {
        // Taken under the site's call lock, so it needs the writer's transaction.
        crate::db::Engine::Postgres => {
            let mut tx = db.begin().await?;
            let id = store::calls_baseline(&mut tx, site_id).await?;
            tx.commit().await?;
            Ok(id)
        }
        // One writer: a reader sees every committed call, and any call being written gets a
        // greater id. No need to queue behind the writer.
        crate::db::Engine::Sqlite => {
            let mut conn = db.reader().acquire().await?;
            store::calls_baseline(&mut conn, site_id).await
        }
    }
}

/// The site's calls (and recalls) of `date` made after call `after`, oldest first, at most
/// `limit`: what a display missed, read from the database so every node answers alike.
pub async fn calls_after(
    db: &Db,
    site_id: i64,
    date: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<CallEvent>, sqlx::Error> {
    Ok(store::calls_after(db.reader(), site_id, date, after, limit)
        .await?
        .into_iter()
        .map(|(id, number, window, recall, at)| CallEvent {
            id,
            site: site_id,
            number,
            window,
            recall,
            at,
        })
        .collect())
}

/// Calls the next ticket to this window by the documented policy.
pub async fn call_next(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, ServeWindow>,
    window: &Window,
) -> Result<Option<Ticket>, Failure<QueueError>> {
    let actor = grant.actor();
    let state = hold_window(ctx, grant, window).await?;
    if state.status != "open" {
        return Err(Failure::Refused(QueueError::WindowNotOpen));
    }
    let date = ctx.clock.today().to_string();
    if store::current_at_window(ctx.db.reader(), window.id, &date)
        .await?
        .is_some()
    {
        return Err(Failure::Refused(QueueError::WindowBusy));
    }
    let now = ctx.clock.now_ms();
    let overdue_before = now - ctx.rules.max_wait_minutes * 60_000;
    let lines: Vec<&str> = state.lines.split(',').filter(|l| !l.is_empty()).collect();
    // Another window (or node) may take the chosen ticket first; its claim wins and ours
    // matches nothing, so choose again a few times.
    for _ in 0..5 {
        // The head of each class in each line the window serves; the order chooses.
        let mut waiting = Vec::new();
        for (line_priority, line) in lines.iter().enumerate() {
            for (id, class, issued_at) in
                store::heads_of_line(ctx.db.reader(), window.site_id, &date, line, window.id)
                    .await?
            {
                let class = TicketClass::parse(&class)
                    .ok_or_else(|| Failure::Internal(format!("ticket class {class}")))?;
                waiting.push(order::Waiting {
                    id,
                    class,
                    issued_at,
                    line_priority,
                });
            }
        }
        let Some(order::Waiting { id, .. }) = order::next(&waiting, overdue_before) else {
            return Ok(None);
        };
        let mut tx = ctx.db.begin().await?;
        if let Some(t) = store::claim(&mut tx, id, window.id, actor.staff_id, now).await? {
            let call = record_call(
                ctx,
                &mut tx,
                window,
                &t,
                actor.staff_id,
                now,
                serde_json::json!({}),
                false,
            )
            .await?;
            tx.commit().await?;
            ctx.db.committed(call);
            return Ok(Some(t));
        }
    }
    Ok(None)
}

async fn current(ctx: &Ctx<'_>, window: &Window) -> Result<Ticket, Failure<QueueError>> {
    store::current_at_window(ctx.db.reader(), window.id, &ctx.clock.today().to_string())
        .await?
        .ok_or(Failure::Refused(QueueError::NothingCalled))
}

/// Calls the current ticket again (the display repeats it).
pub async fn recall(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, ServeWindow>,
    window: &Window,
) -> Result<Ticket, Failure<QueueError>> {
    let actor = grant.actor();
    hold_window(ctx, grant, window).await?;
    let t = current(ctx, window).await?;
    if t.status != TicketStatus::Called {
        return Err(Failure::Refused(QueueError::NothingCalled));
    }
    if t.call_count >= ctx.rules.max_calls {
        return Err(Failure::Refused(QueueError::RecallLimit));
    }
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    if !store::transition(&mut tx, t.id, "called", TicketStatus::Called, now).await? {
        return Err(Failure::Refused(QueueError::NothingCalled));
    }
    let call = record_call(
        ctx,
        &mut tx,
        window,
        &t,
        actor.staff_id,
        now,
        serde_json::json!({"call": t.call_count + 1}),
        true,
    )
    .await?;
    tx.commit().await?;
    ctx.db.committed(call);
    Ok(t)
}

/// Moves the window's current ticket on: start service, finish it, or mark it missed.
pub async fn advance(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, ServeWindow>,
    window: &Window,
    to: TicketStatus,
) -> Result<Ticket, Failure<QueueError>> {
    let actor = grant.actor();
    hold_window(ctx, grant, window).await?;
    let t = current(ctx, window).await?;
    let from = match (t.status, to) {
        (TicketStatus::Called, TicketStatus::Serving | TicketStatus::NoShow) => "called",
        (TicketStatus::Serving, TicketStatus::Done) => "serving",
        (TicketStatus::Called, TicketStatus::Done) => "called",
        _ => return Err(Failure::Refused(QueueError::NothingCalled)),
    };
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    if to == TicketStatus::Done && from == "called" {
        // Finishing straight from "called" records the start too, so service time is known.
        store::transition(&mut tx, t.id, "called", TicketStatus::Serving, now).await?;
        store::event(
            &mut tx,
            t.id,
            now,
            "started",
            Some(window.id),
            Some(actor.staff_id),
            serde_json::json!({}),
        )
        .await?;
    }
    let from = if to == TicketStatus::Done {
        "serving"
    } else {
        from
    };
    if !store::transition(&mut tx, t.id, from, to, now).await? {
        return Err(Failure::Refused(QueueError::NothingCalled));
    }
    let kind = match to {
        TicketStatus::Serving => "started",
        TicketStatus::Done => "finished",
        _ => "no_show",
    };
    store::event(
        &mut tx,
        t.id,
        now,
        kind,
        Some(window.id),
        Some(actor.staff_id),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    ctx.db
        .publish("queue.changed", serde_json::json!({"site": window.site_id}));
    Ok(store::ticket(ctx.db.reader(), t.id).await?.unwrap_or(t))
}

/// Sends the window's current ticket to another line (e.g. payment, express), or to a named
/// window of this site that serves that line, keeping its number, class and issue time.
pub async fn transfer(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, ServeWindow>,
    window: &Window,
    to_line: &str,
    to_window: Option<&Window>,
) -> Result<Ticket, Failure<QueueError>> {
    let actor = grant.actor();
    hold_window(ctx, grant, window).await?;
    let bl = ctx
        .lines
        .get(to_line)
        .ok_or(Failure::Refused(QueueError::UnknownLine))?;
    if let Some(target) = to_window {
        let serves = window_state(ctx, target)
            .await?
            .lines
            .contains(&format!(",{},", bl.code));
        if target.site_id != window.site_id || !serves {
            return Err(Failure::Refused(QueueError::WindowDoesNotServe));
        }
    }
    let t = current(ctx, window).await?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    if !store::transfer(&mut tx, t.id, &bl.code, to_window.map(|w| w.id)).await? {
        return Err(Failure::Refused(QueueError::NothingCalled));
    }
    store::event(
        &mut tx,
        t.id,
        now,
        "transferred",
        Some(window.id),
        Some(actor.staff_id),
        serde_json::json!({"from": t.line_code, "to": bl.code, "to_window": to_window.map(|w| w.number)}),
    )
    .await?;
    tx.commit().await?;
    ctx.db
        .publish("queue.changed", serde_json::json!({"site": window.site_id}));
    Ok(store::ticket(ctx.db.reader(), t.id).await?.unwrap_or(t))
}

/// What a citizen's phone shows for a ticket (R3: people ahead, estimated wait as a range).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TicketStatusView {
    pub number: String,
    pub line: String,
    pub status: TicketStatus,
    pub status_text: String,
    pub ahead: i64,
    /// Estimated wait, minutes, low and high.
    pub wait_min: i64,
    pub wait_max: i64,
    /// The window number when called.
    pub window: Option<i64>,
}

/// People ahead and the estimated wait, from the measured service times of the line today
/// (8 minutes until there are any) and the open windows serving it.
pub async fn estimate(ctx: &Ctx<'_>, t: &Ticket) -> Result<(i64, i64, i64), sqlx::Error> {
    let ahead = store::ahead_of(ctx.db.reader(), t).await?;
    let mean = store::mean_service_ms(ctx.db.reader(), t.site_id, &t.date, &t.line_code)
        .await?
        .unwrap_or(8 * 60_000);
    let windows = store::open_windows_for(ctx.db.reader(), t.site_id, &t.line_code)
        .await?
        .max(1);
    let minutes = (ahead * mean) as f64 / windows as f64 / 60_000.0;
    // Honest as a range: service times vary, so say so.
    Ok((
        ahead,
        (minutes * 0.7).floor() as i64,
        (minutes * 1.3).ceil() as i64,
    ))
}

pub async fn status_view(
    ctx: &Ctx<'_>,
    t: &Ticket,
    lang: Lang,
) -> Result<TicketStatusView, sqlx::Error> {
    let (ahead, lo, hi) = if t.status == TicketStatus::Waiting {
        estimate(ctx, t).await?
    } else {
        (0, 0, 0)
    };
    let window = match t.window_id {
        Some(w) => crate::sites::window(ctx.db.reader(), w)
            .await?
            .map(|w| w.number),
        None => None,
    };
    Ok(TicketStatusView {
        number: t.number.clone(),
        line: ctx
            .lines
            .get(&t.line_code)
            .map(|l| l.name(lang).to_string())
            .unwrap_or_default(),
        status: t.status,
        status_text: t.status.name(lang).to_string(),
        ahead,
        wait_min: lo,
        wait_max: hi,
        window,
    })
}

/// Administrators set which lines a window serves, in priority order (R3).
pub async fn set_window_lines(
    ctx: &Ctx<'_>,
    admin: crate::auth::AdminCap<'_>,
    window: &Window,
    codes: &[String],
) -> Result<(), Failure<QueueError>> {
    if !admin.covers(window.site_id) {
        return Err(Failure::Refused(QueueError::OtherSite));
    }
    let mut lines: Vec<&str> = Vec::new();
    for c in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let known = ctx
            .lines
            .get(c)
            .ok_or(Failure::Refused(QueueError::UnknownLine))?;
        if !lines.contains(&known.code.as_str()) {
            lines.push(&known.code);
        }
    }
    if lines.is_empty() {
        return Err(Failure::Refused(QueueError::UnknownLine));
    }
    let mut state = window_state(ctx, window).await?;
    let before = state.lines.clone();
    state.lines = lines_text(&lines);
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    store::set_window_state(&mut tx, &state, now).await?;
    crate::audit::record(
        &mut tx,
        crate::audit::AuditEntry::by(
            admin.actor(),
            "window.lines_changed",
            "window",
            &window.id.to_string(),
            now,
        )
        .site(window.site_id)
        .detail(serde_json::json!({"before": before, "after": state.lines})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A kiosk reports how printing went (R3): a ticket that did not print is not counted as
/// issued — it leaves the queue and the counts — until it is reprinted with the same number.
pub async fn record_print(
    ctx: &Ctx<'_>,
    t: &Ticket,
    printed: bool,
) -> Result<(), Failure<QueueError>> {
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    if !store::set_printed(&mut tx, t.id, printed).await? {
        return Err(Failure::Refused(QueueError::NoSuchTicket));
    }
    store::event(
        &mut tx,
        t.id,
        now,
        if printed { "printed" } else { "print_failed" },
        None,
        None,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    ctx.db
        .publish("queue.changed", serde_json::json!({"site": t.site_id}));
    Ok(())
}

/// Administrators set the notices the hall display rolls through, one per line as
/// `中文 | English` (R3).
pub async fn set_notices(
    ctx: &Ctx<'_>,
    admin: crate::auth::AdminCap<'_>,
    site: &Site,
    text: &str,
) -> Result<(), Failure<QueueError>> {
    if !admin.covers(site.id) {
        return Err(Failure::Refused(QueueError::OtherSite));
    }
    let cleaned: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(3)
        .map(|l| l.chars().take(200).collect())
        .collect();
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    store::set_notices(&mut tx, site.id, &cleaned.join("\n")).await?;
    crate::audit::record(
        &mut tx,
        crate::audit::AuditEntry::by(
            admin.actor(),
            "display.notices_changed",
            "site",
            &site.id.to_string(),
            now,
        )
        .site(site.id)
        .detail(serde_json::json!({"notices": cleaned})),
    )
    .await?;
    tx.commit().await?;
    ctx.db
        .publish("queue.changed", serde_json::json!({"site": site.id}));
    Ok(())
}

/// The notices in `lang`: the part before `|` in Chinese, after it in English (Chinese when
/// no English is given).
pub fn notices_in(text: &str, lang: Lang) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match (l.split_once('|'), lang) {
            (Some((zh, _)), Lang::ZhCn) => zh.trim().to_string(),
            (Some((zh, en)), Lang::En) => if en.trim().is_empty() {
                zh.trim()
            } else {
                en.trim()
            }
            .to_string(),
            (None, _) => l.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{RequestMeta, Role, RoleGrant};

    fn staff(role: Role, site: i64) -> Actor {
        Actor {
            staff_id: 3,
            username: "t".into(),
            display_name: "t".into(),
            badge_no: "3".into(),
            grants: vec![RoleGrant {
                role,
                site_id: Some(site),
            }],
            must_change_password: false,
            meta: RequestMeta::default(),
        }
    }

    #[test]
    fn each_issuer_issues_only_its_classes_at_its_sites() {
        assert!(Issuer::Citizen.may_issue(TicketClass::Normal, 1));
        for class in [
            TicketClass::Love,
            TicketClass::Green,
            TicketClass::Appointment,
        ] {
            assert!(!Issuer::Citizen.may_issue(class, 1), "{class:?}");
        }
        let guide = staff(Role::Guide, 1);
        let g = guide.grant::<GuideDesk>().expect("guide");
        assert!(Issuer::Guide(&g).may_issue(TicketClass::Love, 1));
        assert!(!Issuer::Guide(&g).may_issue(TicketClass::Love, 2));
        assert!(!Issuer::Guide(&g).may_issue(TicketClass::Appointment, 1));
        let officer = staff(Role::Officer, 1);
        let d = officer.grant::<BookingDesk>().expect("desk");
        assert!(Issuer::BookingDesk(&d).may_issue(TicketClass::Appointment, 1));
        assert!(!Issuer::BookingDesk(&d).may_issue(TicketClass::Normal, 1));
        assert!(!Issuer::BookingDesk(&d).may_issue(TicketClass::Appointment, 2));
    }
}
