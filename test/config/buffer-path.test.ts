// `validate` refuses every buffer.path `run` could not open, at the value's line:col.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lines, problems, validate } from './site-fixtures.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-bufpath-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.writeFileSync(path.join(dir, 'plain-file'), 'x');
fs.writeFileSync(path.join(dir, 'existing.db'), '');
execFileSync('mkfifo', [path.join(dir, 'buffer.fifo')]);

const SITE = path.join(dir, 'site.yaml');
const text = (bufferPath: string) =>
  lines('site: s', 'mqtt:', '  url: mqtt://127.0.0.1', 'buffer:', `  path: ${bufferPath}`, 'devices:', '  - name: a', '    driver: sim', '    points: [ { name: t, signal: sine } ]');

describe('buffer.path', () => {
  it.each([
    ['""', `${SITE}:5:9: buffer.path: must not be empty`],
    ['/', `${SITE}:5:9: buffer.path: "/" is a directory; name a file in it, e.g. buffer.db`],
    ['.', `${SITE}:5:9: buffer.path: "." (${dir}) is a directory; name a file in it, e.g. buffer.db`],
    ['/dev/null', `${SITE}:5:9: buffer.path: "/dev/null" is a device, not a regular file`],
    ['buffer.fifo', `${SITE}:5:9: buffer.path: "buffer.fifo" (${path.join(dir, 'buffer.fifo')}) is a FIFO (named pipe), not a regular file`],
    ['plain-file/buffer.db', `${SITE}:5:9: buffer.path: "plain-file/buffer.db" (${path.join(dir, 'plain-file/buffer.db')}) cannot be created: ${path.join(dir, 'plain-file')} is not a directory`],
  ])('refuses %s', (value, expected) => {
    expect(problems(text(value), {}, SITE)).toEqual([expected]);
  });

  it.each(['existing.db', 'new.db', 'not/yet/made/buffer.db'])('accepts %s (a regular file, or one that can be created)', (value) => {
    expect(validate(text(value), {}, { hostname: 'h' }, SITE).config.buffer?.path).toBe(path.join(dir, value));
  });

  it('checks the default path too (data/buffer.db next to the site file, when no state directory)', () => {
    const site = path.join(dir, 'sub', 'site.yaml');
    fs.mkdirSync(path.dirname(site), { recursive: true });
    fs.writeFileSync(path.join(dir, 'sub', 'state'), 'a file, not a directory');
    const noPath = lines('site: s', 'mqtt:', '  url: mqtt://127.0.0.1', 'devices:', '  - name: a', '    driver: sim', '    points: [ { name: t, signal: sine } ]');
    expect(problems(noPath, { STATE_DIRECTORY: path.join(dir, 'sub', 'state') }, site)).toEqual([
      `${site}:1:1: buffer: the default journal file ${path.join(dir, 'sub', 'state', 'buffer.db')} cannot be created: ${path.join(dir, 'sub', 'state')} is not a directory; set buffer.path`,
    ]);
  });
});
