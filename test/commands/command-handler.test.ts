import { afterEach, describe, expect, it } from 'vitest';
import type { ResolvedDevice } from '../../src/config/resolved-site.js';
import { pino } from 'pino';
import { CommandError, type DeviceConfigBase, type DriverFactory, type PointConfigBase, type Scalar } from '../../src/driver-api/index.js';
import { simDriver, type SimDeviceConfig, type SimPointConfig } from '../../drivers/sim/index.js';
import { CommandHandler, parseCommandPayload, prepareWrite } from '../../src/commands/command-handler.js';
import type { NewEntry, Qos } from '../../src/journal/journal.js';
import { DeviceMapper, type CompiledPoint, type MappingDefaults } from '../../src/mapping/reading-mapper.js';
import { DeviceHost } from '../../src/scheduler/device-host.js';
import { FakeUplink } from '../support/fake-uplink.js';
import { SharedResourcePool } from '../../src/util/shared-resources.js';

const DEFAULTS: MappingDefaults = { site: 'plant1', gateway: 'gw', topic: '{site}/{device}/{point}', payload: 'json', encoding: 'json', qos: 1 };
const silent = pino({ level: 'silent' });

/** Results the handler published, decoded. */
function results(uplink: FakeUplink): Array<{ topic: string; body: unknown }> {
  return uplink.sent.map((m) => ({ topic: m.topic, body: JSON.parse(m.payload.toString()) }));
}

function compiled(point: Partial<PointConfigBase>): CompiledPoint {
  const p: PointConfigBase = { name: 'sp', ...point };
  return new DeviceMapper({ name: 'd', driver: 'sim', points: [p] }, DEFAULTS).points.get('sp')!;
}

describe('parseCommandPayload', () => {
  it.each([
    ['42', 42],
    ['-3.5', -3.5],
    ['1e3', 1000],
    ['  7  ', 7],
    ['true', true],
    ['false', false],
    ['"auto"', 'auto'],
    ['""', ''],
    ['"42"', '42'],
    ['{"value":21.5}', 21.5],
    ['{"value":false}', false],
    ['{"value":"eco"}', 'eco'],
    ['{"value":1,"extra":"ignored"}', 1],
    // Whole numbers are exact at any size: read from the payload text, never rounded by JSON.parse.
    ['9007199254740993', 9007199254740993n],
    ['{"value":9007199254740993}', 9007199254740993n],
    ['{ "note": {"value": 1}, "value" : -9223372036854775808 }', -9223372036854775808n],
    ['{"value":1,"value":18446744073709551615}', 18446744073709551615n],
    ['{"value":"9007199254740993"}', '9007199254740993'],
    ['1e20', 100000000000000000000n],
    ['600000000.5', 600000000.5],
    // Not JSON: the text itself, trimmed.
    ['on', 'on'],
    ['  heat mode \n', 'heat mode'],
    ['NaN', 'NaN'],
    ['0x10', '0x10'],
    ['{broken', '{broken'],
    ['ünïcödé', 'ünïcödé'],
  ])('%s → %s', (text, expected) => {
    expect(parseCommandPayload(Buffer.from(text))).toBe(expected);
  });

  it.each([
    ['a fraction a float cannot keep', '1.00000000000000000001'],
    ['a fraction beyond 2^53', '9007199254740993.5'],
    ['the same inside {"value": …}', '{"value":9007199254740993.5}'],
    ['an out-of-range number', '1e400'],
    ['an out-of-range number inside {"value": …}', '{"value":-1e400}'],
  ])('rejects %s', (_name, text) => {
    expect(() => parseCommandPayload(Buffer.from(text))).toThrow(CommandError);
  });

  it('refuses a payload over the size limit before reading it', () => {
    const big = Buffer.alloc(4097, 0x31);
    expect(() => parseCommandPayload(big)).toThrow(/command payload is 4097 bytes; the limit is 4096/);
    expect(parseCommandPayload(Buffer.alloc(4096, 0x20).fill('7', 0, 1))).toBe(7);
    expect(() => parseCommandPayload(Buffer.from('12345'), 4)).toThrow(/limit is 4/);
  });

  it.each([
    ['empty', ''],
    ['blank', '  \n\t'],
    ['null', 'null'],
    ['an array', '[1,2]'],
    ['an empty array', '[]'],
    ['an object without value', '{"v":1}'],
    ['an empty object', '{}'],
    ['a null value', '{"value":null}'],
    ['an array value', '{"value":[1]}'],
    ['an object value', '{"value":{"value":1}}'],
  ])('rejects %s with a CommandError', (_name, text) => {
    expect(() => parseCommandPayload(Buffer.from(text))).toThrow(CommandError);
    try {
      parseCommandPayload(Buffer.from(text));
    } catch (err) {
      expect((err as CommandError).code).toBe('bad_payload');
    }
  });
});

describe('prepareWrite', () => {
  it.each<[string, Partial<PointConfigBase>, Scalar, Scalar]>([
    ['plain writable point passes any scalar', { writable: true }, 'eco', 'eco'],
    ['plain writable point passes a boolean', { writable: true }, true, true],
    ['plain writable point passes a number', { writable: true }, 12.5, 12.5],
    ['inside min/max', { writable: true, min: 0, max: 100 }, 55, 55],
    ['at min', { writable: true, min: 0, max: 100 }, 0, 0],
    ['at max', { writable: true, min: 0, max: 100 }, 100, 100],
    ['numeric text for a numeric point', { writable: true, min: 0 }, ' 42 ', 42],
    ['unscale with scale 0.1 offset 5', { writable: true, scale: 0.1, offset: 5 }, 21.5, 165],
    ['unscale with scale 0.1 offset 5 at the offset', { writable: true, scale: 0.1, offset: 5 }, 5, 0],
    ['unscale with scale 0.01', { writable: true, scale: 0.01 }, 23.15, 2315],
    ['unscale negative', { writable: true, scale: 0.1, offset: -40 }, -12.5, 275],
    ['min/max apply to engineering units, before unscaling', { writable: true, scale: 0.1, min: 10, max: 30 }, 30, 300],
    // Un-scaling is exact in decimal: no float noise (0.29 / 0.01 is 28.999999999999996 in floats).
    ['unscale 0.29 with scale 0.01', { writable: true, scale: 0.01 }, 0.29, 29],
    ['unscale 23.1 with scale 0.1', { writable: true, scale: 0.1 }, 23.1, 231],
    ['unscale to a fraction: passed on as a fraction', { writable: true, scale: 0.1 }, 21.55, 215.5],
    ['unscale with scale 3 (a repeating fraction)', { writable: true, scale: 3 }, 1, 1 / 3],
    ['unscale with a negative scale', { writable: true, scale: -0.5 }, 2, -4],
    ['unscale text exactly', { writable: true, scale: 0.001 }, '1234.567', 1234567],
    ['unscale a big integer exactly', { writable: true, offset: 2 }, '9007199254740993', 9007199254740991],
    ['unscale beyond 2^53 stays exact', { writable: true, scale: 0.5 }, '9007199254740993', 18014398509481986n],
    ['min/max only: 600000000.5 stays a fraction', { writable: true, min: 0 }, 600000000.5, 600000000.5],
    ['min/max only: a big integer stays exact', { writable: true, min: 0 }, 9007199254740993n, 9007199254740993n],
    ['limit exactly equal (0.3 is 0.3)', { writable: true, max: 0.3 }, '0.3', 0.3],
  ])('%s', (_name, cfg, value, raw) => {
    expect(prepareWrite(compiled(cfg), value)).toBe(raw);
  });

  it.each<[string, Partial<PointConfigBase>, Scalar, string, RegExp]>([
    ['not writable (absent)', {}, 1, 'not_writable', /not writable/],
    ['not writable (false)', { writable: false, min: 0 }, 1, 'not_writable', /not writable/],
    ['below min', { writable: true, min: 10, max: 20 }, 9.99, 'out_of_range', /below the minimum 10/],
    ['above max', { writable: true, min: 10, max: 20 }, 20.01, 'out_of_range', /above the maximum 20/],
    ['below a negative min', { writable: true, min: -5 }, -6, 'out_of_range', /minimum -5/],
    ['text for a numeric point', { writable: true, min: 0 }, 'warm', 'bad_value', /needs a number/],
    ['blank text for a numeric point', { writable: true, max: 5 }, '  ', 'bad_value', /needs a number/],
    ['boolean for a scaled point', { writable: true, scale: 0.1 }, true, 'bad_value', /needs a number/],
    ['text for an offset point', { writable: true, offset: 5 }, 'x', 'bad_value', /needs a number/],
    ['Infinity for a numeric point', { writable: true, max: 1e9 }, Number.POSITIVE_INFINITY, 'bad_value', /needs a number/],
    ['NaN text for a numeric point', { writable: true, min: 0 }, 'NaN', 'bad_value', /needs a number/],
    ['hex text for a numeric point', { writable: true, min: 0 }, '0x10', 'bad_value', /needs a number/],
    ['binary text for a numeric point', { writable: true, scale: 2 }, '0b11', 'bad_value', /needs a number/],
    ['a float beyond 2^53 (may have been rounded)', { writable: true, min: 0 }, 2 ** 60, 'bad_value', /beyond 2\^53/],
    ['just above max, decided exactly', { writable: true, max: 100 }, '100.000000000001', 'out_of_range', /above the maximum 100/],
    ['a raw fraction lost in a float', { writable: true, scale: 7e-17 }, 1.5, 'invalid_value', /fraction too small/],
  ])('rejects %s', (_name, cfg, value, code, message) => {
    let caught: unknown;
    try {
      prepareWrite(compiled(cfg), value);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CommandError);
    expect(caught).toMatchObject({ code });
    expect((caught as Error).message).toMatch(message);
  });
});

describe('CommandHandler', () => {
  const hosts: DeviceHost[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
  });

  async function setup(points: SimPointConfig[], factory: DriverFactory = simDriver as unknown as DriverFactory) {
    const device: SimDeviceConfig & ResolvedDevice = { name: 'boiler', driver: 'sim', interval: '1s', intervalMs: 1000, points };
    const journaled: Array<{ topic: string; body: Record<string, unknown> }> = [];
    const host = new DeviceHost({
      device,
      factory,
      defaults: DEFAULTS,
      logger: silent,
      clock: { now: () => 1_800_000_000_000 },
      resources: new SharedResourcePool(),
      sink: (entries: NewEntry[]) => {
        for (const e of entries) journaled.push({ topic: e.topic, body: JSON.parse(e.render(1).toString()) as Record<string, unknown> });
      },
    });
    hosts.push(host);
    await host.start({ poll: false });
    const uplink = new FakeUplink({ connected: true, autoAck: true });
    const outcomes: boolean[] = [];
    const handler = new CommandHandler({ uplink, logger: silent, onResult: (ok) => outcomes.push(ok) });
    handler.setDevices([host]);
    const held = async (point: string) => (await host.readOnce()).find((r) => r.point === point)?.value;
    return { host, uplink, handler, journaled, outcomes, held };
  }

  const POINTS: SimPointConfig[] = [
    { name: 'setpoint', signal: 'constant', value: 150, scale: 0.1, offset: 5, min: 10, max: 30, writable: true, unit: 'C' },
    { name: 'mode', signal: 'constant', value: 1, writable: true },
    { name: 'temp', signal: 'constant', value: 215, scale: 0.1 },
  ];
  const SET = 'plant1/boiler/setpoint/set';

  it('subscribes to <topic>/set of writable points only, at QoS 1', async () => {
    const { uplink } = await setup(POINTS);
    expect(uplink.subscriptions.map((s) => [s.filter, s.qos])).toEqual([
      ['plant1/boiler/setpoint/set', 1],
      ['plant1/boiler/mode/set', 1],
    ]);
  });

  it('does not subscribe twice when the devices are set again', async () => {
    const { uplink, handler, host } = await setup(POINTS);
    handler.setDevices([host]);
    expect(uplink.subscriptions).toHaveLength(2);
  });

  it('writes the unscaled value, publishes {"ok":true,"value":…} on <topic>/set/result and journals the read-back', async () => {
    const { handler, uplink, journaled, outcomes, held } = await setup(POINTS);
    const result = await handler.handle(SET, Buffer.from('21.5'), false);
    expect(result).toEqual({ ok: true, value: 21.5 });
    expect(uplink.sent).toHaveLength(1);
    const [msg] = uplink.sent;
    expect({ topic: msg!.topic, qos: msg!.qos, retain: msg!.retain }).toEqual({ topic: `${SET}/result`, qos: 1, retain: false });
    expect(msg!.payload.toString()).toBe('{"ok":true,"value":21.5}');
    expect(await held('setpoint')).toBe(165);
    expect(journaled).toEqual([
      { topic: 'plant1/boiler/setpoint', body: { value: 21.5, ts: '2027-01-15T08:00:00.000Z', seq: 1, unit: 'C' } },
    ]);
    expect(outcomes).toEqual([true]);
  });

  it.each([
    ['{"value":12}', 12, 70],
    ['"25"', '25', 200],
    ['30', 30, 250],
  ])('payload %s is accepted', async (payload, value, raw) => {
    const { handler, uplink, held } = await setup(POINTS);
    expect(await handler.handle(SET, Buffer.from(payload), false)).toEqual({ ok: true, value });
    expect(results(uplink)).toEqual([{ topic: `${SET}/result`, body: { ok: true, value } }]);
    expect(await held('setpoint')).toBe(raw);
  });

  it.each([
    ['above max', '31', { ok: false, value: 31, error: '31 is above the maximum 30' }],
    ['below min', '{"value":9}', { ok: false, value: 9, error: '9 is below the minimum 10' }],
    ['text for a numeric point', 'warm', {
      ok: false, value: 'warm', error: 'point setpoint needs a number: expected a number written in decimal (like 21.5 or -3), got "warm"',
    }],
    ['a bad payload', '[21]', { ok: false, error: 'command payload must be a number, a boolean, a string or {"value": …}' }],
    ['an empty payload', '', { ok: false, error: 'empty command payload' }],
  ])('rejects %s: ok:false with the error, nothing written or journaled', async (_name, payload, expected) => {
    const { handler, uplink, journaled, outcomes, held } = await setup(POINTS);
    expect(await handler.handle(SET, Buffer.from(payload), false)).toEqual(expected);
    expect(results(uplink)).toEqual([{ topic: `${SET}/result`, body: expected }]);
    expect(await held('setpoint')).toBe(150);
    expect(journaled).toEqual([]);
    expect(outcomes).toEqual([false]);
  });

  it('a 1 MB command gets a short /set/result and a short log line; nothing is written', async () => {
    const { captureLogger } = await import('../service/capture-logger.js');
    const { logger, lines } = captureLogger();
    const { host, uplink, held } = await setup(POINTS);
    const handler = new CommandHandler({ uplink, logger });
    handler.setDevices([host]);
    const huge = Buffer.from(JSON.stringify({ value: 'x'.repeat(1024 * 1024) }));
    const result = await handler.handle(SET, huge, false);
    expect(result).toEqual({ ok: false, error: `command payload is ${huge.length} bytes; the limit is 4096` });
    expect(uplink.sent[0]!.payload.length).toBeLessThan(200);
    const logged = lines.filter((l) => l.msg === 'command rejected');
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged[0]).length).toBeLessThan(400);
    expect(await held('setpoint')).toBe(150);
  });

  it('a long value under the size limit is echoed as a bounded prefix with its length', async () => {
    const { handler, uplink, held } = await setup(POINTS);
    const long = 'w'.repeat(3000);
    const result = await handler.handle(SET, Buffer.from(long), false);
    expect(result.ok).toBe(false);
    expect(result.value).toBe(`${'w'.repeat(40)}… (3000 chars)`);
    expect(result.error).toMatch(/got "w{40}… \(3000 chars\)"$/);
    expect(uplink.sent[0]!.payload.length).toBeLessThan(300);
    expect(await held('setpoint')).toBe(150);
  });

  it('a driver error of any length is cut in the result', async () => {
    const factory: DriverFactory = {
      ...(simDriver as unknown as DriverFactory),
      create: (device: DeviceConfigBase, ctx) => {
        const inner = simDriver.create(device as SimDeviceConfig, ctx);
        return {
          start: () => inner.start(), stop: () => inner.stop(), poll: () => inner.poll!(),
          write: async () => {
            throw new CommandError('device_said', `device answered ${'E'.repeat(100_000)}`);
          },
        };
      },
    };
    const { handler, uplink } = await setup(POINTS, factory);
    const result = await handler.handle('plant1/boiler/mode/set', Buffer.from('2'), false);
    expect(result.error!.length).toBeLessThan(320);
    expect(result.error).toMatch(/… \(100016 chars\)$/);
    expect(uplink.sent[0]!.payload.length).toBeLessThan(400);
  });

  it('a write the driver rejects is reported with the driver error', async () => {
    const { handler, uplink, held } = await setup(POINTS);
    const result = await handler.handle('plant1/boiler/mode/set', Buffer.from('eco'), false);
    expect(result).toEqual({ ok: false, value: 'eco', error: 'sim point mode takes numbers' });
    expect(results(uplink)).toEqual([{ topic: 'plant1/boiler/mode/set/result', body: result }]);
    expect(await held('mode')).toBe(1);
  });

  it('ignores a retained command: nothing written, ok:false published', async () => {
    const { handler, uplink, journaled, held } = await setup(POINTS);
    const result = await handler.handle(SET, Buffer.from('20'), true);
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/retained/);
    expect(results(uplink)).toEqual([{ topic: `${SET}/result`, body: result }]);
    expect(await held('setpoint')).toBe(150);
    expect(journaled).toEqual([]);
  });

  it.each([
    ['an unknown topic', 'plant1/boiler/nothing/set'],
    ['a read-only point', 'plant1/boiler/temp/set'],
  ])('answers %s with ok:false', async (_name, topic) => {
    const { handler, uplink, held } = await setup(POINTS);
    const result = await handler.handle(topic, Buffer.from('1'), false);
    expect(result).toEqual({ ok: false, error: 'no writable point at this topic' });
    expect(results(uplink)).toEqual([{ topic: `${topic}/result`, body: result }]);
    expect(await held('temp')).toBe(215);
  });

  it('a device whose driver cannot write rejects with not_writable', async () => {
    const factory: DriverFactory = {
      ...(simDriver as unknown as DriverFactory),
      create: (device: DeviceConfigBase, ctx) => {
        const inner = simDriver.create(device as SimDeviceConfig, ctx);
        return { start: () => inner.start(), stop: () => inner.stop(), poll: () => inner.poll!() };
      },
    };
    const { handler } = await setup(POINTS, factory);
    const result = await handler.handle('plant1/boiler/mode/set', Buffer.from('2'), false);
    expect(result).toEqual({ ok: false, value: 2, error: 'device boiler does not accept writes' });
  });

  it('a message through the subscription is handled like a direct call', async () => {
    const { uplink, held } = await setup(POINTS);
    const sub = uplink.subscriptions.find((s) => s.filter === SET)!;
    sub.handler(SET, Buffer.from('22'), { retain: false });
    await new Promise((r) => setImmediate(r));
    expect(results(uplink)).toEqual([{ topic: `${SET}/result`, body: { ok: true, value: 22 } }]);
    expect(await held('setpoint')).toBe(170);
  });

  it('a retained message through the subscription is not written', async () => {
    const { uplink, held } = await setup(POINTS);
    uplink.subscriptions[0]!.handler(SET, Buffer.from('22'), { retain: true });
    await new Promise((r) => setImmediate(r));
    expect(await held('setpoint')).toBe(150);
  });

  it('still writes while disconnected, but publishes no result', async () => {
    const { handler, uplink, held } = await setup(POINTS);
    uplink.connected = false;
    expect(await handler.handle(SET, Buffer.from('25'), false)).toEqual({ ok: true, value: 25 });
    expect(uplink.sent).toEqual([]);
    expect(await held('setpoint')).toBe(200);
  });
});

describe('command input hardening', () => {
  it('rejects non-finite numbers and non-decimal numeric text', async () => {
    const { parseCommandPayload, prepareWrite } = await import('../../src/commands/command-handler.js');
    expect(() => parseCommandPayload(Buffer.from('1e400'))).toThrow(/finite/);
    const point = {
      config: { name: 'sp', writable: true, min: 0, max: 100 }, topic: 't', qos: 1, retain: false, format: 'json',
      filter: undefined as never, scale: 1, offset: 0,
    } as const;
    expect(() => prepareWrite(point as never, '0x10')).toThrow(/needs a number/);
    expect(prepareWrite(point as never, ' 42.5 ')).toBe(42.5);
  });
});
