//! A lean HTTP/1.1 load generator for the benchmarks: keep-alive connections on loopback, one
//! request at a time per connection, on a single-threaded runtime so it takes one core at most
//! and leaves the rest to the server (it runs in its own process).
//!
//! Two ways to drive a phase: closed loop (every connection sends again as soon as it has its
//! answer — the most the server can do) and open loop (requests are due on a fixed schedule,
//! and latency counts from when each was due, so a slow server cannot hide its queue by
//! slowing the clients down).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    body_at: usize,
}

impl Conn {
    pub async fn open(addr: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(8192),
            body_at: 0,
        })
    }

    /// Sends one request and reads the whole response; returns its status code.
    pub async fn send(&mut self, request: &[u8]) -> std::io::Result<u16> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        self.body_at = head_end;
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| bad("response head is not text"))?;
        let status: u16 = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status"))?;
        let mut length = None;
        let mut chunked = false;
        for line in head.split("\r\n") {
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse::<usize>().ok();
            } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        if chunked {
            while find(&self.buf[head_end..], b"0\r\n\r\n").is_none() {
                self.fill().await?;
            }
        } else {
            let want = head_end + length.unwrap_or(0);
            while self.buf.len() < want {
                self.fill().await?;
            }
        }
        Ok(status)
    }

    /// The body of the last response (for a fixed-length one).
    pub fn body(&self) -> &[u8] {
        self.buf.get(self.body_at..).unwrap_or_default()
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 16384];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(bad("connection closed"));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn bad(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A GET request.
pub fn get(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n").into_bytes()
}

/// A JSON POST request.
pub fn post_json(host: &str, path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What a phase measured.
pub struct Stats {
    pub label: String,
    /// Answers with the expected status.
    pub ok: usize,
    /// Other answers (refusals) and failed requests.
    pub other: usize,
    pub errors: usize,
    pub seconds: f64,
    /// Latencies in microseconds.
    pub lat: Vec<u32>,
    /// (milliseconds into the phase when the request was due or sent, its latency in
    /// microseconds), in no order: when the slow answers came.
    pub timeline: Vec<(u32, u32)>,
}

impl Stats {
    pub fn percentile_ms(&mut self, q: f64) -> f64 {
        self.lat.sort_unstable();
        if self.lat.is_empty() {
            return 0.0;
        }
        self.lat[((self.lat.len() as f64 - 1.0) * q).round() as usize] as f64 / 1000.0
    }

    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds.max(1e-9)
    }

    /// Prints the `n` windows of `window_ms` with the slowest answers: the latency's shape in time
    /// (a stall every so often, or one, or a slope) tells more about a tail than its percentile.
    pub fn print_worst_moments(&self, window_ms: u32, n: usize) {
        let mut worst: std::collections::BTreeMap<u32, (u32, u32)> = Default::default();
        for &(at, lat) in &self.timeline {
            let w = worst.entry(at / window_ms).or_default();
            w.0 = w.0.max(lat);
            w.1 += 1;
        }
        let mut windows: Vec<_> = worst.into_iter().collect();
        windows.sort_by_key(|(_, (max, _))| std::cmp::Reverse(*max));
        let listed: Vec<String> = windows
            .iter()
            .take(n)
            .map(|(w, (max, count))| {
                format!(
                    "{} ms: {:.0} ms ({count})",
                    w * window_ms,
                    *max as f64 / 1000.0
                )
            })
            .collect();
        println!(
            "{:<44} slowest {window_ms} ms windows (start: worst latency (answers)): {}",
            "",
            listed.join("; ")
        );
    }

    /// Prints one line and returns the rate of expected answers.
    pub fn print(&mut self) -> f64 {
        let (p50, p99, p999) = (
            self.percentile_ms(0.5),
            self.percentile_ms(0.99),
            self.percentile_ms(0.999),
        );
        println!(
            "{:<44} {:>9.0}/s  ok {:>7}  other {:>6}  errors {:>4}  p50 {:>8.2} ms  p99 {:>8.2} ms  p99.9 {:>8.2} ms",
            self.label,
            self.rate(),
            self.ok,
            self.other,
            self.errors,
            p50,
            p99,
            p999
        );
        self.rate()
    }
}

/// How a phase sends.
#[derive(Clone, Copy)]
pub enum Pace {
    /// As fast as answers come, for `seconds` or until the request maker says stop.
    Closed { seconds: f64 },
    /// `per_second` requests spread evenly over the connections for `seconds`.
    Open { per_second: f64, seconds: f64 },
}

/// Drives every connection with requests from `make(connection, n)` (`None` stops that
/// connection); an answer with status `expect` counts as ok.
pub async fn run_phase<F>(
    label: &str,
    conns: &mut Vec<Conn>,
    pace: Pace,
    expect: u16,
    make: F,
) -> Stats
where
    F: Fn(usize, usize) -> Option<Vec<u8>> + Clone + 'static,
{
    let clients = conns.len();
    let started = Instant::now();
    let local = tokio::task::LocalSet::new();
    let mut handles = Vec::with_capacity(clients);
    for (c, mut conn) in std::mem::take(conns).into_iter().enumerate() {
        let make = make.clone();
        handles.push(local.spawn_local(async move {
            let (mut lat, mut ok, mut other, mut errors) = (Vec::new(), 0, 0, 0);
            let mut timeline = Vec::new();
            let (seconds, interval) = match pace {
                Pace::Closed { seconds } => (seconds, None),
                Pace::Open {
                    per_second,
                    seconds,
                } => (
                    seconds,
                    Some(Duration::from_secs_f64(clients as f64 / per_second)),
                ),
            };
            let end = started + Duration::from_secs_f64(seconds);
            // Open loop: connection c's requests are due at offset c/clients of an interval.
            let mut due =
                started + interval.map_or(Duration::ZERO, |i| i.mul_f64(c as f64 / clients as f64));
            let mut n = 0;
            while due < end && Instant::now() < end {
                if interval.is_some() {
                    tokio::time::sleep_until(due.into()).await;
                }
                let Some(request) = make(c, n) else { break };
                n += 1;
                let from = if interval.is_some() {
                    due
                } else {
                    Instant::now()
                };
                match conn.send(&request).await {
                    Ok(status) => {
                        let took = from.elapsed().as_micros() as u32;
                        lat.push(took);
                        timeline.push((from.duration_since(started).as_millis() as u32, took));
                        if status == expect {
                            ok += 1;
                        } else {
                            other += 1;
                        }
                    }
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                }
                if let Some(i) = interval {
                    due += i;
                }
            }
            (conn, lat, timeline, ok, other, errors)
        }));
    }
    let mut stats = Stats {
        label: label.to_string(),
        ok: 0,
        other: 0,
        errors: 0,
        seconds: 0.0,
        lat: Vec::new(),
        timeline: Vec::new(),
    };
    local
        .run_until(async {
            for h in handles {
                if let Ok((conn, lat, timeline, ok, other, errors)) = h.await {
                    if errors == 0 {
                        conns.push(conn);
                    }
                    stats.lat.extend(lat);
                    stats.timeline.extend(timeline);
                    stats.ok += ok;
                    stats.other += other;
                    stats.errors += errors;
                }
            }
        })
        .await;
    stats.seconds = started.elapsed().as_secs_f64();
    stats
}

/// Opens `n` connections one after another (a burst of 2,000 connects would overflow the
/// listen backlog and measure SYN retries instead of the server).
pub async fn connect_all(addr: &str, n: usize) -> Vec<Conn> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        match Conn::open(addr).await {
            Ok(c) => out.push(c),
            Err(e) => {
                eprintln!("connect failed after {} connections: {e}", out.len());
                break;
            }
        }
    }
    out
}
