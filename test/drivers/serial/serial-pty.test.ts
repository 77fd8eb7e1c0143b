// The serial driver over a real pty pair made by socat: listen and request/response modes,
// commands, unplug/replug and a port that appears only after start.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SerialPort } from 'serialport';
import type { Driver } from '../../../src/driver-api/index.js';
import { serialDriver, type SerialDeviceConfig } from '../../../drivers/serial/index.js';
import { fakeContext, waitFor } from './fake-context.js';
import { SocatPair, closeQuietly, openDeviceEnd, writeAll } from './socat-pair.js';

let dir: string;
let pair: SocatPair;
let driver: Driver | undefined;
const farEnds: SerialPort[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fieldgate-serial-'));
  pair = new SocatPair(dir);
});

afterEach(async () => {
  await driver?.stop();
  driver = undefined;
  await Promise.all(farEnds.splice(0).map((p) => closeQuietly(p)));
  await pair.kill();
  rmSync(dir, { recursive: true, force: true });
});

function weather(extra: Partial<SerialDeviceConfig> = {}): SerialDeviceConfig {
  return {
    name: 'weather',
    driver: 'serial',
    port: pair.driverEnd,
    baud_rate: 9600,
    delimiter: '\r\n',
    format: 'regex',
    pattern: '^T=(?<temp>-?[\\d.]+),H=(?<hum>[\\d.]+)$',
    points: [
      { name: 'temperature', field: 'temp', unit: 'C', writable: true, command: 'SET T {value}\r\n' },
      { name: 'humidity', field: 'hum' },
    ],
    ...extra,
  };
}

async function farEnd(): Promise<SerialPort> {
  const port = await openDeviceEnd(pair.deviceEnd);
  farEnds.push(port);
  return port;
}

/** Everything the far end receives, as text. */
function recorder(port: SerialPort): () => string {
  let got = '';
  port.on('data', (chunk: Buffer) => (got += chunk.toString('latin1')));
  return () => got;
}

describe('serial driver over a socat pty pair', () => {
  it('listen mode: parses lines as they arrive, counts garbage, skips the partial first line', async () => {
    await pair.start();
    const ctx = fakeContext();
    driver = serialDriver.create(weather(), ctx);
    await driver.start();
    const device = await farEnd();
    await writeAll(device, '=9.9,H=1\r\nT=21.5,H=40.2\r\n%%garbage%%\r\nT=-3.25,H=99\r\n');
    await waitFor('4 readings', () => ctx.readings.length === 4);
    expect(ctx.readings.map((r) => [r.point, r.value])).toEqual([
      ['temperature', 21.5],
      ['humidity', 40.2],
      ['temperature', -3.25],
      ['humidity', 99],
    ]);
    expect(ctx.errorsOf('parse')).toHaveLength(1);
    expect(ctx.errorsOf('connection')).toHaveLength(0);
  });

  it('request/response: writes the request, parses the reply, times out when the device is silent', async () => {
    await pair.start();
    const ctx = fakeContext();
    driver = serialDriver.create(weather({ request: 'R\r\n', interval: '5s', timeout: '400ms' }), ctx);
    await driver.start();
    const device = await farEnd();
    let answering = true;
    let requests = 0;
    device.on('data', (chunk: Buffer) => {
      for (const ch of chunk.toString('latin1')) {
        if (ch !== '\n') continue;
        requests += 1;
        // Answer in two pieces, as a slow device would.
        if (answering) void writeAll(device, `T=2${requests}`).then(() => writeAll(device, '.5,H=50\r\n'));
      }
    });
    const first = await driver.poll!();
    expect(first.map((r) => [r.point, r.value, r.quality])).toEqual([
      ['temperature', 21.5, 'good'],
      ['humidity', 50, 'good'],
    ]);
    expect((await driver.poll!())[0]!.value).toBe(22.5);
    answering = false;
    await expect(driver.poll!()).rejects.toMatchObject({ code: 'timeout' });
    expect(requests).toBe(3);
    // Polled devices do not emit on their own.
    expect(ctx.readings).toEqual([]);
  });

  it('commands: the rendered template arrives at the device', async () => {
    await pair.start();
    const ctx = fakeContext();
    driver = serialDriver.create(weather(), ctx);
    await driver.start();
    const received = recorder(await farEnd());
    await driver.write!('temperature', 22.5);
    await driver.write!('temperature', 1e-7);
    await waitFor('command at the device', () => received().length >= 'SET T 22.5\r\nSET T 0.0000001\r\n'.length);
    expect(received()).toBe('SET T 22.5\r\nSET T 0.0000001\r\n');
  });

  it('unplug and replug, three times: reports each loss, then resumes with the same driver', async () => {
    await pair.start();
    const ctx = fakeContext();
    driver = serialDriver.create(weather({ reconnect: { initial: '200ms', max: '400ms' } }), ctx);
    await driver.start();
    for (let cycle = 1; cycle <= 3; cycle += 1) {
      const device = await farEnd();
      // Lines keep flowing while the cable is pulled: a hang-up in the middle of a read is the
      // case serialport itself misses.
      const before = ctx.readings.length;
      const streaming = setInterval(() => device.isOpen && device.write(`T=${cycle},H=${cycle}\r\n`), 5);
      try {
        await waitFor(`readings in cycle ${cycle}`, () => ctx.readings.length >= before + 4);
        expect(ctx.readings.at(-1)!.value).toBe(cycle);
        await pair.kill();
        await waitFor(`connection loss ${cycle} reported`, () => ctx.errorsOf('connection').length === cycle);
      } finally {
        clearInterval(streaming);
      }
      await expect(driver.write!('temperature', 5)).rejects.toMatchObject({ code: 'disconnected' });
      expect(ctx.recovered).toBe(cycle - 1);
      await closeQuietly(device);
      await pair.start();
      await waitFor(`reopen ${cycle}`, () => ctx.recovered === cycle);
    }
    const received = recorder(await farEnd());
    await driver.write!('temperature', 6);
    await waitFor('command after replug', () => received() === 'SET T 6\r\n');
    expect(ctx.errorsOf('connection')).toHaveLength(3);
  });

  it('port missing at start: retried with the default reconnect backoff until socat appears', async () => {
    const ctx = fakeContext();
    driver = serialDriver.create(weather(), ctx);
    await driver.start();
    expect(ctx.errorsOf('connection')).toHaveLength(1);
    expect(String((ctx.errorsOf('connection')[0]!.err as Error).message)).toContain(pair.driverEnd);
    await new Promise((r) => setTimeout(r, 300));
    await pair.start();
    await waitFor('opened', () => ctx.recovered === 1, 5000);
    const device = await farEnd();
    await writeAll(device, '\r\nT=7,H=8\r\n');
    await waitFor('readings', () => ctx.readings.length === 2);
    expect(ctx.errorsOf('connection')).toHaveLength(1);
  });
});
