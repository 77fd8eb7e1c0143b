// Command-line entry: parses arguments and dispatches. Returns an exit code; only main.ts exits.
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot, packageVersion } from './util/package-root.js';
import type { LevelWithSilent } from 'pino';
import { LOG_LEVELS } from './util/logger.js';
import { println, type CliIo } from './cli/io.js';
import { runCommand } from './cli/run-command.js';
import { validateCommand, planCommand, readCommand, schemaCommand, loadOrReport } from './cli/site-commands.js';
import { bufferCommand, bufferPathOf } from './cli/buffer-commands.js';
import { configCommand } from './cli/config-commands.js';
import { replayCommand } from './cli/replay-command.js';
import { FieldgateError } from './util/errors.js';
import { isDurationText, parseDuration } from './util/duration.js';

// --wait (read) and --duration (demo) become timers: keep them to what a person means.
const WAIT_RANGE = { max: '1h' } as const;
const DEMO_RANGE = { max: '366d' } as const;

function durationArgProblem(text: string, range: { max: string }): string | undefined {
  if (!isDurationText(text)) return `"${text}" is not a duration (use e.g. 500ms, 5s, 1m)`;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    ms = Number.POSITIVE_INFINITY;
  }
  return ms > parseDuration(range.max) ? `"${text}" is longer than the maximum ${range.max}` : undefined;
}

export const DEFAULT_CONFIG = '/etc/fieldgate/config.yaml';

const USAGE = `usage: fieldgate <command> [options]

commands:
  run       -c FILE        run the gateway (FIELDGATE_CONFIG, default ${DEFAULT_CONFIG})
  validate  -c FILE        check a site file; every error as file:line:col, exit 1 if any
  read      -c FILE        poll every device once and print topic and payload (publishes nothing)
                           [--wait 5s] listen this long for listen-only devices
  plan      -c FILE        print the planned requests of each device (commissioning view)
  buffer stats   -c FILE   backlog depth, oldest age, bytes, drops   [--path DB instead of -c]
  buffer export  -c FILE   undelivered messages as JSON lines [--since T] [--until T]
                           (T: ISO 8601, epoch ms, or a duration ago such as 2h)
                           [--delivered] also the delivered ones kept by buffer.keep_delivered
  buffer replay  -c FILE   publish delivered messages again to the configured broker
                           --from-seq A --to-seq B, or --since ISO --until ISO
  buffer purge   -c FILE   delete every undelivered message (--yes to confirm)
  demo                     in-process broker + simulated devices; prints messages as they arrive
                           [--duration 10s] [--port N]
  scan --tcp HOST[:PORT] | --rtu PORT
                           list the Modbus unit ids that answer, their device identification
                           and the profiles that match [--baud N] [--parity none|even|odd]
                           [--units 1-247] [--timeout 200ms] [-c FILE: its profiles too]
  schema                   print the JSON Schema of the site file
  ha preview  -c FILE      print every Home Assistant discovery message of the site file
  config keygen --private FILE --public FILE   an Ed25519 key pair for remote configuration
  config sign --key FILE --version V SITE      print the signed message to publish on remote_config.topic
  config history  -c FILE  the stored versions of this gateway [--path DIR instead of -c]
  config diff A B -c FILE  line diff of two stored versions
  config rollback V -c FILE  make a stored version the active one (then systemctl reload fieldgate)
                           [--profile] of a device profile file instead

options:
  -c, --config FILE        site file
  --log-level LEVEL        ${LOG_LEVELS.join(' | ')} (default info)
  -h, --help, --version`;

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // `config` has options of its own (`--version V` is the version to sign, not the program's).
  if (argv[0] === 'config') return runConfigCli(argv.slice(1), io);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        path: { type: 'string' },
        'log-level': { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        wait: { type: 'string' },
        duration: { type: 'string' },
        port: { type: 'string' },
        yes: { type: 'boolean' },
        profile: { type: 'boolean' },
        tcp: { type: 'string' },
        rtu: { type: 'string' },
        baud: { type: 'string' },
        parity: { type: 'string' },
        units: { type: 'string' },
        timeout: { type: 'string' },
        delivered: { type: 'boolean' },
        'from-seq': { type: 'string' },
        'to-seq': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    println(io.stderr, `fieldgate: ${(err as Error).message}\n\n${USAGE}`);
    return 64;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    println(io.stdout, packageVersion());
    return 0;
  }
  const [command, sub] = positionals;
  if (values.help || command === undefined || command === 'help') {
    println(io.stdout, USAGE);
    return command === undefined && !values.help ? 64 : 0;
  }
  const logLevel = (values['log-level'] ?? 'info') as LevelWithSilent;
  if (!LOG_LEVELS.includes(logLevel)) {
    println(io.stderr, `fieldgate: --log-level must be one of ${LOG_LEVELS.join(', ')}`);
    return 64;
  }
  const configFile = values.config ?? io.env.FIELDGATE_CONFIG ?? DEFAULT_CONFIG;
  for (const [name, text, range] of [['wait', values.wait, WAIT_RANGE], ['duration', values.duration, DEMO_RANGE]] as const) {
    const problem = text === undefined ? undefined : durationArgProblem(text, range);
    if (problem) {
      println(io.stderr, `fieldgate: --${name} ${problem}`);
      return 64;
    }
  }
  try {
    return await dispatch(command, sub, values, configFile, logLevel, io);
  } catch (err) {
    // Bad input (a journal file that is not one, a device path that is a directory…) surfaces as
    // a typed error: a message and exit 1, never a stack trace. Anything else is a bug.
    if (err instanceof FieldgateError) {
      println(io.stderr, `fieldgate: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

async function runConfigCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        path: { type: 'string' },
        private: { type: 'string' },
        public: { type: 'string' },
        key: { type: 'string' },
        version: { type: 'string' },
      },
    });
  } catch (err) {
    println(io.stderr, `fieldgate: ${(err as Error).message}\n\n${USAGE}`);
    return 64;
  }
  const { values, positionals } = parsed;
  const [sub, ...args] = positionals;
  const configFile = values.config ?? io.env.FIELDGATE_CONFIG ?? DEFAULT_CONFIG;
  try {
    return configCommand(sub, { ...values, configFile, args }, io);
  } catch (err) {
    if (err instanceof FieldgateError) {
      println(io.stderr, `fieldgate: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

type Values = {
  config?: string; path?: string; since?: string; until?: string; wait?: string; duration?: string; port?: string; yes?: boolean;
  profile?: boolean; tcp?: string; rtu?: string; baud?: string; parity?: string; units?: string; timeout?: string;
  'log-level'?: string; delivered?: boolean; 'from-seq'?: string; 'to-seq'?: string;
};

async function dispatch(command: string, sub: string | undefined, values: Values, configFile: string, logLevel: LevelWithSilent, io: CliIo): Promise<number> {
  switch (command) {
    case 'run':
      return runCommand({ configFile, logLevel }, io);
    case 'validate':
      return validateCommand(configFile, io);
    case 'plan':
      return planCommand(configFile, io);
    case 'read':
      return readCommand(configFile, { wait: values.wait, logLevel: values['log-level'] ? logLevel : 'warn' }, io);
    case 'scan': {
      // modbus-serial is loaded only for this command.
      const { scanCommand } = await import('./cli/scan-command.js');
      return scanCommand({ ...values, config: values.config }, io);
    }
    case 'schema':
      return schemaCommand(io, { profile: values.profile === true });
    case 'ha': {
      const { haCommand } = await import('./cli/ha-commands.js');
      return haCommand(sub, configFile, io);
    }
    case 'demo': {
      // The demo's in-process broker (aedes) and Modbus meter stay out of every other command's memory.
      const { demoCommand } = await import('./demo/demo-command.js');
      return demoCommand({ duration: values.duration, port: values.port, logLevel: values['log-level'] ? logLevel : 'warn' }, io);
    }
    case 'buffer': {
      const common = { since: values.since, until: values.until, yes: values.yes, delivered: values.delivered };
      if (sub === 'replay' && values.path !== undefined) {
        println(io.stderr, 'fieldgate buffer replay: needs the site file (-c) for the broker; --path is not enough');
        return 64;
      }
      if (values.path !== undefined) return bufferCommand(sub ?? 'stats', { path: values.path, ...common }, undefined, io);
      const site = loadOrReport(configFile, io);
      if (!site) return 1;
      if (sub === 'replay') {
        return replayCommand(site, { fromSeq: values['from-seq'], toSeq: values['to-seq'], since: values.since, until: values.until }, io);
      }
      return bufferCommand(sub ?? 'stats', { path: bufferPathOf(site), ...common }, site, io);
    }
    default:
      println(io.stderr, `fieldgate: unknown command "${command}"\n\n${USAGE}`);
      return 64;
  }
}
