// The spine end to end: sim device → journal → real mosquitto, with commands the other way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startMosquitto, type Broker } from './harness/index.js';
import { startTestGateway } from './harness/test-gateway.js';
import { assertContiguous, seqsOf, simSite } from './site-yaml.js';

let broker: Broker;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.dispose();
});

describe('gateway → mosquitto', () => {
  it('publishes JSON readings with ts, seq and unit, and a retained online status', async () => {
    const sub = await collect(broker.url, 'e2e/#');
    const gw = await startTestGateway({
      siteYaml: `site: e2e
gateway: gw1
mqtt: { url: ${broker.url} }
buffer: { path: buffer.db }
devices:
  - name: boiler
    driver: sim
    interval: 50ms
    tags: { area: north }
    points:
      - { name: n, signal: counter }
      - { name: temp, signal: constant, value: 21.5, unit: C, topic: "{site}/{area}/temperature", retain: true, qos: 0 }
`,
    });
    try {
      await sub.waitFor((m) => m.filter((x) => x.topic === 'e2e/boiler/n').length >= 5, 10_000);
      const status = sub.messages.find((m) => m.topic === 'e2e/gw1/status');
      expect(status?.payload.toString()).toBe('online');
      const temp = sub.messages.find((m) => m.topic === 'e2e/north/temperature')!;
      const body = JSON.parse(temp.payload.toString()) as Record<string, unknown>;
      expect(body).toMatchObject({ value: 21.5, unit: 'C' });
      expect(typeof body.seq).toBe('number');
      expect(Date.parse(body.ts as string)).toBeGreaterThan(Date.now() - 60_000);
      const counter = sub.messages.filter((m) => m.topic === 'e2e/boiler/n').map((m) => JSON.parse(m.payload.toString()) as { value: number });
      expect(counter.slice(0, 5).map((c) => c.value)).toEqual([0, 1, 2, 3, 4]);
      assertContiguous(seqsOf(sub.messages));
    } finally {
      await gw.stop();
      await sub.waitFor((m) => m.some((x) => x.topic === 'e2e/gw1/status' && x.payload.toString() === 'offline'), 5000);
      await sub.close();
    }
  });

  it('writes commands, replies on /set/result and publishes the read-back', async () => {
    const gw = await startTestGateway({
      siteYaml: `site: cmd
gateway: gw1
mqtt: { url: ${broker.url} }
buffer: { path: buffer.db }
devices:
  - name: boiler
    driver: sim
    interval: 10s
    points:
      - { name: setpoint, signal: constant, value: 50, writable: true, min: 20, max: 90, deadband: 100 }
`,
    });
    const sub = await collect(broker.url, 'cmd/boiler/#');
    const pub = await collect(broker.url, 'unused/none');
    try {
      await sub.waitFor((m) => m.some((x) => x.topic === 'cmd/boiler/setpoint'), 5000);
      await new Promise((r) => setTimeout(r, 300)); // the gateway subscribes right after connecting
      await pub.client.publishAsync('cmd/boiler/setpoint/set', '{"value": 72.5}', { qos: 1 });
      await sub.waitFor((m) => m.some((x) => x.topic === 'cmd/boiler/setpoint/set/result'), 5000);
      const result = JSON.parse(sub.messages.find((x) => x.topic === 'cmd/boiler/setpoint/set/result')!.payload.toString()) as Record<string, unknown>;
      expect(result).toEqual({ ok: true, value: 72.5 });
      // Read-back is published although deadband 100 would suppress it.
      await sub.waitFor((m) => m.some((x) => x.topic === 'cmd/boiler/setpoint' && x.payload.toString().includes('"value":72.5')), 5000);

      await pub.client.publishAsync('cmd/boiler/setpoint/set', '500', { qos: 1 });
      await sub.waitFor((m) => m.filter((x) => x.topic === 'cmd/boiler/setpoint/set/result').length >= 2, 5000);
      const rejected = JSON.parse(sub.messages.filter((x) => x.topic === 'cmd/boiler/setpoint/set/result')[1]!.payload.toString()) as Record<string, unknown>;
      expect(rejected.ok).toBe(false);
      expect(String(rejected.error)).toMatch(/maximum 90/);

      await pub.client.publishAsync('cmd/boiler/setpoint/set', '[1,2]', { qos: 1 });
      await sub.waitFor((m) => m.filter((x) => x.topic === 'cmd/boiler/setpoint/set/result').length >= 3, 5000);
      const garbage = JSON.parse(sub.messages.filter((x) => x.topic === 'cmd/boiler/setpoint/set/result')[2]!.payload.toString()) as Record<string, unknown>;
      expect(garbage.ok).toBe(false);
      // Nothing invalid was written: the device still holds 72.5.
      const readings = await gw.gateway['devices'].get('boiler')!.readOnce();
      expect(readings[0]!.value).toBe(72.5);
    } finally {
      await gw.stop();
      await sub.close();
      await pub.close();
    }
  });
});
