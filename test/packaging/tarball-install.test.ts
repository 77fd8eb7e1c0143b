// The release tarball's install.sh (packaging/files/install.sh) on an IsolatedHost, from a miniature
// unpacked tarball: the real install.sh, setup-functions.sh, launcher, unit and example, with a
// node/bin/node that hands over to this machine's Node. What the release tests check on a real
// systemd with a real build, checked here in well under a second per run without one; PID 1 is not
// systemd, so the service is only enabled (offline), never started.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IsolatedHost, canIsolateHost } from '../support/isolated-host.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function write(file: string, text: string, mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  chmodSync(file, mode);
}

/** An unpacked release tarball in miniature. */
function makeTarballTree(dir: string): void {
  const from: Record<string, string> = {
    'install.sh': 'packaging/files/install.sh',
    'share/setup-functions.sh': 'packaging/files/setup-functions.sh',
    'bin/fieldgate': 'packaging/files/fieldgate',
    'systemd/fieldgate.service': 'systemd/fieldgate.service',
    'config/example.yaml': 'config/example.yaml',
  };
  for (const [to, src] of Object.entries(from)) {
    mkdirSync(path.dirname(path.join(dir, to)), { recursive: true });
    copyFileSync(path.join(repo, src), path.join(dir, to));
  }
  chmodSync(path.join(dir, 'install.sh'), 0o755);
  chmodSync(path.join(dir, 'bin/fieldgate'), 0o755);
  write(path.join(dir, 'node/bin/node'), `#!/bin/sh\nexec ${process.execPath} "$@"\n`, 0o755);
  write(path.join(dir, 'VERSION'), '0.0.0-test\n');
  write(path.join(dir, 'dist/src/main.js'), 'export const version = 1;\n', 0o666); // group/other-writable on purpose
}

describe.skipIf(!canIsolateHost)('the tarball\'s install.sh on an isolated host', () => {
  let tmp: string;
  let tree: string;
  let host: IsolatedHost;
  const installer = (...args: string[]): { status: number | null; out: string } => host.run([path.join(tree, 'install.sh'), ...args].join(' '));
  const sh = (cmd: string): string => {
    const r = host.run(cmd);
    expect(r.status, r.out).toBe(0);
    return r.out.trim();
  };

  beforeEach(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'fg-tarball-'));
    tree = path.join(tmp, 'fieldgate-0.0.0-test-linux-amd64');
    makeTarballTree(tree);
    host = new IsolatedHost();
  });
  afterEach(() => {
    host.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('installs root-owned program, command, unit (enabled), account and configuration; an upgrade keeps the site file', () => {
    const r = installer();
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('installed 0.0.0-test in /opt/fieldgate');
    expect(sh('stat -c "%U:%G %a %n" /opt/fieldgate /opt/fieldgate/dist/src/main.js /etc/systemd/system/fieldgate.service /etc/fieldgate /etc/fieldgate/config.yaml /etc/fieldgate/env /var/lib/fieldgate').split('\n')).toEqual([
      'root:root 755 /opt/fieldgate', 'root:root 644 /opt/fieldgate/dist/src/main.js', 'root:root 644 /etc/systemd/system/fieldgate.service',
      'root:fieldgate 750 /etc/fieldgate', 'root:fieldgate 640 /etc/fieldgate/config.yaml', 'root:fieldgate 640 /etc/fieldgate/env',
      'fieldgate:fieldgate 750 /var/lib/fieldgate',
    ]);
    expect(sh('readlink /usr/local/bin/fieldgate; readlink /etc/systemd/system/multi-user.target.wants/fieldgate.service').split('\n'))
      .toEqual(['/opt/fieldgate/bin/fieldgate', '/etc/systemd/system/fieldgate.service']);
    expect(sh('test -e /opt/fieldgate/install.sh || echo "no installer in the program"')).toBe('no installer in the program');

    sh('echo "site: plant-7" > /etc/fieldgate/config.yaml && touch /opt/fieldgate/dist/stale.js');
    const again = installer();
    expect(again.status, again.out).toBe(0);
    expect(again.out).toContain('kept existing /etc/fieldgate/config.yaml');
    expect(sh('cat /etc/fieldgate/config.yaml')).toBe('site: plant-7');
    expect(sh('ls /opt/fieldgate/dist; ls -d /opt/fieldgate.new /opt/fieldgate.old 2>/dev/null || true')).toBe('src');
  });

  it('--uninstall keeps configuration and journal; --uninstall --purge removes them with the account', () => {
    expect(installer().status).toBe(0);
    sh('echo unsent > /var/lib/fieldgate/buffer.db');
    const r = installer('--uninstall');
    expect(r.status, r.out).toBe(0);
    expect(sh('ls -d /opt/fieldgate /usr/local/bin/fieldgate /etc/systemd/system/fieldgate.service /etc/systemd/system/multi-user.target.wants/fieldgate.service 2>/dev/null | wc -l')).toBe('0');
    expect(sh('cat /var/lib/fieldgate/buffer.db; test -f /etc/fieldgate/config.yaml && echo config kept')).toBe('unsent\nconfig kept');

    const purge = installer('--uninstall', '--purge');
    expect(purge.status, purge.out).toBe(0);
    expect(sh('ls -d /etc/fieldgate /var/lib/fieldgate 2>/dev/null | wc -l')).toBe('0');
    expect(host.run('getent passwd fieldgate || getent group fieldgate').status).not.toBe(0);
  });

  it('refuses where the .deb is installed', () => {
    sh('mkdir -p /var/lib/dpkg/info && touch /var/lib/dpkg/info/fieldgate.list');
    const r = installer();
    expect(r.status).toBe(1);
    expect(r.out).toContain('the fieldgate .deb is installed; use apt/dpkg');
    expect(sh('ls /opt | wc -l')).toBe('0');
  });
});
