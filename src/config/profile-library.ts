// Finds device profiles by name: the site file's own `profiles:` map first, then `<name>.yaml`
// (or .yml) in `profiles/` next to the site file, in each directory of `profile_paths:` in order,
// and last in the library shipped with fieldgate. The first hit wins, so a site can shadow a
// shipped profile with its own copy. Files are read lazily (only profiles a device names) and
// through readBoundedFile, like every file the site file names.
import { isRecord } from '../util/is-record.js';
import fs from 'node:fs';
import path from 'node:path';
import { FileReadError, readBoundedFile } from '../util/read-bounded-file.js';
import { packageRoot } from '../util/package-root.js';
import { PROFILE_FILE_MAX_BYTES } from './file-limits.js';
import { parseSource } from './yaml-source.js';
import type { SourceDoc } from './source-map.js';

/** A profile as found: its map, the file it is in and where in that file. */
export interface ProfileEntry {
  name: string;
  doc: SourceDoc;
  /** Pointer of the profile's map inside `doc`: '' for a profile file, '/profiles/<name>' inline. */
  base: string;
  value: Record<string, unknown>;
}

/** A problem with a profile's file itself, positioned in that file. */
export interface FileIssue {
  doc: SourceDoc;
  offset: number;
  message: string;
}

export type ProfileLookup =
  | { kind: 'found'; entry: ProfileEntry }
  | { kind: 'missing' }
  /** The file exists but cannot be used; its problems are in `issues` (reported once). */
  | { kind: 'broken'; issues: FileIssue[] };

export interface ProfileLibrary {
  find(name: string): ProfileLookup;
  /** Every profile name that could be found, for "did you mean". */
  names(): string[];
  /**
   * The values of secret keys that profile files read so far took from ${VAR}, as the environment
   * gave them: a PLAIN `pin: ${PIN}` becomes the number 7123 for PIN=007123, and only the text
   * the operator set can be masked wherever it is quoted.
   */
  envSecrets(): string[];
}

const EXTENSIONS = ['.yaml', '.yml'];
/** Profile names become file names: no separators, no leading dot. */
export const PROFILE_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]*$';
const PROFILE_NAME_RE = new RegExp(PROFILE_NAME_PATTERN);

export interface LibraryOptions {
  site: SourceDoc;
  /** The site file's `profiles:` map, when it is one. */
  inline: Record<string, unknown> | undefined;
  /** Directories searched in order (already absolute). */
  dirs: readonly string[];
  env: NodeJS.ProcessEnv;
}

export function createProfileLibrary(options: LibraryOptions): ProfileLibrary {
  const cache = new Map<string, ProfileLookup>();
  const load = (name: string): ProfileLookup => {
    const inline = options.inline?.[name];
    if (options.inline && Object.hasOwn(options.inline, name) && isRecord(inline)) {
      return { kind: 'found', entry: { name, doc: options.site, base: `/profiles/${escape(name)}`, value: inline } };
    }
    if (!PROFILE_NAME_RE.test(name)) return { kind: 'missing' };
    for (const dir of options.dirs) {
      for (const ext of EXTENSIONS) {
        const file = path.join(dir, name + ext);
        if (!fs.existsSync(file)) continue;
        return readProfileFile(name, file, options.env);
      }
    }
    return { kind: 'missing' };
  };
  return {
    find(name) {
      let hit = cache.get(name);
      if (!hit) {
        hit = load(name);
        cache.set(name, hit);
      }
      return hit;
    },
    envSecrets() {
      const out: string[] = [];
      for (const hit of cache.values()) {
        const docs = hit.kind === 'found' ? [hit.entry.doc] : hit.kind === 'broken' ? hit.issues.map((i) => i.doc) : [];
        // The site file's own (inline profiles) are counted by the site file.
        for (const doc of docs) {
          if (doc === options.site) continue;
          for (const secret of doc.source.envSecrets) out.push(secret);
        }
      }
      return out;
    },
    names() {
      const out = new Set(Object.keys(options.inline ?? {}));
      for (const dir of options.dirs) {
        let entries: string[];
        try {
          entries = fs.readdirSync(dir);
        } catch {
          continue;
        }
        for (const entry of entries) {
          const ext = EXTENSIONS.find((e) => entry.endsWith(e));
          if (ext) out.add(entry.slice(0, -ext.length));
        }
      }
      return [...out];
    },
  };
}

function readProfileFile(name: string, file: string, env: NodeJS.ProcessEnv): ProfileLookup {
  const empty: SourceDoc = { file, source: parseSource('', env) };
  let text: string;
  try {
    text = readBoundedFile(file, PROFILE_FILE_MAX_BYTES).toString('utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    return { kind: 'broken', issues: [{ doc: empty, offset: 0, message: `profile '${name}': the file ${err.detail}` }] };
  }
  const doc: SourceDoc = { file, source: parseSource(text, env) };
  const issues = doc.source.issues.map((i) => ({ doc, offset: i.offset, message: i.message }));
  if (doc.source.syntaxBroken) return { kind: 'broken', issues };
  if (!isRecord(doc.source.value)) {
    return { kind: 'broken', issues: [...issues, { doc, offset: 0, message: `profile '${name}' must be a map (driver:, points:, …)` }] };
  }
  // Problems inside a readable profile (an unset ${VAR}) are reported through its broken pointers.
  return { kind: 'found', entry: { name, doc, base: '', value: doc.source.value } };
}

/** The library shipped with fieldgate: `profiles/` at the package root. */
export function shippedProfilesDir(): string | undefined {
  const dir = path.join(packageRoot(), 'profiles');
  return fs.existsSync(dir) ? dir : undefined;
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

