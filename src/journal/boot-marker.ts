// Power-loss detection. A process crash (kill -9, OOM) loses nothing committed: the page cache
// survives it. A power cut, a hard reset or a crash of the system can take the journal back to
// its last flush (storage-sync.ts bounds how far), and with it meta.last_seq: seqs that were
// handed out, published and acknowledged would be handed out again, to new readings, which
// consumers then drop as duplicates. So the gateway records in the journal, durably, the boot it
// has the journal open in (meta.open_boot) and clears it on a clean close; a journal found marked
// with another boot was open when the machine went down, and its seq continues above the lease
// ceiling (seq-lease.ts), above every seq it can have handed out.
import fs from 'node:fs';

const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

/** This boot's id (Linux), or undefined where the system does not say. */
export function readBootId(file = BOOT_ID_FILE): string | undefined {
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    return id === '' ? undefined : id;
  } catch {
    return undefined;
  }
}

/** A boot id as meta holds it: an integer (meta values are), never 0, which marks a clean close. */
export function bootKey(bootId: string): number {
  const hex = bootId.replace(/[^0-9a-f]/gi, '').slice(0, 12);
  let key = hex.length > 0 ? Number.parseInt(hex, 16) : 0;
  // Not hex (another system's format): any stable 48-bit hash of the text will do.
  if (hex.length < 12) for (const ch of bootId) key = (key * 31 + ch.charCodeAt(0)) % 2 ** 48;
  return key === 0 ? 1 : key;
}
