// The journal file must be one `run` can open: a regular file, or none yet in a directory that
// exists or can be created. `validate` calling a file valid that `run` then refuses (a directory,
// /dev/null, a FIFO SQLite would block on) is the failure this check exists for.
import fs from 'node:fs';
import path from 'node:path';
import { validField, type CheckContext } from './check-context.js';
import { defaultBufferPath } from './defaults.js';
import type { BufferConfig } from './site-config.js';

export function checkBufferPath(ctx: CheckContext): void {
  const buffer = validField<BufferConfig>(ctx, 'buffer');
  const written = buffer?.path !== undefined && ctx.isValid('/buffer/path') ? buffer.path : undefined;
  if (buffer?.path !== undefined && written === undefined) return; // the schema reported it
  const file = written === undefined ? defaultBufferPath({ dir: ctx.dir, env: ctx.env }) : path.resolve(ctx.dir, written);
  const problem = pathProblem(file);
  if (problem === undefined) return;
  if (written !== undefined) {
    const shown = file === written ? `"${written}"` : `"${written}" (${file})`;
    ctx.report('/buffer/path', 'value', `buffer.path: ${shown} ${problem}`);
  } else {
    const where = ctx.root.buffer === undefined ? '' : '/buffer';
    ctx.report(where, 'key', `buffer: the default journal file ${file} ${problem}; set buffer.path`);
  }
}

/** Why SQLite could not use `file` as its database, or undefined. Permissions are not judged:
 *  `validate` often runs as another user than the service. */
function pathProblem(file: string): string | undefined {
  const stat = statOrUndefined(file);
  if (stat) {
    if (stat.isFile()) return undefined;
    if (stat.isDirectory()) return 'is a directory; name a file in it, e.g. buffer.db';
    return `is ${stat.isFIFO() ? 'a FIFO (named pipe)' : stat.isSocket() ? 'a socket' : 'a device'}, not a regular file`;
  }
  // Missing: the closest existing ancestor must be a directory for the rest to be created.
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const parent = statOrUndefined(dir);
    if (parent) return parent.isDirectory() ? undefined : `cannot be created: ${dir} is not a directory`;
    if (dir === path.dirname(dir)) return undefined;
  }
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}
