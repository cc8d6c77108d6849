/* hall-display boards: one EventSource on /events gives the whole view
 * ("view", on connect and after every change) and the announcements
 * ("announce", to speak). Anything not live is hidden behind
 * "Reconnecting…": a lost connection, a silent server, or a display that is
 * resynchronising with its hall. */
(function () {
  'use strict';
  var WATCHDOG_MS = 12000;   /* the server pings every 5 s */
  var UNSYNCED_GRACE_MS = 1000;
  var es = null, lastMessage = 0, view = null, unsyncedSince = 0, connected = false;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function both(zh, en) {
    var f = document.createDocumentFragment();
    f.appendChild(el('span', 'zh', zh));
    if (en) { f.appendChild(document.createTextNode(' ')); f.appendChild(el('span', 'en', en)); }
    return f;
  }

  function updateStale() {
    var now = Date.now();
    var unsynced = view && !view.synced;
    if (unsynced && !unsyncedSince) unsyncedSince = now;
    if (!unsynced) unsyncedSince = 0;
    var stale = !connected || !view || (unsynced && now - unsyncedSince >= UNSYNCED_GRACE_MS);
    document.body.classList.toggle('stale', stale);
    document.body.dataset.seq = view ? view.seq : '';
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function tickClock() {
    var d = new Date();
    var days = ['日', '一', '二', '三', '四', '五', '六'];
    var daysEn = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    if ($('date')) {
      var lang = view ? view.language : 'both';
      var zh = d.getFullYear() + '年' + (d.getMonth() + 1) + '月' + d.getDate() + '日 星期' + days[d.getDay()];
      var en = daysEn[d.getDay()] + ' ' + d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
      $('date').textContent = lang === 'en' ? en : lang === 'zh' ? zh : zh + '  ' + en;
    }
    if ($('time')) $('time').textContent = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
    if (connected && Date.now() - lastMessage > WATCHDOG_MS) reconnect();
    updateStale();
  }

  function minutes(s) {
    var m = Math.ceil(s / 60);
    return { zh: m + ' 分钟', en: m + ' min' };
  }

  function setLang(v) {
    document.body.classList.remove('lang-zh', 'lang-en', 'lang-both');
    document.body.classList.add('lang-' + (v.language || 'both'));
  }

  function renderBoard(v) {
    $('hall-name').textContent = v.language === 'en' ? v.hall.name_en : v.hall.name;
    $('hall-name-en').textContent = v.language === 'both' && v.hall.name_en !== v.hall.name ? v.hall.name_en : '';
    var calls = $('calls');
    calls.textContent = '';
    v.calls.forEach(function (c, i) {
      var li = el('li', i === 0 ? 'newest' : '');
      li.dataset.number = c.number;
      var num = el('span', 'num', c.number);
      if (c.green) num.appendChild(el('span', 'green-mark', v.language === 'en' ? 'Priority' : '绿色通道'));
      li.appendChild(num);
      var to = el('span', 'to');
      to.appendChild(both(c.window + ' 号窗口', v.language === 'zh' ? '' : 'Window ' + c.window));
      li.appendChild(to);
      calls.appendChild(li);
    });
    var ws = $('windows');
    ws.textContent = '';
    v.windows.forEach(function (w) {
      var d = el('div', 'win ' + w.state);
      d.dataset.window = w.number;
      var n = el('div', 'n');
      n.appendChild(both(w.number + ' 号窗口', v.language === 'zh' ? '' : 'Window ' + w.number));
      d.appendChild(n);
      var t = el('div', 't');
      if (w.state === 'paused') t.appendChild(both('暂停服务', 'Paused'));
      else if (w.state === 'closed') t.appendChild(both('未开放', 'Closed'));
      else {
        t.textContent = w.serving || '—';
        if (w.serving && w.serving_green) t.appendChild(el('span', 'green-mark', v.language === 'en' ? 'Priority' : '绿色通道'));
      }
      d.appendChild(t);
      ws.appendChild(d);
    });
    var tb = document.querySelector('#services tbody');
    tb.textContent = '';
    v.services.forEach(function (s) {
      var tr = el('tr');
      tr.dataset.service = s.prefix;
      var name = el('td');
      name.appendChild(both(s.prefix + '  ' + s.name, v.language === 'zh' ? '' : s.name_en));
      tr.appendChild(name);
      var w = el('td', 'num', String(s.waiting));
      if (s.waiting_green) w.appendChild(el('span', 'green-mark', '+' + s.waiting_green + (v.language === 'en' ? ' priority' : ' 绿色')));
      tr.appendChild(w);
      var m = minutes(s.estimated_wait_s);
      var e = el('td', 'num');
      e.appendChild(both(m.zh, v.language === 'zh' ? '' : m.en));
      tr.appendChild(e);
      tb.appendChild(tr);
    });
  }

  var windowNumber = 0;
  function renderWindow(v) {
    $('hall-name').textContent = v.language === 'en' ? v.hall.name_en : v.hall.name;
    $('wnum').textContent = windowNumber;
    $('wnum-en').textContent = 'Window ' + windowNumber;
    var w = null;
    v.windows.forEach(function (x) { if (x.number === windowNumber) w = x; });
    var serving = $('serving'), note = $('note'), staff = $('staff');
    serving.textContent = ''; note.textContent = ''; staff.textContent = '';
    if (!w) { note.appendChild(both('无此窗口', 'No such window')); return; }
    if (w.staff) staff.appendChild(both('工作人员：' + w.staff, v.language === 'zh' ? '' : 'Staff: ' + w.staff));
    if (w.state === 'paused') {
      note.appendChild(both('暂停服务' + (w.pause_reason ? ' — ' + w.pause_reason : ''),
                            'Paused' + (w.pause_reason ? ' — ' + w.pause_reason : '')));
    } else if (w.state === 'closed') {
      note.appendChild(both('本窗口暂停办理', 'Window closed'));
    } else {
      serving.textContent = w.serving || '—';
      if (w.serving && w.serving_green) note.appendChild(both('绿色通道', 'Priority'));
      else if (!w.serving) note.appendChild(both('请稍候', 'Please wait'));
    }
  }

  /* ── voice: one utterance after another, none cut off ── */
  var speech = [], speaking = false, voiceOn = false;
  function speakNext() {
    if (speaking || !speech.length || !window.speechSynthesis) return;
    var item = speech.shift();
    var u = new SpeechSynthesisUtterance(item.text);
    u.lang = item.lang;
    u.rate = 0.9;
    speaking = true;
    var done = function () { speaking = false; setTimeout(speakNext, 400); };
    u.onend = done; u.onerror = done;
    window.speechSynthesis.speak(u);
  }
  function announce(a) {
    var log = window.hallAnnouncements = window.hallAnnouncements || [];
    log.push(a);
    if (!voiceOn) return;
    var lang = view ? view.language : 'both';
    if (lang !== 'en') speech.push({ text: a.zh, lang: 'zh-CN' });
    if (lang !== 'zh') speech.push({ text: a.en, lang: 'en-US' });
    speakNext();
  }
  function setupVoice() {
    var b = $('voice');
    if (!b) return;
    if (!window.speechSynthesis) { b.style.display = 'none'; return; }
    b.addEventListener('click', function () { voiceOn = true; b.classList.add('on'); });
    if (/[?&]voice=1/.test(location.search)) { voiceOn = true; b.classList.add('on'); }
  }

  /* ── the stream ── */
  function connect(render) {
    es = new EventSource('/events');
    es.addEventListener('open', function () { lastMessage = Date.now(); });
    es.addEventListener('view', function (e) {
      view = JSON.parse(e.data);
      lastMessage = Date.now(); connected = true;
      setLang(view); render(view); updateStale();
    });
    es.addEventListener('announce', function (e) { lastMessage = Date.now(); announce(JSON.parse(e.data)); });
    es.addEventListener('ping', function () { lastMessage = Date.now(); connected = true; updateStale(); });
    es.onerror = function () {
      connected = false; updateStale();
      if (es.readyState === EventSource.CLOSED) setTimeout(function () { reconnect(); }, 2000);
    };
    connect.render = render;
  }
  function reconnect() {
    if (es) es.close();
    connected = false; updateStale();
    connect(connect.render);
  }

  window.HallBoard = {
    board: function () { setupVoice(); tickClock(); setInterval(tickClock, 1000); connect(renderBoard); },
    window: function () {
      var m = /\/window\/(\d+)/.exec(location.pathname);
      windowNumber = m ? parseInt(m[1], 10) : 0;
      tickClock(); setInterval(tickClock, 1000); connect(renderWindow);
    }
  };

  /* The page says what it is by its body's class: no inline script, which
     the server's Content-Security-Policy (default-src 'self') refuses. */
  function start() {
    var cl = document.body.classList;
    if (cl.contains('board')) window.HallBoard.board();
    else if (cl.contains('window-screen')) window.HallBoard.window();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
