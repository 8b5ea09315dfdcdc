//! How texts write dates, hours, money, lists and quoted reasons, so that every text reads
//! them the way a person writes them (`2026年12月2日`, `2 December 2026`), not as stored.

use std::fmt::Display;

use jiff::civil::Date;

use crate::i18n::Lang;

/// `2026年12月2日` or `2 December 2026`.
pub fn date(lang: Lang, d: Date) -> String {
    match lang {
        Lang::ZhCn => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        Lang::En => d.strftime("%-d %B %Y").to_string(),
    }
}

/// `2026年12月2日（星期三）` or `Wednesday 2 December 2026`: for an appointment, whose day of
/// the week is what a person plans by.
pub fn date_with_weekday(lang: Lang, d: Date) -> String {
    match lang {
        Lang::ZhCn => {
            let weekday = ["一", "二", "三", "四", "五", "六", "日"]
                [usize::try_from(d.weekday().to_monday_zero_offset()).unwrap_or(0)];
            format!("{}（星期{weekday}）", date(lang, d))
        }
        Lang::En => d.strftime("%A %-d %B %Y").to_string(),
    }
}

/// A stored `YYYY-MM-DD` as [`date`] writes it; anything else as it is, so a malformed row
/// still yields a text rather than none.
pub fn stored_date(lang: Lang, s: &str) -> String {
    s.parse::<Date>()
        .map(|d| date(lang, d))
        .unwrap_or_else(|_| s.to_owned())
}

/// [`date_with_weekday`] of a stored `YYYY-MM-DD`; anything else as it is.
pub fn stored_date_with_weekday(lang: Lang, s: &str) -> String {
    s.parse::<Date>()
        .map(|d| date_with_weekday(lang, d))
        .unwrap_or_else(|_| s.to_owned())
}

/// A span of time of day: `09:00–09:30`.
pub fn span(start: &str, end: &str) -> String {
    format!("{start}–{end}")
}

/// Opening periods as a sentence lists them: `08:30–12:00、13:30–17:30` or
/// `08:30–12:00 and 13:30–17:30`.
pub fn hours<T: Display>(lang: Lang, periods: &[T]) -> String {
    let items: Vec<String> = periods.iter().map(ToString::to_string).collect();
    list(lang, &items)
}

/// Items as a sentence lists them: `甲、乙、丙` or `a, b and c`.
pub fn list<T: AsRef<str>>(lang: Lang, items: &[T]) -> String {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    match (lang, items.as_slice()) {
        (Lang::ZhCn, _) => items.join("、"),
        (Lang::En, []) => String::new(),
        (Lang::En, [only]) => (*only).to_owned(),
        (Lang::En, [init @ .., last]) => format!("{} and {last}", init.join(", ")),
    }
}

/// An amount in fen as a text states a fee: `280元`, `280.50元`; `CNY 280`, `CNY 280.50`.
pub fn yuan(lang: Lang, fen: i64) -> String {
    let amount = if fen % 100 == 0 {
        format!("{}", fen / 100)
    } else {
        format!("{}.{:02}", fen / 100, (fen % 100).abs())
    };
    match lang {
        Lang::ZhCn => format!("{amount}元"),
        Lang::En => format!("CNY {amount}"),
    }
}

/// A reason someone typed, ready to go inside a sentence: trimmed, without the full stop or
/// semicolon it may end with (the sentence brings its own punctuation).
pub fn quoted(reason: &str) -> &str {
    reason
        .trim()
        .trim_end_matches(['。', '.', '；', ';', '，', ',', '！', '!'])
        .trim_end()
}

/// [`quoted`], its first letter a capital (after `Reason:` in an English text).
pub fn quoted_capitalised(reason: &str) -> String {
    let r = quoted(reason);
    let mut chars = r.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_people_write_them() {
        let d = jiff::civil::date(2026, 12, 2);
        assert_eq!(date(Lang::ZhCn, d), "2026年12月2日");
        assert_eq!(date(Lang::En, d), "2 December 2026");
        assert_eq!(date_with_weekday(Lang::ZhCn, d), "2026年12月2日（星期三）");
        assert_eq!(date_with_weekday(Lang::En, d), "Wednesday 2 December 2026");
        assert_eq!(stored_date(Lang::ZhCn, "2027-01-07"), "2027年1月7日");
        assert_eq!(stored_date(Lang::En, "not a date"), "not a date");
    }

    #[test]
    fn hours_and_lists_are_joined_as_sentences_join_them() {
        let two = ["08:30–12:00", "13:30–17:30"];
        assert_eq!(hours(Lang::ZhCn, &two), "08:30–12:00、13:30–17:30");
        assert_eq!(hours(Lang::En, &two), "08:30–12:00 and 13:30–17:30");
        assert_eq!(list(Lang::En, &["a", "b", "c"]), "a, b and c");
        assert_eq!(list(Lang::En, &["a"]), "a");
        assert_eq!(list::<&str>(Lang::En, &[]), "");
    }

    #[test]
    fn money_and_reasons() {
        assert_eq!(yuan(Lang::ZhCn, 28_000), "280元");
        assert_eq!(yuan(Lang::En, 28_050), "CNY 280.50");
        assert_eq!(quoted(" 照片不合格。 "), "照片不合格");
        assert_eq!(quoted_capitalised("system upgrade."), "System upgrade");
    }
}
