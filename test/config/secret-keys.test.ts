// Every part of site-file loading that hides values by the name of their key uses isSecretKey:
// the schema's messages, the scrubbing of finished messages, and the ${VAR} values handed to the
// log redactor. The schemas agree with it, so a driver cannot add a secret it does not name.
import { describe, expect, it } from 'vitest';
import { drivers } from '../../drivers/index.js';
import type { DeviceConfigBase, DriverDescriptor, DriverFactory } from '../../src/driver-api/index.js';
import { ConfigError } from '../../src/config/config-error.js';
import { buildSiteSchema, profileSchemaText } from '../../src/config/site-schema.js';
import { parseSource } from '../../src/config/yaml-source.js';
import { SiteValidator } from '../../src/config/validate-site.js';
import { isSecretKey } from '../../src/util/is-secret-key.js';
import { lines, problems } from './site-fixtures.js';

const SIM = ['devices:', '  - name: sim1', '    driver: sim', '    points:', '      - name: temp', '        signal: sine'];
const WORD_SECRET = 'Tr0ub4dor-3';

interface LockDevice extends DeviceConfigBase {
  bindkey?: string;
  psk?: string;
}

/** A driver whose devices carry key material under names isSecretKey knows (and no writeOnly). */
const lockDriver: DriverFactory<LockDevice> = {
  type: 'lock',
  description: 'fake driver with secret device fields',
  deviceSchema: {
    properties: {
      bindkey: { type: 'string', pattern: '^[0-9a-f]{32}$' },
      psk: { type: 'string', pattern: '^[ -~]{8,63}$' },
    },
  },
  pointSchema: { properties: {} },
  polled: () => true,
  resources: () => [],
  create: () => {
    throw new Error('not used in config tests');
  },
};

const validator = new SiteValidator([...drivers, lockDriver as unknown as DriverDescriptor]);

function errorsOf(text: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    validator.validate(text, 'site.yaml', env, { hostname: 'h' });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  return expect.fail('expected the site file to be invalid');
}

/** Every property name in a schema with whether it is marked writeOnly, wherever it is nested. */
function properties(schema: unknown, out: Map<string, Set<boolean>> = new Map()): Map<string, Set<boolean>> {
  if (Array.isArray(schema)) {
    for (const s of schema) properties(s, out);
  } else if (schema !== null && typeof schema === 'object') {
    const props = (schema as { properties?: unknown }).properties;
    if (props !== null && typeof props === 'object' && !Array.isArray(props)) {
      for (const [name, sub] of Object.entries(props)) {
        const set = out.get(name) ?? new Set<boolean>();
        set.add((sub as { writeOnly?: unknown }).writeOnly === true);
        out.set(name, set);
      }
    }
    for (const v of Object.values(schema)) properties(v, out);
  }
  return out;
}

describe('secret key names in the site file', () => {
  it('the schemas (core and every shipped driver) mark writeOnly exactly the keys isSecretKey names', () => {
    const found = properties([buildSiteSchema(drivers), JSON.parse(profileSchemaText(drivers))]);
    expect(found.get('password')).toEqual(new Set([true]));
    expect(found.get('key')).toEqual(new Set([false])); // mqtt.tls.key: a file path
    expect(found.get('public_key')).toEqual(new Set([false]));
    const disagree = [...found].filter(([name, marks]) => marks.size !== 1 || marks.has(true) !== isSecretKey(name));
    expect(disagree.map(([name]) => name)).toEqual([]);
  });

  it.each([
    ['a driver field named bindkey', ['  - name: door', '    driver: lock', '    bindkey: zz', '    points: []']],
    ['a driver field named psk', ['  - name: door', '    driver: lock', '    psk: zz', '    points: []']],
  ])('%s: the schema message does not quote the value, however short', (_name, device) => {
    const err = errorsOf(lines('site: s', 'mqtt:', '  url: mqtt://127.0.0.1', 'devices:', ...device));
    expect(err.format()).toContain('(not shown');
    expect(err.format()).not.toMatch(/"zz"/);
  });

  it.each(['psk', 'passphrase', 'bindkey', 'api_key', 'apiKey', 'passkey'])(
    'a value written under %s is scrubbed from every message, like one under password',
    (name) => {
      const err = errorsOf(lines('site: s', 'mqtt:', '  url: mqtt://127.0.0.1', `  ${name}: ${WORD_SECRET}`, `  qos: "${WORD_SECRET}"`, ...SIM));
      expect(err.format()).toMatch(/mqtt\.qos: "\*\*\*" is not one of 0, 1, 2/);
      expect(err.format()).not.toContain(WORD_SECRET);
      expect(err.secrets).toContain(WORD_SECRET);
    },
  );

  it.each(['psk', 'passphrase', 'password'])('a ${VAR} under %s is a secret even where the value reads as a number', (name) => {
    // `007123` becomes the number 7123: only the text from the environment is the secret as written.
    const source = parseSource(lines(`${name}: \${S}`, 'list:', `  ${name}: [\${S}]`), { S: '007123' });
    expect(source.envSecrets).toEqual(['007123', '007123']);
  });

  it('file paths under key and public_key are not secrets, from ${VAR} or written', () => {
    const source = parseSource(lines('tls:', '  key: ${K}', 'remote_config:', '  public_key: ${P}'), { K: 'client.key', P: 'signer.pem' });
    expect(source.envSecrets).toEqual([]);
    // A message may name the file it could not read, however the path was given.
    const text = lines('site: s', 'mqtt:', '  url: mqtts://127.0.0.1', '  tls:', '    cert: ${C}', '    key: ${K}', ...SIM);
    const shown = problems(text, { C: '/nonexistent/fieldgate-client.crt', K: '/nonexistent/fieldgate-client.key' }).join('\n');
    expect(shown).toContain('/nonexistent/fieldgate-client.key');
  });
});
