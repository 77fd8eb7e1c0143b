// What the release tests share: where `npm run release` put the packages, how to unpack them, and
// how to run a foreign-architecture binary (Debian's qemu-user-static with the cross C library).
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const releaseDir = process.env.FIELDGATE_RELEASE_DIR ?? path.join(repo, 'release');
export const version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
export const ARCHES = ['amd64', 'arm64', 'armhf'] as const;
export type Arch = (typeof ARCHES)[number];

export const debPath = (arch: Arch, v = version): string => path.join(releaseDir, `fieldgate_${v.replaceAll('-', '~')}_${arch}.deb`);
export const tarballPath = (arch: Arch): string => path.join(releaseDir, `fieldgate-${version}-linux-${arch}.tar.gz`);
/** The package tree the build left behind (input of make-deb.sh, e.g. for an upgrade package). */
export const builtTree = (arch: Arch): string => path.join(releaseDir, 'work', arch, 'fieldgate');

/** The pinned runtime of each architecture (packaging/runtimes.json). */
export function pinnedRuntime(arch: Arch): { package: string; version: string } {
  return (JSON.parse(readFileSync(path.join(repo, 'packaging/runtimes.json'), 'utf8')) as Record<Arch, { package: string; version: string }>)[arch];
}

export function requireArtifacts(): void {
  const missing = ARCHES.flatMap((a) => [debPath(a), tarballPath(a)]).filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`release artifacts missing (run \`npm run release\` first): ${missing.join(', ')}`);
}

export function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number; input?: string } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeout ?? 120_000, cwd: opts.cwd, env: opts.env ?? process.env, input: opts.input, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return r;
}

/** Unpacks the tarball of `arch` under `into`; returns the program's folder. */
export function unpack(arch: Arch, into: string): string {
  mkdirSync(into, { recursive: true });
  const r = sh('tar', ['xzf', tarballPath(arch), '-C', into]);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  return path.join(into, `fieldgate-${version}-linux-${arch}`);
}

const EMULATOR: Record<Arch, { bin: string; sysroot: string } | undefined> = {
  amd64: undefined,
  arm64: { bin: 'qemu-aarch64-static', sysroot: '/usr/aarch64-linux-gnu' },
  armhf: { bin: 'qemu-arm-static', sysroot: '/usr/arm-linux-gnueabihf' },
};

/** argv and environment that run the bundled node of `tree` with `args` on this x86-64 machine. */
export function nodeCommand(arch: Arch, tree: string, args: string[]): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  const node = path.join(tree, 'node/bin/node');
  const emu = EMULATOR[arch];
  if (emu === undefined) return { cmd: node, args, env: { ...process.env } };
  return { cmd: emu.bin, args: [node, ...args], env: { ...process.env, QEMU_LD_PREFIX: emu.sysroot } };
}

export function runBundled(arch: Arch, tree: string, args: string[], timeout = 180_000): SpawnSyncReturns<string> {
  const c = nodeCommand(arch, tree, args);
  return sh(c.cmd, c.args, { env: c.env, timeout, cwd: tree });
}

export function spawnBundled(arch: Arch, tree: string, args: string[]) {
  const c = nodeCommand(arch, tree, args);
  return spawn(c.cmd, c.args, { env: c.env, cwd: tree, stdio: ['ignore', 'pipe', 'pipe'] });
}
