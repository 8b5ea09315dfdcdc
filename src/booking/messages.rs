//! The texts a citizen receives about a booking (booked, reminder, cancelled, offered another time), in their language.

use super::*;

pub(super) fn message_booked(
    lang: Lang,
    site: &Site,
    line: &str,
    date: &str,
    start: &str,
    end: &str,
    code: &str,
) -> String {
    match lang {
        Lang::ZhCn => format!(
            "【出入境】预约成功：{} {date} {start}-{end}，{line}，预约码 {code}。请带身份证及材料按时到场，无需排队。",
            site.name_zh
        ),
        Lang::En => format!(
            "[Exit-Entry] Booked: {}, {date} {start}-{end}, {line}, code {code}. Bring your ID card and materials; no queuing.",
            site.name_en
        ),
    }
}

pub(super) fn message_reminder(
    lang: Lang,
    site: &Site,
    date: &str,
    start: &str,
    code: &str,
) -> String {
    match lang {
        Lang::ZhCn => format!(
            "【出入境】提醒：您预约了明天（{date}）{start} 在{}办理业务，预约码 {code}。不能前来请提前取消。",
            site.name_zh
        ),
        Lang::En => format!(
            "[Exit-Entry] Reminder: your appointment is tomorrow ({date}) at {start} at {}, code {code}. Cancel ahead if you cannot come.",
            site.name_en
        ),
    }
}

pub(super) fn message_cancelled(
    lang: Lang,
    date: &str,
    start: &str,
    code: &str,
    why: Option<&str>,
) -> String {
    match (lang, why) {
        (Lang::ZhCn, Some(w)) => format!(
            "【出入境】您 {date} {start} 的预约（{code}）因{w}已取消，请另选时间预约，给您带来不便敬请谅解。"
        ),
        (Lang::En, Some(w)) => format!(
            "[Exit-Entry] Your appointment {code} on {date} at {start} was cancelled ({w}). Please book another time; we apologise."
        ),
        (Lang::ZhCn, None) => format!("【出入境】您 {date} {start} 的预约（{code}）已取消。"),
        (Lang::En, None) => {
            format!("[Exit-Entry] Your appointment {code} on {date} at {start} is cancelled.")
        }
    }
}

/// The new time held for a citizen whose day was closed (R2: "offered another time").
#[allow(clippy::too_many_arguments)]
pub(super) fn message_offered(
    lang: Lang,
    site: &Site,
    old_date: &str,
    why: &str,
    date: &str,
    start: &str,
    end: &str,
    code: &str,
) -> String {
    match lang {
        Lang::ZhCn => format!(
            "【出入境】您{old_date}的预约因{why}取消，已为您保留{} {date} {start}-{end} 的预约，预约码 {code}。如不合适，可凭预约码和身份证号码改约或取消。",
            site.name_zh
        ),
        Lang::En => format!(
            "[Exit-Entry] Your appointment on {old_date} was cancelled ({why}); we are holding {date} {start}-{end} at {} for you, code {code}. Reschedule or cancel with the code and your ID number if it does not suit you.",
            site.name_en
        ),
    }
}
