// Kiosk privacy (issue 14 §1): after a spell without a touch the kiosk counts down and wipes
// itself back to its home page, replacing the history entry, so the next person finds nothing
// of the previous one; on the home page the back button goes nowhere. Pages opt in with
// data-kiosk-home (where to go) and data-idle (seconds) on <body>.
(function () {
  var body = document.body;
  var home = body.getAttribute('data-kiosk-home');
  if (!home) return;
  var idle = Math.max(parseInt(body.getAttribute('data-idle') || '60', 10), 20) * 1000;
  var warnFor = 15;
  var message = body.getAttribute('data-idle-message') || '{n}';
  var timer = null, ticker = null, left = 0, box = null;

  function wipe() { window.location.replace(home); }

  function tick() {
    left -= 1;
    if (left <= 0) { wipe(); return; }
    box.querySelector('p').textContent = message.replace('{n}', String(left));
  }

  function warn() {
    if (!box) {
      box = document.createElement('div');
      box.className = 'kiosk-idle';
      box.setAttribute('role', 'alertdialog');
      box.setAttribute('aria-live', 'assertive');
      box.appendChild(document.createElement('p'));
      document.body.appendChild(box);
    }
    left = warnFor + 1;
    box.hidden = false;
    tick();
    ticker = window.setInterval(tick, 1000);
  }

  function reset() {
    window.clearTimeout(timer);
    window.clearInterval(ticker);
    if (box) box.hidden = true;
    timer = window.setTimeout(warn, idle - warnFor * 1000);
  }

  ['pointerdown', 'touchstart', 'keydown', 'input'].forEach(function (e) {
    document.addEventListener(e, reset, { passive: true });
  });
  reset();

  // A page restored from the back-forward cache is a previous person's: wipe it.
  window.addEventListener('pageshow', function (e) { if (e.persisted) wipe(); });
  // On the home page, Back stays home.
  if (window.location.pathname === home) {
    window.history.replaceState(null, '', home);
    window.history.pushState(null, '', home);
    window.addEventListener('popstate', function () { window.history.pushState(null, '', home); });
  }
})();

// Check-in by ID card: the kiosk's reader (its local service, or the simulator the page names
// in data-reader) fills the number and the form goes at once; a card that cannot be read
// leaves the field to be typed.
(function () {
  var btn = document.getElementById('read-card');
  if (!btn) return;
  var status = document.getElementById('read-status');
  btn.addEventListener('click', function () {
    status.textContent = '…';
    fetch(btn.getAttribute('data-reader'), { headers: { Accept: 'application/json' } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (card) {
        var field = btn.form.querySelector('input[name=query]');
        field.value = card.id_number;
        status.textContent = '✓';
        btn.form.submit();
      })
      .catch(function () {
        status.textContent = btn.getAttribute('data-failed') || '';
      });
  });
})();
