//! What every page shares: language, CSRF token, the signed-in officer, bureau contacts; and
//! the error page.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::AppState;
use super::extract::MaybeStaff;
use super::middleware::CsrfToken;
use crate::auth::Actor;
use crate::config::Config;
use crate::error::AppError;
use crate::i18n::{self, Lang};

/// One link of the staff navigation.
pub struct StaffLink {
    pub href: &'static str,
    pub name: &'static str,
}

/// The context of the page layout (`templates/base.html`).
#[derive(Clone)]
pub struct Page {
    pub lang: Lang,
    pub csrf: String,
    pub staff: Option<Actor>,
    pub path: String,
    query: Vec<(String, String)>,
    pub config: Arc<Config>,
    /// The holiday-calendar warning for administrators and the duty leader (issue 11).
    pub calendar_warning: Option<String>,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or_default();
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let staff = MaybeStaff::from_request_parts(parts, state).await?.0;
        let query = parts
            .uri
            .query()
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "lang")
            .collect();
        let path = parts.uri.path();
        let calendar_warning = staff
            .as_ref()
            .filter(|s| {
                (path.starts_with("/admin") && s.admin().is_some())
                    || (path.starts_with("/staff/leader")
                        && s.grant::<crate::auth::grant::Lead>().is_some())
            })
            .and_then(|_| crate::web::ops::calendar_outlook(state).message(lang));
        Ok(Page {
            calendar_warning,
            lang,
            csrf,
            staff,
            path: parts.uri.path().to_string(),
            query,
            config: state.config.clone(),
        })
    }
}

impl Page {
    /// A bare context, for pages rendered outside a handler (errors).
    pub fn bare(lang: Lang, csrf: String, state: &AppState, path: &str) -> Page {
        Page {
            lang,
            csrf,
            staff: None,
            path: path.to_string(),
            query: Vec::new(),
            config: state.config.clone(),
            calendar_warning: None,
        }
    }

    /// A UI string in the page's language.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        i18n::t(self.lang, key)
    }

    /// Chooses the Chinese or English variant of a data text.
    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }

    pub fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }

    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }

    /// The same page in the other language; the choice sticks through a cookie.
    pub fn switch_href(&self) -> String {
        let mut q = self.query.clone();
        q.push(("lang".into(), self.lang.other().code().into()));
        format!(
            "{}?{}",
            self.path,
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    }

    /// The other language's name, written in that language.
    pub fn switch_label(&self) -> &'static str {
        match self.lang {
            Lang::ZhCn => "English",
            Lang::En => "中文",
        }
    }

    pub fn bureau_name(&self) -> &str {
        self.lang
            .pick(&self.config.bureau.name_zh, &self.config.bureau.name_en)
    }

    /// Whether this is a staff page (a workstation, administration, the staff's own account):
    /// those carry the staff navigation instead of the citizen's.
    pub fn in_staff_area(&self) -> bool {
        self.staff.is_some()
            && ["/staff", "/admin", "/account"]
                .iter()
                .any(|p| self.path == *p || self.path.starts_with(&format!("{p}/")))
    }

    /// The workstations the signed-in staff member may use, by the duties their roles carry
    /// (issue 18 item 4): the duty leader's pages first for a leader, then the hall's flow
    /// from the guide desk to pickup, then administration. Each entry: the path and its name.
    pub fn staff_nav(&self) -> Vec<StaffLink> {
        use crate::auth::grant::*;
        let Some(a) = &self.staff else {
            return Vec::new();
        };
        let lang = self.lang;
        let mut out = Vec::new();
        let mut add = |held: bool, href: &'static str, zh: &'static str, en: &'static str| {
            if held {
                out.push(StaffLink {
                    href,
                    name: lang.pick(zh, en),
                });
            }
        };
        let lead = a.grant::<Lead>().is_some();
        add(lead, "/staff/leader/hall", "大厅实况", "Live hall");
        add(lead, "/staff/leader", "时限监督", "Time limits");
        add(lead, "/staff/leader/reports", "统计报表", "Reports");
        add(lead, "/staff/leader/staffing", "排班测算", "Staffing");
        add(lead, "/staff/complaints", "投诉", "Complaints");
        add(
            a.grant::<GuideDesk>().is_some(),
            "/staff/tickets",
            "导办取号",
            "Guide desk",
        );
        add(
            a.grant::<BookingDesk>().is_some(),
            "/staff/appointments",
            "预约",
            "Appointments",
        );
        add(
            a.grant::<ServeWindow>().is_some(),
            "/staff/window",
            "窗口",
            "Window",
        );
        add(
            a.grant::<Intake>().is_some(),
            "/staff/acceptance",
            "受理",
            "Acceptance",
        );
        add(
            a.grant::<Collect>().is_some(),
            "/staff/cashier",
            "收费",
            "Cashier",
        );
        add(
            a.grant::<Review>().is_some(),
            "/staff/review",
            "审批",
            "Approval",
        );
        add(
            a.grant::<Produce>().is_some(),
            "/staff/production",
            "制证",
            "Production",
        );
        add(
            a.grant::<Keep>().is_some(),
            "/staff/custody",
            "证件保管",
            "Custody",
        );
        add(
            a.grant::<HandOver>().is_some(),
            "/staff/pickup",
            "发证",
            "Pickup",
        );
        add(
            a.grant::<Keep>().is_some(),
            "/staff/express",
            "邮寄",
            "Express",
        );
        add(
            a.grant::<MakeCallbacks>().is_some(),
            "/staff/callbacks",
            "回访",
            "Callbacks",
        );
        add(
            a.grant::<Reconcile>().is_some(),
            "/staff/reconciliation",
            "对账",
            "Reconciliation",
        );
        add(
            a.admin().is_some(),
            "/admin/sites",
            "系统管理",
            "Administration",
        );
        out
    }

    /// Whether the staff navigation link `href` is the current page: the longest link that is
    /// a prefix of the path wins (the duty leader's `/staff/leader` is not current on its
    /// reports).
    pub fn staff_current(&self, href: &str) -> bool {
        let under = |h: &str| self.path == h || self.path.starts_with(&format!("{h}/"));
        under(href)
            && !self
                .staff_nav()
                .iter()
                .any(|l| l.href.len() > href.len() && under(l.href))
    }

    /// Whether the navigation link for `prefix` is the current section.
    pub fn current(&self, prefix: &str) -> bool {
        if prefix == "/" {
            self.path == "/"
        } else {
            self.path.starts_with(prefix)
        }
    }

    pub fn is_admin(&self) -> bool {
        self.staff.as_ref().is_some_and(|a| a.admin().is_some())
    }

    pub fn staff_label(&self) -> String {
        match &self.staff {
            Some(a) => format!("{} · {}", a.display_name, a.badge_no),
            None => String::new(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub page: Page,
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ErrorPage {
    pub fn new(
        lang: Lang,
        csrf: String,
        state: &AppState,
        path: &str,
        status: StatusCode,
        code: &str,
        message: String,
    ) -> ErrorPage {
        ErrorPage {
            page: Page::bare(lang, csrf, state, path),
            status: status.as_u16(),
            code: code.to_string(),
            message,
        }
    }
}
