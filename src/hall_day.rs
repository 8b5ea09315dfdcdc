//! A hall day, replayed (issue 16, `onetrip simulate`): a seeded synthetic day — arrivals over
//! the opening hours, a document mix, appointment and green-channel shares — driven through
//! the real engine (tickets, calls, one-form acceptance, payment, approval) on a scratch
//! database with an accelerated clock, then reported with the day's KPIs. It is the load test
//! of the whole hall.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use jiff::civil::Date;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::applications::rules::{DocumentRequest, OldDocument};
use crate::applications::{self, Acceptance, Delivery, FormInput};
use crate::auth::{Actor, Role};
use crate::catalog::{ApplicationCategory, DocumentType, TimeLimitClass};
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{Db, DbOptions};
use crate::devices::CaptureKind;
use crate::domain::application_no::ApplicationNo;
use crate::domain::document_number::{DocumentKind, DocumentNumber};
use crate::domain::id_number::IdNumber;
use crate::domain::phone::PhoneNumber;
use crate::i18n::Lang;
use crate::queue::{self, TicketClass, TicketStatus};
use crate::sites::{Site, Window, WindowKind};
use crate::web::AppState;

/// What the day looks like. Defaults from the seeds: a busy city hall takes about 3,600
/// applicants a day (≈930,000 a year over ~260 working days, seed 004).
#[derive(Debug, Clone)]
pub struct DayShape {
    pub applicants: usize,
    pub seed: u64,
    /// A working day of the calendar; the next one after today when left out.
    pub date: Option<Date>,
    /// Share arriving with an appointment (checked in by the booking desk).
    pub appointment_share: f64,
    /// Share sent to the green channel by the guide (urgent reason, expedited).
    pub green_share: f64,
    /// Bookings for the day that never come, as a share of those that do (no-shows).
    pub no_show_share: f64,
    /// Citizen windows to open; by Erlang C for the peak hour when left out.
    pub windows: Option<u32>,
}

impl Default for DayShape {
    fn default() -> DayShape {
        DayShape {
            applicants: 3600,
            seed: 2026,
            date: None,
            appointment_share: 0.3,
            green_share: 0.02,
            no_show_share: 0.05,
            windows: None,
        }
    }
}

/// The document mix: (share, line, documents). First HK/Macao permits lead, as in the seeds'
/// halls near Hong Kong and Macao (seed 004: the headline is a first HK/Macao application).
/// The documents one applicant applies for.
type Documents = &'static [(DocumentType, ApplicationCategory)];

const MIX: [(f64, &str, Documents); 4] = [
    (
        0.35,
        "first_issue",
        &[(DocumentType::HkMacaoPermit, ApplicationCategory::FirstIssue)],
    ),
    (
        0.30,
        "first_issue",
        &[(DocumentType::Passport, ApplicationCategory::FirstIssue)],
    ),
    (
        0.20,
        "first_issue",
        &[
            (DocumentType::Passport, ApplicationCategory::FirstIssue),
            (DocumentType::HkMacaoPermit, ApplicationCategory::FirstIssue),
        ],
    ),
    (
        0.15,
        "renewal",
        &[(DocumentType::Passport, ApplicationCategory::Renewal)],
    ),
];

/// Relative arrivals by hour of the day: a morning peak at ten, a quieter lunch hour and a
/// tail before closing (the shape of a hall's day; the planner's history replaces it where a
/// hall has one).
fn hour_weight(hour: i8) -> f64 {
    match hour {
        8 => 0.8,
        9 => 1.3,
        10 => 1.5,
        11 => 1.2,
        12 => 0.6,
        13 => 0.8,
        14 => 1.2,
        15 => 1.1,
        16 => 0.8,
        _ => 0.5,
    }
}

/// Median service minutes for one document; a second document adds two minutes. Service
/// times are log-normal around it (σ 0.35): measured halls show a long right tail, not the
/// exponential of Erlang C.
const MEDIAN_SERVICE_MIN: f64 = 4.5;
const SERVICE_SIGMA: f64 = 0.35;

/// One applicant of the day.
#[derive(Debug, Clone)]
struct Applicant {
    arrives_ms: i64,
    class: TicketClass,
    line: &'static str,
    docs: Documents,
    service_ms: i64,
}

/// What the replay did and measured.
#[derive(Debug, Clone)]
pub struct DayRun {
    pub date: Date,
    pub applicants: usize,
    pub windows: u32,
    pub accepted: usize,
    pub paid: usize,
    pub approved: usize,
    pub wall_seconds: f64,
    /// Of which: setting up and the day itself (arrivals to the last finished applicant).
    pub day_seconds: f64,
    /// Of which: the approver's work after closing.
    pub approvals_seconds: f64,
    pub report: crate::reports::report::Report,
}

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("{0}")]
    Setup(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{what} failed for applicant {n}: {detail}")]
    Step {
        what: &'static str,
        n: usize,
        detail: String,
    },
}

fn step<T, E: std::fmt::Debug>(
    what: &'static str,
    n: usize,
    r: Result<T, E>,
) -> Result<T, SimulateError> {
    r.map_err(|e| SimulateError::Step {
        what,
        n,
        detail: format!("{e:?}"),
    })
}

/// A standard normal variate (Box–Muller) from the seeded stream.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// The day's applicants, in order of arrival, drawn from the seeded stream.
fn applicants(shape: &DayShape, periods: &[(i64, i64)]) -> Vec<Applicant> {
    let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
    // Arrival time: pick an opening hour by weight, then a moment in it.
    let mut hours: Vec<(i64, i64, f64)> = Vec::new();
    for (start, end) in periods {
        let mut t = *start;
        while t < *end {
            let until = (t + 3_600_000).min(*end);
            let hour = jiff::Timestamp::from_millisecond(t)
                .map(|ts| ts.to_zoned_datetime(crate::clock::hall_tz()).hour())
                .unwrap_or(12);
            hours.push((
                t,
                until,
                hour_weight(hour) * (until - t) as f64 / 3_600_000.0,
            ));
            t = until;
        }
    }
    let total: f64 = hours.iter().map(|h| h.2).sum();
    let mut out: Vec<Applicant> = (0..shape.applicants)
        .map(|_| {
            let mut pick = rng.random::<f64>() * total;
            let &(from, to, _) = hours
                .iter()
                .find(|h| {
                    pick -= h.2;
                    pick <= 0.0
                })
                .or(hours.last())
                .unwrap_or(&(0, 1, 1.0));
            let arrives_ms = from + (rng.random::<f64>() * (to - from) as f64) as i64;
            let r: f64 = rng.random();
            let class = if r < shape.green_share {
                TicketClass::Green
            } else if r < shape.green_share + shape.appointment_share {
                TicketClass::Appointment
            } else {
                TicketClass::Normal
            };
            let mut m: f64 = rng.random();
            let &(_, line, docs) = MIX
                .iter()
                .find(|x| {
                    m -= x.0;
                    m <= 0.0
                })
                .unwrap_or(&MIX[0]);
            let median = MEDIAN_SERVICE_MIN + 2.0 * (docs.len() as f64 - 1.0);
            let minutes = median * (SERVICE_SIGMA * normal(&mut rng)).exp();
            Applicant {
                arrives_ms,
                class,
                line,
                docs,
                service_ms: (minutes * 60_000.0) as i64,
            }
        })
        .collect();
    out.sort_by_key(|a| a.arrives_ms);
    out
}

/// A synthetic but valid ID number for applicant `n` (adults born from 1970 on).
fn id_of(n: usize) -> Result<IdNumber, SimulateError> {
    let birth = Date::constant(1970, 1, 1)
        .checked_add(jiff::Span::new().days((n / 900) as i64 * 37))
        .map_err(|e| SimulateError::Setup(e.to_string()))?;
    let first17 = format!("110101{}{:03}", birth.strftime("%Y%m%d"), n % 900 + 100);
    let check = IdNumber::check_digit_for(&first17)
        .ok_or_else(|| SimulateError::Setup(format!("no check digit for {first17}")))?;
    IdNumber::parse(&format!("{first17}{check}")).map_err(|e| SimulateError::Setup(e.to_string()))
}

fn form_of(n: usize, a: &Applicant) -> Result<FormInput, SimulateError> {
    let documents = a
        .docs
        .iter()
        .map(|(document, category)| {
            let renewal = *category == ApplicationCategory::Renewal;
            Ok(DocumentRequest {
                document: *document,
                category: *category,
                old_number: if renewal {
                    Some(
                        DocumentNumber::parse(DocumentKind::Passport, &format!("E{:08}", n))
                            .map_err(|e| SimulateError::Setup(e.to_string()))?,
                    )
                } else {
                    None
                },
                old_document: renewal.then_some(OldDocument::Held),
                endorsements: vec![],
                annotations: 0,
            })
        })
        .collect::<Result<Vec<_>, SimulateError>>()?;
    Ok(FormInput {
        name: format!("模拟申请人{n}"),
        id_number: id_of(n)?,
        phone: PhoneNumber::parse("13900139000")
            .map_err(|e| SimulateError::Setup(e.to_string()))?,
        address: "示范市示范路 1 号".into(),
        ethnicity: "汉".into(),
        from_card_reader: true,
        registered_state_personnel: false,
        unit_consent: false,
        work_unit: None,
        guardian: None,
        documents,
        lang: Lang::ZhCn,
    })
}

/// The staff of the replay: one officer per window (also cashier at it), a guide, an approver.
fn staff(site_id: i64, id: i64, roles: &[Role]) -> Actor {
    Actor::at_site(id, &format!("模拟民警 {id}"), site_id, roles)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// Applicant `n` comes in, fills the form at a kiosk and takes a ticket.
    Arrive(usize),
    /// Window `w` finishes its applicant (acceptance, payment) and is free.
    Finish(usize),
    /// Window `w` calls the next ticket.
    Call(usize),
}

/// Replays the day on a scratch SQLite database under `scratch` and reports it.
pub async fn replay(
    config: &Config,
    shape: &DayShape,
    scratch: &std::path::Path,
) -> Result<DayRun, SimulateError> {
    let setup = |e: &dyn std::fmt::Display| SimulateError::Setup(e.to_string());
    let started = Instant::now();
    let url = format!("sqlite://{}", scratch.join("simulate.db").display());
    // The engine as configured: the same durability level as the server would use.
    let options = DbOptions {
        sqlite_synchronous: config.sqlite_synchronous.clone(),
        ..DbOptions::default()
    };
    let db = Db::connect(&url, &options).await.map_err(|e| setup(&e))?;
    db.migrate().await.map_err(|e| setup(&e))?;
    let data = crate::server::load_data(config).map_err(|e| setup(&e))?;
    let calendar = data.calendar.clone();
    let date = match shape.date {
        Some(d) => d,
        None => next_working_day(&calendar, Clock::system().today()).map_err(|e| setup(&e))?,
    };
    let open_ms = crate::clock::local_ms(date, 0).ok_or_else(|| setup(&"date"))?;
    let clock = Clock::fixed(open_ms);
    crate::demo::load_if_empty(&db, &clock)
        .await
        .map_err(|e| setup(&e))?;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| setup(&e))?;
    let cipher = Arc::new(crate::privacy::Cipher::new(&key));
    let state: AppState =
        crate::server::build(config.clone(), data, db.clone(), clock.clone(), cipher)
            .await
            .map_err(|e| setup(&e))?;
    let site: Site = crate::sites::site_by_code(db.reader(), "0001")
        .await?
        .ok_or_else(|| setup(&"the demo hall 0001"))?;
    let opening =
        crate::domain::opening::openings_on(&site.opening_rules, &state.calendar.current(), date)
            .map_err(|e| setup(&e))?;
    let periods: Vec<(i64, i64)> = opening
        .periods()
        .iter()
        .filter_map(|p| {
            let m = |t: jiff::civil::Time| i64::from(t.hour()) * 60 + i64::from(t.minute());
            Some((
                crate::clock::local_ms(date, m(p.start))?,
                crate::clock::local_ms(date, m(p.end))?,
            ))
        })
        .collect();
    if periods.is_empty() {
        return Err(SimulateError::Setup(format!(
            "the hall is closed on {date}: pick a working day"
        )));
    }
    let people = applicants(shape, &periods);
    let open_hours: f64 = periods
        .iter()
        .map(|(a, b)| (b - a) as f64 / 3_600_000.0)
        .sum();
    let mean_service_min = people.iter().map(|a| a.service_ms as f64).sum::<f64>()
        / people.len().max(1) as f64
        / 60_000.0;
    // Enough windows for the peak hour by Erlang C, unless told.
    let peak_rate = shape.applicants as f64 / open_hours * 1.5 / hours_mean_weight();
    let windows_wanted = match shape.windows {
        Some(n) => n,
        None => crate::staffing::erlang::windows_needed(
            peak_rate,
            mean_service_min,
            config.staffing_target_share,
            config.staffing_target_wait_minutes,
            MAX_WINDOWS,
        )
        .ok_or_else(|| {
            SimulateError::Setup(format!(
                "the peak hour needs more than {MAX_WINDOWS} windows: give --windows"
            ))
        })?,
    };
    if windows_wanted == 0 || windows_wanted > MAX_WINDOWS {
        return Err(SimulateError::Setup(format!(
            "--windows: between 1 and {MAX_WINDOWS}"
        )));
    }

    // Windows: the hall's citizen windows, and more numbered from 101 if the day needs them.
    let admin_actor = Actor::system();
    let admin = admin_actor
        .any_admin()
        .ok_or_else(|| setup(&"system administrator"))?;
    let mut windows: Vec<Window> = crate::sites::windows_of(db.reader(), site.id)
        .await?
        .into_iter()
        .filter(|w| w.kind == WindowKind::Citizen)
        .collect();
    let missing = (windows_wanted as usize).saturating_sub(windows.len());
    for number in (101..).take(missing) {
        crate::sites::add_window(&db, &clock, admin, site.id, number, WindowKind::Citizen)
            .await
            .map_err(|e| setup(&format!("{e:?}")))?;
    }
    if missing > 0 {
        windows = crate::sites::windows_of(db.reader(), site.id)
            .await?
            .into_iter()
            .filter(|w| w.kind == WindowKind::Citizen)
            .collect();
    }
    windows.truncate(windows_wanted as usize);
    let officers: Vec<Actor> = (0..windows.len())
        .map(|i| staff(site.id, 10_000 + i as i64, &[Role::Officer, Role::Cashier]))
        .collect();
    let guide = staff(site.id, 9_001, &[Role::Guide]);
    let approver = staff(site.id, 9_002, &[Role::Approver]);
    let guide_grant = guide.grant().ok_or_else(|| setup(&"guide"))?;
    let desk_grant = guide.grant().ok_or_else(|| setup(&"booking desk"))?;
    let q = state.queue();
    let actx = state.applications();
    for (w, officer) in windows.iter().zip(&officers) {
        let g = officer.grant().ok_or_else(|| setup(&"officer"))?;
        queue::open_window(&q, &g, w)
            .await
            .map_err(|e| setup(&format!("{e:?}")))?;
    }

    let mut booked = book_the_day(&state, admin, &site, date, open_ms, &people, shape).await?;

    // The forms, filled at the kiosks: independent of one another and of the queue, so taken
    // in sixteen at a time before the day (a form's time is not a KPI).
    let mut forms: HashMap<usize, ApplicationNo> = HashMap::new();
    {
        let mut set = tokio::task::JoinSet::new();
        for (n, a) in people.iter().enumerate() {
            while set.len() >= SIDE_WORK {
                collect(&mut set, "form", &mut forms, usize::MAX).await?;
            }
            let (state, site, input) = (state.clone(), site.clone(), form_of(n, a)?);
            set.spawn(async move {
                let row = applications::submit_form(
                    &state.applications(),
                    &site,
                    applications::Channel::Kiosk,
                    input,
                )
                .await;
                (
                    n,
                    row.map_err(|e| format!("{e:?}")).and_then(|r| {
                        ApplicationNo::parse(&r.application_no).map_err(|e| e.to_string())
                    }),
                )
            });
        }
        while !set.is_empty() {
            collect(&mut set, "form", &mut forms, usize::MAX).await?;
        }
    }

    // The day, event by event in time order; the clock jumps to each event.
    let mut events: BinaryHeap<Reverse<(i64, Event)>> = BinaryHeap::new();
    for (n, a) in people.iter().enumerate() {
        events.push(Reverse((a.arrives_ms, Event::Arrive(n))));
    }
    let mut idle: Vec<usize> = (0..windows.len()).collect();
    // What the officers do during each service, beside the queue: one task per applicant.
    let mut services: tokio::task::JoinSet<Result<i64, SimulateError>> =
        tokio::task::JoinSet::new();
    // The ticket each application came with, to find the applicant a call brings.
    let mut by_ticket: HashMap<i64, usize> = HashMap::new();
    while let Some(Reverse((t, event))) = events.pop() {
        let now = clock.now_ms();
        if t > now {
            clock.advance_ms(t - now);
        }
        match event {
            Event::Arrive(n) => {
                let a = &people[n];
                let ticket = match (a.class, booked.remove(&n)) {
                    // With a booking: checked in at the desk, which issues the ticket.
                    (TicketClass::Appointment, Some(b)) => step(
                        "check-in",
                        n,
                        crate::booking::web::arrive(
                            &state,
                            crate::booking::Arrival::Desk(&desk_grant),
                            &site,
                            &b,
                        )
                        .await,
                    )?,
                    (class, _) => {
                        let (issuer, reason) = match class {
                            TicketClass::Green => {
                                (queue::Issuer::Guide(&guide_grant), Some("funeral"))
                            }
                            _ => (queue::Issuer::Citizen, None),
                        };
                        step(
                            "ticket",
                            n,
                            queue::issue_ticket(
                                &q, issuer, &site, a.line, class, reason, None, "kiosk",
                            )
                            .await,
                        )?
                    }
                };
                by_ticket.insert(ticket.id, n);
                if let Some(w) = idle.pop() {
                    events.push(Reverse((t, Event::Call(w))));
                }
            }
            Event::Call(w) => {
                let g = officers[w].grant().ok_or_else(|| setup(&"officer"))?;
                let called = step("call", w, queue::call_next(&q, &g, &windows[w]).await)?;
                let Some(ticket) = called else {
                    idle.push(w);
                    continue;
                };
                let n = *by_ticket
                    .get(&ticket.id)
                    .ok_or_else(|| setup(&"a ticket the replay did not issue"))?;
                step(
                    "start",
                    n,
                    queue::advance(&q, &g, &windows[w], TicketStatus::Serving).await,
                )?;
                let no = forms.remove(&n).ok_or_else(|| setup(&"form"))?;
                // Taking the application up at the window links it to the ticket being served
                // there, so it happens now, in the queue's order.
                let intake = officers[w].grant().ok_or_else(|| setup(&"intake"))?;
                let taken = step(
                    "acceptance",
                    n,
                    applications::start_acceptance(&actx, &intake, &no, Some(windows[w].id)).await,
                )?;
                let materials = taken
                    .materials(&state.catalog)
                    .iter()
                    .map(|m| m.id.clone())
                    .collect();
                // The rest of the service (materials, captures, face, checks, acceptance,
                // payment) changes nothing in the queue: it runs beside the day on a clock of
                // its own that reads what the hall's clock would, so its times are the same
                // whichever task gets there first.
                services.spawn(serve(
                    state.clone(),
                    officers[w].clone(),
                    no,
                    Service {
                        n,
                        site_id: site.id,
                        called_ms: t,
                        service_ms: people[n].service_ms,
                        green: people[n].class == TicketClass::Green,
                        materials,
                    },
                ));
                events.push(Reverse((t + people[n].service_ms, Event::Finish(w))));
            }
            Event::Finish(w) => {
                let g = officers[w].grant().ok_or_else(|| setup(&"officer"))?;
                step(
                    "finish",
                    w,
                    queue::advance(&q, &g, &windows[w], TicketStatus::Done).await,
                )?;
                events.push(Reverse((t, Event::Call(w))));
            }
        }
    }
    // After closing, the bookings nobody came for are marked no-shows by the booking sweep.
    let close_ms = periods.last().map_or(open_ms, |p| p.1);
    let grace_ms = (config.no_show_grace_minutes + 1) * 60_000;
    let now = clock.now_ms();
    if close_ms + grace_ms > now {
        clock.advance_ms(close_ms + grace_ms - now);
    }
    crate::booking::sweep(&state.booking()).await?;
    let mut accepted_ids: Vec<i64> = Vec::with_capacity(people.len());
    while let Some(r) = services.join_next().await {
        accepted_ids.push(r.map_err(|e| setup(&e))??);
    }
    // Approvals in the order of acceptance, whichever service task ended first.
    accepted_ids.sort_unstable();
    let (accepted, paid) = (accepted_ids.len(), accepted_ids.len());

    let day_seconds = started.elapsed().as_secs_f64();
    // After closing, the approver works through the day's applications.
    let mut approved = 0usize;
    {
        let mut set = tokio::task::JoinSet::new();
        for (n, id) in accepted_ids.iter().enumerate() {
            while set.len() >= SIDE_WORK {
                approved += joined(set.join_next().await)?;
            }
            set.spawn(approve_all(state.clone(), approver.clone(), *id, n));
        }
        while let Some(r) = set.join_next().await {
            approved += joined(Some(r))?;
        }
    }

    let approvals_seconds = started.elapsed().as_secs_f64() - day_seconds;
    crate::reports::rollup::roll_up_day(&db, &clock, site.id, date).await?;
    let names = crate::reports::report::Names::load(&state, site.id, Lang::ZhCn).await?;
    let range = crate::reports::report::Range::new(date, date).map_err(|e| setup(&e))?;
    let report =
        crate::reports::report::build(db.reader(), &site.code, site.id, range, &names).await?;
    Ok(DayRun {
        date,
        applicants: people.len(),
        windows: windows.len() as u32,
        accepted,
        paid,
        approved,
        wall_seconds: started.elapsed().as_secs_f64(),
        day_seconds,
        approvals_seconds,
        report,
    })
}

/// Books the day's appointments the evening before, on the web: each applicant who comes with
/// one in the slot their arrival falls in, and `no_show_share` more who never come. Places
/// enough for all (the replay measures the hall, not the quota). Returns the bookings of the
/// applicants who come, by applicant.
async fn book_the_day(
    state: &AppState,
    admin: crate::auth::AdminCap<'_>,
    site: &Site,
    date: Date,
    open_ms: i64,
    people: &[Applicant],
    shape: &DayShape,
) -> Result<HashMap<usize, crate::booking::BookingRow>, SimulateError> {
    use crate::booking::{self, BookRequest, Channel, slots::SlotSettings};
    let setup = |e: &dyn std::fmt::Debug| SimulateError::Setup(format!("booking: {e:?}"));
    let clock = Clock::fixed(open_ms - 12 * 3_600_000);
    let mut ctx = state.booking();
    ctx.clock = &clock;
    let settings = SlotSettings {
        slot_minutes: 30,
        quota_online: 10_000,
        quota_phone: 0,
        quota_onsite: 0,
        open_days_ahead: 7,
        open_at_minute: 0,
        close_minutes_before: 0,
        release_delay_seconds: 0,
    };
    let coming: Vec<usize> = (0..people.len())
        .filter(|n| people[*n].class == TicketClass::Appointment)
        .collect();
    let mut lines: Vec<&str> = coming.iter().map(|n| people[*n].line).collect();
    lines.sort_unstable();
    lines.dedup();
    for line in &lines {
        booking::update_settings(&ctx, admin, site.id, line, settings.clone())
            .await
            .map_err(|e| setup(&e))?;
        booking::ensure_slots(&ctx, site, line, date, &settings)
            .await
            .map_err(|e| setup(&e))?;
    }
    let slots =
        booking::store::slots_of_site_day(state.db.reader(), site.id, &date.to_string()).await?;
    let slot_of = |a: &Applicant| {
        slots
            .iter()
            .filter(|s| s.line_code == a.line && s.starts_at <= a.arrives_ms)
            .max_by_key(|s| s.starts_at)
            .or_else(|| slots.iter().find(|s| s.line_code == a.line))
            .map(|s| s.id)
    };
    // Those who never come book like those who do: the k-th takes the slot of a coming one.
    let no_shows = (coming.len() as f64 * shape.no_show_share).round() as usize;
    let mut wanted: Vec<(usize, i64)> = Vec::with_capacity(coming.len() + no_shows);
    for (k, n) in coming
        .iter()
        .copied()
        .chain((0..no_shows).map(|k| people.len() + k))
        .enumerate()
    {
        let like = if n < people.len() {
            n
        } else {
            coming[k % coming.len().max(1)]
        };
        let slot = slot_of(&people[like]).ok_or_else(|| setup(&"no slot for the line"))?;
        wanted.push((n, slot));
    }
    let mut out = HashMap::with_capacity(coming.len());
    let mut set = tokio::task::JoinSet::new();
    for (n, slot_id) in wanted {
        while set.len() >= SIDE_WORK {
            collect(&mut set, "booking", &mut out, people.len()).await?;
        }
        let (state, clock) = (state.clone(), clock.clone());
        let id = id_of(n)?;
        set.spawn(async move {
            let mut ctx = state.booking();
            ctx.clock = &clock;
            let request = BookRequest {
                slot_id,
                name: format!("模拟申请人{n}"),
                id_number: id.as_str().to_string(),
                phone: "13900139000".into(),
                channel: Channel::Web,
                lang: None,
            };
            let row = match booking::book(&ctx, None, request, None).await {
                Ok(c) => booking::booking_by_code(state.db.reader(), &c.code)
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|b| b.ok_or_else(|| "the booking just made".to_string())),
                Err(e) => Err(format!("{e:?}")),
            };
            (n, row)
        });
    }
    while !set.is_empty() {
        collect(&mut set, "booking", &mut out, people.len()).await?;
    }
    Ok(out)
}

/// The most citizen windows a replayed hall opens (window numbers 101–899 are free for it).
const MAX_WINDOWS: u32 = 400;

/// Work that does not touch the queue runs this many at a time beside it.
const SIDE_WORK: usize = 16;

/// Side tasks of one kind, each answering for applicant `n`.
type SideWork<T> = tokio::task::JoinSet<(usize, Result<T, String>)>;

/// Takes the next finished side task's result into `out` — only for applicants below `keep`
/// (the bookings of those who never come are not kept); a failed task stops the replay,
/// naming the step and the applicant.
async fn collect<T: 'static>(
    set: &mut SideWork<T>,
    what: &'static str,
    out: &mut HashMap<usize, T>,
    keep: usize,
) -> Result<(), SimulateError> {
    if let Some(r) = set.join_next().await {
        let (n, value) = r.map_err(|e| SimulateError::Setup(e.to_string()))?;
        let value = value.map_err(|detail| SimulateError::Step { what, n, detail })?;
        if n < keep {
            out.insert(n, value);
        }
    }
    Ok(())
}

fn joined(
    r: Option<Result<Result<usize, SimulateError>, tokio::task::JoinError>>,
) -> Result<usize, SimulateError> {
    match r {
        Some(r) => r.map_err(|e| SimulateError::Setup(e.to_string()))?,
        None => Ok(0),
    }
}

/// One applicant at a window, once called.
struct Service {
    n: usize,
    site_id: i64,
    called_ms: i64,
    service_ms: i64,
    green: bool,
    /// The materials list of the application taken up: all of them are checked.
    materials: Vec<String>,
}

/// The officer serves the applicant taken up at the window: materials, photo and fingerprints,
/// face, checks; after the service time, acceptance and payment (a third in cash, the rest by
/// card). Returns the application's id.
async fn serve(
    state: AppState,
    officer: Actor,
    no: ApplicationNo,
    s: Service,
) -> Result<i64, SimulateError> {
    let n = s.n;
    let clock = Clock::fixed(s.called_ms);
    let mut actx = state.applications();
    actx.clock = &clock;
    let mut pctx = state.payments();
    pctx.clock = &clock;
    let intake = officer
        .grant()
        .ok_or_else(|| SimulateError::Setup("the officer takes in applications".into()))?;
    step(
        "materials",
        n,
        applications::check_materials(&actx, &intake, &no, &s.materials).await,
    )?;
    for kind in [CaptureKind::Photo, CaptureKind::Fingerprint] {
        step(
            "capture",
            n,
            applications::capture(&actx, &intake, &no, kind).await,
        )?;
    }
    step(
        "face",
        n,
        applications::verify_face(&actx, &intake, &no).await,
    )?;
    step(
        "checks",
        n,
        applications::run_checks(&actx, &intake, &no).await,
    )?;
    clock.advance_ms(s.service_ms);
    let green = s.green;
    let d = step(
        "accept",
        n,
        applications::accept(
            &actx,
            &intake,
            &no,
            Acceptance {
                class: if green {
                    TimeLimitClass::Expedited
                } else {
                    TimeLimitClass::Normal
                },
                emergency_reason: green.then(|| "funeral".to_string()),
                emergency_proof: green.then(|| "死亡证明".to_string()),
                delivery: Delivery::Pickup { site_id: s.site_id },
            },
        )
        .await,
    )?;
    let collect = officer
        .grant()
        .ok_or_else(|| SimulateError::Setup("the officer collects the fee".into()))?;
    let (method, pos) = if n.is_multiple_of(3) {
        (crate::payments::Method::Cash, None)
    } else {
        (crate::payments::Method::Card, Some("POS-SIM"))
    };
    step(
        "payment",
        n,
        crate::payments::pay_at_window(&pctx, &collect, &no, method, pos).await,
    )?;
    Ok(d.row.id)
}

/// The approver reviews and approves each document of an application; returns how many.
async fn approve_all(
    state: AppState,
    approver: Actor,
    application_id: i64,
    n: usize,
) -> Result<usize, SimulateError> {
    let actx = state.applications();
    let review = approver
        .grant()
        .ok_or_else(|| SimulateError::Setup("the approver reviews".into()))?;
    let mut approved = 0;
    for doc in crate::documents::docs_of_application(state.db.reader(), application_id).await? {
        step(
            "review",
            n,
            crate::documents::start_review(&actx, &review, doc.id).await,
        )?;
        step(
            "approve",
            n,
            crate::documents::approve(&actx, &review, doc.id).await,
        )?;
        approved += 1;
    }
    Ok(approved)
}

/// The first working day after `from`.
fn next_working_day(
    calendar: &crate::domain::calendar::HolidayCalendar,
    from: Date,
) -> Result<Date, crate::domain::calendar::CalendarError> {
    let mut d = from;
    loop {
        d = d
            .tomorrow()
            .map_err(|_| crate::domain::calendar::CalendarError::YearNotCovered {
                year: d.year(),
            })?;
        if calendar.is_working_day(d)? {
            return Ok(d);
        }
    }
}

/// The mean of the hourly weights over a typical day, so the peak hour's rate is the day's
/// mean rate times the peak weight over the mean.
fn hours_mean_weight() -> f64 {
    let hours = [9, 10, 11, 13, 14, 15, 16];
    hours.iter().map(|h| hour_weight(*h)).sum::<f64>() / hours.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_day_and_the_shares_hold() {
        let shape = DayShape::default();
        let periods = [(0, 3 * 3_600_000), (4 * 3_600_000, 8 * 3_600_000)];
        let a = applicants(&shape, &periods);
        let b = applicants(&shape, &periods);
        assert_eq!(a.len(), 3600);
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.arrives_ms == y.arrives_ms && x.service_ms == y.service_ms)
        );
        let appointments = a
            .iter()
            .filter(|x| x.class == TicketClass::Appointment)
            .count() as f64;
        assert!((appointments / 3600.0 - 0.3).abs() < 0.03, "{appointments}");
        assert!(a.iter().all(|x| {
            periods
                .iter()
                .any(|(s, e)| x.arrives_ms >= *s && x.arrives_ms < *e)
        }));
        let other = applicants(
            &DayShape {
                seed: 7,
                ..DayShape::default()
            },
            &periods,
        );
        assert_ne!(a[0].arrives_ms, other[0].arrives_ms);
    }
}
