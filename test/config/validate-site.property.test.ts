// Whatever text it gets, validation either returns a site or throws a ConfigError with proper
// positions: never a TypeError from a half-valid file, never a crash in the YAML layer.
// validateSiteText is `new SiteValidator(drivers).validate(…)`; most runs reuse one validator,
// which is faster and also shows that one validation leaves nothing behind for the next.
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { SiteValidator, validateSiteText } from '../../src/config/validate-site.js';
import { testDrivers } from './site-fixtures.js';

// Fixed seeds keep the suite deterministic; change them to explore other inputs.
const ENV = { SET: 'value', NUM: '5', EMPTY: '' };

const shared = new SiteValidator(testDrivers);

function outcome(text: string, fresh = false): 'valid' | 'invalid' {
  try {
    const site = fresh
      ? validateSiteText(text, 'fuzz.yaml', ENV, testDrivers, { hostname: 'fuzz-host' })
      : shared.validate(text, 'fuzz.yaml', ENV, { hostname: 'fuzz-host' });
    expect(site.config.devices.length).toBeGreaterThan(0);
    return 'valid';
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    expect(err.issues.length).toBeGreaterThan(0);
    const lineCount = text.split('\n').length;
    for (const issue of err.issues) {
      expect(issue.file).toBe('fuzz.yaml');
      expect(issue.line).toBeGreaterThanOrEqual(1);
      expect(issue.line).toBeLessThanOrEqual(lineCount + 1);
      expect(issue.col).toBeGreaterThanOrEqual(1);
      expect(issue.message.length).toBeGreaterThan(0);
    }
    return 'invalid';
  }
}

const KEYS = [
  'site', 'gateway', 'mqtt', 'url', 'urls', 'qos', 'tls', 'ca', 'cert', 'key', 'password', 'password_file',
  'buffer', 'max_bytes', 'inflight', 'http', 'listen', 'topic', 'payload', 'devices', 'name', 'driver',
  'interval', 'tags', 'points', 'signal', 'value', 'min', 'max', 'writable', 'port', 'baud', 'register',
  '__proto__', 'constructor',
];
const VALUES = [
  'sim', 'bus', 'sine', 'constant', 'mqtt://h', 'mqtts://h:8883', '1s', '0s', '5 seconds', '256MiB', '1', '-3', '2.5',
  'true', 'null', '~', '"{site}/{device}/{point}"', '"{nope}"', '${SET}', '${UNSET}', '$${SET}', '${NUM}', '${EMPTY}',
  '&a x', '*a', '*b', '[a, b]', '{ a: 1 }', '[', '{', '"', "'", '|', '>', '!!binary AAAA', '!tag x', '.nan', '.inf',
  '/dev/ttyS0', '/nonexistent', '#',
];

const yamlishLine = fc
  .tuple(
    fc.integer({ min: 0, max: 8 }),
    fc.constantFrom('', '- '),
    fc.constantFrom(...KEYS),
    fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 6 })),
  )
  .map(([indent, dash, key, value]) => `${' '.repeat(indent)}${dash}${key}: ${value}`);

const yamlishText = fc.array(fc.oneof({ weight: 6, arbitrary: yamlishLine }, fc.string({ maxLength: 20 })), { maxLength: 25 }).map((rows) => rows.join('\n'));

const SPOTS: readonly (readonly (string | number)[])[] = [
  ['site'], ['gateway'], ['mqtt'], ['mqtt', 'url'], ['mqtt', 'urls'], ['mqtt', 'qos'], ['mqtt', 'tls'],
  ['mqtt', 'password_file'], ['mqtt', 'client_id'], ['mqtt', 'status_topic'], ['buffer'], ['buffer', 'max_bytes'],
  ['http'], ['topic'], ['payload'], ['devices'], ['devices', 0], ['devices', 0, 'name'], ['devices', 0, 'driver'],
  ['devices', 0, 'interval'], ['devices', 0, 'tags'], ['devices', 0, 'points'], ['devices', 0, 'points', 0],
  ['devices', 0, 'points', 0, 'name'], ['devices', 0, 'points', 0, 'signal'], ['devices', 0, 'points', 0, 'min'],
  ['devices', 0, 'points', 0, 'topic'], ['devices', 1], ['devices', 1, 'port'], ['devices', 0, 'topic'],
];
const EDGE_VALUES: readonly unknown[] = [null, '', 0, -1, 1.5, true, [], {}, [null], { name: null }, 'sim', '{site}/{x}', '#'];

/** A valid site (sim + fake bus device) with the value at `where` replaced. */
function siteWith(where: readonly (string | number)[], value: unknown): string {
  const site: Record<string, unknown> = {
    site: 'p',
    mqtt: { url: 'mqtt://h' },
    buffer: { max_bytes: '1MiB' },
    devices: [
      { name: 'a', driver: 'sim', points: [{ name: 't', signal: 'sine' }] },
      { name: 'b', driver: 'bus', port: '/dev/ttyS0', points: [{ name: 'r', register: 1 }] },
    ],
  };
  let target: Record<string | number, unknown> = site;
  for (const step of where.slice(0, -1)) target = target[step] as Record<string | number, unknown>;
  target[where.at(-1)!] = value;
  return stringify(site);
}

const mutatedSite = fc
  .tuple(
    fc.constantFrom(...SPOTS),
    fc.oneof(fc.constantFrom(...EDGE_VALUES, 'bus', '1s', 'mqtts://h', '$x', '+'), fc.jsonValue({ maxDepth: 3 })),
  )
  .map(([where, value]) => siteWith(where, value));

describe('validateSiteText never fails in an unexpected way', () => {
  it('on YAML-ish text', () => {
    fc.assert(fc.property(yamlishText, (text) => void outcome(text)), { numRuns: 400, seed: 1101 });
  });

  it('on valid sites with one value replaced by random data', () => {
    const seen = { valid: 0, invalid: 0 };
    fc.assert(fc.property(mutatedSite, (text) => void seen[outcome(text)]++), { numRuns: 400, seed: 2202 });
    // Both branches must be exercised, or the property says little.
    expect(seen.valid).toBeGreaterThan(0);
    expect(seen.invalid).toBeGreaterThan(0);
  });

  it('on every spot of a valid site set to every edge value', () => {
    for (const where of SPOTS) for (const value of EDGE_VALUES) outcome(siteWith(where, value));
  });

  it('on random JSON values dumped to YAML', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => void outcome(stringify(value))), { numRuns: 300, seed: 3303 });
  });

  it('with a fresh validator per call (validateSiteText itself)', () => {
    fc.assert(fc.property(fc.oneof(yamlishText, mutatedSite), (text) => void outcome(text, true)), { numRuns: 40, seed: 4404 });
  });
});
