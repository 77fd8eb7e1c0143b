// Each payload shape through a real gateway and a real mosquitto, read back the way
// docs/consumers.md tells consumers to: unpack, de-duplicate by seq. Packed backlog across
// outages and lost acknowledgements: after de-duplication every seq arrives once and no reading
// is lost.
import mqtt, { type IPublishPacket } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { registerBrokerCleanup, startMosquitto, type Broker } from './harness/index.js';
import { startTestGateway } from './harness/test-gateway.js';
import { SeqWindow, unpackMessage, type UnpackedRow } from '../../src/wire/unpack.js';

registerBrokerCleanup();
let broker: Broker;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.dispose();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
  contentType?: string;
}

/** An MQTT 5 subscriber that also keeps each message's content type. */
async function subscribe(url: string, filter: string) {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 100 });
  client.on('error', () => {});
  const got: Received[] = [];
  client.on('message', (topic, payload, packet: IPublishPacket) =>
    got.push({ topic, payload, retain: packet.retain, contentType: packet.properties?.contentType }),
  );
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

/** Rows of every data message (status excluded), unpacked and de-duplicated by seq. */
function rowsOf(got: readonly Received[]): { rows: Array<UnpackedRow & { topic: string }>; duplicates: number; packs: number } {
  const window = new SeqWindow();
  const rows: Array<UnpackedRow & { topic: string }> = [];
  let duplicates = 0;
  let packs = 0;
  for (const m of got.filter((x) => !x.topic.match(/\/status(\/journal)?$/))) {
    const unpacked = unpackMessage(m.payload);
    if (unpacked.length > 1) packs += 1;
    for (const row of unpacked) {
      if (window.accept(row.seq)) rows.push({ ...row, topic: m.topic });
      else duplicates += 1;
    }
  }
  return { rows, duplicates, packs };
}

function site(url: string, o: { payload: string; encoding?: string; protocol?: 4 | 5; interval?: string; buffer?: string }): string {
  return `site: pf
gateway: gw
mqtt:
  url: ${url}
  protocol_version: ${o.protocol ?? 4}
  keepalive: 2s
  connect_timeout: 2s
buffer:
  path: buffer.db
${o.buffer ?? ''}
payload: ${o.payload}
payload_encoding: ${o.encoding ?? 'json'}
devices:
  - name: meter
    driver: sim
    interval: ${o.interval ?? '20ms'}
    points:
      - { name: n, signal: counter, unit: kWh }
      - { name: m, signal: counter }
      - { name: sp, signal: constant, value: 5, writable: true }
`;
}

/** Every counter value 0..k of point `n` exactly once, in order. */
function expectCounterComplete(values: number[]): void {
  expect(values.length).toBeGreaterThan(5);
  expect(values).toEqual(Array.from({ length: values.length }, (_, i) => i));
}

describe.each([
  { name: 'json per point', payload: 'json', encoding: 'json', protocol: 4 as const },
  { name: 'cbor per point (MQTT 5)', payload: 'json', encoding: 'cbor', protocol: 5 as const },
  { name: 'batch', payload: 'batch', encoding: 'json', protocol: 4 as const },
  { name: 'batch with topic aliases (MQTT 5)', payload: 'batch', encoding: 'json', protocol: 5 as const },
  { name: 'batch cbor (MQTT 5)', payload: 'batch', encoding: 'cbor', protocol: 5 as const },
])('$name round trip', ({ payload, encoding, protocol }) => {
  it('arrives complete, decodable, with contiguous seqs and the right content type', async () => {
    // A site of its own: the retained /meta of an earlier case must not reach this subscriber.
    const name = `rt${payload}${encoding}${protocol}`;
    const sub = await subscribe(broker.url, `${name}/#`);
    const gw = await startTestGateway({ siteYaml: site(broker.url, { payload, encoding, protocol }).replace('site: pf', `site: ${name}`) });
    try {
      await expect.poll(() => rowsOf(sub.got).rows.length, { timeout: 10_000 }).toBeGreaterThan(20);
      await gw.stop();
      const { rows, duplicates } = rowsOf(sub.got);
      expect(duplicates).toBe(0);
      const seqs = rows.map((r) => r.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
      const data = sub.got.filter((m) => !m.topic.match(/\/status(\/journal)?$/));
      expect(new Set(data.map((m) => m.contentType))).toEqual(new Set([encoding === 'cbor' ? 'application/cbor' : undefined]));
      const isoTs = encoding === 'json';
      for (const r of rows) expect(typeof r.ts).toBe(isoTs ? 'string' : 'number');
      if (payload === 'batch') {
        expect(rows[0]).toMatchObject({ topic: `${name}/meter/meta`, device: 'meter', points: { n: { unit: 'kWh' }, m: {}, sp: { command_topic: `${name}/meter/sp/set` } } });
        expect(data[0]!.retain).toBe(false); // fresh, not replayed from the broker's store
        const batches = rows.filter((r) => r.topic === `${name}/meter`);
        expect(batches.length).toBe(rows.length - 1);
        expectCounterComplete(batches.map((r) => (r.values as { n: number }).n));
      } else {
        expect(new Set(rows.map((r) => r.topic))).toEqual(new Set(['n', 'm', 'sp'].map((p) => `${name}/meter/${p}`)));
        expectCounterComplete(rows.filter((r) => r.topic === `${name}/meter/n`).map((r) => r.value as number));
      }
    } finally {
      await gw.stop();
      await sub.client.endAsync(true);
    }
  });
});

it('batch: the retained /meta reaches a consumer that subscribes later', async () => {
  const gw = await startTestGateway({ siteYaml: site(broker.url, { payload: 'batch', interval: '1s' }).replace('site: pf', 'site: late') });
  try {
    await sleep(300);
    const sub = await subscribe(broker.url, 'late/meter/meta');
    await expect.poll(() => sub.got.length, { timeout: 5000 }).toBe(1);
    expect(sub.got[0]!.retain).toBe(true);
    expect(unpackMessage(sub.got[0]!.payload)[0]).toMatchObject({ device: 'meter', points: { n: { unit: 'kWh' } } });
    await sub.client.endAsync(true);
  } finally {
    await gw.stop();
  }
});

/**
 * A relay with a cellular-like delay on the broker's answers, which can also lose those answers
 * only (PUBACKs: the broker has the message, the gateway never learns it), lose everything, or
 * cut every connection.
 */
const ACK_DELAY_MS = 100;

function lossyRelay(targetPort: number): Promise<{ port: number; mode: 'pass' | 'drop-acks' | 'drop-all'; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const relay = { port: 0, mode: 'pass' as 'pass' | 'drop-acks' | 'drop-all', cut: () => {}, close: async () => {} };
  const server: Server = createServer((inbound) => {
    const outbound = connect({ port: targetPort, host: '127.0.0.1' });
    sockets.add(inbound).add(outbound);
    inbound.on('data', (d: Buffer) => relay.mode !== 'drop-all' && outbound.write(d));
    outbound.on('data', (d: Buffer) => {
      if (relay.mode !== 'pass') return;
      setTimeout(() => !inbound.destroyed && inbound.write(d), ACK_DELAY_MS);
    });
    for (const s of [inbound, outbound]) {
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
  });
  relay.cut = () => {
    for (const s of sockets) s.resetAndDestroy();
  };
  relay.close = () => new Promise<void>((done) => (relay.cut(), server.close(() => done())));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(Object.assign(relay, { port: (server.address() as { port: number }).port }))));
}

describe.each([
  { name: 'batch json', payload: 'batch', encoding: 'json', protocol: 5 as const, interval: '5ms' },
  { name: 'batch cbor', payload: 'batch', encoding: 'cbor', protocol: 5 as const, interval: '5ms' },
  { name: 'per-point json', payload: 'json', encoding: 'json', protocol: 4 as const, interval: '15ms' },
])('packed backlog ($name) across outages', ({ payload, encoding, protocol, interval }) => {
  it('nothing lost or doubled after de-duplicating by seq', async () => {
    const relay = await lossyRelay(broker.port);
    relay.mode = 'drop-all';
    const topic = `pk${payload}${encoding}`;
    const sub = await subscribe(broker.url, `${topic}/#`);
    const gw = await startTestGateway({
      siteYaml: site(`mqtt://127.0.0.1:${relay.port}`, {
        // About 200 rows/s; the window drains at most 3 packs of 20 per 100 ms round trip.
        payload, encoding, protocol, interval,
        buffer: '  pack: true\n  max_pack: 20\n  inflight: 3',
      }).replace('site: pf', `site: ${topic}`),
    });
    const connected = () => expect.poll(() => gw.gateway.isConnected, { timeout: 8000 }).toBe(true);
    try {
      await sleep(1200); // a backlog builds while nothing gets through
      expect(gw.gateway.journalStats!.depth).toBeGreaterThan(40);
      relay.mode = 'pass';
      relay.cut();
      // Twice while the backlog drains: PUBACKs get lost, then the connection; the gateway
      // sends again what the broker already has.
      for (let i = 0; i < 2; i++) {
        await connected();
        await sleep(100);
        relay.mode = 'drop-acks';
        await sleep(150);
        relay.cut();
        relay.mode = 'pass';
      }
      await connected();
      await sleep(300);
      const target = gw.gateway.journalStats!.lastSeq + 10;
      await expect.poll(() => rowsOf(sub.got).rows.some((r) => r.seq >= target), { timeout: 20_000 }).toBe(true);
      const { rows, duplicates, packs } = rowsOf(sub.got);
      expect(packs).toBeGreaterThan(0);
      expect(duplicates).toBeGreaterThan(0);
      // Each loss resends at most the window (3) of packs (20 rows each).
      expect(duplicates).toBeLessThanOrEqual(2 * 3 * 20);
      const seqs = rows.map((r) => r.seq).sort((a, b) => a - b);
      expect(seqs[0]).toBe(1);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      // Per topic, first arrivals keep their journal order.
      for (const t of new Set(rows.map((r) => r.topic))) {
        const own = rows.filter((r) => r.topic === t).map((r) => r.seq);
        expect(own).toEqual([...own].sort((a, b) => a - b));
      }
      const counter =
        payload === 'batch'
          ? rows.filter((r) => r.topic === `${topic}/meter`).map((r) => (r.values as { n: number }).n)
          : rows.filter((r) => r.topic === `${topic}/meter/n`).map((r) => r.value as number);
      expectCounterComplete(counter);
    } finally {
      await gw.stop();
      await sub.client.endAsync(true);
      await relay.close();
    }
  });
});
