//! Supervision cards (服务监督牌, R13; seed 001 8, 12): each officer's name, badge number and
//! photo, shown on the display above their window, on the window evaluator and on the
//! citizen's receipt, and the public list of the hall's officers on duty today with the
//! complaint numbers. Photos are uploaded by an administrator and kept as content-addressed
//! blobs (SHA-256), served under their hash, so a card's picture cannot be swapped unseen.

mod store;
pub mod web;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{self, AuditEntry};
use crate::auth::{AdminCap, Failure};
use crate::clock::Clock;
use crate::db::Db;
use crate::i18n::{Lang, UserMessage};

/// A photo's largest size: an ID-style portrait is well under it.
pub const PHOTO_MAX_BYTES: usize = 1024 * 1024;

/// A supervision card: who serves the citizen.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Card {
    pub staff_id: i64,
    pub name: String,
    pub badge: String,
    /// Where the photo is served (`/officers/photos/<sha256>`), if one was uploaded.
    pub photo_url: Option<String>,
}

/// Why a photo was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("not a photo")]
    NotAPhoto,
    #[error("too large")]
    TooLarge,
    #[error("no such staff")]
    NoSuchStaff,
    #[error("outside sites")]
    OutsideSites,
}

impl UserMessage for PhotoError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            PhotoError::NoSuchStaff => StatusCode::NOT_FOUND,
            PhotoError::OutsideSites => StatusCode::FORBIDDEN,
            PhotoError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            PhotoError::NotAPhoto => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            PhotoError::NotAPhoto => "photo.not_a_photo",
            PhotoError::TooLarge => "photo.too_large",
            PhotoError::NoSuchStaff => "photo.no_such_staff",
            PhotoError::OutsideSites => "photo.outside_sites",
        }
    }
    fn message(&self, lang: Lang) -> String {
        match self {
            PhotoError::NotAPhoto => lang.pick(
                "请上传 JPEG 或 PNG 格式的照片。",
                "Upload the photo as a JPEG or PNG file.",
            ),
            PhotoError::TooLarge => {
                lang.pick("照片不能超过 1 MB。", "The photo may be at most 1 MB.")
            }
            PhotoError::NoSuchStaff => lang.pick("没有这个工作人员。", "No such staff member."),
            PhotoError::OutsideSites => lang.pick(
                "您只能管理自己办证点的工作人员。",
                "You can only manage staff of the sites you administer.",
            ),
        }
        .into()
    }
}

type Result<T> = std::result::Result<T, Failure<PhotoError>>;

/// The photo's type, from its first bytes (never from what the upload claims).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    crate::crypto::hex(&Sha256::digest(bytes))
}

/// Sets a staff member's supervision-card photo (administrators of their sites); audited with
/// the old and the new content hash.
pub async fn set_photo(
    db: &Db,
    clock: &Clock,
    admin: AdminCap<'_>,
    staff_id: i64,
    bytes: &[u8],
) -> Result<String> {
    if bytes.len() > PHOTO_MAX_BYTES {
        return Err(Failure::Refused(PhotoError::TooLarge));
    }
    let content_type = sniff(bytes).ok_or(Failure::Refused(PhotoError::NotAPhoto))?;
    if !crate::auth::administers(db, &admin, staff_id).await? {
        return Err(Failure::Refused(PhotoError::OutsideSites));
    }
    let sha = sha256_hex(bytes);
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    if crate::auth::account_by_id(&mut tx, staff_id)
        .await?
        .is_none()
    {
        return Err(Failure::Refused(PhotoError::NoSuchStaff));
    }
    let before = store::photo_of(&mut *tx, staff_id).await?;
    store::put_blob(&mut tx, &sha, content_type, bytes, now).await?;
    store::set_photo(&mut tx, staff_id, &sha, now, admin.actor().staff_id).await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            admin.actor(),
            "staff.photo_set",
            "staff",
            &staff_id.to_string(),
            now,
        )
        .detail(serde_json::json!({"before": before, "after": sha, "bytes": bytes.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(sha)
}

/// A stored photo by its hash: (content type, bytes).
pub async fn photo(
    db: &Db,
    sha256: &str,
) -> std::result::Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    store::blob(db.reader(), &sha256.to_ascii_lowercase()).await
}

fn photo_url(sha: &str) -> String {
    format!("/officers/photos/{sha}")
}

/// The card of one staff member (None if there is no such account).
pub async fn card(db: &Db, staff_id: i64) -> std::result::Result<Option<Card>, sqlx::Error> {
    let mut conn = db.reader().acquire().await?;
    let Some(a) = crate::auth::account_by_id(&mut conn, staff_id).await? else {
        return Ok(None);
    };
    let photo = store::photo_of(&mut *conn, staff_id).await?;
    Ok(Some(Card {
        staff_id,
        name: a.display_name,
        badge: a.badge_no,
        photo_url: photo.as_deref().map(photo_url),
    }))
}

/// An officer on duty today, with the window they are at (or were last at).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OnDuty {
    pub card: Card,
    /// The window number at the site.
    pub window: i64,
    /// At the window now (open or paused), not only earlier today.
    pub at_window_now: bool,
}

/// The site's officers on duty today: everyone at a window now, and everyone who served a
/// ticket there today, by window number.
pub async fn on_duty_today(
    db: &Db,
    clock: &Clock,
    site_id: i64,
) -> std::result::Result<Vec<OnDuty>, sqlx::Error> {
    let today = clock.today().to_string();
    let rows = store::on_duty(db.reader(), site_id, &today).await?;
    let mut out: Vec<OnDuty> = Vec::new();
    for (staff_id, window, now) in rows {
        if let Some(existing) = out.iter_mut().find(|o| o.card.staff_id == staff_id) {
            if now && !existing.at_window_now {
                existing.window = window;
                existing.at_window_now = true;
            }
            continue;
        }
        if let Some(card) = card(db, staff_id).await? {
            out.push(OnDuty {
                card,
                window,
                at_window_now: now,
            });
        }
    }
    out.sort_by_key(|o| (o.window, o.card.badge.clone()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_known_by_their_first_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"<svg xmlns="), None);
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn the_hash_names_the_content() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
