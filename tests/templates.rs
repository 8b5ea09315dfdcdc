//! Pages work under the content-security policy (`script-src 'self'`, no inline scripts or
//! handlers): no template carries an inline event handler or script, so every button does what
//! it says (print buttons use `data-print`, wired by /static/print.js and the kiosk's script).

mod common;

use std::path::Path;

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("templates dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

#[test]
fn no_template_has_inline_handlers_or_scripts() {
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        &mut files,
    );
    assert!(files.len() > 40, "{} templates found", files.len());
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        let lower = text.to_lowercase();
        for needle in [
            " onclick=",
            " onload=",
            " onchange=",
            " onsubmit=",
            " oninput=",
        ] {
            if lower.contains(needle) {
                bad.push(format!("{}: {}", f.display(), needle.trim()));
            }
        }
        // A script element must load a file of ours, never carry code.
        for (i, _) in lower.match_indices("<script") {
            let tag_end = lower[i..].find('>').map_or(lower.len(), |e| i + e);
            if !lower[i..tag_end].contains("src=") {
                bad.push(format!("{}: inline <script>", f.display()));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_print_script_is_served_and_pages_load_it() {
    let app = common::TestApp::spawn(common::Engine::Sqlite)
        .await
        .expect("sqlite app");
    let res = app
        .client()
        .get(app.url("/static/print.js"))
        .send()
        .await
        .expect("script");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.contains("javascript"))
    );
    assert!(res.text().await.expect("body").contains("window.print"));
    let home = app
        .client()
        .get(app.url("/"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("html");
    assert!(home.contains("/static/print.js"));
}
