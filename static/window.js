// A window's own small display: shows the ticket this window calls, live over Server-Sent
// Events. The browser reconnects by itself, resuming after the last call it got
// (Last-Event-ID); when an answer was not a stream (a proxy's error while no server was up) it
// gives up, and this page opens a new stream resuming from the same call.
(function () {
  "use strict";
  var body = document.body;
  var current = document.getElementById("current");
  var mine = Number(body.dataset.window);
  var lastId = 0;
  function onCall(e) {
    var id = Number(e.lastEventId) || 0;
    if (id && id <= lastId) return;
    if (id) lastId = id;
    var call = JSON.parse(e.data);
    if (call.window === mine) {
      current.textContent = call.number;
      current.classList.remove("fresh");
      void current.offsetWidth;
      current.classList.add("fresh");
    }
  }
  function connect(url) {
    var source = new EventSource(url);
    source.addEventListener("call", onCall);
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(function () {
          var base = body.dataset.events.split("?")[0];
          connect(lastId ? base + "?last_event_id=" + lastId : body.dataset.events);
        }, 2000);
      }
    };
  }
  connect(body.dataset.events);
})();
