//! The demo city loaded into an empty database so a newcomer sees a working hall at once: a
//! main hall, an extension point, a police-station kiosk point, windows of every R3 type, and
//! one account per role whose one-time password is printed once, at the start that made it.

use crate::auth::{self, Actor, CreatedStaff, NewStaff, Role, RoleGrant};
use crate::clock::Clock;
use crate::db::Db;
use crate::domain::opening::OpeningRules;
use crate::sites::{self, SiteInput, SiteKind, WindowKind};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}")]
    Step(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

fn step<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> DemoError + '_ {
    move |e| DemoError::Step(format!("{what}: {e}"))
}

/// A demo account and its one-time password.
pub struct DemoAccount {
    pub role: Role,
    pub username: String,
    pub password: String,
}

/// What the demo city made that is shown once: the staff accounts and the hall kiosk's
/// one-time enrolment code.
pub struct Demo {
    pub accounts: Vec<DemoAccount>,
    pub kiosk_code: String,
}

/// Loads the demo city if the database has no sites and no staff; returns the accounts made.
pub async fn load_if_empty(db: &Db, clock: &Clock) -> Result<Option<Demo>, DemoError> {
    let sites = sites::list_sites(db.reader(), false).await?;
    let staff = auth::count_staff(db.reader()).await?;
    if !sites.is_empty() || staff > 0 {
        return Ok(None);
    }
    let system = Actor::system();
    let Some(admin) = system.any_admin() else {
        return Err(DemoError::Step(
            "system actor is not an administrator".into(),
        ));
    };

    let hall = sites::create_site(
        db,
        clock,
        admin,
        SiteInput {
            code: "0001".into(),
            kind: SiteKind::Hall,
            name_zh: "示范市公安局出入境接待大厅".into(),
            name_en: "Demo City Exit-Entry Service Hall".into(),
            address_zh: "示范市人民路 88 号市民服务中心一楼".into(),
            address_en: "1F Citizen Service Centre, 88 Renmin Road, Demo City".into(),
            phone: "0000-12340001".into(),
            opening_rules: OpeningRules::default_hall(),
        },
    )
    .await
    .map_err(step("hall"))?;
    let extension = sites::create_site(
        db,
        clock,
        admin,
        SiteInput {
            code: "0002".into(),
            kind: SiteKind::Extension,
            name_zh: "高新区出入境延伸办证点".into(),
            name_en: "Hi-Tech Zone Exit-Entry Extension Point".into(),
            address_zh: "示范市高新区创新大道 6 号政务服务中心二楼".into(),
            address_en: "2F Government Service Centre, 6 Chuangxin Avenue, Hi-Tech Zone".into(),
            phone: "0000-12340002".into(),
            opening_rules: OpeningRules::default_hall_noon_service(),
        },
    )
    .await
    .map_err(step("extension point"))?;
    let mut kiosk_rules = OpeningRules::default_hall();
    kiosk_rules.saturday = kiosk_rules.working_day.clone();
    kiosk_rules.sunday = kiosk_rules.working_day.clone();
    // The kiosk point has no windows: kiosks are devices of the site.
    sites::create_site(
        db,
        clock,
        admin,
        SiteInput {
            code: "0003".into(),
            kind: SiteKind::KioskPoint,
            name_zh: "城东派出所自助签注点".into(),
            name_en: "Chengdong Police Station Self-Service Kiosk Point".into(),
            address_zh: "示范市东风路 21 号城东派出所大厅".into(),
            address_en: "Lobby, Chengdong Police Station, 21 Dongfeng Road".into(),
            phone: "0000-12340003".into(),
            opening_rules: kiosk_rules,
        },
    )
    .await
    .map_err(step("kiosk point"))?;

    use WindowKind::*;
    let hall_windows = [
        (1, Citizen),
        (2, Citizen),
        (3, Citizen),
        (4, Citizen),
        (5, Foreigner),
        (6, HmtResident),
        (7, Appointment),
        (8, Appointment),
        (9, GreenChannel),
        (10, Payment),
        (11, Pickup),
        (12, Express),
    ];
    for (n, kind) in hall_windows {
        sites::add_window(db, clock, admin, hall, n, kind)
            .await
            .map_err(step("hall window"))?;
    }
    for (n, kind) in [(1, Citizen), (2, Appointment), (3, Pickup), (4, Payment)] {
        sites::add_window(db, clock, admin, extension, n, kind)
            .await
            .map_err(step("extension window"))?;
    }

    let people = [
        (Role::Admin, "admin", "系统管理员", "000001", None),
        (Role::Leader, "leader", "王带班", "010001", Some(hall)),
        (Role::Officer, "officer", "李受理", "010002", Some(hall)),
        (Role::Cashier, "cashier", "赵收费", "010003", Some(hall)),
        (Role::Approver, "approver", "陈审批", "010004", None),
        (Role::Producer, "producer", "周制证", "010005", None),
        (Role::Custodian, "custodian", "吴保管", "010006", Some(hall)),
        (Role::Guide, "guide", "郑导办", "010007", Some(hall)),
    ];
    let mut accounts = Vec::new();
    for (role, username, name, badge, site) in people {
        let created = auth::create_staff(
            db,
            clock,
            admin,
            NewStaff {
                username: username.into(),
                display_name: name.into(),
                badge_no: badge.into(),
                grants: vec![RoleGrant {
                    role,
                    site_id: site,
                }],
            },
        )
        .await
        .map_err(step("staff"))?;
        accounts.push(DemoAccount {
            role,
            username: created.username,
            password: created.initial_password,
        });
    }
    // The hall's kiosk, to be enrolled from the browser that plays it (/devices/enrol).
    let (_, kiosk_code) = crate::device_registry::register(
        db,
        clock,
        admin,
        hall,
        crate::device_registry::Kind::Kiosk,
        "大厅 1 号自助机",
    )
    .await
    .map_err(step("kiosk"))?;
    Ok(Some(Demo {
        accounts,
        kiosk_code,
    }))
}

/// Prints the demo accounts and the kiosk code once; they are not stored anywhere in clear.
pub fn print_accounts(demo: &Demo, listen: std::net::SocketAddr) {
    let accounts = &demo.accounts;
    println!();
    println!("  onetrip demo city loaded. Staff sign-in: http://{listen}/login");
    println!("  One-time passwords (shown only now; each must be changed at first sign-in):");
    for a in accounts {
        println!(
            "    {:<10} {:<12} {}",
            a.username,
            a.password,
            a.role.name(crate::i18n::Lang::En)
        );
    }
    println!(
        "  Hall kiosk: open http://{listen}/devices/enrol in the kiosk's browser and type {} \
         (valid 24 hours), then http://{listen}/kiosk/0001",
        demo.kiosk_code
    );
    println!();
}

/// Creates an administrator of every site (for a bureau that starts without demo data).
pub async fn create_first_admin(
    db: &Db,
    username: &str,
    name: &str,
    badge: &str,
) -> Result<CreatedStaff, DemoError> {
    let system = Actor::system();
    let Some(admin) = system.any_admin() else {
        return Err(DemoError::Step(
            "system actor is not an administrator".into(),
        ));
    };
    auth::create_staff(
        db,
        &Clock::system(),
        admin,
        NewStaff {
            username: username.into(),
            display_name: name.into(),
            badge_no: badge.into(),
            grants: vec![RoleGrant {
                role: Role::Admin,
                site_id: None,
            }],
        },
    )
    .await
    .map_err(step("administrator"))
}
