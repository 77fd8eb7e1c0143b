import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root (holds package.json), whether running from src/ or dist/src/. */
export function packageRoot(from: string = import.meta.url): string {
  let dir = path.dirname(fileURLToPath(from));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const name = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name;
      if (name === 'fieldgate') return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the fieldgate package root');
    dir = parent;
  }
}

/** The installed package's version, from its package.json. */
export function packageVersion(): string {
  const manifest = path.join(packageRoot(), 'package.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
}
