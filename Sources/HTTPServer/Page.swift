// The page httpd serves at GET /: a live view of the log stream at /logs, read as Server-Sent Events.
// One self-contained HTML document (inline CSS and JavaScript; nothing is fetched but the stream), so
// it works offline and behind a proxy. Log lines are untrusted: they reach the DOM only as text nodes,
// never as markup. The page has no backslashes, so this literal is the page byte for byte.
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
body{display:flex;flex-direction:column;background:var(--bg);color:var(--fg);font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{position:relative;z-index:2;display:flex;flex-wrap:wrap;align-items:center;gap:8px;padding:7px 12px;background:var(--bar);border-bottom:1px solid var(--bd)}
.brand{display:flex;align-items:center;gap:8px;margin-right:4px;white-space:nowrap}
.brand b{font-size:14px}
#conn{display:inline-flex;align-items:center;gap:6px;min-width:110px;color:var(--mut);font-size:12px}
.dot{width:8px;height:8px;border-radius:50%;background:var(--dim)}
.dot.live{background:var(--ok);box-shadow:0 0 0 3px #3fb95026}
.dot.retry{background:var(--warn);animation:pulse 1s ease-in-out infinite alternate}
.dot.down,.dot.locked{background:var(--bad)}
@keyframes pulse{to{opacity:.3}}
button,select,input{font:inherit;color:inherit;margin:0;height:26px;border:1px solid var(--bd);border-radius:6px}
button,select{padding:0 10px;background:var(--btn);cursor:pointer;white-space:nowrap}
select{padding:0 6px}
button:hover,select:hover{border-color:var(--dim)}
input{background:var(--inp);padding:0 8px;outline:none;min-width:0}
input::placeholder{color:var(--dim)}
input:focus,select:focus-visible,button:focus-visible,#log:focus-visible{outline:2px solid var(--acc);outline-offset:-2px}
[aria-pressed=true]:not(.ci),.on{background:var(--accbg);border-color:var(--acc);color:var(--acc);position:relative}
.search{position:relative;display:flex;align-items:center}
.search svg{position:absolute;left:8px;color:var(--dim);pointer-events:none}
.search input{width:240px;padding:0 72px 0 27px}
.search kbd,#qn{position:absolute;right:6px;font-size:11px;color:var(--dim);pointer-events:none}
kbd{font-family:inherit;line-height:15px;padding:0 5px;border:1px solid var(--bd);border-radius:4px}
.search input:focus~kbd,.search input:not(:placeholder-shown)~kbd,#qn:not(:empty)~kbd{display:none}
.srv{display:flex;gap:4px}
.srv input{width:150px}
.seg{display:flex}
.seg button:first-child{border-radius:6px 0 0 6px}
.seg button:last-child{border-radius:0 6px 6px 0;margin-left:-1px}
.sp{flex:1}
#pause[aria-pressed=true]{background:#d2992222;border-color:var(--warn);color:var(--warn)}
.badge{margin-left:6px;padding:0 6px;border-radius:9px;background:var(--warn);color:var(--bg);font-size:11px;font-weight:650;line-height:16px;font-variant-numeric:tabular-nums}
#cpanel{position:absolute;right:12px;top:calc(100% + 4px);width:300px;max-height:min(480px,70vh);overflow:auto;padding:6px;background:var(--pop);border:1px solid var(--bd);border-radius:8px;box-shadow:0 12px 32px #0000004d}
.ph{display:flex;align-items:center;justify-content:space-between;padding:0 2px 6px 8px;color:var(--mut);font-size:12px}
.ph button{height:22px;font-size:12px}
#clist{list-style:none;margin:0;padding:0}
#clist li{display:flex;align-items:center;border-radius:6px}
#clist li:hover{background:var(--hov)}
.ci{flex:1;display:flex;align-items:center;gap:8px;min-width:0;height:28px;border:0;background:none;text-align:left}
.nm{color:var(--fg);overflow:hidden;text-overflow:ellipsis}
.ci small{margin-left:auto;color:var(--dim);font-variant-numeric:tabular-nums}
.ci[aria-pressed=false],.ci[aria-pressed=false] .nm{color:var(--dim)}
.ci[aria-pressed=false] .nm{text-decoration:line-through}
.ci[aria-pressed=false] .sw{background:none;box-shadow:inset 0 0 0 1.5px currentColor}
.sw{width:10px;height:10px;border-radius:3px;background:currentColor;flex:none}
.only{height:22px;padding:0 7px;font-size:11px;border:0;background:none;color:var(--dim);visibility:hidden}
li:hover .only,.only:focus-visible{visibility:visible}
.only:hover{color:var(--acc)}
#wrap{position:relative;flex:1;min-height:0}
#log{position:absolute;inset:0;overflow-y:auto;overflow-anchor:none;padding:6px 0 14px;font:12.5px/1.55 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
.l{display:flex;padding:0 14px 0 10px;border-left:2px solid transparent;content-visibility:auto;contain-intrinsic-size:auto 19px}
.l:hover{background:var(--hov)}
.l.e{border-left-color:var(--err);background:var(--errbg)}
.t{flex:none;width:12ch;margin-right:1.5ch;color:var(--dim)}
.n{flex:none;width:var(--nw,8ch);margin-right:1.5ch;overflow:hidden;text-overflow:ellipsis}
.m{flex:1;min-width:0;white-space:pre-wrap;overflow-wrap:anywhere;tab-size:4}
.t,.n,.nm{white-space:nowrap}
.x{align-items:center;gap:10px;margin:3px 0;color:var(--mut);font:italic 11.5px/18px system-ui,sans-serif}
.x::before,.x::after{content:"";flex:1;border-top:1px dashed var(--bd)}
.x.w{color:var(--warn)}
.ab{font-weight:700}.ad{opacity:.65}.ai{font-style:italic}.au{text-decoration:underline}.gx{color:var(--bg)}
#empty{position:absolute;inset:0;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:8px;padding:20px;color:var(--mut);text-align:center;pointer-events:none}
#e1{font-weight:600;font-size:14px;color:var(--fg)}
#e2{font:12px ui-monospace,monospace;color:var(--dim)}
#jump{position:absolute;left:50%;bottom:16px;transform:translateX(-50%);height:30px;padding:0 16px;border:0;border-radius:15px;background:var(--acc);color:var(--bg);font-weight:600;box-shadow:0 6px 18px #00000059}
@media (max-width:760px){.search input{width:170px}.srv input{width:110px}#conn{min-width:0}}
</style>
</head>
<body>
<header>
<div class="brand"><img id="logo" width="18" height="18" alt=""><b>logspout</b>
<span id="conn" role="status"><i id="dot" class="dot"></i><span id="state">connecting…</span></span></div>
<label class="search"><svg width="13" height="13" viewBox="0 0 16 16" aria-hidden="true"><circle cx="7" cy="7" r="5" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M11 11l3.5 3.5" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg><input id="q" placeholder="Filter lines" aria-label="Filter lines by container or text (/)" autocomplete="off" spellcheck="false"><span id="qn" aria-live="polite"></span><kbd aria-hidden="true">/</kbd></label>
<div class="srv" role="group" aria-label="Stream from the server">
<select id="scope" aria-label="Containers the server streams"><option value="">All containers</option><option value="filter">Name contains</option><option value="name">Name is</option><option value="id">ID starts with</option></select>
<input id="sv" aria-label="Server filter value (Enter applies)" autocomplete="off" spellcheck="false" hidden>
</div>
<div class="seg" role="group" aria-label="Output streams"><button id="out" aria-pressed="true">stdout</button><button id="err" aria-pressed="true">stderr</button></div>
<span class="sp"></span>
<button id="cbtn" aria-haspopup="true" aria-expanded="false" aria-controls="cpanel">0 containers ▾</button>
<button id="pause" aria-pressed="false"><span id="pl">Pause</span><span id="pn" class="badge" hidden></span></button>
<button id="clear" title="Clear the lines on screen">Clear</button>
<div id="cpanel" role="group" aria-label="Containers" hidden><div class="ph"><span>Click to hide or show</span><button id="call">Show all</button></div><ul id="clist"></ul></div>
</header>
<div id="wrap">
<main id="log" role="log" aria-live="off" aria-label="Log lines" tabindex="0"><div id="lines"></div></main>
<div id="empty"><span id="e1">Waiting for log lines…</span><span id="e2"></span></div>
<button id="jump" hidden></button>
</div>
<noscript><p>This page needs JavaScript; the stream is at <a href="logs">/logs</a>.</p></noscript>
<script>
(() => {
'use strict';
const MAX = 5000, NL = String.fromCharCode(10), $ = id => document.getElementById(id);
const log = $('log'), lines = $('lines'), jump = $('jump'), q = $('q'), qn = $('qn'), scope = $('scope'), sv = $('sv');
const bOut = $('out'), bErr = $('err'), bPause = $('pause'), cbtn = $('cbtn'), panel = $('cpanel'), clist = $('clist');
const S = {scope: '', val: '', out: true, err: true}, conts = new Map();
let es = null, cur = '', retry = 0, retryT = 0, conn = '', lost = false, started = false, token = '';
try { token = sessionStorage.getItem('logspout-token') || ''; } catch (e) {}
let queue = [], raf = 0, paused = false, dropped = 0, follow = true, lastTop = 0, fresh = 0;
let rows = 0, shown = 0, hid = 0, filt = '', nw = 4, cleared = false, countsAt = 0;

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
const fmt = n => n.toLocaleString();
const plural = (n, w) => fmt(n) + ' ' + w + (n === 1 ? '' : 's');
const p2 = n => (n < 10 ? '0' : '') + n;
const p3 = n => String(n).padStart(3, '0');

// Colour classes: .f/.g0-15 ANSI text/background, .n0-11 containers.
const sheet = el('style');
let css = '';
for (let k = 0; k < 16; k++) css += '.f' + k + '{color:var(--a' + k + ')}.g' + k + '{background:var(--a' + k + ')}';
for (let k = 0; k < 12; k++) css += '.n' + k + '{color:var(--c' + k + ')}';
sheet.textContent = css;
document.head.appendChild(sheet);
$('logo').src = document.querySelector('link[rel=icon]').href;

// ---- the stream; its path is mirrored in the address's #fragment ----
function path() {
  let p = 'logs';
  if (S.scope && S.val) p += '/' + S.scope + ':' + encodeURIComponent(S.val);
  if (S.out !== S.err) p += '?types=' + (S.out ? 'stdout' : 'stderr');
  return p;
}
function shownPath() { const u = new URL(path(), location.href); return u.pathname + u.search; }
function fromHash() {
  const m = /^#[/]logs(?:[/](filter|name|id):([^?]+))?(?:[?]types=(stdout|stderr))?$/.exec(location.hash);
  if (!m) return;
  if (m[1]) { S.scope = m[1]; try { S.val = decodeURIComponent(m[2]); } catch (e) { S.val = m[2]; } }
  if (m[3]) { S.out = m[3] === 'stdout'; S.err = !S.out; }
}
function setConn(k) {
  conn = k;
  $('dot').className = 'dot ' + k;
  $('state').textContent = {connecting: 'connecting…', live: 'live', retry: 'reconnecting…', down: 'disconnected', locked: 'token needed'}[k];
  $('conn').title = shownPath();
  paintEmpty();
}
// ---- the token (HTTPD_TOKEN): asked for once when the server answers 401, kept for this tab ----
// An EventSource cannot send a header: it carries ?token=; fetches send Authorization.
function withToken(p) { return token ? p + (p.indexOf('?') < 0 ? '?' : '&') + 'token=' + encodeURIComponent(token) : p; }
function askToken() {
  const t = (window.prompt(token ? 'That token was refused. The token of this logspout (HTTPD_TOKEN):' : 'This logspout needs its token (HTTPD_TOKEN):') || '').trim();
  if (!t) return false;
  token = t;
  try { sessionStorage.setItem('logspout-token', t); } catch (e) {}
  return true;
}
function backOff() { retryT = setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, retry++))); }
function connect() {
  clearTimeout(retryT);
  if (es) es.close();
  const me = es = new EventSource(withToken(cur = path()));
  setConn('connecting');
  me.onopen = () => {
    if (me !== es) return;
    retry = 0;
    if (lost) add({note: 'Reconnected; lines logged meanwhile are missing'});
    lost = false;
    setConn('live');
  };
  me.onerror = () => {
    if (me !== es) return;
    if (conn === 'live') lost = true;
    if (me.readyState !== 2) return setConn('retry');  // the browser retries
    setConn('down');  // refused for good: retry, backing off, or ask for the token when that was why
    fetch(cur, {method: 'HEAD', headers: token ? {Authorization: 'Bearer ' + token} : {}}).then(r => {
      if (me !== es) return;
      if (r.status !== 401) return backOff();
      if (askToken()) return connect();
      setConn('locked');
    }, () => { if (me === es) backOff(); });
  };
  me.onmessage = ev => {
    let r;
    try { r = JSON.parse(ev.data); } catch (e) { return; }
    if (me !== es || !r || typeof r !== 'object') return;
    if (typeof r.missed === 'number') {
      if (r.missed > 0) add({note: plural(r.missed, 'line') + ' skipped', warn: 1, tip: 'Dropped by the server: this page read too slowly'});
      return;
    }
    if (typeof r.data !== 'string') return;
    const ct = r.container || {}, id = String(r.id || ct.id || '');
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
  if (started && path() === cur) return;
  history.replaceState(null, '', location.pathname + location.search + (path() === 'logs' ? '' : '#/' + path()));
  if (started) add({note: 'Now streaming ' + shownPath()});
  started = true;
  lost = false;
  connect();
}

// ---- lines queue up and are drawn once per animation frame ----
function add(x) {
  queue.push(x);
  if (queue.length > 2 * MAX) {  // only MAX fit on screen
    if (paused) dropped += queue.length - MAX;
    queue = queue.slice(queue.length - MAX);
  }
  if (!raf) raf = requestAnimationFrame(frame);
}
function frame() {
  raf = 0;
  if (!panel.hidden && performance.now() - countsAt > 300) paintCounts();
  if (paused) return paintPause();
  if (!queue.length) return;
  const items = queue.length > MAX ? queue.slice(queue.length - MAX) : queue;
  queue = [];
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
  paintCount();
}
function trim(over) {  // the oldest rows go; the view stays put
  if (over <= 0) return;
  const h = follow ? 0 : lines.offsetHeight;
  if (over >= rows) { lines.textContent = ''; rows = shown = 0; }
  else {
    for (let i = 0; i < over; i++) {
      const d = lines.firstChild;
      if (d._x && !d.hidden) shown--;
      d.remove();
    }
    rows -= over;
  }
  if (!follow) { log.scrollTop -= h - lines.offsetHeight; lastTop = log.scrollTop; }
}
function toBottom() { log.scrollTop = log.scrollHeight; lastTop = log.scrollTop; }

// ---- rows ----
const tpl = el('div', 'l');
tpl.append(el('span', 't'), el('span'), el('span', 'm'));
function parseTime(t) {  // Date.parse takes milliseconds at most
  if (typeof t !== 'string' || t.length < 20) return null;
  let j = 19;
  if (t.charAt(19) === '.') for (j = 20; t.charCodeAt(j) >= 48 && t.charCodeAt(j) <= 57; j++);
  const ms = Date.parse(t.slice(0, 19) + t.slice(19, Math.min(j, 23)) + (t.slice(j) || 'Z'));
  return isNaN(ms) ? null : {ms: ms, frac: t.slice(20, j)};
}
function lineRow(x) {
  const d = tpl.cloneNode(true), n = d.children[1];
  x.t = parseTime(x.r.time) || {ms: Date.now(), frac: ''};
  const t = new Date(x.t.ms);
  if (x.err) d.className = 'l e';
  d.firstChild.textContent = p2(t.getHours()) + ':' + p2(t.getMinutes()) + ':' + p2(t.getSeconds()) + '.' + p3(t.getMilliseconds());
  n.className = 'n ' + x.c.cls;
  n.textContent = x.c.name;
  d._p = ansi(x.r.data, d.lastChild);
  d._x = x;
  d.hidden = !passes(d);
  return d;
}
function noticeRow(x) {
  const d = el('div', x.warn ? 'l x w' : 'l x', x.note);
  if (x.tip) d.title = x.tip;
  return d;
}
function passes(d) {
  const c = d._x.c;
  if (c.hidden) return false;
  if (d._k === undefined && filt) d._k = (c.name + NL + d._p).toLowerCase();
  return !filt || d._k.indexOf(filt) >= 0;
}
// Tooltips, made on hover.
log.addEventListener('mouseover', e => {
  const s = e.target, x = s.parentNode && s.parentNode._x;
  if (!x || s.title || s.className === 'm') return;
  if (s.className !== 't') return void (s.title = [x.c.name, x.c.id.slice(0, 12), x.c.image].filter(Boolean).join(NL));
  const d = new Date(x.t.ms), o = -d.getTimezoneOffset(), a = Math.abs(o);
  s.title = d.getFullYear() + '-' + p2(d.getMonth() + 1) + '-' + p2(d.getDate()) + ' ' + s.textContent.slice(0, 9) +
    (x.t.frac || p3(d.getMilliseconds())) + ' UTC' + (o < 0 ? '-' : '+') + p2(a / 60 | 0) + ':' + p2(a % 60) + (x.r.time ? NL + x.r.time : '');
});

// ---- ANSI: SGR styles become spans; other escapes and control characters go ----
const CUBE = [0, 95, 135, 175, 215, 255];
const rgb = (r, g, b) => ({s: 'rgb(' + (r & 255) + ',' + (g & 255) + ',' + (b & 255) + ')'});
function c256(n) {
  if (n < 16) return {k: n};
  if (n > 231) return rgb(n * 10 - 2312, n * 10 - 2312, n * 10 - 2312);
  n -= 16;
  return rgb(CUBE[n / 36 | 0], CUBE[(n / 6 | 0) % 6], CUBE[n % 6]);
}
function sgr(st, p) {
  const a = p ? p.split(/[;:]/).map(Number) : [0];
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v === 0) { st.f = st.g = null; st.b = st.d = st.i = st.u = false; }
    else if (v === 1) st.b = true; else if (v === 2) st.d = true; else if (v === 3) st.i = true; else if (v === 4) st.u = true;
    else if (v === 22) st.b = st.d = false; else if (v === 23) st.i = false; else if (v === 24) st.u = false;
    else if (v >= 30 && v <= 37) st.f = {k: v - 30}; else if (v >= 90 && v <= 97) st.f = {k: v - 82}; else if (v === 39) st.f = null;
    else if (v >= 40 && v <= 47) st.g = {k: v - 40}; else if (v >= 100 && v <= 107) st.g = {k: v - 92}; else if (v === 49) st.g = null;
    else if (v === 38 || v === 48) {
      const c = a[i + 1] === 5 ? c256(a[i + 2] & 255) : a[i + 1] === 2 ? rgb(a[i + 2], a[i + 3], a[i + 4]) : null;
      i += a[i + 1] === 5 ? 2 : a[i + 1] === 2 ? 4 : 0;
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
  const e = el('span', cl.slice(1), t);
  if (f && f.s) e.style.color = f.s;
  if (g && g.s) e.style.background = g.s;
  return e;
}
function ansi(s, out) {
  const n = s.length, ok = c => (c >= 32 && c !== 127) || c === 9;
  let i = 0;
  while (i < n && ok(s.charCodeAt(i))) i++;
  if (i === n) { out.textContent = s; return s; }
  const st = {};
  let plain = '', start = 0;
  const emit = t => { if (t) { plain += t; out.appendChild(piece(st, t)); } };
  while (i < n) {
    const c = s.charCodeAt(i);
    if (ok(c)) { i++; continue; }
    emit(s.slice(start, i));
    let j = i + 1;
    if (c === 27 && s.charCodeAt(j) === 91) {  // CSI; "m" is SGR
      const p = ++j;
      while (j < n && !(s.charCodeAt(j) >= 64 && s.charCodeAt(j) <= 126)) j++;
      if (s.charCodeAt(j) === 109) sgr(st, s.slice(p, j));
      j++;
    } else if (c === 27 && s.charCodeAt(j) === 93) {  // OSC, to BEL or ST
      while (++j < n && s.charCodeAt(j) !== 7 && !(s.charCodeAt(j) === 27 && s.charCodeAt(j + 1) === 92));
      j += s.charCodeAt(j) === 27 ? 2 : 1;
    } else if (c === 27) j++;
    i = start = Math.min(j, n);
  }
  emit(s.slice(start));
  return plain;
}

// ---- containers, coloured in order of appearance ----
function addContainer(name) {
  const i = conts.size, c = {name: name, cls: 'n' + i, n: 0, hidden: false, id: '', image: ''};
  if (i >= 12) sheet.sheet.insertRule('.n' + i + '{color:hsl(' + Math.round(i * 137.508 % 360) + ' 62% var(--nl))}', 0);
  const li = el('li'), o = el('button', 'only', 'only');
  c.b = el('button', 'ci ' + c.cls);
  c.ct = el('small');
  c.b.append(el('i', 'sw'), el('span', 'nm', name), c.ct);
  c.b.onclick = () => { c.hidden = !c.hidden; refilter(); };
  o.setAttribute('aria-label', 'Show only ' + name);
  o.onclick = () => { for (const d of conts.values()) d.hidden = d !== c; refilter(); };
  li.append(c.b, o);
  clist.appendChild(li);
  conts.set(name, c);
  const len = Array.from(name).length;
  if (len > nw) { nw = Math.min(len, 24); log.style.setProperty('--nw', nw + 'ch'); }
  paintCounts();
  return c;
}
function paintCounts() {
  countsAt = performance.now();
  hid = 0;
  for (const c of conts.values()) {
    if (c.hidden) hid++;
    c.ct.textContent = fmt(c.n);
    c.b.setAttribute('aria-pressed', !c.hidden);
    c.b.title = (c.hidden ? 'Show ' : 'Hide ') + c.name;
  }
  paintCount();
}
function paintCount() {
  const n = conts.size;
  cbtn.textContent = (hid ? n - hid + ' of ' + n : n) + (n === 1 ? ' container ▾' : ' containers ▾');
  cbtn.classList.toggle('on', hid > 0);
  qn.textContent = filt || hid ? fmt(shown) + ' shown' : '';
  paintEmpty();
}
function paintEmpty() {
  let a = '', b = '';
  if (!rows) {
    a = conn === 'locked' ? 'This server needs its token — reload the page to enter it' : conn === 'down' ? 'Cannot reach the log stream — retrying…' : cleared ? 'Cleared — waiting for new lines…' : 'Waiting for log lines…';
    b = shownPath();
  } else if (!shown && (filt || hid)) { a = 'No lines match'; b = filt ? 'filter: ' + q.value.trim() : 'their containers are hidden'; }
  $('empty').hidden = !a;
  $('e1').textContent = a;
  $('e2').textContent = b;
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
}

// ---- controls ----
function setPaused(p) {
  paused = p;
  bPause.setAttribute('aria-pressed', p);
  if (!p) {
    if (queue.length > MAX) { dropped += queue.length - MAX; queue = queue.slice(queue.length - MAX); }
    if (dropped) queue.unshift({note: plural(dropped, 'line') + ' skipped while paused', warn: 1});
    dropped = 0;
    if (!raf) raf = requestAnimationFrame(frame);
  }
  paintPause();
}
function paintPause() {
  const w = Math.min(queue.length, MAX), b = $('pn');
  $('pl').textContent = paused ? 'Resume' : 'Pause';
  b.hidden = !paused || !w;
  b.textContent = fmt(w) + (queue.length > MAX || dropped ? '+' : '');
  bPause.title = paused ? plural(w, 'line') + ' waiting (Space resumes)' : 'Pause (Space)';
}
function setFollow(f) {
  follow = f;
  if (f) { fresh = 0; jump.hidden = true; }
}
function applyFilter() { filt = q.value.trim().toLowerCase(); refilter(); }
function applyServer() {
  S.val = scope.value ? sv.value.trim() : '';
  S.scope = S.val ? scope.value : '';
  restart();
}
function toggleType(out) {
  if (out ? S.out && !S.err : S.err && !S.out) return;  // keep one on
  if (out) S.out = !S.out; else S.err = !S.err;
  paintTypes();
  restart();
}
function paintTypes() {
  bOut.setAttribute('aria-pressed', S.out);
  bErr.setAttribute('aria-pressed', S.err);
}
function showScope() {
  sv.hidden = !scope.value;
  sv.placeholder = {filter: 'part of a name', name: 'exact name', id: 'id prefix'}[scope.value] || '';
}
function togglePanel(open) {
  panel.hidden = !open;
  cbtn.setAttribute('aria-expanded', open);
  if (open) paintCounts();
}

q.addEventListener('input', applyFilter);
scope.addEventListener('change', () => {
  showScope();
  if (scope.value && !sv.value.trim()) sv.focus(); else applyServer();
});
sv.addEventListener('keydown', e => { if (e.key === 'Enter') applyServer(); });
sv.addEventListener('change', applyServer);
bOut.onclick = () => toggleType(true);
bErr.onclick = () => toggleType(false);
bPause.onclick = () => setPaused(!paused);
$('clear').onclick = () => {
  lines.textContent = '';
  queue = [];
  rows = shown = dropped = 0;
  cleared = true;
  setFollow(true);
  paintPause();
  paintCount();
};
$('call').onclick = () => { for (const c of conts.values()) c.hidden = false; refilter(); };
cbtn.onclick = () => togglePanel(panel.hidden);
jump.onclick = () => { setFollow(true); toBottom(); };
// Clicks leave the focus be, so Space keeps meaning pause.
document.addEventListener('mousedown', e => {
  if (e.target.closest('button')) e.preventDefault();
  if (!panel.hidden && !panel.contains(e.target) && !cbtn.contains(e.target)) togglePanel(false);
});
log.addEventListener('scroll', () => {
  const t = log.scrollTop;
  if (log.scrollHeight - t - log.clientHeight <= 8) { if (!follow) setFollow(true); }
  else if (t < lastTop && follow) setFollow(false);
  lastTop = t;
}, {passive: true});
document.addEventListener('keydown', e => {
  const t = e.target, typing = /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName) || t.isContentEditable;
  if (e.key === 'Escape') {
    if (!panel.hidden) return togglePanel(false);
    if (q.value) { q.value = ''; applyFilter(); }
    if (typing) t.blur();
  } else if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  else if (e.key === '/') { e.preventDefault(); q.focus(); q.select(); }
  else if (e.key === ' ' && t.tagName !== 'BUTTON') { e.preventDefault(); setPaused(!paused); }
});

fromHash();
scope.value = S.scope;
sv.value = S.val;
showScope();
paintTypes();
paintPause();
restart();
})();
</script>
</body>
</html>
"""
}
