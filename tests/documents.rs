//! From acceptance to the citizen's hands (R7, R9) on SQLite and PostgreSQL: illegal
//! transitions refused, production in batches, custody check-in and slots, inventory audits,
//! pickup refused on identity mismatch / proxy without ID or receipt / nothing in custody,
//! data errors back to production, overdue detection across holidays, the citizen's progress.

mod common;

use common::TestApp;
use onetrip::applications;
use onetrip::auth::{Actor, Failure, Role, RoleGrant};
use onetrip::catalog::TimeLimitClass;
use onetrip::devices::VerifyMethod;
use onetrip::documents::flow::Stage;
use onetrip::documents::{self, DocumentError, PickupInput, Recipient};
use onetrip::domain::application_no::ApplicationNo;
use onetrip::domain::id_number::IdNumber;
use onetrip::i18n::Lang;

/// Wednesday before National Day 2026.
const DAY: &str = "2026-09-30T09:00:00+08:00";

/// One person holding every role at the hall (each use case checks its own).
fn staff(site_id: i64) -> Actor {
    common::actor_at(
        site_id,
        &[
            Role::Officer,
            Role::Approver,
            Role::Producer,
            Role::Custodian,
            Role::Leader,
        ],
    )
}

fn id_number(n: u32) -> IdNumber {
    common::synthetic_id("19900203", n)
}

fn refusal<T: std::fmt::Debug>(r: Result<T, Failure<DocumentError>>) -> DocumentError {
    match r {
        Err(Failure::Refused(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// An accepted passport + HK/Macao permit application, collected at the hall.
/// An application accepted at the hall and paid in cash.
async fn accepted(app: &TestApp, n: u32, class: TimeLimitClass) -> ApplicationNo {
    let no = accepted_unpaid(app, n, class).await;
    common::pay_cash(app, app.site_id("0001").await, &no).await;
    no
}

/// An application accepted at the hall, its fee still owed.
async fn accepted_unpaid(app: &TestApp, n: u32, class: TimeLimitClass) -> ApplicationNo {
    let site = app.site_id("0001").await;
    common::accepted_at(app, &staff(site), id_number(n), class).await
}

async fn docs(app: &TestApp, no: &ApplicationNo) -> Vec<documents::DocRow> {
    let row = applications::application_by_no(app.state.db.reader(), no.as_str())
        .await
        .expect("q")
        .expect("application");
    documents::docs_of_application(app.state.db.reader(), row.id)
        .await
        .expect("docs")
}

/// Review, approve and produce every document of the application.
async fn produce(app: &TestApp, actor: &Actor, no: &ApplicationNo) -> Vec<String> {
    let ctx = app.state.applications();
    let mut ids = Vec::new();
    for d in docs(app, no).await {
        documents::start_review(&ctx, &common::granted(actor), d.id)
            .await
            .expect("review");
        documents::approve(&ctx, &common::granted(actor), d.id)
            .await
            .expect("approve");
        ids.push(d.id);
    }
    let batch = documents::start_batch(&ctx, &common::granted(actor), &ids)
        .await
        .expect("batch");
    let numbers: Vec<(i64, String)> = docs(app, no)
        .await
        .iter()
        .map(|d| {
            let n = if d.document_type == "passport" {
                "E12345678"
            } else {
                "CA1234567"
            };
            (d.id, n.to_string())
        })
        .collect();
    let produced = documents::finish_batch(&ctx, &common::granted(actor), batch, &numbers)
        .await
        .expect("produced");
    assert!(produced.iter().all(|d| d.stage == Stage::Produced));
    // A batch is produced once.
    assert_eq!(
        refusal(documents::finish_batch(&ctx, &common::granted(actor), batch, &numbers).await),
        DocumentError::BatchFinished
    );
    produced
        .iter()
        .map(|d| d.label.clone().expect("label"))
        .collect()
}

async fn illegal_transitions_are_refused(app: TestApp) {
    let site = app.site_id("0001").await;
    let actor = staff(site);
    let ctx = app.state.applications();
    let no = accepted(&app, 1, TimeLimitClass::Normal).await;
    let d = docs(&app, &no).await;
    let id = d[0].id;
    assert_eq!(d[0].stage, Stage::Accepted);
    assert_eq!(
        d[0].label.as_deref(),
        Some(format!("{}01", no.as_str()).as_str())
    );
    // Not reviewed yet: no approval, no production, no custody.
    assert_eq!(
        refusal(documents::approve(&ctx, &common::granted(&actor), id).await),
        DocumentError::IllegalTransition(Stage::Accepted, Stage::Approved)
    );
    assert_eq!(
        refusal(documents::start_batch(&ctx, &common::granted(&actor), &[id]).await),
        DocumentError::IllegalTransition(Stage::Accepted, Stage::InProduction)
    );
    let hall = onetrip::sites::site(app.state.db.reader(), site)
        .await
        .expect("q")
        .expect("hall");
    let label = d[0].label.clone().expect("label");
    assert_eq!(
        refusal(
            documents::check_in(&ctx, &common::granted(&actor), &label, &hall, "A", "01").await
        ),
        DocumentError::IllegalTransition(Stage::Accepted, Stage::InCustody)
    );
    // A role the actor lacks.
    let clerk = Actor {
        grants: vec![RoleGrant {
            role: Role::Officer,
            site_id: Some(site),
        }],
        ..actor.clone()
    };
    assert_eq!(
        refusal(documents::duty::<onetrip::auth::grant::Review>(&clerk)),
        DocumentError::NotYourRole
    );
    // The role, but at another site: the grant does not cover the document's site.
    let elsewhere = Actor {
        grants: vec![RoleGrant {
            role: Role::Approver,
            site_id: Some(site + 1000),
        }],
        ..actor.clone()
    };
    assert_eq!(
        refusal(documents::start_review(&ctx, &common::granted(&elsewhere), id).await),
        DocumentError::NotYourRole
    );
    documents::start_review(&ctx, &common::granted(&actor), id)
        .await
        .expect("review");
    assert_eq!(
        refusal(documents::reject(&ctx, &common::granted(&actor), id, " ", false).await),
        DocumentError::ReasonsNeeded
    );
    let rejected = documents::reject(&ctx, &common::granted(&actor), id, "申请材料不实", false)
        .await
        .expect("reject");
    assert_eq!(rejected.stage, Stage::Rejected);
    // Rejected is final.
    assert_eq!(
        refusal(documents::approve(&ctx, &common::granted(&actor), id).await),
        DocumentError::IllegalTransition(Stage::Rejected, Stage::Approved)
    );
    assert_eq!(
        refusal(documents::start_batch(&ctx, &common::granted(&actor), &[id]).await),
        DocumentError::IllegalTransition(Stage::Rejected, Stage::InProduction)
    );
    // Every step is recorded with who and when; the applicant was told.
    let steps = documents::steps(app.state.db.reader(), id)
        .await
        .expect("steps");
    let path: Vec<(&str, &str)> = steps
        .iter()
        .map(|s| (s.from_stage.as_str(), s.to_stage.as_str()))
        .collect();
    assert_eq!(
        path,
        vec![("accepted", "under_review"), ("under_review", "rejected")]
    );
    let told: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'document.rejected' AND ref = $1",
    )
    .bind(no.as_str())
    .fetch_one(app.state.db.reader())
    .await
    .expect("outbox");
    assert_eq!(told, 1);
}
on_both_engines!(
    illegal,
    at = super::DAY,
    super::illegal_transitions_are_refused
);

async fn custody_pickup_and_inventory(app: TestApp) {
    let site = app.site_id("0001").await;
    let hall = onetrip::sites::site(app.state.db.reader(), site)
        .await
        .expect("q")
        .expect("hall");
    let actor = staff(site);
    let ctx = app.state.applications();
    let no = accepted(&app, 2, TimeLimitClass::Normal).await;

    // Nothing in custody yet: pickup refused.
    let me = id_number(2).as_str().to_string();
    let pickup = |recipient: Recipient, receipt: bool| PickupInput {
        applicant_id: me.clone(),
        recipient,
        receipt_presented: receipt,
        method: VerifyMethod::Fingerprint,
    };
    assert_eq!(
        refusal(
            documents::issue_documents(
                &ctx,
                &common::granted(&actor),
                &no,
                site,
                pickup(Recipient::Applicant, true)
            )
            .await
        ),
        DocumentError::NotInCustody
    );

    let labels = produce(&app, &actor, &no).await;
    documents::check_in(&ctx, &common::granted(&actor), &labels[0], &hall, "A", "01")
        .await
        .expect("check in");
    // One slot holds one document.
    assert_eq!(
        refusal(
            documents::check_in(&ctx, &common::granted(&actor), &labels[1], &hall, "A", "01").await
        ),
        DocumentError::SlotTaken
    );
    documents::check_in(&ctx, &common::granted(&actor), &labels[1], &hall, "A", "02")
        .await
        .expect("check in");
    let ready: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'document.ready' AND ref = $1",
    )
    .bind(no.as_str())
    .fetch_one(app.state.db.reader())
    .await
    .expect("outbox");
    assert_eq!(ready, 2);
    documents::move_document(
        &ctx,
        &common::granted(&actor),
        &labels[1],
        "B",
        "07",
        "rearranged",
    )
    .await
    .expect("move");

    // Inventory: the cabinet scan misses one and has one the records do not.
    let stray = format!("{}09", no.as_str());
    let found = documents::inventory_audit(
        &ctx,
        &common::granted(&actor),
        site,
        &[labels[0].clone(), stray.clone()],
    )
    .await
    .expect("audit");
    assert_eq!(found.missing, vec![labels[1].clone()]);
    assert_eq!(found.extra, vec![stray]);
    assert_eq!(found.matched, 1);

    // Identity mismatch, proxy without receipt, proxy with their own ID missing.
    let wrong = PickupInput {
        applicant_id: id_number(3).as_str().to_string(),
        ..pickup(Recipient::Applicant, true)
    };
    assert_eq!(
        refusal(documents::issue_documents(&ctx, &common::granted(&actor), &no, site, wrong).await),
        DocumentError::IdentityMismatch
    );
    let proxy = Recipient::Proxy {
        id_number: id_number(4),
        name: "王代领".into(),
    };
    assert_eq!(
        refusal(
            documents::issue_documents(
                &ctx,
                &common::granted(&actor),
                &no,
                site,
                pickup(proxy.clone(), false)
            )
            .await
        ),
        DocumentError::ReceiptNeeded
    );
    let self_proxy = Recipient::Proxy {
        id_number: id_number(2),
        name: "李流程".into(),
    };
    assert_eq!(
        refusal(
            documents::issue_documents(
                &ctx,
                &common::granted(&actor),
                &no,
                site,
                pickup(self_proxy, true)
            )
            .await
        ),
        DocumentError::ProxyIdNeeded
    );
    // A guardian is only for under-16 applicants on record.
    assert_eq!(
        refusal(
            documents::issue_documents(
                &ctx,
                &common::granted(&actor),
                &no,
                site,
                pickup(
                    Recipient::Guardian {
                        id_number: id_number(5)
                    },
                    true
                )
            )
            .await
        ),
        DocumentError::IdentityMismatch
    );

    // The data of one document is wrong: back to production, the slot is freed.
    let back = documents::report_error(&ctx, &common::granted(&actor), &labels[1], "姓名拼音有误")
        .await
        .expect("report");
    assert_eq!(back.stage, Stage::InProduction);
    assert!(
        documents::slot_of(app.state.db.reader(), back.id)
            .await
            .expect("slot")
            .is_none()
    );

    // The proxy collects what is ready, together; the rest follows later.
    let issued = documents::issue_documents(
        &ctx,
        &common::granted(&actor),
        &no,
        site,
        pickup(proxy, true),
    )
    .await
    .expect("issue");
    assert_eq!(issued.labels, vec![labels[0].clone()]);
    assert_eq!(issued.still_pending, 1);
    let d = docs(&app, &no).await;
    assert_eq!(d[0].stage, Stage::Issued);
    assert!(
        documents::slot_of(app.state.db.reader(), d[0].id)
            .await
            .expect("slot")
            .is_none()
    );
    let pickups: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pickups WHERE recipient = 'proxy'")
        .fetch_one(app.state.db.reader())
        .await
        .expect("pickups");
    assert_eq!(pickups, 1);
    // Issued is final: not again.
    assert_eq!(
        refusal(
            documents::issue_documents(
                &ctx,
                &common::granted(&actor),
                &no,
                site,
                pickup(Recipient::Applicant, true)
            )
            .await
        ),
        DocumentError::NotInCustody
    );

    // The citizen's progress: only with the right ID number; every step in plain words.
    assert!(
        documents::progress(&ctx, &no, &id_number(9), Lang::ZhCn)
            .await
            .expect("progress")
            .is_none()
    );
    let p = documents::progress(&ctx, &no, &id_number(2), Lang::En)
        .await
        .expect("progress")
        .expect("mine");
    let passport = &p.documents[0];
    let said: Vec<&str> = passport.steps.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(said[0], "Accepted");
    assert!(
        said.contains(&"Approved") && said.contains(&"Produced") && said.contains(&"Collected")
    );
    assert!(
        said.iter().any(|s| s.starts_with("Ready to collect · ")),
        "{said:?}"
    );
}
on_both_engines!(
    custody,
    at = super::DAY,
    super::custody_pickup_and_inventory
);

async fn overdue_is_found_across_holidays(app: TestApp) {
    let ctx = app.state.applications();
    // Accepted Wed 2026-09-30: normal promised 2026-10-15, expedited 2026-10-13.
    let normal = accepted(&app, 6, TimeLimitClass::Normal).await;
    let urgent = accepted(&app, 7, TimeLimitClass::Expedited).await;
    let due = |d: &str| {
        let d: jiff::civil::Date = d.parse().expect("date");
        async move { documents::due_watch(&ctx, d).await.expect("watch") }
    };
    // During the holiday nothing is due yet, even a week in.
    let w = due("2026-10-07").await;
    assert!(w.overdue.is_empty() && w.near_due.is_empty(), "{w:?}");
    // Mon 2026-10-12: the expedited ones are due the next working day.
    let w = due("2026-10-12").await;
    assert!(w.overdue.is_empty());
    assert!(
        w.near_due
            .iter()
            .all(|d| d.application_no == urgent.as_str())
    );
    assert_eq!(w.near_due.len(), 2);
    // Wed 2026-10-14: expedited overdue; the normal ones are due the next working day.
    let w = due("2026-10-14").await;
    assert_eq!(w.overdue.len(), 2);
    assert!(
        w.overdue
            .iter()
            .all(|d| d.application_no == urgent.as_str())
    );
    assert!(
        w.near_due
            .iter()
            .all(|d| d.application_no == normal.as_str())
    );
    // Fri 2026-10-16 → the next working day is Mon 19th; the normal ones are overdue now.
    let w = due("2026-10-16").await;
    assert_eq!(w.overdue.len(), 4);
    // Issued documents are no longer watched.
    let site = app.site_id("0001").await;
    let actor = staff(site);
    let d = docs(&app, &urgent).await;
    documents::start_review(&ctx, &common::granted(&actor), d[0].id)
        .await
        .expect("review");
    documents::reject(&ctx, &common::granted(&actor), d[0].id, "不符合条件", false)
        .await
        .expect("reject");
    assert_eq!(due("2026-10-16").await.overdue.len(), 3);
}
on_both_engines!(
    overdue,
    at = super::DAY,
    super::overdue_is_found_across_holidays
);

async fn one_slot_holds_one_document_under_concurrency(app: TestApp) {
    let site = app.site_id("0001").await;
    let hall = onetrip::sites::site(app.state.db.reader(), site)
        .await
        .expect("q")
        .expect("hall");
    let actor = staff(site);
    let mut labels = Vec::new();
    for n in 10..15 {
        let no = accepted(&app, n, TimeLimitClass::Normal).await;
        labels.extend(produce(&app, &actor, &no).await);
    }
    let mut tasks = Vec::new();
    for label in labels.clone() {
        let state = app.state.clone();
        let (actor, hall) = (actor.clone(), hall.clone());
        tasks.push(tokio::spawn(async move {
            documents::check_in(
                &state.applications(),
                &common::granted(&actor),
                &label,
                &hall,
                "C",
                "01",
            )
            .await
        }));
    }
    let mut placed = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => placed += 1,
            Err(Failure::Refused(DocumentError::SlotTaken)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(placed, 1, "one document in the slot");
    // The losers are still produced (their transaction rolled back), so they can go elsewhere.
    let in_custody: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM application_documents WHERE status = 'in_custody'",
    )
    .fetch_one(app.state.db.reader())
    .await
    .expect("count");
    assert_eq!(in_custody, 1);
    let produced: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM application_documents WHERE status = 'produced'")
            .fetch_one(app.state.db.reader())
            .await
            .expect("count");
    assert_eq!(produced, labels.len() as i64 - 1);
}
on_both_engines!(
    slot_race,
    at = super::DAY,
    super::one_slot_holds_one_document_under_concurrency
);

async fn uncollected_documents_are_handled_by_rule(app: TestApp) {
    use onetrip::config::ExpiryAction;
    let site = app.site_id("0001").await;
    let hall = onetrip::sites::site(app.state.db.reader(), site)
        .await
        .expect("q")
        .expect("hall");
    let actor = staff(site);
    let ctx = app.state.applications();
    let no = accepted(&app, 20, TimeLimitClass::Normal).await;
    let labels = produce(&app, &actor, &no).await;
    for (i, label) in labels.iter().enumerate() {
        documents::check_in(
            &ctx,
            &common::granted(&actor),
            label,
            &hall,
            "D",
            &format!("{i}"),
        )
        .await
        .expect("check in");
    }
    let today = || app.state.clock.today();
    assert!(
        documents::uncollected(&ctx, site, today(), 90)
            .await
            .expect("list")
            .is_empty()
    );
    app.state.clock.advance_ms(91 * 86_400_000);
    assert_eq!(
        documents::uncollected(&ctx, site, today(), 90)
            .await
            .expect("list")
            .len(),
        2
    );
    // Remind: a text, nothing moves.
    let reminded = documents::apply_expiry(
        &ctx,
        &common::granted(&actor),
        site,
        today(),
        90,
        ExpiryAction::Remind,
    )
    .await
    .expect("remind");
    assert_eq!(reminded.len(), 2);
    let texts: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'document.uncollected' AND ref = $1",
    )
    .bind(no.as_str())
    .fetch_one(app.state.db.reader())
    .await
    .expect("outbox");
    assert_eq!(texts, 2);
    // Return: each becomes a recorded step, the slots are freed, nothing is lost.
    let returned = documents::apply_expiry(
        &ctx,
        &common::granted(&actor),
        site,
        today(),
        90,
        ExpiryAction::Return,
    )
    .await
    .expect("return");
    assert_eq!(returned, labels);
    for d in docs(&app, &no).await {
        assert_eq!(d.stage, Stage::Returned);
        assert!(
            documents::slot_of(app.state.db.reader(), d.id)
                .await
                .expect("slot")
                .is_none()
        );
        let steps = documents::steps(app.state.db.reader(), d.id)
            .await
            .expect("steps");
        assert_eq!(steps.last().map(|s| s.to_stage.as_str()), Some("returned"));
    }
}
on_both_engines!(
    uncollected,
    at = super::DAY,
    super::uncollected_documents_are_handled_by_rule
);

async fn the_daily_digest_goes_out_once(app: TestApp) {
    let ctx = app.state.applications();
    accepted(&app, 30, TimeLimitClass::Expedited).await;
    let phone = onetrip::domain::phone::PhoneNumber::parse("13600136000").expect("phone");
    let day: jiff::civil::Date = "2026-10-14".parse().expect("date");
    let digest = documents::daily_digest(&ctx, day).await.expect("digest");
    assert_eq!((digest.overdue, digest.expedited), (2, 2));
    assert!(digest.text.contains("超期2件"), "{}", digest.text);
    assert!(
        documents::send_digest_once(&ctx, &phone, day, "")
            .await
            .expect("send")
    );
    assert!(
        !documents::send_digest_once(&ctx, &phone, day, "")
            .await
            .expect("send")
    );
    let queued: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'leader.digest'")
            .fetch_one(app.state.db.reader())
            .await
            .expect("outbox");
    assert_eq!(queued, 1);
}
on_both_engines!(
    digest,
    at = super::DAY,
    super::the_daily_digest_goes_out_once
);

async fn a_document_moves_between_sites_on_record(app: TestApp) {
    let site = app.site_id("0001").await;
    let hall = onetrip::sites::site(app.state.db.reader(), site)
        .await
        .expect("q")
        .expect("hall");
    let extension = onetrip::sites::site_by_code(app.state.db.reader(), "0002")
        .await
        .expect("q")
        .expect("extension point");
    let mut actor = staff(site);
    actor.grants.push(RoleGrant {
        role: Role::Custodian,
        site_id: Some(extension.id),
    });
    let ctx = app.state.applications();
    let no = accepted(&app, 40, TimeLimitClass::Normal).await;
    let labels = produce(&app, &actor, &no).await;
    documents::check_in(&ctx, &common::granted(&actor), &labels[0], &hall, "A", "01")
        .await
        .expect("check in");
    let moved = documents::transfer_site(
        &ctx,
        &common::granted(&actor),
        &labels[0],
        &extension,
        "申请人要求就近领取",
    )
    .await
    .expect("transfer");
    assert_eq!(moved.custody_site_id, Some(extension.id));
    // On its way: not in the hall's cabinet, not yet issuable at the extension point.
    let input = || PickupInput {
        applicant_id: id_number(40).as_str().to_string(),
        recipient: Recipient::Applicant,
        receipt_presented: true,
        method: VerifyMethod::Face,
    };
    assert_eq!(
        refusal(
            documents::issue_documents(&ctx, &common::granted(&actor), &no, extension.id, input())
                .await
        ),
        DocumentError::NotInCustody
    );
    let hall_audit = documents::inventory_audit(&ctx, &common::granted(&actor), site, &[])
        .await
        .expect("audit");
    assert!(hall_audit.missing.is_empty());
    // Received into a slot there, then collected there.
    documents::check_in(
        &ctx,
        &common::granted(&actor),
        &labels[0],
        &extension,
        "E",
        "05",
    )
    .await
    .expect("receive");
    let issued =
        documents::issue_documents(&ctx, &common::granted(&actor), &no, extension.id, input())
            .await
            .expect("issue");
    assert_eq!(issued.labels, vec![labels[0].clone()]);
    let moves: Vec<String> =
        sqlx::query_scalar("SELECT reason FROM custody_moves WHERE document_id = $1 ORDER BY id")
            .bind(moved.id)
            .fetch_all(app.state.db.reader())
            .await
            .expect("moves");
    assert_eq!(moves.len(), 4, "{moves:?}");
    assert!(moves[1].starts_with("transfer to site 0002"));
    assert_eq!(moves[2], "received_from_transfer");
}
on_both_engines!(
    transfer,
    at = super::DAY,
    super::a_document_moves_between_sites_on_record
);

async fn pages_refuse_in_words_and_progress_needs_the_id(app: TestApp) {
    let site = app.site_id("0001").await;
    let no = accepted(&app, 50, TimeLimitClass::Normal).await;
    let doc = docs(&app, &no).await[0].id;
    let password = app
        .staff("approver.http", vec![(Role::Approver, Some(site))])
        .await;
    let c = app.signed_in("approver.http", &password).await;
    let token = app.csrf(&c, "/staff/review").await;
    // Approving a document nobody reviewed: refused, said on the page it returns to.
    let res = c
        .post(app.url("/staff/documents/approve"))
        .header("origin", &app.base)
        .form(&[
            ("csrf_token", token.as_str()),
            ("id", &doc.to_string()),
            ("return", "/staff/review?site=0001"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 303);
    let to = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(to.starts_with("/staff/review?site=0001&error="), "{to}");
    let page = c
        .get(app.url(&to))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("html");
    assert!(page.contains("不能变更为"), "the refusal is shown in words");
    assert_eq!(
        docs(&app, &no).await[0].stage,
        Stage::Accepted,
        "nothing changed"
    );
    // Reviewing works through the same form.
    let res = c
        .post(app.url("/staff/documents/review"))
        .header("origin", &app.base)
        .form(&[
            ("csrf_token", token.as_str()),
            ("id", &doc.to_string()),
            ("return", "/staff/review?site=0001"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 303);
    assert_eq!(docs(&app, &no).await[0].stage, Stage::UnderReview);

    // Progress over the API: the wrong ID number finds nothing; the right one the timeline.
    let ask = |id: String| {
        let body = serde_json::json!({"application_no": no.as_str(), "id_number": id});
        let c = app.client();
        let url = app.url("/api/v1/progress");
        async move {
            c.post(url)
                .header("accept-language", "en")
                .json(&body)
                .send()
                .await
                .expect("post")
        }
    };
    assert_eq!(ask(id_number(51).as_str().to_string()).await.status(), 404);
    let res = ask(id_number(50).as_str().to_string()).await;
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.expect("json");
    assert_eq!(v["documents"][0]["stage"], "under_review");
    assert_eq!(v["documents"][0]["stage_name"], "Under review");
}
on_both_engines!(
    pages,
    at = super::DAY,
    super::pages_refuse_in_words_and_progress_needs_the_id
);

/// Monday 2026-12-28: a 7-working-day limit reaches 2027, which has no notice yet.
const YEAR_END: &str = "2026-12-28T09:00:00+08:00";

fn notice_2027(new_year_end: &str) -> onetrip::domain::calendar::Arrangement {
    serde_json::from_value(common::notice_2027(new_year_end, "2027-02-12")).expect("arrangement")
}

async fn entering_the_notice_recomputes_provisional_promised_dates_and_texts_once(app: TestApp) {
    let no = accepted(&app, 31, TimeLimitClass::Normal).await;
    let row = |app: &TestApp| {
        let db = app.state.db.clone();
        let no = no.as_str().to_string();
        async move {
            applications::application_by_no(db.reader(), &no)
                .await
                .expect("q")
                .expect("application")
        }
    };
    // 12-29, 12-30, 12-31, (2027: 01-01 元旦, weekend) 01-04, 05, 06, 07: provisional.
    let before = row(&app).await;
    assert_eq!(before.promised_date.as_deref(), Some("2027-01-07"));
    assert_eq!(before.promised_provisional, 1);
    let receipt = app
        .client()
        .get(app.url(&format!("/r/{}", before.token)))
        .send()
        .await
        .expect("receipt")
        .text()
        .await
        .expect("body");
    assert!(
        receipt.contains("预计2027-01-07（待国务院公布次年放假安排后确认）"),
        "{receipt}"
    );

    // The notice gives 01-01..01-05 off: 01-06, 07, 08, (weekend) 01-11.
    let admin = Actor {
        grants: vec![RoleGrant {
            role: Role::Admin,
            site_id: None,
        }],
        ..common::actor_at(0, &[])
    };
    let ctx = app.state.calendar_admin();
    let input = |end: &str, note: &str| onetrip::calendar::NoticeInput {
        arrangement: notice_2027(end),
        note: note.into(),
    };
    let entered = onetrip::calendar::enter_notice(
        &ctx,
        admin.any_admin().expect("admin"),
        input("2027-01-05", ""),
    )
    .await
    .expect("entered");
    assert_eq!(entered.version, 1);
    assert_eq!(entered.report.promised.len(), 1);
    assert_eq!(entered.report.promised[0].new, "2027-01-11");
    let after = row(&app).await;
    assert_eq!(after.promised_date.as_deref(), Some("2027-01-11"));
    assert_eq!(after.promised_provisional, 0);
    for d in docs(&app, &no).await {
        assert!(!d.promised_provisional, "{:?}", d.promised_date);
    }
    let texts: Vec<(String,)> =
        sqlx::query_as("SELECT body FROM outbox WHERE kind = 'application.promised_changed'")
            .fetch_all(app.state.db.reader())
            .await
            .expect("outbox");
    assert_eq!(texts.len(), 1);
    assert!(
        texts[0].0.contains("由2027年1月7日调整为2027年1月11日"),
        "{}",
        texts[0].0
    );

    // An amendment needs a reason; the same dates again move nothing and text nobody.
    let refused = onetrip::calendar::enter_notice(
        &ctx,
        admin.any_admin().expect("admin"),
        input("2027-01-05", ""),
    )
    .await;
    assert!(matches!(
        refused,
        Err(Failure::Refused(
            onetrip::calendar::CalendarAdminError::AmendmentReason
        ))
    ));
    let again = onetrip::calendar::enter_notice(
        &ctx,
        admin.any_admin().expect("admin"),
        input("2027-01-05", "核对后重新录入"),
    )
    .await
    .expect("amended");
    assert_eq!(again.version, 2);
    assert!(again.report.promised.is_empty());
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE kind = 'application.promised_changed'")
            .fetch_one(app.state.db.reader())
            .await
            .expect("outbox");
    assert_eq!(n, 1);
    // A site's administrator cannot enter it: the arrangement is every site's.
    let site_admin = common::actor_at(1, &[Role::Admin]);
    assert!(matches!(
        onetrip::calendar::enter_notice(
            &ctx,
            site_admin.admin().expect("admin"),
            input("2027-01-05", "x y")
        )
        .await,
        Err(Failure::Refused(
            onetrip::calendar::CalendarAdminError::AllSitesOnly
        ))
    ));
}

on_both_engines!(
    notice_recomputes,
    at = super::YEAR_END,
    super::entering_the_notice_recomputes_provisional_promised_dates_and_texts_once
);

/// Issue 12 item 1 (decision 012): an application whose fee is owed may be reviewed and
/// approved, but nothing of it is produced, collected or shipped; the production queue marks
/// it; once paid it goes through, and a full refund stops the pickup again.
async fn nothing_unpaid_is_produced_or_handed_over(app: TestApp) {
    let site = app.site_id("0001").await;
    let hall = onetrip::sites::site(app.state.db.reader(), site)
        .await
        .expect("q")
        .expect("hall");
    let actor = staff(site);
    let ctx = app.state.applications();
    let no = accepted_unpaid(&app, 61, TimeLimitClass::Normal).await;
    let mut ids = Vec::new();
    for d in docs(&app, &no).await {
        assert!(!d.fee_settled);
        documents::start_review(&ctx, &common::granted(&actor), d.id)
            .await
            .expect("review");
        documents::approve(&ctx, &common::granted(&actor), d.id)
            .await
            .expect("approve");
        ids.push(d.id);
    }
    // The production page marks it and offers no box to tick.
    let password = app
        .staff("unpaid.producer", vec![(Role::Producer, Some(site))])
        .await;
    let c = app.signed_in("unpaid.producer", &password).await;
    let page = c
        .get(app.url("/staff/production"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(page.contains("未缴费"), "{page}");
    assert!(
        page.contains(&format!("name=\"d:{}\" disabled", ids[0])),
        "{page}"
    );
    let e = refusal(documents::start_batch(&ctx, &common::granted(&actor), &ids).await);
    assert_eq!(e, DocumentError::Unpaid(no.as_str().to_string()));
    {
        use onetrip::i18n::UserMessage;
        assert!(e.message(Lang::ZhCn).contains("收费窗口"), "{e}");
    }
    let (batches,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM production_batches")
        .fetch_one(app.state.db.reader())
        .await
        .expect("batches");
    assert_eq!(batches, 0, "nothing half-made");

    // Paid: produced and checked into custody.
    let receipt = common::pay_cash(&app, site, &no).await;
    let batch = documents::start_batch(&ctx, &common::granted(&actor), &ids)
        .await
        .expect("batch");
    let numbers = [
        (ids[0], "E12345671".to_string()),
        (ids[1], "CA1234561".to_string()),
    ];
    let produced = documents::finish_batch(&ctx, &common::granted(&actor), batch, &numbers)
        .await
        .expect("produced");
    for (i, d) in produced.iter().enumerate() {
        let label = d.label.clone().expect("label");
        documents::check_in(
            &ctx,
            &common::granted(&actor),
            &label,
            &hall,
            "P",
            &format!("0{i}"),
        )
        .await
        .expect("check in");
    }
    // Refunded in full (say, the applicant withdrew): the window sends them to the cashier
    // before any identity check, and nothing is issued.
    let fee: i64 = sqlx::query_scalar("SELECT fee_fen FROM applications WHERE application_no = $1")
        .bind(no.as_str())
        .fetch_one(app.state.db.reader())
        .await
        .expect("fee");
    let cashier = common::actor_at(site, &[Role::Cashier]);
    onetrip::payments::refund(
        &app.state.payments(),
        &common::granted(&cashier),
        &receipt,
        fee,
        "申请人撤回申请",
        false,
    )
    .await
    .expect("refund");
    let input = PickupInput {
        applicant_id: id_number(61).as_str().to_string(),
        recipient: Recipient::Applicant,
        receipt_presented: true,
        method: VerifyMethod::Fingerprint,
    };
    assert_eq!(
        refusal(documents::issue_documents(&ctx, &common::granted(&actor), &no, site, input).await),
        DocumentError::Unpaid(no.as_str().to_string())
    );
    assert!(
        docs(&app, &no)
            .await
            .iter()
            .all(|d| d.stage == Stage::InCustody)
    );
}
on_both_engines!(
    unpaid,
    at = super::DAY,
    super::nothing_unpaid_is_produced_or_handed_over
);

/// Issue 12 item 12: a JSON-only client does every staff step of the journey the pages do:
/// a window opened, called, served and closed; documents reviewed, approved, produced in a
/// batch, checked into custody and issued at pickup.
async fn the_staff_journey_through_json_alone(app: TestApp) {
    let site = app.site_id("0001").await;
    let password = app
        .staff(
            "json.staff",
            vec![
                (Role::Officer, Some(site)),
                (Role::Approver, Some(site)),
                (Role::Producer, Some(site)),
                (Role::Custodian, Some(site)),
            ],
        )
        .await;
    let c = app.client();
    let res = c
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"username": "json.staff", "password": password}))
        .send()
        .await
        .expect("session");
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = res.json().await.expect("me");
    let csrf = me["csrf_token"].as_str().expect("token").to_owned();
    let post = |path: String, body: serde_json::Value| {
        c.post(app.url(&path))
            .header("x-csrf-token", csrf.as_str())
            .json(&body)
            .send()
    };

    // A window: open, call, serve, finish, pause, close.
    let window: i64 = sqlx::query_scalar(
        "SELECT id FROM windows WHERE site_id = $1 AND kind = 'citizen' ORDER BY number LIMIT 1",
    )
    .bind(site)
    .fetch_one(app.state.db.reader())
    .await
    .expect("window");
    let ticket = post(
        "/api/v1/tickets".into(),
        serde_json::json!({"site": "0001", "line": "first_issue"}),
    )
    .await
    .expect("ticket");
    assert!(ticket.status().is_success(), "{}", ticket.status());
    let act = |action: serde_json::Value| post(format!("/api/v1/windows/{window}/actions"), action);
    let res = act(serde_json::json!({"action": "open"}))
        .await
        .expect("open");
    assert_eq!(res.status(), 200);
    let res = post(
        format!("/api/v1/windows/{window}/call-next"),
        serde_json::json!({}),
    )
    .await
    .expect("call");
    assert_eq!(res.status(), 200);
    for step in ["start", "finish"] {
        let res = act(serde_json::json!({"action": step})).await.expect(step);
        assert_eq!(res.status(), 200, "{step}");
    }
    let res = act(serde_json::json!({"action": "pause", "reason": "午休"}))
        .await
        .expect("pause");
    let now: serde_json::Value = res.json().await.expect("json");
    assert_eq!(now["status"], "paused");
    let res = act(serde_json::json!({"action": "close"}))
        .await
        .expect("close");
    let now: serde_json::Value = res.json().await.expect("json");
    assert_eq!(now["status"], "closed");

    // The documents of an accepted, paid application.
    let no = accepted(&app, 81, TimeLimitClass::Normal).await;
    let ids: Vec<i64> = docs(&app, &no).await.iter().map(|d| d.id).collect();
    for id in &ids {
        for action in ["review", "approve"] {
            let res = post(
                format!("/api/v1/documents/{id}/actions"),
                serde_json::json!({"action": action}),
            )
            .await
            .expect(action);
            assert_eq!(res.status(), 200, "{action}");
        }
    }
    let res = post(
        "/api/v1/production/batches".into(),
        serde_json::json!({"documents": ids}),
    )
    .await
    .expect("batch");
    assert_eq!(res.status(), 201);
    let batch = res.json::<serde_json::Value>().await.expect("json")["batch"]
        .as_i64()
        .expect("batch id");
    let numbers: Vec<serde_json::Value> = docs(&app, &no)
        .await
        .iter()
        .map(|d| {
            let n = if d.document_type == "passport" {
                "E12345679"
            } else {
                "CA1234569"
            };
            serde_json::json!({"document": d.id, "number": n})
        })
        .collect();
    let res = post(
        format!("/api/v1/production/batches/{batch}/finish"),
        serde_json::json!({"numbers": numbers}),
    )
    .await
    .expect("finish");
    assert_eq!(res.status(), 200);
    for (i, d) in docs(&app, &no).await.iter().enumerate() {
        let res = post(
            "/api/v1/custody/check-in".into(),
            serde_json::json!({"label": d.label, "site": "0001", "cabinet": "J", "slot": format!("0{i}")}),
        )
        .await
        .expect("check in");
        assert_eq!(res.status(), 200);
    }
    let res = post(
        format!("/api/v1/applications/{}/issue", no.as_str()),
        serde_json::json!({
            "site": "0001",
            "applicant_id": id_number(81).as_str(),
            "recipient": {"kind": "applicant"},
            "receipt_presented": true,
            "method": "fingerprint"
        }),
    )
    .await
    .expect("issue");
    assert_eq!(res.status(), 200);
    let issued: serde_json::Value = res.json().await.expect("json");
    assert_eq!(issued["labels"].as_array().map(Vec::len), Some(ids.len()));
    assert!(
        docs(&app, &no)
            .await
            .iter()
            .all(|d| d.stage == Stage::Issued)
    );
}
on_both_engines!(
    json_journey,
    at = super::DAY,
    super::the_staff_journey_through_json_alone
);

/// A real staff account (so its name shows on the error-rate page) acting as an officer at
/// the site: its actor.
async fn officer_account(app: &TestApp, username: &str, site: i64) -> Actor {
    app.staff(username, vec![(Role::Officer, Some(site))]).await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM staff WHERE username = $1")
        .bind(username)
        .fetch_one(app.state.db.reader())
        .await
        .expect("staff id");
    Actor {
        staff_id: id,
        username: username.into(),
        ..common::actor_at(site, &[Role::Officer])
    }
}

async fn error_rate_is_traced_to_the_accepting_officer(app: TestApp) {
    let site = app.site_id("0001").await;
    let hall = onetrip::sites::site(app.state.db.reader(), site)
        .await
        .expect("q")
        .expect("hall");
    let actor = staff(site);
    let ctx = app.state.applications();
    let a = officer_account(&app, "officer.a", site).await;
    let b = officer_account(&app, "officer.b", site).await;
    let class = TimeLimitClass::Normal;
    let mut of_a = Vec::new();
    for n in 11..=14 {
        of_a.push(common::accepted_at(&app, &a, id_number(n), class).await);
    }
    let mut of_b = Vec::new();
    for n in 15..=16 {
        of_b.push(common::accepted_at(&app, &b, id_number(n), class).await);
    }

    // A's first: a data error found at pickup (a correction).
    common::pay_cash(&app, site, &of_a[0]).await;
    let labels = produce(&app, &actor, &of_a[0]).await;
    documents::check_in(&ctx, &common::granted(&actor), &labels[0], &hall, "E", "01")
        .await
        .expect("check in");
    documents::report_error(&ctx, &common::granted(&actor), &labels[0], "出生日期有误")
        .await
        .expect("report");
    // A's second: one document not approved for an acceptance mistake, the other for the
    // applicant's own reasons (not A's error).
    let d = docs(&app, &of_a[1]).await;
    for doc in &d {
        documents::start_review(&ctx, &common::granted(&actor), doc.id)
            .await
            .expect("review");
    }
    documents::reject(
        &ctx,
        &common::granted(&actor),
        d[0].id,
        "受理时未核对户籍",
        true,
    )
    .await
    .expect("reject");
    documents::reject(&ctx, &common::granted(&actor), d[1].id, "不符合条件", false)
        .await
        .expect("reject");
    // A's third: refunded for an officer's mistake; B's first: refunded at the applicant's wish.
    let cashier = common::actor_at(site, &[Role::Cashier]);
    for (no, officer_error) in [(&of_a[2], true), (&of_b[0], false)] {
        let receipt = common::pay_cash(&app, site, no).await;
        onetrip::payments::refund(
            &app.state.payments(),
            &common::granted(&cashier),
            &receipt,
            100,
            "收费项目有误",
            officer_error,
        )
        .await
        .expect("refund");
    }

    let leader = common::actor_at(site, &[Role::Leader]);
    let september = onetrip::error_rate::parse_month("2026-09").expect("month");
    let r = onetrip::error_rate::month_report(
        &app.state.db,
        &common::granted(&leader),
        site,
        september,
    )
    .await
    .expect("report");
    let line = |id: i64| {
        r.officers
            .iter()
            .find(|o| o.officer_id == id)
            .cloned()
            .expect("officer line")
    };
    let (la, lb) = (line(a.staff_id), line(b.staff_id));
    assert_eq!(
        (
            la.accepted,
            la.corrections,
            la.returned,
            la.refunds,
            la.with_errors
        ),
        (4, 1, 1, 1, 3)
    );
    assert_eq!(la.rate_bp, 7500);
    assert_eq!(la.rate_text(), "75.00 %");
    assert_eq!(la.name, "测试officer.a");
    assert_eq!(
        (
            lb.accepted,
            lb.corrections,
            lb.returned,
            lb.refunds,
            lb.with_errors
        ),
        (2, 0, 0, 0, 0)
    );
    assert_eq!(lb.rate_bp, 0);
    // Worst first; the site's line adds up.
    assert_eq!(r.officers[0].officer_id, a.staff_id);
    assert_eq!((r.total.accepted, r.total.with_errors), (6, 3));
    assert_eq!(r.total.rate_bp, 5000);
    // The list behind the numbers: three errors, all A's, each on its application.
    let mut behind: Vec<(onetrip::error_rate::ErrorKind, String)> = r
        .items
        .iter()
        .map(|i| (i.kind, i.application_no.clone()))
        .collect();
    behind.sort_by_key(|(k, _)| k.code());
    use onetrip::error_rate::ErrorKind;
    assert_eq!(
        behind,
        vec![
            (ErrorKind::Correction, of_a[0].as_str().to_string()),
            (ErrorKind::Refund, of_a[2].as_str().to_string()),
            (ErrorKind::Returned, of_a[1].as_str().to_string()),
        ]
    );
    assert!(r.items.iter().all(|i| i.officer_id == a.staff_id));

    // An acceptance in October counts in October, not September.
    app.state.clock.advance_ms(3 * 86_400_000);
    common::accepted_at(&app, &b, id_number(17), class).await;
    let october = onetrip::error_rate::parse_month("2026-10").expect("month");
    let oct =
        onetrip::error_rate::month_report(&app.state.db, &common::granted(&leader), site, october)
            .await
            .expect("report");
    assert_eq!(oct.officers.len(), 1);
    assert_eq!(
        (oct.officers[0].officer_id, oct.officers[0].accepted),
        (b.staff_id, 1)
    );
    let again = onetrip::error_rate::month_report(
        &app.state.db,
        &common::granted(&leader),
        site,
        september,
    )
    .await
    .expect("report");
    assert_eq!(again.total.accepted, 6);

    // Another site's leader sees nothing of this one.
    let elsewhere = common::actor_at(app.site_id("0002").await, &[Role::Leader]);
    assert!(matches!(
        onetrip::error_rate::month_report(
            &app.state.db,
            &common::granted(&elsewhere),
            site,
            september
        )
        .await,
        Err(Failure::Refused(
            onetrip::error_rate::ErrorRateError::OtherSite
        ))
    ));

    // The page: the duty leader's table with the goal line and A's list.
    let password = app
        .staff("leader.e", vec![(Role::Leader, Some(site))])
        .await;
    let c = app.signed_in("leader.e", &password).await;
    let html = c
        .get(app.url(&format!(
            "/staff/leader/error-rate?month=2026-09&officer={}",
            a.staff_id
        )))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("75.00 %"), "{html}");
    assert!(html.contains("目标线"));
    assert!(html.contains(of_a[1].as_str()));
    assert!(html.contains("受理时未核对户籍"));
    let bad = c
        .get(app.url("/staff/leader/error-rate?month=2026-13"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(bad.contains("月份格式应为 YYYY-MM"));
    // The JSON twin.
    let json: serde_json::Value = c
        .get(app.url("/api/v1/sites/0001/error-rate?month=2026-09"))
        .send()
        .await
        .expect("api")
        .json()
        .await
        .expect("json");
    assert_eq!(json["total"]["accepted"], 6);
    assert_eq!(json["items"].as_array().map(Vec::len), Some(3));
}

on_both_engines!(
    error_rate,
    at = super::DAY,
    super::error_rate_is_traced_to_the_accepting_officer
);
