//! A discrete-event simulation of a line's windows (issue 16, R14): arrivals with their ticket
//! class and service time, called in the hall's real order ([`crate::queue::order::next`]:
//! green channel, the maximum-wait rule, love channel, appointments, everyone else), so the
//! planner's Erlang C answer can be checked against what the hall's own rules do with measured,
//! not exponential, service times. Seeded and reproducible.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::queue::TicketClass;
use crate::queue::order::{Waiting, next};

/// One citizen: when they took the ticket (seconds from the start), its class, and how long
/// their service takes (seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    pub at_s: f64,
    pub class: TicketClass,
    pub service_s: f64,
}

/// How service times are drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceTimes {
    /// Exponential with this mean (seconds): the Erlang C assumption.
    Exponential { mean_s: f64 },
    /// Drawn from measured service times (seconds), as the hall recorded them.
    Measured(Vec<f64>),
}

impl ServiceTimes {
    pub fn mean_s(&self) -> f64 {
        match self {
            ServiceTimes::Exponential { mean_s } => *mean_s,
            ServiceTimes::Measured(v) if !v.is_empty() => v.iter().sum::<f64>() / v.len() as f64,
            ServiceTimes::Measured(_) => 0.0,
        }
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            ServiceTimes::Exponential { mean_s } => exponential(rng, *mean_s),
            ServiceTimes::Measured(v) if !v.is_empty() => v[rng.random_range(0..v.len())],
            ServiceTimes::Measured(_) => 0.0,
        }
    }
}

fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    // Inverse transform; 1 - u is in (0, 1], so the logarithm is finite.
    let u: f64 = rng.random();
    -(1.0 - u).ln() * mean
}

/// The share of each ticket class among arrivals (the rest are normal tickets).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ClassMix {
    pub green: f64,
    pub love: f64,
    pub appointment: f64,
}

/// Poisson arrivals at `per_hour` over `hours`, classes by `mix`, service by `service`.
pub fn arrivals(
    seed: u64,
    per_hour: f64,
    hours: f64,
    mix: ClassMix,
    service: &ServiceTimes,
) -> Vec<Arrival> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    if per_hour <= 0.0 {
        return out;
    }
    let mean_gap = 3600.0 / per_hour;
    let end = hours * 3600.0;
    let mut t = exponential(&mut rng, mean_gap);
    while t < end {
        let r: f64 = rng.random();
        let class = if r < mix.green {
            TicketClass::Green
        } else if r < mix.green + mix.love {
            TicketClass::Love
        } else if r < mix.green + mix.love + mix.appointment {
            TicketClass::Appointment
        } else {
            TicketClass::Normal
        };
        out.push(Arrival {
            at_s: t,
            class,
            service_s: service.draw(&mut rng),
        });
        t += exponential(&mut rng, mean_gap);
    }
    out
}

/// What happened to each arrival, in arrival order: seconds waited (ticket → call).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub waits_s: Vec<f64>,
    pub classes: Vec<TicketClass>,
}

impl Outcome {
    /// The share of arrivals called within `target_s` (1 when nobody came).
    pub fn share_within(&self, target_s: f64) -> f64 {
        if self.waits_s.is_empty() {
            return 1.0;
        }
        self.waits_s.iter().filter(|w| **w <= target_s).count() as f64 / self.waits_s.len() as f64
    }

    pub fn mean_wait_s(&self) -> f64 {
        if self.waits_s.is_empty() {
            return 0.0;
        }
        self.waits_s.iter().sum::<f64>() / self.waits_s.len() as f64
    }

    /// The `q` quantile (0–1) of the waits, nearest rank.
    pub fn quantile_s(&self, q: f64) -> f64 {
        let mut w = self.waits_s.clone();
        if w.is_empty() {
            return 0.0;
        }
        w.sort_by(f64::total_cmp);
        let i = ((q.clamp(0.0, 1.0) * w.len() as f64).ceil() as usize).clamp(1, w.len()) - 1;
        w[i]
    }
}

/// Runs `arrivals` (sorted by time) through `windows` identical windows, calling in the hall's
/// order with the maximum-wait rule at `max_wait_s`.
pub fn run(arrivals: &[Arrival], windows: u32, max_wait_s: f64) -> Outcome {
    let ms = |s: f64| (s * 1000.0).round() as i64;
    let mut waits = vec![f64::NAN; arrivals.len()];
    let mut waiting: Vec<Waiting> = Vec::new();
    // Finish times of busy windows (ms); free windows are `windows - busy.len()`.
    let mut busy: std::collections::BinaryHeap<std::cmp::Reverse<i64>> = Default::default();
    let mut i = 0;
    let max_wait = ms(max_wait_s);
    loop {
        let next_arrival = arrivals.get(i).map(|a| ms(a.at_s));
        let next_finish = busy.peek().map(|r| r.0);
        let now = match (next_arrival, next_finish) {
            (None, None) => break,
            (Some(a), Some(f)) if f < a => {
                busy.pop();
                f
            }
            (None, Some(f)) => {
                busy.pop();
                f
            }
            (Some(a), _) => {
                let arrival = &arrivals[i];
                waiting.push(Waiting {
                    id: i as i64,
                    class: arrival.class,
                    issued_at: a,
                    line_priority: 0,
                });
                i += 1;
                a
            }
        };
        while (busy.len() as u32) < windows && !waiting.is_empty() {
            let Some(called) = next(&waiting, now - max_wait) else {
                break;
            };
            waiting.retain(|w| w.id != called.id);
            let k = called.id as usize;
            waits[k] = (now - called.issued_at) as f64 / 1000.0;
            busy.push(std::cmp::Reverse(now + ms(arrivals[k].service_s)));
        }
        if windows == 0 {
            break;
        }
    }
    Outcome {
        waits_s: waits
            .into_iter()
            .map(|w| if w.is_nan() { f64::INFINITY } else { w })
            .collect(),
        classes: arrivals.iter().map(|a| a.class).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::erlang;
    use super::*;

    #[test]
    fn with_exponential_inputs_the_simulation_agrees_with_erlang_c() {
        // 60 arrivals an hour, 12-minute services: 12 erlangs, on 14 windows.
        let service = ServiceTimes::Exponential { mean_s: 720.0 };
        let a = arrivals(7, 60.0, 3_000.0, ClassMix::default(), &service);
        assert!(a.len() > 170_000, "{}", a.len());
        let out = run(&a, 14, f64::INFINITY);
        let erlang = erlang::service_level(12.0, 14, 12.0, 15.0).expect("stable");
        let simulated = out.share_within(15.0 * 60.0);
        assert!(
            (simulated - erlang).abs() < 0.015,
            "simulated {simulated}, Erlang C {erlang}"
        );
        let asa = erlang::average_wait(12.0, 14, 12.0).expect("stable") * 60.0;
        assert!(
            (out.mean_wait_s() - asa).abs() / asa < 0.08,
            "mean wait {} s, Erlang C {asa} s",
            out.mean_wait_s()
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_day() {
        let service = ServiceTimes::Measured(vec![300.0, 420.0, 600.0, 900.0]);
        let mix = ClassMix {
            green: 0.01,
            love: 0.05,
            appointment: 0.3,
        };
        let a = arrivals(42, 120.0, 8.0, mix, &service);
        let b = arrivals(42, 120.0, 8.0, mix, &service);
        assert_eq!(a, b);
        assert_eq!(run(&a, 10, 1800.0), run(&b, 10, 1800.0));
        assert_ne!(a, arrivals(43, 120.0, 8.0, mix, &service));
    }

    #[test]
    fn green_channel_and_appointments_wait_less_than_normal_tickets() {
        let service = ServiceTimes::Exponential { mean_s: 600.0 };
        let mix = ClassMix {
            green: 0.02,
            love: 0.05,
            appointment: 0.3,
        };
        let a = arrivals(3, 55.0, 400.0, mix, &service);
        let out = run(&a, 10, f64::INFINITY);
        let mean_of = |c: TicketClass| {
            let w: Vec<f64> = out
                .waits_s
                .iter()
                .zip(&out.classes)
                .filter(|(_, k)| **k == c)
                .map(|(w, _)| *w)
                .collect();
            w.iter().sum::<f64>() / w.len() as f64
        };
        assert!(mean_of(TicketClass::Green) < mean_of(TicketClass::Appointment));
        assert!(mean_of(TicketClass::Appointment) < mean_of(TicketClass::Normal));
    }

    #[test]
    fn the_maximum_wait_rule_caps_the_longest_wait() {
        // Heavy appointment traffic would starve normal tickets without the rule.
        let service = ServiceTimes::Exponential { mean_s: 600.0 };
        let mix = ClassMix {
            green: 0.0,
            love: 0.0,
            appointment: 0.6,
        };
        let a = arrivals(11, 58.0, 200.0, mix, &service);
        let without = run(&a, 10, f64::INFINITY);
        let with = run(&a, 10, 30.0 * 60.0);
        assert!(with.quantile_s(0.999) < without.quantile_s(0.999));
    }

    #[test]
    fn everyone_is_served_when_windows_keep_up() {
        let service = ServiceTimes::Measured(vec![60.0]);
        let a = arrivals(1, 30.0, 2.0, ClassMix::default(), &service);
        let out = run(&a, 2, 900.0);
        assert!(out.waits_s.iter().all(|w| w.is_finite()));
        // One-minute services, 2 windows, 30 an hour: almost nobody waits at all.
        assert!(out.share_within(0.0) > 0.9, "{}", out.share_within(0.0));
        assert!(out.share_within(120.0) > 0.99);
    }
}
