// Runs a fieldgate Gateway for integration tests, either in this process (fast, inspectable) or as
// a child process (`node --import tsx src/main.ts run`) for signal and kill -9 tests.
import type { Clock } from '../../../src/driver-api/index.js';
import type { ClockSource } from '../../../src/clock/clock-source.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { Gateway } from '../../../src/gateway.js';
import { loadSite } from '../../../src/config/load-site.js';
import { drivers } from '../../../drivers/index.js';
import type { DriverEntry, DriverFactory } from '../../../src/driver-api/index.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface TestGatewayOptions {
  /** The site file text; ${VARS} are expanded from `env`. */
  siteYaml: string;
  /** Directory for the site file and buffer (a new temp dir when omitted; removed by stop()). */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  drivers?: readonly DriverEntry[];
  logger?: Logger;
  /** Replace the wall clock readings are stamped with, and the clock source (clock tests). */
  clock?: Clock;
  clockSource?: ClockSource;
}

export interface TestGateway {
  gateway: Gateway;
  dir: string;
  file: string;
  /** Stops the gateway (drainMs default 500) and removes the temp dir if we made it. */
  stop(options?: { drainMs?: number; keepDir?: boolean }): Promise<void>;
}

export function writeSite(dir: string, siteYaml: string, name = 'site.yaml'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, siteYaml);
  return file;
}

export function testLogger(): Logger {
  return pino({ level: process.env.FIELDGATE_TEST_LOG ?? 'silent' });
}

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-it-'));
  const file = writeSite(dir, options.siteYaml);
  const list = options.drivers ?? drivers;
  const site = loadSite(file, { ...process.env, ...options.env }, list);
  const gateway = new Gateway({
    site, drivers: list, logger: options.logger ?? testLogger(),
    ...(options.clock ? { clock: options.clock } : {}), ...(options.clockSource ? { clockSource: options.clockSource } : {}),
  });
  await gateway.start();
  return {
    gateway,
    dir,
    file,
    async stop(stopOptions = {}) {
      await gateway.stop({ drainMs: stopOptions.drainMs ?? 500 });
      if (ownDir && !stopOptions.keepDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface GatewayProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** Spawns `fieldgate <args>` from the TypeScript sources. */
export function spawnFieldgate(args: string[], env: NodeJS.ProcessEnv = {}): GatewayProcess {
  return spawnTs('src/main.ts', args, env);
}

/** Spawns a TypeScript file of this repository (its path from the root) under tsx. */
export function spawnTs(script: string, args: string[], env: NodeJS.ProcessEnv = {}): GatewayProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return {
    child,
    output: () => out,
    exited,
    async waitForOutput(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in output:\n${out.slice(-3000)}`);
        if (child.exitCode !== null) throw new Error(`fieldgate exited (${child.exitCode}) before ${pattern}:\n${out.slice(-3000)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 100);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
  };
}

/** What `fieldgate buffer stats` reports for a site's journal; throws unless it exits 0 with both. */
export async function journalStats(siteFile: string): Promise<{ backlog: number; lastSeq: number }> {
  const stats = spawnFieldgate(['buffer', 'stats', '-c', siteFile]);
  const code = await stats.exited;
  const backlog = /backlog:\s+(\d+) messages/.exec(stats.output());
  const lastSeq = /last seq:\s+(\d+)/.exec(stats.output());
  if (code !== 0 || !backlog || !lastSeq) throw new Error(`fieldgate buffer stats exited ${code}:\n${stats.output()}`);
  return { backlog: Number(backlog[1]), lastSeq: Number(lastSeq[1]) };
}
