//! The texts a citizen receives about a booking (booked, reminder, cancelled, offered another
//! time, locked, a place free for the waiting list), in their language. Dates come as stored
//! (`YYYY-MM-DD`) and times as `HH:MM`; the texts write them as people do.

use super::*;
use crate::notify::wording::{
    quoted, quoted_capitalised, span, stored_date, stored_date_with_weekday,
};

/// The confirmation of a new booking: what, when, where (with the address), the code.
pub fn message_booked(
    lang: Lang,
    site: &Site,
    line: &str,
    date: &str,
    start: &str,
    end: &str,
    code: &str,
) -> String {
    let day = stored_date_with_weekday(lang, date);
    let time = span(start, end);
    match lang {
        Lang::ZhCn => format!(
            "【出入境】预约成功！您已预约{day}{time}到{}（{}）办理“{line}”业务，预约码{code}。请携带身份证和申请材料按时到场，无需排队取号。",
            site.name_zh, site.address_zh
        ),
        Lang::En => format!(
            "[Exit-Entry] You are booked for “{line}” at {} ({}) on {day}, {time}. Your booking code is {code}. Please come on time with your ID card and application materials; you will not need to queue.",
            site.name_en, site.address_en
        ),
    }
}

/// The reminder the evening before.
pub fn message_reminder(lang: Lang, site: &Site, date: &str, start: &str, code: &str) -> String {
    let day = stored_date(lang, date);
    match lang {
        Lang::ZhCn => format!(
            "【出入境】提醒：您预约了明天（{day}）{start}到{}办理业务，预约码{code}。如不能前来，请提前取消预约。",
            site.name_zh
        ),
        Lang::En => format!(
            "[Exit-Entry] Reminder: your appointment is tomorrow, {day}, at {start} at {} (booking code {code}). If you cannot come, please cancel it in advance.",
            site.name_en
        ),
    }
}

/// A booking cancelled: by the citizen (no reason) or because the day was closed (`why`).
pub fn message_cancelled(
    lang: Lang,
    date: &str,
    start: &str,
    code: &str,
    why: Option<&str>,
) -> String {
    let day = stored_date(lang, date);
    match (lang, why) {
        (Lang::ZhCn, Some(w)) => format!(
            "【出入境】很抱歉，因{}，您{day}{start}的预约（预约码{code}）已取消，请另选时间预约。给您带来不便，敬请谅解。",
            quoted(w)
        ),
        (Lang::En, Some(w)) => format!(
            "[Exit-Entry] We are sorry: your appointment on {day} at {start} (booking code {code}) has been cancelled. Reason: {}. Please book another time.",
            quoted_capitalised(w)
        ),
        (Lang::ZhCn, None) => {
            format!("【出入境】您{day}{start}的预约（预约码{code}）已取消。")
        }
        (Lang::En, None) => format!(
            "[Exit-Entry] Your appointment on {day} at {start} (booking code {code}) has been cancelled."
        ),
    }
}

/// The new time held for a citizen whose day was closed (R2: "offered another time").
#[allow(clippy::too_many_arguments)]
pub fn message_offered(
    lang: Lang,
    site: &Site,
    old_date: &str,
    why: &str,
    date: &str,
    start: &str,
    end: &str,
    code: &str,
) -> String {
    let old = stored_date(lang, old_date);
    let day = stored_date_with_weekday(lang, date);
    let time = span(start, end);
    match lang {
        Lang::ZhCn => format!(
            "【出入境】很抱歉，因{}，您{old}的预约已取消。我们已为您保留{day}{time}在{}的预约，预约码{code}。如时间不合适，可凭预约码和身份证号码改约或取消。",
            quoted(why),
            site.name_zh
        ),
        Lang::En => format!(
            "[Exit-Entry] We are sorry: your appointment on {old} has been cancelled. Reason: {}. Instead, we are holding an appointment for you at {} on {day}, {time}, booking code {code}. If it does not suit you, reschedule or cancel it with the code and your ID number.",
            quoted_capitalised(why),
            site.name_en
        ),
    }
}

/// Online use of a booking code stopped after repeated wrong ID numbers.
pub fn message_locked(lang: Lang, code: &str) -> String {
    match lang {
        Lang::ZhCn => format!(
            "【出入境】有人多次用错误的身份证号码查询您的预约（预约码{code}）。为保护您的预约，已停止网上查询、改约和取消，预约仍然有效。如需改约或取消，请致电或到大厅办理。"
        ),
        Lang::En => format!(
            "[Exit-Entry] Someone entered a wrong ID number several times to look up your appointment (booking code {code}). To protect it, online lookup, rescheduling and cancelling are now stopped; your appointment still stands. To change or cancel it, call us or come to the hall."
        ),
    }
}

/// A place came free on the day a citizen on the waiting list waits for.
pub fn message_place_free(lang: Lang, date: &str) -> String {
    let day = stored_date(lang, date);
    match lang {
        Lang::ZhCn => {
            format!("【出入境】您候补的{day}有预约名额空出，请尽快到预约页面预约，名额先到先得。")
        }
        Lang::En => format!(
            "[Exit-Entry] A place has come free on {day}, the day you are waiting for. Book it soon on the appointment page: places go to whoever books first."
        ),
    }
}
