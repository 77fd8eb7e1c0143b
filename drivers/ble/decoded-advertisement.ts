// What the advertisement decoders (ruuvi.ts, bthome.ts) return. Kept apart so both decoders and
// the scanner share one shape without importing each other.
export type FieldValue = number | string | boolean;

export interface DecodedAdvertisement {
  fields: Record<string, FieldValue>;
  /** Fields the sender explicitly marked "not available" (Ruuvi's invalid-value markers). */
  unavailable: string[];
  /**
   * Repeats of one measurement carry the same key (Ruuvi measurement sequence, BTHome packet id);
   * absent when the sender gives none.
   */
  dedupeKey?: number;
  /** Decoding stopped early (unknown or truncated BTHome object); `fields` hold what came before. */
  problem?: string;
}

/** One decodable field, for config checks and the README table. */
export interface FieldInfo {
  name: string;
  unit: string;
  description: string;
}
