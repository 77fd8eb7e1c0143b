// Files that must survive a power cut whole or not at all: written to a temporary name, synced,
// renamed over the old one, and the directory synced so the rename itself is durable.
import fs from 'node:fs';
import path from 'node:path';

export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'w', mode);
    try {
      const owner = dirOwnerForRoot(path.dirname(file));
      if (owner) fs.fchownSync(fd, owner.uid, owner.gid);
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    // A full disk: no half-written temporary file left behind to take more room.
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  syncDir(path.dirname(file));
}

/** A symlink replaced atomically (a new link renamed over the old one). */
export function symlinkAtomic(target: string, link: string): void {
  const tmp = path.join(path.dirname(link), `.${path.basename(link)}.${process.pid}.tmp`);
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(target, tmp);
  const owner = dirOwnerForRoot(path.dirname(link));
  if (owner) fs.lchownSync(tmp, owner.uid, owner.gid);
  fs.renameSync(tmp, link);
  syncDir(path.dirname(link));
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * When root writes into a directory another user owns (`fieldgate config rollback` run by an
 * operator in the service's state directory), the file must stay readable by the service: it takes
 * the directory's owner. Undefined when nothing needs changing.
 */
function dirOwnerForRoot(dir: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const stat = fs.statSync(dir);
  return stat.uid === 0 && stat.gid === 0 ? undefined : { uid: stat.uid, gid: stat.gid };
}
