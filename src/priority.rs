//! Thread priority: the threads that serve requests run a little nicer than the database's
//! writer, so the one thread every booking waits for is never queued behind the requests
//! that feed it (issue 17, docs/BENCHMARKS.md).
//!
//! Linux keeps a nice value per thread and a new thread inherits its creator's, so lowering
//! the runtime's worker threads as they start leaves the main thread — and the SQLite writer
//! thread and connection it opens (`Db::connect`) — at the priority the service was given.
//! Only lowering is ever asked for: raising a priority needs privileges a service lacks.

/// The default of `request_nice`: low enough that the writer wins the CPU whenever it is
/// ready, near enough that requests still get most of it (a thread at nice 5 weighs a third
/// of one at nice 0 in Linux's scheduler).
pub const DEFAULT_REQUEST_NICE: u8 = 5;

/// The largest nice value Linux knows.
pub const MAX_NICE: u8 = 19;

/// Makes the calling thread `nice` steps nicer than it is (0: leaves it alone). Where the
/// system refuses or does not support it, the service runs on unchanged and says so once.
pub fn lower_this_thread(nice: u8) {
    if nice == 0 {
        return;
    }
    if let Err(e) = lower(nice.min(MAX_NICE)) {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            tracing::warn!(error = %e, nice, "cannot lower the request threads' priority; running them at the writer's");
        });
    }
}

#[cfg(target_os = "linux")]
fn lower(nice: u8) -> std::io::Result<()> {
    // PRIO_PROCESS with a thread's ID addresses that one thread on Linux.
    let me = Some(rustix::thread::gettid());
    let now = rustix::process::getpriority_process(me)?;
    let wanted = (now + i32::from(nice)).min(i32::from(MAX_NICE));
    rustix::process::setpriority_process(me, wanted)?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn lower(_nice: u8) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "per-thread priority is set on Linux only",
    ))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn nice_of_this_thread() -> i32 {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("nice")
    }

    #[test]
    fn a_lowered_thread_runs_nicer_and_its_neighbours_do_not() {
        let before = nice_of_this_thread();
        let (lowered, neighbour) = std::thread::scope(|s| {
            let lowered = s
                .spawn(|| {
                    lower_this_thread(3);
                    nice_of_this_thread()
                })
                .join()
                .expect("lowered thread");
            let neighbour = s.spawn(nice_of_this_thread).join().expect("neighbour");
            (lowered, neighbour)
        });
        assert_eq!(lowered, (before + 3).min(19));
        assert_eq!(neighbour, before, "only the thread that asked is lowered");
        assert_eq!(nice_of_this_thread(), before);
    }

    #[test]
    fn zero_leaves_the_thread_alone() {
        let n = std::thread::spawn(|| {
            let before = nice_of_this_thread();
            lower_this_thread(0);
            (before, nice_of_this_thread())
        })
        .join()
        .expect("thread");
        assert_eq!(n.0, n.1);
    }
}
