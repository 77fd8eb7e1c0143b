// Files named in the site file are user input: FIFOs must not block, endless devices must not be
// read, and size caps hold even for a file that grows while it is read.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileReadError, readBoundedFile } from '../../src/util/read-bounded-file.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-bounded-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function problemOf(file: string, max = 1024): [string, string] {
  try {
    readBoundedFile(file, max);
  } catch (err) {
    expect(err).toBeInstanceOf(FileReadError);
    return [(err as FileReadError).problem, (err as FileReadError).detail];
  }
  return expect.fail(`${file} was read`);
}

describe('readBoundedFile', () => {
  it('reads a regular file up to and including the cap', () => {
    const file = path.join(dir, 'ok');
    fs.writeFileSync(file, 'x'.repeat(1024));
    expect(readBoundedFile(file, 1024).length).toBe(1024);
    fs.writeFileSync(file, '');
    expect(readBoundedFile(file, 1024).length).toBe(0);
  });

  it('refuses a file over the cap', () => {
    const file = path.join(dir, 'big');
    fs.writeFileSync(file, 'x'.repeat(1025));
    expect(problemOf(file)).toEqual(['too_large', 'is larger than 1KiB, more than such a file can hold']);
  });

  it('refuses a FIFO at once instead of waiting for a writer', () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    expect(problemOf(fifo)).toEqual(['not_regular', 'is a FIFO (named pipe), not a regular file']);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it.each([
    ['/dev/zero (endless)', '/dev/zero', ['not_regular', 'is a device, not a regular file']],
    ['/dev/null', '/dev/null', ['not_regular', 'is a device, not a regular file']],
    ['a directory', os.tmpdir(), ['directory', 'is a directory, not a file']],
    ['a missing file', '/nonexistent/fieldgate/x', ['missing', 'does not exist']],
  ])('refuses %s', (_name, file, expected) => {
    expect(problemOf(file)).toEqual(expected);
  });

  it('holds the cap on what is read, not only on the size fstat reported (/proc files say 0)', () => {
    // /proc/self/status reports size 0 yet has content: the read loop must still stop at the cap.
    expect(problemOf('/proc/self/status', 16)).toEqual(['too_large', 'is larger than 16 bytes, more than such a file can hold']);
  });
});
