// The versions of the site file this gateway has run, under the state directory
// (/var/lib/fieldgate/config): `<id>.yaml` per version, `state.json` (which one is active, which
// is the last known good, the trial in progress, the highest signed version ever tried) and
// `active.yaml`, a symlink to the active version for people looking. Every change is one atomic
// rewrite of state.json, made after the version's own file is on disk, so a power cut leaves
// either the old state or the new one. The last KEEP versions are kept (never the active or the
// last good one).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../driver-api/index.js';
import { FieldgateError } from '../util/errors.js';
import { SITE_FILE_MAX_BYTES } from '../config/file-limits.js';
import { readBoundedFile } from '../util/read-bounded-file.js';
import { symlinkAtomic, writeFileAtomic } from '../util/atomic-file.js';

export const KEEP_VERSIONS = 10;
const STATE_FILE = 'state.json';
const STATE_MAX_BYTES = 1024 * 1024;

/** local: the site file edited on the gateway; remote: a signed candidate. */
export type VersionSource = 'local' | 'remote';
/**
 * applied: a local version (no trial); trial → confirmed | rolled_back: a remote one; superseded:
 * its trial was ended by a local edit or a version made active by hand.
 */
export type VersionState = 'applied' | 'trial' | 'confirmed' | 'rolled_back' | 'superseded';

export interface VersionEntry {
  id: number;
  version: string;
  source: VersionSource;
  state: VersionState;
  sha256: string;
  /** When it was recorded, epoch ms. */
  at: number;
  /** Why it was rolled back. */
  reason?: string;
}

export interface TrialRecord {
  id: number;
  /** The version to go back to. */
  previous: number;
  startedAt: number;
  untilAt: number;
  /** Process starts during this trial (a crash loop on the new version ends it). */
  starts: number;
  /** Devices that must read good values again: those healthy before the change and still configured. */
  required: string[];
}

export interface StoreState {
  format: 1;
  nextId: number;
  active: number | undefined;
  lastGood: number | undefined;
  /** Highest signed version ever tried: a candidate must be newer (a rolled-back one stays refused). */
  highestSigned: string | undefined;
  /** sha256 of the local site file when it was last recorded: a different one is a local edit. */
  localSha: string | undefined;
  trial: TrialRecord | undefined;
  entries: VersionEntry[];
}

export class VersionStoreError extends FieldgateError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('version_store', message, options);
  }
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export class VersionStore {
  private current: StoreState;

  private constructor(readonly dir: string, private readonly clock: Clock, state: StoreState) {
    this.current = state;
  }

  /** Opens (creating the directory) and reads state.json; a store that was never written is empty. */
  static open(dir: string, clock: Clock): VersionStore {
    fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
    const file = path.join(dir, STATE_FILE);
    if (!fs.existsSync(file)) return new VersionStore(dir, clock, emptyState());
    let parsed: StoreState;
    try {
      parsed = JSON.parse(readBoundedFile(file, STATE_MAX_BYTES).toString('utf8')) as StoreState;
    } catch (err) {
      throw new VersionStoreError(`${file} cannot be read as the version store (${(err as Error).message}); move it aside to start a new history`, { cause: err });
    }
    if (parsed.format !== 1 || !Array.isArray(parsed.entries)) throw new VersionStoreError(`${file} is not a version store of a format this fieldgate knows`);
    return new VersionStore(dir, clock, { ...emptyState(), ...parsed });
  }

  /** Reads state.json again: `fieldgate config rollback` changes it from another process. */
  refresh(): void {
    this.current = VersionStore.open(this.dir, this.clock).current;
  }

  get state(): Readonly<StoreState> {
    return this.current;
  }

  get active(): VersionEntry | undefined {
    return this.byId(this.current.active);
  }

  get lastGood(): VersionEntry | undefined {
    return this.byId(this.current.lastGood);
  }

  byId(id: number | undefined): VersionEntry | undefined {
    return id === undefined ? undefined : this.current.entries.find((e) => e.id === id);
  }

  /** The newest entry with this version. */
  find(version: string): VersionEntry | undefined {
    return [...this.current.entries].reverse().find((e) => e.version === version);
  }

  /** Oldest first. */
  history(): readonly VersionEntry[] {
    return this.current.entries;
  }

  fileOf(entry: VersionEntry): string {
    return path.join(this.dir, `${entry.id}.yaml`);
  }

  text(entry: VersionEntry): string {
    const text = readBoundedFile(this.fileOf(entry), SITE_FILE_MAX_BYTES).toString('utf8');
    if (sha256(text) !== entry.sha256) throw new VersionStoreError(`${this.fileOf(entry)} does not hold version ${entry.version} any more (its content changed)`);
    return text;
  }

  /**
   * Records a version and makes it the active one. A local or confirmed version also becomes the
   * last good one; a trial records where to go back to.
   */
  record(input: { version: string; source: VersionSource; state: VersionState; text: string; trialMs?: number; required?: string[]; localSha?: string }): VersionEntry {
    const s = this.current;
    const now = this.clock.now();
    const entry: VersionEntry = { id: s.nextId, version: input.version, source: input.source, state: input.state, sha256: sha256(input.text), at: now };
    writeFileAtomic(this.fileOf(entry), input.text);
    const good = input.state === 'applied' || input.state === 'confirmed';
    const previous = s.active;
    const trial: TrialRecord | undefined = input.state === 'trial' && previous !== undefined
      ? { id: entry.id, previous: s.lastGood ?? previous, startedAt: now, untilAt: now + (input.trialMs ?? 0), starts: 1, required: input.required ?? [] }
      : undefined;
    this.commit({
      ...s,
      nextId: s.nextId + 1,
      active: entry.id,
      lastGood: good ? entry.id : s.lastGood,
      highestSigned: input.source === 'remote' ? input.version : s.highestSigned,
      localSha: input.localSha ?? s.localSha,
      trial,
      entries: [...superseded(s, `superseded by ${input.version} before its trial ended`), entry],
    });
    return entry;
  }

  /** The trial ended well: the version is confirmed and becomes the last good one. */
  confirm(id: number): void {
    const s = this.current;
    this.commit({ ...s, lastGood: id, trial: undefined, entries: s.entries.map((e) => (e.id === id ? { ...e, state: 'confirmed' } : e)) });
  }

  /** The trial failed: `id` is marked rolled back and `to` becomes active again. */
  rollBack(id: number, to: number, reason: string): void {
    const s = this.current;
    this.commit({
      ...s, active: to, trial: undefined,
      entries: s.entries.map((e) => (e.id === id ? { ...e, state: 'rolled_back', reason } : e)),
    });
  }

  /** Makes a stored version active by hand (`fieldgate config rollback`); it becomes the last good one. */
  activate(id: number): void {
    const s = this.current;
    if (!this.byId(id)) throw new VersionStoreError(`no stored version with id ${id}`);
    this.commit({ ...s, active: id, lastGood: id, trial: undefined, entries: superseded(s, `superseded by ${this.byId(id)!.version}, made active by hand`) });
  }

  /** Counts one more process start during the trial in progress, which starts its time again. */
  countStart(trialMs: number): TrialRecord | undefined {
    const t = this.current.trial;
    if (!t) return undefined;
    const now = this.clock.now();
    const next = { ...t, starts: t.starts + 1, startedAt: now, untilAt: now + trialMs };
    this.commit({ ...this.current, trial: next });
    return next;
  }

  private commit(next: StoreState): void {
    const kept = prune(next);
    writeFileAtomic(path.join(this.dir, STATE_FILE), JSON.stringify(kept, null, 2) + '\n');
    const gone = next.entries.filter((e) => !kept.entries.includes(e));
    this.current = kept;
    for (const e of gone) fs.rmSync(this.fileOf(e), { force: true });
    const active = this.active;
    if (active) symlinkAtomic(`${active.id}.yaml`, path.join(this.dir, 'active.yaml'));
  }
}

/** The entries with the one on trial (if any) marked superseded. */
function superseded(state: StoreState, reason: string): VersionEntry[] {
  const id = state.trial?.id;
  return id === undefined ? state.entries : state.entries.map((e) => (e.id === id ? { ...e, state: 'superseded', reason } : e));
}

function prune(state: StoreState): StoreState {
  if (state.entries.length <= KEEP_VERSIONS) return state;
  const pinned = new Set([state.active, state.lastGood, state.trial?.previous].filter((id) => id !== undefined));
  const entries = [...state.entries];
  for (let i = 0; i < entries.length && entries.length > KEEP_VERSIONS;) {
    if (pinned.has(entries[i]!.id)) i++;
    else entries.splice(i, 1);
  }
  return { ...state, entries };
}

function emptyState(): StoreState {
  return { format: 1, nextId: 1, active: undefined, lastGood: undefined, highestSigned: undefined, localSha: undefined, trial: undefined, entries: [] };
}
