//! Every public page in English (issue 18 item 9): walked in a real browser, no Chinese text
//! shows outside what is marked as Chinese on purpose (`lang="zh-CN"`: proper names, the
//! seal, the language switch, legal texts labelled as Chinese-only) — in the page's text and
//! in what a screen reader or a hover says (placeholders, labels, titles, alt texts).

mod common;

use common::browser::*;
use common::kiosk::screen;

use fantoccini::Client;

/// The Chinese text visible on the page that is not marked as Chinese.
async fn untranslated(c: &Client) -> Vec<String> {
    let found = c
        .execute(
            r#"const han = /[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]/;
               const marked = e => e.closest('[lang^="zh"]') || e.closest('script,style,noscript,template');
               const out = [];
               const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
               while (walk.nextNode()) {
                 const n = walk.currentNode, t = n.textContent.trim(), e = n.parentElement;
                 if (!t || !han.test(t) || !e || marked(e)) continue;
                 if (!e.getClientRects().length) continue; // not rendered
                 out.push(t.slice(0, 80));
               }
               for (const e of document.querySelectorAll('[placeholder],[aria-label],[title],img[alt]')) {
                 if (marked(e)) continue;
                 for (const a of ['placeholder', 'aria-label', 'title', 'alt']) {
                   const v = e.getAttribute(a);
                   if (v && han.test(v)) out.push(a + ': ' + v.slice(0, 80));
                 }
               }
               return out;"#,
            vec![],
        )
        .await
        .expect("walk the text");
    found
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_public_page_reads_in_english() {
    let Some(binary) = chromedriver_or_skip() else {
        return;
    };
    let (app, _clock, _hall, site) = common::hall_app("2026-12-07T10:00:00+08:00").await;
    let ticket = common::walk_in(&app, &site, "first_issue").await;
    let mut pages: Vec<String> = [
        "/",
        "/guide",
        "/login",
        "/sites",
        "/sites/0001/on-duty",
        "/appointments",
        "/appointments/manage",
        "/progress",
        "/complaints",
        "/complaints/track",
        "/m/form",
        "/display/0001",
        "/display/0001/window/1",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    pages.push(format!("/q/{}", ticket.token));
    for item in app.state.catalog.items() {
        pages.push(format!("/guide/{}", item.id));
    }
    let base = app.base.clone();
    in_chromium(&binary, move |c, shots| async move {
        screen(&c, &shots, (1280, 900)).await;
        let mut problems = Vec::new();
        for p in &pages {
            let sep = if p.contains('?') { '&' } else { '?' };
            c.goto(&format!("{base}{p}{sep}lang=en"))
                .await
                .expect("open the page");
            assert_eq!(html_lang(&c).await, "en", "{p} in English");
            for t in untranslated(&c).await {
                problems.push(format!("{p}: {t}"));
            }
            if p == "/guide/passport-first-issue" {
                // A guide page with its legal basis: the renderings beside the originals.
                shots.take(&c, "guide-item-en-1280.png").await;
            }
        }
        assert!(
            problems.is_empty(),
            "{} untranslated fragments on English pages:\n{}",
            problems.len(),
            problems.join("\n")
        );
    })
    .await;
}
