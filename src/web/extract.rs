//! Request extractors: language, request metadata, the signed-in staff member, and JSON/form
//! bodies whose rejections use our error shape.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::AppState;
use super::middleware::{CsrfToken, SESSION_COOKIE, cookie};
use crate::auth::{self, Actor, RequestMeta};
use crate::error::{AppError, CommonError};
use crate::i18n::Lang;

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Lang>().copied().unwrap_or_default())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .unwrap_or(CsrfToken(String::new())))
    }
}

/// Where the request came from, for the audit log.
pub struct Meta(pub RequestMeta);

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Meta(request_meta(parts)))
    }
}

/// The client's address as `client_address` worked it out (through trusted proxies).
#[derive(Debug, Clone)]
pub struct ClientAddress(pub std::net::IpAddr);

/// The client of a request from `peer`: the peer itself, unless it is a trusted proxy; then
/// the right-most address of `X-Forwarded-For` that is not one (each proxy appends the address
/// it saw, so addresses left of an untrusted one may be forged).
pub fn client_address(
    peer: std::net::IpAddr,
    forwarded_for: Option<&str>,
    trusted: &[ipnet::IpNet],
) -> std::net::IpAddr {
    let is_trusted = |a: &std::net::IpAddr| trusted.iter().any(|n| n.contains(a));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(list) = forwarded_for else {
        return peer;
    };
    let mut last = peer;
    for hop in list.rsplit(',') {
        match hop.trim().parse::<std::net::IpAddr>() {
            Ok(a) if is_trusted(&a) => last = a,
            Ok(a) => return a,
            // A malformed entry: trust nothing left of it.
            Err(_) => return last,
        }
    }
    last
}

fn request_meta(parts: &Parts) -> RequestMeta {
    let ip = parts
        .extensions
        .get::<ClientAddress>()
        .map(|c| c.0.to_string())
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
        })
        .unwrap_or_else(|| "-".into());
    let header_str = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string()
    };
    RequestMeta {
        ip,
        request_id: header_str("x-request-id"),
        user_agent: header_str(header::USER_AGENT.as_str()),
    }
}

/// The signed-in staff member, if any (resolved once per request).
#[derive(Clone)]
pub struct MaybeStaff(pub Option<Actor>);

impl FromRequestParts<AppState> for MaybeStaff {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(cached) = parts.extensions.get::<MaybeStaff>() {
            return Ok(cached.clone());
        }
        let actor = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(token) if !token.is_empty() => {
                auth::resume_session(
                    &state.db,
                    &state.config,
                    &state.clock,
                    &token,
                    request_meta(parts),
                )
                .await?
            }
            _ => None,
        };
        let found = MaybeStaff(actor);
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

/// A signed-in staff member; requests without one get 401 (pages: a redirect to sign-in).
/// An account that must change its password can reach nothing else until it has.
pub struct Staff(pub Actor);

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match MaybeStaff::from_request_parts(parts, state).await?.0 {
            Some(actor) => {
                let path = parts.uri.path();
                if actor.must_change_password
                    && !matches!(
                        path,
                        "/account/password" | "/logout" | "/api/v1/me/password" | "/api/v1/session"
                    )
                {
                    return Err(AppError::invalid(PasswordChangeRequired));
                }
                Ok(Staff(actor))
            }
            None => Err(AppError::not_signed_in()),
        }
    }
}

/// Refusal for accounts still on their one-time password.
#[derive(Debug)]
pub struct PasswordChangeRequired;

impl crate::i18n::UserMessage for PasswordChangeRequired {
    fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }
    fn code(&self) -> &'static str {
        "auth.password_change_required"
    }
    fn message(&self, lang: Lang) -> String {
        lang.pick(
            "首次登录或密码重置后，请先到“修改密码”页面设置新密码。",
            "After the first sign-in or a reset, set a new password on the Change password page first.",
        )
        .into()
    }
}

/// A JSON body; a malformed one is a 400 in our error shape.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(e) => Err(AppError::new(
                StatusCode::BAD_REQUEST,
                CommonError::BadRequest(e.body_text()),
            )),
        }
    }
}

/// A urlencoded form body; a malformed one is a 400 in our error shape.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Form(v)),
            Err(e) => Err(AppError::new(
                StatusCode::BAD_REQUEST,
                CommonError::BadRequest(e.body_text()),
            )),
        }
    }
}

/// Path parameters; malformed ones (a word where a number goes) are a 400 in our error shape.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => Err(AppError::new(
                StatusCode::BAD_REQUEST,
                CommonError::BadRequest(e.body_text()),
            )),
        }
    }
}

/// A body as text; one that is not UTF-8 is a 400 in our error shape (signed webhooks read
/// their body whole to check the signature).
pub struct Text(pub String);

impl<S: Send + Sync> FromRequest<S> for Text {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match String::from_request(req, state).await {
            Ok(v) => Ok(Text(v)),
            Err(e) => Err(AppError::new(
                StatusCode::BAD_REQUEST,
                CommonError::BadRequest(e.body_text()),
            )),
        }
    }
}

/// Query parameters; malformed ones are a 400 in our error shape.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(AppError::new(
                StatusCode::BAD_REQUEST,
                CommonError::BadRequest(e.body_text()),
            )),
        }
    }
}

#[cfg(test)]
mod client_address_tests {
    use super::client_address;

    #[test]
    fn only_trusted_proxies_name_the_client() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("address");
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        // Not through a trusted proxy: the header is the client's own word, ignored.
        assert_eq!(
            client_address(ip("203.0.113.7"), Some("1.2.3.4"), &trusted),
            ip("203.0.113.7")
        );
        // Through one: the address it saw.
        assert_eq!(
            client_address(ip("10.0.0.2"), Some("203.0.113.7"), &trusted),
            ip("203.0.113.7")
        );
        // Through two, with a forged entry on the left: the right-most untrusted one.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                Some("6.6.6.6, 203.0.113.7, 10.0.0.9"),
                &trusted
            ),
            ip("203.0.113.7")
        );
        // No header, or garbage: the proxy itself, never a made-up address.
        assert_eq!(
            client_address(ip("10.0.0.2"), None, &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), Some("nonsense"), &trusted),
            ip("10.0.0.2")
        );
    }
}
