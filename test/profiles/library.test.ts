// The shipped library as a whole: every profile is listed in its README with a source, matches
// the profile schema, has a version, and builds a valid device.
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { profileSchemaText } from '../../src/config/site-schema.js';
import { validateSiteText } from '../../src/config/validate-site.js';
import { drivers } from '../../drivers/index.js';

const LIBRARY = path.resolve(import.meta.dirname, '../../profiles');
const names = fs.readdirSync(LIBRARY).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();

describe('the shipped profile library', () => {
  it('has at least six profiles, each in the README table', () => {
    expect(names.length).toBeGreaterThanOrEqual(6);
    const readme = fs.readFileSync(path.join(LIBRARY, 'README.md'), 'utf8');
    for (const name of names) expect(readme, name).toMatch(new RegExp(`^\\| \`${name}\` \\|[^|]+\\|[^|]{20,}\\|$`, 'm'));
  });

  it.each(names)('%s matches the profile schema, has a version and builds a valid device', (name) => {
    const value = parse(fs.readFileSync(path.join(LIBRARY, `${name}.yaml`), 'utf8')) as Record<string, unknown>;
    const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(profileSchemaText(drivers)) as object);
    expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
    expect(typeof value.version).toBe('string');
    const link = value.driver === 'ble' ? 'address: "D1:22:33:44:55:66"' : 'tcp: { host: 127.0.0.1 }';
    const site = validateSiteText(`site: s\nmqtt: { url: "mqtt://127.0.0.1:1" }\ndevices: [{ name: d, profile: ${name}, ${link} }]\n`, '/nonexistent/site.yaml', { STATE_DIRECTORY: '/tmp' }, drivers);
    expect(site.devices[0]).toMatchObject({ profile: name, profile_version: value.version });
  });
});
