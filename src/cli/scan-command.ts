// `fieldgate scan`: lists the Modbus unit ids that answer on a TCP link or an RTU bus, their device
// identification, and the profiles whose identify: block they satisfy. Reads only.
import { scanBus, describeIdentity, type ScanCandidate } from '../../drivers/modbus/bus-scan.js';
import { parseIdentify } from '../../drivers/modbus/identify.js';
import { DEFAULTS } from '../../drivers/modbus/device-config.js';
import { PARITIES, type Parity } from '../../drivers/modbus/schema.js';
import { profileCatalog } from '../config/profile-catalog.js';
import { fanOutIds } from '../config/fan-out.js';
import { parseDuration, isDurationText } from '../util/duration.js';
import { errorText } from '../util/errors.js';
import { println, type CliIo } from './io.js';

export interface ScanArgs {
  tcp?: string;
  rtu?: string;
  baud?: string;
  parity?: string;
  units?: string;
  timeout?: string;
  /** A site file whose profiles (profiles/, profile_paths, profiles:) are matched too. */
  config?: string;
}

const USAGE = 'fieldgate scan --tcp HOST[:PORT] | --rtu PORT [--baud N] [--parity none|even|odd] [--units 1-247] [--timeout 200ms] [-c SITE]';

export async function scanCommand(args: ScanArgs, io: CliIo, cwd = process.cwd()): Promise<number> {
  const fail = (message: string): number => {
    println(io.stderr, `fieldgate scan: ${message}\nusage: ${USAGE}`);
    return 64;
  };
  if ((args.tcp === undefined) === (args.rtu === undefined)) return fail('give either --tcp HOST[:PORT] or --rtu PORT');
  const { ids, problems } = fanOutIds('--units', (args.units ?? '1-247').split(','), true);
  if (problems.length > 0) return fail(problems[0]!.message);
  const units = ids.map((i) => Number(i.value));
  if (units.some((u) => !Number.isInteger(u) || u < 0 || u > 255)) return fail('--units are 0 to 255, e.g. 1-247 or 1,3,10-20');
  const timeout = args.timeout ?? '200ms';
  if (!isDurationText(timeout) || parseDuration(timeout) < 1 || parseDuration(timeout) > 60_000) return fail('--timeout is a duration up to 1m, e.g. 200ms');
  let link;
  if (args.tcp !== undefined) {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(args.tcp);
    const port = m?.[2] === undefined ? DEFAULTS.tcpPort : Number(m[2]);
    if (!m || port < 1 || port > 65535) return fail('--tcp is HOST or HOST:PORT');
    link = { kind: 'tcp' as const, host: m[1]!.replace(/^\[|\]$/g, ''), port, framing: 'tcp' as const };
  } else {
    const baud = args.baud === undefined ? DEFAULTS.baudRate : Number(args.baud);
    if (!Number.isInteger(baud) || baud < 300 || baud > 4_000_000) return fail('--baud is a whole number, e.g. 9600');
    const parity = (args.parity ?? DEFAULTS.parity) as Parity;
    if (!PARITIES.includes(parity)) return fail('--parity is none, even or odd');
    link = { kind: 'rtu' as const, port: args.rtu!, baudRate: baud, parity, dataBits: 8 as const, stopBits: 1 as const, mode: 'rtu' as const };
  }
  const candidates: ScanCandidate[] = [];
  for (const entry of profileCatalog({ siteFile: args.config, cwd, env: io.env })) {
    if (entry.value.identify === undefined) continue;
    const parsed = parseIdentify(entry.value.identify);
    if ('problem' in parsed) {
      println(io.stderr, `${entry.doc.file}: ${parsed.problem} (profile '${entry.name}' left out of the matching)`);
      continue;
    }
    const version = entry.value.version;
    const candidate: ScanCandidate = { profile: entry.name, rule: parsed.rule };
    if (version !== undefined) candidate.version = String(version);
    candidates.push(candidate);
  }
  const where = link.kind === 'tcp' ? `${link.host}:${link.port}` : `${link.port} (${link.baudRate} baud, parity ${link.parity})`;
  println(io.stdout, `scanning ${units.length} unit id(s) on ${where}, timeout ${timeout}; ${candidates.length} profile(s) with identify:`);
  try {
    const found = await scanBus({
      link, units, timeoutMs: parseDuration(timeout), candidates,
      onUnit(r) {
        println(io.stdout, `unit ${r.unit}: answers`);
        println(io.stdout, `  identification: ${r.identity ? describeIdentity(r.identity) : r.noIdentity}`);
        const matches = r.matches.map((m) => `${m.profile}${m.version === undefined ? '' : ` (version ${m.version})`}`);
        println(io.stdout, `  profiles: ${matches.length > 0 ? matches.join(', ') : 'none matches'}`);
      },
    });
    println(io.stdout, `${found.length} of ${units.length} unit id(s) answered`);
    return 0;
  } catch (err) {
    println(io.stderr, `fieldgate scan: ${errorText(err)}`);
    return 1;
  }
}
