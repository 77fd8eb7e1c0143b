// Plain Modbus TCP (MBAP framing) over one socket. fieldgate speaks it itself because
// modbus-serial's TCP client turns every frame into RTU with a CRC and back, and makes a timer,
// several promises and debug calls for each request: measured, 73–85 µs of CPU per read of 100
// registers against 46–49 µs here (docs/performance.md), and a Raspberry Pi has less CPU to spare.
// Answers are matched to requests by transaction id, so a late answer to a request that already
// timed out is dropped, never taken for the current one. Every request ends by itself — answer,
// its own timeout, or the socket going away — so the line needs no guard of its own.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TransportError } from './modbus-error.js';
import type { ModbusClient } from './modbus-transport.js';
import { ReusableTimer } from './reusable-timer.js';

/** Transaction id, protocol id, length, unit id. */
const MBAP = 7;
/** The MBAP header and the function code: where a PDU's data starts. */
const DATA = MBAP + 1;
/** The length field counts the unit id and the PDU, which is at most 253 bytes. */
const MAX_LENGTH = 254;
const READ_DEVICE_ID = 0x2b;
const MEI_DEVICE_ID = 0x0e;

interface Request {
  /** The request as sent: its unit id, function code, quantity, and what a write's answer echoes. */
  frame: Buffer;
  deadline: number;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface IdentificationPart {
  objects: Record<number, string>;
  more: boolean;
  next: number;
}

export class ModbusTcpClient implements ModbusClient {
  readonly settlesEveryRequest = true;
  private unitId = 1;
  private timeoutMs = 1000;
  private tid = 0;
  private readonly pending = new Map<number, Request>();
  private readonly timer = new ReusableTimer(() => this.expire());
  private timerDue = 0;
  /** The start of a frame split across chunks, joined only once `need` bytes are in. */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private need = 0;
  private socketError: Error | undefined;
  private dropReason: TransportError | undefined;
  private closeError: TransportError | undefined;
  private readonly closeListeners: ((err: Error) => void)[] = [];

  /** `socket` is connected; the client owns it from now on. */
  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.socketError ??= err;
    });
    socket.on('close', () => this.onSocketClose());
  }

  setID(id: number): void {
    this.unitId = id;
  }

  setTimeout(ms: number): void {
    this.timeoutMs = ms;
  }

  readCoils(address: number, count: number): Promise<{ data: boolean[] }> {
    return this.send(this.addressed(1, 4, address, count));
  }

  readDiscreteInputs(address: number, count: number): Promise<{ data: boolean[] }> {
    return this.send(this.addressed(2, 4, address, count));
  }

  readHoldingRegisters(address: number, count: number): Promise<{ data: number[] }> {
    return this.send(this.addressed(3, 4, address, count));
  }

  readInputRegisters(address: number, count: number): Promise<{ data: number[] }> {
    return this.send(this.addressed(4, 4, address, count));
  }

  writeCoil(address: number, state: boolean): Promise<void> {
    return this.send(this.addressed(5, 4, address, state ? 0xff00 : 0));
  }

  writeRegister(address: number, value: number): Promise<void> {
    return this.send(this.addressed(6, 4, address, value));
  }

  writeCoils(address: number, states: boolean[]): Promise<void> {
    const bytes = (states.length + 7) >> 3;
    const frame = this.addressed(15, 5 + bytes, address, states.length);
    frame[12] = bytes;
    frame.fill(0, 13);
    states.forEach((on, i) => {
      if (on) frame[13 + (i >> 3)]! |= 1 << (i & 7);
    });
    return this.send(frame);
  }

  writeRegisters(address: number, values: number[]): Promise<void> {
    const frame = this.addressed(16, 5 + values.length * 2, address, values.length);
    frame[12] = values.length * 2;
    values.forEach((v, i) => frame.writeUInt16BE(v, 13 + i * 2));
    return this.send(frame);
  }

  /** FC 43/14 (`fieldgate scan`): every object from `objectId` on, across as many answers as the device splits them into. */
  async readDeviceIdentification(code: number, objectId: number): Promise<{ data: Record<number, string> }> {
    const data: Record<number, string> = {};
    // `next` must grow, or a device that keeps saying "more follows" would be asked for ever.
    for (let next = objectId; ; ) {
      const frame = this.frame(READ_DEVICE_ID, 3);
      frame[8] = MEI_DEVICE_ID;
      frame[9] = code;
      frame[10] = next;
      const part = await this.send<IdentificationPart>(frame);
      Object.assign(data, part.objects);
      if (!part.more || part.next <= next) return { data };
      next = part.next;
    }
  }

  /** Called once when the socket goes away, whoever closed it. */
  onClose(listener: (err: Error) => void): void {
    const closed = this.closeError;
    if (closed) queueMicrotask(() => listener(closed));
    else this.closeListeners.push(listener);
  }

  close(): Promise<void> {
    if (this.closeError) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }

  private frame(fc: number, dataBytes: number): Buffer {
    const frame = Buffer.allocUnsafe(DATA + dataBytes);
    frame.writeUInt16BE(0, 2);
    frame.writeUInt16BE(2 + dataBytes, 4);
    frame[6] = this.unitId;
    frame[7] = fc;
    return frame;
  }

  private addressed(fc: number, dataBytes: number, address: number, quantityOrValue: number): Buffer {
    const frame = this.frame(fc, dataBytes);
    frame.writeUInt16BE(address, 8);
    frame.writeUInt16BE(quantityOrValue, 10);
    return frame;
  }

  private send<T>(frame: Buffer): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closeError || this.socket.destroyed) {
        reject(this.closeError ?? this.dropReason ?? new TransportError('connection', 'connection closed'));
        return;
      }
      this.tid = (this.tid + 1) & 0xffff;
      frame.writeUInt16BE(this.tid, 0);
      const deadline = performance.now() + this.timeoutMs;
      this.pending.set(this.tid, { frame, deadline, resolve: resolve as (value: unknown) => void, reject });
      // One request in flight (the line's way) re-arms the one timer; more keep the earliest due.
      if (this.pending.size === 1 || deadline < this.timerDue) {
        this.timerDue = deadline;
        this.timer.start(this.timeoutMs);
      }
      this.socket.write(frame);
    });
  }

  private onData(chunk: Buffer): void {
    if (this.dropReason) return;
    let buf = chunk;
    if (this.partialBytes > 0) {
      this.partial.push(chunk);
      this.partialBytes += chunk.length;
      if (this.partialBytes < this.need) return;
      buf = Buffer.concat(this.partial, this.partialBytes);
      this.partial = [];
      this.partialBytes = 0;
    }
    let at = 0;
    while (buf.length - at >= MBAP) {
      const length = buf.readUInt16BE(at + 4);
      if (length < 2 || length > MAX_LENGTH || buf.readUInt16BE(at + 2) !== 0) {
        this.drop(`protocol id ${buf.readUInt16BE(at + 2)}, length ${length}`);
        return;
      }
      const end = at + 6 + length;
      if (end > buf.length) break;
      this.onFrame(buf, at, end);
      at = end;
    }
    if (at < buf.length) {
      const rest = at === 0 ? buf : buf.subarray(at);
      this.partial.push(rest);
      this.partialBytes = rest.length;
      this.need = rest.length < MBAP ? MBAP : 6 + rest.readUInt16BE(4);
    }
  }

  private onFrame(buf: Buffer, at: number, end: number): void {
    const tid = buf.readUInt16BE(at);
    const req = this.pending.get(tid);
    // A late answer to a request that already timed out, or one never asked for.
    if (!req) return;
    this.pending.delete(tid);
    try {
      req.resolve(decode(req.frame, buf, at, end));
    } catch (err) {
      req.reject(err as Error);
    }
  }

  private expire(): void {
    const now = performance.now();
    let next = Infinity;
    for (const [tid, req] of this.pending) {
      // The timer counts whole milliseconds from the event loop's clock: it can fire a little
      // before the deadline measured here.
      if (req.deadline - now < 1) {
        this.pending.delete(tid);
        req.reject(new TransportError('timeout', 'no answer (timed out)'));
      } else {
        next = Math.min(next, req.deadline);
      }
    }
    if (next < Infinity) {
      this.timerDue = next;
      this.timer.start(Math.ceil(next - now));
    }
  }

  /** A header no Modbus TCP peer sends: the stream cannot be resynchronised, so start over. */
  private drop(detail: string): void {
    this.dropReason = new TransportError('connection', 'connection dropped (malformed MBAP header)', { cause: new Error(detail) });
    this.socket.destroy();
  }

  private onSocketClose(): void {
    const cause = this.socketError;
    const err = this.dropReason ?? new TransportError('connection', 'connection closed', cause ? { cause } : {});
    this.closeError = err;
    this.timer.stop();
    this.partial = [];
    this.partialBytes = 0;
    for (const req of this.pending.values()) req.reject(err);
    this.pending.clear();
    for (const listener of this.closeListeners.splice(0)) listener(err);
  }
}

function protocolError(detail: string): TransportError {
  return new TransportError('protocol', `unexpected answer: ${detail}`);
}

/** The value of an answer to `request`, or the error it stands for. */
function decode(request: Buffer, buf: Buffer, at: number, end: number): unknown {
  const fc = request[7]!;
  const got = buf[at + 7]!;
  const length = end - at - 6;
  if (buf[at + 6] !== request[6]) throw protocolError(`unit id ${buf[at + 6]} answered for ${request[6]}`);
  if (got === (fc | 0x80) && length === 3) {
    const code = buf[at + 8]!;
    throw new TransportError('exception', `Modbus exception ${code}`, { modbusCode: code });
  }
  if (got !== fc) throw protocolError(`function code ${got} (length ${length}) answered for ${fc}`);
  const data = at + DATA;
  if (fc <= 4) {
    const count = request.readUInt16BE(10);
    const bytes = fc <= 2 ? (count + 7) >> 3 : count * 2;
    if (length !== 3 + bytes || buf[data] !== bytes) throw protocolError(`byte count ${buf[data]} in ${length - 3} bytes, ${bytes} expected`);
    return { data: fc <= 2 ? unpackBits(buf, data + 1, count) : unpackRegisters(buf, data + 1, count) };
  }
  if (fc === READ_DEVICE_ID) return identificationPart(buf, data, end);
  // Writes echo the address and the value (FC 5/6) or the quantity (FC 15/16).
  if (length !== 6 || buf.compare(request, 8, 12, data, data + 4) !== 0) throw protocolError('write not echoed');
  return undefined;
}

function unpackRegisters(buf: Buffer, start: number, count: number): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = buf.readUInt16BE(start + i * 2);
  return out;
}

/** Bits come least significant first within each byte; the last byte is padded with zeros. */
function unpackBits(buf: Buffer, start: number, count: number): boolean[] {
  const out = new Array<boolean>(count);
  for (let i = 0; i < count; i++) out[i] = ((buf[start + (i >> 3)]! >> (i & 7)) & 1) === 1;
  return out;
}

/** MEI type, read code, conformity level, more follows, next object id, object count, then id/length/text each. */
function identificationPart(buf: Buffer, data: number, end: number): IdentificationPart {
  if (end - data < 6 || buf[data] !== MEI_DEVICE_ID) throw protocolError('not a device identification');
  const objects: Record<number, string> = {};
  // Some devices count the objects of every part, not of this one (the spec's own example does).
  let p = data + 6;
  for (let i = 0; i < buf[data + 5]! && p < end; i++) {
    const next = p + 2 + (buf[p + 1] ?? 0);
    if (next > end) throw protocolError('device identification object past the end');
    objects[buf[p]!] = buf.toString('ascii', p + 2, next);
    p = next;
  }
  return { objects, more: buf[data + 3] !== 0, next: buf[data + 4]! };
}
