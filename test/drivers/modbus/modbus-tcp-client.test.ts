// fieldgate's own Modbus TCP client, byte by byte against a net.Server the test scripts (split and
// joined answers, stale transaction ids, exceptions, malformed answers, silence, a peer that hangs
// up or sends what no Modbus peer sends), against two real servers (modbus-serial's ServerTCP and
// pymodbus), and under a ModbusLine.
import { createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import M from 'modbus-serial';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toModbusError } from '../../../drivers/modbus/modbus-error.js';
import { ModbusLine } from '../../../drivers/modbus/modbus-line.js';
import type { ModbusTcpClient } from '../../../drivers/modbus/modbus-tcp-client.js';
import { openTcp, type Connection } from '../../../drivers/modbus/modbus-transport.js';
import { freePort } from '../../integration/harness/free-port.js';
import { startPymodbus } from './helpers/processes.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A request frame as the peer received it, and the socket to answer on. */
interface Received {
  frame: Buffer;
  sock: Socket;
}

/** A Modbus TCP peer scripted by the test: `onRequest` sees every whole request, numbered from 0. */
async function peer(onRequest: (req: Received, n: number, all: Received[]) => void = () => {}): Promise<{ port: number; received: Received[]; hungUp: Promise<void> }> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  let n = 0;
  let hangUp = () => {};
  const hungUp = new Promise<void>((resolve) => (hangUp = resolve));
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.setNoDelay(true);
    sock.on('error', () => {});
    sock.on('close', () => {
      sockets.delete(sock);
      hangUp();
    });
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length > 0 ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 6 && buf.length >= 6 + buf.readUInt16BE(4)) {
        const frame = buf.subarray(0, 6 + buf.readUInt16BE(4));
        buf = buf.subarray(frame.length);
        const req = { frame, sock };
        received.push(req);
        onRequest(req, n++, received);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return { port: (server.address() as { port: number }).port, received, hungUp };
}

/** The answer to `req` with `pdu` (function code onwards); its transaction and unit id unless overridden. */
function answer(req: Buffer, pdu: number[], o: { tid?: number; unit?: number; protocol?: number; length?: number } = {}): Buffer {
  const b = Buffer.alloc(7 + pdu.length);
  b.writeUInt16BE(o.tid ?? req.readUInt16BE(0), 0);
  b.writeUInt16BE(o.protocol ?? 0, 2);
  b.writeUInt16BE(o.length ?? pdu.length + 1, 4);
  b[6] = o.unit ?? req[6]!;
  Buffer.from(pdu).copy(b, 7);
  return b;
}

const registers = (fc: number, values: number[]) => [fc, values.length * 2, ...values.flatMap((v) => [v >> 8, v & 0xff])];
const echo = (req: Buffer) => [...req.subarray(7, 12)];

async function connect(port: number, timeoutMs = 1000): Promise<{ conn: Connection; client: ModbusTcpClient }> {
  const conn = await openTcp('127.0.0.1', port, 2000);
  cleanups.push(() => conn.close());
  const client = conn.client as ModbusTcpClient;
  client.setTimeout(timeoutMs);
  return { conn, client };
}

/** The fault the driver would report for what `p` throws (or 'answered'). */
const fault = (p: Promise<unknown>) => p.then(() => 'answered', (e: unknown) => toModbusError(e, 'x').fault);

describe('ModbusTcpClient against a scripted peer', () => {
  it('reassembles an answer that arrives one byte at a time, joining the pieces at most twice', async () => {
    const values = Array.from({ length: 10 }, (_, i) => i * 4097);
    const { port } = await peer(({ frame, sock }) => void (async () => {
      for (const byte of answer(frame, registers(3, values))) {
        sock.write(Buffer.of(byte));
        await sleep(1);
      }
    })());
    const { client } = await connect(port);
    const concat = vi.spyOn(Buffer, 'concat');
    expect((await client.readHoldingRegisters(0, 10)).data).toEqual(values);
    // Once for the header, once for the rest: not once per byte.
    expect(concat.mock.calls.length).toBeLessThanOrEqual(2);
  });

  it('takes two answers from one chunk, each for its own request whatever their order', async () => {
    const { port } = await peer(({ sock }, n, all) => {
      if (n !== 1) return;
      const [a, b] = all.map((r) => r.frame) as [Buffer, Buffer];
      sock.write(Buffer.concat([answer(b, registers(4, [222, 223])), answer(a, registers(4, [111]))]));
    });
    const { client } = await connect(port);
    const [first, second] = await Promise.all([client.readInputRegisters(0, 1), client.readInputRegisters(5, 2)]);
    expect(first.data).toEqual([111]);
    expect(second.data).toEqual([222, 223]);
  });

  it('drops a late answer with an old transaction id and takes the right one after it', async () => {
    const { port } = await peer(({ frame, sock }, n, all) => {
      if (n === 0) return; // answered late, with the next requests
      const late = answer(all[0]!.frame, registers(3, [111]));
      const right = answer(frame, registers(3, [200 + n]));
      if (n === 1) {
        sock.write(late);
        setTimeout(() => sock.write(right), 5);
      } else if (n === 2) {
        sock.write(Buffer.concat([late, right])); // the stale answer again, in one chunk with the right one
      } else {
        sock.write(right);
      }
    });
    const { client } = await connect(port, 100);
    expect(await fault(client.readHoldingRegisters(0, 1))).toBe('timeout');
    expect((await client.readHoldingRegisters(0, 1)).data).toEqual([201]);
    expect((await client.readHoldingRegisters(0, 1)).data).toEqual([202]);
    expect((await client.readHoldingRegisters(0, 1)).data).toEqual([203]);
  });

  it.each([
    [2, 'exception 02 (illegal data address)', false],
    [11, 'exception 0b (gateway target device failed to respond)', true],
  ])('an exception answer (code %i) is an exception with its code', async (code, text, unreachable) => {
    const { port } = await peer(({ frame, sock }) => sock.write(answer(frame, [0x83, code])));
    const { client } = await connect(port);
    const err = toModbusError(await client.readHoldingRegisters(7, 2).catch((e: unknown) => e), 'read holding 7..8 (unit 1)');
    expect(err).toMatchObject({ fault: 'exception', modbusCode: code, message: `read holding 7..8 (unit 1): ${text}` });
    expect(err.unreachable).toBe(unreachable);
  });

  it.each([
    ['a wrong function code', (req: Buffer) => answer(req, registers(4, [1, 2]))],
    ['a short byte count', (req: Buffer) => answer(req, registers(3, [1]))],
    ['a byte count the length disagrees with', (req: Buffer) => answer(req, [3, 4, 0, 1])],
    ['a wrong unit id', (req: Buffer) => answer(req, registers(3, [1, 2]), { unit: 9 })],
    ['an exception frame of the wrong length', (req: Buffer) => answer(req, [0x83, 2, 0])],
  ])('%s is a protocol error, and the next answer is read normally', async (_name, bad) => {
    const { port } = await peer(({ frame, sock }, n) => sock.write(n === 0 ? bad(frame) : answer(frame, registers(3, [5, 6]))));
    const { client } = await connect(port);
    const err = toModbusError(await client.readHoldingRegisters(0, 2).catch((e: unknown) => e), 'read holding 0..1 (unit 1)');
    expect(err).toMatchObject({ fault: 'protocol', message: 'read holding 0..1 (unit 1): malformed answer' });
    expect((await client.readHoldingRegisters(0, 2)).data).toEqual([5, 6]);
  });

  it('no answer: a timeout after about the set timeout, counted from each request', async () => {
    const { port } = await peer(({ frame, sock }, n) => {
      if (n === 1) sock.write(answer(frame, registers(3, [1])));
    });
    const { client } = await connect(port, 100);
    const timed = async () => {
      const t0 = performance.now();
      expect(await fault(client.readHoldingRegisters(0, 1))).toBe('timeout');
      return performance.now() - t0;
    };
    const first = await timed();
    expect(first).toBeGreaterThanOrEqual(99);
    expect(first).toBeLessThan(100 + 150);
    await client.readHoldingRegisters(0, 1);
    await sleep(40); // the timer armed for the answered request must not cut the next one short
    expect(await timed()).toBeGreaterThanOrEqual(99);
    client.setTimeout(200);
    const longer = await timed();
    expect(longer).toBeGreaterThanOrEqual(199);
    expect(longer).toBeLessThan(200 + 150);
  });

  it('a peer that hangs up fails every pending request at once as a connection error; onClose fires once', async () => {
    const { port } = await peer(({ sock }, n) => {
      if (n === 1) sock.destroy();
    });
    const { conn, client } = await connect(port, 5000);
    const closes: Error[] = [];
    conn.onClose((err) => closes.push(err));
    const t0 = performance.now();
    const faults = await Promise.all([fault(client.readCoils(0, 1)), fault(client.readCoils(1, 1))]);
    expect(faults).toEqual(['connection', 'connection']);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await fault(client.readCoils(0, 1))).toBe('connection');
    await conn.close();
    await sleep(20);
    expect(closes.map((e) => e.message)).toEqual(['connection closed']);
    // A listener that comes too late still hears of it, once.
    const late: Error[] = [];
    conn.onClose((err) => late.push(err));
    await sleep(0);
    expect(late).toHaveLength(1);
  });

  it.each([
    ['a length of 65535', { length: 0xffff }],
    ['a length of 1', { length: 1 }],
    ['protocol id 5', { protocol: 5 }],
  ])('drops the connection on an MBAP header with %s', async (_name, header) => {
    const p = await peer(({ frame, sock }) => sock.write(answer(frame, registers(3, [1]), header)));
    const { conn, client } = await connect(p.port, 5000);
    const closes: Error[] = [];
    conn.onClose((err) => closes.push(err));
    const err = toModbusError(await client.readHoldingRegisters(0, 1).catch((e: unknown) => e), 'x');
    expect(err.fault).toBe('connection');
    expect(err.message).toBe('x: connection dropped (malformed MBAP header)');
    await p.hungUp;
    expect(closes).toHaveLength(1);
  });

  it('encodes writes as the spec says and checks their echo', async () => {
    let wrong = true;
    const { port, received } = await peer(({ frame, sock }) => {
      const pdu = echo(frame);
      if (wrong) pdu[4]! ^= 1;
      sock.write(answer(frame, pdu));
    });
    const { client } = await connect(port);
    const writes = [
      () => client.writeCoil(3, true),
      () => client.writeRegister(4, 0x1234),
      () => client.writeCoils(0, [true, false, true, false, false, true, false, true, true, true, false]),
      () => client.writeRegisters(10, [1, 0xabcd, 3]),
    ];
    for (const write of writes) expect(await fault(write())).toBe('protocol');
    wrong = false;
    for (const write of writes) expect(await write()).toBeUndefined();
    const pdus = received.slice(4).map((r) => r.frame.subarray(7).toString('hex'));
    expect(pdus).toEqual([
      '050003ff00',
      '0600041234',
      '0f0000000b02a503', // 11 coils, 2 bytes, least significant bit first
      '10000a000306' + '0001abcd0003',
    ]);
    expect(received.slice(4).map((r) => r.frame.readUInt16BE(4))).toEqual([6, 6, 9, 13]); // MBAP length
  });

  it('unpacks coils and discrete inputs least significant bit first, exactly as many as asked', async () => {
    const bit = (i: number) => i % 3 === 0 || i === 10;
    const { port } = await peer(({ frame, sock }) => {
      const count = frame.readUInt16BE(10);
      const bytes = Array.from({ length: (count + 7) >> 3 }, (_, j) => {
        let b = 0;
        // Padding bits past the count are set, to show they are ignored.
        for (let k = 0; k < 8; k++) if (j * 8 + k >= count || bit(j * 8 + k)) b |= 1 << k;
        return b;
      });
      sock.write(answer(frame, [frame[7]!, bytes.length, ...bytes]));
    });
    const { client } = await connect(port);
    for (const count of [1, 7, 8, 11, 16, 17]) {
      const want = Array.from({ length: count }, (_, i) => bit(i));
      expect((await client.readCoils(0, count)).data, `${count} coils`).toEqual(want);
      expect((await client.readDiscreteInputs(0, count)).data, `${count} inputs`).toEqual(want);
    }
  });

  it('reads a device identification the device splits over several answers', async () => {
    const objects = (list: [number, string][]) => list.flatMap(([id, text]) => [id, text.length, ...Buffer.from(text)]);
    const { port, received } = await peer(({ frame, sock }) => {
      const first = frame[10] === 0;
      const list: [number, string][] = first ? [[0, 'ACME'], [1, 'TP-3']] : [[2, '1.04']];
      sock.write(answer(frame, [0x2b, 0x0e, 1, 0x81, first ? 0xff : 0, first ? 2 : 0, list.length, ...objects(list)]));
    });
    const { client } = await connect(port);
    expect((await client.readDeviceIdentification(1, 0)).data).toEqual({ 0: 'ACME', 1: 'TP-3', 2: '1.04' });
    expect(received.map((r) => r.frame.subarray(7).toString('hex'))).toEqual(['2b0e0100', '2b0e0102']);
  });

  it('arms no timer per request and copies no whole-frame answer', async () => {
    const { port } = await peer(({ frame, sock }, n) => sock.write(answer(frame, registers(3, [n]))));
    const { client } = await connect(port);
    await client.readHoldingRegisters(0, 1);
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const concat = vi.spyOn(Buffer, 'concat');
    for (let i = 1; i <= 50; i++) expect((await client.readHoldingRegisters(0, 1)).data).toEqual([i]);
    expect(timers).not.toHaveBeenCalled();
    expect(concat).not.toHaveBeenCalled();
  });
});

describe('ModbusTcpClient against real servers', () => {
  it('modbus-serial ServerTCP: every function code the driver uses round-trips', async () => {
    const hr = [7, 0, 0, 0, 0];
    const ir = [100, 200, 300];
    const co = new Array<boolean>(12).fill(false);
    const di = Array.from({ length: 11 }, (_, i) => i % 2 === 1);
    const refuse = () => Object.assign(new Error('illegal data address'), { modbusErrorCode: 2 });
    const at = <T>(table: T[], addr: number): T => {
      if (addr >= table.length) throw refuse();
      return table[addr]!;
    };
    const vector = {
      getHoldingRegister: (addr: number) => at(hr, addr),
      getInputRegister: (addr: number) => at(ir, addr),
      getCoil: (addr: number) => at(co, addr),
      getDiscreteInput: (addr: number) => at(di, addr),
      setRegister: (addr: number, value: number) => void (hr[addr] = value),
      setCoil: (addr: number, value: boolean) => void (co[addr] = value),
    };
    const port = await freePort(); // ServerTCP takes port 0 for 502
    const server = new M.ServerTCP(vector, { host: '127.0.0.1', port, unitID: 1 });
    server.on('error', () => {});
    await new Promise<void>((resolve) => server.once('initialized', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { client } = await connect(port);
    await roundTrips(client, { hr: [7], ir, di });
    await expect(client.readHoldingRegisters(5, 1)).rejects.toMatchObject({ modbusCode: 2 });
  });

  it('pymodbus: every function code round-trips, FC 43/14 answers, an unknown unit stays silent', async () => {
    const port = await freePort();
    const server = await startPymodbus({
      mode: 'tcp', port,
      identity: { VendorName: 'ACME Meters', ProductCode: 'TP-3', MajorMinorRevision: '1.04' },
      units: { '1': { hr: { '0': [7, 0, 0, 0, 0] }, ir: { '0': [100, 200, 300] }, co: { '0': new Array(12).fill(0) }, di: { '0': Array.from({ length: 11 }, (_, i) => i % 2) } } },
    });
    cleanups.push(() => server.stop());
    const { client } = await connect(port);
    await roundTrips(client, { hr: [7], ir: [100, 200, 300], di: Array.from({ length: 11 }, (_, i) => i % 2 === 1) });
    await expect(client.readHoldingRegisters(5, 1)).rejects.toMatchObject({ modbusCode: 2 });
    expect((await client.readDeviceIdentification(1, 0)).data).toEqual({ 0: 'ACME Meters', 1: 'TP-3', 2: '1.04' });
    client.setID(7);
    client.setTimeout(150);
    expect(await fault(client.readHoldingRegisters(0, 1))).toBe('timeout');
    client.setID(1);
    expect((await client.readHoldingRegisters(0, 1)).data).toEqual([7]);
  });
});

/** FC 1–6, 15 and 16 against a server whose holding registers 0..4 start with `start.hr`, coils 0..11 all off. */
async function roundTrips(client: ModbusTcpClient, start: { hr: number[]; ir: number[]; di: boolean[] }): Promise<void> {
  await client.writeRegister(1, 0xbeef);
  await client.writeRegisters(2, [1, 0xffff, 3]);
  expect((await client.readHoldingRegisters(0, 5)).data).toEqual([...start.hr, 0xbeef, 1, 0xffff, 3]);
  expect((await client.readInputRegisters(0, 3)).data).toEqual(start.ir);
  const coils = [false, true, true, false, true, false, true, true, true, false, true];
  await client.writeCoil(0, true);
  await client.writeCoils(1, coils);
  expect((await client.readCoils(0, 12)).data).toEqual([true, ...coils]);
  await client.writeCoil(0, false);
  expect((await client.readCoils(0, 1)).data).toEqual([false]);
  expect((await client.readDiscreteInputs(0, 11)).data).toEqual(start.di);
}

describe('ModbusLine over the TCP client', () => {
  it('adds no timer per frame, and stop() ends the frame on the wire at once', async () => {
    const { port } = await peer(({ frame, sock }, n) => {
      if (n < 50) sock.write(answer(frame, registers(3, [n])));
    });
    const line = new ModbusLine({
      label: 'tcp 127.0.0.1',
      connect: () => openTcp('127.0.0.1', port, 2000),
      logger: pino({ level: 'silent' }),
      reconnect: { initialMs: 50, maxMs: 200 },
      recycleAfterTimeouts: 3,
    });
    cleanups.push(() => line.stop());
    const settings = { unitId: 1, timeoutMs: 5000, frameGapMs: 0 };
    const read = () => line.run('a', settings, (c) => c.readRegisters('holding', 0, 1));
    expect(await read()).toEqual([0]);
    const timers = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 1; i < 50; i++) expect(await read()).toEqual([i]);
    expect(timers).not.toHaveBeenCalled();
    const onWire = read().catch((e: unknown) => e);
    await sleep(20);
    const t0 = performance.now();
    await line.stop();
    expect(await onWire).toMatchObject({ fault: 'connection' });
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
