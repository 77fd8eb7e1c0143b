// What the journal writes to storage, per reading and per day: the figure that decides how long an
// SD card lasts. Each site runs as its own `fieldgate run` process (from dist/, as systemd starts
// it) against Modbus TCP simulators, one server per device because separate devices answer at
// their own moments and so are committed separately, and one mosquitto. The gateway's write_bytes
// from /proc/<pid>/io (bytes it caused to be sent to the storage layer: WAL frames, checkpoints)
// is measured over a window after warm-up. The baseline, measured in the same run, is the bytes of
// the readings themselves (topic + payload as a subscriber received them), so the ratio is what
// journaling a reading costs in writes beyond the reading.
// A site is <devices>x<points>@<interval>/<json|batch>, with /commit=<duration> for a
// buffer.commit_interval; by default each shape runs without and with `commit=1s`.
// Run: npx tsc -p tsconfig.build.json && node --import tsx bench/disk-writes.bench.ts
//   (SITES=10x10@1s/json,10x10@1s/json/commit=1s,... WARMUP_S=30 WINDOW_S=60)
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { disposeAllBrokers, freePort, startMosquitto } from '../test/integration/harness/index.js';
import { parseDuration } from '../src/util/duration.js';
import { exitOnSignals, fmt, killOnExit, machine, startChangingModbusSim } from './bench-util.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHAPES = ['10x10@1s/json', '10x10@1s/batch', '1x100@100ms/json', '1x100@100ms/batch'];
const SITES = process.env.SITES?.split(',') ?? SHAPES.flatMap((s) => [s, `${s}/commit=1s`]);
const WARMUP_S = Number(process.env.WARMUP_S ?? 30);
const WINDOW_S = Number(process.env.WINDOW_S ?? 60);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Shape { label: string; devices: number; points: number; interval: string; payload: 'json' | 'batch'; commit?: string }

function parseShape(label: string): Shape {
  const m = /^(\d+)x(\d+)@([0-9a-z]+)\/(json|batch)(?:\/commit=([0-9a-z]+))?$/.exec(label);
  if (!m) throw new Error(`site "${label}": expected <devices>x<points>@<interval>/<json|batch>[/commit=<duration>], e.g. 10x10@1s/json`);
  parseDuration(m[3]!);
  if (m[5] !== undefined) parseDuration(m[5]);
  return { label, devices: Number(m[1]), points: Number(m[2]), interval: m[3]!, payload: m[4] as 'json' | 'batch', ...(m[5] ? { commit: m[5] } : {}) };
}

function siteYaml(site: string, shape: Shape, ports: number[], url: string, db: string): string {
  const devices = ports.flatMap((port, d) => [
    `  - name: d${d}`,
    '    driver: modbus',
    `    tcp: { host: 127.0.0.1, port: ${port} }`,
    '    unit_id: 1',
    `    interval: ${shape.interval}`,
    '    points:',
    ...Array.from({ length: shape.points }, (_, p) => `      - { name: p${p}, table: holding, address: ${p}, type: uint16 }`),
  ]);
  return [`site: ${site}`, 'gateway: gw', `mqtt: { url: "${url}", qos: 1 }`, `buffer: { path: "${db}"${shape.commit ? `, commit_interval: ${shape.commit}` : ''} }`,
    `payload: ${shape.payload}`, 'devices:', ...devices, ''].join('\n');
}

/** Readings and their bytes (topic + payload) per site, as delivered. */
async function startCounter(url: string) {
  const client = await mqtt.connectAsync(url, { clientId: `disk-bench-counter-${process.pid}`, reconnectPeriod: 0 });
  const got = new Map<string, { readings: number; bytes: number }>();
  client.on('message', (topic, payload) => {
    const parts = topic.split('/');
    // Readings only: <site>/d<n> (batch) or <site>/d<n>/p<m>, not status or journal announcements.
    if (!parts[1]?.startsWith('d') || parts.length > 3 || topic.endsWith('/meta')) return;
    const c = got.get(parts[0]!) ?? { readings: 0, bytes: 0 };
    c.readings += parts.length === 2 ? Object.keys((JSON.parse(payload.toString()) as { values?: object }).values ?? {}).length : 1;
    c.bytes += Buffer.byteLength(topic) + payload.length;
    got.set(parts[0]!, c);
  });
  await client.subscribeAsync('#', { qos: 0 });
  return { get: (site: string) => ({ ...(got.get(site) ?? { readings: 0, bytes: 0 }) }), close: () => client.endAsync() };
}

function writeBytes(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/io`, 'utf8').split('\n').find((l) => l.startsWith('write_bytes:'));
  return Number(line?.split(':')[1] ?? NaN);
}

async function main(): Promise<void> {
  exitOnSignals();
  const shapes = SITES.map(parseShape);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-disk-'));
  const children: ChildProcess[] = [];
  const cleanup = killOnExit(() => children);
  const broker = await startMosquitto();
  const counter = await startCounter(broker.url);
  const devices: Array<{ close(): Promise<void> }> = [];
  try {
    const runs = [];
    for (const [i, shape] of shapes.entries()) {
      const ports: number[] = [];
      for (let d = 0; d < shape.devices; d++) {
        const port = await freePort();
        devices.push(await startChangingModbusSim(port));
        ports.push(port);
      }
      const site = `s${i}`;
      const file = path.join(work, `${site}.yaml`);
      fs.writeFileSync(file, siteYaml(site, shape, ports, broker.url, path.join(work, `${site}.db`)));
      const child = spawn(process.execPath, [path.join(repo, 'bin', 'fieldgate.js'), 'run', '-c', file, '--log-level', 'warn'], { stdio: 'inherit' });
      children.push(child);
      runs.push({ shape, site, child });
    }
    console.log(`disk-writes: ${shapes.length} site(s) side by side, Modbus TCP, QoS 1, ${WARMUP_S} s warm-up, then a window of ${WINDOW_S} s`);
    console.log(`machine: ${machine()}`);
    await sleep(WARMUP_S * 1000);
    const start = runs.map((r) => ({ written: writeBytes(r.child.pid!), ...counter.get(r.site) }));
    await sleep(WINDOW_S * 1000);
    console.log('| site (devices × points @ interval / payload) | readings/s | readings\' bytes/s | written to storage/s | per day | written ÷ readings\' bytes | bytes written per reading |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const [i, r] of runs.entries()) {
      const now = counter.get(r.site);
      const written = (writeBytes(r.child.pid!) - start[i]!.written) / WINDOW_S;
      const readings = (now.readings - start[i]!.readings) / WINDOW_S;
      const bytes = (now.bytes - start[i]!.bytes) / WINDOW_S;
      console.log(`| ${r.shape.label} | ${fmt(readings)} | ${fmt(bytes / 1024, 1)} KiB | ${fmt(written / 1024, 1)} KiB | ${fmt(written * 86_400 / 1e9, 2)} GB | ${fmt(written / bytes, 1)} | ${fmt(written / readings)} |`);
    }
  } finally {
    await Promise.all(children.map((c) => new Promise((r) => {
      if (c.exitCode !== null || c.signalCode !== null) r(undefined);
      else { c.once('exit', r); c.kill('SIGTERM'); }
    })));
    cleanup();
    await counter.close();
    await Promise.all(devices.map((d) => d.close()));
    await disposeAllBrokers();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
