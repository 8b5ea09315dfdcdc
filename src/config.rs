//! Configuration: built-in defaults, then an optional TOML file, then `ONETRIP_*` environment variables.
//!
//! Every setting and its default is listed in `docs/CONFIGURATION.md`; `onetrip.example.toml`
//! shows the file form.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// `sqlite://…` (default, embedded) or `postgres://…` (several nodes).
    pub database_url: String,
    /// Directory holding the versioned data: `catalog/` and `calendar/`.
    pub data_dir: PathBuf,
    /// Directory for the embedded database and the secret key.
    pub state_dir: PathBuf,
    /// Load the demo city (sites, windows, one account per role) into an empty database.
    pub demo: bool,
    /// Mark session cookies `Secure`; on whenever the hall is served over HTTPS.
    pub cookie_secure: bool,
    /// `text` for people, `json` for log shippers.
    pub log_format: LogFormat,
    /// A staff session ends after this many minutes without a request.
    pub session_idle_minutes: i64,
    /// A staff session ends this many hours after login, whatever happens.
    pub session_max_hours: i64,
    /// Failed logins in a row before an account is locked for `lockout_minutes`.
    pub max_failed_logins: i64,
    pub lockout_minutes: i64,
    /// Whether 调休 weekend working days count toward statutory time limits (domain §4: unclear,
    /// so a setting; chinesecalendar counts them).
    pub count_adjusted_workdays: bool,
    /// SQLite `synchronous` level: `full` (default: an acknowledged write survives power loss)
    /// or `normal` (survives a killed process, not power loss). See docs/decisions/002.
    pub sqlite_synchronous: String,
    /// SQLite: the bound of the write-ahead log in MiB (0: none). Past half of it the log is
    /// checkpointed and restarted even while readers are always in it (issue 17: unbounded, a
    /// booking storm grew it past 500 MiB).
    pub sqlite_wal_limit_mib: u64,
    /// Maximum pooled database connections.
    pub db_max_connections: u32,
    /// R2 no-show rule: this many no-shows within `no_show_window_days` block online booking
    /// for `no_show_block_days` after the last one (staff can lift it, audited).
    pub no_show_limit: usize,
    pub no_show_window_days: i64,
    pub no_show_block_days: i64,
    /// A booking becomes a no-show this long after its slot ends without check-in.
    pub no_show_grace_minutes: i64,
    /// Online booking attempts allowed per client address per hour (0: no limit).
    pub booking_attempts_per_ip_hour: u32,
    /// Online booking attempts allowed per ID number per hour (0: no limit).
    pub booking_attempts_per_id_hour: u32,
    /// Reverse proxies (addresses or CIDR networks) whose `X-Forwarded-For` names the client;
    /// empty: the peer address is the client (issue 12 item 6).
    pub trusted_proxies: Vec<String>,
    /// Staff sign-in attempts allowed per client address per hour, right or wrong (0: none).
    pub sign_in_attempts_per_ip_hour: u32,
    /// Who may read `/metrics`: addresses or networks (default: this machine only).
    pub metrics_allow: Vec<String>,
    /// A bearer token that also opens `/metrics` from anywhere (empty: none).
    pub metrics_token: String,
    /// The adapters of devices and outside services.
    pub devices: DeviceConfig,
    /// R3: a ticket waiting longer than this is called before love-channel and appointment
    /// tickets (nobody is passed over forever).
    pub max_wait_minutes: i64,
    /// Calls of one ticket (first call and recalls) before it must be marked missed.
    pub max_calls: i64,
    /// R13 (一次一评): days a finished service may be rated from the citizen's ticket page.
    pub rating_link_days: i64,
    /// R13: minutes after a service the window evaluator still asks for its rating.
    pub rating_evaluator_minutes: i64,
    /// R13: working days the duty leader has to verify a bad rating (回访核实).
    pub rating_followup_working_days: u32,
    /// R13: working days a complaint must be answered in.
    pub complaint_answer_working_days: u32,
    /// Issue 14 §1: seconds without a touch before a kiosk counts down (15 s) and wipes itself
    /// back to its home page.
    pub kiosk_idle_seconds: u32,
    /// R13 (每日回访): citizens drawn per site and working day for the daily callbacks.
    pub callback_sample_size: u32,
    /// Issue 16 (staffing): the share of citizens that must be called within
    /// `staffing_target_wait_minutes` (0–1).
    pub staffing_target_share: f64,
    /// Issue 16 (staffing): the wait the target share must not exceed, in minutes.
    pub staffing_target_wait_minutes: f64,
    /// The address citizens' phones reach the hall at (e.g. `https://crj.example.gov.cn`), for
    /// QR codes; empty: the host the request came to.
    pub public_url: String,
    /// R9: documents uncollected this many days after check-in are listed for the configured
    /// action (domain §5: no national rule; 90 days is the one local rule found).
    pub custody_retention_days: i64,
    /// What is done with them: `remind` (text the applicant again), `return` (send back to the
    /// production centre) or `void`. Get the rule from the client in writing (domain §5).
    pub custody_expiry_action: ExpiryAction,
    /// R7: the duty leader's phone for the daily digest of overdue and near-due documents, sent
    /// once a day from 08:00; empty: no text (the digest is still on the duty leader's page).
    pub duty_leader_phone: String,
    pub bureau: Bureau,
    /// R15: how long each kind of record keeps its personal data after it ended.
    pub retention: Retention,
}

/// R15 (issue 17): days each kind of record keeps its personal data after the record ended
/// (its last event, not its creation); then the daily purge (src/retention) erases it and
/// keeps what the statistics count. `0` keeps that kind for ever. docs/RETENTION.md gives the
/// basis of each default, or says the bureau must confirm it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Appointments: bookings, the waiting list, no-show lifts (from the booked time).
    pub appointments_days: u32,
    /// Applications: the form, its documents' numbers, pickups, parcels' addresses, kiosk
    /// sessions (from the last thing that happened to the application).
    pub applications_days: u32,
    /// Complaints: the citizen's name, phone, words and the answer (from closing).
    pub complaints_days: u32,
    /// Ratings: the citizen's comment and the follow-up's verification and reply.
    pub ratings_days: u32,
    /// Notes taken on callback calls.
    pub callbacks_days: u32,
    /// Texts: the outbox's numbers and words once sent or cancelled, the simulator's log.
    pub texts_days: u32,
    /// Staff sign-in sessions (address, browser), from their expiry.
    pub staff_sessions_days: u32,
}

/// 网络安全法 Art. 21 (domain §9.1): network logs are kept at least six months.
pub const LOG_MINIMUM_DAYS: u32 = 180;

impl Default for Retention {
    fn default() -> Self {
        Retention {
            appointments_days: 180,
            applications_days: 1095,
            complaints_days: 1095,
            ratings_days: 365,
            callbacks_days: 365,
            texts_days: LOG_MINIMUM_DAYS,
            staff_sessions_days: LOG_MINIMUM_DAYS,
        }
    }
}

impl Retention {
    /// Periods a rule of the hall or a law needs at least: the no-show rule reads bookings
    /// `no_show_window_days` back, and logs are kept six months.
    pub fn check(&self, no_show_window_days: i64) -> Result<(), String> {
        let short = |days: u32, floor: i64| days != 0 && i64::from(days) < floor;
        if short(self.appointments_days, no_show_window_days) {
            return Err(format!(
                "retention.appointments_days = {}: the no-show rule reads bookings {no_show_window_days} days back (no_show_window_days); keep them at least that long, or 0 for ever",
                self.appointments_days
            ));
        }
        for (key, days) in [
            ("texts_days", self.texts_days),
            ("staff_sessions_days", self.staff_sessions_days),
        ] {
            if short(days, i64::from(LOG_MINIMUM_DAYS)) {
                return Err(format!(
                    "retention.{key} = {days}: logs are kept at least {LOG_MINIMUM_DAYS} days (网络安全法 Art. 21), or 0 for ever"
                ));
            }
        }
        Ok(())
    }
}

/// What happens to a document left uncollected past the retention period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryAction {
    Remind,
    Return,
    Void,
}

/// Which adapter drives each device and outside service (issue 12 item 10). `simulator` is
/// the one built in; a bureau's own adapters are added under their own names. Outside the
/// demo a simulator is refused at start-up unless `allow_simulators` says so in as many words.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceConfig {
    /// Photo, fingerprint, face and signature capture at the windows.
    pub station: String,
    /// The payment provider (its simulator serves `/sim/pay/…`).
    pub payments: String,
    /// The courier (its simulator serves `/sim/courier/…`).
    pub courier: String,
    /// Text messages.
    pub sms: String,
    /// Runs simulators although `demo` is off (a test or training hall, never a real one).
    pub allow_simulators: bool,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        DeviceConfig {
            station: "simulator".into(),
            payments: "simulator".into(),
            courier: "simulator".into(),
            sms: "simulator".into(),
            allow_simulators: false,
        }
    }
}

impl DeviceConfig {
    fn adapters(&self) -> [(&'static str, &str); 4] {
        [
            ("station", self.station.as_str()),
            ("payments", self.payments.as_str()),
            ("courier", self.courier.as_str()),
            ("sms", self.sms.as_str()),
        ]
    }

    /// The devices run by a simulator, by name.
    pub fn simulated(&self) -> Vec<&'static str> {
        self.adapters()
            .into_iter()
            .filter(|(_, a)| *a == "simulator")
            .map(|(d, _)| d)
            .collect()
    }

    /// Whether this configuration may start: every adapter known, and simulators only in the
    /// demo or when allowed.
    pub fn check(&self, demo: bool) -> Result<(), String> {
        if let Some((device, adapter)) =
            self.adapters().into_iter().find(|(_, a)| *a != "simulator")
        {
            return Err(format!(
                "devices.{device} = {adapter:?}: no such adapter in this build (only \"simulator\")"
            ));
        }
        let simulated = self.simulated();
        if !demo && !self.allow_simulators && !simulated.is_empty() {
            return Err(format!(
                "refusing to start: {} would be simulated outside the demo (anyone could settle payments and move parcels); configure real adapters, or set devices.allow_simulators = true (ONETRIP_ALLOW_SIMULATORS=true) for a test hall",
                simulated.join(", ")
            ));
        }
        Ok(())
    }
}

/// The bureau's public contact details, shown on every public page (R1).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bureau {
    pub name_zh: String,
    pub name_en: String,
    /// 投诉电话.
    pub complaint_phone: String,
    /// 非工作时间联系电话 (R1: non-working-hours contact).
    pub after_hours_phone: String,
    /// 绿色通道联系电话 (R1, R8).
    pub green_channel_phone: String,
    /// National immigration service hotline.
    pub hotline: String,
    /// The bureau's province: the first two digits of its GB/T 2260 division code (e.g. `35`
    /// for Fujian). An applicant whose ID number starts elsewhere is proposed the
    /// cross-province time limit at acceptance (R12; domain §4: 20 days instead of 7 working
    /// days); the officer confirms or changes it.
    pub province_code: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Bureau {
    fn default() -> Self {
        Bureau {
            name_zh: "示范市公安局出入境管理支队".into(),
            name_en: "Exit-Entry Administration Division, Demo City Public Security Bureau".into(),
            complaint_phone: "0000-12345678".into(),
            after_hours_phone: "0000-87654321".into(),
            green_channel_phone: "0000-11112222".into(),
            hotline: "12367".into(),
            province_code: "11".into(),
        }
    }
}

/// Addresses or networks of a setting (a bare address is its own /32 or /128).
fn networks(setting: &str, list: &[String]) -> Result<Vec<ipnet::IpNet>, String> {
    list.iter()
        .map(|p| {
            let p = p.trim();
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("{setting}: {p:?} is not an address or network"))
        })
        .collect()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: String::new(),
            data_dir: PathBuf::from("data"),
            state_dir: PathBuf::from("onetrip-data"),
            demo: true,
            cookie_secure: false,
            log_format: LogFormat::Text,
            session_idle_minutes: 60,
            session_max_hours: 12,
            max_failed_logins: 5,
            lockout_minutes: 15,
            count_adjusted_workdays: true,
            sqlite_synchronous: "full".into(),
            sqlite_wal_limit_mib: 64,
            db_max_connections: 16,
            no_show_limit: 3,
            no_show_window_days: 180,
            no_show_block_days: 90,
            no_show_grace_minutes: 30,
            booking_attempts_per_ip_hour: 60,
            booking_attempts_per_id_hour: 10,
            trusted_proxies: Vec::new(),
            sign_in_attempts_per_ip_hour: 120,
            metrics_allow: vec!["127.0.0.0/8".into(), "::1".into()],
            metrics_token: String::new(),
            devices: DeviceConfig::default(),
            max_wait_minutes: 45,
            max_calls: 3,
            rating_link_days: 7,
            rating_evaluator_minutes: 30,
            rating_followup_working_days: 3,
            complaint_answer_working_days: 5,
            callback_sample_size: 10,
            staffing_target_share: 0.9,
            staffing_target_wait_minutes: 15.0,
            kiosk_idle_seconds: 60,
            public_url: String::new(),
            custody_retention_days: 90,
            custody_expiry_action: ExpiryAction::Remind,
            duty_leader_phone: String::new(),
            bureau: Bureau::default(),
            retention: Retention::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path} is invalid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name} has an invalid value {value:?}: {message}")]
    Env {
        name: String,
        value: String,
        message: String,
    },
}

impl Config {
    /// [`Config::sqlite_wal_limit_mib`] in bytes, `i64::MAX` for no bound.
    pub fn sqlite_wal_limit_bytes(&self) -> i64 {
        match self.sqlite_wal_limit_mib {
            0 => i64::MAX,
            mib => i64::try_from(mib.saturating_mul(1024 * 1024)).unwrap_or(i64::MAX),
        }
    }

    /// Defaults, then the file (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        let invalid = |message| ConfigError::Parse {
            path: file.map(Path::to_path_buf).unwrap_or_default(),
            message,
        };
        config.proxy_networks().map_err(invalid)?;
        config.metrics_networks().map_err(invalid)?;
        let share_ok = (0.0..1.0).contains(&config.staffing_target_share)
            && config.staffing_target_share > 0.0;
        let wait_ok = config.staffing_target_wait_minutes.is_finite()
            && config.staffing_target_wait_minutes > 0.0;
        if !share_ok || !wait_ok {
            return Err(invalid(
                "staffing_target_share must be between 0 and 1 (e.g. 0.9) and staffing_target_wait_minutes above 0".into(),
            ));
        }
        config
            .retention
            .check(config.no_show_window_days)
            .map_err(invalid)?;
        if config.database_url.is_empty() {
            config.database_url = format!(
                "sqlite://{}",
                config.state_dir.join("onetrip.db").to_string_lossy()
            );
        }
        Ok(config)
    }

    /// The trusted proxies as networks (a bare address is its own /32 or /128).
    pub fn proxy_networks(&self) -> Result<Vec<ipnet::IpNet>, String> {
        networks("trusted_proxies", &self.trusted_proxies)
    }

    /// The networks that may read `/metrics`.
    pub fn metrics_networks(&self) -> Result<Vec<ipnet::IpNet>, String> {
        networks("metrics_allow", &self.metrics_allow)
    }

    /// Applies `ONETRIP_*` (and `DATABASE_URL`) overrides from `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(name: &str, value: String) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            value.parse::<T>().map_err(|e| ConfigError::Env {
                name: name.into(),
                value: value.clone(),
                message: e.to_string(),
            })
        }
        if let Some(v) = get("DATABASE_URL").or_else(|| get("ONETRIP_DATABASE_URL")) {
            self.database_url = v;
        }
        if let Some(v) = get("ONETRIP_LISTEN") {
            self.listen = parse("ONETRIP_LISTEN", v)?;
        }
        if let Some(v) = get("ONETRIP_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("ONETRIP_STATE_DIR") {
            self.state_dir = PathBuf::from(v);
        }
        if let Some(v) = get("ONETRIP_CUSTODY_RETENTION_DAYS") {
            self.custody_retention_days = parse("ONETRIP_CUSTODY_RETENTION_DAYS", v)?;
        }
        if let Some(v) = get("ONETRIP_CUSTODY_EXPIRY_ACTION") {
            self.custody_expiry_action = match v.as_str() {
                "remind" => ExpiryAction::Remind,
                "return" => ExpiryAction::Return,
                "void" => ExpiryAction::Void,
                _ => {
                    return Err(ConfigError::Env {
                        name: "ONETRIP_CUSTODY_EXPIRY_ACTION".into(),
                        value: v,
                        message: "expected remind, return or void".into(),
                    });
                }
            };
        }
        let retention = [
            (
                "ONETRIP_RETENTION_APPOINTMENTS_DAYS",
                &mut self.retention.appointments_days,
            ),
            (
                "ONETRIP_RETENTION_APPLICATIONS_DAYS",
                &mut self.retention.applications_days,
            ),
            (
                "ONETRIP_RETENTION_COMPLAINTS_DAYS",
                &mut self.retention.complaints_days,
            ),
            (
                "ONETRIP_RETENTION_RATINGS_DAYS",
                &mut self.retention.ratings_days,
            ),
            (
                "ONETRIP_RETENTION_CALLBACKS_DAYS",
                &mut self.retention.callbacks_days,
            ),
            (
                "ONETRIP_RETENTION_TEXTS_DAYS",
                &mut self.retention.texts_days,
            ),
            (
                "ONETRIP_RETENTION_STAFF_SESSIONS_DAYS",
                &mut self.retention.staff_sessions_days,
            ),
        ];
        for (name, days) in retention {
            if let Some(v) = get(name) {
                *days = parse(name, v)?;
            }
        }
        if let Some(v) = get("ONETRIP_DUTY_LEADER_PHONE") {
            self.duty_leader_phone = v;
        }
        if let Some(v) = get("ONETRIP_PUBLIC_URL") {
            self.public_url = v;
        }
        if let Some(v) = get("ONETRIP_DEMO") {
            self.demo = parse("ONETRIP_DEMO", v)?;
        }
        if let Some(v) = get("ONETRIP_COOKIE_SECURE") {
            self.cookie_secure = parse("ONETRIP_COOKIE_SECURE", v)?;
        }
        if let Some(v) = get("ONETRIP_LOG_FORMAT") {
            self.log_format = match v.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => {
                    return Err(ConfigError::Env {
                        name: "ONETRIP_LOG_FORMAT".into(),
                        value: v,
                        message: "expected text or json".into(),
                    });
                }
            };
        }
        if let Some(v) = get("ONETRIP_COUNT_ADJUSTED_WORKDAYS") {
            self.count_adjusted_workdays = parse("ONETRIP_COUNT_ADJUSTED_WORKDAYS", v)?;
        }
        if let Some(v) = get("ONETRIP_SQLITE_SYNCHRONOUS") {
            if !matches!(v.as_str(), "full" | "normal" | "extra") {
                return Err(ConfigError::Env {
                    name: "ONETRIP_SQLITE_SYNCHRONOUS".into(),
                    value: v,
                    message: "expected full, extra or normal".into(),
                });
            }
            self.sqlite_synchronous = v;
        }
        if let Some(v) = get("ONETRIP_SQLITE_WAL_LIMIT_MIB") {
            self.sqlite_wal_limit_mib = parse("ONETRIP_SQLITE_WAL_LIMIT_MIB", v)?;
        }
        if let Some(v) = get("ONETRIP_DB_MAX_CONNECTIONS") {
            self.db_max_connections = parse("ONETRIP_DB_MAX_CONNECTIONS", v)?;
        }
        if let Some(v) = get("ONETRIP_BOOKING_ATTEMPTS_PER_IP_HOUR") {
            self.booking_attempts_per_ip_hour = parse("ONETRIP_BOOKING_ATTEMPTS_PER_IP_HOUR", v)?;
        }
        if let Some(v) = get("ONETRIP_SIGN_IN_ATTEMPTS_PER_IP_HOUR") {
            self.sign_in_attempts_per_ip_hour = parse("ONETRIP_SIGN_IN_ATTEMPTS_PER_IP_HOUR", v)?;
        }
        if let Some(v) = get("ONETRIP_ALLOW_SIMULATORS") {
            self.devices.allow_simulators = parse("ONETRIP_ALLOW_SIMULATORS", v)?;
        }
        if let Some(v) = get("ONETRIP_METRICS_TOKEN") {
            self.metrics_token = v;
        }
        if let Some(v) = get("ONETRIP_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect();
            if let Err(message) = self.proxy_networks() {
                return Err(ConfigError::Env {
                    name: "ONETRIP_TRUSTED_PROXIES".into(),
                    value: v,
                    message,
                });
            }
        }
        if let Some(v) = get("ONETRIP_BOOKING_ATTEMPTS_PER_ID_HOUR") {
            self.booking_attempts_per_id_hour = parse("ONETRIP_BOOKING_ATTEMPTS_PER_ID_HOUR", v)?;
        }
        if let Some(v) = get("ONETRIP_SESSION_IDLE_MINUTES") {
            self.session_idle_minutes = parse("ONETRIP_SESSION_IDLE_MINUTES", v)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_defaults_and_rejects_nonsense() {
        let mut c = Config::default();
        c.apply_env(|k| match k {
            "ONETRIP_LISTEN" => Some("0.0.0.0:9000".into()),
            "DATABASE_URL" => Some("postgres://x@localhost/y".into()),
            _ => None,
        })
        .expect("valid overrides");
        assert_eq!(c.listen.port(), 9000);
        assert!(c.database_url.starts_with("postgres://"));
        let err = c
            .apply_env(|k| (k == "ONETRIP_LISTEN").then(|| "nowhere".to_string()))
            .expect_err("bad address");
        assert!(err.to_string().contains("ONETRIP_LISTEN"));
    }

    #[test]
    fn the_example_file_is_valid_and_matches_the_defaults() {
        let parsed: Config =
            toml::from_str(include_str!("../onetrip.example.toml")).expect("example parses");
        let d = Config::default();
        assert_eq!(parsed.listen, d.listen);
        assert_eq!(parsed.session_idle_minutes, d.session_idle_minutes);
        assert_eq!(parsed.sqlite_synchronous, d.sqlite_synchronous);
        assert_eq!(parsed.sqlite_wal_limit_mib, d.sqlite_wal_limit_mib);
        assert_eq!(parsed.bureau.complaint_phone, d.bureau.complaint_phone);
        assert_eq!(parsed.retention, d.retention);
    }

    #[test]
    fn retention_below_what_a_rule_or_law_needs_is_refused() {
        let mut c = Config::default();
        assert!(c.retention.check(c.no_show_window_days).is_ok());
        c.apply_env(|k| (k == "ONETRIP_RETENTION_TEXTS_DAYS").then(|| "30".to_string()))
            .expect("a number");
        let err = c.retention.check(180).expect_err("below six months");
        assert!(err.contains("texts_days"), "{err}");
        c.retention = Retention {
            appointments_days: 90,
            ..Retention::default()
        };
        let err = c
            .retention
            .check(180)
            .expect_err("shorter than the no-show window");
        assert!(err.contains("no_show_window_days"), "{err}");
        c.retention.appointments_days = 0;
        assert!(c.retention.check(180).is_ok(), "0 keeps them for ever");
        assert!(
            c.apply_env(|k| (k == "ONETRIP_RETENTION_RATINGS_DAYS").then(|| "-1".to_string()))
                .is_err()
        );
    }

    #[test]
    fn file_must_not_have_unknown_keys() {
        let parsed: Result<Config, _> = toml::from_str("listne = \"127.0.0.1:1\"");
        assert!(parsed.is_err());
        let parsed: Config =
            toml::from_str("listen = \"127.0.0.1:1\"\n[bureau]\ncomplaint_phone = \"1\"")
                .expect("valid file");
        assert_eq!(parsed.bureau.complaint_phone, "1");
    }
}
