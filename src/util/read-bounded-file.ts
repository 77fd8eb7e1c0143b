// The one way to read a file the site file names (the site file itself, password_file, TLS
// files). Such a name is user input: it may be /dev/zero (endless), a FIFO (a plain open blocks
// until a writer comes, forever), a directory or a multi-gigabyte file. The file is opened
// non-blocking, checked with fstat on that same descriptor (no race with a rename), must be a
// regular file, and is read only up to a size cap.
import fs from 'node:fs';
import { FieldgateError } from './errors.js';
import { formatSize } from './duration.js';

export type FileProblem = 'missing' | 'directory' | 'not_regular' | 'too_large' | 'unreadable';

/** A named file that cannot be used; `detail` completes a sentence about it ("does not exist"). */
export class FileReadError extends FieldgateError {
  constructor(
    readonly file: string,
    readonly problem: FileProblem,
    readonly detail: string,
    options: { cause?: unknown } = {},
  ) {
    super('file_unreadable', `${file} ${detail}`, { kind: 'fatal', cause: options.cause });
  }
}

const CHUNK = 64 * 1024;

/** The file's bytes; throws FileReadError unless it is a readable regular file of at most maxBytes. */
export function readBoundedFile(file: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (err) {
    throw openError(file, err);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw new FileReadError(file, 'directory', 'is a directory, not a file');
    if (!stat.isFile()) throw new FileReadError(file, 'not_regular', `is ${kindOf(stat)}, not a regular file`);
    if (stat.size > maxBytes) throw tooLarge(file, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    // The size may change under us (a file being written): the cap holds for what is read.
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, maxBytes + 1 - total));
      const n = readSome(file, fd, chunk);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw tooLarge(file, maxBytes);
    }
    return Buffer.concat(chunks, total);
  } finally {
    fs.closeSync(fd);
  }
}

function readSome(file: string, fd: number, into: Buffer): number {
  try {
    return fs.readSync(fd, into, 0, into.length, null);
  } catch (err) {
    throw new FileReadError(file, 'unreadable', `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

function tooLarge(file: string, maxBytes: number): FileReadError {
  return new FileReadError(file, 'too_large', `is larger than ${formatSize(maxBytes)}, more than such a file can hold`);
}

function openError(file: string, err: unknown): FileReadError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new FileReadError(file, 'missing', 'does not exist', { cause: err });
  if (code === 'EISDIR') return new FileReadError(file, 'directory', 'is a directory, not a file', { cause: err });
  const why = code === 'EACCES' ? 'permission denied' : (code ?? (err as Error).message);
  return new FileReadError(file, 'unreadable', `cannot be read (${why})`, { cause: err });
}

function kindOf(stat: fs.Stats): string {
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'a special file';
}
