//! Staff accounts, roles bounded to sites, sessions, sign-in and password change (R15: least
//! privilege by role and site).
//!
//! A permission check returns a narrower handle (lldap's idiom): administrator use cases take an
//! [`AdminCap`], which only [`Actor::admin_of`] or [`Actor::any_admin`] can make, and every other
//! staff use case takes a [`Grant`] for its duty, which only [`Actor::grant`] can make; so no code
//! path reaches a staff use case without passing the check.

pub mod grant;
pub mod password;
mod store;
pub mod web;

/// What other capabilities may read or record through auth's store (the store itself is private).
pub use store::{account_by_id, count_staff, set_password};

use serde::{Deserialize, Serialize};

pub use grant::{Duty, Grant};

use crate::audit::{self, AuditEntry};
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto;
use crate::db::{Db, is_unique_violation};
use crate::i18n::{Lang, UserMessage};

/// What a staff member may do. Glossary names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Officer,
    Cashier,
    Approver,
    Producer,
    Custodian,
    Guide,
    Leader,
    Admin,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Officer,
        Role::Cashier,
        Role::Approver,
        Role::Producer,
        Role::Custodian,
        Role::Guide,
        Role::Leader,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Cashier => "cashier",
            Role::Approver => "approver",
            Role::Producer => "producer",
            Role::Custodian => "custodian",
            Role::Guide => "guide",
            Role::Leader => "leader",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Role::Officer => lang.pick("受理民警", "Window officer"),
            Role::Cashier => lang.pick("收费员", "Cashier"),
            Role::Approver => lang.pick("审批民警", "Approver"),
            Role::Producer => lang.pick("制证人员", "Producer"),
            Role::Custodian => lang.pick("证件保管员", "Custodian"),
            Role::Guide => lang.pick("导办人员", "Guide"),
            Role::Leader => lang.pick("带班领导", "Duty leader"),
            Role::Admin => lang.pick("系统管理员", "Administrator"),
        }
    }
}

/// A role held at one site, or at every site (`site_id: None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoleGrant {
    pub role: Role,
    pub site_id: Option<i64>,
}

/// Where a request came from: recorded with every audited action.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: String,
    pub request_id: String,
    pub user_agent: String,
}

/// A signed-in staff member making a request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub staff_id: i64,
    pub username: String,
    pub display_name: String,
    pub badge_no: String,
    pub grants: Vec<RoleGrant>,
    pub must_change_password: bool,
    pub meta: RequestMeta,
}

impl Actor {
    /// A staff member not signed in through a session, holding `roles` at one site: the staff
    /// of a replayed day (`onetrip simulate`) and of the tests that call use cases directly.
    pub fn at_site(staff_id: i64, name: &str, site_id: i64, roles: &[Role]) -> Actor {
        Actor {
            staff_id,
            username: name.into(),
            display_name: name.into(),
            badge_no: staff_id.to_string(),
            grants: roles
                .iter()
                .map(|r| RoleGrant {
                    role: *r,
                    site_id: Some(site_id),
                })
                .collect(),
            must_change_password: false,
            meta: RequestMeta::default(),
        }
    }

    /// The system itself, administrator of every site: used only by start-up tasks (the demo
    /// city, the first administrator), which are audited under the name `system`.
    pub fn system() -> Actor {
        Actor {
            staff_id: 0,
            username: "system".into(),
            display_name: "system".into(),
            badge_no: "-".into(),
            grants: vec![RoleGrant {
                role: Role::Admin,
                site_id: None,
            }],
            must_change_password: false,
            meta: RequestMeta {
                ip: "-".into(),
                request_id: "startup".into(),
                user_agent: "-".into(),
            },
        }
    }

    /// Whether the actor holds `role` at `site` (a grant for every site counts).
    fn has_role_at(&self, role: Role, site_id: i64) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == role && g.site_id.is_none_or(|s| s == site_id))
    }

    /// An administrator of every site: may manage sites and staff everywhere.
    pub fn any_admin(&self) -> Option<AdminCap<'_>> {
        self.grants
            .iter()
            .any(|g| g.role == Role::Admin && g.site_id.is_none())
            .then_some(AdminCap {
                actor: self,
                site: None,
            })
    }

    /// An administrator of `site_id` (or of every site).
    pub fn admin_of(&self, site_id: i64) -> Option<AdminCap<'_>> {
        self.has_role_at(Role::Admin, site_id).then_some(AdminCap {
            actor: self,
            site: self.any_admin().map_or(Some(site_id), |_| None),
        })
    }

    /// Any administrator handle (bounded to the sites the grants name).
    pub fn admin(&self) -> Option<AdminCap<'_>> {
        if let Some(a) = self.any_admin() {
            return Some(a);
        }
        self.grants
            .iter()
            .find(|g| g.role == Role::Admin)
            .and_then(|g| g.site_id)
            .and_then(|s| self.admin_of(s))
    }
}

/// Proof that the holder passed an administrator check; `site: None` means every site. Fields
/// are private: only [`Actor::admin_of`] and [`Actor::any_admin`] make one.
#[derive(Debug, Clone, Copy)]
pub struct AdminCap<'a> {
    actor: &'a Actor,
    site: Option<i64>,
}

impl<'a> AdminCap<'a> {
    /// The administrator: for the audit trail.
    pub fn actor(&self) -> &'a Actor {
        self.actor
    }

    /// The one site administered, or `None` for an administrator of every site.
    pub fn site(&self) -> Option<i64> {
        self.site
    }

    /// Whether this administrator may act on `site_id`.
    pub fn covers(&self, site_id: i64) -> bool {
        self.site.is_none_or(|s| s == site_id)
    }
}

/// Why signing in or changing a password failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("locked until {0}")]
    Locked(i64),
    #[error("wrong current password")]
    WrongCurrentPassword,
    #[error("password policy: {0}")]
    Policy(#[from] password::PasswordError),
    #[error("username taken")]
    UsernameTaken,
    #[error("invalid username")]
    InvalidUsername,
    #[error("invalid display name")]
    InvalidDisplayName,
    #[error("no such staff member")]
    NoSuchStaff,
    #[error("role outside administrator's sites")]
    OutsideSites,
    #[error("cannot remove own administrator role")]
    CannotDemoteSelf,
    #[error("new password same as current")]
    SameAsCurrent,
}

impl UserMessage for AuthError {
    fn status(&self) -> axum::http::StatusCode {
        match self {
            AuthError::InvalidCredentials | AuthError::Locked(_) => {
                axum::http::StatusCode::UNAUTHORIZED
            }
            AuthError::NoSuchStaff => axum::http::StatusCode::NOT_FOUND,
            _ => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            AuthError::InvalidCredentials => "auth.invalid_credentials",
            AuthError::Locked(_) => "auth.locked",
            AuthError::WrongCurrentPassword => "auth.wrong_current_password",
            AuthError::Policy(p) => p.code(),
            AuthError::UsernameTaken => "staff.username_taken",
            AuthError::InvalidUsername => "staff.invalid_username",
            AuthError::InvalidDisplayName => "staff.invalid_display_name",
            AuthError::NoSuchStaff => "staff.not_found",
            AuthError::OutsideSites => "staff.outside_sites",
            AuthError::CannotDemoteSelf => "staff.cannot_demote_self",
            AuthError::SameAsCurrent => "password.same_as_current",
        }
    }
    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (AuthError::InvalidCredentials, Lang::ZhCn) => "用户名或密码不正确。".into(),
            (AuthError::InvalidCredentials, Lang::En) => "The username or password is wrong.".into(),
            (AuthError::Locked(until), Lang::ZhCn) => format!(
                "连续登录失败次数过多，账号已锁定至 {}。请稍后再试或联系管理员。",
                crate::clock::format_local(*until)
            ),
            (AuthError::Locked(until), Lang::En) => format!(
                "Too many failed sign-ins: the account is locked until {}. Try later or ask an administrator.",
                crate::clock::format_local(*until)
            ),
            (AuthError::WrongCurrentPassword, Lang::ZhCn) => "当前密码不正确。".into(),
            (AuthError::WrongCurrentPassword, Lang::En) => "The current password is wrong.".into(),
            (AuthError::Policy(p), l) => p.message(l),
            (AuthError::UsernameTaken, Lang::ZhCn) => "该用户名已被使用。".into(),
            (AuthError::UsernameTaken, Lang::En) => "This username is already taken.".into(),
            (AuthError::InvalidUsername, Lang::ZhCn) => {
                "用户名须为 3–32 位小写字母、数字、点、连字符或下划线，并以字母开头。".into()
            }
            (AuthError::InvalidUsername, Lang::En) => {
                "A username is 3–32 lowercase letters, digits, dots, hyphens or underscores, starting with a letter.".into()
            }
            (AuthError::InvalidDisplayName, Lang::ZhCn) => "请填写姓名（1–40 个字符）和警号。".into(),
            (AuthError::InvalidDisplayName, Lang::En) => "Enter a name (1–40 characters) and a badge number.".into(),
            (AuthError::NoSuchStaff, Lang::ZhCn) => "没有这个工作人员账号。".into(),
            (AuthError::NoSuchStaff, Lang::En) => "There is no such staff account.".into(),
            (AuthError::OutsideSites, Lang::ZhCn) => "您只能在自己管理的办证点内分配角色。".into(),
            (AuthError::OutsideSites, Lang::En) => "You can only grant roles at the sites you administer.".into(),
            (AuthError::CannotDemoteSelf, Lang::ZhCn) => "不能撤销自己的管理员角色，请由另一位管理员操作。".into(),
            (AuthError::CannotDemoteSelf, Lang::En) => {
                "You cannot remove your own administrator role; ask another administrator.".into()
            }
            (AuthError::SameAsCurrent, Lang::ZhCn) => "新密码不能与当前密码相同。".into(),
            (AuthError::SameAsCurrent, Lang::En) => "The new password must differ from the current one.".into(),
        }
    }
}

pub use crate::error::Failure;

/// A new session: the cookie value (shown once to the browser) and who it belongs to.
pub struct NewSession {
    pub token: String,
    pub actor: Actor,
}

/// Signs a staff member in. Failed attempts count toward a lockout; both outcomes are audited.
pub async fn sign_in(
    db: &Db,
    config: &Config,
    clock: &Clock,
    username: &str,
    password: &str,
    meta: RequestMeta,
) -> Result<NewSession, Failure<AuthError>> {
    let now = clock.now_ms();
    let username = username.trim().to_lowercase();
    // A pair (username, address) that failed too often is locked, whether the username exists
    // or not: the answer, and its speed, say nothing about which usernames are real.
    let locked_until = store::sign_in_lock(db.reader(), &username, &meta.ip).await?;
    if locked_until > now {
        return Err(Failure::Refused(AuthError::Locked(locked_until)));
    }
    // Read and check outside any transaction, the hash on a blocking thread: a flood of wrong
    // passwords must not hold the database's writer (issue 12 item 7).
    let account = store::account_by_username(db.reader(), &username).await?;
    let hash = account
        .as_ref()
        .map_or_else(|| dummy_hash().to_owned(), |a| a.password_hash.clone());
    let typed = password.to_owned();
    // One password check at a time: a flood of sign-ins queues here, on one core at most,
    // while the hall's other work keeps the rest (Argon2 is meant to be expensive).
    let _turn = PASSWORD_CHECKS
        .acquire()
        .await
        .map_err(|e| Failure::Internal(format!("password check: {e}")))?;
    let matches = tokio::task::spawn_blocking(move || password::verify(&hash, &typed))
        .await
        .map_err(|e| Failure::Internal(format!("password check: {e}")))?;
    drop(_turn);
    let account = match account {
        Some(a) if matches && a.active && a.locked_until <= now => a,
        other => {
            let reason = match &other {
                None => "unknown_username",
                Some(a) if !a.active => "inactive",
                Some(a) if a.locked_until > now => "account_locked",
                Some(_) => "wrong_password",
            };
            let mut tx = db.begin().await?;
            let (failures, locked_until) = store::count_sign_in_failure(
                &mut tx,
                &username,
                &meta.ip,
                now,
                config.lockout_minutes * 60_000,
                config.max_failed_logins,
                config.lockout_minutes * 60_000,
            )
            .await?;
            // The first failure of a pair and its lock are recorded; the failures between are
            // counted in `sign_in_failures`, so a flood cannot grow the audit log.
            if failures == 1 || locked_until > 0 {
                audit::record(
                    &mut tx,
                    AuditEntry::system(
                        "auth.sign_in_failed",
                        "staff",
                        &other
                            .as_ref()
                            .map_or(username.clone(), |a| a.id.to_string()),
                        &meta,
                        now,
                    )
                    .detail(serde_json::json!({
                        "reason": reason,
                        "failures": failures,
                        "locked": locked_until > 0,
                    })),
                )
                .await?;
            }
            tx.commit().await?;
            return Err(Failure::Refused(if locked_until > 0 {
                AuthError::Locked(locked_until)
            } else {
                AuthError::InvalidCredentials
            }));
        }
    };
    let mut tx = db.begin().await?;
    store::clear_sign_in_failures(&mut tx, &username, &meta.ip, now).await?;
    let token = crypto::random_token();
    let expires = now + config.session_max_hours * 3_600_000;
    store::insert_session(
        &mut tx,
        &crypto::sha256_hex(&token),
        account.id,
        now,
        expires,
        &meta,
    )
    .await?;
    store::record_successful_login(&mut tx, account.id, now).await?;
    let grants = store::grants_of(&mut *tx, account.id).await?;
    let actor = Actor {
        staff_id: account.id,
        username: account.username,
        display_name: account.display_name,
        badge_no: account.badge_no,
        grants,
        must_change_password: account.must_change_password,
        meta,
    };
    audit::record(
        &mut tx,
        AuditEntry::by(
            &actor,
            "auth.sign_in",
            "staff",
            &actor.staff_id.to_string(),
            now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(NewSession { token, actor })
}

/// Password checks in progress in this process (see `sign_in`).
static PASSWORD_CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// An Argon2 hash made with our own parameters of a random string, verified against when the
/// username is unknown, so that answer takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        password::hash(&crypto::random_token()).unwrap_or_else(|e| {
            // Cannot happen with our parameters; if it did, unknown usernames would answer
            // faster than wrong passwords, so say it loudly.
            tracing::error!(error = %e, "cannot make the dummy password hash");
            String::new()
        })
    })
}

/// Resolves a session cookie to the signed-in actor, ending sessions that are idle or expired.
pub async fn resume_session(
    db: &Db,
    config: &Config,
    clock: &Clock,
    token: &str,
    meta: RequestMeta,
) -> Result<Option<Actor>, sqlx::Error> {
    let now = clock.now_ms();
    let hash = crypto::sha256_hex(token);
    let Some(s) = store::session(db.reader(), &hash).await? else {
        return Ok(None);
    };
    let idle_limit = config.session_idle_minutes * 60_000;
    if s.expires_at <= now || s.last_seen_at + idle_limit <= now || !s.active {
        let mut tx = db.begin().await?;
        store::delete_session(&mut tx, &hash).await?;
        tx.commit().await?;
        return Ok(None);
    }
    // Touch at most once a minute: the idle timer needs no finer grain, and reads stay reads.
    if now - s.last_seen_at > 60_000 {
        let mut tx = db.begin().await?;
        store::touch_session(&mut tx, &hash, now).await?;
        tx.commit().await?;
    }
    let grants = store::grants_of(db.reader(), s.staff_id).await?;
    Ok(Some(Actor {
        staff_id: s.staff_id,
        username: s.username,
        display_name: s.display_name,
        badge_no: s.badge_no,
        grants,
        must_change_password: s.must_change_password,
        meta,
    }))
}

/// Ends the session behind `token`.
pub async fn sign_out(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    token: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    store::delete_session(&mut tx, &crypto::sha256_hex(token)).await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            actor,
            "auth.sign_out",
            "staff",
            &actor.staff_id.to_string(),
            clock.now_ms(),
        ),
    )
    .await?;
    tx.commit().await
}

/// Changes the actor's own password; every other session of the account ends, the one
/// behind `session_token` (the browser making the change) stays.
pub async fn change_password(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    session_token: Option<&str>,
    current: &str,
    new: &str,
) -> Result<(), Failure<AuthError>> {
    password::check_policy(&actor.username, new).map_err(|e| Failure::Refused(e.into()))?;
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    let Some(account) = store::account_by_id(&mut tx, actor.staff_id).await? else {
        return Err(Failure::Refused(AuthError::NoSuchStaff));
    };
    if !password::verify(&account.password_hash, current) {
        return Err(Failure::Refused(AuthError::WrongCurrentPassword));
    }
    if current == new {
        return Err(Failure::Refused(AuthError::SameAsCurrent));
    }
    let hash = password::hash(new).map_err(|e| Failure::Internal(e.to_string()))?;
    store::set_password(&mut tx, actor.staff_id, &hash, false, now).await?;
    let keep = session_token.map(crypto::sha256_hex);
    store::delete_other_sessions(&mut tx, actor.staff_id, keep.as_deref()).await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            actor,
            "auth.password_changed",
            "staff",
            &actor.staff_id.to_string(),
            now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What an administrator enters to create an account.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewStaff {
    pub username: String,
    pub display_name: String,
    pub badge_no: String,
    pub grants: Vec<RoleGrant>,
}

/// A created account and its one-time initial password.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedStaff {
    pub id: i64,
    pub username: String,
    pub initial_password: String,
}

fn valid_username(u: &str) -> bool {
    let len = u.chars().count();
    (3..=32).contains(&len)
        && u.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
}

/// Creates a staff account with a generated initial password that must be changed at first login.
pub async fn create_staff(
    db: &Db,
    clock: &Clock,
    admin: AdminCap<'_>,
    input: NewStaff,
) -> Result<CreatedStaff, Failure<AuthError>> {
    let username = input.username.trim().to_lowercase();
    if !valid_username(&username) {
        return Err(Failure::Refused(AuthError::InvalidUsername));
    }
    let name = input.display_name.trim();
    let badge = input.badge_no.trim();
    if name.is_empty()
        || name.chars().count() > 40
        || badge.is_empty()
        || badge.chars().count() > 20
    {
        return Err(Failure::Refused(AuthError::InvalidDisplayName));
    }
    if input.grants.iter().any(|g| match g.site_id {
        Some(s) => !admin.covers(s),
        None => admin.site.is_some(),
    }) {
        return Err(Failure::Refused(AuthError::OutsideSites));
    }
    let initial_password = password::generate();
    let hash = password::hash(&initial_password).map_err(|e| Failure::Internal(e.to_string()))?;
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    let id = match store::insert_staff(&mut tx, &username, name, badge, &hash, true, now).await {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            return Err(Failure::Refused(AuthError::UsernameTaken));
        }
        Err(e) => return Err(e.into()),
    };
    store::replace_grants(&mut tx, id, &input.grants).await?;
    audit::record(
        &mut tx,
        AuditEntry::by(admin.actor, "staff.created", "staff", &id.to_string(), now)
            .detail(serde_json::json!({"username": username, "grants": input.grants})),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedStaff {
        id,
        username,
        initial_password,
    })
}

/// Replaces a staff member's role grants.
pub async fn set_grants(
    db: &Db,
    clock: &Clock,
    admin: AdminCap<'_>,
    staff_id: i64,
    grants: Vec<RoleGrant>,
) -> Result<(), Failure<AuthError>> {
    if admin.site.is_some() {
        // A site administrator may not change grants of accounts that reach beyond their site.
        let current = store::grants_of(db.reader(), staff_id).await?;
        if current
            .iter()
            .chain(grants.iter())
            .any(|g| g.site_id.is_none_or(|s| !admin.covers(s)))
        {
            return Err(Failure::Refused(AuthError::OutsideSites));
        }
    }
    if staff_id == admin.actor.staff_id
        && !grants
            .iter()
            .any(|g| g.role == Role::Admin && g.site_id == admin.site)
    {
        return Err(Failure::Refused(AuthError::CannotDemoteSelf));
    }
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    if store::account_by_id(&mut tx, staff_id).await?.is_none() {
        return Err(Failure::Refused(AuthError::NoSuchStaff));
    }
    let before = store::grants_of(&mut *tx, staff_id).await?;
    store::replace_grants(&mut tx, staff_id, &grants).await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            admin.actor,
            "staff.roles_changed",
            "staff",
            &staff_id.to_string(),
            now,
        )
        .detail(serde_json::json!({"before": before, "after": grants})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether `admin` may manage account `staff_id`: an administrator of every site may; a site
/// administrator only when each of the account's grants is at a site they administer.
pub async fn administers(
    db: &Db,
    admin: &AdminCap<'_>,
    staff_id: i64,
) -> Result<bool, sqlx::Error> {
    if admin.site.is_none() {
        return Ok(true);
    }
    let current = store::grants_of(db.reader(), staff_id).await?;
    Ok(current
        .iter()
        .all(|g| g.site_id.is_some_and(|s| admin.covers(s))))
}

/// Issues a new one-time password and ends the account's sessions; unlocks the account.
pub async fn reset_password(
    db: &Db,
    clock: &Clock,
    admin: AdminCap<'_>,
    staff_id: i64,
) -> Result<String, Failure<AuthError>> {
    if !administers(db, &admin, staff_id).await? {
        return Err(Failure::Refused(AuthError::OutsideSites));
    }
    let new = password::generate();
    let hash = password::hash(&new).map_err(|e| Failure::Internal(e.to_string()))?;
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    if store::account_by_id(&mut tx, staff_id).await?.is_none() {
        return Err(Failure::Refused(AuthError::NoSuchStaff));
    }
    store::set_password(&mut tx, staff_id, &hash, true, now).await?;
    store::delete_other_sessions(&mut tx, staff_id, None).await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            admin.actor,
            "staff.password_reset",
            "staff",
            &staff_id.to_string(),
            now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(new)
}

/// Activates or deactivates an account; deactivation ends its sessions at once.
pub async fn set_active(
    db: &Db,
    clock: &Clock,
    admin: AdminCap<'_>,
    staff_id: i64,
    active: bool,
) -> Result<(), Failure<AuthError>> {
    if staff_id == admin.actor.staff_id && !active {
        return Err(Failure::Refused(AuthError::CannotDemoteSelf));
    }
    if !administers(db, &admin, staff_id).await? {
        return Err(Failure::Refused(AuthError::OutsideSites));
    }
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    if !store::set_active(&mut tx, staff_id, active, now).await? {
        return Err(Failure::Refused(AuthError::NoSuchStaff));
    }
    if !active {
        store::delete_other_sessions(&mut tx, staff_id, None).await?;
    }
    audit::record(
        &mut tx,
        AuditEntry::by(
            admin.actor,
            if active {
                "staff.activated"
            } else {
                "staff.deactivated"
            },
            "staff",
            &staff_id.to_string(),
            now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The staff an administrator may see: everyone for an administrator of every site, otherwise
/// only accounts holding a role at the administrator's site (R15: least privilege by site).
pub async fn visible_staff(
    db: &Db,
    clock: &Clock,
    admin: AdminCap<'_>,
) -> Result<Vec<store::StaffSummary>, sqlx::Error> {
    let all = store::list_staff(db.reader(), clock.now_ms()).await?;
    Ok(match admin.site {
        None => all,
        Some(site) => all
            .into_iter()
            .filter(|s| s.grants.iter().any(|g| g.site_id == Some(site)))
            .collect(),
    })
}

/// The active staff who work at `site_id` (a grant there or at every site), by name: who a
/// complaint can be assigned to, whose badge a citizen may name.
pub async fn staff_of_site(
    db: &Db,
    clock: &Clock,
    site_id: i64,
) -> Result<Vec<store::StaffSummary>, sqlx::Error> {
    let mut all: Vec<store::StaffSummary> = store::list_staff(db.reader(), clock.now_ms())
        .await?
        .into_iter()
        .filter(|s| {
            s.active
                && s.grants
                    .iter()
                    .any(|g| g.site_id.is_none_or(|x| x == site_id))
        })
        .collect();
    all.sort_by(|a, b| a.badge_no.cmp(&b.badge_no).then(a.id.cmp(&b.id)));
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(grants: Vec<RoleGrant>) -> Actor {
        Actor {
            staff_id: 1,
            username: "a".into(),
            display_name: "A".into(),
            badge_no: "1".into(),
            grants,
            must_change_password: false,
            meta: RequestMeta::default(),
        }
    }

    #[test]
    fn roles_are_bounded_to_sites() {
        let a = actor(vec![RoleGrant {
            role: Role::Officer,
            site_id: Some(2),
        }]);
        assert!(a.has_role_at(Role::Officer, 2));
        assert!(!a.has_role_at(Role::Officer, 3));
        assert!(a.admin().is_none());
        let site_admin = actor(vec![RoleGrant {
            role: Role::Admin,
            site_id: Some(2),
        }]);
        let cap = site_admin.admin().expect("site admin");
        assert!(cap.covers(2) && !cap.covers(3));
        assert!(site_admin.any_admin().is_none());
        let all = actor(vec![RoleGrant {
            role: Role::Admin,
            site_id: None,
        }]);
        assert!(all.any_admin().is_some_and(|c| c.covers(99)));
    }

    #[test]
    fn usernames_and_roles_round_trip() {
        assert!(valid_username("officer.li"));
        assert!(!valid_username("Li"));
        assert!(!valid_username("1abc"));
        assert!(!valid_username("ab"));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_ne!(r.name(Lang::ZhCn), r.name(Lang::En));
        }
    }
}
