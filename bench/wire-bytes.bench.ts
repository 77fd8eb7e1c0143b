// Wire-size benchmark: TCP bytes per reading sent to a real mosquitto, for each payload shape,
// at 1, 10 and 100 points per device; then the time from the broker coming back after an outage
// to the first replayed message being acknowledged.
// Bytes are counted by a relay between fieldgate's uplink and the broker, from the moment the
// uplink reports 'connect' (CONNECT, CONNACK and the online status excluded) until the journal is
// empty, so retained /meta messages and every PUBLISH header are included.
// Per-point scenarios without packing stop at 20,000 readings (their cost per reading does not
// depend on the count). Run: node --import tsx bench/wire-bytes.bench.ts
// (DEVICES=5 POLLS=400; LONG=1 adds a real 60 s outage with the backoff-only policy, + ~30 s)
import { createServer, connect, type Server, type Socket } from 'node:net';
import { deflateRawSync } from 'node:zlib';
import { pino } from 'pino';
import { MemoryJournal } from '../src/journal/memory-journal.js';
import { MqttUplink } from '../src/uplink/mqtt-uplink.js';
import { Forwarder } from '../src/forwarder/forwarder.js';
import { DeviceMapper, type MappingDefaults } from '../src/mapping/reading-mapper.js';
import { planPublishes } from '../src/forwarder/packer.js';
import { CborCodec } from '../src/wire/cbor-codec.js';
import { Backoff } from '../src/util/backoff.js';
import type { PayloadEncoding, PayloadFormat } from '../src/mapping/payload.js';
import { startMosquitto, disposeAllBrokers, type Broker } from '../test/integration/harness/index.js';
import { exitOnSignals, fmt, machine } from './bench-util.js';

exitOnSignals();
import { meterDevice, meterPolls } from './meter-model.js';

const DEVICES = Number(process.env.DEVICES ?? 5);
const POLLS = Number(process.env.POLLS ?? 400);
const LONG = process.env.LONG === '1';
const PER_POINT_READINGS = 20_000;
const logger = pino({ level: 'error' }); // outages are the point here: no warnings
const clock = { now: () => Date.now() };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Scenario {
  name: string;
  payload: PayloadFormat;
  encoding: PayloadEncoding;
  protocol: 4 | 5;
  pack: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'json per point (3.1.1)', payload: 'json', encoding: 'json', protocol: 4, pack: false },
  { name: 'json per point + aliases (5)', payload: 'json', encoding: 'json', protocol: 5, pack: false },
  { name: 'cbor per point + aliases (5)', payload: 'json', encoding: 'cbor', protocol: 5, pack: false },
  { name: 'batch (3.1.1)', payload: 'batch', encoding: 'json', protocol: 4, pack: false },
  { name: 'batch + aliases (5)', payload: 'batch', encoding: 'json', protocol: 5, pack: false },
  { name: 'batch cbor + aliases (5)', payload: 'batch', encoding: 'cbor', protocol: 5, pack: false },
  { name: 'packed backlog, batch + aliases (5)', payload: 'batch', encoding: 'json', protocol: 5, pack: true },
  { name: 'packed backlog, batch cbor + aliases (5)', payload: 'batch', encoding: 'cbor', protocol: 5, pack: true },
  { name: 'packed backlog, json per point (3.1.1)', payload: 'json', encoding: 'json', protocol: 4, pack: true },
];
const SIZES = [1, 10, 100];

interface Counter {
  port: number;
  up: number;
  down: number;
  close(): Promise<void>;
}

/** A TCP relay that counts bytes each way. */
function countingRelay(targetPort: number): Promise<Counter> {
  const sockets = new Set<Socket>();
  const counter = { port: 0, up: 0, down: 0, close: async () => {} };
  const server: Server = createServer((inbound) => {
    const outbound = connect({ port: targetPort, host: '127.0.0.1' });
    sockets.add(inbound).add(outbound);
    inbound.on('data', (d: Buffer) => {
      counter.up += d.length;
      outbound.write(d);
    });
    outbound.on('data', (d: Buffer) => {
      counter.down += d.length;
      inbound.write(d);
    });
    for (const s of [inbound, outbound]) {
      s.on('error', () => {});
      s.on('close', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
  });
  counter.close = () =>
    new Promise<void>((done) => {
      for (const s of sockets) s.destroy();
      server.close(() => done());
    });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      counter.port = (server.address() as { port: number }).port;
      resolve(counter);
    });
  });
}

interface Result {
  upPerReading: number;
  downPerReading: number;
  messages: number;
  readings: number;
  deflatedPerReading?: number;
}

async function measure(broker: Broker, s: Scenario, points: number, run: number): Promise<Result> {
  const defaults: MappingDefaults = { site: 'plant', gateway: 'gw', topic: '{site}/{device}/{point}', payload: s.payload, encoding: s.encoding, qos: 1 };
  const journal = new MemoryJournal({ maxMessages: 10_000_000, maxBytes: 2 ** 40, whenFull: 'drop_oldest', logger, clock });
  journal.open();
  const start = Date.UTC(2026, 10, 26, 6, 40, 0);
  // One message per reading costs the same per reading at any count: fewer polls keep it quick.
  const polls = s.payload === 'batch' || s.pack ? POLLS : Math.min(POLLS, Math.ceil(PER_POINT_READINGS / (DEVICES * points)));
  let readings = 0;
  for (let d = 0; d < DEVICES; d++) {
    const mapper = new DeviceMapper(meterDevice(`meter${d}`, points), defaults);
    for (const poll of meterPolls(points, polls, start, 1000, 1000 * d + points)) {
      journal.append(mapper.map(poll, poll[0]!.ts!).entries);
      readings += poll.length;
    }
  }
  // Interleave devices as a real journal would (they poll at the same time): re-append in time order.
  const rows = journal.readAfter(0, 10_000_000).sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  const ordered = new MemoryJournal({ maxMessages: 10_000_000, maxBytes: 2 ** 40, whenFull: 'drop_oldest', logger, clock });
  ordered.open();
  ordered.append(rows.map((r) => ({ ts: r.ts, topic: r.topic, qos: r.qos, retain: r.retain, encoding: r.encoding, render: (seq) => rewriteSeq(r.payload, r.seq, seq) })));

  let deflatedPerReading: number | undefined;
  if (s.pack) {
    const planned = planPublishes(ordered.readAfter(0, 10_000_000), { maxRows: 100, maxBytes: () => 65536 }, new CborCodec());
    const raw = planned.reduce((sum, p) => sum + p.payload.length, 0);
    const deflated = planned.reduce((sum, p) => sum + (p.seqs.length > 1 ? deflateRawSync(p.payload).length : p.payload.length), 0);
    deflatedPerReading = (raw - deflated) / readings;
  }

  const relay = await countingRelay(broker.port);
  const uplink = new MqttUplink({
    urls: [`mqtt://127.0.0.1:${relay.port}`], clientId: `wire-${run}`, protocolVersion: s.protocol, keepaliveMs: 60_000,
    connectTimeoutMs: 5000, logger, clock,
  });
  let messages = 0;
  const forwarder = new Forwarder({
    journal: ordered, uplink, inflight: 100, replayRate: 0, logger, clock,
    pack: s.pack ? { maxRows: 100, maxBytes: 65536 } : undefined,
    onPublished: () => (messages += 1),
  });
  let up0 = 0;
  let down0 = 0;
  uplink.once('connect', () => {
    up0 = relay.up;
    down0 = relay.down;
  });
  forwarder.start();
  uplink.start();
  while (ordered.stats().depth > 0 || forwarder.inflight > 0) await sleep(5);
  await sleep(50); // let the last PUBACKs reach the relay
  const up = relay.up - up0;
  const down = relay.down - down0;
  forwarder.stop();
  await uplink.stop();
  await relay.close();
  const result: Result = { upPerReading: up / readings, downPerReading: down / readings, messages, readings };
  if (deflatedPerReading !== undefined) result.deflatedPerReading = up / readings - deflatedPerReading;
  return result;
}

/** Re-renders a payload with a new seq (the rows were journaled per device, then interleaved). */
function rewriteSeq(payload: Buffer, oldSeq: number, seq: number): Buffer {
  if (payload[0] === 0x7b) return Buffer.from(payload.toString().replace(`"seq":${oldSeq}`, `"seq":${seq}`));
  const codec = new CborCodec();
  const body = codec.decode(payload) as Record<string, unknown>;
  body.seq = seq;
  return codec.encode(body);
}

// --- Time to the first replayed message -------------------------------------------------------

interface Policy {
  name: string;
  refusedRetryMs: number;
}
const POLICIES: Policy[] = [
  { name: 'default (refused_retry 1s)', refusedRetryMs: 1000 },
  { name: 'backoff only (refused_retry 30s)', refusedRetryMs: 30_000 },
];

/** One gateway, one broker: `outages` outages of `outageMs`; returns ms from broker back to first PUBACK. */
async function replayDelays(policy: Policy, outageMs: number, outages: number, run: string): Promise<number[]> {
  const broker = await startMosquitto();
  const journal = new MemoryJournal({ maxMessages: 1_000_000, maxBytes: 2 ** 30, whenFull: 'drop_oldest', logger, clock });
  journal.open();
  const uplink = new MqttUplink({
    urls: [broker.url], clientId: `replay-${run}`, protocolVersion: 4, keepaliveMs: 30_000, connectTimeoutMs: 10_000, logger, clock,
    refusedRetryMs: policy.refusedRetryMs,
  });
  let firstAck: number | undefined;
  const forwarder = new Forwarder({
    journal, uplink, inflight: 100, replayRate: 0, logger, clock,
    onPublished: (ok) => {
      if (ok && firstAck === undefined) firstAck = Date.now();
    },
  });
  forwarder.start();
  uplink.start();
  await new Promise((r) => uplink.once('connect', r));
  const delays: number[] = [];
  for (let i = 0; i < outages; i++) {
    await broker.stop();
    journal.append(Array.from({ length: 100 }, () => ({ ts: Date.now(), topic: 'r/x', qos: 1 as const, retain: false, encoding: 'json' as const, render: (seq: number) => Buffer.from(`{"seq":${seq}}`) })));
    forwarder.notify();
    await sleep(outageMs);
    firstAck = undefined;
    // From the restart on: includes mosquitto's own start-up (tens of ms), which a poll of the
    // port after restart() would hide (the uplink can get in before that poll does).
    const back = Date.now();
    await broker.restart();
    while (firstAck === undefined) await sleep(5);
    delays.push(firstAck - back);
    while (journal.stats().depth > 0) await sleep(5);
  }
  forwarder.stop();
  await uplink.stop();
  await broker.dispose();
  return delays;
}

/** The same retry schedule as MqttUplink, sampled: wait from broker back to the next attempt. */
function simulatedWait(policy: Policy, outageMs: number, samples: number): { mean: number; p95: number; max: number } {
  const waits: number[] = [];
  for (let i = 0; i < samples; i++) {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 });
    const refused = new Backoff({ initialMs: policy.refusedRetryMs, maxMs: policy.refusedRetryMs });
    let t = backoff.next(); // the lost connection had reached the broker
    while (t < outageMs) t += Math.min(backoff.next(), refused.next());
    waits.push(t - outageMs);
  }
  waits.sort((a, b) => a - b);
  return { mean: waits.reduce((a, b) => a + b, 0) / samples, p95: waits[Math.floor(samples * 0.95)]!, max: waits[samples - 1]! };
}

// --- main -------------------------------------------------------------------------------------

const started = Date.now();
console.log(`wire-bytes benchmark: ${DEVICES} meters × ${POLLS} polls, QoS 1, inflight 100, max_pack 100, max_pack_bytes 64KiB`);
console.log(`machine: ${machine()}`);
console.log('bytes sent to the broker per reading (TCP payload, client → broker); in brackets: broker → client (PUBACKs)\n');
const broker = await startMosquitto({ extraConfig: ['max_topic_alias 1000'] });
try {
  const table: Record<string, Record<number, Result>> = {};
  let run = 0;
  for (const s of SCENARIOS) {
    table[s.name] = {};
    for (const points of SIZES) table[s.name]![points] = await measure(broker, s, points, run++);
  }
  const width = Math.max(...SCENARIOS.map((s) => s.name.length));
  console.log(`${'scenario'.padEnd(width)} | ${SIZES.map((p) => `${p} pt/device`.padStart(22)).join(' | ')}`);
  console.log(`${'-'.repeat(width)} | ${SIZES.map(() => '-'.repeat(22)).join(' | ')}`);
  const base = table[SCENARIOS[0]!.name]!;
  for (const s of SCENARIOS) {
    const cells = SIZES.map((p) => {
      const r = table[s.name]![p]!;
      const ratio = r.upPerReading / base[p]!.upPerReading;
      return `${r.upPerReading.toFixed(1)} [${r.downPerReading.toFixed(1)}] ×${ratio.toFixed(3)}`.padStart(22);
    });
    console.log(`${s.name.padEnd(width)} | ${cells.join(' | ')}`);
  }
  console.log('\n×ratio = bytes per reading relative to per-point JSON over MQTT 3.1.1 at the same size.');
  for (const s of SCENARIOS.filter((x) => x.pack)) {
    const est = SIZES.map((p) => `${p} pt: ${table[s.name]![p]!.deflatedPerReading!.toFixed(1)}`).join(', ');
    console.log(`if packs were deflated (estimate, not implemented) — ${s.name}: ${est}`);
  }
  console.log(`(bytes part took ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const msgs = SCENARIOS.map((s) => `${s.name}: ${SIZES.map((p) => fmt(table[s.name]![p]!.messages)).join('/')}`);
  console.log(`\npublishes per scenario (1/10/100 pt): ${msgs.join('; ')}`);
} finally {
  await broker.dispose();
}

console.log('\ntime from the broker being restarted to the first replayed PUBACK (default settings otherwise)');
const outages = [
  ...POLICIES.map((p, i) => ({ policy: p, ms: 5000, count: 3, run: `short-${i}` })),
  { policy: POLICIES[0]!, ms: 60_000, count: 1, run: 'long-0' },
  ...(LONG ? [{ policy: POLICIES[1]!, ms: 60_000, count: 1, run: 'long-1' }] : []),
];
const measured = await Promise.all(outages.map((o) => replayDelays(o.policy, o.ms, o.count, o.run)));
outages.forEach((o, i) => {
  console.log(`  measured: ${o.policy.name}, ${o.ms / 1000} s outage: ${measured[i]!.map((d) => `${fmt(d)} ms`).join(', ')}`);
});
for (const p of POLICIES) {
  for (const ms of [5000, 60_000]) {
    const sim = simulatedWait(p, ms, 20_000);
    console.log(`  schedule (20,000 samples, + connect time): ${p.name}, ${ms / 1000} s outage: mean ${fmt(sim.mean)} ms, p95 ${fmt(sim.p95)} ms, max ${fmt(sim.max)} ms`);
  }
}
await disposeAllBrokers();
console.log(`\nbenchmark took ${((Date.now() - started) / 1000).toFixed(0)} s`);
