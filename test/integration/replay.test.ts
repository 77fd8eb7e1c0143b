// Recovering data end to end against a real mosquitto (buffer.keep_delivered + cmd/replay): a
// consumer that lost a range asks for it with the reference code (src/wire/seq-gaps.ts) and gets
// exactly those rows again, byte for byte; a range past the retention comes back as `gone`;
// delivered rows make room for an outage's backlog without a single drop; a replay running next
// to live data holds no live reading back by more than one window.
import { expect, it } from 'vitest';
import { collect, registerBrokerCleanup, startMosquitto } from './harness/index.js';
import { startTestGateway } from './harness/test-gateway.js';
import { simSite } from './site-yaml.js';
import { SeqGaps, replayRequest } from '../../src/wire/seq-gaps.js';
import { unpackMessage } from '../../src/wire/unpack.js';

registerBrokerCleanup();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isReading = (topic: string) => /^it\/dev\//.test(topic);
const REQUEST = 'it/gw/cmd/replay';
const RESULT = 'it/gw/cmd/replay/result';

interface Result {
  id: string;
  ok: boolean;
  sent?: number;
  gone?: [number, number][];
  pending?: [number, number][];
  code?: string;
  error?: string;
}

it('a consumer that dropped a range asks for it and gets exactly the missing rows; past retention is gone', async () => {
  const broker = await startMosquitto();
  const gw = await startTestGateway({
    siteYaml: simSite({ url: broker.url, interval: '10ms', points: 2, extraBuffer: '  keep_delivered: 1d\n  max_messages: 400' }),
  });
  const sub = await collect(broker.url, 'it/#');
  try {
    await sub.waitFor((m) => m.filter((x) => isReading(x.topic)).length >= 120, 10_000);
    // The consumer "loses" seqs 40..59: it never processes them.
    const gaps = new SeqGaps(20);
    const original = new Map<number, Buffer>();
    const seen = sub.messages.length;
    for (const m of sub.messages.slice(0, seen)) {
      if (!isReading(m.topic)) continue;
      for (const row of unpackMessage(m.payload)) {
        original.set(row.seq, m.payload);
        if (row.seq < 40 || row.seq > 59) gaps.accept(row.seq);
      }
    }
    const asked = gaps.takeGaps();
    expect(asked).toEqual([[40, 59]]);
    expect(gaps.takeGaps()).toEqual([]);
    sub.client.publish(REQUEST, replayRequest('fill-1', asked[0]!), { qos: 1 });
    const results = () => sub.messages.filter((m) => m.topic === RESULT).map((m) => JSON.parse(m.payload.toString()) as Result);
    await sub.waitFor(() => results().length === 1, 5000);
    expect(results()[0]).toMatchObject({ id: 'fill-1', ok: true, sent: 20, gone: [], pending: [] });
    // Exactly the missing rows came again, each once, with the bytes they had the first time.
    const result = sub.messages.findIndex((m) => m.topic === RESULT);
    const again = sub.messages.slice(seen, result).filter((m) => isReading(m.topic) && unpackMessage(m.payload)[0]!.seq <= 59);
    expect(again.map((m) => unpackMessage(m.payload)[0]!.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 40 + i));
    for (const m of again) expect(m.payload.equals(original.get(unpackMessage(m.payload)[0]!.seq)!)).toBe(true);
    expect(again.every((m) => !m.retain)).toBe(true);

    // Beyond the retention (max_messages 400 holds about the last 400 rows).
    await expect.poll(() => gw.gateway.journalStats!.lastSeq, { timeout: 10_000 }).toBeGreaterThan(600);
    sub.client.publish(REQUEST, JSON.stringify({ id: 'old', from_seq: 1, to_seq: 10 }), { qos: 1 });
    await sub.waitFor(() => results().length === 2, 5000);
    expect(results()[1]).toMatchObject({ id: 'old', ok: true, sent: 0, gone: [[1, 10]] });
    // Making room for live rows by deleting delivered ones is no drop.
    expect(gw.gateway.journalStats!.drops).toEqual({ drop_oldest: 0, drop_newest: 0, purge: 0 });

    // A malformed request and a second one while a replay runs are refused with a reason.
    sub.client.publish(REQUEST, '{"id":"bad","from_seq":9,"to_seq":2}', { qos: 1 });
    await sub.waitFor(() => results().length === 3, 5000);
    expect(results()[2]).toMatchObject({ id: 'bad', ok: false, code: 'malformed' });
  } finally {
    await sub.close();
    await gw.stop();
    await broker.dispose();
  }
}, 40_000);

it('during an outage delivered rows make room for the backlog first: nothing undelivered is dropped', async () => {
  const broker = await startMosquitto();
  const gw = await startTestGateway({
    // 100 rows a second: slow enough that a loaded machine does not overshoot the capacity between
    // two looks at the backlog (that would be a legitimate drop, not the rule under test).
    siteYaml: simSite({ url: broker.url, interval: '10ms', points: 1, extraBuffer: '  keep_delivered: 1d\n  max_messages: 300' }),
  });
  const sub = await collect(broker.url, 'it/dev/#');
  try {
    await expect.poll(() => gw.gateway.journalStats!.delivered.depth, { timeout: 10_000 }).toBeGreaterThanOrEqual(250);
    await broker.stop();
    // The backlog passes 150, half the capacity, while delivered rows shrink.
    await expect.poll(() => gw.gateway.journalStats!.depth, { timeout: 10_000 }).toBeGreaterThan(150);
    const s = gw.gateway.journalStats!;
    expect(s.depth + s.delivered.depth).toBeLessThanOrEqual(300);
    expect(s.delivered.depth).toBeLessThan(150);
    expect(s.drops.drop_oldest).toBe(0);
    const lastBefore = s.lastSeq;
    await broker.restart();
    await sub.waitFor((m) => m.some((x) => unpackMessage(x.payload)[0]!.seq >= lastBefore), 10_000);
    const seqs = new Set(sub.messages.flatMap((m) => unpackMessage(m.payload).map((r) => r.seq)));
    const firstAfter = Math.min(...[...seqs].filter((q) => q > lastBefore - 150));
    for (let q = firstAfter; q <= lastBefore; q += 1) expect(seqs.has(q)).toBe(true);
    expect(gw.gateway.journalStats!.drops.drop_oldest).toBe(0);
  } finally {
    await sub.close();
    await gw.stop();
    await broker.dispose();
  }
}, 40_000);

it('a replay running while live data flows holds no live reading back by more than one window', async () => {
  const broker = await startMosquitto();
  const gw = await startTestGateway({
    siteYaml: simSite({ url: broker.url, interval: '20ms', points: 1, extraBuffer: '  keep_delivered: 1d\n  inflight: 10' }),
  });
  const sub = await collect(broker.url, 'it/#');
  try {
    // Build a delivered history to replay: about 5 s of data.
    await expect.poll(() => gw.gateway.journalStats!.delivered.depth, { timeout: 15_000, interval: 100 }).toBeGreaterThan(240);
    const startSeq = gw.gateway.journalStats!.lastSeq;
    // Replay the history many times over, one request after another, for about 1.5 s.
    const arrivals: { seq: number; latency: number; replay: boolean }[] = [];
    sub.client.on('message', (topic, payload) => {
      if (!isReading(topic)) return;
      const row = unpackMessage(payload)[0]!;
      arrivals.push({ seq: row.seq, latency: Date.now() - Date.parse(row.ts as string), replay: row.seq <= startSeq });
    });
    let results = 0;
    sub.client.on('message', (topic) => {
      if (topic === RESULT) results += 1;
    });
    const until = Date.now() + 1500;
    let asked = 0;
    while (Date.now() < until) {
      if (results === asked) {
        asked += 1;
        sub.client.publish(REQUEST, JSON.stringify({ id: `r${asked}`, from_seq: 1, to_seq: startSeq }), { qos: 1 });
      }
      await sleep(5);
    }
    await expect.poll(() => results, { timeout: 10_000 }).toBe(asked);
    const replayed = arrivals.filter((a) => a.replay).length;
    const live = arrivals.filter((a) => !a.replay);
    expect(replayed).toBeGreaterThan(500);
    expect(live.length).toBeGreaterThan(30);
    // Live readings keep their order and none is missing, and none waits long: a live reading is
    // queued behind at most the replay's window (min(inflight, 16) publishes), not behind the replay.
    for (let i = 1; i < live.length; i += 1) expect(live[i]!.seq).toBe(live[i - 1]!.seq + 1);
    const worst = Math.max(...live.map((a) => a.latency));
    expect(worst).toBeLessThan(200);
  } finally {
    await sub.close();
    await gw.stop();
    await broker.dispose();
  }
}, 40_000);
