// Signals that arrive before the program has registered its handlers: held for the daemon,
// default action for one-shot commands; plus the real thing, a SIGHUP sent to `fieldgate run`
// the moment it is spawned.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProcessSignals, type SignalProcess } from '../../src/cli/process-signals.js';
import { spawnFieldgate } from '../integration/harness/test-gateway.js';
import { simSite } from '../integration/site-yaml.js';

class FakeProcess implements SignalProcess {
  listeners = new Map<string, () => void>();
  exits: number[] = [];
  on(signal: string, listener: () => void) {
    this.listeners.set(signal, listener);
  }
  exit(code: number): never {
    this.exits.push(code);
    return undefined as never;
  }
  send(signal: string) {
    this.listeners.get(signal)!();
  }
}

describe('ProcessSignals', () => {
  it('holds early signals for the daemon and delivers them once handlers exist (reloads coalesced)', () => {
    const proc = new FakeProcess();
    const s = new ProcessSignals(proc, 'hold');
    s.install();
    proc.send('SIGHUP');
    proc.send('SIGHUP');
    proc.send('SIGTERM');
    expect(proc.exits).toEqual([]);
    const reloads: number[] = [];
    const stops: string[] = [];
    s.onReload(() => reloads.push(1));
    s.onStop((sig) => stops.push(sig));
    expect(reloads).toHaveLength(1);
    expect(stops).toEqual(['SIGTERM']);
    proc.send('SIGHUP');
    proc.send('SIGINT');
    expect(reloads).toHaveLength(2);
    expect(stops).toEqual(['SIGTERM', 'SIGINT']);
  });

  it('ends a one-shot command as the default action would when nobody listens', () => {
    const proc = new FakeProcess();
    new ProcessSignals(proc, 'default').install();
    proc.send('SIGHUP');
    proc.send('SIGINT');
    proc.send('SIGTERM');
    expect(proc.exits).toEqual([129, 130, 143]);
  });

  it('a SIGHUP sent while `fieldgate run` is still loading neither kills it nor is lost', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-early-hup-'));
    const file = path.join(dir, 'site.yaml');
    // No broker needed: the gateway journals and retries the uplink meanwhile.
    fs.writeFileSync(file, simSite({ url: 'mqtt://127.0.0.1:9', interval: '100ms' }));
    const p = spawnFieldgate(['run', '-c', file, '--log-level', 'info']);
    try {
      // The moment the process catches SIGHUP (the kernel's view: SigCgt in /proc), the program
      // must still be loading: the handler has to exist before the gateway (and its journal) does.
      await waitFor(() => catchesSigHup(p.child.pid!), 20_000);
      expect(fs.existsSync(path.join(dir, 'buffer.db'))).toBe(false);
      p.child.kill('SIGHUP');
      await p.waitForOutput(/"msg":"configuration reloaded"/, 20_000);
      expect(p.child.exitCode).toBeNull();
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

function catchesSigHup(pid: number): boolean {
  try {
    const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('SigCgt:'));
    return line !== undefined && (BigInt(`0x${line.slice(7).trim()}`) & 1n) === 1n;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}
