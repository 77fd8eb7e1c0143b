// No problem report quotes a secret: not the value of a secret key (written, from ${VAR}, or read
// from password_file), not the password inside a broker URL — whichever check echoes the value.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { lines, problems, validate } from './site-fixtures.js';

const SIM = ['devices:', '  - name: sim1', '    driver: sim', '    points:', '      - name: temp', '        signal: sine'];
const SECRET = '84736251';
const WORD_SECRET = 'Tr0ub4dor-3';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-secret-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function errorsOf(text: string, env: NodeJS.ProcessEnv = {}, file = 'site.yaml'): ConfigError {
  try {
    validate(text, env, { hostname: 'h' }, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  return expect.fail('expected the site file to be invalid');
}

describe('secrets in validation errors', () => {
  it.each<[string, string[], NodeJS.ProcessEnv]>([
    ['a numeric password from ${VAR}', ['site: s', 'mqtt:', '  url: mqtt://127.0.0.1', '  password: ${P}', ...SIM], { P: SECRET }],
    ['a numeric password written in the file', ['site: s', 'mqtt:', '  url: mqtt://127.0.0.1', `  password: ${SECRET}`, ...SIM], {}],
    ['a password given as a list', ['site: s', 'mqtt:', '  url: mqtt://127.0.0.1', `  password: [${SECRET}]`, ...SIM], {}],
    ['a URL password in a URL that does not parse', ['site: s', 'mqtt:', `  url: "mqtt://gw:${WORD_SECRET} x@host name"`, ...SIM], {}],
    ['a URL password in a non-MQTT URL', ['site: s', 'mqtt:', `  url: "http://gw:${WORD_SECRET}@host"`, ...SIM], {}],
    ['a URL password in mqtt:// with a tls block', ['site: s', 'mqtt:', `  url: "mqtt://gw:${WORD_SECRET}@host"`, '  tls: { servername: x }', ...SIM], {}],
    ['a URL password in urls written as text instead of a list', ['site: s', 'mqtt:', `  urls: "mqtt://gw:${WORD_SECRET}@host"`, ...SIM], {}],
    ['a URL password in a ${VAR} URL', ['site: s', 'mqtt:', '  urls: [ "${U}" ]', '  tls: { servername: x }', ...SIM], { U: `mqtt://gw:${WORD_SECRET}@host` }],
    ['a URL password echoed by an unrelated check', ['site: s', `payload: "mqtt://gw:${WORD_SECRET}@h"`, 'mqtt:', '  url: mqtt://127.0.0.1', ...SIM], {}],
    ['a secret reused as another value', ['site: s', 'mqtt:', '  url: mqtt://127.0.0.1', '  password: ${P}', `  qos: "${WORD_SECRET}"`, ...SIM], { P: WORD_SECRET }],
  ])('%s is never quoted', (_name, rows, env) => {
    const err = errorsOf(lines(...rows), env);
    expect(err.issues.length).toBeGreaterThan(0);
    for (const text of [err.format(), err.message]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(WORD_SECRET);
    }
  });

  it('says what is wrong without the value', () => {
    const text = lines('site: s', 'mqtt:', '  url: mqtt://127.0.0.1', '  password: ${P}', ...SIM);
    expect(problems(text, { P: SECRET })).toEqual(['site.yaml:4:13: mqtt.password: expected text, got a number (not shown: it is a secret)']);
    const url = lines('site: s', 'mqtt:', `  url: "http://gw:${WORD_SECRET}@host"`, ...SIM);
    expect(problems(url)).toEqual([
      'site.yaml:3:8: mqtt.url: "http://gw:***@host" is not an MQTT broker URL (use mqtt://host:1883, or mqtts://host:8883 for TLS)',
    ]);
  });

  it('the contents of password_file are never quoted either', () => {
    fs.writeFileSync(path.join(dir, 'pw'), `${WORD_SECRET}\n`);
    const text = lines('site: s', 'mqtt:', '  url: mqtt://127.0.0.1', '  password_file: pw', `  qos: "${WORD_SECRET}"`, ...SIM);
    const err = errorsOf(text, {}, path.join(dir, 'site.yaml'));
    expect(err.format()).toMatch(/mqtt\.qos: "\*\*\*" is not one of 0, 1, 2/);
    expect(err.format()).not.toContain(WORD_SECRET);
  });

  it('an invalid file carries its secrets (not enumerable) for the log redactor', () => {
    const err = errorsOf(lines('site: s', 'mqtt:', `  url: "http://gw:${WORD_SECRET}@host"`, '  password: ${P}', ...SIM), { P: SECRET });
    expect(err.secrets).toEqual(expect.arrayContaining([SECRET, WORD_SECRET]));
    expect(Object.keys(err)).not.toContain('secrets');
    expect(JSON.stringify(err)).not.toContain(WORD_SECRET);
  });
});
