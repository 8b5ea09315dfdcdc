//! Which endorsements a kiosk may issue to the holder of a permit it has read (issue 14 §4,
//! exit-entry.md §1.2, §6), from the catalog and the chip alone: pure, so every rule is a test.

use jiff::ToSpan;
use jiff::civil::Date;
use serde::Serialize;

use super::station::PermitChip;
use crate::catalog::{Catalog, EndorsementType, Entries, Validity};
use crate::i18n::Lang;

/// A permit must stay valid this long after today before it takes any endorsement, and at
/// least until the endorsement ends: "an EEP with less than 6 months' validity, or shorter
/// than the endorsement applied for, should be renewed first" (exit-entry.md §1.2).
pub const PERMIT_MONTHS_LEFT: u32 = 6;

/// One endorsement the kiosk can issue, with today's fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Offer {
    pub option_id: String,
    pub name: String,
    pub fee_fen: i64,
    #[schema(format = Date)]
    pub valid_until: String,
    /// `None`: multiple entries.
    pub entries: Option<u32>,
}

/// Why a type is not issued at this kiosk to this holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// Not issued on kiosks at all (T, Q, D, most Taiwan types): a window or an appointment.
    WindowOnly,
    /// Issuance suspended (Taiwan G since 2019-08-01).
    Suspended,
    /// The holder's first endorsement of this type is applied for at a window (§6).
    FirstTimeAtWindow,
    /// An endorsement of this type on the card is still usable.
    StillValid {
        #[schema(format = Date)]
        valid_until: String,
        entries_left: Option<u32>,
    },
    /// The permit ends too soon: renew it first.
    PermitEndsTooSoon {
        #[schema(format = Date)]
        valid_until: String,
    },
    /// Registered state personnel need their unit's approval (§6).
    StatePersonnel,
    /// None of the type's kiosk options is open to the holder's place of residence.
    NotResident,
}

impl Refusal {
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Refusal::WindowOnly => lang
                .pick(
                    "此类签注不能自助办理，请到窗口办理或先预约。",
                    "This endorsement is not issued at kiosks: apply at a window, or book an appointment.",
                )
                .into(),
            Refusal::Suspended => lang
                .pick("此类签注暂停办理。", "This endorsement is suspended.")
                .into(),
            Refusal::FirstTimeAtWindow => lang
                .pick(
                    "首次申请此类签注须到窗口办理；以后可自助续签。",
                    "A first endorsement of this type is applied for at a window; later ones can be renewed here.",
                )
                .into(),
            Refusal::StillValid {
                valid_until,
                entries_left,
            } => match (lang, entries_left) {
                (Lang::ZhCn, Some(n)) => {
                    format!("证件上的此类签注有效期至{valid_until}，尚余{n}次，用完或到期后再办理。")
                }
                (Lang::ZhCn, None) => {
                    format!("证件上的此类签注有效期至{valid_until}，到期后再办理。")
                }
                (Lang::En, Some(n)) => format!(
                    "The endorsement of this type on your permit is valid until {valid_until} with {n} entries left: renew it when used up or expired."
                ),
                (Lang::En, None) => format!(
                    "The endorsement of this type on your permit is valid until {valid_until}: renew it when it expires."
                ),
            },
            Refusal::PermitEndsTooSoon { valid_until } => match lang {
                Lang::ZhCn => format!(
                    "通行证有效期至{valid_until}，不足{PERMIT_MONTHS_LEFT}个月或短于签注有效期，请先换发通行证（可在窗口办理或预约）。"
                ),
                Lang::En => format!(
                    "Your permit is valid until {valid_until}: less than {PERMIT_MONTHS_LEFT} months, or shorter than the endorsement. Renew the permit first (at a window, or book an appointment)."
                ),
            },
            Refusal::StatePersonnel => lang
                .pick(
                    "登记备案的国家工作人员须经单位审批，请到窗口办理。",
                    "Registered state personnel need their unit's approval: apply at a window.",
                )
                .into(),
            Refusal::NotResident => lang
                .pick(
                    "此类签注仅限指定城市户籍或居住证持有人，请到窗口咨询。",
                    "This endorsement is for residents of designated cities only: ask at a window.",
                )
                .into(),
        }
    }
}

/// The verdict for one endorsement type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TypeVerdict {
    #[schema(value_type = String)]
    pub endorsement: EndorsementType,
    pub name: String,
    pub offers: Vec<Offer>,
    pub refusal: Option<Refusal>,
}

/// The date `months` after `date`, the day clamped to the month's length.
pub fn add_months(date: Date, months: u32) -> Date {
    date.checked_add(i64::from(months).months())
        .unwrap_or(Date::MAX)
}

fn entries_of(e: Entries) -> Option<u32> {
    match e {
        Entries::One => Some(1),
        Entries::Two => Some(2),
        Entries::Multiple => None,
    }
}

/// Every endorsement type of the permit with what the kiosk offers or why it refuses.
pub fn assess(catalog: &Catalog, chip: &PermitChip, today: Date, lang: Lang) -> Vec<TypeVerdict> {
    catalog
        .endorsement_types(chip.document)
        .into_iter()
        .map(|spec| {
            let t = spec.endorsement_type;
            let verdict = |offers: Vec<Offer>, refusal: Option<Refusal>| TypeVerdict {
                endorsement: t,
                name: spec.name.get(lang).to_string(),
                offers,
                refusal,
            };
            let kiosk_options: Vec<_> = spec
                .options
                .iter()
                .filter(|o| spec.option_kiosk_eligible(o) && o.is_available_on(today))
                .collect();
            if spec.is_suspended_on(today) {
                return verdict(vec![], Some(Refusal::Suspended));
            }
            if kiosk_options.is_empty() {
                return verdict(vec![], Some(Refusal::WindowOnly));
            }
            if chip.state_personnel {
                return verdict(vec![], Some(Refusal::StatePersonnel));
            }
            let held: Vec<_> = chip
                .endorsements
                .iter()
                .filter(|e| e.endorsement == t)
                .collect();
            if held.is_empty() && !spec.kiosk_first_time {
                return verdict(vec![], Some(Refusal::FirstTimeAtWindow));
            }
            if let Some(current) = held
                .iter()
                .find(|e| e.valid_until >= today && e.entries_left != Some(0))
            {
                return verdict(
                    vec![],
                    Some(Refusal::StillValid {
                        valid_until: current.valid_until.to_string(),
                        entries_left: current.entries_left,
                    }),
                );
            }
            let residents: Vec<_> = kiosk_options
                .into_iter()
                .filter(|o| {
                    o.residents_of.is_empty()
                        || o.residents_of
                            .iter()
                            .any(|p| chip.hukou_region.starts_with(p.as_str()))
                })
                .collect();
            if residents.is_empty() {
                return verdict(vec![], Some(Refusal::NotResident));
            }
            let permit_floor = add_months(today, PERMIT_MONTHS_LEFT);
            let offers: Vec<Offer> = residents
                .into_iter()
                .filter_map(|o| {
                    let Validity::Months(m) = o.validity else {
                        return None;
                    };
                    let until = add_months(today, m);
                    if chip.valid_until < until.max(permit_floor) {
                        return None;
                    }
                    Some(Offer {
                        option_id: o.id.clone(),
                        name: o.name.get(lang).to_string(),
                        fee_fen: catalog.endorsement_fee(&o.id, today)?,
                        valid_until: until.to_string(),
                        entries: entries_of(o.entries),
                    })
                })
                .collect();
            if offers.is_empty() {
                return verdict(
                    vec![],
                    Some(Refusal::PermitEndsTooSoon {
                        valid_until: chip.valid_until.to_string(),
                    }),
                );
            }
            verdict(offers, None)
        })
        .collect()
}

/// The offer for `option_id` among the verdicts, if the holder may take it.
pub fn offer<'v>(
    verdicts: &'v [TypeVerdict],
    option_id: &str,
) -> Option<(&'v TypeVerdict, &'v Offer)> {
    verdicts.iter().find_map(|v| {
        v.offers
            .iter()
            .find(|o| o.option_id == option_id)
            .map(|o| (v, o))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::self_service::station::TestPermit;
    use jiff::civil::date;

    fn catalog() -> Catalog {
        Catalog::load_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/data/catalog")).expect("catalog")
    }

    fn verdict(v: &[TypeVerdict], t: EndorsementType) -> &TypeVerdict {
        v.iter().find(|x| x.endorsement == t).expect("type listed")
    }

    const TODAY: Date = date(2026, 12, 3);

    #[test]
    fn a_holder_who_had_g_and_l_renews_them_and_nothing_else() {
        let v = assess(&catalog(), &TestPermit::Eligible.chip(), TODAY, Lang::ZhCn);
        let g = verdict(&v, EndorsementType::HkMacaoG);
        assert!(g.refusal.is_none());
        let ids: Vec<_> = g.offers.iter().map(|o| o.option_id.as_str()).collect();
        assert!(ids.contains(&"hk-macao-g-3m-once"), "{ids:?}");
        // Not a Shenzhen or Zhuhai resident; Hengqin is window-only.
        assert!(
            !ids.iter()
                .any(|i| i.contains("shenzhen") || i.contains("zhuhai") || i.contains("hengqin"))
        );
        let once = g
            .offers
            .iter()
            .find(|o| o.option_id == "hk-macao-g-3m-once")
            .expect("offer");
        assert_eq!(once.fee_fen, 1500, "exit-entry.md §3: 15 元 single entry");
        assert_eq!(once.valid_until, "2027-03-03");
        assert!(verdict(&v, EndorsementType::HkMacaoL).refusal.is_none());
        assert_eq!(
            verdict(&v, EndorsementType::HkMacaoS).refusal,
            Some(Refusal::FirstTimeAtWindow)
        );
        assert_eq!(
            verdict(&v, EndorsementType::HkMacaoT).refusal,
            Some(Refusal::WindowOnly)
        );
        assert_eq!(
            verdict(&v, EndorsementType::HkMacaoD).refusal,
            Some(Refusal::WindowOnly)
        );
    }

    #[test]
    fn a_permit_ending_within_six_months_takes_nothing() {
        let v = assess(&catalog(), &TestPermit::Expiring.chip(), TODAY, Lang::En);
        for t in [EndorsementType::HkMacaoG, EndorsementType::HkMacaoL] {
            assert_eq!(
                verdict(&v, t).refusal,
                Some(Refusal::PermitEndsTooSoon {
                    valid_until: "2027-02-28".into()
                })
            );
        }
        assert!(v.iter().all(|x| x.offers.is_empty()));
    }

    #[test]
    fn a_permit_valid_eight_months_takes_three_month_but_not_one_year_endorsements() {
        let mut chip = TestPermit::Eligible.chip();
        chip.valid_until = date(2027, 8, 3);
        let v = assess(&catalog(), &chip, TODAY, Lang::En);
        let g = verdict(&v, EndorsementType::HkMacaoG);
        assert!(
            g.offers.iter().all(|o| o.option_id.contains("3m")),
            "{:?}",
            g.offers
        );
        assert!(!g.offers.is_empty());
    }

    #[test]
    fn shenzhen_residents_get_the_shenzhen_option_and_others_do_not() {
        let v = assess(&catalog(), &TestPermit::Shenzhen.chip(), TODAY, Lang::ZhCn);
        let g = verdict(&v, EndorsementType::HkMacaoG);
        assert!(
            g.offers
                .iter()
                .any(|o| o.option_id == "hk-macao-g-shenzhen-1y-multi")
        );
        let multi = g
            .offers
            .iter()
            .find(|o| o.option_id == "hk-macao-g-shenzhen-1y-multi")
            .expect("offer");
        assert_eq!(multi.entries, None);
        assert_eq!(
            multi.fee_fen, 8000,
            "exit-entry.md §3: multiple entries ≤1 year 80 元"
        );
        // A first L is fine for anyone (§6).
        assert!(verdict(&v, EndorsementType::HkMacaoL).refusal.is_none());
    }

    #[test]
    fn a_usable_endorsement_of_the_type_is_not_renewed_and_state_personnel_go_to_a_window() {
        let mut chip = TestPermit::Eligible.chip();
        chip.endorsements[0].valid_until = date(2027, 1, 10);
        chip.endorsements[0].entries_left = Some(1);
        let v = assess(&catalog(), &chip, TODAY, Lang::ZhCn);
        let refusal = verdict(&v, EndorsementType::HkMacaoG)
            .refusal
            .clone()
            .expect("refused");
        assert!(refusal.message(Lang::ZhCn).contains("尚余1次"));
        let v = assess(
            &catalog(),
            &TestPermit::StatePersonnel.chip(),
            TODAY,
            Lang::ZhCn,
        );
        assert!(v.iter().all(|x| x.offers.is_empty()));
        assert_eq!(
            verdict(&v, EndorsementType::HkMacaoL).refusal,
            Some(Refusal::StatePersonnel)
        );
    }

    #[test]
    fn months_are_added_by_the_calendar() {
        assert_eq!(add_months(date(2026, 8, 31), 6), date(2027, 2, 28));
        assert_eq!(add_months(date(2026, 12, 3), 12), date(2027, 12, 3));
        assert_eq!(add_months(date(2024, 2, 29), 12), date(2025, 2, 28));
    }
}
