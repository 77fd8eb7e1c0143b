// End to end: simulated devices on socat pty pairs → serial driver inside a real Gateway →
// mosquitto, with a /set command written back to the device.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SerialPort } from 'serialport';
import type { DeviceConfigBase, DriverEntry, DriverFactory } from '../../../src/driver-api/index.js';
import { drivers } from '../../../drivers/index.js';
import { serialDriver } from '../../../drivers/serial/index.js';
import { collect, startMosquitto, type Broker } from '../../integration/harness/index.js';
import { startTestGateway } from '../../integration/harness/test-gateway.js';
import { SocatPair, closeQuietly, openDeviceEnd, writeAll } from './socat-pair.js';

const driverList: readonly DriverEntry[] = drivers.some((d) => d.type === 'serial')
  ? drivers
  : [...drivers, serialDriver as DriverFactory<DeviceConfigBase>];

let broker: Broker;
let dir: string;
let stationPair: SocatPair;
let meterPair: SocatPair;
const farEnds: SerialPort[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  dir = mkdtempSync(join(tmpdir(), 'fieldgate-serial-e2e-'));
  stationPair = new SocatPair(join(dir, 'station'));
  meterPair = new SocatPair(join(dir, 'meter'));
  mkdirSync(join(dir, 'station'));
  mkdirSync(join(dir, 'meter'));
  await stationPair.start();
  await meterPair.start();
});

afterAll(async () => {
  await Promise.all(farEnds.map((p) => closeQuietly(p)));
  await stationPair?.kill();
  await meterPair?.kill();
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** A weather station that answers "R" and takes "SET T <value>" (acknowledged with OK). */
async function startStation(): Promise<{ commands: string[] }> {
  const port = await openDeviceEnd(stationPair.deviceEnd);
  farEnds.push(port);
  const state = { setpoint: '20.0', commands: [] as string[] };
  let buffer = '';
  port.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    let end: number;
    while ((end = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (line === 'R') void writeAll(port, `T=21.5,H=40.2,S=${state.setpoint}\r\n`);
      const set = /^SET T (.+)$/.exec(line);
      if (set) {
        state.commands.push(line);
        state.setpoint = set[1]!;
        void writeAll(port, 'OK\r\n');
      }
    }
  });
  return state;
}

describe('serial devices through the gateway', () => {
  it('publishes polled and listened readings and writes /set commands to the port', async () => {
    const station = await startStation();
    const meter = await openDeviceEnd(meterPair.deviceEnd);
    farEnds.push(meter);
    const gw = await startTestGateway({
      drivers: driverList,
      siteYaml: `site: ser
gateway: gw1
mqtt: { url: ${broker.url} }
buffer: { path: buffer.db }
devices:
  - name: weather
    driver: serial
    port: ${stationPair.driverEnd}
    delimiter: "\\r\\n"
    request: 'R\\r\\n'
    interval: 200ms
    timeout: 150ms
    format: regex
    pattern: '^T=(?<temp>-?[\\d.]+),H=(?<hum>[\\d.]+),S=(?<set>[\\d.]+)$'
    ignore_lines: '^OK$'
    points:
      - { name: temperature, field: temp, unit: C }
      - { name: humidity, field: hum }
      - { name: setpoint, field: set, writable: true, command: "SET T {value}\\r\\n", min: 5, max: 35 }
  - name: flow
    driver: serial
    port: ${meterPair.driverEnd}
    format: csv
    columns: 2
    points:
      - { name: rate, field: 0, unit: l/min }
      - { name: valve, field: 1, type: bool }
`,
    });
    const sub = await collect(broker.url, 'ser/#');
    const pub = await collect(broker.url, 'unused/none');
    const valueOf = (topic: string): unknown => {
      const m = [...sub.messages].reverse().find((x) => x.topic === topic);
      return m ? (JSON.parse(m.payload.toString()) as { value: unknown }).value : undefined;
    };
    try {
      await sub.waitFor(() => valueOf('ser/weather/temperature') === 21.5 && valueOf('ser/weather/setpoint') === 20, 10_000);

      // The meter talks on its own; the first (possibly partial) line after opening is skipped.
      const streaming = setInterval(() => void writeAll(meter, '12.5,on\n'), 50);
      try {
        await sub.waitFor(() => valueOf('ser/flow/rate') === 12.5 && valueOf('ser/flow/valve') === true, 10_000);
      } finally {
        clearInterval(streaming);
      }

      await new Promise((r) => setTimeout(r, 300)); // the gateway subscribes to /set right after connecting
      await pub.client.publishAsync('ser/weather/setpoint/set', '22.5', { qos: 1 });
      await sub.waitFor((m) => m.some((x) => x.topic === 'ser/weather/setpoint/set/result'), 5000);
      const result = sub.messages.find((x) => x.topic === 'ser/weather/setpoint/set/result')!;
      expect(JSON.parse(result.payload.toString())).toMatchObject({ ok: true });
      expect(station.commands).toEqual(['SET T 22.5']);
      await sub.waitFor(() => valueOf('ser/weather/setpoint') === 22.5, 5000);
    } finally {
      await gw.stop();
      await sub.close();
      await pub.close();
    }
  });
});
