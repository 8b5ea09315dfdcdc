//! Supervision cards (服务监督牌, R13) on both engines: an administrator's photo upload (the
//! API's raw body and the staff page's form), kept by content hash and served under it, refused
//! when it is not a JPEG or PNG or too large or the account is beyond the administrator's sites;
//! the card on the window display, the evaluator and the public on-duty list.

mod common;

use common::TestApp;
use onetrip::auth::{Actor, Role};

/// A real 3×4 PNG.
const PNG: &str = "89504e470d0a1a0a0000000d4948445200000003000000040802000000c44f12500000001049444154789c63d0885a00410c7859000a770d9924ecea6a0000000049454e44ae426082";

fn png() -> Vec<u8> {
    (0..PNG.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&PNG[i..i + 2], 16).expect("hex"))
        .collect()
}

async fn staff_id(app: &TestApp, username: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM staff WHERE username = $1")
        .bind(username)
        .fetch_one(app.state.db.reader())
        .await
        .expect("staff id")
}

async fn cards_are_uploaded_kept_and_shown(app: TestApp) {
    let hall = app.site_id("0001").await;
    let extension = app.site_id("0002").await;
    app.staff("officer.card", vec![(Role::Officer, Some(hall))])
        .await;
    let officer_id = staff_id(&app, "officer.card").await;
    let admin_pw = app.staff("admin.card", vec![(Role::Admin, None)]).await;
    let (c, csrf) = app.api_session("admin.card", &admin_pw).await;
    let url = app.url(&format!("/api/v1/staff/{officer_id}/photo"));

    // Not a photo, too large: refused with the reason.
    let res = c
        .put(&url)
        .header("x-csrf-token", &csrf)
        .header("content-type", "image/svg+xml")
        .body("<svg xmlns='http://www.w3.org/2000/svg'/>")
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), 415);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["code"], "photo.not_a_photo");
    let mut big = png();
    big.resize(onetrip::supervision::PHOTO_MAX_BYTES + 1, 0);
    let res = c
        .put(&url)
        .header("x-csrf-token", &csrf)
        .body(big)
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), 413);

    // A PNG: kept under its hash, served under it for good.
    let res = c
        .put(&url)
        .header("x-csrf-token", &csrf)
        .header("content-type", "image/png")
        .body(png())
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), 200);
    let set: serde_json::Value = res.json().await.expect("json");
    let sha = set["sha256"].as_str().expect("sha").to_string();
    assert_eq!(sha.len(), 64);
    let photo = app
        .client()
        .get(app.url(&format!("/officers/photos/{sha}")))
        .send()
        .await
        .expect("photo");
    assert_eq!(photo.status(), 200);
    assert_eq!(photo.headers()["content-type"], "image/png");
    assert!(
        photo.headers()["cache-control"]
            .to_str()
            .expect("header")
            .contains("immutable")
    );
    assert_eq!(photo.bytes().await.expect("bytes").to_vec(), png());
    let missing = app
        .client()
        .get(app.url(&format!("/officers/photos/{}", "0".repeat(64))))
        .send()
        .await
        .expect("photo");
    assert_eq!(missing.status(), 404);
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'staff.photo_set' AND detail LIKE $1",
    )
    .bind(format!("%{sha}%"))
    .fetch_one(app.state.db.reader())
    .await
    .expect("audit");
    assert_eq!(audited, 1);

    // An administrator of the extension point cannot change a hall officer's card.
    let site_admin_pw = app
        .staff("admin.ext", vec![(Role::Admin, Some(extension))])
        .await;
    let (e, e_csrf) = app.api_session("admin.ext", &site_admin_pw).await;
    let res = e
        .put(&url)
        .header("x-csrf-token", &e_csrf)
        .body(png())
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), 403);

    // The staff page's form: multipart, its CSRF token in the action's query.
    let page = app.signed_in("admin.card", &admin_pw).await;
    let token = app.csrf(&page, "/admin/staff").await;
    let boundary = "----onetrip-test-boundary";
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.extend_from_slice(b"\0\x10JFIF\0 a test photo");
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"card.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&jpeg);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let post = |query: String, body: Vec<u8>| {
        page.post(app.url(&format!("/admin/staff/{officer_id}/photo{query}")))
            .header("origin", app.url(""))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
    };
    let forged = post(String::new(), body.clone()).await.expect("post");
    assert_eq!(forged.status(), 403, "no token, no upload");
    let res = post(format!("?csrf_token={token}"), body)
        .await
        .expect("post");
    assert_eq!(res.status(), 303);
    let card = onetrip::supervision::card(&app.state.db, officer_id)
        .await
        .expect("q")
        .expect("card");
    let url = card.photo_url.clone().expect("a photo");
    assert!(!url.ends_with(&sha), "the new photo replaced the PNG");
    let served = app.client().get(app.url(&url)).send().await.expect("photo");
    assert_eq!(served.headers()["content-type"], "image/jpeg");

    // Nobody at a window yet; the officer opens window 1.
    let json: serde_json::Value = app
        .client()
        .get(app.url("/api/v1/sites/0001/on-duty"))
        .send()
        .await
        .expect("on duty")
        .json()
        .await
        .expect("json");
    assert_eq!(json["officers"].as_array().map(Vec::len), Some(0));
    assert_eq!(json["hotline"], "12367");
    let window = onetrip::sites::windows_of(app.state.db.reader(), hall)
        .await
        .expect("windows")
        .into_iter()
        .find(|w| w.number == 1)
        .expect("window 1");
    let officer = Actor {
        staff_id: officer_id,
        ..common::actor_at(hall, &[Role::Officer])
    };
    onetrip::queue::open_window(&app.state.queue(), &common::granted(&officer), &window)
        .await
        .expect("open");
    let json: serde_json::Value = app
        .client()
        .get(app.url("/api/v1/sites/0001/on-duty"))
        .send()
        .await
        .expect("on duty")
        .json()
        .await
        .expect("json");
    assert_eq!(json["officers"][0]["card"]["name"], "测试officer.card");
    assert_eq!(json["officers"][0]["card"]["photo_url"], url.as_str());
    assert_eq!(json["officers"][0]["window"], 1);
    assert_eq!(json["officers"][0]["at_window_now"], true);
    let html = app
        .client()
        .get(app.url("/sites/0001/on-duty"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("测试officer.card") && html.contains(&url));
    // The display above the window carries the card.
    let html = app
        .client()
        .get(app.url("/display/0001/window/1"))
        .send()
        .await
        .expect("display")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("id=\"officer-card\"") && html.contains(&url),
        "{html}"
    );
    // The extension point has nobody on duty.
    let json: serde_json::Value = app
        .client()
        .get(app.url("/api/v1/sites/0002/on-duty"))
        .send()
        .await
        .expect("on duty")
        .json()
        .await
        .expect("json");
    assert_eq!(json["officers"].as_array().map(Vec::len), Some(0));
}

on_both_engines!(
    cards,
    at = "2026-10-15T09:00:00+08:00",
    super::cards_are_uploaded_kept_and_shown
);
