// The page httpd serves at GET /: a live view of the log stream at /logs, read as Server-Sent Events.
// One self-contained HTML document (inline CSS and JavaScript, nothing fetched but the stream), so it
// works offline and behind any proxy. Log lines are untrusted: they only ever reach the DOM as text
// nodes, never as markup. The JavaScript is written without backslashes, so the Swift literal below
// is the page byte for byte.
public enum Page {
    public static let html: String = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light">
<title>logspout</title>
<link rel="icon" href="data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><rect width='16' height='16' rx='4' fill='%23161b22'/><path d='M4 5h8M4 8h5M4 11h7' stroke='%237aa2f7' stroke-width='1.8' stroke-linecap='round'/></svg>">
<style>
:root{color-scheme:dark;--bg:#0e1116;--bar:#161b22;--pop:#1b212b;--bd:#2a313c;--fg:#d4dae3;--mut:#8b949e;--dim:#5f6976;--hov:#ffffff09;--btn:#ffffff0d;--acc:#7aa2f7;--accbg:#7aa2f722;--err:#f7768e;--errbg:#f7768e0c;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--inp:#0d1117;--nl:72%;
--c0:#7aa2f7;--c1:#9ece6a;--c2:#e0af68;--c3:#bb9af7;--c4:#7dcfff;--c5:#ff9e64;--c6:#ff79c6;--c7:#73daca;--c8:#f7768e;--c9:#c3e88d;--c10:#ffd580;--c11:#a9b1d6;
--a0:#6e7681;--a1:#ff7b72;--a2:#7ee787;--a3:#e3b341;--a4:#79c0ff;--a5:#d2a8ff;--a6:#56d4dd;--a7:#c9d1d9;--a8:#8b949e;--a9:#ffa198;--a10:#aff5b4;--a11:#f8e3a1;--a12:#a5d6ff;--a13:#e2c5ff;--a14:#b3f0ff;--a15:#ffffff}
@media (prefers-color-scheme:light){:root{color-scheme:light;--bg:#ffffff;--bar:#f6f8fa;--pop:#ffffff;--bd:#d0d7de;--fg:#1f2328;--mut:#59636e;--dim:#8c959f;--hov:#0000000a;--btn:#0000000a;--acc:#0969da;--accbg:#0969da18;--err:#cf222e;--errbg:#cf222e0a;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--inp:#ffffff;--nl:38%;
--c0:#0969da;--c1:#1a7f37;--c2:#9a6700;--c3:#8250df;--c4:#0a7ea4;--c5:#bc4c00;--c6:#bf3989;--c7:#1b7c6e;--c8:#cf222e;--c9:#4d7c0f;--c10:#7d5e00;--c11:#57606a;
--a0:#24292f;--a1:#cf222e;--a2:#116329;--a3:#7d4e00;--a4:#0550ae;--a5:#8250df;--a6:#1b7c83;--a7:#6e7781;--a8:#57606a;--a9:#a40e26;--a10:#1a7f37;--a11:#633c01;--a12:#0969da;--a13:#8250df;--a14:#3192aa;--a15:#8c959f}}
*{box-sizing:border-box}
[hidden]{display:none!important}
html,body{height:100%;margin:0}
body{display:flex;flex-direction:column;background:var(--bg);color:var(--fg);font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,Cantarell,"Noto Sans",sans-serif}
#bar{position:relative;z-index:2;display:flex;flex-wrap:wrap;align-items:center;gap:8px;padding:7px 12px;background:var(--bar);border-bottom:1px solid var(--bd)}
.brand{display:flex;align-items:center;gap:8px;margin-right:4px;white-space:nowrap}
.brand b{font-weight:650;font-size:14px;letter-spacing:.2px}
.conn{display:inline-flex;align-items:center;gap:6px;color:var(--mut);font-size:12px;min-width:92px}
.dot{width:8px;height:8px;border-radius:50%;background:var(--dim);flex:none}
.dot.live{background:var(--ok);box-shadow:0 0 0 3px #3fb95026}
.dot.retry{background:var(--warn);animation:pulse 1s ease-in-out infinite alternate}
.dot.down{background:var(--bad)}
@keyframes pulse{to{opacity:.3}}
button,select,input{font:inherit;color:inherit;margin:0}
button,select{height:26px;padding:0 10px;border:1px solid var(--bd);border-radius:6px;background:var(--btn);cursor:pointer;white-space:nowrap}
select{padding:0 6px}
select option{background:var(--pop);color:var(--fg)}
button:hover,select:hover{border-color:var(--dim)}
input{height:26px;border:1px solid var(--bd);border-radius:6px;background:var(--inp);padding:0 8px;outline:none;min-width:0}
input::placeholder{color:var(--dim)}
input:focus,select:focus-visible,button:focus-visible,#log:focus-visible{outline:2px solid var(--acc);outline-offset:-2px}
.tg[aria-pressed=true]{background:var(--accbg);border-color:var(--acc);color:var(--acc)}
.search{position:relative;display:flex;align-items:center}
.search svg{position:absolute;left:8px;color:var(--dim);pointer-events:none}
.search input{width:230px;padding-left:27px;padding-right:24px}
.search input::-webkit-search-cancel-button{display:none}
kbd{position:absolute;right:6px;font-family:inherit;font-size:11px;line-height:15px;padding:0 5px;border:1px solid var(--bd);border-radius:4px;color:var(--dim);pointer-events:none}
.search input:focus~kbd,.search input:not(:placeholder-shown)~kbd{display:none}
.mut{color:var(--mut);font-size:12px;white-space:nowrap}
.srv{display:flex;gap:4px}
.srv input{width:150px}
.seg{display:flex}
.seg button{border-radius:0}
.seg button:first-child{border-radius:6px 0 0 6px}
.seg button:last-child{border-radius:0 6px 6px 0;margin-left:-1px}
.seg .tg[aria-pressed=true]{position:relative}
.sp{flex:1}
#pause[aria-pressed=true]{background:#d2992222;border-color:var(--warn);color:var(--warn)}
.badge{display:inline-block;margin-left:4px;padding:0 6px;border-radius:9px;background:var(--warn);color:var(--bg);font-size:11px;font-weight:650;line-height:16px;font-variant-numeric:tabular-nums}
#cpanel{position:absolute;right:12px;top:calc(100% + 4px);width:300px;max-height:min(480px,70vh);overflow:auto;padding:6px;background:var(--pop);border:1px solid var(--bd);border-radius:8px;box-shadow:0 12px 32px #0000004d}
.ph{display:flex;align-items:center;justify-content:space-between;padding:2px 4px 6px 8px;color:var(--mut);font-size:12px}
.ph button{height:22px;font-size:12px}
#clist{list-style:none;margin:0;padding:0}
#clist li{display:flex;align-items:center;border-radius:6px}
#clist li:hover{background:var(--hov)}
.ci{flex:1;display:flex;align-items:center;gap:8px;min-width:0;height:28px;border:0;background:none;text-align:left}
.ci .nm{color:var(--fg);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.ci small{margin-left:auto;color:var(--dim);font-variant-numeric:tabular-nums}
.ci[aria-pressed=false]{color:var(--dim)}
.ci[aria-pressed=false] .nm{color:var(--dim);text-decoration:line-through}
.ci[aria-pressed=false] .sw{background:none;box-shadow:inset 0 0 0 1.5px currentColor}
.sw{width:10px;height:10px;border-radius:3px;background:currentColor;flex:none}
.only{height:22px;padding:0 7px;font-size:11px;border:0;background:none;color:var(--dim);visibility:hidden}
#clist li:hover .only,.only:focus-visible{visibility:visible}
.only:hover{color:var(--acc)}
#wrap{position:relative;flex:1;min-height:0}
#log{position:absolute;inset:0;overflow-y:auto;overflow-anchor:none;padding:6px 0 14px;font:12.5px/1.55 ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace}
.l{display:flex;padding:0 14px 0 10px;border-left:2px solid transparent;content-visibility:auto;contain-intrinsic-size:auto 19px}
.l:hover{background:var(--hov)}
.l.e{border-left-color:var(--err);background:var(--errbg)}
.t{flex:none;width:12ch;margin-right:1.5ch;color:var(--dim);font-variant-numeric:tabular-nums}
.n{flex:none;width:var(--nw,8ch);margin-right:1.5ch;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.m{flex:1;min-width:0;white-space:pre-wrap;overflow-wrap:anywhere;tab-size:4}
.l.x{align-items:center;gap:10px;margin:3px 0;color:var(--mut);font:italic 11.5px/18px system-ui,sans-serif}
.l.x::before,.l.x::after{content:"";flex:1;border-top:1px dashed var(--bd)}
.l.x.w{color:var(--warn)}
.ab{font-weight:700}.ad{opacity:.65}.ai{font-style:italic}.au{text-decoration:underline}.gx{color:var(--bg)}
#empty{position:absolute;inset:0;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:8px;color:var(--mut);pointer-events:none;text-align:center;padding:20px}
#empty b{font-weight:550;font-size:14px;color:var(--fg)}
#empty code{font:12px ui-monospace,monospace;color:var(--dim)}
#jump{position:absolute;left:50%;bottom:16px;transform:translateX(-50%);height:30px;padding:0 16px;border:0;border-radius:15px;background:var(--acc);color:var(--bg);font-weight:600;box-shadow:0 6px 18px #00000059}
@media (max-width:760px){.search input{width:150px}.srv input{width:110px}.conn{min-width:0}}
</style>
</head>
<body>
<header id="bar">
<div class="brand"><svg width="18" height="18" viewBox="0 0 16 16" aria-hidden="true"><rect width="16" height="16" rx="4" fill="var(--accbg)"/><path d="M4 5h8M4 8h5M4 11h7" stroke="var(--acc)" stroke-width="1.8" stroke-linecap="round"/></svg><b>logspout</b>
<span class="conn" role="status"><i id="dot" class="dot"></i><span id="state">connecting…</span></span></div>
<label class="search"><svg width="13" height="13" viewBox="0 0 16 16" aria-hidden="true"><circle cx="7" cy="7" r="5" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M11 11l3.5 3.5" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg><input id="q" type="search" placeholder="Filter lines" aria-label="Filter shown lines by container name or text (shortcut: /)" autocomplete="off" spellcheck="false"><kbd aria-hidden="true">/</kbd></label>
<span id="qn" class="mut" aria-live="polite"></span>
<div class="srv" role="group" aria-label="Stream from the server">
<select id="scope" aria-label="Containers streamed by the server" title="Which containers the server streams"><option value="">All containers</option><option value="filter">Name contains</option><option value="name">Name is</option><option value="id">ID starts with</option></select>
<input id="sv" aria-label="Server filter value" autocomplete="off" spellcheck="false" hidden>
</div>
<div class="seg" role="group" aria-label="Output streams"><button id="out" class="tg" aria-pressed="true" title="Stream stdout">stdout</button><button id="err" class="tg" aria-pressed="true" title="Stream stderr">stderr</button></div>
<span class="sp"></span>
<button id="cbtn" aria-haspopup="true" aria-expanded="false" aria-controls="cpanel">0 containers</button>
<button id="pause" class="tg" aria-pressed="false" title="Pause or resume (Space)"><span id="pl">Pause</span><span id="pn" class="badge" hidden></span></button>
<button id="clear" title="Clear the lines on screen">Clear</button>
<div id="cpanel" role="group" aria-label="Containers" hidden><div class="ph"><span>Click a name to hide or show its lines</span><button id="call">Show all</button></div><ul id="clist"></ul></div>
</header>
<div id="wrap">
<main id="log" role="log" aria-live="off" aria-label="Log lines" tabindex="0"><div id="lines"></div></main>
<div id="empty"><b id="e1">Waiting for log lines…</b><code id="e2"></code></div>
<button id="jump" hidden></button>
</div>
<noscript><p style="padding:20px">This page needs JavaScript. The raw stream is at <a href="logs">/logs</a>.</p></noscript>
<script>
(() => {
'use strict';
const MAX = 5000, NL = String.fromCharCode(10);
const $ = id => document.getElementById(id);
const log = $('log'), lines = $('lines'), empty = $('empty'), jump = $('jump'), q = $('q'), qn = $('qn');
const scope = $('scope'), sv = $('sv'), bOut = $('out'), bErr = $('err'), bPause = $('pause'), cbtn = $('cbtn'), panel = $('cpanel'), clist = $('clist');
const S = {scope: '', val: '', out: true, err: true};
const conts = new Map();
let es = null, retry = 0, retryT = 0, conn = '', lost = false, started = false;
let queue = [], raf = 0, paused = false, dropped = 0, follow = true, lastTop = 0, fresh = 0;
let rows = 0, shown = 0, filt = '', nw = 4, cleared = false, countsAt = 0;

// Colour classes: .f0-15 ANSI foregrounds, .g0-15 backgrounds, .n0-11 container names (theme variables).
const sheet = document.createElement('style');
let css = '';
for (let k = 0; k < 16; k++) css += '.f' + k + '{color:var(--a' + k + ')}.g' + k + '{background:var(--a' + k + ')}';
for (let k = 0; k < 12; k++) css += '.n' + k + '{color:var(--c' + k + ')}';
sheet.textContent = css;
document.head.appendChild(sheet);

const fmt = n => n.toLocaleString();
const plural = (n, w) => fmt(n) + ' ' + w + (n === 1 ? '' : 's');
const p2 = n => (n < 10 ? '0' : '') + n;
const p3 = n => (n < 10 ? '00' : n < 100 ? '0' : '') + n;

// ---- the stream ----
function path() {
  let p = 'logs';
  if (S.scope && S.val) p += '/' + S.scope + ':' + encodeURIComponent(S.val);
  if (S.out !== S.err) p += '?types=' + (S.out ? 'stdout' : 'stderr');
  return p;
}
function shownPath() { const u = new URL(path(), location.href); return u.pathname + u.search; }
function fromHash() {
  const h = location.hash.slice(1), i = h.indexOf('?');
  const p = i < 0 ? h : h.slice(0, i), t = new URLSearchParams(i < 0 ? '' : h.slice(i + 1)).get('types');
  const m = /^[/]logs[/](filter|name|id):(.+)$/.exec(p);
  if (m) { S.scope = m[1]; try { S.val = decodeURIComponent(m[2]); } catch (e) { S.val = m[2]; } }
  if (t === 'stdout' || t === 'stderr') { S.out = t === 'stdout'; S.err = !S.out; }
}
function setConn(k) {
  conn = k;
  $('dot').className = 'dot ' + k;
  const st = $('state');
  st.textContent = {connecting: 'connecting…', live: 'live', retry: 'reconnecting…', down: 'disconnected'}[k];
  st.parentNode.title = shownPath();
}
function connect() {
  clearTimeout(retryT);
  if (es) es.close();
  const me = es = new EventSource(path());
  setConn('connecting');
  me.onopen = () => {
    if (me !== es) return;
    retry = 0;
    if (lost) add({note: 'Reconnected — lines logged meanwhile are not shown'});
    lost = false;
    setConn('live');
  };
  me.onerror = () => {
    if (me !== es) return;
    if (conn === 'live') lost = true;
    if (me.readyState === 2) {  // closed for good (bad status or type): retry ourselves, backing off
      setConn('down');
      retryT = setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, retry++)));
    } else setConn('retry');
  };
  me.onmessage = ev => {
    if (me !== es) return;
    let r;
    try { r = JSON.parse(ev.data); } catch (e) { return; }
    if (!r || typeof r !== 'object') return;
    if (typeof r.missed === 'number' && r.data === undefined) {
      if (r.missed > 0) add({note: plural(r.missed, 'line') + ' skipped', warn: 1,
        tip: 'The server dropped these lines because this page was reading too slowly'});
      return;
    }
    if (typeof r.data !== 'string') return;
    const ct = r.container && typeof r.container === 'object' ? r.container : {};
    const id = String(r.id || ct.id || '');
    let name = String(r.name || ct.name || id.slice(0, 12) || '?');
    if (name.charAt(0) === '/') name = name.slice(1);
    const c = conts.get(name) || addContainer(name);
    c.n++;
    c.id = id;
    c.image = r.image || ct.image || c.image;
    add({c: c, r: r, err: (r.type || r.source) === 'stderr'});
  };
}
function restart() {
  const h = path() === 'logs' ? '' : '#/' + path();
  history.replaceState(null, '', location.pathname + location.search + h);
  if (started) add({note: 'Now streaming ' + shownPath()});
  started = true;
  lost = false;
  connect();
  paintEmpty();
}

// ---- batching: lines queue up and are drawn once per animation frame ----
function add(x) {
  queue.push(x);
  if (queue.length > 2 * MAX) {  // only the newest MAX can ever be on screen
    const k = queue.length - MAX;
    queue = queue.slice(k);
    if (paused) dropped += k;
  }
  if (!raf) raf = requestAnimationFrame(frame);
}
function frame() {
  raf = 0;
  if (!panel.hidden && performance.now() - countsAt > 300) paintCounts();
  if (paused) { paintPause(); return; }
  if (!queue.length) return;
  let items = queue;
  queue = [];
  if (items.length > MAX) items = items.slice(items.length - MAX);
  trim(rows + items.length - MAX);
  const frag = document.createDocumentFragment();
  let vis = 0;
  for (const x of items) {
    const d = x.note ? noticeRow(x) : lineRow(x);
    if (x.c && !d.hidden) vis++;
    frag.appendChild(d);
  }
  lines.appendChild(frag);
  rows += items.length;
  shown += vis;
  if (follow) toBottom();
  else if (vis) { fresh += vis; jump.textContent = '↓ ' + plural(fresh, 'new line'); jump.hidden = false; }
  cleared = false;
  paintEmpty();
  paintCount();
}
function trim(over) {
  if (over <= 0) return;
  const h0 = follow ? 0 : lines.offsetHeight;
  if (over >= rows) { lines.textContent = ''; shown = 0; rows = 0; }
  else {
    for (let i = 0; i < over; i++) {
      const d = lines.firstChild;
      if (d._x && !d.hidden) shown--;
      d.remove();
    }
    rows -= over;
  }
  if (!follow) { log.scrollTop -= h0 - lines.offsetHeight; lastTop = log.scrollTop; }
}
function toBottom() { log.scrollTop = log.scrollHeight; lastTop = log.scrollTop; }

// ---- rows ----
const tpl = document.createElement('div');
tpl.className = 'l';
for (const k of ['t', 'n', 'm']) { const s = document.createElement('span'); s.className = k; tpl.appendChild(s); }
function parseTime(t) {
  if (typeof t !== 'string' || t.length < 19) return null;
  let j = 19;
  if (t.charAt(19) === '.') { j = 20; while (j < t.length && t.charCodeAt(j) >= 48 && t.charCodeAt(j) <= 57) j++; }
  const ms = Date.parse(t.slice(0, 19) + (j > 20 ? t.slice(19, Math.min(j, 23)) : '') + (t.slice(j) || 'Z'));
  return isNaN(ms) ? null : {ms: ms, frac: j > 20 ? t.slice(20, j) : ''};
}
function lineRow(x) {
  const d = tpl.cloneNode(true), r = x.r;
  x.t = parseTime(r.time) || {ms: Date.now(), frac: ''};
  const dt = new Date(x.t.ms);
  if (x.err) d.className = 'l e';
  d.firstChild.textContent = p2(dt.getHours()) + ':' + p2(dt.getMinutes()) + ':' + p2(dt.getSeconds()) + '.' + p3(dt.getMilliseconds());
  d.children[1].className = 'n ' + x.c.cls;
  d.children[1].textContent = x.c.name;
  d._p = ansi(r.data, d.lastChild);
  d._x = x;
  d.hidden = !passes(d);
  return d;
}
function noticeRow(x) {
  const d = document.createElement('div');
  d.className = x.warn ? 'l x w' : 'l x';
  d.textContent = x.note;
  if (x.tip) d.title = x.tip;
  return d;
}
function passes(d) {
  const x = d._x;
  if (x.c.hidden) return false;
  if (!filt) return true;
  if (d._k === undefined) d._k = (x.c.name + NL + d._p).toLowerCase();
  return d._k.indexOf(filt) >= 0;
}
// Hover tooltips are built on demand: the full timestamp, the container's id and image.
log.addEventListener('mouseover', e => {
  const s = e.target, d = s.parentNode;
  if (s.title || !d || !d._x) return;
  const x = d._x;
  if (s.className === 't') {
    const dt = new Date(x.t.ms), o = -dt.getTimezoneOffset();
    s.title = dt.getFullYear() + '-' + p2(dt.getMonth() + 1) + '-' + p2(dt.getDate()) + ' ' + s.textContent.slice(0, 8) + '.' +
      (x.t.frac || p3(dt.getMilliseconds())) + ' UTC' + (o < 0 ? '−' : '+') + p2(Math.floor(Math.abs(o) / 60)) + ':' + p2(Math.abs(o) % 60) +
      (x.r.time ? NL + x.r.time : '');
  } else if (s.classList.contains('n')) {
    s.title = x.c.name + (x.c.id ? NL + x.c.id.slice(0, 12) : '') + (x.c.image ? NL + x.c.image : '');
  }
});

// ---- ANSI: SGR colours become spans; every other escape and control character is dropped ----
const CUBE = [0, 95, 135, 175, 215, 255];
function c256(n) {
  if (n < 16) return {k: n};
  if (n >= 232) { const v = 8 + (n - 232) * 10; return {s: 'rgb(' + v + ',' + v + ',' + v + ')'}; }
  n -= 16;
  return {s: 'rgb(' + CUBE[Math.floor(n / 36)] + ',' + CUBE[Math.floor(n / 6) % 6] + ',' + CUBE[n % 6] + ')'};
}
function sgr(st, p) {
  const a = p === '' ? [0] : p.split(/[;:]/).map(Number);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v === 0) { st.f = st.g = null; st.b = st.d = st.i = st.u = false; }
    else if (v === 1) st.b = true; else if (v === 2) st.d = true; else if (v === 3) st.i = true; else if (v === 4) st.u = true;
    else if (v === 22) st.b = st.d = false; else if (v === 23) st.i = false; else if (v === 24) st.u = false;
    else if (v >= 30 && v <= 37) st.f = {k: v - 30}; else if (v >= 90 && v <= 97) st.f = {k: v - 82}; else if (v === 39) st.f = null;
    else if (v >= 40 && v <= 47) st.g = {k: v - 40}; else if (v >= 100 && v <= 107) st.g = {k: v - 92}; else if (v === 49) st.g = null;
    else if (v === 38 || v === 48) {
      let c = null;
      if (a[i + 1] === 5) { c = c256(a[i + 2] & 255); i += 2; }
      else if (a[i + 1] === 2) { c = {s: 'rgb(' + (a[i + 2] & 255) + ',' + (a[i + 3] & 255) + ',' + (a[i + 4] & 255) + ')'}; i += 4; }
      if (v === 38) st.f = c; else st.g = c;
    }
  }
}
function piece(st, t) {
  const f = st.f, g = st.g;
  let cl = (st.b ? ' ab' : '') + (st.d ? ' ad' : '') + (st.i ? ' ai' : '') + (st.u ? ' au' : '');
  if (g && g.k !== undefined) cl += ' g' + g.k;
  if (g && (!f || f.k === 0)) cl += ' gx';
  else if (f && f.k !== undefined) cl += ' f' + f.k;
  if (!cl && !(f && f.s) && !(g && g.s)) return document.createTextNode(t);
  const e = document.createElement('span');
  if (cl) e.className = cl.slice(1);
  if (f && f.s) e.style.color = f.s;
  if (g && g.s) e.style.background = g.s;
  e.textContent = t;
  return e;
}
function ansi(s, el) {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) { const c = s.charCodeAt(i); if ((c < 32 && c !== 9) || c === 127) break; }
  if (i === n) { el.textContent = s; return s; }
  const st = {};
  let plain = '', start = 0;
  const emit = t => { if (t) { plain += t; el.appendChild(piece(st, t)); } };
  while (i < n) {
    const c = s.charCodeAt(i);
    if ((c >= 32 && c !== 127) || c === 9) { i++; continue; }
    emit(s.slice(start, i));
    let j = i + 1;
    if (c === 27) {
      const k = s.charCodeAt(j);
      if (k === 91) {  // CSI: parameters, then a final byte; only "m" (SGR) means something here
        const p = ++j;
        while (j < n) { const d = s.charCodeAt(j); if (d >= 64 && d <= 126) break; j++; }
        if (s.charCodeAt(j) === 109) sgr(st, s.slice(p, j));
        j++;
      } else if (k === 93) {  // OSC: up to BEL or ESC backslash
        j++;
        while (j < n) { const d = s.charCodeAt(j); if (d === 7) { j++; break; } if (d === 27 && s.charCodeAt(j + 1) === 92) { j += 2; break; } j++; }
      } else if (j < n) j++;
    }
    i = start = Math.min(j, n);
  }
  emit(s.slice(start));
  return plain;
}

// ---- containers: a colour each, in order of first appearance; click to hide or show ----
function addContainer(name) {
  const i = conts.size, c = {name: name, i: i, cls: 'n' + i, n: 0, hidden: false, id: '', image: ''};
  if (i >= 12) sheet.sheet.insertRule('.n' + i + '{color:hsl(' + Math.round((i * 137.508) % 360) + ' 62% var(--nl))}', sheet.sheet.cssRules.length);
  const li = document.createElement('li'), b = document.createElement('button'), o = document.createElement('button');
  const sw = document.createElement('i'), nm = document.createElement('span');
  b.className = 'ci ' + c.cls;
  b.setAttribute('aria-pressed', 'true');
  sw.className = 'sw';
  nm.className = 'nm';
  nm.textContent = name;
  c.ct = document.createElement('small');
  b.append(sw, nm, c.ct);
  o.className = 'only';
  o.textContent = 'only';
  o.setAttribute('aria-label', 'Show only ' + name);
  b.onclick = () => { c.hidden = !c.hidden; refilter(); };
  o.onclick = () => { for (const d of conts.values()) d.hidden = d !== c; refilter(); };
  li.append(b, o);
  clist.appendChild(li);
  c.b = b;
  conts.set(name, c);
  const len = Array.from(name).length;
  if (len > nw) { nw = Math.min(len, 24); log.style.setProperty('--nw', nw + 'ch'); }
  paintCount();
  return c;
}
function paintCounts() {
  countsAt = performance.now();
  for (const c of conts.values()) {
    const t = fmt(c.n);
    if (c.ct.textContent !== t) c.ct.textContent = t;
    c.b.setAttribute('aria-pressed', String(!c.hidden));
    c.b.title = (c.hidden ? 'Show ' : 'Hide ') + c.name;
  }
}
function paintCount() {
  let hid = 0;
  for (const c of conts.values()) if (c.hidden) hid++;
  cbtn.textContent = (hid ? (conts.size - hid) + ' of ' + conts.size : conts.size) + (conts.size === 1 ? ' container' : ' containers') + ' ▾';
  cbtn.classList.toggle('tg', hid > 0);
  cbtn.setAttribute('aria-pressed', String(hid > 0));
  qn.textContent = filt || hid ? plural(shown, 'line') + ' shown' : '';
}
function refilter() {
  shown = 0;
  for (const d of lines.children) {
    if (!d._x) continue;
    const h = !passes(d);
    if (d.hidden !== h) d.hidden = h;
    if (!h) shown++;
  }
  if (follow) toBottom();
  paintCounts();
  paintCount();
  paintEmpty();
}
function paintEmpty() {
  let a = '', b = '';
  if (!rows) { a = cleared ? 'Cleared — waiting for new lines…' : 'Waiting for log lines…'; b = shownPath(); }
  else if (!shown && (filt || cbtn.classList.contains('tg'))) { a = 'No lines match'; b = filt ? 'filter: ' + q.value.trim() : 'all their containers are hidden'; }
  empty.hidden = !a;
  $('e1').textContent = a;
  $('e2').textContent = b;
}

// ---- controls ----
function setPaused(p) {
  paused = p;
  bPause.setAttribute('aria-pressed', String(p));
  if (!p) {
    if (queue.length > MAX) { dropped += queue.length - MAX; queue = queue.slice(queue.length - MAX); }
    if (dropped) queue.unshift({note: plural(dropped, 'line') + ' skipped while paused', warn: 1});
    dropped = 0;
    if (!raf) raf = requestAnimationFrame(frame);
  }
  paintPause();
}
function paintPause() {
  $('pl').textContent = paused ? 'Resume' : 'Pause';
  const w = Math.min(queue.length, MAX), pn = $('pn');
  pn.hidden = !paused || !w;
  pn.textContent = fmt(w) + (queue.length > MAX || dropped ? '+' : '');
  bPause.title = paused ? plural(w, 'line') + ' waiting (Space to resume)' : 'Pause (Space)';
}
function setFollow(f) {
  follow = f;
  if (f) { fresh = 0; jump.hidden = true; }
}
function applyFilter() { filt = q.value.trim().toLowerCase(); refilter(); }
function applyServer() {
  const v = S.scope ? sv.value.trim() : '';
  if (v === S.val && started) return;
  S.val = v;
  restart();
}
function paintTypes() {
  bOut.setAttribute('aria-pressed', String(S.out));
  bErr.setAttribute('aria-pressed', String(S.err));
}
function toggleType(out) {
  if (out ? S.out && !S.err : S.err && !S.out) return;  // keep at least one stream
  if (out) S.out = !S.out; else S.err = !S.err;
  paintTypes();
  restart();
}
const HINT = {filter: 'part of a name, Enter', name: 'exact name, Enter', id: 'id prefix, Enter'};
function showScope() {
  scope.value = S.scope;
  sv.hidden = !S.scope;
  sv.placeholder = HINT[S.scope] || '';
}
function togglePanel(open) {
  panel.hidden = !open;
  cbtn.setAttribute('aria-expanded', String(open));
  if (open) paintCounts();
}

q.addEventListener('input', applyFilter);
scope.addEventListener('change', () => {
  S.scope = scope.value;
  showScope();
  if (S.scope) { sv.focus(); if (sv.value.trim()) { S.val = ''; applyServer(); } }
  else applyServer();
});
sv.addEventListener('keydown', e => { if (e.key === 'Enter') applyServer(); });
sv.addEventListener('change', applyServer);
bOut.onclick = () => toggleType(true);
bErr.onclick = () => toggleType(false);
bPause.onclick = () => setPaused(!paused);
$('clear').onclick = () => {
  lines.textContent = '';
  rows = shown = fresh = 0;
  queue = [];
  dropped = 0;
  cleared = true;
  setFollow(true);
  paintEmpty();
  paintCount();
  paintPause();
};
$('call').onclick = () => { for (const c of conts.values()) c.hidden = false; refilter(); };
cbtn.onclick = () => togglePanel(panel.hidden);
jump.onclick = () => { setFollow(true); toBottom(); };
// Mouse clicks leave focus where it was, so Space keeps meaning pause rather than "press the last button".
document.addEventListener('mousedown', e => {
  if (e.target.closest && e.target.closest('button')) e.preventDefault();
  if (!panel.hidden && !panel.contains(e.target) && !cbtn.contains(e.target)) togglePanel(false);
});
log.addEventListener('scroll', () => {
  const t = log.scrollTop;
  if (log.scrollHeight - t - log.clientHeight <= 8) { if (!follow) setFollow(true); }
  else if (t < lastTop && follow) setFollow(false);
  lastTop = t;
}, {passive: true});
document.addEventListener('keydown', e => {
  const t = e.target, tag = t && t.tagName;
  const typing = tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || (t && t.isContentEditable);
  if (e.key === 'Escape') {
    if (!panel.hidden) { togglePanel(false); cbtn.focus(); return; }
    if (q.value) { q.value = ''; applyFilter(); }
    if (typing) t.blur();
    return;
  }
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === '/') { e.preventDefault(); q.focus(); q.select(); }
  else if (e.key === ' ' && tag !== 'BUTTON') { e.preventDefault(); setPaused(!paused); }
});

fromHash();
showScope();
sv.value = S.val;
paintTypes();
paintPause();
restart();
})();
</script>
</body>
</html>
"""
}
