// Pipeline benchmark: sim points → mapping → SQLite journal (group commit) → QoS 1 → mosquitto,
// all in this process, at rising offered rates. Reports readings/s delivered (PUBACKed), CPU
// seconds per 1,000 readings and RSS; then builds a 1M-message backlog with the broker away and
// samples RSS to show it stays flat (the backlog lives on disk, not in memory).
// Run: node --import tsx bench/pipeline.bench.ts   (SECONDS_PER_STEP=5 BACKLOG=1000000)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Gateway } from '../src/gateway.js';
import { validateSiteText } from '../src/config/validate-site.js';
import { drivers } from '../drivers/index.js';
import { startMosquitto, disposeAllBrokers, freePort } from '../test/integration/harness/index.js';
import { exitOnSignals, fmt, machine, rawPublishRate } from './bench-util.js';

exitOnSignals();

const STEP_S = Number(process.env.SECONDS_PER_STEP ?? 5);
const BACKLOG = Number(process.env.BACKLOG ?? 1_000_000);
const logger = pino({ level: 'warn' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function site(url: string, dir: string, devices: number, points: number, interval: string): string {
  const pts = Array.from({ length: points }, (_, i) => `      - { name: p${i}, signal: counter }`).join('\n');
  const devs = Array.from({ length: devices }, (_, d) => `  - name: d${d}\n    driver: sim\n    interval: ${interval}\n    points:\n${pts}`).join('\n');
  return `site: bench\ngateway: gw\nmqtt: { url: "${url}" }\nbuffer: { path: "${path.join(dir, 'buffer.db')}", max_messages: 5000000, max_bytes: 2GiB }\ndevices:\n${devs}\n`;
}

function sum(metric: { get(): Promise<{ values: { value: number; labels: Record<string, string | number> }[] }> }, label?: [string, string]) {
  return metric.get().then((m) => m.values.filter((v) => !label || v.labels[label[0]] === label[1]).reduce((a, v) => a + v.value, 0));
}

async function step(url: string, devices: number, points: number, intervalMs: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-pipe-'));
  const text = site(url, dir, devices, points, `${intervalMs}ms`);
  const loaded = validateSiteText(text, path.join(dir, 'site.yaml'), process.env, drivers);
  const gateway = new Gateway({ site: loaded, drivers, logger });
  await gateway.start();
  await sleep(1000); // warm-up
  const m = gateway.metrics;
  const r0 = await sum(m.readings);
  const p0 = await sum(m.published, ['result', 'ok']);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let rssMax = 0;
  for (let i = 0; i < STEP_S * 4; i++) {
    await sleep(250);
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const readings = (await sum(m.readings)) - r0;
  const delivered = (await sum(m.published, ['result', 'ok'])) - p0;
  const backlog = gateway.journalStats!.depth;
  await gateway.stop({ drainMs: 0 });
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    offered: (devices * points * 1000) / intervalMs,
    acquired: readings / secs,
    delivered: delivered / secs,
    cpuPer1000: ((cpu.user + cpu.system) / 1e6) / (delivered / 1000),
    rssMiB: rssMax / 2 ** 20,
    backlog,
  };
}

async function backlogRss(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-pipe-'));
  const deadPort = await freePort(); // nothing listens: the uplink keeps retrying
  const loaded = validateSiteText(site(`mqtt://127.0.0.1:${deadPort}`, dir, 10, 50, '10ms'), path.join(dir, 'site.yaml'), process.env, drivers);
  const gateway = new Gateway({ site: loaded, drivers, logger });
  await gateway.start();
  const samples: { depth: number; rss: number }[] = [];
  const t0 = Date.now();
  while (gateway.journalStats!.depth < BACKLOG && Date.now() - t0 < 180_000) {
    await sleep(1000);
    samples.push({ depth: gateway.journalStats!.depth, rss: process.memoryUsage().rss / 2 ** 20 });
  }
  const file = gateway.journalStats!.fileBytes / 2 ** 20;
  await gateway.stop({ drainMs: 0 });
  fs.rmSync(dir, { recursive: true, force: true });
  const pick = (i: number) => samples[Math.min(samples.length - 1, i)]!;
  console.log(`backlog build-up (broker unreachable, 50,000 readings/s offered): ${fmt(pick(samples.length - 1).depth)} messages in ${samples.length} s, file ${file.toFixed(0)} MiB`);
  for (const i of [0, Math.floor(samples.length / 4), Math.floor(samples.length / 2), Math.floor((3 * samples.length) / 4), samples.length - 1]) {
    console.log(`  depth ${fmt(pick(i).depth).padStart(10)}  RSS ${pick(i).rss.toFixed(0)} MiB`);
  }
  const rss = samples.slice(2).map((s) => s.rss);
  console.log(`  RSS after warm-up: min ${Math.min(...rss).toFixed(0)} MiB, max ${Math.max(...rss).toFixed(0)} MiB`);
}

const broker = await startMosquitto();
try {
  console.log(`pipeline benchmark (${STEP_S} s per step), machine: ${machine()}`);
  const raw = await rawPublishRate(broker.url, 100_000, 100);
  console.log(`baseline: raw mqtt.js QoS 1, window 100: ${fmt(raw)} msg/s`);
  console.log('offered/s   acquired/s  delivered/s  ratio-to-raw  CPU s/1000  RSS MiB  backlog  sustained');
  let best = 0;
  // devices × points every 10 ms; "sustained" = delivery kept up (backlog stayed within a few windows).
  for (const [devices, points] of [[10, 5], [10, 10], [15, 10], [20, 10], [25, 10], [30, 10], [50, 10]] as const) {
    const r = await step(broker.url, devices, points, 10);
    const sustained = r.backlog < 1000 && r.delivered > 0.9 * r.offered;
    if (sustained) best = Math.max(best, r.delivered);
    console.log(`${fmt(r.offered).padStart(9)}  ${fmt(r.acquired).padStart(11)}  ${fmt(r.delivered).padStart(11)}  ${(r.delivered / raw).toFixed(2).padStart(12)}  ${r.cpuPer1000.toFixed(4).padStart(10)}  ${r.rssMiB.toFixed(0).padStart(7)}  ${fmt(r.backlog).padStart(7)}  ${sustained ? 'yes' : 'no'}`);
  }
  console.log(`highest sustained rate: ${fmt(best)} readings/s delivered end to end (${(best / raw).toFixed(2)} of the raw publish rate)`);
  await backlogRss();
} finally {
  await disposeAllBrokers();
}
