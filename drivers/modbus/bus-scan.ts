// `fieldgate scan`: which unit ids on a link answer, what they say about themselves (FC 43/14
// device identification, where supported) and which profiles' `identify:` blocks they satisfy.
// One request at a time, as on any RS-485 bus; a unit counts as present when it answers at all,
// even with an exception (it exists but has no register 0).
import type { RtuLink, TcpLink } from './device-config.js';
import { conditionWidth, identityMatches, registerMatches, type DeviceIdentity, type IdentifyRule } from './identify.js';
import { openRtu, openTcp, type Connection } from './modbus-transport.js';

export interface ScanCandidate {
  profile: string;
  version?: string;
  rule: IdentifyRule;
}

export interface ScanOptions {
  link: TcpLink | RtuLink;
  units: readonly number[];
  timeoutMs: number;
  candidates: readonly ScanCandidate[];
  /** Called as each unit that answered is done (a scan of 247 units on 9600 baud takes a while). */
  onUnit?(result: UnitResult): void;
}

export interface UnitResult {
  unit: number;
  /** FC 43/14 objects by id, when the unit supports it. */
  identity?: DeviceIdentity;
  /** Why there is no identity (an exception code, a timeout). */
  noIdentity?: string;
  matches: { profile: string; version?: string }[];
}

interface IdClient {
  readDeviceIdentification(code: number, objectId: number): Promise<{ data: Record<number, string> | string[] }>;
}

export async function scanBus(options: ScanOptions): Promise<UnitResult[]> {
  const { link, timeoutMs } = options;
  const conn: Connection = link.kind === 'tcp' ? await openTcp(link.host, link.port, Math.max(timeoutMs, 2000)) : await openRtu(link);
  const client = conn.client;
  client.setTimeout(timeoutMs);
  const found: UnitResult[] = [];
  try {
    for (const unit of options.units) {
      client.setID(unit);
      if (!(await answers(() => client.readHoldingRegisters(0, 1), conn))) continue;
      const { identity, noIdentity } = await identify(client as unknown as IdClient, conn);
      const matches: UnitResult['matches'] = [];
      for (const c of options.candidates) {
        if (!identityMatches(c.rule, identity)) continue;
        if (!(await registersMatch(c.rule, conn))) continue;
        const match: UnitResult['matches'][number] = { profile: c.profile };
        if (c.version !== undefined) match.version = c.version;
        matches.push(match);
      }
      const result: UnitResult = { unit, ...(identity ? { identity } : { noIdentity }), matches };
      found.push(result);
      options.onUnit?.(result);
    }
  } finally {
    await conn.close();
  }
  return found;
}

/** True when the unit answered, with data or with a Modbus exception; false on silence. */
async function answers(request: () => Promise<unknown>, conn: Connection): Promise<boolean> {
  try {
    await request();
    return true;
  } catch (err) {
    if (modbusCode(err) !== undefined) return true;
    // A late answer must not be taken for the next unit's.
    conn.discardInput();
    return false;
  }
}

async function identify(client: IdClient, conn: Connection): Promise<{ identity?: DeviceIdentity; noIdentity?: string }> {
  let identity: DeviceIdentity;
  try {
    identity = { ...(await client.readDeviceIdentification(1, 0)).data };
  } catch (err) {
    const code = modbusCode(err);
    if (code === undefined) conn.discardInput();
    return { noIdentity: code === undefined ? 'no answer to FC 43/14' : `FC 43/14 not supported (exception ${code})` };
  }
  // The regular objects (product name, model name) are optional: take them where the unit has them.
  try {
    Object.assign(identity, (await client.readDeviceIdentification(2, 0)).data);
  } catch (err) {
    if (modbusCode(err) === undefined) conn.discardInput();
  }
  return { identity };
}

async function registersMatch(rule: IdentifyRule, conn: Connection): Promise<boolean> {
  for (const c of rule.registers) {
    const count = conditionWidth(c);
    try {
      const read = c.table === 'holding' ? conn.client.readHoldingRegisters(c.address, count) : conn.client.readInputRegisters(c.address, count);
      if (!registerMatches(c, (await read).data)) return false;
    } catch (err) {
      if (modbusCode(err) === undefined) conn.discardInput();
      return false;
    }
  }
  return true;
}

function modbusCode(err: unknown): number | undefined {
  const code = (err as { modbusCode?: unknown } | null)?.modbusCode;
  return typeof code === 'number' ? code : undefined;
}

/** One line per object of an identification: `VendorName "Eastron", ProductCode "SDM630"`. */
export function describeIdentity(identity: DeviceIdentity): string {
  const NAMES: Record<number, string> = { 0: 'vendor', 1: 'product code', 2: 'revision', 3: 'vendor URL', 4: 'product name', 5: 'model', 6: 'application' };
  return Object.entries(identity)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${NAMES[Number(k)] ?? `object ${k}`} ${JSON.stringify(v)}`)
    .join(', ');
}
