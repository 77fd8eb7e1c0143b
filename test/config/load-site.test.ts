// loadSite on real files: missing files, relative paths, password_file, the shipped example,
// defaults and secrets.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { loadSite } from '../../src/config/load-site.js';
import { SITE_DEFAULTS } from '../../src/config/defaults.js';
import { validateSiteText } from '../../src/config/validate-site.js';
import { drivers } from '../../drivers/index.js';
import { BASE, lines, problems, testDrivers, validate } from './site-fixtures.js';

const EXAMPLE = path.resolve(import.meta.dirname, '../../config/example.yaml');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-config-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

function loadError(file: string): ConfigError {
  try {
    loadSite(file, {}, testDrivers);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  expect.fail('expected loadSite to throw');
}

describe('loadSite', () => {
  it('reports a missing site file as a ConfigError', () => {
    const file = path.join(dir, 'missing.yaml');
    expect(loadError(file).format()).toBe(`${file}:1:1: the site file does not exist`);
  });

  it('reports a directory given as the site file', () => {
    expect(loadError(dir).format()).toBe(`${dir}:1:1: the site file is a directory`);
  });

  it('loads the shipped example with the sim driver only', () => {
    const site = loadSite(EXAMPLE, {}, drivers, { hostname: 'gw-test' });
    expect(site.file).toBe(EXAMPLE);
    expect(site.config.site).toBe('plant-7');
    expect(site.config.gateway).toBe('gw-test');
    expect(site.config.devices.map((d) => d.driver)).toEqual(['sim', 'sim']);
    expect(site.config.http).toBeUndefined(); // no port unless the operator opens one
    expect(site.secrets).toEqual([]);
  });

  it('resolves relative paths against the site file and reads password_file', () => {
    write('etc/secrets/pw', 'hunter2\n');
    write('etc/pki/ca.pem', 'not really a certificate');
    const file = write(
      'etc/site.yaml',
      lines(
        'site: s',
        'mqtt:',
        '  url: mqtts://broker:8883',
        '  username: gw',
        '  password_file: secrets/pw',
        '  tls: { ca: pki/ca.pem }',
        'buffer: { path: ../var/buffer.db }',
        'devices: [{ name: d, driver: sim, points: [{ name: p, signal: counter }] }]',
      ),
    );
    const site = loadSite(file, {}, drivers);
    expect(site.config.mqtt.password).toBe('hunter2');
    expect(site.config.mqtt.password_file).toBe(path.join(dir, 'etc/secrets/pw'));
    expect(site.config.mqtt.tls?.ca).toBe(path.join(dir, 'etc/pki/ca.pem'));
    expect(site.config.buffer?.path).toBe(path.join(dir, 'var/buffer.db'));
    expect(site.secrets).toEqual(['hunter2']);
  });

  it('reports a missing file relative to the site file with the full path', () => {
    const file = write('rel/site.yaml', lines('site: s', 'mqtt:', '  url: mqtt://b', '  password_file: pw.txt', 'devices: [{ name: d, driver: sim, points: [{ name: p, signal: counter }] }]'));
    expect(loadError(file).format()).toBe(`${file}:4:18: mqtt.password_file: file "pw.txt" (${path.join(dir, 'rel/pw.txt')}) does not exist`);
  });

  it('rejects an empty password file', () => {
    write('empty/pw', '\n');
    const file = write('empty/site.yaml', lines('site: s', 'mqtt:', '  url: mqtt://b', '  password_file: pw', 'devices: [{ name: d, driver: sim, points: [{ name: p, signal: counter }] }]'));
    expect(loadError(file).format()).toBe(`${file}:4:18: mqtt.password_file: the password file is empty`);
  });

  it('validateSiteText builds its own validator', () => {
    expect(validateSiteText(BASE, 'x.yaml', {}, drivers, { hostname: 'h' }).config.gateway).toBe('gw-01');
    expect(() => validateSiteText('site: [', 'x.yaml', {}, drivers)).toThrow(ConfigError);
  });
});

describe('defaults', () => {
  it('fills in every default', () => {
    const text = lines('site: p', 'mqtt: { url: "mqtt://b" }', 'devices: [{ name: d, driver: sim, points: [{ name: t, signal: sine }] }]');
    const { config } = validate(text, {}, { hostname: 'box' }, '/srv/site/site.yaml');
    expect(config.gateway).toBe('box');
    expect(config.mqtt).toEqual({
      url: 'mqtt://b',
      client_id: 'fieldgate-p-box',
      protocol_version: 4,
      qos: 1,
      keepalive: '30s',
      connect_timeout: '10s',
      status_topic: 'p/box/status',
      refused_retry: '1s',
    });
    expect(config.buffer).toEqual({
      path: '/srv/site/data/buffer.db',
      max_messages: 1_000_000,
      max_bytes: '256MiB',
      when_full: 'drop_oldest',
      inflight: 100,
      replay_rate: 0,
      synchronous: 'normal',
      sync_interval: '1s',
      commit_interval: '0s',
      memory_fallback: '16MiB',
      pack: false,
      max_pack: 100,
      max_pack_bytes: '64KiB',
    });
    expect(config.http).toBeUndefined();
    expect(config.topic).toBe(SITE_DEFAULTS.topic);
    expect(config.payload).toBe('json');
    expect(config.devices[0]).toEqual({
      name: 'd',
      driver: 'sim',
      interval: '1s',
      payload: 'json',
      payload_encoding: 'json',
      topic: '{site}/{device}/{point}',
      tags: {},
      // The sim driver's own defaults (value, amplitude, period) come with the core's.
      points: [{ name: 't', signal: 'sine', topic: '{site}/{device}/{point}', qos: 1, retain: false, value: 0, amplitude: 10, period: '60s' }],
    });
  });

  it('puts the buffer in $STATE_DIRECTORY under systemd', () => {
    const { config } = validate(BASE, { STATE_DIRECTORY: '/var/lib/fieldgate:/var/lib/other' });
    expect(config.buffer?.path).toBe('/var/lib/fieldgate/buffer.db');
  });

  it('lets devices and points inherit and override topic, payload and qos', () => {
    const text = lines(
      'site: p', 'mqtt: { url: "mqtt://b", qos: 2 }', 'topic: "t/{device}/{point}"', 'payload: value', 'devices:',
      '  - name: d', '    driver: sim', '    payload: json', '    topic: "dev/{point}"',
      '    points: [{ name: a, signal: sine }, { name: b, signal: sine, topic: "own/b", qos: 0 }]',
      '  - name: e', '    driver: sim', '    points: [{ name: c, signal: sine }]',
    );
    const [d, e] = validate(text).config.devices;
    expect(d!.payload).toBe('json');
    expect(d!.points.map((p) => [p.topic, p.qos])).toEqual([['dev/{point}', 2], ['own/b', 0]]);
    expect(e!.payload).toBe('value');
    expect(e!.points[0]!.topic).toBe('t/{device}/{point}');
  });

  it('renders client_id and status_topic at load time', () => {
    const text = BASE.replace('  url: mqtt://127.0.0.1:1883', '  url: mqtt://b\n  client_id: "x-{gateway}"\n  status_topic: "st/{site}"');
    const { mqtt } = validate(text).config;
    expect(mqtt.client_id).toBe('x-gw-01');
    expect(mqtt.status_topic).toBe('st/plant-7');
  });
});

describe('${VAR} expansion', () => {
  it('turns an unquoted reference into a number or boolean, and keeps quoted ones as text', () => {
    const text = lines(
      'site: ${SITE}', 'mqtt:', '  url: "mqtt://${HOST}:1883"', '  qos: ${QOS}', '  username: "${QOS}"', 'devices:',
      '  - name: d', '    driver: sim', '    points:', '      - name: p', '        signal: sine', '        retain: ${RETAIN}',
    );
    const { config } = validate(text, { SITE: 'x', HOST: 'broker', QOS: '2', RETAIN: 'true' });
    expect(config.site).toBe('x');
    expect(config.mqtt.url).toBe('mqtt://broker:1883');
    expect(config.mqtt.qos).toBe(2);
    expect(config.mqtt.username).toBe('2');
    expect(config.devices[0]!.points[0]!.retain).toBe(true);
  });

  it('keeps $${ as a literal and does not expand keys', () => {
    const text = BASE + '        unit: "$${not_a_var}"\n';
    expect(validate(text).config.devices[0]!.points[0]!.unit).toBe('${not_a_var}');
  });

  it('collects secrets: the password, values from ${VAR} under secret-like keys, URL passwords', () => {
    const text = lines('site: p', 'mqtt:', '  url: "mqtt://u:${URLPW}@b"', '  password: ${PW}', 'devices:', '  - { name: d, driver: sim, points: [{ name: p, signal: sine, unit: "${PW}" }] }');
    const site = validate(text, { PW: 'pw-value', URLPW: 'url-secret' });
    expect(site.secrets.sort()).toEqual(['pw-value', 'url-secret']);
  });

  it('reports a value from an unset variable once, without follow-up errors', () => {
    const text = lines('site: p', 'mqtt:', '  url: mqtt://b', '  password_file: ${CREDS}/pw', 'devices:', '  - { name: d, driver: sim, points: [{ name: p, signal: sine }] }');
    expect(problems(text)).toEqual(['site.yaml:4:18: environment variable CREDS is not set']);
  });
});
