// `fieldgate buffer export --delivered` and `fieldgate buffer replay` against a journal that kept
// delivered rows, the second against a real mosquitto.
import fs from 'node:fs';
import { cli } from '../support/run-cli.js';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { collect, registerBrokerCleanup, startMosquitto } from '../integration/harness/index.js';
import { tempDirs } from '../support/temp-dirs.js';

registerBrokerCleanup();
const tempDir = tempDirs('fieldgate-cli-replay-');


/** A site file and a journal of 6 rows, 1–4 delivered (kept), 5–6 not yet. */
function setup(url: string): string {
  const dir = tempDir();
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(file, `site: plant
gateway: gw
mqtt: { url: "${url}" }
buffer: { path: buffer.db, keep_delivered: 7d }
devices:
  - { name: boiler, driver: sim, points: [{ name: n, signal: counter }] }
`);
  const journal = new SqliteJournal({
    path: path.join(dir, 'buffer.db'), maxMessages: 1000, maxBytes: 1e8, whenFull: 'drop_oldest', synchronous: 'normal',
    logger: pino({ level: 'silent' }), clock: { now: () => Date.now() }, keepDeliveredMs: 7 * 86_400_000,
  });
  journal.open();
  journal.append([0, 1, 2, 3, 4, 5].map((i) => ({
    ts: Date.parse('2026-11-26T06:00:00Z') + i * 1000, topic: 'plant/boiler/n', qos: 1 as const, retain: i === 0, encoding: 'json' as const,
    render: (seq: number) => Buffer.from(`{"value":${i},"seq":${seq}}`),
  })));
  journal.remove([1, 2, 3, 4]);
  journal.close();
  return file;
}

describe('fieldgate buffer with keep_delivered', () => {
  it('export --delivered adds the delivered rows, marked; plain export keeps to the backlog; stats shows both', async () => {
    const file = setup('mqtt://127.0.0.1:1');
    const plain = await cli(['buffer', 'export', '-c', file]);
    expect(plain.out.trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([5, 6]);
    const all = await cli(['buffer', 'export', '-c', file, '--delivered']);
    const rows = all.out.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; delivered?: boolean });
    expect(rows.map((r) => [r.seq, r.delivered === true])).toEqual([[1, true], [2, true], [3, true], [4, true], [5, false], [6, false]]);
    const stats = await cli(['buffer', 'stats', '-c', file]);
    expect(stats.out).toMatch(/backlog:\s+2 messages/);
    expect(stats.out).toMatch(/delivered:\s+4 messages/);
  });

  it('replay publishes the delivered rows of the range as stored (not retained) and prints the result', async () => {
    const broker = await startMosquitto();
    const file = setup(broker.url);
    const sub = await collect(broker.url, 'plant/#');
    try {
      const r = await cli(['buffer', 'replay', '-c', file, '--from-seq', '1', '--to-seq', '9']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ ok: true, sent: 4, gone: [], pending: [[5, 6]], last_seq: 6 });
      await sub.waitFor(4);
      // Row 1 was journaled retained; replayed, it must not replace the current retained value.
      expect(sub.texts()).toEqual(['{"value":0,"seq":1}', '{"value":1,"seq":2}', '{"value":2,"seq":3}', '{"value":3,"seq":4}']);
      expect(sub.messages.every((m) => !m.retain && m.topic === 'plant/boiler/n')).toBe(true);

      const bad = await cli(['buffer', 'replay', '-c', file, '--from-seq', '9']);
      expect(bad.code).toBe(64);
      expect(bad.err).toMatch(/--from-seq/);
    } finally {
      await sub.close();
      await broker.dispose();
    }
  });
});
