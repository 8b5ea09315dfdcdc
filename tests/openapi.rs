//! The OpenAPI document covers every JSON route and is pinned by a snapshot, so an API change
//! is a reviewed change.

use utoipa_axum::router::OpenApiRouter;

#[test]
fn openapi_document_is_stable_and_complete() {
    let router: OpenApiRouter<onetrip::web::AppState> = onetrip::web::api_router();
    let doc = router.into_openapi();
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
