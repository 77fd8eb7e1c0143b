// Each tarball's own runtime runs the program on its target architecture: natively for amd64,
// under Debian's qemu-user-static for arm64 and armhf (the Pi's CPUs). `validate` loads the program
// and the site schema; `demo` prints readings, so the SQLite addon loaded and journaled and MQTT
// worked; `run` journals readings while the broker is unreachable and `buffer stats` reads them
// back from the journal file. Emulation is slow (a start takes 5–20 s), hence the long timeouts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES, requireArtifacts, runBundled, spawnBundled, unpack, type Arch } from './release-kit.js';

let tmp: string;
beforeAll(() => {
  requireArtifacts();
  tmp = mkdtempSync(path.join(tmpdir(), 'fg-release-run-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const trees = new Map<Arch, string>();
const treeOf = (arch: Arch): string => {
  if (!trees.has(arch)) trees.set(arch, unpack(arch, path.join(tmp, arch)));
  return trees.get(arch)!;
};

/** A sim-only site whose broker is not there (port 9, discard, nothing listens): readings stay journaled. */
function offlineSite(dir: string): string {
  const file = path.join(dir, 'site.yaml');
  writeFileSync(file, [
    'site: qa',
    'mqtt:',
    '  url: mqtt://127.0.0.1:9',
    'buffer:',
    `  path: ${path.join(dir, 'buffer.db')}`,
    'devices:',
    '  - name: sim-1',
    '    driver: sim',
    '    interval: 100ms',
    '    points:',
    '      - { name: a, signal: counter }',
    '      - { name: b, signal: sine, value: 10, amplitude: 2, period: 10s }',
    '',
  ].join('\n'));
  return file;
}

describe.each(ARCHES)('%s runtime from the tarball', (arch) => {
  it('runs validate, demo (readings printed) and run + buffer stats (journal read back)', async () => {
    const tree = treeOf(arch);
    const site = offlineSite(mkdtempSync(path.join(tmp, `${arch}-site-`)));

    const arch_ = runBundled(arch, tree, ['-p', 'process.arch']);
    expect(arch_.stdout.trim(), arch_.stderr).toBe({ amd64: 'x64', arm64: 'arm64', armhf: 'arm' }[arch]);

    const validate = runBundled(arch, tree, ['bin/fieldgate.js', 'validate', '-c', site]);
    expect(validate.status, validate.stderr).toBe(0);
    expect(validate.stdout).toContain('valid');

    const demo = runBundled(arch, tree, ['bin/fieldgate.js', 'demo', '--duration', '10s', '--log-level', 'warn']);
    expect(demo.status, demo.stderr).toBe(0);
    const readings = demo.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{3}\s+demo\/\S+\s+\{"value":.*"seq":\d+/.test(l));
    expect(readings.length, demo.stdout).toBeGreaterThanOrEqual(5);

    // `run` until it has journaled a few seconds of readings, then a clean stop (SIGTERM).
    const proc = spawnBundled(arch, tree, ['bin/fieldgate.js', 'run', '-c', site]);
    let log = '';
    proc.stdout.on('data', (b: Buffer) => { log += b.toString(); });
    proc.stderr.on('data', (b: Buffer) => { log += b.toString(); });
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const started = Date.now();
    while (!log.includes('"gateway started"')) {
      if (Date.now() - started > 120_000 || proc.exitCode !== null) throw new Error(`gateway did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 3000));
    proc.kill('SIGTERM');
    expect(await exited, log).toBe(0);
    expect(log).toContain('"gateway stopped"');

    const stats = runBundled(arch, tree, ['bin/fieldgate.js', 'buffer', 'stats', '-c', site]);
    expect(stats.status, stats.stderr).toBe(0);
    const backlog = Number(/backlog:\s+(\d+) messages/.exec(stats.stdout)?.[1]);
    const lastSeq = Number(/last seq:\s+(\d+)/.exec(stats.stdout)?.[1]);
    expect(backlog, stats.stdout).toBeGreaterThanOrEqual(10);
    expect(lastSeq).toBe(backlog);
  }, 600_000);
});
