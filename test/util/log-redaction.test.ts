// The logger hides the values of the keys isSecretKey names — the same names the site file's error
// messages hide — at any depth, in child bindings and inside logged errors, and leaves the rest.
import { describe, expect, it } from 'vitest';
import { captureLog as capture } from '../support/capture-log.js';
import { createLogger } from '../../src/util/logger.js';
import { redactSecretKeys } from '../../src/util/redact-secret-keys.js';

describe('log redaction by key name', () => {
  it('hides every name isSecretKey knows, however deep, and keeps file paths and ordinary keys', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', destination: out.destination });
    logger.info({
      passphrase: 'pp-1',
      mqtt: { password: 'pw-2', psk: 'psk-3', tls: { key: 'client.key' } },
      device: { ble: { config: { bindkey: 'bk-4', apiKey: 'ak-5' } } },
      headers: [{ authorization: 'Bearer t-6' }],
      remote_config: { public_key: 'signer.pem' },
      token_file: '/etc/fieldgate/token',
    }, 'probe');
    const [line] = out.lines();
    expect(line).toMatchObject({
      passphrase: '[redacted]',
      mqtt: { password: '[redacted]', psk: '[redacted]', tls: { key: 'client.key' } },
      device: { ble: { config: { bindkey: '[redacted]', apiKey: '[redacted]' } } },
      headers: [{ authorization: '[redacted]' }],
      remote_config: { public_key: 'signer.pem' },
      token_file: '/etc/fieldgate/token',
      msg: 'probe',
    });
    expect(JSON.stringify(line)).not.toMatch(/pp-1|pw-2|psk-3|bk-4|ak-5|t-6/);
  });

  it("hides them in a child logger's bindings and in a logged error, which stays an error", () => {
    const out = capture();
    const logger = createLogger({ level: 'info', destination: out.destination }).child({ device: 'd1', api_secret: 'as-7' });
    const err = Object.assign(new Error('refused', { cause: Object.assign(new Error('inner'), { token: 'tk-8' }) }), { passphrase: 'pp-9' });
    logger.error({ err }, 'failed');
    const [line] = out.lines();
    expect(line).toMatchObject({ device: 'd1', api_secret: '[redacted]', err: { type: 'Error', passphrase: '[redacted]' } });
    expect((line!.err as { message?: string }).message).toMatch(/^refused/);
    expect((line!.err as { stack?: string }).stack).toContain('refused');
    expect(JSON.stringify(line)).not.toMatch(/as-7|tk-8|pp-9/);
    // The caller's objects are untouched.
    expect(err).toMatchObject({ passphrase: 'pp-9' });
    expect((err.cause as { token: string }).token).toBe('tk-8');
  });

  it('copies only what it changes and survives cycles', () => {
    const plain = { a: { b: [1, 2] }, when: new Date(0), bytes: Buffer.from('secret') };
    expect(redactSecretKeys(plain, 'x')).toBe(plain);
    const cyclic: Record<string, unknown> = { password: 'p' };
    cyclic.self = cyclic;
    const out = redactSecretKeys(cyclic, 'x');
    expect(out.password).toBe('x');
    expect(cyclic.password).toBe('p');
  });
});
