//! Every text (SMS) the system sends, pinned by a snapshot of its full wording — in zh-CN and
//! English where the citizen chooses, in Chinese where it goes to the duty leader — so a change
//! of wording is a reviewed change, read as the person receiving it would read it.

mod common;

use common::TestApp;
use onetrip::applications;
use onetrip::booking::messages;
use onetrip::catalog::{DocumentType, TimeLimitClass};
use onetrip::clock::Clock;
use onetrip::complaints;
use onetrip::device_registry::{self, Fault, Kind};
use onetrip::documents::{self, Arrived, ReadyFrom};
use onetrip::domain::calendar::Reckoned;
use onetrip::domain::opening::OpeningRules;
use onetrip::i18n::Lang;
use onetrip::sites::{Site, SiteKind};

const NO: &str = "202611250001000011";

/// A text in both languages, as the snapshot shows it.
fn both(text: impl Fn(Lang) -> String) -> String {
    format!("zh-CN:\n{}\n\nen:\n{}\n", text(Lang::ZhCn), text(Lang::En))
}

/// The demo city's hall, as the texts name it.
fn hall() -> Site {
    Site {
        id: 1,
        code: "0001".into(),
        kind: SiteKind::Hall,
        name_zh: "示范市公安局出入境接待大厅".into(),
        name_en: "Demo City Exit-Entry Service Hall".into(),
        address_zh: "示范市人民路 88 号市民服务中心一楼".into(),
        address_en: "1F Citizen Service Centre, 88 Renmin Road, Demo City".into(),
        phone: "0000-12340001".into(),
        opening_rules: OpeningRules::default_hall(),
        active: true,
    }
}

fn date(y: i16, m: i8, d: i8) -> jiff::civil::Date {
    jiff::civil::date(y, m, d)
}

// ---- bookings -----------------------------------------------------------------------------

#[test]
fn booking_confirmation() {
    let site = hall();
    insta::assert_snapshot!(both(|lang| messages::message_booked(
        lang,
        &site,
        lang.pick(
            "首次申领 / 失效重新申领",
            "First issue / reissue after expiry"
        ),
        "2026-03-04",
        "09:00",
        "09:30",
        "K7M2Q9XA"
    )));
}

#[test]
fn booking_reminder() {
    let site = hall();
    insta::assert_snapshot!(both(|lang| messages::message_reminder(
        lang,
        &site,
        "2026-03-04",
        "09:00",
        "K7M2Q9XA"
    )));
}

#[test]
fn booking_cancelled_by_the_citizen() {
    insta::assert_snapshot!(both(|lang| messages::message_cancelled(
        lang,
        "2026-03-04",
        "09:00",
        "K7M2Q9XA",
        None
    )));
}

#[test]
fn booking_cancelled_because_the_day_closed() {
    insta::assert_snapshot!(both(|lang| messages::message_cancelled(
        lang,
        "2026-03-04",
        "09:00",
        "K7M2Q9XA",
        Some(lang.pick("系统升级", "System upgrade"))
    )));
}

#[test]
fn booking_offered_another_time() {
    let site = hall();
    insta::assert_snapshot!(both(|lang| messages::message_offered(
        lang,
        &site,
        "2027-01-04",
        lang.pick(
            "国务院节假日安排（元旦放假）",
            "the State Council's holiday arrangement (New Year's Day)"
        ),
        "2027-01-06",
        "09:00",
        "09:30",
        "P3X8W5NB"
    )));
}

#[test]
fn booking_locked() {
    insta::assert_snapshot!(both(|lang| messages::message_locked(lang, "K7M2Q9XA")));
}

#[test]
fn waiting_list_place_free() {
    insta::assert_snapshot!(both(|lang| messages::message_place_free(
        lang,
        "2026-03-04"
    )));
}

// ---- applications -------------------------------------------------------------------------

#[test]
fn one_time_notice() {
    insta::assert_snapshot!(both(|lang| applications::message_one_time_notice(
        lang,
        NO,
        &[
            lang.pick("居民身份证", "Resident ID card"),
            lang.pick(
                "《中国公民出入境证件申请表》",
                "Exit-entry document application form"
            ),
        ]
    )));
}

#[test]
fn application_accepted() {
    let promised = Reckoned {
        date: date(2026, 12, 2),
        provisional: false,
    };
    insta::assert_snapshot!(both(|lang| applications::message_accepted(
        lang, NO, 28_000, &promised
    )));
}

#[test]
fn application_accepted_with_a_provisional_date() {
    let promised = Reckoned {
        date: date(2027, 1, 7),
        provisional: true,
    };
    insta::assert_snapshot!(both(|lang| applications::message_accepted(
        lang, NO, 12_050, &promised
    )));
}

#[test]
fn promised_date_moved() {
    let new = Reckoned {
        date: date(2027, 1, 11),
        provisional: false,
    };
    insta::assert_snapshot!(both(|lang| applications::message_promised_moved(
        lang,
        NO,
        2027,
        "2027-01-07",
        &new
    )));
}

// ---- documents ----------------------------------------------------------------------------

fn document(lang: Lang) -> &'static str {
    documents::text_name(DocumentType::HkMacaoPermit, lang)
}

#[test]
fn document_approved() {
    insta::assert_snapshot!(both(|lang| documents::message_approved(
        lang,
        documents::text_name(DocumentType::Passport, lang),
        NO
    )));
}

#[test]
fn document_rejected() {
    insta::assert_snapshot!(both(|lang| documents::message_rejected(
        lang,
        document(lang),
        NO,
        lang.pick("申请人不符合申领条件。", "the applicant does not qualify.")
    )));
}

fn ready_from() -> ReadyFrom {
    ReadyFrom {
        date: date(2026, 12, 2),
        hours: vec!["08:30–12:00".into(), "13:30–17:30".into()],
    }
}

#[test]
fn document_ready_to_collect() {
    let site = hall();
    insta::assert_snapshot!(both(|lang| documents::ready_text(
        Arrived::Produced,
        lang,
        document(lang),
        NO,
        (site.name(lang), site.address(lang)),
        &ready_from()
    )));
}

#[test]
fn document_transferred_to_another_site() {
    let extension = Site {
        name_zh: "高新区出入境延伸办证点".into(),
        name_en: "Hi-Tech Zone Exit-Entry Extension Point".into(),
        address_zh: "示范市高新区创新大道 6 号政务服务中心二楼".into(),
        address_en: "2F Government Service Centre, 6 Chuangxin Avenue, Hi-Tech Zone".into(),
        ..hall()
    };
    insta::assert_snapshot!(both(|lang| documents::ready_text(
        Arrived::Transferred,
        lang,
        documents::text_name(DocumentType::Passport, lang),
        NO,
        (extension.name(lang), extension.address(lang)),
        &ready_from()
    )));
}

#[test]
fn document_uncollected() {
    insta::assert_snapshot!(both(|lang| documents::message_uncollected(
        lang,
        document(lang),
        NO
    )));
}

#[test]
fn documents_shipped() {
    insta::assert_snapshot!(both(|lang| onetrip::express::message_shipped(
        lang,
        NO,
        "EA123456789CN"
    )));
}

// ---- the duty leader's texts (Chinese only: they go to staff) -----------------------------

#[test]
fn leader_digest() {
    let overdue = [
        ("202609300001000011", "普通护照", "2026-10-10"),
        ("202609300001000029", "往来港澳通行证", "2026-10-12"),
    ];
    let text = format!(
        "{}{}{}",
        documents::digest_text(date(2026, 10, 14), 2, 1, 2, &overdue),
        complaints::digest_text(2, 1),
        onetrip::ratings::digest_text(1)
    );
    insta::assert_snapshot!(text);
}

#[test]
fn leader_digest_naming_the_first_five_overdue() {
    let overdue: Vec<(&str, &str, &str)> = (0..7)
        .map(|_| ("202609300001000011", "普通护照", "2026-10-10"))
        .collect();
    insta::assert_snapshot!(documents::digest_text(
        date(2026, 10, 14),
        7,
        0,
        0,
        &overdue
    ));
}

#[test]
fn leader_quiet_digest() {
    insta::assert_snapshot!(documents::digest_text(date(2026, 10, 14), 0, 0, 0, &[]));
}

#[test]
fn leader_repeated_complaint() {
    let officer = complaints::repeated_text(
        "TS202603020002",
        complaints::Category::Attitude,
        2,
        1,
        "2026-03-09",
    );
    let citizen = complaints::repeated_text(
        "TS202603020003",
        complaints::Category::Efficiency,
        1,
        3,
        "2026-03-09",
    );
    insta::assert_snapshot!(format!("{officer}\n{citizen}\n"));
}

#[test]
fn leader_device_alerts() {
    let fault = device_registry::fault_text("大厅 2 号自助机", Kind::Kiosk, Fault::PaperOut);
    let offline = device_registry::offline_text("大厅打印机", Kind::Printer);
    insta::assert_snapshot!(format!("{fault}\n{offline}\n"));
}

#[test]
fn leader_self_service_stopped() {
    insta::assert_snapshot!(onetrip::self_service::stopped_text(
        "城东派出所自助签注点",
        "大厅 3 号自助机",
        "202603020003000021"
    ));
}

// ---- what the outbox gets, through the use cases ------------------------------------------

/// The texts of one application as the system queues them, from acceptance to the documents
/// waiting at the hall: the wording functions above with the dates, hours, names and address
/// the use cases give them. The application is in Chinese until the second document arrives,
/// then in English.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_from_acceptance_to_pickup() {
    // Wednesday 25 November 2026, 09:00 at the hall.
    let app = TestApp::spawn_full(
        common::Engine::Sqlite,
        onetrip::config::Config::default(),
        Clock::fixed(common::at("2026-11-25T09:00:00+08:00")),
    )
    .await
    .expect("app");
    let site = app.site_id("0001").await;
    let actor = common::actor_at(
        site,
        &[
            onetrip::auth::Role::Officer,
            onetrip::auth::Role::Approver,
            onetrip::auth::Role::Producer,
            onetrip::auth::Role::Custodian,
        ],
    );
    let ctx = app.state.applications();
    let no = common::accepted_at(
        &app,
        &actor,
        common::synthetic_id("19900203", 7),
        TimeLimitClass::Normal,
    )
    .await;
    common::pay_cash(&app, site, &no).await;
    let row = applications::application_by_no(app.state.db.reader(), no.as_str())
        .await
        .expect("q")
        .expect("application");
    let produced = common::produced(&app, &actor, row.id, "E12345678", "CA1234567").await;
    let hall = onetrip::sites::site(app.state.db.reader(), site)
        .await
        .expect("q")
        .expect("hall");
    for (i, d) in produced.iter().enumerate() {
        if i == 1 {
            sqlx::query("UPDATE applications SET lang = 'en' WHERE id = $1")
                .bind(row.id)
                .execute(app.state.db.reader())
                .await
                .expect("English from now on");
        }
        let label = d.label.clone().expect("label");
        documents::check_in(
            &ctx,
            &common::granted(&actor),
            &label,
            &hall,
            "A",
            &format!("0{}", i + 1),
        )
        .await
        .expect("check in");
    }
    let texts: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, body FROM outbox WHERE ref = $1 ORDER BY id")
            .bind(no.as_str())
            .fetch_all(app.state.db.reader())
            .await
            .expect("outbox");
    let shown: String = texts
        .iter()
        .map(|(kind, body)| format!("{kind}:\n{body}\n\n"))
        .collect();
    insta::assert_snapshot!(shown);
}
