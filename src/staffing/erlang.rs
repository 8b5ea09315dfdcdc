//! Erlang C (M/M/c): how many windows a line needs so that a target share of citizens waits no
//! longer than a target (issue 16, R14). Computed through the Erlang B recursion, which stays
//! finite for hundreds of windows where factorials overflow.

/// Offered traffic in erlangs: arrivals per hour × mean service time in hours.
pub fn traffic(arrivals_per_hour: f64, mean_service_minutes: f64) -> f64 {
    arrivals_per_hour * mean_service_minutes / 60.0
}

/// The probability that an arrival waits at all, with `windows` serving `traffic` erlangs;
/// `None` when the windows cannot keep up (traffic ≥ windows: the queue grows without end).
pub fn probability_of_waiting(traffic: f64, windows: u32) -> Option<f64> {
    if windows == 0 || !traffic.is_finite() || traffic < 0.0 {
        return None;
    }
    let c = f64::from(windows);
    if traffic >= c {
        return None;
    }
    // Erlang B: B(0) = 1, B(k) = A·B(k-1) / (k + A·B(k-1)).
    let mut b = 1.0;
    for k in 1..=windows {
        b = traffic * b / (f64::from(k) + traffic * b);
    }
    Some(c * b / (c - traffic * (1.0 - b)))
}

/// The share of arrivals that wait no longer than `target_minutes`.
pub fn service_level(
    traffic: f64,
    windows: u32,
    mean_service_minutes: f64,
    target_minutes: f64,
) -> Option<f64> {
    let p = probability_of_waiting(traffic, windows)?;
    let c = f64::from(windows);
    Some(1.0 - p * (-(c - traffic) * target_minutes / mean_service_minutes).exp())
}

/// The average wait in minutes (the "average speed of answer").
pub fn average_wait(traffic: f64, windows: u32, mean_service_minutes: f64) -> Option<f64> {
    let p = probability_of_waiting(traffic, windows)?;
    Some(p * mean_service_minutes / (f64::from(windows) - traffic))
}

/// The fewest windows (up to `max_windows`) for which at least `target_share` of arrivals wait
/// no longer than `target_minutes`; `None` if even `max_windows` do not reach it. No arrivals
/// need no window.
pub fn windows_needed(
    arrivals_per_hour: f64,
    mean_service_minutes: f64,
    target_share: f64,
    target_minutes: f64,
    max_windows: u32,
) -> Option<u32> {
    if arrivals_per_hour <= 0.0 {
        return Some(0);
    }
    let a = traffic(arrivals_per_hour, mean_service_minutes);
    (1..=max_windows).find(|&c| {
        service_level(a, c, mean_service_minutes, target_minutes)
            .is_some_and(|sl| sl >= target_share)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn the_probability_of_waiting_matches_the_published_table() {
        // Erlang C tables for 10 erlangs of traffic (e.g. the tables in Cooper, "Introduction
        // to Queueing Theory", and every call-centre sizing table): 11 to 15 servers.
        for (c, expected) in [
            (11, 0.6821),
            (12, 0.4494),
            (13, 0.2853),
            (14, 0.1741),
            (15, 0.1020),
        ] {
            let p = probability_of_waiting(10.0, c).expect("stable");
            assert!(close(p, expected, 5e-5), "{c}: {p}");
        }
        // One server: M/M/1, P(wait) = ρ.
        assert!(close(
            probability_of_waiting(0.7, 1).expect("stable"),
            0.7,
            1e-12
        ));
        assert_eq!(probability_of_waiting(10.0, 10), None, "saturated");
        assert_eq!(probability_of_waiting(1.0, 0), None);
    }

    #[test]
    fn service_level_and_average_wait_follow_the_textbook_example() {
        // The classic call-centre example: 360 calls in half an hour, 240 s handling, answer
        // 80 % within 20 s. 48 erlangs; 54 agents give 81.7 %, 53 give 75.2 %.
        let a = traffic(720.0, 4.0);
        assert!(close(a, 48.0, 1e-12));
        let sl = |c| service_level(a, c, 4.0, 20.0 / 60.0).expect("stable");
        assert!(close(sl(53), 0.7518, 5e-4), "{}", sl(53));
        assert!(close(sl(54), 0.8172, 5e-4), "{}", sl(54));
        assert_eq!(windows_needed(720.0, 4.0, 0.8, 20.0 / 60.0, 100), Some(54));
        let asa = average_wait(a, 54, 4.0).expect("stable") * 60.0;
        assert!(close(asa, 12.05, 0.05), "{asa} s");
    }

    #[test]
    fn more_windows_never_wait_longer_and_nobody_needs_none() {
        let a = traffic(60.0, 12.0);
        let mut last = f64::MAX;
        for c in 13..40 {
            let w = average_wait(a, c, 12.0).expect("stable");
            assert!(w <= last);
            last = w;
        }
        assert_eq!(windows_needed(0.0, 12.0, 0.9, 15.0, 30), Some(0));
        assert_eq!(windows_needed(1000.0, 12.0, 0.9, 15.0, 30), None);
        // Hundreds of windows stay finite.
        assert!(probability_of_waiting(400.0, 420).is_some_and(f64::is_finite));
    }
}
