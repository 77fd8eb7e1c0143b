// Executes a device's read plan on its line, decodes the answers into readings, remembers the splits
// a device forced on the plan, and carries out writes. All policy about what to read lives in the
// plan; all policy about the wire lives in the line.
import {
  CommandError, DeviceError, type Driver, type DriverContext, type Reading, type Scalar,
} from '../../src/driver-api/index.js';
import { busKey, isBus, type CompiledDevice } from './device-config.js';
import { ModbusError, toModbusError } from './modbus-error.js';
import { ModbusLine, type JobSettings, type LineClient } from './modbus-line.js';
import { openRtu, openRtuOverTcp, openTcp, type Connection } from './modbus-transport.js';
import { decodeRegisters, withBit } from './register-codec.js';
import { isBitTable, splitRequest, type CompiledPoint, type ReadRequest } from './request-plan.js';
import { buildWrite } from './write-request.js';
import { applyScaleFactor } from './scale-factor.js';

/** Opens the connection for a line; replaceable in tests. */
export type Connector = (device: CompiledDevice) => Promise<Connection>;

export const defaultConnector: Connector = (device) => {
  const link = device.link;
  if (link.kind === 'rtu') return openRtu(link);
  const connectTimeoutMs = Math.max(1000, device.timeoutMs);
  return link.framing === 'rtu' ? openRtuOverTcp(link.host, link.port, connectTimeoutMs) : openTcp(link.host, link.port, connectTimeoutMs);
};

export { busKey } from './device-config.js';

const TCP_RECYCLE_AFTER_TIMEOUTS = 3;
/**
 * Splits are kept, but once an hour the compiled plan gets another chance: a device that refused
 * reads only while it booted gets its efficient plan back; a truly bad address costs one short
 * rediscovery (about 2·log2(points) requests) per hour.
 */
export const REPLAN_AFTER_MS = 3_600_000;

interface PollState {
  /** By point index; scale factor registers after the points (an array: a Map grew at every poll). */
  readings: (Reading | undefined)[];
  plan: ReadRequest[];
  answered: number;
  failures: ModbusError[];
  /** Faults reported to the core during this poll. */
  reported: number;
  aborted?: ModbusError;
}

const key = (r: ReadRequest) => `${r.table}:${r.start}:${r.count}`;

export class ModbusDriver implements Driver {
  private line: ModbusLine | undefined;
  /** The plan as the device accepts it: starts as compiled, refused reads get split for good. */
  private plan: ReadRequest[];
  /** Single-cluster reads the device refuses (bad addresses), reported once, then only marked bad. */
  private readonly refused = new Set<string>();
  private faulted = false;
  private planSince = 0;
  private readonly settings: JobSettings;

  constructor(
    private readonly device: CompiledDevice,
    private readonly ctx: DriverContext,
    private readonly connector: Connector = defaultConnector,
  ) {
    this.plan = device.plan;
    this.settings = { unitId: device.unitId, timeoutMs: device.timeoutMs, frameGapMs: device.frameGapMs };
  }

  async start(): Promise<void> {
    const d = this.device;
    const make = (recycleAfterTimeouts: number, label: string) =>
      new ModbusLine({
        label,
        connect: () => this.connector(d),
        logger: this.ctx.logger,
        reconnect: d.reconnect,
        recycleAfterTimeouts,
      });
    if (d.link.kind === 'rtu') {
      const link = d.link;
      this.line = this.ctx.resources.acquire(busKey(link), () => make(0, `${link.mode} ${link.port}`), (line) => line.stop());
    } else if (d.link.framing === 'rtu') {
      // A serial device server is a bus reached over TCP: one line for all its devices. A socket
      // on which no device answers several times in a row may be half-open: it is re-opened.
      const link = d.link;
      this.line = this.ctx.resources.acquire(
        busKey(link),
        () => make(TCP_RECYCLE_AFTER_TIMEOUTS, `rtu over tcp ${link.host}:${link.port}`),
        (line) => line.stop(),
      );
    } else {
      this.line = make(TCP_RECYCLE_AFTER_TIMEOUTS, `tcp ${d.link.host}:${d.link.port}`);
    }
    this.line.start();
  }

  async stop(): Promise<void> {
    const line = this.line;
    if (!line) return;
    this.line = undefined;
    line.cancel(this.device.name);
    if (isBus(this.device.link)) await this.ctx.resources.release(busKey(this.device.link));
    else await line.stop();
  }

  /** The plan currently executed, splits included (for diagnostics and tests). */
  get currentPlan(): readonly ReadRequest[] {
    return this.plan;
  }

  async poll(): Promise<Reading[]> {
    const line = this.requireLine();
    const now = this.ctx.clock.now();
    if (this.plan !== this.device.plan && now - this.planSince >= REPLAN_AFTER_MS) {
      this.ctx.logger.debug('modbus: retrying the compiled read plan');
      this.plan = this.device.plan;
    }
    if (this.plan === this.device.plan) this.planSince = now;
    const state: PollState = {
      readings: new Array<Reading | undefined>(this.device.points.length + this.device.scaleFactors.length),
      plan: [], answered: 0, failures: [], reported: 0,
    };
    for (const request of this.plan) await this.read(line, request, state);
    this.plan = state.plan;
    if (state.answered === 0 && state.failures.some((f) => !f.addressRefused)) {
      const first = state.aborted ?? state.failures.find((f) => !f.addressRefused)!;
      // The same text as the fault already reported for that request: one fault, not two.
      throw new DeviceError(first.fault, first.message, { cause: first });
    }
    if (state.reported === 0 && state.answered > 0 && this.faulted) {
      this.faulted = false;
      this.ctx.reportRecovered();
    }
    return this.device.points.map((p) => {
      const reading = state.readings[p.index]!;
      if (p.scaleFrom === undefined) return reading;
      const sf = this.device.scaleFactors[p.scaleFrom - this.device.points.length]!;
      return applyScaleFactor(reading, state.readings[p.scaleFrom], `${sf.table} ${sf.address}`);
    });
  }

  async write(point: string, value: Scalar): Promise<void> {
    const p = this.device.points.find((q) => q.name === point);
    if (!p) throw new CommandError('unknown_point', `${this.device.name} has no point "${point}"`);
    const action = buildWrite(p, value);
    const line = this.requireLine();
    try {
      await line.run(this.device.name, this.settings, async (c) => {
        switch (action.kind) {
          case 'coil':
            return action.fc === 5 ? c.writeCoil(action.address, action.on) : c.writeCoils(action.address, [action.on]);
          case 'registers':
            return action.fc === 6 ? c.writeRegister(action.address, action.values[0]!) : c.writeRegisters(action.address, action.values);
          case 'bit': {
            // Read-modify-write inside one job: no other request of this gateway gets in between.
            const [current] = await c.readRegisters('holding', action.address, 1);
            const next = withBit(current!, action.bit, action.on, action.order);
            return action.fc === 6 ? c.writeRegister(action.address, next) : c.writeRegisters(action.address, [next]);
          }
        }
      });
    } catch (err) {
      const failure = toModbusError(err, `write ${point}`);
      this.report(failure);
      throw failure;
    }
  }

  private requireLine(): ModbusLine {
    if (!this.line) throw new DeviceError('not_started', `${this.device.name}: driver not started`);
    return this.line;
  }

  private async read(line: ModbusLine, request: ReadRequest, state: PollState): Promise<void> {
    if (state.aborted) {
      // The device stopped answering during this poll: keep the read for next time, skip it now.
      state.plan.push(request);
      this.markBad(state, request, state.aborted);
      return;
    }
    try {
      await line.run(this.device.name, this.settings, async (c) => {
        const data = await fetch(c, request);
        const ts = this.ctx.clock.now();
        for (const p of request.points) state.readings[p.index] = decodePoint(p, request, data, ts);
      });
      state.answered += 1;
      state.plan.push(request);
      this.refused.delete(key(request));
    } catch (err) {
      const failure = toModbusError(err, `read ${request.table} ${request.start}+${request.count}`);
      if (failure.addressRefused) {
        const pieces = splitRequest(request);
        if (pieces.length > 1) {
          this.ctx.logger.info(
            { table: request.table, start: request.start, count: request.count, code: failure.modbusCode },
            'modbus read refused: splitting it and remembering the split',
          );
          for (const piece of pieces) await this.read(line, piece, state);
          return;
        }
        state.failures.push(failure);
        state.plan.push(request);
        this.markBad(state, request, failure);
        if (!this.refused.has(key(request))) {
          this.refused.add(key(request));
          this.report(failure, state);
        }
        return;
      }
      state.failures.push(failure);
      state.plan.push(request);
      this.markBad(state, request, failure);
      this.report(failure, state);
      if (failure.unreachable) state.aborted = failure;
    }
  }

  private markBad(state: PollState, request: ReadRequest, failure: ModbusError): void {
    const ts = this.ctx.clock.now();
    for (const p of request.points) {
      state.readings[p.index] = { point: p.name, value: null, ts, quality: 'bad', error: failure.message };
    }
  }

  private report(failure: ModbusError, state?: PollState): void {
    if (state) state.reported += 1;
    this.faulted = true;
    this.ctx.reportError(failure.fault, failure);
  }
}

async function fetch(c: LineClient, r: ReadRequest): Promise<number[] | boolean[]> {
  switch (r.table) {
    case 'coil':
    case 'discrete':
      return c.readBits(r.table, r.start, r.count);
    case 'holding':
    case 'input':
      return c.readRegisters(r.table, r.start, r.count);
  }
}

function decodePoint(p: CompiledPoint, r: ReadRequest, data: number[] | boolean[], ts: number): Reading {
  const offset = p.address - r.start;
  if (isBitTable(p.table)) return { point: p.name, value: data[offset] === true, ts, quality: 'good' };
  const value = decodeRegisters(data as number[], p.spec, offset);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    // Meters send NaN for "not available"; publishing it would break JSON consumers.
    return { point: p.name, value: null, ts, quality: 'bad', error: `${p.spec.type} is ${value}` };
  }
  return { point: p.name, value, ts, quality: 'good' };
}
