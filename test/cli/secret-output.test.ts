// Secrets never reach a terminal or a log through an error: validate, plan and run's stderr on an
// invalid file, and the running gateway's log when a reloaded file (with secrets of its own) is
// invalid. Real processes, real environment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnFieldgate } from '../integration/harness/test-gateway.js';
import { freePort } from '../integration/harness/free-port.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-secrets-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const NUMERIC = '84736251';
const SECRETS = [NUMERIC, 'url-Secr3t-one', 'url-Secr3t-two', 'env-Secr3t-pw', 'file-Secr3t-pw'];
const DEVICE = `devices:
  - name: d
    driver: sim
    interval: 100ms
    points: [ { name: n, signal: counter } ]
`;

function leaked(text: string): string[] {
  return SECRETS.filter((s) => text.includes(s));
}

describe('secrets in command output', () => {
  it('validate, plan and run print the problems of an invalid file without its secrets', async () => {
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, `site: s
mqtt:
  urls: [ "http://gw:url-Secr3t-one@host", "mqtt://gw:url-Secr3t-two@bad host" ]
  password: \${MQTT_PASSWORD}
buffer: { path: buffer.db }
${DEVICE}`);
    const runs = ['validate', 'plan', 'run'].map((cmd) => spawnFieldgate([cmd, '-c', file], { MQTT_PASSWORD: NUMERIC }));
    const codes = await Promise.all(runs.map((r) => r.exited));
    expect(codes).toEqual([1, 1, 1]);
    for (const r of runs) {
      expect(r.output()).toMatch(/mqtt\.password: expected text, got a number \(not shown: it is a secret\)/);
      expect(r.output()).toMatch(/"http:\/\/gw:\*\*\*@host" is not an MQTT broker URL/);
      expect(leaked(r.output())).toEqual([]);
    }
  }, 60_000);

  it("the running gateway's log shows no secret of a reloaded file, valid or not", async () => {
    const port = await freePort(); // nothing listens: the uplink keeps retrying, which is fine here
    const pwFile = path.join(dir, 'pw');
    fs.writeFileSync(pwFile, 'file-Secr3t-pw\n');
    const file = path.join(dir, 'site.yaml');
    const good = `site: s
mqtt:
  url: "mqtt://gw@127.0.0.1:${port}"
  password: \${MQTT_PASSWORD}
buffer: { path: buffer.db }
${DEVICE}`;
    fs.writeFileSync(file, good);
    const proc = spawnFieldgate(['run', '-c', file], { MQTT_PASSWORD: 'env-Secr3t-pw' });
    try {
      await proc.waitForOutput(/gateway started/, 60_000);
      // Invalid, with secrets the start-up file did not have.
      fs.writeFileSync(file, `site: s
mqtt:
  urls: [ "http://gw:url-Secr3t-one@host" ]
  password: ${NUMERIC}
buffer: { path: buffer.db }
${DEVICE}`);
      proc.child.kill('SIGHUP');
      await proc.waitForOutput(/keeping the running one/, 15_000);
      // Valid, with a new URL password and a password file.
      fs.writeFileSync(file, `site: s
mqtt:
  url: "mqtt://gw:url-Secr3t-two@127.0.0.1:${port}"
buffer: { path: buffer.db }
${DEVICE}`);
      proc.child.kill('SIGHUP');
      await proc.waitForOutput(/configuration reloaded/, 15_000);
      fs.writeFileSync(file, good.replace('  password: ${MQTT_PASSWORD}\n', `  password_file: ${pwFile}\n  qos: "file-Secr3t-pw"\n`));
      proc.child.kill('SIGHUP');
      await proc.waitForOutput(/keeping the running one[\s\S]*keeping the running one/, 15_000);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toMatch(/mqtt\.password: expected text, got a number/);
      expect(leaked(proc.output())).toEqual([]);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    }
  }, 90_000);
});
