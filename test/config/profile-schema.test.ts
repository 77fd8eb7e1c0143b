// The editors' schema for profiles: schema/profile.schema.json is current and strict, accepts a
// profile and flags typos; the site schema accepts profiled and fanned-out devices.
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildSiteSchema, profileSchemaText } from '../../src/config/site-schema.js';
import { drivers } from '../../drivers/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCHEMA_FILE = path.join(ROOT, 'schema/profile.schema.json');
const ajv = () => new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const errorsOf = (validate: ReturnType<Ajv['compile']>) =>
  (validate.errors ?? []).filter((e) => !['if', 'anyOf'].includes(e.keyword)).map((e) => `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`);

describe('schema/profile.schema.json', () => {
  it('matches profileSchemaText(drivers)', () => {
    const expected = profileSchemaText(drivers);
    // Regenerate with: FIELDGATE_UPDATE_SCHEMA=1 npx vitest run test/config/profile-schema.test.ts
    if (process.env.FIELDGATE_UPDATE_SCHEMA === '1') fs.writeFileSync(SCHEMA_FILE, expected);
    const committed = fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, 'utf8') : '';
    expect(committed === expected, 'schema/profile.schema.json is out of date; regenerate it with FIELDGATE_UPDATE_SCHEMA=1 npx vitest run test/config/profile-schema.test.ts').toBe(true);
  });

  it('accepts a profile and flags typos in it', () => {
    const validate = ajv().compile(JSON.parse(profileSchemaText(drivers)) as object);
    const good = parse(`version: "1.0"
driver: modbus
timeout: 500ms
identify: { product: "SDM630", registers: [{ table: holding, address: 64515, equals: 112 }] }
points:
  - { name: voltage, table: input, address: 0, type: float32, unit: V }
`);
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true);
    const child = parse('extends: base\npoints_omit: [a]\noverrides: { "*": { heartbeat: 60s }, v: { deadband: 1 } }\n');
    expect(validate(child), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(parse('driver: modbus\npointz: []\noverrides: { v: { adress: 1 } }\n'))).toBe(false);
    expect(errorsOf(validate)).toEqual(expect.arrayContaining([
      ' additionalProperties {"additionalProperty":"pointz"}',
      '/overrides/v additionalProperties {"additionalProperty":"adress"}',
    ]));
  });
});

describe('site schema with profiles', () => {
  it('accepts profiled and fanned-out devices and an inline profile; flags overlay typos', () => {
    const validate = ajv().compile(buildSiteSchema(drivers));
    const site = parse(`site: s
mqtt: { url: "mqtt://b" }
profile_paths: [lib]
profiles:
  meter: { driver: modbus, points: [{ name: v, table: input, address: 0 }] }
devices:
  - { name: "m-{unit_id}", profile: meter, rtu: { port: /dev/ttyUSB0 }, unit_id: [1, "5-12"], overrides: { v: { deadband: 1 } } }
  - { name: plain, driver: modbus, tcp: { host: h }, unit_id: [1, 2], points: [{ name: v, table: input, address: 0 }] }
`);
    expect(validate(site), JSON.stringify(validate.errors)).toBe(true);
    (site as { devices: Record<string, unknown>[] }).devices[0]!.points_ad = [];
    expect(validate(site)).toBe(false);
    expect(errorsOf(validate)).toContain('/devices/0 additionalProperties {"additionalProperty":"points_ad"}');
  });
});
