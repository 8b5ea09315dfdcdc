//! The one error shape every HTTP response uses: a status, a stable code, a message in the
//! reader's language. Handlers return [`AppError`]; the `render_errors` middleware turns it into
//! JSON (`{"code": …, "message": …}`) for the API or an HTML page for people, in the request's
//! language, because only the request knows who is reading.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::i18n::{Lang, UserMessage};

/// Errors every capability shares.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommonError {
    #[error("not found")]
    NotFound,
    #[error("not signed in")]
    NotSignedIn,
    #[error("forbidden")]
    Forbidden,
    #[error("csrf rejected")]
    CsrfRejected,
    #[error("invalid request: {0}")]
    BadRequest(String),
    #[error("internal error")]
    Internal,
    #[error("service unavailable")]
    Unavailable,
    /// Too many tries from one address or for one ID number; come back in this many minutes.
    #[error("rate limited")]
    RateLimited { minutes: u64 },
}

impl UserMessage for CommonError {
    fn status(&self) -> axum::http::StatusCode {
        match self {
            CommonError::NotFound => axum::http::StatusCode::NOT_FOUND,
            CommonError::NotSignedIn => axum::http::StatusCode::UNAUTHORIZED,
            CommonError::Forbidden | CommonError::CsrfRejected => axum::http::StatusCode::FORBIDDEN,
            CommonError::BadRequest(_) => axum::http::StatusCode::BAD_REQUEST,
            CommonError::RateLimited { .. } => axum::http::StatusCode::TOO_MANY_REQUESTS,
            CommonError::Unavailable => axum::http::StatusCode::SERVICE_UNAVAILABLE,
            CommonError::Internal => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            CommonError::NotFound => "not_found",
            CommonError::NotSignedIn => "auth.not_signed_in",
            CommonError::Forbidden => "auth.forbidden",
            CommonError::CsrfRejected => "csrf.rejected",
            CommonError::BadRequest(_) => "bad_request",
            CommonError::Internal => "internal",
            CommonError::Unavailable => "unavailable",
            CommonError::RateLimited { .. } => "rate_limited",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (CommonError::NotFound, Lang::ZhCn) => "您要找的页面或记录不存在。".into(),
            (CommonError::NotFound, Lang::En) => "The page or record you asked for does not exist.".into(),
            (CommonError::NotSignedIn, Lang::ZhCn) => "请先登录。".into(),
            (CommonError::NotSignedIn, Lang::En) => "Please sign in first.".into(),
            (CommonError::Forbidden, Lang::ZhCn) => "您的账号没有办理此项业务的权限。".into(),
            (CommonError::Forbidden, Lang::En) => "Your account is not allowed to do this.".into(),
            (CommonError::CsrfRejected, Lang::ZhCn) => {
                "表单已过期或来源不明，请刷新页面后重新提交。".into()
            }
            (CommonError::CsrfRejected, Lang::En) => {
                "The form has expired or did not come from this site; reload the page and submit it again.".into()
            }
            (CommonError::BadRequest(d), Lang::ZhCn) => format!("请求格式不正确：{d}"),
            (CommonError::BadRequest(d), Lang::En) => format!("The request is malformed: {d}"),
            (CommonError::Internal, Lang::ZhCn) => "系统暂时无法完成此操作，请稍后再试；已提交的内容没有丢失。".into(),
            (CommonError::Internal, Lang::En) => {
                "The system could not complete this just now; please try again. Nothing you submitted was lost.".into()
            }
            (CommonError::Unavailable, Lang::ZhCn) => "系统正在维护，请稍后再试。".into(),
            (CommonError::Unavailable, Lang::En) => "The system is being maintained; please try again shortly.".into(),
            (CommonError::RateLimited { minutes }, Lang::ZhCn) => format!(
                "尝试次数过多：为防止他人猜测，同一网络和同一身份证号码每小时可尝试的次数有限。请约{minutes}分钟后再试，或到大厅、致电查询。"
            ),
            (CommonError::RateLimited { minutes }, Lang::En) => format!(
                "Too many tries: to stop guessing, each network and each ID number may try only so often an hour. Try again in about {minutes} minutes, or ask at the hall or by phone."
            ),
        }
    }
}

/// A failed request: the status and the user-facing error behind it.
#[derive(Clone)]
pub struct AppError {
    pub status: StatusCode,
    pub error: Arc<dyn UserMessage + Send + Sync>,
    /// Seconds for `Retry-After` (a 429 without it gets a default, see `security_headers`).
    pub retry_after: Option<u64>,
}

impl std::fmt::Debug for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AppError({}, {})", self.status, self.error.code())
    }
}

impl AppError {
    pub fn new(status: StatusCode, error: impl UserMessage + Send + Sync + 'static) -> AppError {
        AppError {
            status,
            error: Arc::new(error),
            retry_after: None,
        }
    }
    /// 429 with `Retry-After`: the limit says when the next try would be allowed.
    pub fn too_many(
        error: impl UserMessage + Send + Sync + 'static,
        wait: crate::web::limits::RetryAfter,
    ) -> AppError {
        AppError {
            retry_after: Some(wait.0),
            ..AppError::new(StatusCode::TOO_MANY_REQUESTS, error)
        }
    }
    /// 429 for a lookup or order of anyone without a session, in the shared words.
    pub fn rate_limited(wait: crate::web::limits::RetryAfter) -> AppError {
        AppError::too_many(
            CommonError::RateLimited {
                minutes: wait.minutes(),
            },
            wait,
        )
    }
    pub fn not_found() -> AppError {
        AppError::new(StatusCode::NOT_FOUND, CommonError::NotFound)
    }
    pub fn forbidden() -> AppError {
        AppError::new(StatusCode::FORBIDDEN, CommonError::Forbidden)
    }
    pub fn not_signed_in() -> AppError {
        AppError::new(StatusCode::UNAUTHORIZED, CommonError::NotSignedIn)
    }
    /// A refusal with a user-facing reason, answered with the status the error names
    /// ([`UserMessage::status`]; 422 unless it says otherwise).
    pub fn invalid(error: impl UserMessage + Send + Sync + 'static) -> AppError {
        AppError::new(error.status(), error)
    }
    pub fn bad_request(detail: impl Into<String>) -> AppError {
        AppError::new(
            StatusCode::BAD_REQUEST,
            CommonError::BadRequest(detail.into()),
        )
    }
    pub fn internal(detail: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %detail, "internal error");
        AppError::new(StatusCode::INTERNAL_SERVER_ERROR, CommonError::Internal)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> AppError {
        match e {
            sqlx::Error::PoolTimedOut => {
                AppError::new(StatusCode::SERVICE_UNAVAILABLE, CommonError::Unavailable)
            }
            // The connection to the database broke (PostgreSQL restarted): the transaction is
            // whole or absent, the pool replaces the connection, and asking again is safe
            // (a booking asked twice meets its idempotency key or the one-a-day rule).
            sqlx::Error::Io(e) => {
                tracing::warn!(error = %e, "database connection lost");
                AppError::new(StatusCode::SERVICE_UNAVAILABLE, CommonError::Unavailable)
            }
            e => AppError::internal(e),
        }
    }
}

/// The one conversion from a use case's failure to an HTTP answer.
impl<E: UserMessage + Send + Sync + 'static> From<Failure<E>> for AppError {
    fn from(f: Failure<E>) -> AppError {
        match f {
            Failure::Refused(e) => AppError::invalid(e),
            Failure::Storage(e) => e.into(),
            Failure::Internal(e) => AppError::internal(e),
        }
    }
}

/// Carried in the response extensions until `render_errors` renders it.
#[derive(Clone)]
pub struct PendingError(pub Arc<dyn UserMessage + Send + Sync>);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        res.extensions_mut().insert(PendingError(self.error));
        res
    }
}

/// The JSON body of every API error.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema, Debug)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    pub code: String,
    /// Message in the language of the request (`Accept-Language`, `?lang=`, or the `lang` cookie).
    pub message: String,
}

pub type AppResult<T> = Result<T, AppError>;

/// The outcome of a use case that can fail for a user-facing reason or a storage fault; every
/// capability's use cases return it (`Refused` carries that capability's error enum).
#[derive(Debug, thiserror::Error)]
pub enum Failure<E> {
    #[error("{0}")]
    Refused(E),
    #[error("storage: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_database_connection_is_unavailable_not_internal() {
        let lost = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let res = AppError::from(lost).into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let other = AppError::from(sqlx::Error::RowNotFound).into_response();
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
