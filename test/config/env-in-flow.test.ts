import { describe, expect, it } from 'vitest';
import { validateSiteText } from '../../src/config/validate-site.js';
import { ConfigError } from '../../src/config/config-error.js';
import { drivers } from '../../drivers/index.js';

describe('${VAR} inside flow collections and syntax error cascades', () => {
  it('expands ${VAR} inside { … } and [ … ] with positions intact', () => {
    const text = 'site: s\nmqtt: { url: "mqtt://127.0.0.1:1883", password: ${PW}, username: u }\ndevices:\n  - { name: d, driver: sim, points: [ { name: p, signal: constant, value: ${V} } ] }\n';
    const site = validateSiteText(text, '/tmp/site.yaml', { PW: 'pw-{x},1', V: '7' }, drivers);
    expect(site.config.mqtt.password).toBe('pw-{x},1');
    expect(site.config.devices[0]!.points[0]!.value).toBe(7);
    try {
      validateSiteText(text, '/tmp/site.yaml', { V: '7' }, drivers);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).format()).toContain('/tmp/site.yaml:2:'); // the unset PW, on its own line
      expect((err as ConfigError).format()).toMatch(/PW is not set/);
    }
  });

  it('reports one broken bracket once, not once per following token', () => {
    const text = 'site: s\nmqtt: { url: "mqtt://x:1"\ndevices:\n  - name: d\n    driver: sim\n    points:\n      - name: p\n        signal: counter\n';
    try {
      validateSiteText(text, '/tmp/site.yaml', {}, drivers);
      expect.unreachable();
    } catch (err) {
      const lines = (err as ConfigError).format().split('\n');
      expect(lines.length).toBeLessThanOrEqual(6);
      expect(lines[0]).toMatch(/^\/tmp\/site\.yaml:\d+:\d+: YAML: /);
    }
  });
});
