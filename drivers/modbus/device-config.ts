// A Modbus device's site-file section → the settings the driver runs on (defaults applied, durations
// parsed, points compiled, requests planned), plus the semantic checks `fieldgate validate` runs.
import { parseDuration, type ConfigIssue } from '../../src/driver-api/index.js';
import { registerCount, type ValueSpec } from './register-codec.js';
import { isBitTable, planRequests, type CompiledPoint, type PlanLimits, type ReadRequest } from './request-plan.js';
import type { ModbusDeviceConfig, ModbusPointConfig, Parity, SerialMode, TcpFraming } from './schema.js';

export interface TcpLink {
  kind: 'tcp';
  host: string;
  port: number;
  framing: TcpFraming;
}

export interface RtuLink {
  kind: 'rtu';
  port: string;
  mode: SerialMode;
  baudRate: number;
  parity: Parity;
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

export interface CompiledDevice {
  name: string;
  link: TcpLink | RtuLink;
  unitId: number;
  timeoutMs: number;
  /** Silence kept before each RTU frame (0 for TCP). */
  frameGapMs: number;
  reconnect: { initialMs: number; maxMs: number };
  limits: PlanLimits;
  points: CompiledPoint[];
  /** Scale factor registers (scale_register), read in the plan like points but never published. */
  scaleFactors: CompiledPoint[];
  plan: ReadRequest[];
}

export const DEFAULTS = {
  unitId: 1,
  timeout: '1s',
  maxGap: 10,
  maxRegisters: 125,
  maxBits: 2000,
  tcpPort: 502,
  framing: 'tcp' as TcpFraming,
  mode: 'rtu' as SerialMode,
  baudRate: 9600,
  parity: 'none' as Parity,
  dataBits: 8 as const,
  stopBits: 1 as const,
  reconnectInitial: '500ms',
  reconnectMax: '10s',
};

/**
 * Modbus RTU wants 3.5 character times of silence between frames; above 19200 baud the spec fixes
 * it at 1.75 ms because the character time gets shorter than UARTs and timers can resolve.
 */
export function rtuFrameGapMs(baudRate: number, dataBits: number, parity: Parity, stopBits: number): number {
  if (baudRate > 19200) return 1.75;
  const bitsPerChar = 1 + dataBits + (parity === 'none' ? 0 : 1) + stopBits;
  return (3.5 * bitsPerChar * 1000) / baudRate;
}

export function rtuLink(device: ModbusDeviceConfig): RtuLink | undefined {
  const r = device.rtu;
  if (!r) return undefined;
  return {
    kind: 'rtu',
    port: r.port,
    mode: r.mode ?? DEFAULTS.mode,
    baudRate: r.baud_rate ?? DEFAULTS.baudRate,
    parity: r.parity ?? DEFAULTS.parity,
    dataBits: r.data_bits ?? DEFAULTS.dataBits,
    stopBits: r.stop_bits ?? DEFAULTS.stopBits,
  };
}

/** "8N1" */
export function frameFormat(link: RtuLink): string {
  return `${link.dataBits}${link.parity[0]!.toUpperCase()}${link.stopBits}`;
}

/** "9600 8N1" */
export function lineSettings(link: RtuLink): string {
  return `${link.baudRate} ${frameFormat(link)}`;
}

export function describeLink(link: TcpLink | RtuLink, unitId: number): string {
  if (link.kind === 'tcp') return `tcp ${link.host}:${link.port}${link.framing === 'rtu' ? ' (rtu framing)' : ''} unit ${unitId}`;
  return `${link.mode} ${link.port} ${lineSettings(link)} unit ${unitId}`;
}

/** A line that several devices share one frame at a time: a serial port, or a serial device server. */
export function isBus(link: TcpLink | RtuLink): boolean {
  return link.kind === 'rtu' || link.framing === 'rtu';
}

/** The shared-resource key of a bus: every device on the port (or device server) gets the same line. */
export function busKey(link: TcpLink | RtuLink): string {
  return link.kind === 'rtu' ? `modbus-rtu:${link.port}` : `modbus-rtu-tcp:${link.host}:${link.port}`;
}

export function compilePoint(p: ModbusPointConfig, index: number): CompiledPoint {
  const bitTable = isBitTable(p.table);
  const spec: ValueSpec = {
    type: p.type ?? (bitTable ? 'bool' : 'uint16'),
    order: p.order ?? 'ABCD',
    ...(p.bit !== undefined ? { bit: p.bit } : {}),
    ...(p.length !== undefined ? { length: p.length } : {}),
  };
  // A bool bit of a register occupies the register.
  const size = bitTable ? 1 : spec.bit !== undefined ? 1 : registerCount(spec);
  return {
    index,
    name: p.name,
    table: p.table,
    address: p.address,
    size,
    spec,
    writable: p.writable === true,
    writeFunction: p.write_function ?? 'auto',
  };
}

export function planLimits(device: ModbusDeviceConfig): PlanLimits {
  return {
    maxGap: device.max_gap ?? DEFAULTS.maxGap,
    maxRegisters: device.max_registers ?? DEFAULTS.maxRegisters,
    maxBits: device.max_bits ?? DEFAULTS.maxBits,
  };
}

/** Assumes checkDevice found nothing; throws on what it cannot make sense of. */
export function compileDevice(device: ModbusDeviceConfig): CompiledDevice {
  const rtu = rtuLink(device);
  const link: TcpLink | RtuLink = rtu ?? {
    kind: 'tcp',
    host: device.tcp?.host ?? '127.0.0.1',
    port: device.tcp?.port ?? DEFAULTS.tcpPort,
    framing: device.tcp?.framing ?? DEFAULTS.framing,
  };
  const points = device.points.map(compilePoint);
  const scaleFactors = compileScaleFactors(device.points, points);
  const limits = planLimits(device);
  // ASCII frames are delimited by ':' and CR LF, and a device server times the serial side itself:
  // only binary RTU on a local port needs the 3.5-character silence.
  const frameGapMs = device.frame_gap !== undefined
    ? parseDuration(device.frame_gap)
    : rtu?.mode === 'rtu' ? rtuFrameGapMs(rtu.baudRate, rtu.dataBits, rtu.parity, rtu.stopBits) : 0;
  return {
    name: device.name,
    link,
    unitId: device.unit_id ?? DEFAULTS.unitId,
    timeoutMs: parseDuration(device.timeout ?? DEFAULTS.timeout),
    frameGapMs,
    reconnect: {
      initialMs: parseDuration(device.reconnect?.initial ?? DEFAULTS.reconnectInitial),
      maxMs: parseDuration(device.reconnect?.max ?? DEFAULTS.reconnectMax),
    },
    limits,
    points,
    scaleFactors,
    plan: planRequests([...points, ...scaleFactors], limits),
  };
}

/**
 * One hidden int16 point per distinct scale factor register (SunSpec shares one `*_SF` among
 * several values), numbered after the device's points; each scaled point learns its index.
 */
function compileScaleFactors(configs: readonly ModbusPointConfig[], points: CompiledPoint[]): CompiledPoint[] {
  const byRegister = new Map<string, CompiledPoint>();
  configs.forEach((p, i) => {
    const sr = p.scale_register;
    if (!sr) return;
    const id = `${sr.table}:${sr.address}`;
    let sf = byRegister.get(id);
    if (!sf) {
      sf = {
        index: configs.length + byRegister.size,
        name: 'scale_factor',
        table: sr.table,
        address: sr.address,
        size: 1,
        spec: { type: 'int16', order: 'ABCD' },
        writable: false,
        writeFunction: 'auto',
      };
      byRegister.set(id, sf);
    }
    points[i] = { ...points[i]!, scaleFrom: sf.index };
  });
  return [...byRegister.values()];
}

function checkDuration(issues: ConfigIssue[], path: (string | number)[], text: string | undefined): void {
  if (text === undefined) return;
  try {
    if (parseDuration(text) <= 0) issues.push({ path, message: 'must be longer than 0ms' });
  } catch (err) {
    issues.push({ path, message: (err as Error).message });
  }
}

function checkPoint(p: ModbusPointConfig, i: number, limits: PlanLimits, issues: ConfigIssue[]): void {
  const at = (key?: string) => (key ? ['points', i, key] : ['points', i]);
  const bitTable = isBitTable(p.table);
  const type = p.type ?? (bitTable ? 'bool' : 'uint16');
  if (bitTable) {
    if (type !== 'bool') issues.push({ path: at('type'), message: `a ${p.table} point is a single bit: type must be bool` });
    if (p.bit !== undefined) issues.push({ path: at('bit'), message: `bit applies to holding/input registers, not to ${p.table}` });
    if (p.order !== undefined) issues.push({ path: at('order'), message: `order has no meaning for ${p.table} points` });
  } else {
    if (type === 'bool' && p.bit === undefined) {
      issues.push({ path: at('type'), message: 'type bool in a register table needs bit (0-15)' });
    }
    if (p.bit !== undefined && type !== 'bool' && type !== 'int16' && type !== 'uint16') {
      issues.push({ path: at('bit'), message: `bit needs a 16-bit register type (bool, int16, uint16), not ${type}` });
    }
  }
  if (type === 'string' && p.length === undefined) {
    issues.push({ path: at('length'), message: 'a string point needs length (registers)' });
  }
  if (type !== 'string' && p.length !== undefined) {
    issues.push({ path: at('length'), message: 'length applies to string points only' });
  }
  if (p.scale_register) {
    if (bitTable || type === 'bool' || type === 'string') {
      issues.push({ path: at('scale_register'), message: `a scale factor applies to numbers, not to ${bitTable ? `${p.table} points` : type}` });
    }
    // A command would need the scale factor of the moment to un-scale its value.
    if (p.writable === true) issues.push({ path: at('scale_register'), message: 'a point with scale_register cannot be writable' });
  }
  if (p.writable === true && (p.table === 'input' || p.table === 'discrete')) {
    issues.push({ path: at('writable'), message: `${p.table} points are read-only in Modbus` });
  }
  const point = compilePoint({ ...p, type }, i);
  if (point.address + point.size - 1 > 65535) {
    issues.push({ path: at('address'), message: `address ${p.address} + ${point.size} runs past 65535` });
  }
  const limit = bitTable ? limits.maxBits : limits.maxRegisters;
  if (point.size > limit) {
    issues.push({ path: at('length'), message: `${point.size} registers exceed max_registers (${limit}) of one read` });
  }
  // A read may carry 125 registers, a write (FC16) only 123; split in two, a write would no longer
  // be one request the device applies as a whole.
  if (p.writable === true && !bitTable && point.size > MAX_WRITE_REGISTERS) {
    issues.push({ path: at('length'), message: `a writable point of ${point.size} registers exceeds the ${MAX_WRITE_REGISTERS} one write (FC16) carries` });
  }
}

const MAX_WRITE_REGISTERS = 123;

/** Semantic checks after the schema passed; every issue at once, no I/O. */
export function checkDevice(device: ModbusDeviceConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if ((device.tcp === undefined) === (device.rtu === undefined)) {
    issues.push({ path: [], message: 'exactly one of tcp and rtu is required' });
  }
  const unitId = device.unit_id ?? DEFAULTS.unitId;
  const serialFrames = device.rtu !== undefined || device.tcp?.framing === 'rtu';
  if (serialFrames && (unitId < 1 || unitId > 247)) {
    issues.push({ path: ['unit_id'], message: 'a unit id on a serial bus is 1-247 (0 is broadcast, which never answers)' });
  }
  checkDuration(issues, ['timeout'], device.timeout);
  checkDuration(issues, ['reconnect', 'initial'], device.reconnect?.initial);
  checkDuration(issues, ['reconnect', 'max'], device.reconnect?.max);
  if (device.frame_gap !== undefined) {
    if (device.tcp && device.tcp.framing !== 'rtu') issues.push({ path: ['frame_gap'], message: 'frame_gap applies to serial lines and framing: rtu only' });
    try {
      parseDuration(device.frame_gap);
    } catch (err) {
      issues.push({ path: ['frame_gap'], message: (err as Error).message });
    }
  }
  const limits = planLimits(device);
  device.points.forEach((p, i) => checkPoint(p, i, limits, issues));
  return issues;
}

