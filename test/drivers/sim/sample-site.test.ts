import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSite } from '../../../src/config/load-site.js';
import { drivers } from '../../../drivers/index.js';

describe('drivers/sim/sample.yaml', () => {
  it('validates with the shipped drivers', () => {
    const file = path.resolve(import.meta.dirname, '../../../drivers/sim/sample.yaml');
    const site = loadSite(file, {}, drivers);
    expect(site.config.devices.map((d) => d.name)).toEqual(['boiler']);
    expect(site.config.devices[0]!.points).toHaveLength(4);
  });
});
