// A simulated Modbus TCP device for any Modbus profile: it serves the profile's points, for each of
// the given unit ids, with values that move like a real device's (`fieldgate demo` runs the shipped
// sdm630 profile on it). Registers no point covers answer exception 02, as a real meter does.
import M from 'modbus-serial';
import type { Logger } from 'pino';
import { encodeValue } from '../../drivers/modbus/register-codec.js';
import type { ModbusPointConfig } from '../../drivers/modbus/index.js';

const { ServerTCP } = M;

export interface ProfileSimOptions {
  /** A free TCP port: modbus-serial treats 0 as 502, so the caller must pick one. */
  port: number;
  host?: string;
  /** The points to serve (a device built from the profile). */
  points: readonly ModbusPointConfig[];
  /** Unit ids that answer; others get exception 0B (gateway target device failed to respond). */
  units: readonly number[];
  logger?: Logger;
  now?: () => number;
}

export interface ProfileSim {
  port: number;
  stop(): Promise<void>;
}

const illegalAddress = () => Object.assign(new Error('illegal data address'), { modbusErrorCode: 2 });

/**
 * A plausible published value for a point, by its unit: mains voltage, a load current, an energy
 * counter that only rises. Each unit id gets its own phase, so fanned-out devices differ.
 */
export function simulatedValue(point: Pick<ModbusPointConfig, 'name' | 'unit' | 'type'>, unit: number, seconds: number): number | string {
  // Phases of a three-phase point (…_l2, …_l3) run a third of a turn apart.
  const phase = Number(/_l([123])$/.exec(point.name)?.[1] ?? 1) - 1;
  const wave = (period: number) => Math.sin((2 * Math.PI * seconds) / period + unit + (phase * 2 * Math.PI) / 3);
  switch (point.unit) {
    case 'V': return 230 + 2 * wave(60);
    case 'A': return 8 + 3 * wave(300);
    case 'W': return 1800 + 700 * wave(300);
    case 'VA': return 1900 + 700 * wave(300);
    case 'var': return 300 + 100 * wave(300);
    case 'Hz': return 50 + 0.03 * wave(45);
    case 'kWh': return 1000 * unit + seconds * 0.0005;
    case 'Wh': return 1_000_000 * unit + Math.floor(seconds * 0.5);
    case 'C': return 21 + 2 * wave(600);
    case '%': return 45 + 5 * wave(900);
  }
  if (point.type === 'string') return `SIM-${unit}`;
  return /factor/.test(point.name) ? 0.95 + 0.03 * wave(120) : 0;
}

export async function startProfileSim(options: ProfileSimOptions): Promise<ProfileSim> {
  if (!Number.isInteger(options.port) || options.port <= 0) {
    throw new RangeError('startProfileSim needs a real port number (0 would mean 502 to modbus-serial)');
  }
  const now = options.now ?? Date.now;
  const started = now();
  const served = options.points.filter((p) => p.table === 'input' || p.table === 'holding');

  const image = (table: 'input' | 'holding', unit: number): Map<number, number> => {
    const seconds = (now() - started) / 1000;
    const out = new Map<number, number>();
    for (const p of served) {
      if (p.table !== table) continue;
      const value = simulatedValue(p, unit, seconds);
      const type = p.type ?? 'uint16';
      // The register holds the value before the point's scale; integers are whole.
      const raw = typeof value === 'string' ? value : value / (p.scale ?? 1);
      const registers = encodeValue(type.startsWith('float') || typeof raw === 'string' ? raw : Math.round(raw), {
        type, order: p.order ?? 'ABCD', ...(p.length === undefined ? {} : { length: p.length }),
      });
      registers.forEach((r, i) => out.set(p.address + i, r));
    }
    return out;
  };
  const pick = (table: 'input' | 'holding', addr: number, length: number, unit: number): number[] => {
    // modbus-serial's server answers every unit id; an unknown one gets what a TCP gateway answers
    // for a device that is not on its bus (exception 0B).
    if (!options.units.includes(unit)) throw Object.assign(new Error('no such unit'), { modbusErrorCode: 0x0b });
    const regs = image(table, unit);
    const out: number[] = [];
    for (let a = addr; a < addr + length; a++) {
      const v = regs.get(a);
      if (v === undefined) throw illegalAddress();
      out.push(v);
    }
    return out;
  };
  const vector = {
    getInputRegister: (addr: number, unit: number) => pick('input', addr, 1, unit)[0]!,
    getMultipleInputRegisters: (addr: number, length: number, unit: number) => pick('input', addr, length, unit),
    getHoldingRegister: (addr: number, unit: number) => pick('holding', addr, 1, unit)[0]!,
    getMultipleHoldingRegisters: (addr: number, length: number, unit: number) => pick('holding', addr, length, unit),
  };
  const server = new ServerTCP(vector, { host: options.host ?? '127.0.0.1', port: options.port, unitID: 255 });
  server.on('error', (err) => options.logger?.debug({ err }, 'profile sim: request refused'));
  server.on('socketError', (err) => options.logger?.debug({ err }, 'profile sim: socket error'));
  await new Promise<void>((resolve, reject) => {
    server.once('initialized', () => resolve());
    server.once('serverError', (err) => reject(err));
  });
  return {
    port: options.port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
