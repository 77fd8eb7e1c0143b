// Bad input never crashes or hangs the validator: a huge list of errors is capped and counted,
// files named in the site file must be small regular files (a FIFO or /dev/zero is refused at
// once), and the site file itself is size-capped.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { loadSite } from '../../src/config/load-site.js';
import { SITE_FILE_MAX_BYTES } from '../../src/config/file-limits.js';
import { testDrivers, validate } from './site-fixtures.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-hostile-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SIM = 'devices:\n  - name: a\n    driver: sim\n    points: [ { name: t, signal: sine } ]\n';

function loadErrors(text: string, name = 'site.yaml'): string[] {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  try {
    loadSite(file, {}, testDrivers, { hostname: 'h' });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).format().split('\n');
  }
  return expect.fail('expected the site file to be invalid');
}

describe('hostile site files', () => {
  it('thousands of unknown keys: the first 100 listed and the rest counted', () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `  k${i}: 1\n`).join('');
    let err: unknown;
    try {
      validate(`site: s\nmqtt:\n  url: mqtt://127.0.0.1\n${keys}${SIM}`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const shown = (err as ConfigError).format().split('\n');
    expect((err as ConfigError).issues).toHaveLength(10_000);
    expect(shown).toHaveLength(101);
    expect(shown[0]).toBe("site.yaml:4:3: mqtt: unknown key 'k0'");
    expect(shown[100]).toBe('… and 9900 more problems (10000 in all)');
    expect((err as ConfigError).message.split('\n')).toHaveLength(102);
  }, 20_000);

  // 130,000 errors spread into push(...) overflowed the stack (exit 70). Parsing that many keys
  // takes seconds, so the class is guarded where it starts: no call in src/ or drivers/ spreads
  // an array into its arguments.
  it('no source file spreads a list into call arguments (push(...x), Math.max(...x))', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const offenders: string[] = [];
    const walk = (d: string): void => {
      for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
        const full = path.join(d, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.ts')) {
          fs.readFileSync(full, 'utf8').split('\n').forEach((line, i) => {
            if (/^\s*(\/\/|\*)/.test(line)) return;
            if (/\b(push|unshift|max|min|fromCharCode|concat)\(\s*(?:[^()]*,\s*)?\.\.\./.test(line)) offenders.push(`${path.relative(root, full)}:${i + 1}`);
          });
        }
      }
    };
    for (const d of ['src', 'drivers']) walk(path.join(root, d));
    expect(offenders).toEqual([]);
  });

  it('refuses a site file above the size cap without parsing it', () => {
    const text = `site: s\n# ${'x'.repeat(SITE_FILE_MAX_BYTES)}\n`;
    expect(loadErrors(text, 'huge.yaml')).toEqual([`${path.join(dir, 'huge.yaml')}:1:1: the site file is larger than 4MiB, more than such a file can hold`]);
  });

  it('refuses a FIFO as the site file at once', () => {
    const fifo = path.join(dir, 'site.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => loadSite(fifo, {}, testDrivers)).toThrow(/the site file is a FIFO \(named pipe\), not a regular file/);
  });

  it.each([
    ['password_file: /dev/zero', '  password_file: /dev/zero', '4:18: mqtt.password_file: file "/dev/zero" is a device, not a regular file'],
    ['password_file: a FIFO', '  password_file: pw.fifo', `4:18: mqtt.password_file: file "pw.fifo" (${path.join(dir, 'pw.fifo')}) is a FIFO (named pipe), not a regular file`],
    ['tls.ca: a FIFO', '  tls: { ca: ca.fifo }', `4:14: mqtt.tls.ca: file "ca.fifo" (${path.join(dir, 'ca.fifo')}) is a FIFO (named pipe), not a regular file`],
    ['tls.cert: a device', '  tls: { cert: /dev/zero, key: /dev/null }', '4:16: mqtt.tls.cert: file "/dev/zero" is a device, not a regular file'],
    ['a 100 KiB password file', '  password_file: big.pw', `4:18: mqtt.password_file: file "big.pw" (${path.join(dir, 'big.pw')}) is larger than 64KiB, more than such a file can hold`],
    ['a 2 MiB CA file', '  tls: { ca: big.pem }', `4:14: mqtt.tls.ca: file "big.pem" (${path.join(dir, 'big.pem')}) is larger than 1MiB, more than such a file can hold`],
  ])('refuses %s, without blocking or reading it whole', (_name, line, expected) => {
    for (const f of ['pw.fifo', 'ca.fifo']) if (!fs.existsSync(path.join(dir, f))) execFileSync('mkfifo', [path.join(dir, f)]);
    fs.writeFileSync(path.join(dir, 'big.pw'), 'p'.repeat(100 * 1024));
    fs.writeFileSync(path.join(dir, 'big.pem'), 'c'.repeat(2 * 1024 * 1024));
    const url = line.includes('tls') ? 'mqtts://127.0.0.1' : 'mqtt://127.0.0.1';
    const errors = loadErrors(`site: s\nmqtt:\n  url: ${url}\n${line}\n${SIM}`);
    expect(errors).toContain(`${path.join(dir, 'site.yaml')}:${expected}`);
  });
});
