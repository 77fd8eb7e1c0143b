// Every profile a site could use, for commands that look at all of them (`fieldgate scan` matches
// a unit against each profile's identify: block). Same search order as the validator.
import { isRecord } from '../util/is-record.js';
import fs from 'node:fs';
import path from 'node:path';
import { readBoundedFile } from '../util/read-bounded-file.js';
import { SITE_FILE_MAX_BYTES } from './file-limits.js';
import { createProfileLibrary, shippedProfilesDir, type ProfileEntry } from './profile-library.js';
import { parseSource } from './yaml-source.js';

/**
 * The profiles found for a site file (its profiles: map, profiles/ next to it, its profile_paths)
 * and the shipped library; without a site file, profiles/ in `cwd` and the shipped library.
 * Profiles that cannot be read are left out: `fieldgate validate` reports them.
 */
export function profileCatalog(options: { siteFile?: string; cwd: string; env: NodeJS.ProcessEnv }): ProfileEntry[] {
  // Without a site file, a stand-in in the current directory: its profiles/ is searched.
  const file = options.siteFile === undefined ? path.join(options.cwd, 'site.yaml') : path.resolve(options.siteFile);
  const text = options.siteFile !== undefined && fs.existsSync(file) ? readBoundedFile(file, SITE_FILE_MAX_BYTES).toString('utf8') : '';
  const source = parseSource(text, options.env);
  const root = isRecord(source.value) ? source.value : {};
  const dir = path.dirname(file);
  const paths = Array.isArray(root.profile_paths) ? root.profile_paths.filter((p): p is string => typeof p === 'string') : [];
  const shipped = shippedProfilesDir();
  const dirs = [path.join(dir, 'profiles'), ...paths.map((p) => path.resolve(dir, p)), ...(shipped ? [shipped] : [])];
  const library = createProfileLibrary({ site: { file, source }, inline: isRecord(root.profiles) ? root.profiles : undefined, dirs, env: options.env });
  return library.names().sort().flatMap((name) => {
    const found = library.find(name);
    return found.kind === 'found' ? [found.entry] : [];
  });
}

