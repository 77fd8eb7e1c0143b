// `{site}/{gateway}/cmd/replay` requests: parsed and checked before anything is read from the
// journal. Pure: bytes in, a request or a ReplayRefusal out. Sizes are checked before parsing and
// every piece of the caller's input that reaches a refusal is bounded (quote-value.ts).
import { CommandError } from '../util/errors.js';
import { boundedText, quoteValue } from '../util/quote-value.js';

export type ReplayRange =
  | { kind: 'seq'; from: number; to: number }
  | { kind: 'time'; since: number; until: number };

export interface ReplayRequest {
  id: string;
  range: ReplayRange;
  /** Only readings of these devices; absent = all. */
  devices?: string[];
  /** Only these points (point names, in any of the selected devices); absent = all. */
  points?: string[];
}

/** Largest request payload, bytes. */
export const MAX_REPLAY_REQUEST_BYTES = 8 * 1024;
/** Most seqs one request may span (about a week of 15 readings a second). */
export const MAX_REPLAY_SEQ_SPAN = 10_000_000;
/** Longest time span one request may cover. */
export const MAX_REPLAY_TIME_SPAN_MS = 366 * 86_400_000;
const MAX_NAMES = 256;
const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const KEYS = new Set(['id', 'from_seq', 'to_seq', 'since', 'until', 'devices', 'points']);

/** A request that is refused; `id` is the request's id when it could be read. */
export class ReplayRefusal extends CommandError {
  constructor(code: string, message: string, readonly id?: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}

export function parseReplayRequest(payload: Buffer, maxBytes = MAX_REPLAY_REQUEST_BYTES): ReplayRequest {
  if (payload.length > maxBytes) {
    throw new ReplayRefusal('too_large', `request of ${payload.length} bytes is larger than ${maxBytes} bytes`);
  }
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new ReplayRefusal('malformed', 'request is not JSON', undefined, { cause: err });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ReplayRefusal('malformed', 'request must be a JSON object');
  }
  const o = body as Record<string, unknown>;
  const rawId = o.id;
  const id = typeof rawId === 'string' && ID_PATTERN.test(rawId) ? rawId : undefined;
  if (id === undefined) {
    throw new ReplayRefusal('malformed', `"id" must be 1 to 64 characters of A-Z a-z 0-9 . _ : - (got ${quoteValue(rawId)})`);
  }
  const refuse = (code: string, message: string): never => {
    throw new ReplayRefusal(code, message, id);
  };
  const unknown = Object.keys(o).filter((k) => !KEYS.has(k));
  if (unknown.length > 0) refuse('malformed', `unknown key ${quoteValue(unknown[0])}`);
  const bySeq = o.from_seq !== undefined || o.to_seq !== undefined;
  const byTime = o.since !== undefined || o.until !== undefined;
  if (bySeq === byTime) refuse('malformed', 'give either "from_seq" and "to_seq" or "since" and "until"');
  let range: ReplayRange;
  if (bySeq) {
    const from = o.from_seq;
    const to = o.to_seq;
    if (!isSeq(from) || !isSeq(to)) refuse('malformed', '"from_seq" and "to_seq" must be whole numbers of at least 1');
    if ((from as number) > (to as number)) refuse('malformed', `"from_seq" ${from as number} is above "to_seq" ${to as number}`);
    if ((to as number) - (from as number) + 1 > MAX_REPLAY_SEQ_SPAN) {
      refuse('too_large', `a request may span at most ${MAX_REPLAY_SEQ_SPAN} seqs; split it`);
    }
    range = { kind: 'seq', from: from as number, to: to as number };
  } else {
    const since = isoTime(o.since);
    const until = isoTime(o.until);
    if (since === undefined || until === undefined) refuse('malformed', '"since" and "until" must be ISO 8601 times with a zone, e.g. 2026-03-01T12:00:00Z');
    if (since! >= until!) refuse('malformed', '"since" must be before "until"');
    if (until! - since! > MAX_REPLAY_TIME_SPAN_MS) refuse('too_large', 'a request may span at most 366 days; split it');
    range = { kind: 'time', since: since!, until: until! };
  }
  const request: ReplayRequest = { id, range };
  const devices = names(o.devices, 'devices', refuse);
  const points = names(o.points, 'points', refuse);
  if (devices) request.devices = devices;
  if (points) request.points = points;
  return request;
}

function isSeq(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

function isoTime(v: unknown): number | undefined {
  // A zone is required: a time without one would be read in the gateway's zone, silently.
  if (typeof v !== 'string' || v.length > 40 || !/^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:?\d\d)$/.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

function names(v: unknown, key: string, refuse: (code: string, message: string) => never): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || !v.every((n) => typeof n === 'string' && n.length > 0 && n.length <= 128)) {
    return refuse('malformed', `"${key}" must be a non-empty list of names`);
  }
  if (v.length > MAX_NAMES) return refuse('too_large', `"${key}" may list at most ${MAX_NAMES} names`);
  return v as string[];
}

/** Bounded text of a refusal, for results and logs. */
export function refusalText(err: Error): string {
  return boundedText(err.message, 300);
}
