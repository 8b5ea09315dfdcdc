//! Who is called next: the one place the calling order lives (R3, R8), pure and property-tested.
//!
//! Among the waiting tickets of the lines a window serves, the order is —
//! 1. green channel (紧急, R8);
//! 2. anyone who has waited longer than `max_wait_minutes` (nobody is passed over forever);
//! 3. love channel (爱心: 70+, pregnant, infant, disabled);
//! 4. appointment arrivals (不叫号、不排队: they go to the front);
//! 5. everyone else;
//!
//! then the window's line priority (the order of its lines), then issue time, then id. The
//! store hands over only the oldest waiting ticket of each class in each line
//! ([`super::store::heads_of_line`]): the best of a line by this order is always among them,
//! because within one class and line the order is issue time alone, and the oldest ticket of
//! a line is the first of them to pass the maximum wait.

use super::TicketClass;

/// A waiting ticket as the calling order sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub id: i64,
    pub class: TicketClass,
    pub issued_at: i64,
    /// The position of the ticket's line among the window's lines (0 first).
    pub line_priority: usize,
}

/// The class rank of a ticket: lower is called first. `overdue_before`: tickets issued at or
/// before this instant have waited past the maximum.
pub fn rank(class: TicketClass, issued_at: i64, overdue_before: i64) -> u8 {
    match class {
        TicketClass::Green => 0,
        _ if issued_at <= overdue_before => 1,
        TicketClass::Love => 2,
        TicketClass::Appointment => 3,
        TicketClass::Normal => 4,
    }
}

/// The full sort key of the calling order.
fn key(w: &Waiting, overdue_before: i64) -> (u8, usize, i64, i64) {
    (
        rank(w.class, w.issued_at, overdue_before),
        w.line_priority,
        w.issued_at,
        w.id,
    )
}

/// The ticket to call next among `waiting`, if any.
pub fn next(waiting: &[Waiting], overdue_before: i64) -> Option<Waiting> {
    waiting
        .iter()
        .min_by_key(|w| key(w, overdue_before))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX_WAIT: i64 = 45 * 60_000;

    fn class() -> impl Strategy<Value = TicketClass> {
        prop_oneof![
            Just(TicketClass::Green),
            Just(TicketClass::Love),
            Just(TicketClass::Appointment),
            Just(TicketClass::Normal),
        ]
    }

    /// A hall's day: tickets issued over two hours into two lines; one window serves both and
    /// calls a ticket every `service` ms, while more keep arriving.
    fn day() -> impl Strategy<Value = (Vec<(TicketClass, i64, usize)>, i64)> {
        (
            prop::collection::vec((class(), 0..7_200_000i64, 0..2usize), 1..60),
            60_000..600_000i64,
        )
    }

    /// Serves the day and returns `(ticket, issued_at, called_at)` in calling order.
    fn serve(tickets: &[(TicketClass, i64, usize)], service: i64) -> Vec<(Waiting, i64)> {
        let all: Vec<Waiting> = tickets
            .iter()
            .enumerate()
            .map(|(i, (c, at, line))| Waiting {
                id: i as i64,
                class: *c,
                issued_at: *at,
                line_priority: *line,
            })
            .collect();
        let mut called = Vec::new();
        let mut now = 0;
        let mut done = vec![false; all.len()];
        while called.len() < all.len() {
            let waiting: Vec<Waiting> = all
                .iter()
                .filter(|w| !done[w.id as usize] && w.issued_at <= now)
                .copied()
                .collect();
            match next(&waiting, now - MAX_WAIT) {
                Some(w) => {
                    done[w.id as usize] = true;
                    called.push((w, now));
                    now += service;
                }
                None => {
                    now = all
                        .iter()
                        .filter(|w| !done[w.id as usize])
                        .map(|w| w.issued_at)
                        .min()
                        .unwrap_or(now);
                }
            }
        }
        called
    }

    proptest! {
        /// Every call obeys the documented order against everyone else waiting at that moment.
        #[test]
        fn each_call_is_the_first_by_the_documented_order((tickets, service) in day()) {
            let called = serve(&tickets, service);
            for (i, (w, now)) in called.iter().enumerate() {
                let overdue_before = now - MAX_WAIT;
                for (other, _) in &called[i + 1..] {
                    if other.issued_at > *now {
                        continue;
                    }
                    let (a, b) = (
                        rank(w.class, w.issued_at, overdue_before),
                        rank(other.class, other.issued_at, overdue_before),
                    );
                    prop_assert!(a <= b, "{w:?} (rank {a}) called before {other:?} (rank {b})");
                    if a == b {
                        prop_assert!(
                            (w.line_priority, w.issued_at, w.id)
                                <= (other.line_priority, other.issued_at, other.id)
                        );
                    }
                }
            }
        }

        /// No class starves: once a ticket passes the maximum wait, only green-channel
        /// tickets and tickets overdue before it are called ahead of it.
        #[test]
        fn nobody_waits_past_the_maximum_behind_a_lower_class((tickets, service) in day()) {
            let called = serve(&tickets, service);
            for (i, (w, _)) in called.iter().enumerate() {
                for (ahead, at) in &called[..i] {
                    if w.issued_at <= at - MAX_WAIT {
                        prop_assert!(
                            ahead.class == TicketClass::Green
                                || ahead.issued_at <= at - MAX_WAIT,
                            "{ahead:?} called at {at} ahead of overdue {w:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_order_reads_as_documented() {
        let at = |id, class, issued_at, line_priority| Waiting {
            id,
            class,
            issued_at,
            line_priority,
        };
        let now = 10 * MAX_WAIT;
        let waiting = [
            at(1, TicketClass::Normal, now - 60_000, 0),
            at(2, TicketClass::Appointment, now - 30_000, 1),
            at(3, TicketClass::Love, now - 20_000, 1),
            at(4, TicketClass::Normal, now - MAX_WAIT - 1, 1),
            at(5, TicketClass::Green, now, 1),
        ];
        let mut left = waiting.to_vec();
        let mut order = Vec::new();
        while let Some(w) = next(&left, now - MAX_WAIT) {
            order.push(w.id);
            left.retain(|x| x.id != w.id);
        }
        assert_eq!(order, [5, 4, 3, 2, 1]);
    }
}
