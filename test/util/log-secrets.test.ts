// The log redactor learns secrets while the process runs (a reloaded site file brings new ones).
import { describe, expect, it } from 'vitest';
import { captureLog as capture } from '../support/capture-log.js';
import { createLogger, LogSecrets } from '../../src/util/logger.js';

describe('LogSecrets', () => {
  it('masks secrets added after the logger was made, in any field, JSON-escaped forms included', () => {
    const out = capture();
    const secrets = new LogSecrets(['first-secret']);
    const logger = createLogger({ level: 'info', secrets, destination: out.destination });
    logger.info({ note: 'second "se\\cret"' }, 'before');
    secrets.add(['second "se\\cret"', 'x']);
    logger.info({ note: 'second "se\\cret"', other: 'first-secret' }, 'after: second "se\\cret"');
    const [before, after] = out.text().trim().split('\n');
    expect(before).toContain('se\\\\cret'); // not yet known
    expect(after).not.toContain('se\\\\cret');
    expect(after).not.toContain('first-secret');
    expect(after).toContain('[redacted]');
  });

  it('a plain list still works, and values shorter than 3 characters are left alone', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', secrets: ['hunter2', 'ab'], destination: out.destination });
    logger.info({ p: 'hunter2', q: 'ab' }, 'probe');
    expect(out.text()).not.toContain('hunter2');
    expect(out.text()).toContain('"q":"ab"');
  });
});
