// The version store on disk: what a record, a confirmation and a rollback leave behind, that a
// reopened store (a restart, a power cut) sees the same, and that only the last 10 are kept.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEEP_VERSIONS, VersionStore, VersionStoreError } from '../../src/remote-config/version-store.js';
import { tempDirs } from '../support/temp-dirs.js';

const newDir = tempDirs('fg-versions-', 'each');
/** A store directory that does not exist yet, in a temp directory removed after the test. */
function tempDir(): string {
  return path.join(newDir(), 'config');
}

describe('VersionStore', () => {
  let now = 1_000;
  const clock = { now: () => now };

  it('records, tries, confirms and rolls back; a reopened store sees the same', () => {
    const dir = tempDir();
    const store = VersionStore.open(dir, clock);
    const local = store.record({ version: 'local-1', source: 'local', state: 'applied', text: 'a: 1\n', localSha: 'abc' });
    expect(store.active?.id).toBe(local.id);
    expect(store.lastGood?.id).toBe(local.id);
    now = 2_000;
    const v2 = store.record({ version: '2', source: 'remote', state: 'trial', text: 'a: 2\n', trialMs: 5000, required: ['dev'] });
    expect(store.state.trial).toEqual({ id: v2.id, previous: local.id, startedAt: 2000, untilAt: 7000, starts: 1, required: ['dev'] });
    expect(store.state.highestSigned).toBe('2');
    expect(fs.readlinkSync(path.join(dir, 'active.yaml'))).toBe(`${v2.id}.yaml`);
    // A power cut now: the next process sees the trial and the version on trial as active.
    const reopened = VersionStore.open(dir, clock);
    expect(reopened.active?.version).toBe('2');
    expect(reopened.text(reopened.active!)).toBe('a: 2\n');
    expect(reopened.countStart(5000)).toMatchObject({ starts: 2 });
    reopened.rollBack(v2.id, local.id, 'devices failed');
    const after = VersionStore.open(dir, clock);
    expect(after.active?.version).toBe('local-1');
    expect(after.state.trial).toBeUndefined();
    expect(after.byId(v2.id)).toMatchObject({ state: 'rolled_back', reason: 'devices failed' });
    // A rolled-back version stays the highest tried: it cannot come back by replay.
    expect(after.state.highestSigned).toBe('2');
    const v3 = after.record({ version: '3', source: 'remote', state: 'trial', text: 'a: 3\n', trialMs: 5000 });
    after.confirm(v3.id);
    expect(VersionStore.open(dir, clock).lastGood?.version).toBe('3');
  });

  it('a local version recorded during a trial ends it: the version on trial is marked superseded', () => {
    const store = VersionStore.open(tempDir(), clock);
    store.record({ version: 'local-1', source: 'local', state: 'applied', text: 'a: 1\n' });
    const v2 = store.record({ version: '2', source: 'remote', state: 'trial', text: 'a: 2\n', trialMs: 5000 });
    store.record({ version: 'local-3', source: 'local', state: 'applied', text: 'a: 3\n' });
    expect(store.state.trial).toBeUndefined();
    expect(store.byId(v2.id)).toMatchObject({ state: 'superseded', reason: 'superseded by local-3 before its trial ended' });
    expect(store.lastGood?.version).toBe('local-3');
  });

  it(`keeps the last ${KEEP_VERSIONS} versions and never drops the active or last good one`, () => {
    const dir = tempDir();
    const store = VersionStore.open(dir, clock);
    store.record({ version: 'local-1', source: 'local', state: 'applied', text: 'first\n' });
    for (let i = 2; i <= 15; i++) store.record({ version: String(i), source: 'remote', state: 'trial', text: `v${i}\n`, trialMs: 1 });
    // Every remote version is still on trial: the last good one is the very first, pinned.
    const versions = store.history().map((e) => e.version);
    expect(versions).toHaveLength(KEEP_VERSIONS);
    expect(versions[0]).toBe('local-1');
    expect(versions.at(-1)).toBe('15');
    const files = fs.readdirSync(dir).filter((f) => /^\d+\.yaml$/.test(f));
    expect(files).toHaveLength(KEEP_VERSIONS);
  });

  it('refuses a version file whose content changed, and a state file that is not one', () => {
    const dir = tempDir();
    const store = VersionStore.open(dir, clock);
    const e = store.record({ version: 'local-1', source: 'local', state: 'applied', text: 'a: 1\n' });
    fs.writeFileSync(store.fileOf(e), 'a: 666\n');
    expect(() => store.text(e)).toThrow(VersionStoreError);
    fs.writeFileSync(path.join(dir, 'state.json'), '{not json');
    expect(() => VersionStore.open(dir, clock)).toThrow(/move it aside/);
  });
});
