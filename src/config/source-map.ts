// Where a value of the expanded site file was written. Profiles and fan-out build devices out of
// pieces of several files (the site file, profile files, inline profiles); every check still
// reports by JSON pointer into the expanded file, and this map turns such a pointer back into
// the file, line and column the user has to edit.
import type { ParsedSource } from './yaml-source.js';

/** One parsed YAML file: the site file or a profile file. */
export interface SourceDoc {
  /** As shown in messages (the path given for the site file, the path found for a profile). */
  file: string;
  source: ParsedSource;
}

/** Where a subtree of the expanded file was written. */
export interface Origin {
  doc: SourceDoc;
  /** Pointer of the subtree inside `doc`. */
  pointer: string;
  /** Name of the expanded device the subtree belongs to. */
  device: string;
  /** Set when the subtree came from a profile: named in messages. */
  profile?: string;
  /** Set when the device was made by fan-out: named in messages. */
  fannedOut?: boolean;
}

export interface Located {
  doc: SourceDoc;
  /** The pointer inside `doc`. */
  pointer: string;
  /** The nearest recorded ancestor of the expanded pointer, and its origin. */
  anchor: string;
  origin: Origin | undefined;
}

export class SourceMap {
  private readonly origins = new Map<string, Origin>();

  constructor(readonly site: SourceDoc) {}

  /** The subtree at `expanded` (and below, unless recorded again deeper) was written at `origin`. */
  record(expanded: string, origin: Origin): void {
    this.origins.set(expanded, origin);
  }

  locate(pointer: string): Located {
    for (let p = pointer; ; p = p.slice(0, p.lastIndexOf('/'))) {
      const origin = this.origins.get(p);
      if (origin) return { doc: origin.doc, pointer: origin.pointer + pointer.slice(p.length), anchor: p, origin };
      if (p === '') return { doc: this.site, pointer, anchor: '', origin: undefined };
    }
  }

  /** Byte offset in the located file of a pointer's key or value; missing pointers use their nearest ancestor. */
  offsetOf(pointer: string, where: 'key' | 'value', column?: number): { doc: SourceDoc; offset: number; located: Located } {
    const located = this.locate(pointer);
    return { doc: located.doc, offset: spotOffset(located.doc.source, located.pointer, where, column), located };
  }
}

/**
 * Offset of a pointer's key or value; unknown pointers fall back to their nearest ancestor. A
 * `column` inside a plain text value (an expression's parse error) lands on that character.
 */
export function spotOffset(source: ParsedSource, pointer: string, where: 'key' | 'value', column?: number): number {
  const exact = source.spots.get(pointer);
  if (column !== undefined && where === 'value' && exact?.text !== undefined) return exact.text + column;
  let p = pointer;
  let side = where;
  for (;;) {
    const spot = source.spots.get(p);
    if (spot) return side === 'key' ? (spot.key ?? spot.value) : spot.value;
    if (p === '') return 0;
    p = p.slice(0, p.lastIndexOf('/'));
    side = 'value';
  }
}
