// `fieldgate … | head -1`: when the reader of our output leaves, every command stops quietly —
// no EPIPE crash, no stack trace — and `buffer export` stops reading the journal. Real child
// processes whose stdout pipe is closed before they write anything, plus `| head -1` itself.
import { JournalReader, type Unreadable } from '../../src/journal/journal-reader.js';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { runCli } from '../../src/cli.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { REPO_ROOT } from '../integration/harness/test-gateway.js';

const MAIN = path.join(REPO_ROOT, 'src/main.ts');
const ROWS = 20_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-epipe-'));
const site = path.join(dir, 'site.yaml');
const db = path.join(dir, 'buffer.db');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  fs.writeFileSync(site, `site: s
mqtt: { url: "mqtt://127.0.0.1:1" }
buffer: { path: buffer.db }
devices:
  - name: d
    driver: sim
    interval: 50ms
    points: [ { name: n, signal: counter } ]
`);
  const journal = new SqliteJournal({
    path: db, maxMessages: 1_000_000, maxBytes: 1 << 30, whenFull: 'drop_oldest', synchronous: 'normal',
    logger: pino({ level: 'silent' }), clock: { now: () => Date.now() },
  });
  journal.open();
  const payload = Buffer.from('{"value":1}');
  journal.append(Array.from({ length: ROWS }, () => ({ topic: 's/d/n', qos: 1 as const, retain: false, encoding: 'json' as const, ts: Date.now(), render: () => payload })));
  journal.close();
});

/** Runs fieldgate with its stdout pipe already closed by the reader; resolves with code and stderr. */
function withClosedStdout(args: string[]): Promise<{ code: number | string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code: code ?? signal ?? -1, stderr })));
}

/** `fieldgate ARGS | head -1` under bash with pipefail: fieldgate's own status and stderr. */
function pipedToHead(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cmd = `"${process.execPath}" --import tsx "${MAIN}" ${args.map((a) => `'${a}'`).join(' ')} | head -1; exit "\${PIPESTATUS[0]}"`;
  const child = spawn('bash', ['-c', cmd], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

describe('a command whose output is closed', () => {
  it('stops quietly: validate, plan, schema, read, buffer stats/export, run', async () => {
    const started = Date.now();
    const cases: [string[], number][] = [
      [['validate', '-c', site], 0],
      [['plan', '-c', site], 0],
      [['schema'], 0],
      [['read', '-c', site], 0],
      // Listening would last 30 s; a closed output ends it at once.
      [['read', '-c', site, '--wait', '30s'], 0],
      [['buffer', 'stats', '--path', db], 0],
      [['buffer', 'export', '--path', db], 0],
      // run logs to stdout: with nobody reading, it stops as it would on SIGTERM.
      [['run', '-c', site], 0],
    ];
    const results = await Promise.all(cases.map(([args]) => withClosedStdout(args)));
    results.forEach((r, i) => {
      const [args, code] = cases[i]!;
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code, stderr: '' });
    });
    expect(Date.now() - started).toBeLessThan(25_000);
  }, 60_000);

  it('| head -1 gets its line and fieldgate exits 0 without a word on stderr', async () => {
    const [validate, exported] = await Promise.all([
      pipedToHead(['validate', '-c', site]),
      pipedToHead(['buffer', 'export', '--path', db]),
    ]);
    expect(validate).toEqual({ code: 0, stdout: `${site}: valid\n`, stderr: '' });
    expect(exported.code).toBe(0);
    expect(exported.stderr).toBe('');
    expect(JSON.parse(exported.stdout)).toMatchObject({ seq: 1, topic: 's/d/n', payload: '{"value":1}' });
  }, 60_000);

  it('export stops reading the journal at the first failed write', async () => {
    let pulled = 0;
    const real = JournalReader.prototype.export;
    const spy = vi.spyOn(JournalReader.prototype, 'export').mockImplementation(function* (this: JournalReader, since: number, until: number, onUnreadable?: (gap: Unreadable) => void) {
      for (const e of real.call(this, since, until, onUnreadable)) {
        pulled += 1;
        yield e;
      }
    });
    let writes = 0;
    const stdout = new Writable({
      write(_chunk, _enc, cb) {
        writes += 1;
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    stdout.on('error', () => undefined);
    const stderr = new PassThrough();
    try {
      const code = await runCli(['buffer', 'export', '--path', db], { stdout, stderr, env: {} });
      expect(code).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(writes).toBe(1);
    // Rows were pulled through the reader (the spy sees them), and no more than the write needed.
    expect(pulled).toBeGreaterThanOrEqual(1);
    expect(pulled).toBeLessThanOrEqual(2);
    expect(stderr.read()).toBeNull();
  });
});
