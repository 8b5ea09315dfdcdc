// The hall display: live calls over Server-Sent Events, spoken aloud. EventSource reconnects by
// itself after a network cut or a server restart (to another server behind the proxy when one
// is lost), resuming after the last call it got; on reconnect the page reloads its state.
(function () {
  "use strict";
  var body = document.body;
  var calls = document.getElementById("calls");
  var state = document.getElementById("link-state");
  var zh = document.documentElement.lang !== "en";
  var MAX_CALLS = 8;
  // Calls heard so far: tells a call from the answers of the server asked for before it.
  var heard = 0;

  // ---- the clock: the hall's time from the server's clock, ticking here; the screen's own
  // clock and time zone may be wrong, only the time passed since the page came is taken from it.
  var clockBox = document.getElementById("wall-clock");
  var dateBox = document.getElementById("wall-date");
  var timeBox = document.getElementById("wall-time");
  var WEEKDAYS_ZH = ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"];
  var WEEKDAYS_EN = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  var MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  function two(n) { return (n < 10 ? "0" : "") + n; }
  // The same text as the server writes (src/queue/web.rs, WallClock).
  function dateText(d) {
    var y = d.getUTCFullYear(), m = d.getUTCMonth(), day = d.getUTCDate(), w = d.getUTCDay();
    return zh ? y + "年" + (m + 1) + "月" + day + "日 " + WEEKDAYS_ZH[w]
      : WEEKDAYS_EN[w] + ", " + day + " " + MONTHS_EN[m] + " " + y;
  }
  if (clockBox && dateBox && timeBox) {
    var skew = Number(clockBox.dataset.now) - Date.now();
    var offset = Number(clockBox.dataset.utcOffset) * 60000;
    var sec = document.createElement("span");
    sec.className = "sec";
    var shownMinute = "";
    var tick = function () {
      // The hall's wall time, read through the UTC getters.
      var d = new Date(Date.now() + skew + offset);
      var minute = two(d.getUTCHours()) + ":" + two(d.getUTCMinutes());
      if (minute !== shownMinute) {
        shownMinute = minute;
        timeBox.textContent = minute;
        timeBox.appendChild(sec);
        timeBox.setAttribute("datetime", d.toISOString().slice(0, 10) + "T" + minute);
        var text = dateText(d);
        if (dateBox.textContent !== text) dateBox.textContent = text;
      }
      sec.textContent = ":" + two(d.getUTCSeconds());
    };
    tick();
    setInterval(tick, 500);
  }

  // ---- voice: the browser's own Chinese voice when it has one, else clips from the server ----
  var synth = "speechSynthesis" in window ? window.speechSynthesis : null;
  var voices = [];
  function loadVoices() { voices = synth ? synth.getVoices() : []; }
  if (synth) {
    loadVoices();
    if (synth.addEventListener) synth.addEventListener("voiceschanged", loadVoices);
  }
  function hasChineseVoice() {
    for (var i = 0; i < voices.length; i++) {
      if (String(voices[i].lang).toLowerCase().indexOf("zh") === 0) return true;
    }
    return false;
  }

  // Clips play one after the other, however fast the calls come.
  var clips = [];
  var playing = false;
  function playNext() {
    if (playing || !clips.length) return;
    playing = true;
    var audio = new Audio(clips.shift());
    var done = function () { playing = false; playNext(); };
    audio.onended = done;
    audio.onerror = done;
    var started = audio.play();
    // Refused (autoplay not allowed) or no synthesiser on the server: stay silent, go on.
    if (started && started.catch) started.catch(done);
  }

  function speak(number, win) {
    if (synth && hasChineseVoice()) {
      var spaced = number.split("").join(" ");
      [
        { text: "请 " + spaced + " 号到 " + win + " 号窗口办理", lang: "zh-CN" },
        { text: "Number " + spaced + ", please go to window " + win, lang: "en-US" }
      ].forEach(function (l) {
        var u = new SpeechSynthesisUtterance(l.text);
        u.lang = l.lang;
        synth.speak(u);
      });
      return;
    }
    ["zh", "en"].forEach(function (lang) {
      clips.push("/display/voice/" + lang + "/" + encodeURIComponent(number) + "/" + win + ".wav");
    });
    playNext();
  }

  // ---- the list of calls: the latest first (the big one), the tickets still at windows after ----
  function item(number, win) {
    var li = document.createElement("li");
    var label = zh ? win + " 号窗口" : "Window " + win;
    [["num", number], ["arrow", "→"], ["win", label]].forEach(function (p) {
      var s = document.createElement("span");
      s.className = p[0];
      s.textContent = p[1];
      if (p[0] === "arrow") s.setAttribute("aria-hidden", "true");
      li.appendChild(s);
    });
    li.dataset.number = number;
    li.dataset.window = win;
    return li;
  }

  function numberOf(li) {
    if (li.dataset.number) return li.dataset.number;
    var n = li.querySelector(".num");
    return n ? n.textContent : "";
  }

  function show(call) {
    var li = item(call.number, call.window);
    li.className = "fresh";
    li.dataset.heard = ++heard;
    // A recall moves the number back to the top instead of listing it twice.
    Array.prototype.slice.call(calls.children).forEach(function (old) {
      if (numberOf(old) === call.number) calls.removeChild(old);
    });
    calls.insertBefore(li, calls.firstChild);
    while (calls.children.length > MAX_CALLS) calls.removeChild(calls.lastChild);
    setTimeout(function () { li.classList.remove("fresh"); }, 8000);
  }

  // The server's list (tickets called or being served at a window, latest first): tickets done
  // or missed leave the screen as they do after a reload. Items already shown are kept as they
  // are, so a fresh call keeps flashing.
  function syncCalls(list, asked) {
    var shown = {};
    Array.prototype.slice.call(calls.children).forEach(function (li) { shown[numberOf(li)] = li; });
    var wanted = list.slice(0, MAX_CALLS).map(function (c) {
      var li = shown[c.number];
      return li && String(li.dataset.window || "") === String(c.window) ? li : item(c.number, c.window);
    });
    // A call heard after this answer was asked for is newer than the answer: it stays.
    Array.prototype.slice.call(calls.children).reverse().forEach(function (li) {
      if (Number(li.dataset.heard || 0) > asked && wanted.indexOf(li) < 0) wanted.unshift(li);
    });
    wanted = wanted.slice(0, MAX_CALLS);
    var same = wanted.length === calls.children.length && wanted.every(function (li, i) {
      return calls.children[i] === li;
    });
    if (same) return;
    while (calls.firstChild) calls.removeChild(calls.firstChild);
    wanted.forEach(function (li) { calls.appendChild(li); });
  }

  function refresh() {
    var asked = heard;
    fetch(body.dataset.queue, { headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("queue: " + r.status);
        return r.json();
      })
      .then(function (q) {
        var byLine = {};
        (q.waiting || []).forEach(function (w) { byLine[w.line] = w.waiting; });
        document.querySelectorAll("#waiting li").forEach(function (li) {
          li.querySelector("strong").textContent = byLine[li.dataset.line] || 0;
        });
        if (Array.isArray(q.calls)) syncCalls(q.calls, asked);
      })
      // Not reached this time (server busy or restarting): try again at the next tick.
      .catch(function () { dirty = true; });
  }

  // Each call carries its id, the same on every server. On a reconnect the browser sends the
  // last one it got (Last-Event-ID) and the server first sends the calls missed meanwhile, so a
  // display whose server was lost resumes on another without missing or repeating a call.
  var lastId = 0;
  var dirty = false;
  var source = null;
  function onCall(e) {
    var id = Number(e.lastEventId) || 0;
    // Never twice, should a call ever come again (a stream opened anew, below).
    if (id && id <= lastId) return;
    if (id) lastId = id;
    var call = JSON.parse(e.data);
    show(call);
    // A call replayed long after it was made (a long cut) is shown, not read out.
    if (!call.quiet) speak(call.number, call.window);
    // A call takes a ticket out of its line's waiting count: refresh the counts too.
    dirty = true;
  }
  function connect(url) {
    source = new EventSource(url);
    source.addEventListener("call", onCall);
    source.addEventListener("changed", function () { dirty = true; });
    // body[data-link] tells whether the live link is up ("live") or being re-established ("lost").
    source.onerror = function () {
      body.dataset.link = "lost";
      state.textContent = zh ? "正在重新连接…" : "Reconnecting…";
      // The browser gives up for good when an answer is not a stream (a proxy's 502 or 503
      // while no server was up): open a new one, resuming after the last call shown.
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(function () {
          var base = body.dataset.events.split("?")[0];
          connect(lastId ? base + "?last_event_id=" + lastId : body.dataset.events);
        }, 2000);
      }
    };
    // After a reconnect (network cut, server restart) the queue may have moved: fetch it again.
    source.onopen = function () { body.dataset.link = "live"; state.textContent = ""; refresh(); };
  }
  connect(body.dataset.events);
  setInterval(function () { if (dirty) { dirty = false; refresh(); } }, 2000);
})();
