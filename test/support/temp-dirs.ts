// Temp directories for tests, removed by the test runner rather than by each test, so that a
// failing assertion does not leave journals and site files behind in /tmp.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';

/**
 * Returns a maker of fresh directories under the system temp dir (`<prefix>XXXXXX`). Call it at the
 * top of a test file or describe block: it registers the hook that removes every directory made,
 * after each test (`'each'`) or once the file or block is done (`'all'`, for directories a process
 * started by the test may still use until then).
 */
export function tempDirs(prefix: string, removeAfter: 'each' | 'all' = 'all'): () => string {
  const made: string[] = [];
  (removeAfter === 'each' ? afterEach : afterAll)(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
