// Modbus request planning: what does the planner save on a realistic register map?
// A 200-point map over holding registers, input registers and coils (with holes, bit points
// sharing registers, 32-bit values) is polled through the real driver against a Modbus TCP server
// on loopback, once with the planned reads and once with one request per point (the baseline),
// in the same run. The server runs in a child process so the CPU figures are the gateway's alone.
// Run: node --import tsx bench/modbus-plan.bench.ts   (POLLS=200)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import M from 'modbus-serial';
import { pino } from 'pino';
import { compileDevice, type CompiledDevice } from '../drivers/modbus/device-config.js';
import { ModbusDriver } from '../drivers/modbus/modbus-driver.js';
import type { ModbusDeviceConfig, ModbusPointConfig } from '../drivers/modbus/schema.js';
import type { DriverContext } from '../src/driver-api/index.js';
import { freePort } from '../test/integration/harness/free-port.js';
import { fmt, machine, median } from './bench-util.js';

const POLLS = Number(process.env.POLLS ?? 200);
const ROUNDS = 3;

/** A deterministic map of 200 points like a meter + controller: blocks of values with holes. */
export function benchMap(): ModbusPointConfig[] {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const points: ModbusPointConfig[] = [];
  let address = 0;
  for (let i = 0; i < 110; i++) {
    const r = rnd();
    const type = r < 0.6 ? 'float32' : r < 0.8 ? 'uint32' : 'int16';
    points.push({ name: `in${i}`, table: 'input', address, type, order: 'CDAB' });
    address += type === 'int16' ? 1 : 2;
    if (rnd() < 0.15) address += 1 + Math.floor(rnd() * 30); // reserved registers between blocks
  }
  address = 1000;
  for (let i = 0; i < 60; i++) {
    if (rnd() < 0.2) {
      points.push({ name: `hb${i}`, table: 'holding', address, type: 'bool', bit: i % 16 });
      if (rnd() < 0.5) address += 1;
    } else {
      points.push({ name: `h${i}`, table: 'holding', address, type: rnd() < 0.5 ? 'uint16' : 'int16' });
      address += 1;
    }
    if (rnd() < 0.2) address += 1 + Math.floor(rnd() * 20);
  }
  address = 0;
  for (let i = 0; i < 30; i++) {
    points.push({ name: `c${i}`, table: 'coil', address });
    address += 1 + (rnd() < 0.3 ? Math.floor(rnd() * 40) : 0);
  }
  return points;
}

function serve(port: number): void {
  const vector = {
    getInputRegister: (addr: number, _unit: number) => addr & 0xffff,
    getMultipleInputRegisters: (addr: number, length: number, _unit: number) => Array.from({ length }, (_, i) => (addr + i) & 0xffff),
    getHoldingRegister: (addr: number, _unit: number) => (addr * 7) & 0xffff,
    getMultipleHoldingRegisters: (addr: number, length: number, _unit: number) => Array.from({ length }, (_, i) => ((addr + i) * 7) & 0xffff),
    getCoil: (addr: number, _unit: number) => addr % 3 === 0,
  };
  const server = new M.ServerTCP(vector, { host: '127.0.0.1', port, unitID: 255 });
  server.on('error', () => {});
  server.on('initialized', () => console.log('READY'));
}

function context(): DriverContext {
  return {
    logger: pino({ level: 'warn' }),
    clock: { now: () => Date.now() },
    emit: () => {},
    reportError: (kind, err) => console.error(`device error (${kind}): ${(err as Error).message}`),
    reportRecovered: () => {},
    resources: { acquire: (_k, create) => create(), release: async () => {} },
  };
}

async function run(device: CompiledDevice, polls: number): Promise<{ pointsPerS: number; cpuMsPer1000: number; msPerPoll: number }> {
  const driver = new ModbusDriver(device, context());
  await driver.start();
  for (let i = 0; i < 5; i++) await driver.poll(); // connect, warm up the JIT
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < polls; i++) {
    const readings = await driver.poll();
    if (readings.some((r) => r.quality !== 'good')) throw new Error('bad reading in benchmark');
  }
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await driver.stop();
  const points = polls * device.points.length;
  return {
    pointsPerS: points / wallS,
    cpuMsPer1000: (cpu.user + cpu.system) / 1000 / (points / 1000),
    msPerPoll: (wallS * 1000) / polls,
  };
}

async function main(): Promise<void> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  try {
    const config: ModbusDeviceConfig = {
      name: 'bench', driver: 'modbus', tcp: { host: '127.0.0.1', port }, timeout: '2s', points: benchMap(),
    };
    const planned = compileDevice(config);
    const contiguous = compileDevice({ ...config, max_gap: 0 });
    const perPoint: CompiledDevice = {
      ...planned,
      plan: planned.points.map((p) => ({ table: p.table, start: p.address, count: p.size, points: [p] })),
    };
    console.log(`modbus-plan: ${planned.points.length} points (input ${planned.points.filter((p) => p.table === 'input').length},` +
      ` holding ${planned.points.filter((p) => p.table === 'holding').length}, coil ${planned.points.filter((p) => p.table === 'coil').length})` +
      `, ${POLLS} polls × ${ROUNDS} rounds, Modbus TCP on loopback`);
    console.log(`machine: ${machine()}`);
    const perTable = (d: CompiledDevice) => ['holding', 'input', 'coil'].map((t) => `${t} ${d.plan.filter((r) => r.table === t).length}`).join(', ');
    console.log(`reads per poll by table: planned ${perTable(planned)}; contiguous only ${perTable(contiguous)}`);
    const variants = [
      ['planned (max_gap 10)', planned, POLLS],
      ['contiguous only (max_gap 0)', contiguous, Math.ceil(POLLS / 2)],
      ['one request per point', perPoint, Math.ceil(POLLS / 4)],
    ] as const;
    const results: Record<string, { reads: number; pointsPerS: number; cpuMsPer1000: number; msPerPoll: number }> = {};
    for (const [name, device, polls] of variants) {
      const rounds = [];
      for (let r = 0; r < ROUNDS; r++) rounds.push(await run(device, polls));
      results[name] = {
        reads: device.plan.length,
        pointsPerS: median(rounds.map((x) => x.pointsPerS)),
        cpuMsPer1000: median(rounds.map((x) => x.cpuMsPer1000)),
        msPerPoll: median(rounds.map((x) => x.msPerPoll)),
      };
    }
    console.log('\nvariant                       reads/poll   ms/poll    points/s   CPU ms per 1000 points');
    for (const [name, r] of Object.entries(results)) {
      console.log(`${name.padEnd(30)}${String(r.reads).padStart(10)}${fmt(r.msPerPoll, 2).padStart(10)}${fmt(r.pointsPerS).padStart(12)}${fmt(r.cpuMsPer1000, 1).padStart(25)}`);
    }
    const p = results['planned (max_gap 10)']!;
    const b = results['one request per point']!;
    console.log(`\nplanned vs one request per point: ${fmt(b.reads / p.reads, 1)}× fewer requests, ` +
      `${fmt(p.pointsPerS / b.pointsPerS, 1)}× the points/s, ${fmt(b.cpuMsPer1000 / p.cpuMsPer1000, 1)}× less CPU per point`);
  } finally {
    child.kill('SIGTERM');
  }
}

if (process.argv[2] === '--serve') serve(Number(process.argv[3]));
else await main();
