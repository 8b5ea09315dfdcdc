//! One form, acceptance and payment (R4, R5, R6, R8) on SQLite and PostgreSQL: the form over
//! HTTP, every acceptance step enforced, the one-time notice, refusal records, watch-list hits,
//! the fee and promised date fixed at acceptance, payment at the window and by notification
//! (forged, tampered, duplicated, paid twice), concurrent payments, refunds and a
//! reconciliation that balances to the fen.

mod common;

use common::TestApp;
use onetrip::applications::{self, Acceptance, ApplicationError, CheckOutcome, Delivery, Status};
use onetrip::auth::{Actor, Failure, Role};
use onetrip::catalog::TimeLimitClass;
use onetrip::devices::CaptureKind;
use onetrip::domain::application_no::ApplicationNo;
use onetrip::payments::{self, Method, PaymentError, Settlement};
use serde_json::{Value, json};

/// The day before National Day 2026, so promised dates cross the holiday.
const DAY: &str = "2026-09-30T09:00:00+08:00";

fn staff(site_id: i64, roles: &[Role]) -> Actor {
    common::actor_at(site_id, roles)
}

/// A synthetic adult.
fn id_number(n: u32) -> String {
    common::synthetic_id("19880512", n).as_str().to_string()
}

fn form(id: &str) -> Value {
    json!({
        "site": "0001",
        "name": "张测试",
        "id_number": id,
        "phone": "13800138000",
        "address": "示范市人民路 1 号",
        "ethnicity": "汉",
        "from_card_reader": true,
        "documents": [
            {"document": "passport", "category": "first_issue"},
            {"document": "hk_macao_permit", "category": "first_issue", "endorsements": ["hk-macao-t-3m-once"]}
        ]
    })
}

async fn submit(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client()
        .post(app.url("/api/v1/applications"))
        .header("accept-language", "en")
        .json(body)
        .send()
        .await
        .expect("post")
}

async fn submitted(app: &TestApp, id: &str) -> ApplicationNo {
    let res = submit(app, &form(id)).await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.expect("json");
    ApplicationNo::parse(v["application_no"].as_str().expect("no")).expect("valid number")
}

fn pickup(site_id: i64) -> Acceptance {
    Acceptance {
        class: TimeLimitClass::Normal,
        emergency_reason: None,
        emergency_proof: None,
        delivery: Delivery::Pickup { site_id },
    }
}

/// Every acceptance step except accepting.
async fn ready(app: &TestApp, actor: &Actor, no: &ApplicationNo) {
    let ctx = app.state.applications();
    let d = applications::start_acceptance(&ctx, &common::granted(actor), no, None)
        .await
        .expect("start");
    let all: Vec<String> = d
        .materials(&app.state.catalog)
        .iter()
        .map(|m| m.id.clone())
        .collect();
    let check = applications::check_materials(&ctx, &common::granted(actor), no, &all)
        .await
        .expect("materials");
    assert!(check.complete);
    applications::capture(&ctx, &common::granted(actor), no, CaptureKind::Photo)
        .await
        .expect("photo");
    applications::capture(&ctx, &common::granted(actor), no, CaptureKind::Fingerprint)
        .await
        .expect("fingerprint");
    applications::verify_face(&ctx, &common::granted(actor), no)
        .await
        .expect("face");
    assert_eq!(
        applications::run_checks(&ctx, &common::granted(actor), no)
            .await
            .expect("checks"),
        CheckOutcome::Clear
    );
}

fn refused_with<T: std::fmt::Debug>(r: Result<T, Failure<ApplicationError>>) -> ApplicationError {
    match r {
        Err(Failure::Refused(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn one_sitting_from_form_to_paid_receipt(app: TestApp) {
    let site = app.site_id("0001").await;
    let actor = staff(site, &[Role::Officer, Role::Cashier]);
    let ctx = app.state.applications();

    // The form: a bad ID number is refused with a precise message and stores nothing.
    let mut bad = form("110105194912310021");
    bad["site"] = json!("0001");
    let res = submit(&app, &bad).await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["code"], "id_number.checksum");
    // A rule of the catalog: 换发 without the old number.
    let mut renewal = form(&id_number(1));
    renewal["documents"] = json!([{"document": "passport", "category": "renewal"}]);
    let res = submit(&app, &renewal).await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["code"], "form.old_number_needed");
    assert!(err["message"].as_str().expect("msg").contains("current"));
    let no = submitted(&app, &id_number(1)).await;
    assert_eq!(no.site_code(), 1);
    assert_eq!(no.date().to_string(), "2026-09-30");

    // Acceptance refuses until every step is done, whatever order the officer works in.
    applications::start_acceptance(&ctx, &common::granted(&actor), &no, None)
        .await
        .expect("start");
    assert_eq!(
        refused_with(applications::accept(&ctx, &common::granted(&actor), &no, pickup(site)).await),
        ApplicationError::MaterialsIncomplete
    );
    // One item short: a one-time notice lists it, the SMS is queued, the application waits.
    let d = applications::dossier(&ctx, &no)
        .await
        .expect("read")
        .expect("found");
    let all: Vec<String> = d
        .materials(&app.state.catalog)
        .iter()
        .map(|m| m.id.clone())
        .collect();
    assert!(all.contains(&"relationship-proof".to_string()), "{all:?}");
    let short: Vec<String> = all
        .iter()
        .filter(|m| *m != "relationship-proof")
        .cloned()
        .collect();
    let check = applications::check_materials(&ctx, &common::granted(&actor), &no, &short)
        .await
        .expect("check");
    assert!(!check.complete);
    assert_eq!(check.missing, vec!["relationship-proof".to_string()]);
    assert!(check.notice_id.is_some());
    let d = applications::dossier(&ctx, &no)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(d.status, Status::AwaitingMaterials);
    let queued: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'application.one_time_notice' AND ref = $1",
    )
    .bind(no.as_str())
    .fetch_one(app.state.db.reader())
    .await
    .expect("outbox");
    assert_eq!(queued, 1);
    ready(&app, &actor, &no).await;

    // Expedited needs a catalog reason and its proof.
    let mut expedited = pickup(site);
    expedited.class = TimeLimitClass::Expedited;
    assert_eq!(
        refused_with(
            applications::accept(&ctx, &common::granted(&actor), &no, expedited.clone()).await
        ),
        ApplicationError::EmergencyReasonNeeded
    );
    // Express needs an address; a kiosk point is no pickup site.
    let express = Acceptance {
        delivery: Delivery::Express {
            recipient: "张测试".into(),
            phone: "13800138000".into(),
            address: " ".into(),
        },
        ..pickup(site)
    };
    assert_eq!(
        refused_with(applications::accept(&ctx, &common::granted(&actor), &no, express).await),
        ApplicationError::ExpressAddressNeeded
    );
    let kiosk_point = app.site_id("0003").await;
    assert_eq!(
        refused_with(
            applications::accept(&ctx, &common::granted(&actor), &no, pickup(kiosk_point)).await
        ),
        ApplicationError::NoSuchPickupSite
    );

    let d = applications::accept(&ctx, &common::granted(&actor), &no, pickup(site))
        .await
        .expect("accept");
    assert_eq!(d.status, Status::Accepted);
    // 120 + 60 + 15 in force on 2026-09-30; 7 working days across National Day 2026.
    assert_eq!(d.row.fee_fen, Some(19_500));
    assert_eq!(d.row.promised_date.as_deref(), Some("2026-10-15"));
    assert_eq!(d.row.fee_date.as_deref(), Some("2026-09-30"));
    assert!(d.row.acceptance_started_at.is_some() && d.row.accepted_at.is_some());
    // Accepted is final for acceptance steps.
    assert_eq!(
        refused_with(applications::verify_face(&ctx, &common::granted(&actor), &no).await),
        ApplicationError::Closed(Status::Accepted)
    );

    // Pay at the window over the API (cookie session + CSRF header).
    let password = app
        .staff("cashier.one", vec![(Role::Cashier, Some(site))])
        .await;
    let c = app.signed_in("cashier.one", &password).await;
    let me: Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let token = me["csrf_token"].as_str().expect("token").to_string();
    let bill_url = app.url(&format!("/api/v1/applications/{}/bill", no.as_str()));
    let get_bill = || async {
        c.get(&bill_url)
            .send()
            .await
            .expect("bill")
            .json::<Value>()
            .await
            .expect("json")
    };
    let bill = get_bill().await;
    assert_eq!(bill["amount_fen"], 19_500);
    let res = c
        .post(app.url(&format!("/api/v1/applications/{}/payments", no.as_str())))
        .header("x-csrf-token", &token)
        .json(&json!({"method": "card"}))
        .send()
        .await
        .expect("pay");
    assert_eq!(res.status(), 422, "a card payment needs the POS reference");
    let res = c
        .post(app.url(&format!("/api/v1/applications/{}/payments", no.as_str())))
        .header("x-csrf-token", &token)
        .json(&json!({"method": "cash"}))
        .send()
        .await
        .expect("pay");
    assert_eq!(res.status(), 201);
    let paid: Value = res.json().await.expect("json");
    let receipt = paid["receipt_no"].as_str().expect("receipt").to_string();
    assert!(receipt.starts_with("20260930-0001-"), "{receipt}");
    assert_eq!(
        (paid["method"].as_str(), paid["status"].as_str()),
        (Some("cash"), Some("paid"))
    );
    // The public bill shows that it is paid, never who took it or the slip.
    let bill = get_bill().await;
    assert_eq!(bill["paid"]["receipt_no"].as_str(), Some(receipt.as_str()));
    for staff_only in [
        "created_by",
        "pos_ref",
        "provider_txn",
        "site_id",
        "application_id",
    ] {
        assert!(
            bill["paid"].get(staff_only).is_none(),
            "{staff_only} in the public bill"
        );
    }
    let res = c
        .post(app.url(&format!("/api/v1/applications/{}/payments", no.as_str())))
        .header("x-csrf-token", &token)
        .json(&json!({"method": "cash"}))
        .send()
        .await
        .expect("pay again");
    assert_eq!(res.status(), 409);

    // The receipt page on the citizen's phone carries number, promised date and payment.
    let html = app
        .client()
        .get(app.url(&format!("/r/{}", d.row.token)))
        .send()
        .await
        .expect("receipt")
        .text()
        .await
        .expect("html");
    assert!(html.contains(no.as_str()) && html.contains("2026-10-15") && html.contains(&receipt));
    // The barcode is a real Code 128 SVG.
    let svg = app
        .client()
        .get(app.url(&format!("/forms/{}/barcode.svg", d.row.token)))
        .send()
        .await
        .expect("barcode")
        .text()
        .await
        .expect("svg");
    assert!(svg.starts_with("<svg") && svg.matches("<rect").count() > 20);

    // The timeline records the acceptance start and end and the payment.
    let events = applications::events(app.state.db.reader(), d.row.id)
        .await
        .expect("events");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    for k in [
        "form_submitted",
        "acceptance_started",
        "one_time_notice",
        "accepted",
        "paid",
    ] {
        assert!(kinds.contains(&k), "{kinds:?} lacks {k}");
    }
}
on_both_engines!(
    one_sitting,
    at = super::DAY,
    super::one_sitting_from_form_to_paid_receipt
);

async fn refusals_and_watch_list_hits_are_recorded(app: TestApp) {
    let site = app.site_id("0001").await;
    let actor = staff(site, &[Role::Officer]);
    let ctx = app.state.applications();
    let no = submitted(&app, &id_number(2)).await;
    applications::start_acceptance(&ctx, &common::granted(&actor), &no, None)
        .await
        .expect("start");
    assert_eq!(
        refused_with(
            applications::refuse(&ctx, &common::granted(&actor), &no, vec![" ".into()], "").await
        ),
        ApplicationError::ReasonsNeeded
    );
    let refusal = applications::refuse(
        &ctx,
        &common::granted(&actor),
        &no,
        vec!["申请人不具备首次申领条件".into()],
        "《中华人民共和国护照法》第六条",
    )
    .await
    .expect("refuse");
    assert_eq!(refusal.reasons.len(), 1);
    let d = applications::dossier(&ctx, &no)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(d.status, Status::Refused);
    assert!(
        d.row
            .refusal
            .as_deref()
            .is_some_and(|r| r.contains("第六条"))
    );
    assert_eq!(
        refused_with(applications::accept(&ctx, &common::granted(&actor), &no, pickup(site)).await),
        ApplicationError::Closed(Status::Refused)
    );

    // The watch list: a bad line imports nothing; a good file imports every line.
    let system = Actor::system();
    let admin = system.any_admin().expect("admin");
    let listed = id_number(3);
    let bad = format!(
        "id_number,kind,note\n{listed},restricted_exit,x\n110105194912310021,restricted_exit,y\n"
    );
    assert!(matches!(
        applications::import_watch_list(&ctx, admin, &bad).await,
        Err(Failure::Refused(applications::ImportError::IdNumber(3)))
    ));
    assert_eq!(
        applications::watch_count(app.state.db.reader())
            .await
            .expect("count"),
        0
    );
    let good =
        format!("{listed},restricted_exit,court order\n{listed},dual_registration,two hukou\n");
    assert_eq!(
        applications::import_watch_list(&ctx, admin, &good)
            .await
            .expect("import"),
        2
    );
    let hit = submitted(&app, &listed).await;
    applications::start_acceptance(&ctx, &common::granted(&actor), &hit, None)
        .await
        .expect("start");
    assert_eq!(
        applications::run_checks(&ctx, &common::granted(&actor), &hit)
            .await
            .expect("checks"),
        CheckOutcome::Stopped
    );
    let e = refused_with(
        applications::accept(&ctx, &common::granted(&actor), &hit, pickup(site)).await,
    );
    assert!(matches!(
        e,
        ApplicationError::MaterialsIncomplete | ApplicationError::CannotAcceptHere
    ));
    // The applicant is told only that it cannot be accepted here.
    let msg = onetrip::i18n::UserMessage::message(
        &ApplicationError::CannotAcceptHere,
        onetrip::i18n::Lang::En,
    );
    assert!(!msg.contains("restricted") && !msg.contains("registration"));
    let alerts = applications::open_alerts(app.state.db.reader(), site)
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 2);
    assert!(alerts.iter().all(|a| a.application_no == hit.as_str()));
}
on_both_engines!(
    refusals_and_hits,
    at = super::DAY,
    super::refusals_and_watch_list_hits_are_recorded
);

async fn accepted(app: &TestApp, n: u32) -> ApplicationNo {
    let site = app.site_id("0001").await;
    let actor = staff(site, &[Role::Officer]);
    let no = submitted(app, &id_number(n)).await;
    ready(app, &actor, &no).await;
    applications::accept(
        &app.state.applications(),
        &common::granted(&actor),
        &no,
        pickup(site),
    )
    .await
    .expect("accept");
    no
}

async fn post_notification(app: &TestApp, body: &str, signature: &str) -> (u16, Value) {
    let res = app
        .client()
        .post(app.url("/api/v1/payments/notify/simulator"))
        .header("content-type", "application/json")
        .header("x-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .expect("notify");
    let status = res.status().as_u16();
    (status, res.json().await.expect("json"))
}

async fn notifications_forged_or_duplicated_change_nothing(app: TestApp) {
    let site = app.site_id("0001").await;
    let cashier = staff(site, &[Role::Cashier]);
    let no = accepted(&app, 4).await;
    let pctx = app.state.payments();
    let res = app
        .client()
        .post(app.url(&format!("/api/v1/applications/{}/orders", no.as_str())))
        // The applicant opens the order on their phone: their ID number proves it is theirs.
        .header("x-applicant-id-number", id_number(4))
        .json(&json!({"method": "alipay"}))
        .send()
        .await
        .expect("order");
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.expect("json");
    let order_no = order["order_no"].as_str().expect("order").to_string();
    assert_eq!(order["amount_fen"], 19_500);

    // The provider has not been paid: a query says pending.
    assert_eq!(
        payments::query_order(&pctx, &order_no)
            .await
            .expect("query"),
        Settlement::Pending
    );
    // A forged notification (a made-up signature) changes nothing.
    let fake = json!({"notify_id": "N1", "order_no": order_no, "txn_id": "T1", "amount_fen": 19_500, "paid_at": 1}).to_string();
    let (status, v) = post_notification(&app, &fake, "deadbeef").await;
    assert_eq!((status, v["outcome"].as_str()), (400, Some("forged")));
    let p = payments::payment_by_order(app.state.db.reader(), &order_no)
        .await
        .expect("read")
        .expect("order");
    assert_eq!(p.status, onetrip::payments::PaymentStatus::Pending);
    assert!(p.receipt_no.is_none());

    // The citizen pays in the wallet; the real notification settles it once.
    let sim = app
        .state
        .devices
        .payment_simulator
        .clone()
        .expect("simulator");
    let (body, signature) = sim
        .customer_pays(&app.state.db, &order_no, app.state.clock.now_ms())
        .await
        .expect("wallet");
    // The same signature over a changed amount is forged.
    let tampered = body.replace("19500", "1");
    let (status, _) = post_notification(&app, &tampered, &signature).await;
    assert_eq!(status, 400);
    let (status, v) = post_notification(&app, &body, &signature).await;
    assert_eq!((status, v["outcome"].as_str()), (200, Some("paid")));
    let (status, v) = post_notification(&app, &body, &signature).await;
    assert_eq!((status, v["outcome"].as_str()), (200, Some("duplicate")));
    let paid = payments::payment_by_order(app.state.db.reader(), &order_no)
        .await
        .expect("read")
        .expect("order");
    assert_eq!(paid.status, onetrip::payments::PaymentStatus::Paid);
    let receipt = paid.receipt_no.clone().expect("receipt");
    let receipts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM payments WHERE receipt_no IS NOT NULL")
            .fetch_one(app.state.db.reader())
            .await
            .expect("count");
    assert_eq!(receipts, 1);
    let outcomes = payments::notification_outcomes(app.state.db.reader(), &order_no)
        .await
        .expect("outcomes");
    assert_eq!(outcomes, vec!["forged", "forged", "paid", "duplicate"]);

    // Refunds: a reason is required, no more than was paid, the provider refunds too.
    assert!(matches!(
        payments::refund(&pctx, &common::granted(&cashier), &receipt, 100, " ", false).await,
        Err(Failure::Refused(PaymentError::ReasonNeeded))
    ));
    assert!(matches!(
        payments::refund(
            &pctx,
            &common::granted(&cashier),
            &receipt,
            19_501,
            "too much",
            false,
        )
        .await,
        Err(Failure::Refused(PaymentError::RefundTooLarge))
    ));
    let r = payments::refund(
        &pctx,
        &common::granted(&cashier),
        &receipt,
        1_500,
        "endorsement withdrawn",
        false,
    )
    .await
    .expect("refund");
    assert!(r.refund_no.starts_with('R'));

    // A cash payment of another application, then the day balances to the fen.
    let cash = accepted(&app, 5).await;
    payments::pay_at_window(&pctx, &common::granted(&cashier), &cash, Method::Cash, None)
        .await
        .expect("cash");
    let recon = payments::reconcile(&pctx, site, app.state.clock.today())
        .await
        .expect("reconcile");
    assert!(recon.balanced, "{recon:?}");
    let alipay = recon
        .lines
        .iter()
        .find(|l| l.method == Method::Alipay)
        .expect("alipay line");
    assert_eq!(
        (alipay.paid_fen, alipay.refunded_fen, alipay.net_fen),
        (19_500, 1_500, 18_000)
    );
    assert_eq!(alipay.provider_net_fen, Some(18_000));
    assert_eq!(recon.total_net_fen, 18_000 + 19_500);
}
on_both_engines!(
    notifications,
    at = super::DAY,
    super::notifications_forged_or_duplicated_change_nothing
);

async fn an_application_is_paid_once_under_concurrency(app: TestApp) {
    let site = app.site_id("0001").await;
    let cashier = staff(site, &[Role::Cashier]);
    let no = accepted(&app, 6).await;
    // An Alipay order is open when twenty windows take cash at once.
    let order = payments::create_order(&app.state.payments(), None, &no, Method::Alipay, "kiosk")
        .await
        .expect("order");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let state = app.state.clone();
        let cashier = cashier.clone();
        let no = no.clone();
        tasks.push(tokio::spawn(async move {
            payments::pay_at_window(
                &state.payments(),
                &common::granted(&cashier),
                &no,
                Method::Cash,
                None,
            )
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(Failure::Refused(PaymentError::AlreadyPaid)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 1, "exactly one payment");
    // The citizen then pays the open order too: it is refunded automatically.
    let sim = app
        .state
        .devices
        .payment_simulator
        .clone()
        .expect("simulator");
    let (body, signature) = sim
        .customer_pays(&app.state.db, &order.order_no, app.state.clock.now_ms())
        .await
        .expect("wallet");
    // The same notification arrives several times at once.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let state = app.state.clone();
        let (body, signature) = (body.clone(), signature.clone());
        tasks.push(tokio::spawn(async move {
            payments::handle_notification(&state.payments(), "simulator", &body, &signature).await
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.expect("task").expect("handled"));
    }
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            Settlement::PaidTwiceRefunded | Settlement::Duplicate | Settlement::Mismatch
        )),
        "{outcomes:?}"
    );
    let paid: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payments WHERE status = 'paid'")
        .fetch_one(app.state.db.reader())
        .await
        .expect("count");
    assert_eq!(paid, 1);
    let refunds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM refunds")
        .fetch_one(app.state.db.reader())
        .await
        .expect("count");
    assert_eq!(refunds, 1, "the second payment is refunded once");
    let recon = payments::reconcile(&app.state.payments(), site, app.state.clock.today())
        .await
        .expect("reconcile");
    assert!(recon.balanced, "{recon:?}");
    assert_eq!(recon.total_net_fen, 19_500);
}
on_both_engines!(
    paid_once,
    at = super::DAY,
    super::an_application_is_paid_once_under_concurrency
);

async fn ticket_to_receipt_is_measured(app: TestApp) {
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .expect("query")
        .expect("hall");
    let window = onetrip::sites::windows_of(app.state.db.reader(), site.id)
        .await
        .expect("windows")
        .into_iter()
        .find(|w| w.number == 1)
        .expect("window 1");
    let actor = staff(site.id, &[Role::Officer]);
    let q = app.state.queue();
    let ticket = onetrip::queue::issue_ticket(
        &q,
        common::guide_desk(),
        &site,
        "first_issue",
        onetrip::queue::TicketClass::Normal,
        None,
        None,
        "kiosk",
    )
    .await
    .expect("ticket");
    onetrip::queue::open_window(&q, &common::granted(&actor), &window)
        .await
        .expect("open");
    app.state.clock.advance_ms(4 * 60_000);
    onetrip::queue::call_next(&q, &common::granted(&actor), &window)
        .await
        .expect("call")
        .expect("called");
    let no = submitted(&app, &id_number(7)).await;
    let ctx = app.state.applications();
    let d = applications::start_acceptance(&ctx, &common::granted(&actor), &no, Some(window.id))
        .await
        .expect("start");
    assert_eq!(
        d.row.ticket_id,
        Some(ticket.id),
        "the ticket being served is linked"
    );
    ready(&app, &actor, &no).await;
    app.state.clock.advance_ms(12 * 60_000);
    let d = applications::accept(&ctx, &common::granted(&actor), &no, pickup(site.id))
        .await
        .expect("accept");
    let issued = applications::ticket_issued_at(app.state.db.reader(), ticket.id)
        .await
        .expect("ticket")
        .expect("issued");
    // 4 minutes waiting + 12 at the window: the hall's "16 minutes" measured per applicant.
    assert_eq!((d.row.accepted_at.expect("accepted") - issued) / 60_000, 16);
}
on_both_engines!(
    ticket_to_receipt,
    at = super::DAY,
    super::ticket_to_receipt_is_measured
);

async fn a_childs_guardian_is_kept_with_the_form(app: TestApp) {
    let child = common::synthetic_id("20150601", 8).as_str().to_string();
    let mut body = form(&child);
    body["guardian"] = json!({
        "name": "张监护",
        "id_number": id_number(9),
        "relation": "父亲",
        "entrusted": true
    });
    let res = submit(&app, &body).await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.expect("json");
    let no = ApplicationNo::parse(v["application_no"].as_str().expect("no")).expect("valid");
    let d = applications::dossier(&app.state.applications(), &no)
        .await
        .expect("read")
        .expect("found");
    let g = d.guardian.clone().expect("guardian stored");
    assert_eq!((g.relation.as_str(), g.entrusted), ("父亲", true));
    let needed: Vec<String> = d
        .materials(&app.state.catalog)
        .iter()
        .map(|m| m.id.clone())
        .collect();
    assert!(
        needed.contains(&"guardian-entrustment".to_string()),
        "{needed:?}"
    );
}
on_both_engines!(
    guardian,
    at = super::DAY,
    super::a_childs_guardian_is_kept_with_the_form
);

async fn progress(app: &TestApp, no: &ApplicationNo, id: &str) -> (u16, Value) {
    let res = app
        .client()
        .post(app.url("/api/v1/progress"))
        .json(&json!({"application_no": no.as_str(), "id_number": id}))
        .send()
        .await
        .expect("post");
    (res.status().as_u16(), res.json().await.expect("json"))
}

/// Issue 12 item 3: an application not accepted yet has a progress (submitted, then refused
/// with its reasons), and its documents decode everywhere: the approver is refused in words.
async fn progress_before_acceptance_and_after_a_refusal(app: TestApp) {
    let site = app.site_id("0001").await;
    let id = id_number(43);
    let no = submitted(&app, &id).await;
    let (status, p) = progress(&app, &no, &id).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["status"], "submitted");
    assert_eq!(p["documents"][0]["stage"], "applied");
    assert_eq!(p["documents"][0]["promised_date"], Value::Null);
    // The approver cannot take a document that was never accepted, and is told why.
    let doc_id: i64 = sqlx::query_scalar(
        "SELECT d.id FROM application_documents d JOIN applications a ON a.id = d.application_id \
         WHERE a.application_no = $1 ORDER BY d.position LIMIT 1",
    )
    .bind(no.as_str())
    .fetch_one(app.state.db.reader())
    .await
    .expect("document");
    let approver = staff(site, &[Role::Approver]);
    match onetrip::documents::start_review(
        &app.state.applications(),
        &common::granted(&approver),
        doc_id,
    )
    .await
    {
        Err(Failure::Refused(e)) => {
            use onetrip::i18n::UserMessage;
            assert!(
                e.message(onetrip::i18n::Lang::ZhCn).contains("待受理"),
                "{e}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Refused at the window: the citizen reads the reasons and the basis.
    let officer = staff(site, &[Role::Officer]);
    let ctx = app.state.applications();
    applications::start_acceptance(&ctx, &common::granted(&officer), &no, None)
        .await
        .expect("start");
    applications::refuse(
        &ctx,
        &common::granted(&officer),
        &no,
        vec!["申请人不具备首次申领条件".into()],
        "《中华人民共和国护照法》第六条",
    )
    .await
    .expect("refuse");
    let (status, p) = progress(&app, &no, &id).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["status"], "refused");
    assert_eq!(p["refusal"]["reasons"][0], "申请人不具备首次申领条件");
    let c = app.client();
    let token = app.csrf(&c, "/progress").await;
    let page = c
        .post(app.url("/progress"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("no", no.as_str()),
            ("id_number", id.as_str()),
        ])
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("不予受理") && page.contains("护照法"),
        "{page}"
    );
}

on_both_engines!(
    progress_before_acceptance,
    at = super::DAY,
    super::progress_before_acceptance_and_after_a_refusal
);

/// Issue 12 item 4: a Hong Kong, Macao or Taiwan residence permit number is not the applicant's
/// mainland ID: the form refuses it with the message booking gives.
async fn residence_permit_numbers_are_not_an_applicants_id(app: TestApp) {
    for permit in [
        "810000199408230021",
        "820000199408230023",
        "830000199408230025",
    ] {
        let parsed = onetrip::domain::id_number::IdNumber::parse(permit);
        assert!(
            parsed.is_ok(),
            "{permit} is a valid residence permit number"
        );
        let res = submit(&app, &form(permit)).await;
        assert_eq!(res.status(), 422, "{permit}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["code"], "id_number.not_citizen", "{body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("mainland resident")),
            "{body}"
        );
    }
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM applications")
        .fetch_one(app.state.db.reader())
        .await
        .expect("count");
    assert_eq!(n, 0);
}

on_both_engines!(
    residence_permits_refused,
    at = super::DAY,
    super::residence_permit_numbers_are_not_an_applicants_id
);

/// The page a form's redirect leads to (the staff client does not follow redirects).
async fn follow(app: &TestApp, c: &reqwest::Client, res: reqwest::Response) -> String {
    let res = match res.headers().get("location").and_then(|l| l.to_str().ok()) {
        Some(to) => c.get(app.url(to)).send().await.expect("follow"),
        None => res,
    };
    res.text().await.expect("page")
}

/// Issue 12 item 2: what a person chose or typed is refused in words when it is none of the
/// allowed values, never replaced by a default (a method by cash, a class by normal, a category
/// by first issue).
async fn unknown_values_are_refused_not_defaulted(app: TestApp) {
    let site = app.site_id("0001").await;
    let password = app
        .staff(
            "values.officer",
            vec![(Role::Officer, Some(site)), (Role::Cashier, Some(site))],
        )
        .await;
    let c = app.signed_in("values.officer", &password).await;

    // The cashier's form: bitcoin is not cash.
    let no = accepted(&app, 51).await;
    let token = app
        .csrf(&c, &format!("/staff/cashier?no={}", no.as_str()))
        .await;
    let res = c
        .post(app.url(&format!("/staff/cashier/{}/pay", no.as_str())))
        .form(&[
            ("csrf_token", token.as_str()),
            ("method", "bitcoin"),
            ("pos_ref", ""),
        ])
        .send()
        .await
        .expect("pay");
    let page = follow(&app, &c, res).await;
    assert!(
        page.contains("缴费方式") && page.contains("bitcoin"),
        "{page}"
    );
    let (payments,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payments")
        .fetch_one(app.state.db.reader())
        .await
        .expect("count");
    assert_eq!(payments, 0);

    // The acceptance: an unknown time-limit class does not become normal.
    let officer = staff(site, &[Role::Officer]);
    let other = submitted(&app, &id_number(52)).await;
    ready(&app, &officer, &other).await;
    let path = format!("/staff/acceptance/{}", other.as_str());
    // R12: an ID number of the bureau's own province (11 by default) is proposed the
    // household-registration limit; one from Guangdong the cross-province one, with the reason.
    let html = c
        .get(app.url(&path))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("value=\"normal\" checked") && !html.contains("class-proposal"));
    let first17 = "44030519880512013";
    let guangdong = format!(
        "{first17}{}",
        onetrip::domain::id_number::IdNumber::check_digit_for(first17).expect("digit")
    );
    let far = submitted(&app, &guangdong).await;
    ready(&app, &officer, &far).await;
    let html = c
        .get(app.url(&format!("/staff/acceptance/{}", far.as_str())))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("value=\"cross_province\" checked"), "{html}");
    assert!(html.contains("id=\"class-proposal\"") && html.contains("广东"));
    let token = app.csrf(&c, &path).await;
    let site_s = site.to_string();
    let page = c
        .post(app.url(&format!("{path}/accept")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("class", "warp_speed"),
            ("delivery", "pickup"),
            ("pickup_site", site_s.as_str()),
        ])
        .send()
        .await
        .expect("accept");
    let page = follow(&app, &c, page).await;
    assert!(
        page.contains("办理时限") && page.contains("warp_speed"),
        "{page}"
    );
    let status: String =
        sqlx::query_scalar("SELECT status FROM applications WHERE application_no = $1")
            .bind(other.as_str())
            .fetch_one(app.state.db.reader())
            .await
            .expect("status");
    assert_ne!(status, "accepted");

    // The one form: an unknown category does not become a first issue.
    let citizen = app.client();
    let token = app.csrf(&citizen, "/m/form").await;
    let id = id_number(53);
    let page = citizen
        .post(app.url("/forms"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("site", "0001"),
            ("channel", "mobile"),
            ("name", "张测试"),
            ("id_number", id.as_str()),
            ("phone", "13800138000"),
            ("address", "示范市人民路 1 号"),
            ("ethnicity", "汉"),
            ("passport", "on"),
            ("passport_category", "lifetime_vip"),
        ])
        .send()
        .await
        .expect("form")
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("申请类别") && page.contains("lifetime_vip"),
        "{page}"
    );
    let (forms,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM applications WHERE application_no NOT IN ($1, $2, $3)",
    )
    .bind(no.as_str())
    .bind(other.as_str())
    .bind(far.as_str())
    .fetch_one(app.state.db.reader())
    .await
    .expect("count");
    assert_eq!(forms, 0);
}

on_both_engines!(
    unknown_values,
    at = super::DAY,
    super::unknown_values_are_refused_not_defaulted
);

/// Issue 12 item 9 (PIPL, R15): every staff page and API answer that shows an applicant's ID
/// number or name unmasked writes an audit entry of the read. The routes are taken from the
/// source (every `GET /staff…` page) and the OpenAPI document (every `GET` operation), so a
/// route added later without its audit entry fails here.
async fn every_unmasked_read_of_a_person_is_audited(app: TestApp) {
    let site = app.site_id("0001").await;
    let id = id_number(71);
    let no = accepted(&app, 71).await;
    let name = "张测试";
    let password = app
        .staff(
            "reads.all",
            vec![
                (Role::Officer, Some(site)),
                (Role::Cashier, Some(site)),
                (Role::Approver, Some(site)),
                (Role::Producer, Some(site)),
                (Role::Custodian, Some(site)),
                (Role::Leader, Some(site)),
                (Role::Guide, Some(site)),
            ],
        )
        .await;
    let c = app.signed_in("reads.all", &password).await;
    let label = format!("{}01", no.as_str());

    let mut paths: Vec<String> = Vec::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                for line in text.lines() {
                    let line = line.trim();
                    if let Some(rest) = line.strip_prefix(".route(\"/staff")
                        && line.contains("get(")
                        && let Some(end) = rest.find('"')
                    {
                        paths.push(format!("/staff{}", &rest[..end]));
                    }
                }
            }
        }
    }
    let doc = serde_json::to_value(onetrip::web::api_document()).expect("doc");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if item.get("get").is_some() {
            paths.push(path.clone());
        }
    }
    assert!(paths.len() > 20, "{paths:?}");
    let audited = || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'personal_data.read'")
                .fetch_one(app.state.db.reader())
                .await
                .expect("count");
        n
    };
    let mut unaudited = Vec::new();
    let mut shown = Vec::new();
    let query = format!("no={0}&q={0}&query={0}&label={1}&date=", no.as_str(), label);
    for path in &paths {
        let filled = path
            .replace("{no}", no.as_str())
            .replace("{label}", &label)
            .replace("{code}", "0001")
            .replace("{id}", "1")
            .replace("{year}", "2026");
        if filled.contains('{') {
            continue;
        }
        for url in [filled.clone(), format!("{filled}?{query}")] {
            let before = audited().await;
            let res = c.get(app.url(&url)).send().await.expect("get");
            let body = res.text().await.unwrap_or_default();
            let shows = body.contains(id.as_str()) || body.contains(name);
            if shows {
                shown.push(url.clone());
            }
            if shows && audited().await == before {
                unaudited.push(url);
            }
        }
    }
    assert!(
        unaudited.is_empty(),
        "shown unmasked without an audit entry: {unaudited:?}"
    );
    // Not a vacuous walk: the acceptance views and the API show the applicant.
    assert!(shown.len() >= 4, "{shown:?}");
    // The workstation itself is among the audited reads, naming the view.
    let (views,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'personal_data.read' AND target_id = $1",
    )
    .bind(no.as_str())
    .fetch_one(app.state.db.reader())
    .await
    .expect("count");
    assert!(views >= 2, "{views}");
}

on_both_engines!(
    unmasked_reads,
    at = super::DAY,
    super::every_unmasked_read_of_a_person_is_audited
);

on_both_engines!(
    any_site_accepts,
    at = "2026-03-02T10:00:00+08:00",
    super::a_form_is_accepted_where_the_citizen_stands
);

/// R12 (issue 14 §5): a form filled for the hall is accepted at the extension point where the
/// citizen stands; it moves there (recorded), the acceptance goes on there, and the hall's
/// officer can no longer take it up; a form whose acceptance has begun does not move.
async fn a_form_is_accepted_where_the_citizen_stands(app: TestApp) {
    let hall = app.site_id("0001").await;
    let ext = app.site_id("0002").await;
    let no = submitted(&app, &id_number(71)).await;
    let there = staff(ext, &[Role::Officer]);
    ready(&app, &there, &no).await;
    let row = applications::application_by_no(app.state.db.reader(), no.as_str())
        .await
        .expect("q")
        .expect("row");
    assert_eq!(row.site_id, ext, "the form moved to the site accepting it");
    let accepted = applications::accept(
        &app.state.applications(),
        &common::granted(&there),
        &no,
        pickup(ext),
    )
    .await
    .expect("accepted at the extension point");
    assert_eq!(accepted.row.site_id, ext);
    let moved: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM application_events WHERE application_id = $1 AND kind = 'site_moved'",
    )
    .bind(row.id)
    .fetch_one(app.state.db.reader())
    .await
    .expect("events");
    assert_eq!(moved, 1);
    // The hall's officer cannot take it up now.
    let here = staff(hall, &[Role::Officer]);
    assert!(matches!(
        applications::start_acceptance(
            &app.state.applications(),
            &common::granted(&here),
            &no,
            None
        )
        .await,
        Err(Failure::Refused(ApplicationError::OtherSite))
    ));
    // A form the hall has begun accepting stays at the hall.
    let begun = submitted(&app, &id_number(72)).await;
    applications::start_acceptance(
        &app.state.applications(),
        &common::granted(&here),
        &begun,
        None,
    )
    .await
    .expect("started at the hall");
    assert!(matches!(
        applications::start_acceptance(
            &app.state.applications(),
            &common::granted(&there),
            &begun,
            None
        )
        .await,
        Err(Failure::Refused(ApplicationError::OtherSite))
    ));
}
