// Driver logic against serialport's mock binding: parsing, reporting, request/response and commands.
// Real ptys and hot-plug are covered by serial-pty.test.ts.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialPortMock } from 'serialport';
import { CommandError, DeviceError } from '../../../src/driver-api/index.js';
import { SerialDriver, type SerialDeviceConfig } from '../../../drivers/serial/index.js';
import type { PortLike, PortOpener } from '../../../drivers/serial/serial-link.js';
import { fakeContext, waitFor, type FakeContext } from './fake-context.js';

let seq = 0;
const drivers: SerialDriver[] = [];

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.stop()));
  SerialPortMock.binding.reset();
});

interface Rig {
  driver: SerialDriver;
  ctx: FakeContext;
  path: string;
  /** Ports the driver has opened so far. */
  opened: SerialPortMock[];
  /** The port the driver opened last. */
  port(): SerialPortMock;
  send(text: string): void;
  written(): string;
}

interface RigOptions {
  createPort?: boolean;
  now?: () => number;
  /** A real file standing in for the device node, for the path check. */
  path?: string;
  watchMs?: number;
  backoff?: { initialMs: number; maxMs: number };
}

function rig(extra: Partial<SerialDeviceConfig>, options: RigOptions = {}): Rig {
  const path = options.path ?? `/dev/mock${(seq += 1)}`;
  if (options.createPort !== false) SerialPortMock.binding.createPort(path, { record: true });
  const opened: SerialPortMock[] = [];
  const opener: PortOpener = (s) => {
    const p = new SerialPortMock({ path: s.path, baudRate: s.baudRate, autoOpen: false });
    opened.push(p);
    return p as unknown as PortLike;
  };
  const device: SerialDeviceConfig = {
    name: 'weather',
    driver: 'serial',
    port: path,
    format: 'regex',
    pattern: '^T=(?<temp>-?[\\d.]+),H=(?<hum>[\\d.]+)$',
    first_line: 'parse',
    points: [
      { name: 'temperature', field: 'temp' },
      { name: 'humidity', field: 'hum' },
    ],
    ...extra,
  };
  const ctx = fakeContext('weather', options.now);
  const driver = new SerialDriver(device, ctx, { opener, backoff: options.backoff ?? { initialMs: 40, maxMs: 80 }, watchMs: options.watchMs ?? 0 });
  drivers.push(driver);
  const port = (): SerialPortMock => opened[opened.length - 1]!;
  return {
    driver,
    ctx,
    path,
    opened,
    port,
    send: (text) => port().port!.emitData(Buffer.from(text, 'latin1')),
    written: () => port().port!.recording.toString('latin1'),
  };
}

describe('listen mode', () => {
  it('emits several points from one line with the arrival time', async () => {
    let now = 1_000;
    const r = rig({ delimiter: '\r\n' }, { now: () => now });
    await r.driver.start();
    now = 5_000;
    r.send('T=21.5,H=40.2\r\n');
    await waitFor('readings', () => r.ctx.readings.length === 2);
    expect(r.ctx.readings).toEqual([
      { point: 'temperature', value: 21.5, ts: 5_000, quality: 'good' },
      { point: 'humidity', value: 40.2, ts: 5_000, quality: 'good' },
    ]);
    expect(await r.driver.poll()).toEqual([]);
  });

  it('counts a garbage line as parse, logs it at debug, and emits nothing for it', async () => {
    const r = rig({});
    await r.driver.start();
    r.send(`${'#'.repeat(300)}\nT=1,H=2\n`);
    await waitFor('good line', () => r.ctx.readings.length === 2);
    expect(r.ctx.errorsOf('parse')).toHaveLength(1);
    const err = r.ctx.errorsOf('parse')[0]!.err as DeviceError;
    expect(err).toBeInstanceOf(DeviceError);
    expect(err.message).toContain('does not match pattern');
    const log = r.ctx.logs.find((l) => l.msg === 'serial line did not parse')!;
    expect(log).toMatchObject({ level: 20, device: 'weather' });
    expect(String(log.line)).toMatch(/^#{120}… \(300 chars\)$/);
  });

  it('counts a line with invalid UTF-8 as parse and publishes nothing from it (never U+FFFD)', async () => {
    const r = rig({ pattern: '^NAME=(?<name>.*)$', points: [{ name: 'name', type: 'string' }] });
    await r.driver.start();
    r.port().port!.emitData(Buffer.concat([Buffer.from('NAME=caf'), Buffer.from([0xc3, 0x28]), Buffer.from('\nNAME=café\n')]));
    await waitFor('good line', () => r.ctx.readings.length === 1);
    expect(r.ctx.readings.map((x) => x.value)).toEqual(['café']);
    expect(r.ctx.errorsOf('parse')).toHaveLength(1);
    expect(String((r.ctx.errorsOf('parse')[0]!.err as Error).message)).toMatch(/invalid UTF-8 \(at byte 9 \(0x28\)\)/);
    // An overlong encoding and a lone continuation byte are invalid too.
    r.port().port!.emitData(Buffer.from([...Buffer.from('NAME='), 0xc0, 0xaf, 0x0a, ...Buffer.from('NAME='), 0x80, 0x0a]));
    await waitFor('two more parse errors', () => r.ctx.errorsOf('parse').length === 3);
    expect(r.ctx.readings).toHaveLength(1);
  });

  it('emits the good points of a line and counts the bad one', async () => {
    const r = rig({ pattern: '^T=(?<temp>\\S+),H=(?<hum>\\S+)$' });
    await r.driver.start();
    r.send('T=ERR,H=55\n');
    await waitFor('reading', () => r.ctx.readings.length === 1);
    expect(r.ctx.readings[0]).toMatchObject({ point: 'humidity', value: 55 });
    expect(r.ctx.errorsOf('parse')).toHaveLength(1);
    expect(String((r.ctx.errorsOf('parse')[0]!.err as Error).message)).toContain('temperature: field "temp": not a number: "ERR"');
  });

  it('skips the partial first line after opening by default', async () => {
    const r = rig({ first_line: undefined, format: 'csv', pattern: undefined, points: [{ name: 'temperature', field: 0 }] });
    await r.driver.start();
    r.send('1.5\n21.5\n');
    await waitFor('reading', () => r.ctx.readings.length === 1);
    expect(r.ctx.readings[0]!.value).toBe(21.5);
    expect(r.ctx.errors).toEqual([]);
  });

  it('drops blank and ignored lines silently', async () => {
    const r = rig({ ignore_lines: '^(OK|# .*)$' });
    await r.driver.start();
    r.send('\n\r\nOK\n# booting v1.2\nT=3,H=4\n');
    await waitFor('readings', () => r.ctx.readings.length === 2);
    expect(r.ctx.errors).toEqual([]);
  });

  it('cuts an endless line at max_line, counts one overflow, and resumes at the next delimiter', async () => {
    const r = rig({ max_line: 32 });
    await r.driver.start();
    for (let i = 0; i < 10; i += 1) r.send('x'.repeat(20));
    r.send('tail\nT=7,H=8\n');
    await waitFor('readings', () => r.ctx.readings.length === 2);
    expect(r.ctx.errorsOf('overflow')).toHaveLength(1);
    expect(r.ctx.errorsOf('parse')).toHaveLength(0);
    expect(r.ctx.readings.map((x) => x.value)).toEqual([7, 8]);
  });

  it('decodes escapes written in single-quoted YAML', async () => {
    const r = rig({ delimiter: '\\r\\n' });
    await r.driver.start();
    r.send('T=1,H=2\r\n');
    await waitFor('readings', () => r.ctx.readings.length === 2);
    expect(r.ctx.errors).toEqual([]);
  });
});

describe('request/response mode', () => {
  const request = { request: 'R\\r\\n', delimiter: '\r\n', timeout: '300ms' };

  /** Polls, and answers each request with the next reply once it has been written. */
  async function pollWith(r: Rig, replies: string[]): Promise<Awaited<ReturnType<SerialDriver['poll']>>> {
    const before = r.written().split('R\r\n').length;
    const result = r.driver.poll();
    await waitFor('request written', () => r.written().split('R\r\n').length > before);
    for (const reply of replies) r.send(reply);
    return result;
  }

  it('writes the request and parses the reply', async () => {
    const r = rig(request, { now: () => 42 });
    await r.driver.start();
    expect(await pollWith(r, ['T=21', '.5,H=40\r\n'])).toEqual([
      { point: 'temperature', value: 21.5, ts: 42, quality: 'good' },
      { point: 'humidity', value: 40, ts: 42, quality: 'good' },
    ]);
    expect(r.written()).toBe('R\r\n');
  });

  it('rejects with a timeout DeviceError when nothing answers', async () => {
    const r = rig(request);
    await r.driver.start();
    const started = Date.now();
    const err = await r.driver.poll().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as DeviceError).code).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('reports a point missing from the reply as bad, never with a made-up value', async () => {
    const r = rig({ ...request, format: 'kv', pattern: undefined, points: [{ name: 'temperature', field: 'T' }, { name: 'humidity', field: 'H' }] });
    await r.driver.start();
    const readings = await pollWith(r, ['T=20\r\n']);
    expect(readings[0]).toMatchObject({ point: 'temperature', value: 20, quality: 'good' });
    expect(readings[1]).toMatchObject({ point: 'humidity', value: null, quality: 'bad', error: 'field "H" missing' });
    expect(r.ctx.errorsOf('parse')).toHaveLength(1);
  });

  it('reads a multi-line reply', async () => {
    const r = rig({ ...request, reply_lines: 2, format: 'kv', pattern: undefined, points: [{ name: 'temperature', field: 'T' }, { name: 'humidity', field: 'H' }] });
    await r.driver.start();
    const readings = await pollWith(r, ['T=20\r\n', 'H=30\r\n']);
    expect(readings.map((x) => x.value)).toEqual([20, 30]);
  });

  it('drops lines outside a request and a stale fragment before the reply', async () => {
    const r = rig(request);
    await r.driver.start();
    r.send('T=99,H=99\r\nT=9');
    await new Promise((res) => setTimeout(res, 30));
    expect(r.ctx.readings).toEqual([]);
    const readings = await pollWith(r, ['T=1,H=2\r\n']);
    expect(readings.map((x) => x.value)).toEqual([1, 2]);
  });

  it('a reply line with invalid UTF-8 completes the reply as a bad line, without waiting for the timeout', async () => {
    const r = rig({ ...request, timeout: '5s', interval: '10s' });
    await r.driver.start();
    const before = r.written().split('R\r\n').length;
    const started = Date.now();
    const result = r.driver.poll();
    await waitFor('request written', () => r.written().split('R\r\n').length > before);
    r.port().port!.emitData(Buffer.from([...Buffer.from('T=1,H=2'), 0xff, 0x0d, 0x0a]));
    const readings = await result;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(readings.every((x) => x.quality === 'bad' && x.value === null && /invalid UTF-8/.test(x.error!))).toBe(true);
    expect(r.ctx.errorsOf('parse')).toHaveLength(1);
  });

  it('turns a garbage reply into bad readings and a parse count', async () => {
    const r = rig(request);
    await r.driver.start();
    const readings = await pollWith(r, ['ERR 17\r\n']);
    expect(readings.every((x) => x.quality === 'bad' && x.value === null && x.error === 'does not match pattern')).toBe(true);
    expect(r.ctx.errorsOf('parse')).toHaveLength(1);
  });
});

describe('commands', () => {
  const writable = {
    points: [
      { name: 'temperature', field: 'temp', writable: true, command: 'SET T {value}\\r\\n' },
      { name: 'humidity', field: 'hum' },
      { name: 'relay', field: 'temp', type: 'bool' as const, writable: true, command: 'RELAY {value}\n' },
    ],
  };

  it('renders the template and writes it to the port', async () => {
    const r = rig(writable);
    await r.driver.start();
    await r.driver.write('temperature', 22.5);
    await r.driver.write('relay', true);
    expect(r.written()).toBe('SET T 22.5\r\nRELAY 1\n');
  });

  it('refuses over-long values, controls as a class and the delimiter; nothing reaches the port', async () => {
    const r = rig({
      delimiter: ';',
      points: [
        { name: 'temperature', field: 'temp' },
        { name: 'humidity', field: 'hum' },
        { name: 'label', field: 'temp', type: 'string' as const, writable: true, command: 'LBL {value};', max_length: 8 },
        { name: 'mode', field: 'temp', type: 'string' as const, writable: true, command: '{"mode":"{value}"};' },
      ],
    });
    await r.driver.start();
    for (const value of ['123456789', 'x'.repeat(1024 * 1024), 'a\u0085b', 'a\u2028b', 'a;RESET', 'a\rb']) {
      await expect(r.driver.write('label', value), JSON.stringify(value.slice(0, 20))).rejects.toBeInstanceOf(CommandError);
    }
    await expect(r.driver.write('label', 'x'.repeat(1024 * 1024))).rejects.toMatchObject({ code: 'too_long' });
    expect(r.written()).toBe('');
    await r.driver.write('label', '12345678');
    await r.driver.write('mode', 'eco","admin":"1');
    expect(r.written()).toBe('LBL 12345678;{"mode":"eco\\",\\"admin\\":\\"1"};');
  });

  it('rejects points that cannot be written with a CommandError', async () => {
    const r = rig(writable);
    await r.driver.start();
    await expect(r.driver.write('humidity', 1)).rejects.toMatchObject({ code: 'not_writable' });
    await expect(r.driver.write('nope', 1)).rejects.toMatchObject({ code: 'unknown_point' });
    await expect(r.driver.write('relay', 'maybe')).rejects.toBeInstanceOf(CommandError);
    expect(r.written()).toBe('');
  });

  it('rejects with a DeviceError while the port is closed', async () => {
    const r = rig(writable, { createPort: false });
    await r.driver.start();
    const err = await r.driver.write('temperature', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as DeviceError).code).toBe('disconnected');
  });
});

describe('port missing at start', () => {
  it('reports the outage once, retries, and recovers when the port appears', async () => {
    const r = rig({}, { createPort: false });
    await r.driver.start();
    expect(r.ctx.errorsOf('connection')).toHaveLength(1);
    await new Promise((res) => setTimeout(res, 250));
    // Several attempts failed by now, but the outage is one report.
    expect(r.ctx.errorsOf('connection')).toHaveLength(1);
    expect(r.ctx.logs.some((l) => l.msg === 'serial port still unavailable')).toBe(true);
    SerialPortMock.binding.createPort(r.path, { record: true });
    await waitFor('recovered', () => r.ctx.recovered === 1);
    r.send('T=5,H=6\n');
    await waitFor('readings', () => r.ctx.readings.length === 2);
  });
});

describe('a port that drops right after each open', () => {
  it('is reopened at a growing interval, and at the shortest again after a stable spell', async () => {
    const r = rig({}, { backoff: { initialMs: 40, maxMs: 320 } });
    await r.driver.start();
    let closing = true;
    const closer = (async () => {
      while (closing) {
        const p = r.opened.at(-1);
        if (p?.isOpen) p.close();
        await new Promise((res) => setTimeout(res, 2));
      }
    })();
    try {
      await new Promise((res) => setTimeout(res, 1000));
    } finally {
      closing = false;
      await closer;
    }
    // Reset at every open, this was a reopen every 20–40 ms: 25 or more in a second. Growing
    // (20–40, 40–80, 80–160, then 160–320 ms): at most 8.
    expect(r.opened.length).toBeGreaterThanOrEqual(4);
    expect(r.opened.length).toBeLessThanOrEqual(8);
    await waitFor('open again', () => r.port().isOpen);
    await new Promise((res) => setTimeout(res, 350));
    const count = r.opened.length;
    r.port().close();
    const closedAt = Date.now();
    await waitFor('reopened', () => r.opened.length > count && r.port().isOpen);
    // Open longer than the cap: the backoff started over.
    expect(Date.now() - closedAt).toBeLessThan(120);
  });
});

describe('device path check', () => {
  it('notices a port whose device node vanished even when serialport says nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldgate-serial-node-'));
    try {
      const node = join(dir, 'ttyUSB0');
      writeFileSync(node, '');
      const r = rig({}, { path: node, watchMs: 20 });
      await r.driver.start();
      await new Promise((res) => setTimeout(res, 60));
      expect(r.ctx.errors).toEqual([]);
      const first = r.port();
      rmSync(node);
      await waitFor('connection reported', () => r.ctx.errorsOf('connection').length === 1);
      expect(String((r.ctx.errorsOf('connection')[0]!.err as Error).message)).toContain('device path gone');
      expect(first.isOpen).toBe(false);
      // A new node under the same name (a replugged adapter) is opened afresh.
      writeFileSync(node, '');
      await waitFor('recovered', () => r.ctx.recovered === 1);
      expect(r.port()).not.toBe(first);
      r.send('T=1,H=2\n');
      await waitFor('readings', () => r.ctx.readings.length === 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('notices a device path that now leads to another node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldgate-serial-node-'));
    try {
      const node = join(dir, 'ttyUSB0');
      writeFileSync(node, '');
      const r = rig({}, { path: node, watchMs: 20 });
      await r.driver.start();
      await new Promise((res) => setTimeout(res, 60));
      // Replaced in one step, as a quick unplug and replug between two checks would look.
      writeFileSync(`${node}.new`, '');
      renameSync(`${node}.new`, node);
      await waitFor('connection reported', () => r.ctx.errorsOf('connection').length === 1);
      expect(String((r.ctx.errorsOf('connection')[0]!.err as Error).message)).toContain('another device');
      await waitFor('recovered', () => r.ctx.recovered === 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
