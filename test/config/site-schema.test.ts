// The schema file for editors: committed copy is current, it is a valid strict schema, and it
// agrees with the validator on the shipped example and on typical typos.
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildSiteSchema, deviceSchemaFor, siteSchemaText } from '../../src/config/site-schema.js';
import { simDriver } from '../../drivers/sim/index.js';
import type { DriverFactory } from '../../src/driver-api/index.js';
import { drivers } from '../../drivers/index.js';
import { busDriver } from './site-fixtures.js';
import { addUnitKeywords } from '../../src/config/schema-units.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCHEMA_FILE = path.join(ROOT, 'schema/site.schema.json');

function editorAjv(): Ajv {
  return new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
}

describe('schema/site.schema.json', () => {
  it('matches buildSiteSchema(drivers)', () => {
    const expected = siteSchemaText(drivers);
    // Regenerate with: FIELDGATE_UPDATE_SCHEMA=1 npx vitest run test/config/site-schema.test.ts
    if (process.env.FIELDGATE_UPDATE_SCHEMA === '1') fs.writeFileSync(SCHEMA_FILE, expected);
    const committed = fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, 'utf8') : '';
    expect(
      committed === expected,
      'schema/site.schema.json is out of date; regenerate it with FIELDGATE_UPDATE_SCHEMA=1 npx vitest run test/config/site-schema.test.ts',
    ).toBe(true);
  });

  it('is a valid draft-07 schema under Ajv strict mode and accepts the example', () => {
    const validate = editorAjv().compile(buildSiteSchema(drivers));
    const example = parse(fs.readFileSync(path.join(ROOT, 'config/example.yaml'), 'utf8')) as unknown;
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
  });

  it('flags typos per driver through if/then', () => {
    const validate = editorAjv().compile(buildSiteSchema([simDriver as unknown as DriverFactory, busDriver as unknown as DriverFactory]));
    const site = {
      site: 's',
      mqtt: { url: 'mqtt://b' },
      devices: [
        { name: 'a', driver: 'sim', intervall: '1s', points: [{ name: 'p', signal: 'sine' }] },
        { name: 'b', driver: 'bus', port: '/dev/ttyS0', points: [{ name: 'q', register: 1, signal: 'sine' }] },
        { name: 'c', driver: 'sim', interval: '5 seconds', points: [{ name: 'r', signal: 'sinus' }] },
      ],
    };
    expect(validate(site)).toBe(false);
    const found = (validate.errors ?? [])
      .filter((e) => e.keyword !== 'if')
      .map((e) => `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`);
    expect(found).toEqual(
      expect.arrayContaining([
        '/devices/0 additionalProperties {"additionalProperty":"intervall"}',
        '/devices/1/points/0 additionalProperties {"additionalProperty":"signal"}',
        '/devices/2/interval pattern {"pattern":"^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h|d))+$"}',
        '/devices/2/points/0/signal enum {"allowedValues":["counter","sine","random","constant"]}',
      ]),
    );
  });

  it('describes every key', () => {
    const missing: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}/${i}`));
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'properties') {
          for (const [prop, schema] of Object.entries(value as Record<string, { description?: string }>)) {
            if (!schema.description) missing.push(`${where}/properties/${prop}`);
          }
        }
        walk(value, `${where}/${key}`);
      }
    };
    // Only the core and the sim driver here; other drivers' descriptions are their owners' business.
    walk(buildSiteSchema([simDriver as unknown as DriverFactory]), '#');
    expect(missing.filter((m) => !m.includes('/if/'))).toEqual([]);
  });

  it("compiles every listed driver's device schema in strict mode", () => {
    const ajv = editorAjv();
    addUnitKeywords(ajv);
    for (const driver of drivers) expect(() => ajv.compile(deviceSchemaFor(driver)), driver.type).not.toThrow();
  });
});
