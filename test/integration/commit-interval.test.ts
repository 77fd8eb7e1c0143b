// buffer.commit_interval: readings wait up to that long so that one transaction holds several
// polls. Against a real mosquitto and the real SQLite journal: fewer commits, nothing lost or
// reordered, and every exit the process sees (a stop, a second stop signal) commits what waits.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { collect, freePort, registerBrokerCleanup, startMosquitto } from './harness/index.js';
import { journalStats, spawnFieldgate, spawnTs, startTestGateway, writeSite } from './harness/test-gateway.js';
import { assertContiguous, seqsOf, simSite } from './site-yaml.js';
import { tempDirs } from '../support/temp-dirs.js';

registerBrokerCleanup();
afterEach(() => {
  vi.restoreAllMocks();
});
const tempDir = tempDirs('fieldgate-commit-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('buffer.commit_interval', () => {
  it('commits several polls in one transaction, and delivers every reading in order', async () => {
    const broker = await startMosquitto();
    const sub = await collect(broker.url, 'it/#');
    const appends = vi.spyOn(SqliteJournal.prototype, 'append');
    const counted = async (extraBuffer: string) => {
      appends.mockClear();
      const gw = await startTestGateway({ siteYaml: simSite({ url: broker.url, interval: '20ms', points: 2, extraBuffer }), dir: tempDir() });
      await sleep(1500);
      await gw.stop();
      return appends.mock.calls.length;
    };
    try {
      const perPoll = await counted('');
      const gathered = await counted('  commit_interval: 300ms');
      // 1.5 s of polls every 20 ms: about 75 commits one by one, about 5 gathered ones (+1 at stop).
      expect(perPoll).toBeGreaterThan(30);
      expect(gathered).toBeGreaterThanOrEqual(3);
      expect(gathered).toBeLessThanOrEqual(10);
      // The second gateway used a journal of its own, so its seqs start at 1 again.
      const seqs = seqsOf(sub.messages);
      const restart = seqs.lastIndexOf(1);
      expect(restart).toBeGreaterThan(0);
      const { first, last } = assertContiguous(seqs.slice(restart));
      expect(first).toBe(1);
      expect(last).toBeGreaterThan(50);
    } finally {
      await sub.close();
      await broker.dispose();
    }
  }, 30_000);

  it('a stop commits the readings still waiting, and they stay journaled for the next start', async () => {
    // No broker: nothing is delivered, so the journal shows what was committed.
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const file = writeSite(tempDir(), simSite({ url, interval: '20ms', points: 2, extraBuffer: '  commit_interval: 10s' }));
    const proc = spawnFieldgate(['run', '-c', file, '--log-level', 'info']);
    await proc.waitForOutput(/gateway started/, 60_000);
    await sleep(1000);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    // About 50 polls of 2 points, all within the first 10 s wait.
    expect((await journalStats(file)).backlog).toBeGreaterThan(40);
  }, 90_000);

  it('a second stop signal, which exits at once, still commits the readings waiting', async () => {
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const file = writeSite(tempDir(), simSite({ url, interval: '20ms', points: 2, extraBuffer: '  commit_interval: 10s' }));
    const proc = spawnTs('test/integration/fixtures/run-then-force-exit.ts', [file, '2500']);
    expect(await proc.exited, proc.output()).toBe(130);
    expect(proc.output()).toMatch(/second signal: exiting now/);
    expect((await journalStats(file)).backlog).toBeGreaterThan(20);
  }, 90_000);
});
