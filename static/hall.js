// The live hall (issue 16): on every event of the site the page reads itself again and swaps
// its content in place, at most every 300 ms; without JavaScript it refreshes every 30 s.
(function () {
  var root = document.getElementById('hall');
  if (!root || !window.EventSource || !window.fetch) return;
  var site = root.getAttribute('data-site');
  var pending = null;
  function reload() {
    pending = null;
    fetch(window.location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var next = new DOMParser().parseFromString(html, 'text/html').getElementById('hall');
        if (next) root.innerHTML = next.innerHTML;
      })
      .catch(function () {});
  }
  var events = new EventSource('/staff/leader/hall/events?site=' + encodeURIComponent(site));
  events.addEventListener('changed', function () {
    if (!pending) pending = window.setTimeout(reload, 300);
  });
  // The page follows events; the refresh tag is only for browsers without them.
  var refresh = document.querySelector('meta[http-equiv=refresh]');
  if (refresh) refresh.parentNode.removeChild(refresh);
})();
