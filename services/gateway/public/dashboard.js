// servofleet dashboard: plain JS, no framework, nothing from the internet.
//
// The API key is typed in once and kept in sessionStorage (this tab only). The live
// stream is read with fetch() so that the key travels in the Authorization header,
// never in a URL; on a drop it reconnects with Last-Event-ID and catches up.

const KEY_STORE = 'servofleet.apiKey';

const state = {
  key: sessionStorage.getItem(KEY_STORE) || '',
  role: null,
  drives: new Map(),
  cards: new Map(),
  dirty: new Set(),
  lastEventId: '',
  stream: null,
  group: 'link',
  rendering: false,
};

const $ = (id) => document.getElementById(id);

/** A 401: the login form is already shown with the reason. */
class Unauthorized extends Error {}

function failed(err) {
  if (!(err instanceof Unauthorized)) showLogin(err.message);
}

function setConn(s, text) {
  const el = $('conn');
  el.dataset.state = s;
  el.textContent = text;
}

function showLogin(message) {
  if (state.stream) state.stream.abort();
  state.stream = null;
  $('login').hidden = false;
  $('fleet').hidden = true;
  $('logout').hidden = true;
  $('login-error').textContent = message || '';
  setConn('idle', 'not connected');
  $('key').focus();
}

async function api(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: { ...(init.headers || {}), authorization: `Bearer ${state.key}` },
    cache: 'no-store',
  });
  let body = null;
  const text = await res.text();
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { error: { code: 'BAD_RESPONSE', message: text.slice(0, 200) } };
  }
  if (res.status === 401) {
    sessionStorage.removeItem(KEY_STORE);
    showLogin(body?.error?.message || 'the API key is not valid');
    throw new Unauthorized();
  }
  return { status: res.status, body };
}

// ---- model ----------------------------------------------------------------------

function isDead(d) {
  return (
    d.availability?.status !== 'online' ||
    d.breaker.device === 'open' ||
    d.breaker.gateway === 'open'
  );
}

function deadReason(d) {
  if (!d.availability) return 'DEAD — never reported';
  if (d.breaker.gateway === 'open') return 'DEAD — gateway breaker open';
  if (d.breaker.device === 'open') return 'DEAD — breaker open';
  const r = d.availability.reason ? ` (${d.availability.reason})` : '';
  return `DEAD — ${d.availability.status}${r}`;
}

function upsert(view) {
  state.drives.set(view.id, view);
  touch(view.id);
}

function touch(id) {
  state.dirty.add(id);
  if (!state.rendering) {
    state.rendering = true;
    requestAnimationFrame(flush);
  }
}

function onStreamEvent(type, data) {
  const d = state.drives.get(data.driveId);
  if (type === 'reset') {
    loadSnapshot();
    return;
  }
  if (!d) {
    // A drive the snapshot did not have yet: fetch it once.
    if (data.driveId) refreshDrive(data.driveId);
    return;
  }
  if (type === 'state') {
    d.state = data;
  } else if (type === 'availability') {
    d.availability = { status: data.status, ts: data.ts, reason: data.reason };
    if (data.status === 'online' && d.breaker.device === 'open') d.breaker.device = 'closed';
  } else if (type === 'events') {
    if (data.type === 'breaker') {
      if (data.source === 'gateway') d.breaker.gateway = data.state;
      else d.breaker.device = data.state;
    } else if (data.type === 'availability') {
      d.availability = { status: data.status, ts: data.ts, reason: data.reason };
    } else {
      return;
    }
  } else {
    return;
  }
  touch(d.id);
}

async function refreshDrive(id) {
  const r = await api(`/api/v1/drives/${encodeURIComponent(id)}`);
  if (r.status === 200) {
    const fresh = !state.drives.has(id);
    upsert(r.body);
    if (fresh) layout();
  }
}

async function loadSnapshot() {
  const r = await api('/api/v1/drives');
  if (r.status !== 200) {
    setConn('down', `drives: ${r.status} ${r.body?.error?.code || ''}`);
    return;
  }
  for (const v of r.body.drives) state.drives.set(v.id, v);
  layout();
  for (const id of state.drives.keys()) touch(id);
}

// ---- stream ---------------------------------------------------------------------

async function runStream() {
  let backoff = 500;
  for (;;) {
    const ctrl = new AbortController();
    state.stream = ctrl;
    setConn('connecting', 'connecting…');
    try {
      const headers = { authorization: `Bearer ${state.key}` };
      if (state.lastEventId) headers['last-event-id'] = state.lastEventId;
      const res = await fetch('/api/v1/stream', {
        headers,
        signal: ctrl.signal,
        cache: 'no-store',
      });
      if (res.status === 401) {
        showLogin('the API key is not valid');
        return;
      }
      if (res.status !== 200) throw new Error(`stream: HTTP ${res.status}`);
      setConn('live', 'live');
      backoff = 500;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value.replace(/\r\n?/g, '\n');
        let i = buf.indexOf('\n\n');
        while (i >= 0) {
          handleBlock(buf.slice(0, i));
          buf = buf.slice(i + 2);
          i = buf.indexOf('\n\n');
        }
      }
    } catch (err) {
      if (ctrl.signal.aborted && state.stream !== ctrl) return;
      console.warn('stream dropped', err);
    }
    if (state.stream !== ctrl) return;
    setConn('down', 'reconnecting…');
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, 10_000);
  }
}

// WHATWG HTML §9.2.6: fields id, event, data; lines starting with ':' are comments.
function handleBlock(block) {
  let type = 'message';
  let id = null;
  const data = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const c = line.indexOf(':');
    const field = c < 0 ? line : line.slice(0, c);
    let value = c < 0 ? '' : line.slice(c + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (id !== null) state.lastEventId = id;
  if (data.length === 0) return;
  try {
    onStreamEvent(type, JSON.parse(data.join('\n')));
  } catch (err) {
    console.warn('bad stream event', err);
  }
}

// ---- view -----------------------------------------------------------------------

function fmt(n, unit) {
  if (typeof n !== 'number') return '—';
  return `${Math.round(n).toLocaleString('en-US')}${unit ? ` ${unit}` : ''}`;
}

function groupOf(d) {
  if (state.group === 'line') return d.line ? `line ${d.line.id}` : 'no line';
  return d.link ? `link ${d.link}` : 'link unknown';
}

function layout() {
  const main = $('fleet');
  main.replaceChildren();
  const groups = new Map();
  for (const d of state.drives.values()) {
    const g = groupOf(d);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(d);
  }
  for (const [name, drives] of groups) {
    const sec = document.createElement('section');
    sec.className = 'group-section';
    sec.dataset.group = name;
    const h = document.createElement('h2');
    h.textContent = name;
    const grid = document.createElement('div');
    grid.className = 'grid';
    for (const d of drives) grid.append(cardFor(d.id));
    sec.append(h, grid);
    main.append(sec);
  }
}

function cardFor(id) {
  let card = state.cards.get(id);
  if (card) return card;
  card = $('card').content.firstElementChild.cloneNode(true);
  card.dataset.drive = id;
  card.querySelector('[data-f="id"]').textContent = id;
  for (const b of card.querySelectorAll('[data-cmd]')) {
    b.addEventListener('click', () => send(id, { type: b.dataset.cmd }));
  }
  const speed = card.querySelector('[data-f="jog-speed"]');
  for (const b of card.querySelectorAll('[data-jog]')) {
    const dir = Number(b.dataset.jog);
    let jogging = false;
    const start = (e) => {
      e.preventDefault();
      jogging = true;
      send(id, { type: 'jog', velocity: dir * Math.abs(Number(speed.value) || 1000) });
    };
    const end = () => {
      if (!jogging) return;
      jogging = false;
      send(id, { type: 'stop' });
    };
    b.addEventListener('pointerdown', start);
    b.addEventListener('pointerup', end);
    b.addEventListener('pointerleave', end);
    b.addEventListener('pointercancel', end);
  }
  state.cards.set(id, card);
  return card;
}

function flush() {
  state.rendering = false;
  const ids = [...state.dirty];
  state.dirty.clear();
  let dead = 0;
  for (const d of state.drives.values()) if (isDead(d)) dead++;
  $('summary').textContent = `${state.drives.size} drives, ${dead} dead`;
  for (const id of ids) render(id);
}

function render(id) {
  const d = state.drives.get(id);
  const card = state.cards.get(id);
  if (!d || !card) return;
  const f = (name) => card.querySelector(`[data-f="${name}"]`);
  const dead = isDead(d);
  card.dataset.dead = String(dead);
  card.dataset.fault = String(Boolean(d.state?.fault));
  card.dataset.cia402 = d.state?.cia402 || '';
  card.dataset.availability = d.availability?.status || 'unknown';
  f('availability').textContent = d.availability?.status || 'unknown';
  f('dead-reason').textContent = dead ? deadReason(d) : '';
  f('cia402').textContent = d.state ? d.state.cia402.replaceAll('_', ' ') : '—';
  f('position').textContent = fmt(d.state?.position, 'cts');
  f('velocity').textContent = fmt(d.state?.velocity, 'cts/s');
  f('temperature').textContent =
    typeof d.state?.temperature === 'number' ? `${d.state.temperature.toFixed(1)} °C` : '—';
  f('fault').textContent = d.state?.fault ? `${d.state.fault.hex} ${d.state.fault.text}` : 'none';
  f('breaker').textContent = `device ${d.breaker.device || '—'} · gateway ${d.breaker.gateway}`;
  const where = [d.link && `link ${d.link}`, d.line && `line ${d.line.id} / ${d.line.station}`];
  f('where').textContent = where.filter(Boolean).join(' · ');
  const canOperate = state.role === 'operator' || state.role === 'admin';
  f('controls').hidden = !canOperate;
  const supported = d.meta?.commands;
  for (const b of card.querySelectorAll('[data-cmd]')) {
    b.hidden = Boolean(supported) && !supported.includes(b.dataset.cmd);
  }
  f('jog').hidden = Boolean(supported) && !supported.includes('jog');
  const speed = f('jog-speed');
  if (!speed.value) {
    const lim = d.meta?.limits?.velocity;
    speed.value = String(lim ? Math.min(2000, lim) : 1000);
    if (lim) speed.max = String(lim);
  }
}

async function send(id, body) {
  const card = state.cards.get(id);
  const out = card?.querySelector('[data-f="result"]');
  if (out) {
    out.dataset.ok = 'true';
    out.textContent = `${body.type}…`;
  }
  try {
    const r = await api(`/api/v1/drives/${encodeURIComponent(id)}/commands?timeoutMs=15000`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const ok = r.status === 200 || r.status === 202;
    if (out) {
      out.dataset.ok = String(ok);
      out.textContent = ok
        ? `${body.type}: ${r.body.status}`
        : `${body.type}: ${r.status} ${r.body?.error?.code || ''} ${r.body?.error?.message || ''}`;
    }
  } catch (err) {
    if (out && !(err instanceof Unauthorized)) {
      out.dataset.ok = 'false';
      out.textContent = `${body.type}: ${err.message}`;
    }
  }
}

// ---- start ----------------------------------------------------------------------

async function connect() {
  const who = await api('/api/v1/whoami');
  if (who.status !== 200) {
    showLogin(who.body?.error?.message || `HTTP ${who.status}`);
    return;
  }
  state.role = who.body.role;
  $('who').textContent = `${who.body.name} (${who.body.role})`;
  $('login').hidden = true;
  $('fleet').hidden = false;
  $('logout').hidden = false;
  // Stream first, snapshot second: nothing that happens in between is missed.
  runStream();
  await loadSnapshot();
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.key = $('key').value.trim();
    if (!state.key) return;
    sessionStorage.setItem(KEY_STORE, state.key);
    $('key').value = '';
    connect().catch(failed);
  });
  $('logout').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORE);
    state.key = '';
    showLogin('');
  });
  $('group').addEventListener('change', (e) => {
    state.group = e.target.value;
    layout();
  });
  if (state.key) connect().catch(failed);
  else showLogin('');
});
