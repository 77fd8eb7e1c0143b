// YAML merge keys (`<<: *base`) in site files: merged keys are used (explicit keys win), and an
// error in a merged value is reported where that value is written.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { validateSiteText } from '../../src/config/validate-site.js';
import { drivers } from '../../drivers/index.js';
import { lines } from './site-fixtures.js';

const HEAD = ['site: plant-7', 'mqtt: { url: "mqtt://127.0.0.1:1883" }'];

function load(...rows: string[]) {
  return validateSiteText(lines(...rows), '/tmp/site.yaml', { STATE_DIRECTORY: '/tmp/fg-merge' }, drivers);
}

function problems(...rows: string[]): string[] {
  try {
    load(...rows);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
  }
}

describe('merge keys', () => {
  it('merges an anchored map into each device; keys written in the device win', () => {
    const site = load(...HEAD,
      'x-meter: &meter',
      '  driver: modbus',
      '  interval: 5s',
      '  timeout: 500ms',
      'devices:',
      '  - <<: *meter',
      '    name: m1',
      '    tcp: { host: 10.0.0.5 }',
      '    points: [{ name: v, table: input, address: 0 }]',
      '  - name: m2',
      '    <<: *meter',
      '    interval: 1s',
      '    tcp: { host: 10.0.0.6 }',
      '    points: [{ name: v, table: input, address: 0 }]',
    );
    expect(site.devices.map((d) => [d.name, d.driver, d.interval, (d as { timeout?: string }).timeout])).toEqual([
      ['m1', 'modbus', '5s', '500ms'],
      ['m2', 'modbus', '1s', '500ms'],
    ]);
  }, 10_000);

  it('merges a list of maps, earlier ones first', () => {
    const site = load(...HEAD,
      'x-a: &a { interval: 2s }',
      'x-b: &b { interval: 9s, tags: { area: north } }',
      'devices:',
      '  - <<: [*a, *b]',
      '    name: s',
      '    driver: sim',
      '    points: [{ name: t, signal: sine }]',
    );
    expect(site.devices[0]).toMatchObject({ interval: '2s', tags: { area: 'north' } });
  });

  it('reports an error in a merged value where that value is written', () => {
    expect(problems(...HEAD,
      'x-base: &base',
      '  driver: sim',
      '  interval: 30x',
      'devices:',
      '  - <<: *base',
      '    name: s',
      '    points: [{ name: t, signal: sine }]',
    )).toEqual(expect.arrayContaining([expect.stringMatching(/^5:13: .*interval/)]));
  });

  it('refuses a merge key that is not a map', () => {
    expect(problems(...HEAD, 'devices:', '  - <<: 5', '    name: s', '    driver: sim', '    points: [{ name: t, signal: sine }]'))
      .toEqual(expect.arrayContaining([expect.stringMatching(/merge key << takes a map/)]));
  });
});
