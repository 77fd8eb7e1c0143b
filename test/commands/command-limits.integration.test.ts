// Commands end to end with real parts: mosquitto, the gateway, a Modbus TCP server (modbus-serial
// ServerTCP) and a serial device behind a socat pty pair. Every refused command gets a short
// /set/result, and nothing at all reaches the device; accepted ones arrive exactly as sent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import M from 'modbus-serial';
import type { SerialPort } from 'serialport';
import { drivers } from '../../drivers/index.js';
import { collect, freePort, startMosquitto, type Broker, type Collector } from '../integration/harness/index.js';
import { startTestGateway, type TestGateway } from '../integration/harness/test-gateway.js';
import { SocatPair, closeQuietly, openDeviceEnd } from '../drivers/serial/socat-pair.js';

const { ServerTCP } = M as unknown as { ServerTCP: new (vector: object, options: object) => ModbusServer };
interface ModbusServer {
  on(event: string, listener: (...args: unknown[]) => void): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
  close(cb: () => void): void;
}

let broker: Broker;
let server: ModbusServer;
let pair: SocatPair;
let dir: string;
let device: SerialPort;
let gw: TestGateway;
let sub: Collector;
let pub: Collector;
const holding = new Array<number>(16).fill(0);
/** Every register write the Modbus server received, in order. */
const registerWrites: Array<[number, number]> = [];
let serialReceived = Buffer.alloc(0);

beforeAll(async () => {
  broker = await startMosquitto();
  const port = await freePort();
  server = new ServerTCP({
    getHoldingRegister: (addr: number) => holding[addr] ?? 0,
    getMultipleHoldingRegisters: (addr: number, length: number) => holding.slice(addr, addr + length),
    setRegister: (addr: number, value: number) => {
      registerWrites.push([addr, value]);
      holding[addr] = value;
    },
  }, { host: '127.0.0.1', port, unitID: 255 });
  server.on('error', () => undefined);
  server.on('socketError', () => undefined);
  await new Promise<void>((resolve) => server.once('initialized', () => resolve()));

  dir = mkdtempSync(join(tmpdir(), 'fieldgate-cmd-'));
  pair = new SocatPair(dir);
  await pair.start();
  device = await openDeviceEnd(pair.deviceEnd);
  device.on('data', (chunk: Buffer) => (serialReceived = Buffer.concat([serialReceived, chunk])));

  sub = await collect(broker.url, 'cmd/+/+/set/result');
  pub = await collect(broker.url, 'unused/none');
  gw = await startTestGateway({
    drivers,
    siteYaml: `site: cmd
gateway: gw1
mqtt: { url: ${broker.url} }
buffer: { path: buffer.db }
devices:
  - name: plc
    driver: modbus
    tcp: { host: 127.0.0.1, port: ${port} }
    interval: 10s
    timeout: 2s
    points:
      - { name: u32, table: holding, address: 0, type: uint32, writable: true }
      - { name: u64, table: holding, address: 2, type: uint64, writable: true }
      - { name: f32, table: holding, address: 6, type: float32, writable: true }
      - { name: temp, table: holding, address: 8, type: int16, scale: 0.1, writable: true }
  - name: panel
    driver: serial
    port: ${pair.driverEnd}
    format: regex
    pattern: '^L=(?<label>.*)$'
    points:
      - { name: label, type: string, writable: true, command: "LABEL {value}\\r\\n" }
      - { name: mode, field: label, type: string, writable: true, command: '{"mode":"{value}"}\\n' }
`,
  });
  // The gateway subscribes right after connecting; retry a harmless command until it answers.
  for (let i = 0; i < 50 && results('cmd/plc/u32/set').length === 0; i += 1) {
    await pub.client.publishAsync('cmd/plc/u32/set', '0', { qos: 1 });
    await sub.waitFor((m) => m.some((x) => x.topic === 'cmd/plc/u32/set/result'), 200).catch(() => undefined);
  }
  expect(results('cmd/plc/u32/set')[0]).toMatchObject({ ok: true });
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all([sub?.close(), pub?.close()]);
  if (device) await closeQuietly(device);
  await pair?.kill();
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function results(topic: string): Array<Record<string, unknown>> {
  return sub.messages.filter((m) => m.topic === `${topic}/result`).map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
}

/** Publishes a command and resolves with its result and the raw size of that result. */
async function command(topic: string, payload: string | Buffer): Promise<{ result: Record<string, unknown>; bytes: number }> {
  const before = results(topic).length;
  await pub.client.publishAsync(topic, payload, { qos: 1 });
  await sub.waitFor((m) => m.filter((x) => x.topic === `${topic}/result`).length > before, 10_000);
  const raw = sub.messages.filter((m) => m.topic === `${topic}/result`)[before]!;
  return { result: JSON.parse(raw.payload.toString()) as Record<string, unknown>, bytes: raw.payload.length };
}

describe('command limits over mosquitto, to real devices', () => {
  it('Modbus: integers only exactly, numbers only in decimal; nothing refused reaches the server', async () => {
    registerWrites.length = 0;
    for (const [topic, payload, error] of [
      ['cmd/plc/u32/set', '600000000.5', /not a whole number/],
      ['cmd/plc/u32/set', '"600000000.5"', /not a whole number/],
      ['cmd/plc/u32/set', '4294967296', /outside the uint32 range/],
      ['cmd/plc/u64/set', '9007199254740993.5', /fraction too small/],
      ['cmd/plc/f32/set', '"0x10"', /decimal/],
      ['cmd/plc/f32/set', '"0b11"', /decimal/],
      ['cmd/plc/f32/set', '"Infinity"', /decimal/],
      ['cmd/plc/temp/set', '21.55', /not a whole number/],
    ] as const) {
      const { result } = await command(topic, payload);
      expect(result, `${topic} ${payload}`).toMatchObject({ ok: false });
      expect(String(result.error), `${topic} ${payload}`).toMatch(error);
    }
    expect(registerWrites).toEqual([]);

    expect((await command('cmd/plc/u32/set', '600000001')).result).toMatchObject({ ok: true });
    expect((await command('cmd/plc/u64/set', '{"value": 9007199254740993}')).result).toEqual({ ok: true, value: '9007199254740993' });
    expect((await command('cmd/plc/f32/set', '"1e3"')).result).toMatchObject({ ok: true });
    expect((await command('cmd/plc/temp/set', '21.5')).result).toMatchObject({ ok: true });
    expect(registerWrites).toEqual([
      [0, 0x23c3], [1, 0x4601], // 600000001
      [2, 0x0020], [3, 0x0000], [4, 0x0000], [5, 0x0001], // 9007199254740993, not …992
      [6, 0x447a], [7, 0x0000], // 1000.0f
      [8, 215],
    ]);
  });

  it('serial: a 1 MB command, an over-long value and control characters get short results and send nothing', async () => {
    serialReceived = Buffer.alloc(0);
    const huge = await command('cmd/panel/label/set', Buffer.alloc(1024 * 1024, 0x78));
    expect(huge.result).toEqual({ ok: false, error: 'command payload is 1048576 bytes; the limit is 4096' });
    expect(huge.bytes).toBeLessThan(200);

    const long = await command('cmd/panel/label/set', 'y'.repeat(4000));
    expect(long.result).toMatchObject({ ok: false, value: `${'y'.repeat(40)}… (4000 chars)` });
    expect(String(long.result.error)).toMatch(/value is 4000 bytes; this point takes at most 64 \(max_length\)/);
    expect(long.bytes).toBeLessThan(300);

    for (const text of ['a\u0085LABEL x', 'a\u2028b', 'a\u2029b', 'a\u202eb', 'a\rb']) {
      const { result } = await command('cmd/panel/label/set', JSON.stringify(text));
      expect(result, JSON.stringify(text)).toMatchObject({ ok: false });
      expect(String(result.error)).toMatch(/control or format character U\+/);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(serialReceived.toString('latin1')).toBe('');

    expect((await command('cmd/panel/label/set', 'Hall 3')).result).toEqual({ ok: true, value: 'Hall 3' });
    expect((await command('cmd/panel/mode/set', '"eco\\",\\"admin\\":\\"1"')).result).toMatchObject({ ok: true });
    const want = 'LABEL Hall 3\r\n{"mode":"eco\\",\\"admin\\":\\"1"}\n';
    for (let i = 0; i < 50 && serialReceived.length < Buffer.byteLength(want); i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(serialReceived.toString('utf8')).toBe(want);
    expect(Object.keys(JSON.parse(want.split('\r\n')[1]!) as object)).toEqual(['mode']);
  });
});
