// Home Assistant discovery through a real gateway and mosquitto: retained device messages and
// per-device availability (a dead meter offline while the gateway is online), the re-announcement
// on Home Assistant's birth message, and removals after a reload.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, freePort, registerBrokerCleanup, startMosquitto, type Broker } from './harness/index.js';
import { startTestGateway, writeSite } from './harness/test-gateway.js';
import { loadSite } from '../../src/config/load-site.js';
import { drivers } from '../../drivers/index.js';

registerBrokerCleanup();
let broker: Broker;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.dispose();
});

const GW = 'homeassistant/device/fieldgate_ha_gw/config';
const ALIVE = 'homeassistant/device/fieldgate_ha_gw_alive/config';
const DEAD = 'homeassistant/device/fieldgate_ha_gw_dead/config';

function site(url: string, deadPort: number, withDead: boolean, withLevel: boolean): string {
  return `site: ha
gateway: gw
mqtt: { url: "${url}" }
homeassistant: { enabled: true }
devices:
  - name: alive
    driver: sim
    interval: 200ms
    points:
      - { name: count, signal: counter, unit: kWh }
${withLevel ? '      - { name: level, signal: sine, unit: V }\n' : ''}${withDead ? `  - name: dead
    driver: modbus
    interval: 200ms
    tcp: { host: 127.0.0.1, port: ${deadPort} }
    timeout: 200ms
    reconnect: { initial: 50ms, max: 100ms }
    points:
      - { name: relay, table: coil, address: 0, writable: true }
` : ''}`;
}

const last = (messages: readonly { topic: string; payload: Buffer }[], topic: string) =>
  messages.filter((m) => m.topic === topic).at(-1)?.payload.toString();

describe('Home Assistant discovery through the gateway', () => {
  it('announces devices with their availability, again on the birth message, and removes what a reload dropped', async () => {
    const deadPort = await freePort(); // nothing listens: the meter cannot be reached
    const gw = await startTestGateway({ siteYaml: site(broker.url, deadPort, true, true) });
    try {
      const seen = await collect(broker.url, 'homeassistant/#');
      const avail = await collect(broker.url, 'ha/gw/status/device/#');
      await seen.waitFor((m) => [GW, ALIVE, DEAD].every((t) => m.some((x) => x.topic === t)), 5000);
      const alive = JSON.parse(last(seen.messages, ALIVE)!) as { cmps: Record<string, Record<string, unknown>>; avty: unknown };
      expect(Object.keys(alive.cmps)).toEqual(['count', 'level']);
      expect(alive.cmps.count).toMatchObject({ p: 'sensor', dev_cla: 'energy', stat_cla: 'total_increasing', stat_t: 'ha/alive/count' });
      expect(alive.avty).toEqual([{ t: 'ha/gw/status' }, { t: 'ha/gw/status/device/alive' }]);
      expect(JSON.parse(last(seen.messages, DEAD)!).cmps.relay).toMatchObject({ p: 'switch', cmd_t: 'ha/dead/relay/set' });
      expect(seen.messages.every((m) => m.payload.length > 0)).toBe(true);

      // The dead meter turns offline while the gateway and the sim device stay online.
      await avail.waitFor((m) => last(m, 'ha/gw/status/device/dead') === 'offline' && last(m, 'ha/gw/status/device/alive') === 'online', 5000);

      // Home Assistant restarts: its birth message brings every discovery message again.
      const before = seen.messages.filter((m) => m.topic === ALIVE).length;
      const ha = await mqtt.connectAsync(broker.url);
      await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
      await seen.waitFor((m) => m.filter((x) => x.topic === ALIVE).length > before, 5000);

      // Reload without the dead meter and without `level`.
      const mark = seen.messages.length;
      const file = writeSite(gw.dir, site(broker.url, deadPort, false, false));
      await gw.gateway.reload(loadSite(file, process.env, drivers));
      await seen.waitFor((m) => m.slice(mark).some((x) => x.topic === DEAD && x.payload.length === 0), 5000);
      await seen.waitFor((m) => m.slice(mark).filter((x) => x.topic === ALIVE).length >= 2, 5000);
      const [stub, full] = seen.messages.slice(mark).filter((x) => x.topic === ALIVE).map((x) => JSON.parse(x.payload.toString()) as { cmps: Record<string, unknown> });
      expect(stub!.cmps.level).toEqual({ p: 'sensor' });
      expect(Object.keys(full!.cmps)).toEqual(['count']);
      await avail.waitFor((m) => m.some((x) => x.topic === 'ha/gw/status/device/dead' && x.payload.length === 0), 5000);

      // What a Home Assistant starting now finds retained: no trace of the dead meter.
      const fresh = await collect(broker.url, 'homeassistant/device/#');
      await fresh.waitFor((m) => m.some((x) => x.topic === ALIVE), 5000);
      await new Promise((r) => setTimeout(r, 200));
      expect(fresh.messages.map((m) => m.topic).sort()).toEqual([GW, ALIVE].sort());
      await Promise.all([seen.close(), avail.close(), fresh.close(), ha.endAsync()]);
    } finally {
      await gw.stop();
    }
  });
});
