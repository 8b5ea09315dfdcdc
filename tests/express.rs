//! Express delivery (R10) on SQLite and PostgreSQL: documents of one application shipped
//! together under one waybill, signed tracking webhooks (forged and repeated ones change
//! nothing, over HTTP), delivery closing the documents, and two-way express for an
//! endorsement: the permit is sent in, endorsed and sent back, nobody travels.

mod common;

use common::TestApp;
use onetrip::applications::{self, Acceptance, Delivery, FormInput};
use onetrip::auth::{Actor, Role};
use onetrip::catalog::{ApplicationCategory, DocumentType, TimeLimitClass};
use onetrip::devices::CaptureKind;
use onetrip::documents::{self, flow::Stage};
use onetrip::domain::application_no::ApplicationNo;
use onetrip::domain::document_number::{DocumentKind, DocumentNumber};
use onetrip::domain::id_number::IdNumber;
use onetrip::express::{self, WebhookOutcome, courier::TrackingStatus};
use onetrip::i18n::Lang;

const DAY: &str = "2026-11-02T09:00:00+08:00";

fn staff(site_id: i64) -> Actor {
    common::actor_at(
        site_id,
        &[
            Role::Officer,
            Role::Approver,
            Role::Producer,
            Role::Custodian,
        ],
    )
}

fn id_number(n: u32) -> IdNumber {
    common::synthetic_id("19850716", n)
}

fn document(
    document: DocumentType,
    category: ApplicationCategory,
) -> applications::rules::DocumentRequest {
    applications::rules::DocumentRequest {
        document,
        category,
        old_number: None,
        old_document: None,
        endorsements: vec![],
        annotations: 0,
    }
}

async fn submit(
    app: &TestApp,
    n: u32,
    documents: Vec<applications::rules::DocumentRequest>,
) -> ApplicationNo {
    let site = onetrip::sites::site_by_code(app.state.db.reader(), "0001")
        .await
        .expect("q")
        .expect("hall");
    let row = applications::submit_form(
        &app.state.applications(),
        &site,
        applications::Channel::Mobile,
        FormInput {
            name: "赵邮寄".into(),
            id_number: id_number(n),
            phone: onetrip::domain::phone::PhoneNumber::parse("13700137000").expect("phone"),
            address: "示范市".into(),
            ethnicity: "汉".into(),
            from_card_reader: false,
            registered_state_personnel: false,
            unit_consent: false,
            work_unit: None,
            guardian: None,
            documents,
            lang: Lang::ZhCn,
        },
    )
    .await
    .expect("form");
    ApplicationNo::parse(&row.application_no).expect("no")
}

fn by_express() -> Acceptance {
    Acceptance {
        class: TimeLimitClass::Normal,
        emergency_reason: None,
        emergency_proof: None,
        delivery: Delivery::Express {
            recipient: "赵邮寄".into(),
            phone: "13700137000".into(),
            address: "示范市幸福路 9 号".into(),
        },
    }
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

/// Every acceptance step, then accepted for delivery by express.
async fn accept_by_express(app: &TestApp, actor: &Actor, no: &ApplicationNo) {
    let ctx = app.state.applications();
    let d = applications::start_acceptance(&ctx, &common::granted(actor), no, None)
        .await
        .expect("start");
    let all: Vec<String> = d
        .materials(&app.state.catalog)
        .iter()
        .map(|m| m.id.clone())
        .collect();
    applications::check_materials(&ctx, &common::granted(actor), no, &all)
        .await
        .expect("materials");
    for kind in [CaptureKind::Photo, CaptureKind::Fingerprint] {
        applications::capture(&ctx, &common::granted(actor), no, kind)
            .await
            .expect("capture");
    }
    applications::verify_face(&ctx, &common::granted(actor), no)
        .await
        .expect("face");
    applications::run_checks(&ctx, &common::granted(actor), no)
        .await
        .expect("checks");
    applications::accept(&ctx, &common::granted(actor), no, by_express())
        .await
        .expect("accept");
}

async fn approve_and_produce(app: &TestApp, actor: &Actor, no: &ApplicationNo) {
    let ctx = app.state.applications();
    let site = app.site_id("0001").await;
    common::pay_cash(app, site, no).await;
    let mut ids = Vec::new();
    let mut numbers = Vec::new();
    for d in docs(app, no).await {
        documents::start_review(&ctx, &common::granted(actor), d.id)
            .await
            .expect("review");
        documents::approve(&ctx, &common::granted(actor), d.id)
            .await
            .expect("approve");
        ids.push(d.id);
        let n = match d.document_type.as_str() {
            "passport" => "E23456789",
            "hk_macao_permit" => "CA2345678",
            _ => "T23456789",
        };
        numbers.push((d.id, n.to_string()));
    }
    let batch = documents::start_batch(&ctx, &common::granted(actor), &ids)
        .await
        .expect("batch");
    documents::finish_batch(&ctx, &common::granted(actor), batch, &numbers)
        .await
        .expect("produced");
}

async fn webhook(app: &TestApp, body: &str, signature: &str) -> (u16, serde_json::Value) {
    let res = app
        .client()
        .post(app.url("/api/v1/express/webhook"))
        .header("content-type", "application/json")
        .header("x-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .expect("webhook");
    let status = res.status().as_u16();
    (status, res.json().await.expect("json"))
}

async fn shipped_together_and_tracked(app: TestApp) {
    let site = app.site_id("0001").await;
    let actor = staff(site);
    let ctx = app.state.applications();
    let no = submit(
        &app,
        1,
        vec![
            document(DocumentType::Passport, ApplicationCategory::FirstIssue),
            document(DocumentType::HkMacaoPermit, ApplicationCategory::FirstIssue),
        ],
    )
    .await;
    accept_by_express(&app, &actor, &no).await;
    approve_and_produce(&app, &actor, &no).await;

    let courier = app.state.devices.courier.clone();
    let shipped = express::ship_ready(&ctx, courier.as_ref(), &common::granted(&actor), site)
        .await
        .expect("ship");
    assert_eq!(shipped.len(), 1, "both documents under one waybill");
    let waybill = shipped[0].waybill_no.clone();
    assert!(
        docs(&app, &no)
            .await
            .iter()
            .all(|d| d.stage == Stage::Shipped)
    );
    let told: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'express.shipped' AND ref = $1",
    )
    .bind(no.as_str())
    .fetch_one(app.state.db.reader())
    .await
    .expect("outbox");
    assert_eq!(told, 1);
    // Nothing left to ship.
    assert!(
        express::ship_ready(&ctx, courier.as_ref(), &common::granted(&actor), site)
            .await
            .expect("ship")
            .is_empty()
    );

    let sim = app
        .state
        .devices
        .courier_simulator
        .clone()
        .expect("simulator");
    let now = app.state.clock.now_ms();
    // A forged delivery changes nothing.
    let (body, _) = sim.sign_update(&waybill, TrackingStatus::Delivered, "示范市", now);
    let (status, v) = webhook(&app, &body, "00ff").await;
    assert_eq!((status, v["outcome"].as_str()), (400, Some("forged")));
    assert!(
        docs(&app, &no)
            .await
            .iter()
            .all(|d| d.stage == Stage::Shipped)
    );
    // Picked up, then the same event again.
    let (body, sig) = sim.sign_update(
        &waybill,
        TrackingStatus::PickedUp,
        "示范市邮政分拣中心",
        now,
    );
    assert_eq!(webhook(&app, &body, &sig).await.1["outcome"], "applied");
    assert_eq!(webhook(&app, &body, &sig).await.1["outcome"], "duplicate");
    let (body, sig) = sim.sign_update(
        &waybill,
        TrackingStatus::Delivered,
        "示范市幸福路",
        now + 3_600_000,
    );
    assert_eq!(webhook(&app, &body, &sig).await.1["outcome"], "applied");
    assert!(
        docs(&app, &no)
            .await
            .iter()
            .all(|d| d.stage == Stage::Delivered)
    );
    // The citizen sees the tracking.
    let row = applications::application_by_no(app.state.db.reader(), no.as_str())
        .await
        .expect("q")
        .expect("row");
    let t = express::tracking(&ctx, row.id, Lang::ZhCn)
        .await
        .expect("tracking");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].waybill_no, waybill);
    let said: Vec<&str> = t[0].events.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(said, vec!["快递已揽收", "已签收"]);
    let unknown = sim.sign_update("EA000000000CN", TrackingStatus::InTransit, "x", now);
    assert_eq!(
        express::handle_webhook(&ctx, sim.as_ref(), &unknown.0, &unknown.1)
            .await
            .expect("handled"),
        WebhookOutcome::UnknownWaybill
    );
}
on_both_engines!(
    shipped,
    at = super::DAY,
    super::shipped_together_and_tracked
);

async fn two_way_express_endorsement(app: TestApp) {
    let site = app.site_id("0001").await;
    let actor = staff(site);
    let ctx = app.state.applications();
    let mut endorse = document(
        DocumentType::HkMacaoPermit,
        ApplicationCategory::Endorsement,
    );
    endorse.old_number =
        Some(DocumentNumber::parse(DocumentKind::HkMacaoPermit, "CB7654321").expect("no"));
    endorse.old_document = Some(applications::rules::OldDocument::Held);
    endorse.endorsements = vec!["hk-macao-t-3m-once".into()];
    let no = submit(&app, 2, vec![endorse]).await;
    let courier = app.state.devices.courier.clone();
    // A passport application cannot go two-way.
    let passport = submit(
        &app,
        3,
        vec![document(
            DocumentType::Passport,
            ApplicationCategory::FirstIssue,
        )],
    )
    .await;
    assert!(
        express::create_inbound(&ctx, courier.as_ref(), &passport)
            .await
            .is_err()
    );

    // The applicant sends the permit in.
    let inbound = express::create_inbound(&ctx, courier.as_ref(), &no)
        .await
        .expect("inbound");
    assert_eq!(inbound.direction, "inbound");
    let again = express::create_inbound(&ctx, courier.as_ref(), &no)
        .await
        .expect("same waybill");
    assert_eq!(again.waybill_no, inbound.waybill_no);
    applications::start_acceptance(&ctx, &common::granted(&actor), &no, None)
        .await
        .expect("start");
    let d = applications::dossier(&ctx, &no)
        .await
        .expect("read")
        .expect("found");
    let all: Vec<String> = d
        .materials(&app.state.catalog)
        .iter()
        .map(|m| m.id.clone())
        .collect();
    applications::check_materials(&ctx, &common::granted(&actor), &no, &all)
        .await
        .expect("materials");
    applications::run_checks(&ctx, &common::granted(&actor), &no)
        .await
        .expect("checks");
    // Not arrived yet: the applicant has not been seen, so no acceptance.
    assert!(matches!(
        applications::accept(&ctx, &common::granted(&actor), &no, by_express()).await,
        Err(onetrip::auth::Failure::Refused(
            applications::ApplicationError::FaceNotVerified
        ))
    ));
    let sim = app
        .state
        .devices
        .courier_simulator
        .clone()
        .expect("simulator");
    let (body, sig) = sim.sign_update(
        &inbound.waybill_no,
        TrackingStatus::Delivered,
        "示范市出入境接待大厅",
        app.state.clock.now_ms(),
    );
    assert_eq!(
        express::handle_webhook(&ctx, sim.as_ref(), &body, &sig)
            .await
            .expect("handled"),
        WebhookOutcome::Applied
    );
    // Arrived: accepted without a visit, endorsed, sent back.
    let accepted = applications::accept(&ctx, &common::granted(&actor), &no, by_express())
        .await
        .expect("accept");
    assert_eq!(accepted.row.fee_fen, Some(1_500));
    approve_and_produce(&app, &actor, &no).await;
    let out = express::ship_ready(&ctx, courier.as_ref(), &common::granted(&actor), site)
        .await
        .expect("ship");
    assert_eq!(out.len(), 1);
    let (body, sig) = sim.sign_update(
        &out[0].waybill_no,
        TrackingStatus::Delivered,
        "示范市",
        app.state.clock.now_ms(),
    );
    express::handle_webhook(&ctx, sim.as_ref(), &body, &sig)
        .await
        .expect("handled");
    assert!(
        docs(&app, &no)
            .await
            .iter()
            .all(|d| d.stage == Stage::Delivered)
    );
    let row = applications::application_by_no(app.state.db.reader(), no.as_str())
        .await
        .expect("q")
        .expect("row");
    let t = express::tracking(&ctx, row.id, Lang::En)
        .await
        .expect("tracking");
    let directions: Vec<&str> = t.iter().map(|x| x.direction.as_str()).collect();
    assert_eq!(directions, vec!["inbound", "outbound"]);
}
on_both_engines!(two_way, at = super::DAY, super::two_way_express_endorsement);

/// Issue 12 item 1 (decision 012): produced documents of an application refunded in full are
/// held back from the courier.
async fn nothing_unpaid_is_shipped(app: TestApp) {
    let site = app.site_id("0001").await;
    let actor = staff(site);
    let no = submit(
        &app,
        7,
        vec![document(
            DocumentType::Passport,
            ApplicationCategory::FirstIssue,
        )],
    )
    .await;
    accept_by_express(&app, &actor, &no).await;
    approve_and_produce(&app, &actor, &no).await;
    let (receipt, fee): (String, i64) = sqlx::query_as(
        "SELECT p.receipt_no, a.fee_fen FROM payments p JOIN applications a ON a.id = p.application_id \
         WHERE a.application_no = $1 AND p.status = 'paid'",
    )
    .bind(no.as_str())
    .fetch_one(app.state.db.reader())
    .await
    .expect("payment");
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
    let courier = app.state.devices.courier.clone();
    let shipped = express::ship_ready(
        &app.state.applications(),
        courier.as_ref(),
        &common::granted(&actor),
        site,
    )
    .await
    .expect("ship");
    assert!(shipped.is_empty(), "{shipped:?}");
    assert!(
        docs(&app, &no)
            .await
            .iter()
            .all(|d| d.stage == Stage::Produced)
    );
    let (waybills,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM shipments")
        .fetch_one(app.state.db.reader())
        .await
        .expect("shipments");
    assert_eq!(waybills, 0);
}
on_both_engines!(
    unpaid_not_shipped,
    at = super::DAY,
    super::nothing_unpaid_is_shipped
);

/// Issue 12 item 12: the express desk as JSON ships a paid application's documents.
async fn the_express_desk_ships_through_json(app: TestApp) {
    let site = app.site_id("0001").await;
    let actor = staff(site);
    let no = submit(
        &app,
        9,
        vec![document(
            DocumentType::Passport,
            ApplicationCategory::FirstIssue,
        )],
    )
    .await;
    accept_by_express(&app, &actor, &no).await;
    approve_and_produce(&app, &actor, &no).await;
    let pw = app
        .staff("json.desk", vec![(Role::Custodian, Some(site))])
        .await;
    let c = app.client();
    let me: serde_json::Value = c
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"username": "json.desk", "password": pw}))
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("me");
    let res = c
        .post(app.url("/api/v1/express/ship"))
        .header(
            "x-csrf-token",
            me["csrf_token"].as_str().unwrap_or_default(),
        )
        .json(&serde_json::json!({"site": "0001"}))
        .send()
        .await
        .expect("ship");
    assert_eq!(res.status(), 200);
    let shipped: serde_json::Value = res.json().await.expect("json");
    assert_eq!(shipped.as_array().map(Vec::len), Some(1), "{shipped}");
    assert!(
        docs(&app, &no)
            .await
            .iter()
            .all(|d| d.stage == Stage::Shipped)
    );
}
on_both_engines!(
    ship_json,
    at = super::DAY,
    super::the_express_desk_ships_through_json
);
