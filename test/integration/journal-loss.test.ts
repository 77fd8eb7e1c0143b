// A gateway whose journal file is lost between two runs, seen from a consumer on a real broker:
// seq keeps rising (a consumer de-duplicating by highest seq drops nothing new), and the retained
// `<status>/journal` announcement names the new journal and says what happened.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startMosquitto, type Broker } from './harness/index.js';
import { startTestGateway } from './harness/test-gateway.js';
import { assertContiguous, seqsOf, simSite } from './site-yaml.js';

let broker: Broker;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.dispose();
});

interface Announcement {
  journal: string;
  first_seq: number;
  reset?: { reason: string; previous_journal?: string };
}

describe('a lost journal, end to end', () => {
  it('announces the new journal with the reason and continues seq above the lost one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-loss-'));
    const sub = await collect(broker.url, 'it/#');
    const announcements = () => sub.messages
      .filter((m) => m.topic === 'it/gw/status/journal')
      .map((m) => JSON.parse(m.payload.toString()) as Announcement);
    try {
      const first = await startTestGateway({ siteYaml: simSite({ url: broker.url, interval: '20ms' }), dir });
      await sub.waitFor((m) => seqsOf(m).length >= 20, 10_000);
      await first.stop({ keepDir: true });
      const before = assertContiguous(seqsOf(sub.messages));
      expect(announcements()).toHaveLength(1);
      expect(announcements()[0]).toMatchObject({ first_seq: 1 });
      expect(announcements()[0]!.reset).toBeUndefined();

      for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(dir, `buffer.db${suffix}`), { force: true });
      const second = await startTestGateway({ siteYaml: simSite({ url: broker.url, interval: '20ms' }), dir });
      await sub.waitFor(() => announcements().length >= 2 && seqsOf(sub.messages).length >= before.last + 10, 10_000);
      await second.stop({ keepDir: true });

      const [old, now] = announcements();
      expect(now!.journal).not.toBe(old!.journal);
      expect(now!.reset).toMatchObject({ reason: 'missing', previous_journal: old!.journal });
      expect(now!.first_seq).toBeGreaterThan(before.last);
      const later = seqsOf(sub.messages).filter((s) => s >= now!.first_seq);
      expect(later.length).toBeGreaterThan(5);
      expect(later[0]).toBe(now!.first_seq);
      assertContiguous(later);
      expect(Math.min(...later)).toBeGreaterThan(before.last);
    } finally {
      await sub.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
