// The packages `npm run release` built, inspected without installing them: Debian control fields,
// what each package holds and what it must not hold, every ELF file's machine type, and that the
// .deb and the tarball carry the same program tree.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES, debPath, pinnedRuntime, repo, requireArtifacts, sh, tarballPath, unpack, version } from './release-kit.js';

const EXPECTED_ADDONS = [
  'node_modules/@serialport/bindings-cpp/build/Release/bindings.node',
  'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
  'node_modules/unix-dgram/build/Release/unix_dgram.node',
  'node_modules/usocket/build/Release/uwrap.node',
];
// Dev dependencies and build tools that have no business on a gateway.
const FORBIDDEN_PACKAGES = ['typescript', 'vitest', 'tsx', 'fast-check', 'node-gyp', 'prebuild-install', 'esbuild', '@types/node', 'nan'];

let tmp: string;
beforeAll(() => {
  requireArtifacts();
  tmp = mkdtempSync(path.join(tmpdir(), 'fg-release-pkg-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function debFiles(arch: (typeof ARCHES)[number]): string[] {
  const r = sh('dpkg-deb', ['--contents', debPath(arch)]);
  expect(r.status, r.stderr).toBe(0);
  // "-rwxr-xr-x root/root  1234 2026-11-30 08:00 ./opt/fieldgate/bin/fieldgate" (links: "… -> target")
  return r.stdout.trim().split('\n')
    .map((line) => /^\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+\.\/(.*?)(?: -> .*)?$/.exec(line)![1]!)
    .filter((f) => f !== '' && !f.endsWith('/'));
}

describe.each(ARCHES)('%s packages', (arch) => {
  it('the .deb declares its architecture, version and the libraries its binaries link', () => {
    const field = (name: string) => sh('dpkg-deb', ['--field', debPath(arch), name]).stdout.trim();
    expect(field('Package')).toBe('fieldgate');
    expect(field('Architecture')).toBe(arch);
    expect(field('Version')).toBe(version.replaceAll('-', '~'));
    const depends = field('Depends');
    expect(depends).toMatch(/(^|, )libc6 \(>= 2\.\d+\)/);
    expect(depends).toMatch(/(^|, )libstdc\+\+6/);
    // The armv7l runtime links libatomic; the 64-bit ones do not.
    if (arch === 'armhf') expect(depends).toMatch(/libatomic1/);
    else expect(depends).not.toMatch(/libatomic1/);
    // Only what Debian 12 / Raspberry Pi OS 12 (glibc 2.36) can satisfy.
    const glibc = /libc6 \(>= 2\.(\d+)\)/.exec(depends)![1]!;
    expect(Number(glibc)).toBeLessThanOrEqual(36);
    // Maintainer scripts carry the shared set-up functions and are valid POSIX shell.
    for (const script of ['postinst', 'prerm', 'postrm']) {
      const text = sh('dpkg-deb', ['--info', debPath(arch), script]).stdout;
      expect(text, script).toContain('fg_systemd_running()');
      expect(sh('sh', ['-n'], { input: text }).status, script).toBe(0);
    }
  });

  it('holds runtime, program, unit, command, production modules and every addon; no sources, tests or dev tools', () => {
    const files = debFiles(arch);
    const inOpt = files.filter((f) => f.startsWith('opt/fieldgate/')).map((f) => f.slice('opt/fieldgate/'.length));
    for (const f of ['node/bin/node', 'bin/fieldgate', 'bin/fieldgate.js', 'dist/src/main.js', 'config/example.yaml', 'config/demo.yaml',
      'schema/site.schema.json', 'systemd/fieldgate.service', 'share/setup-functions.sh', 'package.json', ...EXPECTED_ADDONS]) {
      expect(inOpt, f).toContain(f);
    }
    expect(files).toContain('usr/bin/fieldgate');
    expect(files).toContain('lib/systemd/system/fieldgate.service');
    expect(inOpt.filter((f) => /\.(ts|map)$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(inOpt.filter((f) => f.startsWith('test/') || f.startsWith('bench/') || f.includes('/prebuilds/'))).toEqual([]);
    expect(inOpt.filter((f) => f.endsWith('.node')).sort()).toEqual([...EXPECTED_ADDONS].sort());
    for (const pkg of FORBIDDEN_PACKAGES) expect(inOpt.some((f) => f.startsWith(`node_modules/${pkg}/`)), pkg).toBe(false);
  });

  it('every ELF file in the tarball is built for the target and the runtime is the pinned one', () => {
    const tree = unpack(arch, path.join(tmp, arch));
    const r = sh('node', [path.join(repo, 'packaging/lib/check-elf.mjs'), arch, tree, '--expect-addons', String(EXPECTED_ADDONS.length)]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`${arch}: ${EXPECTED_ADDONS.length} native addons`);
    expect(sh('cat', [path.join(tree, 'node/VERSION')]).stdout.trim()).toBe(`${pinnedRuntime(arch).package}@${pinnedRuntime(arch).version}`);
    // Independent of our own ELF reader: file(1) agrees on the machine type of every addon.
    const machine = { amd64: /x86-64/, arm64: /ARM aarch64/, armhf: /ARM, EABI5/ }[arch];
    for (const addon of EXPECTED_ADDONS) expect(sh('file', ['-b', path.join(tree, addon)]).stdout).toMatch(machine);
  });

  it('the tarball holds the same program tree as the .deb, plus install.sh', () => {
    const tree = path.join(tmp, arch, `fieldgate-${version}-linux-${arch}`);
    const fromDeb = debFiles(arch).filter((f) => f.startsWith('opt/fieldgate/')).map((f) => f.slice('opt/fieldgate/'.length)).sort();
    const listed = sh('tar', ['tzf', tarballPath(arch)]).stdout.trim().split('\n')
      .filter((f) => !f.endsWith('/')).map((f) => f.slice(`fieldgate-${version}-linux-${arch}/`.length)).sort();
    expect(listed.filter((f) => f !== 'install.sh')).toEqual(fromDeb);
    expect(listed).toContain('install.sh');
    expect(tree).toBeTruthy();
  });
});
