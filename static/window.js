// A window's own small display: shows the ticket this window calls, live over Server-Sent
// Events (reconnects by itself).
(function () {
  "use strict";
  var body = document.body;
  var current = document.getElementById("current");
  var mine = Number(body.dataset.window);
  var source = new EventSource(body.dataset.events);
  source.addEventListener("call", function (e) {
    var call = JSON.parse(e.data);
    if (call.window === mine) {
      current.textContent = call.number;
      current.classList.remove("fresh");
      void current.offsetWidth;
      current.classList.add("fresh");
    }
  });
})();
