//! Masking of personal data for display, and the small text helpers the identity types share.
//!
//! domain §9.3: there is no mandatory national masking format; these follow common practice
//! (Hutool `DesensitizedUtil`, bank and carrier apps). Mask **server-side**, before data reaches a
//! display client, and never put ID, passport or permit numbers on public screens at all
//! (domain §9.3, GB/T 35273-2020 §7.2 as summarised in domain §9.2).

/// The character that replaces a hidden character.
pub const MASK_CHAR: char = '*';

/// Masks a person's name for display (domain §9.3).
///
/// * Chinese names (any CJK ideograph in the name): keep the first character, mask the rest:
///   `陈小西` → `陈**`, `张三` → `张*`. A one-character name is shown as is.
/// * Latin names (passport spelling, pinyin, foreign names): keep the first letter of each word
///   and mask the other letters; spaces, hyphens, apostrophes and dots between words are kept:
///   `Zhang San` → `Z**** S**`, `Mary-Jane O'Neil` → `M***-J*** O'N***`.
///
/// Works on `char`s, not bytes. Surrounding whitespace is dropped; empty stays empty.
pub fn mask_name(name: &str) -> String {
    let name = name.trim();
    if name.chars().any(is_cjk_ideograph) {
        let mut chars = name.chars();
        let mut out = String::with_capacity(name.len());
        if let Some(first) = chars.next() {
            out.push(first);
        }
        out.extend(chars.map(|_| MASK_CHAR));
        return out;
    }
    let mut out = String::with_capacity(name.len());
    let mut at_word_start = true;
    for c in name.chars() {
        if is_name_separator(c) {
            out.push(c);
            at_word_start = true;
        } else if at_word_start {
            out.push(c);
            at_word_start = false;
        } else {
            out.push(MASK_CHAR);
        }
    }
    out
}

/// Keeps the first `keep_start` and the last `keep_end` characters and replaces every character
/// in between with [`MASK_CHAR`], so the length stays visible (domain §9.3 patterns such as
/// `4201**********1234` and `138****1234`).
///
/// If the text is too short to hide anything (`len <= keep_start + keep_end`), every character is
/// masked: a mask must never show the whole value.
pub fn mask_middle(text: &str, keep_start: usize, keep_end: usize) -> String {
    let len = text.chars().count();
    if len <= keep_start.saturating_add(keep_end) {
        return std::iter::repeat_n(MASK_CHAR, len).collect();
    }
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_start || i >= len - keep_end {
                c
            } else {
                MASK_CHAR
            }
        })
        .collect()
}

/// Maps a full-width ASCII variant (U+FF01..=U+FF5E, e.g. `１`, `Ｘ`, `－`, `＋`) to its ASCII
/// character and the ideographic space U+3000 to a space; other characters are returned as is.
/// Chinese input methods produce these easily (domain §7.1: "convert full-width digits").
pub(crate) fn to_halfwidth(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Trims the input and maps full-width characters to ASCII (see [`to_halfwidth`]).
pub(crate) fn normalize_width(input: &str) -> String {
    input.trim().chars().map(to_halfwidth).collect()
}

fn is_cjk_ideograph(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'       // CJK Extension A
        | '\u{4E00}'..='\u{9FFF}'     // CJK Unified Ideographs
        | '\u{F900}'..='\u{FAFF}'     // CJK Compatibility Ideographs
        | '\u{20000}'..='\u{3134F}'   // Extensions B–G (rare characters in names)
    )
}

fn is_name_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '\'' | '.' | '·' | '‧' | '•' | ',')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names_keep_first_character() {
        assert_eq!(mask_name("陈小西"), "陈**");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("王"), "王");
        assert_eq!(mask_name("  李四 "), "李*");
        // Minority names with the interpunct are masked as one name.
        assert_eq!(mask_name("阿依古丽·买买提"), "阿*******");
        // Extension B character as surname: one char, not four bytes.
        assert_eq!(mask_name("𠀋小明"), "𠀋**");
    }

    #[test]
    fn latin_names_keep_first_letter_of_each_word() {
        assert_eq!(mask_name("Zhang San"), "Z**** S**");
        assert_eq!(mask_name("Mary-Jane O'Neil"), "M***-J*** O'N***");
        assert_eq!(mask_name("J. R. R. Tolkien"), "J. R. R. T******");
        assert_eq!(mask_name("Zoë"), "Z**");
    }

    #[test]
    fn empty_stays_empty() {
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_name("   "), "");
    }

    #[test]
    fn mask_middle_keeps_ends_and_length() {
        assert_eq!(
            mask_middle("11010519491231002X", 4, 4),
            "1101**********002X"
        );
        assert_eq!(mask_middle("13812341234", 3, 4), "138****1234");
        assert_eq!(mask_middle("abc", 2, 2), "***");
        assert_eq!(mask_middle("", 2, 2), "");
    }

    #[test]
    fn halfwidth_conversion() {
        assert_eq!(normalize_width("　１１０Ｘｘ－＋ "), "110Xx-+");
        assert_eq!(to_halfwidth('陈'), '陈');
    }
}
