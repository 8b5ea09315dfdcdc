//! Complaints and suggestions (R13): registered from every channel (12367, 12345 transfers, the
//! hall's box, the web, the window), each with its number, what it concerns, the citizen's
//! contact (sealed); handled by the site's duty leader within a deadline in working days,
//! answered to the citizen, the citizen's satisfaction with the answer recorded, and the
//! accountability (责任追究) found when justified. Overdue and repeated complaints are marked
//! for the duty leader. Complaints are never deleted and every step is an append-only event;
//! the citizen follows theirs with its number and their phone number.

mod store;
pub mod web;

use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditEntry};
use crate::auth::grant::{Lead, TakeComplaints};
use crate::auth::{Actor, Failure, Grant, RequestMeta};
use crate::clock::Clock;
use crate::db::Db;
use crate::domain::calendar::CountingRules;
use crate::domain::phone::PhoneNumber;
use crate::i18n::{Lang, UserMessage};
use crate::privacy::Cipher;

pub use store::ComplaintRow;

macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }
            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.code() == s)
            }
            pub fn name(self, lang: Lang) -> &'static str {
                match self {
                    $($name::$variant => lang.pick($zh, $en),)+
                }
            }
        }
    };
}

code_enum! {
    /// Where a complaint came in.
    ComplaintChannel {
        /// 12367, the exit-entry service hotline.
        #[serde(rename = "hotline_12367")]
        Hotline12367 = "hotline_12367", "12367 服务热线", "12367 hotline";
        /// Transferred from 12345, the city's government hotline.
        #[serde(rename = "hotline_12345")]
        Hotline12345 = "hotline_12345", "12345 政务服务热线转办", "12345 city hotline (transferred)";
        /// The hall's complaint box.
        Box = "box", "大厅意见箱", "Hall complaint box";
        /// The web or phone page.
        Web = "web", "网上投诉建议", "Online";
        /// Said at a window and written down there.
        Window = "window", "窗口现场", "At a window";
    }
}

code_enum! {
    /// What a complaint is about.
    Category {
        Attitude = "attitude", "服务态度", "Conduct";
        Efficiency = "efficiency", "办事效率", "Waiting and speed";
        Fees = "fees", "收费问题", "Fees";
        Materials = "materials", "材料与告知", "Materials and instructions";
        Integrity = "integrity", "廉政问题", "Integrity";
        Environment = "environment", "环境与设备", "Hall and machines";
        Suggestion = "suggestion", "意见建议", "Suggestion";
        Other = "other", "其他", "Other";
    }
}

code_enum! {
    /// Where a complaint stands.
    Status {
        /// Received, being handled.
        Open = "open", "办理中", "Being handled";
        /// Answered to the citizen; their satisfaction with the answer is awaited.
        Answered = "answered", "已答复", "Answered";
        /// The citizen's satisfaction with the answer is recorded.
        Closed = "closed", "已办结", "Closed";
    }
}

/// Why a complaint step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComplaintError {
    #[error("content")]
    Content,
    #[error("name")]
    Name,
    #[error("phone")]
    Phone,
    #[error("unknown site")]
    UnknownSite,
    #[error("application number")]
    ApplicationNo,
    #[error("no such window")]
    NoSuchWindow,
    #[error("category")]
    Category,
    #[error("finding needed")]
    FindingNeeded,
    #[error("channel not allowed")]
    Channel,
    #[error("not found")]
    NotFound,
    #[error("wrong state")]
    WrongState,
    #[error("answer needed")]
    AnswerNeeded,
    #[error("accountability needed")]
    AccountabilityNeeded,
    #[error("other site")]
    OtherSite,
    #[error("no such officer")]
    NoSuchOfficer,
    #[error("no such handler")]
    NoSuchHandler,
}

impl UserMessage for ComplaintError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            ComplaintError::NotFound => StatusCode::NOT_FOUND,
            ComplaintError::WrongState => StatusCode::CONFLICT,
            ComplaintError::OtherSite => StatusCode::FORBIDDEN,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            ComplaintError::Content => "complaint.content",
            ComplaintError::Name => "complaint.name",
            ComplaintError::Phone => "complaint.phone",
            ComplaintError::UnknownSite => "complaint.unknown_site",
            ComplaintError::ApplicationNo => "complaint.application_no",
            ComplaintError::NoSuchWindow => "complaint.no_such_window",
            ComplaintError::Category => "complaint.category",
            ComplaintError::FindingNeeded => "complaint.finding_needed",
            ComplaintError::Channel => "complaint.channel",
            ComplaintError::NotFound => "complaint.not_found",
            ComplaintError::WrongState => "complaint.wrong_state",
            ComplaintError::AnswerNeeded => "complaint.answer_needed",
            ComplaintError::AccountabilityNeeded => "complaint.accountability_needed",
            ComplaintError::OtherSite => "complaint.other_site",
            ComplaintError::NoSuchOfficer => "complaint.no_such_officer",
            ComplaintError::NoSuchHandler => "complaint.no_such_handler",
        }
    }
    fn message(&self, lang: Lang) -> String {
        let (zh, en) = match self {
            ComplaintError::Content => (
                "请写明投诉或建议的内容（10–2000 字）。",
                "Please describe the complaint or suggestion (10–2000 characters).",
            ),
            ComplaintError::Name => (
                "请填写您的姓名或称呼（1–40 字）。",
                "Please give your name (1–40 characters).",
            ),
            ComplaintError::Phone => (
                "请填写正确的联系电话，以便我们答复您。",
                "Please give a valid phone number, so that we can answer you.",
            ),
            ComplaintError::UnknownSite => ("没有这个办证点。", "There is no such site."),
            ComplaintError::NoSuchWindow => (
                "该办证点没有这个窗口号，请核对，或不填。（填写窗口号时请同时选择办证点）",
                "That site has no such window number; check it or leave it out (choose the site too).",
            ),
            ComplaintError::Category => (
                "请选择投诉建议的类别。",
                "Choose what the complaint is about.",
            ),
            ComplaintError::FindingNeeded => (
                "请选择核实结果：属实或不属实。",
                "Choose the finding: justified or not justified.",
            ),
            ComplaintError::ApplicationNo => (
                "申请编号有误，请核对（18位数字），或不填。",
                "The application number is not valid (18 digits); check it or leave it out.",
            ),
            ComplaintError::Channel => (
                "网上只能提交网上投诉；电话、意见箱和窗口的投诉由工作人员登记。",
                "Online forms register online complaints; staff register those from hotlines, the box and windows.",
            ),
            ComplaintError::NotFound => (
                "没有找到这件投诉，请核对编号和联系电话。",
                "No complaint matches that number and phone number.",
            ),
            ComplaintError::WrongState => (
                "该投诉当前状态不能进行这一步。",
                "This complaint is not at a stage where that can be done.",
            ),
            ComplaintError::AnswerNeeded => (
                "请填写给群众的答复（10–2000 字）。",
                "Write the answer to the citizen (10–2000 characters).",
            ),
            ComplaintError::AccountabilityNeeded => (
                "投诉属实的，请填写责任追究情况。",
                "When the complaint is justified, record the accountability.",
            ),
            ComplaintError::OtherSite => (
                "您在该办证点没有处理投诉的权限。",
                "You do not handle complaints at this site.",
            ),
            ComplaintError::NoSuchOfficer => (
                "该办证点没有这个警号的民警，请核对服务监督牌上的警号，或不填。（填写警号时请同时选择办证点）",
                "No officer of that site has this badge number; check it on the supervision card or leave it out (choose the site too).",
            ),
            ComplaintError::NoSuchHandler => (
                "只能交给该办证点在岗的工作人员办理。",
                "A complaint can only be assigned to active staff of its site.",
            ),
        };
        lang.pick(zh, en).into()
    }
}

type Result<T> = std::result::Result<T, Failure<ComplaintError>>;

fn refused<T>(e: ComplaintError) -> Result<T> {
    Err(Failure::Refused(e))
}

/// What complaints need from the node.
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    pub cipher: &'a Cipher,
    pub calendar: &'a crate::calendar::CalendarHandle,
    pub counting: CountingRules,
    /// Working days a complaint must be answered in.
    pub answer_working_days: u32,
    /// The duty leader's phone: repeated complaints are texted at once (setting
    /// `duty_leader_phone`; none: the list and the daily digest still show them).
    pub leader_phone: Option<PhoneNumber>,
}

/// A complaint or suggestion as the citizen or the registering staff member gives it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ComplaintInput {
    pub channel: ComplaintChannel,
    pub category: Category,
    /// The site concerned (4-digit code), if known.
    #[serde(
        default,
        deserialize_with = "crate::web::fields::SiteCodeText::deserialize_opt_string"
    )]
    #[schema(value_type = Option<crate::web::fields::SiteCodeText>)]
    pub site: Option<String>,
    /// The window concerned (its number at the site), if known.
    #[serde(default)]
    pub window: Option<i64>,
    /// The application concerned, if any.
    #[serde(
        default,
        deserialize_with = "crate::web::fields::ApplicationNoText::deserialize_opt_string"
    )]
    #[schema(value_type = Option<crate::web::fields::ApplicationNoText>)]
    pub application_no: Option<String>,
    /// The badge number (警号) of the officer concerned, as on their supervision card, if
    /// known (with the site). Left out, the officer who accepted the application is taken.
    #[serde(default)]
    #[schema(max_length = 20)]
    pub officer_badge: Option<String>,
    pub content: String,
    pub name: String,
    #[serde(deserialize_with = "crate::web::fields::PhoneText::deserialize_string")]
    #[schema(value_type = crate::web::fields::PhoneText)]
    pub phone: String,
}

/// Who registers a complaint: the citizen online, or staff for the other channels.
pub enum Registrar<'a> {
    Citizen,
    Staff(&'a Grant<'a, TakeComplaints>),
}

/// A complaint registered: its number and the date it will be answered by.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub number: String,
    #[schema(format = Date)]
    pub due_date: String,
}

/// Registers a complaint: numbered `TS` + date + sequence, due in `answer_working_days`
/// working days, the contact sealed.
pub async fn register(
    ctx: &Ctx<'_>,
    registrar: Registrar<'_>,
    input: &ComplaintInput,
    meta: &RequestMeta,
) -> Result<Registered> {
    let staff = match registrar {
        Registrar::Citizen if input.channel != ComplaintChannel::Web => {
            return refused(ComplaintError::Channel);
        }
        Registrar::Staff(_) if input.channel == ComplaintChannel::Web => {
            return refused(ComplaintError::Channel);
        }
        Registrar::Citizen => None,
        Registrar::Staff(g) => Some(g),
    };
    let content = input.content.trim();
    if !(10..=2000).contains(&content.chars().count()) {
        return refused(ComplaintError::Content);
    }
    let name = input.name.trim();
    if !(1..=40).contains(&name.chars().count()) {
        return refused(ComplaintError::Name);
    }
    let Ok(phone) = PhoneNumber::parse(&input.phone) else {
        return refused(ComplaintError::Phone);
    };
    let site = match input
        .site
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(code) => match crate::sites::site_by_code(ctx.db.reader(), code).await? {
            Some(s) => Some(s),
            None => return refused(ComplaintError::UnknownSite),
        },
        None => None,
    };
    if let (Some(g), Some(s)) = (staff, &site)
        && !g.covers(s.id)
    {
        return refused(ComplaintError::OtherSite);
    }
    let window = match (&site, input.window) {
        (_, None) => None,
        (None, Some(_)) => return refused(ComplaintError::NoSuchWindow),
        (Some(s), Some(n)) => match crate::sites::windows_of(ctx.db.reader(), s.id)
            .await?
            .into_iter()
            .find(|w| w.number == n)
        {
            Some(w) => Some(w),
            None => return refused(ComplaintError::NoSuchWindow),
        },
    };
    let application_no = match input
        .application_no
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(n) => match crate::domain::application_no::ApplicationNo::parse(n) {
            Ok(no) => Some(no),
            Err(_) => return refused(ComplaintError::ApplicationNo),
        },
        None => None,
    };
    // The application names its site and the officer who accepted it, when not given.
    let application = match &application_no {
        Some(no) => crate::applications::application_by_no(ctx.db.reader(), no.as_str()).await?,
        None => None,
    };
    let site = match (site, &application) {
        (Some(s), _) => Some(s),
        (None, Some(a)) => crate::sites::site(ctx.db.reader(), a.site_id).await?,
        (None, None) => None,
    };
    if let (Some(g), Some(s)) = (staff, &site)
        && !g.covers(s.id)
    {
        return refused(ComplaintError::OtherSite);
    }
    let badge = input
        .officer_badge
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty());
    let officer_id = match (badge, &site) {
        (Some(_), None) => return refused(ComplaintError::NoSuchOfficer),
        (Some(b), Some(s)) => {
            let named: Vec<i64> = crate::auth::staff_of_site(ctx.db, ctx.clock, s.id)
                .await?
                .into_iter()
                .filter(|m| m.badge_no == b)
                .map(|m| m.id)
                .collect();
            match named[..] {
                [id] => Some(id),
                _ => return refused(ComplaintError::NoSuchOfficer),
            }
        }
        (None, _) => application
            .as_ref()
            .filter(|a| site.as_ref().is_some_and(|s| s.id == a.site_id))
            .and_then(|a| a.officer_id),
    };
    let today = ctx.clock.today();
    let due = ctx
        .calendar
        .current()
        .add_working_days(today, ctx.answer_working_days, &ctx.counting)
        .map_err(|e| Failure::Internal(e.to_string()))?
        .date
        .to_string();
    let now = ctx.clock.now_ms();
    let day = today.strftime("%Y%m%d").to_string();
    let mut tx = ctx.db.begin().await?;
    let seq = store::next_number(&mut tx, &day).await?;
    let number = format!("TS{day}{seq:04}");
    let id = store::insert(
        &mut tx,
        &store::NewComplaint {
            number: &number,
            channel: input.channel,
            category: input.category,
            site_id: site.as_ref().map(|s| s.id),
            officer_id,
            window_id: window.as_ref().map(|w| w.id),
            line_code: None,
            application_no: application_no.as_ref().map(|n| n.as_str()),
            content,
            name_sealed: ctx.cipher.seal(name),
            phone_sealed: ctx.cipher.seal(phone.as_str()),
            phone_index: ctx.cipher.blind_index(phone.as_str()).newest(),
            received_at: now,
            received_by: staff.map(|g| g.actor().staff_id),
            due_date: &due,
        },
    )
    .await?;
    let staff_id = staff.map(|g| g.actor().staff_id);
    store::event(
        &mut tx,
        id,
        now,
        "registered",
        staff_id,
        &serde_json::json!({"channel": input.channel.code(), "category": input.category.code()}),
    )
    .await?;
    let entry = match staff {
        Some(g) => AuditEntry::by(g.actor(), "complaint.registered", "complaint", &number, now),
        None => AuditEntry::system("complaint.registered", "complaint", &number, meta, now),
    };
    audit::record(&mut tx, entry).await?;
    // A repeated complaint (the same citizen, or the same officer, twice in 30 days) is texted
    // to the duty leader at once, in the same transaction as the complaint.
    let since = now - REPEAT_WINDOW_MS;
    let (same_phone, same_officer) = store::repeats(
        &mut *tx,
        ctx.cipher.blind_index(phone.as_str()).forms(),
        officer_id,
        since,
    )
    .await?;
    if let Some(leader) = &ctx.leader_phone
        && (same_phone > 1 || same_officer > 1)
    {
        crate::notify::enqueue(
            &mut tx,
            ctx.cipher,
            crate::notify::Outgoing {
                kind: "leader.complaint_repeated",
                reference: &number,
                phone: leader,
                body: &repeated_text(&number, input.category, same_officer, same_phone, &due),
                due_at: now,
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Registered {
        number,
        due_date: due,
    })
}

/// The duty leader's text about a repeated complaint (in Chinese: it goes to staff): the same
/// officer complained about, or the same citizen complaining, more than once in 30 days.
pub fn repeated_text(
    number: &str,
    category: Category,
    same_officer: i64,
    same_phone: i64,
    due: &str,
) -> String {
    let why = if same_officer > 1 {
        format!("被投诉民警30天内第{same_officer}次被投诉")
    } else {
        format!("同一群众30天内第{same_phone}次投诉")
    };
    format!(
        "【出入境·带班提醒】收到重复投诉{number}（{}）：{why}，请于{}前答复。",
        category.name(Lang::ZhCn),
        crate::notify::wording::stored_date(Lang::ZhCn, due)
    )
}

/// The actor's grant to register complaints from hotlines, the box and windows.
pub fn taker(actor: &Actor) -> Result<Grant<'_, TakeComplaints>> {
    actor.grant_or(ComplaintError::OtherSite)
}

/// The actor's grant to handle complaints (the duty leader).
pub fn handler(actor: &Actor) -> Result<Grant<'_, Lead>> {
    actor.grant_or(ComplaintError::OtherSite)
}

/// Complaints from the same phone, or about the same officer, within this window are repeated.
pub const REPEAT_WINDOW_MS: i64 = 30 * 86_400_000;

/// A complaint as the duty leader's list shows it.
#[derive(Debug)]
pub struct ComplaintView {
    pub row: ComplaintRow,
    /// Open past its due date.
    pub overdue: bool,
    /// More than one complaint in 30 days from this phone.
    pub repeated: bool,
}

/// A site's complaints (and those concerning no site) for the duty leader.
pub async fn list(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Lead>,
    site_id: i64,
) -> Result<Vec<ComplaintView>> {
    if !grant.covers(site_id) {
        return refused(ComplaintError::OtherSite);
    }
    let since = ctx.clock.now_ms() - REPEAT_WINDOW_MS;
    let rows = store::of_site(ctx.db.reader(), site_id, since).await?;
    views(ctx, rows).await
}

/// Marks each complaint overdue (open past its date) and repeated (the same phone, or the
/// same officer, more than once in 30 days).
async fn views(ctx: &Ctx<'_>, rows: Vec<ComplaintRow>) -> Result<Vec<ComplaintView>> {
    let today = ctx.clock.today().to_string();
    let since = ctx.clock.now_ms() - REPEAT_WINDOW_MS;
    let mut out = Vec::new();
    for row in rows {
        // By the sealed phone: a rotation's rebuild may hold the same phone under two forms.
        let person = if crate::privacy::is_erased(&row.phone_sealed) {
            None
        } else {
            Some(
                ctx.cipher
                    .blind_index_of_sealed(&row.phone_sealed)
                    .map_err(|_| {
                        Failure::Internal(format!("complaint {}: phone does not open", row.number))
                    })?,
            )
        };
        let forms = person
            .as_ref()
            .map_or([row.phone_index.as_str(); 2], |p| p.forms());
        let (same_phone, same_officer) =
            store::repeats(ctx.db.reader(), forms, row.officer_id, since).await?;
        out.push(ComplaintView {
            overdue: row.status == Status::Open && row.due_date < today,
            repeated: same_phone > 1 || same_officer > 1,
            row,
        });
    }
    Ok(out)
}

/// The open complaints assigned to `actor` (whatever their role): their own work list.
pub async fn assigned_to(ctx: &Ctx<'_>, actor: &Actor) -> Result<Vec<ComplaintView>> {
    let rows = store::assigned(ctx.db.reader(), actor.staff_id).await?;
    views(ctx, rows).await
}

/// What the duty leader is alerted to at a site: open complaints past their date, open
/// repeated complaints.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Alerts {
    pub overdue: i64,
    pub repeated: i64,
}

pub async fn alerts(ctx: &Ctx<'_>, grant: &Grant<'_, Lead>, site_id: i64) -> Result<Alerts> {
    let mut a = Alerts::default();
    for v in list(ctx, grant, site_id).await? {
        if v.row.status == Status::Open {
            a.overdue += i64::from(v.overdue);
            a.repeated += i64::from(v.repeated);
        }
    }
    Ok(a)
}

/// The complaints' line of the duty leader's daily digest (every site): open ones past their
/// date and open repeated ones; empty when there are none.
pub async fn digest_line(ctx: &Ctx<'_>) -> Result<String> {
    let rows = store::open_all(ctx.db.reader()).await?;
    let mut a = Alerts::default();
    for v in views(ctx, rows).await? {
        a.overdue += i64::from(v.overdue);
        a.repeated += i64::from(v.repeated);
    }
    Ok(digest_text(a.overdue, a.repeated))
}

/// The complaints' line of the digest from its counts; empty when both are nought.
pub fn digest_text(overdue: i64, repeated: i64) -> String {
    if overdue + repeated == 0 {
        String::new()
    } else {
        format!("投诉超期未答复{overdue}件，重复投诉{repeated}件。")
    }
}

/// Assigns an open complaint to a named handler of its site, who answers it (the deadline
/// stays).
pub async fn assign(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Lead>,
    id: i64,
    handler_id: i64,
) -> Result<ComplaintRow> {
    let row = handled(ctx, grant, id).await?;
    if row.status != Status::Open {
        return refused(ComplaintError::WrongState);
    }
    let eligible = match row.site_id {
        Some(site) => crate::auth::staff_of_site(ctx.db, ctx.clock, site)
            .await?
            .into_iter()
            .any(|s| s.id == handler_id),
        None => crate::auth::account_by_id(&mut *ctx.db.reader().acquire().await?, handler_id)
            .await?
            .is_some_and(|a| a.active),
    };
    if !eligible {
        return refused(ComplaintError::NoSuchHandler);
    }
    let actor = grant.actor();
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    if !store::assign(&mut tx, id, handler_id).await? {
        return refused(ComplaintError::WrongState);
    }
    store::event(
        &mut tx,
        id,
        now,
        "assigned",
        Some(actor.staff_id),
        &serde_json::json!({"handler": handler_id}),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by(actor, "complaint.assigned", "complaint", &row.number, now)
            .detail(serde_json::json!({"handler": handler_id})),
    )
    .await?;
    tx.commit().await?;
    match store::by_id(ctx.db.reader(), id).await? {
        Some(r) => Ok(r),
        None => refused(ComplaintError::NotFound),
    }
}

/// Who answers a complaint: the duty leader of its site, or the handler it was assigned to.
pub enum Answerer<'a> {
    Leader(&'a Grant<'a, Lead>),
    Handler(&'a Actor),
}

async fn handled(ctx: &Ctx<'_>, grant: &Grant<'_, Lead>, id: i64) -> Result<ComplaintRow> {
    let Some(row) = store::by_id(ctx.db.reader(), id).await? else {
        return refused(ComplaintError::NotFound);
    };
    // A complaint concerning no site is any duty leader's.
    if row.site_id.is_some_and(|s| !grant.covers(s)) {
        return refused(ComplaintError::OtherSite);
    }
    Ok(row)
}

/// What the handler answers.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AnswerInput {
    pub answer: String,
    /// Whether the complaint was found justified.
    pub justified: bool,
    /// The accountability (责任追究) recorded against the officer; required when justified.
    #[serde(default)]
    pub accountability: String,
}

/// Answers a complaint (once): the answer, whether it was justified, the accountability.
pub async fn answer(
    ctx: &Ctx<'_>,
    answerer: Answerer<'_>,
    id: i64,
    input: &AnswerInput,
) -> Result<ComplaintRow> {
    let (row, actor) = match answerer {
        Answerer::Leader(g) => (handled(ctx, g, id).await?, g.actor()),
        Answerer::Handler(a) => match store::by_id(ctx.db.reader(), id).await? {
            // Not theirs: the same answer as no such complaint.
            Some(r) if r.handler_id == Some(a.staff_id) => (r, a),
            _ => return refused(ComplaintError::NotFound),
        },
    };
    if row.status != Status::Open {
        return refused(ComplaintError::WrongState);
    }
    let text = input.answer.trim();
    if !(10..=2000).contains(&text.chars().count()) {
        return refused(ComplaintError::AnswerNeeded);
    }
    let accountability = input.accountability.trim();
    if input.justified && accountability.chars().count() < 2 {
        return refused(ComplaintError::AccountabilityNeeded);
    }
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    if !store::answer(
        &mut tx,
        id,
        text,
        input.justified,
        (!accountability.is_empty()).then_some(accountability),
        actor.staff_id,
        now,
    )
    .await?
    {
        return refused(ComplaintError::WrongState);
    }
    store::event(
        &mut tx,
        id,
        now,
        "answered",
        Some(actor.staff_id),
        &serde_json::json!({"justified": input.justified}),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by(actor, "complaint.answered", "complaint", &row.number, now)
            .detail(serde_json::json!({"justified": input.justified})),
    )
    .await?;
    tx.commit().await?;
    match store::by_id(ctx.db.reader(), id).await? {
        Some(r) => Ok(r),
        None => refused(ComplaintError::NotFound),
    }
}

/// A complaint as its citizen follows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tracked {
    pub number: String,
    pub status: Status,
    pub category: Category,
    /// Epoch milliseconds.
    pub received_at: i64,
    #[schema(format = Date)]
    pub due_date: String,
    pub answer: Option<String>,
    /// Whether the citizen said they were satisfied with the answer.
    pub satisfied: Option<bool>,
}

/// The complaint `number` if `phone` is the one it was registered with (else not found, the
/// same answer whether the number exists or not).
async fn own(ctx: &Ctx<'_>, number: &str, phone: &str) -> Result<ComplaintRow> {
    let index = PhoneNumber::parse(phone)
        .ok()
        .map(|p| ctx.cipher.blind_index(p.as_str()));
    match (
        store::by_number(ctx.db.reader(), number.trim()).await?,
        index,
    ) {
        (Some(row), Some(i)) if i.matches(&row.phone_index) => Ok(row),
        _ => refused(ComplaintError::NotFound),
    }
}

fn tracked(row: ComplaintRow) -> Tracked {
    Tracked {
        number: row.number,
        status: row.status,
        category: row.category,
        received_at: row.received_at,
        due_date: row.due_date,
        answer: row.answer,
        satisfied: row.satisfied,
    }
}

/// Where the citizen's complaint stands.
pub async fn track(ctx: &Ctx<'_>, number: &str, phone: &str) -> Result<Tracked> {
    Ok(tracked(own(ctx, number, phone).await?))
}

/// The citizen says whether the answer satisfied them; the complaint is closed (once).
pub async fn rate_answer(
    ctx: &Ctx<'_>,
    number: &str,
    phone: &str,
    satisfied: bool,
    meta: &RequestMeta,
) -> Result<Tracked> {
    let row = own(ctx, number, phone).await?;
    if row.status != Status::Answered {
        return refused(ComplaintError::WrongState);
    }
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    if !store::close_with_satisfaction(&mut tx, row.id, satisfied, now).await? {
        return refused(ComplaintError::WrongState);
    }
    store::event(
        &mut tx,
        row.id,
        now,
        "citizen_satisfaction",
        None,
        &serde_json::json!({"satisfied": satisfied}),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::system("complaint.closed", "complaint", &row.number, meta, now),
    )
    .await?;
    tx.commit().await?;
    track(ctx, number, phone).await
}

/// A complaint's history: `(at, kind, detail)`, oldest first.
pub async fn history(ctx: &Ctx<'_>, id: i64) -> Result<Vec<(i64, String, String)>> {
    Ok(store::history(ctx.db.reader(), id).await?)
}
