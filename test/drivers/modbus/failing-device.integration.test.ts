// A failing Modbus device through the whole gateway, against a real ServerTCP and mosquitto: a meter
// that answers exception 04 to every request, then goes away, then comes back. What reaches the
// broker and the log must not grow with the number of polls: one bad reading per point when it
// turns bad, one warning per kind of fault, one line when it recovers.
import M from 'modbus-serial';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { drivers } from '../../../drivers/index.js';
import { collect, freePort, startMosquitto, type Broker } from '../../integration/harness/index.js';
import { startTestGateway } from '../../integration/harness/test-gateway.js';

const { ServerTCP } = M;

interface Line {
  level: number;
  msg: string;
  device?: string;
  [key: string]: unknown;
}

/** A device that answers every read with `mode.exception` when set, with its address otherwise. */
async function startDevice(port: number, mode: { exception?: number }): Promise<() => Promise<void>> {
  const answer = (addr: number) => {
    if (mode.exception !== undefined) throw Object.assign(new Error('device failure'), { modbusErrorCode: mode.exception });
    return addr;
  };
  const vector = {
    getHoldingRegister: (addr: number, _unit: number) => answer(addr),
    getInputRegister: (addr: number, _unit: number) => answer(addr),
    getCoil: (addr: number, _unit: number) => answer(addr) % 2 === 0,
  };
  const server = new ServerTCP(vector, { host: '127.0.0.1', port, unitID: 255 });
  server.on('error', () => undefined);
  server.on('socketError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('initialized', () => resolve());
    server.once('serverError', (err: Error) => reject(err));
  });
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

let broker: Broker;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.dispose();
});

it('a meter failing at every poll: one bad reading per point, one warning per kind, one recovery line', async () => {
  const port = await freePort();
  const mode: { exception?: number } = { exception: 4 };
  let stopDevice = await startDevice(port, mode);
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  const sub = await collect(broker.url, 'flt/meter/#');
  // Five points in four requests (addresses far apart), polled every 100 ms.
  const gw = await startTestGateway({
    drivers,
    logger,
    siteYaml: `site: flt
gateway: gw1
mqtt: { url: ${broker.url} }
buffer: { path: buffer.db }
devices:
  - name: meter
    driver: modbus
    tcp: { host: 127.0.0.1, port: ${port} }
    interval: 100ms
    timeout: 500ms
    reconnect: { initial: 50ms, max: 200ms }
    points:
      - { name: a, table: holding, address: 0 }
      - { name: b, table: holding, address: 1 }
      - { name: c, table: holding, address: 300 }
      - { name: d, table: input, address: 0 }
      - { name: e, table: coil, address: 0 }
`,
  });
  const deviceWarnings = () => lines.filter((l) => l.device === 'meter' && l.level >= 40);
  const bad = () => sub.messages.filter((m) => (JSON.parse(m.payload.toString()) as { quality?: string }).quality === 'bad');
  try {
    // Phase 1: exception 04 to every request for 2 s (about 20 polls, 4 requests each).
    await sub.waitFor((m) => m.length >= 5, 5000);
    await new Promise((r) => setTimeout(r, 2000));
    expect(bad().map((m) => m.topic).sort()).toEqual(['flt/meter/a', 'flt/meter/b', 'flt/meter/c', 'flt/meter/d', 'flt/meter/e']);
    const first = JSON.parse(bad()[0]!.payload.toString()) as { error: string };
    expect(first.error).toMatch(/exception 04 \(server device failure\)$/);
    expect(deviceWarnings().map((l) => [l.msg, l.kind])).toEqual([['device fault', 'exception']]);

    // Phase 2: the meter goes away. The line is down, every poll fails fast: a new kind, logged
    // once; nothing new on the wire within the minute (the error text changed, the state did not).
    await stopDevice();
    await new Promise((r) => setTimeout(r, 2000));
    expect(bad()).toHaveLength(5);
    const w = deviceWarnings().map((l) => [l.msg, l.kind ?? l.line]);
    expect(w[0]).toEqual(['device fault', 'exception']);
    expect(w).toContainEqual(['device fault changed', 'connection']);
    expect(w.filter(([msg]) => msg === 'modbus line down')).toHaveLength(1);
    expect(w.length).toBeLessThanOrEqual(4);

    // Phase 3: back, answering. One recovery line; good values on the wire.
    mode.exception = undefined;
    stopDevice = await startDevice(port, mode);
    await sub.waitFor((m) => m.some((x) => x.topic === 'flt/meter/c' && x.payload.toString().includes('"value":300')), 5000);
    const recovered = lines.filter((l) => l.device === 'meter' && l.msg === 'device recovered');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.failedPolls as number).toBeGreaterThanOrEqual(25);
    expect(recovered[0]!.downMs as number).toBeGreaterThanOrEqual(4000);
    expect(Object.keys(recovered[0]!.faults as object).sort()).toEqual(['connection', 'exception']);
  } finally {
    await gw.stop();
    await stopDevice();
    await sub.close();
  }
});
