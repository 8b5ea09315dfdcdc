// The hall display: live calls over Server-Sent Events, spoken aloud. EventSource reconnects by
// itself after a network cut or a server restart; on reconnect the page reloads its state.
(function () {
  "use strict";
  var body = document.body;
  var calls = document.getElementById("calls");
  var state = document.getElementById("link-state");
  var zh = document.documentElement.lang !== "en";

  function speak(number, win) {
    if (!("speechSynthesis" in window)) return;
    var spaced = number.split("").join(" ");
    var lines = [
      { text: "请 " + spaced + " 号到 " + win + " 号窗口办理", lang: "zh-CN" },
      { text: "Number " + spaced + ", please go to window " + win, lang: "en-US" }
    ];
    lines.forEach(function (l) {
      var u = new SpeechSynthesisUtterance(l.text);
      u.lang = l.lang;
      window.speechSynthesis.speak(u);
    });
  }

  function show(call) {
    var li = document.createElement("li");
    li.className = "fresh";
    var label = zh ? call.window + " 号窗口" : "Window " + call.window;
    [["num", call.number], ["arrow", "→"], ["win", label]].forEach(function (p) {
      var s = document.createElement("span");
      s.className = p[0];
      s.textContent = p[1];
      li.appendChild(s);
    });
    calls.insertBefore(li, calls.firstChild);
    while (calls.children.length > 8) calls.removeChild(calls.lastChild);
    setTimeout(function () { li.className = ""; }, 8000);
  }

  function refreshCounts() {
    fetch(body.dataset.queue, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (q) {
        var byLine = {};
        (q.waiting || []).forEach(function (w) { byLine[w[0]] = w[1]; });
        document.querySelectorAll("#waiting li").forEach(function (li) {
          li.querySelector("strong").textContent = byLine[li.dataset.line] || 0;
        });
      })
      .catch(function () {});
  }

  var source = new EventSource(body.dataset.events);
  source.addEventListener("call", function (e) {
    var call = JSON.parse(e.data);
    show(call);
    speak(call.number, call.window);
  });
  var dirty = false;
  source.addEventListener("changed", function () { dirty = true; });
  setInterval(function () { if (dirty) { dirty = false; refreshCounts(); } }, 2000);
  source.onerror = function () { state.textContent = zh ? "正在重新连接…" : "Reconnecting…"; };
  // After a reconnect (network cut, server restart) counts may have moved: fetch them again.
  source.onopen = function () { state.textContent = ""; refreshCounts(); };
})();
