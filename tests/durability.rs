//! An acknowledged write survives a killed process: the real binary on an SQLite file is
//! killed with SIGKILL right after a write is acknowledged, restarted, and the write is there.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `onetrip serve` and returns it with the demo passwords it printed (if any).
fn start_server(state: &std::path::Path, port: u16) -> (Server, Vec<(String, String)>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_onetrip"))
        .arg("serve")
        .env("ONETRIP_STATE_DIR", state)
        .env("ONETRIP_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "ONETRIP_DATA_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/data"),
        )
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start onetrip");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(200));
    let mut accounts = Vec::new();
    while let Ok(line) = rx.try_recv() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() >= 3 && parts[1].len() == 14 && ["admin", "officer"].contains(&parts[0]) {
            accounts.push((parts[0].to_string(), parts[1].to_string()));
        }
    }
    (server, accounts)
}

async fn sign_in(base: &str, c: &reqwest::Client, user: &str, password: &str) -> reqwest::Response {
    let html = c
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let token = html[start..start + 64].to_string();
    c.post(format!("{base}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_acknowledged_password_change_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut server, accounts) = start_server(dir.path(), port);
    let (_, one_time) = accounts
        .iter()
        .find(|(u, _)| u == "admin")
        .cloned()
        .expect("demo admin password printed at first start");
    let base = format!("http://127.0.0.1:{port}");
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = sign_in(&base, &c, "admin", &one_time).await;
    assert_eq!(res.headers()["location"], "/account/password");
    let html = c
        .get(format!("{base}/account/password"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let token = html[start..start + 64].to_string();
    let new_password = "survives a crash 2026";
    let res = c
        .post(format!("{base}/account/password"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("current", one_time.as_str()),
            ("new", new_password),
            ("confirm", new_password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the change is acknowledged");
    // Kill at once: no graceful shutdown, no checkpoint.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    drop(server);

    let (_server, accounts) = start_server(dir.path(), port);
    assert!(
        accounts.is_empty(),
        "the demo city is not loaded twice, and no password is printed again"
    );
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = sign_in(&base, &c, "admin", new_password).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/staff",
        "the new password works and needs no change"
    );
    let old = sign_in(
        &base,
        &reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        "admin",
        &one_time,
    )
    .await;
    assert_eq!(old.status(), 401);
}
