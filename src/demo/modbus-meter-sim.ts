// An in-process Modbus TCP three-phase energy meter for `fieldgate demo`, tests and benchmarks.
// Values move like a real meter's (voltages around 230 V, load-dependent currents, an energy counter
// that only rises); a holding-register power limit and a relay coil can be written.
//
// Register map (0-based protocol addresses, unit id ignored: the meter answers any):
//   input    0,2,4   voltage L1..L3       float32 CDAB  V
//   input    6,8,10  current L1..L3       float32 CDAB  A
//   input    12      active power total   float32 CDAB  W
//   input    14      frequency            float32 CDAB  Hz
//   input    16..19  reserved (read as 0)
//   input    20      energy import        uint32  ABCD  Wh
//   input    40      model                string, 8 registers
//   holding  0       power limit          uint16        W     writable
//   holding  1       status bits: 0 relay closed, 1 power above limit
//   coil     0       relay                                     writable
// Any other address answers exception 02 (illegal data address), as a real meter does.
import M from 'modbus-serial';
import type { Logger } from 'pino';
import type { ModbusDeviceConfig } from '../../drivers/modbus/index.js';

const { ServerTCP } = M;

export interface MeterSimOptions {
  /** A free TCP port: modbus-serial treats 0 as 502, so the caller must pick one. */
  port: number;
  host?: string;
  logger?: Logger;
  /** Epoch ms; injected so tests can move time. */
  now?: () => number;
}

export interface MeterSim {
  port: number;
  /** The meter's writable state, for assertions. */
  readonly state: { powerLimit: number; relay: boolean; energyWh: number };
  stop(): Promise<void>;
}

const MODEL = 'FG-EM340';
const illegalAddress = () => Object.assign(new Error('illegal data address'), { modbusErrorCode: 2 });

function float32Cdab(value: number): [number, number] {
  const b = Buffer.alloc(4);
  b.writeFloatBE(value, 0);
  return [b.readUInt16BE(2), b.readUInt16BE(0)];
}

export async function startModbusMeterSim(options: MeterSimOptions): Promise<MeterSim> {
  if (!Number.isInteger(options.port) || options.port <= 0) {
    throw new RangeError('startModbusMeterSim needs a real port number (0 would mean 502 to modbus-serial)');
  }
  const now = options.now ?? Date.now;
  const started = now();
  const state = { powerLimit: 20_000, relay: true, energyWh: 1_234_567 };
  let lastEnergyAt = started;

  const electrical = (t: number) => {
    const s = (t - started) / 1000;
    const phase = [0, (2 * Math.PI) / 3, (4 * Math.PI) / 3];
    const voltages = phase.map((ph) => 230 + 2.5 * Math.sin((2 * Math.PI * s) / 60 + ph) + 0.3 * Math.sin(s * 7.1 + ph));
    const currents = phase.map((ph, i) =>
      state.relay ? Math.max(0, 9 + 4 * Math.sin((2 * Math.PI * s) / 300 + ph) + 0.5 * Math.sin(s * 3.3 + i)) : 0,
    );
    const power = voltages.reduce((sum, v, i) => sum + v * currents[i]! * 0.95, 0);
    const frequency = 50 + 0.03 * Math.sin((2 * Math.PI * s) / 45);
    return { voltages, currents, power, frequency };
  };

  const inputImage = (): Map<number, number> => {
    const t = now();
    const e = electrical(t);
    state.energyWh += (e.power * Math.max(0, t - lastEnergyAt)) / 3_600_000;
    lastEnergyAt = t;
    const image = new Map<number, number>();
    const putFloat = (address: number, v: number) => {
      const [lo, hi] = float32Cdab(v);
      image.set(address, lo);
      image.set(address + 1, hi);
    };
    e.voltages.forEach((v, i) => putFloat(i * 2, v));
    e.currents.forEach((c, i) => putFloat(6 + i * 2, c));
    putFloat(12, e.power);
    putFloat(14, e.frequency);
    for (let a = 16; a < 20; a++) image.set(a, 0);
    const wh = Math.floor(state.energyWh) >>> 0;
    image.set(20, wh >>> 16);
    image.set(21, wh & 0xffff);
    const model = Buffer.alloc(16);
    model.write(MODEL, 'ascii');
    for (let i = 0; i < 8; i++) image.set(40 + i, model.readUInt16BE(i * 2));
    return image;
  };

  const holdingImage = (): Map<number, number> => {
    const overLimit = electrical(now()).power > state.powerLimit;
    return new Map([
      [0, state.powerLimit],
      [1, (state.relay ? 1 : 0) | (overLimit ? 2 : 0)],
    ]);
  };

  const pick = (image: Map<number, number>, addr: number, length: number): number[] => {
    const out: number[] = [];
    for (let a = addr; a < addr + length; a++) {
      const v = image.get(a);
      if (v === undefined) throw illegalAddress();
      out.push(v);
    }
    return out;
  };

  const vector = {
    getInputRegister: (addr: number, _unit: number) => pick(inputImage(), addr, 1)[0]!,
    getMultipleInputRegisters: (addr: number, length: number, _unit: number) => pick(inputImage(), addr, length),
    getHoldingRegister: (addr: number, _unit: number) => pick(holdingImage(), addr, 1)[0]!,
    getMultipleHoldingRegisters: (addr: number, length: number, _unit: number) => pick(holdingImage(), addr, length),
    getCoil: (addr: number, _unit: number) => {
      if (addr !== 0) throw illegalAddress();
      return state.relay;
    },
    setRegister: (addr: number, value: number, _unit: number) => {
      if (addr !== 0) throw illegalAddress();
      state.powerLimit = value;
      options.logger?.info({ powerLimit: value }, 'meter sim: power limit written');
    },
    setCoil: (addr: number, value: boolean, _unit: number) => {
      if (addr !== 0) throw illegalAddress();
      state.relay = value;
      options.logger?.info({ relay: value }, 'meter sim: relay switched');
    },
  };

  const server = new ServerTCP(vector, { host: options.host ?? '127.0.0.1', port: options.port, unitID: 255 });
  // An 'error' event without a listener would crash the process hosting the simulator.
  server.on('error', (err) => options.logger?.debug({ err }, 'meter sim: request refused'));
  server.on('socketError', (err) => options.logger?.debug({ err }, 'meter sim: socket error'));
  await new Promise<void>((resolve, reject) => {
    server.once('initialized', () => resolve());
    server.once('serverError', (err) => reject(err));
  });
  options.logger?.info({ port: options.port }, 'meter sim listening');

  return {
    port: options.port,
    state,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The demo site file's device for the simulated meter. */
export function meterDemoDevice(port: number, host = '127.0.0.1'): ModbusDeviceConfig {
  const float = (name: string, address: number, unit: string) =>
    ({ name, table: 'input' as const, address, type: 'float32' as const, order: 'CDAB' as const, unit });
  return {
    name: 'meter-1',
    driver: 'modbus',
    tcp: { host, port },
    unit_id: 1,
    interval: '1s',
    timeout: '500ms',
    points: [
      float('voltage_l1', 0, 'V'),
      float('voltage_l2', 2, 'V'),
      float('voltage_l3', 4, 'V'),
      float('current_l1', 6, 'A'),
      float('current_l2', 8, 'A'),
      float('current_l3', 10, 'A'),
      float('power', 12, 'W'),
      float('frequency', 14, 'Hz'),
      { name: 'energy', table: 'input', address: 20, type: 'uint32', unit: 'kWh', scale: 0.001 },
      { name: 'model', table: 'input', address: 40, type: 'string', length: 8 },
      { name: 'power_limit', table: 'holding', address: 0, type: 'uint16', unit: 'W', writable: true, min: 0, max: 60_000 },
      { name: 'over_limit', table: 'holding', address: 1, type: 'bool', bit: 1 },
      { name: 'relay', table: 'coil', address: 0, writable: true },
    ],
  };
}
