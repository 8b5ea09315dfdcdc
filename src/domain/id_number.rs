//! 公民身份号码 (citizen ID number, GB 11643-1999) and the 18-digit numbers of the Hong Kong,
//! Macao and Taiwan residents' residence permits that share its format.
//!
//! Rules come from the domain reference, `shared/domain/exit-entry.md` §7.1–§7.2 (cited as
//! "domain §…"). Validation levels (1)–(4) of domain §7.1 are applied in full; level (5), the
//! county code against a *historical* GB/T 2260 table, is only applied to the four
//! municipalities (see [`IdNumberError::AddressCode`]).
//!
//! An [`IdNumber`] is personal data: its `Debug` output is masked, `Display` and serde give the
//! full number (for storage and forms, never for logs or public screens, domain §9.3).

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::{self, TimeZone};

use super::masking::{mask_middle, normalize_width};
use crate::i18n::{Lang, UserMessage};

/// domain §7.1: weights `W_i = 2^(17-i) mod 11` of ISO 7064 MOD 11-2.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// domain §7.1: `check = "10X98765432"[S % 11]`.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";
/// Oldest age we accept (brief; domain §7.1 level (3) "plausible age").
const MAX_AGE: i16 = 150;

/// What an 18-digit number in the ID format identifies.
///
/// Decision: the residence permits for Hong Kong, Macao and Taiwan residents (居住证, prefixes
/// 810000 / 820000 / 830000, domain §7.1 "Special prefixes") follow the same rules and are
/// accepted by [`IdNumber::parse`]. Callers whose field means "mainland resident ID card" (e.g.
/// the passport application) must check [`IdNumber::kind`] is [`IdKind::Citizen`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum IdKind {
    /// 居民身份证 of a mainland resident.
    Citizen,
    /// 港澳台居民居住证 of a Hong Kong resident (prefix 810000).
    HkResidencePermit,
    /// 港澳台居民居住证 of a Macao resident (prefix 820000).
    MacaoResidencePermit,
    /// 港澳台居民居住证 of a Taiwan resident (prefix 830000).
    TaiwanResidencePermit,
}

impl IdKind {
    /// The document's name in the given language.
    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (IdKind::Citizen, Lang::ZhCn) => "居民身份证",
            (IdKind::Citizen, Lang::En) => "Resident Identity Card",
            (IdKind::HkResidencePermit, Lang::ZhCn) => "港澳台居民居住证（香港居民）",
            (IdKind::HkResidencePermit, Lang::En) => "Residence Permit (Hong Kong resident)",
            (IdKind::MacaoResidencePermit, Lang::ZhCn) => "港澳台居民居住证（澳门居民）",
            (IdKind::MacaoResidencePermit, Lang::En) => "Residence Permit (Macao resident)",
            (IdKind::TaiwanResidencePermit, Lang::ZhCn) => "港澳台居民居住证（台湾居民）",
            (IdKind::TaiwanResidencePermit, Lang::En) => "Residence Permit (Taiwan resident)",
        }
    }
}

/// Sex as encoded in the ID number (domain §7.1: position 17 odd = male, even = female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// The word for the sex in the given language (as on the application form).
    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Sex::Male, Lang::ZhCn) => "男",
            (Sex::Male, Lang::En) => "Male",
            (Sex::Female, Lang::ZhCn) => "女",
            (Sex::Female, Lang::En) => "Female",
        }
    }
}

/// domain §7.1 "First two digits (province)", plus 81/82/83 for the residence permits.
/// (code, zh-CN, English)
const PROVINCES: [(&str, &str, &str); 34] = [
    ("11", "北京市", "Beijing"),
    ("12", "天津市", "Tianjin"),
    ("13", "河北省", "Hebei"),
    ("14", "山西省", "Shanxi"),
    ("15", "内蒙古自治区", "Inner Mongolia"),
    ("21", "辽宁省", "Liaoning"),
    ("22", "吉林省", "Jilin"),
    ("23", "黑龙江省", "Heilongjiang"),
    ("31", "上海市", "Shanghai"),
    ("32", "江苏省", "Jiangsu"),
    ("33", "浙江省", "Zhejiang"),
    ("34", "安徽省", "Anhui"),
    ("35", "福建省", "Fujian"),
    ("36", "江西省", "Jiangxi"),
    ("37", "山东省", "Shandong"),
    ("41", "河南省", "Henan"),
    ("42", "湖北省", "Hubei"),
    ("43", "湖南省", "Hunan"),
    ("44", "广东省", "Guangdong"),
    ("45", "广西壮族自治区", "Guangxi"),
    ("46", "海南省", "Hainan"),
    ("50", "重庆市", "Chongqing"),
    ("51", "四川省", "Sichuan"),
    ("52", "贵州省", "Guizhou"),
    ("53", "云南省", "Yunnan"),
    ("54", "西藏自治区", "Xizang"),
    ("61", "陕西省", "Shaanxi"),
    ("62", "甘肃省", "Gansu"),
    ("63", "青海省", "Qinghai"),
    ("64", "宁夏回族自治区", "Ningxia"),
    ("65", "新疆维吾尔自治区", "Xinjiang"),
    ("81", "香港特别行政区", "Hong Kong SAR"),
    ("82", "澳门特别行政区", "Macao SAR"),
    ("83", "台湾地区", "Taiwan"),
];

/// A valid 18-character citizen ID number (or HK/Macao/Taiwan residence permit number, see
/// [`IdKind`]), normalised: ASCII digits, upper-case `X`, 15-digit input upgraded to 18.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber {
    number: String,
    birth_date: Date,
    kind: IdKind,
}

impl IdNumber {
    /// Parses with "today" = the current date in Asia/Shanghai (for the birth-date checks).
    pub fn parse(input: &str) -> Result<IdNumber, IdNumberError> {
        IdNumber::parse_on(input, today_in_shanghai())
    }

    /// Parses an ID number, checking the birth date against `today`.
    ///
    /// Normalisation (domain §7.1): trim, full-width digits and `Ｘ`/`ｘ` to ASCII, `x` to `X`.
    /// A 15-digit first-generation number (GB 11643-1989) is upgraded: `19` inserted before the
    /// two-digit year and the check digit computed (domain §7.1). The 1989 number cannot tell
    /// an 18xx birth year (sequence 996–999, domain §7.1) from 19xx; it always becomes 19xx.
    pub fn parse_on(input: &str, today: Date) -> Result<IdNumber, IdNumberError> {
        let chars: Vec<char> = normalize_width(input)
            .chars()
            .map(|c| if c == 'x' { 'X' } else { c })
            .collect();
        if chars.is_empty() {
            return Err(IdNumberError::Empty);
        }
        // domain §7.1 level (1): format `^\d{17}[\dX]$` (or 15 digits for GB 11643-1989).
        if chars.len() != 18 && chars.len() != 15 {
            return Err(IdNumberError::Length { found: chars.len() });
        }
        for (i, &c) in chars.iter().enumerate() {
            let check_position = chars.len() == 18 && i == 17;
            if !(c.is_ascii_digit() || (check_position && c == 'X')) {
                return Err(IdNumberError::InvalidCharacter { position: i + 1 });
            }
        }
        let ascii: String = chars.into_iter().collect();
        let upgraded_from_15 = ascii.len() == 15;
        let number = if upgraded_from_15 {
            // domain §7.1: "insert `19` before YY and compute the check digit".
            let first17 = format!("{}19{}", &ascii[..6], &ascii[6..]);
            let check = check_char(first17.as_bytes());
            format!("{first17}{}", char::from(check))
        } else {
            ascii
        };
        let bytes = number.as_bytes();

        // domain §7.1 "Special prefixes": a leading 9 is the 2023 外国人永久居留身份证.
        if bytes[0] == b'9' && !upgraded_from_15 {
            return Err(IdNumberError::ForeignPermanentResident);
        }
        // domain §7.1 level (4): province prefix in the list.
        let kind = address_kind(&number[..6])?;

        // domain §7.1 level (3): a real date (GB/T 7408), not in the future, plausible age.
        let year = digits_value(&bytes[6..10]);
        let month = digits_value(&bytes[10..12]);
        let day = digits_value(&bytes[12..14]);
        // Each value has at most 4 decimal digits, so the narrowing casts cannot truncate.
        let birth_date =
            Date::new(year as i16, month as i8, day as i8).map_err(|_| IdNumberError::BirthDate)?;
        if birth_date > today {
            return Err(IdNumberError::BirthDateInFuture);
        }
        if completed_years(birth_date, today) > MAX_AGE {
            return Err(IdNumberError::ImplausibleAge);
        }

        // domain §7.1 level (2): ISO 7064 MOD 11-2 check digit.
        if check_char(&bytes[..17]) != bytes[17] {
            return Err(IdNumberError::Checksum);
        }

        Ok(IdNumber {
            number,
            birth_date,
            kind,
        })
    }

    /// The MOD 11-2 check character (`0`–`9` or `X`) for the first 17 digits (domain §7.1), or
    /// `None` if `first17` is not exactly 17 ASCII digits. For test factories that generate
    /// synthetic IDs (domain §7.2 "Caution": prefer synthetic IDs over public fixtures).
    pub fn check_digit_for(first17: &str) -> Option<char> {
        let bytes = first17.as_bytes();
        if bytes.len() == 17 && bytes.iter().all(u8::is_ascii_digit) {
            Some(char::from(check_char(bytes)))
        } else {
            None
        }
    }

    /// The full 18-character number. Personal data: do not log it (use [`IdNumber::masked`]).
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// Citizen ID or which residence permit.
    pub fn kind(&self) -> IdKind {
        self.kind
    }

    /// Birth date from digits 7–14 (domain §7.1).
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// Sex from digit 17: odd = male, even = female (domain §7.1).
    pub fn sex(&self) -> Sex {
        if (self.number.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The first two digits, e.g. `"11"` (`"81"`/`"82"`/`"83"` for the residence permits).
    pub fn province_code(&self) -> &str {
        &self.number[..2]
    }

    /// Name of the province-level division of the first two digits (e.g. 北京市 / Beijing). This
    /// is the household registration *at issuance* (domain §7.1), not necessarily today's.
    pub fn province_name(&self, lang: Lang) -> &'static str {
        let code = self.province_code();
        PROVINCES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map_or("", |(_, zh, en)| match lang {
                Lang::ZhCn => zh,
                Lang::En => en,
            })
    }

    /// Age in completed years (周岁) on `date`: the year count goes up on the birthday itself;
    /// someone born on 29 February completes a year on 1 March in common years. Negative if
    /// `date` is before the birth date.
    pub fn age_on(&self, date: Date) -> i16 {
        completed_years(self.birth_date, date)
    }

    /// First 4 + last 4 characters, the rest masked: `1101**********002X` (domain §9.3 staff
    /// screens; never show ID numbers on public screens at all).
    pub fn masked(&self) -> String {
        mask_middle(&self.number, 4, 4)
    }
}

/// The current civil date in China (Asia/Shanghai, UTC+8, no DST since 1991).
pub(crate) fn today_in_shanghai() -> Date {
    let zone = TimeZone::get("Asia/Shanghai").unwrap_or_else(|_| TimeZone::fixed(tz::offset(8)));
    Timestamp::now().to_zoned_datetime(zone).date()
}

/// Checks the address code (first six digits) and tells which kind of document it is.
fn address_kind(address: &str) -> Result<IdKind, IdNumberError> {
    let (province, prefecture) = (&address[..2], &address[2..4]);
    match province {
        // domain §7.1: 810000 / 820000 / 830000 are the only residence-permit prefixes.
        "81" | "82" | "83" => {
            if &address[2..] != "0000" {
                return Err(IdNumberError::AddressCode);
            }
            Ok(match province {
                "81" => IdKind::HkResidencePermit,
                "82" => IdKind::MacaoResidencePermit,
                _ => IdKind::TaiwanResidencePermit,
            })
        }
        // domain §7.1: "71 台湾 (in GB/T 2260, not used on mainland ID cards)".
        "71" => Err(IdNumberError::TaiwanProvinceCode),
        _ if PROVINCES.iter().any(|(c, _, _)| *c == province) => {
            // domain §7.1 level (5), partially: in every GB/T 2260 edition the municipalities
            // have only the prefecture-level groups 01 (市辖区) and 02 (县), and Chongqing also
            // 03 (county-level cities, 1997–2006). This catches e.g. `111111…` (domain §7.2).
            // Other provinces are not checked below the province: a full *historical* county
            // table would be needed (domain §7.1 warns against the current table alone).
            let allowed: &[&str] = match province {
                "11" | "12" | "31" => &["01", "02"],
                "50" => &["01", "02", "03"],
                _ => return Ok(IdKind::Citizen),
            };
            if allowed.contains(&prefecture) {
                Ok(IdKind::Citizen)
            } else {
                Err(IdNumberError::AddressCode)
            }
        }
        _ => Err(IdNumberError::UnknownProvince),
    }
}

/// domain §7.1: `S = sum(id[i] * W[i])`, `check = "10X98765432"[S % 11]`. `first17` must be
/// ASCII digits (only its first 17 bytes are used).
fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Value of a run of ASCII digits (the caller has checked they are digits).
fn digits_value(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |acc, &d| acc * 10 + u32::from(d - b'0'))
}

fn completed_years(birth: Date, on: Date) -> i16 {
    let years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years - 1
    } else {
        years
    }
}

impl fmt::Display for IdNumber {
    /// The full number. Personal data: for forms and storage, not for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number)
    }
}

impl fmt::Debug for IdNumber {
    /// Masked, so that IDs never end up in logs or panic messages in full.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdNumber").field(&self.masked()).finish()
    }
}

crate::domain::text_type!(IdNumber, IdNumberError, number);

/// Why a text is not a valid ID number. `Display` is the English message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("Please enter the ID number")]
    Empty,
    #[error(
        "The ID number must have 18 characters (15 digits for an old first-generation card); {found} were entered"
    )]
    Length { found: usize },
    #[error(
        "Character {position} of the ID number is not allowed: use digits only, and X only as the 18th character"
    )]
    InvalidCharacter { position: usize },
    #[error(
        "A number starting with 9 is a Foreign Permanent Resident ID Card number, not a Chinese citizen's ID number"
    )]
    ForeignPermanentResident,
    #[error("The first two digits of the ID number are not a valid province code")]
    UnknownProvince,
    #[error(
        "Code 71 (Taiwan) is not used on resident ID cards; a Taiwan resident's residence permit number starts with 830000"
    )]
    TaiwanProvinceCode,
    #[error("The address code (first six digits) of the ID number does not exist")]
    AddressCode,
    #[error("The birth date in the ID number (digits 7 to 14) is not a real date")]
    BirthDate,
    #[error("The birth date in the ID number is in the future")]
    BirthDateInFuture,
    #[error("The birth date in the ID number gives an age over 150 years")]
    ImplausibleAge,
    #[error("The ID number's check digit is wrong")]
    Checksum,
}

/// A valid number that is not a mainland resident's identity card: a Hong Kong, Macao or
/// Taiwan residence permit (810000 / 820000 / 830000, domain §7.1). Passports, the permits of
/// this hall and their appointments are for mainland residents, who apply with the resident ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a mainland resident identity card number")]
pub struct NotCitizenId(pub IdKind);

impl UserMessage for NotCitizenId {
    fn code(&self) -> &'static str {
        "id_number.not_citizen"
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::ZhCn => format!(
                "这是{}号码。出入境证件和预约须使用内地居民身份证号码，请填写中国公民居民身份证号码。",
                self.0.name(lang)
            ),
            Lang::En => format!(
                "This is a {} number. Exit-entry documents and appointments need a mainland resident identity card number.",
                self.0.name(lang)
            ),
        }
    }
}

impl IdNumber {
    /// This number, when it is a mainland resident's identity card (the applicant of every
    /// document this hall issues).
    pub fn require_citizen(&self) -> Result<&IdNumber, NotCitizenId> {
        match self.kind {
            IdKind::Citizen => Ok(self),
            other => Err(NotCitizenId(other)),
        }
    }
}

impl UserMessage for IdNumberError {
    fn code(&self) -> &'static str {
        match self {
            IdNumberError::Empty => "id_number.empty",
            IdNumberError::Length { .. } => "id_number.length",
            IdNumberError::InvalidCharacter { .. } => "id_number.invalid_character",
            IdNumberError::ForeignPermanentResident => "id_number.foreign_permanent_resident",
            IdNumberError::UnknownProvince => "id_number.province",
            IdNumberError::TaiwanProvinceCode => "id_number.taiwan_province_code",
            IdNumberError::AddressCode => "id_number.address_code",
            IdNumberError::BirthDate => "id_number.birth_date",
            IdNumberError::BirthDateInFuture => "id_number.birth_date_future",
            IdNumberError::ImplausibleAge => "id_number.implausible_age",
            IdNumberError::Checksum => "id_number.checksum",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::ZhCn => match self {
                IdNumberError::Empty => "请填写身份证号码".to_owned(),
                IdNumberError::Length { found } => {
                    format!("身份证号码应为18位（旧版一代证为15位数字），当前输入了{found}位")
                }
                IdNumberError::InvalidCharacter { position } => {
                    format!("身份证号码第{position}位字符无效：只能填写数字，仅第18位可以是X")
                }
                IdNumberError::ForeignPermanentResident => {
                    "以9开头的号码是外国人永久居留身份证号码，不是中国公民身份号码".to_owned()
                }
                IdNumberError::UnknownProvince => {
                    "身份证号码前两位不是有效的省级行政区划代码".to_owned()
                }
                IdNumberError::TaiwanProvinceCode => {
                    "代码71（台湾省）不用于居民身份证；台湾居民居住证号码以830000开头".to_owned()
                }
                IdNumberError::AddressCode => "身份证号码前六位地址码不存在".to_owned(),
                IdNumberError::BirthDate => {
                    "身份证号码中的出生日期（第7至14位）不是有效日期".to_owned()
                }
                IdNumberError::BirthDateInFuture => "身份证号码中的出生日期晚于今天".to_owned(),
                IdNumberError::ImplausibleAge => {
                    "身份证号码中的出生日期对应年龄超过150岁".to_owned()
                }
                IdNumberError::Checksum => "身份证号码校验位不正确".to_owned(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    /// A fixed "today" so that the tests do not age (440524188001010014 turns 151 in 2031).
    const TODAY: Date = date(2026, 1, 15);

    fn parse(s: &str) -> Result<IdNumber, IdNumberError> {
        IdNumber::parse_on(s, TODAY)
    }

    /// Builds a synthetic ID from its first 17 digits.
    fn with_check(first17: &str) -> String {
        let check = IdNumber::check_digit_for(first17).expect("17 digits");
        format!("{first17}{check}")
    }

    #[test]
    fn public_valid_examples_parse() {
        // domain §7.2, all of them.
        for s in [
            "11010519491231002X",
            "440524188001010014",
            "440308199901101512",
            "110101199003078670",
            "430302199312194239",
            "500154199804106120",
            "810000199408230021",
            "830000199201300022",
            "11010219840406970X",
        ] {
            let id = parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(id.as_str(), s);
            assert_eq!(id.to_string(), s);
        }
    }

    #[test]
    fn public_invalid_examples_fail_with_the_right_error() {
        // domain §7.2 "Known invalid cases".
        assert_eq!(parse("110105194912310021"), Err(IdNumberError::Checksum));
        assert_eq!(parse("440308199901101513"), Err(IdNumberError::Checksum));
        assert_eq!(parse("11010119900307867X"), Err(IdNumberError::Checksum));
        assert_eq!(parse("440308199902301512"), Err(IdNumberError::BirthDate));
        assert_eq!(parse("111111199901101512"), Err(IdNumberError::AddressCode));
        // Same wrong address code with a correct check digit: still rejected.
        assert_eq!(
            parse(&with_check("11111119990110151")),
            Err(IdNumberError::AddressCode)
        );
    }

    #[test]
    fn decodes_gb_worked_examples() {
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), date(1949, 12, 31));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.kind(), IdKind::Citizen);
        assert_eq!(id.province_code(), "11");
        assert_eq!(id.province_name(Lang::ZhCn), "北京市");
        assert_eq!(id.province_name(Lang::En), "Beijing");
        assert_eq!(id.age_on(TODAY), 76);

        let id = parse("440524188001010014").unwrap();
        assert_eq!(id.birth_date(), date(1880, 1, 1));
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.province_name(Lang::ZhCn), "广东省");
        assert_eq!(id.age_on(TODAY), 146);
    }

    #[test]
    fn residence_permits_are_accepted_with_their_kind() {
        assert_eq!(
            parse("810000199408230021").unwrap().kind(),
            IdKind::HkResidencePermit
        );
        assert_eq!(
            parse(&with_check("82000019900101002")).unwrap().kind(),
            IdKind::MacaoResidencePermit
        );
        let tw = parse("830000199201300022").unwrap();
        assert_eq!(tw.kind(), IdKind::TaiwanResidencePermit);
        assert_eq!(tw.province_name(Lang::En), "Taiwan");
        // Only the exact 810000/820000/830000 prefixes exist.
        assert_eq!(
            parse(&with_check("81010019900101002")),
            Err(IdNumberError::AddressCode)
        );
    }

    #[test]
    fn upgrades_15_digit_numbers() {
        // domain §7.1 example (jxlwqq test).
        let id = parse("610104620927690").unwrap();
        assert_eq!(id.as_str(), "610104196209276908");
        assert_eq!(id.birth_date(), date(1962, 9, 27));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(parse("610104620230690"), Err(IdNumberError::BirthDate));
        assert_eq!(
            parse("61010462092769X"),
            Err(IdNumberError::InvalidCharacter { position: 15 })
        );
    }

    #[test]
    fn normalises_full_width_and_lower_case_x() {
        let expected = "11010519491231002X";
        for input in [
            "１１０１０５１９４９１２３１００２Ｘ",
            "１１０１０５１９４９１２３１００２ｘ",
            "11010519491231002x",
            "  11010519491231002X\t",
            "\u{3000}11010519491231002X\u{3000}",
        ] {
            assert_eq!(
                parse(input).map(|id| id.to_string()).as_deref(),
                Ok(expected)
            );
        }
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!(parse(""), Err(IdNumberError::Empty));
        assert_eq!(parse("   "), Err(IdNumberError::Empty));
        assert_eq!(
            parse("1101051949123100"),
            Err(IdNumberError::Length { found: 16 })
        );
        assert_eq!(
            parse("11010519491231002X1"),
            Err(IdNumberError::Length { found: 19 })
        );
        assert_eq!(
            parse("1101051949123100XX"),
            Err(IdNumberError::InvalidCharacter { position: 17 })
        );
        assert_eq!(
            parse("11010519491231002Y"),
            Err(IdNumberError::InvalidCharacter { position: 18 })
        );
        assert_eq!(
            parse("110105 19491231002"),
            Err(IdNumberError::InvalidCharacter { position: 7 })
        );
        // Characters, not bytes: 18 CJK characters are 18 characters.
        assert_eq!(
            parse("一二三四五六七八九十一二三四五六七八"),
            Err(IdNumberError::InvalidCharacter { position: 1 })
        );
    }

    #[test]
    fn rejects_future_and_implausible_birth_dates() {
        assert_eq!(
            parse(&with_check("11010520260116001")),
            Err(IdNumberError::BirthDateInFuture)
        );
        // Born today is fine (a newborn's first passport).
        let newborn = parse(&with_check("11010520260115001")).unwrap();
        assert_eq!(newborn.age_on(TODAY), 0);
        assert_eq!(
            parse(&with_check("11010518750114001")),
            Err(IdNumberError::ImplausibleAge)
        );
        // Exactly 150 is still accepted.
        assert!(parse(&with_check("11010518760115001")).is_ok());
        assert_eq!(
            parse(&with_check("11010500000101001")),
            Err(IdNumberError::ImplausibleAge)
        );
        assert_eq!(
            parse(&with_check("11010519491331002")),
            Err(IdNumberError::BirthDate)
        );
        assert_eq!(
            parse(&with_check("11010519490000002")),
            Err(IdNumberError::BirthDate)
        );
    }

    #[test]
    fn rejects_foreign_permanent_resident_and_unknown_provinces() {
        // A synthetic 2023-style foreign permanent resident ID with a valid check digit.
        assert_eq!(
            parse(&with_check("93111919900101001")),
            Err(IdNumberError::ForeignPermanentResident)
        );
        assert_eq!(
            parse(&with_check("71000019900101001")),
            Err(IdNumberError::TaiwanProvinceCode)
        );
        for prefix in [
            "00", "10", "16", "20", "24", "30", "39", "47", "60", "66", "80", "84",
        ] {
            assert_eq!(
                parse(&with_check(&format!("{prefix}010119900101001"))),
                Err(IdNumberError::UnknownProvince),
                "{prefix}"
            );
        }
    }

    #[test]
    fn municipality_prefectures() {
        assert!(parse(&with_check("11022219900101001")).is_ok()); // 北京 县 (old)
        assert!(parse(&with_check("50038119900101001")).is_ok()); // 重庆 江津市 (1992–2006)
        assert_eq!(
            parse(&with_check("31030119900101001")),
            Err(IdNumberError::AddressCode)
        );
        assert_eq!(
            parse(&with_check("12000019900101001")),
            Err(IdNumberError::AddressCode)
        );
    }

    #[test]
    fn age_in_completed_years() {
        let id = parse(&with_check("11010520000229001")).unwrap();
        assert_eq!(id.age_on(date(2001, 2, 28)), 0);
        assert_eq!(id.age_on(date(2001, 3, 1)), 1);
        assert_eq!(id.age_on(date(2018, 2, 28)), 17);
        assert_eq!(id.age_on(date(2018, 3, 1)), 18);
        assert_eq!(id.age_on(date(2000, 2, 28)), -1);
    }

    #[test]
    fn masked_and_debug_hide_the_number() {
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(id.masked(), "1101**********002X");
        let debug = format!("{id:?}");
        assert_eq!(debug, "IdNumber(\"1101**********002X\")");
        assert!(!debug.contains("19491231"));
    }

    #[test]
    fn serde_as_string() {
        let id = parse("11010519491231002X").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"11010519491231002X\"");
        let back: IdNumber = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        let upgraded: IdNumber = serde_json::from_str("\"610104620927690\"").unwrap();
        assert_eq!(upgraded.as_str(), "610104196209276908");
        assert!(serde_json::from_str::<IdNumber>("\"110105194912310021\"").is_err());
        assert_eq!(
            "11010519491231002X"
                .parse::<IdNumber>()
                .map(|i| i.to_string()),
            Ok("11010519491231002X".to_owned())
        );
    }

    #[test]
    fn today_is_plausible() {
        let today = today_in_shanghai();
        assert!(today.year() >= 2025);
    }

    #[test]
    fn check_digit_for_rejects_bad_input() {
        assert_eq!(IdNumber::check_digit_for("11010519491231002"), Some('X'));
        assert_eq!(IdNumber::check_digit_for("1101051949123100"), None);
        assert_eq!(IdNumber::check_digit_for("1101051949123100a"), None);
    }

    #[test]
    fn every_error_has_both_languages() {
        let all = [
            IdNumberError::Empty,
            IdNumberError::Length { found: 16 },
            IdNumberError::InvalidCharacter { position: 3 },
            IdNumberError::ForeignPermanentResident,
            IdNumberError::UnknownProvince,
            IdNumberError::TaiwanProvinceCode,
            IdNumberError::AddressCode,
            IdNumberError::BirthDate,
            IdNumberError::BirthDateInFuture,
            IdNumberError::ImplausibleAge,
            IdNumberError::Checksum,
        ];
        let mut codes = std::collections::HashSet::new();
        for e in &all {
            let zh = e.message(Lang::ZhCn);
            let en = e.message(Lang::En);
            assert!(!zh.trim().is_empty() && !en.trim().is_empty(), "{e:?}");
            assert_ne!(zh, en, "{e:?}");
            assert!(e.code().starts_with("id_number."));
            assert!(codes.insert(e.code()), "duplicate code {}", e.code());
        }
        assert_eq!(
            IdNumberError::Checksum.message(Lang::ZhCn),
            "身份证号码校验位不正确"
        );
        assert_eq!(
            IdNumberError::Checksum.message(Lang::En),
            "The ID number's check digit is wrong"
        );
    }

    const CITIZEN_PROVINCES: [&str; 31] = [
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
        "65",
    ];

    /// 17 digits: a valid address code, a real date between 1900-01-01 and TODAY, any sequence.
    fn first17() -> impl Strategy<Value = String> {
        let start = date(1900, 1, 1);
        let days = i64::from((TODAY - start).get_days());
        (
            proptest::sample::select(CITIZEN_PROVINCES.to_vec()),
            0u32..100,
            0u32..100,
            0..=days,
            0u32..1000,
        )
            .prop_map(move |(province, prefecture, county, offset, seq)| {
                let prefecture = match province {
                    "11" | "12" | "31" => 1 + prefecture % 2,
                    "50" => 1 + prefecture % 3,
                    _ => prefecture,
                };
                let birth = start
                    .checked_add(jiff::Span::new().days(offset))
                    .expect("in range");
                format!(
                    "{province}{prefecture:02}{county:02}{}{seq:03}",
                    birth.strftime("%Y%m%d")
                )
            })
    }

    proptest! {
        #[test]
        fn generated_numbers_with_computed_check_digit_parse(first17 in first17()) {
            let s = with_check(&first17);
            let id = parse(&s);
            prop_assert!(id.is_ok(), "{} -> {:?}", s, id);
        }

        #[test]
        fn any_single_digit_change_is_detected(
            first17 in first17(),
            position in 0usize..18,
            delta in 1u8..10,
        ) {
            let valid = with_check(&first17);
            let mut bytes = valid.clone().into_bytes();
            let old = bytes[position];
            bytes[position] = if position == 17 {
                // Check position: cycle through the other 10 of "0123456789X".
                let alphabet = b"0123456789X";
                let idx = alphabet.iter().position(|&c| c == old).expect("check char");
                alphabet[(idx + usize::from(delta)) % 11]
            } else {
                b'0' + (old - b'0' + delta) % 10
            };
            let changed = String::from_utf8(bytes).expect("ascii");
            prop_assert!(parse(&changed).is_err(), "{} (from {}) parsed", changed, valid);
        }
    }
}
