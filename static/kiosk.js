// Kiosk privacy (issue 14 §1): after a spell without a touch the kiosk counts down and wipes
// itself back to its home page, replacing the history entry, so the next person finds nothing
// of the previous one; on the home page the back button goes nowhere. Pages opt in with
// data-kiosk-home (where to go) and data-idle (seconds) on <body>. A page that looks again by
// itself (data-refresh, seconds: a payment waiting for the phone) keeps the time of the last
// touch across its reloads, so an abandoned page still wipes. Links and buttons marked
// data-wipe leave the page the same way (their href, else home).
(function () {
  var body = document.body;
  var home = body.getAttribute('data-kiosk-home');
  if (!home) return;
  var idle = Math.max(parseInt(body.getAttribute('data-idle') || '60', 10), 20) * 1000;
  var warnFor = 15;
  var message = body.getAttribute('data-idle-message') || '{n}';
  var timer = null, ticker = null, left = 0, box = null;
  var store = null;
  try { store = window.sessionStorage; } catch (e) { store = null; }
  var here = window.location.pathname + window.location.search;
  var refreshed = !!store && store.getItem('kiosk-refresh') === here;
  var last = Date.now();
  if (store) {
    if (refreshed) last = parseInt(store.getItem('kiosk-last-touch') || '', 10) || last;
    store.removeItem('kiosk-refresh');
    store.setItem('kiosk-last-touch', String(last));
  }

  function wipe(to) {
    if (store) { store.removeItem('kiosk-refresh'); store.removeItem('kiosk-last-touch'); }
    window.location.replace(to || home);
  }

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
    left = Math.min(warnFor, Math.ceil((last + idle - Date.now()) / 1000)) + 1;
    box.hidden = false;
    tick();
    ticker = window.setInterval(tick, 1000);
  }

  function schedule() {
    window.clearTimeout(timer);
    window.clearInterval(ticker);
    if (box) box.hidden = true;
    timer = window.setTimeout(warn, Math.max(last + idle - warnFor * 1000 - Date.now(), 0));
  }

  function reset() {
    last = Date.now();
    if (store) store.setItem('kiosk-last-touch', String(last));
    schedule();
  }

  ['pointerdown', 'touchstart', 'keydown', 'input'].forEach(function (e) {
    document.addEventListener(e, reset, { passive: true });
  });
  schedule();

  var refresh = parseInt(body.getAttribute('data-refresh') || '0', 10);
  if (refresh > 0) {
    window.setTimeout(function again() {
      // Not while the countdown shows: the page is about to go home anyway.
      if (box && !box.hidden) { window.setTimeout(again, 1000); return; }
      if (store) store.setItem('kiosk-refresh', here);
      window.location.replace(window.location.href);
    }, refresh * 1000);
  }

  document.addEventListener('click', function (e) {
    var el = e.target.closest ? e.target.closest('[data-wipe]') : null;
    if (!el) return;
    e.preventDefault();
    wipe(el.getAttribute('href') || home);
  });

  // A page restored from the back-forward cache is a previous person's: wipe it.
  window.addEventListener('pageshow', function (e) { if (e.persisted) wipe(); });
  // On the home page, Back stays home.
  if (window.location.pathname === home) {
    window.history.replaceState(null, '', home);
    window.history.pushState(null, '', home);
    window.addEventListener('popstate', function () { window.history.pushState(null, '', home); });
  }
})();

// The kiosk's keypad (issue 14 §1): ID and phone numbers are typed on big on-screen keys, not
// the system keyboard. Each input marked data-keypad="id" (digits and X, the last character of
// an ID number) or data-keypad="digits" gets inputmode="none" and its own keypad; one keypad
// shows at a time, the one of the field last touched. A page's keypads go into its
// [data-keypad-slot] (else the end of the input's step, else after its label). Without script
// the plain input stays, typed as before.
var kioskKeypad = (function () {
  var body = document.body;
  var inputs = Array.prototype.slice.call(document.querySelectorAll('input[data-keypad]'));
  var pads = [];
  var label = function (name, fallback) { return body.getAttribute(name) || fallback; };

  function slotFor(input) {
    var step = input.closest('form[data-kiosk-steps] > fieldset');
    var scope = step || input.form || document;
    var slot = scope.querySelector('[data-keypad-slot]');
    if (!slot && step) {
      slot = document.createElement('div');
      slot.className = 'kiosk-pad-slot';
      slot.setAttribute('data-keypad-slot', '');
      step.appendChild(slot);
    }
    return slot;
  }

  function build(input) {
    var kind = input.getAttribute('data-keypad') === 'id' ? 'id' : 'digits';
    var max = parseInt(input.getAttribute('maxlength') || '0', 10) || 0;
    input.setAttribute('inputmode', 'none');
    var pad = document.createElement('div');
    pad.className = 'kiosk-keypad';
    pad.id = (input.id || input.name) + '-keypad';
    pad.setAttribute('role', 'group');
    pad.setAttribute('aria-label', label('data-keypad-label', 'Keypad'));
    pad.setAttribute('data-for', input.id || input.name);
    var keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];
    keys = kind === 'id' ? keys.concat(['X', '0', 'del', 'clear']) : keys.concat(['clear', '0', 'del']);
    keys.forEach(function (k) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'kiosk-key';
      b.setAttribute('data-key', k);
      if (k === 'del') { b.textContent = '⌫ ' + label('data-key-delete', 'Delete'); b.className += ' kiosk-key-edit'; }
      else if (k === 'clear') { b.textContent = label('data-key-clear', 'Clear'); b.className += ' kiosk-key-edit'; }
      else b.textContent = k;
      if (k === 'clear' && kind === 'id') b.className += ' kiosk-key-wide';
      pad.appendChild(b);
    });
    function refresh() {
      var x = pad.querySelector('[data-key="X"]');
      // X only ends an 18-digit ID number.
      if (x) x.disabled = input.value.length !== 17;
      var full = max > 0 && input.value.length >= max;
      Array.prototype.forEach.call(pad.querySelectorAll('.kiosk-key:not(.kiosk-key-edit)'), function (b) {
        if (b.getAttribute('data-key') !== 'X') b.disabled = full;
      });
    }
    pad.addEventListener('click', function (e) {
      var b = e.target.closest('button[data-key]');
      if (!b || b.disabled) return;
      var k = b.getAttribute('data-key');
      var v = input.value;
      if (k === 'del') v = v.slice(0, -1);
      else if (k === 'clear') v = '';
      else if (!(max > 0 && v.length >= max)) v = v + k;
      input.value = v;
      input.setCustomValidity('');
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    input.addEventListener('input', refresh);
    refresh();
    var slot = slotFor(input);
    if (slot) slot.appendChild(pad);
    else (input.closest('label') || input).insertAdjacentElement('afterend', pad);
    pads.push({ input: input, pad: pad });
    input.addEventListener('focus', function () { show(input); });
    input.addEventListener('pointerdown', function () { show(input); });
  }

  function show(input) {
    pads.forEach(function (p) {
      p.pad.hidden = p.input !== input;
      p.input.classList.toggle('keypad-target', p.input === input);
    });
  }

  // The keypad of the first keypad field in `scope` (a step, or the page) that is shown.
  function showFirstIn(scope) {
    for (var i = 0; i < pads.length; i++) {
      if ((scope || document).contains(pads[i].input) && !pads[i].input.closest('[hidden]')) {
        show(pads[i].input);
        return;
      }
    }
  }

  inputs.forEach(build);
  showFirstIn(document);
  return { showFirstIn: showFirstIn };
})();

// One question per screen (issue 14 §1): a form marked data-kiosk-steps shows its fieldsets
// one at a time, with 上一步 / 下一步 and a progress bar ("第 2 / 6 步"). A step is checked
// before the next one shows; the last step holds the form's own submit button and a summary
// of what was filled in. Without script the whole form shows and submits as it is.
(function () {
  var form = document.querySelector('form[data-kiosk-steps]');
  if (!form) return;
  var steps = Array.prototype.slice.call(form.children).filter(function (el) {
    return el.tagName === 'FIELDSET';
  });
  if (steps.length < 2) return;
  var body = document.body;
  var current = 0;
  form.noValidate = true;
  form.classList.add('kiosk-stepped');

  var bar = document.createElement('div');
  bar.className = 'kiosk-stepper';
  var count = document.createElement('p');
  count.className = 'kiosk-step-count';
  count.id = 'step-count';
  count.setAttribute('aria-live', 'polite');
  var progress = document.createElement('progress');
  progress.id = 'step-progress';
  progress.max = steps.length;
  bar.appendChild(count);
  bar.appendChild(progress);
  form.insertBefore(bar, steps[0]);

  var nav = document.createElement('div');
  nav.className = 'kiosk-step-nav';
  var prev = document.createElement('button');
  prev.type = 'button';
  prev.id = 'step-prev';
  prev.className = 'kiosk-action';
  prev.textContent = body.getAttribute('data-step-prev') || 'Previous';
  var next = document.createElement('button');
  next.type = 'button';
  next.id = 'step-next';
  next.className = 'kiosk-action primary';
  next.textContent = body.getAttribute('data-step-next') || 'Next';
  nav.appendChild(prev);
  nav.appendChild(next);
  form.appendChild(nav);

  function legend(step) {
    var l = step.querySelector('legend');
    return l ? l.textContent.trim() : '';
  }

  function show(i, scroll) {
    current = i;
    steps.forEach(function (s, j) { s.hidden = j !== i; });
    progress.value = i + 1;
    var of = body.getAttribute('data-step-of') || '{n} / {total}';
    count.textContent = of.replace('{n}', String(i + 1)).replace('{total}', String(steps.length));
    prev.hidden = i === 0;
    next.hidden = i === steps.length - 1;
    form.setAttribute('data-step', String(i + 1));
    if (i === steps.length - 1) summarise();
    kioskKeypad.showFirstIn(steps[i]);
    if (scroll) bar.scrollIntoView({ block: 'start' });
  }

  function fields(step) {
    return Array.prototype.slice.call(step.querySelectorAll('input, select, textarea'));
  }

  // The first field of `step` that does not pass, said by the browser; true when all pass.
  function valid(step) {
    var bad = fields(step).filter(function (f) { return f.willValidate && !f.checkValidity(); })[0];
    if (!bad) return true;
    bad.reportValidity();
    return false;
  }

  function labelText(el) {
    var l = el.closest('label');
    if (!l) return '';
    for (var n = l.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === 3 && n.textContent.trim()) return n.textContent.trim();
    }
    return l.textContent.trim();
  }

  function summarise() {
    var dl = document.getElementById('form-summary');
    if (!dl) return;
    dl.textContent = '';
    function add(k, v) {
      var dt = document.createElement('dt'); dt.textContent = k;
      var dd = document.createElement('dd'); dd.textContent = v;
      dl.appendChild(dt); dl.appendChild(dd);
    }
    steps.slice(0, -1).forEach(function (step) {
      fields(step).forEach(function (f) {
        if (f.type === 'hidden') return;
        var block = f.closest('.doc-block');
        var chosen = block ? block.querySelector('input[type=checkbox]') : null;
        if (f.type === 'checkbox') {
          if (f.checked) add(legend(step), f.closest('label') ? f.closest('label').textContent.trim() : f.name);
        } else if (f.tagName === 'SELECT') {
          if (chosen && chosen.checked && f.value) {
            add(chosen.closest('label').textContent.trim() + ' · ' + labelText(f), f.options[f.selectedIndex].text);
          }
        } else if (f.value.trim() && !(chosen && !chosen.checked)) {
          add(labelText(f), f.value.trim());
        }
      });
    });
    dl.hidden = !dl.firstChild;
  }

  prev.addEventListener('click', function () { if (current > 0) show(current - 1, true); });
  next.addEventListener('click', function () {
    if (valid(steps[current]) && current < steps.length - 1) show(current + 1, true);
  });
  // Enter (a barcode scanner ends with it) goes on a step, not straight to submitting.
  form.addEventListener('keydown', function (e) {
    if (e.key !== 'Enter' || e.target.tagName !== 'INPUT' || current === steps.length - 1) return;
    e.preventDefault();
    next.click();
  });
  // Submitting checks every step and opens the first one with something to correct.
  form.addEventListener('submit', function (e) {
    for (var i = 0; i < steps.length; i++) {
      var bad = fields(steps[i]).filter(function (f) { return f.willValidate && !f.checkValidity(); })[0];
      if (bad) {
        e.preventDefault();
        show(i, true);
        bad.reportValidity();
        return;
      }
    }
  });
  show(0);
})();

// Print buttons (no inline handlers under the content-security policy).
(function () {
  Array.prototype.forEach.call(document.querySelectorAll('[data-print]'), function (b) {
    b.addEventListener('click', function () { window.print(); });
  });
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

// Self-service endorsement: once the payment is in, the kiosk writes the card by itself.
(function () {
  var form = document.getElementById('endorse-finish');
  if (form && form.getAttribute('data-auto-submit') === '1') form.submit();
})();

// Spoken prompts (issue 14 §1): the page names its prompt in data-voice; the server answers
// with the clip when this kiosk has spoken prompts on, 204 when not. A browser that blocks
// sound until the first touch plays it on that touch (kiosk browsers run with autoplay on).
(function () {
  var body = document.body;
  var prompt = body.getAttribute('data-voice');
  if (!prompt || !window.fetch || !window.Audio) return;
  var lang = body.getAttribute('data-voice-lang') || 'zh';
  fetch('/kiosk/voice/' + lang + '/' + prompt + '.wav', { credentials: 'same-origin' })
    .then(function (r) { return r.status === 200 ? r.blob() : null; })
    .then(function (blob) {
      if (!blob) return;
      var audio = new Audio(URL.createObjectURL(blob));
      body.setAttribute('data-voice-ready', '1');
      audio.play().catch(function () {
        document.addEventListener('pointerdown', function once() {
          document.removeEventListener('pointerdown', once);
          audio.play().catch(function () {});
        });
      });
    })
    .catch(function () {});
})();
