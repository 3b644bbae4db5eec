/* The portal's only script: the countdown, the registration form, tracking, the poster's print
   button. No framework (a cheap phone on 3G), ES2015 with promises so that the older Android
   browsers of 2021 run it. The JSON API decides everything; this file only talks to it and
   shows its Vietnamese answers. Nothing a person typed is ever written back into a message. */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  // "1.000": the Vietnamese thousands separator.
  function thousands(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '.'); }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  // Same as portal.countdown_text: "12 ngày 03:04:05", or "03:04:05" on the last day.
  function countdownText(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var days = Math.floor(s / 86400);
    var rest = s % 86400;
    var clock = pad(Math.floor(rest / 3600)) + ':' + pad(Math.floor(rest % 3600 / 60)) + ':' + pad(rest % 60);
    return days ? days + ' ngày ' + clock : clock;
  }

  // The server's times are already Vietnamese local time ("…T14:05:09.123456+07:00"): shown as written.
  function formatTime(iso) {
    var m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(iso || '');
    return m ? m[4] + ':' + m[5] + ' ngày ' + m[3] + '/' + m[2] + '/' + m[1] : '';
  }

  function parseIso(iso) { return Date.parse(String(iso).replace(/(\.\d{3})\d+/, '$1')); }

  // The description's length as the server counts it (validation._text): NFC, line ends
  // trimmed, whole text trimmed, in code points. Decomposed Vietnamese (some phone keyboards
  // send "e" + U+0302 + U+0301 for "ế") counts one character per letter, as on the server.
  function textLength(s) {
    if (s.normalize) s = s.normalize('NFC');
    s = s.replace(/\r\n?/g, '\n').split('\n').map(function (l) { return l.replace(/\s+$/, ''); }).join('\n').trim();
    return Array.from ? Array.from(s).length : s.length;
  }

  // A key per distinct form body: pressing "Gửi" again after a timeout or a 503 resends the very
  // same bytes with the same key, so the server answers with the first tracking code instead
  // of queueing the initiative twice.
  function newKey() {
    var c = window.crypto;
    if (c && c.randomUUID) return c.randomUUID();
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    return Array.prototype.map.call(b, function (x) { return (x < 16 ? '0' : '') + x.toString(16); }).join('');
  }

  // fetch with a time limit; resolves to {status, body, retryAfter} whatever the status.
  function request(url, opts) {
    opts = opts || {};
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, opts.timeout || 30000) : null;
    var init = { method: opts.method || 'GET', headers: opts.headers || {}, credentials: 'same-origin', cache: 'no-store' };
    if (opts.body) init.body = opts.body;
    if (ctrl) init.signal = ctrl.signal;
    return fetch(url, init).then(function (r) {
      return r.text().then(function (t) {
        clearTimeout(timer);
        var body = null;
        try { body = t ? JSON.parse(t) : null; } catch (e) { body = null; }
        return { status: r.status, body: body || {}, retryAfter: r.headers.get('Retry-After') };
      });
    }, function (err) { clearTimeout(timer); throw err; });
  }

  var OFFLINE = 'Không kết nối được với máy chủ. Hãy kiểm tra mạng rồi thử lại.';
  var BUSY = 'Hệ thống đang bận, vui lòng thử lại sau ít phút.';

  // "…, vui lòng thử lại sau" / "…, vui lòng gửi lại sau ít phút" + Retry-After → "…, vui lòng thử lại sau 42 giây."
  function retryText(message, seconds) {
    var m = (message || 'Hệ thống đang bận').replace(/[.\s]+$/, '');
    var tail = /,?\s*(vui lòng )?(thử|gửi) lại sau( ít phút)?$/i;
    var wait = 'vui lòng thử lại sau ' + seconds + ' giây.';
    return tail.test(m) ? m.replace(tail, ', ' + wait) : m + '. Vui lòng thử lại sau ' + seconds + ' giây.';
  }

  // --- the server's clock -------------------------------------------------------------------

  var clockOffset = 0; // server time − this phone's time, in ms (a phone's clock may be wrong by hours)
  function serverNow() { return Date.now() + clockOffset; }

  function initCountdown() {
    var el = $('dem-nguoc');
    if (!el) return;
    clockOffset = Number(el.getAttribute('data-server-now')) - Date.now();
    var target = Number(el.getAttribute('data-target'));
    var mode = el.getAttribute('data-mode');
    var label = el.querySelector('.countdown-label');
    var value = el.querySelector('.countdown-value');
    function tick() {
      var left = target - serverNow();
      if (left <= 0) {
        if (mode === 'upcoming') {
          // The portal has just opened: load the form. Spread over three seconds so that every
          // phone waiting on the opening does not ask at the same instant.
          setTimeout(function () { location.reload(); }, 1500 + Math.random() * 3000);
          return;
        }
        label.textContent = 'Đã hết thời gian tiếp nhận sáng kiến';
        value.textContent = '';
        el.classList.add('ended');
        return;
      }
      value.textContent = countdownText(left / 1000);
      setTimeout(tick, 1000 - (left % 1000) + 10);
    }
    tick();
    // The page may have taken seconds to arrive: ask again, and take the middle of the round trip.
    var t0 = Date.now();
    request('/api/v1/campaign', { timeout: 10000 }).then(function (res) {
      var t = parseIso(res.body.server_time);
      if (res.status === 200 && !isNaN(t)) clockOffset = t - (t0 + Date.now()) / 2;
    }, function () { /* keep the page's own estimate */ });
  }

  // --- errors next to the fields ------------------------------------------------------------

  function errorsFor(form) {
    var prefix = form.getAttribute('data-prefix') || 'f-';
    function input(name) { return $(prefix + name) || form.querySelector('[name="' + name + '"]'); }
    function set(name, message) {
      var e = $('e-' + (prefix === 'f-' ? '' : prefix) + name);
      if (!e) return false;
      e.textContent = message || '';
      var field = e.closest ? e.closest('.field') : null;
      if (field) {
        if (message) field.setAttribute('data-invalid', ''); else field.removeAttribute('data-invalid');
      }
      each(form.querySelectorAll('[name="' + name + '"]'), function (i) {
        if (i.type === 'radio') return;
        if (message) i.setAttribute('aria-invalid', 'true'); else i.removeAttribute('aria-invalid');
      });
      return true;
    }
    function clear() {
      each(form.querySelectorAll('.error'), function (e) { e.textContent = ''; });
      each(form.querySelectorAll('[aria-invalid]'), function (i) { i.removeAttribute('aria-invalid'); });
      each(form.querySelectorAll('[data-invalid]'), function (f) { f.removeAttribute('data-invalid'); });
    }
    return { set: set, clear: clear, input: input };
  }

  function setStatus(el, text, bad) {
    el.textContent = text || '';
    el.classList.toggle('bad', !!bad);
  }

  // --- the registration form ----------------------------------------------------------------

  var REQUIRED = ['full_name', 'id_number', 'phone', 'unit', 'subunit', 'group', 'field', 'title', 'description'];
  var OPTIONAL = ['birth_year', 'position', 'workplace', 'email', 'applied_from', 'benefit', 'awards'];
  var CONSENT = 'Cần đồng ý cho phép sử dụng thông tin cá nhân để xét chọn sáng kiến';

  function initSubmit() {
    var form = document.querySelector('form[data-submit]');
    if (!form) return;
    var errors = errorsFor(form);
    var unitSel = $('f-unit');
    var subSel = $('f-subunit');
    var desc = $('f-description');
    var counter = $('c-description');
    var button = $('nut-gui');
    var status = $('trang-thai');
    var summary = $('tom-tat-loi');
    var details = $('thong-tin-them');
    var section = $('dang-ky');
    var confirm = $('xac-nhan');
    var labels = JSON.parse(subSel.getAttribute('data-labels'));
    var statusLabels = JSON.parse(confirm.getAttribute('data-status-labels'));
    var max = Number(desc.getAttribute('data-max'));
    var maxText = thousands(max);
    var units = {}; // code → the API's answer, so that switching back costs nothing
    var sent = null; // {body, key}: the last body sent and its Idempotency-Key
    var busy = false;
    var over = false;
    var waitUntil = 0;

    function updateButton() { button.disabled = busy || over || Date.now() < waitUntil; }

    // The live counter ("125/1.000 ký tự"); above the limit it turns red and submitting stops.
    function updateCounter() {
      var n = textLength(desc.value);
      over = n > max;
      counter.textContent = thousands(n) + '/' + maxText + ' ký tự' + (over ? ' — vượt quá ' + thousands(n - max) + ' ký tự' : '');
      counter.classList.toggle('over', over);
      if (over) desc.setAttribute('aria-invalid', 'true');
      else if (!$('e-description').textContent) desc.removeAttribute('aria-invalid');
      // Say why the button does not answer.
      $('ly-do-khoa').textContent = over ? 'Mô tả đang dài quá ' + maxText + ' ký tự: hãy rút gọn để gửi.' : '';
      updateButton();
    }
    desc.addEventListener('input', updateCounter);

    // --- "Đơn vị trực thuộc" follows "Đơn vị" ---

    function option(value, text, selected) {
      var o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      if (selected) o.selected = true;
      return o;
    }

    function placeholder(text) {
      subSel.textContent = '';
      subSel.appendChild(option('', text));
    }

    // The same groups as portal.subunit_groups renders for a QR code's preselected unit.
    function fillSubunits(d, want) {
      placeholder('— Chọn đơn vị trực thuộc —');
      var groups = labels.kinds.map(function (k) { return { kind: k[0], label: k[1], items: [] }; });
      var other = { label: labels.other, items: [] };
      d.children.forEach(function (u) {
        var g = groups.filter(function (x) { return x.kind === u.kind; })[0] || other;
        g.items.push(u);
      });
      groups.push(other, { label: labels.direct, items: [{ code: d.code, name: labels.prefix + d.name }] });
      groups.forEach(function (g) {
        if (!g.items.length) return;
        var og = document.createElement('optgroup');
        og.label = g.label;
        g.items.forEach(function (u) { og.appendChild(option(u.code, u.name, u.code === want)); });
        subSel.appendChild(og);
      });
      if (!d.children.length) subSel.value = d.code; // nothing to choose: the union itself
      subSel.disabled = false;
      subSel.setAttribute('data-for', d.code);
    }

    function loadSubunits(code, want, attempt) {
      errors.set('subunit', '');
      subSel.setAttribute('data-for', '');
      if (!code) {
        placeholder('— Chọn đơn vị trước —');
        subSel.disabled = true;
        return;
      }
      if (units[code]) { fillSubunits(units[code], want); return; }
      placeholder('Đang tải danh sách…');
      subSel.disabled = true;
      request('/api/v1/units/' + encodeURIComponent(code), { timeout: 15000 }).then(function (res) {
        if (res.status !== 200 || !res.body.children) throw new Error(String(res.status));
        units[code] = res.body;
        if (unitSel.value === code) fillSubunits(res.body, want);
      }).catch(function () {
        if (unitSel.value !== code) return; // the person has chosen another unit meanwhile
        attempt = (attempt || 0) + 1;
        if (attempt < 3) {
          setTimeout(function () { if (unitSel.value === code) loadSubunits(code, want, attempt); }, 1500 * attempt);
          return;
        }
        placeholder('— Chưa tải được, bấm vào đây để tải lại —');
        subSel.disabled = false;
        errors.set('subunit', 'Chưa tải được danh sách đơn vị trực thuộc. Hãy kiểm tra mạng rồi bấm vào ô này để tải lại.');
      });
    }

    unitSel.addEventListener('change', function () { loadSubunits(unitSel.value, ''); });
    subSel.addEventListener('focus', function () {
      if (unitSel.value && subSel.getAttribute('data-for') !== unitSel.value) loadSubunits(unitSel.value, '');
    });
    // A reload or "back" may restore the unit without the subunits that belong to it.
    if (unitSel.value && subSel.getAttribute('data-for') !== unitSel.value) loadSubunits(unitSel.value, '');

    // --- reading, checking, sending ---

    function labelOf(name) {
      var el = form.querySelector('[name="' + name + '"][data-label]');
      return el ? el.getAttribute('data-label') : name;
    }

    function collect() {
      var f = form.elements;
      var body = {};
      ['full_name', 'id_number', 'phone', 'unit', 'subunit', 'field', 'title', 'description'].forEach(function (n) {
        body[n] = f[n].value;
      });
      var g = form.querySelector('input[name="group"]:checked');
      body.group = g ? g.value : '';
      body.consent = f.consent.checked;
      OPTIONAL.forEach(function (n) {
        var v = f[n].value.trim();
        if (v) body[n] = n === 'birth_year' && /^\d{4}$/.test(v) ? Number(v) : v;
      });
      return body;
    }

    // Only what needs no rule of the server's: empty required fields, the length, the consent.
    // The messages are the server's own; everything else is the server's to say.
    function precheck(body) {
      var errs = [];
      REQUIRED.forEach(function (n) {
        if (!String(body[n]).trim()) errs.push({ field: n, message: labelOf(n) + ' không được để trống' });
      });
      var n = textLength(body.description);
      if (n > max) errs.push({ field: 'description', message: 'Mô tả dài tối đa ' + maxText + ' ký tự (hiện có ' + thousands(n) + ')' });
      if (!body.consent) errs.push({ field: 'consent', message: CONSENT });
      return errs;
    }

    function focusField(name) {
      var el = name === 'group' ? form.querySelector('input[name="group"]') : errors.input(name);
      if (!el) return;
      if (details.contains(el)) details.open = true;
      el.focus();
      if (el.scrollIntoView) el.scrollIntoView({ block: 'center' });
    }

    function showErrors(list) {
      summary.textContent = '';
      var head = document.createElement('p');
      head.textContent = list.length === 1 ? 'Vui lòng sửa mục sau:' : 'Vui lòng sửa ' + list.length + ' mục sau:';
      var ul = document.createElement('ul');
      list.forEach(function (e) {
        var li = document.createElement('li');
        if (errors.set(e.field, e.message)) {
          var el = errors.input(e.field);
          if (el && details.contains(el)) details.open = true;
          var a = document.createElement('a');
          a.href = '#' + (e.field === 'group' ? 'dk-title' : 'f-' + e.field);
          a.textContent = e.message;
          a.addEventListener('click', function (ev) { ev.preventDefault(); focusField(e.field); });
          li.appendChild(a);
        } else {
          li.textContent = e.message;
        }
        ul.appendChild(li);
      });
      summary.appendChild(head);
      summary.appendChild(ul);
      summary.hidden = false;
      summary.focus();
      if (summary.scrollIntoView) summary.scrollIntoView({ block: 'start' });
    }

    function clearAll() {
      errors.clear();
      summary.hidden = true;
      summary.textContent = '';
      setStatus(status, '');
    }

    function waitThenRetry(message, retryAfter, field) {
      var seconds = Math.max(1, parseInt(retryAfter, 10) || 5);
      waitUntil = Date.now() + seconds * 1000;
      if (field) errors.set(field, message);
      (function tick() {
        var left = Math.ceil((waitUntil - Date.now()) / 1000);
        if (left > 0) {
          setStatus(status, retryText(message, left), true);
          setTimeout(tick, 1000);
        } else {
          setStatus(status, 'Bạn có thể bấm “Gửi sáng kiến” để gửi lại; sáng kiến sẽ không bị gửi trùng.', false);
        }
        updateButton();
      })();
      updateButton();
    }

    function confirmed(d, body) {
      $('xn-ma').textContent = d.tracking_code;
      $('xn-ten').textContent = body.title.trim();
      $('xn-luc').textContent = formatTime(d.submitted_at);
      $('xn-tinh-trang').textContent = statusLabels[d.status] || '';
      $('xn-theo-doi').setAttribute('href', d.track_url);
      $('xn-da-chep').textContent = '';
      section.hidden = true;
      confirm.hidden = false;
      confirm.focus();
      window.scrollTo(0, confirm.getBoundingClientRect().top + window.pageYOffset - 8);
    }

    function answer(res, body) {
      var b = res.body;
      if (res.status === 202 && b.tracking_code) {
        sent = null;
        setStatus(status, '');
        confirmed(b, body);
      } else if (res.status === 422) {
        setStatus(status, '');
        showErrors(b.errors && b.errors.length ? b.errors : [{ field: b.field || 'body', message: b.message || 'Dữ liệu không hợp lệ' }]);
      } else if (res.status === 429 || res.status === 503) {
        waitThenRetry(b.message || BUSY, res.retryAfter, b.field);
      } else if (res.status === 409) {
        sent = null; // that key was spent on other content: the next press draws a new one
        setStatus(status, (b.message || 'Xung đột khi gửi') + '. Vui lòng bấm “Gửi sáng kiến” lại.', true);
      } else {
        setStatus(status, b.message || BUSY, true);
      }
    }

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (busy) return;
      clearAll();
      var body = collect();
      var errs = precheck(body);
      if (errs.length) { showErrors(errs); return; }
      var json = JSON.stringify(body);
      if (!sent || sent.body !== json) sent = { body: json, key: newKey() };
      var s = sent;
      busy = true;
      updateButton();
      setStatus(status, 'Đang gửi sáng kiến…');
      request('/api/v1/submissions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': s.key },
        body: s.body,
        timeout: 30000
      }).then(function (res) {
        busy = false;
        answer(res, body);
        updateButton();
      }, function () {
        busy = false;
        setStatus(status, OFFLINE + ' Bấm “Gửi sáng kiến” lại: sáng kiến sẽ không bị gửi trùng.', true);
        updateButton();
      });
    });

    // --- the confirmation ---

    function copied(ok) {
      $('xn-da-chep').textContent = ok ? 'Đã sao chép mã' : 'Chưa sao chép được, hãy ghi lại mã';
      if (!ok && window.getSelection) {
        var r = document.createRange();
        r.selectNodeContents($('xn-ma'));
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(r);
      }
    }

    function copyFallback(text) {
      var ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.style.position = 'fixed';
      ta.style.top = '-100px';
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      return ok;
    }

    $('xn-sao-chep').addEventListener('click', function () {
      var code = $('xn-ma').textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(code).then(function () { copied(true); }, function () { copied(copyFallback(code)); });
      } else {
        copied(copyFallback(code));
      }
    });

    // Another initiative by the same person: keep who and where, clear the initiative itself.
    $('xn-gui-tiep').addEventListener('click', function () {
      ['title', 'description', 'field'].concat(OPTIONAL).forEach(function (n) { form.elements[n].value = ''; });
      each(form.querySelectorAll('input[name="group"]'), function (r) { r.checked = false; });
      form.elements.consent.checked = false;
      clearAll();
      updateCounter();
      confirm.hidden = true;
      section.hidden = false;
      $('f-title').focus();
    });

    updateCounter();
  }

  // --- tracking -------------------------------------------------------------------------------

  function initTrack() {
    var form = document.querySelector('form[data-track]');
    if (!form) return;
    form.setAttribute('data-prefix', 't-');
    var errors = errorsFor(form);
    var code = $('t-code');
    var phone = $('t-phone');
    var status = $('t-status');
    var result = $('ket-qua');
    var button = form.querySelector('button[type="submit"]');
    var busy = false;

    function show(d) {
      var badge = $('kq-status');
      badge.textContent = d.status_label;
      badge.className = 'status-badge ' + (d.status === 'received' ? 'received' : '');
      $('kq-code').textContent = d.tracking_code;
      $('kq-title-text').textContent = d.title || '';
      $('kq-unit').textContent = d.unit_name || '';
      $('kq-subunit').textContent = d.subunit_name || '';
      $('kq-time').textContent = formatTime(d.submitted_at);
      result.hidden = false;
      result.focus();
    }

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (busy) return;
      errors.clear();
      setStatus(status, '');
      result.hidden = true;
      // Only what a tracking code can hold: a stray "/" would change the address asked.
      var c = code.value.replace(/[^0-9A-Za-z -]/g, '').trim();
      var missing = [];
      if (!c) missing.push(['code', 'Mã theo dõi không được để trống']);
      if (!phone.value.trim()) missing.push(['phone', 'Số điện thoại không được để trống']);
      if (missing.length) {
        missing.forEach(function (m) { errors.set(m[0], m[1]); });
        $('t-' + missing[0][0]).focus();
        return;
      }
      busy = true;
      button.disabled = true;
      setStatus(status, 'Đang tra cứu…');
      // The phone goes in a header, not the URL: proxies and ingresses log URLs.
      request('/api/v1/submissions/' + encodeURIComponent(c), { timeout: 20000, headers: { 'X-Phone': phone.value.trim() } })
        .then(function (res) {
          var b = res.body;
          setStatus(status, '');
          if (res.status === 200 && b.status_label) {
            show(b);
          } else if (res.status === 422 && b.errors) {
            b.errors.forEach(function (e) {
              if (!errors.set(e.field, e.message)) setStatus(status, e.message, true);
            });
          } else if (res.status === 404) {
            setStatus(status, b.message || 'Không tìm thấy sáng kiến với mã theo dõi và số điện thoại này', true);
          } else if (res.status === 429 || res.status === 503) {
            setStatus(status, retryText(b.message || BUSY, Math.max(1, parseInt(res.retryAfter, 10) || 5)), true);
          } else {
            setStatus(status, b.message || BUSY, true);
          }
        }, function () { setStatus(status, OFFLINE, true); })
        .then(function () { busy = false; button.disabled = false; });
    });

    // Arriving from the confirmation with ?ma=: the phone is what is left to type.
    if (code.value && !phone.value && location.search.indexOf('ma=') >= 0) phone.focus();
  }

  // --- the poster -------------------------------------------------------------------------------

  function initPoster() {
    each(document.querySelectorAll('[data-print]'), function (b) {
      b.addEventListener('click', function () { window.print(); });
    });
  }

  function init() {
    initCountdown();
    initSubmit();
    initTrack();
    initPoster();
    // Buttons that need this script are disabled in the HTML: without it a form would send the
    // ID number and phone to the page's own address.
    each(document.querySelectorAll('[data-enable]'), function (b) {
      if (b.id !== 'nut-gui') b.disabled = false;
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
