// End to end: the demo meter (Modbus TCP) → the gateway → mosquitto → a subscriber, and a command
// back to the meter through <topic>/set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../../../drivers/index.js';
import { startModbusMeterSim, type MeterSim } from '../../../src/demo/modbus-meter-sim.js';
import { collect, freePort, startMosquitto, type Broker } from '../../integration/harness/index.js';
import { startTestGateway } from '../../integration/harness/test-gateway.js';

let broker: Broker;
let sim: MeterSim;
beforeAll(async () => {
  broker = await startMosquitto();
  sim = await startModbusMeterSim({ port: await freePort() });
});
afterAll(async () => {
  await sim.stop();
  await broker.dispose();
});

describe('meter → gateway → mosquitto', () => {
  it('publishes decoded, scaled readings and carries a write back to the meter', async () => {
    const sub = await collect(broker.url, 'mb/#');
    const gw = await startTestGateway({
      drivers,
      siteYaml: `site: mb
gateway: gw1
mqtt: { url: ${broker.url} }
buffer: { path: buffer.db }
devices:
  - name: meter
    driver: modbus
    tcp: { host: 127.0.0.1, port: ${sim.port} }
    interval: 100ms
    timeout: 500ms
    points:
      - { name: voltage_l1, table: input, address: 0, type: float32, order: CDAB, unit: V }
      - { name: energy, table: input, address: 20, type: uint32, unit: kWh, scale: 0.001 }
      - { name: model, table: input, address: 40, type: string, length: 8 }
      - { name: power_limit, table: holding, address: 0, type: uint16, writable: true, min: 0, max: 60000 }
      - { name: relay, table: coil, address: 0, writable: true }
`,
    });
    try {
      const json = (topic: string) => sub.messages.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
      await sub.waitFor((m) => m.some((x) => x.topic === 'mb/meter/model') && m.some((x) => x.topic === 'mb/meter/power_limit'), 10_000);
      expect(json('mb/meter/model')[0]!.value).toBe('FG-EM340');
      const volts = json('mb/meter/voltage_l1')[0]!;
      expect(volts.unit).toBe('V');
      expect(volts.value as number).toBeGreaterThan(220);
      // 1 234 567 Wh × 0.001
      expect(json('mb/meter/energy')[0]!.value as number).toBeCloseTo(1234.567, 0);

      await new Promise((r) => setTimeout(r, 300)); // the gateway subscribes to /set right after connecting
      const pub = await collect(broker.url, 'unused/none');
      await pub.client.publishAsync('mb/meter/power_limit/set', '4321', { qos: 1 });
      await sub.waitFor((m) => m.some((x) => x.topic === 'mb/meter/power_limit/set/result'), 5000);
      expect(json('mb/meter/power_limit/set/result')[0]).toMatchObject({ ok: true });
      expect(sim.state.powerLimit).toBe(4321);
      await sub.waitFor((m) => m.some((x) => x.topic === 'mb/meter/power_limit' && x.payload.toString().includes('"value":4321')), 5000);

      await pub.client.publishAsync('mb/meter/power_limit/set', '70000', { qos: 1 });
      await sub.waitFor((m) => m.filter((x) => x.topic === 'mb/meter/power_limit/set/result').length >= 2, 5000);
      expect(json('mb/meter/power_limit/set/result')[1]).toMatchObject({ ok: false });
      expect(sim.state.powerLimit).toBe(4321);
      await pub.close();
    } finally {
      await gw.stop();
      await sub.close();
    }
  });
});
