// One device entry for many units: `unit_id: [1, 3, "5-12"]` (or a list of BLE addresses) becomes
// one device per id. Pure: parses the list and says which item each id came from, so a problem
// with one id is reported at the item that produced it.

/** The ids of a fan-out list, each with the index of the list item it came from. */
export interface FanOutId {
  value: number | string;
  /** Index in the written list; undefined when the key held a single range such as "5-12". */
  item: number | undefined;
}

export interface FanOutProblem {
  item: number | undefined;
  message: string;
}

/** Most ids one entry may fan out to: more than a Modbus bus can address. */
export const MAX_FAN_OUT = 256;
const RANGE_RE = /^\s*(\d+)\s*-\s*(\d+)\s*$/;

/** Whether a key's value asks for fan-out (a list, or a "a-b" range where ranges are allowed). */
export function isFanOut(value: unknown, ranges: boolean): boolean {
  return Array.isArray(value) || (ranges && typeof value === 'string' && RANGE_RE.test(value));
}

export function fanOutIds(key: string, value: unknown, ranges: boolean): { ids: FanOutId[]; problems: FanOutProblem[] } {
  const ids: FanOutId[] = [];
  const problems: FanOutProblem[] = [];
  const items = Array.isArray(value) ? value : [value];
  const seen = new Map<string, number | undefined>();
  const add = (id: number | string, item: number | undefined): void => {
    const k = String(id);
    if (seen.has(k)) {
      problems.push({ item, message: `${key} ${k} is listed more than once` });
      return;
    }
    seen.set(k, item);
    ids.push({ value: id, item });
  };
  if (items.length === 0) problems.push({ item: undefined, message: `${key}: an empty list makes no device; list at least one` });
  items.forEach((raw: unknown, index) => {
    const item = Array.isArray(value) ? index : undefined;
    if (typeof raw === 'number' || (typeof raw === 'string' && !(ranges && RANGE_RE.test(raw)))) {
      add(raw, item);
      return;
    }
    const range = typeof raw === 'string' ? RANGE_RE.exec(raw) : null;
    if (!range) {
      problems.push({ item, message: `${key}: each entry is ${ranges ? 'a number or a range such as "5-12"' : 'one value'}, not ${describe(raw)}` });
      return;
    }
    const from = Number(range[1]);
    const to = Number(range[2]);
    if (to < from) {
      problems.push({ item, message: `${key}: the range "${raw}" runs backwards; write "${to}-${from}"` });
      return;
    }
    if (to - from + 1 > MAX_FAN_OUT) {
      problems.push({ item, message: `${key}: the range "${raw}" makes ${to - from + 1} devices; at most ${MAX_FAN_OUT}` });
      return;
    }
    for (let id = from; id <= to; id++) add(id, item);
  });
  if (ids.length > MAX_FAN_OUT) problems.push({ item: undefined, message: `${key}: ${ids.length} ids; one entry makes at most ${MAX_FAN_OUT} devices` });
  return { ids, problems };
}

/** An id as it goes into a device name: characters a name may not hold (a BLE address's colons) become '_'. */
export function idForName(id: number | string): string {
  return String(id).replace(/[^A-Za-z0-9_.-]/g, '_');
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return JSON.stringify(value);
}
