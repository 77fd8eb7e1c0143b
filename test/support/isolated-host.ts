// A throw-away view of this machine for testing installers as root: each run() is a script in a
// private mount namespace where /etc is an overlay on the real one (changes land in a temp
// directory) and /opt, /usr/local/bin, /var/lib and /var/log are empty directories. useradd, chown,
// install -o … really happen, and nothing outside the temp directory changes. Runs share the temp
// directory, so state carries over from one run to the next (install, then upgrade, then purge).
// Needs root (CAP_SYS_ADMIN for unshare and mount).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';

const EMPTY = ['/opt', '/usr/local/bin', '/var/lib', '/var/log'] as const;

export const canIsolateHost = process.getuid?.() === 0;

export class IsolatedHost {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'fg-host-'));
    for (const d of ['etc-upper', 'etc-work', ...EMPTY.map((m) => `fs${m}`)]) mkdirSync(path.join(this.dir, d), { recursive: true });
  }

  /** Runs `script` with `shell` (bash, or sh — dash, as for the .deb's maintainer scripts). */
  run(script: string, { shell = 'bash', env = {} }: { shell?: 'bash' | 'sh'; env?: NodeJS.ProcessEnv } = {}): { status: number | null; out: string } {
    const q = (p: string): string => JSON.stringify(path.join(this.dir, p));
    // Every mount must succeed before the script runs: set -e, and the script only after them.
    const mounts = [
      `mount -t overlay overlay -o lowerdir=/etc,upperdir=${q('etc-upper')},workdir=${q('etc-work')} /etc`,
      ...EMPTY.map((m) => `mount --bind ${q(`fs${m}`)} ${m}`),
    ].join('\n');
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'bash', '-c',
      `set -e\n${mounts}\nexec ${shell} -c "$0"`, script], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env },
    });
    if (r.error) throw new Error(`unshare could not run: ${r.error.message}`, { cause: r.error });
    return { status: r.status, out: r.stdout + r.stderr };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * For a describe block: a fresh IsolatedHost for every test. `run` runs a script there; `sh` runs
 * a command that must succeed and returns its trimmed output.
 */
export function isolatedHostPerTest(): { run: IsolatedHost['run']; sh: (cmd: string) => string } {
  let host: IsolatedHost | undefined;
  beforeEach(() => {
    host = new IsolatedHost();
  });
  afterEach(() => {
    host?.dispose();
    host = undefined;
  });
  const run: IsolatedHost['run'] = (script, options) => {
    if (!host) throw new Error('isolatedHostPerTest: run() outside a test');
    return host.run(script, options);
  };
  return {
    run,
    sh: (cmd) => {
      const r = run(cmd);
      expect(r.status, r.out).toBe(0);
      return r.out.trim();
    },
  };
}
