//! Daily callbacks (每日回访, R13): each working day, per site, a reproducible random sample of
//! the citizens served on the previous working day, never one who declined contact, becomes the
//! callback list of the designated staff; each call follows the script in `data/callbacks.toml`,
//! up to three attempts, every attempt kept, every reveal of a phone number audited.
//!
//! The sample is drawn by ranking the day's candidates by SHA-256 of the list's recorded seed
//! and the application number and keeping the first `sample_size`: anyone holding the seed and
//! the records can draw it again and get the same citizens (see [`redraw`]).

mod store;
pub mod web;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{self, AuditEntry};
use crate::auth::grant::MakeCallbacks;
use crate::auth::{Actor, Failure, Grant};
use crate::clock::Clock;
use crate::db::Db;
use crate::i18n::{Lang, UserMessage};
use crate::privacy::{BlindIndex, Cipher};

pub use store::{ItemRow, ListRow};

/// A question of the callback script.
#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    #[serde(default)]
    pub required: bool,
    pub zh: String,
    pub en: String,
    #[serde(default)]
    pub options: Vec<AnswerOption>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Choice,
    Text,
}

/// One answer a choice question offers.
#[derive(Debug, Clone, Deserialize)]
pub struct AnswerOption {
    pub value: String,
    pub zh: String,
    pub en: String,
}

impl Question {
    pub fn text(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

impl AnswerOption {
    pub fn text(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

#[derive(Deserialize)]
struct ScriptFile {
    question: Vec<Question>,
}

static SCRIPT: LazyLock<Vec<Question>> = LazyLock::new(|| {
    // Compiled in; `the_script_loads` below fails the tests if the file is wrong.
    toml::from_str::<ScriptFile>(include_str!("../../data/callbacks.toml"))
        .map(|f| f.question)
        .unwrap_or_default()
});

/// The callback script, in the file's order.
pub fn script() -> &'static [Question] {
    &SCRIPT
}

/// How one call attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The citizen answered; the script's answers are recorded.
    Reached,
    /// Nobody answered (the call is tried again, three attempts in all).
    NoAnswer,
    /// The citizen declined to answer.
    Refused,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Reached, Outcome::NoAnswer, Outcome::Refused];
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Reached => "reached",
            Outcome::NoAnswer => "no_answer",
            Outcome::Refused => "refused",
        }
    }
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.code() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Outcome::Reached => lang.pick("已接通", "Reached"),
            Outcome::NoAnswer => lang.pick("无人接听", "No answer"),
            Outcome::Refused => lang.pick("拒绝回访", "Declined"),
        }
    }
}

/// Where a citizen on the list stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Still to be called (fewer than three attempts so far).
    Pending,
    Reached,
    Refused,
    /// Three attempts, no answer.
    Unreachable,
}

impl ItemStatus {
    pub fn code(self) -> &'static str {
        match self {
            ItemStatus::Pending => "pending",
            ItemStatus::Reached => "reached",
            ItemStatus::Refused => "refused",
            ItemStatus::Unreachable => "unreachable",
        }
    }
    pub fn parse(s: &str) -> Option<ItemStatus> {
        [
            ItemStatus::Pending,
            ItemStatus::Reached,
            ItemStatus::Refused,
            ItemStatus::Unreachable,
        ]
        .into_iter()
        .find(|o| o.code() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            ItemStatus::Pending => lang.pick("待回访", "To call"),
            ItemStatus::Reached => lang.pick("已回访", "Done"),
            ItemStatus::Refused => lang.pick("拒绝回访", "Declined"),
            ItemStatus::Unreachable => lang.pick("三次未接通", "Unreachable (3 attempts)"),
        }
    }
}

/// Attempts per citizen (issue 15: up to three).
pub const MAX_ATTEMPTS: i64 = 3;
/// A note's longest length, in characters.
pub const NOTE_MAX: usize = 500;

/// Why a callback step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("not your role")]
    NotYourRole,
    #[error("other site")]
    OtherSite,
    #[error("no such item")]
    NoSuchItem,
    #[error("finished")]
    Finished,
    #[error("answer missing: {0}")]
    AnswerMissing(String),
    #[error("unknown answer: {0}")]
    UnknownAnswer(String),
    #[error("note too long")]
    NoteTooLong,
    #[error("not a working day")]
    NotWorkingDay,
}

impl UserMessage for CallbackError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            CallbackError::NotYourRole | CallbackError::OtherSite => StatusCode::FORBIDDEN,
            CallbackError::NoSuchItem => StatusCode::NOT_FOUND,
            CallbackError::Finished => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            CallbackError::NotYourRole => "callback.not_your_role",
            CallbackError::OtherSite => "callback.other_site",
            CallbackError::NoSuchItem => "callback.no_such_item",
            CallbackError::Finished => "callback.finished",
            CallbackError::AnswerMissing(_) => "callback.answer_missing",
            CallbackError::UnknownAnswer(_) => "callback.unknown_answer",
            CallbackError::NoteTooLong => "callback.note_too_long",
            CallbackError::NotWorkingDay => "callback.not_working_day",
        }
    }
    fn message(&self, lang: Lang) -> String {
        let question = |id: &str| {
            script()
                .iter()
                .find(|q| q.id == id)
                .map(|q| q.text(lang).to_string())
                .unwrap_or_else(|| id.to_string())
        };
        match self {
            CallbackError::NotYourRole => lang
                .pick("您没有回访的权限。", "You do not make callbacks.")
                .into(),
            CallbackError::OtherSite => lang
                .pick(
                    "您没有该办证点的回访权限。",
                    "You do not make callbacks for this site.",
                )
                .into(),
            CallbackError::NoSuchItem => lang
                .pick(
                    "回访名单中没有这一条。",
                    "No such entry on a callback list.",
                )
                .into(),
            CallbackError::Finished => lang
                .pick(
                    "这位群众的回访已经结束（已接通、已拒绝或已拨打三次）。",
                    "This callback is over (reached, declined, or tried three times).",
                )
                .into(),
            CallbackError::AnswerMissing(id) => match lang {
                Lang::ZhCn => format!("已接通的回访须回答：{}", question(id)),
                Lang::En => format!("A reached call needs an answer to: {}", question(id)),
            },
            CallbackError::UnknownAnswer(id) => match lang {
                Lang::ZhCn => format!("答案不在选项中：{}", question(id)),
                Lang::En => format!("That answer is not one of the options: {}", question(id)),
            },
            CallbackError::NoteTooLong => lang
                .pick(
                    "记录不能超过 500 字。",
                    "The note may have at most 500 characters.",
                )
                .into(),
            CallbackError::NotWorkingDay => lang
                .pick(
                    "今天不是工作日，没有回访名单。",
                    "Today is not a working day: there is no callback list.",
                )
                .into(),
        }
    }
}

type Result<T> = std::result::Result<T, Failure<CallbackError>>;

fn refused<T>(e: CallbackError) -> Result<T> {
    Err(Failure::Refused(e))
}

/// What callbacks need from the node.
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    pub cipher: &'a Cipher,
    pub calendar: &'a crate::calendar::CalendarHandle,
    /// Citizens drawn per site and working day (setting `callback_sample_size`, default 10).
    pub sample_size: u32,
}

/// The actor's grant to make callbacks.
pub fn caller(actor: &Actor) -> Result<Grant<'_, MakeCallbacks>> {
    actor.grant_or(CallbackError::NotYourRole)
}

/// The working day before `day` on the national calendar (weekends, holidays and adjusted
/// working days, `data/calendar`); `None` if none within a month (a calendar not loaded).
pub fn previous_working_day(
    calendar: &crate::domain::calendar::HolidayCalendar,
    day: jiff::civil::Date,
) -> Option<jiff::civil::Date> {
    let mut d = day;
    for _ in 0..31 {
        d = d.yesterday().ok()?;
        if calendar.is_working_day(d).ok()? {
            return Some(d);
        }
    }
    None
}

/// Ranks `candidates` (application id, application number) by SHA-256(seed ‖ number) and
/// keeps the first `n`: the same seed and candidates always give the same sample, in the same
/// order.
pub fn draw_sample(seed: &str, candidates: &[(i64, String)], n: usize) -> Vec<i64> {
    let mut ranked: Vec<([u8; 32], i64)> = candidates
        .iter()
        .map(|(id, no)| {
            let mut h = Sha256::new();
            h.update(seed.as_bytes());
            h.update(b":");
            h.update(no.as_bytes());
            (h.finalize().into(), *id)
        })
        .collect();
    ranked.sort();
    ranked.into_iter().take(n).map(|(_, id)| id).collect()
}

/// The site's callback list for `day`, drawn now if there is none yet. Drawing twice at once
/// is harmless: one list per site and day (a unique key); the loser reads the winner's.
pub async fn list_for_day(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, MakeCallbacks>,
    site_id: i64,
    day: jiff::civil::Date,
) -> Result<ListRow> {
    if !grant.covers(site_id) {
        return refused(CallbackError::OtherSite);
    }
    draw(ctx, site_id, day, Some(grant.actor())).await
}

/// Draws `day`'s list for every active site with windows (the worker does this each working
/// morning, so the list is ready before anyone opens it); the number of lists drawn now.
pub async fn draw_all(ctx: &Ctx<'_>, day: jiff::civil::Date) -> Result<usize> {
    if !ctx
        .calendar
        .current()
        .is_working_day(day)
        .map_err(|e| Failure::Internal(e.to_string()))?
    {
        return Ok(0);
    }
    let mut drawn = 0;
    for site in crate::sites::list_sites(ctx.db.reader(), true).await? {
        if crate::sites::windows_of(ctx.db.reader(), site.id)
            .await?
            .is_empty()
        {
            continue;
        }
        let day_text = day.to_string();
        if store::list(ctx.db.reader(), site.id, &day_text)
            .await?
            .is_none()
        {
            draw(ctx, site.id, day, None).await?;
            drawn += 1;
        }
    }
    Ok(drawn)
}

/// The site's list for `day`, drawn now if there is none; `by` the staff member whose opening
/// drew it (`None`: the morning worker).
async fn draw(
    ctx: &Ctx<'_>,
    site_id: i64,
    day: jiff::civil::Date,
    by: Option<&Actor>,
) -> Result<ListRow> {
    let day_text = day.to_string();
    if let Some(list) = store::list(ctx.db.reader(), site_id, &day_text).await? {
        return Ok(list);
    }
    let calendar = ctx.calendar.current();
    // A day the calendar cannot tell about is a fault to fix, not a day off.
    if !calendar
        .is_working_day(day)
        .map_err(|e| Failure::Internal(e.to_string()))?
    {
        return refused(CallbackError::NotWorkingDay);
    }
    let served = previous_working_day(&calendar, day)
        .ok_or_else(|| Failure::Internal("no working day in the month before".into()))?;
    let now = ctx.clock.now_ms();
    let candidates = candidates(ctx, site_id, served, now).await?;
    let seed = crate::crypto::random_token();
    let chosen = draw_sample(&seed, &candidates, ctx.sample_size as usize);
    let mut tx = ctx.db.begin().await?;
    let inserted = store::insert_list(
        &mut tx,
        &store::NewList {
            site_id,
            day: &day_text,
            served_day: &served.to_string(),
            seed: &seed,
            sample_size: ctx.sample_size as i64,
            population: candidates.len() as i64,
            drawn_at: now,
        },
    )
    .await?;
    let Some(list_id) = inserted else {
        drop(tx);
        return store::list(ctx.db.reader(), site_id, &day_text)
            .await?
            .ok_or_else(|| Failure::Internal("callback list vanished".into()));
    };
    for application_id in &chosen {
        store::insert_item(&mut tx, list_id, *application_id).await?;
    }
    let target = list_id.to_string();
    let entry = match by {
        Some(actor) => AuditEntry::by(actor, "callback.list_drawn", "callback_list", &target, now),
        None => AuditEntry::system(
            "callback.list_drawn",
            "callback_list",
            &target,
            &crate::auth::RequestMeta::default(),
            now,
        ),
    };
    audit::record(
        &mut tx,
        entry.site(site_id).detail(serde_json::json!({
            "day": day_text, "served_day": served.to_string(), "seed": seed,
            "population": candidates.len(), "drawn": chosen.len(),
        })),
    )
    .await?;
    tx.commit().await?;
    store::list(ctx.db.reader(), site_id, &day_text)
        .await?
        .ok_or_else(|| Failure::Internal("callback list vanished".into()))
}

/// The citizens served at `site_id` on `served` who had not declined contact by `as_of`: one
/// per person (their first application), as (application id, application number). Matched by
/// person from the sealed ID numbers rather than by joining stored indexes, so a key rotation's
/// rebuild (which holds rows under two forms for a while) neither lets a decline slip nor draws
/// a person twice, and a list redrawn later gives the same sample.
async fn candidates(
    ctx: &Ctx<'_>,
    site_id: i64,
    served: jiff::civil::Date,
    as_of: i64,
) -> Result<Vec<(i64, String)>> {
    let declined = store::opted_out_by(ctx.db.reader(), as_of).await?;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (id, no, id_sealed) in store::served_applications(ctx.db.reader(), site_id, served).await? {
        // Erased after its retention period: nobody left to call.
        if crate::privacy::is_erased(&id_sealed) {
            continue;
        }
        let person = ctx
            .cipher
            .blind_index_of_sealed(&id_sealed)
            .map_err(|_| Failure::Internal(format!("application {no}: ID number does not open")))?;
        if person.forms().iter().any(|f| declined.contains(*f)) {
            continue;
        }
        if seen.insert(person.newest().to_owned()) {
            out.push((id, no));
        }
    }
    Ok(out)
}

/// Draws a recorded list's sample again from its seed and the records (citizens served that
/// day, less those who had declined contact when it was drawn): the application ids, in the
/// order drawn. Equal to the list's items unless the records were changed.
pub async fn redraw(ctx: &Ctx<'_>, list: &ListRow) -> Result<Vec<i64>> {
    let served = list
        .served_day
        .parse::<jiff::civil::Date>()
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let candidates = candidates(ctx, list.site_id, served, list.drawn_at).await?;
    Ok(draw_sample(
        &list.seed,
        &candidates,
        list.sample_size as usize,
    ))
}

/// A citizen on the list, as the caller sees it (name and phone masked).
#[derive(Debug, Clone)]
pub struct ItemView {
    pub item: ItemRow,
    pub application_no: String,
    pub masked_name: String,
    pub masked_phone: String,
    pub officer: Option<(String, String)>,
    pub attempts: Vec<store::AttemptRow>,
    /// The citizen has declined callbacks (now, whenever they did).
    pub declined: bool,
}

/// The list's citizens with their attempts, in the order drawn.
pub async fn items(ctx: &Ctx<'_>, list: &ListRow) -> Result<Vec<ItemView>> {
    let mut out = Vec::new();
    let mut conn = ctx.db.reader().acquire().await?;
    for item in store::items(&mut *conn, list.id).await? {
        let Some(app) = crate::applications::application(&mut *conn, item.application_id).await?
        else {
            continue;
        };
        // Sealed by us: a name or phone that does not open or parse is our fault, and says so;
        // one erased after its retention period (an old list) is shown as erased.
        let fault =
            |what: &str| Failure::Internal(format!("application {}: {what}", app.application_no));
        let (masked_name, masked_phone) = if crate::privacy::is_erased(&app.name_sealed) {
            let erased = crate::privacy::ERASED_SHOWN.to_string();
            (erased.clone(), erased)
        } else {
            let name = ctx
                .cipher
                .open(&app.name_sealed)
                .map_err(|_| fault("name does not open"))?;
            let phone = ctx
                .cipher
                .open(&app.phone_sealed)
                .map_err(|_| fault("phone does not open"))?;
            let masked_phone = crate::domain::phone::PhoneNumber::parse(&phone)
                .map_err(|_| fault("stored phone does not parse"))?
                .masked();
            (crate::domain::masking::mask_name(&name), masked_phone)
        };
        let officer = match item.officer_id {
            Some(id) => crate::auth::account_by_id(&mut conn, id)
                .await?
                .map(|a| (a.display_name, a.badge_no)),
            None => None,
        };
        let attempts = store::attempts(&mut *conn, item.id).await?;
        let person = ctx
            .cipher
            .blind_index_of_sealed(&app.id_sealed)
            .map_err(|_| fault("ID number does not open"))?;
        let declined = store::opted_out(&mut *conn, &person).await?;
        out.push(ItemView {
            declined,
            application_no: app.application_no,
            masked_name,
            masked_phone,
            officer,
            attempts,
            item,
        });
    }
    Ok(out)
}

async fn item_in_grant(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, MakeCallbacks>,
    item_id: i64,
) -> Result<(ItemRow, ListRow)> {
    let item = store::item(ctx.db.reader(), item_id)
        .await?
        .ok_or(Failure::Refused(CallbackError::NoSuchItem))?;
    let list = store::list_by_id(ctx.db.reader(), item.list_id)
        .await?
        .ok_or(Failure::Refused(CallbackError::NoSuchItem))?;
    if !grant.covers(list.site_id) {
        // Same answer as a missing item: a guessed id learns nothing.
        return refused(CallbackError::NoSuchItem);
    }
    Ok((item, list))
}

/// Shows the caller the citizen's phone number to dial; every reveal is audited (who, whose,
/// when), in the same transaction as nothing else, so a reveal is never unrecorded.
pub async fn reveal_phone(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, MakeCallbacks>,
    item_id: i64,
) -> Result<String> {
    let (item, list) = item_in_grant(ctx, grant, item_id).await?;
    let app = crate::applications::application(ctx.db.reader(), item.application_id)
        .await?
        .ok_or(Failure::Refused(CallbackError::NoSuchItem))?;
    // Erased after its retention period: there is no number left to call.
    if crate::privacy::is_erased(&app.phone_sealed) {
        return refused(CallbackError::NoSuchItem);
    }
    let phone = ctx
        .cipher
        .open(&app.phone_sealed)
        .map_err(|_| Failure::Internal("phone does not open".into()))?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            grant.actor(),
            "personal_data.read",
            "application",
            &app.application_no,
            now,
        )
        .site(list.site_id)
        .detail(serde_json::json!({"view": "callback.phone", "item": item.id})),
    )
    .await?;
    tx.commit().await?;
    Ok(phone)
}

/// One attempt as the caller records it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AttemptInput {
    pub outcome: Outcome,
    /// Script question id → the answer (an option's value, or text). Only for `reached`.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    #[serde(default)]
    pub note: String,
    /// The citizen asked not to be called again (kept; future samples leave them out).
    #[serde(default)]
    pub decline_contact: bool,
}

/// Checks a reached call's answers against the script: every required question answered, each
/// choice one of its options; unknown questions are refused, blank optional ones dropped.
pub fn check_answers(
    answers: &BTreeMap<String, String>,
) -> std::result::Result<BTreeMap<String, String>, CallbackError> {
    let mut kept = BTreeMap::new();
    for id in answers.keys() {
        if !script().iter().any(|q| &q.id == id) {
            return Err(CallbackError::UnknownAnswer(id.clone()));
        }
    }
    for q in script() {
        let given = answers.get(&q.id).map(|a| a.trim()).unwrap_or_default();
        if given.is_empty() {
            if q.required {
                return Err(CallbackError::AnswerMissing(q.id.clone()));
            }
            continue;
        }
        match q.kind {
            QuestionKind::Choice if !q.options.iter().any(|o| o.value == given) => {
                return Err(CallbackError::UnknownAnswer(q.id.clone()));
            }
            QuestionKind::Text if given.chars().count() > NOTE_MAX => {
                return Err(CallbackError::NoteTooLong);
            }
            _ => {}
        }
        kept.insert(q.id.clone(), given.to_string());
    }
    Ok(kept)
}

/// Records one call attempt: the attempt is numbered 1–3 (two callers at once cannot both
/// record the same attempt), the item moves on, a decline of contact is kept for good.
pub async fn record_attempt(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, MakeCallbacks>,
    item_id: i64,
    input: &AttemptInput,
) -> Result<ItemRow> {
    let note = input.note.trim();
    if note.chars().count() > NOTE_MAX {
        return refused(CallbackError::NoteTooLong);
    }
    let (item, list) = item_in_grant(ctx, grant, item_id).await?;
    if item.status != ItemStatus::Pending || item.attempts >= MAX_ATTEMPTS {
        return refused(CallbackError::Finished);
    }
    let answers = if input.outcome == Outcome::Reached {
        check_answers(&input.answers).map_err(Failure::Refused)?
    } else {
        BTreeMap::new()
    };
    let attempt = item.attempts + 1;
    let status = match input.outcome {
        Outcome::Reached => ItemStatus::Reached,
        Outcome::Refused => ItemStatus::Refused,
        Outcome::NoAnswer if attempt >= MAX_ATTEMPTS => ItemStatus::Unreachable,
        Outcome::NoAnswer => ItemStatus::Pending,
    };
    let answers_json =
        serde_json::to_string(&answers).map_err(|e| Failure::Internal(e.to_string()))?;
    let now = ctx.clock.now_ms();
    let actor = grant.actor();
    let mut tx = ctx.db.begin().await?;
    // Conditional on the attempts read: a concurrent attempt makes this one lose cleanly.
    if !store::advance(
        &mut tx,
        item.id,
        item.attempts,
        status,
        (input.outcome == Outcome::Reached).then_some(answers_json.as_str()),
    )
    .await?
    {
        return refused(CallbackError::Finished);
    }
    store::insert_attempt(
        &mut tx,
        &store::NewAttempt {
            item_id: item.id,
            attempt,
            at: now,
            staff_id: actor.staff_id,
            outcome: input.outcome,
            answers: &answers_json,
            note,
        },
    )
    .await?;
    if input.decline_contact {
        let app = crate::applications::application(&mut *tx, item.application_id)
            .await?
            .ok_or(Failure::Refused(CallbackError::NoSuchItem))?;
        let person = ctx
            .cipher
            .blind_index_of_sealed(&app.id_sealed)
            .map_err(|_| Failure::Internal("ID number does not open".into()))?;
        store::opt_out(&mut tx, &person, now, "callback").await?;
    }
    audit::record(
        &mut tx,
        AuditEntry::by(
            actor,
            "callback.attempt",
            "callback_item",
            &item.id.to_string(),
            now,
        )
        .site(list.site_id)
        .detail(serde_json::json!({
            "attempt": attempt, "outcome": input.outcome.code(),
            "decline_contact": input.decline_contact,
        })),
    )
    .await?;
    tx.commit().await?;
    store::item(ctx.db.reader(), item.id)
        .await?
        .ok_or(Failure::Refused(CallbackError::NoSuchItem))
}

/// The citizen declines callbacks (from their progress page): kept by their ID index, so no
/// later list draws them, whichever application they make.
pub async fn decline_contact(ctx: &Ctx<'_>, person: &BlindIndex) -> Result<()> {
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    store::opt_out(&mut tx, person, now, "progress").await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the citizen has declined callbacks.
pub async fn declined(ctx: &Ctx<'_>, person: &BlindIndex) -> Result<bool> {
    Ok(store::opted_out(ctx.db.reader(), person).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_loads() {
        assert!(script().len() >= 4);
        for q in script() {
            assert!(!q.zh.is_empty() && !q.en.is_empty(), "{}", q.id);
            if q.kind == QuestionKind::Choice {
                assert!(q.options.len() >= 2, "{}", q.id);
            }
        }
        assert!(script().iter().any(|q| q.id == "one_trip"));
    }

    #[test]
    fn a_seed_draws_the_same_sample_and_another_seed_another() {
        let candidates: Vec<(i64, String)> =
            (1..=50).map(|i| (i, format!("3301{i:014}"))).collect();
        let a = draw_sample("seed-a", &candidates, 10);
        assert_eq!(a.len(), 10);
        assert_eq!(a, draw_sample("seed-a", &candidates, 10));
        // Candidate order does not matter.
        let mut reversed = candidates.clone();
        reversed.reverse();
        assert_eq!(a, draw_sample("seed-a", &reversed, 10));
        assert_ne!(a, draw_sample("seed-b", &candidates, 10));
        // Fewer candidates than the sample: all of them.
        assert_eq!(draw_sample("s", &candidates[..3], 10).len(), 3);
    }

    #[test]
    fn answers_are_checked_against_the_script() {
        let mut a = BTreeMap::new();
        assert_eq!(
            check_answers(&a),
            Err(CallbackError::AnswerMissing("satisfaction".into()))
        );
        a.insert("satisfaction".into(), "satisfied".into());
        a.insert("one_trip".into(), "yes".into());
        a.insert("improper".into(), "no".into());
        a.insert("conduct".into(), "good".into());
        assert!(check_answers(&a).is_ok());
        a.insert("conduct".into(), "splendid".into());
        assert_eq!(
            check_answers(&a),
            Err(CallbackError::UnknownAnswer("conduct".into()))
        );
        a.insert("conduct".into(), "good".into());
        a.insert("weather".into(), "fine".into());
        assert_eq!(
            check_answers(&a),
            Err(CallbackError::UnknownAnswer("weather".into()))
        );
    }
}
