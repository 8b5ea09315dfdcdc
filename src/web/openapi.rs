//! The OpenAPI document told truthfully (issue 12 item 13): which operations need the staff
//! session (and the CSRF header when they change something), and the 400, 401, 403 and 429
//! answers every client can meet, added where the handlers' own annotations leave them out.
//! `tests/openapi.rs` checks the session list against what the server really does.

use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, HttpMethod, OpenApi, Ref};

/// Operations anyone may call without a staff session (citizens, kiosks, providers, probes).
/// Every other operation answers 401 without one.
pub const ANONYMOUS: &[(&str, &str)] = &[
    ("POST", "/api/v1/applications"),
    ("GET", "/api/v1/devices/id-reader/card"),
    ("POST", "/api/v1/session"),
    ("GET", "/api/v1/appointments/availability"),
    ("POST", "/api/v1/appointments"),
    ("POST", "/api/v1/appointments/lookup"),
    ("POST", "/api/v1/appointments/cancel"),
    ("POST", "/api/v1/appointments/reschedule"),
    ("POST", "/api/v1/appointments/waitlist"),
    ("GET", "/api/v1/calendar/years/{year}"),
    ("GET", "/api/v1/catalog/items"),
    ("GET", "/api/v1/catalog/items/{id}"),
    ("GET", "/api/v1/catalog/emergency-reasons"),
    ("POST", "/api/v1/progress"),
    ("POST", "/api/v1/progress/decline-callbacks"),
    ("GET", "/api/v1/sites/{code}/on-duty"),
    ("POST", "/api/v1/express/webhook"),
    ("POST", "/api/v1/applications/{no}/inbound"),
    ("POST", "/api/v1/payments/notify/{provider}"),
    ("POST", "/api/v1/devices/enrol"),
    ("POST", "/api/v1/payments/orders/{order}/query"),
    ("GET", "/api/v1/calendar/working-days"),
    ("POST", "/api/v1/tickets"),
    ("GET", "/api/v1/tickets/{token}"),
    ("GET", "/api/v1/rating-reasons"),
    ("POST", "/api/v1/ratings/{token}"),
    ("POST", "/api/v1/complaints"),
    ("POST", "/api/v1/complaints/track"),
    ("POST", "/api/v1/complaints/rate-answer"),
    ("POST", "/api/v1/tickets/{token}/print-result"),
    ("GET", "/api/v1/sites/{code}/queue"),
    ("GET", "/api/v1/sites"),
    ("GET", "/api/v1/sites/{code}/openings"),
    ("GET", "/api/v1/sites/{code}/windows"),
    ("GET", "/livez"),
    ("GET", "/healthz"),
];

/// Operations behind a per-address (or per-ID-number) limit: they may answer 429 with
/// `Retry-After`.
pub const LIMITED: &[(&str, &str)] = &[
    ("POST", "/api/v1/session"),
    ("POST", "/api/v1/appointments"),
    ("POST", "/api/v1/appointments/lookup"),
    ("POST", "/api/v1/appointments/cancel"),
    ("POST", "/api/v1/appointments/reschedule"),
    ("POST", "/api/v1/appointments/waitlist"),
    ("POST", "/api/v1/progress"),
    ("POST", "/api/v1/progress/decline-callbacks"),
    ("POST", "/api/v1/applications/{no}/orders"),
    ("GET", "/api/v1/applications/{no}/bill"),
    ("POST", "/api/v1/devices/enrol"),
    ("POST", "/api/v1/complaints"),
    ("POST", "/api/v1/complaints/track"),
    ("POST", "/api/v1/complaints/rate-answer"),
];

/// Operations a registered device calls with its credential, not a staff session.
pub const DEVICE_ONLY: &[(&str, &str)] = &[
    ("POST", "/api/v1/devices/me/heartbeat"),
    ("POST", "/api/v1/devices/me/rotate"),
    ("POST", "/api/v1/devices/me/check-in"),
    ("POST", "/api/v1/self-endorsements"),
    ("GET", "/api/v1/self-endorsements/{token}"),
    ("POST", "/api/v1/self-endorsements/{token}/choice"),
    ("POST", "/api/v1/self-endorsements/{token}/write"),
];

/// Operations on an application's money open to an enrolled kiosk, to staff, or to the
/// applicant who proves who they are (their ID number): never to a guesser of numbers.
pub const DEVICE_OR_APPLICANT: &[(&str, &str)] = &[
    ("GET", "/api/v1/applications/{no}/bill"),
    ("POST", "/api/v1/applications/{no}/orders"),
];

/// The name of the session cookie scheme and of the CSRF header scheme in the document.
pub const SESSION: &str = "session";
pub const CSRF: &str = "csrf";
/// A registered device's credential (`Authorization: Device <credential>`).
pub const DEVICE: &str = "device";
/// The applicant's own ID number (`X-Applicant-Id-Number`).
pub const APPLICANT: &str = "applicant";

fn method_name(m: &HttpMethod) -> &'static str {
    match m {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Head => "HEAD",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Trace => "TRACE",
    }
}

fn error(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::response::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build()
        .into()
}

fn add_if_missing(op: &mut Operation, status: &str, description: &str) {
    if !op.responses.responses.contains_key(status) {
        let mut responses = std::mem::take(&mut op.responses);
        responses = ResponsesBuilder::from(responses)
            .response(status, error(description))
            .build();
        op.responses = responses;
    }
}

fn too_many() -> utoipa::openapi::RefOr<utoipa::openapi::response::Response> {
    ResponseBuilder::new()
        .description("Too many tries from this address or for this ID number; `Retry-After` says when to come back.")
        .header(
            "Retry-After",
            utoipa::openapi::header::HeaderBuilder::new()
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::Integer)
                        .minimum(Some(1)),
                ))
                .description(Some("Seconds until a try would be allowed again."))
                .build(),
        )
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build()
        .into()
}

/// Adds the security schemes, each operation's requirement, and the error answers it can meet.
pub fn tell_truth(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SESSION,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::web::middleware::SESSION_COOKIE,
            "The staff session, set by POST /api/v1/session.",
        ))),
    );
    components.add_security_scheme(
        CSRF,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-CSRF-Token",
            "The csrf_token of POST /api/v1/session or GET /api/v1/me, on every call that changes something in a session.",
        ))),
    );
    components.add_security_scheme(
        DEVICE,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "`Device <credential>`: the credential an enrolled device got from POST /api/v1/devices/enrol.",
        ))),
    );
    components.add_security_scheme(
        APPLICANT,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Applicant-Id-Number",
            "The applicant's own 18-character ID number: the application is theirs.",
        ))),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops: [(HttpMethod, &mut Option<Operation>); 5] = [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Delete, &mut item.delete),
            (HttpMethod::Patch, &mut item.patch),
        ];
        for (method, op) in ops {
            let Some(op) = op.as_mut() else {
                continue;
            };
            let m = method_name(&method);
            let key = (m, path.as_str());
            add_if_missing(
                op,
                "400",
                "The request is malformed (a path, query or body that does not parse).",
            );
            let params = op.parameters.as_deref().unwrap_or_default();
            if op.request_body.is_some() || !params.is_empty() {
                add_if_missing(
                    op,
                    "422",
                    "Understood but refused: a value is not acceptable here; `message` says which and why.",
                );
            }
            // Identifiers come in the path or in the body (a label, a document id, a code).
            if path.contains('{') || op.request_body.is_some() {
                add_if_missing(
                    op,
                    "404",
                    "Nothing with that identifier (or not yours to see).",
                );
            }
            let session = || {
                let needs = SecurityRequirement::new::<_, _, &str>(SESSION, []);
                if m != "GET" {
                    needs.add::<_, _, &str>(CSRF, [])
                } else {
                    needs
                }
            };
            if DEVICE_ONLY.contains(&key) {
                op.security = Some(vec![SecurityRequirement::new::<_, _, &str>(DEVICE, [])]);
                add_if_missing(
                    op,
                    "401",
                    "No valid device credential (not enrolled, revoked or replaced).",
                );
            } else if DEVICE_OR_APPLICANT.contains(&key) {
                op.security = Some(vec![
                    session(),
                    SecurityRequirement::new::<_, _, &str>(DEVICE, []),
                    SecurityRequirement::new::<_, _, &str>(APPLICANT, []),
                ]);
                add_if_missing(
                    op,
                    "401",
                    "Neither a staff session, an enrolled kiosk's credential nor the applicant's ID number.",
                );
                add_if_missing(
                    op,
                    "403",
                    "A staff session cookie without its X-CSRF-Token.",
                );
            } else if !ANONYMOUS.contains(&key) {
                op.security = Some(vec![session()]);
                add_if_missing(op, "401", "Not signed in (no or an expired staff session).");
                add_if_missing(op, "403", "Signed in without the role this needs here.");
            }
            if LIMITED.contains(&key) && !op.responses.responses.contains_key("429") {
                let responses = std::mem::take(&mut op.responses);
                op.responses = ResponsesBuilder::from(responses)
                    .response("429", too_many())
                    .build();
            }
        }
    }
}
