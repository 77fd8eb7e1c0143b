// Bad input on the command line or in a named file gives a message and a non-zero exit code from
// runCli itself; nothing reaches main.ts's last-resort handler (stack trace, exit 70).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { runCli } from '../../src/cli.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-args-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const site = path.join(dir, 'site.yaml');
fs.writeFileSync(site, `site: s
mqtt: { url: "mqtt://127.0.0.1:1" }
buffer: { path: buffer.db }
devices:
  - name: d
    driver: sim
    points: [ { name: n, signal: counter } ]
`);
const notAJournal = path.join(dir, 'notes.txt');
fs.writeFileSync(notAJournal, 'this is not an SQLite database\n'.repeat(200));

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  stdout.resume();
  const code = await runCli(args, { stdout, stderr, env: {} });
  return { code, err };
}

describe('bad input gives a message, not a stack trace', () => {
  it.each<[string[], number, RegExp]>([
    [['buffer', 'export', '--path', notAJournal, '--since', 'last tuesday-ish'], 1, /fieldgate: /],
    [['read', '-c', site, '--wait', '2d'], 64, /^fieldgate: --wait "2d" is longer than the maximum 1h$/m],
    [['read', '-c', site, '--wait', 'soon'], 64, /^fieldgate: --wait "soon" is not a duration/m],
    [['demo', '--duration', '99999999999999999999d'], 64, /^fieldgate: --duration "99999999999999999999d" is longer than the maximum 366d$/m],
    [['buffer', 'stats', '--path', notAJournal], 1, /^fieldgate: /m],
  ])('%j → exit %i', async (args, code, message) => {
    const r = await cli(args);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/^\s+at /m);
  });

  it('an unreadable --since on a real journal is a usage error', async () => {
    const journal = path.join(dir, 'buffer.db');
    const j = new SqliteJournal({
      path: journal, maxMessages: 10, maxBytes: 1 << 20, whenFull: 'drop_oldest', synchronous: 'normal',
      logger: pino({ level: 'silent' }), clock: { now: () => Date.now() },
    });
    j.open();
    j.close();
    const r = await cli(['buffer', 'export', '--path', journal, '--since', 'last tuesday-ish']);
    expect(r.code).toBe(64);
    expect(r.err).toMatch(/^fieldgate buffer export: cannot read "last tuesday-ish" as a time/m);
  });
});
