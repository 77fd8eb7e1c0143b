// The amd64 .deb (and the tarball's install.sh) on a real systemd: ../shared/tools/systemd-box boots
// systemd as PID 1 of a throw-away container over a copy-on-write view of this machine. The system's
// own node is hidden first, so everything below runs on the package's bundled runtime. The example
// site file (sim devices, broker mqtt://127.0.0.1:1883) talks to a mosquitto inside the container.
// Sequence: install → readings arrive → operator edits the site file → upgrade to a newer package
// (service restarted on the new version, edits kept, journal kept: seq continues) → remove (stopped,
// configuration and journal kept) → purge (both gone, user gone) → tarball install.sh and uninstall.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtTree, debPath, releaseDir, repo, requireArtifacts, sh, tarballPath, version } from './release-kit.js';

const BOX = process.env.FIELDGATE_SYSTEMD_BOX ?? path.resolve(repo, '../shared/tools/systemd-box');
const UPGRADE_VERSION = `${version}+upgrade1`;
let tmp: string;
let upgradeDeb: string;

/** Runs a bash command line inside the container; returns stdout, fails the test on a non-zero exit. */
function box(cmd: string, opts: { allowFail?: boolean; timeout?: number } = {}): string {
  const r = spawnSync(BOX, ['exec', 'bash', '-c', cmd], { encoding: 'utf8', timeout: opts.timeout ?? 120_000 });
  if (!opts.allowFail && r.status !== 0) throw new Error(`in systemd-box: ${cmd}\nexit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}
const boxStatus = (cmd: string): number | null => spawnSync(BOX, ['exec', 'bash', '-c', cmd], { encoding: 'utf8', timeout: 60_000 }).status;

/** The data readings (not retained, not status) the gateway publishes in the next few seconds. */
function readings(count: number): { topic: string; seq: number }[] {
  // -F: retain flag, topic, payload; -C stops after `count` messages, -W gives up after 60 s.
  const out = box(`mosquitto_sub -h 127.0.0.1 -t 'plant-7/#' -F '%r %t %p' -C ${count + 10} -W 60 -q 1`, { allowFail: true, timeout: 90_000 });
  return out.split('\n').flatMap((line) => {
    const m = /^0 (\S+) (\{.*\})$/.exec(line);
    if (!m) return [];
    const payload = JSON.parse(m[2]!) as { seq?: number };
    return payload.seq === undefined ? [] : [{ topic: m[1]!, seq: payload.seq }];
  });
}
const mainPid = (): string => box('systemctl show -p MainPID --value fieldgate');

async function waitFor(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${box('journalctl -u fieldgate --no-pager -n 30', { allowFail: true })}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  requireArtifacts();
  if (!existsSync(BOX)) throw new Error(`systemd-box not found at ${BOX}`);
  // Under the release folder, not /tmp: the container mounts its own /tmp.
  tmp = mkdtempSync(path.join(releaseDir, 'work', 'box-'));
  // A newer package from the same build: its example site file differs, so an upgrade that
  // rewrote the operator's file would show.
  const tree = path.join(tmp, 'fieldgate');
  cpSync(builtTree('amd64'), tree, { recursive: true, verbatimSymlinks: true });
  const pkgFile = path.join(tree, 'package.json');
  writeFileSync(pkgFile, JSON.stringify({ ...JSON.parse(readFileSync(pkgFile, 'utf8')), version: UPGRADE_VERSION }, null, 2));
  appendFileSync(path.join(tree, 'config/example.yaml'), '# example of the upgrade package\n');
  const made = sh(path.join(repo, 'packaging/lib/make-deb.sh'), [tree, UPGRADE_VERSION, 'amd64', tmp], { timeout: 300_000 });
  expect(made.status, made.stderr).toBe(0);
  upgradeDeb = path.join(tmp, `fieldgate_${UPGRADE_VERSION}_amd64.deb`);
  // Only one box can run on the machine: wait for someone else's to finish rather than share it.
  const end = Date.now() + 300_000;
  while (existsSync('/run/systemd-box/pid1')) {
    if (Date.now() > end) throw new Error('another systemd-box has been running for 5 minutes; not sharing it');
    await new Promise((r) => setTimeout(r, 2000));
  }
  const start = spawnSync(BOX, ['start'], { encoding: 'utf8', timeout: 180_000 });
  expect(start.status, start.stdout + start.stderr).toBe(0);
  box('systemctl start mosquitto && mv /usr/bin/node /usr/bin/node.hidden && ! command -v node');
}, 600_000);

afterAll(() => {
  spawnSync(BOX, ['stop'], { encoding: 'utf8', timeout: 120_000 });
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the amd64 .deb under systemd', () => {
  let seqBeforeUpgrade = 0;

  it('installs with dpkg -i: user, groups, site file, enabled and running on the bundled runtime; readings arrive', async () => {
    box(`dpkg -i ${debPath('amd64')}`, { timeout: 300_000 });
    expect(box('systemctl is-enabled fieldgate')).toBe('enabled');
    await waitFor('fieldgate active', () => boxStatus('systemctl is-active --quiet fieldgate') === 0);
    expect(box(`readlink /proc/${mainPid()}/exe`)).toBe('/opt/fieldgate/node/bin/node');
    // The launcher's memory settings reach the service (docs/performance.md, "Memory footprint").
    expect(box(`tr '\\0' ' ' < /proc/${mainPid()}/cmdline`)).toMatch(/--max-semi-space-size=1 --optimize-for-size --v8-pool-size=1 \/opt\/fieldgate\/bin\/fieldgate\.js run/);
    expect(box(`tr '\\0' '\\n' < /proc/${mainPid()}/environ | grep ^MALLOC_ARENA_MAX=`)).toBe('MALLOC_ARENA_MAX=2');
    expect(box('command -v fieldgate')).toBe('/usr/bin/fieldgate');
    expect(box('fieldgate --version')).toBe(version);
    expect(box('id -nG fieldgate').split(' ').sort()).toEqual(['bluetooth', 'dialout', 'fieldgate']);
    expect(box('stat -c "%U:%G %a" /etc/fieldgate /etc/fieldgate/config.yaml /etc/fieldgate/env /var/lib/fieldgate').split('\n'))
      .toEqual(['root:fieldgate 750', 'root:fieldgate 640', 'root:fieldgate 640', 'fieldgate:fieldgate 750']);
    expect(box('cmp /opt/fieldgate/config/example.yaml /etc/fieldgate/config.yaml && echo same')).toBe('same');
    expect(box('runuser -u fieldgate -- fieldgate validate -c /etc/fieldgate/config.yaml')).toContain('valid');
    const got = readings(5);
    expect(got.length).toBeGreaterThanOrEqual(5);
    seqBeforeUpgrade = Math.max(...got.map((r) => r.seq));
  });

  it('upgrade with dpkg -i: restarted on the new version, the operator\'s site file and the journal kept (seq continues)', async () => {
    box("sed -i 's/^site: plant-7$/site: plant-7   # edited by the operator/' /etc/fieldgate/config.yaml");
    const pidBefore = mainPid();
    const seqs = readings(3).map((r) => r.seq);
    seqBeforeUpgrade = Math.max(seqBeforeUpgrade, ...seqs);
    box(`dpkg -i ${upgradeDeb}`, { timeout: 300_000 });
    await waitFor('fieldgate active after the upgrade', () => boxStatus('systemctl is-active --quiet fieldgate') === 0);
    expect(mainPid()).not.toBe(pidBefore);
    expect(box('fieldgate --version')).toBe(UPGRADE_VERSION);
    expect(box(`dpkg-query -W -f '\${Version}' fieldgate`)).toBe(UPGRADE_VERSION);
    const site = box('cat /etc/fieldgate/config.yaml');
    expect(site).toContain('# edited by the operator');
    expect(site).not.toContain('example of the upgrade package');
    // The new process reopened the same journal: its "journal open" line carries the last seq
    // of the old one, and what it publishes now continues above everything seen before.
    const opened = box(`journalctl -u fieldgate -o cat --no-pager | grep '"journal open"' | tail -1`);
    expect(Number((JSON.parse(opened) as { lastSeq: number }).lastSeq)).toBeGreaterThanOrEqual(seqBeforeUpgrade);
    const after = readings(5);
    expect(after.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...after.map((r) => r.seq))).toBeGreaterThan(seqBeforeUpgrade);
  });

  it('apt-get remove stops the service and keeps configuration and journal', () => {
    box('apt-get remove -y -q fieldgate', { timeout: 180_000 });
    expect(boxStatus('systemctl is-active --quiet fieldgate')).not.toBe(0);
    expect(box('test ! -e /opt/fieldgate && test ! -e /usr/bin/fieldgate && echo gone')).toBe('gone');
    expect(box('cat /etc/fieldgate/config.yaml')).toContain('# edited by the operator');
    expect(box('test -s /var/lib/fieldgate/buffer.db && echo kept')).toBe('kept');
    expect(box("dpkg-query -W -f '${db:Status-Status}' fieldgate")).toBe('config-files');
  });

  it('purge removes configuration, journal and the user', () => {
    box('apt-get purge -y -q fieldgate', { timeout: 180_000 });
    expect(box('test ! -e /etc/fieldgate && test ! -e /var/lib/fieldgate && echo gone')).toBe('gone');
    expect(boxStatus('getent passwd fieldgate')).not.toBe(0);
    expect(boxStatus('dpkg-query -W fieldgate 2>/dev/null | grep -q .')).not.toBe(0);
  });

  it('the tarball\'s install.sh installs and starts the same service; --uninstall --purge removes it', async () => {
    box(`mkdir -p /root/fg && tar xzf ${tarballPath('amd64')} -C /root/fg && /root/fg/fieldgate-${version}-linux-amd64/install.sh`, { timeout: 300_000 });
    await waitFor('fieldgate active (tarball)', () => boxStatus('systemctl is-active --quiet fieldgate') === 0);
    expect(box(`readlink /proc/${mainPid()}/exe`)).toBe('/opt/fieldgate/node/bin/node');
    expect(box('readlink /usr/local/bin/fieldgate')).toBe('/opt/fieldgate/bin/fieldgate');
    expect(readings(3).length).toBeGreaterThanOrEqual(3);
    box(`/root/fg/fieldgate-${version}-linux-amd64/install.sh --uninstall --purge`);
    expect(boxStatus('systemctl is-active --quiet fieldgate')).not.toBe(0);
    expect(box('test ! -e /opt/fieldgate && test ! -e /etc/fieldgate && test ! -e /var/lib/fieldgate && test ! -e /etc/systemd/system/fieldgate.service && echo gone')).toBe('gone');
  });
});
