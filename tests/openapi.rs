//! The OpenAPI document covers every JSON route and is pinned by a snapshot, so an API change
//! is a reviewed change.

#[test]
fn openapi_document_is_stable_and_complete() {
    let doc = onetrip::web::api_document();
    let json = serde_json::to_value(&doc).expect("serialises");
    let paths = json["paths"].as_object().expect("paths");
    for p in [
        "/healthz",
        "/livez",
        "/api/v1/session",
        "/api/v1/me",
        "/api/v1/staff",
        "/api/v1/audit",
        "/api/v1/sites",
        "/api/v1/sites/{code}/openings",
        "/api/v1/sites/{code}/windows",
        "/api/v1/catalog/items",
        "/api/v1/catalog/items/{id}",
        "/api/v1/catalog/emergency-reasons",
        "/api/v1/calendar/working-days",
        "/api/v1/appointments",
        "/api/v1/appointments/availability",
        "/api/v1/appointments/lookup",
        "/api/v1/appointments/cancel",
        "/api/v1/appointments/reschedule",
        "/api/v1/appointments/{code}/check-in",
        "/api/v1/tickets",
        "/api/v1/tickets/{token}",
        "/api/v1/windows/{id}/call-next",
        "/api/v1/sites/{code}/queue",
        "/api/v1/applications",
        "/api/v1/applications/{no}",
        "/api/v1/applications/{no}/acceptance",
        "/api/v1/applications/{no}/materials",
        "/api/v1/applications/{no}/captures/{kind}",
        "/api/v1/applications/{no}/face",
        "/api/v1/applications/{no}/checks",
        "/api/v1/applications/{no}/accept",
        "/api/v1/applications/{no}/refuse",
        "/api/v1/applications/{no}/bill",
        "/api/v1/applications/{no}/payments",
        "/api/v1/applications/{no}/orders",
        "/api/v1/devices/id-reader/card",
        "/api/v1/payments/notify/{provider}",
        "/api/v1/payments/orders/{order}/query",
        "/api/v1/payments/{receipt_no}/refunds",
        "/api/v1/payments/reconciliation",
        "/api/v1/progress",
        "/api/v1/documents/due",
        "/api/v1/custody/inventory",
        "/api/v1/express/webhook",
        "/api/v1/applications/{no}/inbound",
    ] {
        assert!(paths.contains_key(p), "{p} is documented");
    }
    insta::assert_json_snapshot!("openapi", json);
}

mod common;

/// The document tells the truth about sessions: every operation it marks as needing one answers
/// 401 without it, every other does not; every error answer is `{code, message}` JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_documented_security_is_what_the_server_does() {
    let app = common::TestApp::spawn(common::Engine::Sqlite)
        .await
        .expect("app");
    let doc = serde_json::to_value(onetrip::web::api_document()).expect("serialises");
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let secured = op.get("security").is_some();
            let url = app.url(&fill_parameters(path));
            let req = match method.as_str() {
                "get" => c.get(&url),
                "post" => c.post(&url).json(&serde_json::json!({})),
                "delete" => c.delete(&url),
                "put" => c.put(&url).json(&serde_json::json!({})),
                other => panic!("{other} {path}"),
            };
            let res = req.send().await.expect("send");
            let status = res.status().as_u16();
            let json = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            if secured != (status == 401) {
                wrong.push(format!(
                    "{method} {path}: secured={secured}, answered {status}"
                ));
            }
            if status >= 400 && !json {
                wrong.push(format!("{method} {path}: {status} is not JSON"));
            }
            if status == 401 && op["responses"].get("401").is_none() {
                wrong.push(format!("{method} {path}: 401 not documented"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // A word where a number goes, and a body that is not UTF-8: 400 in the error shape.
    let res = c
        .get(app.url("/api/v1/calendar/years/abc"))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["code"], "bad_request");
    let res = c
        .post(app.url("/api/v1/complaints"))
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, 0x00])
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["code"], "bad_request");
    // The courier's webhook answers in its own documented shape even then: such bytes cannot
    // carry a valid signature, so they are forged.
    let res = c
        .post(app.url("/api/v1/express/webhook"))
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, 0x00])
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["outcome"], "forged");
}

/// `path` with each `{parameter}` filled with `1` (a number parses wherever one is wanted).
fn fill_parameters(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for ch in path.chars() {
        match ch {
            '{' => {
                inside = true;
                out.push('1');
            }
            '}' => inside = false,
            _ if inside => {}
            _ => out.push(ch),
        }
    }
    out
}

/// Every identifier a client sends — in a body or in a path — carries the pattern the server
/// checks (issue 12 item 13): a new field named like one of them without it fails here.
#[test]
fn identifiers_sent_by_clients_carry_their_pattern() {
    let doc = serde_json::to_value(onetrip::web::api_document()).expect("serialises");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let identifier = |name: &str| {
        matches!(
            name,
            "id_number" | "phone" | "application_no" | "site" | "site_code" | "no" | "code"
        )
    };
    let has_pattern = |schema: &serde_json::Value| {
        let target = match schema["$ref"].as_str() {
            Some(r) => &schemas[r.trim_start_matches("#/components/schemas/")],
            None => schema,
        };
        target["pattern"].is_string()
    };
    // The request-body schemas, and the schemas they reach.
    let mut todo: Vec<String> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap_or_default();
                if (p["in"] == "path" || p["in"] == "query")
                    && identifier(name)
                    && path.starts_with("/api/v1/")
                {
                    let exempt = path.contains("/catalog/");
                    assert!(
                        exempt || has_pattern(&p["schema"]),
                        "{method} {path}: {name} has no pattern"
                    );
                    checked += 1;
                }
            }
            let body = &op["requestBody"]["content"]["application/json"]["schema"];
            if let Some(r) = body["$ref"].as_str() {
                todo.push(r.trim_start_matches("#/components/schemas/").to_owned());
            }
        }
    }
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let schema = &schemas[&name];
        for (field, prop) in schema["properties"].as_object().into_iter().flatten() {
            let inner = if prop["type"] == "array" {
                &prop["items"]
            } else {
                prop
            };
            let inner = inner["oneOf"]
                .as_array()
                .and_then(|v| v.iter().find(|s| s["type"] != "null"))
                .unwrap_or(inner);
            if let Some(r) = inner["$ref"].as_str() {
                todo.push(r.trim_start_matches("#/components/schemas/").to_owned());
            }
            if identifier(field) && schema["properties"].is_object() {
                assert!(has_pattern(inner), "{name}.{field} has no pattern");
                checked += 1;
            }
        }
    }
    assert!(
        checked > 25,
        "only {checked} identifiers found: the walk is broken"
    );
}

/// Times in one format across the API (issue 12 item 12): every instant (`at`, `…_at`) is
/// milliseconds since the Unix epoch, every calendar day (`date`, `…_date`, `today`) is an
/// ISO date. A field that breaks the convention fails here.
#[test]
fn instants_and_days_have_one_format_each() {
    let doc = serde_json::to_value(onetrip::web::api_document()).expect("serialises");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mut checked = 0;
    for (name, schema) in schemas {
        for (field, prop) in schema["properties"].as_object().into_iter().flatten() {
            let types = match &prop["type"] {
                serde_json::Value::String(t) => vec![t.as_str()],
                serde_json::Value::Array(ts) => ts.iter().filter_map(|t| t.as_str()).collect(),
                _ => Vec::new(),
            };
            if field == "at" || field.ends_with("_at") {
                assert!(
                    types.contains(&"integer") && prop["format"] == "int64",
                    "{name}.{field}: {prop}"
                );
                checked += 1;
            }
            let day = field == "date" || field.ends_with("_date") || field == "today";
            if day && !types.is_empty() {
                assert!(
                    types.contains(&"string") && prop["format"] == "date",
                    "{name}.{field}: {prop}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 30, "only {checked} time fields found");
}
