// fieldgate status page: polls /api/status and renders it. Every value from the gateway is set with
// textContent (never innerHTML), so device and point names cannot inject markup.
'use strict';
(() => {
  const token = new URLSearchParams(location.search).get('token');
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const ago = (iso) => {
    if (!iso) return '–';
    const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
  };
  const duration = (s) => (s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : s < 172800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} d`);
  const shown = (v) => (v === null || v === undefined ? '–' : typeof v === 'object' ? JSON.stringify(v) : String(v));

  function renderDevice(d) {
    const box = el('article', undefined, 'device');
    box.dataset.device = d.name;
    const head = el('header');
    head.append(el('h3', d.name), el('span', d.driver, 'muted'), el('span', d.healthy ? 'healthy' : 'faulty', d.healthy ? 'ok' : 'bad'),
      el('span', `${d.polls} polls · ${Object.entries(d.errors).map(([k, n]) => `${k} ${n}`).join(', ') || 'no errors'}`, 'muted'));
    box.append(head);
    if (d.last_error) box.append(el('p', `${d.last_error} (${ago(d.last_error_at)})`, 'fault'));
    const table = el('table');
    const hr = el('tr');
    for (const [h, cls] of [['point'], ['value'], ['quality'], ['read'], ['topic', 'topic']]) hr.append(el('th', h, cls));
    table.append(hr);
    for (const p of d.points) {
      const tr = el('tr');
      tr.dataset.point = p.name;
      const value = p.value === null || p.value === undefined ? '–' : `${shown(p.value)}${p.unit ? ` ${p.unit}` : ''}`;
      tr.append(el('td', p.name), el('td', value, 'value'),
        el('td', p.quality ?? '–', p.quality === 'bad' ? 'bad' : p.quality === 'good' ? 'ok' : ''),
        el('td', p.ts ? ago(p.ts) : 'not yet', 'muted'), el('td', p.topic, 'topic'));
      if (p.error) tr.title = p.error;
      table.append(tr);
    }
    box.append(table);
    if (d.plan) {
      const det = el('details');
      det.append(el('summary', 'request plan'), el('pre', d.plan));
      box.append(det);
    }
    return box;
  }

  function render(s) {
    $('site').textContent = s.site;
    $('gateway').textContent = s.gateway;
    $('version').textContent = s.version;
    $('uptime').textContent = duration(s.uptime_s);
    $('config').textContent = s.config.version;
    const up = s.uplink;
    $('uplink-state').textContent = up.connected ? 'connected' : 'disconnected';
    $('uplink-state').className = `big ${up.connected ? 'ok' : 'bad'}`;
    $('broker').textContent = up.broker;
    $('uplink-since').textContent = `${up.connected ? 'since' : 'down since'} ${ago(up.since)}`;
    $('reconnects').textContent = up.reconnects;
    const b = s.backlog;
    $('depth').textContent = b.available ? b.depth : 'journal unavailable';
    $('oldest').textContent = b.oldest_age_s === null ? '–' : duration(b.oldest_age_s);
    $('rate').textContent = b.delivered_per_s.toFixed(1);
    $('drops').textContent = Object.entries(b.drops).map(([k, n]) => `${k} ${n}`).join(', ');
    $('journal').textContent = `${b.journal || '–'}${b.storage === 'memory' ? ' (in memory: its storage failed)' : ''}`;
    const details = new Map([...document.querySelectorAll('#devices details')].map((d) => [d.closest('.device').dataset.device, d.open]));
    const list = s.devices.map(renderDevice);
    for (const box of list) {
      const det = box.querySelector('details');
      if (det && details.get(box.dataset.device)) det.open = true;
    }
    $('devices').replaceChildren(...list);
    $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  }

  async function tick() {
    try {
      const res = await fetch('api/status', { headers, cache: 'no-store' });
      if (!res.ok) throw new Error(`${res.status} ${(await res.text()).trim()}`);
      render(await res.json());
      $('error').hidden = true;
    } catch (err) {
      $('error').textContent = `cannot read the gateway's status: ${err.message}`;
      $('error').hidden = false;
    } finally {
      setTimeout(tick, 500);
    }
  }
  tick();
})();
