// planReload, table-tested: what a SIGHUP with a changed site file restarts, reconnects or leaves
// for the next start. The rules are read from the site schema (x-reload next to each key).
import { describe, expect, it } from 'vitest';
import { planReload, reloadEffects, runningConfig } from '../../src/config/reload-plan.js';
import { validateSiteText } from '../../src/config/validate-site.js';
import { topLevelSchema, type JsonSchema } from '../../src/config/site-schema.js';
import type { SiteConfig } from '../../src/config/site-config.js';
import { drivers } from '../../drivers/index.js';
import { lines } from './site-fixtures.js';

const SITE = lines(
  'site: plant-7',
  'gateway: gw-01',
  'mqtt:',
  '  url: mqtt://127.0.0.1:1883',
  'buffer:',
  '  path: /tmp/fg-reload-plan/buffer.db',
  'devices:',
  '  - name: a',
  '    driver: sim',
  '    points: [{ name: t, signal: sine }]',
  '  - name: b',
  '    driver: sim',
  '    points: [{ name: t, signal: sine }]',
);

function site(text: string): SiteConfig {
  return validateSiteText(text, '/tmp/fg-reload-plan/site.yaml', {}, drivers).config;
}

/** The base site with one line replaced (by its text) or lines appended. */
function edit(replace: Record<string, string> = {}, append: string[] = []): SiteConfig {
  let text = SITE;
  for (const [from, to] of Object.entries(replace)) {
    expect(text).toContain(from);
    text = text.replace(from, to);
  }
  return site(text + append.map((l) => `${l}\n`).join(''));
}

describe('planReload', () => {
  const before = site(SITE);
  const rows: [string, SiteConfig, { reconnect: boolean; restartHttp: boolean; nextStart: string[]; start: string[]; stop: string[] }][] = [
    ['nothing changed', edit(), { reconnect: false, restartHttp: false, nextStart: [], start: [], stop: [] }],
    ['one device changed', edit({ "  - name: b\n    driver: sim\n    points: [{ name: t, signal: sine }]": '  - name: b\n    driver: sim\n    interval: 5s\n    points: [{ name: t, signal: sine }]' }),
      { reconnect: false, restartHttp: false, nextStart: [], start: ['b'], stop: ['b'] }],
    ['a device added', edit({}, ['  - name: c', '    driver: sim', '    points: [{ name: t, signal: sine }]']),
      { reconnect: false, restartHttp: false, nextStart: [], start: ['c'], stop: [] }],
    ['a device removed', site(SITE.replace(/  - name: b[\s\S]*$/, '')),
      { reconnect: false, restartHttp: false, nextStart: [], start: [], stop: ['b'] }],
    ['the broker URL', edit({ 'mqtt://127.0.0.1:1883': 'mqtt://127.0.0.1:1884' }),
      { reconnect: true, restartHttp: false, nextStart: [], start: [], stop: [] }],
    ['the default QoS: points inherit it', edit({ '  url: mqtt://127.0.0.1:1883': '  url: mqtt://127.0.0.1:1883\n  qos: 2' }),
      { reconnect: true, restartHttp: false, nextStart: [], start: ['a', 'b'], stop: ['a', 'b'] }],
    ['the site name: topics and the client id', edit({ 'site: plant-7': 'site: plant-8' }),
      { reconnect: true, restartHttp: false, nextStart: [], start: ['a', 'b'], stop: ['a', 'b'] }],
    ['the topic template', edit({}, ['topic: "x/{device}/{point}"']),
      { reconnect: false, restartHttp: false, nextStart: [], start: ['a', 'b'], stop: ['a', 'b'] }],
    ['journal capacity waits for the next start', edit({ '  path: /tmp/fg-reload-plan/buffer.db': '  path: /tmp/fg-reload-plan/buffer.db\n  max_messages: 5000' }),
      { reconnect: false, restartHttp: false, nextStart: ['buffer.max_messages'], start: [], stop: [] }],
    ['the journal file waits for the next start', edit({ '/tmp/fg-reload-plan/buffer.db': '/tmp/fg-reload-plan/other.db' }),
      { reconnect: false, restartHttp: false, nextStart: ['buffer.path'], start: [], stop: [] }],
    ['a forwarding knob rebuilds the forwarder', edit({ '  path: /tmp/fg-reload-plan/buffer.db': '  path: /tmp/fg-reload-plan/buffer.db\n  inflight: 20' }),
      { reconnect: true, restartHttp: false, nextStart: [], start: [], stop: [] }],
    ['the http block', edit({}, ['http: { listen: "127.0.0.1:9464" }']),
      { reconnect: false, restartHttp: true, nextStart: [], start: [], stop: [] }],
  ];

  it.each(rows)('%s', (_name, after, expected) => {
    const plan = planReload(before, after);
    expect({ reconnect: plan.reconnect, restartHttp: plan.restartHttp, nextStart: plan.nextStart, start: plan.start, stop: plan.stop })
      .toEqual(expected);
  });

  it('keeps the running values of keys that wait for the next start', () => {
    const after = edit({ '/tmp/fg-reload-plan/buffer.db': '/tmp/fg-reload-plan/other.db', '  url: mqtt://127.0.0.1:1883': '  url: mqtt://127.0.0.1:1883\n  qos: 0' });
    const plan = planReload(before, after);
    const running = runningConfig(before, after, plan);
    expect(running.buffer?.path).toBe('/tmp/fg-reload-plan/buffer.db');
    expect(running.mqtt.qos).toBe(0);
  });

  it('treats a key without a rule as needing everything', () => {
    const bare = { type: 'object', properties: { site: {}, mqtt: {} } };
    const after = edit({ 'site: plant-7': 'site: plant-8' });
    const plan = planReload(before, after, bare);
    expect(plan).toMatchObject({ reconnect: true, restartHttp: true, start: ['a', 'b'] });
  });

  it('has a rule for every top-level key of the site file and every buffer key', () => {
    const schema = topLevelSchema() as { properties: Record<string, JsonSchema & { properties?: Record<string, JsonSchema> }> };
    const missing = Object.entries(schema.properties)
      .filter(([key]) => key !== 'devices')
      .flatMap(([key, prop]) => {
        if (reloadEffects(prop) !== undefined) return [];
        const inner = Object.entries(prop.properties ?? {}).filter(([, p]) => reloadEffects(p) === undefined).map(([k]) => `${key}.${k}`);
        return prop.properties && inner.length === 0 ? [] : inner.length > 0 ? inner : [key];
      });
    expect(missing).toEqual([]);
  });
});
