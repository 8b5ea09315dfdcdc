//! 好差评 (R13): one rating per service on the five levels of GB/T 39734-2020 (一次一评), given
//! at the window evaluator or later from the citizen's ticket page; ratings are append-only;
//! every bad rating opens a follow-up case the duty leader verifies (回访核实) within a
//! deadline counted in working days, recording the outcome, the rectification (整改) and the
//! citizen's answer.
//!
//! A rating belongs to the ticket it rates, and through it to the officer who served, the
//! window, the business line and the application accepted under it. The ticket's secret token
//! (its status-page QR) is the only key a rater needs, so a rating cannot be made for a service
//! one did not receive; the unique ticket makes a second rating impossible, even at once.

mod store;
pub mod web;

use std::sync::LazyLock;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditEntry};
use crate::auth::grant::Lead;
use crate::auth::{Actor, Failure, Grant, RequestMeta};
use crate::clock::Clock;
use crate::db::Db;
use crate::domain::calendar::CountingRules;
use crate::i18n::{Lang, UserMessage};
use crate::queue::{Ticket, TicketStatus};

pub use store::{CaseRow, RatingRow};

/// The five 好差评 levels (GB/T 39735-2020), best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    VerySatisfied,
    Satisfied,
    Basic,
    Dissatisfied,
    VeryDissatisfied,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::VerySatisfied,
        Level::Satisfied,
        Level::Basic,
        Level::Dissatisfied,
        Level::VeryDissatisfied,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Level::VerySatisfied => "very_satisfied",
            Level::Satisfied => "satisfied",
            Level::Basic => "basic",
            Level::Dissatisfied => "dissatisfied",
            Level::VeryDissatisfied => "very_dissatisfied",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.code() == s)
    }

    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Level::VerySatisfied => lang.pick("非常满意", "Very satisfied"),
            Level::Satisfied => lang.pick("满意", "Satisfied"),
            Level::Basic => lang.pick("基本满意", "Fairly satisfied"),
            Level::Dissatisfied => lang.pick("不满意", "Dissatisfied"),
            Level::VeryDissatisfied => lang.pick("非常不满意", "Very dissatisfied"),
        }
    }

    /// 差评: the two levels that need reasons and open a follow-up case.
    pub fn bad(self) -> bool {
        matches!(self, Level::Dissatisfied | Level::VeryDissatisfied)
    }
}

/// Where a rating was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The tablet facing the citizen at the window, right after the service.
    Evaluator,
    /// The citizen's own phone, from the ticket page, within the link's life.
    Link,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Evaluator => "evaluator",
            Channel::Link => "link",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        [Channel::Evaluator, Channel::Link]
            .into_iter()
            .find(|c| c.code() == s)
    }
}

/// What the duty leader's verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The complaint in the rating holds: a rectification is recorded.
    Justified,
    /// It does not hold (explained to the citizen).
    Unjustified,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Justified => "justified",
            Outcome::Unjustified => "unjustified",
        }
    }
    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Justified, Outcome::Unjustified]
            .into_iter()
            .find(|o| o.code() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Outcome::Justified => lang.pick("属实", "Justified"),
            Outcome::Unjustified => lang.pick("不属实", "Not justified"),
        }
    }
}

/// A reason a citizen may tick for a bad rating (`data/ratings.toml`).
#[derive(Debug, Clone, Deserialize)]
pub struct Reason {
    pub id: String,
    pub zh: String,
    pub en: String,
}

impl Reason {
    pub fn text(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

#[derive(Deserialize)]
struct ReasonFile {
    reason: Vec<Reason>,
}

static REASONS: LazyLock<Vec<Reason>> = LazyLock::new(|| {
    // Compiled in; `the_reasons_load` below fails the build's tests if the file is wrong.
    toml::from_str::<ReasonFile>(include_str!("../../data/ratings.toml"))
        .map(|f| f.reason)
        .unwrap_or_default()
});

/// The reasons offered for a bad rating, in the file's order.
pub fn reasons() -> &'static [Reason] {
    &REASONS
}

/// A comment's longest length, in characters.
pub const COMMENT_MAX: usize = 500;

/// Why a rating or a case step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error("no such service")]
    NoSuchService,
    #[error("service not finished")]
    NotFinished,
    #[error("already rated")]
    AlreadyRated,
    #[error("rating link expired")]
    Expired,
    #[error("reasons needed")]
    ReasonsNeeded,
    #[error("unknown reason {0}")]
    UnknownReason(String),
    #[error("comment too long")]
    CommentTooLong,
    #[error("no such case")]
    NoSuchCase,
    #[error("case closed")]
    CaseClosed,
    #[error("verification text needed")]
    VerificationNeeded,
    #[error("site outside the grant")]
    OtherSite,
}

impl UserMessage for RatingError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            RatingError::NoSuchService | RatingError::NoSuchCase => StatusCode::NOT_FOUND,
            RatingError::AlreadyRated | RatingError::CaseClosed => StatusCode::CONFLICT,
            RatingError::OtherSite => StatusCode::FORBIDDEN,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            RatingError::NoSuchService => "rating.no_such_service",
            RatingError::NotFinished => "rating.not_finished",
            RatingError::AlreadyRated => "rating.already_rated",
            RatingError::Expired => "rating.expired",
            RatingError::ReasonsNeeded => "rating.reasons_needed",
            RatingError::UnknownReason(_) => "rating.unknown_reason",
            RatingError::CommentTooLong => "rating.comment_too_long",
            RatingError::NoSuchCase => "rating.no_such_case",
            RatingError::CaseClosed => "rating.case_closed",
            RatingError::VerificationNeeded => "rating.verification_needed",
            RatingError::OtherSite => "rating.other_site",
        }
    }
    fn message(&self, lang: Lang) -> String {
        match self {
            RatingError::NoSuchService => lang
                .pick("没有找到这次服务。", "There is no such service.")
                .into(),
            RatingError::NotFinished => lang
                .pick(
                    "业务办结后才能评价。",
                    "A service can be rated once it is finished.",
                )
                .into(),
            RatingError::AlreadyRated => lang
                .pick(
                    "这次服务已经评价过了，感谢您的评价。",
                    "This service has been rated already. Thank you.",
                )
                .into(),
            RatingError::Expired => lang
                .pick(
                    "评价链接已过期。如有意见，请拨打 12367 或在网上提交投诉建议。",
                    "The rating link has expired. To tell us something, call 12367 or send a complaint or suggestion online.",
                )
                .into(),
            RatingError::ReasonsNeeded => lang
                .pick(
                    "请至少选择一项不满意的原因，以便我们核实整改。",
                    "Please tick at least one reason, so that we can look into it and put it right.",
                )
                .into(),
            RatingError::UnknownReason(_) => lang
                .pick("请从列出的原因中选择。", "Choose among the reasons listed.")
                .into(),
            RatingError::CommentTooLong => match lang {
                Lang::ZhCn => format!("意见请不超过 {COMMENT_MAX} 字。"),
                Lang::En => format!("Please keep the comment within {COMMENT_MAX} characters."),
            },
            RatingError::NoSuchCase => lang
                .pick("没有这个回访核实件。", "There is no such follow-up case.")
                .into(),
            RatingError::CaseClosed => lang
                .pick(
                    "该件已办结，不能再次修改。",
                    "This case is closed and cannot be changed.",
                )
                .into(),
            RatingError::VerificationNeeded => lang
                .pick(
                    "请填写核实情况；属实的，请同时填写整改措施。",
                    "Describe what the verification found; when justified, the rectification too.",
                )
                .into(),
            RatingError::OtherSite => lang
                .pick(
                    "您不是该办证点的带班领导。",
                    "You are not a duty leader at this site.",
                )
                .into(),
        }
    }
}

type Result<T> = std::result::Result<T, Failure<RatingError>>;

fn refused<T>(e: RatingError) -> Result<T> {
    Err(Failure::Refused(e))
}

/// What ratings need from the node.
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    pub calendar: &'a crate::calendar::CalendarHandle,
    pub counting: CountingRules,
    pub rules: RatingRules,
}

/// The deadlines of the rating loop (settings).
#[derive(Debug, Clone, Copy)]
pub struct RatingRules {
    /// Days a finished service may be rated from the citizen's link.
    pub link_days: i64,
    /// Minutes after the service the window evaluator still offers it for rating.
    pub evaluator_minutes: i64,
    /// Working days the duty leader has to verify a bad rating (the acceptance of the case
    /// counts as day 0, as for promised dates).
    pub followup_working_days: u32,
}

/// What a citizen says.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RatingInput {
    pub level: Level,
    /// Reason ids from `GET /api/v1/rating-reasons`; at least one for the two bad levels.
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: String,
}

/// A rating recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rated {
    pub level: Level,
    /// The follow-up case a bad rating opened.
    pub case_id: Option<i64>,
    /// The date the duty leader must have verified it by.
    #[schema(format = Date)]
    pub due_date: Option<String>,
}

/// Whether a service can be rated through `channel` now, and why not.
fn check_rateable(t: &Ticket, channel: Channel, now: i64, rules: &RatingRules) -> Result<()> {
    let Some(finished) = t.finished_at.filter(|_| t.status == TicketStatus::Done) else {
        return refused(RatingError::NotFinished);
    };
    let window_ms = match channel {
        Channel::Evaluator => rules.evaluator_minutes * 60_000,
        Channel::Link => rules.link_days * 86_400_000,
    };
    if now - finished > window_ms {
        return refused(RatingError::Expired);
    }
    Ok(())
}

/// Checks the level's reasons and the comment; returns the reasons known, in the file's order.
fn checked_reasons(input: &RatingInput) -> Result<Vec<String>> {
    if input.comment.chars().count() > COMMENT_MAX {
        return refused(RatingError::CommentTooLong);
    }
    for r in &input.reasons {
        if !reasons().iter().any(|k| &k.id == r) {
            return refused(RatingError::UnknownReason(r.chars().take(40).collect()));
        }
    }
    if input.level.bad() && input.reasons.is_empty() {
        return refused(RatingError::ReasonsNeeded);
    }
    Ok(reasons()
        .iter()
        .filter(|k| input.reasons.contains(&k.id))
        .map(|k| k.id.clone())
        .collect())
}

/// The ticket a rating token opens.
pub async fn service(ctx: &Ctx<'_>, token: &str) -> Result<Ticket> {
    match crate::queue::ticket_by_token(ctx.db.reader(), token).await? {
        Some(t) => Ok(t),
        None => refused(RatingError::NoSuchService),
    }
}

/// Whether a finished service may still be rated through `channel` (for pages that offer it).
pub async fn rateable(ctx: &Ctx<'_>, t: &Ticket, channel: Channel) -> Result<bool> {
    if check_rateable(t, channel, ctx.clock.now_ms(), &ctx.rules).is_err() {
        return Ok(false);
    }
    Ok(store::rating_of_ticket(ctx.db.reader(), t.id)
        .await?
        .is_none())
}

/// Records the rating of the service the ticket `token` opens (一次一评). A bad rating opens a
/// follow-up case due in `followup_working_days` working days, in the same transaction.
pub async fn rate(
    ctx: &Ctx<'_>,
    token: &str,
    channel: Channel,
    input: &RatingInput,
    meta: &RequestMeta,
) -> Result<Rated> {
    let t = service(ctx, token).await?;
    let now = ctx.clock.now_ms();
    check_rateable(&t, channel, now, &ctx.rules)?;
    let reasons = checked_reasons(input)?;
    let comment = input.comment.trim();
    let application_id = crate::applications::application_of_ticket(ctx.db.reader(), t.id).await?;
    let due = if input.level.bad() {
        let today = ctx.clock.today();
        let calendar = ctx.calendar.current();
        let reckoned = calendar
            .add_working_days(today, ctx.rules.followup_working_days, &ctx.counting)
            .map_err(|e| Failure::Internal(e.to_string()))?;
        Some(reckoned.date)
    } else {
        None
    };
    let mut tx = ctx.db.begin().await?;
    let Some(id) = store::insert_rating(
        &mut tx,
        &store::NewRating {
            ticket_id: t.id,
            site_id: t.site_id,
            window_id: t.window_id,
            officer_id: t.officer_id,
            line_code: &t.line_code,
            application_id,
            level: input.level,
            reasons: &reasons,
            comment,
            channel,
            at: now,
        },
    )
    .await?
    else {
        return refused(RatingError::AlreadyRated);
    };
    let case_id = match due {
        Some(due) => Some(store::open_case(&mut tx, id, t.site_id, &due.to_string(), now).await?),
        None => None,
    };
    audit::record(
        &mut tx,
        AuditEntry::system("rating.given", "ticket", &t.number, meta, now)
            .site(t.site_id)
            .detail(serde_json::json!({
                "level": input.level.code(),
                "channel": channel.code(),
                "case": case_id,
            })),
    )
    .await?;
    tx.commit().await?;
    if case_id.is_some() {
        ctx.db.publish(
            "rating.bad",
            serde_json::json!({"site": t.site_id, "case": case_id}),
        );
    }
    Ok(Rated {
        level: input.level,
        case_id,
        due_date: due.map(|d| d.to_string()),
    })
}

/// A follow-up case as the duty leader reads it.
#[derive(Debug)]
pub struct CaseView {
    pub case: CaseRow,
    pub overdue: bool,
}

/// The actor's grant to follow up ratings; "not a duty leader here" when the actor has none.
pub fn leader(actor: &Actor) -> Result<Grant<'_, Lead>> {
    actor.grant_or(RatingError::OtherSite)
}

/// The open cases of a site (oldest deadline first, overdue marked) and those closed in the
/// last 30 days.
pub async fn cases(ctx: &Ctx<'_>, grant: &Grant<'_, Lead>, site_id: i64) -> Result<Vec<CaseView>> {
    if !grant.covers(site_id) {
        return refused(RatingError::OtherSite);
    }
    let today = ctx.clock.today();
    let since = ctx.clock.now_ms() - 30 * 86_400_000;
    Ok(store::cases_of_site(ctx.db.reader(), site_id, since)
        .await?
        .into_iter()
        .map(|case| CaseView {
            overdue: case.closed_at.is_none()
                && case.due_date.parse::<Date>().is_ok_and(|due| due < today),
            case,
        })
        .collect())
}

/// The ratings' line of the duty leader's daily digest (every site): bad-rating cases past
/// their verification date; empty when there are none.
pub async fn digest_line(ctx: &Ctx<'_>) -> Result<String> {
    let today = ctx.clock.today().to_string();
    let n = store::overdue_cases(ctx.db.reader(), &today).await?;
    Ok(digest_text(n))
}

/// The ratings' line of the digest from its count; empty when nought.
pub fn digest_text(overdue_cases: i64) -> String {
    if overdue_cases == 0 {
        String::new()
    } else {
        format!("差评回访核实超期{overdue_cases}件。")
    }
}

/// What the duty leader's verification found and did.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Verification {
    pub outcome: Outcome,
    /// What the verification found (回访核实情况).
    pub verification: String,
    /// What was put right (整改措施); required when justified.
    #[serde(default)]
    pub rectification: String,
    /// What the citizen said to the answer (群众反馈).
    #[serde(default)]
    pub citizen_reply: String,
}

/// Closes a follow-up case with its verification (once; audited).
pub async fn close_case(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Lead>,
    case_id: i64,
    v: &Verification,
) -> Result<CaseRow> {
    let actor = grant.actor();
    let Some(case) = store::case(ctx.db.reader(), case_id).await? else {
        return refused(RatingError::NoSuchCase);
    };
    if !grant.covers(case.site_id) {
        return refused(RatingError::OtherSite);
    }
    if case.closed_at.is_some() {
        return refused(RatingError::CaseClosed);
    }
    let (verification, rectification, reply) = (
        v.verification.trim(),
        v.rectification.trim(),
        v.citizen_reply.trim(),
    );
    let too_long = [verification, rectification, reply]
        .iter()
        .any(|t| t.chars().count() > 2000);
    if verification.chars().count() < 2
        || (v.outcome == Outcome::Justified && rectification.chars().count() < 2)
        || too_long
    {
        return refused(RatingError::VerificationNeeded);
    }
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    if !store::close_case(
        &mut tx,
        case_id,
        v.outcome,
        verification,
        rectification,
        reply,
        actor.staff_id,
        now,
    )
    .await?
    {
        return refused(RatingError::CaseClosed);
    }
    audit::record(
        &mut tx,
        AuditEntry::by(
            actor,
            "rating.case_closed",
            "rating_case",
            &case_id.to_string(),
            now,
        )
        .site(case.site_id)
        .detail(serde_json::json!({"outcome": v.outcome.code()})),
    )
    .await?;
    tx.commit().await?;
    match store::case(ctx.db.reader(), case_id).await? {
        Some(c) => Ok(c),
        None => refused(RatingError::NoSuchCase),
    }
}

/// A site's satisfaction since `from`: ratings per level, and the share satisfied (the three
/// good levels), as the seeds report it (e.g. Xiamen's 99.2 %).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Satisfaction {
    pub counts: Vec<(Level, i64)>,
    pub total: i64,
    /// Per mille satisfied; `None` without ratings.
    pub satisfied_permille: Option<i64>,
}

pub async fn satisfaction(ctx: &Ctx<'_>, site_id: i64, from: i64) -> Result<Satisfaction> {
    let rows = store::ratings_since(ctx.db.reader(), site_id, from).await?;
    let counts: Vec<(Level, i64)> = Level::ALL
        .iter()
        .map(|l| (*l, rows.iter().filter(|r| r.level == *l).count() as i64))
        .collect();
    let total = rows.len() as i64;
    let good = rows.iter().filter(|r| !r.level.bad()).count() as i64;
    Ok(Satisfaction {
        counts,
        total,
        satisfied_permille: (total > 0).then(|| good * 1000 / total),
    })
}

/// The rating of a ticket, if given.
pub async fn rating_of(ctx: &Ctx<'_>, ticket_id: i64) -> Result<Option<RatingRow>> {
    Ok(store::rating_of_ticket(ctx.db.reader(), ticket_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reasons_load_with_unique_ids_and_both_languages() {
        let all = reasons();
        assert!(all.len() >= 5);
        let mut ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "duplicate reason ids");
        for r in all {
            assert!(
                !r.zh.trim().is_empty() && !r.en.trim().is_empty(),
                "{}",
                r.id
            );
        }
    }

    #[test]
    fn bad_levels_need_a_known_reason() {
        let input = |level, reasons: &[&str]| RatingInput {
            level,
            reasons: reasons.iter().map(|s| s.to_string()).collect(),
            comment: String::new(),
        };
        assert!(checked_reasons(&input(Level::Satisfied, &[])).is_ok());
        assert!(matches!(
            checked_reasons(&input(Level::Dissatisfied, &[])),
            Err(Failure::Refused(RatingError::ReasonsNeeded))
        ));
        assert!(matches!(
            checked_reasons(&input(Level::VeryDissatisfied, &["bribe"])),
            Err(Failure::Refused(RatingError::UnknownReason(_)))
        ));
        assert_eq!(
            checked_reasons(&input(Level::VeryDissatisfied, &["other", "slow"]))
                .ok()
                .as_deref(),
            Some(&["slow".to_string(), "other".to_string()][..])
        );
        for l in Level::ALL {
            assert_eq!(Level::parse(l.code()), Some(l));
            assert_ne!(l.name(Lang::ZhCn), l.name(Lang::En));
        }
    }
}
