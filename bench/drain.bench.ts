// Drain benchmark: a backlog of N journaled readings, broker back. How fast does fieldgate empty
// its journal (publish with QoS 1, wait for each PUBACK, delete the acknowledged rows) compared
// with a bare mqtt.js QoS 1 publish loop against the same broker in the same run?
// Run: node --import tsx bench/drain.bench.ts   (COUNT=200000 ROUNDS=3 INFLIGHT=100)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { SqliteJournal } from '../src/journal/sqlite-journal.js';
import { MqttUplink } from '../src/uplink/mqtt-uplink.js';
import { Forwarder } from '../src/forwarder/forwarder.js';
import { startMosquitto, disposeAllBrokers } from '../test/integration/harness/index.js';
import { exitOnSignals, fmt, machine, median, rawPublishRate, samplePayload } from './bench-util.js';

exitOnSignals();

const COUNT = Number(process.env.COUNT ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const INFLIGHT = Number(process.env.INFLIGHT ?? 100);
const logger = pino({ level: 'warn' });
const clock = { now: () => Date.now() };

async function drainOnce(url: string, dir: string, round: number): Promise<{ rate: number; fill: number; fileMiB: number }> {
  const journal = new SqliteJournal({
    path: path.join(dir, `drain-${round}.db`), maxMessages: COUNT * 2, maxBytes: 2 ** 32, whenFull: 'drop_oldest',
    synchronous: 'normal', logger, clock,
  });
  journal.open();
  const fillStart = process.hrtime.bigint();
  for (let i = 0; i < COUNT; i += 1000) {
    journal.append(Array.from({ length: Math.min(1000, COUNT - i) }, (_, j) => ({
      ts: Date.now(), topic: `bench/site/meter-${(i + j) % 50}/voltage`, qos: 1 as const, retain: false, encoding: 'json' as const,
      render: (seq: number) => samplePayload(seq),
    })));
  }
  const fill = COUNT / (Number(process.hrtime.bigint() - fillStart) / 1e9);
  const fileMiB = journal.stats().fileBytes / 2 ** 20;
  const uplink = new MqttUplink({
    urls: [url], clientId: `bench-drain-${process.pid}-${round}`, protocolVersion: 4, keepaliveMs: 30_000,
    connectTimeoutMs: 5000, logger, clock,
  });
  const forwarder = new Forwarder({ journal, uplink, inflight: INFLIGHT, replayRate: 0, logger, clock });
  let start = 0n;
  uplink.once('connect', () => {
    start = process.hrtime.bigint();
  });
  forwarder.start();
  uplink.start();
  while (journal.stats().depth > 0) await new Promise((r) => setTimeout(r, 5));
  const rate = COUNT / (Number(process.hrtime.bigint() - start) / 1e9);
  forwarder.stop();
  await uplink.stop();
  journal.close();
  return { rate, fill, fileMiB };
}

const broker = await startMosquitto();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-bench-'));
try {
  console.log(`drain benchmark: ${fmt(COUNT)} readings, inflight ${INFLIGHT}, mosquitto on loopback`);
  console.log(`machine: ${machine()}`);
  const raw: number[] = [];
  const drain: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    raw.push(await rawPublishRate(broker.url, COUNT, INFLIGHT));
    const d = await drainOnce(broker.url, dir, round);
    drain.push(d.rate);
    console.log(`round ${round + 1}: raw mqtt.js ${fmt(raw.at(-1)!)} msg/s, fieldgate drain ${fmt(d.rate)} msg/s (ratio ${(d.rate / raw.at(-1)!).toFixed(2)}); journal fill ${fmt(d.fill)} rows/s, file ${d.fileMiB.toFixed(1)} MiB`);
  }
  const r = median(raw);
  const f = median(drain);
  console.log(`median: raw ${fmt(r)} msg/s, drain ${fmt(f)} msg/s, ratio ${(f / r).toFixed(2)} (target ≥ 0.80)`);
} finally {
  await disposeAllBrokers();
  fs.rmSync(dir, { recursive: true, force: true });
}
