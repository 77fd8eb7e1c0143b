// Golden folders, in the manner of Telegraf's modbus testcases/: each folder under testcases/
// holds a site.yaml and expected.txt, the exact `fieldgate validate` problems (file:line:col:
// message, the files shown relative to the folder: site.yaml, profiles/x.yaml) or `valid` for a file that passes. Adding a case is adding
// a folder; after an intended change of wording, regenerate with
//   FIELDGATE_UPDATE_GOLDEN=1 npx vitest run test/config/testcases.test.ts
// and read the diff.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { validateSiteText } from '../../src/config/validate-site.js';
import { drivers } from '../../drivers/index.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testcases');
const cases = fs.readdirSync(ROOT).filter((d) => fs.statSync(path.join(ROOT, d)).isDirectory()).sort();

function problems(dir: string): string {
  const file = path.join(dir, 'site.yaml');
  const text = fs.readFileSync(file, 'utf8');
  try {
    // A site file with no buffer.path would default next to it: keep it inside the case folder.
    validateSiteText(text, file, { STATE_DIRECTORY: dir }, drivers, { profileLibrary: null });
    return 'valid\n';
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Problems in profile files of the case (profiles/) are shown relative to its folder too.
    return `${err.format().split(dir + path.sep).join('')}\n`;
  }
}

describe('validation testcases', () => {
  it('has cases', () => {
    expect(cases.length).toBeGreaterThan(5);
  });

  it.each(cases)('%s', (name) => {
    const dir = path.join(ROOT, name);
    const got = problems(dir);
    const expectedFile = path.join(dir, 'expected.txt');
    if (process.env.FIELDGATE_UPDATE_GOLDEN === '1') fs.writeFileSync(expectedFile, got);
    expect(got).toBe(fs.readFileSync(expectedFile, 'utf8'));
  });
});
