//! HTTP tests of the foundation: sign-in, sessions, CSRF, roles, audit, errors, languages,
//! public pages; each on SQLite and PostgreSQL.

mod common;

use common::TestApp;
use onetrip::auth::Role;
use serde_json::Value;

async fn sign_in_and_out(app: TestApp) {
    let password = app
        .staff(
            "li.officer",
            vec![(Role::Officer, Some(app.site_id("0001").await))],
        )
        .await;
    let c = app.signed_in("li.officer", &password).await;
    let home = c.get(app.url("/staff")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(
        html.contains("测试li.officer") && html.contains("990001"),
        "supervision card shows name and badge"
    );
    // The JSON API sees the same session.
    let me: Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "li.officer");
    assert_eq!(me["grants"][0]["role"], "officer");
    // Sign out ends the session server-side.
    let token = app.csrf(&c, "/staff").await;
    let res = c
        .post(app.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let after = c.get(app.url("/staff")).send().await.unwrap();
    assert_eq!(
        after.status(),
        303,
        "signed-out staff page redirects to sign-in"
    );
    assert!(
        after.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next=%2Fstaff")
    );
}
on_both_engines!(sign_in_and_out_works, super::sign_in_and_out);

async fn wrong_password_is_refused_and_locks_after_five(app: TestApp) {
    let password = app.staff("wang", vec![(Role::Guide, None)]).await;
    let c = app.client();
    for i in 0..5 {
        let token = app.csrf(&c, "/login").await;
        let res = c
            .post(app.url("/login"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", "wang"),
                ("password", "wrong password 1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "attempt {i}");
        let body = res.text().await.unwrap();
        if i < 4 {
            assert!(body.contains("用户名或密码不正确"), "zh message by default");
        } else {
            assert!(body.contains("账号已锁定"), "fifth failure locks");
        }
    }
    // Even the right password is refused while locked.
    let token = app.csrf(&c, "/login").await;
    let res = c
        .post(app.url("/login"))
        .header("accept-language", "en")
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "wang"),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("locked until"));
    // The first failure and the lock are in the audit log (the count between is kept in
    // sign_in_failures, so a flood cannot grow the log).
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM audit_log WHERE action = 'auth.sign_in_failed'")
            .fetch_all(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(rows.len(), 2);
}
on_both_engines!(
    lockout,
    super::wrong_password_is_refused_and_locks_after_five
);

async fn forms_without_a_valid_csrf_token_are_refused(app: TestApp) {
    let password = app.staff("zhao", vec![(Role::Admin, None)]).await;
    // No token at all.
    let c = app.client();
    let _ = c.get(app.url("/login")).send().await.unwrap();
    let res = c
        .post(app.url("/login"))
        .form(&[("username", "zhao"), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("表单已过期或来源不明"));
    // A token that is not this browser's.
    let res = c
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", "0".repeat(64).as_str()),
            ("username", "zhao"),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // The right token from another origin (a forged cross-site form).
    let token = app.csrf(&c, "/login").await;
    let res = c
        .post(app.url("/login"))
        .header("origin", "http://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "zhao"),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Signed in, a state-changing API call without the header is refused; with it, allowed.
    let c = app.signed_in("zhao", &password).await;
    let body = serde_json::json!({"username": "new.one", "display_name": "新人", "badge_no": "123", "grants": []});
    let res = c
        .post(app.url("/api/v1/staff"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "csrf.rejected");
    let me: Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = c
        .post(app.url("/api/v1/staff"))
        .header("x-csrf-token", me["csrf_token"].as_str().unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["username"], "new.one");
    assert_eq!(created["initial_password"].as_str().unwrap().len(), 14);
}
on_both_engines!(csrf, super::forms_without_a_valid_csrf_token_are_refused);

async fn roles_bound_what_staff_can_reach(app: TestApp) {
    let hall = app.site_id("0001").await;
    let ext = app.site_id("0002").await;
    let officer = app.staff("chen", vec![(Role::Officer, Some(hall))]).await;
    let c = app.signed_in("chen", &officer).await;
    for path in ["/admin/staff", "/admin/sites", "/admin/audit"] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    let res = c
        .get(app.url("/api/v1/staff"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "auth.forbidden");
    assert_eq!(err["message"], "Your account is not allowed to do this.");
    // Anonymous: API says 401, pages send to sign-in.
    let anon = app.client();
    assert_eq!(
        anon.get(app.url("/api/v1/staff"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        anon.get(app.url("/admin/staff"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    // A site administrator manages their own site only.
    let site_admin = app
        .staff("hall.admin", vec![(Role::Admin, Some(hall))])
        .await;
    let c = app.signed_in("hall.admin", &site_admin).await;
    assert_eq!(
        c.get(app.url(&format!("/admin/sites/{hall}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(app.url(&format!("/admin/sites/{ext}")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let token = app.csrf(&c, &format!("/admin/sites/{hall}")).await;
    let res = c
        .post(app.url(&format!("/admin/sites/{ext}/windows")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("number", "30"),
            ("kind", "citizen"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // …and cannot see the bureau-wide audit log.
    assert_eq!(
        c.get(app.url("/admin/audit"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}
on_both_engines!(roles, super::roles_bound_what_staff_can_reach);

async fn administrators_manage_sites_windows_and_staff_and_it_is_audited(app: TestApp) {
    let password = app.staff("root.admin", vec![(Role::Admin, None)]).await;
    let c = app.signed_in("root.admin", &password).await;
    let token = app.csrf(&c, "/admin/sites").await;
    let rules =
        "working_day = [{ start = \"09:00\", end = \"17:00\" }]\nsaturday = []\nsunday = []\n";
    let res = c
        .post(app.url("/admin/sites"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("code", "0042"),
            ("kind", "extension"),
            ("name_zh", "临港办证点"),
            ("name_en", "Lingang Extension Point"),
            ("address_zh", "临港大道 1 号"),
            ("address_en", "1 Lingang Avenue"),
            ("phone", "0000-1"),
            ("opening_rules", rules),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let site_page = res.headers()["location"].to_str().unwrap().to_string();
    let site_id: i64 = site_page.rsplit('/').next().unwrap().parse().unwrap();
    // A duplicate code is refused with a precise message, and nothing is written.
    let res = c
        .post(app.url("/admin/sites"))
        .header("accept-language", "en")
        .form(&[
            ("csrf_token", token.as_str()),
            ("code", "0042"),
            ("kind", "extension"),
            ("name_zh", "重复"),
            ("name_en", "Duplicate"),
            ("address_zh", "地址"),
            ("address_en", "Address"),
            ("phone", "1"),
            ("opening_rules", rules),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("This site code is already in use.")
    );
    // Bad opening rules are refused too.
    let res = c
        .post(app.url("/admin/sites"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("code", "0043"),
            ("kind", "extension"),
            ("name_zh", "x"),
            ("name_en", "x"),
            ("address_zh", "x"),
            ("address_en", "x"),
            ("phone", "1"),
            (
                "opening_rules",
                "working_day = [{ start = \"17:00\", end = \"09:00\" }]",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let sites: Vec<Value> = c
        .get(app.url("/api/v1/sites"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        sites.len(),
        4,
        "three demo sites and the new one; the refused ones were not written"
    );
    // Windows.
    let res = c
        .post(app.url(&format!("/admin/sites/{site_id}/windows")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("number", "1"),
            ("kind", "pickup"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let windows: Vec<Value> = c
        .get(app.url("/api/v1/sites/0042/windows"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0]["kind"], "pickup");
    let res = c
        .post(app.url(&format!("/admin/sites/{site_id}/windows")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("number", "1"),
            ("kind", "citizen"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "window numbers are unique per site");
    // Staff with a role at the new site.
    let res = c
        .post(app.url("/admin/staff"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "lingang.officer"),
            ("display_name", "林港"),
            ("badge_no", "020001"),
            ("grant", format!("officer:{site_id}").as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("lingang.officer"));
    // Everything above is in the audit log under the administrator's name, and searchable.
    let found: Vec<Value> = c
        .get(app.url("/api/v1/audit?actor=root.admin"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = found
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for expected in [
        "auth.sign_in",
        "site.created",
        "window.created",
        "staff.created",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    assert!(!actions.contains(&"audit.searched") || actions[0] == "audit.searched");
    let page = c
        .get(app.url("/admin/audit?action=staff."))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("staff.created") && page.contains("lingang.officer"));
    // The search itself was audited.
    let n: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'audit.searched'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(n.0, 2);
}
on_both_engines!(
    administration,
    super::administrators_manage_sites_windows_and_staff_and_it_is_audited
);

async fn the_audit_log_cannot_be_rewritten(app: TestApp) {
    let _ = app.staff("someone", vec![(Role::Guide, None)]).await;
    let db = app.state.db.reader();
    let before: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
        .fetch_one(db)
        .await
        .unwrap();
    assert!(before.0 > 0);
    assert!(
        sqlx::query("UPDATE audit_log SET actor_name = 'x'")
            .execute(db)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM audit_log")
            .execute(db)
            .await
            .is_err()
    );
    let after: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(before, after);
}
on_both_engines!(audit_append_only, super::the_audit_log_cannot_be_rewritten);

async fn first_sign_in_forces_a_password_change(app: TestApp) {
    // A demo account: its one-time password is unknown here, so reset it as an administrator.
    let admin_pw = app.staff("boss", vec![(Role::Admin, None)]).await;
    let admin = app.signed_in("boss", &admin_pw).await;
    let staff: Vec<Value> = admin
        .get(app.url("/api/v1/staff"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let officer = staff.iter().find(|s| s["username"] == "officer").unwrap();
    let token = app.csrf(&admin, "/admin/staff").await;
    let page = admin
        .post(app.url(&format!("/admin/staff/{}/reset", officer["id"])))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "<code class=\"secret\">";
    let start = page.find(marker).unwrap() + marker.len();
    let one_time = &page[start..start + 14];
    let c = app.client();
    let token = app.csrf(&c, "/login").await;
    let res = c
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "officer"),
            ("password", one_time),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/account/password");
    // Nothing else is reachable until the password is changed.
    assert_eq!(c.get(app.url("/staff")).send().await.unwrap().status(), 403);
    let token = app.csrf(&c, "/account/password").await;
    let weak = c
        .post(app.url("/account/password"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("current", one_time),
            ("new", "short"),
            ("confirm", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 422);
    let ok = c
        .post(app.url("/account/password"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("current", one_time),
            ("new", "a much better 2026 password"),
            ("confirm", "a much better 2026 password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(c.get(app.url("/staff")).send().await.unwrap().status(), 200);
}
on_both_engines!(
    password_change,
    super::first_sign_in_forces_a_password_change
);

async fn public_pages_and_errors_speak_both_languages(app: TestApp) {
    let c = app.client();
    let zh = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(zh.headers()["content-language"], "zh-CN");
    let zh = zh.text().await.unwrap();
    assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("办理出入境证件，只跑一次"));
    // The switch sticks through a cookie.
    let en = c
        .get(app.url("/?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        en.contains("<html lang=\"en\">") && en.contains("Your exit-entry documents, in one trip")
    );
    let again = c
        .get(app.url("/guide"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        again.contains("Service guide"),
        "English stays after the switch"
    );
    // Every catalog item has a guide page that shows materials, time limit and fee.
    for item in app.state.catalog.items() {
        let res = app
            .client()
            .get(app.url(&format!("/guide/{}", item.id)))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", item.id);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("所需材料") && html.contains("办理时限") && html.contains("收费标准"),
            "{}",
            item.id
        );
    }
    let passport = app
        .client()
        .get(app.url("/guide/passport-first-issue"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(passport.contains("¥120.00"), "passport fee in force today");
    // Sites page: address and next days' openings.
    let sites = app
        .client()
        .get(app.url("/sites"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(sites.contains("示范市人民路 88 号") && sites.contains("近期开放时间"));
    // Errors: JSON for the API, a page for people, in the reader's language.
    let res = app
        .client()
        .get(app.url("/api/v1/catalog/items/no-such-item"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "not_found");
    assert_eq!(err["message"], "您要找的页面或记录不存在。");
    let res = app
        .client()
        .get(app.url("/api/v1/catalog/items/no-such-item"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    let err: Value = res.json().await.unwrap();
    assert_eq!(
        err["message"],
        "The page or record you asked for does not exist."
    );
    let res = app
        .client()
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("无法完成您的请求"));
    let res = app
        .client()
        .get(app.url("/api/v1/calendar/working-days?from=2026-02-30&days=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "date.invalid");
}
on_both_engines!(
    public_pages,
    super::public_pages_and_errors_speak_both_languages
);

async fn operations_endpoints(app: TestApp) {
    let c = app.client();
    let health: Value = c
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["engine"],
        if app.engine == common::Engine::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
    let res = c.get(app.url("/")).send().await.unwrap();
    assert!(res.headers().contains_key("x-request-id"));
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    // A page may load its own scripts and styles and nothing inline; data loads nothing.
    let csp = |r: &reqwest::Response| {
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert!(csp(&res).contains("script-src 'self'"), "{}", csp(&res));
    assert!(
        csp(&res).contains("frame-ancestors 'none'"),
        "{}",
        csp(&res)
    );
    for data in ["/livez", "/api/v1/sites/0001/openings?days=1"] {
        let r = c.get(app.url(data)).send().await.unwrap();
        assert_eq!(
            csp(&r),
            "default-src 'none'; frame-ancestors 'none'",
            "{data}"
        );
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{data}");
    }
    let metrics = c
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    // Counted by route, method and status (the page asked for above).
    assert!(
        metrics.contains(r#"http_requests_total{method="GET",route="/",status="200"}"#),
        "{metrics}"
    );
    let days: Vec<Value> = c
        .get(app.url("/api/v1/sites/0001/openings?days=10"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!days.is_empty() && days.len() <= 10);
}
on_both_engines!(operations, super::operations_endpoints);

fn notice_2027(spring_end: &str) -> String {
    common::notice_2027("2027-01-03", spring_end).to_string()
}

async fn store_notice(app: &TestApp, version: i64, arrangement: &str) {
    let mut tx = app.state.db.begin().await.unwrap();
    onetrip::calendar::insert_notice(
        &mut tx,
        &onetrip::calendar::NewNotice {
            year: 2027,
            version,
            arrangement,
            note: "test",
            entered_by: 1,
            now: 0,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    app.state
        .db
        .publish(onetrip::calendar::TOPIC, serde_json::json!({"year": 2027}));
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    app.client()
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn working_days(app: &TestApp) -> Value {
    get_json(app, "/api/v1/calendar/working-days?from=2026-12-28&days=7").await
}

async fn a_stored_notice_comes_into_force_on_the_event_and_versions_are_append_only(app: TestApp) {
    // No notice: counted on the statutory holidays, marked provisional.
    let before = working_days(&app).await;
    assert_eq!(before["date"], "2027-01-07");
    assert_eq!(before["provisional"], true);
    let health = get_json(&app, "/healthz").await;
    assert!(
        health["calendar"]["outlook"]["first_provisional_day"].is_string(),
        "{health}"
    );

    // A version stored and announced: every node's follower reloads (no restart).
    store_notice(&app, 1, &notice_2027("2027-02-12")).await;
    let mut after = Value::Null;
    for _ in 0..50 {
        after = working_days(&app).await;
        if after["provisional"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(after["provisional"], false, "{after}");
    assert_eq!(after["date"], "2027-01-07");
    assert!(
        !app.state
            .calendar
            .current()
            .is_working_day("2027-02-08".parse().unwrap())
            .unwrap()
    );

    // An amendment is a new version; the earlier one stays, and neither can be rewritten.
    store_notice(&app, 2, &notice_2027("2027-02-13")).await;
    app.state.calendar.reload(&app.state.db).await.unwrap();
    let cal = app.state.calendar.current();
    assert!(!cal.is_working_day("2027-02-13".parse().unwrap()).unwrap());
    let versions = onetrip::calendar::versions(app.state.db.reader(), 2027)
        .await
        .unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert!(
        sqlx::query("UPDATE calendar_notices SET note = 'x'")
            .execute(app.state.db.reader())
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM calendar_notices")
            .execute(app.state.db.reader())
            .await
            .is_err()
    );

    // A stored version that fails the checks (Spring Festival of another year) is kept out
    // and reported, never a silent calendar: the year falls back to the shipped file or, as
    // here, the statutory rule (provisional, so people see dates marked expected).
    let mut broken: Value = serde_json::from_str(&notice_2027("2027-02-13")).unwrap();
    broken["holidays"][1]["start"] = "2027-02-15".into();
    broken["holidays"][1]["end"] = "2027-02-23".into();
    store_notice(&app, 3, &broken.to_string()).await;
    app.state.calendar.reload(&app.state.db).await.unwrap();
    // The version before it stays in force.
    let cal = app.state.calendar.current();
    assert!(!cal.is_provisional(2027));
    assert!(!cal.is_working_day("2027-02-13".parse().unwrap()).unwrap());
    let problems = app.state.calendar.problems();
    assert!(problems.iter().any(|p| p.contains("2027")), "{problems:?}");
    let health = get_json(&app, "/healthz").await;
    assert_eq!(
        health["calendar"]["problems"].as_array().map(Vec::len),
        Some(1),
        "{health}"
    );
}

on_both_engines!(
    calendar_notices,
    super::a_stored_notice_comes_into_force_on_the_event_and_versions_are_append_only
);

async fn post_notice(app: &TestApp, c: &reqwest::Client, body: &Value) -> reqwest::Response {
    let me = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    c.post(app.url("/api/v1/admin/calendar/years/2027"))
        .header(
            "x-csrf-token",
            me["csrf_token"].as_str().unwrap_or_default(),
        )
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn the_notice_is_entered_through_the_api_by_an_administrator_of_every_site(app: TestApp) {
    let mut body: Value = serde_json::from_str(&notice_2027("2027-02-12")).unwrap();
    // Not signed in: 401; a site's administrator: refused in words, nothing stored.
    let res = app
        .client()
        .post(app.url("/api/v1/admin/calendar/years/2027"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        matches!(res.status().as_u16(), 401 | 403),
        "{}",
        res.status()
    );
    let site = app.site_id("0001").await;
    let pw = app
        .staff("site.admin", vec![(Role::Admin, Some(site))])
        .await;
    let c = app.signed_in("site.admin", &pw).await;
    let res = post_notice(&app, &c, &body).await;
    assert_eq!(res.status(), 403);

    let pw = app.staff("chief.admin", vec![(Role::Admin, None)]).await;
    let c = app.signed_in("chief.admin", &pw).await;
    // A festival missing: 422 with the reason, in the reader's language.
    let mut missing = body.clone();
    missing["holidays"].as_array_mut().unwrap().remove(4);
    let res = post_notice(&app, &c, &missing).await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "calendar.missing_festival");
    assert!(err["message"].as_str().unwrap().contains("端午节"), "{err}");
    let year = get_json(&app, "/api/v1/calendar/years/2027").await;
    assert_eq!(year["provisional"], true);

    // Entered: 201, in force, audited.
    body["note"] = "".into();
    let res = post_notice(&app, &c, &body).await;
    assert_eq!(res.status(), 201);
    let entered: Value = res.json().await.unwrap();
    assert_eq!(entered["version"], 1);
    let year = get_json(&app, "/api/v1/calendar/years/2027").await;
    assert_eq!(year["provisional"], false);
    assert_eq!(year["source"], "entered");
    assert_eq!(working_days(&app).await["provisional"], false);
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'calendar.notice_entered'")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(n, 1);
}

on_both_engines!(
    calendar_api,
    super::the_notice_is_entered_through_the_api_by_an_administrator_of_every_site
);

/// Issue 11 item 4: the warning counts from the longest booking window any site has set, not
/// only the default: a site opening 90 days ahead brings it forward by months.
async fn a_site_with_a_long_booking_window_brings_the_calendar_warning_forward(app: TestApp) {
    let health = get_json(&app, "/healthz").await;
    assert_eq!(health["calendar"]["status"], "ok", "{health}");
    let site_id = app.site_id("0001").await;
    let settings = onetrip::booking::slots::SlotSettings {
        slot_minutes: 30,
        quota_online: 5,
        quota_phone: 1,
        quota_onsite: 1,
        open_days_ahead: 90,
        open_at_minute: 9 * 60,
        close_minutes_before: 60,
        release_delay_seconds: 600,
    };
    onetrip::booking::update_settings(
        &app.state.booking(),
        common::administrator(),
        site_id,
        "first_issue",
        settings,
    )
    .await
    .unwrap();
    let health = get_json(&app, "/healthz").await;
    assert_eq!(health["calendar"]["status"], "warning", "{health}");
    // 2026-09-20 + 90 days = 2026-12-19: 13 days before 2027, which has no notice.
    assert_eq!(
        health["calendar"]["outlook"]["horizon_end"], "2026-12-19",
        "{health}"
    );
    assert_eq!(
        health["calendar"]["outlook"]["provisional_days_ahead"], 13,
        "{health}"
    );
}

on_both_engines!(
    long_booking_window_warning,
    at = "2026-09-20T10:00:00+08:00",
    super::a_site_with_a_long_booking_window_brings_the_calendar_warning_forward
);

/// Issue 12 item 6: the progress lookup has its own limit, says what happened and when to come
/// back (`Retry-After` on the 429), and behind a trusted proxy each citizen is counted by the
/// address the proxy saw, not the proxy's.
async fn progress_lookups_are_limited_apart_and_say_when_to_retry(engine: common::Engine) {
    let config = onetrip::config::Config {
        booking_attempts_per_ip_hour: 3,
        booking_attempts_per_id_hour: 0,
        trusted_proxies: vec!["127.0.0.1".into()],
        ..onetrip::config::Config::default()
    };
    let Some(app) = TestApp::spawn_with(engine, config).await else {
        return;
    };
    let c = app.client();
    let lookup = |from: &'static str| {
        c.post(app.url("/api/v1/progress"))
            .header("x-forwarded-for", from)
            .header("accept-language", "zh-CN")
            .json(&serde_json::json!({"application_no": "202603020001000190", "id_number": "11010519491231002X"}))
            .send()
    };
    // Three lookups from one citizen's address find nothing; the fourth is limited.
    for _ in 0..3 {
        assert_eq!(lookup("203.0.113.7").await.unwrap().status(), 404);
    }
    let res = lookup("203.0.113.7").await.unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=7200).contains(&retry), "{retry}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("尝试次数过多") && !message.contains("维护"),
        "{message}"
    );
    // Another citizen behind the same proxy is not held up by the first.
    assert_eq!(lookup("198.51.100.20").await.unwrap().status(), 404);
    // An address forged left of an untrusted hop does not help: the untrusted hop is the client.
    let res = lookup("10.9.9.9, 203.0.113.7").await.unwrap();
    assert_eq!(res.status(), 429);
    // Booking attempts of the first address count apart from its lookups.
    let res = c
        .post(app.url("/api/v1/appointments/lookup"))
        .header("x-forwarded-for", "203.0.113.7")
        .json(&serde_json::json!({"code": "ABCDEFGH", "id_number": "11010519491231002X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

on_both_engines!(progress_lookups_are_limited_apart_and_say_when_to_retry);

/// Issue 12 item 10: `/metrics` answers only configured addresses or the bearer token.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_are_served_only_to_the_configured_readers() {
    let config = onetrip::config::Config {
        metrics_allow: vec!["192.0.2.0/24".into()],
        metrics_token: "scrape-secret-0123456789".into(),
        ..onetrip::config::Config::default()
    };
    let app = TestApp::spawn_with(common::Engine::Sqlite, config)
        .await
        .unwrap();
    let c = app.client();
    let res = c.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = c
        .get(app.url("/metrics"))
        .header("authorization", "Bearer wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = c
        .get(app.url("/metrics"))
        .header("authorization", "Bearer scrape-secret-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("http_requests_total"));
}

/// Issue 12 items 8, 12: unknown and real usernames get the same answers, a lock holds only
/// the address that earned it (a stranger cannot lock an officer out of their workstation),
/// and a JSON client gets a usable CSRF token from the session it opens.
async fn sign_in_reveals_no_usernames_and_a_stranger_cannot_lock_an_officer_out(
    engine: common::Engine,
) {
    let config = onetrip::config::Config {
        trusted_proxies: vec!["127.0.0.1".into()],
        ..onetrip::config::Config::default()
    };
    let Some(app) = TestApp::spawn_with(engine, config).await else {
        return;
    };
    let password = app.staff("li.officer", vec![(Role::Officer, None)]).await;
    let c = app.client();
    let sign_in = |username: &'static str, password: String, from: &'static str| {
        c.post(app.url("/api/v1/session"))
            .header("x-forwarded-for", from)
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
    };
    // A stranger tries a real and a made-up username five times each: the same answers.
    let mut answers = Vec::new();
    for username in ["li.officer", "no.such.person"] {
        let mut codes = Vec::new();
        for _ in 0..6 {
            let res = sign_in(username, "guess".into(), "198.51.100.66")
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            codes.push((status, body["code"].as_str().unwrap_or_default().to_owned()));
        }
        answers.push(codes);
    }
    assert_eq!(
        answers[0], answers[1],
        "real and unknown usernames answer alike"
    );
    assert_eq!(answers[0][0], (401, "auth.invalid_credentials".to_owned()));
    assert_eq!(answers[0][5].1, "auth.locked");
    // The officer at their own workstation still signs in, and gets a CSRF token to use.
    let res = sign_in("li.officer", password.clone(), "10.1.2.3")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    let token = me["csrf_token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(token.len(), 64, "{me}");
    let res = c
        .delete(app.url("/api/v1/session"))
        .header("x-forwarded-for", "10.1.2.3")
        .header("x-csrf-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        204,
        "the token works for a state-changing call"
    );
}

on_both_engines!(sign_in_reveals_no_usernames_and_a_stranger_cannot_lock_an_officer_out);

/// Issue 12 item 12: an account on its one-time password changes it through the API, and only
/// then reaches anything else.
async fn a_one_time_password_is_changed_through_the_api(app: TestApp) {
    app.staff("first.day", vec![(Role::Guide, None)]).await;
    let one_time = "one-time-Pass-2026!";
    let hash = onetrip::auth::password::hash(one_time).unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM staff WHERE username = 'first.day'")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    onetrip::auth::set_password(&mut tx, id, &hash, true, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let c = app.client();
    let me: Value = c
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"username": "first.day", "password": one_time}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["must_change_password"], true);
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    let res = c.get(app.url("/api/v1/staff")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = c
        .post(app.url("/api/v1/me/password"))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"current": one_time, "new": "Hall-Desk-Passw0rd-77"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let me: Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["must_change_password"], false, "{me}");
}

on_both_engines!(
    api_password_change,
    super::a_one_time_password_is_changed_through_the_api
);

/// Issue 12 item 13: the JSON API takes each identifier in the one form its OpenAPI pattern
/// shows, and refuses another form with a 400 naming the field (the pages stay lenient: a person
/// may type full-width digits or a lower-case x there).
async fn the_json_api_takes_identifiers_in_their_documented_form(app: TestApp) {
    let c = app.client();
    let refused = |res: reqwest::Response, field: &'static str| async move {
        assert_eq!(res.status(), 400, "{field}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "bad_request");
        let message = body["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains(field), "{message}");
    };
    let progress = |no: &str, id: &str| {
        c.post(app.url("/api/v1/progress"))
            .json(&serde_json::json!({"application_no": no, "id_number": id}))
            .send()
    };
    // The canonical forms pass the edge (and find nothing: 404).
    let res = progress("202603020001000190", "11010519491231002X")
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    refused(
        progress("202603020001000190", "11010519491231002x")
            .await
            .unwrap(),
        "ID number",
    )
    .await;
    refused(
        progress("２０２６03020001000190", "11010519491231002X")
            .await
            .unwrap(),
        "application number",
    )
    .await;
    let res = c
        .post(app.url("/api/v1/appointments/cancel"))
        .json(&serde_json::json!({"code": "k7m2q9tx", "id_number": "11010519491231002X"}))
        .send()
        .await
        .unwrap();
    refused(res, "booking code").await;
    let res = c
        .get(app.url("/api/v1/sites/1/queue"))
        .send()
        .await
        .unwrap();
    refused(res, "site code").await;
    let res = c
        .get(app.url("/api/v1/applications/2026030200010001900/bill"))
        // Past the caller check (an applicant's claim), the number itself is refused.
        .header("x-applicant-id-number", "110101199001010011")
        .send()
        .await
        .unwrap();
    refused(res, "application number").await;
    let res = c
        .get(app.url("/api/v1/sites/0001/queue"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

on_both_engines!(
    identifiers_in_documented_form,
    super::the_json_api_takes_identifiers_in_their_documented_form
);
