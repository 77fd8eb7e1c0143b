// systemd/install.sh against a staging root (--root): files, modes, idempotence, uninstall and purge;
// then for real (accounts, owners) on an IsolatedHost. The script runs from a small stand-in for a
// built checkout (the real install.sh, packaging/files/setup-functions.sh, unit and
// config/example.yaml, a stub dist/ and a two-package node_modules) so a run takes well under a
// second; nothing outside the temp directory is touched (--root implies no useradd, no systemctl).
import { spawnSync } from 'node:child_process';
import {
  copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canIsolateHost, isolatedHostPerTest } from '../support/isolated-host.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let tmp: string;
let src: string;
let root: string;

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** A built fieldgate tree in miniature. */
function makeSourceTree(dir: string): void {
  for (const f of ['systemd/install.sh', 'packaging/files/setup-functions.sh', 'systemd/fieldgate.service', 'bin/fieldgate.js']) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    copyFileSync(path.join(repo, f), path.join(dir, f));
  }
  const example = path.join(repo, 'config/example.yaml');
  if (existsSync(example)) {
    mkdirSync(path.join(dir, 'config'), { recursive: true });
    copyFileSync(example, path.join(dir, 'config/example.yaml'));
  } else {
    write(path.join(dir, 'config/example.yaml'), 'site: placeholder\n'); // config/example.yaml not written yet
  }
  write(path.join(dir, 'dist/src/main.js'), 'export const version = 1;\n');
  write(path.join(dir, 'docs/operations.md'), '# operations\n');
  write(path.join(dir, 'web/status/index.html'), '<!doctype html>\n');
  write(path.join(dir, 'profiles/meter.yaml'), 'name: meter\n');
  const pkg = { name: 'fieldgate', version: '0.1.0', dependencies: { 'dep-a': '1.0.0' }, devDependencies: { 'dev-b': '1.0.0' } };
  write(path.join(dir, 'package.json'), JSON.stringify(pkg));
  write(path.join(dir, 'package-lock.json'), JSON.stringify({
    name: 'fieldgate', version: '0.1.0', lockfileVersion: 3, requires: true,
    packages: {
      '': pkg,
      'node_modules/dep-a': { version: '1.0.0' },
      'node_modules/dev-b': { version: '1.0.0', dev: true },
    },
  }));
  write(path.join(dir, 'node_modules/dep-a/package.json'), JSON.stringify({ name: 'dep-a', version: '1.0.0' }));
  write(path.join(dir, 'node_modules/dev-b/package.json'), JSON.stringify({ name: 'dev-b', version: '1.0.0' }));
}

/**
 * Runs install.sh from an unrelated directory (it finds setup-functions.sh next to itself);
 * `npm prune` (about a second) only where a test asks for it with '--prune'.
 */
function install(...args: string[]): { status: number | null; out: string } {
  const prune = args.includes('--prune');
  const rest = args.filter((a) => a !== '--prune');
  const r = spawnSync('bash', [path.join(src, 'systemd/install.sh'), '--root', root, ...(prune ? [] : ['--no-prune']), ...rest], {
    encoding: 'utf8', timeout: 60_000, cwd: tmp,
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

const at = (p: string): string => path.join(root, p);
const mode = (p: string): string => (statSync(at(p)).mode & 0o7777).toString(8).padStart(4, '0');

beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'fg-install-'));
  src = path.join(tmp, 'src');
  root = path.join(tmp, 'root');
  makeSourceTree(src);
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('install.sh --root', () => {
  it('installs program, unit, command link, config and env file with the right modes', () => {
    const r = install('--prune');
    expect(r.status, r.out).toBe(0);

    expect(readFileSync(at('opt/fieldgate/dist/src/main.js'), 'utf8')).toBe('export const version = 1;\n');
    expect(mode('opt/fieldgate/bin/fieldgate.js')).toBe('0755');
    expect(existsSync(at('opt/fieldgate/node_modules/dep-a/package.json'))).toBe(true);
    expect(existsSync(at('opt/fieldgate/node_modules/dev-b'))).toBe(false); // pruned, offline
    expect(existsSync(at('opt/fieldgate/config/example.yaml'))).toBe(true);
    // The status page (http.listen) and the shipped profile library.
    expect(existsSync(at('opt/fieldgate/web/status/index.html'))).toBe(true);
    expect(existsSync(at('opt/fieldgate/profiles/meter.yaml'))).toBe(true);

    expect(readFileSync(at('etc/systemd/system/fieldgate.service'), 'utf8'))
      .toBe(readFileSync(path.join(repo, 'systemd/fieldgate.service'), 'utf8'));
    expect(mode('etc/systemd/system/fieldgate.service')).toBe('0644');

    expect(lstatSync(at('usr/local/bin/fieldgate')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(at('usr/local/bin/fieldgate'))).toBe('/opt/fieldgate/bin/fieldgate.js');

    expect(readFileSync(at('etc/fieldgate/config.yaml'), 'utf8')).toBe(readFileSync(path.join(src, 'config/example.yaml'), 'utf8'));
    expect(mode('etc/fieldgate')).toBe('0750');
    expect(mode('etc/fieldgate/config.yaml')).toBe('0640');
    expect(mode('etc/fieldgate/env')).toBe('0640');
    expect(readFileSync(at('etc/fieldgate/env'), 'utf8')).toMatch(/^# Environment for fieldgate\.service/);

    // Host changes are described, not made.
    expect(r.out).toMatch(/\(staging\) would run: groupadd --system fieldgate$/m);
    expect(r.out).toMatch(/\(staging\) would run: useradd --system --gid fieldgate --home-dir \/var\/lib\/fieldgate .*--comment 'fieldgate IoT gateway' fieldgate$/m);
    expect(r.out).toMatch(/\(staging\) would run: chown root:fieldgate .*\/etc\/fieldgate\/config\.yaml$/m);
    expect(r.out).toContain('skipped: systemctl daemon-reload');
    expect(r.out).toContain('systemctl enable --now fieldgate');
    expect(r.out).toContain('journalctl -u fieldgate -f');
    expect(existsSync(at('opt/fieldgate.new')) || existsSync(at('opt/fieldgate.old'))).toBe(false);
  });

  it('installs every part the release packages ship (package.json "files"; the unit goes to /etc)', () => {
    const shipped = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { files: string[] }).files;
    const payload = /^readonly PAYLOAD=\(([^)]*)\)$/m.exec(readFileSync(path.join(repo, 'systemd/install.sh'), 'utf8'))![1]!.split(/\s+/);
    expect(shipped.filter((f) => f !== 'systemd' && !payload.includes(f))).toEqual([]);
  });

  it('is idempotent: a second run upgrades the program but keeps config and secrets', () => {
    expect(install().status).toBe(0);
    writeFileSync(at('etc/fieldgate/config.yaml'), 'site: edited-by-admin\n');
    writeFileSync(at('etc/fieldgate/env'), 'MQTT_PASSWORD=s3cret\n');
    write(at('opt/fieldgate/dist/stale.js'), 'left over from an old version\n');
    write(path.join(src, 'dist/src/main.js'), 'export const version = 2;\n');

    const again = install();
    expect(again.status, again.out).toBe(0);
    expect(again.out).toContain('kept existing /etc/fieldgate/config.yaml');
    expect(readFileSync(at('etc/fieldgate/config.yaml'), 'utf8')).toBe('site: edited-by-admin\n');
    expect(readFileSync(at('etc/fieldgate/env'), 'utf8')).toBe('MQTT_PASSWORD=s3cret\n');
    expect(mode('etc/fieldgate/config.yaml')).toBe('0640');
    expect(readFileSync(at('opt/fieldgate/dist/src/main.js'), 'utf8')).toBe('export const version = 2;\n');
    expect(existsSync(at('opt/fieldgate/dist/stale.js'))).toBe(false);
  });

  it('--uninstall removes unit, program and link but keeps config and the buffer', () => {
    expect(install().status).toBe(0);
    write(at('var/lib/fieldgate/buffer.db'), 'unsent readings');
    const r = install('--uninstall');
    expect(r.status, r.out).toBe(0);
    expect(existsSync(at('etc/systemd/system/fieldgate.service'))).toBe(false);
    expect(existsSync(at('opt/fieldgate'))).toBe(false);
    expect(existsSync(at('usr/local/bin/fieldgate'))).toBe(false);
    expect(lstatSync(at('usr/local/bin'), { throwIfNoEntry: false })?.isDirectory()).toBe(true);
    expect(readFileSync(at('var/lib/fieldgate/buffer.db'), 'utf8')).toBe('unsent readings');
    expect(existsSync(at('etc/fieldgate/config.yaml'))).toBe(true);
    expect(existsSync(at('etc/fieldgate/env'))).toBe(true);
    expect(r.out).toContain('--uninstall --purge');

    // uninstalling twice is fine
    expect(install('--uninstall').status).toBe(0);
  });

  it('--uninstall --purge also deletes config, buffer and drop-ins', () => {
    expect(install().status).toBe(0);
    write(at('var/lib/fieldgate/buffer.db'), 'unsent readings');
    write(at('etc/systemd/system/fieldgate.service.d/site.conf'), '[Service]\nReadWritePaths=/data\n');
    const r = install('--uninstall', '--purge');
    expect(r.status, r.out).toBe(0);
    expect(existsSync(at('etc/fieldgate'))).toBe(false);
    expect(existsSync(at('var/lib/fieldgate'))).toBe(false);
    expect(existsSync(at('etc/systemd/system/fieldgate.service.d'))).toBe(false);
    expect(r.out).toContain('(staging) would run: userdel fieldgate');
  });

  it('--uninstall removes the enablement link and a command link into /opt/fieldgate from the tarball', () => {
    expect(install().status).toBe(0);
    mkdirSync(at('etc/systemd/system/multi-user.target.wants'), { recursive: true });
    symlinkSync('/etc/systemd/system/fieldgate.service', at('etc/systemd/system/multi-user.target.wants/fieldgate.service'));
    rmSync(at('usr/local/bin/fieldgate'));
    symlinkSync('/opt/fieldgate/bin/fieldgate', at('usr/local/bin/fieldgate'));
    const r = install('--uninstall');
    expect(r.status, r.out).toBe(0);
    expect(lstatSync(at('etc/systemd/system/multi-user.target.wants/fieldgate.service'), { throwIfNoEntry: false })).toBeUndefined();
    expect(lstatSync(at('usr/local/bin/fieldgate'), { throwIfNoEntry: false })).toBeUndefined();
  });

  it('refuses to install or uninstall over the .deb (dpkg owns /opt/fieldgate and the unit)', () => {
    write(at('var/lib/dpkg/info/fieldgate.list'), '/opt/fieldgate\n');
    for (const args of [[], ['--uninstall']]) {
      const r = install(...args);
      expect(r.status, r.out).toBe(1);
      expect(r.out).toContain('the fieldgate .deb is installed; use apt/dpkg');
    }
    expect(existsSync(at('opt/fieldgate'))).toBe(false);
    expect(existsSync(at('etc/fieldgate'))).toBe(false);
  });

  it('leaves a command link it did not create alone', () => {
    write(at('usr/local/bin/fieldgate'), '#!/bin/sh\necho mine\n');
    // install replaces it (it is our command name) ...
    expect(install().status).toBe(0);
    expect(readlinkSync(at('usr/local/bin/fieldgate'))).toBe('/opt/fieldgate/bin/fieldgate.js');
    // ... but uninstall removes only a link that points at our program
    rmSync(at('usr/local/bin/fieldgate'));
    write(at('usr/local/bin/fieldgate'), '#!/bin/sh\necho mine\n');
    expect(install('--uninstall').status).toBe(0);
    expect(readFileSync(at('usr/local/bin/fieldgate'), 'utf8')).toBe('#!/bin/sh\necho mine\n');
  });

  it('refuses an unbuilt tree and bad option combinations', () => {
    rmSync(path.join(src, 'dist'), { recursive: true });
    const unbuilt = install();
    expect(unbuilt.status).toBe(1);
    expect(unbuilt.out).toContain('dist/src/main.js (run: npm run build)');
    expect(existsSync(at('opt/fieldgate'))).toBe(false);

    expect(install('--purge').status).toBe(2);
    expect(install('--frobnicate').status).toBe(2);
  });

  it('uses config/example.yaml from the tree it installs (--from), not the one the script is in', () => {
    const other = path.join(tmp, 'other');
    makeSourceTree(other);
    write(path.join(other, 'config/example.yaml'), 'site: from-the-other-tree\n');
    const r = install('--from', other);
    expect(r.status, r.out).toBe(0);
    expect(readFileSync(at('etc/fieldgate/config.yaml'), 'utf8')).toBe('site: from-the-other-tree\n');
    expect(statSync(path.join(repo, 'systemd/install.sh')).mode & 0o111).not.toBe(0);
  });

  it('runs by a relative path from its own directory, and says what is missing without setup-functions.sh', () => {
    const rel = spawnSync('bash', ['./install.sh', '--root', root, '--no-prune'], { cwd: path.join(src, 'systemd'), encoding: 'utf8' });
    expect(rel.status, rel.stdout + rel.stderr).toBe(0);
    expect(existsSync(at('etc/fieldgate/config.yaml'))).toBe(true);

    rmSync(path.join(src, 'packaging'), { recursive: true });
    const r = install();
    expect(r.status).toBe(1);
    expect(r.out).toContain('packaging/files/setup-functions.sh is missing');
  });
});

// The real thing: accounts, owners and modes as on a gateway, on a machine whose PID 1 is not
// systemd (so systemctl cannot be used, as in a container or an image build's chroot).
describe.skipIf(!canIsolateHost)('install.sh as root on an isolated host', () => {
  const host = isolatedHostPerTest();
  const { sh } = host;
  it('installs with a leftover fieldgate group and without a running systemd; purge removes user and group', () => {
    sh('groupadd --system fieldgate');
    const r = host.run(`${path.join(src, 'systemd/install.sh')} --no-prune`);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('systemd is not running here; skipped: systemctl daemon-reload');
    expect(sh('id -gn fieldgate; id -nG fieldgate').split('\n')).toEqual(['fieldgate', expect.stringMatching(/dialout.*bluetooth|bluetooth.*dialout/)]);
    expect(sh('stat -c "%U:%G %a %n" /etc/fieldgate /etc/fieldgate/config.yaml /etc/fieldgate/env /var/lib/fieldgate /opt/fieldgate /opt/fieldgate/bin/fieldgate.js').split('\n')).toEqual([
      'root:fieldgate 750 /etc/fieldgate', 'root:fieldgate 640 /etc/fieldgate/config.yaml', 'root:fieldgate 640 /etc/fieldgate/env',
      'fieldgate:fieldgate 750 /var/lib/fieldgate', 'root:root 755 /opt/fieldgate', 'root:root 755 /opt/fieldgate/bin/fieldgate.js',
    ]);
    // The next steps' check runs as the service user: it must be able to read what it is told to validate.
    sh('runuser -u fieldgate -- sh -c "set -a; . /etc/fieldgate/env; cat /etc/fieldgate/config.yaml >/dev/null"');

    const purge = host.run(`${path.join(src, 'systemd/install.sh')} --uninstall --purge`);
    expect(purge.status, purge.out).toBe(0);
    expect(host.run('getent passwd fieldgate || getent group fieldgate').status).not.toBe(0);
    expect(sh('ls -d /etc/fieldgate /var/lib/fieldgate /opt/fieldgate /usr/local/bin/fieldgate 2>/dev/null | wc -l')).toBe('0');
  });
});
