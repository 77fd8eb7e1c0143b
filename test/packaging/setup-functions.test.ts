// packaging/files/setup-functions.sh, the set-up steps the .deb's maintainer scripts, the tarball's
// install.sh and systemd/install.sh share. Account and ownership steps run for real (useradd, chown)
// in an IsolatedHost — a private mount namespace over a copy of /etc — under dash, the shell that
// runs the maintainer scripts.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canIsolateHost, isolatedHostPerTest } from '../support/isolated-host.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const lib = path.join(repo, 'packaging/files/setup-functions.sh');

/** Runs `body` in dash with the functions loaded, as a maintainer script does (FG_PREFIX first). */
function withFunctions(body: string, env: NodeJS.ProcessEnv = {}): { status: number | null; out: string } {
  const r = spawnSync('sh', ['-c', `set -eu\nFG_PREFIX=/opt/fieldgate\n. '${lib}'\n${body}`], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('setup-functions.sh without touching the host', () => {
  it('ignores FG_ROOT and FG_SYSTEMCTL inherited from the environment (a package install stays one)', () => {
    const r = withFunctions('fg_staging && echo staged || echo host; echo "systemctl=$FG_SYSTEMCTL"', { FG_ROOT: '/tmp/elsewhere', FG_SYSTEMCTL: '0' });
    expect(r.out.trim().split('\n')).toEqual(['host', 'systemctl=1']);
  });

  it('prints staged host commands quoted so that a shell gets the same arguments back', () => {
    const args = ['useradd', '--comment', 'fieldgate IoT gateway', "it's", '', '$HOME*', 'plain-word'];
    const r = withFunctions(`FG_ROOT=/stage\nfg_host ${args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')}`);
    const printed = /^fieldgate: \(staging\) would run: (.*)$/m.exec(r.out)![1]!;
    const back = spawnSync('sh', ['-c', 'eval "set -- $1"; printf "%s\\n" "$@"', 'sh', printed], { encoding: 'utf8' });
    expect(back.stdout.split('\n').slice(0, -1)).toEqual(args);
  });
});

describe.skipIf(!canIsolateHost)('setup-functions.sh on an isolated host (real accounts and owners)', () => {
  const host = isolatedHostPerTest();
  const { sh } = host;
  const run = (body: string): { status: number | null; out: string } =>
    host.run(`set -eu\nFG_PREFIX=/opt/fieldgate\n. '${lib}'\n${body}`, { shell: 'sh' });

  it('fg_ensure_user: system account, own group, dialout and bluetooth, state directory; a second run changes nothing', () => {
    const first = run('fg_ensure_user');
    expect(first.status, first.out).toBe(0);
    expect(first.out).toContain('created system user fieldgate');
    const passwd = sh('getent passwd fieldgate').split(':');
    expect(Number(passwd[2])).toBeLessThan(1000);
    expect(passwd.slice(5)).toEqual(['/var/lib/fieldgate', '/usr/sbin/nologin']);
    expect(sh('id -gn fieldgate')).toBe('fieldgate');
    expect(sh('id -nG fieldgate').split(' ')).toEqual(expect.arrayContaining(['fieldgate', 'dialout', 'bluetooth']));
    expect(sh('stat -c "%U:%G %a" /var/lib/fieldgate')).toBe('fieldgate:fieldgate 750');

    const before = sh('getent passwd fieldgate; getent group fieldgate dialout bluetooth');
    const again = run('fg_ensure_user');
    expect(again.status, again.out).toBe(0);
    expect(again.out).toBe('');
    expect(sh('getent passwd fieldgate; getent group fieldgate dialout bluetooth')).toBe(before);
  });

  it('fg_ensure_user: a fieldgate group left without its user becomes the new user\'s primary group', () => {
    // `useradd --user-group` (what systemd/install.sh used to run) fails here: "group fieldgate exists".
    const gid = sh('groupadd --system fieldgate && getent group fieldgate').split(':')[2];
    const r = run('fg_ensure_user');
    expect(r.status, r.out).toBe(0);
    expect(sh('id -g fieldgate')).toBe(gid);
  });

  it('fg_ensure_user + fg_install_config: an existing user with another primary group can read the configuration', () => {
    sh('useradd --system --gid nogroup --no-create-home --shell /usr/sbin/nologin fieldgate');
    sh('mkdir -p /opt/fieldgate/config && echo "site: example" > /opt/fieldgate/config/example.yaml');
    const r = run('fg_ensure_user && fg_install_config');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('added the existing user fieldgate to the group fieldgate');
    expect(sh('id -gn fieldgate')).toBe('nogroup');
    expect(sh('runuser -u fieldgate -- cat /etc/fieldgate/config.yaml')).toBe('site: example');
  });

  it('fg_ensure_user: warns about an existing login account (no system uid, a shell) and uses it as it is', () => {
    sh('useradd --uid 1500 --user-group --no-create-home --shell /bin/bash fieldgate');
    const r = run('fg_ensure_user');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('fieldgate: warning: the existing user fieldgate is not a system account (uid 1500); the service runs as it anyway');
    expect(r.out).toContain('fieldgate: warning: the existing user fieldgate has the login shell /bin/bash; a service account needs none: usermod --shell /usr/sbin/nologin fieldgate');
    expect(sh('getent passwd fieldgate').split(':')[6]).toBe('/bin/bash');
    sh('usermod --shell /usr/sbin/nologin fieldgate');
    expect(run('fg_ensure_user').out).not.toContain('login shell');
  });

  it('fg_install_config: root:fieldgate 0750/0640 from the installed example; an edited file and its mode are kept, the directory repaired', () => {
    sh('groupadd --system fieldgate && mkdir -p /opt/fieldgate/config && echo "site: example" > /opt/fieldgate/config/example.yaml');
    const first = run('fg_install_config');
    expect(first.status, first.out).toBe(0);
    expect(sh('stat -c "%U:%G %a %n" /etc/fieldgate /etc/fieldgate/config.yaml /etc/fieldgate/env').split('\n')).toEqual([
      'root:fieldgate 750 /etc/fieldgate', 'root:fieldgate 640 /etc/fieldgate/config.yaml', 'root:fieldgate 640 /etc/fieldgate/env',
    ]);
    expect(sh('cat /etc/fieldgate/config.yaml')).toBe('site: example');
    expect(sh('cat /etc/fieldgate/env')).toMatch(/^# Environment for fieldgate\.service/);

    sh('echo "site: plant-7" > /etc/fieldgate/config.yaml && chmod 0600 /etc/fieldgate/config.yaml && echo S=1 > /etc/fieldgate/env'
      + ' && chown root:root /etc/fieldgate && chmod 0755 /etc/fieldgate && echo "site: newer example" > /opt/fieldgate/config/example.yaml');
    const again = run('fg_install_config');
    expect(again.status, again.out).toBe(0);
    expect(again.out).toContain('kept existing /etc/fieldgate/config.yaml (the new example is /opt/fieldgate/config/example.yaml)');
    expect(again.out).toContain('kept existing /etc/fieldgate/env');
    expect(sh('cat /etc/fieldgate/config.yaml; cat /etc/fieldgate/env')).toBe('site: plant-7\nS=1');
    expect(sh('stat -c "%U:%G %a" /etc/fieldgate /etc/fieldgate/config.yaml').split('\n')).toEqual(['root:fieldgate 750', 'root:fieldgate 600']);
  });

  it('fg_install_config: warns, and keeps the file as it is, when the service user cannot read a kept config.yaml', () => {
    sh('useradd --system --user-group --no-create-home --shell /usr/sbin/nologin fieldgate');
    sh('mkdir -p /opt/fieldgate/config && echo "site: example" > /opt/fieldgate/config/example.yaml');
    sh('mkdir -p /etc/fieldgate && echo "site: plant-7" > /etc/fieldgate/config.yaml && chmod 0600 /etc/fieldgate/config.yaml');
    const refused = run('fg_install_config');
    expect(refused.status, refused.out).toBe(0);
    expect(refused.out).toContain('fieldgate: warning: the user fieldgate cannot read /etc/fieldgate/config.yaml (root:root 600); '
      + 'the service will not start until it can, e.g.: chown root:fieldgate /etc/fieldgate/config.yaml && chmod 0640 /etc/fieldgate/config.yaml');
    expect(sh('stat -c "%U:%G %a" /etc/fieldgate/config.yaml')).toBe('root:root 600');

    sh('chown root:fieldgate /etc/fieldgate/config.yaml && chmod 0640 /etc/fieldgate/config.yaml');
    const readable = run('fg_install_config');
    expect(readable.status, readable.out).toBe(0);
    expect(readable.out).not.toContain('warning');
  });

  it('fg_purge: configuration, journal, drop-ins, the user and a fieldgate group userdel leaves behind are gone', () => {
    sh('useradd --system --gid nogroup --no-create-home fieldgate && mkdir -p /opt/fieldgate/config && touch /opt/fieldgate/config/example.yaml');
    expect(run('fg_ensure_user && fg_install_config').status).toBe(0);
    sh('echo unsent > /var/lib/fieldgate/buffer.db && mkdir -p /etc/systemd/system/fieldgate.service.d && touch /etc/systemd/system/fieldgate.service.d/site.conf');
    const r = run('fg_purge');
    expect(r.status, r.out).toBe(0);
    expect(r.out).not.toContain('could not');
    expect(host.run('getent passwd fieldgate').status).not.toBe(0);
    expect(host.run('getent group fieldgate').status).not.toBe(0);
    expect(sh('ls -d /etc/fieldgate /var/lib/fieldgate /etc/systemd/system/fieldgate.service.d 2>/dev/null | wc -l')).toBe('0');
  });

  it('fg_remove_link: removes a command link into the program directory only', () => {
    sh('mkdir -p /opt/other && ln -s /opt/fieldgate/bin/fieldgate.js /usr/local/bin/from-source'
      + ' && ln -s /opt/fieldgate/bin/fieldgate /usr/local/bin/from-tarball && ln -s /opt/fieldgate-2/bin/x /usr/local/bin/neighbour'
      + ' && ln -s /usr/bin/true /usr/local/bin/elsewhere && echo mine > /usr/local/bin/own');
    const r = run(['from-source', 'from-tarball', 'neighbour', 'elsewhere', 'own', 'absent'].map((n) => `fg_remove_link /usr/local/bin/${n}`).join('\n'));
    expect(r.status, r.out).toBe(0);
    expect(sh('ls /usr/local/bin').split('\n')).toEqual(['elsewhere', 'neighbour', 'own']);
  });

  it('fg_adopt_earlier_install (.deb postinst): sets aside the unit and command link of a source or tarball install', () => {
    sh('mkdir -p /etc/systemd/system && echo "[Service]" > /etc/systemd/system/fieldgate.service'
      + ' && ln -s /opt/fieldgate/bin/fieldgate.js /usr/local/bin/fieldgate');
    const r = run('fg_adopt_earlier_install');
    expect(r.status, r.out).toBe(0);
    expect(sh('ls /etc/systemd/system | grep fieldgate; ls /usr/local/bin | wc -l')).toBe('fieldgate.service.pre-package\n0');
  });

  it('fg_check_not_packaged: fails (with a reason) where dpkg lists the fieldgate package', () => {
    expect(run('fg_check_not_packaged').status).toBe(0);
    sh('mkdir -p /var/lib/dpkg/info && touch /var/lib/dpkg/info/fieldgate.list');
    const r = run('fg_check_not_packaged');
    expect(r.status).toBe(1);
    expect(r.out).toContain('the fieldgate .deb is installed; use apt/dpkg');
  });
});
