// Real peers for the integration tests: a pymodbus server (TCP or RTU) and a socat pty pair.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../fixtures/pymodbus_server.py', import.meta.url));

export interface Peer {
  proc: ChildProcess;
  stop(): Promise<void>;
}

function stopper(proc: ChildProcess, signal: NodeJS.Signals): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
}

export interface TableSpec {
  hr?: Record<string, number[]>;
  ir?: Record<string, number[]>;
  co?: Record<string, number[]>;
  di?: Record<string, number[]>;
  values?: { table: 'hr' | 'ir'; address: number; type: string; order?: string; value: number | string; length?: number }[];
}

/** FC 43/14 objects every unit answers with, by pymodbus name (VendorName, ProductCode, MajorMinorRevision, ProductName, …). */
export type IdentitySpec = Record<string, string>;

export type PymodbusSpec =
  | { mode: 'tcp'; port: number; framer?: 'socket' | 'rtu'; units: Record<string, TableSpec>; identity?: IdentitySpec }
  | { mode: 'rtu'; path: string; baud?: number; framer?: 'rtu' | 'ascii'; parity?: 'N' | 'E' | 'O'; bytesize?: 7 | 8; units: Record<string, TableSpec>; identity?: IdentitySpec };

/** Starts /usr/bin/python3 fixtures/pymodbus_server.py and resolves once it prints READY. */
export function startPymodbus(spec: PymodbusSpec, timeoutMs = 10_000): Promise<Peer> {
  const proc = spawn('/usr/bin/python3', [SCRIPT, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise<Peer>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`pymodbus did not start: ${stderr}`));
    }, timeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('READY')) {
        clearTimeout(timer);
        resolve({ proc, stop: stopper(proc, 'SIGKILL') });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pymodbus exited (${code}): ${stderr}`));
    });
  });
}

/** A virtual serial line: `a` and `b` are the two ends (symlinks to ptys). */
export async function startSocat(a: string, b: string, timeoutMs = 5000): Promise<Peer> {
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  proc.stderr!.resume();
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(a) && existsSync(b))) {
    if (proc.exitCode !== null) throw new Error(`socat exited with ${proc.exitCode}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error('socat did not create the pty pair');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { proc, stop: stopper(proc, 'SIGTERM') };
}
